/*
 * ds_ip4tset.c - the ip4tset ("trivial") dataset type: single IPv4
 * addresses that all share one A+TXT value, the first ":A:TXT" line of
 * the dataset (rbldnsd ignores later ones and anything after an address).
 *
 * SECURITY: parses data-file lines (see ipaddr.c).
 */
#include "serve/ds_ip.h"
#include "base/ipaddr.h"

/* The shared value: the first default line, else the built-in default. */
int ds_tset_default(struct ipbuild *b, char *s, struct ds_ctx *c)
{
	struct value_raw def, v;
	const char *err;

	if (b->have_def)
		return 0;
	value_default(&def);
	if (value_parse(s, &def, &v, &err)) {
		ds_warn(c, "%s", err);
		return 0;
	}
	b->def_raw = vtab_add_raw(c->vt, &v);
	b->have_def = 1;
	return 0;
}

/* Give every entry the shared value before the build. */
void *ds_tset_end(void *bp, struct ds_ctx *c)
{
	struct ipbuild *b = bp;

	if (c) {
		segvec4_set_value(&b->v4, b->def_raw);
		segvec6_set_value(&b->v6, b->def_raw);
	}
	return ds_ip_end(b, c);
}

void *ds_tset_begin(struct ds_ctx *c)
{
	struct ipbuild *b = ds_ip_begin(c);
	struct value_raw def;

	value_default(&def);
	b->def_raw = vtab_add_raw(c->vt, &def);
	return b;
}

static int ip4tset_line(void *bp, char *s, struct ds_ctx *c)
{
	const char *end;
	uint32_t a;

	if (*s == ':')
		return ds_tset_default(bp, s, c);
	if (ip4_prefix(s, &a, &end) != 32 || !ds_ip_tail_ok(end)) {
		ds_warn(c, "invalid address");
		return 0;
	}
	return ds_ip_push4(bp, c, a, a, 0, 0, 0);
}

const struct ds_type ds_ip4tset = {
	.name = "ip4tset",
	.flags = DS_F_IP4 | DS_F_OWN_DEFAULT,
	.begin = ds_tset_begin,
	.line = ip4tset_line,
	.end = ds_tset_end,
	.query = ds_ip_query,
	.has_below = ds_ip_has_below,
	.dump = ds_ip_dump,
	.free = ds_ip_free,
	.stats = ds_ip_stats,
};
