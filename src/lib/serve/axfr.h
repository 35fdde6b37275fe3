/*
 * axfr.h - zone transfer (AXFR, and IXFR: from the journal for a zone
 * served from the store, else answered as AXFR) of one zone: SOA, NS,
 * every dataset's records, SOA, in as many messages as needed.
 *
 * Who may transfer: the networks of --allow-transfer, loopback only when
 * none are given (rbldnsd has no AXFR: a server that replaces it must not
 * publish the whole list to anyone who asks).
 *
 * SECURITY: runs for a TCP client whose query was parsed by query.c; the
 * messages are built in a fixed buffer by answer.c. The networks come from
 * the command line.
 */
#ifndef RBLKIT_AXFR_H
#define RBLKIT_AXFR_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "serve/zone.h"

/* The clients allowed to transfer zones. */
struct axfr_acl;

/* Add "NET[,NET...]" (address or address/bits, IPv4 or IPv6, no host
 * bits) to *acl, which is created on first use (NULL: none yet). Returns
 * 0, or -1 with *bad pointing into list at the net that is wrong. */
int axfr_acl_add(struct axfr_acl **acl, const char *list, const char **bad);
void axfr_acl_free(struct axfr_acl *acl);

/* 1 if peer may transfer zones: it is in acl, or acl is NULL and peer is
 * a loopback address (127.0.0.0/8, ::1). A NULL peer (in-process) may. */
int axfr_allowed(const struct axfr_acl *acl, const struct sockaddr *peer);

/* Log that peer was refused a transfer of z, once per client address
 * (the first 1024 clients; later ones once together). Thread-safe. */
void axfr_log_refused(const struct sockaddr *peer, const struct zone *z);

/* Send one finished message; returns 0 or -1 to abort. */
typedef int (*axfr_send_fn)(void *arg, const uint8_t *msg, size_t len);

/* Transfer z answering the query req (header + question, qlen bytes).
 * Returns 0, or -1 when a send failed. */
int axfr_run(const struct zone *z, const uint8_t *req, size_t qlen,
	     axfr_send_fn send, void *arg);

/* Answer a transfer request msg (mlen bytes, its question ending at
 * qlen): an IXFR of a store zone from the journal (RFC 1995: the single
 * SOA when the client is up to date, else the differences), anything
 * else as axfr_run(). Returns 0, or -1 when a send failed. */
int axfr_serve(const struct zone *z, const uint8_t *msg, size_t mlen, size_t qlen,
	       axfr_send_fn send, void *arg);

/* Length of header + question of a parsed query (for qlen). */
size_t axfr_question_len(const uint8_t *req, size_t len);

#endif
