/*
 * evloop.h - an epoll event loop with timers and signals, for the daemons.
 *
 * A loop is a value (ev_new): no global state, so two services can live
 * in one process, each with its own loop.  It watches file descriptors
 * (read and/or write interest, changeable), runs timers on the monotonic
 * clock (a min-heap: O(log n) start and stop), and delivers signals
 * through a signalfd as ordinary events.  One thread runs a loop.
 *
 * SECURITY: no input of its own; it calls the callbacks that read the
 * network.  Nothing here allocates while the loop runs except when an fd
 * number or the number of timers grows past what was seen before.
 */
#ifndef RBLKIT_EVLOOP_H
#define RBLKIT_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ev_loop ev_loop;

#define EV_READ  0x1
#define EV_WRITE 0x2
#define EV_ERROR 0x4    /* given to callbacks only: hang-up or error */

/* fd became ready: events is EV_READ, EV_WRITE, EV_ERROR bits. */
typedef void ev_fd_cb(ev_loop *ev, int fd, unsigned events, void *arg);
/* signo arrived (one call per delivery; signals of one kind may merge). */
typedef void ev_signal_cb(ev_loop *ev, int signo, void *arg);

struct ev_timer;
/* t expired; it is stopped when called, so the callback may start it again. */
typedef void ev_timer_cb(ev_loop *ev, struct ev_timer *t, void *arg);

/* A timer lives in the caller's memory (a connection, a zone ...): no
 * allocation per timer.  The fields are the loop's; set them only with
 * ev_timer_init. */
struct ev_timer {
	uint64_t when;          /* monotonic ms */
	size_t slot;            /* index in the heap + 1; 0: not running */
	ev_timer_cb *cb;
	void *arg;
};

/* A new, empty loop, or NULL with err set (epoll_create failed).  The
 * caller owns it: ev_free. */
ev_loop *ev_new(char *err, size_t errlen);

/* Free the loop and its epoll and signal descriptors.  The watched fds
 * stay open (the caller owns them); blocked signals stay blocked. */
void ev_free(ev_loop *ev);

/* Watch fd for events (EV_READ | EV_WRITE, or 0 for none yet) and call
 * cb(ev, fd, events, arg).  Returns 0, -EEXIST when fd is already
 * watched, -ENOMEM, or epoll_ctl's -errno. */
int ev_fd_add(ev_loop *ev, int fd, unsigned events, ev_fd_cb *cb, void *arg);

/* Change the interest of a watched fd.  Returns 0, -ENOENT, -errno. */
int ev_fd_mod(ev_loop *ev, int fd, unsigned events);

/* Stop watching fd (before closing it).  An event of fd already fetched
 * in this round is dropped, even when the number is reused at once.
 * Returns 0 or -ENOENT. */
int ev_fd_del(ev_loop *ev, int fd);

/* Set up t (not running) to call cb(ev, t, arg). */
void ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg);

/* (Re)start t to expire after ms milliseconds.  Returns 0 or -ENOMEM
 * (t is then not running). */
int ev_timer_start(ev_loop *ev, struct ev_timer *t, uint64_t ms);

/* Stop t if running (safe on a stopped timer). */
void ev_timer_stop(ev_loop *ev, struct ev_timer *t);

/* Whether t is running. */
int ev_timer_active(const struct ev_timer *t);

/* Deliver signo to cb through the loop's signalfd.  Blocks signo in the
 * calling thread: call before starting other threads (daemon.h's
 * daemon_block_signals does the same for a whole set), or they may take
 * the signal instead.  A signal belongs to one loop of the process (two
 * signalfds for one signal race for it).  Returns 0, -EINVAL, or
 * signalfd's -errno. */
int ev_signal_add(ev_loop *ev, int signo, ev_signal_cb *cb, void *arg);

/* Wait at most max_ms (-1: until something happens, bounded by the next
 * timer), then run the callbacks of what happened and of the timers that
 * expired.  Returns the number of callbacks run, or -errno when
 * epoll_wait fails (EINTR is not a failure: 0). */
int ev_run_once(ev_loop *ev, int max_ms);

/* ev_run_once until ev_stop.  Returns 0, or -errno of a failed wait. */
int ev_run(ev_loop *ev);

/* Make ev_run return after the callbacks of this round. */
void ev_stop(ev_loop *ev);

/* Whether ev_stop was called (ev_run resets it when it starts). */
int ev_stopped(const ev_loop *ev);

/* The loop's clock: monotonic ms, read once per round. */
uint64_t ev_now(const ev_loop *ev);

#endif
