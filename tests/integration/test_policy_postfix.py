"""rblkit policy behind a real Postfix (Debian's package), started on a
random loopback port with check_policy_service at the RCPT and
END-OF-MESSAGE stages, driven by swaks with XCLIENT (client address,
LOGIN) and with real SMTP AUTH, against test zones served by rblkit serve.
See postfix_helper.py for the Postfix set-up."""

import os
import shutil
import signal

import pytest

import servers
from postfix_helper import Postfix, PolicyDaemon, swaks
from test_policy import SPECS, ZONES, base_conf


# a real Postfix for the module: CI may leave it out of a sanitizer pass
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dns():
    d = servers.make_datadir("rblkit-pf-dns-")
    for name, text in ZONES.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    srv = servers.start_rblkit(SPECS, d)
    yield srv
    srv.__exit__(None, None, None)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def stack(dns):
    """One policy daemon and one Postfix for the module."""
    pol = PolicyDaemon(base_conf(dns.port)).start()
    try:
        with Postfix(pol.target, users={"dora": "secret", "erik": "secret"}) as pf:
            yield pf, pol
    finally:
        pol.close()


def accepted(r):
    return r.code("RCPT TO") == 250 and r.code(".") == 250


def test_listed_client_rejected_with_list_name(stack):
    pf, pol = stack
    r = swaks(pf.port, xclient="ADDR=192.0.2.1 NAME=spam.example")
    assert r.code("RCPT TO") == 554, str(r)
    reply = r.reply_to("RCPT TO")
    assert "Client host [192.0.2.1] blocked using bl.test" in reply
    assert "Listed by bl.test, see http://bl.test/lookup?192.0.2.1" in reply


def test_clean_client_accepted(stack):
    pf, _ = stack
    r = swaks(pf.port, xclient="ADDR=10.11.12.13")
    assert accepted(r), str(r)


def test_allowlisted_clients_accepted(stack):
    pf, _ = stack
    # listed on bl.test, but in client_allowlist
    assert accepted(swaks(pf.port, xclient="ADDR=203.0.113.5"))
    # listed on bl.test, and on the DNS allowlist wl.test with weight -5
    assert accepted(swaks(pf.port, xclient="ADDR=192.0.2.10"))


def test_authenticated_client_not_scored(stack):
    pf, _ = stack
    r = swaks(pf.port, xclient="ADDR=192.0.2.99 LOGIN=carl", to="someone@example.net")
    assert accepted(r), str(r)


def test_limit_defers_user_and_survives_restart(stack):
    pf, pol = stack
    # outbound_limits = 3 messages/hour: three go through
    for _ in range(3):
        r = swaks(pf.port, xclient="ADDR=10.0.0.5 LOGIN=frank", to="x@example.net")
        assert accepted(r), str(r)
    r = swaks(pf.port, xclient="ADDR=10.0.0.5 LOGIN=frank", to="x@example.net")
    assert r.code("RCPT TO") == 450, str(r)
    assert "4.7.1" in r.reply_to("RCPT TO")
    assert "Sending limit exceeded (3 of 3 messages per hour)" in r.reply_to("RCPT TO")
    # another user is not
    assert accepted(swaks(pf.port, xclient="ADDR=10.0.0.5 LOGIN=gina", to="x@example.net"))
    # the daemon restarts (Postfix reconnects by itself): still deferred
    pol.restart()
    r = swaks(pf.port, xclient="ADDR=10.0.0.5 LOGIN=frank", to="x@example.net")
    assert r.code("RCPT TO") == 450, str(r)
    # and after a crash
    pol.restart(signal.SIGKILL)
    r = swaks(pf.port, xclient="ADDR=10.0.0.5 LOGIN=frank", to="x@example.net")
    assert r.code("RCPT TO") == 450, str(r)
    assert accepted(swaks(pf.port, xclient="ADDR=10.0.0.5 LOGIN=gina", to="x@example.net"))
    # the operator lifts the block
    assert pol.command("reset", "frank").returncode == 0
    assert accepted(swaks(pf.port, xclient="ADDR=10.0.0.5 LOGIN=frank", to="x@example.net"))


def test_recipients_counted_at_end_of_message(stack):
    pf, pol = stack
    # 8 recipients/hour; recipients refused by Postfix are not counted
    to = "a@example.net,b@example.net,c@example.net,d@example.net,e@example.net"
    r = swaks(pf.port, auth=("dora", "secret"), to=to)
    assert r.code(".") == 250, str(r)
    r = swaks(pf.port, auth=("dora", "secret"),
              to="f@example.net,g@example.net,h@example.net,i@example.net")
    # every RCPT passes (5 < 8); the message as a whole (5 + 4) does not
    assert r.code("RCPT TO") == 250
    assert r.code(".") == 450, str(r)
    # the count told is what the message would have made (not a block: 2 more fit)
    assert "Sending limit exceeded (9 of 8 recipients per hour)" in r.reply_to(".")
    r = swaks(pf.port, auth=("dora", "secret"), to="f@example.net,g@example.net")
    assert r.code(".") == 250, str(r)
    # erik logs in the same way and is not affected
    assert accepted(swaks(pf.port, auth=("erik", "secret"), to=to))
    assert "dora" in pol.command("status").stdout
