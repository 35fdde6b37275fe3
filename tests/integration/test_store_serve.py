"""Serving a zone straight from the listing store: `rblkit serve
ZONE:store:DSN`, live changes, IXFR from the journal, NOTIFY.

The store is filled with `rblkit list` (the operator's tool), the answers are
read with dnspython, and NSD and Knot act as secondaries. Nothing is timed:
a change must be answered "eventually", within a generous bound, polled.
"""

import os
import re
import subprocess
import sys
import time

import pytest

import dns.message
import dns.query
import dns.rdatatype
import dns.rcode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from helpers_proto import (  # noqa: E402
    Secondary, a_values, nibbles6, rcode, rev4, txt_values, wait_for, write_data)

ZONE = "bl.test"
LIVE = 10.0             # "within 1 s" in production; generous here


def rblkit_list(dsn, *args, check=True):
    """Run `rblkit list --store DSN ARGS`; returns the CompletedProcess."""
    p = subprocess.run([servers.RBLKIT, "list", "--config", "/dev/null", "--store", dsn,
                        *args], capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"rblkit list {' '.join(args)}: {p.returncode}\n{p.stderr}")
    return p


@pytest.fixture
def store(datadir):
    """A fresh SQLite store with zone bl.test holding a few listings."""
    dsn = "sqlite:" + os.path.join(datadir, "list.db")
    rblkit_list(dsn, "add", ZONE, "127.0.0.2", "--reason", "test point")
    rblkit_list(dsn, "add", ZONE, "192.0.2.0/24", "--code", "127.0.0.3",
                "--reason", "net $")
    rblkit_list(dsn, "add", ZONE, "192.0.2.7", "--code", "127.0.0.4")
    write_data(datadir, "excl.txt", "!192.0.2.9\n")
    rblkit_list(dsn, "import", ZONE, os.path.join(datadir, "excl.txt"))
    return dsn


def serve(rblkit_server, datadir, dsn, extra=()):
    return rblkit_server([f"{ZONE}:store:{dsn}"], datadir, list(extra))


def answer(srv, ip, rdtype="A"):
    r = srv.query(rev4(ip, ZONE), rdtype)
    if rdtype == "TXT":
        return rcode(r), txt_values(r)
    return rcode(r), a_values(r)


def serial(srv):
    r = srv.query(ZONE, "SOA")
    return r.answer[0][0].serial if r.answer else None


def eventually(pred, timeout=LIVE):
    return wait_for(pred, timeout, 0.05)


# --------------------------------------------------------------------------
# answers


def test_longest_prefix_exclusion_and_txt(rblkit_server, datadir, store):
    srv = serve(rblkit_server, datadir, store)
    assert answer(srv, "192.0.2.7") == ("NOERROR", ["127.0.0.4"])
    assert answer(srv, "192.0.2.8") == ("NOERROR", ["127.0.0.3"])
    assert answer(srv, "192.0.2.8", "TXT") == ("NOERROR", ["net 192.0.2.8"])
    assert answer(srv, "192.0.2.9") == ("NXDOMAIN", [])     # "!net" inside the /24
    assert answer(srv, "198.51.100.1") == ("NXDOMAIN", [])
    soa = srv.query(ZONE, "SOA").answer[0][0]
    assert str(soa.mname) == "ns.bl.test." and soa.serial > 0
    assert a_values(srv.query(ZONE, "NS")) == [] and rcode(srv.query(ZONE, "NS")) == "NOERROR"


def test_ipv6_prefix_names_and_wildcards(rblkit_server, datadir, store):
    rblkit_list(store, "add", ZONE, "2001:db8:1:2::/64")
    rblkit_list(store, "add", ZONE, "spam.example", "--code", "127.0.0.5")
    rblkit_list(store, "add", ZONE, "*.wild.example", "--code", "127.0.0.6")
    srv = serve(rblkit_server, datadir, store)
    assert a_values(srv.query(nibbles6("2001:db8:1:2::99", ZONE))) == ["127.0.0.2"]
    assert rcode(srv.query(nibbles6("2001:db8:1:3::1", ZONE))) == "NXDOMAIN"
    assert a_values(srv.query("spam.example." + ZONE)) == ["127.0.0.5"]
    assert rcode(srv.query("x.spam.example." + ZONE)) == "NXDOMAIN"
    assert a_values(srv.query("a.b.wild.example." + ZONE)) == ["127.0.0.6"]
    assert rcode(srv.query("wild.example." + ZONE)) != "NOERROR" or \
        a_values(srv.query("wild.example." + ZONE)) == []


# --------------------------------------------------------------------------
# live changes


def test_add_remove_answered_live_and_serial_advances(rblkit_server, datadir, store):
    srv = serve(rblkit_server, datadir, store)
    s1 = serial(srv)
    rblkit_list(store, "add", ZONE, "203.0.113.5", "--code", "127.0.0.7")
    assert eventually(lambda: answer(srv, "203.0.113.5") == ("NOERROR", ["127.0.0.7"]))
    s2 = serial(srv)
    assert s2 > s1
    rblkit_list(store, "remove", ZONE, "203.0.113.5")
    assert eventually(lambda: answer(srv, "203.0.113.5")[0] == "NXDOMAIN")
    assert serial(srv) > s2


def test_removal_uncovers_the_shorter_match(rblkit_server, datadir, store):
    srv = serve(rblkit_server, datadir, store)
    rblkit_list(store, "remove", ZONE, "192.0.2.7")
    assert eventually(lambda: answer(srv, "192.0.2.7") == ("NOERROR", ["127.0.0.3"]))
    rblkit_list(store, "remove", ZONE, "192.0.2.0/24")
    assert eventually(lambda: answer(srv, "192.0.2.7")[0] == "NXDOMAIN")


def test_expiry_by_serve_itself(rblkit_server, datadir, store):
    # serve expires what is due every second (no `rblkit list expire` here)
    rblkit_list(store, "add", ZONE, "198.51.100.20", "--ttl", "2s")
    srv = serve(rblkit_server, datadir, store)
    assert answer(srv, "198.51.100.20")[0] == "NOERROR"
    assert eventually(lambda: answer(srv, "198.51.100.20")[0] == "NXDOMAIN", 20)


def test_many_changes_then_sighup_reads_the_store_again(rblkit_server, datadir, store):
    srv = serve(rblkit_server, datadir, store)
    lines = "".join(f"10.9.{i // 256}.{i % 256}\n" for i in range(600))
    write_data(datadir, "many.txt", lines)
    rblkit_list(store, "import", ZONE, os.path.join(datadir, "many.txt"))
    assert eventually(lambda: answer(srv, "10.9.2.87")[0] == "NOERROR")
    assert answer(srv, "10.9.0.0")[0] == "NOERROR"
    assert answer(srv, "10.9.3.0")[0] == "NXDOMAIN"
    srv.proc.send_signal(1)     # SIGHUP: read the store again (a full load)
    assert eventually(lambda: "loaded store" in srv.stderr_text().split("serving", 1)[1])
    assert answer(srv, "10.9.2.87")[0] == "NOERROR"
    assert answer(srv, "192.0.2.9")[0] == "NXDOMAIN"


def test_a_big_delta_is_folded_and_answers_stay(rblkit_server, datadir, store):
    # past 50,000 changed entries the delta is folded into a new base on a
    # thread of its own; changes made meanwhile and after keep their place
    srv = serve(rblkit_server, datadir, store)
    write_data(datadir, "fold.txt",
               "".join(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}\n" for i in range(60000)))
    rblkit_list(store, "import", ZONE, os.path.join(datadir, "fold.txt"))
    assert eventually(lambda: "changes folded in" in srv.stderr_text(), 30), srv.stderr_text()
    rblkit_list(store, "remove", ZONE, "10.0.1.5")
    rblkit_list(store, "add", ZONE, "10.0.1.0/24", "--code", "127.0.0.9")
    assert eventually(lambda: answer(srv, "10.0.1.5") == ("NOERROR", ["127.0.0.9"]))
    assert answer(srv, "10.0.1.6") == ("NOERROR", ["127.0.0.2"])
    assert answer(srv, "10.0.234.95")[0] == "NOERROR"
    assert answer(srv, "10.0.234.96")[0] == "NXDOMAIN"
    assert answer(srv, "192.0.2.7") == ("NOERROR", ["127.0.0.4"])
    assert answer(srv, "192.0.2.9")[0] == "NXDOMAIN"


# --------------------------------------------------------------------------
# same answers as rbldnsd on `rblkit list export`


@pytest.mark.rbldnsd
def test_same_answers_as_rbldnsd_on_the_export(rblkit_server, rbldnsd_server, datadir, store):
    rblkit_list(store, "add", ZONE, "10.0.0.0/16", "--code", "127.0.0.9", "--reason", "big $")
    rblkit_list(store, "add", ZONE, "10.0.5.5")
    rblkit_list(store, "export", ZONE, os.path.join(datadir, "export.txt"), "--type", "ip4trie")
    ours = serve(rblkit_server, datadir, store)
    ref = rbldnsd_server([f"{ZONE}:ip4trie:export.txt"], datadir)
    for ip in ["127.0.0.2", "192.0.2.7", "192.0.2.8", "192.0.2.9", "10.0.5.5", "10.0.5.6",
               "10.0.200.1", "10.1.0.0", "198.51.100.1"]:
        for t in ("A", "TXT"):
            assert answer(ours, ip, t) == answer(ref, ip, t), (ip, t)


# --------------------------------------------------------------------------
# a store that is bad or goes away


@pytest.mark.parametrize("what", ["missing", "nofile", "nozone"])
def test_bad_store_at_start_is_a_clear_error(datadir, store, what):
    if what == "missing":
        spec = f"{ZONE}:store:sqlite:{datadir}/no/such/dir/list.db"
        want = "list.db"
    elif what == "nofile":
        # a path with a typo names no file: said so, and no empty store
        # is created there (it was, and the error was "no such zone")
        spec = f"{ZONE}:store:sqlite:{datadir}/typo.db"
        want = "typo.db: No such file or directory"
    else:
        spec = f"other.test:store:{store}"
        want = "other.test"
    p = subprocess.run([servers.RBLKIT, "serve", "-n", "-b",
                        f"127.0.0.1/{servers.free_port()}", spec],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert want in p.stderr and "not starting" in p.stderr, p.stderr
    assert not os.path.exists(f"{datadir}/typo.db")


def test_postgres_store_live_and_going_away(rblkit_server, datadir):
    """A PostgreSQL store: live changes; the server stopped: the last data
    keeps being served, one log line; back again: changes flow again."""
    import pg
    try:
        server = pg.start_server()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        dsn = server.dsn()
        rblkit_list(dsn, "add", ZONE, "192.0.2.7", "--code", "127.0.0.4")
        srv = serve(rblkit_server, datadir, dsn)
        assert answer(srv, "192.0.2.7") == ("NOERROR", ["127.0.0.4"])
        rblkit_list(dsn, "add", ZONE, "203.0.113.5")
        assert eventually(lambda: answer(srv, "203.0.113.5")[0] == "NOERROR")
        server.run("pg_ctl", "-D", server.datadir, "-m", "immediate", "-w", "stop")
        assert eventually(lambda: "store zone bl.test" in srv.stderr_text())
        time.sleep(1)           # several polls: one line, and still serving
        assert answer(srv, "192.0.2.7") == ("NOERROR", ["127.0.0.4"])
        assert answer(srv, "203.0.113.5")[0] == "NOERROR"
        # one line for the store going away (and, when the second's expiry
        # ran into it before the poll did, one warning that it cannot expire)
        log = srv.stderr_text()
        assert log.count("serving the last data read") == 1, log
        assert log.count("store zone bl.test") - log.count("cannot expire listings") == 1, log
        assert log.count("cannot expire listings") <= 1, log
        pg._start(server, False)
        rblkit_list(dsn, "add", ZONE, "203.0.113.6")
        assert eventually(lambda: answer(srv, "203.0.113.6")[0] == "NOERROR", 30)
        assert "reachable again" in srv.stderr_text()
    finally:
        server.stop()


# --------------------------------------------------------------------------
# IXFR from the journal


def ixfr(port, serial_from):
    """IXFR from serial_from over TCP: the answer records as (owner, type,
    rdata) text, up to the end of the transfer."""
    import socket
    import struct
    from dns.rrset import from_text
    q = dns.message.make_query(ZONE, "IXFR")
    q.authority.append(from_text(ZONE + ".", 0, "IN", "SOA",
                                 f"ns.{ZONE}. hostmaster.{ZONE}. {serial_from} 1 1 1 1"))
    w = q.to_wire()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    rrs, buf = [], b""
    try:
        s.sendall(struct.pack("!H", len(w)) + w)
        while not _xfr_done(rrs):
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                more = s.recv(65536)
                if not more:
                    return rrs
                buf += more
            n = struct.unpack("!H", buf[:2])[0]
            m = dns.message.from_wire(buf[2:2 + n], one_rr_per_rrset=True)
            buf = buf[2 + n:]
            for rrset in m.answer:
                for rd in rrset:
                    rrs.append((rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype),
                                rd.to_text()))
    finally:
        s.close()
    return rrs


def _xfr_done(rrs):
    """Up to date: one SOA; IXFR (SOA, SOA, ...): the new SOA three times;
    AXFR: the SOA twice."""
    if not rrs:
        return False
    new = rrs[0][2]
    count = sum(1 for r in rrs if r[1] == "SOA" and r[2] == new)
    if len(rrs) == 1:
        return False if rrs[0][1] != "SOA" else _single(rrs)
    if rrs[1][1] == "SOA":
        return count >= 3
    return count >= 2


def _single(rrs):
    return True


def test_ixfr_sends_only_the_changes(rblkit_server, datadir, store):
    srv = serve(rblkit_server, datadir, store)
    s1 = serial(srv)
    rblkit_list(store, "add", ZONE, "203.0.113.5", "--code", "127.0.0.7")
    rblkit_list(store, "remove", ZONE, "192.0.2.7")
    assert eventually(lambda: answer(srv, "192.0.2.7") == ("NOERROR", ["127.0.0.3"]))
    s2 = serial(srv)
    rrs = ixfr(srv.port, s1)
    soas = [i for i, r in enumerate(rrs) if r[1] == "SOA"]
    assert len(soas) == 4, rrs
    assert f" {s2} " in rrs[0][2] and f" {s1} " in rrs[1][2]
    dels = rrs[soas[1] + 1:soas[2]]
    adds = rrs[soas[2] + 1:soas[3]]
    assert ("7.2.0.192.bl.test.", "A", "127.0.0.4") in dels
    assert ("5.113.0.203.bl.test.", "A", "127.0.0.7") in adds
    assert ("7.2.0.192.bl.test.", "A", "127.0.0.3") in adds   # the /24 again
    assert not any(r[1] == "NS" for r in rrs)                  # no full zone
    assert len(dels) + len(adds) < 20


def test_ixfr_up_to_date_gets_the_soa_and_old_gets_axfr(rblkit_server, datadir, store):
    srv = serve(rblkit_server, datadir, store)
    s1 = serial(srv)
    rrs = ixfr(srv.port, s1)
    assert [r[1] for r in rrs] == ["SOA"]
    rrs = ixfr(srv.port, s1 - 1000)      # before this serve knew the zone
    assert rrs[0][1] == "SOA" and rrs[-1][1] == "SOA" and any(r[1] == "NS" for r in rrs)


# --------------------------------------------------------------------------
# NSD and Knot as secondaries: NOTIFY, then IXFR


@pytest.mark.parametrize("kind", ["nsd", "knot"])
def test_secondary_gets_a_new_listing_by_notify_and_ixfr(datadir, store, kind):
    exe = {"nsd": "/usr/sbin/nsd", "knot": "/usr/sbin/knotd"}[kind]
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} is required: apt-get install {kind}", pytrace=False)
    if os.geteuid() != 0:
        pytest.skip("the secondary is run as root (no username switch)")
    # a zone big enough that a full transfer and a diff differ in size
    write_data(datadir, "big.txt", "".join(f"10.8.{i // 250}.{i % 250}\n" for i in range(2000)))
    rblkit_list(store, "import", ZONE, os.path.join(datadir, "big.txt"))
    prim_port = servers.free_port()
    sec = Secondary(kind, [ZONE], prim_port)
    prim = servers.start_rblkit([f"{ZONE}:store:{store}"], datadir,
                                ["--notify", f"127.0.0.1:{sec.port}"], port=prim_port)
    try:
        sec.start()
        s1 = serial(prim)
        # a new secondary: the whole zone (AXFR)
        assert sec.wait_serial(s1, 30), sec.log_text()[-3000:]
        assert a_values(sec.query(rev4("192.0.2.7", ZONE))) == ["127.0.0.4"]
        assert rcode(sec.query(rev4("203.0.113.5", ZONE))) == "NXDOMAIN"
        log_before = len(sec.log_text())
        rblkit_list(store, "add", ZONE, "203.0.113.5", "--code", "127.0.0.7")
        s2 = wait_for(lambda: serial(prim) != s1 and serial(prim), LIVE)
        assert s2
        # the SOA refresh is an hour: only the NOTIFY brings it this soon
        assert sec.wait_serial(s2, 30), sec.log_text()[-3000:] + prim.stderr_text()[-2000:]
        assert a_values(sec.query(rev4("203.0.113.5", ZONE))) == ["127.0.0.7"]
        assert a_values(sec.query(rev4("192.0.2.7", ZONE))) == ["127.0.0.4"]
        assert rcode(sec.query(rev4("192.0.2.9", ZONE))) == "NXDOMAIN"
        log = sec.log_text()
        later = log[log_before:]
        if kind == "nsd":
            # NSD does not name the kind; its sizes tell: the first transfer
            # is the whole zone, the update a diff of one listing
            sizes = [int(x) for x in re.findall(r"received update to serial \d+ .* of (\d+) bytes", log)]
            assert len(sizes) >= 2 and sizes[0] > 50000 and sizes[-1] < 1000, log[-3000:]
        else:
            assert "IXFR" in later and "AXFR" in log[:log_before], log[-3000:]
    finally:
        sec.stop()
        prim.__exit__(None, None, None)




# --------------------------------------------------------------------------
# IXFR across a restart of serve: the history comes from the store's journal


def axfr_set(port):
    """The zone's records but the SOA, by a full transfer (IXFR from serial
    1, which no store zone has in its journal: its serials begin at the
    Unix time it was made)."""
    rrs = ixfr(port, 1)
    assert rrs[1][1] != "SOA" and any(r[1] == "NS" for r in rrs), rrs[:5]
    return {r for r in rrs if r[1] != "SOA"}


def ixfr_parts(rrs):
    """An IXFR answer of one diff: (old SOA, deleted, added) as sets; fails
    when the answer is not such an IXFR."""
    soas = [i for i, r in enumerate(rrs) if r[1] == "SOA"]
    assert len(rrs) > 1 and rrs[1][1] == "SOA" and len(soas) == 4, rrs[:10]
    return rrs[1][2], set(rrs[soas[1] + 1:soas[2]]), set(rrs[soas[2] + 1:soas[3]])


def prune_journal(dsn, keep):
    """What store_journal_prune(zone, keep) does, done to the SQLite file
    (no command of `rblkit list` prunes)."""
    import sqlite3
    db = sqlite3.connect(dsn[len("sqlite:"):])
    try:
        zid, ser = db.execute("SELECT id, serial FROM zones WHERE name = ?",
                              (ZONE,)).fetchone()
        db.execute("DELETE FROM journal WHERE zone_id = ? AND serial <= ?", (zid, ser - keep))
        db.execute("UPDATE zones SET journal_from = ? WHERE id = ?", (ser - keep, zid))
        db.commit()
    finally:
        db.close()


def change_the_zone(store, datadir):
    """Three transactions while serve is down: a new listing, a removal that
    uncovers the /24 above it, and a new code of one entry of a big import
    (a del + add in one serial)."""
    rblkit_list(store, "add", ZONE, "203.0.113.5", "--code", "127.0.0.7")
    rblkit_list(store, "remove", ZONE, "192.0.2.7")
    rblkit_list(store, "add", ZONE, "10.8.1.17", "--code", "127.0.0.5", "--reason", "new")


@pytest.fixture
def big_store(store, datadir):
    write_data(datadir, "big.txt", "".join(f"10.8.{i // 250}.{i % 250}\n" for i in range(2000)))
    rblkit_list(store, "import", ZONE, os.path.join(datadir, "big.txt"))
    return store


def test_ixfr_from_before_a_restart_of_serve_is_a_diff(rblkit_server, datadir, big_store):
    store = big_store
    srv = serve(rblkit_server, datadir, store)
    s1 = serial(srv)
    before = axfr_set(srv.port)
    srv.__exit__(None, None, None)
    change_the_zone(store, datadir)
    srv = serve(rblkit_server, datadir, store)
    s2 = serial(srv)
    assert s2 == s1 + 3
    after = axfr_set(srv.port)
    rrs = ixfr(srv.port, s1)
    old, dels, adds = ixfr_parts(rrs)
    assert f" {s1} " in old and f" {s2} " in rrs[0][2]
    # exactly what tells the two full zones apart
    assert dels == before - after and adds == after - before, (dels, adds)
    assert ("7.2.0.192.bl.test.", "A", "127.0.0.4") in dels
    assert ("5.113.0.203.bl.test.", "A", "127.0.0.7") in adds
    assert ("7.2.0.192.bl.test.", "A", "127.0.0.3") in adds   # the /24 again
    assert ("17.1.8.10.bl.test.", "A", "127.0.0.5") in adds
    assert len(rrs) < len(after) / 10
    # from a serial in between: only the later changes
    old, dels, adds = ixfr_parts(ixfr(srv.port, s1 + 2))
    assert not any("203.0.113" in r[0] or "192.0.2" in r[0] for r in dels | adds)
    assert ("17.1.8.10.bl.test.", "A", "127.0.0.5") in adds
    # and up to date: the SOA alone
    assert [r[1] for r in ixfr(srv.port, s2)] == ["SOA"]


def test_ixfr_after_sighup_is_a_diff_from_the_journal(rblkit_server, datadir, big_store):
    store = big_store
    srv = serve(rblkit_server, datadir, store)
    s1 = serial(srv)
    before = axfr_set(srv.port)
    change_the_zone(store, datadir)
    assert eventually(lambda: serial(srv) == s1 + 3)
    srv.proc.send_signal(1)     # SIGHUP: the zone read whole again
    assert eventually(lambda: "loaded store" in srv.stderr_text().split("serving", 1)[1])
    after = axfr_set(srv.port)
    old, dels, adds = ixfr_parts(ixfr(srv.port, s1))
    assert dels == before - after and adds == after - before, (dels, adds)


def test_ixfr_from_before_a_pruned_journal_is_an_axfr(rblkit_server, datadir, big_store):
    store = big_store
    srv = serve(rblkit_server, datadir, store)
    s1 = serial(srv)
    srv.__exit__(None, None, None)
    change_the_zone(store, datadir)
    prune_journal(store, 1)     # the journal keeps the last serial only
    srv = serve(rblkit_server, datadir, store)
    s2 = serial(srv)
    after = axfr_set(srv.port)
    rrs = ixfr(srv.port, s1)
    assert rrs[1][1] != "SOA" and {r for r in rrs if r[1] != "SOA"} == after
    # what the journal still holds is a diff
    old, dels, adds = ixfr_parts(ixfr(srv.port, s2 - 1))
    assert f" {s2 - 1} " in old
    assert ("17.1.8.10.bl.test.", "A", "127.0.0.5") in adds
    assert not any("203.0.113" in r[0] for r in dels | adds)


def test_ixfr_of_live_changes_in_several_blocks_is_exact(rblkit_server, datadir, big_store):
    # each changed IPv4 key was undone in every block of the diff (its
    # end was not cut to 32 bits): 10.8.1.17 showed up in 192.0/16, and
    # the IXFR deleted thousands of records the zone never had
    store = big_store
    srv = serve(rblkit_server, datadir, store)
    s1 = serial(srv)
    before = axfr_set(srv.port)
    change_the_zone(store, datadir)
    assert eventually(lambda: serial(srv) == s1 + 3)
    after = axfr_set(srv.port)
    old, dels, adds = ixfr_parts(ixfr(srv.port, s1))
    assert dels == before - after and adds == after - before, (len(dels), len(adds))


@pytest.mark.parametrize("kind", ["nsd", "knot"])
def test_secondary_gets_an_ixfr_across_a_restart_of_serve(datadir, big_store, kind):
    exe = {"nsd": "/usr/sbin/nsd", "knot": "/usr/sbin/knotd"}[kind]
    if not os.access(exe, os.X_OK):
        pytest.fail(f"{exe} is required: apt-get install {kind}", pytrace=False)
    if os.geteuid() != 0:
        pytest.skip("the secondary is run as root (no username switch)")
    store = big_store
    prim_port = servers.free_port()
    sec = Secondary(kind, [ZONE], prim_port)
    args = ["--notify", f"127.0.0.1:{sec.port}"]
    prim = servers.start_rblkit([f"{ZONE}:store:{store}"], datadir, args, port=prim_port)
    try:
        sec.start()
        s1 = serial(prim)
        assert sec.wait_serial(s1, 30), sec.log_text()[-3000:]
        prim.__exit__(None, None, None)
        change_the_zone(store, datadir)
        log_before = len(sec.log_text())
        # serve starts again (no NOTIFY at start); one change more while it
        # runs sends one, and the secondary asks IXFR from s1, before the
        # restart
        prim = servers.start_rblkit([f"{ZONE}:store:{store}"], datadir, args,
                                    port=prim_port)
        assert serial(prim) == s1 + 3
        rblkit_list(store, "add", ZONE, "198.51.100.1")
        s2 = wait_for(lambda: serial(prim) == s1 + 4 and serial(prim), LIVE)
        assert s2
        assert sec.wait_serial(s2, 30), sec.log_text()[-3000:] + prim.stderr_text()[-2000:]
        assert a_values(sec.query(rev4("203.0.113.5", ZONE))) == ["127.0.0.7"]
        assert a_values(sec.query(rev4("192.0.2.7", ZONE))) == ["127.0.0.3"]
        assert a_values(sec.query(rev4("10.8.1.17", ZONE))) == ["127.0.0.5"]
        assert a_values(sec.query(rev4("10.8.1.18", ZONE))) == ["127.0.0.2"]
        assert a_values(sec.query(rev4("198.51.100.1", ZONE))) == ["127.0.0.2"]
        assert rcode(sec.query(rev4("192.0.2.9", ZONE))) == "NXDOMAIN"
        log = sec.log_text()
        later = log[log_before:]
        if kind == "nsd":
            sizes = [int(x) for x in re.findall(r"received update to serial \d+ .* of (\d+) bytes", log)]
            assert len(sizes) >= 2 and sizes[0] > 50000 and sizes[-1] < 3000, log[-3000:]
        else:
            assert "IXFR" in later and "AXFR" not in later, later[-3000:]
    finally:
        sec.stop()
        prim.__exit__(None, None, None)
