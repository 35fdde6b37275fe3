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

It also prints the agreement per source family (lhost-exim, rhost-*,
...), counts the rules that decide for exactly one corpus file (through
the measuring hook of build/unit/test_mail: RBLKIT_RULE_TRACE), and reads
tests/corpus/written: bounces written from providers' documented texts,
each with its expected reading (all must agree).

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
FLOOR = {"reason": 95.2, "status": 97.39, "replycode": 98.26}
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


def _family(name):
    """lhost-exim-01.eml -> lhost-exim; rhost-google-03.eml -> rhost-google."""
    base = name.rsplit(".", 1)[0]
    parts = base.split("-")
    return "-".join(parts[:-1]) if len(parts) > 1 and parts[-1].isdigit() else base


def family_table(rows, bad, title):
    """Agreement per source family (lhost-exim, rhost-google, ...) and per
    kind (lhost, rhost, rfc3464, ...), as printable lines."""
    keys = [k for k, _ in FIELDS]
    badset = {k: {(b.split(" #")[0], b.split(" #")[1].split(":")[0]) for b in bad[k]}
              for k in keys}
    groups = {}
    for e in rows:
        fam = _family(e["file"])
        for g in (fam.split("-")[0] + "-*", fam):
            groups.setdefault(g, []).append((e["file"], e["index"]))
    lines = ["%s: agreement per family (recipients; %s)" % (title, " / ".join(keys))]
    for g in sorted(groups, key=lambda g: (g.split("-")[0], not g.endswith("*"), g)):
        items = groups[g]
        cells = ["%5.1f%%" % (100.0 * sum(1 for i in items if i not in badset[k]) / len(items))
                 for k in keys]
        lines.append("  %-28s %4d  %s" % (g, len(items), "  ".join(cells)))
    return lines


def test_agreement_per_family(agreement):
    """Prints the agreement per source family, so that a rule tuned to one
    family shows as a family far above the others (a measure, not a gate:
    the floors above are the gate)."""
    rows, bad = agreement
    lines = family_table(rows, bad, "sisimai corpus")
    print("\n" + "\n".join(lines))
    with open(os.path.join(os.environ.get("TMPDIR", "/tmp"),
                           "rblkit-diagnose-families.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    assert len(lines) > 10


def rule_trace(rblkit_bin, paths):
    """Per recipient (file, n) -> (reason, rule, phrase), from the unit
    binary's measuring hook (build/unit/test_mail), or None without it."""
    unit = os.path.join(os.path.dirname(rblkit_bin), "unit", "test_mail")
    if not os.access(unit, os.X_OK):
        return None
    tmp = os.environ.get("TMPDIR", "/tmp")
    lst = os.path.join(tmp, "rblkit-rule-trace-%d.list" % os.getpid())
    out = os.path.join(tmp, "rblkit-rule-trace-%d.tsv" % os.getpid())
    with open(lst, "w") as f:
        f.write("".join(p + "\n" for p in paths))
    env = dict(os.environ, RBLKIT_RULE_TRACE=lst, RBLKIT_RULE_TRACE_OUT=out)
    r = subprocess.run([unit], env=env, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stdout.decode(errors="replace")
    got = {}
    with open(out) as f:
        for line in f:
            file, n, reason, rule, phrase = line.rstrip("\n").split("\t")
            got[(file, n)] = (reason, rule, phrase)
    os.unlink(lst)
    os.unlink(out)
    return got


# Rules (a decision step with the phrase that made it hold) that decide
# for exactly one corpus file, and decision steps that do, measured last
# (issue 16; 114 and 5 before it): a change that adds rules for single
# files fails here.  Most of these are phrases of sisimai's own reason
# definitions that the corpus happens to hold once; the steps are general
# rules (Gmail's SMTP state, a missing MX, the 500-507 syntax class, ...),
# see docs/diagnose-rules.md.
ONE_FILE_RULES_MAX = 115
ONE_FILE_STEPS_MAX = 6


def test_rules_that_fire_on_one_file(rblkit_bin, agreement):
    """Counts the rules that decide a reason for exactly one corpus file:
    each is a rule that may exist for that file (a smell).  Printed with
    the files, written to $TMPDIR/rblkit-diagnose-one-file-rules.txt."""
    eml = os.path.join(CORPUS, "eml")
    trace = rule_trace(rblkit_bin, [os.path.join(eml, f) for f in sorted(os.listdir(eml))])
    if trace is None:
        pytest.skip("no build/unit/test_mail next to the binary")
    files = {}
    for (file, _), (_, rule, phrase) in trace.items():
        files.setdefault((rule, phrase), set()).add(file)
    steps = {}
    for (rule, _), fs in files.items():
        steps.setdefault(rule, set()).update(fs)
    one = sorted((k, sorted(v)[0]) for k, v in files.items() if len(v) == 1)
    one_step = sorted((k, sorted(v)[0]) for k, v in steps.items() if len(v) == 1)
    lines = ["rules deciding for exactly one corpus file: %d of %d (rule+phrase); "
             "%d of %d decision steps" % (len(one), len(files), len(one_step), len(steps))]
    lines += ["  %-32s %-44s %s" % (r, p, f) for (r, p), f in one]
    lines += ["  step %-32s %s" % (r, f) for r, f in one_step]
    print("\n" + "\n".join(lines))
    with open(os.path.join(os.environ.get("TMPDIR", "/tmp"),
                           "rblkit-diagnose-one-file-rules.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    warnings.warn(lines[0])
    # the hook reads what the binary reads
    rows, _ = agreement
    for e in rows:
        t = trace.get((e["file"], e["index"]))
        if t is not None:
            assert t[0], e
    assert len(one) <= ONE_FILE_RULES_MAX, "\n".join(lines)
    assert len(one_step) <= ONE_FILE_STEPS_MAX, "\n".join(lines)


def test_every_corpus_file_is_read(rblkit_bin):
    """No file of the corpus is an error, and each bounce names a recipient."""
    got = _read_corpus(rblkit_bin)
    for name, m in got.items():
        assert "error" not in m, name
        assert m["kind"] in ("bounce", "feedback", "autoreply", "message"), name
        if name.startswith(("lhost-", "rhost-", "rfc3464-")):
            assert m["kind"] in ("bounce", "feedback"), name
            assert m["recipients"], name


# --- bounces we wrote ourselves (tests/corpus/written) ---------------------
WRITTEN = os.path.join(HERE, "..", "corpus", "written")
W_FIELDS = ("recipient", "action", "status", "replycode", "reason")


def written_agreement(rblkit_bin):
    """Per sample of tests/corpus/written: the fields that disagree with
    its expected reading (an empty action means: not asserted), and
    whether the message has exactly the recipients expected."""
    with open(os.path.join(WRITTEN, "expected.tsv"), newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    eml = os.path.join(WRITTEN, "eml")
    files = sorted(os.listdir(eml))
    out = subprocess.run([rblkit_bin, "diagnose", "--json"] +
                         [os.path.join(eml, f) for f in files],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    got = {os.path.basename(m["file"]): m.get("recipients") or [] for m in json.loads(out.stdout)}
    assert sorted(got) == sorted({r["file"] for r in rows}), "a sample without its reading"
    want_n = {}
    for e in rows:
        want_n[e["file"]] = want_n.get(e["file"], 0) + 1
    bad = []
    for e in rows:
        recips = got[e["file"]]
        i = int(e["index"]) - 1
        r = recips[i] if i < len(recips) else {}
        have = {"recipient": r.get("recipient"), "action": r.get("action"),
                "status": r.get("status"), "replycode": r.get("reply_code") or "",
                "reason": r.get("reason")}
        diff = ["%s %r != %r" % (k, have[k], e[k]) for k in W_FIELDS
                if (e[k] or k != "action") and (have[k] or "") != e[k]]
        if len(recips) != want_n[e["file"]]:
            diff.append("%d recipients, expected %d" % (len(recips), want_n[e["file"]]))
        if diff:
            bad.append("%s #%s: %s | %s" % (e["file"], e["index"], "; ".join(diff),
                                            (r.get("diagnostic") or "")[:100]))
    return rows, bad


def test_written_samples(rblkit_bin):
    """Every bounce of tests/corpus/written (providers' documented texts,
    and the kinds of error issue 16 lists) is read as its note says."""
    rows, bad = written_agreement(rblkit_bin)
    text = "written samples: %d of %d agree%s" % (
        len(rows) - len(bad), len(rows), "".join("\n  " + b for b in bad))
    print("\n" + text)
    warnings.warn(text.split("\n")[0])
    assert not bad, text
