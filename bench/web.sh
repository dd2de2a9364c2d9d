#!/usr/bin/env bash
# Server time per page of the web app on the 100,000-account demo store, by curl over
# loopback, signed in as the role that uses each page: every page once right after
# the server starts, then (once its start-up computation is done) each page REQUESTS
# times in a row; p50 and p95 of curl's total time (the server's time plus loopback).
#   bench/web.sh                 # builds the store once into bench/out/web/
#   REQUESTS=50 bench/web.sh     # p95 is the nearest rank: with 50, the third slowest
set -euo pipefail
cd "$(dirname "$0")/.."
out="${BENCH_OUT:-bench/out/web}"
requests="${REQUESTS:-20}"
mkdir -p "$out"
db="$out/tend100k.db"
tend=target/release/tend
cargo build --release -q -p tend
export TEND_DATABASE_URL="sqlite:$db"
if [ ! -f "$out/ready" ]; then
    rm -f "$db" "$db-wal" "$db-shm"
    /usr/bin/time -f "demo: %e s, %M KB" "$tend" demo --accounts 100000 --months 12 --as-of 2026-12-01 > /dev/null
    /usr/bin/time -f "risk refit: %e s, %M KB" "$tend" risk refit > /dev/null
    /usr/bin/time -f "playbooks run: %e s, %M KB" "$tend" playbooks run > /dev/null
    touch "$out/ready"
fi
# The CSM with the largest book, and the riskiest account in it.
read -r csm account < <(python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
csm = c.execute("SELECT csm_owner FROM accounts WHERE csm_owner IS NOT NULL GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1").fetchone()[0]
risky = c.execute("SELECT r.account_id FROM risk_snapshots r JOIN accounts a ON a.id = r.account_id WHERE r.target = 'churn' AND a.csm_owner = ? ORDER BY r.day DESC, r.probability DESC LIMIT 1", (csm,)).fetchone()
# Without a churn model (12 months are too short to learn one), the least healthy.
account = risky[0] if risky else c.execute("SELECT h.account_id FROM health_snapshots h JOIN accounts a ON a.id = h.account_id WHERE a.csm_owner = ? ORDER BY h.day DESC, h.overall LIMIT 1", (csm,)).fetchone()[0]
print(csm, account)
PY
)
password="bench password 2026"
for user in "$csm:csm" "bench.leader:leader" "bench.admin:admin"; do
    handle="${user%%:*}"
    role="${user##*:}"
    echo "$password" | "$tend" user add "$handle" --email "$handle@bench.example" --name "$handle" --role "$role" --password-stdin > /dev/null 2>&1 || true
done
port=18087
"$tend" serve --listen "127.0.0.1:$port" > "$out/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break
    sleep 0.2
done
sign_in() {
    curl -s -o /dev/null -c "$out/$1.jar" -d "email=$1@bench.example&password=$password&next=/app" \
        "http://127.0.0.1:$port/app/login"
}
# Every page as each role asks for it: who, path.
pages=(
    "$csm /app"
    "$csm /app/portfolio"
    "$csm /app/portfolio?band=red&sort=name"
    "$csm /app/portfolio?risk=high&renewal=90"
    "$csm /app/accounts/$account"
    "$csm /app/tasks"
    "$csm /app/renewals"
    "bench.leader /app/renewals"
    "bench.leader /app/metrics"
    "bench.leader /app/playbooks"
    "bench.admin /app/admin"
)
ask() {
    curl -s -o /dev/null -w "$3" -b "$out/$1.jar" "http://127.0.0.1:$port$2"
}
sign_in "$csm"
sign_in bench.leader
sign_in bench.admin
# First, every page once right after the server started: what the first person to
# open it waits for (it may compute what later requests find kept, while the server
# computes the whole portfolio's figures in the background).
declare -A first
for entry in "${pages[@]}"; do
    read -r who path <<< "$entry"
    first["$entry"]="$(ask "$who" "$path" '%{time_total}')"
done
# Then, once the start-up computation is done, each page $requests times in a row.
for _ in $(seq 1 600); do
    grep -q "figures of the whole portfolio are computed" "$out/serve.log" && break
    sleep 0.5
done
echo "100,000 accounts; each page once right after start (first), then $requests times in a row; CSM $csm, account $account"
echo "| signed in as | page | status | first ms | p50 ms | p95 ms | max ms |"
echo "|---|---|---|---|---|---|---|"
for entry in "${pages[@]}"; do
    read -r who path <<< "$entry"
    for _ in $(seq 1 "$requests"); do
        ask "$who" "$path" '%{http_code} %{time_total}\n'
    done | python3 -c '
import math, sys
rows = [l.split() for l in sys.stdin if l.strip()]
codes = ",".join(sorted({r[0] for r in rows}))
ms = sorted(float(r[1]) * 1000 for r in rows)
p = lambda q: ms[max(0, math.ceil(q * len(ms)) - 1)]  # nearest rank
print(f"| {sys.argv[1]} | `{sys.argv[2]}` | {codes} | {float(sys.argv[3]) * 1000:.1f} | {p(0.5):.1f} | {p(0.95):.1f} | {ms[-1]:.1f} |")
' "$who" "$path" "${first[$entry]}"
done
grep -o "figures of the whole portfolio are computed.*" "$out/serve.log" | sed 's/\x1b\[[0-9;]*m//g'
