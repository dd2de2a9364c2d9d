//! Time-split backtests: how would a churn model fitted on the past have scored the
//! future? Each fold trains on rows whose outcome was known by the cutoff and tests
//! on the rows observed from the cutoff until the next one.

use crate::classifier::Classifier;
use crate::evaluation::{average_precision, brier_score, lift, log_loss, roc_auc};
use crate::StatsError;

/// Rows observed over time: each row's features were taken at `times[i]` and its label
/// is the outcome over the `horizon` after it (churned within 180 days, say).
pub struct TimedRows<'a> {
    pub times: &'a [f64],
    pub rows: &'a [Vec<f64>],
    pub labels: &'a [bool],
    pub horizon: f64,
}

/// One fold of a backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    pub cutoff: f64,
    pub train_rows: usize,
    pub test_rows: usize,
    pub test_positives: usize,
    /// `None` when the test rows hold only one class.
    pub roc_auc: Option<f64>,
    pub average_precision: Option<f64>,
    pub brier_score: f64,
    pub log_loss: f64,
    pub lift_top_decile: Option<f64>,
}

/// The training and test rows of the fold at `cutoffs[k]`: rows whose outcome was
/// known by the cutoff (time + horizon ≤ cutoff), and rows observed from the cutoff
/// until the next one (no end for the last).
pub(crate) fn split(data: &TimedRows, cutoffs: &[f64], k: usize) -> (Vec<usize>, Vec<usize>) {
    let (cutoff, n) = (cutoffs[k], data.times.len());
    let end = cutoffs.get(k + 1).copied().unwrap_or(f64::INFINITY);
    let train = (0..n)
        .filter(|&i| data.times[i] + data.horizon <= cutoff)
        .collect();
    let test = (0..n)
        .filter(|&i| data.times[i] >= cutoff && data.times[i] < end)
        .collect();
    (train, test)
}

/// Fits a fresh `C` at each cutoff and scores it on the following period.
///
/// Training rows at cutoff c are those with time + horizon ≤ c, whose labels were
/// known at c: a row observed closer to the cutoff would leak the future into the
/// fit. Test rows have c ≤ time < the next cutoff (no end for the last). Folds
/// without training rows of both classes or without test rows are skipped.
///
/// ```
/// use tend_stats::backtest::{time_split_backtest, TimedRows};
/// use tend_stats::logistic::LogisticModel;
/// let times: Vec<f64> = (0..400).map(|i| (i / 40) as f64 * 30.0).collect();
/// let rows: Vec<Vec<f64>> = (0..400).map(|i| vec![((i * 37) % 100) as f64 / 100.0]).collect();
/// let labels: Vec<bool> = rows.iter().enumerate().map(|(i, r)| r[0] + ((i * 11) % 10) as f64 / 20.0 > 0.8).collect();
/// let data = TimedRows { times: &times, rows: &rows, labels: &labels, horizon: 60.0 };
/// let folds = time_split_backtest::<LogisticModel>(&data, &[150.0, 210.0, 270.0], &Default::default()).unwrap();
/// assert_eq!(folds.len(), 3);
/// assert!(folds.iter().all(|f| f.roc_auc.unwrap() > 0.8));
/// ```
pub fn time_split_backtest<C: Classifier>(
    data: &TimedRows,
    cutoffs: &[f64],
    options: &C::Options,
) -> Result<Vec<Fold>, StatsError> {
    let n = data.times.len();
    if data.rows.len() != n {
        return Err(StatsError::LengthMismatch("times", "rows"));
    }
    if data.labels.len() != n {
        return Err(StatsError::LengthMismatch("times", "labels"));
    }
    let mut folds = Vec::new();
    for (k, &cutoff) in cutoffs.iter().enumerate() {
        let (train, test) = split(data, cutoffs, k);
        let train_positives = train.iter().filter(|&&i| data.labels[i]).count();
        if test.is_empty() || train_positives == 0 || train_positives == train.len() {
            continue;
        }
        let rows: Vec<Vec<f64>> = train.iter().map(|&i| data.rows[i].clone()).collect();
        let labels: Vec<bool> = train.iter().map(|&i| data.labels[i]).collect();
        let model = C::fit(&rows, &labels, options)?;
        let scores: Vec<f64> = test
            .iter()
            .map(|&i| model.predict_proba(&data.rows[i]))
            .collect();
        let truth: Vec<bool> = test.iter().map(|&i| data.labels[i]).collect();
        folds.push(Fold {
            cutoff,
            train_rows: train.len(),
            test_rows: test.len(),
            test_positives: truth.iter().filter(|&&l| l).count(),
            roc_auc: roc_auc(&truth, &scores),
            average_precision: average_precision(&truth, &scores),
            brier_score: brier_score(&truth, &scores),
            log_loss: log_loss(&truth, &scores),
            lift_top_decile: lift(&truth, &scores, 0.1),
        });
    }
    Ok(folds)
}
