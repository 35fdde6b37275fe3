/*
 * store_web.c - the web portal's state in the store (store/web.h):
 * rate-limit counters, removal requests, console users and sessions, API
 * keys, the audit log. Every write is one statement in a transaction of
 * its own (or the caller's store_begin).
 *
 * SECURITY: texts from the network (reasons, client addresses, bucket
 * names) are cut to their bounds and bound as parameters. Only digests
 * of secrets are stored.
 */
#include "store/store_int.h"
#include "store/web.h"

#include <stdio.h>
#include <string.h>

static void col_copy(const struct db_row *r, int col, char *out, size_t size)
{
	const char *s = db_text(r, col);

	store_copy(out, size, s ? s : "");
}

static int one_int(void *arg, const struct db_row *r)
{
	*(int64_t *)arg = db_int(r, 0);
	return 0;
}

int store_web_rate(struct store *st, const char *bucket, int64_t win, int64_t prune_before,
		   unsigned *count)
{
	char b[STORE_WEB_NAME_MAX];
	int64_t n = 0;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_query(st->db,
		      "INSERT INTO web_rate (bucket, win, n) VALUES (?, ?, 1)"
		      " ON CONFLICT (bucket, win) DO UPDATE SET n = web_rate.n + 1 RETURNING n",
		      (struct db_param[]){ DB_T(store_bound(bucket, b, sizeof(b))), DB_I(win) }, 2,
		      one_int, &n);
	if (!rc && n == 1)      /* a new window: drop the old ones */
		rc = db_exec(st->db, "DELETE FROM web_rate WHERE win < ?",
			     (struct db_param[]){ DB_I(prune_before) }, 1, NULL);
	if (rc)
		store_dbfail(st, rc, "counting the rate");
	*count = n < 0 ? 0 : (unsigned)n;
	return store_wend(st, rc);
}

/* ---- requests ---- */

#define REQ_COLS "id, zone, key, client, reason, why, state, created, decided, decided_by," \
		 " note, token, expires"

static int req_row(void *arg, const struct db_row *r)
{
	struct store_web_request *q = arg;

	q->id = db_int(r, 0);
	col_copy(r, 1, q->zone, sizeof(q->zone));
	col_copy(r, 2, q->key, sizeof(q->key));
	col_copy(r, 3, q->client, sizeof(q->client));
	col_copy(r, 4, q->reason, sizeof(q->reason));
	col_copy(r, 5, q->why, sizeof(q->why));
	q->state = (int)db_int(r, 6);
	q->created = db_int(r, 7);
	q->decided = db_int(r, 8);
	col_copy(r, 9, q->decided_by, sizeof(q->decided_by));
	col_copy(r, 10, q->note, sizeof(q->note));
	col_copy(r, 11, q->token, sizeof(q->token));
	q->expires = db_int(r, 12);
	return 1;
}

int store_web_request_add(struct store *st, const struct store_web_request *q, int64_t *id)
{
	char zone[STORE_ZONE_MAX], key[STORE_KEY_MAX], client[STORE_WEB_NAME_MAX];
	char reason[STORE_WEB_TEXT_MAX], why[STORE_WEB_TEXT_MAX], note[STORE_WEB_TEXT_MAX];
	char token[STORE_WEB_NAME_MAX];
	int rc;

	*id = 0;
	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_query(st->db,
		      "INSERT INTO web_requests (zone, key, client, reason, why, state, created,"
		      " decided, decided_by, note, token, expires)"
		      " VALUES (?, ?, ?, ?, ?, ?, ?, 0, '', ?, ?, ?) RETURNING id",
		      (struct db_param[]){ DB_T(store_bound(q->zone, zone, sizeof(zone))),
					   DB_T(store_bound(q->key, key, sizeof(key))),
					   DB_T(store_bound(q->client, client, sizeof(client))),
					   DB_T(store_bound(q->reason, reason, sizeof(reason))),
					   DB_T(store_bound(q->why, why, sizeof(why))),
					   DB_I(q->state), DB_I(q->created),
					   DB_T(store_bound(q->note, note, sizeof(note))),
					   DB_T(store_bound(q->token, token, sizeof(token))),
					   DB_I(q->expires) },
		      10, one_int, id);
	if (rc)
		store_dbfail(st, rc, "adding the request");
	return store_wend(st, rc);
}

static int req_one(struct store *st, const char *sql, struct db_param p,
		   struct store_web_request *q)
{
	int rc = db_query(st->db, sql, &p, 1, req_row, q);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return STORE_NOTFOUND;
	return store_dbfail(st, rc, "reading the request");
}

int store_web_request_get(struct store *st, int64_t id, struct store_web_request *q)
{
	return req_one(st, "SELECT " REQ_COLS " FROM web_requests WHERE id = ?", DB_I(id), q);
}

int store_web_request_by_token(struct store *st, const char *token,
			       struct store_web_request *q)
{
	return req_one(st, "SELECT " REQ_COLS " FROM web_requests WHERE token = ? AND state = 4",
		       DB_T(token), q);
}

struct req_walk {
	int (*cb)(void *arg, const struct store_web_request *r);
	void *arg;
	int stop;
};

static int req_each(void *arg, const struct db_row *r)
{
	struct req_walk *w = arg;
	struct store_web_request q;

	req_row(&q, r);
	w->stop = w->cb(w->arg, &q);
	return w->stop ? 1 : 0;
}

int store_web_requests(struct store *st, int state, unsigned limit,
		       int (*cb)(void *arg, const struct store_web_request *r), void *arg)
{
	struct req_walk w = { cb, arg, 0 };
	int rc;

	rc = db_query(st->db,
		      "SELECT " REQ_COLS " FROM web_requests WHERE (? = 0 OR state = ?)"
		      " ORDER BY id DESC LIMIT ?",
		      (struct db_param[]){ DB_I(state), DB_I(state),
					   DB_I(limit ? (int64_t)limit : INT64_MAX) },
		      3, req_each, &w);
	if (rc == 1)
		return w.stop;
	if (rc)
		return store_dbfail(st, rc, "reading the requests");
	return 0;
}

int store_web_request_decide(struct store *st, int64_t id, int from, int to, int64_t now,
			     const char *who, const char *note)
{
	char w[STORE_WEB_NAME_MAX], n[STORE_WEB_TEXT_MAX];
	int64_t changed = 0;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db,
		     "UPDATE web_requests SET state = ?, decided = ?, decided_by = ?, note = ?"
		     " WHERE id = ? AND state = ?",
		     (struct db_param[]){ DB_I(to), DB_I(now),
					  DB_T(store_bound(who ? who : "", w, sizeof(w))),
					  DB_T(store_bound(note ? note : "", n, sizeof(n))), DB_I(id),
					  DB_I(from) },
		     6, &changed);
	if (rc)
		store_dbfail(st, rc, "deciding the request");
	rc = store_wend(st, rc);
	if (!rc && changed == 0)
		return STORE_NOTFOUND;
	return rc;
}

/* ---- users and sessions ---- */

static int user_row(void *arg, const struct db_row *r)
{
	struct store_web_user *u = arg;

	col_copy(r, 0, u->name, sizeof(u->name));
	col_copy(r, 1, u->hash, sizeof(u->hash));
	u->role = (int)db_int(r, 2);
	u->created = db_int(r, 3);
	return 1;
}

int store_web_user_put(struct store *st, const struct store_web_user *u)
{
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db,
		     "INSERT INTO web_users (name, hash, role, created) VALUES (?, ?, ?, ?)"
		     " ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, role = excluded.role",
		     (struct db_param[]){ DB_T(u->name), DB_T(u->hash), DB_I(u->role),
					  DB_I(u->created) },
		     4, NULL);
	if (rc)
		store_dbfail(st, rc, "writing the user");
	return store_wend(st, rc);
}

int store_web_user_get(struct store *st, const char *name, struct store_web_user *u)
{
	int rc = db_query(st->db, "SELECT name, hash, role, created FROM web_users WHERE name = ?",
			  (struct db_param[]){ DB_T(name) }, 1, user_row, u);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return STORE_NOTFOUND;
	return store_dbfail(st, rc, "reading the user");
}

int store_web_session_put(struct store *st, const struct store_web_session *s, int64_t now)
{
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db, "DELETE FROM web_sessions WHERE expires < ?",
		     (struct db_param[]){ DB_I(now) }, 1, NULL);
	if (!rc)
		rc = db_exec(st->db,
			     "INSERT INTO web_sessions (id, user_name, csrf, expires)"
			     " VALUES (?, ?, ?, ?)",
			     (struct db_param[]){ DB_T(s->id), DB_T(s->user), DB_T(s->csrf),
						  DB_I(s->expires) },
			     4, NULL);
	if (rc)
		store_dbfail(st, rc, "writing the session");
	return store_wend(st, rc);
}

static int session_row(void *arg, const struct db_row *r)
{
	struct store_web_session *s = arg;

	col_copy(r, 0, s->id, sizeof(s->id));
	col_copy(r, 1, s->user, sizeof(s->user));
	col_copy(r, 2, s->csrf, sizeof(s->csrf));
	s->expires = db_int(r, 3);
	return 1;
}

int store_web_session_get(struct store *st, const char *id, int64_t now,
			  struct store_web_session *s)
{
	int rc = db_query(st->db,
			  "SELECT id, user_name, csrf, expires FROM web_sessions"
			  " WHERE id = ? AND expires >= ?",
			  (struct db_param[]){ DB_T(id), DB_I(now) }, 2, session_row, s);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return STORE_NOTFOUND;
	return store_dbfail(st, rc, "reading the session");
}

int store_web_session_del(struct store *st, const char *id)
{
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db, "DELETE FROM web_sessions WHERE id = ?",
		     (struct db_param[]){ DB_T(id) }, 1, NULL);
	if (rc)
		store_dbfail(st, rc, "ending the session");
	return store_wend(st, rc);
}

/* ---- API keys ---- */

static int key_row(void *arg, const struct db_row *r)
{
	struct store_web_key *k = arg;

	col_copy(r, 0, k->id, sizeof(k->id));
	col_copy(r, 1, k->hash, sizeof(k->hash));
	k->scopes = (unsigned)db_int(r, 2);
	col_copy(r, 3, k->name, sizeof(k->name));
	k->created = db_int(r, 4);
	return 1;
}

int store_web_key_put(struct store *st, const struct store_web_key *k)
{
	char name[STORE_WEB_NAME_MAX];
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db,
		     "INSERT INTO web_keys (id, hash, scopes, name, created) VALUES (?, ?, ?, ?, ?)",
		     (struct db_param[]){ DB_T(k->id), DB_T(k->hash), DB_I(k->scopes),
					  DB_T(store_bound(k->name, name, sizeof(name))),
					  DB_I(k->created) },
		     5, NULL);
	if (rc)
		store_dbfail(st, rc, "writing the API key");
	return store_wend(st, rc);
}

int store_web_key_get(struct store *st, const char *id, struct store_web_key *k)
{
	int rc = db_query(st->db, "SELECT id, hash, scopes, name, created FROM web_keys WHERE id = ?",
			  (struct db_param[]){ DB_T(id) }, 1, key_row, k);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return STORE_NOTFOUND;
	return store_dbfail(st, rc, "reading the API key");
}

int store_web_key_del(struct store *st, const char *id)
{
	int64_t n = 0;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db, "DELETE FROM web_keys WHERE id = ?", (struct db_param[]){ DB_T(id) },
		     1, &n);
	if (rc)
		store_dbfail(st, rc, "deleting the API key");
	rc = store_wend(st, rc);
	return !rc && n == 0 ? STORE_NOTFOUND : rc;
}

struct key_walk {
	int (*cb)(void *arg, const struct store_web_key *k);
	void *arg;
	int stop;
};

static int key_each(void *arg, const struct db_row *r)
{
	struct key_walk *w = arg;
	struct store_web_key k;

	key_row(&k, r);
	w->stop = w->cb(w->arg, &k);
	return w->stop ? 1 : 0;
}

int store_web_keys(struct store *st, int (*cb)(void *arg, const struct store_web_key *k),
		   void *arg)
{
	struct key_walk w = { cb, arg, 0 };
	int rc = db_query(st->db, "SELECT id, hash, scopes, name, created FROM web_keys ORDER BY id",
			  NULL, 0, key_each, &w);

	if (rc == 1)
		return w.stop;
	return rc ? store_dbfail(st, rc, "reading the API keys") : 0;
}

/* ---- audit ---- */

int store_web_audit_add(struct store *st, int64_t time, const char *actor, const char *action,
			const char *detail)
{
	char a[STORE_WEB_NAME_MAX], b[STORE_WEB_NAME_MAX], d[STORE_WEB_TEXT_MAX];
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db, "INSERT INTO web_audit (time, actor, action, detail) VALUES (?, ?, ?, ?)",
		     (struct db_param[]){ DB_I(time), DB_T(store_bound(actor, a, sizeof(a))),
					  DB_T(store_bound(action, b, sizeof(b))),
					  DB_T(store_bound(detail ? detail : "", d, sizeof(d))) },
		     4, NULL);
	if (rc)
		store_dbfail(st, rc, "writing the audit log");
	return store_wend(st, rc);
}

struct audit_walk {
	int (*cb)(void *arg, const struct store_web_audit *a);
	void *arg;
	int stop;
};

static int audit_each(void *arg, const struct db_row *r)
{
	struct audit_walk *w = arg;
	struct store_web_audit a;

	a.id = db_int(r, 0);
	a.time = db_int(r, 1);
	col_copy(r, 2, a.actor, sizeof(a.actor));
	col_copy(r, 3, a.action, sizeof(a.action));
	col_copy(r, 4, a.detail, sizeof(a.detail));
	w->stop = w->cb(w->arg, &a);
	return w->stop ? 1 : 0;
}

int store_web_audit(struct store *st, unsigned limit,
		    int (*cb)(void *arg, const struct store_web_audit *a), void *arg)
{
	struct audit_walk w = { cb, arg, 0 };
	int rc = db_query(st->db,
			  "SELECT id, time, actor, action, detail FROM web_audit ORDER BY id DESC"
			  " LIMIT ?",
			  (struct db_param[]){ DB_I(limit ? (int64_t)limit : INT64_MAX) }, 1,
			  audit_each, &w);

	if (rc == 1)
		return w.stop;
	return rc ? store_dbfail(st, rc, "reading the audit log") : 0;
}
