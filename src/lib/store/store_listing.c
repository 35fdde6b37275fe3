/*
 * store_listing.c - listings and the change journal (store.h): read and
 * write a listing, journal a change exactly when what DNS answers
 * changes, search, the snapshot serve loads, the changes since a serial
 * that serve and IXFR apply, expiry and journal pruning.
 *
 * What DNS answers for a listing is (answered?, excluded?, code, reason):
 * LISTED and EXCLUDED entries are answered (an EXCLUDED one as "not
 * listed" inside a listed network), the others are not; the code is
 * resolved (0 = the zone's). A put that changes that tuple writes a DEL
 * row for the old answer and an ADD row for the new one under the zone's
 * serial for this transaction; a put that does not writes no journal row.
 *
 * SECURITY: keys are canonicalised by store_key_parse(); reasons and
 * sources are cut to their bounds; every value is a bound parameter.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LISTING_COLS                                                          \
	"key, kind, bits, lo, state, code, reason, first_seen, last_seen,"    \
	" expires, changed, hits, level, removals, source"

static void listing_from_row(const struct db_row *r, struct store_listing *l)
{
	size_t lolen = 0;
	const void *lo = db_blob(r, 3, &lolen);

	memset(l, 0, sizeof(*l));
	store_key_from(&l->key, (int)db_int(r, 1), (int)db_int(r, 2), lo, lolen, db_text(r, 0));
	l->state = (enum store_state)db_int(r, 4);
	l->code = (uint32_t)db_int(r, 5);
	store_copy(l->reason, sizeof(l->reason), db_text(r, 6));
	l->first_seen = db_int(r, 7);
	l->last_seen = db_int(r, 8);
	l->expires = db_int(r, 9);
	l->changed = db_int(r, 10);
	l->hits = (uint32_t)db_int(r, 11);
	l->level = (uint32_t)db_int(r, 12);
	l->removals = (uint32_t)db_int(r, 13);
	store_copy(l->source, sizeof(l->source), db_text(r, 14));
}

static int listing_cb(void *arg, const struct db_row *r)
{
	listing_from_row(r, arg);
	return 1;
}

int store_get(struct store *st, const char *zone, const char *key, struct store_listing *l)
{
	char name[STORE_ZONE_MAX];
	struct store_key k;
	int rc;

	if (store_zone_name(st, zone, name) || store_key_get(st, key, &k))
		return -1;
	rc = db_query(st->db,
		      "SELECT " LISTING_COLS " FROM listings"
		      " WHERE zone_id = (SELECT id FROM zones WHERE name = ?) AND key = ?",
		      (struct db_param[]){ DB_T(name), DB_T(k.text) }, 2, listing_cb, l);
	if (rc == 1)
		return 0;
	if (rc == 0)
		return store_fail(st, STORE_NOTFOUND, "%s in %s: not in the store", k.text, name);
	return store_dbfail(st, rc, "reading the listing");
}

/* ---- put and the journal ---- */

/* What DNS answers for one listing. */
struct answer {
	int on;                 /* answered at all */
	int excluded;
	uint32_t code;          /* resolved */
	char reason[STORE_REASON_MAX];
};

static void answer_of(struct answer *a, int state, uint32_t code, const char *reason,
		      uint32_t zone_code)
{
	memset(a, 0, sizeof(*a));
	a->on = state == STORE_LISTED || state == STORE_EXCLUDED;
	a->excluded = state == STORE_EXCLUDED;
	a->code = code ? code : zone_code;
	store_copy(a->reason, sizeof(a->reason), reason);
}

static int answer_same(const struct answer *a, const struct answer *b)
{
	if (a->on != b->on)
		return 0;
	if (!a->on)
		return 1;
	if (a->excluded != b->excluded)
		return 0;
	/* an exclusion has no records of its own: its code does not show */
	return a->excluded || (a->code == b->code && !strcmp(a->reason, b->reason));
}

static int journal_add(struct store *st, int64_t zone_id, uint32_t serial, enum store_op op,
		       const char *key, const struct answer *a)
{
	int rc = db_exec(st->db,
			 "INSERT INTO journal (zone_id, serial, op, key, code, reason, excluded)"
			 " VALUES (?, ?, ?, ?, ?, ?, ?)",
			 (struct db_param[]){ DB_I(zone_id), DB_I(serial), DB_I(op), DB_T(key),
					      DB_I(a->code), DB_T(a->reason), DB_I(a->excluded) },
			 7, NULL);

	return rc ? store_dbfail(st, rc, "writing the journal") : 0;
}

/* Journal the change from a to b (no rows when DNS answers the same). */
static int journal_change(struct store *st, int64_t zone_id, const char *key,
			  const struct answer *a, const struct answer *b)
{
	uint32_t serial;
	int rc;

	if (answer_same(a, b))
		return 0;
	if ((rc = store_zone_bump(st, zone_id, &serial)))
		return rc;
	if (a->on && (rc = journal_add(st, zone_id, serial, STORE_DEL, key, a)))
		return rc;
	if (b->on && (rc = journal_add(st, zone_id, serial, STORE_ADD, key, b)))
		return rc;
	return 0;
}

struct oldrow {
	int found;
	int state;
	uint32_t code;
	char reason[STORE_REASON_MAX];
};

static int oldrow_cb(void *arg, const struct db_row *r)
{
	struct oldrow *o = arg;

	o->found = 1;
	o->state = (int)db_int(r, 0);
	o->code = (uint32_t)db_int(r, 1);
	store_copy(o->reason, sizeof(o->reason), db_text(r, 2));
	return 1;
}

static int put_row(struct store *st, const struct store_zrow *z, const struct store_key *k,
		   const struct store_listing *l, const char *reason, const char *source)
{
	uint8_t lo[16], hi[16];
	int ip = store_key_range(k, lo, hi) == 0;
	int rc = db_exec(
		st->db,
		"INSERT INTO listings (zone_id, key, kind, bits, lo, hi, state, code, reason,"
		" first_seen, last_seen, expires, changed, hits, level, removals, source)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		" ON CONFLICT (zone_id, key) DO UPDATE SET state = excluded.state,"
		" code = excluded.code, reason = excluded.reason,"
		" first_seen = excluded.first_seen, last_seen = excluded.last_seen,"
		" expires = excluded.expires, changed = excluded.changed, hits = excluded.hits,"
		" level = excluded.level, removals = excluded.removals, source = excluded.source",
		(struct db_param[]){ DB_I(z->id), DB_T(k->text), DB_I(k->kind), DB_I(k->bits),
				     ip ? DB_B(lo, 16) : DB_N, ip ? DB_B(hi, 16) : DB_N,
				     DB_I(l->state), DB_I(l->code), DB_T(reason),
				     DB_I(l->first_seen), DB_I(l->last_seen), DB_I(l->expires),
				     DB_I(l->changed), DB_I(l->hits), DB_I(l->level),
				     DB_I(l->removals), DB_T(source) },
		17, NULL);

	return rc ? store_dbfail(st, rc, "writing the listing") : 0;
}

int store_put(struct store *st, const char *zone, const struct store_listing *l)
{
	char name[STORE_ZONE_MAX], rbuf[STORE_REASON_MAX], sbuf[STORE_SOURCE_MAX];
	const char *reason, *source;
	struct oldrow old = { 0 };
	struct answer a, b;
	struct store_zrow z;
	struct store_key k;
	int rc;

	if (store_zone_name(st, zone, name) || store_key_get(st, l->key.text, &k))
		return -1;
	if (l->state < STORE_LISTED || l->state > STORE_PENDING)
		return store_fail(st, -1, "%s: state %d is not a listing state", k.text, l->state);
	reason = store_bound(l->reason, rbuf, sizeof(rbuf));
	source = store_bound(l->source, sbuf, sizeof(sbuf));
	if ((rc = store_wbegin(st)))
		return rc;
	if ((rc = store_zone_ensure(st, name, &z)) || (rc = store_zone_lock(st, z.id)))
		goto out;
	rc = db_query(st->db, "SELECT state, code, reason FROM listings WHERE zone_id = ? AND key = ?",
		      (struct db_param[]){ DB_I(z.id), DB_T(k.text) }, 2, oldrow_cb, &old);
	if (rc < 0 || rc == DB_BUSY) {
		store_dbfail(st, rc, "reading the listing");
		goto out;
	}
	if ((rc = put_row(st, &z, &k, l, reason, source)))
		goto out;
	answer_of(&a, old.found ? old.state : 0, old.code, old.reason, z.code);
	answer_of(&b, l->state, l->code, reason, z.code);
	rc = journal_change(st, z.id, k.text, &a, &b);
out:
	return store_wend(st, rc);
}

/* ---- search ---- */

struct walk {
	int (*cb)(void *arg, const struct store_listing *l);
	void *arg;
	int ret;
};

static int walk_cb(void *arg, const struct db_row *r)
{
	struct walk *w = arg;
	struct store_listing l;

	listing_from_row(r, &l);
	w->ret = w->cb(w->arg, &l);
	return w->ret ? 1 : 0;
}

int store_search(struct store *st, const char *zone, const struct store_filter *f,
		 int (*cb)(void *arg, const struct store_listing *l), void *arg)
{
	static const struct store_filter none;
	char name[STORE_ZONE_MAX], sql[1024];
	struct db_param p[10];
	struct walk w = { cb, arg, 0 };
	uint8_t lo[16], hi[16];
	size_t o;
	int np = 0, rc;

	if (store_zone_name(st, zone, name))
		return -1;
	if (!f)
		f = &none;
	o = (size_t)snprintf(sql, sizeof(sql),
			     "SELECT " LISTING_COLS " FROM listings"
			     " WHERE zone_id = (SELECT id FROM zones WHERE name = ?)");
	p[np++] = DB_T(name);
#define ADD(cond, text, ...)                                                  \
	do {                                                                  \
		if (cond) {                                                   \
			o += (size_t)snprintf(sql + o, sizeof(sql) - o, text);\
			__VA_ARGS__;                                          \
		}                                                             \
	} while (0)
	ADD(f->state, " AND state = ?", p[np++] = DB_I(f->state));
	ADD(f->source, " AND source = ?", p[np++] = DB_T(f->source));
	ADD(f->since, " AND last_seen >= ?", p[np++] = DB_I(f->since));
	if (f->within && store_key_range(f->within, lo, hi) < 0)
		return store_fail(st, -1, "%s: not a network", f->within->text);
	ADD(f->within, " AND kind = ? AND lo >= ? AND hi <= ?",
	    (p[np++] = DB_I(f->within->kind), p[np++] = DB_B(lo, 16), p[np++] = DB_B(hi, 16)));
	ADD(f->expires_before, " AND state = 1 AND expires > 0 AND expires <= ?",
	    p[np++] = DB_I(f->expires_before));
	ADD(1, " ORDER BY kind, lo, key");
	ADD(f->limit, " LIMIT ?", p[np++] = DB_I(f->limit));
#undef ADD
	rc = db_query(st->db, sql, p, np, walk_cb, &w);
	if (rc == 1)
		return w.ret;
	return rc ? store_dbfail(st, rc, "search") : 0;
}

/* ---- what serve reads ---- */

struct snap {
	int (*cb)(void *arg, const struct store_entry *e);
	void *arg;
	uint32_t zone_code;
	int ret;
};

static int snap_cb(void *arg, const struct db_row *r)
{
	struct snap *s = arg;
	struct store_entry e;
	size_t lolen = 0;
	const void *lo = db_blob(r, 3, &lolen);
	uint32_t code = (uint32_t)db_int(r, 5);

	store_key_from(&e.key, (int)db_int(r, 1), (int)db_int(r, 2), lo, lolen, db_text(r, 0));
	e.excluded = db_int(r, 4) == STORE_EXCLUDED;
	e.code = code ? code : s->zone_code;
	e.reason = db_text(r, 6);
	s->ret = s->cb(s->arg, &e);
	return s->ret ? 1 : 0;
}

struct zstate {
	int found;
	int64_t id;
	uint32_t code, serial, journal_from;
};

static int zstate_cb(void *arg, const struct db_row *r)
{
	struct zstate *z = arg;

	z->found = 1;
	z->id = db_int(r, 0);
	z->code = (uint32_t)db_int(r, 1);
	z->serial = (uint32_t)db_int(r, 2);
	z->journal_from = (uint32_t)db_int(r, 3);
	return 1;
}

static int zstate_get(struct store *st, const char *name, struct zstate *z)
{
	int rc;

	memset(z, 0, sizeof(*z));
	rc = db_query(st->db, "SELECT id, code, serial, journal_from FROM zones WHERE name = ?",
		      (struct db_param[]){ DB_T(name) }, 1, zstate_cb, z);
	if (rc == 1)
		return 0;
	if (rc == 0)
		return store_fail(st, STORE_NOTFOUND, "zone %s: not in the store", name);
	return store_dbfail(st, rc, "zone");
}

int store_snapshot(struct store *st, const char *zone, uint32_t *serial,
		   int (*cb)(void *arg, const struct store_entry *e), void *arg)
{
	char name[STORE_ZONE_MAX];
	struct snap s = { cb, arg, 0, 0 };
	struct zstate z;
	int rc;

	if (store_zone_name(st, zone, name))
		return -1;
	if ((rc = store_rbegin(st)))
		return rc;
	if ((rc = zstate_get(st, name, &z)))
		goto out;
	*serial = z.serial;
	s.zone_code = z.code ? z.code : STORE_DEF_CODE;
	rc = db_query(st->db,
		      "SELECT key, kind, bits, lo, state, code, reason FROM listings"
		      " WHERE zone_id = ? AND state IN (1, 4)",
		      (struct db_param[]){ DB_I(z.id) }, 1, snap_cb, &s);
	if (rc == 1)
		rc = s.ret;
	else if (rc)
		store_dbfail(st, rc, "snapshot");
out:
	return store_rend(st, rc);
}

struct chg {
	int (*cb)(void *arg, const struct store_change *c);
	void *arg;
	int ret;
};

static int chg_cb(void *arg, const struct db_row *r)
{
	struct chg *w = arg;
	struct store_change c;
	char e[8];

	memset(&c, 0, sizeof(c));
	c.serial = (uint32_t)db_int(r, 0);
	c.op = (enum store_op)db_int(r, 1);
	/* the text was canonical when journalled; parse it for the address */
	if (store_key_parse(db_text(r, 2), &c.key, e, sizeof(e)) < 0)
		store_copy(c.key.text, sizeof(c.key.text), db_text(r, 2));
	c.code = (uint32_t)db_int(r, 3);
	store_copy(c.reason, sizeof(c.reason), db_text(r, 4));
	c.excluded = (int)db_int(r, 5);
	w->ret = w->cb(w->arg, &c);
	return w->ret ? 1 : 0;
}

int store_changes(struct store *st, const char *zone, uint32_t since, uint32_t *upto,
		  int (*cb)(void *arg, const struct store_change *c), void *arg)
{
	char name[STORE_ZONE_MAX];
	struct chg w = { cb, arg, 0 };
	struct zstate z;
	int rc;

	if (store_zone_name(st, zone, name))
		return -1;
	if ((rc = store_rbegin(st)))
		return rc;
	if ((rc = zstate_get(st, name, &z)))
		goto out;
	/* a serial before the journal's start, or one this store never
	 * gave (a newer or foreign one): only a full reload is right */
	if (since < z.journal_from || since > z.serial) {
		rc = store_fail(st, STORE_GONE, "zone %s: the journal holds serials %u..%u, not %u",
				name, z.journal_from, z.serial, since);
		goto out;
	}
	*upto = since;
	rc = db_query(st->db,
		      "SELECT serial, op, key, code, reason, excluded FROM journal"
		      " WHERE zone_id = ? AND serial > ? ORDER BY serial, id",
		      (struct db_param[]){ DB_I(z.id), DB_I(since) }, 2, chg_cb, &w);
	if (rc == 1)
		rc = w.ret;
	else if (rc)
		store_dbfail(st, rc, "journal");
	else
		*upto = z.serial;
out:
	return store_rend(st, rc);
}

/* ---- expiry and pruning ---- */

#define EXPIRE_BATCH 1000       /* listings held in memory at a time (~600 KB) */

struct due {
	int64_t id;
	struct answer a;
	char key[STORE_KEY_MAX];
};

struct duelist {
	struct due *v;
	size_t n, cap;
	uint32_t zone_code;
	int oom;
};

static int due_cb(void *arg, const struct db_row *r)
{
	struct duelist *d = arg;
	struct due *x;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct due *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->oom = 1;
			return 1;
		}
		d->v = v;
		d->cap = cap;
	}
	x = &d->v[d->n++];
	x->id = db_int(r, 0);
	store_copy(x->key, sizeof(x->key), db_text(r, 1));
	answer_of(&x->a, STORE_LISTED, (uint32_t)db_int(r, 2), db_text(r, 3), d->zone_code);
	return 0;
}

static int expire_one(struct store *st, int64_t zone_id, const struct due *x, int64_t now)
{
	static const struct answer gone;
	int rc;

	rc = db_exec(st->db, "UPDATE listings SET state = 3, changed = ? WHERE id = ?",
		     (struct db_param[]){ DB_I(now), DB_I(x->id) }, 2, NULL);
	if (!rc)
		rc = db_exec(st->db,
			     "INSERT INTO events (zone_id, key, time, type, actor, how, detail)"
			     " VALUES (?, ?, ?, ?, 'expiry', 'lifetime', '')",
			     (struct db_param[]){ DB_I(zone_id), DB_T(x->key), DB_I(now),
						  DB_I(STORE_EV_EXPIRED) },
			     4, NULL);
	if (rc)
		return store_dbfail(st, rc, "expiring");
	return journal_change(st, zone_id, x->key, &x->a, &gone);
}

static int code_cb(void *arg, const struct db_row *r)
{
	*(uint32_t *)arg = (uint32_t)db_int(r, 0);
	return 0;
}

/* Expire what is due in one zone, in one transaction. */
static int expire_zone(struct store *st, int64_t zone_id, int64_t now, unsigned *n)
{
	struct duelist d = { 0 };
	size_t i;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	if ((rc = store_zone_lock(st, zone_id)))
		goto out;
	rc = db_query(st->db, "SELECT code FROM zones WHERE id = ?",
		      (struct db_param[]){ DB_I(zone_id) }, 1, code_cb, &d.zone_code);
	if (!d.zone_code)
		d.zone_code = STORE_DEF_CODE;
	/* a batch at a time, collected first (the rows change under a
	 * running SELECT otherwise): what is done is no longer due, so the
	 * next SELECT gives the next batch; one transaction, one serial */
	do {
		d.n = 0;
		if (!rc)
			rc = db_query(st->db,
				      "SELECT id, key, code, reason FROM listings WHERE state = 1"
				      " AND expires > 0 AND expires <= ? AND zone_id = ? LIMIT ?",
				      (struct db_param[]){ DB_I(now), DB_I(zone_id),
							   DB_I(EXPIRE_BATCH) },
				      3, due_cb, &d);
		if (rc || d.oom) {
			rc = d.oom ? store_fail(st, -1, "expiring: out of memory")
				   : store_dbfail(st, rc, "expiring");
			goto out;
		}
		for (i = 0; i < d.n && !rc; i++)
			rc = expire_one(st, zone_id, &d.v[i], now);
		if (!rc)
			*n += (unsigned)d.n;
	} while (!rc && d.n == EXPIRE_BATCH);
out:
	free(d.v);
	return store_wend(st, rc);
}

struct ids {
	int64_t v[64];
	size_t n;
	int more;
};

static int ids_cb(void *arg, const struct db_row *r)
{
	struct ids *x = arg;

	if (x->n == sizeof(x->v) / sizeof(x->v[0])) {
		x->more = 1;
		return 1;
	}
	x->v[x->n++] = db_int(r, 0);
	return 0;
}

int store_expire(struct store *st, const char *zone, int64_t now, unsigned *n)
{
	char name[STORE_ZONE_MAX];
	struct store_zrow z;
	struct ids zs;
	unsigned count = 0;
	size_t i;
	int rc = 0;

	if (zone) {
		if (store_zone_name(st, zone, name))
			return -1;
		rc = store_zone_find(st, name, &z);
		if (rc == STORE_NOTFOUND)
			rc = 0;
		if (rc)
			goto out;
		/* the write lock only when something is due */
		memset(&zs, 0, sizeof(zs));
		rc = db_query(st->db,
			      "SELECT zone_id FROM listings WHERE state = 1"
			      " AND expires > 0 AND expires <= ? AND zone_id = ? LIMIT 1",
			      (struct db_param[]){ DB_I(now), DB_I(z.id) }, 2, ids_cb, &zs);
		if (rc < 0 || rc == DB_BUSY) {
			rc = store_dbfail(st, rc, "expiring");
			goto out;
		}
		rc = zs.n ? expire_zone(st, z.id, now, &count) : 0;
		goto out;
	}
	/* the zones with something due: an index range on (state, expires),
	 * empty in the common case; read again after a full batch */
	do {
		memset(&zs, 0, sizeof(zs));
		rc = db_query(st->db,
			      "SELECT DISTINCT zone_id FROM listings WHERE state = 1"
			      " AND expires > 0 AND expires <= ?",
			      (struct db_param[]){ DB_I(now) }, 1, ids_cb, &zs);
		if (rc < 0 || rc == DB_BUSY) {
			rc = store_dbfail(st, rc, "expiring");
			goto out;
		}
		rc = 0;
		for (i = 0; i < zs.n && !rc; i++)
			rc = expire_zone(st, zs.v[i], now, &count);
	} while (!rc && zs.more);
out:
	if (n)
		*n = count;
	return rc;
}

static int prune_zone(struct store *st, int64_t zone_id, uint32_t keep)
{
	struct zstate z = { 0 };
	int64_t cut;
	int rc;

	rc = db_query(st->db, "SELECT id, code, serial, journal_from FROM zones WHERE id = ?",
		      (struct db_param[]){ DB_I(zone_id) }, 1, zstate_cb, &z);
	if (rc != 1)
		return store_dbfail(st, rc ? rc : -1, "pruning the journal");
	cut = (int64_t)z.serial - keep;
	if (cut <= (int64_t)z.journal_from)
		return 0;
	rc = db_exec(st->db, "DELETE FROM journal WHERE zone_id = ? AND serial <= ?",
		     (struct db_param[]){ DB_I(zone_id), DB_I(cut) }, 2, NULL);
	if (!rc)
		rc = db_exec(st->db, "UPDATE zones SET journal_from = ? WHERE id = ?",
			     (struct db_param[]){ DB_I(cut), DB_I(zone_id) }, 2, NULL);
	return rc ? store_dbfail(st, rc, "pruning the journal") : 0;
}

int store_journal_prune(struct store *st, const char *zone, uint32_t keep)
{
	char name[STORE_ZONE_MAX];
	struct store_zrow z;
	struct ids zs = { 0 };
	size_t i;
	int rc;

	if (zone && store_zone_name(st, zone, name))
		return -1;
	if ((rc = store_wbegin(st)))
		return rc;
	if (zone) {
		rc = store_zone_find(st, name, &z);
		if (rc == 0)
			rc = prune_zone(st, z.id, keep);
		goto out;
	}
	do {
		int64_t after = zs.n ? zs.v[zs.n - 1] : 0;

		memset(&zs, 0, sizeof(zs));
		rc = db_query(st->db, "SELECT id FROM zones WHERE id > ? ORDER BY id",
			      (struct db_param[]){ DB_I(after) }, 1, ids_cb, &zs);
		if (rc < 0 || rc == DB_BUSY) {
			rc = store_dbfail(st, rc, "pruning the journal");
			goto out;
		}
		rc = 0;
		for (i = 0; i < zs.n && !rc; i++)
			rc = prune_zone(st, zs.v[i], keep);
	} while (!rc && zs.more);
out:
	return store_wend(st, rc);
}
