//! Whitespace read from the store: each customer's ARR by product in force on the
//! last day of the data, in the reporting currency, and the products similar
//! accounts hold that it does not (`tend_core::expansion`), best first.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use tend_core::expansion::{whitespace, Gap, Holder};
use tend_core::{Account, Contract, Currency, LeftOut, Reporting};

use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};
use crate::views::renewals::{in_scope, owner_of};

/// Gaps listed by default, and at most.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 1_000;

#[derive(Debug, Clone, Default)]
pub struct WhitespaceQuery {
    /// Gaps of this owner's book (similar accounts are found among all).
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub limit: Option<usize>,
}

/// One gap with its account's name and owner.
#[derive(Debug, Clone, PartialEq)]
pub struct GapLine {
    pub gap: Gap,
    pub account_name: String,
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Whitespace {
    pub day: NaiveDate,
    pub currency: Currency,
    /// Every product held by some account, with how many hold it.
    pub products: BTreeMap<String, usize>,
    /// Gaps in scope, before the limit.
    pub total: usize,
    pub gaps: Vec<GapLine>,
    /// ARR that could not be converted (its accounts are left out).
    pub left_out: LeftOut,
}

/// The limit asked for, or the default; refused outside 1–[`MAX_LIMIT`].
pub(crate) fn check_limit(limit: Option<usize>) -> Result<usize, AppError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ))
    }
}

/// Each product's mean ARR per account holding it on `day` (products named in
/// lower case), in the reporting currency; what a module not yet licensed might cost.
pub(crate) fn product_means(
    contracts: &[Contract],
    day: NaiveDate,
    reporting: &Reporting,
) -> HashMap<String, i64> {
    let mut held: HashMap<(String, &str), i64> = HashMap::new();
    for c in contracts.iter().filter(|c| c.is_held_on(day)) {
        if let Some(arr) = reporting.value(c.arr, day) {
            *held
                .entry((c.product.to_lowercase(), c.account_id.as_str()))
                .or_default() += arr;
        }
    }
    let mut sums: HashMap<String, (i64, i64)> = HashMap::new();
    for ((product, _), arr) in held {
        let entry = sums.entry(product).or_default();
        entry.0 += arr;
        entry.1 += 1;
    }
    sums.into_iter()
        .map(|(product, (sum, n))| (product, (sum as f64 / n as f64).round() as i64))
        .collect()
}

impl App {
    /// The whitespace of the portfolio, or of a book or segment, best first.
    pub async fn whitespace(
        &self,
        actor: &Actor,
        query: &WhitespaceQuery,
    ) -> Result<Whitespace, AppError> {
        authorize(actor, Action::Read)?;
        let limit = check_limit(query.limit)?;
        let store = self.store();
        let day = crate::default_day(store, self.today()).await?;
        let accounts: HashMap<String, Account> = store
            .accounts()
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let (contracts, money) = super::contracts_and_money(store, day).await?;
        let reporting = money.reporting();
        let mut holdings: BTreeMap<&str, BTreeMap<String, i64>> = BTreeMap::new();
        let mut left_out = LeftOut::default();
        let mut unconvertible: Vec<&str> = Vec::new();
        for c in contracts
            .iter()
            .filter(|c| c.is_held_on(day) && c.arr.minor > 0)
        {
            match reporting.value(c.arr, day) {
                Some(arr) => {
                    *holdings
                        .entry(c.account_id.as_str())
                        .or_default()
                        .entry(c.product.clone())
                        .or_default() += arr;
                }
                None => {
                    left_out.add(c.arr);
                    unconvertible.push(c.account_id.as_str());
                }
            }
        }
        // An account with ARR that cannot be converted is left out whole.
        for id in unconvertible {
            holdings.remove(id);
        }
        let holders: Vec<Holder> = holdings
            .into_iter()
            .filter_map(|(id, products)| {
                let account = accounts.get(id)?;
                account.churned_on.is_none_or(|d| d > day).then(|| Holder {
                    account_id: id.to_string(),
                    segment: account.segment.clone(),
                    industry: account.industry.clone(),
                    products,
                })
            })
            .collect();
        let mut products: BTreeMap<String, usize> = BTreeMap::new();
        for h in &holders {
            for p in h.products.keys() {
                *products.entry(p.clone()).or_default() += 1;
            }
        }
        let chosen: Vec<GapLine> = whitespace(&holders)
            .into_iter()
            .filter_map(|gap| {
                let account = accounts.get(&gap.account_id)?;
                in_scope(account, query.owner.as_deref(), query.segment.as_deref()).then(|| {
                    GapLine {
                        account_name: account.name.clone(),
                        owner: owner_of(account),
                        gap,
                    }
                })
            })
            .collect();
        let total = chosen.len();
        Ok(Whitespace {
            day,
            currency: money.currency,
            products,
            total,
            gaps: chosen.into_iter().take(limit).collect(),
            left_out,
        })
    }
}
