/*
 * catalog_match.c - which list a rejection text names: one pass over the
 * text against every zone and match word of the catalogue at once.
 *
 * The words are indexed by their first two bytes.  A word can only start
 * where the text has no letter or digit right before, so the scan looks
 * at those places only, and there at the few words that begin with the
 * same two bytes.  The answer is the one the plain definition gives (see
 * catalog.h): a zone beats a word, the longest wins, and on a tie the
 * first in catalogue order.
 *
 * SECURITY: text is untrusted (a remote server's reply); every compare is
 * bounded by its length.
 */
#include "dnsbl/catalog.h"
#include "base/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024u		/* power of two */

struct cm_word {
	const char *w;
	size_t len;
	const struct list *l;
	uint32_t order;		/* catalogue order: list, then word */
	int zone;		/* the list's zone, not a match word */
	int32_t next;		/* next in the bucket, -1 at the end */
};

struct catalog_index {
	struct cm_word *words;
	size_t n;
	int32_t head[BUCKETS];
	int32_t one;		/* one-byte words, checked everywhere */
};

/* ASCII letters and digits, as isalnum() in the C locale, without the
 * locale lookup; a table, as the scan asks it of every byte of a text */
static const unsigned char alnum_tab[256] = {
	['0' ... '9'] = 1, ['a' ... 'z'] = 1, ['A' ... 'Z'] = 1,
};

static int alnum(unsigned char c)
{
	return alnum_tab[c];
}

static unsigned bucket(unsigned char a, unsigned char b)
{
	return ((unsigned)a * 131u + b) & (BUCKETS - 1);
}

static void add(struct catalog_index *x, const char *w, const struct list *l,
		int zone)
{
	size_t len = strlen(w);
	struct cm_word *e;
	int32_t *head;

	if (!len)
		return;
	e = &x->words[x->n];
	e->w = w;
	e->len = len;
	e->l = l;
	e->order = (uint32_t)x->n;
	e->zone = zone;
	head = len == 1 ? &x->one : &x->head[bucket((unsigned char)w[0], (unsigned char)w[1])];
	/* kept in catalogue order inside a bucket: append at the tail */
	e->next = -1;
	while (*head >= 0)
		head = &x->words[*head].next;
	*head = (int32_t)x->n++;
}

static struct catalog_index *index_build(const struct catalog *cat)
{
	struct catalog_index *x = xcalloc(1, sizeof(*x));
	size_t n = 0;

	for (size_t i = 0; i < cat->n; i++)
		n += 1 + cat->lists[i]->nmatch;
	x->words = xcalloc(n ? n : 1, sizeof(*x->words));
	memset(x->head, 0xff, sizeof(x->head));
	x->one = -1;
	for (size_t i = 0; i < cat->n; i++) {
		const struct list *l = cat->lists[i];

		if (l->zone)
			add(x, l->zone, l, 1);
		for (size_t j = 0; j < l->nmatch; j++)
			add(x, l->match[j], l, 0);
	}
	return x;
}

void catalog_index_free(struct catalog *cat)
{
	if (!cat->index)
		return;
	free(cat->index->words);
	free(cat->index);
	cat->index = NULL;
}

void catalog_index_build(struct catalog *cat)
{
	if (!cat->index)
		cat->index = index_build(cat);
}

/* Is e a better answer than best? */
static int better(const struct cm_word *e, const struct cm_word *best)
{
	if (!best)
		return 1;
	if (e->zone != best->zone)
		return e->zone;
	if (e->len != best->len)
		return e->len > best->len;
	return e->order < best->order;
}

static const struct cm_word *try_chain(const struct catalog_index *x, int32_t k,
				       const unsigned char *s, size_t rest,
				       const struct cm_word *best)
{
	for (; k >= 0; k = x->words[k].next) {
		const struct cm_word *e = &x->words[k];

		/* the last byte first: it rules out most words of the
		 * bucket (whose first two bytes often match) without a call */
		if (e->len > rest || s[e->len - 1] != (unsigned char)e->w[e->len - 1] ||
		    memcmp(s, e->w, e->len) ||
		    (e->len < rest && alnum(s[e->len])))
			continue;
		if (better(e, best))
			best = e;
	}
	return best;
}

const struct list *catalog_match_text(const struct catalog *cat,
				      const char *text, size_t len)
{
	unsigned char stackbuf[4096], *s;
	const struct catalog_index *x;
	const struct cm_word *best = NULL;

	/* built by catalog_load_all(); a catalogue put together by hand
	 * gets its index on first use */
	if (!cat->index)
		catalog_index_build((struct catalog *)cat);
	x = cat->index;
	s = len <= sizeof(stackbuf) ? stackbuf : xmalloc(len);
	for (size_t i = 0; i < len; i++)
		s[i] = ascii_tolower((unsigned char)text[i]);
	for (size_t p = 0; p < len; p++) {
		if (p && alnum(s[p - 1]))
			continue;
		if (p + 1 < len)
			best = try_chain(x, x->head[bucket(s[p], s[p + 1])], s + p,
					 len - p, best);
		if (x->one >= 0)
			best = try_chain(x, x->one, s + p, len - p, best);
	}
	if (s != stackbuf)
		free(s);
	return best ? best->l : NULL;
}
