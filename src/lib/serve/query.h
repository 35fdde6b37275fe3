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

#include "serve/dataset.h"
#include "serve/zone.h"

/* Per-zone counters; the array is indexed by zone id. */
enum { ST_QUERIES, ST_LISTED, ST_NXDOMAIN, ST_ERRORS, ST_BYTES_IN,
       ST_BYTES_OUT, ST_COUNT };

struct query_ctx {
	const struct zoneset *zs;
	const struct sockaddr *peer;
	int tcp;
	uint64_t (*stats)[ST_COUNT];    /* this thread's counters, or NULL */
	uint64_t *global;               /* [ST_COUNT] for queries to no zone */
	const char *version;            /* version.bind text, NULL refuses */
	int lazy;                       /* -a: no NS in positive answers */
	/* Set for AXFR/IXFR over TCP: the zone to transfer. */
	const struct zone *xfr_zone;
};

/* Answer req (len bytes) into resp (cap bytes, at least 65535 for TCP).
 * Returns the response length, or 0 to send nothing. */
size_t query_answer(struct query_ctx *qc, const uint8_t *req, size_t len,
		    uint8_t *resp, size_t cap);

/* Fill the address fields of qi from qi->rel for a zone with the given
 * DS_F_* flags (used for zones and for the subzones of combined). */
void query_qinfo_addr(struct qinfo *qi, unsigned flags);

#endif
