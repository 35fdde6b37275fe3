"""A private redis-server for the tests (Debian's, on a free loopback port,
no persistence, its own directory), and a fake one that answers garbage.

RedisServer(password=None): start(), stop(), kill() (SIGKILL), pause()
(SIGSTOP: a slow server whose socket still accepts), resume(), cli(*args)
(redis-cli against it), url (the outbound_store value)."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import servers

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def make_tls_files(d, name_ip="127.0.0.1"):
    """A CA and a server certificate for name_ip (subjectAltName IP) in d,
    made with the openssl command. Returns (ca, cert, key) paths."""
    ca, cakey = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    cert, key = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
    csr, ext = os.path.join(d, "server.csr"), os.path.join(d, "ext.cnf")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cakey, "-out", ca,
        "-days", "2", "-subj", "/CN=rblkit test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=redis test")
    with open(ext, "w") as f:
        f.write(f"subjectAltName = IP:{name_ip}\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext)
    return ca, cert, key


class RedisServer:
    """tls: serve TLS only (certificates made in its directory; self.ca
    is the CA file a client needs)."""

    def __init__(self, password=None, port=None, tls=False):
        self.password = password
        self.port = port or servers.free_port()
        self.dir = tempfile.mkdtemp(prefix="rblkit-redis-", dir="/tmp")
        self.proc = None
        self.tls = tls
        if tls:
            self.ca, self.cert, self.key = make_tls_files(self.dir)

    @property
    def url(self):
        auth = f":{self.password}@" if self.password else ""
        return f"{'rediss' if self.tls else 'redis'}://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout=10.0):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")]
        if self.password:
            args += ["--requirepass", self.password]
        if self.tls:
            args[1:3] = ["--port", "0", "--tls-port", str(self.port),
                         "--tls-cert-file", self.cert, "--tls-key-file", self.key,
                         "--tls-ca-cert-file", self.ca, "--tls-auth-clients", "no"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.cli("PING").strip() == "PONG":
                    return self
            except subprocess.SubprocessError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    def cli(self, *args):
        cmd = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port)]
        if self.tls:
            cmd += ["--tls", "--cacert", self.ca]
        if self.password:
            cmd += ["--no-auth-warning", "-a", self.password]
        return subprocess.run(cmd + list(args), capture_output=True, text=True,
                              timeout=5, check=True).stdout

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


class GarbageRedis:
    """A TCP server on a free loopback port that answers every read with
    reply(n) (n: how many reads so far on that connection)."""

    def __init__(self, reply):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.conns = 0
        self.stopped = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        n = 0
        with c:
            while True:
                try:
                    d = c.recv(65536)
                except OSError:
                    return
                if not d:
                    return
                n += 1
                try:
                    c.sendall(self.reply(n))
                except OSError:
                    return

    def close(self):
        self.stopped = True
        self.sock.close()
