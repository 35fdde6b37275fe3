/*
 * dnsbl.h - the engine of rblkit check: look targets up on lists and
 * give verdicts that can be trusted.
 *
 * A target is an address, a CIDR block, a host name (its A/AAAA, and
 * the name itself on domain lists) or a mail domain (its MX hosts'
 * addresses, and the domain itself on domain lists).  Each (address or domain) x (list of that kind) pair becomes a
 * result, classified by the list's own code table (catalog.h): listed,
 * allowlisted, clean (NXDOMAIN or no A record), or error (refusal codes,
 * answers outside 127/8, SERVFAIL, REFUSED, timeouts).  TXT is asked only
 * for hits.  Once per run each list's RFC 5782 test points are probed: a
 * list that lists 127.0.0.1 (or INVALID) is broken, and one whose test
 * point 127.0.0.2 (or TEST) is not listed (NXDOMAIN, SERVFAIL, a timeout:
 * a lying resolver, an unregistered one) cannot really be asked; neither
 * gives verdicts, their results are errors with the reason (unless the
 * catalogue says the list has no test point).
 *
 * Targets finish in any order; dnsbl_next_done() hands them out in the
 * order they were added, so bulk output is stable.
 *
 * Simplest use (a few targets):
 *	eng = dnsbl_new(rs, lists, n, &opts, err, sizeof(err));
 *	dnsbl_add(eng, "192.0.2.1", false); ...
 *	rs_run(rs, now_ms() + 10000);		(follow-up lookups included)
 *	while ((t = dnsbl_next_done(eng))) { ...; dnsbl_target_free(t); }
 * Bulk use: dnsbl/bulk.h keeps adding while dnsbl_active() is below a
 * bound and drives rs_process() from a poll loop; dnsbl/output.h writes
 * the targets out.
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

/* What the user could do about an error, beside its text: the library
 * names no command-line option, the front end words the hint (check
 * appends it to the text in parentheses). */
enum dnsbl_hint {
	DNSBL_HINT_NONE,
	DNSBL_HINT_RESOLVER,	/* SERVFAIL: another resolver, or resolving
				   from the root, may get an answer */
	DNSBL_HINT_CIDR_LIMIT,	/* a block above dnsbl_opts.cidr_limit */
	DNSBL_HINT_MAX
};

struct dnsbl_result {
	const struct list *list;
	const char *subject;		/* the address or domain asked about */
	bool reduced;			/* subject is the registered domain of
					   the name given (the list's
					   "reduce = registered") */
	enum dnsbl_status status;
	size_t ncodes;
	uint32_t codes[RS_MAX_RR];	/* every A record, host order */
	const char *meanings[RS_MAX_RR];/* catalogue text, per code */
	size_t ntxt;
	char *txt[RS_MAX_RR];
	uint32_t ttl;
	unsigned ms;
	char *error;			/* what went wrong */
	enum dnsbl_hint hint;		/* what to do about it */
};

enum dnsbl_tkind { TK_ADDR, TK_CIDR, TK_HOST, TK_MX };

struct dnsbl_target {
	char *input;
	enum dnsbl_tkind kind;
	char *error;			/* the target itself could not be checked */
	char *where;			/* "FILE:LINE" of a bulk line, or NULL */
	enum dnsbl_hint hint;		/* what to do about it */
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
 * Lookups of eng's still pending in rs are ended first with
 * rs_cancel_all() (so rs should serve this engine only); either order of
 * dnsbl_free() and rs_free() is safe.  NULL is allowed. */
void dnsbl_free(struct dnsbl_engine *eng);

/* Parse a target and start its lookups.  mx: input is a mail domain.
 * A bad target comes back done, with ->error set.  The engine owns the
 * target until dnsbl_next_done() hands it out; never NULL. */
struct dnsbl_target *dnsbl_add(struct dnsbl_engine *eng, const char *input, bool mx);
/* dnsbl_add() for a target read at where ("FILE:LINE", copied; NULL:
 * none): the target's own error then starts with "FILE:LINE: ". */
struct dnsbl_target *dnsbl_add_at(struct dnsbl_engine *eng, const char *input, bool mx,
				  const char *where);
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

/* Whether this run asked l about some target so far (an address list
 * is never asked about a domain, and the other way round): notes on a
 * list's health are for the lists a run asked. */
bool dnsbl_list_asked(const struct dnsbl_engine *eng, const struct list *l);
/* DH_NO_TESTPOINT: what the listed test point got instead, in a word or
 * two ("NXDOMAIN", "REFUSED", "SERVFAIL", "timeout", "no answer"): lists
 * failing for the same reason can be told about together.  "" for any
 * other health.  Owned by eng. */
const char *dnsbl_list_testpoint_got(const struct dnsbl_engine *eng,
				     const struct list *l);
/* DH_NO_TESTPOINT because the listed test point got no answer at all (a
 * timeout): silence, no sign of a resolver the list refuses. */
bool dnsbl_list_testpoint_silent(const struct dnsbl_engine *eng, const struct list *l);

/* "clean", "listed", "allowlisted", "error" ("pending"): static. */
const char *dnsbl_status_text(enum dnsbl_status s);

/* Query name of subject on zone: reversed IPv4 octets, IPv6 nibbles,
 * or the domain as is.  Returns 0, or -1 when the subject is none of
 * those or the name would be too long. */
int dnsbl_qname(const char *subject, const char *zone, char *out, size_t outlen,
		unsigned *kind);

#endif
