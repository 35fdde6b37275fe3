/*
 * openssl.c - OpenSSL, opened at the first TLS connection (base/openssl.h).
 */
#include "base/openssl.h"

struct openssl_api openssl_api;

/* dlsym on libssl's handle finds libcrypto's functions too: it is libssl's
 * dependency, loaded with it */
DYNLIB_DEFINE(openssl_lib, openssl_api, OPENSSL_FUNCS, "libssl.so.3", "libssl3");

int openssl_load(char *err, size_t errlen)
{
	return dynlib_load(&openssl_lib, err, errlen);
}
