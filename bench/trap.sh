#!/bin/bash
# bench/trap.sh - trap intake: messages per second through LMTP into the
# store, SQLite and PostgreSQL, in one run (issue 12, benchmark (a); goal:
# at least 5,000 messages/s into SQLite on this machine).
#
#   bench/trap.sh [--duration S] [--conns N] [--keys K] [--no-pg]
#
# What runs, for each store:
#   - rblkit trap (-q: warnings only) on a random loopback port, with a
#     fresh store (SQLite: a file in a temporary directory, WAL,
#     synchronous=FULL; PostgreSQL: a throwaway server started by
#     tests/integration/pg.py on a loopback port, fsync on) and the
#     default rules (threshold 1 hit, 24 h lifetime, extension per hit);
#   - bench/trap_load.c (built here): N parallel LMTP clients (default 8),
#     each sending one message after another as Postfix's lmtp client
#     does (envelope and data pipelined, then the recipient's reply), for
#     S seconds (default 10), from K client addresses (default 20000):
#     the first hit of an address lists it, later ones extend it.
# Every "250" counted is a committed store transaction (the daemon answers
# 250 only after the commit).  Printed: one line per store with messages/s,
# latency p50/p99, and the replies (ok / tempfail / other).
# Environment: RBLKIT (default <repo>/rblkit), PG_BINDIR (see pg.py).
set -euo pipefail

PY=${PYTHON:-/usr/bin/python3}
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
RBLKIT=${RBLKIT:-$REPO/rblkit}
DURATION=10 CONNS=8 KEYS=20000 PG=1

while [ $# -gt 0 ]; do
	case "$1" in
	--duration) DURATION=$2; shift 2 ;;
	--conns) CONNS=$2; shift 2 ;;
	--keys) KEYS=$2; shift 2 ;;
	--no-pg) PG=0; shift ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
[ -x "$RBLKIT" ] || { echo "trap.sh: $RBLKIT missing: run make" >&2; exit 2; }

W=$(mktemp -d /tmp/rblkit-bench-trap.XXXXXX)
chmod 755 "$W"
TRAP_PID="" PG_PID=""
cleanup() {
	[ -n "$TRAP_PID" ] && kill "$TRAP_PID" 2>/dev/null && wait "$TRAP_PID" 2>/dev/null || true
	[ -n "$PG_PID" ] && kill "$PG_PID" 2>/dev/null && wait "$PG_PID" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

cc -O2 -pthread -o "$W/trap_load" "$BENCH/trap_load.c"

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# run_one NAME DSN: the daemon on a fresh port with store DSN, the load, one line
run_one() {
	local name=$1 dsn=$2 port
	port=$(free_port)
	mkdir -p "$W/q"
	cat > "$W/list-$name.conf" <<EOF
store = $dsn
trap_mx = mx1.trap.example
trap_domains = trap.example=bl.example
trap_quarantine = $W/q
trap_listen = 127.0.0.1:$port
EOF
	"$RBLKIT" trap -q --config "$W/list-$name.conf" 2> "$W/trap-$name.log" &
	TRAP_PID=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	local out
	out=$("$W/trap_load" -p "$port" -c "$CONNS" -d "$DURATION" -k "$KEYS")
	kill "$TRAP_PID"
	wait "$TRAP_PID" || true
	TRAP_PID=""
	local listed
	listed=$("$RBLKIT" list stats --config "$W/list-$name.conf" bl.example 2>/dev/null | head -1 || true)
	printf '%-10s %s\n' "$name" "$out"
	printf '%-10s %s\n' "" "$listed"
	if grep -q . "$W/trap-$name.log"; then
		echo "  daemon log (warnings):"; sed -n '1,5p' "$W/trap-$name.log" | sed 's/^/    /'
	fi
}

echo "rblkit trap: $CONNS LMTP clients, ${DURATION}s per store, $KEYS client addresses ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
run_one sqlite "sqlite:$W/list.db"

if [ "$PG" = 1 ]; then
	# pg.py starts a throwaway server (fsync on); it lives until its
	# stdin, a fifo, closes
	mkfifo "$W/pg.ctl"
	cat > "$W/pg_hold.py" <<'EOF'
import os, sys
sys.path.insert(0, sys.argv[2])
import pg
srv = pg.start_server(durable=True)
try:
    dsn = srv.createdb("bench")
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(dsn)
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    sys.stdin.read()
finally:
    srv.stop()
EOF
	"$PY" "$W/pg_hold.py" "$W/pg.dsn" "$REPO/tests/integration" < "$W/pg.ctl" &
	PG_PID=$!
	exec 4>"$W/pg.ctl"
	for _ in $(seq 300); do [ -f "$W/pg.dsn" ] && break; sleep 0.1; done
	if [ -f "$W/pg.dsn" ]; then
		run_one postgresql "$(cat "$W/pg.dsn")"
	else
		echo "postgresql: no server (tests/integration/pg.py) started"
	fi
	exec 4>&-
	wait "$PG_PID" || true
	PG_PID=""
fi
