"""Start, probe and stop DNS servers for the integration tests.

Two servers are supported: the rblkit binary under test (``start_rblkit``)
and Debian's rbldnsd, the reference implementation (``start_rbldnsd``).
Both are run in the foreground on a random free loopback port, and the
helpers only return once the server answers DNS queries over UDP.

Environment:
  RBLKIT          path of the rblkit binary (default: <repo>/rblkit)
  RBLKIT_WRAPPER  command prefix for rblkit, e.g. "valgrind -q" (shlex split)
  RBLDNSD         path of rbldnsd (default: /usr/sbin/rbldnsd)
"""

import os
import random
import shlex
import signal
import socket
import subprocess
import tempfile
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RBLKIT = os.environ.get("RBLKIT") or os.path.join(REPO, "rblkit")
RBLDNSD = os.environ.get("RBLDNSD") or "/usr/sbin/rbldnsd"
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 10.0

# keyword arguments of Server.query() that belong to dns.query.udp/tcp;
# everything else is passed to dns.message.make_query()
_TRANSPORT_KW = ("source", "source_port", "ignore_unexpected", "one_rr_per_rrset",
                 "ignore_trailing", "raise_on_truncation", "timeout")


def _below_ephemeral():
    """The range free_port() picks from: below the kernel's ephemeral
    ports (ip_local_port_range), which every outgoing connection of every
    test takes its local port from.  A port from bind(port 0) is one of
    those, and between free_port() and the server's own bind another
    test's connection could take it (seen: Knot "cannot bind ... address
    already in use" under pytest -n 3)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return (10000, low - 1) if low > 11000 else (1024, 65535)


def free_port():
    """Return a port that is currently free for both UDP and TCP on
    127.0.0.1, chosen at random below the ephemeral range."""
    lo, hi = _below_ephemeral()
    for _ in range(200):
        port = random.randint(lo, hi)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            tcp.bind((LOOPBACK, port))
            udp.bind((LOOPBACK, port))
            return port
        except OSError:
            continue
        finally:
            tcp.close()
            udp.close()
    raise RuntimeError("could not find a port free for both UDP and TCP")


def make_datadir(prefix="rblkit-it-"):
    """Create a data directory under /tmp that the `nobody` user can read.

    rbldnsd drops privileges before loading its data, so the directory must be
    world-traversable (pytest's tmp_path is mode 0700 and would not do).
    The caller owns the directory and removes it (shutil.rmtree)."""
    path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(path, 0o755)
    return path


def make_readable(path):
    """chmod a data tree to 755 (directories) / 644 (files)."""
    os.chmod(path, 0o755)
    for root, dirs, files in os.walk(path):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


def read_log(f):
    """Everything a child has written so far to the file f (its stdout or
    stderr).  The child writes through the same open file, so one offset is
    shared: a seek+read here would move it under a write in flight, and the
    child would overwrite the start of its own log.  pread moves nothing."""
    if f is None:
        return ""
    fd, off, parts = f.fileno(), 0, []
    while True:
        b = os.pread(fd, 1 << 16, off)
        if not b:
            break
        parts.append(b)
        off += len(b)
    return b"".join(parts).decode("utf-8", "replace")


class ServerError(RuntimeError):
    pass


class Server:
    """A DNS server child process listening on 127.0.0.1:port.

    Usage:
        with Server("rblkit") as s:
            s.start([...argv...], port, cwd=datadir, probe="bl.test")
            resp = s.query("2.0.0.127.bl.test", "A")
    """

    def __init__(self, name="server"):
        self.name = name
        self.proc = None
        self.port = None
        self.argv = None
        self._out = None
        self._err = None

    # -- life cycle -------------------------------------------------------

    def start(self, argv, port, cwd=None, env=None, probe=None, timeout=START_TIMEOUT):
        """Run argv and wait until the server answers a UDP query.

        probe: name to query (type SOA) while waiting; any answer other than
        SERVFAIL (a zone that is still loading) counts as ready.  On timeout
        or early exit the process is stopped and ServerError carries its stderr.
        """
        if self.proc is not None:
            raise ServerError(f"{self.name}: already started")
        self.argv = list(argv)
        self.port = port
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(self.argv, cwd=cwd, env=env,
                                         stdin=subprocess.DEVNULL,
                                         stdout=self._out, stderr=self._err)
        except OSError as e:
            raise ServerError(f"{self.name}: cannot run {self.argv[0]}: {e}") from e
        self._wait_ready(probe or "probe.invalid", timeout)
        return self

    def _wait_ready(self, probe, timeout):
        deadline = time.monotonic() + timeout
        last = "no answer"
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise ServerError(f"{self.name} exited with status {rc} before answering\n"
                                  f"command: {shlex.join(self.argv)}\n"
                                  f"stderr:\n{self.stderr_text()}\nstdout:\n{self.stdout_text()}")
            try:
                r = self.query(probe, "SOA", timeout=0.25)
                if r.rcode() != dns.rcode.SERVFAIL:
                    return
                last = "SERVFAIL (still loading?)"
            except (dns.exception.Timeout, OSError) as e:
                last = repr(e)
            if time.monotonic() > deadline:
                self.stop()
                raise ServerError(f"{self.name} did not answer on 127.0.0.1:{self.port} "
                                  f"within {timeout}s (last: {last})\n"
                                  f"command: {shlex.join(self.argv)}\n"
                                  f"stderr:\n{self.stderr_text()}\nstdout:\n{self.stdout_text()}")
            time.sleep(0.05)

    def stop(self, timeout=5.0):
        """SIGTERM the server, SIGKILL it if it is still there after timeout.
        Returns the exit status (None if it was never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def _read(self, f):
        return read_log(f)

    def stderr_text(self):
        return self._read(self._err)

    def stdout_text(self):
        return self._read(self._out)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        for f in (self._out, self._err):
            if f is not None:
                f.close()
        self._out = self._err = None
        return False

    # -- queries ----------------------------------------------------------

    def query(self, qname, rdtype="A", tcp=False, **kw):
        """Send one query and return the response (dns.message.Message).

        qname may also be a ready dns.message.Message.  Keyword arguments
        timeout/source/source_port/... go to dns.query.udp/tcp, the others
        (rdclass, use_edns, payload, flags, id, ...) to dns.message.make_query.
        The query is sent without EDNS unless use_edns is given.
        """
        tkw = {k: kw.pop(k) for k in list(kw) if k in _TRANSPORT_KW}
        tkw.setdefault("timeout", 2.0)
        if isinstance(qname, dns.message.Message):
            q = qname
        else:
            q = dns.message.make_query(qname, rdtype, **kw)
        fn = dns.query.tcp if tcp else dns.query.udp
        return fn(q, LOOPBACK, port=self.port, **tkw)

    def query_wire(self, wire, timeout=2.0, source=None):
        """Send raw bytes over UDP; return the raw reply bytes or None on timeout.
        No validation at all: for malformed queries and odd opcodes/classes."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((source or LOOPBACK, 0))
            s.settimeout(timeout)
            s.sendto(wire, (LOOPBACK, self.port))
            while True:
                data, addr = s.recvfrom(65535)
                if addr[1] == self.port:
                    return data
        except socket.timeout:
            return None
        finally:
            s.close()


def _probe_name(zone_specs):
    for spec in zone_specs:
        zone = spec.split(":", 1)[0]
        if zone:
            return zone
    return None


def rblkit_argv(zone_specs, port, extra_args=()):
    wrapper = shlex.split(os.environ.get("RBLKIT_WRAPPER", ""))
    return [*wrapper, RBLKIT, "serve", "-n", "-b", f"{LOOPBACK}/{port}",
            *extra_args, *zone_specs]


def rbldnsd_argv(zone_specs, port, extra_args=()):
    # rbldnsd refuses to run as root without -u; it then reads the data as
    # that user.  -n: stay in the foreground.  Without -q it loads the zones
    # before answering and aborts on fatal data errors (warnings go to stderr).
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    return [RBLDNSD, *user, "-n", "-b", f"{LOOPBACK}/{port}", *extra_args, *zone_specs]


def start_rblkit(zone_specs, datadir, extra_args=(), port=None, name="rblkit"):
    """Start `rblkit serve` on a free port with cwd=datadir; returns a ready Server."""
    port = port or free_port()
    srv = Server(name)
    srv.start(rblkit_argv(zone_specs, port, extra_args), port, cwd=datadir,
              probe=_probe_name(zone_specs))
    return srv


def start_rbldnsd(zone_specs, datadir, extra_args=(), port=None, name="rbldnsd"):
    """Start Debian's rbldnsd on a free port with cwd=datadir; returns a ready Server.
    datadir and its files must be readable by `nobody` (see make_readable)."""
    if not os.access(RBLDNSD, os.X_OK):
        raise ServerError(f"rbldnsd not found at {RBLDNSD} (apt-get install rbldnsd)")
    make_readable(datadir)
    port = port or free_port()
    srv = Server(name)
    srv.start(rbldnsd_argv(zone_specs, port, extra_args), port, cwd=datadir,
              probe=_probe_name(zone_specs))
    return srv
