/*
 * evloop.c - epoll, a timer heap and a signalfd; see evloop.h.
 *
 * Each watched fd has a slot in an array indexed by its number; the
 * epoll event carries the number and the slot's generation, so an event
 * fetched before ev_fd_del (of this fd, or of one that got the same
 * number since) is recognised as stale and dropped, without a list of
 * dead entries to free later.
 *
 * SECURITY: no input of its own; callbacks read the network.  Memory
 * grows only with the highest fd number and the number of live timers.
 */
#define _GNU_SOURCE
#include "base/evloop.h"
#include "base/util.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define EV_BATCH 64
#define EV_NSIG 65

struct fdslot {
	ev_fd_cb *cb;
	void *arg;
	uint32_t gen;           /* bumped on every add */
	unsigned events;
	int used;
};

struct ev_loop {
	int ep, sfd;
	int stop;
	uint32_t gen;
	uint64_t now;
	struct fdslot *fds;
	size_t nfds;
	struct ev_timer **heap; /* heap[0] expires first */
	size_t nheap, capheap;
	sigset_t sigs;
	ev_signal_cb *scb[EV_NSIG];
	void *sarg[EV_NSIG];
};

ev_loop *ev_new(char *err, size_t el)
{
	ev_loop *ev = calloc(1, sizeof(*ev));

	if (!ev) {
		snprintf(err, el, "event loop: %s", strerror(ENOMEM));
		return NULL;
	}
	ev->sfd = -1;
	sigemptyset(&ev->sigs);
	ev->ep = epoll_create1(EPOLL_CLOEXEC);
	if (ev->ep < 0) {
		snprintf(err, el, "epoll: %s", strerror(errno));
		free(ev);
		return NULL;
	}
	ev->now = now_ms();
	return ev;
}

void ev_free(ev_loop *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->nheap; i++)
		ev->heap[i]->slot = 0;
	close(ev->ep);
	if (ev->sfd >= 0)
		close(ev->sfd);
	free(ev->fds);
	free(ev->heap);
	free(ev);
}

/* -- descriptors ------------------------------------------------------ */

static uint32_t to_epoll(unsigned events)
{
	return ((events & EV_READ) ? EPOLLIN : 0) | ((events & EV_WRITE) ? EPOLLOUT : 0);
}

static int ctl(ev_loop *ev, int op, int fd, const struct fdslot *s)
{
	struct epoll_event e = { .events = to_epoll(s->events),
				 .data.u64 = (uint64_t)s->gen << 32 | (uint32_t)fd };

	return epoll_ctl(ev->ep, op, fd, &e) == 0 ? 0 : -errno;
}

static struct fdslot *slot_of(ev_loop *ev, int fd)
{
	if (fd < 0 || (size_t)fd >= ev->nfds || !ev->fds[fd].used)
		return NULL;
	return &ev->fds[fd];
}

int ev_fd_add(ev_loop *ev, int fd, unsigned events, ev_fd_cb *cb, void *arg)
{
	struct fdslot *s;
	int rc;

	if (fd < 0)
		return -EBADF;
	if ((size_t)fd >= ev->nfds) {
		size_t n = (size_t)fd + 1 > ev->nfds * 2 ? (size_t)fd + 1 : ev->nfds * 2;
		struct fdslot *p = realloc(ev->fds, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		memset(p + ev->nfds, 0, (n - ev->nfds) * sizeof(*p));
		ev->fds = p;
		ev->nfds = n;
	}
	s = &ev->fds[fd];
	if (s->used)
		return -EEXIST;
	*s = (struct fdslot){ cb, arg, ++ev->gen, events, 1 };
	if ((rc = ctl(ev, EPOLL_CTL_ADD, fd, s)))
		s->used = 0;
	return rc;
}

int ev_fd_mod(ev_loop *ev, int fd, unsigned events)
{
	struct fdslot *s = slot_of(ev, fd);

	if (!s)
		return -ENOENT;
	if (s->events == events)
		return 0;
	s->events = events;
	return ctl(ev, EPOLL_CTL_MOD, fd, s);
}

int ev_fd_del(ev_loop *ev, int fd)
{
	struct fdslot *s = slot_of(ev, fd);

	if (!s)
		return -ENOENT;
	s->used = 0;
	epoll_ctl(ev->ep, EPOLL_CTL_DEL, fd, NULL);
	return 0;
}

/* -- timers: a binary min-heap of pointers ---------------------------- */

static void heap_set(ev_loop *ev, size_t i, struct ev_timer *t)
{
	ev->heap[i] = t;
	t->slot = i + 1;
}

static void sift_up(ev_loop *ev, size_t i)
{
	struct ev_timer *t = ev->heap[i];

	while (i > 0 && ev->heap[(i - 1) / 2]->when > t->when) {
		heap_set(ev, i, ev->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(ev, i, t);
}

static void sift_down(ev_loop *ev, size_t i)
{
	struct ev_timer *t = ev->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= ev->nheap)
			break;
		if (c + 1 < ev->nheap && ev->heap[c + 1]->when < ev->heap[c]->when)
			c++;
		if (ev->heap[c]->when >= t->when)
			break;
		heap_set(ev, i, ev->heap[c]);
		i = c;
	}
	heap_set(ev, i, t);
}

void ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg)
{
	*t = (struct ev_timer){ 0, 0, cb, arg };
}

int ev_timer_active(const struct ev_timer *t)
{
	return t->slot != 0;
}

void ev_timer_stop(ev_loop *ev, struct ev_timer *t)
{
	size_t i;

	if (!t->slot)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (i == --ev->nheap)
		return;
	heap_set(ev, i, ev->heap[ev->nheap]);
	if (i > 0 && ev->heap[(i - 1) / 2]->when > ev->heap[i]->when)
		sift_up(ev, i);
	else
		sift_down(ev, i);
}

int ev_timer_start(ev_loop *ev, struct ev_timer *t, uint64_t ms)
{
	ev_timer_stop(ev, t);
	if (ev->nheap == ev->capheap) {
		size_t n = ev->capheap ? ev->capheap * 2 : 16;
		struct ev_timer **p = reallocarray(ev->heap, n, sizeof(*p));

		if (!p)
			return -ENOMEM;
		ev->heap = p;
		ev->capheap = n;
	}
	t->when = now_ms() + ms;
	ev->heap[ev->nheap++] = t;
	sift_up(ev, ev->nheap - 1);
	return 0;
}

/* Run the timers due at ev->now: at most as many as were running when
 * the round began, so a callback that restarts its timer for 0 ms
 * cannot keep the loop here. */
static int run_timers(ev_loop *ev)
{
	size_t budget = ev->nheap;
	int ran = 0;

	while (budget-- && ev->nheap && ev->heap[0]->when <= ev->now) {
		struct ev_timer *t = ev->heap[0];

		ev_timer_stop(ev, t);
		t->cb(ev, t, t->arg);
		ran++;
	}
	return ran;
}

/* -- signals ---------------------------------------------------------- */

static void on_signalfd(ev_loop *ev, int fd, unsigned events, void *arg)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo < EV_NSIG && ev->scb[si.ssi_signo])
			ev->scb[si.ssi_signo](ev, (int)si.ssi_signo, ev->sarg[si.ssi_signo]);
}

int ev_signal_add(ev_loop *ev, int signo, ev_signal_cb *cb, void *arg)
{
	sigset_t one;
	int fd, rc;

	if (signo <= 0 || signo >= EV_NSIG || signo == SIGKILL || signo == SIGSTOP)
		return -EINVAL;
	sigemptyset(&one);
	sigaddset(&one, signo);
	if ((rc = pthread_sigmask(SIG_BLOCK, &one, NULL)))
		return -rc;
	sigaddset(&ev->sigs, signo);
	fd = signalfd(ev->sfd, &ev->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ev->sfd < 0) {
		ev->sfd = fd;
		if ((rc = ev_fd_add(ev, fd, EV_READ, on_signalfd, NULL)))
			return rc;
	}
	ev->scb[signo] = cb;
	ev->sarg[signo] = arg;
	return 0;
}

/* -- the loop --------------------------------------------------------- */

static int wait_ms(const ev_loop *ev, int max_ms)
{
	uint64_t d;

	if (!ev->nheap)
		return max_ms;
	d = ev->heap[0]->when > ev->now ? ev->heap[0]->when - ev->now : 0;
	if (max_ms >= 0 && d > (uint64_t)max_ms)
		return max_ms;
	return d > INT_MAX ? INT_MAX : (int)d;
}

static void dispatch(ev_loop *ev, const struct epoll_event *e)
{
	int fd = (int)(uint32_t)e->data.u64;
	struct fdslot *s = slot_of(ev, fd);
	unsigned got = 0;

	if (!s || s->gen != (uint32_t)(e->data.u64 >> 32))
		return;         /* deleted after epoll_wait fetched it */
	if (e->events & EPOLLIN)
		got |= EV_READ;
	if (e->events & EPOLLOUT)
		got |= EV_WRITE;
	if (e->events & (EPOLLERR | EPOLLHUP))
		got |= EV_ERROR;
	s->cb(ev, fd, got, s->arg);
}

int ev_run_once(ev_loop *ev, int max_ms)
{
	struct epoll_event evs[EV_BATCH];
	int n;

	ev->now = now_ms();
	n = epoll_wait(ev->ep, evs, EV_BATCH, wait_ms(ev, max_ms));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++)
		dispatch(ev, &evs[i]);
	ev->now = now_ms();
	return n + run_timers(ev);
}

int ev_run(ev_loop *ev)
{
	ev->stop = 0;
	while (!ev->stop) {
		int rc = ev_run_once(ev, -1);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void ev_stop(ev_loop *ev)
{
	ev->stop = 1;
}

int ev_stopped(const ev_loop *ev)
{
	return ev->stop;
}

uint64_t ev_now(const ev_loop *ev)
{
	return ev->now;
}
