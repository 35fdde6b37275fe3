"""rblkit diagnose over one large mbox: a file over 1 MiB is read a piece
at a time (256 KiB) and cut as it comes, by one thread (-j 1) and by the
threads' reader.  Whatever the pieces, the messages, their numbers and
their reports are those of the same bytes read whole (a pipe on standard
input is read whole): "From " lines cut by a piece's end, messages longer
than a piece and than the reader's first buffer, mbox or mail without
envelope lines at the top.  Output compared byte for byte; no timings.
"""

import json
import os
import re
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EML = os.path.join(HERE, "..", "corpus", "sisimai", "eml")
PIECE = 256 << 10       # -j 1: the first read of a streamed file (src/lib/mail/batch.c)
CHUNK = 128 << 10       # threads: the first chunk


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    global RBLKIT
    RBLKIT = rblkit_bin


def run(args, cwd, stdin=None):
    p = subprocess.run([RBLKIT, "diagnose", *args], input=stdin, cwd=cwd,
                       capture_output=True, timeout=120)
    assert p.returncode >= 0, "killed by signal %d: %s" % (-p.returncode, p.stderr[-2000:])
    assert b"Sanitizer" not in p.stderr, p.stderr.decode(errors="replace")[-3000:]
    return p


def _bodies():
    out = []
    for f in sorted(os.listdir(EML)):
        with open(os.path.join(EML, f), "rb") as inp:
            b = inp.read().replace(b"\r\n", b"\n")
        if b.startswith(b"From "):
            b = b.split(b"\n", 1)[1]
        out.append(re.sub(rb"(?m)^(>*From )", rb">\1", b).rstrip(b"\n") + b"\n\n")
    return out


ENV = b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"


def _big(n, subject):
    return (b"From: a@b.example\nSubject: " + subject + b"\n\n" +
            (b"y" * 70 + b"\n") * (n // 71) + b"\n")


def _pad_to(out, at, head):
    """A message (head, then filler) after which the next line starts
    at at - 3: "\nFro" is cut by a read that ends at at."""
    out += head + b"z" * (at - 5 - len(out) - len(head)) + b"\n\n"
    assert len(out) == at - 3


def _box(mbox):
    """About 3 MB: "From " lines cut by the end of the first read of
    both readers, corpus messages, a message of 300 KiB (longer than the
    first buffer) and one of 1.5 MiB (longer than a chunk of the threads
    and than the buffer doubled once).  mbox False: no envelope line at
    the top (mail concatenated: then only an envelope line after an empty
    line ends the first message, not a body's "From " line, even one cut
    by a read's end)."""
    bodies = _bodies()
    out = bytearray()
    i = 0
    if mbox:
        for at in (CHUNK, PIECE):
            while len(out) < at - 70000:
                out += ENV + bodies[i % len(bodies)]
                i += 1
            _pad_to(out, at, ENV + b"From: a@b.example\nSubject: pad\n\n")
    else:
        head = b"From: a@b.example\nSubject: first\n\nFrom here\n\nFrom there\n"
        line = b"\nFrom the desk of nobody at all\n"
        out += head + b"z" * (CHUNK - 4 - len(head)) + line
        assert out[CHUNK - 4:CHUNK] == b"\nFro"
        _pad_to(out, PIECE, b"")
    out += ENV + _big(300 << 10, b"big300k")
    for k in range(200):
        out += ENV + bodies[(i + k) % len(bodies)]
    out += ENV + _big(3 << 19, b"big1m5")
    for k in range(400):
        out += ENV + bodies[(i + 200 + k) % len(bodies)]
    assert out[PIECE - 4:PIECE] == b"\nFro"
    assert mbox is False or out[CHUNK - 4:CHUNK] == b"\nFro"
    return bytes(out)


@pytest.mark.parametrize("mbox", [True, False], ids=["mbox", "concatenated"])
@pytest.mark.parametrize("fmt", [["--json"], ["-q"]], ids=["json", "quiet"])
def test_large_mbox_read_in_pieces_as_read_whole(tmp_path, mbox, fmt):
    data = _box(mbox)
    assert len(data) > 2 << 20
    (tmp_path / "box").write_bytes(data)
    whole = run([*fmt, "-j", "1", "-"], tmp_path, stdin=data)
    assert whole.returncode in (0, 1)
    # the same bytes under the name "box"
    if fmt == ["--json"]:
        ref = whole.stdout.replace(b'"file": "-"', b'"file": "box"')
        items = json.loads(ref)
        assert [m["index"] for m in items] == list(range(1, len(items) + 1))
        subjects = [m["subject"] for m in items]
        assert "big300k" in subjects and "big1m5" in subjects
        assert len(items) > 600
    else:
        ref = re.sub(rb"(?m)^-( #\d+)?:", lambda m: b"box" + (m.group(1) or b"") + b":",
                     whole.stdout)
    for jobs in ("1", "2", "0"):
        p = run([*fmt, "-j", jobs, "box"], tmp_path)
        assert p.returncode == whole.returncode
        assert p.stdout == ref, "-j %s over the file differs from the file read whole" % jobs
