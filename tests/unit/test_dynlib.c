/*
 * test_dynlib.c - optional libraries opened at first use (base/dynlib.h):
 * a missing library and a missing function are errors that say which,
 * remembered; a present one fills the table once.
 */
#include "unit.h"
#include "base/dynlib.h"

#include <zlib.h>

#define Z_FUNCS(X) X(zlibVersion) X(crc32)
static struct { Z_FUNCS(DYNLIB_SLOT) } z;
static const char *const z_names[] = { Z_FUNCS(DYNLIB_NAME) };
DYNLIB_CHECK(z, z_names);

UNIT_TEST(present_library_fills_the_table)
{
	struct dynlib dl = DYNLIB_INIT("libz.so.1", "zlib1g", z_names, &z);
	char err[256] = "";

	CHECK(dynlib_load(&dl, err, sizeof(err)) == 0);
	CHECK(err[0] == '\0');
	CHECK(z.zlibVersion != NULL && z.crc32 != NULL);
	CHECK(strcmp(z.zlibVersion(), zlibVersion()) == 0);
	CHECK(z.crc32(0, (const Bytef *)"abc", 3) == crc32(0, (const Bytef *)"abc", 3));
	/* a second call finds it loaded */
	CHECK(dynlib_load(&dl, err, sizeof(err)) == 0);
}

UNIT_TEST(missing_library_says_which_package)
{
	static struct { Z_FUNCS(DYNLIB_SLOT) } t;
	struct dynlib dl = DYNLIB_INIT("librblkit-none.so.9", "librblkit-none9", z_names, &t);
	char err[256] = "";

	CHECK(dynlib_load(&dl, err, sizeof(err)) == -1);
	CHECK(strstr(err, "librblkit-none.so.9 cannot be loaded") != NULL);
	CHECK(strstr(err, "Debian package librblkit-none9 installed?") != NULL);
	CHECK(t.zlibVersion == NULL);
	/* remembered: the same answer without trying again */
	err[0] = '\0';
	CHECK(dynlib_load(&dl, err, sizeof(err)) == -1);
	CHECK(strstr(err, "librblkit-none.so.9") != NULL);
}

UNIT_TEST(missing_function_says_which)
{
	static const char *const names[] = { "zlibVersion", "rblkit_no_such_function" };
	static void *slots[2];
	struct dynlib dl = DYNLIB_INIT("libz.so.1", "zlib1g", names, slots);
	char err[256] = "";

	CHECK(dynlib_load(&dl, err, sizeof(err)) == -1);
	CHECK(strstr(err, "libz.so.1 has no function rblkit_no_such_function") != NULL);
	CHECK(slots[0] == NULL && slots[1] == NULL);   /* nothing half-filled */
}

UNIT_MAIN()
