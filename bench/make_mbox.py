#!/usr/bin/python3
# make_mbox.py OUT REPEAT FILE...: the FILEs (one mail each) REPEAT times
# over as one mbox at OUT: LF line ends, an envelope line before each,
# body lines that start with "From " quoted as ">From " (mboxrd), an
# envelope line a file already has replaced.  Used by bench/diagnose.sh
# and bench/diagnose_same.sh.
import re
import sys

out, repeat, files = open(sys.argv[1], "wb"), int(sys.argv[2]), sys.argv[3:]
bodies = []
for f in files:
    b = open(f, "rb").read().replace(b"\r\n", b"\n")
    if b.startswith(b"From "):
        b = b.split(b"\n", 1)[1]
    bodies.append(re.sub(rb"(?m)^(>*From )", rb">\1", b).rstrip(b"\n") + b"\n\n")
for _ in range(repeat):
    for b in bodies:
        out.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n" + b)
