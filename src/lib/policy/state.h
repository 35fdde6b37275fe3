/*
 * state.h - the outbound counters on disk, so that they survive restarts
 * and crashes.
 *
 * state_dir holds a snapshot ("counters", written to a temporary file,
 * fsync'd and renamed) and append-only journals ("journal.N"). Every
 * change is appended to the current journal with one write(2) as it
 * happens, so a crash of the daemon loses nothing; the journal is
 * fdatasync'd once a second, so a crash of the machine loses at most a
 * second of counts. A snapshot starts a new journal generation N+1 first
 * and names it in its header; loading reads the snapshot and then every
 * journal from its generation on, so a crash at any point of the switch
 * neither loses nor double-counts a change. Each record carries a CRC32:
 * a record torn by a crash ends the replay of that journal.
 *
 * A lock (flock on state_dir/lock) keeps a second daemon, or an offline
 * "reset", off a directory in use.
 *
 * SECURITY: the files are the daemon's own, but are read defensively
 * (lengths checked against the record and file sizes, CRC); user names
 * in them came from the network.
 */
#ifndef RBLKIT_POLICY_STATE_H
#define RBLKIT_POLICY_STATE_H

#include "policy/ratelimit.h"

#include <stdbool.h>
#include <stdint.h>

struct pst;

/* Lock dir (created, mode 0700, when missing), load its state into t (which should be empty) and open a new
 * journal. Returns NULL with a reason in err (lock held: "in use"). With
 * readonly, nothing is written and no lock is taken (status of a stopped
 * daemon; a running one may change the files meanwhile). */
struct pst *pst_open(const char *dir, struct rl_table *t, bool readonly,
		     char *err, size_t errlen);
/* Write a snapshot, close the files and release the lock. */
void pst_close(struct pst *p);

/* Journal one change (after it was made in the table). Errors are logged
 * (once a minute) and otherwise ignored: counting goes on in memory. */
void pst_add(struct pst *p, const struct rl_user *u, const uint32_t *periods,
	     size_t n, uint32_t now, uint32_t msgs, uint32_t rcpts);
void pst_block(struct pst *p, const struct rl_user *u);
void pst_unblock(struct pst *p, const char *key);
void pst_reset(struct pst *p, const char *key);

/* Periodic work: fdatasync the journal once a second when it changed;
 * a snapshot when the journal passed snapshot_bytes. now is now_ms(). */
void pst_tick(struct pst *p, uint64_t now);
/* Write a snapshot now (SIGTERM, after expiring idle users). Returns 0
 * or -1 (logged). */
int pst_snapshot(struct pst *p);

/* Bytes of the current journal; records loaded at open (for tests). */
uint64_t pst_journal_bytes(const struct pst *p);
uint64_t pst_loaded(const struct pst *p);

#endif
