/*
 * resp.c - RESP2 reply parser and command writer.
 *
 * SECURITY: see resp.h. The parser never reads past len, never
 * allocates, and rejects numbers that do not fit before using them.
 */
#include "policy/resp.h"

#include <stdio.h>
#include <string.h>

struct rp {
	const char *b;
	size_t len, off;
	struct resp_reply *r;
};

/* The line at p->off (without CRLF): RESP_OK with *s, *n and off past
 * the CRLF; RESP_MORE; or an error for a bare CR or a long line. */
static int rp_line(struct rp *p, const char **s, size_t *n)
{
	const char *start = p->b + p->off;
	size_t avail = p->len - p->off;
	const char *cr = memchr(start, '\r', avail < RESP_MAX_LINE + 1 ? avail : RESP_MAX_LINE + 1);

	if (!cr)
		return avail > RESP_MAX_LINE ? RESP_ELIMIT : RESP_MORE;
	if ((size_t)(cr - start) + 1 >= avail)
		return RESP_MORE;
	if (cr[1] != '\n')
		return RESP_EBAD;
	*s = start;
	*n = (size_t)(cr - start);
	p->off += *n + 2;
	return RESP_OK;
}

/* A decimal (optional '-') of s[0..n) that fits a long long. */
static int rp_num(const char *s, size_t n, long long *out)
{
	unsigned long long v = 0;
	size_t i = 0;
	int neg = 0;

	if (n && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || n - i > 18)
		return RESP_EBAD;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return RESP_EBAD;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	*out = neg ? -(long long)v : (long long)v;
	return RESP_OK;
}

static int rp_value(struct rp *p, int depth, int *idx)
{
	struct resp_node *nd;
	const char *s;
	size_t n;
	int rc, prev = -1;

	if (depth > RESP_MAX_DEPTH || p->r->nn >= RESP_MAX_NODES)
		return RESP_ELIMIT;
	if (p->off >= p->len)
		return RESP_MORE;
	*idx = p->r->nn++;
	nd = &p->r->n[*idx];
	memset(nd, 0, sizeof(*nd));
	nd->child = nd->next = -1;
	nd->type = (enum resp_type)p->b[p->off++];
	if ((rc = rp_line(p, &s, &n)) != RESP_OK)
		return rc;
	switch (nd->type) {
	case RESP_STATUS:
	case RESP_ERROR:
		nd->s = s;
		nd->len = n;
		return RESP_OK;
	case RESP_INT:
		return rp_num(s, n, &nd->i);
	case RESP_BULK:
		if (rp_num(s, n, &nd->i) != RESP_OK || nd->i < -1)
			return RESP_EBAD;
		if (nd->i == -1) {
			nd->type = RESP_NIL;
			return RESP_OK;
		}
		if ((unsigned long long)nd->i > RESP_MAX_BULK)
			return RESP_ELIMIT;
		if (p->len - p->off < (size_t)nd->i + 2)
			return RESP_MORE;
		nd->s = p->b + p->off;
		nd->len = (size_t)nd->i;
		if (p->b[p->off + nd->len] != '\r' || p->b[p->off + nd->len + 1] != '\n')
			return RESP_EBAD;
		p->off += nd->len + 2;
		return RESP_OK;
	case RESP_ARRAY:
		if (rp_num(s, n, &nd->i) != RESP_OK || nd->i < -1)
			return RESP_EBAD;
		if (nd->i == -1) {
			nd->type = RESP_NIL;
			return RESP_OK;
		}
		if (nd->i > RESP_MAX_NODES)
			return RESP_ELIMIT;
		for (long long k = 0; k < nd->i; k++) {
			int c;

			if ((rc = rp_value(p, depth + 1, &c)) != RESP_OK)
				return rc;
			/* nd may not move: the pool is an array in r */
			if (prev < 0)
				p->r->n[*idx].child = c;
			else
				p->r->n[prev].next = c;
			prev = c;
		}
		return RESP_OK;
	default:
		return RESP_EBAD;
	}
}

int resp_parse(const char *buf, size_t len, struct resp_reply *r, size_t *used)
{
	struct rp p = { .b = buf, .len = len, .off = 0, .r = r };
	int idx, rc;

	r->nn = 0;
	rc = rp_value(&p, 0, &idx);
	if (rc == RESP_OK)
		*used = p.off;
	return rc;
}

const struct resp_node *resp_elem(const struct resp_reply *r, const struct resp_node *a, int i)
{
	int c;

	if (!a || a->type != RESP_ARRAY || i < 0)
		return NULL;
	for (c = a->child; c >= 0 && i > 0; i--)
		c = r->n[c].next;
	return c >= 0 ? &r->n[c] : NULL;
}

size_t resp_command(char *buf, size_t cap, int argc, const char *const *argv, const size_t *lens)
{
	size_t off = 0, need;
	char hdr[32];
	int n;

	n = snprintf(hdr, sizeof(hdr), "*%d\r\n", argc);
	need = (size_t)n;
	if (need <= cap)
		memcpy(buf, hdr, (size_t)n);
	off = need;
	for (int i = 0; i < argc; i++) {
		size_t l = lens ? lens[i] : strlen(argv[i]);

		n = snprintf(hdr, sizeof(hdr), "$%zu\r\n", l);
		need = off + (size_t)n + l + 2;
		if (need <= cap) {
			memcpy(buf + off, hdr, (size_t)n);
			memcpy(buf + off + (size_t)n, argv[i], l);
			memcpy(buf + off + (size_t)n + l, "\r\n", 2);
		}
		off = need;
	}
	return off;
}
