"""Helpers shared by the protocol, AXFR, reload and CLI integration tests.

servers.py (start/stop/query rblkit) is the base; this module adds what those
tests need on top of it: writing data files (plain or gzip, with a chosen
mtime), building reverse names, raw TCP exchanges with two-byte length
framing, waiting for a condition, and running Debian's NSD or Knot as a
secondary of rblkit.

Nothing here talks to anything but loopback addresses.
"""

import gzip
import ipaddress
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

import servers

SOA_LINE = "$SOA 3600 ns1.{zone} hostmaster.{zone} 0 2h 1h 1w 10m"
NS_LINE = "$NS 3600 ns1.{zone} ns2.{zone}"


# --------------------------------------------------------------------------
# data files


def write_data(datadir, name, text, mtime=None, gz=False):
    """Write a data file atomically (temp file + rename, as rbldnsd(8)
    recommends) and return its path.  mtime: seconds since the epoch to set
    on the file (rblkit, like rbldnsd, notices changes by mtime, which has a
    one-second granularity: tests set it explicitly to be deterministic)."""
    path = os.path.join(datadir, name)
    tmp = path + ".tmp"
    data = text.encode()
    if gz:
        data = gzip.compress(data)
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    if mtime is not None:
        os.utime(tmp, (mtime, mtime))
    os.rename(tmp, path)
    return path


def zone_header(zone):
    """$SOA and $NS lines for zone (serial 0: the file's mtime)."""
    return SOA_LINE.format(zone=zone) + "\n" + NS_LINE.format(zone=zone) + "\n"


def rev4(ip, zone):
    """"1.2.3.4", "bl.test" -> "4.3.2.1.bl.test"."""
    return ".".join(reversed(ip.split("."))) + "." + zone


def nibbles6(ip, zone):
    """An IPv6 address as a 32-label nibble name under zone."""
    full = ipaddress.IPv6Address(ip).exploded.replace(":", "")
    return ".".join(reversed(full)) + "." + zone


# --------------------------------------------------------------------------
# answers


def rcode(resp):
    return dns.rcode.to_text(resp.rcode())


def rrset_values(resp, rdtype, section="answer"):
    """Sorted text of the records of one type in a section."""
    t = dns.rdatatype.from_text(rdtype) if isinstance(rdtype, str) else rdtype
    out = []
    for rrset in getattr(resp, section):
        if rrset.rdtype == t:
            out.extend(rd.to_text() for rd in rrset)
    return sorted(out)


def a_values(resp):
    return rrset_values(resp, "A")


def txt_values(resp):
    """TXT strings without quotes (the character strings joined)."""
    out = []
    for rrset in resp.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            for rd in rrset:
                out.append(b"".join(rd.strings).decode("utf-8", "replace"))
    return sorted(out)


# --------------------------------------------------------------------------
# raw transports


def recv_exact(sock, n):
    """Read exactly n bytes; returns fewer only if the peer closed."""
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def tcp_connect(port, host=servers.LOOPBACK, timeout=5.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def frame(wire):
    return struct.pack("!H", len(wire)) + wire


def tcp_read_msg(sock):
    """One length-framed DNS message, or None if the connection closed."""
    hdr = recv_exact(sock, 2)
    if len(hdr) < 2:
        return None
    (n,) = struct.unpack("!H", hdr)
    data = recv_exact(sock, n)
    if len(data) < n:
        return None
    return data


def udp_exchange(wire, port, host=servers.LOOPBACK, timeout=2.0):
    """Send raw bytes over UDP to host:port; the reply bytes or None."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(wire, (host, port))
        return s.recvfrom(65535)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


# --------------------------------------------------------------------------
# waiting


def wait_for(pred, timeout=10.0, interval=0.05):
    """Call pred() until it returns a true value (returned) or timeout
    passes (returns the last false value).  Exceptions from pred count as
    false."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = pred()
            if last:
                return last
        except (dns.exception.DNSException, OSError):
            last = None
        if time.monotonic() > deadline:
            return last
        time.sleep(interval)


def have_ipv6_loopback():
    """Can we bind ::1 at all?"""
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    except OSError:
        return False
    try:
        s.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port_both():
    """A port free on 127.0.0.1 and on ::1 (UDP and TCP)."""
    for _ in range(50):
        port = servers.free_port()
        socks = []
        try:
            for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(socket.AF_INET6, typ)
                socks.append(s)
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind(("::1", port))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


def run_rblkit(args, timeout=10.0, cwd=None):
    """Run the rblkit binary to completion; CompletedProcess with text output."""
    return subprocess.run([servers.RBLKIT, *args], cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


# --------------------------------------------------------------------------
# secondaries


class Secondary:
    """A secondary name server (NSD or Knot) that transfers one zone from
    rblkit, run in the foreground as root from its own temp directory."""

    def __init__(self, kind, zones, primary_port):
        self.kind = kind
        self.zones = [z.rstrip(".") for z in ([zones] if isinstance(zones, str) else zones)]
        self.zone = self.zones[0]
        self.primary_port = primary_port
        self.dir = tempfile.mkdtemp(prefix=f"rblkit-{kind}-", dir="/tmp")
        self.port = servers.free_port()
        self.proc = None
        self._log = open(os.path.join(self.dir, "server.log"), "w+b")

    # configuration -------------------------------------------------------

    def _nsd_conf(self):
        d = self.dir
        return f"""server:
    ip-address: 127.0.0.1@{self.port}
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "{d}"
    pidfile: "{d}/nsd.pid"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    zonelistfile: "{d}/zone.list"
    database: ""
    verbosity: 2
    logfile: "{d}/nsd.log"
    # the zone is unsigned and answers are plain: nothing else to set up

remote-control:
    control-enable: no

""" + "".join(f"""
zone:
    name: "{z}"
    zonefile: "{z}.zone"
    request-xfr: 127.0.0.1@{self.primary_port} NOKEY
    allow-notify: 127.0.0.1 NOKEY
""" for z in self.zones)

    def _knot_conf(self):
        d = self.dir
        return f"""server:
    listen: 127.0.0.1@{self.port}
    rundir: "{d}"
    pidfile: "{d}/knot.pid"

log:
  - target: stderr
    any: info

database:
    storage: "{d}/db"

remote:
  - id: primary
    address: 127.0.0.1@{self.primary_port}

acl:
  - id: notify_from_primary
    address: 127.0.0.1
    action: notify

template:
  - id: default
    storage: "{d}"
    zonefile-sync: -1
    zonefile-load: none
    journal-content: none

zone:
""" + "".join(f"""  - domain: {z}
    master: primary
    acl: notify_from_primary
""" for z in self.zones)

    def argv(self):
        if self.kind == "nsd":
            conf = os.path.join(self.dir, "nsd.conf")
            with open(conf, "w") as f:
                f.write(self._nsd_conf())
            return ["/usr/sbin/nsd", "-d", "-c", conf]
        conf = os.path.join(self.dir, "knot.conf")
        with open(conf, "w") as f:
            f.write(self._knot_conf())
        return ["/usr/sbin/knotd", "-c", conf]

    # life cycle ----------------------------------------------------------

    def start(self):
        self.proc = subprocess.Popen(self.argv(), cwd=self.dir, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        return self

    def serial(self, zone=None):
        """The SOA serial the secondary serves for zone, or None."""
        q = dns.message.make_query(zone or self.zone, "SOA")
        try:
            r = dns.query.udp(q, servers.LOOPBACK, port=self.port, timeout=0.5)
        except (dns.exception.Timeout, dns.query.BadResponse, dns.query.UnexpectedSource,
                OSError):
            # BadResponse: the late answer to an earlier poll that timed
            # out, arriving on a new socket that got the same port (a
            # secondary busy with a big transfer answers late)
            return None
        if r.rcode() != dns.rcode.NOERROR:
            return None
        for rrset in r.answer:
            if rrset.rdtype == dns.rdatatype.SOA:
                return rrset[0].serial
        return None

    def wait_serial(self, serial, timeout=20.0, zone=None):
        """Wait until the secondary serves the zone with this serial."""
        def ok():
            if self.proc.poll() is not None:
                raise RuntimeError("exited")
            return self.serial(zone) == serial
        try:
            return bool(wait_for(ok, timeout, 0.1))
        except RuntimeError:
            return False

    def log_text(self):
        parts = []
        parts.append(servers.read_log(self._log))
        nsdlog = os.path.join(self.dir, "nsd.log")
        if os.path.exists(nsdlog):
            with open(nsdlog, errors="replace") as f:
                parts.append(f.read())
        return "\n".join(parts)

    def query(self, qname, rdtype="A"):
        q = dns.message.make_query(qname, rdtype)
        for _ in range(3):
            try:
                return dns.query.udp(q, servers.LOOPBACK, port=self.port, timeout=2.0)
            except dns.query.BadResponse:
                continue        # a late answer to an earlier query (see serial)
        return dns.query.udp(q, servers.LOOPBACK, port=self.port, timeout=2.0)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
