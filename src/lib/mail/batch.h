/*
 * batch.h - many inputs (.eml files, mbox files, standard input) read
 * message by message into reports written in order: the engine of
 * "rblkit diagnose".
 *
 * With several jobs the calling thread reads the files and cuts them (an
 * mbox too) into runs of messages; worker threads read the runs; the
 * reports come out byte for byte as one thread writes them.
 *
 * SECURITY: the inputs are untrusted mail, read with the caller's
 * privileges (diagnose.h bounds every read); the names are the caller's.
 */
#ifndef RBLKIT_BATCH_H
#define RBLKIT_BATCH_H

#include <stddef.h>
#include <stdio.h>

#include "mail/report.h"

struct catalog;
struct diag;

#define BATCH_JOBS_MAX 64
#define BATCH_INPUT_MAX (1024u << 20)	/* one input: 1 GiB (an mbox) */

enum batch_fmt { BATCH_TEXT, BATCH_QUIET, BATCH_JSON, BATCH_HTML };

/* Called for each message in order instead of writing it (rblkit
 * diagnose --check looks the messages up before it prints them): d is
 * the caller's to diag_free() from then on; when the input or message
 * could not be read, d is empty and err says why. */
typedef void batch_keep_fn(void *arg, const char *name, unsigned idx, struct diag *d,
			   const char *err);

struct batch_opts {
	enum batch_fmt fmt;
	const struct catalog *cat;	/* blocklist names; may be NULL */
	unsigned jobs;			/* threads; 0: one per CPU (at most 8) */
	enum lang lang;			/* text and HTML; 0: English */
	FILE *out;
	batch_keep_fn *keep;		/* not NULL: keep, do not write (one
					   thread, no begin or end) */
	void *keep_arg;
};

/* Read the n inputs (a path, or "-" for standard input) and write the
 * report of each message to o->out in input order, between the format's
 * begin and end.  An input that cannot be read, is empty, or a message
 * that is not mail is reported in its place; *unread is how many of
 * those there were (0: everything was read).  Threads that cannot start
 * are done without (a warning says so; none: this thread reads alone).
 * Returns 0, or a negative errno when the run itself failed (no memory
 * for a report): the output then stops at the last whole report, has no
 * end, and err says why.  Output errors are the caller's to check
 * (ferror). */
int batch_run(const struct batch_opts *o, char *const *names, size_t n,
	      size_t *unread, char *err, size_t errlen);

/* For tests: thread starts after the first threads_ok fail (EAGAIN), and
 * report buffers after the first buffers_ok (ENOMEM); negative: never
 * (the default).  Set it before batch_run(), not during. */
void batch_test_faults(int threads_ok, int buffers_ok);

/* The format's frame (in lang), and one item (first: the first JSON
 * item), for callers that print what they kept. */
void batch_begin_lang(enum batch_fmt fmt, FILE *out, enum lang lang);
void batch_begin(enum batch_fmt fmt, FILE *out);
void batch_emit(enum batch_fmt fmt, FILE *out, const struct report_item *it, int first);
void batch_end(enum batch_fmt fmt, FILE *out);

/* The whole of the input at path ("-": standard input) in *buf, grown
 * as needed (*cap its size: the buffer can be reused), its length in
 * *len.  0, or -1 with errno (EFBIG past BATCH_INPUT_MAX). */
int batch_read(const char *path, char **buf, size_t *cap, size_t *len);

#endif
