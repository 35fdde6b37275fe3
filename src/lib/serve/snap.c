/*
 * snap.c - the zone set in use and its reclamation; see snap.h.
 *
 * SECURITY: see snap.h.
 */
#include "serve/snap.h"
#include "base/util.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define SNAP_MAX_READERS 256

struct snap {
	struct zoneset *zs;
	_Atomic unsigned refs;          /* transfers holding it */
	struct snap *next;              /* retired list, oldest first */
};

static _Atomic(struct snap *) current;
static _Atomic uint64_t epoch = 1;
static struct snap_reader *readers[SNAP_MAX_READERS];
static unsigned nreaders;
static struct snap *retired, **retired_tail = &retired;

int snap_register(struct snap_reader *r)
{
	if (nreaders == SNAP_MAX_READERS)
		return -1;
	atomic_store(&r->seen, 0);
	r->in = NULL;
	readers[nreaders++] = r;
	return 0;
}

static struct snap *snap_new(struct zoneset *zs)
{
	struct snap *s = xcalloc(1, sizeof(*s));

	s->zs = zs;
	atomic_store(&s->refs, 0);
	return s;
}

void snap_init(struct zoneset *zs)
{
	atomic_store(&current, snap_new(zs));
}

const struct zoneset *snap_enter(struct snap_reader *r)
{
	atomic_store(&r->seen, atomic_load(&epoch));
	r->in = atomic_load(&current);
	return r->in->zs;
}

void snap_leave(struct snap_reader *r)
{
	atomic_store(&r->seen, 0);
}

struct snap *snap_hold(struct snap_reader *r)
{
	atomic_fetch_add(&r->in->refs, 1);
	return r->in;
}

const struct zoneset *snap_set(const struct snap *s)
{
	return s->zs;
}

void snap_release(struct snap *s)
{
	atomic_fetch_sub(&s->refs, 1);
}

const struct zoneset *snap_current(void)
{
	return atomic_load(&current)->zs;
}

void snap_collect(void)
{
	/* in order: a held set may use datasets a newer retired set owns */
	while (retired && atomic_load(&retired->refs) == 0) {
		struct snap *s = retired;

		retired = s->next;
		if (!retired)
			retired_tail = &retired;
		zoneset_free(s->zs);
		free(s);
	}
}

void snap_publish(struct zoneset *ns)
{
	struct snap *old = atomic_exchange(&current, snap_new(ns));
	uint64_t e = atomic_fetch_add(&epoch, 1) + 1;

	/* sections are short and never block: this wait is bounded */
	for (unsigned i = 0; i < nreaders; i++) {
		uint64_t s;

		while ((s = atomic_load(&readers[i]->seen)) != 0 && s < e)
			usleep(100);
	}
	zoneset_handover(old->zs, ns);
	old->next = NULL;
	*retired_tail = old;
	retired_tail = &old->next;
	snap_collect();
}
