/*
 * check.c - rblkit check: is this server listed, where, why, and how do
 * I get off?  Options, the words of the hints, the exit status; the
 * lookups are dnsbl.c's, the run bulk.c's, the output output.c's.
 *
 * SECURITY: arguments are the operator's; bulk input (-f) and all DNS
 * answers are untrusted and reach the output only through output.c's
 * writers (control bytes replaced, JSON and CSV escaped).
 */
#include "cmd.h"
#include "dnsbl/bulk.h"
#include "dnsbl/catalog.h"
#include "dnsbl/dnsbl.h"
#include "dnsbl/output.h"
#include "dnsbl/resolve.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CHECK_MAX_ZONES OUT_MAX_LISTS

struct check {
	struct out_opts oo;		/* format, colours, thresholds, hints */
	const char *fmt_opt;		/* the option that chose the format */
	bool progress;			/* bulk, on a terminal: counts on stderr */
	uint64_t t0;
	const struct list **lists;
	size_t nlists;
	struct dnsbl_engine *eng;
	struct out *out;
};

void cmd_check_help(void)
{
	printf(
"usage: rblkit check [options] TARGET...\n"
"       rblkit check [options] -f FILE        (one target a line; - is stdin)\n"
"\n"
"Look addresses, host names and mail domains up on DNS blocklists and\n"
"allowlists, and say where they are listed, why, and how to get off.\n"
"\n"
"Targets: an IPv4 or IPv6 address, a CIDR block (expanded, see\n"
"--cidr-limit), a host name or domain (its A/AAAA addresses, and the\n"
"name itself on domain lists), or --mx DOMAIN (the domain's MX hosts'\n"
"addresses, and the domain itself on domain lists).\n"
"\n"
"Lists:\n"
"  --lists SEL        default | all | SET or ID or ZONE, comma separated\n"
"                     (see --list-catalog); default: the 'default' set\n"
"  --zone ZONE[@SRV]  ask this zone (repeatable): a catalogue entry, or an\n"
"                     unknown zone with RFC 5782 defaults; @ADDR[:PORT]:\n"
"                     ask that server for it (a local mirror).  Alone, the\n"
"                     zones given replace the default set; with --lists\n"
"                     they are added to its lists\n"
"  --catalog FILE     read FILE after the built-in catalogue and\n"
"                     " CATALOG_SYSTEM_FILE " (adds or overrides lists)\n"
"  --list-catalog     print the catalogue and exit\n"
"\n"
"DNS:\n"
"  --resolver ADDR[:PORT][,...]  ask these resolvers (default: resolv.conf)\n"
"  --recursive        resolve from the root with libunbound: for lists that\n"
"                     refuse public resolvers (Spamhaus)\n"
"  --timeout SEC      overall deadline (default 10; in bulk runs none)\n"
"  --query-timeout MS per try (default 2000); --tries N (default 2)\n"
"  --window N         most queries in flight per server (default 1000); each\n"
"                     server's window starts small and grows while it answers\n"
"  --cidr-limit N     addresses a CIDR block may expand to (default 256)\n"
"  --no-probe         skip the RFC 5782 test-point probe of each list\n"
"\n"
"Output:\n"
"  (default)          a table per target, listed first, and a verdict\n"
"  --all              also list the clean lists one per line\n"
"  --json             a JSON array, one object per target (docs/check.md)\n"
"  --jsonl            one JSON object a line (bulk)\n"
"  --csv              a header row, then one row per target, address and\n"
"                     list (bulk)\n"
"  --nagios           one status line with perfdata, for Nagios/Icinga;\n"
"                     -w N / -c N: listings for WARNING / CRITICAL (1/1)\n"
"                     check_rbl's -H HOST, -s ZONE and -t SEC work too\n"
"  --color WHEN       auto (default: on a terminal), always, never\n"
"  -q                 only the verdict line\n"
"\n"
"Exit status: 0 clean, 1 listed somewhere, 2 usage error, 3 could not\n"
"check (errors and no listing; or no list selected takes the target).\n"
"--nagios: 0 OK, 1 WARNING (also: a list could not be checked),\n"
"2 CRITICAL, 3 UNKNOWN (no list could be checked).\n"
"A list whose RFC 5782 test point is not listed (or that lists\n"
"127.0.0.1) gives no verdict: its results are errors.\n");
}

/* ---- helpers of the options and of the list selection ---- */

static bool selected(const struct list **sel, size_t n, const struct list *l)
{
	for (size_t i = 0; i < n; i++)
		if (sel[i] == l)
			return true;
	return false;
}

/* --lists: "default", "all", or set names, ids and zones. */
static int select_lists(struct catalog *cat, const char *spec, const struct list **sel,
			size_t *n)
{
	char bad[256];
	if (catalog_select(cat, spec, LK_IP4 | LK_IP6 | LK_DOMAIN, sel, n,
			   CHECK_MAX_ZONES, bad, sizeof(bad)) == 0)
		return 0;
	fprintf(stderr, "rblkit check: --lists: no list or set named '%s' "
		"(see --list-catalog)\n", bad);
	return -1;
}

static int parse_uint(const char *s, const char *opt, unsigned lo, unsigned hi,
		      unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi) {
		fprintf(stderr, "rblkit check: %s: expected a number from %u to %u\n",
			opt, lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* ---- options ---- */

/* What the command line asked for, besides the output settings that go
 * straight into struct check. */
struct check_opts {
	struct rs_opts ro;
	struct dnsbl_opts dopt;
	const char *lists_spec, *file, *color;
	const char *zones[CHECK_MAX_ZONES], *catalogs[16], *mx[64], *hosts[64];
	size_t nzones, ncatalogs, nmx, nhosts;
	char **targets;			/* the operands */
	size_t ntargets;
	unsigned timeout_s;
	bool timeout_given, listcat;
};

enum { O_LISTS = 256, O_ZONE, O_CATALOG, O_LISTCAT, O_RESOLVER, O_RECURSIVE,
       O_TIMEOUT, O_QTIMEOUT, O_TRIES, O_WINDOW, O_CIDR, O_NOPROBE,
       O_ALL, O_JSON, O_JSONL, O_CSV, O_NAGIOS, O_COLOR, O_MX };

static const struct option check_longopts[] = {
	{ "lists", required_argument, NULL, O_LISTS },
	{ "zone", required_argument, NULL, O_ZONE },
	{ "catalog", required_argument, NULL, O_CATALOG },
	{ "list-catalog", no_argument, NULL, O_LISTCAT },
	{ "resolver", required_argument, NULL, O_RESOLVER },
	{ "recursive", no_argument, NULL, O_RECURSIVE },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "query-timeout", required_argument, NULL, O_QTIMEOUT },
	{ "tries", required_argument, NULL, O_TRIES },
	{ "window", required_argument, NULL, O_WINDOW },
	{ "cidr-limit", required_argument, NULL, O_CIDR },
	{ "no-probe", no_argument, NULL, O_NOPROBE },
	{ "all", no_argument, NULL, O_ALL },
	{ "json", no_argument, NULL, O_JSON },
	{ "jsonl", no_argument, NULL, O_JSONL },
	{ "csv", no_argument, NULL, O_CSV },
	{ "nagios", no_argument, NULL, O_NAGIOS },
	{ "color", required_argument, NULL, O_COLOR },
	{ "mx", required_argument, NULL, O_MX },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* The option handlers return GO_ON, or the exit status to end with. */
#define GO_ON (-1)

static int opt_uint(const char *arg, const char *opt, unsigned lo, unsigned hi,
		    unsigned *out)
{
	return parse_uint(arg, opt, lo, hi, out) < 0 ? 2 : GO_ON;
}

static int opt_int(const char *arg, const char *opt, int *out)
{
	unsigned u;
	if (parse_uint(arg, opt, 1, 1000, &u) < 0)
		return 2;
	*out = (int)u;
	return GO_ON;
}

/* A repeatable option: one more value, if there is room. */
static int opt_push(const char **v, size_t *n, size_t max, const char *arg)
{
	if (*n == max)
		return 2;
	v[(*n)++] = arg;
	return GO_ON;
}

static int opt_zone(struct check_opts *o, const char *arg)
{
	if (o->nzones == CHECK_MAX_ZONES) {
		fprintf(stderr, "rblkit check: at most %d zones\n", CHECK_MAX_ZONES);
		return 2;
	}
	o->zones[o->nzones++] = arg;
	return GO_ON;
}

/* One output format: a second, different one is a usage error. */
static int opt_fmt(struct check *ck, enum out_fmt fmt, const char *opt)
{
	if (ck->fmt_opt && strcmp(ck->fmt_opt, opt)) {
		fprintf(stderr, "rblkit check: %s and %s: choose one output format\n",
			ck->fmt_opt, opt);
		return 2;
	}
	ck->oo.fmt = fmt;
	ck->fmt_opt = opt;
	return GO_ON;
}

/* Output options; everything else is a usage error. */
static int opt_output(struct check *ck, struct check_opts *o, int c, const char *arg)
{
	switch (c) {
	case O_ALL: ck->oo.show_clean = true; return GO_ON;
	case O_JSON: return opt_fmt(ck, OUT_JSON, "--json");
	case O_JSONL: return opt_fmt(ck, OUT_JSONL, "--jsonl");
	case O_CSV: return opt_fmt(ck, OUT_CSV, "--csv");
	case O_NAGIOS: return opt_fmt(ck, OUT_NAGIOS, "--nagios");
	case O_COLOR: o->color = arg; return GO_ON;
	case 'q': ck->oo.quiet = true; return GO_ON;
	case 'w': return opt_int(arg, "-w", &ck->oo.warn);
	case 'c': return opt_int(arg, "-c", &ck->oo.crit);
	case 'h':
		cmd_check_help();
		return 0;
	default:
		return cmd_usage_error("check");
	}
}

/* One option from getopt_long(). */
static int opt_one(struct check *ck, struct check_opts *o, int c, const char *arg)
{
	switch (c) {
	case O_LISTS: o->lists_spec = arg; return GO_ON;
	case 's':
	case O_ZONE: return opt_zone(o, arg);
	case O_CATALOG:
		return opt_push(o->catalogs, &o->ncatalogs, ARRAY_SIZE(o->catalogs), arg);
	case O_LISTCAT: o->listcat = true; return GO_ON;
	case O_RESOLVER: o->ro.mode = RS_FORWARD; o->ro.servers = arg; return GO_ON;
	case O_RECURSIVE: o->ro.mode = RS_RECURSIVE; return GO_ON;
	case 't':
	case O_TIMEOUT:
		o->timeout_given = true;
		return opt_uint(arg, "--timeout", 1, 86400, &o->timeout_s);
	case O_QTIMEOUT:
		return opt_uint(arg, "--query-timeout", 10, 60000, &o->ro.timeout_ms);
	case O_TRIES: return opt_uint(arg, "--tries", 1, 10, &o->ro.tries);
	case O_WINDOW: return opt_uint(arg, "--window", 1, 20000, &o->ro.window);
	case O_CIDR:
		return opt_uint(arg, "--cidr-limit", 1, 1u << 24, &o->dopt.cidr_limit);
	case O_NOPROBE: o->dopt.no_probe = true; return GO_ON;
	case O_MX: return opt_push(o->mx, &o->nmx, ARRAY_SIZE(o->mx), arg);
	case 'H':			/* check_rbl's way to name a target */
		return opt_push(o->hosts, &o->nhosts, ARRAY_SIZE(o->hosts), arg);
	case 'f': o->file = arg; return GO_ON;
	default: return opt_output(ck, o, c, arg);
	}
}

/* The command line into ck and o.  Returns GO_ON, or the exit status:
 * 0 after --help, 2 for a usage error (the message is out). */
static int parse_args(struct check *ck, struct check_opts *o, int argc, char **argv)
{
	int c, rc;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:qw:c:H:s:t:h", check_longopts,
				NULL)) != -1)
		if ((rc = opt_one(ck, o, c, optarg)) != GO_ON)
			return rc;
	o->targets = argv + optind;
	o->ntargets = optind < argc ? (size_t)(argc - optind) : 0;
	if (ck->oo.crit < ck->oo.warn) {
		fprintf(stderr, "rblkit check: -c must be at least -w\n");
		return 2;
	}
	if (strcmp(o->color, "auto") && strcmp(o->color, "always") &&
	    strcmp(o->color, "never")) {
		fprintf(stderr, "rblkit check: --color: auto, always or never\n");
		return 2;
	}
	ck->oo.color = !strcmp(o->color, "always") ||
		    (!strcmp(o->color, "auto") && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	return GO_ON;
}

/* ---- catalogue and lists ---- */

/* Built in, then the system's, then each --catalog.  -1: message out. */
static int load_catalogs(struct catalog *cat, const struct check_opts *o)
{
	char err[(CATALOG_MAX_ERRORS + 1) * 256];
	if (catalog_load_all(cat, o->catalogs, o->ncatalogs, err, sizeof(err)) == 0)
		return 0;
	/* one error a line, each with the command's name */
	for (char *line = err, *nl; line; line = nl) {
		if ((nl = strchr(line, '\n')))
			*nl++ = '\0';
		fprintf(stderr, "rblkit check: %s\n", line);
	}
	return -1;
}

/* --zone ZONE or ZONE@SERVER (the zone's own server, e.g. a mirror):
 * its catalogue entry, or a new one, added to the selection. */
static int add_zone(struct catalog *cat, const char *spec, const struct list **sel,
		    size_t *n)
{
	char z[256];
	snprintf(z, sizeof(z), "%s", spec);
	char *at = strchr(z, '@');
	if (at)
		*at++ = '\0';
	size_t zl = strlen(z);
	if (!zl || zl > 200 || strchr(z, ' ') || (at && !*at)) {
		fprintf(stderr, "rblkit check: --zone '%s': expected ZONE or "
			"ZONE@ADDR[:PORT]\n", spec);
		return -1;
	}
	struct list *l = catalog_add_zone(cat, z, 0);
	if (at) {
		free(l->server);
		l->server = xstrdup(at);
	}
	if (!selected(sel, *n, l) && *n < CHECK_MAX_ZONES)
		sel[(*n)++] = l;
	return 0;
}

/* --lists (the default set unless only --zone is given), then --zone.
 * -1 (message out) when nothing is selected or a name is unknown. */
static int choose_lists(struct catalog *cat, const struct check_opts *o,
			const struct list **sel, size_t *n)
{
	*n = 0;
	if ((o->lists_spec || !o->nzones) &&
	    select_lists(cat, o->lists_spec ? o->lists_spec : "default", sel, n) < 0)
		return -1;
	for (size_t i = 0; i < o->nzones; i++)
		if (add_zone(cat, o->zones[i], sel, n) < 0)
			return -1;
	if (!*n) {
		fprintf(stderr, "rblkit check: no lists selected\n");
		return -1;
	}
	return 0;
}

/* ---- the run ---- */

/* What the library's hints say on this command line: the library names
 * no option (output.h). */
static void word_hints(struct out_opts *oo, bool recursive)
{
	oo->hints[DNSBL_HINT_RESOLVER] = "try --recursive or another --resolver";
	oo->hints[DNSBL_HINT_CIDR_LIMIT] = "--cidr-limit";
	oo->testpoint_hint = recursive ?
		"the lists may refuse queries from this host, or the network rewrites "
		"answers: try --resolver with a local resolver" :
		"the resolver may be a public one the lists refuse, or one that rewrites "
		"answers: try --recursive or a local resolver";
	oo->silence_hint = recursive ?
		"their servers did not answer: is this host's DNS traffic blocked?" :
		"the resolver did not answer: is it running and reachable?";
}

/* The resolver, the engine for the selected lists and the output.  -1:
 * message out (*rs may be set; the caller frees it). */
static int start_engine(struct check *ck, struct check_opts *o, struct resolver **rs)
{
	char err[512];
	if (!o->timeout_given)
		o->timeout_s = o->file ? 0 : 10;
	/* the tries of one query end before the deadline, which stays a
	 * backstop: a dead list is reported as such, not cut off */
	if (o->timeout_s && o->ro.timeout_ms * o->ro.tries + 100 > o->timeout_s * 1000u)
		o->ro.timeout_ms = (o->timeout_s * 1000u - 100) / o->ro.tries;
	*rs = rs_new(&o->ro, err, sizeof(err));
	if (*rs)
		ck->eng = dnsbl_new(*rs, ck->lists, ck->nlists, &o->dopt, err, sizeof(err));
	if (!ck->eng) {
		fprintf(stderr, "rblkit check: %s\n", err);
		return -1;
	}
	word_hints(&ck->oo, o->ro.mode == RS_RECURSIVE);
	ck->out = out_new(stdout, &ck->oo, ck->lists, ck->nlists);
	ck->progress = o->file && isatty(STDERR_FILENO) && ck->oo.fmt != OUT_NAGIOS;
	ck->t0 = now_ms();
	return 0;
}

/* Bulk runs on a terminal: the counts so far on stderr, at most five
 * times a second (final: the last time, with a newline). */
static void progress(struct check *ck, bool final)
{
	static uint64_t last;
	uint64_t now = now_ms();
	if (!ck->progress || (!final && now - last < 200))
		return;
	last = now;
	const struct out_totals *n = out_totals(ck->out);
	double s = (double)(now - ck->t0) / 1000.0;
	fprintf(stderr, "\r%u targets, %u listed, %u could not be checked, %.0f/s   %s",
		n->targets, n->listed_targets, n->error_targets,
		s > 0 ? n->targets / s : 0.0, final ? "\n" : "");
}

/* bulk.h's callback: a finished target out. */
static void target_done(void *arg, struct dnsbl_target *t)
{
	struct check *ck = arg;
	out_target(ck->out, t);
	progress(ck, false);
}

/* Every target, to the end.  Returns 0, or 2 when -f FILE cannot be
 * opened (the other targets are still checked). */
static int run_targets(struct check *ck, const struct check_opts *o,
		       struct resolver *rs)
{
	uint64_t deadline = o->timeout_s ? ck->t0 + (uint64_t)o->timeout_s * 1000 : 0;
	struct bulk b;
	int rc = 0;

	bulk_init(&b, ck->eng, rs, o->ro.window, ck->nlists, deadline, target_done, ck);
	out_begin(ck->out);
	for (size_t i = 0; i < o->nmx; i++)
		bulk_add(&b, o->mx[i], true);
	for (size_t i = 0; i < o->nhosts; i++)
		bulk_add(&b, o->hosts[i], false);
	for (size_t i = 0; i < o->ntargets; i++)
		bulk_add(&b, o->targets[i], false);
	if (o->file) {
		FILE *in = strcmp(o->file, "-") ? fopen(o->file, "r") : stdin;
		if (!in) {
			fprintf(stderr, "rblkit check: %s: %s\n", o->file, strerror(errno));
			rc = 2;
		} else {
			if (bulk_add_file(&b, in, in == stdin ? "stdin" : o->file, false)) {
				fprintf(stderr, "rblkit check: %s: cannot read: %s\n",
					o->file, strerror(errno));
				rc = 2;
			}
			if (in != stdin)
				fclose(in);
		}
	}
	bulk_finish(&b);
	progress(ck, true);
	return rc;
}

/* ---- after the run ---- */

/* What ends the output, and the exit status: rc is run_targets()'s. */
static int finish_run(struct check *ck, const struct check_opts *o, int rc)
{
	/* Nagios names the first target, as check_rbl does */
	const char *target = o->nhosts ? o->hosts[0] : o->ntargets ? o->targets[0] :
			     o->nmx ? o->mx[0] : "targets";
	int st = out_end(ck->out, ck->eng, target, now_ms() - ck->t0);
	const struct out_totals *n = out_totals(ck->out);
	if (ck->oo.fmt == OUT_NAGIOS)
		return st;
	if (rc)
		return rc;
	return n->listed_targets ? 1 : n->error_targets ? 3 : 0;
}

int cmd_check(int argc, char **argv)
{
	struct check ck = { .oo = { .fmt = OUT_TEXT, .warn = 1, .crit = 1 } };
	struct check_opts o = {
		.ro = { .mode = RS_SYSTEM, .timeout_ms = 2000, .tries = 2, .window = 1000 },
		.dopt = { .cidr_limit = 256 },
		.color = "auto",
	};
	const struct list *sel[CHECK_MAX_ZONES];
	struct catalog *cat = NULL;
	struct resolver *rs = NULL;
	int rc = parse_args(&ck, &o, argc, argv);

	if (rc != GO_ON)
		return rc;
	rc = 2;
	cat = catalog_new();
	if (load_catalogs(cat, &o) < 0)
		goto out;
	if (o.listcat) {
		out_catalog(stdout, cat);
		rc = 0;
		goto out;
	}
	ck.lists = sel;
	if (choose_lists(cat, &o, sel, &ck.nlists) < 0)
		goto out;
	if (!o.ntargets && !o.file && !o.nmx && !o.nhosts) {
		fprintf(stderr, "rblkit check: no target (see 'rblkit help check')\n");
		goto out;
	}
	if (start_engine(&ck, &o, &rs) < 0)
		goto out;
	rc = finish_run(&ck, &o, run_targets(&ck, &o, rs));
	fflush(stdout);
out:
	/* the resolver first: ending its pending lookups runs their
	 * callbacks, which still need the engine */
	rs_free(rs);
	dnsbl_free(ck.eng);
	out_free(ck.out);
	catalog_free(cat);
	return rc;
}
