/*
 * msg.c - RFC 5322 header reader; see msg.h.
 *
 * SECURITY: untrusted input; lengths are checked before every copy and the
 * limits of msg.h are applied before a field is stored.
 */
#include "mail/msg.h"
#include "base/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *msg_normalize(const char *text, size_t len, size_t *outlen)
{
	char *out = xmalloc(len + 1);
	size_t o = 0, i = 0;

	/* copy the runs between CRs whole; a CR or CRLF becomes LF */
	while (i < len) {
		const char *cr = memchr(text + i, '\r', len - i);
		size_t run = cr ? (size_t)(cr - text) - i : len - i;

		memcpy(out + o, text + i, run);
		o += run;
		i += run;
		if (!cr)
			break;
		out[o++] = '\n';
		i += i + 1 < len && text[i + 1] == '\n' ? 2 : 1;
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* 1 for the bytes of a field name: '!' to '~' except ':' */
static const unsigned char name_char[256] = {
	['!' ... '9'] = 1, [';' ... '~'] = 1,
};

/* Length of the field name at p if the line is "name:" (WSP before the
 * colon allowed, as obsolete syntax), else 0.  When colon is not NULL it
 * is set to the colon, so that the caller need not search for it again. */
static size_t field_name_len(const char *p, size_t len, const char **colon)
{
	size_t i = 0, n;

	/* a name is printable ASCII without ':' (the table); the line's
	 * end is a byte outside it */
	while (i < len && name_char[(unsigned char)p[i]])
		i++;
	n = i;
	if (n == 0)
		return 0;
	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i == len || p[i] != ':')
		return 0;
	if (colon)
		*colon = p + i;
	return n;
}

int msg_looks_like_header(const char *p, size_t len)
{
	return field_name_len(p, len, NULL) > 0;
}

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : end;
}

/* The field values of a message are kept in a few large blocks, not a
 * malloc each: a message has dozens of fields, and every part and
 * attached message is a message too. */
#define BLOCK_SIZE 8192

struct msg_block {
	struct msg_block *next;
	size_t used, cap;
	char data[];
};

/* Room for n bytes, taken from the newest block (or a new one).  rest
 * is the text left to read, which bounds every value still to come: a
 * short text (a delivery-status block, a small part) gets a block its
 * size, not BLOCK_SIZE. */
static char *block_take(struct msg *m, size_t n, size_t rest)
{
	struct msg_block *b = m->blocks;

	if (!b || b->cap - b->used < n) {
		size_t cap = rest < BLOCK_SIZE ? rest : BLOCK_SIZE;

		if (cap < n)
			cap = n;

		b = xmalloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		b->next = m->blocks;
		m->blocks = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

/* Give back the end of the last block_take(): only used bytes stay. */
static void block_trim(struct msg *m, size_t unused)
{
	m->blocks->used -= unused;
}

/* Append the unfolded value of one field (first line at p, ending at le,
 * name length nlen, colon at colon) and return the start of the next
 * line. */
static const char *add_field(struct msg *m, size_t *cap, const char *p,
			     const char *colon, const char *le, const char *end,
			     size_t nlen)
{
	const char *start = p, *v = colon + 1;
	struct msg_field *f;
	char *val;
	size_t vl = 0, bound;

	if (m->nf >= MSG_MAX_HEADERS) {	/* skip it before allocating */
		m->cut = 1;
		do {
			p = le < end ? le + 1 : end;
			le = line_end(p, end);
		} while (p < end && (*p == ' ' || *p == '\t'));
		return p;
	}
	{
		/* the unfolded value is at most the field's raw size: measure
		 * it first (bounded by MSG_MAX_FIELD) and allocate that */
		const char *q = le;
		size_t raw = (size_t)(le - v);

		while (q < end && q + 1 < end && (q[1] == ' ' || q[1] == '\t') &&
		       raw <= MSG_MAX_FIELD) {
			const char *e2 = line_end(q + 1, end);

			raw += (size_t)(e2 - q);
			q = e2;
		}
		bound = (raw < MSG_MAX_FIELD ? raw : MSG_MAX_FIELD) + 1;
		val = block_take(m, bound, (size_t)(end - start) + 1);
		/* a value that is not cut can skip its leading blanks now
		 * rather than move itself over them at the end (a cut one
		 * counts them against MSG_MAX_FIELD, as it always has) */
		if (raw < MSG_MAX_FIELD)
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
	}
	for (;;) {
		size_t n = (size_t)(le - v);

		if (vl + n + 1 > MSG_MAX_FIELD) {
			n = vl + 1 < MSG_MAX_FIELD ? MSG_MAX_FIELD - vl - 1 : 0;
			m->cut = 1;
		}
		if (vl && n)
			val[vl++] = ' ';
		memcpy(val + vl, v, n);
		vl += n;
		p = le < end ? le + 1 : end;
		if (p >= end || (*p != ' ' && *p != '\t'))
			break;
		le = line_end(p, end);
		v = p;
		while (v < le && (*v == ' ' || *v == '\t'))
			v++;
	}
	while (vl && isspace((unsigned char)val[vl - 1]))
		vl--;
	val[vl] = '\0';
	{
		size_t s = 0;

		while (s < vl && (val[s] == ' ' || val[s] == '\t'))
			s++;
		if (s) {
			memmove(val, val + s, vl - s + 1);
			vl -= s;
		}
	}
	block_trim(m, bound - (vl + 1));
	if (m->nf == *cap) {
		/* a short text has a few fields: no 3 KB array for it */
		*cap = *cap ? *cap * 2 : end - start < 2048 ? 8 : 32;
		m->f = xreallocarray(m->f, *cap, sizeof(*m->f));
	}
	f = &m->f[m->nf++];
	if (nlen >= sizeof(f->name))
		nlen = sizeof(f->name) - 1;
	memcpy(f->name, start, nlen);
	f->name[nlen] = '\0';
	f->nlen = nlen;
	f->value = val;
	f->vlen = vl;
	return p;
}

int msg_parse(struct msg *m, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	size_t cap = 0;

	memset(m, 0, sizeof(*m));
	if (len >= 5 && !memcmp(p, "From ", 5))
		p = line_end(p, end) < end ? line_end(p, end) + 1 : end;
	while (p < end) {
		const char *le, *colon;
		size_t nlen;

		if (*p == '\n') {
			p++;
			break;
		}
		le = line_end(p, end);
		nlen = field_name_len(p, (size_t)(le - p), &colon);
		if (!nlen) {
			if (*p == ' ' || *p == '\t') {	/* stray continuation */
				p = le < end ? le + 1 : end;
				continue;
			}
			break;		/* not a header: the body starts here */
		}
		p = add_field(m, &cap, p, colon, le, end, nlen);
	}
	m->body = p;
	m->blen = (size_t)(end - p);
	return 0;
}

void msg_free(struct msg *m)
{
	while (m->blocks) {
		struct msg_block *b = m->blocks;

		m->blocks = b->next;
		free(b);
	}
	free(m->f);
	memset(m, 0, sizeof(*m));
}

const char *msg_get(const struct msg *m, const char *name)
{
	int c0 = tolower((unsigned char)name[0]);
	size_t n = strlen(name);

	/* the length and the first letter rule out most fields without a
	 * call */
	for (size_t i = 0; i < m->nf; i++)
		if (m->f[i].nlen == n && tolower((unsigned char)m->f[i].name[0]) == c0 &&
		    !strcasecmp(m->f[i].name, name))
			return m->f[i].value;
	return NULL;
}
