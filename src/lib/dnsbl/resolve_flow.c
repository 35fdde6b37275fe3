/*
 * resolve_flow.c - the stub resolver's flow control and timers.
 *
 * Each server has a congestion window, as TCP has (RFC 5681, 6298): it
 * starts at RS_CWND_INIT queries, grows by one per answer in slow start
 * (doubling every round trip) and by one per window of answers above
 * ssthresh; a lost query halves it, once per loss event (the
 * losses of queries sent before that decrease are the same overflow).
 * The window grows only while it is used (half of it was in flight
 * since the server was last idle), so a quiet policy daemon does not
 * earn a window it never tried.  The retransmission timeout is SRTT + 4 RTTVAR from answers
 * to queries sent once (Karn's rule), at least RS_RTO_MIN_MS, doubled per
 * loss event until the next sample, at most the per-try timeout.  A
 * query is also taken as lost without waiting for the RTO when a query
 * sent after it on the same socket has been answered and a round trip
 * and a quarter have passed (RACK, RFC 8985: a server answers one
 * socket's queries in order; across sockets the reads are not).  A
 * decrease that RTOs alone caused is undone when one of those queries is
 * answered after all (Eifel, RFC 3522): a stall is not a loss.
 * Nothing here reads a clock: callers pass the times, and the unit test
 * drives it step by step.
 *
 * The timers of queries in flight or waiting to be sent again are a
 * binary min-heap on the deadline: with an RTO per server and backoff
 * per query, deadlines are not in send order any more.
 *
 * SECURITY: no input from the network beyond the time an answer took;
 * the arithmetic is clamped (window in [1, max], RTO in [floor, cap]).
 */
#define _GNU_SOURCE
#include "dnsbl/resolve_int.h"
#include "base/util.h"

#include <stdlib.h>

void rs_flow_init(struct rs_flow *f, unsigned max)
{
	*f = (struct rs_flow){ 0 };
	f->max = max ? max : 1;
	f->cwnd = RS_CWND_INIT < f->max ? RS_CWND_INIT : f->max;
	f->ssthresh = f->max;
}

unsigned rs_flow_room(const struct rs_flow *f)
{
	if (f->down)
		return f->inflight ? 0 : 1;
	return f->cwnd > f->inflight ? f->cwnd - f->inflight : 0;
}

uint64_t rs_flow_sent(struct rs_flow *f)
{
	if (++f->inflight > f->peak)
		f->peak = f->inflight;
	return f->seq++;
}

/* RFC 6298 2.2 and 2.3, in microseconds. */
static void rtt_sample(struct rs_flow *f, uint32_t r)
{
	if (!f->has_rtt) {
		f->srtt_us = r;
		f->rttvar_us = r / 2;
		f->has_rtt = true;
		return;
	}
	uint32_t d = f->srtt_us > r ? f->srtt_us - r : r - f->srtt_us;
	f->rttvar_us = f->rttvar_us - f->rttvar_us / 4 + d / 4;
	f->srtt_us = f->srtt_us - f->srtt_us / 8 + r / 8;
}

void rs_flow_answer(struct rs_flow *f, bool counted, int64_t rtt_us, uint64_t now_ms)
{
	f->last_answer = now_ms ? now_ms : 1;
	if (f->down) {
		/* back: start again from a small window */
		f->down = false;
		f->cwnd = RS_CWND_INIT < f->max ? RS_CWND_INIT : f->max;
		f->acked = 0;
	}
	if (rtt_us >= 0) {
		rtt_sample(f, rtt_us > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)rtt_us);
		f->backoff = 0;
	}
	if (!counted)
		return;
	bool used = f->peak * 2 >= f->cwnd;
	if (f->inflight)
		f->inflight--;
	if (!f->inflight)
		f->peak = 0;
	if (!used || f->cwnd >= f->max)
		return;
	if (f->cwnd < f->ssthresh) {
		f->cwnd++;
	} else if (++f->acked >= f->cwnd) {
		f->acked = 0;
		f->cwnd++;
	}
}

bool rs_flow_lost(const struct rs_flow *f, uint64_t rack_us, uint64_t sent_us,
		  uint64_t now_us)
{
	if (!f->has_rtt || sent_us >= rack_us)
		return false;
	uint64_t reo = f->srtt_us / 4 < 1000 ? 1000 : f->srtt_us / 4;
	return now_us > sent_us && now_us - sent_us > f->srtt_us + reo;
}

void rs_flow_loss(struct rs_flow *f, uint64_t seq, bool rack)
{
	if (f->inflight && !--f->inflight)
		f->peak = 0;
	if (seq < f->recover) {		/* sent before the last decrease */
		if (rack)
			f->undo_cwnd = 0;	/* a real loss in the event */
		return;
	}
	f->undo_cwnd = rack ? 0 : f->cwnd;
	f->undo_ssthresh = f->ssthresh;
	f->ssthresh = f->cwnd / 2 > 2 ? f->cwnd / 2 : 2;
	f->cwnd = f->cwnd / 2 > 1 ? f->cwnd / 2 : 1;
	f->acked = 0;
	f->recover = f->seq;
	/* only a timeout backs the RTO off; a loss a later answer showed
	 * says nothing against the round trip (TCP's fast retransmit) */
	if (!rack && f->backoff < RS_BACKOFF_MAX)
		f->backoff++;
}

void rs_flow_spurious(struct rs_flow *f, uint64_t seq)
{
	if (!f->undo_cwnd || seq >= f->recover)
		return;
	if (f->cwnd < f->undo_cwnd)
		f->cwnd = f->undo_cwnd;
	if (f->ssthresh < f->undo_ssthresh)
		f->ssthresh = f->undo_ssthresh;
	if (f->backoff)
		f->backoff--;
	f->undo_cwnd = 0;
}

void rs_flow_forget(struct rs_flow *f)
{
	if (f->inflight && !--f->inflight)
		f->peak = 0;
}

unsigned rs_flow_rto_ms(const struct rs_flow *f, unsigned cap_ms)
{
	uint64_t rto = RS_RTO_INIT_MS;
	if (f->has_rtt)
		rto = ((uint64_t)f->srtt_us + 4 * (uint64_t)f->rttvar_us + 999) / 1000;
	if (rto < RS_RTO_MIN_MS)
		rto = RS_RTO_MIN_MS;
	rto <<= f->backoff;
	return rto < cap_ms ? (unsigned)rto : cap_ms;
}

/* ---- the timer heap ---- */

static bool before(const struct rs_query *a, const struct rs_query *b)
{
	return a->deadline < b->deadline;
}

static void heap_place(struct resolver *rs, size_t i, struct rs_query *q)
{
	rs->heap[i] = q;
	q->hidx = i + 1;
}

static void heap_up(struct resolver *rs, size_t i)
{
	struct rs_query *q = rs->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(q, rs->heap[p]))
			break;
		heap_place(rs, i, rs->heap[p]);
		i = p;
	}
	heap_place(rs, i, q);
}

static void heap_down(struct resolver *rs, size_t i)
{
	struct rs_query *q = rs->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= rs->nheap)
			break;
		if (c + 1 < rs->nheap && before(rs->heap[c + 1], rs->heap[c]))
			c++;
		if (!before(rs->heap[c], q))
			break;
		heap_place(rs, i, rs->heap[c]);
		i = c;
	}
	heap_place(rs, i, q);
}

void rs_timer_set(struct resolver *rs, struct rs_query *q, uint64_t deadline)
{
	if (q->hidx) {
		uint64_t old = q->deadline;
		q->deadline = deadline;
		if (deadline < old)
			heap_up(rs, q->hidx - 1);
		else
			heap_down(rs, q->hidx - 1);
		return;
	}
	if (rs->nheap == rs->capheap) {
		size_t cap = rs->capheap ? rs->capheap * 2 : 256;
		rs->heap = xreallocarray(rs->heap, cap, sizeof(*rs->heap));
		rs->capheap = cap;
	}
	q->deadline = deadline;
	rs->heap[rs->nheap++] = q;
	heap_up(rs, rs->nheap - 1);
}

void rs_timer_del(struct resolver *rs, struct rs_query *q)
{
	if (!q->hidx)
		return;
	size_t i = q->hidx - 1;
	q->hidx = 0;
	struct rs_query *last = rs->heap[--rs->nheap];
	if (last == q)
		return;
	heap_place(rs, i, last);
	heap_up(rs, i);
	heap_down(rs, last->hidx - 1);
}
