"""rblkit web: the lookup and removal portal, the console and the API,
over HTTP against the real binary, a real store and `rblkit serve`
publishing the zone.

The zone is served from the store itself (bl.test:store:sqlite:PATH) when
serve has store zones; without them, from a file written once (the tests
that need DNS to follow a removal then skip, saying so)."""

import os
import re
import subprocess
import sys

import dns.message
import dns.query
import dns.rcode
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from pg import pg_dsn, pg_server  # noqa: E402,F401  (fixtures)
from test_web_helpers import Client, Web, api, rl, serve_has_store  # noqa: E402

ZONE = "bl.test"
LISTED = "192.0.2.5"
EVIL = '<script>alert("x")</script>'


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    return rblkit_bin


def dns_for(tmp, dsn, file_lines=()):
    """Start serve for ZONE: the store zone, or a file with file_lines."""
    if serve_has_store():
        return servers.start_rblkit([f"{ZONE}:store:{dsn}"], str(tmp)), True
    with open(os.path.join(str(tmp), "bl.txt"), "w") as f:
        f.write("\n".join(file_lines) + "\n")
    return servers.start_rblkit([f"{ZONE}:ip4set:bl.txt"], str(tmp)), False


@pytest.fixture
def portal(tmp_path):
    """A store with LISTED (reason with markup, a trap hit with evidence),
    serve and web over it. Yields (web, dsn, live): live says DNS follows
    the store."""
    dsn = f"sqlite:{tmp_path}/list.db"
    assert rl(dsn, "add", ZONE, LISTED, "--reason", f"spam {EVIL}").returncode == 0
    ev = tmp_path / "ev.txt"
    ev.write_text("Received: from x\nTo: spamtrap@trap.example\nSubject: cheap pills\n\nbody\n")
    assert rl(dsn, "hit", ZONE, LISTED, "--trap", "spamtrap@trap.example",
              "--evidence", ev).returncode == 0
    srv, live = dns_for(tmp_path, dsn, [f"{LISTED} :127.0.0.2:listed"])
    web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}").start()
    try:
        yield web, dsn, live
    finally:
        web.stop()
        srv.stop()


def section(html, zone=ZONE):
    m = re.search(r'<section class="zone"><h2>' + re.escape(zone) + r': (.*?)</section>', html,
                  re.S)
    assert m, html
    return m.group(1)


def test_lookup_listed_shows_dns_answer_and_evidence(portal):
    web, _, _ = portal
    c = Client(web)
    st, h, body = c.get(f"/?q={LISTED}")
    assert st == 200
    s = section(body)
    assert '<span class="listed">LISTED</span>' in s
    assert "127.0.0.2" in s and "spam source" in s          # code and its meaning
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in s   # reason, escaped
    assert EVIL not in body
    assert "Subject: cheap pills" in s                       # evidence
    assert "s***@trap.example" in s and "spamtrap@" not in body   # trap masked
    assert "Request removal" in s
    assert "default-src 'none'" in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    # the visitor's own address is offered
    assert 'value="' + LISTED + '"' in body
    st, _, body = c.get("/")
    assert 'value="127.0.0.1"' in body


def test_lookup_not_listed(portal):
    web, _, _ = portal
    st, _, body = Client(web).get("/?q=192.0.2.99")
    assert st == 200
    s = section(body)
    assert '<span class="ok">not listed</span>' in s
    assert "Request removal" not in s


def test_dns_unreachable_is_unknown_never_not_listed(tmp_path):
    dsn = f"sqlite:{tmp_path}/list.db"
    assert rl(dsn, "add", ZONE, LISTED).returncode == 0
    port = servers.free_port()          # nothing listens there
    web = Web(tmp_path, dsn, f"127.0.0.1:{port}").start()
    try:
        st, _, body = Client(web).get(f"/?q={LISTED}")
        s = section(body)
        assert 'class="unknown"' in s
        assert "not listed" not in s
        st, _, body = Client(web).get("/?q=192.0.2.99")
        assert "not listed" not in section(body)
    finally:
        web.stop()


def test_hostile_query_is_echoed_escaped(portal):
    web, _, _ = portal
    st, _, body = Client(web).get("/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27")
    assert st == 400
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;" in body


def test_bad_encoding_is_400_without_internals(portal):
    web, _, _ = portal
    for q in ("/?q=%zz", "/?q=%00", "/?q=%ff%fe"):
        st, _, body = Client(web).get(q)
        assert st == 400, q
        assert "/src/" not in body and ".c:" not in body


def test_japanese_by_accept_language_and_switch(portal):
    web, _, _ = portal
    st, _, body = Client(web).get("/?q=192.0.2.99", headers={"Accept-Language": "ja,en;q=0.5"})
    assert '<html lang="ja">' in body and "掲載されていません" in body
    st, _, body = Client(web).get("/?q=192.0.2.99&lang=ja")
    assert "掲載されていません" in body
    st, _, body = Client(web).get("/?q=192.0.2.99", headers={"Accept-Language": "de, en;q=0.8"})
    assert '<html lang="en">' in body


def test_removal_without_csrf_is_403_and_changes_nothing(portal):
    web, dsn, _ = portal
    c = Client(web)
    st, _, _ = c.post("/remove", {"zone": ZONE, "q": LISTED})
    assert st == 403
    c.get("/")                               # gets the csrf cookie
    st, _, _ = c.post("/remove", {"zone": ZONE, "q": LISTED, "csrf": "0" * 64})
    assert st == 403
    assert '"state": "listed"' in rl(dsn, "--json", "show", ZONE, LISTED).stdout.replace(
        '"state":"listed"', '"state": "listed"')


def test_oversized_request_is_413(portal):
    web, _, _ = portal
    st, _, _ = Client(web).req("POST", "/remove", raw=b"a=" + b"x" * 200000,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert st == 413


def test_removal_within_limits_dns_says_nxdomain(portal):
    web, dsn, live = portal
    if not live:
        pytest.skip("this rblkit serve has no store zones: DNS cannot follow a removal")
    c = Client(web)
    st, _, body = c.get(f"/?q={LISTED}")
    tok = c.csrf_from(body)
    st, _, body = c.post("/remove", {"zone": ZONE, "q": LISTED, "csrf": tok,
                                     "reason": "fixed the form"})
    assert st == 200, body
    assert "now answers: not listed" in body
    assert "listed again at the next spamtrap hit" in body
    # DNS already says so when the page answers
    port = int(open(web.conf).read().split("dns = 127.0.0.1:")[1].split()[0])
    q = dns.message.make_query("5.2.0.192." + ZONE, "A")
    assert dns.query.udp(q, "127.0.0.1", port=port, timeout=2).rcode() == dns.rcode.NXDOMAIN
    hist = rl(dsn, "history", ZONE, LISTED).stdout
    assert "web:127.0.0.1" in hist and "fixed the form" in hist


def test_removal_beyond_limit_goes_to_review_and_is_approved(tmp_path):
    dsn = f"sqlite:{tmp_path}/list.db"
    rules = tmp_path / "list.conf"
    rules.write_text(f"store = {dsn}\nself_remove_max = 0\n")
    assert rl(dsn, "add", ZONE, LISTED).returncode == 0
    srv, live = dns_for(tmp_path, dsn, [f"{LISTED} :127.0.0.2:listed"])
    web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}", rules=str(rules)).start()
    try:
        c = Client(web)
        _, _, body = c.get(f"/?q={LISTED}")
        st, _, body = c.post("/remove", {"zone": ZONE, "q": LISTED, "csrf": c.csrf_from(body),
                                         "reason": "please " + EVIL})
        assert st == 202, body
        assert "needs a review" in body and "self_remove_max 0" in body
        assert '"listed"' in rl(dsn, "--json", "show", ZONE, LISTED).stdout
        # the operator approves it in the console
        r = web.cli("--add-user", "op", "--role", "operator", stdin="correct horse battery\n")
        assert r.returncode == 0, r.stderr
        a = Client(web)
        _, _, body = a.get("/admin")
        st, h, _ = a.post("/admin/login", {"user": "op", "password": "wrong password!",
                                           "csrf": a.csrf_from(body)})
        assert st == 403
        _, _, body = a.get("/admin")
        st, h, _ = a.post("/admin/login", {"user": "op", "password": "correct horse battery",
                                           "csrf": a.csrf_from(body)})
        assert st == 303 and h["Location"] == "/admin"
        st, _, body = a.get("/admin")
        assert st == 200 and 'id="queue"' in body
        assert "please &lt;script&gt;" in body and EVIL not in body
        rid = re.search(r'id="approve-(\d+)"', body).group(1)
        # the session's CSRF token is needed
        st, _, _ = a.post("/admin/decide", {"id": rid, "decision": "approve"})
        assert st == 403
        st, _, body = a.post("/admin/decide", {"id": rid, "decision": "approve",
                                               "csrf": a.csrf_from(body)})
        assert st == 200 and f"approved request {rid}" in body
        assert '"removed"' in rl(dsn, "--json", "show", ZONE, LISTED).stdout
        assert "admin:op" in rl(dsn, "history", ZONE, LISTED).stdout
        assert f"approved request {rid}" in body      # audit log lists it
        # approving twice does nothing more
        st, _, body = a.post("/admin/decide", {"id": rid, "decision": "approve",
                                               "csrf": a.csrf_from(body)})
        assert "already decided" in body
    finally:
        web.stop()
        srv.stop()


def test_viewer_cannot_decide(portal):
    web, _, _ = portal
    assert web.cli("--add-user", "v", "--role", "viewer",
                   stdin="viewer password 1\n").returncode == 0
    a = Client(web)
    _, _, body = a.get("/admin")
    a.post("/admin/login", {"user": "v", "password": "viewer password 1",
                            "csrf": a.csrf_from(body)})
    _, _, body = a.get("/admin")
    st, _, _ = a.post("/admin/action", {"zone": ZONE, "key": LISTED, "op": "remove",
                                        "csrf": a.csrf_from(body)})
    assert st == 403
    # a viewer searches
    _, _, body = a.get(f"/admin?zone={ZONE}&state=listed&within=192.0.2.0/24")
    assert f"<code>{LISTED}</code>" in body.split('id="search"')[1]
    _, _, body = a.get(f"/admin?zone={ZONE}&state=listed&within=10.0.0.0/8")
    assert LISTED not in body.split('id="search"')[1].split("</table>")[0]
    _, _, body = a.get(f"/admin?zone={ZONE}&within=%3Cb%3E")
    assert "<b>" not in body and "&lt;b&gt;" in body


def test_removal_rate_limit_per_client_is_429(tmp_path):
    dsn = f"sqlite:{tmp_path}/list.db"
    assert rl(dsn, "add", ZONE, "192.0.2.200").returncode == 0     # the zone exists
    srv, _ = dns_for(tmp_path, dsn)
    web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}", extra="rate_client = 2\n").start()
    try:
        c = Client(web)
        c.get("/")
        tok = c.cookie("csrf")
        codes = [c.post("/remove", {"zone": ZONE, "q": f"192.0.2.{i}", "csrf": tok})[0]
                 for i in range(1, 5)]
        assert codes == [200, 200, 429, 429]
    finally:
        web.stop()
        srv.stop()


def test_api_scopes_and_keys(portal):
    web, dsn, _ = portal
    look = web.cli("--add-key", "reader", "--scopes", "lookup").stdout.strip()
    full = web.cli("--add-key", "ops", "--scopes", "lookup,report,remove,search").stdout.strip()
    assert look.startswith("rk_")
    st, j = api(web, "GET", f"/api/v1/lookup?q={LISTED}")
    assert st == 401
    st, j = api(web, "GET", f"/api/v1/lookup?q={LISTED}", key=look[:-1] + ("1" if look.endswith("0") else "0"))
    assert st == 401
    st, j = api(web, "GET", f"/api/v1/lookup?q={LISTED}", key=look)
    assert st == 200 and j["zones"][0]["listing"]["state"] == "listed"
    assert j["zones"][0]["dns"] == "listed" and j["zones"][0]["codes"] == ["127.0.0.2"]
    st, j = api(web, "POST", "/api/v1/remove", key=look, body={"zone": ZONE, "key": LISTED})
    assert st == 403 and "remove" in j["error"]
    st, j = api(web, "POST", "/api/v1/remove", key=full,
                body={"zone": ZONE, "key": LISTED, "dry_run": True})
    assert st == 200 and j["dry_run"] is True and j["outcome"] == "removed"
    assert '"listed"' in rl(dsn, "--json", "show", ZONE, LISTED).stdout
    st, j = api(web, "POST", "/api/v1/report", key=full,
                body={"zone": ZONE, "key": "192.0.2.77", "trap": "t@trap.example",
                      "evidence": "Subject: more pills"})
    assert st == 200 and j["outcome"] == "listed"
    _, _, body = Client(web).get("/?q=192.0.2.77")          # the evidence is shown, masked
    assert "Subject: more pills" in body and "t***@trap.example" in body
    st, j = api(web, "GET", f"/api/v1/search?zone={ZONE}&state=listed", key=full)
    # the zone's RFC 5782 test points (rblkit list, test_points = yes) are listings too
    assert sorted(x["key"] for x in j["listings"] if x["source"] != "rfc5782") == \
        [LISTED, "192.0.2.77"]
    st, j = api(web, "POST", "/api/v1/remove", key=full,
                body={"zone": ZONE, "key": LISTED, "reason": "api"})
    assert st == 200 and j["outcome"] == "removed"
    st, j = api(web, "POST", "/api/v1/remove", key=full, body={"zone": "other.test",
                                                               "key": LISTED})
    assert st == 400


def test_console_and_api_refusals_in_one_order(portal):
    """The console and the API share one prologue (route, store, credential,
    method, CSRF, rights): each refusal has its status and words."""
    web, dsn, _ = portal
    look = web.cli("--add-key", "reader", "--scopes", "lookup").stdout.strip()
    assert api(web, "GET", "/api/v1/nothing", key=look) == (404, {"error": "no such API"})
    assert api(web, "GET", "/api/v2/lookup") == (404, {"error": "no such API"})
    st, j = api(web, "GET", "/api/v1/search?zone=bl.test")
    assert st == 401 and "Bearer" in j["error"]
    assert api(web, "GET", "/api/v1/search?zone=bl.test", key="rk_x_y") == \
        (401, {"error": "unknown API key"})
    assert api(web, "POST", "/api/v1/lookup", key=look, body={}) == (405, {"error": "use GET"})
    assert api(web, "GET", "/api/v1/add", key=look) == (405, {"error": "use POST"})
    assert api(web, "GET", "/api/v1/search?zone=bl.test", key=look) == \
        (403, {"error": "this key lacks the scope 'search'"})
    assert api(web, "POST", "/api/v1/add", key=look, body={}) == \
        (403, {"error": "this key lacks the scope 'report'"})
    r = web.cli("--add-user", "op", "--role", "operator", stdin="operator password 1\n")
    assert r.returncode == 0
    a = Client(web)
    st, _, body = a.get("/admin/decide")                     # no session: nothing there
    assert st == 404
    st, _, _ = a.post("/admin/decide", {"id": "1", "decision": "deny"})
    assert st == 403
    _, _, body = a.get("/admin")
    st, _, _ = a.post("/admin/login", {"user": "op", "password": "operator password 1",
                                       "csrf": a.csrf_from(body)})
    assert st == 303
    _, _, body = a.get("/admin")
    csrf = a.csrf_from(body)
    assert a.get("/admin/decide")[0] == 404                 # GET of a POST route
    assert a.get("/admin/login")[0] == 404
    assert a.post("/admin/keys", {"op": "create", "name": "k", "scopes": "lookup"})[0] == 403
    st, _, body = a.post("/admin/keys", {"op": "create", "name": "k", "scopes": "lookup",
                                         "csrf": csrf})
    assert st == 403 and "rk_" not in body                  # an operator manages no keys
    st, _, body = a.post("/admin/action", {"zone": ZONE, "key": "192.0.2.99", "op": "add",
                                           "reason": "guard", "csrf": csrf})
    assert st == 200 and "add bl.test 192.0.2.99: listed" in body


def test_check_config_names_file_and_line(tmp_path):
    conf = tmp_path / "web.conf"
    conf.write_text("zones = bl.test\nlisten = nowhere\nthreads = 0\n")
    r = subprocess.run([servers.RBLKIT, "web", "--config", str(conf), "--check-config"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert f"{conf}:2: listen" in r.stderr and f"{conf}:3: threads" in r.stderr


def test_two_instances_share_one_postgresql(tmp_path, pg_dsn):
    assert rl(pg_dsn, "add", ZONE, LISTED).returncode == 0
    port = servers.free_port()
    w1 = Web(tmp_path, pg_dsn, f"127.0.0.1:{port}", extra="rate_client = 3\n", name="w1").start()
    w2 = Web(tmp_path, pg_dsn, f"127.0.0.1:{port}", extra="rate_client = 3\n", name="w2").start()
    try:
        # a key made through one works on the other
        key = w1.cli("--add-key", "k", "--scopes", "search").stdout.strip()
        st, j = api(w2, "GET", f"/api/v1/search?zone={ZONE}", key=key)
        assert st == 200 and [x["key"] for x in j["listings"]
                              if x["source"] != "rfc5782"] == [LISTED]
        # the rate limit counts across both
        codes = []
        for i, w in enumerate([w1, w2, w1, w2]):
            c = Client(w)
            c.get("/")
            codes.append(c.post("/remove", {"zone": ZONE, "q": f"192.0.2.{i + 10}",
                                            "csrf": c.cookie("csrf")})[0])
        assert codes == [200, 200, 200, 429]
        # a session made on one is valid on the other
        assert w1.cli("--add-user", "adm", "--role", "admin",
                      stdin="admin password 1\n").returncode == 0
        a = Client(w1)
        _, _, body = a.get("/admin")
        st, _, _ = a.post("/admin/login", {"user": "adm", "password": "admin password 1",
                                           "csrf": a.csrf_from(body)})
        assert st == 303
        b = Client(w2)
        b.jar = a.jar
        b.opener = a.opener
        b.web = w2
        st, _, body = b.get("/admin")
        assert st == 200 and 'id="audit"' in body
    finally:
        w1.stop()
        w2.stop()


def test_mail_verification_link_removes(tmp_path):
    dsn = f"sqlite:{tmp_path}/list.db"
    key = "127.0.0.1"                      # its PTR name is localhost (/etc/hosts)
    assert rl(dsn, "add", ZONE, key).returncode == 0
    outbox = tmp_path / "outbox"
    sm = tmp_path / "sendmail"
    sm.write_text(f"#!/bin/sh\n[ \"$1 $2\" = '-t -i' ] || exit 64\ncat >> {outbox}\n")
    sm.chmod(0o755)
    srv, live = dns_for(tmp_path, dsn, [f"{key} :127.0.0.2:listed"])
    web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}",
              extra=f"verify = {ZONE}=mail\nsendmail = {sm}\nbase_url = http://portal.test\n"
                    "mail_from = lookup@bl.test\n").start()
    try:
        c = Client(web)
        _, _, body = c.get(f"/?q={key}")
        st, _, body = c.post("/remove", {"zone": ZONE, "q": key, "csrf": c.csrf_from(body)})
        assert st == 202, body
        assert "postmaster and abuse addresses of localhost" in body
        assert '"listed"' in rl(dsn, "--json", "show", ZONE, key).stdout
        hist = rl(dsn, "history", ZONE, key).stdout
        assert "web:127.0.0.1" in hist and "confirmation mailed to postmaster@localhost" in hist
        mail = outbox.read_text()
        assert "To: postmaster@localhost, abuse@localhost" in mail
        token = re.search(r"http://portal\.test/confirm\?t=([0-9a-f]{64})", mail).group(1)
        # following the link shows a button and changes nothing (scanners follow links)
        st, _, body = c.get(f"/confirm?t={token}")
        assert st == 200 and 'id="confirm"' in body
        assert '"listed"' in rl(dsn, "--json", "show", ZONE, key).stdout
        st, _, _ = c.post("/confirm", {"t": token})
        assert st == 403                   # no CSRF token
        st, _, body = c.post("/confirm", {"t": token, "csrf": c.csrf_from(body)})
        assert st == 200 and "Confirmed." in body
        if live:
            assert "now answers: not listed" in body
        assert '"removed"' in rl(dsn, "--json", "show", ZONE, key).stdout
        # the link works once
        st, _, _ = c.get(f"/confirm?t={token}")
        assert st == 404
        st, _, _ = c.get("/confirm?t=" + "0" * 64)
        assert st == 404
    finally:
        web.stop()
        srv.stop()


def test_sendmail_setting_takes_arguments(tmp_path):
    """sendmail = PROGRAM ARG ...: split on blanks, no shell (Postfix's
    sendmail -C CONFDIR picks an instance), then -t -i."""
    dsn = f"sqlite:{tmp_path}/list.db"
    assert rl(dsn, "add", ZONE, "127.0.0.1").returncode == 0
    argv_file, sm = tmp_path / "argv", tmp_path / "sendmail"
    sm.write_text(f'#!/bin/sh\nprintf "%s|" "$@" > {argv_file}\ncat > /dev/null\n')
    sm.chmod(0o755)
    srv, _ = dns_for(tmp_path, dsn, ["127.0.0.1 :127.0.0.2:listed"])
    web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}",
              extra=f"verify = {ZONE}=mail\nsendmail = {sm}  -C /etc/postfix-out;x\n"
                    "base_url = http://portal.test\n").start()
    try:
        c = Client(web)
        _, _, body = c.get("/?q=127.0.0.1")
        st, _, body = c.post("/remove", {"zone": ZONE, "q": "127.0.0.1",
                                         "csrf": c.csrf_from(body)})
        assert st == 202, body
        assert argv_file.read_text() == "-C|/etc/postfix-out;x|-t|-i|"
    finally:
        web.stop()
        srv.stop()


def test_removal_of_address_listed_by_network_goes_to_review(tmp_path):
    """The store has no listing of the address itself but DNS lists it (a
    network listing): the page must not say "not listed"."""
    dsn = f"sqlite:{tmp_path}/list.db"
    assert rl(dsn, "add", ZONE, "198.51.100.0/24").returncode == 0
    srv, _ = dns_for(tmp_path, dsn, ["198.51.100.0/24 :127.0.0.2:listed"])
    web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}").start()
    try:
        c = Client(web)
        _, _, body = c.get("/?q=198.51.100.7")
        assert '<span class="listed">LISTED</span>' in section(body)
        st, _, body = c.post("/remove", {"zone": ZONE, "q": "198.51.100.7",
                                         "csrf": c.csrf_from(body)})
        assert st == 202 and "listed through a network" in body
        assert "nothing to remove" not in body
        import sqlite3
        db = sqlite3.connect(str(tmp_path / "list.db"))
        ev = db.execute("SELECT actor, detail FROM events WHERE key = '198.51.100.7'").fetchall()
        assert ev and ev[0][0] == "web:127.0.0.1" and "listed through a network" in ev[0][1]
    finally:
        web.stop()
        srv.stop()


def test_connections_are_kept_alive(portal):
    """Two requests on one connection (libmicrohttpd closed every connection
    when the handler answered on its first call)."""
    import http.client
    web, _, _ = portal
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    try:
        for path in ("/style.css", "/?q=192.0.2.99"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200
            assert (resp.getheader("Connection") or "").lower() != "close"
        sock = conn.sock
        conn.request("GET", "/style.css")
        conn.getresponse().read()
        assert conn.sock is sock                # the same connection served all three
    finally:
        conn.close()


def test_ipv6_and_domain_lookups(tmp_path):
    dsn = f"sqlite:{tmp_path}/list.db"
    assert rl(dsn, "add", ZONE, "2001:db8:1:2::/64", "--reason", "v6 spam").returncode == 0
    assert rl(dsn, "add", ZONE, "spam.example", "--reason", "spammy name").returncode == 0
    srv, live = dns_for(tmp_path, dsn)
    if not live:
        srv.stop()
        pytest.skip("this rblkit serve has no store zones: IPv6 and names need a store zone")
    web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}").start()
    try:
        key = web.cli("--add-key", "k", "--scopes", "lookup").stdout.strip()
        # an address inside the listed /64: DNS answers for it, the store by its /64
        st, j = api(web, "GET", "/api/v1/lookup?q=2001:db8:1:2::abcd", key=key)
        z = j["zones"][0]
        assert st == 200 and z["dns"] == "listed" and z["listing"]["key"] == "2001:db8:1:2::/64"
        st, j = api(web, "GET", "/api/v1/lookup?q=2001:db8:1:3::1", key=key)
        assert j["zones"][0]["dns"] == "not_listed" and j["zones"][0]["listing"] is None
        st, _, body = Client(web).get("/?q=SPAM.example.")
        s = section(body)
        assert '<span class="listed">LISTED</span>' in s and "spammy name" in s
        st, _, body = Client(web).get("/?q=ham.example")
        assert '<span class="ok">' in section(body)
    finally:
        web.stop()
        srv.stop()


def test_removal_rate_limit_per_network_is_429(tmp_path):
    dsn = f"sqlite:{tmp_path}/list.db"
    assert rl(dsn, "add", ZONE, "192.0.2.200").returncode == 0
    srv, _ = dns_for(tmp_path, dsn, ["192.0.2.200"])
    web = Web(tmp_path, dsn, f"127.0.0.1:{srv.port}",
              extra="rate_client = 100\nrate_net = 2\n").start()
    try:
        c = Client(web)
        c.get("/")
        codes = [c.post("/remove", {"zone": ZONE, "q": f"192.0.2.{i}",
                                    "csrf": c.cookie("csrf")})[0] for i in range(1, 4)]
        assert codes == [200, 200, 429]
    finally:
        web.stop()
        srv.stop()


def test_idle_connection_is_closed(tmp_path):
    """A client that sends nothing (or a request that never ends) is cut
    off after `timeout`: it cannot hold a connection for ever."""
    import socket
    dsn = f"sqlite:{tmp_path}/list.db"
    web = Web(tmp_path, dsn, f"127.0.0.1:{servers.free_port()}", extra="timeout = 1s\n").start()
    try:
        s = socket.create_connection(("127.0.0.1", web.port), timeout=15)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")      # the headers never end
        assert s.recv(4096) == b""                        # closed by the server
        s.close()
    finally:
        web.stop()
