/*
 * daemon.h - what every daemon does between binding its sockets and
 * serving: drop privileges in one order, keep a pid file, block the
 * signals its event loop reads.
 *
 * SECURITY: runs as root at start-up; the user, group and directories
 * come from the operator.  After daemon_drop_privileges() returns 0 the
 * process cannot get root back (checked, not assumed).
 */
#ifndef RBLKIT_DAEMON_H
#define RBLKIT_DAEMON_H

#include <signal.h>
#include <stddef.h>

/* Become user after the caller has bound its sockets, in this order:
 * resolve user ("USER" or "USER:GROUP"; the group defaults to the user's
 * own) while /etc is still visible, setgroups (that one group only),
 * chroot(chroot_dir) and chdir("/"), chdir(workdir) (inside the chroot),
 * setgid, setuid; then verify: real and effective ids are the user's, the
 * group list is the one group, and setuid(0) fails.  user, chroot_dir and
 * workdir may each be NULL (that step is skipped).  Returns 0, or -errno
 * (-ENOENT for an unknown user or group, -EPERM when a check fails) with
 * a sentence in err.  A failure part-way leaves the process in between:
 * the caller must exit. */
int daemon_drop_privileges(const char *user, const char *chroot_dir, const char *workdir,
			   char *err, size_t errlen);

struct daemon_pidfile;

/* Create or take over path and write our pid into it.  The file is
 * opened without following a symbolic link and locked (flock) for the
 * life of the process: a second instance gets -EEXIST ("already
 * running, pid N"); a file left by a crash is reused.  Returns a handle
 * (the caller owns it: daemon_pidfile_remove), or NULL with err set. */
struct daemon_pidfile *daemon_pidfile_create(const char *path, char *err, size_t errlen);

/* Remove the pid file and free pf (NULL: nothing).  Best effort: after
 * a chroot or the privilege drop the unlink may fail; the lock goes
 * with the process either way, so a stale file does not block a start. */
void daemon_pidfile_remove(struct daemon_pidfile *pf);

/* Block sigs[0..n-1] in the calling thread (and so in the threads it
 * starts afterwards: call it before any thread exists) and ignore
 * SIGPIPE.  The blocked set goes to *set when set is not NULL, for
 * signalfd or sigtimedwait.  Returns 0 or -errno. */
int daemon_block_signals(const int *sigs, size_t n, sigset_t *set);

#endif
