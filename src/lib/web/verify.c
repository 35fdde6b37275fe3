/*
 * verify.c - removal verified by mail (verify = ZONE=mail): the request
 * waits (state CONFIRM) with the digest of a random token; the link with
 * the token goes to postmaster@ and abuse@ of the registered domain of
 * the address's PTR name (of the name itself for a domain key), through
 * the local MTA's sendmail. The link opens a page with one button
 * (GET never removes: mail scanners follow links); its POST, before
 * confirm_ttl, removes the listing as a request does (self-removal
 * limits apply; beyond them it goes to review) and waits for DNS.
 * Without a PTR name the request goes to review.
 *
 * SECURITY: the PTR name is DNS data (hostile): only a syntactically
 * valid host name is used, and the message comes from a fixed template
 * with no CR/LF from outside in a header. sendmail runs without a shell
 * (execv), its arguments the operator's words and -t -i. The token is 32
 * random bytes; only its digest is stored; the POST needs the public
 * forms' CSRF token too.
 */
#include "web/web_int.h"
#include "base/util.h"
#include "dnsbl/psl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int hostname_ok(const char *s)
{
	size_t n = strlen(s), lab = 0;

	if (!n || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (!lab)
				return 0;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_') || ++lab > 63)
			return 0;
	}
	return 1;
}

/* The domain to mail for k: 0 and dom, or -1 (no usable PTR). */
static int mail_domain(const struct store_key *k, char *dom, size_t len)
{
	char host[NI_MAXHOST];
	size_t off = 0;

	if (k->kind == STORE_NAME) {
		str_copy(host, sizeof(host), k->text);
	} else {
		struct sockaddr_storage ss = { 0 };
		socklen_t sl;

		if (k->kind == STORE_IP4) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, k->addr, 4);
			sl = sizeof(*s4);
		} else {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, k->addr, 16);
			sl = sizeof(*s6);
		}
		if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), NULL, 0,
				NI_NAMEREQD))
			return -1;
	}
	host[strcspn(host, " ")] = 0;
	if (host[0] && host[strlen(host) - 1] == '.')
		host[strlen(host) - 1] = 0;
	if (!hostname_ok(host))
		return -1;
	regdom_load();
	if (regdom_registered(host, &off) != REGDOM_REDUCED)
		off = 0;
	str_copy(dom, len, host + off);
	return 0;
}

#define SENDMAIL_ARGS 8

/* The sendmail setting "PROGRAM [ARG ...]" (words split on blanks, no
 * shell, e.g. "/usr/sbin/sendmail -C /etc/postfix-out") into argv, then
 * -t -i and NULL; words points into copy. 0, or -1 (empty, too many). */
static int sendmail_argv(const char *sendmail, char *copy, size_t cl, char **argv)
{
	int n = 0;
	char *save = NULL;

	if (strlen(sendmail) >= cl)
		return -1;
	str_copy(copy, cl, sendmail);
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n >= SENDMAIL_ARGS)
			return -1;
		argv[n++] = w;
	}
	if (!n)
		return -1;
	argv[n++] = (char *)"-t";
	argv[n++] = (char *)"-i";
	argv[n] = NULL;
	return 0;
}

/* Run sendmail -t -i with msg on its stdin; 0 when it exited 0. */
static int send_mail(const char *sendmail, const char *msg)
{
	int p[2], st = 0;
	pid_t pid;
	size_t n = strlen(msg), off = 0;
	char copy[1024], *argv[SENDMAIL_ARGS + 3];

	if (sendmail_argv(sendmail, copy, sizeof(copy), argv)) {
		log_err("web: sendmail: '%s': expected PROGRAM [ARG ...] (at most %d words)",
			sendmail, SENDMAIL_ARGS);
		return -1;
	}
	if (pipe(p))
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	while (off < n) {
		ssize_t w = write(p[1], msg + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(p[1]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return off == n && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void web_verify_mail(struct web_req *r, const char *zone, const struct store_key *k,
		     const char *reason)
{
	const struct web_conf *c = r->srv->conf;
	struct store_web_request q = { .state = STORE_WEB_CONFIRM, .created = r->now };
	char dom[256], token[65], msg[4096], hours[16];
	int64_t id;

	str_copy(q.zone, sizeof(q.zone), zone);
	str_copy(q.key, sizeof(q.key), k->text);
	str_copy(q.client, sizeof(q.client), r->client);
	str_copy(q.reason, sizeof(q.reason), reason ? reason : "");
	if (mail_domain(k, dom, sizeof(dom))) {
		str_copy(q.why, sizeof(q.why), "no PTR name to send a confirmation to");
		q.state = STORE_WEB_PENDING;
		web_request_event(r, zone, k->text, "review", reason, q.why);
		if (store_web_request_add(r->t->st, &q, &id)) {
			web_page_msg(r, 500, M_INTERNAL);
			return;
		}
		r->status = 202;
		web_page_begin(r, web_msg(r->lang, M_TITLE));
		H_LIT(&r->out, "<p class=\"review\">");
		web_text_sub(&r->out, web_msg(r->lang, M_REVIEW), q.why, NULL);
		H_LIT(&r->out, "</p>");
		web_page_end(r);
		return;
	}
	web_token(token, 32);
	web_digest(token, q.token);
	q.expires = r->now + c->confirm_ttl;
	snprintf(q.why, sizeof(q.why), "confirmation mailed to postmaster@%.180s, abuse@%.180s", dom,
		 dom);
	if (store_web_request_add(r->t->st, &q, &id)) {
		log_err("web: %s", store_error(r->t->st));
		web_page_msg(r, 500, M_INTERNAL);
		return;
	}
	snprintf(msg, sizeof(msg),
		 "From: %s\nTo: postmaster@%s, abuse@%s\nSubject: Removal of %s from %s\n"
		 "Auto-Submitted: auto-generated\nContent-Type: text/plain; charset=utf-8\n\n"
		 "Someone at %s asked to remove %s from the blocklist %s.\n\n"
		 "If that was you, confirm within %u hours:\n\n  %s/confirm?t=%s\n\n"
		 "If not, ignore this message.\n",
		 c->mail_from && *c->mail_from ? c->mail_from : "rblkit-web", dom, dom, k->text, zone,
		 r->client, k->text, zone, c->confirm_ttl / 3600, c->base_url ? c->base_url : "",
		 token);
	web_request_event(r, zone, k->text, "mail", reason, q.why);
	if (send_mail(c->sendmail, msg)) {
		log_err("web: %s failed for request %lld", c->sendmail, (long long)id);
		web_page_msg(r, 500, M_INTERNAL);
		return;
	}
	r->status = 202;
	web_page_begin(r, web_msg(r->lang, M_TITLE));
	H_LIT(&r->out, "<p class=\"confirm\">");
	snprintf(hours, sizeof(hours), "%u", c->confirm_ttl / 3600);
	web_text_sub(&r->out, web_msg(r->lang, M_CONFIRM_SENT), dom, hours);
	H_LIT(&r->out, "</p>");
	web_page_end(r);
}

static int token_ok(const char *t)
{
	if (!t || strlen(t) != 64)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
			return 0;
	return 1;
}

void web_confirm_page(struct web_req *r)
{
	const char *t = web_kv_get(r->is_post ? &r->form : &r->query, "t");
	struct store_web_request q;
	struct store_key k;
	struct list_ctx lc;
	struct list_result res;
	char d[65], err[256], actor[96], why[200];

	if (!r->t->st) {
		web_page_msg(r, 503, M_INTERNAL);
		return;
	}
	if (!token_ok(t)) {
		web_page_msg(r, 404, M_CONFIRM_BAD);
		return;
	}
	web_digest(t, d);
	if (store_web_request_by_token(r->t->st, d, &q) || q.expires < r->now ||
	    store_key_parse(q.key, &k, why, sizeof(why))) {
		web_page_msg(r, 404, M_CONFIRM_BAD);
		return;
	}
	if (!r->is_post) {
		const char *tok = web_csrf_token(r);

		web_page_begin(r, web_msg(r->lang, M_TITLE));
		H_LIT(&r->out, "<h2 class=\"query\"><code>");
		web_text(&r->out, q.key);
		H_LIT(&r->out, "</code> &middot; ");
		web_text(&r->out, q.zone);
		H_LIT(&r->out, "</h2><form method=\"post\" action=\"/confirm\">");
		web_csrf_field(r, tok);
		H_LIT(&r->out, "<input type=\"hidden\" name=\"t\"");
		H_ATTR(&r->out, "value", t);
		H_LIT(&r->out, "><button type=\"submit\" id=\"confirm\">");
		web_text(&r->out, web_msg(r->lang, M_REMOVE_BUTTON));
		H_LIT(&r->out, "</button></form>");
		web_page_end(r);
		return;
	}
	if (!web_csrf_ok(r, "csrf")) {
		web_page_msg(r, 403, M_FORBIDDEN);
		return;
	}
	if (store_web_request_decide(r->t->st, q.id, STORE_WEB_CONFIRM, STORE_WEB_DONE, r->now,
				     "mail", "confirmed")) {
		web_page_msg(r, 404, M_CONFIRM_BAD);
		return;
	}
	snprintf(actor, sizeof(actor), "web:%s", r->client);
	web_list_ctx(r, &lc);
	if (list_do_remove(&lc, q.zone, q.key, q.reason[0] ? q.reason : "confirmed by mail", actor,
			   1, &res, err, sizeof(err))) {
		log_err("web: confirm %lld: %s", (long long)q.id, err);
		web_page_msg(r, 500, M_INTERNAL);
		return;
	}
	web_page_begin(r, web_msg(r->lang, M_TITLE));
	H_LIT(&r->out, "<p>");
	web_text(&r->out, web_msg(r->lang, M_CONFIRM_DONE));
	H_LIT(&r->out, "</p><p class=\"result\">");
	if (res.outcome == LIST_REVIEW) {
		int64_t id;

		q.state = STORE_WEB_PENDING;
		str_copy(q.why, sizeof(q.why), res.note);
		q.token[0] = 0;
		if (store_web_request_add(r->t->st, &q, &id) == 0)
			web_text_sub(&r->out, web_msg(r->lang, M_REVIEW), res.note, NULL);
	} else if (res.outcome == LIST_NOT_LISTED) {
		web_text(&r->out, web_msg(r->lang, M_NOT_LISTED_NOW));
	} else if (web_dns_wait_gone(r, &k, q.zone)) {
		web_text(&r->out, web_msg(r->lang, M_REMOVED));
		H_LIT(&r->out, " ");
		web_text(&r->out, web_msg(r->lang, M_RELIST_WARN));
	} else {
		web_text(&r->out, web_msg(r->lang, M_REMOVED_DNS_LAG));
	}
	H_LIT(&r->out, "</p>");
	web_page_end(r);
}
