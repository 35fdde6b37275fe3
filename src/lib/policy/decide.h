/*
 * decide.h - what the policy daemon answers: which requests are
 * outbound (SASL login, or a client of outbound_networks) and which are
 * inbound (scored against the blocklists), the outbound limit checks and
 * counts, and the text of each action.
 *
 * SECURITY: the request attributes are untrusted (the sender address is
 * the remote client's choice). They reach the alert command only through
 * its environment, never through a shell command line; reply texts are
 * cleaned of control characters by pp_format_reply().
 */
#ifndef RBLKIT_POLICY_DECIDE_H
#define RBLKIT_POLICY_DECIDE_H

#include "policy/lookup.h"
#include "policy/config.h"
#include "policy/proto.h"
#include "policy/state.h"
#include "policy/ratelimit.h"
#include "policy/counters.h"
#include "policy/baseline.h"

#include <stdbool.h>
#include <stdint.h>

#define PD_ACTION_MAX 1024

enum pd_route { PD_NONE, PD_INBOUND, PD_OUTBOUND };

struct pd_ctx {
	const struct pcfg *cfg;
	struct rl_table *t;
	struct pst *pst;		/* NULL: not persisted (tests) */
	uint32_t periods[RL_MAX_PERIODS];
	size_t nperiods;
	unsigned alerts_running;
	uint32_t last_expire;		/* last search for idle users (full table) */
	/* outbound_store = redis://...: the shared store (NULL: local) and
	 * what was counted here while it was down (merged when it returns) */
	struct pcs *store;
	struct rl_table *pending;
	bool store_alerted;		/* "unreachable" told for this outage */
	struct bl_table *bl;		/* outbound_baseline = yes (made on first use) */
};

/* The baseline parameters of cfg. */
void pd_bl_params(const struct pcfg *cfg, struct bl_params *p);

/* Recompute the counted windows after cfg changed. */
void pd_set_config(struct pd_ctx *x, const struct pcfg *cfg);

/* Where a request goes. For PD_OUTBOUND *key is the user it counts
 * against (sasl_username, else sender, else client_address); for
 * PD_INBOUND the client address is to be scored; PD_NONE: DUNNO (an
 * allowlisted client, a state that is not scored, no client address). */
enum pd_route pd_route(const struct pcfg *cfg, const struct pp_request *req,
		       const char **key);

/* What pd_outbound() did with a request. */
enum pd_verdict {
	PD_BADREQ = -1,		/* a malformed attribute (recipient_count): DUNNO */
	PD_ACCEPTED = 0,	/* DUNNO; at END-OF-MESSAGE counted */
	PD_REFUSED = 1,		/* over a limit: DEFER or HOLD */
	PD_WAIT = 2,		/* asked the shared store: pd_wait's done follows */
};

/* Check, and at END-OF-MESSAGE count, an outbound request. Writes the
 * action ("DUNNO", "DEFER 4.7.1 ...", "HOLD ...") into action. now is
 * wall-clock seconds.
 *
 * A user is blocked (status shows it, alert, with outbound_block = reset
 * until a reset) when even the smallest request (one message, one
 * recipient) would cross a limit; the count told is the user's. A message
 * with more recipients than what is left of a limit is refused and not
 * counted, but does not block the user: the count told (reply, log, alert
 * once per window of that limit) is what the message would have made. */
enum pd_verdict pd_outbound(struct pd_ctx *x, const struct pp_request *req, const char *key,
		 uint32_t now, char *action, size_t len);

/* A request waiting for the shared counter store: the caller's memory
 * (a connection), alive until done is called or pd_cancel. */
struct pd_wait;
typedef void pd_done_cb(struct pd_wait *w, enum pd_verdict v, const char *action);
struct pd_wait {
	struct pd_ctx *x;
	const struct pp_request *req;	/* the caller keeps it until done */
	const char *key;		/* in req */
	struct pcs_req *r;		/* NULL: not waiting */
	pd_done_cb *done;
	uint32_t now, rcpts;
	bool eom;
	char action[PD_ACTION_MAX];
};

/* pd_outbound() through the shared store when one is configured and up:
 * PD_WAIT, and w->done(w, verdict, action) is called later (from the
 * event loop, never from inside this call); the store's answer is
 * applied as pd_outbound() would (block, alert once for the cluster,
 * refusal text), and a store that fails answers from the local counters
 * (fail open onto the local limits). Without a store, or while it is
 * down, the same as pd_outbound(). */
enum pd_verdict pd_outbound_async(struct pd_ctx *x, const struct pp_request *req,
				  const char *key, uint32_t now, char *action, size_t len,
				  struct pd_wait *w, pd_done_cb *done);
/* Stop waiting (the connection closed): done is not called. */
void pd_cancel(struct pd_wait *w);
/* The shared store went up or down (a pcs_state_cb; arg is the pd_ctx):
 * down alerts once per outage; up merges the counts made meanwhile. */
void pd_store_state(void *arg, bool up);

/* The action for a blocklist result: DUNNO, the refusal of dnsbl_reply,
 * or (dnsbl_action = prepend) "PREPEND header: ..." when a list matched. */
void pd_inbound(const struct pcfg *cfg, const struct pp_request *req,
		const struct plk_result *res, char *action, size_t len);

/* Reap finished alert commands (SIGCHLD). */
void pd_reap(struct pd_ctx *x);

#endif
