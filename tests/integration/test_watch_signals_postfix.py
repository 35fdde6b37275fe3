"""The signals of rblkit watch (watch/signal.h) from a REAL Postfix.

Postfix (Debian's package, postfix_helper.py) relays our mail to a small
SMTP receiver in this test on 127.0.0.1, which refuses some recipients
with blocklist texts (Spamhaus at RCPT with 554, Trend Micro's ERS-QIL
with 451), refuses one as an unknown user and accepts the rest.  Postfix
writes its real smtp(8) lines to its maillog_file (Postfix 3.7 postlogd);
the log follower, run by the driver mode of the unit test binary
(`test_watch_signals follow FILE`), shows one signal per blocklist
refusal and none for the others.  Postfix then returns the bounce to the
sender, whose domain is routed to the same receiver: it is written to a
Maildir, and the Maildir reader (`test_watch_signals maildir DIR`) shows
the signal of the bounced recipient.

The time from the refusal to the signal is printed (run with -s); it is
measured, never asserted.
"""

import json
import os
import queue
import socket
import subprocess
import threading
import time

import pytest

import postfix_helper
import servers
from test_trap_postfix import DunnoPolicy

pytestmark = pytest.mark.slow

SPAMHAUS = ("554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using "
            "zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1")
TREND = ("451 4.7.1 Service unavailable; Client host [127.0.0.1] blocked using Trend "
         "Micro Email Reputation database. Please see "
         "https://servicecentral.trendmicro.com/en-US/ers/ ERS-QIL")
REPLIES = {
    "bob@customer.example": SPAMHAUS,
    "carol@customer.example": TREND,
    "erin@customer.example": "550 5.1.1 <erin@customer.example>: User unknown",
}


def driver_path():
    build = os.path.dirname(os.path.abspath(servers.RBLKIT))
    for d in (os.path.join(build, "unit"), os.path.join(servers.REPO, "build", "unit")):
        p = os.path.join(d, "test_watch_signals")
        if os.access(p, os.X_OK):
            return p
    pytest.fail("build/unit/test_watch_signals is missing: run `make units`", pytrace=False)


class Receiver(threading.Thread):
    """An SMTP server that answers RCPT from REPLIES (250 otherwise) and
    writes accepted messages into a Maildir; refused() records when each
    refusal was sent."""

    def __init__(self, maildir):
        super().__init__(daemon=True)
        self.maildir = maildir
        for d in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(maildir, d), exist_ok=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.refused = {}
        self.n = 0

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        f = conn.makefile("rwb", buffering=0)

        def say(line):
            f.write(line.encode() + b"\r\n")

        rcpts = []
        try:
            say("220 receiver.test ESMTP")
            for raw in f:
                cmd = raw.decode("utf-8", "replace").strip()
                verb = cmd[:4].upper()
                if verb in ("EHLO", "HELO"):
                    say("250 receiver.test")
                elif verb == "MAIL":
                    rcpts = []
                    say("250 2.1.0 Ok")
                elif verb == "RCPT":
                    addr = cmd[cmd.find("<") + 1:cmd.rfind(">")].lower()
                    reply = REPLIES.get(addr)
                    if reply:
                        self.refused[addr] = time.time()
                        say(reply)
                    else:
                        rcpts.append(addr)
                        say("250 2.1.5 Ok")
                elif verb == "DATA":
                    say("354 go ahead")
                    data = b""
                    for line in f:
                        if line in (b".\r\n", b".\n"):
                            break
                        data += line[1:] if line.startswith(b"..") else line
                    self.store(data)
                    say("250 2.0.0 Ok: queued")
                elif verb == "QUIT":
                    say("221 2.0.0 Bye")
                    return
                else:
                    say("250 2.0.0 Ok")
        except OSError:
            pass
        finally:
            conn.close()

    def store(self, data):
        self.n += 1
        name = f"{int(time.time())}.M{self.n}P{os.getpid()}.receiver.test"
        tmp = os.path.join(self.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(data.replace(b"\r\n", b"\n"))
        os.rename(tmp, os.path.join(self.maildir, "new", name))

    def stop(self):
        self.sock.close()


class Driver:
    """test_watch_signals in driver mode; signals() reads its JSON lines."""

    def __init__(self, mode, target):
        self.p = subprocess.Popen([driver_path(), mode, target], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.p.stdout.readline()
        assert first == "ready\n", first + self.p.stderr.read()
        self.q = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.q.put(json.loads(line))

    def signals(self, n, timeout=30.0):
        got, deadline = [], time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            try:
                got.append(self.q.get(timeout=0.2))
            except queue.Empty:
                pass
        return got

    def pending(self):
        out = []
        while not self.q.empty():
            out.append(self.q.get())
        return out

    def stop(self):
        self.p.stdin.close()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        return self.p.stderr.read()


def postfix_conf(port):
    # only keys postfix_helper's main.cf does not set (see test_trap_postfix.py)
    return f"""
relay_domains = customer.example
transport_maps = inline:{{ customer.example=smtp:[127.0.0.1]:{port}, test.invalid=smtp:[127.0.0.1]:{port} }}
"""


def wait_for(pred, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def mail(tmp_path):
    rcv = Receiver(str(tmp_path / "Maildir"))
    rcv.start()
    pol = DunnoPolicy()
    pol.start()
    pf = postfix_helper.Postfix(policy=f"inet:127.0.0.1:{pol.port}",
                                extra=postfix_conf(rcv.port))
    try:
        pf.start()
        # the smtp delivery agent is not in postfix_helper's master.cf
        cdir = os.path.join(pf.dir, "conf")
        with open(os.path.join(cdir, "master.cf"), "a") as f:
            f.write("smtp      unix  -       -       n       -       -       smtp\n")
        subprocess.run([postfix_helper.POSTFIX, "-c", cdir, "reload"], capture_output=True,
                       check=True, timeout=30)
    except (postfix_helper.PostfixError, subprocess.SubprocessError) as e:
        pf.stop()
        rcv.stop()
        pol.stop()
        pytest.fail(str(e), pytrace=False)
    yield pf, rcv
    pf.stop()
    rcv.stop()
    pol.stop()


def test_real_postfix_refusals_become_signals(mail):
    pf, rcv = mail
    log = os.path.join(pf.dir, "maillog")
    follower = Driver("follow", log)
    bounces = Driver("maildir", rcv.maildir)
    try:
        r = postfix_helper.swaks(
            pf.port, sender="alice@test.invalid",
            to="bob@customer.example,carol@customer.example,dave@customer.example,"
               "erin@customer.example")
        assert "queued as" in str(r), r
        sig = follower.signals(2)
        assert len(sig) == 2, pf.maillog()
        by = {s["list_id"]: s for s in sig}
        assert set(by) == {"spamhaus-zen", "trendmicro-ers"}, sig
        z = by["spamhaus-zen"]
        assert z["source"] == "log"
        assert z["zone"] == "zen.spamhaus.org"
        assert z["ip"] == "127.0.0.1"
        assert z["rcpt_domain"] == "customer.example"
        assert z["relay"] == "127.0.0.1[127.0.0.1]"
        assert z["text"].startswith(SPAMHAUS), z
        t = by["trendmicro-ers"]
        assert t["text"].startswith(TREND[:40]) and "ERS-QIL" in t["text"], t
        # the same lines are what Postfix logged: bounced and deferred
        text = pf.maillog()
        assert "to=<bob@customer.example>" in text and "status=bounced" in text
        assert "to=<carol@customer.example>" in text and "status=deferred" in text
        # the unknown user and the delivered recipient give nothing
        assert wait_for(lambda: "to=<erin@customer.example>" in pf.maillog()
                        and "to=<dave@customer.example>" in pf.maillog())
        # the bounce to alice arrives in the Maildir: one signal, for bob
        b = bounces.signals(1, timeout=60)
        assert len(b) == 1, pf.maillog()
        assert b[0]["source"] == "bounce"
        assert b[0]["list_id"] == "spamhaus-zen"
        assert b[0]["rcpt_domain"] == "customer.example"
        assert "zen.spamhaus.org" in b[0]["text"]
        assert not os.listdir(os.path.join(rcv.maildir, "new"))
        # dave's message (not a bounce: no signal) and the bounce, both kept
        assert len(os.listdir(os.path.join(rcv.maildir, "cur"))) == 2
        time.sleep(0.6)        # two more polls of each: nothing more comes
        assert follower.pending() == [] and bounces.pending() == []
        for s in sig:
            addr = "bob@customer.example" if s["list_id"] == "spamhaus-zen" \
                else "carol@customer.example"
            print(f"refusal -> signal ({s['list_id']}): "
                  f"{s['seen_ms'] - rcv.refused[addr] * 1000:.0f} ms")
    finally:
        err = follower.stop() + bounces.stop()
    assert "poll:" not in err, err
