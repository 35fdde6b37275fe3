/*
 * sodium.c - libsodium, opened when the portal starts (web/sodium.h).
 */
#include "web/sodium.h"

#include <stdio.h>

struct web_sodium web_sodium;

DYNLIB_DEFINE(sodium_lib, web_sodium, SODIUM_FUNCS, "libsodium.so.23", "libsodium23");

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
