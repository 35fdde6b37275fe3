/*
 * notify.h - DNS NOTIFY (RFC 1996) to secondaries after a reload.
 *
 * When a reload changes the serial of a zone that has an SOA, a NOTIFY
 * for it goes to every --notify target, over UDP from a thread of its own:
 * each is retried with backoff (1, 2, 4, 8 s) until the target answers,
 * five tries at most. Queries and reloads never wait for it: a reload only
 * queues the zones under a mutex and wakes the thread.
 *
 * SECURITY: targets come from the command line; the only input read is
 * the targets' responses, matched on source address, port and message ID
 * and parsed for their header only.
 */
#ifndef RBLKIT_NOTIFY_H
#define RBLKIT_NOTIFY_H

#include <stdint.h>
#include <sys/socket.h>

#include "serve/zone.h"

struct notifier;

/* Parse "ADDR[:PORT]" ("[v6]:PORT" or a bare IPv6 address; port 53 by
 * default) into *ss. Returns 0, or -1 if spec is no numeric address. */
int notify_parse_target(const char *spec, struct sockaddr_storage *ss,
			socklen_t *len);

/* Open the sockets and start the thread for n targets ("ADDR[:PORT]").
 * Returns the notifier (free with notify_stop), or NULL after logging why. */
struct notifier *notify_start(char *const *targets, unsigned n);

/* Queue a NOTIFY to every target for each zone of new with an SOA whose
 * serial differs from its serial in old (or that old did not serve).
 * Does not block on the network. What it queues is held (nothing is sent)
 * until notify_release(): call that once new is published, so that a
 * secondary that asks at once gets the new serial, not the old one. */
void notify_changes(struct notifier *nt, const struct zoneset *old,
		    const struct zoneset *new);
void notify_release(struct notifier *nt);

/* Stop the thread and free nt (NOTIFYs not answered yet are dropped). */
void notify_stop(struct notifier *nt);

#endif
