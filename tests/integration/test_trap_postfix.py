"""rblkit trap behind a real Postfix: the trap domain's transport is
lmtp:inet:127.0.0.1:PORT (the daemon), swaks sends to a trap address with
XCLIENT setting the connecting client, and the listing appears in the
store; a locked store makes Postfix defer (451) and the mail arrives
after, stored once.

Postfix (Debian's package) runs from a private directory on a random
loopback port (postfix_helper.py); its own Received field, "by
mx.test.invalid", is the MX field the daemon trusts.
"""

import os
import socket
import sqlite3
import subprocess
import threading
import time

import pytest

import postfix_helper
from test_trap import Trap

TRAP_MX = "mx.test.invalid"          # postfix_helper's myhostname


def postfix_conf(port):
    # nothing postfix_helper's main.cf sets is set again: Postfix logs a
    # warning per process for an overridden key, enough to fill postlogd's
    # socket and hang `postfix reload`
    return f"""
relay_domains = trap.example
transport_maps = inline:{{ trap.example=lmtp:inet:127.0.0.1:{port} }}
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


class DunnoPolicy(threading.Thread):
    """A policy service that answers DUNNO to everything (postfix_helper's
    main.cf asks one at RCPT and END-OF-DATA)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    @staticmethod
    def serve(conn):
        buf = b""
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                while b"\n\n" in buf:
                    _, buf = buf.split(b"\n\n", 1)
                    conn.sendall(b"action=DUNNO\n\n")
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.sock.close()


@pytest.fixture
def setup(datadir):
    t = Trap(datadir, extra_conf="")
    with open(t.conf) as f:
        conf = f.read().replace("trap_mx = mx1.trap.example", f"trap_mx = {TRAP_MX}")
    with open(t.conf, "w") as f:
        f.write(conf)
    t.start()
    pol = DunnoPolicy()
    pol.start()
    pf = postfix_helper.Postfix(policy=f"inet:127.0.0.1:{pol.port}",
                                extra=postfix_conf(t.port))
    try:
        pf.start()
    except postfix_helper.PostfixError as e:
        t.stop()
        pol.stop()
        pytest.fail(str(e), pytrace=False)
    # the lmtp delivery agent is not in postfix_helper's master.cf
    cdir = os.path.join(pf.dir, "conf")
    with open(os.path.join(cdir, "master.cf"), "a") as f:
        f.write("lmtp      unix  -       -       n       -       -       lmtp\n")
    subprocess.run([postfix_helper.POSTFIX, "-c", cdir, "reload"], capture_output=True,
                   check=True, timeout=30)
    yield t, pf
    pf.stop()
    t.stop()
    pol.stop()


def wait_for(pred, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = pred()
        if r:
            return r
        time.sleep(0.2)
    return None


def test_postfix_delivers_trap_mail_over_lmtp_and_it_is_listed(setup):
    t, pf = setup
    r = postfix_helper.swaks(pf.port, to="spamtrap1@trap.example", sender="x@spam.example",
                             xclient="ADDR=192.0.2.77 NAME=spammer.example")
    assert r.code("RCPT TO") == 250, r
    j = wait_for(lambda: t.listed("192.0.2.77"))
    assert j, pf.maillog() + t.logtext()
    ev = j["evidence"][0]
    assert f"by {TRAP_MX} (Postfix)" in ev["headers"]
    assert "spamtrap1@trap.example" not in ev["headers"]
    # Postfix logged the daemon's reply for the recipient
    assert wait_for(lambda: "250 2.0.0 listed 192.0.2.77" in pf.maillog()), pf.maillog()


def test_postfix_bounce_is_delivered_not_listed(setup):
    t, pf = setup
    r = postfix_helper.swaks(pf.port, to="spamtrap2@trap.example", sender="<>",
                             xclient="ADDR=192.0.2.78")
    assert r.code("RCPT TO") == 250, r
    assert wait_for(lambda: "not listed (bounce)" in pf.maillog()), pf.maillog()
    assert not t.listed("192.0.2.78")


def test_postfix_defers_on_a_locked_store_and_nothing_is_lost(setup):
    t, pf = setup
    hold = sqlite3.connect(t.db, timeout=0)
    hold.execute("BEGIN EXCLUSIVE")
    try:
        r = postfix_helper.swaks(pf.port, to="spamtrap3@trap.example", sender="x@spam.example",
                                 xclient="ADDR=192.0.2.79")
        assert r.code("RCPT TO") == 250, r
        assert wait_for(lambda: "451 4.3.0" in pf.maillog() and "status=deferred"
                        in pf.maillog(), timeout=60), pf.maillog()
        assert not t.listed("192.0.2.79")
    finally:
        hold.rollback()
        hold.close()
    subprocess.run(["postqueue", "-c", os.path.join(pf.dir, "conf"), "-f"],
                   capture_output=True, timeout=30)
    j = wait_for(lambda: t.listed("192.0.2.79"), timeout=60)
    assert j and j["listing"]["hits"] == 1, pf.maillog()
