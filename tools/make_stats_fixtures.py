#!/usr/bin/env python3
"""Reference numbers for tend-stats, computed by the reference libraries.

    pip install lifelines==0.30.0 scikit-learn==1.5.2
    python3 tools/make_stats_fixtures.py

Writes crates/tend-stats/tests/fixtures/*.json. The Rust tests compare tend's results
with these; rerun this script only to add cases.
"""
import json
import pathlib

import numpy as np
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_rossi, load_waltons
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
    cox_fixtures()


def cox_case(name, df, duration, event, covariates, penalizer=0.0, strata=None, predict_rows=5):
    columns = covariates + ([strata] if strata else [])
    # Converged to the optimum, not to lifelines' default stopping rule (which may stop
    # 1e-5 short of it on penalized fits), so that both sides report the same maximum.
    cph = CoxPHFitter(penalizer=penalizer).fit(
        df[columns + [duration, event]],
        duration_col=duration,
        event_col=event,
        strata=[strata] if strata else None,
        fit_options={"precision": 1e-12, "r_precision": 1e-15},
    )
    s = cph.summary
    rows = df[columns].head(predict_rows)
    case = {
        "name": name,
        "covariates": covariates,
        "x": [[float(v) for v in row] for row in df[covariates].values],
        "durations": finite(df[duration].values),
        "observed": [bool(e) for e in df[event].values],
        "strata": [int(v) for v in df[strata].values] if strata else None,
        "penalizer": penalizer,
        "coefficients": finite(s["coef"].values),
        "standard_errors": finite(s["se(coef)"].values),
        "z": finite(s["z"].values),
        "p": finite(s["p"].values),
        "lower_95": finite(s["coef lower 95%"].values),
        "upper_95": finite(s["coef upper 95%"].values),
        "log_likelihood": float(cph.log_likelihood_),
        "concordance": float(cph.concordance_index_),
        "predict_x": [[float(v) for v in row] for row in rows[covariates].values],
        "predict_strata": [int(v) for v in rows[strata].values] if strata else None,
        "partial_hazard": finite(cph.predict_partial_hazard(rows).values),
    }
    if strata is None:
        lr = cph.log_likelihood_ratio_test()
        case["lr_statistic"] = float(lr.test_statistic)
        case["lr_p_value"] = float(lr.p_value)
        case["baseline_times"] = finite(cph.baseline_cumulative_hazard_.index.values)
        case["baseline_cumulative_hazard"] = finite(cph.baseline_cumulative_hazard_.iloc[:, 0].values)
        times = [10.0, 25.0, 52.0]
        surv = cph.predict_survival_function(rows, times=times)
        case["survival_times"] = times
        case["survival"] = [finite(surv.iloc[:, j].values) for j in range(len(rows))]
    return case


def cox_fixtures():
    rossi = load_rossi()
    covariates = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    rng = np.random.default_rng(7)
    n = 400
    x = rng.normal(size=(n, 3))
    hazard = np.exp(x @ np.array([0.5, -0.8, 0.2]))
    t = np.ceil(rng.exponential(10.0 / hazard))  # integer times: many ties
    c = np.ceil(rng.uniform(1, 25, n))
    import pandas as pd

    synthetic = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "T": np.minimum(t, c), "E": (t <= c).astype(int)})
    cases = [
        cox_case("rossi", rossi, "week", "arrest", covariates),
        cox_case("rossi-penalized", rossi, "week", "arrest", covariates, penalizer=0.1),
        cox_case("rossi-stratified", rossi, "week", "arrest", ["fin", "age", "race", "mar", "paro", "prio"], strata="wexp"),
        cox_case("synthetic-ties", synthetic, "T", "E", ["a", "b", "c"]),
    ]
    (OUT / "cox.json").write_text(json.dumps(cases, indent=1))


def evaluation_fixtures():
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

    rng = np.random.default_rng(99)
    cases = []
    for name, n, rounding in [("continuous", 2000, None), ("tied-scores", 1500, 1)]:
        risk = rng.normal(size=n)
        labels = rng.random(n) < 1 / (1 + np.exp(-(1.5 * risk - 1.0)))
        probabilities = 1 / (1 + np.exp(-(1.2 * risk - 0.8 + rng.normal(scale=0.5, size=n))))
        if rounding is not None:
            probabilities = np.round(probabilities, rounding)
        prob_true, prob_pred = calibration_curve(labels, probabilities, n_bins=10, strategy="uniform")
        cases.append(
            {
                "name": name,
                "labels": [bool(v) for v in labels],
                "probabilities": finite(probabilities),
                "roc_auc": float(roc_auc_score(labels, probabilities)),
                "average_precision": float(average_precision_score(labels, probabilities)),
                "brier": float(brier_score_loss(labels, probabilities)),
                "log_loss": float(log_loss(labels, probabilities)),
                "calibration_fraction_positive": finite(prob_true),
                "calibration_mean_predicted": finite(prob_pred),
            }
        )
    (OUT / "evaluation.json").write_text(json.dumps(cases, indent=1))


def logistic_fixtures():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    cancer = load_breast_cancer()
    x_cancer = StandardScaler().fit_transform(cancer.data)
    rng = np.random.default_rng(5)
    x_synthetic = rng.normal(size=(2000, 5)) * [1.0, 2.0, 0.5, 1.0, 3.0]
    y_synthetic = rng.random(2000) < 1 / (1 + np.exp(-(x_synthetic @ [0.8, -0.3, 1.5, 0.0, 0.2] + 0.4)))
    cases = []
    for name, x, y, c in [
        ("breast-cancer-standardized", x_cancer, cancer.target == 1, 1.0),
        ("synthetic-c-0.5", x_synthetic, y_synthetic, 0.5),
    ]:
        # Converged to the optimum rather than to lbfgs' default tolerance.
        model = LogisticRegression(C=c, tol=1e-12, max_iter=100_000).fit(x, y)
        cases.append(
            {
                "name": name,
                "rows": [finite(row) for row in x],
                "labels": [bool(v) for v in y],
                "c": c,
                "coefficients": finite(model.coef_[0]),
                "intercept": float(model.intercept_[0]),
                "probabilities": finite(model.predict_proba(x[:10])[:, 1]),
            }
        )
    (OUT / "logistic.json").write_text(json.dumps(cases, indent=1))


def calibration_fixtures():
    from sklearn.calibration import _sigmoid_calibration
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(77)
    cases = []
    for name, scores in [
        ("continuous", rng.normal(size=400)),
        ("tied", np.round(rng.normal(size=400), 1)),
    ]:
        labels = rng.uniform(size=len(scores)) < 1 / (1 + np.exp(-1.7 * scores + 0.4))
        a, b = _sigmoid_calibration(scores, labels.astype(int))
        iso = IsotonicRegression(out_of_bounds="clip").fit(scores, labels.astype(float))
        at = np.concatenate([np.linspace(scores.min() - 1, scores.max() + 1, 50), scores[:20]])
        cases.append(
            {
                "name": name,
                "scores": finite(scores),
                "labels": [bool(l) for l in labels],
                "platt": [float(a), float(b)],
                "at": finite(at),
                "isotonic": finite(iso.predict(at)),
            }
        )
    (OUT / "calibration.json").write_text(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
    evaluation_fixtures()
    logistic_fixtures()
    calibration_fixtures()
