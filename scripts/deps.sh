#!/bin/sh
# Install what rblkit needs to build and test, from Debian's archive.
# Idempotent: installs only what is missing. Not root: prints the command.
set -e
# "build": enough to build and run the demo; "test" (default): everything
# the tests and benchmarks use.
PKGS="build-essential zlib1g-dev libunbound-dev libpsl-dev publicsuffix dnsutils libsqlite3-dev libpq-dev libmicrohttpd-dev libsodium-dev libssl-dev"
if [ "${1:-test}" = test ]; then
	PKGS="$PKGS python3-dnspython python3-pytest python3-pytest-xdist rbldnsd nsd knot knot-dnsutils dnsperf clang libclang-rt-14-dev curl \
		postfix swaks libsisimai-perl monitoring-plugins-contrib policyd-weight bc \
		unbound libcapture-tiny-perl libdata-validate-domain-perl libdata-validate-ip-perl \
		libmonitoring-plugin-perl libreadonly-perl libnet-ip-perl postgresql sqlite3 \
		python3-selenium chromium chromium-driver wrk redis-server"
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
# postfix: no questions, no configuration (the tests write their own)
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections 2>/dev/null || true
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts the nsd, knot, rbldnsd, unbound, postfix and policyd-weight services where it can; the tests
# start their own instances on random ports, so stop any that started.
pkill -x nsd 2>/dev/null || true
pkill -x knotd 2>/dev/null || true
pkill -x rbldnsd 2>/dev/null || true
pkill -x unbound 2>/dev/null || true
pkill -x redis-server 2>/dev/null || true
pkill -f policyd-weight 2>/dev/null || true
# the tests start their own PostgreSQL clusters (initdb in a temporary directory)
command -v pg_ctlcluster >/dev/null 2>&1 && pg_ctlcluster 15 main stop 2>/dev/null || true
[ -x /usr/sbin/postfix ] && /usr/sbin/postfix stop >/dev/null 2>&1 || true
echo "deps: installed:$missing"
