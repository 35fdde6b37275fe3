/*
 * check.c - rblkit check: is this server listed, where, why, and how do
 * I get off?  Options and output; the lookups are dnsbl.c's.
 *
 * SECURITY: arguments are the operator's; bulk input (-f) and all DNS
 * answers are untrusted and reach the terminal only through out_text()
 * (control bytes replaced) or the JSON/CSV writers.
 */
#include "cmd.h"
#include "dnsbl/catalog.h"
#include "dnsbl/dnsbl.h"
#include "base/json.h"
#include "dnsbl/resolve.h"
#include "base/util.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define CHECK_MAX_ZONES 256

enum out_fmt { OUT_TEXT, OUT_JSON, OUT_JSONL, OUT_CSV, OUT_NAGIOS };

struct check {
	enum out_fmt fmt;
	bool color, quiet, progress, bulk, show_clean;
	int warn, crit;			/* --nagios thresholds */
	/* totals, for the verdict and the exit status */
	unsigned targets, listed_targets, error_targets;
	unsigned listed, allowed, clean, errors;
	unsigned json_count;
	uint64_t t0;
	const struct list **lists;
	size_t nlists;
	struct dnsbl_engine *eng;
	char nagios_listed[2048], nagios_errors[1024];
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
"--cidr-limit), a host name (its A/AAAA addresses), or --mx DOMAIN (the\n"
"domain's MX hosts' addresses, and the domain itself on domain lists).\n"
"\n"
"Lists:\n"
"  --lists SEL        default | all | SET or ID or ZONE, comma separated\n"
"                     (see --list-catalog); default: the 'default' set\n"
"  --zone ZONE[@SRV]  add a zone (repeatable): a catalogue entry, or an\n"
"                     unknown zone with RFC 5782 defaults; @ADDR[:PORT]:\n"
"                     ask that server for it (a local mirror)\n"
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
"  --window N         queries in flight (default 1000)\n"
"  --cidr-limit N     addresses a CIDR block may expand to (default 256)\n"
"  --no-probe         skip the RFC 5782 test-point probe of each list\n"
"\n"
"Output:\n"
"  (default)          a table per target, listed first, and a verdict\n"
"  --all              also list the clean lists one per line\n"
"  --json             a JSON array, one object per target (docs/check.md)\n"
"  --jsonl            one JSON object a line (bulk)\n"
"  --csv              one row per target, address and list (bulk)\n"
"  --nagios           one status line with perfdata, for Nagios/Icinga;\n"
"                     -w N / -c N: listings for WARNING / CRITICAL (1/1)\n"
"                     check_rbl's -H HOST, -s ZONE and -t SEC work too\n"
"  --color WHEN       auto (default: on a terminal), always, never\n"
"  -q                 only the verdict line\n"
"\n"
"Exit status: 0 clean, 1 listed somewhere, 2 usage error, 3 could not\n"
"check (errors and no listing). --nagios: 0 OK, 1 WARNING, 2 CRITICAL,\n"
"3 UNKNOWN.\n");
}

/* ---- small output helpers ---- */

static const char *c_on(const struct check *ck, const char *code)
{
	return ck->color ? code : "";
}
#define C_RED "\033[1;31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_DIM "\033[2m"
#define C_BOLD "\033[1m"
#define C_OFF "\033[0m"

/* Untrusted text to a terminal: control bytes become '?'. */
static void out_text(FILE *f, const char *s)
{
	for (; s && *s; s++)
		putc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

static void csv_field(FILE *f, const char *s)
{
	if (!s)
		s = "";
	if (!strpbrk(s, ",\"\r\n")) {
		out_text(f, s);
		return;
	}
	putc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', f);
		putc((unsigned char)*s < 0x20 && *s != '\n' ? ' ' : *s, f);
	}
	putc('"', f);
}

static const char *code_text(uint32_t c, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", c >> 24, (c >> 16) & 255, (c >> 8) & 255, c & 255);
	return buf;
}

static int status_rank(enum dnsbl_status s)
{
	switch (s) {
	case DS_LISTED: return 0;
	case DS_ERROR: return 1;
	case DS_ALLOWED: return 2;
	default: return 3;
	}
}

static int result_cmp(const void *a, const void *b)
{
	const struct dnsbl_result *x = a, *y = b;
	int d = status_rank(x->status) - status_rank(y->status);
	return d ? d : strcmp(x->list->zone, y->list->zone);
}

/* ---- per-format output of one target ---- */

/* How many results of a target have each status. */
struct tally {
	unsigned listed, allowed, clean, errors;
};

static struct tally tally(const struct dnsbl_target *t)
{
	struct tally n = { 0, 0, 0, 0 };
	for (size_t i = 0; i < t->nresults; i++)
		switch (t->results[i].status) {
		case DS_LISTED: n.listed++; break;
		case DS_ALLOWED: n.allowed++; break;
		case DS_CLEAN: n.clean++; break;
		default: n.errors++; break;
		}
	return n;
}

/* The target, its addresses (the first 8) and its own error. */
static void text_head(struct check *ck, const struct dnsbl_target *t)
{
	FILE *f = stdout;
	fprintf(f, "%s", c_on(ck, C_BOLD));
	out_text(f, t->input);
	fprintf(f, "%s", c_on(ck, C_OFF));
	if (t->naddrs && !(t->naddrs == 1 && !strcmp(t->addrs[0], t->input))) {
		fprintf(f, " (");
		for (size_t i = 0; i < t->naddrs && i < 8; i++)
			fprintf(f, "%s%s", i ? ", " : "", t->addrs[i]);
		fprintf(f, "%s)", t->naddrs > 8 ? ", ..." : "");
	}
	fprintf(f, "\n");
	if (t->error) {
		fprintf(f, "  %sERROR%s    ", c_on(ck, C_YELLOW), c_on(ck, C_OFF));
		out_text(f, t->error);
		fprintf(f, "\n");
	}
}

/* A clean list, without --all: one more entry on the "clean" line. */
static void text_clean(struct check *ck, const struct dnsbl_result *r, bool multi,
		       size_t *shown)
{
	FILE *f = stdout;
	if (!(*shown)++)
		fprintf(f, "  %sclean%s    ", c_on(ck, C_DIM), c_on(ck, C_OFF));
	else
		fprintf(f, ", ");
	fprintf(f, "%s", r->list->zone);
	if (multi) {
		fprintf(f, " (");
		out_text(f, r->subject);
		fprintf(f, ")");
	}
}

/* A detail line under a result: indented, untrusted text. */
static void text_detail(FILE *f, const char *label, const char *s)
{
	fprintf(f, "           %s", label);
	out_text(f, s);
	fprintf(f, "\n");
}

/* A result on a line of its own: its status, list and subject; then the
 * codes and their meanings (not for an error), the TXT reasons, what went
 * wrong (an error) and where to get off (a listing). */
static void text_result(struct check *ck, const struct dnsbl_result *r, bool multi)
{
	FILE *f = stdout;
	const char *tag, *col;
	switch (r->status) {
	case DS_LISTED: tag = "LISTED"; col = C_RED; break;
	case DS_ALLOWED: tag = "ALLOWED"; col = C_GREEN; break;
	case DS_ERROR: tag = "ERROR"; col = C_YELLOW; break;
	default: tag = "clean"; col = C_DIM; break;
	}
	fprintf(f, "  %s%-8s%s %-28s %s", c_on(ck, col), tag, c_on(ck, C_OFF),
		r->list->zone, r->list->name);
	if (multi) {
		fprintf(f, " [");
		out_text(f, r->subject);
		fprintf(f, "]");
	}
	fprintf(f, "\n");
	char code[16], label[24];
	for (size_t j = 0; j < r->ncodes && r->status != DS_ERROR; j++) {
		snprintf(label, sizeof(label), "%s  ", code_text(r->codes[j], code));
		text_detail(f, label, r->meanings[j]);
	}
	for (size_t j = 0; j < r->ntxt; j++)
		text_detail(f, "reason: ", r->txt[j]);
	if (r->status == DS_ERROR && r->error)
		text_detail(f, "", r->error);
	if (r->status == DS_LISTED && r->list->delist)
		fprintf(f, "           delist: %s\n", r->list->delist);
}

/* The results, listed first (they are sorted here). */
static void text_results(struct check *ck, struct dnsbl_target *t)
{
	bool multi = t->naddrs > 1 || t->kind == TK_MX;
	size_t clean_shown = 0;
	if (t->nresults)
		qsort(t->results, t->nresults, sizeof(*t->results), result_cmp);
	for (size_t i = 0; i < t->nresults; i++) {
		const struct dnsbl_result *r = &t->results[i];
		if (r->status == DS_CLEAN && !ck->show_clean)
			text_clean(ck, r, multi, &clean_shown);
		else
			text_result(ck, r, multi);
	}
	if (clean_shown)
		fprintf(stdout, "\n");
}

/* One line: listed, clean, or could not be checked. */
static void text_verdict(struct check *ck, const struct dnsbl_target *t,
			 const struct tally *n)
{
	FILE *f = stdout;
	unsigned ok = n->clean + n->allowed;
	fprintf(f, "%s", c_on(ck, n->listed ? C_RED : n->errors || t->error ?
			   C_YELLOW : C_GREEN));
	out_text(f, t->input);
	if (t->error && !t->nresults)
		fprintf(f, ": could not check");
	else if (n->listed)
		fprintf(f, ": LISTED on %u of %zu list%s", n->listed, t->nresults,
			t->nresults == 1 ? "" : "s");
	else if (n->errors)
		fprintf(f, ": not listed on %u list%s; %u could not be checked", ok,
			ok == 1 ? "" : "s", n->errors);
	else
		fprintf(f, ": clean on %zu list%s", t->nresults, t->nresults == 1 ? "" : "s");
	if (n->allowed)
		fprintf(f, " (allowlisted on %u)", n->allowed);
	fprintf(f, "%s\n", c_on(ck, C_OFF));
}

static void print_text(struct check *ck, struct dnsbl_target *t)
{
	struct tally n = tally(t);
	if (!ck->quiet) {
		text_head(ck, t);
		text_results(ck, t);
	}
	text_verdict(ck, t, &n);
	if (!ck->quiet)
		fprintf(stdout, "\n");
}

static void print_json(struct check *ck, struct dnsbl_target *t, bool lines)
{
	FILE *f = stdout;
	if (!lines)
		fprintf(f, ck->json_count++ ? ",\n" : "[\n");
	fprintf(f, "{\"target\": ");
	json_str(f, t->input);
	fprintf(f, ", \"addresses\": [");
	for (size_t i = 0; i < t->naddrs; i++) {
		fprintf(f, i ? ", " : "");
		json_str(f, t->addrs[i]);
	}
	fprintf(f, "], \"error\": ");
	json_str(f, t->error);
	fprintf(f, ", \"results\": [");
	for (size_t i = 0; i < t->nresults; i++) {
		struct dnsbl_result *r = &t->results[i];
		char code[16];
		fprintf(f, "%s{\"zone\": ", i ? ", " : "");
		json_str(f, r->list->zone);
		fprintf(f, ", \"list\": ");
		json_str(f, r->list->name);
		fprintf(f, ", \"subject\": ");
		json_str(f, r->subject);
		fprintf(f, ", \"status\": \"%s\", \"codes\": [", dnsbl_status_text(r->status));
		for (size_t j = 0; j < r->ncodes; j++)
			fprintf(f, "%s\"%s\"", j ? ", " : "", code_text(r->codes[j], code));
		fprintf(f, "], \"meanings\": [");
		for (size_t j = 0; j < r->ncodes; j++) {
			fprintf(f, j ? ", " : "");
			json_str(f, r->meanings[j]);
		}
		fprintf(f, "], \"txt\": [");
		for (size_t j = 0; j < r->ntxt; j++) {
			fprintf(f, j ? ", " : "");
			json_str(f, r->txt[j]);
		}
		fprintf(f, "], \"ttl\": %u, \"ms\": %u, \"delist\": ", r->ttl, r->ms);
		json_str(f, r->list->delist);
		fprintf(f, ", \"error\": ");
		json_str(f, r->status == DS_ERROR ? r->error : NULL);
		fprintf(f, "}");
	}
	fprintf(f, "]}%s", lines ? "\n" : "");
}

static void print_csv(struct check *ck, struct dnsbl_target *t)
{
	FILE *f = stdout;
	if (t->error && !t->nresults) {
		csv_field(f, t->input);
		fprintf(f, ",,,error,,,,,,,");
		csv_field(f, t->error);
		fprintf(f, "\n");
		return;
	}
	for (size_t i = 0; i < t->nresults; i++) {
		struct dnsbl_result *r = &t->results[i];
		char code[16], buf[1024];
		size_t n = 0;
		csv_field(f, t->input);
		putc(',', f);
		csv_field(f, r->subject);
		putc(',', f);
		csv_field(f, r->list->zone);
		fprintf(f, ",%s,", dnsbl_status_text(r->status));
		buf[0] = '\0';
		for (size_t j = 0; j < r->ncodes && n < sizeof(buf) - 20; j++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", j ? " " : "",
					      code_text(r->codes[j], code));
		csv_field(f, buf);
		putc(',', f);
		buf[0] = '\0';
		n = 0;
		for (size_t j = 0; j < r->ncodes && n < sizeof(buf) - 1; j++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", j ? "; " : "",
					      r->meanings[j]);
		csv_field(f, buf);
		putc(',', f);
		buf[0] = '\0';
		n = 0;
		for (size_t j = 0; j < r->ntxt && n < sizeof(buf) - 1; j++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", j ? " | " : "",
					      r->txt[j]);
		csv_field(f, buf);
		fprintf(f, ",%u,%u,", r->ttl, r->ms);
		csv_field(f, r->list->delist);
		putc(',', f);
		csv_field(f, r->status == DS_ERROR ? r->error : "");
		putc('\n', f);
	}
}

static void nagios_collect(struct check *ck, struct dnsbl_target *t)
{
	for (size_t i = 0; i < t->nresults; i++) {
		struct dnsbl_result *r = &t->results[i];
		char *buf = r->status == DS_LISTED ? ck->nagios_listed :
			    r->status == DS_ERROR ? ck->nagios_errors : NULL;
		size_t cap = r->status == DS_LISTED ? sizeof(ck->nagios_listed) :
			     sizeof(ck->nagios_errors);
		if (!buf)
			continue;
		size_t n = strlen(buf);
		char code[16];
		if (r->status == DS_LISTED)
			snprintf(buf + n, cap - n, "%s%s (%s)", n ? " " : "", r->list->zone,
				 code_text(r->codes[0], code));
		else
			snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", r->list->zone);
	}
}

static void account(struct check *ck, struct dnsbl_target *t)
{
	struct tally n = tally(t);
	ck->targets++;
	ck->listed += n.listed;
	ck->allowed += n.allowed;
	ck->clean += n.clean;
	ck->errors += n.errors;
	if (n.listed)
		ck->listed_targets++;
	else if (n.errors || t->error)
		ck->error_targets++;
}

static void emit(struct check *ck, struct dnsbl_target *t)
{
	account(ck, t);
	switch (ck->fmt) {
	case OUT_TEXT: print_text(ck, t); break;
	case OUT_JSON: print_json(ck, t, false); break;
	case OUT_JSONL: print_json(ck, t, true); break;
	case OUT_CSV: print_csv(ck, t); break;
	case OUT_NAGIOS: nagios_collect(ck, t); break;
	}
}

static void progress(struct check *ck, bool final)
{
	static uint64_t last;
	uint64_t now = now_ms();
	if (!ck->progress || (!final && now - last < 200))
		return;
	last = now;
	double s = (double)(now - ck->t0) / 1000.0;
	fprintf(stderr, "\r%u targets, %u listed, %u could not be checked, %.0f/s   %s",
		ck->targets, ck->listed_targets, ck->error_targets,
		s > 0 ? ck->targets / s : 0.0, final ? "\n" : "");
}


static void drain(struct check *ck)
{
	struct dnsbl_target *t;
	while ((t = dnsbl_next_done(ck->eng))) {
		emit(ck, t);
		dnsbl_target_free(t);
		progress(ck, false);
	}
}

static void wait_and_process(struct resolver *rs, uint64_t deadline)
{
	int timeout = rs_next_timeout_ms(rs);
	if (deadline) {
		uint64_t now = now_ms();
		if (now >= deadline) {
			rs_cancel_all(rs);
			return;
		}
		if (timeout < 0 || (uint64_t)timeout > deadline - now)
			timeout = (int)(deadline - now);
	}
	if (rs_pending(rs)) {
		struct pollfd p = { .fd = rs_fd(rs), .events = POLLIN };
		poll(&p, 1, timeout);
	}
	rs_process(rs);
}

/* Read targets from f, keeping at most max_active in the engine. */
static void run_file(struct check *ck, struct resolver *rs, FILE *in,
		     bool mx, size_t max_active, uint64_t deadline)
{
	char line[1024];
	bool eof = false;
	while (!eof || dnsbl_active(ck->eng)) {
		while (!eof && dnsbl_active(ck->eng) < max_active) {
			if (!fgets(line, sizeof(line), in)) {
				eof = true;
				break;
			}
			size_t n = strlen(line);
			bool longline = n == sizeof(line) - 1 && line[n - 1] != '\n';
			if (longline) {	/* skip the rest; report the line */
				int c;
				while ((c = getc(in)) != EOF && c != '\n')
					;
			}
			char *s = line, *e;
			while (*s == ' ' || *s == '\t')
				s++;
			for (e = s; *e && *e != '\n' && *e != '\r' && *e != '#' &&
			     *e != ' ' && *e != '\t' && *e != ','; e++)
				;
			*e = '\0';
			if (!*s)
				continue;
			dnsbl_add(ck->eng, longline ? "(line too long)" : s, mx);
		}
		drain(ck);
		if (!dnsbl_active(ck->eng))
			continue;
		wait_and_process(rs, deadline);
		drain(ck);
	}
}

static void list_catalog(const struct catalog *cat)
{
	printf("%-22s %-34s %-14s %-6s %-9s %s\n", "ID", "ZONE", "KIND", "TYPE",
	       "STATUS", "SETS");
	for (size_t i = 0; i < cat->n; i++) {
		const struct list *l = cat->lists[i];
		char kinds[32], sets[256] = "";
		size_t n = 0;
		for (size_t j = 0; j < l->nsets && n < sizeof(sets) - 1; j++)
			n += (size_t)snprintf(sets + n, sizeof(sets) - n, "%s%s",
					      j ? "," : "", l->sets[j]);
		printf("%-22s %-34s %-14s %-6s %-9s %s\n", l->id, l->zone ? l->zone : "-",
		       list_kind_text(l->kinds, kinds, sizeof(kinds)),
		       l->type == LT_ALLOW ? "allow" : "block",
		       l->status == LS_ACTIVE ? "active" :
		       l->status == LS_NEEDS_KEY ? "needs-key" : "retired", sets);
	}
}

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

/* Output options; everything else is a usage error. */
static int opt_output(struct check *ck, struct check_opts *o, int c, const char *arg)
{
	switch (c) {
	case O_ALL: ck->show_clean = true; return GO_ON;
	case O_JSON: ck->fmt = OUT_JSON; return GO_ON;
	case O_JSONL: ck->fmt = OUT_JSONL; return GO_ON;
	case O_CSV: ck->fmt = OUT_CSV; return GO_ON;
	case O_NAGIOS: ck->fmt = OUT_NAGIOS; return GO_ON;
	case O_COLOR: o->color = arg; return GO_ON;
	case 'q': ck->quiet = true; return GO_ON;
	case 'w': return opt_int(arg, "-w", &ck->warn);
	case 'c': return opt_int(arg, "-c", &ck->crit);
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
	if (ck->crit < ck->warn) {
		fprintf(stderr, "rblkit check: -c must be at least -w\n");
		return 2;
	}
	if (strcmp(o->color, "auto") && strcmp(o->color, "always") &&
	    strcmp(o->color, "never")) {
		fprintf(stderr, "rblkit check: --color: auto, always or never\n");
		return 2;
	}
	ck->color = !strcmp(o->color, "always") ||
		    (!strcmp(o->color, "auto") && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	return GO_ON;
}

/* ---- catalogue and lists ---- */

/* Built in, then the system's, then each --catalog.  -1: message out. */
static int load_catalogs(struct catalog *cat, const struct check_opts *o)
{
	char err[512];
	if (catalog_load_all(cat, o->catalogs, o->ncatalogs, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "rblkit check: %s\n", err);
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

/* The resolver and the engine for the selected lists.  -1: message out
 * (*rs may be set; the caller frees it). */
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
	ck->bulk = o->file != NULL;
	ck->progress = ck->bulk && isatty(STDERR_FILENO) && ck->fmt != OUT_NAGIOS;
	ck->t0 = now_ms();
	return 0;
}

/* Every target, to the end.  Returns 0, or 2 when -f FILE cannot be
 * opened (the other targets are still checked). */
static int run_targets(struct check *ck, const struct check_opts *o,
		       struct resolver *rs)
{
	uint64_t deadline = o->timeout_s ? ck->t0 + (uint64_t)o->timeout_s * 1000 : 0;
	size_t max_active = o->ro.window * 2 / ck->nlists + 16;
	int rc = 0;

	for (size_t i = 0; i < o->nmx; i++)
		dnsbl_add(ck->eng, o->mx[i], true);
	for (size_t i = 0; i < o->nhosts; i++)
		dnsbl_add(ck->eng, o->hosts[i], false);
	for (size_t i = 0; i < o->ntargets; i++)
		dnsbl_add(ck->eng, o->targets[i], false);
	if (o->file) {
		FILE *in = strcmp(o->file, "-") ? fopen(o->file, "r") : stdin;
		if (!in) {
			fprintf(stderr, "rblkit check: %s: %s\n", o->file, strerror(errno));
			rc = 2;
		} else {
			run_file(ck, rs, in, false, max_active, deadline);
			if (in != stdin)
				fclose(in);
		}
	}
	while (dnsbl_active(ck->eng)) {
		drain(ck);
		if (dnsbl_active(ck->eng))
			wait_and_process(rs, deadline);
	}
	drain(ck);
	progress(ck, true);
	return rc;
}

/* ---- after the run ---- */

/* Notes on lists that misbehaved, once per run (text output). */
static void print_notes(struct check *ck)
{
	for (size_t i = 0; i < ck->nlists; i++) {
		const char *why;
		enum dnsbl_health h = dnsbl_list_health(ck->eng, ck->lists[i], &why);
		if (h == DH_BROKEN || h == DH_REFUSING)
			printf("%snote%s: %s: %s\n", c_on(ck, C_YELLOW), c_on(ck, C_OFF),
			       ck->lists[i]->zone, why);
	}
}

/* check_rbl's line; returns its exit status (0 OK ... 3 UNKNOWN). */
static int nagios_summary(struct check *ck, const struct check_opts *o)
{
	static const char *names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	unsigned checked = ck->listed + ck->clean + ck->allowed;
	int st;
	if (ck->listed >= (unsigned)ck->crit)
		st = 2;
	else if (ck->listed >= (unsigned)ck->warn)
		st = 1;
	else if (!checked)
		st = 3;
	else
		st = 0;
	double secs = (double)(now_ms() - ck->t0) / 1000.0;
	printf("CHECK_RBL %s - %s BLACKLISTED on %u server%s of %zu", names[st],
	       o->nhosts ? o->hosts[0] : o->ntargets ? o->targets[0] :
	       o->nmx ? o->mx[0] : "targets", ck->listed,
	       ck->listed == 1 ? "" : "s", ck->nlists);
	if (ck->listed)
		printf(" (%s)", ck->nagios_listed);
	if (ck->errors)
		printf(" (%u could not be checked: %s)", ck->errors, ck->nagios_errors);
	printf(" | servers=%u;%d;%d time=%.3fs;;\n", ck->listed, ck->warn - 1,
	       ck->crit - 1, secs);
	return st;
}

/* What ends the output, and the exit status: rc is run_targets()'s. */
static int finish_run(struct check *ck, const struct check_opts *o, int rc)
{
	if (ck->fmt == OUT_TEXT && !ck->quiet)
		print_notes(ck);
	if (ck->fmt == OUT_JSON)
		printf(ck->json_count ? "\n]\n" : "[]\n");
	if (ck->fmt == OUT_NAGIOS)
		return nagios_summary(ck, o);
	if (rc)
		return rc;
	return ck->listed_targets ? 1 : ck->error_targets ? 3 : 0;
}

int cmd_check(int argc, char **argv)
{
	struct check ck = { .fmt = OUT_TEXT, .warn = 1, .crit = 1 };
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
		list_catalog(cat);
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
	dnsbl_free(ck.eng);
	rs_free(rs);
	catalog_free(cat);
	return rc;
}
