/*
 * ds_ip6tset.c - the ip6tset ("trivial") dataset type: IPv6 /64s given as
 * four words, all with one shared value, and excluded single addresses
 * ("!addr", "::" allowed).
 *
 * SECURITY: parses data-file lines (see ipaddr.c).
 */
#include "serve/ds_ip.h"
#include "base/ipaddr.h"


static int ip6tset_line(void *bp, char *s, struct ds_ctx *c)
{
	const char *end;
	uint8_t a[16];
	int bits, excl = 0;
	u128 lo;

	if (*s == ':')
		return ds_tset_default(bp, s, c);
	excl = ds_ip_excl(&s);
	bits = ip6_prefix(s, a, &end);
	if (bits < 0 || !ds_ip_tail_ok(end)) {
		ds_warn(c, "invalid address");
		return 0;
	}
	if (bits != (excl ? 128 : 64)) {
		ds_warn(c, "invalid address for %s (should be %d bits)",
			excl ? "exclusion" : "regular entry", excl ? 128 : 64);
		return 0;
	}
	lo = ip6_to_u128(a);
	if (excl)
		return ds_ip_push6(bp, c, lo, lo, 0, 0, 1);
	return ds_ip_push6(bp, c, lo, lo | ~ip6_mask(64), 0, 1, 0);
}

const struct ds_type ds_ip6tset = {
	.name = "ip6tset",
	.flags = DS_F_IP6 | DS_F_OWN_DEFAULT,
	.begin = ds_tset_begin,
	.line = ip6tset_line,
	.end = ds_tset_end,
	.query = ds_ip_query,
	.has_below = ds_ip_has_below,
	.dump = ds_ip_dump,
	.free = ds_ip_free,
	.stats = ds_ip_stats,
};
