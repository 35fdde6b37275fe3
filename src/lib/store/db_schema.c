/*
 * db_schema.c - the store's schema, per dialect, as a list of migrations
 * (db.h). Version 1 creates everything; a later version appends a step
 * and never edits an earlier one (a store at version N runs the steps
 * after N only).
 *
 * Columns common to both dialects: integers are BIGINT (SQLite's INTEGER
 * is 64-bit anyway), text is TEXT, addresses are 16-byte blobs (BLOB /
 * BYTEA) compared bytewise by both engines, so "inside a network" is a
 * range query on (lo, hi). Only the row id type differs.
 *
 * SECURITY: static SQL, no input.
 */
#include "store/db.h"

#include <stddef.h>

/* The tables, with the id type and blob type spliced per dialect at
 * compile time. */
#define ZONES(ID)                                                             \
	"CREATE TABLE zones ("                                                \
	" id " ID ","                                                         \
	" name TEXT NOT NULL UNIQUE,"                                         \
	" ttl BIGINT NOT NULL, code BIGINT NOT NULL, txt TEXT NOT NULL,"      \
	" mname TEXT NOT NULL, rname TEXT NOT NULL,"                          \
	" refresh BIGINT NOT NULL, retry BIGINT NOT NULL,"                    \
	" expire BIGINT NOT NULL, minimum BIGINT NOT NULL,"                   \
	" ns TEXT NOT NULL,"                /* names separated by spaces */   \
	" serial BIGINT NOT NULL,"                                            \
	" journal_from BIGINT NOT NULL)"    /* changes after it are complete */

#define LISTINGS(ID, BLOB)                                                    \
	"CREATE TABLE listings ("                                             \
	" id " ID ","                                                         \
	" zone_id BIGINT NOT NULL REFERENCES zones(id),"                      \
	" key TEXT NOT NULL, kind BIGINT NOT NULL, bits BIGINT NOT NULL,"     \
	" lo " BLOB ", hi " BLOB ","        /* IP keys: first, last address */\
	" state BIGINT NOT NULL, code BIGINT NOT NULL, reason TEXT NOT NULL," \
	" first_seen BIGINT NOT NULL, last_seen BIGINT NOT NULL,"             \
	" expires BIGINT NOT NULL, changed BIGINT NOT NULL,"                  \
	" hits BIGINT NOT NULL, level BIGINT NOT NULL, removals BIGINT NOT NULL," \
	" source TEXT NOT NULL,"                                              \
	" UNIQUE (zone_id, key))"

/* History, evidence and hits hang off (zone, key), not the listing row:
 * a hit counts before there is a listing, and history outlives one. */
#define EVENTS(ID)                                                            \
	"CREATE TABLE events ("                                               \
	" id " ID ", zone_id BIGINT NOT NULL REFERENCES zones(id),"           \
	" key TEXT NOT NULL, time BIGINT NOT NULL, type BIGINT NOT NULL,"     \
	" actor TEXT NOT NULL, how TEXT NOT NULL, detail TEXT NOT NULL)"

#define EVIDENCE(ID)                                                          \
	"CREATE TABLE evidence ("                                             \
	" id " ID ", zone_id BIGINT NOT NULL REFERENCES zones(id),"           \
	" key TEXT NOT NULL, time BIGINT NOT NULL, source TEXT NOT NULL,"     \
	" trap TEXT NOT NULL, headers TEXT NOT NULL, excerpt TEXT NOT NULL)"

#define HITS(ID)                                                              \
	"CREATE TABLE hits ("                                                 \
	" id " ID ", zone_id BIGINT NOT NULL REFERENCES zones(id),"           \
	" key TEXT NOT NULL, trap TEXT NOT NULL, time BIGINT NOT NULL)"

/* One row per change of what DNS answers; code resolved, reason as
 * served ("" = the zone's template). */
#define JOURNAL(ID)                                                           \
	"CREATE TABLE journal ("                                              \
	" id " ID ", zone_id BIGINT NOT NULL REFERENCES zones(id),"           \
	" serial BIGINT NOT NULL, op BIGINT NOT NULL, key TEXT NOT NULL,"     \
	" code BIGINT NOT NULL, reason TEXT NOT NULL, excluded BIGINT NOT NULL)"

/* Only the indexes a query needs (EXPLAIN QUERY PLAN: no full scan): each
 * one is written on the trap intake's hot path. No index on last_seen: it
 * moves on every hit, and "search --since" runs inside one zone on
 * listings_lo (the order it returns) with last_seen as a filter. */
#define INDEXES                                                               \
	"CREATE INDEX listings_expires ON listings (state, expires)",         \
	"CREATE INDEX listings_lo ON listings (zone_id, lo, hi)",             \
	"CREATE INDEX events_key ON events (zone_id, key, id)",               \
	"CREATE INDEX evidence_key ON evidence (zone_id, key, id)",           \
	"CREATE INDEX hits_key ON hits (zone_id, key, time)",                 \
	"CREATE INDEX hits_time ON hits (time)",                              \
	"CREATE INDEX journal_serial ON journal (zone_id, serial, id)"

#define META "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"

static const char *const v1_sqlite[] = {
	META,
	ZONES("INTEGER PRIMARY KEY"),
	LISTINGS("INTEGER PRIMARY KEY", "BLOB"),
	EVENTS("INTEGER PRIMARY KEY"),
	EVIDENCE("INTEGER PRIMARY KEY"),
	HITS("INTEGER PRIMARY KEY"),
	JOURNAL("INTEGER PRIMARY KEY"),
	INDEXES,
	NULL,
};

static const char *const v1_pg[] = {
	META,
	ZONES("BIGSERIAL PRIMARY KEY"),
	LISTINGS("BIGSERIAL PRIMARY KEY", "BYTEA"),
	EVENTS("BIGSERIAL PRIMARY KEY"),
	EVIDENCE("BIGSERIAL PRIMARY KEY"),
	HITS("BIGSERIAL PRIMARY KEY"),
	JOURNAL("BIGSERIAL PRIMARY KEY"),
	INDEXES,
	NULL,
};

/* Version 2: the web portal's state (store/web.h), kept in the store so
 * that several `rblkit web` behind one proxy share it: rate-limit
 * counters, removal requests (the review queue), console users, their
 * sessions, API keys, and the audit log. Secrets are stored hashed. */
#define WEB_TABLES(ID)                                                        \
	"CREATE TABLE web_rate (bucket TEXT NOT NULL, win BIGINT NOT NULL,"   \
	" n BIGINT NOT NULL, PRIMARY KEY (bucket, win))",                     \
	"CREATE INDEX web_rate_win ON web_rate (win)",                        \
	"CREATE TABLE web_requests ("                                         \
	" id " ID ", zone TEXT NOT NULL, key TEXT NOT NULL,"                  \
	" client TEXT NOT NULL, reason TEXT NOT NULL, why TEXT NOT NULL,"     \
	" state BIGINT NOT NULL, created BIGINT NOT NULL,"                    \
	" decided BIGINT NOT NULL, decided_by TEXT NOT NULL,"                 \
	" note TEXT NOT NULL, token TEXT NOT NULL, expires BIGINT NOT NULL)", \
	"CREATE INDEX web_requests_state ON web_requests (state, id)",        \
	"CREATE INDEX web_requests_token ON web_requests (token)",            \
	"CREATE TABLE web_users (name TEXT PRIMARY KEY, hash TEXT NOT NULL,"  \
	" role BIGINT NOT NULL, created BIGINT NOT NULL)",                    \
	"CREATE TABLE web_sessions (id TEXT PRIMARY KEY, user_name TEXT NOT NULL," \
	" csrf TEXT NOT NULL, expires BIGINT NOT NULL)",                      \
	"CREATE INDEX web_sessions_expires ON web_sessions (expires)",        \
	"CREATE TABLE web_keys (id TEXT PRIMARY KEY, hash TEXT NOT NULL,"     \
	" scopes BIGINT NOT NULL, name TEXT NOT NULL, created BIGINT NOT NULL)", \
	"CREATE TABLE web_audit (id " ID ", time BIGINT NOT NULL,"            \
	" actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL)"

static const char *const v2_sqlite[] = { WEB_TABLES("INTEGER PRIMARY KEY"), NULL };
static const char *const v2_pg[] = { WEB_TABLES("BIGSERIAL PRIMARY KEY"), NULL };

/* Version 3: the history of `rblkit watch` (store/watch.h): the current
 * state per (target, list), its transitions, the alerts sent for them
 * (unique per transition, channel and reminder number: claimed once,
 * never sent twice), notes that alerts quote, queries spent per day. */
#define WATCH_TABLES(ID)                                                      \
	"CREATE TABLE watch_state (list TEXT NOT NULL, target TEXT NOT NULL," \
	" state BIGINT NOT NULL, since BIGINT NOT NULL, codes TEXT NOT NULL," \
	" txt TEXT NOT NULL, why TEXT NOT NULL, pending BIGINT NOT NULL,"     \
	" confirms BIGINT NOT NULL, last_check BIGINT NOT NULL,"              \
	" reminded BIGINT NOT NULL, PRIMARY KEY (list, target))",             \
	"CREATE INDEX watch_state_target ON watch_state (target)",            \
	"CREATE TABLE watch_transitions (id " ID ", time BIGINT NOT NULL,"    \
	" target TEXT NOT NULL, list TEXT NOT NULL,"                          \
	" from_state BIGINT NOT NULL, to_state BIGINT NOT NULL,"              \
	" codes TEXT NOT NULL, txt TEXT NOT NULL, why TEXT NOT NULL)",        \
	"CREATE INDEX watch_transitions_time ON watch_transitions (time, id)", \
	"CREATE INDEX watch_transitions_target ON watch_transitions (target, time, id)", \
	"CREATE TABLE watch_alerts (id " ID ", transition_id BIGINT NOT NULL," \
	" channel TEXT NOT NULL, seq BIGINT NOT NULL, state BIGINT NOT NULL," \
	" created BIGINT NOT NULL, done BIGINT NOT NULL,"                     \
	" attempts BIGINT NOT NULL, detail TEXT NOT NULL,"                    \
	" UNIQUE (transition_id, channel, seq))",                             \
	"CREATE INDEX watch_alerts_state ON watch_alerts (state, id)",        \
	"CREATE TABLE watch_notes (id " ID ", time BIGINT NOT NULL,"          \
	" source TEXT NOT NULL, subject TEXT NOT NULL, list TEXT NOT NULL,"   \
	" text TEXT NOT NULL)",                                               \
	"CREATE INDEX watch_notes_time ON watch_notes (time, id)",            \
	"CREATE TABLE watch_budget (list TEXT NOT NULL, day BIGINT NOT NULL," \
	" n BIGINT NOT NULL, PRIMARY KEY (list, day))"

static const char *const v3_sqlite[] = { WATCH_TABLES("INTEGER PRIMARY KEY"), NULL };
static const char *const v3_pg[] = { WATCH_TABLES("BIGSERIAL PRIMARY KEY"), NULL };

const struct db_migration db_migrations[] = {
	{ 1, { NULL, v1_sqlite, v1_pg } },
	{ 2, { NULL, v2_sqlite, v2_pg } },
	{ 3, { NULL, v3_sqlite, v3_pg } },
};
const size_t db_nmigrations = sizeof(db_migrations) / sizeof(db_migrations[0]);
