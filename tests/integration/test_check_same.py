"""rblkit check's outputs, pinned: text (with and without colour), JSON,
JSON lines, CSV, Nagios, bulk runs, the notes, --list-catalog and the
error paths, byte for byte, against an `rblkit serve` on loopback.

Two ways to use it:
  - always: the outputs equal the recorded ones in check_same.json
    (RBLKIT_CHECK_SAME_UPDATE=1 records them anew, after a change on purpose);
  - RBLKIT_BEFORE=/path/to/old/rblkit: the same invocations with both binaries
    give the same bytes (how the move of check's output into the library,
    issue 11, was proved); cases listed in CHANGED may differ on purpose.
Timings ("ms" in JSON and CSV, Nagios time=) and port numbers are masked;
no case has a domain with two MX hosts (their addresses come in the order
the answers arrive).
"""

import csv
import io
import json
import os
import re
import shutil
import subprocess

import pytest

import servers
from test_check import FILES, Lying, ZONES

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "check_same.json")

# a TXT record that is not UTF-8: base/json.h's rule (U+FFFD) shows in JSON
BADTXT = b":127.0.0.2:bad \xff\xfe bytes \xc3\xa9 $\n127.0.0.2\n192.0.2.9\n"

LISTS3 = "zen.spamhaus.org,bl.spamcop.net,list.dnswl.org"
BULK = ("192.0.2.1\n# a comment\n\n198.51.100.1, csv\n192.0.2.50\tTSV\nnot an ip !!\n"
        + "x" * 2000 + "\n192.0.2.0/30\n2001:db8:bad::1\n")

# name: (resolver, args, stdin); resolver: "srv" (rblkit serve), "servfail"
# (SERVFAIL to everything), "refuse" (REFUSED to everything), None (no --resolver)
CASES = {
    "text": ("srv", ["--lists", LISTS3, "--color", "never", "192.0.2.1", "198.51.100.1",
                     "192.0.2.50", "192.0.2.77"], None),
    "text-color": ("srv", ["--lists", LISTS3, "--color", "always", "192.0.2.1",
                           "198.51.100.1", "bad!"], None),
    "text-all": ("srv", ["--lists", LISTS3, "--all", "192.0.2.1"], None),
    "text-quiet": ("srv", ["--lists", LISTS3, "-q", "192.0.2.1", "198.51.100.1",
                           "192.0.2.0/29"], None),
    "text-notes": ("srv", ["--lists", "sbl.spamhaus.org,bl.spamcop.net,psbl", "--zone",
                           "dnsbl.dead.example", "--zone", "wild.example", "192.0.2.1"], None),
    "text-mx-host-cidr": ("srv", ["--lists", "zen.spamhaus.org,dbl.spamhaus.org",
                                  "--mx", "nomx.test", "mx1.mail-domain.test",
                                  "192.0.2.0/30", "2001:db8:bad::1", "mail-domain.test"],
                          None),
    "cidr-limit": ("srv", ["--lists", "bl.spamcop.net", "--cidr-limit", "16",
                           "192.0.2.0/24"], None),
    "cidr-limit-json": ("srv", ["--lists", "bl.spamcop.net", "--cidr-limit", "16", "--json",
                                "192.0.2.0/24"], None),
    "cidr-limit-csv": ("srv", ["--lists", "bl.spamcop.net", "--cidr-limit", "16", "--csv",
                               "192.0.2.0/24"], None),
    "json": ("srv", ["--lists", LISTS3 + ",dbl.spamhaus.org,psbl", "--json", "192.0.2.1",
                     "198.51.100.1", "not a host!", "--mx", "nomx.test",
                     "192.0.2.0/30", "nomx.test"], None),
    "json-empty": ("srv", ["--lists", LISTS3, "--json", "-f", "/nonexistent/x"], None),
    "jsonl": ("srv", ["--lists", LISTS3, "--jsonl", "192.0.2.1", "198.51.100.1"], None),
    "csv": ("srv", ["--lists", LISTS3 + ",psbl", "--csv", "192.0.2.1", "198.51.100.1",
                    "bad!"], None),
    "nagios-ok": ("srv", ["--nagios", "-s", "zen.spamhaus.org", "-s", "bl.spamcop.net",
                          "-H", "198.51.100.1"], None),
    "nagios-crit": ("srv", ["--nagios", "-s", "zen.spamhaus.org", "-s", "bl.spamcop.net",
                            "-s", "psbl.surriel.com", "-w", "1", "-c", "2", "-H",
                            "192.0.2.1"], None),
    "nagios-unknown": ("srv", ["--nagios", "-s", "sbl.spamhaus.org", "-H", "192.0.2.1"],
                       None),
    "bulk-text": ("srv", ["--lists", LISTS3, "-f", "-"], BULK),
    "bulk-csv": ("srv", ["--lists", LISTS3, "--csv", "-f", "-"], BULK),
    "bulk-jsonl": ("srv", ["--lists", LISTS3, "--jsonl", "-f", "-"], BULK),
    "bulk-json-window": ("srv", ["--lists", LISTS3, "--json", "--window", "1", "-f", "-"],
                         BULK),
    "servfail-text": ("servfail", ["--lists", "bl.spamcop.net", "--no-probe", "192.0.2.1",
                                   "--mx", "mail-domain.test", "host.example"], None),
    "servfail-json": ("servfail", ["--lists", "bl.spamcop.net", "--no-probe", "--json",
                                   "192.0.2.1", "host.example"], None),
    "servfail-csv": ("servfail", ["--lists", "bl.spamcop.net", "--no-probe", "--csv",
                                  "192.0.2.1", "host.example"], None),
    "refused-notes": ("refuse", ["--lists", "zen.spamhaus.org,bl.spamcop.net,psbl",
                                 "192.0.2.1"], None),
    "refused-notes-json": ("refuse", ["--lists", "bl.spamcop.net,psbl", "--json",
                                      "192.0.2.1"], None),
    "refused-notes-recursive": ("refuse@", ["--recursive", "--zone", "bl.spamcop.net@",
                                            "--zone", "psbl.surriel.com@", "192.0.2.1"], None),
    "utf8-text": ("srv", ["--zone", "badtxt.test", "192.0.2.9"], None),
    "utf8-json": ("srv", ["--zone", "badtxt.test", "--json", "192.0.2.9"], None),
    "utf8-csv": ("srv", ["--zone", "badtxt.test", "--csv", "192.0.2.9"], None),
    "err-two-formats": ("srv", ["--json", "--csv", "192.0.2.1"], None),
    "err-no-list": ("srv", ["--lists", "no-such-list", "192.0.2.1"], None),
    "err-no-target": ("srv", ["--lists", LISTS3], None),
    "err-zone": ("srv", ["--zone", "a b", "192.0.2.1"], None),
    "err-w-c": ("srv", ["-w", "3", "-c", "1", "192.0.2.1"], None),
    "err-color": ("srv", ["--color", "sometimes", "192.0.2.1"], None),
    "err-timeout": ("srv", ["--timeout", "x", "192.0.2.1"], None),
    "err-option": ("srv", ["--bogus", "192.0.2.1"], None),
    "err-file": ("srv", ["--lists", LISTS3, "-f", "/nonexistent/x", "192.0.2.1"], None),
    "err-resolver": (None, ["--resolver", "127.0.0.1:99999", "192.0.2.1"], None),
    "err-catalog": (None, ["--catalog", "/nonexistent/lists.conf", "192.0.2.1"], None),
}
# cases whose output changes on purpose, and how
CHANGED = {
    "utf8-json": "a TXT byte that is not UTF-8 is \\ufffd, no longer \\u00XX (base/json.h)",
    "bulk-csv": "a bad target from -f names its line: stdin:6: ...",
    "bulk-json-window": "a bad target from -f names its line: stdin:6: ...",
    "bulk-jsonl": "a bad target from -f names its line: stdin:6: ...",
    "bulk-text": "a bad target from -f names its line: stdin:6: ...",
    "refused-notes-recursive": "lists asked at their own server: a note each, naming it",
}
# no server needed, but the whole built-in catalogue: compared with RBLKIT_BEFORE only
UNPINNED = {"list-catalog": (None, ["--list-catalog"], None),
            "help": (None, ["--help"], None)}


class ServFail(Lying):
    """SERVFAIL to every question."""

    def answer(self, wire):
        try:
            q = self.dns.from_wire(wire)
        except Exception:
            return None
        r = self.dns.make_response(q)
        r.set_rcode(self.rcode.SERVFAIL)
        return r.to_wire()


@pytest.fixture(scope="module")
def resolvers(rblkit_bin):
    d = servers.make_datadir("rblkit-same-")
    for name, text in FILES.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    with open(os.path.join(d, "badtxt"), "wb") as f:
        f.write(BADTXT)
    servers.make_readable(d)
    srv = servers.start_rblkit(ZONES + ["badtxt.test:ip4set:badtxt"], d)
    sf, rf = ServFail(), Lying(refuse=True)
    yield {"srv": srv.port, "servfail": sf.port, "refuse": rf.port}
    sf.close()
    rf.close()
    srv.__exit__(None, None, None)
    shutil.rmtree(d, ignore_errors=True)


def mask(out, ports):
    """Timings and ports out of an output."""
    for p in ports:
        out = out.replace(":%d" % p, ":PORT")
    out = re.sub(r'"ms": \d+', '"ms": 0', out)
    out = re.sub(r"time=[0-9.]+s", "time=0s", out)
    if out.startswith("target,subject,zone,status,"):
        rows = list(csv.reader(io.StringIO(out)))
        for r in rows[1:]:
            if len(r) == 11 and r[8]:
                r[8] = "0"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        out = buf.getvalue()
    return out


def run_all(binary, ports, cases):
    got = {}
    for name, (res, args, stdin) in sorted(cases.items()):
        argv = [binary, "check"]
        if res and res.endswith("@"):       # each list's own server
            args = [a + "127.0.0.1:%d" % ports[res[:-1]] if a.endswith("@") else a
                    for a in args]
        elif res:
            argv += ["--resolver", "127.0.0.1:%d" % ports[res]]
        p = subprocess.run(argv + args, input=stdin, capture_output=True, text=True,
                           errors="surrogateescape", timeout=60)
        assert p.returncode >= 0 and "Sanitizer" not in p.stderr, (name, p.stderr[-2000:])
        got[name] = {"rc": p.returncode, "stdout": mask(p.stdout, ports.values()),
                     "stderr": mask(p.stderr, ports.values())}
    return got


def test_outputs_as_recorded(resolvers):
    got = run_all(servers.RBLKIT, resolvers, CASES)
    if os.environ.get("RBLKIT_CHECK_SAME_UPDATE"):
        with open(GOLDEN, "w", encoding="utf-8", errors="surrogateescape") as f:
            json.dump(got, f, indent=1, sort_keys=True, ensure_ascii=True)
            f.write("\n")
    with open(GOLDEN, encoding="utf-8") as f:
        want = json.load(f)
    assert sorted(got) == sorted(want)
    for name in sorted(got):
        assert got[name] == want[name], name


def test_utf8_rule_in_json(resolvers):
    """base/json.h: a byte that is not UTF-8 is U+FFFD, valid UTF-8 is kept."""
    txt = json.loads(run_all(servers.RBLKIT, resolvers, {"j": CASES["utf8-json"]})
                     ["j"]["stdout"])[0]["results"][0]["txt"][0]
    assert txt == "bad \ufffd\ufffd bytes \u00e9 192.0.2.9", txt


@pytest.mark.skipif(not os.environ.get("RBLKIT_BEFORE"),
                    reason="RBLKIT_BEFORE=/path/to/an/older/rblkit compares with it")
def test_outputs_as_before(resolvers):
    cases = dict(CASES, **UNPINNED)
    old = run_all(os.environ["RBLKIT_BEFORE"], resolvers, cases)
    new = run_all(servers.RBLKIT, resolvers, cases)
    same = [n for n in sorted(cases) if old[n] == new[n]]
    differ = [n for n in sorted(cases) if old[n] != new[n]]
    print("same: %d cases; differ: %s" % (len(same), differ))
    assert differ == sorted(CHANGED), [(n, old[n], new[n]) for n in differ if n not in CHANGED]
