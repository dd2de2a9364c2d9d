//! Renewals derived from contracts: one per term coming due (an account's contracts
//! of one product ending on the same day — a term and its co-terminous add-ons —
//! renew together, as `metrics::renewals` counts them), with the dates that matter
//! (notice deadline, T-120/90/60/30), the ARR up for renewal, the stage the dates
//! and the contracts say, and the outcome once there is one: renewed with the ARR of
//! the following term (expansion or contraction against the ARR due), or lost.

use chrono::{Days, NaiveDate};

use crate::model::{CallStage, Contract, ContractStatus, ForecastCategory};
use crate::money::{Currency, Money};

/// Days before the due date of each step of the renewal timeline.
pub const MILESTONE_DAYS: [u64; 4] = [120, 90, 60, 30];
/// From this many days before the due date a renewal is in outreach.
pub const OUTREACH_DAYS: u64 = 120;
/// A term whose due date passed this long ago without a following term or a mark
/// is taken as lost.
pub const GRACE_DAYS: u64 = 30;

/// Where a renewal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Upcoming,
    Outreach,
    Negotiation,
    Committed,
    ClosedWon,
    ClosedLost,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Upcoming => "upcoming",
            Stage::Outreach => "outreach",
            Stage::Negotiation => "negotiation",
            Stage::Committed => "committed",
            Stage::ClosedWon => "closed_won",
            Stage::ClosedLost => "closed_lost",
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(self, Stage::ClosedWon | Stage::ClosedLost)
    }
}

impl From<CallStage> for Stage {
    fn from(stage: CallStage) -> Stage {
        match stage {
            CallStage::Negotiation => Stage::Negotiation,
            CallStage::Committed => Stage::Committed,
        }
    }
}

impl ForecastCategory {
    /// The renewal probabilities a category stands for: commit 80% or more, best case
    /// 50–80%, at risk under 50%; an omitted renewal claims none.
    pub fn probability_range(self) -> Option<(f64, f64)> {
        match self {
            ForecastCategory::Commit => Some((0.8, 1.0)),
            ForecastCategory::BestCase => Some((0.5, 0.8)),
            ForecastCategory::AtRisk => Some((0.0, 0.5)),
            ForecastCategory::Omitted => None,
        }
    }

    /// Whether the model's probability that the renewal renews falls outside the
    /// category's range (the lower end included, the upper excluded but for 100%).
    pub fn disagrees_with(self, model_probability: f64) -> bool {
        self.probability_range().is_some_and(|(low, high)| {
            model_probability < low || (model_probability >= high && high < 1.0)
        })
    }
}

/// How a closed renewal ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub won: bool,
    /// The ARR of the following term, in the renewal's currency (0 when lost).
    pub renewed_arr: Money,
    /// The following term, when there is one.
    pub new_term: Option<(NaiveDate, NaiveDate)>,
}

impl Outcome {
    /// Renewed ARR ÷ ARR `due`: 0 when lost, 1 for a won renewal of nothing due.
    pub fn ratio(&self, due: Money) -> f64 {
        match (self.won, due.minor > 0) {
            (false, _) => 0.0,
            (true, true) => self.renewed_arr.minor as f64 / due.minor as f64,
            (true, false) => 1.0,
        }
    }

    /// Renewed ARR above the ARR due (0 when it fell).
    pub fn expansion(&self, due: Money) -> i64 {
        (self.renewed_arr.minor - due.minor).max(0)
    }

    /// Renewed ARR below the ARR due, for a renewal won (a loss is churn, not
    /// contraction).
    pub fn contraction(&self, due: Money) -> i64 {
        if self.won {
            (due.minor - self.renewed_arr.minor).max(0)
        } else {
            0
        }
    }
}

/// One term coming due.
#[derive(Debug, Clone, PartialEq)]
pub struct Renewal {
    pub account_id: String,
    pub product: String,
    pub due_on: NaiveDate,
    /// ARR up for renewal, in the currency of the term's contracts.
    pub arr: Money,
    /// The contracts of the term.
    pub contracts: Vec<String>,
    /// All of the term's contracts renew themselves unless notice is given.
    pub auto_renew: bool,
    /// The last day notice can be given (the longest notice period of the term).
    pub notice_deadline: NaiveDate,
    /// T-120, T-90, T-60 and T-30.
    pub milestones: [NaiveDate; 4],
    /// `None` while open.
    pub outcome: Option<Outcome>,
}

impl Renewal {
    /// The stage the dates and the contracts say on `day`, or the owner's `call`
    /// while the renewal is open.
    pub fn stage_with(&self, day: NaiveDate, call: Option<CallStage>) -> Stage {
        match (&self.outcome, call) {
            (None, Some(stage)) => stage.into(),
            _ => self.stage_on(day),
        }
    }

    /// The stage the dates and the contracts say on `day`; a person's call moves an
    /// open renewal on to negotiation or committed ([`Renewal::stage_with`]).
    pub fn stage_on(&self, day: NaiveDate) -> Stage {
        match &self.outcome {
            Some(o) if o.won => Stage::ClosedWon,
            Some(_) => Stage::ClosedLost,
            None if day + Days::new(OUTREACH_DAYS) >= self.due_on => Stage::Outreach,
            None => Stage::Upcoming,
        }
    }
}

/// Why the contracts of an account and product cannot be made into renewals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixedCurrencies {
    pub account_id: String,
    pub product: String,
    pub due_on: NaiveDate,
}

/// The renewals of `contracts` as known on `day`: every term's due date, in account,
/// product and due-date order. A term is closed won when a contract of it is marked
/// renewed or a following term of the same product starts within the grace after
/// its due date; closed lost when marked churned, or when the grace has passed
/// without either. Cancelled contracts never come due. A term whose contracts are
/// in different currencies is left out and reported.
pub fn renewals(contracts: &[Contract], day: NaiveDate) -> (Vec<Renewal>, Vec<MixedCurrencies>) {
    // Terms are runs of one (account, product, renewal date) in a sorted list, and an
    // account's terms of one product are neighbours: one sort instead of maps keyed
    // by strings (a forecast derives the renewals of every contract).
    let mut sorted: Vec<&Contract> = contracts
        .iter()
        .filter(|c| c.status != ContractStatus::Cancelled)
        .collect();
    sorted.sort_by(|a, b| term_key(a).cmp(&term_key(b)));
    let terms: Vec<&[&Contract]> = sorted.chunk_by(|a, b| term_key(a) == term_key(b)).collect();
    let start_of = |cs: &[&Contract]| {
        cs.iter()
            .map(|c| c.start_date)
            .min()
            .expect("a term has a contract")
    };
    let mut found = Vec::with_capacity(terms.len());
    let mut mixed = Vec::new();
    let same_product = |a: &[&Contract], b: &[&Contract]| {
        (a[0].account_id.as_str(), a[0].product.as_str())
            == (b[0].account_id.as_str(), b[0].product.as_str())
    };
    for group in terms.chunk_by(|a, b| same_product(a, b)) {
        let starts: Vec<NaiveDate> = group.iter().map(|cs| start_of(cs)).collect();
        for cs in group {
            match renewal_of(cs, group, &starts, day) {
                Ok(renewal) => found.push(renewal),
                Err(m) => mixed.push(m),
            }
        }
    }
    (found, mixed)
}

fn term_key(c: &Contract) -> (&str, &str, NaiveDate) {
    (c.account_id.as_str(), c.product.as_str(), c.renewal_date)
}

/// The renewal of the term `cs` among its account's terms of the product (`group`,
/// which start on `starts`); an error when its contracts are in more than one
/// currency.
fn renewal_of(
    cs: &[&Contract],
    group: &[&[&Contract]],
    starts: &[NaiveDate],
    day: NaiveDate,
) -> Result<Renewal, MixedCurrencies> {
    let (account, product, due_on) = (
        cs[0].account_id.as_str(),
        cs[0].product.as_str(),
        cs[0].renewal_date,
    );
    let currency: Currency = cs[0].arr.currency;
    if cs.iter().any(|c| c.arr.currency != currency) {
        return Err(MixedCurrencies {
            account_id: account.into(),
            product: product.into(),
            due_on,
        });
    }
    let arr = Money::new(cs.iter().map(|c| c.arr.minor).sum(), currency);
    let grace_end = due_on + Days::new(GRACE_DAYS);
    // The first term to start within the grace after the due date.
    let next = group
        .iter()
        .zip(starts)
        .filter(|(_, start)| **start >= due_on && **start <= grace_end)
        .min_by_key(|(_, start)| **start)
        .map(|(next_cs, start)| (*next_cs, *start));
    let marked_won = cs.iter().any(|c| c.status == ContractStatus::Renewed);
    let marked_lost = cs.iter().any(|c| c.status == ContractStatus::Churned);
    let following = next.map(|(next_cs, start)| {
        let same = next_cs.iter().filter(|c| c.arr.currency == currency);
        let end = next_cs
            .iter()
            .map(|c| c.end_date)
            .max()
            .expect("a term has a contract");
        (
            Money::new(same.map(|c| c.arr.minor).sum(), currency),
            (start, end),
        )
    });
    let outcome = match following {
        Some((renewed_arr, term)) => Some(Outcome {
            won: true,
            renewed_arr,
            new_term: Some(term),
        }),
        None if marked_won => Some(Outcome {
            won: true,
            renewed_arr: arr,
            new_term: None,
        }),
        None if marked_lost || day > grace_end => Some(Outcome {
            won: false,
            renewed_arr: Money::new(0, currency),
            new_term: None,
        }),
        None => None,
    };
    let notice_days = cs.iter().map(|c| c.notice_days.max(0)).max().unwrap_or(0) as u64;
    Ok(Renewal {
        account_id: account.into(),
        product: product.into(),
        due_on,
        arr,
        contracts: cs.iter().map(|c| c.id.clone()).collect(),
        auto_renew: cs.iter().all(|c| c.auto_renew),
        notice_deadline: due_on - Days::new(notice_days),
        milestones: MILESTONE_DAYS.map(|d| due_on - Days::new(d)),
        outcome,
    })
}

/// The contracts as they were known on `day`, for forecasts made as of a past day:
/// those started by then, with the renewed and churned marks (which record what
/// happened later) taken off. A cancelled contract stays cancelled.
pub fn known_on(contracts: &[Contract], day: NaiveDate) -> Vec<Contract> {
    contracts
        .iter()
        .filter(|c| c.start_date <= day)
        .map(|c| Contract {
            status: match c.status {
                ContractStatus::Cancelled => ContractStatus::Cancelled,
                _ => ContractStatus::Active,
            },
            ..c.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn contract(id: &str, product: &str, arr: i64, start: NaiveDate, end: NaiveDate) -> Contract {
        Contract {
            id: id.into(),
            account_id: "a-1".into(),
            product: product.into(),
            seats: 10,
            arr: Money::new(arr, Currency::parse("USD").unwrap()),
            start_date: start,
            end_date: end,
            renewal_date: end.succ_opt().unwrap(),
            auto_renew: false,
            notice_days: 60,
            status: ContractStatus::Active,
        }
    }

    #[test]
    fn an_outcomes_ratio_is_renewed_over_due() {
        let usd = |minor| Money::new(minor, Currency::USD);
        let outcome = |won, renewed| Outcome {
            won,
            renewed_arr: usd(renewed),
            new_term: None,
        };
        assert_eq!(outcome(true, 12_000).ratio(usd(10_000)), 1.2);
        assert_eq!(outcome(false, 0).ratio(usd(10_000)), 0.0);
        assert_eq!(outcome(true, 0).ratio(usd(0)), 1.0, "nothing was due");
    }

    #[test]
    fn a_term_renewed_by_a_larger_following_term_is_won_with_expansion() {
        let first = contract("c-1", "core", 100_000, day(2025, 1, 1), day(2025, 12, 31));
        let addon = contract("c-2", "core", 20_000, day(2025, 6, 1), day(2025, 12, 31));
        let second = contract("c-3", "core", 150_000, day(2026, 1, 1), day(2026, 12, 31));
        let (found, mixed) = renewals(&[first, addon, second], day(2026, 3, 1));
        assert!(mixed.is_empty());
        assert_eq!(found.len(), 2);
        let r = &found[0];
        assert_eq!(r.due_on, day(2026, 1, 1));
        assert_eq!(r.arr.minor, 120_000);
        assert_eq!(r.contracts, ["c-1", "c-2"]);
        assert_eq!(r.notice_deadline, day(2025, 11, 2));
        assert_eq!(r.milestones[0], day(2025, 9, 3));
        assert_eq!(r.milestones[3], day(2025, 12, 2));
        let outcome = r.outcome.as_ref().unwrap();
        assert!(outcome.won);
        assert_eq!(outcome.renewed_arr.minor, 150_000);
        assert_eq!(outcome.expansion(r.arr), 30_000);
        assert_eq!(outcome.contraction(r.arr), 0);
        assert_eq!(outcome.new_term, Some((day(2026, 1, 1), day(2026, 12, 31))));
        assert_eq!(r.stage_on(day(2026, 3, 1)), Stage::ClosedWon);
        // The second term is still open: upcoming, then in outreach from T-120.
        let open = &found[1];
        assert_eq!(open.outcome, None);
        assert_eq!(open.stage_on(day(2026, 9, 1)), Stage::Upcoming);
        assert_eq!(open.stage_on(day(2026, 9, 3)), Stage::Outreach);
    }

    #[test]
    fn a_term_without_a_following_one_is_lost_after_the_grace() {
        let only = contract("c-1", "core", 50_000, day(2025, 1, 1), day(2025, 12, 31));
        let (found, _) = renewals(std::slice::from_ref(&only), day(2026, 1, 20));
        assert_eq!(found[0].outcome, None, "still within the grace");
        let (found, _) = renewals(&[only], day(2026, 2, 1));
        let outcome = found[0].outcome.as_ref().unwrap();
        assert!(!outcome.won);
        assert_eq!(outcome.contraction(found[0].arr), 0);
        assert_eq!(found[0].stage_on(day(2026, 2, 1)), Stage::ClosedLost);
    }

    #[test]
    fn marks_on_the_contracts_decide_and_cancelled_contracts_never_come_due() {
        let mut renewed = contract("c-1", "core", 50_000, day(2025, 1, 1), day(2025, 12, 31));
        renewed.status = ContractStatus::Renewed;
        renewed.auto_renew = true;
        let mut churned = contract("c-2", "extra", 10_000, day(2025, 1, 1), day(2025, 12, 31));
        churned.status = ContractStatus::Churned;
        let mut cancelled = contract("c-3", "other", 10_000, day(2025, 1, 1), day(2025, 12, 31));
        cancelled.status = ContractStatus::Cancelled;
        let (found, _) = renewals(&[renewed, churned, cancelled], day(2025, 12, 1));
        assert_eq!(found.len(), 2);
        assert!(found[0].auto_renew);
        assert!(found[0].outcome.as_ref().unwrap().won);
        assert_eq!(found[0].outcome.as_ref().unwrap().renewed_arr.minor, 50_000);
        assert!(!found[1].outcome.as_ref().unwrap().won);
    }

    #[test]
    fn a_smaller_following_term_is_contraction_and_mixed_currencies_are_reported() {
        let first = contract("c-1", "core", 100_000, day(2025, 1, 1), day(2025, 12, 31));
        let second = contract("c-2", "core", 80_000, day(2026, 1, 5), day(2026, 12, 31));
        let mut euro = contract("c-3", "eu", 10_000, day(2025, 1, 1), day(2025, 12, 31));
        euro.arr = Money::new(10_000, Currency::parse("EUR").unwrap());
        let usd = contract("c-4", "eu", 10_000, day(2025, 1, 1), day(2025, 12, 31));
        let (found, mixed) = renewals(&[first, second, euro, usd], day(2026, 2, 1));
        let outcome = found[0].outcome.as_ref().unwrap();
        assert!(outcome.won, "a term starting within the grace renews it");
        assert_eq!(outcome.contraction(found[0].arr), 20_000);
        assert_eq!(outcome.expansion(found[0].arr), 0);
        assert_eq!(mixed.len(), 1);
        assert_eq!(mixed[0].product, "eu");
    }

    #[test]
    fn known_on_a_past_day_hides_later_terms_and_marks() {
        let mut first = contract("c-1", "core", 100_000, day(2025, 1, 1), day(2025, 12, 31));
        first.status = ContractStatus::Renewed;
        let second = contract("c-2", "core", 110_000, day(2026, 1, 1), day(2026, 12, 31));
        let known = known_on(&[first, second], day(2025, 12, 15));
        assert_eq!(known.len(), 1);
        assert_eq!(known[0].status, ContractStatus::Active);
        let (found, _) = renewals(&known, day(2025, 12, 15));
        assert_eq!(found[0].outcome, None, "open as seen before its due date");
    }

    #[test]
    fn a_call_disagrees_when_the_model_is_outside_its_category() {
        use ForecastCategory::*;
        assert!(!Commit.disagrees_with(0.8) && !Commit.disagrees_with(1.0));
        assert!(Commit.disagrees_with(0.79));
        assert!(!BestCase.disagrees_with(0.5) && BestCase.disagrees_with(0.8));
        assert!(AtRisk.disagrees_with(0.5) && !AtRisk.disagrees_with(0.0));
        assert!(!Omitted.disagrees_with(0.1));
        let term = contract("c-1", "core", 100_000, day(2026, 1, 1), day(2026, 12, 31));
        let (found, _) = renewals(&[term], day(2026, 3, 1));
        let open = &found[0];
        assert_eq!(open.stage_with(day(2026, 3, 1), None), Stage::Upcoming);
        assert_eq!(
            open.stage_with(day(2026, 3, 1), Some(CallStage::Committed)),
            Stage::Committed
        );
    }
}
