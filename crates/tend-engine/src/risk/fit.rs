//! Fitting a churn model on the store's own history: training rows at past dates,
//! a time-split backtest of both kinds of model without look-ahead, the better one
//! fitted on every labelled row and calibrated, and an evaluation a team can read.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tend_core::health::ScorecardSet;
use tend_stats::backtest::TimedRows;
use tend_stats::churn::{backtest, ChurnModel, FoldPredictions, ModelKind};
use tend_stats::evaluation::{
    average_precision, brier_score, calibration_table, lift, log_loss, roc_auc,
};
use tend_store::{RiskModelRecord, Store};

use super::rows::{compute, feature_set, FeatureRow, Labels, Money, Setting};
use super::score::{store_scores, StoredFeatures};
use super::{RiskError, RiskOptions};

/// Fewer labelled snapshots or outcomes than these is too little to learn from.
pub const MIN_ROWS: usize = 500;
pub const MIN_POSITIVES: usize = 30;
/// Backtest folds at most.
const FOLDS: usize = 4;
/// Training periods before the first cutoff, in snapshot steps: the first fold's
/// model needs a few dates to fit and calibrate on.
const FIRST_FOLD_STEPS: u32 = 6;

/// Quality figures of predictions against outcomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub rows: usize,
    pub positives: usize,
    pub roc_auc: Option<f64>,
    pub pr_auc: Option<f64>,
    pub brier: f64,
    /// The Brier score of predicting the training base rate for every row.
    pub base_rate_brier: f64,
    pub log_loss: f64,
    pub lift_top_decile: Option<f64>,
    /// The AUC of low health predicting the outcome on the same rows (those with a
    /// health score).
    pub health_auc: Option<f64>,
}

/// One backtest fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldReport {
    pub cutoff: NaiveDate,
    pub train_rows: usize,
    pub scores: Scores,
}

/// One bin of the calibration table, with the 95% Wilson interval of its observed
/// rate: a calibrated model's mean prediction falls inside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationRow {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    pub mean_predicted: f64,
    pub observed: f64,
    pub observed_low: f64,
    pub observed_high: f64,
}

/// How one kind of model did in the backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub kind: ModelKind,
    pub folds: Vec<FoldReport>,
    /// Every fold's test rows together.
    pub pooled: Option<Scores>,
}

/// What `tend risk evaluate` prints and a fitted model keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskEvaluation {
    pub target: String,
    pub horizon_days: u32,
    pub as_of: NaiveDate,
    /// Training snapshot days, oldest first.
    pub days: Vec<NaiveDate>,
    pub accounts: usize,
    /// Snapshots whose outcome is known, and how many had it.
    pub labelled_rows: usize,
    pub positives: usize,
    /// Why nothing was learnt, when the data are too few.
    pub too_little: Option<String>,
    pub candidates: Vec<Candidate>,
    /// The kind with the higher pooled backtest AUC.
    pub chosen: Option<ModelKind>,
    /// The chosen kind's calibration table over its folds.
    pub calibration: Vec<CalibrationRow>,
}

impl RiskEvaluation {
    pub fn chosen_candidate(&self) -> Option<&Candidate> {
        self.candidates.iter().find(|c| Some(c.kind) == self.chosen)
    }
}

/// What a refit did.
#[derive(Debug, Clone, PartialEq)]
pub struct Refit {
    pub evaluation: RiskEvaluation,
    /// The stored model, `None` when there was too little to learn from.
    pub model_id: Option<i64>,
    /// Accounts scored with it on the last day of the data.
    pub scored: usize,
    pub calibration: Option<String>,
}

fn day_number(day: NaiveDate) -> f64 {
    f64::from(day.num_days_from_ce())
}

/// Training days: every `every_days` back from the last day whose outcome is known,
/// at most `snapshots` of them, none before `first`.
fn training_days(
    first: Option<NaiveDate>,
    as_of: NaiveDate,
    options: &RiskOptions,
) -> Vec<NaiveDate> {
    let Some(first) = first else {
        return Vec::new();
    };
    let latest = as_of - Days::new(u64::from(options.horizon_days));
    let mut days: Vec<NaiveDate> = (0..options.snapshots as u64)
        .map(|k| latest - Days::new(k * u64::from(options.every_days.max(1))))
        .filter(|d| *d > first)
        .collect();
    days.reverse();
    days
}

/// The labelled training rows of the store through `as_of`.
pub(crate) struct Training {
    pub rows: Vec<FeatureRow>,
    pub features: tend_core::risk::FeatureSet,
    pub money: Money,
    pub days: Vec<NaiveDate>,
    pub accounts: usize,
}

pub(crate) async fn training_rows(
    store: &Store,
    set: &ScorecardSet,
    as_of: NaiveDate,
    options: &RiskOptions,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Training, RiskError> {
    let accounts = store.accounts().await?;
    // Rows need data to learn from: none before the first account, nor before usage
    // was first recorded (older accounts predate the history a store holds).
    let first_account = accounts.iter().map(|a| a.created_on).min();
    let first_usage = store.first_usage_day().await?;
    let first = first_account.max(first_usage).or(first_account);
    let days = training_days(first, as_of, options);
    let features = feature_set(&accounts, as_of);
    let money = Money::load(store, options.currency, as_of).await?;
    let ids: Vec<String> = accounts
        .iter()
        .filter(|a| a.created_on <= as_of)
        .map(|a| a.id.clone())
        .collect();
    let labels = Labels {
        target: options.target,
        horizon_days: options.horizon_days,
        as_of,
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = ids.len();
    let computed = compute(
        store,
        set,
        &ids,
        &days,
        Setting {
            features: features.clone(),
            money: money.clone(),
            labels: Some(labels),
            model: None,
        },
        &|n| {
            let so_far = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
            progress(so_far, total);
        },
    )
    .await?;
    let rows: Vec<FeatureRow> = computed
        .into_iter()
        .map(|c| c.row)
        .filter(|r| r.label.is_some())
        .collect();
    let accounts = rows
        .iter()
        .map(|r| r.account_id.as_str())
        .collect::<HashSet<_>>()
        .len();
    Ok(Training {
        rows,
        features,
        money,
        days,
        accounts,
    })
}

/// Cutoffs between training and test: up to [`FOLDS`] training days spread over those
/// after the first few steps and a horizon, the last one the last training day.
fn cutoffs(days: &[NaiveDate], options: &RiskOptions) -> Vec<NaiveDate> {
    let Some(&first) = days.first() else {
        return Vec::new();
    };
    let earliest = first
        + Days::new(u64::from(options.horizon_days))
        + Days::new(u64::from(FIRST_FOLD_STEPS * options.every_days));
    let candidates: Vec<NaiveDate> = days.iter().copied().filter(|d| *d >= earliest).collect();
    if candidates.len() <= FOLDS {
        return candidates;
    }
    // Evenly spaced, ending on the last.
    let n = candidates.len() - 1;
    let mut picked: Vec<NaiveDate> = (0..FOLDS)
        .map(|k| candidates[n - (FOLDS - 1 - k) * n / (FOLDS - 1)])
        .collect();
    picked.dedup();
    picked
}

fn wilson(positives: usize, count: usize) -> (f64, f64) {
    let (n, z) = (count as f64, 1.959_963_984_540_054_f64);
    let p = positives as f64 / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (centre - half, centre + half)
}

/// The calibration table of predictions against outcomes, in ten bins.
pub fn calibration_rows(labels: &[bool], probabilities: &[f64]) -> Vec<CalibrationRow> {
    calibration_table(labels, probabilities, 10)
        .into_iter()
        .map(|bin| {
            let positives = (bin.fraction_positive * bin.count as f64).round() as usize;
            let (low, high) = wilson(positives, bin.count);
            CalibrationRow {
                lower: bin.lower,
                upper: bin.upper,
                count: bin.count,
                mean_predicted: bin.mean_predicted,
                observed: bin.fraction_positive,
                observed_low: low,
                observed_high: high,
            }
        })
        .collect()
}

fn scores(rows: &[&FeatureRow], probabilities: &[f64], base_rate: &[f64]) -> Scores {
    let labels: Vec<bool> = rows.iter().map(|r| r.label == Some(true)).collect();
    let (health_labels, low_health): (Vec<bool>, Vec<f64>) = rows
        .iter()
        .filter_map(|r| Some((r.label == Some(true), -r.health?)))
        .unzip();
    Scores {
        rows: rows.len(),
        positives: labels.iter().filter(|&&l| l).count(),
        roc_auc: roc_auc(&labels, probabilities),
        pr_auc: average_precision(&labels, probabilities),
        brier: brier_score(&labels, probabilities),
        base_rate_brier: brier_score(&labels, base_rate),
        log_loss: log_loss(&labels, probabilities),
        lift_top_decile: lift(&labels, probabilities, 0.1),
        health_auc: roc_auc(&health_labels, &low_health),
    }
}

fn to_day(number: f64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(number as i32).expect("a day number from a day")
}

/// Backtests both kinds of model on the training rows and picks the better.
fn backtest_candidates(
    training: &Training,
    options: &RiskOptions,
    as_of: NaiveDate,
) -> Result<RiskEvaluation, RiskError> {
    let rows = &training.rows;
    let positives = rows.iter().filter(|r| r.label == Some(true)).count();
    let mut evaluation = RiskEvaluation {
        target: options.target.as_str().to_string(),
        horizon_days: options.horizon_days,
        as_of,
        days: training.days.clone(),
        accounts: training.accounts,
        labelled_rows: rows.len(),
        positives,
        too_little: None,
        candidates: Vec::new(),
        chosen: None,
        calibration: Vec::new(),
    };
    let folds_at = cutoffs(&training.days, options);
    let outcome = options.target.describe(options.horizon_days);
    if rows.len() < MIN_ROWS || positives < MIN_POSITIVES || rows.len() - positives < MIN_POSITIVES
    {
        evaluation.too_little = Some(format!(
            "{} account snapshots with a known outcome, {positives} of them an account that {outcome}: \
             at least {MIN_ROWS} snapshots and {MIN_POSITIVES} of each outcome are needed to learn from",
            rows.len()
        ));
        return Ok(evaluation);
    }
    if folds_at.is_empty() {
        evaluation.too_little = Some(format!(
            "the history spans {} training dates; a backtest needs {} days of outcomes and {} snapshot steps before its first cutoff",
            training.days.len(),
            options.horizon_days,
            FIRST_FOLD_STEPS
        ));
        return Ok(evaluation);
    }
    let times: Vec<f64> = rows.iter().map(|r| day_number(r.day)).collect();
    let values: Vec<Vec<f64>> = rows.iter().map(|r| r.values.clone()).collect();
    let labels: Vec<bool> = rows.iter().map(|r| r.label == Some(true)).collect();
    let data = TimedRows {
        times: &times,
        rows: &values,
        labels: &labels,
        horizon: f64::from(options.horizon_days),
    };
    let groups = account_groups(rows);
    let cutoff_numbers: Vec<f64> = folds_at.iter().map(|d| day_number(*d)).collect();
    let mut best: Option<(f64, ModelKind, Vec<FoldPredictions>)> = None;
    for kind in ModelKind::ALL {
        let folds = backtest(kind, &data, &groups, &cutoff_numbers)?;
        let mut reports = Vec::new();
        let (mut pooled_rows, mut pooled_p, mut pooled_base) = (Vec::new(), Vec::new(), Vec::new());
        for fold in &folds {
            let test: Vec<&FeatureRow> = fold.test.iter().map(|&i| &rows[i]).collect();
            let base = vec![fold.base_rate; test.len()];
            reports.push(FoldReport {
                cutoff: to_day(fold.cutoff),
                train_rows: fold.train_rows,
                scores: scores(&test, &fold.probabilities, &base),
            });
            pooled_rows.extend(test);
            pooled_p.extend(&fold.probabilities);
            pooled_base.extend(base);
        }
        let pooled =
            (!pooled_rows.is_empty()).then(|| scores(&pooled_rows, &pooled_p, &pooled_base));
        let auc = pooled.as_ref().and_then(|s| s.roc_auc).unwrap_or(0.0);
        if best.as_ref().is_none_or(|(b, _, _)| auc > *b) {
            best = Some((auc, kind, folds));
        }
        evaluation.candidates.push(Candidate {
            kind,
            folds: reports,
            pooled,
        });
    }
    if let Some((_, kind, folds)) = best.filter(|(_, _, f)| !f.is_empty()) {
        let truth: Vec<bool> = folds
            .iter()
            .flat_map(|f| f.test.iter().map(|&i| labels[i]))
            .collect();
        let predicted: Vec<f64> = folds
            .iter()
            .flat_map(|f| f.probabilities.iter().copied())
            .collect();
        evaluation.chosen = Some(kind);
        evaluation.calibration = calibration_rows(&truth, &predicted);
    } else {
        evaluation.too_little =
            Some("no backtest fold had training rows of both outcomes on enough dates".to_string());
    }
    Ok(evaluation)
}

/// Backtests both kinds of model on the store's history through `as_of`, without
/// storing anything.
pub async fn evaluate(
    store: &Store,
    set: &ScorecardSet,
    as_of: NaiveDate,
    options: &RiskOptions,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<RiskEvaluation, RiskError> {
    let training = training_rows(store, set, as_of, options, progress).await?;
    backtest_candidates(&training, options, as_of)
}

/// Fits the model on the store's history through `as_of` (the backtest's choice, on
/// every labelled row), stores it, and scores every active account on `as_of` with
/// it. With too little data nothing is stored and the evaluation says why.
pub async fn refit(
    store: &Store,
    set: &ScorecardSet,
    as_of: NaiveDate,
    options: &RiskOptions,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Refit, RiskError> {
    let training = training_rows(store, set, as_of, options, progress).await?;
    let evaluation = backtest_candidates(&training, options, as_of)?;
    let Some(kind) = evaluation
        .chosen
        .filter(|_| evaluation.too_little.is_none())
    else {
        return Ok(Refit {
            evaluation,
            model_id: None,
            scored: 0,
            calibration: None,
        });
    };
    let model = fit_final(kind, &training.rows)?;
    let stored = StoredFeatures {
        names: training.features.names(),
        currency: training.money.currency.to_string(),
    };
    let record = RiskModelRecord {
        id: 0,
        target: options.target.as_str().to_string(),
        fitted_at: Utc::now(),
        as_of,
        horizon_days: options.horizon_days as i32,
        kind: kind_name(kind).to_string(),
        features: serde_json::to_string(&stored).expect("names serialize"),
        model: model.to_json(),
        evaluation: serde_json::to_string(&evaluation).expect("an evaluation serializes"),
    };
    let mut tx = store.begin().await?;
    let id = tx.insert_risk_model(&record).await?;
    tx.commit().await?;
    let calibration = Some(model.calibration.name().to_string());
    let loaded = super::score::LoadedModel {
        id,
        target: options.target,
        horizon_days: options.horizon_days,
        features: training.features,
        money: training.money,
        model: std::sync::Arc::new(model),
    };
    let scored = store_scores(store, set, &loaded, as_of, &options.bands, None).await?;
    Ok(Refit {
        evaluation,
        model_id: Some(id),
        scored,
        calibration,
    })
}

/// The chosen kind fitted on every labelled row.
pub(crate) fn fit_final(kind: ModelKind, rows: &[FeatureRow]) -> Result<ChurnModel, RiskError> {
    let values: Vec<Vec<f64>> = rows.iter().map(|r| r.values.clone()).collect();
    let labels: Vec<bool> = rows.iter().map(|r| r.label == Some(true)).collect();
    Ok(ChurnModel::fit(
        kind,
        &account_groups(rows),
        &values,
        &labels,
    )?)
}

/// A number per account (in order of first appearance), so that models keep each
/// account's rows together.
fn account_groups(rows: &[FeatureRow]) -> Vec<usize> {
    let mut numbers: std::collections::HashMap<&str, usize> = Default::default();
    rows.iter()
        .map(|r| {
            let next = numbers.len();
            *numbers.entry(r.account_id.as_str()).or_insert(next)
        })
        .collect()
}

/// The kind [`kind_name`] names.
pub(crate) fn kind_of(name: &str) -> Option<ModelKind> {
    ModelKind::ALL.into_iter().find(|k| kind_name(*k) == name)
}

pub(crate) fn kind_name(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::BoostedTrees => "boosted_trees",
        ModelKind::Logistic => "logistic",
    }
}

/// Writes the labelled training rows of the store through `as_of` as CSV, to check
/// the model with other tools: account, day, label (1 when the outcome happened),
/// the day's health score, then every feature (empty where missing). Returns the
/// rows written.
pub async fn export_training_rows(
    store: &Store,
    set: &ScorecardSet,
    as_of: NaiveDate,
    options: &RiskOptions,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
    out: impl std::io::Write,
) -> Result<usize, RiskError> {
    let training = training_rows(store, set, as_of, options, progress).await?;
    let failed = |e: csv::Error| RiskError::Export(e.to_string());
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec![
        "account_id".to_string(),
        "day".into(),
        "label".into(),
        "health".into(),
    ];
    header.extend(training.features.names());
    writer.write_record(&header).map_err(failed)?;
    let number = |v: f64| {
        if v.is_nan() {
            String::new()
        } else {
            v.to_string()
        }
    };
    for row in &training.rows {
        let mut record = vec![
            row.account_id.clone(),
            row.day.to_string(),
            u8::from(row.label == Some(true)).to_string(),
            row.health.map_or_else(String::new, number),
        ];
        record.extend(row.values.iter().map(|&v| number(v)));
        writer.write_record(&record).map_err(failed)?;
    }
    writer
        .flush()
        .map_err(|e| RiskError::Export(e.to_string()))?;
    Ok(training.rows.len())
}

/// Renewal probabilities as a non-renewal model would have given them on each of
/// `cutoffs` (ascending, before `as_of`): for each cutoff a model of `kind` fitted
/// only on rows whose outcome was decided by then, scoring every account active on
/// it. A cutoff with too little to learn from gets no probabilities (`None`).
pub async fn past_renewal_probabilities(
    store: &Store,
    set: &ScorecardSet,
    as_of: NaiveDate,
    cutoffs: &[NaiveDate],
    kind: ModelKind,
) -> Result<Vec<Option<std::collections::HashMap<String, f64>>>, RiskError> {
    let Some(&earliest) = cutoffs.first() else {
        return Ok(Vec::new());
    };
    let defaults = RiskOptions::default();
    // Snapshots far enough back that the earliest cutoff has its own years of rows.
    let span = (as_of - earliest).num_days().max(0) as u32 / defaults.every_days;
    let options = RiskOptions {
        target: super::Target::NonRenewal,
        snapshots: defaults.snapshots + span as usize,
        ..defaults
    };
    let training = training_rows(store, set, as_of, &options, &|_, _| {}).await?;
    let ids: Vec<String> = store
        .accounts()
        .await?
        .into_iter()
        .filter(|a| a.created_on <= as_of)
        .map(|a| a.id)
        .collect();
    let scoring = compute(
        store,
        set,
        &ids,
        cutoffs,
        Setting {
            features: training.features.clone(),
            money: training.money.clone(),
            labels: None,
            model: None,
        },
        &|_| {},
    )
    .await?;
    // A row's outcome is decided once its horizon and the grace after it are over.
    let decided = u64::from(options.horizon_days) + tend_core::risk::RENEWAL_GRACE_DAYS;
    Ok(cutoffs
        .iter()
        .map(|&cutoff| {
            let rows: Vec<FeatureRow> = training
                .rows
                .iter()
                .filter(|r| r.day + Days::new(decided) <= cutoff)
                .cloned()
                .collect();
            let positives = rows.iter().filter(|r| r.label == Some(true)).count();
            if rows.len() < MIN_ROWS || positives < MIN_POSITIVES {
                return None;
            }
            let model = fit_final(kind, &rows).ok()?;
            Some(
                scoring
                    .iter()
                    .filter(|c| c.row.day == cutoff)
                    .map(|c| (c.row.account_id.clone(), model.probability(&c.row.values)))
                    .collect(),
            )
        })
        .collect())
}
