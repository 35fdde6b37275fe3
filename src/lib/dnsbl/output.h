/*
 * output.h - the engine's results in words: a table per target with a
 * verdict (text, colours optional), JSON, JSON lines, CSV, or one
 * Nagios/Icinga status line (check_rbl's), and the notes on lists that
 * misbehaved.  The writers of "rblkit check", for any front end that
 * reports targets (docs/check.md describes each format).
 *
 * Use: o = out_new(f, &opts, lists, n); out_begin(o); out_target(o, t)
 * for each target in order; out_end(o, eng, ...); out_free(o).
 *
 * The library names no command-line option: where a hint would name one
 * (dnsbl_hint, the note on a resolver that cannot ask the lists), the
 * front end gives the words in out_opts.
 *
 * SECURITY: target input (bulk files) and every DNS answer are
 * untrusted; they reach a terminal only with control bytes replaced, and
 * JSON and CSV only through their escaping (base/json.h).
 */
#ifndef RBLKIT_OUTPUT_H
#define RBLKIT_OUTPUT_H

#include "dnsbl/catalog.h"
#include "dnsbl/dnsbl.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum out_fmt { OUT_TEXT, OUT_JSON, OUT_JSONL, OUT_CSV, OUT_NAGIOS };

#define OUT_MAX_LISTS 256

struct out_opts {
	enum out_fmt fmt;
	bool color;			/* ANSI colours (text) */
	bool quiet;			/* text: only the verdict line */
	bool show_clean;		/* text: a line per clean list too */
	int warn, crit;			/* Nagios: listings for WARNING, CRITICAL */
	/* the front end's words: what to do about an error with a hint
	 * (appended in parentheses; NULL: nothing), and about several lists
	 * whose test point failed alike (after "; " in their note) */
	const char *hints[DNSBL_HINT_MAX];
	const char *testpoint_hint;
	/* ... and about several lists whose test point got no answer at all
	 * (NULL: a neutral question) */
	const char *silence_hint;
};

/* Counts over the targets written so far. */
struct out_totals {
	unsigned targets, listed_targets, error_targets;	/* by target */
	unsigned listed, allowed, clean, errors;		/* by result */
};

struct out;

/* A writer to f for targets checked on lists[0..nlists) (at most
 * OUT_MAX_LISTS; the pointers are kept, opts is copied).  Never NULL. */
struct out *out_new(FILE *f, const struct out_opts *opts, const struct list **lists,
		    size_t nlists);
/* Free o (not f).  NULL is allowed. */
void out_free(struct out *o);

/* What comes before the first target: the CSV header row. */
void out_begin(struct out *o);
/* One finished target, counted and written (Nagios: only counted).  The
 * text format sorts t->results (listed first); t stays the caller's. */
void out_target(struct out *o, struct dnsbl_target *t);
/* What ends the output: the notes on the lists of eng that misbehaved
 * (text), the end of the JSON array, or the Nagios line, which names
 * target and the seconds elapsed.  Returns the Nagios status (0 OK,
 * 1 WARNING, 2 CRITICAL, 3 UNKNOWN), or -1 for the other formats. */
int out_end(struct out *o, const struct dnsbl_engine *eng, const char *target,
	    uint64_t elapsed_ms);
/* The counts so far (owned by o). */
const struct out_totals *out_totals(const struct out *o);

/* The catalogue as a table, one list a line. */
void out_catalog(FILE *f, const struct catalog *cat);

/* The verdict of a target in one word, as the text verdict says it:
 * "listed", "clean", "incomplete" (some lists could not be checked) or
 * "no-verdict" (none could be); static. */
const char *out_verdict(const struct dnsbl_target *t);

#endif
