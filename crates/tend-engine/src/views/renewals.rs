//! The renewal pipeline as read from the store: every term coming due in a window
//! (`tend_core::renewal`), with its account, owner, dates, ARR, the stage the dates
//! and contracts say (or the owner's call), the outcome once closed, the risk model's
//! probability that it renews (from the non-renewal target, when a model of it has
//! scored the account) and the owner's latest forecast call beside it.

use std::collections::HashMap;

use chrono::NaiveDate;
use tend_core::renewal::{renewals, Renewal, Stage};
use tend_core::Account;

use crate::app::{App, AppError};
use crate::forecast::RenewalModel;
use crate::policy::{authorize, Action, Actor};
use crate::renewal_calls::{latest_calls, RenewalCall};

/// How far ahead the pipeline looks by default.
pub const DEFAULT_DAYS_AHEAD: u64 = 180;

/// Which renewals: due within `from..=to` (by default the last day of the data and
/// [`DEFAULT_DAYS_AHEAD`] after it), of an owner's book, of a segment, of one
/// account (which reads only that account's contracts and risk).
#[derive(Debug, Clone, Default)]
pub struct RenewalQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub account: Option<String>,
}

/// One renewal with what the pipeline shows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RenewalLine {
    pub renewal: Renewal,
    pub account_name: String,
    pub segment: Option<String>,
    /// The account manager (the CSM when there is none).
    pub owner: Option<String>,
    pub stage: Stage,
    /// The first of T-120/90/60/30 and the notice deadline still ahead, with its name.
    pub next_date: Option<(&'static str, NaiveDate)>,
    /// 1 − the stored probability of non-renewal; `None` without such a model or when
    /// the renewal is due beyond its horizon.
    pub model_renewal_probability: Option<f64>,
    /// The owner's latest forecast call, of an open renewal.
    pub call: Option<RenewalCall>,
    /// The call's category and the model's probability disagree.
    pub disagrees: bool,
}

/// The renewals of a window, soonest first, with those left out for mixed
/// currencies counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub day: NaiveDate,
    /// The window the renewals are due in.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub lines: Vec<RenewalLine>,
    pub mixed_currencies: usize,
}

fn next_date(renewal: &Renewal, day: NaiveDate) -> Option<(&'static str, NaiveDate)> {
    let names = ["T-120", "T-90", "T-60", "T-30"];
    let mut dates: Vec<(&'static str, NaiveDate)> = names
        .iter()
        .copied()
        .zip(renewal.milestones)
        .chain([
            ("notice deadline", renewal.notice_deadline),
            ("due", renewal.due_on),
        ])
        .filter(|(_, d)| *d >= day)
        .collect();
    dates.sort_by_key(|(_, d)| *d);
    dates.first().copied()
}

/// Who owns an account's commercial side: its account manager, else its CSM.
pub(crate) fn owner_of(account: &Account) -> Option<String> {
    account
        .am_owner
        .clone()
        .or_else(|| account.csm_owner.clone())
}

/// Whether `account` is in the book of `owner` (its CSM or account manager) and of
/// `segment`, each when given.
pub(crate) fn in_scope(account: &Account, owner: Option<&str>, segment: Option<&str>) -> bool {
    owner.is_none_or(|o| {
        account.csm_owner.as_deref() == Some(o) || account.am_owner.as_deref() == Some(o)
    }) && segment.is_none_or(|s| account.segment.as_deref() == Some(s))
}

impl App {
    /// The renewals due in `query`'s window, soonest first.
    pub async fn renewal_pipeline(
        &self,
        actor: &Actor,
        query: &RenewalQuery,
    ) -> Result<Pipeline, AppError> {
        authorize(actor, Action::Read)?;
        let store = self.store();
        let day = crate::default_day(store, self.today()).await?;
        let from = query.from.unwrap_or(day);
        let to = match query.to {
            Some(to) => to,
            None => from
                .checked_add_days(chrono::Days::new(DEFAULT_DAYS_AHEAD))
                .ok_or_else(|| AppError::invalid("from", "is too far in the future"))?,
        };
        if from > to {
            return Err(AppError::invalid("from", "must not be after `to`"));
        }
        let (accounts, contracts, model) = match (&query.account, &query.owner) {
            (Some(id), _) => (
                vec![self.account(id).await?],
                store.contracts_of(id).await?,
                RenewalModel::load_for(store, std::slice::from_ref(id)).await?,
            ),
            (None, Some(owner)) => {
                let accounts = store.accounts_of_owner(owner).await?;
                let ids: Vec<String> = accounts.iter().map(|a| a.id.clone()).collect();
                (
                    accounts,
                    store.contracts_of_owner(owner).await?,
                    RenewalModel::load_for(store, &ids).await?,
                )
            }
            (None, None) => (
                store.accounts().await?,
                store.contracts().await?,
                RenewalModel::load(store).await?,
            ),
        };
        let accounts: HashMap<String, Account> =
            accounts.into_iter().map(|a| (a.id.clone(), a)).collect();
        let (all, mixed) = renewals(&contracts, day);
        let mut calls = latest_calls(store).await?;
        let chosen = |a: &Account| in_scope(a, query.owner.as_deref(), query.segment.as_deref());
        let mut lines: Vec<RenewalLine> = all
            .into_iter()
            .filter(|r| from <= r.due_on && r.due_on <= to)
            .filter_map(|renewal| {
                let account = accounts.get(&renewal.account_id)?;
                if !chosen(account) {
                    return None;
                }
                let open = renewal.outcome.is_none();
                let key = (
                    renewal.account_id.clone(),
                    renewal.product.clone(),
                    renewal.due_on,
                );
                let call = calls.remove(&key).filter(|_| open);
                let probability = if open {
                    model.probability(&renewal)
                } else {
                    None
                };
                Some(RenewalLine {
                    account_name: account.name.clone(),
                    segment: account.segment.clone(),
                    owner: owner_of(account),
                    stage: renewal.stage_with(day, call.as_ref().and_then(|c| c.stage)),
                    next_date: if open { next_date(&renewal, day) } else { None },
                    model_renewal_probability: probability,
                    disagrees: call.as_ref().is_some_and(|c| c.disagrees(probability)),
                    call,
                    renewal,
                })
            })
            .collect();
        lines.sort_by(|a, b| {
            (a.renewal.due_on, &a.renewal.account_id, &a.renewal.product).cmp(&(
                b.renewal.due_on,
                &b.renewal.account_id,
                &b.renewal.product,
            ))
        });
        Ok(Pipeline {
            day,
            from,
            to,
            lines,
            mixed_currencies: mixed.len(),
        })
    }
}
