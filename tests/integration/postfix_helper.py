"""Run a private Postfix instance (Debian's package) for the policy tests.

Postfix runs from a fresh directory under /tmp with its own main.cf and
master.cf, listening on a random loopback port, with chroot off (an
absolute -c path, a data_directory owned by postfix) and
smtpd_authorized_xclient_hosts = 127.0.0.1 so that swaks' --xclient can set
the client address and the SASL login.  Mail it accepts goes to the
discard transport.

Postfix announces SASL only with a working authentication backend, and
without SASL enabled it sends no sasl_username to policy services.  A
small Dovecot auth-protocol server (FakeDovecotAuth) stands in for
Dovecot: it does the handshake, and AUTH PLAIN with the passwords it is
given, so both XCLIENT LOGIN=... and a real "swaks --auth PLAIN" work.

Usage:
    with Postfix(policy="inet:127.0.0.1:10040") as pf:
        r = swaks(pf.port, xclient="ADDR=192.0.2.1", to="u@test.invalid")
        assert r.code("RCPT") == 554
"""

import base64
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import servers

POSTFIX = os.environ.get("POSTFIX") or "/usr/sbin/postfix"
SWAKS = os.environ.get("SWAKS") or "/usr/bin/swaks"
QUEUE_DIRS = ("active", "bounce", "corrupt", "defer", "deferred", "flush", "hold",
              "incoming", "private", "saved", "trace")

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.invalid
mydomain = test.invalid
mydestination = test.invalid
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_authorized_xclient_hosts = 127.0.0.1
maillog_file_prefixes = /tmp
maillog_file = {dir}/maillog
local_transport = discard
default_transport = discard
relay_transport = discard
alias_maps =
local_recipient_maps =
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions =
    check_policy_service {{ {policy}, timeout=10s, default_action=DUNNO }}
smtpd_end_of_data_restrictions =
    check_policy_service {{ {policy}, timeout=10s, default_action=DUNNO }}
smtpd_policy_service_max_idle = 300s
"""


class PostfixError(RuntimeError):
    pass


class FakeDovecotAuth(threading.Thread):
    """The server side of Dovecot's auth protocol (version 1.2), enough
    for Postfix's xsasl_dovecot client: handshake, AUTH PLAIN."""

    def __init__(self, path, users):
        super().__init__(daemon=True)
        self.path = path
        self.users = dict(users)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(path):
            os.unlink(path)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.listen(16)
        self.stopped = False

    def run(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _check(self, b64):
        try:
            parts = base64.b64decode(b64).split(b"\0")
        except ValueError:
            return None
        if len(parts) != 3:
            return None
        user, password = parts[1].decode(), parts[2].decode()
        return user if self.users.get(user) == password else None

    def _serve(self, conn):
        f = conn.makefile("rwb", buffering=0)
        try:
            f.write(b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t1\nCUID\t1\n"
                    b"COOKIE\t" + b"0" * 32 + b"\nDONE\n")
            for raw in f:
                fields = raw.rstrip(b"\n").decode("utf-8", "replace").split("\t")
                if fields[0] == "AUTH":
                    rid = fields[1]
                    resp = [x[5:] for x in fields[3:] if x.startswith("resp=")]
                    if not resp:
                        f.write(f"CONT\t{rid}\t\n".encode())
                        continue
                    self._answer(f, rid, resp[0])
                elif fields[0] == "CONT":
                    self._answer(f, fields[1], fields[2] if len(fields) > 2 else "")
        except OSError:
            pass
        finally:
            conn.close()

    def _answer(self, f, rid, b64):
        user = self._check(b64)
        if user:
            f.write(f"OK\t{rid}\tuser={user}\n".encode())
        else:
            f.write(f"FAIL\t{rid}\n".encode())

    def stop(self):
        self.stopped = True
        self.sock.close()


class Postfix:
    """A private Postfix instance on 127.0.0.1:port (see module doc).

    policy: the check_policy_service target ("inet:127.0.0.1:PORT").
    users:  {login: password} for AUTH PLAIN.
    extra:  text appended to main.cf."""

    def __init__(self, policy, users=None, extra=""):
        self.policy = policy
        self.users = users or {}
        self.extra = extra
        self.dir = None
        self.port = None
        self.auth = None

    def start(self, timeout=20.0):
        if os.geteuid() != 0:
            raise PostfixError("the Postfix tests run as root (Postfix drops to 'postfix')")
        if not os.access(POSTFIX, os.X_OK):
            raise PostfixError(f"postfix not found at {POSTFIX} (apt-get install postfix)")
        self.dir = tempfile.mkdtemp(prefix="rblkit-pf-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        conf, queue, data = (os.path.join(self.dir, d) for d in ("conf", "queue", "data"))
        for d in (conf, queue, data, os.path.join(queue, "pid")):
            os.makedirs(d)
        shutil.chown(data, "postfix")
        for d in QUEUE_DIRS:
            p = os.path.join(queue, d)
            os.makedirs(p)
            shutil.chown(p, "postfix")
            os.chmod(p, 0o700)
        for d, mode in (("maildrop", 0o730), ("public", 0o710)):
            p = os.path.join(queue, d)
            os.makedirs(p)
            shutil.chown(p, "postfix", "postdrop")
            os.chmod(p, mode)
        # private/ must let the fake auth socket be reached by smtpd
        os.chmod(os.path.join(queue, "private"), 0o711)
        self.port = servers.free_port()
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(dir=self.dir, policy=self.policy) + self.extra)
        with open(os.path.join(conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))
        self.auth = FakeDovecotAuth(os.path.join(queue, "private", "auth"), self.users)
        self.auth.start()
        r = subprocess.run([POSTFIX, "-c", conf, "start"], capture_output=True, text=True)
        if r.returncode != 0:
            raise PostfixError(f"postfix start failed ({r.returncode}): {r.stderr}\n"
                               f"{self.maillog()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(5)
                    if s.recv(512).startswith(b"220"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise PostfixError(f"Postfix did not answer on port {self.port}\n{self.maillog()}")

    def maillog(self):
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as f:
                return f.read()
        except OSError:
            return "(no maillog)"

    def stop(self):
        if not self.dir:
            return
        conf = os.path.join(self.dir, "conf")
        subprocess.run([POSTFIX, "-c", conf, "abort"], capture_output=True)
        # master is gone when its pid file's process is
        pidfile = os.path.join(self.dir, "queue", "pid", "master.pid")
        try:
            pid = int(open(pidfile).read().split()[0])
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)
        except (OSError, ValueError, IndexError):
            pass
        if self.auth:
            self.auth.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


class SwaksResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout + proc.stderr

    def replies(self):
        """The server's reply lines ("<-  250 ..." and "<** 554 ...")."""
        return [m.group(1) for m in re.finditer(r"^<[-*~]+\s+(.*)$", self.out, re.M)]

    def reply_to(self, command):
        """The first reply line after the client's command (e.g. "RCPT TO")."""
        lines = self.out.splitlines()
        for i, line in enumerate(lines):
            if re.match(r"^\s*[-~*]+>\s+" + re.escape(command), line):
                for nxt in lines[i + 1:]:
                    m = re.match(r"^<[-*~]+\s+(.*)$", nxt)
                    if m:
                        return m.group(1)
        return None

    def code(self, command):
        r = self.reply_to(command)
        return int(r[:3]) if r and r[:3].isdigit() else None

    def __str__(self):
        return self.out


def swaks(port, to="user@test.invalid", sender="sender@example.org", xclient=None,
          auth=None, extra=(), timeout=30):
    """Run swaks against 127.0.0.1:port; returns a SwaksResult.
    xclient: "ADDR=192.0.2.1 LOGIN=alice"; auth: (user, password)."""
    argv = [SWAKS, "--server", f"127.0.0.1:{port}", "--to", to, "--from", sender,
            "--helo", "client.example", "--timeout", "20"]
    if xclient:
        argv += ["--xclient", xclient]
    if auth:
        argv += ["--auth", "PLAIN", "--auth-user", auth[0], "--auth-password", auth[1]]
    argv += list(extra)
    return SwaksResult(subprocess.run(argv, capture_output=True, text=True, timeout=timeout))


# -- the policy daemon ------------------------------------------------------

class PolicyDaemon:
    """`rblkit policy --config FILE` on a free loopback port.

    conf: configuration text without listen/state_dir (added here).
    Keeps its state directory across restart() so that counters can be
    checked after a restart or a crash (kill())."""

    def __init__(self, conf, state_dir=None):
        self.conf = conf
        self.dir = tempfile.mkdtemp(prefix="rblkit-pol-", dir="/tmp")
        self.state_dir = state_dir or os.path.join(self.dir, "state")
        os.makedirs(self.state_dir, exist_ok=True)
        self.port = servers.free_port()
        self.path = os.path.join(self.dir, "policy.conf")
        self.proc = None
        self.log_path = os.path.join(self.dir, "policy.log")
        self.write_config(conf)

    def write_config(self, conf):
        with open(self.path, "w") as f:
            f.write(f"listen = 127.0.0.1:{self.port}\nstate_dir = {self.state_dir}\n{conf}")

    @property
    def target(self):
        return f"inet:127.0.0.1:{self.port}"

    def start(self, timeout=10.0):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([servers.RBLKIT, "policy", "--config", self.path],
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PostfixError(f"rblkit policy exited ({self.proc.returncode}):\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise PostfixError(f"rblkit policy did not listen on {self.port}:\n{self.log()}")

    def stop(self, sig=15, timeout=10.0):
        """Stop with a signal (SIGTERM: state saved; SIGKILL: a crash).
        A daemon stopped with SIGTERM must exit 0 (under ASan a leak or an
        error at shutdown makes it exit non-zero): PostfixError otherwise."""
        running = self.proc is not None and self.proc.poll() is None
        if running:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise PostfixError(f"rblkit policy did not stop on signal {sig}:\n{self.log()}")
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None
        if running and sig == 15 and rc != 0:
            raise PostfixError(f"rblkit policy exited with {rc} on SIGTERM:\n{self.log()}")
        return rc

    def restart(self, sig=15):
        self.stop(sig)
        return self.start()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_log(self, text, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return True
            time.sleep(0.05)
        return False

    def command(self, *args):
        """Run `rblkit policy ARGS --config FILE`; returns CompletedProcess."""
        return subprocess.run([servers.RBLKIT, "policy", *args, "--config", self.path],
                              capture_output=True, text=True, timeout=20)

    def connect(self):
        return PolicyClient(self.port)

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
        return False


class PolicyClient:
    """One policy-protocol connection, as an smtpd process keeps it."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_reply(self):
        """The action text, or None when the daemon closed the connection."""
        while b"\n\n" not in self.buf:
            try:
                d = self.sock.recv(4096)
            except (ConnectionResetError, socket.timeout):
                return None
            if not d:
                return None
            self.buf += d
        reply, self.buf = self.buf.split(b"\n\n", 1)
        reply = reply.decode()
        assert reply.startswith("action="), reply
        assert "\n" not in reply, reply
        return reply[len("action="):]

    def ask(self, **attrs):
        """Send one request (request=smtpd_access_policy and
        protocol_state=RCPT unless given) and return the action text."""
        attrs.setdefault("request", "smtpd_access_policy")
        attrs.setdefault("protocol_state", "RCPT")
        self.send_raw("".join(f"{k}={v}\n" for k, v in attrs.items()).encode() + b"\n")
        return self.read_reply()

    def closed_by_peer(self, timeout=3.0):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()
