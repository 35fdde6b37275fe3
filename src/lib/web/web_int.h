/*
 * web_int.h - what the portal's files share behind web.h: the running
 * server, the per-thread connections (store, resolver), the request
 * being answered, and the helpers pages use to answer it.
 *
 * SECURITY: internal; see web.h.
 */
#ifndef RBLKIT_WEB_INT_H
#define RBLKIT_WEB_INT_H

#include "list/list.h"
#include "store/store.h"
#include "store/web.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/parse.h"
#include "web/web.h"
#include "dnsbl/resolve.h"

#include <stdint.h>

struct catalog;
struct list;

struct web_server {
	const struct web_conf *conf;
	struct list_conf *rules;
	/* the check page: the catalogue, the lists of check_lists, how to resolve */
	struct catalog *cat;
	const struct list **check_lists;
	size_t ncheck;
	struct rs_opts check_rs;
};

/* One per HTTP worker thread, made on its first request. */
struct web_thread {
	struct store *st;
	struct store *wst;              /* watch_store when it is another store (read only) */
	struct resolver *rs;
};

#define WEB_HDR_MAX 6

struct web_req {
	struct web_server *srv;
	struct web_thread *t;
	void *conn;                     /* struct MHD_Connection * */
	const char *method, *path;
	enum web_lang lang;
	char client[64];                /* the client's address (or the proxy's word for it) */
	struct web_kv query, form, cookies;
	const char *body;
	size_t body_len;
	int is_post;
	/* the response */
	unsigned status;
	const char *ctype;
	struct web_buf out;
	unsigned nhdr;
	struct { const char *name; char value[256]; } hdr[WEB_HDR_MAX];
	char csrf[68];                  /* the double-submit token of public forms */
	/* a streamed body instead of out (sent first): stream() gives the
	 * next bytes, WEB_STREAM_END, WEB_STREAM_ERROR (the body is cut:
	 * the connection is closed), or 0 after web_conn_suspend() (someone
	 * calls web_conn_resume() when there is more); stream_free() ends
	 * it, also when the client went away: MHD is done with the
	 * connection then */
	long (*stream)(void *cls, char *buf, size_t max);
	void (*stream_free)(void *cls);
	void *stream_cls;
	int lang_set;                   /* the lang cookie is in the headers */
	int64_t now;
};

#define WEB_STREAM_END (-1)
#define WEB_STREAM_ERROR (-2)

/* A streamed response's connection (conn: struct MHD_Connection *):
 * suspend it, only from the stream() callback; resume it, from any
 * thread, once per suspend, while MHD has not freed the stream; its
 * socket (-1: unknown). */
void web_conn_suspend(void *conn);
void web_conn_resume(void *conn);
int web_conn_fd(void *conn);
/* The check page (check.c): stop the running checks and wait until
 * their threads are done with them (their connections resumed); new
 * checks are refused from then on. Before MHD_stop_daemon(). */
void web_check_stop_all(void);

/* Add a response header (name a literal). */
void web_header(struct web_req *r, const char *name, const char *value);
/* Page frame: the head (title, language switch) and the end. */
void web_page_begin(struct web_req *r, const char *title);
void web_page_end(struct web_req *r);
/* A whole page with one message, status status. */
void web_page_msg(struct web_req *r, unsigned status, enum web_msg m);
/* The public forms' CSRF token (cookie made when missing), and whether
 * a POST carries it. */
const char *web_csrf_token(struct web_req *r);
int web_csrf_ok(struct web_req *r, const char *field);
/* Hidden input with the CSRF token. */
void web_csrf_field(struct web_req *r, const char *token);
/* Count one event for the rate limit of bucket; 1 if over max, 0 if
 * not, -1 on a store error. */
int web_rate_over(struct web_req *r, const char *what, const char *who, unsigned max);
/* A network of the client's address for per-network limits. */
void web_client_net(const char *client, char *out, size_t len);
/* Unix time as "2026-12-03 20:05 UTC" into out (0: the NEVER text). */
void web_time(struct web_req *r, int64_t t);
/* The code's meaning from the configuration, or NULL. */
const char *web_meaning(const struct web_conf *c, uint32_t code);
/* The verification of zone: "none", "mail", "review". */
const char *web_verify_of(const struct web_conf *c, const char *zone);
/* Is zone one of the configured zones? */
int web_zone_known(const struct web_conf *c, const char *zone);
/* Random hex token of n bytes into out (2n+1). */
void web_token(char *out, size_t nbytes);
/* SHA-256 of s as hex (65 bytes). */
void web_digest(const char *s, char *out);
/* A list context for the rules. */
void web_list_ctx(struct web_req *r, struct list_ctx *c);

/* A new API key: the key text into key (>= 90 bytes), its row into k. */
void web_key_make(unsigned scopes, const char *name, char *key, size_t keylen,
		  struct store_web_key *k);

/* ---- DNS ---- */

enum web_dns { WEB_DNS_UNKNOWN = 0, WEB_DNS_LISTED, WEB_DNS_NOT_LISTED };
struct web_dns_answer {
	enum web_dns state;
	char error[96];
	unsigned na;
	uint32_t a[8];
	char txt[STORE_REASON_MAX];
};
/* Ask DNS about key (parsed) in each of the zones (n of them) at once,
 * A and TXT; bounded by dns_timeout_ms. */
void web_dns_lookup(struct web_req *r, const struct store_key *k, const char *const *zones,
		    unsigned n, struct web_dns_answer *out);
/* Wait until DNS answers NXDOMAIN for key in zone (up to
 * remove_wait_ms); 1 when it did. */
int web_dns_wait_gone(struct web_req *r, const struct store_key *k, const char *zone);

/* ---- the prologue of the console and the API (guard.c) ---- */

#define WEB_GET 0x1u
#define WEB_POST 0x2u
#define WEB_ROUTE_PUBLIC 0x1u           /* no credential needed (the log-in form's POST) */

struct web_route {
	const char *path;               /* after the prefix: "lookup", "/decide", "" */
	unsigned methods;               /* WEB_GET | WEB_POST */
	unsigned need;                  /* the console's least role, or the API's scope bits */
	const char *name;               /* the scope's name, for the refusal */
	unsigned flags;                 /* WEB_ROUTE_* */
};

enum web_deny {
	WEB_DENY_PATH = 1,              /* no such route */
	WEB_DENY_STORE,                 /* the store could not be opened */
	WEB_DENY_WHO,                   /* no valid credential */
	WEB_DENY_METHOD,                /* the route does not take this method */
	WEB_DENY_CSRF,                  /* a POST without the right token */
	WEB_DENY_RIGHTS,                /* the role or scope falls short */
};

struct web_guard_ops {
	/* The caller's rights (role or scopes) into *rights: 0, or -1 when
	 * the request has no valid credential. */
	int (*who)(struct web_req *r, void *ctx, unsigned *rights);
	/* Does a POST carry its CSRF token? NULL: no token (API keys). */
	int (*csrf)(struct web_req *r, void *ctx);
	/* May rights use rt? */
	int (*allowed)(unsigned rights, const struct web_route *rt);
	/* Answer the refusal (rt NULL for WEB_DENY_PATH). */
	void (*deny)(struct web_req *r, void *ctx, enum web_deny why, const struct web_route *rt);
};

/* Check r against the routes under prefix in order: route, store,
 * credential, method, CSRF, rights. The route when every check passed;
 * NULL when one failed, r then answered by ops->deny. */
const struct web_route *web_guard(struct web_req *r, const char *prefix,
				  const struct web_route *routes, size_t n,
				  const struct web_guard_ops *ops, void *ctx);

/* ---- TLS (tls.c) ---- */

/* The PEM texts of tls_cert and tls_key (both NULL when TLS is off);
 * the caller frees them with web_tls_free. 0, or -1 with why (naming
 * the file) in err: unreadable, not PEM, or no TLS in libmicrohttpd. */
int web_tls_load(const struct web_conf *c, char **cert, char **key, char *err, size_t errlen);
/* Wipe the key and free both. */
void web_tls_free(char *cert, char *key);

/* ---- pages ---- */

/* The query as a lookup key: one address or a domain name; 0 or -1. */
int web_lookup_key(const char *q, struct store_key *k);

void web_lookup_page(struct web_req *r);
void web_remove_page(struct web_req *r);
void web_confirm_page(struct web_req *r);
/* A removal request in the listing's history (event "changed", actor
 * web:CLIENT, how: "review" / "mail"). */
void web_request_event(struct web_req *r, const char *zone, const char *key, const char *how,
		       const char *reason, const char *why);
/* Mail verification: record the request, mail the link, say so. */
void web_verify_mail(struct web_req *r, const char *zone, const struct store_key *k,
		     const char *reason);
void web_api(struct web_req *r);
/* The check page (/admin/check): streamed rows per target. */
void web_check_page(struct web_req *r);
/* The watch dashboard (/admin/watch). */
void web_watch_page(struct web_req *r);
void web_admin(struct web_req *r);

#endif
