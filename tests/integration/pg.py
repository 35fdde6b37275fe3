"""A throwaway PostgreSQL server for the integration tests.

start_postgres() runs initdb and postgres from Debian's postgresql package
(/usr/lib/postgresql/<version>/bin, the newest one; PG_BINDIR overrides)
in a fresh directory under /tmp, listening on a random loopback port of
127.0.0.1 only, with its socket directory in that directory too. It never
touches Debian's own cluster. Authentication is "trust" for the one
superuser the DSN names; nothing listens beyond 127.0.0.1.

PostgreSQL refuses to run as root. When the tests run as root (CI does),
the server runs as the `postgres` user that the postgresql package
creates, or as `nobody` when there is none (runuser -u USER).

Fixtures (import them into a test module: `from pg import pg_server, pg_dsn`):
  pg_server   one server for the test session: a Postgres object
  pg_dsn      a fresh, empty database on it for each test: its DSN,
              "postgresql://rblkit@127.0.0.1:PORT/tN"

By hand: `python3 tests/integration/pg.py [--durable] COMMAND...` runs
COMMAND with RBLKIT_TEST_DSN set to an empty database on a throwaway
server (see main()).

stop() (or the session's end) stops the server with `pg_ctl stop -m
immediate` and removes its directory; an atexit hook does it too, so no
server is left running when a test run is interrupted.
"""

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402

PG_USER = "rblkit"          # the database superuser the DSN names
START_ATTEMPTS = 3          # a port taken between free_port() and bind: try another


def pg_bindir():
    """The directory of initdb / pg_ctl / postgres, or None."""
    env = os.environ.get("PG_BINDIR")
    if env:
        return env
    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin")
            if os.access(os.path.join(d, "initdb"), os.X_OK)]
    dirs.sort(key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0)
    return dirs[-1] if dirs else None


def _run_as():
    """The OS user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and there is neither a `postgres` nor a `nobody` user "
                       "to run PostgreSQL as")


class Postgres:
    """A running server. dsn(db) names a database on it; createdb(db) makes one."""

    def __init__(self, bindir, topdir, user, port):
        self.bindir = bindir
        self.topdir = topdir            # removed by stop()
        self.datadir = os.path.join(topdir, "data")
        self.sockdir = topdir
        self.log = os.path.join(topdir, "postgres.log")
        self.user = user                # pwd entry or None
        self.port = port
        self.ndb = 0
        self.running = False
        self.durable = False

    def _argv(self, prog, *args):
        argv = [os.path.join(self.bindir, prog)] + list(args)
        if self.user is not None:
            argv = ["runuser", "-u", self.user.pw_name, "--"] + argv
        return argv

    def run(self, prog, *args):
        """Run a PostgreSQL program as the server's user; raise with its output on failure."""
        p = subprocess.run(self._argv(prog, *args), cwd=self.topdir, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        if p.returncode != 0:
            raise RuntimeError("%s failed (exit %d): %s" % (prog, p.returncode, p.stdout.strip()))
        return p.stdout

    def dsn(self, db="rblkit"):
        return "postgresql://%s@%s:%d/%s" % (PG_USER, servers.LOOPBACK, self.port, db)

    def createdb(self, db=None):
        """Create an empty database (a new name when db is None); return its DSN."""
        if db is None:
            self.ndb += 1
            db = "t%d" % self.ndb
        self.run("createdb", "-h", servers.LOOPBACK, "-p", str(self.port), "-U", PG_USER, db)
        return self.dsn(db)

    def psql(self, db, sql):
        """Run SQL with psql on database db; its output (unaligned, tuples only)."""
        return self.run("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                        "-h", servers.LOOPBACK, "-p", str(self.port), "-U", PG_USER,
                        "-d", db, "-c", sql)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def kill(self):
        """Stop the server at once (pg_ctl stop -m immediate), keeping its files."""
        if self.running:
            self.running = False
            self.run("pg_ctl", "-D", self.datadir, "-m", "immediate", "-w", "stop")

    def start(self):
        """Start the server again after kill(), on the same port and data."""
        _start(self, self.durable)

    def stop(self):
        """Stop the server at once (no checkpoint) and remove its directory. Idempotent."""
        if self.running:
            self.running = False
            subprocess.run(self._argv("pg_ctl", "-D", self.datadir, "-m", "immediate", "-w",
                                      "stop"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.topdir and os.path.isdir(self.topdir):
            shutil.rmtree(self.topdir, ignore_errors=True)


def _start(pg, durable):
    opts = ["-c listen_addresses=%s" % servers.LOOPBACK, "-p %d" % pg.port,
            "-c unix_socket_directories=%s" % pg.sockdir, "-c max_connections=40",
            "-c shared_buffers=16MB", "-c log_min_messages=warning"]
    if not durable:
        # a test server: losing it on a power cut loses nothing
        opts.append("-c fsync=off")
    pg.run("pg_ctl", "-D", pg.datadir, "-l", pg.log, "-w", "-t", "30",
           "-o", " ".join(opts), "start")
    pg.running = True


def start_postgres(tmpdir=None, durable=False):
    """Start a PostgreSQL server on 127.0.0.1:<random port>.

    Returns (dsn, stop): the DSN of its database "rblkit" and a function that
    stops the server and removes its files. tmpdir: where to make the
    server's directory (default /tmp; it must be traversable by the server's
    user, which pytest's tmp_path is not when running as root, so the
    directory is made under /tmp then). durable=False runs with fsync=off
    (tests); True keeps PostgreSQL's defaults (benchmarks).
    Raises RuntimeError with initdb's / pg_ctl's output when it cannot start."""
    pg = start_server(tmpdir, durable)
    return pg.dsn("rblkit"), pg.stop


def start_server(tmpdir=None, durable=False):
    """start_postgres(), returning the Postgres object (createdb, psql, stop)."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
                           "apt-get install postgresql (or set PG_BINDIR)")
    user = _run_as()
    parent = tmpdir if tmpdir and user is None else "/tmp"
    topdir = tempfile.mkdtemp(prefix="rblkit-pg-", dir=parent)
    pg = Postgres(bindir, topdir, user, 0)
    pg.durable = durable
    atexit.register(pg.stop)
    try:
        if user is not None:
            os.chown(topdir, user.pw_uid, user.pw_gid)
        os.chmod(topdir, 0o700)
        pg.run("initdb", "-D", pg.datadir, "-U", PG_USER, "--auth=trust", "-E", "UTF8",
               "--no-locale", "--no-sync", "--no-instructions")
        err = None
        for _ in range(START_ATTEMPTS):
            pg.port = servers.free_port()
            try:
                _start(pg, durable)
                break
            except RuntimeError as e:
                err = "%s\n%s" % (e, pg.log_text())
        else:
            raise RuntimeError("PostgreSQL did not start: %s" % err)
        pg.createdb("rblkit")
    except BaseException:
        pg.stop()
        raise
    return pg


@pytest.fixture(scope="session")
def pg_server():
    try:
        pg = start_server()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    yield pg
    pg.stop()


@pytest.fixture
def pg_dsn(pg_server):
    return pg_server.createdb()


def main(argv):
    """python3 tests/integration/pg.py [--durable] COMMAND...: run COMMAND with
    RBLKIT_TEST_DSN naming an empty database on a throwaway server, e.g.
    `python3 tests/integration/pg.py --durable build/unit/test_store` prints
    the store's hits/s into PostgreSQL (fsync on with --durable)."""
    durable = bool(argv) and argv[0] == "--durable"
    cmd = argv[1:] if durable else argv
    if not cmd:
        sys.stderr.write(main.__doc__ + "\n")
        return 2
    try:
        pg = start_server(durable=durable)
    except RuntimeError as e:
        sys.stderr.write("%s\n" % e)
        return 1
    try:
        env = dict(os.environ, RBLKIT_TEST_DSN=pg.createdb())
        return subprocess.call(cmd, env=env)
    finally:
        pg.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
