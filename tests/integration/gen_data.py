#!/usr/bin/python3
"""Random rbldnsd data generator for the differential tests.

generate(seed, outdir) writes data files for every rbldnsd dataset type
(ip4set, ip4tset, ip4trie, ip6trie, ip6tset, dnset, generic, combined, acl),
using every syntax form of rbldnsd(8), and returns a Generated object with:
  .zone_specs  zone:type:file,... arguments (file names relative to outdir)
  .queries     list of Query(qname, rdtype, category, zone, rdclass, source, ...)
  .is_ent(qname)  True iff qname is a proper ancestor of a name that rbldnsd
                  answers positively in the same zone (an empty non-terminal),
                  computed from a model of the data, not by asking a server.

The model follows rbldnsd's documented lookup rules (and its source, read for
behaviour): ip4set expands entries to /8,/16,/24,/32 blocks and the most
specific level wins, an exclusion winning within a level; the tries are
longest-prefix match (first duplicate prefix wins); dnset looks up the exact
name first, then wildcards from the closest enclosing one; generic names exist
if they own any record.  Lines that rbldnsd ignores (invalid syntax, ranges
over $MAXRANGE4, bare CR-terminated entries) are written on purpose and left
out of the model.

Run by hand:  python3 tests/integration/gen_data.py --seed 1 --out DIR
prints the rbldnsd and rblkit command lines for the generated data.
"""

import argparse
import gzip
import ipaddress
import os
import random
import shlex
import sys
from dataclasses import dataclass, field

MTIME = 1700000000          # fixed mtime for every file: SOA serial 0 -> this
PROBE = "zz-probe-x"        # a label that never appears in generated data
ACL_SOURCES = {             # client address -> what the acl file says
    "127.0.0.1": "pass", "127.0.0.2": "refuse", "127.0.0.3": "empty",
    "127.0.0.4": "ignore", "127.0.0.5": "always", "127.0.0.6": "pass",
}

# --------------------------------------------------------------------------
# small helpers


def ip4s(a):
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255)


def ip4rev(a):
    return "%d.%d.%d.%d" % (a & 255, (a >> 8) & 255, (a >> 16) & 255, a >> 24)


def mask(bits, plen):
    return ((1 << bits) - 1) ^ ((1 << (bits - plen)) - 1)


def ip6s(a, form="compressed"):
    addr = ipaddress.IPv6Address(a)
    return addr.exploded if form == "exploded" else addr.compressed


def ip6rev(a, nibbles=32):
    """Reverse nibble labels of the first `nibbles` nibbles of a."""
    hexs = "%032x" % a
    return ".".join(reversed(hexs[:nibbles]))


def octet_label(s):
    """rbldnsd's reading of an ip4 query label: 1-3 digits, value <= 255."""
    if not (1 <= len(s) <= 3) or not s.isdigit():
        return None
    v = int(s)
    return v if v <= 255 else None


def nibble_label(s):
    if len(s) == 1 and s in "0123456789abcdef":
        return int(s, 16)
    return None


# --------------------------------------------------------------------------
# models used to decide whether a name is an empty non-terminal


class PrefixModel:
    """Longest-prefix-match set over `bits`-bit addresses.

    entries[(net, plen)] = True (listed) or False (excluded)."""

    def __init__(self, bits, exclusion_wins):
        self.bits = bits
        self.exclusion_wins = exclusion_wins   # ip4set: yes; tries: first wins
        self.entries = {}

    def add(self, net, plen, listed):
        key = (net, plen)
        if key in self.entries:
            if self.exclusion_wins and not listed:
                self.entries[key] = False
            return
        self.entries[key] = listed

    def lookup(self, addr):
        best = None
        for (net, plen), st in self.entries.items():
            if addr & mask(self.bits, plen) == net and (best is None or plen > best[0]):
                best = (plen, st)
        return bool(best and best[1])

    def witness_in_block(self, net, plen, holes=()):
        """A listed address in net/plen outside the `holes` blocks, or None."""
        bits = self.bits
        excl = [(n, p) for (n, p), st in self.entries.items() if not st]
        for (enet, elen), st in self.entries.items():
            if not st or not _overlap(bits, enet, elen, net, plen):
                continue
            rnet, rlen = (enet, elen) if elen >= plen else (net, plen)
            cover = [(n, p) for (n, p) in excl if p > elen and _overlap(bits, n, p, rnet, rlen)]
            cover += [(n, p) for (n, p) in holes if _overlap(bits, n, p, rnet, rlen)]
            if any(p <= rlen for (n, p) in cover):
                continue                     # the whole region is covered
            cover.sort(key=lambda x: x[1])
            kept = []
            for n, p in cover:
                if not any(_overlap(bits, n, p, kn, kp) for kn, kp in kept):
                    kept.append((n, p))
            if sum(1 << (bits - p) for _, p in kept) < (1 << (bits - rlen)):
                # a gap starts at the region start or right after a kept block
                rend = rnet | ((1 << (bits - rlen)) - 1)
                for w in [rnet] + [n + (1 << (bits - p)) for n, p in kept]:
                    if w <= rend and not any(_overlap(bits, w, bits, n, p) for n, p in kept):
                        assert self.lookup(w), "model bug: witness %x not listed" % w
                        return w
                raise AssertionError("model bug: no gap found")
        return None

    def listed_in_block(self, net, plen, holes=()):
        return self.witness_in_block(net, plen, holes) is not None


def _overlap(bits, n1, p1, n2, p2):
    p = min(p1, p2)
    return (n1 & mask(bits, p)) == (n2 & mask(bits, p))


def ip4set_blocks(a, b):
    """Split the range a..b the way rbldnsd's ip4set stores it: into blocks of
    /32, /24, /16 and /8 (one octet level at a time).  Returns [(net, plen)]."""
    out = []
    for shift in (0, 8, 16):
        plen = 32 - shift
        if (a | 255) >= b:
            if b - a == 255:
                out.append((a << shift, plen - 8))
            else:
                out += [((a + i) << shift, plen) for i in range(b - a + 1)]
            return out
        if a & 255:
            out += [((a + i) << shift, plen) for i in range(256 - (a & 255))]
            a = (a >> 8) + 1
        else:
            a >>= 8
        if (b & 255) != 255:
            out += [(((b & ~255) + i) << shift, plen) for i in range((b & 255) + 1)]
            b = (b >> 8) - 1
        else:
            b >>= 8
    out += [((a + i) << 24, 8) for i in range(b - a + 1)]
    return out


MAPPED = (0xFFFF << 32, 96)          # ::ffff:0:0/96
SIXTOFOUR = (0x2002 << 112, 16)      # 2002::/16


def _nibbles_addr(rel):
    """128-bit address of a 32-label nibble name, or None."""
    if len(rel) != 32:
        return None
    nibs = [nibble_label(x) for x in rel]
    if None in nibs:
        return None
    a = 0
    for v in reversed(nibs):
        a = (a << 4) | v
    return a


def _octets_addr(rel):
    if len(rel) != 4:
        return None
    octs = [octet_label(x) for x in rel]
    if None in octs:
        return None
    return (octs[3] << 24) | (octs[2] << 16) | (octs[1] << 8) | octs[0]


class Ip4Dataset:
    kind = "ip4"

    def __init__(self, exclusion_wins=True):
        self.pm = PrefixModel(32, exclusion_wins)

    def listed_in_block(self, net, plen):
        return self.pm.listed_in_block(net, plen)

    def has_name(self, rel, zone_flags):
        a = _octets_addr(rel)
        if a is not None:
            return self.pm.lookup(a)
        v6 = _nibbles_addr(rel)
        if v6 is None:
            return False
        if v6 >> 32 == 0xFFFF:                         # ::ffff:a.b.c.d
            return self.pm.lookup(v6 & 0xFFFFFFFF)
        if v6 >> 112 == 0x2002:                        # 2002:a.b.c.d::/48
            return self.pm.lookup((v6 >> 80) & 0xFFFFFFFF)
        return False

    def descendant(self, rel, zone_flags):
        return _ip_descendant(rel, zone_flags, ip4=self, ip6=None)


class Ip6Dataset:
    kind = "ip6"

    def __init__(self):
        self.pm = PrefixModel(128, False)

    def descendant(self, rel, zone_flags):
        return _ip_descendant(rel, zone_flags, ip4=None, ip6=self)

    def has_name(self, rel, zone_flags):
        if _octets_addr(rel) is not None and "ip4" in zone_flags:
            return False
        v6 = _nibbles_addr(rel)
        if v6 is None or ("ip4" in zone_flags and v6 >> 32 == 0xFFFF):
            return False
        return self.pm.lookup(v6)


def _labels(name):
    return tuple(name.split("."))


def _ip_descendant(rel, zone_flags, ip4, ip6):
    """A positively answered name (relative labels) strictly below rel, or None.
    rel: query labels below the zone, leftmost first, lowercased."""
    n = len(rel)
    if ip4 is not None and 1 <= n <= 3:
        octs = [octet_label(x) for x in rel]
        if None not in octs:
            net = 0
            for i, o in enumerate(reversed(octs)):
                net |= o << (24 - 8 * i)
            w = ip4.pm.witness_in_block(net, 8 * n)
            if w is not None:
                return _labels(ip4rev(w))
    if 1 <= n <= 31:
        nibs = [nibble_label(x) for x in rel]
        if None in nibs:
            return None
        net = 0
        for i, v in enumerate(reversed(nibs)):
            net |= v << (124 - 4 * i)
        plen = 4 * n
        if ip6 is not None:
            holes = [MAPPED] if "ip4" in zone_flags else []
            w = ip6.pm.witness_in_block(net, plen, holes)
            if w is not None:
                return _labels(ip6rev(w))
        if ip4 is not None:
            # an ip4 zone also answers ::ffff:a.b.c.d and 2002:a.b.c.d::/48
            for base, blen, lo in ((MAPPED[0], 96, 0), (SIXTOFOUR[0], 16, 80)):
                if not _overlap(128, net, plen, base, blen):
                    continue
                v4bits = max(0, min(32, plen - blen))
                v4net = ((net >> lo) & 0xFFFFFFFF) & mask(32, v4bits)
                w4 = ip4.pm.witness_in_block(v4net, v4bits)
                if w4 is not None:
                    v6 = base | (w4 << lo)
                    if plen > blen + 32:
                        v6 |= net & mask(128, plen) & ((1 << lo) - 1)
                    return _labels(ip6rev(v6))
    return None


class DnsetModel:
    kind = "dn"

    def __init__(self):
        self.plain = {}
        self.wild = {}

    def add(self, labels, plain, wild, listed):
        for flag, d in ((plain, self.plain), (wild, self.wild)):
            if flag:
                d[labels] = d.get(labels, True) and listed

    def positive(self, labels):
        if labels in self.plain:
            return self.plain[labels]
        for i in range(1, len(labels)):
            if labels[i:] in self.wild:
                return self.wild[labels[i:]]
        return False

    def has_name(self, rel, zone_flags):
        return bool(rel) and self.positive(rel)

    def descendant(self, rel, zone_flags):
        n = len(rel)
        cands = [k for k in self.plain if len(k) > n and k[len(k) - n:] == rel]
        cands += [(PROBE,) + w for w in self.wild if len(w) >= n and w[len(w) - n:] == rel]
        cands.append((PROBE,) + rel)
        return next((c for c in cands if self.positive(c)), None)


class GenericModel:
    kind = "generic"

    def __init__(self):
        self.owners = set()

    def has_name(self, rel, zone_flags):
        return rel in self.owners

    def descendant(self, rel, zone_flags):
        n = len(rel)
        return next((o for o in sorted(self.owners) if len(o) > n and o[len(o) - n:] == rel), None)


class ZoneModel:
    """A zone (or a subzone of a combined dataset) and its datasets."""

    def __init__(self, name):
        self.name = name.lower().rstrip(".")
        self.labels = tuple(self.name.split(".")) if self.name else ()
        self.datasets = []
        self.subzones = {}      # combined: relative label tuple -> ZoneModel

    @property
    def flags(self):
        return {d.kind for d in self.datasets}

    def descendant(self, rel):
        """A name strictly below rel (relative labels) that rbldnsd answers
        without NXDOMAIN, or None: the proof that rel is an empty non-terminal."""
        for sub in sorted(self.subzones):
            if len(sub) > len(rel) and sub[len(sub) - len(rel):] == rel:
                return sub                   # a subzone apex always exists
        if self.subzones:
            inside = [s for s in self.subzones if len(s) <= len(rel) and
                      rel[len(rel) - len(s):] == s]
            if not inside:
                return None
            s = max(inside, key=len)
            rel2 = rel[:len(rel) - len(s)]
            w = self.subzones[s].descendant(rel2) if rel2 else None
            return w + s if w else None
        flags = self.flags
        for d in self.datasets:
            w = d.descendant(rel, flags)
            if w:
                return w
        return None

    def has_name(self, rel):
        """Would rbldnsd answer this name (relative labels) without NXDOMAIN?"""
        if not rel:
            return True
        if self.subzones:
            inside = [s for s in self.subzones if len(s) <= len(rel) and
                      rel[len(rel) - len(s):] == s]
            if not inside:
                return False
            s = max(inside, key=len)
            return self.subzones[s].has_name(rel[:len(rel) - len(s)])
        flags = self.flags
        return any(d.has_name(rel, flags) for d in self.datasets)


# --------------------------------------------------------------------------
# what generate() returns


@dataclass
class Query:
    qname: str
    rdtype: str = "A"
    category: str = "misc"
    zone: str = ""
    rdclass: str = "IN"
    source: str = None       # client address (acl tests), default 127.0.0.1
    opcode: int = 0
    tries: int = 3           # 1 for queries a server may legitimately drop

    def describe(self):
        extra = "" if self.rdclass == "IN" else " class=" + self.rdclass
        extra += "" if not self.opcode else " opcode=%d" % self.opcode
        extra += "" if not self.source else " from=" + self.source
        return "%s %s%s [%s]" % (self.qname, self.rdtype, extra, self.category)


@dataclass
class Generated:
    seed: int
    outdir: str
    zone_specs: list
    queries: list
    zones: dict = field(default_factory=dict)    # name -> ZoneModel
    _ent_cache: dict = field(default_factory=dict, repr=False)

    def zone_of(self, qname):
        labels = tuple(qname.lower().rstrip(".").split("."))
        best = None
        for z in self.zones.values():
            n = len(z.labels)
            if n <= len(labels) and labels[len(labels) - n:] == z.labels:
                if best is None or n > len(best.labels):
                    best = z
        return best, labels

    def ent_witness(self, qname):
        """If qname is an empty non-terminal -- a proper ancestor of a name
        that rbldnsd answers positively in the same zone -- return such a
        descendant name (absolute, no trailing dot), else None."""
        key = qname.lower().rstrip(".")
        if key not in self._ent_cache:
            zone, labels = self.zone_of(key)
            w = None
            if zone is not None and len(labels) > len(zone.labels):
                w = zone.descendant(labels[:len(labels) - len(zone.labels)])
            self._ent_cache[key] = ".".join(w + zone.labels) if w else None
        return self._ent_cache[key]

    def is_ent(self, qname):
        """True iff qname is a proper ancestor of a positively answered name."""
        return self.ent_witness(qname) is not None

    def is_positive(self, qname):
        """True iff the model says rbldnsd answers qname NOERROR (not NXDOMAIN);
        None if qname is outside every zone."""
        zone, labels = self.zone_of(qname.lower().rstrip("."))
        if zone is None:
            return None
        return zone.has_name(labels[:len(labels) - len(zone.labels)])

    def rbldnsd_cmdline(self, port=5353):
        user = "-u nobody " if os.geteuid() == 0 else ""
        return ("cd %s && /usr/sbin/rbldnsd %s-n -b 127.0.0.1/%d %s" %
                (shlex.quote(self.outdir), user, port, shlex.join(self.zone_specs)))

    def rblkit_cmdline(self, port=5354, rblkit="rblkit"):
        return ("cd %s && %s serve -n -b 127.0.0.1/%d %s" %
                (shlex.quote(self.outdir), rblkit, port, shlex.join(self.zone_specs)))


# --------------------------------------------------------------------------
# the generator

QTYPE_WEIGHTS = [("A", 34), ("TXT", 24), ("ANY", 26), ("MX", 3), ("SOA", 3),
                 ("NS", 3), ("AAAA", 3), ("CNAME", 1), ("PTR", 1), ("SRV", 1), ("HINFO", 1)]

TXT_TEMPLATES = [
    "Listed $", "See http://bl.test/lookup?$", "$1/spam/$ $2", "costs $$5 $$$$",
    "zero var $0 for $", "undefined $7 var", '"quoted" text', "caf\u00e9 $",
    "trailing dollar $", "$x glued", "plain text, no substitution",
    "=escaped base $", "tab\tinside", "mixed $1 and $$ and $",
]


class Gen:
    def __init__(self, seed, outdir, crlf=True, acl=True):
        self.r = random.Random(seed)
        self.seed = seed
        self.outdir = outdir
        self.specs = []
        self.queries = []
        self.zones = {}
        self.crlf = crlf
        self.acl = acl

    # -- plumbing ----------------------------------------------------------

    def write(self, name, lines, compress=False, eol="\n"):
        data = eol.join(lines) + eol
        path = os.path.join(self.outdir, name)
        raw = data.encode("utf-8")
        if compress:
            raw = gzip.compress(raw, mtime=0)
        with open(path, "wb") as f:
            f.write(raw)
        os.chmod(path, 0o644)
        os.utime(path, (MTIME, MTIME))
        return name

    def zone(self, name):
        key = name.lower()
        if key not in self.zones:
            self.zones[key] = ZoneModel(name)
        return self.zones[key]

    def spec(self, zone, dstype, files):
        self.specs.append("%s:%s:%s" % (zone, dstype, ",".join(files)))

    def qtype(self):
        names, weights = zip(*QTYPE_WEIGHTS)
        return self.r.choices(names, weights)[0]

    def q(self, qname, category, zone, rdtype=None, n=1, **kw):
        for _ in range(n):
            t = rdtype or self.qtype()
            name = qname
            if self.r.random() < 0.08:      # 0x20-style mixed case
                name = "".join(c.upper() if self.r.random() < 0.5 else c for c in name)
            self.queries.append(Query(name, t, category, zone, **kw))

    def ttl(self):
        return self.r.choice(["300", "600", "1h", "45m", "2d", "86400", "3600s", "1w"])

    def txt(self):
        return self.r.choice(TXT_TEMPLATES)

    def value(self, attached=True):
        """A random per-entry value (the text after the key), possibly empty."""
        r = self.r.random()
        a = self.r.choice(["2", "3", "4", "5", "10", "127.0.0.7", "127.1.0.9", "127.9"])
        if r < 0.25:
            return ""
        if r < 0.35:
            return " :%s" % a                       # A only, default TXT
        if r < 0.45:
            return " :%s:" % a                      # A and no TXT
        if r < 0.65:
            return " :%s:%s" % (a, self.txt())       # A and TXT
        if r < 0.80:
            return " " + self.txt()                  # TXT only
        if r < 0.85:
            return (":%s:%s" if attached else " :%s:%s") % (a, self.txt())  # attached to the key
        if r < 0.90:
            return "\t:%s:\t%s" % (a, self.txt())
        if r < 0.95:
            return " # trailing comment"
        return ";semicolon comment" if attached else " ; comment"

    def default_line(self):
        return ":%s:%s" % (self.r.choice(["2", "127.0.0.3", "4", "127.0.0.20"]),
                           self.r.choice(TXT_TEMPLATES[:6] + [""]))

    def soa(self, zone, serial=None):
        serial = self.r.choice(["0", "2024010101", "7"]) if serial is None else serial
        return "$SOA %s ns1.%s hostmaster.%s %s %s %s %s %s" % (
            self.r.choice(["0", "1h", "3600", "2d"]), zone, zone, serial,
            self.r.choice(["2h", "7200"]), self.r.choice(["1h", "600"]),
            self.r.choice(["1w", "604800"]), self.r.choice(["5m", "120", "1h", "600"]))

    def ns(self, zone):
        return "$NS %s ns1.%s ns2.%s -ns3.%s ns.example.net" % (
            self.r.choice(["0", "1d", "7200"]), zone, zone, zone)

    def comment_noise(self):
        return self.r.choice(["", "# a comment", "; another comment", "   ",
                              "\t", "#", ";", "  # indented comment"])

    # -- address pickers -----------------------------------------------------

    def arena_addr(self, arenas):
        a = self.r.choice(arenas)
        return (a << 24) | self.r.getrandbits(24)

    # -- apex, REFUSED and other per-zone queries ----------------------------

    def apex_queries(self, zone):
        for t in ("SOA", "NS", "A", "TXT", "ANY", "MX", "AAAA"):
            self.q(zone, "apex", zone, t)
        self.q(zone.upper(), "apex", zone, "SOA")
        self.q(zone, "apex", zone, "SOA", rdclass="ANY")
        self.q(zone, "class-ch", zone, "TXT", rdclass="CH")
        self.q(PROBE + "." + zone, "unlisted", zone)

    # ======================================================================
    # ip4set: ip4.bl.test (3 datasets, one of them also in alias.bl.test)

    def gen_ip4set(self):
        Z = "ip4.bl.test"
        zm = self.zone(Z)
        r = self.r
        ds1, ds2 = Ip4Dataset(True), Ip4Dataset(True)
        arenas = [127, 10, r.randrange(11, 100), r.randrange(130, 170)]
        big8 = r.randrange(171, 190)
        listed, excluded = [], []           # (a, b, category) for queries

        def add(ds, lines, a, b, text, is_excl=False, value=None, cat=None):
            if value is None:
                value = "" if is_excl else self.value()
            prefix = r.choice(["!", "! ", "!\t"]) if is_excl else r.choice(["", "", "", "  ", "\t"])
            lines.append(prefix + text + value)
            for net, plen in ip4set_blocks(a, b):
                ds.pm.add(net, plen, not is_excl)
            (excluded if is_excl else listed).append((a, b, cat or ("excluded" if is_excl else "listed")))

        def cidr_text(net, plen):
            forms = ["%s/%d" % (ip4s(net), plen)]
            octs = ip4s(net).split(".")
            for k in (1, 2, 3):
                if all(o == "0" for o in octs[k:]):
                    forms.append("%s/%d" % (".".join(octs[:k]), plen))
                    if plen == 8 * k and k > 1:
                        forms.append(".".join(octs[:k]))
            if plen == 32:
                forms.append(ip4s(net))
            return r.choice(forms)

        def range_text(a, b):
            forms = ["%s-%s" % (ip4s(a), ip4s(b))]
            A, B = ip4s(a).split("."), ip4s(b).split(".")
            if A[:3] == B[:3]:
                forms.append("%s-%s" % (ip4s(a), B[3]))                       # 127.0.0.1-255
            if A[3] == "0" and B[3] == "255":
                forms.append("%s-%s" % (".".join(A[:3]), ".".join(B[:3])))   # 127.16.0-127.31.255
                if A[:2] == B[:2]:
                    forms.append("%s-%s" % (".".join(A[:3]), B[2]))           # 127.16.0-31
            if A[2:] == ["0", "0"] and B[2:] == ["255", "255"]:
                forms.append("%s-%s" % (".".join(A[:2]), ".".join(B[:2])))   # 127.16-127.31
                if A[0] == B[0]:
                    forms.append("%s-%s" % (".".join(A[:2]), B[1]))           # 127.16-31
            return r.choice(forms)

        # ---- dataset 1, file 1 (plain text) --------------------------------
        f1 = ["# ip4set main file, seed %d" % self.seed, self.soa(Z), self.ns(Z),
              "$TTL %s" % self.ttl(), "$1 http://bl.test/info", "$2 see above",
              "$0 var-zero", "$1 ignored second assignment of $1", ""]
        f1.append(self.default_line())
        # classic loopback entries
        add(ds1, f1, 0x7F000002, 0x7F000002, "127.0.0.2")
        add(ds1, f1, 0x7F000004, 0x7F000004, "127.0.0.4", value=" :4:IP $ is listed")
        add(ds1, f1, 0x7F000005, 0x7F000005, "127.0.0.5", value=" :5")
        add(ds1, f1, 0x7F000006, 0x7F000006, "127.0.0.6", value=" :6:")
        add(ds1, f1, 0x7F000007, 0x7F000007, "127.0.0.7", value=" IP address $ running an open relay")
        add(ds1, f1, 0x7F000008, 0x7F000008, "127.0.0.8", value=" :127.0.0.8:=no base $")
        add(ds1, f1, 0x7F000009, 0x7F000009, "127.0.0.9", value=" :9:=")
        # same address, same granularity, different values -> several RRs
        add(ds1, f1, 0x7F00000A, 0x7F00000A, "127.0.0.10", value=" :10:first")
        add(ds1, f1, 0x7F00000A, 0x7F00000A, "127.0.0.10", value=" :11:second")
        add(ds1, f1, 0x7F00000A, 0x7F00000A, "127.0.0.10", value=" :10:first")   # exact dup
        # single IPs
        for _ in range(22):
            if r.random() < 0.2:
                f1.append(self.comment_noise())
            if r.random() < 0.15:
                f1.append(self.default_line())
            a = self.arena_addr(arenas)
            add(ds1, f1, a, a, ip4s(a))
        # /24 and /16 short prefixes, CIDRs of every length 8..32
        for _ in range(6):
            a = self.arena_addr(arenas) & mask(32, 24)
            add(ds1, f1, a, a | 255, ".".join(ip4s(a).split(".")[:3]), cat="prefix24")
        for _ in range(2):
            a = self.arena_addr(arenas[1:]) & mask(32, 16)
            add(ds1, f1, a, a | 0xFFFF, ".".join(ip4s(a).split(".")[:2]), cat="prefix16")
        for plen in range(8, 33):
            if plen < 14 and r.random() < 0.5:
                continue
            base = big8 << 24 if plen <= 8 else self.arena_addr(arenas[1:] + [big8])
            net = base & mask(32, plen)
            add(ds1, f1, net, net | (0xFFFFFFFF >> plen if plen else 0xFFFFFFFF),
                cidr_text(net, plen), cat="cidr/%d" % plen)
        # ranges in every form
        for kind in ["full", "last-octet", "prefix24", "prefix16", "suffix16", "suffix24",
                     "full", "cross24", "cross16", "full"]:
            ar = r.choice(arenas)
            if kind == "last-octet":
                a = self.arena_addr([ar]); lo = r.randrange(0, 200)
                a = (a & mask(32, 24)) | lo; b = (a & mask(32, 24)) | r.randrange(lo, 256)
            elif kind in ("prefix24", "suffix24"):
                a = self.arena_addr([ar]) & mask(32, 24)
                b = a + (r.randrange(1, 40) << 8) - 1
                if kind == "suffix24":
                    b = min(b, a | 0xFFFF)
            elif kind in ("prefix16", "suffix16"):
                a = self.arena_addr([ar]) & mask(32, 16)
                b = min(a + (r.randrange(1, 6) << 16) - 1, a | 0xFFFFFF)
            elif kind == "cross24":
                a = self.arena_addr([ar]) | 0xF0; b = a + r.randrange(20, 600)
            elif kind == "cross16":
                a = (self.arena_addr([ar]) | 0xFF00) & ~0xFF | r.randrange(0, 255)
                b = a + r.randrange(300, 90000)
            else:
                a = self.arena_addr([ar]); b = a + r.randrange(0, 3000)
            b = min(b, (a | 0xFFFFFF))
            add(ds1, f1, a, b, range_text(a, b), cat="range")
        # exclusions inside listed things, overlapping entries at other levels
        for _ in range(14):
            a0, b0, _c = r.choice(listed)
            x = r.randrange(a0, b0 + 1)
            kind = r.random()
            if kind < 0.5:
                add(ds1, f1, x, x, ip4s(x), is_excl=True)
            elif kind < 0.75:
                n = x & mask(32, 24)
                lo, hi = sorted(r.sample(range(256), 2))
                add(ds1, f1, n | lo, n | hi, "%s-%d" % (ip4s(n | lo), hi), is_excl=True)
            else:
                plen = r.choice([24, 26, 28, 30, 31, 16, 20])
                n = x & mask(32, plen)
                add(ds1, f1, n, n | (0xFFFFFFFF >> plen), cidr_text(n, plen), is_excl=True)
            if r.random() < 0.4:                      # re-list inside the exclusion
                y = x ^ r.randrange(0, 3)
                add(ds1, f1, y, y, ip4s(y), cat="relisted")
        # an /8, with a nested /16, /24 and /32 of different values
        n8 = big8 << 24
        add(ds1, f1, n8, n8 | 0xFFFFFF, "%d/8" % big8, value=" :20:whole /8 $", cat="nested")
        n16 = n8 | (r.randrange(256) << 16)
        add(ds1, f1, n16, n16 | 0xFFFF, "%d.%d" % (big8, (n16 >> 16) & 255), value=" :21:a /16", cat="nested")
        n24 = n16 | (r.randrange(256) << 8)
        add(ds1, f1, n24, n24 | 255, ip4s(n24)[:-2], value=" :22:a /24", cat="nested")
        add(ds1, f1, n24 | 7, n24 | 7, ip4s(n24 | 7), value=" :23:a /32", cat="nested")
        add(ds1, f1, n24 | 8, n24 | 8, ip4s(n24 | 8), is_excl=True, cat="nested")
        # comments in every position
        x = self.arena_addr(arenas)
        add(ds1, f1, x, x, ip4s(x), value="  # comment after spaces")
        x = self.arena_addr(arenas)
        add(ds1, f1, x, x, ip4s(x), value="; comment attached")
        f1 += ["", "   ", "# end of file 1", "; really"]
        # invalid lines: rbldnsd warns and ignores them (not in the model)
        inval = ["10", "192.0.2.1.5", "300.1.1.1", "192.0.2.0/33", "192.0.2.16/24",
                 "192.0.2-192.0.3.4", "127-127.0.0", "192.0.2.9-192.0.2.1",
                 "192.0.2.7 :0:zero A", "192.0.2.8 :5 junk after A", "!", "192.0.2.10x",
                 "bogus line"]
        for line in r.sample(inval, 8):
            f1.insert(r.randrange(10, len(f1)), line)
        for a in (0xC0000201, 0xC0000207, 0xC0000208, 0xC0000209, 0xC000020A, 0xC0000210):
            listed.append((a, a, "invalid-line"))
        self.write("ip4-main.txt", f1)

        # ---- dataset 1, file 2 (gzip): $MAXRANGE4, second $TTL ---------------
        f2 = ["# second file of the same dataset, gzip-compressed",
              "$SOA 0 ignored.second.soa hm.ignored 1 1 1 1 1",   # only the first $SOA counts
              "$TTL %s" % self.ttl(),                             # last $TTL wins for ip4set
              "$MAXRANGE4 /16", "$MAXRANGE4 /12"]                 # cannot be increased
        for _ in range(10):
            a = self.arena_addr(arenas)
            add(ds1, f2, a, a, ip4s(a))
        # over the limit -> ignored (exclusions too)
        cg = 0x64400000 | (r.randrange(0, 0x3F) << 16)            # 100.64.0.0/10 space
        f2.append("%s/15" % ip4s(cg & mask(32, 15)))
        listed.append((cg & mask(32, 15), (cg & mask(32, 15)) | 0x1FFFF, "maxrange"))
        f2.append("%s-%s" % (ip4s(cg), ip4s(cg + 70000)))
        listed.append((cg, cg + 70000, "maxrange"))
        f2.append("!%d/8" % big8)                                 # ignored: too large
        n = r.choice(listed[:30])[0] & mask(32, 16)
        add(ds1, f2, n, n | 0xFFFF, "%s/16" % ip4s(n), value=" :12:max sized", cat="maxrange-ok")
        self.write("ip4-more.txt.gz", f2, compress=True)

        # ---- dataset 2: same addresses with other values, $=, other $TTL ---
        f3 = ["$TTL %s" % self.ttl(), "$= [ds2 $=] for $ ($1)", "$1 one",
              self.soa(Z, serial="99"), ":3:default of ds2"]
        for a0, b0, cat in r.sample(listed[:40], 12):
            x = r.randrange(a0, b0 + 1)
            add(ds2, f3, x, x, ip4s(x), cat="two-datasets")
        for a0, b0, cat in r.sample(excluded, min(4, len(excluded))):
            add(ds2, f3, a0, a0, ip4s(a0), cat="excluded-in-ds1")
        add(ds2, f3, 0x7F000002, 0x7F000002, "127.0.0.2", value=" :127.0.0.2:")  # same A
        add(ds2, f3, 0x7F000006, 0x7F000006, "127.0.0.6", value=" :6:")
        x = self.arena_addr(arenas) & mask(32, 24)
        add(ds2, f3, x, x | 255, ip4s(x)[:ip4s(x).rfind(".")], value=" =own template $ not base")
        self.write("ip4-second.txt", f3)

        # ---- dataset 3: generic data for the same zone ---------------------
        g = ["# generic part of ip4.bl.test", "$TTL 900",
             "@ A 127.0.0.8", "@ TXT \"ip4 test zone\"", "@ 600 MX 10 mx1.bl.test.",
             "@ MX 20 MX2.Bl.Test", "www A 127.0.0.8", "WWW 1h A 127.0.0.9",
             "ns1 A 127.0.0.53", "ns2 IN A 127.0.0.54", "ns2 3000 IN TXT glue owner",
             "deep.sub A 127.0.0.10", "2.0.0.127 TXT generic text for 127.0.0.2",
             "bad AAAA ::1", "bad2 CNAME www", "bad3 A not-an-ip"]
        gm = GenericModel()
        for o in ("www", "ns1", "ns2", "deep.sub", "2.0.0.127"):
            gm.owners.add(tuple(o.split(".")))
        self.write("ip4-generic.txt", g)

        zm.datasets += [ds1, ds2, gm]
        files1 = ["ip4-main.txt", "ip4-more.txt.gz"]
        self.spec(Z, "ip4set", files1)
        self.spec(Z, "ip4set", ["ip4-second.txt"])
        self.spec(Z, "generic", ["ip4-generic.txt"])
        za = self.zone("alias.bl.test")             # the same dataset, reused
        za.datasets.append(ds1)
        self.spec("alias.bl.test", "ip4set", files1)

        # ---- queries ---------------------------------------------------------
        self.ip4_range_queries(Z, listed, excluded)
        for a0, b0, cat in r.sample(listed, 15):
            self.q(ip4rev(a0) + ".alias.bl.test", "alias-" + cat, "alias.bl.test")
        self.ip4_misc_queries(Z, listed)
        for name in ("www", "ns1", "ns2", "deep.sub", "sub", "2.0.0.127", "bad", "bad2", "bad3", "mx1"):
            for t in ("A", "TXT", "ANY", "MX"):
                self.q(name + "." + Z, "generic-in-ip4", Z, t)
        self.apex_queries(Z)
        self.apex_queries("alias.bl.test")

    def ip4_range_queries(self, Z, listed, excluded, per=1):
        r = self.r
        for a, b, cat in listed + excluded:
            pts = {a: cat + "-first", b: cat + "-last", r.randrange(a, b + 1): cat}
            if a > 0:
                pts[a - 1] = "boundary-out"
            if b < 0xFFFFFFFF:
                pts[b + 1] = "boundary-out"
            for x, c in pts.items():
                self.q(ip4rev(x) + "." + Z, c, Z, n=per)

    def ip4_misc_queries(self, Z, listed, mapped=True):
        r = self.r
        for _ in range(25):                               # random unlisted
            self.q(ip4rev(r.getrandbits(32)) + "." + Z, "random", Z)
        for a, b, cat in r.sample(listed, min(12, len(listed))):
            x = r.randrange(a, b + 1)
            labels = ip4rev(x).split(".")
            for k in (1, 2, 3):                           # wrong label counts: ENT?
                self.q(".".join(labels[4 - k:]) + "." + Z, "short-%d" % k, Z)
            self.q("7." + ip4rev(x) + "." + Z, "5-labels", Z)
            lz = labels[:]
            lz[0] = "0" + lz[0] if len(lz[0]) < 3 else lz[0]
            self.q(".".join(lz) + "." + Z, "leading-zero", Z)
            if mapped:
                self.q(ip6rev((0xFFFF << 32) | x) + "." + Z, "ip4-mapped", Z)
                self.q(ip6rev((0xFFFF << 32) | x).upper() + "." + Z, "ip4-mapped-upper", Z)
                self.q(ip6rev((0x2002 << 112) | (x << 80) | r.getrandbits(64)) + "." + Z,
                       "6to4", Z)
                self.q(ip6rev((0xFFFF << 32) | x, 24) + "." + Z, "mapped-short", Z)
        for bad in ("256.0.0.127", "a.0.0.127", "1.-1.0.127", "1.2.3.4.5", "1..2.3",
                    "0000.0.0.127", "2.0.0.127.extra"):
            if ".." in bad:
                continue
            self.q(bad + "." + Z, "bad-labels", Z)
        for k in (4, 8, 12):
            self.q(ip6rev(0x2002 << 112, k) + "." + Z, "6to4-short", Z)

    # ======================================================================
    # ip4trie: trie.bl.test

    def gen_ip4trie(self):
        Z = "trie.bl.test"
        r = self.r
        ds = Ip4Dataset(exclusion_wins=False)
        listed, excluded = [], []
        lines = ["$SOA 1h ns1.%s hm.%s 0 2h 1h 1w 10m" % (Z, Z), "$NS 0 ns1.%s" % Z,
                 "$TTL %s" % self.ttl(), "$3 third var", self.default_line()]

        def add(net, plen, is_excl=False, value=None, cat=None):
            octs = ip4s(net).split(".")
            forms = ["%s/%d" % (ip4s(net), plen)]
            for k in (1, 2, 3):
                if all(o == "0" for o in octs[k:]):
                    forms.append("%s/%d" % (".".join(octs[:k]), plen))
            if plen in (16, 24):
                forms.append(".".join(octs[:plen // 8]))
            if plen == 32:
                forms.append(ip4s(net))
            text = r.choice(forms)
            if value is None:
                value = "" if is_excl else self.value()
            lines.append(("!" if is_excl else "") + text + value)
            ds.pm.add(net, plen, not is_excl)
            rng = (net, net | (0xFFFFFFFF >> plen if plen else 0xFFFFFFFF),
                   cat or ("excluded" if is_excl else "cidr/%d" % plen))
            (excluded if is_excl else listed).append(rng)

        arenas = [10, 127, r.randrange(20, 120), r.randrange(140, 220)]
        for _ in range(18):                                # nested chains
            plen = r.randrange(8, 25)
            net = self.arena_addr(arenas) & mask(32, plen)
            add(net, plen)
            for depth in range(r.randrange(1, 4)):
                if plen >= 32:
                    break
                plen2 = r.randrange(plen + 1, 33)
                net2 = (net | r.getrandbits(32 - plen)) & mask(32, plen2)
                add(net2, plen2, is_excl=(depth % 2 == 0) != (r.random() < 0.2))
                net, plen = net2, plen2
            if r.random() < 0.2:
                lines.append(self.default_line())
        for _ in range(12):
            a = self.arena_addr(arenas)
            add(a, 32)
        # duplicate prefix: first wins (rbldnsd warns)
        net = self.arena_addr(arenas) & mask(32, 24)
        add(net, 24, value=" :30:first of dup")
        lines.append("%s/24 :31:second of dup (ignored)" % ip4s(net))
        # long TXT: truncated to 254 bytes by rbldnsd
        a = self.arena_addr(arenas)
        add(a, 32, value=" :32:" + ("long-txt-%s " % "$") + "x" * 300, cat="long-txt")
        # invalid for ip4trie: ranges, bare numbers, host bits set
        lines += ["198.51.100.1-198.51.100.9", "198", "198.51.100.7/24", "198.51.100.300"]
        listed.append((0xC6336401, 0xC6336409, "invalid-line"))
        self.write("trie4.txt", lines)
        self.zone(Z).datasets.append(ds)
        self.spec(Z, "ip4trie", ["trie4.txt"])
        self.ip4_range_queries(Z, listed, excluded)
        self.ip4_misc_queries(Z, listed)
        self.apex_queries(Z)

    # ======================================================================
    # ip4tset: tset.bl.test (with a `#$` special) and plain.bl.test (no SOA/NS)

    def gen_ip4tset(self):
        r = self.r
        for Z, fname, meta in (("tset.bl.test", "tset4.txt", True),
                               ("plain.bl.test", "plain4.txt", False)):
            ds = Ip4Dataset()
            lines = []
            if meta:
                lines += [self.soa(Z), "#$TTL 900", ":3:tset default $",
                          ":4:second default line is ignored"]
            listed = []
            for _ in range(30):
                a = self.arena_addr([127, 10, r.randrange(30, 90)])
                v = r.choice(["", "", " :9:ignored value", " # comment", "\t; c"])
                lines.append(ip4s(a) + v)
                ds.pm.add(a, 32, True)
                listed.append((a, a, "listed"))
                if r.random() < 0.15:
                    lines.append(ip4s(a))                    # duplicate
                if r.random() < 0.1:
                    lines.append(self.comment_noise())
            lines += ["!%s" % ip4s(listed[0][0]), "10.1.2", "10.0.0.0/24", "10.9.9.9-10"]
            self.write(fname, lines)
            self.zone(Z).datasets.append(ds)
            self.spec(Z, "ip4tset", [fname])
            self.ip4_range_queries(Z, listed, [])
            self.ip4_misc_queries(Z, listed, mapped=meta)
            self.apex_queries(Z)
            for a in (0x0A010200, 0x0A0101FF, 0x0A090909, 0x0A09090A):
                self.q(ip4rev(a) + "." + Z, "invalid-line", Z)

    # ======================================================================
    # ip6trie: ip6.bl.test

    def gen_ip6trie(self):
        Z = "ip6.bl.test"
        r = self.r
        ds = Ip6Dataset()
        listed, excluded = [], []
        lines = ["# Default A and TXT template values", self.soa(Z), self.ns(Z),
                 ":127.0.1.2: Listed, see http://example.com/lookup?$"]
        bases = [0x20010db8 << 96, 0x2605600142 << 88, r.getrandbits(32) << 96,
                 (0xFFFF << 32) | (127 << 24)]

        def text_for(net, plen):
            forms = ["%s/%d" % (ip6s(net), plen), "%s/%d" % (ip6s(net, "exploded"), plen),
                     "%s/%d" % (ip6s(net).upper(), plen)]
            words = ["%x" % ((net >> (112 - 16 * i)) & 0xFFFF) for i in range(8)]
            if plen % 16 == 0 and 16 < plen < 128 and not (net & ((1 << (128 - plen)) - 1)):
                forms.append(":".join(words[:plen // 16]))    # trailing :0s omitted
            nw = (plen + 15) // 16
            if 1 < nw < 8 and not (net & ((1 << (128 - 16 * nw)) - 1)):
                forms.append("%s/%d" % (":".join(words[:nw]), plen))
            if plen == 128:
                forms.append(ip6s(net))
            return r.choice(forms)

        def add(net, plen, is_excl=False, value=None, cat=None):
            if value is None:
                value = "" if is_excl else self.value(attached=False)
            lines.append(("!" if is_excl else "") + text_for(net, plen) + value)
            ds.pm.add(net, plen, not is_excl)
            end = net | ((1 << (128 - plen)) - 1)
            (excluded if is_excl else listed).append((net, end, cat or
                                                      ("excluded" if is_excl else "cidr6/%d" % plen)))

        for _ in range(16):
            plen = r.choice([32, 36, 40, 48, 52, 56, 61, 64, 64, 96, 112, 120, 127])
            net = (r.choice(bases) | r.getrandbits(96)) & mask(128, plen)
            add(net, plen)
            for depth in range(r.randrange(0, 3)):
                if plen >= 128:
                    break
                plen2 = r.randrange(plen + 1, 129)
                net2 = (net | r.getrandbits(128 - plen)) & mask(128, plen2)
                add(net2, plen2, is_excl=(depth == 0))
                net, plen = net2, plen2
        for _ in range(8):
            add(r.choice(bases) | r.getrandbits(64), 128)
        add(1, 128, value="   # localhost")
        add(0x20010db8 << 96, 32, value=" :127.0.1.3: This one smells funny")
        lines += ["2001:db8::/129", "2001", "2001:db8::1/64", "gggg::1", "2001:db8:::1"]
        self.write("trie6.txt", lines)
        self.zone(Z).datasets.append(ds)
        self.spec(Z, "ip6trie", ["trie6.txt"])
        self.ip6_queries(Z, listed, excluded)
        self.apex_queries(Z)

    def ip6_queries(self, Z, listed, excluded):
        r = self.r
        for a, b, cat in listed + excluded:
            pts = {a: cat + "-first", b: cat + "-last", r.randrange(a, b + 1): cat}
            if a > 0:
                pts[a - 1] = "boundary-out"
            if b < (1 << 128) - 1:
                pts[b + 1] = "boundary-out"
            for x, c in pts.items():
                self.q(ip6rev(x) + "." + Z, c, Z)
        for a, b, cat in r.sample(listed, min(10, len(listed))):
            x = r.randrange(a, b + 1)
            for k in (r.randrange(1, 16), r.randrange(16, 32)):
                self.q(ip6rev(x, 32)[2 * (32 - k):] + "." + Z, "ip6-short", Z)
            self.q("0." + ip6rev(x) + "." + Z, "ip6-33-labels", Z)
            self.q(ip6rev(x).upper() + "." + Z, "ip6-upper", Z)
            self.q("10." + ip6rev(x)[4:] + "." + Z, "ip6-2char-label", Z)
        for _ in range(15):
            self.q(ip6rev(r.getrandbits(128)) + "." + Z, "random6", Z)
        self.q("2.0.0.127." + Z, "ip4-in-ip6-zone", Z)

    # ======================================================================
    # ip6tset: ip6t.bl.test

    def gen_ip6tset(self):
        Z = "ip6t.bl.test"
        r = self.r
        ds = Ip6Dataset()
        listed, excluded = [], []
        lines = [self.soa(Z), "$TTL %s" % self.ttl(), ":5:ip6tset $",
                 ":6:ignored second default", "2001:20fe:23:41ed", "abac:adab:ad00:42f"]
        for w in (0x200120fe002341ed, 0xabacadabad00042f):
            ds.pm.add(w << 64, 64, True)
            listed.append((w << 64, (w << 64) | (2 ** 64 - 1), "listed64"))
        lines += ["!abac:adab:ad00:42f:face:0f:a:beef", "!abac:adab:ad00:42f::2"]
        for ex in ((0xabacadabad00042f << 64) | 0xface000f000abeef,
                   (0xabacadabad00042f << 64) | 2):
            ds.pm.add(ex, 128, False)
            excluded.append((ex, ex, "excluded128"))
        for _ in range(25):
            w = r.choice([0x20010db8, 0x2a001450, r.getrandbits(32)]) << 32 | r.getrandbits(32)
            ws = ["%x" % ((w >> (48 - 16 * i)) & 0xFFFF) for i in range(4)]
            if r.random() < 0.3:
                ws = [x.upper() for x in ws]
            lines.append(":".join(ws) + r.choice(["", "", " # comment", " :7:ignored"]))
            ds.pm.add(w << 64, 64, True)
            listed.append((w << 64, (w << 64) | (2 ** 64 - 1), "listed64"))
            if r.random() < 0.4:
                ex = (w << 64) | r.getrandbits(r.choice([4, 16, 64]))
                lines.append("!" + r.choice([ip6s(ex), ip6s(ex, "exploded")]))
                ds.pm.add(ex, 128, False)
                excluded.append((ex, ex, "excluded128"))
        # invalid: /48 entry, /64 exclusion, CIDR notation
        lines += ["2001:db8:ffff", "!2001:db8:eeee:1", "2001:db8:dddd:1::/64", "2001:db8:cccc:1::"]
        for w in (0x20010db8ffff0000, 0x20010db8eeee0001, 0x20010db8dddd0001, 0x20010db8cccc0001):
            listed.append((w << 64, w << 64, "invalid-line"))
        self.write("tset6.txt", lines)
        self.zone(Z).datasets.append(ds)
        self.spec(Z, "ip6tset", ["tset6.txt"])
        self.ip6_queries(Z, listed, excluded)
        self.apex_queries(Z)

    # ======================================================================
    # ip4 and ip6 in one zone: mix.bl.test

    def gen_mix(self):
        Z = "mix.bl.test"
        r = self.r
        d4, d6 = Ip4Dataset(), Ip6Dataset()
        l4 = ["$SOA 0 ns.mix hm.mix 0 1h 1h 1d 1m", ":2:v4 $"]
        l6 = [":3:v6 $"]
        listed4, listed6 = [], []
        for _ in range(8):
            a = self.arena_addr([127, 10])
            l4.append(ip4s(a))
            d4.pm.add(a, 32, True)
            listed4.append((a, a, "mix4"))
        l6.append("0:0:0:0")             # ::/64 holds ::ffff:a.b.c.d, which an ip4 zone maps
        d6.pm.add(0, 64, True)
        for _ in range(5):
            w = (0x2002 << 48) | (listed4[0][0] << 16) | r.getrandbits(16)
            l6.append("%x:%x:%x:%x" % (w >> 48, (w >> 32) & 0xFFFF, (w >> 16) & 0xFFFF, w & 0xFFFF))
            d6.pm.add(w << 64, 64, True)
            listed6.append((w << 64, (w << 64) | 0xFFFF, "6to4-in-ip6tset"))
        self.write("mix4.txt", l4)
        self.write("mix6.txt", l6)
        zm = self.zone(Z)
        zm.datasets += [d4, d6]
        self.spec(Z, "ip4tset", ["mix4.txt"])
        self.spec(Z, "ip6tset", ["mix6.txt"])
        self.ip4_range_queries(Z, listed4, [])
        self.ip4_misc_queries(Z, listed4)
        self.ip6_queries(Z, listed6, [])

    # ======================================================================
    # dnset: dn.bl.test, with a subzone deep.dn.bl.test given after it

    def gen_dnset(self):
        Z = "dn.bl.test"
        r = self.r
        dm = DnsetModel()
        lines = [self.soa(Z), self.ns(Z), "$TTL %s" % self.ttl(), "$1 dnset-var",
                 "$= <$=> about $", ":2:Domain $ listed"]
        names = []

        def rnd_label():
            lab = "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789-")
                          for _ in range(r.randrange(1, 9))).strip("-")
            return lab or "x"

        def rnd_name(depth=None):
            depth = depth or r.choice([1, 2, 2, 3])
            labs = [rnd_label() for _ in range(depth - 1)]
            return ".".join(labs + [r.choice(["com", "net", "org", "example", "test"])])

        def add(text, labels, plain, wild, listed, value=None):
            if value is None:
                value = "" if not listed else self.value(attached=False)
            lines.append(("!" if not listed else "") + text + value)
            dm.add(labels, plain, wild, listed)
            names.append(labels)

        for _ in range(40):
            nm = rnd_name()
            labels = tuple(nm.split("."))
            kind = r.random()
            if kind < 0.45:
                add(nm, labels, True, False, True)
            elif kind < 0.7:
                add("*." + nm, labels, False, True, True)
            else:
                add("." + nm, labels, True, True, True)
            if r.random() < 0.3:                          # an exclusion below it
                sub = (rnd_label(),) + labels
                if r.random() < 0.5:
                    add(".".join(sub), sub, True, False, False)
                else:
                    add("*." + ".".join(sub), sub, False, True, False)
            if r.random() < 0.1:
                lines.append(self.default_line())
            if r.random() < 0.1:
                lines.append(self.comment_noise())
        # fixed cases from the manual
        add("example.com", ("example", "com"), True, False, True, value=" :3:exact only")
        add("*.example.com", ("example", "com"), False, True, True, value=" :4:children")
        add(".both.example.org", ("both", "example", "org"), True, True, True)
        add("good.both.example.org", ("good", "both", "example", "org"), True, False, False)
        add("*.ok.both.example.org", ("ok", "both", "example", "org"), False, True, False)
        add("UPPER.Example.NET", ("upper", "example", "net"), True, False, True, value=" :5:was upper $")
        add("trail.example.", ("trail", "example"), True, False, True)
        add("multi.example", ("multi", "example"), True, False, True, value=" :6:one")
        add("multi.example", ("multi", "example"), True, False, True, value=" :7:two")
        add("ns1", ("ns1",), True, False, True, value=" :127.0.0.53:")   # glue from dnset
        add("x.deep", ("x", "deep"), True, False, True)                  # shadowed by subzone
        lines += ["!", "*.", ".", "!*."]
        add("bad", ("bad",), True, False, True, value=" name with spaces :2:x")  # TXT only
        self.write("dn.txt", lines)
        self.zone(Z).datasets.append(dm)
        self.spec(Z, "dnset", ["dn.txt"])
        # subzone given after its parent zone
        sub = "deep.dn.bl.test"
        sd = Ip4Dataset()
        self.write("deep4.txt", ["127.0.0.2", "127.0.0.3 :3:deep"])
        for a in (0x7F000002, 0x7F000003):
            sd.pm.add(a, 32, True)
        self.zone(sub).datasets.append(sd)
        self.spec(sub, "ip4tset", ["deep4.txt"])
        # queries
        for labels in names:
            nm = ".".join(labels)
            self.q(nm + "." + Z, "dn-exact", Z)
            self.q("child." + nm + "." + Z, "dn-child", Z)
            self.q("a.b.c." + nm + "." + Z, "dn-deep-child", Z)
            self.q("*." + nm + "." + Z, "dn-star-label", Z)
            if len(labels) > 1:
                self.q(".".join(labels[1:]) + "." + Z, "dn-parent", Z)
        for _ in range(20):
            self.q(rnd_name() + "." + Z, "dn-random", Z)
        for nm in ("x.deep", "deep", "2.0.0.127.deep", "3.0.0.127.deep"):
            self.q(nm + "." + Z, "subzone", Z, "ANY")
        self.apex_queries(Z)
        self.apex_queries(sub)

    # ======================================================================
    # generic: gen.bl.test

    def gen_generic(self):
        Z = "gen.bl.test"
        r = self.r
        gm = GenericModel()
        lines = [self.soa(Z), "$NS 3h ns1.gen.bl.test ns2.gen.bl.test", "$TTL 1200",
                 "@ A 127.0.0.2", "@ 300 A 127.0.0.3", "@ TXT \"generic zone apex\"",
                 "@ MX 10 mx1.example.net.", "@ 60 MX 20 mx2.example.net",
                 "ns1 A 127.0.0.53", "ns2 A 127.0.0.54", "ns2 A 127.0.0.55",
                 "www 3000 A 127.0.0.1", "www TXT unquoted text with  spaces",
                 "Mixed.Case 1h IN A 127.0.0.7", "a.b.c.d A 127.0.0.4",
                 "txtonly TXT \"only a txt\"", "mxonly 2h MX 5 mail.example.com",
                 "quoted TXT \"has \\\"inner\\\" quotes\"", "half TXT \"half quoted",
                 "$TTL 60", "late A 127.0.0.60", "late 0 TXT zero ttl means default",
                 "bad1 AAAA ::1", "bad2 SPF v=spf1", "bad3", "bad4 MX 70000 big.pref"]
        for o in ("ns1", "ns2", "www", "mixed.case", "a.b.c.d", "txtonly", "mxonly",
                  "quoted", "half", "late"):
            gm.owners.add(tuple(o.split(".")))
        for i in range(12):
            o = "h%d.%s" % (i, r.choice(["x", "y.x", "z"]))
            t = r.choice(["A 127.0.0.%d" % r.randrange(1, 255), "TXT text %d" % i,
                          "MX %d mx%d.example.org" % (r.randrange(0, 100), i)])
            lines.append("%s %s%s" % (o, r.choice(["", "600 ", "1d "]), t))
            gm.owners.add(tuple(o.split(".")))
        self.write("gen.txt", lines)
        self.zone(Z).datasets.append(gm)
        self.spec(Z, "generic", ["gen.txt"])
        for o in sorted(gm.owners) + [("b", "c", "d"), ("c", "d"), ("d",), ("y", "x"), ("x",),
                                       ("nothere",), ("bad1",), ("bad4",), ("case",)]:
            nm = ".".join(o) + "." + Z
            for t in ("A", "TXT", "MX", "ANY", "AAAA"):
                self.q(nm, "generic", Z, t)
        self.apex_queries(Z)

    # ======================================================================
    # combined: Comb.Test (mixed-case zone name on the command line)

    def gen_combined(self):
        Z = "Comb.Test"
        z = Z.lower()
        zm = self.zone(z)
        lines = ["# common section", "$NS 1w ns1.comb.test ns2.comb.test",
                 "$SOA 1w ns1.comb.test admin.comb.test 0 2h 2h 1w 1h", "$TTL 1800",
                 "$1 common-var"]
        sub_models = {}

        def subzone_models(subs, model):
            for s in subs:
                key = () if s == "@" else tuple(s.lower().split("."))
                sub_models.setdefault(key, ZoneModel(s))
                sub_models[key].datasets.append(model)

        # ip4set in `proxies` and the base zone
        d = Ip4Dataset()
        lines += ["$DATASET ip4set:proxy proxies @", ":2:Open proxy, see http://bl.ex.com/proxy/$ $1"]
        px = []
        for _ in range(10):
            a = self.arena_addr([127, 10])
            lines.append(ip4s(a) + self.value())
            d.pm.add(a, 32, True)
            px.append((a, a, "comb-proxy"))
        net = 0x7F000200
        lines += ["127.0.2.0/24 :9:proxy net", "!127.0.2.10"]
        for n, p, st in ((net, 24, True), (0x7F00020A, 32, False)):
            d.pm.add(n, p, st)
        px.append((net, net | 255, "comb-proxy-net"))
        subzone_models(["proxies", "@"], d)
        # ip4set in `relays` and @ with its own $TTL and vars
        d2 = Ip4Dataset()
        lines += ["$DATASET ip4set relays @ # comment after subzones", "$TTL 120",
                  "$1 relay-var", ":3:Open relay $ $1"]
        rl = []
        for a, _b, _c in px[:3]:
            lines.append(ip4s(a))
            d2.pm.add(a, 32, True)
            rl.append((a, a, "comb-relay-both"))
        for _ in range(6):
            a = self.arena_addr([127])
            lines.append(ip4s(a))
            d2.pm.add(a, 32, True)
            rl.append((a, a, "comb-relay"))
        subzone_models(["relays", "@"], d2)
        # dnset in `dom`
        dn = DnsetModel()
        lines += ["$DATASET dnset:names dom", ":4:name $"]
        for nm, plain, wild in (("spam.example", True, False), ("wild.example", False, True),
                                ("both.example", True, True)):
            lines.append(("" if plain and not wild else ("*." if not plain else ".")) + nm)
            dn.add(tuple(nm.split(".")), plain, wild, True)
        subzone_models(["dom"], dn)
        # ip4trie in a two-label subzone
        t = Ip4Dataset(exclusion_wins=False)
        lines += ["$DATASET ip4trie sub.deep", "127.0.0.0/29 :5:trie", "!127.0.0.4/30"]
        t.pm.add(0x7F000000, 29, True)
        t.pm.add(0x7F000004, 30, False)
        subzone_models(["sub.deep"], t)
        # ip6tset in `six`
        s6 = Ip6Dataset()
        lines += ["$DATASET ip6tset six", "2001:db8:1:2"]
        s6.pm.add(0x20010db8000100020000000000000000, 64, True)
        subzone_models(["six"], s6)
        # generic for every subzone and @
        g = GenericModel()
        lines += ["$DATASET generic:common proxies relays multihop @ dom",
                  "@ A 127.0.0.8", "www A 127.0.0.8", "@ MX 10 mx.ex.com", "ns1 A 127.0.0.53"]
        g.owners |= {("www",), ("ns1",)}
        subzone_models(["proxies", "relays", "multihop", "@", "dom"], g)
        lines += ["$DATASET ip4set", "127.0.0.2"]   # no subzones: warning, data ignored
        self.write("comb.txt", lines)
        zm.subzones = sub_models
        self.spec(Z, "combined", ["comb.txt"])
        for sub, lst in (("proxies", px), ("relays", rl), ("", px + rl)):
            zz = (sub + "." + z) if sub else z
            self.ip4_range_queries(zz, lst, [])
            for a, _b, _c in lst[:4]:
                for k in (1, 2, 3):
                    self.q(".".join(ip4rev(a).split(".")[4 - k:]) + "." + zz, "comb-short", z)
        for nm in ("spam.example", "x.spam.example", "wild.example", "a.wild.example",
                   "both.example", "q.both.example", "example", "nothing.example"):
            self.q(nm + ".dom." + z, "comb-dnset", z)
        for a in range(0x7F000000, 0x7F000009):
            self.q(ip4rev(a) + ".sub.deep." + z, "comb-trie", z)
        self.q("deep." + z, "comb-subzone-parent", z, "A")
        self.q("x.deep." + z, "comb-subzone-sibling", z, "A")
        self.q(ip6rev(0x20010db8000100020000000000000005) + ".six." + z, "comb-ip6", z)
        for sub in ("proxies", "relays", "multihop", "dom", "sub.deep", "six", "nosuch"):
            for t in ("A", "TXT", "SOA", "NS", "MX", "ANY"):
                self.q(sub + "." + z, "comb-subzone-apex", z, t)
            self.q("www." + sub + "." + z, "comb-www", z)
        self.apex_queries(z)
        self.apex_queries(Z.upper())

    # ======================================================================
    # CRLF line endings: crlf.bl.test

    def gen_crlf(self):
        Z = "crlf.bl.test"
        ds = Ip4Dataset()
        lines = ["# CRLF file", "$TTL 300", ":3:crlf default $"]
        listed = []
        for i in range(10):
            a = 0x7F000100 | (i + 1)
            if i % 3 == 0:
                lines.append(ip4s(a))                      # "a.b.c.d\r": invalid
                listed.append((a, a, "crlf-bare"))
            else:
                lines.append(ip4s(a) + (" text %d" % i if i % 3 == 1 else " :%d:" % (i + 1)))
                ds.pm.add(a, 32, True)
                listed.append((a, a, "crlf"))
        self.write("crlf.txt", lines, eol="\r\n")
        self.zone(Z).datasets.append(ds)
        self.spec(Z, "ip4set", ["crlf.txt"])
        for a, _b, cat in listed:
            for t in ("A", "TXT", "ANY"):
                self.q(ip4rev(a) + "." + Z, cat, Z, t)
        self.q("1.0.127." + Z, "crlf-short", Z)

    # ======================================================================
    # acl: acl.bl.test; the client address picks the ACL entry

    def gen_acl(self):
        Z = "acl.bl.test"
        ds = Ip4Dataset()
        self.write("acl-data.txt", ["$SOA 0 ns.acl hm.acl 0 1h 1h 1d 3m", ":2:acl data $",
                                    "127.0.0.2", "10.0.0.0/24 :3:net"])
        ds.pm.add(0x7F000002, 32, True)
        ds.pm.add(0x0A000000, 24, True)
        self.write("acl.txt", ["# acl", "127.0.0.1 :pass", "127.0.0.2 :refuse",
                               "127.0.0.3 :empty", "127.0.0.4 :ignore",
                               "127.0.0.5 :127.0.0.9:Always listed, client $",
                               "127.0.0.6/32 =pass", "127.0.0.0/24 :refuse", "::1 :pass"])
        self.zone(Z).datasets.append(ds)
        self.spec(Z, "ip4set", ["acl-data.txt"])
        self.spec(Z, "acl", ["acl.txt"])
        for src, action in ACL_SOURCES.items():
            tries = 1 if action == "ignore" else 3
            names = [("2.0.0.127", "ANY"), ("3.0.0.127", "ANY"), ("5.0.0.10", "TXT"),
                     ("", "SOA"), ("", "NS"), ("", "A"), ("0.127", "A"), ("x.y", "A")]
            if action == "ignore":
                names = names[:2]
            for nm, t in names:
                self.q((nm + "." if nm else "") + Z, "acl-" + action, Z, t,
                       source=None if src == "127.0.0.1" else src, tries=tries)

    # ======================================================================
    # queries that do not belong to one zone

    def gen_misc(self):
        for nm in ("bl.test", "test", "other.example", "xbl.test", "ip4.bl.test.other"):
            self.q(nm, "not-authoritative", "", "A")
            self.q(nm, "not-authoritative", "", "SOA")
        self.q(".", "root", "", "NS")
        for t in ("AXFR", "IXFR", "TYPE65535", "TSIG", "OPT", "TYPE249", "TYPE0", "TYPE4000"):
            self.q("2.0.0.127.ip4.bl.test", "odd-qtype", "ip4.bl.test", t)
            self.q("ip4.bl.test", "odd-qtype", "ip4.bl.test", t)
        for cls in ("CH", "HS", "NONE", "ANY"):
            self.q("2.0.0.127.ip4.bl.test", "odd-class", "ip4.bl.test", "A", rdclass=cls)
        for op in (1, 2, 4, 5):
            self.q("2.0.0.127.ip4.bl.test", "odd-opcode", "ip4.bl.test", "A", opcode=op)

    # ======================================================================

    def run(self):
        self.gen_ip4set()
        self.gen_ip4trie()
        self.gen_ip4tset()
        self.gen_ip6trie()
        self.gen_ip6tset()
        self.gen_mix()
        self.gen_dnset()
        self.gen_generic()
        self.gen_combined()
        if self.crlf:
            self.gen_crlf()
        if self.acl:
            self.gen_acl()
        self.gen_misc()
        self.r.shuffle(self.queries)
        gen = Generated(self.seed, self.outdir, self.specs, self.queries, self.zones)
        for q in self.queries:                  # label each query with its real zone
            z = gen.zone_of(q.qname)[0]
            q.zone = z.name if z else ""
        return gen


def generate(seed, outdir, crlf=True, acl=True):
    """Write the data files of `seed` into outdir (created if needed) and
    return a Generated (zone specs relative to outdir, queries, ENT model)."""
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o755)
    return Gen(seed, outdir, crlf=crlf, acl=acl).run()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="directory for the data files")
    ap.add_argument("--port", type=int, default=5353)
    ap.add_argument("--queries", action="store_true", help="also list the queries")
    args = ap.parse_args(argv)
    out = os.path.abspath(args.out)
    g = generate(args.seed, out)
    print("# %d zone specs, %d queries; data in %s" % (len(g.zone_specs), len(g.queries), out))
    print("# reference server:")
    print(g.rbldnsd_cmdline(args.port))
    print("# server under test:")
    print(g.rblkit_cmdline(args.port + 1,
                           os.path.join(os.path.dirname(os.path.dirname(
                               os.path.dirname(os.path.abspath(__file__)))), "rblkit")))
    print("# try: dig @127.0.0.1 -p %d 2.0.0.127.ip4.bl.test any" % args.port)
    if args.queries:
        for q in g.queries:
            print(q.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
