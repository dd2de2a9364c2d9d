#!/usr/bin/env bash
# Expansion on the 100,000-account demo store with add-on contracts: the whitespace
# ranking of all accounts, the expansion signals and the expansion revenue report.
# Prints wall time and peak resident memory (GNU time) for each, three runs each.
#
#   bench/expansion.sh              # builds the store in bench/out if it is missing
#   STORE=/path/to/demo100k.db bench/expansion.sh
set -euo pipefail
cd "$(dirname "$0")/.."

OUT="${OUT:-bench/out}"
STORE="${STORE:-$OUT/demo-100k.db}"
mkdir -p "$OUT"

cargo build --release -p tend
TEND="$PWD/target/release/tend"
measure() { /usr/bin/time -f "    wall %e s, peak RSS %M KB" "$@"; }

if [ ! -f "$STORE" ]; then
    echo "== tend demo --accounts 100000 --months 12 (once)"
    "$TEND" --database-url "sqlite:$STORE" demo --accounts 100000 --months 12 \
        --as-of 2026-11-30 >/dev/null
fi
if [ ! -f "$STORE.addons" ]; then
    python3 bench/addon_contracts.py "$STORE" "$OUT/addon-contracts.csv"
    "$TEND" --database-url "sqlite:$STORE" import contracts "$OUT/addon-contracts.csv" >/dev/null
    touch "$STORE.addons"
fi

for run in 1 2 3; do
    echo "== run $run"
    echo "  whitespace of all accounts (the 20 best shown):"
    measure "$TEND" --database-url "sqlite:$STORE" expansion whitespace --limit 20 | head -3
    echo "  signals:"
    measure "$TEND" --database-url "sqlite:$STORE" expansion signals --limit 5 | head -2
    echo "  report of four quarters:"
    measure "$TEND" --database-url "sqlite:$STORE" expansion report | head -2
done
