"""The listing store on a real PostgreSQL server (issue 12).

A PostgreSQL 15 server is started by pg.py on a random loopback port for
the session; each test gets an empty database of its own (pg_dsn).

- the engine's own tests (build/unit/test_db_pg) against it;
- the store's tests (build/unit/test_store) with RBLKIT_TEST_DSN on it;
- two writer processes at once: every transaction gets its own serial,
  the serials are handed out without a gap in commit order, and every
  journal row of a transaction carries its serial;
- a server that is gone gives a clear error, not a crash.
"""

import os
import subprocess

import pg as pgmod

import pytest

import servers
from pg import pg_dsn, pg_server  # noqa: F401  (fixtures)


def unit_bin(name):
    """build/unit/NAME of the build RBLKIT comes from (build or build-asan)."""
    for d in (os.path.dirname(os.path.abspath(servers.RBLKIT)),
              os.path.join(servers.REPO, "build")):
        path = os.path.join(d, "unit", name)
        if os.access(path, os.X_OK):
            return path
    pytest.fail("%s not built: run `make units` in %s" % (name, servers.REPO), pytrace=False)


def run_unit(name, dsn, *args, timeout=120):
    env = dict(os.environ, RBLKIT_TEST_DSN=dsn)
    return subprocess.run([unit_bin(name)] + list(args), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout)


def test_db_pg_engine(pg_dsn):
    """Typed parameters, '?' rewriting, streaming with nested statements,
    transactions, DB_BUSY on a lock wait, reconnecting after a lost
    connection, connection errors: tests/unit/test_db_pg.c."""
    p = run_unit("test_db_pg", pg_dsn)
    assert p.returncode == 0, p.stdout
    last = p.stdout.splitlines()[-1]
    assert last.endswith(" passed, 0 failed") and not last.startswith("0 "), p.stdout


def test_store_units_on_postgresql(pg_dsn):
    """Every store.h function (tests/unit/test_store.c) on PostgreSQL."""
    p = run_unit("test_store", pg_dsn, timeout=300)
    assert p.returncode == 0, p.stdout
    assert "postgresql:" in p.stdout, p.stdout      # it did run on PostgreSQL
    last = p.stdout.splitlines()[-1]
    assert last.endswith(" passed, 0 failed") and not last.startswith("0 "), p.stdout


WRITES = 150


def test_two_writers_serials_in_commit_order(pg_server, pg_dsn):
    db = pg_dsn.rsplit("/", 1)[1]
    pg_server.psql(db, "CREATE TABLE wzones (name TEXT PRIMARY KEY, serial BIGINT NOT NULL);"
                       "CREATE TABLE wjournal (id BIGSERIAL PRIMARY KEY, serial BIGINT NOT NULL,"
                       " tag TEXT NOT NULL, i BIGINT NOT NULL);"
                       "CREATE TABLE wready (tag TEXT);"
                       "INSERT INTO wzones VALUES ('z', 1000)")
    env = dict(os.environ, RBLKIT_TEST_DSN=pg_dsn)
    procs = [subprocess.Popen([unit_bin("test_db_pg"), "--writer", str(WRITES), tag], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True) for tag in ("A", "B")]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs

    rows = [line.split("|") for line in pg_server.psql(
        db, "SELECT serial, tag, i FROM wjournal ORDER BY id").split()]
    assert len(rows) == 2 * 2 * WRITES
    serial = int(pg_server.psql(db, "SELECT serial FROM wzones").strip())
    assert serial == 1000 + 2 * WRITES
    by_serial = {}
    for s, tag, i in rows:
        by_serial.setdefault(int(s), []).append((tag, int(i)))
    # one serial per transaction, no gap, none twice
    assert sorted(by_serial) == list(range(1001, 1001 + 2 * WRITES))
    for s, changes in by_serial.items():
        # both rows of a transaction, and only they, carry its serial
        assert len(changes) == 2 and changes[0][0] == changes[1][0], (s, changes)
        assert changes[0][1] == -changes[1][1], (s, changes)
    # the journal's row order (insert order) follows the serials: commit order
    assert [int(s) for s, _, _ in rows] == sorted(int(s) for s, _, _ in rows)
    for tag in ("A", "B"):
        mine = [i for s in sorted(by_serial) for t, i in by_serial[s][:1] if t == tag]
        assert mine == list(range(WRITES)), tag


def test_dead_server_clear_error(pg_server):
    """A server that is not there: an error naming the DSN and the cause."""
    port = servers.free_port()
    dsn = "postgresql://rblkit:pw@127.0.0.1:%d/x" % port
    p = run_unit("test_db_pg", pg_server.dsn(), "--open", dsn)
    assert p.returncode == 1, p.stdout
    assert p.stdout.strip() == ("postgresql://rblkit:***@127.0.0.1:%d/x: Connection refused"
                                % port), p.stdout


TOGGLES = 100


def test_two_nodes_read_decide_write(pg_server, pg_dsn):
    """Two processes at once, each N times: read a listing, list it when it is
    not listed and remove it when it is, count a hit (what the rules do with
    store_get and store_put in one transaction). No update is lost and the
    journal alternates ADD, DEL+... exactly as the listing changed: the
    writers of one store take turns as they do on SQLite."""
    db = pg_dsn.rsplit("/", 1)[1]
    first = run_unit("test_db_pg", pg_dsn, "--toggle", "1")     # creates the schema
    assert first.returncode == 0, first.stdout
    env = dict(os.environ, RBLKIT_TEST_DSN=pg_dsn)
    procs = [subprocess.Popen([unit_bin("test_db_pg"), "--toggle", str(TOGGLES)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs

    total = 1 + 2 * TOGGLES
    hits, state = pg_server.psql(db, "SELECT hits, state FROM listings WHERE key = '192.0.2.1'"
                                 ).strip().split("|")
    assert int(hits) == total                       # no lost update
    assert int(state) == (1 if total % 2 else 2)    # LISTED after an odd number of toggles
    ops = [tuple(int(x) for x in line.split("|")) for line in pg_server.psql(
        db, "SELECT serial, op FROM journal ORDER BY serial, id").split()]
    # one change per transaction, each under a serial of its own, alternating
    assert [op for _, op in ops] == [1 if i % 2 == 0 else 2 for i in range(total)], ops
    serials = [s for s, _ in ops]
    assert serials == list(range(serials[0], serials[0] + total)), serials


def test_server_gone_and_back(tmp_path):
    """The server stops under an open store: a write fails with the DSN and
    the cause (no crash, no hang); once it is back, the next write
    reconnects and works, and the committed listing is there."""
    srv = pgmod.start_server()
    try:
        dsn = srv.createdb()
        p = subprocess.Popen([unit_bin("test_db_pg"), "--session"],
                             env=dict(os.environ, RBLKIT_TEST_DSN=dsn),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True, bufsize=1)

        def ask(line):
            p.stdin.write(line + "\n")
            p.stdin.flush()
            return p.stdout.readline().strip()

        try:
            assert ask("put 192.0.2.1") == "ok"
            srv.kill()
            answer = ask("put 192.0.2.2")
            assert answer.startswith("error: ") and dsn in answer, answer
            assert p.poll() is None                 # still running
            srv.start()
            assert ask("put 192.0.2.3") == "ok"     # reconnected
            assert ask("get 192.0.2.1") == "1"      # STORE_LISTED, committed before
            assert ask("get 192.0.2.3") == "1"
            assert ask("get 192.0.2.2").startswith("error: ")   # never stored
        finally:
            p.stdin.close()
            assert p.wait(timeout=30) == 0
    finally:
        srv.stop()
