/*
 * query.h - answering one DNS query from the zone set.
 *
 * SECURITY: the request is untrusted network input of any length. It is
 * read with the bounds-checked reader in wire.c; the response is written
 * into a caller buffer of fixed size. No allocation, no locks.
 */
#ifndef RBLKIT_QUERY_H
#define RBLKIT_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "serve/axfr.h"
#include "serve/counters.h"
#include "serve/dataset.h"
#include "serve/zone.h"

struct query_ctx {
	const struct zoneset *zs;
	const struct sockaddr *peer;
	int tcp;
	uint64_t (*stats)[ST_COUNT];    /* this thread's counters, or NULL */
	uint64_t *global;               /* [ST_COUNT] for queries to no zone */
	const char *version;            /* version.bind text, NULL refuses */
	int lazy;                       /* -a: no NS in positive answers */
	/* Who may transfer zones (see axfr.h); NULL: loopback only. */
	const struct axfr_acl *xfr_allow;
	/* Set for AXFR/IXFR over TCP: the zone to transfer. */
	const struct zone *xfr_zone;
};

/* Answer req (len bytes) into resp (cap bytes, at least 65535 for TCP).
 * Returns the response length, or 0 to send nothing. */
size_t query_answer(struct query_ctx *qc, const uint8_t *req, size_t len,
		    uint8_t *resp, size_t cap);


#endif
