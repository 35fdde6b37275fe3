#!/usr/bin/python3
"""bench/diagnose_flufl.py - recipients found by `rblkit diagnose` and by
sisimai on flufl.bounce's test bounces (Debian's python3-flufl.bounce, the
bounce detector of GNU Mailman: 114 bounces from many MTAs of 1999-2012,
each with the addresses its test expects and whether the failure is
temporary).

The bounces and their expected readings are read from the installed
package at run time (LGPL-3: not copied into this repository).  They are
NOT a held-out set for rblkit: its recipient rules were checked against
them (2026-12-04).  sisimai (Debian's libsisimai-perl 4.25) reads the same
files in the same run.

A message counts as found when the recipients a reader reports as failed
(temporary ones: as delayed) are exactly the expected set; "covers" when
they include it.  A message with no expected address (not a bounce, or
one the detector cannot read) counts as found when no failed recipient
is reported.

Usage: /usr/bin/python3 bench/diagnose_flufl.py [RBLKIT] [-v]
"""
import ast, json, os, subprocess, sys

PKG = "/usr/lib/python3/dist-packages/flufl/bounce"
HELPERS = PKG + "/testing/helpers.py"
DATA_DIR = PKG + "/tests/data"

PERL = r'''
use Sisimai; use JSON::PP;
my @out;
for my $f (@ARGV) {
    my $v = Sisimai->make($f, delivered => 1) || [];
    push @out, { file => $f, recipients => [ map { { recipient => $_->recipient->address,
        action => ($_->action // ''), reason => $_->reason } } @$v ] };
}
print JSON::PP->new->canonical->encode(\@out);
'''

def load_data():
    src = open(HELPERS).read()
    tree = ast.parse(src)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DATA":
            rows = ast.literal_eval(node.value)
            out = []
            for r in rows:
                temp = r[3] if len(r) > 3 else False
                out.append((r[0], r[1], {a.decode().lower() for a in r[2]}, temp))
            return out
    sys.exit("diagnose_flufl.py: no DATA in " + HELPERS)

def rblkit_read(rblkit, files):
    p = subprocess.run([rblkit, "diagnose", "--json"] + files, capture_output=True)
    res = {}
    for m in json.loads(p.stdout):
        res.setdefault(m["file"], []).extend(m.get("recipients") or [])
    return res

def sisimai_read(files):
    p = subprocess.run(["perl", "-e", PERL] + files, capture_output=True)
    if p.returncode != 0:
        return None
    return {m["file"]: m["recipients"] for m in json.loads(p.stdout)}

def got_set(recips, temporary):
    s = set()
    for r in recips:
        act = (r.get("action") or "").lower()
        if r.get("reason") in ("vacation", "delivered", "feedback"):
            continue
        if temporary:
            ok = act == "delayed"
        else:
            ok = act not in ("delayed", "delivered", "relayed", "expanded")
        if ok:
            s.add((r.get("recipient") or "").lower())
    return s

def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv
    rblkit = args[0] if args else os.path.join(os.path.dirname(__file__), "..", "build", "rblkit")
    if not os.path.isdir(DATA_DIR):
        sys.exit("diagnose_flufl.py: apt-get install python3-flufl.bounce")
    data = load_data()
    files = [os.path.join(DATA_DIR, d[1]) for d in data]
    r = rblkit_read(rblkit, sorted(set(files)))
    s = sisimai_read(sorted(set(files)))
    tally = {"rblkit": [0, 0], "sisimai": [0, 0]}
    for mod, fn, want, temp in data:
        path = os.path.join(DATA_DIR, fn)
        for name, res in (("rblkit", r), ("sisimai", s)):
            if res is None:
                continue
            got = got_set(res.get(path, []), temp)
            exact = got == want
            cover = want <= got if want else not got
            tally[name][0] += exact
            tally[name][1] += cover
            if verbose and not exact:
                print(f"{name:7} {fn:20} {'T' if temp else 'P'} want {sorted(want)} got {sorted(got)}"
                      f" all {[(x.get('recipient'), x.get('action'), x.get('reason')) for x in res.get(path, [])]}")
    n = len(data)
    print(f"flufl.bounce test bounces: {n}")
    for name, (ex, cov) in tally.items():
        if name == "sisimai" and s is None:
            print("sisimai: not run (libsisimai-perl missing)")
            continue
        print(f"{name:8} exact {ex}/{n} ({100*ex/n:.1f} %)  covers {cov}/{n} ({100*cov/n:.1f} %)")

main()
