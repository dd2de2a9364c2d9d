#!/usr/bin/env bash
# Benchmarks of the foundation: demo generation at 500 and 20,000 accounts, and
# importing a 10-million-event JSON Lines file into SQLite and PostgreSQL.
# Prints wall time and peak resident memory (GNU time) for each run.
#
#   bench/run.sh                 # everything
#   EVENTS=1000000 bench/run.sh  # a smaller event file
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS="${EVENTS:-10000000}"
OUT="${OUT:-bench/out}"
PG_ADMIN="${TEND_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
mkdir -p "$OUT"

cargo build --release -p tend
TEND="$PWD/target/release/tend"
measure() { /usr/bin/time -f "    wall %e s, peak RSS %M KB" "$@"; }

echo "== tend demo"
for accounts in 500 20000; do
    rm -f "$OUT/demo-$accounts.db"*
    echo "  $accounts accounts:"
    measure "$TEND" --database-url "sqlite:$OUT/demo-$accounts.db" demo --accounts "$accounts" --as-of 2026-11-01 >/dev/null
done

events_file="$OUT/events-$EVENTS.jsonl"
if [ ! -f "$events_file" ]; then
    echo "== writing $events_file"
    python3 bench/gen_events.py "$events_file" "$EVENTS" 500
fi
echo "== import $EVENTS events ($(du -hL "$events_file" | cut -f1))"

echo "  SQLite:"
rm -f "$OUT/events.db"*
"$TEND" --database-url "sqlite:$OUT/events.db" demo --accounts 500 --as-of 2026-11-01 >/dev/null 2>&1
measure "$TEND" --database-url "sqlite:$OUT/events.db" import events "$events_file"

echo "  PostgreSQL:"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS tend_bench" -c "CREATE DATABASE tend_bench"
PG_URL="${PG_ADMIN%/*}/tend_bench"
"$TEND" --database-url "$PG_URL" demo --accounts 500 --as-of 2026-11-01 >/dev/null 2>&1
measure "$TEND" --database-url "$PG_URL" import events "$events_file"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS tend_bench"
