"""Domain lists that want the registered domain (issue 11): rblkit check
asks SURBL, URIBL, the Spamhaus DBL and SEM URIBL about a host name's
registered domain (public suffix list, libpsl), and says so.

One `rblkit serve` on loopback serves a domain list under the Spamhaus
DBL's name (so the bundled catalogue's entry, reduce = registered,
applies) and the host names' addresses.  Nothing leaves 127.0.0.1.
"""

import json
import os
import shutil
import subprocess

import pytest

import servers

DBL = """:127.0.1.2:spam domain $
test
example.co.uk
foo.blogspot.com
co.uk
"""
# generic names are relative to the zone; the hosts have addresses so
# that the targets are not errors
HOSTS_UK = """mail.foo A 192.0.2.1
"""
HOSTS_BLOG = """www.foo A 192.0.2.2
www.bar A 192.0.2.3
"""

ZONES = ["dbl.spamhaus.org:dnset:dbl", "example.co.uk:generic:hosts-uk",
         "blogspot.com:generic:hosts-blog"]


@pytest.fixture(scope="module")
def dns_server(rblkit_bin):
    d = servers.make_datadir("rblkit-psl-")
    for name, text in (("dbl", DBL), ("hosts-uk", HOSTS_UK), ("hosts-blog", HOSTS_BLOG)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    servers.make_readable(d)
    srv = servers.start_rblkit(ZONES, d)
    yield srv
    srv.__exit__(None, None, None)
    shutil.rmtree(d, ignore_errors=True)


def run_check(srv, *args):
    where = "127.0.0.1:%d" % srv.port
    argv = [servers.RBLKIT, "check", "--resolver", where,
            "--zone", "dbl.spamhaus.org@" + where] + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def results(srv, *args):
    p = run_check(srv, "--json", *args)
    assert p.returncode in (0, 1), p.stderr
    out = json.loads(p.stdout)
    return p.returncode, [(r["subject"], r["status"]) for r in out[0]["results"]]


def test_host_name_is_asked_as_its_registered_domain(dns_server):
    p = run_check(dns_server, "mail.foo.example.co.uk")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "LISTED   dbl.spamhaus.org" in p.stdout
    assert "asked as example.co.uk" in p.stdout
    assert "mail.foo.example.co.uk: LISTED on 1 of 1 list" in p.stdout
    rc, res = results(dns_server, "mail.foo.example.co.uk")
    assert rc == 1 and res == [("example.co.uk", "listed")]


def test_mail_domain_is_asked_as_its_registered_domain(dns_server):
    rc, res = results(dns_server, "--mx", "foo.example.co.uk")
    assert ("example.co.uk", "listed") in res and rc == 1


def test_private_suffix_and_clean_text(dns_server):
    # foo.blogspot.com is a registered domain of its own (private suffix)
    rc, res = results(dns_server, "www.foo.blogspot.com")
    assert rc == 1 and res == [("foo.blogspot.com", "listed")]
    p = run_check(dns_server, "www.bar.blogspot.com")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "clean    dbl.spamhaus.org (asked as bar.blogspot.com)" in p.stdout


def test_public_suffix_is_asked_as_given(dns_server):
    rc, res = results(dns_server, "--all", "co.uk")
    assert res == [("co.uk", "listed")]
    p = run_check(dns_server, "co.uk")
    assert "asked as" not in p.stdout


def test_catalogue_entry_decides(dns_server, tmp_path):
    # the same list with reduce = none: the name as given, which is not listed
    cat = tmp_path / "lists.conf"
    cat.write_text("[spamhaus-dbl]\nreduce = none\n")
    rc, res = results(dns_server, "--catalog", str(cat), "mail.foo.example.co.uk")
    assert rc == 0 and res == [("mail.foo.example.co.uk", "clean")]
    p = run_check(dns_server, "--catalog", str(cat), "mail.foo.example.co.uk")
    assert "asked as" not in p.stdout
    cat.write_text("[spamhaus-dbl]\nreduce = sometimes\n")
    p = run_check(dns_server, "--catalog", str(cat), "mail.foo.example.co.uk")
    assert p.returncode != 0 and "reduce: use registered or none" in p.stderr


def test_without_libpsl_names_are_asked_as_given(dns_server):
    # libpsl is opened at the first lookup (src/lib/base/dynlib.h): without
    # it the check still runs, asks the name as given and says why once
    import test_optional_libs as ol
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) for a mount namespace")
    where = "127.0.0.1:%d" % dns_server.port
    p = ol.run_without(["libpsl.so.5"], [servers.RBLKIT, "check", "--resolver", where,
                                         "--zone", "dbl.spamhaus.org@" + where, "--json",
                                         "mail.foo.example.co.uk"])
    assert p.returncode == 0, p.stdout + p.stderr
    res = [(r["subject"], r["status"]) for r in json.loads(p.stdout)[0]["results"]]
    assert res == [("mail.foo.example.co.uk", "clean")]
    assert p.stderr.count("no public suffix list") == 1, p.stderr
    assert "libpsl.so.5 cannot be loaded (is the Debian package libpsl5 installed?)" in p.stderr
