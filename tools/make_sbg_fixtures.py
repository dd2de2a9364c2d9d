#!/usr/bin/env python3
"""Reference numbers for tend-stats' shifted-beta-geometric (sBG) model.

    pip install mpmath==1.4.1
    python3 tools/make_sbg_fixtures.py

Writes crates/tend-stats/tests/fixtures/sbg.json: the survivor counts published in
Fader and Hardie, "How to Project Customer Retention" (2007), the parameters they
published, the maximum-likelihood parameters found here at 40 significant digits,
and discounted expected residual lifetimes (Fader and Hardie 2010) summed term by
term, not through the closed form tend uses, so the test checks one against the
other.
"""
import json
import pathlib

import mpmath as mp

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates" / "tend-stats" / "tests" / "fixtures"
mp.mp.dps = 40

# Per 1,000 customers at the start, those still customers after years 1-7.
COHORTS = {
    "high_end": [1000, 869, 743, 653, 593, 551, 517, 491],
    "regular": [1000, 631, 468, 382, 326, 289, 262, 241],
}
PUBLISHED = {"high_end": (0.668, 3.806), "regular": (0.704, 1.182)}


def survival(g, d, t):
    return mp.beta(g, d + t) / mp.beta(g, d)


def churn(g, d, t):
    return mp.beta(g + 1, d + t - 1) / mp.beta(g, d)


def log_likelihood(g, d, alive):
    ll = mp.mpf(0)
    for t in range(1, len(alive)):
        ll += (alive[t - 1] - alive[t]) * mp.log(churn(g, d, t))
    return ll + alive[-1] * mp.log(survival(g, d, len(alive) - 1))


def fit(alive, start):
    # The maximum is where both partial derivatives of the log-likelihood vanish
    # (on log parameters, which keeps the search in γ, δ > 0).
    f = lambda a, b: log_likelihood(mp.exp(a), mp.exp(b), alive)
    grad = [
        lambda a, b: mp.diff(lambda x: f(x, b), a),
        lambda a, b: mp.diff(lambda y: f(a, y), b),
    ]
    a, b = mp.findroot(grad, (mp.log(start[0]), mp.log(start[1])))
    return mp.exp(a), mp.exp(b)


def derl_by_summation(g, d, rate, renewals):
    n = renewals
    term = lambda k: survival(g, d, n + 1 + k) / survival(g, d, n) / (1 + rate) ** k
    return mp.nsum(term, [0, mp.inf])


def main():
    out = {"cohorts": {}, "derl": []}
    for name, alive in COHORTS.items():
        g, d = fit(alive, PUBLISHED[name])
        out["cohorts"][name] = {
            "alive": alive,
            "published": {"gamma": PUBLISHED[name][0], "delta": PUBLISHED[name][1]},
            "gamma": float(g),
            "delta": float(d),
            "log_likelihood": float(log_likelihood(g, d, alive)),
            "survival": [float(survival(g, d, t)) for t in range(0, 13)],
        }
        for rate in (0.10, 0.05):
            for renewals in (0, 1, 2, 4, 7, 12):
                out["derl"].append({
                    "segment": name,
                    "gamma": float(g),
                    "delta": float(d),
                    "discount_rate": rate,
                    "renewals": renewals,
                    "derl": float(derl_by_summation(g, d, rate, renewals)),
                })
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "sbg.json").write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", OUT / "sbg.json")


if __name__ == "__main__":
    main()
