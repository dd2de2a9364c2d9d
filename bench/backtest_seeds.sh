#!/usr/bin/env bash
# The forecast's backtest on demo companies of several seeds and sizes: one company is
# one draw of eight quarters, so calibration is judged over many. Prints each
# company's P10–P90 coverage and P50 / naive errors, then the pooled coverage.
#   bench/backtest_seeds.sh                        # sizes 500 2000 5000, seeds 42 1 2 3 4
#   SIZES="500" SEEDS="42 7" bench/backtest_seeds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out="${BENCH_OUT:-bench/out/backtest}"
sizes="${SIZES:-500 2000 5000}"
seeds="${SEEDS:-42 1 2 3 4}"
mkdir -p "$out"
tend="${CARGO_TARGET_DIR:-target}/release/tend"
cargo build --release -q -p tend
inside=0
tried=0
for size in $sizes; do
    for seed in $seeds; do
        db="$out/demo-$size-$seed.db"
        if [ ! -f "$db.ready" ]; then
            rm -f "$db" "$db-wal" "$db-shm"
            "$tend" --database-url "sqlite:$db" demo --accounts "$size" --seed "$seed" \
                --as-of 2026-12-01 --health-days 0 > /dev/null 2>&1
            touch "$db.ready"
        fi
        summary=$("$tend" --database-url "sqlite:$db" forecast --backtest | grep '^Actual inside')
        read -r got of < <(sed -E 's/^Actual inside P10–P90 in ([0-9]+) of ([0-9]+).*/\1 \2/' <<< "$summary")
        inside=$((inside + got))
        tried=$((tried + of))
        printf '%6s accounts, seed %3s: %s\n' "$size" "$seed" "${summary#Actual inside P10–P90 in }"
    done
done
echo "pooled: $inside of $tried quarters inside P10–P90 ($((100 * inside / tried))%)"
