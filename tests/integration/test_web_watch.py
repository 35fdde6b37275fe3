"""The watch dashboard of `rblkit web` (/admin/watch, behind the console
log-in): current listings with the code's meaning (from the catalogue),
TXT and delisting link; the lists in error; the timeline of transitions
as server-drawn SVG (well-formed, one lane per target and list, a
segment per state); all read from the watch history in the store
(store/watch.h) — the portal's store, or watch_store."""

import os
import re
import sqlite3
import sys
import time
import xml.etree.ElementTree as ET

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_web_helpers import Client, Web, rl  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    return rblkit_bin


def fill_history(path, now):
    db = sqlite3.connect(path)
    st = ("INSERT INTO watch_state (list, target, state, since, codes, txt, why, pending,"
          " confirms, last_check, reminded) VALUES (?,?,?,?,?,?,?,?,?,?,?)")
    db.execute(st, ("zen.spamhaus.org", "192.0.2.1", 2, now - 3600, "127.0.0.2,127.0.0.4",
                    "SBL listing <script>x</script>", "", 2, 0, now, 0))
    db.execute(st, ("bl.spamcop.net", "192.0.2.1", 1, now - 7200, "", "", "", 1, 0, now, 0))
    db.execute(st, ("sbl.spamhaus.org", "", 3, now - 600, "127.255.255.254", "",
                    "refusal code: query through a public resolver", 3, 0, now, 0))
    tr = ("INSERT INTO watch_transitions (time, target, list, from_state, to_state, codes,"
          " txt, why) VALUES (?,?,?,?,?,?,?,?)")
    db.execute(tr, (now - 2 * 86400, "192.0.2.9", "bl.spamcop.net", 1, 2, "127.0.0.2",
                    "spamcop hit", ""))
    db.execute(tr, (now - 86400, "192.0.2.9", "bl.spamcop.net", 2, 1, "", "", ""))
    db.execute(tr, (now - 3600, "192.0.2.1", "zen.spamhaus.org", 1, 2, "127.0.0.2,127.0.0.4",
                    "SBL listing <script>x</script>", ""))
    db.execute(tr, (now - 600, "", "sbl.spamhaus.org", 1, 3, "127.255.255.254", "",
                    "refusal code: query through a public resolver"))
    db.execute(tr, (now - 30 * 86400, "192.0.2.77", "old.example", 1, 2, "", "", ""))
    db.commit()
    db.close()


def login(web):
    assert web.cli("--add-user", "v", "--role", "viewer",
                   stdin="viewer password 12\n").returncode == 0
    c = Client(web)
    _, _, body = c.get("/admin")
    st, _, _ = c.post("/admin/login", {"user": "v", "password": "viewer password 12",
                                       "csrf": c.csrf_from(body)})
    assert st == 303
    return c


def check_dashboard(body):
    assert '<p id="counts">Now: 1 listings, 1 in error.' in body
    listings = re.search(r'<table id="listings">(.*?)</table>', body, re.S).group(1)
    row = re.search(r'<tr class="listed" data-list="zen.spamhaus.org"><td>192.0.2.1</td>(.*?)</tr>',
                    listings, re.S).group(1)
    assert "127.0.0.2 &mdash; SBL: Spamhaus Block List" in row
    assert "127.0.0.4 &mdash; XBL: exploited or infected host" in row
    assert "SBL listing &lt;script&gt;x&lt;/script&gt;" in row and "<script>" not in body
    assert 'href="https://check.spamhaus.org/results/?query=192.0.2.1"' in row
    assert "bl.spamcop.net" not in listings               # clean is not a listing
    errors = re.search(r'<table id="errors">(.*?)</table>', body, re.S).group(1)
    assert re.search(r'data-list="sbl.spamhaus.org"><td>sbl.spamhaus.org</td><td>the list itself',
                     errors)
    assert "refusal code: query through a public resolver (127.255.255.254)" in errors
    svg = ET.fromstring(re.search(r"<svg id=\"timeline\".*?</svg>", body, re.S).group(0))
    lanes = {(g.get("data-target"), g.get("data-list")): [r.get("class") for r in g.iter(SVG + "rect")]
             for g in svg.iter(SVG + "g")}
    # listed two days ago, clean again one day ago: clean, listed, clean
    assert lanes[("192.0.2.9", "bl.spamcop.net")] == ["s1", "s2", "s1"]
    assert lanes[("192.0.2.1", "zen.spamhaus.org")] == ["s1", "s2"]
    assert lanes[("", "sbl.spamhaus.org")] == ["s1", "s3"]
    assert ("192.0.2.77", "old.example") not in lanes     # before the window
    trans = re.findall(r'<tr class="transition">(.*?)</tr>', body, re.S)
    assert len(trans) == 4 and "sbl.spamhaus.org" in trans[0]      # newest first
    assert "clean &rarr; listed" in trans[1] and "SBL listing &lt;script&gt;" in trans[1]


def test_watch_dashboard_from_the_portals_store(tmp_path):
    dsn = f"sqlite:{tmp_path}/list.db"
    web = Web(tmp_path, dsn, "127.0.0.1:9").start()     # the schema (with watch's tables)
    try:
        fill_history(f"{tmp_path}/list.db", int(time.time()))
        st, _, body = Client(web).get("/admin/watch")           # no session: nothing there
        assert st == 404 and 'id="counts"' not in body
        c = login(web)
        st, h, body = c.get("/admin/watch")
        assert st == 200, body
        check_dashboard(body)
        # a longer window shows the old transition too
        _, _, body = c.get("/admin/watch?days=40")
        assert 'data-target="192.0.2.77"' in body
    finally:
        web.stop()


def test_watch_dashboard_from_a_watch_store_of_its_own(tmp_path):
    wdsn = f"sqlite:{tmp_path}/watch.db"
    assert rl(wdsn, "add", "bl.test", "192.0.2.200").returncode == 0   # made, migrated
    fill_history(f"{tmp_path}/watch.db", int(time.time()))
    web = Web(tmp_path, f"sqlite:{tmp_path}/list.db", "127.0.0.1:9",
              extra=f"watch_store = {wdsn}\n").start()
    try:
        c = login(web)
        st, _, body = c.get("/admin/watch")
        assert st == 200, body
        check_dashboard(body)
    finally:
        web.stop()
