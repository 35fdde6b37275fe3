"""`rblkit serve --check` and the data errors of a load.

An operator runs `serve --check` before a reload (or in a commit hook): it
must fail on every line that serving would skip, and name each one as
file:line: why -- all of them (the first 20 of each file), not just the
first.  Serving skips the same lines and logs the same messages, as rbldnsd
does.  A second $SOA line that says something else than the first is such an
error too (only the first counts, as in rbldnsd, but no longer silently).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers_proto import a_values, rcode, rev4, run_rblkit, write_data, zone_header  # noqa: E402

HEAD = zone_header("bl.test") + ":127.0.0.2:Listed $\n127.0.0.2\n"   # lines 1-4


def _check(datadir, *specs):
    return run_rblkit(["serve", "--check", *specs], cwd=datadir)


def test_check_passes_on_clean_data(datadir):
    write_data(datadir, "ok.txt", HEAD + "10.0.0.0/8\n192.0.2.1\n")
    r = _check(datadir, "bl.test:ip4set:ok.txt")
    assert r.returncode == 0, r.stderr
    assert "warning: ok.txt" not in r.stderr


def test_check_fails_on_bad_cidr_and_octet(datadir):
    for bad in ("10.0.0.0/33", "300.1.2.3"):
        write_data(datadir, "bad.txt", HEAD + "192.0.2.1\n" + bad + "\n")
        r = _check(datadir, "bl.test:ip4set:bad.txt")
        assert r.returncode != 0, f"--check passed with {bad}:\n{r.stderr}"
        assert f'bad.txt:6: invalid address "{bad}"' in r.stderr, r.stderr
        assert "data error" in r.stderr


def test_check_fails_on_bad_ipv6(datadir):
    write_data(datadir, "v6.txt", zone_header("v6.test") + "2001:db8::/129\n2001:db8::1\n")
    r = _check(datadir, "v6.test:ip6trie:v6.txt")
    assert r.returncode != 0 and 'v6.txt:3: invalid address "2001:db8::/129"' in r.stderr, \
        r.stderr


def test_check_reports_every_error_bounded_per_file(datadir):
    bad = "".join(f"10.{i}.0.0/40\n" for i in range(30))
    write_data(datadir, "many.txt", HEAD + bad)
    write_data(datadir, "two.txt", "999.1.1.1\n192.0.2.5\n1.2.3.4/99\n")
    r = _check(datadir, "bl.test:ip4set:many.txt,two.txt")
    assert r.returncode != 0
    shown = [n for n in range(5, 35) if f"many.txt:{n}:" in r.stderr]
    assert shown == list(range(5, 25)), f"lines named: {shown}\n{r.stderr}"
    assert "many.txt: 10 more errors not shown (30 in this file)" in r.stderr, r.stderr
    # the bound is per file: the next file's errors are all named
    assert "two.txt:1:" in r.stderr and "two.txt:3:" in r.stderr, r.stderr
    assert "32 data errors" in r.stderr, r.stderr


def test_second_different_soa_is_an_error(datadir):
    other = "$SOA 0 ns9.bl.test other.bl.test 7 1h 10m 1w 60\n"
    write_data(datadir, "soa.txt", HEAD + other)
    r = _check(datadir, "bl.test:ip4set:soa.txt")
    assert r.returncode != 0, r.stderr
    assert "soa.txt:5:" in r.stderr and "$SOA" in r.stderr, r.stderr
    # the same $SOA twice (a header repeated in two files) is fine
    write_data(datadir, "a.txt", HEAD)
    write_data(datadir, "b.txt", HEAD.replace("127.0.0.2\n", "192.0.2.9\n"))
    r = _check(datadir, "bl.test:ip4set:a.txt,b.txt")
    assert r.returncode == 0, r.stderr


def test_serving_skips_and_names_the_same_lines(rblkit_server, datadir):
    other = "$SOA 0 ns9.bl.test other.bl.test 7 1h 10m 1w 60\n"
    write_data(datadir, "bl.txt", HEAD + "10.0.0.0/33\n192.0.2.1\n" + other)
    srv = rblkit_server(["bl.test:ip4set:bl.txt"], datadir)
    err = srv.stderr_text()
    assert "bl.txt:5:" in err and "bl.txt:7:" in err, err
    assert a_values(srv.query(rev4("192.0.2.1", "bl.test")))
    assert rcode(srv.query(rev4("10.0.0.1", "bl.test"))) == "NXDOMAIN"
    # the first $SOA is served
    soa = srv.query("bl.test", "SOA").answer[0][0]
    assert soa.mname.to_text() == "ns1.bl.test." and soa.serial != 7


def test_check_fails_on_an_over_long_line(datadir):
    # the line is skipped with file:line and counted: --check must fail on it
    write_data(datadir, "long.txt", HEAD + "192.0.2.1\n" + "1" * 9000 + "\n192.0.2.2\n")
    r = _check(datadir, "bl.test:ip4set:long.txt")
    assert r.returncode == 1, r.stderr
    assert "long.txt:6: line longer than 8190 bytes: skipped" in r.stderr, r.stderr
    assert "1 data error (lines skipped when serving)" in r.stderr, r.stderr
