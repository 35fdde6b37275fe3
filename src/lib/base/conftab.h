/*
 * conftab.h - a generic "key = value" configuration: a table of keys
 * (name, type, offset into the caller's struct, default, range, help),
 * one parser for files that reports every error as FILE:LINE: key: what
 * was expected, and a reload that keeps the old configuration when the
 * new one has an error.
 *
 * File syntax (Postfix main.cf): "name = value"; '#' starts a comment at
 * the start of a line or after white space; a line that starts with white
 * space continues the value before it (joined with one space); unknown
 * keys are errors; a key given twice is an error unless CONFTAB_REPEAT.
 *
 * SECURITY: operator input only, parsed with the daemon's start-up
 * privileges; lines and lists are bounded, numbers range-checked.
 */
#ifndef RBLKIT_CONFTAB_H
#define RBLKIT_CONFTAB_H

#include <stddef.h>
#include <stdio.h>

enum conftab_type {
	CONFTAB_STR,    /* char * (the configuration owns it) */
	CONFTAB_INT,    /* int, min..max */
	CONFTAB_UINT,   /* unsigned, min..max (min >= 0) */
	CONFTAB_TIME,   /* uint32_t seconds: digits with s m h d w, min..max */
	CONFTAB_BOOL,   /* bool: yes or no */
	CONFTAB_ENUM,   /* int: index of the value in words */
	CONFTAB_LIST,   /* struct conftab_list: words between commas or blanks */
	CONFTAB_FUNC,   /* the key's own parse (and release) */
};

#define CONFTAB_REPEAT 0x1      /* may be given again: LIST appends, FUNC is called again */

struct conftab_key {
	const char *name;
	enum conftab_type type;
	size_t off;                     /* offsetof(struct yours, field) */
	const char *def;                /* parsed as if in the file; NULL: none */
	long long min, max;             /* INT, UINT, TIME */
	const char *const *words;       /* ENUM: NULL-terminated */
	/* FUNC: parse value into field (conf is the whole struct); 0, or -1
	 * with what was expected in err.  release frees what parse stored
	 * (NULL: nothing to free).  STR: parse, when set, only checks the
	 * value (field untouched) before it is stored. */
	int (*parse)(void *conf, void *field, const char *value, char *err, size_t errlen);
	void (*release)(void *field);
	unsigned flags;
	const char *help;
};

struct conftab_list {
	size_t n;
	char **v;
};

struct conftab_bad;

struct conftab {
	const struct conftab_key *keys;
	size_t nkeys;
	size_t size;                    /* sizeof(struct yours) */
	/* Checks that span keys (min below max ...), after the keys parsed
	 * without error; 0, or -1 with the reason in err.  May be NULL. */
	int (*check)(void *conf, char *err, size_t errlen);
	/* The same, but run also when some keys had errors, so that one run
	 * reports every error: conftab_bad(bad, "key") tells whether a key's
	 * value was refused (the key then holds its default or a part of
	 * the value), and a check that involves such a key is skipped.  When
	 * set, check is not used.  May be NULL. */
	int (*check_all)(void *conf, const struct conftab_bad *bad, char *err, size_t errlen);
};

/* Which keys of a parse had a value refused (for check_all). */
struct conftab_bad {
	const struct conftab *t;
	const unsigned char *key;	/* by index into t->keys */
};

/* Was the value of key name refused in this parse? (An unknown name:
 * false.) */
int conftab_bad(const struct conftab_bad *bad, const char *name);

#define CONFTAB_MAX_ERRORS 20
#define CONFTAB_ERROR_LEN 320
#define CONFTAB_LINE_MAX 65536  /* bytes of one value, continuation lines included */
#define CONFTAB_LIST_MAX 4096   /* items of one list */

/* The first CONFTAB_MAX_ERRORS errors of a parse, and how many in all. */
struct conftab_errors {
	unsigned n, total;
	char msg[CONFTAB_MAX_ERRORS][CONFTAB_ERROR_LEN];
};

/* A new configuration (t->size bytes, zeroed) with every default set.
 * The caller owns it: conftab_free.  A default that does not parse is a
 * bug in the table: panic. */
void *conftab_new(const struct conftab *t);

/* Set key to value in conf, as a file line would (no REPEAT check).
 * Returns 0, -ENOENT for an unknown key, or -EINVAL with "key: what was
 * expected" in err. */
int conftab_set(const struct conftab *t, void *conf, const char *key, const char *value,
		char *err, size_t errlen);

/* Apply the lines of text (NUL-terminated; name is the file name used in
 * errors) to conf.  Every error is counted in e and the first ones kept
 * ("NAME:LINE: key: expected ..."); parsing goes on after an error.  The
 * table's check runs when the keys had no error, its check_all always.
 * Returns 0, or -EINVAL
 * when e->total > 0 (conf then holds a mix: free it). */
int conftab_parse(const struct conftab *t, void *conf, const char *text, const char *name,
		  struct conftab_errors *e);

/* A new configuration from the file at path (defaults, then the file),
 * or NULL with the errors in e (a file that cannot be read, is over
 * 16 MB or holds a NUL byte is one error).  The caller owns it. */
void *conftab_load(const struct conftab *t, const char *path, struct conftab_errors *e);

/* Reload: parse path into a new configuration; on success store it in
 * *cur and return the previous one (the caller frees it once nothing
 * uses it), on any error return NULL and leave *cur as it was. */
void *conftab_reload(const struct conftab *t, const char *path, void **cur,
		     struct conftab_errors *e);

/* The release of a CONFTAB_FUNC key whose parse fills a struct
 * conftab_list (its own word syntax, the list's storage). */
void conftab_list_release(void *field);

/* Free conf and what its keys own (strings, lists, FUNC releases). */
void conftab_free(const struct conftab *t, void *conf);

/* Print the errors of e, one a line, and "(N more errors)" past the
 * first CONFTAB_MAX_ERRORS. */
void conftab_errors_print(const struct conftab_errors *e, FILE *f);

/* The keys, their meaning, default and range, for a help page. */
void conftab_help(const struct conftab *t, FILE *f);

/* Every key of conf as "name = value", for a check-config listing; a
 * FUNC key, whose text is not kept, as a comment "# name = (set)".  The
 * output parses back to the same configuration, FUNC keys aside. */
void conftab_dump(const struct conftab *t, const void *conf, FILE *f);

#endif
