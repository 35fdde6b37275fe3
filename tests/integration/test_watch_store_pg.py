"""The watch history of the store (store/watch.h, issue 14) on a real
PostgreSQL server: tests/unit/test_watch_store.c with RBLKIT_TEST_DSN on
an empty database of pg.py's server (the SQLite run is `make units`)."""

import os
import subprocess

import pytest

import servers
from pg import pg_dsn, pg_server  # noqa: F401  (fixtures)


def unit_bin(name):
    for d in (os.path.dirname(os.path.abspath(servers.RBLKIT)),
              os.path.join(servers.REPO, "build")):
        path = os.path.join(d, "unit", name)
        if os.access(path, os.X_OK):
            return path
    pytest.fail("%s not built: run `make units` in %s" % (name, servers.REPO), pytrace=False)


def test_watch_store_units_on_postgresql(pg_dsn):
    env = dict(os.environ, RBLKIT_TEST_DSN=pg_dsn)
    p = subprocess.run([unit_bin("test_watch_store")], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, timeout=120)
    assert p.returncode == 0, p.stdout
    last = p.stdout.splitlines()[-1]
    assert last.endswith(" passed, 0 failed") and not last.startswith("0 "), p.stdout
