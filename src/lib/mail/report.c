/*
 * report.c - text, JSON and HTML output of a diagnosis; see report.h.
 *
 * SECURITY: untrusted strings are escaped for each format: JSON escapes
 * and U+FFFD for bytes that are not UTF-8; HTML entities; text with
 * control characters blanked.
 */
#include "mail/report.h"
#include "dnsbl/catalog.h"
#include "base/json.h"
#include "base/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *report_duration(int64_t s, char *buf, size_t len)
{
	const char *sign = s < 0 ? "-" : "";
	uint64_t a = s < 0 ? (uint64_t)-(s + 1) + 1 : (uint64_t)s;

	if (a >= 86400)
		snprintf(buf, len, "%s%" PRIu64 " d %02" PRIu64 " h", sign, a / 86400,
			 a % 86400 / 3600);
	else if (a >= 3600)
		snprintf(buf, len, "%s%" PRIu64 " h %02" PRIu64 " min", sign, a / 3600,
			 a % 3600 / 60);
	else if (a >= 60)
		snprintf(buf, len, "%s%" PRIu64 " min %02" PRIu64 " s", sign, a / 60, a % 60);
	else
		snprintf(buf, len, "%s%" PRIu64 " s", sign, a);
	return buf;
}

/* t as "YYYY-MM-DDTHH:MM:SSZ" (UTC).  The civil date from the day count
 * (Howard Hinnant's civil_from_days) for years 1000 to 9999, without
 * gmtime_r() and strftime(): JSON and text write one for every hop. */
static const char *iso_time(int64_t t, char *buf, size_t len)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400, z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);

	time_t tt = (time_t)t;
	struct tm tm;

	if (y >= 1000 && y <= 9999 && len >= 21) {
		/* digits by hand: snprintf() costs more than the rest */
		int v[6] = { (int)y, (int)m, (int)d, (int)(secs / 3600),
			     (int)(secs / 60 % 60), (int)(secs % 60) };
		char *o = buf;

		for (int k = 0; k < 6; k++) {
			if (k == 0) {
				*o++ = (char)('0' + v[0] / 1000);
				*o++ = (char)('0' + v[0] / 100 % 10);
			}
			*o++ = (char)('0' + v[k] / 10 % 10);
			*o++ = (char)('0' + v[k] % 10);
			*o++ = "--T::Z"[k];
		}
		*o = '\0';
		return buf;
	}
	/* other years as strftime() writes them */
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

static const char *explain(const char *reason, const struct list *bl)
{
	static const struct { const char *r, *t; } words[] = {
		{ "userunknown", "the recipient address does not exist" },
		{ "hostunknown", "the recipient domain does not exist" },
		{ "mailboxfull", "the recipient's mailbox is full" },
		{ "mesgtoobig", "the message is too big" },
		{ "exceedlimit", "the message exceeds a limit of the receiver" },
		{ "suspend", "the recipient's account is suspended" },
		{ "hasmoved", "the recipient has moved" },
		{ "filtered", "the recipient does not accept this mail" },
		{ "rejected", "the sender address was refused" },
		{ "blocked", "the sending IP was refused" },
		{ "badreputation", "the sending IP or domain has a poor reputation" },
		{ "requireptr", "the sending IP has no valid reverse DNS (PTR)" },
		{ "authfailure", "SPF, DKIM or DMARC authentication failed" },
		{ "spamdetected", "the message was judged to be spam" },
		{ "virusdetected", "the message was judged to carry a virus" },
		{ "policyviolation", "the message violates the receiver's policy" },
		{ "securityerror", "a security check of the receiver failed" },
		{ "norelaying", "the server refused to relay" },
		{ "toomanyconn", "too many connections or recipients" },
		{ "speeding", "sending too fast (rate limited)" },
		{ "expired", "delivery was given up after retrying too long" },
		{ "networkerror", "the receiver could not be reached (network or DNS)" },
		{ "systemerror", "the receiving system failed" },
		{ "systemfull", "the receiving system is out of space" },
		{ "notaccept", "the domain accepts no mail" },
		{ "contenterror", "the message content was refused" },
		{ "notcompliantrfc", "the message does not follow the mail standards" },
		{ "mailererror", "the local delivery program failed" },
		{ "syntaxerror", "an SMTP command was refused" },
		{ "failedstarttls", "TLS (STARTTLS) could not be set up" },
		{ "onhold", "the reason could not be determined" },
		{ "undefined", "the reason could not be determined" },
		{ "delivered", "delivered" }, { "feedback", "a complaint (feedback report)" },
		{ "vacation", "an out-of-office reply" },
	};

	(void)bl;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcmp(words[i].r, reason))
			return words[i].t;
	return reason;
}

/* Text after the codes at the start of the diagnostic, first words only. */
static void snippet(const char *diag, const char *reply, const char *status,
		    char *out, size_t len)
{
	const char *p = diag;
	size_t n;

	while (*p == ' ' || *p == '#')
		p++;
	if (reply[0] && !strncmp(p, reply, 3) && (p[3] == ' ' || p[3] == '-'))
		p += 4;
	while (*p == ' ' || *p == '#')
		p++;
	if (status[0] && !strncmp(p, status, strlen(status)))
		p += strlen(status);
	while (*p == ' ' || *p == ':')
		p++;
	/* the address the server repeats says nothing new: "<a@b>: ...",
	 * "<a@b>... User unknown" */
	if (*p == '<' && strchr(p, '>') && strchr(p, '@') && strchr(p, '@') < strchr(p, '>')) {
		p = strchr(p, '>') + 1;
		while (*p == ' ' || *p == ':' || *p == '.' || *p == ',')
			p++;
	}
	n = strlen(p);
	if (n > 60) {
		n = 60;
		while (n > 30 && p[n] != ' ')
			n--;
		/* no blank to cut at (Japanese has none): not inside a character */
		while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
	}
	snprintf(out, len, "%.*s%s", (int)n, p, strlen(p) > n ? "..." : "");
}

/* A summary cut by the size of its buffer (len bytes) ends where it was
 * cut: drop a last UTF-8 sequence that was cut short. */
static void utf8_cut_tail(char *buf, size_t len)
{
	size_t n = strlen(buf), i = n, need;
	unsigned char c;

	if (n + 1 < len || !n)
		return;		/* not cut */
	while (i > 0 && n - i < 3 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char)buf[i - 1];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (need > 1 && n - (i - 1) < need)
		buf[i - 1] = '\0';
}

/* "1 hop", "2 hops" */
static const char *hops_word(size_t n)
{
	return n == 1 ? "hop" : "hops";
}

/* sisimai's internal codes (x.0.9xx) mean nothing to a reader. */
static int pseudo_status(const char *st)
{
	return strlen(st) == 7 && !strncmp(st + 1, ".0.9", 4);
}

void report_summary(const struct diag *d, char *buf, size_t len)
{
	char dur[48], snip[80];
	const struct dsn_rcpt *r;
	const struct list *bl;
	size_t o;

	if (d->kind == DSN_MESSAGE || d->dsn.n == 0) {
		if (d->judged_ip[0])
			snprintf(buf, len, "%s: %zu %s%s%s, receivers judge %s",
				 d->kind == DSN_BOUNCE ? "Bounce with no recipient found" :
				 "Message", d->nhops, hops_word(d->nhops), d->has_total ? " in " : "",
				 d->has_total ? report_duration(d->total_delay, dur, sizeof(dur)) : "",
				 d->judged_ip);
		else
			snprintf(buf, len, "%s: %zu %s%s%s",
				 d->kind == DSN_BOUNCE ? "Bounce with no recipient found" :
				 "Message", d->nhops, hops_word(d->nhops), d->has_total ? " in " : "",
				 d->has_total ? report_duration(d->total_delay, dur, sizeof(dur)) : "");
		return;
	}
	r = &d->dsn.r[0];
	bl = d->x[0].bl;
	if (d->kind == DSN_FEEDBACK) {
		snprintf(buf, len, "Feedback report: a complaint about mail to %s%s",
			 r->recipient, d->dsn.n > 1 ? " and others" : "");
		return;
	}
	if (d->kind == DSN_AUTOREPLY) {
		snprintf(buf, len, "Automatic reply from %s (out of office): not a bounce",
			 r->recipient);
		return;
	}
	snippet(r->diag, r->reply, r->status, snip, sizeof(snip));
	o = (size_t)snprintf(buf, len, "%s%s%s",
			     !strcmp(r->reason, "delivered") ? "Delivered" :
			     r->temporary ? "Deferred" : "Rejected",
			     r->rhost[0] ? " by " : "", r->rhost);
	if (o < len && d->x[0].has_delay && d->x[0].delay >= 60)
		o += (size_t)snprintf(buf + o, len - o, " for %s",
				      report_duration(d->x[0].delay, dur, sizeof(dur)));
	if (o < len && bl)
		o += (size_t)snprintf(buf + o, len - o, ": %s listed on %s",
				      !strcmp(r->reason, "spamdetected") ? "content or sender" :
				      "sending IP or domain", bl->name);
	else if (o < len && !strcmp(r->reason, "delivered"))
		o += (size_t)snprintf(buf + o, len - o, ": delivered to %s", r->recipient);
	else if (o < len)
		o += (size_t)snprintf(buf + o, len - o, ": %s", explain(r->reason, bl));
	if (o < len && (r->reply[0] || (r->status[0] && !pseudo_status(r->status)))) {
		const char *st = pseudo_status(r->status) ? "" : r->status;

		o += (size_t)snprintf(buf + o, len - o, " (%s%s%s%s%s)", r->reply,
				      r->reply[0] && st[0] ? " " : "", st,
				      snip[0] ? " " : "", snip);
	}
	if (o < len && bl && bl->delist)
		o += (size_t)snprintf(buf + o, len - o, ". Request removal: %s", bl->delist);
	if (o < len && d->dsn.n > 1)
		snprintf(buf + o, len - o, " [+%zu more recipient%s]", d->dsn.n - 1,
			 d->dsn.n > 2 ? "s" : "");
	utf8_cut_tail(buf, len);
}

/* How final a failure is: "hard" (the address itself will never work:
 * the JSON "hard"), "permanent" (a 5xx refusal that is not about the
 * address: a block, a filter, a full mailbox; the same mail sent again
 * fails again), "soft" (temporary: 4xx, delayed). */
static const char *severity(const struct dsn_rcpt *r)
{
	return r->hard ? "hard" : r->temporary ? "soft" : "permanent";
}

/* ---- text ---- */

/* Mail text for a terminal: C0 controls, DEL and the C1 controls in
 * UTF-8 (U+0080..U+009F; U+009B is CSI) become blanks. */
static void text_str(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] >= 0x80 &&
		    (unsigned char)s[1] <= 0x9f) {
			fputc(' ', f);
			s++;
			continue;
		}
		fputc((unsigned char)*s < 32 || *s == 127 ? ' ' : *s, f);
	}
}

/* A blocklist's answer (an A record, host order) as text, into ip. */
static const char *code_str(uint32_t a, char ip[16])
{
	snprintf(ip, 16, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
	return ip;
}

/* The errors of a check, grouped by their text: "REASON: zone, zone". */
static void text_check_errors(FILE *f, const struct report_check *c)
{
	for (size_t i = 0; c->errs && i < c->nerror; i++) {
		size_t k, n = 0;

		for (k = 0; k < i && strcmp(c->errs[k].error, c->errs[i].error); k++)
			;
		if (k < i)
			continue;	/* said with the first of its kind */
		fputs("    no verdict: ", f);
		text_str(f, c->errs[i].error);
		fputs(" (", f);
		for (k = i; k < c->nerror; k++)
			if (!strcmp(c->errs[k].error, c->errs[i].error))
				fprintf(f, "%s%s", n++ ? ", " : "", c->errs[k].zone);
		fputs(")\n", f);
	}
}

static void text_check(FILE *f, const struct report_check *c)
{
	char ip[16];

	fprintf(f, "  check of %s: listed on %zu list%s, clean on %zu, %zu error%s\n",
		c->ip, c->nhits, c->nhits == 1 ? "" : "s", c->nclean, c->nerror,
		c->nerror == 1 ? "" : "s");
	for (size_t i = 0; i < c->nhits; i++) {
		const struct report_hit *h = &c->hits[i];

		fprintf(f, "    listed on %s (%s)", h->list, h->zone);
		for (size_t k = 0; k < h->ncodes; k++) {
			fprintf(f, "%s%s", k ? "; " : ": ", code_str(h->codes[k], ip));
			if (h->meanings[k]) {
				fputc(' ', f);
				text_str(f, h->meanings[k]);
			}
		}
		if (h->txt) {
			fprintf(f, " \"");
			text_str(f, h->txt);
			fputc('"', f);
		}
		if (h->delist)
			fprintf(f, "  removal: %s", h->delist);
		fputc('\n', f);
	}
	text_check_errors(f, c);
}

/* "FILE[ #N]: error: WHY" and a newline: an input that gave no report. */
static void error_line(FILE *f, const struct report_item *it)
{
	text_str(f, it->file);
	if (it->index > 1)
		fprintf(f, " #%u", it->index);
	fprintf(f, ": error: %s\n", it->error);
}

void report_text(FILE *f, const struct report_item *it)
{
	const struct diag *d = it->d;
	char buf[1024], t[40], dur[48];

	if (!d) {
		error_line(f, it);
		fputc('\n', f);	/* a blank line ends every report */
		return;
	}
	report_summary(d, buf, sizeof(buf));
	text_str(f, buf);
	fprintf(f, "\n  file: ");
	text_str(f, it->file);
	if (it->index > 1)
		fprintf(f, " (message %u)", it->index);
	fprintf(f, "\n  kind: %s\n", dsn_kind_name(d->kind));
	if (d->subject[0]) {
		fprintf(f, "  subject: ");
		text_str(f, d->subject);
		fputc('\n', f);
	}
	for (size_t i = 0; i < d->dsn.n; i++) {
		const struct dsn_rcpt *r = &d->dsn.r[i];
		const struct list *bl = d->x[i].bl;

		fprintf(f, "  recipient: ");
		text_str(f, r->recipient);
		fprintf(f, "\n    reason: %s", r->reason);
		if (strcmp(r->reason, "delivered") && strcmp(r->reason, "feedback") &&
		    strcmp(r->reason, "vacation"))
			fprintf(f, " (%s)", severity(r));
		fprintf(f, "%s", r->action[0] ? ", action " : "");
		text_str(f, r->action);	/* the mail's own Action: word */
		fputc('\n', f);
		if (r->status[0] || r->reply[0])
			fprintf(f, "    status: %s  reply: %s\n", r->status[0] ? r->status : "-",
				r->reply[0] ? r->reply : "-");
		if (r->rhost[0]) {
			fprintf(f, "    remote MTA: ");
			text_str(f, r->rhost);
			fputc('\n', f);
		}
		if (r->command[0])
			fprintf(f, "    failed command: %s\n", r->command);
		if (d->x[i].has_delay)
			fprintf(f, "    time from arrival to report: %s\n",
				report_duration(d->x[i].delay, dur, sizeof(dur)));
		if (bl) {
			fprintf(f, "    blocklist: %s", bl->name);
			if (bl->delist)
				fprintf(f, "  removal: %s", bl->delist);
			fputc('\n', f);
		}
		if (r->diag[0]) {
			fprintf(f, "    diagnostic: ");
			text_str(f, r->diag);
			fputc('\n', f);
		}
	}
	if (d->judged_ip[0])
		fprintf(f, "  address receivers judge: %s (%s)\n", d->judged_ip,
			!strcmp(d->judged_src, "rejection") ? "named in the rejection" :
			"first hop outside the sender's servers");
	if (it->chk)
		text_check(f, it->chk);
	if (d->nhops) {
		fprintf(f, "  path (%zu %s%s%s):\n", d->nhops, hops_word(d->nhops),
			d->has_total ? ", total " : "",
			d->has_total ? report_duration(d->total_delay, dur, sizeof(dur)) : "");
		for (size_t i = 0; i < d->nhops; i++) {
			const struct rcvd_hop *h = &d->hops[i];

			fprintf(f, "   %2zu %s  %8s  ", i + 1,
				h->has_t ? iso_time(h->t, t, sizeof(t)) : "(no time)           ",
				h->has_delay ? report_duration(h->delay, dur, sizeof(dur)) : "-");
			text_str(f, h->from[0] ? h->from : "?");
			if (h->ip[0])
				fprintf(f, " [%s]", h->ip);
			fprintf(f, " -> ");
			text_str(f, h->by[0] ? h->by : "?");
			if (h->with[0]) {
				fprintf(f, " with ");
				text_str(f, h->with);
			}
			if (h->ip[0] && !strcmp(h->ip, d->judged_ip))
				fprintf(f, "   <- judged by receivers");
			if (h->has_delay && h->delay < 0)
				fprintf(f, "   (clock skew)");
			fputc('\n', f);
		}
	}
	fputc('\n', f);
}

void report_text_quiet(FILE *f, const struct report_item *it)
{
	char buf[1024];

	if (!it->d) {		/* one line, as every other -q line */
		error_line(f, it);
		return;
	}
	report_summary(it->d, buf, sizeof(buf));
	text_str(f, it->file);
	if (it->index > 1)
		fprintf(f, " #%u", it->index);	/* as an error line has it */
	fputs(": ", f);
	text_str(f, buf);
	fputc('\n', f);
}

/* ---- JSON ---- */

/* A message's JSON is put together in memory and written with one call:
 * a buffer per thread, kept from message to message. */
struct jbuf {
	char *s;
	size_t n, cap;
};

static __thread struct jbuf jb_tls;

static void jb_room(struct jbuf *b, size_t more)
{
	if (b->n + more <= b->cap)
		return;
	while (b->n + more > b->cap)
		b->cap = b->cap ? b->cap * 2 : 16384;
	b->s = xrealloc(b->s, b->cap);
}

static void jb_putn(struct jbuf *b, const char *s, size_t n)
{
	jb_room(b, n);
	memcpy(b->s + b->n, s, n);
	b->n += n;
}

static void jb_put(struct jbuf *b, const char *s)
{
	jb_putn(b, s, strlen(s));
}

/* s as a JSON string (with quotes), NULL as null: base/json.c's writer
 * (U+FFFD for bytes that are not UTF-8), control bytes as \u00XX. */
static void jb_str(struct jbuf *b, const char *s)
{
	size_t n, max;

	if (!s) {
		jb_putn(b, "null", 4);
		return;
	}
	n = strlen(s);
	if (!(max = json_escaped_max(n)))
		panic("report: a string of %zu bytes", n);
	jb_room(b, max);
	b->n += json_escape(b->s + b->n, s, n, 0);
}

static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

/* v in decimal, a '-' first if neg */
static void json_digits(struct jbuf *b, uint64_t v, int neg)
{
	char t[24], *o = t + sizeof(t);

	do
		*--o = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (neg)
		*--o = '-';
	jb_putn(b, o, (size_t)(t + sizeof(t) - o));
}

static void json_int(struct jbuf *b, int has, int64_t v)
{
	if (!has)
		jb_putn(b, "null", 4);
	else
		json_digits(b, v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v, v < 0);
}

static void json_uint(struct jbuf *b, uint64_t v)
{
	json_digits(b, v, 0);
}

void report_json_begin(FILE *f)
{
	fputs("[", f);
}

void report_json_end(FILE *f)
{
	fputs("\n]\n", f);
}

static void json_recipient(struct jbuf *b, const struct diag *d, size_t i)
{
	const struct dsn_rcpt *r = &d->dsn.r[i];
	const struct list *bl = d->x[i].bl;

	jb_put(b, "\n    {\"recipient\": ");
	jb_str(b, r->recipient);
	jb_put(b, ", \"action\": ");
	jb_str(b, nz(r->action));
	jb_put(b, ", \"status\": ");
	jb_str(b, nz(r->status));
	jb_put(b, ", \"reply_code\": ");
	jb_str(b, nz(r->reply));
	jb_put(b, ", \"remote_mta\": ");
	jb_str(b, nz(r->rhost));
	jb_put(b, ", \"command\": ");
	jb_str(b, nz(r->command));
	jb_put(b, ", \"diagnostic\": ");
	jb_str(b, nz(r->diag));
	jb_put(b, ", \"reason\": ");
	jb_str(b, r->reason);
	jb_put(b, r->hard ? ", \"hard\": true, \"blocklist\": " :
			    ", \"hard\": false, \"blocklist\": ");
	jb_str(b, bl ? bl->name : NULL);
	jb_put(b, ", \"delist\": ");
	jb_str(b, bl ? bl->delist : NULL);
	jb_put(b, ", \"delay_s\": ");
	json_int(b, d->x[i].has_delay, d->x[i].delay);
	jb_put(b, "}");
}

static void json_check(struct jbuf *b, const struct report_check *c)
{
	if (!c) {
		jb_put(b, "null");
		return;
	}
	jb_put(b, "{\"ip\": ");
	jb_str(b, c->ip);
	jb_put(b, ", \"listed\": [");
	for (size_t i = 0; i < c->nhits; i++) {
		const struct report_hit *h = &c->hits[i];

		jb_put(b, i ? ", {\"list\": " : "{\"list\": ");
		jb_str(b, h->list);
		jb_put(b, ", \"zone\": ");
		jb_str(b, h->zone);
		jb_put(b, ", \"meaning\": ");
		jb_str(b, h->meaning);
		jb_put(b, ", \"codes\": [");
		for (size_t k = 0; k < h->ncodes; k++) {
			char ip[16];

			jb_put(b, k ? ", " : "");
			jb_str(b, code_str(h->codes[k], ip));
		}
		jb_put(b, "], \"meanings\": [");
		for (size_t k = 0; k < h->ncodes; k++) {
			jb_put(b, k ? ", " : "");
			jb_str(b, h->meanings[k]);
		}
		jb_put(b, "]");
		jb_put(b, ", \"txt\": ");
		jb_str(b, h->txt);
		jb_put(b, ", \"delist\": ");
		jb_str(b, h->delist);
		jb_put(b, "}");
	}
	jb_put(b, "], \"clean\": ");
	json_uint(b, c->nclean);
	jb_put(b, ", \"errors\": ");
	json_uint(b, c->nerror);
	jb_put(b, ", \"no_verdict\": [");
	for (size_t i = 0; c->errs && i < c->nerror; i++) {
		jb_put(b, i ? ", {\"zone\": " : "{\"zone\": ");
		jb_str(b, c->errs[i].zone);
		jb_put(b, ", \"error\": ");
		jb_str(b, c->errs[i].error);
		jb_put(b, "}");
	}
	jb_put(b, "]}");
}

static void json_item(struct jbuf *b, const struct report_item *it, int first)
{
	const struct diag *d = it->d;
	char t[40], sum[1024];

	jb_put(b, first ? "\n  {" : ",\n  {");
	jb_put(b, "\"file\": ");
	jb_str(b, it->file);
	jb_put(b, ", \"index\": ");
	json_uint(b, it->index);
	if (!d) {
		jb_put(b, ", \"kind\": null, \"error\": ");
		jb_str(b, it->error);
		jb_put(b, "}");
		return;
	}
	report_summary(d, sum, sizeof(sum));
	jb_put(b, ", \"kind\": \"");
	jb_put(b, dsn_kind_name(d->kind));
	jb_put(b, "\", \"summary\": ");
	jb_str(b, sum);
	jb_put(b, ", \"subject\": ");
	jb_str(b, nz(d->subject));
	jb_put(b, ", \"date\": ");
	jb_str(b, d->has_date ? iso_time(d->date, t, sizeof(t)) : NULL);
	jb_put(b, ", \"total_delay_s\": ");
	json_int(b, d->has_total, d->total_delay);
	jb_put(b, ", \"judged_ip\": ");
	jb_str(b, nz(d->judged_ip));
	jb_put(b, ", \"judged_from\": ");
	jb_str(b, d->judged_src);
	jb_put(b, ", \"sender_ips\": [");
	for (size_t i = 0; i < d->nips; i++) {
		if (i)
			jb_put(b, ", ");
		jb_str(b, d->sender_ips[i]);
	}
	jb_put(b, "], \"check\": ");
	json_check(b, it->chk);
	jb_put(b, ",\n   \"hops\": [");
	for (size_t i = 0; i < d->nhops; i++) {
		const struct rcvd_hop *h = &d->hops[i];

		jb_put(b, i ? ",\n    {\"from\": " : "\n    {\"from\": ");
		jb_str(b, nz(h->from));
		jb_put(b, ", \"by\": ");
		jb_str(b, nz(h->by));
		jb_put(b, ", \"with\": ");
		jb_str(b, nz(h->with));
		jb_put(b, ", \"ip\": ");
		jb_str(b, nz(h->ip));
		jb_put(b, ", \"time\": ");
		jb_str(b, h->has_t ? iso_time(h->t, t, sizeof(t)) : NULL);
		jb_put(b, ", \"delay_s\": ");
		json_int(b, h->has_delay, h->delay);
		jb_put(b, "}");
	}
	jb_put(b, "],\n   \"recipients\": [");
	for (size_t i = 0; i < d->dsn.n; i++) {
		if (i)
			jb_put(b, ",");
		json_recipient(b, d, i);
	}
	jb_put(b, "]}");
}

void report_json(FILE *f, const struct report_item *it, int first)
{
	struct jbuf *b = &jb_tls;

	b->n = 0;
	json_item(b, it, first);
	fwrite(b->s, 1, b->n, f);
}

void report_thread_cleanup(void)
{
	free(jb_tls.s);
	memset(&jb_tls, 0, sizeof(jb_tls));
}

/* ---- HTML ---- */

/* The first n bytes of s (or up to its end), entity-escaped. */
static void html_strn(FILE *f, const char *s, size_t n)
{
	for (; s && n && *s; s++, n--) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			fputc((unsigned char)*s < 32 ? ' ' : *s, f);
		}
	}
}

static void html_str(FILE *f, const char *s)
{
	html_strn(f, s, SIZE_MAX);
}

void report_html_begin(FILE *f)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>rblkit diagnose</title>\n<style>\n"
	      "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\n"
	      "section{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0}\n"
	      "h2{font-size:16px;margin:0 0 .5em}\n.sum{font-weight:600}\n"
	      "table{border-collapse:collapse;margin:.5em 0}\n"
	      "td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}\n"
	      ".skew{color:#b00}.hard{color:#b00}.permanent{color:#b00}.soft{color:#a60}\n"
	      "</style></head><body>\n<h1>rblkit diagnose</h1>\n", f);
}

void report_html_end(FILE *f)
{
	fputs("</body></html>\n", f);
}

/* x of time t on the axis [lo, hi] drawn from X0 over W pixels. */
#define SVG_X0 240
#define SVG_W 700
static double svg_x(int64_t t, int64_t lo, int64_t hi)
{
	return SVG_X0 + (hi > lo ? (double)(t - lo) * SVG_W / (double)(hi - lo) : 0);
}

/* A hop timeline: one row per hop (receiving host on the left), a bar
 * from the previous hop's time to this one's (the time the hop took),
 * red when it runs backwards (clock skew), the axis labelled with the
 * first and last times. */
static void html_svg(FILE *f, const struct diag *d)
{
	int64_t lo = 0, hi = 0, prev = 0;
	int any = 0, has_prev = 0;
	const int h = 56 + 22 * (int)d->nhops;
	char t1[40], t2[40];

	for (size_t i = 0; i < d->nhops; i++) {
		if (!d->hops[i].has_t)
			continue;
		if (!any || d->hops[i].t < lo)
			lo = d->hops[i].t;
		if (!any || d->hops[i].t > hi)
			hi = d->hops[i].t;
		any = 1;
	}
	if (!any)
		return;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"role=\"img\" aria-label=\"hop timeline\" font-family=\"sans-serif\">\n",
		SVG_X0 + SVG_W + 100, h);
	fprintf(f, "<line x1=\"%d\" y1=\"24\" x2=\"%d\" y2=\"24\" stroke=\"#888\"/>\n",
		SVG_X0, SVG_X0 + SVG_W);
	fprintf(f, "<text x=\"%d\" y=\"16\" font-size=\"11\">%s</text>\n", SVG_X0,
		iso_time(lo, t1, sizeof(t1)));
	fprintf(f, "<text x=\"%d\" y=\"16\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
		SVG_X0 + SVG_W, iso_time(hi, t2, sizeof(t2)));
	for (size_t i = 0; i < d->nhops; i++) {
		const struct rcvd_hop *hp = &d->hops[i];
		int y = 46 + 22 * (int)i;
		char dur[48], name[40];

		snprintf(name, sizeof(name), "%.32s", hp->by[0] ? hp->by : "?");
		fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"12\">%zu ", y + 4, i + 1);
		html_str(f, name);
		fputs("</text>\n", f);
		if (!hp->has_t)
			continue;
		if (has_prev)
			fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
				"stroke=\"%s\" stroke-width=\"6\"/>\n", svg_x(prev, lo, hi), y,
				svg_x(hp->t, lo, hi), y, hp->t < prev ? "#b00" : "#9bd");
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%d\" r=\"5\" fill=\"%s\"/>\n",
			svg_x(hp->t, lo, hi), y, hp->has_delay && hp->delay < 0 ? "#b00" : "#36c");
		if (hp->has_delay)
			fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>\n",
				SVG_X0 + SVG_W + 8, y + 4,
				report_duration(hp->delay, dur, sizeof(dur)));
		prev = hp->t;
		has_prev = 1;
	}
	fputs("</svg>\n", f);
}

/* A URL worth a link: http or https, printable ASCII without blanks
 * or quotes (javascript:, data: and anything odd stay plain text). */
static int linkable(const char *u)
{
	if (strncmp(u, "https://", 8) && strncmp(u, "http://", 7))
		return 0;
	for (; *u; u++)
		if ((unsigned char)*u <= ' ' || (unsigned char)*u >= 127 || *u == '"' ||
		    *u == '\'' || *u == '<' || *u == '>' || *u == '`' || *u == '\\')
			return 0;
	return 1;
}

/* A delisting URL as a link (entity-escaped in the attribute and the
 * text; opened without a referrer or a window.opener), or as plain text
 * when it is not a web address. */
static void html_link(FILE *f, const char *url)
{
	if (!linkable(url)) {
		html_str(f, url);
		return;
	}
	fputs("<a href=\"", f);
	html_str(f, url);
	fputs("\" rel=\"noopener noreferrer nofollow\">", f);
	html_str(f, url);
	fputs("</a>", f);
}

/* The summary, its delisting URL (at the end) as a link. */
static void html_summary(FILE *f, const struct diag *d, const char *sum)
{
	const struct list *bl = d->kind == DSN_MESSAGE || !d->dsn.n ? NULL : d->x[0].bl;
	const char *at = bl && bl->delist ? strstr(sum, bl->delist) : NULL;

	if (!at) {
		html_str(f, sum);
		return;
	}
	html_strn(f, sum, (size_t)(at - sum));
	html_link(f, bl->delist);
	html_str(f, at + strlen(bl->delist));
}

static void html_check(FILE *f, const struct report_check *c)
{
	char ip[16];

	fputs("<p>check of ", f);
	html_str(f, c->ip);
	fprintf(f, ": listed on %zu, clean on %zu, %zu errors</p>\n", c->nhits, c->nclean,
		c->nerror);
	for (size_t i = 0; i < c->nhits; i++) {
		const struct report_hit *h = &c->hits[i];

		fputs("<p class=\"hard\">listed on ", f);
		html_str(f, h->list);
		for (size_t k = 0; k < h->ncodes; k++) {
			fprintf(f, "%s%s", k ? "; " : ": ", code_str(h->codes[k], ip));
			if (h->meanings[k]) {
				fputc(' ', f);
				html_str(f, h->meanings[k]);
			}
		}
		if (h->txt) {
			fputs(" &ldquo;", f);
			html_str(f, h->txt);
			fputs("&rdquo;", f);
		}
		if (h->delist) {
			fputs(" (removal: ", f);
			html_link(f, h->delist);
			fputs(")", f);
		}
		fputs("</p>\n", f);
	}
	for (size_t i = 0; c->errs && i < c->nerror; i++) {
		fputs("<p>no verdict from ", f);
		html_str(f, c->errs[i].zone);
		fputs(": ", f);
		html_str(f, c->errs[i].error);
		fputs("</p>\n", f);
	}
}

static void html_recipients(FILE *f, const struct diag *d)
{
	if (d->dsn.n) {
		fputs("<table><tr><th>recipient</th><th>reason</th><th>status</th><th>reply</th>"
		      "<th>remote MTA</th><th>command</th><th>blocklist</th><th>diagnostic</th></tr>\n", f);
		for (size_t i = 0; i < d->dsn.n; i++) {
			const struct dsn_rcpt *r = &d->dsn.r[i];
			const struct list *bl = d->x[i].bl;

			fputs("<tr><td>", f);
			html_str(f, r->recipient);
			fprintf(f, "</td><td class=\"%s\">%s</td><td>", severity(r), r->reason);
			html_str(f, r->status);
			fputs("</td><td>", f);
			html_str(f, r->reply);
			fputs("</td><td>", f);
			html_str(f, r->rhost);
			fputs("</td><td>", f);
			html_str(f, r->command);
			fputs("</td><td>", f);
			if (bl) {
				html_str(f, bl->name);
				if (bl->delist) {
					fputs(" (removal: ", f);
					html_link(f, bl->delist);
					fputs(")", f);
				}
			}
			fputs("</td><td>", f);
			html_str(f, r->diag);
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
}
}

static void html_hops(FILE *f, const struct diag *d)
{
	char t[40], dur[48];

	if (d->nhops) {
		fprintf(f, "<p>path: %zu %s", d->nhops, hops_word(d->nhops));
		if (d->has_total)
			fprintf(f, ", total %s", report_duration(d->total_delay, dur, sizeof(dur)));
		fputs("</p>\n", f);
		html_svg(f, d);
		fputs("<table><tr><th>#</th><th>time (UTC)</th><th>delay</th><th>from</th>"
		      "<th>IP</th><th>by</th><th>with</th></tr>\n", f);
		for (size_t i = 0; i < d->nhops; i++) {
			const struct rcvd_hop *h = &d->hops[i];

			fprintf(f, "<tr%s><td>%zu</td><td>%s</td><td%s>%s</td><td>",
				h->ip[0] && !strcmp(h->ip, d->judged_ip) ?
				" style=\"font-weight:600\"" : "", i + 1,
				h->has_t ? iso_time(h->t, t, sizeof(t)) : "",
				h->has_delay && h->delay < 0 ? " class=\"skew\"" : "",
				h->has_delay ? report_duration(h->delay, dur, sizeof(dur)) : "");
			html_str(f, h->from);
			fputs("</td><td>", f);
			html_str(f, h->ip);
			if (h->ip[0] && !strcmp(h->ip, d->judged_ip))
				fputs(" (judged)", f);
			fputs("</td><td>", f);
			html_str(f, h->by);
			fputs("</td><td>", f);
			html_str(f, h->with);
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
}
}

void report_html(FILE *f, const struct report_item *it)
{
	const struct diag *d = it->d;
	char buf[1024];

	fputs("<section><h2>", f);
	html_str(f, it->file);
	if (it->index > 1)
		fprintf(f, " #%u", it->index);
	fputs("</h2>\n", f);
	if (!d) {
		fputs("<p class=\"hard\">error: ", f);
		html_str(f, it->error);
		fputs("</p></section>\n", f);
		return;
	}
	report_summary(d, buf, sizeof(buf));
	fputs("<p class=\"sum\">", f);
	html_summary(f, d, buf);
	fprintf(f, "</p>\n<p>kind: %s", dsn_kind_name(d->kind));
	if (d->subject[0]) {
		fputs(" &middot; subject: ", f);
		html_str(f, d->subject);
	}
	fputs("</p>\n", f);
	html_recipients(f, d);
	if (d->judged_ip[0]) {
		fputs("<p>address receivers judge: ", f);
		html_str(f, d->judged_ip);
		fprintf(f, " (%s)</p>\n", !strcmp(d->judged_src, "rejection") ?
			"named in the rejection" : "first hop outside the sender's servers");
	}
	if (it->chk)
		html_check(f, it->chk);
	html_hops(f, d);
	fputs("</section>\n", f);
}
