//! One interface over the churn classifiers, so that scoring, calibration and
//! backtests do not care which model is behind them.

use crate::logistic::{self, LogisticModel, LogisticOptions};
use crate::StatsError;

/// A row's log-odds split into a base value and one push per feature:
/// `base + Σ features` is the log-odds of the prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Contributions {
    pub base: f64,
    pub features: Vec<f64>,
}

impl Contributions {
    pub fn log_odds(&self) -> f64 {
        self.base + self.features.iter().sum::<f64>()
    }
}

/// A binary classifier: fitted on rows of features, it gives the probability of the
/// positive class and explains each prediction feature by feature.
pub trait Classifier: Sized {
    type Options: Default + Clone;

    fn fit(rows: &[Vec<f64>], labels: &[bool], options: &Self::Options)
        -> Result<Self, StatsError>;

    fn predict_proba(&self, row: &[f64]) -> f64;

    fn contributions(&self, row: &[f64]) -> Contributions;
}

impl Classifier for LogisticModel {
    type Options = LogisticOptions;

    fn fit(
        rows: &[Vec<f64>],
        labels: &[bool],
        options: &LogisticOptions,
    ) -> Result<Self, StatsError> {
        logistic::fit(rows, labels, options)
    }

    fn predict_proba(&self, row: &[f64]) -> f64 {
        LogisticModel::predict_proba(self, row)
    }

    /// Each feature's push on the log-odds relative to an average row: coefficient ×
    /// (value − training mean), around the log-odds of the mean row (on standardized
    /// features, coefficient × standardized value).
    fn contributions(&self, row: &[f64]) -> Contributions {
        let w = &self.coefficients;
        Contributions {
            base: self.intercept + w.iter().zip(&self.means).map(|(w, m)| w * m).sum::<f64>(),
            features: w
                .iter()
                .zip(row)
                .zip(&self.means)
                .map(|((w, x), m)| w * (x - m))
                .collect(),
        }
    }
}

pub(crate) fn check_rows(rows: &[Vec<f64>], labels: &[bool]) -> Result<usize, StatsError> {
    if rows.len() != labels.len() {
        return Err(StatsError::LengthMismatch("rows", "labels"));
    }
    let width = rows.first().map_or(0, Vec::len);
    if rows.is_empty() || width == 0 {
        return Err(StatsError::Empty);
    }
    if rows.iter().any(|r| r.len() != width) {
        return Err(StatsError::LengthMismatch("rows", "rows"));
    }
    Ok(width)
}
