#!/bin/bash
# diagnose_same.sh OLD NEW [DIR...]: does a change to diagnose's code keep
# its output byte for byte?  Runs two rblkit binaries on the same bounces
# and compares what they print:
#   - every format: text, -q, --json, --html, --lang ja (text and HTML);
#   - with -j 1 and with the default threads;
#   - on stdout and on stderr;
#   - on tests/corpus/sisimai/eml, tests/corpus/written, the fuzz_mail seeds,
#     flufl.bounce's test data when python3-flufl.bounce is installed, each
#     DIR given, and the sisimai corpus 3 times over as one mbox (read a
#     piece at a time, as large mboxes are).
# Prints "same", or a line per difference and exits 1.  Used for every
# speed change of issue 16 (bench/RESULTS.md).
set -u
[ $# -ge 2 ] || { echo "usage: bench/diagnose_same.sh OLD NEW [DIR...]" >&2; exit 2; }
# the binaries as given, from here; the corpora from the repository
OLD=$(realpath "$1") NEW=$(realpath "$2")
shift 2
EXTRA=()
for d in "$@"; do EXTRA+=("$(realpath "$d")"); done
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rc=0
SETS=(tests/corpus/sisimai/eml tests/corpus/written tests/fuzz/corpus/mail "${EXTRA[@]}")
FL=$(/usr/bin/python3 -c 'import flufl.bounce, os; print(os.path.dirname(flufl.bounce.__file__))' 2>/dev/null)
[ -n "$FL" ] && [ -d "$FL/tests/data" ] && SETS+=("$FL/tests/data")

# one comparison: the two binaries with the same arguments
same() {	# $1: what (for the message), the rest: diagnose's arguments
	local what=$1
	shift
	"$OLD" diagnose "$@" >"$T/old" 2>"$T/olderr"
	"$NEW" diagnose "$@" >"$T/new" 2>"$T/newerr"
	[ -s "$T/old" ] || { echo "EMPTY OUTPUT: $what: $(head -c 300 "$T/olderr")"; rc=1; }
	cmp -s "$T/old" "$T/new" || { echo "DIFF: $what"; rc=1; }
	cmp -s "$T/olderr" "$T/newerr" || { echo "DIFF (stderr): $what"; rc=1; }
}

FMTS=(--json "" --html -q "--lang ja" "--html --lang ja")
for d in "${SETS[@]}"; do
	[ -d "$d" ] || { echo "diagnose_same.sh: no directory $d" >&2; rc=1; continue; }
	find "$d" -type f | sort >"$T/list"
	for fmt in "${FMTS[@]}"; do
		for j in "-j 1" ""; do
			# (word splitting of $fmt and $j is meant)
			# shellcheck disable=SC2086
			same "$d '$fmt' $j" $j $fmt --files-from "$T/list"
		done
	done
done

# the corpus as one mbox, 3 times over (as bench/diagnose.sh builds it)
find tests/corpus/sisimai/eml -type f | sort >"$T/list"
mapfile -t FILES <"$T/list"
/usr/bin/python3 bench/make_mbox.py "$T/mbox" 3 "${FILES[@]}"
for fmt in --json ""; do
	for j in "-j 1" ""; do
		# shellcheck disable=SC2086
		same "corpus x3 mbox '$fmt' $j" $j $fmt "$T/mbox"
	done
done
[ $rc = 0 ] && echo "same"
exit $rc
