"""rblkit policy over the policy protocol itself (no Postfix): scoring with
test zones served by rblkit serve, refusal codes, allowlists, IPv6, the
fail-open budget with a DNS server that never answers, bad requests that
close only their own connection, limits, persistence, status/reset,
SIGHUP reload and --check-config.  test_policy_postfix.py drives the same
daemon through a real Postfix."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import servers
from postfix_helper import PolicyDaemon, PolicyClient

# Each list lists its RFC 5782 test point (127.0.0.2; ::ffff:127.0.0.2 for
# IPv6), or the daemon would not trust it (test_list_health_* below).
ZONES = {
    "bl.txt": ":127.0.0.2:Listed by bl.test, see http://bl.test/lookup?$\n"
              "127.0.0.2\n"
              "192.0.2.0/24\n"
              "203.0.113.5\n"
              "198.51.100.7 :127.0.0.4:Dynamic address $\n",
    # answers every address with Spamhaus' "public resolver" error code
    "err.txt": ":127.255.255.254:Error: open resolver; see https://err.test\n"
               "0.0.0.0/1\n128.0.0.0/1\n",
    "wl.txt": ":127.0.10.2:allowlisted\n127.0.0.2\n192.0.2.10\n",
    "bl6.txt": ":127.0.0.2:Listed by bl6.test\n::ffff:7f00:2\n2001:db8:1::/48\n",
}
SPECS = ["bl.test:ip4set:bl.txt", "err.test:ip4set:err.txt", "wl.test:ip4set:wl.txt",
         "bl6.test:ip6trie:bl6.txt"]
SITES = "bl.test*3, err.test*5, wl.test=127.0.10.[0..255]*-5, bl6.test*3"


@pytest.fixture(scope="module")
def dns():
    d = servers.make_datadir("rblkit-pol-dns-")
    for name, text in ZONES.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    srv = servers.start_rblkit(SPECS, d)
    yield srv
    srv.__exit__(None, None, None)
    shutil.rmtree(d, ignore_errors=True)


def base_conf(dns_port, extra=""):
    return (f"resolver = 127.0.0.1:{dns_port}\n"
            f"dnsbl_sites = {SITES}\n"
            "dnsbl_threshold = 3\n"
            "client_allowlist = 203.0.113.0/24\n"
            "outbound_limits = 3 messages/hour, 8 recipients/hour\n"
            "outbound_override = big@example.com: 50 messages/hour, 100 recipients/hour\n"
            + extra)


@pytest.fixture
def daemon(dns):
    with PolicyDaemon(base_conf(dns.port)) as d:
        yield d


def test_listed_client_refused_with_zone_and_txt(daemon):
    c = daemon.connect()
    a = c.ask(client_address="192.0.2.1")
    assert a == ("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using "
                 "bl.test; Listed by bl.test, see http://bl.test/lookup?192.0.2.1")
    # the answer's own TXT, for another code
    a = c.ask(client_address="198.51.100.7")
    assert "blocked using bl.test; Dynamic address 198.51.100.7" in a


def test_clean_client_dunno_although_error_code_has_weight_5(daemon):
    # err.test answers 127.255.255.254 for everyone, with a weight of 5
    # against a threshold of 3: an error code must never count. Its test
    # point answers so too: the list is unusable, and not even asked.
    c = daemon.connect()
    assert c.ask(client_address="10.20.30.40") == "DUNNO"
    assert daemon.wait_log("dnsbl_sites: err.test is unusable: it refuses the queries: "
                           "127.255.255.254")
    assert "bl.test is unusable" not in daemon.log()


def test_error_code_never_counts_even_when_the_filter_names_it(dns):
    conf = (f"resolver = 127.0.0.1:{dns.port}\n"
            "dnsbl_sites = err.test=127.255.255.254*5, bl.test*3\n"
            "dnsbl_threshold = 3\n")
    with PolicyDaemon(conf) as d:
        c = d.connect()
        assert c.ask(client_address="10.20.30.41") == "DUNNO"
        assert "blocked using bl.test" in c.ask(client_address="192.0.2.1")


def test_allowlists(daemon):
    c = daemon.connect()
    # listed on bl.test, but in client_allowlist
    assert c.ask(client_address="203.0.113.5") == "DUNNO"
    # listed on bl.test (3) and on the DNS allowlist wl.test (-5)
    assert c.ask(client_address="192.0.2.10") == "DUNNO"
    # its neighbour is not on the allowlist
    assert c.ask(client_address="192.0.2.11").startswith("554 ")


def test_sasl_and_non_scored_states(daemon):
    c = daemon.connect()
    assert c.ask(client_address="192.0.2.1", sasl_username="carl") == "DUNNO"
    assert c.ask(client_address="192.0.2.1", protocol_state="DATA") == "DUNNO"
    assert c.ask(client_address="192.0.2.1", protocol_state="CONNECT").startswith("554 ")
    assert c.ask(client_address="192.0.2.1", protocol_state="MAIL").startswith("554 ")


def test_ipv6_client(daemon):
    c = daemon.connect()
    assert "blocked using bl6.test" in c.ask(client_address="2001:db8:1::25")
    assert c.ask(client_address="2001:db8:2::25") == "DUNNO"
    # IPv4-mapped addresses are looked up as IPv4
    assert "blocked using bl.test" in c.ask(client_address="::ffff:192.0.2.1")


def test_result_cached(daemon, dns):
    c = daemon.connect()
    assert c.ask(client_address="192.0.2.50").startswith("554 ")
    st = daemon.command("status").stdout
    assert "0 hits, 1 misses" in st, st
    assert c.ask(client_address="192.0.2.50").startswith("554 ")
    st = daemon.command("status").stdout
    assert "1 hits, 1 misses" in st, st


def test_many_connections_interleaved(daemon):
    conns = [daemon.connect() for _ in range(60)]
    for i, c in enumerate(conns):
        c.send_raw(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                   + f"client_address=192.0.2.{i % 3}\n\n".encode())
    for i, c in enumerate(conns):
        assert c.read_reply().startswith("554 ")
    for c in conns:
        c.close()


@pytest.mark.parametrize("bad", [
    b"this is not a policy request\n\n",
    b"sender=" + b"x" * 5000 + b"\n\n",
    b"".join(b"a%d=1\n" % i for i in range(150)) + b"\n",
    b"sender=a\x00b\n\n",
    b"sender=one\nsender=two\n\n",
])
def test_bad_request_closes_only_its_connection(daemon, bad):
    good1, badc, good2 = daemon.connect(), daemon.connect(), daemon.connect()
    assert good1.ask(client_address="10.0.0.1") == "DUNNO"
    # a request half sent on a good connection stays pending meanwhile
    good2.send_raw(b"request=smtpd_access_policy\nprotocol_state=RCPT\n")
    badc.send_raw(bad)
    assert badc.closed_by_peer()
    good2.send_raw(b"client_address=192.0.2.1\n\n")
    assert good2.read_reply().startswith("554 ")
    assert good1.ask(client_address="192.0.2.2").startswith("554 ")
    assert daemon.wait_log("bad request")
    assert daemon.proc.poll() is None


def test_request_without_empty_line_then_eof(daemon):
    c = daemon.connect()
    c.send_raw(b"request=smtpd_access_policy\nclient_address=1.2.3.4\n")
    c.sock.shutdown(socket.SHUT_WR)
    assert c.closed_by_peer()
    assert daemon.wait_log("closed in the middle of a request")
    assert daemon.connect().ask(client_address="10.0.0.1") == "DUNNO"


def test_pipelined_requests(daemon):
    c = daemon.connect()
    one = b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=%s\n\n"
    c.send_raw(one % b"192.0.2.1" + one % b"10.0.0.9" + one % b"192.0.2.3")
    assert c.read_reply().startswith("554 ")
    assert c.read_reply() == "DUNNO"
    assert c.read_reply().startswith("554 ")


def test_valid_request_then_garbage_in_one_packet(daemon):
    others = [daemon.connect() for _ in range(5)]
    for o in others:        # requests waiting to be answered meanwhile
        o.send_raw(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                   b"client_address=192.0.2.77\n\n")
    c = daemon.connect()
    c.send_raw(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
               b"client_address=10.0.0.1\n\nthis is no request\n\n")
    assert c.read_reply() == "DUNNO"
    assert c.closed_by_peer()
    for o in others:
        assert o.read_reply().startswith("554 ")
        assert o.ask(client_address="10.0.0.2") == "DUNNO"


def test_prepend_mode(dns):
    with PolicyDaemon(base_conf(dns.port, "dnsbl_action = prepend\n")) as d:
        c = d.connect()
        a = c.ask(client_address="192.0.2.1", instance="abc.1")
        assert a == "PREPEND X-Rblkit-Score: score=3 threshold=3 lists=bl.test*3 listed"
        # once per message, however many recipients
        assert c.ask(client_address="192.0.2.1", instance="abc.1") == "DUNNO"
        assert c.ask(client_address="192.0.2.1", instance="abc.2").startswith("PREPEND")
        # a score below the threshold is still marked, as not listed
        a = c.ask(client_address="192.0.2.10", instance="abc.3")
        assert a == ("PREPEND X-Rblkit-Score: score=-2 threshold=3 "
                     "lists=bl.test*3 wl.test*-5")
        assert c.ask(client_address="10.0.0.1", instance="abc.4") == "DUNNO"


class SilentDNS:
    """A UDP socket on loopback that reads queries and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self.stopped = False
        self.sock.settimeout(0.2)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopped:
            try:
                self.sock.recvfrom(4096)
                self.queries += 1
            except socket.timeout:
                pass
            except OSError:
                return

    def close(self):
        self.stopped = True
        self.t.join()
        self.sock.close()


def test_fail_open_budget_with_a_server_that_never_answers():
    silent = SilentDNS()
    try:
        conf = (f"resolver = 127.0.0.1:{silent.port}\n"
                "dnsbl_sites = bl.test*3, other.test*2\n"
                "dnsbl_threshold = 3\ndnsbl_budget = 300\n")
        with PolicyDaemon(conf) as d:
            c = d.connect()
            t0 = time.monotonic()
            assert c.ask(client_address="192.0.2.1") == "DUNNO"
            took = time.monotonic() - t0
            assert 0.28 <= took < 0.8, took
            assert silent.queries >= 2
            assert d.wait_log("dnsbl_budget of 300 ms spent for client 192.0.2.1")
            assert "bl.test other.test" in d.log()
            # other connections are answered meanwhile
            c1, c2 = d.connect(), d.connect()
            c1.send_raw(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                        b"client_address=192.0.2.7\n\n")
            t0 = time.monotonic()
            assert c2.ask(client_address="10.0.0.1", sasl_username="u") == "DUNNO"
            assert time.monotonic() - t0 < 0.2
            assert c1.read_reply() == "DUNNO"
    finally:
        silent.close()


def test_limits_restart_crash_status_reset(dns):
    alerts = os.path.join(servers.make_datadir("rblkit-pol-alert-"), "alerts")
    conf = base_conf(dns.port, f'alert_command = echo "$RBLKIT_USER $RBLKIT_COUNT '
                               f'$RBLKIT_LIMIT $RBLKIT_KIND $RBLKIT_WINDOW" >> {alerts}\n')
    with PolicyDaemon(conf) as d:
        def message(c, user, rcpts=1):
            a = c.ask(client_address="10.0.0.5", sasl_username=user, sender=user)
            if a != "DUNNO":
                return a
            return c.ask(client_address="10.0.0.5", sasl_username=user, sender=user,
                         protocol_state="END-OF-MESSAGE", recipient_count=str(rcpts))

        c = d.connect()
        for _ in range(3):
            assert message(c, "alice") == "DUNNO"
        refused = message(c, "alice")
        assert refused.startswith("DEFER 4.7.1 Sending limit exceeded (3 of 3 messages "
                                  "per hour)"), refused
        assert message(c, "bob") == "DUNNO"
        assert d.wait_log("alice blocked at 3")
        # the shell creates the file before echo writes the line: wait
        # for the whole line, not for the file
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (
                os.path.exists(alerts) and open(alerts).read().endswith("\n")):
            time.sleep(0.05)
        assert open(alerts).read() == "alice 3 3 messages hour\n"
        # restart: the counts are still there, no second alert
        d.restart()
        c = d.connect()
        assert message(c, "alice").startswith("DEFER")
        assert message(c, "bob") == "DUNNO"
        # a crash (SIGKILL): nothing written before it is lost
        d.restart(signal.SIGKILL)
        c = d.connect()
        assert message(c, "alice").startswith("DEFER")
        assert message(c, "bob") == "DUNNO"
        assert message(c, "bob").startswith("DEFER")   # bob's 3rd survived the crash
        assert open(alerts).read().count("alice") == 1
        st = d.command("status")
        assert st.returncode == 0
        assert "blocked: 2" in st.stdout and "alice  since" in st.stdout, st.stdout
        r = d.command("reset", "alice")
        assert r.returncode == 0 and "block lifted" in r.stdout
        assert message(d.connect(), "alice") == "DUNNO"
        assert d.command("reset", "nobody-here").returncode == 1
        # with the daemon stopped, status and reset work on the files
        d.stop()
        st = d.command("status")
        assert "daemon not running" in st.stdout and "bob" in st.stdout
        assert d.command("reset", "bob").returncode == 0
        assert "blocked: 0" in d.command("status").stdout
        d.start()
        assert message(d.connect(), "bob") == "DUNNO"
    shutil.rmtree(os.path.dirname(alerts), ignore_errors=True)


def test_recipients_override_hold_and_fallback_keys(dns):
    conf = base_conf(dns.port, "outbound_action = hold\n")
    with PolicyDaemon(conf) as d:
        c = d.connect()
        eom = dict(protocol_state="END-OF-MESSAGE", client_address="10.0.0.5")
        assert c.ask(sasl_username="carol", recipient_count="5", **eom) == "DUNNO"
        # 5 + 4 > 8 recipients/hour: refused at END-OF-MESSAGE, not counted
        assert c.ask(sasl_username="carol", recipient_count="4", **eom).startswith(
            "HOLD 4.7.1 Sending limit exceeded (9 of 8 recipients per hour)")
        assert c.ask(sasl_username="carol", recipient_count="3", **eom) == "DUNNO"
        # the override lets big@example.com send more
        for _ in range(10):
            assert c.ask(sasl_username="big@example.com", recipient_count="1", **eom) == "DUNNO"
        # no SASL, from a local network (webmail): counted by sender
        loc = dict(protocol_state="END-OF-MESSAGE", client_address="127.0.0.1")
        for _ in range(3):
            assert c.ask(sender="web@example.com", recipient_count="1", **loc) == "DUNNO"
        assert c.ask(sender="web@example.com", recipient_count="1", **loc).startswith("HOLD")
        assert c.ask(sender="other@example.com", recipient_count="1", **loc) == "DUNNO"
        # a stranger using the same sender address is inbound, not counted
        assert c.ask(sender="web@example.com", client_address="10.9.9.9") == "DUNNO"


def test_sighup_reload(dns):
    with PolicyDaemon(base_conf(dns.port)) as d:
        c = d.connect()
        assert c.ask(client_address="192.0.2.1").startswith("554 ")
        # a bad file: the old configuration stays, the log says where and why
        d.write_config(base_conf(dns.port) + "dnsbl_threshold = lots\n")
        d.signal(signal.SIGHUP)
        assert d.wait_log("policy.conf:9: dnsbl_threshold given twice (first on line 5)")
        assert "the old configuration stays" in d.log()
        assert c.ask(client_address="192.0.2.1").startswith("554 ")
        # a good one takes effect (connections stay open)
        d.write_config(base_conf(dns.port).replace("dnsbl_threshold = 3",
                                                   "dnsbl_threshold = 4"))
        d.signal(signal.SIGHUP)
        assert d.wait_log("reloaded")
        assert c.ask(client_address="192.0.2.1") == "DUNNO"


def test_check_config(dns, tmp_path):
    good = tmp_path / "good.conf"
    good.write_text(base_conf(dns.port) + f"state_dir = {tmp_path}\n")
    r = subprocess.run([servers.RBLKIT, "policy", "--check-config", "--config", str(good)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout and "4 sites on 4 zones" in r.stdout
    bad = tmp_path / "bad.conf"
    bad.write_text("dnsbl_threshold = 3\n\ndnsbl_sites = zen.spamhaus.org=127.0.0.[2..11*3\n")
    r = subprocess.run([servers.RBLKIT, "policy", "--check-config", "--config", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert f"{bad}:3: dnsbl_sites:" in r.stderr, r.stderr
    # the daemon refuses to start with it, and says the same
    r = subprocess.run([servers.RBLKIT, "policy", "--config", str(bad)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and f"{bad}:3:" in r.stderr


def test_second_daemon_on_same_state_refused(daemon):
    other = PolicyDaemon("", state_dir=daemon.state_dir)
    try:
        with pytest.raises(Exception) as e:
            other.start()
        assert "in use" in str(e.value)
    finally:
        other.close()


def test_garbage_from_many_connections_does_not_disturb_the_others(daemon):
    """Seeded random traffic: valid requests cut at random points, random
    bytes, long lines, abrupt closes, on 40 connections, while one good
    connection keeps getting right answers. The daemon must stay up (under
    ASan: with no memory error) and exit 0 on SIGTERM (checked at close)."""
    import random
    rnd = random.Random(4242)
    valid = (b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
             b"client_address=192.0.2.%d\nsender=a@b\n\n")
    good = daemon.connect()
    socks = []
    for i in range(40):
        s = socket.create_connection(("127.0.0.1", daemon.port))
        s.setblocking(False)
        socks.append(s)
    for round_ in range(30):
        for s in socks:
            kind = rnd.randrange(5)
            if kind == 0:
                data = valid % rnd.randrange(256)
                data = data[:rnd.randrange(len(data) + 1)]
            elif kind == 1:
                data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
            elif kind == 2:
                data = b"x=" + b"y" * rnd.randrange(100, 5000)
            elif kind == 3:
                data = (valid % 1) * rnd.randrange(1, 4)
            else:
                data = b"\n" * rnd.randrange(1, 4)
            try:
                s.send(data)
                s.recv(65536)
            except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                pass
        # now and then one goes away abruptly
        if round_ % 5 == 4:
            socks.pop(rnd.randrange(len(socks))).close()
        assert good.ask(client_address="192.0.2.9").startswith("554 ")
        assert good.ask(client_address="10.0.0.9") == "DUNNO"
    for s in socks:
        s.close()
    assert daemon.proc.poll() is None
    assert "bad request" in daemon.log()


class HeldDNS:
    """A UDP DNS server on loopback that keeps the queries it reads until
    release(), then answers each with NXDOMAIN (not listed)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.sock.settimeout(0.1)
        self.stopped = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        while not self.stopped:
            try:
                self.held.append(self.sock.recvfrom(4096))
            except socket.timeout:
                pass
            except OSError:
                return

    def release(self):
        held, self.held = self.held, []
        for q, peer in held:
            # header: same id, QR RD RA, rcode 3; the question copied back
            flags = 0x8183 | (q[2] & 1) << 8
            self.sock.sendto(q[:2] + flags.to_bytes(2, "big") + q[4:6] + b"\0\0\0\0\0\0"
                             + q[12:], peer)
        return len(held)

    def close(self):
        self.stopped = True
        self.t.join()
        self.sock.close()


def test_client_gone_when_its_answer_arrives_no_use_after_free():
    """The DNS answer and the client's reset reach the daemon in the same
    epoll batch (the daemon is stopped meanwhile): writing the reply fails
    and closes the connection; the connection's own event that follows in
    the batch must not touch freed memory (ASan build: heap-use-after-free)."""
    held = HeldDNS()
    try:
        conf = (f"resolver = 127.0.0.1:{held.port}\n"
                "dnsbl_sites = bl.test*3\ndnsbl_threshold = 3\ndnsbl_budget = 5000\n"
                "dnsbl_probe_interval = 0\n")
        with PolicyDaemon(conf) as d:
            for round_ in range(3):
                c = d.connect()
                c.send_raw(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                           b"client_address=192.0.2.%d\n\n" % (50 + round_))
                deadline = time.monotonic() + 5
                while not held.held and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert held.held
                d.signal(signal.SIGSTOP)
                try:
                    assert held.release() >= 1
                    time.sleep(0.2)
                    # abortive close: RST, so that the reply cannot be sent
                    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      b"\1\0\0\0\0\0\0\0")
                    c.sock.close()
                    time.sleep(0.2)
                finally:
                    d.signal(signal.SIGCONT)
                time.sleep(0.3)
                assert d.proc.poll() is None, d.log()
            assert d.connect().ask(client_address="10.0.0.1", sasl_username="u") == "DUNNO"
    finally:
        held.close()


class TxtDNS:
    """A UDP DNS server on loopback that lists every address (A 127.0.0.2)
    with the given TXT text."""

    def __init__(self, txt):
        self.txt = txt
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)
        self.stopped = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _answer(self, q):
        i = 12
        while q[i]:
            i += 1 + q[i]
        qtype = int.from_bytes(q[i + 1:i + 3], "big")
        question = q[12:i + 5]
        if qtype == 16:
            rdata = bytes([len(self.txt)]) + self.txt
        else:
            rdata = bytes([127, 0, 0, 2])
        rr = (b"\xc0\x0c" + qtype.to_bytes(2, "big") + b"\0\1" + (60).to_bytes(4, "big")
              + len(rdata).to_bytes(2, "big") + rdata)
        return q[:2] + b"\x81\x80\0\1\0\1\0\0\0\0" + question + rr

    def _run(self):
        while not self.stopped:
            try:
                q, peer = self.sock.recvfrom(4096)
                self.sock.sendto(self._answer(q), peer)
            except socket.timeout:
                pass
            except OSError:
                return

    def close(self):
        self.stopped = True
        self.t.join()
        self.sock.close()


def test_txt_with_newlines_breaks_neither_the_reply_nor_the_log():
    """A TXT record is the list operator's (or a spoofer's) text: a CR or LF
    in it must not end the policy reply early nor forge a log line."""
    txt = TxtDNS(b"see http://bl.test\nrblkit: warning: forged line\r\nend")
    try:
        conf = (f"resolver = 127.0.0.1:{txt.port}\n"     # it lists 127.0.0.1 too
                "dnsbl_sites = bl.test*3\ndnsbl_threshold = 3\ndnsbl_probe_interval = 0\n")
        with PolicyDaemon(conf) as d:
            c = d.connect()
            a = c.ask(client_address="192.0.2.1")
            assert a.startswith("554 5.7.1 Service unavailable; Client host [192.0.2.1] "
                                "blocked using bl.test; see http://bl.test"), a
            assert "\r" not in a and "forged line" in a and a.endswith("end"), a
            assert d.wait_log("blocklisted")
            assert c.ask(client_address="192.0.2.1") == a      # cached: the same
            assert not any(line.startswith("rblkit: warning: forged")
                           for line in d.log().splitlines()), d.log()
            assert "\r" not in d.log()
    finally:
        txt.close()


def test_sighup_while_lookups_are_in_flight():
    """A reload ends the lookups of the old configuration: a client that
    waits gets its answer at once (DUNNO: nothing arrived), not at the end
    of the budget, and the daemon goes on with the new file."""
    held = HeldDNS()
    try:
        conf = (f"resolver = 127.0.0.1:{held.port}\n"
                "dnsbl_sites = bl.test*3\ndnsbl_threshold = 3\ndnsbl_budget = 8000\n"
                "dnsbl_probe_interval = 0\n")
        with PolicyDaemon(conf) as d:
            waiting = [d.connect() for _ in range(3)]
            for i, c in enumerate(waiting):
                c.send_raw(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                           b"client_address=192.0.2.%d\n\n" % (60 + i))
            deadline = time.monotonic() + 5
            while len(held.held) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            waiting[1].sock.close()         # one has gone meanwhile
            time.sleep(0.1)
            t0 = time.monotonic()
            d.signal(signal.SIGHUP)
            assert waiting[0].read_reply() == "DUNNO"
            assert waiting[2].read_reply() == "DUNNO"
            assert time.monotonic() - t0 < 3
            assert d.wait_log("reloaded")
            assert d.connect().ask(client_address="10.0.0.1", sasl_username="u") == "DUNNO"
            assert d.proc.poll() is None
    finally:
        held.close()


# -- issue 10, point 9: status, --check-config, bad client_address ----------

def test_status_of_a_missing_state_dir_is_an_error(tmp_path):
    missing = tmp_path / "nonexistent"
    r = subprocess.run([servers.RBLKIT, "policy", "status", "--state-dir", str(missing)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r
    assert "users counted" not in r.stdout
    assert f"state_dir {missing}: No such file or directory" in r.stderr, r.stderr
    r = subprocess.run([servers.RBLKIT, "policy", "reset", "u", "--state-dir", str(missing)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and not os.path.exists(missing), r


def test_status_of_one_user_and_of_an_unknown_user(dns):
    with PolicyDaemon(base_conf(dns.port)) as d:
        c = d.connect()
        assert c.ask(protocol_state="END-OF-MESSAGE", sasl_username="alice@example.com",
                     client_address="10.0.0.1", recipient_count="2") == "DUNNO"
        # through the running daemon
        r = d.command("status", "alice@example.com")
        assert r.returncode == 0, r
        assert r.stdout.startswith("alice@example.com  1/3 msgs/hour  2/8 rcpts/hour"), r.stdout
        r = d.command("status", "abc")
        assert r.returncode == 1 and "abc is not counted" in r.stdout + r.stderr, r
        assert "users counted" not in r.stdout
        assert d.command("status", "5").returncode == 0
        d.stop()
        # from the state files
        r = d.command("status", "abc")
        assert r.returncode == 1 and "abc is not counted" in r.stderr, r
        r = d.command("status", "alice@example.com")
        assert r.returncode == 0 and "1/3 msgs/hour" in r.stdout, r


def test_subcommands_give_the_usage_hint_of_every_command(tmp_path):
    hint = "Try 'rblkit help policy' for the options.\n"
    for argv in (["status", "--bogus"], ["reset", "--bogus", "u"], ["reset"],
                 ["frob"], ["status", "1", "2"], ["--bogus"]):
        r = subprocess.run([servers.RBLKIT, "policy", *argv, "--state-dir", str(tmp_path)],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and r.stderr.endswith(hint), (argv, r)
    r = subprocess.run([servers.RBLKIT, "policy", "status", "--bogus"],
                       capture_output=True, text=True, timeout=10)
    assert r.stderr == "rblkit policy: unrecognized option '--bogus'\n" + hint


def test_check_config_does_not_warn_about_a_state_dir_the_daemon_creates(tmp_path):
    conf = tmp_path / "p.conf"
    conf.write_text(f"state_dir = {tmp_path}/state\n")
    r = subprocess.run([servers.RBLKIT, "policy", "--check-config", "--config", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and r.stderr == "", r
    # a parent that does not exist cannot be created: that is worth a warning
    conf.write_text(f"state_dir = {tmp_path}/no/state\n")
    r = subprocess.run([servers.RBLKIT, "policy", "--check-config", "--config", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "cannot be created" in r.stderr, r


def test_malformed_client_address_is_logged(dns):
    with PolicyDaemon(base_conf(dns.port, "log_requests = yes\n")) as d:
        assert d.connect().ask(client_address="not-an-ip") == "DUNNO"
        assert d.wait_log("client_address is not an IP address: client=not-an-ip")
    with PolicyDaemon(base_conf(dns.port)) as d:
        c = d.connect()
        for _ in range(3):
            assert c.ask(client_address="999.1.1.1") == "DUNNO"
        assert d.wait_log("client_address '999.1.1.1' is not an IP address")
        assert d.log().count("is not an IP address") == 1, d.log()


# -- issue 10, point 10, and issue 11: every configuration error ------------

def test_every_configuration_error_is_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("listen = 1.2.3.999:10040\n"
                   "frobnicate = 1\n"
                   "dnsbl_threshold = lots\n"
                   "  # a comment\n"
                   "log_requests = maybe\n"
                   "listen = localhost:10040\n")
    r = subprocess.run([servers.RBLKIT, "policy", "--check-config", "--config", str(bad)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{bad}:1", f"{bad}:2", f"{bad}:3", f"{bad}:5", f"{bad}:6"], r.stderr
    assert "listen: expected ADDR:PORT" in lines[0]
    assert "unknown key 'frobnicate'" in lines[1]
    assert "expected an integer" in lines[2]
    assert "expected no or yes" in lines[3]
    # the daemon says the same (one log line each) and does not start
    r = subprocess.run([servers.RBLKIT, "policy", "--config", str(bad)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    for n in (1, 2, 3, 5, 6):
        assert f"{bad}:{n}: " in r.stderr, r.stderr
    # bounded: 20 lines, then how many more
    bad.write_text("".join(f"key{i} = 1\n" for i in range(30)))
    r = subprocess.run([servers.RBLKIT, "policy", "--check-config", "--config", str(bad)],
                       capture_output=True, text=True, timeout=10)
    lines = r.stderr.splitlines()
    assert r.returncode == 1 and len(lines) == 21, r.stderr
    assert lines[19].startswith(f"{bad}:20: unknown key 'key19'")
    assert lines[20] == f"{bad}: 10 more errors not shown"


@pytest.mark.parametrize("listen", ["1.2.3.999:10040", "localhost:10040", "[::1]:0",
                                    "127.0.0.1:", "[127.0.0.1]:10040", "::1:10040",
                                    "127.0.0.1:10040x"])
def test_bad_listen_address_is_a_configuration_error(tmp_path, listen):
    conf = tmp_path / "p.conf"
    conf.write_text(f"state_dir = {tmp_path}\nlisten = {listen}\n")
    r = subprocess.run([servers.RBLKIT, "policy", "--config", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and f"{conf}:2: listen: expected" in r.stderr, r


# -- issue 10, point 1: lists that fail their RFC 5782 test -----------------

class ModeDNS:
    """A dnspython UDP server on a random loopback port, answering every
    A query according to .mode:
      "refused"   REFUSED, "servfail" SERVFAIL, "nxdomain" NXDOMAIN;
      "silent"    no answer at all;
      "all"       127.0.0.2 for every address, 127.0.0.1 too;
      "no-test"   127.0.0.2 for every address but the test points;
      "good"      127.0.0.2 for 192.0.2.0/24 and the test point 127.0.0.2;
      "slow-test" as "good", but the test points are answered only when
                  .release is set."""

    def __init__(self, mode):
        import dns.message  # noqa: F401  (fail early when it is missing)
        self.mode = mode
        self.queries = 0
        self.release = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)
        self.stopped = False
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _answer(self, wire):
        import dns.message
        import dns.rcode
        import dns.rrset
        q = dns.message.from_wire(wire)
        r = dns.message.make_response(q)
        name = q.question[0].name.to_text().lower()
        labels = name.split(".")
        octets = ".".join(reversed(labels[:4]))
        if self.mode in ("refused", "servfail", "nxdomain"):
            r.set_rcode({"refused": dns.rcode.REFUSED, "servfail": dns.rcode.SERVFAIL,
                         "nxdomain": dns.rcode.NXDOMAIN}[self.mode])
            return r.to_wire()
        if len(labels) > 30:                # IPv6 names: never listed
            listed = False
        elif self.mode == "all":
            listed = True
        elif self.mode == "no-test":
            listed = not octets.startswith("127.")
        else:
            listed = octets.startswith("192.0.2.") or octets == "127.0.0.2"
        if listed and q.question[0].rdtype == 1:
            r.answer.append(dns.rrset.from_text(name, 60, "IN", "A", "127.0.0.2"))
        elif not listed:
            r.set_rcode(dns.rcode.NXDOMAIN)
        return r.to_wire()

    def _run(self):
        while not self.stopped:
            try:
                q, peer = self.sock.recvfrom(4096)
                self.queries += 1
                if self.mode == "slow-test" and (b"\x03127" in q or len(q) > 90):
                    threading.Thread(target=self._later, args=(q, peer), daemon=True).start()
                elif self.mode != "silent":
                    self.sock.sendto(self._answer(q), peer)
            except socket.timeout:
                pass
            except OSError:
                return

    def _later(self, q, peer):
        if self.release.wait(10) and not self.stopped:
            self.sock.sendto(self._answer(q), peer)

    def close(self):
        self.stopped = True
        self.release.set()
        self.t.join()
        self.sock.close()


def _health_conf(port, extra=""):
    return (f"resolver = 127.0.0.1:{port}\nresolver_timeout = 100\n"
            "dnsbl_sites = bl.test*3\ndnsbl_threshold = 3\n" + extra)


@pytest.mark.parametrize("mode,why", [
    ("refused", "it answers REFUSED, for its test point 127.0.0.2"),
    ("servfail", "it answers SERVFAIL, for its test point 127.0.0.2"),
    ("nxdomain", "it does not list the test point 127.0.0.2"),
    ("silent", "no answer (timeout), for its test point 127.0.0.2"),
    ("all", "it lists the test point 127.0.0.1, so it lists everyone"),
])
def test_list_health_a_dead_or_refusing_list_is_logged_once_and_counted(mode, why):
    srv = ModeDNS(mode)
    try:
        with PolicyDaemon(_health_conf(srv.port)) as d:
            assert d.wait_log(f"dnsbl_sites: bl.test is unusable: {why}"), d.log()
            c = d.connect()
            for i in range(5):
                assert c.ask(client_address=f"192.0.2.{i + 1}") == "DUNNO"
            st = d.command("status")
            assert st.returncode == 0, st
            line = [x for x in st.stdout.splitlines() if x.startswith("list bl.test: ")]
            assert line and line[0].startswith("list bl.test: unusable since "), st.stdout
            assert f"({why}" in line[0] and " 0 errors" not in line[0], line
            m = d.command("metrics")
            assert m.returncode == 0, m
            assert 'rblkit_policy_list_usable{zone="bl.test"} 0\n' in m.stdout, m.stdout
            errs = [x for x in m.stdout.splitlines()
                    if x.startswith('rblkit_policy_list_errors_total{zone="bl.test"} ')]
            assert errs and int(errs[0].split()[-1]) >= 1, m.stdout
            # a reload keeps the state: not logged again
            d.signal(signal.SIGHUP)
            assert d.wait_log("reloaded")
            assert c.ask(client_address="192.0.2.9") == "DUNNO"
            assert d.log().count("is unusable") == 1, d.log()
    finally:
        srv.close()


def test_list_health_a_list_without_its_test_point_gives_no_verdict_until_it_recovers():
    """The list lists every client but not 127.0.0.2: its answers must not
    refuse mail. When it lists its test point again it counts again, and
    each change is logged once."""
    srv = ModeDNS("no-test")
    try:
        with PolicyDaemon(_health_conf(srv.port, "dnsbl_probe_interval = 1\n")) as d:
            assert d.wait_log("bl.test is unusable: it does not list the test point "
                              "127.0.0.2"), d.log()
            c = d.connect()
            for i in range(3):
                assert c.ask(client_address=f"192.0.2.{i + 1}") == "DUNNO"
            srv.mode = "good"
            assert d.wait_log("dnsbl_sites: bl.test is usable again", timeout=10), d.log()
            assert "(it was unusable: it does not list the test point 127.0.0.2" in d.log()
            assert c.ask(client_address="192.0.2.1").startswith("554 ")
            assert c.ask(client_address="198.51.100.1") == "DUNNO"
            m = d.command("metrics").stdout
            assert 'rblkit_policy_list_usable{zone="bl.test"} 1\n' in m, m
            log = d.log()
            assert log.count("is unusable") == 1 and log.count("usable again") == 1, log
    finally:
        srv.close()


def test_list_health_probing_off_trusts_every_list():
    srv = ModeDNS("no-test")
    try:
        with PolicyDaemon(_health_conf(srv.port, "dnsbl_probe_interval = 0\n")) as d:
            assert d.connect().ask(client_address="192.0.2.1").startswith("554 ")
            assert "list bl.test: not probed, 0 errors" in d.command("status").stdout
    finally:
        srv.close()


def test_list_health_a_lookup_answered_before_the_first_probe_waits_for_it():
    """The client's answer comes before the list's test points are
    answered: the decision waits for the probe (within dnsbl_budget), and
    is then made, not dropped until the budget runs out."""
    srv = ModeDNS("slow-test")
    try:
        conf = _health_conf(srv.port, "dnsbl_budget = 20000\n").replace(
            "resolver_timeout = 100", "resolver_timeout = 5000")
        with PolicyDaemon(conf) as d:
            c = d.connect()
            c.send_raw(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                       b"client_address=192.0.2.1\n\n")
            deadline = time.monotonic() + 5
            while srv.queries < 5 and time.monotonic() < deadline:
                time.sleep(0.02)    # the 4 probes and the client's query
            assert srv.queries >= 5
            time.sleep(0.2)         # its answer has been read meanwhile
            srv.release.set()
            assert c.read_reply().startswith("554 "), d.log()
            assert "dnsbl_budget" not in d.log()
    finally:
        srv.close()


def test_list_health_a_list_that_starts_refusing_is_found_at_its_next_failed_lookup():
    """list.dnswl.org answered REFUSED to every lookup and left no trace: a
    failed lookup now probes the list again at once (not 5 minutes later),
    and the list is logged unusable once."""
    srv = ModeDNS("good")
    try:
        with PolicyDaemon(_health_conf(srv.port)) as d:
            c = d.connect()
            assert c.ask(client_address="192.0.2.1").startswith("554 ")
            assert "list bl.test: ok, 0 errors" in d.command("status").stdout
            srv.mode = "refused"
            deadline = time.monotonic() + 10
            i = 0
            while "is unusable" not in d.log() and time.monotonic() < deadline:
                i += 1
                assert c.ask(client_address=f"198.51.100.{i % 250 + 1}") == "DUNNO"
                time.sleep(0.1)
            assert d.wait_log("dnsbl_sites: bl.test is unusable: it answers REFUSED"), d.log()
            for i in range(3):
                assert c.ask(client_address=f"203.0.113.{i + 1}") == "DUNNO"
            assert d.log().count("is unusable") == 1, d.log()
    finally:
        srv.close()


# -- issue 11: the daemon base ------------------------------------------------

def test_list_health_a_catalogue_entry_with_testpoint_no_is_not_judged_by_it(tmp_path):
    """A list whose catalogue entry says "testpoint = no" does not list
    127.0.0.2 by design: its answers count, it is never called unusable."""
    cat = tmp_path / "lists.conf"
    cat.write_text("[quiet]\nname = Quiet\nzone = bl.test\nkind = ip4\ntestpoint = no\n")
    srv = ModeDNS("no-test")
    try:
        with PolicyDaemon(_health_conf(srv.port, f"dnsbl_catalog = {cat}\n")) as d:
            c = d.connect()
            assert c.ask(client_address="192.0.2.1").startswith("554 "), d.log()
            assert c.ask(client_address="192.0.2.2").startswith("554 "), d.log()
            st = d.command("status").stdout
            assert "list bl.test: ok, 0 errors" in st, st
            assert "unusable" not in d.log(), d.log()
    finally:
        srv.close()


def test_listen_path_that_is_not_a_socket_is_left_alone(tmp_path):
    """listen = /path: a socket left by an earlier run is replaced, but a
    file that is not a socket (a mistyped path) is an error, not removed."""
    path = tmp_path / "notasocket"
    path.write_text("keep me\n")
    conf = tmp_path / "p.conf"
    conf.write_text(f"state_dir = {tmp_path}\nlisten = {path}\n")
    r = subprocess.run([servers.RBLKIT, "policy", "--config", str(conf)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and "exists and is not a socket" in r.stderr, r
    assert path.read_text() == "keep me\n"


# -- review of a new user: a message over a whole limit; a bad number -------

def _alerts_conf(dns_port, alerts, mode):
    return (f"resolver = 127.0.0.1:{dns_port}\n"
            "outbound_limits = 3 messages/hour, 5 recipients/day\n"
            f"outbound_block = {mode}\n"
            f'alert_command = echo "$RBLKIT_USER $RBLKIT_COUNT $RBLKIT_LIMIT '
            f'$RBLKIT_KIND $RBLKIT_WINDOW" >> {alerts}\n')


def _wait_file(path):
    deadline = time.monotonic() + 5
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    return open(path).read()


@pytest.mark.parametrize("mode", ["window", "reset"])
def test_one_message_over_a_whole_limit_is_refused_with_its_count_and_blocks_nobody(dns, mode):
    alerts = os.path.join(servers.make_datadir("rblkit-pol-over-"), "alerts")
    with PolicyDaemon(_alerts_conf(dns.port, alerts, mode)) as d:
        c = d.connect()
        eom = dict(protocol_state="END-OF-MESSAGE", client_address="10.0.0.5",
                   sasl_username="q@x")
        rcpt = dict(client_address="10.0.0.5", sasl_username="q@x")
        a = c.ask(recipient_count="6", **eom)
        assert a.startswith("DEFER 4.7.1 Sending limit exceeded (6 of 5 recipients "
                            "per day)"), a
        assert d.wait_log("q@x: a message of 6 recipients refused, it would make 6 "
                          "(limit 5 recipients/day); not blocked")
        assert "blocked at" not in d.log()
        assert _wait_file(alerts) == "q@x 6 5 recipients day\n"
        # nothing was counted and nobody is blocked: status says so ...
        st = d.command("status", "q@x")
        assert "0/5 rcpts/day" in st.stdout and "BLOCKED" not in st.stdout, st.stdout
        assert "blocked: 0" in d.command("status").stdout
        # ... and smaller mail goes through (with reset too)
        assert c.ask(**rcpt) == "DUNNO"
        assert c.ask(recipient_count="1", **eom) == "DUNNO"
        # the same too-large message again: refused, no second alert
        assert c.ask(recipient_count="6", **eom).startswith(
            "DEFER 4.7.1 Sending limit exceeded (7 of 5 recipients per day)")
        assert d.wait_log("alert already sent in this window")
        # 4 more recipients: 5 of 5, a real block (its own alert, at 5)
        assert c.ask(recipient_count="4", **eom) == "DUNNO"
        a = c.ask(**rcpt)
        assert a.startswith("DEFER 4.7.1 Sending limit exceeded (5 of 5 recipients "
                            "per day)"), a
        assert d.wait_log("q@x blocked at 5 (limit 5 recipients/day)")
        st = d.command("status", "q@x")
        assert "5/5 rcpts/day" in st.stdout and "BLOCKED" in st.stdout, st.stdout
        deadline = time.monotonic() + 5
        while open(alerts).read().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert open(alerts).read() == "q@x 6 5 recipients day\nq@x 5 5 recipients day\n"
    shutil.rmtree(os.path.dirname(alerts), ignore_errors=True)


@pytest.mark.parametrize("count", ["-5", "+6", "6x", ""])
def test_malformed_recipient_count_is_a_bad_request(dns, count):
    conf = base_conf(dns.port)
    with PolicyDaemon(conf) as d:
        c = d.connect()
        eom = dict(protocol_state="END-OF-MESSAGE", client_address="10.0.0.5",
                   sasl_username="m@x")
        for _ in range(3):
            assert c.ask(recipient_count=count, **eom) == "DUNNO"
        assert d.wait_log(f"recipient_count '{count}' is not a number; DUNNO")
        assert d.log().count("is not a number") == 1, d.log()
        # not counted; the connection still works, good numbers count
        assert "m@x is not counted" in d.command("status", "m@x").stdout
        for _ in range(3):
            assert c.ask(recipient_count="1", **eom) == "DUNNO"
        assert c.ask(recipient_count="1", **eom).startswith("DEFER 4.7.1 Sending limit "
                                                             "exceeded (3 of 3 messages")
    with PolicyDaemon(base_conf(dns.port, "log_requests = yes\n")) as d:
        assert d.connect().ask(recipient_count=count, **eom) == "DUNNO"
        assert d.wait_log("recipient_count is not a number: client=10.0.0.5 sasl=m@x")


def test_check_config_reports_key_errors_and_whole_file_errors_in_one_run(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("dnsbl_sites = bl.test, =127.0.0.2*2\n"
                   "state_dir = var/lib/rblkit\n"
                   "dnsbl_cache_min_ttl = 2h\n"
                   "dnsbl_cache_max_ttl = 1h\n")
    r = subprocess.run([servers.RBLKIT, "policy", "--check-config", "--config", str(bad)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        f"{bad}:1: dnsbl_sites: '=127.0.0.2*2': a site needs a zone name",
        f"{bad}:2: state_dir: must be an absolute path",
        f"{bad}: dnsbl_cache_min_ttl is above dnsbl_cache_max_ttl"], r.stderr
    # a check that involves a refused key is skipped: no second error for it
    bad.write_text("dnsbl_cache_min_ttl = 2hours\n"
                   "dnsbl_cache_max_ttl = 1s\n")
    r = subprocess.run([servers.RBLKIT, "policy", "--check-config", "--config", str(bad)],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert len(r.stderr.splitlines()) == 1 and f"{bad}:1: dnsbl_cache_min_ttl: " in r.stderr, \
        r.stderr
