"""rblkit check against real DNS servers on loopback.

The zones are named like the real lists, so the bundled catalogue's code
tables apply, and are built to cover each class of answer:
  zen.spamhaus.org   listed with several codes (two datasets), PBL, IPv6, TXT
  bl.spamcop.net     listed / clean
  list.dnswl.org     allowlisted (127.0.X.Y)
  sbl.spamhaus.org   refuses everything: 127.255.255.254 ("public resolver")
  dbl.spamhaus.org   a domain list (dnset)
  dnsbl.dead.example an unknown list that lists everything, 127.0.0.1 too
  wild.example       answers outside 127/8 (wildcard DNS)
  psbl.surriel.com   not served: the server answers REFUSED
  mail-domain.test   MX and A records (generic) for --mx and host targets
plus a UDP socket that reads queries and never answers.
Nothing leaves 127.0.0.1.
"""

import csv
import io
import json
import os
import socket
import subprocess
import threading
import time

import pytest

import servers

ZEN_SBL = """:127.0.0.2:SBL listing of $, see https://check.spamhaus.org/
127.0.0.2
192.0.2.1
192.0.2.77 :127.0.0.10:PBL: end-user range $
"""
ZEN_XBL = """:127.0.0.4:XBL: exploited host $
127.0.0.2
192.0.2.1
"""
ZEN_V6 = """:127.0.0.2:IPv6 listing $
2001:db8:bad::/48
"""
SPAMCOP = """:127.0.0.2:Blocked - see https://www.spamcop.net/bl.shtml?$
127.0.0.2
192.0.2.1
192.0.2.2
"""
DNSWL = """:127.0.5.2:
127.0.0.2
192.0.2.50
"""
REFUSE = """0.0.0.0/1 :127.255.255.254:public resolver
128.0.0.0/1 :127.255.255.254:public resolver
"""
DBL = """:127.0.1.2:spam domain $
test
spam-domain.test
mail-domain.test
"""
EVERYTHING = """0.0.0.0/1 :127.0.0.2:listed
128.0.0.0/1 :127.0.0.2:listed
"""
WILD = """0.0.0.0/1 :10.1.2.3:
128.0.0.0/1 :10.1.2.3:
"""
# generic names are relative to the zone (rbldnsd(8)); "@" is the apex
GENERIC = """@ MX 10 mx1.mail-domain.test
@ MX 20 mx2.mail-domain.test
mx1 A 192.0.2.1
mx2 A 198.51.100.9
clean-host A 198.51.100.10
"""
NOMX = """@ A 192.0.2.2
"""

FILES = {"zen-sbl": ZEN_SBL, "zen-xbl": ZEN_XBL, "zen-v6": ZEN_V6, "spamcop": SPAMCOP,
         "dnswl": DNSWL, "refuse": REFUSE, "dbl": DBL, "everything": EVERYTHING,
         "wild": WILD, "generic": GENERIC, "nomx": NOMX}

ZONES = ["zen.spamhaus.org:ip4set:zen-sbl", "zen.spamhaus.org:ip4set:zen-xbl",
         "zen.spamhaus.org:ip6trie:zen-v6", "bl.spamcop.net:ip4set:spamcop",
         "list.dnswl.org:ip4set:dnswl", "sbl.spamhaus.org:ip4set:refuse",
         "dbl.spamhaus.org:dnset:dbl", "dnsbl.dead.example:ip4set:everything",
         "wild.example:ip4set:wild", "mail-domain.test:generic:generic",
         "nomx.test:generic:nomx"]


def write_data(d):
    for name, text in FILES.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    servers.make_readable(d)


@pytest.fixture(scope="module")
def dns_server(rblkit_bin):
    d = servers.make_datadir("rblkit-check-")
    write_data(d)
    srv = servers.start_rblkit(ZONES, d)
    yield srv
    srv.__exit__(None, None, None)
    import shutil
    shutil.rmtree(d, ignore_errors=True)


class Silent:
    """A UDP socket on loopback that reads queries and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.count = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.sock.settimeout(0.1)
        while not self.stop:
            try:
                self.sock.recvfrom(4096)
                self.count += 1
            except socket.timeout:
                pass

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


@pytest.fixture
def silent():
    s = Silent()
    yield s
    s.close()


def run_check(srv, *args, stdin=None, timeout=30):
    argv = [servers.RBLKIT, "check", "--resolver", "127.0.0.1:%d" % srv.port] + list(args)
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)


def check_json(srv, *args):
    p = run_check(srv, "--json", *args)
    assert p.returncode in (0, 1, 3), p.stderr
    return p.returncode, json.loads(p.stdout)


def by_zone(target):
    out = {}
    for r in target["results"]:
        out.setdefault(r["zone"], []).append(r)
    return out


LISTS = "zen.spamhaus.org,bl.spamcop.net,list.dnswl.org"


def test_listed_with_several_codes_and_txt(dns_server):
    rc, out = check_json(dns_server, "--lists", LISTS, "192.0.2.1")
    assert rc == 1
    [t] = out
    assert t["target"] == "192.0.2.1" and t["addresses"] == ["192.0.2.1"]
    z = by_zone(t)
    zen = z["zen.spamhaus.org"][0]
    assert zen["status"] == "listed"
    assert sorted(zen["codes"]) == ["127.0.0.2", "127.0.0.4"]   # every A record kept
    assert any("SBL" in m for m in zen["meanings"]) and any("XBL" in m for m in zen["meanings"])
    assert sorted(zen["txt"]) == ["SBL listing of 192.0.2.1, see https://check.spamhaus.org/",
                                  "XBL: exploited host 192.0.2.1"]
    assert zen["delist"].startswith("https://")
    assert zen["ttl"] > 0 and zen["error"] is None
    assert z["bl.spamcop.net"][0]["status"] == "listed"
    assert z["list.dnswl.org"][0]["status"] == "clean"
    assert set(t) >= {"target", "addresses", "results"}
    for r in t["results"]:
        assert set(r) >= {"zone", "status", "codes", "meanings", "txt", "ttl", "ms",
                          "delist", "error"}


def test_clean_and_allowlisted(dns_server):
    rc, out = check_json(dns_server, "--lists", LISTS, "198.51.100.1")
    assert rc == 0
    assert {r["status"] for r in out[0]["results"]} == {"clean"}
    rc, out = check_json(dns_server, "--lists", LISTS, "192.0.2.50")
    assert rc == 0
    z = by_zone(out[0])
    assert z["list.dnswl.org"][0]["status"] == "allowlisted"
    assert z["list.dnswl.org"][0]["codes"] == ["127.0.5.2"]


def test_pbl_code_meaning(dns_server):
    rc, out = check_json(dns_server, "--lists", "zen.spamhaus.org", "192.0.2.77")
    zen = out[0]["results"][0]
    assert rc == 1 and zen["codes"] == ["127.0.0.10"]
    assert "PBL" in zen["meanings"][0]


def test_refusal_code_is_an_error_never_a_listing(dns_server):
    rc, out = check_json(dns_server, "--lists", "sbl.spamhaus.org", "198.51.100.1")
    r = out[0]["results"][0]
    assert r["status"] == "error" and r["codes"] == ["127.255.255.254"]
    assert "resolver" in r["error"]          # says what to do
    assert rc == 3                           # could not check, not "listed"
    p = run_check(dns_server, "--lists", "sbl.spamhaus.org", "198.51.100.1", "--color", "never")
    assert "LISTED" not in p.stdout and "--recursive" in p.stdout


def test_broken_list_gives_no_verdict(dns_server):
    # an unknown zone (RFC 5782 defaults) that lists its test point 127.0.0.1
    rc, out = check_json(dns_server, "--zone", "dnsbl.dead.example", "198.51.100.1")
    r = out[0]["results"][0]
    assert r["status"] == "error" and "127.0.0.1" in r["error"]
    assert rc == 3
    p = run_check(dns_server, "--zone", "dnsbl.dead.example", "198.51.100.1")
    assert "note: dnsbl.dead.example" in p.stdout
    # without the probe the same answers would be taken as listings
    rc, out = check_json(dns_server, "--zone", "dnsbl.dead.example", "--no-probe", "198.51.100.1")
    assert out[0]["results"][0]["status"] == "listed" and rc == 1


def test_answer_outside_loopback_range_is_an_error(dns_server):
    rc, out = check_json(dns_server, "--zone", "wild.example", "198.51.100.1")
    r = out[0]["results"][0]
    assert r["status"] == "error" and r["codes"] == ["10.1.2.3"]
    assert "127.0.0.0/8" in r["error"]


def test_refused_zone_is_an_error(dns_server):
    rc, out = check_json(dns_server, "--lists", "psbl", "198.51.100.1")
    r = out[0]["results"][0]
    assert r["zone"] == "psbl.surriel.com"
    assert r["status"] == "error" and "REFUSED" in r["error"]
    assert rc == 3


def test_dead_server_keeps_the_deadline(dns_server, silent):
    zones = ["--lists", LISTS, "--zone", "dead.example@127.0.0.1:%d" % silent.port]
    t0 = time.monotonic()
    p = run_check(dns_server, "--json", "--timeout", "3", *zones, "192.0.2.1")
    wall = time.monotonic() - t0
    out = json.loads(p.stdout)
    z = by_zone(out[0])
    assert z["dead.example"][0]["status"] == "error"
    assert z["zen.spamhaus.org"][0]["status"] == "listed"   # the others still answer
    assert silent.count > 0                                  # it was asked
    assert wall < 3 + 2, wall                                # deadline, plus start-up slack
    # the per-query timeout ends it sooner than the deadline
    t0 = time.monotonic()
    p = run_check(dns_server, "--json", "--query-timeout", "200", "--tries", "2", *zones,
                  "192.0.2.1")
    assert time.monotonic() - t0 < 3
    assert "timeout" in by_zone(json.loads(p.stdout)[0])["dead.example"][0]["error"]


def test_ipv6_nibbles_and_kinds(dns_server):
    rc, out = check_json(dns_server, "--lists", LISTS, "2001:db8:bad::25")
    z = by_zone(out[0])
    assert z["zen.spamhaus.org"][0]["status"] == "listed"
    assert "bl.spamcop.net" not in z        # an IPv4-only list is not asked
    assert rc == 1
    rc, out = check_json(dns_server, "--lists", "zen.spamhaus.org", "2001:db8:900d::1")
    assert out[0]["results"][0]["status"] == "clean" and rc == 0


def test_addresses_never_go_to_domain_lists(dns_server):
    rc, out = check_json(dns_server, "--lists", "zen.spamhaus.org,dbl.spamhaus.org",
                         "198.51.100.1")
    assert [r["zone"] for r in out[0]["results"]] == ["zen.spamhaus.org"]


def test_mx_domain(dns_server):
    rc, out = check_json(dns_server, "--lists", "zen.spamhaus.org,dbl.spamhaus.org",
                         "--mx", "mail-domain.test")
    [t] = out
    assert sorted(t["addresses"]) == ["192.0.2.1", "198.51.100.9"]
    seen = {(r["zone"], r["subject"]): r["status"] for r in t["results"]}
    assert seen == {("zen.spamhaus.org", "192.0.2.1"): "listed",
                    ("zen.spamhaus.org", "198.51.100.9"): "clean",
                    ("dbl.spamhaus.org", "mail-domain.test"): "listed"}
    assert rc == 1


def test_mx_fallback_and_errors(dns_server):
    # no MX: the domain's own address (RFC 5321 implicit MX)
    rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", "--mx", "nomx.test")
    assert out[0]["addresses"] == ["192.0.2.2"] and rc == 1
    # a domain that does not exist: an error, not clean
    rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", "--mx", "nx.mail-domain.test")
    assert out[0]["error"] and rc == 3


def test_host_name_and_cidr(dns_server):
    rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", "mx1.mail-domain.test")
    assert out[0]["addresses"] == ["192.0.2.1"] and rc == 1
    rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", "192.0.2.0/30")
    t = out[0]
    assert t["addresses"] == ["192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"]
    listed = sorted(r["subject"] for r in t["results"] if r["status"] == "listed")
    assert listed == ["192.0.2.1", "192.0.2.2"]
    rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", "--cidr-limit", "16",
                         "192.0.2.0/24")
    assert "CIDR limit" in out[0]["error"] and rc == 3


def test_bad_targets(dns_server, tmp_path):
    rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", "not a host!", "300.1.2.3/8")
    assert all(t["error"] for t in out) and rc == 3
    # the text report of targets without results, and an over-long bulk line
    p = run_check(dns_server, "--lists", "bl.spamcop.net", "bad!", "10.0.0.0/8")
    assert p.returncode == 3 and "could not check" in p.stdout
    f = tmp_path / "t.txt"
    f.write_text("192.0.2.1\n" + "x" * 5000 + "\n198.51.100.1\n")
    p = run_check(dns_server, "--lists", "bl.spamcop.net", "--jsonl", "-f", str(f))
    objs = [json.loads(l) for l in p.stdout.splitlines()]
    assert [o["target"] for o in objs] == ["192.0.2.1", "(line too long)", "198.51.100.1"]
    assert objs[1]["error"] and p.returncode == 1


def test_bulk_csv_jsonl_and_stdin(dns_server, tmp_path):
    targets = ["192.0.2.1", "# a comment", "", "198.51.100.1", "192.0.2.50"] + \
              ["198.51.100.%d" % i for i in range(20, 220)]
    f = tmp_path / "targets.txt"
    f.write_text("\n".join(targets) + "\n")
    p = run_check(dns_server, "--lists", LISTS, "--csv", "-f", str(f))
    assert p.returncode == 1, p.stderr
    rows = [l.split(",") for l in p.stdout.splitlines()]
    assert rows[0] == ["target", "subject", "zone", "status", "codes", "meanings", "txt",
                       "ttl", "ms", "delist", "error"]          # a header row, once
    rows = rows[1:]
    assert len(rows) == 203 * 3
    assert [r[0] for r in rows[::3]] == [t for t in targets if t and not t.startswith("#")]
    assert {r[3] for r in rows} == {"listed", "clean", "allowlisted"}
    p = run_check(dns_server, "--lists", LISTS, "--jsonl", "-f", "-", stdin=f.read_text())
    objs = [json.loads(l) for l in p.stdout.splitlines()]
    assert [o["target"] for o in objs][:3] == ["192.0.2.1", "198.51.100.1", "192.0.2.50"]
    assert len(objs) == 203
    assert p.stderr == ""              # no progress bar when stderr is not a terminal


def test_text_output(dns_server):
    p = run_check(dns_server, "--lists", LISTS, "192.0.2.1")
    out = p.stdout
    assert "\033[" not in out                      # no colour when not a terminal
    assert out.index("LISTED") < out.index("clean")
    assert "delist: https://" in out
    assert "192.0.2.1: LISTED on 2 of 3 lists" in out
    p = run_check(dns_server, "--lists", LISTS, "-q", "198.51.100.1")
    assert p.stdout.strip() == "198.51.100.1: clean on 3 lists" and p.returncode == 0
    p = run_check(dns_server, "--lists", LISTS, "--color", "always", "192.0.2.1")
    assert "\033[" in p.stdout


def test_nagios(dns_server):
    base = ["--nagios", "-s", "zen.spamhaus.org", "-s", "bl.spamcop.net", "-s", "list.dnswl.org"]
    p = run_check(dns_server, *base, "-H", "198.51.100.1")
    assert p.returncode == 0
    assert p.stdout.startswith("CHECK_RBL OK - 198.51.100.1 BLACKLISTED on 0 servers of 3 |")
    assert "servers=0;0;0" in p.stdout
    p = run_check(dns_server, *base, "-w", "1", "-c", "3", "-H", "192.0.2.1")
    assert p.returncode == 1 and p.stdout.startswith("CHECK_RBL WARNING")
    p = run_check(dns_server, *base, "-w", "1", "-c", "2", "-H", "192.0.2.1")
    assert p.returncode == 2 and p.stdout.startswith("CHECK_RBL CRITICAL")
    assert "zen.spamhaus.org (127.0.0." in p.stdout
    p = run_check(dns_server, "--nagios", "-s", "sbl.spamhaus.org", "-H", "192.0.2.1")
    assert p.returncode == 3 and p.stdout.startswith("CHECK_RBL UNKNOWN")
    assert len(p.stdout.splitlines()) == 1


def test_recursive_mode_with_stub_zone(dns_server):
    # --recursive goes through libunbound; the zone's own server is a stub zone
    argv = [servers.RBLKIT, "check", "--recursive", "--json",
            "--zone", "zen.spamhaus.org@127.0.0.1:%d" % dns_server.port, "192.0.2.1"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    r = json.loads(p.stdout)[0]["results"][0]
    assert r["status"] == "listed" and sorted(r["codes"]) == ["127.0.0.2", "127.0.0.4"]
    assert p.returncode == 1


def test_catalogue_override_and_errors(dns_server, tmp_path):
    cat = tmp_path / "lists.conf"
    cat.write_text("[spamcop]\ncode = 127.0.0.2 error pretend this is a refusal\n"
                   "[my-list]\nname = My list\nzone = zen.spamhaus.org.mirror.test\n"
                   "kind = ip4\ntype = block\nstatus = active\nsets = mine\n")
    rc, out = check_json(dns_server, "--catalog", str(cat), "--lists", "spamcop", "192.0.2.2")
    assert out[0]["results"][0]["status"] == "error" and rc == 3
    p = run_check(dns_server, "--catalog", str(cat), "--list-catalog")
    assert "my-list" in p.stdout and "zen.spamhaus.org.mirror.test" in p.stdout
    cat.write_text("[x]\nname = X\nkind = ip4\nzone = x.test\ncode = 127.0.0.2 maybe hmm\n")
    p = run_check(dns_server, "--catalog", str(cat), "192.0.2.1")
    assert p.returncode == 2
    assert "%s:5:" % cat in p.stderr and "class" in p.stderr


def test_usage_errors(dns_server):
    for args in (["--lists", "no-such-list", "192.0.2.1"], [], ["--timeout", "x", "1.2.3.4"],
                 ["--zone", "a b", "1.2.3.4"], ["-w", "3", "-c", "1", "1.2.3.4"]):
        p = run_check(dns_server, *args)
        assert p.returncode == 2, args
        assert p.stderr.startswith("rblkit check:"), args


def test_default_catalogue():
    p = subprocess.run([servers.RBLKIT, "check", "--list-catalog"], capture_output=True,
                       text=True)
    lines = p.stdout.splitlines()[1:]
    zones = [l for l in lines if l.split()[1] != "-"]
    active = [l for l in zones if " active " in l]
    assert len(zones) >= 40 and len(active) >= 30
    retired = {l.split()[0] for l in lines if " retired " in l}
    assert {"ahbl", "njabl", "sorbs", "spamcannibal"} <= retired
    default = [l for l in lines if "default" in l.split()[-1].split(",")]
    assert not any(" retired " in l or " needs-key " in l for l in default)


@pytest.mark.rbldnsd
def test_same_verdicts_against_rbldnsd(rbldnsd_server, dns_server, datadir):
    """The reference server, same data: the same verdicts."""
    write_data(datadir)
    specs = [z for z in ZONES if ":ip6trie:" not in z and ":generic:" not in z]
    ref = rbldnsd_server(specs, datadir)
    targets = ["192.0.2.1", "192.0.2.2", "192.0.2.50", "192.0.2.77", "198.51.100.1"]
    lists = ["--lists", LISTS + ",sbl.spamhaus.org"]

    def verdicts(srv):
        rc, out = check_json(srv, *lists, *targets)
        return rc, [[(r["zone"], r["status"], sorted(r["codes"]), sorted(r["txt"]))
                     for r in sorted(t["results"], key=lambda r: r["zone"])] for t in out]

    assert verdicts(ref) == verdicts(dns_server)


# ---- issue 10: lists that cannot really be asked, error paths, output ----

class Lying:
    """A resolver on loopback (UDP and TCP, one random port) that answers
    NXDOMAIN to every question, as a hijacking or broken resolver does.
    testpoint: what the RFC 5782 test point 127.0.0.2 gets instead:
    "nxdomain" (the same), "servfail", or "drop" (no answer at all).
    refuse: REFUSED to everything instead of NXDOMAIN, as a public
    resolver that the lists refuse (or one with an access list) does."""

    def __init__(self, testpoint="nxdomain", refuse=False):
        import dns.message
        import dns.rcode
        self.dns, self.rcode = dns.message, dns.rcode
        self.testpoint = testpoint
        self.refuse = refuse
        self.stop = False
        for _ in range(20):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        self.tcp.listen(16)
        self.udp.settimeout(0.1)
        self.tcp.settimeout(0.1)
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.serve_udp,
                                                                          self.serve_tcp)]
        for t in self.threads:
            t.start()

    def answer(self, wire):
        """The response to one query, or None to stay silent."""
        try:
            q = self.dns.from_wire(wire)
        except Exception:
            return None
        name = str(q.question[0].name).lower() if q.question else ""
        rcode = self.rcode.REFUSED if self.refuse else self.rcode.NXDOMAIN
        if name.startswith("2.0.0.127."):
            if self.testpoint == "drop":
                return None
            if self.testpoint == "servfail":
                rcode = self.rcode.SERVFAIL
        r = self.dns.make_response(q)
        r.set_rcode(rcode)
        return r.to_wire()

    def serve_udp(self):
        while not self.stop:
            try:
                wire, peer = self.udp.recvfrom(4096)
            except socket.timeout:
                continue
            out = self.answer(wire)
            if out:
                self.udp.sendto(out, peer)

    def serve_tcp(self):
        while not self.stop:
            try:
                c, _ = self.tcp.accept()
            except socket.timeout:
                continue
            with c:
                c.settimeout(2)
                try:
                    n = int.from_bytes(c.recv(2), "big")
                    wire = b""
                    while len(wire) < n:
                        chunk = c.recv(n - len(wire))
                        if not chunk:
                            break
                        wire += chunk
                    out = self.answer(wire)
                    if out:
                        c.sendall(len(out).to_bytes(2, "big") + out)
                except OSError:
                    pass

    def close(self):
        self.stop = True
        for t in self.threads:
            t.join()
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def lying():
    srv = Lying()
    yield srv
    srv.close()


def run_rblkit(*args, stdin=None, timeout=60):
    """rblkit as a user runs it; a crash or a sanitizer report is a failure
    whatever the exit status (CI runs this file against the ASan build)."""
    p = subprocess.run([servers.RBLKIT, *args], input=stdin, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode >= 0, "killed by signal %d: %s" % (-p.returncode, p.stderr[-2000:])
    assert "Sanitizer" not in p.stderr and "free()" not in p.stderr, p.stderr[-3000:]
    return p


def test_lying_resolver_gives_no_clean_verdict(lying):
    """Issue 10.1: NXDOMAIN for everything, test point included: the lists
    cannot really be asked, so no list says 'clean'."""
    res = ["--resolver", "127.0.0.1:%d" % lying.port]
    p = run_rblkit("check", *res, "203.0.113.25")
    assert p.returncode == 3, p.stdout
    assert "clean on" not in p.stdout and "not listed on" not in p.stdout
    assert "203.0.113.25: NO VERDICT: none of " in p.stdout
    assert "test point 127.0.0.2 is not listed (NXDOMAIN)" in p.stdout
    p = run_rblkit("check", *res, "--json", "203.0.113.25")
    results = json.loads(p.stdout)[0]["results"]
    assert len(results) >= 10
    for r in results:
        assert r["status"] == "error" and "test point" in r["error"], r
    p = run_rblkit("check", *res, "--nagios", "-H", "203.0.113.25")
    assert p.returncode == 3 and p.stdout.startswith("CHECK_RBL UNKNOWN"), p.stdout


@pytest.mark.parametrize("testpoint,why", [("servfail", "SERVFAIL"), ("drop", "timeout")])
def test_test_point_that_fails_gives_no_verdict(testpoint, why):
    """The test point SERVFAILs or times out while the address gets a
    plain NXDOMAIN: that NXDOMAIN is no 'clean'."""
    srv = Lying(testpoint)
    try:
        p = run_rblkit("check", "--resolver", "127.0.0.1:%d" % srv.port, "--json",
                       "--query-timeout", "300", "--tries", "1", "--lists", "bl.spamcop.net",
                       "203.0.113.25")
    finally:
        srv.close()
    [r] = json.loads(p.stdout)[0]["results"]
    assert r["status"] == "error" and why in r["error"], r
    assert p.returncode == 3


def test_list_without_test_point_still_gives_verdicts(lying, tmp_path):
    """A catalogue entry that says it has no test point is taken at its word."""
    cat = tmp_path / "cat.conf"
    cat.write_text("[quiet]\nname = Quiet\nzone = quiet.test\nkind = ip4\ntestpoint = no\n")
    p = run_rblkit("check", "--resolver", "127.0.0.1:%d" % lying.port, "--catalog", str(cat),
                   "--lists", "quiet", "-q", "203.0.113.25")
    assert p.returncode == 0 and p.stdout.strip() == "203.0.113.25: clean on 1 list"


def test_diagnose_check_against_lying_resolver(lying, tmp_path):
    """The engine's rule holds in diagnose --check too: no 'clean'."""
    trend = os.path.join(os.path.dirname(os.path.abspath(__file__)), "diagnose_data",
                         "trendmicro-deferred.eml")
    res = ["--resolver", "127.0.0.1:%d" % lying.port, "--timeout", "5"]
    p = run_rblkit("diagnose", "--check", "--lists", "bl.spamcop.net,psbl", *res, "--json",
                   trend)
    chk = json.loads(p.stdout)[0]["check"]
    assert chk["clean"] == 0 and chk["errors"] == 2 and chk["listed"] == [], chk
    p = run_rblkit("diagnose", "--check", "--lists", "bl.spamcop.net", *res, trend)
    assert "listed on 0 lists, clean on 0, 1 error" in p.stdout, p.stdout


def test_error_paths_exit_cleanly(silent, tmp_path):
    """Issue 10.3: every error path ends with its message and status, never
    a crash (-f /nonexistent freed the engine under in-flight probes)."""
    dead = ["--resolver", "127.0.0.1:%d" % silent.port]
    p = run_rblkit("check", *dead, "--lists", LISTS, "-f", str(tmp_path / "nonexistent"))
    assert p.returncode == 2 and "nonexistent: No such file" in p.stderr
    p = run_rblkit("check", *dead, "-f", str(tmp_path / "nonexistent"), "--json")
    assert p.returncode == 2 and json.loads(p.stdout) == []
    p = run_rblkit("check", *dead, "--catalog", str(tmp_path), "192.0.2.1")
    assert p.returncode == 2 and str(tmp_path) in p.stderr
    p = run_rblkit("check", "--catalog", str(tmp_path / "none.conf"), "192.0.2.1")
    assert p.returncode == 2 and "none.conf: No such file" in p.stderr
    for bad in ("not-an-address", "127.0.0.1:99999", "[::1", ""):
        p = run_rblkit("check", "--resolver", bad, "192.0.2.1")
        assert p.returncode == 2 and p.stderr.startswith("rblkit check:"), (bad, p.stderr)
    for args in (["--json", "--csv"], ["--csv", "--json"], ["--jsonl", "--nagios"],
                 ["--json", "--jsonl"], ["-w", "3", "-c", "1"], ["--bogus"],
                 ["--zone", "x@", "1.2.3.4"], ["--lists"]):
        p = run_rblkit("check", *dead, *args, "192.0.2.1")
        assert p.returncode == 2 and p.stderr.startswith("rblkit check:"), (args, p.stderr)
    assert "choose one output format" in run_rblkit("check", "--json", "--csv",
                                                    "192.0.2.1").stderr
    # -f on a bad file while other targets are still checked, with probes in flight
    p = run_rblkit("check", *dead, "--query-timeout", "200", "--tries", "1", "--lists", LISTS,
                   "-f", str(tmp_path / "nonexistent"), "192.0.2.1")
    assert p.returncode == 2
    # -f on a directory: opens, then every read fails; that is an error, not an
    # empty list of targets
    p = run_rblkit("check", *dead, "--lists", LISTS, "-f", str(tmp_path))
    assert p.returncode == 2 and "cannot read: Is a directory" in p.stderr, p.stderr


def test_dead_resolver_is_an_error_not_a_crash():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                   # nobody listens there now
    p = run_rblkit("check", "--resolver", "127.0.0.1:%d" % port, "--query-timeout", "200",
                   "--tries", "1", "--lists", LISTS, "192.0.2.1")
    assert p.returncode == 3 and "clean on" not in p.stdout
    p = run_rblkit("check", "--resolver", "127.0.0.1:%d" % port, "--query-timeout", "200",
                   "--tries", "1", "--lists", LISTS, "--nagios", "-H", "192.0.2.1")
    assert p.returncode == 3 and p.stdout.startswith("CHECK_RBL UNKNOWN")


def test_cidr_verdict_counts_addresses_and_lists_apart(dns_server):
    """Issue 10.6: a /29 on 3 lists is 8 addresses and 3 lists."""
    p = run_check(dns_server, "--lists", LISTS, "-q", "192.0.2.0/29")
    assert p.stdout.strip() == "192.0.2.0/29: LISTED on 2 of 3 lists (2 of 8 addresses)"
    p = run_check(dns_server, "--lists", LISTS, "-q", "198.51.100.0/30")
    assert p.stdout.strip() == "198.51.100.0/30: clean on 3 lists (4 addresses)"
    p = run_check(dns_server, "--lists", "zen.spamhaus.org,dbl.spamhaus.org", "-q",
                  "--mx", "mail-domain.test")
    assert p.stdout.strip() == \
        "mail-domain.test: LISTED on 2 of 2 lists (1 of 2 addresses, and the domain)"
    p = run_check(dns_server, "--lists", "zen.spamhaus.org,psbl", "--nagios",
                  "-H", "192.0.2.0/30")
    assert p.stdout.startswith("CHECK_RBL CRITICAL - 192.0.2.0/30 BLACKLISTED on 1 server of 2 "
                               "(zen.spamhaus.org (127.0.0."), p.stdout
    assert "(1 could not be checked: psbl.surriel.com)" in p.stdout


def test_nagios_error_is_a_warning(dns_server):
    p = run_check(dns_server, "--nagios", "-s", "zen.spamhaus.org", "-s", "psbl.surriel.com",
                  "-H", "198.51.100.1")
    assert p.returncode == 1, p.stdout
    assert p.stdout.startswith("CHECK_RBL WARNING - 198.51.100.1 BLACKLISTED on 0 servers of 2 "
                               "(1 could not be checked: psbl.surriel.com) |")


def test_bulk_line_is_one_target(dns_server, tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("not an ip !!\n192.0.2.1   # comment\n198.51.100.1,some,csv\n"
                 "192.0.2.2\tTSV\n  \n")
    p = run_check(dns_server, "--lists", "bl.spamcop.net", "--jsonl", "-f", str(f))
    objs = [json.loads(l) for l in p.stdout.splitlines()]
    assert [o["target"] for o in objs] == ["not an ip !!", "192.0.2.1", "198.51.100.1",
                                           "192.0.2.2"]
    assert "is not an address" in objs[0]["error"] and objs[0]["results"] == []


def test_bare_domain_is_asked_on_domain_lists(dns_server):
    rc, out = check_json(dns_server, "--lists", "zen.spamhaus.org,dbl.spamhaus.org",
                         "mail-domain.test")
    [t] = out
    assert t["error"] is None
    assert [(r["zone"], r["subject"], r["status"]) for r in t["results"]] == \
        [("dbl.spamhaus.org", "mail-domain.test", "listed")]
    assert rc == 1
    p = run_check(dns_server, "--lists", "dbl.spamhaus.org", "-q", "mail-domain.test")
    assert p.stdout.strip() == "mail-domain.test: LISTED on 1 of 1 list"


def test_zone_alone_replaces_the_default_set_and_adds_to_lists(dns_server):
    rc, out = check_json(dns_server, "--zone", "bl.spamcop.net", "192.0.2.1")
    assert [r["zone"] for r in out[0]["results"]] == ["bl.spamcop.net"]
    rc, out = check_json(dns_server, "--lists", "zen.spamhaus.org", "--zone", "bl.spamcop.net",
                         "192.0.2.1")
    assert sorted(r["zone"] for r in out[0]["results"]) == ["bl.spamcop.net",
                                                            "zen.spamhaus.org"]
    p = subprocess.run([servers.RBLKIT, "check", "--help"], capture_output=True, text=True)
    assert "zones given replace the default set" in p.stdout


def test_listing_shows_advice_and_the_address_page(dns_server):
    p = run_check(dns_server, "--lists", "bl.spamcop.net", "192.0.2.2")
    assert "delist: https://www.spamcop.net/bl.shtml?192.0.2.2\n" in p.stdout
    assert "advice: SpamCop delists by itself about 24 hours" in p.stdout
    rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", "192.0.2.2")
    r = out[0]["results"][0]
    assert r["delist"] == "https://www.spamcop.net/bl.shtml?192.0.2.2"
    assert "24 hours" in r["advice"]
    p = run_check(dns_server, "--lists", "bl.spamcop.net", "--csv", "192.0.2.2")
    assert p.stdout.splitlines()[1].split(",")[9] == "https://www.spamcop.net/bl.shtml?192.0.2.2"


def test_catalogue_errors_all_reported(dns_server, tmp_path):
    cat = tmp_path / "bad.conf"
    cat.write_text("[a]\nname = A\nzone = a.test\nkind = ipx\n"
                   "[b]\nname = B\nbogus = 1\n"
                   "[c]\nzone = c.test\nkind = ip4\n"
                   "[D d]\nname = ignored\n"
                   "[e]\nname = E\nzone = e.test\nkind = ip4\ncode = 127.0.0.2 maybe x\n")
    p = run_check(dns_server, "--catalog", str(cat), "192.0.2.1")
    assert p.returncode == 2
    lines = p.stderr.splitlines()
    assert lines == ["rblkit check: %s:4: kind: kind: use ip4, ip6, domain (comma separated) or none"
                     % cat,
                     "rblkit check: %s:7: bogus: unknown key" % cat,
                     "rblkit check: %s:8: [c]: no name" % cat,
                     "rblkit check: %s:11: id 'D d': use lowercase letters, digits and '-'"
                     % cat,
                     "rblkit check: %s:17: code: code: class must be listed, allowed or error" % cat]
    cat.write_text("".join("[l%d]\nname = L\nzone = l%d.test\nkind = ipx\n" % (i, i)
                           for i in range(25)))
    p = run_check(dns_server, "--catalog", str(cat), "192.0.2.1")
    lines = p.stderr.splitlines()
    assert len(lines) == 21 and lines[19].startswith("rblkit check: %s:80: kind" % cat)
    assert lines[20] == "rblkit check: %s: 5 more errors not shown" % cat


# ---- no list could be checked: say so; notes for the lists asked, grouped ----

@pytest.fixture
def refusing():
    srv = Lying(refuse=True)
    yield srv
    srv.close()


def notes(out):
    return [l for l in out.splitlines() if l.startswith("note:")]


def test_no_list_checked_is_no_verdict_in_every_format(refusing):
    """REFUSED to everything: no list gave a verdict, so nothing says 'not
    listed' or 'clean' (text), 'BLACKLISTED on 0' (Nagios); exit 3."""
    res = ["--resolver", "127.0.0.1:%d" % refusing.port]
    p = run_rblkit("check", *res, "-q", "203.0.113.25")
    assert p.returncode == 3
    line = p.stdout.strip()
    assert line.startswith("203.0.113.25: NO VERDICT: none of ") and \
        line.endswith(" lists could be checked"), line
    assert int(line.split()[5]) >= 10
    p = run_rblkit("check", *res, "-q", "--lists", "bl.spamcop.net", "203.0.113.25")
    assert p.stdout == "203.0.113.25: NO VERDICT: the 1 list could not be checked\n"
    assert p.returncode == 3
    p = run_rblkit("check", *res, "-q", "--lists", LISTS, "192.0.2.0/30")
    assert p.stdout == ("192.0.2.0/30: NO VERDICT: none of 3 lists could be checked "
                        "(4 addresses)\n"), p.stdout
    # JSON: the target's verdict, never "clean"
    p = run_rblkit("check", *res, "--json", "--lists", LISTS, "203.0.113.25", "192.0.2.0/30")
    assert p.returncode == 3
    for t in json.loads(p.stdout):
        assert (t["verdict"], t["lists"], t["lists_listed"], t["lists_unchecked"]) == \
            ("no-verdict", 3, 0, 3), t
    # CSV: every row an error with its reason, none clean; the header as it was
    p = run_rblkit("check", *res, "--csv", "--lists", LISTS, "203.0.113.25")
    rows = p.stdout.splitlines()
    assert rows[0] == "target,subject,zone,status,codes,meanings,txt,ttl,ms,delist,error"
    assert len(rows) == 4 and all(",error," in r and "REFUSED" in r for r in rows[1:]), rows
    assert p.returncode == 3
    # bulk: each line its own verdict
    p = run_rblkit("check", *res, "-q", "--lists", LISTS, "-f", "-",
                   stdin="203.0.113.25\n203.0.113.26\n")
    assert p.stdout.splitlines() == ["203.0.113.%d: NO VERDICT: none of 3 lists could be "
                                     "checked" % i for i in (25, 26)]
    assert p.returncode == 3
    # Nagios: UNKNOWN, and which lists
    p = run_rblkit("check", *res, "--nagios", "-s", "zen.spamhaus.org", "-s", "bl.spamcop.net",
                   "-H", "203.0.113.25")
    assert p.returncode == 3
    assert p.stdout.startswith("CHECK_RBL UNKNOWN - 203.0.113.25: none of 2 lists could be "
                               "checked (zen.spamhaus.org, bl.spamcop.net) | servers=0;0;0 "), \
        p.stdout
    assert "BLACKLISTED" not in p.stdout and len(p.stdout.splitlines()) == 1


def test_some_lists_checked_keeps_not_listed(dns_server):
    """Only some lists could be checked: today's form, and JSON says
    'incomplete', never 'clean'."""
    p = run_check(dns_server, "-q", "--lists", "zen.spamhaus.org,psbl", "198.51.100.1")
    assert p.stdout == "198.51.100.1: not listed on 1 list; 1 could not be checked\n"
    assert p.returncode == 3
    rc, out = check_json(dns_server, "--lists", "zen.spamhaus.org,psbl", "198.51.100.1",
                         "192.0.2.1", "198.51.100.2")
    assert [(t["verdict"], t["lists"], t["lists_listed"], t["lists_unchecked"]) for t in out] \
        == [("incomplete", 2, 0, 1), ("listed", 2, 1, 1), ("incomplete", 2, 0, 1)]
    rc, out = check_json(dns_server, "--lists", "zen.spamhaus.org", "198.51.100.1")
    assert out[0]["verdict"] == "clean" and rc == 0


def test_notes_grouped_and_only_for_lists_asked(refusing):
    """One note for the lists whose test point failed the same way, with
    what to do; none for the domain lists an address never asked."""
    res = ["--resolver", "127.0.0.1:%d" % refusing.port]
    p = run_rblkit("check", *res, "203.0.113.25")
    assert p.returncode == 3
    [note] = notes(p.stdout)
    assert note.startswith("note: "), note
    prefix = " lists cannot really be asked through this resolver: their RFC 5782 test point " \
             "is not listed (REFUSED): "
    body = note[len("note: "):]
    count, rest = body.split(" ", 1)
    assert rest.startswith(prefix[1:]), note
    zones, hint = rest[len(prefix) - 1:].split("; ", 1)
    zones = zones.split(", ")
    assert int(count) == len(zones) >= 10
    assert zones[:2] == ["zen.spamhaus.org", "bl.spamcop.net"]
    assert "dbl.spamhaus.org" not in zones and "multi.surbl.org" not in zones
    assert hint == ("the resolver may be a public one the lists refuse, or one that rewrites "
                    "answers: try --recursive or a local resolver")
    # a domain: the domain lists only
    p = run_rblkit("check", *res, "--lists", LISTS + ",dbl.spamhaus.org,multi.surbl.org",
                   "--no-probe", "spam-domain.test")
    assert notes(p.stdout) == []
    p = run_rblkit("check", *res, "--lists", LISTS + ",dbl.spamhaus.org,multi.surbl.org",
                   "spam-domain.test")
    [note] = notes(p.stdout)
    assert note.startswith("note: 2 lists cannot really be asked through this resolver: "
                           "their RFC 5782 test point is not listed (REFUSED): "
                           "dbl.spamhaus.org, multi.surbl.org; "), note
    # a single list keeps the one-line form
    p = run_rblkit("check", *res, "--lists", "bl.spamcop.net,dbl.spamhaus.org", "203.0.113.25")
    assert notes(p.stdout) == [
        "note: bl.spamcop.net: the list's RFC 5782 test point 127.0.0.2 is not listed "
        "(REFUSED): the list cannot really be asked through this resolver, so it gives "
        "no verdict"]


def test_no_list_for_this_kind_of_target_is_no_verdict(dns_server):
    """An address with only domain lists selected: no list was asked, so
    no 'clean on 0 lists' and no exit 0."""
    p = run_check(dns_server, "--lists", "dbl.spamhaus.org", "-q", "198.51.100.1")
    assert p.stdout == ("198.51.100.1: NO VERDICT: none of the lists selected takes this kind "
                        "of target\n")
    assert p.returncode == 3
    rc, out = check_json(dns_server, "--lists", "dbl.spamhaus.org", "198.51.100.1")
    assert out[0]["verdict"] == "no-verdict" and out[0]["lists"] == 0 and rc == 3


def test_timed_out_query_time_is_its_real_time(silent, tmp_path):
    # a resolver that never answers: every query times out, most of them
    # in the queue once the server is down; "ms" is each lookup's real
    # time, never more than the whole run took (was: the clock's ms value)
    res = ["--resolver", "127.0.0.1:%d" % silent.port, "--query-timeout", "200", "--tries", "2"]
    f = tmp_path / "targets.txt"
    f.write_text("192.0.2.5\n")
    for fmt, args in (("json", ["192.0.2.5"]), ("csv", ["192.0.2.5"]),
                      ("jsonl", ["-f", str(f)])):
        t0 = time.monotonic()
        p = subprocess.run([servers.RBLKIT, "check", *res, "--" + fmt, *args],
                           capture_output=True, text=True, timeout=30)
        wall_ms = (time.monotonic() - t0) * 1000
        assert p.returncode == 3, p.stderr
        if fmt == "json":
            results = json.loads(p.stdout)[0]["results"]
        elif fmt == "jsonl":
            results = [r for line in p.stdout.splitlines() for r in json.loads(line)["results"]]
        else:
            results = list(csv.DictReader(io.StringIO(p.stdout)))
        assert results, fmt
        for r in results:
            assert 0 <= int(r["ms"]) <= wall_ms, (fmt, r["zone"], r["ms"], wall_ms)


def test_all_numeric_name_is_a_bad_address(dns_server, tmp_path):
    # 999.1.1.1 is no host name (RFC 1123 2.1): never looked up in DNS
    for t in ("999.1.1.1", "1.2.3", "192.0.2.1."):
        rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", t)
        assert rc == 3 and out[0]["addresses"] == [] and out[0]["results"] == []
        assert out[0]["error"] == "'%s' is not a valid IPv4 address" % t, out
    rc, out = check_json(dns_server, "--lists", "dbl.spamhaus.org", "--mx", "1.2.3.4")
    assert rc == 3 and out[0]["error"] == "'1.2.3.4' is not a mail domain"
    rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", "1.2.3.example")
    assert "valid IPv4" not in (out[0]["error"] or "")      # a host name with digits


def test_bad_target_reason_and_file_line(dns_server, tmp_path):
    f = tmp_path / "targets.txt"
    f.write_text("192.0.2.1\n# comment\n\n198.51.100.1\n999.1.1.1\n\nnot an ip !!\n")
    p = run_check(dns_server, "--lists", "bl.spamcop.net", "-q", "-f", str(f))
    lines = p.stdout.splitlines()
    assert p.returncode == 1, p.stderr                       # 192.0.2.1 is listed
    # -q: the reason is on the verdict line; from -f, with the file line
    assert lines[2] == "999.1.1.1: could not check: %s:5: '999.1.1.1' is not a valid " \
                       "IPv4 address" % f, lines
    assert lines[3] == "not an ip !!: could not check: %s:7: 'not an ip !!' is not an " \
                       "address, a CIDR block or a host name" % f, lines
    p = run_check(dns_server, "--lists", "bl.spamcop.net", "--jsonl", "-f", "-",
                  stdin=f.read_text())
    errs = [json.loads(l)["error"] for l in p.stdout.splitlines()]
    assert errs[2:] == ["stdin:5: '999.1.1.1' is not a valid IPv4 address",
                        "stdin:7: 'not an ip !!' is not an address, a CIDR block or a host name"]
    # a target on the command line has no line to name
    p = run_check(dns_server, "--lists", "bl.spamcop.net", "-q", "bad!")
    assert p.stdout == "bad!: could not check: 'bad!' is not an address, a CIDR block " \
                       "or a host name\n"


def test_doc_on_reduce_agrees_with_itself_and_the_catalogue():
    # docs/check.md once said "there is no reduction to the registered
    # domain" above its own section on reduce = registered lists
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(root, "docs", "check.md"), encoding="utf-8") as f:
        doc = f.read()
    flat = " ".join(doc.split())
    assert "no reduction" not in flat and "asked about as given" not in flat
    registered, cur = set(), None
    with open(os.path.join(root, "data", "lists.conf"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                cur = line[1:-1]
            elif line.replace(" ", "") == "reduce=registered":
                registered.add(cur)
    section = doc.split("## Registered domains on domain lists (reduce)")[1].split("\n## ")[0]
    in_table = set()
    for row in section.splitlines():
        if not row.startswith("|"):
            continue
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) == 2 and cells[1] == "registered":
            in_table |= {w.strip(",") for w in cells[0].split() if not w.startswith("(")}
    assert registered and in_table == registered, (in_table, registered)


def test_silence_is_worded_as_silence(dns_server, silent):
    # a resolver that answers nothing: no talk of public or rewriting resolvers
    res = ["--resolver", "127.0.0.1:%d" % silent.port, "--query-timeout", "200",
           "--color", "never"]
    for lists in ("bl.spamcop.net", LISTS):
        p = subprocess.run([servers.RBLKIT, "check", *res, "--lists", lists, "192.0.2.5"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 3, p.stderr
        assert "is it running and reachable?" in p.stdout, p.stdout
        for wrong in ("public one", "rewrites", "cannot really be asked", "--recursive"):
            assert wrong not in p.stdout, (wrong, p.stdout)
    # a list asked at its own server names that server, never "the resolver"
    own = "127.0.0.1:%d" % silent.port
    p = run_check(dns_server, "--lists", "bl.spamcop.net", "--query-timeout", "200",
                  "--zone", "dead.example@" + own, "--color", "never", "192.0.2.1")
    mine = [l for l in p.stdout.splitlines() if "dead.example" in l or own in l]
    assert any("timeout: no answer from the list's server %s (is it running and reachable?)"
               % own in l for l in mine), p.stdout
    assert any(l.startswith("note: dead.example: the list's server %s did not answer" % own)
               for l in mine), p.stdout
    assert not any("resolver" in l for l in mine), mine
    rc, out = check_json(dns_server, "--lists", "bl.spamcop.net", "--query-timeout", "200",
                         "--zone", "dead.example@" + own, "192.0.2.1")
    assert own in by_zone(out[0])["dead.example"][0]["error"]
    # a server of its own that answers, but not for the test point: named too
    srv = "127.0.0.1:%d" % dns_server.port
    p = run_check(dns_server, "--zone", "nosuch.example@" + srv, "--color", "never",
                  "192.0.2.1")
    note = [l for l in p.stdout.splitlines() if l.startswith("note: nosuch.example")]
    assert note and ("not listed at the list's server %s" % srv) in note[0], p.stdout
    assert "through this resolver" not in p.stdout and "public one" not in p.stdout
    # an answer that shows a refusing resolver keeps its advice
    p = run_check(dns_server, "--lists", "sbl.spamhaus.org", "198.51.100.1", "--color", "never")
    assert "--recursive" in p.stdout
