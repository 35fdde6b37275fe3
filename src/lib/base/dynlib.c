/*
 * dynlib.c - optional shared libraries, loaded at first use (dynlib.h).
 */
#include "base/dynlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t dynlib_lock = PTHREAD_MUTEX_INITIALIZER;

static int dynlib_open(struct dynlib *dl)
{
	void *h = dlopen(dl->soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();
		snprintf(dl->err, sizeof(dl->err),
			 "%s cannot be loaded (is the Debian package %s installed?): %s",
			 dl->soname, dl->package, why != NULL ? why : "dlopen failed");
		return -1;
	}
	void **slot = dl->slots;
	for (size_t i = 0; i < dl->n; i++) {
		/* POSIX: a function's address fits a void * (dlsym's contract) */
		slot[i] = dlsym(h, dl->names[i]);
		if (slot[i] == NULL) {
			snprintf(dl->err, sizeof(dl->err), "%s has no function %s: too old a version?",
				 dl->soname, dl->names[i]);
			dlclose(h);
			memset(dl->slots, 0, dl->n * sizeof(void *));
			return -1;
		}
	}
	return 0;
}

int dynlib_load(struct dynlib *dl, char *err, size_t errlen)
{
	int state = __atomic_load_n(&dl->state, __ATOMIC_ACQUIRE);
	if (state == 0) {
		pthread_mutex_lock(&dynlib_lock);
		state = dl->state;
		if (state == 0) {
			state = dynlib_open(dl) == 0 ? 1 : -1;
			__atomic_store_n(&dl->state, state, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&dynlib_lock);
	}
	if (state < 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", dl->err);
	return state > 0 ? 0 : -1;
}
