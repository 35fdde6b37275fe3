/*
 * serve.c - "rblkit serve": rbldnsd's command line, plus long options.
 *
 * SECURITY: command-line arguments only; see server.c for the network.
 */
#include "cmd.h"
#include "serve/notify.h"
#include "serve/server.h"
#include "base/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { OPT_ALLOW_TRANSFER = 1000, OPT_NOTIFY, OPT_XDP, OPT_XDP_FALLBACK };

void cmd_serve_help(void)
{
	printf(
"usage: rblkit serve [options] zone:type:file[,file...] ...\n"
"\n"
"Serve DNS blocklist zones. The command line is rbldnsd's: an rbldnsd\n"
"command line works with the binary name changed. Dataset types: ip4set,\n"
"ip4tset, ip4trie, ip6trie, ip6tset, dnset, generic, combined, acl; and\n"
"zone:store:DSN (DSN: sqlite:/path/list.db or postgresql://...) serves a\n"
"zone of the listing store (rblkit list), changes live within a second,\n"
"IXFR from its journal (docs/serve.md).\n"
"\n"
"  -b addr[/port]   listen on addr (port 53 by default); repeatable\n"
"  -4 | -6          IPv4 or IPv6 only\n"
"  -u user[:group]  drop privileges to user after binding\n"
"  -r dir           chroot to dir;  -w dir: then chdir to dir\n"
"  -t def:min:max   default, minimum and maximum TTL (default 35m)\n"
"  -c interval      check data files for changes this often (default 1m, 0 off)\n"
"  -e               allow host bits in CIDRs (127.0.0.1/24)\n"
"  -a / -A          leave NS out of positive answers / include them (default)\n"
"  -C               do not decompress gzip data files\n"
"  -v               answer version.bind with \"rblkit\"; -vv refuse it\n"
"  -p file          write the pid to file\n"
"  -s [+]file       append per-zone counters every -c interval, in\n"
"                   rbldnsd's format (+: deltas since the last line)\n"
"  -l [+]file       log every answered query (\"-\": stdout; +: unbuffered);\n"
"                   reopened on SIGHUP\n"
"  -n, -f, -q       accepted: rblkit stays in the foreground and reloads\n"
"                   never stop queries\n"
"  -d, -x, -X       refused: no BIND-format dump (use AXFR), no extensions\n"
"  --threads N      worker threads per address (default: the CPUs available)\n"
"  --http addr/port Prometheus metrics over HTTP\n"
"  --syslog         log to syslog instead of stderr\n"
"  --tcp-idle MS    close idle TCP connections after MS (default 10000)\n"
"  --check          load and check the data, report every data error\n"
"                   (file:line: why), exit 0 only if there is none\n"
"  --allow-transfer NET[,NET...]  clients that may AXFR/IXFR (repeatable;\n"
"                   default: loopback only, 127.0.0.0/8 and ::1)\n"
"  --notify ADDR[:PORT]  send NOTIFY to this secondary when a reload or a\n"
"                   store change moves the serial of a zone with an SOA\n"
"                   (repeatable)\n"
"  --xdp IFACE[@QUEUES]  answer UDP queries to the -b addresses arriving on\n"
"                   IFACE through AF_XDP, one thread per receive queue\n"
"                   (QUEUES: 0-3,6; default all); needs root (docs/serve.md)\n"
"  --xdp-fallback   when AF_XDP cannot be set up, warn and serve through\n"
"                   sockets instead of stopping\n"
"\n"
"Signals: SIGHUP re-reads the data files (and store zones whole), SIGUSR1 logs per-zone counters,\n"
"SIGTERM/SIGINT stop.\n");
}

/* -t def:min:max, each optional. */
static int parse_ttls(const char *s, struct ds_opts *d)
{
	uint32_t *f[3] = { &d->def_ttl, &d->min_ttl, &d->max_ttl };

	for (int i = 0; i < 3 && *s; i++) {
		if (*s != ':') {
			uint32_t v;
			const char *e = parse_time(s, &v);

			if (!e || (*e && *e != ':') || (i == 0 && !v))
				return -1;
			*f[i] = v;
			s = e;
		}
		if (*s == ':')
			s++;
	}
	if ((d->min_ttl && d->max_ttl && d->min_ttl > d->max_ttl) ||
	    (d->min_ttl && d->def_ttl < d->min_ttl) ||
	    (d->max_ttl && d->def_ttl > d->max_ttl))
		return -1;
	return 0;
}

/* A decimal number in lo..hi, digits only; -1 otherwise. */
static int parse_range(const char *s, int lo, int hi, int *out)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (*s - '0')) > hi)
			return -1;
	}
	if (v < lo)
		return -1;
	*out = (int)v;
	return 0;
}

/* One option (rbldnsd's letters, then our long ones). Returns 0, 1 when
 * the command is done (help), or -1 for a bad option or value (a bad
 * value is logged here; the caller points to the help). */
static int serve_option(int c, const char *arg, struct server_opts *o, int *vcount)
{
	uint32_t v;
	const char *e;

	switch (c) {
	case 'u': o->user = arg; break;
	case 'r': o->rootdir = arg; break;
	case 'w': o->workdir = arg; break;
	case 'b': o->binds[o->nbinds++] = (char *)arg; break;
	case '4': o->family = AF_INET; break;
	case '6': o->family = AF_INET6; break;
	case 't':
		if (parse_ttls(arg, &o->ds)) {
			log_err("invalid -t value '%s' (def:min:max)", arg);
			return -1;
		}
		break;
	case 'c':
		e = parse_time(arg, &v);
		if (!e || *e) {
			log_err("invalid -c value '%s'", arg);
			return -1;
		}
		o->check_interval = v;
		break;
	case 'e': o->ds.accept_in_cidr = 1; break;
	case 'C': o->ds.no_gzip = 1; break;
	case 'a': o->lazy = 1; break;
	case 'A': o->lazy = 0; break;
	case 'v':
		(*vcount)++;
		o->version = *vcount == 1 ? "rblkit" : NULL;
		break;
	case 'p': o->pidfile = arg; break;
	case 's': o->statsfile = arg; break;
	case 'l': o->querylog = arg; break;
	case 'n': case 'f': case 'q': break;
	case 'd':
		log_err("-d (dump zones in BIND format) is not supported; "
			"use AXFR (dig axfr ZONE @server) instead");
		return -1;
	case 'x': case 'X':
		log_err("-%c: extensions are not supported", c);
		return -1;
	case 'T':
		if (parse_range(arg, 1, 64, &o->threads)) {
			log_err("--threads must be 1..64");
			return -1;
		}
		break;
	case 'H': o->http = arg; break;
	case 'S': log_use_syslog("rblkit"); break;
	case 'I':
		if (parse_range(arg, 10, 3600000, &o->tcp_idle_ms)) {
			log_err("--tcp-idle must be 10..3600000 (milliseconds)");
			return -1;
		}
		break;
	case 'K': o->check_only = 1; break;
	case OPT_NOTIFY: {
		struct sockaddr_storage ss;
		socklen_t len;

		if (notify_parse_target(arg, &ss, &len)) {
			log_err("invalid --notify target '%s' (expected ADDR[:PORT] "
				"or [IPv6]:PORT)", arg);
			return -1;
		}
		o->notify[o->nnotify++] = (char *)arg;
		break;
	}
	case OPT_ALLOW_TRANSFER: {
		const char *bad;

		if (axfr_acl_add(&o->allow_transfer, arg, &bad)) {
			log_err("invalid --allow-transfer network '%s' (expected "
				"ADDR or ADDR/BITS without host bits)", bad);
			return -1;
		}
		break;
	}
	case OPT_XDP: o->xdp = arg; break;
	case OPT_XDP_FALLBACK: o->xdp_fallback = 1; break;
	case 'h':
		cmd_serve_help();
		return 1;
	default:
		return -1;
	}
	return 0;
}

/* server_run()'s error, with the option that fixes it where there is one. */
static void report(int rc, const char *err)
{
	switch (rc) {
	case SERVER_NO_ADDRESS:
		log_err("%s: use -b address/port", err);
		break;
	case SERVER_NO_ZONES:
		log_err("%s (zone:type:file...)", err);
		break;
	case SERVER_BAD_ADDRESS:
		log_err("%s (-b and --http take ADDR/PORT, ADDR or /PORT)", err);
		break;
	case SERVER_XDP:
		log_err("--xdp: %s (--xdp-fallback serves through sockets instead)", err);
		break;
	default:
		log_err("%s", err);
	}
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threads", required_argument, NULL, 'T' },
		{ "http", required_argument, NULL, 'H' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "tcp-idle", required_argument, NULL, 'I' },
		{ "check", no_argument, NULL, 'K' },
		{ "allow-transfer", required_argument, NULL, OPT_ALLOW_TRANSFER },
		{ "notify", required_argument, NULL, OPT_NOTIFY },
		{ "xdp", required_argument, NULL, OPT_XDP },
		{ "xdp-fallback", no_argument, NULL, OPT_XDP_FALLBACK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_opts o = { .check_interval = 60, .tcp_idle_ms = 10000,
				 .version = "rblkit " RBLKIT_VERSION };
	int c, vcount = 0, rc;
	char why[512];

	o.ds.def_ttl = 35 * 60;
	o.binds = xcalloc((size_t)argc + 1, sizeof(char *));
	o.notify = xcalloc((size_t)argc + 1, sizeof(char *));
	while ((c = getopt_long(argc, argv, "u:r:w:b:46t:c:eqp:l:s:nfdvCaAx:X:h",
				longopts, NULL)) != -1) {
		rc = serve_option(c, optarg, &o, &vcount);
		if (rc) {
			free(o.binds);
			free(o.notify);
			axfr_acl_free(o.allow_transfer);
			return rc > 0 ? 0 : cmd_usage_error("serve");
		}
	}
	o.specs = xcalloc((size_t)(argc - optind) + 1, sizeof(*o.specs));
	for (int i = optind; i < argc; i++) {
		const char *err;

		if (zone_spec_parse(argv[i], &o.specs[o.nspecs], &err))
			fatal("invalid zone spec '%s': %s", argv[i], err);
		o.nspecs++;
	}
	if (!o.check_only && !o.user && geteuid() == 0)
		log_warn("running as root: use -u USER to drop privileges");
	rc = server_run(&o, why, sizeof(why));
	if (rc != SERVER_OK) {
		/* threads may run and privileges be half dropped: end here */
		report(rc, why);
		exit(1);
	}
	if (!o.check_only) {
		/* UDP workers stay blocked in recvmmsg and a zone transfer may
		 * still read the zones (and o): end the process without exit
		 * handlers or freeing, as a stopped server has nothing left
		 * to write (the query log and -s file are closed). */
		fflush(NULL);
		_exit(0);
	}
	for (unsigned i = 0; i < o.nspecs; i++)
		zone_spec_free(&o.specs[i]);
	free(o.specs);
	free(o.binds);
	free(o.notify);
	axfr_acl_free(o.allow_transfer);
	return rc;
}
