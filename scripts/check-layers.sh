#!/bin/sh
# check-layers.sh - fail on an include that goes against the layers of
# src/lib (docs/architecture.md):
#
#	base  <-  dnsbl, store  <-  serve, policy, mail  <-  list, watch  <-  web  <-  src/cmd
#
# A file includes headers of its own part and of lower layers only, and
# names them from src/lib ("base/util.h", as Knot names "libknot/...").
# An upward or sideways include (dnsbl -> serve, policy -> mail) fails,
# and so does a project header named without its part.
# Usage: scripts/check-layers.sh  (from the top of the tree; make check-layers)
rank() {
	case $1 in
	base) echo 0 ;;
	dnsbl|store) echo 1 ;;
	serve|policy|mail) echo 2 ;;
	list|watch) echo 3 ;;
	web) echo 4 ;;
	cmd) echo 5 ;;
	*) echo 9 ;;
	esac
}
out=$(
for f in src/lib/*/*.[ch] src/cmd/*.[ch]; do
	part=$(basename "$(dirname "$f")")
	r=$(rank "$part")
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
	sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' |
	while read -r line inc; do
		case $inc in
		*/*)
			ipart=${inc%%/*}
			[ -e "src/lib/$inc" ] || { echo "$f:$line: \"$inc\" is not under src/lib"; continue; }
			ir=$(rank "$ipart")
			if [ "$ipart" != "$part" ] && [ "$ir" -ge "$r" ]; then
				echo "$f:$line: $part may not include \"$inc\" ($ipart is not below $part)"
			fi ;;
		*)
			# a command's own header (src/cmd/cmd.h) is local
			[ "$part" = cmd ] && [ -e "src/cmd/$inc" ] && continue
			echo "$f:$line: \"$inc\": name a project header from src/lib (\"part/$inc\")" ;;
		esac
	done
done)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	echo "check-layers: $(printf '%s\n' "$out" | wc -l) include(s) against the layers"
	exit 1
fi
echo "check-layers: ok"
