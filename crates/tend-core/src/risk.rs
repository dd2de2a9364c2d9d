//! Churn risk: the features a churn model learns from, computed for one account as of
//! a day from what was known by the end of that day (no look-ahead, as health
//! measures), the outcomes it learns to predict, and every feature's part in a
//! prediction in the plain words of health explanations.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use crate::fx::Reporting;
use crate::health::explain::{describe_change, format_value, Reading};
use crate::health::measures::{main_product, AccountFacts, Context, Format, MeasureSpec, MEASURES};
use crate::health::scorecard::Scorecard;
use crate::model::{Account, Contract, ContractStatus};

/// Trends compare a measure with its value this many days earlier.
pub const TREND_DAYS: u64 = 30;

/// Account fields whose values become one yes/no feature each.
pub const CATEGORY_FIELDS: [&str; 3] = ["segment", "tier", "industry"];

/// What a contract-derived feature measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractFeature {
    /// ARR in force, in the reporting currency's major units.
    Arr,
    /// Seats of the main product in force.
    Seats,
    /// Days since the first contract started.
    TenureDays,
    /// Days until the nearest renewal date of a contract in force.
    DaysToRenewal,
    /// ARR of the current main-product term ÷ the one before, − 1.
    LastRenewalChange,
    /// Any contract in force renews automatically (1) or none does (0).
    AutoRenew,
    /// Length of the current main-product term, in days.
    TermDays,
    /// Terms of the main product started before the current one.
    Renewals,
}

const CONTRACT_FEATURES: [(ContractFeature, &str); 8] = [
    (ContractFeature::Arr, "arr"),
    (ContractFeature::Seats, "seats"),
    (ContractFeature::TenureDays, "tenure_days"),
    (ContractFeature::DaysToRenewal, "days_to_renewal"),
    (ContractFeature::LastRenewalChange, "last_renewal_change"),
    (ContractFeature::AutoRenew, "auto_renew"),
    (ContractFeature::TermDays, "term_days"),
    (ContractFeature::Renewals, "renewals"),
];

#[derive(Debug, Clone, PartialEq)]
pub enum FeatureKind {
    /// A health measure's raw value on the day.
    Measure(&'static MeasureSpec),
    /// A health measure's change over [`TREND_DAYS`].
    Trend(&'static MeasureSpec),
    Contract(ContractFeature),
    /// 1 when the account field (segment, tier, industry) has this value.
    Category {
        field: &'static str,
        value: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// A stable name: the measure's, `<measure>_trend`, the contract feature's, or
    /// `segment=SMB`.
    pub name: String,
    pub kind: FeatureKind,
}

/// The features a model uses, in column order.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSet {
    pub features: Vec<Feature>,
}

impl FeatureSet {
    /// Every measure, its trend, the contract features, and one feature per value of
    /// each category field in `categories` (field → values seen in training).
    pub fn new(categories: &BTreeMap<&'static str, Vec<String>>) -> FeatureSet {
        let mut features = Vec::new();
        for spec in MEASURES {
            features.push(Feature {
                name: spec.name.to_string(),
                kind: FeatureKind::Measure(spec),
            });
        }
        for spec in MEASURES {
            features.push(Feature {
                name: format!("{}_trend", spec.name),
                kind: FeatureKind::Trend(spec),
            });
        }
        for (kind, name) in CONTRACT_FEATURES {
            features.push(Feature {
                name: name.to_string(),
                kind: FeatureKind::Contract(kind),
            });
        }
        for (field, values) in categories {
            for value in values {
                features.push(Feature {
                    name: format!("{field}={value}"),
                    kind: FeatureKind::Category {
                        field,
                        value: value.clone(),
                    },
                });
            }
        }
        FeatureSet { features }
    }

    /// The feature names in column order.
    pub fn names(&self) -> Vec<String> {
        self.features.iter().map(|f| f.name.clone()).collect()
    }

    /// Rebuilds a set from stored names; the error names one not known (a measure
    /// removed since the model was fitted).
    pub fn from_names(names: &[String]) -> Result<FeatureSet, String> {
        let mut categories: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for name in names {
            if let Some((field, value)) = name.split_once('=') {
                let field = CATEGORY_FIELDS
                    .iter()
                    .find(|f| **f == field)
                    .ok_or_else(|| name.clone())?;
                categories.entry(field).or_default().push(value.to_string());
            }
        }
        let set = FeatureSet::new(&categories);
        if set.names() != names {
            let known = set.names();
            let unknown = names.iter().find(|n| !known.contains(n));
            return Err(unknown
                .cloned()
                .unwrap_or_else(|| "the order of features".into()));
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

/// Category values common enough to learn from: those of at least `min_rows` rows,
/// at most `max_values` per field, most frequent first.
pub fn common_categories<'a>(
    accounts: impl Iterator<Item = &'a Account>,
    min_rows: usize,
    max_values: usize,
) -> BTreeMap<&'static str, Vec<String>> {
    let mut counts: BTreeMap<&'static str, BTreeMap<String, usize>> = BTreeMap::new();
    for account in accounts {
        for field in CATEGORY_FIELDS {
            if let Some(value) = category(account, field) {
                *counts
                    .entry(field)
                    .or_default()
                    .entry(value.to_string())
                    .or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|(field, values)| {
            let mut values: Vec<(String, usize)> =
                values.into_iter().filter(|(_, n)| *n >= min_rows).collect();
            values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            values.truncate(max_values);
            let mut names: Vec<String> = values.into_iter().map(|(v, _)| v).collect();
            names.sort();
            (field, names)
        })
        .filter(|(_, values)| !values.is_empty())
        .collect()
}

fn category<'a>(account: &'a Account, field: &str) -> Option<&'a str> {
    match field {
        "segment" => account.segment.as_deref(),
        "tier" => account.tier.as_deref(),
        "industry" => account.industry.as_deref(),
        _ => None,
    }
}

/// The context a measure is computed with for an account whose scorecard is `card`:
/// the card's window when it scores the measure, the measure's default otherwise.
fn context<'a>(card: &'a Scorecard, spec: &MeasureSpec, day: NaiveDate) -> Context<'a> {
    let window = card
        .measures()
        .find(|(_, m, _)| m.spec().name == spec.name)
        .map_or(spec.window, |(_, _, window)| window);
    Context {
        day,
        window,
        key_features: &card.key_features,
        seat_product: card.seat_product.as_deref(),
    }
}

/// A measure's reading for an account on a day.
pub fn reading(
    card: &Scorecard,
    spec: &MeasureSpec,
    facts: &AccountFacts,
    day: NaiveDate,
) -> Reading {
    let ctx = context(card, spec, day);
    Reading {
        value: spec.value(facts, &ctx),
        detail: spec.detail.and_then(|(detail, _, _)| detail(facts, &ctx)),
    }
}

fn earlier(day: NaiveDate) -> NaiveDate {
    day.checked_sub_days(Days::new(TREND_DAYS)).unwrap_or(day)
}

/// The account's feature values on `day` in `set`'s order; NaN where a value is
/// missing (no data, or a trend without an earlier value).
pub fn feature_values(
    set: &FeatureSet,
    card: &Scorecard,
    facts: &AccountFacts,
    day: NaiveDate,
    reporting: &Reporting,
) -> Vec<f64> {
    let mut now: BTreeMap<&str, Option<f64>> = BTreeMap::new();
    let mut value_now = |spec: &'static MeasureSpec| {
        *now.entry(spec.name)
            .or_insert_with(|| spec.value(facts, &context(card, spec, day)))
    };
    let before_day = earlier(day);
    let contracts = ContractState::new(facts.contracts, day);
    set.features
        .iter()
        .map(|feature| {
            let value = match &feature.kind {
                FeatureKind::Measure(spec) => value_now(spec),
                FeatureKind::Trend(spec) => {
                    let before = spec.value(facts, &context(card, spec, before_day));
                    value_now(spec).zip(before).map(|(a, b)| a - b)
                }
                FeatureKind::Contract(kind) => contracts.value(*kind, facts.account, reporting),
                FeatureKind::Category { field, value } => Some(f64::from(u8::from(
                    category(facts.account, field) == Some(value.as_str()),
                ))),
            };
            value.unwrap_or(f64::NAN)
        })
        .collect()
}

/// The contracts of an account as they stood on a day: only those signed to start
/// by then count, as a store holding the data of that day would have them.
struct ContractState<'a> {
    day: NaiveDate,
    known: Vec<&'a Contract>,
    main: Option<&'a str>,
}

impl<'a> ContractState<'a> {
    fn new(contracts: &'a [Contract], day: NaiveDate) -> ContractState<'a> {
        let known: Vec<&Contract> = contracts.iter().filter(|c| c.start_date <= day).collect();
        ContractState {
            day,
            main: main_product(contracts, day),
            known,
        }
    }

    fn in_force(&self) -> impl Iterator<Item = &&'a Contract> {
        self.known
            .iter()
            .filter(|c| c.is_active_on(self.day) && c.status != ContractStatus::Cancelled)
    }

    /// The main product's contracts in force, the current term.
    fn current_term(&self) -> Vec<&'a Contract> {
        self.in_force()
            .filter(|c| Some(c.product.as_str()) == self.main)
            .copied()
            .collect()
    }

    /// Start days of the main product's terms (a contract starting while another of
    /// the product is in force is an add-on, not a term).
    fn term_starts(&self) -> Vec<NaiveDate> {
        let of_main: Vec<&Contract> = self
            .known
            .iter()
            .filter(|c| Some(c.product.as_str()) == self.main)
            .copied()
            .collect();
        let mut starts: Vec<NaiveDate> = of_main
            .iter()
            .filter(|c| {
                !of_main
                    .iter()
                    .any(|p| p.start_date < c.start_date && p.is_active_on(c.start_date))
            })
            .map(|c| c.start_date)
            .collect();
        starts.sort();
        starts.dedup();
        starts
    }

    fn value(
        &self,
        kind: ContractFeature,
        account: &Account,
        reporting: &Reporting,
    ) -> Option<f64> {
        let days = |a: NaiveDate, b: NaiveDate| (b - a).num_days() as f64;
        match kind {
            ContractFeature::Arr => {
                let minor: Option<i64> = self
                    .in_force()
                    .map(|c| reporting.value(c.arr, self.day))
                    .sum();
                let digits = reporting.currency.minor_digits();
                minor.map(|m| m as f64 / 10f64.powi(digits as i32))
            }
            ContractFeature::Seats => {
                let term = self.current_term();
                (!term.is_empty()).then(|| term.iter().map(|c| c.seats as f64).sum())
            }
            ContractFeature::TenureDays => {
                let first = self.known.iter().map(|c| c.start_date).min();
                Some(days(
                    first.unwrap_or(account.created_on).min(account.created_on),
                    self.day,
                ))
            }
            ContractFeature::DaysToRenewal => self
                .in_force()
                .map(|c| c.renewal_date)
                .min()
                .map(|r| days(self.day, r)),
            ContractFeature::LastRenewalChange => {
                let starts = self.term_starts();
                let [.., previous, current] = starts[..] else {
                    return None;
                };
                let arr_of_term = |start: NaiveDate| -> Option<i64> {
                    self.known
                        .iter()
                        .filter(|c| Some(c.product.as_str()) == self.main && c.start_date == start)
                        .map(|c| reporting.value(c.arr, current))
                        .sum()
                };
                let (old, new) = (arr_of_term(previous)?, arr_of_term(current)?);
                (old > 0).then(|| new as f64 / old as f64 - 1.0)
            }
            ContractFeature::AutoRenew => {
                let mut any = false;
                let mut seen = false;
                for c in self.in_force() {
                    seen = true;
                    any |= c.auto_renew;
                }
                seen.then_some(f64::from(u8::from(any)))
            }
            ContractFeature::TermDays => self
                .current_term()
                .iter()
                .map(|c| days(c.start_date, c.end_date) + 1.0)
                .reduce(f64::max),
            ContractFeature::Renewals => {
                let starts = self.term_starts();
                (!starts.is_empty()).then(|| (starts.len() - 1) as f64)
            }
        }
    }
}

/// Whether the account churned after `day` and by `day + horizon_days`.
pub fn churned_within(account: &Account, day: NaiveDate, horizon_days: u32) -> bool {
    let end = day + Days::new(u64::from(horizon_days));
    account.churned_on.is_some_and(|c| c > day && c <= end)
}

/// Days after a renewal date in which a late renewal still counts.
pub const RENEWAL_GRACE_DAYS: u64 = 30;

/// The outcome of the account's next renewal when it falls due after `day` and by
/// `day + horizon_days`: `Some(true)` when it was not renewed — no contract of the
/// product in force on the renewal date, nor starting within 30 days after it;
/// `None` when no renewal falls due in the horizon, or when those 30 days end after
/// `known_by` (a late renewal could still come).
pub fn not_renewed_within(
    contracts: &[Contract],
    day: NaiveDate,
    horizon_days: u32,
    known_by: NaiveDate,
) -> Option<bool> {
    let end = day + Days::new(u64::from(horizon_days));
    let due = contracts
        .iter()
        .filter(|c| c.is_active_on(day) && c.status != ContractStatus::Cancelled)
        .filter(|c| c.renewal_date > day && c.renewal_date <= end)
        .min_by_key(|c| c.renewal_date)?;
    let grace = due.renewal_date + Days::new(RENEWAL_GRACE_DAYS);
    if grace > known_by {
        return None;
    }
    let renewed = contracts.iter().any(|c| {
        c.product == due.product
            && c.id != due.id
            && c.start_date <= grace
            && c.end_date >= due.renewal_date
    });
    Some(!renewed)
}

/// A feature's part in one account's prediction, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub feature: String,
    /// Push on the log-odds of churn: positive raises the risk.
    pub contribution: f64,
    pub words: String,
}

/// What one feature says of an account on `day`, in the words of health
/// explanations: "active users fell from 41 to 17 of 50 seats in 30 days",
/// "2 failed payments", "no longer has a champion", "renewal in 45 days".
pub fn describe(
    feature: &Feature,
    card: &Scorecard,
    facts: &AccountFacts,
    day: NaiveDate,
    value: f64,
    reporting: &Reporting,
) -> String {
    let missing = value.is_nan();
    match &feature.kind {
        FeatureKind::Measure(spec) => {
            let now = reading(card, spec, facts, day);
            state_in_words(spec, &now)
        }
        FeatureKind::Trend(spec) => {
            let now = reading(card, spec, facts, day);
            let before = reading(card, spec, facts, earlier(day));
            match describe_change(spec, &before, &now) {
                Some(change) => format!("{change} in {TREND_DAYS} days"),
                None if now.value.is_none() => format!("{}: no data", spec.label),
                None => format!(
                    "{} unchanged in {TREND_DAYS} days ({})",
                    spec.label,
                    format_value(spec, now.value)
                ),
            }
        }
        FeatureKind::Contract(kind) if missing => match kind {
            ContractFeature::LastRenewalChange => "not renewed yet".to_string(),
            _ => "no contract in force".to_string(),
        },
        FeatureKind::Contract(kind) => match kind {
            ContractFeature::Arr => format!(
                "ARR {} {}",
                crate::money::group_thousands(value.max(0.0).round() as u64),
                reporting.currency
            ),
            ContractFeature::Seats => plural(value, "seat"),
            ContractFeature::TenureDays => format!("customer for {}", duration(value)),
            ContractFeature::DaysToRenewal if value <= 0.0 => "renewal due now".to_string(),
            ContractFeature::DaysToRenewal => format!("renewal in {}", plural(value, "day")),
            ContractFeature::LastRenewalChange if value.abs() < 0.005 => {
                "renewed at the same ARR last time".to_string()
            }
            ContractFeature::LastRenewalChange => format!(
                "{} {:.0}% at the last renewal",
                if value < 0.0 {
                    "contracted"
                } else {
                    "expanded"
                },
                100.0 * value.abs()
            ),
            ContractFeature::AutoRenew if value >= 0.5 => "renews automatically".to_string(),
            ContractFeature::AutoRenew => "does not renew automatically".to_string(),
            ContractFeature::TermDays => format!("a {} term", duration(value)),
            ContractFeature::Renewals if value < 0.5 => "in its first term".to_string(),
            ContractFeature::Renewals => format!("renewed {}", plural(value, "time")),
        },
        FeatureKind::Category { field, value: v } if value >= 0.5 => format!("{field} is {v}"),
        FeatureKind::Category { field, value: v } => format!("{field} is not {v}"),
    }
}

/// A measure's state on a day: "2 failed payments", "license utilization 34% (17
/// active users of 50 seats)", "has no champion".
fn state_in_words(spec: &MeasureSpec, now: &Reading) -> String {
    let Some(value) = now.value else {
        return format!("{}: no data", spec.label);
    };
    match spec.format {
        Format::Flag if value >= 0.5 => spec.label.to_string(),
        Format::Flag => negate(spec.label),
        Format::Count(_) => {
            let count = format_value(spec, Some(value));
            let number = count.split(' ').next().unwrap_or_default();
            format!("{number} {}", spec.label)
        }
        _ => match (spec.detail, now.detail) {
            (Some((_, counted, of)), Some((a, b))) => format!(
                "{} {} ({} {counted} of {} {of})",
                spec.label,
                format_value(spec, Some(value)),
                a.round(),
                b.round()
            ),
            _ => format!("{} {}", spec.label, format_value(spec, Some(value))),
        },
    }
}

/// "has a champion" → "has no champion"; "contracted at the last renewal" → "not
/// contracted at the last renewal".
fn negate(label: &str) -> String {
    for article in ["has a ", "has an "] {
        if let Some(rest) = label.strip_prefix(article) {
            return format!("has no {rest}");
        }
    }
    format!("not {label}")
}

fn plural(value: f64, unit: &str) -> String {
    let n = value.round() as i64;
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Days as people say them: "45 days", "7 months", "2.5 years".
fn duration(days: f64) -> String {
    if days < 60.0 {
        plural(days, "day")
    } else if days < 730.0 {
        plural(days / 30.44, "month")
    } else {
        format!("{:.1} years", days / 365.25)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::measures::measure;

    #[test]
    fn states_read_as_sentences() {
        let payments = measure("failed_payments").unwrap();
        assert_eq!(
            state_in_words(
                payments,
                &Reading {
                    value: Some(2.0),
                    detail: None
                }
            ),
            "2 failed payments"
        );
        let champion = measure("champion_present").unwrap();
        assert_eq!(
            state_in_words(
                champion,
                &Reading {
                    value: Some(0.0),
                    detail: None
                }
            ),
            "has no champion"
        );
        let utilization = measure("license_utilization").unwrap();
        assert_eq!(
            state_in_words(
                utilization,
                &Reading {
                    value: Some(0.34),
                    detail: Some((17.0, 50.0))
                }
            ),
            "license utilization 34% (17 active users of 50 seats)"
        );
        assert_eq!(duration(45.0), "45 days");
        assert_eq!(duration(400.0), "13 months");
        assert_eq!(duration(1000.0), "2.7 years");
    }

    #[test]
    fn feature_names_survive_a_round_trip() {
        let mut categories = BTreeMap::new();
        categories.insert("segment", vec!["Enterprise".to_string(), "SMB".to_string()]);
        let set = FeatureSet::new(&categories);
        assert_eq!(FeatureSet::from_names(&set.names()).unwrap(), set);
        let mut names = set.names();
        names.push("segment_size".into());
        assert_eq!(FeatureSet::from_names(&names).unwrap_err(), "segment_size");
    }
}
