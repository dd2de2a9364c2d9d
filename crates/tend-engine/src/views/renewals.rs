//! The renewal pipeline as read from the store: every term coming due in a window
//! (`tend_core::renewal`), with its account, owner, dates, ARR, the stage the dates
//! and contracts say, the outcome once closed, and the risk model's probability that
//! it renews (from the non-renewal target, when a model of it has scored the account).

use std::collections::HashMap;

use chrono::NaiveDate;
use tend_core::renewal::{renewals, Renewal, Stage};
use tend_core::Account;

use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};
use crate::risk::Target;

/// How far ahead the pipeline looks by default.
pub const DEFAULT_DAYS_AHEAD: u64 = 180;

/// Which renewals: due within `from..=to` (by default the last day of the data and
/// [`DEFAULT_DAYS_AHEAD`] after it), of an owner's book, of a segment.
#[derive(Debug, Clone, Default)]
pub struct RenewalQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub owner: Option<String>,
    pub segment: Option<String>,
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
    /// 1 − the stored probability of non-renewal; `None` without such a model.
    pub model_renewal_probability: Option<f64>,
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

fn owner_of(account: &Account) -> Option<String> {
    account
        .am_owner
        .clone()
        .or_else(|| account.csm_owner.clone())
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
        let accounts: HashMap<String, Account> = store
            .accounts()
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let (all, mixed) = renewals(&store.contracts().await?, day);
        let target = Target::NonRenewal.as_str();
        let risk: HashMap<String, f64> = match store.latest_risk_day(target).await? {
            Some(risk_day) => store
                .risk_snapshots_on(target, risk_day)
                .await?
                .into_iter()
                .map(|s| (s.account_id, s.probability))
                .collect(),
            None => HashMap::new(),
        };
        let chosen = |a: &Account| {
            query.owner.as_deref().is_none_or(|o| {
                a.csm_owner.as_deref() == Some(o) || a.am_owner.as_deref() == Some(o)
            }) && query
                .segment
                .as_deref()
                .is_none_or(|s| a.segment.as_deref() == Some(s))
        };
        let mut lines: Vec<RenewalLine> = all
            .into_iter()
            .filter(|r| from <= r.due_on && r.due_on <= to)
            .filter_map(|renewal| {
                let account = accounts.get(&renewal.account_id)?;
                chosen(account).then(|| RenewalLine {
                    account_name: account.name.clone(),
                    segment: account.segment.clone(),
                    owner: owner_of(account),
                    stage: renewal.stage_on(day),
                    next_date: if renewal.outcome.is_none() {
                        next_date(&renewal, day)
                    } else {
                        None
                    },
                    model_renewal_probability: if renewal.outcome.is_none() {
                        risk.get(&renewal.account_id).map(|p| 1.0 - p)
                    } else {
                        None
                    },
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
