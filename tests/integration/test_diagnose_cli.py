"""rblkit diagnose as a user runs it: files, mbox, stdin, the three output
formats, line endings, charsets, and bad input (truncated, garbage, empty,
missing files).

Exit status (documented in `rblkit help diagnose` and docs/diagnose.md):
0 every input was read as mail, 1 some input could not be (each one is
reported, the others still are) or the output could not be written, 2
usage error.  A crash is never an
answer: a negative return code (signal) or a sanitizer report fails.
"""

import json
import os
import random
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "diagnose_data")
EML = os.path.join(HERE, "..", "corpus", "sisimai", "eml")
TREND = os.path.join(DATA, "trendmicro-deferred.eml")


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    global RBLKIT
    RBLKIT = rblkit_bin


def run(*args, stdin=None, timeout=60):
    p = subprocess.run([RBLKIT, "diagnose", *args], input=stdin,
                       capture_output=True, timeout=timeout)
    assert p.returncode >= 0, "killed by signal %d: %s" % (-p.returncode, p.stderr[-2000:])
    assert b"Sanitizer" not in p.stderr, p.stderr.decode(errors="replace")[-3000:]
    return p


def run_json(*args, stdin=None, timeout=60):
    p = run("--json", *args, stdin=stdin, timeout=timeout)
    return p, json.loads(p.stdout)


def test_trendmicro_deferral_summary():
    """The case of issue 5: 12 hours of retries, Trend Micro ERS named with
    its removal page, the failed command and the remote host."""
    p = run(TREND)
    assert p.returncode == 0
    first = p.stdout.decode().splitlines()[0]
    assert first.startswith("Deferred by in.hes.trendmicro.com for 12 h 01 min: "), first
    assert "Trend Micro" in first and "(450 4.7.1" in first, first
    assert first.endswith("Request removal: https://servicecentral.trendmicro.com/en-US/ers/")


def test_json_schema():
    p, out = run_json(TREND)
    assert p.returncode == 0 and len(out) == 1
    m = out[0]
    for key in ("file", "kind", "total_delay_s", "hops", "sender_ips", "recipients"):
        assert key in m, key
    assert m["kind"] == "bounce"
    r = m["recipients"][0]
    assert r == {**r, "recipient": "bob@customer.example", "action": "delayed",
                 "status": "4.7.1", "reply_code": "450",
                 "remote_mta": "in.hes.trendmicro.com", "command": "RCPT",
                 "reason": "blocked", "hard": False,
                 "delist": "https://servicecentral.trendmicro.com/en-US/ers/"}
    assert "Trend Micro" in r["blocklist"]
    assert r["delay_s"] == 12 * 3600 + 65    # Arrival-Date to Last report Date
    assert "ERS-QIL" in r["diagnostic"]
    # path of the original: 2 hops, signed delays, the skew kept negative
    assert [h["ip"] for h in m["hops"]] == ["192.168.1.20", "203.0.113.7"]
    assert [h["delay_s"] for h in m["hops"]] == [7, -3]
    # the rejection names the address the receiver judged (the relay that
    # talked to it, which the original's own path does not show)
    assert m["judged_ip"] == "198.51.100.77" and m["judged_from"] == "rejection"
    assert m["sender_ips"] == ["203.0.113.7"]


def test_line_endings_do_not_matter(tmp_path):
    raw = open(TREND, "rb").read()
    outs = []
    for name, data in (("lf", raw), ("crlf", raw.replace(b"\n", b"\r\n")),
                       ("cr", raw.replace(b"\n", b"\r"))):
        f = tmp_path / name
        f.write_bytes(data)
        p, out = run_json(str(f))
        assert p.returncode == 0
        del out[0]["file"]
        outs.append(out)
    assert outs[0] == outs[1] == outs[2]


def test_stdin_dash_and_no_argument():
    raw = open(TREND, "rb").read()
    for args in ((), ("-",)):
        p, out = run_json(*args, stdin=raw)
        assert p.returncode == 0
        assert out[0]["file"] == "-" and out[0]["recipients"][0]["reason"] == "blocked"


def test_mbox_with_several_messages(tmp_path):
    names = ["lhost-postfix-01.eml", "lhost-exim-01.eml", "lhost-qmail-01.eml"]
    box = b""
    for n in names:
        box += b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
        box += open(os.path.join(EML, n), "rb").read().rstrip(b"\n") + b"\n\n"
    f = tmp_path / "bounces.mbox"
    f.write_bytes(box)
    p, out = run_json(str(f))
    assert p.returncode == 0
    assert [m["index"] for m in out] == [1, 2, 3]
    single = [run_json(os.path.join(EML, n))[1][0] for n in names]
    for a, b in zip(out, single):
        assert a["recipients"] == b["recipients"]


def test_html_is_self_contained_and_escaped(tmp_path):
    evil = open(TREND, "rb").read().replace(
        b"ERS-QIL", b"ERS-QIL <script>alert(1)</script> <img src=x>")
    f = tmp_path / "evil.eml"
    f.write_bytes(evil)
    p = run("--html", str(f), os.path.join(EML, "lhost-exim-01.eml"))
    html = p.stdout.decode()
    assert p.returncode == 0
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert html.count("<section>") == 2 and "<svg" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert not re.search(r"<[a-zA-Z][^>]*\ssrc=", html)
    # the only links are the catalogue's delisting URLs, none from the mail
    assert set(re.findall(r'href="([^"]*)"', html)) == {
        "https://servicecentral.trendmicro.com/en-US/ers/"}
    for external in ("<link", "@import", "url("):
        assert external not in html, external


def test_encoded_subject_and_japanese_bounce():
    p, out = run_json(TREND, os.path.join(EML, "lhost-kddi-01.eml"))
    assert p.returncode == 0
    assert out[1]["subject"] == "メールエラー通知"
    assert out[1]["recipients"][0]["reason"] == "mailboxfull"


def test_kinds():
    p, out = run_json(os.path.join(EML, "arf-01.eml"), os.path.join(EML, "rfc3834-01.eml"),
                      os.path.join(EML, "lhost-postfix-01.eml"))
    assert [m["kind"] for m in out] == ["feedback", "autoreply", "bounce"]


def test_plain_message_path(tmp_path):
    msg = (b"Received: from mx.example.org (mx.example.org [198.51.100.9])\n"
           b"\tby mx.dest.example (Postfix) with ESMTPS id 1; Mon, 2 Mar 2026 10:00:30 +0000\n"
           b"Received: from out.sender.example (out.sender.example [192.0.2.33])\n"
           b"\tby mx.example.org with ESMTP id 2; Mon, 2 Mar 2026 10:00:10 +0000\n"
           b"Received: from [10.1.2.3] by out.sender.example with ESMTPSA id 3;\n"
           b"\tMon, 2 Mar 2026 11:00:05 +0100\n"
           b"Date: Mon, 2 Mar 2026 11:00:00 +0100\nFrom: a@sender.example\n"
           b"To: b@dest.example\nSubject: hello\n\nbody\n")
    f = tmp_path / "plain.eml"
    f.write_bytes(msg)
    p, out = run_json(str(f))
    m = out[0]
    assert m["kind"] == "message" and m["recipients"] == []
    assert [h["delay_s"] for h in m["hops"]] == [5, 5, 20]
    assert m["total_delay_s"] == 30
    assert m["judged_ip"] == "192.0.2.33" and m["judged_from"] == "path"


def test_missing_empty_and_garbage_files(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(bytes(random.Random(5).randrange(256) for _ in range(20000)))
    p, out = run_json(str(tmp_path / "missing"), str(empty), str(garbage), TREND)
    assert p.returncode == 1
    assert "cannot read" in out[0]["error"]
    assert out[1]["error"] == "empty input"
    assert out[2].get("error") or out[2]["kind"] == "message"
    assert out[3]["kind"] == "bounce"          # the good file is still read
    t = run(str(empty))
    assert t.returncode == 1 and b"error: empty input" in t.stdout


def test_quiet_error_lines_are_one_line_each(tmp_path):
    # -q writes one line per input, errors included (no blank line after)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    p = run("-q", str(tmp_path / "missing"), str(empty), TREND)
    lines = p.stdout.decode().split("\n")
    assert p.returncode == 1
    assert len(lines) == 4 and lines[3] == "", lines
    assert lines[0].endswith("missing: error: cannot read: No such file or directory")
    assert lines[1].endswith("empty: error: empty input")
    assert lines[2].startswith(TREND + ": ")


def test_one_output_format():
    # two formats would drop one of them silently: a usage error, as in check
    for args in (["--json", "--html"], ["--html", "--json"], ["-q", "--json"],
                 ["--html", "-q"]):
        p = run(*args, TREND)
        assert p.returncode == 2 and p.stdout == b"", args
        assert b"choose one output format" in p.stderr
    assert run("--json", "--json", TREND).returncode == 0


def test_usage_error():
    p = run("--no-such-option")
    assert p.returncode == 2
    # the hint every command gives (cmd_usage_error)
    assert b"Try 'rblkit help diagnose' for the options." in p.stderr


@pytest.mark.parametrize("name", ["lhost-postfix-01.eml", "lhost-exim-01.eml",
                                  "lhost-sendmail-01.eml", "lhost-kddi-01.eml",
                                  "rfc3464-01.eml", "arf-16.eml"])
def test_truncated_files_never_crash(tmp_path, name):
    raw = open(os.path.join(EML, name), "rb").read()
    cuts = sorted(set(range(0, len(raw), max(1, len(raw) // 40))) | {1, len(raw) - 1})
    paths = []
    for c in cuts:
        f = tmp_path / ("cut%06d" % c)
        f.write_bytes(raw[:c])
        paths.append(str(f))
    p, out = run_json(*paths)
    assert p.returncode in (0, 1)
    assert len(out) == len(paths)


def test_random_mutations_never_crash(tmp_path):
    rnd = random.Random(1234)
    raw = open(TREND, "rb").read()
    paths = []
    for i in range(60):
        b = bytearray(raw)
        for _ in range(rnd.randrange(1, 40)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        f = tmp_path / ("m%03d" % i)
        f.write_bytes(bytes(b))
        paths.append(str(f))
    p, out = run_json(*paths)
    assert p.returncode in (0, 1) and len(out) == len(paths)


def test_hostile_nesting_and_long_lines(tmp_path):
    """Deep multipart nesting, a 2 MB header line, 5000 header fields."""
    deep = b"Content-Type: multipart/mixed; boundary=b0\nSubject: deep\n\n"
    for i in range(1, 200):
        deep += b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i - 1, i)
    (tmp_path / "deep").write_bytes(deep)
    (tmp_path / "long").write_bytes(b"Subject: " + b"x" * (2 << 20) + b"\n\nbody\n")
    (tmp_path / "many").write_bytes(b"".join(b"X-H%d: v\n" % i for i in range(5000)) +
                                    b"\nbody\n")
    p, out = run_json(str(tmp_path / "deep"), str(tmp_path / "long"), str(tmp_path / "many"),
                      timeout=60)
    assert p.returncode == 0 and len(out) == 3


def test_check_looks_the_judged_address_up(tmp_path, datadir, rblkit_server):
    """--check: the address receivers judged (203.0.113.7 in the Trend
    Micro deferral) is looked up with the engine of rblkit check, here on
    a zone served by `rblkit serve` on loopback, named in a catalogue."""
    import sys
    sys.path.insert(0, HERE)
    from helpers_proto import write_data, zone_header
    write_data(datadir, "bl", zone_header("bl.test") +
               ":127.0.0.2:Listed for testing: $\n127.0.0.2\n198.51.100.77\n")  # RFC 5782 test point
    srv = rblkit_server(["bl.test:ip4set:bl"], datadir)
    cat = tmp_path / "cat.conf"
    cat.write_text("[test-bl]\nname = Test BL\nzone = bl.test\nkind = ip4\n"
                   "sets = testset\ntxt = yes\ndelist = https://bl.test/remove\n"
                   "code = 127.0.0.2 listed test listing\n")
    p, out = run_json("--check", "--catalog", str(cat), "--lists", "testset",
                      "--resolver", "127.0.0.1:%d" % srv.port, "--timeout", "5",
                      TREND, os.path.join(EML, "arf-01.eml"))
    assert p.returncode == 0, p.stderr
    chk = out[0]["check"]
    assert chk["ip"] == "198.51.100.77"
    assert [h["list"] for h in chk["listed"]] == ["Test BL"]
    assert chk["listed"][0]["delist"] == "https://bl.test/remove"
    assert "Listed for testing" in (chk["listed"][0]["txt"] or "")
    t = run("--check", "--catalog", str(cat), "--lists", "testset",
            "--resolver", "127.0.0.1:%d" % srv.port, "--timeout", "5", TREND)
    assert b"check of 198.51.100.77: listed on 1 list" in t.stdout
    # without --check nothing is looked up
    assert run_json(TREND)[1][0]["check"] is None


REJECTIONS = [
    ("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
     "https://www.spamhaus.org/query/ip/192.0.2.1", "Spamhaus ZEN", "blocked"),
    ("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using sbl.spamhaus.org",
     "Spamhaus SBL", "blocked"),
    ("550 5.7.1 Client host [192.0.2.1] blocked using bl.spamcop.net", "SpamCop", "blocked"),
    ("550 5.7.1 Service unavailable; client [192.0.2.1] blocked using b.barracudacentral.org",
     "Barracuda", "blocked"),
    ("554 5.7.1 Rejected: IP 192.0.2.1 listed in dnsbl-1.uceprotect.net", "UCEPROTECT", "blocked"),
    ("550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your "
     "Internet service provider since part of their network is on our block list (S3150).",
     "Microsoft", "blocked"),
    ("554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1", "Proofpoint", "blocked"),
    ("550 5.7.1 Mail from 192.0.2.1 refused: Talos reputation", "Talos", None),
]


@pytest.mark.parametrize("text,listname,reason", REJECTIONS)
def test_blocklist_named_with_removal_url(tmp_path, text, listname, reason):
    msg = ("From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\n"
           "Subject: Undelivered Mail Returned to Sender\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
           "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
           "Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.7.1\n"
           "Diagnostic-Code: smtp; %s\n--b--\n" % text)
    f = tmp_path / "b.eml"
    f.write_text(msg)
    r = run_json(str(f))[1][0]["recipients"][0]
    assert listname in (r["blocklist"] or ""), r
    assert (r["delist"] or "").startswith("http"), r
    if reason:
        assert r["reason"] == reason, r


def test_user_unknown_names_no_blocklist(tmp_path):
    """A mailbox that does not exist at outlook.com accuses nobody."""
    msg = ("From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\nSubject: Undeliverable\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
           "--b\nContent-Type: message/delivery-status\n\n"
           "Final-Recipient: rfc822; bob@outlook.com\nAction: failed\nStatus: 5.5.0\n"
           "Remote-MTA: dns; outlook-com.olc.protection.outlook.com\n"
           "Diagnostic-Code: smtp; 550 5.5.0 Requested action not taken: mailbox unavailable "
           "(S2017062302). [AM4PEPF00025F9B.EURP195.PROD.OUTLOOK.COM]\n--b--\n")
    f = tmp_path / "u.eml"
    f.write_text(msg)
    r = run_json(str(f))[1][0]["recipients"][0]
    assert r["reason"] == "userunknown" and r["hard"] is True
    assert r["blocklist"] is None and r["delist"] is None


HOSTILE_BOUNCE = (
    b"From: MAILER-DAEMON@x.example\nTo: a@b.example\nSubject: Undelivered\n"
    b"Date: Thu, 1 Jan 2015 00:00:00 +0000\nMIME-Version: 1.0\n"
    b"Content-Type: multipart/report; report-type=delivery-status; boundary=BB\n\n"
    b"--BB\nContent-Type: text/plain; charset=utf-8\n\nbounce\n"
    b"--BB\nContent-Type: message/delivery-status\n\n"
    b"Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; u@d.example\n"
    b"Action: \x1b]0;PWN\x07\x1b[2J\nStatus: 5.1.1\n"
    b"Diagnostic-Code: smtp; 550 5.1.1 user unknown \xc2\x9b31m\n\n--BB--\n")


def test_text_passes_no_terminal_escapes(tmp_path):
    """ESC and the C1 controls (U+009B is CSI) from the mail never reach
    the terminal, whichever field carries them (here Action:)."""
    f = tmp_path / "esc.eml"
    f.write_bytes(HOSTILE_BOUNCE)
    p = run(str(f))
    assert p.returncode == 0 and b"u@d.example" in p.stdout
    assert b"\x1b" not in p.stdout and b"\x07" not in p.stdout
    assert b"\xc2\x9b" not in p.stdout


def test_json_is_strict_utf8_with_bad_sequences(tmp_path):
    """Overlong forms, surrogates and code points past U+10FFFF in the mail
    (and in file names) are not UTF-8: JSON carries U+FFFD instead."""
    bad = b"\xe0\x80\x80 \xed\xa0\x80 \xf5\x80\x80\x80 \xf4\x90\x80\x80 \xf0\x80\x80\x80"
    body = (b"From: MAILER-DAEMON@x.example\nSubject: x\nContent-Type: text/plain; "
            b"charset=utf-8\n\n<u@d.example>: host mx.d.example[192.0.2.1] said: "
            b"550 5.1.1 unknown " + bad + b" (in reply to RCPT TO command)\n")
    f = tmp_path / "bad.eml"
    f.write_bytes(body)
    g = tmp_path / os.fsdecode(b"name\xe0\x80\x80.eml")
    g.write_bytes(body)
    p = run("--json", str(f), str(g))
    out = json.loads(p.stdout.decode("utf-8"))     # strict: no surrogatepass
    assert len(out) == 2 and "\ufffd" in out[0]["recipients"][0]["diagnostic"]


def test_quiet_summary_passes_no_terminal_escapes(tmp_path):
    """-q prints the summary line alone; it carries the mail's Remote-MTA
    and recipient, so it is blanked like the full text report."""
    raw = HOSTILE_BOUNCE.replace(b"Final-Recipient: rfc822; u@d.example",
                                 b"Final-Recipient: rfc822; u@d.example\n"
                                 b"Remote-MTA: dns; mx\x1b]0;PWN\x07.d.example")
    f = tmp_path / "esc.eml"
    f.write_bytes(raw)
    p = run("-q", str(f))
    assert p.returncode == 0 and b"Rejected by mx" in p.stdout
    assert b"\x1b" not in p.stdout and b"\x07" not in p.stdout


def test_bounce_without_original_judges_no_address(tmp_path):
    """A report with no copy of the original has only its own path: the
    reporting MTA's way back to the sender.  That hop is the receiver,
    not the sender's relay, and the report's own Date: is not the
    arrival of the mail: neither is reported as if it were."""
    f = tmp_path / "noorig.eml"
    f.write_bytes(
        b"Received: from mx.example (mx.example [192.0.2.7]) by inbound.sender.example;"
        b" Thu, 1 Jan 2015 00:05:00 +0000\n"
        b"From: MAILER-DAEMON@mx.example\nTo: a@sender.example\nSubject: Undelivered\n"
        b"Date: Thu, 1 Jan 2015 00:04:00 +0000\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=BB\n\n"
        b"--BB\nContent-Type: text/plain\n\nbounce\n"
        b"--BB\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        b"Final-Recipient: rfc822; u@d.example\nAction: failed\nStatus: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\n--BB--\n")
    p, out = run_json(str(f))
    m = out[0]
    assert p.returncode == 0 and m["kind"] == "bounce"
    assert m["judged_ip"] is None
    assert m["recipients"][0]["delay_s"] is None
    assert len(m["hops"]) == 1        # the path itself is still shown
    t = run(str(f)).stdout
    assert b"time from arrival" not in t and b"judged" not in t


def test_write_error_is_not_success():
    """Output that could not be written (a full disk) is not a run that
    read every input: a truncated JSON file must not look complete."""
    with open("/dev/full", "wb") as full:
        p = subprocess.run([RBLKIT, "diagnose", "--json", TREND], stdout=full,
                           stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 1 and b"write error" in p.stderr


@pytest.mark.parametrize("line", [b"<", b"<a", b"<a@b"])
def test_open_brackets_take_linear_time(tmp_path, line):
    """A plain-text bounce whose text is one long run of '<' (no '>' and
    no line break) was scanned to its end once per '<': seconds for the
    256 KiB of report text read.  Input that big is read in well under
    a second."""
    f = tmp_path / "lt.eml"
    f.write_bytes(b"From: MAILER-DAEMON@mx.example\nSubject: Undelivered Mail\n"
                  b"Content-Type: text/plain\n\nI'm sorry to have to inform you that "
                  b"your message could not be delivered.\n\n" +
                  line * (250000 // len(line)) + b"\n")
    import time
    t0 = time.monotonic()
    p = run(str(f))
    assert p.returncode == 0
    assert time.monotonic() - t0 < 1.5


def _forwarded_status_parts(nparts, total):
    """A forwarded message whose multipart holds nparts delivery-status
    parts (total bytes in all) that name no recipient."""
    lines = b"Reporting-MTA: dns; x.example\n" * (total // nparts // 30)
    part = b"--i\nContent-Type: message/delivery-status\n\n" + lines + b"\n"
    inner = (b"From: a@b.example\nContent-Type: multipart/mixed; boundary=i\n\n" +
             part * nparts + b"--i--\n")
    return (b"From: x@y.example\nSubject: fwd\n"
            b"Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: text/plain\n\n"
            b"hi\n--o\nContent-Type: message/rfc822\n\n" + inner + b"\n--o--\n")


def test_forwarded_status_parts_are_read_once(tmp_path):
    """Delivery-status parts inside an attached message were read again
    from each part on (n^2/2 part readings): 250 parts took ten times as
    long as 25 parts of the same total size.  Now about the same."""
    import time
    took = []
    for n in (25, 250):
        f = tmp_path / ("fwd%d.eml" % n)
        f.write_bytes(_forwarded_status_parts(n, 8 << 20))
        t0 = time.monotonic()
        p = run("-q", str(f))
        took.append(time.monotonic() - t0)
        assert p.returncode == 0
    assert took[1] < 3 * took[0] + 0.2, took


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--html"], ["-q"]])
def test_threads_print_in_file_order(tmp_path, fmt):
    """-j reads files in parallel; the report is the same, byte for byte,
    as one thread's: every format, unreadable files and an mbox among
    them, and the exit status."""
    files = sorted(os.path.join(EML, f) for f in os.listdir(EML))[:120]
    mbox = tmp_path / "two.mbox"
    with open(files[0], "rb") as a, open(files[1], "rb") as b:
        mbox.write_bytes(b"From a@b Thu Jan  1 00:00:00 2026\n" + a.read() +
                         b"\nFrom c@d Thu Jan  1 00:00:00 2026\n" + b.read())
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    args = files[:50] + [str(mbox), str(tmp_path / "missing.eml"), str(empty)] + files[50:]
    one = run(*fmt, "-j", "1", *args)
    assert one.returncode == 1 and one.stdout
    for jobs in ("2", "7", "0"):
        many = run(*fmt, "-j", jobs, *args)
        assert many.returncode == one.returncode
        assert many.stdout == one.stdout, "-j %s differs from -j 1" % jobs
    if fmt == ["--json"]:
        assert len(json.loads(one.stdout)) == len(args) + 1   # the mbox has two


def test_threads_split_one_big_mbox(tmp_path):
    """One mbox of many messages is shared among the threads too: the
    messages keep their numbers and their order."""
    files = sorted(os.path.join(EML, f) for f in os.listdir(EML))[:90]
    box = tmp_path / "archive.mbox"
    with open(box, "wb") as out:
        for i, f in enumerate(files):
            with open(f, "rb") as inp:
                body = inp.read().replace(b"\r\n", b"\n")
            if body.startswith(b"From "):       # its own envelope line
                body = body.split(b"\n", 1)[1]
            out.write(b"From MAILER-DAEMON Thu Jan  1 00:00:%02d 2026\n" % (i % 60))
            out.write(body.replace(b"\nFrom ", b"\n>From "))
            out.write(b"\n")
    one = run("--json", "-j", "1", str(box))
    items = json.loads(one.stdout)
    assert [m["index"] for m in items] == list(range(1, len(files) + 1))
    assert sum(1 for m in items if m["kind"] == "bounce") > 60
    for jobs in ("2", "5"):
        many = run("--json", "-j", jobs, str(box))
        assert many.returncode == one.returncode
        assert many.stdout == one.stdout


def _corpus_mbox(path, copies, big=0):
    """The corpus as one mbox, copies times over; big: a message of that
    many bytes in the middle (longer than a chunk of the reader)."""
    files = sorted(os.path.join(EML, f) for f in os.listdir(EML))
    n = 0
    with open(path, "wb") as out:
        for c in range(copies):
            for i, f in enumerate(files):
                with open(f, "rb") as inp:
                    body = inp.read().replace(b"\r\n", b"\n")
                if body.startswith(b"From "):
                    body = body.split(b"\n", 1)[1]
                out.write(b"From MAILER-DAEMON Thu Jan  1 00:00:%02d 2026\n" % (i % 60))
                out.write(body.replace(b"\nFrom ", b"\n>From "))
                out.write(b"\n")
                n += 1
                if big and c == 0 and i == len(files) // 2:
                    out.write(b"From a@b Thu Jan  1 00:00:00 2026\nFrom: a@b\n"
                              b"Subject: big\n\n" + (b"x" * 77 + b"\n") * (big // 78) +
                              b"\n")
                    n += 1
    return n


@pytest.mark.parametrize("fmt", [["--json"], ["-q"], ["--html"], []])
def test_threads_stream_a_large_mbox(tmp_path, fmt):
    """An mbox larger than a chunk of the reader (1 MiB) is read and cut
    a chunk at a time while the threads read its messages: every message
    is cut where one thread cuts it (messages and "From " lines across
    chunk ends, one message longer than a chunk), numbered in order, in
    every format."""
    box = tmp_path / "large.mbox"
    n = _corpus_mbox(box, 1, big=3 << 20)
    assert os.path.getsize(box) > 4 << 20
    one = run(*fmt, "-j", "1", str(box))
    if fmt == ["--json"]:
        items = json.loads(one.stdout)
        assert [m["index"] for m in items] == list(range(1, n + 1))
        assert any(m["subject"] == "big" for m in items)
    for jobs in ("2",):
        many = run(*fmt, "-j", jobs, str(box))
        assert many.returncode == one.returncode
        assert many.stdout == one.stdout, "-j %s differs from -j 1" % jobs


def test_files_from_a_list(tmp_path):
    """--files-from reads the names from a file or stdin (for more files
    than a command line takes), after the command line's."""
    files = sorted(os.path.join(EML, f) for f in os.listdir(EML))[:30]
    lst = tmp_path / "list"
    lst.write_text("\n".join(files[1:]) + "\r\n\n")
    direct = run("--json", *files)
    assert run("--json", "--files-from", str(lst), files[0]).stdout == direct.stdout
    piped = run("--json", "--files-from", "-", files[0],
                stdin=("\n".join(files[1:]) + "\n").encode())
    assert piped.stdout == direct.stdout
    missing = run("--files-from", str(tmp_path / "nope"))
    assert missing.returncode == 2 and b"--files-from" in missing.stderr


def test_jobs_usage():
    for bad in ("x", "-1", "65", ""):
        p = run("-j", bad, TREND)
        assert p.returncode == 2, bad


# Japanese ISPs and carriers explain bounces in Japanese, often without
# any SMTP code: the reason comes from the decoded text (issue 10.4).
# ISO-2022-JP and UTF-8; 7bit, 8bit, base64 and quoted-printable.
JAPANESE = [
    ("ja-nifty-userunknown-iso2022jp-7bit.eml", "hanako@nifty.com", "userunknown", True),
    ("ja-sonet-userunknown-iso2022jp-base64.eml", "ichiro@so-net.ne.jp", "userunknown", True),
    ("ja-ocn-userunknown-utf8-qp.eml", "kenta@ocn.ne.jp", "userunknown", True),
    ("ja-ocn-mailboxfull-utf8-base64.eml", "jiro@ocn.ne.jp", "mailboxfull", False),
    ("ja-au-mailboxfull-iso2022jp-base64.eml", "saburo@au.com", "mailboxfull", False),
    ("ja-softbank-filtered-utf8-8bit.eml", "shiro@softbank.ne.jp", "filtered", False),
    ("ja-docomo-mesgtoobig-iso2022jp-7bit.eml", "goro@docomo.ne.jp", "mesgtoobig", False),
    ("ja-biglobe-hostunknown-utf8-base64.eml", "rokuro@no-such-domain.example.jp",
     "hostunknown", True),
]


@pytest.mark.parametrize("name,rcpt,reason,hard", JAPANESE)
def test_japanese_bounce_reasons(name, rcpt, reason, hard):
    p, out = run_json(os.path.join(DATA, name))
    assert p.returncode == 0
    r = out[0]["recipients"][0]
    assert (r["recipient"], r["reason"], r["hard"]) == (rcpt, reason, hard), r
    assert "could not be determined" not in out[0]["summary"]


@pytest.mark.parametrize("phrase,reason", [
    ("宛先のメールアドレスは存在しません（ユーザー不明）", "userunknown"),
    ("ユーザ不明のため配送できませんでした", "userunknown"),
    ("このメールアドレスは現在使われておりません", "userunknown"),
    ("メールボックスがいっぱいです", "mailboxfull"),
    ("受信者のメールボックス容量を超過しています", "mailboxfull"),
    ("受信拒否設定により配信されませんでした", "filtered"),
    ("メールのサイズ制限を超えています", "mesgtoobig"),
    ("宛先ドメインが見つかりません", "hostunknown"),
    ("このアカウントは利用停止中です", "suspend"),
    ("ﾕｰｻﾞｰ不明のため配信できません", "userunknown"),     # half-width katakana
])
def test_japanese_phrases_in_any_charset(tmp_path, phrase, reason):
    """The same words in Shift_JIS, EUC-JP, ISO-2022-JP or UTF-8 read the
    same: the phrases are matched on the decoded text."""
    import base64
    for cs, codec in (("Shift_JIS", "shift_jis"), ("EUC-JP", "euc_jp"),
                      ("ISO-2022-JP", "iso2022_jp"), ("UTF-8", "utf-8")):
        try:
            raw = ("配信できませんでした。\n\n<taro@example.jp>\n    %s\n" % phrase).encode(codec)
        except UnicodeEncodeError:      # half-width katakana: not in ISO-2022-JP
            continue
        body = base64.encodebytes(raw).decode()
        msg = ("From: MAILER-DAEMON@mail.example.jp\nTo: a@example.org\n"
               "Subject: Returned mail: see transcript for details\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=%s\nContent-Transfer-Encoding: base64\n\n%s"
               % (cs, body))
        f = tmp_path / ("b-%s.eml" % cs)
        f.write_text(msg)
        r = run_json(str(f))[1][0]["recipients"][0]
        assert (r["recipient"], r["reason"]) == ("taro@example.jp", reason), (cs, r)


def test_summary_cut_on_a_character_boundary():
    """The one-line summary quotes the start of the server's words; cut in
    the middle of a Japanese character it was invalid UTF-8 in the text
    output and U+FFFD in JSON (issue 10.5)."""
    f = os.path.join(DATA, "ja-ocn-userunknown-utf8-qp.eml")
    for args in ((), ("-q",)):
        out = run(*args, f).stdout
        out.decode("utf-8")             # strict: raises on a cut character
    summary = run_json(f)[1][0]["summary"]
    assert "\ufffd" not in summary, summary
    assert summary.startswith("Rejected: the recipient address does not exist (550 5.1.1 宛先"), summary
    assert summary.endswith("...)"), summary


def _dsn(text, status="5.7.1", action="failed", received=""):
    return ("From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\n"
            "Subject: Undelivered Mail Returned to Sender\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
            "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n"
            "Final-Recipient: rfc822; bob@example.net\nAction: %s\nStatus: %s\n"
            "Diagnostic-Code: smtp; %s\n--b\nContent-Type: text/rfc822-headers\n\n%s"
            "From: a@example.org\nTo: bob@example.net\nSubject: hi\n--b--\n"
            % (action, status, text, received))


def test_permanent_rejection_is_not_labelled_soft(tmp_path):
    """A 550 block is a permanent refusal: it was labelled "blocked
    (soft)" because the address itself is fine (hard: false).  Text and
    HTML now say permanent; a 4xx deferral stays soft (issue 10.5)."""
    f = tmp_path / "perm.eml"
    f.write_text(_dsn("550 5.7.1 Service unavailable; Client host [192.0.2.1] "
                      "blocked using zen.spamhaus.org"))
    t = run(str(f)).stdout.decode()
    assert "reason: blocked (permanent), action failed" in t, t
    assert "(soft)" not in t
    assert '<td class="permanent">blocked</td>' in run("--html", str(f)).stdout.decode()
    r = run_json(str(f))[1][0]["recipients"][0]
    assert r["reason"] == "blocked" and r["hard"] is False    # JSON "hard" unchanged
    assert "reason: blocked (soft), action delayed" in run(TREND).stdout.decode()


def test_one_hop_is_singular(tmp_path):
    f = tmp_path / "one.eml"
    f.write_bytes(b"Received: from out.sender.example (out.sender.example [192.0.2.33])\n"
                  b"\tby mx.example.org with ESMTP id 2; Mon, 2 Mar 2026 10:00:10 +0000\n"
                  b"Date: Mon, 2 Mar 2026 10:00:00 +0000\nFrom: a@sender.example\n"
                  b"To: b@dest.example\nSubject: hello\n\nbody\n")
    t = run(str(f)).stdout.decode()
    assert t.startswith("Message: 1 hop in 10 s,"), t
    assert "path (1 hop, total 10 s):" in t and "1 hops" not in t
    assert "path: 1 hop," in run("--html", str(f)).stdout.decode()


def test_quiet_names_the_message_of_an_mbox(tmp_path):
    """-q on an mbox: each line names its message, as an error line and
    the full report do (issue 10.5)."""
    box = b""
    for n in ["lhost-postfix-01.eml", "lhost-exim-01.eml", "lhost-qmail-01.eml"]:
        box += b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"
        box += open(os.path.join(EML, n), "rb").read().rstrip(b"\n") + b"\n\n"
    f = tmp_path / "bounces.mbox"
    f.write_bytes(box)
    for j in ("1", "2"):
        lines = run("-q", "-j", j, str(f)).stdout.decode().splitlines()
        assert len(lines) == 3
        assert lines[0].startswith(str(f) + ": ")
        assert lines[1].startswith(str(f) + " #2: ") and lines[2].startswith(str(f) + " #3: ")


def test_html_delisting_urls_are_safe_links(tmp_path):
    """The HTML report links the delisting URL (summary, what to do next,
    recipient table); the URL is entity-escaped in the attribute and the
    text, and a URL that is not http(s) (a catalogue given with --catalog)
    is no link."""
    f = tmp_path / "b.eml"
    f.write_text(_dsn("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked "
                      "using bl.spamcop.net"))
    html = run("--html", str(f)).stdout.decode()
    links = re.findall(r'<a href="([^"]*)" rel="noopener noreferrer nofollow">([^<]*)</a>', html)
    assert len(links) == 3 and all(u == t and u.startswith("https://") for u, t in links), links
    assert "spamcop" in links[0][0]
    # every href is one of those links: nothing from the mail becomes one
    assert len(re.findall(r"href=", html)) == 3
    cat = tmp_path / "cat.conf"
    cat.write_text("[evil]\nname = Evil BL\nzone = evil.test\nkind = ip4\n"
                   "delist = https://evil.test/?a=1&b=\"><script>x</script>\n"
                   "match = evilbl.test\n"
                   "[js]\nname = JS BL\nzone = js.test\nkind = ip4\n"
                   "delist = javascript:alert(1)\nmatch = jsbl.test\n")
    for zone, bad in (("evilbl.test", "<script>"), ("jsbl.test", "javascript:")):
        g = tmp_path / ("%s.eml" % zone)
        g.write_text(_dsn("554 5.7.1 Client host [192.0.2.1] blocked using %s" % zone))
        p = run("--html", "--catalog", str(cat), str(g))
        html = p.stdout.decode()
        assert p.returncode == 0, p.stderr
        assert "<script" not in html
        assert 'href="%s' % bad not in html and "href=\"javascript" not in html
        assert "Evil BL" in html or "JS BL" in html


def test_check_keeps_every_code_of_a_multi_code_answer(tmp_path, datadir, rblkit_server):
    """Spamhaus ZEN answers 127.0.0.2 (SBL) and 127.0.0.4 (XBL) for an
    address on both: --check showed the SBL meaning only and dropped XBL
    (issue 10.5).  Two datasets of one zone on `rblkit serve`, loopback,
    with the built-in catalogue's meanings of the codes."""
    import sys
    sys.path.insert(0, HERE)
    from helpers_proto import write_data, zone_header
    write_data(datadir, "sbl", zone_header("zen.spamhaus.org") +
               ":127.0.0.2:SBL listing of $\n127.0.0.2\n198.51.100.77\n")
    write_data(datadir, "xbl", ":127.0.0.4:XBL: exploited host $\n127.0.0.2\n198.51.100.77\n")
    srv = rblkit_server(["zen.spamhaus.org:ip4set:sbl", "zen.spamhaus.org:ip4set:xbl"], datadir)
    args = ("--check", "--lists", "zen.spamhaus.org", "--resolver",
            "127.0.0.1:%d" % srv.port, "--timeout", "5", TREND)
    p, out = run_json(*args)
    assert p.returncode == 0, p.stderr
    hit = out[0]["check"]["listed"]
    assert len(hit) == 1 and hit[0]["list"] == "Spamhaus ZEN", hit
    assert sorted(hit[0]["codes"]) == ["127.0.0.2", "127.0.0.4"], hit
    assert any("SBL" in m for m in hit[0]["meanings"]), hit
    assert any("XBL" in m for m in hit[0]["meanings"]), hit
    assert "SBL" in hit[0]["meaning"] and "XBL" in hit[0]["meaning"], hit
    assert "SBL listing" in hit[0]["txt"] and "XBL: exploited" in hit[0]["txt"], hit
    t = run(*args[:-1], TREND).stdout.decode()
    line = [x for x in t.splitlines() if "listed on Spamhaus ZEN" in x][0]
    assert "127.0.0.2 SBL" in line and "127.0.0.4 XBL" in line, line
    h = run("--html", *args).stdout.decode()
    assert "127.0.0.4 XBL" in h and '<a href="https://check.spamhaus.org/"' in h


EXO = os.path.join(DATA, "exchange-online-ndr.eml")


def test_exchange_online_ndr_names_the_remote_host():
    """An Exchange Online NDR names the host that refused only in its
    "Diagnostic information for administrators" (recipient, host, "Remote
    Server returned '550 ...'"); the DSN has no Remote-MTA.  The remote
    MTA was left empty (issue 10.5)."""
    p, out = run_json(EXO)
    m = out[0]
    r = m["recipients"][0]
    assert (r["recipient"], r["remote_mta"], r["status"], r["reply_code"]) == (
        "bob@example.net", "mx1.example.net", "5.7.1", "550"), r
    assert r["reason"] == "blocked" and r["blocklist"] == "Spamhaus ZEN"
    assert m["summary"].startswith("Rejected by mx1.example.net: "), m["summary"]
    assert m["judged_ip"] == "40.107.220.45"


def test_exchange_online_hop_protocol_reads_whole():
    """Microsoft writes "with Microsoft SMTP Server (version=TLS1_2,
    cipher=...) id 15.20...": the protocol is all of it, not "Microsoft"."""
    hops = run_json(EXO)[1][0]["hops"]
    assert [h["with"] for h in hops] == [
        "mapi", "Microsoft SMTP Server (version=TLS1_2, "
        "cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)"], hops
    assert hops[1]["by"] == "SN6PR04MB4020.namprd04.prod.outlook.com"
    assert "with Microsoft SMTP Server (version=TLS1_2," in run(EXO).stdout.decode()


@pytest.mark.parametrize("received,proto", [
    # Postfix with TLS: the "with" inside the comment is not the clause
    ("from mx.example.org (mx.example.org [192.0.2.9]) (using TLSv1.3 with cipher "
     "TLS_AES_256_GCM_SHA384 (256/256 bits)) (No client certificate requested) "
     "by mx.dest.example (Postfix) with ESMTPS id 4Q; Mon, 2 Mar 2026 10:00:30 +0000",
     "ESMTPS"),
    ("from a.example (a.example [192.0.2.9]) by b.example with Microsoft SMTPSVC(6.0.3790.4675);"
     " Mon, 2 Mar 2026 10:00:30 +0000", "Microsoft SMTPSVC(6.0.3790.4675)"),
    ("from a.example ([192.0.2.9]) by b.example with esmtps (TLS1.3) tls "
     "TLS_AES_256_GCM_SHA384 (Exim 4.96) id 1x; Mon, 2 Mar 2026 10:00:30 +0000", "esmtps"),
    ("from a.example by b.example with ESMTP idA8C7 for <x@y>; Mon, 2 Mar 2026 10:00:30 +0000",
     "ESMTP"),
])
def test_received_protocol(tmp_path, received, proto):
    f = tmp_path / "m.eml"
    f.write_text("Received: %s\nDate: Mon, 2 Mar 2026 10:00:00 +0000\nFrom: a@a.example\n"
                 "Subject: x\n\nbody\n" % received)
    assert run_json(str(f))[1][0]["hops"][0]["with"] == proto


def test_exchange_2013_remote_server_at(tmp_path):
    """Exchange 2013-2019 on premises: "Remote Server at HOST (IP) returned"."""
    raw = open(EXO, "rb").read().replace(
        b"mx1.example.net\r\nRemote Server returned '",
        b"Remote Server at mx2.example.net (192.0.2.25) returned '")
    f = tmp_path / "ex2013.eml"
    f.write_bytes(raw)
    assert run_json(str(f))[1][0]["recipients"][0]["remote_mta"] == "mx2.example.net"


@pytest.mark.parametrize("subject,text", [
    ("配信エラーのお知らせ", "以下の宛先へのメールはお届けできません。"),
    ("お知らせ", "以下の宛先へのメールは配信できませんでした。"),
])
def test_japanese_bounce_from_a_plain_sender(tmp_path, subject, text):
    """A Japanese ISP's notice sent from an ordinary address (no
    MAILER-DAEMON) is known as a bounce by its Japanese subject or text."""
    import base64
    from email.header import Header
    body = base64.encodebytes(("%s\n\n<taro@example.jp>\n    宛先不明（ユーザー不明）\n"
                               % text).encode("iso2022_jp")).decode()
    f = tmp_path / "jp.eml"
    f.write_text("From: =?ISO-2022-JP?B?%s?= <info@mail.example.jp>\nTo: a@example.org\n"
                 "Subject: %s\nMIME-Version: 1.0\n"
                 "Content-Type: text/plain; charset=ISO-2022-JP\n"
                 "Content-Transfer-Encoding: base64\n\n%s"
                 % (base64.b64encode("システム管理者".encode("iso2022_jp")).decode(),
                    Header(subject, "iso-2022-jp").encode(), body))
    m = run_json(str(f))[1][0]
    assert m["kind"] == "bounce", m
    r = m["recipients"][0]
    assert (r["recipient"], r["reason"]) == ("taro@example.jp", "userunknown"), r


def test_check_says_why_a_list_gave_no_verdict():
    """diagnose --check with every list refused: each list's reason is
    given (text, grouped; JSON, per list), not only a count of errors."""
    import socket
    import threading
    import dns.message
    import dns.rcode
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = []

    def serve():
        while not stop:
            try:
                wire, peer = sock.recvfrom(4096)
            except socket.timeout:
                continue
            r = dns.message.make_response(dns.message.from_wire(wire))
            r.set_rcode(dns.rcode.REFUSED)
            sock.sendto(r.to_wire(), peer)
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        res = ["--check", "--lists", "bl.spamcop.net,psbl", "--resolver",
               "127.0.0.1:%d" % sock.getsockname()[1], "--timeout", "5"]
        p = run(*res, TREND)
        text = p.stdout.decode()
        assert "clean on 0, 2 errors" in text
        line = [x for x in text.split("\n") if "no verdict:" in x]
        assert len(line) == 1 and "REFUSED" in line[0], text
        assert "bl.spamcop.net" in line[0] and "psbl.surriel.com" in line[0]
        p, out = run_json(*res, TREND)
        nv = out[0]["check"]["no_verdict"]
        assert sorted(e["zone"] for e in nv) == ["bl.spamcop.net", "psbl.surriel.com"]
        assert all("REFUSED" in e["error"] for e in nv)
    finally:
        stop.append(1)
        t.join()
        sock.close()


def test_japanese_separator_ends_the_diagnostic():
    """"------ 元のメッセージ ------" starts the copy of the original: it is
    not part of the reason's text."""
    p, out = run_json(os.path.join(DATA, "ja-docomo-separator.eml"))
    r = out[0]["recipients"][0]
    assert r["reason"] == "userunknown"
    assert "元のメッセージ" not in r["diagnostic"], r["diagnostic"]
    assert r["diagnostic"].endswith("ユーザー不明のため配信できませんでした。")


def test_a_text_part_past_the_scan_limit_is_read_up_to_it(tmp_path):
    """A plain bounce whose one text part is 5 MB (the report's words, then
    the original copied in as text): the first 256 KiB are read, so the
    recipient and its reason are found (the part was skipped whole)."""
    p = tmp_path / "big.eml"
    p.write_text(
        "From: MAILER-DAEMON@mx.example.org\nTo: a@example.org\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Date: Tue, 3 Mar 2026 21:31:07 +0100\nContent-Type: text/plain\n\n"
        "This is the mail system at host mx.example.org.\n\n"
        "<bob@example.net>: host mx.example.net[192.0.2.9] said: 550 5.1.1\n"
        "    <bob@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO\n"
        "    command)\n\n--- Original message follows.\n\n" +
        "some quoted text of the original, line by line\n" * 110000)
    m = run_json(str(p))[1][0]
    assert [(r["recipient"], r["reason"], r["status"]) for r in m["recipients"]] == \
        [("bob@example.net", "userunknown", "5.1.1")], m["recipients"]
