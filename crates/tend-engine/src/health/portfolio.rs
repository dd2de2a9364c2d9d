//! `tend health`: the portfolio's stored health on a day, with 7/30/90-day trends,
//! band changes and each account's top mover, filtered by owner, segment or band.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use tend_core::health::{measure, HealthSnapshot};
use tend_store::Store;

use super::HealthError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortfolioFilter {
    /// CSM or account manager.
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub band: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthRow {
    pub account_id: String,
    pub name: String,
    pub segment: String,
    pub owner: String,
    pub score: Option<f64>,
    pub band: String,
    /// Change in overall score against 7, 30 and 90 days earlier.
    pub deltas: [Option<f64>; 3],
    /// The band 30 days earlier, when it was different.
    pub band_before: Option<String>,
    /// The measure that moved the score most in 30 days, and by how many points.
    pub top_mover: Option<(String, f64)>,
    /// When the account churned, if it has since the day shown.
    pub churned_on: Option<NaiveDate>,
}

pub const TREND_DAYS: [u64; 3] = [7, 30, 90];

/// The accounts scored on `day` (the latest snapshot day when `None`), lowest score first.
pub async fn portfolio_health(
    store: &Store,
    day: Option<NaiveDate>,
    filter: &PortfolioFilter,
) -> Result<(NaiveDate, Vec<HealthRow>), HealthError> {
    let day = match day {
        Some(day) => day,
        None => store
            .latest_health_day()
            .await?
            .ok_or(HealthError::NoHealth)?,
    };
    let snapshots = store.health_snapshots_on(day).await?;
    if snapshots.is_empty() {
        return Err(HealthError::NoSnapshots(day));
    }
    let earlier: [NaiveDate; 3] = TREND_DAYS.map(|d| day - Days::new(d));
    let month_ago: HashMap<String, HealthSnapshot> = store
        .health_snapshots_on(earlier[1])
        .await?
        .into_iter()
        .map(|s| (s.account_id.clone(), s))
        .collect();
    // Overall scores 7 and 90 days back; the 30-day ones come with `month_ago`.
    let mut before: HashMap<(String, NaiveDate), Option<f64>> = store
        .health_headlines_on(&[earlier[0], earlier[2]])
        .await?
        .into_iter()
        .map(|h| ((h.account_id, h.day), h.overall))
        .collect();
    before.extend(
        month_ago
            .values()
            .map(|s| ((s.account_id.clone(), s.day), s.score.overall)),
    );
    let accounts: HashMap<String, tend_core::Account> = store
        .accounts()
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let earlier = Earlier {
        days: earlier,
        scores: before,
        month_ago,
    };
    let mut rows = Vec::new();
    for snapshot in snapshots {
        let Some(account) = accounts.get(&snapshot.account_id) else {
            continue;
        };
        let owners = [account.csm_owner.as_deref(), account.am_owner.as_deref()];
        let wanted = filter
            .owner
            .as_deref()
            .is_none_or(|o| owners.contains(&Some(o)))
            && filter
                .segment
                .as_deref()
                .is_none_or(|s| account.segment.as_deref() == Some(s))
            && filter
                .band
                .as_deref()
                .is_none_or(|b| snapshot.score.band.eq_ignore_ascii_case(b));
        if wanted {
            rows.push(health_row(snapshot, account, &earlier));
        }
    }
    rows.sort_by(|a, b| {
        a.score
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.score.unwrap_or(f64::INFINITY))
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    Ok((day, rows))
}

/// Scores of earlier days a row compares with.
pub(crate) struct Earlier {
    /// 7, 30 and 90 days before the day shown.
    pub days: [NaiveDate; 3],
    /// Overall scores by (account, day) on those days.
    pub scores: HashMap<(String, NaiveDate), Option<f64>>,
    /// Whole snapshots 30 days before, by account.
    pub month_ago: HashMap<String, HealthSnapshot>,
}

/// One row of the portfolio table.
pub(crate) fn health_row(
    snapshot: HealthSnapshot,
    account: &tend_core::Account,
    earlier: &Earlier,
) -> HealthRow {
    let now = snapshot.score.overall;
    let deltas = earlier.days.map(|d| {
        let then = earlier
            .scores
            .get(&(snapshot.account_id.clone(), d))
            .copied()
            .flatten();
        now.zip(then).map(|(a, b)| a - b)
    });
    let previous = earlier.month_ago.get(&snapshot.account_id);
    HealthRow {
        name: account.name.clone(),
        segment: account.segment.clone().unwrap_or_default(),
        owner: account.csm_owner.clone().unwrap_or_default(),
        score: now,
        band_before: previous
            .map(|p| p.score.band.clone())
            .filter(|b| *b != snapshot.score.band),
        top_mover: previous.and_then(|p| top_mover(&snapshot, p)),
        churned_on: account.churned_on,
        band: snapshot.score.band,
        deltas,
        account_id: snapshot.account_id,
    }
}

/// The measure whose contribution changed most between two snapshots.
fn top_mover(now: &HealthSnapshot, before: &HealthSnapshot) -> Option<(String, f64)> {
    if now.score.scorecard != before.score.scorecard {
        return None;
    }
    now.score
        .measures
        .iter()
        .zip(&before.score.measures)
        .map(|(a, b)| (a.measure.as_str(), a.contribution - b.contribution))
        .filter(|(_, points)| points.abs() >= 0.05)
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(name, points)| {
            let label = measure(name).map_or(name, |spec| spec.label);
            (label.to_string(), points)
        })
}
