/*
 * mhd.c - libmicrohttpd, opened when the portal starts (web/mhd.h).
 */
#include "web/mhd.h"

struct web_mhd web_mhd;

DYNLIB_DEFINE(mhd_lib, web_mhd, MHD_FUNCS, "libmicrohttpd.so.12", "libmicrohttpd12");

int web_mhd_load(char *err, size_t errlen)
{
	return dynlib_load(&mhd_lib, err, errlen);
}
