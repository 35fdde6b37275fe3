/*
 * pconfig.c - configuration file of rblkit policy: one table of keys,
 * each with its type, default, range and meaning.
 *
 * SECURITY: operator input only; every value is checked here so that the
 * daemon never starts (or reloads) with a value it cannot use.
 */
#include "policy/pconfig.h"
#include "base/ipaddr.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum ktype { K_STR, K_UINT, K_INT, K_BOOL, K_TIME, K_SITES, K_NETS, K_LIMITS,
	     K_OVERRIDE, K_DACTION, K_OACTION, K_BLOCK, K_LISTEN, K_RESOLVER,
	     K_LOG };

struct key {
	const char *name;
	enum ktype type;
	size_t off;
	const char *def;	/* NULL: no default (unset) */
	long min, max;
	const char *help;
};

#define O(f) offsetof(struct pcfg, f)
static const struct key keys[] = {
	{ "listen", K_LISTEN, O(listen), "127.0.0.1:10040", 0, 0,
	  "ADDR:PORT, [ADDR6]:PORT or /path of a unix socket" },
	{ "resolver", K_RESOLVER, O(resolver), "system", 0, 0,
	  "system (resolv.conf), recursive (libunbound), or ADDR[:PORT],..." },
	{ "resolver_timeout", K_UINT, O(resolver_timeout_ms), "1500", 50, 30000,
	  "ms per DNS try (2 tries)" },
	{ "dnsbl_catalog", K_STR, O(catalog), NULL, 0, 0,
	  "extra list catalogue file (return codes of lists not built in)" },
	{ "dnsbl_sites", K_SITES, O(sites), "", 0, 0,
	  "zone[=d.d.d.d][*weight], ... (postscreen_dnsbl_sites syntax)" },
	{ "dnsbl_threshold", K_INT, O(threshold), "1", 1, 1000000,
	  "score at which a client is refused (or marked)" },
	{ "dnsbl_action", K_DACTION, O(dnsbl_action), "reject", 0, 0,
	  "reject, or prepend (a score header instead of a refusal)" },
	{ "dnsbl_reply", K_STR, O(dnsbl_reply),
	  "554 5.7.1 Service unavailable; Client host [%a] blocked using %z%{; %t}",
	  0, 0, "refusal: %a address, %z zone, %t TXT, %s score, %{...%t} if TXT" },
	{ "dnsbl_header", K_STR, O(dnsbl_header), "X-Rblkit-Score", 0, 0,
	  "header name for dnsbl_action = prepend" },
	{ "dnsbl_budget", K_UINT, O(budget_ms), "2000", 10, 60000,
	  "ms a request may wait for the lists; then DUNNO (fail open)" },
	{ "dnsbl_cache_min_ttl", K_TIME, O(cache_min_ttl), "60", 0, 86400,
	  "shortest time a result is cached (s, or 5m ...)" },
	{ "dnsbl_cache_max_ttl", K_TIME, O(cache_max_ttl), "3600", 1, 604800,
	  "longest time a result is cached" },
	{ "dnsbl_cache_size", K_UINT, O(cache_size), "65536", 64, 16777216,
	  "client addresses cached" },
	{ "client_allowlist", K_NETS, O(allow), "", 0, 0,
	  "CIDRs never scored" },
	{ "outbound_networks", K_NETS, O(outnets), "127.0.0.0/8, ::1", 0, 0,
	  "CIDRs whose clients send outbound mail without SASL (webmail, scripts)" },
	{ "outbound_limits", K_LIMITS, O(limits), "", 0, 0,
	  "N messages/WINDOW, N recipients/WINDOW, ... (hour, day, 10m)" },
	{ "outbound_override", K_OVERRIDE, O(ov), NULL, 0, 0,
	  "USER: limits (repeatable; replaces outbound_limits for USER)" },
	{ "outbound_action", K_OACTION, O(out_action), "defer", 0, 0,
	  "defer (4.7.1, the client retries) or hold (the hold queue)" },
	{ "outbound_reply", K_STR, O(out_reply),
	  "4.7.1 Sending limit exceeded (%c of %l %k per %w); contact your provider",
	  0, 0, "text after DEFER/HOLD: %u user, %c count, %l limit, %k kind, %w window" },
	{ "outbound_block", K_BLOCK, O(block_until_reset), "window", 0, 0,
	  "window (lifted when the counts fall) or reset (until policy reset)" },
	{ "alert_command", K_STR, O(alert_command), NULL, 0, 0,
	  "/bin/sh command run when a user first crosses a limit "
	  "(RBLKIT_USER, RBLKIT_COUNT, RBLKIT_LIMIT, RBLKIT_KIND, RBLKIT_WINDOW)" },
	{ "state_dir", K_STR, O(state_dir), "/var/lib/rblkit", 0, 0,
	  "counters, journal and the control socket (created if missing)" },
	{ "max_users", K_UINT, O(max_users), "1000000", 10, 100000000,
	  "users counted at most" },
	{ "max_connections", K_UINT, O(max_connections), "4096", 1, 1000000,
	  "concurrent Postfix connections" },
	{ "idle_timeout", K_TIME, O(idle_timeout), "3600", 1, 604800,
	  "close a connection idle this long" },
	{ "user", K_STR, O(user), NULL, 0, 0,
	  "run as this user after binding (state_dir must be its)" },
	{ "log", K_LOG, O(syslog), "stderr", 0, 0, "stderr or syslog" },
	{ "log_requests", K_BOOL, O(log_requests), "no", 0, 0,
	  "log every decision (yes) or only refusals and errors (no)" },
};
#undef O

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
	c->ov = xreallocarray(c->ov, c->nov + 1, sizeof(*c->ov));
	c->ov[c->nov++] = o;
	return 0;
}

/* host:port, [v6]:port or /unix/path. */
static int check_listen(const char *v, char *err, size_t el)
{
	char host[64];
	const char *colon;
	uint8_t buf[16];
	char *end;
	long port;

	if (v[0] == '/')
		return strlen(v) < 100 ? 0 : (snprintf(err, el, "socket path too long"), -1);
	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - v - 1) >= sizeof(host))
			goto bad;
		memcpy(host, v + 1, (size_t)(rb - v - 1));
		host[rb - v - 1] = '\0';
		colon = rb + 1;
		if (inet_pton(AF_INET6, host, buf) != 1)
			goto bad;
	} else {
		colon = strrchr(v, ':');
		if (!colon || (size_t)(colon - v) >= sizeof(host))
			goto bad;
		memcpy(host, v, (size_t)(colon - v));
		host[colon - v] = '\0';
		if (inet_pton(AF_INET, host, buf) != 1)
			goto bad;
	}
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 1 || port > 65535)
		goto bad;
	return 0;
bad:
	snprintf(err, el, "expected ADDR:PORT, [ADDR6]:PORT or /path");
	return -1;
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

static int parse_word(const char *v, const char *const *words, int *out, char *err, size_t el)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(v, words[i])) {
			*out = i;
			return 0;
		}
	snprintf(err, el, "expected %s or %s", words[0], words[1]);
	return -1;
}

static int set_value(struct pcfg *c, const struct key *k, const char *v, char *err, size_t el)
{
	static const char *const bools[] = { "no", "yes", NULL };
	static const char *const dact[] = { "reject", "prepend", NULL };
	static const char *const oact[] = { "defer", "hold", NULL };
	static const char *const block[] = { "window", "reset", NULL };
	static const char *const logs[] = { "stderr", "syslog", NULL };
	void *f = (char *)c + k->off;
	char *end;
	long n;
	int w;
	uint32_t t;

	switch (k->type) {
	case K_LISTEN:
		if (check_listen(v, err, el))
			return -1;
		goto str;
	case K_RESOLVER:
		if (check_resolver(v, err, el))
			return -1;
		goto str;
	case K_STR:
	str:
		free(*(char **)f);
		*(char **)f = xstrdup(v);
		return 0;
	case K_UINT:
	case K_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (end == v || *end || errno || n < k->min || n > k->max) {
			snprintf(err, el, "expected an integer %ld..%ld", k->min, k->max);
			return -1;
		}
		if (k->type == K_UINT)
			*(unsigned *)f = (unsigned)n;
		else
			*(int *)f = (int)n;
		return 0;
	case K_TIME:
		end = (char *)parse_time(v, &t);
		if (!end || *end || t < (uint32_t)k->min || t > (uint32_t)k->max) {
			snprintf(err, el, "expected a time %ld..%ld s (suffix s m h d w)",
				 k->min, k->max);
			return -1;
		}
		*(uint32_t *)f = t;
		return 0;
	case K_BOOL:
		if (parse_word(v, bools, &w, err, el))
			return -1;
		*(bool *)f = w;
		return 0;
	case K_LOG:
		if (parse_word(v, logs, &w, err, el))
			return -1;
		*(bool *)f = w;
		return 0;
	case K_BLOCK:
		if (parse_word(v, block, &w, err, el))
			return -1;
		*(bool *)f = w;
		return 0;
	case K_DACTION:
		if (parse_word(v, dact, &w, err, el))
			return -1;
		c->dnsbl_action = (enum pcfg_dnsbl_action)w;
		return 0;
	case K_OACTION:
		if (parse_word(v, oact, &w, err, el))
			return -1;
		c->out_action = (enum pcfg_out_action)w;
		return 0;
	case K_SITES: {
		struct sites *s = sites_parse(v, err, el);

		if (!s)
			return -1;
		sites_free(c->sites);
		c->sites = s;
		return 0;
	}
	case K_NETS:
		free(*(struct pcfg_net **)f);
		return parse_nets(v, (struct pcfg_net **)f,
				  k->off == offsetof(struct pcfg, allow) ? &c->nallow
									  : &c->noutnets,
				  err, el);
	case K_LIMITS:
		return rl_parse_limits(v, &c->limits, err, el);
	case K_OVERRIDE:
		return parse_override(c, v, err, el);
	}
	return -1;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* -- the file -------------------------------------------------------- */

/* Strip a comment (a '#' at the start or after white space) and trailing
 * white space, in place. */
static void strip(char *s)
{
	size_t n;

	for (char *p = s; *p; p++)
		if (*p == '#' && (p == s || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* Apply "name = value" of line lineno. */
static int apply_setting(struct pcfg *c, char *line, const char *name, unsigned lineno,
			 unsigned *seen, char *err, size_t el)
{
	char *eq = strchr(line, '='), *k = line, *v, why[512] = "";
	const struct key *key;
	size_t kl;

	if (!eq) {
		snprintf(err, el, "%s:%u: expected 'name = value'", name, lineno);
		return -1;
	}
	kl = (size_t)(eq - line);
	while (kl && isspace((unsigned char)k[kl - 1]))
		kl--;
	k[kl] = '\0';
	v = eq + 1 + strspn(eq + 1, " \t");
	if (!(key = find_key(k))) {
		snprintf(err, el, "%s:%u: unknown key '%.100s' (rblkit help policy "
			 "lists the keys)", name, lineno, k);
		return -1;
	}
	if (key->type != K_OVERRIDE && seen[key - keys]) {
		snprintf(err, el, "%s:%u: %s given twice (first on line %u)", name,
			 lineno, key->name, seen[key - keys]);
		return -1;
	}
	seen[key - keys] = lineno;
	if (set_value(c, key, v, why, sizeof(why))) {
		snprintf(err, el, "%s:%u: %s: %s", name, lineno, key->name, why);
		return -1;
	}
	return 0;
}

static int set_defaults(struct pcfg *c, char *err, size_t el)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].def && set_value(c, &keys[i], keys[i].def, err, el))
			panic("default of %s does not parse: %s", keys[i].name, err);
	return 0;
}

static int check_whole(struct pcfg *c, const char *name, char *err, size_t el)
{
	const struct rl_limits *sets[64];
	uint32_t periods[RL_MAX_PERIODS];
	size_t np, ns = pcfg_limit_sets(c, sets, ARRAY_SIZE(sets));

	if (c->cache_min_ttl > c->cache_max_ttl) {
		snprintf(err, el, "%s: dnsbl_cache_min_ttl is above dnsbl_cache_max_ttl", name);
		return -1;
	}
	if (c->nov + 1 > ARRAY_SIZE(sets) || rl_periods(sets, ns, periods, &np)) {
		snprintf(err, el, "%s: outbound_limits and overrides use more than %d "
			 "different windows (or more than 63 overrides)", name,
			 RL_MAX_PERIODS);
		return -1;
	}
	if (c->state_dir[0] != '/') {
		snprintf(err, el, "%s: state_dir must be an absolute path", name);
		return -1;
	}
	if (c->nov)
		qsort(c->ov, c->nov, sizeof(*c->ov), cmp_override);
	return 0;
}

struct pcfg *pcfg_parse(const char *text, const char *name, char *err, size_t el)
{
	struct pcfg *c = xcalloc(1, sizeof(*c));
	unsigned seen[ARRAY_SIZE(keys)] = { 0 }, lineno = 0, start = 0;
	char *acc = NULL;
	size_t accl = 0;
	const char *p = text;
	int rc = 0;

	c->path = xstrdup(name);
	c->refs = 1;
	set_defaults(c, err, el);
	while (rc == 0) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n);
		bool cont = *p == ' ' || *p == '\t';

		lineno++;
		strip(line);
		if (line[0] && cont) {
			if (!acc) {
				snprintf(err, el, "%s:%u: a continuation line with "
					 "nothing to continue", name, lineno);
				rc = -1;
			} else {
				/* a continuation line joins the value before it */
				acc = xrealloc(acc, accl + strlen(line) + 2);
				accl += (size_t)sprintf(acc + accl, " %s",
							line + strspn(line, " \t"));
			}
		} else if (line[0]) {
			if (acc)
				rc = apply_setting(c, acc, name, start, seen, err, el);
			free(acc);
			acc = xstrdup(line);
			accl = strlen(acc);
			start = lineno;
		}
		free(line);
		if (!p[n])
			break;
		p += n + 1;
	}
	if (rc == 0 && acc)
		rc = apply_setting(c, acc, name, start, seen, err, el);
	free(acc);
	if (rc == 0)
		rc = check_whole(c, name, err, el);
	if (rc) {
		pcfg_free(c);
		return NULL;
	}
	return c;
}

struct pcfg *pcfg_load(const char *path, char *err, size_t el)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	struct pcfg *c;

	if (!f) {
		snprintf(err, el, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (1u << 24)) {
				snprintf(err, el, "%s: larger than 16 MB", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		snprintf(err, el, "%s: contains a NUL byte", path);
		free(buf);
		return NULL;
	}
	c = pcfg_parse(buf, path, err, el);
	free(buf);
	return c;
}

void pcfg_free(struct pcfg *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		void *f = (char *)c + keys[i].off;

		if (keys[i].type == K_STR || keys[i].type == K_LISTEN ||
		    keys[i].type == K_RESOLVER)
			free(*(char **)f);
	}
	for (size_t i = 0; i < c->nov; i++)
		free(c->ov[i].user);
	free(c->ov);
	sites_free(c->sites);
	free(c->allow);
	free(c->outnets);
	free(c->path);
	free(c);
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

void pcfg_help_keys(FILE *f)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];

		fprintf(f, "  %-20s %s\n", k->name, k->help);
		if (k->def && k->def[0])
			fprintf(f, "  %-20s   default: %s\n", "", k->def);
		if (k->type == K_UINT || k->type == K_INT || k->type == K_TIME)
			fprintf(f, "  %-20s   range: %ld..%ld\n", "", k->min, k->max);
	}
}
