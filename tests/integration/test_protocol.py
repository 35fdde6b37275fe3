"""DNS protocol behaviour of `rblkit serve` that operators and resolvers rely on.

One rblkit instance (module scope) serves these zones from a temp directory:
  bl.test  ip4set bl.txt + ip4set bl2.txt + generic gen.txt
  v6.test  ip6trie v6.txt
  dn.test  dnset dn.txt
Tests that need other options (TCP idle time, IPv6 listener, -v) start their
own instance.  Queries go over UDP without EDNS unless the test says otherwise.

Where rblkit intentionally differs from rbldnsd, the test says so.
"""

import ipaddress
import os
import random
import shutil
import socket
import struct
import sys

import pytest

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from helpers_proto import (  # noqa: E402
    a_values, frame, free_port_both, have_ipv6_loopback, nibbles6,
    rcode, rev4, rrset_values, tcp_connect, tcp_read_msg, txt_values, udp_exchange,
    write_data, zone_header)

MID_LINES = 8      # ~0.9 KB of TXT: more than 512, less than 1232
HUGE_LINES = 30    # ~3.4 KB of TXT: more than any UDP answer rblkit sends
TXT_FILL = "x" * 90


def _mid(i):
    return f"mid-{i:02d} {TXT_FILL}"


def _huge(i):
    return f"huge-{i:02d} {TXT_FILL}"


BL = zone_header("bl.test") + """\
:127.0.0.2:Listed $
127.0.0.2
10.0.0.0/8
!10.1.2.3
192.0.2.7 :127.0.0.4:Special $ here
"""

BL2 = """\
:127.0.0.3:Also listed $
127.0.0.2
192.0.2.99
"""

GEN = ("www A 127.0.0.8\n"
       "@ TXT about bl.test\n"
       + "".join(f'mid TXT "{_mid(i)}"\n' for i in range(MID_LINES))
       + "".join(f'huge TXT "{_huge(i)}"\n' for i in range(HUGE_LINES)))

V6 = zone_header("v6.test") + """\
:127.0.0.2:v6 listed $
2001:db8::/32
!2001:db8::bad
2001:db8:1::1 :127.0.0.5:host $
"""

DN = zone_header("dn.test") + """\
:127.0.1.2:Domain $ listed
exact.example
*.wild.example
.both.example
!ok.wild.example
"""

SPECS = ["bl.test:ip4set:bl.txt", "bl.test:ip4set:bl2.txt", "bl.test:generic:gen.txt",
         "v6.test:ip6trie:v6.txt", "dn.test:dnset:dn.txt"]


def _write_all(d):
    write_data(d, "bl.txt", BL)
    write_data(d, "bl2.txt", BL2)
    write_data(d, "gen.txt", GEN)
    write_data(d, "v6.txt", V6)
    write_data(d, "dn.txt", DN)


@pytest.fixture(scope="module")
def datadir_mod():
    d = servers.make_datadir()
    _write_all(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def srv(datadir_mod):
    if not os.access(servers.RBLKIT, os.X_OK):
        pytest.fail(f"rblkit binary not found at {servers.RBLKIT}: run make", pytrace=False)
    s = servers.start_rblkit(SPECS, datadir_mod)
    yield s
    s.__exit__(None, None, None)


def _assert_alive(srv):
    assert srv.running(), "rblkit exited:\n" + srv.stderr_text()
    r = srv.query(rev4("127.0.0.2", "bl.test"), "A")
    assert rcode(r) == "NOERROR" and a_values(r), r.to_text()


def _soa_in_authority(resp, zone):
    soas = [rr for rr in resp.authority if rr.rdtype == dns.rdatatype.SOA]
    assert len(soas) == 1, resp.to_text()
    assert soas[0].name.to_text().lower() == zone + "."
    return soas[0]


# --------------------------------------------------------------------------
# answers for IPv4 lists


def test_listed_address_a_and_txt(srv):
    r = srv.query(rev4("192.0.2.7", "bl.test"), "A")
    assert rcode(r) == "NOERROR"
    assert a_values(r) == ["127.0.0.4"]
    r = srv.query(rev4("192.0.2.7", "bl.test"), "TXT")
    assert rcode(r) == "NOERROR"
    # the per-entry template, "$" replaced by the queried address
    assert txt_values(r) == ["Special 192.0.2.7 here"]
    # an address listed only through 10.0.0.0/8 gets the default line
    r = srv.query(rev4("10.20.30.40", "bl.test"), "TXT")
    assert txt_values(r) == ["Listed 10.20.30.40"]
    r = srv.query(rev4("10.20.30.40", "bl.test"), "A")
    assert a_values(r) == ["127.0.0.2"]
    # default TTL (-t): 35 minutes
    assert r.answer[0].ttl == 2100


def test_unlisted_and_excluded_are_nxdomain_with_soa(srv):
    for ip in ("127.0.0.1", "10.1.2.3", "198.51.100.1"):
        r = srv.query(rev4(ip, "bl.test"), "A")
        assert rcode(r) == "NXDOMAIN", (ip, r.to_text())
        assert not r.answer, r.to_text()
        soa = _soa_in_authority(r, "bl.test")
        # negative answers are cached for the SOA minimum (RFC 2308)
        assert soa.ttl == 600
        assert soa[0].minimum == 600


def test_empty_non_terminal_is_nodata(srv):
    # 127.0.0.2 is listed, so 0.0.127.bl.test and 127.bl.test exist as empty
    # non-terminals.  rblkit answers NOERROR with no records (RFC 8020: an
    # NXDOMAIN there would tell a resolver that the whole subtree is gone);
    # rbldnsd differs: it answers NXDOMAIN.
    for name in ("0.0.127.bl.test", "127.bl.test", "2.1.10.bl.test"):
        r = srv.query(name, "A")
        assert rcode(r) == "NOERROR", (name, r.to_text())
        assert not r.answer, r.to_text()
        _soa_in_authority(r, "bl.test")
        assert r.flags & dns.flags.AA
    # no listed address below 0.0.126: that one really does not exist
    r = srv.query("0.0.126.bl.test", "A")
    assert rcode(r) == "NXDOMAIN", r.to_text()


def test_authoritative_answer_flag(srv):
    cases = [(rev4("127.0.0.2", "bl.test"), "A"), (rev4("127.0.0.1", "bl.test"), "A"),
             ("bl.test", "SOA"), ("0.0.127.bl.test", "TXT")]
    for name, t in cases:
        r = srv.query(name, t)
        assert r.flags & dns.flags.QR
        assert r.flags & dns.flags.AA, (name, t, r.to_text())
        # an authoritative-only server offers no recursion
        assert not r.flags & dns.flags.RA, (name, t)


def test_refused_outside_served_zones(srv):
    for name in ("example.com", "test", "xbl.test", "2.0.0.127.in-addr.arpa"):
        r = srv.query(name, "A")
        assert rcode(r) == "REFUSED", (name, r.to_text())
        assert not r.answer and not r.authority
        assert not r.flags & dns.flags.AA


def test_qname_case_is_preserved(srv):
    # resolvers using 0x20 mixed case drop replies whose question differs
    q = dns.message.make_query("2.0.0.127.Bl.TeSt", "A")
    wire = q.to_wire()
    reply = udp_exchange(wire, srv.port)
    assert reply is not None
    qlen = len(wire) - 12
    assert reply[12:12 + qlen] == wire[12:], "question not copied verbatim"
    r = dns.message.from_wire(reply)
    assert rcode(r) == "NOERROR" and a_values(r) == ["127.0.0.2", "127.0.0.3"]


# --------------------------------------------------------------------------
# apex, ANY, several datasets


def test_soa_and_ns_at_apex(srv):
    r = srv.query("bl.test", "SOA")
    assert rcode(r) == "NOERROR"
    soas = [rr for rr in r.answer if rr.rdtype == dns.rdatatype.SOA]
    assert len(soas) == 1 and len(soas[0]) == 1, r.to_text()
    soa = soas[0][0]
    assert soa.mname.to_text() == "ns1.bl.test."
    assert soa.rname.to_text() == "hostmaster.bl.test."
    assert (soa.refresh, soa.retry, soa.expire, soa.minimum) == (7200, 3600, 604800, 600)
    assert soa.serial > 0       # serial 0 in $SOA: the data file's mtime
    assert soas[0].ttl == 3600
    r = srv.query("bl.test", "NS")
    assert rcode(r) == "NOERROR"
    assert rrset_values(r, "NS") == ["ns1.bl.test.", "ns2.bl.test."]
    assert r.answer[0].ttl == 3600


def test_positive_answer_carries_ns_in_authority(srv):
    # rbldnsd's default (-A): NS records in the authority section
    r = srv.query(rev4("192.0.2.7", "bl.test"), "A")
    assert rrset_values(r, "NS", "authority") == ["ns1.bl.test.", "ns2.bl.test."]


def test_any_query(srv):
    r = srv.query(rev4("192.0.2.7", "bl.test"), "ANY")
    assert rcode(r) == "NOERROR"
    assert a_values(r) == ["127.0.0.4"]
    assert txt_values(r) == ["Special 192.0.2.7 here"]
    r = srv.query("bl.test", "ANY")
    assert rcode(r) == "NOERROR"
    assert len(rrset_values(r, "SOA")) == 1
    assert rrset_values(r, "NS") == ["ns1.bl.test.", "ns2.bl.test."]
    assert txt_values(r) == ["about bl.test"]      # the generic dataset's apex TXT


def test_address_in_two_datasets_gets_both_values(srv):
    name = rev4("127.0.0.2", "bl.test")
    r = srv.query(name, "A")
    assert rcode(r) == "NOERROR"
    assert a_values(r) == ["127.0.0.2", "127.0.0.3"]
    r = srv.query(name, "TXT")
    assert txt_values(r) == ["Also listed 127.0.0.2", "Listed 127.0.0.2"]
    # listed in the second dataset only
    r = srv.query(rev4("192.0.2.99", "bl.test"), "A")
    assert a_values(r) == ["127.0.0.3"]


def test_generic_records(srv):
    r = srv.query("www.bl.test", "A")
    assert rcode(r) == "NOERROR" and a_values(r) == ["127.0.0.8"]
    # a name with records but not of the asked type: NODATA
    r = srv.query("www.bl.test", "TXT")
    assert rcode(r) == "NOERROR" and not r.answer
    _soa_in_authority(r, "bl.test")


# --------------------------------------------------------------------------
# EDNS0 and message size


def test_edns_opt_echoed_only_when_asked(srv):
    name = rev4("127.0.0.2", "bl.test")
    r = srv.query(name, "A", use_edns=0, payload=4096)
    assert r.edns == 0, "no OPT record in the reply to an EDNS query"
    assert r.payload >= 512
    assert a_values(r) == ["127.0.0.2", "127.0.0.3"]
    r = srv.query(name, "A")
    assert r.edns == -1, "OPT record in the reply to a query without EDNS"
    # the OPT is echoed on negative answers too
    r = srv.query(rev4("127.0.0.1", "bl.test"), "A", use_edns=0)
    assert rcode(r) == "NXDOMAIN" and r.edns == 0


def test_edns_unknown_version_is_badvers(srv):
    # RFC 6891 6.1.3: a responder that does not implement the version answers
    # BADVERS with an OPT of the version it does implement
    q = dns.message.make_query(rev4("127.0.0.2", "bl.test"), "A")
    q.use_edns(edns=1)      # (make_query(use_edns=1) means True: version 0)
    assert q.to_wire()[-5] == 1     # OPT TTL: ext-rcode, version, flags
    r = srv.query(q)
    assert r.rcode() == dns.rcode.BADVERS, rcode(r)
    assert r.edns == 0
    assert not r.answer


def test_large_answer_truncated_over_udp_without_edns(srv):
    r = srv.query("mid.bl.test", "TXT")
    assert r.flags & dns.flags.TC, "a ~0.9 KB answer in a 512-byte UDP reply must set TC"
    # whatever part of the answer is there must be real, never a mix
    assert len(txt_values(r)) < MID_LINES


def test_large_answer_complete_over_tcp_and_with_edns(srv):
    want = sorted(_mid(i) for i in range(MID_LINES))
    r = srv.query("mid.bl.test", "TXT", tcp=True)
    assert not r.flags & dns.flags.TC
    assert txt_values(r) == want
    r = srv.query("mid.bl.test", "TXT", use_edns=0, payload=4096)
    assert not r.flags & dns.flags.TC, "fits in 1232 bytes, must not be truncated"
    assert txt_values(r) == want
    assert len(r.to_wire()) > 512


def test_answer_larger_than_udp_limit(srv):
    want = sorted(_huge(i) for i in range(HUGE_LINES))
    r = srv.query("huge.bl.test", "TXT", tcp=True)
    assert not r.flags & dns.flags.TC
    assert txt_values(r) == want
    # rblkit caps UDP replies at 1232 bytes (DNS flag day 2020) even when the
    # client offers 4096; a ~3.4 KB answer then must set TC: it may never be
    # cut silently (rbldnsd differs: it drops what does not fit, without TC)
    r = srv.query("huge.bl.test", "TXT", use_edns=0, payload=4096)
    assert (r.flags & dns.flags.TC) or txt_values(r) == want, r.to_text()
    assert r.flags & dns.flags.TC or len(r.to_wire()) <= 4096


# --------------------------------------------------------------------------
# TCP


def test_tcp_pipelined_queries_on_one_connection(srv):
    cases = {
        0x1001: (rev4("127.0.0.2", "bl.test"), "A", ["127.0.0.2", "127.0.0.3"]),
        0x1002: (rev4("192.0.2.7", "bl.test"), "A", ["127.0.0.4"]),
        0x1003: (rev4("127.0.0.1", "bl.test"), "A", None),
        0x1004: ("www.bl.test", "A", ["127.0.0.8"]),
        0x1005: (nibbles6("2001:db8::1", "v6.test"), "A", ["127.0.0.2"]),
    }
    blob = b""
    for qid, (name, t, _) in cases.items():
        q = dns.message.make_query(name, t)
        q.id = qid
        blob += frame(q.to_wire())
    with tcp_connect(srv.port) as s:
        # all queries in one write: the server must split them by length
        s.sendall(blob)
        got = {}
        for _ in cases:
            data = tcp_read_msg(s)
            assert data is not None, f"connection closed after {len(got)} answers"
            m = dns.message.from_wire(data)
            got[m.id] = m
        # and a query split across two writes on the same connection
        q = dns.message.make_query(rev4("10.9.9.9", "bl.test"), "A")
        q.id = 0x1006
        w = frame(q.to_wire())
        s.sendall(w[:5])
        s.sendall(w[5:])
        data = tcp_read_msg(s)
        assert data is not None
        m = dns.message.from_wire(data)
        assert m.id == 0x1006 and a_values(m) == ["127.0.0.2"]
    assert sorted(got) == sorted(cases)
    for qid, (name, t, want) in cases.items():
        m = got[qid]
        assert m.question[0].name.to_text().rstrip(".") == name
        if want is None:
            assert rcode(m) == "NXDOMAIN"
        else:
            assert rcode(m) == "NOERROR" and a_values(m) == want, (name, m.to_text())


def test_tcp_idle_connection_is_closed(rblkit_server, datadir):
    _write_all(datadir)
    s = rblkit_server(SPECS, datadir, ["--tcp-idle", "500"])
    with tcp_connect(s.port, timeout=8.0) as c:
        q = dns.message.make_query(rev4("127.0.0.2", "bl.test"), "A")
        c.sendall(frame(q.to_wire()))
        data = tcp_read_msg(c)
        assert data is not None and a_values(dns.message.from_wire(data))
        # now stay silent: the server must close the connection after ~0.5 s;
        # we wait up to 8 s (a generous timeout, not a timing assertion)
        try:
            rest = c.recv(1)
        except socket.timeout:
            pytest.fail("rblkit did not close a TCP connection idle for 8 s "
                        "with --tcp-idle 500")
        except ConnectionResetError:
            rest = b""
        assert rest == b""
    # a connection that never sends anything is closed as well
    with tcp_connect(s.port, timeout=8.0) as c:
        try:
            rest = c.recv(1)
        except socket.timeout:
            pytest.fail("rblkit did not close a silent TCP connection within 8 s "
                        "with --tcp-idle 500")
        except ConnectionResetError:
            rest = b""
        assert rest == b""
    assert s.running()


# --------------------------------------------------------------------------
# malformed and unusual requests


def _header(qid, flags, qd, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def _question(name, qtype=1, qclass=1):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0" + struct.pack("!HH", qtype, qclass)


def test_formerr_for_two_questions(srv):
    wire = (_header(0x2222, 0x0000, 2) + _question("2.0.0.127.bl.test")
            + _question("1.0.0.127.bl.test"))
    reply = srv.query_wire(wire)
    assert reply is not None, "no reply to a query with QDCOUNT=2"
    m = dns.message.from_wire(reply)
    assert m.id == 0x2222
    assert m.flags & dns.flags.QR
    assert rcode(m) == "FORMERR"
    assert not m.answer


@pytest.mark.parametrize("opcode", [1, 2, 4, 5])   # IQUERY, STATUS, NOTIFY, UPDATE
def test_notimp_for_other_opcodes(srv, opcode):
    wire = _header(0x3333, (opcode << 11) | 0x0100, 1) + _question("2.0.0.127.bl.test")
    reply = srv.query_wire(wire)
    assert reply is not None, f"no reply to opcode {opcode}"
    # parsed by hand: dnspython reads opcode 5 replies as UPDATE messages
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", reply[:12])
    assert qid == 0x3333
    assert flags & 0x8000, "QR not set"
    assert flags & 15 == dns.rcode.NOTIMP, f"rcode {flags & 15}"
    assert an == 0 and ns == 0


@pytest.mark.parametrize("opcode", [1, 4])
def test_notimp_reply_echoes_opcode(srv, opcode):
    # RFC 1035 4.1.1: the OPCODE "is set by the originator of a query and
    # copied into the response".  Clients match replies on it: dnspython's
    # is_response() and dig ("Opcode mismatch") reject a reply whose opcode
    # differs, so a NOTIFY (opcode 4) sent to rblkit by a hidden primary
    # never sees the NOTIMP.  rbldnsd differs: it answers with opcode QUERY;
    # rblkit copies that (query.c "as rbldnsd, reply QUERY"), which this test
    # reports as a protocol bug.
    wire = _header(0x3334, opcode << 11, 1) + _question("bl.test", 6)
    reply = srv.query_wire(wire)
    assert reply is not None
    flags = struct.unpack("!H", reply[2:4])[0]
    assert flags & 15 == dns.rcode.NOTIMP
    assert (flags >> 11) & 15 == opcode, \
        f"reply opcode {(flags >> 11) & 15}, query opcode {opcode}"


def _opt(options=b"", size=1232, rdlen=None):
    """An OPT RR (root owner) with the given raw option bytes."""
    rdlen = len(options) if rdlen is None else rdlen
    return b"\0" + struct.pack("!HHIH", 41, size, 0, rdlen) + options


def _reply_has_opt(reply):
    m = dns.message.from_wire(reply)
    return m.edns >= 0


def test_formerr_without_question_carries_opt(srv):
    # RFC 6891 6.1.1: a responder that understands EDNS puts an OPT into
    # every response to a request with OPT, FORMERR included
    reply = srv.query_wire(_header(0x4444, 0x0100, 0, ar=1) + _opt())
    assert reply is not None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", reply[:12])
    assert qid == 0x4444 and flags & 15 == dns.rcode.FORMERR
    assert qd == 0 and ar == 1, f"no OPT in the FORMERR (ARCOUNT {ar})"
    assert _reply_has_opt(reply)


def test_formerr_for_two_questions_carries_opt(srv):
    q = _question("2.0.0.127.bl.test")
    reply = srv.query_wire(_header(0x4445, 0x0100, 2, ar=1) + q + q + _opt())
    assert reply is not None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", reply[:12])
    assert flags & 15 == dns.rcode.FORMERR and ar == 1 and _reply_has_opt(reply)


def test_header_only_other_opcode_is_notimp(srv):
    # dig +header-only +opcode=15: no question, an opcode we do not know
    reply = srv.query_wire(_header(0x4545, (15 << 11) | 0x0100, 0))
    assert reply is not None
    flags = struct.unpack("!H", reply[2:4])[0]
    assert flags & 15 == dns.rcode.NOTIMP, f"rcode {flags & 15}"
    assert (flags >> 11) & 15 == 15


def test_opt_option_running_past_rdata_is_formerr(srv):
    q = _question("2.0.0.127.bl.test")
    # one option (code 10, cookie) claiming 16 bytes where 8 follow
    bad = struct.pack("!HH", 10, 16) + b"\x01" * 8
    reply = srv.query_wire(_header(0x4646, 0x0100, 1, ar=1) + q + _opt(bad))
    assert reply is not None
    assert struct.unpack("!H", reply[2:4])[0] & 15 == dns.rcode.FORMERR
    # an option header cut short (2 of its 4 bytes)
    reply = srv.query_wire(_header(0x4647, 0x0100, 1, ar=1) + q + _opt(b"\0\x0a"))
    assert struct.unpack("!H", reply[2:4])[0] & 15 == dns.rcode.FORMERR
    # the same option with its right length is answered
    good = struct.pack("!HH", 10, 8) + b"\x01" * 8
    reply = srv.query_wire(_header(0x4648, 0x0100, 1, ar=1) + q + _opt(good))
    m = dns.message.from_wire(reply)
    assert rcode(m) == "NOERROR" and a_values(m)


@pytest.mark.parametrize("qtype", ["CAA", "URI", "TYPE65534", "TYPE256", "TYPE4000"])
def test_unknown_types_are_nodata(srv, qtype):
    # RFC 3597: a type the server has no data of is NODATA (Unbound makes
    # NOTIMP a SERVFAIL); at a listed name and at the apex
    for name in (rev4("127.0.0.2", "bl.test"), "bl.test"):
        r = srv.query(name, qtype)
        assert rcode(r) == "NOERROR", (name, qtype, r.to_text())
        assert not r.answer and r.flags & dns.flags.AA
        _soa_in_authority(r, "bl.test")
    r = srv.query(rev4("127.0.0.1", "bl.test"), qtype)
    assert rcode(r) == "NXDOMAIN"


def test_malformed_packets_do_not_kill_the_server(srv):
    rnd = random.Random(5782)
    good_q = _question("2.0.0.127.bl.test")
    packets = [
        b"", b"\x00", b"\x12\x34\x01", _header(1, 0, 1)[:11],
        _header(2, 0, 1),                                  # question missing
        _header(3, 0, 1) + good_q[:5],                     # question cut short
        _header(4, 0, 1) + b"\xc0\x0c\x00\x01\x00\x01",    # pointer to itself
        _header(5, 0, 1) + b"\x01a\xc0\x0c\x00\x01\x00\x01",   # pointer loop
        _header(6, 0, 1) + b"\xc0\x40\x00\x01\x00\x01",    # forward pointer
        _header(7, 0, 1) + b"\x40" + b"a" * 64 + b"\0\x00\x01\x00\x01",  # label 64
        _header(8, 0, 1) + (b"\x3f" + b"a" * 63) * 5 + b"\0\x00\x01\x00\x01",  # > 255
        _header(9, 0, 1, ar=1) + good_q + b"\0\x00\x29\x10",   # OPT cut short
        _header(10, 0, 1, ar=2) + good_q + (b"\0\x00\x29\x10\x00\0\0\0\0\0\0") * 2,
        _header(11, 0, 1, an=0xffff) + good_q,             # counts lie
        _header(12, 0x8000, 1) + good_q,                   # a response: dropped
        _header(13, 0, 1) + good_q + b"trailing garbage",
    ]
    packets += [bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 600)))
                for _ in range(300)]
    # fire them all from one socket without waiting for replies, in batches,
    # checking between batches that the server still answers
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i, p in enumerate(packets):
            sock.sendto(p, (servers.LOOPBACK, srv.port))
            if i % 50 == 49:
                _assert_alive(srv)
    finally:
        sock.close()
    _assert_alive(srv)
    # a reply to a packet with a bad name says FORMERR, with the query's id
    for p in packets[6:11]:
        reply = srv.query_wire(p)
        assert reply is not None, f"no reply to {p[:20]!r}"
        m = dns.message.from_wire(reply, ignore_trailing=True)
        assert m.id == struct.unpack("!H", p[:2])[0]
        assert rcode(m) == "FORMERR", (p[:20], rcode(m))
    # a response packet is never answered (no reflection loops)
    response = [p for p in packets if p[:4] == _header(12, 0x8000, 1)[:4]]
    assert len(response) == 1
    assert srv.query_wire(response[0], timeout=0.5) is None


def test_malformed_tcp_messages_do_not_kill_the_server(srv):
    good = dns.message.make_query(rev4("127.0.0.2", "bl.test"), "A")
    good.id = 0x4444
    with tcp_connect(srv.port) as s:
        s.sendall(frame(b"\x00\x01\x02"))                  # too short: dropped
        s.sendall(frame(_header(0x4443, 0, 1) + b"\xc0\x0c\x00\x01\x00\x01"))
        s.sendall(frame(good.to_wire()))
        answers = []
        while True:
            data = tcp_read_msg(s)
            if data is None:
                break
            answers.append(dns.message.from_wire(data, ignore_trailing=True))
            if answers[-1].id == 0x4444:
                break
    # the connection may be closed after garbage, but the server must live
    if answers and answers[-1].id == 0x4444:
        assert a_values(answers[-1]) == ["127.0.0.2", "127.0.0.3"]
    with tcp_connect(srv.port) as s:      # zero-length message, then a query
        s.sendall(b"\x00\x00" + frame(good.to_wire()))
        try:
            tcp_read_msg(s)
        except OSError:
            pass
    _assert_alive(srv)
    r = srv.query(rev4("127.0.0.2", "bl.test"), "A", tcp=True)
    assert a_values(r) == ["127.0.0.2", "127.0.0.3"]


# --------------------------------------------------------------------------
# IPv6


def test_ipv6_listener(rblkit_server, datadir):
    if not have_ipv6_loopback():
        pytest.skip("this host has no ::1")
    _write_all(datadir)
    port = free_port_both()
    # servers.start_rblkit binds 127.0.0.1/port; add ::1 on the same port
    s = servers.Server("rblkit-v6")
    try:
        s.start(servers.rblkit_argv(SPECS, port, ["-b", f"::1/{port}"]), port,
                cwd=datadir, probe="bl.test")
        q = dns.message.make_query(rev4("127.0.0.2", "bl.test"), "A")
        r = dns.query.udp(q, "::1", port=port, timeout=2.0)
        assert rcode(r) == "NOERROR" and a_values(r) == ["127.0.0.2", "127.0.0.3"]
        r = dns.query.tcp(q, "::1", port=port, timeout=2.0)
        assert rcode(r) == "NOERROR" and a_values(r) == ["127.0.0.2", "127.0.0.3"]
    finally:
        s.__exit__(None, None, None)


def test_ip6trie_nibble_queries(srv):
    r = srv.query(nibbles6("2001:db8::1", "v6.test"), "A")
    assert rcode(r) == "NOERROR" and a_values(r) == ["127.0.0.2"]
    r = srv.query(nibbles6("2001:db8::1", "v6.test"), "TXT")
    txt = txt_values(r)
    assert len(txt) == 1 and txt[0].startswith("v6 listed "), txt
    assert ipaddress.IPv6Address(txt[0].split()[-1]) == ipaddress.IPv6Address("2001:db8::1")
    # the longest prefix answers
    r = srv.query(nibbles6("2001:db8:1::1", "v6.test"), "A")
    assert a_values(r) == ["127.0.0.5"]
    r = srv.query(nibbles6("2001:db8:1::1", "v6.test"), "TXT")
    assert txt_values(r) == ["host 2001:db8:1::1"]
    # excluded, and outside the listed /32
    for ip in ("2001:db8::bad", "2001:db9::1"):
        r = srv.query(nibbles6(ip, "v6.test"), "A")
        assert rcode(r) == "NXDOMAIN", (ip, r.to_text())
        assert not r.answer
    # a name that is not 32 nibbles is not an address
    r = srv.query("1.0.0.0.8.b.d.0.1.0.0.2.v6.test", "A")
    assert not r.answer


def test_ipv4_mapped_nibble_name_in_ip4set_zone(srv):
    # RFC 5782 section 5: the IPv6 test point ::FFFF:7F00:2, written as a
    # nibble name, is 127.0.0.2 and is listed in an IPv4 zone
    r = srv.query(nibbles6("::ffff:7f00:2", "bl.test"), "A")
    assert rcode(r) == "NOERROR", r.to_text()
    assert a_values(r) == ["127.0.0.2", "127.0.0.3"]
    r = srv.query(nibbles6("::ffff:7f00:2", "bl.test"), "TXT")
    assert "Listed 127.0.0.2" in txt_values(r)
    r = srv.query(nibbles6("::ffff:7f00:1", "bl.test"), "A")
    assert rcode(r) == "NXDOMAIN", r.to_text()


# --------------------------------------------------------------------------
# dnset


def test_dnset_wildcards(srv):
    def listed(name):
        r = srv.query(name + ".dn.test", "A")
        return rcode(r), a_values(r)

    assert listed("exact.example") == ("NOERROR", ["127.0.1.2"])
    # a plain entry does not cover subdomains
    assert listed("sub.exact.example") == ("NXDOMAIN", [])
    # "*.wild.example": every subdomain, at any depth, but not wild.example
    assert listed("a.wild.example") == ("NOERROR", ["127.0.1.2"])
    assert listed("a.b.wild.example") == ("NOERROR", ["127.0.1.2"])
    assert listed("wild.example")[1] == []
    # ".both.example": the name and its subdomains
    assert listed("both.example") == ("NOERROR", ["127.0.1.2"])
    assert listed("x.both.example") == ("NOERROR", ["127.0.1.2"])
    # an exclusion punches a hole into a wildcard, for that name only: its
    # subdomains are still covered by *.wild.example (as in rbldnsd), so
    # ok.wild.example has listed names below it and rblkit answers NODATA
    # there (rbldnsd: NXDOMAIN; see test_empty_non_terminal_is_nodata)
    assert listed("ok.wild.example")[1] == []
    assert listed("x.ok.wild.example") == ("NOERROR", ["127.0.1.2"])
    assert listed("other.example") == ("NXDOMAIN", [])
    r = srv.query("a.b.wild.example.dn.test", "TXT")
    # "$" is the listed entry (the wildcard's base name), as in rbldnsd
    assert txt_values(r) == ["Domain wild.example listed"]
    r = srv.query("exact.example.dn.test", "TXT")
    assert txt_values(r) == ["Domain exact.example listed"]


# --------------------------------------------------------------------------
# version.bind


def _version(port, name="version.bind"):
    q = dns.message.make_query(name, "TXT", rdclass=dns.rdataclass.CH)
    return dns.query.udp(q, servers.LOOPBACK, port=port, timeout=2.0)


def test_version_bind_ch_txt(srv):
    r = _version(srv.port)
    assert rcode(r) == "NOERROR"
    assert len(r.answer) == 1
    assert r.answer[0].rdclass == dns.rdataclass.CH
    txt = txt_values(r)
    assert len(txt) == 1 and txt[0].startswith("rblkit"), txt
    # other names in class CH are refused
    assert rcode(_version(srv.port, "hostname.bind")) == "REFUSED"


def test_version_bind_hidden_and_refused(rblkit_server, datadir):
    _write_all(datadir)
    s1 = rblkit_server(["bl.test:ip4set:bl.txt"], datadir, ["-v"])
    assert txt_values(_version(s1.port)) == ["rblkit"]   # no version number
    s2 = rblkit_server(["bl.test:ip4set:bl.txt"], datadir, ["-v", "-v"])
    r = _version(s2.port)
    assert rcode(r) == "REFUSED" and not r.answer
