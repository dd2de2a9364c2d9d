//! A churn model as a product needs one: a classifier of either kind, its scores
//! calibrated into probabilities on rows it was not fitted on, explainable feature by
//! feature, chosen between kinds by a time-split backtest, and storable as JSON.

use serde::{Deserialize, Serialize};

use crate::backtest::{split, TimedRows};
use crate::calibration::{IsotonicCalibration, PlattScaling};
use crate::classifier::{Classifier, Contributions, Standardized};
use crate::logistic::LogisticModel;
use crate::{BoostedTrees, BoostingOptions, StatsError};

/// The kinds of classifier a churn model can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Gradient-boosted trees (missing values handled by the trees).
    BoostedTrees,
    /// L2 logistic regression on standardized features (missing values at the mean).
    Logistic,
}

impl ModelKind {
    pub const ALL: [ModelKind; 2] = [ModelKind::BoostedTrees, ModelKind::Logistic];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::BoostedTrees => "gradient-boosted trees",
            ModelKind::Logistic => "logistic regression",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
enum Fitted {
    Trees(Box<BoostedTrees>),
    Logistic(Standardized<LogisticModel>),
}

impl Fitted {
    fn fit(kind: ModelKind, rows: &[Vec<f64>], labels: &[bool]) -> Result<Fitted, StatsError> {
        Ok(match kind {
            ModelKind::BoostedTrees => Fitted::Trees(Box::new(BoostedTrees::fit(
                rows,
                labels,
                &BoostingOptions::default(),
            )?)),
            ModelKind::Logistic => {
                Fitted::Logistic(Standardized::fit(rows, labels, &Default::default())?)
            }
        })
    }

    fn predict(&self, row: &[f64]) -> f64 {
        match self {
            Fitted::Trees(m) => m.predict_proba(row),
            Fitted::Logistic(m) => m.predict_proba(row),
        }
    }

    fn contributions(&self, row: &[f64]) -> Contributions {
        match self {
            Fitted::Trees(m) => m.contributions(row),
            Fitted::Logistic(m) => m.contributions(row),
        }
    }
}

/// How raw scores become probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Calibration {
    Platt(PlattScaling),
    Isotonic(IsotonicCalibration),
}

/// Isotonic regression needs enough positives for its steps to mean anything;
/// below this many, Platt's two-parameter sigmoid is the safer map.
const ISOTONIC_MIN_POSITIVES: usize = 1000;

impl Calibration {
    /// Fits a map from raw log-odds to probability.
    fn fit(log_odds: &[f64], labels: &[bool]) -> Result<Calibration, StatsError> {
        let positives = labels.iter().filter(|&&l| l).count();
        Ok(if positives >= ISOTONIC_MIN_POSITIVES {
            Calibration::Isotonic(IsotonicCalibration::fit(log_odds, labels)?)
        } else {
            Calibration::Platt(PlattScaling::fit(log_odds, labels)?)
        })
    }

    fn apply(&self, log_odds: f64) -> f64 {
        match self {
            Calibration::Platt(p) => p.calibrate(log_odds),
            Calibration::Isotonic(i) => i.calibrate(log_odds),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Calibration::Platt(_) => "Platt scaling",
            Calibration::Isotonic(_) => "isotonic regression",
        }
    }
}

/// Calibration folds: every row's calibration score comes from a classifier fitted
/// without its account's rows.
const CALIBRATION_FOLDS: usize = 4;

/// A fitted, calibrated churn model.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChurnModel {
    pub kind: ModelKind,
    fitted: Fitted,
    pub calibration: Calibration,
    /// Rows the classifier and its calibration were fitted on.
    pub rows: usize,
}

fn log_odds(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}

fn both_classes(labels: &[bool]) -> bool {
    labels.iter().any(|&l| l) && labels.iter().any(|&l| !l)
}

impl ChurnModel {
    /// Fits the classifier on every row and calibrates its scores on out-of-fold
    /// scores: rows are split into folds by `groups` (one group per account, so that
    /// an account's snapshots, which are alike, never sit on both sides), each fold
    /// scored by a classifier fitted on the others. A classifier scoring rows it was
    /// fitted on is overconfident; these scores are honest.
    ///
    /// ```
    /// use tend_stats::churn::{ChurnModel, ModelKind};
    /// let groups: Vec<usize> = (0..2000).map(|i| i % 200).collect();
    /// let rows: Vec<Vec<f64>> = (0..2000).map(|i| vec![((i * 37) % 100) as f64]).collect();
    /// let labels: Vec<bool> = (0..2000).map(|i| ((i * 37) % 100) < 30 && i % 3 > 0).collect();
    /// let model = ChurnModel::fit(ModelKind::Logistic, &groups, &rows, &labels).unwrap();
    /// assert!(model.probability(&[5.0]) > 0.4 && model.probability(&[80.0]) < 0.1);
    /// ```
    pub fn fit(
        kind: ModelKind,
        groups: &[usize],
        rows: &[Vec<f64>],
        labels: &[bool],
    ) -> Result<ChurnModel, StatsError> {
        if groups.len() != rows.len() || labels.len() != rows.len() {
            return Err(StatsError::LengthMismatch("groups", "rows"));
        }
        if !both_classes(labels) {
            return Err(StatsError::Model(
                "the rows need both churned and retained accounts".into(),
            ));
        }
        let fold_of = |i: usize| groups[i] % CALIBRATION_FOLDS;
        let mut scores = vec![0.0; rows.len()];
        for fold in 0..CALIBRATION_FOLDS {
            let (held, fit): (Vec<usize>, Vec<usize>) =
                (0..rows.len()).partition(|&i| fold_of(i) == fold);
            if held.is_empty() {
                continue;
            }
            let fit_labels: Vec<bool> = fit.iter().map(|&i| labels[i]).collect();
            if !both_classes(&fit_labels) {
                return Err(StatsError::Model(
                    "too few accounts of one outcome to calibrate on".into(),
                ));
            }
            let fit_rows: Vec<Vec<f64>> = fit.iter().map(|&i| rows[i].clone()).collect();
            let fitted = Fitted::fit(kind, &fit_rows, &fit_labels)?;
            for &i in &held {
                scores[i] = log_odds(fitted.predict(&rows[i]));
            }
        }
        let calibration = Calibration::fit(&scores, labels)?;
        Ok(ChurnModel {
            kind,
            fitted: Fitted::fit(kind, rows, labels)?,
            calibration,
            rows: rows.len(),
        })
    }

    /// The calibrated probability of churn for one row.
    pub fn probability(&self, row: &[f64]) -> f64 {
        self.calibration.apply(log_odds(self.fitted.predict(row)))
    }

    /// The uncalibrated classifier's probability.
    pub fn raw_probability(&self, row: &[f64]) -> f64 {
        self.fitted.predict(row)
    }

    /// Each feature's push on the classifier's log-odds (before calibration, which
    /// keeps their order).
    pub fn contributions(&self, row: &[f64]) -> Contributions {
        self.fitted.contributions(row)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a fitted model serializes")
    }

    pub fn from_json(json: &str) -> Result<ChurnModel, StatsError> {
        serde_json::from_str(json).map_err(|e| StatsError::Model(format!("a stored model: {e}")))
    }
}

/// One fold of a backtest: what a model fitted at `cutoff` predicted for the rows
/// observed from then until the next cutoff.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldPredictions {
    pub cutoff: f64,
    pub train_rows: usize,
    /// Positives among the training rows ÷ training rows: what a model without
    /// features would predict.
    pub base_rate: f64,
    /// Indices of the test rows in the data.
    pub test: Vec<usize>,
    /// Calibrated probabilities, one per test row.
    pub probabilities: Vec<f64>,
}

/// Fits a fresh [`ChurnModel`] of `kind` at each cutoff on the rows whose outcome was
/// known by then (time + horizon ≤ cutoff) and predicts the rows observed from the
/// cutoff until the next one; `groups` tells rows of one account. Folds whose
/// training rows cannot be fitted (one class) or that have no test rows are skipped.
pub fn backtest(
    kind: ModelKind,
    data: &TimedRows,
    groups: &[usize],
    cutoffs: &[f64],
) -> Result<Vec<FoldPredictions>, StatsError> {
    let n = data.times.len();
    if data.rows.len() != n || data.labels.len() != n || groups.len() != n {
        return Err(StatsError::LengthMismatch("times", "rows"));
    }
    let mut folds = Vec::new();
    for (k, &cutoff) in cutoffs.iter().enumerate() {
        let (train, test) = split(data, cutoffs, k);
        if test.is_empty() {
            continue;
        }
        let train_groups: Vec<usize> = train.iter().map(|&i| groups[i]).collect();
        let rows: Vec<Vec<f64>> = train.iter().map(|&i| data.rows[i].clone()).collect();
        let labels: Vec<bool> = train.iter().map(|&i| data.labels[i]).collect();
        let model = match ChurnModel::fit(kind, &train_groups, &rows, &labels) {
            Ok(model) => model,
            Err(StatsError::Model(_)) => continue,
            Err(other) => return Err(other),
        };
        let positives = labels.iter().filter(|&&l| l).count();
        folds.push(FoldPredictions {
            cutoff,
            train_rows: train.len(),
            base_rate: positives as f64 / train.len() as f64,
            probabilities: test
                .iter()
                .map(|&i| model.probability(&data.rows[i]))
                .collect(),
            test,
        });
    }
    Ok(folds)
}
