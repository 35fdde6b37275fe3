/*
 * report.c - text, JSON and HTML output of a diagnosis; see report.h.
 *
 * SECURITY: untrusted strings are escaped for each format: JSON escapes
 * and U+FFFD for bytes that are not UTF-8; HTML entities; text with
 * control characters blanked.
 */
#include "mail/report.h"
#include "mail/lang.h"
#include "dnsbl/catalog.h"
#include "base/fmt.h"
#include "base/json.h"
#include "base/util.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* fmt_vsnprintf(), 0 on an error (an output too long for an int). */
static int fmt_lang(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n = fmt_vsnprintf(buf, len, fmt, ap);

	return n < 0 ? 0 : n;
}

/* snprintf of the catalogue's format id in lang: the formats are not
 * literals, the unit test of lang.c checks their arguments. */
static int lfmt(char *buf, size_t len, enum lang l, enum lang_msg id, ...)
{
	va_list ap;
	int n;

	va_start(ap, id);
	n = fmt_lang(buf, len, lang_msg(l, id), ap);
	va_end(ap);
	return n;
}

/* fprintf of the catalogue's format id in lang. */
static void lprintf(FILE *f, enum lang l, enum lang_msg id, ...)
{
	va_list ap;

	va_start(ap, id);
	fmt_vfprintf(f, lang_msg(l, id), ap);
	va_end(ap);
}

/* The catalogue's format id in lang, filled in and entity-escaped. */
static void html_str(FILE *f, const char *s);
static void lprintf_html(FILE *f, enum lang l, enum lang_msg id, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, id);
	fmt_lang(buf, sizeof(buf), lang_msg(l, id), ap);
	va_end(ap);
	html_str(f, buf);
}

/* report_duration() in lang. */
static const char *duration(enum lang l, int64_t s, char *buf, size_t len)
{
	const char *sign = s < 0 ? "-" : "";
	unsigned long long a = s < 0 ? (unsigned long long)-(s + 1) + 1 : (unsigned long long)s;

	if (a >= 86400)
		lfmt(buf, len, l, L_DUR_DH, sign, a / 86400, a % 86400 / 3600);
	else if (a >= 3600)
		lfmt(buf, len, l, L_DUR_HM, sign, a / 3600, a % 3600 / 60);
	else if (a >= 60)
		lfmt(buf, len, l, L_DUR_MS, sign, a / 60, a % 60);
	else
		lfmt(buf, len, l, L_DUR_S, sign, a);
	return buf;
}

const char *report_duration(int64_t s, char *buf, size_t len)
{
	return duration(LANG_EN, s, buf, len);
}

/* v (0 to 99) as two digits at o; returns the end. */
static char *digits2(char *o, int v)
{
	o[0] = (char)('0' + v / 10);
	o[1] = (char)('0' + v % 10);
	return o + 2;
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
		char *o = buf;

		o = digits2(o, (int)(y / 100));
		o = digits2(o, (int)(y % 100));
		*o++ = '-';
		o = digits2(o, (int)m);
		*o++ = '-';
		o = digits2(o, (int)d);
		*o++ = 'T';
		o = digits2(o, (int)(secs / 3600));
		*o++ = ':';
		o = digits2(o, (int)(secs / 60 % 60));
		*o++ = ':';
		o = digits2(o, (int)(secs % 60));
		*o++ = 'Z';
		*o = '\0';
		return buf;
	}
	/* other years as strftime() writes them */
	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

/* The reason of r in plain words (the word itself when the catalogue has
 * none).  "expired" in a report that still retries is no giving up. */
static const char *explain(enum lang l, const struct dsn_rcpt *r)
{
	const char *w = lang_reason(l, r->reason);

	if (!strcmp(r->reason, "expired") && !strcmp(r->action, "delayed"))
		return lang_msg(l, L_R_STILL_RETRYING);
	return w ? w : r->reason;
}

/* Text after the codes at the start of the diagnostic, first words only. */
static void snippet(const char *diag, const char *reply, const char *status,
		    char *out, size_t len)
{
	const char *p = diag;
	size_t n, all, o = 0;

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
	n = all = strlen(p);
	if (n > 60) {
		n = 60;
		while (n > 30 && p[n] != ' ')
			n--;
		/* no blank to cut at (Japanese has none): not inside a character */
		while (n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80)
			n--;
	}
	/* snprintf(out, len, "%.*s%s", n, p, "..." if cut) without printf */
	if (len) {
		o = n < len - 1 ? n : len - 1;
		memcpy(out, p, o);
		if (all > n) {
			size_t d = len - 1 - o < 3 ? len - 1 - o : 3;

			memcpy(out + o, "...", d);
			o += d;
		}
		out[o] = '\0';
	}
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
static const char *hops_word(enum lang l, size_t n)
{
	return lang_msg(l, n == 1 ? L_HOP : L_HOPS);
}

/* sisimai's internal codes (x.0.9xx) mean nothing to a reader. */
static int pseudo_status(const char *st)
{
	return strlen(st) == 7 && !strncmp(st + 1, ".0.9", 4);
}

/* The summary of a message that names no recipient. */
static void summary_message(const struct diag *d, enum lang l, char *buf, size_t len)
{
	char dur[48];
	size_t o;

	o = (size_t)lfmt(buf, len, l, L_SUM_HOPS,
			 lang_msg(l, d->kind == DSN_BOUNCE ? L_SUM_NO_RCPT : L_SUM_MESSAGE),
			 d->nhops, hops_word(l, d->nhops));
	if (o < len && d->has_total)
		o += (size_t)lfmt(buf + o, len - o, l, L_SUM_IN,
				  duration(l, d->total_delay, dur, sizeof(dur)));
	if (o < len && d->judged_ip[0])
		lfmt(buf + o, len - o, l, L_SUM_JUDGE, d->judged_ip);
}

void report_summary_lang(const struct diag *d, enum lang l, char *buf, size_t len)
{
	char dur[48], snip[80];
	const struct dsn_rcpt *r;
	const struct list *bl;
	size_t o;

	if (d->kind == DSN_MESSAGE || d->dsn.n == 0) {
		summary_message(d, l, buf, len);
		utf8_cut_tail(buf, len);
		return;
	}
	r = &d->dsn.r[0];
	bl = d->x[0].bl;
	if (d->kind == DSN_FEEDBACK) {
		lfmt(buf, len, l, L_SUM_FEEDBACK, r->recipient,
		     d->dsn.n > 1 ? lang_msg(l, L_SUM_AND_OTHERS) : "");
		utf8_cut_tail(buf, len);
		return;
	}
	if (d->kind == DSN_AUTOREPLY) {
		lfmt(buf, len, l, L_SUM_AUTOREPLY, r->recipient);
		utf8_cut_tail(buf, len);
		return;
	}
	snippet(r->diag, r->reply, r->status, snip, sizeof(snip));
	str_copy(buf, len, lang_msg(l, !strcmp(r->reason, "delivered") ? L_SUM_DELIVERED :
				    r->temporary ? L_SUM_DEFERRED : L_SUM_REJECTED));
	o = strlen(buf);
	if (o < len && r->rhost[0])
		o += (size_t)lfmt(buf + o, len - o, l, L_SUM_BY, r->rhost);
	if (o < len && d->x[0].has_delay && d->x[0].delay >= 60)
		o += (size_t)lfmt(buf + o, len - o, l, L_SUM_FOR,
				  duration(l, d->x[0].delay, dur, sizeof(dur)));
	if (o < len && bl)
		o += (size_t)lfmt(buf + o, len - o, l,
				  !strcmp(r->reason, "spamdetected") ? L_SUM_LISTED_CONTENT :
				  L_SUM_LISTED_IP, bl->name);
	else if (o < len && !strcmp(r->reason, "delivered"))
		o += (size_t)lfmt(buf + o, len - o, l, L_SUM_DELIVERED_TO, r->recipient);
	else if (o < len)
		o += (size_t)lfmt(buf + o, len - o, l, L_SUM_EXPLAIN, explain(l, r));
	if (o < len && (r->reply[0] || (r->status[0] && !pseudo_status(r->status)))) {
		const char *st = pseudo_status(r->status) ? "" : r->status;

		o += (size_t)lfmt(buf + o, len - o, l, L_SUM_CODES, r->reply,
				  r->reply[0] && st[0] ? " " : "", st, snip[0] ? " " : "", snip);
	}
	if (o < len && bl && bl->delist)
		o += (size_t)lfmt(buf + o, len - o, l, L_SUM_REMOVAL, bl->delist);
	if (o < len && d->dsn.n > 1)
		lfmt(buf + o, len - o, l, d->dsn.n > 2 ? L_SUM_MORE : L_SUM_MORE1, d->dsn.n - 1);
	utf8_cut_tail(buf, len);
}

void report_summary(const struct diag *d, char *buf, size_t len)
{
	report_summary_lang(d, LANG_EN, buf, len);
}

/* How final a failure is: "hard" (the address itself will never work:
 * the JSON "hard"), "permanent" (a 5xx refusal that is not about the
 * address: a block, a filter, a full mailbox; the same mail sent again
 * fails again), "soft" (temporary: 4xx, delayed). */
static const char *severity(const struct dsn_rcpt *r)
{
	return r->hard ? "hard" : r->temporary ? "soft" : "permanent";
}

/* The same word in the catalogue. */
static enum lang_msg severity_id(const struct dsn_rcpt *r)
{
	return r->hard ? L_HARD : r->temporary ? L_SOFT : L_PERMANENT;
}

/* ---- text ---- */

/* A byte text_str() writes as it is (0xc2 may begin a C1 control). */
static int text_plain(unsigned char c)
{
	return c >= ' ' && c != 127 && c != 0xc2;
}

/* Mail text for a terminal: C0 controls, DEL and the C1 controls in
 * UTF-8 (U+0080..U+009F; U+009B is CSI) become blanks. */
static void text_str(FILE *f, const char *s)
{
	const char *run = s;	/* bytes that go out as they are */

	if (!s)
		return;
	for (;;) {
		unsigned char c;

		while (text_plain((unsigned char)*s))
			s++;
		c = (unsigned char)*s;
		if (c == 0xc2 && ((unsigned char)s[1] < 0x80 || (unsigned char)s[1] > 0x9f)) {
			s++;	/* U+00A0 and up: not a control */
			continue;
		}
		if (s > run)
			fwrite(run, 1, (size_t)(s - run), f);
		if (!c)
			return;
		fputc(' ', f);
		s += c == 0xc2 ? 2 : 1;
		run = s;
	}
}

/* A blocklist's answer (an A record, host order) as text, into ip. */
static const char *code_str(uint32_t a, char ip[16])
{
	fmt_snprintf(ip, 16, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
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
				fmt_fprintf(f, "%s%s", n++ ? ", " : "", c->errs[k].zone);
		fputs(")\n", f);
	}
}

static void text_check(FILE *f, const struct report_check *c)
{
	char ip[16];

	fmt_fprintf(f, "  check of %s: listed on %zu list%s, clean on %zu, %zu error%s\n",
		c->ip, c->nhits, c->nhits == 1 ? "" : "s", c->nclean, c->nerror,
		c->nerror == 1 ? "" : "s");
	for (size_t i = 0; i < c->nhits; i++) {
		const struct report_hit *h = &c->hits[i];

		fmt_fprintf(f, "    listed on %s (%s)", h->list, h->zone);
		for (size_t k = 0; k < h->ncodes; k++) {
			fmt_fprintf(f, "%s%s", k ? "; " : ": ", code_str(h->codes[k], ip));
			if (h->meanings[k]) {
				fputc(' ', f);
				text_str(f, h->meanings[k]);
			}
		}
		if (h->txt) {
			fmt_fprintf(f, " \"");
			text_str(f, h->txt);
			fputc('"', f);
		}
		if (h->delist)
			fmt_fprintf(f, "  removal: %s", h->delist);
		fputc('\n', f);
	}
	text_check_errors(f, c);
}

/* "FILE[ #N]: error: WHY" and a newline: an input that gave no report. */
static void error_line(FILE *f, const struct report_item *it)
{
	text_str(f, it->file);
	if (it->index > 1)
		fmt_fprintf(f, " #%u", it->index);
	lprintf(f, it->lang, L_T_ERROR, it->error);
}

/* What to do next, in a few steps (NEXT_MAX at most). */
#define NEXT_MAX 4
struct next {
	char step[NEXT_MAX][600];
	int n;
};

/* The step for a reason that names no blocklist (L_NMSG: none). */
static enum lang_msg next_for_reason(const struct dsn_rcpt *r)
{
	static const struct { const char *reason; enum lang_msg id; } steps[] = {
		{ "userunknown", L_NEXT_USERUNKNOWN }, { "hostunknown", L_NEXT_HOSTUNKNOWN },
		{ "notaccept", L_NEXT_HOSTUNKNOWN }, { "mailboxfull", L_NEXT_MAILBOXFULL },
		{ "mesgtoobig", L_NEXT_MESGTOOBIG }, { "exceedlimit", L_NEXT_MESGTOOBIG },
		{ "spamdetected", L_NEXT_CONTENT }, { "contenterror", L_NEXT_CONTENT },
		{ "policyviolation", L_NEXT_CONTENT }, { "virusdetected", L_NEXT_CONTENT },
		{ "notcompliantrfc", L_NEXT_CONTENT }, { "filtered", L_NEXT_CONTENT },
		{ "authfailure", L_NEXT_AUTH }, { "requireptr", L_NEXT_PTR },
		{ "blocked", L_NEXT_BLOCKED }, { "badreputation", L_NEXT_BLOCKED },
		{ "securityerror", L_NEXT_BLOCKED }, { "rejected", L_NEXT_BLOCKED },
		{ "toomanyconn", L_NEXT_RATE }, { "speeding", L_NEXT_RATE },
		{ "networkerror", L_NEXT_NETWORK }, { "expired", L_NEXT_NETWORK },
		{ "delivered", L_NMSG }, { "feedback", L_NMSG }, { "vacation", L_NMSG },
	};

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (!strcmp(steps[i].reason, r->reason))
			return steps[i].id;
	return r->temporary ? L_NEXT_TEMPORARY : L_NEXT_ASK;
}

/* What to do next about the first recipient of a report: a listing
 * first (whose server, which list; stop the source, then the removal
 * link), else what the reason asks for; then how long the mail waited. */
static void next_steps(const struct diag *d, enum lang l, struct next *nx)
{
	const struct dsn_rcpt *r;
	const struct list *bl;
	enum lang_msg id;
	char dur[48];

	nx->n = 0;
	if (d->kind != DSN_BOUNCE || !d->dsn.n)
		return;
	r = &d->dsn.r[0];
	bl = d->x[0].bl;
	if (bl) {
		if (d->judged_ip[0])
			lfmt(nx->step[nx->n++], sizeof(nx->step[0]), l, L_NEXT_YOUR_SERVER,
			     d->judged_ip, bl->name);
		else
			lfmt(nx->step[nx->n++], sizeof(nx->step[0]), l, L_NEXT_LISTED, bl->name);
		str_copy(nx->step[nx->n++], sizeof(nx->step[0]), lang_msg(l, L_NEXT_STOP));
		if (bl->delist)
			lfmt(nx->step[nx->n++], sizeof(nx->step[0]), l, L_NEXT_REMOVAL, bl->delist);
		else
			lfmt(nx->step[nx->n++], sizeof(nx->step[0]), l, L_NEXT_REMOVAL_ASK,
			     bl->name);
	} else if ((id = next_for_reason(r)) != L_NMSG) {
		str_copy(nx->step[nx->n++], sizeof(nx->step[0]), lang_msg(l, id));
	}
	if (nx->n && d->x[0].has_delay && d->x[0].delay >= 60)
		lfmt(nx->step[nx->n++], sizeof(nx->step[0]), l,
		     r->temporary ? L_NEXT_RETRIED : L_NEXT_WAITED,
		     duration(l, d->x[0].delay, dur, sizeof(dur)));
}

/* "  next: A; B; C." and a newline, when there is something to do. */
static void text_next(FILE *f, const struct diag *d, enum lang l)
{
	struct next nx;

	next_steps(d, l, &nx);
	if (!nx.n)
		return;
	fputs(lang_msg(l, L_T_NEXT), f);
	for (int i = 0; i < nx.n; i++) {
		if (i)
			fputs(lang_msg(l, L_NEXT_SEP), f);
		text_str(f, nx.step[i]);
	}
	fputs(lang_msg(l, L_NEXT_END), f);
	fputc('\n', f);
}

static void text_recipient(FILE *f, const struct diag *d, size_t i, enum lang l)
{
	const struct dsn_rcpt *r = &d->dsn.r[i];
	const struct list *bl = d->x[i].bl;
	char dur[48];

	fputs(lang_msg(l, L_T_RECIPIENT), f);
	text_str(f, r->recipient);
	fputc('\n', f);
	lprintf(f, l, L_T_REASON, r->reason);
	if (strcmp(r->reason, "delivered") && strcmp(r->reason, "feedback") &&
	    strcmp(r->reason, "vacation"))
		fmt_fprintf(f, " (%s)", lang_msg(l, severity_id(r)));
	if (r->action[0]) {
		fputs(lang_msg(l, L_T_ACTION), f);
		text_str(f, r->action);	/* the mail's own Action: word */
	}
	fputc('\n', f);
	if (r->status[0] || r->reply[0])
		lprintf(f, l, L_T_STATUS, r->status[0] ? r->status : "-",
			r->reply[0] ? r->reply : "-");
	if (r->rhost[0]) {
		fputs(lang_msg(l, L_T_REMOTE), f);
		text_str(f, r->rhost);
		fputc('\n', f);
	}
	if (r->command[0])
		lprintf(f, l, L_T_COMMAND, r->command);
	if (d->x[i].has_delay)
		lprintf(f, l, L_T_QUEUE, duration(l, d->x[i].delay, dur, sizeof(dur)));
	if (bl) {
		lprintf(f, l, L_T_BLOCKLIST, bl->name);
		if (bl->delist)
			lprintf(f, l, L_T_REMOVAL, bl->delist);
		fputc('\n', f);
	}
	if (r->diag[0]) {
		fputs(lang_msg(l, L_T_DIAG), f);
		text_str(f, r->diag);
		fputc('\n', f);
	}
}

static void text_path(FILE *f, const struct diag *d, enum lang l)
{
	char t[40], dur[48];

	lprintf(f, l, L_T_PATH, d->nhops, hops_word(l, d->nhops),
		d->has_total ? lang_msg(l, L_T_PATH_TOTAL) : "",
		d->has_total ? duration(l, d->total_delay, dur, sizeof(dur)) : "");
	for (size_t i = 0; i < d->nhops; i++) {
		const struct rcvd_hop *h = &d->hops[i];

		fmt_fprintf(f, "   %2zu %s  %8s  ", i + 1,
			h->has_t ? iso_time(h->t, t, sizeof(t)) : lang_msg(l, L_T_NO_TIME),
			h->has_delay ? duration(l, h->delay, dur, sizeof(dur)) : "-");
		text_str(f, h->from[0] ? h->from : "?");
		if (h->ip[0])
			fmt_fprintf(f, " [%s]", h->ip);
		fmt_fprintf(f, " -> ");
		text_str(f, h->by[0] ? h->by : "?");
		if (h->with[0]) {
			fmt_fprintf(f, " with ");
			text_str(f, h->with);
		}
		if (h->ip[0] && !strcmp(h->ip, d->judged_ip))
			fputs(lang_msg(l, L_T_JUDGED_MARK), f);
		if (h->has_delay && h->delay < 0)
			fputs(lang_msg(l, L_T_SKEW), f);
		fputc('\n', f);
	}
}

void report_text(FILE *f, const struct report_item *it)
{
	const struct diag *d = it->d;
	enum lang l = it->lang;
	char buf[1024];

	if (!d) {
		error_line(f, it);
		fputc('\n', f);	/* a blank line ends every report */
		return;
	}
	report_summary_lang(d, l, buf, sizeof(buf));
	text_str(f, buf);
	fputc('\n', f);
	text_next(f, d, l);
	fputs(lang_msg(l, L_T_FILE), f);
	text_str(f, it->file);
	if (it->index > 1)
		lprintf(f, l, L_T_MESSAGE_N, it->index);
	fputc('\n', f);
	lprintf(f, l, L_T_KIND, dsn_kind_name(d->kind));
	if (d->subject[0]) {
		fputs(lang_msg(l, L_T_SUBJECT), f);
		text_str(f, d->subject);
		fputc('\n', f);
	}
	for (size_t i = 0; i < d->dsn.n; i++)
		text_recipient(f, d, i, l);
	if (d->judged_ip[0])
		lprintf(f, l, L_T_JUDGED, d->judged_ip,
			lang_msg(l, !strcmp(d->judged_src, "rejection") ? L_T_JUDGED_REJECTION :
				 L_T_JUDGED_PATH));
	if (it->chk)
		text_check(f, it->chk);
	if (d->nhops)
		text_path(f, d, l);
	fputc('\n', f);
}

void report_text_quiet(FILE *f, const struct report_item *it)
{
	char buf[1024];

	if (!it->d) {		/* one line, as every other -q line */
		error_line(f, it);
		return;
	}
	report_summary_lang(it->d, it->lang, buf, sizeof(buf));
	text_str(f, it->file);
	if (it->index > 1)
		fmt_fprintf(f, " #%u", it->index);	/* as an error line has it */
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

/* The buffer doubles, so that a message costs few reallocations. */
static void jb_grow(struct jbuf *b, size_t more)
{
	while (b->n + more > b->cap)
		b->cap = b->cap ? b->cap * 2 : 16384;
	b->s = xrealloc(b->s, b->cap);
}

/* Inline, as are the two below: a report is some hundred appends, most
 * of a literal whose length and copy the compiler then works out. */
static inline void jb_room(struct jbuf *b, size_t more)
{
	if (b->n + more > b->cap)
		jb_grow(b, more);
}

static inline void jb_putn(struct jbuf *b, const char *s, size_t n)
{
	jb_room(b, n);
	memcpy(b->s + b->n, s, n);
	b->n += n;
}

static inline void jb_put(struct jbuf *b, const char *s)
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

/* t as a JSON string (iso_time), null when !has.  Written without
 * jb_str(): iso_time() writes digits, '-', 'T', ':' and 'Z' only,
 * nothing to escape, and JSON has a time for every hop. */
static void json_time(struct jbuf *b, int has, int64_t t)
{
	char buf[40];
	size_t n;

	if (!has) {
		jb_putn(b, "null", 4);
		return;
	}
	n = strlen(iso_time(t, buf, sizeof(buf)));
	jb_room(b, n + 2);
	b->s[b->n++] = '"';
	memcpy(b->s + b->n, buf, n);
	b->n += n;
	b->s[b->n++] = '"';
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
	char sum[1024];

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
	json_time(b, d->has_date, d->date);
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
		json_time(b, h->has_t, h->t);
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

/* A byte that HTML text and attributes take as it is: not one of the
 * five with an entity, not a control byte (nor the NUL at the end).
 * Most bytes of mail (letters, UTF-8) are above '>', one comparison. */
static int html_plain(unsigned char c)
{
	return c > '>' || (c >= ' ' && c != '<' && c != '&' && c != '"' && c != '\'' &&
			   c != '>');
}

/* The first n bytes of s (or up to its end), entity-escaped. */
static void html_strn(FILE *f, const char *s, size_t n)
{
	if (!s)
		return;
	for (;;) {
		const char *run = s;	/* bytes that go out as they are */

		while (n && html_plain((unsigned char)*s)) {
			s++;
			n--;
		}
		if (s > run)
			fwrite(run, 1, (size_t)(s - run), f);
		if (!n || !*s)
			return;
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(' ', f);	/* a control byte */
		}
		s++;
		n--;
	}
}

static void html_str(FILE *f, const char *s)
{
	html_strn(f, s, SIZE_MAX);
}

void report_html_begin_lang(FILE *f, enum lang l)
{
	fmt_fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<title>", lang_name(l));
	html_str(f, lang_msg(l, L_H_TITLE));
	fputs("</title>\n<style>\n"
	      "body{font:14px/1.45 system-ui,\"Hiragino Sans\",\"Noto Sans CJK JP\",\"Yu Gothic\",Meiryo,sans-serif;margin:2em auto;padding:0 1em;"
	      "max-width:72em;color:#222}\n"
	      "section{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0;"
	      "overflow-wrap:anywhere}\n"
	      "h2{font-size:16px;margin:0 0 .5em}h3{font-size:14px;margin:1em 0 .3em}\n"
	      ".sum{font-weight:600}\n"
	      ".next{background:#fff8e1;border-left:4px solid #e0a000;padding:.4em 1em;"
	      "margin:.6em 0}\n.next h3{margin:.2em 0}.next ol{margin:.2em 0;padding-left:1.4em}\n"
	      "table{border-collapse:collapse;margin:.5em 0;width:100%;table-layout:fixed}\n"
	      "td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top;"
	      "overflow-wrap:anywhere;word-break:break-word}\n"
	      "col.w16{width:16%}col.w9{width:9%}col.w6{width:6%}col.w12{width:12%}"
	      "col.w7{width:7%}col.w15{width:15%}col.w29{width:29%}\n"
	      "ol.life{list-style:none;padding:0;margin:.3em 0;border-left:3px solid #9bd}\n"
	      "ol.life li{padding:1px 0 1px .8em;position:relative}\n"
	      "ol.life li::before{content:\"\";position:absolute;left:-7px;top:.5em;width:9px;"
	      "height:9px;border-radius:50%;background:#36c}\n"
	      "ol.life li.wait{color:#a60;font-weight:600}ol.life li.wait::before{background:#a60}\n"
	      "ol.life li.end::before{background:#b00}ol.life .t{color:#555;"
	      "font-variant-numeric:tabular-nums;margin-right:.6em}\n"
	      "svg{max-width:100%;height:auto}\n"
	      ".skew{color:#b00}.hard{color:#b00}.permanent{color:#b00}.soft{color:#a60}\n"
	      "@media print{body{margin:0;max-width:none;font-size:10pt;color:#000}"
	      "section{break-inside:avoid-page;border:0;border-top:1px solid #888;"
	      "border-radius:0;padding:.5em 0}"
	      ".next{background:none;border-left:3px solid #000}a{color:#000}"
	      "svg{display:none}}\n"
	      "</style></head><body>\n<h1>", f);
	html_str(f, lang_msg(l, L_H_TITLE));
	fputs("</h1>\n", f);
}

void report_html_begin(FILE *f)
{
	report_html_begin_lang(f, LANG_EN);
}

void report_html_end(FILE *f)
{
	fputs("</body></html>\n", f);
}

/* One event of a message's life: its time (has_t) and what happened. */
struct event {
	int64_t t;
	int has_t;
	int wait;		/* a time in the queue, not an instant */
	int end;		/* the refusal or the report */
	char what[400];
};

#define EVENTS_MAX (RCVD_MAX_HOPS + 6)

/* Has the report the original message's path (not only its own)? */
static int own_path(const struct diag *d)
{
	return d->kind == DSN_BOUNCE && !(d->dsn.orig && d->dsn.om.nf > 0);
}

static struct event *event_add(struct event *ev, size_t *n, int has_t, int64_t t)
{
	struct event *e = &ev[*n];

	memset(e, 0, sizeof(*e));
	e->has_t = has_t;
	e->t = t;
	(*n)++;
	return e;
}

/* The life of the message, in order: written (the original's Date:),
 * each hop, arrival at the reporting server, the time in the queue, the
 * last attempt and the refusal, the report.  Returns the number. */
static size_t life(const struct diag *d, enum lang l, struct event *ev)
{
	const struct msg *om = d->dsn.orig && d->dsn.om.nf > 0 ? &d->dsn.om : NULL;
	const char *date = om ? msg_get(om, "Date") : NULL;
	const struct dsn_rcpt *r = d->dsn.n ? &d->dsn.r[0] : NULL;
	int64_t t;
	size_t n = 0;
	char dur[48];
	struct event *e;

	if (date && rcvd_parse_date(date, &t) == 0)
		str_copy(event_add(ev, &n, 1, t)->what, sizeof(ev[0].what),
			 lang_msg(l, L_H_WRITTEN));
	else if (d->kind == DSN_MESSAGE && d->has_date)
		str_copy(event_add(ev, &n, 1, d->date)->what, sizeof(ev[0].what),
			 lang_msg(l, L_H_WRITTEN));
	for (size_t i = 0; i < d->nhops && !own_path(d); i++) {
		const struct rcvd_hop *h = &d->hops[i];

		lfmt(event_add(ev, &n, h->has_t, h->t)->what, sizeof(ev[0].what), l, L_H_HOP,
		     i + 1, h->by[0] ? h->by : "?");
	}
	if (d->kind != DSN_BOUNCE || !r)
		return n;
	if (d->dsn.has_arrival)
		str_copy(event_add(ev, &n, 1, d->dsn.arrival)->what, sizeof(ev[0].what),
			 lang_msg(l, L_H_ARRIVED));
	if (d->x[0].has_delay) {
		e = event_add(ev, &n, 0, 0);
		e->wait = 1;
		lfmt(e->what, sizeof(e->what), l, L_H_QUEUE,
		     duration(l, d->x[0].delay, dur, sizeof(dur)));
	}
	if (d->dsn.attempts > 0)
		lfmt(event_add(ev, &n, 0, 0)->what, sizeof(ev[0].what), l, L_H_ATTEMPTS,
		     d->dsn.attempts);
	if (r->has_last_attempt)
		str_copy(event_add(ev, &n, 1, r->last_attempt)->what, sizeof(ev[0].what),
			 lang_msg(l, L_H_LAST_ATTEMPT));
	if (strcmp(r->reason, "delivered")) {
		e = event_add(ev, &n, 0, 0);
		e->end = 1;
		lfmt(e->what, sizeof(e->what), l, r->temporary ? L_H_DEFERRED : L_H_REFUSED,
		     r->rhost[0] ? r->rhost : "?");
		if (r->status[0] || r->reply[0]) {
			size_t o = strlen(e->what);

			fmt_snprintf(e->what + o, sizeof(e->what) - o, " (%s%s%s)", r->reply,
				     r->reply[0] && r->status[0] ? " " : "", r->status);
		}
	}
	if (d->has_date) {
		e = event_add(ev, &n, 1, d->date);
		e->end = 1;
		str_copy(e->what, sizeof(e->what), lang_msg(l, L_H_REPORT));
	}
	return n;
}

/* x of time t on the axis [lo, hi] drawn from X0 over W pixels. */
#define SVG_X0 20
#define SVG_W 900
static double svg_x(int64_t t, int64_t lo, int64_t hi)
{
	return SVG_X0 + (hi > lo ? (double)(t - lo) * SVG_W / (double)(hi - lo) : 0);
}

/* The life on one axis (scaled to the page: a viewBox, no fixed width):
 * a dot per timed event, a bar between consecutive ones (red when time
 * runs backwards: clock skew), the first and last times at the ends. */
static void html_svg(FILE *f, const struct event *ev, size_t n)
{
	int64_t lo = 0, hi = 0, prev = 0;
	int any = 0, has_prev = 0;
	char t1[40], t2[40];

	for (size_t i = 0; i < n; i++) {
		if (!ev[i].has_t)
			continue;
		if (!any || ev[i].t < lo)
			lo = ev[i].t;
		if (!any || ev[i].t > hi)
			hi = ev[i].t;
		any = 1;
	}
	if (!any)
		return;
	fmt_fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d 56\" "
		"width=\"%d\" role=\"img\" aria-label=\"timeline\" font-family=\"sans-serif\">\n",
		SVG_X0 * 2 + SVG_W, SVG_X0 * 2 + SVG_W);
	fmt_fprintf(f, "<line x1=\"%d\" y1=\"36\" x2=\"%d\" y2=\"36\" stroke=\"#888\"/>\n",
		SVG_X0, SVG_X0 + SVG_W);
	fmt_fprintf(f, "<text x=\"%d\" y=\"14\" font-size=\"12\">%s</text>\n", SVG_X0,
		iso_time(lo, t1, sizeof(t1)));
	fmt_fprintf(f, "<text x=\"%d\" y=\"14\" font-size=\"12\" text-anchor=\"end\">%s</text>\n",
		SVG_X0 + SVG_W, iso_time(hi, t2, sizeof(t2)));
	for (size_t i = 0; i < n; i++) {
		if (!ev[i].has_t)
			continue;
		if (has_prev)
			fmt_fprintf(f, "<line x1=\"%.1f\" y1=\"36\" x2=\"%.1f\" y2=\"36\" "
				"stroke=\"%s\" stroke-width=\"6\"/>\n", svg_x(prev, lo, hi),
				svg_x(ev[i].t, lo, hi), ev[i].t < prev ? "#b00" : "#9bd");
		fmt_fprintf(f, "<circle cx=\"%.1f\" cy=\"36\" r=\"5\" fill=\"%s\"/>\n",
			svg_x(ev[i].t, lo, hi), ev[i].end ? "#b00" : "#36c");
		prev = ev[i].t;
		has_prev = 1;
	}
	fputs("</svg>\n", f);
}

/* The timeline: the axis, then the events in order, each with its time
 * and the time since the event before (signed: clock skew shows). */
static void html_life(FILE *f, const struct diag *d, enum lang l)
{
	struct event ev[EVENTS_MAX];
	size_t n = life(d, l, ev);
	int64_t prev = 0;
	int has_prev = 0;
	char t[40], dur[48];

	if (!n)
		return;
	fputs("<h3>", f);
	html_str(f, lang_msg(l, L_H_TIMELINE));
	fputs("</h3>\n", f);
	html_svg(f, ev, n);
	fputs("<ol class=\"life\">\n", f);
	for (size_t i = 0; i < n; i++) {
		fmt_fprintf(f, "<li%s>", ev[i].wait ? " class=\"wait\"" : ev[i].end ? " class=\"end\"" : "");
		if (ev[i].has_t) {
			fmt_fprintf(f, "<span class=\"t\">%s", iso_time(ev[i].t, t, sizeof(t)));
			if (has_prev)
				fmt_fprintf(f, " (%s%s)", ev[i].t >= prev ? "+" : "",
					duration(l, ev[i].t - prev, dur, sizeof(dur)));
			fputs("</span>", f);
			prev = ev[i].t;
			has_prev = 1;
		}
		html_str(f, ev[i].what);
		fputs("</li>\n", f);
	}
	fputs("</ol>\n", f);
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
	fmt_fprintf(f, ": listed on %zu, clean on %zu, %zu errors</p>\n", c->nhits, c->nclean,
		c->nerror);
	for (size_t i = 0; i < c->nhits; i++) {
		const struct report_hit *h = &c->hits[i];

		fputs("<p class=\"hard\">listed on ", f);
		html_str(f, h->list);
		for (size_t k = 0; k < h->ncodes; k++) {
			fmt_fprintf(f, "%s%s", k ? "; " : ": ", code_str(h->codes[k], ip));
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

/* A table head: the catalogue's words for ids. */
static void html_head(FILE *f, enum lang l, const enum lang_msg *ids, size_t n)
{
	fputs("<tr>", f);
	for (size_t i = 0; i < n; i++) {
		fputs("<th>", f);
		html_str(f, lang_msg(l, ids[i]));
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
}

static void html_recipients(FILE *f, const struct diag *d, enum lang l)
{
	static const enum lang_msg th[] = {
		L_H_TH_RECIPIENT, L_H_TH_REASON, L_H_TH_STATUS, L_H_TH_REPLY, L_H_TH_REMOTE,
		L_H_TH_COMMAND, L_H_TH_BLOCKLIST, L_H_TH_DIAG,
	};

	if (!d->dsn.n)
		return;
	fputs("<h3>", f);
	html_str(f, lang_msg(l, L_H_RECIPIENTS));
	fputs("</h3>\n<table><colgroup><col class=\"w16\"><col class=\"w9\"><col class=\"w6\">"
	      "<col class=\"w6\"><col class=\"w12\"><col class=\"w7\"><col class=\"w15\">"
	      "<col class=\"w29\"></colgroup>\n", f);
	html_head(f, l, th, ARRAY_SIZE(th));
	for (size_t i = 0; i < d->dsn.n; i++) {
		const struct dsn_rcpt *r = &d->dsn.r[i];
		const struct list *bl = d->x[i].bl;

		fputs("<tr><td>", f);
		html_str(f, r->recipient);
		fmt_fprintf(f, "</td><td class=\"%s\">%s</td><td>", severity(r), r->reason);
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
				fputs(" (", f);
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

static void html_hops(FILE *f, const struct diag *d, enum lang l)
{
	static const enum lang_msg th[] = {
		L_H_TH_TIME, L_H_TH_DELAY, L_H_TH_FROM, L_H_TH_IP, L_H_TH_BY, L_H_TH_WITH,
	};
	char t[40], dur[48];

	if (!d->nhops)
		return;
	fputs("<h3>", f);
	lprintf_html(f, l, L_H_PATH, d->nhops, hops_word(l, d->nhops));
	if (d->has_total) {
		html_str(f, lang_msg(l, L_T_PATH_TOTAL));
		html_str(f, duration(l, d->total_delay, dur, sizeof(dur)));
	}
	fputs("</h3>\n<table><colgroup><col style=\"width:2.5em\"><col style=\"width:11em\">"
	      "<col style=\"width:7em\"><col><col style=\"width:10em\"><col><col></colgroup>\n"
	      "<tr><th>#</th>", f);
	for (size_t i = 0; i < ARRAY_SIZE(th); i++) {
		fputs("<th>", f);
		html_str(f, lang_msg(l, th[i]));
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	for (size_t i = 0; i < d->nhops; i++) {
		const struct rcvd_hop *h = &d->hops[i];

		fmt_fprintf(f, "<tr%s><td>%zu</td><td>%s</td><td%s>",
			h->ip[0] && !strcmp(h->ip, d->judged_ip) ? " style=\"font-weight:600\"" : "",
			i + 1, h->has_t ? iso_time(h->t, t, sizeof(t)) : "",
			h->has_delay && h->delay < 0 ? " class=\"skew\"" : "");
		if (h->has_delay)
			html_str(f, duration(l, h->delay, dur, sizeof(dur)));
		fputs("</td><td>", f);
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

/* What to do next, first in a report: the steps as a list, a removal
 * URL of the catalogue as a link. */
static void html_next(FILE *f, const struct diag *d, enum lang l)
{
	struct next nx;
	const struct list *bl = d->dsn.n ? d->x[0].bl : NULL;

	next_steps(d, l, &nx);
	if (!nx.n)
		return;
	fputs("<div class=\"next\"><h3>", f);
	html_str(f, lang_msg(l, L_H_NEXT));
	fputs("</h3><ol>\n", f);
	for (int i = 0; i < nx.n; i++) {
		const char *at = bl && bl->delist ? strstr(nx.step[i], bl->delist) : NULL;

		fputs("<li>", f);
		if (at) {
			html_strn(f, nx.step[i], (size_t)(at - nx.step[i]));
			html_link(f, bl->delist);
			html_str(f, at + strlen(bl->delist));
		} else {
			html_str(f, nx.step[i]);
		}
		fputs("</li>\n", f);
	}
	fputs("</ol></div>\n", f);
}

void report_html(FILE *f, const struct report_item *it)
{
	const struct diag *d = it->d;
	enum lang l = it->lang;
	char buf[1024];

	fputs("<section><h2>", f);
	html_str(f, it->file);
	if (it->index > 1)
		fmt_fprintf(f, " #%u", it->index);
	fputs("</h2>\n", f);
	if (!d) {
		fputs("<p class=\"hard\">error: ", f);
		html_str(f, it->error);
		fputs("</p></section>\n", f);
		return;
	}
	/* the story at a glance: what happened, what to do, when */
	report_summary_lang(d, l, buf, sizeof(buf));
	fputs("<p class=\"sum\">", f);
	html_summary(f, d, buf);
	fputs("</p>\n", f);
	html_next(f, d, l);
	html_life(f, d, l);
	html_recipients(f, d, l);
	if (d->judged_ip[0]) {
		fputs("<p>", f);
		html_str(f, lang_msg(l, L_H_JUDGED));
		html_str(f, d->judged_ip);
		fputs(" (", f);
		html_str(f, lang_msg(l, !strcmp(d->judged_src, "rejection") ? L_T_JUDGED_REJECTION :
				       L_T_JUDGED_PATH));
		fputs(")</p>\n", f);
	}
	if (it->chk)
		html_check(f, it->chk);
	html_hops(f, d, l);
	fputs("<p><small>", f);
	lprintf_html(f, l, L_H_KIND, dsn_kind_name(d->kind));
	if (d->subject[0]) {
		fputs(" &middot; ", f);
		html_str(f, lang_msg(l, L_H_SUBJECT));
		html_str(f, d->subject);
	}
	fputs("</small></p>\n</section>\n", f);
}
