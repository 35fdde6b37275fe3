/*
 * store_history.c - what the store keeps about a listing besides its
 * state (store.h): the event history, the evidence (trap message headers
 * and an excerpt, a report's text), the hits counted towards a
 * threshold, and the counts for stats.
 *
 * History, evidence and hits are kept by zone and key text, not by the
 * listing row: a hit is counted before a listing exists, and the history
 * of a removed listing stays.
 *
 * SECURITY: headers, excerpts and details are untrusted text from trap
 * mail and reports: cut to their STORE_*_MAX bounds at a UTF-8 boundary
 * and bound as parameters. They are stored as given; masking trap
 * addresses is the job of whoever shows them.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

const char *store_event_name(enum store_event_type t)
{
	static const char *const names[] = {
		[STORE_EV_LISTED] = "listed",   [STORE_EV_HIT] = "hit",
		[STORE_EV_EXTENDED] = "extended", [STORE_EV_EXPIRED] = "expired",
		[STORE_EV_REMOVED] = "removed", [STORE_EV_RELISTED] = "relisted",
		[STORE_EV_EXCLUDED] = "excluded", [STORE_EV_CHANGED] = "changed",
	};

	if ((int)t <= 0 || (size_t)t >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[t];
}

/* Zone and key for a write: the zone is created if needed. In the open
 * write transaction. */
static int target(struct store *st, const char *zone, const char *key, struct store_zrow *z,
		  struct store_key *k)
{
	char name[STORE_ZONE_MAX];

	if (store_zone_name(st, zone, name) || store_key_get(st, key, k))
		return -1;
	return store_zone_ensure(st, name, z);
}

int store_event_add(struct store *st, const char *zone, const char *key,
		    const struct store_event *ev)
{
	char actor[STORE_SOURCE_MAX], how[STORE_SOURCE_MAX], detail[STORE_DETAIL_MAX];
	struct store_zrow z;
	struct store_key k;
	int rc;

	if (!store_event_name(ev->type))
		return store_fail(st, -1, "event type %d unknown", (int)ev->type);
	if ((rc = store_wbegin(st)))
		return rc;
	if ((rc = target(st, zone, key, &z, &k)))
		goto out;
	rc = db_exec(st->db,
		     "INSERT INTO events (zone_id, key, time, type, actor, how, detail)"
		     " VALUES (?, ?, ?, ?, ?, ?, ?)",
		     (struct db_param[]){ DB_I(z.id), DB_T(k.text), DB_I(ev->time), DB_I(ev->type),
					  DB_T(store_bound(ev->actor, actor, sizeof(actor))),
					  DB_T(store_bound(ev->how, how, sizeof(how))),
					  DB_T(store_bound(ev->detail, detail, sizeof(detail))) },
		     7, NULL);
	if (rc)
		store_dbfail(st, rc, "writing the event");
out:
	return store_wend(st, rc);
}

int store_evidence_add(struct store *st, const char *zone, const char *key,
		       const struct store_evidence *ev)
{
	char source[STORE_SOURCE_MAX], trap[STORE_KEY_MAX], excerpt[STORE_EXCERPT_MAX];
	const char *h;
	struct store_zrow z;
	struct store_key k;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	if ((rc = target(st, zone, key, &z, &k)))
		goto out;
	h = store_bound(ev->headers, st->hbuf, sizeof(st->hbuf));
	rc = db_exec(st->db,
		     "INSERT INTO evidence (zone_id, key, time, source, trap, headers, excerpt)"
		     " VALUES (?, ?, ?, ?, ?, ?, ?)",
		     (struct db_param[]){ DB_I(z.id), DB_T(k.text), DB_I(ev->time),
					  DB_T(store_bound(ev->source, source, sizeof(source))),
					  DB_T(store_bound(ev->trap, trap, sizeof(trap))), DB_T(h),
					  DB_T(store_bound(ev->excerpt, excerpt, sizeof(excerpt))) },
		     7, NULL);
	if (rc)
		store_dbfail(st, rc, "writing the evidence");
out:
	return store_wend(st, rc);
}

struct hist_walk {
	int (*cb)(void *arg, const struct store_event *ev);
	void *arg;
	int ret;
};

static int hist_cb(void *arg, const struct db_row *r)
{
	struct hist_walk *w = arg;
	struct store_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.time = db_int(r, 0);
	ev.type = (enum store_event_type)db_int(r, 1);
	store_copy(ev.actor, sizeof(ev.actor), db_text(r, 2));
	store_copy(ev.how, sizeof(ev.how), db_text(r, 3));
	store_copy(ev.detail, sizeof(ev.detail), db_text(r, 4));
	w->ret = w->cb(w->arg, &ev);
	return w->ret ? 1 : 0;
}

/* Zone name and key text for a read. */
static int read_target(struct store *st, const char *zone, const char *key, char *name,
		       struct store_key *k)
{
	if (store_zone_name(st, zone, name) || store_key_get(st, key, k))
		return -1;
	return 0;
}

int store_history(struct store *st, const char *zone, const char *key,
		  int (*cb)(void *arg, const struct store_event *ev), void *arg)
{
	char name[STORE_ZONE_MAX];
	struct hist_walk w = { cb, arg, 0 };
	struct store_key k;
	int rc;

	if (read_target(st, zone, key, name, &k))
		return -1;
	rc = db_query(st->db,
		      "SELECT time, type, actor, how, detail FROM events"
		      " WHERE zone_id = (SELECT id FROM zones WHERE name = ?) AND key = ?"
		      " ORDER BY id",
		      (struct db_param[]){ DB_T(name), DB_T(k.text) }, 2, hist_cb, &w);
	if (rc == 1)
		return w.ret;
	return rc ? store_dbfail(st, rc, "reading the history") : 0;
}

struct evid_walk {
	int (*cb)(void *arg, const struct store_evidence *ev);
	void *arg;
	struct store_evidence *ev;      /* 20 KB: in the store, not on the stack */
	int ret;
};

static int evid_cb(void *arg, const struct db_row *r)
{
	struct evid_walk *w = arg;
	struct store_evidence *ev = w->ev;

	ev->time = db_int(r, 0);
	store_copy(ev->source, sizeof(ev->source), db_text(r, 1));
	store_copy(ev->trap, sizeof(ev->trap), db_text(r, 2));
	store_copy(ev->headers, sizeof(ev->headers), db_text(r, 3));
	store_copy(ev->excerpt, sizeof(ev->excerpt), db_text(r, 4));
	w->ret = w->cb(w->arg, ev);
	return w->ret ? 1 : 0;
}

int store_evidence(struct store *st, const char *zone, const char *key, unsigned max,
		   int (*cb)(void *arg, const struct store_evidence *ev), void *arg)
{
	char name[STORE_ZONE_MAX];
	struct evid_walk w = { cb, arg, &st->evbuf, 0 };
	struct store_key k;
	int rc;

	if (read_target(st, zone, key, name, &k))
		return -1;
	/* the newest first: what a reader of "show" wants, and what max keeps */
	rc = db_query(st->db,
		      "SELECT time, source, trap, headers, excerpt FROM evidence"
		      " WHERE zone_id = (SELECT id FROM zones WHERE name = ?) AND key = ?"
		      " ORDER BY id DESC LIMIT ?",
		      (struct db_param[]){ DB_T(name), DB_T(k.text),
					   DB_I(max ? (int64_t)max : INT64_MAX) },
		      3, evid_cb, &w);
	if (rc == 1)
		return w.ret;
	return rc ? store_dbfail(st, rc, "reading the evidence") : 0;
}

/* ---- hits ---- */

int store_hit_add(struct store *st, const char *zone, const char *key, const char *trap,
		  int64_t time)
{
	char tbuf[STORE_KEY_MAX];
	struct store_zrow z;
	struct store_key k;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	if ((rc = target(st, zone, key, &z, &k)))
		goto out;
	rc = db_exec(st->db, "INSERT INTO hits (zone_id, key, trap, time) VALUES (?, ?, ?, ?)",
		     (struct db_param[]){ DB_I(z.id), DB_T(k.text),
					  DB_T(store_bound(trap, tbuf, sizeof(tbuf))), DB_I(time) },
		     4, NULL);
	if (rc)
		store_dbfail(st, rc, "writing the hit");
out:
	return store_wend(st, rc);
}

struct two {
	int64_t a, b;
};

static int two_cb(void *arg, const struct db_row *r)
{
	struct two *t = arg;

	t->a = db_int(r, 0);
	t->b = db_int(r, 1);
	return 0;
}

int store_hit_count(struct store *st, const char *zone, const char *key, int64_t since,
		    unsigned *hits, unsigned *traps)
{
	char name[STORE_ZONE_MAX];
	struct two t = { 0, 0 };
	struct store_key k;
	int rc;

	if (read_target(st, zone, key, name, &k))
		return -1;
	rc = db_query(st->db,
		      "SELECT COUNT(*), COUNT(DISTINCT trap) FROM hits"
		      " WHERE zone_id = (SELECT id FROM zones WHERE name = ?) AND key = ?"
		      " AND time >= ?",
		      (struct db_param[]){ DB_T(name), DB_T(k.text), DB_I(since) }, 3, two_cb, &t);
	if (rc)
		return store_dbfail(st, rc, "counting hits");
	if (hits)
		*hits = (unsigned)t.a;
	if (traps)
		*traps = (unsigned)t.b;
	return 0;
}

int store_hit_prune(struct store *st, int64_t before)
{
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db, "DELETE FROM hits WHERE time < ?",
		     (struct db_param[]){ DB_I(before) }, 1, NULL);
	if (rc)
		store_dbfail(st, rc, "pruning hits");
	return store_wend(st, rc);
}

/* ---- stats ---- */

static int state_cb(void *arg, const struct db_row *r)
{
	struct store_stats *s = arg;
	uint64_t n = (uint64_t)db_int(r, 1);

	switch (db_int(r, 0)) {
	case STORE_LISTED: s->listed += n; break;
	case STORE_REMOVED: s->removed += n; break;
	case STORE_EXPIRED: s->expired += n; break;
	case STORE_EXCLUDED: s->excluded += n; break;
	case STORE_PENDING: s->pending += n; break;
	default: break;
	}
	return 0;
}

static int count_cb(void *arg, const struct db_row *r)
{
	*(uint64_t *)arg = (uint64_t)db_int(r, 0);
	return 0;
}

/* The counts of one zone (id > 0) or of all (id 0), in one read. */
static int stats_read(struct store *st, int64_t id, struct store_stats *s)
{
	static const char *const all[] = {
		"SELECT COUNT(*) FROM events", "SELECT COUNT(*) FROM evidence",
		"SELECT COUNT(*) FROM hits", "SELECT COUNT(*) FROM journal",
	};
	static const char *const one[] = {
		"SELECT COUNT(*) FROM events WHERE zone_id = ?",
		"SELECT COUNT(*) FROM evidence WHERE zone_id = ?",
		"SELECT COUNT(*) FROM hits WHERE zone_id = ?",
		"SELECT COUNT(*) FROM journal WHERE zone_id = ?",
	};
	uint64_t *out[] = { &s->events, &s->evidence, &s->hits, &s->journal };
	struct db_param p = DB_I(id);
	int rc, i;

	rc = db_query(st->db,
		      id ? "SELECT state, COUNT(*) FROM listings WHERE zone_id = ? GROUP BY state"
			 : "SELECT state, COUNT(*) FROM listings GROUP BY state",
		      &p, id ? 1 : 0, state_cb, s);
	for (i = 0; i < 4 && !rc; i++)
		rc = db_query(st->db, id ? one[i] : all[i], &p, id ? 1 : 0, count_cb, out[i]);
	return rc ? store_dbfail(st, rc, "stats") : 0;
}

int store_stats(struct store *st, const char *zone, struct store_stats *s)
{
	char name[STORE_ZONE_MAX];
	struct store_zone z;
	struct store_zrow zr = { 0 };
	int rc;

	memset(s, 0, sizeof(*s));
	if (zone && store_zone_name(st, zone, name))
		return -1;
	if ((rc = store_rbegin(st)))
		return rc;
	if (zone) {
		if ((rc = store_zone_find(st, name, &zr)) || (rc = store_zone_get(st, name, &z)))
			goto out;
		s->serial = z.serial;
	}
	rc = stats_read(st, zr.id, s);
out:
	return store_rend(st, rc);
}
