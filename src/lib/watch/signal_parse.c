/*
 * signal_parse.c - the Postfix log line parser of watch/signal.h: which
 * lines report a remote server refusing our mail with words that name a
 * blocklist, and what they say (list, our address, recipient domain,
 * receiving host, the text).  Also the text helpers of signal_int.h.
 *
 * Only smtp(8) lines count (the syslog tag's program is "smtp" or
 * "relay", whatever the instance prefix): the reports of inbound mail
 * that our own smtpd refused ("NOQUEUE: reject: ... blocked using
 * zen.spamhaus.org") name lists too, and must never look like a listing
 * of ours.  Only the remote server's words are matched against the
 * catalogue: a recipient at spamhaus.org is not a Spamhaus rejection.
 *
 * SECURITY: untrusted input: any bytes a remote SMTP server (or a local
 * user) can get into a log line; lengths are explicit, reads stay inside
 * the line, every copy is bounded and cleaned.
 */
#define _GNU_SOURCE		/* memmem, pipe2 */
#include "watch/signal.h"
#include "watch/signal_int.h"

#include "base/util.h"
#include "dnsbl/catalog.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

/* A piece of the line: p, n bytes (not terminated). */
struct span {
	const char *p;
	size_t n;
};

void wsig_clean(char *dst, size_t size, const char *src, size_t n)
{
	size_t o = 0, i = 0, k;
	const unsigned char *s = (const unsigned char *)src;

	while (i < n && o + 1 < size) {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			dst[o++] = (char)s[i++];
			continue;
		}
		k = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 0;
		/* C1 controls (U+0080..U+009F) are not printable either */
		if (k > 1 && !(s[i] == 0xc2 && s[i + 1] < 0xa0)) {
			if (o + k >= size)
				break;
			memcpy(dst + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		dst[o++] = '?';
		i++;
	}
	dst[o] = '\0';
}

static int is_ipchar(unsigned char c)
{
	return isxdigit(c) || c == '.' || c == ':';
}

/* Is text[a..b) an address?  Copied to out when it is. */
static int try_ip(const char *t, size_t a, size_t b, char *out, size_t size)
{
	char tmp[64];
	unsigned char bin[16];
	size_t n = b - a;

	if (n < 2 || n >= sizeof(tmp) || (!memchr(t + a, '.', n) && !memchr(t + a, ':', n)))
		return 0;
	memcpy(tmp, t + a, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, bin) != 1 && inet_pton(AF_INET6, tmp, bin) != 1)
		return 0;
	str_copy(out, size, tmp);
	return 1;
}

/* An address in brackets: "[" ["IPv6:"] addr "]". */
static int find_bracketed(const char *t, size_t n, char *out, size_t size)
{
	size_t i, a, b;

	for (i = 0; i < n; i++) {
		if (t[i] != '[')
			continue;
		a = i + 1;
		if (n - a >= 5 && !strncasecmp(t + a, "ipv6:", 5))
			a += 5;
		for (b = a; b < n && is_ipchar((unsigned char)t[b]); b++)
			;
		if (b < n && t[b] == ']' && try_ip(t, a, b, out, size))
			return 1;
	}
	return 0;
}

/* A bare address, not part of a word or a host name
 * ("5.113.0.203.zen.spamhaus.org" holds none). */
static int find_bare(const char *t, size_t n, char *out, size_t size)
{
	size_t i = 0, a, b, e;

	while (i < n) {
		if (!is_ipchar((unsigned char)t[i])) {
			i++;
			continue;
		}
		a = i;
		for (b = a; b < n && is_ipchar((unsigned char)t[b]); b++)
			;
		i = b;
		if (a > 0 && (isalnum((unsigned char)t[a - 1]) ||
			      strchr("._-/@", t[a - 1])))
			continue;
		if (b < n && (isalnum((unsigned char)t[b]) || t[b] == '-' || t[b] == '_'))
			continue;
		/* a trailing dot or colon ends the sentence, unless a name goes on */
		e = b;
		while (e > a && (t[e - 1] == '.' || (t[e - 1] == ':' && (e < 2 || t[e - 2] != ':'))))
			e--;
		if (e < b && b < n && isalnum((unsigned char)t[b]))
			continue;
		if (try_ip(t, a, e, out, size))
			return 1;
	}
	return 0;
}

int wsig_find_ip(const char *text, size_t n, char *out, size_t size)
{
	out[0] = '\0';
	if (find_bracketed(text, n, out, size) || find_bare(text, n, out, size))
		return 1;
	out[0] = '\0';
	return 0;
}

void wsig_domain(const char *addr, size_t n, char *out, size_t size)
{
	const char *at = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (addr[i] == '@')
			at = addr + i;
	if (!at) {
		out[0] = '\0';
		return;
	}
	at++;
	wsig_clean(out, size, at, (size_t)(addr + n - at));
	for (i = 0; out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/* The syslog tag "prog[pid]:" among the first words of the line (after
 * a classic or an ISO timestamp and the host name); its program's last
 * path part in *prog, the message after it in *msg.  0 or -1. */
static int find_tag(struct span line, struct span *prog, struct span *msg)
{
	size_t i = 0, a, b, lb, words;
	const char *p = line.p;

	for (words = 0; words < 6 && i < line.n; words++) {
		while (i < line.n && p[i] == ' ')
			i++;
		a = i;
		while (i < line.n && p[i] != ' ')
			i++;
		b = i;
		/* "name[digits]:" */
		if (b - a < 5 || p[b - 1] != ':' || p[b - 2] != ']')
			continue;
		for (lb = b - 2; lb > a && isdigit((unsigned char)p[lb - 1]); lb--)
			;
		if (lb == a || lb == b - 2 || p[lb - 1] != '[')
			continue;
		lb--;
		prog->p = p + a;
		prog->n = lb - a;
		while (prog->n && memchr(prog->p, '/', prog->n)) {
			const char *sl = memchr(prog->p, '/', prog->n);
			prog->n -= (size_t)(sl + 1 - prog->p);
			prog->p = sl + 1;
		}
		msg->p = p + b;
		msg->n = line.n - b;
		while (msg->n && *msg->p == ' ') {
			msg->p++;
			msg->n--;
		}
		return 0;
	}
	return -1;
}

static int span_is(struct span s, const char *word)
{
	return s.n == strlen(word) && !memcmp(s.p, word, s.n);
}

static int starts(struct span s, const char *word)
{
	size_t n = strlen(word);

	return s.n >= n && !memcmp(s.p, word, n);
}

static void skip(struct span *s, size_t n)
{
	s->p += n;
	s->n -= n;
}

/* "host NAME[ADDR] said: " or "host NAME[ADDR] refused to talk to me: "
 * anywhere in s: the host (NAME[ADDR]) and the words after.  For "said:"
 * the words must start with a 4xx/5xx reply code. */
static int find_remote(struct span s, struct span *host, struct span *text)
{
	static const char said[] = " said: ", refused[] = " refused to talk to me: ";
	const char *h;
	struct span r = s;
	size_t i;

	while ((h = memmem(r.p, r.n, "host ", 5)) != NULL) {
		skip(&r, (size_t)(h - r.p) + 5);
		for (i = 0; i < r.n && r.p[i] != ' ' && r.p[i] != '['; i++)
			;
		if (i == 0 || i == r.n || r.p[i] != '[')
			continue;
		while (i < r.n && r.p[i] != ']' && r.p[i] != ' ')
			i++;
		if (i == r.n || r.p[i] != ']')
			continue;
		host->p = r.p;
		host->n = i + 1;
		*text = r;
		skip(text, i + 1);
		if (starts(*text, said)) {
			skip(text, sizeof(said) - 1);
			if (text->n >= 4 && (text->p[0] == '4' || text->p[0] == '5') &&
			    isdigit((unsigned char)text->p[1]) &&
			    isdigit((unsigned char)text->p[2]) &&
			    (text->p[3] == ' ' || text->p[3] == '-'))
				return 0;
		} else if (starts(*text, refused)) {
			skip(text, sizeof(refused) - 1);
			return 0;
		}
	}
	return -1;
}

/* "to=<ADDR>, ... status=bounced|deferred (REASON)": the recipient and
 * the reason (without the closing parenthesis).  0 or -1. */
static int read_status(struct span m, struct span *rcpt, struct span *reason)
{
	const char *gt, *st;
	struct span r;

	if (!starts(m, "to=<"))
		return -1;
	skip(&m, 4);
	gt = memmem(m.p, m.n, ">,", 2);
	if (!gt)
		return -1;
	rcpt->p = m.p;
	rcpt->n = (size_t)(gt - m.p);
	skip(&m, rcpt->n);
	st = memmem(m.p, m.n, ", status=", 9);
	if (!st)
		return -1;
	r = m;
	skip(&r, (size_t)(st - m.p) + 9);
	if (starts(r, "bounced ("))
		skip(&r, 9);
	else if (starts(r, "deferred ("))
		skip(&r, 10);
	else
		return -1;
	if (r.n && r.p[r.n - 1] == ')')
		r.n--;
	*reason = r;
	return 0;
}

int watch_log_parse_line(const char *line, size_t len,
			 const struct catalog *cat, int64_t now,
			 struct watch_signal *s)
{
	struct span l = { line, len }, prog, msg, rcpt = { NULL, 0 }, reason, host, text;
	const struct list *bl;
	size_t i;

	if (!cat || len > WATCH_LOG_MAX_LINE)
		return 0;
	if (find_tag(l, &prog, &msg) || !(span_is(prog, "smtp") || span_is(prog, "relay")))
		return 0;
	/* the queue id, when there is one */
	for (i = 0; i < msg.n && isalnum((unsigned char)msg.p[i]); i++)
		;
	if (i > 0 && i + 1 < msg.n && msg.p[i] == ':' && msg.p[i + 1] == ' ')
		skip(&msg, i + 2);
	if (starts(msg, "to=<")) {
		if (read_status(msg, &rcpt, &reason))
			return 0;
	} else if (starts(msg, "host ")) {
		reason = msg;
	} else {
		return 0;
	}
	if (find_remote(reason, &host, &text))
		return 0;
	bl = catalog_match_text(cat, text.p, text.n);
	if (!bl || bl->type != LT_BLOCK)
		return 0;
	memset(s, 0, sizeof(*s));
	s->when = now;
	str_copy(s->source, sizeof(s->source), "log");
	wsig_clean(s->list_id, sizeof(s->list_id), bl->id, strlen(bl->id));
	if (bl->zone)
		wsig_clean(s->zone, sizeof(s->zone), bl->zone, strlen(bl->zone));
	wsig_find_ip(text.p, text.n, s->ip, sizeof(s->ip));
	if (rcpt.p)
		wsig_domain(rcpt.p, rcpt.n, s->rcpt_domain, sizeof(s->rcpt_domain));
	wsig_clean(s->relay, sizeof(s->relay), host.p, host.n);
	wsig_clean(s->text, sizeof(s->text), text.p, text.n);
	return 1;
}
