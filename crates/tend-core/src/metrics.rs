//! The success metrics of the product brief, exactly as defined there, as pure
//! functions. A period is half-open, `[start, end)`. A metric of an empty population is
//! `None`, never zero: "no responses" and "NPS 0" are different answers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::fx::{LeftOut, Reporting};
use crate::model::{Contract, ContractStatus, SurveyKind, SurveyResponse, Ticket};
use crate::money::Money;
use crate::period::Period;

/// % promoters (9–10) − % detractors (0–6); −100..100.
pub fn nps(scores: &[i32]) -> Option<f64> {
    weighted_nps(scores.iter().map(|&score| (score, 1.0)))
}

/// NPS with each answer counting as much as its weight: (weight of promoters (9–10)
/// − weight of detractors (0–6)) ÷ total weight × 100; `None` without weight.
pub fn weighted_nps(answers: impl IntoIterator<Item = (i32, f64)>) -> Option<f64> {
    let (mut net, mut total) = (0.0, 0.0);
    for (score, weight) in answers {
        total += weight;
        if score >= 9 {
            net += weight;
        } else if score <= 6 {
            net -= weight;
        }
    }
    (total > 0.0).then(|| net * 100.0 / total)
}

/// Responses scoring 4–5 on a 1–5 scale ÷ all responses × 100.
pub fn csat(scores: &[i32]) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    let satisfied = scores.iter().filter(|&&s| s >= 4).count() as f64;
    Some(satisfied * 100.0 / scores.len() as f64)
}

/// Mean customer-effort rating (1–7).
pub fn ces(scores: &[i32]) -> Option<f64> {
    if scores.is_empty() {
        return None;
    }
    Some(scores.iter().map(|&s| f64::from(s)).sum::<f64>() / scores.len() as f64)
}

/// Scores of one survey kind answered within the period.
pub fn survey_scores(responses: &[SurveyResponse], kind: SurveyKind, period: Period) -> Vec<i32> {
    responses
        .iter()
        .filter(|r| r.kind == kind && period.contains(r.responded_at.date_naive()))
        .map(|r| r.score)
        .collect()
}

/// The `q`-quantile (0–1) by linear interpolation between closest ranks, the common
/// default of spreadsheet and numpy percentiles. `sorted` must be ascending.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let fraction = position - lower as f64;
    Some(sorted[lower] + (sorted[upper] - sorted[lower]) * fraction)
}

/// First response time of tickets created in a period, in minutes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseTimes {
    /// Tickets created in the period that have a first response.
    pub answered: usize,
    /// Tickets created in the period still without one.
    pub unanswered: usize,
    pub median_minutes: f64,
    pub p90_minutes: f64,
}

/// Median and p90 of first agent reply − creation over tickets created in the period,
/// in calendar time. `None` when no ticket of the period has been answered.
pub fn first_response_times(tickets: &[Ticket], period: Period) -> Option<ResponseTimes> {
    let created_in_period = tickets
        .iter()
        .filter(|t| period.contains(t.created_at.date_naive()));
    let mut minutes = Vec::new();
    let mut unanswered = 0;
    for ticket in created_in_period {
        match ticket.first_response_at {
            Some(first) => minutes.push(minutes_between(ticket.created_at, first)),
            None => unanswered += 1,
        }
    }
    minutes.sort_by(f64::total_cmp);
    Some(ResponseTimes {
        answered: minutes.len(),
        unanswered,
        median_minutes: quantile(&minutes, 0.5)?,
        p90_minutes: quantile(&minutes, 0.9)?,
    })
}

fn minutes_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 60.0
}

/// The ARR in force on one day: which accounts had any (in whatever currency), and
/// each account's ARR in the reporting currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArrOn<'a> {
    /// Accounts with ARR on the day, counted whatever its currency.
    pub active: BTreeSet<&'a str>,
    /// ARR per account in minor units of the reporting currency, for accounts all of
    /// whose ARR could be converted.
    pub arr: BTreeMap<&'a str, i64>,
    /// ARR that could not be converted, by currency (its accounts are left out of
    /// `arr` whole, so no account is half counted).
    pub left_out: LeftOut,
}

/// ARR per account in force on `day`, converted at the rate of `rate_day`.
pub fn arr_on<'a>(
    contracts: &'a [Contract],
    day: NaiveDate,
    reporting: &Reporting,
    rate_day: NaiveDate,
) -> ArrOn<'a> {
    let mut native: BTreeMap<&str, Vec<Money>> = BTreeMap::new();
    for contract in contracts {
        if contract.is_active_on(day) && contract.arr.minor > 0 {
            native
                .entry(contract.account_id.as_str())
                .or_default()
                .push(contract.arr);
        }
    }
    let mut result = ArrOn::default();
    for (account, amounts) in native {
        result.active.insert(account);
        let converted: Option<i64> = amounts.iter().map(|&m| reporting.value(m, rate_day)).sum();
        match converted {
            Some(arr) => {
                result.arr.insert(account, arr);
            }
            None => amounts.iter().for_each(|&m| result.left_out.add(m)),
        }
    }
    result
}

/// How the ARR of the accounts active at a period's start moved by its last day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    /// Accounts with ARR on the first day of the period (the cohort).
    pub cohort_accounts: usize,
    /// Cohort accounts with no ARR left on the last day.
    pub churned_accounts: usize,
    pub starting_arr: i64,
    pub churned_arr: i64,
    pub contraction_arr: i64,
    pub expansion_arr: i64,
    /// Starting ARR of cohort accounts whose ARR could not be converted, left out of
    /// the ARR figures (they still count as logos).
    pub left_out: LeftOut,
}

impl Retention {
    /// (starting − churned − contraction) ÷ starting, as a percentage; ≤ 100.
    pub fn grr(&self) -> Option<f64> {
        self.ratio(self.starting_arr - self.churned_arr - self.contraction_arr)
    }

    /// (starting + expansion − contraction − churned) ÷ starting, as a percentage.
    pub fn nrr(&self) -> Option<f64> {
        self.ratio(self.starting_arr + self.expansion_arr - self.contraction_arr - self.churned_arr)
    }

    /// 1 − GRR, as a percentage.
    pub fn gross_revenue_churn(&self) -> Option<f64> {
        self.grr().map(|grr| 100.0 - grr)
    }

    /// Accounts lost ÷ accounts active at the start, as a percentage.
    pub fn logo_churn_rate(&self) -> Option<f64> {
        (self.cohort_accounts > 0)
            .then(|| self.churned_accounts as f64 / self.cohort_accounts as f64 * 100.0)
    }

    fn ratio(&self, numerator: i64) -> Option<f64> {
        (self.starting_arr > 0).then(|| numerator as f64 / self.starting_arr as f64 * 100.0)
    }
}

/// Retention of the cohort active on the period's first day, measured on its last day.
/// New logos (no ARR on the first day) are excluded by construction. Logos count
/// whatever their currency; ARR is in constant currency: both ends at the rates in
/// force on the first day, so a moving exchange rate is not taken for expansion or
/// contraction.
pub fn retention(contracts: &[Contract], period: Period, reporting: &Reporting) -> Retention {
    let Some(last_day) = period.last_day() else {
        return Retention::default();
    };
    let at_start = arr_on(contracts, period.start, reporting, period.start);
    let at_end = arr_on(contracts, last_day, reporting, period.start);
    let mut result = Retention {
        cohort_accounts: at_start.active.len(),
        churned_accounts: at_start.active.difference(&at_end.active).count(),
        left_out: at_start.left_out.clone(),
        ..Retention::default()
    };
    for (account, &start_arr) in &at_start.arr {
        let end_arr = if at_end.active.contains(account) {
            match at_end.arr.get(account) {
                Some(&arr) => arr,
                None => continue, // its ARR at the end cannot be converted
            }
        } else {
            0
        };
        result.starting_arr += start_arr;
        if end_arr <= 0 {
            result.churned_arr += start_arr;
        } else if end_arr < start_arr {
            result.contraction_arr += start_arr - end_arr;
        } else {
            result.expansion_arr += end_arr - start_arr;
        }
    }
    result
}

/// Renewals due in a period and how many closed won, by count and by ARR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renewals {
    pub due: usize,
    pub won: usize,
    pub due_arr: i64,
    pub won_arr: i64,
    /// ARR due that could not be converted (the renewals still count).
    pub left_out: LeftOut,
}

impl Renewals {
    pub fn rate_by_count(&self) -> Option<f64> {
        (self.due > 0).then(|| self.won as f64 / self.due as f64 * 100.0)
    }

    pub fn rate_by_arr(&self) -> Option<f64> {
        (self.due_arr > 0).then(|| self.won_arr as f64 / self.due_arr as f64 * 100.0)
    }
}

/// One renewal per term coming due in the period: an account's contracts of one
/// product ending on the same day (a term and its co-terminous add-ons) renew
/// together, and closed won when any of them was marked `renewed`. Cancelled
/// contracts never came due. ARR is converted at the rate of the renewal date.
pub fn renewals(contracts: &[Contract], period: Period, reporting: &Reporting) -> Renewals {
    let mut terms: BTreeMap<(&str, &str, NaiveDate), (bool, Vec<Money>)> = BTreeMap::new();
    let due = contracts
        .iter()
        .filter(|c| c.status != ContractStatus::Cancelled && period.contains(c.renewal_date));
    for contract in due {
        let key = (
            contract.account_id.as_str(),
            contract.product.as_str(),
            contract.renewal_date,
        );
        let term = terms.entry(key).or_default();
        term.0 |= contract.status == ContractStatus::Renewed;
        term.1.push(contract.arr);
    }
    let mut result = Renewals::default();
    for ((_, _, renewal_date), (won, amounts)) in terms {
        result.due += 1;
        result.won += usize::from(won);
        let arr: Option<i64> = amounts
            .iter()
            .map(|&m| reporting.value(m, renewal_date))
            .sum();
        match arr {
            Some(arr) => {
                result.due_arr += arr;
                if won {
                    result.won_arr += arr;
                }
            }
            None => amounts.iter().for_each(|&m| result.left_out.add(m)),
        }
    }
    result
}

#[cfg(test)]
// Amounts in minor units are written dollars_cents, e.g. 60_000_00.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::fx::FxTable;
    use crate::model::{TicketPriority, TicketStatus};
    use crate::money::Currency;
    use crate::money::Money;
    use chrono::{NaiveDate, TimeZone};

    /// Reporting in USD without exchange rates.
    fn usd() -> Reporting<'static> {
        static NO_RATES: std::sync::OnceLock<FxTable> = std::sync::OnceLock::new();
        Reporting {
            currency: Currency::USD,
            rates: NO_RATES.get_or_init(FxTable::default),
        }
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-9,
            "{actual} is not {expected}"
        );
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }

    fn year_2024() -> Period {
        Period::new(day(1, 1), NaiveDate::from_ymd_opt(2025, 1, 1).unwrap())
    }

    fn contract(account: &str, arr: i64, start: NaiveDate, end: NaiveDate) -> Contract {
        Contract {
            id: format!("{account}-{start}"),
            account_id: account.into(),
            product: "Platform".into(),
            seats: 10,
            arr: Money::new(arr, Currency::USD),
            start_date: start,
            end_date: end,
            renewal_date: end.succ_opt().unwrap(),
            auto_renew: false,
            notice_days: 30,
            status: ContractStatus::Active,
        }
    }

    #[test]
    fn nps_counts_promoters_minus_detractors() {
        // 3 promoters (9, 10, 9), 2 passives (7, 8), 5 detractors (0..=6 picks).
        let scores = [9, 10, 9, 7, 8, 0, 3, 6, 6, 5];
        assert_eq!(nps(&scores), Some(-20.0));
        assert_eq!(nps(&[10, 10]), Some(100.0));
        assert_eq!(nps(&[7, 8]), Some(0.0));
        assert_eq!(nps(&[]), None);
    }

    #[test]
    fn csat_and_ces() {
        assert_eq!(csat(&[5, 4, 3, 1]), Some(50.0));
        assert_eq!(csat(&[]), None);
        assert_eq!(ces(&[1, 2, 6]), Some(3.0));
        assert_eq!(ces(&[]), None);
    }

    #[test]
    fn quantiles_interpolate() {
        let values = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(quantile(&values, 0.5), Some(3.0));
        assert_close(quantile(&values, 0.9).unwrap(), 7.6); // 4 + (10 − 4) × 0.6
        assert_eq!(quantile(&[5.0], 0.9), Some(5.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn survey_scores_respect_the_half_open_period() {
        let response = |id: &str, kind, score, m, d| SurveyResponse {
            id: id.into(),
            account_id: "a".into(),
            contact_id: None,
            kind,
            score,
            comment: None,
            campaign: None,
            responded_at: Utc.with_ymd_and_hms(2024, m, d, 12, 0, 0).unwrap(),
        };
        let responses = [
            response("1", SurveyKind::Nps, 10, 1, 1),
            response("2", SurveyKind::Nps, 2, 3, 31),
            response("3", SurveyKind::Nps, 9, 4, 1), // first day after the period
            response("4", SurveyKind::Csat, 5, 2, 1),
        ];
        let q1 = Period::new(day(1, 1), day(4, 1));
        assert_eq!(survey_scores(&responses, SurveyKind::Nps, q1), vec![10, 2]);
        assert_eq!(survey_scores(&responses, SurveyKind::Csat, q1), vec![5]);
        let empty = Period::new(day(6, 1), day(7, 1));
        assert_eq!(
            nps(&survey_scores(&responses, SurveyKind::Nps, empty)),
            None
        );
    }

    #[test]
    fn first_response_median_and_p90_in_minutes() {
        let ticket = |id: &str, created_day: u32, response_minutes: Option<i64>| {
            let created = Utc.with_ymd_and_hms(2024, 1, created_day, 9, 0, 0).unwrap();
            Ticket {
                id: id.into(),
                account_id: "a".into(),
                contact_id: None,
                subject: "help".into(),
                priority: TicketPriority::Normal,
                status: TicketStatus::Open,
                created_at: created,
                first_response_at: response_minutes.map(|m| created + chrono::Duration::minutes(m)),
                solved_at: None,
                satisfaction: None,
            }
        };
        let tickets = [
            ticket("1", 2, Some(10)),
            ticket("2", 3, Some(30)),
            ticket("3", 4, Some(60)),
            ticket("4", 5, Some(120)),
            ticket("5", 6, Some(600)),
            ticket("6", 7, None),
            ticket("7", 31, Some(5)), // outside the period below
        ];
        let period = Period::new(day(1, 1), day(1, 31));
        let times = first_response_times(&tickets, period).unwrap();
        assert_eq!(times.answered, 5);
        assert_eq!(times.unanswered, 1);
        assert_eq!(times.median_minutes, 60.0);
        assert_close(times.p90_minutes, 408.0); // 120 + (600 − 120) × 0.6
        assert_eq!(
            first_response_times(&tickets, Period::new(day(2, 1), day(3, 1))),
            None
        );
    }

    #[test]
    fn retention_splits_churn_contraction_and_expansion() {
        let contracts = [
            // a: stays flat all year.
            contract(
                "a",
                10_000,
                day(1, 1),
                NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(),
            ),
            // b: churns mid-year.
            contract(
                "b",
                20_000,
                NaiveDate::from_ymd_opt(2023, 7, 1).unwrap(),
                day(6, 30),
            ),
            // c: renews at a lower ARR (contraction of 5,000).
            contract(
                "c",
                30_000,
                NaiveDate::from_ymd_opt(2023, 7, 1).unwrap(),
                day(6, 30),
            ),
            contract(
                "c",
                25_000,
                day(7, 1),
                NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
            ),
            // d: renews higher (expansion of 15,000).
            contract(
                "d",
                40_000,
                NaiveDate::from_ymd_opt(2023, 3, 1).unwrap(),
                day(2, 29),
            ),
            contract(
                "d",
                55_000,
                day(3, 1),
                NaiveDate::from_ymd_opt(2025, 2, 28).unwrap(),
            ),
            // e: new logo, excluded.
            contract(
                "e",
                99_000,
                day(5, 1),
                NaiveDate::from_ymd_opt(2025, 4, 30).unwrap(),
            ),
        ];
        let r = retention(&contracts, year_2024(), &usd());
        assert_eq!(r.cohort_accounts, 4);
        assert_eq!(r.churned_accounts, 1);
        assert_eq!(r.starting_arr, 100_000);
        assert_eq!(r.churned_arr, 20_000);
        assert_eq!(r.contraction_arr, 5_000);
        assert_eq!(r.expansion_arr, 15_000);
        assert_eq!(r.grr(), Some(75.0));
        assert_eq!(r.nrr(), Some(90.0));
        assert_eq!(r.gross_revenue_churn(), Some(25.0));
        assert_eq!(r.logo_churn_rate(), Some(25.0));
    }

    #[test]
    fn retention_of_an_empty_cohort_is_undefined() {
        let r = retention(&[], year_2024(), &usd());
        assert_eq!(r, Retention::default());
        assert_eq!((r.grr(), r.nrr(), r.logo_churn_rate()), (None, None, None));
    }

    #[test]
    fn logos_count_whatever_their_currency_and_arr_needs_a_rate() {
        let eur = Currency::parse("EUR").unwrap();
        let mut euro = contract("e", 50_000, day(1, 1), day(12, 31));
        euro.arr.currency = eur;
        let mut euro_churned = contract("f", 20_000, day(1, 1), day(6, 30));
        euro_churned.arr.currency = eur;
        let usd_account = contract("a", 10_000, day(1, 1), day(12, 31));
        let contracts = [euro, euro_churned, usd_account];
        let without_rates = retention(&contracts, year_2024(), &usd());
        assert_eq!(
            (
                without_rates.cohort_accounts,
                without_rates.churned_accounts
            ),
            (3, 1),
            "counts never depend on currency"
        );
        assert_eq!(without_rates.starting_arr, 10_000);
        assert_eq!(
            without_rates.left_out.0.get(&eur),
            Some(&70_000),
            "EUR ARR is left out and said so"
        );
        let rates = FxTable::new(&[crate::fx::FxRate {
            date: day(1, 1),
            currency: eur,
            base: Currency::USD,
            rate: 1.5,
        }]);
        let reporting = Reporting {
            currency: Currency::USD,
            rates: &rates,
        };
        let with_rates = retention(&contracts, year_2024(), &reporting);
        assert_eq!(with_rates.starting_arr, 10_000 + 75_000 + 30_000);
        assert_eq!(with_rates.churned_arr, 30_000);
        assert!(with_rates.left_out.is_empty());
    }

    #[test]
    fn renewal_rate_by_count_and_arr() {
        let mut won = contract(
            "a",
            30_000,
            NaiveDate::from_ymd_opt(2023, 3, 1).unwrap(),
            day(2, 29),
        );
        won.status = ContractStatus::Renewed;
        let lost = contract(
            "b",
            10_000,
            NaiveDate::from_ymd_opt(2023, 5, 1).unwrap(),
            day(4, 30),
        );
        let mut cancelled = lost.clone();
        cancelled.status = ContractStatus::Cancelled;
        let not_due = contract(
            "c",
            5_000,
            day(1, 1),
            NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
        );
        // A co-terminous add-on of the same product renews with its term: one renewal.
        let mut add_on = won.clone();
        add_on.id = "a-add-on".into();
        add_on.arr.minor = 6_000;
        add_on.start_date = NaiveDate::from_ymd_opt(2023, 9, 1).unwrap();
        let r = renewals(
            &[won, add_on, lost, cancelled, not_due],
            year_2024(),
            &usd(),
        );
        assert_eq!((r.due, r.won, r.due_arr, r.won_arr), (2, 1, 46_000, 36_000));
        assert_eq!(r.rate_by_count(), Some(50.0));
        assert_close(r.rate_by_arr().unwrap(), 36_000.0 / 46_000.0 * 100.0);
        assert_eq!(renewals(&[], year_2024(), &usd()).rate_by_count(), None);
    }
}
