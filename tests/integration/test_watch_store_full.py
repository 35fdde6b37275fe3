"""`rblkit watch` when its store cannot be written: the disk is full.

The store (SQLite, WAL) lives on a tmpfs of 2 MiB mounted for the test
(root is needed: skipped with the reason when the mount fails); once the
daemon has written its first verdicts a filler file takes every free
block, so every later transaction fails (SQLITE_FULL: "database or disk
is full"). The list (`rblkit serve` on loopback) then lists the target.

What an operator relies on:
- watch says so in its log, naming the store and why, and keeps running;
- the listing is not lost: once space is back it is recorded (one
  transition in the history) and alerted exactly once;
- a kill -9 and a restart send nothing twice; the delisting that follows
  is one more alert.

- the disk filling during a delivery (the alert command fills it): the
  alert that was sent is recorded as sent once space is back, never as
  failed ("interrupted").

A daemon that drops the transition when its write fails (the states in
memory moved on, the store did not) never alerts this listing: the test
waits for several failed writes after the listing is served, past the
`confirm` checks that complete it, before it frees the space.
"""

import errno
import os
import re
import signal
import subprocess
import time

import pytest

from test_watch import Lists, Watch, base_conf, list_state, pair

WAIT = 30.0


@pytest.fixture
def small_fs(tmp_path):
    """A 2 MiB tmpfs, unmounted at teardown whatever the test did."""
    d = str(tmp_path / "store")
    os.makedirs(d)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", d],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    if r.returncode:
        pytest.skip("cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): %s"
                    % r.stdout.strip())
    try:
        yield d
    finally:
        if subprocess.run(["umount", d], stderr=subprocess.DEVNULL).returncode:
            subprocess.run(["umount", "-l", d])


@pytest.fixture
def lists(datadir):
    ls = Lists(datadir)
    yield ls
    ls.stop()


@pytest.fixture
def watch(rblkit_bin, tmp_path, small_fs, lists):
    """The daemon's files (configuration, log, alerts) on the real disk,
    its store on the small tmpfs; killed before the tmpfs is unmounted."""
    made = []

    def make(targets):
        d = str(tmp_path / "w")
        os.makedirs(d, exist_ok=True)
        conf = base_conf(d, [lists.spec("zen.spamhaus.org")], targets)
        conf = conf.replace("store = sqlite:%s/watch.db" % d,
                            "store = sqlite:%s/watch.db" % small_fs)
        w = Watch(rblkit_bin, d, conf)
        made.append(w)
        return w
    yield make
    for w in made:
        w.stop(signal.SIGKILL)


def fill(path):
    """Write path until the file system says ENOSPC; return its size."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    size = 0
    try:
        for chunk in (1 << 16, 4096, 1):
            buf = b"\0" * chunk
            while True:
                try:
                    n = os.write(fd, buf)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
                size += n
    finally:
        os.close(fd)
    return size


def store_errors(text):
    return [l for l in text.splitlines() if "disk is full" in l]


def events(w):
    return [a["RBLKIT_WATCH_EVENT"] for a in w.alert_files()]


def wait_log(w, cond, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert w.proc.poll() is None, "watch stopped:\n" + w.logtext()
        if cond(w.logtext()):
            return
        time.sleep(0.2)
    pytest.fail("waited for %s\nlog:\n%s" % (what, w.logtext()))


def test_a_full_disk_delays_the_alert_and_loses_nothing(lists, watch, small_fs):
    zen = lists.spec("zen.spamhaus.org")
    t = "192.0.2.1"
    w = watch([t]).start()
    # the first verdicts are written: the database, its WAL and its shared
    # memory index exist before the space runs out
    w.wait(lambda st: any(x["target"] == t and x["to"] == "clean" for x in st["transitions"]),
           "the first verdict")
    filler = os.path.join(small_fs, "filler")
    assert fill(filler) > 0
    sv = os.statvfs(small_fs)
    assert sv.f_bavail == 0, "the tmpfs still has %d free blocks" % sv.f_bavail
    before = len(store_errors(w.logtext()))

    lists.set("zen.spamhaus.org", [t])
    # confirm = 2: three failed writes after the listing is served (the
    # first may be of a check already under way) are past the check that
    # completes the listing (a check a second)
    wait_log(w, lambda s: len(store_errors(s)) >= before + 3, "failed store writes")
    errs = store_errors(w.logtext())
    # the error names the store and says why
    assert any("watch.db" in l and re.search(r"\bstore\b", l) for l in errs), errs
    st = w.status()
    assert st is not None and not pair(st, t, zen), st      # nothing recorded yet

    os.unlink(filler)
    st = w.wait(lambda st: pair(st, t, zen), "the listing once space is back")
    assert w.wait_alerts(1)[0]["RBLKIT_WATCH_EVENT"] == "listed"
    st = w.wait(lambda st: st["alerts_not_sent"] == [], "the alert marked sent")
    listed = [x for x in st["transitions"] if x["target"] == t and x["to"] == "listed"]
    assert len(listed) == 1, st["transitions"]
    assert listed[0]["from"] == "clean"
    assert w.alert_files()[0]["RBLKIT_WATCH_TRANSITION_ID"] == str(listed[0]["id"])
    # the failed writes are not retried in a loop: a check a second
    assert len(errs) < 200, errs[:5]
    time.sleep(1)
    assert events(w) == ["listed"]

    # kill -9 and a restart: the history stays, nothing is sent again
    before = w.status()
    w.stop(signal.SIGKILL)
    w.start()
    used = list_state(before, zen)["used_today"]
    w.wait(lambda st: list_state(st, zen)["used_today"] > used + 2, "checks after the restart")
    st = w.status()
    assert [x["id"] for x in st["transitions"]] == [x["id"] for x in before["transitions"]]
    assert events(w) == ["listed"]

    # the delisting: one alert more
    lists.set("zen.spamhaus.org", [])
    w.wait(lambda st: not pair(st, t, zen), "the delisting")
    assert [a["RBLKIT_WATCH_EVENT"] for a in w.wait_alerts(2)] == ["listed", "delisted"]
    w.wait(lambda st: st["alerts_not_sent"] == [], "the alerts marked sent")
    time.sleep(1)
    assert events(w) == ["listed", "delisted"]
    st = w.status()
    assert [(x["from"], x["to"]) for x in st["transitions"] if x["target"] == t] == \
        [("unknown", "clean"), ("clean", "listed"), ("listed", "clean")]


FILL_ONCE = """
# the first alert fills the store's file system once it is written: the
# delivery cannot record its outcome
if os.path.exists({mark!r}):
    os.unlink({mark!r})
    fd = os.open({filler!r}, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for n in (1 << 16, 4096, 1):
        try:
            while os.write(fd, b"\\0" * n):
                pass
        except OSError:
            pass
    os.close(fd)
"""


def test_a_full_disk_during_a_delivery_does_not_record_a_sent_alert_as_failed(
        lists, watch, small_fs):
    """The alert was sent but its outcome could not be written: the
    delivery keeps it and writes it once it can. (It exited at once, and
    the daemon then recorded the alert as failed: "interrupted: the
    daemon restarted during the delivery" -- it had been sent, and the
    daemon had not restarted.)"""
    zen = lists.spec("zen.spamhaus.org")
    t = "192.0.2.1"
    w = watch([t])
    mark, filler = os.path.join(w.dir, "fill-once"), os.path.join(small_fs, "filler")
    with open(os.path.join(w.dir, "alert.sh"), "a") as f:
        f.write(FILL_ONCE.format(mark=mark, filler=filler))
    open(mark, "w").close()
    w.start()
    w.wait(lambda st: any(x["target"] == t and x["to"] == "clean" for x in st["transitions"]),
           "the first verdict")
    before = len(store_errors(w.logtext()))
    lists.set("zen.spamhaus.org", [t])
    w.wait_alerts(1)
    assert events(w) == ["listed"]
    wait_log(w, lambda s: len(store_errors(s)) > before, "the failed write after the delivery")
    assert not os.path.exists(mark)
    os.unlink(filler)
    st = w.wait(lambda st: st["alerts_not_sent"] == [], "the alert recorded as sent")
    assert pair(st, t, zen)
    time.sleep(1)
    assert events(w) == ["listed"]
    # the delivery child waited for the store and recorded the outcome
    # itself (not the daemon's "interrupted" on its next start)
    assert re.search(r"alert \d+: recorded after \d+s", w.logtext()), w.logtext()
