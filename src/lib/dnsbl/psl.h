/*
 * psl.h - the registered domain of a name (eTLD+1) from the public
 * suffix list, for domain lists that list registered domains only
 * (SURBL, URIBL, Spamhaus DBL): mail.foo.example.co.uk is asked as
 * example.co.uk.  The data are the system's (Debian publicsuffix,
 * through libpsl), else libpsl's built-in copy; without either, names
 * are asked as given and a warning says so once.
 *
 * Exported names start with regdom_: libpsl owns psl_.
 *
 * SECURITY: names are user input (bulk target files) already checked as
 * host names by the caller; they are copied into a bounded buffer before
 * libpsl sees them.  The data file is the system's, read once.
 */
#ifndef RBLKIT_PSL_H
#define RBLKIT_PSL_H

#include <stdbool.h>
#include <stddef.h>

/* Where the suffix data came from. */
enum regdom_source { REGDOM_NONE, REGDOM_SYSTEM, REGDOM_BUILTIN };

/* What regdom_registered() did with a name. */
enum regdom_result {
	REGDOM_REDUCED,		/* name + *off is the registered domain */
	REGDOM_SUFFIX,		/* a public suffix itself (com, co.uk): as given */
	REGDOM_NOT_NAME,	/* an IP literal or a numeric last label: as given */
	REGDOM_NO_DATA,		/* no suffix data: as given */
};

/* Load the suffix data once: the system's (psl_latest(), the newer of
 * /usr/share/publicsuffix and the built-in copy), else the built-in
 * copy.  Later calls return the first answer.  Thread-safe. */
enum regdom_source regdom_load(void);

/* For tests: drop the data and load the file at path instead, falling
 * back to the built-in copy when builtin; path NULL and builtin: as
 * regdom_load() does; neither: no data.  Not thread-safe: call it
 * before any lookup. */
enum regdom_source regdom_reload(const char *path, bool builtin);

/* "system", "built-in" or "none": static. */
const char *regdom_source_text(enum regdom_source s);

/* The registered domain of name (ASCII or UTF-8, any case, a trailing dot
 * allowed): on REGDOM_REDUCED, *off is where it starts in name (0 when
 * name is one already), so name + *off is what to ask.  On every other
 * result *off is 0 and the name is to be asked as given; REGDOM_NO_DATA
 * logs a warning the first time. */
enum regdom_result regdom_registered(const char *name, size_t *off);

#endif
