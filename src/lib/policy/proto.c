/*
 * proto.c - reader and reply writer of the Postfix policy protocol.
 *
 * Two passes over the input: the first only measures (line lengths,
 * line count, where the empty line is) and touches nothing, so an
 * incomplete request can be looked at again when more bytes arrive; the
 * second, on a complete request, cuts it into names and values in place.
 *
 * SECURITY: untrusted network input. Every limit is checked in the first
 * pass before any attribute is looked at; no allocation; no byte past
 * buf[len) is read.
 */
#include "policy/proto.h"

#include <stdint.h>
#include <string.h>

/* Length of the line at p (without LF and an optional CR before it). */
static size_t line_len(const char *p, size_t n)
{
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

/* First pass: find the end of the request. Returns 1 with *end past the
 * empty line and lf[0..*nlines) the offsets of the LFs of the attribute
 * lines, PP_NEED_MORE, or an error. */
static int pp_measure(const char *buf, size_t len, size_t *end, uint16_t *lf,
		      unsigned *nlines)
{
	size_t pos = 0;
	unsigned lines = 0;

	for (;;) {
		size_t avail = len - pos;
		size_t scan = avail < PP_MAX_LINE + 2 ? avail : PP_MAX_LINE + 2;
		const char *nl = memchr(buf + pos, '\n', scan);
		size_t n;

		if (!nl) {
			/* a partial line already too long cannot end well */
			if (avail > PP_MAX_LINE + 1)
				return PP_ELINE;
			if (len > PP_MAX_REQUEST)
				return PP_ESIZE;
			return PP_NEED_MORE;
		}
		n = (size_t)(nl - (buf + pos));
		if (line_len(buf + pos, n) > PP_MAX_LINE)
			return PP_ELINE;
		pos += n + 1;
		if (pos > PP_MAX_REQUEST)
			return PP_ESIZE;
		if (line_len(buf + pos - n - 1, n) == 0) {
			if (lines == 0)
				return PP_ESYNTAX;	/* an empty request */
			*end = pos;
			*nlines = lines;
			return 1;
		}
		if (lines == PP_MAX_ATTRS)
			return PP_EATTRS;
		lf[lines++] = (uint16_t)(pos - 1);	/* pos <= PP_MAX_REQUEST */
	}
}

static const struct {
	const char *name;
	size_t len, off;
} pp_fields[] = {
#define F(x) { #x, sizeof(#x) - 1, offsetof(struct pp_request, x) }
	F(request), F(protocol_state), F(client_address), F(client_name),
	F(helo_name), F(sender), F(recipient), F(recipient_count),
	F(sasl_username), F(instance), F(queue_id),
#undef F
};

/* Store one name=value pair (name of length nl); returns 0 or PP_EDUP. */
static int pp_store(struct pp_request *req, const char *name, size_t nl, const char *value)
{
	for (size_t i = 0; i < sizeof(pp_fields) / sizeof(pp_fields[0]); i++) {
		const char **slot;

		if (nl != pp_fields[i].len || name[0] != pp_fields[i].name[0] ||
		    memcmp(name, pp_fields[i].name, nl))
			continue;
		slot = (const char **)((char *)req + pp_fields[i].off);
		if (*slot)
			return PP_EDUP;
		*slot = value;
		return 0;
	}
	return 0;
}

int pp_parse(char *buf, size_t len, struct pp_request *req, size_t *used)
{
	uint16_t lf[PP_MAX_ATTRS];
	size_t end = 0, pos = 0;
	unsigned nlines = 0;
	int rc = pp_measure(buf, len, &end, lf, &nlines);

	if (rc != 1)
		return rc;
	/* a NUL inside a line would hide the rest of it */
	if (memchr(buf, '\0', end))
		return PP_ESYNTAX;
	memset(req, 0, sizeof(*req));
	/* the lines the first pass found (the empty one not among them) */
	for (unsigned i = 0; i < nlines; i++) {
		char *line = buf + pos;
		size_t n = lf[i] - pos;
		char *eq;

		pos = (size_t)lf[i] + 1;
		n = line_len(line, n);
		line[n] = '\0';
		/* names are short: a plain loop beats a call to memchr */
		for (eq = line; *eq && *eq != '='; eq++)
			;
		if (!*eq || eq == line)
			return PP_ESYNTAX;
		*eq = '\0';
		req->nattrs++;
		if ((rc = pp_store(req, line, (size_t)(eq - line), eq + 1)) < 0)
			return rc;
	}
	*used = end;
	return 1;
}

const char *pp_strerror(int err)
{
	switch (err) {
	case PP_NEED_MORE: return "incomplete request";
	case PP_ELINE: return "line too long";
	case PP_EATTRS: return "too many attributes";
	case PP_ESIZE: return "request too large";
	case PP_ESYNTAX: return "not a name=value line";
	case PP_EDUP: return "attribute given twice";
	}
	return "unknown error";
}

enum pp_state pp_state_of(const struct pp_request *req)
{
	static const struct {
		const char *name;
		enum pp_state st;
	} states[] = {
		{ "RCPT", PS_RCPT }, { "END-OF-MESSAGE", PS_EOM },
		{ "CONNECT", PS_CONNECT }, { "EHLO", PS_EHLO },
		{ "HELO", PS_EHLO }, { "MAIL", PS_MAIL }, { "DATA", PS_DATA },
	};

	if (!req->protocol_state)
		return PS_OTHER;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(req->protocol_state, states[i].name))
			return states[i].st;
	return PS_OTHER;
}

int pp_format_reply(char *out, size_t cap, const char *text)
{
	static const char pre[] = "action=";
	size_t tl = strlen(text), need = sizeof(pre) - 1 + tl + 2;

	if (need >= cap)
		return -1;
	memcpy(out, pre, sizeof(pre) - 1);
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)text[i];

		out[sizeof(pre) - 1 + i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[need - 2] = '\n';
	out[need - 1] = '\n';
	out[need] = '\0';
	return (int)need;
}
