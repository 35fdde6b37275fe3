"""rblkit list: the listing store's command line and the zones' rules.

Every test runs the real binary against a fresh SQLite store in a temporary
directory; time is set with RBLKIT_NOW (the documented test hook), so that
lifetimes, windows and expiry are tested without waiting. Imported files of
every rbldnsd form are exported again and served by Debian's rbldnsd and by
`rblkit serve`; both must answer what the store says.
"""

import ipaddress
import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from pg import pg_dsn, pg_server  # noqa: E402,F401  (fixtures)
from helpers_proto import a_values, nibbles6, rev4, txt_values  # noqa: E402

# the RFC 5782 test points every new zone lists (test_points = yes)
TEST_POINTS = {"127.0.0.2", "::ffff:127.0.0.2", "test"}
T0 = 1_800_000_000          # 2027-01-15T08:00:00Z
H = 3600
D = 86400


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    return rblkit_bin


class Lst:
    """`rblkit list` against one store (and optionally a config file)."""

    def __init__(self, tmp, conf=None, dsn=None):
        self.dir = str(tmp)
        self.db = os.path.join(self.dir, "list.db")
        self.dsn = dsn or f"sqlite:{self.db}"
        self.conf = None
        if conf is not None:
            self.write_conf(conf)

    def write_conf(self, text):
        self.conf = os.path.join(self.dir, "list.conf")
        with open(self.conf, "w") as f:
            f.write(f"store = {self.dsn}\n" + text)

    def run(self, *args, now=T0, json_out=False, conf=True):
        argv = [servers.RBLKIT, "list"]
        if self.conf and conf:
            argv += ["--config", self.conf]
        else:
            argv += ["--store", self.dsn]
        if json_out:
            argv.append("--json")
        env = dict(os.environ, RBLKIT_NOW=str(now))
        return subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True,
                              env=env, timeout=60, stdin=subprocess.DEVNULL)

    def j(self, *args, now=T0, rc=0):
        p = self.run(*args, now=now, json_out=True)
        assert p.returncode == rc, (p.returncode, p.stdout, p.stderr)
        return json.loads(p.stdout)

    def listing(self, zone, key, now=T0):
        out = self.j("show", zone, key, now=now)
        assert out["found"]
        return out["listing"]


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# the commands


def test_add_show_remove_json(tmp_path):
    ls = Lst(tmp_path)
    out = ls.j("add", "bl.example", "192.0.2.1", "--code", "127.0.0.3", "--reason",
               "spam run", "--ttl", "2h", "--source", "report")
    assert out["outcome"] == "listed"
    assert out["key"] == "192.0.2.1"
    l = out["listing"]
    assert (l["state"], l["code"], l["reason"], l["source"]) == (
        "listed", "127.0.0.3", "spam run", "report")
    assert l["first_seen"] == iso(T0) and l["expires"] == iso(T0 + 2 * H)
    show = ls.j("show", "bl.example", "192.0.2.1")
    assert show["listing"]["expires"] == iso(T0 + 2 * H)
    assert [e["event"] for e in show["history"]] == ["listed"]
    assert show["history"][0]["actor"] == "cli"
    # text form
    p = ls.run("show", "bl.example", "192.0.2.1")
    assert p.returncode == 0
    assert "status:     listed" in p.stdout and iso(T0 + 2 * H) in p.stdout
    # remove, then a second removal is "not listed" (exit 1)
    out = ls.j("remove", "bl.example", "192.0.2.1", "--reason", "fixed")
    assert out["outcome"] == "removed" and out["listing"]["state"] == "removed"
    out = ls.j("remove", "bl.example", "192.0.2.1", rc=1)
    assert out["outcome"] == "not-listed"
    hist = ls.j("history", "bl.example", "192.0.2.1")["events"]
    assert [(e["event"], e["how"], e["detail"]) for e in hist][1] == (
        "removed", "operator", "fixed")


def test_add_again_updates(tmp_path):
    ls = Lst(tmp_path, "code = 127.0.0.5\n")
    out = ls.j("add", "bl.example", "192.0.2.1")
    assert out["listing"]["code"] == "127.0.0.5"        # the zone's code
    out = ls.j("add", "bl.example", "192.0.2.1", "--code", "127.0.0.9", "--ttl", "never",
               now=T0 + 10)
    assert out["outcome"] == "updated"
    assert out["listing"]["code"] == "127.0.0.9" and out["listing"]["expires"] is None


def test_not_found_and_usage_statuses(tmp_path):
    ls = Lst(tmp_path)
    p = ls.run("show", "bl.example", "192.0.2.77")
    assert p.returncode == 1 and "no listing of 192.0.2.77" in p.stderr
    assert ls.run("history", "bl.example", "192.0.2.77").returncode == 1
    p = ls.run("add", "bl.example", "192.0.2.300")
    assert p.returncode == 2 and "bad key '192.0.2.300'" in p.stderr
    p = ls.run("add", "bl.example", "192.0.2.1/24")
    assert p.returncode == 2 and "192.0.2.1/24" in p.stderr
    p = ls.run("add", "bl.example", "192.0.2.1", "--ttl", "soon")
    assert p.returncode == 2 and "--ttl soon" in p.stderr
    p = ls.run("add", "bl.example", "192.0.2.1", "--code", "10.0.0.1")
    assert p.returncode == 2 and "--code 10.0.0.1" in p.stderr
    p = ls.run("frobnicate")
    assert p.returncode == 2 and "rblkit help list" in p.stderr
    p = ls.run("add", "bl.example")
    assert p.returncode == 2


def test_config_and_store_errors(tmp_path):
    p = subprocess.run([servers.RBLKIT, "list", "--config", str(tmp_path / "none.conf"),
                        "stats"], capture_output=True, text=True)
    assert p.returncode == 3 and "none.conf: cannot read" in p.stderr
    p = subprocess.run([servers.RBLKIT, "list", "--store", "sqlite:/nonexistent/dir/x.db",
                        "stats"], capture_output=True, text=True)
    assert p.returncode == 3 and "/nonexistent/dir/x.db" in p.stderr
    port = servers.free_port()              # nothing listens there
    p = subprocess.run([servers.RBLKIT, "list", "--store",
                        f"postgresql://rblkit@127.0.0.1:{port}/rblkit", "stats"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 3 and f"127.0.0.1:{port}" in p.stderr, p.stderr
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not a database" * 100)
    p = subprocess.run([servers.RBLKIT, "list", "--store", f"sqlite:{bad}", "add", "bl.example",
                        "192.0.2.1"], capture_output=True, text=True)
    assert p.returncode == 3 and "corrupt.db" in p.stderr, p.stderr


def test_check_config_file_line(tmp_path):
    conf = tmp_path / "list.conf"
    conf.write_text("store = sqlite:/tmp/x.db\n"
                    "lifetime = 2h\n"
                    "[zone bl.example]\n"
                    "lifetime = a while\n"
                    "allow = 192.0.2.1/24\n"
                    "[zone bl.example]\n"
                    "color = blue\n")
    p = subprocess.run([servers.RBLKIT, "list", "--check-config", "--config", str(conf)],
                       capture_output=True, text=True)
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert f"{conf}:4: lifetime: expected a time 60..315360000 s (suffix s m h d w)" in lines
    assert any(x.startswith(f"{conf}:5: allow: '192.0.2.1/24'") for x in lines)
    assert f"{conf}:6: zone bl.example named twice (first on line 3)" in lines
    assert any(x.startswith(f"{conf}:7: unknown key 'color'") for x in lines)
    conf.write_text("store = sqlite:/tmp/x.db\n[zone bl.example]\nlifetime = 3h\n")
    p = subprocess.run([servers.RBLKIT, "list", "--check-config", "--config", str(conf)],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "ok" in p.stdout


def test_store_alone_is_a_config(tmp_path):
    conf = tmp_path / "list.conf"
    conf.write_text(f"store = sqlite:{tmp_path}/l.db\n")
    p = subprocess.run([servers.RBLKIT, "list", "--config", str(conf), "add", "bl.example",
                        "192.0.2.1"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_search_filters(tmp_path):
    ls = Lst(tmp_path)
    ls.j("add", "bl.example", "192.0.2.1", "--source", "cli")
    ls.j("add", "bl.example", "192.0.2.2", "--source", "report", now=T0 + D)
    ls.j("add", "bl.example", "198.51.100.9", "--source", "report", now=T0 + 2 * D)
    ls.j("add", "bl.example", "2001:db8::1", now=T0 + 2 * D)
    ls.j("remove", "bl.example", "192.0.2.1", now=T0 + 2 * D)

    def keys(*args):
        return sorted(x["key"] for x in ls.j("search", "bl.example", *args,
                                             now=T0 + 3 * D)["listings"]
                      if x["key"] not in TEST_POINTS)
    assert keys() == ["192.0.2.1", "192.0.2.2", "198.51.100.9", "2001:db8::/64"]
    assert keys("--source", "report") == ["192.0.2.2", "198.51.100.9"]
    assert keys("--cidr", "192.0.2.0/24") == ["192.0.2.1", "192.0.2.2"]
    assert keys("--state", "removed") == ["192.0.2.1"]
    assert keys("--since", iso(T0 + D)) == ["192.0.2.2", "198.51.100.9", "2001:db8::/64"]
    assert keys("--since", "1d") == ["198.51.100.9", "2001:db8::/64"]
    assert ls.run("search", "bl.example", "--state", "gone").returncode == 2
    p = ls.run("search", "bl.example", "--source", "report")
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 2
    assert sorted(x["key"] for x in ls.j("search", "bl.example", "--source", "rfc5782")[
        "listings"]) == sorted(TEST_POINTS)


def test_stats_and_expire(tmp_path):
    ls = Lst(tmp_path)
    ls.j("add", "bl.example", "192.0.2.1", "--ttl", "1h")
    ls.j("add", "bl.example", "192.0.2.2", "--ttl", "3h")
    ls.j("add", "other.example", "example.com")
    assert ls.j("expire", now=T0 + 30 * 60)["expired"] == 0
    assert ls.j("expire", now=T0 + 2 * H)["expired"] == 1
    assert ls.listing("bl.example", "192.0.2.1")["state"] == "expired"
    assert ls.listing("bl.example", "192.0.2.2")["state"] == "listed"
    zones = {z["zone"]: z for z in ls.j("stats")["zones"]}
    # each new zone lists RFC 5782's three test points besides its own
    assert zones["bl.example"]["listed"] == 1 + 3 and zones["bl.example"]["expired"] == 1
    assert zones["other.example"]["listed"] == 1 + 3
    one = ls.j("stats", "other.example")["zones"]
    assert [z["zone"] for z in one] == ["other.example"]
    hist = ls.j("history", "bl.example", "192.0.2.1")["events"]
    assert hist[-1]["event"] == "expired"


# --------------------------------------------------------------------------
# the rules


def test_threshold_hits_and_traps(tmp_path):
    ls = Lst(tmp_path, "threshold_hits = 3\nthreshold_traps = 2\nthreshold_window = 1h\n")
    a, b = "alice@trap.example", "bob@trap.example"
    out = ls.j("hit", "bl.example", "192.0.2.1", "--trap", a)
    assert out["outcome"] == "counted" and out["listing"]["state"] == "pending"
    assert ls.j("hit", "bl.example", "192.0.2.1", "--trap", a, now=T0 + 60)["outcome"] == \
        "counted"                               # 2 hits, 1 trap
    assert [x["key"] for x in ls.j("search", "bl.example", "--state", "listed")["listings"]
            if x["key"] not in TEST_POINTS] == []
    out = ls.j("hit", "bl.example", "192.0.2.1", "--trap", b, now=T0 + 120)
    assert out["outcome"] == "listed" and out["listing"]["state"] == "listed"
    assert out["listing"]["expires"] == iso(T0 + 120 + D)
    # the history masks the trap addresses
    show = ls.j("show", "bl.example", "192.0.2.1")
    text = json.dumps(show)
    assert "alice@" not in text and "a***@trap.example" in text


def test_threshold_window(tmp_path):
    ls = Lst(tmp_path, "threshold_hits = 2\nthreshold_window = 1h\n")
    ls.j("hit", "bl.example", "192.0.2.1", "--trap", "a@t.example")
    out = ls.j("hit", "bl.example", "192.0.2.1", "--trap", "a@t.example", now=T0 + 2 * H)
    assert out["outcome"] == "counted"          # the first hit is out of the window
    out = ls.j("hit", "bl.example", "192.0.2.1", "--trap", "a@t.example", now=T0 + 2 * H + 60)
    assert out["outcome"] == "listed"


def test_hit_extends(tmp_path):
    ls = Lst(tmp_path, "lifetime = 24h\nextend = 24h\n")
    ls.j("hit", "bl.example", "192.0.2.1", "--trap", "a@t.example")
    out = ls.j("hit", "bl.example", "192.0.2.1", "--trap", "a@t.example", now=T0 + 10 * H)
    assert out["outcome"] == "extended"
    assert out["listing"]["expires"] == iso(T0 + 34 * H)
    assert out["listing"]["hits"] == 2
    hist = ls.j("history", "bl.example", "192.0.2.1")["events"]
    assert [e["event"] for e in hist] == ["listed", "extended"]


def test_escalation_doubles_and_caps(tmp_path):
    ls = Lst(tmp_path, "lifetime = 1h\nlifetime_max = 3h\nrelist_period = 1d\n")
    z, k = "bl.example", "192.0.2.1"
    t = T0
    out = ls.j("add", z, k, now=t)
    assert out["listing"]["expires"] == iso(t + H) and out["listing"]["level"] == 0
    expected = [(1, 2 * H), (2, 3 * H), (3, 3 * H)]     # doubles, then the cap
    for level, life in expected:
        t = ls_expiry = t + 4 * H
        assert ls.j("expire", now=ls_expiry)["expired"] == 1
        t += 60
        out = ls.j("add", z, k, now=t)
        assert out["listing"]["level"] == level
        assert out["listing"]["expires"] == iso(t + life)
    hist = [e["event"] for e in ls.j("history", z, k)["events"]]
    assert hist.count("relisted") == 3
    # a re-listing after relist_period starts over
    ls.j("expire", now=t + 4 * H)
    out = ls.j("add", z, k, now=t + 3 * D)
    assert out["listing"]["level"] == 0 and out["listing"]["expires"] == iso(t + 3 * D + H)


def test_self_removal_needs_review(tmp_path):
    ls = Lst(tmp_path, "self_remove_max = 2\nself_remove_period = 30d\n")
    z, k = "bl.example", "192.0.2.1"
    t = T0
    for _ in range(2):
        ls.j("add", z, k, now=t)
        assert ls.j("remove", z, k, "--by-request", now=t + 60)["outcome"] == "removed"
        t += H
    ls.j("add", z, k, now=t)
    out = ls.j("remove", z, k, "--by-request", now=t + 60, rc=4)
    assert out["outcome"] == "review" and "needs review" in out["note"]
    assert ls.listing(z, k)["state"] == "listed"
    # the operator can still remove it
    assert ls.j("remove", z, k, now=t + 120)["outcome"] == "removed"
    # past the period, a request goes through again
    ls.j("add", z, k, now=t + 31 * D)
    assert ls.j("remove", z, k, "--by-request", now=t + 31 * D + 60)["outcome"] == "removed"


def test_ipv6_prefix(tmp_path):
    ls = Lst(tmp_path, "[zone six.example]\nip6_bits = 48\n")
    out = ls.j("add", "bl.example", "2001:db8:1:2::99")
    assert out["key"] == "2001:db8:1:2::/64"
    assert ls.listing("bl.example", "2001:db8:1:2:ffff::1")["key"] == "2001:db8:1:2::/64"
    out = ls.j("add", "six.example", "2001:db8:1:2::99")
    assert out["key"] == "2001:db8:1::/48"
    # an explicit prefix stays as given
    assert ls.j("add", "bl.example", "2001:db8:5::/56")["key"] == "2001:db8:5::/56"
    # removing by an address inside the /64 removes the /64
    assert ls.j("remove", "bl.example", "2001:db8:1:2::7")["outcome"] == "removed"
    # an explicit /128 is one address, and an IPv4-mapped address (the
    # RFC 5782 IPv6 test point) is one IPv4 host: neither becomes a /64
    # (::ffff:127.0.0.2 became ::/64, half of the IPv6 test space)
    assert ls.j("add", "bl.example", "2001:db8:9::1/128")["key"] == "2001:db8:9::1"
    assert ls.j("add", "bl.example", "::ffff:127.0.0.2")["key"] != "::/64"
    assert ls.run("show", "bl.example", "::1").returncode == 1


def test_dns_allowlist(tmp_path, rblkit_server, datadir):
    """allow_dnsbl is asked (it was configured and silently never asked):
    an address on the DNS allowlist is not listed by a trap hit nor by an
    operator; one not on it is; a dead resolver: a trap hit is not listed
    (could not tell), an operator's add goes through."""
    with open(os.path.join(datadir, "wl.txt"), "w") as f:
        f.write("127.0.0.2\n198.51.100.5 :127.0.10.2:\n")
    wl = rblkit_server(["wl.test:ip4set:wl.txt"], datadir)
    ls = Lst(tmp_path, f"resolver = 127.0.0.1:{wl.port}\nallow_dnsbl = wl.test\n")
    out = ls.j("hit", "bl.example", "198.51.100.5", "--trap", "a@t.example", rc=4)
    assert out["outcome"] == "allowed" and "wl.test" in out["note"]
    assert ls.j("add", "bl.example", "198.51.100.5", rc=4)["outcome"] == "allowed"
    assert ls.j("hit", "bl.example", "198.51.100.6", "--trap", "a@t.example")["outcome"] == "listed"
    dead = servers.free_port()
    ls.write_conf(f"resolver = 127.0.0.1:{dead}\nallow_dnsbl = wl.test\n")
    out = ls.j("hit", "bl.example", "198.51.100.7", "--trap", "a@t.example", rc=4)
    assert "could not be asked" in out["note"]
    assert ls.j("add", "bl.example", "198.51.100.7")["outcome"] == "listed"


def test_allowlist(tmp_path):
    ls = Lst(tmp_path, "allow = 192.0.2.0/24, 2001:db8::/32\n")
    out = ls.j("add", "bl.example", "192.0.2.5", rc=4)
    assert out["outcome"] == "allowed" and "192.0.2.0/24" in out["note"]
    out = ls.j("hit", "bl.example", "2001:db8::1", "--trap", "a@t.example", rc=4)
    assert out["outcome"] == "allowed"
    assert ls.j("add", "bl.example", "198.51.100.1")["outcome"] == "listed"
    assert ls.run("show", "bl.example", "192.0.2.5").returncode == 1


def test_net_escalation(tmp_path):
    ls = Lst(tmp_path, "net_escalate = 3\nnet_bits = 24\n")
    for i, a in enumerate(["198.51.100.1", "198.51.100.2"]):
        ls.j("add", "bl.example", a, now=T0 + i)
    assert ls.run("show", "bl.example", "198.51.100.0/24").returncode == 1
    ls.j("hit", "bl.example", "198.51.100.3", "--trap", "a@t.example", now=T0 + 5)
    net = ls.listing("bl.example", "198.51.100.0/24")
    assert net["state"] == "listed" and net["source"] == "net"
    hist = ls.j("history", "bl.example", "198.51.100.0/24")["events"]
    assert hist[0]["actor"] == "net" and "3 addresses" in hist[0]["detail"]


def test_net_escalation_off_by_default(tmp_path):
    ls = Lst(tmp_path)
    for i in range(1, 12):
        ls.j("add", "bl.example", f"198.51.100.{i}")
    assert ls.run("show", "bl.example", "198.51.100.0/24").returncode == 1


def test_hit_evidence_masked(tmp_path):
    ls = Lst(tmp_path)
    ev = tmp_path / "report.txt"
    ev.write_text("Received: from spammer\nSubject: buy now\n")
    ls.j("hit", "bl.example", "192.0.2.1", "--trap", "secret@trap.example", "--evidence",
         str(ev))
    show = ls.j("show", "bl.example", "192.0.2.1")
    assert show["evidence"][0]["trap"] == "s***@trap.example"
    assert "buy now" in show["evidence"][0]["excerpt"]
    p = ls.run("show", "bl.example", "192.0.2.1")
    assert "secret@" not in p.stdout and "s***@trap.example" in p.stdout


# --------------------------------------------------------------------------
# import and export


IP4SET = """# every ip4set form
$SOA 300 ns.x hostmaster.x 0 3600 600 86400 300
$TTL 600
:127.0.0.2:Listed: $
192.0.2.1
198.51.100
10.20.0.0/16 :3:Open relay $
203.0.113.5-203.0.113.9
172.16.1.0-172.16.2.255
!198.51.100.7
100.64.1.1-5
"""
IP4TSET = """:127.0.0.9:tset $
192.0.2.1
192.0.2.2
203.0.113.5
"""
IP4TRIE = """192.0.2.0/24 :4:trie net
!192.0.2.128/25
192.0.2.200
10.0.0.0/8
"""
IP6TRIE = """2001:db8::/32 :5:v6 net
!2001:db8:ffff::/48
2001:db8:1:2::/64 :6
2001:db8:aaaa::1
"""
IP6TSET = """:127.0.0.7:v6 tset
2001:db8:0:1
2001:db8:0:2
!2001:db8:0:1::5
"""
DNSET = """example.com :8:dom $
.example.net
*.example.org
!good.example.org
"""

SAMPLES4 = ["192.0.2.1", "192.0.2.2", "198.51.100.1", "198.51.100.7", "198.51.100.255",
            "10.20.3.4", "10.21.0.1", "203.0.113.4", "203.0.113.5", "203.0.113.9",
            "203.0.113.10", "172.16.1.9", "172.16.2.255", "172.16.3.0", "100.64.1.1",
            "100.64.1.5", "100.64.1.6", "192.0.2.129", "192.0.2.200", "10.9.9.9"]
SAMPLES6 = ["2001:db8::1", "2001:db8:ffff::1", "2001:db8:1:2::99", "2001:db8:aaaa::1",
            "2001:db8:aaaa::2", "2001:db8:0:1::5", "2001:db8:0:1::6", "2001:db8:0:2::1",
            "2001:db8:0:3::1", "2001:db9::1"]
SAMPLES_N = ["example.com", "www.example.com", "example.net", "a.b.example.net",
             "example.org", "x.example.org", "good.example.org", "other.example"]

FORMS = [("ip4set", IP4SET, SAMPLES4), ("ip4tset", IP4TSET, SAMPLES4),
         ("ip4trie", IP4TRIE, SAMPLES4),
         ("ip6trie", IP6TRIE, SAMPLES6), ("ip6tset", IP6TSET, SAMPLES6),
         ("dnset", DNSET, SAMPLES_N)]


def qname(key, zone):
    try:
        ip = ipaddress.ip_address(key)
    except ValueError:
        return f"{key}.{zone}"
    return rev4(key, zone) if ip.version == 4 else nibbles6(key, zone)


def answers(srv, zone, keys):
    out = {}
    for k in keys:
        r = srv.query(qname(k, zone), "A")
        t = srv.query(qname(k, zone), "TXT")
        out[k] = (sorted(a_values(r)), sorted(txt_values(t)))
    return out


@pytest.mark.rbldnsd
@pytest.mark.parametrize("form,text,samples", FORMS, ids=[f[0] for f in FORMS])
def test_import_export_rbldnsd(tmp_path, datadir, rbldnsd_server, rblkit_server, form, text,
                               samples):
    """Import a file of each form; export it; rbldnsd on the original file,
    rbldnsd on the export and rblkit serve on the export give the same A
    answers, and the TXT of entries with a TXT of their own."""
    ls = Lst(tmp_path, "txt = \n")
    zone = "bl.example"
    src = os.path.join(datadir, f"orig.{form}")
    with open(src, "w") as f:
        f.write(text)
    p = ls.run("import", zone, src, "--type", form)
    assert p.returncode == 0, p.stderr
    out = os.path.join(datadir, "export")
    e = ls.j("export", zone, out)
    etype = e["type"]
    assert not os.path.exists(out + ".tmp")
    ref = rbldnsd_server([f"{zone}:{form}:orig.{form}"], datadir)
    exp = rbldnsd_server([f"{zone}:{etype}:export"], datadir)
    srv = rblkit_server([f"{zone}:{etype}:export"], datadir)
    want = answers(ref, zone, samples)
    got_exp = answers(exp, zone, samples)
    got_srv = answers(srv, zone, samples)
    assert any(a for a, _ in want.values()), "the samples should hit something"
    for k in samples:
        assert got_exp[k][0] == want[k][0], (k, got_exp[k], want[k])
        assert got_srv[k] == got_exp[k], (k, got_srv[k], got_exp[k])
        if want[k][1]:
            assert got_exp[k][1] == want[k][1], (k, got_exp[k], want[k])


@pytest.mark.rbldnsd
def test_export_matches_store(tmp_path, datadir, rbldnsd_server, rblkit_server):
    """A zone built by the rules (mixed kinds: a combined file) answers in
    rbldnsd and rblkit serve as `list show` says."""
    ls = Lst(tmp_path)
    zone = "bl.example"
    ls.j("add", zone, "192.0.2.1", "--code", "127.0.0.3", "--reason", "own text $")
    ls.j("add", zone, "198.51.100.0/24")
    ls.j("add", zone, "2001:db8::1")
    ls.j("add", zone, "spam.example")
    ls.j("add", zone, "192.0.2.2")
    ls.j("remove", zone, "192.0.2.2")
    e = ls.j("export", zone, os.path.join(datadir, "bl.combined"))
    # with the RFC 5782 test points (127.0.0.2, ::ffff:127.0.0.2, test)
    assert e["type"] == "combined" and (e["ip4"], e["ip6"], e["names"]) == (3, 2, 2)
    spec = [f"{zone}:combined:bl.combined"]
    servers_ = [rbldnsd_server(spec, datadir), rblkit_server(spec, datadir)]
    want = {"192.0.2.1": ["127.0.0.3"], "192.0.2.2": [], "198.51.100.77": ["127.0.0.2"],
            "2001:db8::1": ["127.0.0.2"], "2001:db8::2": ["127.0.0.2"],
            "spam.example": ["127.0.0.2"], "ham.example": []}
    for key, a in want.items():
        show = ls.run("show", zone, key, json_out=True)
        if show.returncode == 0:                # the store agrees where it has the key
            l = json.loads(show.stdout)["listing"]
            assert (l["code"] if l["state"] == "listed" else None) == (a[0] if a else None)
        for s in servers_:
            assert a_values(s.query(qname(key, zone), "A")) == a, (s.name, key)
    t = txt_values(servers_[0].query(qname("192.0.2.1", zone), "TXT"))
    assert t == ["own text 192.0.2.1"]
    t = txt_values(servers_[1].query(qname("198.51.100.77", zone), "TXT"))
    assert t == ["Listed in bl.example: 198.51.100.77"]


def test_import_bad_lines_and_counts(tmp_path):
    ls = Lst(tmp_path, "allow = 10.0.0.0/8\n")
    f = tmp_path / "data"
    f.write_text("192.0.2.1\n*.\n192.0.2.1/24\n$NS 300 ns.x\n10.1.1.1\n"
                 "2001:db8::/64\n")
    p = ls.run("import", "bl.example", str(f), json_out=True)
    assert p.returncode == 5
    assert f"{f}:2: " in p.stderr and f"{f}:3: " in p.stderr
    out = json.loads(p.stdout)
    assert (out["lines"], out["entries"], out["bad"], out["specials"], out["allowed"]) == (
        6, 3, 2, 1, 1)
    keys = sorted(x["key"] for x in ls.j("search", "bl.example")["listings"])
    assert keys == ["192.0.2.1", "2001:db8::/64"]
    assert ls.listing("bl.example", "192.0.2.1")["source"] == "import"
    # again: nothing changes
    out = json.loads(ls.run("import", "bl.example", str(f), json_out=True).stdout)
    assert out["unchanged"] == 2
    p = ls.run("import", "bl.example", str(tmp_path / "missing"))
    assert p.returncode == 3 and "missing" in p.stderr


def test_import_many_lines_in_batches(tmp_path):
    ls = Lst(tmp_path)
    f = tmp_path / "big"
    with open(f, "w") as fh:
        for i in range(25000):
            fh.write(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
    out = json.loads(ls.run("import", "bl.example", str(f), json_out=True).stdout)
    assert out["entries"] == 25000
    assert ls.j("stats", "bl.example")["zones"][0]["listed"] == 25000


def test_export_replaces_atomically(tmp_path):
    ls = Lst(tmp_path)
    ls.j("add", "bl.example", "192.0.2.1")
    out = tmp_path / "bl.ip4trie"
    out.write_text("old\n")
    ino = os.stat(out).st_ino
    ls.j("export", "bl.example", str(out))
    assert os.stat(out).st_ino != ino           # a new file renamed over the old
    assert "192.0.2.1\n" in out.read_text()
    assert not os.path.exists(str(out) + ".tmp")
    p = ls.run("export", "bl.example", str(tmp_path / "nodir" / "x"))
    assert p.returncode == 3 and "nodir" in p.stderr


def test_help_documents_statuses():
    p = subprocess.run([servers.RBLKIT, "help", "list"], capture_output=True, text=True)
    assert p.returncode == 0
    for word in ["Exit status", "5 import done, with bad lines", "RBLKIT_NOW", "lifetime",
                 "[zone NAME]"]:
        assert word in p.stdout, word


def test_rules_on_postgresql(tmp_path, pg_dsn):
    """The same rules on a real PostgreSQL store (several intake nodes share
    one list): threshold, extension, review, import, export, expiry."""
    ls = Lst(tmp_path, "threshold_hits = 2\nself_remove_max = 1\n", dsn=pg_dsn)
    assert ls.j("hit", "bl.example", "192.0.2.1", "--trap", "a@t.example")["outcome"] == "counted"
    out = ls.j("hit", "bl.example", "192.0.2.1", "--trap", "b@t.example", now=T0 + 60)
    assert out["outcome"] == "listed"
    out = ls.j("hit", "bl.example", "192.0.2.1", "--trap", "b@t.example", now=T0 + H)
    assert out["outcome"] == "extended" and out["listing"]["expires"] == iso(T0 + H + D)
    assert ls.j("remove", "bl.example", "192.0.2.1", "--by-request", now=T0 + 2 * H)[
        "outcome"] == "removed"
    ls.j("add", "bl.example", "192.0.2.1", now=T0 + 3 * H)
    assert ls.j("remove", "bl.example", "192.0.2.1", "--by-request", now=T0 + 4 * H,
                rc=4)["outcome"] == "review"
    f = tmp_path / "data"
    f.write_text("198.51.100.0/24\n!198.51.100.1\n2001:db8::/48 :3:six\n")
    assert ls.run("import", "bl.example", str(f)).returncode == 0
    e = ls.j("export", "bl.example", str(tmp_path / "out"), "--type", "combined")
    assert (e["ip4"], e["ip6"], e["excluded"]) == (2 + 1, 1 + 1, 1)   # + test points
    assert ls.j("expire", now=T0 + 10 * D)["expired"] == 1
    z = ls.j("stats", "bl.example")["zones"][0]
    assert (z["listed"], z["expired"], z["excluded"]) == (2 + 3, 1, 1)


def test_text_output_has_no_control_bytes(tmp_path):
    """Reasons and sources reach the store from the portal and trap mail:
    text output replaces their control bytes, JSON escapes them."""
    ls = Lst(tmp_path)
    ls.j("add", "bl.example", "192.0.2.1", "--reason", "evil\x1b[2Jtext", "--source",
         "web\x07x")
    for args in (("search", "bl.example"), ("show", "bl.example", "192.0.2.1"),
                 ("history", "bl.example", "192.0.2.1")):
        p = ls.run(*args)
        assert p.returncode == 0
        assert "\x1b" not in p.stdout and "\x07" not in p.stdout, (args, p.stdout)
    out = ls.run("show", "bl.example", "192.0.2.1", json_out=True).stdout
    assert "\\u001b" in out and json.loads(out)["listing"]["source"] == "web\x07x"


# --------------------------------------------------------------------------
# RFC 5782 test points


def test_a_new_zone_lists_the_rfc5782_test_points_and_checkers_trust_it(
        tmp_path, datadir, rblkit_server):
    ls = Lst(tmp_path, "[zone named.example]\n[zone quiet.example]\ntest_points = no\n")
    ls.j("add", "bl.example", "192.0.2.1")
    ls.j("add", "quiet.example", "192.0.2.1")
    tp = {x["key"]: x for x in ls.j("search", "bl.example", "--source", "rfc5782")["listings"]}
    assert set(tp) == TEST_POINTS and all(x["expires"] is None for x in tp.values())
    assert ls.j("search", "quiet.example", "--source", "rfc5782")["listings"] == []
    # a zone the file names is created by the first command, with its test points
    assert {x["key"] for x in ls.j("search", "named.example", "--source", "rfc5782")[
        "listings"]} == TEST_POINTS
    # serve answers them; an unknown zone checked with RFC 5782 defaults is trusted
    srv = rblkit_server([f"bl.example:store:{ls.dsn}", f"quiet.example:store:{ls.dsn}"],
                        datadir)
    assert a_values(srv.query(rev4("127.0.0.2", "bl.example"), "A")) == ["127.0.0.2"]
    assert a_values(srv.query("test.bl.example", "A")) == ["127.0.0.2"]
    assert a_values(srv.query(nibbles6("::ffff:127.0.0.2", "bl.example"), "A")) == ["127.0.0.2"]
    assert a_values(srv.query("invalid.bl.example", "A")) == []
    assert a_values(srv.query(rev4("127.0.0.1", "bl.example"), "A")) == []

    def check(zone):
        p = subprocess.run([servers.RBLKIT, "check", "--json", "--zone",
                            f"{zone}@127.0.0.1:{srv.port}", "192.0.2.1"],
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr
    rc, out = check("bl.example")
    assert rc == 1 and '"listed"' in out, out        # listed, and trusted
    rc, out = check("quiet.example")
    assert rc != 1, out                                # no test point: not a verdict to trust
    # a removal request for a test point goes to review; the operator may remove it
    assert ls.j("remove", "bl.example", "127.0.0.2", "--by-request",
                rc=4)["outcome"] == "review"
    assert ls.listing("bl.example", "127.0.0.2")["state"] == "listed"
    assert ls.j("remove", "bl.example", "127.0.0.2")["outcome"] == "removed"
