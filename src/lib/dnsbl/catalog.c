/*
 * catalog.c - the catalogue of blocklists: parser, lookups, classification.
 *
 * The format is line based (see data/lists.conf): "[id]" starts an entry,
 * "key = value" sets a field, "code = LO[-HI] CLASS MEANING" adds a return
 * code.  An entry whose id is already known overrides the fields it names
 * (codes and match words: the new lines replace the old set).
 *
 * SECURITY: catalogue files are the operator's (or bundled); every line is
 * length-checked and errors carry file:line.
 */
#define _GNU_SOURCE	/* memmem */
#include "dnsbl/catalog.h"
#include "base/ipaddr.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* data/lists.conf, linked in by catalog_data.S, NUL-terminated. */
extern const char catalog_builtin_text[];

#define CAT_LINE_MAX 2048

/* Fresh entries and zones added with --zone get RFC 5782's conventions. */
static const struct {
	uint32_t lo, hi;
	enum code_class cls;
	const char *meaning;
} rfc5782_codes[] = {
	{ 0x7f000000, 0x7fffffff, CC_LISTED, "listed" },
	{ 0x7f000001, 0x7f000001, CC_ERROR,
	  "127.0.0.1 is never a listing (RFC 5782): the list is broken or refuses the query" },
	{ 0x7fffff00, 0x7fffffff, CC_ERROR,
	  "127.255.255.x: a refusal or error code on most lists" },
};

struct catalog *catalog_new(void)
{
	return xcalloc(1, sizeof(struct catalog));
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void codes_free(struct list *l)
{
	for (size_t i = 0; i < l->ncodes; i++)
		free(l->codes[i].meaning);
	free(l->codes);
	l->codes = NULL;
	l->ncodes = 0;
}

static void list_free(struct list *l)
{
	free(l->id);
	free(l->name);
	free(l->zone);
	strv_free(l->sets, l->nsets);
	free(l->delist);
	free(l->site);
	free(l->notes);
	free(l->lookup);
	free(l->advice);
	free(l->server);
	strv_free(l->match, l->nmatch);
	codes_free(l);
	free(l);
}

void catalog_free(struct catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->n; i++)
		list_free(cat->lists[i]);
	free(cat->lists);
	catalog_index_free(cat);
	free(cat);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* Zone names compare without case and without a trailing dot. */
static size_t zone_len(const char *z)
{
	size_t n = strlen(z);
	return n && z[n - 1] == '.' ? n - 1 : n;
}

static bool zone_eq(const char *a, const char *b)
{
	size_t na = zone_len(a), nb = zone_len(b);
	return na == nb && !strncasecmp(a, b, na);
}

int catalog_load_all(struct catalog *cat, const char *const *files, size_t nfiles,
		     char *err, size_t errlen)
{
	if (catalog_load_builtin(cat, err, errlen) < 0)
		return -1;
	if (access(CATALOG_SYSTEM_FILE, F_OK) == 0 &&
	    catalog_load_file(cat, CATALOG_SYSTEM_FILE, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < nfiles; i++)
		if (catalog_load_file(cat, files[i], err, errlen) < 0)
			return -1;
	catalog_index_build(cat);
	return 0;
}

/* Does word w of a --lists spec select l? */
static bool select_word(const struct list *l, const char *w)
{
	if (!strcmp(w, "all"))
		return l->status == LS_ACTIVE;
	if (!strcmp(l->id, w) || !strcasecmp(l->zone, w))
		return true;
	return list_in_set(l, w) && l->status == LS_ACTIVE;
}

int catalog_select(const struct catalog *cat, const char *spec, unsigned kinds,
		   const struct list **sel, size_t *n, size_t max,
		   char *bad, size_t badlen)
{
	char buf[1024];
	int rc = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save = NULL, *w = strtok_r(buf, ", ", &save); w;
	     w = strtok_r(NULL, ", ", &save)) {
		bool any = false;
		for (size_t i = 0; i < cat->n; i++) {
			const struct list *l = cat->lists[i];
			if (!l->zone || !(l->kinds & kinds) || !select_word(l, w))
				continue;
			any = true;
			size_t k = 0;
			while (k < *n && sel[k] != l)
				k++;
			if (k == *n && *n < max)
				sel[(*n)++] = l;
		}
		if (!any && rc == 0) {
			snprintf(bad, badlen, "%s", w);
			rc = -1;
		}
	}
	return rc;
}

const struct list *catalog_by_id(const struct catalog *cat, const char *id)
{
	for (size_t i = 0; i < cat->n; i++)
		if (!strcmp(cat->lists[i]->id, id))
			return cat->lists[i];
	return NULL;
}

const struct list *catalog_by_zone(const struct catalog *cat, const char *zone)
{
	for (size_t i = 0; i < cat->n; i++)
		if (cat->lists[i]->zone && zone_eq(cat->lists[i]->zone, zone))
			return cat->lists[i];
	return NULL;
}

static struct list *catalog_append(struct catalog *cat, const char *id)
{
	struct list *l = xcalloc(1, sizeof(*l));
	l->id = xstrdup(id);
	cat->lists = xreallocarray(cat->lists, cat->n + 1, sizeof(*cat->lists));
	cat->lists[cat->n++] = l;
	return l;
}

static void code_add(struct list *l, uint32_t lo, uint32_t hi,
		     enum code_class cls, const char *meaning)
{
	l->codes = xreallocarray(l->codes, l->ncodes + 1, sizeof(*l->codes));
	l->codes[l->ncodes++] = (struct list_code){ lo, hi, cls, xstrdup(meaning) };
}

static void rfc5782_defaults(struct list *l)
{
	for (size_t i = 0; i < ARRAY_SIZE(rfc5782_codes); i++)
		code_add(l, rfc5782_codes[i].lo, rfc5782_codes[i].hi,
			 l->type == LT_ALLOW && rfc5782_codes[i].cls == CC_LISTED ?
			 CC_ALLOWED : rfc5782_codes[i].cls, rfc5782_codes[i].meaning);
}

/* Split "a, b c" on commas and blanks into a fresh vector. */
static char **split_words(const char *s, size_t *n, bool keep_spaces)
{
	char **v = NULL;
	*n = 0;
	while (*s) {
		while (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		const char *e = s;
		while (*e && *e != ',' && (keep_spaces || (*e != ' ' && *e != '\t')))
			e++;
		size_t len = e - s;
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		v = xreallocarray(v, *n + 1, sizeof(*v));
		char *w = xstrndup(s, len);
		for (char *p = w; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		v[(*n)++] = w;
		s = e;
	}
	return v;
}

static int parse_kind(const char *v, unsigned *kinds)
{
	size_t n;
	char **w = split_words(v, &n, false);
	int rc = 0;
	*kinds = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(w[i], "ip4"))
			*kinds |= LK_IP4;
		else if (!strcmp(w[i], "ip6"))
			*kinds |= LK_IP6;
		else if (!strcmp(w[i], "domain"))
			*kinds |= LK_DOMAIN;
		else if (strcmp(w[i], "none") || n != 1)
			rc = -1;
	}
	strv_free(w, n);
	return n ? rc : -1;
}

/* "LO[-HI]" or "PREFIX/BITS" of 127.x answers. */
static int parse_code_range(const char *s, uint32_t *lo, uint32_t *hi)
{
	const char *end;
	int bits;
	if (strchr(s, '/')) {
		bits = ip4_cidr(s, lo, &end);
		if (bits < 0 || *end)
			return -1;
		*hi = *lo | ~ip4_mask(bits);
		return 0;
	}
	bits = ip4_prefix(s, lo, &end);
	if (bits != 32)
		return -1;
	if (!*end) {
		*hi = *lo;
		return 0;
	}
	if (*end != '-' || ip4_prefix(end + 1, hi, &end) != 32 || *end || *hi < *lo)
		return -1;
	return 0;
}

/* Per-entry state of the parser: in an entry that overrides a known id,
 * the first code line and the first match line replace the old set. */
struct entry_state {
	bool codes_reset, match_reset;
};

/* One "key = value" line's parser: 0, or -1 with *why set. */
typedef int key_parser(struct list *l, char *val, struct entry_state *es,
		       const char **why);

static int key_zone(struct list *l, char *val, struct entry_state *es,
		    const char **why)
{
	if (!*val || strchr(val, ' ') || zone_len(val) > 200) {
		*why = "zone must be one domain name";
		return -1;
	}
	free(l->zone);
	l->zone = xstrndup(val, zone_len(val));
	for (char *p = l->zone; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

static int key_kind(struct list *l, char *val, struct entry_state *es,
		    const char **why)
{
	if (parse_kind(val, &l->kinds) < 0) {
		*why = "kind: use ip4, ip6, domain (comma separated) or none";
		return -1;
	}
	return 0;
}

static int key_type(struct list *l, char *val, struct entry_state *es,
		    const char **why)
{
	if (!strcmp(val, "block"))
		l->type = LT_BLOCK;
	else if (!strcmp(val, "allow"))
		l->type = LT_ALLOW;
	else {
		*why = "type: use block or allow";
		return -1;
	}
	return 0;
}

static int key_status(struct list *l, char *val, struct entry_state *es,
		      const char **why)
{
	if (!strcmp(val, "active"))
		l->status = LS_ACTIVE;
	else if (!strcmp(val, "needs-key"))
		l->status = LS_NEEDS_KEY;
	else if (!strcmp(val, "retired"))
		l->status = LS_RETIRED;
	else {
		*why = "status: use active, needs-key or retired";
		return -1;
	}
	return 0;
}

static int key_txt(struct list *l, char *val, struct entry_state *es,
		   const char **why)
{
	if (!strcmp(val, "yes"))
		l->txt = true;
	else if (!strcmp(val, "no"))
		l->txt = false;
	else {
		*why = "txt: use yes or no";
		return -1;
	}
	return 0;
}

static int key_testpoint(struct list *l, char *val, struct entry_state *es,
			 const char **why)
{
	if (!strcmp(val, "yes"))
		l->no_testpoint = false;
	else if (!strcmp(val, "no"))
		l->no_testpoint = true;
	else {
		*why = "testpoint: use yes or no";
		return -1;
	}
	return 0;
}

/* "limit = N": the list's published free-use queries a day (0: none). */
static int key_limit(struct list *l, char *val, struct entry_state *es,
		     const char **why)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(val, &end, 10);
	if (!isdigit((unsigned char)*val) || *end || errno || v > 1000000000000ULL) {
		*why = "expected a number of queries a day";
		return -1;
	}
	l->limit = v;
	return 0;
}

/* "reduce = registered|none": what a domain list is asked. */
static int key_reduce(struct list *l, char *val, struct entry_state *es,
		      const char **why)
{
	if (!strcmp(val, "registered"))
		l->reduce = LR_REGISTERED;
	else if (!strcmp(val, "none"))
		l->reduce = LR_NONE;
	else {
		*why = "reduce: use registered or none";
		return -1;
	}
	return 0;
}

/* "lookup = URL": one "{}" where the address or domain goes. */
static int key_lookup(struct list *l, char *val, struct entry_state *es,
		      const char **why)
{
	const char *at = strstr(val, "{}");
	if (!at || strstr(at + 2, "{}") || strchr(val, ' ')) {
		*why = "lookup: one URL with one {} for the address or domain";
		return -1;
	}
	free(l->lookup);
	l->lookup = xstrdup(val);
	return 0;
}

static int key_sets(struct list *l, char *val, struct entry_state *es,
		    const char **why)
{
	strv_free(l->sets, l->nsets);
	l->sets = split_words(val, &l->nsets, false);
	return 0;
}

/* match lines add up; in an override the first replaces the old words. */
static int key_match(struct list *l, char *val, struct entry_state *es,
		     const char **why)
{
	size_t n;
	char **w = split_words(val, &n, true);
	if (!es->match_reset) {
		strv_free(l->match, l->nmatch);
		l->match = NULL;
		l->nmatch = 0;
		es->match_reset = true;
	}
	if (n) {
		l->match = xreallocarray(l->match, l->nmatch + n, sizeof(*l->match));
		memcpy(l->match + l->nmatch, w, n * sizeof(*w));
		l->nmatch += n;
	}
	free(w);
	return 0;
}

/* Cut the first blank-separated word off *s: returns it, *s is the rest
 * (trimmed). */
static char *cut_word(char **s)
{
	char *word = *s, *e = *s;
	while (*e && *e != ' ' && *e != '\t')
		e++;
	if (*e)
		*e++ = '\0';
	*s = trim(e);
	return word;
}

static int parse_code_class(const char *s, enum code_class *c)
{
	if (!strcmp(s, "listed"))
		*c = CC_LISTED;
	else if (!strcmp(s, "allowed"))
		*c = CC_ALLOWED;
	else if (!strcmp(s, "error"))
		*c = CC_ERROR;
	else
		return -1;
	return 0;
}

/* "code = LO[-HI] CLASS MEANING" */
static int key_code(struct list *l, char *val, struct entry_state *es,
		    const char **why)
{
	char *meaning = val;
	char *range = cut_word(&meaning);
	char *cls = cut_word(&meaning);
	uint32_t lo, hi;
	enum code_class c;

	if (parse_code_range(range, &lo, &hi) < 0) {
		*why = "code: expected ADDR, ADDR-ADDR or PREFIX/BITS";
		return -1;
	}
	if (parse_code_class(cls, &c) < 0) {
		*why = "code: class must be listed, allowed or error";
		return -1;
	}
	if (!*meaning) {
		*why = "code: a meaning is required";
		return -1;
	}
	if (!es->codes_reset) {
		codes_free(l);
		es->codes_reset = true;
	}
	code_add(l, lo, hi, c, meaning);
	return 0;
}

/* The keys of an entry: a string field is copied as it is (parse NULL,
 * field its offset); the others have a parser. */
static const struct {
	const char *key;
	key_parser *parse;
	size_t field;
} catalog_keys[] = {
	{ "name", NULL, offsetof(struct list, name) },
	{ "site", NULL, offsetof(struct list, site) },
	{ "delist", NULL, offsetof(struct list, delist) },
	{ "notes", NULL, offsetof(struct list, notes) },
	{ "advice", NULL, offsetof(struct list, advice) },
	{ "server", NULL, offsetof(struct list, server) },
	{ "zone", key_zone, 0 },
	{ "kind", key_kind, 0 },
	{ "type", key_type, 0 },
	{ "status", key_status, 0 },
	{ "txt", key_txt, 0 },
	{ "testpoint", key_testpoint, 0 },
	{ "reduce", key_reduce, 0 },
	{ "limit", key_limit, 0 },
	{ "lookup", key_lookup, 0 },
	{ "sets", key_sets, 0 },
	{ "match", key_match, 0 },
	{ "code", key_code, 0 },
};

static int set_field(struct list *l, const char *key, char *val,
		     struct entry_state *es, const char **why)
{
	for (size_t i = 0; i < ARRAY_SIZE(catalog_keys); i++) {
		if (strcmp(key, catalog_keys[i].key))
			continue;
		if (catalog_keys[i].parse)
			return catalog_keys[i].parse(l, val, es, why);
		char **strp = (char **)((char *)l + catalog_keys[i].field);
		free(*strp);
		*strp = xstrdup(val);
		return 0;
	}
	*why = "unknown key";
	return -1;
}

/* Checks once an entry is complete. */
static const char *entry_problem(const struct list *l)
{
	if (!l->name)
		return "no name";
	if (l->kinds && !l->zone)
		return "a list with a kind other than none needs a zone";
	if (!l->kinds && l->zone)
		return "kind = none takes no zone";
	if (l->reduce == LR_REGISTERED && !(l->kinds & LK_DOMAIN))
		return "reduce = registered is for a list of kind domain";
	return NULL;
}

static bool valid_id(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

/* The state of one catalog_parse() call. */
struct cat_parser {
	struct catalog *cat;
	const char *name;		/* for messages */
	char *err;
	size_t errlen, errused;
	unsigned nerrors;
	unsigned lineno, entry_line;
	struct list *cur;		/* the entry being read */
	bool cur_new;			/* cur was added by this entry */
	bool cur_bad;			/* a line of cur's was reported */
	bool skipping;			/* in an entry whose [id] was bad */
	struct entry_state es;
};

static int parse_error_at(struct cat_parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One more "name:line: message" line in err (the first
 * CATALOG_MAX_ERRORS of them); returns -1. */
static int parse_error_at(struct cat_parser *p, unsigned line, const char *fmt, ...)
{
	char msg[CAT_LINE_MAX + 128];
	va_list ap;
	if (p->nerrors++ >= CATALOG_MAX_ERRORS || p->errused + 1 >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int n = snprintf(p->err + p->errused, p->errlen - p->errused, "%s%s:%u: %s",
			 p->errused ? "\n" : "", p->name, line, msg);
	if (n > 0)
		p->errused += (size_t)n < p->errlen - p->errused ? (size_t)n :
			      p->errlen - p->errused - 1;
	return -1;
}

#define parse_error(p, ...) parse_error_at(p, (p)->lineno, __VA_ARGS__)

/* The entry being read is complete: check it; a new entry that fails
 * the checks is dropped (its error is reported). */
static void entry_finish(struct cat_parser *p)
{
	struct list *l = p->cur;
	const char *why;
	if (!l)
		return;
	p->cur = NULL;
	why = p->cur_bad ? "" : entry_problem(l);
	if (!why && l->zone) {
		const struct list *o = catalog_by_zone(p->cat, l->zone);
		if (o && o != l)
			why = "zone already in another entry";
	}
	if (why) {
		if (*why)	/* an entry with a bad line: that was the error */
			parse_error_at(p, p->entry_line, "[%s]: %s", l->id, why);
		if (p->cur_new && p->cat->n && p->cat->lists[p->cat->n - 1] == l) {
			p->cat->n--;
			list_free(l);
		}
		return;
	}
	if (l->kinds && !l->ncodes)
		rfc5782_defaults(l);
}

/* Copy the line at *pos into buf (CAT_LINE_MAX) and step over it.
 * Returns -1 for a line that is too long or holds a NUL byte. */
static int next_line(struct cat_parser *p, const char *text, size_t len,
		     size_t *pos, char *buf)
{
	const char *nl = memchr(text + *pos, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - (text + *pos)) : len - *pos;
	p->lineno++;
	*pos += n + (nl != NULL);
	if (n >= CAT_LINE_MAX)
		return parse_error(p, "line longer than %d bytes", CAT_LINE_MAX - 1);
	memcpy(buf, text + *pos - n - (nl != NULL), n);
	buf[n] = '\0';
	if (memchr(buf, '\0', n))
		return parse_error(p, "NUL byte in line");
	return 0;
}

/* "[id]": finish the entry before, start (or reopen) this one.  After a
 * bad [id] the keys up to the next one are passed over. */
static int open_entry(struct cat_parser *p, char *s)
{
	char *e = strchr(s, ']');
	entry_finish(p);
	p->skipping = true;
	if (!e || *trim(e + 1))
		return parse_error(p, "expected [id]");
	*e = '\0';
	if (!valid_id(s + 1))
		return parse_error(p, "id '%s': use lowercase letters, digits and '-'", s + 1);
	p->cur = (struct list *)catalog_by_id(p->cat, s + 1);
	p->cur_new = !p->cur;
	if (!p->cur)
		p->cur = catalog_append(p->cat, s + 1);
	p->skipping = p->cur_bad = false;
	p->entry_line = p->lineno;
	p->es.codes_reset = p->es.match_reset = false;
	return 0;
}

/* "key = value" in the current entry. */
static int key_line(struct cat_parser *p, char *s)
{
	char *eq = strchr(s, '=');
	if (p->skipping)
		return 0;
	if (!eq)
		return parse_error(p, "expected key = value");
	if (!p->cur)
		return parse_error(p, "key before the first [id]");
	*eq = '\0';
	char *key = trim(s), *val = trim(eq + 1);
	/* a comment after the value: " #" */
	char *hash = strstr(val, " #");
	if (hash) {
		*hash = '\0';
		val = trim(val);
	}
	const char *why = NULL;
	if (set_field(p->cur, key, val, &p->es, &why) < 0) {
		p->cur_bad = true;
		return parse_error(p, "%s: %s", key, why);
	}
	return 0;
}

int catalog_parse(struct catalog *cat, const char *text, size_t len,
		  const char *name, char *err, size_t errlen)
{
	struct cat_parser p = { .cat = cat, .name = name, .err = err, .errlen = errlen };
	char buf[CAT_LINE_MAX];
	size_t pos = 0;

	if (errlen)
		err[0] = '\0';
	catalog_index_free(cat);	/* words and zones may change */
	while (pos < len) {
		if (next_line(&p, text, len, &pos, buf) < 0)
			continue;
		char *s = trim(buf);
		if (!*s || *s == '#')
			continue;
		if (*s == '[')
			open_entry(&p, s);
		else
			key_line(&p, s);
	}
	entry_finish(&p);
	if (p.nerrors > CATALOG_MAX_ERRORS && p.errused + 1 < errlen)
		snprintf(err + p.errused, errlen - p.errused, "\n%s: %u more errors not shown",
			 name, p.nerrors - CATALOG_MAX_ERRORS);
	return p.nerrors ? -1 : 0;
}

/* The whole of f, at most 64 MB, in *text (the caller frees it). */
static int read_all(FILE *f, const char *path, char **text, size_t *len,
		    char *err, size_t errlen)
{
	size_t cap = 0;
	for (;;) {
		if (*len + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > (64u << 20)) {
				snprintf(err, errlen, "%s: larger than 64 MB", path);
				return -1;
			}
			*text = xrealloc(*text, cap);
		}
		size_t r = fread(*text + *len, 1, cap - *len, f);
		*len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	return 0;
}

int catalog_load_file(struct catalog *cat, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = -1;
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (read_all(f, path, &text, &len, err, errlen) < 0)
		goto out;
	rc = catalog_parse(cat, text, len, path, err, errlen);
out:
	fclose(f);
	free(text);
	return rc;
}

int catalog_load_builtin(struct catalog *cat, char *err, size_t errlen)
{
	return catalog_parse(cat, catalog_builtin_text, strlen(catalog_builtin_text),
			     "lists.conf (built in)", err, errlen);
}

struct list *catalog_add_zone(struct catalog *cat, const char *zone,
			      unsigned kinds)
{
	struct list *known = (struct list *)catalog_by_zone(cat, zone);
	if (known)
		return known;
	char id[256];
	catalog_index_free(cat);
	snprintf(id, sizeof(id), "zone:%.*s", (int)zone_len(zone), zone);
	struct list *l = catalog_append(cat, id);
	l->zone = xstrndup(zone, zone_len(zone));
	for (char *p = l->zone; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	l->name = xstrdup(l->zone);
	l->kinds = kinds ? kinds : LK_IP4;
	l->type = LT_BLOCK;
	l->status = LS_ACTIVE;
	l->txt = true;
	l->user = true;
	rfc5782_defaults(l);
	return l;
}

const char *list_delist_url(const struct list *l, const char *subject,
			    char *buf, size_t len)
{
	const char *at = l->lookup ? strstr(l->lookup, "{}") : NULL;
	if (at && subject) {
		int n = snprintf(buf, len, "%.*s%s%s", (int)(at - l->lookup), l->lookup,
				 subject, at + 2);
		if (n >= 0 && (size_t)n < len)
			return buf;
	}
	if (!l->delist)
		return NULL;
	snprintf(buf, len, "%s", l->delist);
	return buf;
}

bool list_in_set(const struct list *l, const char *set)
{
	for (size_t i = 0; i < l->nsets; i++)
		if (!strcmp(l->sets[i], set))
			return true;
	return false;
}

enum code_class list_classify(const struct list *l, uint32_t code,
			      const char **meaning)
{
	if ((code >> 24) != 127) {
		*meaning = "answer outside 127.0.0.0/8: not a blocklist answer "
			   "(wildcard DNS or a hijacking resolver)";
		return CC_ERROR;
	}
	const struct list_code *best = NULL;
	for (size_t i = 0; i < l->ncodes; i++) {
		const struct list_code *c = &l->codes[i];
		if (code < c->lo || code > c->hi)
			continue;
		if (!best || c->hi - c->lo < best->hi - best->lo)
			best = c;
	}
	if (best) {
		*meaning = best->meaning;
		return best->cls;
	}
	*meaning = "return code not documented for this list";
	return l->type == LT_ALLOW ? CC_ALLOWED : CC_LISTED;
}

const char *list_kind_text(unsigned kinds, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", kinds & LK_IP4 ? "ip4 " : "",
		 kinds & LK_IP6 ? "ip6 " : "", kinds & LK_DOMAIN ? "domain " : "",
		 kinds ? "" : "none ");
	size_t n = strlen(buf);
	if (n)
		buf[n - 1] = '\0';
	return buf;
}

const char *code_class_text(enum code_class c)
{
	switch (c) {
	case CC_LISTED: return "listed";
	case CC_ALLOWED: return "allowlisted";
	case CC_ERROR: return "error";
	}
	return "?";
}
