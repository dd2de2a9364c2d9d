#!/usr/bin/env python3
"""tend-stats against lifelines, lifetimes and scikit-learn on the same generated
data, in one run.

    pip install lifelines==0.30.0 lifetimes==0.11.3 scikit-learn==1.5.2
    python3 bench/stats_vs_reference.py [ROWS]      # default 1,000,000

For each model (Kaplan-Meier and Cox PH on ROWS rows x 5 covariates, BG/NBD on ROWS
customers, logistic regression on ROWS rows x 20 features): generate seeded data,
fit it with the reference (timed in-process, peak memory from the child process that
does it), fit it with tend-stats (the `reference_bench` example, release build), and
print both times, the ratio, peak memory and the largest difference between the
estimates.
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


def make_bgnbd_data(rows, seed=1):
    """Customers drawn from the BG/NBD model itself, ages of 30 to 365 days."""
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 366, size=rows).astype(float)
    lam = rng.gamma(0.25, 1.0 / 4.0, size=rows)
    p = rng.beta(0.8, 2.5, size=rows)
    purchases = rng.poisson(lam * T)
    x = np.minimum(purchases, rng.geometric(p))
    tx = np.zeros(rows)
    pos = x > 0
    tx[pos] = T[pos] * rng.beta(x[pos], purchases[pos] - x[pos] + 1)
    return pd.DataFrame({"frequency": x, "recency": np.round(tx, 2), "T": T})


def make_classification_data(rows, features=20, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    beta = np.linspace(-1.0, 1.0, features)
    label = rng.uniform(size=rows) < 1.0 / (1.0 + np.exp(-(x @ beta - 1.0)))
    df = pd.DataFrame(np.round(x, 6), columns=[f"x{k + 1}" for k in range(features)])
    df.insert(0, "label", label.astype(int))
    return df


def lifetimes_bgnbd(path):
    from lifetimes import BetaGeoFitter

    df = pd.read_csv(path)
    started = time.perf_counter()
    bgf = BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "params": [float(bgf.params_[k]) for k in ["r", "alpha", "a", "b"]],
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def sklearn_logistic(path):
    from sklearn.linear_model import LogisticRegression

    df = pd.read_csv(path)
    x = df.drop(columns="label").values
    y = df["label"].values
    started = time.perf_counter()
    model = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000).fit(x, y)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "coefficients": list(model.coef_[0]) + [float(model.intercept_[0])],
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


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


def csv_file(name, make):
    path = os.path.join(OUT, f"{name}-{ROWS}.csv")
    if not os.path.exists(path):
        make(ROWS).to_csv(path, index=False)
    return path


def agreement(model, ours, theirs):
    if model == "cox":
        difference = max(abs(a - b) for a, b in zip(ours["coefficients"], theirs["coefficients"]))
        return f"max |Δ coefficient| {difference:.2e}, log-likelihood {ours['log_likelihood']:.4f} vs {theirs['log_likelihood']:.4f}"
    if model == "km":
        return f"median {ours['median']} vs {theirs['median']}, last S {ours['last_survival']:.6g} vs {theirs['last_survival']:.6g}"
    if model == "bgnbd":
        difference = max(abs(a / b - 1) for a, b in zip(ours["params"], theirs["params"]))
        return f"max relative |Δ parameter| {difference:.2e} (r, α, a, b = {', '.join(f'{p:.4f}' for p in ours['params'])})"
    difference = max(abs(a - b) for a, b in zip(ours["coefficients"], theirs["coefficients"]))
    return f"max |Δ coefficient| {difference:.2e}"


def main():
    os.makedirs(OUT, exist_ok=True)
    survival = csv_file("survival", make_data)
    customers = csv_file("bgnbd", make_bgnbd_data)
    classification = csv_file("classification", make_classification_data)
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "tend-stats", "--example", "reference_bench"], cwd=ROOT, check=True)
    print(f"{ROWS:,} rows each: survival × 5 covariates, BG/NBD customers, classification × 20 features")
    for model, reference, path, name in [
        ("km", lifelines_km, survival, "lifelines"),
        ("cox", lifelines_cox, survival, "lifelines"),
        ("bgnbd", lifetimes_bgnbd, customers, "lifetimes"),
        ("logistic", sklearn_logistic, classification, "sklearn lbfgs"),
    ]:
        theirs = in_child(reference, path)
        ours = tend(model, path)
        ratio = theirs["seconds"] / ours["seconds"]
        print(
            f"{model:>8}: {name} {theirs['seconds']:.3f} s ({theirs['peak_rss_kib'] / 1024:.0f} MiB), "
            f"tend {ours['seconds']:.3f} s ({ours['peak_rss_kib'] / 1024:.0f} MiB), {ratio:.1f}× faster; "
            f"{agreement(model, ours, theirs)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
