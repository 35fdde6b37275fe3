/*
 * wire.c - bounds-checked DNS message reader; see wire.h.
 *
 * SECURITY: untrusted input; all reads are checked against len.
 */
#include "base/wire.h"

#include <string.h>

void wire_init(struct wire *w, const uint8_t *buf, size_t len)
{
	w->buf = buf;
	w->len = len;
	w->pos = 0;
	w->err = 0;
}

static int need(struct wire *w, size_t n)
{
	if (w->err || w->len - w->pos < n) {
		w->err = 1;
		return 0;
	}
	return 1;
}

uint8_t wire_u8(struct wire *w)
{
	if (!need(w, 1))
		return 0;
	return w->buf[w->pos++];
}

uint16_t wire_u16(struct wire *w)
{
	uint16_t v;

	if (!need(w, 2))
		return 0;
	v = (uint16_t)(w->buf[w->pos] << 8 | w->buf[w->pos + 1]);
	w->pos += 2;
	return v;
}

uint32_t wire_u32(struct wire *w)
{
	uint32_t v;

	if (!need(w, 4))
		return 0;
	v = (uint32_t)w->buf[w->pos] << 24 | (uint32_t)w->buf[w->pos + 1] << 16 |
	    (uint32_t)w->buf[w->pos + 2] << 8 | w->buf[w->pos + 3];
	w->pos += 4;
	return v;
}

void wire_skip(struct wire *w, size_t n)
{
	if (need(w, n))
		w->pos += n;
}

size_t wire_name(struct wire *w, uint8_t *out, int no_compress)
{
	size_t pos, olen = 0, resume = 0;
	int jumped = 0;

	if (w->err)
		return 0;
	pos = w->pos;
	for (;;) {
		uint8_t l;

		if (pos >= w->len)
			goto bad;
		l = w->buf[pos];
		if ((l & 0xc0) == 0xc0) {
			size_t target;

			if (no_compress || pos + 1 >= w->len)
				goto bad;
			target = (size_t)(l & 0x3f) << 8 | w->buf[pos + 1];
			if (target >= pos)      /* only backward: no loops */
				goto bad;
			if (!jumped)
				resume = pos + 2;
			jumped = 1;
			pos = target;
			continue;
		}
		if (l & 0xc0)                   /* 0x40/0x80: not defined */
			goto bad;
		if (olen + 1 + l > 255 || pos + 1 + l > w->len)
			goto bad;
		out[olen++] = l;
		if (!l)
			break;
		memcpy(out + olen, w->buf + pos + 1, l);
		olen += l;
		pos += 1 + (size_t)l;
	}
	w->pos = jumped ? resume : pos + 1;
	return olen;
bad:
	w->err = 1;
	return 0;
}

size_t wire_qname(struct wire *w, uint8_t *out, uint8_t *offs, unsigned *labels)
{
	size_t pos, olen = 0;
	unsigned n = 0;

	if (w->err)
		return 0;
	pos = w->pos;
	for (;;) {
		uint8_t l;

		if (pos >= w->len)
			goto bad;
		l = w->buf[pos];
		if (l & 0xc0)                   /* no pointers in a question */
			goto bad;
		if (olen + 1 + l > 255 || pos + 1 + l > w->len || n > 127)
			goto bad;
		offs[n] = (uint8_t)olen;
		out[olen++] = l;
		if (!l)
			break;
		n++;
		for (size_t i = 1; i <= l; i++) {
			uint8_t c = w->buf[pos + i];

			out[olen++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
		}
		pos += 1 + (size_t)l;
	}
	w->pos = pos + 1;
	*labels = n;
	return olen;
bad:
	w->err = 1;
	return 0;
}
