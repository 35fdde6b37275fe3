/*
 * web.h - `rblkit web`: the public lookup and removal-request portal,
 * the operator's console (/admin) and the JSON API (/api/v1/), over the
 * listing store, the zones' rules (list.conf) and the DNS server that
 * publishes the zones (asked for every lookup, so the page says what
 * DNS says). docs/web.md describes the configuration and every page.
 *
 * The portal keeps nothing that matters in memory: rate counters,
 * requests, sessions, users and API keys live in the store (store/web.h),
 * so several instances share one PostgreSQL store.
 *
 * SECURITY: everything a request carries is hostile; parsing is in
 * web/parse.c (fuzzed), output in web/html.c (escaping by construction).
 * The configuration file is the operator's.
 */
#ifndef RBLKIT_WEB_H
#define RBLKIT_WEB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/conftab.h"

struct web_conf {
	char *listen;                   /* ADDR:PORT */
	char *store;                    /* DSN */
	char *dns;                      /* ADDR[:PORT] of the server publishing the zones */
	struct conftab_list zones;      /* zones shown, in this order */
	char *rules;                    /* list.conf for the zones' rules ("": defaults) */
	struct conftab_list meanings;   /* "127.0.0.2=what it means" */
	struct conftab_list verify;     /* "ZONE=none|mail|review" (default none) */
	unsigned threads;
	unsigned max_body;              /* bytes of a request body; more: 413 */
	uint32_t timeout;               /* seconds a connection may idle */
	unsigned dns_timeout_ms;        /* one lookup's DNS wait */
	unsigned remove_wait_ms;        /* how long a removal waits for NXDOMAIN */
	unsigned rate_client;           /* removal requests per client address per window */
	unsigned rate_net;              /* ... per /24 or /48 */
	unsigned rate_lookup;           /* lookups (pages and API) per client per window (0: off) */
	unsigned rate_login;            /* console log-in attempts per client per window */
	uint32_t rate_window;
	struct conftab_list proxies;    /* reverse proxies whose X-Forwarded-For is believed */
	bool cookie_secure;             /* Secure on cookies (behind TLS; on with tls_cert) */
	char *tls_cert;                 /* HTTPS of its own: PEM certificate (chain) */
	char *tls_key;                  /* ... and its PEM private key */
	uint32_t session_ttl;
	char *sendmail;                 /* mail verification: the sendmail program */
	char *mail_from;
	char *base_url;                 /* for links in mail: https://lookup.example */
	uint32_t confirm_ttl;           /* a mailed link's life */
	char *user;                     /* drop privileges to this user after binding */
	char *check_resolver;           /* the check page: "recursive" or ADDR[:PORT][,...] */
	char *check_lists;              /* ... its lists, as check --lists takes them */
	uint32_t check_timeout;         /* ... seconds one check may take */
	unsigned check_max;             /* ... checks at once (0: threads * 2) */
	char *watch_store;              /* the watch dashboard's store ("": store) */
};

extern const struct conftab web_conftab;

/* Load path; NULL with the errors ("FILE:LINE: key: why") in e. */
struct web_conf *web_conf_load(const char *path, struct conftab_errors *e);
void web_conf_free(struct web_conf *c);

/* What --check-config checks beyond the syntax: the files the
 * configuration names (tls_cert, tls_key) can be read and hold PEM.
 * 0, or -1 with why in err. */
int web_conf_check_files(const struct web_conf *c, char *err, size_t errlen);

/* Run the portal until SIGINT or SIGTERM. Returns 0, or -1 with why in
 * err (the listen address, the store, the rules, DNS set-up). */
int web_run(const struct web_conf *c, char *err, size_t errlen);

/* Console roles. */
enum web_role { WEB_VIEWER = 1, WEB_OPERATOR = 2, WEB_ADMIN = 3 };
/* "viewer" ... ; 0 for an unknown word. */
int web_role_parse(const char *s);
const char *web_role_name(int role);

/* Create or update a console user with password (hashed with argon2id).
 * 0, or -1 with why in err. */
int web_add_user(const struct web_conf *c, const char *name, int role, const char *password,
		 char *err, size_t errlen);

/* API key scopes. */
#define WEB_SCOPE_LOOKUP 0x1u
#define WEB_SCOPE_REPORT 0x2u           /* report (a hit) and add */
#define WEB_SCOPE_REMOVE 0x4u
#define WEB_SCOPE_SEARCH 0x8u
/* "lookup,remove" -> bits; -1 for an unknown word. */
long web_scopes_parse(const char *s);
/* A new API key named name with scopes: the key ("rk_ID_SECRET", shown
 * once; only its digest is kept) into key (>= 80 bytes). 0 or -1. */
int web_add_key(const struct web_conf *c, const char *name, unsigned scopes, char *key,
		size_t keylen, char *err, size_t errlen);

#endif
