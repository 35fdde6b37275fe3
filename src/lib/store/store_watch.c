/*
 * store_watch.c - the history of `rblkit watch` in the store
 * (store/watch.h): current state per (target, list), transitions,
 * alerts, notes, the query budget. Each write is one statement (or two)
 * in a transaction of its own, or in the caller's store_begin().
 *
 * SECURITY: TXT records, log lines and reasons are other parties' text:
 * cut to their bounds at a UTF-8 boundary and bound as parameters.
 */
#include "store/store_int.h"
#include "store/watch.h"

#include <stdio.h>
#include <string.h>

const char *store_watch_state_name(int state)
{
	static const char *const names[] = { "unknown", "clean", "listed", "error" };

	if (state < 0 || state > STORE_WATCH_ERROR)
		return "?";
	return names[state];
}

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

/* ---- current state ---- */

#define STATE_COLS "target, list, state, since, codes, txt, why, pending, confirms," \
		   " last_check, reminded"

static void state_row(const struct db_row *r, struct store_watch_status *s)
{
	memset(s, 0, sizeof(*s));
	col_copy(r, 0, s->target, sizeof(s->target));
	col_copy(r, 1, s->list, sizeof(s->list));
	s->state = (int)db_int(r, 2);
	s->since = db_int(r, 3);
	col_copy(r, 4, s->codes, sizeof(s->codes));
	col_copy(r, 5, s->txt, sizeof(s->txt));
	col_copy(r, 6, s->why, sizeof(s->why));
	s->pending = (int)db_int(r, 7);
	s->confirms = (unsigned)db_int(r, 8);
	s->last_check = db_int(r, 9);
	s->reminded = db_int(r, 10);
}

static int state_one(void *arg, const struct db_row *r)
{
	state_row(r, arg);
	return 1;
}

int store_watch_get(struct store *st, const char *target, const char *list,
		    struct store_watch_status *s)
{
	int rc = db_query(st->db, "SELECT " STATE_COLS " FROM watch_state WHERE list = ? AND target = ?",
			  (struct db_param[]){ DB_T(list), DB_T(target) }, 2, state_one, s);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return STORE_NOTFOUND;
	return store_dbfail(st, rc, "reading the watch state");
}

int store_watch_put(struct store *st, const struct store_watch_status *s)
{
	char target[STORE_WATCH_TARGET_MAX], list[STORE_WATCH_LIST_MAX];
	char codes[STORE_WATCH_CODES_MAX], txt[STORE_WATCH_TEXT_MAX], why[STORE_WATCH_TEXT_MAX];
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db,
		     "INSERT INTO watch_state (" STATE_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		     " ON CONFLICT (list, target) DO UPDATE SET state = excluded.state,"
		     " since = excluded.since, codes = excluded.codes, txt = excluded.txt,"
		     " why = excluded.why, pending = excluded.pending, confirms = excluded.confirms,"
		     " last_check = excluded.last_check, reminded = excluded.reminded",
		     (struct db_param[]){ DB_T(store_bound(s->target, target, sizeof(target))),
					  DB_T(store_bound(s->list, list, sizeof(list))),
					  DB_I(s->state), DB_I(s->since),
					  DB_T(store_bound(s->codes, codes, sizeof(codes))),
					  DB_T(store_bound(s->txt, txt, sizeof(txt))),
					  DB_T(store_bound(s->why, why, sizeof(why))),
					  DB_I(s->pending), DB_I(s->confirms), DB_I(s->last_check),
					  DB_I(s->reminded) },
		     11, NULL);
	if (rc)
		store_dbfail(st, rc, "writing the watch state");
	return store_wend(st, rc);
}

int store_watch_del(struct store *st, const char *target, const char *list)
{
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	if (list)
		rc = db_exec(st->db, "DELETE FROM watch_state WHERE list = ? AND target = ?",
			     (struct db_param[]){ DB_T(list), DB_T(target) }, 2, NULL);
	else
		rc = db_exec(st->db, "DELETE FROM watch_state WHERE target = ?",
			     (struct db_param[]){ DB_T(target) }, 1, NULL);
	if (rc)
		store_dbfail(st, rc, "dropping the watch state");
	return store_wend(st, rc);
}

struct state_walk {
	int (*cb)(void *arg, const struct store_watch_status *s);
	void *arg;
	int stop;
};

static int state_each(void *arg, const struct db_row *r)
{
	struct state_walk *w = arg;
	struct store_watch_status s;

	state_row(r, &s);
	w->stop = w->cb(w->arg, &s);
	return w->stop ? 1 : 0;
}

int store_watch_states(struct store *st, const struct store_watch_filter *f,
		       int (*cb)(void *arg, const struct store_watch_status *s), void *arg)
{
	static const struct store_watch_filter none;
	struct state_walk w = { cb, arg, 0 };
	int64_t want[4];
	int rc, i;

	if (!f)
		f = &none;
	/* the states wanted as values (-1: none), not a bit test in SQL:
	 * the two dialects' shift operators take different types */
	for (i = 0; i < 4; i++)
		want[i] = (f->states >> i) & 1u ? i : -1;
	rc = db_query(st->db,
		      "SELECT " STATE_COLS " FROM watch_state"
		      " WHERE (? = 0 OR list = ?) AND (? = 0 OR target = ?)"
		      " AND (? = 0 OR state IN (?, ?, ?, ?))"
		      " ORDER BY list, target LIMIT ?",
		      (struct db_param[]){ DB_I(f->list != NULL), DB_T(f->list ? f->list : ""),
					   DB_I(f->target != NULL), DB_T(f->target ? f->target : ""),
					   DB_I(f->states & 15u), DB_I(want[0]), DB_I(want[1]),
					   DB_I(want[2]), DB_I(want[3]),
					   DB_I(f->limit ? (int64_t)f->limit : INT64_MAX) },
		      10, state_each, &w);
	if (rc == 1)
		return w.stop;
	if (rc)
		return store_dbfail(st, rc, "reading the watch states");
	return 0;
}

static int count_row(void *arg, const struct db_row *r)
{
	uint64_t *counts = arg;
	int64_t s = db_int(r, 0), n = db_int(r, 1);

	if (s >= 0 && s <= STORE_WATCH_ERROR && n > 0)
		counts[s] = (uint64_t)n;
	return 0;
}

int store_watch_counts(struct store *st, uint64_t counts[4])
{
	int rc;

	memset(counts, 0, 4 * sizeof(counts[0]));
	rc = db_query(st->db, "SELECT state, COUNT(*) FROM watch_state GROUP BY state", NULL, 0,
		      count_row, counts);
	if (rc)
		return store_dbfail(st, rc, "counting the watch states");
	return 0;
}

/* ---- transitions ---- */

#define TR_COLS "id, time, target, list, from_state, to_state, codes, txt, why"

static void tr_row(const struct db_row *r, struct store_watch_transition *t)
{
	memset(t, 0, sizeof(*t));
	t->id = db_int(r, 0);
	t->time = db_int(r, 1);
	col_copy(r, 2, t->target, sizeof(t->target));
	col_copy(r, 3, t->list, sizeof(t->list));
	t->from = (int)db_int(r, 4);
	t->to = (int)db_int(r, 5);
	col_copy(r, 6, t->codes, sizeof(t->codes));
	col_copy(r, 7, t->txt, sizeof(t->txt));
	col_copy(r, 8, t->why, sizeof(t->why));
}

int store_watch_transition_add(struct store *st, const struct store_watch_transition *t,
			       int64_t *id)
{
	char target[STORE_WATCH_TARGET_MAX], list[STORE_WATCH_LIST_MAX];
	char codes[STORE_WATCH_CODES_MAX], txt[STORE_WATCH_TEXT_MAX], why[STORE_WATCH_TEXT_MAX];
	int64_t nid = 0;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_query(st->db,
		      "INSERT INTO watch_transitions (time, target, list, from_state, to_state,"
		      " codes, txt, why) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		      (struct db_param[]){ DB_I(t->time),
					   DB_T(store_bound(t->target, target, sizeof(target))),
					   DB_T(store_bound(t->list, list, sizeof(list))),
					   DB_I(t->from), DB_I(t->to),
					   DB_T(store_bound(t->codes, codes, sizeof(codes))),
					   DB_T(store_bound(t->txt, txt, sizeof(txt))),
					   DB_T(store_bound(t->why, why, sizeof(why))) },
		      8, one_int, &nid);
	if (rc)
		store_dbfail(st, rc, "adding the transition");
	if (id)
		*id = nid;
	return store_wend(st, rc);
}

static int tr_one(void *arg, const struct db_row *r)
{
	tr_row(r, arg);
	return 1;
}

int store_watch_transition_get(struct store *st, int64_t id, struct store_watch_transition *t)
{
	int rc = db_query(st->db, "SELECT " TR_COLS " FROM watch_transitions WHERE id = ?",
			  (struct db_param[]){ DB_I(id) }, 1, tr_one, t);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return STORE_NOTFOUND;
	return store_dbfail(st, rc, "reading the transition");
}

struct tr_walk {
	int (*cb)(void *arg, const struct store_watch_transition *t);
	void *arg;
	int stop;
};

static int tr_each(void *arg, const struct db_row *r)
{
	struct tr_walk *w = arg;
	struct store_watch_transition t;

	tr_row(r, &t);
	w->stop = w->cb(w->arg, &t);
	return w->stop ? 1 : 0;
}

int store_watch_transitions(struct store *st, int64_t since, const char *target,
			    const char *list, unsigned limit,
			    int (*cb)(void *arg, const struct store_watch_transition *t),
			    void *arg)
{
	struct tr_walk w = { cb, arg, 0 };
	int rc;

	/* the newest limit rows, given oldest first */
	rc = db_query(st->db,
		      "SELECT " TR_COLS " FROM (SELECT " TR_COLS " FROM watch_transitions"
		      " WHERE time >= ? AND (? = 0 OR target = ?) AND (? = 0 OR list = ?)"
		      " ORDER BY time DESC, id DESC LIMIT ?) AS t ORDER BY time, id",
		      (struct db_param[]){ DB_I(since), DB_I(target != NULL),
					   DB_T(target ? target : ""), DB_I(list != NULL),
					   DB_T(list ? list : ""),
					   DB_I(limit ? (int64_t)limit : INT64_MAX) },
		      6, tr_each, &w);
	if (rc == 1)
		return w.stop;
	if (rc)
		return store_dbfail(st, rc, "reading the transitions");
	return 0;
}

/* ---- alerts ---- */

#define AL_COLS "id, transition_id, channel, seq, state, created, done, attempts, detail"

static void al_row(const struct db_row *r, struct store_watch_alert *a)
{
	memset(a, 0, sizeof(*a));
	a->id = db_int(r, 0);
	a->transition = db_int(r, 1);
	col_copy(r, 2, a->channel, sizeof(a->channel));
	a->seq = (unsigned)db_int(r, 3);
	a->state = (int)db_int(r, 4);
	a->created = db_int(r, 5);
	a->done = db_int(r, 6);
	a->attempts = (unsigned)db_int(r, 7);
	col_copy(r, 8, a->detail, sizeof(a->detail));
}

int store_watch_alert_add(struct store *st, int64_t transition, const char *channel,
			  unsigned seq, int64_t now, int64_t *id)
{
	char ch[STORE_WATCH_NAME_MAX];
	int64_t nid = 0;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_query(st->db,
		      "INSERT INTO watch_alerts (transition_id, channel, seq, state, created, done,"
		      " attempts, detail) VALUES (?, ?, ?, 0, ?, 0, 0, '')"
		      " ON CONFLICT (transition_id, channel, seq) DO NOTHING RETURNING id",
		      (struct db_param[]){ DB_I(transition), DB_T(store_bound(channel, ch, sizeof(ch))),
					   DB_I(seq), DB_I(now) },
		      4, one_int, &nid);
	if (!rc && !nid) {
		rc = db_query(st->db,
			      "SELECT id FROM watch_alerts WHERE transition_id = ? AND channel = ?"
			      " AND seq = ?",
			      (struct db_param[]){ DB_I(transition),
						   DB_T(store_bound(channel, ch, sizeof(ch))),
						   DB_I(seq) },
			      3, one_int, &nid);
		if (!rc)
			rc = STORE_WATCH_EXISTS;
	}
	if (rc && rc != STORE_WATCH_EXISTS)
		store_dbfail(st, rc, "adding the alert");
	if (id)
		*id = nid;
	if (rc == STORE_WATCH_EXISTS)
		return store_wend(st, 0) ? -1 : STORE_WATCH_EXISTS;
	return store_wend(st, rc);
}

int store_watch_alert_done(struct store *st, int64_t id, int state, int64_t now,
			   const char *detail)
{
	char d[STORE_WATCH_TEXT_MAX];
	int64_t changed = 0;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_exec(st->db,
		     "UPDATE watch_alerts SET state = ?, done = ?, attempts = attempts + 1,"
		     " detail = ? WHERE id = ?",
		     (struct db_param[]){ DB_I(state),
					  DB_I(state == STORE_WATCH_ALERT_PENDING ? 0 : now),
					  DB_T(store_bound(detail ? detail : "", d, sizeof(d))),
					  DB_I(id) },
		     4, &changed);
	if (rc)
		store_dbfail(st, rc, "recording the alert");
	rc = store_wend(st, rc);
	if (!rc && changed == 0)
		return STORE_NOTFOUND;
	return rc;
}

struct al_walk {
	int (*cb)(void *arg, const struct store_watch_alert *a);
	void *arg;
	int stop;
};

static int al_each(void *arg, const struct db_row *r)
{
	struct al_walk *w = arg;
	struct store_watch_alert a;

	al_row(r, &a);
	w->stop = w->cb(w->arg, &a);
	return w->stop ? 1 : 0;
}

int store_watch_alerts_pending(struct store *st,
			       int (*cb)(void *arg, const struct store_watch_alert *a), void *arg)
{
	struct al_walk w = { cb, arg, 0 };
	int rc = db_query(st->db,
			  "SELECT " AL_COLS " FROM watch_alerts WHERE state = 0 ORDER BY state, id",
			  NULL, 0, al_each, &w);

	if (rc == 1)
		return w.stop;
	if (rc)
		return store_dbfail(st, rc, "reading the pending alerts");
	return 0;
}

int store_watch_alerts(struct store *st, int64_t transition, unsigned limit,
		       int (*cb)(void *arg, const struct store_watch_alert *a), void *arg)
{
	struct al_walk w = { cb, arg, 0 };
	int rc = db_query(st->db,
			  "SELECT " AL_COLS " FROM watch_alerts WHERE (? = 0 OR transition_id = ?)"
			  " ORDER BY id DESC LIMIT ?",
			  (struct db_param[]){ DB_I(transition), DB_I(transition),
					       DB_I(limit ? (int64_t)limit : INT64_MAX) },
			  3, al_each, &w);

	if (rc == 1)
		return w.stop;
	if (rc)
		return store_dbfail(st, rc, "reading the alerts");
	return 0;
}

/* ---- notes ---- */

#define NOTE_COLS "id, time, source, subject, list, text"

int store_watch_note_add(struct store *st, const struct store_watch_note *n,
			 int64_t prune_before, int64_t *id)
{
	char src[STORE_WATCH_NAME_MAX], subj[STORE_WATCH_TARGET_MAX], list[STORE_WATCH_LIST_MAX];
	char text[STORE_WATCH_TEXT_MAX];
	int64_t nid = 0;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_query(st->db,
		      "INSERT INTO watch_notes (time, source, subject, list, text)"
		      " VALUES (?, ?, ?, ?, ?) RETURNING id",
		      (struct db_param[]){ DB_I(n->time),
					   DB_T(store_bound(n->source, src, sizeof(src))),
					   DB_T(store_bound(n->subject, subj, sizeof(subj))),
					   DB_T(store_bound(n->list, list, sizeof(list))),
					   DB_T(store_bound(n->text, text, sizeof(text))) },
		      5, one_int, &nid);
	if (!rc && prune_before > 0)
		rc = db_exec(st->db, "DELETE FROM watch_notes WHERE time < ?",
			     (struct db_param[]){ DB_I(prune_before) }, 1, NULL);
	if (rc)
		store_dbfail(st, rc, "adding the note");
	if (id)
		*id = nid;
	return store_wend(st, rc);
}

struct note_walk {
	int (*cb)(void *arg, const struct store_watch_note *n);
	void *arg;
	int stop;
};

static int note_each(void *arg, const struct db_row *r)
{
	struct note_walk *w = arg;
	struct store_watch_note n;

	memset(&n, 0, sizeof(n));
	n.id = db_int(r, 0);
	n.time = db_int(r, 1);
	col_copy(r, 2, n.source, sizeof(n.source));
	col_copy(r, 3, n.subject, sizeof(n.subject));
	col_copy(r, 4, n.list, sizeof(n.list));
	col_copy(r, 5, n.text, sizeof(n.text));
	w->stop = w->cb(w->arg, &n);
	return w->stop ? 1 : 0;
}

int store_watch_notes(struct store *st, int64_t since, const char *list, unsigned limit,
		      int (*cb)(void *arg, const struct store_watch_note *n), void *arg)
{
	struct note_walk w = { cb, arg, 0 };
	int rc = db_query(st->db,
			  "SELECT " NOTE_COLS " FROM (SELECT " NOTE_COLS " FROM watch_notes"
			  " WHERE time >= ? AND (? = 0 OR list = ? OR list = '')"
			  " ORDER BY time DESC, id DESC LIMIT ?) AS n ORDER BY time, id",
			  (struct db_param[]){ DB_I(since), DB_I(list != NULL),
					       DB_T(list ? list : ""),
					       DB_I(limit ? (int64_t)limit : INT64_MAX) },
			  4, note_each, &w);

	if (rc == 1)
		return w.stop;
	if (rc)
		return store_dbfail(st, rc, "reading the notes");
	return 0;
}

/* ---- budget ---- */

int store_watch_budget_add(struct store *st, const char *list, int64_t day, unsigned n,
			   uint64_t *total)
{
	char l[STORE_WATCH_LIST_MAX];
	int64_t t = 0;
	int rc;

	if ((rc = store_wbegin(st)))
		return rc;
	rc = db_query(st->db,
		      "INSERT INTO watch_budget (list, day, n) VALUES (?, ?, ?)"
		      " ON CONFLICT (list, day) DO UPDATE SET n = watch_budget.n + excluded.n"
		      " RETURNING n",
		      (struct db_param[]){ DB_T(store_bound(list, l, sizeof(l))), DB_I(day),
					   DB_I(n) },
		      3, one_int, &t);
	if (!rc && t == (int64_t)n)     /* a new day: drop the old ones */
		rc = db_exec(st->db, "DELETE FROM watch_budget WHERE day < ?",
			     (struct db_param[]){ DB_I(day - 7) }, 1, NULL);
	if (rc)
		store_dbfail(st, rc, "counting the queries");
	if (total)
		*total = t < 0 ? 0 : (uint64_t)t;
	return store_wend(st, rc);
}

int store_watch_budget_get(struct store *st, const char *list, int64_t day, uint64_t *total)
{
	int64_t t = 0;
	int rc = db_query(st->db, "SELECT n FROM watch_budget WHERE list = ? AND day = ?",
			  (struct db_param[]){ DB_T(list), DB_I(day) }, 2, one_int, &t);

	if (rc)
		return store_dbfail(st, rc, "reading the query count");
	*total = t < 0 ? 0 : (uint64_t)t;
	return 0;
}
