/*
 * list.c - "rblkit list": the operator's command line over the listing
 * store and the zones' rules: add, remove, hit, show, search, history,
 * import, export, expire, stats; --check-config. Options and output
 * only: the rules are list/rules.c's, the files list/import.c's and
 * list/export.c's, the data store/'s.
 *
 * SECURITY: arguments are the operator's (keys are still parsed by
 * store_key_parse); texts read back from the store (reasons, evidence
 * from trap mail) are printed with control bytes replaced, or JSON
 * escaped; trap addresses are masked.
 */
#define _GNU_SOURCE
#include "cmd.h"
#include "base/conftab.h"
#include "base/json.h"
#include "base/util.h"
#include "list/export.h"
#include "list/import.h"
#include "list/list.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CONFIG "/etc/rblkit/list.conf"

/* Exit statuses (rblkit help list, docs/list.md). */
enum {
	EX_OK = 0, EX_NOTFOUND = 1, EX_USAGE = 2, EX_STORE = 3, EX_REFUSED = 4, EX_BADLINES = 5,
};

void cmd_list_help(void)
{
	printf(
"usage: rblkit list [--config FILE] [--store DSN] [--json] COMMAND ...\n"
"       rblkit list --check-config [--config FILE]\n"
"\n"
"The blocklist operator's listing store and its rules (docs/list.md).\n"
"\n"
"Commands:\n"
"  add ZONE KEY [--code 127.0.0.x] [--reason TEXT] [--ttl DURATION|never]\n"
"               [--source S]       list KEY (an address, CIDR, IPv6 prefix,\n"
"                                  name or *.name) or change its listing\n"
"  remove ZONE KEY [--reason TEXT] [--by-request]\n"
"                                  remove it (--by-request: asked by the\n"
"                                  listed party, counted against\n"
"                                  self_remove_max; past it: review)\n"
"  hit ZONE KEY [--trap ADDR] [--source S] [--evidence FILE]\n"
"                                  record a spamtrap hit or report (the\n"
"                                  threshold, extension and escalation rules)\n"
"  show ZONE KEY                   status, code, reason, times, history, evidence\n"
"  search ZONE [--source S] [--since T] [--cidr NET] [--state S]\n"
"  history ZONE KEY                the events of KEY, oldest first\n"
"  import ZONE FILE [--type T] [--ttl DURATION]\n"
"                                  an rbldnsd data file (T: ip4set ip4tset\n"
"                                  ip4trie ip6trie ip6tset dnset; default:\n"
"                                  each line's form)\n"
"  export ZONE FILE [--type T]     an rbldnsd file (T: auto ip4trie ip6trie\n"
"                                  dnset combined), written to FILE.tmp and\n"
"                                  renamed\n"
"  expire                          listings past their expiry\n"
"  stats [ZONE]                    counts per zone\n"
"\n"
"Options:\n"
"  --config FILE   list.conf (default " DEFAULT_CONFIG "; without it,\n"
"                  --store alone gives the default rules)\n"
"  --store DSN     sqlite:PATH or postgresql://...: overrides the file's\n"
"  --json          JSON output (every command)\n"
"  --check-config  check FILE, print each error as FILE:LINE: why, exit 0/1\n"
"\n"
"T for --since: an ISO 8601 time (2026-12-01 or 2026-12-01T10:00:00Z), or a\n"
"duration ago (7d). Times are printed in ISO 8601, UTC. The environment\n"
"variable RBLKIT_NOW=UNIX-SECONDS sets the clock (a test hook).\n"
"\n"
"Exit status: 0 done; 1 not found / not listed; 2 usage or a bad key or\n"
"value; 3 configuration, file or store error; 4 refused by the rules\n"
"(allowlisted, removal needs review); 5 import done, with bad lines.\n"
"\n");
	list_conf_help(stdout);
}

struct opts {
	const char *config, *store, *code, *reason, *ttl, *source, *since, *cidr, *state,
		*type, *trap, *evidence;
	int json, check_config, by_request, config_given;
	char **args;
	int nargs;
};

/* -- output helpers ---------------------------------------------------- */

static void iso(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !gmtime_r(&tt, &tm)) {
		str_copy(buf, len, "never");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void json_time(FILE *f, int64_t t)
{
	char b[40];

	if (!t) {
		fputs("null", f);
		return;
	}
	iso(t, b, sizeof(b));
	fprintf(f, "\"%s\"", b);
}

/* s with control bytes as '?', for text output. */
static void put_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s < 32 || *s == 127 ? '?' : *s, f);
}

/* Multi-line text (evidence), each line after prefix; CR before LF
 * dropped, other control bytes but tab shown as '?'. */
static void put_lines(FILE *f, const char *prefix, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "\n"), end = n;

		if (end && s[end - 1] == '\r')
			end--;
		fputs(prefix, f);
		for (size_t i = 0; i < end; i++)
			fputc((unsigned char)s[i] < 32 && s[i] != '\t' ? '?' :
			      s[i] == 127 ? '?' : s[i], f);
		fputc('\n', f);
		s += n + (s[n] == '\n');
	}
}

static const char *state_name(enum store_state s)
{
	static const char *const n[] = { "?", "listed", "removed", "expired", "excluded",
					 "pending" };

	return (unsigned)s < ARRAY_SIZE(n) ? n[s] : "?";
}

static int state_parse(const char *s)
{
	for (int i = STORE_LISTED; i <= STORE_PENDING; i++)
		if (!strcmp(s, state_name(i)))
			return i;
	return -1;
}

static void code_text(uint32_t code, char *b, size_t len)
{
	snprintf(b, len, "%u.%u.%u.%u", code >> 24, (code >> 16) & 255, (code >> 8) & 255,
		 code & 255);
}

static void json_listing(FILE *f, const struct store_listing *l, const struct store_zone *z)
{
	char code[20];

	code_text(l->code ? l->code : z ? z->code : 0, code, sizeof(code));
	fputs("{\"key\":", f);
	json_str(f, l->key.text);
	fprintf(f, ",\"state\":\"%s\",\"code\":", state_name(l->state));
	if (l->code || z)
		fprintf(f, "\"%s\"", code);
	else
		fputs("null", f);
	fputs(",\"reason\":", f);
	json_str(f, l->reason);
	fputs(",\"first_seen\":", f);
	json_time(f, l->first_seen);
	fputs(",\"last_seen\":", f);
	json_time(f, l->last_seen);
	fputs(",\"expires\":", f);
	json_time(f, l->expires);
	fputs(",\"changed\":", f);
	json_time(f, l->changed);
	fprintf(f, ",\"hits\":%u,\"level\":%u,\"removals\":%u,\"source\":", l->hits, l->level,
		l->removals);
	json_str(f, l->source);
	fputc('}', f);
}

static void text_listing_line(FILE *f, const struct store_listing *l, const struct store_zone *z)
{
	char code[20], exp[40];

	code_text(l->code ? l->code : z ? z->code : 0, code, sizeof(code));
	iso(l->expires, exp, sizeof(exp));
	fprintf(f, "%s\t%s\t%s\t%s\t", l->key.text, state_name(l->state), code, exp);
	put_text(f, l->source);
	fprintf(f, "\t%u\t", l->hits);
	put_text(f, l->reason);
	fputc('\n', f);
}

/* -- setup -------------------------------------------------------------- */

struct run {
	struct opts *o;
	struct list_conf *conf;
	struct store *st;
	struct list_ctx ctx;
	int64_t now;
};

static int64_t clock_now(void)
{
	const char *s = getenv("RBLKIT_NOW");
	char *end;
	long long v;

	if (s && *s) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (!*end && !errno && v > 0)
			return v;
		fprintf(stderr, "rblkit list: RBLKIT_NOW=%s is not Unix seconds: ignored\n", s);
	}
	return (int64_t)time(NULL);
}

static void print_conf_errors(const struct conftab_errors *e)
{
	for (unsigned i = 0; i < e->n; i++) {
		fputs(e->msg[i], stderr);
		fputs(strstr(e->msg[i], ": unknown key '") ?
		      " (rblkit help list lists the keys)\n" : "\n", stderr);
	}
	if (e->total > e->n)
		fprintf(stderr, "(%u more errors)\n", e->total - e->n);
}

static int load_conf(struct run *r)
{
	struct opts *o = r->o;
	struct conftab_errors e;
	FILE *f = NULL;

	if (!o->config_given && o->store && !(f = fopen(o->config, "r"))) {
		r->conf = list_conf_load(NULL, &e);     /* --store alone: defaults */
	} else {
		if (!o->config_given && o->store)
			fclose(f);
		r->conf = list_conf_load(o->config, &e);
		if (!r->conf) {
			print_conf_errors(&e);
			if (!o->config_given && !o->store)
				fprintf(stderr, "rblkit list: give --config FILE, or --store DSN "
					"for the default rules\n");
			return EX_STORE;
		}
	}
	if (o->store) {
		free(r->conf->store);
		r->conf->store = xstrdup(o->store);
	}
	return EX_OK;
}

static int open_store(struct run *r)
{
	char err[512];

	if (!r->conf->store || !*r->conf->store) {
		fprintf(stderr, "rblkit list: no store: set store = DSN in the configuration, "
			"or give --store DSN\n");
		return EX_STORE;
	}
	if (store_open(r->conf->store, 0, &r->st, err, sizeof(err))) {
		fprintf(stderr, "rblkit list: store: %s\n", err);
		return EX_STORE;
	}
	if (list_conf_sync(r->conf, r->st, err, sizeof(err))) {
		fprintf(stderr, "rblkit list: store %s: writing the zones' data: %s\n",
			r->conf->store, err);
		return EX_STORE;
	}
	r->ctx.st = r->st;
	r->ctx.conf = r->conf;
	r->ctx.now = r->now;
	return EX_OK;
}

/* A zone name as the store keeps it: lowercase, no final dot. */
static int zone_arg(const char *in, char *out, size_t len)
{
	size_t n = strlen(in);
	struct store_key k;
	char why[200];

	if (n && in[n - 1] == '.')
		n--;
	if (!n || n >= len || n >= STORE_ZONE_MAX) {
		fprintf(stderr, "rblkit list: '%s' is not a zone name\n", in);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
	out[n] = '\0';
	if (store_key_parse(out, &k, why, sizeof(why)) || k.kind != STORE_NAME) {
		fprintf(stderr, "rblkit list: '%s' is not a zone name\n", in);
		return -1;
	}
	return 0;
}

static int key_arg(const char *s)
{
	struct store_key k;
	char why[200];

	if (store_key_parse(s, &k, why, sizeof(why))) {
		fprintf(stderr, "rblkit list: bad key '%s': %s\n", s, why);
		return -1;
	}
	return 0;
}

static int need_args(const struct opts *o, int n, const char *usage)
{
	if (o->nargs - 1 == n)
		return 0;
	fprintf(stderr, "rblkit list: usage: rblkit list %s\n", usage);
	return -1;
}

/* "never", or a time with s m h d w. */
static int ttl_arg(const char *s, uint32_t *out)
{
	const char *end;

	if (!strcmp(s, "never")) {
		*out = UINT32_MAX;
		return 0;
	}
	end = parse_time(s, out);
	if (!end || *end || *out == 0 || *out == UINT32_MAX) {
		fprintf(stderr, "rblkit list: --ttl %s: expected a duration (30m, 24h, 7d) "
			"or never\n", s);
		return -1;
	}
	return 0;
}

static int code_arg(const char *s, uint32_t *out)
{
	unsigned a, b, c, d;
	char tail;

	if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 &&
	    c < 256 && d < 256 && (b | c | d) && !(b == 0 && c == 0 && d == 1)) {
		*out = a << 24 | b << 16 | c << 8 | d;
		return 0;
	}
	fprintf(stderr, "rblkit list: --code %s: expected an address in 127.0.0.0/8 "
		"(not 127.0.0.0 or 127.0.0.1)\n", s);
	return -1;
}

/* An ISO 8601 time (date, or date and time, UTC), or a duration ago. */
static int since_arg(const char *s, int64_t now, int64_t *out)
{
	struct tm tm;
	const char *end;
	uint32_t ago;
	char *rest;

	memset(&tm, 0, sizeof(tm));
	if ((rest = strptime(s, "%Y-%m-%d", &tm))) {
		if (*rest == 'T' || *rest == ' ') {
			if (!(rest = strptime(rest + 1, "%H:%M", &tm)))
				goto bad;
			if (*rest == ':' && !(rest = strptime(rest + 1, "%S", &tm)))
				goto bad;
		}
		if (*rest == 'Z')
			rest++;
		if (*rest)
			goto bad;
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	end = parse_time(s, &ago);
	if (end && !*end) {
		*out = now - ago;
		return 0;
	}
bad:
	fprintf(stderr, "rblkit list: --since %s: expected 2026-12-01, 2026-12-01T10:00:00Z "
		"or a duration ago (7d)\n", s);
	return -1;
}

/* -- add, remove, hit ---------------------------------------------------- */

static int outcome_status(enum list_outcome o)
{
	switch (o) {
	case LIST_NOT_LISTED:
		return EX_NOTFOUND;
	case LIST_ALLOWED:
	case LIST_REVIEW:
		return EX_REFUSED;
	default:
		return EX_OK;
	}
}

static void print_result(const struct run *r, const char *zone, const struct list_result *res)
{
	struct store_zone z;
	char exp[40];

	if (r->o->json) {
		/* a listing with the zone's code shows that code */
		int have = store_zone_get(r->st, zone, &z) == 0;

		printf("{\"zone\":");
		json_str(stdout, zone);
		printf(",\"key\":");
		json_str(stdout, res->key);
		printf(",\"outcome\":\"%s\",\"note\":", list_outcome_name(res->outcome));
		json_str(stdout, res->note);
		printf(",\"listing\":");
		json_listing(stdout, &res->l, have ? &z : NULL);
		printf("}\n");
		return;
	}
	iso(res->l.expires, exp, sizeof(exp));
	printf("%s %s %s %s", list_outcome_name(res->outcome), res->key,
	       res->outcome == LIST_REMOVED ? "from" : "in", zone);
	switch (res->outcome) {
	case LIST_LISTED:
	case LIST_EXTENDED:
	case LIST_UPDATED:
		printf(": expires %s, level %u, hits %u", exp, res->l.level, res->l.hits);
		break;
	default:
		break;
	}
	if (res->note[0]) {
		printf(": ");
		put_text(stdout, res->note);
	}
	putchar('\n');
}

static int cmd_add(struct run *r, const char *zone)
{
	struct opts *o = r->o;
	struct list_add a = { .reason = o->reason, .source = o->source ? o->source : "cli",
			      .actor = "cli" };
	struct list_result res;
	char err[512];

	if (need_args(o, 2, "add ZONE KEY [--code A] [--reason TEXT] [--ttl D] [--source S]") ||
	    key_arg(o->args[2]) || (o->code && code_arg(o->code, &a.code)) ||
	    (o->ttl && ttl_arg(o->ttl, &a.ttl)))
		return EX_USAGE;
	if (list_do_add(&r->ctx, zone, o->args[2], &a, &res, err, sizeof(err))) {
		fprintf(stderr, "rblkit list add: %s\n", err);
		return EX_STORE;
	}
	print_result(r, zone, &res);
	return outcome_status(res.outcome);
}

static int cmd_remove(struct run *r, const char *zone)
{
	struct opts *o = r->o;
	struct list_result res;
	char err[512];

	if (need_args(o, 2, "remove ZONE KEY [--reason TEXT] [--by-request]") ||
	    key_arg(o->args[2]))
		return EX_USAGE;
	if (list_do_remove(&r->ctx, zone, o->args[2], o->reason, "cli",
			   o->by_request, &res, err, sizeof(err))) {
		fprintf(stderr, "rblkit list remove: %s\n", err);
		return EX_STORE;
	}
	print_result(r, zone, &res);
	return outcome_status(res.outcome);
}

static char *read_small(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = xmalloc(max + 1);
	n = fread(buf, 1, max, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int cmd_hit(struct run *r, const char *zone)
{
	struct opts *o = r->o;
	struct list_hit h = { .trap = o->trap, .source = o->source ? o->source : "report" };
	struct list_result res;
	char err[512], *ev = NULL;
	int rc;

	if (need_args(o, 2, "hit ZONE KEY [--trap ADDR] [--source S] [--evidence FILE]") ||
	    key_arg(o->args[2]))
		return EX_USAGE;
	if (o->evidence && !(ev = read_small(o->evidence, STORE_EXCERPT_MAX - 1))) {
		fprintf(stderr, "rblkit list hit: %s: %s\n", o->evidence, strerror(errno));
		return EX_STORE;
	}
	h.excerpt = ev;
	rc = list_do_hit(&r->ctx, zone, o->args[2], &h, &res, err, sizeof(err));
	free(ev);
	if (rc) {
		fprintf(stderr, "rblkit list hit: %s\n", err);
		return EX_STORE;
	}
	print_result(r, zone, &res);
	return outcome_status(res.outcome);
}

/* -- show, history, search ---------------------------------------------- */

struct printer {
	FILE *f;
	int json, n;
	const struct store_zone *z;
};

static int print_event(void *arg, const struct store_event *ev)
{
	struct printer *p = arg;
	char t[40];
	const char *name = store_event_name(ev->type);

	if (p->json) {
		fputs(p->n++ ? ",{\"time\":" : "{\"time\":", p->f);
		json_time(p->f, ev->time);
		fprintf(p->f, ",\"event\":\"%s\",\"actor\":", name ? name : "?");
		json_str(p->f, ev->actor);
		fputs(",\"how\":", p->f);
		json_str(p->f, ev->how);
		fputs(",\"detail\":", p->f);
		json_str(p->f, ev->detail);
		fputc('}', p->f);
		return 0;
	}
	iso(ev->time, t, sizeof(t));
	fprintf(p->f, "  %s %s by ", t, name ? name : "?");
	put_text(p->f, ev->actor);
	if (ev->how[0]) {
		fputs(" (", p->f);
		put_text(p->f, ev->how);
		fputc(')', p->f);
	}
	if (ev->detail[0]) {
		fputs(": ", p->f);
		put_text(p->f, ev->detail);
	}
	fputc('\n', p->f);
	return 0;
}

static int print_evidence(void *arg, const struct store_evidence *ev)
{
	struct printer *p = arg;
	char t[40], masked[STORE_KEY_MAX];

	list_mask_addr(ev->trap, masked, sizeof(masked));
	if (p->json) {
		fputs(p->n++ ? ",{\"time\":" : "{\"time\":", p->f);
		json_time(p->f, ev->time);
		fputs(",\"source\":", p->f);
		json_str(p->f, ev->source);
		fputs(",\"trap\":", p->f);
		json_str(p->f, masked);
		fputs(",\"headers\":", p->f);
		json_str(p->f, ev->headers);
		fputs(",\"excerpt\":", p->f);
		json_str(p->f, ev->excerpt);
		fputc('}', p->f);
		return 0;
	}
	iso(ev->time, t, sizeof(t));
	fprintf(p->f, "  %s ", t);
	put_text(p->f, ev->source);
	fputs(" to ", p->f);
	put_text(p->f, masked);
	fputc('\n', p->f);
	put_lines(p->f, "    | ", ev->headers);
	put_lines(p->f, "    > ", ev->excerpt);
	return 0;
}

/* The listing of key, or of the /N of a bare IPv6 address. */
static int find(struct run *r, const char *zone, const char *key, struct store_listing *l)
{
	struct store_key k;
	char why[200];
	int rc;

	if (store_key_parse(key, &k, why, sizeof(why)))
		return -1;
	rc = store_get(r->st, zone, k.text, l);
	if (rc == STORE_NOTFOUND && k.kind == STORE_IP6 && k.bits == 128) {
		store_key_truncate(&k, list_rules_for(r->conf, zone)->ip6_bits);
		rc = store_get(r->st, zone, k.text, l);
	}
	if (rc < 0)
		fprintf(stderr, "rblkit list: %s\n", store_error(r->st));
	else if (rc == STORE_NOTFOUND && !r->o->json)
		fprintf(stderr, "rblkit list: %s: no listing of %s\n", zone, key);
	else if (rc == STORE_NOTFOUND) {
		printf("{\"zone\":");
		json_str(stdout, zone);
		printf(",\"key\":");
		json_str(stdout, k.text);
		printf(",\"found\":false}\n");
	}
	return rc;
}

static void show_text(const struct store_listing *l, const struct store_zone *z)
{
	char code[20], t1[40], t2[40], t3[40];

	code_text(l->code ? l->code : z->code, code, sizeof(code));
	iso(l->first_seen, t1, sizeof(t1));
	iso(l->last_seen, t2, sizeof(t2));
	iso(l->expires, t3, sizeof(t3));
	printf("key:        %s\nzone:       %s\nstatus:     %s\ncode:       %s%s\n",
	       l->key.text, z->name, state_name(l->state), code, l->code ? "" : " (zone default)");
	printf("reason:     ");
	put_text(stdout, l->reason[0] ? l->reason : z->txt);
	printf("%s\nfirst seen: %s\nlast seen:  %s\nexpires:    %s\n",
	       l->reason[0] ? "" : " (zone template)", t1, t2, t3);
	printf("hits:       %u\nlevel:      %u\nremovals:   %u (by request)\nsource:     ",
	       l->hits, l->level, l->removals);
	put_text(stdout, l->source);
	putchar('\n');
}

static int cmd_show(struct run *r, const char *zone)
{
	struct printer p = { stdout, r->o->json, 0, NULL };
	struct store_listing l;
	struct store_zone z;
	int rc;

	if (need_args(r->o, 2, "show ZONE KEY") || key_arg(r->o->args[2]))
		return EX_USAGE;
	if ((rc = find(r, zone, r->o->args[2], &l)))
		return rc < 0 ? EX_STORE : EX_NOTFOUND;
	if (store_zone_get(r->st, zone, &z))
		return EX_STORE;
	if (p.json) {
		printf("{\"zone\":");
		json_str(stdout, zone);
		printf(",\"found\":true,\"listing\":");
		json_listing(stdout, &l, &z);
		printf(",\"history\":[");
	} else {
		show_text(&l, &z);
		printf("history:\n");
	}
	if (store_history(r->st, zone, l.key.text, print_event, &p))
		return EX_STORE;
	p.n = 0;
	printf(p.json ? "],\"evidence\":[" : "evidence:\n");
	if (store_evidence(r->st, zone, l.key.text, 10, print_evidence, &p))
		return EX_STORE;
	if (p.json)
		printf("]}\n");
	return EX_OK;
}

static int cmd_history(struct run *r, const char *zone)
{
	struct printer p = { stdout, r->o->json, 0, NULL };
	struct store_listing l;
	int rc;

	if (need_args(r->o, 2, "history ZONE KEY") || key_arg(r->o->args[2]))
		return EX_USAGE;
	if ((rc = find(r, zone, r->o->args[2], &l)))
		return rc < 0 ? EX_STORE : EX_NOTFOUND;
	if (p.json) {
		printf("{\"zone\":");
		json_str(stdout, zone);
		printf(",\"key\":");
		json_str(stdout, l.key.text);
		printf(",\"events\":[");
	}
	if (store_history(r->st, zone, l.key.text, print_event, &p))
		return EX_STORE;
	if (p.json)
		printf("]}\n");
	return EX_OK;
}

static int print_one(void *arg, const struct store_listing *l)
{
	struct printer *p = arg;

	if (p->json) {
		if (p->n++)
			fputc(',', p->f);
		json_listing(p->f, l, p->z);
	} else {
		p->n++;
		text_listing_line(p->f, l, p->z);
	}
	return 0;
}

static int cmd_search(struct run *r, const char *zone)
{
	struct opts *o = r->o;
	struct store_filter f = { .source = o->source };
	struct printer p = { stdout, o->json, 0, NULL };
	struct store_zone z;
	struct store_key net;
	char why[200];

	if (need_args(o, 1, "search ZONE [--source S] [--since T] [--cidr NET] [--state S]"))
		return EX_USAGE;
	if (o->since && since_arg(o->since, r->now, &f.since))
		return EX_USAGE;
	if (o->state && (f.state = state_parse(o->state)) < 0) {
		fprintf(stderr, "rblkit list search: --state %s: expected listed, removed, "
			"expired, excluded or pending\n", o->state);
		return EX_USAGE;
	}
	if (o->cidr) {
		if (store_key_parse(o->cidr, &net, why, sizeof(why)) ||
		    (net.kind != STORE_IP4 && net.kind != STORE_IP6)) {
			fprintf(stderr, "rblkit list search: --cidr %s: %s\n", o->cidr,
				net.kind == STORE_IP4 || net.kind == STORE_IP6 ? why :
				"expected an IPv4 or IPv6 network");
			return EX_USAGE;
		}
		f.within = &net;
	}
	if (store_zone_get(r->st, zone, &z) == 0)
		p.z = &z;
	if (p.json) {
		printf("{\"zone\":");
		json_str(stdout, zone);
		printf(",\"listings\":[");
	}
	if (store_search(r->st, zone, &f, print_one, &p) < 0) {
		fprintf(stderr, "rblkit list search: %s\n", store_error(r->st));
		return EX_STORE;
	}
	if (p.json)
		printf("],\"count\":%d}\n", p.n);
	return EX_OK;
}

/* -- import, export, expire, stats ---------------------------------------- */

struct warner {
	unsigned n;
};

static void import_warn(void *arg, const char *msg)
{
	struct warner *w = arg;

	if (++w->n <= 50)
		fprintf(stderr, "%s\n", msg);
	else if (w->n == 51)
		fprintf(stderr, "(more warnings not shown)\n");
}

static int cmd_import(struct run *r, const char *zone)
{
	struct opts *o = r->o;
	enum import_type t = IMPORT_GUESS;
	struct import_stats s;
	struct warner w = { 0 };
	uint32_t ttl = 0;
	char err[512];

	if (need_args(o, 2, "import ZONE FILE [--type T] [--ttl DURATION]"))
		return EX_USAGE;
	if (o->type && import_type_parse(o->type, &t)) {
		fprintf(stderr, "rblkit list import: --type %s: expected ip4set, ip4tset, "
			"ip4trie, ip6trie, ip6tset or dnset\n", o->type);
		return EX_USAGE;
	}
	if (o->ttl && ttl_arg(o->ttl, &ttl))
		return EX_USAGE;
	if (ttl == UINT32_MAX)
		ttl = 0;
	if (list_import(&r->ctx, zone, o->args[2], t, ttl, 0, import_warn, &w, &s, err,
			sizeof(err))) {
		fprintf(stderr, "rblkit list import: %s\n", err);
		return EX_STORE;
	}
	if (o->json) {
		printf("{\"zone\":\"%s\",\"file\":", zone);
		json_str(stdout, o->args[2]);
		printf(",\"lines\":%lu,\"entries\":%lu,\"excluded\":%lu,\"bad\":%lu,"
		       "\"specials\":%lu,\"allowed\":%lu,\"unchanged\":%lu}\n", s.lines,
		       s.entries, s.excluded, s.bad, s.specials, s.allowed, s.unchanged);
	} else {
		printf("imported %s into %s: %lu lines, %lu entries, %lu exclusions, "
		       "%lu bad lines, %lu $-lines ignored, %lu allowlisted, %lu unchanged\n",
		       o->args[2], zone, s.lines, s.entries, s.excluded, s.bad, s.specials,
		       s.allowed, s.unchanged);
	}
	return s.bad ? EX_BADLINES : EX_OK;
}

static int cmd_export(struct run *r, const char *zone)
{
	struct opts *o = r->o;
	enum export_type t = EXPORT_AUTO;
	struct export_stats s;
	char err[512];

	if (need_args(o, 2, "export ZONE FILE [--type T]"))
		return EX_USAGE;
	if (o->type && export_type_parse(o->type, &t)) {
		fprintf(stderr, "rblkit list export: --type %s: expected auto, ip4trie, ip6trie, "
			"dnset or combined\n", o->type);
		return EX_USAGE;
	}
	if (list_export(r->st, zone, o->args[2], t, &s, err, sizeof(err))) {
		fprintf(stderr, "rblkit list export: %s\n", err);
		return EX_STORE;
	}
	if (o->json) {
		printf("{\"zone\":\"%s\",\"file\":", zone);
		json_str(stdout, o->args[2]);
		printf(",\"type\":\"%s\",\"serial\":%u,\"ip4\":%lu,\"ip6\":%lu,\"names\":%lu,"
		       "\"excluded\":%lu,\"left_out\":%lu}\n", export_type_name(s.type), s.serial,
		       s.ip4, s.ip6, s.names, s.excluded, s.left_out);
	} else {
		printf("exported %s to %s (%s, serial %u): %lu IPv4, %lu IPv6, %lu names, "
		       "%lu exclusions\n", zone, o->args[2], export_type_name(s.type), s.serial,
		       s.ip4, s.ip6, s.names, s.excluded);
	}
	if (s.left_out)
		fprintf(stderr, "rblkit list export: %lu entries of other kinds left out "
			"(--type combined writes them all)\n", s.left_out);
	return EX_OK;
}

static int cmd_expire(struct run *r)
{
	unsigned n = 0;

	if (need_args(r->o, 0, "expire"))
		return EX_USAGE;
	if (store_expire(r->st, NULL, r->now, &n)) {
		fprintf(stderr, "rblkit list expire: %s\n", store_error(r->st));
		return EX_STORE;
	}
	if (r->o->json)
		printf("{\"expired\":%u}\n", n);
	else
		printf("expired %u listings\n", n);
	return EX_OK;
}

struct zonelist {
	char (*names)[STORE_ZONE_MAX];
	unsigned n;
};

static int collect_zone(void *arg, const struct store_zone *z)
{
	struct zonelist *zl = arg;

	zl->names = xreallocarray(zl->names, zl->n + 1, sizeof(*zl->names));
	str_copy(zl->names[zl->n++], STORE_ZONE_MAX, z->name);
	return 0;
}

static void print_stats(const struct run *r, const char *zone, const struct store_stats *s,
			int first)
{
	if (r->o->json) {
		printf("%s{\"zone\":", first ? "" : ",");
		json_str(stdout, zone);
		printf(",\"serial\":%u,\"listed\":%llu,\"pending\":%llu,\"removed\":%llu,"
		       "\"expired\":%llu,\"excluded\":%llu,\"events\":%llu,\"evidence\":%llu,"
		       "\"hits\":%llu,\"journal\":%llu}", s->serial,
		       (unsigned long long)s->listed, (unsigned long long)s->pending,
		       (unsigned long long)s->removed, (unsigned long long)s->expired,
		       (unsigned long long)s->excluded, (unsigned long long)s->events,
		       (unsigned long long)s->evidence, (unsigned long long)s->hits,
		       (unsigned long long)s->journal);
		return;
	}
	printf("%s: serial %u, %llu listed, %llu pending, %llu removed, %llu expired, "
	       "%llu excluded; %llu events, %llu evidence, %llu hits, %llu journal rows\n",
	       zone, s->serial, (unsigned long long)s->listed, (unsigned long long)s->pending,
	       (unsigned long long)s->removed, (unsigned long long)s->expired,
	       (unsigned long long)s->excluded, (unsigned long long)s->events,
	       (unsigned long long)s->evidence, (unsigned long long)s->hits,
	       (unsigned long long)s->journal);
}

static int cmd_stats(struct run *r)
{
	struct zonelist zl = { NULL, 0 };
	char zone[STORE_ZONE_MAX];
	int rc = EX_OK;

	if (r->o->nargs > 2) {
		fprintf(stderr, "rblkit list: usage: rblkit list stats [ZONE]\n");
		return EX_USAGE;
	}
	if (r->o->nargs == 2) {
		if (zone_arg(r->o->args[1], zone, sizeof(zone)))
			return EX_USAGE;
		zl.names = xmalloc(sizeof(*zl.names));
		str_copy(zl.names[zl.n++], STORE_ZONE_MAX, zone);
	} else if (store_zones(r->st, collect_zone, &zl)) {
		fprintf(stderr, "rblkit list stats: %s\n", store_error(r->st));
		return EX_STORE;
	}
	if (r->o->json)
		printf("{\"zones\":[");
	for (unsigned i = 0; i < zl.n && rc == EX_OK; i++) {
		struct store_stats s;
		int e = store_stats(r->st, zl.names[i], &s);

		if (e == STORE_NOTFOUND) {
			fprintf(stderr, "rblkit list stats: no zone %s in the store\n", zl.names[i]);
			rc = EX_NOTFOUND;
		} else if (e) {
			fprintf(stderr, "rblkit list stats: %s\n", store_error(r->st));
			rc = EX_STORE;
		} else {
			print_stats(r, zl.names[i], &s, i == 0);
		}
	}
	if (r->o->json)
		printf("]}\n");
	free(zl.names);
	return rc;
}

/* -- main ------------------------------------------------------------------ */

enum {
	O_CONFIG = 256, O_STORE, O_JSON, O_CHECK, O_CODE, O_REASON, O_TTL, O_SOURCE, O_SINCE,
	O_CIDR, O_STATE, O_TYPE, O_TRAP, O_EVIDENCE, O_BYREQ,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, O_CONFIG },
	{ "store", required_argument, NULL, O_STORE },
	{ "json", no_argument, NULL, O_JSON },
	{ "check-config", no_argument, NULL, O_CHECK },
	{ "code", required_argument, NULL, O_CODE },
	{ "reason", required_argument, NULL, O_REASON },
	{ "ttl", required_argument, NULL, O_TTL },
	{ "source", required_argument, NULL, O_SOURCE },
	{ "since", required_argument, NULL, O_SINCE },
	{ "cidr", required_argument, NULL, O_CIDR },
	{ "state", required_argument, NULL, O_STATE },
	{ "type", required_argument, NULL, O_TYPE },
	{ "trap", required_argument, NULL, O_TRAP },
	{ "evidence", required_argument, NULL, O_EVIDENCE },
	{ "by-request", no_argument, NULL, O_BYREQ },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	o->config = DEFAULT_CONFIG;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
		case O_CONFIG: o->config = optarg; o->config_given = 1; break;
		case O_STORE: o->store = optarg; break;
		case O_JSON: o->json = 1; break;
		case O_CHECK: o->check_config = 1; break;
		case O_CODE: o->code = optarg; break;
		case O_REASON: o->reason = optarg; break;
		case O_TTL: o->ttl = optarg; break;
		case O_SOURCE: o->source = optarg; break;
		case O_SINCE: o->since = optarg; break;
		case O_CIDR: o->cidr = optarg; break;
		case O_STATE: o->state = optarg; break;
		case O_TYPE: o->type = optarg; break;
		case O_TRAP: o->trap = optarg; break;
		case O_EVIDENCE: o->evidence = optarg; break;
		case O_BYREQ: o->by_request = 1; break;
		case 'h': cmd_list_help(); return EX_OK + 100;
		default: return cmd_usage_error("list");
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return -1;
}

static int check_config(const struct opts *o)
{
	struct conftab_errors e;
	struct list_conf *c = list_conf_load(o->config, &e);

	if (!c) {
		print_conf_errors(&e);
		return 1;
	}
	printf("%s: ok: store %s, %u zone sections\n", o->config, c->store ? c->store : "(none)",
	       c->nzones);
	list_conf_free(c);
	return 0;
}

static int dispatch(struct run *r)
{
	const char *sub = r->o->args[0];
	char zone[STORE_ZONE_MAX];
	static const char *const zoned[] = { "add", "remove", "hit", "show", "search",
					     "history", "import", "export" };

	if (!strcmp(sub, "expire"))
		return cmd_expire(r);
	if (!strcmp(sub, "stats"))
		return cmd_stats(r);
	for (size_t i = 0; i < ARRAY_SIZE(zoned); i++) {
		if (strcmp(sub, zoned[i]))
			continue;
		if (r->o->nargs < 2) {
			fprintf(stderr, "rblkit list %s: which zone?\n", sub);
			return cmd_usage_error("list");
		}
		if (zone_arg(r->o->args[1], zone, sizeof(zone)))
			return EX_USAGE;
		switch (i) {
		case 0: return cmd_add(r, zone);
		case 1: return cmd_remove(r, zone);
		case 2: return cmd_hit(r, zone);
		case 3: return cmd_show(r, zone);
		case 4: return cmd_search(r, zone);
		case 5: return cmd_history(r, zone);
		case 6: return cmd_import(r, zone);
		default: return cmd_export(r, zone);
		}
	}
	return -1;
}

static int known(const char *sub)
{
	static const char *const subs[] = { "add", "remove", "hit", "show", "search", "history",
					    "import", "export", "expire", "stats" };

	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(sub, subs[i]))
			return 1;
	return 0;
}

int cmd_list(int argc, char **argv)
{
	struct opts o = { 0 };
	struct run r = { .o = &o };
	int rc = parse_opts(argc, argv, &o);

	if (rc == EX_OK + 100)
		return EX_OK;
	if (rc >= 0)
		return rc;
	if (o.check_config)
		return check_config(&o);
	if (o.nargs < 1) {
		fprintf(stderr, "rblkit list: which command? (add, remove, hit, show, search, "
			"history, import, export, expire, stats)\n");
		return cmd_usage_error("list");
	}
	if (!known(o.args[0])) {
		fprintf(stderr, "rblkit list: unknown command '%s'\n", o.args[0]);
		return cmd_usage_error("list");
	}
	r.now = clock_now();
	if ((rc = load_conf(&r)) || (rc = open_store(&r)))
		goto out;
	rc = dispatch(&r);
out:
	if (r.st)
		store_close(r.st);
	list_conf_free(r.conf);
	if (fflush(stdout) && rc == EX_OK)
		rc = EX_STORE;
	return rc;
}
