/*
 * alert.c - delivering one alert of `rblkit watch` (`rblkit watch
 * deliver`, started by the daemon in a process of its own): read the
 * alert, its transition and the recent notes from the store, word it,
 * send it on its channel and record the outcome.
 *
 *   command   /bin/sh -c alert_command, the alert in RBLKIT_WATCH_*
 *             variables (docs/watch.md), stdin /dev/null; exit 0 = sent
 *   webhook   HTTP/1.0 POST of a JSON object to alert_webhook (http://,
 *             or https:// with the certificate and host name checked
 *             against the system's CAs or webhook_ca), webhook_timeout per
 *             attempt, webhook_retries more attempts 2, 4, 8 ... s apart;
 *             a 2xx status = sent
 *   mail      sendmail -t -oi with the alert as a plain text message to
 *             alert_mail
 *
 * The alert row says "sending pid N" while this runs, so that a daemon
 * restarted meanwhile neither sends it again nor forgets it.
 *
 * SECURITY: TXT records and log lines are other parties' text: they go
 * into environment variables (never the command line), JSON strings
 * (json.h escapes them) and mail body lines with control characters
 * replaced; a header carries only the target and list, checked when
 * configured. Runs with the daemon's privileges.
 */
#include "watch/watch.h"

#include "base/json.h"
#include "base/openssl.h"
#include "base/util.h"
#include "store/store.h"
#include "store/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Everything an alert says, as text. */
struct alert_text {
	char event[32];                 /* listed, delisted, list-error, list-ok, reminder */
	char target[STORE_WATCH_TARGET_MAX];
	char list[STORE_WATCH_LIST_MAX];
	char list_name[128];
	char from[16], to[16];
	char codes[STORE_WATCH_CODES_MAX];
	char meaning[512];
	char txt[STORE_WATCH_TEXT_MAX];
	char why[STORE_WATCH_TEXT_MAX];
	char delist[512];
	char time[32];
	char notes[4096];               /* one line per note */
	char subject[512];
	int64_t alert, transition;
	unsigned seq;
};

static void iso_time(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The meanings of a "127.0.0.2,127.0.0.4" code list on l. */
static void meanings(const struct list *l, const char *codes, char *out, size_t len)
{
	char buf[STORE_WATCH_CODES_MAX], *save = NULL;

	*out = '\0';
	if (!l)
		return;
	str_copy(buf, sizeof(buf), codes);
	for (char *c = strtok_r(buf, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		unsigned a, b, d, e;
		const char *m = NULL;
		size_t n = strlen(out);

		if (sscanf(c, "%u.%u.%u.%u", &a, &b, &d, &e) != 4 || a > 255 || b > 255 || d > 255 ||
		    e > 255)
			continue;
		list_classify(l, a << 24 | b << 16 | d << 8 | e, &m);
		snprintf(out + n, len - n, "%s%s: %s", n ? "; " : "", c, m ? m : "");
	}
}

struct note_ctx {
	struct alert_text *a;
	const char *zone;
};

static int note_cb(void *arg, const struct store_watch_note *n)
{
	struct note_ctx *x = arg;
	size_t l = strlen(x->a->notes);
	char t[32];

	if (*n->list && strcasecmp(n->list, x->a->list) && (!x->zone || strcasecmp(n->list, x->zone)))
		return 0;
	iso_time(n->time, t, sizeof(t));
	snprintf(x->a->notes + l, sizeof(x->a->notes) - l, "%s %s%s%s: %s\n", t, n->source,
		 *n->subject ? " " : "", n->subject, n->text);
	return 0;
}

static int find_alert(void *arg, const struct store_watch_alert *a)
{
	struct store_watch_alert *want = arg;

	if (a->id != want->id)
		return 0;
	*want = *a;
	return 1;
}

/* Word alert al of transition t. */
static void word(const struct watch_plan *p, const struct watch_conf *c, struct store *st,
		 const struct store_watch_alert *al, const struct store_watch_transition *t,
		 struct alert_text *a)
{
	const struct list *l = NULL;
	struct note_ctx nx = { a, NULL };
	bool list_row = !*t->target;

	memset(a, 0, sizeof(*a));
	a->alert = al->id;
	a->transition = t->id;
	a->seq = al->seq;
	for (size_t i = 0; i < p->nl; i++)
		if (!strcmp(p->l[i].key, t->list))
			l = p->l[i].l;
	str_copy(a->target, sizeof(a->target), t->target);
	str_copy(a->list, sizeof(a->list), t->list);
	str_copy(a->list_name, sizeof(a->list_name), l && l->name ? l->name : t->list);
	str_copy(a->from, sizeof(a->from), store_watch_state_name(t->from));
	str_copy(a->to, sizeof(a->to), store_watch_state_name(t->to));
	str_copy(a->codes, sizeof(a->codes), t->codes);
	str_copy(a->txt, sizeof(a->txt), t->txt);
	str_copy(a->why, sizeof(a->why), t->why);
	meanings(l, t->codes, a->meaning, sizeof(a->meaning));
	if (l && !list_row) {
		const char *subj = !strncmp(t->target, "mx:", 3) ? t->target + 3 : t->target;

		if (list_delist_url(l, subj, a->delist, sizeof(a->delist)) == NULL)
			a->delist[0] = '\0';
	}
	iso_time(t->time, a->time, sizeof(a->time));
	if (list_row)
		str_copy(a->event, sizeof(a->event), t->to == STORE_WATCH_ERROR ? "list-error" : "list-ok");
	else if (al->seq)
		str_copy(a->event, sizeof(a->event), "reminder");
	else
		str_copy(a->event, sizeof(a->event), t->to == STORE_WATCH_LISTED ? "listed" : "delisted");
	nx.zone = l ? l->zone : NULL;
	store_watch_notes(st, (al->seq ? (int64_t)time(NULL) : t->time) - (int64_t)c->note_window,
			  NULL, 10, note_cb, &nx);
	if (list_row)
		snprintf(a->subject, sizeof(a->subject), "rblkit watch: list %.200s %s", t->list,
			 t->to == STORE_WATCH_ERROR ? "in error" : "answers again");
	else
		snprintf(a->subject, sizeof(a->subject), "rblkit watch: %.200s %s %.200s",
			 t->target, al->seq ? "still listed on" :
			 t->to == STORE_WATCH_LISTED ? "listed on" : "no longer listed on", t->list);
}

/* ---- command ---- */

static int run_command(const struct watch_conf *c, const struct alert_text *a, char *det,
		       size_t dl)
{
	char seq[16], ids[32], tids[32];
	const char *vars[][2] = {
		{ "RBLKIT_WATCH_EVENT", a->event }, { "RBLKIT_WATCH_TARGET", a->target },
		{ "RBLKIT_WATCH_LIST", a->list }, { "RBLKIT_WATCH_LIST_NAME", a->list_name },
		{ "RBLKIT_WATCH_FROM", a->from }, { "RBLKIT_WATCH_TO", a->to },
		{ "RBLKIT_WATCH_CODES", a->codes }, { "RBLKIT_WATCH_MEANING", a->meaning },
		{ "RBLKIT_WATCH_TXT", a->txt }, { "RBLKIT_WATCH_WHY", a->why },
		{ "RBLKIT_WATCH_DELIST", a->delist }, { "RBLKIT_WATCH_TIME", a->time },
		{ "RBLKIT_WATCH_NOTES", a->notes }, { "RBLKIT_WATCH_SUBJECT", a->subject },
		{ "RBLKIT_WATCH_REMINDER", seq }, { "RBLKIT_WATCH_ALERT_ID", ids },
		{ "RBLKIT_WATCH_TRANSITION_ID", tids },
	};
	pid_t pid;
	int status;

	snprintf(seq, sizeof(seq), "%u", a->seq);
	snprintf(ids, sizeof(ids), "%" PRId64, a->alert);
	snprintf(tids, sizeof(tids), "%" PRId64, a->transition);
	pid = fork();
	if (pid < 0) {
		snprintf(det, dl, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd >= 0)
			dup2(fd, 0);
		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			setenv(vars[i][0], vars[i][1], 1);
		signal(SIGPIPE, SIG_DFL);      /* as a shell expects it */
		execl("/bin/sh", "sh", "-c", c->alert_command, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(det, dl, "exit status 0");
		return 0;
	}
	if (WIFEXITED(status))
		snprintf(det, dl, "the command exited with status %d", WEXITSTATUS(status));
	else
		snprintf(det, dl, "the command was killed by signal %d", WTERMSIG(status));
	return -1;
}

/* ---- webhook ---- */

static void json_body(const struct alert_text *a, FILE *f)
{
	const char *kv[][2] = {
		{ "event", a->event }, { "target", a->target }, { "list", a->list },
		{ "list_name", a->list_name }, { "from", a->from }, { "to", a->to },
		{ "codes", a->codes }, { "meaning", a->meaning }, { "txt", a->txt },
		{ "why", a->why }, { "delist", a->delist }, { "time", a->time },
		{ "subject", a->subject },
	};
	const char *p = a->notes;

	fputc('{', f);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", kv[i][0]);
		json_str(f, kv[i][1]);
	}
	fprintf(f, ",\"reminder\":%u,\"alert_id\":%" PRId64 ",\"transition_id\":%" PRId64
		   ",\"notes\":[", a->seq, a->alert, a->transition);
	for (int n = 0; *p; n++) {
		size_t l = strcspn(p, "\n");

		fputs(n ? "," : "", f);
		json_strn(f, p, l);
		p += l + (p[l] == '\n');
	}
	fputs("]}", f);
}

/* Split "http://host[:port]/path". 0 or -1. */
static int url_split(const char *url, char *host, size_t hl, char *port, size_t pl,
		     const char **path)
{
	const char *h, *e, *colon;

	int tls = strncasecmp(url, "https://", 8) == 0;

	if (!tls && strncasecmp(url, "http://", 7))
		return -1;
	h = url + (tls ? 8 : 7);
	e = h + strcspn(h, "/");
	*path = *e ? e : "/";
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(e - h));

		if (!rb || (size_t)(rb - h - 1) >= hl)
			return -1;
		snprintf(host, hl, "%.*s", (int)(rb - h - 1), h + 1);
		colon = rb + 1 < e && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(e - h));
		if ((size_t)((colon ? colon : e) - h) >= hl || (colon ? colon : e) == h)
			return -1;
		snprintf(host, hl, "%.*s", (int)((colon ? colon : e) - h), h);
	}
	if (colon)
		snprintf(port, pl, "%.*s", (int)(e - colon - 1), colon + 1);
	else
		snprintf(port, pl, tls ? "443" : "80");
	return 0;
}

/* ---- one connection, plain or TLS, with one deadline ---- */

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	uint64_t deadline;
};

static int wait_fd(int fd, short events, uint64_t deadline);

/* Drive an SSL call that may want to read or write: 1 done, 0 again
 * after waiting, -1 failed (why in det). */
static int tls_step(struct conn *k, int r, const char *what, char *det, size_t dl)
{
	int e = SSL_get_error(k->ssl, r);
	unsigned long q;

	if (r > 0)
		return 1;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (wait_fd(k->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, k->deadline)) {
			snprintf(det, dl, "webhook: TLS %s: timed out", what);
			return -1;
		}
		return 0;
	}
	q = ERR_get_error();
	if (e == SSL_ERROR_ZERO_RETURN)
		snprintf(det, dl, "webhook: TLS %s: closed by the server", what);
	else if (SSL_get_verify_result(k->ssl) != X509_V_OK)
		snprintf(det, dl, "webhook: TLS %s: certificate not trusted: %s", what,
			 X509_verify_cert_error_string(SSL_get_verify_result(k->ssl)));
	else
		snprintf(det, dl, "webhook: TLS %s: %s", what,
			 q ? ERR_reason_error_string(q) : "failed");
	return -1;
}

/* TLS over the connected k->fd, the certificate checked for host. */
static int tls_start(struct conn *k, const char *host, const char *ca, char *det, size_t dl)
{
	int r;

	if (openssl_load(det, dl) < 0)
		return -1;
	if (!(k->ctx = SSL_CTX_new(TLS_client_method()))) {
		snprintf(det, dl, "webhook: TLS: out of memory");
		return -1;
	}
	SSL_CTX_set_min_proto_version(k->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(k->ctx, SSL_VERIFY_PEER, NULL);
	if (ca ? SSL_CTX_load_verify_locations(k->ctx, ca, NULL) != 1
	       : SSL_CTX_set_default_verify_paths(k->ctx) != 1) {
		snprintf(det, dl, "webhook: TLS: cannot load the CAs%s%s", ca ? " of " : "",
			 ca ? ca : "");
		return -1;
	}
	if (!(k->ssl = SSL_new(k->ctx)) || SSL_set_fd(k->ssl, k->fd) != 1 ||
	    SSL_set1_host(k->ssl, host) != 1) {
		snprintf(det, dl, "webhook: TLS: set-up failed");
		return -1;
	}
	SSL_set_hostflags(k->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (!strchr(host, ':') && strspn(host, "0123456789.") != strlen(host))
		SSL_set_tlsext_host_name(k->ssl, host);         /* SNI: names only */
	while ((r = tls_step(k, SSL_connect(k->ssl), "handshake", det, dl)) == 0)
		;
	return r > 0 ? 0 : -1;
}

/* Send all of b: 0, or -1 with why in det. */
static int conn_send(struct conn *k, const char *b, size_t n, unsigned timeout_s,
		     char *det, size_t dl)
{
	size_t sent = 0;

	while (sent < n) {
		ssize_t w;

		if (k->ssl) {
			int r = SSL_write(k->ssl, b + sent, (int)(n - sent > INT32_MAX ? INT32_MAX
								       : n - sent));
			int st = tls_step(k, r, "send", det, dl);

			if (st < 0)
				return -1;
			if (st > 0)
				sent += (size_t)r;
			continue;
		}
		if (wait_fd(k->fd, POLLOUT, k->deadline)) {
			snprintf(det, dl, "webhook: timed out sending after %us", timeout_s);
			return -1;
		}
		w = send(k->fd, b + sent, n - sent, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(det, dl, "webhook: send: %s", strerror(errno));
			return -1;
		}
		if (w > 0)
			sent += (size_t)w;
	}
	return 0;
}

/* Read up to len bytes: the count (0 at the end), or -1 with why in det. */
static ssize_t conn_recv(struct conn *k, char *b, size_t len, unsigned timeout_s,
			 char *det, size_t dl)
{
	for (;;) {
		ssize_t r;

		if (k->ssl) {
			int n = SSL_read(k->ssl, b, (int)(len > INT32_MAX ? INT32_MAX : len));
			int st;

			if (n <= 0 && SSL_get_error(k->ssl, n) == SSL_ERROR_ZERO_RETURN)
				return 0;
			if ((st = tls_step(k, n, "receive", det, dl)) < 0)
				return -1;
			if (st > 0)
				return n;
			continue;
		}
		if (wait_fd(k->fd, POLLIN, k->deadline)) {
			snprintf(det, dl, "webhook: no answer within %us", timeout_s);
			return -1;
		}
		r = recv(k->fd, b, len, 0);
		if (r >= 0)
			return r;
		if (errno != EAGAIN && errno != EINTR) {
			snprintf(det, dl, "webhook: recv: %s", strerror(errno));
			return -1;
		}
	}
}

static void conn_close(struct conn *k)
{
	if (k->ssl)
		SSL_free(k->ssl);
	if (k->ctx)
		SSL_CTX_free(k->ctx);
	if (k->fd >= 0)
		close(k->fd);
}

/* Wait for fd to be ready for events until deadline (now_ms() value). */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		uint64_t now = now_ms();
		int r;

		if (now >= deadline)
			return -1;
		r = poll(&p, 1, (int)(deadline - now));
		if (r > 0)
			return 0;
		if (r == 0 || errno != EINTR)
			return -1;
	}
}

/* One POST; 0 on a 2xx status, -1 with why in det. */
static int post_once(const char *url, const char *ca, const char *body, size_t blen,
		     unsigned timeout_s, char *det, size_t dl)
{
	char host[256], port[16], req[1024], resp[512];
	const char *path;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct conn k = { .fd = -1, .deadline = now_ms() + (uint64_t)timeout_s * 1000 };
	size_t got = 0, hl;
	int rc = -1, code = 0, e;

	if (url_split(url, host, sizeof(host), port, sizeof(port), &path)) {
		snprintf(det, dl, "webhook: expected http[s]://HOST[:PORT]/PATH");
		return -1;
	}
	if ((e = getaddrinfo(host, port, &hints, &ai)) || !ai) {
		snprintf(det, dl, "webhook %s: %s", host, gai_strerror(e));
		goto out;
	}
	k.fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k.fd < 0 || (connect(k.fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)) {
		snprintf(det, dl, "webhook: connect: %s", strerror(errno));
		goto out;
	}
	if (wait_fd(k.fd, POLLOUT, k.deadline)) {
		snprintf(det, dl, "webhook: no connection within %us", timeout_s);
		goto out;
	}
	{
		int err = 0;
		socklen_t sl = sizeof(err);

		getsockopt(k.fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err) {
			snprintf(det, dl, "webhook: connect: %s", strerror(err));
			goto out;
		}
	}
	if (strncasecmp(url, "https://", 8) == 0 && tls_start(&k, host, ca, det, dl))
		goto out;
	hl = (size_t)snprintf(req, sizeof(req),
			      "POST %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: rblkit-watch/" RBLKIT_VERSION
			      "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			      "Connection: close\r\n\r\n", path, host, blen);
	if (hl >= sizeof(req)) {
		snprintf(det, dl, "webhook: URL too long");
		goto out;
	}
	if (conn_send(&k, req, hl, timeout_s, det, dl) ||
	    conn_send(&k, body, blen, timeout_s, det, dl))
		goto out;
	while (got < sizeof(resp) - 1 && !memchr(resp, '\n', got)) {
		ssize_t r = conn_recv(&k, resp + got, sizeof(resp) - 1 - got, timeout_s, det, dl);

		if (r < 0)
			goto out;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	resp[got] = '\0';
	if (sscanf(resp, "HTTP/%*u.%*u %d", &code) != 1) {
		snprintf(det, dl, "webhook: not an HTTP answer");
		goto out;
	}
	snprintf(det, dl, "HTTP %d", code);
	rc = code >= 200 && code < 300 ? 0 : -1;
out:
	conn_close(&k);
	if (ai)
		freeaddrinfo(ai);
	return rc;
}

static int run_webhook(struct store *st, const struct watch_conf *c, const struct alert_text *a,
		       char *det, size_t dl)
{
	char *body = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&body, &blen);
	unsigned wait = 2;
	int rc = -1;

	if (!f) {
		snprintf(det, dl, "out of memory");
		return -1;
	}
	json_body(a, f);
	fclose(f);
	for (unsigned i = 0; i <= c->webhook_retries; i++) {
		if (i) {
			char note[STORE_WATCH_TEXT_MAX];

			snprintf(note, sizeof(note), "sending pid %ld: attempt %u failed: %.400s",
				 (long)getpid(), i, det);
			store_watch_alert_done(st, a->alert, STORE_WATCH_ALERT_PENDING, time(NULL), note);
			sleep(wait);
			wait = wait < 64 ? wait * 2 : wait;
		}
		if ((rc = post_once(c->alert_webhook, c->webhook_ca, body, blen, c->webhook_timeout, det, dl)) == 0)
			break;
	}
	free(body);
	return rc;
}

/* ---- mail ---- */

/* s on one line: control bytes as blanks. */
static void mail_line(FILE *f, const char *label, const char *s)
{
	if (!s || !*s)
		return;
	fputs(label, f);
	for (; *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
	fputc('\n', f);
}

static int run_mail(const struct watch_conf *c, const struct alert_text *a, char *det,
		    size_t dl)
{
	int pfd[2], status;
	pid_t pid;
	FILE *f;

	if (pipe(pfd)) {
		snprintf(det, dl, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(det, dl, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pfd[0], 0);
		close(pfd[0]);
		close(pfd[1]);
		signal(SIGPIPE, SIG_DFL);      /* as a shell expects it */
		execl(c->sendmail, "sendmail", "-t", "-oi", (char *)NULL);
		_exit(127);
	}
	close(pfd[0]);
	f = fdopen(pfd[1], "w");
	if (f) {
		signal(SIGPIPE, SIG_IGN);
		mail_line(f, "To: ", c->alert_mail);
		mail_line(f, "Subject: ", a->subject);
		fputs("Auto-Submitted: auto-generated\nContent-Type: text/plain; charset=utf-8\n\n", f);
		mail_line(f, "Event:    ", a->event);
		mail_line(f, "Target:   ", a->target);
		mail_line(f, "List:     ", a->list);
		mail_line(f, "Name:     ", a->list_name);
		mail_line(f, "Change:   ", a->from);
		mail_line(f, "     to:  ", a->to);
		mail_line(f, "Codes:    ", a->codes);
		mail_line(f, "Meaning:  ", a->meaning);
		mail_line(f, "TXT:      ", a->txt);
		mail_line(f, "Error:    ", a->why);
		mail_line(f, "Delist:   ", a->delist);
		mail_line(f, "Time:     ", a->time);
		if (*a->notes) {
			const char *p = a->notes;

			fputs("\nSeen meanwhile:\n", f);
			while (*p) {
				size_t l = strcspn(p, "\n");
				char line[STORE_WATCH_TEXT_MAX + 64];

				snprintf(line, sizeof(line), "%.*s", (int)l, p);
				mail_line(f, "  ", line);
				p += l + (p[l] == '\n');
			}
		}
		fclose(f);
	} else {
		close(pfd[1]);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(det, dl, "handed to %s", c->sendmail);
		return 0;
	}
	snprintf(det, dl, "%s failed (status %d)", c->sendmail,
		 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return -1;
}

/* Record the outcome of alert id. It exists only in this process: when
 * the store cannot take it (the disk is full), this tries again, 1, 2, 4
 * ... 60 s apart for an hour, and the row keeps saying "sending pid N"
 * meanwhile -- a daemon that found this process gone would record an
 * alert that was sent as interrupted. */
static void record_outcome(struct store *st, const struct watch_plan *p, int64_t id, int state,
			   const char *det)
{
	unsigned wait = 1, waited = 0;
	int rc;

	/* a row gone (STORE_NOTFOUND) is no failure to write */
	while ((rc = store_watch_alert_done(st, id, state, time(NULL), det)) &&
	       rc != STORE_NOTFOUND) {
		if (waited >= 3600) {
			log_err("store %s: %s: alert %" PRId64 " %s, but that is not recorded",
				p->shown, store_error(st), id,
				state == STORE_WATCH_ALERT_OK ? "was sent" : "failed");
			return;
		}
		if (!waited)
			log_err("store %s: %s: alert %" PRId64 " %s; recorded when the store can "
				"be written", p->shown, store_error(st), id,
				state == STORE_WATCH_ALERT_OK ? "was sent" : "failed");
		sleep(wait);
		waited += wait;
		wait = wait < 32 ? wait * 2 : 60;
	}
	if (waited)
		log_info("alert %" PRId64 ": recorded after %us", id, waited);
}

int watch_deliver(const char *path, int64_t alert_id)
{
	struct watch_conf *c = NULL;
	struct watch_plan p;
	struct conftab_errors e;
	struct store *st = NULL;
	struct store_watch_alert al = { .id = alert_id };
	struct store_watch_transition t;
	struct alert_text *a = xcalloc(1, sizeof(*a));
	char err[600], det[STORE_WATCH_TEXT_MAX] = "";
	int rc = 1, ok = -1;

	/* a webhook server that closes early must give an error, not kill
	 * the delivery half-way (OpenSSL writes with write(2)) */
	signal(SIGPIPE, SIG_IGN);
	if (watch_load(path, &c, &p, &e, err, sizeof(err))) {
		conftab_errors_print(&e, stderr);
		log_err("%s", err);
		goto out;
	}
	if (store_open(p.dsn, 0, &st, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	if (store_watch_alerts_pending(st, find_alert, &al) != 1) {
		log_err("alert %" PRId64 ": not waiting to be sent", alert_id);
		goto out;
	}
	if (store_watch_transition_get(st, al.transition, &t)) {
		log_err("alert %" PRId64 ": no transition %" PRId64, alert_id, al.transition);
		goto out;
	}
	snprintf(det, sizeof(det), "sending pid %ld", (long)getpid());
	if (store_watch_alert_done(st, al.id, STORE_WATCH_ALERT_PENDING, time(NULL), det)) {
		log_err("store %s: %s: alert %" PRId64 " not sent now", p.shown, store_error(st),
			al.id);
		goto out;
	}
	word(&p, c, st, &al, &t, a);
	if (!strcmp(al.channel, "command") && c->alert_command)
		ok = run_command(c, a, det, sizeof(det));
	else if (!strcmp(al.channel, "webhook") && c->alert_webhook)
		ok = run_webhook(st, c, a, det, sizeof(det));
	else if (!strcmp(al.channel, "mail") && c->alert_mail)
		ok = run_mail(c, a, det, sizeof(det));
	else
		snprintf(det, sizeof(det), "channel %s is no longer configured", al.channel);
	record_outcome(st, &p, al.id, ok ? STORE_WATCH_ALERT_FAILED : STORE_WATCH_ALERT_OK, det);
	if (ok)
		log_warn("alert %" PRId64 " (%s) on %s: %s", al.id, a->subject, al.channel, det);
	else
		log_info("alert %" PRId64 " (%s) sent on %s: %s", al.id, a->subject, al.channel, det);
	rc = ok ? 1 : 0;
out:
	store_close(st);
	if (c)
		conftab_free(&watch_conftab, c);
	watch_plan_free(&p);
	free(a);
	return rc;
}
