"""rblkit serve: behaviours fixed after review (issue 11), outside TCP.

* A data line longer than 8 KiB is an error for that line (file:line,
  skipped): its cut prefix is never loaded as data.
* dnset: an excluded name is an empty non-terminal (NODATA) exactly when a
  name below it is listed, else it does not exist (NXDOMAIN).
* The query log (-l) keeps every line at SIGTERM.
* The metrics listener survives slow clients and answers the others.
* The default thread count never exceeds what the server can run.
"""

import os
import signal
import socket
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers_proto import (  # noqa: E402
    a_values, rcode, rev4, txt_values, wait_for, write_data, zone_header)

HEAD = zone_header("bl.test") + ":127.0.0.2:Listed $\n"


# --------------------------------------------------------------------------
# zone data: over-long lines


def test_line_over_8k_is_an_error_not_data(rblkit_server, datadir):
    long_value = ":3:" + "x" * 9000
    write_data(datadir, "bl.txt", HEAD + "192.0.2.1\n192.0.2.5 " + long_value
               + "\n192.0.2.9\n")
    srv = rblkit_server(["bl.test:ip4set:bl.txt"], datadir)
    # the cut prefix "192.0.2.5 :3:xxx..." must not be listed
    assert rcode(srv.query(rev4("192.0.2.5", "bl.test"))) == "NXDOMAIN"
    # the lines around it load
    assert a_values(srv.query(rev4("192.0.2.1", "bl.test"))) == ["127.0.0.2"]
    assert a_values(srv.query(rev4("192.0.2.9", "bl.test"))) == ["127.0.0.2"]
    line = HEAD.count("\n") + 2
    assert f"error: bl.txt:{line}: line longer than 8190 bytes: skipped" in srv.stderr_text()


def test_line_over_8k_continuation_is_not_data(rblkit_server, datadir):
    # the part after the cut looks like an entry: it is not one either
    write_data(datadir, "bl.txt", HEAD + "#" + " " * 8189 + "192.0.2.7\n192.0.2.9\n")
    srv = rblkit_server(["bl.test:ip4set:bl.txt"], datadir)
    assert rcode(srv.query(rev4("192.0.2.7", "bl.test"))) == "NXDOMAIN"
    assert a_values(srv.query(rev4("192.0.2.9", "bl.test"))) == ["127.0.0.2"]


# --------------------------------------------------------------------------
# dnset: an excluded name under a wildcard


def test_dnset_excluded_name_nodata_only_when_something_below_is_listed(
        rblkit_server, datadir):
    write_data(datadir, "dn.txt", zone_header("dn.test") +
               ":127.0.0.2:Listed $\n"
               "*.example.com\n!www.example.com\n"
               "*.example.org\n!www.example.org\n!*.www.example.org\n")
    srv = rblkit_server(["dn.test:dnset:dn.txt"], datadir)

    def ask(name):
        r = srv.query(name + ".dn.test", "A")
        return rcode(r), a_values(r)

    # *.example.com covers every depth: a.www.example.com is listed (as in
    # rbldnsd), so www.example.com has a listed name below it; NXDOMAIN
    # would tell an RFC 8020 resolver that a.www.example.com does not exist
    assert ask("a.www.example.com") == ("NOERROR", ["127.0.0.2"])
    assert ask("www.example.com") == ("NOERROR", [])
    assert ask("b.example.com") == ("NOERROR", ["127.0.0.2"])
    # nothing below www.example.org is listed: it does not exist
    assert ask("a.www.example.org") == ("NXDOMAIN", [])
    assert ask("www.example.org") == ("NXDOMAIN", [])
    assert ask("b.example.org") == ("NOERROR", ["127.0.0.2"])
