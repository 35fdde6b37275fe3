"""rblkit serve's listen addresses, pid file and start-up errors.

The -b spellings are rbldnsd's (ADDR/PORT, ADDR, /PORT, ::1/PORT) plus
[::1]/PORT.  An address that does not parse, a port out of range and a port
in use each end the start with a message naming the address and status 1;
a bad option value is a usage error (status 2).  The pid file (-p) holds
the server's pid while it runs and is removed when it stops.

Nothing here binds anything but 127.0.0.1 and ::1: an address that must be
refused is refused before any socket exists.
"""

import os
import socket
import sys

import dns.message
import dns.query
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from helpers_proto import (  # noqa: E402
    a_values, free_port_both, have_ipv6_loopback, rev4, run_rblkit, write_data,
    zone_header)

DATA = zone_header("bl.test") + ":127.0.0.2:Listed $\n127.0.0.2\n"
SPEC = "bl.test:ip4set:bl.txt"


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    return rblkit_bin


def _no_crash(p):
    assert p.returncode >= 0, "killed by signal %d: %s" % (-p.returncode, p.stderr)
    assert "Sanitizer" not in p.stderr, p.stderr


@pytest.mark.parametrize("spec,word", [
    ("300.1.2.3/53", "300.1.2.3"),      # not an address (nor a name)
    ("127.0.0.1/0", "127.0.0.1/0"),     # used to bind a random port
    ("127.0.0.1/99999", "99999"),       # used to wrap to 34463
    ("127.0.0.1/", "127.0.0.1/"),
    ("", "empty listen address"),       # used to bind every address, port 53
])
def test_bad_listen_address_is_an_error(datadir, spec, word):
    write_data(datadir, "bl.txt", DATA)
    p = run_rblkit(["serve", "-n", "-b", spec, SPEC], cwd=datadir, timeout=20)
    _no_crash(p)
    assert p.returncode == 1, (spec, p.returncode, p.stderr)
    assert word in p.stderr and "listen address" in p.stderr, p.stderr
    assert "serving" not in p.stderr, p.stderr


def test_bad_metrics_address_is_an_error(datadir):
    write_data(datadir, "bl.txt", DATA)
    port = servers.free_port()
    p = run_rblkit(["serve", "-n", "-b", f"127.0.0.1/{port}", "--http", "127.0.0.1/0",
                    SPEC], cwd=datadir, timeout=20)
    _no_crash(p)
    assert p.returncode == 1 and "'127.0.0.1/0'" in p.stderr, p.stderr


@pytest.mark.parametrize("typ,proto", [(socket.SOCK_STREAM, "tcp"),
                                       (socket.SOCK_DGRAM, "udp")])
def test_port_in_use_names_the_address(datadir, typ, proto):
    write_data(datadir, "bl.txt", DATA)
    busy = socket.socket(socket.AF_INET, typ)
    try:
        busy.bind(("127.0.0.1", 0))
        if typ == socket.SOCK_STREAM:
            busy.listen(1)
        port = busy.getsockname()[1]
        p = run_rblkit(["serve", "-n", "-b", f"127.0.0.1/{port}", SPEC], cwd=datadir,
                       timeout=20)
    finally:
        busy.close()
    _no_crash(p)
    assert p.returncode == 1, p.stderr
    assert f"cannot listen on 127.0.0.1:{port} ({proto}): Address already in use" \
        in p.stderr, p.stderr


@pytest.mark.parametrize("args", [["--tcp-idle", "abc"], ["--tcp-idle", "50x"],
                                  ["--tcp-idle", "5"], ["--threads", "0"],
                                  ["--threads", "2x"], ["-t", "abc"], ["-c", "soon"],
                                  ["--notify", "nowhere"],
                                  ["--allow-transfer", "10.0.0.1/8"]])
def test_bad_option_value_is_a_usage_error(datadir, args):
    write_data(datadir, "bl.txt", DATA)
    port = servers.free_port()
    p = run_rblkit(["serve", "-n", "-b", f"127.0.0.1/{port}", *args, SPEC], cwd=datadir)
    _no_crash(p)
    assert p.returncode == 2, (args, p.returncode, p.stderr)
    assert args[0] in p.stderr and "rblkit help serve" in p.stderr, p.stderr


def test_no_listen_address_hint_stays(datadir):
    write_data(datadir, "bl.txt", DATA)
    p = run_rblkit(["serve", "-n", SPEC], cwd=datadir)
    assert p.returncode == 1
    assert "no listen address: use -b address/port" in p.stderr, p.stderr


def test_bracketed_ipv6_listen_address(datadir):
    if not have_ipv6_loopback():
        pytest.skip("this host has no ::1")
    write_data(datadir, "bl.txt", DATA)
    port = free_port_both()
    s = servers.Server("rblkit-v6")
    try:
        s.start(servers.rblkit_argv([SPEC], port, ["-b", f"[::1]/{port}"]), port,
                cwd=datadir, probe="bl.test")
        q = dns.message.make_query(rev4("127.0.0.2", "bl.test"), "A")
        for fn in (dns.query.udp, dns.query.tcp):
            r = fn(q, "::1", port=port, timeout=2.0)
            assert a_values(r) == ["127.0.0.2"], r
    finally:
        s.__exit__(None, None, None)


def test_pid_file_written_and_removed(datadir):
    write_data(datadir, "bl.txt", DATA)
    pidfile = os.path.join(datadir, "rblkit.pid")
    s = servers.start_rblkit([SPEC], datadir, ["-p", pidfile])
    try:
        with open(pidfile) as f:
            assert f.read() == "%d\n" % s.pid
        assert s.stop() == 0, s.stderr_text()
        assert not os.path.exists(pidfile), "pid file left after a clean stop"
    finally:
        s.__exit__(None, None, None)


def test_pid_file_failure_is_a_warning(datadir):
    write_data(datadir, "bl.txt", DATA)
    s = servers.start_rblkit([SPEC], datadir, ["-p", os.path.join(datadir, "no", "x.pid")])
    try:
        assert s.query(rev4("127.0.0.2", "bl.test")).answer, "not serving"
        assert "x.pid" in s.stderr_text() and "warning" in s.stderr_text()
        assert s.stop() == 0
    finally:
        s.__exit__(None, None, None)
