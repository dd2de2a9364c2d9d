//! Expansion signals read from the store: for each customer on the last day of the
//! data, the signals of `tend_core::expansion::signals` with their estimates in the
//! reporting currency, largest estimate first.

use std::collections::{BTreeMap, HashSet};

use chrono::{Days, NaiveDate};
use tend_core::expansion::{expansion_signals, ExpansionSignal};
use tend_core::{Currency, SignalKind};
use tend_store::HistoryWindow;

use crate::app::{App, AppError};
use crate::health::facts::Loaded;
use crate::policy::{authorize, Action, Actor};
use crate::views::renewals::{in_scope, owner_of};

use super::whitespace::{check_limit, product_means};

#[derive(Debug, Clone, Default)]
pub struct SignalQuery {
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub kind: Option<SignalKind>,
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SignalLine {
    pub account_id: String,
    pub account_name: String,
    pub owner: Option<String>,
    pub signal: ExpansionSignal,
    /// The estimate in the reporting currency: the signal's own, or for a module
    /// the mean ARR of the accounts holding it.
    pub estimated_arr: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Signals {
    pub day: NaiveDate,
    pub currency: Currency,
    /// Signals in scope by kind, before the limit.
    pub counts: BTreeMap<SignalKind, usize>,
    pub total: usize,
    pub lines: Vec<SignalLine>,
}

impl App {
    /// The expansion signals of the portfolio, or of a book or segment.
    pub async fn expansion_signals(
        &self,
        actor: &Actor,
        query: &SignalQuery,
    ) -> Result<Signals, AppError> {
        authorize(actor, Action::Read)?;
        let limit = check_limit(query.limit)?;
        let store = self.store();
        let day = crate::default_day(store, self.today()).await?;
        let accounts = store.accounts().await?;
        let (contracts, money) = super::contracts_and_money(store, day).await?;
        let reporting = money.reporting();
        let means = product_means(&contracts, day, &reporting);
        let mut ids: Vec<String> = accounts
            .iter()
            .filter(|a| a.created_on <= day && a.churned_on.is_none_or(|d| d > day))
            .filter(|a| in_scope(a, query.owner.as_deref(), query.segment.as_deref()))
            .map(|a| a.id.clone())
            .collect();
        ids.sort();
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let back = |days: u64| day.checked_sub_days(Days::new(days)).unwrap_or(day);
        // Sixty days of use for the trend; nothing else is read.
        let window = HistoryWindow {
            usage: back(60),
            feature_use: back(30),
            tickets: day,
            surveys: day,
            invoices: day,
            payments: day,
            activities: day,
        };
        let mut lines = Vec::new();
        let config = self.expansion();
        for (first, last) in crate::health::scoring::load_runs(store, &ids).await? {
            let loaded = Loaded::load(store, first, last, Some((day, day)), window).await?;
            for (i, account) in loaded.accounts().iter().enumerate() {
                if !wanted.contains(account.id.as_str()) {
                    continue;
                }
                for signal in expansion_signals(&loaded.facts(i), day, config) {
                    let estimated_arr = match signal.estimated_arr {
                        Some(arr) => reporting.value(arr, day),
                        None if signal.kind == SignalKind::UnlicensedModule => {
                            means.get(&signal.product.to_lowercase()).copied()
                        }
                        None => None,
                    };
                    lines.push(SignalLine {
                        account_id: account.id.clone(),
                        account_name: account.name.clone(),
                        owner: owner_of(account),
                        signal,
                        estimated_arr,
                    });
                }
            }
        }
        lines.sort_by(|a, b| {
            b.estimated_arr
                .unwrap_or(-1)
                .cmp(&a.estimated_arr.unwrap_or(-1))
                .then_with(|| a.account_id.cmp(&b.account_id))
                .then_with(|| a.signal.kind.cmp(&b.signal.kind))
        });
        let mut counts = BTreeMap::new();
        for line in &lines {
            *counts.entry(line.signal.kind).or_default() += 1;
        }
        if let Some(kind) = query.kind {
            lines.retain(|l| l.signal.kind == kind);
        }
        let total = lines.len();
        lines.truncate(limit);
        Ok(Signals {
            day,
            currency: money.currency,
            counts,
            total,
            lines,
        })
    }
}
