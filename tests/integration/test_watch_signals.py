"""The signals of rblkit watch (watch/signal.h) through the driver mode of
the unit test binary (`test_watch_signals follow FILE | maildir DIR`),
fed real bounces (the diagnose corpus) and hostile input: the driver
keeps watching, and what it hands out is printable and bounded.  Fast; the
real Postfix test is test_watch_signals_postfix.py.
"""

import os
import shutil
import time

from test_watch_signals_postfix import Driver

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "diagnose_data")
GOOD = ("Dec  3 22:10:01 mail postfix/smtp[1]: ABC: to=<a@b.example>, "
        "relay=mx.b.example[192.0.2.3]:25, delay=1, dsn=5.7.1, status=bounced (host "
        "mx.b.example[192.0.2.3] said: 554 5.7.1 Client host [{ip}] blocked using "
        "zen.spamhaus.org (in reply to RCPT TO command))\n")


def maildir(root):
    for d in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    return root


def deliver(root, name, data):
    tmp = os.path.join(root, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(root, "new", name))


def test_maildir_reads_the_bounce_corpus_and_survives_broken_ones(tmp_path):
    md = maildir(str(tmp_path / "Maildir"))
    for i, name in enumerate(sorted(os.listdir(DATA))):
        shutil.copy(os.path.join(DATA, name), os.path.join(md, "new", f"17000000{i:02d}.{name}"))
    # broken ones: empty, binary, a link out of the Maildir, a directory
    deliver(md, "1700000100.empty", b"")
    deliver(md, "1700000101.binary", bytes(range(256)) * 4000)
    os.symlink("/etc/passwd", os.path.join(md, "new", "1700000102.link"))
    os.mkdir(os.path.join(md, "new", "1700000103.dir"))
    d = Driver("maildir", md)
    try:
        got = d.signals(2)
        by = {s["list_id"]: s for s in got}
        assert set(by) == {"spamhaus-zen", "trendmicro-ers"}, got
        assert by["trendmicro-ers"]["ip"] == "198.51.100.77"
        assert by["trendmicro-ers"]["rcpt_domain"] == "customer.example"
        assert by["trendmicro-ers"]["relay"] == "in.hes.trendmicro.com"
        assert by["spamhaus-zen"]["zone"] == "zen.spamhaus.org"
        assert all(s["source"] == "bounce" for s in got)
        # every message moved to cur/, none lost, the link's target untouched
        n = len(os.listdir(DATA)) + 4
        assert _wait(lambda: len(os.listdir(os.path.join(md, "cur"))) == n)
        assert os.listdir(os.path.join(md, "new")) == []
        assert os.path.islink(os.path.join(md, "cur", "1700000102.link:2,"))
        # still watching: a bounce delivered later is read once
        with open(os.path.join(DATA, "trendmicro-deferred.eml"), "rb") as f:
            deliver(md, "1700000200.later", f.read())
        later = d.signals(1)
        assert [s["list_id"] for s in later] == ["trendmicro-ers"]
        time.sleep(0.6)
        assert d.pending() == []
    finally:
        err = d.stop()
    assert "poll:" not in err, err


def test_log_follower_survives_hostile_lines(tmp_path):
    log = str(tmp_path / "maillog")
    with open(log, "w") as f:
        f.write(GOOD.format(ip="203.0.113.1"))      # old: never a signal
    d = Driver("follow", log)
    try:
        with open(log, "ab", buffering=0) as f:
            f.write(bytes(range(256)) * 64 + b"\n")                  # binary
            f.write(b"x" * (1 << 20) + b"\n")                       # 1 MB line
            f.write(b"Dec  3 22:10:01 mail postfix/smtpd[5]: NOQUEUE: reject: RCPT from "
                    b"x[198.51.100.1]: 554 5.7.1 blocked using zen.spamhaus.org; "
                    b"helo=<host a[1.2.3.4] said: 554 zen.spamhaus.org>\n")  # our smtpd
            f.write(GOOD.format(ip="203.0.113.2\x1b[2J\x07").encode())  # escapes
            f.write(GOOD.format(ip="203.0.113.3").encode()[:50])    # half a line
        got = d.signals(1)
        assert len(got) == 1, got
        assert got[0]["text"].startswith("554 5.7.1 Client host [203.0.113.2?[2J?]")
        assert all(0x20 <= ord(c) != 0x7f for c in got[0]["text"])
        with open(log, "ab") as f:
            f.write(GOOD.format(ip="203.0.113.3").encode()[50:])
        got = d.signals(1)
        assert [s["ip"] for s in got] == ["203.0.113.3"]
    finally:
        err = d.stop()
    assert "poll:" not in err, err


def _wait(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False
