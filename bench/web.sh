#!/bin/bash
# bench/web.sh - `rblkit web` under load, in one run, on loopback:
#
#   bench/web.sh [--entries N] [--duration S] [--keep]
#
#   (a) a store of N listed IPv4 addresses (default 1,000,000; imported with
#       `rblkit list import`), published by `rblkit serve ZONE:store:DSN`,
#       looked up through `rblkit web` (4 threads):
#       - lookup pages /?q=ADDR and API lookups /api/v1/lookup: the most
#         per second (wrk -t2 -c32, random listed and unlisted addresses);
#       - the same at about 1,000 requests/s (wrk, 10 connections each
#         waiting 10 ms between requests): p50 / p99 latency;
#       - the lookup pages over HTTPS served by the portal itself (tls_cert,
#         a self-signed RSA-2048 certificate; a second instance on the same
#         store), keep-alive connections, when openssl is there;
#   (b) removal to NXDOMAIN: 20 listed addresses removed through POST
#       /remove; the page answers only once serve answers NXDOMAIN, so the
#       page's time is the removal's time to DNS; each is checked with dig
#       afterwards.
# Goals (issue 13): p99 under 20 ms at 1,000 req/s, >= 5,000 lookups/s,
# removal to NXDOMAIN under 1 s.
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH")
RBLKIT=${RBLKIT:-$REPO/rblkit}
N=1000000 DUR=10 KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--entries) N=$2; shift 2 ;;
	--duration) DUR=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: bench/web.sh [--entries N] [--duration S] [--keep]" >&2; exit 2 ;;
	esac
done
command -v wrk >/dev/null || { echo "wrk missing (apt-get install wrk)" >&2; exit 1; }

D=$(mktemp -d /tmp/rblkit-bench-web.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ "$KEEP" = 1 ] && echo "kept $D" || rm -rf "$D"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

DSN="sqlite:$D/list.db"
ZONE=bl.bench
echo "== store: $N entries"
python3 - "$N" > "$D/data.txt" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    v = 0x0a000000 + i * 3          # 10.0.0.0/8, every third address listed
    print(f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}")
PY
t0=$(date +%s.%N)
"$RBLKIT" list --store "$DSN" import "$ZONE" "$D/data.txt" --ttl 30d >/dev/null
t1=$(date +%s.%N)
echo "import: $(echo "$t1 - $t0" | bc) s"

DNSP=$(port) WEBP=$(port)
"$RBLKIT" serve -n -b "127.0.0.1/$DNSP" "$ZONE:store:$DSN" 2>"$D/serve.log" &
PIDS+=($!)
cat > "$D/web.conf" <<CONF
listen = 127.0.0.1:$WEBP
store = $DSN
dns = 127.0.0.1:$DNSP
zones = $ZONE
threads = 4
rate_client = 1000000
rate_net = 1000000
CONF
for i in $(seq 100); do
	dig +short +time=1 +tries=1 -p "$DNSP" @127.0.0.1 "$ZONE" SOA >/dev/null 2>&1 && break
	sleep 0.2
done
KEY=$("$RBLKIT" web --config "$D/web.conf" --add-key bench --scopes lookup)
"$RBLKIT" web --config "$D/web.conf" 2>"$D/web.log" &
PIDS+=($!)
for i in $(seq 100); do curl -sf "http://127.0.0.1:$WEBP/style.css" >/dev/null && break; sleep 0.1; done

cat > "$D/page.lua" <<LUA
math.randomseed(os.time())
request = function()
  local v = 0x0a000000 + math.random(0, $N * 3 - 1)
  -- wrk's LuaJIT has no bit operators: arithmetic
  local a = string.format("%d.%d.%d.%d", math.floor(v / 16777216), math.floor(v / 65536) % 256,
                          math.floor(v / 256) % 256, v % 256)
  return wrk.format("GET", PATH .. a)
end
LUA
sed -i '1i PATH = "/?q="' "$D/page.lua"
sed 's|^PATH = .*|PATH = "/api/v1/lookup?q="\nwrk.headers["Authorization"] = "Bearer '"$KEY"'"|' \
	"$D/page.lua" > "$D/api.lua"
for f in page api; do
	cp "$D/$f.lua" "$D/${f}_paced.lua"
	echo 'function delay() return 10 end' >> "$D/${f}_paced.lua"
done

run() {  # name script threads conns [base URL]
	local out
	out=$(wrk -t"$3" -c"$4" -d"${DUR}s" --latency -s "$2" "${5:-http://127.0.0.1:$WEBP/}")
	local rps p50 p99 errs
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	errs=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	printf "%-28s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n" "$1" "$rps" "$p50" "$p99" "${errs:-0}"
}
echo "== (a) lookups, $DUR s each"
run "pages, most" "$D/page.lua" 2 32
run "API, most" "$D/api.lua" 2 32
run "pages, ~1000/s" "$D/page_paced.lua" 2 10
run "API, ~1000/s" "$D/api_paced.lua" 2 10
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-keyout "$D/tls.key" -out "$D/tls.pem" 2>/dev/null
	WEBS=$(port)
	sed "s|^listen = .*|listen = 127.0.0.1:$WEBS|" "$D/web.conf" > "$D/web-tls.conf"
	printf 'tls_cert = %s\ntls_key = %s\n' "$D/tls.pem" "$D/tls.key" >> "$D/web-tls.conf"
	"$RBLKIT" web --config "$D/web-tls.conf" 2>"$D/web-tls.log" &
	PIDS+=($!)
	for i in $(seq 100); do curl -sfk "https://127.0.0.1:$WEBS/style.css" >/dev/null && break; sleep 0.1; done
	run "pages over HTTPS, most" "$D/page.lua" 2 32 "https://127.0.0.1:$WEBS/"
fi

echo "== (b) removal to NXDOMAIN, 20 removals"
python3 - "$WEBP" "$DNSP" "$ZONE" <<'PY'
import re, subprocess, sys, time, urllib.parse, urllib.request, http.cookiejar
webp, dnsp, zone = sys.argv[1], sys.argv[2], sys.argv[3]
jar = http.cookiejar.CookieJar()
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
op.open(f"http://127.0.0.1:{webp}/").read()
tok = [c.value for c in jar if c.name == "csrf"][0]
times, bad = [], 0
for i in range(20):
    v = 0x0a000000 + (1000 + i) * 3
    a = f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"
    body = urllib.parse.urlencode({"zone": zone, "q": a, "csrf": tok}).encode()
    t = time.monotonic()
    page = op.open(f"http://127.0.0.1:{webp}/remove", body).read().decode()
    dt = time.monotonic() - t
    rev = ".".join(reversed(a.split("."))) + "." + zone
    out = subprocess.run(["dig", "+time=1", "+tries=1", "-p", dnsp, "@127.0.0.1", rev, "A"],
                         capture_output=True, text=True).stdout
    if "now answers: not listed" not in page or "NXDOMAIN" not in out:
        bad += 1
    times.append(dt)
times.sort()
print(f"removal -> NXDOMAIN: median {times[10]*1000:.0f} ms, max {times[-1]*1000:.0f} ms, "
      f"{bad} of 20 not confirmed")
PY
