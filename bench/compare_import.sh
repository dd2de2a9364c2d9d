#!/usr/bin/env bash
# The 10-million-event SQLite import, this build against an earlier revision, in one
# sitting: each build into a fresh copy of the 500-account demo store, alternating.
# The machine's speed drifts between days, so only the ratio of one sitting counts.
#
#   bench/compare_import.sh REVISION [ROUNDS]     # e.g. bench/compare_import.sh 7ce96dc 2
set -euo pipefail
cd "$(dirname "$0")/.."

REV="${1:?usage: bench/compare_import.sh REVISION [ROUNDS]}"
ROUNDS="${2:-2}"
OUT="${OUT:-bench/out}"
EVENTS="${EVENTS:-10000000}"
events_file="$OUT/events-$EVENTS.jsonl"
mkdir -p "$OUT"
[ -f "$events_file" ] || python3 bench/gen_events.py "$events_file" "$EVENTS" 500

old_tree="$OUT/tree-$REV"
[ -d "$old_tree" ] || git worktree add -q "$old_tree" "$REV"
CARGO_TARGET_DIR="$OUT/target-$REV" cargo build --release -p tend --manifest-path "$old_tree/Cargo.toml"
cargo build --release -p tend
OLD="$OUT/target-$REV/release/tend"
NEW="$PWD/target/release/tend"

for round in $(seq 1 "$ROUNDS"); do
    for build in "$REV:$OLD" "this:$NEW"; do
        name="${build%%:*}"; tend="${build#*:}"
        rm -f "$OUT/compare.db"*
        "$tend" --database-url "sqlite:$OUT/compare.db" demo --accounts 500 --as-of 2026-11-01 >/dev/null 2>&1
        echo "round $round, $name:"
        /usr/bin/time -f "    wall %e s, peak RSS %M KB" \
            "$tend" --database-url "sqlite:$OUT/compare.db" import events "$events_file"
    done
done
rm -f "$OUT/compare.db"*
