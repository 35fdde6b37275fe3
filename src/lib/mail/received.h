/*
 * received.h - the path of a message: Received fields read into hops
 * (from, by, with, IP, time), delays between hops, the address receivers
 * judge; and RFC 5322 dates.
 *
 * SECURITY: untrusted header text, read within NUL-terminated values
 * whose length msg.h bounds; every copy is cut to its buffer.
 */
#ifndef RBLKIT_RECEIVED_H
#define RBLKIT_RECEIVED_H

#include <stddef.h>
#include <stdint.h>

#include "mail/msg.h"

#define RCVD_MAX_HOPS 64

struct rcvd_hop {
	char from[128];		/* name the client gave or that was looked up */
	char by[128];		/* receiving host */
	char with[32];		/* protocol: ESMTP, ESMTPS, SMTP, local, ... */
	char ip[64];		/* client address, "" when none */
	int64_t t;		/* time stamp, seconds since the epoch (UTC) */
	int has_t;
	int64_t delay;		/* t minus the previous hop's (or Date:), signed */
	int has_delay;
};

/* RFC 5322 date (obsolete forms too: two-digit years, zone names) to UTC
 * seconds.  Returns 0 and sets *t, or -1 when the text is not a date. */
int rcvd_parse_date(const char *s, int64_t *t);

/* Parse one Received field value into hop (times not linked). */
void rcvd_parse(const char *value, struct rcvd_hop *hop);

/* The Received fields of m in the order the message travelled (oldest
 * first), at most max, delays filled in (the first against Date:).
 * Returns the number of hops. */
size_t rcvd_chain(const struct msg *m, struct rcvd_hop *hops, size_t max);

/* Is ip (text) a public address (not private, loopback, link-local,
 * documentation is public on purpose: test data uses it)? */
int rcvd_ip_public(const char *ip);

/* The first public address literal in text (IPv4 or IPv6, bracketed or
 * bare) into out; 0, or -1 when there is none. */
int rcvd_find_public_ip(const char *text, char *out, size_t len);

/* Index of the hop whose client address receivers judge: the first hop
 * received by a host outside the sender's organisation (the domain of the
 * first receiving host), else the last hop with a public client address.
 * Returns -1 when no hop has a public address. */
int rcvd_judged_hop(const struct rcvd_hop *hops, size_t n);

#endif
