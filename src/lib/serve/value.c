/*
 * value.c - A+TXT values: parsing, compiling templates, interning.
 *
 * SECURITY: parses operator data lines; all copies are bounded by the
 * sizes in value.h. Query-time expansion writes at most VALUE_TXT_MAX bytes.
 */
#include "serve/value.h"
#include "base/util.h"

#include <string.h>
#include <stdlib.h>

struct rawval {
	uint8_t a[4];
	uint32_t off;           /* text in rawpool, NUL-terminated */
};

struct vtab {
	/* raw values, in parse order; texts in rawpool */
	struct rawval *raw;
	uint32_t nraw, araw;
	char *rawpool;
	size_t rawlen, rawcap;
	/* compiled, deduplicated */
	struct value *val;
	uint32_t nval;
	uint32_t *map;          /* raw id -> final id */
	char *pool;             /* compiled templates */
	size_t poollen;
};

vtab_t *vtab_new(void)
{
	return xcalloc(1, sizeof(vtab_t));
}

void vtab_free(vtab_t *t)
{
	if (!t)
		return;
	free(t->raw);
	free(t->rawpool);
	free(t->val);
	free(t->map);
	free(t->pool);
	free(t);
}

uint32_t vtab_add_raw(vtab_t *t, const struct value_raw *v)
{
	size_t n = strlen(v->txt);

	/* Consecutive entries usually share one value: reuse the last. */
	if (t->nraw && memcmp(t->raw[t->nraw - 1].a, v->a, 4) == 0 &&
	    strcmp(t->rawpool + t->raw[t->nraw - 1].off, v->txt) == 0)
		return t->nraw - 1;
	if (t->nraw == UINT32_MAX - 1 || t->rawlen + n + 1 > UINT32_MAX)
		panic("too many distinct values in one dataset");
	if (t->nraw == t->araw) {
		t->araw = t->araw ? t->araw * 2 : 16;
		t->raw = xreallocarray(t->raw, t->araw, sizeof(*t->raw));
	}
	while (t->rawlen + n + 1 > t->rawcap) {
		t->rawcap = t->rawcap ? t->rawcap * 2 : 1024;
		t->rawpool = xrealloc(t->rawpool, t->rawcap);
	}
	memcpy(t->raw[t->nraw].a, v->a, 4);
	t->raw[t->nraw].off = (uint32_t)t->rawlen;
	memcpy(t->rawpool + t->rawlen, v->txt, n + 1);
	t->rawlen += n + 1;
	return t->nraw++;
}

void value_default(struct value_raw *out)
{
	out->a[0] = 127;
	out->a[1] = 0;
	out->a[2] = 0;
	out->a[3] = 2;
	out->txt[0] = '\0';
}

/* Parse an IPv4 A value the way rbldnsd does (inet_aton style): "a.b.c.d";
 * "a.b.c" is a.b.0.c; "a.b" is a.0.0.b; a lone number n is 127.0.0.n.
 * A value that is zero before that completion is refused, as rbldnsd
 * refuses it. Returns pointer past it or NULL. */
static const char *parse_a(const char *s, uint8_t a[4])
{
	unsigned oct[4], n = 0;

	while (n < 4) {
		unsigned v = 0, digits = 0;

		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (v > 255)
				return NULL;
			digits++;
		}
		if (!digits)
			return NULL;
		oct[n++] = v;
		if (*s != '.' || n == 4 || s[1] < '0' || s[1] > '9')
			break;
		s++;
	}
	a[0] = (uint8_t)oct[0];
	a[1] = a[2] = 0;
	a[3] = (uint8_t)oct[n - 1];
	if (n == 3)
		a[1] = (uint8_t)oct[1];
	if (n == 4) {
		a[1] = (uint8_t)oct[1];
		a[2] = (uint8_t)oct[2];
	}
	if (!a[0] && !a[1] && !a[2] && !a[3])
		return NULL;
	if (n == 1) {
		a[0] = 127;             /* ":5" is 127.0.0.5 */
		a[3] = (uint8_t)oct[0];
	}
	return s;
}

static void copy_txt(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n > VALUE_RAW_MAX)
		n = VALUE_RAW_MAX;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int value_parse(const char *s, const struct value_raw *def,
		struct value_raw *out, const char **err)
{
	memcpy(out->a, def->a, 4);
	if (!*s) {
		/* fix: an empty value is the default, as value.h says (this
		 * gave the default A with no TXT) */
		copy_txt(out->txt, def->txt);
		return 0;
	}
	if (*s != ':') {
		copy_txt(out->txt, s);
		return 0;
	}
	s = parse_a(s + 1, out->a);
	if (!s) {
		*err = "invalid A RR";
		return -1;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == ':') {
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		copy_txt(out->txt, s);
		return 0;
	}
	if (*s) {
		*err = "unrecognized value for an entry";
		return -1;
	}
	copy_txt(out->txt, def->txt);   /* ":A" alone keeps the default TXT */
	return 0;
}

void value_vars_set(struct value_vars *vars, int n, const char *text)
{
	free(vars->var[n]);
	vars->var[n] = xstrdup(text);
}

void value_vars_copy(struct value_vars *dst, const struct value_vars *src)
{
	for (int i = 0; i < 11; i++)
		dst->var[i] = src->var[i] ? xstrdup(src->var[i]) : NULL;
}

void value_vars_clear(struct value_vars *vars)
{
	for (int i = 0; i < 11; i++) {
		free(vars->var[i]);
		vars->var[i] = NULL;
	}
}

/* Growable output for compiling one template. */
struct cbuf {
	char b[4096];
	size_t n;
};

static void cput(struct cbuf *c, const char *s, size_t n, int escape)
{
	for (size_t i = 0; i < n && c->n < sizeof(c->b) - 2; i++) {
		if (escape && s[i] == '$')
			c->b[c->n++] = '$';
		c->b[c->n++] = s[i];
	}
}

/* Compile txt as rbldnsd's substitution does at query time, except that
 * the entry text ("$") is left as "$" and literal dollars become "$$".
 * Truncation to 254 bytes happens at expansion. */
static void compile(struct cbuf *c, const char *txt, const struct value_vars *vars)
{
	const char *base = vars->var[VALUE_VAR_BASE];
	const char *sx;         /* what "$=" stands for; NULL = the entry */

	if (txt[0] == '=') {
		sx = ++txt;
	} else if (base && *base) {
		sx = *txt ? txt : NULL;
		txt = base;
	} else {
		sx = txt;
	}
	while (*txt) {
		const char *d = strchr(txt, '$');

		if (!d) {
			cput(c, txt, strlen(txt), 1);
			break;
		}
		cput(c, txt, (size_t)(d - txt), 1);
		d++;
		if (*d == '$') {
			cput(c, "$", 1, 1);
			d++;
		} else if (*d >= '0' && *d <= '9') {
			const char *v = vars->var[*d - '0'];

			if (v)
				cput(c, v, strlen(v), 1);
			else
				cput(c, d - 1, 2, 1);
			d++;
		} else if (*d == '=') {
			if (sx)
				cput(c, sx, strlen(sx), 1);
			else
				cput(c, "$!", 2, 0);
			d++;
		} else {
			cput(c, "$!", 2, 0);    /* the entry; next char stays */
		}
		txt = d;
	}
}

static uint32_t hash_value(const uint8_t a[4], const char *t, size_t n)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 4; i++)
		h = (h ^ a[i]) * 16777619u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)t[i]) * 16777619u;
	return h;
}

void vtab_finish(vtab_t *t, const struct value_vars *vars)
{
	uint32_t hsize = 16, *htab;
	size_t poolcap = 256;

	while (hsize < t->nraw * 2)
		hsize *= 2;
	htab = xmalloc(hsize * sizeof(*htab));
	memset(htab, 0xff, hsize * sizeof(*htab));
	t->map = xreallocarray(NULL, t->nraw ? t->nraw : 1, sizeof(*t->map));
	t->val = xreallocarray(NULL, t->nraw ? t->nraw : 1, sizeof(*t->val));
	t->pool = xmalloc(poolcap);
	for (uint32_t i = 0; i < t->nraw; i++) {
		struct cbuf c = { .n = 0 };
		uint32_t h, id;

		compile(&c, t->rawpool + t->raw[i].off, vars);
		h = hash_value(t->raw[i].a, c.b, c.n) & (hsize - 1);
		for (; (id = htab[h]) != UINT32_MAX; h = (h + 1) & (hsize - 1)) {
			const struct value *v = &t->val[id];

			if (!memcmp(v->a, t->raw[i].a, 4) && v->txtlen == c.n &&
			    !memcmp(t->pool + (size_t)v->txt, c.b, c.n))
				break;
		}
		if (id == UINT32_MAX) {
			id = t->nval++;
			htab[h] = id;
			memcpy(t->val[id].a, t->raw[i].a, 4);
			t->val[id].txtlen = (uint16_t)c.n;
			while (t->poollen + c.n + 1 > poolcap)
				poolcap *= 2;
			t->pool = xrealloc(t->pool, poolcap);
			memcpy(t->pool + t->poollen, c.b, c.n);
			t->pool[t->poollen + c.n] = '\0';
			/* offset now, pointer once the pool stops moving */
			t->val[id].txt = (const char *)(uintptr_t)t->poollen;
			t->poollen += c.n + 1;
		}
		t->map[i] = id;
	}
	for (uint32_t i = 0; i < t->nval; i++)
		t->val[i].txt = t->pool + (uintptr_t)t->val[i].txt;
	free(htab);
	free(t->raw);
	free(t->rawpool);
	t->raw = NULL;
	t->rawpool = NULL;
	t->araw = 0;
}

uint32_t vtab_map(const vtab_t *t, uint32_t raw_id)
{
	return t->map[raw_id];
}

const struct value *vtab_get(const vtab_t *t, uint32_t id)
{
	return &t->val[id];
}

uint32_t vtab_count(const vtab_t *t)
{
	return t->nval;
}

size_t vtab_bytes(const vtab_t *t)
{
	return t->nval * sizeof(struct value) + t->poollen +
	       t->nraw * sizeof(uint32_t);
}

size_t value_expand(const struct value *v, const char *subst, size_t substlen,
		    uint8_t *out)
{
	size_t n = 0;
	const char *p = v->txt, *end = v->txt + v->txtlen;

	while (p < end && n < VALUE_TXT_MAX) {
		if (*p != '$') {
			out[n++] = (uint8_t)*p++;
			continue;
		}
		p++;
		if (p < end && *p == '$') {
			out[n++] = '$';
			p++;
			continue;
		}
		p++;    /* "$!": the entry */
		size_t k = substlen;
		if (k > VALUE_TXT_MAX - n)
			k = VALUE_TXT_MAX - n;
		memcpy(out + n, subst, k);
		n += k;
	}
	return n;
}
