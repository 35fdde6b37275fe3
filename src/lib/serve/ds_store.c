/*
 * ds_store.c - zones served from the listing store; see ds_store.h.
 *
 * SECURITY: see ds_store.h. Every text from the store (keys, reasons,
 * names of the SOA and NS) is bounded by store.h and checked again where
 * it becomes wire format; records are built in fixed buffers of checked
 * size.
 */
#include "serve/ds_store.h"
#include "serve/ds_store_int.h"
#include "serve/answer.h"
#include "serve/storeset.h"
#include "base/dname.h"
#include "base/ipaddr.h"
#include "base/util.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#define HIST_MAX 262144         /* changes kept for IXFR */
#define FOLD_ENTRIES 50000      /* fold a delta this big ... */
#define FOLD_AGE_MS 60000       /* ... or this old */

static void szone_unref(struct szone *z)
{
	if (!z || atomic_fetch_sub(&z->refs, 1) != 1)
		return;
	if (z->st)
		store_close(z->st);
	pthread_mutex_destroy(&z->lock);
	free(z->h);
	free(z->zone);
	free(z->dsn);
	if (z->fold_delta)
		sset_layer_unref(z->fold_delta);
	if (z->fold_out)
		sset_layer_unref(z->fold_out);
	free(z);
}

/* ---- keys ---- */

/* Store key -> storeset key; names into buf. 0, or -1 if unusable. */
static int skey_from(const struct store_key *k, struct sset_key *s, uint8_t buf[256])
{
	memset(s, 0, sizeof(*s));
	s->bits = k->bits;
	switch (k->kind) {
	case STORE_IP4:
		if (k->bits > 32)
			return -1;
		s->kind = SSET_IP4;
		s->addr = (uint32_t)k->addr[0] << 24 | (uint32_t)k->addr[1] << 16 |
			  (uint32_t)k->addr[2] << 8 | k->addr[3];
		s->addr &= sset_mask(0, k->bits);
		return 0;
	case STORE_IP6:
		if (k->bits > 128)
			return -1;
		s->kind = SSET_IP6;
		s->addr = ip6_to_u128(k->addr) & sset_mask(1, k->bits);
		return 0;
	case STORE_NAME:
	case STORE_WILD: {
		const char *t = k->text;
		uint8_t wire[DNAME_MAXLEN];
		int n;

		if (k->kind == STORE_WILD) {
			if (strncmp(t, "*.", 2))
				return -1;
			t += 2;
		}
		n = dname_from_text_lc(t, wire);
		if (n <= 1)
			return -1;
		n = dname_reverse(wire, (size_t)n, buf);
		if (n <= 0)
			return -1;
		s->kind = k->kind == STORE_WILD ? SSET_WILD : SSET_NAME;
		s->name = buf;
		s->namelen = (unsigned)n;
		return 0;
	}
	}
	return -1;
}

static uint32_t value_of(struct szone *z, struct sset_vals *v, uint32_t code,
			 const char *reason, int excluded)
{
	uint8_t a[4];

	if (excluded)
		return SSET_EXCL;
	if (!code)
		memcpy(a, z->def_a, 4);
	else {
		a[0] = (uint8_t)(code >> 24);
		a[1] = (uint8_t)(code >> 16);
		a[2] = (uint8_t)(code >> 8);
		a[3] = (uint8_t)code;
	}
	return sset_val_intern(v, a, reason && *reason ? reason : z->def_txt);
}

/* ---- loading ---- */

static struct store *open_store(const char *dsn, int *rdonly, char *err, size_t el)
{
	struct store *st = NULL;
	struct stat sb;

	*rdonly = 0;
	/* serve reads a store the list tools made: a path that names no
	 * file is a mistake to report, not a new empty store to create */
	if (!strncmp(dsn, "sqlite:", 7) && stat(dsn + 7, &sb) < 0) {
		snprintf(err, el, "%s: %s", dsn, strerror(errno));
		return NULL;
	}
	if (store_open(dsn, 0, &st, err, el) == 0)
		return st;
	/* a store serve may only read: serve it, expiry is the others' */
	if (store_open(dsn, STORE_RDONLY, &st, err, el) == 0) {
		*rdonly = 1;
		return st;
	}
	return NULL;
}

static int name_wire(const char *text, uint8_t out[256])
{
	int n = dname_from_text_lc(text, out);

	return n > 1 ? 0 : -1;
}

/* SOA, NS and TTL of ds from the zone's publishing data. */
static int set_publish(struct dataset *ds, const struct store_zone *zc,
		       const struct ds_opts *o, char *err, size_t el)
{
	ds->ttl = ds_ttl_clamp(o, zc->ttl, o->def_ttl);
	memset(&ds->soa, 0, sizeof(ds->soa));
	ds->soa.set = 1;
	ds->soa.ttl = ds->ttl;
	if (name_wire(zc->mname, ds->soa.mname) || name_wire(zc->rname, ds->soa.rname)) {
		snprintf(err, el, "zone %s: invalid SOA name in the store", zc->name);
		return -1;
	}
	ds->soa.refresh = zc->refresh;
	ds->soa.retry = zc->retry;
	ds->soa.expire = zc->expire;
	ds->soa.minttl = zc->minimum;
	memset(&ds->ns, 0, sizeof(ds->ns));
	ds->ns.ttl = ds->ttl;
	for (unsigned i = 0; i < zc->nns && i < DS_MAX_NS; i++) {
		if (name_wire(zc->ns[i], ds->ns.name[ds->ns.count])) {
			snprintf(err, el, "zone %s: invalid NS name %s in the store",
				 zc->name, zc->ns[i]);
			return -1;
		}
		ds->ns.count++;
	}
	return 0;
}

struct snapctx {
	struct szone *z;
	struct sset_vals *vals;
	struct sset_build *b;
	size_t bad;
};

static int snap_cb(void *arg, const struct store_entry *e)
{
	struct snapctx *c = arg;
	struct sset_key k;
	uint8_t buf[256];

	if (skey_from(&e->key, &k, buf)) {
		c->bad++;
		return 0;
	}
	sset_build_add(c->b, &k, value_of(c->z, c->vals, e->code, e->reason, e->excluded));
	return 0;
}

static struct dataset *new_version(const struct dataset *like, struct szone *z,
				   struct sset_layer *base, struct sset_layer *delta,
				   struct sset_vals *vals, uint32_t serial)
{
	struct dataset *ds = xcalloc(1, sizeof(*ds));
	struct sdata *d = xcalloc(1, sizeof(*d));

	if (like)
		*ds = *like;
	ds->type = &ds_store;
	ds->vt = NULL;
	ds->data = d;
	ds->soa.serial = serial;
	ds->stamp = 0;
	ds->fp = 1;
	ds->errors = 0;
	d->set = (struct sset){ base, delta, vals };
	d->z = z;
	d->serial = serial;
	d->hgen = z->hgen;      /* main thread: the only writer of hgen */
	atomic_fetch_add(&z->refs, 1);
	return ds;
}

/* ---- history from the journal ---- */

/* Append e to the history h[0..*nh) (capacity *ch), complete from *from
 * on; at HIST_MAX the older half (whole serials) is forgotten. */
static void hist_push(struct hent **h, size_t *nh, size_t *ch, uint32_t *from,
		      const struct hent *e)
{
	if (*nh == HIST_MAX) {
		size_t keep = HIST_MAX / 2, cut = *nh - keep;

		*from = (*h)[cut - 1].serial;
		while (cut < *nh && (*h)[cut].serial == *from)
			cut++;
		memmove(*h, *h + cut, (*nh - cut) * sizeof(**h));
		*nh -= cut;
	}
	if (*nh == *ch) {
		*ch = *ch ? *ch * 2 : 1024;
		*h = xreallocarray(*h, *ch, sizeof(**h));
	}
	(*h)[(*nh)++] = *e;
}

struct probe {
	uint32_t upto;          /* the snapshot's serial */
	size_t n;               /* changes up to it */
};

static int probe_cb(void *arg, const struct store_change *c)
{
	struct probe *p = arg;

	if ((int32_t)(c->serial - p->upto) > 0)
		return 1;       /* rows come by serial: the rest is later */
	return ++p->n > HIST_MAX;       /* too many: stop reading */
}

static int reach_cb(void *arg, const struct store_change *c)
{
	(void)arg;
	(void)c;
	return 1;               /* one row tells */
}

/* Does the store's journal still hold every change after since? */
static int journal_reaches(struct szone *z, uint32_t since)
{
	uint32_t u = since;
	int rc = store_changes(z->st, z->zone, since, &u, reach_cb, NULL);

	return rc == 0 || rc == 1;
}

/* Does the store's journal hold every change after since, and at most
 * HIST_MAX of them up to serial upto? Reads at most HIST_MAX + 1 rows. */
static int journal_fits(struct szone *z, uint32_t since, uint32_t upto)
{
	struct probe p = { .upto = upto };
	uint32_t u = since;
	int rc = store_changes(z->st, z->zone, since, &u, probe_cb, &p);

	return (rc == 0 || rc == 1) && p.n <= HIST_MAX;
}

struct fillctx {
	struct szone *z;
	struct sset_vals *vals;
	uint32_t upto;          /* the snapshot's serial: later ones are the poll's */
	struct hent *h;
	size_t nh, ch, bad;
	uint32_t from;
};

/* One journal row as the live path records it: a DEL carries the value
 * that was served; an ADD comes to a key not answered before (a changed
 * code or reason is a DEL + ADD in one serial; store_listing.c). */
static int fill_cb(void *arg, const struct store_change *c)
{
	struct fillctx *f = arg;
	struct sset_key k;
	uint8_t buf[256];
	struct hent h = { .serial = c->serial };
	uint32_t v;

	if ((int32_t)(c->serial - f->upto) > 0)
		return 1;       /* rows come by serial: the rest is later too */
	if (skey_from(&c->key, &k, buf)) {
		f->bad++;
		return 0;
	}
	h.kind = (uint8_t)k.kind;
	h.bits = (uint8_t)k.bits;
	h.addr = k.addr;
	v = value_of(f->z, f->vals, c->code, c->reason, c->excluded);
	h.old = c->op == STORE_DEL ? v : SSET_NONE;
	h.new = c->op == STORE_DEL ? SSET_NONE : v;
	hist_push(&f->h, &f->nh, &f->ch, &f->from, &h);
	return 0;
}

/* The history of the changes up to serial (the snapshot's), read from
 * the store's journal as far back as it reaches, whole serials, at most
 * HIST_MAX changes (a big import is one serial: it is left out rather
 * than read), so that an IXFR from a serial before this process read the
 * zone is still a diff. The snapshot and this read are two transactions:
 * changes after serial are the live path's, and are skipped here. A
 * journal that cannot be read leaves the history empty (complete from
 * serial on): such secondaries get an AXFR. */
static void hist_fill(struct szone *z, struct sset_vals *vals, uint32_t serial)
{
	struct fillctx f = { .z = z, .vals = vals, .upto = serial, .from = serial };
	uint32_t lo, hi, step, upto = serial;
	int rc;

	if (!journal_fits(z, serial, serial))
		goto install;   /* restarted since the snapshot: no history */
	/* the oldest serial the journal reaches, no more than HIST_MAX
	 * serials back (every serial has a row); these probes read a row */
	lo = serial > HIST_MAX ? serial - HIST_MAX : 0;
	hi = serial;
	if (journal_reaches(z, lo)) {
		hi = lo;
	} else {
		while (hi - lo > 1) {   /* lo does not reach, hi does */
			uint32_t mid = lo + (hi - lo) / 2;

			if (journal_reaches(z, mid))
				hi = mid;
			else
				lo = mid;
		}
	}
	/* one row a serial, the usual: all of it fits. Else (a big import)
	 * back from serial by doubling steps while it fits; each probe
	 * reads at most HIST_MAX + 1 rows */
	if (!journal_fits(z, hi, serial)) {
		hi = serial;
		for (step = 1; step < 1u << 31; step *= 2) {
			lo = serial > step ? serial - step : 0;
			if (!journal_fits(z, lo, serial))
				break;
			hi = lo;
			if (!lo)
				break;
		}
	}
	f.from = hi;
	rc = store_changes(z->st, z->zone, hi, &upto, fill_cb, &f);
	if (rc != 0 && rc != 1) {
		log_warn("%s: zone %s: cannot read the journal (%s): IXFR only from "
			 "serial %u on", z->dsn, z->zone,
			 rc == STORE_GONE ? "pruned meanwhile" : store_error(z->st), serial);
		f.nh = 0;
		f.from = serial;
	} else if (f.bad) {
		log_warn("%s: zone %s: %zu journal keys not usable, left out", z->dsn,
			 z->zone, f.bad);
	}
install:
	pthread_mutex_lock(&z->lock);
	free(z->h);
	z->h = f.h;
	z->nh = f.nh;
	z->ch = f.ch;
	z->hist_from = f.from;
	z->hgen++;
	pthread_mutex_unlock(&z->lock);
}

/* Read the whole zone: a new base, an empty delta, a new history. */
static int read_snapshot(struct szone *z, struct sset_vals *vals, struct sset_layer **base,
			 uint32_t *serial, char *err, size_t el)
{
	struct snapctx c = { .z = z, .vals = vals, .b = sset_build_new() };
	int rc = store_snapshot(z->st, z->zone, serial, snap_cb, &c);

	if (rc) {
		snprintf(err, el, "%s: zone %s: %s", z->dsn, z->zone,
			 rc == STORE_NOTFOUND ? "no such zone" : store_error(z->st));
		sset_build_free(c.b);
		return -1;
	}
	if (c.bad)
		log_warn("%s: zone %s: %zu keys not usable, left out", z->dsn, z->zone, c.bad);
	*base = sset_build_finish(c.b);
	hist_fill(z, vals, *serial);
	return 0;
}

int ds_store_load(const char *zone, const char *dsn, const struct ds_opts *o,
		  struct dataset **out, char *err, size_t el)
{
	struct szone *z = xcalloc(1, sizeof(*z));
	struct store_zone zc;
	struct sset_vals *vals = NULL;
	struct sset_layer *base = NULL;
	struct dataset *ds = NULL;
	uint32_t serial = 0;
	int rc = -1, r;

	atomic_store(&z->refs, 1);
	pthread_mutex_init(&z->lock, NULL);
	z->zone = xstrdup(zone);
	z->dsn = xstrdup(dsn);
	z->opts = *o;
	if (!(z->st = open_store(dsn, &z->rdonly, err, el)))
		goto out;
	if (z->rdonly)
		log_warn("%s: read-only for serve: zone %s is served, its expiry is left to "
			 "the list tools", dsn, zone);
	if ((r = store_zone_get(z->st, zone, &zc)) != 0) {
		snprintf(err, el, "%s: zone %s: %s", dsn, zone,
			 r == STORE_NOTFOUND ? "no such zone in the store" : store_error(z->st));
		goto out;
	}
	z->def_a[0] = (uint8_t)(zc.code >> 24);
	z->def_a[1] = (uint8_t)(zc.code >> 16);
	z->def_a[2] = (uint8_t)(zc.code >> 8);
	z->def_a[3] = (uint8_t)zc.code;
	if (!zc.code)
		memcpy(z->def_a, "\x7f\0\0\x02", 4);
	str_copy(z->def_txt, sizeof(z->def_txt), zc.txt);
	vals = sset_vals_new();
	if (read_snapshot(z, vals, &base, &serial, err, el))
		goto out;
	ds = new_version(NULL, z, base, sset_layer_empty(), vals, serial);
	if (set_publish(ds, &zc, o, err, el)) {
		ds_free(ds);
		ds = NULL;
		vals = NULL;    /* freed with ds */
		goto out;
	}
	ds->soa.serial = serial;
	*out = ds;
	rc = 0;
out:
	if (rc && !ds) {
		if (base)
			sset_layer_unref(base);
		sset_vals_unref(vals);
	}
	szone_unref(z);         /* ds holds its own reference */
	return rc;
}

/* ---- queries ---- */

/* Reversed, lowercased query name (rel) and its label ends; labels or -1. */
static int rev_rel(const struct qinfo *qi, uint8_t rev[DNAME_MAXLEN],
		   uint8_t ends[DNAME_MAXLABELS + 1])
{
	size_t i = 0;
	int n, k = 0;

	if (qi->rel_len > DNAME_MAXLEN - 1)
		return -1;
	n = dname_reverse(qi->rel, qi->rel_len, rev);
	if (n < 0)
		return -1;
	ends[0] = 0;
	while (i < (size_t)n && k < DNAME_MAXLABELS) {
		i += (size_t)rev[i] + 1;
		ends[++k] = (uint8_t)i;
	}
	return k;
}

static int sds_query(const struct dataset *ds, const struct qinfo *qi,
		       struct answer *ans)
{
	const struct sdata *d = ds->data;
	char sub[DNAME_TEXT_MAX];
	uint32_t vid = SSET_NONE;
	int sl = 0;

	if (qi->ip4_ok) {
		vid = sset_find_ip(&d->set, 0, qi->ip4, NULL);
		if (vid != SSET_NONE && (qi->want & Q_TXT))
			sl = ip4_format(qi->ip4, sub);
	} else if (qi->ip6_ok) {
		vid = sset_find_ip(&d->set, 1, ip6_to_u128(qi->ip6), NULL);
		if (vid != SSET_NONE && (qi->want & Q_TXT))
			sl = ip6_format(qi->ip6, sub);
	} else if (qi->rel_labels) {
		uint8_t rev[DNAME_MAXLEN], ends[DNAME_MAXLABELS + 1], w[DNAME_MAXLEN];
		unsigned from = 0;
		int nl = rev_rel(qi, rev, ends);

		if (nl <= 0)
			return 0;
		vid = sset_find_name(&d->set, rev, ends, (unsigned)nl, &from);
		/* "$" is the listed name, as rbldnsd's dnset says it */
		if (vid != SSET_NONE && (qi->want & Q_TXT)) {
			int n = dname_reverse(rev, ends[from], w);

			sl = n < 0 ? 0 : dname_to_text(w, (size_t)n, sub, sizeof(sub));
			if (sl < 0)
				sl = 0;
		}
	}
	if (vid == SSET_NONE)
		return 0;
	answer_a_txt(ans, qi->want, sset_val_get(d->set.vals, vid), ds->ttl, sub,
		     (size_t)sl);
	return 1;
}

static int sds_has_below(const struct dataset *ds, const struct qinfo *qi)
{
	const struct sdata *d = ds->data;

	if (qi->ip4_pfx_bits > 0 &&
	    sset_any_ip(&d->set, 0, qi->ip4, qi->ip4 | ~ip4_mask(qi->ip4_pfx_bits)))
		return 1;
	if (qi->ip6_pfx_bits > 0) {
		u128 p = ip6_to_u128(qi->ip6);

		if (sset_any_ip(&d->set, 1, p, p | ~ip6_mask(qi->ip6_pfx_bits)))
			return 1;
	}
	if (!qi->ip4_ok && !qi->ip6_ok && qi->rel_labels) {
		uint8_t rev[DNAME_MAXLEN], ends[DNAME_MAXLABELS + 1];
		int nl = rev_rel(qi, rev, ends);

		return nl > 0 && sset_any_below(&d->set, rev, ends, (unsigned)nl);
	}
	return 0;
}

static void sds_free(void *data)
{
	struct sdata *d = data;

	if (!d)
		return;
	sset_layer_unref(d->set.base);
	sset_layer_unref(d->set.delta);
	sset_vals_unref(d->set.vals);
	szone_unref(d->z);
	free(d);
}

static void sds_stats(const void *data, size_t *entries, size_t *bytes)
{
	const struct sdata *d = data;

	*entries = sset_layer_count(d->set.base) + sset_layer_count(d->set.delta);
	*bytes = sset_layer_bytes(d->set.base) + sset_layer_bytes(d->set.delta);
}

uint32_t ds_store_serial(const struct dataset *ds)
{
	return ((const struct sdata *)ds->data)->serial;
}

/* ---- live changes ---- */

struct chgctx {
	const struct sdata *d;
	struct sset_vals *vals;
	struct sset_build *b;
	struct sset_layer *pending;     /* the batch so far, for old values */
	uint32_t last;
	size_t n, bad;
};

static uint32_t view_get(const struct sset *s, const struct sset_key *k)
{
	uint32_t v = sset_layer_get(s->delta, k);

	if (v == SSET_GONE)
		return SSET_NONE;
	if (v != SSET_NONE)
		return v;
	return sset_layer_get(s->base, k);
}

static void hist_add(struct szone *z, const struct hent *e)
{
	pthread_mutex_lock(&z->lock);
	hist_push(&z->h, &z->nh, &z->ch, &z->hist_from, e);
	pthread_mutex_unlock(&z->lock);
}

static int change_cb(void *arg, const struct store_change *c)
{
	struct chgctx *x = arg;
	struct szone *z = x->d->z;
	struct sset_key k;
	uint8_t buf[256];
	struct hent h = { .serial = c->serial };

	if (skey_from(&c->key, &k, buf)) {
		x->bad++;
		return 0;
	}
	h.kind = (uint8_t)k.kind;
	h.bits = (uint8_t)k.bits;
	h.addr = k.addr;
	h.old = view_get(&x->d->set, &k);
	h.new = c->op == STORE_DEL ? SSET_NONE
		: value_of(z, x->vals, c->code, c->reason, c->excluded);
	sset_build_add(x->b, &k, h.new == SSET_NONE ? SSET_GONE : h.new);
	hist_add(z, &h);
	x->last = c->serial;
	x->n++;
	return 0;
}

/* Log a failure once per state; recovery once. */
static void set_failing(struct szone *z, int failing, const char *why)
{
	if (failing && !z->failing)
		log_err("store zone %s (%s): %s; serving the last data read", z->zone,
			z->dsn, why);
	else if (!failing && z->failing)
		log_info("store zone %s (%s): reachable again", z->zone, z->dsn);
	z->failing = failing;
}

static void *fold_main(void *arg)
{
	struct sdata *d = arg;
	struct szone *z = d->z;
	struct sset_layer *out = sset_layer_merge(d->set.base, d->set.delta, 1);

	pthread_mutex_lock(&z->lock);
	z->fold_out = out;
	pthread_mutex_unlock(&z->lock);
	sset_layer_unref(d->set.base);
	sset_layer_unref(d->set.delta);
	szone_unref(z);
	free(d);
	return NULL;
}

/* Start folding cur's delta into a new base on a thread of its own. */
static void fold_start(const struct sdata *cur)
{
	struct szone *z = cur->z;
	struct sdata *d = xcalloc(1, sizeof(*d));
	pthread_t t;
	pthread_attr_t attr;

	*d = *cur;
	sset_layer_ref(d->set.base);
	sset_layer_ref(d->set.delta);
	atomic_fetch_add(&z->refs, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, fold_main, d)) {
		log_warn("store zone %s: cannot start folding the changes", z->zone);
		sset_layer_unref(d->set.base);
		sset_layer_unref(d->set.delta);
		atomic_fetch_sub(&z->refs, 1);
		free(d);
	} else {
		z->folding = 1;
		z->fold_gen = z->gen;
		sset_layer_ref(cur->set.delta);
		z->fold_delta = cur->set.delta;
	}
	pthread_attr_destroy(&attr);
}

/* A fold finished: the new base, and what changed since it began. */
static int fold_finish(const struct dataset *cur, struct dataset **next)
{
	const struct sdata *d = cur->data;
	struct szone *z = d->z;
	struct sset_layer *out, *rest;

	pthread_mutex_lock(&z->lock);
	out = z->fold_out;
	z->fold_out = NULL;
	pthread_mutex_unlock(&z->lock);
	if (!out)
		return 0;
	if (z->fold_gen != z->gen) {    /* the zone was read again since */
		sset_layer_unref(out);
		sset_layer_unref(z->fold_delta);
		z->fold_delta = NULL;
		z->folding = 0;
		return 0;
	}
	/* what changed while it folded stays in the delta */
	rest = sset_layer_minus(d->set.delta, z->fold_delta);
	sset_layer_unref(z->fold_delta);
	z->fold_delta = NULL;
	z->folding = 0;
	z->delta_since = sset_layer_count(rest) ? now_ms() : 0;
	sset_vals_ref(d->set.vals);
	*next = new_version(cur, z, out, rest, d->set.vals, d->serial);
	log_info("store zone %s: changes folded in: %zu entries", z->zone,
		 sset_layer_count(out));
	return 1;
}

/* The journal is gone or does not add up: read everything again. */
static int reload(const struct dataset *cur, struct dataset **next)
{
	const struct sdata *d = cur->data;
	struct szone *z = d->z;
	struct sset_layer *base;
	uint32_t serial;
	char err[512];
	uint64_t t0 = now_ms();

	if (read_snapshot(z, d->set.vals, &base, &serial, err, sizeof(err))) {
		set_failing(z, 1, err);
		return 0;
	}
	sset_vals_ref(d->set.vals);
	*next = new_version(cur, z, base, sset_layer_empty(), d->set.vals, serial);
	z->delta_since = 0;
	z->gen++;               /* a fold still running is of the data before */
	log_info("store zone %s: read again at serial %u in %llu ms (%zu entries)",
		 z->zone, serial, (unsigned long long)(now_ms() - t0), sset_layer_count(base));
	return 1;
}

int ds_store_poll(const struct dataset *cur, struct dataset **next)
{
	const struct sdata *d = cur->data;
	struct szone *z = d->z;
	struct chgctx x = { .d = d, .vals = d->set.vals };
	uint32_t serial, upto;
	char err[512];
	int rc;

	if (!z->st && !(z->st = open_store(z->dsn, &z->rdonly, err, sizeof(err)))) {
		set_failing(z, 1, err);
		return 0;
	}
	if (z->folding && fold_finish(cur, next))
		return 1;
	rc = store_zone_serial(z->st, z->zone, &serial);
	if (rc) {
		set_failing(z, 1, rc == STORE_NOTFOUND ? "the zone is gone from the store"
			    : store_error(z->st));
		if (rc < 0) {   /* connection trouble: a new one next time */
			store_close(z->st);
			z->st = NULL;
		}
		return 0;
	}
	set_failing(z, 0, NULL);
	if (serial == d->serial) {
		if (!z->folding && z->delta_since &&
		    (sset_layer_count(d->set.delta) >= FOLD_ENTRIES ||
		     now_ms() - z->delta_since >= FOLD_AGE_MS))
			fold_start(d);
		return 0;
	}
	if ((int32_t)(serial - d->serial) < 0) {
		log_warn("store zone %s: serial went back from %u to %u; reading it again",
			 z->zone, d->serial, serial);
		return reload(cur, next);
	}
	x.b = sset_build_new();
	upto = serial;
	rc = store_changes(z->st, z->zone, d->serial, &upto, change_cb, &x);
	if (rc == STORE_GONE) {
		sset_build_free(x.b);
		return reload(cur, next);
	}
	if (rc) {
		sset_build_free(x.b);
		set_failing(z, 1, rc == STORE_NOTFOUND ? "the zone is gone from the store"
			    : store_error(z->st));
		return 0;
	}
	if (x.bad)
		log_warn("store zone %s: %zu changed keys not usable, left out", z->zone, x.bad);
	{
		struct sset_layer *batch = sset_build_finish(x.b);
		struct sset_layer *delta = sset_layer_merge(d->set.delta, batch, 0);
		uint32_t s = upto;      /* the zone's serial these changes are the state of */

		sset_layer_unref(batch);
		sset_layer_ref(d->set.base);
		sset_vals_ref(d->set.vals);
		*next = new_version(cur, z, d->set.base, delta, d->set.vals, s);
		if (!z->delta_since)
			z->delta_since = now_ms();
	}
	return 1;
}

void ds_store_expire(const struct dataset *ds, time_t now)
{
	struct szone *z = ((const struct sdata *)ds->data)->z;
	unsigned n = 0;

	if (!z->st || z->rdonly)
		return;
	/* a failure is logged once per state, and not at all while the
	 * poll has said the store fails (a store that went away is one line,
	 * whichever noticed first); the poll reconnects */
	if (store_expire(z->st, z->zone, (int64_t)now, &n)) {
		if (!z->expire_failing && !z->failing)
			log_warn("store zone %s: cannot expire listings: %s", z->zone,
				 store_error(z->st));
		z->expire_failing = 1;
	} else if (z->expire_failing) {
		log_info("store zone %s: expiring listings again", z->zone);
		z->expire_failing = 0;
	}
}

const struct ds_type ds_store = {
	.name = "store",
	.flags = DS_F_IP4 | DS_F_IP6 | DS_F_NAME,
	.query = sds_query,
	.has_below = sds_has_below,
	.dump = ds_store_dump,
	.free = sds_free,
	.stats = sds_stats,
};
