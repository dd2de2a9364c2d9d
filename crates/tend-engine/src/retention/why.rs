//! Why accounts left: the churn reasons of lost accounts by segment, ARR and tenure,
//! and which early-warning signals were present in the 90 days before they were lost
//! against how often among accounts that stayed (lift per signal).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use futures_util::StreamExt;
use tend_core::health::ScorecardSet;
use tend_core::metrics::arr_on;
use tend_core::signals::{Span, EARLY_WARNINGS};
use tend_store::Store;

use super::{segment_of, Base, RetentionError, DAYS_PER_MONTH};
use crate::health::facts::{history_window_of_all_measures, Loaded};
use crate::health::scoring::per_chunk_with;

/// Days before a loss in which signals count.
pub const SIGNAL_DAYS: u32 = 90;
/// A staying account is one not lost within this many days of the day it is read on.
pub const STAYED_DAYS: u64 = 180;
/// Days between the days staying accounts are read on.
const EVERY_DAYS: u64 = 30;
/// Monthly days staying accounts are read on at most, the latest ones: ten years.
const MAX_STAYING_DAYS: usize = 120;
/// The longest history a signal reads before its span: a 30-day trend read on the
/// span's first day looks 60 days further back.
const SIGNAL_LOOKBACK: u64 = 60;

/// Lost accounts and their ARR with one reason (or group and reason).
#[derive(Debug, Clone, PartialEq)]
pub struct ReasonCount {
    /// The segment, ARR band or tenure band; empty for the overall count.
    pub group: String,
    pub reason: String,
    pub accounts: usize,
    /// ARR in force the day before each was lost, in the report's currency.
    pub arr: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignalLift {
    pub name: &'static str,
    pub words: &'static str,
    /// Lost accounts with the signal in the 90 days before, of those followed.
    pub lost_with: usize,
    pub lost: usize,
    /// Staying account-months with the signal in the 90 days before, of all.
    pub stayed_with: usize,
    pub stayed: usize,
    /// How many times as often it preceded a loss as a month of staying.
    pub lift: Option<f64>,
}

impl SignalLift {
    pub fn lost_share(&self) -> Option<f64> {
        (self.lost > 0).then(|| self.lost_with as f64 / self.lost as f64)
    }

    pub fn stayed_share(&self) -> Option<f64> {
        (self.stayed > 0).then(|| self.stayed_with as f64 / self.stayed as f64)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WhyReport {
    pub as_of: NaiveDate,
    pub currency: tend_core::Currency,
    pub lost: usize,
    pub lost_arr: i64,
    /// Lost accounts whose ARR could not be converted (no exchange rate): their ARR
    /// is left out and their band is [`UNCONVERTED_BAND`].
    pub unconverted: usize,
    pub reasons: Vec<ReasonCount>,
    pub by_segment: Vec<ReasonCount>,
    pub by_arr: Vec<ReasonCount>,
    pub by_tenure: Vec<ReasonCount>,
    /// Largest lift first; empty without usage history to read signals on.
    pub signals: Vec<SignalLift>,
}

/// Why the store's lost accounts left, through `as_of`.
pub async fn why_accounts_left(
    store: &Store,
    set: &ScorecardSet,
    as_of: NaiveDate,
    currency: Option<tend_core::Currency>,
) -> Result<WhyReport, RetentionError> {
    let base = Base::load(store, currency, as_of).await?;
    let found = base.lifetimes(as_of)?;
    let reporting = base.money.reporting();
    let major = 10f64.powi(base.money.currency.minor_digits() as i32);
    let contracts = base.contracts_by_account();
    let mut lost_rows = Vec::new();
    let mut unconverted = 0;
    for lifetime in found.iter() {
        let Some(lost_on) = lifetime.lost_on else {
            continue;
        };
        let before = lost_on.pred_opt().unwrap_or(lost_on);
        let own = contracts
            .get(lifetime.account.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        let on = arr_on(own, before, &reporting, before);
        let arr = on.arr.values().sum::<i64>();
        let converted = on.left_out.is_empty();
        unconverted += usize::from(!converted);
        let reason = lifetime
            .account
            .churn_reason
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "(no reason given)".into());
        lost_rows.push(LostRow {
            segment: segment_of(lifetime.account),
            arr_band: if converted {
                arr_band(arr as f64 / major)
            } else {
                UNCONVERTED_BAND
            },
            tenure_band: tenure_band(lifetime.days as f64 / DAYS_PER_MONTH),
            reason,
            arr,
        });
    }
    let count = |group: fn(&LostRow) -> &str| -> Vec<ReasonCount> {
        let mut by: BTreeMap<(&str, &str), (usize, i64)> = BTreeMap::new();
        for row in &lost_rows {
            let entry = by.entry((group(row), &row.reason)).or_default();
            entry.0 += 1;
            entry.1 += row.arr;
        }
        let mut out: Vec<ReasonCount> = by
            .into_iter()
            .map(|((group, reason), (accounts, arr))| ReasonCount {
                group: group.to_string(),
                reason: reason.to_string(),
                accounts,
                arr,
            })
            .collect();
        // Bands in their own order (their names say it), segments by name.
        let rank = |g: &str| BANDS.iter().position(|b| *b == g).unwrap_or(usize::MAX);
        out.sort_by(|a, b| {
            rank(&a.group)
                .cmp(&rank(&b.group))
                .then(a.group.cmp(&b.group))
                .then(b.accounts.cmp(&a.accounts))
                .then(a.reason.cmp(&b.reason))
        });
        out
    };
    let lost_on: HashMap<String, NaiveDate> = found
        .iter()
        .filter_map(|l| Some((l.account.id.clone(), l.lost_on?)))
        .collect();
    Ok(WhyReport {
        as_of,
        currency: base.money.currency,
        lost: lost_rows.len(),
        unconverted,
        lost_arr: lost_rows.iter().map(|r| r.arr).sum(),
        reasons: count(|_| ""),
        by_segment: count(|r| &r.segment),
        by_arr: count(|r| r.arr_band),
        by_tenure: count(|r| r.tenure_band),
        signals: signal_lift(store, set, as_of, lost_on).await?,
    })
}

struct LostRow {
    segment: String,
    arr_band: &'static str,
    tenure_band: &'static str,
    reason: String,
    arr: i64,
}

/// The ARR bands (in major units of the report's currency) and tenure bands, in
/// order.
const BANDS: [&str; 8] = [
    "ARR under 10,000",
    "ARR 10,000–50,000",
    "ARR 50,000–250,000",
    "ARR 250,000 and more",
    "tenure under 1 year",
    "tenure 1–2 years",
    "tenure 2–3 years",
    "tenure 3 years and more",
];

/// The ARR band of a lost account whose ARR could not be converted.
pub const UNCONVERTED_BAND: &str = "ARR not converted (no exchange rate)";

fn arr_band(arr: f64) -> &'static str {
    let steps = [10_000.0, 50_000.0, 250_000.0];
    BANDS[steps.iter().filter(|&&s| arr >= s).count()]
}

fn tenure_band(months: f64) -> &'static str {
    let steps = [12.0, 24.0, 36.0];
    BANDS[4 + steps.iter().filter(|&&s| months >= s).count()]
}

/// Counts per signal: (lost with, lost, stayed with, stayed).
type Counts = Vec<[usize; 4]>;

/// Each signal over the 90 days before every loss whose span the usage history
/// covers, and over the 90 days before each month an account was a customer and
/// stayed 180 days more.
async fn signal_lift(
    store: &Store,
    set: &ScorecardSet,
    as_of: NaiveDate,
    lost_on: HashMap<String, NaiveDate>,
) -> Result<Vec<SignalLift>, RetentionError> {
    let Some(first_usage) = store.first_usage_day().await? else {
        return Ok(Vec::new());
    };
    let first = first_usage + Days::new(u64::from(SIGNAL_DAYS));
    let last_stayed = as_of.checked_sub_days(Days::new(STAYED_DAYS));
    let mut days: Vec<NaiveDate> =
        std::iter::successors(last_stayed, |d| d.checked_sub_days(Days::new(EVERY_DAYS)))
            .take_while(|&d| d >= first)
            .take(MAX_STAYING_DAYS)
            .collect();
    days.reverse();
    if days.is_empty() && !lost_on.values().any(|&d| d >= first && d <= as_of) {
        return Ok(Vec::new());
    }
    // Chunks load the accounts that were customers between the first and the last
    // day: every one lost or staying in the days read.
    let read_days = days;
    let load_days = [first, first.max(as_of)];
    let ids = store.account_ids().await?;
    let earliest = first
        .checked_sub_days(Days::new(u64::from(SIGNAL_DAYS) + SIGNAL_LOOKBACK))
        .unwrap_or(first);
    let window = history_window_of_all_measures(set, earliest);
    let lost_on = Arc::new(lost_on);
    let work = Arc::new(move |_: &ScorecardSet, loaded: &Loaded, _: &[NaiveDate]| {
        counts_of_chunk(loaded, &read_days, &lost_on, first, as_of)
    });
    let mut chunks = std::pin::pin!(per_chunk_with(store, set, &ids, &load_days, window, work));
    let mut total: Counts = vec![[0; 4]; EARLY_WARNINGS.len()];
    while let Some(result) = chunks.next().await {
        let (_, counts) = result?;
        for (sum, part) in total.iter_mut().zip(counts) {
            for k in 0..4 {
                sum[k] += part[k];
            }
        }
    }
    let mut out: Vec<SignalLift> = EARLY_WARNINGS
        .iter()
        .zip(total)
        .map(|(signal, [lost_with, lost, stayed_with, stayed])| {
            let rate = |with: usize, of: usize| (of > 0).then(|| with as f64 / of as f64);
            let lift = match (rate(lost_with, lost), rate(stayed_with, stayed)) {
                (Some(l), Some(s)) if s > 0.0 => Some(l / s),
                _ => None,
            };
            SignalLift {
                name: signal.name,
                words: signal.words,
                lost_with,
                lost,
                stayed_with,
                stayed,
                lift,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.lift
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.lift.unwrap_or(f64::NEG_INFINITY))
    });
    Ok(out)
}

fn counts_of_chunk(
    loaded: &Loaded,
    days: &[NaiveDate],
    lost_on: &HashMap<String, NaiveDate>,
    first: NaiveDate,
    as_of: NaiveDate,
) -> Counts {
    let mut counts: Counts = vec![[0; 4]; EARLY_WARNINGS.len()];
    for (i, account) in loaded.accounts().iter().enumerate() {
        let facts = loaded.facts(i);
        let lost = lost_on.get(&account.id).copied();
        let mut tally = |span: Span, offset: usize| {
            for (k, signal) in EARLY_WARNINGS.iter().enumerate() {
                counts[k][offset + 1] += 1;
                if signal.present(&facts, span) {
                    counts[k][offset] += 1;
                }
            }
        };
        if let Some(day) = lost.filter(|&d| d >= first && d <= as_of) {
            tally(Span::before(day, SIGNAL_DAYS), 0);
        }
        for &day in days {
            let customer = account.created_on <= day && lost.is_none_or(|d| d > day);
            let stayed = lost.is_none_or(|d| d > day + Days::new(STAYED_DAYS));
            if customer && stayed {
                tally(Span::before(day, SIGNAL_DAYS), 2);
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_read_in_major_units() {
        assert_eq!(arr_band(9_999.0), "ARR under 10,000");
        assert_eq!(arr_band(250_000.0), "ARR 250,000 and more");
        assert_eq!(arr_band(10_000.0), "ARR 10,000–50,000");
        assert_eq!(tenure_band(12.0), "tenure 1–2 years");
        assert_eq!(tenure_band(3.0), "tenure under 1 year");
    }
}
