/*
 * page.c - what every page of the portal shares (web/web_int.h): the
 * frame, the CSRF token of public forms, rate limits in the store,
 * times, tokens and digests.
 *
 * SECURITY: the CSRF token of public forms is a double-submit cookie
 * (HttpOnly, SameSite=Strict): a POST must carry the cookie's random
 * value in a form field, which another site can neither read nor set.
 * Compared in constant time. Rate-limit buckets are client addresses
 * (our own reading of the peer, not a header unless from a proxy).
 */
#include "web/web_int.h"
#include "web/sodium.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void web_page_begin(struct web_req *r, const char *title)
{
	struct web_buf *b = &r->out;
	enum web_lang other = r->lang == WEB_LANG_EN ? WEB_LANG_JA : WEB_LANG_EN;

	H_LIT(b, "<!DOCTYPE html>\n<html lang=\"");
	web_text(b, web_lang_names[r->lang]);
	H_LIT(b, "\"><head><meta charset=\"utf-8\">"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		 "<link rel=\"stylesheet\" href=\"/style.css\"><title>");
	web_text(b, title);
	H_LIT(b, "</title></head><body><nav><a href=\"/?lang=");
	web_text(b, web_lang_names[other]);
	H_LIT(b, "\" lang=\"");
	web_text(b, web_lang_names[other]);
	H_LIT(b, "\">");
	web_text(b, web_msg(r->lang, M_LANG_SWITCH));
	H_LIT(b, "</a></nav><h1>");
	web_text(b, title);
	H_LIT(b, "</h1>\n");
	/* remember an explicit choice */
	if (web_kv_get(&r->query, "lang") && !r->lang_set) {
		char v[64];

		snprintf(v, sizeof(v), "lang=%s; Path=/; SameSite=Lax; Max-Age=31536000",
			 web_lang_names[r->lang]);
		web_header(r, "Set-Cookie", v);
		r->lang_set = 1;
	}
}

void web_page_end(struct web_req *r)
{
	H_LIT(&r->out, "</body></html>\n");
}

void web_page_msg(struct web_req *r, unsigned status, enum web_msg m)
{
	web_buf_free(&r->out);
	r->status = status;
	r->ctype = NULL;
	web_page_begin(r, web_msg(r->lang, M_TITLE));
	H_LIT(&r->out, "<p>");
	web_text(&r->out, web_msg(r->lang, m));
	H_LIT(&r->out, "</p><p><a href=\"/\">");
	web_text(&r->out, web_msg(r->lang, M_BACK));
	H_LIT(&r->out, "</a></p>");
	web_page_end(r);
}

static int is_token(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

const char *web_csrf_token(struct web_req *r)
{
	const char *c = web_kv_get(&r->cookies, "csrf");
	char v[200];

	if (is_token(c))
		return c;
	if (!r->csrf[0]) {
		web_token(r->csrf, 32);
		snprintf(v, sizeof(v), "csrf=%s; Path=/; HttpOnly; SameSite=Strict%s", r->csrf,
			 r->srv->conf->cookie_secure ? "; Secure" : "");
		web_header(r, "Set-Cookie", v);
	}
	return r->csrf;
}

int web_csrf_ok(struct web_req *r, const char *field)
{
	const char *c = web_kv_get(&r->cookies, "csrf");
	const char *f = web_kv_get(&r->form, field);

	return is_token(c) && is_token(f) && sodium_memcmp(c, f, 64) == 0;
}

void web_csrf_field(struct web_req *r, const char *token)
{
	H_LIT(&r->out, "<input type=\"hidden\" name=\"csrf\"");
	H_ATTR(&r->out, "value", token);
	H_LIT(&r->out, ">");
}

void web_client_net(const char *client, char *out, size_t len)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, client, a) == 1) {
		snprintf(out, len, "%u.%u.%u.0/24", a[0], a[1], a[2]);
	} else if (inet_pton(AF_INET6, client, a) == 1) {
		char t[INET6_ADDRSTRLEN];

		memset(a + 6, 0, 10);
		inet_ntop(AF_INET6, a, t, sizeof(t));
		snprintf(out, len, "%s/48", t);
	} else {
		str_copy(out, len, client);
	}
}

int web_rate_over(struct web_req *r, const char *what, const char *who, unsigned max)
{
	uint32_t w = r->srv->conf->rate_window;
	int64_t win = r->now - r->now % w;
	char bucket[160];
	unsigned n = 0;

	if (!r->t->st)
		return -1;
	snprintf(bucket, sizeof(bucket), "%s:%s", what, who);
	if (store_web_rate(r->t->st, bucket, win, win - w, &n)) {
		log_err("web: rate %s: %s", bucket, store_error(r->t->st));
		return -1;
	}
	return n > max;
}

void web_time(struct web_req *r, int64_t t)
{
	char s[64];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0) {
		web_text(&r->out, web_msg(r->lang, M_NEVER));
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d %H:%M UTC", &tm);
	web_text(&r->out, s);
}

const char *web_meaning(const struct web_conf *c, uint32_t code)
{
	char a[20];
	size_t n;

	snprintf(a, sizeof(a), "%u.%u.%u.%u", code >> 24, (code >> 16) & 255, (code >> 8) & 255,
		 code & 255);
	n = strlen(a);
	for (size_t i = 0; i < c->meanings.n; i++)
		if (!strncmp(c->meanings.v[i], a, n) && c->meanings.v[i][n] == '=')
			return c->meanings.v[i] + n + 1;
	return NULL;
}

const char *web_verify_of(const struct web_conf *c, const char *zone)
{
	size_t n = strlen(zone);

	for (size_t i = 0; i < c->verify.n; i++)
		if (!strncasecmp(c->verify.v[i], zone, n) && c->verify.v[i][n] == '=')
			return c->verify.v[i] + n + 1;
	return "none";
}

int web_zone_known(const struct web_conf *c, const char *zone)
{
	for (size_t i = 0; zone && i < c->zones.n; i++)
		if (!strcasecmp(c->zones.v[i], zone))
			return 1;
	return 0;
}

void web_token(char *out, size_t nbytes)
{
	unsigned char b[64];

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	randombytes_buf(b, nbytes);
	sodium_bin2hex(out, nbytes * 2 + 1, b, nbytes);
}

void web_digest(const char *s, char *out)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(out, 65, h, sizeof(h));
}

void web_list_ctx(struct web_req *r, struct list_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->st = r->t->st;
	c->conf = r->srv->rules;
}
