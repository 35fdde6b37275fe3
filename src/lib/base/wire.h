/*
 * wire.h - a bounds-checked reader for DNS messages with a sticky error.
 *
 * Every read checks the bytes left first; after one read fails, every
 * later read fails too and returns zeros, so a parser can read a whole
 * structure and test wire_ok() once (the Knot wire_ctx habit).
 *
 * SECURITY: reads untrusted network input; never reads outside
 * [buf, buf + len). Names: only backward compression pointers are
 * followed, labels are at most 63 bytes, names at most 255.
 */
#ifndef RBLKIT_WIRE_H
#define RBLKIT_WIRE_H

#include <stddef.h>
#include <stdint.h>

struct wire {
	const uint8_t *buf;
	size_t len, pos;
	int err;
};

void wire_init(struct wire *w, const uint8_t *buf, size_t len);
static inline int wire_ok(const struct wire *w) { return !w->err; }
static inline size_t wire_left(const struct wire *w)
{
	return w->err ? 0 : w->len - w->pos;
}
uint8_t wire_u8(struct wire *w);
uint16_t wire_u16(struct wire *w);
uint32_t wire_u32(struct wire *w);
void wire_skip(struct wire *w, size_t n);
/* Read a name (following backward pointers) into out (256 bytes) as an
 * uncompressed wire name; returns its length, 0 on error (sticky). With
 * no_compress, a pointer is an error (the question of a query). */
size_t wire_name(struct wire *w, uint8_t *out, int no_compress);

/* Read a query's name (no compression allowed) into out (256 bytes),
 * lowercased, with the offset of each label in offs (128 bytes; offs at
 * the label count is the root's) and the count in *labels. Returns the
 * length, 0 on error (sticky). One pass: this is on the query path. */
size_t wire_qname(struct wire *w, uint8_t *out, uint8_t *offs, unsigned *labels);

#endif
