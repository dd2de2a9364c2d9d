//! Feature rows: each account's churn features on each of some days, computed from
//! the data as it was at the end of the day, with its health that day and, where the
//! outcome was known by the last day of the data, its label.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use futures_util::StreamExt;
use tend_core::health::{score, ScorecardSet, MEASURES};
use tend_core::risk::{
    churned_within, common_categories, describe, feature_values, not_renewed_within, FeatureSet,
    Reason,
};
use tend_core::summary::{arr_by_currency, main_currency};
use tend_core::{Account, Currency, FxTable, Reporting};
use tend_stats::churn::ChurnModel;
use tend_store::Store;

use super::{RiskError, Target};
use crate::health::facts::{history_window_of_all_measures, is_scored_on, Loaded};
use crate::health::scoring::{
    distributions, has_percentile_rules, per_chunk_with, score_rows, AccountDay,
};

/// One account on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureRow {
    pub account_id: String,
    pub day: NaiveDate,
    /// In the feature set's order; NaN where missing.
    pub values: Vec<f64>,
    /// The health score that day.
    pub health: Option<f64>,
    /// The outcome over the horizon, when known by the last day of the data.
    pub label: Option<bool>,
}

/// The money setting of features: ARR in one currency at the day's rates.
#[derive(Debug, Clone)]
pub(crate) struct Money {
    pub currency: Currency,
    pub rates: FxTable,
}

impl Money {
    /// `currency`, or the one with the most ARR on `day`.
    pub(crate) async fn load(
        store: &Store,
        currency: Option<Currency>,
        day: NaiveDate,
    ) -> Result<Money, RiskError> {
        let rates = FxTable::new(&store.fx_rates().await?);
        Ok(match currency {
            Some(currency) => Money { currency, rates },
            None => Money::main(rates, &store.contracts().await?, day),
        })
    }

    /// The currency with the most ARR on `day` among `contracts`.
    pub(crate) fn main(rates: FxTable, contracts: &[tend_core::Contract], day: NaiveDate) -> Money {
        let currency = main_currency(&arr_by_currency(contracts, day), &rates, day);
        Money { currency, rates }
    }

    pub(crate) fn reporting(&self) -> Reporting<'_> {
        Reporting {
            currency: self.currency,
            rates: &self.rates,
        }
    }
}

/// The outcome rows are labelled with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Labels {
    pub target: Target,
    pub horizon_days: u32,
    /// The last day of the data: outcomes ending after it are unknown.
    pub as_of: NaiveDate,
}

impl Labels {
    fn of(
        &self,
        account: &Account,
        facts: &tend_core::health::AccountFacts,
        day: NaiveDate,
    ) -> Option<bool> {
        if day + Days::new(u64::from(self.horizon_days)) > self.as_of {
            return None;
        }
        match self.target {
            Target::Churn => Some(churned_within(account, day, self.horizon_days)),
            Target::NonRenewal => {
                not_renewed_within(facts.contracts, day, self.horizon_days, self.as_of)
            }
        }
    }
}

/// What rows are computed with besides the loaded data.
pub(crate) struct Setting {
    pub features: FeatureSet,
    pub money: Money,
    /// Label the rows (training).
    pub labels: Option<Labels>,
    /// Predict and explain each row (scoring).
    pub model: Option<Arc<ChurnModel>>,
}

/// A feature row, and for scoring, the prediction with every reason in words.
pub(crate) struct Computed {
    pub row: FeatureRow,
    /// The calibrated probability and the reasons, largest push first.
    pub prediction: Option<(f64, Vec<Reason>)>,
}

/// Each active account's rows (those of `ids`, sorted) on `days` (ascending).
/// `progress(n)` is told of every chunk of n accounts done.
pub(crate) async fn compute(
    store: &Store,
    set: &ScorecardSet,
    ids: &[String],
    days: &[NaiveDate],
    setting: Setting,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<Vec<Computed>, RiskError> {
    if ids.is_empty() || days.is_empty() {
        return Ok(Vec::new());
    }
    let earliest = days[0]
        .checked_sub_days(Days::new(tend_core::risk::TREND_DAYS))
        .unwrap_or(days[0]);
    let window = history_window_of_all_measures(set, earliest);
    let setting = Arc::new(setting);
    let percentile = has_percentile_rules(set);
    let work = Arc::new(
        move |set: &ScorecardSet, loaded: &Loaded, days: &[NaiveDate]| {
            rows_of_chunk(set, loaded, days, &setting, percentile)
        },
    );
    let mut chunks = std::pin::pin!(per_chunk_with(store, set, ids, days, window, work));
    let mut out = Vec::new();
    let mut raw = Vec::new();
    while let Some(result) = chunks.next().await {
        let (count, (computed, card_raw)) = result?;
        out.extend(computed);
        raw.extend(card_raw);
        progress(count);
    }
    // Chunks load runs of ids, which may hold accounts not asked for.
    let asked: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    if percentile {
        // Percentile rules rank an account within its segment on the day: health is
        // scored once every row's raw values are in.
        let dists = distributions(set, &raw);
        for (computed, snapshot) in out.iter_mut().zip(score_rows(set, &raw, &dists)) {
            computed.row.health = snapshot.score.overall;
        }
    }
    out.retain(|c| asked.contains(c.row.account_id.as_str()));
    Ok(out)
}

fn rows_of_chunk(
    set: &ScorecardSet,
    loaded: &Loaded,
    days: &[NaiveDate],
    setting: &Setting,
    percentile: bool,
) -> (Vec<Computed>, Vec<AccountDay>) {
    let reporting = setting.money.reporting();
    let mut out = Vec::new();
    let mut raw_rows = Vec::new();
    for (i, account) in loaded.accounts().iter().enumerate() {
        let card = set.for_account(account);
        let facts = loaded.facts(i);
        // A measure's raw value is its feature: the first features are MEASURES.
        let positions: Vec<usize> = card
            .measures()
            .map(|(_, m, _)| {
                MEASURES
                    .iter()
                    .position(|s| s.name == m.spec().name)
                    .expect("a known measure")
            })
            .collect();
        for &day in days.iter().filter(|&&d| is_scored_on(account, d)) {
            let values = feature_values(&setting.features, card, &facts, day, &reporting);
            let card_raw: Vec<Option<f64>> = positions
                .iter()
                .map(|&p| Some(values[p]).filter(|v| !v.is_nan()))
                .collect();
            let health = if percentile {
                raw_rows.push(AccountDay {
                    account_id: account.id.clone(),
                    segment: account.segment.clone().unwrap_or_default(),
                    card: set
                        .scorecards
                        .iter()
                        .position(|c| std::ptr::eq(c, card))
                        .expect("the card is from the set"),
                    day,
                    raw: card_raw,
                });
                None
            } else {
                score(card, &card_raw, |_| &[][..]).overall
            };
            let prediction = setting.model.as_ref().map(|model| {
                let probability = model.probability(&values);
                let pushes = model.contributions(&values).features;
                let mut order: Vec<usize> = (0..pushes.len())
                    .filter(|&k| pushes[k].abs() > 1e-9)
                    .collect();
                order.sort_by(|&a, &b| pushes[b].abs().total_cmp(&pushes[a].abs()));
                // Words cost a reading of the measure on two days: only for the reasons
                // anything shows.
                order.truncate(REASONS_KEPT);
                let reasons: Vec<Reason> = order
                    .into_iter()
                    .map(|k| {
                        let feature = &setting.features.features[k];
                        Reason {
                            feature: feature.name.clone(),
                            contribution: pushes[k],
                            words: describe(feature, card, &facts, day, values[k], &reporting),
                        }
                    })
                    .collect();
                (probability, reasons)
            });
            out.push(Computed {
                row: FeatureRow {
                    account_id: account.id.clone(),
                    day,
                    label: setting.labels.and_then(|l| l.of(account, &facts, day)),
                    values,
                    health,
                },
                prediction,
            });
        }
    }
    (out, raw_rows)
}

/// Reasons kept per prediction, largest push first.
pub(crate) const REASONS_KEPT: usize = 10;

/// Category values seen on at least this many accounts become features.
const MIN_ACCOUNTS_PER_CATEGORY: usize = 20;
/// At most this many values of each category field.
const MAX_VALUES_PER_CATEGORY: usize = 12;

/// The features of a model fitted on data through `as_of`: every measure and its
/// trend, the contract features, and the segments, tiers and industries of accounts
/// known by then.
pub(crate) fn feature_set(accounts: &[Account], as_of: NaiveDate) -> FeatureSet {
    let known = accounts.iter().filter(|a| a.created_on <= as_of);
    FeatureSet::new(&common_categories(
        known,
        MIN_ACCOUNTS_PER_CATEGORY,
        MAX_VALUES_PER_CATEGORY,
    ))
}
