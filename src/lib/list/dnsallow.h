/*
 * dnsallow.h - DNS allowlists for the rules (allow_dnsbl, e.g.
 * list.dnswl.org): is this address on one? Asked through the DNSBL
 * client's resolver with a deadline, and the answers cached for their
 * TTL (60 s .. 1 h), so that a trap daemon asks once per address and
 * list, not once per message.
 *
 * An answer is "on the allowlist" when it is an A record in 127.0.0.0/8
 * outside the ranges lists use for errors (127.255.255.0/24 and
 * 127.0.0.255: dnswl.org's "too many queries"); NXDOMAIN is "not on it";
 * anything else (timeout, SERVFAIL, REFUSED, an error code) is "could not
 * tell", which the rules treat as: a trap hit is not listed, an
 * operator's add goes through (list.h).
 *
 * SECURITY: answers are network input, parsed by dnsbl/resolve.c; the
 * lists and servers come from the configuration.
 */
#ifndef RBLKIT_DNSALLOW_H
#define RBLKIT_DNSALLOW_H

#include <stddef.h>

#include "store/store.h"

struct dnsallow;

/* servers: "ADDR[:PORT][,...]" to ask, or NULL / "" for the system's
 * resolvers (/etc/resolv.conf). NULL with the reason in err. */
struct dnsallow *dnsallow_new(const char *servers, char *err, size_t errlen);
void dnsallow_free(struct dnsallow *d);

/* The list_ctx.dns_allowed callback (arg: a struct dnsallow). Only IPv4
 * addresses and IPv6 /128s are asked; anything else is "not on it".
 * Blocks for at most about 2 s on a cache miss. */
int dnsallow_check(void *arg, const struct store_key *k, const char *list);

#endif
