#!/usr/bin/env python3
"""tend-stats against lifelines on the same generated data, in one run.

    pip install lifelines==0.30.0
    python3 bench/stats_vs_reference.py [ROWS]      # default 1,000,000

For each model: generate seeded data, fit it with lifelines (timed in-process, peak
memory from the child process that does it), fit it with tend-stats (the
`reference_bench` example, release build), and print both times, the ratio, peak
memory and the largest difference between the estimates.
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
ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000


def make_data(rows, covariates=5, seed=11):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, covariates))
    beta = np.linspace(-0.5, 0.5, covariates)
    t = rng.exponential(12.0 / np.exp(x @ beta))
    c = rng.uniform(0, 36, rows)
    df = pd.DataFrame(x, columns=[f"x{k + 1}" for k in range(covariates)])
    df.insert(0, "event", (t <= c).astype(int))
    df.insert(0, "duration", np.round(np.minimum(t, c), 3) + 0.001)
    return df


def lifelines_cox(path):
    from lifelines import CoxPHFitter

    df = pd.read_csv(path)
    started = time.perf_counter()
    cph = CoxPHFitter().fit(df, duration_col="duration", event_col="event")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "coefficients": list(cph.params_.values),
        "log_likelihood": cph.log_likelihood_,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def lifelines_km(path):
    from lifelines import KaplanMeierFitter

    df = pd.read_csv(path)
    started = time.perf_counter()
    kmf = KaplanMeierFitter().fit(df["duration"], df["event"])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "median": kmf.median_survival_time_,
        "last_survival": float(kmf.survival_function_.iloc[-1, 0]),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def in_child(function, path):
    # A fresh process per fit, so peak memory is that fit's alone.
    with Pool(1) as pool:
        return pool.apply(function, (path,))


def tend(model, path):
    command = ["cargo", "run", "--quiet", "--release", "-p", "tend-stats", "--example", "reference_bench", "--", model, path]
    return json.loads(subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout)


def main():
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"survival-{ROWS}.csv")
    if not os.path.exists(path):
        make_data(ROWS).to_csv(path, index=False)
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "tend-stats", "--example", "reference_bench"], cwd=ROOT, check=True)
    print(f"{ROWS:,} rows × 5 covariates ({path})")
    for model, reference in [("km", lifelines_km), ("cox", lifelines_cox)]:
        theirs = in_child(reference, path)
        ours = tend(model, path)
        ratio = theirs["seconds"] / ours["seconds"]
        if model == "cox":
            difference = max(abs(a - b) for a, b in zip(ours["coefficients"], theirs["coefficients"]))
            agreement = f"max |Δ coefficient| {difference:.2e}, log-likelihood {ours['log_likelihood']:.4f} vs {theirs['log_likelihood']:.4f}"
        else:
            agreement = f"median {ours['median']} vs {theirs['median']}, last S {ours['last_survival']:.6g} vs {theirs['last_survival']:.6g}"
        print(
            f"{model:>4}: lifelines {theirs['seconds']:.3f} s ({theirs['peak_rss_kib'] / 1024:.0f} MiB), "
            f"tend {ours['seconds']:.3f} s ({ours['peak_rss_kib'] / 1024:.0f} MiB), {ratio:.1f}× faster; {agreement}"
        )


if __name__ == "__main__":
    main()
