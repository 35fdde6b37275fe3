#!/bin/bash
# bench/list.sh - serving the listing store (issue 12, points b, c, d), in
# one run, against the real peers on this machine:
#
#   (c) a store of N entries (default 10,000,000 IPv4 /32s): the load time
#       and memory of `rblkit serve ZONE:store:sqlite:...` against rbldnsd
#       serving the same addresses as an ip4set file. The store is made by
#       direct SQL inserts into the schema (rows as store_put writes them:
#       `rblkit list import` of 10M lines writes history and events per
#       line and takes far longer; Python's sqlite3, one transaction); the
#       zone itself by `rblkit list add`.
#   (d) IXFR against AXFR bytes for 1,000 changes (one `rblkit list import`
#       of 1,000 new addresses) to a store of M entries (default 1,000,000):
#       dig +stats's "XFR size" of IXFR=old-serial and of AXFR.
#   (b) change-to-answer latency: K times (default 50) `rblkit list add` of
#       a new address, then the time until serve answers it, and until an
#       NSD secondary (NOTIFY + IXFR) does; while dnsperf drives serve at
#       ~50,000 q/s. p50 / p99 / max, including the `rblkit list` process.
#
#   bench/list.sh [--entries N] [--ixfr-entries M] [--adds K] [--write]
#
# --write replaces the "list.sh results" section of bench/RESULTS.md.
# Needs: rbldnsd, nsd, dnsperf, dig, python3 with dnspython; root (NSD).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
RBLKIT=${RBLKIT:-$REPO/rblkit}
N=10000000 M=1000000 K=50 WRITE=0
while [ $# -gt 0 ]; do
	case "$1" in
	--entries) N=$2; shift 2 ;;
	--ixfr-entries) M=$2; shift 2 ;;
	--adds) K=$2; shift 2 ;;
	--write) WRITE=1; shift ;;
	*) echo "usage: $0 [--entries N] [--ixfr-entries M] [--adds K] [--write]" >&2; exit 2 ;;
	esac
done
export RBLKIT N M K REPO

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
/usr/bin/python3 - "$OUT" <<'PY'
import os, re, subprocess, sys, tempfile, time, shutil, statistics
sys.path.insert(0, os.path.join(os.environ["REPO"], "tests", "integration"))
import servers
from helpers_proto import Secondary, rev4
import dns.message, dns.query

RBLKIT = os.environ["RBLKIT"]
N, M, K = int(os.environ["N"]), int(os.environ["M"]), int(os.environ["K"])
ZONE = "bl.bench"
out = open(sys.argv[1], "w")
work = servers.make_datadir("rblkit-bench-list-")

def say(s=""):
    print(s, flush=True)
    out.write(s + "\n")

def rl(dsn, *args):
    subprocess.run([RBLKIT, "list", "--config", "/dev/null", "--store", dsn, *args],
                   check=True, stdout=subprocess.DEVNULL)

def addr(i):
    a = 0x01000000 + i * 3          # distinct /32s from 1.0.0.0 on
    return a, "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)

def make_store(path, n):
    """Zone by rblkit list, n listings by direct SQL (as store_put writes them)."""
    dsn = "sqlite:" + path
    rl(dsn, "add", ZONE, "127.0.0.2")
    now = int(time.time())
    import sqlite3
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    zid = db.execute("SELECT id FROM zones WHERE name = ?", (ZONE,)).fetchone()[0]
    pre = bytes(10) + b"\xff\xff"
    def rows():
        for i in range(n):
            a, text = addr(i)
            lo = pre + a.to_bytes(4, "big")
            yield (zid, text, lo, lo, now, now, now)
    db.executemany(
        "INSERT INTO listings (zone_id, key, kind, bits, lo, hi, state, code, reason,"
        " first_seen, last_seen, expires, changed, hits, level, removals, source)"
        " VALUES (?, ?, 1, 32, ?, ?, 1, 2130706434, '', ?, ?, 0, ?, 1, 0, 0, 'bench')", rows())
    db.commit()
    db.close()
    return dsn

def rss_kib(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

def wait_answer(port, ip, deadline=600, missing_ok=False):
    t0 = time.monotonic()
    q = dns.message.make_query(rev4(ip, ZONE), "A")
    while time.monotonic() - t0 < deadline:
        try:
            r = dns.query.udp(q, "127.0.0.1", port=port, timeout=0.2)
            if r.answer:
                return time.monotonic()
        except Exception:
            pass
        time.sleep(0.005)
    if missing_ok:
        return None
    raise SystemExit("no answer for %s on port %d" % (ip, port))

def progress(s):
    print(time.strftime("%H:%M:%S ") + s, file=sys.stderr, flush=True)

def start(argv, port, probe_ip):
    t0 = time.monotonic()
    # the log to a file: a pipe nobody reads would block the server
    log = open(os.path.join(work, "server-%d.log" % port), "w+")
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=log, cwd=work)
    p.log = log
    t1 = wait_answer(port, probe_ip)
    return p, t1 - t0

say("## list.sh results (%s UTC, %s)" % (time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                                        subprocess.run(["git", "-C", os.environ["REPO"], "rev-parse",
                                                        "--short", "HEAD"], capture_output=True,
                                                       text=True).stdout.strip()))
say()
say("Command: `bench/list.sh --entries %d --ixfr-entries %d --adds %d`" % (N, M, K))
say()

# (c) load time and memory
db = os.path.join(work, "big.db")
t0 = time.monotonic()
dsn = make_store(db, N)
say("(c) %d entries: store made by SQL in %.1f s" % (N, time.monotonic() - t0))
last = addr(N - 1)[1]
with open(os.path.join(work, "big.txt"), "w") as f:
    for i in range(N):
        f.write(addr(i)[1] + "\n")
servers.make_readable(work)
port = servers.free_port()
p, t = start([RBLKIT, "serve", "-n", "-b", "127.0.0.1/%d" % port, "--threads", "1",
              "%s:store:%s" % (ZONE, dsn)], port, last)
srss, shwm = rss_kib(p.pid), rss_kib(p.pid, "VmHWM")
p.terminate(); p.wait(); p.log.seek(0); err = p.log.read()
m = re.search(r"loaded store .* in (\d+) ms", err)
rows = [("rblkit serve (store, sqlite)", t, int(m.group(1)) / 1000 if m else float("nan"), srss, shwm)]
port = servers.free_port()
user = ["-u", "nobody"] if os.geteuid() == 0 else []
p, t = start(["/usr/sbin/rbldnsd", *user, "-n", "-b", "127.0.0.1/%d" % port,
              "%s:ip4set:big.txt" % ZONE], port, last)
rows.append(("rbldnsd (ip4set file)", t, float("nan"), rss_kib(p.pid), rss_kib(p.pid, "VmHWM")))
p.terminate(); p.wait()
say()
say("| server | start to first answer | load (its log) | RSS after load | peak RSS |")
say("|---|---:|---:|---:|---:|")
for name, t, load, rss, hwm in rows:
    say("| %s | %.2f s | %s | %d MiB | %d MiB |" % (name, t, "%.2f s" % load if load == load else "-",
                                                   rss // 1024, hwm // 1024))
os.unlink(db)

# (d) IXFR against AXFR bytes
progress("(d)")
db = os.path.join(work, "mid.db")
dsn = make_store(db, M)
port = servers.free_port()
p, _ = start([RBLKIT, "serve", "-n", "-b", "127.0.0.1/%d" % port, "--threads", "1",
              "%s:store:%s" % (ZONE, dsn)], port, addr(M - 1)[1])
def soa_serial():
    r = dns.query.udp(dns.message.make_query(ZONE, "SOA"), "127.0.0.1", port=port, timeout=2)
    return r.answer[0][0].serial
s1 = soa_serial()
with open(os.path.join(work, "changes.txt"), "w") as f:
    for i in range(0, M, max(1, M // 1000)):    # 1,000 new addresses among the old
        a = addr(i)[0] + 1
        f.write("%d.%d.%d.%d\n" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255))
rl(dsn, "import", ZONE, os.path.join(work, "changes.txt"))
while soa_serial() == s1:
    time.sleep(0.05)
s2 = soa_serial()
def xfr(kind):
    o = subprocess.run(["dig", "+stats", "+tcp", "-p", str(port), "@127.0.0.1", ZONE, kind],
                       capture_output=True, text=True).stdout
    m = re.search(r"XFR size: (\d+) records \(messages (\d+), bytes (\d+)\)", o)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)
ix, ax = xfr("IXFR=%d" % s1), xfr("AXFR")
say()
say("(d) %d entries, 1,000 changes in one import (serial %d -> %d):" % (M, s1, s2))
say()
say("| transfer | records | messages | bytes |")
say("|---|---:|---:|---:|")
say("| IXFR=%d | %d | %d | %d |" % (s1, *ix))
say("| AXFR | %d | %d | %d |" % ax)
say()
say("IXFR bytes / AXFR bytes: %.4f" % (ix[2] / ax[2] if ax[2] else float("nan")))

# (b) change-to-answer latency under load, serve and an NSD secondary
progress("(b)")
sec = Secondary("nsd", [ZONE], port)
p.terminate(); p.wait()
p, _ = start([RBLKIT, "serve", "-n", "-b", "127.0.0.1/%d" % port, "--threads", "1",
              "--notify", "127.0.0.1:%d" % sec.port, "%s:store:%s" % (ZONE, dsn)],
             port, addr(M - 1)[1])
sec.start()
if not sec.wait_serial(soa_serial(), 120):
    raise SystemExit("NSD did not load the zone:\n" + sec.log_text()[-2000:])
with open(os.path.join(work, "q.txt"), "w") as f:
    for i in range(0, 100000, 7):
        f.write("%s A\n" % rev4(addr(i * 13 % M)[1], ZONE))
perf = subprocess.Popen(["taskset", "-c", "1", "dnsperf", "-s", "127.0.0.1", "-p", str(port),
                         "-d", os.path.join(work, "q.txt"), "-Q", "50000", "-l",
                         str(int(K * 0.5 + 20)), "-c", "4"],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
time.sleep(2)
lat_s, lat_n, missed = [], [], 0
for i in range(K):
    ip = "203.0.%d.%d" % (113 + i // 250, i % 250 + 1)
    t0 = time.monotonic()
    rl(dsn, "add", ZONE, ip)
    lat_s.append(wait_answer(port, ip) - t0)
    t = wait_answer(sec.port, ip, 30, True)     # NSD: 30 s at most, else counted
    if t is None:
        missed += 1
    else:
        lat_n.append(t - t0)
    print("  add %d: serve %.3f s, NSD %s" % (i, lat_s[-1], "%.3f s" % lat_n[-1] if t else "none in 30 s"),
          file=sys.stderr)
po = perf.communicate()[0]      # dnsperf ends by itself (-l)
sec.stop(); p.terminate(); p.wait()
qps = re.search(r"Queries per second:\s+([\d.]+)", po)
def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]
say()
say("(b) %d adds while dnsperf sends to serve (%s q/s answered): from the start of "
    "`rblkit list add` to the first answer" % (K, qps.group(1) if qps else "?"))
say()
say("| answered by | p50 | p99 | max |")
say("|---|---:|---:|---:|")
for name, v in (("rblkit serve", lat_s), ("NSD secondary (NOTIFY + IXFR)", lat_n)):
    if v:
        say("| %s | %.3f s | %.3f s | %.3f s |" % (name, pct(v, .5), pct(v, .99), max(v)))
if missed:
    say()
    say("NSD did not answer %d of the %d adds within 30 s (see the notes)." % (missed, K))
say()
say("Goals (issue 12): serve within 1 s, a secondary within 5 s.")
shutil.rmtree(work, ignore_errors=True)
PY

if [ "$WRITE" = 1 ]; then
	/usr/bin/python3 - "$OUT" "$BENCH/RESULTS.md" <<'PY'
import sys
new = open(sys.argv[1]).read().rstrip("\n")
path = sys.argv[2]
text = open(path).read()
start, end = "<!-- list.sh results: start -->", "<!-- list.sh results: end -->"
block = start + "\n" + new + "\n" + end
if start in text:
    a, b = text.index(start), text.index(end) + len(end)
    text = text[:a] + block + text[b:]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
PY
fi
