/*
 * domset.h - a small set of distinct names in bounded memory: the
 * distinct recipient domains of one sender in one window (baseline.c).
 *
 * Up to DS_SPARSE names it holds their 32-bit hashes and counts exactly;
 * the next one turns it into a HyperLogLog of DS_REGS registers in the
 * same bytes (standard error 1.04 / sqrt(128), about 9 %; linear counting
 * keeps small counts close). Always sizeof(struct domset) bytes, no
 * allocation. The caller hashes (ds_hash, with its own secret seed).
 *
 * SECURITY: names are untrusted (recipient domains chosen by the remote
 * client): they are only hashed, with a random seed, so nobody can choose
 * names that collide to hide how many there are.
 */
#ifndef RBLKIT_POLICY_DOMSET_H
#define RBLKIT_POLICY_DOMSET_H

#include <stddef.h>
#include <stdint.h>

#define DS_SPARSE 32
#define DS_REGS 128
#define DS_DENSE 0xff		/* n of a set turned into registers */
#define DS_TEXT_MAX (2 * DS_REGS + 2)	/* ds_text's longest answer */

struct domset {
	uint8_t n;		/* hashes held, or DS_DENSE */
	union {
		uint32_t h[DS_SPARSE];
		uint8_t reg[DS_REGS];
	} u;
};

/* The hash of name[0..len), ASCII letters folded to lower case. */
uint32_t ds_hash(uint32_t seed, const char *name, size_t len);
/* Add a hash (no-op when already in). */
void ds_add(struct domset *s, uint32_t h);
/* How many distinct names: exact up to DS_SPARSE, an estimate above. */
uint32_t ds_count(const struct domset *s);
/* Empty the set. */
void ds_clear(struct domset *s);
/* The set as one word for a file ("-", "s" and 8 hex digits a hash, or
 * "d" and 2 hex digits a register) into buf of at least DS_TEXT_MAX + 1
 * bytes. */
void ds_text(const struct domset *s, char *buf);
/* Read what ds_text wrote (len bytes): 0, or -1 for anything else. */
int ds_parse(struct domset *s, const char *text, size_t len);

#endif
