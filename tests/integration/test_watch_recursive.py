"""`rblkit watch` in its default mode, resolver = recursive (libunbound
from the root), against a fake root: NSD on a random 127.53.X.1:53 serves
a root zone that delegates zen.spamhaus.org to `rblkit serve` on
127.53.X.2:53; libunbound gets those root hints (root_hints =). Root hints
carry no port, hence port 53 on addresses of this test's own (needs root;
the test says so otherwise).

The listing is found through the delegation and alerted; the RFC 5782
probe passes through the same path; the refusal code is a list error.
"""

import os
import random
import signal
import subprocess
import time

import dns.message
import dns.query
import pytest

import servers
from test_watch import Watch, base_conf, list_state, pair, write_data

NSD = "/usr/sbin/nsd"


@pytest.fixture
def fake_root(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("this test binds port 53 on 127.53.X.Y (root hints have no port): run as root",
                    pytrace=False)
    if not os.access(NSD, os.X_OK):
        pytest.fail("NSD is required (apt-get install nsd)", pytrace=False)
    net = "127.53.%d" % random.randint(1, 250)
    root, lst = net + ".1", net + ".2"
    d = str(tmp_path)
    with open(os.path.join(d, "root.zone"), "w") as f:
        f.write("$TTL 300\n. IN SOA a.root.test. h.root.test. 1 600 300 86400 60\n"
                ". IN NS a.root.test.\na.root.test. IN A %s\n"
                "zen.spamhaus.org. IN NS ns.zen.spamhaus.org.\n"
                "ns.zen.spamhaus.org. IN A %s\n" % (root, lst))
    with open(os.path.join(d, "nsd.conf"), "w") as f:
        f.write('server:\n  ip-address: %s\n  port: 53\n  username: ""\n  zonesdir: "%s"\n'
                '  pidfile: "%s/nsd.pid"\n  database: ""\n  xfrdfile: "%s/xfrd.state"\n'
                '  zonelistfile: "%s/zone.list"\nremote-control:\n  control-enable: no\n'
                'zone:\n  name: "."\n  zonefile: "root.zone"\n' % (root, d, d, d, d))
    with open(os.path.join(d, "hints"), "w") as f:
        f.write(".  3600000  NS  A.ROOT.TEST.\nA.ROOT.TEST.  3600000  A  %s\n" % root)
    zone = ("$SOA 30 ns.zen.spamhaus.org hostmaster.zen.spamhaus.org 0 600 300 86400 2\n"
            "$NS 300 ns.zen.spamhaus.org\n:127.0.0.2:Listed $\n127.0.0.2\n192.0.2.1\n"
            "192.0.2.9 :127.255.255.254:refused\n")
    write_data(d, "zen.txt", zone)
    nsd = subprocess.Popen([NSD, "-d", "-c", os.path.join(d, "nsd.conf")], cwd=d,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    srv = subprocess.Popen([servers.RBLKIT, "serve", "-n", "-b", lst + "/53",
                            "zen.spamhaus.org:ip4set:zen.txt"], cwd=d,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    q = dns.message.make_query("2.0.0.127.zen.spamhaus.org", "A")
    for addr in (lst, root):
        while True:
            try:
                dns.query.udp(q, addr, port=53, timeout=0.5)
                break
            except Exception:
                assert time.monotonic() < deadline, "the fake root or list did not answer"
                time.sleep(0.1)
    yield os.path.join(d, "hints")
    srv.send_signal(signal.SIGTERM)
    srv.wait(10)
    nsd.send_signal(signal.SIGTERM)
    nsd.wait(10)


def test_recursive_from_a_fake_root_finds_the_listing(fake_root, rblkit_bin, tmp_path):
    d = str(tmp_path / "w")
    os.makedirs(d)
    w = Watch(rblkit_bin, d, base_conf(d, ["zen.spamhaus.org"], ["192.0.2.1", "192.0.2.2"],
                                       "root_hints = %s\n" % fake_root))
    assert "resolver" not in open(w.conf).read()        # the default: recursive
    w.start()
    try:
        st = w.wait(lambda st: pair(st, "192.0.2.1", "zen.spamhaus.org"), "the listing")
        assert list_state(st, "zen.spamhaus.org")["state"] == "ok"
        a = w.wait_alerts(1)
        assert a[0]["RBLKIT_WATCH_EVENT"] == "listed"
        assert a[0]["RBLKIT_WATCH_TXT"] == "Listed 192.0.2.1"
        w.wait(lambda st: any(t["target"] == "192.0.2.2" and t["to"] == "clean"
                              for t in st["transitions"]), "the clean verdict")
    finally:
        w.stop(signal.SIGKILL)


def test_recursive_refusal_code_is_a_list_error(fake_root, rblkit_bin, tmp_path):
    d = str(tmp_path / "w")
    os.makedirs(d)
    w = Watch(rblkit_bin, d, base_conf(d, ["zen.spamhaus.org"], ["192.0.2.9"],
                                       "root_hints = %s\n" % fake_root))
    w.start()
    try:
        st = w.wait(lambda st: list_state(st, "zen.spamhaus.org")["state"] == "error",
                    "the list error")
        assert "127.255.255.254" in list_state(st, "zen.spamhaus.org")["why"]
        time.sleep(1)
        assert [x["RBLKIT_WATCH_EVENT"] for x in w.alert_files()] == ["list-error"]
    finally:
        w.stop(signal.SIGKILL)
