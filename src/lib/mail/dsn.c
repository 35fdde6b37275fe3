/*
 * dsn.c - delivery reports of every shape into per-recipient records;
 * see dsn.h.
 *
 * SECURITY: untrusted input; lines are scanned within the part lengths,
 * copies are bounded by the fixed buffers of struct dsn_rcpt, and the
 * number of recipients by DSN_MAX_RCPT.
 */
#define _GNU_SOURCE
#include "mail/dsn.h"
#include "mail/ses.h"
#include "mail/smtp.h"
#include "mail/reason.h"
#include "mail/rhost.h"
#include "mail/received.h"
#include "base/util.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HUMAN_MAX (256u << 10)	/* text of the report we scan */

const char *dsn_kind_name(enum dsn_kind k)
{
	switch (k) {
	case DSN_BOUNCE: return "bounce";
	case DSN_FEEDBACK: return "feedback";
	case DSN_AUTOREPLY: return "autoreply";
	default: return "message";
	}
}

static void copy_cut(char *dst, size_t dlen, const char *src, size_t n)
{
	if (n >= dlen)
		n = dlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Is field f named n (a string literal), whatever the case?  The length
 * rules out most names without a call. */
#define NAMED(f, n) ((f)->nlen == sizeof(n) - 1 && !strcasecmp((f)->name, n))

/* dsn_append() to dst, whose length o is known; returns the new one. */
static size_t append_at(char *dst, size_t o, size_t dlen, const char *src, size_t n)
{
	if (o + 1 >= dlen)
		return o;	/* full */
	if (o && dst[o - 1] != ' ')
		dst[o++] = ' ';

	for (const unsigned char *s = (const unsigned char *)src, *end = s + n;
	     s < end && o + 1 < dlen;) {
		/* a byte in gives at most one out: this many fit for sure */
		size_t room = dlen - 1 - o;
		const unsigned char *e = (size_t)(end - s) < room ? end : s + room;

		for (; s < e; s++) {
			/* most bytes are copied as they are; a blank or a
			 * control byte is one blank, never two and never the
			 * first */
			if (*s > ' ' && *s != 127)
				dst[o++] = (char)*s;
			else if (o && dst[o - 1] != ' ')
				dst[o++] = ' ';
		}
	}
	dst[o] = '\0';
	while (o && dst[o - 1] == ' ')
		dst[--o] = '\0';
	return o;
}

/* Append text to a one-line buffer, a blank between it and what is there
 * already: blanks squeezed, control bytes out. */
void dsn_append(char *dst, size_t dlen, const char *src, size_t n)
{
	append_at(dst, strlen(dst), dlen, src, n);
}

static int local_char(unsigned char c)
{
	return isalnum(c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static int domain_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* First address in [p, p+n): start offset and length, or -1. */
static int find_addr(const char *p, size_t n, size_t *as, size_t *al)
{
	for (size_t i = 0; i < n; i++) {
		const char *at = memchr(p + i, '@', n - i);
		size_t s, e;

		if (!at)
			break;
		i = (size_t)(at - p);
		s = i;
		e = i + 1;
		while (s > 0 && local_char((unsigned char)p[s - 1]))
			s--;
		while (e < n && domain_char((unsigned char)p[e]))
			e++;
		while (e > i + 1 && (p[e - 1] == '.' || p[e - 1] == '-'))
			e--;
		/* dots, and a quote that opens "'a@b'" or "`a@b'", start no
		 * address (legal as a local part's first letter, never seen) */
		while (s < i && (p[s] == '.' || p[s] == '\'' || p[s] == '`'))
			s++;
		if (s == i || e == i + 1 || !memchr(p + i + 1, '.', e - i - 1))
			continue;
		*as = s;
		*al = e - s;
		return 0;
	}
	return -1;
}

static void lower_str(char *s)
{
	ascii_lower_copy(s, s, strlen(s));
}

/* Exchange and Domino write a proxy address with its type, "SMTP=a@b"
 * (in a DSN field or in an X.400 O/R name in the text): the type is no
 * part of the address.  Moves the range past it. */
static void skip_proxy_type(const char *p, size_t *as, size_t *al)
{
	if (*al > 5 && !strncasecmp(p + *as, "SMTP=", 5)) {
		*as += 5;
		*al -= 5;
	}
}

/* An address taken from a field value ("rfc822; <a@b>"): 0 or -1. */
static int addr_of(const char *v, char *out, size_t len)
{
	size_t as, al;

	if (!v || find_addr(v, strlen(v), &as, &al))
		return -1;
	skip_proxy_type(v, &as, &al);
	copy_cut(out, len, v + as, al);
	return 0;
}

struct dsn_rcpt *dsn_add(struct dsn *d, size_t *cap, const char *addr)
{
	struct dsn_rcpt *r;

	for (size_t i = 0; addr && i < d->n; i++)
		if (!strcasecmp(d->r[i].recipient, addr))
			return &d->r[i];
	if (d->n >= DSN_MAX_RCPT)
		return NULL;
	if (d->n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		d->r = xreallocarray(d->r, *cap, sizeof(*d->r));
	}
	r = &d->r[d->n++];
	memset(r, 0, sizeof(*r));
	if (addr)
		copy_cut(r->recipient, sizeof(r->recipient), addr, strlen(addr));
	return r;
}

/* ---- RFC 3464 delivery-status fields ---- */

static void strip_type(const char *v, char *type, size_t tlen, const char **rest)
{
	const char *semi = strchr(v, ';');

	type[0] = '\0';
	*rest = v;
	if (semi && (size_t)(semi - v) < tlen && semi - v < 12) {
		copy_cut(type, tlen, v, (size_t)(semi - v));
		for (char *c = type; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		*rest = semi + 1;
		while (**rest == ' ')
			(*rest)++;
	}
}

static void ds_field(struct dsn *d, struct dsn_rcpt *r, const struct msg_field *f)
{
	const char *rest;
	char type[16];

	if (NAMED(f, "Reporting-MTA")) {
		strip_type(f->value, type, sizeof(type), &rest);
		copy_cut(d->reporting_mta, sizeof(d->reporting_mta), rest, strlen(rest));
	} else if (NAMED(f, "Arrival-Date")) {
		d->has_arrival = rcvd_parse_date(f->value, &d->arrival) == 0;
	} else if (!r) {
		return;
	} else if (NAMED(f, "Action")) {
		size_t i = 0;

		while (f->value[i] && !isspace((unsigned char)f->value[i]) &&
		       f->value[i] != '(' && i + 1 < sizeof(r->action)) {
			r->action[i] = (char)tolower((unsigned char)f->value[i]);
			i++;
		}
		r->action[i] = '\0';
		/* RFC 3464 2.3.3 names five actions; MTAs write others */
		if (!strcmp(r->action, "failure") || !strcmp(r->action, "error") ||
		    !strcmp(r->action, "bounced") || !strcmp(r->action, "rejected"))
			str_copy(r->action, sizeof(r->action), "failed");
		else if (!strcmp(r->action, "delay") || !strcmp(r->action, "deferred"))
			str_copy(r->action, sizeof(r->action), "delayed");
	} else if (NAMED(f, "Status")) {
		char st[16];

		if (smtp_find_status(f->value, st, sizeof(st)) == 0)
			str_copy(r->status, sizeof(r->status), st);
	} else if (NAMED(f, "Remote-MTA")) {
		strip_type(f->value, type, sizeof(type), &rest);
		copy_cut(r->rhost, sizeof(r->rhost), rest, strcspn(rest, " ;[("));
	} else if (NAMED(f, "Diagnostic-Code")) {
		strip_type(f->value, r->diag_type, sizeof(r->diag_type), &rest);
		r->diag[0] = '\0';
		dsn_append(r->diag, sizeof(r->diag), rest, strlen(rest));
	} else if (NAMED(f, "Last-Attempt-Date")) {
		r->has_last_attempt = rcvd_parse_date(f->value, &r->last_attempt) == 0;
	}
}

/* The recipient of a Final-Recipient value: its address, or for local
 * deliveries (a file, a pipe: "rfc822;/var/mail/x") the value itself. */
static int recipient_of(const char *v, char *out, size_t len)
{
	char type[16];
	const char *rest;
	size_t n;

	if (addr_of(v, out, len) == 0)
		return 0;
	strip_type(v, type, sizeof(type), &rest);
	n = strcspn(rest, " \t");
	if (!n)
		return -1;
	copy_cut(out, len, rest, n);
	return 0;
}

/* The domain after at ("@host.example", "@[192.0.2.1]") is one mail can
 * be sent to from the Internet: a dot or an address literal.  A name
 * without a dot ("@sims-ms-daemon", Sun Messaging Server's delivery
 * channel; "@localhost") is a local routing name. */
static int internet_domain(const char *at)
{
	size_t n;

	if (!at || !at[1])
		return 0;
	n = strcspn(at + 1, " \t>;(");
	return at[1] == '[' || memchr(at + 1, '.', n) != NULL;
}

/* A Final-Recipient (field i of blk) that is no Internet address (an
 * X.400 O/R name, a local name: RFC 3464 2.3.2 allows any address type)
 * is named by the plain address of its Original-Recipient (2.3.1), when
 * the recipient's fields have one: copied into out, 0; else -1. */
static int original_address(const struct msg *blk, size_t i, char *out, size_t len)
{
	const char *rest;
	char type[16];

	if (!NAMED(&blk->f[i], "Final-Recipient"))
		return -1;
	/* an RFC 822 address stays (a quoted local part too); a source
	 * route ("@relay:a@host") or a name without a domain does not */
	strip_type(blk->f[i].value, type, sizeof(type), &rest);
	if (!strcmp(type, "RFC822") && rest[0] != '@' && internet_domain(strchr(rest, '@')))
		return -1;
	/* the fields of this recipient: from the previous Final-Recipient
	 * to the next */
	for (size_t k = i; k-- > 0 && !NAMED(&blk->f[k], "Final-Recipient");)
		if (NAMED(&blk->f[k], "Original-Recipient") &&
		    addr_of(blk->f[k].value, out, len) == 0)
			return 0;
	for (size_t k = i + 1; k < blk->nf && !NAMED(&blk->f[k], "Final-Recipient"); k++)
		if (NAMED(&blk->f[k], "Original-Recipient") &&
		    addr_of(blk->f[k].value, out, len) == 0)
			return 0;
	return -1;
}

/* Parse delivery-status text: a per-message block, then one block per
 * recipient (blocks that run together are split at each recipient). */
static void ds_parse(struct dsn *d, size_t *cap, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		struct msg blk;
		struct dsn_rcpt *r = NULL;
		ptrdiff_t ri = -1;
		int by_original = 0;	/* r named by an Original-Recipient only */

		while (p < end && (*p == '\n' || *p == ' ' || *p == '\t'))
			p++;
		if (p >= end)
			break;
		msg_parse(&blk, p, (size_t)(end - p));
		for (size_t i = 0; i < blk.nf; i++) {
			const struct msg_field *f = &blk.f[i];
			char addr[256];

			/* d->r moves when it grows: take r afresh each time */
			r = ri >= 0 ? &d->r[ri] : NULL;

			if ((NAMED(f, "Final-Recipient") ||
			     (NAMED(f, "Original-Recipient") && !r)) &&
			    (original_address(&blk, i, addr, sizeof(addr)) == 0 ||
			     recipient_of(f->value, addr, sizeof(addr)) == 0)) {
				struct dsn_rcpt *nr;

				if (r && NAMED(f, "Final-Recipient") &&
				    r->recipient[0] && strcasecmp(r->recipient, addr) &&
				    (by_original || (!r->status[0] && !r->action[0]))) {
					/* Original- then a different Final-: the same
					 * recipient (RFC 3464 2.3.1 puts Original-
					 * first), named by the Final- address unless
					 * that is none (original_address() chose) */
					copy_cut(r->recipient, sizeof(r->recipient), addr, strlen(addr));
					by_original = 0;
					continue;
				}
				by_original = 0;
				if (r && !strcasecmp(r->recipient, addr))
					continue;
				nr = dsn_add(d, cap, addr);
				if (!nr)
					break;
				/* fields written before the first recipient of the
				 * block belong to it (Facebook puts them first) */
				for (size_t k = 0; !r && k < i; k++)
					ds_field(d, nr, &blk.f[k]);
				ri = nr - d->r;
				by_original = NAMED(f, "Original-Recipient");
				continue;
			}
			ds_field(d, r, f);
		}
		if (blk.body == p) {	/* not a field: skip the line */
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			blk.body = nl ? nl + 1 : end;
		}
		p = blk.body;
		msg_free(&blk);
	}
}

/* ---- plain-text reports ---- */

/* Does l (n bytes) start with w (lower case, wn bytes), whatever the
 * case? */
static int starts_ci(const char *l, size_t n, const char *w, size_t wn)
{
	if (n < wn)
		return 0;
	for (size_t k = 0; k < wn; k++)
		if (ascii_tolower((unsigned char)l[k]) != (unsigned char)w[k])
			return 0;
	return 1;
}

/* Does the (trimmed) line start the copy of the original?  The marks
 * are compared in place, whatever their case: most lines are no mark,
 * and a lower-case copy of each line cost more than all the rest. */
static int cut_line(const char *l, size_t n)
{
#define W(s) { s, sizeof(s) - 1 }
	/* in the order of their first letters: the search stops past the
	 * line's */
	static const struct { const char *w; size_t n; } marks[] = {
		W("below this line is a copy"),
		W("copy of the message"), W("content-type: message/rfc822"),
		W("copy of the original"), W("copy of your message"),
		W("forwarded message"),
		W("headers of the original"), W("header of the original"),
		W("headers of your message"),
		W("included is a copy"),
		W("message headers follow"), W("message header"),
		W("original message"), W("original-message"), W("original mail"),
		W("returned message"), W("returned mail"), W("rfc822 message"),
		W("this is a copy of the message"), W("the original message"),
		W("text of the original"), W("the header of the original"),
		W("undelivered message"), W("unsent message"),
		W("your message reads") },
	/* "---- START OF RETURNED MESSAGE ----", "Begin original message",
	 * "A copy of the original message below this line:" */
	lead[] = { W("start of "), W("begin "), W("beginning of "), W("a "), W("here is a ") };
#undef W
	char buf[128];
	size_t i = 0, o = 0, b;
	int mark = 0, c;

	while (i < n && (l[i] == '-' || l[i] == '=' || l[i] == ' ' || l[i] == '*' ||
			 l[i] == '_' || l[i] == '>' || l[i] == '[' || l[i] == '|'))
		i++;
	/* Japanese carriers and ISPs: "------ 元のメッセージ ------" */
	if (i < n && (unsigned char)l[i] >= 0xe3) {
		static const char *const ja[] = { "元のメッセージ", "元のメール",
			"元メッセージ", "オリジナルメッセージ", "原文" };

		for (size_t k = 0; k < ARRAY_SIZE(ja); k++)
			if (n - i >= strlen(ja[k]) && !memcmp(l + i, ja[k], strlen(ja[k])))
				return 1;
		return 0;
	}
	/* most lines start with no mark's first letter: decide at once */
	if (i >= n || !strchr("obtcrmhufyisaOBTCRMHUFYISA", l[i]))
		return 0;
	b = i;
	c = tolower((unsigned char)l[i]);
	for (size_t k = 0; k < ARRAY_SIZE(lead); k++)
		if (c == lead[k].w[0] && starts_ci(l + i, n - i, lead[k].w, lead[k].n)) {
			b += lead[k].n;
			break;
		}
	/* (a line is read to 127 bytes at most, as the copy below) */
	if (b < n) {
		size_t left = (n < i + 127 ? n : i + 127) - b;

		c = tolower((unsigned char)l[b]);
		for (size_t k = 0; k < ARRAY_SIZE(marks) && marks[k].w[0] <= c && !mark; k++)
			mark = c == marks[k].w[0] &&
			       starts_ci(l + b, left, marks[k].w, marks[k].n);
	}
	/* (the first letter first: most lines are neither header) */
	if (!mark && ((l[0] != 'R' && l[0] != 'r') ||
		      (strncasecmp(l, "Received:", 9) && strncasecmp(l, "Return-Path:", 12))))
		return 0;
	for (; i < n && o + 1 < sizeof(buf); i++)
		buf[o++] = (char)tolower((unsigned char)l[i]);
	buf[o] = '\0';
	/* "The original message was received at ..." (sendmail) starts the
	 * report; "... could not be delivered" is the report's own line */
	return !strstr(buf, "was received") && !strstr(buf, "could not be");
}

/* Is this line a recipient line? Sets the address range.  2: a line that
 * names the address the sender wrote ("(generated from a@b)"), which is
 * the recipient only under a line that named none. */
static int rcpt_line(const char *l, size_t n, size_t *as, size_t *al)
{
	size_t i = 0;

	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	/* list bullets: "  * a@b", "- a@b", "-- a@b" */
	{
		size_t b = i;

		while (b < n && b - i < 3 && (l[b] == '*' || l[b] == '-' || l[b] == '+'))
			b++;
		if (b > i && b < n && l[b] == ' ')
			for (i = b; i < n && l[i] == ' '; i++)
				;
	}
	if (find_addr(l, n, as, al))
		return 0;
	/* the address the sender wrote, under what it became: Exim's "an
	 * undisclosed address (generated from a@b)", "(Originally addressed
	 * to a@b)", "(expanded from <a@b>)" on a line of its own */
	if (l[i] == '(') {
		static const char *const via[] = { "(generated from ", "(originally addressed to ",
			"(expanded from ", "(original recipient " };

		for (size_t k = 0; k < ARRAY_SIZE(via); k++)
			if (n - i > strlen(via[k]) && !strncasecmp(l + i, via[k], strlen(via[k])) &&
			    (*as == i + strlen(via[k]) || *as == i + strlen(via[k]) + 1))
				return 2;
	}
	/* sendmail's summary lines: "554 <addr>... reason" */
	if (n - i > 6 && smtp_reply_at(l, l + i) && l[i + 3] == ' ' && l[i + 4] == '<' &&
	    *as == i + 5 && n - (*as + *al) >= 4 && !strncmp(l + *as + *al, ">...", 4))
		return 1;
	if (*as <= i + 1 || (*as == i + 8 && !strncasecmp(l + i, "<mailto:", 8)))
		goto tail;	/* the address starts the line */
	/* a short label or name before it: "Recipient: ", "Neko<mailto:" */
	if (*as - i > 40)
		return 0;
	/* digits: a reply ("550 5.1.1 <a@b>...") unless it is a label */
	for (size_t k = i; k < *as; k++)
		if (isdigit((unsigned char)l[k]) &&
		    (isdigit((unsigned char)l[i]) || !memchr(l + k, ':', *as - k)))
			return 0;
	if (l[i] == '<' || l[i] == '>' || l[i] == '(' || l[i] == '#')
		return 0;
	{
		char pre[48];

		copy_cut(pre, sizeof(pre), l + i, *as - i);
		lower_str(pre);
		for (size_t e = strlen(pre); e > 0 && (pre[e - 1] == ' ' || pre[e - 1] == '\t'); e--)
			pre[e - 1] = '\0';
		/* "To:" quotes the original message's header (Exchange's "Your
		 * message To: ... did not reach"), it is not the report's word */
		if (!strcmp(pre, "to:") || !strcmp(pre, "to: ") ||
		    strstr(pre, "from") || strstr(pre, "sender") || strstr(pre, "said") ||
		    strstr(pre, "reply-to") || strstr(pre, "return-path") ||
		    strstr(pre, "envelope") || strstr(pre, "message-id") ||
		    strstr(pre, "cc:") || strstr(pre, "subject") || strstr(pre, "by "))
			return 0;
		size_t words = 1, plen = strlen(pre);

		for (size_t k = 0; k + 1 < plen; k++)
			words += pre[k] == ' ' && pre[k + 1] != ' ';
		while (plen && (pre[plen - 1] == ' ' || pre[plen - 1] == '<' ||
				pre[plen - 1] == '"'))
			plen--;
		/* a label ("Recipient address:", "Delivered to:") or a short
		 * name ("Neko <a@b>"), not a sentence that mentions an address */
		if (plen && pre[plen - 1] == ':' ? words > 6 :
		    (words > 3 || strchr(pre, ',') ||
		     (!strchr(pre, '<') && !strchr(pre, '"') && !strstr(pre, "to ") &&
		      !(plen >= 3 && !strncmp(pre + plen - 3, " to", 3)))))
			return 0;
	}
tail:
	{
		/* what follows must not make it a sentence about something else */
		const char *t = l + *as + *al;
		size_t rest = n - (*as + *al);

		while (rest && (*t == '>' || *t == ']' || *t == ' ' || *t == '\t' || *t == '"' ||
				*t == '\'')) {
			t++;
			rest--;
		}
		if ((rest >= 3 && !strncmp(t, "...", 3)) ||
		    (rest >= 1 && (*t == ':' || *t == '(' || *t == ',' || *t == ';')))
			return 1;
		if (!rest)
			return 1;
		/* the address starts the line and words follow ("a@b Invalid
		 * Address, ERROR_CODE :550") */
		/* "addr on 1/2/2011 ..." (Exchange), "addr - reason", "addr [..." */
		if (rest >= 3 && (!strncasecmp(t, "on ", 3) || !strncasecmp(t, "- ", 2) ||
				  *t == '[' || *t == '#'))
			return 1;
		if (*as <= i + 1 && (l[*as + *al] == ' ' || l[*as + *al] == '\t')) {
			char rest_l[160];

			copy_cut(rest_l, sizeof(rest_l), t, rest);
			lower_str(rest_l);
			return strstr(rest_l, "error") || strstr(rest_l, "invalid") ||
			       strstr(rest_l, "unknown") || strstr(rest_l, "failed");
		}
		/* "addr on 1/2/2011 ..." (Exchange), "addr:" already taken */
		return rest >= 3 && (!strncasecmp(t, "on ", 3) || !strncasecmp(t, "- ", 2) ||
				     *t == '[' || *t == '#');
	}
}

/* The SMTP reply inside a block: from the first reply code to the end of
 * that paragraph; else the whole block. */
static void narrow_diag(struct dsn_rcpt *r, const char *blk)
{
	char rc[4];
	const char *p = NULL;

	if (smtp_find_reply(blk, rc) == 0)
		p = strstr(blk, rc);
	while (p && !smtp_reply_at(blk, p))
		p = strstr(p + 1, rc);
	r->diag[0] = '\0';
	dsn_append(r->diag, sizeof(r->diag), p ? p : blk, strlen(p ? p : blk));
}

/* The end of a recipient's block of text: its diagnostic if it has none,
 * and the command the block names. */
static void close_block(struct dsn_rcpt *r, const char *blk)
{
	char rc[4];

	/* the human text quotes the server when the Diagnostic-Code is a
	 * local program's exit code ("X-Unix; 77") or missing */
	if (!r->diag[0] || (smtp_find_reply(r->diag, rc) && smtp_find_reply(blk, rc) == 0))
		narrow_diag(r, blk);
	if (!r->command[0])
		smtp_find_command(blk, r->command, sizeof(r->command));
}

/* Is domain a (NUL-terminated) the same as b (bl bytes), or a host under
 * it, or the reverse? */
static int same_domain(const char *a, const char *b, size_t bl)
{
	size_t al = strlen(a);

	if (al == bl)
		return !strncasecmp(a, b, bl);
	if (al > bl)
		return a[al - bl - 1] == '.' && !strncasecmp(a + al - bl, b, bl);
	return b[bl - al - 1] == '.' && !strncasecmp(b + bl - al, a, al);
}

/* Is addr, found in a report's text, something other than a recipient:
 * the Message-ID of the original (or of the report: "<id@host>" quoted
 * on a line of its own), or a contact of the reporting side
 * (postmaster@, abuse@, ... of the report's own domain, "write to the
 * administrator: postmaster@...")?  from is the report's From. */
static int not_a_recipient(const struct dsn *d, const struct msg *m, const char *addr)
{
	static const char *const contacts[] = { "postmaster@", "abuse@", "hostmaster@",
		"mailer-daemon@", "helpdesk@", "support@", NULL };
	const char *ids[] = { d->om.nf ? msg_get(&d->om, "Message-ID") : NULL,
		m ? msg_get(m, "Message-ID") : NULL, m ? msg_get(m, "In-Reply-To") : NULL,
		m ? msg_get(m, "References") : NULL };
	const char *from = m ? msg_get(m, "From") : NULL, *at = strchr(addr, '@'), *fat, *v;

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		if (ids[i] && str_casestr(ids[i], addr))
			return 1;
	if (!at || !from || !(fat = strrchr(from, '@')))
		return 0;
	/* the original was sent to it: a recipient, whoever it is */
	if (d->om.nf && (((v = msg_get(&d->om, "To")) && str_casestr(v, addr)) ||
			 ((v = msg_get(&d->om, "Cc")) && str_casestr(v, addr))))
		return 0;
	for (int i = 0; contacts[i]; i++)
		if (!strncasecmp(addr, contacts[i], strlen(contacts[i])))
			return same_domain(at + 1, fat + 1, strcspn(fat + 1, "> \t\""));
	return 0;
}

/* Does the text have a letter or a digit (not only rules and blanks)? */
static int has_words(const char *t)
{
	for (; *t; t++)
		if (isalnum((unsigned char)*t) || (unsigned char)*t >= 0x80)
			return 1;
	return 0;
}

/* The text before the first recipient's block, kept as the runs of
 * lines it is made of and copied into one line only when asked for: most
 * reports never need it (their recipients have words and a code of
 * their own), and copying every line of it cost more than the rest of
 * text_scan().  Appending the lines "a" and "b" one by one gives what
 * appending "a\nb" does (the newline is a blank), so a run of adjacent
 * lines is one span. */
struct lead_text {
	char buf[DSN_DIAG_MAX];
	size_t len;		/* strlen of buf */
	struct { const char *p; size_t n; } run[16];
	size_t nrun;		/* runs not yet in buf */
};

static void lead_flush(struct lead_text *lt)
{
	for (size_t i = 0; i < lt->nrun; i++)
		lt->len = append_at(lt->buf, lt->len, sizeof(lt->buf), lt->run[i].p, lt->run[i].n);
	lt->nrun = 0;
}

/* Add the line [p, p+n) to the lead. */
static void lead_add(struct lead_text *lt, const char *p, size_t n)
{
	if (lt->nrun) {
		const char *e = lt->run[lt->nrun - 1].p + lt->run[lt->nrun - 1].n;

		if (e + 1 == p) {	/* the line right after the run */
			lt->run[lt->nrun - 1].n += n + 1;
			return;
		}
	}
	if (lt->nrun == ARRAY_SIZE(lt->run))
		lead_flush(lt);
	lt->run[lt->nrun].p = p;
	lt->run[lt->nrun].n = n;
	lt->nrun++;
}

/* The lead as one line (empty when it has no words). */
static const char *lead_get(struct lead_text *lt)
{
	lead_flush(lt);
	return lt->buf;
}

/* Scan the human-readable text for recipients and their blocks: the
 * report's words, before the copy of the original (lead_len()). */
static void text_scan(struct dsn *d, size_t *cap, const char *text, size_t len,
		      const char *self, int only_known, const struct msg *m)
{
	const char *p = text, *end = text + len;
	long cur = -1;		/* index, not pointer: d->r may be reallocated */
	/* 6 KiB on the stack: two large mallocs a report less */
	char blk[DSN_DIAG_MAX * 2];
	struct lead_text lead;
	const char *lt = NULL;		/* lead_get(&lead), once asked for */
	size_t blen = 0;		/* strlen of blk */
	int kind = 0, prev;		/* rcpt_line() of this line, of the last */

	blk[0] = lead.buf[0] = '\0';
	lead.len = lead.nrun = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p), as, al;

		prev = kind;
		/* "(generated from a@b)" names the recipient unless the line
		 * above did (Exim writes it right under the address line; under
		 * "an undisclosed address" it is the only name) */
		if ((kind = rcpt_line(p, n, &as, &al)) != 0 && !(kind == 2 && prev == 1)) {
			char addr[256];
			long r = -1;

			skip_proxy_type(p, &as, &al);
			copy_cut(addr, sizeof(addr), p + as, al);
			if ((self && !strcasecmp(addr, self)) || not_a_recipient(d, m, addr))
				goto next;
			for (size_t i = 0; i < d->n; i++)
				if (!strcasecmp(d->r[i].recipient, addr))
					r = (long)i;
			/* a report about one recipient: its text is about it,
			 * whatever address the text shows (aliases, rewriting) */
			if (r < 0 && only_known && d->n == 1 && cur < 0)
				r = 0;
			/* an address nobody reported on is just text of the block
			 * ("... Domain of sender address a@b does not exist") */
			if (r < 0 && only_known) {
				if (cur >= 0)
					blen = append_at(blk, blen, sizeof(blk), p, n);
				goto next;
			}
			if (r != cur && cur >= 0 && blk[0])
				close_block(&d->r[cur], blk);
			if (r < 0 && !only_known) {
				struct dsn_rcpt *nr = dsn_add(d, cap, addr);

				r = nr ? (long)(nr - d->r) : -1;
			}
			if (r != cur) {
				blk[0] = '\0';
				blen = 0;
			}
			cur = r;
			if (cur >= 0) {
				size_t k = as + al;

				while (k < n && strchr(">:\"' \t.;,", p[k]))
					k++;
				blen = append_at(blk, blen, sizeof(blk), p + k, n - k);
			}
			goto next;
		}
		if (cur >= 0)
			blen = append_at(blk, blen, sizeof(blk), p, n);
		else
			lead_add(&lead, p, n);
next:
		p = nl ? nl + 1 : end;
	}
	if (cur >= 0 && blk[0])
		close_block(&d->r[cur], blk);
	/* recipients listed with no words of their own share the lead text */
	for (size_t i = 0; i < d->n; i++) {
		char rc[4], st[16];

		int words = has_words(d->r[i].diag);

		/* or, when their words carry no code, the lead's codes; a
		 * block of only rules ("-----") has no words.  A code of
		 * their own decides without the lead's copy. */
		if (words && (smtp_find_reply(d->r[i].diag, rc) == 0 ||
			      smtp_find_status(d->r[i].diag, st, sizeof(st)) == 0))
			continue;
		if (!lt)
			lt = lead_get(&lead);
		if (!lt[0])
			break;
		if (words && (reason_of_text(d->r[i].diag) || smtp_find_reply(lt, rc)))
			continue;
		narrow_diag(&d->r[i], lt);
		d->r[i].borrowed = 1;
	}
}

/* ---- putting it together ---- */

static int type_in(const char *t, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(t, *list))
			return 1;
	return 0;
}

static const char *const ds_types[] = { "message/delivery-status",
	"message/global-delivery-status", NULL };
static const char *const orig_types[] = { "message/rfc822", "text/rfc822-headers",
	"message/rfc822-headers", "message/global", "message/global-headers",
	"message/partial", NULL };

/* Text/html to text: tags dropped, the common entities decoded. */
static size_t html_text(const char *in, size_t len, char *out)
{
	size_t o = 0;
	int tag = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '<') {
			tag = 1;
			if (i + 3 < len && (!strncasecmp(in + i, "<br", 3) ||
					    !strncasecmp(in + i, "<p", 2) ||
					    !strncasecmp(in + i, "</p", 3) ||
					    !strncasecmp(in + i, "<div", 4) ||
					    !strncasecmp(in + i, "<tr", 3)))
				out[o++] = '\n';
			continue;
		}
		if (tag) {
			tag = in[i] != '>';
			continue;
		}
		if (in[i] == '&') {
			static const struct { const char *e; char c; } ent[] = {
				{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
				{ "&nbsp;", ' ' }, { "&quot;", '"' }, { "&#39;", '\'' } };
			size_t k;

			for (k = 0; k < ARRAY_SIZE(ent); k++)
				if (!strncasecmp(in + i, ent[k].e, strlen(ent[k].e)) &&
				    i + strlen(ent[k].e) <= len)
					break;
			if (k < ARRAY_SIZE(ent)) {
				out[o++] = ent[k].c;
				i += strlen(ent[k].e) - 1;
				continue;
			}
		}
		out[o++] = in[i];
	}
	return o;
}

/* The human-readable text of the report: its text parts before the copy
 * of the original (html only when there is no plain text). Malloc'd. */
static char *human_text(const struct mime *mm, size_t *len)
{
	size_t cap = 0, n = 0, plen;
	char *out = NULL;
	int plain = 0, last = 0;

	for (size_t i = 0; i < mm->n; i++)
		if (!strcmp(mm->p[i].type, "text/plain") || !mm->p[i].type[0])
			plain = 1;
	for (size_t i = 0; i < mm->n; i++) {
		const struct mime_part *pt = &mm->p[i];
		int html = !strcmp(pt->type, "text/html");

		if (type_in(pt->type, orig_types))
			break;
		if (strcmp(pt->type, "text/plain") && pt->type[0] && !(html && !plain) &&
		    strncmp(pt->type, "text/", 5))
			continue;
		if (html && plain)
			continue;
		/* a part past the limit is read up to it (the report's words
		 * come first; a huge part is most often a copy of the mail),
		 * cut at a line's end; nothing after it is read */
		plen = pt->len;
		if (n + plen + 2 > HUMAN_MAX) {
			const char *nl;

			if (n + 2 >= HUMAN_MAX)
				break;
			plen = HUMAN_MAX - n - 2;
			if ((nl = memrchr(pt->data, '\n', plen)) != NULL)
				plen = (size_t)(nl - pt->data);
			last = 1;
		}
		if (n + plen + 2 > cap) {
			cap = n + plen + 2;
			out = xrealloc(out, cap);
		}
		n += html ? html_text(pt->data, plen, out + n) : (memcpy(out + n, pt->data, plen), plen);
		out[n++] = '\n';
		if (last)
			break;
	}
	if (!out)
		out = xmalloc(1);
	out[n] = '\0';
	*len = n;
	return out;
}

static int report_type(const struct msg *m, const char *type)
{
	char rt[40];

	return mime_param(msg_get(m, "Content-Type"), "report-type", rt, sizeof(rt), 1) == 0 &&
	       !strcmp(rt, type);
}

/* Does the report's text say that mail was not delivered? */
static int bounce_words(const char *human)
{
	static const char *const words[] = { "could not be delivered",
		"couldn't be delivered", "undeliverable", "delivery has failed",
		"delivery to the following", "permanent error", "not delivered",
		"unable to deliver", "wasn't able to deliver", "failed permanently",
		"delivery failure", "the following addresses had", "could not deliver",
		"not be delivered", "delivery failed", "was not delivered",
		"delivery status notification", "did not reach the following",
		/* Japanese ISPs and carriers, on the decoded text */
		"配信できませんでした", "配送できませんでした", "送信できませんでした",
		"届けることができませんでした", "配信に失敗", "配送に失敗", "送信に失敗",
		"配信されませんでした" };
	size_t n = strlen(human);
	char *low;
	int hit = 0;

	if (n > 8192)
		n = 8192;
	low = xstrndup(human, n);
	lower_str(low);
	{
		/* a quoted SMTP dialogue: a failure reply and the envelope */
		char rc[4];

		hit = smtp_find_reply(low, rc) == 0 && rc[0] != '2' &&
		      strstr(low, "rcpt to:") != NULL;
	}
	for (size_t i = 0; !hit && i < ARRAY_SIZE(words); i++)
		hit = strstr(low, words[i]) != NULL;
	free(low);
	return hit;
}

/* t in lower case (ASCII: the C locale's tolower), for the caller to
 * free: one copy, then plain strstr() for lower-case words, which is
 * many times faster than a strcasestr() per word over a long report. */
static char *lower_dup(const char *t)
{
	size_t n = strlen(t);
	char *lo = xmalloc(n + 1);

	ascii_lower_copy(lo, t, n);
	return lo;
}

/* Does lo (lower case) contain one of the n lower-case words? */
static int has_word(const char *lo, const char *const *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(lo, w[i]))
			return 1;
	return 0;
}

/* Does subject s (NULL: none) contain one of the n words, as written or
 * once its encoded words are decoded (Japanese subjects always are)? */
static int subject_has(const char *s, const char *const *words, size_t n)
{
	char *dec, *lo;
	int hit;

	if (!s)
		return 0;
	lo = lower_dup(s);
	hit = has_word(lo, words, n);
	free(lo);
	if (hit || !strstr(s, "=?"))
		return hit;
	dec = mime_decode_words(s, strlen(s));
	lo = lower_dup(dec);
	hit = has_word(lo, words, n);
	free(lo);
	free(dec);
	return hit;
}

static int bounce_signals(const struct msg *m)
{
	static const char *const subj[] = { "undeliver", "delivery status",
		"delivery failure", "failure notice", "returned mail", "mail delivery",
		"delivery failed", "could not be delivered", "not delivered",
		"delivery problem", "delivery notification", "failed delivery",
		"delayed mail", "warning: could not send", "non remis", "non-remis",
		"rejected", "nondeliverable", "non-deliverable", "mail error",
		"mail system error", "delivery report", "returned to sender",
		"message delivery", "unzustellbar", "delivery has failed",
		"permanent error", "error sending", "bounce", "unable to deliver",
		"failed mail", "delivery error", "warning: message", "mail failure",
		"配信エラー", "配送エラー", "送信エラー", "メールエラー", "配信不能",
		"配送不能", "配信失敗", "配送失敗", "送信失敗", "不達" };
	const char *from = msg_get(m, "From"), *s = msg_get(m, "Subject");
	const char *ct = msg_get(m, "Content-Type");
	char rt[40];

	if (msg_get(m, "X-Failed-Recipients"))
		return 1;
	if (ct && mime_param(ct, "report-type", rt, sizeof(rt), 1) == 0 &&
	    !strcmp(rt, "delivery-status"))
		return 1;
	if (from && (str_casestr(from, "mailer-daemon") || str_casestr(from, "postmaster") ||
		     str_casestr(from, "mail delivery") || str_casestr(from, "mail-daemon") ||
		     str_casestr(from, "mailerdaemon") || str_casestr(from, "double-bounce") ||
		     /* Alt-N MDaemon sends its reports as MDaemon@host */
		     str_casestr(from, "mdaemon@")))
		return 1;
	return subject_has(s, subj, ARRAY_SIZE(subj));
}

static int autoreply_signals(const struct msg *m)
{
	static const char *const subj[] = { "auto:", "automatic reply", "autoreply",
		"auto-reply", "auto reply", "out of office", "out of the office",
		"vacation", "away until", "abwesenheit", "absence", "réponse automatique",
		"on leave", "away from" };
	const char *as = msg_get(m, "Auto-Submitted"), *s = msg_get(m, "Subject");
	const char *prec = msg_get(m, "Precedence");

	if (msg_get(m, "X-Autoreply") || msg_get(m, "X-Autorespond") ||
	    (prec && !strcasecmp(prec, "auto_reply")))
		return 1;
	if (as && !strncasecmp(as, "auto-replied", 12))
		return 1;
	return subject_has(s, subj, ARRAY_SIZE(subj));
}

static void add_addresses(struct dsn *d, size_t *cap, const char *v)
{
	while (v && *v) {
		size_t as, al;
		char addr[256];

		if (find_addr(v, strlen(v), &as, &al))
			break;
		copy_cut(addr, sizeof(addr), v + as, al);
		if (!dsn_add(d, cap, addr))
			break;
		v += as + al;
	}
}

static int not_a_recipient(const struct dsn *d, const struct msg *m, const char *addr);

/* The first "<address>" of the text that is not self: the recipient a
 * sentence names ("an error delivering your mail to <a@b>"). */
static void bracketed_addr(struct dsn *d, size_t *cap, const char *text, const char *self,
			   const struct msg *m)
{
	for (const char *p = text; (p = strchr(p, '<')) != NULL; p++) {
		/* stop at the next '<' too: "<<<<..." is one scan, not n */
		size_t as, al, n = strcspn(p + 1, "<>\n");
		char addr[256];

		if (p[1 + n] != '>' || find_addr(p + 1, n, &as, &al) || as != 0 || al != n)
			continue;
		copy_cut(addr, sizeof(addr), p + 1, al);
		if ((self && !strcasecmp(addr, self)) || not_a_recipient(d, m, addr))
			continue;
		dsn_add(d, cap, addr);
		return;
	}
}

/* Is addr a role address of a mail system (its postmaster, a help desk)
 * that a report names as a contact, whichever domain it is in? */
static int role_address(const char *addr)
{
	static const char *const roles[] = { "postmaster@", "abuse@", "hostmaster@",
		"mailer-daemon@", "mailerdaemon@", "helpdesk@", "support@", "webmaster@",
		"noc@", "root@", "admin@", "administrator@", "mdaemon@", "no-reply@",
		"noreply@" };

	for (size_t i = 0; i < ARRAY_SIZE(roles); i++)
		if (!strncasecmp(addr, roles[i], strlen(roles[i])))
			return 1;
	return 0;
}

/* Does the line [l, l+n) have a word of delivery or of a mailbox's state
 * ("deliver", "unknown", "quota")?  Only its first 511 bytes are read. */
static int failure_words(const char *l, size_t n)
{
	static const char *const words[] = { "deliver", "addressed", "mailbox", "recipient",
		"quota", "unknown", "not found", "unavailable", "rejected", "refused",
		"no such", "does not exist", "doesn't exist", "invalid", "full" };
	char buf[512];

	copy_cut(buf, sizeof(buf), l, n);
	lower_str(buf);
	return has_word(buf, words, ARRAY_SIZE(words));
}

/* Does the line [l, l+n) say that delivery to the address at a failed:
 * words is failure_words() of the line, no "from" may come right before
 * the address, nor a word that offers a contact? */
static int failure_line(const char *l, size_t n, const char *a, int words)
{
	size_t k = (size_t)(a - l), i = 0;

	/* the original's header quoted in the report: its To is who it
	 * was for, as the copy's To is when the report has a copy */
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (n - i > 3 && !strncasecmp(l + i, "to:", 3))
		return 1;
	if (k >= 5 && !strncasecmp(a - 5, "from ", 5))
		return 0;
	if (k >= 6 && !strncasecmp(a - 6, "from <", 6))
		return 0;
	/* an address the report gives to ask for help, in the sentence
	 * before it ("For help, contact the recipient's administrator at
	 * a@b", "Questions? Write to a@b"; not "Could not contact the
	 * server; delivery to a@b deferred") */
	{
		static const char *const contact[] = { "contact", "write to", "for help",
			"for assistance" };
		char pre[512];
		size_t b = k;

		while (b > 0 && k - b < sizeof(pre) - 1 &&
		       !(b >= 2 && l[b - 1] == ' ' && l[b - 2] && strchr(".?!;", l[b - 2])))
			b--;
		copy_cut(pre, sizeof(pre), l + b, k - b);
		lower_str(pre);
		if (has_word(pre, contact, ARRAY_SIZE(contact)))
			return 0;
	}
	return words;
}

/* A report that lists its recipients as bare local names under "the
 * following recipients" (AOL's "Your mail to the following recipients
 * could not be delivered because ...:" then a tab and a screen name):
 * each is a mailbox of the reporting domain, the domain of the report's
 * From. */
static void bare_names(struct dsn *d, size_t *cap, const char *lead, const struct msg *m)
{
	const char *from = msg_get(m, "From"), *at, *p;
	char dom[200], addr[256];
	size_t dl;

	if (!from || !(at = strrchr(from, '@')) || !(p = strcasestr(lead, "following recipient")))
		return;
	dl = strcspn(at + 1, "> \t\"");
	copy_cut(dom, sizeof(dom), at + 1, dl);
	if (!internet_domain(at))
		return;
	/* the names follow the sentence's colon, in its paragraph (a colon
	 * further on ends another sentence: "The remote server said:") */
	{
		const char *colon = strstr(p, ":\n"), *para = strstr(p, "\n\n");

		if (!colon || (para && para < colon))
			return;
		p = colon;
	}
	p++;
	while (p && *p == '\n') {
		const char *l = p + 1, *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l), i = 0, k;

		while (i < n && (l[i] == ' ' || l[i] == '\t'))
			i++;
		for (k = i; k < n && local_char((unsigned char)l[k]); k++)
			;
		if (i == 0 || k == i || k != n || k - i > 64)
			break;	/* a bare name, indented, and nothing else */
		snprintf(addr, sizeof(addr), "%.*s@%s", (int)(k - i), l + i, dom);
		if (!dsn_add(d, cap, addr))
			break;
		p = e;
	}
}

/* The last resort of a report in prose that lists no recipient line: the
 * addresses its own words name in sentences ("unable to deliver your
 * message to a@b for the following reason", "The following message,
 * addressed to 'a@b', failed", "Local mailbox a@b is unavailable"),
 * without the report's addressee, the sender of the original, role
 * addresses and message ids.  lead is the text before the copy of the
 * original. */
static void sentence_addrs(struct dsn *d, size_t *cap, const char *lead, const char *self,
			   const struct msg *m)
{
	const char *orig_from = d->om.nf ? msg_get(&d->om, "From") : NULL;
	const char *rp = d->om.nf ? msg_get(&d->om, "Return-Path") : NULL;
	size_t n = strlen(lead), o = 0, as, al, ls = 0, le = 0;
	int words = 0;

	while (o < n && find_addr(lead + o, n - o, &as, &al) == 0) {
		char addr[256];
		size_t at = o + as;

		skip_proxy_type(lead + o, &as, &al);
		copy_cut(addr, sizeof(addr), lead + o + as, al);
		o += as + al;
		/* the line [ls, le) of the address, found and read once per
		 * line (addresses come in order): a line of 40k addresses is
		 * one scan, not one per address */
		if (at >= le) {
			for (ls = at; ls > le && lead[ls - 1] != '\n'; ls--)
				;
			for (le = at; le < n && lead[le] != '\n'; le++)
				;
			words = failure_words(lead + ls, le - ls);
		}
		/* the line must say what went wrong with it, and not name it
		 * as a sender ("not accepting mail from a@b") */
		if (!failure_line(lead + ls, le - ls, lead + o - al, words))
			continue;
		if ((self && !strcasecmp(addr, self)) || role_address(addr) ||
		    not_a_recipient(d, m, addr) || (orig_from && str_casestr(orig_from, addr)) ||
		    (rp && str_casestr(rp, addr)))
			continue;
		if (!dsn_add(d, cap, addr))
			break;
	}
}

static void feedback(struct dsn *d, size_t *cap, const struct mime *mm, const struct msg *orig)
{
	for (size_t i = 0; i < mm->n; i++) {
		struct msg fb;

		if (strcmp(mm->p[i].type, "message/feedback-report") || mm->p[i].nested)
			continue;
		msg_parse(&fb, mm->p[i].data, mm->p[i].len);
		for (size_t k = 0; k < fb.nf; k++)
			if (NAMED(&fb.f[k], "Original-Rcpt-To") ||
			    NAMED(&fb.f[k], "Removal-Recipient"))
				add_addresses(d, cap, fb.f[k].value);
		msg_free(&fb);
	}
	if (!d->n && orig)
		add_addresses(d, cap, msg_get(orig, "To"));
	if (!d->n)		/* a complaint about mail to nobody named */
		dsn_add(d, cap, NULL);
	for (size_t i = 0; i < d->n; i++) {
		d->r[i].reason = "feedback";
		str_copy(d->r[i].action, sizeof(d->r[i].action), "");
	}
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcasecmp(s + n - k, suffix);
}

/* says_final() of lo, a text in lower case. */
static int says_final_lo(const char *lo)
{
	static const char *const words[] = { "not going to try again", "i've given up",
		"i have given up", "giving up on", "will not be retried",
		"no further attempts", "will be deleted from queue",
		"could not be delivered for" };

	return has_word(lo, words, ARRAY_SIZE(words));
}

/* Does the reporting MTA say it has stopped trying (whatever the last
 * reply was: a 4xx that lasted too long ends in a failure)? */
static int says_final(const char *t)
{
	char *lo = lower_dup(t);
	int r = says_final_lo(lo);

	free(lo);
	return r;
}

/* Without codes, does the text say the failure was temporary?  A delay
 * warning in prose ("THIS IS A WARNING MESSAGE ONLY", sendmail's
 * "Deferred:", "Will keep trying") is. */
static int says_temporary(const char *t)
{
	static const char *const words[] = { "temporary", "retry timeout exceeded",
		"failing for a long time", "warning message only", "will keep trying",
		"still undelivered", "still being retried",
		"delivery attempts will continue", "deferred:" };
	char *lo = lower_dup(t);
	int r = !strstr(lo, "permanent") && !says_final_lo(lo) &&
		has_word(lo, words, ARRAY_SIZE(words));

	free(lo);
	return r;
}

/* The first place in lo (lower case) where one of the n lower-case words
 * is, or NULL. */
static const char *first_word(const char *lo, const char *const *words, size_t n)
{
	const char *best = NULL, *p;

	for (size_t i = 0; i < n; i++)
		if ((p = strstr(lo, words[i])) != NULL && (!best || p < best))
			best = p;
	return best;
}

/* What a report in prose says of itself as a whole, when its recipients
 * have no Action: a delay warning ("Warning: message has not yet been
 * delivered", "This is just a warning, you do not need to take any
 * action", "postponed ... We will continue to try") or a final report
 * ("I've given up").  Read from the subject and the report's own words
 * before the copy of the original (lo: in lower case). */
enum { VERDICT_NONE, VERDICT_DELAY, VERDICT_FINAL };

static int report_verdict(const struct msg *m, const char *lo)
{
	/* not "Warning:" alone: MDaemon's failures are "Warning: a@b - User
	 * unknown!" (sendmail's delays say "could not send message for past") */
	static const char *const delay_subj[] = { "delay", "not yet been delivered",
		"not yet delivered", "postponed", "still trying", "still being retried",
		"could not send message for past" };
	static const char *const delay_text[] = { "just a warning", "warning only",
		"warning message only", "you do not need to resend",
		"you do not need to take any action", "no action is required",
		"will continue to attempt", "will continue to try", "will keep trying",
		"has not yet been delivered", "has not been delivered yet",
		"not yet been delivered", "delivery attempts will continue",
		"has been postponed", "advisory-only", "will be retried until" };
	static const char *const final_subj[] = { "failure", "failed", "undeliverable",
		"undelivered", "returned mail", "returned to sender", "could not be delivered",
		"non remis", "unzustellbar", "nondeliverable", "non-deliverable" };
	const char *subj = msg_get(m, "Subject");
	char *dec = NULL, *slo;
	const char *d, *f;
	int v = VERDICT_NONE;

	if (says_final_lo(lo))
		v = VERDICT_FINAL;
	else if (has_word(lo, delay_text, ARRAY_SIZE(delay_text)))
		v = VERDICT_DELAY;
	else if (subj) {
		if (strstr(subj, "=?"))
			subj = dec = mime_decode_words(subj, strlen(subj));
		/* "Mail delivery failed", "Undeliverable: ...", "Returned
		 * mail": the subjects of final reports (warnings say so in
		 * theirs).  The report's own word comes first, the original's
		 * subject after it ("Undeliverable: Meeting postponed",
		 * "Delivery delayed: Re: failed build"): the first word decides */
		slo = lower_dup(subj);
		d = first_word(slo, delay_subj, ARRAY_SIZE(delay_subj));
		f = first_word(slo, final_subj, ARRAY_SIZE(final_subj));
		if (d && (!f || d < f))
			v = strstr(lo, "permanent") ? VERDICT_FINAL : VERDICT_DELAY;
		else if (f)
			v = VERDICT_FINAL;
		free(slo);
		free(dec);
	}
	return v;
}

/* report_verdict() of a report, read when a recipient first needs it:
 * most recipients have an Action or a permanent code, which the verdict
 * cannot change, and then its dozens of searches are not made. */
struct verdict {
	const struct msg *m;
	const char *lo;		/* the report's lead in lower case */
	int v;			/* VERDICT_*, or -1 until read */
};

static int verdict_of(struct verdict *vd)
{
	if (vd->v < 0)
		vd->v = report_verdict(vd->m, vd->lo);
	return vd->v;
}

/* The number of delivery attempts a report's words give ("This condition
 * occurred after 30 attempt(s)", "failed 5 attempts", "12 delivery
 * attempts", "attempted 3 times", "Attempts: 4"), or 0.  t is in lower
 * case when lower is set (a plain search), else in any. */
static int count_attempts(const char *t, int lower)
{
	for (const char *p = t, *next;
	     (p = lower ? strstr(p, "attempt") : str_casestr(p, "attempt")) != NULL; p = next) {
		const char *b = p, *a = p + 7;
		long v;
		int colon = 0;

		/* a number right after: "attempts: 4", "attempted 3 times" */
		while (isalpha((unsigned char)*a) || *a == '(' || *a == ')')
			a++;
		/* an "attempt" later in this run of letters ends at the same
		 * place and has a letter before it: it can say nothing this
		 * one does not.  Searching on after the run keeps a text of
		 * one long run ("attemptattempt...") linear */
		next = a;
		if (*a == ':') {
			colon = 1;
			a++;
		}
		while (*a == ' ')
			a++;
		if (isdigit((unsigned char)*a) && (v = strtol(a, NULL, 10)) > 0 && v <= 100000) {
			const char *e = a;

			while (isdigit((unsigned char)*e))
				e++;
			if (colon || !strncasecmp(e, " times", 6))
				return (int)v;
		}
		/* a number before, maybe with "delivery": "30 attempt(s)" */
		while (b > t && b[-1] == ' ')
			b--;
		if (b - t >= 9 && !strncasecmp(b - 8, "delivery", 8)) {
			b -= 8;
			while (b > t && b[-1] == ' ')
				b--;
		}
		if (b > t && isdigit((unsigned char)b[-1])) {
			while (b > t && isdigit((unsigned char)b[-1]))
				b--;
			if ((b == t || !isalnum((unsigned char)b[-1])) &&
			    (v = strtol(b, NULL, 10)) > 0 && v <= 100000)
				return (int)v;
		}
	}
	return 0;
}

/* A DSN Action that says the mail went on (a 2.x.x is then the outcome). */
static int success_action(const char *a)
{
	return !strcmp(a, "delivered") || !strcmp(a, "relayed") || !strcmp(a, "expanded");
}

static int bounce_words(const char *human);

/* A receiving host's own error code (Orange's "OFR_506", Cox's
 * "AUP#CXBL", ...) says more than the general reading of its words. */
static void rhost_override(struct dsn_rcpt *r)
{
	struct rhost_in h;
	const char *v;

	h.rhost = r->rhost;
	h.recipient = r->recipient;
	h.status = r->status;
	h.reply = r->reply;
	h.command = r->command;
	h.diag = r->diag;
	if ((v = rhost_reason(&h)) != NULL) {
		r->reason = v;
		r->rule = "r:rhost-code";
		r->phrase = NULL;
	}
}

/* Formats whose notices never name the SMTP command (filtering gateways
 * and providers that write their own text: McAfee, SurfControl, MXLogic,
 * Activehunter, Zoho, Amazon SES, Yahoo, and Postfix where its reply
 * lacks the command it always names; signatures as sisimai's Lhost
 * modules know them): FORMAT_STAGELESS, or FORMAT_QUOTES_RCPT when the
 * format quotes "<address>" in a reply only at the RCPT stage (Yahoo's
 * relay); else 0. */
enum { FORMAT_STAGELESS = 1, FORMAT_QUOTES_RCPT = 2 };

static int starts(const char *s, const char *prefix)
{
	return s && !strncmp(s, prefix, strlen(prefix));
}

static int stageless_format(const struct msg *m, const char *human)
{
	const char *from = msg_get(m, "From"), *subj = msg_get(m, "Subject");
	const char *nai = NULL, *mailer = NULL;	/* the first of each, as msg_get() */
	int gateway = 0, sef = 0;

	/* the gateways' fields all start with X-: one pass over those, not
	 * a msg_get() over all fields for each of ten names */
	for (size_t i = 0; i < m->nf; i++) {
		const struct msg_field *f = &m->f[i];

		if (f->name[0] != 'X' && f->name[0] != 'x')
			continue;
		if (NAMED(f, "X-YMailISG"))
			return FORMAT_QUOTES_RCPT;
		if (NAMED(f, "X-AHMAILID") || NAMED(f, "X-MX-Bounce") || NAMED(f, "X-MXL-Hash") ||
		    NAMED(f, "X-MXL-NoteHash") || NAMED(f, "X-ZohoMail") ||
		    NAMED(f, "X-AWS-Outgoing"))
			gateway = 1;
		else if (NAMED(f, "X-NAI-Header"))
			nai = nai ? nai : f->value;
		else if (NAMED(f, "X-SEF-Processed"))
			sef = 1;
		else if (NAMED(f, "X-Mailer"))
			mailer = mailer ? mailer : f->value;
	}
	if (gateway || (nai && strstr(nai, "Modified by McAfee")) ||
	    (sef && mailer && !strcmp(mailer, "SurfControl E-mail Filter")))
		return FORMAT_STAGELESS;
	/* two Japanese providers' plain notices (sisimai's X1 and X2) */
	if (starts(subj, "Returned Mail: ") && starts(from, "\"Mail Deliver System\" "))
		return FORMAT_STAGELESS;
	if (from && strstr(from, "MAILER-DAEMON@") &&
	    (starts(subj, "Delivery failure") || starts(subj, "failure delivery") ||
	     starts(subj, "failed delivery")))
		return FORMAT_STAGELESS;
	/* Postfix adds "(in reply to ... command)" to every remote reply:
	 * where it is missing, the stage is unknown.  (Searched last: the
	 * text is long, the header fields decide at once.) */
	for (const char *p = human; (p = strstr(p, "This is the ")) != NULL; p++)
		if (!strncmp(p + 12, "Postfix program at host", 23) ||
		    !strncmp(p + 12, "mail system at host", 19))
			return FORMAT_STAGELESS;
	return 0;
}

/* Does the text quote an "<local@domain>"? */
static int quotes_address(const char *t)
{
	for (const char *p = t; (p = strchr(p, '<')) != NULL; p++) {
		size_t n = strcspn(p + 1, "> ");

		if (p[1 + n] == '>' && memchr(p + 1, '@', n))
			return 1;
	}
	return 0;
}

/* Fill in what the text tells about one bounced recipient; format is
 * what stageless_format() says of the report, vd what it says of itself. */
static void enrich(struct dsn_rcpt *r, int format, struct verdict *vd)
{
	char st[16], rc[4];
	struct reason_in in;
	int had_action = r->action[0] != '\0', permanent;

	smtp_unwrap(r->diag);
	/* the code in the server's own words is more specific than the
	 * Status field a relay wrote (often x.0.0, or 4.4.7 for "expired") */
	/* a success code in the text of a failure report is an earlier
	 * step's answer (or a version number): only a DSN that says the
	 * mail was delivered makes it the outcome */
	if (smtp_find_status(r->diag, st, sizeof(st)) == 0 &&
	    (st[0] != '2' || r->status[0] == '2' || success_action(r->action)) &&
	    (strcmp(st + 1, ".0.0") || !r->status[0] || !strcmp(r->status + 1, ".0.0")))
		str_copy(r->status, sizeof(r->status), st);
	if (!r->reply[0] && smtp_find_reply(r->diag, rc) == 0 &&
	    (rc[0] != '2' || r->status[0] == '2' || success_action(r->action)))
		memcpy(r->reply, rc, 4);
	if (!r->rhost[0])
		smtp_find_rhost(r->diag, r->rhost, sizeof(r->rhost));
	if (!r->command[0])
		smtp_find_command(r->diag, r->command, sizeof(r->command));
	r->temporary = r->status[0] == '4' || (!r->status[0] && r->reply[0] == '4') ||
		       !strcmp(r->action, "delayed") ||
		       (!r->status[0] && !r->reply[0] && says_temporary(r->diag));
	if (!r->action[0])
		snprintf(r->action, sizeof(r->action), "%s",
			 r->status[0] == '2' ? "delivered" :
			 r->temporary && !says_final(r->diag) ? "delayed" : "failed");
	memset(&in, 0, sizeof(in));
	in.status = r->status;
	in.reply = r->reply;
	in.action = r->action;
	in.command = r->command;
	/* the report's general prose is no evidence against its own Status */
	in.diag = r->borrowed && !r->reply[0] && reason_of_status(r->status) ? "" : r->diag;
	in.unix_mailer = !strcmp(r->diag_type, "X-UNIX") || !strcmp(r->diag_type, "X-POSTFIX");
	if (format == FORMAT_QUOTES_RCPT && !r->command[0] && quotes_address(r->diag))
		in.command = "RCPT";
	else
		in.stageless = format != 0;
	r->reason = reason_classify(&in);
	reason_last_rule(&r->rule, &r->phrase);
	rhost_override(r);
	/* Google Groups refuses posts (not a member, no permission) in the
	 * poster's language and without any code; its text says the group
	 * "may not exist", which is no unknown user */
	if (!r->status[0] && !r->reply[0] && ends_with(r->recipient, "@googlegroups.com") &&
	    (!strcmp(r->reason, "onhold") || !strcmp(r->reason, "undefined") ||
	     !strcmp(r->reason, "userunknown"))) {
		r->reason = "rejected";
		r->rule = "d:googlegroups";
		r->phrase = NULL;	/* the format decides, not the words */
	}
	/* boilerplate that says nothing about this recipient is no reason */
	if (r->borrowed && !strcmp(r->reason, "onhold") && !r->reply[0] &&
	    smtp_find_status(r->diag, st, sizeof(st)) && bounce_words(r->diag)) {
		r->reason = "undefined";
		r->rule = "d:borrowed-boilerplate";
	}
	permanent = r->status[0] == '5' || r->reply[0] == '5';
	if (!r->status[0])
		reason_pseudo_status(r->reason, r->temporary, r->status);
	r->hard = reason_is_hard(r->reason, r->status, r->reply);
	/* what a report in prose says of itself (report_verdict()) is the
	 * action of each recipient it gave none: a warning delays every
	 * recipient no permanent code contradicts, a final report fails a
	 * temporary error too (it lasted until the MTA gave up).  The reason
	 * and status stay the codes' reading (an "expired" 4.x.x either
	 * way, as sisimai reads them). */
	if (had_action || (permanent && strcmp(r->action, "delayed")))
		return;		/* nothing the verdict says changes it */
	if (verdict_of(vd) == VERDICT_DELAY && !permanent && strcmp(r->action, "delivered")) {
		str_copy(r->action, sizeof(r->action), "delayed");
		r->temporary = 1;	/* the summary says deferred, not refused */
		r->hard = 0;
	}
	else if (verdict_of(vd) == VERDICT_FINAL && !strcmp(r->action, "delayed"))
		str_copy(r->action, sizeof(r->action), "failed");
}

/* What one report is made of, collected before it is read. */
struct report {
	const struct msg *m;
	const struct mime *mm;
	char *human;		/* its text for people (malloc'd) */
	size_t hlen;
	const char *fb;		/* a message/feedback-report part */
	char self[256];		/* the report's addressee: never a recipient */
	int have_orig;
	size_t cap;		/* allocation of d->r */
	char *lead;		/* human up to the copy of the original (report_lead()) */
	size_t lead_len;	/* its length (lead_len()), SIZE_MAX until found */
	char *lead_lo;		/* the same in lower case (report_lead_lo()) */
	int fb_searched;	/* fb_line is known (read_parts() searched) */
	const char *fb_line;	/* the text's "\nFeedback-Type:" line, or NULL */
};

/* strcasestr(s, w[k]) for each of the nw words w[k], all of which start
 * with a newline and the same letter: found[k] is the first place of
 * w[k] in s, or NULL.  Only the line starts with that letter, in either
 * case, are compared (two searches for a newline and the letter, in
 * step), and one pass finds every word: a search that runs to the end
 * of nearly every report ("\nFeedback-Type:") costs little more with
 * another word in it. */
static void lines_ci(const char *s, const char *const *w, const char **found, size_t nw)
{
	const char up[3] = { '\n', (char)toupper((unsigned char)w[0][1]), '\0' };
	const char lo[3] = { '\n', (char)tolower((unsigned char)w[0][1]), '\0' };
	const char *a = strstr(s, up), *b = up[1] != lo[1] ? strstr(s, lo) : NULL;
	size_t left = nw;

	for (size_t k = 0; k < nw; k++)
		found[k] = NULL;
	while ((a || b) && left) {
		const char *p = !b || (a && a < b) ? a : b;

		for (size_t k = 0; k < nw; k++)
			if (!found[k] && !strncasecmp(p + 1, w[k] + 1, strlen(w[k] + 1))) {
				found[k] = p;
				left--;
				break;
			}
		if (p == a)
			a = strstr(a + 1, up);
		else
			b = strstr(b + 1, lo);
	}
}

/* strcasestr(s, w) for a w that starts with a newline (lines_ci()). */
static const char *line_ci(const char *s, const char *w)
{
	const char *found;

	lines_ci(s, &w, &found, 1);
	return found;
}

/* Is [s, s+n) a bare host name: labels of letters, digits and hyphens,
 * two at least? */
static int host_token(const char *s, size_t n)
{
	int dots = 0;

	if (n < 4 || n > 253 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' && s[i - 1] == '.')
			return 0;
		if (c == '.')
			dots++;
		else if (!isalnum(c) && c != '-')
			return 0;
	}
	return dots > 0;
}

/* The line before the one that starts at p in text (NULL: none), *n its
 * length without the blanks at its end. */
static const char *prev_line(const char *text, const char *p, size_t *n)
{
	const char *e, *b;

	if (p <= text || p[-1] != '\n')
		return NULL;
	e = b = p - 1;
	while (b > text && b[-1] != '\n')
		b--;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	*n = (size_t)(e - b);
	return b;
}

/* The recipient whose address is [a, a+n), without a host yet. */
static struct dsn_rcpt *rcpt_named(struct dsn *d, const char *a, size_t n)
{
	for (size_t i = 0; i < d->n; i++)
		if (!d->r[i].rhost[0] && strlen(d->r[i].recipient) == n &&
		    !strncasecmp(d->r[i].recipient, a, n))
			return &d->r[i];
	return NULL;
}

/* Exchange and Office 365 name the host that refused in their
 * "Diagnostic information for administrators", not in the DSN: the
 * recipient's line, the remote host's line, then "Remote Server
 * returned '550 ...'" (Exchange Online); the recipient's line, then
 * "Remote Server at HOST (IP) returned" (Exchange 2013-2019); the newer
 * layout's "Remote server: HOST" under "Error Details".  One pass over
 * the lines that start with "Remote Server". */
static void exchange_rhost(struct dsn *d, const char *human)
{
	static const char ret[] = "Remote Server returned", at[] = "Remote Server at ";
	static const char label[] = "Remote server:";
	const char *p = human;
	size_t i = 0;

	/* it names the host of a recipient without one: when all have one
	 * (a DSN's Remote-MTA), the text is not searched */
	while (i < d->n && d->r[i].rhost[0])
		i++;
	if (i == d->n)
		return;
	while ((p = line_ci(p, "\nRemote Server")) != NULL) {
		const char *l = ++p, *h = NULL, *a;
		size_t hl = 0, alen;
		struct dsn_rcpt *r;

		if (!strncasecmp(l, at, sizeof(at) - 1)) {
			h = l + sizeof(at) - 1;
			hl = strcspn(h, " \t\n(");
			a = prev_line(human, l, &alen);
		} else if (!strncasecmp(l, ret, sizeof(ret) - 1)) {
			h = prev_line(human, l, &hl);
			a = h ? prev_line(human, h, &alen) : NULL;
		} else if (!strncasecmp(l, label, sizeof(label) - 1) && d->n == 1) {
			h = l + sizeof(label) - 1;
			h += strspn(h, " \t");
			hl = strcspn(h, " \t\r\n");
			a = d->r[0].recipient;
			alen = strlen(a);
		} else {
			continue;
		}
		if (h && a && host_token(h, hl) && (r = rcpt_named(d, a, alen)) != NULL)
			copy_cut(r->rhost, sizeof(r->rhost), h, hl);
	}
}

/* The length of the report's own words: up to the line that starts the
 * copy of the original message (cut_line()), or all of it; found once
 * per report. */
static size_t lead_len(struct report *rp)
{
	const char *p = rp->human, *end = rp->human + rp->hlen;

	if (rp->lead_len != SIZE_MAX)
		return rp->lead_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (cut_line(p, (size_t)((nl ? nl : end) - p)))
			break;
		p = nl ? nl + 1 : end;
	}
	rp->lead_len = (size_t)(p - rp->human);
	return rp->lead_len;
}

/* The copy of the original message inside plain text: the first header
 * line from the line that announces it (the one lead_len() stops at). */
static const char *inline_orig(struct report *rp, size_t *olen)
{
	const char *p = rp->human + lead_len(rp), *end = rp->human + rp->hlen;
	const char *nl;
	size_t n;

	if (p >= end)
		return NULL;	/* no line announces one */
	nl = memchr(p, '\n', (size_t)(end - p));
	n = (size_t)((nl ? nl : end) - p);
	/* the announcing line is the copy's first only when it is a
	 * header line itself ("Content-Type: message/rfc822" is not) */
	if (!msg_looks_like_header(p, n) || !strncasecmp(p, "content-type", 12))
		p = nl ? nl + 1 : end;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if (msg_looks_like_header(p, n) && strncasecmp(p, "content-", 8)) {
			*olen = (size_t)(end - p);
			return p;
		}
		p = nl ? nl + 1 : end;
	}
	return NULL;
}

/* The delivery-status parts (the report's own, else a forwarded one),
 * the feedback part and the copy of the original message. */
static void read_parts(struct dsn *d, struct report *rp)
{
	const struct mime *mm = rp->mm;
	const char *orig = NULL;
	size_t olen = 0;

	for (size_t i = 0; i < mm->n; i++) {
		if (mm->p[i].nested)
			continue;
		if (type_in(mm->p[i].type, ds_types))
			ds_parse(d, &rp->cap, mm->p[i].data, mm->p[i].len);
		else if (!orig && type_in(mm->p[i].type, orig_types)) {
			orig = mm->p[i].data;
			olen = mm->p[i].len;
		} else if (!strcmp(mm->p[i].type, "message/feedback-report"))
			rp->fb = mm->p[i].data;
	}
	/* no report of its own: a forwarded one inside the attached message
	 * (a bounce sent on by a filter or a help desk) */
	for (size_t i = 0; !d->n && i < mm->n; i++) {
		size_t k;

		if (!mm->p[i].nested || !type_in(mm->p[i].type, ds_types))
			continue;
		for (k = i; k < mm->n && mm->p[k].nested; k++)
			if (type_in(mm->p[k].type, ds_types))
				ds_parse(d, &rp->cap, mm->p[k].data, mm->p[k].len);
		i = k;		/* each part once: the run is read */
	}
	if (!orig)
		orig = inline_orig(rp, &olen);
	if (orig) {
		d->orig = xmalloc(olen + 1);
		memcpy(d->orig, orig, olen);
		d->orig[olen] = '\0';
		d->olen = olen;
		msg_parse(&d->om, d->orig, d->olen);
		rp->have_orig = 1;
	}
	if (!d->n) {
		/* delivery-status fields written into the text */
		static const char *const fields[] = { "\nFinal-Recipient:", "\nFeedback-Type:" };
		const char *found[2], *f;

		lines_ci(rp->human, fields, found, 2);
		f = found[0];
		rp->fb_line = found[1];
		rp->fb_searched = 1;
		if (f && bounce_signals(rp->m)) {
			const char *st = f;

			while (st > rp->human && !(st[-1] == '\n' && st[0] == '\n'))
				st--;
			ds_parse(d, &rp->cap, st, rp->hlen - (size_t)(st - rp->human));
		}
	}
}

/* The report's own words as a string, freed with the report. */
static const char *report_lead(struct report *rp)
{
	if (!rp->lead)
		rp->lead = xstrndup(rp->human, lead_len(rp));
	return rp->lead;
}

/* report_lead() in lower case, for the searches of lower-case words. */
static const char *report_lead_lo(struct report *rp)
{
	if (!rp->lead_lo)
		rp->lead_lo = lower_dup(report_lead(rp));
	return rp->lead_lo;
}

/* A bounce in prose: recipients from X-Failed-Recipients, the text, an
 * address in brackets, the original's To:, in that order of trust. */
static void read_prose_bounce(struct dsn *d, struct report *rp)
{
	add_addresses(d, &rp->cap, msg_get(rp->m, "X-Failed-Recipients"));
	text_scan(d, &rp->cap, rp->human, lead_len(rp), rp->self, d->n > 0, rp->m);
	if (!d->n) {
		bracketed_addr(d, &rp->cap, report_lead(rp), rp->self, rp->m);
		if (!d->n)
			sentence_addrs(d, &rp->cap, report_lead(rp), rp->self, rp->m);
		if (!d->n)
			bare_names(d, &rp->cap, report_lead(rp), rp->m);
	}
	if (!d->n && rp->have_orig)
		add_addresses(d, &rp->cap, msg_get(&d->om, "To"));
	if (d->n && !d->r[0].diag[0])
		text_scan(d, &rp->cap, rp->human, lead_len(rp), rp->self, 1, rp->m);
	for (size_t i = 0, first = SIZE_MAX; i < d->n; i++) {
		if (d->r[i].diag[0])
			continue;
		/* the report's words, not the copy of the original after them
		 * (its header's version numbers are no status codes); read
		 * once, not once for each of 512 recipients */
		if (first == SIZE_MAX) {
			narrow_diag(&d->r[i], report_lead(rp));
			first = i;
		} else {
			memcpy(d->r[i].diag, d->r[first].diag, sizeof(d->r[i].diag));
		}
		d->r[i].borrowed = 1;
	}
}

static int unsubscribe_request(const struct msg *m)
{
	const char *s = msg_get(m, "Subject");

	return s && !strcasecmp(s, "unsubscribe");
}

static void read_autoreply(struct dsn *d, struct report *rp)
{
	struct dsn_rcpt *r;
	char from[256];

	if (addr_of(msg_get(rp->m, "From"), from, sizeof(from)) == 0 &&
	    (r = dsn_add(d, &rp->cap, from)) != NULL) {
		r->reason = "vacation";
		dsn_append(r->diag, sizeof(r->diag), rp->human, strlen(rp->human));
	}
}

int dsn_read(struct dsn *d, const struct msg *m, const struct mime *mm)
{
	struct report rp;
	int enrich_all = 1, format;
	struct verdict vd = { m, NULL, VERDICT_NONE };

	memset(d, 0, sizeof(*d));
	memset(&rp, 0, sizeof(rp));
	rp.lead_len = SIZE_MAX;
	rp.m = m;
	rp.mm = mm;
	rp.human = human_text(mm, &rp.hlen);
	addr_of(msg_get(m, "To"), rp.self, sizeof(rp.self));
	format = stageless_format(m, rp.human);
	read_parts(d, &rp);
	if (rp.fb || (rp.fb_searched ? rp.fb_line : line_ci(rp.human, "\nFeedback-Type:")) ||
	    report_type(m, "feedback-report")) {
		d->kind = DSN_FEEDBACK;
		feedback(d, &rp.cap, mm, rp.have_orig ? &d->om : NULL);
		enrich_all = 0;
	} else if (unsubscribe_request(m)) {
		/* a mail client acting on List-Unsubscribe (RFC 2369 mailto):
		 * the recipient's complaint, sent by the recipient */
		d->kind = DSN_FEEDBACK;
		read_autoreply(d, &rp);
		for (size_t i = 0; i < d->n; i++)
			d->r[i].reason = "feedback";
		enrich_all = 0;
	} else if (!d->n && ses_read(d, &rp.cap, rp.human)) {
		enrich_all = d->kind != DSN_FEEDBACK;
	} else if (d->n) {
		d->kind = DSN_BOUNCE;
		text_scan(d, &rp.cap, rp.human, lead_len(&rp), rp.self, 1, rp.m);
	} else if (bounce_signals(m) || bounce_words(rp.human)) {
		d->kind = DSN_BOUNCE;
		read_prose_bounce(d, &rp);
	} else if (autoreply_signals(m) || reason_is_vacation(rp.human)) {
		d->kind = DSN_AUTOREPLY;
		read_autoreply(d, &rp);
		enrich_all = 0;
	} else {
		d->kind = DSN_MESSAGE;
		enrich_all = 0;
	}
	if (d->kind == DSN_BOUNCE)
		exchange_rhost(d, rp.human);
	if (enrich_all && d->kind == DSN_BOUNCE) {
		/* the verdict speaks only for recipients without an Action:
		 * enrich() reads it for those */
		vd.lo = report_lead_lo(&rp);
		vd.v = -1;
		d->attempts = count_attempts(report_lead_lo(&rp), 1);
		for (size_t i = 0; !d->attempts && i < d->n; i++)
			d->attempts = count_attempts(d->r[i].diag, 0);
	}
	for (size_t i = 0; enrich_all && i < d->n; i++)
		enrich(&d->r[i], format, &vd);
	free(rp.lead);
	free(rp.lead_lo);
	free(rp.human);
	return 0;
}

void dsn_free(struct dsn *d)
{
	free(d->r);
	msg_free(&d->om);
	free(d->orig);
	memset(d, 0, sizeof(*d));
}
