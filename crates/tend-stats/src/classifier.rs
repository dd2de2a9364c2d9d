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

/// A classifier fitted on standardized features: each column's missing values (NaN)
/// set to its training mean, then centred and scaled to unit variance. Linear models
/// need this — an L2 penalty on coefficients of unscaled features (ARR next to a
/// share) would penalise them unequally — and it keeps one contribution per original
/// feature, since every column is transformed on its own.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Standardized<C> {
    inner: C,
    means: Vec<f64>,
    scales: Vec<f64>,
}

impl<C> Standardized<C> {
    fn transform(&self, row: &[f64]) -> Vec<f64> {
        standardize(row, &self.means, &self.scales)
    }
}

fn standardize(row: &[f64], means: &[f64], scales: &[f64]) -> Vec<f64> {
    row.iter()
        .zip(means.iter().zip(scales))
        .map(|(&x, (&m, &s))| if x.is_nan() { 0.0 } else { (x - m) / s })
        .collect()
}

impl<C: Classifier> Classifier for Standardized<C> {
    type Options = C::Options;

    /// ```
    /// use tend_stats::classifier::{Classifier, Standardized};
    /// use tend_stats::logistic::LogisticModel;
    /// let rows: Vec<Vec<f64>> = (0..100).map(|i| vec![i as f64 * 1000.0, if i % 10 == 0 { f64::NAN } else { 1.0 }]).collect();
    /// let labels: Vec<bool> = (0..100).map(|i| i % 4 == 0 || i > 70).collect();
    /// let model = Standardized::<LogisticModel>::fit(&rows, &labels, &Default::default()).unwrap();
    /// assert!(model.predict_proba(&[90_000.0, f64::NAN]) > model.predict_proba(&[10_000.0, 1.0]));
    /// ```
    fn fit(rows: &[Vec<f64>], labels: &[bool], options: &C::Options) -> Result<Self, StatsError> {
        let width = check_rows(rows, labels)?;
        let mut means = vec![0.0; width];
        let mut scales = vec![1.0; width];
        for k in 0..width {
            let values: Vec<f64> = rows.iter().map(|r| r[k]).filter(|v| !v.is_nan()).collect();
            if values.is_empty() {
                continue;
            }
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let variance =
                values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
            means[k] = mean;
            // A constant column stays constant (0) rather than dividing by zero.
            scales[k] = if variance > 0.0 { variance.sqrt() } else { 1.0 };
        }
        let transformed: Vec<Vec<f64>> = rows
            .iter()
            .map(|r| standardize(r, &means, &scales))
            .collect();
        Ok(Standardized {
            inner: C::fit(&transformed, labels, options)?,
            means,
            scales,
        })
    }

    fn predict_proba(&self, row: &[f64]) -> f64 {
        self.inner.predict_proba(&self.transform(row))
    }

    fn contributions(&self, row: &[f64]) -> Contributions {
        self.inner.contributions(&self.transform(row))
    }
}
