//! `tend risk`: the portfolio's stored risk on a day with 7/30/90-day changes, ARR at
//! risk by account, segment and owner; and one account's prediction explained.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use tend_core::health::ScorecardSet;
use tend_core::metrics::arr_on;
use tend_core::risk::Reason;
use tend_core::{Currency, FxTable};
use tend_store::{Store, StoreError};

use super::rows::Money;
use super::score::{predict, LoadedModel, StoredReason};
use super::{Bands, RiskError, Target};
use crate::health::PortfolioFilter;

/// Changes are against this many days earlier.
pub const CHANGE_DAYS: [u64; 3] = [7, 30, 90];

#[derive(Debug, Clone, PartialEq)]
pub struct RiskRow {
    pub account_id: String,
    pub name: String,
    pub segment: String,
    pub owner: String,
    pub probability: f64,
    pub band: String,
    /// Change in probability (in points of percent) against 7, 30 and 90 days earlier.
    pub changes: [Option<f64>; 3],
    /// ARR in force on the day, in the reporting currency's major units.
    pub arr: Option<f64>,
    /// probability × ARR.
    pub arr_at_risk: Option<f64>,
    /// The reasons that raise the risk most, in words.
    pub reasons: Vec<String>,
}

/// ARR at risk of a group of accounts (a segment or an owner).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RiskGroup {
    pub name: String,
    pub accounts: usize,
    pub high: usize,
    pub arr: f64,
    pub arr_at_risk: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RiskTable {
    pub target: Target,
    pub day: NaiveDate,
    pub currency: String,
    /// Accounts shown whose ARR could not be converted into `currency` (no rate).
    pub arr_unconverted: usize,
    pub rows: Vec<RiskRow>,
    pub by_segment: Vec<RiskGroup>,
    pub by_owner: Vec<RiskGroup>,
}

/// The stored risk of `target` on `day` (the latest day with such risk when `None`),
/// highest first, with ARR in `currency` (by default the one with the most ARR).
pub async fn risk_table(
    store: &Store,
    target: Target,
    day: Option<NaiveDate>,
    filter: &PortfolioFilter,
    currency: Option<Currency>,
) -> Result<RiskTable, RiskError> {
    let day = match day {
        Some(day) => day,
        None => match store.latest_risk_day(target.as_str()).await? {
            Some(day) => day,
            None => return Err(RiskError::NoModel(target.as_str())),
        },
    };
    let snapshots = store.risk_snapshots_on(target.as_str(), day).await?;
    if snapshots.is_empty() {
        return Err(RiskError::NoSnapshots(day));
    }
    let mut before: Vec<HashMap<String, f64>> = Vec::new();
    for days in CHANGE_DAYS {
        let earlier = store
            .risk_snapshots_on(target.as_str(), day - Days::new(days))
            .await?;
        before.push(
            earlier
                .into_iter()
                .map(|s| (s.account_id, s.probability))
                .collect(),
        );
    }
    let accounts: HashMap<String, tend_core::Account> = store
        .accounts()
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let contracts = store.contracts().await?;
    let rates = FxTable::new(&store.fx_rates().await?);
    let money = match currency {
        Some(currency) => Money { currency, rates },
        None => Money::main(rates, &contracts, day),
    };
    let arr = arr_on(&contracts, day, &money.reporting(), day);
    let major = 10f64.powi(money.currency.minor_digits() as i32);
    let mut rows = Vec::new();
    let mut arr_unconverted = 0;
    for s in snapshots {
        let Some(account) = accounts.get(&s.account_id) else {
            continue;
        };
        let owner = account.csm_owner.clone().or(account.am_owner.clone());
        if let Some(o) = &filter.owner {
            let owns =
                account.csm_owner.as_ref() == Some(o) || account.am_owner.as_ref() == Some(o);
            if !owns {
                continue;
            }
        }
        if filter
            .segment
            .as_ref()
            .is_some_and(|seg| account.segment.as_ref() != Some(seg))
        {
            continue;
        }
        if filter.band.as_ref().is_some_and(|b| *b != s.band) {
            continue;
        }
        let reasons: Vec<StoredReason> =
            serde_json::from_str(&s.reasons).map_err(|e| StoreError::Corrupt {
                table: "risk_snapshots",
                id: format!("{} {}", s.account_id, s.day),
                reason: e.to_string(),
            })?;
        let account_arr = arr
            .arr
            .get(s.account_id.as_str())
            .map(|&minor| minor as f64 / major);
        if account_arr.is_none() && arr.active.contains(s.account_id.as_str()) {
            arr_unconverted += 1;
        }
        let changes = [0, 1, 2].map(|k| {
            before[k]
                .get(&s.account_id)
                .map(|p| 100.0 * (s.probability - p))
        });
        rows.push(RiskRow {
            name: account.name.clone(),
            segment: account.segment.clone().unwrap_or_default(),
            owner: owner.unwrap_or_default(),
            arr: account_arr,
            arr_at_risk: account_arr.map(|a| a * s.probability),
            reasons: reasons
                .iter()
                .filter(|r| r.contribution > 0.0)
                .map(|r| r.words.clone())
                .collect(),
            account_id: s.account_id,
            probability: s.probability,
            band: s.band,
            changes,
        });
    }
    let group = |key: fn(&RiskRow) -> &str| {
        let mut groups: BTreeMap<String, RiskGroup> = BTreeMap::new();
        for row in &rows {
            let g = groups
                .entry(key(row).to_string())
                .or_insert_with(|| RiskGroup {
                    name: key(row).to_string(),
                    ..RiskGroup::default()
                });
            g.accounts += 1;
            g.high += usize::from(row.band == "high");
            g.arr += row.arr.unwrap_or(0.0);
            g.arr_at_risk += row.arr_at_risk.unwrap_or(0.0);
        }
        let mut list: Vec<RiskGroup> = groups.into_values().collect();
        list.sort_by(|a, b| b.arr_at_risk.total_cmp(&a.arr_at_risk));
        list
    };
    let by_segment = group(|r| r.segment.as_str());
    let by_owner = group(|r| r.owner.as_str());
    Ok(RiskTable {
        target,
        day,
        currency: money.currency.to_string(),
        arr_unconverted,
        rows,
        by_segment,
        by_owner,
    })
}

/// One account's prediction on a day, every reason with its push.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskExplanation {
    pub account_id: String,
    pub day: NaiveDate,
    pub probability: f64,
    pub band: String,
    pub target: String,
    pub horizon_days: u32,
    pub model_kind: String,
    /// Reasons, largest push either way first.
    pub reasons: Vec<Reason>,
    /// The account's health score that day.
    pub health: Option<f64>,
}

/// Scores one account on `day` with the stored model of `target` and explains the
/// prediction.
pub async fn explain_risk(
    store: &Store,
    set: &ScorecardSet,
    target: Target,
    account_id: &str,
    day: NaiveDate,
    bands: &Bands,
) -> Result<RiskExplanation, RiskError> {
    let account = store
        .account(account_id)
        .await?
        .ok_or_else(|| RiskError::UnknownAccount(account_id.to_string()))?;
    let model = LoadedModel::latest(store, target)
        .await?
        .ok_or(RiskError::NoModel(target.as_str()))?;
    // A churned account is explained on its last day as a customer.
    let day = match account.churned_on {
        Some(churned) if churned <= day => churned.pred_opt().unwrap_or(churned),
        _ => day,
    };
    let computed = predict(
        store,
        set,
        &model,
        day,
        Some(std::slice::from_ref(&account.id)),
    )
    .await?;
    let first = computed
        .into_iter()
        .next()
        .ok_or_else(|| RiskError::NotActive(account.id.clone(), day))?;
    let (probability, reasons) = first.prediction.expect("predicted with a model");
    Ok(RiskExplanation {
        account_id: account.id,
        day,
        probability,
        band: bands.band(probability).to_string(),
        target: model.target.describe(model.horizon_days),
        horizon_days: model.horizon_days,
        model_kind: model.model.kind.name().to_string(),
        reasons,
        health: first.row.health,
    })
}
