/*
 * report.h - a diagnosis written out: text for people (summary first),
 * JSON for programs (schema in docs/diagnose.md), one self-contained HTML
 * page: per message what to do next first, then the timeline of its whole
 * life (written, each hop, the time in the queue, the refusal, the
 * report).  Text and HTML in English or Japanese (lang.h).
 *
 * SECURITY: everything printed comes from untrusted mail; JSON strings
 * are escaped and forced to valid UTF-8, HTML is entity-escaped, text
 * output has control characters replaced.
 */
#ifndef RBLKIT_REPORT_H
#define RBLKIT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "mail/diagnose.h"
#include "mail/lang.h"

/* --check: what the blocklists say about the judged address.  A list
 * answers with one code or several (Spamhaus ZEN: 127.0.0.2 SBL and
 * 127.0.0.4 XBL at once): every one is kept. */
struct report_hit {
	const char *list, *zone;
	const char *meaning, *txt;	/* all of them, joined with "; " */
	const char *delist;
	size_t ncodes;
	const uint32_t *codes;		/* the A records, host order */
	const char *const *meanings;	/* per code; an entry may be NULL */
};

/* A list that gave no verdict, and why (the engine's text). */
struct report_err {
	const char *zone;
	const char *error;
};

struct report_check {
	const char *ip;
	const struct report_hit *hits;	/* the lists that list it */
	size_t nhits;
	size_t nclean, nerror;		/* lists that do not; that failed */
	const struct report_err *errs;	/* nerror of them (NULL: none) */
};

struct report_item {
	const char *file;	/* name given on the command line, "-" stdin */
	unsigned index;		/* 1-based position in an mbox */
	const struct diag *d;	/* NULL when unreadable: see error */
	const char *error;
	const struct report_check *chk;	/* NULL: not checked */
	enum lang lang;		/* of the text and HTML reports (JSON:
				   English always); 0 is English */
};

/* The one-line summary of a diagnosis into buf (cut at len, on a
 * character boundary): in English, as JSON has it. */
void report_summary(const struct diag *d, char *buf, size_t len);
/* The same in lang. */
void report_summary_lang(const struct diag *d, enum lang lang, char *buf, size_t len);

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
/* The page's head, in English or in lang. */
void report_html_begin(FILE *f);
void report_html_begin_lang(FILE *f, enum lang lang);
void report_html(FILE *f, const struct report_item *it);
void report_html_end(FILE *f);

/* "12 h 01 min", "-3 s" (signed, for clock skew) into buf. */
const char *report_duration(int64_t s, char *buf, size_t len);

#endif
