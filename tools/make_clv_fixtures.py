#!/usr/bin/env python3
"""Reference numbers for tend-stats' lifetime-value models, computed by `lifetimes`.

    pip install lifetimes==0.11.3 mpmath
    python3 tools/make_clv_fixtures.py

Writes crates/tend-stats/tests/fixtures/clv.json. The fits use lifetimes' own
optimizers with a tight tolerance so that the reference sits at the maximum of the
likelihood. The numerically hard cases (where lifetimes itself returns nan or inf)
are computed with mpmath at 50 significant digits from the published formulas.
"""
import json
import pathlib

import mpmath as mp
import numpy as np
import pandas as pd
from lifetimes import BetaGeoBetaBinomFitter, BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from lifetimes.datasets import (
    load_cdnow_summary,
    load_cdnow_summary_data_with_monetary_value,
    load_donations,
    load_transaction_data,
)
from lifetimes.utils import ConvergenceError, calibration_and_holdout_data, summary_data_from_transaction_data

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "tend-stats" / "tests" / "fixtures"
mp.mp.dps = 50


def floats(values):
    return [float(v) for v in np.asarray(values, dtype=float)]


def bgnbd_sample(n, r, alpha, a, b, seed):
    """Customers drawn from the BG/NBD model itself (vectorised; see bench/clv_vs_reference.py)."""
    rng = np.random.default_rng(seed)
    T = rng.integers(30, 366, size=n).astype(float)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    purchases = rng.poisson(lam * T)
    x = np.minimum(purchases, rng.geometric(p))
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = T[pos] * rng.beta(x[pos], purchases[pos] - x[pos] + 1)
    return x, np.round(tx, 2), T


def fit_tight(fitter, *data, **kwargs):
    """Fit with the tightest tolerance at which lifetimes' BFGS still reports success."""
    for tol in (1e-10, 1e-9, 1e-8, 1e-7):
        try:
            return fitter.fit(*data, tol=tol, **kwargs)
        except ConvergenceError:
            continue
    raise RuntimeError("no tolerance converged")


def plain_log_likelihood(fitter, params, *data):
    """The log-likelihood as the plain sum over customers, on the unscaled data."""
    weights = np.ones(len(data[0]))
    if isinstance(fitter, ParetoNBDFitter):
        return float(fitter._conditional_log_likelihood(params, *data).sum())
    return float(-fitter._negative_log_likelihood(np.log(params), *data, weights, 0.0) * len(weights))


def bgnbd_case(name, x, tx, T, rows):
    m = fit_tight(BetaGeoFitter(), x, tx, T)
    params = m.params_[["r", "alpha", "a", "b"]].values
    x, tx, T = x[rows], tx[rows], T[rows]
    t = 10.0
    return {
        "name": name,
        "data": {"frequency": floats(m.data["frequency"]), "recency": floats(m.data["recency"]), "T": floats(m.data["T"])},
        "params": floats(params),
        "log_likelihood": plain_log_likelihood(m, params, m.data["frequency"].values, m.data["recency"].values, m.data["T"].values),
        "rows": {"frequency": floats(x), "recency": floats(tx), "T": floats(T)},
        "t": t,
        "probability_alive": floats(m.conditional_probability_alive(x, tx, T)),
        "expected_purchases": floats(m.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)),
        "unconditional_expected_purchases": floats(m.expected_number_of_purchases_up_to_time(np.array([1.0, t, 52.0]))),
        "probability_of_n": [[n, float(m.probability_of_n_purchases_up_to_time(t, n))] for n in range(6)],
    }


def pareto_case(name, x, tx, T, rows):
    np.random.seed(7)
    m = ParetoNBDFitter().fit(x, tx, T, tol=1e-12, maxiter=20000)
    params = m.params_[["r", "alpha", "s", "beta"]].values
    x, tx, T = x[rows], tx[rows], T[rows]
    t = 10.0
    return {
        "name": name,
        "data": {"frequency": floats(m.data["frequency"]), "recency": floats(m.data["recency"]), "T": floats(m.data["T"])},
        "params": floats(params),
        "log_likelihood": plain_log_likelihood(m, params, m.data["frequency"].values, m.data["recency"].values, m.data["T"].values),
        "rows": {"frequency": floats(x), "recency": floats(tx), "T": floats(T)},
        "t": t,
        "probability_alive": floats(m.conditional_probability_alive(x, tx, T)),
        "expected_purchases": floats(m.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T)),
        "unconditional_expected_purchases": floats(m.expected_number_of_purchases_up_to_time(np.array([1.0, t, 52.0]))),
        "probability_of_n": [
            [n, floats(m.conditional_probability_of_n_purchases_up_to_time(n, t, x, tx, T))] for n in range(4)
        ],
    }


def bgbb_case():
    d = load_donations()
    m = fit_tight(BetaGeoBetaBinomFitter(), d["frequency"], d["recency"], d["periods"], weights=d["weights"])
    params = m.params_[["alpha", "beta", "gamma", "delta"]].values
    f, r, n, w = (d[c].values for c in ["frequency", "recency", "periods", "weights"])
    ll = float((m._loglikelihood(params, f, r, n) * w).sum())
    first = m.expected_number_of_transactions_in_first_n_periods(6)
    return {
        "name": "donations",
        "data": {"frequency": floats(f), "recency": floats(r), "n_periods": floats(n), "weights": floats(w)},
        "params": floats(params),
        "log_likelihood": ll,
        "m_periods": 5,
        "probability_alive": floats(m.conditional_probability_alive(5, f, r, n)),
        "expected_purchases": floats(m.conditional_expected_number_of_purchases_up_to_time(5, f, r, n)),
        "first_n_periods": {"n": 6, "frequency": floats(first.index), "expected_customers": floats(first["model"])},
    }


def gamma_gamma_case():
    d = load_cdnow_summary_data_with_monetary_value()
    repeat = d[d["frequency"] > 0]
    gg = fit_tight(GammaGammaFitter(), repeat["frequency"], repeat["monetary_value"])
    bgf = fit_tight(BetaGeoFitter(), d["frequency"], d["recency"], d["T"])
    rows = repeat.iloc[:25]
    clv = gg.customer_lifetime_value(
        bgf, rows["frequency"], rows["recency"], rows["T"], rows["monetary_value"], time=12, discount_rate=0.01, freq="W"
    )
    params = gg.params_[["p", "q", "v"]].values
    ll = -gg._negative_log_likelihood(np.log(params), repeat["frequency"].values, repeat["monetary_value"].values, np.ones(len(repeat)), 0.0) * len(repeat)
    return {
        "name": "cdnow-monetary",
        "data": {"frequency": floats(repeat["frequency"]), "monetary_value": floats(repeat["monetary_value"])},
        "params": floats(params),
        "log_likelihood": float(ll),
        "bgnbd_params": floats(bgf.params_[["r", "alpha", "a", "b"]].values),
        "rows": {k: floats(rows[k]) for k in ["frequency", "recency", "T", "monetary_value"]},
        "expected_average_value": floats(gg.conditional_expected_average_profit(rows["frequency"], rows["monetary_value"])),
        "clv": {"months": 12, "monthly_discount_rate": 0.01, "periods_per_month": 4.345, "values": floats(clv)},
    }


def transactions_case():
    t = load_transaction_data()
    rng = np.random.default_rng(5)
    t["value"] = np.round(rng.gamma(2.0, 20.0, size=len(t)), 2)
    dates = pd.to_datetime(t["date"])
    t["day"] = (dates - pd.Timestamp("1970-01-01")).dt.days
    summary = summary_data_from_transaction_data(t, "id", "date", monetary_value_col="value", observation_period_end="2014-12-31")
    split = calibration_and_holdout_data(
        t, "id", "date", calibration_period_end="2014-09-01", observation_period_end="2014-12-31", monetary_value_col="value"
    )
    day = lambda s: int((pd.Timestamp(s) - pd.Timestamp("1970-01-01")).days)
    return {
        "customer": [int(c) for c in t["id"]],
        "day": [int(d) for d in t["day"]],
        "value": floats(t["value"]),
        "observation_end": day("2014-12-31"),
        "calibration_end": day("2014-09-01"),
        "summary": {
            "customer": [int(c) for c in summary.index],
            **{k: floats(summary[k]) for k in ["frequency", "recency", "T", "monetary_value"]},
        },
        "split": {
            "customer": [int(c) for c in split.index],
            **{
                k: floats(split[k])
                for k in [
                    "frequency_cal",
                    "recency_cal",
                    "T_cal",
                    "monetary_value_cal",
                    "frequency_holdout",
                    "monetary_value_holdout",
                    "duration_holdout",
                ]
            },
        },
    }


# --- numerically hard cases, exact to 50 digits -------------------------------------------


def mp_bgnbd_alive(r, alpha, a, b, x, tx, T):
    if x == 0:
        return mp.mpf(1)
    ratio = (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x)
    return 1 / (1 + ratio)


def mp_bgnbd_expected(r, alpha, a, b, x, tx, T, t):
    z = t / (alpha + T + t)
    hyp = mp.hyp2f1(r + x, b + x, a + b + x - 1, z)
    num = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    den = 1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x) if x > 0 else 1
    return num / den


def mp_bgnbd_ll(r, alpha, a, b, x, tx, T):
    a1 = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha)
    a2 = mp.loggamma(a + b) + mp.loggamma(b + x) - mp.loggamma(b) - mp.loggamma(a + b + x)
    l = (alpha + T) ** (-(r + x))
    if x > 0:
        l += a / (b + x - 1) * (alpha + tx) ** (-(r + x))
    return a1 + a2 + mp.log(l)


def mp_pareto_ll(r, alpha, s, beta, x, tx, T):
    """Fader-Hardie-Lee (2005) eq. for the Pareto/NBD likelihood with A0 from the Gauss function."""
    rsx = r + s + x
    if alpha >= beta:
        hi, lo, second = alpha, beta, s + 1
    else:
        hi, lo, second = beta, alpha, r + x
    a0 = mp.hyp2f1(rsx, second, rsx + 1, (hi - lo) / (hi + tx)) / (hi + tx) ** rsx - mp.hyp2f1(
        rsx, second, rsx + 1, (hi - lo) / (hi + T)
    ) / (hi + T) ** rsx
    head = mp.gamma(r + x) * alpha**r * beta**s / mp.gamma(r)
    return mp.log(head * ((alpha + T) ** (-(r + x)) * (beta + T) ** (-s) + s / rsx * a0))


def mp_pareto_alive(r, alpha, s, beta, x, tx, T):
    ll = mp_pareto_ll(r, alpha, s, beta, x, tx, T)
    head = mp.loggamma(r + x) - mp.loggamma(r) + r * mp.log(alpha) + s * mp.log(beta)
    return mp.exp(head - (r + x) * mp.log(alpha + T) - s * mp.log(beta + T) - ll)


def mp_hyp2f1_cases():
    cases = [
        (0.5, 0.5, 1.5, 0.3),
        (2.3, 4.1, 1.2, 0.999),  # c - a - b < 0: grows without bound as z -> 1
        (1.5, 2.0, 5.0, 0.99999),  # c - a - b > 0: finite limit
        (3.0, 1.0, 4.0, 0.9999999),  # c - a - b integer: the degenerate case
        (40.25, 42.5, 81.79, 0.97),  # BG/NBD for a frequent buyer
        (250.2, 1.7, 251.2, 0.999),  # Pareto/NBD A0 term for a frequent buyer
        (0.9, 1.2, -0.4, 0.6),  # negative c (zero repeat buyers with a + b < 1)
        (1.3, 0.7, 2.1, -3.5),  # negative z
    ]
    return [
        {"a": a, "b": b, "c": c, "z": z, "log_value": float(mp.log(abs(mp.hyp2f1(a, b, c, z)))), "sign": float(mp.sign(mp.hyp2f1(a, b, c, z)))}
        for a, b, c, z in cases
    ]


def hard_cases():
    bg = []
    for (r, alpha, a, b), (x, tx, T, t) in [
        ((0.24, 4.41, 0.79, 2.43), (700, 38.5, 38.86, 52.0)),  # very frequent buyer
        ((0.24, 4.41, 0.79, 2.43), (2000, 38.86, 38.86, 10.0)),  # frequency beyond lgamma overflow in linear space
        ((0.5, 2.0, 0.3, 0.4), (0, 0.0, 30.0, 52.0)),  # zero repeat buyer with a + b < 1
        ((0.5, 2.0, 0.3, 0.4), (3, 12.0, 30.0, 1e6)),  # t -> infinity, z -> 1 with a + b < 1
        ((0.24, 4.41, 0.79, 2.43), (2, 30.0, 38.86, 1e7)),  # z -> 1
    ]:
        args = [mp.mpf(v) for v in (r, alpha, a, b, x, tx, T)]
        bg.append(
            {
                "params": [r, alpha, a, b],
                "frequency": x,
                "recency": tx,
                "T": T,
                "t": t,
                "log_likelihood": float(mp_bgnbd_ll(*args)),
                "probability_alive": float(mp_bgnbd_alive(*args)),
                "expected_purchases": float(mp_bgnbd_expected(*args, mp.mpf(t))),
            }
        )
    pareto = []
    for (r, alpha, s, beta), (x, tx, T) in [
        ((0.55, 10.58, 0.61, 11.67), (2, 30.43, 38.86)),  # ordinary customer, for orientation
        ((0.55, 10.58, 0.61, 11.67), (400, 38.0, 38.86)),  # very frequent buyer
        ((0.55, 1e4, 0.61, 0.01), (1, 0.5, 38.86)),  # alpha >> beta, small recency: z -> 1
        ((0.55, 0.01, 0.61, 1e4), (3, 0.5, 38.86)),  # beta >> alpha: z -> 1 on the other branch
        ((0.55, 10.58, 0.61, 11.67), (0, 0.0, 38.86)),  # no repeat purchases
    ]:
        args = [mp.mpf(v) for v in (r, alpha, s, beta, x, tx, T)]
        pareto.append(
            {
                "params": [r, alpha, s, beta],
                "frequency": x,
                "recency": tx,
                "T": T,
                "log_likelihood": float(mp_pareto_ll(*args)),
                "probability_alive": float(mp_pareto_alive(*args)),
            }
        )
    return {"hyp2f1": mp_hyp2f1_cases(), "bgnbd": bg, "pareto_nbd": pareto}


def main():
    cdnow = load_cdnow_summary(index_col=[0])
    x, tx, T = (cdnow[c].values for c in ["frequency", "recency", "T"])
    rows = list(range(20)) + [int(np.argmax(x))]
    sx, stx, sT = bgnbd_sample(5000, 0.3, 20.0, 0.9, 3.0, seed=11)
    fixtures = {
        "bgnbd": [bgnbd_case("cdnow", x, tx, T, rows), bgnbd_case("synthetic-days", sx, stx, sT, list(range(20)) + [int(np.argmax(sx))])],
        "pareto_nbd": [pareto_case("cdnow", x, tx, T, rows)],
        "bgbb": [bgbb_case()],
        "gamma_gamma": [gamma_gamma_case()],
        "transactions": transactions_case(),
        "hard": hard_cases(),
    }
    (OUT / "clv.json").write_text(json.dumps(fixtures, indent=1))


if __name__ == "__main__":
    main()
