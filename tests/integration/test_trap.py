"""rblkit trap: the spamtrap intake, end to end.

The real binary runs as an LMTP daemon on a random loopback port with a
SQLite store in a fresh directory; python's smtplib.LMTP (one recipient
a message: smtplib reads one reply after the data) or a raw socket (for
several recipients, pipelining, stalls) speaks LMTP to it; `rblkit list
show --json` reads the store back. --stdin is run the way pipe(8) runs it.
"""

import json
import os
import signal
import smtplib
import socket
import sqlite3
import stat
import subprocess
import time

import pytest

import servers

RBLKIT = servers.RBLKIT
MX = "mx1.trap.example"
ZONE = "bl.example"


def rcvd(ip, by=MX, name="spammer.example"):
    ipt = "IPv6:" + ip if ":" in ip else ip
    return (f"Received: from {name} ({name} [{ipt}])\r\n\tby {by} (Postfix) with ESMTP id "
            f"ABC; Thu, 3 Dec 2026 10:00:00 +0000\r\n")


def message(ip, extra="", body="Buy now.\r\n", to="spamtrap1@trap.example"):
    return (rcvd(ip) + extra + f"From: <x@spam.example>\r\nTo: <{to}>\r\n"
            "Subject: cheap\r\n\r\n" + body).encode()


class Trap:
    """A configured store and, when started, the LMTP daemon."""

    def __init__(self, d, extra_conf=""):
        self.dir = d
        self.port = servers.free_port()
        self.db = os.path.join(d, "list.db")
        self.quarantine = os.path.join(d, "quarantine")
        os.makedirs(self.quarantine, exist_ok=True)
        self.conf = os.path.join(d, "list.conf")
        self.log = os.path.join(d, "trap.log")
        self.proc = None
        with open(self.conf, "w") as f:
            f.write(f"store = sqlite:{self.db}\n"
                    f"trap_mx = {MX}, 198.51.100.25\n"
                    f"trap_domains = trap.example={ZONE}, other-trap.example={ZONE}\n"
                    f"trap_quarantine = {self.quarantine}\n"
                    f"trap_listen = 127.0.0.1:{self.port}\n" + extra_conf)

    def start(self, *args):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([RBLKIT, "trap", "--config", self.conf] + list(args),
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + servers.START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("rblkit trap exited %d:\n%s" % (self.proc.returncode,
                                                                   self.logtext()))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(100).startswith(b"220 "):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("rblkit trap did not answer:\n" + self.logtext())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def lmtp(self):
        c = smtplib.LMTP("127.0.0.1", self.port, timeout=30)
        c.ehlo("client.example")
        return c

    def raw(self):
        return RawLMTP(self.port)

    def show(self, key, zone=ZONE):
        r = subprocess.run([RBLKIT, "list", "show", "--config", self.conf, "--json", zone,
                            key], capture_output=True, text=True)
        if r.returncode != 0 and '"found":false' not in r.stdout:
            return None
        return json.loads(r.stdout)

    def listed(self, key, zone=ZONE):
        j = self.show(key, zone)
        return j and j.get("found") and j["listing"]["state"] == "listed" and j

    def stdin(self, data, *args):
        return subprocess.run([RBLKIT, "trap", "--stdin", "--config", self.conf] + list(args),
                              input=data, capture_output=True)


class RawLMTP:
    """LMTP over a plain socket: every reply line, in order."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")
        assert self.reply().startswith("220 ")

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        return self.f.readline().decode(errors="replace").rstrip("\r\n")

    def reply(self):
        """One reply, its lines joined (multi-line 250-...)."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return "\n".join(lines)

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.reply()

    def deliver(self, sender, rcpts, data):
        """MAIL, RCPTs, DATA pipelined; the replies of the envelope and
        one per accepted recipient after the data."""
        out = [f"LHLO client.example\r\nMAIL FROM:<{sender}>\r\n"]
        out += [f"RCPT TO:<{r}>\r\n" for r in rcpts]
        out.append("DATA\r\n")
        self.send("".join(out).encode())
        env = [self.reply() for _ in range(2 + len(rcpts))]
        ok = sum(1 for r in env[2:] if r.startswith("250"))
        data_reply = self.reply()
        if not data_reply.startswith("354"):
            return env, data_reply, []
        stuffed = b"\r\n".join(b"." + ln if ln.startswith(b".") else ln
                               for ln in data.split(b"\r\n"))
        if not stuffed.endswith(b"\r\n"):
            stuffed += b"\r\n"
        self.send(stuffed + b".\r\n")
        return env, data_reply, [self.reply() for _ in range(ok)]

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


@pytest.fixture
def trap(datadir):
    made = []

    def make(extra_conf="", args=("--idle-timeout", "2")):
        t = Trap(datadir, extra_conf)
        made.append(t)
        return t.start(*args)

    yield make
    for t in made:
        t.stop()


def test_lmtp_hit_lists_the_mx_client_with_evidence(trap):
    t = trap()
    with t.lmtp() as c:
        assert c.sendmail("x@spam.example", ["spamtrap1@trap.example"],
                          message("192.0.2.7")) == {}
    j = t.listed("192.0.2.7")
    assert j, t.logtext()
    assert j["listing"]["hits"] == 1
    ev = json.dumps(j["evidence"])
    assert "Subject: cheap" in ev and "Buy now." in ev
    # the trap address is never shown with the evidence
    assert "spamtrap1@trap.example" not in ev and "s***@trap.example" in ev


def test_forged_received_chain_only_the_mx_field_counts(trap):
    t = trap()
    forged = "".join(rcvd(f"203.0.113.{i}", name=f"relay{i}") for i in range(1, 200))
    data = (rcvd("192.0.2.20") + forged + "Subject: x\r\n\r\nbody\r\n").encode()
    with t.lmtp() as c:
        c.sendmail("x@spam.example", ["spamtrap1@trap.example"], data)
    assert t.listed("192.0.2.20")
    for i in (1, 2, 199):
        assert not t.listed(f"203.0.113.{i}")


def test_internal_hop_above_and_content_filter(trap):
    t = trap()
    data = (rcvd("10.0.0.5", by="store.internal", name=MX) +
            rcvd("127.0.0.1", name="localhost") +
            "Received: from mx1 ([127.0.0.1]) by localhost (amavisd-new)\r\n" +
            rcvd("192.0.2.21") + rcvd("203.0.113.99") + "Subject: x\r\n\r\nb\r\n").encode()
    with t.lmtp() as c:
        c.sendmail("x@spam.example", ["spamtrap1@trap.example"], data)
    assert t.listed("192.0.2.21")
    assert not t.listed("203.0.113.99")


@pytest.mark.parametrize("sender,extra,why", [
    ("", "", "bounce"),
    ("MAILER-DAEMON@mx.spam.example", "", "bounce"),
    ("x@spam.example", "Content-Type: multipart/report; report-type=delivery-status; "
     "boundary=b\r\n", "bounce"),
    ("x@spam.example", "Auto-Submitted: auto-replied\r\n", "autoreply"),
    ("x@spam.example", "X-Autoreply: yes\r\n", "autoreply"),
    ("x@spam.example", "Precedence: auto_reply\r\n", "autoreply"),
])
def test_bounces_and_autoreplies_are_counted_not_listed(trap, sender, extra, why):
    t = trap()
    c = t.raw()
    env, dr, replies = c.deliver(sender, ["spamtrap1@trap.example"],
                                 message("192.0.2.30", extra=extra))
    c.close()
    assert replies == [f"250 2.0.0 not listed ({why}): " + replies[0].split(": ", 1)[1]]
    assert not t.listed("192.0.2.30")
    assert t.show("192.0.2.30")["found"] is False


def test_private_client_and_no_mx_hop_not_listed(trap):
    t = trap()
    c = t.raw()
    _, _, r1 = c.deliver("x@y.example", ["a@trap.example"], message("10.9.8.7"))
    _, _, r2 = c.deliver("x@y.example", ["a@trap.example"],
                         (rcvd("192.0.2.31", by="elsewhere.example") + "S: x\r\n\r\nb\r\n")
                         .encode())
    c.close()
    assert r1[0].startswith("250 2.0.0 not listed (not-public)")
    assert r2[0].startswith("250 2.0.0 not listed (no-mx-hop)")
    assert not t.listed("10.9.8.7") and not t.listed("192.0.2.31")


def test_recipients_outside_the_trap_domains_get_550(trap):
    t = trap()
    c = t.raw()
    env, dr, replies = c.deliver("x@spam.example",
                                 ["a@trap.example", "b@elsewhere.example", "c@other-trap.example"],
                                 message("192.0.2.40", body="line\r\n.dot line\r\n"))
    c.close()
    assert env[3].startswith("550 5.1.1")
    # one reply per accepted recipient, after the data
    assert replies[0] == "250 2.0.0 listed 192.0.2.40"
    assert replies[1] == "250 2.0.0 extended 192.0.2.40"
    j = t.listed("192.0.2.40")
    assert j["listing"]["hits"] == 2
    # the dot-stuffed line arrived unstuffed
    assert ".dot line" in json.dumps(j["evidence"]) and "..dot" not in json.dumps(j["evidence"])


def test_protocol_errors_do_not_end_the_session(trap):
    t = trap()
    c = t.raw()
    assert c.cmd("MAIL FROM:<a@b>").startswith("503")          # LHLO first
    assert c.cmd("EHLO x").startswith("500")                   # this is LMTP
    assert c.cmd("LHLO x").startswith("250-")
    assert c.cmd("DATA").startswith("503")                     # no recipients
    assert c.cmd("X" * 5000).startswith("500 5.5.2 line too long")
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    assert c.cmd("RCPT TO:<a@trap.example>").startswith("503")  # MAIL first
    assert c.cmd("QUIT").startswith("221")
    c.close()


def test_huge_headers_are_bounded(trap):
    t = trap()
    big = "".join(f"X-Filler-{i}: {'y' * 90}\r\n" for i in range(20000))  # ~2 MB
    c = t.raw()
    _, _, r = c.deliver("x@spam.example", ["a@trap.example"], message("192.0.2.50", extra=big))
    c.close()
    assert r == ["250 2.0.0 listed 192.0.2.50"]
    ev = t.listed("192.0.2.50")["evidence"][0]
    assert len(ev["headers"]) <= 16384
    assert "Received: from spammer.example" in ev["headers"]


def test_ipv6_flood_of_128s_is_one_64(trap):
    t = trap()
    c = t.raw()
    for i in range(1, 21):
        _, _, r = c.deliver("x@spam.example", ["a@trap.example"],
                            message(f"2001:db8:1:2::{i:x}"))
        assert r[0].startswith("250 2.0.0 ")
    c.close()
    j = t.listed("2001:db8:1:2::/64")
    assert j and j["listing"]["hits"] == 20
    assert t.show("2001:db8:1:2::1")["found"] is False or \
        t.show("2001:db8:1:2::1")["listing"]["key"] == "2001:db8:1:2::/64"


def test_client_stalling_mid_data_is_closed_and_others_served(trap):
    t = trap(args=("--idle-timeout", "1"))
    c = t.raw()
    c.send(b"LHLO x\r\nMAIL FROM:<x@y.example>\r\nRCPT TO:<a@trap.example>\r\nDATA\r\n")
    for _ in range(4):
        c.reply()
    c.send(message("192.0.2.60")[:60])
    # no more bytes: the daemon closes after the idle timeout
    assert c.reply().startswith("421 4.4.2")
    assert c.f.readline() == b""
    c.close()
    # another client stalls for good without a word; one more just leaves mid-message
    d = t.raw()
    d.send(b"LHLO x\r\nMAIL FROM:<x@y.example>\r\nRCPT TO:<a@trap.example>\r\nDATA\r\n")
    d.send(message("192.0.2.61")[:80])
    d.close()
    e = t.raw()
    _, _, r = e.deliver("x@y.example", ["a@trap.example"], message("192.0.2.62"))
    e.close()
    assert r == ["250 2.0.0 listed 192.0.2.62"]
    assert not t.listed("192.0.2.60") and not t.listed("192.0.2.61")
    assert "in the middle of a message" in t.logtext()


def test_max_clients(trap):
    t = trap(args=("--max-clients", "2"))
    held, refused = [], None
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", t.port), timeout=10)
        greeting = s.recv(200)
        if greeting.startswith(b"220 "):
            held.append(s)
            continue
        refused = greeting
        s.close()
        break
    # the probe of start() may still count until its close is read
    assert refused and refused.startswith(b"421 4.3.2") and 1 <= len(held) <= 2
    for s in held:
        s.close()
    # the slots come back once the closes are read
    deadline = time.monotonic() + 10
    c = None
    while c is None and time.monotonic() < deadline:
        try:
            c = t.raw()
        except AssertionError:  # 421: not read yet
            time.sleep(0.05)
    assert c.cmd("NOOP") == "250 2.0.0 Ok"
    c.close()


def test_message_over_max_size_is_still_answered(trap):
    t = trap(extra_conf="trap_max_size = 2048\n")
    c = t.raw()
    _, _, r = c.deliver("x@spam.example", ["a@trap.example"],
                        message("192.0.2.70", body="z" * 200 + "\r\n" + ("w" * 998 + "\r\n") * 300))
    c.close()
    assert r == ["250 2.0.0 listed 192.0.2.70"]


def test_locked_store_answers_451_and_loses_nothing(trap):
    t = trap()
    with t.lmtp() as c:
        c.sendmail("x@spam.example", ["a@trap.example"], message("192.0.2.80"))
    hold = sqlite3.connect(t.db, timeout=0)
    hold.execute("BEGIN EXCLUSIVE")
    try:
        c = t.raw()
        _, _, r = c.deliver("x@spam.example", ["a@trap.example"], message("192.0.2.81"))
        c.close()
    finally:
        hold.rollback()
        hold.close()
    assert r[0].startswith("451 4.3.0"), r
    # the client retries (as Postfix does): stored once, nothing half-written before
    c = t.raw()
    _, _, r = c.deliver("x@spam.example", ["a@trap.example"], message("192.0.2.81"))
    c.close()
    assert r == ["250 2.0.0 listed 192.0.2.81"]
    assert t.listed("192.0.2.81")["listing"]["hits"] == 1
    assert "451" in t.logtext()


def test_kill9_after_250_keeps_the_event(trap):
    t = trap()
    c = t.raw()
    _, _, r = c.deliver("x@spam.example", ["a@trap.example"], message("192.0.2.90"))
    t.proc.kill()
    t.proc.wait()
    c.close()
    assert r == ["250 2.0.0 listed 192.0.2.90"]
    j = t.listed("192.0.2.90")
    assert j and j["listing"]["hits"] == 1 and j["evidence"]


def test_unreadable_message_is_quarantined_and_counted(trap):
    t = trap()
    junk = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00 not a message at all\r\n"
    c = t.raw()
    _, _, r = c.deliver("x@spam.example", ["a@trap.example"], junk)
    # intake goes on
    _, _, r2 = c.deliver("x@spam.example", ["a@trap.example"], message("192.0.2.95"))
    c.close()
    assert r[0].startswith("250 2.0.0 not a message: kept in quarantine (")
    assert r2 == ["250 2.0.0 listed 192.0.2.95"]
    files = os.listdir(t.quarantine)
    assert len(files) == 1
    path = os.path.join(t.quarantine, files[0])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert open(path, "rb").read() == junk
    t.stop()
    assert "1 unreadable (1 quarantined)" in t.logtext()


def test_sigterm_stops_cleanly_and_removes_the_pid_file(trap, datadir):
    pid = os.path.join(datadir, "trap.pid")
    t = trap(args=("--pid-file", pid))
    assert int(open(pid).read().strip()) == t.proc.pid
    t.proc.send_signal(signal.SIGTERM)
    assert t.proc.wait(10) == 0
    assert not os.path.exists(pid)
    assert "signal 15: stopping" in t.logtext() and "0 messages" in t.logtext()


# -- --stdin (pipe) ---------------------------------------------------------

def test_stdin_stores_and_says_so_in_json(datadir):
    t = Trap(datadir)
    r = t.stdin(message("192.0.2.100"), "--sender", "x@spam.example",
                "--recipient", "spamtrap1@trap.example", "--json")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["client"] == "192.0.2.100" and j["mx"] == MX and j["skip"] is None
    assert j["recipients"] == [{"recipient": "s***@trap.example", "zone": ZONE,
                                "result": "listed", "key": "192.0.2.100", "error": None}]
    assert t.listed("192.0.2.100")


def test_stdin_recipient_from_delivered_to_and_skips(datadir):
    t = Trap(datadir)
    r = t.stdin(b"Delivered-To: a@trap.example\r\nReturn-Path: <>\r\n" +
                message("192.0.2.101"), "--json")
    j = json.loads(r.stdout)
    assert r.returncode == 0
    assert j["skip"] == "bounce" and j["recipients"][0]["result"] == "skipped"
    assert not t.listed("192.0.2.101")


def test_stdin_exit_statuses(datadir):
    t = Trap(datadir)
    # not a trap address: 67
    r = t.stdin(message("192.0.2.102"), "--recipient", "a@elsewhere.example")
    assert r.returncode == 67
    # not a message: quarantined, 0
    r = t.stdin(b"\x00\x01\x02", "--recipient", "a@trap.example", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["recipients"][0]["result"] == "quarantined"
    assert len(os.listdir(t.quarantine)) == 1
    # no recipient at all: 64
    assert t.stdin(message("192.0.2.103")).returncode == 64
    # a locked store: 75, Postfix retries; nothing stored
    t.stdin(message("192.0.2.104"), "--recipient", "a@trap.example")
    hold = sqlite3.connect(t.db, timeout=0)
    hold.execute("BEGIN EXCLUSIVE")
    try:
        r = t.stdin(message("192.0.2.105"), "--recipient", "a@trap.example")
    finally:
        hold.rollback()
        hold.close()
    assert r.returncode == 75, r.stderr
    assert not t.listed("192.0.2.105")
    # configuration error: 78
    with open(t.conf, "a") as f:
        f.write("no_such_key = 1\n")
    assert t.stdin(message("192.0.2.106"), "--recipient", "a@trap.example").returncode == 78


def test_help_trap():
    r = subprocess.run([RBLKIT, "help", "trap"], capture_output=True, text=True)
    assert r.returncode == 0 and "--stdin" in r.stdout and "75 the store" in r.stdout
    r = subprocess.run([RBLKIT, "help"], capture_output=True, text=True)
    assert "  trap " in r.stdout


def test_pipelined_commands_past_the_output_bound_are_all_answered(trap):
    # 10,000 pipelined NOOPs read in one go (the daemon is stopped while
    # they are sent) make ~140 KB of replies, past the 64 KB the daemon
    # queues before it stops reading: every one is answered, in order
    t = trap()
    c = t.raw()
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    t.proc.send_signal(signal.SIGSTOP)
    try:
        c.send(b"NOOP\r\n" * 10000)
    finally:
        t.proc.send_signal(signal.SIGCONT)
    replies = [c.line() for _ in range(10000)]
    assert replies == ["250 2.0.0 Ok"] * 10000
    assert c.cmd("QUIT").startswith("221 ")
    c.close()
