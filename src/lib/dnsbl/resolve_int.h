/*
 * resolve_int.h - what the files of the resolver share and nobody else
 * sees: the query, socket and resolver structs, and the few functions
 * resolve.c and resolve_tcp.c call in each other.  Not installed, not
 * for other modules: they use resolve.h.
 *
 * SECURITY: declarations only; see resolve.c and resolve_tcp.c.
 */
#ifndef RBLKIT_RESOLVE_INT_H
#define RBLKIT_RESOLVE_INT_H

#include "dnsbl/resolve.h"
#include "base/dname.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* struct mmsghdr: the including file defines _GNU_SOURCE first. */
struct ub_ctx;

#define RS_SOCKS	4	/* UDP sockets per server */
#define RS_BATCH	64	/* datagrams per sendmmsg/recvmmsg */
#define RS_PKT		4096	/* receive buffer per datagram */
#define RS_QPKT		(12 + 256 + 4 + 11)	/* largest query we send */
#define RS_EDNS_SIZE	1232
#define RS_MAX_SERVERS	32
#define RS_MAX_GROUPS	16
#define RS_RTO_MIN_MS	50	/* floor of the retransmission timeout */
#define RS_RTO_INIT_MS	1000	/* before the first sample (RFC 6298) */
#define RS_CWND_INIT	8	/* slow start begins here */
#define RS_BACKOFF_MAX	6	/* RTO doublings at most */
#define RS_RCVBUF_SLOT	2048	/* receive buffer per answer in flight */

/* Q_RETRY: its try timed out; it waits (in its group's retry list) for
 * room in a window, while an answer to the earlier send still counts. */
enum rs_qstate { Q_FREE, Q_QUEUED, Q_UDP, Q_RETRY, Q_TCP, Q_UB };

struct rs_sock;

/* What an epoll event points at. */
struct rs_ref {
	enum { REF_UDP, REF_TCP, REF_UB } kind;
	void *p;
};

struct rs_query {
	uint8_t qname[DNAME_MAXLEN];
	uint16_t qlen, qtype, id;
	enum rs_qstate state;
	unsigned tries, server, group;
	uint64_t t_first, deadline;	/* ms: first send (0: not sent), the timer */
	uint64_t t_queued;		/* ms: rs_submit_group() */
	uint64_t giveup;		/* ms: end of the tries' time */
	uint64_t t_send_us;		/* the last send, for the RTT */
	uint64_t seq;			/* of the last send, per server */
	unsigned sends;			/* UDP sends so far */
	uint32_t sent_mask;		/* servers it went to */
	bool counted;			/* in its server's flow.inflight */
	size_t hidx;			/* 1 + index in the timer heap; 0 */
	rs_callback *cb;
	void *arg;
	struct rs_sock *sock;		/* Q_UDP */
	struct rs_query *prev, *next;	/* queue, flight or free list */
	/* Q_TCP */
	int tcp_fd;
	struct rs_ref tcp_ref;
	uint8_t *tcp_buf;
	size_t tcp_len, tcp_pos;
	bool tcp_sent;
	/* Q_UB */
	int ub_id;
	struct resolver *rs;
};

struct rs_list {
	struct rs_query *head, *tail;
	size_t n;
};

struct rs_sock {
	int fd;
	unsigned server;
	struct rs_ref ref;
	struct rs_query **byid;		/* 65536 slots */
	/* loss detection: the server answers a socket's queries in order
	 * (one socket is one flow to one thread, even with SO_REUSEPORT) */
	struct rs_list sent;		/* Q_UDP, in send order */
	uint64_t rack_us;		/* send time of the latest-sent query
					   answered */
	/* pending batch */
	unsigned nout;
	struct mmsghdr out[RS_BATCH];
	struct iovec outv[RS_BATCH];
	uint8_t outbuf[RS_BATCH][RS_QPKT];
};

/* Flow control of one server, as TCP does it (resolve_flow.c): a
 * congestion window that starts small, grows while answers come back
 * (slow start, then one query per window of answers) and halves once per
 * loss event; the retransmission timeout from the measured round trip. */
struct rs_flow {
	unsigned max;		/* --window: the window never exceeds it */
	unsigned cwnd;		/* queries that may be in flight */
	unsigned ssthresh;	/* slow start below, additive increase above */
	unsigned acked;		/* answers towards the next increase */
	unsigned inflight;	/* UDP queries out and not yet lost */
	unsigned peak;		/* most in flight since it was last 0 */
	unsigned backoff;	/* RTO doublings since the last RTT sample */
	bool has_rtt;
	bool down;		/* nothing came back for a query's whole time */
	uint32_t srtt_us, rttvar_us;
	uint64_t seq;		/* sends so far */
	uint64_t recover;	/* seq at the last decrease: older losses are
				   the same event */
	uint64_t last_answer;	/* ms; 0: never */
	/* the window before a decrease that only an RTO caused: restored
	 * when a "lost" query is answered after all (0: nothing to undo) */
	unsigned undo_cwnd, undo_ssthresh;
};

struct rs_group {
	unsigned first, n;		/* servers */
	struct rs_list queue;		/* not sent yet (FIFO) */
	struct rs_list retry;		/* lost, waiting to go again */
	char why_timeout[200];		/* a query's error when its time is up,
					   naming the servers asked */
};

struct resolver {
	struct rs_opts o;
	int ep;
	struct sockaddr_storage srv[RS_MAX_SERVERS];
	socklen_t srvlen[RS_MAX_SERVERS];
	unsigned nsrv;
	/* groups of servers: 0 is the resolver's own (none when recursive),
	 * the others were added with rs_add_group() */
	struct rs_group group[RS_MAX_GROUPS];
	unsigned ngroups;
	struct rs_flow flow[RS_MAX_SERVERS];
	struct rs_sock *socks[RS_MAX_SERVERS * RS_SOCKS];
	unsigned nsocks, next_sock;
	struct rs_list ubflight, free;
	size_t nflight;			/* Q_UDP and Q_TCP */
	size_t pending;
	bool dirty;			/* submitted since the last fill */
	/* timers of Q_UDP, Q_RETRY and Q_TCP queries: a binary min-heap */
	struct rs_query **heap;
	size_t nheap, capheap;
	struct ub_ctx *ub;
	struct rs_ref ub_ref;
	/* receive batch */
	struct mmsghdr in[RS_BATCH];
	struct iovec inv[RS_BATCH];
	uint8_t (*inbuf)[RS_PKT];
	/* the answer handed to callbacks */
	struct rs_answer ans;
};

/* ---- query lists (FIFO, doubly linked) ---- */

static inline void list_push(struct rs_list *l, struct rs_query *q)
{
	q->next = NULL;
	q->prev = l->tail;
	if (l->tail)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
	l->n++;
}

static inline void list_del(struct rs_list *l, struct rs_query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		l->head = q->next;
	if (q->next)
		q->next->prev = q->prev;
	else
		l->tail = q->prev;
	q->prev = q->next = NULL;
	l->n--;
}

/* ---- resolve_flow.c: flow control and timers ---- */

/* A server's flow at the start: window RS_CWND_INIT (at most max), no
 * RTT sample, up. */
void rs_flow_init(struct rs_flow *f, unsigned max);
/* Queries that may go to the server now: the window less what is in
 * flight; a server that is down gets one probe at a time. */
unsigned rs_flow_room(const struct rs_flow *f);
/* A query went out: counts it in flight; returns its sequence number. */
uint64_t rs_flow_sent(struct rs_flow *f);
/* An answer came at now_ms.  counted: its query was still counted in
 * flight (not already taken as lost); rtt_us < 0: no sample (Karn's
 * rule: the query was sent more than once).  Grows the window. */
void rs_flow_answer(struct rs_flow *f, bool counted, int64_t rtt_us, uint64_t now_ms);
/* The send seq is lost: no longer in flight.  The first loss after the
 * last decrease halves the window (and, found by its RTO, doubles the
 * RTO); later losses of queries sent before that decrease are the same
 * event.  rack: a later query was answered, so the loss is certain; else
 * its RTO ran out, which a stalled server or a descheduled client also
 * causes. */
void rs_flow_loss(struct rs_flow *f, uint64_t seq, bool rack);
/* The query sent once as seq, taken as lost by its RTO, was answered
 * after all: when the window's last decrease came from RTOs alone, it
 * is undone (Eifel, RFC 3522). */
void rs_flow_spurious(struct rs_flow *f, uint64_t seq);
/* Whether a query sent at sent_us and still unanswered at now_us is lost
 * because one sent after it on the same socket, at rack_us, was answered
 * (RACK, RFC 8985): the server answers a socket's queries in order, give
 * or take a quarter of the round trip (1 ms at least).  Loses no time
 * waiting for the RTO on a server that dropped a burst. */
bool rs_flow_lost(const struct rs_flow *f, uint64_t rack_us, uint64_t sent_us,
		  uint64_t now_us);
/* A counted query ended without answer or loss (cancelled, TCP). */
void rs_flow_forget(struct rs_flow *f);
/* The retransmission timeout: SRTT + 4 RTTVAR (RS_RTO_INIT_MS before a
 * sample), at least RS_RTO_MIN_MS, doubled per backoff, at most cap_ms. */
unsigned rs_flow_rto_ms(const struct rs_flow *f, unsigned cap_ms);

/* Arm q's timer for deadline (ms), whether or not it is armed. */
void rs_timer_set(struct resolver *rs, struct rs_query *q, uint64_t deadline);
/* Disarm q's timer; nothing when it is not armed. */
void rs_timer_del(struct resolver *rs, struct rs_query *q);

/* ---- resolve.c ---- */

enum resp_via { RESP_UDP, RESP_TCP, RESP_UB };

/* Watch fd for events on the resolver's epoll set; ref says what it is.
 * Returns epoll_ctl()'s result (-1 with errno set). */
int rs_ep_add(struct resolver *rs, int fd, uint32_t events, struct rs_ref *ref);
/* Take q out of its list, timer, socket slot and window, as it is about
 * to change state; q->state is left as it was. */
void rs_query_detach(struct resolver *rs, struct rs_query *q);
/* Write q as a query packet (with its ID, RD and an OPT record) to p,
 * which has room for RS_QPKT bytes; returns the length. */
size_t rs_build_query(const struct rs_query *q, uint8_t *p);
/* End q with status st and the static text why; runs its callback.  q is
 * recycled: it must not be used afterwards. */
void rs_query_fail(struct resolver *rs, struct rs_query *q,
		   enum rs_status st, const char *why);
/* Check a response against q. Returns 1 when it is q's answer and q is
 * finished (callback run, q recycled), 2 when it is truncated (UDP), 0
 * when it is not q's. */
int rs_take_response(struct resolver *rs, struct rs_query *q,
		     const uint8_t *pkt, size_t len, enum resp_via via);

/* ---- resolve_tcp.c: TCP, for truncated answers ---- */

/* Move q (in flight over UDP, answer truncated) to TCP to the same
 * server.  On failure q ends with RS_ERROR. */
void rs_tcp_start(struct resolver *rs, struct rs_query *q);
/* q's TCP socket is ready: send the query or read the answer.  Ends q
 * with its answer, or with RS_ERROR when the connection fails. */
void rs_tcp_event(struct resolver *rs, struct rs_query *q);

#endif
