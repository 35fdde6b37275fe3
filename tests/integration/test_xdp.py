"""rblkit serve --xdp: UDP queries answered through AF_XDP (issue 17).

Two network namespaces made for the test and joined by a veth pair: the
server's end runs `rblkit serve --xdp`, the clients (dig, dnspython, raw
frames) live in the other.  Nothing touches the host's interfaces; the
addresses (198.18.0.0/24, RFC 2544's benchmark range, and fd00:7262:6c::/64)
exist only inside the two namespaces, which are deleted at teardown.

The client end's transmit checksum offload is turned off (ethtool -K tx
off): on a veth the sender's stack otherwise leaves the UDP checksum to
"hardware" that does not exist, and the XDP path checks checksums as the
kernel's UDP input does (docs/serve.md, "AF_XDP").

Proof that a reply came through AF_XDP and not through the kernel's UDP
sockets: the server namespace's Udp InDatagrams counter (/proc/net/snmp)
does not move while XDP answers, and does move on the socket fallback.

Skipped (with the reason) only when not root or without network namespace
support; a missing ethtool or dig fails.
"""

import ctypes
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import pytest

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_data  # noqa: E402
import servers  # noqa: E402
import test_differential  # noqa: E402

SRV4, CLI4 = "198.18.0.1", "198.18.0.2"
SRV6, CLI6 = "fd00:7262:6c::1", "fd00:7262:6c::2"
PORT = 5353
REPO = servers.REPO
CORPUS = os.path.join(REPO, "tests", "fuzz", "corpus", "packet")
CLONE_NEWNET = 0x40000000

ZONE = """$SOA 1h ns1.bl.test hostmaster.bl.test 2024010101 2h 1h 1w 5m
$NS 1d ns1.bl.test
:127.0.0.2:listed, see http://bl.test/$
127.0.0.2
10.0.0.0/8 :3:ten net $
"""
# four 200-byte TXT records: 800 bytes, more than 512 (TC without EDNS)
BIG = "".join("big TXT \"%s\"\n" % (chr(ord("a") + i) * 200) for i in range(4))


def _netns_supported():
    if os.geteuid() != 0:
        return "needs root (network namespaces, XDP)"
    if not shutil.which("ip"):
        return "no ip(8) (apt-get install iproute2)"
    name = "rblkit-xdp-probe-%d" % os.getpid()
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode:
        return "no network namespace support: " + r.stderr.strip()
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


_WHY = _netns_supported()
pytestmark = pytest.mark.skipif(_WHY is not None, reason=_WHY or "")

_libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(ns):
    """Move the calling thread into network namespace ns (sockets it
    creates from now on live there, wherever they are used later)."""
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns %s: %s" % (ns, os.strerror(e)))
    finally:
        os.close(fd)


def in_netns(ns, fn):
    """Run fn() in a short-lived thread inside ns and return its result."""
    out = {}

    def run():
        try:
            enter_netns(ns)
            out["v"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            out["e"] = e
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "e" in out:
        raise out["e"]
    return out["v"]


def sh(*argv, check=True):
    r = subprocess.run(list(argv), capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r


class Pair:
    """Two namespaces and a veth pair: .srv (iface xdps) and .cli (xdpc)."""

    def __init__(self):
        tag = "%d-%04x" % (os.getpid(), random.randrange(65536))
        self.srv, self.cli = "rblkit-xdp-%s-s" % tag, "rblkit-xdp-%s-c" % tag
        sh("ip", "netns", "add", self.srv)
        sh("ip", "netns", "add", self.cli)
        sh("ip", "link", "add", "xdps", "netns", self.srv, "type", "veth",
           "peer", "name", "xdpc", "netns", self.cli)
        for ns, dev, a4, a6 in ((self.srv, "xdps", SRV4, SRV6), (self.cli, "xdpc", CLI4, CLI6)):
            sh("ip", "-n", ns, "addr", "add", a4 + "/24", "dev", dev)
            sh("ip", "-n", ns, "addr", "add", a6 + "/64", "dev", dev, "nodad")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "netns", "exec", self.cli, "ethtool", "-K", "xdpc", "tx", "off")

    def close(self):
        sh("ip", "netns", "del", self.cli, check=False)
        sh("ip", "netns", "del", self.srv, check=False)

    def udp_in(self):
        """The server namespace's Udp InDatagrams + InErrors (kernel path)."""
        text = sh("ip", "netns", "exec", self.srv, "cat", "/proc/net/snmp").stdout
        rows = [line.split() for line in text.splitlines() if line.startswith("Udp:")]
        fields = dict(zip(rows[0][1:], (int(v) for v in rows[1][1:])))
        return fields["InDatagrams"] + fields["InErrors"] + fields["NoPorts"]

    def xdp_prog(self):
        """The XDP program's name on xdps, or None."""
        out = sh("ip", "-n", self.srv, "-d", "link", "show", "xdps").stdout
        for line in out.splitlines():
            parts = line.split()
            if parts[:1] == ["prog/xdp"] and "name" in parts:
                return parts[parts.index("name") + 1]
        return None

    def dig(self, *args):
        return sh("ip", "netns", "exec", self.cli, "dig", "+tries=1", "+time=2", *args).stdout

    def query(self, name, rdtype, addr=SRV4, port=PORT, use_edns=False, payload=1232,
              timeout=2.0):
        msg = dns.message.make_query(name, rdtype, use_edns=use_edns, payload=payload)
        wire = msg.to_wire()
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = in_netns(self.cli, lambda: socket.socket(fam, socket.SOCK_DGRAM))
        try:
            s.settimeout(timeout)
            s.sendto(wire, (addr, port))
            while True:
                data = s.recv(65535)
                if data[:2] == wire[:2]:
                    return dns.message.from_wire(data, ignore_trailing=True)
        finally:
            s.close()


class NsServer:
    """A server process inside the server namespace."""

    def __init__(self, pair, argv, cwd):
        self.pair = pair
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["ip", "netns", "exec", pair.srv, *argv], cwd=cwd,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self.err)

    def wait_ready(self, name="bl.test", port=PORT, addr=SRV4, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited (%s):\n%s" % (self.proc.returncode,
                                                                 self.stderr()))
            try:
                self.pair.query(name, "SOA", addr=addr, port=port, timeout=0.3)
                return self
            except Exception:  # noqa: BLE001 - not up yet
                continue
        raise RuntimeError("server not answering:\n" + self.stderr())

    def stderr(self):
        return servers.read_log(self.err)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def pair():
    p = Pair()
    yield p
    p.close()


@pytest.fixture
def zonedir():
    d = servers.make_datadir("rblkit-xdp-")
    with open(os.path.join(d, "bl.txt"), "w") as f:
        f.write(ZONE)
    with open(os.path.join(d, "big.txt"), "w") as f:
        f.write(BIG)
    servers.make_readable(d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


ZONES = ["bl.test:ip4set:bl.txt", "bl.test:generic:big.txt"]


def rblkit(pair, zonedir, *extra, xdp="xdps", zones=ZONES):
    argv = [servers.RBLKIT, "serve", "-n", "--threads", "1",
            "-b", "%s/%d" % (SRV4, PORT), "-b", "%s/%d" % (SRV6, PORT)]
    if xdp:
        argv += ["--xdp", xdp]
    return NsServer(pair, [*argv, *extra, *zones], zonedir)


@pytest.fixture
def xdp_server(pair, zonedir):
    srv = rblkit(pair, zonedir).wait_ready()
    yield srv
    assert srv.stop() == 0, srv.stderr()       # a clean exit (and no sanitizer report)


# --------------------------------------------------------------------------
# answers through the XDP path


def test_dig_a_txt_any_edns_v4_v6(pair, xdp_server):
    assert pair.xdp_prog() == "rblkit_xdp_dns"
    before = pair.udp_in()
    for addr in ("@" + SRV4, "@" + SRV6):
        assert pair.dig(addr, "-p", str(PORT), "+short", "2.0.0.127.bl.test", "A").split() \
            == ["127.0.0.2"]
        txt = pair.dig(addr, "-p", str(PORT), "+short", "2.0.0.127.bl.test", "TXT")
        assert txt.strip() == '"listed, see http://bl.test/127.0.0.2"'
        anyq = pair.dig(addr, "-p", str(PORT), "+noall", "+answer", "+notcp",
                        "3.2.1.10.bl.test", "ANY")
        assert "\tA\t127.0.0.3" in anyq and '"ten net 10.1.2.3"' in anyq
        nx = pair.dig(addr, "-p", str(PORT), "+noedns", "1.1.1.1.bl.test", "A")
        assert "status: NXDOMAIN" in nx and "OPT PSEUDOSECTION" not in nx
        edns = pair.dig(addr, "-p", str(PORT), "+edns=0", "+bufsize=4096", "2.0.0.127.bl.test")
        assert "status: NOERROR" in edns and "udp: 1232" in edns
    for addr in (SRV4, SRV6):
        r = pair.query("2.0.0.127.bl.test", "TXT", addr=addr, use_edns=True)
        assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
        assert r.edns == 0 and r.payload == 1232
        assert [rr.to_text() for rr in r.answer[0]] == ['"listed, see http://bl.test/127.0.0.2"']
    # none of it went through the kernel's UDP input
    assert pair.udp_in() == before


def test_truncation_retries_over_tcp(pair, xdp_server):
    before = pair.udp_in()
    r = pair.query("big.bl.test", "TXT")          # no EDNS: 512 bytes
    assert r.flags & dns.flags.TC and not r.answer
    assert pair.udp_in() == before
    out = pair.dig("@" + SRV4, "-p", str(PORT), "+noedns", "big.bl.test", "TXT")
    assert "Truncated, retrying in TCP mode" in out
    assert out.count("\tTXT\t") == 4
    # with EDNS the 800 bytes fit in one UDP answer
    r = pair.query("big.bl.test", "TXT", use_edns=True)
    assert not r.flags & dns.flags.TC and len(r.answer[0]) == 4


def test_socket_path_serves_what_xdp_passes(pair, xdp_server):
    """TCP and other ports take the normal path with the program attached."""
    out = pair.dig("@" + SRV4, "-p", str(PORT), "+tcp", "+short", "2.0.0.127.bl.test")
    assert out.split() == ["127.0.0.2"]
    # UDP to another port: the kernel's socket, with the program attached
    echo = in_netns(pair.srv, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    cli = in_netns(pair.cli, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    try:
        echo.bind((SRV4, PORT + 7))
        echo.settimeout(5)
        cli.sendto(b"hello", (SRV4, PORT + 7))
        assert echo.recvfrom(100)[0] == b"hello"
    finally:
        echo.close()
        cli.close()


def test_query_log_and_metrics_count_xdp(pair, zonedir, tmp_path):
    os.chmod(tmp_path, 0o777)
    log = tmp_path / "q.log"
    srv = rblkit(pair, zonedir, "-l", "+" + str(log), "--http", "%s/9153" % SRV4).wait_ready()
    try:
        for _ in range(3):
            pair.query("2.0.0.127.bl.test", "A")
        metrics = sh("ip", "netns", "exec", pair.cli, "python3", "-c",
                     "import urllib.request;print(urllib.request.urlopen("
                     "'http://%s:9153/metrics', timeout=5).read().decode())" % SRV4).stdout
    finally:
        srv.stop()
    lines = [x for x in log.read_text().splitlines() if "2.0.0.127.bl.test" in x]
    assert len(lines) == 3 and all(CLI4 in x and "A IN: NOERROR/1/" in x for x in lines)
    counts = [x for x in metrics.splitlines()
              if x.startswith("rblkit_queries_total") and 'zone="bl.test"' in x]
    assert counts and sum(float(x.split()[-1]) for x in counts) >= 4, metrics


def test_keeps_serving_under_load(pair, zonedir, tmp_path):
    """dnsperf at a steady rate through the XDP path, the server on CPU 0 and
    dnsperf (with the kernel's XDP receive work: veth runs it on the sending
    CPU) on CPU 1: frames come back to the fill ring while the kernel may
    not yet have said it took their old entries.  The server used to stop
    with "AF_XDP fill ring full" (a panic); it must keep answering and
    exit cleanly."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs 2 CPUs")
    qf = tmp_path / "queries"
    qf.write_text("".join("%d.%d.0.127.bl.test A\n" % (i % 250, i // 250 % 250)
                          for i in range(1000)) + "2.0.0.127.bl.test TXT\n")
    os.chmod(tmp_path, 0o755)
    os.chmod(qf, 0o644)
    argv = [servers.RBLKIT, "serve", "-n", "--threads", "1", "-b", "%s/%d" % (SRV4, PORT),
            "--xdp", "xdps", "-u", "nobody", *ZONES]
    srv = NsServer(pair, ["taskset", "-c", "0", *argv], zonedir).wait_ready()
    try:
        before = pair.udp_in()
        done = 0
        for rate in (["-n", "200"], ["-n", "300", "-Q", "90000"]):  # flat out, then steady
            out = sh("ip", "netns", "exec", pair.cli, "taskset", "-c", "1", "dnsperf",
                     "-s", SRV4, "-p", str(PORT), "-d", str(qf), *rate, "-c", "8", "-T", "2",
                     "-q", "400", "-t", "2", "-l", "20",
                     "-O", "suppress=timeouts,congestion,sendfailed,sockready,unexpected",
                     check=False).stdout
            done += int(re.search(r"Queries completed:\s+(\d+)", out).group(1))
        assert srv.proc.poll() is None, srv.stderr()
        assert done > 450000, out
        assert pair.dig("@" + SRV4, "-p", str(PORT), "+short", "2.0.0.127.bl.test",
                        "A").split() == ["127.0.0.2"]
        assert pair.udp_in() == before          # all of it through XDP
    finally:
        rc = srv.stop()
    assert rc == 0, srv.stderr()


# --------------------------------------------------------------------------
# malformed input


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def frame4(payload, sport, mac_dst, mac_src, bad_ip=False, bad_udp=False, ulen=None,
           frag=0, ihl=5, tot=None):
    src, dst = socket.inet_aton(CLI4), socket.inet_aton(SRV4)
    ulen = 8 + len(payload) if ulen is None else ulen
    udp = struct.pack("!HHHH", sport, PORT, ulen, 0) + payload
    c = _csum(src + dst + struct.pack("!BBH", 0, 17, ulen) + udp[:ulen]) or 0xffff
    udp = udp[:6] + struct.pack("!H", c ^ (0x100 if bad_udp else 0)) + udp[8:]
    opts = b"\1" * (4 * (ihl - 5))
    tot = 20 + len(opts) + len(udp) if tot is None else tot
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 1, frag, 64, 17, 0, src, dst) + opts
    ip = ip[:10] + struct.pack("!H", _csum(ip) ^ (0x100 if bad_ip else 0)) + ip[12:]
    return mac_dst + mac_src + b"\x08\x00" + ip + udp


def frame6(payload, sport, mac_dst, mac_src, zero_csum=False, bad_udp=False):
    src, dst = socket.inet_pton(socket.AF_INET6, CLI6), socket.inet_pton(socket.AF_INET6, SRV6)
    ulen = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, PORT, ulen, 0) + payload
    c = _csum(src + dst + struct.pack("!IxxxB", ulen, 17) + udp) or 0xffff
    if zero_csum:
        c = 0
    elif bad_udp:
        c ^= 0x100
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!IHBB16s16s", 0x60000000, ulen, 17, 64, src, dst)
    return mac_dst + mac_src + b"\x86\xdd" + ip + udp


def _mac(ns, dev):
    out = sh("ip", "-n", ns, "link", "show", dev).stdout
    return bytes.fromhex(out.split("link/ether ")[1].split()[0].replace(":", ""))


def test_malformed_frames_and_packets(pair, xdp_server):
    """Crafted frames (bad checksums and lengths, fragments, IP options, a
    zero IPv6 checksum) get no answer; the packet fuzz corpus goes through
    as UDP payloads; the server answers normally afterwards."""
    mac_s, mac_c = _mac(pair.srv, "xdps"), _mac(pair.cli, "xdpc")
    # the neighbours, so that answers need no ARP/ND first
    pair.query("2.0.0.127.bl.test", "A")
    pair.query("2.0.0.127.bl.test", "A", addr=SRV6)
    raw = in_netns(pair.cli, lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
    raw.bind(("xdpc", 0))
    rx4 = in_netns(pair.cli, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    rx4.bind((CLI4, 0))
    rx6 = in_netns(pair.cli, lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    rx6.bind((CLI6, 0))
    p4, p6 = rx4.getsockname()[1], rx6.getsockname()[1]
    q = dns.message.make_query("2.0.0.127.bl.test", "A")

    def answered(frame, sock):
        q.id = random.randrange(65536)
        wire = q.to_wire()
        raw.send(frame(wire))
        sock.settimeout(0.5)
        try:
            while True:
                data = sock.recv(4096)
                if data[:2] == wire[:2]:
                    return dns.message.from_wire(data)
        except socket.timeout:
            return None

    try:
        # the crafted frames are right: a clean one is answered
        good4 = answered(lambda w: frame4(w, p4, mac_s, mac_c), rx4)
        assert good4 is not None and good4.answer[0][0].to_text() == "127.0.0.2"
        good6 = answered(lambda w: frame6(w, p6, mac_s, mac_c), rx6)
        assert good6 is not None and good6.answer[0][0].to_text() == "127.0.0.2"
        before = pair.udp_in()
        # a good one with Ethernet padding (tot_len shorter than the frame)
        assert answered(lambda w: frame4(w, p4, mac_s, mac_c) + b"\0" * 30, rx4) is not None
        bad = {
            "IPv4 header checksum": (lambda w: frame4(w, p4, mac_s, mac_c, bad_ip=True), rx4),
            "UDP checksum (v4)": (lambda w: frame4(w, p4, mac_s, mac_c, bad_udp=True), rx4),
            "UDP length past IP": (lambda w: frame4(w, p4, mac_s, mac_c, ulen=len(w) + 20), rx4),
            "IP length past frame": (lambda w: frame4(w, p4, mac_s, mac_c, tot=len(w) + 200), rx4),
            "UDP checksum (v6)": (lambda w: frame6(w, p6, mac_s, mac_c, bad_udp=True), rx6),
            "zero UDP checksum (v6)": (lambda w: frame6(w, p6, mac_s, mac_c, zero_csum=True), rx6),
        }
        for what, (frame, sock) in bad.items():
            assert answered(frame, sock) is None, what
        assert pair.udp_in() == before          # the XDP path saw them all
        # fragments and IP options go to the kernel (which reassembles or
        # drops them); the socket path answers a clean one with options
        assert answered(lambda w: frame4(w, p4, mac_s, mac_c, ihl=6), rx4) is not None
        assert pair.udp_in() > before
        # the fuzz corpus of the DNS parser, as payloads through XDP
        names = sorted(os.listdir(CORPUS))
        assert len(names) > 20
        s = in_netns(pair.cli, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        for n in names:
            with open(os.path.join(CORPUS, n), "rb") as f:
                data = f.read()[1:1400]     # the first byte is the target's control byte
            if data:
                s.sendto(data, (SRV4, PORT))
        s.close()
        assert xdp_server.proc.poll() is None, xdp_server.stderr()
        r = pair.query("2.0.0.127.bl.test", "A")
        assert r.answer[0][0].to_text() == "127.0.0.2"
        assert pair.udp_in() == before + 1      # only the frame with options
    finally:
        raw.close()
        rx4.close()
        rx6.close()


# --------------------------------------------------------------------------
# the differential test against rbldnsd, through the XDP path


@pytest.mark.slow
@pytest.mark.rbldnsd
def test_differential_rbldnsd_through_xdp(pair, rbldnsd_bin, datadir):
    """test_differential's data and queries; rbldnsd and rblkit both in the
    server namespace, rbldnsd on sockets and rblkit through XDP, both
    queried from the client namespace (so both see the same client
    address: queries that need a given source address are left out)."""
    gen = gen_data.generate(1, datadir)
    gen.queries = [q for q in gen.queries if q.source is None]
    servers.make_readable(datadir)
    ref_port = PORT + 1
    user = ["-u", "nobody"]
    ref = NsServer(pair, [rbldnsd_bin, *user, "-n", "-b", "%s/%d" % (SRV4, ref_port),
                          *gen.zone_specs], datadir)
    test = NsServer(pair, [servers.RBLKIT, "serve", "-n", "--threads", "1", "--xdp", "xdps",
                           "-b", "%s/%d" % (SRV4, PORT), *gen.zone_specs], datadir)
    probe = gen.zone_specs[0].split(":", 1)[0]
    local = threading.local()

    def send(port, wire, source, tries):
        if not getattr(local, "in_ns", False):
            enter_netns(pair.cli)           # the executor's threads, once each
            local.in_ns = True
        qid = wire[:2]
        for _ in range(tries):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.settimeout(2.0 if tries > 1 else 1.0)
                s.sendto(wire, (SRV4, port))
                while True:
                    data, addr = s.recvfrom(65535)
                    if addr[1] == port and data[:2] == qid:
                        return data
            except socket.timeout:
                continue
            finally:
                s.close()
        return None

    class Who:
        def __init__(self, name, port):
            self.name, self.port = name, port

    orig = test_differential.send
    test_differential.send = send
    try:
        ref.wait_ready(probe, port=ref_port)
        test.wait_ready(probe)
        before = pair.udp_in()
        report = test_differential.run_differential(gen, Who("rbldnsd", ref_port),
                                                    Who("rblkit --xdp", PORT))
        after = pair.udp_in()
    finally:
        test_differential.send = orig
        test.stop()
        ref.stop()
    assert "AF_XDP on 1 queue" in test.stderr(), test.stderr()
    problems = test_differential.check_reference(report)
    assert not problems, "\n".join(problems)
    assert not report.mismatches, report.text()
    # rbldnsd's share went through the kernel; rblkit's did not
    assert after - before <= len(gen.queries) * 2


# --------------------------------------------------------------------------
# failure and fallback


def test_no_such_interface(pair, zonedir):
    srv = rblkit(pair, zonedir, xdp="nosuch0")
    assert srv.proc.wait(20) == 1
    err = [x for x in srv.stderr().splitlines() if "error" in x]
    assert err == ["rblkit: error: --xdp: no interface nosuch0 "
                   "(--xdp-fallback serves through sockets instead)"], srv.stderr()


def test_fallback_serves_through_sockets(pair, zonedir):
    srv = rblkit(pair, zonedir, "--xdp-fallback", xdp="nosuch0").wait_ready()
    try:
        before = pair.udp_in()
        assert pair.query("2.0.0.127.bl.test", "A").answer[0][0].to_text() == "127.0.0.2"
        assert pair.udp_in() > before
        assert pair.xdp_prog() is None
    finally:
        srv.stop()
    assert ("warning: AF_XDP on nosuch0: no interface nosuch0; serving UDP through "
            "sockets instead") in srv.stderr()


def test_unprivileged_fallback(pair, zonedir):
    """Without CAP_BPF/CAP_NET_ADMIN: one line saying why; with
    --xdp-fallback, sockets.  (Port 5353 needs no privilege.)"""
    setpriv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
               "--inh-caps=-all", "--bounding-set=-all"]
    argv = [servers.RBLKIT, "serve", "-n", "--threads", "1", "-b", "%s/%d" % (SRV4, PORT),
            "--xdp", "xdps", "-u", "nobody", *ZONES]
    srv = NsServer(pair, [*setpriv, *argv], zonedir)
    assert srv.proc.wait(20) == 1
    err = [x for x in srv.stderr().splitlines() if "error" in x]
    assert len(err) == 1 and "cannot load the XDP program: Operation not permitted" in err[0] \
        and "needs root" in err[0], srv.stderr()
    srv = NsServer(pair, [*setpriv, *argv, "--xdp-fallback"], zonedir).wait_ready()
    try:
        assert pair.query("2.0.0.127.bl.test", "A").answer[0][0].to_text() == "127.0.0.2"
    finally:
        srv.stop()
    assert pair.xdp_prog() is None


def test_program_gone_after_exit_and_crash(pair, zonedir):
    srv = rblkit(pair, zonedir).wait_ready()
    assert pair.xdp_prog() == "rblkit_xdp_dns"
    srv.stop()
    assert pair.xdp_prog() is None                     # SIGTERM: detached
    srv = rblkit(pair, zonedir).wait_ready()
    srv.stop(signal.SIGKILL)
    assert pair.xdp_prog() is None                     # a crash: the link went with it
    srv = rblkit(pair, zonedir).wait_ready()
    try:
        assert pair.query("2.0.0.127.bl.test", "A").answer[0][0].to_text() == "127.0.0.2"
    finally:
        srv.stop()


def test_stale_netlink_program_replaced(pair, zonedir):
    """Our program attached the old way (netlink, as by `ip link set xdp`,
    which survives its loader) is replaced at the next start."""
    obj = os.path.join(os.path.dirname(os.path.realpath(servers.RBLKIT)), "build", "bpf",
                       "xdp_dns.bpf.o")
    if not os.path.exists(obj):
        obj = os.path.join(REPO, "build", "bpf", "xdp_dns.bpf.o")
    r = sh("ip", "-n", pair.srv, "link", "set", "dev", "xdps", "xdpdrv", "obj", obj,
           "sec", "xdp", check=False)
    if r.returncode:
        pytest.skip("ip cannot attach an XDP object here: " + r.stderr.strip())
    assert pair.xdp_prog() == "rblkit_xdp_dns"
    srv = rblkit(pair, zonedir).wait_ready()
    try:
        assert "removed the XDP program of an earlier run" in srv.stderr()
        assert pair.query("2.0.0.127.bl.test", "A").answer[0][0].to_text() == "127.0.0.2"
    finally:
        srv.stop()
    assert pair.xdp_prog() is None
