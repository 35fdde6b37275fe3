#!/bin/sh
# make demo: serve the example zones on a loopback port, ask a few
# questions with dig, show the answers, stop the server.
set -e
cd "$(dirname "$0")"
BIN=${RBLKIT:-../rblkit}
PORT=${PORT:-$(( 20000 + $$ % 20000 ))}
command -v dig >/dev/null || { echo "demo: dig is missing: run 'make deps' (dnsutils)"; exit 1; }

$BIN serve -b 127.0.0.1/$PORT \
	bl.example:ip4set:bl.example.txt \
	dbl.example:dnset:dbl.example.txt 2>demo.log &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f demo.log' EXIT
i=0
until dig +short +time=1 +tries=1 -p $PORT @127.0.0.1 bl.example SOA >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 50 ] || { cat demo.log; exit 1; }; sleep 0.1
done
echo "rblkit serve is answering on 127.0.0.1 port $PORT (log: examples/demo.log)"
ask() {
	printf '\n$ dig -p %s @127.0.0.1 %s %s\n' "$PORT" "$1" "$2"
	out=$(dig +norec +noall +answer +comments -p $PORT @127.0.0.1 "$1" "$2" |
		grep -E 'status:|IN' | sed 's/;; ->>HEADER<<- opcode: QUERY, //')
	printf '%s\n' "$out"
}
ask 2.0.0.127.bl.example A          # RFC 5782 test point: listed
ask 1.0.0.127.bl.example A          # test point: not listed (NXDOMAIN)
ask 15.2.0.192.bl.example TXT       # listed address, TXT with the address
ask 9.100.51.198.bl.example ANY     # in a listed /24: its own A and TXT
ask 77.100.51.198.bl.example A      # excluded from that /24
ask 0.0.127.bl.example A            # empty non-terminal: NOERROR, no data
ask www.spam-sender.example.dbl.example TXT
ask bulk.example.dbl.example A      # *.bulk.example lists only subdomains: NODATA
printf '\n$ dig axfr bl.example (first lines)\n'
dig +tcp +noall +answer -p $PORT @127.0.0.1 bl.example AXFR | head -8

# The other side: is an address listed, and where? (rblkit check asks the
# demo server for both zones; the catalogue does not know them, so RFC 5782
# defaults apply, and each zone's test points are probed first.)
for target in 192.0.2.15 198.51.100.77; do
	printf '\n$ rblkit check --resolver 127.0.0.1:%s --zone bl.example %s\n' "$PORT" "$target"
	$BIN check --resolver 127.0.0.1:$PORT --zone bl.example --color never "$target" || true
done
printf '\n$ rblkit check --json ... 198.51.100.9 (first lines)\n'
$BIN check --resolver 127.0.0.1:$PORT --zone bl.example --json 198.51.100.9 | head -c 400 || true
echo
