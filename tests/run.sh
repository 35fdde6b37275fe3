#!/bin/sh
# Run every test layer and print one total: "N passed, N failed".
#   unit tests (build/unit/test_*), fuzz corpus replays (build/replay/*),
#   integration tests (pytest, starting the real binary on loopback).
# BUILD names the build directory (build or build-asan).
BUILD=${BUILD:-build}
RBLKIT=${RBLKIT:-$PWD/$BUILD/rblkit}
export RBLKIT
total_pass=0
total_fail=0
add() { total_pass=$((total_pass + $1)); total_fail=$((total_fail + $2)); }

echo "== unit tests ($BUILD)"
for t in "$BUILD"/unit/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out" | tail -20
		echo "$(basename "$t"): crashed or printed no summary (exit $rc)"
		add 0 1
		continue
	fi
	printf '%s: %s\n' "$(basename "$t")" "$line"
	[ $rc -ne 0 ] && printf '%s\n' "$out" | grep -E 'FAIL' | head -20
	add "$(echo "$line" | cut -d' ' -f1)" "$(echo "$line" | cut -d' ' -f3)"
done

echo "== fuzz corpus replay ($BUILD)"
for r in "$BUILD"/replay/fuzz_*; do
	[ -x "$r" ] || continue
	name=$(basename "$r")
	dir=tests/fuzz/corpus/${name#fuzz_}
	if "$r" "$dir" >/tmp/rblkit-replay.$$ 2>&1; then
		echo "$name: $(tail -1 /tmp/rblkit-replay.$$)"
		add 1 0
	else
		tail -20 /tmp/rblkit-replay.$$
		echo "$name: FAILED"
		add 0 1
	fi
	rm -f /tmp/rblkit-replay.$$
done

# The integration tests mostly wait on the servers they start, so several
# run at once (pytest-xdist, Debian python3-pytest-xdist): TEST_JOBS=1 runs
# them one after another, as without xdist.
TEST_JOBS=${TEST_JOBS:-3}
par=
if [ "$TEST_JOBS" -gt 1 ] && /usr/bin/python3 -c 'import xdist' 2>/dev/null; then
	par="-n $TEST_JOBS"
fi
echo "== integration tests ($RBLKIT${par:+, $TEST_JOBS at once})"
out=$(/usr/bin/python3 -m pytest -q -rfE -p no:cacheprovider $par tests/integration 2>&1); rc=$?
printf '%s\n' "$out" | tail -40
p=$(printf '%s\n' "$out" | tail -1 | grep -oE '[0-9]+ passed' | cut -d' ' -f1)
f=$(printf '%s\n' "$out" | tail -1 | grep -oE '[0-9]+ (failed|error|errors)' | awk '{s+=$1} END {print s+0}')
p=${p:-0}; f=${f:-0}
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
add "$p" "$f"

echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
