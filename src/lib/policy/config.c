/*
 * config.c - configuration file of rblkit policy: one table of keys,
 * each with its type, default, range and meaning.
 *
 * SECURITY: operator input only; every value is checked here so that the
 * daemon never starts (or reloads) with a value it cannot use.
 */
#include "policy/config.h"
#include "policy/counters.h"
#include "base/conftab.h"
#include "base/ipaddr.h"
#include "base/listen.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

/* -- value parsers --------------------------------------------------- */

static int parse_net(const char *s, size_t n, struct pcfg_net *net)
{
	char buf[64];
	const char *end;
	uint32_t a;
	int bits;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(net, 0, sizeof(*net));
	if (strchr(buf, ':')) {
		bits = ip6_cidr(buf, net->addr, &end);
		if (bits < 0 || *end || ip6_host_bits(net->addr, bits))
			return -1;
		net->family = AF_INET6;
	} else {
		bits = ip4_cidr(buf, &a, &end);
		if (bits < 0 || *end || (bits < 32 && (a & ~ip4_mask(bits))))
			return -1;
		a = htonl(a);
		memcpy(net->addr, &a, 4);
		net->family = AF_INET;
	}
	net->bits = bits;
	return 0;
}

static int parse_nets(const char *v, struct pcfg_net **out, size_t *nout, char *err, size_t el)
{
	const char *p = v;

	*out = NULL;
	*nout = 0;
	for (;;) {
		size_t n;

		p += strspn(p, ", \t");
		if (!*p)
			return 0;
		n = strcspn(p, ", \t");
		*out = xreallocarray(*out, *nout + 1, sizeof(**out));
		if (parse_net(p, n, &(*out)[*nout])) {
			snprintf(err, el, "'%.*s' is not an address or CIDR "
				 "(without host bits)", (int)(n > 60 ? 60 : n), p);
			return -1;
		}
		(*nout)++;
		p += n;
	}
}

bool pcfg_net_match(const struct pcfg_net *nets, size_t n, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		const struct pcfg_net *net = &nets[i];
		int full, rest;

		if (net->family != family)
			continue;
		full = net->bits / 8;
		rest = net->bits % 8;
		if (memcmp(net->addr, addr, (size_t)full))
			continue;
		if (rest && ((net->addr[full] ^ addr[full]) & (0xff00 >> rest) & 0xff))
			continue;
		return true;
	}
	return false;
}

static int cmp_override(const void *a, const void *b)
{
	return strcmp(((const struct pcfg_override *)a)->user,
		      ((const struct pcfg_override *)b)->user);
}

static int parse_override(struct pcfg *c, const char *v, char *err, size_t el)
{
	const char *colon = strchr(v, ':');
	struct pcfg_override o;
	size_t ul;

	if (!colon || colon == v) {
		snprintf(err, el, "expected USER: N messages/WINDOW, ...");
		return -1;
	}
	ul = (size_t)(colon - v);
	while (ul && isspace((unsigned char)v[ul - 1]))
		ul--;
	if (ul == 0 || ul > RL_MAX_KEY) {
		snprintf(err, el, "the user name must be 1..%d characters", RL_MAX_KEY);
		return -1;
	}
	if (rl_parse_limits(colon + 1, &o.limits, err, el))
		return -1;
	o.user = xstrndup(v, ul);
	for (size_t i = 0; i < c->nov; i++)
		if (!strcmp(c->ov[i].user, o.user)) {
			snprintf(err, el, "a second override for %s", o.user);
			free(o.user);
			return -1;
		}
	c->ov = xreallocarray(c->ov, c->nov + 2, sizeof(*c->ov));
	c->ov[c->nov++] = o;
	c->ov[c->nov].user = NULL;	/* for f_override_free */
	return 0;
}

static int check_resolver(const char *v, char *err, size_t el)
{
	const char *p = v;

	if (!strcmp(v, "system") || !strcmp(v, "recursive"))
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		char one[80];
		const char *host = one;
		char *colon, *end;
		uint8_t buf[16];

		if (n == 0 || n >= sizeof(one))
			goto bad;
		memcpy(one, p, n);
		one[n] = '\0';
		if (one[0] == '[') {
			char *rb = strchr(one, ']');

			if (!rb)
				goto bad;
			*rb = '\0';
			host = one + 1;
			colon = rb[1] == ':' ? rb + 1 : NULL;
			if (!colon && rb[1])
				goto bad;
		} else {
			colon = strchr(one, ':');
			if (colon)
				*colon = '\0';
		}
		if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
			goto bad;
		if (colon) {
			long port = strtol(colon + 1, &end, 10);

			if (end == colon + 1 || *end || port < 1 || port > 65535)
				goto bad;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
bad:
	snprintf(err, el, "expected system, recursive, or ADDR[:PORT][,ADDR[:PORT]...]");
	return -1;
}

/* -- the keys (conftab FUNC parsers) --------------------------------- */

static int f_listen(void *conf, void *field, const char *v, char *err, size_t el)
{
	struct pcfg *c = conf;
	struct listen_list l;
	char why[200];

	if (listen_parse(v, LISTEN_COLON | LISTEN_UNIX, NULL, 0, &l, why, sizeof(why))) {
		snprintf(err, el, "expected ADDR:PORT or [ADDR6]:PORT (an IP address, not a "
			 "name) or /path (%s)", why);
		return -1;
	}
	c->listen_addr = l.a[0];	/* numeric, no wildcard: one address */
	free(*(char **)field);
	*(char **)field = xstrdup(v);
	return 0;
}

static int f_resolver(void *conf, void *field, const char *v, char *err, size_t el)
{
	(void)conf;
	if (check_resolver(v, err, el))
		return -1;
	free(*(char **)field);
	*(char **)field = xstrdup(v);
	return 0;
}

static void f_free(void *field)
{
	free(*(void **)field);
}

static int f_sites(void *conf, void *field, const char *v, char *err, size_t el)
{
	struct sites *s = sites_parse(v, err, el);

	(void)conf;
	if (!s)
		return -1;
	sites_free(*(struct sites **)field);
	*(struct sites **)field = s;
	return 0;
}

static void f_sites_free(void *field)
{
	sites_free(*(struct sites **)field);
}

static int f_nets(void *conf, void *field, const char *v, char *err, size_t el)
{
	struct pcfg *c = conf;

	free(*(struct pcfg_net **)field);
	return parse_nets(v, field, field == &c->allow ? &c->nallow : &c->noutnets, err, el);
}

static int f_limits(void *conf, void *field, const char *v, char *err, size_t el)
{
	(void)conf;
	return rl_parse_limits(v, field, err, el);
}

static int f_override(void *conf, void *field, const char *v, char *err, size_t el)
{
	(void)field;
	return parse_override(conf, v, err, el);
}

/* ov ends with an entry whose user is NULL (the release has no nov) */
static void f_override_free(void *field)
{
	struct pcfg_override *ov = *(struct pcfg_override **)field;

	for (size_t i = 0; ov && ov[i].user; i++)
		free(ov[i].user);
	free(ov);
}

/* What spans keys; every reason, joined by "; ". A check that involves a
 * key whose value was refused is skipped (that error is told already). */
static int check_whole(void *conf, const struct conftab_bad *bad, char *err, size_t el)
{
	struct pcfg *c = conf;
	const struct rl_limits *sets[64];
	uint32_t periods[RL_MAX_PERIODS];
	size_t np, ns, off = 0;
	const char *why[2];
	unsigned n = 0;
	char windows[160];

	if (!conftab_bad(bad, "dnsbl_cache_min_ttl") && !conftab_bad(bad, "dnsbl_cache_max_ttl") &&
	    c->cache_min_ttl > c->cache_max_ttl)
		why[n++] = "dnsbl_cache_min_ttl is above dnsbl_cache_max_ttl";
	if (!conftab_bad(bad, "outbound_limits") && !conftab_bad(bad, "outbound_override")) {
		ns = pcfg_limit_sets(c, sets, ARRAY_SIZE(sets));
		if (c->nov + 1 > ARRAY_SIZE(sets) || rl_periods(sets, ns, periods, &np)) {
			snprintf(windows, sizeof(windows), "outbound_limits and overrides use "
				 "more than %d different windows (or more than 63 overrides)",
				 RL_MAX_PERIODS);
			why[n++] = windows;
		}
	}
	for (unsigned i = 0; i < n && off < el; i++)
		off += (size_t)snprintf(err + off, el - off, "%s%s", i ? "; " : "", why[i]);
	if (n)
		return -1;
	if (c->nov)
		qsort(c->ov, c->nov, sizeof(*c->ov), cmp_override);
	return 0;
}

/* state_dir: an absolute path (a relative one would depend on the
 * directory the daemon was started in). */
static int f_abspath(void *conf, void *field, const char *v, char *err, size_t el)
{
	(void)conf;
	(void)field;
	if (v[0] != '/') {
		snprintf(err, el, "must be an absolute path");
		return -1;
	}
	return 0;
}

/* outbound_store: local, or a URL pcs_new() accepts. */
static int f_store(void *conf, void *field, const char *v, char *err, size_t el)
{
	(void)conf;
	(void)field;
	if (!strcmp(v, "local"))
		return 0;
	return pcs_url_check(v, err, el);
}

static const char *const w_dact[] = { "reject", "prepend", NULL };
static const char *const w_oact[] = { "defer", "hold", NULL };
static const char *const w_block[] = { "window", "reset", NULL };
static const char *const w_log[] = { "stderr", "syslog", NULL };

#define O(f) offsetof(struct pcfg, f)
#define FN(p, r) .parse = (p), .release = (r)
static const struct conftab_key keys[] = {
	{ "listen", CONFTAB_FUNC, O(listen), "127.0.0.1:10040", FN(f_listen, f_free),
	  .help = "ADDR:PORT, [ADDR6]:PORT or /path of a unix socket" },
	{ "resolver", CONFTAB_FUNC, O(resolver), "system", FN(f_resolver, f_free),
	  .help = "system (resolv.conf), recursive (libunbound), or ADDR[:PORT],..." },
	{ "resolver_timeout", CONFTAB_UINT, O(resolver_timeout_ms), "1500", 50, 30000,
	  .help = "ms per DNS try (2 tries)" },
	{ "dnsbl_catalog", CONFTAB_STR, O(catalog), NULL,
	  .help = "extra list catalogue file (return codes of lists not built in)" },
	{ "dnsbl_sites", CONFTAB_FUNC, O(sites), "", FN(f_sites, f_sites_free),
	  .help = "zone[=d.d.d.d][*weight], ... (postscreen_dnsbl_sites syntax)" },
	{ "dnsbl_threshold", CONFTAB_INT, O(threshold), "1", 1, 1000000,
	  .help = "score at which a client is refused (or marked)" },
	{ "dnsbl_action", CONFTAB_ENUM, O(dnsbl_action), "reject", .words = w_dact,
	  .help = "reject, or prepend (a score header instead of a refusal)" },
	{ "dnsbl_reply", CONFTAB_STR, O(dnsbl_reply),
	  "554 5.7.1 Service unavailable; Client host [%a] blocked using %z%{; %t}",
	  .help = "refusal: %a address, %z zone, %t TXT, %s score, %{...%t} if TXT" },
	{ "dnsbl_header", CONFTAB_STR, O(dnsbl_header), "X-Rblkit-Score",
	  .help = "header name for dnsbl_action = prepend" },
	{ "dnsbl_budget", CONFTAB_UINT, O(budget_ms), "2000", 10, 60000,
	  .help = "ms a request may wait for the lists; then DUNNO (fail open)" },
	{ "dnsbl_cache_min_ttl", CONFTAB_TIME, O(cache_min_ttl), "60", 0, 86400,
	  .help = "shortest time a result is cached (s, or 5m ...)" },
	{ "dnsbl_cache_max_ttl", CONFTAB_TIME, O(cache_max_ttl), "3600", 1, 604800,
	  .help = "longest time a result is cached" },
	{ "dnsbl_cache_size", CONFTAB_UINT, O(cache_size), "65536", 64, 16777216,
	  .help = "client addresses cached" },
	{ "dnsbl_probe_interval", CONFTAB_TIME, O(probe_interval), "300", 0, 86400,
	  .help = "time between probes of each list's RFC 5782 test points; a list that "
	  "fails gives no verdict (0: no probes)" },
	{ "client_allowlist", CONFTAB_FUNC, O(allow), "", FN(f_nets, f_free),
	  .help = "CIDRs never scored" },
	{ "outbound_networks", CONFTAB_FUNC, O(outnets), "127.0.0.0/8, ::1", FN(f_nets, f_free),
	  .help = "CIDRs whose clients send outbound mail without SASL (webmail, scripts)" },
	{ "outbound_limits", CONFTAB_FUNC, O(limits), "", FN(f_limits, NULL),
	  .help = "N messages/WINDOW, N recipients/WINDOW, ... (hour, day, 10m)" },
	{ "outbound_override", CONFTAB_FUNC, O(ov), NULL, FN(f_override, f_override_free),
	  .flags = CONFTAB_REPEAT,
	  .help = "USER: limits (repeatable; replaces outbound_limits for USER)" },
	{ "outbound_action", CONFTAB_ENUM, O(out_action), "defer", .words = w_oact,
	  .help = "defer (4.7.1, the client retries) or hold (the hold queue)" },
	{ "outbound_reply", CONFTAB_STR, O(out_reply),
	  "4.7.1 Sending limit exceeded (%c of %l %k per %w); contact your provider",
	  .help = "text after DEFER/HOLD: %u user, %c count, %l limit, %k kind, %w window" },
	{ "outbound_block", CONFTAB_ENUM, O(block_until_reset), "window", .words = w_block,
	  .help = "window (lifted when the counts fall) or reset (until policy reset)" },
	{ "alert_command", CONFTAB_STR, O(alert_command), NULL,
	  .help = "/bin/sh command run when a user first crosses a limit "
	  "(RBLKIT_USER, RBLKIT_COUNT, RBLKIT_LIMIT, RBLKIT_KIND, RBLKIT_WINDOW)" },
	{ "outbound_baseline", CONFTAB_BOOL, O(baseline), "no",
	  .help = "yes: refuse a sender far above its own normal volume (baseline_*)" },
	{ "baseline_factor", CONFTAB_UINT, O(bl_factor), "5", 1, 1000,
	  .help = "refused above factor * (normal + 3 standard deviations) per hour or day" },
	{ "baseline_min", CONFTAB_UINT, O(bl_min), "30", 1, 10000000,
	  .help = "messages per hour never refused by the baseline (per day: 8 times it)" },
	{ "baseline_new_sender", CONFTAB_UINT, O(bl_new), "2", 0, 1000000,
	  .help = "the normal messages per hour assumed for a sender not seen before" },
	{ "baseline_reply", CONFTAB_STR, O(bl_reply),
	  "4.7.1 Unusual sending volume (%c messages this %w, normally about %b); "
	  "contact your provider",
	  .help = "text after DEFER/HOLD: %u user, %c count, %b normal, %l threshold, %w window" },
	{ "baseline_domains_factor", CONFTAB_UINT, O(bl_dom_factor), "0", 0, 1000,
	  .help = "refused above factor * (normal + 3 sd) distinct recipient domains per "
	  "hour or day; 0: not checked" },
	{ "baseline_domains_min", CONFTAB_UINT, O(bl_dom_min), "10", 1, 10000000,
	  .help = "distinct recipient domains per hour never refused (per day: 8 times it)" },
	{ "baseline_domains_new_sender", CONFTAB_UINT, O(bl_dom_new), "1", 0, 1000000,
	  .help = "the normal distinct recipient domains per hour assumed for a new sender" },
	{ "baseline_domains_reply", CONFTAB_STR, O(bl_dom_reply),
	  "4.7.1 Unusual number of recipient domains (%c this %w, normally about %b); "
	  "contact your provider",
	  .help = "text after DEFER/HOLD for the domains: %u, %c, %b, %l, %w as baseline_reply" },
	{ "outbound_store", CONFTAB_STR, O(store), "local", .parse = f_store,
	  .help = "where the outbound counts live: local (state_dir), or "
	  "redis[s]://[USER:PASSWORD@]HOST:PORT[/DB] shared by several daemons (rediss: TLS)" },
	{ "outbound_store_timeout", CONFTAB_UINT, O(store_timeout_ms), "200", 10, 60000,
	  .help = "ms a request waits for the shared store; then the local counts "
	  "decide (fail open)" },
	{ "outbound_store_ca", CONFTAB_STR, O(store_ca), NULL, .parse = f_abspath,
	  .help = "rediss://: the CA certificates (PEM) that sign the Redis server's "
	  "certificate (default: the system's)" },
	{ "state_dir", CONFTAB_STR, O(state_dir), "/var/lib/rblkit", .parse = f_abspath,
	  .help = "counters, journal and the control socket (created if missing)" },
	{ "max_users", CONFTAB_UINT, O(max_users), "1000000", 10, 100000000,
	  .help = "users counted at most" },
	{ "max_connections", CONFTAB_UINT, O(max_connections), "4096", 1, 1000000,
	  .help = "concurrent Postfix connections" },
	{ "idle_timeout", CONFTAB_TIME, O(idle_timeout), "3600", 1, 604800,
	  .help = "close a connection idle this long" },
	{ "user", CONFTAB_STR, O(user), NULL,
	  .help = "run as this user after binding (state_dir must be its)" },
	{ "log", CONFTAB_ENUM, O(syslog), "stderr", .words = w_log,
	  .help = "stderr or syslog" },
	{ "log_requests", CONFTAB_BOOL, O(log_requests), "no",
	  .help = "log every decision (yes) or only refusals and errors (no)" },
};
#undef FN
#undef O

const struct conftab pcfg_table = {
	.keys = keys, .nkeys = ARRAY_SIZE(keys), .size = sizeof(struct pcfg),
	.check_all = check_whole,
};

/* -- the file -------------------------------------------------------- */

/* The errors of e as text: one a line (no final newline), then how many
 * were past the bound. */
static void errors_text(const struct conftab_errors *e, const char *name, char *err, size_t el)
{
	size_t off = 0;

	if (!el)
		return;
	err[0] = '\0';
	for (unsigned i = 0; i < e->n && off < el; i++)
		off += (size_t)snprintf(err + off, el - off, "%s%s", i ? "\n" : "", e->msg[i]);
	if (e->total > e->n && off < el)
		snprintf(err + off, el - off, "\n%s: %u more errors not shown", name,
			 e->total - e->n);
}

static struct pcfg *adopt(struct pcfg *c, const char *name)
{
	c->path = xstrdup(name);
	c->refs = 1;
	return c;
}

struct pcfg *pcfg_parse(const char *text, const char *name, char *err, size_t el)
{
	struct pcfg *c = conftab_new(&pcfg_table);
	struct conftab_errors e;

	if (conftab_parse(&pcfg_table, c, text, name, &e)) {
		errors_text(&e, name, err, el);
		conftab_free(&pcfg_table, c);
		return NULL;
	}
	if (el)
		err[0] = '\0';
	return adopt(c, name);
}

struct pcfg *pcfg_load(const char *path, char *err, size_t el)
{
	struct conftab_errors e;
	struct pcfg *c = conftab_load(&pcfg_table, path, &e);

	if (!c) {
		errors_text(&e, path, err, el);
		return NULL;
	}
	return adopt(c, path);
}

void pcfg_free(struct pcfg *c)
{
	if (!c)
		return;
	free(c->path);
	conftab_free(&pcfg_table, c);
}

struct pcfg *pcfg_ref(struct pcfg *c)
{
	c->refs++;
	return c;
}

void pcfg_unref(struct pcfg *c)
{
	if (c && --c->refs == 0)
		pcfg_free(c);
}

const struct rl_limits *pcfg_limits_for(const struct pcfg *c, const char *user)
{
	size_t lo = 0, hi = c->nov;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(user, c->ov[mid].user);

		if (r == 0)
			return &c->ov[mid].limits;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return &c->limits;
}

size_t pcfg_limit_sets(const struct pcfg *c, const struct rl_limits **out, size_t max)
{
	size_t n = 0;

	if (max)
		out[n++] = &c->limits;
	for (size_t i = 0; i < c->nov && n < max; i++)
		out[n++] = &c->ov[i].limits;
	return n;
}

/* Append s (n bytes) to out at *off, within len (room kept for NUL). */
static void emit(char *out, size_t len, size_t *off, const char *s, size_t n)
{
	if (*off + 1 >= len)
		return;
	if (n > len - 1 - *off)
		n = len - 1 - *off;
	memcpy(out + *off, s, n);
	*off += n;
}

void pcfg_expand(const char *tmpl, const char *const vars[128], char *out, size_t len)
{
	size_t off = 0;

	if (!len)
		return;
	for (const char *p = tmpl; *p; p++) {
		const char *v;

		if (*p != '%' || !p[1]) {
			emit(out, len, &off, p, 1);
			continue;
		}
		p++;
		if (*p == '%') {
			emit(out, len, &off, "%", 1);
		} else if (*p == '{') {
			/* %{text}: text (expanded) only when %t is not empty */
			const char *close = strchr(p, '}');
			char inner[512];
			size_t il;

			if (!close)
				break;
			il = (size_t)(close - p - 1);
			if (il >= sizeof(inner))
				il = sizeof(inner) - 1;
			memcpy(inner, p + 1, il);
			inner[il] = '\0';
			if (vars['t'] && vars['t'][0]) {
				char sub[1024];

				pcfg_expand(inner, vars, sub, sizeof(sub));
				emit(out, len, &off, sub, strlen(sub));
			}
			p = close;
		} else if ((unsigned char)*p < 128 && (v = vars[(unsigned char)*p])) {
			emit(out, len, &off, v, strlen(v));
		}
	}
	out[off] = '\0';
}

