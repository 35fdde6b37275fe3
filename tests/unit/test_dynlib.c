/*
 * test_dynlib.c - optional libraries opened at first use (base/dynlib.h):
 * a missing library and a missing function are errors that say which,
 * remembered; a present one fills the table once.
 */
#include "unit.h"
#include "base/dynlib.h"

#include <zlib.h>

#define Z_FUNCS(X) X(zlibVersion) X(crc32)
static struct { Z_FUNCS(DYNLIB_SLOT) } z, none;
DYNLIB_DEFINE(z_lib, z, Z_FUNCS, "libz.so.1", "zlib1g");
DYNLIB_DEFINE(none_lib, none, Z_FUNCS, "librblkit-none.so.9", "librblkit-none9");

/* declared for its type only: no library has it */
void rblkit_no_such_function(void);
#define ZX_FUNCS(X) X(zlibVersion) X(rblkit_no_such_function)
static struct { ZX_FUNCS(DYNLIB_SLOT) } zx;
DYNLIB_DEFINE(zx_lib, zx, ZX_FUNCS, "libz.so.1", "zlib1g");

UNIT_TEST(present_library_fills_the_table)
{
	char err[256] = "";

	CHECK(dynlib_load(&z_lib, err, sizeof(err)) == 0);
	CHECK(err[0] == '\0');
	CHECK(z.zlibVersion != NULL && z.crc32 != NULL);
	CHECK(strcmp(z.zlibVersion(), zlibVersion()) == 0);
	CHECK(z.crc32(0, (const Bytef *)"abc", 3) == crc32(0, (const Bytef *)"abc", 3));
	/* a second call finds it loaded */
	CHECK(dynlib_load(&z_lib, err, sizeof(err)) == 0);
}

UNIT_TEST(missing_library_says_which_package)
{
	char err[256] = "";

	CHECK(dynlib_load(&none_lib, err, sizeof(err)) == -1);
	CHECK(strstr(err, "librblkit-none.so.9 cannot be loaded") != NULL);
	CHECK(strstr(err, "Debian package librblkit-none9 installed?") != NULL);
	CHECK(none.zlibVersion == NULL);
	/* remembered: the same answer without trying again */
	CHECK(none_lib.state == -1);
	err[0] = '\0';
	CHECK(dynlib_load(&none_lib, err, sizeof(err)) == -1);
	CHECK(strstr(err, "librblkit-none.so.9") != NULL);
}

UNIT_TEST(missing_function_says_which)
{
	char err[256] = "";

	CHECK(dynlib_load(&zx_lib, err, sizeof(err)) == -1);
	CHECK(strstr(err, "libz.so.1 has no function rblkit_no_such_function") != NULL);
	CHECK(zx.zlibVersion == NULL && zx.rblkit_no_such_function == NULL); /* nothing half-filled */
}

UNIT_MAIN()
