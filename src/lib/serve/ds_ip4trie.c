/*
 * ds_ip4trie.c - the ip4trie dataset type: IPv4 CIDRs with per-entry
 * values and exclusions; the longest matching prefix answers. Of two
 * entries for one prefix the first counts, as in rbldnsd.
 *
 * SECURITY: parses data-file lines (see ipaddr.c).
 */
#include "serve/ds_ip.h"
#include "base/ipaddr.h"

static void *ip4trie_begin(struct ds_ctx *c)
{
	struct ipbuild *b = ds_ip_begin(c);

	b->keep_first = 1;
	return b;
}

static int ip4trie_line(void *bp, char *s, struct ds_ctx *c)
{
	const char *end;
	uint32_t a;
	int bits, excl = ds_ip_excl(&s);
	int64_t val = 0;

	bits = ip4_cidr(s, &a, &end);
	if (bits < 0 || !ds_ip_tail_ok(end)) {
		ds_warn(c, "invalid address");
		return 0;
	}
	if (c->accept_in_cidr) {
		a &= ip4_mask(bits);
	} else if (a & ~ip4_mask(bits)) {
		ds_warn(c, "invalid range (non-zero host part)");
		return 0;
	}
	if (c->maxrange4 && c->maxrange4 <= ~ip4_mask(bits)) {
		ds_warn(c, "too large range (%llu) ignored (%u max)",
			(unsigned long long)~ip4_mask(bits) + 1, c->maxrange4);
		return 0;
	}
	if (!excl && (val = ds_ip_value(end, c)) < 0)
		return 0;
	return ds_ip_push4(bp, c, a, a | ~ip4_mask(bits), (uint32_t)val,
			   (unsigned)(32 - bits), excl);
}

const struct ds_type ds_ip4trie = {
	.name = "ip4trie",
	.flags = DS_F_IP4,
	.begin = ip4trie_begin,
	.line = ip4trie_line,
	.end = ds_ip_end,
	.query = ds_ip_query,
	.has_below = ds_ip_has_below,
	.dump = ds_ip_dump,
	.free = ds_ip_free,
	.stats = ds_ip_stats,
};
