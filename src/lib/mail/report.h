/*
 * report.h - a diagnosis written out: text for people (summary first),
 * JSON for programs (schema in docs/diagnose.md), one self-contained HTML
 * page with an inline SVG timeline of the hops.
 *
 * SECURITY: everything printed comes from untrusted mail; JSON strings
 * are escaped and forced to valid UTF-8, HTML is entity-escaped, text
 * output has control characters replaced.
 */
#ifndef RBLKIT_REPORT_H
#define RBLKIT_REPORT_H

#include <stdio.h>

#include "mail/diagnose.h"

/* --check: what the blocklists say about the judged address. */
struct report_hit {
	const char *list, *zone, *meaning, *txt, *delist;
};

struct report_check {
	const char *ip;
	const struct report_hit *hits;	/* the lists that list it */
	size_t nhits;
	size_t nclean, nerror;		/* lists that do not; that failed */
};

struct report_item {
	const char *file;	/* name given on the command line, "-" stdin */
	unsigned index;		/* 1-based position in an mbox */
	const struct diag *d;	/* NULL when unreadable: see error */
	const char *error;
	const struct report_check *chk;	/* NULL: not checked */
};

/* The one-line summary of a diagnosis into buf. */
void report_summary(const struct diag *d, char *buf, size_t len);

void report_text(FILE *f, const struct report_item *it);
/* -q: "FILE: summary" on one line, blanked for a terminal like
 * report_text; an unreadable item (d NULL) as report_text writes it. */
void report_text_quiet(FILE *f, const struct report_item *it);
/* JSON: report_json_begin, one report_json per message, report_json_end. */
void report_json_begin(FILE *f);
void report_json(FILE *f, const struct report_item *it, int first);
void report_json_end(FILE *f);
/* Free the buffer the calling thread keeps for report_json (call before
 * a thread that wrote reports ends). */
void report_thread_cleanup(void);
void report_html_begin(FILE *f);
void report_html(FILE *f, const struct report_item *it);
void report_html_end(FILE *f);

/* "12 h 01 min", "-3 s" (signed, for clock skew) into buf. */
const char *report_duration(int64_t s, char *buf, size_t len);

#endif
