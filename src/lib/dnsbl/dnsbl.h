/*
 * dnsbl.h - the engine of rblkit check: look targets up on lists and
 * give verdicts that can be trusted.
 *
 * A target is an address, a CIDR block, a host name (its A/AAAA) or a
 * mail domain (its MX hosts' addresses, and the domain itself on domain
 * lists).  Each (address or domain) x (list of that kind) pair becomes a
 * result, classified by the list's own code table (catalog.h): listed,
 * allowlisted, clean (NXDOMAIN or no A record), or error (refusal codes,
 * answers outside 127/8, SERVFAIL, REFUSED, timeouts).  TXT is asked only
 * for hits.  Once per run each list's RFC 5782 test points are probed: a
 * list that lists 127.0.0.1 (or INVALID) is broken and gives no verdicts.
 *
 * Targets finish in any order; dnsbl_next_done() hands them out in the
 * order they were added, so bulk output is stable.
 *
 * Simplest use (a few targets):
 *	eng = dnsbl_new(rs, lists, n, &opts, err, sizeof(err));
 *	dnsbl_add(eng, "192.0.2.1", false); ...
 *	rs_run(rs, now_ms() + 10000);		(follow-up lookups included)
 *	while ((t = dnsbl_next_done(eng))) { ...; dnsbl_target_free(t); }
 * Bulk use (see src/cmd/check.c): keep adding while dnsbl_active() is
 * below a bound, and drive rs_process() from a poll loop.
 *
 * SECURITY: target text is user input (bulk files: untrusted lines); it
 * is parsed strictly and never reaches a query name unchecked.  Answers
 * come through resolve.h.
 */
#ifndef RBLKIT_DNSBL_H
#define RBLKIT_DNSBL_H

#include "dnsbl/catalog.h"
#include "dnsbl/resolve.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dnsbl_status { DS_PENDING, DS_CLEAN, DS_LISTED, DS_ALLOWED, DS_ERROR };

struct dnsbl_result {
	const struct list *list;
	const char *subject;		/* the address or domain asked about */
	enum dnsbl_status status;
	size_t ncodes;
	uint32_t codes[RS_MAX_RR];	/* every A record, host order */
	const char *meanings[RS_MAX_RR];/* catalogue text, per code */
	size_t ntxt;
	char *txt[RS_MAX_RR];
	uint32_t ttl;
	unsigned ms;
	char *error;			/* what went wrong, and what to do */
};

enum dnsbl_tkind { TK_ADDR, TK_CIDR, TK_HOST, TK_MX };

struct dnsbl_target {
	char *input;
	enum dnsbl_tkind kind;
	char *error;			/* the target itself could not be checked */
	size_t naddrs;
	char **addrs;			/* text forms, in order found */
	size_t nresults;
	struct dnsbl_result *results;
	/* engine state */
	unsigned outstanding;
	uint64_t seq;
	struct dnsbl_engine *eng;
	struct dnsbl_target *next;
};

struct dnsbl_opts {
	unsigned cidr_limit;		/* addresses a CIDR may expand to */
	unsigned max_mx;		/* MX hosts followed per domain */
	bool no_probe;			/* skip the RFC 5782 health probe */
};

struct dnsbl_engine;

/* lists: those to ask (the engine keeps the pointer array). A list with a
 * server of its own is asked there (rs_add_group). NULL and err set when
 * such a server is not an address. */
struct dnsbl_engine *dnsbl_new(struct resolver *rs, const struct list **lists,
			       size_t nlists, const struct dnsbl_opts *opts,
			       char *err, size_t errlen);
/* Free eng and the targets it still holds (not rs, not the lists).
 * Lookups still pending in rs point into eng: let them finish, or
 * rs_cancel_all(), first.  NULL is allowed. */
void dnsbl_free(struct dnsbl_engine *eng);

/* Parse a target and start its lookups.  mx: input is a mail domain.
 * A bad target comes back done, with ->error set.  The engine owns the
 * target until dnsbl_next_done() hands it out; never NULL. */
struct dnsbl_target *dnsbl_add(struct dnsbl_engine *eng, const char *input, bool mx);
/* The oldest target if it is finished (and the probes too), else NULL.
 * The caller frees it with dnsbl_target_free(). */
struct dnsbl_target *dnsbl_next_done(struct dnsbl_engine *eng);
/* Free a target from dnsbl_next_done(). NULL is allowed. */
void dnsbl_target_free(struct dnsbl_target *t);
/* Targets added and not yet handed out. */
size_t dnsbl_active(const struct dnsbl_engine *eng);

/* Health of a list from its test points, once the probes are done;
 * *why: the reason in words (owned by eng; "" when healthy or unknown). */
enum dnsbl_health { DH_UNKNOWN, DH_OK, DH_NO_TESTPOINT, DH_BROKEN, DH_REFUSING };
enum dnsbl_health dnsbl_list_health(const struct dnsbl_engine *eng,
				    const struct list *l, const char **why);

/* "clean", "listed", "allowlisted", "error" ("pending"): static. */
const char *dnsbl_status_text(enum dnsbl_status s);

/* Query name of subject on zone: reversed IPv4 octets, IPv6 nibbles,
 * or the domain as is.  Returns 0, or -1 when the subject is none of
 * those or the name would be too long. */
int dnsbl_qname(const char *subject, const char *zone, char *out, size_t outlen,
		unsigned *kind);

#endif
