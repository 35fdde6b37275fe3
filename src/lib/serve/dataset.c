/*
 * dataset.c - loading datasets: files, lines, and the $-specials every
 * dataset type shares.
 *
 * SECURITY: reads operator data files (plain or gzip) that may be
 * malformed: lines are bounded (longer ones are skipped as errors),
 * numbers are range-checked, names length-checked. Errors and warnings
 * name the file and line. Runs at start-up and in the reload thread.
 */
#include "serve/dataset.h"
#include "serve/ds_store.h"
#include "base/dname.h"
#include "base/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

#define DS_LINE_MAX 8192

static const struct ds_type *const ds_types[] = {
	&ds_ip4set, &ds_ip4tset, &ds_ip4trie, &ds_ip6trie, &ds_ip6tset,
	&ds_dnset, &ds_generic, &ds_combined, &ds_acl, &ds_store,
};

const struct ds_type *ds_type_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ds_types); i++)
		if (!strcmp(ds_types[i]->name, name))
			return ds_types[i];
	return NULL;
}

void ds_warn(struct ds_ctx *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->errs->total++;
	if (++c->errs->file <= DS_ERRS_SHOWN)
		log_warn("%s:%u: %s", c->file, c->line, buf);
}

uint32_t ds_default_id(struct ds_ctx *c)
{
	if (!c->def_cached) {
		c->def_id = vtab_add_raw(c->vt, &c->def);
		c->def_cached = 1;
	}
	return c->def_id;
}

uint32_t ds_ttl_clamp(const struct ds_opts *o, uint32_t ttl, uint32_t def)
{
	if (ttl == 0)
		return def;
	if (o->min_ttl && ttl < o->min_ttl)
		return o->min_ttl;
	if (o->max_ttl && ttl > o->max_ttl)
		return o->max_ttl;
	return ttl;
}

/* Next blank-separated word of s; returns its start, and s is advanced
 * past it and following blanks; the word is NUL-terminated. */
static char *next_word(char **s)
{
	char *w = *s, *p = w;

	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p) {
		*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
	}
	*s = p;
	return w;
}

/* If line starts with keyword kw (case-insensitive) followed by a blank
 * or end, return the rest after blanks; else NULL. */
static char *keyword(char *line, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(line, kw, n) || (line[n] && line[n] != ' ' && line[n] != '\t'))
		return NULL;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

static int parse_ttl_word(char **s, uint32_t *ttl, uint32_t def,
			  const struct ds_opts *o)
{
	char *w = next_word(s);
	const char *end = parse_time(w, ttl);

	if (!end || *end)
		return -1;
	*ttl = ds_ttl_clamp(o, *ttl, def);
	return 0;
}

static int parse_name_word(char **s, uint8_t out[256])
{
	char *w = next_word(s);

	return *w && dname_from_text(w, out) > 0 ? 0 : -1;
}

static int special_soa(struct dataset *ds, char *w, struct ds_ctx *c,
		       const struct ds_opts *o)
{
	struct ds_soa soa = { .set = 1 };
	uint32_t *n[4] = { &soa.refresh, &soa.retry, &soa.expire, &soa.minttl };
	char *word, *end;

	if (parse_ttl_word(&w, &soa.ttl, ds->ttl, o) ||
	    parse_name_word(&w, soa.mname) || parse_name_word(&w, soa.rname))
		return 0;
	word = next_word(&w);
	errno = 0;
	unsigned long serial = strtoul(word, &end, 10);
	if (!*word || *end || errno || serial > UINT32_MAX)
		return 0;
	soa.serial = (uint32_t)serial;
	for (int i = 0; i < 4; i++) {
		const char *e;

		word = next_word(&w);
		e = parse_time(word, n[i]);
		if (!e || *e)
			return 0;
	}
	if (*w)
		return 0;
	/* only the first $SOA counts (as rbldnsd); another that says
	 * something else is an error, not silence */
	if (ds->soa.set && memcmp(&ds->soa, &soa, sizeof(soa)))
		ds_warn(c, "a second $SOA that differs from the first is ignored");
	if (!ds->soa.set)
		ds->soa = soa;
	return 1;
}

static int special_ns(struct dataset *ds, char *w, const struct ds_opts *o)
{
	struct ds_ns ns = { 0 };

	if (ds->ns.count)
		return 1;               /* only the first $NS counts */
	if (parse_ttl_word(&w, &ns.ttl, ds->ttl, o))
		return 0;
	while (*w) {
		if (*w == '-') {        /* "-name": commented out */
			next_word(&w);
			continue;
		}
		if (ns.count == DS_MAX_NS) {
			next_word(&w);
			continue;
		}
		if (parse_name_word(&w, ns.name[ns.count]))
			return 0;
		ns.count++;
	}
	if (!ns.count)
		return 0;
	ds->ns = ns;
	return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

/* yyyy[:-]mm[:-]dd[[:-]hh[[:-]mi[[:-]ss]]], or "0"/"-" for none. */
static int parse_stamp(const char *w, time_t *out)
{
	unsigned f[6] = { 0, 1, 1, 0, 0, 0 }, width[6] = { 4, 2, 2, 2, 2, 2 };
	static const unsigned lo[6] = { 1970, 1, 1, 0, 0, 0 };
	static const unsigned hi[6] = { 2199, 12, 31, 23, 59, 59 };
	int i;

	if ((w[0] == '0' || w[0] == '-') && !w[1]) {
		*out = 0;
		return 0;
	}
	for (i = 0; i < 6 && *w; i++) {
		unsigned v = 0;

		if (i && (*w == ':' || *w == '-'))
			w++;
		for (unsigned k = 0; k < width[i]; k++, w++) {
			if (*w < '0' || *w > '9')
				return -1;
			v = v * 10 + (unsigned)(*w - '0');
		}
		if (v < lo[i] || v > hi[i])
			return -1;
		f[i] = v;
	}
	if (i < 3 || *w)
		return -1;
	*out = (time_t)(days_from_civil(f[0], f[1], f[2]) * 86400L +
			f[3] * 3600L + f[4] * 60L + f[5]);
	return 0;
}

static int special_timestamp(struct dataset *ds, char *w, struct ds_ctx *c)
{
	char *sw = next_word(&w), *ew;
	time_t stamp, expires = 0;

	if (parse_stamp(sw, &stamp))
		return 0;
	if (*w) {
		ew = next_word(&w);
		if (*w)
			return 0;
		if (*ew == '+') {
			uint32_t rel;
			const char *e = parse_time(ew + 1, &rel);

			if (!e || *e || !stamp || !rel)
				return 0;
			expires = stamp + rel;
		} else if (parse_stamp(ew, &expires)) {
			return 0;
		}
	}
	if (stamp && stamp > time(NULL)) {
		log_err("%s:%u: data timestamp is %ld s in the future, not loading",
			c->file, c->line, (long)(stamp - time(NULL)));
		return -1;
	}
	if (expires && (!ds->expires || ds->expires > expires))
		ds->expires = expires;
	return 1;
}

static int special_maxrange(char *w, struct ds_ctx *c)
{
	int cidr = *w == '/';
	char *end;
	unsigned long r;

	w += cidr;
	errno = 0;
	r = strtoul(w, &end, 10);
	if (!*w || *end || errno || !r || r > UINT32_MAX || (cidr && r > 32))
		return 0;
	if (cidr)
		r = r == 32 ? 1 : (uint32_t)1 << (32 - r);  /* /0 not allowed */
	if (c->maxrange4 && c->maxrange4 < r)
		ds_warn(c, "ignoring attempt to increase $MAXRANGE4 from %u to %lu",
			c->maxrange4, r);
	else
		c->maxrange4 = (uint32_t)r;
	return 1;
}

/* A $-line (without the "$"). Returns 1 handled, 0 unknown/invalid, -1
 * abort. Combined datasets handle $DATASET in their line(). */
static int special(struct dataset *ds, char *line, struct ds_ctx *c,
		   const struct ds_opts *o)
{
	char *w;

	if ((w = keyword(line, "soa")))
		return (ds->type->flags & DS_F_ACL) ? 0 : special_soa(ds, w, c, o);
	if ((w = keyword(line, "ns")) || (w = keyword(line, "nameserver")))
		return (ds->type->flags & DS_F_ACL) ? 0 : special_ns(ds, w, o);
	if ((w = keyword(line, "ttl"))) {
		uint32_t ttl;

		if (parse_ttl_word(&w, &ttl, o->def_ttl, o) || *w)
			return 0;
		c->ttl = ttl;
		return 1;
	}
	if ((w = keyword(line, "maxrange4")))
		return special_maxrange(w, c);
	if ((w = keyword(line, "timestamp")))
		return special_timestamp(ds, w, c);
	if (((line[0] >= '0' && line[0] <= '9') || line[0] == '=') &&
	    (line[1] == ' ' || line[1] == '\t')) {
		int n = line[0] == '=' ? VALUE_VAR_BASE : line[0] - '0';

		w = line + 2;
		while (*w == ' ' || *w == '\t')
			w++;
		if (!*w)
			return 0;
		if (!c->vars.var[n])    /* the first assignment wins */
			value_vars_set(&c->vars, n, w);
		return 1;
	}
	return 0;
}

/* Blanks as rbldnsd has them: a CR of a CRLF file is kept (and then
 * makes most lines invalid), so that answers stay rbldnsd's; we warn. */
static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Process one line (already stripped). Inside a combined dataset the
 * nested dataset's type and context take the line. */
static int do_line(struct dataset *ds, void *b, char *line, struct ds_ctx *c,
		   const struct ds_opts *o)
{
	const struct ds_type *t = c->sub ? c->subtype : ds->type;
	struct ds_ctx *cc = c->sub ? c->sub : c;
	void *top = b;

	if (c->sub) {
		cc->file = c->file;
		cc->line = c->line;
		b = c->subb;
	}
	if (line[0] == '$' ||
	    ((line[0] == '#' || line[0] == ';' || line[0] == ':') && line[1] == '$')) {
		char *body = line + (line[0] == '$' ? 1 : 2);
		int r;

		if ((ds->type->flags & DS_F_COMBINED) && keyword(body, "dataset"))
			return ds->type->line(top, body, c);
		ds->ttl = c->ttl;       /* $SOA/$NS TTL 0 means the current one */
		r = special(ds, body, cc, o);
		if (r == 0)
			ds_warn(cc, "invalid or unrecognized special entry");
		return r < 0 ? -1 : 0;
	}
	if (!line[0] || line[0] == '#' || line[0] == ';')
		return 0;
	/* "::1" is an IPv6 entry, not a default line (as rbldnsd) */
	if (line[0] == ':' && line[1] != ':' &&
	    !(t->flags & (DS_F_ACL | DS_F_COMBINED | DS_F_OWN_DEFAULT)) &&
	    t != &ds_generic) {
		struct value_raw def, v;
		const char *err;

		value_default(&def);
		if (value_parse(line, &def, &v, &err)) {
			ds_warn(cc, "%s", err);
		} else {
			cc->def = v;
			cc->def_cached = 0;
		}
		return 0;
	}
	return t->line(b, line, cc);
}

static int load_file(struct dataset *ds, void *b, const char *file,
		     struct ds_ctx *c, const struct ds_opts *o)
{
	char *buf = xmalloc(DS_LINE_MAX);
	gzFile gz;
	int rc = 0, skipping = 0, warned_cr = 0;

	gz = gzopen(file, "rb");
	if (!gz) {
		log_err("%s: cannot open: %s", file, strerror(errno ? errno : ENOMEM));
		free(buf);
		return -1;
	}
	gzbuffer(gz, 128 * 1024);
	if (o->no_gzip)
		gzdirect(gz);
	c->file = file;
	c->line = 0;
	c->errs->file = 0;
	value_default(&c->def);         /* defaults last to the end of a file */
	c->def_cached = 0;
	if (c->sub) {
		value_default(&c->sub->def);
		c->sub->def_cached = 0;
	}
	while (gzgets(gz, buf, DS_LINE_MAX)) {
		size_t n = strlen(buf);
		int complete = n && buf[n - 1] == '\n';
		char *s = buf;

		if (skipping) {         /* rest of an over-long line */
			skipping = !complete;
			continue;
		}
		c->line++;
		if (!complete && !gzeof(gz)) {
			/* an error for this line: its cut prefix is not data */
			c->errs->total++;
			if (++c->errs->file <= DS_ERRS_SHOWN)
				log_err("%s:%u: line longer than %d bytes: skipped",
					c->file, c->line, DS_LINE_MAX - 2);
			skipping = 1;
			continue;
		}
		if (n && buf[n - 1] == '\n')
			buf[--n] = '\0';
		if (n && buf[n - 1] == '\r' && !warned_cr) {
			ds_warn(c, "line ends with CR (a CRLF file?): the CR is part of "
				"the data, as in rbldnsd; convert with dos2unix");
			warned_cr = 1;
		}
		while (n && is_blank(buf[n - 1]))
			buf[--n] = '\0';
		while (is_blank(*s))
			s++;
		if (do_line(ds, b, s, c, o) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0) {
		int err;
		const char *msg = gzerror(gz, &err);

		if (err != Z_OK && err != Z_STREAM_END) {
			size_t fl = strlen(file);

			/* zlib's message starts with the path: drop it */
			if (!strncmp(msg, file, fl) && !strncmp(msg + fl, ": ", 2))
				msg += fl + 2;
			log_err("%s:%u: read error: %s", file, c->line,
				err == Z_ERRNO ? strerror(errno) : msg);
			rc = -1;
		}
	}
	if (c->errs->file > DS_ERRS_SHOWN)
		log_warn("%s: %u more errors not shown (%u in this file)", file,
			 c->errs->file - DS_ERRS_SHOWN, c->errs->file);
	gzclose(gz);
	free(buf);
	return rc;
}

static uint64_t fnv1a(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8) {
		h ^= v & 0xff;
		h *= 0x100000001b3ull;
	}
	return h;
}

void ds_files_stat(const char *files, time_t *newest, uint64_t *fp)
{
	char *list = xstrdup(files), *p = list, *f;
	uint64_t h = 0xcbf29ce484222325ull;
	int missing = 0;

	*newest = 0;
	while ((f = strsep(&p, ",")) != NULL) {
		struct stat st;

		if (stat(f, &st) != 0) {
			missing = 1;
			break;
		}
		if (st.st_mtime > *newest)
			*newest = st.st_mtime;
		h = fnv1a(h, (uint64_t)st.st_dev);
		h = fnv1a(h, (uint64_t)st.st_ino);
		h = fnv1a(h, (uint64_t)st.st_size);
		h = fnv1a(h, (uint64_t)st.st_mtim.tv_sec);
		h = fnv1a(h, (uint64_t)st.st_mtim.tv_nsec);
		h = fnv1a(h, (uint64_t)st.st_ctim.tv_sec);
		h = fnv1a(h, (uint64_t)st.st_ctim.tv_nsec);
	}
	if (missing)
		*newest = 0;
	*fp = missing ? 0 : h ? h : 1;
	free(list);
}

int ds_load(const struct ds_type *t, const char *files, const struct ds_opts *o,
	    struct dataset **out)
{
	struct dataset *ds = xcalloc(1, sizeof(*ds));
	struct ds_errs errs = { 0 };
	struct ds_ctx c = { .ttl = o->def_ttl, .accept_in_cidr = o->accept_in_cidr,
			     .opts = o, .errs = &errs };
	char *list = xstrdup(files), *p = list, *f;
	void *b;
	int rc = -1;

	ds->type = t;
	ds->ttl = o->def_ttl;
	c.vt = ds->vt = vtab_new();
	value_default(&c.def);
	/* before reading: a change while we read is seen next time */
	ds_files_stat(files, &ds->stamp, &ds->fp);
	b = t->begin(&c);
	while ((f = strsep(&p, ",")) != NULL) {
		if (!*f)
			continue;
		if (load_file(ds, b, f, &c, o) < 0) {
			c.file = f;
			goto fail;
		}
	}
	ds->ttl = c.ttl;
	ds->errors = errs.total;
	if (!ds->soa.ttl && ds->soa.set)
		ds->soa.ttl = ds->ttl;
	vtab_finish(ds->vt, &c.vars);
	ds->data = t->end(b, &c);
	b = NULL;
	if (!ds->data) {
		log_err("%s: failed to build %s dataset", files, t->name);
		goto fail;
	}
	*out = ds;
	rc = 0;
	goto out;
fail:
	if (b)
		t->end(b, NULL);        /* end(NULL ctx) frees the builder */
	ds_free(ds);
out:
	value_vars_clear(&c.vars);
	free(list);
	return rc;
}

void ds_free(struct dataset *ds)
{
	if (!ds)
		return;
	if (ds->data)
		ds->type->free(ds->data);
	vtab_free(ds->vt);
	free(ds);
}

/* ---- query names as addresses ---- */

static int digit_label(const uint8_t *l, unsigned *v)
{
	unsigned n = 0;

	if (!l[0] || l[0] > 3)
		return 0;
	for (unsigned i = 1; i <= l[0]; i++) {
		if (l[i] < '0' || l[i] > '9')
			return 0;
		n = n * 10 + (l[i] - '0');
	}
	*v = n;
	return n <= 255;
}

/* 1 + hex digit value of the (lowercased) nibble labels, 0 for others. */
static const uint8_t hexval1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};
#define hexval(c) ((int)hexval1[(c)] - 1)

void ds_qinfo_addr(struct qinfo *qi, unsigned flags)
{
	const uint8_t *p = qi->rel;
	unsigned v, n = qi->rel_labels, k;

	qi->ip4_ok = qi->ip6_ok = 0;
	qi->ip4_pfx_bits = qi->ip6_pfx_bits = 0;
	if (!(flags & (DS_F_IP4 | DS_F_IP6 | DS_F_ACL)) || !n)
		return;
	if (n <= 4) {
		uint32_t a = 0;

		for (k = 0; k < n && digit_label(p, &v); k++, p += *p + 1)
			a |= v << (8 * k);
		if (k == n) {
			/* "4.3.2.1": the first label is the last octet */
			if (n == 4) {
				qi->ip4 = a;
				qi->ip4_ok = 1;
			} else {
				qi->ip4 = a << (8 * (4 - n));
				qi->ip4_pfx_bits = (int)(8 * n);
			}
		}
		/* "2", "0.0.0.0": also 1..4 nibbles of an IPv6 prefix (an
		 * empty non-terminal of 2000::/3), read from the start */
		p = qi->rel;
	}
	if (n == 32 && qi->rel_len == 64) {
		uint8_t a[16];

		/* 32 one-character labels, least significant nibble first */
		for (k = 0; k < 32; k++) {
			int h = hexval(p[2 * k + 1]);

			if (p[2 * k] != 1 || h < 0)
				return;
			if (k & 1)
				a[15 - k / 2] |= (uint8_t)(h << 4);
			else
				a[15 - k / 2] = (uint8_t)h;
		}
		memcpy(qi->ip6, a, 16);
		qi->ip6_ok = 1;
		if (!(flags & DS_F_IP4))
			return;
		if (a[0] == 0x20 && a[1] == 0x02) {             /* 6to4 */
			qi->ip4 = (uint32_t)a[2] << 24 | a[3] << 16 | a[4] << 8 | a[5];
			qi->ip4_ok = 1;
		} else if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
			qi->ip4 = (uint32_t)a[12] << 24 | a[13] << 16 | a[14] << 8 | a[15];
			qi->ip4_ok = 1;
			qi->ip6_ok = 0;
		}
		return;
	}
	if (n < 32) {           /* a prefix of nibbles: for empty non-terminals */
		uint8_t a[16] = { 0 };

		for (k = 0; k < n; k++, p += 2) {
			unsigned nib = n - 1 - k;       /* nibble index from the top */
			int h = hexval(p[1]);

			if (p[0] != 1 || h < 0)
				return;
			a[nib / 2] |= (uint8_t)(nib & 1 ? h : h << 4);
		}
		memcpy(qi->ip6, a, 16);
		qi->ip6_pfx_bits = (int)(4 * n);
	}
}
