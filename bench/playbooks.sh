#!/usr/bin/env bash
# The daily playbook run over a big store: every signal and playbook evaluated on
# every account, tasks written. Run 1 starts from no tasks (every playbook fires on
# every account it applies to: the backlog of a first day); runs 2 and 3 are the
# steady daily run (nothing new fires; open tasks are checked for auto-close).
#
#   bench/playbooks.sh [STORE]
#
# STORE defaults to bench/data/work-100000.db, made with
#   tend --database-url sqlite:bench/data/work-100000.db demo --accounts 100000 --months 24 --health-days 1
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:-bench/data/work-100000.db}"
tend=target/release/tend
[ -x "$tend" ] || cargo build --release -q -p tend
[ -f "$db" ] || { echo "no store at $db (see the comment at the top)"; exit 1; }

python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""
DELETE FROM task_steps; DELETE FROM task_comments; DELETE FROM tasks;
DELETE FROM email_outbox; DELETE FROM playbook_runs;
""")
c.commit()
PY
for run in 1 2 3; do
    /usr/bin/time -f "run $run: %e s wall, %M KiB peak" \
        "$tend" --database-url "sqlite:$db" playbooks run 2>&1 | grep -v "^As of"
done
python3 - "$db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print("open tasks by playbook:", dict(c.execute(
    "SELECT playbook, COUNT(*) FROM tasks WHERE status IN ('open','in_progress','snoozed') GROUP BY playbook")))
PY
