/*
 * health.h - is each list of dnsbl_sites fit to give verdicts? Its RFC
 * 5782 test points are asked at start and every dnsbl_probe_interval
 * seconds: 127.0.0.2 (::ffff:7f00:2 for IPv6 lists) must be listed,
 * 127.0.0.1 (::ffff:7f00:1) must not, and the answers must be neither
 * refusal codes (127.255.255.x, per the catalogue) nor REFUSED, SERVFAIL
 * or silence. A list that fails is "unusable": its answers never count,
 * until a later probe passes. Each change of state is logged once, with
 * the reason; the state and a count of errors are kept per list for the
 * status report.
 *
 * SECURITY: answers are untrusted network input, already parsed by the
 * resolver; only their rcode and A records are read here.
 */
#ifndef RBLKIT_POLICY_HEALTH_H
#define RBLKIT_POLICY_HEALTH_H

#include "dnsbl/catalog.h"
#include "dnsbl/resolve.h"
#include "policy/sites.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum phl_state {
	PH_UNKNOWN,		/* first probe under way */
	PH_OK,			/* the test points answer as they should */
	PH_UNUSABLE,		/* they do not: the list gives no verdict */
	PH_NOT_PROBED		/* probing is off, or a domain list (never asked) */
};

struct phl;

/* Called when a zone's state changes (zone: index in sites->zones). */
typedef void phl_changed_fn(void *arg, unsigned zone, enum phl_state state);

/* Health of the zones of s (lists[i]: the catalogue entry of zone i;
 * both must outlive the result), probed through rs every interval_s
 * seconds (0: never; every zone is then PH_NOT_PROBED). The first round
 * is sent at once. Never NULL. */
struct phl *phl_new(struct resolver *rs, const struct sites *s,
		    const struct list *const *lists, unsigned interval_s,
		    phl_changed_fn *changed, void *arg);
/* Before rs_cancel_all()/rs_free(): answers that still come are ignored. */
void phl_close(struct phl *h);
/* Free h (after rs has ended its queries). NULL is allowed. */
void phl_free(struct phl *h);

/* Start a round of probes when one is due (now: now_ms()). */
void phl_tick(struct phl *h, uint64_t now);
/* The state of zone i. */
enum phl_state phl_state(const struct phl *h, unsigned zone);
/* Count an error of zone i (a refusal code in an answer). */
void phl_count_error(struct phl *h, unsigned zone);
/* A lookup on zone i failed (timeout, REFUSED, SERVFAIL, ...): counted,
 * and a usable list is probed again at once (at most every 2 s), so
 * that a list that starts refusing is found within seconds. */
void phl_lookup_failed(struct phl *h, unsigned zone);
/* Take the states, reasons and counts of old's zones of the same name
 * (a reload: a list that was unusable is not logged again). */
void phl_inherit(struct phl *h, const struct phl *old);
/* One line per zone: "list ZONE: ok|unusable since ... (why)|..., N errors". */
void phl_report(const struct phl *h, FILE *f);
/* Prometheus text: rblkit_policy_list_usable and _errors_total per zone. */
void phl_metrics(const struct phl *h, FILE *f);

#endif
