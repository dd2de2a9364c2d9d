//! tend-stats against the reference libraries, on fixtures written by
//! `tools/make_stats_fixtures.py` (lifelines 0.30.0).

mod common;

use common::numbers;
use serde_json::Value;
use tend_stats::{logrank_test, KaplanMeier};

fn fixture(name: &str) -> Vec<Value> {
    common::fixture(name).as_array().unwrap().clone()
}

fn flags(value: &Value) -> Vec<bool> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_bool().unwrap())
        .collect()
}

fn assert_all_close(name: &str, what: &str, actual: &[f64], expected: &[f64], tolerance: f64) {
    assert_eq!(actual.len(), expected.len(), "{name}: {what} length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tolerance,
            "{name}: {what}[{i}] = {a}, lifelines says {e}"
        );
    }
}

#[test]
fn kaplan_meier_matches_lifelines() {
    for case in fixture("kaplan_meier.json") {
        let name = case["name"].as_str().unwrap();
        let durations = numbers(&case["durations"]);
        let observed = flags(&case["observed"]);
        let km =
            KaplanMeier::fit_with_alpha(&durations, &observed, case["alpha"].as_f64().unwrap())
                .unwrap();
        assert_eq!(km.timeline, numbers(&case["timeline"]), "{name}: timeline");
        assert_all_close(
            name,
            "survival",
            &km.survival,
            &numbers(&case["survival"]),
            1e-9,
        );
        assert_all_close(name, "lower", &km.lower, &numbers(&case["lower"]), 1e-6);
        assert_all_close(name, "upper", &km.upper, &numbers(&case["upper"]), 1e-6);
        let median = case["median"]
            .as_f64()
            .or_else(|| (case["median"] == "inf").then_some(f64::INFINITY));
        assert_eq!(
            km.median().unwrap_or(f64::INFINITY),
            median.unwrap(),
            "{name}: median"
        );
        let at: Vec<f64> = numbers(&case["at"])
            .iter()
            .map(|&t| km.survival_at(t))
            .collect();
        assert_all_close(
            name,
            "survival_at",
            &at,
            &numbers(&case["survival_at"]),
            1e-9,
        );
    }
}

#[test]
fn logrank_matches_lifelines() {
    for case in fixture("logrank.json") {
        let name = case["name"].as_str().unwrap();
        let groups: Vec<usize> = case["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_u64().unwrap() as usize)
            .collect();
        let result = logrank_test(
            &numbers(&case["durations"]),
            &flags(&case["observed"]),
            &groups,
        )
        .unwrap();
        let statistic = case["statistic"].as_f64().unwrap();
        let p_value = case["p_value"].as_f64().unwrap();
        assert_eq!(
            result.degrees_of_freedom as u64,
            case["degrees_of_freedom"].as_u64().unwrap()
        );
        assert!(
            (result.statistic - statistic).abs() <= 1e-6 * statistic.max(1.0),
            "{name}: statistic {} vs {statistic}",
            result.statistic
        );
        assert!(
            (result.p_value - p_value).abs() <= 1e-6 * p_value.max(1e-300) + 1e-12,
            "{name}: p {} vs {p_value}",
            result.p_value
        );
    }
}

#[test]
fn bad_input_is_refused() {
    assert!(KaplanMeier::fit(&[1.0], &[true, false]).is_err());
    assert!(KaplanMeier::fit(&[], &[]).is_err());
    assert!(KaplanMeier::fit(&[-1.0], &[true]).is_err());
    assert!(KaplanMeier::fit(&[f64::NAN], &[true]).is_err());
    assert!(KaplanMeier::fit_with_alpha(&[1.0], &[true], 1.5).is_err());
    assert!(logrank_test(&[1.0, 2.0], &[true, true], &[0, 0]).is_err());
}

fn columns(rows: &Value) -> Vec<Vec<f64>> {
    let rows: Vec<Vec<f64>> = rows.as_array().unwrap().iter().map(numbers).collect();
    (0..rows[0].len())
        .map(|k| rows.iter().map(|r| r[k]).collect())
        .collect()
}

fn assert_relative(name: &str, what: &str, actual: &[f64], expected: &[f64], tolerance: f64) {
    assert_eq!(actual.len(), expected.len(), "{name}: {what} length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tolerance * e.abs().max(1e-12),
            "{name}: {what}[{i}] = {a}, lifelines says {e}"
        );
    }
}

#[test]
fn cox_matches_lifelines() {
    use tend_stats::cox::{fit, CoxData, CoxOptions};
    for case in fixture("cox.json") {
        let name = case["name"].as_str().unwrap();
        let x = columns(&case["x"]);
        let covariates: Vec<&[f64]> = x.iter().map(Vec::as_slice).collect();
        let strata: Option<Vec<usize>> = case["strata"]
            .as_array()
            .map(|s| s.iter().map(|v| v.as_u64().unwrap() as usize).collect());
        let durations = numbers(&case["durations"]);
        let observed = flags(&case["observed"]);
        let data = CoxData {
            covariates: &covariates,
            durations: &durations,
            observed: &observed,
            strata: strata.as_deref(),
        };
        let options = CoxOptions {
            penalizer: case["penalizer"].as_f64().unwrap(),
            ..CoxOptions::default()
        };
        let model = fit(&data, &options).unwrap_or_else(|e| panic!("{name}: {e}"));

        assert_all_close(
            name,
            "coefficients",
            &model.coefficients,
            &numbers(&case["coefficients"]),
            1e-6,
        );
        assert_all_close(
            name,
            "standard errors",
            &model.standard_errors,
            &numbers(&case["standard_errors"]),
            1e-4,
        );
        assert_all_close(name, "z", &model.z, &numbers(&case["z"]), 1e-3);
        assert_relative(name, "p", &model.p_values, &numbers(&case["p"]), 1e-3);
        assert_all_close(
            name,
            "lower 95%",
            &model.lower,
            &numbers(&case["lower_95"]),
            1e-4,
        );
        assert_all_close(
            name,
            "upper 95%",
            &model.upper,
            &numbers(&case["upper_95"]),
            1e-4,
        );
        assert_all_close(
            name,
            "log-likelihood",
            &[model.log_likelihood],
            &[case["log_likelihood"].as_f64().unwrap()],
            1e-6,
        );
        assert_all_close(
            name,
            "concordance",
            &[model.concordance],
            &[case["concordance"].as_f64().unwrap()],
            1e-6,
        );

        let predict_rows: Vec<Vec<f64>> = case["predict_x"]
            .as_array()
            .unwrap()
            .iter()
            .map(numbers)
            .collect();
        let hazards: Vec<f64> = predict_rows
            .iter()
            .map(|row| model.partial_hazard(row))
            .collect();
        assert_relative(
            name,
            "partial hazard",
            &hazards,
            &numbers(&case["partial_hazard"]),
            1e-5,
        );

        if let Some(statistic) = case["lr_statistic"].as_f64() {
            assert_all_close(
                name,
                "LR statistic",
                &[model.lr_statistic],
                &[statistic],
                1e-5,
            );
            assert_relative(
                name,
                "LR p",
                &[model.lr_p_value],
                &[case["lr_p_value"].as_f64().unwrap()],
                1e-4,
            );
            let baseline = &model.baselines[0];
            assert_eq!(
                baseline.times,
                numbers(&case["baseline_times"]),
                "{name}: baseline times"
            );
            assert_all_close(
                name,
                "baseline",
                &baseline.cumulative_hazard,
                &numbers(&case["baseline_cumulative_hazard"]),
                1e-6,
            );
            let times = numbers(&case["survival_times"]);
            for (row, expected) in predict_rows
                .iter()
                .zip(case["survival"].as_array().unwrap())
            {
                assert_all_close(
                    name,
                    "survival",
                    &model.survival(row, 0, &times),
                    &numbers(expected),
                    1e-6,
                );
            }
        }
    }
}

#[test]
fn evaluation_matches_scikit_learn() {
    use tend_stats::evaluation::*;
    for case in fixture("evaluation.json") {
        let name = case["name"].as_str().unwrap();
        let labels = flags(&case["labels"]);
        let probabilities = numbers(&case["probabilities"]);
        let auc = roc_auc(&labels, &probabilities).unwrap();
        assert_all_close(
            name,
            "ROC AUC",
            &[auc],
            &[case["roc_auc"].as_f64().unwrap()],
            1e-15,
        );
        let ap = average_precision(&labels, &probabilities).unwrap();
        assert_all_close(
            name,
            "average precision",
            &[ap],
            &[case["average_precision"].as_f64().unwrap()],
            1e-12,
        );
        assert_all_close(
            name,
            "Brier",
            &[brier_score(&labels, &probabilities)],
            &[case["brier"].as_f64().unwrap()],
            1e-12,
        );
        assert_all_close(
            name,
            "log loss",
            &[log_loss(&labels, &probabilities)],
            &[case["log_loss"].as_f64().unwrap()],
            1e-12,
        );
        let table = calibration_table(&labels, &probabilities, 10);
        let fractions: Vec<f64> = table.iter().map(|b| b.fraction_positive).collect();
        let means: Vec<f64> = table.iter().map(|b| b.mean_predicted).collect();
        assert_all_close(
            name,
            "calibration fraction",
            &fractions,
            &numbers(&case["calibration_fraction_positive"]),
            1e-12,
        );
        assert_all_close(
            name,
            "calibration mean",
            &means,
            &numbers(&case["calibration_mean_predicted"]),
            1e-12,
        );
    }
}

#[test]
fn logistic_regression_matches_scikit_learn() {
    use tend_stats::logistic::{fit, LogisticOptions};
    for case in fixture("logistic.json") {
        let name = case["name"].as_str().unwrap();
        let rows: Vec<Vec<f64>> = case["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(numbers)
            .collect();
        let labels = flags(&case["labels"]);
        let options = LogisticOptions {
            c: case["c"].as_f64().unwrap(),
            ..LogisticOptions::default()
        };
        let model = fit(&rows, &labels, &options).unwrap();
        assert_all_close(
            name,
            "coefficients",
            &model.coefficients,
            &numbers(&case["coefficients"]),
            1e-4,
        );
        assert_all_close(
            name,
            "intercept",
            &[model.intercept],
            &[case["intercept"].as_f64().unwrap()],
            1e-4,
        );
        let probabilities: Vec<f64> = rows[..10].iter().map(|r| model.predict_proba(r)).collect();
        assert_all_close(
            name,
            "probabilities",
            &probabilities,
            &numbers(&case["probabilities"]),
            1e-6,
        );
        // Contributions add up to the log-odds, around the log-odds of the mean row.
        let logit = |p: f64| (p / (1.0 - p)).ln();
        let contributions = tend_stats::Classifier::contributions(&model, &rows[0]);
        let mean_row_logit = model.intercept
            + model
                .coefficients
                .iter()
                .zip(&model.means)
                .map(|(w, m)| w * m)
                .sum::<f64>();
        assert!(
            (contributions.base - mean_row_logit).abs() < 1e-12,
            "{name}: base"
        );
        assert!(
            (contributions.log_odds() - logit(model.predict_proba(&rows[0]))).abs() < 1e-9,
            "{name}: contributions"
        );
    }
}
