/*
 * openssl.c - OpenSSL, opened at the first TLS connection (base/openssl.h).
 */
#include "base/openssl.h"

struct openssl_api openssl_api;

static const char *const openssl_names[] = { OPENSSL_FUNCS(DYNLIB_NAME) };
/* dlsym on libssl's handle finds libcrypto's functions too: it is libssl's
 * dependency, loaded with it */
static struct dynlib openssl_lib = DYNLIB_INIT("libssl.so.3", "libssl3", openssl_names,
					       &openssl_api);
DYNLIB_CHECK(openssl_api, openssl_names);

int openssl_load(char *err, size_t errlen)
{
	return dynlib_load(&openssl_lib, err, errlen);
}
