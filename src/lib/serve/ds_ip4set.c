/*
 * ds_ip4set.c - the ip4set dataset type: IPv4 addresses, prefixes, CIDRs
 * and ranges with per-entry A+TXT values and exclusions.
 *
 * rbldnsd keeps ip4set entries at four granularities (/32, /24, /16, /8)
 * and answers from the most specific one that has the address, with every
 * entry there. We keep the same rule - each part of a range gets the
 * priority of the largest aligned /24, /16 or /8 block it fills - but
 * store ranges, not their expansion.
 *
 * SECURITY: parses data-file lines (see ipaddr.c); no query-time input.
 */
#include "serve/ds_ip.h"
#include "base/ipaddr.h"

enum { P32, P24, P16, P08 };

/* Push [lo, hi] split into the granularity pieces rbldnsd would use. */
static int push_levels(struct ipbuild *b, struct ds_ctx *c, uint32_t lo,
		       uint32_t hi, uint32_t val, int excl)
{
	uint64_t a = lo, z = (uint64_t)hi + 1;  /* [a, z) */

	while (a < z) {
		int lvl = P32;
		uint64_t len = 1;

		/* the largest aligned block at a that fits, of 2^24/2^16/2^8 */
		for (int k = 3; k >= 1; k--) {
			uint64_t bl = (uint64_t)1 << (8 * k);

			if (!(a & (bl - 1)) && a + bl <= z) {
				lvl = k;
				len = bl;
				break;
			}
		}
		/* extend over following blocks of the same size */
		uint64_t end = a + len;
		if (lvl == P32) {
			/* /32 run: up to the next /24 boundary or a full /24 */
			uint64_t bnd = (a | 255) + 1;
			end = bnd < z ? bnd : z;
		} else {
			uint64_t bl = len;

			while (end + bl <= z) {
				/* stop where a bigger block would begin */
				int bigger = 0;
				for (int k = 3; k > lvl; k--) {
					uint64_t bb = (uint64_t)1 << (8 * k);
					if (!(end & (bb - 1)) && end + bb <= z)
						bigger = 1;
				}
				if (bigger)
					break;
				end += bl;
			}
		}
		if (ds_ip_push4(b, c, (uint32_t)a, (uint32_t)(end - 1), val,
				(unsigned)lvl, excl))
			return -1;
		a = end;
	}
	return 0;
}

static int ip4set_line(void *bp, char *s, struct ds_ctx *c)
{
	struct ipbuild *b = bp;
	const char *end;
	uint32_t lo, hi;
	int bits, excl = ds_ip_excl(&s);
	int64_t val = 0;

	bits = ip4_range(s, &lo, &hi, &end);
	if (bits <= 0 || !ds_ip_tail_ok(end)) {         /* "0/0" too, as rbldnsd */
		ds_warn(c, "invalid address");
		return 0;
	}
	if (c->accept_in_cidr) {
		lo &= ip4_mask(bits);
	} else if (lo & ~ip4_mask(bits)) {
		ds_warn(c, "invalid range (non-zero host part)");
		return 0;
	}
	if (c->maxrange4 && c->maxrange4 <= hi - lo) {
		ds_warn(c, "too large range (%llu) ignored (%u max)",
			(unsigned long long)hi - lo + 1, c->maxrange4);
		return 0;
	}
	if (!excl && (val = ds_ip_value(end, c)) < 0)
		return 0;
	return push_levels(b, c, lo, hi, (uint32_t)val, excl);
}

const struct ds_type ds_ip4set = {
	.name = "ip4set",
	.flags = DS_F_IP4,
	.begin = ds_ip_begin,
	.line = ip4set_line,
	.end = ds_ip_end,
	.query = ds_ip_query,
	.has_below = ds_ip_has_below,
	.dump = ds_ip_dump,
	.free = ds_ip_free,
	.stats = ds_ip_stats,
};
