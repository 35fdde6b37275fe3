/*
 * serve.c - "rblkit serve": rbldnsd's command line, plus long options.
 *
 * SECURITY: command-line arguments only; see server.c for the network.
 */
#include "cmd.h"
#include "serve/server.h"
#include "base/util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void cmd_serve_help(void)
{
	printf(
"usage: rblkit serve [options] zone:type:file[,file...] ...\n"
"\n"
"Serve DNS blocklist zones. The command line is rbldnsd's: an rbldnsd\n"
"command line works with the binary name changed. Dataset types: ip4set,\n"
"ip4tset, ip4trie, ip6trie, ip6tset, dnset, generic, combined, acl.\n"
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
"  --check          load and check the data, report, and exit (0 if it loads)\n"
"\n"
"Signals: SIGHUP reloads changed files, SIGUSR1 logs per-zone counters,\n"
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

/* One option (rbldnsd's letters, then our long ones). Returns 0, 1 when
 * the command is done (help), or -1 for a bad option. */
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
		if (parse_ttls(arg, &o->ds))
			fatal("invalid -t value '%s' (def:min:max)", arg);
		break;
	case 'c':
		e = parse_time(arg, &v);
		if (!e || *e)
			fatal("invalid -c value '%s'", arg);
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
		fatal("-d (dump zones in BIND format) is not supported; "
		      "use AXFR (dig axfr ZONE @server) instead");
	case 'x': case 'X':
		fatal("-%c: extensions are not supported", c);
	case 'T':
		o->threads = atoi(arg);
		if (o->threads < 1 || o->threads > 64)
			fatal("--threads must be 1..64");
		break;
	case 'H': o->http = arg; break;
	case 'S': log_use_syslog("rblkit"); break;
	case 'I':
		o->tcp_idle_ms = atoi(arg);
		if (o->tcp_idle_ms < 10 || o->tcp_idle_ms > 3600000)
			fatal("--tcp-idle must be 10..3600000 (milliseconds)");
		break;
	case 'K': o->check_only = 1; break;
	case 'h':
		cmd_serve_help();
		return 1;
	default:
		cmd_usage_error("serve");
		return -1;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "threads", required_argument, NULL, 'T' },
		{ "http", required_argument, NULL, 'H' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "tcp-idle", required_argument, NULL, 'I' },
		{ "check", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_opts o = { .check_interval = 60, .tcp_idle_ms = 10000,
				 .version = "rblkit " RBLKIT_VERSION };
	int c, vcount = 0, rc;

	o.ds.def_ttl = 35 * 60;
	o.binds = xcalloc((size_t)argc + 1, sizeof(char *));
	while ((c = getopt_long(argc, argv, "u:r:w:b:46t:c:eqp:l:s:nfdvCaAx:X:h",
				longopts, NULL)) != -1) {
		rc = serve_option(c, optarg, &o, &vcount);
		if (rc) {
			free(o.binds);
			return rc > 0 ? 0 : 2;
		}
	}
	o.specs = xcalloc((size_t)(argc - optind) + 1, sizeof(*o.specs));
	for (int i = optind; i < argc; i++) {
		const char *err;

		if (zone_spec_parse(argv[i], &o.specs[o.nspecs], &err))
			fatal("invalid zone spec '%s': %s", argv[i], err);
		o.nspecs++;
	}
	rc = server_run(&o);    /* returns for --check and start-up errors */
	for (unsigned i = 0; i < o.nspecs; i++)
		zone_spec_free(&o.specs[i]);
	free(o.specs);
	free(o.binds);
	return rc;
}
