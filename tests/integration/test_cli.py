"""The rblkit command line: what an operator (or a service manager) sees.

rblkit serve takes rbldnsd's command line; options that only make sense in
rbldnsd (-d dump, -x/-X extensions) are refused with a message instead of
being silently ignored.
"""

import os
import pwd
import re
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from helpers_proto import (  # noqa: E402
    a_values, rev4, run_rblkit, wait_for, write_data, zone_header)

DATA = zone_header("bl.test") + ":127.0.0.2:Listed $\n127.0.0.2\n"


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    return rblkit_bin


def _serve(datadir, *args):
    """`rblkit serve -n -b 127.0.0.1/PORT args...` expected to exit at once."""
    port = servers.free_port()
    return run_rblkit(["serve", "-n", "-b", f"127.0.0.1/{port}", *args], cwd=datadir)


# --------------------------------------------------------------------------
# version and help


def test_version():
    p = run_rblkit(["--version"])
    assert p.returncode == 0, p.stderr
    assert re.fullmatch(r"rblkit \d+\.\d+\.\d+\S*\n", p.stdout), repr(p.stdout)


def test_help_lists_commands():
    p = run_rblkit(["help"])
    assert p.returncode == 0, p.stderr
    assert "usage: rblkit" in p.stdout
    assert re.search(r"^\s+serve\s", p.stdout, re.M), p.stdout
    p = run_rblkit([])
    assert p.returncode != 0, "no command must be an error"
    assert "usage" in p.stderr


def test_help_serve_documents_options():
    p = run_rblkit(["help", "serve"])
    assert p.returncode == 0, p.stderr
    assert "zone:type:file" in p.stdout
    for opt in ("-b", "-u", "-c", "-t", "-v", "-p", "--tcp-idle"):
        assert re.search(rf"^\s+{re.escape(opt)}\b", p.stdout, re.M), (opt, p.stdout)
    for t in ("ip4set", "ip4trie", "ip6trie", "dnset", "generic", "combined", "acl"):
        assert t in p.stdout
    # the same text from `rblkit serve --help`
    p2 = run_rblkit(["serve", "--help"])
    assert p2.returncode == 0 and p2.stdout == p.stdout


def test_unknown_command():
    p = run_rblkit(["frobnicate"])
    assert p.returncode != 0
    assert "frobnicate" in p.stderr


# --------------------------------------------------------------------------
# errors before serving


def test_unknown_option(datadir):
    write_data(datadir, "bl.txt", DATA)
    p = _serve(datadir, "--bogus-option", "bl.test:ip4set:bl.txt")
    assert p.returncode != 0
    assert "bogus-option" in p.stderr, p.stderr
    p = _serve(datadir, "-Z", "bl.test:ip4set:bl.txt")
    assert p.returncode != 0
    assert "invalid option" in p.stderr and "Z" in p.stderr, p.stderr
    assert "help serve" in p.stderr, "no pointer to the usage text"


@pytest.mark.parametrize("spec", ["bl.test:ip4set", "bl.test", "bl.test:ip4set:"])
def test_invalid_zone_spec(datadir, spec):
    p = _serve(datadir, spec)
    assert p.returncode != 0, p.stderr
    assert spec in p.stderr, p.stderr
    assert "zone:type:file" in p.stderr, p.stderr


def test_unknown_dataset_type(datadir):
    write_data(datadir, "bl.txt", DATA)
    p = _serve(datadir, "bl.test:ip5set:bl.txt")
    assert p.returncode != 0
    assert "ip5set" in p.stderr and "unknown dataset type" in p.stderr, p.stderr


def test_missing_data_file_at_start(datadir):
    write_data(datadir, "bl.txt", DATA)
    p = _serve(datadir, "bl.test:ip4set:bl.txt,missing-file.txt")
    assert p.returncode != 0, "started without its data"
    assert "missing-file.txt" in p.stderr, p.stderr
    assert "No such file" in p.stderr, p.stderr


def test_no_listen_address_or_zone(datadir):
    write_data(datadir, "bl.txt", DATA)
    p = run_rblkit(["serve", "-n", "bl.test:ip4set:bl.txt"], cwd=datadir)
    assert p.returncode != 0 and "-b" in p.stderr, p.stderr
    p = _serve(datadir)
    assert p.returncode != 0 and "zone" in p.stderr, p.stderr


@pytest.mark.parametrize("args,word", [(["-d"], "-d"), (["-x", "ext.so"], "-x"),
                                       (["-X", "arg"], "-X")])
def test_rbldnsd_only_options_refused(datadir, args, word):
    write_data(datadir, "bl.txt", DATA)
    p = _serve(datadir, *args, "bl.test:ip4set:bl.txt")
    assert p.returncode != 0, f"{args} accepted"
    assert word in p.stderr and "not supported" in p.stderr, p.stderr


def test_invalid_option_values(datadir):
    write_data(datadir, "bl.txt", DATA)
    for args in (["-t", "abc"], ["-t", "10:20:5"], ["-c", "soon"], ["--threads", "0"]):
        p = _serve(datadir, *args, "bl.test:ip4set:bl.txt")
        assert p.returncode != 0, f"{args} accepted"
        assert args[0] in p.stderr, (args, p.stderr)


# --------------------------------------------------------------------------
# running


def _status_ids(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError(f"no {key} line in /proc/{pid}/status")


def test_user_option_drops_privileges(rblkit_server, datadir):
    if os.geteuid() != 0:
        pytest.skip("needs root to change user")
    nobody = pwd.getpwnam("nobody")
    write_data(datadir, "bl.txt", DATA)
    srv = rblkit_server(["bl.test:ip4set:bl.txt"], datadir, ["-u", "nobody"])
    assert a_values(srv.query(rev4("127.0.0.2", "bl.test"))) == ["127.0.0.2"]
    # real, effective, saved and filesystem ids: all of them, so that the
    # process cannot get root back
    assert _status_ids(srv.pid, "Uid") == [nobody.pw_uid] * 4
    assert _status_ids(srv.pid, "Gid") == [nobody.pw_gid] * 4
    assert _status_ids(srv.pid, "Groups") == [nobody.pw_gid] or \
        _status_ids(srv.pid, "Groups") == []
    # still serving after the switch, and it can still reload its data
    write_data(datadir, "bl.txt", DATA + "192.0.2.9\n")
    os.utime(os.path.join(datadir, "bl.txt"), (1, 1))
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: a_values(srv.query(rev4("192.0.2.9", "bl.test"))), 10)


def test_unknown_user_is_an_error(datadir):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    write_data(datadir, "bl.txt", DATA)
    p = _serve(datadir, "-u", "no-such-user-xyz", "bl.test:ip4set:bl.txt")
    assert p.returncode != 0
    assert "no-such-user-xyz" in p.stderr, p.stderr


def test_pid_file(rblkit_server, datadir):
    write_data(datadir, "bl.txt", DATA)
    pidfile = os.path.join(datadir, "rblkit.pid")
    srv = rblkit_server(["bl.test:ip4set:bl.txt"], datadir, ["-p", pidfile])
    with open(pidfile) as f:
        assert int(f.read().strip()) == srv.pid


def test_sigusr1_logs_zone_counters(rblkit_server, datadir):
    write_data(datadir, "bl.txt", DATA)
    write_data(datadir, "two.txt", zone_header("two.test") + "127.0.0.2\n")
    # the start-up probe only asks bl.test; two.test sees exactly our queries
    srv = rblkit_server(["bl.test:ip4set:bl.txt", "two.test:ip4set:two.txt"], datadir)
    for ip in ("127.0.0.2", "127.0.0.2", "127.0.0.1"):
        srv.query(rev4(ip, "two.test"), "A")
    srv.proc.send_signal(signal.SIGUSR1)
    rx = re.compile(r"two\.test\b.*\bqueries=(\d+)")
    text = wait_for(lambda: rx.search(srv.stderr_text()) and srv.stderr_text(), 10)
    assert text, "no per-zone counters on stderr after SIGUSR1:\n" + srv.stderr_text()
    line = [ln for ln in text.splitlines() if rx.search(ln)][-1]
    assert rx.search(line).group(1) == "3", line
    assert re.search(r"\blisted=2\b", line), line
    assert re.search(r"\bnxdomain=1\b", line), line
    assert re.search(r"bl\.test\b.*\bqueries=\d+", text), text
    assert srv.running(), "SIGUSR1 must not stop the server"


def test_sigterm_stops_cleanly(rblkit_server, datadir):
    write_data(datadir, "bl.txt", DATA)
    srv = rblkit_server(["bl.test:ip4set:bl.txt"], datadir)
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(10) == 0


# --------------------------------------------------------------------------
# operations: --check, -s statistics file, --http metrics


def test_check_loads_and_exits(datadir):
    write_data(datadir, "bl.txt", DATA)
    ok = run_rblkit(["serve", "--check", "bl.test:ip4set:bl.txt"], cwd=datadir)
    assert ok.returncode == 0, ok.stderr
    assert "loaded ip4set:bl.txt" in ok.stderr
    write_data(datadir, "bad.txt", "$TIMESTAMP 2099:01:01\n127.0.0.2\n")
    bad = run_rblkit(["serve", "--check", "bl.test:ip4set:bad.txt"], cwd=datadir)
    assert bad.returncode != 0
    assert "bad.txt:1" in bad.stderr and "future" in bad.stderr, bad.stderr


def test_statsfile_in_rbldnsd_format(rblkit_server, datadir):
    write_data(datadir, "bl.txt", DATA)
    stats = os.path.join(datadir, "stats")
    srv = rblkit_server(["-c", "1", "-s", stats, "bl.test:ip4set:bl.txt"], datadir)
    for ip in ("127.0.0.2", "127.0.0.1"):
        srv.query(rev4(ip, "bl.test"), "A")
    line_rx = re.compile(r"^\d+ bl\.test:(\d+):(\d+):(\d+):(\d+):(\d+) \*:\d+:\d+:\d+:\d+:\d+$")

    def counted():
        if not os.path.exists(stats):
            return None
        for ln in open(stats).read().splitlines():
            m = line_rx.match(ln)
            # the start-up probe may have added queries; ours are 2 more
            if m and int(m.group(1)) >= 2 and int(m.group(3)) >= 1:
                return m
        return None
    m = wait_for(counted, 10)
    assert m, "no counter line in %s: %r" % (stats, open(stats).read() if os.path.exists(stats) else None)
    assert int(m.group(4)) > 0 and int(m.group(5)) > 0, m.group(0)


def test_http_metrics(rblkit_server, datadir):
    import urllib.request
    write_data(datadir, "bl.txt", DATA)
    port = servers.free_port()
    srv = rblkit_server(["--http", f"127.0.0.1/{port}", "bl.test:ip4set:bl.txt"], datadir)
    before = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    rx = re.compile(r'^rblkit_queries_total\{zone="bl\.test"\} (\d+)$', re.M)
    n0 = int(rx.search(before).group(1))
    for _ in range(3):
        srv.query(rev4("127.0.0.2", "bl.test"), "A")
    after = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert int(rx.search(after).group(1)) == n0 + 3, after
    assert re.search(r'^rblkit_listed_total\{zone="bl\.test"\} \d+$', after, re.M)
    assert "# TYPE rblkit_nxdomain_total counter" in after
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/nothing", timeout=5)
        assert False, "expected 404"
    except urllib.error.HTTPError as e:
        assert e.code == 404


def test_query_log(rblkit_server, datadir):
    write_data(datadir, "bl.txt", DATA)
    qlog = os.path.join(datadir, "queries.log")
    srv = rblkit_server(["-l", "+" + qlog, "bl.test:ip4set:bl.txt"], datadir)
    srv.query(rev4("127.0.0.2", "bl.test"), "TXT")
    srv.query(rev4("127.0.0.1", "bl.test"), "A", tcp=True)
    want = [r"^\d+ 127\.0\.0\.1 2\.0\.0\.127\.bl\.test TXT IN: NOERROR/1/\d+$",
            r"^\d+ 127\.0\.0\.1 1\.0\.0\.127\.bl\.test A IN: NXDOMAIN/0/\d+$"]
    text = wait_for(lambda: all(re.search(w, open(qlog).read(), re.M) for w in want)
                    and open(qlog).read(), 10)
    assert text, open(qlog).read() if os.path.exists(qlog) else "no query log written"
    # SIGHUP reopens it (log rotation)
    os.rename(qlog, qlog + ".1")
    srv.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: os.path.exists(qlog), 10), "log not reopened after SIGHUP"
    srv.query(rev4("127.0.0.2", "bl.test"), "A")
    assert wait_for(lambda: "2.0.0.127.bl.test A IN" in open(qlog).read(), 10)
