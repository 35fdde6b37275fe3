/*
 * web.h - the web portal's state in the listing store (schema version
 * 2): rate-limit counters, removal requests and the review queue,
 * console users and sessions, API keys, the audit log. Kept here, not in
 * the portal's memory, so that several `rblkit web` behind one reverse
 * proxy share one (PostgreSQL) store.
 *
 * Secrets never reach the store in clear: password hashes (argon2id
 * strings), session ids and API keys as SHA-256 hex digests made by the
 * caller; the store compares what it is given.
 *
 * SECURITY: bucket names, reasons and client addresses come from the
 * network; they are bound parameters, cut to their maximum length.
 */
#ifndef RBLKIT_STORE_WEB_H
#define RBLKIT_STORE_WEB_H

#include <stdint.h>

#include "store/store.h"

#define STORE_WEB_TEXT_MAX 512          /* reason, note, why, detail, with NUL */
#define STORE_WEB_NAME_MAX 128          /* user, key id, client, token, with NUL */

/* Count one event in bucket for the window that starts at win (the
 * caller rounds the time down); *count gets the events of that window,
 * this one included. Windows older than prune_before are dropped.
 * 0, -1 or STORE_BUSY. */
int store_web_rate(struct store *st, const char *bucket, int64_t win, int64_t prune_before,
		   unsigned *count);

enum store_web_req_state {
	STORE_WEB_PENDING = 1,          /* in the review queue */
	STORE_WEB_APPROVED = 2,         /* removed by an operator */
	STORE_WEB_DENIED = 3,
	STORE_WEB_CONFIRM = 4,          /* waiting for the mailed link */
	STORE_WEB_DONE = 5,             /* confirmed by mail and removed */
};

struct store_web_request {
	int64_t id;
	char zone[STORE_ZONE_MAX];
	char key[STORE_KEY_MAX];
	char client[STORE_WEB_NAME_MAX];
	char reason[STORE_WEB_TEXT_MAX];        /* the requester's words */
	char why[STORE_WEB_TEXT_MAX];           /* why it needs review */
	int state;
	int64_t created, decided, expires;
	char decided_by[STORE_WEB_NAME_MAX];
	char note[STORE_WEB_TEXT_MAX];
	char token[STORE_WEB_NAME_MAX];         /* CONFIRM: digest of the mailed token */
};

/* Add r (id, decided ignored); *id gets its id. 0 or -1. */
int store_web_request_add(struct store *st, const struct store_web_request *r, int64_t *id);
/* 0 and *r, STORE_NOTFOUND or -1. */
int store_web_request_get(struct store *st, int64_t id, struct store_web_request *r);
/* The request waiting in state CONFIRM with this token digest. */
int store_web_request_by_token(struct store *st, const char *token,
			       struct store_web_request *r);
/* Requests in state (0: any), newest first, at most limit (0: all). */
int store_web_requests(struct store *st, int state, unsigned limit,
		       int (*cb)(void *arg, const struct store_web_request *r), void *arg);
/* Move request id from state from to state to (decided now by who, with
 * note). 0, STORE_NOTFOUND (no such request in state from: another
 * operator was first), or -1. */
int store_web_request_decide(struct store *st, int64_t id, int from, int to, int64_t now,
			     const char *who, const char *note);

/* Console users; role is the caller's number (viewer 1, operator 2,
 * admin 3). */
struct store_web_user {
	char name[STORE_WEB_NAME_MAX];
	char hash[STORE_WEB_NAME_MAX];
	int role;
	int64_t created;
};
int store_web_user_put(struct store *st, const struct store_web_user *u);
int store_web_user_get(struct store *st, const char *name, struct store_web_user *u);

/* Sessions by the digest of their id. */
struct store_web_session {
	char id[STORE_WEB_NAME_MAX];
	char user[STORE_WEB_NAME_MAX];
	char csrf[STORE_WEB_NAME_MAX];
	int64_t expires;
};
/* Add s, and drop sessions expired before now. */
int store_web_session_put(struct store *st, const struct store_web_session *s, int64_t now);
/* 0 and *s when id exists and has not expired at now; STORE_NOTFOUND; -1. */
int store_web_session_get(struct store *st, const char *id, int64_t now,
			  struct store_web_session *s);
int store_web_session_del(struct store *st, const char *id);

/* API keys: id is the public part of the key, hash the digest of the
 * whole key; scopes a bit set of the caller's. */
struct store_web_key {
	char id[STORE_WEB_NAME_MAX];
	char hash[STORE_WEB_NAME_MAX];
	unsigned scopes;
	char name[STORE_WEB_NAME_MAX];
	int64_t created;
};
int store_web_key_put(struct store *st, const struct store_web_key *k);
int store_web_key_get(struct store *st, const char *id, struct store_web_key *k);
int store_web_key_del(struct store *st, const char *id);
int store_web_keys(struct store *st, int (*cb)(void *arg, const struct store_web_key *k),
		   void *arg);

/* The audit log: who did what. Newest first, at most limit. */
struct store_web_audit {
	int64_t id, time;
	char actor[STORE_WEB_NAME_MAX];
	char action[STORE_WEB_NAME_MAX];
	char detail[STORE_WEB_TEXT_MAX];
};
int store_web_audit_add(struct store *st, int64_t time, const char *actor, const char *action,
			const char *detail);
int store_web_audit(struct store *st, unsigned limit,
		    int (*cb)(void *arg, const struct store_web_audit *a), void *arg);

#endif
