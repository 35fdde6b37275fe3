/*
 * ds_ip6trie.c - the ip6trie dataset type: IPv6 CIDRs ("::" notation,
 * trailing zero words may be left out) with per-entry values and
 * exclusions; the longest matching prefix answers, the first of two
 * entries for one prefix counts.
 *
 * SECURITY: parses data-file lines (see ipaddr.c).
 */
#include "serve/ds_ip.h"
#include "base/ipaddr.h"

static void *ip6trie_begin(struct ds_ctx *c)
{
	struct ipbuild *b = ds_ip_begin(c);

	b->keep_first = 1;
	return b;
}

static int ip6trie_line(void *bp, char *s, struct ds_ctx *c)
{
	const char *end;
	uint8_t a[16];
	int bits, excl = ds_ip_excl(&s);
	int64_t val = 0;
	u128 lo;

	bits = ip6_cidr(s, a, &end);
	if (bits < 0 || !ds_ip_tail_ok(end)) {
		ds_warn(c, "invalid address");
		return 0;
	}
	lo = ip6_to_u128(a);
	if (c->accept_in_cidr) {
		lo &= ip6_mask(bits);
	} else if (ip6_host_bits(a, bits)) {
		ds_warn(c, "invalid range (non-zero host part)");
		return 0;
	}
	if (!excl && (val = ds_ip_value(end, c)) < 0)
		return 0;
	return ds_ip_push6(bp, c, lo, lo | ~ip6_mask(bits), (uint32_t)val,
			   (unsigned)(128 - bits), excl);
}

const struct ds_type ds_ip6trie = {
	.name = "ip6trie",
	.flags = DS_F_IP6,
	.begin = ip6trie_begin,
	.line = ip6trie_line,
	.end = ds_ip_end,
	.query = ds_ip_query,
	.has_below = ds_ip_has_below,
	.dump = ds_ip_dump,
	.free = ds_ip_free,
	.stats = ds_ip_stats,
};
