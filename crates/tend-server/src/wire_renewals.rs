//! JSON bodies of the renewal pipeline.

use chrono::NaiveDate;
use serde::Serialize;
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
