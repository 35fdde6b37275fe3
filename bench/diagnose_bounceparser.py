#!/usr/bin/python3
"""bench/diagnose_bounceparser.py - `rblkit diagnose` and sisimai against
Mail::DeliveryStatus::BounceParser's readings of its own test corpus
(t/corpus of libmail-deliverystatus-bounceparser-perl: 126 bounces,
autoreplies and spam from many MTAs of the 2000s and 2010s).

The reference is what BounceParser itself (Debian's package, whose test
suite passes on this corpus) reports per message: is it a bounce, the
bounced addresses, the standard reason.  BounceParser's reasons are
coarse; a reading agrees when it is one of sisimai's reasons that fall
under it:
    user_unknown      -> userunknown, suspend, hasmoved
    over_quota        -> mailboxfull
    domain_error      -> hostunknown, notaccept
    spam              -> spamdetected, blocked, badreputation, policyviolation
    message_too_large -> mesgtoobig, exceedlimit
("unknown" is not graded.)  Neither the corpus nor the readings are
copied into this repository (Perl's licence); get them with

    # a deb-src line for bookworm in /etc/apt/sources.list.d/, apt-get update
    apt-get source --download-only libmail-deliverystatus-bounceparser-perl
    tar xf libmail-deliverystatus-bounceparser-perl_*.orig.tar.xz
    apt-get install libmail-deliverystatus-bounceparser-perl libsisimai-perl
    /usr/bin/python3 bench/diagnose_bounceparser.py \\
        Mail-DeliveryStatus-BounceParser-*/t/corpus [build/rblkit] [-v]

NOT a held-out set for rblkit: its rules were checked against it
(2026-12-04).
"""
import json, os, subprocess, sys

MAP = {
    "user_unknown": {"userunknown", "suspend", "hasmoved"},
    "over_quota": {"mailboxfull"},
    "domain_error": {"hostunknown", "notaccept"},
    "spam": {"spamdetected", "blocked", "badreputation", "policyviolation"},
    "message_too_large": {"mesgtoobig", "exceedlimit"},
}

BP = r'''
use Mail::DeliveryStatus::BounceParser; use JSON::PP;
my @out;
for my $f (@ARGV) {
    local $/; open my $fh, "<", $f or die; my $m = <$fh>; close $fh;
    my $b = eval { Mail::DeliveryStatus::BounceParser->new($m) };
    if (!$b) { push @out, { file => $f, bounce => 0, addresses => [], reason => "" }; next }
    my ($r) = $b->reports;
    push @out, { file => $f, bounce => $b->is_bounce ? 1 : 0,
        addresses => [ map { lc } $b->addresses ],
        reason => $r ? ($r->get("std_reason") // "") : "" };
}
print JSON::PP->new->canonical->encode(\@out);
'''

SISIMAI = r'''
use Sisimai; use JSON::PP;
my @out;
for my $f (@ARGV) {
    my $v = Sisimai->make($f) || [];
    push @out, { file => $f, recipients => [ map { { recipient => lc $_->recipient->address,
        reason => $_->reason } } @$v ] };
}
print JSON::PP->new->canonical->encode(\@out);
'''

def main():
    args = [a for a in sys.argv[1:] if a != "-v"]
    verbose = "-v" in sys.argv
    if not args:
        sys.exit(__doc__)
    corpus = args[0]
    rblkit = args[1] if len(args) > 1 else os.path.join(os.path.dirname(__file__), "..", "build", "rblkit")
    files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus))
    ref = {m["file"]: m for m in json.loads(subprocess.run(["perl", "-e", BP] + files,
                                                          capture_output=True, check=True).stdout)}
    out = json.loads(subprocess.run([rblkit, "diagnose", "--json"] + files, capture_output=True).stdout)
    ours = {}
    for m in out:
        rs = [r for r in (m.get("recipients") or []) if r.get("reason") not in ("vacation", "delivered", "feedback")]
        ours.setdefault(m["file"], []).extend({"recipient": (r["recipient"] or "").lower(),
                                               "reason": r["reason"]} for r in rs)
    sis = {m["file"]: m["recipients"] for m in json.loads(subprocess.run(
        ["perl", "-e", SISIMAI] + files, capture_output=True, check=True).stdout)}
    tally = {n: {"rcpt": 0, "reason": 0, "graded": 0} for n in ("rblkit", "sisimai")}
    bounces = [f for f in files if ref[f]["bounce"] and ref[f]["addresses"]]
    for f in bounces:
        want = set(ref[f]["addresses"])
        std = ref[f]["reason"]
        for name, res in (("rblkit", ours), ("sisimai", sis)):
            rs = res.get(f, [])
            got = {r["recipient"] for r in rs}
            ok_r = want <= got
            tally[name]["rcpt"] += ok_r
            if std in MAP:
                tally[name]["graded"] += 1
                ok_reason = bool(rs) and all(r["reason"] in MAP[std] for r in rs if r["recipient"] in want or not ok_r)
                tally[name]["reason"] += ok_reason
            else:
                ok_reason = True
            if verbose and (not ok_r or not ok_reason):
                print(f"{name:7} {os.path.basename(f):34} want {sorted(want)} {std:17} got "
                      f"{[(r['recipient'], r['reason']) for r in rs]}")
    n = len(bounces)
    print(f"BounceParser corpus: {len(files)} messages, {n} bounces with addresses")
    for name, t in tally.items():
        print(f"{name:8} recipients found {t['rcpt']}/{n} ({100*t['rcpt']/n:.1f} %)  "
              f"reason agrees {t['reason']}/{t['graded']} ({100*t['reason']/max(1,t['graded']):.1f} %)")

main()
