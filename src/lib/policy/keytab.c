/*
 * keytab.c - the per-user hash table of the policy daemon (see keytab.h).
 *
 * SECURITY: see keytab.h.
 */
#include "policy/keytab.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct kt_table {
	struct kt_node **bucket;
	size_t nbuckets;	/* power of two */
	size_t n, max;
	uint32_t seed;
};

struct kt_table *kt_new(size_t max)
{
	struct kt_table *t = xcalloc(1, sizeof(*t));

	t->nbuckets = 1024;
	t->bucket = xcalloc(t->nbuckets, sizeof(*t->bucket));
	t->max = max;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint32_t)now_ms();
	return t;
}

static void free_node(struct kt_node *n, void (*fn)(struct kt_node *n))
{
	if (fn)
		fn(n);
	free(n->key);
	free(n);
}

void kt_free(struct kt_table *t, void (*fn)(struct kt_node *n))
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct kt_node *n = t->bucket[i], *nx; n; n = nx) {
			nx = n->next;
			free_node(n, fn);
		}
	free(t->bucket);
	free(t);
}

/* FNV-1a with the table's random seed. */
static uint32_t kt_hash(const struct kt_table *t, const char *k, size_t n)
{
	uint32_t h = 2166136261u ^ t->seed;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 16777619u;
	}
	return h;
}

static void kt_grow(struct kt_table *t)
{
	size_t nb = t->nbuckets * 2;
	struct kt_node **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct kt_node *n = t->bucket[i], *nx; n; n = nx) {
			nx = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	free(t->bucket);
	t->bucket = b;
	t->nbuckets = nb;
}

/* The link that points at key's record (or at the NULL ending its chain). */
static struct kt_node **kt_find(struct kt_table *t, const char *key, size_t n, uint32_t h)
{
	struct kt_node **pp;

	for (pp = &t->bucket[h & (t->nbuckets - 1)]; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && !strncmp((*pp)->key, key, n) && (*pp)->key[n] == '\0')
			break;
	return pp;
}

struct kt_node *kt_get(struct kt_table *t, const char *key, size_t size, bool *created)
{
	size_t n = strnlen(key, KT_MAX_KEY);
	uint32_t h = kt_hash(t, key, n);
	struct kt_node *nd = *kt_find(t, key, n, h);

	if (created)
		*created = false;
	if (nd || !size || t->n >= t->max)
		return nd;
	if (t->n >= t->nbuckets)
		kt_grow(t);
	nd = xcalloc(1, size);
	nd->key = xstrndup(key, n);
	nd->hash = h;
	nd->next = t->bucket[h & (t->nbuckets - 1)];
	t->bucket[h & (t->nbuckets - 1)] = nd;
	t->n++;
	if (created)
		*created = true;
	return nd;
}

int kt_remove(struct kt_table *t, const char *key, void (*fn)(struct kt_node *n))
{
	size_t n = strnlen(key, KT_MAX_KEY);
	struct kt_node **pp = kt_find(t, key, n, kt_hash(t, key, n)), *nd = *pp;

	if (!nd)
		return -1;
	*pp = nd->next;
	free_node(nd, fn);
	t->n--;
	return 0;
}

void kt_foreach(struct kt_table *t, void (*fn)(void *arg, struct kt_node *n), void *arg)
{
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct kt_node *n = t->bucket[i], *nx; n; n = nx) {
			nx = n->next;
			fn(arg, n);
		}
}

size_t kt_sweep(struct kt_table *t, bool (*drop)(void *arg, struct kt_node *n), void *arg)
{
	size_t dropped = 0;

	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct kt_node **pp = &t->bucket[i]; *pp;) {
			struct kt_node *n = *pp;

			if (drop(arg, n)) {
				*pp = n->next;
				free_node(n, NULL);
				t->n--;
				dropped++;
			} else {
				pp = &n->next;
			}
		}
	return dropped;
}

size_t kt_count(const struct kt_table *t)
{
	return t->n;
}

uint32_t kt_seed(const struct kt_table *t)
{
	return t->seed;
}

int kt_set_seed(struct kt_table *t, uint32_t seed)
{
	if (t->n)
		return -1;
	t->seed = seed;
	return 0;
}
