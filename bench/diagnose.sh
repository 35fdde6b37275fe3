#!/bin/bash
# bench/diagnose.sh - `rblkit diagnose` against sisimai (Debian's
# libsisimai-perl) on the same bounce corpus, same machine, same run.
#
#   bench/diagnose.sh [--repeat N] [--rounds R] [--write] [--corpus DIR]
#                     [--mbox-only]
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
# The mbox case: the corpus N times over as one mbox file (each message
# behind a "From " line, bodies' "From " lines quoted), read by rblkit in
# one run (default threads, and -j 1 pinned) and by sisimai
# (Sisimai->make on the mbox), time per pass = total / N, the JSON to
# /dev/null as in the files case (and once more to a file on disk, its
# own row); the JSON of the default run must be byte for byte that of
# -j 1 (checked every round, in runs not timed).
#
# Start-up: rblkit on a one-message file, best of R runs: the process,
# its shared libraries and the catalogue, paid once per run whatever
# its size (sisimai's module loading is outside its clock).  Shown per
# run and per pass, with the mbox ratio without it, to say where the
# time goes; the ratios in the tables count it.
#
# --mbox-only: the mbox case alone (no --write).
#
# Output: messages/s and MB/s of each, and the ratios.  --write replaces
# the diagnose blocks of bench/RESULTS.md (the files, and the mbox) with
# the results and this command.
#
# Environment: RBLKIT (default <repo>/rblkit), PERL (default perl).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
RBLKIT=${RBLKIT:-$REPO/rblkit}
PERL=${PERL:-perl}
CORPUS=$REPO/tests/corpus/sisimai/eml
REPEAT=5 ROUNDS=3 WRITE=0 MBOX_ONLY=0 ARGS="$*"

while [ $# -gt 0 ]; do
	case $1 in
	--repeat) REPEAT=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--write) WRITE=1; shift ;;
	--corpus) CORPUS=$2; shift 2 ;;
	--mbox-only) MBOX_ONLY=1; shift ;;
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
MBOX=$(mktemp)
OUT1=$(mktemp)
OUT0=$(mktemp)
OUTF=$(mktemp)
trap 'rm -f "$LIST" "$MBOX" "$OUT1" "$OUT0" "$OUTF"' EXIT
for _ in $(seq "$REPEAT"); do printf '%s\n' "${FILES[@]}"; done >"$LIST"
# the mbox: REPEAT copies of the corpus, LF line ends
/usr/bin/python3 "$BENCH/make_mbox.py" "$MBOX" "$REPEAT" "${FILES[@]}"
MBOX_BYTES=$(wc -c <"$MBOX")
rblkit_mbox_pass() {	# $1: jobs, $2: pin command, $3: output (/dev/null or a file)
	local t0 t1
	rm -f "$OUTF"
	t0=$EPOCHREALTIME
	$2 "$RBLKIT" diagnose -j "$1" --json "$MBOX" >"$3" || true
	t1=$EPOCHREALTIME
	echo "($t1 - $t0) / $REPEAT" | bc -l
}
sisimai_mbox_pass() {
	$PIN $PERL -MSisimai -MTime::HiRes=time -e '
	my ($repeat, $mbox) = @ARGV;
	my $t0 = time;
	my $v = Sisimai->make($mbox, delivered => 1, vacation => 1);
	printf "%.6f %d\n", (time - $t0) / $repeat, $v ? scalar @$v : 0;
' "$REPEAT" "$MBOX" 2>/dev/null
}
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
[ "$MBOX_ONLY" = 1 ] && [ "$WRITE" = 1 ] && { echo "diagnose.sh: --mbox-only does not --write" >&2; exit 2; }
FROUNDS=$ROUNDS
[ "$MBOX_ONLY" = 1 ] && FROUNDS=0
best_one=999 best_all=999 sis_t=999 sis_recips=0
for _ in $(seq "$FROUNDS"); do
	best_one=$(min "$best_one" "$(rblkit_pass 1 "$PIN")")
	best_all=$(min "$best_all" "$(rblkit_pass 0 "")")
	out=$(sisimai_pass)
	sis_t=$(min "$sis_t" "${out% *}")
	sis_recips=${out#* }
done
# Timed as the files are, the JSON to /dev/null (sisimai's make() writes
# nothing either); a fourth run writes it to a new file on disk, timed
# too, and every round compares the JSON of the default run with that of
# -j 1 byte for byte (two more runs, not timed).
mbox_one=999 mbox_all=999 mbox_sis=999 mbox_file=999
for _ in $(seq "$ROUNDS"); do
	mbox_one=$(min "$mbox_one" "$(rblkit_mbox_pass 1 "$PIN" /dev/null)")
	mbox_all=$(min "$mbox_all" "$(rblkit_mbox_pass 0 "" /dev/null)")
	mbox_file=$(min "$mbox_file" "$(rblkit_mbox_pass 0 "" "$OUTF")")
	$PIN "$RBLKIT" diagnose -j 1 --json "$MBOX" >"$OUT1" || true
	"$RBLKIT" diagnose -j 0 --json "$MBOX" >"$OUT0" || true
	cmp -s "$OUT1" "$OUT0" || { echo "diagnose.sh: the mbox's JSON with threads differs from -j 1" >&2; exit 1; }
	out=$(sisimai_mbox_pass)
	mbox_sis=$(min "$mbox_sis" "${out% *}")
	mbox_recips=${out#* }
done
best_rblkit=$best_all
# start-up: one small message, the same options, best of ROUNDS
start=999
for _ in $(seq "$ROUNDS"); do
	t0=$EPOCHREALTIME
	"$RBLKIT" diagnose -j 0 --json "${FILES[0]}" >/dev/null || true
	t1=$EPOCHREALTIME
	start=$(min "$start" "$(echo "$t1 - $t0" | bc -l)")
done

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
[ "$MBOX_ONLY" = 1 ] || echo "$report"

mratio() { echo "scale=1; $mbox_sis / $1" | bc -l; }
mmb() { printf "%.2f" "$(echo "$MBOX_BYTES / $REPEAT / 1048576 / $1" | bc -l)"; }
mbox_report=$(cat <<EOT
The corpus $REPEAT times over as one mbox ($((N * REPEAT)) messages, $MBOX_BYTES bytes), one
run of each reader per round, time per pass (one corpus) = total / $REPEAT, best of $ROUNDS rounds.

| reader | CPUs | time per pass | messages/s | MB/s | vs sisimai |
|---|---|---|---|---|---|
| rblkit diagnose --json MBOX (default: a thread per CPU) | $NCPU | $(printf '%.4f' "$mbox_all") s | $(rate "$N" "$mbox_all") | $(mmb "$mbox_all") | **$(mratio "$mbox_all")x** |
| rblkit diagnose --json MBOX > FILE (default threads, the JSON written to a new file) | $NCPU | $(printf '%.4f' "$mbox_file") s | $(rate "$N" "$mbox_file") | $(mmb "$mbox_file") | $(mratio "$mbox_file")x |
| rblkit diagnose --json -j 1 MBOX | 1 (taskset -c 0) | $(printf '%.4f' "$mbox_one") s | $(rate "$N" "$mbox_one") | $(mmb "$mbox_one") | $(mratio "$mbox_one")x |
| sisimai (Sisimai->make MBOX, $mbox_recips records) | 1 (taskset -c 0) | $(printf '%.4f' "$mbox_sis") s | $(rate "$N" "$mbox_sis") | $(mmb "$mbox_sis") | 1x |

Target: 50x sisimai's messages/s on the mbox, the output byte for byte that
of -j 1 (compared in every round).  The JSON goes to /dev/null in the timed
runs, as in the files case (sisimai's make() writes nothing); written to a
file it costs the row "> FILE".  Threads vs -j 1 on the mbox:
$(printf '%.2f' "$(echo "$mbox_one / $mbox_all" | bc -l)")x$([ "$MBOX_ONLY" = 1 ] || printf '; mbox vs files (default threads), time per pass:\n%.2fx' "$(echo "$mbox_all / $best_all" | bc -l)").  Start-up of rblkit (one small message): $(printf '%.1f' "$(echo "$start * 1000" | bc -l)") ms
per run, $(printf '%.2f' "$(echo "$start * 1000 / $REPEAT" | bc -l)") ms per pass; the mbox with threads without it:
$(printf '%.1f' "$(echo "$mbox_sis / ($mbox_all - $start / $REPEAT)" | bc -l)")x.  Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg).
EOT
)
echo
echo "$mbox_report"

if [ "$WRITE" = 1 ]; then
	res=$REPO/bench/RESULTS.md
	block=$(printf '<!-- diagnose.sh results: begin (bench/diagnose.sh --write) -->\n## diagnose.sh results\nCommand: `bench/diagnose.sh %s` (%s, %s)\n\n%s\n<!-- diagnose.sh results: end -->' \
		"$ARGS" "$(date -u +%Y-%m-%d)" "$(uname -m), $(nproc) CPUs" "$report")
	mblock=$(printf '<!-- diagnose.sh mbox results: begin (bench/diagnose.sh --write) -->\n## diagnose.sh results: one large mbox\nCommand: `bench/diagnose.sh %s` (%s, %s)\n\n%s\n<!-- diagnose.sh mbox results: end -->' \
		"$ARGS" "$(date -u +%Y-%m-%d)" "$(uname -m), $(nproc) CPUs" "$mbox_report")
	BLOCK="$block" MBLOCK="$mblock" /usr/bin/python3 - "$res" <<'PYEOF'
import os, re, sys
path = sys.argv[1]
text = open(path).read()
new = os.environ["BLOCK"]
pat = re.compile(r"<!-- diagnose\.sh results: begin.*?<!-- diagnose\.sh results: end -->", re.S)
if not pat.search(text):
    sys.exit("diagnose.sh: no diagnose block in " + path)
text = pat.sub(lambda m: new, text, count=1)
# the mbox block: replaced where it is, else added at the end
mnew = os.environ["MBLOCK"]
mpat = re.compile(r"<!-- diagnose\.sh mbox results: begin.*?<!-- diagnose\.sh mbox results: end -->", re.S)
if mpat.search(text):
    text = mpat.sub(lambda m: mnew, text, count=1)
else:
    text = text.rstrip("\n") + "\n\n" + mnew + "\n"
open(path, "w").write(text)
PYEOF
	echo "(written to $res)"
fi
