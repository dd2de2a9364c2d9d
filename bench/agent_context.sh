#!/usr/bin/env bash
# get_customer_context over MCP on the 500-account demo portfolio: latency and size.
#
#   bench/agent_context.sh            (CALLS=50 calls per case)
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${TEND_CI_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tend-ci/venv}"
cargo build -q --release -p tend
tend="$PWD/target/release/tend"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
export TEND_DATABASE_URL="sqlite:$work/bench.db"
"$tend" demo >/dev/null 2>&1
"$tend" risk refit >/dev/null 2>&1
book="$(sqlite3 "$work/bench.db" "SELECT csm_owner FROM accounts WHERE csm_owner IS NOT NULL GROUP BY csm_owner ORDER BY COUNT(*) DESC LIMIT 1")"
export TEND_ACCOUNT="$(sqlite3 "$work/bench.db" "SELECT id FROM accounts WHERE csm_owner = '$book' ORDER BY id LIMIT 1")"
export TEND_TOKEN_ADMIN="$("$tend" token create --role admin "bench admin" 2>/dev/null)"
export TEND_TOKEN_CSM="$("$tend" token create --role csm --book "$book" "bench csm" 2>/dev/null)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TEND_LOG=warn "$tend" serve --listen "127.0.0.1:$port" --no-daily-playbooks 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 1 100); do
    python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/readyz', timeout=1)" 2>/dev/null && break
    sleep 0.1
done
echo "book: $book ($(sqlite3 "$work/bench.db" "SELECT COUNT(*) FROM accounts WHERE csm_owner = '$book' OR am_owner = '$book'") accounts)"
TEND_URL="http://127.0.0.1:$port" "$venv/bin/python" bench/agent_context.py
