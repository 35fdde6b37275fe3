/*
 * bulk.h - a streaming run over many targets: keep at most a bound of
 * them in the engine (dnsbl_active()), drive the resolver from a poll
 * loop, and hand the finished targets out in the order they were added.
 * The run loop of "rblkit check -f FILE", for any front end that checks
 * targets in bulk.
 *
 * Use: bulk_init(&b, eng, rs, window, nlists, deadline, done, arg);
 * bulk_add() / bulk_add_file() ...; bulk_finish(&b).
 *
 * SECURITY: bulk input is untrusted: a line is cut to its first field
 * (bulk_line_target()), a line over BULK_LINE_MAX bytes is reported as a
 * bad target, never cut into one; dnsbl_add() parses the target.
 */
#ifndef RBLKIT_BULK_H
#define RBLKIT_BULK_H

#include "dnsbl/dnsbl.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BULK_LINE_MAX 1023

/* A finished target, in the order added: the callee's until it returns,
 * then freed by the run. */
typedef void bulk_done_fn(void *arg, struct dnsbl_target *t);

struct bulk {
	struct dnsbl_engine *eng;
	struct resolver *rs;
	size_t max_active;		/* targets in the engine at most */
	uint64_t deadline;		/* now_ms() time, 0: none */
	bulk_done_fn *done;
	void *arg;
};

/* A run on eng (whose lookups go through rs): at most as many targets
 * at once as keep about 2 x window queries for nlists lists in flight.
 * deadline (now_ms() time, 0: none): then every lookup still pending
 * ends as an error.  done gets each finished target. */
void bulk_init(struct bulk *b, struct dnsbl_engine *eng, struct resolver *rs,
	       unsigned window, size_t nlists, uint64_t deadline, bulk_done_fn *done,
	       void *arg);
/* One target (mx: a mail domain), after waiting while the engine holds
 * max_active of them; finished ones are handed out on the way. */
void bulk_add(struct bulk *b, const char *input, bool mx);
/* One target per line of in, to its end (bulk_line_target()); blank and
 * comment lines are skipped.  name (NULL: none) is in's name for the
 * targets' errors: "NAME:LINE: ...".  Returns 0, or -1 on a read error
 * (errno). */
int bulk_add_file(struct bulk *b, FILE *in, const char *name, bool mx);
/* Run until every target added is finished and handed out. */
void bulk_finish(struct bulk *b);

/* The target of a bulk input line, cut in place: the text up to a '#'
 * comment, a comma or a tab (the first field of a CSV or TSV file), or
 * the end of the line, without blanks around it.  A blank inside stays,
 * so "not an ip !!" is reported as a bad target as a whole, never looked
 * up as "not".  "" for a blank or comment line. */
const char *bulk_line_target(char *line);

#endif
