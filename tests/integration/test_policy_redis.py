"""rblkit policy with outbound_store = redis://...: the outbound counters
shared by several daemons through a real redis-server (started here on a
free loopback port), and the faults: Redis killed, restarted, stopped
(SIGSTOP: it accepts but never answers), a password, and a fake server
that answers garbage.  No timings: a request must be answered (the
client's socket timeout is 10 s), the daemon must stay up, and the counts
must be right."""

import os
import subprocess
import threading

import pytest

import servers
from postfix_helper import PolicyDaemon
from redis_helper import GarbageRedis, RedisServer


def conf(url, extra=""):
    return ("outbound_limits = 5 messages/hour\n"
            f"outbound_store = {url}\n" + extra)


def eom(c, user="u@example.com", rcpts=1):
    """One message at END-OF-MESSAGE (where it is counted)."""
    return c.ask(protocol_state="END-OF-MESSAGE", sasl_username=user,
                 client_address="192.0.2.9", recipient_count=str(rcpts))


def wait_up(d, timeout=10.0):
    assert d.wait_log("connected; counts are shared", timeout), d.log()


def counter(r, user="u@example.com", field="m"):
    """The sum of field over the user's counter keys in Redis."""
    keys = [k for k in r.cli("--scan", "--pattern", f"rblkit:c:*:{user}").split() if k]
    return sum(int(r.cli("HGET", k, field).strip() or 0) for k in keys)


@pytest.fixture
def redis():
    with RedisServer() as r:
        yield r


def test_three_daemons_let_through_exactly_the_limit(redis):
    """100 messages/hour for one user, 300 messages spread over three
    daemons at once: exactly 100 accepted (not 300)."""
    ds = [PolicyDaemon(conf(redis.url).replace("5 messages", "100 messages"))
          for _ in range(3)]
    try:
        for d in ds:
            d.start()
            wait_up(d)
        results = []
        lock = threading.Lock()

        def run(d):
            c = d.connect()
            mine = [eom(c, "burst@example.com") for _ in range(100)]
            with lock:
                results.extend(mine)

        ts = [threading.Thread(target=run, args=(d,)) for d in ds]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert len(results) == 300
        assert results.count("DUNNO") == 100, results
        assert all(a.startswith("DEFER 4.7.1 Sending limit exceeded") for a in results
                   if a != "DUNNO")
        assert counter(redis, "burst@example.com") == 100
        for d in ds:
            assert "failed" in d.command("status").stdout
            assert "outbound store: up" in d.command("status").stdout
    finally:
        for d in ds:
            d.close()


def test_alert_once_for_the_cluster_and_keys_expire(redis, tmp_path):
    alerts = tmp_path / "alerts"
    extra = f'alert_command = echo "$RBLKIT_USER $RBLKIT_COUNT $RBLKIT_WINDOW" >> {alerts}\n'
    with PolicyDaemon(conf(redis.url, extra)) as a, PolicyDaemon(conf(redis.url, extra)) as b:
        wait_up(a)
        wait_up(b)
        ca, cb = a.connect(), b.connect()
        for i in range(5):
            assert eom(ca if i % 2 else cb) == "DUNNO"
        # both daemons see the crossing; one alert for the cluster
        assert eom(ca).startswith("DEFER")
        assert eom(cb).startswith("DEFER")
        assert eom(ca).startswith("DEFER")
        assert a.wait_log("blocked at 5") and b.wait_log("blocked at 5")
        assert b.wait_log("alert already sent in this window") or \
            a.wait_log("alert already sent in this window")
        a.stop()
        b.stop()
        assert alerts.read_text().splitlines() == ["u@example.com 5 hour"]
        # the counter key lives for its window and the next one; the
        # alert key for the window
        ck = redis.cli("--scan", "--pattern", "rblkit:c:3600:*").split()
        ak = redis.cli("--scan", "--pattern", "rblkit:a:*").split()
        assert len(ck) == 1 and len(ak) == 1
        assert 3600 < int(redis.cli("TTL", ck[0])) <= 7200
        assert 0 < int(redis.cli("TTL", ak[0])) <= 3600


def test_password(tmp_path):
    with RedisServer(password="s3cr;t pw") as r:
        url = f"redis://:s3cr%3Bt%20pw@127.0.0.1:{r.port}/2"
        with PolicyDaemon(conf(url)) as d:
            wait_up(d)
            c = d.connect()
            assert eom(c) == "DUNNO"
            assert "s3cr" not in d.log()	# the password is never logged
        assert r.cli("-n", "2", "DBSIZE").strip() == "1"
        # a wrong password: answered locally, told, never up
        bad = f"redis://:wrong@127.0.0.1:{r.port}/0"
        with PolicyDaemon(conf(bad)) as d:
            assert d.wait_log("error reply: WRONGPASS") or d.wait_log("error reply:"), d.log()
            c = d.connect()
            for _ in range(5):
                assert eom(c) == "DUNNO"
            assert eom(c).startswith("DEFER 4.7.1")	# the local limit
            assert "outbound store: DOWN" in d.command("status").stdout
            assert "wrong" not in d.log()


def test_killed_and_restarted_counts_locally_and_merges_back(tmp_path):
    alerts = tmp_path / "alerts"
    extra = f'alert_command = echo "event=$RBLKIT_EVENT user=$RBLKIT_USER" >> {alerts}\n'
    r = RedisServer().start()
    try:
        with PolicyDaemon(conf(r.url, extra)) as d:
            wait_up(d)
            c = d.connect()
            assert eom(c) == "DUNNO"
            assert eom(c) == "DUNNO"
            assert counter(r) == 2
            r.kill()
            # answered from the local counts (2 so far): 3 more, then DEFER
            for _ in range(3):
                assert eom(c) == "DUNNO"
            assert eom(c).startswith("DEFER 4.7.1 Sending limit exceeded (5 of 5")
            assert d.wait_log("outbound_store unreachable")
            r.start()	# same port, empty: what was counted meanwhile comes back
            assert d.wait_log("merging the counts of 1 users", 10), d.log()
            wait_up(d)
            assert counter(r) == 3
            assert d.log().count("outbound_store unreachable") == 1
            d.stop()
        assert alerts.read_text().count("event=store_unreachable") == 1
    finally:
        r.stop()


def test_stopped_redis_answers_within_the_timeout_and_recovers(redis):
    with PolicyDaemon(conf(redis.url, "outbound_store_timeout = 300\n")) as d:
        wait_up(d)
        c = d.connect()
        assert eom(c) == "DUNNO"
        redis.pause()
        try:
            # the first request waits outbound_store_timeout, the others
            # go to the local counts at once; every one is answered
            for _ in range(4):
                assert eom(c) == "DUNNO"
            assert eom(c).startswith("DEFER")
            assert d.wait_log("no answer within 300 ms")
        finally:
            redis.resume()
        assert d.wait_log("merging the counts of 1 users", 10), d.log()


# the answers to the SCRIPT LOADs of a connection (one per script of
# counters_scripts.c): after them the daemon counts the store as up
SHAS = (b"$40\r\n" + b"a" * 40 + b"\r\n") * 4


@pytest.mark.parametrize("reply", [
    pytest.param(lambda n: b"\x00\xffnot resp at all\r\n", id="binary"),
    pytest.param(lambda n: b"$99999999999\r\n", id="huge-bulk"),
    pytest.param(lambda n: b"*99999\r\n", id="huge-array"),
    pytest.param(lambda n: b"+OK\r\n" * 3, id="status-not-sha"),
    pytest.param(lambda n: b"*1\r\n" * 50 + b":1\r\n", id="deep"),
    pytest.param(lambda n: SHAS if n == 1
                 else b"*6\r\n:9\r\n:0\r\n:0\r\n:0\r\n:0\r\n:0\r\n", id="bad-code"),
    pytest.param(lambda n: SHAS if n == 1
                 else b":1\r\n", id="wrong-type"),
    pytest.param(lambda n: SHAS if n == 1
                 else b"-ERR boom\r\n", id="error"),
    pytest.param(lambda n: SHAS if n == 1
                 else b"*6\r\n:0\r\n:0\r\n:0\r\n:0\r\n:0\r\n:0\r\n" * 2, id="unasked"),
])
def test_garbage_is_an_error_never_a_crash(reply):
    g = GarbageRedis(reply)
    try:
        with PolicyDaemon(conf(g.url)) as d:
            if reply(1) == SHAS:	# up first, then the garbage
                wait_up(d)
            c = d.connect()
            answers = [eom(c) for _ in range(6)]
            assert answers[:5] == ["DUNNO"] * 5, answers
            assert answers[5].startswith("DEFER 4.7.1")
            assert d.proc.poll() is None
    finally:
        g.close()


def test_bad_urls_are_configuration_errors(tmp_path):
    for url, why in [("redis://127.0.0.1/0", "HOST:PORT"),
                     ("redis://127.0.0.1:6379/x", "database"),
                     ("memcache://x", "expected local")]:
        p = tmp_path / "p.conf"
        p.write_text(f"state_dir = {tmp_path}\noutbound_store = {url}\n")
        r = subprocess.run([servers.RBLKIT, "policy", "--check-config", "--config", str(p)],
                           capture_output=True, text=True)
        assert r.returncode == 1 and "outbound_store" in r.stderr and why in r.stderr, \
            (url, r.stderr)


def test_block_until_reset_is_shared_and_reset_clears_it(redis):
    extra = "outbound_block = reset\n"
    with PolicyDaemon(conf(redis.url, extra)) as a, PolicyDaemon(conf(redis.url, extra)) as b:
        wait_up(a)
        wait_up(b)
        ca, cb = a.connect(), b.connect()
        for _ in range(5):
            assert eom(ca) == "DUNNO"
        assert eom(ca).startswith("DEFER")
        # blocked for the cluster, also on b (which counted nothing)
        assert redis.cli("GET", "rblkit:b:u@example.com").strip() == "0:3600"
        assert eom(cb).startswith("DEFER 4.7.1 Sending limit exceeded (5 of 5")
        # a reset through b lifts the block for the cluster
        r = b.command("reset", "u@example.com")
        assert r.returncode == 0 and "counters cleared" in r.stdout, r
        assert redis.cli("EXISTS", "rblkit:b:u@example.com").strip() == "0"
        assert counter(redis) == 0
        assert eom(ca) == "DUNNO"
        assert eom(cb) == "DUNNO"
        assert a.wait_log("is under its limits again")
        # a daemon that never saw the user resets the shared counts too
        with PolicyDaemon(conf(redis.url, extra)) as c:
            wait_up(c)
            r = c.command("reset", "u@example.com")
            assert r.returncode == 0 and "shared counters cleared" in r.stdout, r
        assert counter(redis) == 0


@pytest.mark.parametrize("store", ["local", "redis"])
def test_baseline_holds_a_new_sender_far_above_normal(store, tmp_path):
    """A new sender is assumed to send 2 messages/hour (sd 2): held above
    max(baseline_min 30, 5 * (2 + 3 * 2)) = 40 this hour, before the fixed
    limit of 1000; the alert names the baseline, the count and the top
    recipient domains; status USER shows the baseline."""
    alerts = tmp_path / "alerts"
    extra = ("outbound_baseline = yes\noutbound_action = hold\n"
             f'alert_command = echo "$RBLKIT_EVENT $RBLKIT_USER $RBLKIT_COUNT '
             f'$RBLKIT_LIMIT $RBLKIT_BASELINE $RBLKIT_WINDOW $RBLKIT_DOMAINS" >> {alerts}\n')
    r = RedisServer().start() if store == "redis" else None
    try:
        url = r.url if r else "local"
        with PolicyDaemon(conf(url, extra).replace("5 messages", "1000 messages")) as d:
            if r:
                wait_up(d)
            c = d.connect()
            answers = []
            for i in range(45):
                rc = c.ask(sasl_username="new@example.com", client_address="192.0.2.9",
                           recipient=f"x{i}@{'big.example' if i % 3 else 'other.example'}")
                if rc != "DUNNO":
                    answers.append(rc)
                    continue
                answers.append(eom(c, "new@example.com"))
            assert answers[:40] == ["DUNNO"] * 40
            assert answers[40] == ("HOLD 4.7.1 Unusual sending volume (41 messages this hour, "
                                   "normally about 2.0); contact your provider"), answers[40]
            assert all(a.startswith("HOLD 4.7.1 Unusual") for a in answers[40:])
            assert d.wait_log("outbound baseline: new@example.com: 41 messages this hour")
            st = d.command("status", "new@example.com").stdout
            assert "baseline: 40 msgs this hour (normal 2.0 +- 2.0, held above 40)" in st, st
            assert "recipient domains this hour: big.example:" in st, st
            d.stop()
        lines = alerts.read_text().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("baseline new@example.com 41 40 2.0 hour big.example:")
        assert "other.example:" in lines[0]
    finally:
        if r:
            r.stop()


def test_baseline_off_by_default_changes_nothing(redis):
    with PolicyDaemon(conf(redis.url).replace("5 messages", "1000 messages")) as d:
        wait_up(d)
        c = d.connect()
        assert all(eom(c, "many@example.com") == "DUNNO" for _ in range(60))
        assert "baseline" not in d.command("status", "many@example.com").stdout


def test_tls_with_password_and_a_checked_certificate(tmp_path):
    with RedisServer(password="tls-pw", tls=True) as r:
        extra = f"outbound_store_ca = {r.ca}\n"
        with PolicyDaemon(conf(r.url, extra)) as d:
            wait_up(d)
            assert "rediss://***@127.0.0.1" in d.log()
            c = d.connect()
            for _ in range(5):
                assert eom(c) == "DUNNO"
            assert eom(c).startswith("DEFER 4.7.1 Sending limit exceeded (5 of 5")
            assert counter(r) == 5
        # a certificate the configured CA did not sign: never up, answered
        # locally, the reason told
        other = tmp_path / "other"
        other.mkdir()
        from redis_helper import make_tls_files
        wrong_ca = make_tls_files(str(other))[0]
        with PolicyDaemon(conf(r.url, f"outbound_store_ca = {wrong_ca}\n")) as d:
            assert d.wait_log("TLS handshake failed: certificate"), d.log()
            c = d.connect()
            assert eom(c) == "DUNNO"
            assert "outbound store: DOWN" in d.command("status").stdout
        # plain TCP to the TLS port: an error, not a hang or a crash
        with PolicyDaemon(conf(r.url.replace("rediss://", "redis://"))) as d:
            c = d.connect()
            assert eom(c) == "DUNNO"
            assert d.proc.poll() is None


def test_baseline_is_shared_by_the_cluster(redis):
    """Two daemons, one sender: its normal and its hour are counted in
    Redis, so it is held after 40 messages in all (not 40 per daemon)."""
    extra = "outbound_baseline = yes\n"
    cfg = conf(redis.url, extra).replace("5 messages", "1000 messages")
    with PolicyDaemon(cfg) as a, PolicyDaemon(cfg) as b:
        wait_up(a)
        wait_up(b)
        ca, cb = a.connect(), b.connect()
        answers = [eom(ca if i % 2 else cb, "spread@example.com") for i in range(50)]
        assert answers[:40] == ["DUNNO"] * 40, answers
        assert all(x.startswith("DEFER 4.7.1 Unusual sending volume (41 messages this hour")
                   for x in answers[40:]), answers[40:]
        h = redis.cli("HGET", "rblkit:bl:spread@example.com", "hn").strip()
        assert h == "40"
        assert 0 < int(redis.cli("TTL", "rblkit:bl:spread@example.com")) <= 30 * 86400
        # one alert log line in the cluster
        assert (a.log() + b.log()).count("outbound baseline: spread@example.com") == 1


NETNS_SCRIPT = r'''
import json, os, socket, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import servers
from redis_helper import RedisServer

d = sys.argv[2]
out = {}
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
r = RedisServer().start()
sock = os.path.join(d, "policy.sock")
with open(os.path.join(d, "p.conf"), "w") as f:
    f.write(f"listen = {sock}\nstate_dir = {d}/state\noutbound_limits = 5 messages/hour\n"
            f"outbound_store = {r.url}\noutbound_store_timeout = 300\n")
log = open(os.path.join(d, "log"), "wb")
p = subprocess.Popen([servers.RBLKIT, "policy", "--config", os.path.join(d, "p.conf")],
                     stdout=log, stderr=subprocess.STDOUT)
def logtext():
    return open(os.path.join(d, "log"), errors="replace").read()
def wait(text, t=10):
    end = time.monotonic() + t
    while time.monotonic() < end:
        if text in logtext():
            return True
        time.sleep(0.05)
    return False
try:
    assert wait("counts are shared"), logtext()
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(10)
    c.connect(sock)
    f = c.makefile("rwb")
    def eom():
        f.write(b"request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\n"
                b"sasl_username=u@example.com\nclient_address=192.0.2.9\nrecipient_count=1\n\n")
        f.flush()
        a = f.readline().decode().strip()[len("action="):]
        f.readline()
        return a
    out["before"] = [eom(), eom()]
    subprocess.run(["ip", "link", "set", "lo", "down"], check=True)
    out["cut"] = [eom() for _ in range(4)]
    out["timeout_logged"] = wait("no answer within 300 ms")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    out["merged"] = wait("merging the counts of 1 users")
    time.sleep(0.5)
    out["redis"] = r.cli("HGET", [k for k in r.cli("--scan", "--pattern", "rblkit:c:3600:*").split()][0], "m").strip()
    out["alive"] = p.poll() is None
finally:
    p.terminate()
    p.wait()
    r.stop()
print(json.dumps(out))
'''


def test_link_dropped_in_a_network_namespace(tmp_path):
    """Redis and the daemon in a network namespace of their own (its own
    loopback, Postfix's side on a unix socket); the loopback link is
    dropped (packets vanish, no reset) and brought back."""
    if os.geteuid() != 0:
        pytest.skip("needs root for unshare -n")
    script = tmp_path / "netns.py"
    script.write_text(NETNS_SCRIPT)
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run(["unshare", "-n", "/usr/bin/python3", str(script), here, str(tmp_path)],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "RBLKIT": servers.RBLKIT})
    assert r.returncode == 0, r.stdout + r.stderr
    import json
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["before"] == ["DUNNO", "DUNNO"]
    # 2 shared + 3 local = 5, then the local limit
    assert out["cut"][:3] == ["DUNNO"] * 3, out
    assert out["cut"][3].startswith("DEFER 4.7.1"), out
    assert out["timeout_logged"] and out["merged"] and out["alive"], out
    # merged back: 2 + 3, and the request cut off is not run twice
    assert out["redis"] == "5", out


@pytest.mark.slow
def test_postfix_with_sasl_and_another_daemon_share_one_limit(redis):
    """End to end: a real Postfix (SMTP AUTH by swaks) on daemon a, and
    daemon b (another server's) on the same Redis: 3 messages/hour for
    dora across both."""
    from postfix_helper import Postfix, swaks
    cfg = conf(redis.url).replace("5 messages", "3 messages")
    with PolicyDaemon(cfg) as a, PolicyDaemon(cfg) as b:
        wait_up(a)
        wait_up(b)
        with Postfix(a.target, users={"dora": "secret"}) as pf:
            r = swaks(pf.port, auth=("dora", "secret"), to="x@example.net")
            assert r.code(".") == 250, str(r)
            # the other server's daemon counts dora's mail there
            cb = b.connect()
            assert eom(cb, "dora") == "DUNNO"
            assert eom(cb, "dora") == "DUNNO"
            r = swaks(pf.port, auth=("dora", "secret"), to="x@example.net")
            assert r.code("RCPT TO") == 450, str(r)
            assert "Sending limit exceeded (3 of 3 messages per hour)" in r.reply_to("RCPT TO")
        assert counter(redis, "dora") == 3


def test_local_baselines_survive_a_restart(tmp_path):
    """outbound_store = local: the baselines are written to
    state_dir/baselines at SIGTERM and read at start; a damaged file is
    told and what came before the damage kept."""
    cfg = conf("local", "outbound_baseline = yes\n").replace("5 messages", "1000 messages")
    with PolicyDaemon(cfg) as d:
        c = d.connect()
        for _ in range(10):
            assert eom(c, "keep me@example.com") == "DUNNO"
        d.restart()
        assert d.wait_log("1 baselines loaded")
        c = d.connect()
        assert eom(c, "keep me@example.com") == "DUNNO"
        st = d.command("status", "keep me@example.com").stdout
        # the hour's count came back with the normal (10 before, 11 now)
        assert "baseline: 11 msgs this hour" in st, st
        d.stop()
        path = os.path.join(d.state_dir, "baselines")
        with open(path, "a") as f:
            f.write("1 2 x\n")
        d.start()
        assert d.wait_log("a damaged line; the rest is ignored")
        c = d.connect()
        assert eom(c, "keep me@example.com") == "DUNNO"
        assert "baseline: 12 msgs this hour" in d.command("status", "keep me@example.com").stdout


def rcpt_then_eom(c, user, rcpt):
    """RCPT (checked), then END-OF-MESSAGE when the RCPT was not refused."""
    a = c.ask(sasl_username=user, client_address="192.0.2.9", recipient=rcpt)
    return a if a != "DUNNO" else eom(c, user)


@pytest.mark.parametrize("store", ["local", "redis"])
def test_baseline_holds_a_sender_writing_to_many_domains(store, tmp_path):
    """baseline_domains_factor = 5: a new sender is assumed to write to
    1 +- 1 domains an hour, held above max(10, 5 * 4) = 20 distinct
    recipient domains; 30 messages to one domain are not held (the volume
    threshold is 40). The alert names the measure and the top domains."""
    alerts = tmp_path / "alerts"
    extra = ("outbound_baseline = yes\nbaseline_domains_factor = 5\n"
             f'alert_command = echo "$RBLKIT_EVENT $RBLKIT_KIND $RBLKIT_USER $RBLKIT_COUNT '
             f'$RBLKIT_LIMIT $RBLKIT_BASELINE $RBLKIT_WINDOW $RBLKIT_DOMAINS" >> {alerts}\n')
    r = RedisServer().start() if store == "redis" else None
    try:
        url = r.url if r else "local"
        with PolicyDaemon(conf(url, extra).replace("5 messages", "1000 messages")) as d:
            if r:
                wait_up(d)
            c = d.connect()
            spam = [rcpt_then_eom(c, "spam@example.com",
                                  f"x{i}@{'gmail.example' if i % 2 else f'd{i}.example'}")
                    for i in range(44)]
            # 21 distinct domains at i = 38 (gmail.example and d0, d2, ... d38)
            assert spam[:38] == ["DUNNO"] * 38, spam
            assert spam[38] == ("DEFER 4.7.1 Unusual number of recipient domains (21 this "
                                "hour, normally about 1.0); contact your provider"), spam[38]
            assert all(a.startswith("DEFER 4.7.1 Unusual number") for a in spam[38:]), spam
            honest = [rcpt_then_eom(c, "honest@example.com", f"y{i}@one.example")
                      for i in range(30)]
            assert honest == ["DUNNO"] * 30
            assert d.wait_log("outbound baseline: spam@example.com: 21 recipient domains "
                              "this hour, normally 1.0 +- 1.0 (held above 20); "
                              "recipient domains: gmail.example:19 "), d.log()
            st = d.command("status", "spam@example.com").stdout
            # the refused RCPTs count their domains too (d40, d42): held for the hour
            assert "; 23 recipient domains this hour (normal 1.0 +- 1.0, held above 20)" in st, st
            assert "baseline: HELD: 23 recipient domains this hour, above 20" in st, st
            st = d.command("status", "honest@example.com").stdout
            assert "; 1 recipient domains this hour" in st and "HELD" not in st, st
            d.stop()
        lines = alerts.read_text().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("baseline domains spam@example.com 21 20 1.0 hour "
                                   "gmail.example:19 "), lines
        if r:
            keys = r.cli("--scan", "--pattern", "rblkit:d:3600:*:spam@example.com").split()
            assert len(keys) == 1
            assert r.cli("PFCOUNT", keys[0]).strip() == "23"
            assert 0 < int(r.cli("TTL", keys[0])) <= 3660
    finally:
        if r:
            r.stop()


def test_status_of_a_user_is_the_clusters_view(redis):
    """Three daemons on one Redis, one user through all three: status USER
    on any of them shows the sum of their counts, the shared baseline and
    whether it is held; a user counted by another daemon only is shown
    too, and one nobody counted is an error."""
    cfg = conf(redis.url, "outbound_baseline = yes\n").replace("5 messages", "100 messages")
    ds = [PolicyDaemon(cfg) for _ in range(3)]
    try:
        for d in ds:
            d.start()
            wait_up(d)
        for i, d in enumerate(ds):
            c = d.connect()
            for _ in range(i + 2):	# 2 + 3 + 4 = 9
                assert eom(c, "all@example.com") == "DUNNO"
        for d in ds:
            r = d.command("status", "all@example.com")
            assert r.returncode == 0, r
            assert r.stdout.startswith("all@example.com  9/100 msgs/hour  (all daemons: "
                                       "outbound_store)\n"), r.stdout
            assert "  baseline: 9 msgs this hour (normal 2.0 +- 2.0, held above 40)" in r.stdout
            assert "HELD" not in r.stdout
        c = ds[2].connect()
        assert eom(c, "only-c@example.com") == "DUNNO"
        r = ds[0].command("status", "only-c@example.com")
        assert r.returncode == 0 and r.stdout.startswith("only-c@example.com  1/100"), r
        r = ds[0].command("status", "nobody@example.com")
        assert r.returncode == 1 and "not counted by any daemon" in r.stdout + r.stderr, r
        # held for the cluster: 40 in all, then the next is refused
        for i in range(31):
            assert eom(ds[i % 3].connect(), "all@example.com") == "DUNNO"
        st = ds[1].command("status", "all@example.com").stdout
        assert st.startswith("all@example.com  40/100 msgs/hour"), st
        assert "  baseline: HELD: 41 msgs this hour, above 40" in st, st
    finally:
        for d in ds:
            d.close()


def test_garbage_to_status_is_answered_locally():
    """status USER asks the store; a reply that is not the STATUS script's
    is an error: this daemon's view is shown, said so, and it stays up."""
    g = GarbageRedis(lambda n: SHAS if n == 1 else b"*3\r\n:1\r\n$1\r\nx\r\n:2\r\n")
    try:
        with PolicyDaemon(conf(g.url)) as d:
            wait_up(d)
            r = d.command("status", "u@example.com")
            assert "outbound_store did not answer: this daemon's share only" in r.stdout, r
            assert d.wait_log("a status reply that is not the script's"), d.log()
            assert d.proc.poll() is None
            assert eom(d.connect()) == "DUNNO"
    finally:
        g.close()
