/*
 * xdp.h - the AF_XDP fast path of the server (serve --xdp IFACE[@QUEUES]):
 * UDP queries to our listen addresses on one interface are taken from the
 * driver by an XDP program (src/bpf/xdp_dns.bpf.c) and answered by one
 * thread per receive queue through AF_XDP sockets, with the socket path's
 * query code (query_answer()); everything else (TCP, ICMP, ARP, other
 * ports) takes the kernel's normal path.
 *
 * The program is attached through a BPF link: the kernel detaches it when
 * the last reference goes, so a crashed or killed server leaves nothing
 * behind; a program of ours attached the old way (netlink) is replaced.
 *
 * SECURITY: xdp_open() runs as root before the privilege drop (it needs
 * CAP_BPF / CAP_SYS_ADMIN and CAP_NET_ADMIN); xdp_serve() reads untrusted
 * frames (xdp_pkt.c) as the unprivileged user.
 */
#ifndef RBLKIT_XDP_H
#define RBLKIT_XDP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "serve/query.h"
#include "serve/snap.h"

#define XDP_MAX_QUEUES 64

struct xdp_server;

/* Set up spec "IFACE[@QUEUES]" (QUEUES: queue numbers and ranges, "0-3,6";
 * default every receive queue) for UDP to the n listen addresses (a
 * wildcard address takes every address of its family): load the program,
 * one AF_XDP socket per queue (zero-copy where the driver has it, copy
 * otherwise), attach in native mode or else in generic (skb) mode.
 * Returns the server (freed by xdp_close()), or NULL with one sentence in
 * err saying why. */
struct xdp_server *xdp_open(const char *spec, const struct sockaddr_storage *addrs,
			    unsigned n, char *err, size_t errlen);

/* The number of queues served (one thread each). */
unsigned xdp_nqueues(const struct xdp_server *x);

/* What the thread of one queue needs from the server. */
struct xdp_run {
	struct snap_reader *rd;
	struct query_ctx qc;            /* stats, version, lazy, xfr_allow */
	int querylog;
	atomic_int *stopping;
};

/* Serve queue i (0 <= i < xdp_nqueues()) until *r->stopping is set
 * (within 0.1 s).  Never fails: a frame that cannot be answered is
 * dropped, as a busy socket server drops. */
void xdp_serve(struct xdp_server *x, unsigned i, struct xdp_run *r);

struct xsk_ring_prod;

/* Put the n frame addresses at addr on the fill ring, after the nheld
 * frames that were held back at held[] (room for every frame of the
 * queue); returns how many are held back now.  The kernel publishes what
 * it took from the fill ring lazily (at the end of a receive batch), so a
 * frame can come back through RX, TX and completion while its old fill
 * entry still counts as used: the ring then looks full although every
 * frame is accounted for.  Those frames wait in held[] for the next call
 * instead of being lost or ending the server. */
unsigned xdp_fill_put(struct xsk_ring_prod *fill, uint64_t *held, unsigned nheld,
		      const uint64_t *addr, unsigned n);

/* Detach the program and free everything, after the threads stopped. */
void xdp_close(struct xdp_server *x);

#endif
