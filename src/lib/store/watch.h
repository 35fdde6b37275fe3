/*
 * watch.h - the history of `rblkit watch` in the store (schema version
 * 3): per (target, list) the current state and how sure of it the
 * daemon is, every transition of that state, the alerts sent for each
 * transition (so that a daemon killed and restarted never sends one
 * twice), notes from outside (a policy limit crossing, a mail log or
 * bounce line naming a list) that alerts quote, and the queries spent
 * per list and day (the budget survives a restart).
 *
 * A target is what the daemon checks: an address ("192.0.2.1",
 * "2001:db8::1") or a host name ("mail.example.com"); a CIDR or mx:
 * entry of the configuration is expanded into those. A list is the
 * DNSBL zone ("zen.spamhaus.org"), or "ZONE@ADDR[:PORT]" when asked of a
 * given server. The row with target "" is the list's own health (its
 * RFC 5782 test points): a list whose probe fails is in error for every
 * target, and the dashboard reads the lists in error from these rows.
 *
 * The state machine (kept by the daemon, stored here): `state` is the
 * confirmed state, `pending` what the last checks saw when it differs,
 * `confirms` how many consecutive checks saw `pending`. When confirms
 * reaches the configured K the daemon writes a transition (from state
 * to pending) and the new state in one transaction (store_begin /
 * store_commit), with one alert row per channel in state
 * STORE_WATCH_ALERT_PENDING; it then delivers them and marks each done.
 * After kill -9, store_watch_alerts_pending() gives those not yet
 * delivered; delivered ones are never given again.
 *
 * Readers (`rblkit watch status`, the web dashboard) open the store
 * read-only and use store_watch_states(), store_watch_transitions(),
 * store_watch_alerts() and store_watch_notes(); they work while the
 * daemon writes (SQLite WAL / PostgreSQL MVCC).
 *
 * SECURITY: TXT records and reason texts come from DNS answers and mail
 * logs of other parties; they are bound parameters, cut to their bounds
 * at a UTF-8 boundary. Nothing here interprets them.
 */
#ifndef RBLKIT_STORE_WATCH_H
#define RBLKIT_STORE_WATCH_H

#include <stdint.h>

#include "store/store.h"

#define STORE_WATCH_TARGET_MAX 256      /* address or host name, with NUL */
#define STORE_WATCH_LIST_MAX 320        /* zone or "zone@addr:port", with NUL */
#define STORE_WATCH_CODES_MAX 128       /* "127.0.0.2,127.0.0.4", with NUL */
#define STORE_WATCH_TEXT_MAX 512        /* TXT, why, note text, detail, with NUL */
#define STORE_WATCH_NAME_MAX 64         /* channel, note source, with NUL */

enum store_watch_state {
	STORE_WATCH_UNKNOWN = 0,        /* never checked (or no answer yet) */
	STORE_WATCH_CLEAN = 1,          /* the list answered: not listed */
	STORE_WATCH_LISTED = 2,         /* the list answered a listing code */
	STORE_WATCH_ERROR = 3,          /* the list cannot be trusted now:
					 * refusal code, failed RFC 5782
					 * probe, no answer; never a listing */
};
/* "unknown", "clean", "listed", "error"; "?" for another value. */
const char *store_watch_state_name(int state);

/* The current state of one (target, list). */
struct store_watch_status {
	char target[STORE_WATCH_TARGET_MAX];
	char list[STORE_WATCH_LIST_MAX];
	int state;                      /* confirmed: enum store_watch_state */
	int64_t since;                  /* when it entered state (Unix s) */
	char codes[STORE_WATCH_CODES_MAX];      /* of state (LISTED / ERROR) */
	char txt[STORE_WATCH_TEXT_MAX];         /* LISTED: the TXT */
	char why[STORE_WATCH_TEXT_MAX];         /* ERROR: what went wrong */
	int pending;                    /* what the last checks saw (== state
					 * when they agree) */
	unsigned confirms;              /* consecutive checks that saw pending */
	int64_t last_check;             /* last answer or failure (0: never) */
	int64_t reminded;               /* last reminder sent while listed */
};

/* 0 and *s, STORE_NOTFOUND or -1. */
int store_watch_get(struct store *st, const char *target, const char *list,
		    struct store_watch_status *s);
/* Insert or replace the row of (s->target, s->list). 0 or -1. */
int store_watch_put(struct store *st, const struct store_watch_status *s);
/* Drop the current state of (target, list) (the configuration no longer
 * watches it); its transitions and alerts stay. list NULL: every list
 * of the target. 0 or -1. */
int store_watch_del(struct store *st, const char *target, const char *list);

/* Current states; NULL / 0 fields do not filter. Ordered by list, then
 * target. "Current listings": .states = 1u << STORE_WATCH_LISTED; "lists in
 * error": .states = 1u << STORE_WATCH_ERROR (target "" rows are the lists'
 * own probes). cb's non-zero stops the walk and is returned. */
struct store_watch_filter {
	const char *target;
	const char *list;
	unsigned states;                /* bit (1u << state) per state wanted; 0: any */
	unsigned limit;                 /* 0: no limit */
};
int store_watch_states(struct store *st, const struct store_watch_filter *f,
		       int (*cb)(void *arg, const struct store_watch_status *s), void *arg);

/* How many rows are in each state (index enum store_watch_state). */
int store_watch_counts(struct store *st, uint64_t counts[4]);

/* ---- transitions ---- */

struct store_watch_transition {
	int64_t id;                     /* set by store_watch_transition_add */
	int64_t time;
	char target[STORE_WATCH_TARGET_MAX];
	char list[STORE_WATCH_LIST_MAX];
	int from, to;                   /* enum store_watch_state */
	char codes[STORE_WATCH_CODES_MAX];      /* of the new state */
	char txt[STORE_WATCH_TEXT_MAX];
	char why[STORE_WATCH_TEXT_MAX];         /* to ERROR: the reason */
};

/* Record t (t->id ignored); *id gets its id (may be NULL). 0 or -1. */
int store_watch_transition_add(struct store *st, const struct store_watch_transition *t,
			       int64_t *id);
/* 0 and *t, STORE_NOTFOUND or -1. */
int store_watch_transition_get(struct store *st, int64_t id, struct store_watch_transition *t);
/* Transitions with time >= since, of target and list when not NULL,
 * oldest first, at most limit (0: all; with a limit: the newest limit
 * of them, still oldest first). cb's non-zero stops and is returned. */
int store_watch_transitions(struct store *st, int64_t since, const char *target,
			    const char *list, unsigned limit,
			    int (*cb)(void *arg, const struct store_watch_transition *t),
			    void *arg);

/* ---- alerts ---- */

enum store_watch_alert_state {
	STORE_WATCH_ALERT_PENDING = 0,  /* to be delivered */
	STORE_WATCH_ALERT_OK = 1,       /* delivered */
	STORE_WATCH_ALERT_FAILED = 2,   /* given up after the retries */
};

/* One alert of one transition on one channel ("command", "webhook",
 * "mail"); seq 0 is the transition's alert, seq N the Nth reminder. */
struct store_watch_alert {
	int64_t id;
	int64_t transition;
	char channel[STORE_WATCH_NAME_MAX];
	unsigned seq;
	int state;                      /* enum store_watch_alert_state */
	int64_t created, done;          /* done: delivered or given up (0: not yet) */
	unsigned attempts;
	char detail[STORE_WATCH_TEXT_MAX];      /* failure: why; ok: e.g. "HTTP 200" */
};

/* Add the alert (transition, channel, seq) in state PENDING. Returns 0
 * and *id; STORE_WATCH_EXISTS when that alert exists already (*id then
 * gets the existing one's): an alert is claimed once, whatever happened
 * before a restart. -1 on error. */
#define STORE_WATCH_EXISTS 4
int store_watch_alert_add(struct store *st, int64_t transition, const char *channel,
			  unsigned seq, int64_t now, int64_t *id);
/* Record the outcome of a delivery attempt: state OK or FAILED (final),
 * or PENDING (attempt failed, will be retried: attempts + 1). 0,
 * STORE_NOTFOUND or -1. */
int store_watch_alert_done(struct store *st, int64_t id, int state, int64_t now,
			   const char *detail);
/* Alerts still PENDING, oldest first (what to deliver after a restart). */
int store_watch_alerts_pending(struct store *st,
			       int (*cb)(void *arg, const struct store_watch_alert *a), void *arg);
/* Alerts of a transition (0: all), newest first, at most limit (0: all). */
int store_watch_alerts(struct store *st, int64_t transition, unsigned limit,
		       int (*cb)(void *arg, const struct store_watch_alert *a), void *arg);

/* ---- notes: what other parts said, for the alerts to quote ---- */

struct store_watch_note {
	int64_t id, time;
	char source[STORE_WATCH_NAME_MAX];      /* "policy", "log", "bounce" */
	char subject[STORE_WATCH_TARGET_MAX];   /* the user, sender, address ("" none) */
	char list[STORE_WATCH_LIST_MAX];        /* the list it names ("" none) */
	char text[STORE_WATCH_TEXT_MAX];        /* the line / message */
};

/* Add n (id ignored); *id gets its id (may be NULL). Notes older than
 * prune_before are dropped (0: none). 0 or -1. */
int store_watch_note_add(struct store *st, const struct store_watch_note *n,
			 int64_t prune_before, int64_t *id);
/* Notes with time >= since, of list when not NULL (notes naming no list
 * included), oldest first, at most limit (the newest limit). */
int store_watch_notes(struct store *st, int64_t since, const char *list, unsigned limit,
		      int (*cb)(void *arg, const struct store_watch_note *n), void *arg);

/* ---- the query budget ---- */

/* Add n queries to list's count of day (Unix day number: time / 86400)
 * and set *total (may be NULL) to the day's count after it; days before
 * day - 7 are dropped. 0 or -1. */
int store_watch_budget_add(struct store *st, const char *list, int64_t day, unsigned n,
			   uint64_t *total);
/* The day's count of list (0 when none). 0 or -1. */
int store_watch_budget_get(struct store *st, const char *list, int64_t day, uint64_t *total);

#endif
