/*
 * test_evloop.c - the event loop: read and write interest, an event of
 * a deleted fd never reaches the fd's next owner, timers fire in deadline
 * order and can be stopped, signals arrive as events, two loops are
 * independent.
 */
#include "unit.h"
#include "base/evloop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int calls, last_fd;
static unsigned last_events;

static void count_cb(ev_loop *ev, int fd, unsigned events, void *arg)
{
	calls++;
	last_fd = fd;
	last_events = events;
	if (arg)
		(*(int *)arg)++;
}

UNIT_TEST(read_and_write_interest)
{
	char err[128];
	ev_loop *ev = ev_new(err, sizeof(err));
	int p[2];

	CHECK(ev != NULL && pipe(p) == 0);
	calls = 0;
	CHECK(ev_fd_add(ev, p[0], EV_READ, count_cb, NULL) == 0);
	CHECK(ev_fd_add(ev, p[0], EV_READ, count_cb, NULL) == -EEXIST);
	CHECK(ev_run_once(ev, 0) == 0 && calls == 0);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(ev_run_once(ev, 1000) == 1);
	CHECK(calls == 1 && last_fd == p[0] && last_events == EV_READ);
	/* no interest: nothing, though still readable */
	CHECK(ev_fd_mod(ev, p[0], 0) == 0);
	CHECK(ev_run_once(ev, 0) == 0 && calls == 1);
	/* write interest on the other end */
	CHECK(ev_fd_add(ev, p[1], 0, count_cb, NULL) == 0);
	CHECK(ev_run_once(ev, 0) == 0);
	CHECK(ev_fd_mod(ev, p[1], EV_WRITE) == 0);
	CHECK(ev_run_once(ev, 1000) == 1 && last_fd == p[1] && last_events == EV_WRITE);
	CHECK(ev_fd_del(ev, p[1]) == 0 && ev_fd_del(ev, p[1]) == -ENOENT);
	CHECK(ev_fd_mod(ev, 12345, EV_READ) == -ENOENT);
	/* the writer closed: the reader sees the hang-up */
	close(p[1]);
	CHECK(ev_fd_mod(ev, p[0], EV_READ) == 0);
	CHECK(ev_run_once(ev, 1000) == 1 && (last_events & EV_ERROR));
	ev_fd_del(ev, p[0]);
	close(p[0]);
	ev_free(ev);
}

/* Two readable pipes; the first callback closes the other pipe and
 * opens a new one that gets the same numbers: the event already fetched
 * for the old fd must not reach the new owner. */
struct reuse {
	ev_loop *ev;
	int a[2], b[2];
	int first, new_calls;
};

static void new_owner_cb(ev_loop *ev, int fd, unsigned events, void *arg)
{
	((struct reuse *)arg)->new_calls++;
}

static void reuse_cb(ev_loop *ev, int fd, unsigned events, void *arg)
{
	struct reuse *r = arg;
	int *other = fd == r->a[0] ? r->b : r->a, old = other[0], np[2];

	if (r->first++)
		return;         /* must not happen: the other was deleted */
	ev_fd_del(ev, other[0]);
	close(other[0]);
	close(other[1]);
	if (pipe(np) != 0)
		return;
	if (np[0] != old) {     /* the kernel gives the lowest free number */
		r->first = 100;
		return;
	}
	other[0] = np[0];
	other[1] = np[1];
	ev_fd_add(ev, np[0], EV_READ, new_owner_cb, r);
}

UNIT_TEST(stale_event_after_delete)
{
	char err[128];
	struct reuse r = { .ev = ev_new(err, sizeof(err)) };

	CHECK(pipe(r.a) == 0 && pipe(r.b) == 0);
	CHECK(write(r.a[1], "x", 1) == 1 && write(r.b[1], "x", 1) == 1);
	ev_fd_add(r.ev, r.a[0], EV_READ, reuse_cb, &r);
	ev_fd_add(r.ev, r.b[0], EV_READ, reuse_cb, &r);
	ev_run_once(r.ev, 1000);
	CHECK_EQ_INT(r.first, 1);
	CHECK_EQ_INT(r.new_calls, 0);
	for (int i = 0; i < 2; i++) {
		close(r.a[i]);
		close(r.b[i]);
	}
	ev_free(r.ev);
}

static int order[16], norder;

static void record_cb(ev_loop *ev, struct ev_timer *t, void *arg)
{
	order[norder++] = (int)(long)arg;
	if ((long)arg == 30)
		ev_stop(ev);
}

UNIT_TEST(timers_fire_in_order)
{
	char err[128];
	ev_loop *ev = ev_new(err, sizeof(err));
	struct ev_timer t10, t20, t30, tstop;

	ev_timer_init(&t30, record_cb, (void *)30L);
	ev_timer_init(&t10, record_cb, (void *)10L);
	ev_timer_init(&t20, record_cb, (void *)20L);
	ev_timer_init(&tstop, record_cb, (void *)99L);
	norder = 0;
	CHECK(!ev_timer_active(&t10));
	ev_timer_start(ev, &t30, 30);
	ev_timer_start(ev, &tstop, 5);
	ev_timer_start(ev, &t10, 10);
	ev_timer_start(ev, &t20, 1000);
	ev_timer_start(ev, &t20, 20);   /* restart: moves earlier */
	CHECK(ev_timer_active(&t10) && ev_timer_active(&tstop));
	ev_timer_stop(ev, &tstop);
	ev_timer_stop(ev, &tstop);
	CHECK(!ev_timer_active(&tstop));
	CHECK(ev_run(ev) == 0);
	CHECK(ev_stopped(ev));
	CHECK_EQ_INT(norder, 3);
	CHECK(order[0] == 10 && order[1] == 20 && order[2] == 30);
	CHECK(!ev_timer_active(&t10) && !ev_timer_active(&t30));
	ev_free(ev);
}

#define NT 300
static struct ev_timer many[NT];
static uint64_t fired_when[NT];
static int nfired;

static void heap_cb(ev_loop *ev, struct ev_timer *t, void *arg)
{
	fired_when[nfired++] = t->when;
}

UNIT_TEST(timer_heap_under_churn)
{
	char err[128];
	ev_loop *ev = ev_new(err, sizeof(err));
	int stopped = 0;

	srand(7);
	nfired = 0;
	for (int i = 0; i < NT; i++) {
		ev_timer_init(&many[i], heap_cb, NULL);
		ev_timer_start(ev, &many[i], (uint64_t)(rand() % 4));
	}
	for (int i = 0; i < NT; i += 3) {
		ev_timer_stop(ev, &many[(i * 7) % NT]);
		stopped++;
	}
	for (int i = 0; i < NT; i += 5)         /* restart some, stopped or not */
		if (!ev_timer_active(&many[i])) {
			ev_timer_start(ev, &many[i], (uint64_t)(rand() % 4));
			stopped--;
		}
	for (int guard = 0; nfired < NT - stopped && guard < 10000; guard++)
		ev_run_once(ev, 10);
	CHECK_EQ_INT(nfired, NT - stopped);
	for (int i = 1; i < nfired; i++)
		CHECK(fired_when[i - 1] <= fired_when[i]);
	ev_free(ev);
}

static struct ev_timer spin;

static void spin_cb(ev_loop *ev, struct ev_timer *t, void *arg)
{
	(*(int *)arg)++;
	ev_timer_start(ev, t, 0);
}

UNIT_TEST(zero_ms_restart_does_not_spin)
{
	char err[128];
	ev_loop *ev = ev_new(err, sizeof(err));
	int n = 0;

	ev_timer_init(&spin, spin_cb, &n);
	ev_timer_start(ev, &spin, 0);
	CHECK(ev_run_once(ev, 0) == 1 && n == 1);
	CHECK(ev_timer_active(&spin));
	ev_free(ev);
	CHECK(!ev_timer_active(&spin));
}

static int got_sig;

static void sig_cb(ev_loop *ev, int signo, void *arg)
{
	got_sig = signo;
	ev_stop(ev);
}

UNIT_TEST(signals_arrive_as_events)
{
	char err[128];
	ev_loop *ev = ev_new(err, sizeof(err));

	CHECK(ev_signal_add(ev, SIGKILL, sig_cb, NULL) == -EINVAL);
	CHECK(ev_signal_add(ev, SIGUSR1, sig_cb, NULL) == 0);
	CHECK(ev_signal_add(ev, SIGUSR2, sig_cb, NULL) == 0);
	got_sig = 0;
	raise(SIGUSR2);
	CHECK(ev_run(ev) == 0);
	CHECK_EQ_INT(got_sig, SIGUSR2);
	raise(SIGUSR1);
	CHECK(ev_run(ev) == 0);
	CHECK_EQ_INT(got_sig, SIGUSR1);
	ev_free(ev);
}

UNIT_TEST(two_loops_are_independent)
{
	char err[128];
	ev_loop *a = ev_new(err, sizeof(err)), *b = ev_new(err, sizeof(err));
	int p[2], na = 0, nb = 0;

	CHECK(pipe(p) == 0 && write(p[1], "x", 1) == 1);
	CHECK(ev_fd_add(a, p[0], EV_READ, count_cb, &na) == 0);
	CHECK(ev_fd_add(b, p[0], 0, count_cb, &nb) == 0);
	ev_stop(a);
	CHECK(ev_stopped(a) && !ev_stopped(b));
	CHECK(ev_run_once(b, 0) == 0 && nb == 0);
	CHECK(ev_run_once(a, 1000) == 1 && na == 1);
	ev_free(a);
	CHECK(ev_fd_mod(b, p[0], EV_READ) == 0);
	CHECK(ev_run_once(b, 1000) == 1 && nb == 1);
	ev_free(b);
	close(p[0]);
	close(p[1]);
}

UNIT_MAIN()
