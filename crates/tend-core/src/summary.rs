//! The portfolio summary: the headline metrics of a customer base against the seed
//! checklist targets, computed from stored data by the functions in [`crate::metrics`].

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::fx::{FxTable, LeftOut, Reporting};
use crate::metrics::{self, ArrOn, Renewals, ResponseTimes, Retention};
use crate::model::{Account, Contract, SurveyKind, SurveyResponse, Ticket};
use crate::money::{Currency, Money};
use crate::period::Period;

/// The seed checklist's targets; configurable, these are the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    /// NPS above this.
    pub nps_above: f64,
    /// Logo churn over 12 months below this percentage.
    pub churn_below_pct: f64,
    /// CSAT above this percentage.
    pub csat_above_pct: f64,
    /// Median first response below this many minutes.
    pub first_response_below_minutes: f64,
    /// Renewal rate (by count) above this percentage.
    pub renewal_rate_above_pct: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            nps_above: 50.0,
            churn_below_pct: 5.0,
            csat_above_pct: 90.0,
            first_response_below_minutes: 120.0,
            renewal_rate_above_pct: 95.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SegmentLine {
    pub segment: String,
    pub accounts: usize,
    pub arr: Money,
}

/// One checklist line: the measured value (if any data) and whether it meets the target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetCheck {
    pub name: &'static str,
    pub value: Option<f64>,
    pub target: String,
    /// `None` when there is no data to judge.
    pub met: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioSummary {
    /// The last day the summary covers; its periods end the day after.
    pub as_of: NaiveDate,
    /// The currency ARR metrics are reported in: the one asked for, or by default the
    /// one with the most ARR.
    pub currency: Currency,
    /// Accounts with ARR on `as_of`, whatever its currency.
    pub active_accounts: usize,
    /// ARR in force on `as_of` in `currency`, other currencies converted at that
    /// day's rates.
    pub total_arr: Money,
    /// ARR in force on `as_of` that no rate converts, per currency; left out of
    /// `total_arr` and the segments' ARR.
    pub arr_left_out: LeftOut,
    /// ARR in force on `as_of` per currency, as contracted, largest share first.
    pub by_currency: Vec<Money>,
    pub segments: Vec<SegmentLine>,
    /// The 12 months before `as_of`.
    pub year: Period,
    pub retention: Retention,
    pub renewals: Renewals,
    /// The last full calendar quarter before `as_of`.
    pub quarter: Period,
    pub nps: Option<f64>,
    pub nps_responses: usize,
    pub csat: Option<f64>,
    pub csat_responses: usize,
    pub response_times: Option<ResponseTimes>,
    pub checks: Vec<TargetCheck>,
}

/// The data a summary reads.
pub struct PortfolioData<'a> {
    pub accounts: &'a [Account],
    pub contracts: &'a [Contract],
    pub tickets: &'a [Ticket],
    pub survey_responses: &'a [SurveyResponse],
    pub fx_rates: &'a FxTable,
}

/// Summarises the portfolio as of the end of `as_of`, the last day included: the
/// year and the quarter end there.
/// Money is reported in `currency`, or by default in the currency with the most ARR
/// in force on `as_of`.
pub fn portfolio_summary(
    data: &PortfolioData<'_>,
    as_of: NaiveDate,
    targets: &Targets,
    currency: Option<Currency>,
) -> PortfolioSummary {
    let by_currency = arr_by_currency(data.contracts, as_of);
    let currency = currency.unwrap_or_else(|| main_currency(&by_currency, data.fx_rates, as_of));
    let reporting = Reporting {
        currency,
        rates: data.fx_rates,
    };
    let end = as_of.succ_opt().unwrap_or(as_of);
    let year = Period::months_before(end, 12);
    let quarter = Period::previous_quarter(end);
    let arr_now = metrics::arr_on(data.contracts, as_of, &reporting, as_of);
    let segments = segment_lines(data.accounts, &arr_now, currency);
    let total_minor = arr_now.arr.values().sum();

    let retention = metrics::retention(data.contracts, year, &reporting);
    let renewals = metrics::renewals(data.contracts, year, &reporting);
    let nps_scores = metrics::survey_scores(data.survey_responses, SurveyKind::Nps, quarter);
    let csat_scores = metrics::survey_scores(data.survey_responses, SurveyKind::Csat, quarter);
    let nps = metrics::nps(&nps_scores);
    let csat = metrics::csat(&csat_scores);
    let response_times = metrics::first_response_times(data.tickets, quarter);

    let checks = vec![
        check_above("NPS", nps, targets.nps_above, ""),
        check_below(
            "Logo churn (12 months)",
            retention.logo_churn_rate(),
            targets.churn_below_pct,
            "%",
        ),
        check_above("CSAT", csat, targets.csat_above_pct, "%"),
        check_below(
            "First response, median (min)",
            response_times.as_ref().map(|t| t.median_minutes),
            targets.first_response_below_minutes,
            " min",
        ),
        check_above(
            "Renewal rate",
            renewals.rate_by_count(),
            targets.renewal_rate_above_pct,
            "%",
        ),
    ];

    PortfolioSummary {
        as_of,
        currency,
        active_accounts: arr_now.active.len(),
        total_arr: Money::new(total_minor, currency),
        arr_left_out: arr_now.left_out.clone(),
        by_currency,
        segments,
        year,
        retention,
        renewals,
        quarter,
        nps,
        nps_responses: nps_scores.len(),
        csat,
        csat_responses: csat_scores.len(),
        response_times,
        checks,
    }
}

/// ARR in force on `day` per currency, largest first (compared in major units).
pub fn arr_by_currency(contracts: &[Contract], day: NaiveDate) -> Vec<Money> {
    let mut totals: BTreeMap<Currency, i64> = BTreeMap::new();
    for contract in contracts.iter().filter(|c| c.is_active_on(day)) {
        *totals.entry(contract.arr.currency).or_default() += contract.arr.minor;
    }
    let mut list: Vec<Money> = totals.into_iter().map(|(c, m)| Money::new(m, c)).collect();
    list.sort_by(|a, b| b.major().total_cmp(&a.major()));
    list
}

/// The currency carrying the most ARR on `day`, compared at that day's rates: in the
/// currency most others convert to, among those that convert (amounts in different
/// currencies cannot be compared without a rate). USD for an empty portfolio.
pub fn main_currency(by_currency: &[Money], rates: &FxTable, day: NaiveDate) -> Currency {
    let converts_to = |pivot: Currency| {
        by_currency
            .iter()
            .filter(|m| rates.rate(m.currency, pivot, day).is_some())
            .count()
    };
    // `max_by_key` keeps the last of equals: reversed, a tie (no rates at all) goes
    // to the largest amount, which `arr_by_currency` lists first.
    let Some(pivot) = by_currency
        .iter()
        .rev()
        .map(|m| m.currency)
        .max_by_key(|&c| converts_to(c))
    else {
        return crate::model::DEFAULT_CURRENCY;
    };
    by_currency
        .iter()
        .filter_map(|m| Some((m.currency, rates.convert(*m, pivot, day)?)))
        .max_by_key(|&(_, worth)| worth)
        .map_or(pivot, |(currency, _)| currency)
}

/// Active accounts (ARR on the day, any currency) and their converted ARR per
/// segment, largest ARR first.
fn segment_lines(accounts: &[Account], arr_now: &ArrOn, currency: Currency) -> Vec<SegmentLine> {
    let mut by_segment: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    for account in accounts {
        if !arr_now.active.contains(account.id.as_str()) {
            continue;
        }
        let segment = account
            .segment
            .clone()
            .unwrap_or_else(|| "(none)".to_string());
        let line = by_segment.entry(segment).or_default();
        line.0 += 1;
        line.1 += arr_now.arr.get(account.id.as_str()).copied().unwrap_or(0);
    }
    let mut lines: Vec<SegmentLine> = by_segment
        .into_iter()
        .map(|(segment, (accounts, arr))| SegmentLine {
            segment,
            accounts,
            arr: Money::new(arr, currency),
        })
        .collect();
    lines.sort_by(|a, b| {
        b.arr
            .minor
            .cmp(&a.arr.minor)
            .then(a.segment.cmp(&b.segment))
    });
    lines
}

fn check_above(name: &'static str, value: Option<f64>, target: f64, unit: &str) -> TargetCheck {
    TargetCheck {
        name,
        value,
        target: format!("> {target}{unit}"),
        met: value.map(|v| v > target),
    }
}

fn check_below(name: &'static str, value: Option<f64>, target: f64, unit: &str) -> TargetCheck {
    TargetCheck {
        name,
        value,
        target: format!("< {target}{unit}"),
        met: value.map(|v| v < target),
    }
}

#[cfg(test)]
// Amounts in minor units are written dollars_cents, e.g. 60_000_00.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::model::{ContractStatus, TicketPriority, TicketStatus};
    use chrono::{TimeZone, Utc};

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn without_rates_the_main_currency_is_the_one_with_the_most_arr() {
        let usd = Currency::parse("USD").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let list = [Money::new(9_000_000_00, usd), Money::new(6_000_00, eur)];
        let none = FxTable::new(&[]);
        assert_eq!(main_currency(&list, &none, date(2026, 6, 30)), usd);
        let reversed = [Money::new(9_000_000_00, eur), Money::new(6_000_00, usd)];
        assert_eq!(main_currency(&reversed, &none, date(2026, 6, 30)), eur);
    }

    fn account(id: &str, segment: &str) -> Account {
        Account {
            id: id.into(),
            name: id.into(),
            parent_id: None,
            segment: Some(segment.into()),
            tier: None,
            industry: None,
            region: None,
            lifecycle_stage: None,
            csm_owner: None,
            am_owner: None,
            created_on: date(2022, 1, 1),
            churned_on: None,
            churn_reason: None,
        }
    }

    fn contract(
        account: &str,
        arr: i64,
        start: NaiveDate,
        end: NaiveDate,
        status: ContractStatus,
    ) -> Contract {
        Contract {
            id: format!("{account}-{start}"),
            account_id: account.into(),
            product: "Platform".into(),
            seats: 10,
            arr: Money::new(arr, Currency::USD),
            start_date: start,
            end_date: end,
            renewal_date: end.succ_opt().unwrap(),
            auto_renew: true,
            notice_days: 60,
            status,
        }
    }

    #[test]
    fn summary_of_a_small_portfolio() {
        let accounts = [
            account("a", "smb"),
            account("b", "enterprise"),
            account("c", "smb"),
        ];
        let contracts = [
            contract(
                "a",
                1_000_00,
                date(2023, 1, 1),
                date(2023, 12, 31),
                ContractStatus::Renewed,
            ),
            contract(
                "a",
                1_200_00,
                date(2024, 1, 1),
                date(2024, 12, 31),
                ContractStatus::Active,
            ),
            contract(
                "b",
                50_000_00,
                date(2023, 6, 1),
                date(2025, 5, 31),
                ContractStatus::Active,
            ),
            contract(
                "c",
                800_00,
                date(2023, 1, 1),
                date(2023, 12, 31),
                ContractStatus::Churned,
            ),
        ];
        let survey = |id: &str, kind, score| SurveyResponse {
            id: id.into(),
            account_id: "a".into(),
            contact_id: None,
            kind,
            score,
            comment: None,
            campaign: None,
            responded_at: Utc.with_ymd_and_hms(2024, 5, 10, 0, 0, 0).unwrap(),
        };
        let responses = [
            survey("1", SurveyKind::Nps, 10),
            survey("2", SurveyKind::Nps, 9),
            survey("3", SurveyKind::Nps, 3),
            survey("4", SurveyKind::Csat, 5),
        ];
        let created = Utc.with_ymd_and_hms(2024, 4, 2, 9, 0, 0).unwrap();
        let tickets = [Ticket {
            id: "t".into(),
            account_id: "b".into(),
            contact_id: None,
            subject: "s".into(),
            priority: TicketPriority::High,
            status: TicketStatus::Solved,
            created_at: created,
            first_response_at: Some(created + chrono::Duration::minutes(45)),
            solved_at: None,
            satisfaction: None,
        }];
        let data = PortfolioData {
            accounts: &accounts,
            contracts: &contracts,
            tickets: &tickets,
            survey_responses: &responses,
            fx_rates: &FxTable::default(),
        };
        let summary = portfolio_summary(&data, date(2024, 6, 30), &Targets::default(), None);

        assert_eq!(summary.active_accounts, 2);
        assert_eq!(summary.total_arr, Money::new(51_200_00, Currency::USD));
        assert_eq!(summary.segments[0].segment, "enterprise");
        assert_eq!(summary.segments[1].accounts, 1);
        assert_eq!(
            summary.quarter,
            Period::new(date(2024, 4, 1), date(2024, 7, 1))
        );
        // Cohort on 2023-07-01: a, b, c; c churned; a grew by 200.
        assert_eq!(summary.retention.cohort_accounts, 3);
        assert_eq!(summary.retention.churned_accounts, 1);
        assert_eq!(summary.retention.expansion_arr, 200_00);
        // Due in the year: a (renewed 2024-01-01) and c (churned 2024-01-01).
        assert_eq!(summary.renewals.rate_by_count(), Some(50.0));
        let nps = 100.0 * (2.0 - 1.0) / 3.0;
        assert_eq!(summary.nps, Some(nps));
        let met: Vec<_> = summary.checks.iter().map(|c| (c.name, c.met)).collect();
        assert_eq!(
            met,
            vec![
                ("NPS", Some(false)),
                ("Logo churn (12 months)", Some(false)),
                ("CSAT", Some(true)),
                ("First response, median (min)", Some(true)),
                ("Renewal rate", Some(false)),
            ]
        );
    }

    #[test]
    fn summary_of_an_empty_store_has_no_verdicts() {
        let data = PortfolioData {
            accounts: &[],
            contracts: &[],
            tickets: &[],
            survey_responses: &[],
            fx_rates: &FxTable::default(),
        };
        let summary = portfolio_summary(&data, date(2024, 6, 30), &Targets::default(), None);
        assert_eq!(summary.active_accounts, 0);
        assert_eq!(summary.currency, Currency::USD);
        assert!(summary
            .checks
            .iter()
            .all(|c| c.met.is_none() && c.value.is_none()));
    }
}
