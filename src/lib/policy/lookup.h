/*
 * lookup.h - blocklist lookups for client addresses: every zone of
 * dnsbl_sites queried at once through the resolver, the answers read
 * through the catalogue (error and refusal codes never count), scored
 * (score.h), and the result cached per client address for the answers'
 * TTL (clamped to dnsbl_cache_min_ttl..dnsbl_cache_max_ttl).
 *
 * Requests for an address already being looked up join that lookup.
 * A caller that has to wait embeds a struct plk_waiter; its callback
 * runs on every answer that could change the outcome, and the caller
 * asks plk_eval() whether the outcome is known yet.
 *
 * SECURITY: client addresses come from Postfix (parsed with inet_pton);
 * answers are untrusted network input, already checked by the resolver;
 * TXT strings are copied with a length limit and may hold anything
 * (proto.c's reply writer removes control characters).
 */
#ifndef RBLKIT_POLICY_LOOKUP_H
#define RBLKIT_POLICY_LOOKUP_H

#include "policy/config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PLK_TXT_MAX 200
#define PLK_DETAIL_MAX 200

struct plk;
struct plk_job;

struct plk_waiter {
	struct plk_waiter *next, *prev;
	struct plk_job *job;		/* NULL when not waiting */
	void (*cb)(struct plk_waiter *w);
};

struct plk_result {
	bool listed;			/* score >= threshold */
	bool complete;			/* every list answered */
	bool cached;
	int score;
	const char *zone;		/* zone of the top site, or "" */
	char txt[PLK_TXT_MAX];	/* its TXT, or "" */
	char detail[PLK_DETAIL_MAX];	/* "zone*w zone*w" of matched sites */
};

/* Lookups for cfg (which must outlive the struct): creates the resolver
 * and loads the catalogue. NULL with a reason in err. Warnings (a domain
 * list among the sites, a list that needs a key) are logged. */
struct plk *plk_new(const struct pcfg *cfg, char *err, size_t errlen);
/* Ends every lookup (waiters are called one last time, with what has
 * arrived) and frees everything. */
void plk_free(struct plk *d);

/* For the event loop: poll plk_fd() for input, at most
 * plk_timeout_ms() (-1: no timer), then plk_process(). */
int plk_fd(const struct plk *d);
int plk_timeout_ms(const struct plk *d);
void plk_process(struct plk *d);

enum plk_status { PLK_DONE, PLK_WAIT, PLK_BADADDR };

/* Look up a client address (text). PLK_DONE: *res is filled (from the
 * cache, or there are no sites). PLK_WAIT: w is attached to a lookup;
 * its callback runs as answers arrive. PLK_BADADDR: not an address. */
enum plk_status plk_lookup(struct plk *d, const char *addr,
			       struct plk_waiter *w, struct plk_result *res);
/* Is the outcome of w's lookup known? With final (the budget is spent),
 * a TXT still missing is not waited for. Fills *res when it returns true. */
bool plk_eval(struct plk_waiter *w, bool final, struct plk_result *res);
/* The zones w's lookup still waits for, "a.example b.example", into buf. */
void plk_pending_zones(const struct plk_waiter *w, char *buf, size_t len);
/* Stop waiting (the lookup goes on and fills the cache). */
void plk_detach(struct plk_waiter *w);

/* Once a second: probes the lists' RFC 5782 test points when due
 * (health.h; a list that fails gives no verdict until it passes). */
void plk_tick(struct plk *d, uint64_t now);
/* A reload: keep the lists' states and error counts of old (which may be
 * NULL), so that an unusable list is not logged again. */
void plk_inherit_health(struct plk *d, const struct plk *old);
/* Per list: its state and errors, one line each (status), or as
 * Prometheus text (metrics). */
void plk_health_report(const struct plk *d, FILE *f);
void plk_health_metrics(const struct plk *d, FILE *f);

/* Counters for status: cache hits, misses, lookups in flight. */
void plk_stats(const struct plk *d, uint64_t *hits, uint64_t *misses,
		 unsigned *inflight);

#endif
