/*
 * dynlib.h - optional shared libraries, loaded at first use.
 *
 * rblkit is one binary for every command; most commands need none of the
 * large client libraries (libpq pulls in Kerberos, LDAP, SASL and GnuTLS;
 * libmicrohttpd GnuTLS; libunbound and the Redis/webhook TLS code OpenSSL).
 * Linked at build time they cost every run ~10 ms of mapping and symbol
 * binding before main(): a fifth of a diagnose run over a large mbox, and
 * a package that needs libpq5 installed to answer `rblkit --version`.
 * So they are opened with dlopen(3) by the module that uses them, the
 * first time it is used, and their functions called through a table.
 *
 * A module lists its functions once in an X-macro and names them from the
 * library's own header, so a prototype is never restated by hand:
 *
 *	#define PQ_FUNCS(X) X(PQexec) X(PQclear)
 *	static struct { PQ_FUNCS(DYNLIB_SLOT) } pq;
 *	DYNLIB_DEFINE(pq_lib, pq, PQ_FUNCS, "libpq.so.5", "libpq5");
 *	#define PQexec pq.PQexec		(one line per function)
 *
 *	if (dynlib_load(&pq_lib, err, errlen) < 0) ... err says what is missing
 *
 * The table is filled once (under a lock; any thread may be first) and
 * never changed after, so calls read it without locking.  The library
 * stays loaded for the life of the process.
 *
 * SECURITY: the library names are constants; dlopen searches the system's
 * library path as the dynamic linker would have.
 */
#ifndef RBLKIT_DYNLIB_H
#define RBLKIT_DYNLIB_H

#include <stddef.h>

struct dynlib {
	const char *soname;		/* "libpq.so.5" */
	const char *package;		/* Debian package that has it, for the error */
	const char *const *names;	/* symbol names, in slot order */
	void *slots;			/* struct of function pointers, same order */
	size_t n;
	int state;			/* 0 not tried, 1 loaded, -1 failed */
	char err[256];			/* why it failed, when state is -1 */
};

#define DYNLIB_SLOT(f) __typeof__(f) *f;
#define DYNLIB_NAME(f) #f,
/* struct dynlib lib for the table filled from the names of FUNCS, which
 * is filled as an array of pointers: one per name, no padding. */
#define DYNLIB_DEFINE(lib, table, FUNCS, so, pkg) \
	static const char *const lib##_names[] = { FUNCS(DYNLIB_NAME) }; \
	_Static_assert(sizeof(table) == sizeof(lib##_names) / sizeof(lib##_names[0]) * \
		       sizeof(void *), #table ": one function pointer per name"); \
	static struct dynlib lib = { (so), (pkg), lib##_names, &(table), \
		sizeof(lib##_names) / sizeof(lib##_names[0]), 0, "" }

/* Open the library and fill the table.  0 when every function was found
 * (now or before); -1 otherwise, with the reason in err ("libpq.so.5
 * cannot be loaded (is the Debian package libpq5 installed?): ...").
 * A failure is remembered: later calls fail the same way without trying
 * again. */
int dynlib_load(struct dynlib *dl, char *err, size_t errlen);

#endif
