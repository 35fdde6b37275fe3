"""Flow control of `rblkit check`'s stub resolver against a real server.

Debian's rbldnsd answers from one thread with the default socket buffers,
like a list's own server or a small resolver: a client that sends more
than its receive buffer holds loses queries.  With default options,
`rblkit check` must find every verdict anyway: every listed address
listed, no clean one listed, no errors (issue 11).  The resolver starts
with a small window, grows it while answers come back and halves it on
a loss; a lost query waits for its retransmission timeout (measured) and
goes again.

Data: a few thousand random addresses, about 10 % listed in each of
three ip4set zones, generated here; rbldnsd on a random loopback port.
"""
import json
import os
import random
import shutil
import socket
import subprocess
import threading

import pytest

import servers

ZONES = ["z1.flow.test", "z2.flow.test", "z3.flow.test"]
N_ADDRS = 5000


@pytest.fixture(scope="module")
def flow_data():
    d = servers.make_datadir("rblkit-flow-")
    r = random.Random(11)
    addrs = sorted({"%d.%d.%d.%d" % (r.randint(1, 223), r.randint(0, 255),
                                     r.randint(0, 255), r.randint(1, 254))
                    for _ in range(N_ADDRS)})
    listed = {}
    for i, z in enumerate(ZONES):
        listed[z] = {a for a in addrs if r.random() < 0.10}
        with open(os.path.join(d, "z%d.txt" % i), "w") as f:
            f.write(":127.0.0.2:Listed\n127.0.0.2\n")    # the RFC 5782 test point
            for a in sorted(listed[z]):
                f.write(a + "\n")
    with open(os.path.join(d, "targets.txt"), "w") as f:
        f.write("\n".join(addrs) + "\n")
    srv = servers.start_rbldnsd(["%s:ip4set:z%d.txt" % (z, i) for i, z in enumerate(ZONES)],
                                d, name="rbldnsd-flow")
    yield d, addrs, listed, srv
    srv.stop()
    shutil.rmtree(d, ignore_errors=True)


def check(srv, datadir, *extra, timeout=60):
    argv = [servers.RBLKIT, "check", "--json", "--resolver", "127.0.0.1:%d" % srv.port,
            *[a for z in ZONES for a in ("--zone", z)], *extra,
            "-f", os.path.join(datadir, "targets.txt")]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    assert p.returncode in (0, 1, 3), p.stderr
    return json.loads(p.stdout)


def wrong_verdicts(out, addrs, listed, zones=ZONES):
    """(missed, false, errors, seen): listed ones not found, clean ones
    reported listed, anything else, and the (address, zone) pairs seen."""
    missed, false, errors, seen = [], [], [], set()
    for t in out:
        for res in t["results"]:
            if res["zone"] not in zones:
                continue
            key = (t["target"], res["zone"])
            seen.add(key)
            want = "listed" if t["target"] in listed[res["zone"]] else "clean"
            if res["status"] == want:
                continue
            if res["status"] == "error":
                errors.append((key, res["error"]))
            elif want == "listed":
                missed.append(key)
            else:
                false.append(key)
    return missed, false, errors, seen


@pytest.mark.rbldnsd
def test_default_options_get_every_verdict_from_a_single_threaded_server(flow_data):
    datadir, addrs, listed, srv = flow_data
    out = check(srv, datadir)
    missed, false, errors, seen = wrong_verdicts(out, addrs, listed)
    assert len(seen) == len(addrs) * len(ZONES)
    assert not errors, "%d errors, e.g. %s" % (len(errors), errors[:3])
    assert not missed, "%d listed ones missed, e.g. %s" % (len(missed), missed[:3])
    assert not false, "%d clean ones listed, e.g. %s" % (len(false), false[:3])
    assert sum(len(v) for v in listed.values()) > 100      # the data does list some


@pytest.mark.rbldnsd
def test_window_is_a_maximum_not_a_burst(flow_data):
    # --window as large as it goes: the resolver still starts small and
    # finds the server's capacity, so nothing is lost for good
    datadir, addrs, listed, srv = flow_data
    out = check(srv, datadir, "--window", "20000")
    missed, false, errors, seen = wrong_verdicts(out, addrs, listed)
    assert len(seen) == len(addrs) * len(ZONES)
    assert (len(missed), len(false), len(errors)) == (0, 0, 0), errors[:3]


class Silent:
    """A UDP socket on loopback that reads queries and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.sock.settimeout(0.1)
        while not self.stop:
            try:
                self.sock.recvfrom(4096)
            except socket.timeout:
                pass

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


@pytest.mark.rbldnsd
def test_a_dead_list_server_fails_its_own_queries_only(flow_data):
    # one zone's server never answers: its queries end as timeouts (the
    # server is taken as down after one query's whole time, and the rest
    # of its queue ends at once), the other zones' verdicts are all right
    datadir, addrs, listed, srv = flow_data
    dead = Silent()
    try:
        out = check(srv, datadir, "--zone", "dead.flow.test@127.0.0.1:%d" % dead.port,
                    "--query-timeout", "300", "--tries", "2")
    finally:
        dead.close()
    missed, false, errors, seen = wrong_verdicts(out, addrs, listed)
    assert len(seen) == len(addrs) * len(ZONES)
    assert (len(missed), len(false), len(errors)) == (0, 0, 0), errors[:3]
    dead_results = [r for t in out for r in t["results"] if r["zone"] == "dead.flow.test"]
    assert len(dead_results) == len(addrs)
    assert all(r["status"] == "error" and "timeout" in r["error"] for r in dead_results)
