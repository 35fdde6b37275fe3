/*
 * server.h - the DNS server: listeners, worker threads, reloads.
 *
 * UDP: one socket per worker thread and address (SO_REUSEPORT), read and
 * answered in batches with recvmmsg/sendmmsg. TCP: one event-loop thread
 * per address (tcp.c), several queries per connection, output that never
 * blocks, deadlines, AXFR on threads of their own. The zone set in use is
 * one pointer (snap.c); a reload builds a new set in the main thread and
 * swaps it in; the old one is freed once every worker has passed a
 * quiescent point and no zone transfer holds it, so queries never wait on
 * a lock and a reload never waits for a client.
 *
 * SECURITY: receives untrusted packets on the network, as the
 * unprivileged user after start-up (binds first, then drops privileges).
 */
#ifndef RBLKIT_SERVER_H
#define RBLKIT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "serve/axfr.h"
#include "serve/dataset.h"
#include "serve/zone.h"

struct server_opts {
	char **binds;           /* "addr/port" or "addr" (port 53) */
	unsigned nbinds;
	int family;             /* 0, or AF_INET / AF_INET6 for -4 / -6 */
	int threads;            /* 0: the CPUs we may run on */
	const char *user, *rootdir, *workdir, *pidfile;
	uint32_t check_interval;        /* seconds, 0 = no automatic check */
	int lazy;               /* -a */
	const char *version;    /* version.bind answer, NULL: refuse */
	const char *http;       /* "addr/port" for Prometheus metrics */
	const char *statsfile;  /* -s: "+file" writes deltas */
	const char *querylog;   /* -l: "+file" unbuffered, "-" stdout */
	int check_only;         /* --check: load, report, exit */
	int tcp_idle_ms;
	struct axfr_acl *allow_transfer;        /* NULL: loopback only */
	char **notify;          /* --notify "ADDR[:PORT]" targets */
	unsigned nnotify;
	const char *xdp;        /* --xdp IFACE[@QUEUES] (xdp.h), or NULL */
	int xdp_fallback;       /* XDP unavailable: sockets only, with a warning */
	struct ds_opts ds;
	struct zone_spec *specs;
	unsigned nspecs;
};

/* What server_run() returns: SERVER_OK, or what failed (the front end
 * may add a hint of its own to the text). */
enum server_status {
	SERVER_OK = 0,          /* stopped by SIGTERM/SIGINT; --check: no errors */
	SERVER_DATA_ERRORS,     /* --check: the data has errors */
	SERVER_NO_ADDRESS,      /* no listen address given */
	SERVER_NO_ZONES,        /* no zone given */
	SERVER_BAD_ADDRESS,     /* a listen address that does not parse */
	SERVER_LISTEN,          /* cannot bind or listen */
	SERVER_PRIVILEGES,      /* the privilege drop failed */
	SERVER_LOAD,            /* the first load failed */
	SERVER_START,           /* threads, NOTIFY, query log */
	SERVER_XDP,             /* AF_XDP could not be set up (no fallback) */
};

/* Bind, load, drop privileges and serve until SIGTERM/SIGINT; with
 * o->check_only, load and report.  Returns SERVER_OK, or a status with a
 * sentence in err (it names no command-line option).  After SERVER_OK
 * from serving, threads that never block the exit (UDP workers in
 * recvmmsg, running zone transfers) may still exist: the caller ends the
 * process without freeing what they may read (o and its contents).  After
 * a failure part-way the process must end too (privileges may be half
 * dropped). */
int server_run(struct server_opts *o, char *err, size_t errlen);

#endif
