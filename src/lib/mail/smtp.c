/*
 * smtp.c - what an SMTP reply quoted in a report says: the reply code,
 * the enhanced status code, the command that failed, the remote host;
 * multi-line replies unwrapped.  See smtp.h.
 *
 * SECURITY: untrusted text (a remote server's words, a report's prose),
 * NUL-terminated; every look-ahead stops at the terminator.
 */
#define _GNU_SOURCE
#include "mail/smtp.h"
#include "base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void cut_copy(char *dst, size_t dlen, const char *src, size_t n)
{
	if (n >= dlen)
		n = dlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Is there an x.y.z status code at p (class digit first)? Returns its
 * length or 0.  An IPv4 address is not one. */
size_t smtp_status_at(const char *text, const char *p)
{
	const char *q = p;
	int d2 = 0, d3 = 0;

	if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.'))
		return 0;
	if (*q != '2' && *q != '4' && *q != '5')
		return 0;
	if (*++q != '.')
		return 0;
	while (isdigit((unsigned char)*++q))
		d2++;
	if (d2 < 1 || d2 > 3 || *q != '.')
		return 0;
	while (isdigit((unsigned char)*++q))
		d3++;
	if (d3 < 1 || d3 > 3 || (*q == '.' && isdigit((unsigned char)q[1])) ||
	    isalpha((unsigned char)*q))
		return 0;
	return (size_t)(q - p);
}

int smtp_find_status(const char *text, char *out, size_t len)
{
	const char *first = NULL, *paired = NULL, *from = text;
	size_t fl = 0, pl = 0;

	/* a code has a '.' right after its class digit: only the byte
	 * before a '.' can start one, and no code starts inside another */
	for (const char *dot = *text ? strchr(text + 1, '.') : NULL; dot; dot = strchr(dot + 1, '.')) {
		const char *p = dot - 1;
		size_t n;

		if (p < from || (*p != '2' && *p != '4' && *p != '5') ||
		    !(n = smtp_status_at(text, p)))
			continue;
		from = p + n;
		if (*p == '2' && first)
			continue;
		/* "550 5.1.1", "550-5.1.1": the last such pair is the reply
		 * that ended the attempt */
		{
			/* a quote may sit between them: "550-'5.7.1 ..." */
			const char *q = p;

			if (q - text >= 1 && (q[-1] == '\'' || q[-1] == '"'))
				q--;
			if (q - text >= 4 && isdigit((unsigned char)q[-4]) &&
			    (q[-1] == ' ' || q[-1] == '-') && q[-4] == *p) {
				paired = p;
				pl = n;
			}
		}
		if (!first || (first[0] == '2' && *p != '2')) {
			first = p;
			fl = n;
		}
	}
	if (paired) {
		first = paired;
		fl = pl;
	}
	if (!first)
		return -1;
	cut_copy(out, len, first, fl);
	return 0;
}

/* A reply code at p: three digits, [245][0-5][0-9], not inside a number
 * or an address, followed by a blank, '-', or end. */
int smtp_reply_at(const char *text, const char *p)
{
	if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '.' ||
			 (p[-1] == ':' && (p - text < 2 || p[-2] != ' ')) ||
			 p[-1] == '-' || p[-1] == '/' || p[-1] == '#' ||
			 p[-1] == '_' || p[-1] == '=' || p[-1] == '+'))
		return 0;
	if ((p[0] != '2' && p[0] != '4' && p[0] != '5') || p[1] < '0' || p[1] > '5' ||
	    !isdigit((unsigned char)p[2]))
		return 0;
	/* "550 text", "550-text", "550", "[550]", "550," and Yahoo's "550:" */
	return p[3] == '\0' || p[3] == ' ' || (p[3] == '-' && p[4] != '-') ||
	       p[3] == ']' || p[3] == ',' || (p[3] == ':' && !isdigit((unsigned char)p[4]));
}

int smtp_find_reply(const char *text, char out[4])
{
	const char *best = NULL;

	/* a code starts with its class digit: strpbrk() skips the rest */
	for (const char *p = text; (p = strpbrk(p, "245")) != NULL; p++) {
		if (!smtp_reply_at(text, p))
			continue;
		/* "550 5.1.1": the code with the same class as a status */
		if (p[3] && smtp_status_at(text, p + 4) && p[4] == p[0]) {
			best = p;
			break;
		}
		if (!best && p[0] != '2')
			best = p;
	}
	if (!best)
		return -1;
	memcpy(out, best, 3);
	out[3] = '\0';
	return 0;
}


static const struct { const char *word, *cmd; } smtp_cmds[] = {
	{ "rcpt to", "RCPT" }, { "rcpt_to", "RCPT" }, { "rcpt", "RCPT" },
	{ "mail from", "MAIL" }, { "mail_from", "MAIL" }, { "mail", "MAIL" },
	{ "end of data", "DATA" }, { "data", "DATA" }, { "ehlo", "EHLO" },
	{ "helo", "HELO" }, { "starttls", "STARTTLS" }, { "auth", "AUTH" },
	{ "initial connection", "CONN" }, { "connect", "CONN" },
};

/* The command named at p (case-insensitive), or NULL. */
static const char *cmd_at(const char *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(smtp_cmds); i++) {
		size_t n;

		/* the first two letters decide most: no call for the others */
		if ((p[0] | 0x20) != smtp_cmds[i].word[0] || (p[1] | 0x20) != smtp_cmds[i].word[1])
			continue;
		n = strlen(smtp_cmds[i].word);
		/* a word of its own: not "mail.example.com", "data-center" */
		if (!strncasecmp(p, smtp_cmds[i].word, n) && !isalnum((unsigned char)p[n]) &&
		    p[n] != '.' && p[n] != '-' && p[n] != '@' && p[n] != '/')
			return smtp_cmds[i].cmd;
	}
	return NULL;
}

/* "RCPT TO response", "DATA command": the command named at q when those
 * words follow it, else NULL. */
static const char *response_of(const char *q)
{
	const char *c = cmd_at(q), *e;

	if (!c)
		return NULL;
	e = q;
	while (*e && *e != ' ')
		e++;
	if (!strncmp(e, " to ", 4) || !strncmp(e, " from ", 6)) {
		e += e[1] == 't' ? 3 : 5;
		while (*e && *e != ' ')
			e++;
	}
	return !strncmp(e, " response", 9) || !strncmp(e, " command", 8) ? c : NULL;
}

/* The command a transcript in t (lower case) shows failing: with a reply
 * quoted ("<<< 550 ..."), the command the first 4xx/5xx reply answered,
 * or the connection itself when the reply came before anything was sent
 * (after "while talking to"); else the first command sent (">>> X"). */
static const char *transcript_command(const char *t)
{
	const char *p, *sent = NULL;

	/* no reply quoted: the walk finds nothing; else it stops only where
	 * "while", ">>> " or "<<< " can start */
	for (p = strstr(t, "<<< ") ? t : ""; (p = strpbrk(p, "w><")) != NULL; p++) {
		if (p != t && p[-1] != ' ' && p[-1] != '\n')
			continue;
		if (!strncmp(p, "while talking to", 16))
			sent = NULL;
		else if (!strncmp(p, ">>> ", 4))
			sent = cmd_at(p + 4) ? cmd_at(p + 4) : "";
		else if (!strncmp(p, "<<< ", 4) && (p[4] == '4' || p[4] == '5') &&
			 smtp_reply_at(t, p + 4) && (!sent || *sent))
			return sent ? sent : "CONN";
	}
	for (p = t; (p = strstr(p, ">>> ")) != NULL; p += 4)
		if (cmd_at(p + 4))
			return cmd_at(p + 4);
	return NULL;
}

/* Words that some phrases below contain: a phrase is searched for only
 * when its word occurs, and " command" also decides whether a "DATA
 * command" can be there at all. */
enum { NEED_BUT = 1, NEED_COMMAND = 2 };

/* The command t (lower case) names: a phrase (the first in the list that
 * occurs), else the first "RCPT TO response" / "DATA command", else the
 * first "in reply to X", "after X" or "[X".  Called only when
 * transcript_command() found nothing: there is no ">>> X" to look for. */
static const char *named_command(const char *t)
{
	static const char *const intro[] = { "in reply to ", "after ", "[" };
	static const struct {
		const char *words, *cmd;
		unsigned need;
	} phrases[] = {
		/* qmail-remote's own words */
		{ "does not like recipient", "RCPT", 0 },
		{ "but sender was rejected", "MAIL", NEED_BUT },
		{ "but greeting failed", "CONN", NEED_BUT },
		{ "but my name was rejected", "EHLO", NEED_BUT },
		{ "failed on data command", "DATA", NEED_COMMAND },
		{ "failed after i sent the message", "DATA", 0 },
		/* Postfix: the server refused the connection; 1&1: the body */
		{ "refused to talk to me", "CONN", 0 },
		{ "for text command", "DATA", NEED_COMMAND },
		{ "smtp command data", "DATA", NEED_COMMAND },
		{ "smtp command rcpt", "RCPT", NEED_COMMAND },
		{ "smtp command mail", "MAIL", NEED_COMMAND },
	};
	const unsigned have = (strstr(t, "but ") ? NEED_BUT : 0) |
			      (strstr(t, " command") ? NEED_COMMAND : 0);
	const char *first = NULL, *c = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(phrases); i++)
		if (!(phrases[i].need & ~have) && strstr(t, phrases[i].words))
			return phrases[i].cmd;
	/* response_of() needs " command" or " response" after the word */
	if ((have & NEED_COMMAND) || strstr(t, " response"))
		for (const char *q = t; *q; q++) {
			const char ch = *q;

			/* t is lower case: a letter is a..z */
			if ((q == t || q[-1] < 'a' || q[-1] > 'z') &&
			    (ch == 'r' || ch == 'm' || ch == 'd' || ch == 'e' || ch == 'h' ||
			     ch == 's' || ch == 'a' || ch == 'c') &&
			    (c = response_of(q)) != NULL)
				return c;
		}
	/* the intros start with different characters: at most one is at
	 * any place, and the first place wins */
	for (size_t i = 0; i < ARRAY_SIZE(intro); i++) {
		const size_t k = strlen(intro[i]);

		for (const char *q = t; (q = strstr(q, intro[i])) != NULL && (!first || q < first); q++)
			if (cmd_at(q + k)) {
				first = q;
				c = cmd_at(q + k);
				break;
			}
	}
	return c;
}

/* The SMTP command that failed: the last one a transcript sent (">>> "),
 * else the one the text names ("in reply to RCPT TO command", "after end
 * of data", "RCPT TO response", "[RCPT_TO]"). */
void smtp_find_command(const char *text, char *out, size_t len)
{
	char t[4096];		/* a recipient's block is at most this long */
	const char *best;

	/* one lower-case copy, then plain searches */
	ascii_lower_copy(t, text, strnlen(text, sizeof(t) - 1));
	best = transcript_command(t);
	if (!best)
		best = named_command(t);
	if (best)
		str_copy(out, len, best);
}

/* strcasestr(p, w) for p inside t, by a plain search of low, the
 * lower-case copy of t (NULL: no copy, search t itself). */
static const char *find_ci(const char *t, const char *low, const char *p, const char *w)
{
	const char *q;

	if (!low)
		return strcasestr(p, w);
	q = strstr(low + (p - t), w);
	return q ? t + (q - low) : NULL;
}

void smtp_find_rhost(const char *t, char *out, size_t len)
{
	static const char *const intro[] = { "remote host ", "host ", "server ",
		"by ", "mx " };
	char buf[4096], *low = NULL;
	size_t n = strlen(t);

	/* one lower-case copy for the five searches; a longer text (not
	 * one of ours: a recipient's words are shorter) is searched as is */
	if (n < sizeof(buf)) {
		ascii_lower_copy(buf, t, n);
		low = buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(intro); i++) {
		const char *p = t;

		while ((p = find_ci(t, low, p, intro[i])) != NULL) {
			const char *s = p + strlen(intro[i]), *e = s;

			if (p > t && isalnum((unsigned char)p[-1])) {
				p++;
				continue;
			}
			while (*e && (isalnum((unsigned char)*e) || *e == '.' || *e == '-'))
				e++;
			while (e > s && e[-1] == '.')
				e--;
			if (e - s >= 4 && memchr(s, '.', (size_t)(e - s))) {
				cut_copy(out, len, s, (size_t)(e - s));
				return;
			}
			p = s;
		}
	}
}

/* Unwrap a multi-line SMTP reply: "550-5.7.1 a 550-5.7.1 b 550 5.7.1 c"
 * becomes "550 5.7.1 a b c" (the continuation codes repeat the first). */
void smtp_unwrap(char *s)
{
	char code[4], st[16] = "";
	size_t n = strlen(s), o, sl = 0;

	if (!smtp_reply_at(s, s))
		return;
	memcpy(code, s, 3);
	code[3] = '\0';
	if (!s[3])
		return;
	if (s[3] == '-')
		s[3] = ' ';
	if (smtp_status_at(s, s + 4)) {
		sl = smtp_status_at(s, s + 4);
		cut_copy(st, sizeof(st), s + 4, sl);
	}
	o = 4 + (sl ? sl + 1 : 0);
	for (size_t i = o; i < n;) {
		/* the bytes before the next one that can start a code move
		 * as they are, in one piece */
		const char *c = memchr(s + i, code[0], n - i);
		const size_t m = c ? (size_t)(c - s) - i : n - i;

		if (o < i)
			memmove(s + o, s + i, m);
		o += m;
		i += m;
		if (i == n)
			break;
		if (!strncmp(s + i, code, 3) && (s[i + 3] == '-' ||
		    s[i + 3] == ' ') && (i == 0 || s[i - 1] == ' ') && smtp_reply_at(s, s + i)) {
			size_t k = i + 4;

			if (sl && !strncmp(s + k, st, sl) && (s[k + sl] == ' ' || !s[k + sl]))
				k += sl + (s[k + sl] == ' ');
			if (s[i + 3] == '-' || k > i + 4) {
				i = k;
				continue;
			}
		}
		s[o++] = s[i++];
	}
	s[o] = '\0';
}
