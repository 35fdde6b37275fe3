"""The large client libraries are opened when a command needs them
(src/lib/base/dynlib.h): libpq for a PostgreSQL store, libsqlite3 for an
SQLite store, libmicrohttpd and libsodium for `rblkit web`, libunbound for `check
--recursive`, libssl for TLS to Redis and webhooks, libxdp (and libbpf)
for `serve --xdp`, libpsl for the registered domain of a name (without
it the name is asked as given: tests/integration/test_psl.py).

Each test breaks one or all of them in a mount namespace of its own (a bind
mount of /dev/null over the library file: "file too short", as a removed or
damaged package would be) and runs the real binary there:
* a command that needs the library exits non-zero and names the library
  and the Debian package that has it;
* the commands that do not need it run as before (diagnose, serve, the
  other store).
Needs root (unshare --mount); nothing here opens a network connection
beyond loopback: the resolver tests fail before their first query.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

RBLKIT = servers.RBLKIT
HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus", "sisimai", "eml")

LIBS = {  # soname: Debian package
    "libpq.so.5": "libpq5",
    "libsqlite3.so.0": "libsqlite3-0",
    "libmicrohttpd.so.12": "libmicrohttpd12",
    "libunbound.so.8": "libunbound8",
    "libssl.so.3": "libssl3",
    "libxdp.so.1": "libxdp1",
    "libpsl.so.5": "libpsl5",
    "libsodium.so.23": "libsodium23",
}

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare"),
    reason="needs root and unshare(1) for a mount namespace")


def lib_path(soname):
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        name, _, path = line.strip().partition(" => ")
        if name.split(" ")[0] == soname and os.path.exists(path):
            return os.path.realpath(path)
    pytest.skip(f"{soname} is not installed here")
    return None


def run_without(sonames, argv, **kw):
    """argv run with the libraries sonames broken, in a mount namespace."""
    script = 'for l in $HIDE; do mount --bind /dev/null "$l" || exit 99; done; exec "$@"'
    env = dict(os.environ, HIDE=" ".join(lib_path(s) for s in sonames))
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                        "sh"] + argv, capture_output=True, text=True, timeout=60, env=env,
                       stdin=subprocess.DEVNULL, **kw)
    assert p.returncode != 99, "could not hide the libraries: " + p.stderr
    return p


def assert_names(p, soname):
    assert p.returncode != 0, p.stdout + p.stderr
    assert f"{soname} cannot be loaded" in p.stderr, p.stderr
    assert f"Debian package {LIBS[soname]} installed?" in p.stderr, p.stderr


def test_postgresql_store_names_libpq(tmp_path):
    p = run_without(["libpq.so.5"], [RBLKIT, "list", "--store",
                                     "postgresql://rblkit@127.0.0.1:1/none", "show",
                                     "bl.test", "192.0.2.1"])
    assert_names(p, "libpq.so.5")


def test_sqlite_store_names_libsqlite3(tmp_path):
    p = run_without(["libsqlite3.so.0"], [RBLKIT, "list", "--store",
                                          f"sqlite:{tmp_path}/s.db", "show", "bl.test",
                                          "192.0.2.1"])
    assert_names(p, "libsqlite3.so.0")
    assert not os.path.exists(tmp_path / "s.db")


def test_sqlite_store_works_without_libpq(tmp_path):
    dsn = f"sqlite:{tmp_path}/s.db"
    p = run_without(["libpq.so.5"], [RBLKIT, "list", "--store", dsn, "add", "bl.test",
                                     "192.0.2.1", "--reason", "trap hit"])
    assert p.returncode == 0, p.stderr
    p = run_without(["libpq.so.5"], [RBLKIT, "list", "--store", dsn, "show", "bl.test",
                                     "192.0.2.1"])
    assert p.returncode == 0 and "trap hit" in p.stdout, p.stdout + p.stderr


def test_web_names_libmicrohttpd(tmp_path):
    conf = tmp_path / "web.conf"
    conf.write_text(f"listen = 127.0.0.1:{servers.free_port()}\nstore = sqlite:{tmp_path}/s.db\n"
                    "dns = 127.0.0.1:1\nzones = bl.test\n")
    p = run_without(["libmicrohttpd.so.12"], [RBLKIT, "web", "--check-config", "--config",
                                              str(conf)])
    assert_names(p, "libmicrohttpd.so.12")
    p = run_without(["libmicrohttpd.so.12"], [RBLKIT, "web", "--config", str(conf)])
    assert_names(p, "libmicrohttpd.so.12")


def test_web_names_libsodium(tmp_path):
    conf = tmp_path / "web.conf"
    conf.write_text(f"listen = 127.0.0.1:{servers.free_port()}\nstore = sqlite:{tmp_path}/s.db\n"
                    "dns = 127.0.0.1:1\nzones = bl.test\n")
    p = run_without(["libsodium.so.23"], [RBLKIT, "web", "--config", str(conf)])
    assert_names(p, "libsodium.so.23")
    p = run_without(["libsodium.so.23"], [RBLKIT, "web", "--config", str(conf),
                                          "--add-key", "ci", "--scopes", "lookup"])
    assert_names(p, "libsodium.so.23")


def test_recursive_check_names_libunbound():
    # fails before its first query: nothing leaves the host
    p = run_without(["libunbound.so.8"], [RBLKIT, "check", "--recursive", "127.0.0.2"])
    assert_names(p, "libunbound.so.8")


def test_diagnose_and_serve_need_none_of_them(tmp_path):
    eml = sorted(f for f in os.listdir(CORPUS) if f.endswith(".eml"))[:20]
    files = [os.path.join(CORPUS, f) for f in eml]
    want = subprocess.run([RBLKIT, "diagnose", "--json"] + files, capture_output=True,
                          timeout=60)
    p = run_without(list(LIBS), [RBLKIT, "diagnose", "--json"] + files)
    assert p.returncode == want.returncode, p.stderr
    assert p.stdout == want.stdout.decode()
    assert len(json.loads(p.stdout)) == len(files)
    # serve: load a zone and check it (the same code path as serving)
    zone = tmp_path / "bl.txt"
    zone.write_text(":127.0.0.2:Listed $\n192.0.2.1\n")
    p = run_without(list(LIBS), [RBLKIT, "serve", "--check", f"bl.test:ip4set:{zone}"])
    assert p.returncode == 0, p.stdout + p.stderr


def test_serve_xdp_names_libxdp_and_falls_back(tmp_path):
    zone = tmp_path / "bl.txt"
    zone.write_text(":127.0.0.2:Listed $\n127.0.0.2\n192.0.2.1\n")
    port = servers.free_port()
    argv = [RBLKIT, "serve", "-b", f"127.0.0.1/{port}", "--xdp", "lo",
            f"bl.test:ip4set:{zone}"]
    p = run_without(["libxdp.so.1"], argv)
    assert_names(p, "libxdp.so.1")
    assert "--xdp-fallback" in p.stderr, p.stderr
    # with --xdp-fallback it serves through sockets: it starts, says why,
    # and runs until stopped (timeout ends it)
    p = run_without(["libxdp.so.1"], ["timeout", "3"] + argv + ["--xdp-fallback"])
    assert p.returncode == 124, p.stderr
    assert "libxdp.so.1 cannot be loaded" in p.stderr and "through sockets" in p.stderr, p.stderr
    assert "serving 1 zones" in p.stderr, p.stderr
