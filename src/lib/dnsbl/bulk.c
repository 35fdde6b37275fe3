/*
 * bulk.c - a streaming run over many targets; see bulk.h.  Moved here
 * from src/cmd/check.c.
 *
 * SECURITY: input lines are untrusted; they are bounded (BULK_LINE_MAX)
 * and cut before dnsbl_add() parses them.
 */
#include "dnsbl/bulk.h"
#include "base/util.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

void bulk_init(struct bulk *b, struct dnsbl_engine *eng, struct resolver *rs,
	       unsigned window, size_t nlists, uint64_t deadline, bulk_done_fn *done,
	       void *arg)
{
	b->eng = eng;
	b->rs = rs;
	b->max_active = (size_t)window * 2 / (nlists ? nlists : 1) + 16;
	b->deadline = deadline;
	b->done = done;
	b->arg = arg;
}

/* Hand out the finished targets, oldest first. */
static void drain(struct bulk *b)
{
	struct dnsbl_target *t;
	while ((t = dnsbl_next_done(b->eng))) {
		b->done(b->arg, t);
		dnsbl_target_free(t);
	}
}

/* Wait for answers (up to the next resend or the deadline) and take
 * them in; past the deadline, end every pending lookup. */
static void wait_and_process(struct bulk *b)
{
	int timeout = rs_next_timeout_ms(b->rs);
	if (b->deadline) {
		uint64_t now = now_ms();
		if (now >= b->deadline) {
			rs_cancel_all(b->rs);
			return;
		}
		if (timeout < 0 || (uint64_t)timeout > b->deadline - now)
			timeout = (int)(b->deadline - now);
	}
	if (rs_pending(b->rs)) {
		struct pollfd p = { .fd = rs_fd(b->rs), .events = POLLIN };
		poll(&p, 1, timeout);
	}
	rs_process(b->rs);
}

/* Make room for one more target: drive the run while the engine holds
 * max_active. */
static void make_room(struct bulk *b)
{
	while (dnsbl_active(b->eng) >= b->max_active) {
		drain(b);
		if (dnsbl_active(b->eng) < b->max_active)
			break;
		wait_and_process(b);
		drain(b);
	}
}

void bulk_add(struct bulk *b, const char *input, bool mx)
{
	make_room(b);
	dnsbl_add(b->eng, input, mx);
}

static void bulk_add_at(struct bulk *b, const char *input, bool mx, const char *where)
{
	make_room(b);
	dnsbl_add_at(b->eng, input, mx, where);
}

const char *bulk_line_target(char *line)
{
	char *s = line, *e;
	while (*s == ' ' || *s == '\t')
		s++;
	for (e = s; *e && *e != '\n' && *e != '\r' && *e != '#' && *e != '\t' &&
	     *e != ','; e++)
		;
	while (e > s && e[-1] == ' ')
		e--;
	*e = '\0';
	return s;
}

int bulk_add_file(struct bulk *b, FILE *in, const char *name, bool mx)
{
	char line[BULK_LINE_MAX + 1], where[300];
	unsigned long lineno = 0;
	while (fgets(line, sizeof(line), in)) {
		size_t n = strlen(line);
		lineno++;
		bool longline = n == sizeof(line) - 1 && line[n - 1] != '\n';
		if (longline) {		/* skip the rest; report the line */
			int c;
			while ((c = getc(in)) != EOF && c != '\n')
				;
		}
		const char *s = bulk_line_target(line);
		if (!*s)
			continue;
		if (name)
			snprintf(where, sizeof(where), "%.280s:%lu", name, lineno);
		bulk_add_at(b, longline ? "(line too long)" : s, mx, name ? where : NULL);
	}
	return ferror(in) ? -1 : 0;
}

void bulk_finish(struct bulk *b)
{
	while (dnsbl_active(b->eng)) {
		drain(b);
		if (dnsbl_active(b->eng))
			wait_and_process(b);
	}
	drain(b);
}
