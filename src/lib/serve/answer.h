/*
 * answer.h - building a DNS response into a fixed buffer.
 *
 * The response is built in place in a caller-owned buffer: header and
 * question copied from the query, then answer, authority and additional
 * records. Answer records get rbldnsd's rules: an RR identical to one
 * already present is not added again, and all RRs of one type share the
 * smallest TTL. Names are compressed. Nothing here allocates.
 *
 * When an answer RR does not fit the client's limit (512 bytes, or its
 * EDNS0 size, or 65535 over TCP) the response is cut back to the question
 * and TC is set, so the client retries over TCP. Authority and additional
 * records that do not fit are left out (that needs no TC, RFC 2181 9).
 *
 * SECURITY: writes only within the buffer given to answer_init(); sizes of
 * rdata come from loaded data and are checked against the space left.
 */
#ifndef RBLKIT_ANSWER_H
#define RBLKIT_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "serve/value.h"

enum ans_section { SEC_ANSWER = 0, SEC_AUTHORITY = 1, SEC_ADDITIONAL = 2 };

#define ANS_MAX_COMP 64

struct answer {
	uint8_t *buf;
	size_t cap;             /* bytes of buf */
	size_t limit;           /* the client's limit, <= cap */
	size_t len;             /* bytes used */
	size_t qend;            /* end of the question section */
	size_t sec_start[3];    /* where each section starts */
	uint16_t count[3];
	int truncated;          /* an answer RR did not fit */
	/* compression table: offsets of names already in the packet */
	unsigned ncomp;
	uint16_t comp_off[ANS_MAX_COMP];
	size_t zone_off;        /* offset of the zone apex inside the qname */
};

/* Start a response in buf from the query's header and question
 * (qlen bytes: the header and question section). limit is the largest
 * response the client accepts. */
void answer_init(struct answer *a, uint8_t *buf, size_t cap, size_t limit,
		 const uint8_t *query, size_t qlen);

/* Add an answer RR owned by the query name. For the answer section the
 * rbldnsd duplicate and TTL rules apply. Returns 0, or -1 when it did not
 * fit (then a->truncated is set for the answer section). */
int answer_add(struct answer *a, enum ans_section sec, uint16_t type,
	       uint32_t ttl, const uint8_t *rdata, size_t rdlen);

/* Add an RR with an explicit owner (wire name, uncompressed input) and
 * rdata that may contain names at the given offsets to compress
 * (for NS, SOA, MX). names: offsets within rdata of wire names; the
 * rdata is rewritten with compression. */
int answer_add_named(struct answer *a, enum ans_section sec,
		     const uint8_t *owner, uint16_t type, uint32_t ttl,
		     const uint8_t *rdata, size_t rdlen,
		     const size_t *name_offs, unsigned nnames);

/* A and/or TXT for a listed entry with value v (the want bits say which);
 * subst is the text for "$" in the TXT template. */
void answer_a_txt(struct answer *a, unsigned want, const struct value *v,
		  uint32_t ttl, const char *subst, size_t substlen);

/* Drop everything after the question (keeps header flags). */
void answer_reset(struct answer *a);

/* Write the section counts into the header; returns the length. */
size_t answer_finish(struct answer *a);

#endif
