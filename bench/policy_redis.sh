#!/bin/bash
# bench/policy_redis.sh - rblkit policy with outbound_store = redis://...
# (issue 15) against the local store, same machine, same run.
#
#   bench/policy_redis.sh [--duration S] [--conns N] [--rt] [--write] [--keep]
#
# What runs:
#   - redis-server (Debian's) on a free loopback port, no persistence;
#   - rblkit policy with the local store, then with the Redis store (no
#     blocklists, so that inbound requests are answered at once and the
#     difference is the store; limits high enough that nothing is refused:
#     every outbound request is checked and, at END-OF-MESSAGE, counted);
#   - bench/policy_load.c: the mix of bench/policy.sh (30 % outbound:
#     200 SASL users), saturated (closed loop, --conns connections) and
#     paced at 5,000 requests/s (p99 at that load);
#   - three daemons on one Redis, 100 messages/hour for one user, 300
#     messages sent at once, 100 over each daemon: how many accepted;
#   - bench/policy_baseline_sim.c: the baselines over two simulated weeks
#     (1,000 honest senders with daily cycles, a takeover).
# --rt: daemons, Redis and load generator under SCHED_FIFO (see policy.sh).
# --write: the results into bench/RESULTS.md (its policy_redis.sh section).
set -euo pipefail
set -m

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
RBLKIT=${RBLKIT:-$REPO/rblkit}
DURATION=10 CONNS=100 WRITE=0 KEEP=0 RT=""

while [ $# -gt 0 ]; do
	case "$1" in
	--duration) DURATION=$2; shift 2 ;;
	--conns) CONNS=$2; shift 2 ;;
	--write) WRITE=1; shift ;;
	--rt) RT="chrt -f 1"; shift ;;
	--keep) KEEP=1; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ -x "$RBLKIT" ] || { echo "policy_redis.sh: $RBLKIT missing: run make" >&2; exit 2; }
[ -f "$REPO/build/librblkit.a" ] || { echo "policy_redis.sh: build/librblkit.a missing: run make" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "policy_redis.sh: apt-get install redis-server" >&2; exit 2; }

W=$(mktemp -d /tmp/rblkit-bench-redis.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.3
	if [ "$KEEP" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
	for _ in $(seq 100); do
		if /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "policy_redis.sh: nothing listens on port $1" >&2; return 1
}
load() { $RT taskset -c 1 "$W/policy_load" -c "$CONNS" "$@"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

echo "== building the load generator and the simulation"
cc -O2 -Wall -Wextra -o "$W/policy_load" "$BENCH/policy_load.c"
cc -O2 -Wall -Wextra -I"$REPO/src/lib" -o "$W/sim" "$BENCH/policy_baseline_sim.c" \
	"$REPO/build/librblkit.a" -lsodium -pthread -lm

RP=$(free_port)
$RT redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$W" --logfile "$W/redis.log" &
PIDS+=($!)
wait_port "$RP"

# daemon NAME STORE [LIMITS]: start rblkit policy; echoes its port
daemon() {
	local port; port=$(free_port)
	mkdir -p "$W/$1"
	cat > "$W/$1.conf" <<C
listen = 127.0.0.1:$port
outbound_limits = ${3:-100000 messages/hour, 1000000 recipients/day}
outbound_store = $2
state_dir = $W/$1
C
	$RT taskset -c 0 "$RBLKIT" policy --config "$W/$1.conf" > "$W/$1.log" 2>&1 &
	PIDS+=($!)
	wait_port "$port"
	for _ in $(seq 50); do
		[ "$2" = local ] || grep -q "counts are shared" "$W/$1.log" && break
		sleep 0.1
	done
	echo "$port"
}

declare -A SAT PACED
for store in local redis; do
	url=local
	[ $store = redis ] && url="redis://127.0.0.1:$RP/0"
	echo "== $store store"
	port=$(daemon "$store" "$url")
	SAT[$store]=$(load -d "$DURATION" "127.0.0.1:$port")
	echo "saturated:  ${SAT[$store]}"
	PACED[$store]=$(load -W -d "$DURATION" -r 5000 "127.0.0.1:$port")
	echo "paced 5000/s: ${PACED[$store]}"
	"$RBLKIT" policy status --config "$W/$store.conf" 1 | grep -E "outbound store|users counted" || true
done

echo "== three daemons, one Redis, 100 messages/hour for one user"
redis-cli -p "$RP" FLUSHALL >/dev/null
PORTS=()
for i in 1 2 3; do PORTS+=("$(daemon "three$i" "redis://127.0.0.1:$RP/0" "100 messages/hour")"); done
EXACT=$(/usr/bin/python3 - "${PORTS[@]}" <<'PY'
import socket, sys, threading
res = []
lock = threading.Lock()
def run(port):
    s = socket.create_connection(("127.0.0.1", int(port)))
    f = s.makefile("rwb")
    mine = []
    for _ in range(100):
        f.write(b"request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\n"
                b"sasl_username=burst@bench.test\nclient_address=192.0.2.9\n"
                b"recipient_count=1\n\n")
        f.flush()
        line = f.readline()
        f.readline()
        mine.append(line.startswith(b"action=DUNNO"))
    with lock:
        res.extend(mine)
ts = [threading.Thread(target=run, args=(p,)) for p in sys.argv[1:]]
[t.start() for t in ts]
[t.join() for t in ts]
print(f"{sum(res)} of {len(res)} accepted")
PY
)
echo "$EXACT"

echo "== baseline simulation"
SIM=$("$W/sim")
echo "$SIM"
SIMB=$("$W/sim" -b 0.02 | head -1)
echo "with bursts (2 % of user-days): $SIMB"

rps() { echo "$1" | field rps; }
RATIO=$(/usr/bin/python3 -c "print(f'{float(\"$(rps "${SAT[redis]}")\") / float(\"$(rps "${SAT[local]}")\"):.2f}')")
RESULT=$(
	echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), ${DURATION} s per measure, $CONNS connections$( [ -n "$RT" ] && echo ', SCHED_FIFO'),"
	echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; policy_load mix (30 % outbound)."
	echo
	echo "| store | saturated req/s | p99 saturated (µs) | p50 at 5,000/s (µs) | p99 at 5,000/s (µs) |"
	echo "|---|---:|---:|---:|---:|"
	for s in local redis; do
		echo "| $s | $(rps "${SAT[$s]}") | $(echo "${SAT[$s]}" | field p99_us) | $(echo "${PACED[$s]}" | field p50_us) | $(echo "${PACED[$s]}" | field p99_us) |"
	done
	echo
	echo "Redis / local throughput: $RATIO (target: at least 0.50); p99 target at 5,000/s: under 2 ms."
	echo "Three daemons on one Redis, 100 messages/hour, 300 sent at once (100 over each): $EXACT (target: exactly 100)."
	echo
	echo "Baseline simulation (bench/policy_baseline_sim.c, factor 5, baseline_min 30, new sender 2/hour; distinct recipient domains: factor 5, min 10, new sender 1/hour):"
	echo
	echo '```'
	echo "$SIM"
	echo "with bursts (2 % of user-days send their day's volume again within one hour):"
	echo "$SIMB"
	echo '```'
)
echo
echo "$RESULT"
if [ "$WRITE" = 1 ]; then
	/usr/bin/python3 - "$BENCH/RESULTS.md" "$RESULT" <<'PY'
import re, sys
path, block = sys.argv[1], sys.argv[2]
text = open(path).read()
begin = re.search(r"<!-- policy_redis.sh results: begin[^>]*-->\n", text)
end = text.index("<!-- policy_redis.sh results: end -->")
text = text[:begin.end()] + block + "\n" + text[end:]
open(path, "w").write(text)
PY
	echo "written to bench/RESULTS.md"
fi
