//! The expansion revenue report: expansion ARR booked on contracts in calendar
//! periods, attributed to the won opportunities behind it by source (playbook,
//! signal, manual, or none), with totals by segment and owner.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use tend_core::expansion::{attribute, booked_expansion, Attribution, WonOpportunity};
use tend_core::{
    Account, CalendarKind, CalendarPeriod, Currency, LeftOut, OpportunitySource, OpportunityStage,
};

use crate::app::{App, AppError};
use crate::forecast::periods_of;
use crate::policy::{authorize, Action, Actor};
use crate::views::renewals::{in_scope, owner_of};

use super::opportunities::OpportunityQuery;

/// The name of expansion no opportunity explains, beside the sources'.
pub const UNATTRIBUTED: &str = "unattributed";
/// Quarters the report covers by default, back from the current one.
pub const DEFAULT_QUARTERS: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct ExpansionReportQuery {
    /// The first period; by default the quarter three before the current one.
    pub period: Option<CalendarPeriod>,
    /// Consecutive periods (by default 4, with the default period).
    pub periods: Option<usize>,
    pub owner: Option<String>,
    pub segment: Option<String>,
}

/// One period's expansion; amounts in minor units of the reporting currency.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodExpansion {
    pub period: CalendarPeriod,
    pub booked: i64,
    pub bookings: usize,
    /// playbook, signal, manual and unattributed, each present.
    pub by_source: BTreeMap<&'static str, i64>,
    pub by_segment: BTreeMap<String, i64>,
    pub by_owner: BTreeMap<String, i64>,
    /// Opportunities won in the period and their amount.
    pub won: usize,
    pub won_amount: i64,
}

/// A booking with its account and what explains it.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingLine {
    pub attribution: Attribution,
    pub account_name: String,
    pub segment: Option<String>,
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpansionReport {
    pub day: NaiveDate,
    pub currency: Currency,
    pub periods: Vec<PeriodExpansion>,
    /// The bookings of the periods, latest first.
    pub bookings: Vec<BookingLine>,
    /// ARR that could not be converted, per currency.
    pub left_out: LeftOut,
}

impl App {
    pub async fn expansion_report(
        &self,
        actor: &Actor,
        query: &ExpansionReportQuery,
    ) -> Result<ExpansionReport, AppError> {
        authorize(actor, Action::Read)?;
        let store = self.store();
        let day = crate::default_day(store, self.today()).await?;
        let periods = match query.period {
            Some(first) => periods_of(first, query.periods.unwrap_or(1))?,
            None => {
                let count = query.periods.unwrap_or(DEFAULT_QUARTERS);
                let mut first = CalendarPeriod::containing(CalendarKind::Quarter, day);
                for _ in 1..count.clamp(1, crate::forecast::MAX_PERIODS) {
                    first = first.previous();
                }
                periods_of(first, count)?
            }
        };
        let accounts: BTreeMap<String, Account> = store
            .accounts()
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let (contracts, money) = super::contracts_and_money(store, day).await?;
        let reporting = money.reporting();
        let (bookings, mut left_out) =
            booked_expansion(&contracts, |arr, on| reporting.value(arr, on));
        let mut won = Vec::new();
        let all = OpportunityQuery {
            stage: Some(OpportunityStage::ClosedWon),
            ..Default::default()
        };
        for o in self.opportunities(actor, &all).await? {
            match reporting.value(o.amount, o.close_on) {
                Some(amount) => won.push(WonOpportunity {
                    id: o.id,
                    account_id: o.account_id,
                    product: o.product,
                    closed_on: o.close_on,
                    amount,
                    source: o.source,
                }),
                None => left_out.add(o.amount),
            }
        }
        // Attribution runs over the whole history: an opportunity's amount is used
        // up in day order, whatever the periods asked for.
        let attributions = attribute(&bookings, &won);
        let scoped = |id: &str| {
            accounts
                .get(id)
                .filter(|a| in_scope(a, query.owner.as_deref(), query.segment.as_deref()))
        };
        let mut report_periods = Vec::new();
        for period in &periods {
            let span = period.period();
            let mut p = PeriodExpansion {
                period: *period,
                booked: 0,
                bookings: 0,
                by_source: OpportunitySource::ALL
                    .iter()
                    .map(|s| (s.as_str(), 0))
                    .chain([(UNATTRIBUTED, 0)])
                    .collect(),
                by_segment: BTreeMap::new(),
                by_owner: BTreeMap::new(),
                won: 0,
                won_amount: 0,
            };
            for a in attributions.iter().filter(|a| span.contains(a.booking.day)) {
                let Some(account) = scoped(&a.booking.account_id) else {
                    continue;
                };
                p.booked += a.booking.amount;
                p.bookings += 1;
                for &(_, source, part) in &a.parts {
                    *p.by_source.entry(source.as_str()).or_default() += part;
                }
                *p.by_source.entry(UNATTRIBUTED).or_default() += a.unattributed();
                let segment = account.segment.clone().unwrap_or_default();
                *p.by_segment.entry(segment).or_default() += a.booking.amount;
                let owner = owner_of(account).unwrap_or_default();
                *p.by_owner.entry(owner).or_default() += a.booking.amount;
            }
            for o in won.iter().filter(|o| span.contains(o.closed_on)) {
                if scoped(&o.account_id).is_some() {
                    p.won += 1;
                    p.won_amount += o.amount;
                }
            }
            report_periods.push(p);
        }
        let (start, end) = (
            periods[0].period().start,
            periods[periods.len() - 1].period().end,
        );
        let mut lines: Vec<BookingLine> = attributions
            .into_iter()
            .filter(|a| start <= a.booking.day && a.booking.day < end)
            .filter_map(|attribution| {
                let account = scoped(&attribution.booking.account_id)?;
                Some(BookingLine {
                    account_name: account.name.clone(),
                    segment: account.segment.clone(),
                    owner: owner_of(account),
                    attribution,
                })
            })
            .collect();
        lines.reverse();
        Ok(ExpansionReport {
            day,
            currency: money.currency,
            periods: report_periods,
            bookings: lines,
            left_out,
        })
    }
}
