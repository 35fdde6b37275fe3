/*
 * mhd.c - libmicrohttpd, opened when the portal starts (web/mhd.h).
 */
#include "web/mhd.h"

struct web_mhd web_mhd;

static const char *const mhd_names[] = { MHD_FUNCS(DYNLIB_NAME) };
static struct dynlib mhd_lib = DYNLIB_INIT("libmicrohttpd.so.12", "libmicrohttpd12",
					   mhd_names, &web_mhd);
DYNLIB_CHECK(web_mhd, mhd_names);

int web_mhd_load(char *err, size_t errlen)
{
	return dynlib_load(&mhd_lib, err, errlen);
}
