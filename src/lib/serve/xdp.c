/*
 * xdp.c - the AF_XDP fast path; see xdp.h.  Frames are read and written
 * by xdp_pkt.c, queries answered by query.c as on the socket path.
 *
 * Each queue has its own UMEM of XDP_FRAMES frames, so a frame is always
 * in exactly one place (fill ring, the kernel, the RX ring, this thread,
 * the TX ring, the completion ring).  The RX, TX and completion rings
 * have XDP_FRAMES entries, so a reserve on the TX ring never finds it
 * full; the fill ring has twice as many, since the kernel publishes what
 * it consumed from it late (xdp_fill_put() holds frames back in the rare
 * case it still looks full).  A query is
 * answered in the frame it came in: the answer is written after the
 * headers, the headers are turned round, and the same frame goes out.
 *
 * SECURITY: see xdp.h.  The frames are untrusted and are parsed with
 * bounds checks (xdp_pkt.c); the DNS payload is copied out before the
 * answer is written over it.  Only frames the XDP program redirected
 * arrive here: UDP to our addresses and port.
 */
#define _GNU_SOURCE
#include "serve/xdp.h"
#include "serve/qlog.h"
#include "serve/xdp_pkt.h"
#include "base/dynlib.h"
#include "base/util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

/* libxdp (and the libbpf it brings) is opened when --xdp is given
 * (base/dynlib.h): serving from sockets, and every other command, does
 * not map them.  dlsym on libxdp's handle finds libbpf's functions too. */
#define XDL_FUNCS(X) \
	X(xsk_umem__create) \
	X(xsk_umem__delete) \
	X(xsk_socket__create) \
	X(xsk_socket__delete) \
	X(xsk_socket__fd) \
	X(xsk_socket__update_xskmap) \
	X(libbpf_set_print) \
	X(bpf_xdp_query_id) \
	X(bpf_xdp_detach) \
	X(bpf_object__find_map_fd_by_name) \
	X(bpf_link_create) \
	X(bpf_program__fd) \
	X(bpf_prog_get_fd_by_id) \
	X(bpf_object__open_mem) \
	X(bpf_object__load) \
	X(bpf_object__find_program_by_name) \
	X(bpf_object__close) \
	X(bpf_obj_get_info_by_fd) \
	X(bpf_map_update_elem)
static struct { XDL_FUNCS(DYNLIB_SLOT) } xdl;
DYNLIB_DEFINE(xdl_lib, xdl, XDL_FUNCS, "libxdp.so.1", "libxdp1");
#define xsk_umem__create xdl.xsk_umem__create
#define xsk_umem__delete xdl.xsk_umem__delete
#define xsk_socket__create xdl.xsk_socket__create
#define xsk_socket__delete xdl.xsk_socket__delete
#define xsk_socket__fd xdl.xsk_socket__fd
#define xsk_socket__update_xskmap xdl.xsk_socket__update_xskmap
#define libbpf_set_print xdl.libbpf_set_print
#define bpf_xdp_query_id xdl.bpf_xdp_query_id
#define bpf_xdp_detach xdl.bpf_xdp_detach
#define bpf_object__find_map_fd_by_name xdl.bpf_object__find_map_fd_by_name
#define bpf_link_create xdl.bpf_link_create
#define bpf_program__fd xdl.bpf_program__fd
#define bpf_prog_get_fd_by_id xdl.bpf_prog_get_fd_by_id
#define bpf_object__open_mem xdl.bpf_object__open_mem
#define bpf_object__load xdl.bpf_object__load
#define bpf_object__find_program_by_name xdl.bpf_object__find_program_by_name
#define bpf_object__close xdl.bpf_object__close
#define bpf_obj_get_info_by_fd xdl.bpf_obj_get_info_by_fd
#define bpf_map_update_elem xdl.bpf_map_update_elem

#define XDP_FRAMES 2048         /* per queue; also every ring's size */
#define XDP_FRAME XSK_UMEM__DEFAULT_FRAME_SIZE  /* 4096 */
#define BATCH 32
#define UDP_IN 2048             /* as the socket path (server.c) */
#define UDP_OUT 1280
#define PROG_NAME "rblkit_xdp_dns"

/* The XDP program, built with clang -target bpf (src/bpf/xdp_obj.S);
 * empty when clang was missing at build time. */
extern const unsigned char rblkit_xdp_obj[], rblkit_xdp_obj_end[];

/* Must match struct xdp_key in src/bpf/xdp_dns.bpf.c. */
struct xdp_key {
	uint32_t family;
	uint16_t port;
	uint16_t pad;
	uint8_t addr[16];
};

struct xdp_queue {
	unsigned id;
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	unsigned tx_out;        /* frames sent and not completed */
	unsigned nheld;         /* frames waiting for room on the fill ring */
	uint64_t held[XDP_FRAMES];
	int zerocopy;
};

struct xdp_server {
	char ifname[IF_NAMESIZE];
	int ifindex;
	struct bpf_object *obj;
	int link_fd;
	unsigned nq;
	struct xdp_queue q[XDP_MAX_QUEUES];
};

/* --- the spec: IFACE[@QUEUES] --- */

/* The receive queues of ifname, from sysfs; at least 1. */
static unsigned rx_queues(const char *ifname)
{
	char path[128];
	DIR *d;
	struct dirent *e;
	unsigned n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	if (!(d = opendir(path)))
		return 1;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "rx-", 3))
			n++;
	closedir(d);
	return n ? n : 1;
}

/* One number 0..XDP_MAX_QUEUES-1 at *s; advances *s. -1 if none. */
static int queue_number(const char **s)
{
	int v = 0, digits = 0;

	while (**s >= '0' && **s <= '9' && digits < 4) {
		v = v * 10 + (**s - '0');
		(*s)++;
		digits++;
	}
	return digits && v < XDP_MAX_QUEUES ? v : -1;
}

/* QUEUES: "N", "N-M", comma separated, into x->q[].id. */
static int parse_queues(struct xdp_server *x, const char *s, char *err, size_t el)
{
	unsigned char seen[XDP_MAX_QUEUES] = { 0 };

	while (*s) {
		int lo = queue_number(&s), hi = lo;

		if (lo >= 0 && *s == '-') {
			s++;
			hi = queue_number(&s);
		}
		if (lo < 0 || hi < lo || (*s && *s != ',')) {
			snprintf(err, el, "invalid queue list after '@' (expected "
				 "numbers below %d and ranges, like 0-3,6)", XDP_MAX_QUEUES);
			return -1;
		}
		for (int q = lo; q <= hi; q++)
			if (!seen[q]++)
				x->q[x->nq++].id = (unsigned)q;
		if (*s == ',')
			s++;
	}
	if (!x->nq) {
		snprintf(err, el, "no queue after '@'");
		return -1;
	}
	return 0;
}

static int parse_spec(struct xdp_server *x, const char *spec, char *err, size_t el)
{
	const char *at = strchr(spec, '@');
	size_t len = at ? (size_t)(at - spec) : strlen(spec);

	if (!len || len >= sizeof(x->ifname)) {
		snprintf(err, el, "invalid interface name '%.*s'", (int)len, spec);
		return -1;
	}
	memcpy(x->ifname, spec, len);
	x->ifname[len] = 0;
	if (!(x->ifindex = (int)if_nametoindex(x->ifname))) {
		snprintf(err, el, "no interface %s", x->ifname);
		return -1;
	}
	if (at)
		return parse_queues(x, at + 1, err, el);
	x->nq = rx_queues(x->ifname);
	if (x->nq > XDP_MAX_QUEUES)
		x->nq = XDP_MAX_QUEUES;
	for (unsigned i = 0; i < x->nq; i++)
		x->q[i].id = i;
	return 0;
}

/* --- the program --- */

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;       /* our errors say why in one line */
}

static const char *cap_hint(int e)
{
	return e == EPERM || e == EACCES ?
	       " (needs root: CAP_BPF, CAP_NET_ADMIN and CAP_IPC_LOCK)" : "";
}

/* A program already on the interface: ours from a run that did not
 * detach it (attached the old way) is removed; anything else is an
 * error. */
static int clear_stale(struct xdp_server *x, char *err, size_t el)
{
	struct bpf_prog_info info;
	uint32_t id = 0, len = sizeof(info);
	int fd;

	if (bpf_xdp_query_id(x->ifindex, 0, &id) || !id)
		return 0;
	memset(&info, 0, sizeof(info));
	if ((fd = bpf_prog_get_fd_by_id(id)) < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		if (fd >= 0)
			close(fd);
		snprintf(err, el, "%s already has an XDP program (id %u)", x->ifname, id);
		return -1;
	}
	close(fd);
	if (strcmp(info.name, PROG_NAME)) {
		snprintf(err, el, "%s already has an XDP program (%s, id %u)", x->ifname,
			 info.name, id);
		return -1;
	}
	/* a program attached through a link (a running server) stays */
	(void)bpf_xdp_detach(x->ifindex, 0, NULL);
	(void)bpf_xdp_detach(x->ifindex, XDP_FLAGS_SKB_MODE, NULL);
	if (bpf_xdp_query_id(x->ifindex, 0, &id) == 0 && id) {
		snprintf(err, el, "%s is served by another rblkit serve --xdp "
			 "(program id %u)", x->ifname, id);
		return -1;
	}
	log_info("%s: removed the XDP program of an earlier run (id %u)", x->ifname,
		 info.id);
	return 0;
}

static int load_program(struct xdp_server *x, const struct sockaddr_storage *addrs,
			unsigned n, char *err, size_t el)
{
	size_t size = (size_t)(rblkit_xdp_obj_end - rblkit_xdp_obj);
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "rblkit_xdp");
	int fd, rc;

	if (!size) {
		snprintf(err, el, "this rblkit was built without its XDP program "
			 "(clang was missing at build time)");
		return -1;
	}
	libbpf_set_print(quiet);
	x->obj = bpf_object__open_mem(rblkit_xdp_obj, size, &oo);
	if (!x->obj) {
		x->obj = NULL;
		snprintf(err, el, "cannot open the XDP program: %s", strerror(errno));
		return -1;
	}
	if ((rc = bpf_object__load(x->obj))) {
		snprintf(err, el, "cannot load the XDP program: %s%s", strerror(-rc),
			 cap_hint(-rc));
		return -1;
	}
	fd = bpf_object__find_map_fd_by_name(x->obj, "ours");
	for (unsigned i = 0; i < n; i++) {
		struct xdp_key k = { 0 };
		uint8_t one = 1;

		if (addrs[i].ss_family == AF_INET) {
			const struct sockaddr_in *s = (const void *)&addrs[i];

			k.family = 4;
			k.port = s->sin_port;
			memcpy(k.addr, &s->sin_addr, 4);
		} else if (addrs[i].ss_family == AF_INET6) {
			const struct sockaddr_in6 *s = (const void *)&addrs[i];

			k.family = 6;
			k.port = s->sin6_port;
			memcpy(k.addr, &s->sin6_addr, 16);
		} else {
			continue;
		}
		if (fd < 0 || bpf_map_update_elem(fd, &k, &one, BPF_ANY)) {
			snprintf(err, el, "cannot set up the XDP program's addresses: %s",
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Attach: native mode, else generic (skb) mode with a log line. */
static int attach(struct xdp_server *x, char *err, size_t el)
{
	struct bpf_program *p = bpf_object__find_program_by_name(x->obj, PROG_NAME);
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = XDP_FLAGS_DRV_MODE);
	int pfd = p ? bpf_program__fd(p) : -1, e;

	x->link_fd = bpf_link_create(pfd, x->ifindex, BPF_XDP, &lo);
	if (x->link_fd >= 0)
		return 0;
	e = errno;
	if (e == EPERM || e == EACCES || e == EBUSY || e == EEXIST) {
		snprintf(err, el, "cannot attach the XDP program to %s: %s%s", x->ifname,
			 strerror(e), e == EBUSY || e == EEXIST ?
			 " (another XDP program is attached)" : cap_hint(e));
		return -1;
	}
	lo.flags = XDP_FLAGS_SKB_MODE;
	x->link_fd = bpf_link_create(pfd, x->ifindex, BPF_XDP, &lo);
	if (x->link_fd < 0) {
		snprintf(err, el, "cannot attach the XDP program to %s: %s", x->ifname,
			 strerror(errno));
		return -1;
	}
	log_warn("%s: the driver has no native XDP (%s): generic (skb) mode, slower",
		 x->ifname, strerror(e));
	return 0;
}

/* --- sockets --- */

static int make_socket(struct xdp_server *x, struct xdp_queue *q, int zerocopy)
{
	struct xsk_umem_config uc = {
		.fill_size = 2 * XDP_FRAMES, .comp_size = XDP_FRAMES,
		.frame_size = XDP_FRAME, .frame_headroom = 0,
	};
	struct xsk_socket_config sc = {
		.rx_size = XDP_FRAMES, .tx_size = XDP_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = (uint16_t)((zerocopy ? XDP_ZEROCOPY : XDP_COPY) |
					 XDP_USE_NEED_WAKEUP),
	};
	int rc = xsk_umem__create(&q->umem, q->area, (uint64_t)XDP_FRAMES * XDP_FRAME,
				  &q->fill, &q->comp, &uc);

	if (rc)
		return rc;
	rc = xsk_socket__create(&q->xsk, x->ifname, q->id, q->umem, &q->rx, &q->tx, &sc);
	if (rc) {
		q->xsk = NULL;
		xsk_umem__delete(q->umem);
		q->umem = NULL;
	}
	return rc;
}

static int open_queue(struct xdp_server *x, struct xdp_queue *q, char *err, size_t el)
{
	uint32_t idx;
	int rc, map = bpf_object__find_map_fd_by_name(x->obj, "xsks");

	q->area = mmap(NULL, (size_t)XDP_FRAMES * XDP_FRAME, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		snprintf(err, el, "cannot allocate the AF_XDP frames: %s", strerror(errno));
		return -1;
	}
	/* EBUSY: the queue is still bound to the socket of a run that just
	 * ended (killed, restarted by systemd): the kernel releases it
	 * shortly after the process is gone; wait for it, up to 5 s */
	for (unsigned tries = 0;; tries++) {
		q->zerocopy = 1;
		if ((rc = make_socket(x, q, 1)) == 0)
			break;
		q->zerocopy = 0;
		if ((rc = make_socket(x, q, 0)) == 0)
			break;
		if (rc != -EBUSY || tries == 50) {
			snprintf(err, el, "cannot open an AF_XDP socket on %s queue %u: %s%s",
				 x->ifname, q->id, strerror(-rc), cap_hint(-rc));
			return -1;
		}
		if (tries == 0)
			log_info("AF_XDP on %s queue %u: busy (a socket of an earlier run being "
				 "released?): waiting up to 5 s", x->ifname, q->id);
		usleep(100 * 1000);
	}
	if ((rc = xsk_socket__update_xskmap(q->xsk, map))) {
		snprintf(err, el, "cannot register the AF_XDP socket of %s queue %u: %s",
			 x->ifname, q->id, strerror(-rc));
		return -1;
	}
	if (xsk_ring_prod__reserve(&q->fill, XDP_FRAMES, &idx) != XDP_FRAMES)
		panic("AF_XDP fill ring smaller than its frames");
	for (uint64_t i = 0; i < XDP_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&q->fill, idx + (uint32_t)i) = i * XDP_FRAME;
	xsk_ring_prod__submit(&q->fill, XDP_FRAMES);
	return 0;
}

struct xdp_server *xdp_open(const char *spec, const struct sockaddr_storage *addrs,
			    unsigned n, char *err, size_t el)
{
	struct xdp_server *x = xcalloc(1, sizeof(*x));
	unsigned zc = 0;

	x->link_fd = -1;
	if (dynlib_load(&xdl_lib, err, el) < 0)
		goto fail;
	if (parse_spec(x, spec, err, el) || clear_stale(x, err, el) ||
	    load_program(x, addrs, n, err, el))
		goto fail;
	for (unsigned i = 0; i < x->nq; i++) {
		if (open_queue(x, &x->q[i], err, el))
			goto fail;
		zc += (unsigned)x->q[i].zerocopy;
	}
	if (attach(x, err, el))
		goto fail;
	log_info("%s: AF_XDP on %u queue%s (%s)", x->ifname, x->nq, x->nq == 1 ? "" : "s",
		 zc == x->nq ? "zero-copy" : zc ? "partly zero-copy" : "copy mode");
	return x;
fail:
	xdp_close(x);
	return NULL;
}

unsigned xdp_nqueues(const struct xdp_server *x)
{
	return x->nq;
}

void xdp_close(struct xdp_server *x)
{
	if (!x)
		return;
	if (x->link_fd >= 0)
		close(x->link_fd);      /* detaches the program */
	for (unsigned i = 0; i < x->nq; i++) {
		struct xdp_queue *q = &x->q[i];

		if (q->xsk)
			xsk_socket__delete(q->xsk);
		if (q->umem)
			xsk_umem__delete(q->umem);
		if (q->area)
			munmap(q->area, (size_t)XDP_FRAMES * XDP_FRAME);
	}
	if (x->obj)
		bpf_object__close(x->obj);
	free(x);
}

/* --- serving --- */

unsigned xdp_fill_put(struct xsk_ring_prod *fill, uint64_t *held, unsigned nheld,
		      const uint64_t *addr, unsigned n)
{
	uint32_t idx, k;

	if (!nheld && n && xsk_ring_prod__reserve(fill, n, &idx) == n) {
		for (unsigned i = 0; i < n; i++)       /* the usual case */
			*xsk_ring_prod__fill_addr(fill, idx + i) = xsk_umem__extract_addr(addr[i]);
		xsk_ring_prod__submit(fill, n);
		return 0;
	}
	if (n)
		memcpy(held + nheld, addr, n * sizeof(*addr));
	nheld += n;
	k = xsk_prod_nb_free(fill, nheld);
	if (k > nheld)
		k = nheld;
	if (!k || xsk_ring_prod__reserve(fill, k, &idx) != k)
		return nheld;
	for (uint32_t i = 0; i < k; i++)
		*xsk_ring_prod__fill_addr(fill, idx + i) = xsk_umem__extract_addr(held[i]);
	xsk_ring_prod__submit(fill, k);
	memmove(held, held + k, (nheld - k) * sizeof(*held));
	return nheld - k;
}

/* Give n frames back to the kernel for receiving.  q->held has room for
 * all: the frames it and addr hold are distinct frames of this queue. */
static void refill(struct xdp_queue *q, const uint64_t *addr, unsigned n)
{
	if (n || q->nheld)
		q->nheld = xdp_fill_put(&q->fill, q->held, q->nheld, addr, n);
}

/* Frames whose answers went out go back to the fill ring. */
static void reap(struct xdp_queue *q)
{
	uint64_t addr[BATCH];
	uint32_t idx;
	unsigned n;

	while ((n = xsk_ring_cons__peek(&q->comp, BATCH, &idx)) > 0) {
		for (unsigned i = 0; i < n; i++)
			addr[i] = *xsk_ring_cons__comp_addr(&q->comp, idx + i);
		xsk_ring_cons__release(&q->comp, n);
		q->tx_out -= n;
		refill(q, addr, n);
	}
}

/* Copy mode sends in the system call: ask for it when the kernel wants. */
static void kick(struct xdp_queue *q)
{
	if (q->tx_out && xsk_ring_prod__needs_wakeup(&q->tx))
		(void)sendto(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0);
}

/* One batch of frames handled into answers (tx) and drops. */
struct batch {
	uint8_t in[BATCH][UDP_IN];      /* the queries, for the query log */
	size_t inlen[BATCH];
	struct xdp_pkt pkt[BATCH];
	uint64_t tx[BATCH], drop[BATCH];
	uint32_t txlen[BATCH];
	size_t outlen[BATCH];
	unsigned ntx, ndrop;
};

/* Answer the frame at addr (len bytes) in place; 0 when it goes out. */
static int answer_frame(struct xdp_queue *q, struct xdp_run *r, struct batch *b,
			uint64_t addr, uint32_t len)
{
	uint8_t *f = xsk_umem__get_data(q->area, addr);
	size_t room = XDP_FRAME - xsk_umem__extract_offset(addr), out;
	struct xdp_pkt *p = &b->pkt[b->ntx];
	unsigned k = b->ntx;

	if (xdp_pkt_parse(f, len, p) || room < p->payload + UDP_OUT)
		return -1;
	/* as recvmmsg into UDP_IN bytes: a longer datagram is cut */
	b->inlen[k] = p->paylen < UDP_IN ? p->paylen : UDP_IN;
	memcpy(b->in[k], f + p->payload, b->inlen[k]);
	r->qc.peer = (const struct sockaddr *)&p->peer;
	out = query_answer(&r->qc, b->in[k], b->inlen[k], f + p->payload, UDP_OUT);
	if (!out)
		return -1;
	b->outlen[k] = out;
	b->tx[k] = addr;
	b->txlen[k] = (uint32_t)xdp_pkt_reply(f, p, out);
	b->ntx++;
	return 0;
}

static void send_batch(struct xdp_queue *q, struct xdp_run *r, struct batch *b)
{
	uint32_t idx;

	for (unsigned j = 0; r->querylog && j < b->ntx; j++)   /* outside the section */
		qlog_query((const struct sockaddr *)&b->pkt[j].peer, b->in[j], b->inlen[j],
			   (uint8_t *)xsk_umem__get_data(q->area, b->tx[j]) + b->pkt[j].payload,
			   b->outlen[j]);
	if (b->ntx) {
		if (xsk_ring_prod__reserve(&q->tx, b->ntx, &idx) != b->ntx)
			panic("AF_XDP TX ring full: a frame was counted twice");
		for (unsigned j = 0; j < b->ntx; j++) {
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&q->tx, idx + j);

			d->addr = b->tx[j];
			d->len = b->txlen[j];
		}
		xsk_ring_prod__submit(&q->tx, b->ntx);
		q->tx_out += b->ntx;
		kick(q);
	}
	refill(q, b->drop, b->ndrop);
}

void xdp_serve(struct xdp_server *x, unsigned i, struct xdp_run *r)
{
	struct xdp_queue *q = &x->q[i];
	struct batch *b = xcalloc(1, sizeof(*b));
	struct pollfd pfd = { .fd = xsk_socket__fd(q->xsk), .events = POLLIN };

	while (!atomic_load(r->stopping)) {
		uint32_t idx;
		unsigned n;

		reap(q);
		refill(q, NULL, 0);     /* frames held back, if any */
		n = xsk_ring_cons__peek(&q->rx, BATCH, &idx);
		if (!n) {
			kick(q);
			(void)poll(&pfd, 1, q->tx_out || q->nheld ? 1 : 100);
			continue;
		}
		b->ntx = b->ndrop = 0;
		r->qc.zs = snap_enter(r->rd);
		for (unsigned k = 0; k < n; k++) {
			const struct xdp_desc *d = xsk_ring_cons__rx_desc(&q->rx, idx + k);

			if (answer_frame(q, r, b, d->addr, d->len))
				b->drop[b->ndrop++] = d->addr;
		}
		snap_leave(r->rd);
		xsk_ring_cons__release(&q->rx, n);
		send_batch(q, r, b);
	}
	free(b);
}
