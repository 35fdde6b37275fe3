/*
 * check.c - the check page for support staff (/admin/check, behind the
 * console log-in, any role): addresses, IPv4 ranges up to a /24, IPv6
 * ranges up to 256 addresses, host names and mx:DOMAIN against the
 * catalogue lists of check_lists, with the engine and verdicts of
 * `rblkit check` (dnsbl/dnsbl.h): listed with the code's meaning, the TXT
 * and the delisting link; allowlisted; clean; or an error (a refusal
 * code, a broken list, a timeout), never counted as listed or clean.
 *
 * The answer is streamed (chunked): the page head goes out at once, then
 * each target's rows as soon as the engine has decided it, without any
 * script. The lookups run on a thread of the check's own, bounded by
 * check_timeout, never on libmicrohttpd's worker thread: that thread
 * serves many connections (public lookups, removals, the API), which
 * must not wait for a check. The check thread makes rows and hands them
 * over (struct check_run's shared half, under its lock); the response's
 * reader sends them, and when there is nothing yet it suspends the
 * connection, which the check thread resumes when it has handed more
 * over or ended: no busy polling on either side. At most check_max
 * checks run at once; above that the page answers 503 with Retry-After.
 * The check ends early when the client goes away (its socket hangs up
 * while the connection waits; or the response is freed: MHD is done
 * with the connection) and when the portal stops.
 *
 * SECURITY: the targets are the staff member's text, parsed by the
 * engine (dnsbl_add) after being cut into at most CHECK_WORDS words of
 * at most 255 bytes; a range is capped before it is expanded. Answers
 * (TXT, codes) are hostile DNS data: every text goes through the
 * escaping writer, and a delisting link is only made of an http(s) URL
 * from the catalogue.
 */
#define _GNU_SOURCE                    /* POLLRDHUP */
#include "web/web_int.h"
#include "base/util.h"
#include "dnsbl/dnsbl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_WORDS 32          /* targets typed at once */
#define CHECK_TARGETS 256       /* after ranges are expanded */
#define CHECK_IN_FLIGHT 16      /* targets in the engine at once */

enum check_end { CE_NONE, CE_DONE, CE_ABORT };

struct check_run {
	/* the check thread's (the handler's until the thread starts) */
	const struct web_server *srv;
	enum web_lang lang;
	struct resolver *rs;
	struct dnsbl_engine *eng;
	char *target[CHECK_TARGETS];
	bool mx[CHECK_TARGETS];
	size_t n, next;                 /* targets; the next one to add */
	struct web_buf out;             /* rows made, not yet handed over */
	uint64_t deadline;
	unsigned listed, errors;
	int ended;                      /* the page's end is in out */
	int wake[2];                    /* a byte in wake[1]: stop (client gone, shutdown) */
	/* shared with the response's reader (MHD's thread), under mu */
	pthread_mutex_t mu;
	struct web_buf sent;            /* handed over, not yet sent */
	size_t off;
	enum check_end end;             /* after sent: the end, or a cut (an error) */
	int suspended;                  /* the reader suspended conn; the check thread resumes it */
	int gone;                       /* MHD freed the response: conn is not to be touched */
	int refs;                       /* the check thread, the response */
	void *conn;                     /* struct MHD_Connection *, while !gone */
	int conn_fd;                    /* its socket (polled only while suspended) */
	struct check_run *prev_run, *next_run;  /* the running checks (runs_lock) */
};

/* The running checks: how many (check_max), and what to stop at the end. */
static pthread_mutex_t runs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t runs_cond = PTHREAD_COND_INITIALIZER;
static struct check_run *runs;
static unsigned nruns;
static int runs_stopping;

static void add_target(struct check_run *c, const char *s, bool mx)
{
	if (c->n < CHECK_TARGETS) {
		c->mx[c->n] = mx;
		c->target[c->n++] = xstrdup(s);
	}
}

/* An IPv4 range a.b.c.d/N, N >= 24: its addresses as targets; 1 when s
 * was such a range (or a larger one: an error row), 0 when not. */
static int ip4_range(struct check_run *c, const char *s, struct web_buf *b)
{
	char a[INET_ADDRSTRLEN + 4], *sl;
	struct in_addr in;
	unsigned long bits;
	uint32_t base, count;

	if (strlen(s) >= sizeof(a))
		return 0;
	str_copy(a, sizeof(a), s);
	if (!(sl = strchr(a, '/')))
		return 0;
	*sl = 0;
	if (inet_pton(AF_INET, a, &in) != 1)
		return 0;
	bits = strtoul(sl + 1, &sl, 10);
	if (*sl || bits > 32)
		return 0;
	if (bits < 24) {
		H_LIT(b, "<tr class=\"error\"><td>");
		web_text(b, s);
		H_LIT(b, "</td><td colspan=\"5\">");
		web_text(b, web_msg(c->lang, M_CHECK_RANGE));
		H_LIT(b, "</td></tr>\n");
		c->errors++;
		return 1;
	}
	count = 1u << (32 - bits);
	base = ntohl(in.s_addr) & ~(count - 1);
	for (uint32_t i = 0; i < count; i++) {
		struct in_addr x = { htonl(base + i) };
		char t[INET_ADDRSTRLEN];

		add_target(c, inet_ntop(AF_INET, &x, t, sizeof(t)), false);
	}
	return 1;
}

/* Cut q into targets (blanks and commas between them). */
static void parse_targets(struct check_run *c, const char *q, struct web_buf *b)
{
	char w[256];
	unsigned words = 0;

	while (*q && words < CHECK_WORDS) {
		size_t n = strcspn(q, " \t\r\n,");

		if (n >= sizeof(w)) {   /* no host name is that long: an error row */
			H_LIT(b, "<tr class=\"error\"><td>");
			web_textf(b, "%.40s...", q);
			H_LIT(b, "</td><td colspan=\"5\">");
			web_text(b, web_msg(c->lang, M_BAD_QUERY));
			H_LIT(b, "</td></tr>\n");
			c->errors++;
			words++;
		} else if (n) {
			memcpy(w, q, n);
			w[n] = 0;
			words++;
			if (!strncasecmp(w, "mx:", 3))
				add_target(c, w + 3, true);
			else if (!ip4_range(c, w, b))
				add_target(c, w, false);
		}
		q += n;
		q += strspn(q, " \t\r\n,");
	}
}

static void status_cell(struct check_run *c, struct web_buf *b, enum dnsbl_status s)
{
	H_LIT(b, "<td class=\"status\">");
	web_text(b, web_msg(c->lang, s == DS_LISTED ? M_LISTED : s == DS_ALLOWED ? M_CHECK_ALLOWED :
			    s == DS_CLEAN ? M_NOT_LISTED : M_CHECK_ERROR));
	H_LIT(b, "</td>");
}

/* One result that is not clean: a row with the list, the verdict, the
 * codes and their meanings, the TXT (or the error) and the way off. */
static void result_row(struct check_run *c, struct web_buf *b, const struct dnsbl_result *r)
{
	char url[512];
	const char *u;

	if (r->status == DS_LISTED)
		H_LIT(b, "<tr class=\"listed\"");
	else if (r->status == DS_ALLOWED)
		H_LIT(b, "<tr class=\"allowed\"");
	else
		H_LIT(b, "<tr class=\"error\"");
	H_ATTR(b, "data-zone", r->list->zone);
	H_LIT(b, "><td>");
	web_text(b, r->subject);
	H_LIT(b, "</td><td>");
	web_text(b, r->list->name && *r->list->name ? r->list->name : r->list->zone);
	H_LIT(b, " <small>");
	web_text(b, r->list->zone);
	H_LIT(b, "</small></td>");
	status_cell(c, b, r->status);
	H_LIT(b, "<td class=\"codes\">");
	for (size_t i = 0; i < r->ncodes; i++) {
		uint32_t x = r->codes[i];

		if (i)
			H_LIT(b, "<br>");
		web_textf(b, "%u.%u.%u.%u", x >> 24, (x >> 16) & 255, (x >> 8) & 255, x & 255);
		if (r->meanings[i] && *r->meanings[i]) {
			H_LIT(b, " &mdash; ");
			web_text(b, r->meanings[i]);
		}
	}
	H_LIT(b, "</td><td class=\"txt\">");
	if (r->status == DS_ERROR) {
		web_text(b, r->error ? r->error : "error");
	} else {
		for (size_t i = 0; i < r->ntxt; i++) {
			if (i)
				H_LIT(b, "<br>");
			web_text(b, r->txt[i]);
		}
	}
	H_LIT(b, "</td><td class=\"delist\">");
	u = r->status == DS_LISTED ? list_delist_url(r->list, r->subject, url, sizeof(url)) : NULL;
	if (u && (!strncmp(u, "https://", 8) || !strncmp(u, "http://", 7))) {
		H_LIT(b, "<a rel=\"noopener noreferrer\"");
		H_ATTR(b, "href", u);
		H_LIT(b, ">");
		web_text(b, web_msg(c->lang, M_CHECK_DELIST));
		H_LIT(b, "</a>");
	}
	H_LIT(b, "</td></tr>\n");
}

/* A finished target's rows: the lists that did not say clean one a row,
 * then how many said clean. */
static void target_rows(struct check_run *c, const struct dnsbl_target *t)
{
	struct web_buf *b = &c->out;
	unsigned clean = 0, listed = 0, errors = 0;
	char n[16];

	if (t->error) {
		H_LIT(b, "<tr class=\"error\"><td>");
		web_text(b, t->input);
		H_LIT(b, "</td><td colspan=\"5\">");
		web_text(b, t->error);
		H_LIT(b, "</td></tr>\n");
		c->errors++;
		return;
	}
	for (size_t i = 0; i < t->nresults; i++) {
		const struct dnsbl_result *r = &t->results[i];

		if (r->status == DS_CLEAN) {
			clean++;
			continue;
		}
		listed += r->status == DS_LISTED;
		errors += r->status == DS_ERROR;
		result_row(c, b, r);
	}
	if (clean || !t->nresults) {
		H_LIT(b, "<tr class=\"clean\"><td>");
		web_text(b, t->input);
		H_LIT(b, "</td><td colspan=\"5\">");
		snprintf(n, sizeof(n), "%u", clean);
		web_text_sub(b, web_msg(c->lang, t->nresults ? M_CHECK_CLEAN : M_CHECK_NO_LIST), n,
			     NULL);
		H_LIT(b, "</td></tr>\n");
	}
	c->listed += listed > 0;
	c->errors += errors > 0;
}

/* The end of the page: the counts and the lists that gave no verdicts. */
static void page_end(struct check_run *c)
{
	struct web_buf *b = &c->out;
	char l[16], e[16];
	int head = 0;

	for (size_t i = 0; i < c->srv->ncheck; i++) {
		const struct list *li = c->srv->check_lists[i];
		const char *why = "";
		enum dnsbl_health h = dnsbl_list_health(c->eng, li, &why);

		if (!dnsbl_list_asked(c->eng, li) || (h != DH_BROKEN && h != DH_REFUSING &&
						      h != DH_NO_TESTPOINT))
			continue;
		if (!head++) {
			H_LIT(b, "</table><h2>");
			web_text(b, web_msg(c->lang, M_CHECK_LISTS_DOWN));
			H_LIT(b, "</h2><ul id=\"lists-down\">");
		}
		H_LIT(b, "<li>");
		web_text(b, li->zone);
		H_LIT(b, ": ");
		web_text(b, why);
		H_LIT(b, "</li>");
	}
	if (head)
		H_LIT(b, "</ul>");
	else
		H_LIT(b, "</table>");
	snprintf(l, sizeof(l), "%u", c->listed);
	snprintf(e, sizeof(e), "%u", c->errors);
	H_LIT(b, "<p id=\"check-done\">");
	web_text_sub(b, web_msg(c->lang, M_CHECK_DONE), l, e);
	H_LIT(b, "</p></body></html>\n");
	c->ended = 1;
}

/* Wake the check thread: stop (the client went away, the portal stops). */
static void check_stop(struct check_run *c)
{
	ssize_t w = write(c->wake[1], "x", 1);  /* the pipe full: a byte is there already */

	(void)w;
}

static void check_unref(struct check_run *c)
{
	int left;

	pthread_mutex_lock(&c->mu);
	left = --c->refs;
	pthread_mutex_unlock(&c->mu);
	if (left)
		return;
	rs_free(c->rs);                 /* when the thread never started */
	dnsbl_free(c->eng);
	for (size_t i = 0; i < c->n; i++)
		free(c->target[i]);
	web_buf_free(&c->out);
	web_buf_free(&c->sent);
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Wait up to ms for the resolver; wake early for a stop and, while the
 * reader waits (conn suspended: MHD neither reads nor closes its socket
 * until this thread resumes it), for the client hanging up. -1: stop. */
static int wait_io(struct check_run *c, int ms)
{
	struct pollfd p[3] = {
		{ .fd = rs_fd(c->rs), .events = POLLIN },
		{ .fd = c->wake[0], .events = POLLIN },
		{ .fd = -1, .events = POLLRDHUP },
	};

	pthread_mutex_lock(&c->mu);
	if (c->suspended)
		p[2].fd = c->conn_fd;
	pthread_mutex_unlock(&c->mu);
	if (poll(p, 3, ms) < 0)
		return errno == EINTR ? 0 : -1;
	if (p[1].revents || (p[2].revents & (POLLRDHUP | POLLHUP | POLLERR)))
		return -1;
	return 0;
}

/* Drive the engine until something can be handed over: rows, or the
 * end. -1: told to stop. */
static int advance(struct check_run *c)
{
	struct dnsbl_target *t;

	while (!c->out.len && !c->ended) {
		uint64_t now = now_ms();

		while (c->next < c->n && dnsbl_active(c->eng) < CHECK_IN_FLIGHT) {
			if (now >= c->deadline) {
				H_LIT(&c->out, "<tr class=\"error\"><td>");
				web_text(&c->out, c->target[c->next]);
				H_LIT(&c->out, "</td><td colspan=\"5\">");
				web_text(&c->out, web_msg(c->lang, M_CHECK_TIME_UP));
				H_LIT(&c->out, "</td></tr>\n");
				c->errors++;
				c->next++;
				continue;
			}
			dnsbl_add(c->eng, c->target[c->next], c->mx[c->next]);
			c->next++;
		}
		while ((t = dnsbl_next_done(c->eng))) {
			target_rows(c, t);
			dnsbl_target_free(t);
		}
		if (c->out.len)
			return 0;
		if (c->next >= c->n && !dnsbl_active(c->eng)) {
			page_end(c);
			return 0;
		}
		if (now >= c->deadline) {
			rs_cancel_all(c->rs);   /* what is pending ends as errors */
		} else {
			int ms = rs_next_timeout_ms(c->rs);
			uint64_t left = c->deadline - now;

			if (ms < 0 || (uint64_t)ms > left)
				ms = left > 1000 ? 1000 : (int)left;
			if (wait_io(c, ms))
				return -1;
		}
		rs_process(c->rs);
	}
	return 0;
}

/* Hand the rows made over to the reader, with the end when there is
 * one, and resume the connection when the reader waits for them.
 * -1: nobody reads any more (MHD freed the response). */
static int hand_over(struct check_run *c, enum check_end end)
{
	int resume = 0, gone;

	pthread_mutex_lock(&c->mu);
	gone = c->gone;
	if (!gone) {
		if (c->out.len && !c->out.err)
			web_buf_raw_(&c->sent, c->out.p, c->out.len);
		c->end = end;
		resume = c->suspended;
		c->suspended = 0;
	}
	pthread_mutex_unlock(&c->mu);
	c->out.len = 0;
	/* outside mu: MHD takes its own lock; the connection stays
	 * suspended, hence open, until this call */
	if (resume)
		web_conn_resume(c->conn);
	return gone ? -1 : 0;
}

/* Give back a place among the running checks (slot_take()). */
static void slot_give(void)
{
	pthread_mutex_lock(&runs_lock);
	nruns--;
	pthread_cond_broadcast(&runs_cond);
	pthread_mutex_unlock(&runs_lock);
}

static void *check_main(void *arg)
{
	struct check_run *c = arg;
	enum check_end e = CE_NONE;

	while (e == CE_NONE) {
		int stop = advance(c);

		e = stop || c->out.err ? CE_ABORT : c->ended ? CE_DONE : CE_NONE;
		if (hand_over(c, e))
			break;
	}
	/* the resolver and the engine here, not on MHD's thread when the
	 * response goes last; the resolver first: ending its lookups runs
	 * callbacks of the engine */
	rs_free(c->rs);
	c->rs = NULL;
	dnsbl_free(c->eng);
	c->eng = NULL;
	pthread_mutex_lock(&runs_lock);
	if (c->prev_run)
		c->prev_run->next_run = c->next_run;
	else
		runs = c->next_run;
	if (c->next_run)
		c->next_run->prev_run = c->prev_run;
	pthread_mutex_unlock(&runs_lock);
	check_unref(c);
	/* the slot last: web_check_stop_all() returns when every thread is
	 * past its last use of a check */
	slot_give();
	return NULL;
}

/* The response's reader, on MHD's thread: what was handed over; the
 * end; or nothing yet: the connection is suspended (under mu, so that
 * the check thread, which resumes it, cannot miss it). */
static long check_read(void *cls, char *buf, size_t max)
{
	struct check_run *c = cls;
	long n;

	pthread_mutex_lock(&c->mu);
	if (c->off < c->sent.len) {
		size_t k = c->sent.len - c->off < max ? c->sent.len - c->off : max;

		memcpy(buf, c->sent.p + c->off, k);
		c->off += k;
		if (c->off == c->sent.len) {    /* sent: the buffer starts again */
			c->off = 0;
			c->sent.len = 0;
		}
		n = (long)k;
	} else if (c->sent.err || c->end == CE_ABORT) {
		n = WEB_STREAM_ERROR;
	} else if (c->end == CE_DONE) {
		n = WEB_STREAM_END;
	} else {
		c->suspended = 1;
		web_conn_suspend(c->conn);
		n = 0;
	}
	pthread_mutex_unlock(&c->mu);
	return n;
}

/* MHD is done with the response (sent, the client gone, or never
 * sent): the check thread must not touch the connection again. */
static void check_free(void *cls)
{
	struct check_run *c = cls;

	pthread_mutex_lock(&c->mu);
	c->gone = 1;
	pthread_mutex_unlock(&c->mu);
	check_stop(c);
	check_unref(c);
}

/* Take a place among the running checks; -1 when check_max run (or
 * the portal stops). */
static int slot_take(const struct web_server *srv)
{
	unsigned max = srv->conf->check_max ? srv->conf->check_max : srv->conf->threads * 2;
	int rc = -1;

	pthread_mutex_lock(&runs_lock);
	if (!runs_stopping && nruns < max) {
		nruns++;
		rc = 0;
	}
	pthread_mutex_unlock(&runs_lock);
	return rc;
}

/* Start c's thread (c's slot taken); -1 when it could not start. */
static int check_start(struct check_run *c)
{
	pthread_attr_t a;
	pthread_t t;
	int rc = -1;

	if (pthread_attr_init(&a))
		return -1;
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&runs_lock);
	if (!runs_stopping && !pthread_create(&t, &a, check_main, c)) {
		c->next_run = runs;
		if (runs)
			runs->prev_run = c;
		runs = c;
		rc = 0;
	}
	pthread_mutex_unlock(&runs_lock);
	pthread_attr_destroy(&a);
	return rc;
}

void web_check_stop_all(void)
{
	pthread_mutex_lock(&runs_lock);
	runs_stopping = 1;
	for (struct check_run *c = runs; c; c = c->next_run)
		check_stop(c);
	while (nruns)
		pthread_cond_wait(&runs_cond, &runs_lock);
	pthread_mutex_unlock(&runs_lock);
}

/* The form, with q (NULL: empty) in the box. */
static void check_form(struct web_req *r, struct web_buf *b, const char *q)
{
	H_LIT(b, "<form method=\"get\" action=\"/admin/check\"><p><label for=\"q\">");
	web_text(b, web_msg(r->lang, M_CHECK_LABEL));
	H_LIT(b, "</label></p><p><input type=\"text\" name=\"q\" id=\"q\" maxlength=\"2000\"");
	if (q)
		H_ATTR(b, "value", q);
	H_LIT(b, "></p><p><button type=\"submit\" id=\"check\">");
	web_text(b, web_msg(r->lang, M_CHECK_BUTTON));
	H_LIT(b, "</button> <a href=\"/admin\">");
	web_text(b, web_msg(r->lang, M_ADMIN));
	H_LIT(b, "</a></p></form>\n");
}

/* 503 with Retry-After: check_max checks run already. */
static void check_busy(struct web_req *r)
{
	char after[16];

	snprintf(after, sizeof(after), "%u", r->srv->conf->check_timeout);
	web_page_msg(r, 503, M_CHECK_BUSY);
	web_header(r, "Retry-After", after);
}

void web_check_page(struct web_req *r)
{
	const struct web_server *srv = r->srv;
	const char *q = web_kv_get(&r->query, "q");
	struct check_run *c;
	struct dnsbl_opts o = { .cidr_limit = CHECK_TARGETS, .max_mx = 10 };
	char err[256];
	int run = q && *q && strlen(q) <= 2000 && srv->ncheck;

	if (run && slot_take(srv)) {
		check_busy(r);
		return;
	}
	web_page_begin(r, web_msg(r->lang, M_CHECK_TITLE));
	check_form(r, &r->out, q);
	if (!run) {
		if (!srv->ncheck) {
			H_LIT(&r->out, "<p class=\"error\">");
			web_text(&r->out, web_msg(r->lang, M_CHECK_NO_LISTS));
			H_LIT(&r->out, "</p>");
		}
		web_page_end(r);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->lang = r->lang;
	c->wake[0] = c->wake[1] = -1;
	c->refs = 1;
	pthread_mutex_init(&c->mu, NULL);
	if (!(c->rs = rs_new(&srv->check_rs, err, sizeof(err))) ||
	    !(c->eng = dnsbl_new(c->rs, srv->check_lists, srv->ncheck, &o, err, sizeof(err))) ||
	    (pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) && snprintf(err, sizeof(err), "pipe: %s",
								 strerror(errno)))) {
		log_err("web: check: %s", err);
		check_unref(c);
		slot_give();
		web_page_msg(r, 500, M_INTERNAL);
		return;
	}
	c->deadline = now_ms() + (uint64_t)srv->conf->check_timeout * 1000;
	c->conn = r->conn;
	c->conn_fd = web_conn_fd(r->conn);
	/* the head now, the rows as they are decided */
	H_LIT(&r->out, "<table id=\"results\"><tr><th>");
	web_text(&r->out, web_msg(r->lang, M_CHECK_TARGET));
	H_LIT(&r->out, "</th><th>");
	web_text(&r->out, web_msg(r->lang, M_ZONE));
	H_LIT(&r->out, "</th><th></th><th>");
	web_text(&r->out, web_msg(r->lang, M_CODE));
	H_LIT(&r->out, "</th><th>TXT</th><th></th></tr>\n");
	parse_targets(c, q, &r->out);
	c->refs = 2;                    /* the thread's and the response's */
	if (check_start(c)) {
		log_err("web: check: no thread could be started");
		c->refs = 1;
		check_unref(c);
		slot_give();
		check_busy(r);
		return;
	}
	r->stream = check_read;
	r->stream_free = check_free;
	r->stream_cls = c;
}
