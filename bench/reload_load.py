#!/usr/bin/python3
"""Probe helpers for bench/serve.sh: time a DNSBL server's load, and reload a
zone under a fixed dnsperf load.

Subcommands (all print `key=value` lines on stdout for serve.sh to read):

  wait   --port P --zone Z --entry E [--timeout S]
      Prints "ready" once set up, then reads one line "T0 PID" from stdin
      (T0: epoch seconds just before the caller started server PID) and
      queries the A record of entry E (an address or CIDR from the data file,
      e.g. 10.1.2.0/24 or 2001:db8::/48) under zone Z every ~5 ms until the
      server answers NOERROR with an answer.  Prints load_s= (seconds from T0
      to that answer), or error= and exits 1 if PID dies or S seconds pass.
      The caller starts (and later reaps) the server itself, so the probe is
      warm before the clock starts.

  probe  --port P --zone Z --entry E
      Prints listed=1 or listed=0 (or exits 1 if no answer within 2 s).

  reload --pid PID --port P --zone Z --data FILE --new NEWFILE --sentinel E
         --at T --out OUT [--timeout S] -- DNSPERF-CMD...
      Runs DNSPERF-CMD (output to OUT).  T seconds after it started: renames
      NEWFILE over FILE, bumps FILE's mtime and sends SIGHUP to PID; then
      polls sentinel E (listed only in NEWFILE) until the server answers it
      as listed.  Prints reload_visible_s= (SIGHUP -> new data answered, or
      "timeout"), hwm_kb= (VmHWM of PID after the run), dnsperf_rc=.

The probes run with CPU affinity {1} (the client core) when the machine has
one, so they do not compete with a server pinned to CPU 0.

SECURITY: benchmark tool; talks only to 127.0.0.1, runs as the caller.
"""

import argparse
import ipaddress
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time


def qname_for(entry, zone):
    """DNSBL query name for the first address of ENTRY (address or CIDR)."""
    net = ipaddress.ip_network(entry.strip(), strict=False)
    ptr = net.network_address.reverse_pointer
    ptr = ptr.rsplit(".in-addr.arpa", 1)[0].rsplit(".ip6.arpa", 1)[0]
    return ptr + "." + zone.strip(".")


def build_query(qid, name, qtype=1):
    wire = b"".join(bytes([len(lab)]) + lab.encode() for lab in name.split(".") if lab)
    return struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + wire + b"\0" + struct.pack(">HH", qtype, 1)


class Prober:
    """One UDP socket asking one name; answer() -> (rcode, ancount) or None."""

    def __init__(self, port, name):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", port))
        self.name = name

    def answer(self, wait):
        qid = random.randrange(65536)
        try:
            self.sock.send(build_query(qid, self.name))
        except ConnectionRefusedError:  # ICMP from an earlier probe: port not bound yet
            time.sleep(wait)
            return None
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                pkt = self.sock.recv(4096)
            except (socket.timeout, ConnectionRefusedError):
                if time.monotonic() < deadline:
                    time.sleep(max(0.0, min(0.002, deadline - time.monotonic())))
                    continue
                return None
            if len(pkt) >= 12:
                rid, flags, _qd, an = struct.unpack(">HHHH", pkt[:8])
                if rid == qid and flags & 0x8000:
                    return flags & 0xF, an

    def listed(self, wait):
        r = self.answer(wait)
        if r is None:
            return None
        return r[0] == 0 and r[1] > 0


def pin_to_client_core():
    try:
        if os.cpu_count() and os.cpu_count() > 1:
            os.sched_setaffinity(0, {1})
    except OSError:
        pass


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def cmd_wait(a):
    name = qname_for(a.entry, a.zone)
    prober = Prober(a.port, name)
    print("ready", flush=True)
    line = sys.stdin.readline().split()
    if len(line) != 2:
        print("error=no 'T0 PID' line on stdin", flush=True)
        return 1
    t0, pid = float(line[0]), int(line[1])
    while True:
        if not pid_alive(pid):
            print("error=server exited before answering", flush=True)
            return 1
        if time.time() - t0 > a.timeout:
            print(f"error=no answer for {name} within {a.timeout} s", flush=True)
            return 1
        if prober.listed(0.005):
            break
    print(f"load_s={time.time() - t0:.3f}", flush=True)
    return 0


def cmd_probe(a):
    r = Prober(a.port, qname_for(a.entry, a.zone)).listed(2.0)
    if r is None:
        return 1
    print(f"listed={int(r)}")
    return 0


def cmd_reload(a):
    prober = Prober(a.port, qname_for(a.sentinel, a.zone))
    if prober.listed(2.0) is not False:
        print("error=sentinel already listed (or server silent) before the reload")
        return 1
    out = open(a.out, "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen(a.cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    visible = "timeout"
    try:
        while time.monotonic() - t0 < a.at:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if proc.poll() is None:
            os.rename(a.new, a.data)
            os.utime(a.data)
            t_hup = time.monotonic()
            os.kill(a.pid, signal.SIGHUP)
            while time.monotonic() - t_hup < a.timeout and proc.poll() is None:
                if prober.listed(0.005):
                    visible = f"{time.monotonic() - t_hup:.3f}"
                    break
                time.sleep(0.005)
        else:
            visible = "dnsperf-ended-early"
        rc = proc.wait(timeout=a.timeout + 120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"reload_visible_s={visible}")
    print(f"hwm_kb={vm_hwm_kb(a.pid)}")
    print(f"dnsperf_rc={rc}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="what", required=True)

    s = sub.add_parser("wait")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--zone", required=True)
    s.add_argument("--entry", required=True)
    s.add_argument("--timeout", type=float, default=300)

    s = sub.add_parser("probe")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--zone", required=True)
    s.add_argument("--entry", required=True)

    s = sub.add_parser("reload")
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--zone", required=True)
    s.add_argument("--data", required=True)
    s.add_argument("--new", required=True)
    s.add_argument("--sentinel", required=True)
    s.add_argument("--at", type=float, default=10)
    s.add_argument("--out", required=True)
    s.add_argument("--timeout", type=float, default=120)
    s.add_argument("cmd", nargs="+")

    a = p.parse_args()
    # on TERM (serve.sh's trap) unwind normally, so that dnsperf is reaped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    pin_to_client_core()
    return {"wait": cmd_wait, "probe": cmd_probe, "reload": cmd_reload}[a.what](a)


if __name__ == "__main__":
    sys.exit(main())
