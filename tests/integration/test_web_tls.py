"""rblkit web serving HTTPS itself (tls_cert, tls_key): a self-signed
certificate made by `openssl req` here, Python's ssl client verifying it
against that certificate (cafile), cookies Secure and HSTS over TLS, a
plain-HTTP request to the TLS port refused cleanly (the portal goes on
serving), and clear start-up errors naming the file for a missing
certificate, a file that is not PEM and a key that does not match."""

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers  # noqa: E402
from test_web_helpers import Web, rl  # noqa: E402

ZONE = "bl.test"
OPENSSL = shutil.which("openssl")

pytestmark = pytest.mark.skipif(not OPENSSL, reason="openssl not installed")


@pytest.fixture(autouse=True)
def _binary(rblkit_bin):
    return rblkit_bin


def make_cert(d, name="cert"):
    """A self-signed certificate for 127.0.0.1 / localhost: (cert, key)."""
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    r = subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return cert, key


class TlsWeb(Web):
    def __init__(self, *a, cafile=None, **k):
        super().__init__(*a, **k)
        self.ctx = ssl.create_default_context(cafile=cafile)

    def url(self, path):
        return f"https://127.0.0.1:{self.port}{path}"

    def start(self):
        self.proc = subprocess.Popen([servers.RBLKIT, "web", "--config", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.err, stderr=self.err)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("rblkit web exited: " + self.stderr())
            try:
                urllib.request.urlopen(self.url("/style.css"), timeout=1, context=self.ctx).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError("rblkit web did not answer: " + self.stderr())
                time.sleep(0.05)

    def get(self, path):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.getheaders(), r.read().decode()
        finally:
            c.close()


def test_https_verified_secure_cookies_hsts_and_plain_http_refused(tmp_path):
    cert, key = make_cert(str(tmp_path))
    dsn = f"sqlite:{tmp_path}/list.db"
    assert rl(dsn, "add", ZONE, "192.0.2.5").returncode == 0
    web = TlsWeb(tmp_path, dsn, "127.0.0.1:9", cafile=cert,
                 extra=f"tls_cert = {cert}\ntls_key = {key}\n").start()
    try:
        st, hdrs, body = web.get("/?q=192.0.2.5")
        assert st == 200 and "192.0.2.5" in body
        h = {}
        for k, v in hdrs:
            h.setdefault(k.lower(), []).append(v)
        assert h["strict-transport-security"] == ["max-age=31536000"]
        cookies = h.get("set-cookie", [])
        assert cookies and all("; Secure" in c for c in cookies), cookies
        # a client that does not trust the certificate refuses it
        with pytest.raises(urllib.error.URLError) as e:
            urllib.request.urlopen(web.url("/"), timeout=5,
                                   context=ssl.create_default_context()).read()
        assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)
        # plain HTTP to the TLS port: no HTTP answer, the connection ends
        with socket.create_connection(("127.0.0.1", web.port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            try:
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    got += d
            except ConnectionResetError:
                pass
        assert b"HTTP/1." not in got
        # and the portal goes on serving HTTPS
        assert web.get("/style.css")[0] == 200
        assert web.proc.poll() is None
    finally:
        web.stop()


def start_error(tmp_path, extra):
    dsn = f"sqlite:{tmp_path}/list.db"
    web = Web(tmp_path, dsn, "127.0.0.1:9", extra=extra)
    r = subprocess.run([servers.RBLKIT, "web", "--config", web.conf], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r
    return r.stderr.strip().splitlines()[-1]


def test_bad_certificate_or_key_is_a_clear_start_error(tmp_path):
    cert, key = make_cert(str(tmp_path))
    _, other_key = make_cert(str(tmp_path), "other")
    missing = str(tmp_path / "nope.pem")
    line = start_error(tmp_path, f"tls_cert = {missing}\ntls_key = {key}\n")
    assert f"tls_cert {missing}: No such file or directory" in line
    notpem = tmp_path / "junk.pem"
    notpem.write_text("not a certificate\n")
    line = start_error(tmp_path, f"tls_cert = {cert}\ntls_key = {notpem}\n")
    assert f"tls_key {notpem}: no PEM block" in line
    line = start_error(tmp_path, f"tls_cert = {cert}\ntls_key = {other_key}\n")
    assert f"tls_cert {cert}, tls_key {other_key}" in line and "matching private key" in line
    # one without the other is a configuration error
    r = subprocess.run([servers.RBLKIT, "web", "--check-config", "--config",
                        Web(tmp_path, "sqlite:x", "127.0.0.1:9",
                            extra=f"tls_cert = {cert}\n", name="half").conf],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "tls_cert and tls_key: both or neither" in r.stderr


def test_check_config_reads_the_certificate_and_key(tmp_path):
    """--check-config says what the start would say of the files (it said
    "ok" of a tls_key that did not exist, and the start then failed)."""
    cert, key = make_cert(str(tmp_path))
    missing = str(tmp_path / "nokey.pem")

    def check(extra, name):
        conf = Web(tmp_path, "sqlite:x", "127.0.0.1:9", extra=extra, name=name).conf
        return subprocess.run([servers.RBLKIT, "web", "--check-config", "--config", conf],
                              capture_output=True, text=True, timeout=30)
    r = check(f"tls_cert = {cert}\ntls_key = {missing}\n", "missing")
    assert r.returncode == 1 and f"tls_key {missing}: No such file or directory" in r.stderr, r
    r = check(f"tls_cert = {cert}\ntls_key = {key}\n", "good")
    assert r.returncode == 0, r
