#!/usr/bin/env bash
# Server time per page of the web app on the 100,000-account demo store: each page
# asked for REQUESTS times in a row by curl over loopback, signed in as the role that
# uses it; p50 and p95 of curl's total time (the server's time plus loopback).
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
measure() {
    local who="$1" path="$2" n="${3:-$requests}"
    local first times=()
    # The first request after the server started is timed apart: it may compute
    # what later ones find kept.
    first="$(curl -s -o /dev/null -w '%{time_total}' -b "$out/$who.jar" "http://127.0.0.1:$port$path")"
    for _ in $(seq 1 "$n"); do
        times+=("$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -b "$out/$who.jar" "http://127.0.0.1:$port$path")")
    done
    printf '%s\n' "${times[@]}" | python3 -c '
import math, sys
rows = [l.split() for l in sys.stdin if l.strip()]
codes = ",".join(sorted({r[0] for r in rows}))
ms = sorted(float(r[1]) * 1000 for r in rows)
p = lambda q: ms[max(0, math.ceil(q * len(ms)) - 1)]  # nearest rank
print(f"| {sys.argv[1]} | `{sys.argv[2]}` | {codes} | {float(sys.argv[3]) * 1000:.1f} | {p(0.5):.1f} | {p(0.95):.1f} | {ms[-1]:.1f} |")
' "$who" "$path" "$first"
}
sign_in "$csm"
sign_in bench.leader
sign_in bench.admin
echo "100,000 accounts; the first request of each page, then $requests more; CSM $csm, account $account"
echo "| signed in as | page | status | first ms | p50 ms | p95 ms | max ms |"
echo "|---|---|---|---|---|---|---|"
measure "$csm" /app
measure "$csm" /app/portfolio
measure "$csm" "/app/portfolio?band=red&sort=name"
measure "$csm" "/app/portfolio?risk=high&renewal=90"
measure "$csm" "/app/accounts/$account"
measure "$csm" /app/tasks
measure "$csm" /app/renewals
measure bench.leader /app/renewals
measure bench.leader /app/metrics
measure bench.leader /app/playbooks
measure bench.admin /app/admin
