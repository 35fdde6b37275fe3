/*
 * lmtp.h - an LMTP server (RFC 2033) on the daemon base: LHLO, MAIL,
 * RCPT, DATA with dot-unstuffing, RSET, NOOP, VRFY, QUIT, pipelining,
 * and one reply per accepted recipient after the data.
 *
 * The server knows nothing of traps or stores: a handler says whether a
 * recipient is accepted, and delivers the messages that ended in one
 * round of the event loop together (lmtp_flush), so that the handler may
 * commit them at once; each recipient's reply is the one it writes.
 *
 * Limits: a command line of LMTP_MAX_LINE bytes (longer: 500, the line
 * is dropped), max_size bytes of a message kept (the rest is read and
 * counted, never stored: the handler sees "truncated"), max_rcpt
 * recipients per message (452 past it), max_clients connections (421 past
 * it), idle_timeout seconds without a byte from a client (421, closed;
 * a message in the middle is dropped and its memory freed).
 *
 * SECURITY: every byte from the network is hostile; lines are bounded
 * before anything is kept, the message buffer grows to max_size at most.
 * Runs in the trap daemon after the privilege drop.
 */
#ifndef RBLKIT_LMTP_H
#define RBLKIT_LMTP_H

#include <stddef.h>
#include <stdint.h>

#include "base/evloop.h"

#define LMTP_MAX_LINE 2048      /* a command line, CRLF included */
#define LMTP_MAX_ADDR 256       /* a path (RFC 5321 4.5.3.1.3) */
#define LMTP_REPLY_MAX 256

/* One message as the handler sees it. */
struct lmtp_msg {
	char sender[LMTP_MAX_ADDR + 1];         /* "" for the null sender */
	char (*rcpt)[LMTP_MAX_ADDR + 1];        /* accepted recipients */
	unsigned nrcpt;
	char *data;                             /* the first max_size bytes, dot-unstuffed */
	size_t len;
	uint64_t size;                          /* bytes in all */
	int truncated;                          /* size > len */
	/* One reply per recipient, "250 2.0.0 ..." / "451 4.3.0 ...", no CRLF,
	 * written by the handler's deliver. */
	char (*reply)[LMTP_REPLY_MAX];
};

struct lmtp_handler {
	/* Accept addr as a recipient: 0, or -1 with the reply ("550 5.1.1
	 * ...") in reply. */
	int (*rcpt)(void *arg, const char *addr, char *reply, size_t len);
	/* Deliver msgs[0..n): fill every msgs[i]->reply[j]. */
	void (*deliver)(void *arg, struct lmtp_msg *const *msgs, size_t n);
	void *arg;
};

struct lmtp_conf {
	const char *hostname;   /* in the greeting and LHLO reply */
	size_t max_size;        /* bytes of a message kept (>= 1) */
	unsigned max_rcpt;      /* recipients per message (100) */
	unsigned max_clients;   /* connections at once (64) */
	unsigned idle_timeout;  /* seconds (300) */
};

/* Counters of a server's life. */
struct lmtp_stats {
	uint64_t connections, refused_full, idle_closed, dropped_mid;
	uint64_t messages, truncated, long_lines;
};

struct lmtp_server;

/* A server on loop ev with conf (copied; hostname too) and handler h.
 * Returns NULL with err set when out of memory. */
struct lmtp_server *lmtp_new(ev_loop *ev, const struct lmtp_conf *conf,
			     const struct lmtp_handler *h, char *err, size_t errlen);

/* Accept connections on the bound, listening, non-blocking socket fd
 * (the caller keeps it and closes it after lmtp_free).  0 or -errno. */
int lmtp_listen(struct lmtp_server *s, int fd);

/* After each round of the loop: deliver the messages that ended in it
 * (one handler call), send their replies, go on with what the clients
 * pipelined behind them, and free closed connections. */
void lmtp_flush(struct lmtp_server *s);

/* Connections open now. */
unsigned lmtp_clients(const struct lmtp_server *s);
const struct lmtp_stats *lmtp_stats(const struct lmtp_server *s);

/* Close every connection (messages not delivered are dropped: their
 * clients got no reply and will retry) and free s (NULL: nothing). */
void lmtp_free(struct lmtp_server *s);

#endif
