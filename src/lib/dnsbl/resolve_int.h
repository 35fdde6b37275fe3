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

enum rs_qstate { Q_FREE, Q_QUEUED, Q_UDP, Q_TCP, Q_UB };

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
	uint64_t t_first, deadline;
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

struct rs_sock {
	int fd;
	unsigned server;
	struct rs_ref ref;
	struct rs_query **byid;		/* 65536 slots */
	/* pending batch */
	unsigned nout;
	struct mmsghdr out[RS_BATCH];
	struct iovec outv[RS_BATCH];
	uint8_t outbuf[RS_BATCH][RS_QPKT];
};

struct rs_list {
	struct rs_query *head, *tail;
	size_t n;
};

struct resolver {
	struct rs_opts o;
	int ep;
	struct sockaddr_storage srv[RS_MAX_SERVERS];
	socklen_t srvlen[RS_MAX_SERVERS];
	unsigned nsrv;
	/* groups of servers: 0 is the resolver's own (none when recursive),
	 * the others were added with rs_add_group() */
	struct { unsigned first, n; } group[RS_MAX_GROUPS];
	unsigned ngroups;
	struct rs_sock *socks[RS_MAX_SERVERS * RS_SOCKS];
	unsigned nsocks, next_sock;
	struct rs_list queue, flight, ubflight, free;
	size_t pending;
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

/* ---- resolve.c ---- */

enum resp_via { RESP_UDP, RESP_TCP, RESP_UB };

/* Watch fd for events on the resolver's epoll set; ref says what it is.
 * Returns epoll_ctl()'s result (-1 with errno set). */
int rs_ep_add(struct resolver *rs, int fd, uint32_t events, struct rs_ref *ref);
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
