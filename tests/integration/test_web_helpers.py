"""Helpers of the `rblkit web` tests: a portal on a random loopback port
over a store, with `rblkit serve` publishing the zones (a store zone when
serve has them, else an rbldnsd-format file written from the store)."""

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import http.cookiejar

import servers

T_START = 10.0


def serve_has_store():
    out = subprocess.run([servers.RBLKIT, "help", "serve"], capture_output=True, text=True)
    return ":store:" in out.stdout or "store:DSN" in out.stdout


def rl(dsn, *args, conf=None):
    argv = [servers.RBLKIT, "list"]
    argv += ["--config", conf] if conf else ["--store", dsn]
    return subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


class Web:
    """`rblkit web --config FILE` on a free port; stop() ends it."""

    def __init__(self, tmp, dsn, dns, zones=("bl.test",), extra="", rules=None, name="web"):
        self.dir = str(tmp)
        self.port = servers.free_port()
        self.conf = os.path.join(self.dir, f"{name}.conf")
        lines = [f"listen = 127.0.0.1:{self.port}", f"store = {dsn}", f"dns = {dns}",
                 "zones = " + " ".join(zones), "dns_timeout_ms = 800",
                 "remove_wait_ms = 3000", "meaning = 127.0.0.2 spam source"]
        if rules:
            lines.append(f"rules = {rules}")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n" + extra)
        self.proc = None
        self.err = open(os.path.join(self.dir, f"{name}.err"), "w+")

    def start(self):
        self.proc = subprocess.Popen([servers.RBLKIT, "web", "--config", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.err,
                                     stderr=self.err)
        deadline = time.monotonic() + T_START
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("rblkit web exited: " + self.stderr())
            try:
                urllib.request.urlopen(self.url("/style.css"), timeout=1).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError("rblkit web did not answer: " + self.stderr())
                time.sleep(0.05)

    def stderr(self):
        return servers.read_log(self.err)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def cli(self, *args, stdin=None):
        return subprocess.run([servers.RBLKIT, "web", "--config", self.conf, *args],
                              capture_output=True, text=True, input=stdin, timeout=60)


class Client:
    """A browser-like HTTP client: cookies kept, no redirects followed."""

    def __init__(self, web):
        self.web = web
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  NoRedirect)

    def req(self, method, path, data=None, headers=None, raw=None):
        h = dict(headers or {})
        body = raw
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        r = urllib.request.Request(self.web.url(path), data=body, method=method, headers=h)
        try:
            with self.opener.open(r, timeout=20) as resp:
                return resp.status, dict(resp.headers), resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, data=None, **kw):
        return self.req("POST", path, data=data, **kw)

    def cookie(self, name):
        for c in self.jar:
            if c.name == name:
                return c.value
        return None

    def csrf_from(self, html):
        m = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
        return m.group(1) if m else None


def api(web, method, path, key=None, body=None):
    h = {}
    if key:
        h["Authorization"] = "Bearer " + key
    data = None
    if body is not None:
        h["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    r = urllib.request.Request(web.url(path), data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(r, timeout=20) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
