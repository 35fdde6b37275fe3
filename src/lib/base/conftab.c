/*
 * conftab.c - the "key = value" configuration table; see conftab.h.
 *
 * SECURITY: operator input only; every value is checked against its key
 * before it is stored, so that a daemon never starts or reloads with a
 * value it cannot use.  Logical lines are bounded (CONFTAB_LINE_MAX),
 * lists too (CONFTAB_LIST_MAX); errors quote at most 100 bytes of input.
 */
#include "base/conftab.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX (1u << 24)

/* -- values ----------------------------------------------------------- */

static void list_clear(struct conftab_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void conftab_list_release(void *field)
{
	list_clear(field);
}

static int set_list(struct conftab_list *l, const char *v, bool append, char *err, size_t el)
{
	if (!append)
		list_clear(l);
	for (const char *p = v;;) {
		size_t n;

		p += strspn(p, ", \t");
		if (!*p)
			return 0;
		if (l->n >= CONFTAB_LIST_MAX) {
			snprintf(err, el, "more than %d items", CONFTAB_LIST_MAX);
			return -1;
		}
		n = strcspn(p, ", \t");
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = xstrndup(p, n);
		p += n;
	}
}

static int set_number(const struct conftab_key *k, void *f, const char *v, char *err, size_t el)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || *end || errno || n < k->min || n > k->max) {
		snprintf(err, el, "expected an integer %lld..%lld", k->min, k->max);
		return -1;
	}
	if (k->type == CONFTAB_UINT)
		*(unsigned *)f = (unsigned)n;
	else
		*(int *)f = (int)n;
	return 0;
}

static int set_word(const struct conftab_key *k, void *f, const char *v, char *err, size_t el)
{
	static const char *const bools[] = { "no", "yes", NULL };
	const char *const *w = k->type == CONFTAB_BOOL ? bools : k->words;
	size_t off = 0;
	int i;

	for (i = 0; w[i]; i++)
		if (!strcmp(v, w[i])) {
			if (k->type == CONFTAB_BOOL)
				*(bool *)f = i;
			else
				*(int *)f = i;
			return 0;
		}
	if (i == 2) {
		snprintf(err, el, "expected %s or %s", w[0], w[1]);
		return -1;
	}
	off = (size_t)snprintf(err, el, "expected one of");
	for (i = 0; w[i] && off < el; i++)
		off += (size_t)snprintf(err + off, el - off, "%s %s", i ? "," : "", w[i]);
	return -1;
}

/* Store v in field of key k; "what was expected" in err on failure. */
static int set_value(const struct conftab_key *k, void *conf, const char *v, bool again,
		     char *err, size_t el)
{
	void *f = (char *)conf + k->off;
	uint32_t t;
	const char *end;

	switch (k->type) {
	case CONFTAB_STR:
		if (k->parse && k->parse(conf, f, v, err, el))
			return -1;
		free(*(char **)f);
		*(char **)f = xstrdup(v);
		return 0;
	case CONFTAB_INT:
	case CONFTAB_UINT:
		return set_number(k, f, v, err, el);
	case CONFTAB_TIME:
		end = parse_time(v, &t);
		if (!end || *end || t < k->min || t > k->max) {
			snprintf(err, el, "expected a time %lld..%lld s (suffix s m h d w)",
				 k->min, k->max);
			return -1;
		}
		*(uint32_t *)f = t;
		return 0;
	case CONFTAB_BOOL:
	case CONFTAB_ENUM:
		return set_word(k, f, v, err, el);
	case CONFTAB_LIST:
		return set_list(f, v, again && (k->flags & CONFTAB_REPEAT), err, el);
	case CONFTAB_FUNC:
		return k->parse(conf, f, v, err, el);
	}
	snprintf(err, el, "key of unknown type");
	return -1;
}

static const struct conftab_key *find_key(const struct conftab *t, const char *name)
{
	for (size_t i = 0; i < t->nkeys; i++)
		if (!strcmp(t->keys[i].name, name))
			return &t->keys[i];
	return NULL;
}

void *conftab_new(const struct conftab *t)
{
	void *conf = xcalloc(1, t->size);
	char err[CONFTAB_ERROR_LEN];

	for (size_t i = 0; i < t->nkeys; i++) {
		const struct conftab_key *k = &t->keys[i];

		if ((k->type == CONFTAB_ENUM && (!k->words || !k->words[0])) ||
		    (k->type == CONFTAB_FUNC && !k->parse) ||
		    (k->type == CONFTAB_INT && (k->min < INT_MIN || k->max > INT_MAX)) ||
		    (k->type == CONFTAB_UINT && (k->min < 0 || k->max > UINT_MAX)) ||
		    (k->type == CONFTAB_TIME && (k->min < 0 || k->max > UINT32_MAX)) ||
		    k->min > k->max)
			panic("configuration key %s is not well defined", k->name);
	}
	for (size_t i = 0; i < t->nkeys; i++)
		if (t->keys[i].def && set_value(&t->keys[i], conf, t->keys[i].def, false, err,
						sizeof(err)))
			panic("default of %s does not parse: %s", t->keys[i].name, err);
	return conf;
}

int conftab_set(const struct conftab *t, void *conf, const char *key, const char *value,
		char *err, size_t el)
{
	const struct conftab_key *k = find_key(t, key);
	char why[CONFTAB_ERROR_LEN] = "";

	if (!k) {
		snprintf(err, el, "unknown key '%.100s'", key);
		return -ENOENT;
	}
	if (set_value(k, conf, value, false, why, sizeof(why))) {
		snprintf(err, el, "%s: %s", k->name, why);
		return -EINVAL;
	}
	return 0;
}

void conftab_free(const struct conftab *t, void *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct conftab_key *k = &t->keys[i];
		void *f = (char *)conf + k->off;

		if (k->type == CONFTAB_STR)
			free(*(char **)f);
		else if (k->type == CONFTAB_LIST)
			list_clear(f);
		else if (k->type == CONFTAB_FUNC && k->release)
			k->release(f);
	}
	free(conf);
}

/* -- the file --------------------------------------------------------- */

struct parse {
	const struct conftab *t;
	void *conf;
	const char *name;
	struct conftab_errors *e;
	unsigned *seen;         /* line of each key's first setting */
	unsigned char *bad;     /* each key: a value was refused */
};

int conftab_bad(const struct conftab_bad *bad, const char *name)
{
	const struct conftab_key *k = find_key(bad->t, name);

	return k && bad->key[k - bad->t->keys];
}

static void add_error(struct conftab_errors *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_error(struct conftab_errors *e, const char *fmt, ...)
{
	va_list ap;

	if (e->n < CONFTAB_MAX_ERRORS) {
		va_start(ap, fmt);
		vsnprintf(e->msg[e->n++], CONFTAB_ERROR_LEN, fmt, ap);
		va_end(ap);
	}
	e->total++;
}

/* Cut a comment ('#' at the start or after white space) and trailing
 * white space off s (n bytes); returns the new length. */
static size_t strip(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '#' && (i == 0 || isspace((unsigned char)s[i - 1]))) {
			n = i;
			break;
		}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n;
}

/* Apply "name = value" that starts on line lineno. */
static void apply(struct parse *p, char *line, unsigned lineno)
{
	char *eq = strchr(line, '='), *v, why[CONFTAB_ERROR_LEN] = "";
	const struct conftab_key *k;
	size_t kl, i;

	if (!eq) {
		add_error(p->e, "%s:%u: expected 'name = value'", p->name, lineno);
		return;
	}
	kl = (size_t)(eq - line);
	while (kl && isspace((unsigned char)line[kl - 1]))
		kl--;
	line[kl] = '\0';
	v = eq + 1 + strspn(eq + 1, " \t");
	if (!(k = find_key(p->t, line))) {
		add_error(p->e, "%s:%u: unknown key '%.100s'", p->name, lineno, line);
		return;
	}
	i = (size_t)(k - p->t->keys);
	if (p->seen[i] && !(k->flags & CONFTAB_REPEAT)) {
		add_error(p->e, "%s:%u: %s given twice (first on line %u)", p->name, lineno,
			  k->name, p->seen[i]);
		return;
	}
	if (set_value(k, p->conf, v, p->seen[i] != 0, why, sizeof(why))) {
		add_error(p->e, "%s:%u: %s: %s", p->name, lineno, k->name, why);
		p->bad[i] = 1;
	}
	if (!p->seen[i])
		p->seen[i] = lineno;
}

/* Append the stripped line s (n bytes) to the logical line in acc. */
static int join(char **acc, size_t *accl, const char *s, size_t n)
{
	if (*accl + n + 2 > CONFTAB_LINE_MAX)
		return -1;
	*acc = xrealloc(*acc, *accl + n + 2);
	if (*accl)
		(*acc)[(*accl)++] = ' ';
	memcpy(*acc + *accl, s, n);
	*accl += n;
	(*acc)[*accl] = '\0';
	return 0;
}

int conftab_parse(const struct conftab *t, void *conf, const char *text, const char *name,
		  struct conftab_errors *e)
{
	struct parse p = { t, conf, name, e, xcalloc(t->nkeys ? t->nkeys : 1, sizeof(unsigned)),
			   xcalloc(t->nkeys ? t->nkeys : 1, 1) };
	unsigned lineno = 0, start = 0;
	bool too_long = false;
	char *acc = NULL;
	size_t accl = 0;

	memset(e, 0, sizeof(*e));
	for (const char *s = text; *s || s == text; ) {
		size_t n = strcspn(s, "\n"), len = strip(s, n);
		bool cont = *s == ' ' || *s == '\t';
		size_t lead = cont ? strspn(s, " \t") : 0;

		lineno++;
		if (len > lead && cont) {
			if (!acc && !too_long)
				add_error(e, "%s:%u: a continuation line with nothing to continue",
					  name, lineno);
			else if (acc && join(&acc, &accl, s + lead, len - lead))
				too_long = true;
		} else if (len) {
			if (too_long)
				add_error(e, "%s:%u: longer than %d bytes", name, start,
					  CONFTAB_LINE_MAX);
			else if (acc)
				apply(&p, acc, start);
			free(acc);
			acc = NULL;
			accl = 0;
			too_long = join(&acc, &accl, s, len) != 0;
			start = lineno;
		}
		s += n;
		if (!*s)
			break;
		s++;
	}
	if (too_long)
		add_error(e, "%s:%u: longer than %d bytes", name, start, CONFTAB_LINE_MAX);
	else if (acc)
		apply(&p, acc, start);
	free(acc);
	free(p.seen);
	if (t->check_all) {
		struct conftab_bad bad = { t, p.bad };
		char why[CONFTAB_ERROR_LEN] = "";

		if (t->check_all(conf, &bad, why, sizeof(why)))
			add_error(e, "%s: %s", name, why);
	} else if (!e->total && t->check) {
		char why[CONFTAB_ERROR_LEN] = "";

		if (t->check(conf, why, sizeof(why)))
			add_error(e, "%s: %s", name, why);
	}
	free(p.bad);
	return e->total ? -EINVAL : 0;
}

/* The whole file, NUL-terminated, or NULL with the error in e. */
static char *read_file(const char *path, struct conftab_errors *e)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	memset(e, 0, sizeof(*e));
	if (!f) {
		add_error(e, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > FILE_MAX + 8192) {
				add_error(e, "%s: larger than 16 MB", path);
				goto fail;
			}
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n == 4096);
	if (ferror(f)) {
		add_error(e, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	if (strlen(buf) != len) {
		add_error(e, "%s: contains a NUL byte", path);
		free(buf);
		return NULL;
	}
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

void *conftab_load(const struct conftab *t, const char *path, struct conftab_errors *e)
{
	char *text = read_file(path, e);
	void *conf;

	if (!text)
		return NULL;
	conf = conftab_new(t);
	if (conftab_parse(t, conf, text, path, e)) {
		conftab_free(t, conf);
		conf = NULL;
	}
	free(text);
	return conf;
}

void *conftab_reload(const struct conftab *t, const char *path, void **cur,
		     struct conftab_errors *e)
{
	void *n = conftab_load(t, path, e), *old;

	if (!n)
		return NULL;
	old = *cur;
	*cur = n;
	return old;
}

void conftab_errors_print(const struct conftab_errors *e, FILE *f)
{
	for (unsigned i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->msg[i]);
	if (e->total > e->n)
		fprintf(f, "(%u more errors)\n", e->total - e->n);
}

void conftab_help(const struct conftab *t, FILE *f)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		const struct conftab_key *k = &t->keys[i];

		fprintf(f, "  %-20s %s\n", k->name, k->help);
		if (k->def && k->def[0])
			fprintf(f, "  %-20s   default: %s\n", "", k->def);
		if (k->type == CONFTAB_INT || k->type == CONFTAB_UINT || k->type == CONFTAB_TIME)
			fprintf(f, "  %-20s   range: %lld..%lld\n", "", k->min, k->max);
	}
}

/* What goes between '=' and a value: a space, unless the value starts
 * with '#' (a comment after white space, a value right after '='). */
static const char *sep(const char *v)
{
	return v[0] == '#' ? "" : " ";
}

static void dump_one(const struct conftab_key *k, const void *f, FILE *out)
{
	static const char *const bools[] = { "no", "yes" };
	const struct conftab_list *l = f;
	int w;

	switch (k->type) {
	case CONFTAB_STR:
		if (*(char *const *)f)
			fprintf(out, "%s =%s%s\n", k->name, sep(*(char *const *)f),
				*(char *const *)f);
		else
			fprintf(out, "# %s is not set\n", k->name);
		return;
	case CONFTAB_INT:
		fprintf(out, "%s = %d\n", k->name, *(const int *)f);
		return;
	case CONFTAB_UINT:
		fprintf(out, "%s = %u\n", k->name, *(const unsigned *)f);
		return;
	case CONFTAB_TIME:
		fprintf(out, "%s = %u\n", k->name, (unsigned)*(const uint32_t *)f);
		return;
	case CONFTAB_BOOL:
		fprintf(out, "%s = %s\n", k->name, bools[*(const bool *)f ? 1 : 0]);
		return;
	case CONFTAB_ENUM:
		w = *(const int *)f;
		for (int i = 0; k->words[i]; i++)
			if (i == w) {
				fprintf(out, "%s = %s\n", k->name, k->words[i]);
				return;
			}
		fprintf(out, "# %s is not set\n", k->name);
		return;
	case CONFTAB_LIST:
		fprintf(out, "%s =", k->name);
		for (size_t i = 0; i < l->n; i++)
			fprintf(out, "%s%s", i ? "," : sep(l->v[i]), l->v[i]);
		fputc('\n', out);
		return;
	case CONFTAB_FUNC:
		fprintf(out, "# %s = (set)\n", k->name);
		return;
	}
}

void conftab_dump(const struct conftab *t, const void *conf, FILE *f)
{
	for (size_t i = 0; i < t->nkeys; i++)
		dump_one(&t->keys[i], (const char *)conf + t->keys[i].off, f);
}
