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
	struct ds_opts ds;
	struct zone_spec *specs;
	unsigned nspecs;
};

/* Bind, load, drop privileges and serve until SIGTERM/SIGINT. Returns
 * the process exit status; start-up errors are logged. */
int server_run(struct server_opts *o);

#endif
