#!/usr/bin/python3
"""bench/xdp_perf.py - split a `bench/xdp.sh --perf DIR` recording per query.

    bench/xdp_perf.py DIR/NAME.perf QUERIES

Prints the microseconds per query (perf's cpu-clock samples; QUERIES: the
answered queries of the recorded run, qps x duration) by CPU, by whose
context (the server's pid from DIR/NAME.pid, dnsperf, idle/ksoftirqd) and
by kind: user space, system calls, softirq (the packet work; on a veth it
runs on the CPU that sent the packet), other kernel work (page faults,
scheduling).  Other processes on the machine are left out, which the
/proc/stat figures of xdp.sh cannot do.  Then the softirq's top functions.
"""
import collections
import re
import subprocess
import sys


def main():
    f, nq = sys.argv[1], float(sys.argv[2])
    pid = open(f[:-5] + ".pid").read().strip() if f.endswith(".perf") else ""
    out = subprocess.run(["perf", "script", "-i", f, "-F", "comm,pid,cpu,period,ip,sym"],
                         capture_output=True, text=True, check=True).stdout
    acc, top = collections.Counter(), collections.Counter()
    for block in out.split("\n\n"):
        lines = [l for l in block.strip().split("\n") if l.strip()]
        m = lines and re.match(r"(.*?)\s+(\d+)\s+\[(\d+)\]\s+(\d+)", lines[0])
        if not m:
            continue
        comm, ppid, cpu, per = m.group(1).strip(), m.group(2), m.group(3), int(m.group(4))
        parts = [l.split(None, 1) for l in lines[1:]]
        syms = [p[1] if len(p) > 1 else "" for p in parts]
        leafaddr = parts[0][0] if parts else "ffff"
        chain = " ".join(syms)
        if ppid == pid:
            who = "server"
        elif comm == "dnsperf":
            who = "dnsperf"
        elif comm == "swapper" or comm.startswith("ksoftirqd"):
            who = "idle/ksoftirqd"
        else:
            continue
        soft = "net_rx_action" in chain or "handle_softirqs" in chain or "do_softirq" in chain
        if not soft and ("do_idle" in chain or "smpboot_thread_fn" in chain):
            continue
        if soft:
            kind = "softirq"
        elif "do_syscall_64" in chain or "entry_SYSCALL" in chain:
            kind = "syscall"
        elif not leafaddr.startswith("ffff"):
            kind = "user"
        else:
            kind = "kernel-other"
        acc[(cpu, who, kind)] += per
        if soft:
            top[(cpu, syms[0].split("+")[0] if syms else "?")] += per
    for k, v in sorted(acc.items()):
        print("cpu%s %-15s %-13s %6.2f us/query" % (k[0], k[1], k[2], v / 1e3 / nq))
    print("total %.2f us/query" % (sum(acc.values()) / 1e3 / nq))
    for k, v in top.most_common(12):
        print("  softirq cpu%s %-36s %.3f" % (k[0], k[1], v / 1e3 / nq))


if __name__ == "__main__":
    main()
