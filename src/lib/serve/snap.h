/*
 * snap.h - the zone set in use (a snapshot of the data), read without
 * locks by the worker threads, replaced as a whole on reload.
 *
 * Readers enter a short read-side section around each batch of answers
 * (quiescent-state reclamation: publish() waits only for sections that
 * began before the swap, and a section never blocks). A zone transfer,
 * which may run for minutes at the pace of its client, instead holds a
 * reference to the snapshot it started on: publishing never waits for it,
 * and a retired snapshot is freed once no transfer holds it or an older
 * one (an older set's datasets may be owned by a newer retired set, see
 * zoneset_handover()).
 *
 * SECURITY: no untrusted input; the memory-safety of every reader depends
 * on the rules above.
 */
#ifndef RBLKIT_SNAP_H
#define RBLKIT_SNAP_H

#include <stdint.h>

#include "serve/zone.h"

struct snap;

/* One per reader thread, registered before the threads start. */
struct snap_reader {
	_Atomic uint64_t seen;  /* epoch at entry; 0 outside a section */
	struct snap *in;        /* the snapshot entered */
};

/* Register r (main thread, before any reader runs); -1 when full. */
int snap_register(struct snap_reader *r);

/* The first zone set (main thread, before the readers start). */
void snap_init(struct zoneset *zs);

/* Enter a read-side section: the returned set stays valid until
 * snap_leave(). Sections must not block. */
const struct zoneset *snap_enter(struct snap_reader *r);
void snap_leave(struct snap_reader *r);

/* Inside a section: a reference to the snapshot entered, valid after
 * snap_leave() until snap_release() (any thread). */
struct snap *snap_hold(struct snap_reader *r);
const struct zoneset *snap_set(const struct snap *s);
void snap_release(struct snap *s);

/* Main thread only: the set in use (to build the next one from). */
const struct zoneset *snap_current(void);

/* Main thread only: make ns current; wait for the sections that may still
 * use the old set, hand its shared datasets over to ns, retire it. */
void snap_publish(struct zoneset *ns);

/* Main thread only: free the retired sets that nothing holds. */
void snap_collect(void);

#endif
