#!/bin/bash
# bench/diagnose.sh - `rblkit diagnose` against sisimai (Debian's
# libsisimai-perl) on the same bounce corpus, same machine, same run.
#
#   bench/diagnose.sh [--repeat N] [--write] [--corpus DIR]
#
# Both read every .eml file of the corpus (default tests/corpus/sisimai/eml,
# 433 bounces) and produce a per-recipient reading: rblkit with --json (the
# file list given N times to one process, output to /dev/null), sisimai
# with Sisimai->make on each file, N passes inside one perl process (module
# load time excluded: it happens before the clock starts).  The time per
# pass is the total divided by N (default 5).  Both are pinned to CPU 0.
#
# Output: messages/s and MB/s of each, and the ratio.  --write replaces the
# diagnose block of bench/RESULTS.md with the results and this command.
#
# Environment: RBLKIT (default <repo>/rblkit), PERL (default perl).
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
RBLKIT=${RBLKIT:-$REPO/rblkit}
PERL=${PERL:-perl}
CORPUS=$REPO/tests/corpus/sisimai/eml
REPEAT=5 WRITE=0 ARGS="$*"

while [ $# -gt 0 ]; do
	case $1 in
	--repeat) REPEAT=$2; shift 2 ;;
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
ARGS_R=()
for _ in $(seq "$REPEAT"); do ARGS_R+=("${FILES[@]}"); done
t0=$EPOCHREALTIME
$PIN "$RBLKIT" diagnose --json "${ARGS_R[@]}" >/dev/null
t1=$EPOCHREALTIME
best_rblkit=$(echo "($t1 - $t0) / $REPEAT" | bc -l)

# sisimai: the same files, REPEAT passes in one process, time per pass
best_sisimai=$($PIN $PERL -MSisimai -MTime::HiRes=time -e '
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
' "$REPEAT" "${FILES[@]}" 2>/dev/null)
sis_t=${best_sisimai% *}
sis_recips=${best_sisimai#* }

rate() { echo "scale=1; $1 / $2" | bc -l; }
mb() { echo "scale=2; $BYTES / 1048576 / $1" | bc -l; }
r_mps=$(rate "$N" "$best_rblkit"); s_mps=$(rate "$N" "$sis_t")
r_mbs=$(mb "$best_rblkit"); s_mbs=$(mb "$sis_t")
ratio=$(echo "scale=1; $sis_t / $best_rblkit" | bc -l)

report=$(cat <<EOT
Corpus: $N messages, $BYTES bytes (${CORPUS#"$REPO"/}), $REPEAT passes each, one CPU (taskset -c 0).

| reader | time per pass | messages/s | MB/s |
|---|---|---|---|
| rblkit diagnose --json | $(printf '%.3f' "$best_rblkit") s | $r_mps | $r_mbs |
| sisimai $($PERL -MSisimai -e 'print $Sisimai::VERSION') (Sisimai->make, $sis_recips records) | $(printf '%.3f' "$sis_t") s | $s_mps | $s_mbs |

rblkit is **${ratio}x** sisimai's throughput (target: 50x).
rblkit's time includes process start-up and loading the blocklist catalogue
(once), reading the files and the JSON output; sisimai's excludes loading
perl and its modules.  Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)
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
