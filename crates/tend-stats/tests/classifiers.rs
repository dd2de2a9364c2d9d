//! The churn classifiers behind one trait, their calibration against scikit-learn
//! 1.5.2 (fixtures from `tools/make_stats_fixtures.py`), and the time-split backtest.

mod common;

use common::numbers;
use tend_stats::backtest::{time_split_backtest, TimedRows};
use tend_stats::calibration::{IsotonicCalibration, PlattScaling};
use tend_stats::evaluation::roc_auc;
use tend_stats::logistic::LogisticModel;
use tend_stats::{BoostedTrees, Classifier, KaplanMeier};

/// A seeded linear congruential stream, enough for test data.
struct Stream(u64);

impl Stream {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Churn depends on usage through a threshold and on tickets through an interaction,
/// which trees capture and a linear model only partly.
fn churn_data(rows: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<bool>) {
    let mut s = Stream(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..rows {
        let usage = s.uniform();
        let tickets = s.uniform() * 10.0;
        let noise = s.uniform();
        let risk = if usage < 0.3 { 0.7 } else { 0.1 }
            + if tickets > 7.0 && usage < 0.6 {
                0.25
            } else {
                0.0
            };
        y.push(s.uniform() < risk);
        x.push(vec![usage, tickets, noise]);
    }
    (x, y)
}

fn holdout_auc<C: Classifier>(options: &C::Options) -> (f64, C) {
    let (train_x, train_y) = churn_data(3000, 1);
    let (test_x, test_y) = churn_data(2000, 2);
    let model = C::fit(&train_x, &train_y, options).unwrap();
    let scores: Vec<f64> = test_x.iter().map(|r| model.predict_proba(r)).collect();
    (roc_auc(&test_y, &scores).unwrap(), model)
}

#[test]
fn both_classifiers_fit_predict_and_explain_through_one_trait() {
    let (linear_auc, linear) = holdout_auc::<LogisticModel>(&Default::default());
    let (trees_auc, trees) = holdout_auc::<BoostedTrees>(&Default::default());
    assert!(linear_auc > 0.7, "logistic AUC {linear_auc}");
    assert!(
        trees_auc > linear_auc,
        "trees {trees_auc} should beat logistic {linear_auc} on a threshold effect"
    );

    let row = [0.2, 8.5, 0.5];
    for (name, contributions, p) in [
        (
            "logistic",
            linear.contributions(&row),
            Classifier::predict_proba(&linear, &row),
        ),
        (
            "trees",
            trees.contributions(&row),
            trees.predict_proba(&row),
        ),
    ] {
        assert_eq!(contributions.features.len(), 3);
        let log_odds = (p / (1.0 - p)).ln();
        // forust keeps leaf weights in single precision.
        assert!(
            (contributions.log_odds() - log_odds).abs() < 1e-6,
            "{name}: {contributions:?} vs {log_odds}"
        );
        // Low usage is what drives this customer's risk; the noise column is not.
        assert!(contributions.features[0] > 0.0, "{name}: {contributions:?}");
        assert!(
            contributions.features[0].abs() > contributions.features[2].abs(),
            "{name}: {contributions:?}"
        );
    }
}

#[test]
fn calibration_matches_scikit_learn() {
    for case in common::fixture("calibration.json").as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let scores = numbers(&case["scores"]);
        let labels: Vec<bool> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_bool().unwrap())
            .collect();
        let platt = PlattScaling::fit(&scores, &labels).unwrap();
        let expected = numbers(&case["platt"]);
        // scikit-learn stops L-BFGS-B at its default tolerance; tend solves exactly.
        assert!(
            (platt.a - expected[0]).abs() < 1e-4 && (platt.b - expected[1]).abs() < 1e-4,
            "{name}: {platt:?} vs {expected:?}"
        );

        let iso = IsotonicCalibration::fit(&scores, &labels).unwrap();
        for (at, want) in numbers(&case["at"]).iter().zip(numbers(&case["isotonic"])) {
            let got = iso.calibrate(*at);
            assert!(
                (got - want).abs() < 1e-12,
                "{name}: isotonic({at}) = {got}, scikit-learn {want}"
            );
        }
    }
}

#[test]
fn backtest_trains_only_on_outcomes_known_at_the_cutoff() {
    // One row a month for 24 months; each row's label is its outcome over 90 days.
    let mut times = Vec::new();
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    let (x, y) = churn_data(2400, 9);
    for (i, (r, l)) in x.into_iter().zip(y).enumerate() {
        times.push((i / 100) as f64 * 30.0);
        rows.push(r);
        labels.push(l);
    }
    let data = TimedRows {
        times: &times,
        rows: &rows,
        labels: &labels,
        horizon: 90.0,
    };
    let folds =
        time_split_backtest::<BoostedTrees>(&data, &[300.0, 450.0, 600.0], &Default::default())
            .unwrap();
    assert_eq!(folds.len(), 3);
    // At cutoff 300 only months whose 90 days ended by day 300 are known: days 0..=210.
    assert_eq!(folds[0].train_rows, 800);
    assert_eq!(folds[0].test_rows, 500);
    assert_eq!(folds[2].test_rows, 2400 - 2000);
    for fold in &folds {
        assert!(fold.roc_auc.unwrap() > 0.75, "{fold:?}");
        assert!(
            fold.brier_score < 0.25
                && fold.log_loss.is_finite()
                && fold.lift_top_decile.unwrap() > 1.0,
            "{fold:?}"
        );
    }
    // A cutoff before any outcome is known gives no fold rather than a model of nothing.
    let none = time_split_backtest::<LogisticModel>(&data, &[30.0], &Default::default()).unwrap();
    assert!(none.is_empty());
}

#[test]
fn stratified_kaplan_meier_is_one_curve_per_stratum() {
    let durations = [5.0, 8.0, 8.0, 12.0, 3.0, 9.0, 15.0, 20.0, 4.0, 7.0];
    let observed = [
        true, true, false, true, true, false, true, false, true, true,
    ];
    let plan = ["a", "a", "a", "a", "b", "b", "b", "b", "c", "c"];
    let curves = KaplanMeier::fit_stratified(&durations, &observed, &plan, 0.05).unwrap();
    assert_eq!(curves.keys().copied().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(
        curves["a"],
        KaplanMeier::fit(&durations[..4], &observed[..4]).unwrap()
    );
    assert_eq!(
        curves["b"],
        KaplanMeier::fit(&durations[4..8], &observed[4..8]).unwrap()
    );
    assert!(KaplanMeier::fit_stratified(&durations, &observed, &plan[..3], 0.05).is_err());
}

#[test]
fn a_churn_model_is_calibrated_out_of_fold_and_survives_storage() {
    use tend_stats::churn::{backtest, ChurnModel, ModelKind};
    let (x, y) = churn_data(4000, 5);
    // 400 accounts of 10 rows each.
    let groups: Vec<usize> = (0..x.len()).map(|i| i / 10).collect();
    for kind in ModelKind::ALL {
        let model = ChurnModel::fit(kind, &groups, &x, &y).unwrap();
        let stored = ChurnModel::from_json(&model.to_json()).unwrap();
        let (test_x, test_y) = churn_data(3000, 6);
        let p: Vec<f64> = test_x.iter().map(|r| model.probability(r)).collect();
        for (row, &expected) in test_x.iter().zip(&p) {
            assert_eq!(stored.probability(row), expected);
        }
        // Calibrated: the mean prediction is the observed rate, within sampling error.
        let mean = p.iter().sum::<f64>() / p.len() as f64;
        let observed = test_y.iter().filter(|&&l| l).count() as f64 / test_y.len() as f64;
        assert!(
            (mean - observed).abs() < 0.02,
            "{kind:?}: {mean} vs {observed}"
        );
        assert!(roc_auc(&test_y, &p).unwrap() > 0.7);
    }
    // A backtest fits at each cutoff on rows whose outcome was known by then.
    let times: Vec<f64> = (0..x.len()).map(|i| (i % 10) as f64 * 30.0).collect();
    let data = TimedRows {
        times: &times,
        rows: &x,
        labels: &y,
        horizon: 60.0,
    };
    let folds = backtest(ModelKind::BoostedTrees, &data, &groups, &[180.0, 240.0]).unwrap();
    assert_eq!(folds.len(), 2);
    assert_eq!(folds[0].train_rows, 400 * 5); // times 0..=120
    assert_eq!(folds[0].test.len(), 400 * 2); // times 180 and 210
    assert_eq!(folds[1].test.len(), 400 * 2); // times 240 and 270
    assert!(folds.iter().all(|f| f.probabilities.len() == f.test.len()));
}
