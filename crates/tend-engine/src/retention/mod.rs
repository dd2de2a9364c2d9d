//! Retention analysis of the store's accounts: Kaplan–Meier curves of lifetimes and
//! of renewals by segment and start cohort with log-rank tests, logo and revenue
//! cohort tables by start quarter, and a Cox model of the churn hazard reported in
//! words (`hazards`). Lifetime value (`clv`) and why accounts left (`why`) build on
//! the same lifetimes, which `tend_core::retention` derives.

pub mod clv;
mod hazards;
pub mod why;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use tend_core::retention::{cohort_table, lifetimes, CohortRow, Lifetime};
use tend_core::{Account, Contract};
use tend_stats::{logrank_test, KaplanMeier, StatsError};
use tend_store::{Store, StoreError};

use crate::risk::rows::Money;
use crate::risk::RiskError;

pub use hazards::HazardRatio;

/// Average days in a month: lifetimes are reported in months.
pub const DAYS_PER_MONTH: f64 = 30.4375;
/// Months at which lifetime curves are read.
const LIFETIME_MONTHS: [f64; 7] = [3.0, 6.0, 12.0, 18.0, 24.0, 36.0, 48.0];
/// Renewals at which renewal curves are read.
const RENEWAL_COUNTS: [f64; 5] = [1.0, 2.0, 3.0, 4.0, 5.0];
/// A segment or cohort gets a curve of its own from this many accounts.
const MIN_GROUP: usize = 10;
/// Quarters a cohort table follows at most.
const COHORT_QUARTERS: u32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Risk(#[from] RiskError),
    #[error("no account had become a customer by {0}")]
    NoAccounts(NaiveDate),
    #[error("{0}")]
    Stats(#[from] StatsError),
    #[error(transparent)]
    Health(#[from] crate::health::HealthError),
    #[error("{0}")]
    Invalid(String),
}

/// A survival curve read at a few points.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// "all accounts", a segment, or a start year.
    pub label: String,
    pub accounts: usize,
    /// Accounts lost.
    pub events: usize,
    /// When half are lost (months or renewals), if they are by the end of the data.
    pub median: Option<f64>,
    pub points: Vec<CurvePoint>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurvePoint {
    /// Months, or renewals.
    pub at: f64,
    /// Share still a customer, with its 95% confidence interval.
    pub survival: f64,
    pub lower: f64,
    pub upper: f64,
    /// Accounts still followed at that point (not yet lost nor censored).
    pub at_risk: usize,
}

/// The log-rank test that groups share one curve.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTest {
    pub groups: usize,
    pub statistic: f64,
    pub degrees_of_freedom: usize,
    pub p_value: f64,
}

/// One kind of curve overall, by segment and by start year.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveSet {
    /// "months" or "renewals".
    pub unit: &'static str,
    pub overall: Curve,
    pub by_segment: Vec<Curve>,
    pub segment_test: Option<GroupTest>,
    pub by_start_year: Vec<Curve>,
    pub start_year_test: Option<GroupTest>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetentionReport {
    pub as_of: NaiveDate,
    pub currency: tend_core::Currency,
    pub accounts: usize,
    pub lost: usize,
    /// Months from the first contract to the churn.
    pub lifetimes: CurveSet,
    /// Renewals won before the account was lost.
    pub renewals: CurveSet,
    pub cohorts: Vec<CohortRow>,
    /// The Cox model, or why it could not be fitted.
    pub hazards: Result<Hazards, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hazards {
    pub accounts: usize,
    pub events: usize,
    /// Harrell's concordance on the accounts it was fitted to.
    pub concordance: f64,
    pub ratios: Vec<HazardRatio>,
}

/// What every retention view reads: accounts, their contracts, and the money
/// setting, from which each account's lifetime on `as_of` follows.
pub(crate) struct Base {
    pub accounts: Vec<Account>,
    pub contracts: Vec<Contract>,
    pub money: Money,
}

impl Base {
    pub(crate) async fn load(
        store: &Store,
        currency: Option<tend_core::Currency>,
        as_of: NaiveDate,
    ) -> Result<Base, RetentionError> {
        let contracts = store.contracts().await?;
        let money = match currency {
            Some(currency) => Money::load(store, Some(currency), as_of).await?,
            None => Money::main(
                tend_core::FxTable::new(&store.fx_rates().await?),
                &contracts,
                as_of,
            ),
        };
        Ok(Base {
            accounts: store.accounts().await?,
            contracts,
            money,
        })
    }

    /// Each account's contracts.
    pub(crate) fn contracts_by_account(&self) -> std::collections::HashMap<&str, Vec<Contract>> {
        let mut by: std::collections::HashMap<&str, Vec<Contract>> = Default::default();
        for contract in &self.contracts {
            by.entry(contract.account_id.as_str())
                .or_default()
                .push(contract.clone());
        }
        by
    }

    pub(crate) fn lifetimes(&self, as_of: NaiveDate) -> Result<Vec<Lifetime<'_>>, RetentionError> {
        let found = lifetimes(&self.accounts, &self.contracts, as_of);
        if found.is_empty() {
            return Err(RetentionError::NoAccounts(as_of));
        }
        Ok(found)
    }
}

/// The retention report of the store on `as_of`.
pub async fn retention_report(
    store: &Store,
    as_of: NaiveDate,
    currency: Option<tend_core::Currency>,
) -> Result<RetentionReport, RetentionError> {
    let base = Base::load(store, currency, as_of).await?;
    let found = base.lifetimes(as_of)?;
    let months: Vec<f64> = found
        .iter()
        .map(|l| l.days as f64 / DAYS_PER_MONTH)
        .collect();
    // A lost account's last renewal decision is the one it was lost at.
    let renewals: Vec<f64> = found
        .iter()
        .map(|l| f64::from(l.renewals + u32::from(l.churned())))
        .collect();
    let lost: Vec<bool> = found.iter().map(Lifetime::churned).collect();
    let segments: Vec<String> = found.iter().map(|l| segment_of(l.account)).collect();
    let years: Vec<String> = found.iter().map(|l| l.start.year().to_string()).collect();
    let curves = |durations: &[f64], points: &[f64], unit| -> Result<CurveSet, StatsError> {
        let by_segment = grouped(durations, &lost, &segments, points)?;
        let by_start_year = grouped(durations, &lost, &years, points)?;
        Ok(CurveSet {
            unit,
            overall: curve("all accounts", durations, &lost, points)?,
            segment_test: group_test(durations, &lost, &segments),
            by_segment,
            start_year_test: group_test(durations, &lost, &years),
            by_start_year,
        })
    };
    let reporting = base.money.reporting();
    Ok(RetentionReport {
        as_of,
        currency: base.money.currency,
        accounts: found.len(),
        lost: lost.iter().filter(|&&l| l).count(),
        lifetimes: curves(&months, &LIFETIME_MONTHS, "months")?,
        renewals: curves(&renewals, &RENEWAL_COUNTS, "renewals")?,
        cohorts: cohort_table(&found, &base.contracts, &reporting, as_of, COHORT_QUARTERS),
        hazards: hazards::fit(&found, &base, &store.contacts().await?, &months, &lost),
    })
}

pub(crate) fn segment_of(account: &Account) -> String {
    account
        .segment
        .clone()
        .unwrap_or_else(|| "(no segment)".into())
}

fn curve(label: &str, durations: &[f64], lost: &[bool], at: &[f64]) -> Result<Curve, StatsError> {
    let km = KaplanMeier::fit(durations, lost)?;
    let longest = durations.iter().copied().fold(0.0, f64::max);
    let points = at
        .iter()
        .filter(|&&t| t <= longest)
        .map(|&t| {
            // The step in force at t: the last time at or before it.
            let i = km.timeline.partition_point(|&x| x <= t).saturating_sub(1);
            CurvePoint {
                at: t,
                survival: km.survival[i],
                lower: km.lower[i],
                upper: km.upper[i],
                at_risk: durations.iter().filter(|&&d| d >= t).count(),
            }
        })
        .collect();
    Ok(Curve {
        label: label.to_string(),
        accounts: durations.len(),
        events: lost.iter().filter(|&&l| l).count(),
        median: km.median(),
        points,
    })
}

/// The members of each group of at least [`MIN_GROUP`] accounts.
fn members(groups: &[String]) -> BTreeMap<&str, Vec<usize>> {
    let mut by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        by.entry(g.as_str()).or_default().push(i);
    }
    by.retain(|_, rows| rows.len() >= MIN_GROUP);
    by
}

fn grouped(
    durations: &[f64],
    lost: &[bool],
    groups: &[String],
    at: &[f64],
) -> Result<Vec<Curve>, StatsError> {
    members(groups)
        .into_iter()
        .map(|(label, rows)| {
            let d: Vec<f64> = rows.iter().map(|&i| durations[i]).collect();
            let l: Vec<bool> = rows.iter().map(|&i| lost[i]).collect();
            curve(label, &d, &l, at)
        })
        .collect()
}

/// The log-rank test across the groups with curves, when there are two or more.
/// A group none of whose accounts is followed as long as the first loss adds
/// nothing to either side of the test (its variance is zero, which would leave the
/// covariance singular), so it is left out.
fn group_test(durations: &[f64], lost: &[bool], groups: &[String]) -> Option<GroupTest> {
    let first_loss = durations
        .iter()
        .zip(lost)
        .filter(|(_, &l)| l)
        .map(|(&d, _)| d)
        .fold(f64::INFINITY, f64::min);
    let mut by = members(groups);
    by.retain(|_, rows| rows.iter().any(|&i| durations[i] >= first_loss));
    if by.len() < 2 {
        return None;
    }
    let (mut d, mut l, mut g) = (Vec::new(), Vec::new(), Vec::new());
    for (k, rows) in by.values().enumerate() {
        for &i in rows {
            d.push(durations[i]);
            l.push(lost[i]);
            g.push(k);
        }
    }
    let result = logrank_test(&d, &l, &g).ok()?;
    Some(GroupTest {
        groups: by.len(),
        statistic: result.statistic,
        degrees_of_freedom: result.degrees_of_freedom,
        p_value: result.p_value,
    })
}
