//! JSON bodies of the renewal pipeline and forecast.

use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tend_core::{Currency, Money};
use tend_engine::forecast::backtest::Backtest;
use tend_engine::forecast::dispersion::Dispersion;
use tend_engine::forecast::{CallTotals, ForecastReport};
use tend_engine::proposals::Proposal;
use tend_engine::renewal_calls::RenewalCall;
use tend_engine::views::renewals::{Pipeline, RenewalLine};
use utoipa::ToSchema;

use crate::wire::MoneyBody;

/// One term coming due.
#[derive(Serialize, ToSchema)]
pub struct RenewalBody {
    pub account_id: String,
    pub account_name: String,
    pub segment: Option<String>,
    /// The account manager (the CSM when there is none).
    pub owner: Option<String>,
    pub product: String,
    pub due_on: NaiveDate,
    /// ARR up for renewal, in the currency of the term's contracts.
    pub arr: MoneyBody,
    pub contracts: Vec<String>,
    pub auto_renew: bool,
    /// The last day notice can be given.
    pub notice_deadline: NaiveDate,
    /// T-120, T-90, T-60, T-30.
    pub milestones: Vec<NaiveDate>,
    /// upcoming, outreach, negotiation, committed, closed_won or closed_lost.
    pub stage: &'static str,
    /// The next date that matters of an open renewal: its name and day.
    pub next_date: Option<NextDateBody>,
    /// The risk model's probability that it renews (1 − non-renewal), open ones only.
    pub model_renewal_probability: Option<f64>,
    /// Of a closed renewal.
    pub outcome: Option<OutcomeBody>,
    /// The owner's latest forecast call on the open renewal.
    pub call: Option<RenewalCallBody>,
    /// The call's category and the model's probability disagree (commit below 80%,
    /// best case outside 50–80%, at risk at 50% or more).
    pub disagrees: bool,
}

/// A forecast call on a renewal.
#[derive(Serialize, ToSchema)]
pub struct RenewalCallBody {
    pub id: i64,
    pub account_id: String,
    pub product: String,
    pub due_on: NaiveDate,
    /// commit, best_case, at_risk or omitted.
    pub category: &'static str,
    /// negotiation or committed, when the call moved the renewal on.
    pub stage: Option<&'static str>,
    pub note: Option<String>,
    /// The model's probability that it renews when the call was made.
    pub model_probability: Option<f64>,
    pub made_by: String,
    pub made_at: DateTime<Utc>,
}

impl From<RenewalCall> for RenewalCallBody {
    fn from(c: RenewalCall) -> Self {
        RenewalCallBody {
            id: c.id,
            account_id: c.account_id,
            product: c.product,
            due_on: c.due_on,
            category: c.category.as_str(),
            stage: c.stage.map(|s| s.as_str()),
            note: c.note,
            model_probability: c.model_probability,
            made_by: c.made_by,
            made_at: c.made_at,
        }
    }
}

/// A forecast call to make on an open renewal of the account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRenewalCallBody {
    pub product: String,
    pub due_on: NaiveDate,
    /// commit, best_case, at_risk or omitted.
    pub category: String,
    /// negotiation or committed, to move the renewal into that stage.
    pub stage: Option<String>,
    pub note: Option<String>,
}

/// The calls on one renewal, oldest first.
#[derive(Serialize, ToSchema)]
pub struct RenewalCallsBody {
    pub items: Vec<RenewalCallBody>,
}

#[derive(Serialize, ToSchema)]
pub struct NextDateBody {
    pub name: &'static str,
    pub day: NaiveDate,
}

#[derive(Serialize, ToSchema)]
pub struct OutcomeBody {
    pub won: bool,
    pub renewed_arr: MoneyBody,
    pub expansion_minor: i64,
    pub contraction_minor: i64,
    /// The following term (start, end), when there is one.
    pub new_term: Option<(NaiveDate, NaiveDate)>,
}

/// The renewals due in a window, soonest first.
#[derive(Serialize, ToSchema)]
pub struct RenewalPipelineBody {
    /// The last day of the data, which stages and next dates are as of.
    pub day: NaiveDate,
    /// The window the renewals are due in, both days included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<RenewalBody>,
    /// Terms left out because their contracts are in more than one currency.
    pub mixed_currencies: usize,
}

impl From<RenewalLine> for RenewalBody {
    fn from(line: RenewalLine) -> Self {
        let r = line.renewal;
        let outcome = r.outcome.as_ref().map(|o| OutcomeBody {
            won: o.won,
            renewed_arr: o.renewed_arr.into(),
            expansion_minor: o.expansion(r.arr),
            contraction_minor: o.contraction(r.arr),
            new_term: o.new_term,
        });
        RenewalBody {
            account_id: r.account_id,
            account_name: line.account_name,
            segment: line.segment,
            owner: line.owner,
            product: r.product,
            due_on: r.due_on,
            arr: r.arr.into(),
            contracts: r.contracts,
            auto_renew: r.auto_renew,
            notice_deadline: r.notice_deadline,
            milestones: r.milestones.to_vec(),
            stage: line.stage.as_str(),
            next_date: line.next_date.map(|(name, day)| NextDateBody { name, day }),
            model_renewal_probability: line.model_renewal_probability,
            outcome,
            call: line.call.map(Into::into),
            disagrees: line.disagrees,
        }
    }
}

impl From<Pipeline> for RenewalPipelineBody {
    fn from(p: Pipeline) -> Self {
        RenewalPipelineBody {
            day: p.day,
            from: p.from,
            to: p.to,
            items: p.lines.into_iter().map(Into::into).collect(),
            mixed_currencies: p.mixed_currencies,
        }
    }
}

/// An amount of the forecast in the reporting currency: minor units rounded, and
/// major units for display.
#[derive(Serialize, ToSchema)]
pub struct AmountBody {
    pub minor: i64,
    pub major: f64,
}

pub(crate) fn amount(minor: f64, currency: Currency) -> AmountBody {
    let minor = minor.round() as i64;
    AmountBody {
        minor,
        major: Money::new(minor, currency).major(),
    }
}

/// One period's renewals: what is due, what is booked, what is expected and its range.
#[derive(Serialize, ToSchema)]
pub struct PeriodForecastBody {
    /// `2027-Q1`, `2027-03` or `2027`.
    pub period: String,
    pub start: NaiveDate,
    /// The first day after the period.
    pub end: NaiveDate,
    pub renewals: usize,
    pub won: usize,
    pub lost: usize,
    pub open: usize,
    /// ARR due in the period.
    pub renewable: AmountBody,
    /// Renewed ARR of the renewals already won.
    pub booked: AmountBody,
    /// Expected renewed ARR: booked plus the open renewals' probability-weighted
    /// amounts, expansion and contraction included.
    pub expected: AmountBody,
    pub expected_expansion: AmountBody,
    pub expected_contraction: AmountBody,
    /// Expected ARR lost with renewals that do not renew.
    pub expected_churn: AmountBody,
    /// The range of renewed ARR by Monte Carlo.
    pub p10: AmountBody,
    pub p50: AmountBody,
    pub p90: AmountBody,
    /// Expected gross and net revenue retention of the ARR due; null with none due.
    pub grr: Option<f64>,
    pub nrr: Option<f64>,
    /// Open renewals whose probability came from the risk model, and from history.
    pub from_model: usize,
    pub from_history: usize,
    /// The open renewals' ARR due by the owners' latest forecast calls.
    pub called: CallTotalsBody,
}

#[derive(Serialize, ToSchema)]
pub struct CallTotalsBody {
    pub commit: AmountBody,
    pub best_case: AmountBody,
    pub at_risk: AmountBody,
    pub omitted: AmountBody,
    pub not_called: AmountBody,
}

fn call_totals(t: &CallTotals, c: Currency) -> CallTotalsBody {
    CallTotalsBody {
        commit: amount(t.commit, c),
        best_case: amount(t.best_case, c),
        at_risk: amount(t.at_risk, c),
        omitted: amount(t.omitted, c),
        not_called: amount(t.not_called, c),
    }
}

/// What the trailing year of closed renewals says.
#[derive(Serialize, ToSchema)]
pub struct ForecastHistoryBody {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub won: usize,
    pub lost: usize,
    /// Share of closed renewals won.
    pub win_rate: Option<f64>,
    /// Renewed ARR ÷ ARR due of the closed renewals.
    pub renewal_rate: Option<f64>,
}

/// How much past quarters' renewed ARR varied beyond what independent renewals
/// explain; the range's distances from its mean are scaled by `scale` (√`phi`).
#[derive(Serialize, ToSchema)]
pub struct DispersionBody {
    /// (median |z| ÷ 0.6745)² of past quarters' standardized errors against
    /// independent renewals, pooled with two quarters at 1.
    pub phi: f64,
    pub scale: f64,
    /// Past quarters measured.
    pub quarters: usize,
}

impl From<Dispersion> for DispersionBody {
    fn from(d: Dispersion) -> Self {
        DispersionBody {
            phi: d.phi,
            scale: d.scale(),
            quarters: d.quarters,
        }
    }
}

/// The renewal forecast of consecutive periods.
#[derive(Serialize, ToSchema)]
pub struct ForecastBody {
    /// The last day of the data, the day the forecast is made as of.
    pub day: NaiveDate,
    /// The reporting currency of every amount.
    pub currency: String,
    pub draws: usize,
    pub seed: u64,
    pub periods: Vec<PeriodForecastBody>,
    pub history: ForecastHistoryBody,
    pub dispersion: DispersionBody,
    /// ARR due in the periods that could not be converted, per currency.
    pub left_out: Vec<MoneyBody>,
    /// Terms left out because their contracts are in more than one currency.
    pub mixed_currencies: usize,
}

impl From<ForecastReport> for ForecastBody {
    fn from(r: ForecastReport) -> Self {
        let c = r.currency;
        let all = &r.history.all;
        ForecastBody {
            day: r.day,
            currency: c.as_str().to_string(),
            draws: r.draws,
            seed: r.seed,
            periods: r
                .periods
                .iter()
                .map(|p| {
                    let span = p.period.period();
                    PeriodForecastBody {
                        period: p.period.label(),
                        start: span.start,
                        end: span.end,
                        renewals: p.renewals,
                        won: p.won,
                        lost: p.lost,
                        open: p.open,
                        renewable: amount(p.renewable, c),
                        booked: amount(p.booked, c),
                        expected: amount(p.expected, c),
                        expected_expansion: amount(p.expected_expansion, c),
                        expected_contraction: amount(p.expected_contraction, c),
                        expected_churn: amount(p.expected_churn, c),
                        p10: amount(p.p10, c),
                        p50: amount(p.p50, c),
                        p90: amount(p.p90, c),
                        grr: p.grr,
                        nrr: p.nrr,
                        from_model: p.from_model,
                        from_history: p.from_history,
                        called: call_totals(&p.called, c),
                    }
                })
                .collect(),
            history: ForecastHistoryBody {
                from: r.history.from,
                to: r.history.to,
                won: all.won,
                lost: all.lost,
                win_rate: all.win_rate(),
                renewal_rate: all.renewal_rate(),
            },
            dispersion: r.dispersion.into(),
            left_out: r.left_out.amounts().map(Into::into).collect(),
            mixed_currencies: r.mixed_currencies,
        }
    }
}

/// One past quarter: the forecast made the day before it against what renewed.
#[derive(Serialize, ToSchema)]
pub struct BacktestQuarterBody {
    pub quarter: String,
    pub as_of: NaiveDate,
    pub renewals: usize,
    pub renewable: AmountBody,
    /// ARR that renewed, as the data says now.
    pub actual: AmountBody,
    pub p10: AmountBody,
    pub p50: AmountBody,
    pub p90: AmountBody,
    /// Renewable ARR × the trailing renewal rate.
    pub naive: AmountBody,
    pub trailing_rate: f64,
    /// The actual renewed ARR fell inside P10–P90.
    pub inside: bool,
    /// Renewals whose probability came from a risk model fitted before the quarter.
    pub from_model: usize,
    /// The dispersion learned from the quarters before it.
    pub dispersion: DispersionBody,
}

/// The forecast tried on past quarters.
#[derive(Serialize, ToSchema)]
pub struct BacktestBody {
    pub currency: String,
    pub draws: usize,
    pub quarters: Vec<BacktestQuarterBody>,
    /// Share of quarters whose actual renewed ARR fell inside P10–P90.
    pub coverage: f64,
    /// Mean |forecast − actual| ÷ actual of P50 and of the naive forecast.
    pub p50_error: f64,
    pub naive_error: f64,
    /// Quarters not tried: nothing due in them, or no closed renewal in the year
    /// before them.
    pub skipped: Vec<String>,
}

impl From<Backtest> for BacktestBody {
    fn from(b: Backtest) -> Self {
        let c = b.currency;
        BacktestBody {
            currency: c.as_str().to_string(),
            draws: b.draws,
            quarters: b
                .quarters
                .iter()
                .map(|q| BacktestQuarterBody {
                    quarter: q.quarter.label(),
                    as_of: q.as_of,
                    renewals: q.renewals,
                    renewable: amount(q.renewable, c),
                    actual: amount(q.actual, c),
                    p10: amount(q.p10, c),
                    p50: amount(q.p50, c),
                    p90: amount(q.p90, c),
                    naive: amount(q.naive, c),
                    trailing_rate: q.trailing_rate,
                    inside: q.inside(),
                    from_model: q.from_model,
                    dispersion: q.dispersion.into(),
                })
                .collect(),
            coverage: b.coverage,
            p50_error: b.p50_error,
            naive_error: b.naive_error,
            skipped: b.skipped.iter().map(|q| q.label()).collect(),
        }
    }
}

/// A product line of a proposal.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalLineBody {
    pub product: String,
    pub seats: i64,
    /// List price per seat and year, in minor units of the proposal's currency.
    pub list_price: i64,
}

/// A renewal or expansion proposal to check against the guardrails.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProposalBody {
    /// renewal or expansion.
    pub kind: String,
    pub lines: Vec<ProposalLineBody>,
    /// ISO 4217 code of the list prices.
    pub currency: String,
    /// Off list price, 0–100.
    #[serde(default)]
    pub discount_percent: f64,
    /// 1–120 months; multi-year terms are a number of months (36 = three years).
    pub term_months: u32,
    /// e.g. annual_in_advance, quarterly_in_advance, net_90.
    pub payment_terms: String,
    pub start_on: NaiveDate,
    /// Anything outside the standard contract, in words.
    pub non_standard_terms: Option<String>,
}

/// A limit a proposal goes beyond.
#[derive(Serialize, ToSchema)]
pub struct BreachBody {
    /// discount, price_floor, payment_terms, term, arr or non_standard_terms.
    pub rule: String,
    /// sales_leadership or cro.
    pub route: &'static str,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProposalBody {
    pub id: i64,
    pub account_id: String,
    pub kind: &'static str,
    pub lines: Vec<ProposalLineBody>,
    pub discount_percent: f64,
    pub term_months: u32,
    pub payment_terms: String,
    pub start_on: NaiveDate,
    pub non_standard_terms: Option<String>,
    /// ARR after discount.
    pub arr: MoneyBody,
    /// ARR × the term in years.
    pub total_value: MoneyBody,
    /// approved (within the guardrails, or by a leader), pending or rejected.
    pub status: &'static str,
    /// Who must approve, when beyond the guardrails: sales_leadership or cro.
    pub route: Option<&'static str>,
    pub breaches: Vec<BreachBody>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_comment: Option<String>,
}

impl From<Proposal> for ProposalBody {
    fn from(p: Proposal) -> Self {
        ProposalBody {
            id: p.id,
            account_id: p.account_id.clone(),
            kind: p.kind.as_str(),
            lines: p
                .lines
                .iter()
                .map(|l| ProposalLineBody {
                    product: l.product.clone(),
                    seats: l.seats,
                    list_price: l.list_price,
                })
                .collect(),
            discount_percent: p.discount_percent,
            term_months: p.term_months,
            payment_terms: p.payment_terms.clone(),
            start_on: p.start_on,
            non_standard_terms: p.non_standard_terms.clone(),
            arr: p.arr.into(),
            total_value: p.total_value().into(),
            status: p.status.as_str(),
            route: p.route.map(|r| r.as_str()),
            breaches: p
                .breaches
                .iter()
                .map(|b| BreachBody {
                    rule: b.rule.clone(),
                    route: b.route.as_str(),
                    reason: b.reason.clone(),
                })
                .collect(),
            created_by: p.created_by,
            created_at: p.created_at,
            decided_by: p.decided_by,
            decided_at: p.decided_at,
            decision_comment: p.decision_comment,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProposalsBody {
    pub items: Vec<ProposalBody>,
}

/// A leader's decision on a pending proposal.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Required to reject.
    pub comment: Option<String>,
}
