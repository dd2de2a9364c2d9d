//! `tend health evaluate`: how well health on past dates told which accounts would
//! churn in the following days, on the store's own history. Health is recomputed on
//! each date from the data as it was then, so the test has no look-ahead.

use std::collections::{BTreeMap, HashSet};

use chrono::{Days, NaiveDate};
use tend_core::health::ScorecardSet;
use tend_stats::evaluation::roc_auc;
use tend_store::Store;

use super::scoring::scores_on;
use super::HealthError;

/// How a scorecard ranked accounts that went on to churn, for one segment or all.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentEvaluation {
    /// The segment, or "all".
    pub segment: String,
    /// Distinct accounts scored on at least one date.
    pub accounts: usize,
    /// Account-dates scored.
    pub observations: usize,
    /// Account-dates followed by a churn within the horizon.
    pub churns: usize,
    /// ROC AUC of low health predicting churn; `None` without both outcomes.
    pub auc: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub horizon_days: u32,
    /// The dates health was computed on, oldest first.
    pub dates: Vec<NaiveDate>,
    pub all: SegmentEvaluation,
    pub segments: Vec<SegmentEvaluation>,
}

/// Scores every account active on each evaluation date — every `every_days` days back
/// from `as_of − horizon_days`, at most `dates` of them, none before the first
/// account existed — and measures how well low health predicted churn within
/// `horizon_days` after the date.
pub async fn evaluate(
    store: &Store,
    set: &ScorecardSet,
    as_of: NaiveDate,
    horizon_days: u32,
    every_days: u32,
    dates: usize,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Evaluation, HealthError> {
    let accounts = store.accounts().await?;
    let first = accounts.iter().map(|a| a.created_on).min();
    let latest = as_of - Days::new(u64::from(horizon_days));
    let mut days: Vec<NaiveDate> = (0..dates as u64)
        .map(|k| latest - Days::new(k * u64::from(every_days.max(1))))
        .filter(|d| first.is_some_and(|f| *d > f))
        .collect();
    days.reverse();
    let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let (snapshots, _) = scores_on(store, set, &ids, &days, &|n| {
        let so_far = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        progress(so_far, ids.len());
    })
    .await?;
    let by_id: BTreeMap<&str, &tend_core::Account> =
        accounts.iter().map(|a| (a.id.as_str(), a)).collect();
    // (segment, account, health, churned within the horizon)
    let mut observations = Vec::new();
    for s in &snapshots {
        let (Some(account), Some(health)) = (by_id.get(s.account_id.as_str()), s.score.overall)
        else {
            continue;
        };
        let end = s.day + Days::new(u64::from(horizon_days));
        let churned = account.churned_on.is_some_and(|c| c > s.day && c <= end);
        let segment = account.segment.clone().unwrap_or_default();
        observations.push((segment, account.id.as_str(), health, churned));
    }
    let summarize = |segment: &str, rows: &[&(String, &str, f64, bool)]| {
        let labels: Vec<bool> = rows.iter().map(|r| r.3).collect();
        // Low health should mean churn, so churn is ranked by negated health.
        let scores: Vec<f64> = rows.iter().map(|r| -r.2).collect();
        SegmentEvaluation {
            segment: segment.to_string(),
            accounts: rows.iter().map(|r| r.1).collect::<HashSet<_>>().len(),
            observations: rows.len(),
            churns: labels.iter().filter(|&&l| l).count(),
            auc: roc_auc(&labels, &scores),
        }
    };
    let all: Vec<_> = observations.iter().collect();
    let mut segments: Vec<&str> = observations.iter().map(|o| o.0.as_str()).collect();
    segments.sort();
    segments.dedup();
    let segments = segments
        .into_iter()
        .map(|seg| {
            let rows: Vec<_> = observations.iter().filter(|o| o.0 == seg).collect();
            summarize(seg, &rows)
        })
        .collect();
    Ok(Evaluation {
        horizon_days,
        dates: days,
        all: summarize("all", &all),
        segments,
    })
}
