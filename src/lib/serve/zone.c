/*
 * zone.c - building zone sets from zone specs; see zone.h.
 *
 * SECURITY: data files are parsed by dataset.c; this file only arranges
 * loaded datasets and compares file times.
 */
#include "serve/zone.h"
#include "base/dname.h"
#include "base/util.h"
#include "serve/answer.h"
#include "serve/ds_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One distinct "type:files" dataset, shared by the zones that name it. */
struct dsref {
	char *key;              /* "type:files" */
	const struct ds_type *type;
	char *files;
	struct dataset *ds;     /* NULL when never loaded */
	uint64_t fp;            /* ds_files_stat() fingerprint when loaded */
	int owned;              /* freed with this set (not shared on) */
	const char *zone;       /* store: the zone it serves */
};

struct zoneset {
	struct zone *zones;
	unsigned nzones;
	struct dsref *refs;
	unsigned nrefs;
	struct dataset *gacl;
	time_t next_expiry;     /* earliest $TIMESTAMP expiry, 0 none */
};

size_t zone_soa_rdata(const struct zone *z, uint8_t *rd, size_t offs[2])
{
	const struct ds_soa *s = z->soa;
	size_t ml = (size_t)dname_rel_len(s->mname, 256) + 1;
	size_t rl = (size_t)dname_rel_len(s->rname, 256) + 1, n;
	uint32_t nums[5] = { z->serial, s->refresh, s->retry, s->expire, s->minttl };

	memcpy(rd, s->mname, ml);
	memcpy(rd + ml, s->rname, rl);
	n = ml + rl;
	for (int i = 0; i < 5; i++, n += 4) {
		rd[n] = (uint8_t)(nums[i] >> 24);
		rd[n + 1] = (uint8_t)(nums[i] >> 16);
		rd[n + 2] = (uint8_t)(nums[i] >> 8);
		rd[n + 3] = (uint8_t)nums[i];
	}
	offs[0] = 0;
	offs[1] = ml;
	return n;
}

int zone_spec_parse(const char *arg, struct zone_spec *spec, const char **err)
{
	const char *c1 = strchr(arg, ':'), *c2;

	if (!c1 || !(c2 = strchr(c1 + 1, ':')) || !c2[1]) {
		*err = "expected zone:type:file[,file...]";
		return -1;
	}
	spec->zone = xstrndup(arg, (size_t)(c1 - arg));
	spec->type = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
	spec->files = xstrdup(c2 + 1);
	if (!ds_type_find(spec->type)) {
		*err = "unknown dataset type (known: ip4set, ip4tset, ip4trie, "
		       "ip6trie, ip6tset, dnset, generic, combined, acl, store)";
		return -1;
	}
	if (!*spec->zone && strcmp(spec->type, "acl")) {
		*err = "missing zone name (only acl may be global)";
		return -1;
	}
	if (!strcmp(spec->type, "store") && !*spec->zone) {
		*err = "missing zone name (a store serves a zone)";
		return -1;
	}
	if (*spec->zone) {
		uint8_t wire[256];

		if (dname_from_text(spec->zone, wire) <= 1) {
			*err = "invalid zone name";
			return -1;
		}
	}
	return 0;
}

void zone_spec_free(struct zone_spec *spec)
{
	free(spec->zone);
	free(spec->type);
	free(spec->files);
	spec->zone = spec->type = spec->files = NULL;
}

static struct dsref *find_ref(struct dsref *refs, unsigned n, const char *key)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(refs[i].key, key))
			return &refs[i];
	return NULL;
}

/* A store zone: shared with prev unless forced (it follows the store by
 * itself, see server.c); a failed reload keeps prev's. */
static int load_store(struct dsref *r, const struct ds_opts *o, const struct dsref *old,
		      int force, int *changed)
{
	struct dataset *ds;
	char err[512];
	uint64_t t0 = now_ms();

	if (old && old->ds && !force) {
		r->ds = old->ds;
		r->fp = old->fp;
		return 0;
	}
	if (ds_store_load(r->zone, r->files, o, &ds, err, sizeof(err)) == 0) {
		size_t entries = 0, bytes = 0;

		ds->type->stats(ds->data, &entries, &bytes);
		log_info("loaded store %s for %s: %zu entries, %zu KiB, serial %u in %llu ms",
			 r->files, r->zone, entries, bytes / 1024, ds_store_serial(ds),
			 (unsigned long long)(now_ms() - t0));
		r->ds = ds;
		r->fp = 1;
		r->owned = 1;
		*changed = 1;
		return 0;
	}
	log_err("%s", err);
	if (old && old->ds) {
		log_err("store %s for %s: keeping the data loaded before", r->files, r->zone);
		r->ds = old->ds;
		r->fp = old->fp;
		return 0;
	}
	return -1;
}

/* Load or share the dataset of ref; returns 0, or -1 if it has none. */
static int load_ref(struct dsref *r, const struct ds_opts *o,
		    const struct zoneset *prev, int force, int *changed)
{
	const struct dsref *old = prev ? find_ref(prev->refs, prev->nrefs, r->key) : NULL;
	time_t newest;
	uint64_t fp;
	struct dataset *ds;

	if (r->type == &ds_store)
		return load_store(r, o, old, force, changed);
	ds_files_stat(r->files, &newest, &fp);
	if (old && old->ds && !force && fp && fp == old->fp) {
		r->ds = old->ds;
		r->fp = old->fp;
		return 0;
	}
	if (ds_load(r->type, r->files, o, &ds) == 0) {
		size_t entries = 0, bytes = 0;

		ds->type->stats(ds->data, &entries, &bytes);
		log_info("loaded %s:%s: %zu entries, %zu values, %zu KiB",
			 r->type->name, r->files, entries, (size_t)vtab_count(ds->vt),
			 (bytes + vtab_bytes(ds->vt)) / 1024);
		r->ds = ds;
		r->fp = ds->fp;
		r->owned = 1;
		*changed = 1;
		return 0;
	}
	if (old && old->ds) {
		log_err("%s:%s: keeping the data loaded before", r->type->name,
			r->files);
		r->ds = old->ds;
		r->fp = old->fp;
		return 0;
	}
	return -1;
}

static void zone_add_ds(struct zone *z, struct dataset *ds)
{
	z->ds = xreallocarray(z->ds, z->nds + 1, sizeof(*z->ds));
	z->ds[z->nds++] = ds;
	z->flags |= ds->type->flags;
	if (!z->soa && ds->soa.set)
		z->soa = &ds->soa;
	if (!z->ns && ds->ns.count)
		z->ns = &ds->ns;
}

static struct zone *get_zone(struct zoneset *zs, const char *name)
{
	uint8_t wire[256];
	int n = dname_from_text_lc(name, wire);

	for (unsigned i = 0; i < zs->nzones; i++)
		if ((int)zs->zones[i].namelen == n &&
		    !memcmp(zs->zones[i].name, wire, (size_t)n))
			return &zs->zones[i];
	zs->zones = xreallocarray(zs->zones, zs->nzones + 1, sizeof(*zs->zones));
	struct zone *z = &zs->zones[zs->nzones];
	memset(z, 0, sizeof(*z));
	memcpy(z->name, wire, (size_t)n);
	z->namelen = (unsigned)n;
	z->labels = (unsigned)dname_labels(wire, (size_t)n);
	snprintf(z->text, sizeof(z->text), "%s", name);
	z->id = zs->nzones++;
	return z;
}

/* 1 if z is built from other data than pz (other files, or the same
 * files changed since pz was loaded). */
static int zone_data_differs(const struct zone *z, const struct zone *pz)
{
	if (z->nds != pz->nds)
		return 1;
	for (unsigned i = 0; i < z->nds; i++)
		if (z->ds[i]->fp != pz->ds[i]->fp || z->ds[i]->type != pz->ds[i]->type)
			return 1;
	return 0;
}

/* The serial of z: $SOA's, or (serial 0, as rbldnsd) the newest mtime of
 * its files. rbldnsd differs: an automatic serial never stays or goes
 * back when the data changed (an edit in the same second as the last
 * load, a file older than the one it replaced), so that secondaries
 * notified of the change transfer it; it stays when the data did not. */
static uint32_t zone_serial(const struct zone *z, time_t newest, const struct zone *pz)
{
	uint32_t serial = (uint32_t)newest;

	if (z->soa && z->soa->serial)
		return z->soa->serial;
	if (!pz || !pz->loaded)
		return serial;
	if (!zone_data_differs(z, pz))
		return pz->serial;
	return (int32_t)(serial - pz->serial) > 0 ? serial : pz->serial + 1;
}

static void finish_zone(struct zoneset *zs, struct zone *z, const struct zoneset *prev)
{
	const struct zone *pz = NULL;
	time_t newest = 0;

	z->loaded = z->nds > 0;
	for (unsigned i = 0; i < z->nds; i++) {
		if (z->ds[i]->stamp > newest)
			newest = z->ds[i]->stamp;
		if (z->ds[i]->expires && (!zs->next_expiry ||
					 z->ds[i]->expires < zs->next_expiry))
			zs->next_expiry = z->ds[i]->expires;
		if (z->ds[i]->expires && z->ds[i]->expires < time(NULL)) {
			log_warn("zone %s: data expired ($TIMESTAMP), not served",
				 z->text);
			z->loaded = 0;
		}
	}
	if (prev && z->id < prev->nzones && !strcmp(prev->zones[z->id].text, z->text))
		pz = &prev->zones[z->id];
	z->serial = zone_serial(z, newest, pz);
}

/* Glue for z's NS names: an A query for each through the zone that holds
 * it, all into one answer so that rbldnsd's rules apply across them (an A
 * already given for one name is not repeated; the smallest TTL wins). */
static void find_glue(const struct zoneset *zs, struct zone *z)
{
	uint8_t buf[4096], q[12] = { 0 };
	struct answer a;

	z->nglue = 0;
	if (!z->ns)
		return;
	answer_init(&a, buf, sizeof(buf), sizeof(buf), q, sizeof(q));
	for (int i = 0; i < z->ns->count; i++) {
		uint8_t lc[256];
		size_t len = (size_t)dname_rel_len(z->ns->name[i], 256) + 1;
		unsigned labels, before = a.count[SEC_ANSWER];
		const struct zone *hz;
		struct qinfo qi = { .want = Q_A, .qtype = 1 };

		uint8_t offs[DNAME_MAXLABELS + 1];
		int nl;

		memcpy(lc, z->ns->name[i], len);
		nl = dname_prepare(lc, len, offs);
		if (nl < 0)
			continue;
		labels = (unsigned)nl;
		hz = zoneset_find(zs, lc, labels, offs);
		if (!hz)
			continue;
		qi.rel = lc;
		qi.rel_labels = labels - hz->labels;
		qi.rel_len = (unsigned)(len - hz->namelen);
		ds_qinfo_addr(&qi, hz->flags);
		for (unsigned k = 0; k < hz->nds; k++)
			hz->ds[k]->type->query(hz->ds[k], &qi, &a);
		/* the new A records belong to this name */
		for (unsigned k = before; k < a.count[SEC_ANSWER] &&
		     z->nglue < ARRAY_SIZE(z->glue_a); k++)
			z->glue_ns[z->nglue++] = (uint8_t)i;
	}
	/* read back rdata and (final) TTLs of the A records */
	const uint8_t *p = buf + a.sec_start[SEC_ANSWER];
	unsigned k = 0;
	for (unsigned n = 0; n < a.count[SEC_ANSWER] && k < z->nglue; n++) {
		unsigned type = (unsigned)p[2] << 8 | p[3], rdlen = (unsigned)p[10] << 8 | p[11];

		if (type == 1 && rdlen == 4) {
			memcpy(z->glue_a[k], p + 12, 4);
			z->glue_ttl[k] = (uint32_t)p[6] << 24 | (uint32_t)p[7] << 16 |
					 (uint32_t)p[8] << 8 | p[9];
			k++;
		}
		p += 12 + rdlen;
	}
	z->nglue = k;
}

struct zoneset *zoneset_build(const struct zone_spec *specs, unsigned nspecs,
			      const struct ds_opts *o, const struct zoneset *prev,
			      int force, int *changed)
{
	struct zoneset *zs = xcalloc(1, sizeof(*zs));
	int dummy = 0;

	if (!changed)
		changed = &dummy;
	zs->refs = xcalloc(nspecs ? nspecs : 1, sizeof(*zs->refs));
	for (unsigned i = 0; i < nspecs; i++) {
		size_t kl = strlen(specs[i].type) + strlen(specs[i].files) +
			    strlen(specs[i].zone) + 3;
		char *key = xmalloc(kl);
		struct dsref *r;
		struct zone *z;

		/* a store dataset is one zone's: the zone is part of its key */
		if (!strcmp(specs[i].type, "store"))
			snprintf(key, kl, "%s:%s:%s", specs[i].type, specs[i].zone,
				 specs[i].files);
		else
			snprintf(key, kl, "%s:%s", specs[i].type, specs[i].files);
		r = find_ref(zs->refs, zs->nrefs, key);
		if (r) {
			free(key);
		} else {
			r = &zs->refs[zs->nrefs++];
			r->key = key;
			r->type = ds_type_find(specs[i].type);
			r->files = specs[i].files;
			r->zone = specs[i].zone;
			if (load_ref(r, o, prev, force, changed)) {
				zoneset_free(zs);
				return NULL;
			}
		}
		if (!*specs[i].zone) {
			zs->gacl = r->ds;
			continue;
		}
		z = get_zone(zs, specs[i].zone);
		if (r->type->flags & DS_F_ACL)
			z->acl = r->ds;
		else
			zone_add_ds(z, r->ds);
	}
	for (unsigned i = 0; i < zs->nzones; i++)
		finish_zone(zs, &zs->zones[i], prev);
	for (unsigned i = 0; i < zs->nzones; i++)
		find_glue(zs, &zs->zones[i]);
	if (prev && prev->nrefs != zs->nrefs)
		*changed = 1;
	return zs;
}

struct zoneset *zoneset_replace(const struct zoneset *zs, const struct dataset *old,
				struct dataset *new)
{
	struct zoneset *ns = xcalloc(1, sizeof(*ns));

	*ns = *zs;
	ns->zones = xreallocarray(NULL, zs->nzones ? zs->nzones : 1, sizeof(*ns->zones));
	ns->refs = xreallocarray(NULL, zs->nrefs ? zs->nrefs : 1, sizeof(*ns->refs));
	for (unsigned i = 0; i < zs->nrefs; i++) {
		struct dsref *r = &ns->refs[i];

		*r = zs->refs[i];
		r->key = xstrdup(r->key);
		if (r->ds == old) {
			r->ds = new;
			r->owned = 1;
		} else {
			r->owned = 0;
		}
	}
	for (unsigned i = 0; i < zs->nzones; i++) {
		struct zone *z = &ns->zones[i];

		*z = zs->zones[i];
		z->ds = xreallocarray(NULL, z->nds ? z->nds : 1, sizeof(*z->ds));
		z->soa = NULL;
		z->ns = NULL;
		z->nds = 0;
		z->flags = 0;
		for (unsigned k = 0; k < zs->zones[i].nds; k++)
			zone_add_ds(z, zs->zones[i].ds[k] == old ? new : zs->zones[i].ds[k]);
		if (z->soa && z->soa->serial)
			z->serial = z->soa->serial;
	}
	return ns;
}

void zoneset_free(struct zoneset *zs)
{
	if (!zs)
		return;
	for (unsigned i = 0; i < zs->nzones; i++)
		free(zs->zones[i].ds);
	for (unsigned i = 0; i < zs->nrefs; i++) {
		if (zs->refs[i].owned)
			ds_free(zs->refs[i].ds);
		free(zs->refs[i].key);
	}
	free(zs->refs);
	free(zs->zones);
	free(zs);
}

void zoneset_handover(struct zoneset *old, struct zoneset *new)
{
	for (unsigned i = 0; i < old->nrefs; i++) {
		struct dsref *r = &old->refs[i];

		if (!r->owned)
			continue;
		for (unsigned k = 0; k < new->nrefs; k++) {
			if (new->refs[k].ds == r->ds) {
				new->refs[k].owned = 1;
				r->owned = 0;
			}
		}
	}
}

int zoneset_expiry_changed(const struct zoneset *a, const struct zoneset *b)
{
	for (unsigned i = 0; i < a->nzones && i < b->nzones; i++)
		if (a->zones[i].loaded != b->zones[i].loaded)
			return 1;
	return 0;
}

int zoneset_stale(const struct zoneset *zs, time_t now)
{
	if (zs->next_expiry && now >= zs->next_expiry)
		return 1;
	for (unsigned i = 0; i < zs->nrefs; i++) {
		time_t newest;
		uint64_t fp;

		if (zs->refs[i].type == &ds_store)
			continue;       /* followed by polling, not by files */
		ds_files_stat(zs->refs[i].files, &newest, &fp);
		if (fp != zs->refs[i].fp)
			return 1;
	}
	return 0;
}

const struct zone *zoneset_find(const struct zoneset *zs, const uint8_t *name,
				unsigned labels, const uint8_t *offs)
{
	const struct zone *best = NULL;

	for (unsigned i = 0; i < zs->nzones; i++) {
		const struct zone *z = &zs->zones[i];

		/* the zone's labels are the name's last ones, byte for byte
		 * (both lowercased), starting at a label boundary */
		if (z->labels > labels || (best && z->labels <= best->labels))
			continue;
		if (!memcmp(name + offs[labels - z->labels], z->name, z->namelen))
			best = z;
	}
	return best;
}

unsigned zoneset_errors(const struct zoneset *zs)
{
	unsigned n = 0;

	for (unsigned i = 0; i < zs->nrefs; i++)
		if (zs->refs[i].owned && zs->refs[i].ds)
			n += zs->refs[i].ds->errors;
	return n;
}

unsigned zoneset_count(const struct zoneset *zs)
{
	return zs->nzones;
}

const struct zone *zoneset_zone(const struct zoneset *zs, unsigned i)
{
	return &zs->zones[i];
}

const struct dataset *zoneset_global_acl(const struct zoneset *zs)
{
	return zs->gacl;
}

/* Is rel (wire labels below the apex) listed in z? */
static int probe(const struct zone *z, const uint8_t *rel, unsigned rel_len,
		 unsigned labels)
{
	uint8_t buf[4096], q[12] = { 0 };
	struct answer a;
	struct qinfo qi = { .want = Q_A, .qtype = 1, .rel = rel,
			    .rel_len = rel_len, .rel_labels = labels };
	int found = 0;

	answer_init(&a, buf, sizeof(buf), sizeof(buf), q, sizeof(q));
	ds_qinfo_addr(&qi, z->flags);
	for (unsigned i = 0; i < z->nds; i++)
		found |= z->ds[i]->type->query(z->ds[i], &qi, &a);
	return found;
}

void zoneset_check_testpoints(const struct zoneset *zs)
{
	static const uint8_t v4ok[] = "\0012\0010\0010\003127";
	static const uint8_t v4no[] = "\0011\0010\0010\003127";
	static const uint8_t test[] = "\004test", invalid[] = "\007invalid";
	uint8_t v6ok[64], v6no[64];
	const char *nib = "200000f7ffff00000000000000000000";

	/* ::ffff:7f00:2 in nibble order, least significant first */
	for (int i = 0; i < 32; i++) {
		v6ok[2 * i] = 1;
		v6ok[2 * i + 1] = (uint8_t)nib[i];
	}
	memcpy(v6no, v6ok, sizeof(v6no));
	v6no[1] = '1';
	for (unsigned i = 0; i < zs->nzones; i++) {
		const struct zone *z = &zs->zones[i];

		if (z->flags & DS_F_IP4) {
			if (!probe(z, v4ok, sizeof(v4ok) - 1, 4))
				log_warn("zone %s: RFC 5782 test point 127.0.0.2 is not listed", z->text);
			if (probe(z, v4no, sizeof(v4no) - 1, 4))
				log_warn("zone %s: RFC 5782 test point 127.0.0.1 is listed", z->text);
		}
		if (z->flags & DS_F_IP6) {
			if (!probe(z, v6ok, 64, 32))
				log_warn("zone %s: RFC 5782 test point ::ffff:7f00:2 is not listed", z->text);
			if (probe(z, v6no, 64, 32))
				log_warn("zone %s: RFC 5782 test point ::ffff:7f00:1 is listed", z->text);
		}
		if (z->flags & DS_F_NAME) {
			if (!probe(z, test, sizeof(test) - 1, 1))
				log_warn("zone %s: RFC 5782 test point TEST is not listed", z->text);
			if (probe(z, invalid, sizeof(invalid) - 1, 1))
				log_warn("zone %s: RFC 5782 test point INVALID is listed", z->text);
		}
	}
}

void zoneset_each_store(const struct zoneset *zs,
			void (*fn)(void *arg, const struct dataset *ds), void *arg)
{
	for (unsigned i = 0; i < zs->nrefs; i++)
		if (zs->refs[i].type == &ds_store && zs->refs[i].ds)
			fn(arg, zs->refs[i].ds);
}
