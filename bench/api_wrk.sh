#!/usr/bin/env bash
# `tend serve` under load: wrk against the 100,000-account demo store, one route at a
# time, paced to about RATE requests/s for SECONDS, with latency percentiles, errors
# and the server's resident memory sampled through the run.
#
#   bench/api_wrk.sh [SECONDS] [RATE]          (defaults 60 and 1000)
#
# The store is built once under bench/data/ (or TEND_BENCH_DB): the demo company with
# 100,000 accounts, 12 months, health scored on its last 31 days (so the picture
# explains from stored snapshots, as on a server that has run a month).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
rate="${2:-1000}"
# Each connection waits 25 ms after every answer; with answers of a couple of ms,
# RATE × 27 ms of connections offer about RATE requests/s (wrk prints the rate met).
pace_ms=25
connections="${TEND_BENCH_CONNECTIONS:-$(( (rate * 27 + 999) / 1000 ))}"
db="${TEND_BENCH_DB:-bench/data/api-100000.db}"
cargo build -q --release -p tend
tend="$PWD/target/release/tend"
export TEND_DATABASE_URL="sqlite:$db"
if [ ! -f "$db" ]; then
    mkdir -p "$(dirname "$db")"
    echo "building the 100,000-account store (once)…"
    "$tend" demo --accounts 100000 --months 12 --as-of 2026-11-01 --health-days 31 >/dev/null
fi
# Warm: the file in the OS cache, as on a server that has been running.
cat "$db" > /dev/null
export TEND_BENCH_TOKEN="$("$tend" token create "wrk benchmark" --role viewer --expires-in-days 1 2>/dev/null)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TEND_LOG=warn "$tend" serve --listen "127.0.0.1:$port" 2>/tmp/tend-bench-serve.log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/readyz', timeout=1)" 2>/dev/null && break
    sleep 0.1
done
rss() { awk '/VmRSS/ {r = $2} /RssAnon/ {a = $2} END {printf "%.0f/%.0f", r / 1024, a / 1024}' "/proc/$server/status"; }
hwm() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$server/status"; }

for path in "/api/v1/accounts/{id}" "/api/v1/health?limit=50"; do
    echo "== GET $path, $connections connections paced at ${pace_ms} ms (about $rate/s), ${seconds} s"
    # Warm-up, then the measured run with memory sampled every 10 s.
    TEND_BENCH_PATH="$path" TEND_BENCH_PACE_MS="$pace_ms" wrk -t2 -c"$connections" -d15s \
        -s bench/api_wrk.lua "http://127.0.0.1:$port" >/dev/null
    samples="$(rss)"
    ( for _ in $(seq 10 10 "$seconds"); do sleep 10; printf ' %s' "$(rss)"; done ) > /tmp/tend-bench-rss &
    sampler=$!
    TEND_BENCH_PATH="$path" TEND_BENCH_PACE_MS="$pace_ms" wrk -t2 -c"$connections" -d"${seconds}s" \
        -s bench/api_wrk.lua "http://127.0.0.1:$port" | tail -n 2
    wait "$sampler" || true
    echo "server RSS/anonymous MiB at start and every 10 s: $samples$(cat /tmp/tend-bench-rss); peak $(hwm)"
done
