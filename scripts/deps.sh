#!/bin/sh
# Install what rblkit needs to build and test, from Debian's archive.
# Idempotent: installs only what is missing. Not root: prints the command.
set -e
# "build": enough to build and run the demo; "test" (default): everything
# the tests and benchmarks use.
PKGS="build-essential zlib1g-dev dnsutils"
if [ "${1:-test}" = test ]; then
	PKGS="$PKGS python3-dnspython python3-pytest rbldnsd nsd knot knot-dnsutils dnsperf clang libclang-rt-14-dev curl"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && { echo "deps: all present"; exit 0; }
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing"
	echo "deps: run as root: apt-get update && apt-get install -y$missing"
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts the nsd, knot and rbldnsd services where it can; the tests
# start their own instances on random ports, so stop any that started.
pkill -x nsd 2>/dev/null || true
pkill -x knotd 2>/dev/null || true
pkill -x rbldnsd 2>/dev/null || true
echo "deps: installed:$missing"
