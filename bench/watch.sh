#!/bin/bash
# bench/watch.sh - `rblkit watch` (issue 14) against `rblkit serve` on
# loopback standing in for the lists (zones named like the real ones,
# asked as ZONE@127.0.0.1:PORT), data changed mid-run.
#
#   bench/watch.sh [--rounds N] [--budget-seconds S] [--flap-seconds S]
#
#   (a) listing -> alert, DEFAULT settings (interval 30s, confirm 2,
#       confirm_delay 5s, probe_interval 10m), 3 targets on zen.spamhaus.org:
#       N rounds (default 4) of: list 192.0.2.1 at a random moment (file
#       rewritten + SIGHUP to serve), time until the alert command runs;
#       then the delisting, likewise.  Goal: <= 60 s.
#   (b) mail log rejection -> alert, default settings: the listing appears
#       and a Postfix line naming zen.spamhaus.org for 192.0.2.1 is
#       appended to mail_log at the same moment.  Goal: <= 5 s.
#   (c) a /16 against 30 lists (30 catalogue zones served by one rblkit
#       serve; each list's budget is its catalogue limit or the default
#       100,000 a day): run S seconds (default 120), count the queries the
#       daemon says it sent per list (rblkit_watch_budget_used) and those
#       serve answered, extrapolate to a day, compare with each budget.
#   (d) zero alerts that are listings from a refusal code (127.255.255.254)
#       and from a list that lists everything; one alert per transition
#       under data flapping every 1-4 s for S seconds (default 90).
# Prints a Markdown section for bench/RESULTS.md.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
export RBLKIT=${RBLKIT:-$REPO/build/rblkit}
ROUNDS=4 BUDGET_S=120 FLAP_S=90
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) ROUNDS=${2:?}; shift ;;
	--budget-seconds) BUDGET_S=${2:?}; shift ;;
	--flap-seconds) FLAP_S=${2:?}; shift ;;
	*) echo "usage: $0 [--rounds N] [--budget-seconds S] [--flap-seconds S]" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$RBLKIT" ] || { echo "no rblkit at $RBLKIT (make, or RBLKIT=...)" >&2; exit 1; }
export ROUNDS BUDGET_S FLAP_S
exec /usr/bin/python3 - <<'PY'
import json, os, random, re, signal, socket, statistics, subprocess, sys, tempfile, time

RBLKIT = os.environ["RBLKIT"]
ROUNDS = int(os.environ["ROUNDS"]); BUDGET_S = int(os.environ["BUDGET_S"])
FLAP_S = int(os.environ["FLAP_S"])
TMP = tempfile.mkdtemp(prefix="bench-watch.")
SOA = "$SOA 300 ns.{z} hostmaster.{z} 0 600 300 86400 300\n$NS 300 ns.{z}\n"


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    return p


class Serve:
    def __init__(self, zones):
        self.port = free_port()
        self.data = {z: ([], "") for z in zones}
        self.write()
        self.proc = subprocess.Popen(
            [RBLKIT, "serve", "-n", "-b", "127.0.0.1/%d" % self.port] +
            ["%s:ip4set:%s.txt" % (z, z) for z in zones], cwd=TMP,
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(TMP, "serve.log"), "a"))
        time.sleep(1.0)

    def write(self):
        for z, (listed, extra) in self.data.items():
            with open(os.path.join(TMP, z + ".txt.tmp"), "w") as f:
                f.write(SOA.format(z=z) + ":127.0.0.2:Listed $\n127.0.0.2\n" +
                        "".join(x + "\n" for x in listed) + extra)
            os.rename(os.path.join(TMP, z + ".txt.tmp"), os.path.join(TMP, z + ".txt"))

    def set(self, zone, listed=(), extra=""):
        self.data[zone] = (list(listed), extra)
        self.write()
        self.proc.send_signal(signal.SIGHUP)

    def spec(self, z):
        return "%s@127.0.0.1:%d" % (z, self.port)

    def stop(self):
        self.proc.terminate(); self.proc.wait()


ALERT = """#!/usr/bin/python3
import json, os, time
env = {k: v for k, v in os.environ.items() if k.startswith("RBLKIT_WATCH_")}
env["at"] = time.time()
with open("%s", "a") as f:
    f.write(json.dumps(env) + "\\n")
"""


class Watch:
    def __init__(self, name, conf):
        self.dir = os.path.join(TMP, name); os.makedirs(self.dir)
        self.alerts = os.path.join(self.dir, "alerts.jsonl")
        sh = os.path.join(self.dir, "alert.py")
        with open(sh, "w") as f:
            f.write(ALERT % self.alerts)
        os.chmod(sh, 0o755)
        self.conf = os.path.join(self.dir, "watch.conf")
        with open(self.conf, "w") as f:
            f.write("store = sqlite:%s/watch.db\nalert_command = %s\n%s" % (self.dir, sh, conf))
        self.proc = subprocess.Popen([RBLKIT, "watch", "--config", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "log"), "w"))

    def got(self):
        if not os.path.exists(self.alerts):
            return []
        with open(self.alerts) as f:
            return [json.loads(l) for l in f if l.strip()]

    def wait_alerts(self, n, timeout):
        end = time.time() + timeout
        while time.time() < end:
            a = self.got()
            if len(a) >= n:
                return a
            time.sleep(0.05)
        return self.got()

    def status(self):
        p = subprocess.run([RBLKIT, "watch", "status", "--json", "--config", self.conf],
                           stdout=subprocess.PIPE, universal_newlines=True)
        return json.loads(p.stdout)

    def stop(self):
        self.proc.terminate(); self.proc.wait()


out = []
# ---- (a) listing -> alert with default settings
srv = Serve(["zen.spamhaus.org", "bl.spamcop.net", "dnsbl-1.uceprotect.net"] +
            ["all.spamrats.com", "bl.mailspike.net"])
zen = srv.spec("zen.spamhaus.org")
w = Watch("latency", "watch = 192.0.2.1, 192.0.2.2, 192.0.2.3\nlists = %s\n" % zen)
time.sleep(45)          # first verdicts
lat_list, lat_del = [], []
n = 0
for r in range(ROUNDS):
    time.sleep(random.uniform(0, 30))
    t0 = time.time(); srv.set("zen.spamhaus.org", ["192.0.2.1"]); n += 1
    a = w.wait_alerts(n, 120); lat_list.append(a[-1]["at"] - t0 if len(a) >= n else float("inf"))
    time.sleep(random.uniform(0, 30))
    t0 = time.time(); srv.set("zen.spamhaus.org", []); n += 1
    a = w.wait_alerts(n, 120); lat_del.append(a[-1]["at"] - t0 if len(a) >= n else float("inf"))
w.stop()
out.append(("(a) listing -> alert, default settings (%d rounds)" % ROUNDS,
            "median %.1f s, max %.1f s; delisting -> alert median %.1f s, max %.1f s" %
            (statistics.median(lat_list), max(lat_list), statistics.median(lat_del), max(lat_del))))

# ---- (b) mail log line -> alert
log = os.path.join(TMP, "mail.log"); open(log, "w").close()
w = Watch("log", "watch = 192.0.2.1\nlists = %s\nmail_log = %s\n" % (zen, log))
time.sleep(45)
LINE = ("Dec  3 22:10:01 mail postfix/smtp[4242]: 4ThXyZ1abcz3x: to=<bob@example.com>, "
        "relay=mx.example.com[192.0.2.25]:25, delay=0.41, dsn=5.7.1, status=bounced (host "
        "mx.example.com[192.0.2.25] said: 554 5.7.1 Service unavailable; Client host "
        "[192.0.2.1] blocked using zen.spamhaus.org (in reply to RCPT TO command))\n")
lat_log = []
n = 0
for r in range(ROUNDS):
    time.sleep(random.uniform(1, 5))
    srv.set("zen.spamhaus.org", ["192.0.2.1"]); time.sleep(0.3)
    t0 = time.time()
    with open(log, "a") as f:
        f.write(LINE)
    n += 1
    a = w.wait_alerts(n, 120); lat_log.append(a[-1]["at"] - t0 if len(a) >= n else float("inf"))
    srv.set("zen.spamhaus.org", []); n += 1
    w.wait_alerts(n, 120)
w.stop()
out.append(("(b) mail log rejection -> alert (%d rounds)" % ROUNDS,
            "median %.2f s, max %.2f s" % (statistics.median(lat_log), max(lat_log))))
srv.stop()

# ---- (c) a /16 against 30 lists
cat = subprocess.run([RBLKIT, "check", "--list-catalog"], stdout=subprocess.PIPE,
                     universal_newlines=True).stdout
zones = [l.split()[1] for l in cat.splitlines()[1:]
         if len(l.split()) > 4 and "ip4" in l.split()[2] and l.split()[-2] == "active"
         and "YOURKEY" not in l][:30]
srv = Serve(zones)
w = Watch("budget", "watch = 10.1.0.0/16\nlists = %s\nmetrics = 127.0.0.1:%d\n" %
          (", ".join(srv.spec(z) for z in zones), free_port()))
mport = int(open(w.conf).read().split("metrics = 127.0.0.1:")[1].split()[0])
time.sleep(BUDGET_S)
body = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/" % mport], stdout=subprocess.PIPE,
                      universal_newlines=True).stdout
used = {m[0]: int(m[1]) for m in re.findall(r'rblkit_watch_budget_used\{list="([^"]+)"\} (\d+)', body)}
budget = {m[0]: int(m[1]) for m in re.findall(r'rblkit_watch_budget_queries\{list="([^"]+)"\} (\d+)', body)}
every = {m[0]: int(m[1]) for m in re.findall(r'rblkit_watch_interval_seconds\{list="([^"]+)"\} (\d+)', body)}
w.stop(); srv.stop()
worst = 0.0
rows = []
for k in sorted(used):
    day = used[k] * 86400.0 / BUDGET_S
    frac = day / budget[k] if budget[k] else 0
    worst = max(worst, frac)
    rows.append("| %s | %d | %d s | %d | %.0f | %.0f %% |" % (k.split("@")[0], budget[k], every[k],
                                                           used[k], day, 100 * frac))
out.append(("(c) 10.1.0.0/16 x %d lists, %d s" % (len(used), BUDGET_S),
            "highest share of a budget, extrapolated to a day: %.0f %%" % (100 * worst)))

# ---- (d) refusal codes, list-everything, flapping
srv = Serve(["zen.spamhaus.org", "bl.spamcop.net", "psbl.surriel.com"])
srv.set("bl.spamcop.net", ["0.0.0.0/1", "128.0.0.0/1"])
srv.set("psbl.surriel.com", [], "192.0.2.1 :127.255.255.254:refused\n")
w = Watch("flap", "watch = 192.0.2.1\nlists = %s, %s, %s\ninterval = 5s\n" %
          (srv.spec("zen.spamhaus.org"), srv.spec("bl.spamcop.net"), srv.spec("psbl.surriel.com")))
end = time.time() + FLAP_S
on = False
flips = 0
while time.time() < end:
    on = not on; flips += 1
    srv.set("zen.spamhaus.org", ["192.0.2.1"] if on else [])
    time.sleep(random.uniform(1, 4))
srv.set("zen.spamhaus.org", [])
time.sleep(20)
a = w.got()
w.stop(); srv.stop()
import sqlite3
db = sqlite3.connect(os.path.join(w.dir, "watch.db"))
zen_tr = db.execute("SELECT id FROM watch_transitions WHERE target = '192.0.2.1' AND list LIKE"
                    " 'zen%' AND (to_state = 2 OR from_state = 2)").fetchall()
al = db.execute("SELECT transition_id, COUNT(*) FROM watch_alerts GROUP BY transition_id").fetchall()
db.close()
assert all(n == 1 for _, n in al), al
listed_other = [x for x in a if x["RBLKIT_WATCH_EVENT"] == "listed" and "zen" not in x["RBLKIT_WATCH_LIST"]]
ids = [x["RBLKIT_WATCH_TRANSITION_ID"] for x in a if x["RBLKIT_WATCH_TARGET"]]
out.append(("(d) refusal code + list-everything lists", "%d listing alerts from them; list-error "
            "alerts: %d" % (len(listed_other), sum(x["RBLKIT_WATCH_EVENT"] == "list-error" for x in a))))
out.append(("(d) flapping every 1-4 s for %d s (%d flips)" % (FLAP_S, flips),
            "%d transitions to/from listed, %d alerts for targets, "
            "%d distinct" % (len(zen_tr), len(ids), len(set(ids)))))

print("\n## watch.sh results (%s)\n" % time.strftime("%Y-%m-%d"))
print("Command: `bench/watch.sh --rounds %d --budget-seconds %d --flap-seconds %d`\n" %
      (ROUNDS, BUDGET_S, FLAP_S))
print("| measure | result |\n|---|---|")
for k, v in out:
    print("| %s | %s |" % (k, v))
print("\n| list | budget/day | interval | queries in %d s | per day | of budget |" % BUDGET_S)
print("|---|---:|---:|---:|---:|---:|")
print("\n".join(rows))
print("\nraw: latency listing %s, delisting %s, log %s" %
      ([round(x, 1) for x in lat_list], [round(x, 1) for x in lat_del], [round(x, 2) for x in lat_log]))
subprocess.run(["rm", "-rf", TMP])
PY
