/*
 * export.c - a zone of the store as an rbldnsd data file (export.h).
 * The snapshot is read in one store transaction; entries go to one
 * in-memory section per kind, then the file is written and renamed.
 *
 * SECURITY: reasons come from the store (originally from operators and
 * trap mail): control bytes are written as blanks, so that no entry
 * spans lines or starts a $-line. The file is created 0644 beside the
 * target and renamed over it only once it is complete and synced.
 */
#include "list/export.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const type_names[] = {
	[EXPORT_AUTO] = "auto", [EXPORT_IP4TRIE] = "ip4trie", [EXPORT_IP6TRIE] = "ip6trie",
	[EXPORT_DNSET] = "dnset", [EXPORT_COMBINED] = "combined",
};

int export_type_parse(const char *name, enum export_type *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (!strcmp(name, type_names[i])) {
			*t = (enum export_type)i;
			return 0;
		}
	return -1;
}

const char *export_type_name(enum export_type t)
{
	return (unsigned)t < ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

/* One section per kind: 0 IPv4, 1 IPv6, 2 names. */
struct sect {
	char *buf;
	size_t len;
	FILE *f;
};

struct exp {
	const struct store_zone *z;
	struct sect s[3];
	struct export_stats *es;
};

static void put_value(FILE *f, uint32_t code, const char *reason)
{
	fprintf(f, ":%u.%u.%u.%u", code >> 24, (code >> 16) & 255, (code >> 8) & 255, code & 255);
	if (!*reason)
		return;
	fputc(':', f);
	for (const char *p = reason; *p; p++)
		fputc((unsigned char)*p < 32 || *p == 127 ? ' ' : *p, f);
}

static int one_entry(void *arg, const struct store_entry *e)
{
	struct exp *x = arg;
	int k = e->key.kind == STORE_IP4 ? 0 : e->key.kind == STORE_IP6 ? 1 : 2;
	FILE *f = x->s[k].f;

	if (e->excluded) {
		fprintf(f, "!%s\n", e->key.text);
		x->es->excluded++;
		return 0;
	}
	fputs(e->key.text, f);
	/* the zone's own value is the section's default line */
	if (e->code != x->z->code || (e->reason && *e->reason)) {
		fputc(' ', f);
		put_value(f, e->code, e->reason ? e->reason : "");
	}
	fputc('\n', f);
	if (k == 0)
		x->es->ip4++;
	else if (k == 1)
		x->es->ip6++;
	else
		x->es->names++;
	return 0;
}

static void header(FILE *f, const struct store_zone *z, uint32_t serial)
{
	fprintf(f, "# %s: exported by rblkit list export, serial %u\n", z->name, serial);
	fprintf(f, "$SOA %u %s %s %u %u %u %u %u\n", z->ttl, z->mname, z->rname, serial,
		z->refresh, z->retry, z->expire, z->minimum);
	if (z->nns) {
		fprintf(f, "$NS %u", z->ttl);
		for (unsigned i = 0; i < z->nns; i++)
			fprintf(f, " %s", z->ns[i]);
		fputc('\n', f);
	}
	fprintf(f, "$TTL %u\n", z->ttl);
}

static enum export_type choose(const struct exp *x, enum export_type want)
{
	int n = 0, last = 0;

	if (want != EXPORT_AUTO)
		return want;
	for (int k = 0; k < 3; k++)
		if (x->s[k].len) {
			n++;
			last = k;
		}
	if (n > 1)
		return EXPORT_COMBINED;
	return last == 1 ? EXPORT_IP6TRIE : last == 2 ? EXPORT_DNSET : EXPORT_IP4TRIE;
}

static void section(FILE *f, const struct exp *x, int k, int combined)
{
	static const char *const names[] = { "ip4trie", "ip6trie", "dnset" };

	if (combined)
		fprintf(f, "$DATASET %s @\n", names[k]);
	put_value(f, x->z->code, x->z->txt);
	fputc('\n', f);
	fwrite(x->s[k].buf, 1, x->s[k].len, f);
}

static int write_file(const char *path, const struct exp *x, enum export_type t,
		      uint32_t serial, char *err, size_t el)
{
	char tmp[4096];
	FILE *f;
	int fd, rc = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, el, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, el, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	header(f, x->z, serial);
	if (t == EXPORT_COMBINED) {
		for (int k = 0; k < 3; k++)
			if (x->s[k].len)
				section(f, x, k, 1);
	} else {
		section(f, x, t == EXPORT_IP4TRIE ? 0 : t == EXPORT_IP6TRIE ? 1 : 2, 0);
	}
	if (fflush(f) || ferror(f) || fsync(fileno(f))) {
		snprintf(err, el, "%s: %s", tmp, strerror(errno));
		fclose(f);
		goto out;
	}
	if (fclose(f)) {
		snprintf(err, el, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path)) {
		snprintf(err, el, "rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc)
		unlink(tmp);
	return rc;
}

int list_export(struct store *st, const char *zone, const char *path, enum export_type type,
		struct export_stats *es, char *err, size_t el)
{
	struct store_zone z;
	struct exp x = { .z = &z, .es = es };
	uint32_t serial = 0;
	int rc = -1, r;

	memset(es, 0, sizeof(*es));
	r = store_zone_get(st, zone, &z);
	if (r) {
		snprintf(err, el, r == STORE_NOTFOUND ? "no zone %s in the store" : "%s",
			 r == STORE_NOTFOUND ? zone : store_error(st));
		return -1;
	}
	for (int k = 0; k < 3; k++)
		if (!(x.s[k].f = open_memstream(&x.s[k].buf, &x.s[k].len)))
			panic("open_memstream: out of memory");
	r = store_snapshot(st, zone, &serial, one_entry, &x);
	for (int k = 0; k < 3; k++)
		fclose(x.s[k].f);
	if (r) {
		snprintf(err, el, "%s", store_error(st));
		goto out;
	}
	es->serial = serial;
	es->type = choose(&x, type);
	if (es->type == EXPORT_IP4TRIE)
		es->left_out = es->ip6 + es->names;
	else if (es->type == EXPORT_IP6TRIE)
		es->left_out = es->ip4 + es->names;
	else if (es->type == EXPORT_DNSET)
		es->left_out = es->ip4 + es->ip6;
	rc = write_file(path, &x, es->type, serial, err, el);
out:
	for (int k = 0; k < 3; k++)
		free(x.s[k].buf);
	return rc;
}
