#!/usr/bin/env bash
# Segment's official SDKs against tend serve: segment-analytics-python and
# @segment/analytics-node each send 257 calls (50 of them again, as a retry would)
# to a demo store, and the store must hold every call exactly once, tied to the
# right account, with nothing left waiting.
#
#   tools/sdk_clients.sh
#
# Needs segment-analytics-python in $TEND_CI_VENV and `npm ci` run in tools/sdk
# (.ci/run does both).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${TEND_CI_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tend-ci/venv}"
cargo build -q -p tend
tend="$PWD/target/debug/tend"
source tools/live_server.sh
live_work

export TEND_DATABASE_URL="sqlite:$work/sdk.db"
"$tend" demo --accounts 20 --months 3 >/dev/null 2>"$work/demo.log"
key="$("$tend" source create "sdk clients" 2>/dev/null)"
live_serve "$tend"
accounts="$(python3 - "$work/sdk.db" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT id FROM accounts ORDER BY id LIMIT 3")
print(",".join(r[0] for r in rows))
PY
)"
export TEND_URL="http://127.0.0.1:$port" TEND_WRITE_KEY="$key" TEND_ACCOUNTS="$accounts"
TEND_PREFIX=py "$venv/bin/python" tools/sdk/send_python.py
TEND_PREFIX=node node tools/sdk/send_node.mjs
# Each client's calls, checked in the store.
python3 - "$work/sdk.db" "$accounts" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
accounts = sys.argv[2].split(",")
failed = False
for prefix in ("py", "node"):
    def one(sql, *args):
        return db.execute(sql, args).fetchone()[0]
    like = prefix + "-%"
    stored = one("SELECT COUNT(*) FROM usage_events WHERE message_id LIKE ?", like)
    distinct = one("SELECT COUNT(DISTINCT message_id) FROM usage_events WHERE message_id LIKE ?", like)
    waiting = one("SELECT COUNT(*) FROM usage_pending WHERE user_id LIKE ?", like)
    wrong = sum(
        one("SELECT COUNT(*) FROM usage_events WHERE message_id = ? AND account_id <> ?",
            f"{prefix}-m{i}", accounts[i % len(accounts)])
        for i in range(200)
    )
    late = one("SELECT COUNT(*) FROM usage_events WHERE user_id = ? AND account_id = ?",
               prefix + "-late", accounts[0])
    print(f"{prefix}: {stored} events stored ({distinct} distinct), {waiting} waiting, "
          f"{wrong} on the wrong account, {late} of the late user on {accounts[0]}")
    if (stored, distinct, waiting, wrong, late) != (207, 207, 0, 0, 7):
        print(f"{prefix}: expected 207 events stored once, none waiting, none misplaced, "
              "7 of the late user (5 kept calls, the group and the identify)")
        failed = True
sys.exit(1 if failed else 0)
PY
echo "both SDKs: every acknowledged call stored exactly once"
