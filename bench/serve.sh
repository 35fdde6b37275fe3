#!/bin/bash
# bench/serve.sh - `rblkit serve` against rbldnsd on the same data, same machine,
# same run.  See bench/README.md for what is measured and how to read it.
#
#   bench/serve.sh [--quick] [--only 1,2,6] [--duration S] [--repeat N] [--write] [--keep]
#                  [--no-fork] [--max-time S] [--workdir DIR]
#
# Environment: RBLKIT (default <repo>/rblkit), RBLDNSD (default rbldnsd on PATH),
#              DNSPERF (default dnsperf), BENCH_USER (default nobody; -u USER is
#              passed to both servers when running as root).
#
# Every server is pinned to CPU 0 (rblkit with --threads 1), dnsperf and the
# probes to CPU 1.  Everything started here is stopped on exit (trap); every
# step has a time limit and the whole run has a watchdog (--max-time).
set -euo pipefail
set -m # background jobs get their own process group: the trap can kill them whole

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
PY=/usr/bin/python3
HELPER="$BENCH/reload_load.py"
RBLKIT=${RBLKIT:-$REPO/rblkit}
RBLKIT_SRC=$RBLKIT
RBLDNSD=${RBLDNSD:-$(command -v rbldnsd || echo /usr/sbin/rbldnsd)}
DNSPERF=${DNSPERF:-dnsperf}
BENCH_USER=${BENCH_USER:-nobody}
ZONE=bl.test
ORIG_ARGS="$*"

QUICK=0 ONLY="1,2,3,4,5,6" WRITE=0 KEEP=0 FORK_ROW=1 DURATION="" REPEAT="" MAXTIME="" WORKROOT=""

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
	cat <<'EOF'
Options:
  --quick        small data sets and short runs (smoke test, ~2 minutes)
  --only LIST    data sets to run, e.g. 1,2 (default 1,2,3,4,5,6)
                 1: 1M /32 ip4set  2: 100k CIDR ip4set  3: same CIDRs ip4trie
                 4: 100k IPv6 prefixes ip6trie  5: 10M /32 ip4set
                 6: reload of the 10M zone under 50k qps
  --duration S   seconds per throughput measurement (default 12, quick 4)
  --repeat N     measured runs per server and data set; the best one is
                 reported (default 2, quick 1)
  --write        put the result tables into bench/RESULTS.md (replaces the
                 previous serve.sh block, keeps the rest of the file)
  --keep         keep the work directory (data, logs, raw dnsperf output)
  --no-fork      skip the extra "rbldnsd -f" row in the reload test
  --max-time S   watchdog for the whole run (default 1500, quick 600, plus
                 QUIET_BUDGET: see bench/README.md)
  --workdir DIR  where to create the work directory (default /tmp)
EOF
}

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--only) ONLY=${2:?--only needs a list}; shift ;;
	--only=*) ONLY=${1#*=} ;;
	--duration) DURATION=${2:?}; shift ;;
	--repeat) REPEAT=${2:?}; shift ;;
	--write) WRITE=1 ;;
	--keep) KEEP=1 ;;
	--no-fork) FORK_ROW=0 ;;
	--max-time) MAXTIME=${2:?}; shift ;;
	--workdir) WORKROOT=${2:?}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "serve.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	N_IP4=100000 N_CIDR=20000 N_IP6=20000 N_BIG=1000000 NQ=100000 NQ6=100000
	DURATION=${DURATION:-4} WARMUP=1 REPEAT=${REPEAT:-1}
	RELOAD_LEN=10 RELOAD_AT=4
else
	N_IP4=1000000 N_CIDR=100000 N_IP6=100000 N_BIG=10000000 NQ=1000000 NQ6=500000
	DURATION=${DURATION:-12} WARMUP=2 REPEAT=${REPEAT:-2}
	RELOAD_LEN=30 RELOAD_AT=10
fi
RELOAD_QPS=50000
OTHER_MAX=${OTHER_MAX:-5} # "other CPU" % above which a measured run counts as disturbed
LOAD_TIMEOUT=300
# Waiting for other load on the machine to stop: at most QUIET_MAX s before
# one measurement, at most QUIET_BUDGET s in the whole run.
if [ "$QUICK" = 1 ]; then
	QUIET_MAX=${QUIET_MAX:-10} QUIET_BUDGET=${QUIET_BUDGET:-30}
else
	QUIET_MAX=${QUIET_MAX:-120} QUIET_BUDGET=${QUIET_BUDGET:-900}
fi
MAXTIME=${MAXTIME:-$(((QUICK ? 600 : 1500) + QUIET_BUDGET))}

# dnsperf settings.  On this class of machine one dnsperf core tops out around
# 330-380k qps over loopback (the client pays the kernel's UDP cost too), so a
# server that needs less than one core for that shows < 100 % server CPU: read
# "qps / CPU-s" for efficiency, "qps" for delivered throughput.
DP_COMMON=(-s 127.0.0.1 -O suppress=timeouts,congestion,sendfailed,sockready,unexpected)
DP_LOAD=(-c 8 -T 2 -q 400 -t 2)
# Reload test: a fixed offered rate must not stop when the server stalls, so
# the outstanding limit (-q) must exceed rate x min(stall, timeout): -q 150000
# with -t 2 keeps sending through stalls of any length.  -T 4 matters: dnsperf
# ramps up slowly until -q/T queries per thread are sent and then bursts to
# catch up; with 4 threads the ramp is faster than 50k/4 per thread, so no
# burst (only ~1-2k queries of any server are lost at dnsperf's start).
DP_RELOAD=(-c 8 -T 4 -q 150000 -t 2 -Q "$RELOAD_QPS" -S 1)

die() { echo "serve.sh: $*" >&2; exit 1; }
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ---- preflight ----------------------------------------------------------

for t in taskset "$DNSPERF" "$PY" cc timeout; do
	command -v "$t" >/dev/null || die "missing tool: $t (apt-get install -y util-linux dnsperf python3 gcc coreutils)"
done
[ -x "$RBLDNSD" ] || die "rbldnsd not found at $RBLDNSD (apt-get install -y rbldnsd)"
[ "$(nproc)" -ge 2 ] || die "needs at least 2 CPUs (server on CPU 0, dnsperf on CPU 1)"
HAVE_RBLKIT=1
if [ ! -x "$RBLKIT" ]; then
	HAVE_RBLKIT=0
	log "NOTE: rblkit not found at $RBLKIT - rblkit rows are skipped (set RBLKIT=/path)"
fi
USEROPT=()
[ "$(id -u)" = 0 ] && USEROPT=(-u "$BENCH_USER")
[[ "$ONLY" =~ ^[1-6](,[1-6])*$ ]] || die "--only wants a list of 1..6, e.g. 1,2,6"
want() { [[ ",$ONLY," == *",$1,"* ]]; }

WORK=$(mktemp -d "${WORKROOT:-/tmp}/rblkit-bench.XXXXXX")
chmod 755 "$WORK" # the servers drop to $BENCH_USER and must read the data
CHILD=""
RBLKIT_INFO=""
if [ "$HAVE_RBLKIT" = 1 ]; then
	# benchmark a snapshot: the tree's binary may be rebuilt while we run
	RBLKIT_INFO="$RBLKIT, built $(date -u -r "$RBLKIT" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$RBLKIT" | cut -c1-12)"
	cp "$RBLKIT" "$WORK/rblkit"
	chmod 755 "$WORK/rblkit"
	RBLKIT="$WORK/rblkit"
fi

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	[ -n "$CHILD" ] && kill -TERM -- "-$CHILD" 2>/dev/null || true
	if [ -f "$WORK/pids" ]; then
		while read -r p; do stop_pid "$p"; done <"$WORK/pids"
	fi
	[ -n "${WATCHDOG:-}" ] && kill -- "-$WATCHDOG" 2>/dev/null || true
	if [ "$KEEP" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# whole-run watchdog: TERM to this script, whose trap stops everything
( sleep "$MAXTIME"; echo "serve.sh: watchdog: --max-time $MAXTIME s reached" >&2; kill -TERM $$ ) &
WATCHDOG=$!
disown "$WATCHDOG" # no "Terminated" job notice when the trap stops it

# run "$@" as a background job and wait for it, so signals reach the trap at once
run() {
	"$@" &
	CHILD=$!
	local rc=0
	wait "$CHILD" || rc=$?
	CHILD=""
	return "$rc"
}

proc_alive() { [ -e "/proc/$1" ] && [ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }

stop_pid() {
	local pid=$1 i
	proc_alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	for i in $(seq 50); do proc_alive "$pid" || break; sleep 0.1; done
	if proc_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
	wait "$pid" 2>/dev/null || true # reap it if it is our child
}

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# the same plus the CPU time of its reaped children (rbldnsd -f reload children)
cpu_ticks_all() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13 + $14 + $15}'; }
# other_pct BUSY_TICKS TOTAL_TICKS SERVER_S CLIENT_S: busy time of the machine
# that is neither server nor client, in % of one CPU over the window
other_pct() {
	awk -v m="$1" -v t="$2" -v s="$3" -v c="$4" -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" \
		'BEGIN { w = t / n / hz; o = m / hz - s - c; if (o < 0) o = 0; printf "%.0f", (w > 0 ? 100 * o / w : 0) }'
}
# all CPUs: busy ticks and total ticks so far
cpu_sample() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }

# wait_quiet: up to QUIET_MAX s for a 1-s window with < 5 % of the machine
# busy (other people's builds and tests skew a pinned benchmark badly)
QUIET_WAITED=0
wait_quiet() {
	local start=$SECONDS b0 t0 b1 t1 pct said=0
	while :; do
		if ((QUIET_WAITED + SECONDS - start >= QUIET_BUDGET)); then
			[ "$said" = 1 ] && log "  QUIET_BUDGET ($QUIET_BUDGET s) used up: measuring anyway (see 'other CPU')"
			break
		fi
		read -r b0 t0 < <(cpu_sample)
		sleep 1
		read -r b1 t1 < <(cpu_sample)
		pct=$((100 * (b1 - b0) / (t1 - t0 > 0 ? t1 - t0 : 1)))
		[ "$pct" -lt 5 ] && break
		if ((SECONDS - start >= QUIET_MAX)); then
			log "  machine still $pct % busy after ${QUIET_MAX} s of waiting: measuring anyway (see 'other CPU')"
			break
		fi
		[ "$said" = 0 ] && log "  waiting for the machine to be quiet ($pct % busy)"
		said=1
	done
	QUIET_WAITED=$((QUIET_WAITED + SECONDS - start))
}

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -1; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); u = socket.socket(2, 2); u.bind(("127.0.0.1", s.getsockname()[1])); print(s.getsockname()[1])'; }
human() { awk -v n="$1" 'BEGIN { if (n >= 1e6 && n % 1e6 == 0) printf "%dM", n / 1e6; else if (n >= 1e3 && n % 1e3 == 0) printf "%dk", n / 1e3; else print n }'; }
mb() { awk -v k="$1" 'BEGIN { if (k < 0) print "?"; else printf "%.1f", k / 1024 }'; }

# ---- data ---------------------------------------------------------------

GEN="$WORK/gen_bench_data"
cc -O2 -o "$GEN" "$BENCH/gen_bench_data.c" || die "cannot build gen_bench_data"

# ensure_data KEY MODE COUNT SEED NQUERIES: $WORK/KEY.data and $WORK/KEY.queries
ensure_data() {
	[ -s "$WORK/$1.data" ] && return 0
	log "generating $1: $2 x $(human "$3") (seed $4), $(human "$5") queries"
	run "$GEN" "$2" "$3" "$4" "$WORK/$1.data" "$WORK/$1.queries" "$5" "$ZONE"
	chmod 644 "$WORK/$1.data" "$WORK/$1.queries"
}

first_entry() { grep -m1 -v '^[#$:]' "$1"; }

# data sets: id -> "key mode count seed nqueries type label"
declare -A DS
DS[1]="ip4_1 ip4 $N_IP4 1 $NQ ip4set $(human "$N_IP4") random /32"
DS[2]="cidr4 cidr4 $N_CIDR 2 $NQ ip4set $(human "$N_CIDR") CIDRs /12-/32"
DS[3]="cidr4 cidr4 $N_CIDR 2 $NQ ip4trie $(human "$N_CIDR") CIDRs /12-/32"
DS[4]="ip6 ip6 $N_IP6 4 $NQ6 ip6trie $(human "$N_IP6") IPv6 prefixes /32-/128"
DS[5]="ip4_big ip4 $N_BIG 5 $NQ ip4set $(human "$N_BIG") random /32"

# ---- servers --------------------------------------------------------------

# server_cmd NAME TYPE FILE PORT -> argv in SERVER_CMD
server_cmd() {
	local spec="$ZONE:$2:$3" bind="127.0.0.1/$4"
	case "$1" in
	rbldnsd) SERVER_CMD=(taskset -c 0 "$RBLDNSD" -n "${USEROPT[@]}" -b "$bind" "$spec") ;;
	rbldnsd-f) SERVER_CMD=(taskset -c 0 "$RBLDNSD" -n -f "${USEROPT[@]}" -b "$bind" "$spec") ;;
	rblkit) SERVER_CMD=(taskset -c 0 "$RBLKIT" serve --threads 1 -n "${USEROPT[@]}" -b "$bind" "$spec") ;;
	esac
}

# start_server NAME TYPE FILE TAG: sets SRV_PID PORT LOAD_S, or SRV_ERR and returns 1.
# The probe (reload_load.py wait) is started and warm first; then the clock
# starts, the server is started as our own child, and the probe is told its pid.
start_server() {
	local fifo="$WORK/go" wout="$WORK/wait.out" probe rc=0 i t0
	PORT=$(free_port)
	server_cmd "$1" "$2" "$3" "$PORT"
	SRV_LOG="$WORK/$4.$1.log"
	SRV_PID="" LOAD_S="" SRV_ERR=""
	log "  start $1: ${SERVER_CMD[*]}"
	rm -f "$fifo" "$wout"
	mkfifo "$fifo"
	"$PY" "$HELPER" wait --port "$PORT" --zone "$ZONE" --entry "$(first_entry "$3")" \
		--timeout "$LOAD_TIMEOUT" <"$fifo" >"$wout" &
	probe=$!
	CHILD=$probe
	exec 3>"$fifo"
	for i in $(seq 1000); do grep -q '^ready' "$wout" 2>/dev/null && break; sleep 0.01; done
	t0=$EPOCHREALTIME
	"${SERVER_CMD[@]}" >"$SRV_LOG" 2>&1 &
	SRV_PID=$!
	echo "$SRV_PID" >>"$WORK/pids"
	echo "$t0 $SRV_PID" >&3
	exec 3>&-
	wait "$probe" || rc=$?
	CHILD=""
	LOAD_S=$(sed -n 's/^load_s=//p' "$wout")
	if [ "$rc" != 0 ] || [ -z "$LOAD_S" ]; then
		SRV_ERR="$(sed -n 's/^error=//p' "$wout"); server log: $(grep -v '^ *$' "$SRV_LOG" 2>/dev/null | tail -n 2 | tr '\n' ' ')"
		log "  $1 FAILED: $SRV_ERR"
		stop_pid "$SRV_PID"
		return 1
	fi
	log "  $1 answers after $LOAD_S s (pid $SRV_PID, port $PORT)"
}

# ---- dnsperf --------------------------------------------------------------

# parse_dnsperf FILE -> shell assignments (numbers; "" when absent)
parse_dnsperf() {
	awk '
	/Queries sent:/      { sent = $3 }
	/Queries completed:/ { done = $3 }
	/Queries lost:/      { lost = $3; lostp = $4; gsub(/[()%]/, "", lostp) }
	/Response codes:/    { for (i = 1; i <= NF; i++) if ($i == "NOERROR") { p = $(i + 2); gsub(/[(),%]/, "", p); noerr = p } }
	/Run time \(s\):/    { rt = $4 }
	/Queries per second:/ { qps = $4 }
	/Average Latency \(s\):/ { avg = $4; mx = $NF; gsub(/[()]/, "", mx) }
	/^[0-9]+\.[0-9]+: [0-9.]+$/ { s[++ns] = $2 }
	END {
		# per-second samples: ignore the first and the last (partial) interval
		mn = ""
		for (i = 2; i < ns; i++) if (mn == "" || s[i] + 0 < mn + 0) mn = s[i]
		if (noerr == "" && done != "") noerr = 0
		printf "DP_SENT=%s DP_DONE=%s DP_LOST=%s DP_LOSTP=%s DP_NOERR=%s DP_RT=%s DP_QPS=%s DP_AVG=%s DP_MAX=%s DP_MIN1=%s\n",
			sent, done, lost, lostp, noerr, rt, qps, avg, mx, mn
	}' "$1"
}

reset_dp() { DP_SENT="" DP_DONE="" DP_LOST="" DP_LOSTP="" DP_NOERR="" DP_RT="" DP_QPS="" DP_AVG="" DP_MAX="" DP_MIN1=""; }

# dnsperf_run OUT SECONDS QUERYFILE: runs pinned dnsperf, sets CLI_CPU_S (user+sys)
# and CLI_WALL_S (wall time of the whole dnsperf process)
dnsperf_run() {
	local tf="$1.time"
	run bash -c 'TIMEFORMAT="%U %S %R"; { time timeout "$1" taskset -c 1 "${@:3}" >"$2" 2>&1; } 2>"$2.time"' _ \
		"$(($2 + 30))" "$1" "$DNSPERF" "${DP_COMMON[@]}" -p "$PORT" "${DP_LOAD[@]}" -d "$3" -l "$2" || true
	CLI_CPU_S=$(awk '{print $1 + $2}' "$tf" 2>/dev/null || echo 0)
	CLI_WALL_S=$(awk '{print $3}' "$tf" 2>/dev/null || echo 0)
}

RESULTS="$WORK/results.tsv"
RELOADS="$WORK/reload.tsv"
: >"$RESULTS"
: >"$RELOADS"

# measure PID OUT: one measured dnsperf run against server PID; appends
# "qps srvcpu% qps/cpu-s client% lost% noerror% maxlat other%" to OUT.tsv
# server CPU % is over dnsperf's run time; qps per server CPU-second counts
# completed queries; client CPU % is over the dnsperf process's wall time;
# other CPU is busy time of the whole machine in the window that is neither
# server nor dnsperf (kernel work not charged to either, and any other
# process), in % of one CPU
measure() {
	local pid=$1 out=$2 qf=$3 m0 m1 t0 t1 c0 c1 hz srv_s other
	wait_quiet
	read -r m0 t0 < <(cpu_sample)
	c0=$(cpu_ticks "$pid")
	dnsperf_run "$out" "$DURATION" "$qf"
	read -r m1 t1 < <(cpu_sample)
	proc_alive "$pid" || return 1
	c1=$(cpu_ticks "$pid")
	reset_dp
	eval "$(parse_dnsperf "$out")"
	[ -n "$DP_QPS" ] || return 2
	hz=$(getconf CLK_TCK)
	srv_s=$(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz }')
	other=$(other_pct "$((m1 - m0))" "$((t1 - t0))" "$srv_s" "$CLI_CPU_S")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$DP_QPS" \
		"$(awk -v s="$srv_s" -v t="$DP_RT" 'BEGIN { printf "%.0f", 100 * s / t }')" \
		"$(awk -v d="$DP_DONE" -v s="$srv_s" 'BEGIN { if (s > 0) printf "%.0f", d / s; else print 0 }')" \
		"$(awk -v s="$CLI_CPU_S" -v t="$CLI_WALL_S" 'BEGIN { printf "%.0f", (t > 0 ? 100 * s / t : 0) }')" \
		"$DP_LOSTP" "$DP_NOERR" "$DP_MAX" "$other" >>"$out.tsv"
	log "  $(basename "$out"): $(printf '%.0f' "$DP_QPS") qps, server CPU $srv_s s, client CPU $CLI_CPU_S s, other CPU $other %, NOERROR $DP_NOERR %"
}

# bench_one ID SERVER: load, warm up, REPEAT measured runs; a run with more
# than OTHER_MAX % "other CPU" is disturbed and repeated (at most 3 extra
# runs).  The row keeps the undisturbed run with the highest qps per server
# CPU-second (interference only ever makes a run look worse); if every run was
# disturbed, the best of them, and its "other CPU" shows it.
bench_one() {
	local id=$1 srv=$2 key mode count seed nq type label
	read -r key mode count seed nq type label <<<"${DS[$id]}"
	local file="$WORK/$key.data" qf="$WORK/$key.queries" tag="ds$id"
	if ! start_server "$srv" "$type" "$file" "$tag"; then
		printf '%s\t%s\tFAILED\t%s\n' "$id" "$srv" "$SRV_ERR" >>"$RESULTS"
		return 0
	fi
	local pid=$SRV_PID load=$LOAD_S h_load h_end r rc out="$WORK/$tag.$srv.dnsperf" best
	h_load=$(hwm_kb "$pid")
	dnsperf_run "$WORK/$tag.$srv.warmup" "$WARMUP" "$qf"
	: >"$out.tsv"
	local clean=0 r=0 other
	while [ "$clean" -lt "$REPEAT" ] && [ "$r" -lt $((REPEAT + 3)) ]; do
		r=$((r + 1))
		rc=0
		measure "$pid" "$out" "$qf" || rc=$?
		cp "$out" "$out.$r" 2>/dev/null || true
		if [ "$rc" = 1 ]; then
			printf '%s\t%s\tFAILED\tserver died during the dnsperf run\n' "$id" "$srv" >>"$RESULTS"
			stop_pid "$pid"
			return 0
		fi
		[ "$rc" = 0 ] || continue
		other=$(tail -n1 "$out.tsv" | cut -f8)
		if [ "$other" -le "$OTHER_MAX" ]; then
			clean=$((clean + 1))
		else
			log "  run $r disturbed (other CPU $other % > $OTHER_MAX %): one more"
		fi
	done
	h_end=$(hwm_kb "$pid")
	stop_pid "$pid"
	if [ ! -s "$out.tsv" ]; then
		printf '%s\t%s\tFAILED\tno dnsperf statistics (see %s)\n' "$id" "$srv" "$(basename "$out")" >>"$RESULTS"
		return 0
	fi
	best=$(awk -F'\t' -v m="$OTHER_MAX" '$8 <= m' "$out.tsv" | sort -t $'\t' -k3,3nr | head -n1)
	[ -n "$best" ] || best=$(sort -t $'\t' -k3,3nr "$out.tsv" | head -n1)
	# row: id srv OK load qps srvcpu qpc clicpu lost noerr hwm_load hwm_end maxlat other
	awk -F'\t' -v OFS='\t' -v id="$id" -v srv="$srv" -v load="$load" -v hl="$h_load" -v he="$h_end" \
		'{ print id, srv, "OK", load, $1, $2, $3, $4, $5, $6, hl, he, $7, $8 }' <<<"$best" >>"$RESULTS"
}

# reload_one SERVER: reload_try, once more if the first try was disturbed
reload_one() {
	local n0
	n0=$(wc -l <"$RELOADS")
	reload_try "$1"
	local row
	row=$(tail -n1 "$RELOADS")
	if [ "$(wc -l <"$RELOADS")" -gt "$n0" ] && [ "$(cut -f2 <<<"$row")" = OK ] &&
		[ "$(cut -f12 <<<"$row")" -gt "$OTHER_MAX" ]; then
		log "  reload run disturbed (other CPU $(cut -f12 <<<"$row") % > $OTHER_MAX %): once more"
		head -n "$n0" "$RELOADS" >"$RELOADS.tmp"
		mv "$RELOADS.tmp" "$RELOADS"
		reload_try "$1"
	fi
}

# reload_try SERVER: 10M zone, SIGHUP after RELOAD_AT s of a RELOAD_QPS load
reload_try() {
	local srv=$1 key mode count seed nq type label
	read -r key mode count seed nq type label <<<"${DS[5]}"
	local base="$WORK/$key.data" file="$WORK/reload.data" tag="reload"
	cp "$base" "$file"
	{ cat "$base"; echo "127.0.0.2"; } >"$file.new"
	chmod 644 "$file" "$file.new"
	touch -d '-1 minute' "$file" # the replacement must look newer
	if ! start_server "$srv" ip4set "$file" "$tag"; then
		printf '%s\tFAILED\t%s\n' "$srv" "$SRV_ERR" >>"$RELOADS"
		return 0
	fi
	local pid=$SRV_PID load=$LOAD_S out="$WORK/$tag.$srv.helper" m0 m1 t0 t1 c0 c1 other
	wait_quiet
	read -r m0 t0 < <(cpu_sample)
	c0=$(cpu_ticks_all "$pid")
	run bash -c 'TIMEFORMAT="%U %S %R"; { time "${@:3}" >"$1"; } 2>"$2"' _ "$out" "$out.time" \
		"$PY" "$HELPER" reload --pid "$pid" --port "$PORT" --zone "$ZONE" --data "$file" \
		--new "$file.new" --sentinel 127.0.0.2 --at "$RELOAD_AT" --out "$WORK/$tag.$srv.dnsperf" \
		--timeout $((RELOAD_LEN + 60)) -- taskset -c 1 "$DNSPERF" "${DP_COMMON[@]}" -p "$PORT" \
		"${DP_RELOAD[@]}" -d "$WORK/$key.queries" -l "$RELOAD_LEN" || true
	read -r m1 t1 < <(cpu_sample)
	local alive=1
	proc_alive "$pid" || alive=0
	if [ "$alive" = 1 ]; then
		c1=$(cpu_ticks_all "$pid")
		other=$(other_pct "$((m1 - m0))" "$((t1 - t0))" "$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN { print (b - a) / hz }')" \
			"$(awk '{print $1 + $2}' "$out.time" 2>/dev/null || echo 0)")
	fi
	stop_pid "$pid"
	local err vis hwm
	err=$(sed -n 's/^error=//p' "$out")
	vis=$(sed -n 's/^reload_visible_s=//p' "$out")
	hwm=$(sed -n 's/^hwm_kb=//p' "$out")
	reset_dp
	[ -f "$WORK/$tag.$srv.dnsperf" ] && eval "$(parse_dnsperf "$WORK/$tag.$srv.dnsperf")"
	if [ -n "$err" ] || [ -z "$DP_SENT" ] || [ "$alive" = 0 ]; then
		printf '%s\tFAILED\t%s\n' "$srv" "${err:-server died or no dnsperf statistics}" >>"$RELOADS"
		return 0
	fi
	printf '%s\tOK\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$srv" "$load" "$DP_SENT" "$DP_LOST" \
		"$DP_LOSTP" "$DP_MAX" "$DP_AVG" "$DP_MIN1" "${vis:-?}" "${hwm:--1}" "$other" >>"$RELOADS"
	log "  $srv: lost $DP_LOST of $DP_SENT, max latency $DP_MAX s, new data visible after $vis s, other CPU $other %"
}

# ---- run ----------------------------------------------------------------

SERVERS=(rbldnsd)
[ "$HAVE_RBLKIT" = 1 ] && SERVERS+=(rblkit)
T_START=$(date +%s)

for id in 1 2 3 4 5; do
	want "$id" || continue
	read -r key mode count seed nq type label <<<"${DS[$id]}"
	ensure_data "$key" "$mode" "$count" "$seed" "$nq"
	log "data set $id: $label ($type)"
	for srv in "${SERVERS[@]}"; do bench_one "$id" "$srv"; done
done

if want 6; then
	read -r key mode count seed nq type label <<<"${DS[5]}"
	ensure_data "$key" "$mode" "$count" "$seed" "$nq"
	log "data set 6: reload of $label under $RELOAD_QPS qps for $RELOAD_LEN s (SIGHUP at $RELOAD_AT s)"
	RSERVERS=(rbldnsd)
	[ "$FORK_ROW" = 1 ] && RSERVERS+=(rbldnsd-f)
	[ "$HAVE_RBLKIT" = 1 ] && RSERVERS+=(rblkit)
	for srv in "${RSERVERS[@]}"; do reload_one "$srv"; done
fi

# ---- report -------------------------------------------------------------

ds_label() { local a; read -r -a a <<<"${DS[$1]}"; echo "${a[*]:6} (${a[5]})"; }
server_label() {
	case "$1" in
	rblkit) echo "rblkit --threads 1" ;;
	rbldnsd-f) echo "rbldnsd -f" ;;
	*) echo "$1" ;;
	esac
}

report() {
	local mode="full run" rb_ver dp_ver rk_ver
	[ "$QUICK" = 1 ] && mode="QUICK smoke run (small data, short runs: not representative)"
	rb_ver=$(dpkg-query -W -f '${Version}' rbldnsd 2>/dev/null || echo "?")
	dp_ver=$("$DNSPERF" -h 2>&1 | sed -n 's/^Version //p' | head -n1)
	rk_ver="not available ($RBLKIT_SRC missing)"
	if [ "$HAVE_RBLKIT" = 1 ]; then
		rk_ver="$("$RBLKIT" --version 2>&1 | head -n1) = $RBLKIT_INFO"
		local rev
		rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || true)
		[ -n "$rev" ] && rk_ver="$rk_ver (repo at $rev$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo ', with uncommitted changes'))"
	fi
	echo "## serve.sh results ($mode)"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); run took $(($(date +%s) - T_START)) s"
	echo "- Command: \`bench/serve.sh $ORIG_ARGS\`"
	echo "- Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM, Linux $(uname -r)"
	echo "- Servers: rbldnsd $rb_ver; rblkit: $rk_ver. Server pinned to CPU 0, dnsperf $dp_ver pinned to CPU 1."
	echo "- Throughput runs: \`dnsperf ${DP_COMMON[*]} ${DP_LOAD[*]} -l $DURATION\` after a ${WARMUP} s warm-up, best of $REPEAT runs (by qps per CPU-s); queries ~50 % listed / 50 % unlisted, 5 % TXT, 95 % A."
	[ "$HAVE_RBLKIT" = 1 ] || echo "- **rblkit was not found at \`$RBLKIT_SRC\`: its rows are missing.**"
	echo
	if [ -s "$RESULTS" ]; then
		echo "| # | data set | server | load s | qps | server CPU | qps per CPU-s | client CPU | other CPU | lost | NOERROR | VmHWM after load MB | VmHWM after run MB |"
		echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		local id srv st load qps scpu qpc ccpu lostp noerr hl he mx other
		while IFS=$'\t' read -r id srv st load qps scpu qpc ccpu lostp noerr hl he mx other; do
			if [ "$st" != OK ]; then
				echo "| $id | $(ds_label "$id") | $(server_label "$srv") | FAILED: ${load//|/\\|} | | | | | | | | | |"
				continue
			fi
			printf '| %s | %s | %s | %.2f | %.0f | %s %% | %s | %s %% | %s %% | %s %% | %s %% | %s | %s |\n' "$id" "$(ds_label "$id")" \
				"$(server_label "$srv")" "$load" "$qps" "$scpu" "$qpc" "$ccpu" "$other" "$lostp" "$noerr" "$(mb "$hl")" "$(mb "$he")"
		done <"$RESULTS"
		echo
		if [ "$HAVE_RBLKIT" = 1 ]; then
			echo "rblkit relative to rbldnsd (> 1 means rblkit has more of it):"
			echo
			echo "| # | data set | qps | qps per CPU-s | load time | VmHWM after run |"
			echo "|---|---|---:|---:|---:|---:|"
			awk -F'\t' '$3 == "OK" { k = $1 SUBSEP $2; q[k] = $5; c[k] = $7; l[k] = $4; m[k] = $12; ids[$1] = 1 }
			END {
				for (i = 1; i <= 5; i++) {
					a = i SUBSEP "rbldnsd"; b = i SUBSEP "rblkit"
					if (!((a in q) && (b in q))) continue
					printf "%d\t%.2f\t%.2f\t%.2f\t%.2f\n", i, q[b] / q[a], (c[a] > 0 ? c[b] / c[a] : 0), (l[a] > 0 ? l[b] / l[a] : 0), (m[a] > 0 ? m[b] / m[a] : 0)
				}
			}' "$RESULTS" | while IFS=$'\t' read -r id r1 r2 r3 r4; do
				echo "| $id | $(ds_label "$id") | $r1 x | $r2 x | $r3 x | $r4 x |"
			done
			echo
		fi
	fi
	if [ -s "$RELOADS" ]; then
		local label
		label=$(ds_label 5)
		echo "Reload under load (data set 6): $label, \`dnsperf ${DP_COMMON[*]} ${DP_RELOAD[*]} -l $RELOAD_LEN\`;" \
			"at $RELOAD_AT s the file is replaced by a copy with one more entry (127.0.0.2) and the server gets SIGHUP."
		echo
		echo "| server | load s | queries sent | queries lost | lost % | max latency ms | avg latency ms | lowest 1-s qps | SIGHUP to new data answered, s | VmHWM MB | other CPU |"
		echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		local srv st load sent lost lostp mx avg mn vis hwm other
		while IFS=$'\t' read -r srv st load sent lost lostp mx avg mn vis hwm other; do
			if [ "$st" != OK ]; then
				echo "| $(server_label "$srv") | FAILED: ${load//|/\\|} | | | | | | | | | |"
				continue
			fi
			printf '| %s | %.2f | %s | %s | %s %% | %.1f | %.3f | %.0f | %s | %s | %s %% |\n' "$(server_label "$srv")" "$load" "$sent" "$lost" \
				"$lostp" "$(awk -v x="$mx" 'BEGIN { print x * 1000 }')" "$(awk -v x="$avg" 'BEGIN { print x * 1000 }')" \
				"${mn:-0}" "$vis" "$(mb "$hwm")" "${other:-?}"
		done <"$RELOADS"
		echo
	fi
}

REPORT="$WORK/report.md"
report >"$REPORT"
echo
cat "$REPORT"

if [ "$WRITE" = 1 ]; then
	OUTMD="$BENCH/RESULTS.md"
	BEGIN_MARK="<!-- serve.sh results: begin (generated by bench/serve.sh --write; edits inside are overwritten) -->"
	END_MARK="<!-- serve.sh results: end -->"
	if [ ! -f "$OUTMD" ]; then
		printf '# rblkit benchmark results\n\nHow to run and what the columns mean: bench/README.md.\n\n' >"$OUTMD"
	fi
	"$PY" - "$OUTMD" "$REPORT" "$BEGIN_MARK" "$END_MARK" <<'EOF'
import sys
path, report, begin, end = sys.argv[1:5]
text = open(path).read()
block = begin + "\n" + open(report).read().rstrip("\n") + "\n" + end
b, e = text.find(begin), text.find(end)
if b >= 0 and e > b:
    text = text[:b] + block + text[e + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
EOF
	log "results written to $OUTMD"
fi
