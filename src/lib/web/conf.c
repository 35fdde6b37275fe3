/*
 * conf.c - the configuration of `rblkit web` (web/web.h): the table of
 * keys, their defaults and ranges, and the checks across keys.
 *
 * SECURITY: operator input, read at start-up.
 */
#include "web/web.h"
#include "base/listen.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <stdlib.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define O(f) offsetof(struct web_conf, f)

static int f_listen(void *conf, void *field, const char *v, char *err, size_t el)
{
	struct listen_list l;

	return listen_parse(v, LISTEN_COLON, NULL, 0, &l, err, el) ? -1 : 0;
}

static int f_dns(void *conf, void *field, const char *v, char *err, size_t el)
{
	struct listen_list l;

	return listen_parse(v, LISTEN_COLON, "53", 0, &l, err, el) ? -1 : 0;
}

static int f_resolver(void *conf, void *field, const char *v, char *err, size_t el)
{
	struct listen_list l;

	if (!strcmp(v, "recursive"))
		return 0;
	return listen_parse(v, LISTEN_COLON, "53", 0, &l, err, el) ? -1 : 0;
}

static int f_dsn(void *conf, void *field, const char *v, char *err, size_t el)
{
	if (!strncmp(v, "sqlite:", 7) || !strncmp(v, "postgresql://", 13) ||
	    !strncmp(v, "postgres://", 11))
		return 0;
	snprintf(err, el, "expected sqlite:PATH or postgresql://...");
	return -1;
}

static int f_dsn_or_empty(void *conf, void *field, const char *v, char *err, size_t el)
{
	return *v ? f_dsn(conf, field, v, err, el) : 0;
}

/* "meaning = 127.0.0.2 TEXT": appended as "127.0.0.2=TEXT". */
static int f_meaning(void *conf, void *field, const char *v, char *err, size_t el)
{
	struct conftab_list *l = field;
	const char *sp = strchr(v, ' ');
	struct in_addr a;
	char code[32];
	size_t n;

	if (!sp || (size_t)(sp - v) >= sizeof(code)) {
		snprintf(err, el, "expected CODE TEXT (127.0.0.2 spam source)");
		return -1;
	}
	memcpy(code, v, (size_t)(sp - v));
	code[sp - v] = 0;
	if (inet_pton(AF_INET, code, &a) != 1) {
		snprintf(err, el, "'%s' is not an IPv4 return code", code);
		return -1;
	}
	while (*sp == ' ')
		sp++;
	if (l->n >= CONFTAB_LIST_MAX) {
		snprintf(err, el, "too many");
		return -1;
	}
	n = strlen(code) + strlen(sp) + 2;
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n] = xmalloc(n);
	snprintf(l->v[l->n], n, "%s=%s", code, sp);
	l->n++;
	return 0;
}

static const struct conftab_key keys[] = {
	{ "listen", CONFTAB_STR, O(listen), "127.0.0.1:8080", .parse = f_listen,
	  .help = "HTTP listen address ADDR:PORT ([ADDR6]:PORT); HTTPS with tls_cert and tls_key, or TLS in a reverse proxy" },
	{ "store", CONFTAB_STR, O(store), "sqlite:/var/lib/rblkit/list.db", .parse = f_dsn,
	  .help = "the listing store: sqlite:PATH or postgresql://user@host:port/db" },
	{ "dns", CONFTAB_STR, O(dns), "127.0.0.1:53", .parse = f_dns,
	  .help = "the DNS server publishing the zones (rblkit serve), asked for every lookup" },
	{ "zones", CONFTAB_LIST, O(zones), NULL, .help = "the zones to look up, in this order" },
	{ "rules", CONFTAB_STR, O(rules), "",
	  .help = "list.conf with the zones' rules (self-removal limits); empty: the defaults" },
	{ "meaning", CONFTAB_FUNC, O(meanings), NULL, .parse = f_meaning, .release = conftab_list_release,
	  .flags = CONFTAB_REPEAT,
	  .help = "CODE TEXT: what a return code means (meaning = 127.0.0.2 spam source); repeatable" },
	{ "verify", CONFTAB_LIST, O(verify), "", .flags = CONFTAB_REPEAT,
	  .help = "ZONE=none|mail|review: how a removal request is verified (none)" },
	{ "threads", CONFTAB_UINT, O(threads), "4", 1, 256, .help = "HTTP worker threads" },
	{ "max_body", CONFTAB_UINT, O(max_body), "65536", 1024, 16 << 20,
	  .help = "largest request body in bytes (413 above)" },
	{ "timeout", CONFTAB_TIME, O(timeout), "30s", 1, 3600,
	  .help = "a connection idle this long is closed" },
	{ "dns_timeout_ms", CONFTAB_UINT, O(dns_timeout_ms), "1500", 50, 30000,
	  .help = "how long a lookup waits for DNS" },
	{ "remove_wait_ms", CONFTAB_UINT, O(remove_wait_ms), "2000", 0, 30000,
	  .help = "how long a removal waits for DNS to answer NXDOMAIN before the page answers" },
	{ "rate_client", CONFTAB_UINT, O(rate_client), "5", 1, 1000000,
	  .help = "removal requests per client address per rate_window" },
	{ "rate_net", CONFTAB_UINT, O(rate_net), "20", 1, 1000000,
	  .help = "removal requests per /24 (IPv6 /48) per rate_window" },
	{ "rate_lookup", CONFTAB_UINT, O(rate_lookup), "0", 0, 100000000,
	  .help = "lookups per client address per rate_window (0: no limit)" },
	{ "rate_login", CONFTAB_UINT, O(rate_login), "10", 1, 1000000,
	  .help = "console log-in attempts per client address per rate_window" },
	{ "rate_window", CONFTAB_TIME, O(rate_window), "1h", 10, 604800,
	  .help = "the window of the rate limits" },
	{ "proxies", CONFTAB_LIST, O(proxies), "",
	  .help = "addresses of reverse proxies whose X-Forwarded-For is believed" },
	{ "cookie_secure", CONFTAB_BOOL, O(cookie_secure), "no",
	  .help = "mark cookies Secure (yes when served over TLS)" },
	{ "tls_cert", CONFTAB_STR, O(tls_cert), "",
	  .help = "serve HTTPS with this PEM certificate (chain); empty: plain HTTP" },
	{ "tls_key", CONFTAB_STR, O(tls_key), "", .help = "the PEM private key of tls_cert" },
	{ "session_ttl", CONFTAB_TIME, O(session_ttl), "8h", 60, 604800,
	  .help = "console session lifetime" },
	{ "sendmail", CONFTAB_STR, O(sendmail), "/usr/sbin/sendmail",
	  .help = "PROGRAM [ARG ...] mail verification sends through (+ -t -i; no shell)" },
	{ "mail_from", CONFTAB_STR, O(mail_from), "", .help = "From: of verification mail" },
	{ "base_url", CONFTAB_STR, O(base_url), "", .help = "the portal's public URL, for links in mail" },
	{ "confirm_ttl", CONFTAB_TIME, O(confirm_ttl), "24h", 60, 2592000,
	  .help = "how long a mailed confirmation link is valid" },
	{ "user", CONFTAB_STR, O(user), "", .help = "drop privileges to this user after binding" },
	{ "check_resolver", CONFTAB_STR, O(check_resolver), "recursive", .parse = f_resolver,
	  .help = "the check page's DNS: recursive (libunbound, from the root) or ADDR[:PORT]" },
	{ "check_lists", CONFTAB_STR, O(check_lists), "default",
	  .help = "the check page's lists: default | all | SET, ID or ZONE[@ADDR[:PORT]], ..." },
	{ "watch_store", CONFTAB_STR, O(watch_store), "", .parse = f_dsn_or_empty,
	  .help = "the store of rblkit watch's history for /admin/watch (empty: store)" },
	{ "check_timeout", CONFTAB_TIME, O(check_timeout), "15s", 1, 120,
	  .help = "how long one check on the check page may take" },
	{ "check_max", CONFTAB_UINT, O(check_max), "0", 0, 4096,
	  .help = "checks running at once (more: 503); 0: twice threads" },
};

static int check(void *conf, char *err, size_t el)
{
	struct web_conf *c = conf;

	int cert = c->tls_cert && *c->tls_cert, key = c->tls_key && *c->tls_key;

	if (cert != key) {
		snprintf(err, el, "tls_cert and tls_key: both or neither");
		return -1;
	}
	if (cert)
		c->cookie_secure = true;        /* served over TLS: cookies only go back over it */
	if (!c->zones.n) {
		snprintf(err, el, "zones: at least one zone is needed");
		return -1;
	}
	for (size_t i = 0; i < c->verify.n; i++) {
		const char *eq = strchr(c->verify.v[i], '=');

		if (!eq || (strcmp(eq + 1, "none") && strcmp(eq + 1, "mail") &&
			    strcmp(eq + 1, "review"))) {
			snprintf(err, el, "verify: '%s': expected ZONE=none|mail|review",
				 c->verify.v[i]);
			return -1;
		}
	}
	return 0;
}

const struct conftab web_conftab = {
	keys, sizeof(keys) / sizeof(keys[0]), sizeof(struct web_conf), check, NULL,
};

struct web_conf *web_conf_load(const char *path, struct conftab_errors *e)
{
	return conftab_load(&web_conftab, path, e);
}

void web_conf_free(struct web_conf *c)
{
	if (c)
		conftab_free(&web_conftab, c);
}
