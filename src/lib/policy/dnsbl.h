/*
 * dnsbl.h - blocklist lookups for client addresses: every zone of
 * dnsbl_sites queried at once through the resolver, the answers read
 * through the catalogue (error and refusal codes never count), scored
 * (score.h), and the result cached per client address for the answers'
 * TTL (clamped to dnsbl_cache_min_ttl..dnsbl_cache_max_ttl).
 *
 * Requests for an address already being looked up join that lookup.
 * A caller that has to wait embeds a struct dnsbl_waiter; its callback
 * runs on every answer that could change the outcome, and the caller
 * asks dnsbl_eval() whether the outcome is known yet.
 *
 * SECURITY: client addresses come from Postfix (parsed with inet_pton);
 * answers are untrusted network input, already checked by the resolver;
 * TXT strings are copied with a length limit and may hold anything
 * (pproto's reply writer removes control characters).
 */
#ifndef RBLKIT_DNSBL_H
#define RBLKIT_DNSBL_H

#include "pconfig.h"

#include <stdbool.h>
#include <stdint.h>

#define DNSBL_TXT_MAX 200
#define DNSBL_DETAIL_MAX 200

struct dnsbl;
struct dnsbl_job;

struct dnsbl_waiter {
	struct dnsbl_waiter *next, *prev;
	struct dnsbl_job *job;		/* NULL when not waiting */
	void (*cb)(struct dnsbl_waiter *w);
};

struct dnsbl_result {
	bool listed;			/* score >= threshold */
	bool complete;			/* every list answered */
	bool cached;
	int score;
	const char *zone;		/* zone of the top site, or "" */
	char txt[DNSBL_TXT_MAX];	/* its TXT, or "" */
	char detail[DNSBL_DETAIL_MAX];	/* "zone*w zone*w" of matched sites */
};

/* Lookups for cfg (which must outlive the struct): creates the resolver
 * and loads the catalogue. NULL with a reason in err. Warnings (a domain
 * list among the sites, a list that needs a key) are logged. */
struct dnsbl *dnsbl_new(const struct pcfg *cfg, char *err, size_t errlen);
/* Ends every lookup (waiters are called one last time, with what has
 * arrived) and frees everything. */
void dnsbl_free(struct dnsbl *d);

/* For the event loop: poll dnsbl_fd() for input, at most
 * dnsbl_timeout_ms() (-1: no timer), then dnsbl_process(). */
int dnsbl_fd(const struct dnsbl *d);
int dnsbl_timeout_ms(const struct dnsbl *d);
void dnsbl_process(struct dnsbl *d);

enum dnsbl_status { DNSBL_DONE, DNSBL_WAIT, DNSBL_BADADDR };

/* Look up a client address (text). DNSBL_DONE: *res is filled (from the
 * cache, or there are no sites). DNSBL_WAIT: w is attached to a lookup;
 * its callback runs as answers arrive. DNSBL_BADADDR: not an address. */
enum dnsbl_status dnsbl_lookup(struct dnsbl *d, const char *addr,
			       struct dnsbl_waiter *w, struct dnsbl_result *res);
/* Is the outcome of w's lookup known? With final (the budget is spent),
 * a TXT still missing is not waited for. Fills *res when it returns true. */
bool dnsbl_eval(struct dnsbl_waiter *w, bool final, struct dnsbl_result *res);
/* The zones w's lookup still waits for, "a.example b.example", into buf. */
void dnsbl_pending_zones(const struct dnsbl_waiter *w, char *buf, size_t len);
/* Stop waiting (the lookup goes on and fills the cache). */
void dnsbl_detach(struct dnsbl_waiter *w);

/* Counters for status: cache hits, misses, lookups in flight. */
void dnsbl_stats(const struct dnsbl *d, uint64_t *hits, uint64_t *misses,
		 unsigned *inflight);

/* The DNS name of addr in zone ("2.0.0.127.zone", nibbles for IPv6).
 * Returns 0, or -1 if it does not fit. */
int dnsbl_qname(int family, const uint8_t *addr, const char *zone,
		char *out, size_t len);

#endif
