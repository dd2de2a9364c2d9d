#!/usr/bin/env bash
# tend's MCP server with real clients: the official Python SDK (`mcp`) over stdio
# and streamable HTTP calls every tool against the demo company and checks the
# answers in the store (tools/mcp/check_clients.py), and the MCP Inspector's CLI
# lists the tools over HTTP.
#
#   tools/mcp_clients.sh
#
# Needs `mcp` in $TEND_CI_VENV and `npm ci` run in tools/mcp (.ci/run does both).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${TEND_CI_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tend-ci/venv}"
cargo build -q -p tend
tend="$PWD/target/debug/tend"
source tools/live_server.sh
live_work

export TEND_DATABASE_URL="sqlite:$work/mcp.db"
"$tend" demo >/dev/null 2>"$work/demo.log"
"$tend" risk refit >/dev/null 2>"$work/refit.log"
book="$(python3 - "$work/mcp.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT csm_owner FROM accounts WHERE csm_owner IS NOT NULL AND churned_on IS NULL "
    "GROUP BY csm_owner ORDER BY COUNT(*), csm_owner LIMIT 1"
).fetchone()[0])
PY
)"
echo "not a real password" | "$tend" user add "$book" --email "$book@example.com" --name "$book" --role csm --password-stdin >/dev/null 2>&1
export TEND_TOKEN_ADMIN="$("$tend" token create --role admin "mcp admin" 2>/dev/null)"
export TEND_TOKEN_CSM="$("$tend" token create --role csm --book "$book" "mcp csm" 2>/dev/null)"
export TEND_TOKEN_VIEWER="$("$tend" token create --role viewer "mcp viewer" 2>/dev/null)"
token_id() {
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT id FROM api_tokens WHERE name = ?", (sys.argv[2],)).fetchone()[0])' "$work/mcp.db" "$1"
}
export TEND_TOKEN_ID_ADMIN="$(token_id "mcp admin")" TEND_TOKEN_ID_CSM="$(token_id "mcp csm")" TEND_TOKEN_ID_VIEWER="$(token_id "mcp viewer")"

live_serve "$tend" --no-daily-playbooks
export TEND_BIN="$tend" TEND_DB="$work/mcp.db" TEND_URL="http://127.0.0.1:$port" TEND_BOOK="$book"
"$venv/bin/python" tools/mcp/check_clients.py

# The Inspector's CLI over HTTP, with a viewer's token.
tools/mcp/node_modules/.bin/mcp-inspector --cli "http://127.0.0.1:$port/mcp" --transport http \
    --header "Authorization: Bearer $TEND_TOKEN_VIEWER" --method tools/list >"$work/inspector.json"
python3 - "$work/inspector.json" <<'PY'
import json, sys
names = sorted(t["name"] for t in json.load(open(sys.argv[1]))["tools"])
print("MCP Inspector (CLI, HTTP) lists:", ", ".join(names))
if len(names) != 15 or "list_expansion" not in names:
    sys.exit("the Inspector did not list tend's fifteen tools")
PY
echo "MCP clients: every check passed"
