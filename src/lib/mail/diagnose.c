/*
 * diagnose.c - one message end to end; see diagnose.h.
 *
 * SECURITY: untrusted input; the text is copied once (line endings
 * normalised) and every later reader is bounded by that copy's length.
 */
#define _GNU_SOURCE	/* memmem */
#include "mail/diagnose.h"
#include "dnsbl/catalog.h"
#include "mail/mime.h"
#include "mail/msg.h"
#include "base/util.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Is the line at p (up to end) an mbox envelope line, "From sender
 * Thu Apr 29 23:34:45 2015": a sender, a month name, a time, a year? */
static int mbox_sep(const char *p, const char *end)
{
	const char *e = memchr(p, '\n', (size_t)(end - p));
	int colon = 0, year = 0;

	if (!e)
		e = end;
	if (e - p < 12 || memcmp(p, "From ", 5) || p[5] == ' ')
		return 0;
	for (const char *q = p + 5; q + 1 < e; q++) {
		if (isdigit((unsigned char)q[0]) && q[1] == ':' && q + 2 < e &&
		    isdigit((unsigned char)q[2]))
			colon = 1;
		if (q + 4 <= e && isdigit((unsigned char)q[0]) && isdigit((unsigned char)q[1]) &&
		    isdigit((unsigned char)q[2]) && isdigit((unsigned char)q[3]) &&
		    (q[-1] == ' ') && (q + 4 == e || !isdigit((unsigned char)q[4])))
			year = 1;
	}
	if (!colon || !year)
		return 0;
	/* and a month name, as ctime() writes dates */
	for (const char *q = p + 5; q + 4 < e; q++) {
		static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

		if (q[-1] != ' ' || q[3] != ' ')
			continue;
		for (int k = 0; k < 12; k++)
			if (!memcmp(q, months + 3 * k, 3))
				return 1;
	}
	return 0;
}

/* The first "\nFrom " at or after text + from, or NULL.  By the 'F's:
 * they are rarer than line ends. */
static const char *next_from_line(const char *text, size_t from, size_t len)
{
	const char *p = text + from + 1, *end = text + len;

	while (p < end && (p = memchr(p, 'F', (size_t)(end - p))) != NULL) {
		if (p[-1] == '\n' && end - p >= 5 && !memcmp(p, "From ", 5))
			return p - 1;
		p++;
	}
	return NULL;
}

int diag_mbox_next(const char *text, size_t len, size_t *pos,
		   const char **msg, size_t *mlen)
{
	size_t s = *pos, e = s;
	/* an mbox starts with an envelope line and every "From " line starts
	 * a message (bodies quote theirs as ">From "); mail concatenated
	 * without one at the top is split where an envelope line follows an
	 * empty line */
	int mbox = len - s >= 5 && !memcmp(text + s, "From ", 5);

	if (s >= len)
		return 0;
	/* only lines that start with "From " can end the message */
	for (;;) {
		const char *nl = next_from_line(text, e, len);

		if (!nl) {
			e = len;
			break;
		}
		e = (size_t)(nl - text) + 1;
		if (mbox || (e >= 2 && text[e - 2] == '\n' && mbox_sep(text + e, text + len)))
			break;
	}
	*msg = text + s;
	*mlen = e - s;
	*pos = e;
	return 1;
}

/* Copy a header value decoded (RFC 2047) into out. */
static void decoded(const struct msg *m, const char *name, char *out, size_t len)
{
	const char *v = msg_get(m, name);
	char *dv;

	out[0] = '\0';
	if (!v)
		return;
	if (!strstr(v, "=?")) {		/* no encoded word: as it is */
		str_copy(out, len, v);
	} else {
		dv = mime_decode_words(v, strlen(v));
		str_copy(out, len, dv);
		free(dv);
	}
	for (size_t n = strlen(out); n && (unsigned char)out[n - 1] <= ' '; n--)
		out[n - 1] = '\0';
}

static void path_of(struct diag *d, const struct msg *m)
{
	d->nhops = rcvd_chain(m, d->hops, RCVD_MAX_HOPS);
	d->judged = rcvd_judged_hop(d->hops, d->nhops);
	for (size_t i = 0; i < d->nhops && d->nips < ARRAY_SIZE(d->sender_ips); i++) {
		int dup = 0;

		if (!d->hops[i].ip[0] || !rcvd_ip_public(d->hops[i].ip))
			continue;
		for (size_t k = 0; k < d->nips; k++)
			dup |= !strcmp(d->sender_ips[k], d->hops[i].ip);
		if (!dup)
			snprintf(d->sender_ips[d->nips++], sizeof(d->sender_ips[0]), "%s",
				 d->hops[i].ip);
	}
}

/* First and last known times of the path (Date: counts as the first);
 * *hf says whether a first time is known. Returns 1 when both are. */
static int path_span(const struct diag *d, const struct msg *om, int64_t *first,
		     int64_t *last, int *hfp)
{
	int hf = 0, hl = 0;
	const char *date = om ? msg_get(om, "Date") : NULL;

	if (date && rcvd_parse_date(date, first) == 0)
		hf = 1;
	for (size_t i = 0; i < d->nhops; i++) {
		if (!d->hops[i].has_t)
			continue;
		if (!hf) {
			*first = d->hops[i].t;
			hf = 1;
		}
		*last = d->hops[i].t;
		hl = 1;
	}
	*hfp = hf;
	return hf && hl;
}

/* Is the address at ip (n bytes, inside text) the receiving host's own:
 * "host mx.example.jp [192.0.2.1]", "mx[192.0.2.1] said", "Other MXes
 * tried: 192.0.2.1 said", "Received-From-MTA: DNS; [192.0.2.1]"? */
static int about_receiver(const char *text, const char *ip, size_t n)
{
	const char *p = ip, *after = ip + n;
	size_t back = (size_t)(ip - text);
	char pre[96];
	size_t k;

	while (*after == ']' || *after == ')')
		after++;
	if (!strncasecmp(after, " said", 5) || !strncasecmp(after, ":25", 3))
		return 1;
	k = back < sizeof(pre) - 1 ? back : sizeof(pre) - 1;
	memcpy(pre, p - k, k);
	pre[k] = '\0';
	for (char *c = pre; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	/* the last words before the address */
	{
		char *w = pre + strlen(pre);

		while (w > pre && (w[-1] == '[' || w[-1] == ' ' || w[-1] == '('))
			w--;
		*w = '\0';
		while (w > pre && w[-1] != ' ')
			w--;
		/* "host NAME [ip]" or "NAME[ip]" right after "host" */
		if (w - pre >= 5 && !strncmp(w - 5, "host ", 5))
			return 1;
		if (strstr(pre, "mxes tried") || strstr(pre, "-mta: dns;") ||
		    strstr(pre, "remote host") || strstr(pre, "connect to"))
			return 1;
	}
	return 0;
}

/* The address receivers judged: the one a rejection names ("Client host
 * [192.0.2.1] blocked", "messages from 192.0.2.1") in the server's words
 * (from its reply code on, so that the "host mx[ip]" of the remote MTA
 * is not taken), else the one of the Received chain. */
static void judged_address(struct diag *d)
{
	for (size_t i = 0; d->kind == DSN_BOUNCE && i < d->dsn.n; i++) {
		const struct dsn_rcpt *r = &d->dsn.r[i];
		const char *from = r->reply[0] ? strstr(r->diag, r->reply) : NULL;

		while (from && rcvd_find_public_ip(from, d->judged_ip, sizeof(d->judged_ip)) == 0) {
			const char *at = strstr(from, d->judged_ip);

			if (at && !about_receiver(r->diag, at, strlen(d->judged_ip))) {
				d->judged_src = "rejection";
				return;
			}
			from = at ? at + strlen(d->judged_ip) : NULL;
		}
		d->judged_ip[0] = '\0';
	}
	if (d->judged >= 0) {
		str_copy(d->judged_ip, sizeof(d->judged_ip), d->hops[d->judged].ip);
		d->judged_src = "path";
	}
}

/* Reasons where a blocklist or reputation service named in the text is
 * the cause (a "user unknown" from outlook.com does not accuse anyone). */
static int about_sender(const char *reason)
{
	static const char *const r[] = { "blocked", "badreputation", "spamdetected",
		"rejected", "policyviolation", "securityerror", "requireptr",
		"toomanyconn", "speeding", "onhold", "undefined", "filtered", NULL };

	for (int i = 0; r[i]; i++)
		if (!strcmp(r[i], reason))
			return 1;
	return 0;
}

int diag_read(struct diag *d, const char *text, size_t len,
	      const struct catalog *cat, char *err, size_t errlen)
{
	struct msg m;
	const struct msg *path;	/* whose Received chain: the original's */
	struct mime mm;
	char *buf = NULL;
	size_t blen;
	int64_t first = 0, last = 0;
	int has_first = 0, own_path;

	/* all but the hops (24 KiB), which rcvd_chain() fills as it goes */
	memset(d, 0, offsetof(struct diag, hops));
	memset(&d->nhops, 0, sizeof(*d) - offsetof(struct diag, nhops));
	d->judged = -1;
	if (len == 0 || len > MAIL_MAX_SIZE) {
		snprintf(err, errlen, len ? "message larger than %u bytes" :
			 "empty input", MAIL_MAX_SIZE);
		return -1;
	}
	/* line ends to LF; text without a CR is read where it is (nothing
	 * below needs it NUL-terminated: every reader takes a length) */
	if (memchr(text, '\r', len)) {
		buf = msg_normalize(text, len, &blen);
		msg_parse(&m, buf, blen);
	} else {
		msg_parse(&m, text, len);
	}
	if (m.nf == 0) {
		snprintf(err, errlen, "no header fields: not a mail message");
		msg_free(&m);
		free(buf);
		return -1;
	}
	mime_walk(&mm, &m);
	dsn_read(&d->dsn, &m, &mm);
	d->kind = d->dsn.kind;
	d->cut = m.cut || mm.cut;
	decoded(&m, "Subject", d->subject, sizeof(d->subject));
	decoded(&m, "From", d->from, sizeof(d->from));
	if (msg_get(&m, "Date") && rcvd_parse_date(msg_get(&m, "Date"), &d->date) == 0)
		d->has_date = 1;
	/* the path: of the original message in a report, else of this one */
	path = d->dsn.orig && d->dsn.om.nf > 0 ? &d->dsn.om : &m;
	path_of(d, path);
	/* a report without the original has only its own path, from the
	 * receiver back to the sender: its hops are not the sender's relays
	 * and its first time is not the arrival of the mail */
	own_path = d->kind == DSN_BOUNCE && path == &m;
	if (own_path)
		d->judged = -1;
	if (path_span(d, path, &first, &last, &has_first)) {
		d->total_delay = last - first;
		d->has_total = 1;
	}
	d->x = xcalloc(d->dsn.n ? d->dsn.n : 1, sizeof(*d->x));
	for (size_t i = 0; i < d->dsn.n; i++) {
		const struct dsn_rcpt *r = &d->dsn.r[i];
		struct diag_rcpt_extra *x = &d->x[i];
		int64_t start = d->dsn.has_arrival ? d->dsn.arrival : first;
		int has_start = d->dsn.has_arrival || (has_first && !own_path);

		/* the list is named in the reply, not in the advice a long
		 * report appends: the first KiB is enough */
		if (cat && r->diag[0] && about_sender(r->reason))
			x->bl = catalog_match_text(cat, r->diag, strnlen(r->diag, 1024));
		if (d->kind != DSN_BOUNCE || !has_start)
			continue;
		if (r->has_last_attempt) {
			x->delay = r->last_attempt - start;
			x->has_delay = 1;
		} else if (d->has_date) {
			x->delay = d->date - start;
			x->has_delay = 1;
		}
	}
	judged_address(d);
	mime_free(&mm);
	msg_free(&m);
	free(buf);
	return 0;
}

void diag_free(struct diag *d)
{
	dsn_free(&d->dsn);
	free(d->x);
	d->x = NULL;
	d->nhops = 0;
}
