/*
 * sodium.c - libsodium, opened when the portal starts (web/sodium.h).
 */
#include "web/sodium.h"

#include <stdio.h>

struct web_sodium web_sodium;

static const char *const sodium_names[] = { SODIUM_FUNCS(DYNLIB_NAME) };
static struct dynlib sodium_lib = DYNLIB_INIT("libsodium.so.23", "libsodium23", sodium_names,
					      &web_sodium);
DYNLIB_CHECK(web_sodium, sodium_names);

int web_sodium_load(char *err, size_t errlen)
{
	if (dynlib_load(&sodium_lib, err, errlen) < 0)
		return -1;
	if (sodium_init() < 0) {	/* 1: already done, which is fine */
		snprintf(err, errlen, "libsodium cannot start");
		return -1;
	}
	return 0;
}
