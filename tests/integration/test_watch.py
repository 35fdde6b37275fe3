"""`rblkit watch` (issue 14): the monitoring daemon against real lists.

`rblkit serve` on loopback stands in for the lists (zones named like the
real ones: zen.spamhaus.org, bl.spamcop.net), asked as ZONE@127.0.0.1:PORT;
the data is changed mid-run (file rewritten + SIGHUP to serve). Alerts go
to a command that writes one file per alert, a webhook receiver
(http.server in the test), or a sendmail stand-in that files each message.

- a listing gives one alert with the list, the code's meaning, the TXT
  and the delisting URL; its removal gives one more; status shows both;
- a refusal code (127.255.255.254) and a list that lists everything
  (RFC 5782 probe) are list errors with their own alert, never listings;
- a resolver that never answers: a list error, the daemon keeps watching;
- flapping data: exactly one alert per recorded transition;
- kill -9 and restart: history kept, no alert sent twice;
- SIGHUP: a new target is watched, the state of the others kept;
- a hanging webhook does not stop the checks; a working one gets JSON;
- Prometheus metrics parse; configuration errors name FILE:LINE;
- `rblkit watch note` (policy's alert hook) is quoted by the next alert.

Waits poll the store through `rblkit watch status --json` with generous
deadlines; nothing asserts a duration.
"""

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import servers
from helpers_proto import write_data

SOA = ("$SOA 300 ns.{z} hostmaster.{z} 0 600 300 86400 300\n"
       "$NS 300 ns.{z}\n")
WAIT = 30.0


def zone_text(zone, listed=(), extra=""):
    return (SOA.format(z=zone) + ":127.0.0.2:Listed $ see https://example.test/\n"
            "127.0.0.2\n" + "".join(ip + "\n" for ip in listed) + extra)


class Lists:
    """rblkit serve with zones zen.spamhaus.org and bl.spamcop.net."""

    def __init__(self, datadir):
        self.datadir = datadir
        self.data = {"zen.spamhaus.org": ([], ""), "bl.spamcop.net": ([], "")}
        self._write()
        specs = ["%s:ip4set:%s.txt" % (z, z) for z in self.data]
        self.srv = servers.start_rblkit(specs, datadir)
        self.port = self.srv.port

    def _write(self):
        for z, (listed, extra) in self.data.items():
            write_data(self.datadir, z + ".txt", zone_text(z, listed, extra))

    def set(self, zone, listed=(), extra=""):
        """Change a zone's data and make serve reload it; return once it answers so."""
        self.data[zone] = (list(listed), extra)
        self._write()
        self.srv.proc.send_signal(signal.SIGHUP)
        probe = None
        if listed and "/" not in listed[0]:
            probe = ".".join(reversed(listed[0].split("."))) + "." + zone
        deadline = time.monotonic() + 10
        while probe and time.monotonic() < deadline:
            r = self.srv.query(probe, "A")
            if r is not None and r.answer:
                return
            time.sleep(0.05)
        time.sleep(0.3)     # the removal case: serve's reload is quick

    def spec(self, zone):
        return "%s@127.0.0.1:%d" % (zone, self.port)

    def stop(self):
        self.srv.stop()


@pytest.fixture
def lists(datadir):
    ls = Lists(datadir)
    yield ls
    ls.stop()


class Watch:
    def __init__(self, rblkit_bin, workdir, conf):
        self.bin = rblkit_bin
        self.dir = workdir
        self.conf = os.path.join(workdir, "watch.conf")
        self.alerts = os.path.join(workdir, "alerts")
        os.makedirs(self.alerts, exist_ok=True)
        self.proc = None
        self.write(conf)

    def write(self, conf):
        with open(self.conf, "w") as f:
            f.write(conf)

    def start(self):
        self.log = open(os.path.join(self.dir, "watch.log"), "ab")
        self.proc = subprocess.Popen([self.bin, "watch", "--config", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)
        self.proc = None

    def logtext(self):
        with open(os.path.join(self.dir, "watch.log"), errors="replace") as f:
            return f.read()

    def status(self):
        p = subprocess.run([self.bin, "watch", "status", "--config", self.conf, "--json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=20)
        if p.returncode:
            return None
        return json.loads(p.stdout)

    def wait(self, cond, what, timeout=WAIT):
        deadline = time.monotonic() + timeout
        st = None
        while time.monotonic() < deadline:
            assert self.proc is None or self.proc.poll() is None, self.logtext()
            st = self.status()
            if st is not None and cond(st):
                return st
            time.sleep(0.2)
        pytest.fail("waited for %s; last status %s\nlog:\n%s" % (what, st, self.logtext()))

    def alert_files(self):
        out = []
        for name in sorted((n for n in os.listdir(self.alerts) if n.isdigit()), key=int):
            with open(os.path.join(self.alerts, name)) as f:
                out.append(json.load(f))
        return out

    def wait_alerts(self, n, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.alert_files()) >= n:
                return self.alert_files()
            time.sleep(0.1)
        pytest.fail("waited for %d alerts, got %s\n%s" % (n, self.alert_files(), self.logtext()))


ALERT_SH = """#!/usr/bin/python3
import json, os
d = "{dir}/alerts/"
env = {{k: v for k, v in os.environ.items() if k.startswith("RBLKIT_WATCH_")}}
with open(d + env["RBLKIT_WATCH_ALERT_ID"] + ".tmp", "w") as f:
    json.dump(env, f)
os.rename(d + env["RBLKIT_WATCH_ALERT_ID"] + ".tmp", d + env["RBLKIT_WATCH_ALERT_ID"])
"""


def base_conf(tmp, lists_specs, targets, extra=""):
    sh = os.path.join(tmp, "alert.sh")
    with open(sh, "w") as f:
        f.write(ALERT_SH.format(dir=tmp))
    os.chmod(sh, 0o755)
    return ("watch = %s\nlists = %s\nstore = sqlite:%s/watch.db\ninterval = 1s\n"
            "confirm = 2\nconfirm_delay = 0s\nprobe_interval = 1m\n"
            "alert_command = %s\n%s" % (", ".join(targets), ", ".join(lists_specs), tmp, sh,
                                        extra))


@pytest.fixture
def watch_factory(rblkit_bin, tmp_path):
    made = []

    def make(conf_fn, sub="w"):
        d = str(tmp_path / sub)
        os.makedirs(d, exist_ok=True)
        w = Watch(rblkit_bin, d, conf_fn(d))
        made.append(w)
        return w
    yield make
    for w in made:
        w.stop(signal.SIGKILL)


def pair(st, target, zone_spec):
    for l in st["listed"]:
        if l["target"] == target and l["list"] == zone_spec:
            return l
    return None


def list_state(st, spec):
    for l in st["lists"]:
        if l["list"] == spec:
            return l
    return None


def test_listing_and_delisting_give_one_alert_each(lists, watch_factory):
    zen = lists.spec("zen.spamhaus.org")
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1", "192.0.2.2"])).start()
    w.wait(lambda st: pair(st, "192.0.2.1", zen), "the listing")
    a = w.wait_alerts(1)
    assert a[0]["RBLKIT_WATCH_EVENT"] == "listed"
    assert a[0]["RBLKIT_WATCH_TARGET"] == "192.0.2.1"
    assert a[0]["RBLKIT_WATCH_LIST"] == zen
    assert a[0]["RBLKIT_WATCH_LIST_NAME"] == "Spamhaus ZEN"
    assert a[0]["RBLKIT_WATCH_CODES"] == "127.0.0.2"
    assert "Spamhaus Block List" in a[0]["RBLKIT_WATCH_MEANING"]
    assert a[0]["RBLKIT_WATCH_TXT"] == "Listed 192.0.2.1 see https://example.test/"
    assert "192.0.2.1" in a[0]["RBLKIT_WATCH_DELIST"]
    assert a[0]["RBLKIT_WATCH_DELIST"].startswith("https://")

    lists.set("zen.spamhaus.org", [])
    w.wait(lambda st: not pair(st, "192.0.2.1", zen), "the delisting")
    a = w.wait_alerts(2)
    assert [x["RBLKIT_WATCH_EVENT"] for x in a] == ["listed", "delisted"]
    st = w.status()
    tr = [(t["target"], t["from"], t["to"]) for t in st["transitions"] if t["target"]]
    assert ("192.0.2.1", "unknown", "listed") in tr
    assert ("192.0.2.1", "listed", "clean") in tr
    assert ("192.0.2.2", "unknown", "clean") in tr
    # the clean target never alerted; nothing waits to be sent
    time.sleep(1.5)
    assert len(w.alert_files()) == 2
    assert w.status()["alerts_not_sent"] == []


def test_refusal_code_is_a_list_error_never_a_listing(lists, watch_factory):
    zen = lists.spec("zen.spamhaus.org")
    lists.set("zen.spamhaus.org", [], extra="192.0.2.9 :127.255.255.254:refused\n")
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.9"])).start()
    st = w.wait(lambda st: list_state(st, zen)["state"] == "error", "the list error")
    assert "127.255.255.254" in list_state(st, zen)["why"]
    a = w.wait_alerts(1)
    assert a[0]["RBLKIT_WATCH_EVENT"] == "list-error"
    assert a[0]["RBLKIT_WATCH_TARGET"] == ""
    assert "127.255.255.254" in a[0]["RBLKIT_WATCH_WHY"]
    time.sleep(2)
    st = w.status()
    assert st["listed"] == []
    assert st["counts"]["listed"] == 0
    assert [x["RBLKIT_WATCH_EVENT"] for x in w.alert_files()] == ["list-error"]
    # the list answers properly again: one "list-ok" alert
    lists.set("zen.spamhaus.org", [])
    w.wait(lambda st: list_state(st, zen)["state"] == "ok", "the list's recovery")
    a = w.wait_alerts(2)
    assert [x["RBLKIT_WATCH_EVENT"] for x in a] == ["list-error", "list-ok"]


def test_a_list_that_lists_everything_is_an_error(lists, watch_factory):
    spam = lists.spec("bl.spamcop.net")
    lists.set("bl.spamcop.net", ["0.0.0.0/1", "128.0.0.0/1"])
    w = watch_factory(lambda d: base_conf(d, [spam], ["192.0.2.1", "192.0.2.2"])).start()
    st = w.wait(lambda st: list_state(st, spam)["state"] == "error", "the list error")
    assert "127.0.0.1" in list_state(st, spam)["why"]
    time.sleep(2)
    st = w.status()
    assert st["listed"] == []
    assert [x["RBLKIT_WATCH_EVENT"] for x in w.alert_files()] == ["list-error"]


def test_a_list_that_starts_listing_everything_is_not_a_listing(lists, watch_factory):
    """The listing is confirmed only with the RFC 5782 probe: a list that
    turns to listing everything mid-run never gives a 'listed' alert."""
    spam = lists.spec("bl.spamcop.net")
    w = watch_factory(lambda d: base_conf(d, [spam], ["192.0.2.1"])).start()
    w.wait(lambda st: any(t["target"] == "192.0.2.1" and t["to"] == "clean"
                          for t in st["transitions"]), "the first verdict")
    lists.set("bl.spamcop.net", ["0.0.0.0/1", "128.0.0.0/1"])
    w.wait(lambda st: list_state(st, spam)["state"] == "error", "the list error")
    time.sleep(2)
    assert w.status()["listed"] == []
    assert [x["RBLKIT_WATCH_EVENT"] for x in w.alert_files()] == ["list-error"]


def test_a_list_that_stops_listing_anything_does_not_delist(lists, watch_factory):
    """The end of a listing is confirmed with the RFC 5782 probe too: a
    list emptied mid-run (NXDOMAIN for everything, its test point too) is
    a list error, never a 'delisted' alert (it was: two checks 5 s apart
    without the probe delisted every listed target)."""
    spam = lists.spec("bl.spamcop.net")
    lists.set("bl.spamcop.net", ["192.0.2.1"])
    w = watch_factory(lambda d: base_conf(d, [spam], ["192.0.2.1"]).replace(
        "probe_interval = 1m", "probe_interval = 1h")).start()
    w.wait(lambda st: pair(st, "192.0.2.1", spam), "the listing")
    write_data(lists.datadir, "bl.spamcop.net.txt", SOA.format(z="bl.spamcop.net"))
    lists.srv.proc.send_signal(signal.SIGHUP)
    w.wait(lambda st: list_state(st, spam)["state"] == "error", "the list error")
    time.sleep(3)                               # several checks of the target
    st = w.status()
    assert pair(st, "192.0.2.1", spam), st
    assert [x["RBLKIT_WATCH_EVENT"] for x in w.alert_files()] == ["listed", "list-error"]


def test_a_resolver_that_never_answers_is_an_error_and_watching_goes_on(lists, watch_factory):
    mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mute.bind(("127.0.0.1", 0))
    dead = "zen.spamhaus.org@127.0.0.1:%d" % mute.getsockname()[1]
    spam = lists.spec("bl.spamcop.net")
    lists.set("bl.spamcop.net", ["192.0.2.1"])
    try:
        w = watch_factory(lambda d: base_conf(d, [dead, spam], ["192.0.2.1"],
                                              "timeout = 1s\n")).start()
        st = w.wait(lambda st: list_state(st, dead)["state"] == "error", "the dead list's error",
                    timeout=60)
        assert re.search(r"timeout|timed out|no answer", list_state(st, dead)["why"], re.I)
        # the other list is watched all the same
        w.wait(lambda st: pair(st, "192.0.2.1", spam), "the listing on the live list")
        assert w.proc.poll() is None
    finally:
        mute.close()


def test_flapping_data_gives_one_alert_per_transition(lists, watch_factory):
    zen = lists.spec("zen.spamhaus.org")
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"])).start()
    w.wait(lambda st: any(t["target"] == "192.0.2.1" for t in st["transitions"]), "a verdict")
    for i in range(8):
        lists.set("zen.spamhaus.org", ["192.0.2.1"] if i % 2 == 0 else [])
        time.sleep(0.3 + 0.4 * (i % 3))
    lists.set("zen.spamhaus.org", [])
    w.wait(lambda st: not pair(st, "192.0.2.1", zen) and st["alerts_not_sent"] == [],
           "the end state")
    time.sleep(2.5)
    st = w.status()
    alertable = [t for t in st["transitions"] if t["target"] == "192.0.2.1" and
                 (t["to"] == "listed" or t["from"] == "listed")]
    files = w.alert_files()
    ids = [int(a["RBLKIT_WATCH_TRANSITION_ID"]) for a in files]
    assert len(ids) == len(set(ids)), files            # never twice
    assert sorted(ids) == sorted(t["id"] for t in alertable)
    # every listing alerted was confirmed, and every change came in pairs
    assert [a["RBLKIT_WATCH_EVENT"] for a in files] == \
        ["listed", "delisted"] * (len(files) // 2)


def test_kill_9_and_restart_keep_history_and_send_nothing_twice(lists, watch_factory):
    zen = lists.spec("zen.spamhaus.org")
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"])).start()
    w.wait_alerts(1)
    before = w.status()
    w.stop(signal.SIGKILL)
    w.start()
    # the restarted daemon checks again (the budget count moves on)...
    used = list_state(before, zen)["used_today"]
    w.wait(lambda st: list_state(st, zen)["used_today"] > used + 6, "checks after the restart")
    st = w.status()
    assert [t["id"] for t in st["transitions"]] == [t["id"] for t in before["transitions"]]
    assert pair(st, "192.0.2.1", zen)["since"] == pair(before, "192.0.2.1", zen)["since"]
    # ...and alerts nothing it alerted before
    assert len(w.alert_files()) == 1
    # a change after the restart is alerted as usual
    lists.set("zen.spamhaus.org", [])
    assert [a["RBLKIT_WATCH_EVENT"] for a in w.wait_alerts(2)] == ["listed", "delisted"]


def test_sighup_adds_a_target_and_keeps_the_others_state(lists, watch_factory):
    zen = lists.spec("zen.spamhaus.org")
    lists.set("zen.spamhaus.org", ["192.0.2.1", "192.0.2.3"])
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1", "192.0.2.2"])).start()
    w.wait_alerts(1)
    w.write(base_conf(w.dir, [zen], ["192.0.2.1", "192.0.2.3"]))
    w.proc.send_signal(signal.SIGHUP)
    st = w.wait(lambda st: pair(st, "192.0.2.3", zen), "the new target's listing")
    a = w.wait_alerts(2)
    assert [x["RBLKIT_WATCH_TARGET"] for x in a] == ["192.0.2.1", "192.0.2.3"]
    # 192.0.2.1 kept its state: no new transition, no second alert
    assert len([t for t in st["transitions"] if t["target"] == "192.0.2.1"]) == 1
    # the target no longer watched has no current state (its history stays)
    assert st["counts"]["clean"] + st["counts"]["listed"] == 3     # list row + 2 targets
    assert "reloaded" in w.logtext()
    time.sleep(1.5)
    assert len(w.alert_files()) == 2


class Hook(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        Hook.got.append((self.path, self.headers.get("Content-Type"),
                         json.loads(self.rfile.read(n))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_webhook_gets_json_and_a_hanging_one_does_not_stop_watching(lists, watch_factory):
    zen = lists.spec("zen.spamhaus.org")
    Hook.got = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(16)     # accepts (the kernel does), never answers
    try:
        lists.set("zen.spamhaus.org", ["192.0.2.1"])
        good = watch_factory(lambda d: base_conf(
            d, [zen], ["192.0.2.1"],
            "alert_webhook = http://127.0.0.1:%d/hook\n" % httpd.server_port), "good")
        good.start()
        bad = watch_factory(lambda d: base_conf(
            d, [zen], ["192.0.2.1"],
            "alert_webhook = http://127.0.0.1:%d/hook\nwebhook_timeout = 2s\n"
            "webhook_retries = 1\n" % hang.getsockname()[1]), "bad")
        bad.start()
        deadline = time.monotonic() + WAIT
        while not Hook.got and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Hook.got, good.logtext()
        path, ctype, body = Hook.got[0]
        assert path == "/hook" and ctype == "application/json"
        assert body["event"] == "listed" and body["target"] == "192.0.2.1"
        assert body["list"] == zen and body["codes"] == "127.0.0.2"
        assert body["txt"].startswith("Listed 192.0.2.1")
        assert "Spamhaus" in body["meaning"] and "192.0.2.1" in body["delist"]
        assert isinstance(body["notes"], list)
        # the hanging webhook: its command alert came, checks go on while
        # the webhook delivery waits, and it ends as failed, not pending
        bad.wait_alerts(1)
        lists.set("zen.spamhaus.org", [])
        bad.wait(lambda st: not pair(st, "192.0.2.1", zen), "the delisting while a hook hangs")
        st = bad.wait(lambda st: any("webhook" == a["channel"] and a["state"] == "failed"
                                     for a in st["alerts_not_sent"]), "the failed webhook",
                      timeout=60)
        failed = [a for a in st["alerts_not_sent"] if a["state"] == "failed"]
        assert "within 2s" in failed[0]["detail"]
    finally:
        httpd.shutdown()
        hang.close()


def test_https_webhook_checks_the_certificate(lists, watch_factory, tmp_path):
    """https:// webhooks (chat and paging services take only those): the
    certificate is checked for the host; an untrusted one is a failed
    delivery that says why, never a silent send."""
    import ssl
    if not shutil.which("openssl"):
        pytest.skip("openssl (the command) makes the test certificate")
    cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    zen = lists.spec("zen.spamhaus.org")
    Hook.got = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = "https://127.0.0.1:%d/hook" % httpd.server_port
    try:
        lists.set("zen.spamhaus.org", ["192.0.2.1"])
        good = watch_factory(lambda d: base_conf(
            d, [zen], ["192.0.2.1"],
            "alert_webhook = %s\nwebhook_ca = %s\n" % (url, cert)), "good")
        good.start()
        bad = watch_factory(lambda d: base_conf(
            d, [zen], ["192.0.2.1"],
            "alert_webhook = %s\nwebhook_retries = 0\n" % url), "untrusted")
        bad.start()
        deadline = time.monotonic() + WAIT
        while not Hook.got and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Hook.got, good.logtext()
        path, ctype, body = Hook.got[0]
        assert path == "/hook" and body["event"] == "listed" and body["target"] == "192.0.2.1"
        st = bad.wait(lambda st: any(a["channel"] == "webhook" and a["state"] == "failed"
                                     for a in st["alerts_not_sent"]), "the refused webhook",
                      timeout=60)
        failed = [a for a in st["alerts_not_sent"] if a["channel"] == "webhook"]
        assert "certificate not trusted" in failed[0]["detail"], failed
        assert len(Hook.got) == 1
    finally:
        httpd.shutdown()


def test_mail_alert_goes_through_sendmail(lists, watch_factory, tmp_path):
    zen = lists.spec("zen.spamhaus.org")
    box = tmp_path / "mailbox"
    sm = tmp_path / "sendmail"
    sm.write_text("#!/bin/sh\necho \"ARGS: $*\" >> %s\ncat >> %s\n" % (box, box))
    sm.chmod(0o755)
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"],
                                          "alert_mail = noc@example.test\nsendmail = %s\n" % sm))
    w.start()
    w.wait_alerts(1)
    deadline = time.monotonic() + WAIT
    while not (box.exists() and "Delist:" in box.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    text = box.read_text()
    assert "ARGS: -t -oi" in text
    assert "To: noc@example.test" in text
    assert "Subject: rblkit watch: 192.0.2.1 listed on " + zen in text
    assert "TXT:      Listed 192.0.2.1 see https://example.test/" in text


def test_policy_note_is_quoted_in_the_next_alert(lists, watch_factory, rblkit_bin):
    zen = lists.spec("zen.spamhaus.org")
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"]))
    w.start()
    w.wait(lambda st: any(t["target"] == "192.0.2.1" for t in st["transitions"]), "a verdict")
    env = dict(os.environ, RBLKIT_USER="alice@example.test", RBLKIT_COUNT="501",
               RBLKIT_LIMIT="500", RBLKIT_KIND="outbound", RBLKIT_WINDOW="1h")
    p = subprocess.run([rblkit_bin, "watch", "note", "--config", w.conf], env=env,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0, p.stderr
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    a = w.wait_alerts(1)
    assert "policy alice@example.test: user alice@example.test crossed the outbound limit: " \
           "501 messages, limit 500 per 1h" in a[0]["RBLKIT_WATCH_NOTES"]
    # without the environment it says what is missing
    env = {k: v for k, v in os.environ.items() if not k.startswith("RBLKIT_")}
    p = subprocess.run([rblkit_bin, "watch", "note", "--config", w.conf], env=env,
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 1 and "RBLKIT_USER" in p.stderr


METRIC = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? '
                    r'(-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')


def parse_prometheus(text):
    """Prometheus text format 0.0.4, strictly: HELP/TYPE before samples of
    their metric, one TYPE per name, every sample line well formed."""
    types, samples = {}, []
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            assert len(parts) == 4, line
            if parts[1] == "TYPE":
                assert parts[2] not in types, "TYPE twice: " + line
                assert parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"), line
                types[parts[2]] = parts[3]
            continue
        assert not line.startswith("#"), line
        m = METRIC.match(line)
        assert m, "bad sample line: %r" % line
        assert m.group(1) in types, "sample before its TYPE: " + line
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples.append((m.group(1), labels, float(m.group(3))))
    return types, samples


def test_metrics_parse_and_count(lists, watch_factory):
    zen = lists.spec("zen.spamhaus.org")
    port = servers.free_port()
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1", "192.0.2.2"],
                                          "metrics = 127.0.0.1:%d\n" % port)).start()
    w.wait_alerts(1)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    head, body = data.decode().split("\r\n\r\n", 1)
    assert head.startswith("HTTP/1.0 200")
    types, samples = parse_prometheus(body)
    assert types["rblkit_watch_checks_total"] == "counter"
    got = {(n, tuple(sorted(l.items()))): v for n, l, v in samples}
    assert got[("rblkit_watch_listed", (("list", zen), ("target", "192.0.2.1")))] == 1
    assert ("rblkit_watch_listed", (("list", zen), ("target", "192.0.2.2"))) not in got
    assert got[("rblkit_watch_list_error", (("list", zen),))] == 0
    assert got[("rblkit_watch_checks_total", (("list", zen),))] >= 2
    assert got[("rblkit_watch_budget_queries", (("list", zen),))] == 300000
    assert got[("rblkit_watch_budget_used", (("list", zen),))] > 0
    assert got[("rblkit_watch_pairs", (("state", "listed"),))] == 1


def test_silent_metrics_clients_do_not_stall_the_daemon(lists, watch_factory):
    """Connections that never send a request are read on the loop: a
    scrape is answered at once beside eight of them (it took 8 s)."""
    zen = lists.spec("zen.spamhaus.org")
    port = servers.free_port()
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"],
                                          "metrics = 127.0.0.1:%d\n" % port)).start()
    w.wait(lambda st: any(t["target"] == "192.0.2.1" for t in st["transitions"]),
           "the first verdict")
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
    try:
        # eight 1 s stalls (the old listener) run past this timeout
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        assert b" 200 " in data.split(b"\r\n")[0] and b"rblkit_watch_" in data
    finally:
        for s in idle:
            s.close()
    assert w.proc.poll() is None


def test_status_says_a_failed_read_never_none(lists, watch_factory):
    """A history that cannot be read is an error (exit 1), not "listed:
    (none)" with exit 0."""
    import sqlite3
    zen = lists.spec("zen.spamhaus.org")
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"])).start()
    w.wait(lambda st: pair(st, "192.0.2.1", zen), "the listing")
    w.stop()
    db = sqlite3.connect(os.path.join(w.dir, "watch.db"))
    db.execute("DROP TABLE watch_transitions")
    db.commit()
    db.close()
    p = subprocess.run([w.bin, "watch", "status", "--config", w.conf],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 1 and "reading the history" in p.stderr, (p.stdout, p.stderr)
    assert p.stdout == ""


def test_config_errors_name_file_and_line(rblkit_bin, tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("watch = 192.0.2.1\nwatch = 10.0.0.0/8\nconfirm = 0\nbogus = 1\n"
                    "watch = mx:\n")
    p = subprocess.run([rblkit_bin, "watch", "--config", str(conf), "--check-config"],
                       stderr=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 1
    assert "%s:2: watch: '10.0.0.0/8': a range of more than 65536 addresses" % conf in p.stderr
    assert "%s:3: confirm:" % conf in p.stderr
    assert "%s:4:" % conf in p.stderr and "bogus" in p.stderr
    assert "%s:5: watch:" % conf in p.stderr
    conf.write_text("watch = 192.0.2.1\nlists = nosuchlist\n")
    p = subprocess.run([rblkit_bin, "watch", "--config", str(conf), "--check-config"],
                       stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 1 and "no list or set named 'nosuchlist'" in p.stderr


def test_an_edited_file_not_reloaded_does_not_stop_alerts(lists, watch_factory):
    """The delivery children use the configuration the daemon loaded, not
    the file as it is now: a broken edit (not reloaded) neither stops an
    alert nor makes the daemon start deliveries over and over."""
    zen = lists.spec("zen.spamhaus.org")
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"]))
    w.start()
    w.wait(lambda st: any(t["target"] == "192.0.2.1" and t["to"] == "clean"
                          for t in st["transitions"]), "the first verdict")
    with open(w.conf, "a") as f:
        f.write("confirm = banana\n")
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    a = w.wait_alerts(1)
    assert a[0]["RBLKIT_WATCH_EVENT"] == "listed"
    assert "delivery failed" not in w.logtext(), w.logtext()


def test_a_target_named_twice_is_watched_once(lists, watch_factory, rblkit_bin, tmp_path):
    """A range and an address in it: one pair, one alert (there were two)."""
    zen = lists.spec("zen.spamhaus.org")
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.0/30", "192.0.2.1",
                                                     "192.0.2.1"]))
    p = subprocess.run([rblkit_bin, "watch", "--config", w.conf, "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0 and " 4 targets" in p.stdout, p.stdout + p.stderr
    w.start()
    w.wait(lambda st: sum(1 for t in st["transitions"] if t["to"] == "clean") >= 4,
           "the first verdicts")
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    assert len(w.wait_alerts(1)) == 1
    time.sleep(2.5)                     # several more checks: still one
    assert len(w.alert_files()) == 1


def test_status_before_the_first_start_says_there_is_no_history_yet(rblkit_bin, tmp_path):
    conf = tmp_path / "w.conf"
    conf.write_text("watch = 192.0.2.1\nstate_dir = %s\n" % (tmp_path / "state"))
    p = subprocess.run([rblkit_bin, "watch", "status", "--config", str(conf)],
                       stderr=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 1 and "no history yet" in p.stderr, p.stderr


def test_a_16_on_30_lists_is_stretched_to_fit_each_budget(rblkit_bin, tmp_path):
    conf = tmp_path / "big.conf"
    conf.write_text("watch = 10.1.0.0/16\nlists = all\nstore = sqlite:%s/w.db\n" % tmp_path)
    p = subprocess.run([rblkit_bin, "watch", "--config", str(conf), "--check-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert p.returncode == 0, p.stderr
    assert "65536 targets" in p.stdout
    rows = re.findall(r"^  (\S+) +(\d+) targets, every (\d+)s(, stretched to fit the budget)? "
                      r"\(budget (\d+) queries a day", p.stdout, re.M)
    ip4 = [r for r in rows if r[1] == "65536"]
    assert len(ip4) >= 30, p.stdout
    for zone, n, every, stretched, budget in ip4:
        budget, every = int(budget), int(every)
        if budget:
            # one query per target and interval, plus the probes: within budget
            assert 65536 * 86400 / every + 2 * 86400 / 600 <= budget, (zone, every, budget)
            assert stretched
    zen = [r for r in rows if r[0] == "zen.spamhaus.org"][0]
    assert int(zen[4]) == 300000


LOGLINE = ("Dec  3 22:10:01 mail postfix/smtp[4242]: 4ThXyZ1abcz3x: to=<bob@example.com>, "
           "relay=mx.example.com[192.0.2.25]:25, delay=0.41, delays=0.06/0.01/0.2/0.14, "
           "dsn=5.7.1, status=bounced (host mx.example.com[192.0.2.25] said: 554 5.7.1 "
           "Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
           "https://www.spamhaus.org/query/ip/192.0.2.1 (in reply to RCPT TO command))\n")


def test_a_mail_log_rejection_rechecks_at_once_and_is_quoted(lists, watch_factory, tmp_path):
    """interval = 1h: only the log line explains a check (and an alert)
    within the test; a hostile line before it changes nothing."""
    zen = lists.spec("zen.spamhaus.org")
    log = tmp_path / "mail.log"
    log.write_text("")
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"],
                                          "mail_log = %s\n" % log).replace(
                                              "interval = 1s", "interval = 1h"))
    w.start()
    w.wait(lambda st: any(t["target"] == "192.0.2.1" and t["to"] == "clean"
                          for t in st["transitions"]), "the first verdict")
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    with open(log, "ab") as f:
        f.write(b"Dec  3 22:10:00 mail postfix/smtp[1]: " + b"\xff\x00\x1b[31m" * 9000 +
                b" blocked using zen.spamhaus.org\n")
        f.write(LOGLINE.encode())
    a = w.wait_alerts(1)
    assert a[0]["RBLKIT_WATCH_EVENT"] == "listed"
    assert "log 192.0.2.1: mx.example.com[192.0.2.25]: 554 5.7.1 Service unavailable; " \
           "Client host [192.0.2.1] blocked using zen.spamhaus.org" in a[0]["RBLKIT_WATCH_NOTES"]
    assert "names spamhaus-zen for 192.0.2.1" in w.logtext()
    assert w.proc.poll() is None


def test_rejections_in_a_stream_check_at_most_once_a_minute(lists, watch_factory, tmp_path):
    """A deferred queue retried against a receiver citing the list writes a
    line every few hundred ms: one check comes of it, not one per line
    (each was a probed check: the list's day budget went in hours)."""
    zen = lists.spec("zen.spamhaus.org")
    log = tmp_path / "mail.log"
    log.write_text("")
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"],
                                          "mail_log = %s\n" % log).replace(
                                              "interval = 1s", "interval = 1h"))
    w.start()
    st = w.wait(lambda st: any(t["target"] == "192.0.2.1" and t["to"] == "clean"
                               for t in st["transitions"]), "the first verdict")
    time.sleep(0.5)
    before = list_state(w.status(), zen)["used_today"]
    for _ in range(12):
        with open(log, "a") as f:
            f.write(LOGLINE)
        time.sleep(0.3)
    time.sleep(1)
    used = list_state(w.status(), zen)["used_today"] - before
    assert 0 < used <= 4, used          # one check with its probe (and its query)
    assert w.proc.poll() is None


def test_a_first_clean_verdict_costs_one_query_per_target(lists, watch_factory):
    """Start-up on a big range must not cost twice the budget: 'clean' from
    'unknown' is no news and needs no confirming check (a listing does)."""
    zen = lists.spec("zen.spamhaus.org")
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"]).replace(
        "interval = 1s", "interval = 1h")).start()
    w.wait(lambda st: st["counts"]["clean"] == 2, "the first verdict")
    time.sleep(1.5)
    st = w.status()
    # two test points (the first batch probes) and one query for the target
    assert list_state(st, zen)["used_today"] == 3, st
    assert w.alert_files() == []


def test_a_reminder_while_listed_is_sent_once_per_period(lists, watch_factory):
    """reminder = 1 (hour): the listing is made two hours old in the store
    between two runs; the restarted daemon's first look sends reminder 2,
    once; a third run sends nothing more."""
    import sqlite3
    zen = lists.spec("zen.spamhaus.org")
    lists.set("zen.spamhaus.org", ["192.0.2.1"])
    w = watch_factory(lambda d: base_conf(d, [zen], ["192.0.2.1"], "reminder = 1\n")).start()
    w.wait_alerts(1)
    w.stop()
    db = sqlite3.connect(os.path.join(w.dir, "watch.db"))
    db.execute("UPDATE watch_state SET since = since - 7200 WHERE target = '192.0.2.1'")
    db.commit()
    db.close()
    w.start()
    a = w.wait_alerts(2)
    assert a[1]["RBLKIT_WATCH_EVENT"] == "reminder"
    assert a[1]["RBLKIT_WATCH_REMINDER"] == "2"
    assert a[1]["RBLKIT_WATCH_TRANSITION_ID"] == a[0]["RBLKIT_WATCH_TRANSITION_ID"]
    assert a[1]["RBLKIT_WATCH_SUBJECT"].startswith("rblkit watch: 192.0.2.1 still listed on")
    w.wait(lambda st: list_state(st, zen)["used_today"] > 12, "more checks")
    w.stop()
    w.start()
    w.wait(lambda st: list_state(st, zen)["used_today"] > 24, "checks after a restart")
    assert len(w.alert_files()) == 2
