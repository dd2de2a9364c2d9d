#!/usr/bin/env python3
"""The churn-risk model on the demo store with ACCOUNTS accounts, and tend's boosted
trees against scikit-learn's HistGradientBoostingClassifier (default settings) on
the same exported training matrix, in one run.

    pip install scikit-learn==1.5.2 pandas numpy
    python3 bench/risk_vs_sklearn.py [ACCOUNTS]      # default 100,000
    python3 bench/risk_vs_sklearn.py ACCOUNTS --fits-only   # step 5 again, on the files of a run

1. The store: the demo company, ACCOUNTS accounts and 30 months as of 2026-11-01
   (24 monthly training snapshots fit between the first usage and the horizon),
   built once under bench/data/.
2. `tend risk refit`, timed with GNU time (wall, peak RSS): training snapshots, the
   backtest of both kinds, the final fit, and scoring every active account.
3. `tend risk export`: the labelled training matrix as CSV.
4. One time split: the test fold is the rows of the last 6 training days; the
   training rows are those whose 180-day horizon ended by the first test day (no
   look-ahead), as tend's backtest splits.
5. On it, tend-stats' boosted trees (tend's defaults: 100 trees of depth 4, learning
   rate 0.1; the `reference_bench` example, release build) and
   `HistGradientBoostingClassifier()`: fit time, ROC AUC on the test fold, peak memory
   of each process.
"""
import json
import os
import resource
import subprocess
import sys
import time
from multiprocessing import Pool

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
ACCOUNTS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
FITS_ONLY = "--fits-only" in sys.argv
HORIZON_DAYS = 180
TEST_DAYS = 6


def run(args, **kw):
    print("$", " ".join(args), flush=True)
    return subprocess.run(args, check=True, cwd=ROOT, **kw)


def timed(args):
    """Runs `args` under GNU time; returns (wall seconds, peak RSS MiB, stdout)."""
    report = os.path.join(OUT, "time.txt")
    done = run(["/usr/bin/time", "-f", "%e %M", "-o", report] + args, capture_output=True, text=True)
    wall, kib = open(report).read().split()[-2:]
    return float(wall), int(kib) / 1024, done.stdout


def sklearn_fit(train_path, test_path):
    """In a process of its own, so that its peak memory is its own."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    train = pd.read_csv(train_path)
    test = pd.read_csv(test_path)
    x, y = train.iloc[:, 1:].to_numpy(np.float64), train.iloc[:, 0].to_numpy()
    started = time.perf_counter()
    model = HistGradientBoostingClassifier().fit(x, y)
    seconds = time.perf_counter() - started
    scores = model.predict_proba(test.iloc[:, 1:].to_numpy(np.float64))[:, 1]
    auc = roc_auc_score(test.iloc[:, 0].to_numpy(), scores)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "auc": auc, "iterations": int(model.n_iter_), "peak_rss_mib": peak}


def main():
    os.makedirs(OUT, exist_ok=True)
    if not FITS_ONLY:
        run(["cargo", "build", "-q", "--release", "-p", "tend"])
    run(["cargo", "build", "-q", "--release", "-p", "tend-stats", "--example", "reference_bench"])
    tend = os.path.join(ROOT, "target", "release", "tend")
    bench = os.path.join(ROOT, "target", "release", "examples", "reference_bench")
    paths = {name: os.path.join(OUT, f"risk-{name}-{ACCOUNTS}.csv") for name in ("train", "test")}
    if not FITS_ONLY:
        refit_and_export(tend, paths)
    fits(bench, paths)


def refit_and_export(tend, paths):
    db = os.environ.get("TEND_BENCH_DB", os.path.join(ROOT, "bench", "data", f"risk-{ACCOUNTS}.db"))
    env_db = ["--database-url", f"sqlite:{db}"]
    if not os.path.exists(db):
        os.makedirs(os.path.dirname(db), exist_ok=True)
        print(f"building the {ACCOUNTS:,}-account store (once)…", flush=True)
        run([tend] + env_db + ["demo", "--accounts", str(ACCOUNTS), "--months", "30",
                               "--as-of", "2026-11-01", "--health-days", "0"], stdout=subprocess.DEVNULL)
    subprocess.run(["cat", db], stdout=subprocess.DEVNULL, check=True)

    wall, peak, out = timed([tend] + env_db + ["risk", "refit"])
    print(out)
    print(f"tend risk refit: {wall:.1f} s, peak RSS {peak:,.0f} MiB", flush=True)

    matrix = os.path.join(OUT, f"risk-matrix-{ACCOUNTS}.csv")
    run([tend] + env_db + ["risk", "export", matrix])
    rows = pd.read_csv(matrix, parse_dates=["day"])
    days = sorted(rows["day"].unique())
    first_test = pd.Timestamp(days[-TEST_DAYS])
    test = rows[rows["day"] >= first_test]
    train = rows[rows["day"] + pd.Timedelta(days=HORIZON_DAYS) <= first_test]
    features = list(rows.columns[4:])
    for name, part in (("train", train), ("test", test)):
        part[["label"] + features].to_csv(paths[name], index=False, na_rep="")
    print(f"{len(rows):,} labelled rows on {len(days)} days, {len(features)} features; "
          f"train {len(train):,} rows ({int(train['label'].sum()):,} churned), "
          f"test {len(test):,} rows from {first_test.date()} ({int(test['label'].sum()):,} churned)", flush=True)
    json.dump({"seconds": wall, "peak_rss_mib": peak},
              open(os.path.join(OUT, f"risk-refit-{ACCOUNTS}.json"), "w"), indent=2)


def fits(bench, paths):
    ours = json.loads(run([bench, "boosting", paths["train"], paths["test"]],
                          capture_output=True, text=True).stdout)
    with Pool(1) as pool:
        theirs = pool.apply(sklearn_fit, (paths["train"], paths["test"]))
    print(f"tend-stats boosted trees: fit {ours['seconds']:.1f} s, AUC {ours['auc']:.4f}, "
          f"peak RSS {ours['peak_rss_kib'] / 1024:,.0f} MiB")
    print(f"HistGradientBoostingClassifier(): fit {theirs['seconds']:.1f} s "
          f"({theirs['iterations']} iterations), AUC {theirs['auc']:.4f}, "
          f"peak RSS {theirs['peak_rss_mib']:,.0f} MiB")
    print(f"fit time ratio tend / scikit-learn: {ours['seconds'] / theirs['seconds']:.2f}; "
          f"AUC difference tend − scikit-learn: {ours['auc'] - theirs['auc']:+.4f}")
    json.dump({"tend": ours, "sklearn": theirs},
              open(os.path.join(OUT, f"risk-vs-sklearn-{ACCOUNTS}.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
