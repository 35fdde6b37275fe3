#!/bin/bash
# bench/diagnose.sh - `rblkit diagnose` against sisimai (Debian's
# libsisimai-perl) on the same bounce corpus, same machine, same run.
#
#   bench/diagnose.sh [--repeat N] [--rounds R] [--write] [--corpus DIR]
#
# Both read every .eml file of the corpus (default tests/corpus/sisimai/eml,
# 433 bounces) and produce a per-recipient reading: rblkit with --json
# (the file list N times over, given to one process with --files-from,
# output to /dev/null), sisimai with Sisimai->make on each file, N passes
# inside one perl process (module load time excluded: it happens before
# the clock starts).  The time per
# pass is the total divided by N (default 5).  rblkit runs twice: with
# -j 1 pinned to CPU 0, as sisimai is, and as it runs by default (a
# thread per CPU).  R rounds (default 3) of the three runs in turn; the
# best time of each counts.
#
# Output: messages/s and MB/s of each, and the ratios.  --write replaces
# the diagnose block of bench/RESULTS.md with the results and this command.
#
# Environment: RBLKIT (default <repo>/rblkit), PERL (default perl).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
RBLKIT=${RBLKIT:-$REPO/rblkit}
PERL=${PERL:-perl}
CORPUS=$REPO/tests/corpus/sisimai/eml
REPEAT=5 ROUNDS=3 WRITE=0 ARGS="$*"

while [ $# -gt 0 ]; do
	case $1 in
	--repeat) REPEAT=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--write) WRITE=1; shift ;;
	--corpus) CORPUS=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "diagnose.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

[ -x "$RBLKIT" ] || { echo "diagnose.sh: no rblkit at $RBLKIT (run make)" >&2; exit 1; }
# make SANITIZE=1 leaves its (4x slower) binary at ./rblkit
if ldd "$RBLKIT" 2>/dev/null | grep -q libasan; then
	echo "diagnose.sh: $RBLKIT is a sanitizer build: run make (without SANITIZE) first" >&2
	exit 1
fi
$PERL -MSisimai -e1 2>/dev/null || { echo "diagnose.sh: sisimai missing (apt-get install libsisimai-perl)" >&2; exit 1; }

mapfile -t FILES < <(find "$CORPUS" -maxdepth 1 -name '*.eml' | sort)
N=${#FILES[@]}
BYTES=$(cat "${FILES[@]}" | wc -c)
PIN="taskset -c 0"
command -v taskset >/dev/null || PIN=""

# rblkit: one process reads the corpus REPEAT times over (the file list
# repeated), as sisimai reads it REPEAT times in one perl process; the
# time per pass is the total divided by REPEAT.  Start-up (dynamic
# linking, the catalogue) is paid once, like perl's module loading.
# Two runs: -j 1 pinned to CPU 0 (one core, as sisimai), and the default
# (-j 0: a thread per CPU, not pinned).
# The names come from a list file (--files-from): thousands of arguments
# would cost bash and exec several ms per run, which is not rblkit's time.
LIST=$(mktemp)
trap 'rm -f "$LIST"' EXIT
for _ in $(seq "$REPEAT"); do printf '%s\n' "${FILES[@]}"; done >"$LIST"
rblkit_pass() {		# $1: jobs, $2: pin command (may be empty)
	local t0 t1
	t0=$EPOCHREALTIME
	$2 "$RBLKIT" diagnose -j "$1" --json --files-from "$LIST" >/dev/null
	t1=$EPOCHREALTIME
	echo "($t1 - $t0) / $REPEAT" | bc -l
}

# sisimai: the same files, REPEAT passes in one process, time per pass
sisimai_pass() {
	$PIN $PERL -MSisimai -MTime::HiRes=time -e '
	my ($repeat, @files) = @ARGV;
	my $recips;
	my $t0 = time;
	for (1 .. $repeat) {
		my $n = 0;
		for my $f (@files) {
			my $v = Sisimai->make($f, delivered => 1, vacation => 1);
			$n += scalar @$v if $v;
		}
		$recips = $n;
	}
	printf "%.6f %d\n", (time - $t0) / $repeat, $recips;
' "$REPEAT" "${FILES[@]}" 2>/dev/null
}

# ROUNDS rounds, the three readers in turn, the best time of each: a
# neighbour's burst on the shared machine hits one round, not one reader
min() { echo "if ($1 < $2) $1 else $2" | bc -l; }
best_one=999 best_all=999 sis_t=999
for _ in $(seq "$ROUNDS"); do
	best_one=$(min "$best_one" "$(rblkit_pass 1 "$PIN")")
	best_all=$(min "$best_all" "$(rblkit_pass 0 "")")
	out=$(sisimai_pass)
	sis_t=$(min "$sis_t" "${out% *}")
	sis_recips=${out#* }
done
best_rblkit=$best_all

rate() { echo "scale=1; $1 / $2" | bc -l; }
mb() { echo "scale=2; $BYTES / 1048576 / $1" | bc -l; }
ratio() { echo "scale=1; $sis_t / $1" | bc -l; }
NCPU=$(nproc)

report=$(cat <<EOT
Corpus: $N messages, $BYTES bytes (${CORPUS#"$REPO"/}), $REPEAT passes per run,
best of $ROUNDS rounds (the readers take turns in each round).

| reader | CPUs | time per pass | messages/s | MB/s | vs sisimai |
|---|---|---|---|---|---|
| rblkit diagnose --json (default: a thread per CPU) | $NCPU | $(printf '%.4f' "$best_all") s | $(rate "$N" "$best_all") | $(mb "$best_all") | **$(ratio "$best_all")x** |
| rblkit diagnose --json -j 1 | 1 (taskset -c 0) | $(printf '%.4f' "$best_one") s | $(rate "$N" "$best_one") | $(mb "$best_one") | $(ratio "$best_one")x |
| sisimai $($PERL -MSisimai -e 'print $Sisimai::VERSION') (Sisimai->make, $sis_recips records) | 1 (taskset -c 0) | $(printf '%.4f' "$sis_t") s | $(rate "$N" "$sis_t") | $(mb "$sis_t") | 1x |

Target: 50x sisimai's throughput.  rblkit as run by default (all $NCPU CPUs)
is $(ratio "$best_all")x; on one core against sisimai's one core it is
$(ratio "$best_one")x.  sisimai has no way to use a second CPU within one
run; two sisimai processes on halves of a corpus would at best double its
rate, which is the one-core ratio.
rblkit's time includes process start-up and loading the blocklist catalogue
(once per run), reading the files and writing the JSON; sisimai's excludes
loading perl and its modules.  Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)
(the machine is shared).
EOT
)
echo "$report"

if [ "$WRITE" = 1 ]; then
	res=$REPO/bench/RESULTS.md
	block=$(printf '<!-- diagnose.sh results: begin (bench/diagnose.sh --write) -->\n## diagnose.sh results\nCommand: `bench/diagnose.sh %s` (%s, %s)\n\n%s\n<!-- diagnose.sh results: end -->' \
		"$ARGS" "$(date -u +%Y-%m-%d)" "$(uname -m), $(nproc) CPUs" "$report")
	BLOCK="$block" /usr/bin/python3 - "$res" <<'PYEOF'
import os, re, sys
path = sys.argv[1]
text = open(path).read()
new = os.environ["BLOCK"]
pat = re.compile(r"<!-- diagnose\.sh results: begin.*?<!-- diagnose\.sh results: end -->", re.S)
if not pat.search(text):
    sys.exit("diagnose.sh: no diagnose block in " + path)
open(path, "w").write(pat.sub(lambda m: new, text, count=1))
PYEOF
	echo "(written to $res)"
fi
