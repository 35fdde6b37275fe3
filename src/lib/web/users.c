/*
 * users.c - console users and API keys from the command line and the
 * console (web/web.h): roles, scopes, argon2id password hashes
 * (libsodium crypto_pwhash_str, interactive limits), API keys
 * "rk_ID_SECRET" of which only the SHA-256 digest is kept.
 *
 * SECURITY: passwords come from the operator's stdin or the console's
 * form; they are never stored or logged, only hashed.
 */
#include "web/web_int.h"
#include "web/sodium.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int web_role_parse(const char *s)
{
	if (!s)
		return 0;
	if (!strcmp(s, "viewer"))
		return WEB_VIEWER;
	if (!strcmp(s, "operator"))
		return WEB_OPERATOR;
	if (!strcmp(s, "admin"))
		return WEB_ADMIN;
	return 0;
}

const char *web_role_name(int role)
{
	switch (role) {
	case WEB_VIEWER: return "viewer";
	case WEB_OPERATOR: return "operator";
	case WEB_ADMIN: return "admin";
	default: return "none";
	}
}

long web_scopes_parse(const char *s)
{
	static const struct { const char *w; unsigned bit; } words[] = {
		{ "lookup", WEB_SCOPE_LOOKUP }, { "report", WEB_SCOPE_REPORT },
		{ "remove", WEB_SCOPE_REMOVE }, { "search", WEB_SCOPE_SEARCH },
	};
	long bits = 0;

	while (s && *s) {
		size_t n = strcspn(s, ", "), i;

		for (i = 0; n && i < ARRAY_SIZE(words); i++)
			if (strlen(words[i].w) == n && !strncmp(s, words[i].w, n))
				break;
		if (n && i == ARRAY_SIZE(words))
			return -1;
		if (n)
			bits |= words[i].bit;
		s += n;
		while (*s == ',' || *s == ' ')
			s++;
	}
	return bits;
}

static int user_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("._-@", s[i])))
			return 0;
	return 1;
}

int web_add_user(const struct web_conf *c, const char *name, int role, const char *password,
		 char *err, size_t el)
{
	struct store_web_user u = { .role = role, .created = time(NULL) };
	struct store *st = NULL;
	int rc = -1;

	if (web_sodium_load(err, el) < 0)
		return -1;
	if (!user_name_ok(name)) {
		snprintf(err, el, "user name '%.64s': letters, digits, . _ - @ only, up to 63", name);
		return -1;
	}
	if (strlen(password) < 10) {
		snprintf(err, el, "the password needs at least 10 characters");
		return -1;
	}
	str_copy(u.name, sizeof(u.name), name);
	if (crypto_pwhash_str(u.hash, password, strlen(password),
			      crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
		snprintf(err, el, "out of memory hashing the password");
		return -1;
	}
	if (store_open(c->store, 0, &st, err, el))
		return -1;
	if (store_web_user_put(st, &u) ||
	    store_web_audit_add(st, u.created, "cli", "user", name)) {
		snprintf(err, el, "%s", store_error(st));
		goto out;
	}
	rc = 0;
out:
	store_close(st);
	return rc;
}

/* Make a key into key and its row into k. */
void web_key_make(unsigned scopes, const char *name, char *key, size_t keylen,
		  struct store_web_key *k)
{
	char id[17], secret[65];

	memset(k, 0, sizeof(*k));
	web_token(id, 8);
	web_token(secret, 32);
	snprintf(key, keylen, "rk_%s_%s", id, secret);
	str_copy(k->id, sizeof(k->id), id);
	web_digest(key, k->hash);
	k->scopes = scopes;
	str_copy(k->name, sizeof(k->name), name);
	k->created = time(NULL);
}

int web_add_key(const struct web_conf *c, const char *name, unsigned scopes, char *key,
		size_t keylen, char *err, size_t el)
{
	struct store_web_key k;
	struct store *st = NULL;
	int rc = -1;

	if (web_sodium_load(err, el) < 0)
		return -1;
	web_key_make(scopes, name, key, keylen, &k);
	if (store_open(c->store, 0, &st, err, el))
		return -1;
	if (store_web_key_put(st, &k) || store_web_audit_add(st, k.created, "cli", "key", k.id)) {
		snprintf(err, el, "%s", store_error(st));
		goto out;
	}
	rc = 0;
out:
	store_close(st);
	return rc;
}
