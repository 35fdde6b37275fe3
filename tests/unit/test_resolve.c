/*
 * test_resolve.c - unit tests for the stub resolver's flow control: the
 * RTT estimator and RTO (RFC 6298), the congestion window (slow start,
 * additive increase, one halving per loss event, Karn's rule), loss
 * detection by later answers (RACK), a server that is down, and the
 * timer heap.  No clock and no network: the
 * functions of resolve_flow.c are driven step by step.
 */
#define _GNU_SOURCE
#include "unit.h"
#include "dnsbl/resolve_int.h"

#include <stdlib.h>

/* n queries out, all answered after rtt_us; returns their seqs' end. */
static void round_trip(struct rs_flow *f, unsigned n, int64_t rtt_us)
{
	for (unsigned i = 0; i < n; i++)
		rs_flow_sent(f);
	for (unsigned i = 0; i < n; i++)
		rs_flow_answer(f, true, rtt_us, 1000);
}

UNIT_TEST(flow_starts_small_and_capped_by_the_maximum)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	CHECK_EQ_INT(f.cwnd, RS_CWND_INIT);
	CHECK_EQ_INT(rs_flow_room(&f), RS_CWND_INIT);
	rs_flow_init(&f, 3);
	CHECK_EQ_INT(f.cwnd, 3);
	rs_flow_init(&f, 0);
	CHECK_EQ_INT(f.cwnd, 1);
	/* before any sample: the initial RTO, capped by the per-try timeout */
	rs_flow_init(&f, 1000);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 2000), RS_RTO_INIT_MS);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 300), 300);
}

UNIT_TEST(flow_slow_start_doubles_per_round_trip)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	round_trip(&f, f.cwnd, 500);
	CHECK_EQ_INT(f.cwnd, 2 * RS_CWND_INIT);
	round_trip(&f, f.cwnd, 500);
	CHECK_EQ_INT(f.cwnd, 4 * RS_CWND_INIT);
	CHECK_EQ_INT(f.inflight, 0);
	/* never past the maximum */
	for (int i = 0; i < 20; i++)
		round_trip(&f, f.cwnd, 500);
	CHECK_EQ_INT(f.cwnd, 1000);
	CHECK_EQ_INT(rs_flow_room(&f), 1000);
}

UNIT_TEST(flow_does_not_grow_when_the_window_is_not_used)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	/* one query at a time, as a quiet policy daemon sends them */
	for (int i = 0; i < 100; i++)
		round_trip(&f, 1, 500);
	CHECK_EQ_INT(f.cwnd, RS_CWND_INIT);
}

UNIT_TEST(flow_halves_once_per_loss_event)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	for (int i = 0; i < 3; i++)
		round_trip(&f, f.cwnd, 500);
	CHECK_EQ_INT(f.cwnd, 64);
	/* a window of 64 goes out; the server's buffer drops 20 of them */
	uint64_t seq[64];
	for (int i = 0; i < 64; i++)
		seq[i] = rs_flow_sent(&f);
	CHECK_EQ_INT(rs_flow_room(&f), 0);
	for (int i = 0; i < 44; i++)
		rs_flow_answer(&f, true, 500, 1000);
	CHECK_EQ_INT(f.cwnd, 108);	/* slow start went on meanwhile */
	for (int i = 44; i < 64; i++)
		rs_flow_loss(&f, seq[i], false);
	/* one overflow, one decrease: not twenty */
	CHECK_EQ_INT(f.cwnd, 54);
	CHECK_EQ_INT(f.ssthresh, 54);
	CHECK_EQ_INT(f.inflight, 0);
	CHECK_EQ_INT(f.backoff, 1);
	/* a loss of a query sent after the decrease is a new event */
	uint64_t s = rs_flow_sent(&f);
	rs_flow_loss(&f, s, false);
	CHECK_EQ_INT(f.cwnd, 27);
	CHECK_EQ_INT(f.backoff, 2);
	/* never below one query */
	for (int i = 0; i < 20; i++)
		rs_flow_loss(&f, rs_flow_sent(&f), false);
	CHECK_EQ_INT(f.cwnd, 1);
	CHECK_EQ_INT(f.backoff, RS_BACKOFF_MAX);
	CHECK_EQ_INT(rs_flow_room(&f), 1);
}

UNIT_TEST(flow_undoes_a_decrease_that_only_rtos_caused)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	for (int i = 0; i < 3; i++)
		round_trip(&f, f.cwnd, 500);
	CHECK_EQ_INT(f.cwnd, 64);
	/* the server stalls: two queries' RTOs run out, then both answer */
	uint64_t a = rs_flow_sent(&f), b = rs_flow_sent(&f);
	rs_flow_loss(&f, a, false);
	rs_flow_loss(&f, b, false);
	CHECK_EQ_INT(f.cwnd, 32);
	rs_flow_spurious(&f, a);
	CHECK_EQ_INT(f.cwnd, 64);
	CHECK_EQ_INT(f.ssthresh, 1000);
	CHECK_EQ_INT(f.backoff, 0);
	rs_flow_spurious(&f, b);		/* once per event */
	CHECK_EQ_INT(f.cwnd, 64);
	/* a certain loss in the event: nothing to undo */
	a = rs_flow_sent(&f);
	b = rs_flow_sent(&f);
	rs_flow_loss(&f, a, false);
	rs_flow_loss(&f, b, true);
	rs_flow_spurious(&f, a);
	CHECK_EQ_INT(f.cwnd, 32);
	/* a loss found by a later answer: never undone */
	round_trip(&f, 16, 500);
	a = rs_flow_sent(&f);
	unsigned w = f.cwnd;
	unsigned bo = f.backoff;
	rs_flow_loss(&f, a, true);
	rs_flow_spurious(&f, a);
	CHECK_EQ_INT(f.cwnd, w / 2);
	CHECK_EQ_INT(f.backoff, bo);		/* no RTO ran out */
}

UNIT_TEST(flow_additive_increase_above_ssthresh)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	f.cwnd = 40;
	f.ssthresh = 40;
	/* one more query per window of answers */
	round_trip(&f, 40, 500);
	CHECK_EQ_INT(f.cwnd, 41);
	round_trip(&f, 41, 500);
	CHECK_EQ_INT(f.cwnd, 42);
	round_trip(&f, 20, 500);
	CHECK_EQ_INT(f.cwnd, 42);
}

UNIT_TEST(rtt_estimator_follows_rfc_6298)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	rs_flow_sent(&f);
	rs_flow_answer(&f, true, 100000, 1000);	/* 100 ms */
	CHECK(f.has_rtt);
	CHECK_EQ_INT(f.srtt_us, 100000);
	CHECK_EQ_INT(f.rttvar_us, 50000);
	/* 100 + 4 * 50 */
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 2000), 300);
	rs_flow_sent(&f);
	rs_flow_answer(&f, true, 200000, 1000);
	/* rttvar = 3/4 50 + 1/4 100 = 62.5; srtt = 7/8 100 + 1/8 200 = 112.5 */
	CHECK_EQ_INT(f.rttvar_us, 62500);
	CHECK_EQ_INT(f.srtt_us, 112500);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 2000), 363);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 250), 250);
	/* a fast server: the floor */
	rs_flow_init(&f, 1000);
	round_trip(&f, 1, 200);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 2000), RS_RTO_MIN_MS);
}

UNIT_TEST(rto_backs_off_until_the_next_sample_karn)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	round_trip(&f, 1, 200);
	rs_flow_loss(&f, rs_flow_sent(&f), false);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 2000), 2 * RS_RTO_MIN_MS);
	rs_flow_loss(&f, rs_flow_sent(&f), false);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 2000), 4 * RS_RTO_MIN_MS);
	/* the answer to a query sent twice gives no sample: still backed off */
	rs_flow_sent(&f);
	rs_flow_answer(&f, true, -1, 1000);
	CHECK_EQ_INT(f.srtt_us, 200);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 2000), 4 * RS_RTO_MIN_MS);
	/* a late answer to a query already taken as lost is not in flight */
	unsigned before = f.inflight, cwnd = f.cwnd;
	rs_flow_answer(&f, false, -1, 1000);
	CHECK_EQ_INT(f.inflight, before);
	CHECK_EQ_INT(f.cwnd, cwnd);
	/* a clean sample ends the backoff */
	round_trip(&f, 1, 200);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 2000), RS_RTO_MIN_MS);
	/* capped by the per-try timeout however far it backed off */
	for (int i = 0; i < 10; i++)
		rs_flow_loss(&f, rs_flow_sent(&f), false);
	CHECK_EQ_INT(rs_flow_rto_ms(&f, 2000), 2000);
}

UNIT_TEST(loss_detected_by_a_later_answer_rack)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	/* nothing is judged before an RTT sample */
	CHECK(!rs_flow_lost(&f, 2000000, 1000, 1000000));
	round_trip(&f, 1, 8000);		/* srtt 8 ms: reordering slack 2 ms */
	/* sent at 100 ms and 110 ms on one socket; the later one answered */
	CHECK(!rs_flow_lost(&f, 110000, 110000, 200000));	/* not before it */
	CHECK(!rs_flow_lost(&f, 110000, 100000, 109999));	/* srtt + slack */
	CHECK(!rs_flow_lost(&f, 110000, 100000, 110000));
	CHECK(rs_flow_lost(&f, 110000, 100000, 110001));
	/* nothing answered after it: only the RTO tells */
	CHECK(!rs_flow_lost(&f, 90000, 100000, 900000));
	/* a fast server: at least 1 ms of slack */
	rs_flow_init(&f, 1000);
	round_trip(&f, 1, 100);
	CHECK(!rs_flow_lost(&f, 2000, 1000, 2100));
	CHECK(rs_flow_lost(&f, 2000, 1000, 2101));
}

UNIT_TEST(down_server_gets_one_probe_and_comes_back_small)
{
	struct rs_flow f;
	rs_flow_init(&f, 1000);
	for (int i = 0; i < 5; i++)
		round_trip(&f, f.cwnd, 500);
	f.down = true;
	CHECK_EQ_INT(rs_flow_room(&f), 1);
	rs_flow_sent(&f);
	CHECK_EQ_INT(rs_flow_room(&f), 0);
	rs_flow_answer(&f, true, 500, 5000);
	CHECK(!f.down);
	CHECK_EQ_INT(f.last_answer, 5000);
	CHECK_EQ_INT(f.cwnd, RS_CWND_INIT);
}

UNIT_TEST(timer_heap_orders_by_deadline)
{
	struct resolver *rs = calloc(1, sizeof(*rs));
	enum { N = 1000 };
	struct rs_query *q = calloc(N, sizeof(*q));
	unsigned x = 12345;
	for (int i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		rs_timer_set(rs, &q[i], x % 5000);
	}
	/* move some, take some out */
	for (int i = 0; i < N; i += 3)
		rs_timer_set(rs, &q[i], (uint64_t)(i * 7) % 5000);
	for (int i = 1; i < N; i += 5)
		rs_timer_del(rs, &q[i]);
	rs_timer_del(rs, &q[1]);	/* not armed: nothing */
	CHECK_EQ_INT(rs->nheap, N - N / 5);
	uint64_t last = 0;
	size_t n = 0;
	bool sorted = true;
	while (rs->nheap) {
		struct rs_query *top = rs->heap[0];
		if (top->deadline < last)
			sorted = false;
		last = top->deadline;
		rs_timer_del(rs, top);
		CHECK(top->hidx == 0);
		n++;
	}
	CHECK(sorted);
	CHECK_EQ_INT(n, N - N / 5);
	free(rs->heap);
	free(q);
	free(rs);
}

UNIT_MAIN()
