"""rblkit diagnose against the sisimai bounce corpus (tests/corpus/sisimai).

433 bounce mails of many MTAs and receivers with the reading sisimai's own
tests expect per recipient (reason, enhanced status, SMTP reply code).  The
test reads every file with the real binary (--json), compares recipient by
recipient, prints the agreement percentages and every disagreement (also
written to $TMPDIR/rblkit-diagnose-KEY-disagreements.txt, and summed up as
a warning in every run), fails when an agreement falls under the floor
measured last (a regression), and holds each field to the target of issue
5 (95%): a field not there yet is an expected failure (xfail, strict: it
turns into a failure once the target is reached, so the mark is removed).

Re-measure by hand:
  /usr/bin/python3 -m pytest -q -s tests/integration/test_diagnose_corpus.py
"""

import csv
import json
import os
import subprocess
import warnings

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus", "sisimai")
TARGET = 95.0
FIELDS = (("reason", "reason"), ("status", "status"), ("replycode", "reply_code"))


def _read_corpus(rblkit_bin):
    eml = os.path.join(CORPUS, "eml")
    files = sorted(os.listdir(eml))
    out = subprocess.run([rblkit_bin, "diagnose", "--json"] +
                         [os.path.join(eml, f) for f in files],
                         capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    # a file may hold several messages (mail concatenated mbox-style):
    # its recipients are those of all of them, in order
    got = {}
    for m in json.loads(out.stdout):
        name = os.path.basename(m["file"])
        if name in got:
            got[name]["recipients"] = (got[name].get("recipients") or []) + \
                (m.get("recipients") or [])
        else:
            got[name] = m
    assert len(got) == len(files)
    return got


def _compare(got):
    with open(os.path.join(CORPUS, "expected.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    bad = {k: [] for k, _ in FIELDS}
    for e in rows:
        recips = got[e["file"]].get("recipients") or []
        i = int(e["index"]) - 1
        r = recips[i] if i < len(recips) else {}
        for k, jk in FIELDS:
            have = r.get(jk) or ""
            if have != e[k]:
                bad[k].append("%s #%s: %s expected %r, got %r | %s" % (
                    e["file"], e["index"], k, e[k], have,
                    (r.get("diagnostic") or "")[:120]))
    return rows, bad


@pytest.fixture(scope="module")
def agreement(rblkit_bin):
    return _compare(_read_corpus(rblkit_bin))


def _pct(rows, bad, key):
    n = len(rows)
    return 100.0 * (n - len(bad[key])) / n


def _report(rows, bad, key):
    n = len(rows)
    pct = _pct(rows, bad, key)
    text = "sisimai corpus, %s: %.1f%% agreement (%d of %d recipients), %d disagreements:\n%s" % (
        key, pct, n - len(bad[key]), n, len(bad[key]), "\n".join("  " + l for l in bad[key]))
    with open(os.path.join(os.environ.get("TMPDIR", "/tmp"),
                           "rblkit-diagnose-%s-disagreements.txt" % key), "w") as f:
        f.write(text + "\n")
    print("\n" + text)
    return pct, text


# Agreement measured when this branch was last changed; a change of rules
# that reads the corpus worse than this fails here (a regression), whatever
# the state of the target below.
FLOOR = {"reason": 95.2, "status": 97.3, "replycode": 98.0}
# Issue 5's target, not reached yet for some fields: those are marked
# xfail(strict) so that reaching the target fails the run until the mark
# is removed.  The percentages are shown as warnings in every run.
NOT_YET = set()


@pytest.mark.parametrize("key", ["reason", "status", "replycode"])
def test_sisimai_agreement_floor(agreement, key):
    rows, bad = agreement
    pct, text = _report(rows, bad, key)
    warnings.warn("diagnose vs sisimai corpus: %s agreement %.1f%% (target %.0f%%, %d "
                  "disagreements listed in $TMPDIR/rblkit-diagnose-%s-disagreements.txt)"
                  % (key, pct, TARGET, len(bad[key]), key))
    assert pct >= FLOOR[key], "regression: %s agreement %.1f%% < %.1f%%\n%s" % (
        key, pct, FLOOR[key], text)


@pytest.mark.parametrize("key", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, reason="issue 5 target (95%%) "
                                            "not reached yet for %s" % k))
    if k in NOT_YET else k for k in ("reason", "status", "replycode")])
def test_sisimai_agreement_target(agreement, key):
    rows, bad = agreement
    pct, text = _report(rows, bad, key)
    assert pct >= TARGET, "%s agreement %.1f%% < %.0f%%\n%s" % (key, pct, TARGET, text)


def test_every_corpus_file_is_read(rblkit_bin):
    """No file of the corpus is an error, and each bounce names a recipient."""
    got = _read_corpus(rblkit_bin)
    for name, m in got.items():
        assert "error" not in m, name
        assert m["kind"] in ("bounce", "feedback", "autoreply", "message"), name
        if name.startswith(("lhost-", "rhost-", "rfc3464-")):
            assert m["kind"] in ("bounce", "feedback"), name
            assert m["recipients"], name
