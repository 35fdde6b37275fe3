/*
 * server.c - the HTTP server of `rblkit web` on libmicrohttpd: limits
 * (body size -> 413, connection memory and idle time), the per-thread
 * store and resolver, request parsing into struct web_req, routing, and
 * the security headers every response carries.
 *
 * SECURITY: requests are hostile. The body is read up to max_body and
 * refused beyond (413, before it is read when Content-Length says so);
 * headers are bounded by MHD's connection memory limit. Responses never
 * carry an internal path, an engine error or a stack: errors are logged,
 * the client gets the catalogue's words.
 */
#define _GNU_SOURCE
#include "web/web_int.h"
#include "web/mhd.h"
#include "web/sodium.h"
#include "base/listen.h"
#include "base/daemon.h"
#include "base/util.h"
#include "dnsbl/catalog.h"
#include "dnsbl/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " \
	    "frame-ancestors 'none'; base-uri 'none'"

/* Every thread's connections, freed at the end. */
static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct web_thread **threads;
static size_t nthreads;
static __thread struct web_thread *self;

static const char style_css[] =
	"body{font-family:sans-serif;max-width:48em;margin:1em auto;padding:0 1em;line-height:1.4}"
	"input[type=text],textarea{width:100%;box-sizing:border-box;padding:.4em;font-size:1em}"
	"table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em;"
	"text-align:left;vertical-align:top}.listed{color:#b00;font-weight:bold}"
	".ok{color:#070;font-weight:bold}.unknown{color:#a60;font-weight:bold}"
	"pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:.5em}"
	"nav{text-align:right}section{border:1px solid #ccc;padding:.5em 1em;margin:1em 0}";

/* Per-request state across MHD's calls. */
struct conn_state {
	char *body;
	size_t len;
	int started;            /* the first call (headers) is done */
	int too_large;
};

/* The watch history's own store, when watch_store names another one. */
static void watch_store(struct web_server *srv, struct web_thread *t)
{
	const char *w = srv->conf->watch_store;
	char err[256];

	if (t->wst || !w || !*w || !strcmp(w, srv->conf->store))
		return;
	if (store_open(w, STORE_RDONLY, &t->wst, err, sizeof(err)))
		log_err("web: watch_store: %s", err);
}

static struct web_thread *thread_ctx(struct web_server *srv)
{
	struct rs_opts o = { .mode = RS_FORWARD, .tries = 1 };
	char err[256];

	if (self) {
		/* a store that could not be opened is tried again per request */
		if (!self->st && store_open(srv->conf->store, 0, &self->st, err, sizeof(err)))
			log_err("web: %s", err);
		watch_store(srv, self);
		return self;
	}
	self = xcalloc(1, sizeof(*self));
	if (store_open(srv->conf->store, 0, &self->st, err, sizeof(err)))
		log_err("web: %s", err);
	watch_store(srv, self);
	o.servers = srv->conf->dns;
	o.timeout_ms = srv->conf->dns_timeout_ms;
	if (!(self->rs = rs_new(&o, err, sizeof(err))))
		log_err("web: dns: %s", err);
	pthread_mutex_lock(&threads_lock);
	threads = xreallocarray(threads, nthreads + 1, sizeof(*threads));
	threads[nthreads++] = self;
	pthread_mutex_unlock(&threads_lock);
	return self;
}

static void threads_free(void)
{
	for (size_t i = 0; i < nthreads; i++) {
		store_close(threads[i]->st);
		store_close(threads[i]->wst);
		rs_free(threads[i]->rs);
		free(threads[i]);
	}
	free(threads);
	threads = NULL;
	nthreads = 0;
}

void web_header(struct web_req *r, const char *name, const char *value)
{
	if (r->nhdr >= WEB_HDR_MAX) {           /* a page's bug, not the client's: drop it */
		log_warn("web: response header %s dropped (more than %d)", name, WEB_HDR_MAX);
		return;
	}
	r->hdr[r->nhdr].name = name;
	str_copy(r->hdr[r->nhdr].value, sizeof(r->hdr[r->nhdr].value), value);
	r->nhdr++;
}

/* The client's address: the peer's, or the last X-Forwarded-For hop
 * when the peer is a configured proxy. */
static void client_addr(struct web_req *r, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const char *xff;

	str_copy(r->client, sizeof(r->client), "unknown");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->client,
			  sizeof(r->client));
	else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6))
			inet_ntop(AF_INET, a6->s6_addr + 12, r->client, sizeof(r->client));
		else
			inet_ntop(AF_INET6, a6, r->client, sizeof(r->client));
	}
	for (size_t i = 0; i < r->srv->conf->proxies.n; i++)
		if (!strcmp(r->srv->conf->proxies.v[i], r->client) &&
		    (xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For"))) {
			const char *last = strrchr(xff, ',');
			char tmp[64];
			unsigned char b[16];

			last = last ? last + 1 : xff;
			while (*last == ' ')
				last++;
			str_copy(tmp, sizeof(tmp), last);
			tmp[strcspn(tmp, " ")] = 0;
			if (inet_pton(AF_INET, tmp, b) == 1 || inet_pton(AF_INET6, tmp, b) == 1)
				str_copy(r->client, sizeof(r->client), tmp);
			break;
		}
}

static enum web_lang pick_lang(struct web_req *r, struct MHD_Connection *c)
{
	const char *q = web_kv_get(&r->query, "lang");
	int l;

	for (int i = 0; q && i < WEB_NLANG; i++)
		if (!strcmp(q, web_lang_names[i]))
			return (enum web_lang)i;
	q = web_kv_get(&r->cookies, "lang");
	for (int i = 0; q && i < WEB_NLANG; i++)
		if (!strcmp(q, web_lang_names[i]))
			return (enum web_lang)i;
	l = web_accept_language(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Language"),
				web_lang_names, WEB_NLANG);
	return l < 0 ? WEB_LANG_EN : (enum web_lang)l;
}

/* A streamed body: the head made by the page, then what fn gives. */
struct stream {
	long (*fn)(void *cls, char *buf, size_t max);
	void (*free)(void *cls);
	void *cls;
	struct web_buf head;
	size_t off;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	long n;

	if (st->off < st->head.len) {
		size_t k = st->head.len - st->off < max ? st->head.len - st->off : max;

		memcpy(buf, st->head.p + st->off, k);
		st->off += k;
		return (ssize_t)k;
	}
	n = st->fn(st->cls, buf, max);
	if (n == WEB_STREAM_ERROR)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

void web_conn_suspend(void *conn)
{
	MHD_suspend_connection(conn);
}

void web_conn_resume(void *conn)
{
	MHD_resume_connection(conn);
}

int web_conn_fd(void *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
		MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

static void stream_end(void *cls)
{
	struct stream *st = cls;

	st->free(st->cls);
	web_buf_free(&st->head);
	free(st);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct web_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->out.err) {               /* the body could not be made */
		web_buf_free(&r->out);
		r->status = 500;
		r->ctype = "text/plain; charset=utf-8";
		H_LIT(&r->out, "internal error\n");
	}
	if (r->stream && !r->out.err) {
		struct stream *st = xcalloc(1, sizeof(*st));

		st->fn = r->stream;
		st->free = r->stream_free;
		st->cls = r->stream_cls;
		st->head = r->out;      /* the page head goes out first */
		r->out = (struct web_buf){ 0 };
		r->stream = NULL;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, st,
							 stream_end);
		if (!resp) {
			stream_end(st);
			return MHD_NO;
		}
	} else {
		if (r->stream) {        /* the head failed: no stream */
			r->stream_free(r->stream_cls);
			r->stream = NULL;
		}
		resp = MHD_create_response_from_buffer(r->out.len,
						       r->out.p ? r->out.p : (char *)"",
						       MHD_RESPMEM_MUST_COPY);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
				r->ctype ? r->ctype : "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Content-Security-Policy", CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (r->srv->conf->cookie_secure)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	for (unsigned i = 0; i < r->nhdr; i++)
		MHD_add_response_header(resp, r->hdr[i].name, r->hdr[i].value);
	ret = MHD_queue_response(c, r->status ? r->status : 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Parse the query, cookies and body of a request; 0, or -1 (400). */
static int read_request(struct web_req *r, struct MHD_Connection *c, const char *url,
			struct conn_state *cs, char **bufs)
{
	const char *qs = strchr(url, '?');
	const char *ck = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	size_t ql = qs ? strlen(qs + 1) : 0, cl = ck ? strlen(ck) : 0;

	/* MHD hands the path without the query; the arguments are read
	 * from the raw URI it keeps (MHD_OPTION_URI_LOG_CALLBACK) */
	bufs[0] = malloc(web_kv_bufsize(ql));
	bufs[1] = malloc(web_kv_bufsize(cl));
	bufs[2] = malloc(web_kv_bufsize(cs->len));
	if (!bufs[0] || !bufs[1] || !bufs[2])
		return -1;
	web_kv_init(&r->query, bufs[0], web_kv_bufsize(ql));
	web_kv_init(&r->cookies, bufs[1], web_kv_bufsize(cl));
	web_kv_init(&r->form, bufs[2], web_kv_bufsize(cs->len));
	if ((qs && web_form_parse(&r->query, qs + 1, ql)) || (ck && web_cookie_parse(&r->cookies, ck, cl)))
		return -1;
	r->body = cs->body;
	r->body_len = cs->len;
	if (r->is_post && ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33) &&
	    web_form_parse(&r->form, cs->body ? cs->body : "", cs->len))
		return -1;
	return 0;
}

static void route(struct web_req *r)
{
	const char *p = r->path;

	if (!strcmp(p, "/style.css")) {
		r->ctype = "text/css; charset=utf-8";
		web_buf_raw_(&r->out, style_css, sizeof(style_css) - 1);
	} else if (!strncmp(p, "/api/", 5)) {
		web_api(r);
	} else if (!strcmp(p, "/admin") || !strncmp(p, "/admin/", 7)) {
		web_admin(r);
	} else if (!strcmp(p, "/")) {
		if (r->is_post)
			web_page_msg(r, 405, M_BAD_REQUEST);
		else
			web_lookup_page(r);
	} else if (!strcmp(p, "/remove")) {
		if (!r->is_post)
			web_page_msg(r, 405, M_BAD_REQUEST);
		else
			web_remove_page(r);
	} else if (!strcmp(p, "/confirm")) {
		web_confirm_page(r);
	} else {
		web_page_msg(r, 404, M_NOT_FOUND);
	}
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn_state *cs = calloc(1, sizeof(*cs) + strlen(uri) + 1);

	if (cs)
		strcpy((char *)(cs + 1), uri);
	return cs;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct web_server *srv = cls;
	struct conn_state *cs = *con_cls;
	struct web_req r;
	char *bufs[3] = { NULL, NULL, NULL };
	enum MHD_Result ret;
	int post = !strcmp(method, "POST");

	if (!cs)
		return MHD_NO;
	memset(&r, 0, sizeof(r));
	r.srv = srv;
	r.conn = c;
	r.method = method;
	r.path = url;
	r.is_post = post;
	r.now = time(NULL);
	if (!post && strcmp(method, "GET") && strcmp(method, "HEAD")) {
		r.status = 405;
		r.ctype = "text/plain; charset=utf-8";
		H_LIT(&r.out, "method not allowed\n");
		ret = send_resp(c, &r);
		web_buf_free(&r.out);
		return ret;
	}
	/* The first call has the headers only. Answering in it makes MHD
	 * close the connection (it has not read the body), which is what an
	 * oversized body gets; everything else is answered on a later call,
	 * and the connection stays open for the next request. */
	if (!cs->started) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

		cs->started = 1;
		if (cl && strtoull(cl, NULL, 10) > srv->conf->max_body)
			cs->too_large = 1;
		else
			return MHD_YES;
	}
	if (*upload_size) {
		if (!cs->too_large && cs->len + *upload_size <= srv->conf->max_body) {
			char *p = realloc(cs->body, cs->len + *upload_size + 1);

			if (!p)
				return MHD_NO;
			cs->body = p;
			memcpy(cs->body + cs->len, upload, *upload_size);
			cs->len += *upload_size;
			cs->body[cs->len] = 0;
		} else {
			cs->too_large = 1;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	r.t = thread_ctx(srv);
	client_addr(&r, c);
	if (cs->too_large) {
		web_kv_init(&r.query, NULL, 0);
		web_kv_init(&r.cookies, NULL, 0);
		r.lang = WEB_LANG_EN;
		web_page_msg(&r, 413, M_TOO_LARGE);
		web_header(&r, "Connection", "close");
	} else {
		const char *raw = (const char *)(cs + 1);

		if (read_request(&r, c, raw, cs, bufs)) {
			web_kv_init(&r.query, NULL, 0);
			web_kv_init(&r.cookies, NULL, 0);
			web_kv_init(&r.form, NULL, 0);
			r.lang = pick_lang(&r, c);
			web_page_msg(&r, 400, M_BAD_REQUEST);
		} else {
			r.lang = pick_lang(&r, c);
			route(&r);
		}
	}
	ret = send_resp(c, &r);
	web_buf_free(&r.out);
	for (int i = 0; i < 3; i++)
		free(bufs[i]);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;

	if (cs) {
		free(cs->body);
		free(cs);
	}
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = 0;
	log_warn("web: %s", buf);
}

#define CHECK_LISTS_MAX 128

/* The check page's catalogue, lists (check_lists: what check --lists
 * takes, and ZONE@ADDR[:PORT] as check --zone takes) and resolver. */
static int check_setup(struct web_server *srv, const struct web_conf *c, char *err, size_t el)
{
	char cerr[(CATALOG_MAX_ERRORS + 1) * 256], bad[256], *spec, *save = NULL, *rest;
	size_t rl = 0;
	int rc = -1;

	srv->cat = catalog_new();
	if (catalog_load_all(srv->cat, NULL, 0, cerr, sizeof(cerr))) {
		cerr[strcspn(cerr, "\n")] = 0;
		snprintf(err, el, "check_lists: the catalogue: %s", cerr);
		return -1;
	}
	srv->check_lists = xcalloc(CHECK_LISTS_MAX, sizeof(*srv->check_lists));
	spec = xstrdup(c->check_lists);
	rest = xcalloc(1, strlen(spec) + 2);
	for (char *w = strtok_r(spec, " ,\t", &save); w; w = strtok_r(NULL, " ,\t", &save)) {
		char *at = strchr(w, '@');
		struct list *l;

		if (!at) {              /* catalogue words: selected together below */
			rl += (size_t)sprintf(rest + rl, "%s%s", rl ? "," : "", w);
			continue;
		}
		*at++ = 0;
		if (!*w || !*at || strlen(w) > 200) {
			snprintf(err, el, "check_lists: '%s': expected ZONE@ADDR[:PORT]", w);
			goto out;
		}
		l = catalog_add_zone(srv->cat, w, 0);
		free(l->server);
		l->server = xstrdup(at);
		if (srv->ncheck < CHECK_LISTS_MAX)
			srv->check_lists[srv->ncheck++] = l;
	}
	if (rl && catalog_select(srv->cat, rest, LK_IP4 | LK_IP6 | LK_DOMAIN, srv->check_lists,
				 &srv->ncheck, CHECK_LISTS_MAX, bad, sizeof(bad))) {
		snprintf(err, el, "check_lists: no list or set named '%s' (rblkit check "
			 "--list-catalog)", bad);
		goto out;
	}
	catalog_index_build(srv->cat);
	srv->check_rs = (struct rs_opts){ .mode = RS_FORWARD, .servers = c->check_resolver,
					  .timeout_ms = 2000, .tries = 2, .window = 256 };
	if (!strcmp(c->check_resolver, "recursive"))
		srv->check_rs.mode = RS_RECURSIVE;
	rc = 0;
out:
	free(spec);
	free(rest);
	return rc;
}

int web_run(const struct web_conf *c, char *err, size_t el)
{
	struct web_server srv = { .conf = c };
	struct listen_list l;
	struct MHD_Daemon *d = NULL;
	struct conftab_errors e = { 0 };
	struct store *st = NULL;
	char *cert = NULL, *key = NULL;
	sigset_t set;
	int fd = -1, sig, rc = -1;
	const int sigs[] = { SIGINT, SIGTERM };

	if (web_sodium_load(err, el) < 0)
		return -1;
	if (web_mhd_load(err, el))
		return -1;
	if (c->rules && *c->rules) {
		if (!(srv.rules = list_conf_load(c->rules, &e))) {
			snprintf(err, el, "%s", e.n ? e.msg[0] : "rules: cannot read");
			return -1;
		}
	} else {
		srv.rules = list_conf_load(NULL, &e);
	}
	if (check_setup(&srv, c, err, el))
		goto out;
	free(srv.rules->store);
	srv.rules->store = xstrdup(c->store);
	/* the schema (migrations) once, before the threads open theirs */
	if (store_open(c->store, 0, &st, err, el))
		goto out;
	store_close(st);
	if (web_tls_load(c, &cert, &key, err, el))
		goto out;
	if (listen_parse(c->listen, LISTEN_COLON, NULL, 0, &l, err, el))
		goto out;
	if ((fd = listen_bind(&l.a[0], SOCK_STREAM, 0, 128, err, el)) < 0)
		goto out;
	if (c->user && *c->user && daemon_drop_privileges(c->user, NULL, NULL, err, el))
		goto out;
	signal(SIGPIPE, SIG_IGN);       /* sendmail may exit before reading */
	daemon_block_signals(sigs, 2, &set);
	{
		struct MHD_OptionItem o[] = {
			{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL },
			{ MHD_OPTION_LISTEN_SOCKET, fd, NULL },
			{ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)c->threads, NULL },
			{ MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)c->timeout, NULL },
			{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)65536, NULL },
			{ MHD_OPTION_CONNECTION_LIMIT, (intptr_t)1000, NULL },
			{ MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_log, NULL },
			{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, NULL },
			{ cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert },
			{ MHD_OPTION_HTTPS_MEM_KEY, 0, key },
			{ MHD_OPTION_END, 0, NULL },
		};

		/* suspend/resume: the check page's threads (check.c) */
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
				     (cert ? MHD_USE_TLS : 0),
				     0, NULL, NULL, handle, &srv, MHD_OPTION_ARRAY, o, MHD_OPTION_END);
	}
	if (!d && cert) {
		snprintf(err, el, "tls_cert %s, tls_key %s: the HTTPS server could not start: "
			 "not a certificate and its matching private key (PEM)", c->tls_cert,
			 c->tls_key);
		goto out;
	}
	if (!d) {
		snprintf(err, el, "the HTTP server could not start");
		goto out;
	}
	{
		char a[80];

		log_info("web: listening on %s%s", listen_format(&l.a[0], a, sizeof(a)),
			 cert ? " (HTTPS)" : "");
	}
	sigwait(&set, &sig);
	log_info("web: signal %d: stopping", sig);
	rc = 0;
out:
	/* MHD must not stop with a connection suspended: the checks end
	 * first, and resume theirs */
	web_check_stop_all();
	if (d)
		MHD_stop_daemon(d);
	else if (fd >= 0)
		close(fd);
	threads_free();
	web_tls_free(cert, key);
	list_conf_free(srv.rules);
	free(srv.check_lists);
	catalog_free(srv.cat);
	return rc;
}
