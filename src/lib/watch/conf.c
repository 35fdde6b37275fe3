/*
 * conf.c - the configuration of `rblkit watch`: the key table, the
 * targets (addresses, CIDRs expanded into addresses, host names,
 * mx:DOMAIN), the lists (catalogue sets, ids, zones, ZONE@ADDR[:PORT]),
 * and each list's effective interval under its daily query budget.
 *
 * A budget is the list's published free-use limit (catalogue "limit"),
 * or default_budget when it publishes none, or the operator's
 * "budget = ZONE=N". The checks of a list cost about one query per
 * target and interval (a TXT query more for a listing) plus the two
 * RFC 5782 test points per probe; when that would pass the budget the
 * interval is stretched (a /16 against a list of 300,000 queries a day is
 * checked about every 5.3 hours) and `status` says so. A DNSBL has no
 * query for a whole range: each address is its own query.
 *
 * SECURITY: operator input only, read at start-up and on SIGHUP; every
 * error names FILE:LINE or the key.
 */
#include "watch/watch.h"

#include "base/ipaddr.h"
#include "base/util.h"
#include "store/store.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#define O(f) offsetof(struct watch_conf, f)

/* One target word: 0, or -1 with why in err. */
static int target_check(const char *w, char *err, size_t errlen)
{
	struct store_key k;
	char e[200];
	const char *s = w;

	if (!strncasecmp(w, "mx:", 3))
		s = w + 3;
	if (store_key_parse(s, &k, e, sizeof(e))) {
		snprintf(err, errlen, "'%s': %s", w, e);
		return -1;
	}
	if (k.kind == STORE_WILD || (s != w && k.kind != STORE_NAME)) {
		snprintf(err, errlen, "'%s': expected an address, CIDR, host name or mx:DOMAIN", w);
		return -1;
	}
	if ((k.kind == STORE_IP4 && k.bits < 16) || (k.kind == STORE_IP6 && k.bits < 112)) {
		snprintf(err, errlen, "'%s': a range of more than 65536 addresses (at most a /16, "
			 "or a /112 of IPv6)", w);
		return -1;
	}
	return 0;
}

/* "watch = T, T ...": repeatable, each word checked here so that an
 * error names its line. */
static int targets_parse(void *conf, void *field, const char *v, char *err, size_t errlen)
{
	struct conftab_list *l = field;

	for (const char *p = v;;) {
		char w[300];
		size_t n;

		p += strspn(p, ", \t");
		if (!*p)
			return 0;
		n = strcspn(p, ", \t");
		if (n >= sizeof(w)) {
			snprintf(err, errlen, "a target of more than %zu bytes", sizeof(w) - 1);
			return -1;
		}
		memcpy(w, p, n);
		w[n] = '\0';
		p += n;
		if (target_check(w, err, errlen))
			return -1;
		if (l->n >= 100000) {
			snprintf(err, errlen, "more than 100000 target entries");
			return -1;
		}
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = xstrdup(w);
	}
}

static const struct conftab_key keys[] = {
	{ "watch", CONFTAB_FUNC, O(watch), NULL, 0, 0, NULL, targets_parse, conftab_list_release,
	  CONFTAB_REPEAT, "what to watch: addresses, CIDRs (up to a /16), host names, "
	  "mx:DOMAIN (repeatable)" },
	{ "lists", CONFTAB_STR, O(lists), "default", 0, 0, NULL, NULL, NULL, 0,
	  "lists as `rblkit check --lists` takes them, and ZONE@ADDR[:PORT]" },
	{ "resolver", CONFTAB_STR, O(resolver), "recursive", 0, 0, NULL, NULL, NULL, 0,
	  "recursive (libunbound from the root) or ADDR[:PORT][,...]" },
	{ "root_hints", CONFTAB_STR, O(root_hints), NULL, 0, 0, NULL, NULL, NULL, 0,
	  "recursive: a root hints file instead of the built-in root servers" },
	{ "catalog", CONFTAB_STR, O(catalog), NULL, 0, 0, NULL, NULL, NULL, 0,
	  "an extra catalogue file (after the built-in one and /etc/rblkit/lists.conf)" },
	{ "state_dir", CONFTAB_STR, O(state_dir), "/var/lib/rblkit", 0, 0, NULL, NULL, NULL, 0,
	  "where the default store lives" },
	{ "store", CONFTAB_STR, O(store), "", 0, 0, NULL, NULL, NULL, 0,
	  "the history: sqlite:PATH or postgresql://...; empty: sqlite:STATE_DIR/watch.db" },
	{ "confirm", CONFTAB_UINT, O(confirm), "2", 1, 20, NULL, NULL, NULL, 0,
	  "consecutive checks that must agree before a change counts" },
	{ "interval", CONFTAB_TIME, O(interval), "30s", 1, 604800, NULL, NULL, NULL, 0,
	  "how often each target is checked on each list (stretched to fit the budget)" },
	{ "list_interval", CONFTAB_LIST, O(list_interval), NULL, 0, 0, NULL, NULL, NULL,
	  CONFTAB_REPEAT, "ZONE=TIME: the interval of one list" },
	{ "default_budget", CONFTAB_UINT, O(default_budget), "100000", 0, 1000000000, NULL, NULL,
	  NULL, 0, "queries a day to a list that publishes no limit (0: unlimited)" },
	{ "budget", CONFTAB_LIST, O(budget), NULL, 0, 0, NULL, NULL, NULL, CONFTAB_REPEAT,
	  "ZONE=N: queries a day to one list (0: unlimited), instead of its published limit" },
	{ "probe_interval", CONFTAB_TIME, O(probe_interval), "10m", 1, 86400, NULL, NULL, NULL, 0,
	  "the lists' RFC 5782 test points are asked at least this often (and before "
	  "a listing is confirmed)" },
	{ "confirm_delay", CONFTAB_TIME, O(confirm_delay), "5s", 0, 3600, NULL, NULL, NULL, 0,
	  "a change seen is checked again after this, not after the interval" },
	{ "reminder", CONFTAB_UINT, O(reminder), "0", 0, 8760, NULL, NULL, NULL, 0,
	  "hours between reminders while listed (0: none)" },
	{ "timeout", CONFTAB_TIME, O(timeout), "2s", 1, 30, NULL, NULL, NULL, 0,
	  "one DNS try (two tries)" },
	{ "alert_command", CONFTAB_STR, O(alert_command), NULL, 0, 0, NULL, NULL, NULL, 0,
	  "run with /bin/sh -c, the alert in RBLKIT_WATCH_* variables" },
	{ "alert_webhook", CONFTAB_STR, O(alert_webhook), NULL, 0, 0, NULL, NULL, NULL, 0,
	  "POST the alert as JSON to this http:// or https:// URL" },
	{ "webhook_timeout", CONFTAB_TIME, O(webhook_timeout), "10s", 1, 300, NULL, NULL, NULL, 0,
	  "one webhook attempt" },
	{ "webhook_retries", CONFTAB_UINT, O(webhook_retries), "3", 0, 20, NULL, NULL, NULL, 0,
	  "attempts after the first, 2, 4, 8 ... s apart" },
	{ "webhook_ca", CONFTAB_STR, O(webhook_ca), NULL, 0, 0, NULL, NULL, NULL, 0,
	  "https webhook: trust the CAs in this PEM file instead of the system's" },
	{ "alert_mail", CONFTAB_STR, O(alert_mail), NULL, 0, 0, NULL, NULL, NULL, 0,
	  "mail the alert to this address through sendmail" },
	{ "sendmail", CONFTAB_STR, O(sendmail), "/usr/sbin/sendmail", 0, 0, NULL, NULL, NULL, 0,
	  "the local MTA's sendmail program" },
	{ "mail_log", CONFTAB_STR, O(mail_log), NULL, 0, 0, NULL, NULL, NULL, 0,
	  "the Postfix log to follow for rejections naming a list: a file, \"journal\" or "
	  "\"journal:UNIT\"" },
	{ "bounce_maildir", CONFTAB_STR, O(bounce_maildir), NULL, 0, 0, NULL, NULL, NULL, 0,
	  "a Maildir of bounces to read for rejections naming a list" },
	{ "metrics", CONFTAB_STR, O(metrics), NULL, 0, 0, NULL, NULL, NULL, 0,
	  "ADDR:PORT to serve Prometheus metrics on" },
	{ "note_window", CONFTAB_TIME, O(note_window), "1d", 0, 2592000, NULL, NULL, NULL, 0,
	  "notes (policy limit crossings, log lines) this recent are quoted in alerts" },
	{ "log_level", CONFTAB_STR, O(log_level), "info", 0, 0, NULL, NULL, NULL, 0,
	  "err, warn, info or debug" },
};

const struct conftab watch_conftab = {
	.keys = keys,
	.nkeys = sizeof(keys) / sizeof(keys[0]),
	.size = sizeof(struct watch_conf),
};

uint32_t watch_effective_interval(uint32_t interval, uint64_t budget, unsigned ntargets,
				  uint32_t probe_interval)
{
	uint64_t probes, avail, need;

	if (!budget || !ntargets)
		return interval;
	/* two test points per probe; a tenth more for TXT and re-checks */
	probes = 2ull * 86400 / (probe_interval ? probe_interval : 1) + 2;
	if (budget <= probes * 2)
		return 604800;
	avail = budget - probes;
	need = ((uint64_t)ntargets * 86400 * 11 + avail * 10 - 1) / (avail * 10);
	if (need > 604800)
		need = 604800;
	return need > interval ? (uint32_t)need : interval;
}

/* The value of "ZONE=V" words of l for key (zone or list id); NULL if
 * none names it. */
static const char *per_list(const struct conftab_list *l, const struct watch_list *wl)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');
		size_t n = eq ? (size_t)(eq - l->v[i]) : 0;

		if (!eq)
			continue;
		if ((strlen(wl->key) == n && !strncasecmp(wl->key, l->v[i], n)) ||
		    (wl->l->zone && strlen(wl->l->zone) == n && !strncasecmp(wl->l->zone, l->v[i], n)) ||
		    (strlen(wl->l->id) == n && !strncmp(wl->l->id, l->v[i], n)))
			return eq + 1;
	}
	return NULL;
}

static int add_list(struct watch_plan *p, const struct list *l, const char *key,
		    const char *server)
{
	for (size_t i = 0; i < p->nl; i++)
		if (!strcmp(p->l[i].key, key))
			return 0;
	if (p->nl >= 256)
		return -1;
	p->l = xreallocarray(p->l, p->nl + 1, sizeof(*p->l));
	memset(&p->l[p->nl], 0, sizeof(p->l[0]));
	p->l[p->nl].l = l;
	str_copy(p->l[p->nl].key, sizeof(p->l[0].key), key);
	str_copy(p->l[p->nl].server, sizeof(p->l[0].server), server ? server : "");
	p->nl++;
	return 0;
}

/* "lists": catalogue words, and ZONE@ADDR[:PORT] for a list asked at a
 * server of its own. */
static int plan_lists(const struct watch_conf *c, struct watch_plan *p, char *err, size_t el)
{
	char *spec = xstrdup(c->lists ? c->lists : "default"), *save = NULL;
	int rc = 0;

	for (char *w = strtok_r(spec, ", \t", &save); w && !rc; w = strtok_r(NULL, ", \t", &save)) {
		const struct list *sel[256];
		size_t n = 0;
		char bad[256], key[320];
		char *at = strchr(w, '@');

		if (at) {
			struct list *l;

			*at++ = '\0';
			if (!*w || !*at || strlen(w) > 200) {
				snprintf(err, el, "lists: '%s@%s': expected ZONE@ADDR[:PORT]", w, at);
				rc = -1;
				break;
			}
			if (strlen(at) >= sizeof(p->l[0].server)) {
				snprintf(err, el, "lists: '%s': server too long", at);
				rc = -1;
				break;
			}
			l = catalog_add_zone(p->cat, w, 0);
			snprintf(key, sizeof(key), "%s@%s", l->zone, at);
			rc = add_list(p, l, key, at);
			continue;
		}
		if (catalog_select(p->cat, w, LK_IP4 | LK_IP6 | LK_DOMAIN, sel, &n, 256, bad,
				   sizeof(bad))) {
			snprintf(err, el, "lists: no list or set named '%s'", bad);
			rc = -1;
			break;
		}
		for (size_t i = 0; i < n && !rc; i++)
			rc = add_list(p, sel[i], sel[i]->zone, sel[i]->server);
	}
	free(spec);
	/* each list is asked through a resolver of its own (daemon.c): its
	 * server, if any, is that resolver's, not a group of a shared one */
	for (size_t i = 0; i < p->nl && !rc; i++) {
		struct list *l = catalog_add_zone(p->cat, p->l[i].l->zone, 0);

		free(l->server);
		l->server = NULL;
	}
	if (!rc && !p->nl) {
		snprintf(err, el, "lists: no list selected");
		rc = -1;
	}
	return rc;
}

static void add_target(struct watch_plan *p, char *name, bool mx, unsigned kinds)
{
	if (p->nt == p->at) {
		p->at = p->at ? p->at * 2 : 16;
		p->t = xreallocarray(p->t, p->at, sizeof(*p->t));
	}
	p->t[p->nt].name = name;
	p->t[p->nt].query = mx ? name + 3 : name;
	p->t[p->nt].mx = mx;
	p->t[p->nt].kinds = kinds;
	p->nt++;
}

static int by_name(const void *a, const void *b)
{
	const struct watch_target *x = *(const struct watch_target *const *)a;
	const struct watch_target *y = *(const struct watch_target *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x < y ? -1 : x > y);
}

/* One target per name, the first kept, the order otherwise as written:
 * a range and an address in it (or a name twice) would be two pairs of
 * one store row, each sending the same alert. */
static void plan_dedup(struct watch_plan *p)
{
	struct watch_target **v = xreallocarray(NULL, p->nt ? p->nt : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < p->nt; i++)
		v[i] = &p->t[i];
	qsort(v, p->nt, sizeof(*v), by_name);
	for (size_t i = 1, keep = 0; i < p->nt; i++) {
		if (strcmp(v[i]->name, v[keep]->name)) {
			keep = i;
			continue;
		}
		free(v[i]->name);
		v[i]->name = NULL;      /* v[i] is the later one (by_name) */
	}
	free(v);
	for (size_t i = 0; i < p->nt; i++) {
		if (!p->t[i].name)
			continue;
		p->t[n] = p->t[i];
		if (p->t[n].mx)
			p->t[n].query = p->t[n].name + 3;
		else
			p->t[n].query = p->t[n].name;
		n++;
	}
	p->nt = n;
}

/* Expand one checked target word (duplicates: plan_dedup). */
static void plan_target(struct watch_plan *p, const char *w)
{
	struct store_key k;
	char e[200], buf[64];

	if (!strncasecmp(w, "mx:", 3)) {
		char *n = xmalloc(strlen(w) + 1);

		snprintf(n, strlen(w) + 1, "mx:%s", w + 3);
		add_target(p, n, true, LK_IP4 | LK_IP6 | LK_DOMAIN);
		return;
	}
	if (store_key_parse(w, &k, e, sizeof(e)))
		return;         /* checked when parsed */
	if (k.kind == STORE_NAME) {
		add_target(p, xstrdup(k.text), false, LK_IP4 | LK_IP6 | LK_DOMAIN);
		return;
	}
	if (k.kind == STORE_IP4) {
		uint32_t a = (uint32_t)k.addr[0] << 24 | k.addr[1] << 16 | k.addr[2] << 8 | k.addr[3];
		uint64_t n = 1ull << (32 - k.bits);

		for (uint64_t i = 0; i < n; i++) {
			ip4_format(a + (uint32_t)i, buf);
			add_target(p, xstrdup(buf), false, LK_IP4);
		}
		return;
	}
	for (uint64_t i = 0, n = 1ull << (128 - k.bits); i < n; i++) {
		uint8_t a[16];

		memcpy(a, k.addr, 16);
		a[14] |= (uint8_t)(i >> 8);
		a[15] |= (uint8_t)i;
		ip6_format(a, buf);
		add_target(p, xstrdup(buf), false, LK_IP6);
	}
}

void watch_plan_free(struct watch_plan *p)
{
	for (size_t i = 0; i < p->nt; i++)
		free(p->t[i].name);
	free(p->t);
	free(p->l);
	catalog_free(p->cat);
	memset(p, 0, sizeof(*p));
}

/* Intervals and budgets of the lists. */
static int plan_budgets(const struct watch_conf *c, struct watch_plan *p, char *err, size_t el)
{
	for (size_t i = 0; i < p->nl; i++) {
		struct watch_list *wl = &p->l[i];
		const char *v;
		uint32_t t;

		wl->interval = c->interval;
		const char *te;

		if ((v = per_list(&c->list_interval, wl)) &&
		    (!(te = parse_time(v, &t)) || *te)) {
			snprintf(err, el, "list_interval: %s: expected a time (30s, 5m, 1h)", wl->key);
			return -1;
		} else if (v) {
			wl->interval = t ? t : 1;
		}
		wl->budget = wl->l->limit ? wl->l->limit : c->default_budget;
		if ((v = per_list(&c->budget, wl))) {
			char *end;

			errno = 0;
			wl->budget = strtoull(v, &end, 10);
			if (!*v || *end || errno) {
				snprintf(err, el, "budget: %s: expected a number of queries a day",
					 wl->key);
				return -1;
			}
		}
		for (size_t j = 0; j < p->nt; j++)
			if (p->t[j].kinds & wl->l->kinds)
				wl->ntargets++;
		wl->effective = watch_effective_interval(wl->interval, wl->budget, wl->ntargets,
							 c->probe_interval);
		wl->stretched = wl->effective > wl->interval;
	}
	return 0;
}

int watch_load(const char *path, struct watch_conf **conf, struct watch_plan *plan,
	       struct conftab_errors *e, char *err, size_t errlen)
{
	struct watch_conf *c;
	const char *files[1];

	memset(plan, 0, sizeof(*plan));
	memset(e, 0, sizeof(*e));
	*err = '\0';
	*conf = NULL;
	c = conftab_load(&watch_conftab, path, e);
	if (!c)
		return -1;
	*conf = c;
	if (!c->watch.n) {
		snprintf(err, errlen, "%s: watch: nothing to watch (watch = ADDRESS, ...)", path);
		return -1;
	}
	if (c->alert_webhook && strncasecmp(c->alert_webhook, "http://", 7) &&
	    strncasecmp(c->alert_webhook, "https://", 8)) {
		snprintf(err, errlen, "%s: alert_webhook: expected http[s]://HOST[:PORT]/PATH", path);
		return -1;
	}
	if (c->webhook_ca && access(c->webhook_ca, R_OK)) {
		snprintf(err, errlen, "%s: webhook_ca %s: %s", path, c->webhook_ca, strerror(errno));
		return -1;
	}
	plan->cat = catalog_new();
	files[0] = c->catalog;
	if (catalog_load_all(plan->cat, files, c->catalog ? 1 : 0, err, errlen))
		return -1;
	if (plan_lists(c, plan, err, errlen))
		goto bad;
	for (size_t i = 0; i < c->watch.n; i++)
		plan_target(plan, c->watch.v[i]);
	plan_dedup(plan);
	if (plan_budgets(c, plan, err, errlen))
		goto bad;
	if (c->store && *c->store)
		str_copy(plan->dsn, sizeof(plan->dsn), c->store);
	else
		snprintf(plan->dsn, sizeof(plan->dsn), "sqlite:%s/watch.db", c->state_dir);
	store_dsn_shown(plan->dsn, plan->shown, sizeof(plan->shown));
	return 0;
bad:
	{
		char tmp[600];

		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		str_copy(err, errlen, tmp);
	}
	return -1;
}
