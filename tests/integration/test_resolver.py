"""rblkit serve as a real resolver sees it: Unbound with strict QNAME
minimisation.

A resolver that minimises the QNAME (RFC 9156) walks down an IPv6 nibble
name one label at a time: "2.bl6.test", "0.2.bl6.test", ... Every one of
those names is an empty non-terminal of a listed address and must answer
NODATA; one NXDOMAIN on the way and a strict resolver stops there (RFC 8020),
so the listed address is never found.  The same holds for all-digit labels
("2", "0.0.0.0"), which are also the first octets of an IPv4 address.

Unbound (Debian's `unbound` package) is started on a loopback port from a
temp directory with a stub-zone for each zone pointing at rblkit, iterator
only (no validation, no root hints needed).  The tests are skipped with a
reason when unbound is not installed.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import dns.exception
import dns.message
import dns.query
import dns.rcode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from helpers_proto import a_values, nibbles6, rcode, wait_for, write_data  # noqa: E402

UNBOUND = "/usr/sbin/unbound"
SOA = "$SOA 60 ns.{z} hostmaster.{z} 1 1h 10m 1w 60\n$NS 60 ns.{z}\n"

BL6 = SOA.format(z="bl6.test") + ":127.0.0.2:listed $\n2001:db8::/32\nfd12:3456::/32\n"
MIX4 = SOA.format(z="mix.test") + "127.0.0.2\n"
MIX6 = "::1\n2001:db8:1::5\n"
SPECS = ["bl6.test:ip6trie:bl6.txt", "mix.test:ip4set:mix4.txt", "mix.test:ip6trie:mix6.txt"]
ZONES = ["bl6.test", "mix.test"]


def _nib(ip, zone, n):
    """The first n nibble labels of ip (from the top) under zone."""
    labels = nibbles6(ip, zone).split(".")[:-2]
    return ".".join(labels[32 - n:]) + "." + zone


@pytest.fixture(scope="module")
def serve():
    d = servers.make_datadir()
    write_data(d, "bl6.txt", BL6)
    write_data(d, "mix4.txt", MIX4)
    write_data(d, "mix6.txt", MIX6)
    s = servers.start_rblkit(SPECS, d)
    yield s
    s.__exit__(None, None, None)
    shutil.rmtree(d, ignore_errors=True)


class Unbound:
    def __init__(self, serve_port, zones):
        self.dir = tempfile.mkdtemp(prefix="rblkit-unbound-", dir="/tmp")
        self.port = servers.free_port()
        conf = os.path.join(self.dir, "unbound.conf")
        # "test." is one of unbound's default local zones: nodefault
        local = '    local-zone: "test." nodefault\n'
        stubs = "".join(f'stub-zone:\n    name: "{z}."\n    stub-addr: 127.0.0.1@{serve_port}\n'
                        for z in zones)
        with open(conf, "w") as f:
            f.write(f"""server:
    interface: 127.0.0.1
    port: {self.port}
    do-ip6: no
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{self.dir}"
    pidfile: "{self.dir}/unbound.pid"
    logfile: "{self.dir}/unbound.log"
    use-syslog: no
    verbosity: 2
    num-threads: 1
    so-reuseport: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    module-config: "iterator"
    qname-minimisation: yes
    qname-minimisation-strict: yes
{local}remote-control:
    control-enable: no
{stubs}""")
        self.log = open(os.path.join(self.dir, "stdout"), "w+b")
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", conf], cwd=self.dir,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def query(self, name, rdtype="A"):
        q = dns.message.make_query(name, rdtype)
        return dns.query.udp(q, servers.LOOPBACK, port=self.port, timeout=3.0)

    def ready(self):
        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("unbound exited:\n" + self.log_text())
            try:
                self.query(ZONES[0], "SOA")
                return True
            except (dns.exception.Timeout, OSError):
                return False
        return wait_for(up, 10.0, 0.1)

    def log_text(self):
        out = []
        for p in (os.path.join(self.dir, "unbound.log"), os.path.join(self.dir, "stdout")):
            if os.path.exists(p):
                out.append(open(p, errors="replace").read())
        return "\n".join(out)[-4000:]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def unbound(serve):
    if not os.access(UNBOUND, os.X_OK):
        pytest.skip("unbound is not installed (apt-get install unbound): "
                    "the strict QNAME minimisation tests need it")
    u = Unbound(serve.port, ZONES)
    try:
        if not u.ready():
            pytest.fail("unbound did not answer within 10 s:\n" + u.log_text())
        yield u
    finally:
        u.stop()


# --------------------------------------------------------------------------
# the server itself: every ancestor of a listed address is NODATA


@pytest.mark.parametrize("ip,zone", [("2001:db8::1", "bl6.test"),
                                     ("fd12:3456::1", "bl6.test"),
                                     ("::1", "mix.test"),
                                     ("2001:db8:1::5", "mix.test")])
def test_every_nibble_ancestor_of_a_listed_address_is_nodata(serve, ip, zone):
    bad = []
    for n in range(1, 32):
        name = _nib(ip, zone, n)
        r = serve.query(name, "A")
        if rcode(r) != "NOERROR" or r.answer:
            bad.append(f"{name}: {rcode(r)}")
    assert not bad, "ancestors of a listed address that are not NODATA:\n" + "\n".join(bad)
    r = serve.query(nibbles6(ip, zone), "A")
    assert rcode(r) == "NOERROR" and a_values(r)


def test_issue_examples(serve):
    def st(name):
        return rcode(serve.query(name, "A"))
    assert st("2.bl6.test") == "NOERROR"
    assert st("1.d.f.bl6.test") == "NOERROR"
    assert st("d.f.bl6.test") == "NOERROR"
    assert st("0.0.0.0.mix.test") == "NOERROR"
    # not every digit label exists: no listed address starts with 3 or 1.0.0.0
    assert st("3.bl6.test") == "NXDOMAIN"
    assert st("2.d.f.bl6.test") == "NXDOMAIN"
    assert st("1.0.0.0.mix.test") == "NXDOMAIN"
    # IPv4 prefixes in the mixed zone still work
    assert st("127.mix.test") == "NOERROR"
    assert st("0.0.127.mix.test") == "NOERROR"
    assert st("2.0.0.127.mix.test") == "NOERROR"


# --------------------------------------------------------------------------
# through Unbound in strict QNAME minimisation mode


@pytest.mark.parametrize("ip,zone", [("2001:db8::1", "bl6.test"),
                                     ("2001:db8:ffff::42", "bl6.test"),
                                     ("fd12:3456::1", "bl6.test"),
                                     ("::1", "mix.test")])
def test_listed_ipv6_resolves_through_strict_unbound(unbound, ip, zone):
    r = unbound.query(nibbles6(ip, zone), "A")
    assert rcode(r) == "NOERROR" and a_values(r), \
        f"{ip} listed in {zone}, but through unbound: {rcode(r)}\n{unbound.log_text()}"


def test_unlisted_ipv6_is_nxdomain_through_unbound(unbound):
    r = unbound.query(nibbles6("2001:db9::1", "bl6.test"), "A")
    assert rcode(r) == "NXDOMAIN"


@pytest.mark.parametrize("qtype", ["CAA", "TYPE65534"])
def test_unknown_type_is_nodata_not_servfail_through_unbound(unbound, qtype):
    r = unbound.query(nibbles6("2001:db8::1", "bl6.test"), qtype)
    assert rcode(r) == "NOERROR" and not r.answer, r.to_text()
