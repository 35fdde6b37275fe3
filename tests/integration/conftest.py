"""pytest fixtures for the integration tests (see servers.py).

Fixtures:
  rblkit_bin     path of the rblkit binary; the test FAILS if it is missing
  rbldnsd_bin    path of Debian's rbldnsd; the test FAILS if it is missing
  datadir        a fresh data directory under /tmp readable by `nobody`
  rblkit_server  factory(zone_specs, datadir, extra_args=()) -> ready Server
  rbldnsd_server factory(zone_specs, datadir, extra_args=()) -> ready Server
Servers started through the factories are stopped at teardown.

Marker:
  @pytest.mark.rbldnsd   the test compares against rbldnsd: fails with a clear
                         message when /usr/sbin/rbldnsd (or $RBLDNSD) is absent.
"""

import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "rbldnsd: compares against Debian's rbldnsd (fails if it is not installed)")
    config.addinivalue_line(
        "markers", "slow: starts heavy real components (Postfix, Chromium, many daemons); "
        "CI runs it in the plain pass and may leave it out of a sanitizer pass")


def _require_rbldnsd():
    if not os.access(servers.RBLDNSD, os.X_OK):
        pytest.fail("rbldnsd is required by this test but %s is missing or not executable; "
                    "install it with `apt-get install rbldnsd` (or set RBLDNSD=/path)"
                    % servers.RBLDNSD, pytrace=False)
    return servers.RBLDNSD


@pytest.fixture(autouse=True)
def _rbldnsd_marker(request):
    if request.node.get_closest_marker("rbldnsd") is not None:
        _require_rbldnsd()


@pytest.fixture(scope="session")
def rblkit_bin():
    path = servers.RBLKIT
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("rblkit binary not found at %s: build it with `make` in %s "
                    "(or point RBLKIT at it)" % (path, servers.REPO), pytrace=False)
    return path


@pytest.fixture(scope="session")
def rbldnsd_bin():
    return _require_rbldnsd()


@pytest.fixture
def datadir():
    path = servers.make_datadir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _factory(start):
    started = []

    def make(zone_specs, datadir, extra_args=()):
        srv = start(list(zone_specs), datadir, extra_args)
        started.append(srv)
        return srv

    return make, started


@pytest.fixture
def rblkit_server(rblkit_bin):
    make, started = _factory(servers.start_rblkit)
    yield make
    for srv in started:
        srv.__exit__(None, None, None)


@pytest.fixture
def rbldnsd_server(rbldnsd_bin):
    make, started = _factory(servers.start_rbldnsd)
    yield make
    for srv in started:
        srv.__exit__(None, None, None)
