"""Zone transfer: rblkit as the primary of real secondaries.

An operator publishes a DNSBL through ordinary name servers by letting them
transfer the zone from rblkit.  These tests check the transfer itself (dig,
dnspython) and then start Debian's NSD and Knot as secondaries on loopback,
wait until they have the zone, and ask both rblkit and the secondary the same
questions: the rcode and the A records must agree.

Documented differences, asserted in their precise form:
  * A static zone cannot substitute the queried address into a TXT record
    that comes from a wildcard; rblkit's AXFR writes the covering network
    "a.b.c.d/len" for "$" there ("Listed 10.0.0.0/16" for 10.0.0.1).
  * rblkit answers NXDOMAIN for names of more than 4 labels under an IPv4
    zone where a secondary may match a wildcard; only proper 4-label names
    are compared.
  * Excluded names inside a dnset wildcard are written with an HINFO record
    so that the wildcard does not cover them.
"""

import ipaddress
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from helpers_proto import (  # noqa: E402
    Secondary, a_values, frame, have_ipv6_loopback, rcode, rev4, rrset_values, run_rblkit,
    tcp_connect, txt_values, wait_for, write_data,
    zone_header)

BL = zone_header("bl.test") + """\
:127.0.0.2:Listed $
127.0.0.2
10.0.0.0/8
!10.1.2.3
192.0.2.7 :127.0.0.4:Special $ here
198.51.100.0/24 :3:Range $
!198.51.100.77
203.0.113.10-20
172.16.0.0/20 :5:Twenty $
"""

GEN = """\
www A 127.0.0.8
@ TXT about bl.test
"""

DN = zone_header("dn.test") + """\
:127.0.1.2:Domain $ listed
exact.example
*.wild.example
.both.example
!ok.wild.example
"""

# one zone made of two ip4set datasets that overlap, as a combined list
# (zen = sbl + xbl + pbl) is: a CIDR in one, single addresses in the other
M1 = zone_header("multi.test") + """\
:127.0.0.2:One $
127.0.0.2
10.0.0.0/8
"""
M2 = """\
:127.0.0.3:Two $
127.0.0.2
10.5.5.5
192.0.2.1
"""

V6 = zone_header("v6.test") + """\
:127.0.0.2:v6 listed $
2001:db8::/32
!2001:db8::bad
2001:db8:1::1 :127.0.0.5:host $
2001:db8:2::/48 :127.0.0.6:net $
"""

SPECS = ["bl.test:ip4set:bl.txt", "bl.test:generic:gen.txt", "dn.test:dnset:dn.txt",
         "multi.test:ip4set:m1.txt", "multi.test:ip4set:m2.txt", "v6.test:ip6trie:v6.txt"]
ZONES = ["bl.test", "dn.test", "multi.test", "v6.test"]
V6_ADDRS = ["2001:db8::1", "2001:db8::bad", "2001:db8::bac", "2001:db8:1::1", "2001:db8:1::2",
            "2001:db8:2::1", "2001:db8:2:ffff::1", "2001:db8:3::1", "2001:db8:ffff::1",
            "2001:db9::1", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"]

BL_LISTED = ["127.0.0.2", "192.0.2.7", "10.0.0.1", "10.200.3.4", "10.1.2.2", "10.1.2.4",
             "10.1.255.255", "10.255.255.255", "10.1.0.0", "198.51.100.1", "198.51.100.76",
             "198.51.100.78", "198.51.100.255", "203.0.113.10", "203.0.113.15",
             "203.0.113.20", "172.16.0.1", "172.16.15.255"]
BL_NOT_LISTED = ["10.1.2.3", "198.51.100.77", "127.0.0.1", "9.255.255.255", "11.0.0.0",
                 "203.0.113.9", "203.0.113.21", "172.16.16.0", "172.15.255.255"]
DN_NAMES = ["exact.example", "sub.exact.example", "a.wild.example", "a.b.wild.example",
            "both.example", "x.both.example", "ok.wild.example", "x.ok.wild.example",
            "other.example", "nothing"]
MULTI_NAMES = ["127.0.0.2", "10.5.5.5", "10.5.5.6", "10.5.6.1", "10.0.0.1", "192.0.2.1",
               "192.0.2.2", "11.0.0.1"]


@pytest.fixture(scope="module")
def primary():
    if not os.access(servers.RBLKIT, os.X_OK):
        pytest.fail(f"rblkit binary not found at {servers.RBLKIT}: run make", pytrace=False)
    d = servers.make_datadir()
    write_data(d, "bl.txt", BL)
    write_data(d, "gen.txt", GEN)
    write_data(d, "dn.txt", DN)
    write_data(d, "m1.txt", M1)
    write_data(d, "m2.txt", M2)
    write_data(d, "v6.txt", V6)
    s = servers.start_rblkit(SPECS, d)
    yield s
    s.__exit__(None, None, None)
    shutil.rmtree(d, ignore_errors=True)


def _rel4(ip):
    """"1.2.3.4" -> "4.3.2.1" (relative to the zone)."""
    return ".".join(reversed(ip.split(".")))


def _serial(srv, zone):
    r = srv.query(zone, "SOA")
    assert rcode(r) == "NOERROR" and r.answer, r.to_text()
    return r.answer[0][0].serial


# --------------------------------------------------------------------------
# the transfer itself


def _dig_axfr(port, zone):
    dig = shutil.which("dig")
    if not dig:
        pytest.fail("dig is required: apt-get install dnsutils", pytrace=False)
    p = subprocess.run([dig, "-p", str(port), "@127.0.0.1", zone, "AXFR", "+nocmd",
                        "+nostats", "+nocomments", "+time=5", "+tries=1"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "failed" not in p.stdout.lower(), p.stdout
    recs = []
    for line in p.stdout.splitlines():
        if not line.strip() or line.startswith(";"):
            continue
        owner, ttl, cls, typ, rdata = line.split(None, 4)
        assert cls == "IN"
        recs.append((owner.lower(), typ, rdata, int(ttl)))
    return recs


def test_dig_axfr_soa_first_and_last(primary):
    recs = _dig_axfr(primary.port, "bl.test")
    assert len(recs) > 10, recs
    first, last = recs[0], recs[-1]
    assert first[:2] == ("bl.test.", "SOA") and last[:2] == ("bl.test.", "SOA"), (first, last)
    assert first == last
    assert sum(1 for r in recs if r[1] == "SOA") == 2
    serial = int(first[2].split()[2])
    assert serial == _serial(primary, "bl.test")
    body = {(o, t, rd) for o, t, rd, _ in recs[1:-1]}
    assert len(body) == len(recs) - 2, "duplicate records in the transfer"
    expected = {
        ("bl.test.", "NS", "ns1.bl.test."),
        ("bl.test.", "NS", "ns2.bl.test."),
        ("2.0.0.127.bl.test.", "A", "127.0.0.2"),
        ("2.0.0.127.bl.test.", "TXT", '"Listed 127.0.0.2"'),
        ("7.2.0.192.bl.test.", "A", "127.0.0.4"),
        ("7.2.0.192.bl.test.", "TXT", '"Special 192.0.2.7 here"'),
        ("*.0.10.bl.test.", "A", "127.0.0.2"),
        ("*.0.10.bl.test.", "TXT", '"Listed 10.0.0.0/16"'),
        ("1.100.51.198.bl.test.", "A", "127.0.0.3"),
        ("15.113.0.203.bl.test.", "A", "127.0.0.2"),
        ("*.15.16.172.bl.test.", "A", "127.0.0.5"),
        ("*.15.16.172.bl.test.", "TXT", '"Twenty 172.16.15.0/24"'),
        ("www.bl.test.", "A", "127.0.0.8"),
        ("bl.test.", "TXT", '"about bl.test"'),
    }
    missing = expected - body
    assert not missing, f"missing from the AXFR: {sorted(missing)}"
    owners = {o for o, _, _ in body}
    # excluded and unlisted addresses have no records (and no wildcard)
    for name in ("3.2.1.10.bl.test.", "77.100.51.198.bl.test.", "1.0.0.127.bl.test.",
                 "*.16.16.172.bl.test.", "9.113.0.203.bl.test."):
        assert name not in owners, name
    # all records are inside the zone
    assert all(o == "bl.test." or o.endswith(".bl.test.") for o in owners)


def test_axfr_parses_as_a_zone_with_dnspython(primary):
    z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", "dn.test", port=primary.port,
                                        timeout=5, lifetime=20))
    assert z.origin.to_text() == "dn.test."
    names = {n.to_text() for n in z.nodes}
    for n in ("@", "exact.example", "*.wild.example", "both.example", "*.both.example"):
        assert n in names, (n, sorted(names))
    soa = z.get_rdataset("@", "SOA")
    assert soa is not None and soa[0].serial == _serial(primary, "dn.test")


def test_ixfr_request_gets_the_full_zone(primary):
    # rblkit keeps no history: an IXFR is answered AXFR-style (RFC 1995 4)
    serial = _serial(primary, "bl.test")
    msgs = list(dns.query.xfr("127.0.0.1", "bl.test", rdtype=dns.rdatatype.IXFR,
                              serial=serial - 1, port=primary.port, timeout=5,
                              lifetime=20))
    recs = [rrset for m in msgs for rrset in m.answer]
    assert recs[0].rdtype == dns.rdatatype.SOA and recs[-1].rdtype == dns.rdatatype.SOA
    assert recs[1].rdtype != dns.rdatatype.SOA, "looks like an incremental reply"
    assert any(r.rdtype == dns.rdatatype.A for r in recs)


def test_axfr_over_udp_is_not_served(primary):
    q = dns.message.make_query("bl.test", "AXFR")
    r = primary.query(q)
    assert rcode(r) in ("FORMERR", "REFUSED", "NOTIMP"), rcode(r)
    assert not r.answer


def test_axfr_only_at_a_zone_apex(primary):
    for name in ("0.0.127.bl.test", "2.0.0.127.bl.test", "example.com"):
        q = dns.message.make_query(name, "AXFR")
        r = dns.query.tcp(q, "127.0.0.1", port=primary.port, timeout=5)
        assert rcode(r) in ("REFUSED", "NOTAUTH"), (name, rcode(r))
        assert not r.answer, name


# --------------------------------------------------------------------------
# who may transfer (--allow-transfer; loopback only by default)


def _axfr_rcode(port, zone, source="127.0.0.1", host="127.0.0.1"):
    q = dns.message.make_query(zone, "AXFR")
    r = dns.query.tcp(q, host, port=port, timeout=5, source=source)
    return rcode(r), r


def test_allow_transfer_refuses_other_clients(rblkit_server, datadir):
    write_data(datadir, "bl.txt", BL)
    srv = rblkit_server(["bl.test:ip4set:bl.txt"], datadir,
                        ["--allow-transfer", "127.0.0.2/32"])
    for _ in range(2):
        rc, r = _axfr_rcode(srv.port, "bl.test")
        assert rc == "REFUSED" and not r.answer, r.to_text()
    log = [ln for ln in srv.stderr_text().splitlines() if "refused to 127.0.0.1" in ln]
    assert len(log) == 1, "one log line per refused client expected:\n" + srv.stderr_text()
    assert "bl.test" in log[0]
    # the allowed client gets the zone
    msgs = list(dns.query.xfr("127.0.0.1", "bl.test", port=srv.port, timeout=5,
                              lifetime=20, source="127.0.0.2"))
    assert msgs and msgs[0].answer[0].rdtype == dns.rdatatype.SOA
    # IXFR is a transfer too
    q = dns.message.make_query("bl.test", "IXFR")
    assert rcode(dns.query.tcp(q, "127.0.0.1", port=srv.port, timeout=5)) == "REFUSED"
    # ordinary queries over TCP from the refused client are still answered
    r = srv.query(rev4("127.0.0.2", "bl.test"), "A", tcp=True)
    assert a_values(r) == ["127.0.0.2"]


def test_allow_transfer_lists_and_repeats(rblkit_server, datadir):
    write_data(datadir, "bl.txt", BL)
    srv = rblkit_server(["bl.test:ip4set:bl.txt"], datadir,
                        ["--allow-transfer", "192.0.2.0/24,127.0.0.3",
                         "--allow-transfer", "2001:db8::/32"])
    assert _axfr_rcode(srv.port, "bl.test", source="127.0.0.3")[0] == "NOERROR"
    assert _axfr_rcode(srv.port, "bl.test", source="127.0.0.1")[0] == "REFUSED"


def test_transfer_allowed_to_all_loopback_by_default(rblkit_server, datadir):
    write_data(datadir, "bl.txt", BL)
    extra = []
    v6 = have_ipv6_loopback()
    port = servers.free_port()
    if v6:
        extra = ["-b", f"::1/{port}"]
    srv = rblkit_server(["bl.test:ip4set:bl.txt"], datadir, extra)
    for src in ("127.0.0.1", "127.0.0.9"):
        assert _axfr_rcode(srv.port, "bl.test", source=src)[0] == "NOERROR", src
    if v6:
        assert _axfr_rcode(port, "bl.test", source="::1", host="::1")[0] == "NOERROR"


@pytest.mark.parametrize("bad", ["10.0.0.1/24", "300.0.0.0/8", "127.0.0.1/33", "::1/129",
                                 "bl.test", "127.0.0.1,"])
def test_allow_transfer_rejects_bad_networks(datadir, bad):
    write_data(datadir, "bl.txt", BL)
    p = run_rblkit(["serve", "-b", "127.0.0.1/0", "--allow-transfer", bad,
                    "bl.test:ip4set:bl.txt"], cwd=datadir)
    assert p.returncode != 0 and "invalid --allow-transfer" in p.stderr, p.stderr


# --------------------------------------------------------------------------
# real secondaries

_NET_RX = re.compile(r"([0-9a-f:.]+)/(\d+)")


def _txt_ok(ip, primary_txt, secondary_txt):
    """Secondary TXT records agree with the primary's, allowing the documented
    wildcard form: "$" written as the covering network a.b.c.d/len."""
    if sorted(primary_txt) == sorted(secondary_txt):
        return True
    if len(primary_txt) != len(secondary_txt) or ip is None:
        return False
    rest = list(primary_txt)
    for t in secondary_txt:
        m = _NET_RX.search(t)
        if t in rest:
            rest.remove(t)
            continue
        if not m:
            return False
        net = ipaddress.ip_network(m.group(0), strict=True)
        if ipaddress.ip_address(ip) not in net:
            return False
        plain = t.replace(m.group(0), ip)
        if plain not in rest:
            return False
        rest.remove(plain)
    return not rest


def _compare(prim, sec, zone, queries):
    """queries: (name relative to zone, ip or None).  Returns mismatches."""
    bad = []
    for rel, ip in queries:
        name = f"{rel}.{zone}" if rel else zone
        ra, sa = prim.query(name, "A"), sec.query(name, "A")
        if (rcode(ra), a_values(ra)) != (rcode(sa), a_values(sa)):
            bad.append(f"{name} A: rblkit {rcode(ra)} {a_values(ra)}, "
                       f"{sec.kind} {rcode(sa)} {a_values(sa)}")
            continue
        rt, st = prim.query(name, "TXT"), sec.query(name, "TXT")
        if rcode(rt) != rcode(st) or not _txt_ok(ip, txt_values(rt), txt_values(st)):
            bad.append(f"{name} TXT: rblkit {rcode(rt)} {txt_values(rt)}, "
                       f"{sec.kind} {rcode(st)} {txt_values(st)}")
    return bad


@pytest.fixture(scope="module", params=["nsd", "knot"])
def secondary(request, primary):
    exe = {"nsd": "/usr/sbin/nsd", "knot": "/usr/sbin/knotd"}[request.param]
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} is required: apt-get install {request.param}", pytrace=False)
    if os.geteuid() != 0:
        pytest.skip("the secondaries are run as root (no username switch)")
    sec = Secondary(request.param, ZONES, primary.port).start()
    try:
        for z in ZONES:
            serial = _serial(primary, z)
            if not sec.wait_serial(serial, timeout=20, zone=z):
                pytest.fail(f"{request.param} did not transfer {z} (serial {serial}) "
                            f"from rblkit within 20 s; its log:\n{sec.log_text()[-4000:]}"
                            f"\nrblkit stderr:\n{primary.stderr_text()[-2000:]}")
        yield sec
    finally:
        sec.stop()


def test_secondary_answers_like_rblkit_ip4set(primary, secondary):
    queries = [(_rel4(ip), ip) for ip in BL_LISTED + BL_NOT_LISTED]
    queries += [("www", None), ("nope", None)]
    bad = _compare(primary, secondary, "bl.test", queries)
    assert not bad, "\n".join(bad)
    # the listed addresses really are listed (the comparison is not vacuous)
    for ip in BL_LISTED:
        assert a_values(secondary.query(rev4(ip, "bl.test"))), ip
    for ip in BL_NOT_LISTED:
        assert rcode(secondary.query(rev4(ip, "bl.test"))) == "NXDOMAIN", ip


def test_secondary_wildcard_txt_has_network_form(primary, secondary):
    # documented difference: "$" of a wildcard-covered address is its network
    r = secondary.query(rev4("10.200.3.4", "bl.test"), "TXT")
    assert txt_values(r) == ["Listed 10.200.0.0/16"]
    r = secondary.query(rev4("172.16.15.255", "bl.test"), "TXT")
    assert txt_values(r) == ["Twenty 172.16.15.0/24"]
    r = primary.query(rev4("10.200.3.4", "bl.test"), "TXT")
    assert txt_values(r) == ["Listed 10.200.3.4"]


def test_secondary_apex_records(primary, secondary):
    for t in ("SOA", "NS", "TXT"):
        p, s = primary.query("bl.test", t), secondary.query("bl.test", t)
        assert rcode(p) == rcode(s) == "NOERROR"
        assert rrset_values(p, t) == rrset_values(s, t), t


def test_secondary_answers_like_rblkit_dnset(primary, secondary):
    bad = _compare(primary, secondary, "dn.test", [(n, None) for n in DN_NAMES])
    assert not bad, "\n".join(bad)
    assert a_values(secondary.query("a.b.wild.example.dn.test")) == ["127.0.1.2"]


def test_secondary_answers_like_rblkit_ip6trie(primary, secondary):
    queries = []
    for ip in V6_ADDRS:
        full = ipaddress.IPv6Address(ip).exploded.replace(":", "")
        queries.append((".".join(reversed(full)), ipaddress.IPv6Address(ip).compressed))
    bad = _compare(primary, secondary, "v6.test", queries)
    assert not bad, "\n".join(bad)
    name = ".".join(reversed(ipaddress.IPv6Address("2001:db8:3::1").exploded.replace(":", "")))
    assert a_values(secondary.query(name + ".v6.test")) == ["127.0.0.2"]


def test_secondary_answers_like_rblkit_multi_dataset_zone(primary, secondary):
    # an address listed by a CIDR in one dataset and by itself in another
    # must keep both answers on the secondary, and its neighbours the first
    queries = [(_rel4(ip), ip) for ip in MULTI_NAMES]
    bad = _compare(primary, secondary, "multi.test", queries)
    assert not bad, "\n".join(bad)


# --------------------------------------------------------------------------
# a reload reaches the secondary


def test_secondary_follows_a_reload(rblkit_server, datadir):
    if os.geteuid() != 0:
        pytest.skip("the secondary is run as root (no username switch)")
    old = int(time.time()) - 1000
    # refresh and retry of 1 s so that NSD asks for the SOA again soon
    soa = "$SOA 3600 ns1.re.test hostmaster.re.test 0 1 1 1w 10m\n"
    write_data(datadir, "re.txt", soa + "127.0.0.2\n", mtime=old)
    prim = rblkit_server(["re.test:ip4set:re.txt"], datadir, ["-c", "0"])
    s1 = _serial(prim, "re.test")
    sec = Secondary("nsd", ["re.test"], prim.port).start()
    try:
        assert sec.wait_serial(s1, 20, "re.test"), sec.log_text()[-3000:]
        assert rcode(sec.query(rev4("192.0.2.50", "re.test"))) == "NXDOMAIN"
        write_data(datadir, "re.txt", soa + "127.0.0.2\n192.0.2.50\n")
        prim.proc.send_signal(1)        # SIGHUP
        s2 = wait_for(lambda: _serial(prim, "re.test") != s1 and _serial(prim, "re.test"))
        assert s2 and s2 > s1, "the serial must grow when the data changes"
        assert sec.wait_serial(s2, 20, "re.test"), sec.log_text()[-3000:]
        assert a_values(sec.query(rev4("192.0.2.50", "re.test"))) == ["127.0.0.2"]
    finally:
        sec.stop()


# --------------------------------------------------------------------------
# NOTIFY (RFC 1996): secondaries hear of a reload at once

# refresh and retry of an hour: without a NOTIFY the secondary would not
# ask for the new serial during the test
SLOW_SOA = "$SOA 3600 ns1.nt.test hostmaster.nt.test 0 1h 1h 1w 10m\n$NS 3600 ns1.nt.test\n"


@pytest.mark.parametrize("kind", ["nsd", "knot"])
def test_notify_brings_the_new_serial_to_the_secondary(rblkit_server, datadir, kind):
    exe = {"nsd": "/usr/sbin/nsd", "knot": "/usr/sbin/knotd"}[kind]
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} is required: apt-get install {kind}", pytrace=False)
    if os.geteuid() != 0:
        pytest.skip("the secondary is run as root (no username switch)")
    old = int(time.time()) - 1000
    write_data(datadir, "nt.txt", SLOW_SOA + "127.0.0.2\n", mtime=old)
    prim_port = servers.free_port()
    sec = Secondary(kind, ["nt.test"], prim_port)
    prim = servers.start_rblkit(["nt.test:ip4set:nt.txt"], datadir,
                                ["-c", "0", "--notify", f"127.0.0.1:{sec.port}"],
                                port=prim_port)
    try:
        sec.start()
        s1 = _serial(prim, "nt.test")
        assert sec.wait_serial(s1, 20, "nt.test"), sec.log_text()[-3000:]
        assert rcode(sec.query(rev4("192.0.2.50", "nt.test"))) == "NXDOMAIN"
        with open(os.path.join(datadir, "nt.txt"), "a") as f:
            f.write("192.0.2.50\n")
        prim.proc.send_signal(1)        # SIGHUP
        s2 = wait_for(lambda: _serial(prim, "nt.test") != s1 and _serial(prim, "nt.test"))
        assert s2 and s2 > s1
        assert sec.wait_serial(s2, 20, "nt.test"), \
            (f"{kind} did not get serial {s2} after the NOTIFY (refresh is 1 h)\n"
             + sec.log_text()[-3000:] + "\nrblkit:\n" + prim.stderr_text()[-2000:])
        assert a_values(sec.query(rev4("192.0.2.50", "nt.test"))) == ["127.0.0.2"]
        assert wait_for(lambda: "acknowledged by 127.0.0.1:%d" % sec.port
                        in prim.stderr_text(), 10), prim.stderr_text()
    finally:
        sec.stop()
        prim.__exit__(None, None, None)


def test_notify_is_retried_until_answered(rblkit_server, datadir):
    import socket
    import struct
    fake = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fake.bind(("127.0.0.1", 0))
    fake.settimeout(10)
    write_data(datadir, "nt.txt", SLOW_SOA + "127.0.0.2\n", mtime=int(time.time()) - 1000)
    srv = rblkit_server(["nt.test:ip4set:nt.txt"], datadir,
                        ["-c", "0", "--notify", "127.0.0.1:%d" % fake.getsockname()[1]])
    try:
        with open(os.path.join(datadir, "nt.txt"), "a") as f:
            f.write("192.0.2.50\n")
        srv.proc.send_signal(1)
        got = []
        while len(got) < 3:             # ignore two, answer the third
            data, addr = fake.recvfrom(512)
            got.append(data)
            # queries are answered while the NOTIFY waits for its answer
            assert a_values(srv.query(rev4("192.0.2.50", "nt.test"))) == ["127.0.0.2"]
        m = dns.message.from_wire(got[0])
        assert m.opcode() == dns.opcode.NOTIFY and m.flags & dns.flags.AA
        assert m.question[0].name.to_text() == "nt.test."
        assert m.question[0].rdtype == dns.rdatatype.SOA
        assert len({g[:2] for g in got}) == 1, "a retry keeps its message ID"
        reply = bytearray(got[2][:12])
        reply[2] |= 0x80
        fake.sendto(bytes(reply) + got[2][12:], addr)
        assert wait_for(lambda: "acknowledged by 127.0.0.1" in srv.stderr_text(), 10), \
            srv.stderr_text()
    finally:
        fake.close()


def test_notify_rejects_bad_targets(datadir):
    write_data(datadir, "bl.txt", BL)
    for bad in ("example.org", "127.0.0.1:0", "127.0.0.1:99999", "[::1", "::1]:53"):
        p = run_rblkit(["serve", "-b", "127.0.0.1/0", "--notify", bad, "bl.test:ip4set:bl.txt"],
                       cwd=datadir)
        assert p.returncode != 0 and "invalid --notify" in p.stderr, (bad, p.stderr)


def test_slow_transfer_does_not_block_other_tcp_clients(rblkit_server, datadir):
    # A secondary that stops reading in the middle of a large transfer must
    # not hold up queries from other TCP clients: transfers run on threads
    # of their own.
    import random
    import socket
    rnd = random.Random(42)
    lines = [zone_header("big.test"), ":127.0.0.2:Listed $\n", "127.0.0.2\n"]
    lines += ["%d.%d.%d.%d\n" % (rnd.randrange(1, 224), rnd.randrange(256),
                                 rnd.randrange(256), rnd.randrange(256))
              for _ in range(60000)]
    write_data(datadir, "big.txt", "".join(lines))
    srv = rblkit_server(["big.test:ip4set:big.txt"], datadir)
    stalled = tcp_connect(srv.port)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(frame(dns.message.make_query("big.test", "AXFR").to_wire()))
    time.sleep(0.5)                    # the transfer fills the socket buffers
    try:
        for _ in range(3):
            reply = srv.query(rev4("127.0.0.2", "big.test"), "A", tcp=True, timeout=3)
            assert reply.rcode() == dns.rcode.NOERROR
            assert a_values(reply) == ["127.0.0.2"]
    finally:
        stalled.close()
