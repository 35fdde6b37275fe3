#!/bin/bash
# bench/policy.sh - `rblkit policy` against Debian's policyd-weight: the same
# requests over 100 concurrent connections, warm caches, same machine, same run.
#
#   bench/policy.sh [--duration S] [--conns N] [--rt] [--write] [--keep]
#
# --rt runs both daemons and the load generator under SCHED_FIFO (chrt -f 1):
# on a machine shared with CPU-bound jobs, a woken daemon otherwise waits for
# the other job's time slice (milliseconds) and the latencies measure the
# neighbours; throughput and latency of the daemons themselves need --rt.
#
# What runs:
#   - rblkit serve on 127.77.0.1:53 (policyd-weight only queries port 53):
#     the test blocklists zen.test, spamcop.test, dnswl.test and bench.test
#     (A/MX records of the sender domains and HELO names of the mix, so that
#     policyd-weight's HELO/MX checks get answers, not timeouts);
#   - rblkit policy (dnsbl_sites = zen.test=127.0.0.[2..11]*3,
#     spamcop.test*2, dnswl.test=127.0.[0..255].[2..3]*-5; limits high
#     enough that no SASL user of the mix reaches them: every request is
#     checked and counted, none refused) and policyd-weight (the same lists in @dnsbl_score, its
#     caches sized to hold every client), each on a port of its own;
#   - bench/policy_load.c (built here): 100 connections with one request
#     outstanding each, the mix described in its header; a warm-up pass
#     over every client first.
# Measured per daemon: requests/s at saturation (closed loop) and its p99;
# for rblkit also p99 at paced loads (latency at a load, not the queueing of
# a saturated closed loop), and the fail-open budget: every request from a
# new address, lists served by a UDP socket that never answers.
#
# Daemons are pinned to CPU 0, the load generator and the DNS server to
# CPU 1.  Everything started here is stopped on exit.
# Environment: RBLKIT (default <repo>/rblkit), POLICYD_WEIGHT (default
# /usr/sbin/policyd-weight).
set -euo pipefail
set -m

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
RBLKIT=${RBLKIT:-$REPO/rblkit}
PW=${POLICYD_WEIGHT:-/usr/sbin/policyd-weight}
DNS_ADDR=127.77.0.1
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

[ "$(id -u)" = 0 ] || { echo "policy.sh: run as root (port 53 on $DNS_ADDR, policyd-weight's user)" >&2; exit 2; }
[ -x "$RBLKIT" ] || { echo "policy.sh: $RBLKIT missing: run make" >&2; exit 2; }
[ -x "$PW" ] || { echo "policy.sh: $PW missing: apt-get install policyd-weight" >&2; exit 2; }

W=$(mktemp -d /tmp/rblkit-bench-policy.XXXXXX)
chmod 755 "$W"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
	if [ -n "${PW_PID:-}" ]; then
		# the master in the foreground (-D) writes no pid file: its
		# children by parent pid, then the cache daemon by its socket
		for c in $(ps -o pid= --ppid "$PW_PID" 2>/dev/null); do kill "$c" 2>/dev/null || true; done
		kill "$PW_PID" 2>/dev/null || true
		"$PW" -f "$W/pw.conf" -k >/dev/null 2>&1 || true
	fi
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
	echo "policy.sh: nothing listens on port $1" >&2; return 1
}

echo "== building the load generator"
cc -O2 -Wall -Wextra -o "$W/policy_load" "$BENCH/policy_load.c"

echo "== zones"
cat > "$W/zen.txt" <<'Z'
:127.0.0.2:Listed by zen.test, see https://zen.test/query/$
192.0.2.0/25
192.0.2.128/25 :127.0.0.4:XBL listing $
Z
cat > "$W/spamcop.txt" <<'Z'
:127.0.0.2:Blocked - see https://spamcop.test/bl.shtml?$
192.0.2.0/26
Z
cat > "$W/dnswl.txt" <<'Z'
:127.0.10.2:dnswl.test
10.1.0.0/24
Z
{
	echo '$TTL 3600'
	echo "@ A 192.0.2.253"
	for i in $(seq 0 299); do
		echo "s$i MX 10 mx.s$i.bench.test."
		echo "mx.s$i A 198.51.100.$((i % 250 + 1))"
	done
	for i in $(seq 0 996); do echo "mail.c$i A 203.0.113.$((i % 250 + 1))"; done
} > "$W/bench.txt"
ss -lun | grep -q "$DNS_ADDR:53 " && { echo "policy.sh: $DNS_ADDR:53 is in use" >&2; exit 1; }
taskset -c 1 "$RBLKIT" serve -n -b "$DNS_ADDR/53" -w "$W" \
	zen.test:ip4set:zen.txt spamcop.test:ip4set:spamcop.txt dnswl.test:ip4set:dnswl.txt \
	bench.test:generic:bench.txt > "$W/serve.log" 2>&1 &
PIDS+=($!)
sleep 0.5
dig +short @"$DNS_ADDR" 2.2.0.192.zen.test A | grep -q 127.0.0.2 || { cat "$W/serve.log"; exit 1; }

SITES="zen.test=127.0.0.[2..11]*3, spamcop.test*2, dnswl.test=127.0.[0..255].[2..3]*-5"
P1=$(free_port)
mkdir -p "$W/state"
cat > "$W/policy.conf" <<C
listen = 127.0.0.1:$P1
resolver = $DNS_ADDR:53
dnsbl_sites = $SITES
dnsbl_threshold = 3
dnsbl_budget = 2000
outbound_limits = 100000 messages/hour, 1000000 recipients/day
state_dir = $W/state
C

P2=$(free_port)
mkdir -p "$W/pw"
chown polw "$W/pw"
cat > "$W/pw.conf" <<C
\$TCP_PORT = $P2;
\$BIND_ADDRESS = '127.0.0.1';
\$USER = 'polw';
\$NS = '$DNS_ADDR';
\$LOCKPATH = '$W/pw/';
\$SPATH = \$LOCKPATH.'/polw.sock';
\$PIDFILE = '$W/pw/pid';
\$MAX_PROC = $((CONNS + 10));
\$MIN_PROC = 3;
\$SOMAXCONN = 1024;
\$syslog_socktype = 'udp';
@dnsbl_score = (
    'zen.test',     3, 0, 'ZEN',
    'spamcop.test', 2, 0, 'SPAMCOP',
    'dnswl.test',  -5, 0, 'DNSWL',
);
@rhsbl_score = ();
\$REJECTLEVEL = 3;
\$CACHESIZE = 20000;
\$CACHEMAXSIZE = 40000;
\$POSCACHESIZE = 20000;
\$POSCACHEMAXSIZE = 40000;
\$PTTL = 1000000;
\$NTTL = 1000000;
\$NTIME = 0;
C

load() { $RT taskset -c 1 "$W/policy_load" -c "$CONNS" "$@"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

echo "== rblkit policy"
$RT taskset -c 0 "$RBLKIT" policy --config "$W/policy.conf" > "$W/policy.log" 2>&1 &
PIDS+=($!)
wait_port "$P1"
R_SAT=$(load -d "$DURATION" "127.0.0.1:$P1")
echo "saturated:  $R_SAT"
R_PACED=()
for rate in 5000 20000 50000; do
	line=$(load -W -d "$DURATION" -r "$rate" "127.0.0.1:$P1")
	echo "paced $rate/s: $line"
	R_PACED+=("$rate $line")
done
R_STATUS=$("$RBLKIT" policy status --config "$W/policy.conf" 2 | head -2)
echo "$R_STATUS"

echo "== policyd-weight"
# policyd-weight logs every request to syslog; without a listener it writes
# an "emergency" file instead: give it a syslog socket that discards
if ! ss -lun | grep -q "127.0.0.1:514 "; then
	/usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 514))
while True: s.recvfrom(65536)
' &
	PIDS+=($!)
fi
$RT taskset -c 0 "$PW" -f "$W/pw.conf" -D start > "$W/pw.log" 2>&1 &
PW_PID=$!
wait_port "$P2"
PW_SAT=$(load -d "$DURATION" "127.0.0.1:$P2")
echo "saturated:  $PW_SAT"
PW_PACED=$(load -W -d "$DURATION" -r 500 "127.0.0.1:$P2")
echo "paced 500/s: $PW_PACED"

echo "== fail-open budget (lists that never answer)"
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True: s.recvfrom(4096)
' > "$W/silent.port" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$W/silent.port" ] && break; sleep 0.1; done
P3=$(free_port)
mkdir -p "$W/state3"
sed -e "s/^listen = .*/listen = 127.0.0.1:$P3/" -e "s|^state_dir = .*|state_dir = $W/state3|" \
    -e "s/^resolver = .*/resolver = 127.0.0.1:$(cat "$W/silent.port")/" \
    -e "s/^dnsbl_budget = .*/dnsbl_budget = 200/" "$W/policy.conf" > "$W/silent.conf"
$RT taskset -c 0 "$RBLKIT" policy --config "$W/silent.conf" > "$W/silent.log" 2>&1 &
PIDS+=($!)
wait_port "$P3"
B=$(load -u -c 20 -n 400 "127.0.0.1:$P3")
echo "budget 200 ms: $B"

rps_r=$(echo "$R_SAT" | field rps); rps_p=$(echo "$PW_SAT" | field rps)
ratio=$(awk -v a="$rps_r" -v b="$rps_p" 'BEGIN { printf "%.0f", a / b }')
echo
echo "rblkit policy / policyd-weight throughput: ${ratio}x"

row() { # name line
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(echo "$2" | field rps)" \
		"$(echo "$2" | field p50_us)" "$(echo "$2" | field p99_us)" \
		"$(echo "$2" | field p999_us)" "$(echo "$2" | field refused)"
}
RESULT=$(
	echo "## policy.sh results"
	echo
	echo "\`bench/policy.sh --duration $DURATION --conns $CONNS${RT:+ --rt}\`, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs"
	echo "($(uname -r)); daemons pinned to CPU 0, load generator and DNS to CPU 1;"
	echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)."
	echo "Mix (bench/policy_load.c): 60 % inbound RCPT from 2000 clients (10 % listed),"
	echo "10 % inbound END-OF-MESSAGE, 20 % SASL RCPT, 10 % SASL END-OF-MESSAGE; warm caches."
	echo
	echo "| run | requests/s | p50 µs | p99 µs | p99.9 µs | refused |"
	echo "|---|---|---|---|---|---|"
	row "rblkit policy, saturated ($CONNS conns)" "$R_SAT"
	for p in "${R_PACED[@]}"; do row "rblkit policy, paced ${p%% *}/s" "${p#* }"; done
	row "policyd-weight, saturated ($CONNS conns)" "$PW_SAT"
	row "policyd-weight, paced 500/s" "$PW_PACED"
	echo
	echo "Throughput ratio: **${ratio}×** policyd-weight's. policyd-weight also scores"
	echo "HELO and MX checks (answered from bench.test), so it rejects fewer of the"
	echo "listed clients than rblkit; both answer every request of the mix."
	echo "Fail-open budget (dnsbl_budget = 200 ms, every client new, the lists'"
	echo "server never answers, 20 connections): p50 $(echo "$B" | field p50_us) µs,"
	echo "p99 $(echo "$B" | field p99_us) µs, max $(echo "$B" | field max_us) µs; every answer DUNNO"
	echo "(refused=$(echo "$B" | field refused))."
)
echo
echo "$RESULT"
if [ "$WRITE" = 1 ]; then
	/usr/bin/python3 - "$BENCH/RESULTS.md" "$RESULT" <<'PY'
import re, sys
path, block = sys.argv[1], sys.argv[2]
text = open(path).read()
begin = re.search(r"<!-- policy.sh results: begin[^>]*-->\n", text)
end = text.index("<!-- policy.sh results: end -->")
text = text[:begin.end()] + block + "\n" + text[end:]
open(path, "w").write(text)
PY
	echo "written to bench/RESULTS.md"
fi
