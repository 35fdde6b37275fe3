"""The check page of `rblkit web` (/admin/check, behind the console log-in):
targets against lists served by `rblkit serve` on loopback under the real
lists' names (test_check.py's data), with the verdicts of `rblkit check`:
listed with meaning, TXT and the delisting link; a refusal code an error,
never listed nor clean; ranges capped; rows streamed (chunked) as each
target is decided, without script."""

import os
import re
import shutil
import socket
import sys

import threading

import dns.message
import dns.rcode
import dns.rrset
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from test_check import ZONES, write_data  # noqa: E402
from test_web_helpers import Client, Web  # noqa: E402


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    return rblkit_bin


@pytest.fixture(scope="module")
def lists_server(rblkit_bin):
    d = servers.make_datadir("rblkit-webcheck-")
    write_data(d)
    srv = servers.start_rblkit(ZONES, d)
    yield srv
    srv.__exit__(None, None, None)
    shutil.rmtree(d, ignore_errors=True)


def console(tmp_path, dns_port, lists, extra=""):
    dsn = f"sqlite:{tmp_path}/list.db"
    web = Web(tmp_path, dsn, "127.0.0.1:9",
              extra=f"check_resolver = 127.0.0.1:{dns_port}\ncheck_lists = {lists}\n" + extra)
    web.start()
    assert web.cli("--add-user", "staff", "--role", "viewer",
                   stdin="support staff pw 1\n").returncode == 0
    c = Client(web)
    _, _, body = c.get("/admin")
    st, _, _ = c.post("/admin/login", {"user": "staff", "password": "support staff pw 1",
                                       "csrf": c.csrf_from(body)})
    assert st == 303
    return web, c


def rows(body, cls):
    return re.findall(r'<tr class="' + cls + r'"(?: data-zone="([^"]*)")?>(.*?)</tr>', body, re.S)


def test_check_page_verdicts_txt_and_delisting_links(tmp_path, lists_server):
    web, c = console(tmp_path, lists_server.port,
                     "zen.spamhaus.org, bl.spamcop.net, sbl.spamhaus.org, dbl.spamhaus.org")
    try:
        assert Client(web).get("/admin/check?q=192.0.2.1")[0] == 404   # no session
        q = "192.0.2.1 198.51.100.1 mx:mail-domain.test 192.0.2.0/23 <b>x</b>"
        st, h, body = c.get("/admin/check?q=" + q.replace(" ", "+").replace("<", "%3C")
                            .replace(">", "%3E").replace("/", "%2F"))
        assert st == 200 and h.get("Transfer-Encoding") == "chunked", h
        assert h["Content-Security-Policy"].startswith("default-src 'none'")
        listed = {(z, re.search(r"<td>(.*?)</td>", r).group(1)): r for z, r in rows(body, "listed")}
        zen = listed[("zen.spamhaus.org", "192.0.2.1")]
        assert "SBL listing of 192.0.2.1, see https://check.spamhaus.org/" in zen
        assert "127.0.0.2 &mdash;" in zen and "127.0.0.4 &mdash;" in zen   # codes and meanings
        assert 'href="https://check.spamhaus.org/results/?query=192.0.2.1"' in zen
        assert ("bl.spamcop.net", "192.0.2.1") in listed
        # the MX host 192.0.2.1 of mail-domain.test, and the domain on the domain list
        assert ("dbl.spamhaus.org", "mail-domain.test") in listed
        # the refusal code: an error with the reason, never a listing, never clean
        errors = {(z, re.search(r"<td>(.*?)</td>", r).group(1)): r for z, r in rows(body, "error")}
        refused = errors[("sbl.spamhaus.org", "198.51.100.1")]
        assert "could not be checked" in refused and "127.255.255.254" in refused
        assert ("sbl.spamhaus.org", "198.51.100.1") not in listed
        clean = [r for _, r in rows(body, "clean")]
        assert any("198.51.100.1" in r and "not listed on 2 lists" in r for r in clean), clean
        assert not any("198.51.100.1" in r for (z, s), r in listed.items() if s == "198.51.100.1")
        # the range above /24 is refused before any lookup; hostile text escaped
        assert any("192.0.2.0/23" in r and "at most a /24" in r for _, r in rows(body, "error"))
        assert "<b>x</b>" not in body and "&lt;b&gt;x&lt;/b&gt;" in body
        assert re.search(r'<p id="check-done">Done: \d+ listed, \d+ could not be checked\.</p>',
                         body)
        # a word longer than any name: an error row, the rest still checked
        st, _, body = c.get("/admin/check?q=" + "a" * 300 + "+198.51.100.1")
        assert any("a" * 40 + "..." in r and "not an IP address or a domain name" in r
                   for _, r in rows(body, "error"))
        assert "Done: 0 listed, 2 could not be checked." in body      # the word, the refusal
        # a /24 range: one target per address, each decided
        st, _, body = c.get("/admin/check?q=192.0.2.0%2F30")
        subjects = {re.search(r"<td>(.*?)</td>", r).group(1)
                    for z, r in rows(body, "listed") + rows(body, "error")}
        subjects |= {re.search(r"<td>(.*?)</td>", r).group(1) for _, r in rows(body, "clean")}
        assert {"192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"} <= subjects
    finally:
        web.stop()


class ProbeOnlyServer:
    """A list's server on loopback that answers its RFC 5782 test points
    (127.0.0.2 listed, 127.0.0.1 not) and nothing else: the list is
    healthy, and every real query stays unanswered."""

    def __init__(self, zone):
        self.zone = zone
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.unanswered = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            try:
                data, peer = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            q = dns.message.from_wire(data)
            name = q.question[0].name.to_text().lower()
            r = dns.message.make_response(q)
            if name == f"2.0.0.127.{self.zone}." and q.question[0].rdtype == 1:
                r.answer.append(dns.rrset.from_text(name, 60, "IN", "A", "127.0.0.2"))
            elif name.startswith(("2.0.0.127.", "1.0.0.127.")):
                r.set_rcode(dns.rcode.NXDOMAIN)
            else:
                self.unanswered += 1
                continue
            self.sock.sendto(r.to_wire(), peer)

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


def test_rows_stream_as_targets_are_decided(tmp_path, lists_server):
    """The IPv6 address's row (asked of zen only: the silent list is an
    IPv4 list) arrives while the IPv4 address is still waiting for a list
    that answers its test points but not the query; the page ends once the check's time is up,
    the silent list an error (a timeout), never clean."""
    silent = ProbeOnlyServer("dead.example")
    web, c = console(tmp_path, lists_server.port,
                     f"zen.spamhaus.org, dead.example@127.0.0.1:{silent.port}",
                     extra="check_timeout = 3s\n")
    try:
        sid = c.cookie("sid")
        with socket.create_connection(("127.0.0.1", web.port), timeout=30) as s:
            s.sendall(b"GET /admin/check?q=2001:db8:bad::25+192.0.2.1 HTTP/1.1\r\n"
                      b"Host: x\r\nCookie: sid=" + sid.encode() + b"\r\n\r\n")
            got = b""
            while b"2001:db8:bad::25</td>" not in got:
                d = s.recv(65536)
                assert d, got
                got += d
            head, _, _ = got.partition(b"\r\n\r\n")
            assert b"Transfer-Encoding: chunked" in head
            # the IPv6 address is decided; the IPv4 one is still out: no end yet
            assert b"check-done" not in got and not got.endswith(b"0\r\n\r\n")
            while not got.endswith(b"0\r\n\r\n"):
                d = s.recv(65536)
                assert d, got
                got += d
        body = got.decode()
        assert re.search(r'<tr class="listed" data-zone="zen.spamhaus.org"><td>2001:db8:bad::25<',
                         body)
        assert re.search(r'<tr class="listed" data-zone="zen.spamhaus.org"><td>192.0.2.1<', body)
        assert re.search(r'<tr class="error" data-zone="dead.example"><td>192.0.2.1', body)
        assert "Done: 2 listed, 1 could not be checked." in body
        assert "cancelled" in re.search(r'data-zone="dead.example">.*?</tr>', body).group(0)
        assert silent.unanswered >= 1
    finally:
        web.stop()
        silent.close()


def test_check_lists_unknown_is_a_start_error(tmp_path):
    web = Web(tmp_path, f"sqlite:{tmp_path}/list.db", "127.0.0.1:9",
              extra="check_lists = no-such-list\n")
    with pytest.raises(RuntimeError) as e:
        web.start()
    assert "check_lists: no list or set named 'no-such-list'" in str(e.value)


def start_check(web, sid, q):
    """A check on a raw connection, read until its head (the table) is in:
    the check runs. The socket and what came so far; None on a 503."""
    s = socket.create_connection(("127.0.0.1", web.port), timeout=60)
    s.sendall(b"GET /admin/check?q=" + q.encode() + b" HTTP/1.1\r\nHost: x\r\nCookie: sid="
              + sid.encode() + b"\r\n\r\n")
    got = b""
    while b'<table id="results">' not in got and b"\r\n\r\n" not in got:
        d = s.recv(65536)
        assert d, got
        got += d
    if got.startswith(b"HTTP/1.1 503"):
        s.close()
        return None
    while b'<table id="results">' not in got:
        d = s.recv(65536)
        assert d, got
        got += d
    assert got.startswith(b"HTTP/1.1 200"), got
    return s, got


def pending(s):
    """What the server sent on s and the test did not read yet (no wait)."""
    s.setblocking(False)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    except BlockingIOError:
        pass
    s.setblocking(True)
    return got


def status_of(web, path, cookie=b""):
    """The status line and headers of a GET (the body is not read)."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=60) as s:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  + cookie + b"\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            d = s.recv(65536)
            assert d, got
            got += d
    return got.partition(b"\r\n\r\n")[0].decode()


def stop_cleanly(web):
    web.proc.terminate()
    rc = web.proc.wait(30)
    err = web.stderr()
    assert rc == 0, err
    assert "Sanitizer" not in err and "suspended connections" not in err, err


def test_a_running_check_does_not_hold_the_portal(tmp_path, lists_server):
    """With one worker thread, a check waiting on a list that never answers
    runs beside the portal: the public pages answer while the check is
    still running (they used to wait for its end, up to check_timeout, as
    the check ran on the worker thread). The portal stops at once and
    cleanly with the check running, its page cut (not finished)."""
    silent = ProbeOnlyServer("dead.example")
    web, c = console(tmp_path, lists_server.port, f"dead.example@127.0.0.1:{silent.port}",
                     extra="threads = 1\ncheck_timeout = 30s\n")
    try:
        # the list's query times out after 2 x 2 s: that is when the check ends
        s, got = start_check(web, c.cookie("sid"), "192.0.2.1")
        # on the same (only) thread as the check's connection
        st, _, body = Client(web).get("/")
        assert st == 200 and 'name="q"' in body
        got += pending(s)
        assert b"check-done" not in got and not got.endswith(b"0\r\n\r\n"), got
        s.close()
        # a long check (16 targets at a time): the portal stops with it running
        s, got = start_check(web, c.cookie("sid"), "192.0.2.0%2F24")
        stop_cleanly(web)
        while True:                 # the portal has exited: all it sent, to EOF
            d = s.recv(65536)
            if not d:
                break
            got += d
        s.close()
        assert b"check-done" not in got and not got.endswith(b"0\r\n\r\n"), got
    finally:
        web.stop()
        silent.close()


def test_check_max_and_a_client_that_goes_away(tmp_path, lists_server):
    """check_max = 1: while a check runs a second one gets 503 with
    Retry-After (check_timeout), the form still 200. A client that goes
    away mid-check ends its check and frees its place long before
    check_timeout (its socket hangs up while the connection waits)."""
    silent = ProbeOnlyServer("dead.example")
    web, c = console(tmp_path, lists_server.port, f"dead.example@127.0.0.1:{silent.port}",
                     extra="threads = 1\ncheck_timeout = 60s\ncheck_max = 1\n")
    try:
        sid = c.cookie("sid")
        ck = b"Cookie: sid=" + sid.encode() + b"\r\n"
        s, got = start_check(web, sid, "192.0.2.0%2F24")
        head = status_of(web, "/admin/check?q=192.0.2.2", ck)
        assert head.startswith("HTTP/1.1 503"), head
        assert "\r\nRetry-After: 60\r\n" in head + "\r\n", head
        assert status_of(web, "/admin/check", ck).startswith("HTTP/1.1 200")
        s.close()
        for _ in range(200):
            head = status_of(web, "/admin/check?q=192.0.2.3", ck)
            if not head.startswith("HTTP/1.1 503"):
                break
            threading.Event().wait(0.05)
        assert head.startswith("HTTP/1.1 200"), head
        stop_cleanly(web)
    finally:
        web.stop()
        silent.close()
