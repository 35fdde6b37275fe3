#!/bin/bash
# bench/xdp.sh - `rblkit serve --xdp` (AF_XDP) against rblkit on sockets,
# rbldnsd and a no-lookup socket server (bench/udp_refuse.c: the socket
# limit), same data, same run.  Issue 17.
#
#   bench/xdp.sh [--quick] [--duration S] [--repeat N] [--write] [--keep]
#                [--servers "rbldnsd sockets xdp refuse"] [--perf DIR]
#
# --servers runs only those (the table needs sockets); --perf DIR records
# `perf record -a -g` on both CPUs during each server's last run into
# DIR/NAME.perf, the server's pid in DIR/NAME.pid (read with perf report
# -i ... --sort cpu,pid,sym; bench/xdp_perf.py splits it per query).
#
# Environment: RBLKIT (default <repo>/rblkit), XDP_ALT ("LABEL=BINARY ...":
# more rblkit builds run --xdp in the same run, each a row, to compare changes), RBLDNSD (default rbldnsd on
# PATH), DNSPERF (default dnsperf), N / NQ (entries, queries: 1M / 200k,
# quick 100k / 100k).  Needs root (namespaces, XDP).
#
# Two network namespaces made here and joined by a veth pair (198.18.0.0/24,
# RFC 2544's benchmark range, exists only inside them; the host's interfaces
# are never touched).  Every server runs in one namespace pinned to CPU 0
# (rblkit with --threads 1), dnsperf in the other pinned to CPU 1.
#
# What is counted: on a veth the kernel work of a packet runs on whichever
# CPU sends it (the XDP program and the copy into the AF_XDP ring run in
# the softirq of dnsperf's CPU; the answers' delivery to dnsperf in the
# server's), so one CPU's /proc/stat line is not the server's cost.  The
# cost here is the server process's own time (utime + stime, all threads:
# its system calls) plus the irq and softirq time of BOTH CPUs from
# /proc/stat (where XDP, the UDP input and the veth delivery run).  That
# includes the client kernel's receive softirq, the same per query for
# every server (so the ratios are conservative), and softirq work of any
# other load on the machine (loopback traffic of other processes): each
# server is measured --repeat times and the best run kept.
# "queries per CPU-s" = answered queries / that time.
#
# The issue's own measure is also printed: the server CPU's (CPU 0's)
# whole busy time from /proc/stat (user, nice, system, irq, softirq).  On
# a veth it flatters XDP: the XDP program and the copy into the UMEM run
# in the softirq of the sending CPU (dnsperf's, CPU 1), so they leave the
# server CPU's account.  Both are in the table; the first is the honest one.
set -euo pipefail
set -m

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
RBLKIT=${RBLKIT:-$REPO/rblkit}
RBLDNSD=${RBLDNSD:-$(command -v rbldnsd || echo /usr/sbin/rbldnsd)}
DNSPERF=${DNSPERF:-dnsperf}
ZONE=bl.test
PORT=53
SRV=198.18.0.1 CLI=198.18.0.2

ORIG_ARGS="$*"
QUICK=0 WRITE=0 KEEP=0 DURATION="" REPEAT="" SERVERS="rbldnsd sockets xdp refuse" PERF=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--duration) DURATION=${2:?}; shift ;;
	--repeat) REPEAT=${2:?}; shift ;;
	--write) WRITE=1 ;;
	--keep) KEEP=1 ;;
	--servers) SERVERS=${2:?}; shift ;;
	--perf) PERF=${2:?}; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "xdp.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
# N entries and NQ queries may be set in the environment
if [ "$QUICK" = 1 ]; then
	N=${N:-100000} NQ=${NQ:-100000} DURATION=${DURATION:-4} REPEAT=${REPEAT:-1}
else
	N=${N:-1000000} NQ=${NQ:-200000} DURATION=${DURATION:-10} REPEAT=${REPEAT:-3}
fi
DP=(-c 8 -T 2 -q 400 -t 2 -O suppress=timeouts,congestion,sendfailed,sockready,unexpected)

die() { echo "xdp.sh: $*" >&2; exit 1; }
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, XDP)"
for t in ip ethtool taskset "$DNSPERF" cc dig; do
	command -v "$t" >/dev/null || die "missing tool: $t (apt-get install -y iproute2 ethtool util-linux dnsperf gcc bind9-dnsutils)"
done
[ -x "$RBLDNSD" ] || die "rbldnsd not found at $RBLDNSD (apt-get install -y rbldnsd)"
[ -x "$RBLKIT" ] || die "rblkit not found at $RBLKIT (make, or set RBLKIT=)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs"

WORK=$(mktemp -d /tmp/rblkit-xdp-bench.XXXXXX)
chmod 755 "$WORK"
TAG=$$
NS_S=rblkit-xdpb-$TAG-s NS_C=rblkit-xdpb-$TAG-c
SERVER=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$SERVER" ] && stop_server
	ip netns del "$NS_C" 2>/dev/null || true
	ip netns del "$NS_S" 2>/dev/null || true
	if [ "$KEEP" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

stop_server() {
	local i
	kill -TERM "$SERVER" 2>/dev/null || true
	for i in $(seq 50); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$SERVER" 2>/dev/null || true
	wait "$SERVER" 2>/dev/null || true
	SERVER=""
}

# ---- data and tools ----
cp "$RBLKIT" "$WORK/rblkit"
cc -O2 -o "$WORK/gen" "$BENCH/gen_bench_data.c"
cc -O2 -o "$WORK/udp_refuse" "$BENCH/udp_refuse.c"
log "data: $N random /32 in an ip4set, $NQ queries"
"$WORK/gen" ip4 "$N" 1 "$WORK/zone.data" "$WORK/queries" "$NQ" "$ZONE" >/dev/null
chmod 644 "$WORK"/zone.data "$WORK"/queries

# ---- the namespaces ----
ip netns add "$NS_S"
ip netns add "$NS_C"
ip link add xdps netns "$NS_S" type veth peer name xdpc netns "$NS_C"
ip -n "$NS_S" addr add $SRV/24 dev xdps
ip -n "$NS_C" addr add $CLI/24 dev xdpc
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set xdps up
ip -n "$NS_C" link set xdpc up
# the client computes its UDP checksums (a veth would leave them to no
# hardware; the XDP path checks them as the kernel's UDP input does)
ip netns exec "$NS_C" ethtool -K xdpc tx off >/dev/null

in_s() { ip netns exec "$NS_S" "$@"; }
in_c() { ip netns exec "$NS_C" "$@"; }

start_server() { # NAME ARGV...
	local name=$1 i
	shift
	(cd "$WORK" && exec ip netns exec "$NS_S" taskset -c 0 "$@" >"$WORK/$name.log" 2>&1) &
	SERVER=$!
	for i in $(seq 200); do
		if in_c dig +tries=1 +time=1 -p $PORT @$SRV "$ZONE" SOA >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$SERVER" 2>/dev/null || die "$name exited: $(tail -3 "$WORK/$name.log")"
		sleep 0.25
	done
	die "$name does not answer"
}

# irq + softirq ticks of CPUs 0 and 1 (the kernel's packet work)
soft_ticks() { awk '/^cpu[01] / {b += $7 + $8} END {print b}' /proc/stat; }
# busy ticks of CPU 0 (all but idle and iowait): the issue's measure
cpu0_ticks() { awk '/^cpu0 / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# measure [dnsperf args]: one dnsperf run; prints
# "qps lost server_cpu% softirq_cpu% queries_per_CPU-s cpu0_busy% queries_per_cpu0-s"
measure() {
	local out s0 s1 p0 p1 t0 t1 c0 c1
	c0=$(cpu0_ticks)
	s0=$(soft_ticks)
	p0=$(proc_ticks "$SERVER")
	t0=$(date +%s.%N)
	in_c taskset -c 1 "$DNSPERF" -s $SRV -p $PORT -d "$WORK/queries" -l "$DURATION" \
		"${DP[@]}" "$@" >"$WORK/dnsperf.out" 2>&1 || true
	t1=$(date +%s.%N)
	s1=$(soft_ticks)
	c1=$(cpu0_ticks)
	p1=$(proc_ticks "$SERVER")
	awk -v s="$((s1 - s0))" -v p="$((p1 - p0))" -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" \
		-v t="$(echo "$t1 - $t0" | bc)" '
		/Queries completed:/ {done = $3}
		/Queries lost:/ {lost = $3}
		/Run time \(s\):/ {rt = $4}
		END {
			cost = (s + p) / hz; if (cost <= 0) cost = 0.01
			c0 = c / hz; if (c0 <= 0) c0 = 0.01
			printf "%.0f %d %.0f %.0f %.0f %.0f %.0f\n", done / rt, lost, 100 * p / hz / t,
				100 * s / hz / t, done / cost, 100 * c / hz / t, done / c0
		}' "$WORK/dnsperf.out"
}

# bench NAME ARGV...: best (highest queries per CPU-s) of REPEAT runs
declare -A RES
bench() {
	local name=$1 best="" r
	shift
	start_server "$name" "$@"
	measure -l 1 >/dev/null  # warm-up: caches, neighbours, page faults
	for i in $(seq "$REPEAT"); do
		if [ -n "$PERF" ] && [ "$i" = "$REPEAT" ]; then
			mkdir -p "$PERF"
			echo "$SERVER" >"$PERF/$name.pid"
			perf record -q -a -g -C 0,1 -o "$PERF/$name.perf" -- sleep "$DURATION" \
				>/dev/null 2>&1 &
			PERFPID=$!
		fi
		r=$(measure)
		[ -n "${PERFPID:-}" ] && { wait "$PERFPID" || true; PERFPID=""; }
		log "  $name: qps lost server% softirq% q/CPU-s cpu0% q/cpu0-s = $r"
		if [ -z "$best" ] || [ "$(echo "$r" | cut -d' ' -f5)" -gt "$(echo "$best" | cut -d' ' -f5)" ]; then
			best=$r
		fi
	done
	stop_server
	RES[$name]=$best
}

USR=(-u nobody)
want() { [[ " $SERVERS " == *" $1 "* ]]; }
for s in sockets xdp; do want $s || die "--servers must include $s"; done
if want rbldnsd; then
log "rbldnsd"
bench rbldnsd "$RBLDNSD" "${USR[@]}" -n -b $SRV/$PORT "$ZONE:ip4set:zone.data"
fi
log "rblkit serve (sockets)"
bench sockets "$WORK/rblkit" serve "${USR[@]}" -n --threads 1 -b $SRV/$PORT "$ZONE:ip4set:zone.data"
log "rblkit serve --xdp"
bench xdp "$WORK/rblkit" serve "${USR[@]}" -n --threads 1 --xdp xdps -b $SRV/$PORT "$ZONE:ip4set:zone.data"
ALTS=()
for a in ${XDP_ALT:-}; do
	l=${a%%=*} b=${a#*=}
	[ -x "$b" ] || die "XDP_ALT: no binary $b"
	cp "$b" "$WORK/rblkit-$l"
	log "rblkit serve --xdp ($l: $b)"
	bench "xdp-$l" "$WORK/rblkit-$l" serve "${USR[@]}" -n --threads 1 --xdp xdps -b $SRV/$PORT "$ZONE:ip4set:zone.data"
	ALTS+=("$l")
done
XDP_MODE=$(grep -o "AF_XDP on .*" "$WORK/xdp.log" | head -1 || true)
if want refuse; then
log "no-lookup socket server (REFUSED)"
bench refuse "$WORK/udp_refuse" $SRV $PORT
fi

# no loss at 80 % of the XDP path's capacity (capacity: its best qps)
CAP=$(echo "${RES[xdp]}" | cut -d' ' -f1)
RATE=$((CAP * 8 / 10))
log "rblkit serve --xdp at 80 % of its capacity: $RATE qps"
start_server xdp80 "$WORK/rblkit" serve "${USR[@]}" -n --threads 1 --xdp xdps -b $SRV/$PORT "$ZONE:ip4set:zone.data"
measure -l 1 >/dev/null
L80=$(measure -Q "$RATE")
stop_server
log "  at 80 %: $L80"

row() { # LABEL KEY
	[ -n "${RES[$2]:-}" ] || return 0
	local r=${RES[$2]}
	set -- "$1" $r
	local base base0
	base=$(echo "${RES[sockets]}" | cut -d' ' -f5)
	base0=$(echo "${RES[sockets]}" | cut -d' ' -f7)
	printf '| %s | %s | %s | %s %% | %s %% | %s | %.2f | %s %% | %s | %.2f |\n' "$1" "$2" "$3" \
		"$4" "$5" "$6" "$(echo "$6 / $base" | bc -l)" "$7" "$8" "$(echo "$8 / $base0" | bc -l)"
}
TABLE=$(
	echo "<!-- xdp.sh results: begin (bench/xdp.sh --write) -->"
	echo "## xdp.sh results: AF_XDP (issue 17)"
	echo
	echo "Command: \`bench/xdp.sh${ORIG_ARGS:+ $ORIG_ARGS}\` ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, kernel $(uname -r))."
	echo "$N random /32 in an ip4set, $NQ queries (about half listed, 5 % TXT); veth pair between two"
	echo "namespaces, server on CPU 0, \`dnsperf ${DP[*]:0:8}\` on CPU 1, ${DURATION} s per run, best of $REPEAT."
	echo "XDP: ${XDP_MODE:-?}. CPU-s: the server process's time plus irq+softirq of both CPUs (see bench/xdp.sh)."
	echo "Load average when it ended: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
	echo "Last three columns: the issue's measure, CPU 0's whole busy time (the server's CPU; on a veth the"
	echo "XDP redirect runs on the client's CPU and is not in it: see bench/xdp.sh)."
	echo
	echo "| server | queries/s | lost | server process CPU | irq+softirq CPU | queries per CPU-s | vs sockets | CPU 0 busy | queries per CPU-0-s | vs sockets |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	row "rbldnsd" rbldnsd
	row "rblkit serve --threads 1 (sockets)" sockets
	row "rblkit serve --threads 1 --xdp xdps" xdp
	for l in "${ALTS[@]}"; do row "rblkit serve --xdp ($l)" "xdp-$l"; done
	row "no-lookup REFUSED server (socket limit)" refuse
	echo
	set -- $L80
	echo "At 80 % of the XDP path's capacity ($RATE queries/s offered): $1 answered/s, $2 lost."
	echo "<!-- xdp.sh results: end -->"
)
echo "$TABLE"
if [ "$WRITE" = 1 ]; then
	F="$BENCH/RESULTS.md"
	if grep -q '<!-- xdp.sh results: begin' "$F"; then
		awk -v t="$TABLE" '/<!-- xdp.sh results: begin/ {print t; skip = 1; next}
			/<!-- xdp.sh results: end -->/ {skip = 0; next} !skip' "$F" >"$F.tmp" && mv "$F.tmp" "$F"
	else
		printf '\n%s\n' "$TABLE" >>"$F"
	fi
	log "written to $F"
fi
