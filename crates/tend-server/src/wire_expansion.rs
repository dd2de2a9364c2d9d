//! The JSON of expansion: whitespace, signals, opportunities and the expansion
//! revenue report.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tend_engine::expansion::opportunities::Opportunity;
use tend_engine::expansion::report::ExpansionReport;
use tend_engine::expansion::signals::Signals;
use tend_engine::expansion::whitespace::Whitespace;
use utoipa::ToSchema;

use crate::wire::MoneyBody;
use crate::wire_renewals::{amount, AmountBody};

/// A product an account does not hold that similar accounts do.
#[derive(Serialize, ToSchema)]
pub struct GapBody {
    pub account_id: String,
    pub account_name: String,
    /// The account manager (the CSM when there is none).
    pub owner: Option<String>,
    pub product: String,
    /// Similar accounts: same segment and industry, ARR within a factor of 2.
    pub peers: usize,
    /// Those of them holding the product.
    pub owners: usize,
    pub share: f64,
    /// The owners' mean ARR of the product.
    pub estimated_arr: AmountBody,
    /// share × estimated ARR, what the ranking is by.
    pub expected_arr: AmountBody,
}

/// The whitespace: gaps ranked by expected ARR.
#[derive(Serialize, ToSchema)]
pub struct WhitespaceBody {
    pub day: NaiveDate,
    pub currency: String,
    /// Each product held by some account, with how many hold it.
    pub products: BTreeMap<String, usize>,
    /// Gaps in scope, before the limit.
    pub total: usize,
    pub gaps: Vec<GapBody>,
    pub left_out: Vec<MoneyBody>,
}

impl From<Whitespace> for WhitespaceBody {
    fn from(w: Whitespace) -> Self {
        let c = w.currency;
        WhitespaceBody {
            day: w.day,
            currency: c.as_str().to_string(),
            products: w.products,
            total: w.total,
            gaps: w
                .gaps
                .into_iter()
                .map(|line| GapBody {
                    expected_arr: amount(line.gap.expected_arr(), c),
                    estimated_arr: amount(line.gap.estimated_arr as f64, c),
                    account_id: line.gap.account_id,
                    account_name: line.account_name,
                    owner: line.owner,
                    product: line.gap.product,
                    peers: line.gap.peers,
                    owners: line.gap.owners,
                    share: line.gap.share,
                })
                .collect(),
            left_out: w.left_out.amounts().map(Into::into).collect(),
        }
    }
}

/// An expansion signal on an account.
#[derive(Serialize, ToSchema)]
pub struct SignalBody {
    pub account_id: String,
    pub account_name: String,
    pub owner: Option<String>,
    /// high_utilization, seats_over_licence, usage_growth or unlicensed_module.
    pub kind: &'static str,
    pub product: String,
    /// The reading in words.
    pub words: String,
    /// What it could add a year in the reporting currency, where the data gives it.
    pub estimated_arr: Option<AmountBody>,
}

#[derive(Serialize, ToSchema)]
pub struct SignalsBody {
    pub day: NaiveDate,
    pub currency: String,
    /// Signals in scope by kind, before the kind filter and the limit.
    pub counts: BTreeMap<String, usize>,
    pub total: usize,
    pub items: Vec<SignalBody>,
}

impl From<Signals> for SignalsBody {
    fn from(s: Signals) -> Self {
        let c = s.currency;
        SignalsBody {
            day: s.day,
            currency: c.as_str().to_string(),
            counts: s
                .counts
                .into_iter()
                .map(|(k, n)| (k.as_str().to_string(), n))
                .collect(),
            total: s.total,
            items: s
                .lines
                .into_iter()
                .map(|l| SignalBody {
                    account_id: l.account_id,
                    account_name: l.account_name,
                    owner: l.owner,
                    kind: l.signal.kind.as_str(),
                    product: l.signal.product,
                    words: l.signal.words,
                    estimated_arr: l.estimated_arr.map(|a| amount(a as f64, c)),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OpportunityBody {
    pub id: i64,
    pub account_id: String,
    pub product: String,
    pub title: String,
    /// identified, qualified, proposal, negotiation, closed_won or closed_lost.
    pub stage: &'static str,
    /// The ARR it would add.
    pub amount: MoneyBody,
    /// Expected to close on; the day it closed once won or lost.
    pub close_on: NaiveDate,
    pub owner: Option<String>,
    /// playbook, signal or manual.
    pub source: &'static str,
    pub source_detail: Option<String>,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Opportunity> for OpportunityBody {
    fn from(o: Opportunity) -> Self {
        OpportunityBody {
            id: o.id,
            account_id: o.account_id,
            product: o.product,
            title: o.title,
            stage: o.stage.as_str(),
            amount: o.amount.into(),
            close_on: o.close_on,
            owner: o.owner,
            source: o.source.as_str(),
            source_detail: o.source_detail,
            note: o.note,
            created_by: o.created_by,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OpportunitiesBody {
    pub items: Vec<OpportunityBody>,
}

/// A new opportunity on the account of the path.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOpportunityBody {
    pub product: String,
    /// By default "PRODUCT for ACCOUNT NAME".
    pub title: Option<String>,
    /// The ARR it would add, in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The day it is expected to close.
    pub close_on: NaiveDate,
    /// By default the account manager, else the CSM, else the caller.
    pub owner: Option<String>,
    /// playbook, signal or manual (by default manual).
    pub source: Option<String>,
    /// The signal, gap or playbook it came from.
    pub source_detail: Option<String>,
    pub note: Option<String>,
    /// By default identified.
    pub stage: Option<String>,
}

/// Fields to change; those left out stay as they are. A won or lost opportunity
/// keeps its stage and amount.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpportunityPatch {
    pub title: Option<String>,
    pub stage: Option<String>,
    /// With `currency` (by default the opportunity's).
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// Expected close day, or the day it closed (today when closing without one).
    pub close_on: Option<NaiveDate>,
    pub owner: Option<String>,
    pub note: Option<String>,
}

/// One period of the expansion revenue report; amounts in the reporting currency.
#[derive(Serialize, ToSchema)]
pub struct PeriodExpansionBody {
    /// `2026-Q3`, `2026-03` or `2026`.
    pub period: String,
    pub start: NaiveDate,
    /// The first day after the period.
    pub end: NaiveDate,
    /// Expansion ARR booked on contracts in the period.
    pub booked: AmountBody,
    pub bookings: usize,
    /// playbook, signal, manual and unattributed.
    pub by_source: BTreeMap<String, AmountBody>,
    pub by_segment: BTreeMap<String, AmountBody>,
    pub by_owner: BTreeMap<String, AmountBody>,
    /// Opportunities won in the period, and their amount.
    pub won: usize,
    pub won_amount: AmountBody,
}

/// A booking of expansion ARR and the opportunities that explain it.
#[derive(Serialize, ToSchema)]
pub struct BookingBody {
    pub account_id: String,
    pub account_name: String,
    pub segment: Option<String>,
    pub owner: Option<String>,
    pub product: String,
    /// The day the term carrying it starts.
    pub day: NaiveDate,
    pub amount: AmountBody,
    pub attributed: Vec<AttributedBody>,
    pub unattributed: AmountBody,
}

#[derive(Serialize, ToSchema)]
pub struct AttributedBody {
    pub opportunity_id: i64,
    pub source: &'static str,
    pub amount: AmountBody,
}

#[derive(Serialize, ToSchema)]
pub struct ExpansionReportBody {
    pub day: NaiveDate,
    pub currency: String,
    pub periods: Vec<PeriodExpansionBody>,
    /// The bookings of the periods, latest first.
    pub bookings: Vec<BookingBody>,
    pub left_out: Vec<MoneyBody>,
}

impl From<ExpansionReport> for ExpansionReportBody {
    fn from(r: ExpansionReport) -> Self {
        let c = r.currency;
        let money = |map: BTreeMap<String, i64>| -> BTreeMap<String, AmountBody> {
            map.into_iter()
                .map(|(k, v)| (k, amount(v as f64, c)))
                .collect()
        };
        ExpansionReportBody {
            day: r.day,
            currency: c.as_str().to_string(),
            periods: r
                .periods
                .into_iter()
                .map(|p| {
                    let span = p.period.period();
                    PeriodExpansionBody {
                        period: p.period.label(),
                        start: span.start,
                        end: span.end,
                        booked: amount(p.booked as f64, c),
                        bookings: p.bookings,
                        by_source: money(
                            p.by_source
                                .into_iter()
                                .map(|(k, v)| (k.to_string(), v))
                                .collect(),
                        ),
                        by_segment: money(p.by_segment),
                        by_owner: money(p.by_owner),
                        won: p.won,
                        won_amount: amount(p.won_amount as f64, c),
                    }
                })
                .collect(),
            bookings: r
                .bookings
                .into_iter()
                .map(|line| {
                    let a = line.attribution;
                    BookingBody {
                        unattributed: amount(a.unattributed() as f64, c),
                        attributed: a
                            .parts
                            .iter()
                            .map(|&(id, source, part)| AttributedBody {
                                opportunity_id: id,
                                source: source.as_str(),
                                amount: amount(part as f64, c),
                            })
                            .collect(),
                        account_id: a.booking.account_id,
                        account_name: line.account_name,
                        segment: line.segment,
                        owner: line.owner,
                        product: a.booking.product,
                        day: a.booking.day,
                        amount: amount(a.booking.amount as f64, c),
                    }
                })
                .collect(),
            left_out: r.left_out.amounts().map(Into::into).collect(),
        }
    }
}
