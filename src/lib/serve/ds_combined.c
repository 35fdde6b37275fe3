/*
 * ds_combined.c - the combined dataset type: one file holding several
 * datasets of other types, each attached to subzones of the base zone
 * ("$DATASET type[:name] sub sub... @"). $SOA and $NS anywhere in the
 * file belong to the base zone; $TTL and $n inside a section to it.
 *
 * SECURITY: parses data-file lines; nested lines go to the nested type's
 * parser. Subzone names are length-checked by dname.c.
 */
#include "serve/dataset.h"
#include "base/dname.h"
#include "serve/ds_ip.h"
#include "serve/query.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sub {
	struct dataset ds;      /* the nested dataset (type, data, vt, ttl) */
	uint8_t (*zones)[256];  /* subzones: relative wire names, no final 0 */
	unsigned *zlen, *zlabels, nzones;
	struct ds_ctx ctx;      /* while loading */
	void *b;
};

struct combined {
	struct sub *subs;
	unsigned nsubs;
};

static void *combined_begin(struct ds_ctx *c)
{
	return xcalloc(1, sizeof(struct combined));
}

/* Finish the section being read. */
static int finish_sub(struct combined *cb, struct ds_ctx *c)
{
	struct sub *s;

	if (!c->sub)
		return 0;
	s = &cb->subs[cb->nsubs - 1];
	s->ds.ttl = s->ctx.ttl;
	vtab_finish(s->ds.vt, &s->ctx.vars);
	s->ds.data = s->ds.type->end(s->b, &s->ctx);
	s->b = NULL;
	value_vars_clear(&s->ctx.vars);
	c->sub = NULL;
	c->subb = NULL;
	c->subtype = NULL;
	return s->ds.data ? 0 : -1;
}

static int add_zone(struct sub *s, const char *name, struct ds_ctx *c)
{
	uint8_t wire[256];
	int n;

	if (!strcmp(name, "@")) {
		n = 1;
		wire[0] = 0;
	} else if ((n = dname_from_text_lc(name, wire)) <= 1) {
		ds_warn(c, "invalid domain name '%.60s'", name);
		return 0;
	}
	s->zones = xreallocarray(s->zones, s->nzones + 1, sizeof(*s->zones));
	s->zlen = xreallocarray(s->zlen, s->nzones + 1, sizeof(*s->zlen));
	s->zlabels = xreallocarray(s->zlabels, s->nzones + 1, sizeof(*s->zlabels));
	memcpy(s->zones[s->nzones], wire, (size_t)n);
	s->zlen[s->nzones] = (unsigned)n - 1;
	s->zlabels[s->nzones] = (unsigned)dname_labels(wire, (size_t)n);
	s->nzones++;
	return 0;
}

/* "$DATASET type[:name] subzone..." (body after "$"). */
static int combined_line(void *bp, char *line, struct ds_ctx *c)
{
	struct combined *cb = bp;
	char *p = line + 7, *tok, *save = NULL;
	const struct ds_type *t;
	struct sub *s;

	if (strncasecmp(line, "dataset", 7)) {
		ds_warn(c, "invalid/unrecognized entry - specify $DATASET line");
		return 0;
	}
	if (finish_sub(cb, c))
		return -1;
	for (char *q = p; *q; q++)      /* a comment after a blank */
		if ((*q == '#' || *q == ';') && (q == p || q[-1] == ' ' || q[-1] == '\t')) {
			*q = '\0';
			break;
		}
	tok = strtok_r(p, " \t", &save);
	if (!tok) {
		ds_warn(c, "$DATASET needs a type");
		return 0;
	}
	if (strchr(tok, ':'))
		*strchr(tok, ':') = '\0';
	t = ds_type_find(tok);
	if (!t || (t->flags & (DS_F_COMBINED | DS_F_ACL))) {
		log_err("%s:%u: dataset type '%s' cannot be used inside combined",
			c->file, c->line, tok);
		return -1;
	}
	cb->subs = xreallocarray(cb->subs, cb->nsubs + 1, sizeof(*cb->subs));
	s = &cb->subs[cb->nsubs++];
	memset(s, 0, sizeof(*s));
	s->ds.type = t;
	s->ds.vt = vtab_new();
	s->ctx.ttl = c->ttl;
	s->ctx.vt = s->ds.vt;
	s->ctx.accept_in_cidr = c->accept_in_cidr;
	s->ctx.opts = c->opts;
	s->ctx.maxrange4 = c->maxrange4;
	value_default(&s->ctx.def);
	value_vars_copy(&s->ctx.vars, &c->vars);
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL)
		add_zone(s, tok, c);
	if (!s->nzones)
		ds_warn(c, "no subzone(s) specified for dataset, data will be ignored");
	s->b = t->begin(&s->ctx);
	c->sub = &s->ctx;
	c->subb = s->b;
	c->subtype = t;
	return 0;
}

static void free_subs(struct combined *cb)
{
	for (unsigned i = 0; i < cb->nsubs; i++) {
		struct sub *s = &cb->subs[i];

		if (s->b)
			s->ds.type->end(s->b, NULL);
		if (s->ds.data)
			s->ds.type->free(s->ds.data);
		value_vars_clear(&s->ctx.vars);
		vtab_free(s->ds.vt);
		free(s->zones);
		free(s->zlen);
		free(s->zlabels);
	}
	free(cb->subs);
	free(cb);
}

static void *combined_end(void *bp, struct ds_ctx *c)
{
	struct combined *cb = bp;

	if (!c || finish_sub(cb, c)) {
		free_subs(cb);
		return NULL;
	}
	return cb;
}

/* Is subzone k of s a suffix of the query's rel name? */
static int sub_match(const struct sub *s, unsigned k, const struct qinfo *qi)
{
	unsigned zl = s->zlen[k];

	if (s->zlabels[k] > qi->rel_labels || zl > qi->rel_len)
		return 0;
	if (!zl)
		return 1;
	/* label-aligned: the labels before the suffix must end exactly there */
	const uint8_t *p = qi->rel;
	unsigned skip = qi->rel_labels - s->zlabels[k];
	for (unsigned i = 0; i < skip; i++)
		p += *p + 1;
	return (unsigned)(qi->rel + qi->rel_len - p) == zl && !memcmp(p, s->zones[k], zl);
}

/* The deepest subzone that holds the name: its label count, or -1. */
static int best_sub(const struct combined *cb, const struct qinfo *qi)
{
	int best = -1;

	for (unsigned i = 0; i < cb->nsubs; i++)
		for (unsigned k = 0; k < cb->subs[i].nzones; k++)
			if ((int)cb->subs[i].zlabels[k] > best &&
			    sub_match(&cb->subs[i], k, qi))
				best = (int)cb->subs[i].zlabels[k];
	return best;
}

static int combined_query(const struct dataset *ds, const struct qinfo *qi,
			  struct answer *ans)
{
	const struct combined *cb = ds->data;
	int best = best_sub(cb, qi), found = 0;

	if (best < 0)
		return 0;
	for (unsigned i = 0; i < cb->nsubs; i++) {
		const struct sub *s = &cb->subs[i];

		for (unsigned k = 0; k < s->nzones; k++) {
			struct qinfo sq = *qi;

			if ((int)s->zlabels[k] != best || !sub_match(s, k, qi))
				continue;
			sq.rel_labels = qi->rel_labels - s->zlabels[k];
			sq.rel_len = qi->rel_len - s->zlen[k];
			query_qinfo_addr(&sq, s->ds.type->flags);
			found |= s->ds.type->query(&s->ds, &sq, ans);
			break;
		}
	}
	/* the subzone's own name always exists */
	return found | (qi->rel_labels == (unsigned)best);
}

static int combined_has_below(const struct dataset *ds, const struct qinfo *qi)
{
	const struct combined *cb = ds->data;
	int best = best_sub(cb, qi);

	/* an ancestor of a subzone name is an empty non-terminal */
	for (unsigned i = 0; i < cb->nsubs; i++)
		for (unsigned k = 0; k < cb->subs[i].nzones; k++) {
			const struct sub *s = &cb->subs[i];
			unsigned zl = s->zlen[k];

			if (s->zlabels[k] > qi->rel_labels && qi->rel_len <= zl &&
			    !memcmp(s->zones[k] + zl - qi->rel_len, qi->rel, qi->rel_len))
				return 1;
		}
	if (best < 0)
		return 0;
	for (unsigned i = 0; i < cb->nsubs; i++) {
		const struct sub *s = &cb->subs[i];

		for (unsigned k = 0; k < s->nzones; k++) {
			struct qinfo sq = *qi;

			if ((int)s->zlabels[k] != best || !sub_match(s, k, qi) ||
			    !s->ds.type->has_below)
				continue;
			sq.rel_labels = qi->rel_labels - s->zlabels[k];
			sq.rel_len = qi->rel_len - s->zlen[k];
			query_qinfo_addr(&sq, s->ds.type->flags);
			if (s->ds.type->has_below(&s->ds, &sq))
				return 1;
		}
	}
	return 0;
}

struct subemit {
	ds_emit_fn emit;
	void *arg;
	const uint8_t *zone;
	unsigned zlen;
};

static int sub_emit(void *arg, const uint8_t *rel, size_t rel_len, uint16_t type,
		    uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct subemit *se = arg;
	uint8_t owner[256];

	if (rel_len + se->zlen > 254)
		return 0;       /* cannot be named: skip */
	memcpy(owner, rel, rel_len);
	memcpy(owner + rel_len, se->zone, se->zlen);
	return se->emit(se->arg, owner, rel_len + se->zlen, type, ttl, rdata, rdlen);
}

/* Transfer subzone (zone, zlen): its IP datasets merged (their answers
 * combine), then the others. */
static int dump_subzone(const struct combined *cb, const uint8_t *zone,
			unsigned zlen, ds_emit_fn emit, void *arg)
{
	struct subemit se = { emit, arg, zone, zlen };
	const struct dataset **ip = xreallocarray(NULL, cb->nsubs, sizeof(*ip));
	unsigned nip = 0;
	int rc = 0;

	for (unsigned i = 0; i < cb->nsubs; i++) {
		const struct sub *s = &cb->subs[i];

		for (unsigned k = 0; k < s->nzones; k++) {
			if (s->zlen[k] != zlen || memcmp(s->zones[k], zone, zlen))
				continue;
			if (s->ds.type->dump == ds_ip_dump)
				ip[nip++] = &s->ds;
			else if (s->ds.type->dump && !rc)
				rc = s->ds.type->dump(&s->ds, sub_emit, &se);
			break;
		}
	}
	if (!rc && nip)
		rc = ds_ip_dump_zone(ip, nip, sub_emit, &se);
	free(ip);
	return rc;
}

static int combined_dump(const struct dataset *ds, ds_emit_fn emit, void *arg)
{
	const struct combined *cb = ds->data;

	for (unsigned i = 0; i < cb->nsubs; i++) {
		const struct sub *s = &cb->subs[i];

		for (unsigned k = 0; k < s->nzones; k++) {
			int seen = 0;

			/* each subzone once: at its first mention */
			for (unsigned j = 0; j <= i && !seen; j++)
				for (unsigned m = 0; m < cb->subs[j].nzones; m++) {
					if (j == i && m == k)
						break;
					if (cb->subs[j].zlen[m] == s->zlen[k] &&
					    !memcmp(cb->subs[j].zones[m], s->zones[k], s->zlen[k]))
						seen = 1;
				}
			if (!seen && dump_subzone(cb, s->zones[k], s->zlen[k], emit, arg))
				return -1;
		}
	}
	return 0;
}

static void combined_free(void *data)
{
	free_subs(data);
}

static void combined_stats(const void *data, size_t *entries, size_t *bytes)
{
	const struct combined *cb = data;

	*entries = *bytes = 0;
	for (unsigned i = 0; i < cb->nsubs; i++) {
		size_t e = 0, b = 0;

		cb->subs[i].ds.type->stats(cb->subs[i].ds.data, &e, &b);
		*entries += e;
		*bytes += b + vtab_bytes(cb->subs[i].ds.vt);
	}
}

const struct ds_type ds_combined = {
	.name = "combined",
	.flags = DS_F_COMBINED,
	.begin = combined_begin,
	.line = combined_line,
	.end = combined_end,
	.query = combined_query,
	.has_below = combined_has_below,
	.dump = combined_dump,
	.free = combined_free,
	.stats = combined_stats,
};
