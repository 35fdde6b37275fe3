"""rblkit watch end to end with a REAL Postfix: our outbound mail is
refused by a receiver naming a blocklist, Postfix logs it, and the watch
daemon following that log checks the list at once and alerts, quoting the
line -- long before its next scheduled check (interval = 1h here).

Parts: Debian's Postfix (postfix_helper.py) relaying to the refusing SMTP
receiver of test_watch_signals_postfix.py, `rblkit serve` standing in for
zen.spamhaus.org (test_watch.py's Lists), and `rblkit watch`.
"""

import os

import pytest

import postfix_helper
import test_watch_signals_postfix as tsp
from test_watch import base_conf, lists, watch_factory  # noqa: F401  (fixtures)
from test_watch_signals_postfix import mail  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

OURS = "192.0.2.25"
REFUSAL = ("554 5.7.1 Service unavailable; Client host [%s] blocked using "
           "zen.spamhaus.org; https://www.spamhaus.org/query/ip/%s" % (OURS, OURS))


def test_a_real_postfix_refusal_brings_the_alert_before_the_next_check(
        mail, lists, watch_factory, monkeypatch):  # noqa: F811
    pf, rcv = mail
    monkeypatch.setitem(tsp.REPLIES, "frank@customer.example", REFUSAL)
    log = os.path.join(pf.dir, "maillog")
    zen = lists.spec("zen.spamhaus.org")
    w = watch_factory(lambda d: base_conf(d, [zen], [OURS], "mail_log = %s\n" % log).replace(
        "interval = 1s", "interval = 1h"))
    w.start()
    w.wait(lambda st: any(t["target"] == OURS and t["to"] == "clean"
                          for t in st["transitions"]), "the first verdict")
    lists.set("zen.spamhaus.org", [OURS])
    r = postfix_helper.swaks(pf.port, sender="alice@test.invalid",
                             to="frank@customer.example")
    assert "queued as" in str(r), r
    a = w.wait_alerts(1)
    assert a[0]["RBLKIT_WATCH_EVENT"] == "listed" and a[0]["RBLKIT_WATCH_TARGET"] == OURS
    notes = a[0]["RBLKIT_WATCH_NOTES"]
    assert "blocked using zen.spamhaus.org" in notes and OURS in notes, notes
    assert "to=<frank@customer.example>" in pf.maillog()
    assert w.proc.poll() is None
