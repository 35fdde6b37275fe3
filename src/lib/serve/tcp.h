/*
 * tcp.h - DNS over TCP: one event-loop thread per listening address, many
 * connections each, several queries per connection; zone transfers on
 * threads of their own.
 *
 * Output never blocks a thread: each connection has a bounded output
 * buffer; an answer is built into it inside the read-side section (see
 * snap.h), the section is left, and the buffer is written without
 * blocking as the client reads (EPOLLOUT). While the buffer is full the
 * connection is not read. Every message must arrive whole within
 * TCP_MSG_MS of its first byte, and pending output must make progress
 * within the same time, or the connection is closed; a connection with
 * nothing pending is closed after the idle timeout. A transfer runs on
 * one of TCP_XFR_SLOTS threads holding a reference to the snapshot it
 * began on, so reloads never wait for it; when every slot is busy the
 * request is answered SERVFAIL (the secondary retries later).
 *
 * SECURITY: reads untrusted bytes from any TCP client; message sizes are
 * bounded by the 2-byte length, connections by TCP_MAX_CONN per address,
 * time by the deadlines above. Runs as the unprivileged user.
 */
#ifndef RBLKIT_TCP_H
#define RBLKIT_TCP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/axfr.h"
#include "serve/counters.h"
#include "serve/snap.h"

#define TCP_MAX_CONN 256        /* per listening address */
#define TCP_XFR_SLOTS 4         /* zone transfers running at once */
#define TCP_MSG_MS 3000         /* to receive one message, or to send */

/* One TCP listener thread's environment, owned by the caller. */
struct tcp_listener {
	int fd;                         /* listening, non-blocking */
	struct snap_reader *rd;         /* this thread's reader */
	uint64_t (*stats)[ST_COUNT];    /* this thread's counters */
	uint64_t *global;
	const char *version;            /* version.bind text, NULL refuses */
	int lazy;                       /* no NS in positive answers */
	const struct axfr_acl *xfr_allow;       /* NULL: loopback only */
	int idle_ms;                    /* idle connections close after */
	int querylog;                   /* log every answered query */
	atomic_int *stopping;
	void *loop;                     /* tcp_prepare's; tcp_main frees it */
};

/* Make l's event loop (in the starting thread, so that a failure is the
 * caller's to report).  Returns 0, or -errno with a sentence in err. */
int tcp_prepare(struct tcp_listener *l, char *err, size_t errlen);

/* Thread body: serve arg (a struct tcp_listener made ready by
 * tcp_prepare) until *stopping. */
void *tcp_main(void *arg);

#endif
