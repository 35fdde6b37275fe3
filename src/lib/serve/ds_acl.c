/*
 * ds_acl.c - the acl pseudo dataset; see ds_acl.h. Lines are IPv4 or IPv6
 * CIDRs followed by an action (":ignore", ":refuse", ":empty", ":pass",
 * or their first letters) or an ":A:TXT" template; a line with only an
 * action sets the default for the following entries (initially ignore).
 *
 * SECURITY: parses data-file lines (see ipaddr.c).
 */
#include "serve/ds_acl.h"
#include "serve/ds_ip.h"
#include "base/ipaddr.h"

#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Actions are stored as values whose A is 0.0.0.x (never a valid A). */
static int action_word(const char *s, int *action)
{
	static const struct { const char *w; int a; } words[] = {
		{ "ignore", ACL_IGNORE }, { "i", ACL_IGNORE },
		{ "refuse", ACL_REFUSE }, { "r", ACL_REFUSE },
		{ "empty", ACL_EMPTY }, { "e", ACL_EMPTY },
		{ "pass", ACL_PASS }, { "p", ACL_PASS },
	};
	size_t n = strcspn(s, " \t#;");

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (n == strlen(words[i].w) && !strncasecmp(s, words[i].w, n)) {
			*action = words[i].a;
			return 1;
		}
	return 0;
}

static int acl_value(const char *s, struct ds_ctx *c, struct value_raw *v)
{
	int action;
	const char *err;
	struct value_raw def;

	if ((*s == ':' || *s == '=') && action_word(s + 1, &action)) {
		memset(v, 0, sizeof(*v));
		v->a[3] = (uint8_t)action;
		return 0;
	}
	if (*s == '=') {
		ds_warn(c, "invalid keyword");
		return -1;
	}
	value_default(&def);
	if (value_parse(s, &def, v, &err)) {
		ds_warn(c, "%s", err);
		return -1;
	}
	return 0;
}

static void *acl_begin(struct ds_ctx *c)
{
	struct ipbuild *b = ds_ip_begin(c);

	memset(&c->def, 0, sizeof(c->def));
	c->def.a[3] = ACL_IGNORE;
	c->def_cached = 0;
	b->keep_first = 1;
	return b;
}

static int acl_line(void *bp, char *s, struct ds_ctx *c)
{
	const char *end;
	uint32_t a4;
	uint8_t a6[16];
	int bits, is6 = 0;
	struct value_raw v;

	if ((*s == ':' && s[1] != ':') || *s == '=') {
		if (acl_value(s, c, &v) == 0) {
			c->def = v;
			c->def_cached = 0;
		}
		return 0;
	}
	if ((bits = ip4_cidr(s, &a4, &end)) >= 0 && ds_ip_tail_ok(end)) {
		if (a4 & ~ip4_mask(bits) && !c->accept_in_cidr) {
			ds_warn(c, "invalid range (non-zero host part)");
			return 0;
		}
		a4 &= ip4_mask(bits);
	} else if ((bits = ip6_cidr(s, a6, &end)) >= 0 && ds_ip_tail_ok(end)) {
		is6 = 1;
		if (ip6_host_bits(a6, bits) && !c->accept_in_cidr) {
			ds_warn(c, "invalid range (non-zero host part)");
			return 0;
		}
	} else {
		ds_warn(c, "invalid address");
		return 0;
	}
	while (*end == ' ' || *end == '\t')
		end++;
	if (!*end || *end == '#' || *end == ';')
		v = c->def;
	else if (acl_value(end, c, &v))
		return 0;
	uint32_t id = vtab_add_raw(c->vt, &v);
	if (is6) {
		u128 lo = ip6_to_u128(a6) & ip6_mask(bits);
		return ds_ip_push6(bp, c, lo, lo | ~ip6_mask(bits), id,
				   (unsigned)(128 - bits), 0);
	}
	return ds_ip_push4(bp, c, a4, a4 | ~ip4_mask(bits), id,
			   (unsigned)(32 - bits), 0);
}

static int acl_query(const struct dataset *ds, const struct qinfo *qi,
		     struct answer *ans)
{
	return 0;       /* acls answer nothing themselves */
}

const struct ds_type ds_acl = {
	.name = "acl",
	.flags = DS_F_ACL,
	.begin = acl_begin,
	.line = acl_line,
	.end = ds_ip_end,
	.query = acl_query,
	.dump = NULL,
	.free = ds_ip_free,
	.stats = ds_ip_stats,
};

static enum acl_action lookup(const struct dataset *ds, const struct qinfo *qi,
			      const struct value **val, uint32_t *ttl)
{
	const struct ipdata *d;
	segres_t r;
	const uint32_t *ids;
	uint32_t one;
	const struct value *v;

	if (!ds)
		return ACL_PASS;
	d = ds->data;
	if (qi->peer_family == AF_INET) {
		uint32_t a = (uint32_t)qi->peer[0] << 24 | qi->peer[1] << 16 |
			     qi->peer[2] << 8 | qi->peer[3];
		r = segmap4_find(d->m4, a);
		if (r)
			segmap4_values(d->m4, r, &one, &ids);
	} else if (qi->peer_family == AF_INET6) {
		r = segmap6_find(d->m6, ip6_to_u128(qi->peer));
		if (r)
			segmap6_values(d->m6, r, &one, &ids);
	} else {
		return ACL_PASS;
	}
	if (!r)
		return ACL_PASS;
	v = vtab_get(ds->vt, ids[0]);
	if (!v->a[0] && !v->a[1] && !v->a[2])
		return (enum acl_action)v->a[3];
	*val = v;
	*ttl = ds->ttl;
	return ACL_VALUE;
}

enum acl_action acl_check(const struct dataset *global, const struct dataset *zone,
			  const struct qinfo *qi, const struct value **val,
			  uint32_t *ttl)
{
	const struct value *gv = NULL, *zv = NULL;
	uint32_t gt = 0, zt = 0;
	enum acl_action g = lookup(global, qi, &gv, &gt), z = lookup(zone, qi, &zv, &zt);
	enum acl_action act = g > z ? g : z;

	if (act == ACL_VALUE) {
		*val = gv ? gv : zv;
		*ttl = gv ? gt : zt;
	}
	return act;
}
