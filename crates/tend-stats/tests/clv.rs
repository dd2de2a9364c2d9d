//! The lifetime-value models against `lifetimes` 0.11.3, on fixtures written by
//! `tools/make_clv_fixtures.py`; the hard cases against mpmath at 50 digits.

mod common;

use common::numbers;
use serde_json::Value;
use tend_stats::clv::{
    calibration_and_holdout, customer_lifetime_value, summarize_transactions, BgBb, BgNbd,
    GammaGamma, ParetoNbd, PurchaseHistories, PurchaseModel, Transaction,
};
use tend_stats::special::hyp2f1;

fn fixtures() -> Value {
    common::fixture("clv.json")
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap()
}

fn assert_relative(what: &str, actual: f64, expected: f64, tolerance: f64) {
    assert!(
        actual.is_finite(),
        "{what}: got {actual}, expected {expected}"
    );
    let error = (actual - expected).abs() / expected.abs().max(1e-300);
    assert!(
        error <= tolerance,
        "{what}: {actual} vs reference {expected} (relative error {error:e})"
    );
}

fn assert_all_relative(what: &str, actual: &[f64], expected: &[f64], tolerance: f64) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_relative(&format!("{what}[{i}]"), *a, *e, tolerance);
    }
}

fn histories(data: &Value) -> PurchaseHistories {
    PurchaseHistories::new(
        numbers(&data["frequency"]),
        numbers(&data["recency"]),
        numbers(&data["T"]),
    )
    .unwrap()
}

/// (frequency, recency, age) of the prediction rows.
fn rows(case: &Value) -> Vec<(f64, f64, f64)> {
    let r = &case["rows"];
    let (x, tx, t) = (
        numbers(&r["frequency"]),
        numbers(&r["recency"]),
        numbers(&r["T"]),
    );
    (0..x.len()).map(|i| (x[i], tx[i], t[i])).collect()
}

/// The fitted parameters and log-likelihood against the case's.
fn assert_fit(name: &str, case: &Value, params: &[f64], log_likelihood: f64) {
    assert_all_relative(
        &format!("{name} params"),
        params,
        &numbers(&case["params"]),
        1e-3,
    );
    assert_relative(
        &format!("{name} log-likelihood"),
        log_likelihood,
        number(&case["log_likelihood"]),
        1e-3,
    );
}

/// P(alive), conditional and new-customer expected purchases of a continuous-time
/// model, at the reference parameters so that they test the formulas rather than the
/// optimiser again.
fn assert_predictions(
    name: &str,
    case: &Value,
    model: &impl PurchaseModel,
    probability_alive: impl Fn(f64, f64, f64) -> f64,
    new_customer: impl Fn(f64) -> f64,
) {
    let t = number(&case["t"]);
    let alive: Vec<f64> = rows(case)
        .iter()
        .map(|&(x, tx, age)| probability_alive(x, tx, age))
        .collect();
    assert_all_relative(
        &format!("{name} P(alive)"),
        &alive,
        &numbers(&case["probability_alive"]),
        1e-4,
    );
    let expected: Vec<f64> = rows(case)
        .iter()
        .map(|&(x, tx, age)| model.expected_purchases(t, x, tx, age))
        .collect();
    assert_all_relative(
        &format!("{name} E[purchases]"),
        &expected,
        &numbers(&case["expected_purchases"]),
        1e-4,
    );
    let new: Vec<f64> = [1.0, t, 52.0].iter().map(|&t| new_customer(t)).collect();
    assert_all_relative(
        &format!("{name} E[purchases] new"),
        &new,
        &numbers(&case["unconditional_expected_purchases"]),
        1e-4,
    );
}

#[test]
fn bg_nbd_matches_lifetimes() {
    for case in fixtures()["bgnbd"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let model = BgNbd::fit(&histories(&case["data"])).unwrap();
        assert_fit(
            name,
            case,
            &[model.r, model.alpha, model.a, model.b],
            model.log_likelihood,
        );
        let p = numbers(&case["params"]);
        let reference = BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
            ..model
        };
        assert_predictions(
            name,
            case,
            &reference,
            |x, tx, age| reference.probability_alive(x, tx, age),
            |t| reference.expected_purchases_new_customer(t),
        );
        let t = number(&case["t"]);
        for pair in case["probability_of_n"].as_array().unwrap() {
            let n = pair[0].as_u64().unwrap() as u32;
            assert_relative(
                &format!("{name} P(n={n})"),
                reference.probability_of_n_purchases(t, n),
                number(&pair[1]),
                1e-4,
            );
        }
    }
}

#[test]
fn pareto_nbd_matches_lifetimes() {
    for case in fixtures()["pareto_nbd"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let model = ParetoNbd::fit(&histories(&case["data"])).unwrap();
        assert_fit(
            name,
            case,
            &[model.r, model.alpha, model.s, model.beta],
            model.log_likelihood,
        );
        let p = numbers(&case["params"]);
        let reference = ParetoNbd {
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
            ..model
        };
        assert_predictions(
            name,
            case,
            &reference,
            |x, tx, age| reference.probability_alive(x, tx, age),
            |t| reference.expected_purchases_new_customer(t),
        );
        let t = number(&case["t"]);
        for pair in case["probability_of_n"].as_array().unwrap() {
            let n = pair[0].as_u64().unwrap() as u32;
            let got: Vec<f64> = rows(case)
                .iter()
                .map(|&(x, tx, age)| reference.probability_of_n_purchases(n, t, x, tx, age))
                .collect();
            assert_all_relative(&format!("{name} P(n={n})"), &got, &numbers(&pair[1]), 1e-4);
        }
    }
}

#[test]
fn bg_bb_matches_lifetimes() {
    for case in fixtures()["bgbb"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let d = &case["data"];
        let (x, tx, n) = (
            numbers(&d["frequency"]),
            numbers(&d["recency"]),
            numbers(&d["n_periods"]),
        );
        let data =
            PurchaseHistories::weighted(x.clone(), tx.clone(), n.clone(), numbers(&d["weights"]))
                .unwrap();
        let model = BgBb::fit(&data).unwrap();
        assert_fit(
            name,
            case,
            &[model.alpha, model.beta, model.gamma, model.delta],
            model.log_likelihood,
        );

        let p = numbers(&case["params"]);
        let reference = BgBb {
            alpha: p[0],
            beta: p[1],
            gamma: p[2],
            delta: p[3],
            ..model
        };
        let m = number(&case["m_periods"]);
        let alive: Vec<f64> = (0..x.len())
            .map(|i| reference.probability_alive(m, x[i], tx[i], n[i]))
            .collect();
        assert_all_relative(
            &format!("{name} P(alive)"),
            &alive,
            &numbers(&case["probability_alive"]),
            1e-4,
        );
        let expected: Vec<f64> = (0..x.len())
            .map(|i| reference.expected_purchases(m, x[i], tx[i], n[i]))
            .collect();
        assert_all_relative(
            &format!("{name} E[purchases]"),
            &expected,
            &numbers(&case["expected_purchases"]),
            1e-4,
        );
        let first = &case["first_n_periods"];
        let periods = first["n"].as_u64().unwrap() as u32;
        let customers: f64 = data.weight.iter().sum();
        let got: Vec<f64> = numbers(&first["frequency"])
            .iter()
            .map(|&k| customers * reference.probability_of_n_purchases(periods, k as u32))
            .collect();
        assert_all_relative(
            &format!("{name} customers by purchases"),
            &got,
            &numbers(&first["expected_customers"]),
            1e-4,
        );
    }
}

#[test]
fn gamma_gamma_and_lifetime_value_match_lifetimes() {
    for case in fixtures()["gamma_gamma"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let d = &case["data"];
        let model =
            GammaGamma::fit(&numbers(&d["frequency"]), &numbers(&d["monetary_value"])).unwrap();
        assert_fit(
            name,
            case,
            &[model.p, model.q, model.v],
            model.log_likelihood,
        );

        let p = numbers(&case["params"]);
        let reference = GammaGamma {
            p: p[0],
            q: p[1],
            v: p[2],
            ..model
        };
        let b = numbers(&case["bgnbd_params"]);
        let purchases = BgNbd {
            r: b[0],
            alpha: b[1],
            a: b[2],
            b: b[3],
            log_likelihood: 0.0,
            iterations: 0,
        };
        let r = &case["rows"];
        let (x, tx, age, m) = (
            numbers(&r["frequency"]),
            numbers(&r["recency"]),
            numbers(&r["T"]),
            numbers(&r["monetary_value"]),
        );
        let value: Vec<f64> = (0..x.len())
            .map(|i| reference.expected_average_value(x[i], m[i]))
            .collect();
        assert_all_relative(
            &format!("{name} E[value]"),
            &value,
            &numbers(&case["expected_average_value"]),
            1e-4,
        );
        let clv = &case["clv"];
        let got: Vec<f64> = (0..x.len())
            .map(|i| {
                customer_lifetime_value(
                    &purchases,
                    value[i],
                    (x[i], tx[i], age[i]),
                    clv["months"].as_u64().unwrap() as u32,
                    number(&clv["monthly_discount_rate"]),
                    number(&clv["periods_per_month"]),
                )
            })
            .collect();
        assert_all_relative(&format!("{name} CLV"), &got, &numbers(&clv["values"]), 1e-4);
    }
}

#[test]
fn transaction_log_summaries_match_lifetimes() {
    let f = fixtures();
    let t = &f["transactions"];
    let customers: Vec<i64> = t["customer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let periods: Vec<i64> = t["day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let values = numbers(&t["value"]);
    let log: Vec<Transaction<i64>> = (0..customers.len())
        .map(|i| Transaction {
            customer: customers[i],
            period: periods[i],
            value: values[i],
        })
        .collect();
    let observation_end = t["observation_end"].as_i64().unwrap();

    let summary = summarize_transactions(&log, observation_end);
    let expected = &t["summary"];
    let ids: Vec<i64> = expected["customer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| ids[i]);
    assert_eq!(
        summary.iter().map(|s| s.customer).collect::<Vec<_>>(),
        order.iter().map(|&i| ids[i]).collect::<Vec<_>>()
    );
    for (column, get) in [
        (
            "frequency",
            (|s| s.frequency) as fn(&tend_stats::clv::CustomerSummary<i64>) -> f64,
        ),
        ("recency", |s| s.recency),
        ("T", |s| s.age),
        ("monetary_value", |s| s.monetary_value),
    ] {
        let want = numbers(&expected[column]);
        for (s, &i) in summary.iter().zip(&order) {
            assert!(
                (get(s) - want[i]).abs() < 1e-9,
                "customer {}: {column} {} vs {}",
                s.customer,
                get(s),
                want[i]
            );
        }
    }

    // The summaries feed the models directly.
    let histories = PurchaseHistories::from_summaries(&summary).unwrap();
    assert_eq!(histories.len(), summary.len());
    let model = BgNbd::fit(&histories).unwrap();
    assert!(
        [model.r, model.alpha, model.a, model.b]
            .iter()
            .all(|p| p.is_finite() && *p > 0.0),
        "{model:?}"
    );

    let split = calibration_and_holdout(
        &log,
        t["calibration_end"].as_i64().unwrap(),
        observation_end,
    )
    .unwrap();
    let expected = &t["split"];
    let ids: Vec<i64> = expected["customer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&i| ids[i]);
    assert_eq!(split.len(), ids.len());
    for (column, get) in [
        (
            "frequency_cal",
            (|s| s.calibration.frequency) as fn(&tend_stats::clv::CalibrationHoldout<i64>) -> f64,
        ),
        ("recency_cal", |s| s.calibration.recency),
        ("T_cal", |s| s.calibration.age),
        ("monetary_value_cal", |s| s.calibration.monetary_value),
        ("frequency_holdout", |s| s.frequency_holdout),
        ("monetary_value_holdout", |s| s.monetary_value_holdout),
        ("duration_holdout", |s| s.duration_holdout),
    ] {
        let want = numbers(&expected[column]);
        for (s, &i) in split.iter().zip(&order) {
            assert_eq!(s.calibration.customer, ids[i]);
            assert!(
                (get(s) - want[i]).abs() < 1e-9,
                "customer {}: {column} {} vs {}",
                ids[i],
                get(s),
                want[i]
            );
        }
    }
    assert!(calibration_and_holdout(&log, observation_end, observation_end).is_err());
}

#[test]
fn gauss_function_is_finite_and_exact_where_it_is_hard() {
    for case in fixtures()["hard"]["hyp2f1"].as_array().unwrap() {
        let (a, b, c, z) = (
            number(&case["a"]),
            number(&case["b"]),
            number(&case["c"]),
            number(&case["z"]),
        );
        let got = hyp2f1(a, b, c, z);
        let what = format!("2F1({a}, {b}; {c}; {z})");
        assert_eq!(got.sign, number(&case["sign"]), "{what} sign");
        assert!(
            (got.log - number(&case["log_value"])).abs()
                < 1e-8 * number(&case["log_value"]).abs().max(1.0),
            "{what}: ln = {} vs {}",
            got.log,
            number(&case["log_value"])
        );
    }
}

#[test]
fn bg_nbd_is_finite_and_exact_for_extreme_customers() {
    for case in fixtures()["hard"]["bgnbd"].as_array().unwrap() {
        let p = numbers(&case["params"]);
        let model = BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
            log_likelihood: 0.0,
            iterations: 0,
        };
        let (x, tx, age, t) = (
            number(&case["frequency"]),
            number(&case["recency"]),
            number(&case["T"]),
            number(&case["t"]),
        );
        let what = format!("BG/NBD x={x} t_x={tx} T={age} t={t} params {p:?}");
        assert_relative(
            &format!("{what} ln L"),
            model.customer_log_likelihood(x, tx, age),
            number(&case["log_likelihood"]),
            1e-9,
        );
        assert_relative(
            &format!("{what} P(alive)"),
            model.probability_alive(x, tx, age),
            number(&case["probability_alive"]),
            1e-9,
        );
        assert_relative(
            &format!("{what} E[purchases]"),
            model.expected_purchases(t, x, tx, age),
            number(&case["expected_purchases"]),
            1e-6,
        );
    }
}

#[test]
fn pareto_nbd_is_finite_and_exact_for_extreme_customers() {
    for case in fixtures()["hard"]["pareto_nbd"].as_array().unwrap() {
        let p = numbers(&case["params"]);
        let model = ParetoNbd {
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
            log_likelihood: 0.0,
            iterations: 0,
        };
        let (x, tx, age) = (
            number(&case["frequency"]),
            number(&case["recency"]),
            number(&case["T"]),
        );
        let what = format!("Pareto/NBD x={x} t_x={tx} T={age} params {p:?}");
        assert_relative(
            &format!("{what} ln L"),
            model.customer_log_likelihood(x, tx, age),
            number(&case["log_likelihood"]),
            1e-8,
        );
        assert_relative(
            &format!("{what} P(alive)"),
            model.probability_alive(x, tx, age),
            number(&case["probability_alive"]),
            1e-7,
        );
    }
}

#[test]
fn invalid_histories_name_the_customer_and_the_problem() {
    let err = PurchaseHistories::new(vec![1.5], vec![1.0], vec![2.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "customer 0: frequency must be a whole number of repeat purchases, got 1.5"
    );
    let err = PurchaseHistories::new(vec![0.0, 0.0], vec![0.0, 3.0], vec![2.0, 4.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "customer 1: recency must be 0 without repeat purchases, got 3"
    );
    let err = GammaGamma::fit(&[2.0, 0.0], &[10.0, 0.0]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("customer 1: the spend model needs repeat customers"),
        "{err}"
    );
}

#[test]
fn a_portfolio_without_repeat_purchases_fits_to_a_rate_of_zero() {
    // Nobody ever came back: the likelihood rises towards a purchase rate of zero,
    // which the fit must approach quickly and predict as such, not wander off.
    let nobody = PurchaseHistories::new(
        vec![0.0; 50],
        vec![0.0; 50],
        (1..=50).map(f64::from).collect(),
    )
    .unwrap();
    let started = std::time::Instant::now();
    let model = BgNbd::fit(&nobody).unwrap();
    assert!(started.elapsed().as_secs() < 30);
    assert!(
        model.log_likelihood.is_finite() && model.log_likelihood > -1e-3,
        "{model:?}"
    );
    let expected = model.expected_purchases(52.0, 0.0, 0.0, 50.0);
    assert!(expected.is_finite() && expected < 1e-3, "{expected}");
    assert_eq!(model.probability_alive(0.0, 0.0, 50.0), 1.0);
}
