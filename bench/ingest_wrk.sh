#!/usr/bin/env bash
# Live ingestion under load: wrk posts /v1/batch requests of 100 track calls from 8
# connections (8 concurrent clients) for SECONDS against `tend serve`, each answered
# only once its calls are committed; prints the calls/s acknowledged, request
# latency, the server's peak memory, and checks that the store holds every call.
# Meanwhile bench/health_latency.py measures, on accounts the load leaves alone, the
# time from a batch's acknowledgement to the account's new health in the API.
#
#   bench/ingest_wrk.sh [SECONDS] [sqlite|postgres] [health|task]
#
# (defaults 60, sqlite, health). With `task` the probe measures the time from a
# batch's acknowledgement to the task the probe playbook (bench/probe-playbooks)
# makes of it being readable through the API, with the shipped playbooks running on
# every change of the load too.
#
# The store is a fresh demo company of 10,000 accounts and 3 months (SQLite under
# bench/data/, or the PostgreSQL database TEND_BENCH_PG_URL, replaced).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
backend="${2:-sqlite}"
probe_kind="${3:-health}"
probe_args=()
serve_args=()
if [ "$probe_kind" = task ]; then
    probe_args=(--task probe)
    serve_args=(--no-daily-playbooks)
    export TEND_PLAYBOOKS="$PWD/bench/probe-playbooks"
fi
connections=8
cargo build -q --release -p tend
tend="$PWD/target/release/tend"
case "$backend" in
    sqlite)
        # The demo company is made once (bench/data/ingest-base.db, removed to remake
        # it) and copied for each run.
        mkdir -p bench/data
        rm -f bench/data/ingest.db bench/data/ingest.db-wal bench/data/ingest.db-shm
        if [ ! -f bench/data/ingest-base.db ]; then
            TEND_DATABASE_URL="sqlite:bench/data/ingest-base.db" \
                "$tend" demo --accounts 10000 --months 3 --health-days 1 >/dev/null 2>/tmp/tend-ingest-demo.log
        fi
        cp bench/data/ingest-base.db bench/data/ingest.db
        export TEND_DATABASE_URL="sqlite:bench/data/ingest.db" ;;
    postgres)
        export TEND_DATABASE_URL="${TEND_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/tend_bench_ingest}"
        base="${TEND_DATABASE_URL%/*}/postgres"
        name="${TEND_DATABASE_URL##*/}"
        psql "$base" -qc "DROP DATABASE IF EXISTS $name" -qc "CREATE DATABASE $name" ;;
    *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac
if [ "$backend" = postgres ]; then
    "$tend" demo --accounts 10000 --months 3 --health-days 1 >/dev/null 2>/tmp/tend-ingest-demo.log
fi
export TEND_BENCH_WRITE_KEY="$("$tend" source create "wrk benchmark" 2>/dev/null)"
probe_token="$("$tend" token create "latency probe" --role viewer 2>/dev/null)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TEND_LOG="${TEND_LOG:-warn}" "$tend" serve --listen "127.0.0.1:$port" "${serve_args[@]}" 2>/tmp/tend-ingest-serve.log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/readyz', timeout=1)" 2>/dev/null && break
    sleep 0.1
done
echo "== $backend: POST /v1/batch (100 track calls), $connections connections, ${seconds} s"
# The load covers ACC-00001…ACC-09900; the last 100 accounts are the probe's.
python3 bench/health_latency.py "http://127.0.0.1:$port" "$TEND_BENCH_WRITE_KEY" "$probe_token" \
    9901 10000 "$((seconds - 2))" "${probe_args[@]}" >/tmp/tend-ingest-probe.log 2>&1 &
probe=$!
TEND_BENCH_ACCOUNTS=9900 wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s \
    -s bench/ingest_wrk.lua "http://127.0.0.1:$port" | tail -n 2
wait "$probe" || true
cat /tmp/tend-ingest-probe.log
awk '/VmHWM/ {printf "server peak RSS %.0f MiB\n", $2 / 1024}' "/proc/$server/status"
# Every acknowledged call is stored (calls in flight when wrk stopped may be too).
count="SELECT COUNT(*) FROM usage_events WHERE message_id LIKE 'w%'"
case "$backend" in
    sqlite) stored="$(python3 -c "import sqlite3; print(sqlite3.connect('bench/data/ingest.db').execute(\"$count\").fetchone()[0])")" ;;
    postgres) stored="$(psql "$TEND_DATABASE_URL" -Atc "$count")" ;;
esac
echo "calls stored: $stored"
