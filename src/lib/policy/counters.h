/*
 * counters.h - the outbound counter store: where the counts of the
 * outbound limits live.
 *
 * Two backends. "local" is the daemon's own table (ratelimit.h) with its
 * journal and snapshots (state.h): the checks run in decide.c at once.
 * "redis" (outbound_store = redis://[user:pass@]host:port/db) shares the
 * counts of several daemons: one Lua script does the whole check-and-add
 * of a request in one round trip, atomically (the same sliding-window
 * estimate as ratelimit.c, from per-window hash keys that expire with
 * their window), and decides "alert once per crossing" for the cluster
 * with SET NX on an alert key that lives as long as the limit's window.
 * With outbound_baseline the same script checks and updates the sender's
 * baseline (baseline.h's EWMA, in a hash of its own), so the whole
 * cluster holds a sender against one normal.
 * rediss:// is the same over TLS (OpenSSL, non-blocking, on the loop).
 *
 * The Redis client is asynchronous on the daemon's event loop: a request
 * is queued (pcs_check) and answered through its callback, or failed
 * (callback with PCS_ERROR) when the server does not answer within
 * outbound_store_timeout, the connection breaks or the reply is not what
 * the script returns. A failure closes the connection; pcs_tick()
 * reconnects (at most once a second). While the store is not up,
 * pcs_check() refuses at once and the caller counts locally (decide.c:
 * fail open onto the local limits, counts merged back with pcs_merge()).
 *
 * SECURITY: user names are untrusted; they go to Redis only as bulk
 * string arguments (binary safe, never in the script's text). Replies are
 * parsed by resp.c with its limits. The URL (and its password) is the
 * operator's; the password is never logged.
 */
#ifndef RBLKIT_POLICY_COUNTERS_H
#define RBLKIT_POLICY_COUNTERS_H

#include "base/evloop.h"
#include "policy/baseline.h"
#include "policy/ratelimit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCS_TOP_MAX 640
#define PCS_MAX_DOMAIN 253	/* a longer recipient domain is cut */

/* What a store tells about one request (the script's answer). */
enum pcs_code {
	PCS_ERROR = -1,		/* no answer: decide locally */
	PCS_ACCEPT = 0,		/* under every limit; counted when asked */
	PCS_CROSS = 1,		/* even the smallest request crosses lim[idx] */
	PCS_OVERSIZE = 2,	/* this message's recipients would cross lim[idx] */
	PCS_BLOCKED = 3,	/* blocked until reset (kind, period below) */
	PCS_BASELINE = 4,	/* far above its own normal (idx 1: the day) */
};

struct pcs_result {
	enum pcs_code code;
	int idx;		/* PCS_CROSS, PCS_OVERSIZE: the limit */
	uint32_t count;		/* that limit's estimate before this request */
	bool first;		/* first crossing in the cluster: alert */
	uint32_t kind, period;	/* PCS_BLOCKED: the limit that blocked */
	uint32_t threshold;	/* PCS_BASELINE: the count it is held above */
	double mean, sd;	/* PCS_BASELINE: the normal of that window */
	/* PCS_BASELINE: kind 1 when the distinct recipient domains crossed;
	 * top: the window's most frequent recipient domains in the cluster
	 * ("a.example:9 b.example:2", cleaned), when first */
	char top[PCS_TOP_MAX];
};

/* One check-and-add. */
struct pcs_args {
	const char *key;
	const struct rl_limits *lim;
	const uint32_t *periods;	/* counted windows */
	size_t nperiods;
	uint32_t now, rcpts;
	bool add;			/* END-OF-MESSAGE: count when accepted */
	bool until_reset;		/* outbound_block = reset */
	bool baseline;			/* outbound_baseline: checked (and counted) too */
	uint32_t bl_factor, bl_min, bl_new;
	/* distinct recipient domains: baseline_domains_* (factor 0: off),
	 * and the domain of this RCPT (NULL: none) */
	uint32_t bl_dom_factor, bl_dom_min, bl_dom_new;
	const char *domain;
};

typedef void pcs_cb(void *arg, const struct pcs_result *r);
/* The store went up (true) or down (false). */
typedef void pcs_state_cb(void *arg, bool up);

struct pcs;
struct pcs_req;

/* Check a store URL: 0, or -1 with what is wrong in err. */
int pcs_url_check(const char *url, char *err, size_t errlen);

/* A Redis store for url on ev (not connected yet: pcs_tick connects).
 * rediss:// speaks TLS (1.2 or later) and checks the server's certificate
 * (its name or IP address as in the URL) against the PEM file ca, or the
 * system's CAs when ca is NULL. timeout_ms bounds each request (and the
 * connection with its handshakes). state is called on every change
 * between up and down. NULL with err for a bad URL. Owned by the caller:
 * pcs_free. */
struct pcs *pcs_new(const char *url, const char *ca, ev_loop *ev, unsigned timeout_ms,
		    pcs_state_cb *state, void *arg, char *err, size_t errlen);
/* Close the connection; queued requests are dropped without their
 * callbacks (the caller cancelled them or is going away). */
void pcs_free(struct pcs *s);
/* Connect when down (at most once a second). now is ev_now(). */
void pcs_tick(struct pcs *s, uint64_t now);
/* Whether requests are accepted (connected, scripts loaded). */
bool pcs_up(const struct pcs *s);

/* Queue a check-and-add; cb(arg, result) is called later, never from
 * inside pcs_check. Returns a handle for pcs_cancel, or NULL when the
 * store is not up (decide locally). */
struct pcs_req *pcs_check(struct pcs *s, const struct pcs_args *a, pcs_cb *cb, void *arg);
/* The caller no longer waits (its connection closed): no callback. */
void pcs_cancel(struct pcs_req *r);

/* Add counts made locally while the store was down to the shared
 * windows: u's counters (current and previous window of each period).
 * Fire and forget. Returns 0 or -1 when not up. */
int pcs_merge(struct pcs *s, const struct rl_user *u, uint32_t now);
/* Forget key in the store (policy reset): counters, block, alert keys
 * of periods. Fire and forget. */
int pcs_reset(struct pcs *s, const char *key, const uint32_t *periods, size_t n,
	      uint32_t now);

/* What the store holds for one user (status USER: the cluster's view). */
struct pcs_status {
	uint32_t est[RL_MAX_LIMITS];	/* the estimate of each limit asked for */
	size_t nest;
	char blocked[32];		/* "KIND:PERIOD" (outbound_block = reset), or "" */
	bool has_baseline;
	struct bl_shared bl;		/* when has_baseline; bl.top is top */
	char top[PCS_TOP_MAX];		/* the hour's top recipient domains */
};
/* st is NULL when the store did not answer. */
typedef void pcs_status_cb(void *arg, const struct pcs_status *st);

/* Ask the store for key's counts (lim's windows), block and baseline, as
 * every daemon counted them. cb is called later (never from inside), with
 * NULL on a failure. Returns a handle for pcs_cancel, or NULL when the
 * store is not up. */
struct pcs_req *pcs_status(struct pcs *s, const char *key, const struct rl_limits *lim,
			   pcs_status_cb *cb, void *arg);

/* Requests answered, failed; connections made (for status). */
void pcs_stats(const struct pcs *s, uint64_t *ok, uint64_t *failed, uint64_t *connects);

#endif
