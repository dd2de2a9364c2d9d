#!/usr/bin/env bash
# get_customer_context over MCP on the 500-account demo portfolio: latency and size.
#
#   bench/agent_context.sh            (CALLS=50 calls per case)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${TEND_CI_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tend-ci/venv}"
cargo build -q --release -p tend
tend="$PWD/target/release/tend"
source tools/live_server.sh
live_work
export TEND_DATABASE_URL="sqlite:$work/bench.db"
"$tend" demo >/dev/null 2>&1
"$tend" risk refit >/dev/null 2>&1
book="$(sqlite3 "$work/bench.db" "SELECT csm_owner FROM accounts WHERE csm_owner IS NOT NULL AND churned_on IS NULL GROUP BY csm_owner ORDER BY COUNT(*) DESC LIMIT 1")"
export TEND_ACCOUNT="$(sqlite3 "$work/bench.db" "SELECT id FROM accounts WHERE csm_owner = '$book' ORDER BY id LIMIT 1")"
export TEND_TOKEN_ADMIN="$("$tend" token create --role admin "bench admin" 2>/dev/null)"
export TEND_TOKEN_CSM="$("$tend" token create --role csm --book "$book" "bench csm" 2>/dev/null)"
live_serve "$tend" --no-daily-playbooks
echo "book: $book ($(sqlite3 "$work/bench.db" "SELECT COUNT(*) FROM accounts WHERE (csm_owner = '$book' OR am_owner = '$book') AND churned_on IS NULL") accounts)"
TEND_URL="http://127.0.0.1:$port" "$venv/bin/python" bench/agent_context.py
