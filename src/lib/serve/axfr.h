/*
 * axfr.h - zone transfer (AXFR, and IXFR answered as AXFR) of one zone:
 * SOA, NS, every dataset's records, SOA, in as many messages as needed.
 *
 * SECURITY: runs for a TCP client whose query was parsed by query.c; the
 * messages are built in a fixed buffer by answer.c.
 */
#ifndef RBLKIT_AXFR_H
#define RBLKIT_AXFR_H

#include <stddef.h>
#include <stdint.h>

#include "serve/zone.h"

/* Send one finished message; returns 0 or -1 to abort. */
typedef int (*axfr_send_fn)(void *arg, const uint8_t *msg, size_t len);

/* Transfer z answering the query req (header + question, qlen bytes).
 * Returns 0, or -1 when a send failed. */
int axfr_run(const struct zone *z, const uint8_t *req, size_t qlen,
	     axfr_send_fn send, void *arg);

/* Length of header + question of a parsed query (for qlen). */
size_t axfr_question_len(const uint8_t *req, size_t len);

#endif
