#!/usr/bin/env python3
"""Reference numbers for tend-stats, computed by the reference libraries.

    pip install lifelines==0.30.0
    python3 tools/make_stats_fixtures.py

Writes crates/tend-stats/tests/fixtures/*.json. The Rust tests compare tend's results
with these; rerun this script only to add cases.
"""
import json
import pathlib

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_waltons
from lifelines.statistics import logrank_test, multivariate_logrank_test

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "tend-stats" / "tests" / "fixtures"
OUT.mkdir(parents=True, exist_ok=True)


def finite(values):
    """JSON has no NaN or infinity: write them as null / strings."""
    out = []
    for v in values:
        v = float(v)
        if np.isnan(v):
            out.append(None)
        elif np.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(v)
    return out


def km_case(name, durations, observed, alpha=0.05, at=()):
    kmf = KaplanMeierFitter(alpha=alpha).fit(durations, event_observed=observed)
    ci = kmf.confidence_interval_survival_function_
    return {
        "name": name,
        "durations": finite(durations),
        "observed": [bool(o) for o in observed],
        "alpha": alpha,
        "timeline": finite(kmf.timeline),
        "survival": finite(kmf.survival_function_.iloc[:, 0].values),
        "lower": finite(ci.iloc[:, 0].values),
        "upper": finite(ci.iloc[:, 1].values),
        "median": finite([kmf.median_survival_time_])[0],
        "at": finite(at),
        "survival_at": finite(kmf.survival_function_at_times(list(at)).values) if len(at) else [],
    }


def main():
    waltons = load_waltons()
    rng = np.random.default_rng(20261121)
    cases = [
        km_case("waltons", waltons["T"].values, waltons["E"].values, at=[0, 5.5, 30, 56, 75, 100]),
        km_case(
            "waltons-control-alpha-0.1",
            waltons[waltons["group"] == "control"]["T"].values,
            waltons[waltons["group"] == "control"]["E"].values,
            alpha=0.1,
            at=[10, 40],
        ),
    ]
    # Seeded synthetic data with many ties and heavy censoring.
    n = 500
    durations = np.round(rng.exponential(24.0, n)).astype(float) + 1.0
    censor = np.round(rng.uniform(1, 48, n))
    observed = durations <= censor
    durations = np.minimum(durations, censor)
    cases.append(km_case("synthetic-ties", durations, observed, at=[1, 12, 24, 47.5]))
    # Nobody dies: the median is never reached.
    cases.append(km_case("all-censored", np.array([3.0, 5.0, 8.0]), np.array([False, False, False]), at=[4]))
    (OUT / "kaplan_meier.json").write_text(json.dumps(cases, indent=1))

    control = waltons["group"] == "control"
    two = logrank_test(
        waltons[control]["T"], waltons[~control]["T"], waltons[control]["E"], waltons[~control]["E"]
    )
    groups = rng.integers(0, 3, n)
    three = multivariate_logrank_test(durations, groups, observed)
    logrank = [
        {
            "name": "waltons",
            "durations": finite(waltons["T"].values),
            "observed": [bool(e) for e in waltons["E"].values],
            "groups": [0 if g == "control" else 1 for g in waltons["group"].values],
            "statistic": float(two.test_statistic),
            "p_value": float(two.p_value),
            "degrees_of_freedom": 1,
        },
        {
            "name": "synthetic-three-groups",
            "durations": finite(durations),
            "observed": [bool(o) for o in observed],
            "groups": [int(g) for g in groups],
            "statistic": float(three.test_statistic),
            "p_value": float(three.p_value),
            "degrees_of_freedom": 2,
        },
    ]
    (OUT / "logrank.json").write_text(json.dumps(logrank, indent=1))


if __name__ == "__main__":
    main()
