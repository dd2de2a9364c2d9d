//! Account lifetimes, renewal histories and start-cohort tables from accounts and
//! their contracts: the data behind retention curves, hazard models and lifetime
//! value. Pure functions of the records and the last day of the data.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::metrics::arr_on;
use crate::model::{Account, Contract, ContractStatus};
use crate::risk::RENEWAL_GRACE_DAYS;
use crate::Reporting;

/// One account's life as a customer, as known on the last day of the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifetime<'a> {
    pub account: &'a Account,
    /// The first contract's start (the account's creation without contracts).
    pub start: NaiveDate,
    /// Days from the start to the churn, or to the last day of the data.
    pub days: i64,
    /// The day it was lost by the last day of the data: its churn date, or the
    /// renewal date of a term it held nothing after (a lapse the CRM did not mark).
    /// Otherwise it is still a customer, censored at the last day.
    pub lost_on: Option<NaiveDate>,
    /// Renewals decided and won before it was lost or, if it was not, so far.
    pub renewals: u32,
}

impl Lifetime<'_> {
    pub fn churned(&self) -> bool {
        self.lost_on.is_some()
    }
}

/// Every account that had started by `as_of`, with its contracts (any order).
pub fn lifetimes<'a>(
    accounts: &'a [Account],
    contracts: &[Contract],
    as_of: NaiveDate,
) -> Vec<Lifetime<'a>> {
    let by_account = in_force_by_account(contracts);
    accounts
        .iter()
        .filter_map(|account| {
            let own = by_account.get(account.id.as_str()).map_or(&[][..], |v| v);
            let start = own
                .iter()
                .map(|c| c.start_date)
                .min()
                .unwrap_or(account.created_on);
            if start > as_of {
                return None;
            }
            let churned_on = account.churned_on.filter(|&day| day <= as_of);
            let (renewals, lost_on) = renewal_history(own, churned_on, as_of);
            let end = lost_on.unwrap_or(as_of).max(start);
            Some(Lifetime {
                account,
                start,
                days: (end - start).num_days(),
                lost_on,
                renewals,
            })
        })
        .collect()
}

/// Each account's contracts, cancelled ones (never in force) left out.
fn in_force_by_account(contracts: &[Contract]) -> BTreeMap<&str, Vec<&Contract>> {
    let mut by_account: BTreeMap<&str, Vec<&Contract>> = BTreeMap::new();
    for contract in contracts
        .iter()
        .filter(|c| c.status != ContractStatus::Cancelled)
    {
        by_account
            .entry(contract.account_id.as_str())
            .or_default()
            .push(contract);
    }
    by_account
}

/// Renewals won in date order until the account was lost, and the day it was. A
/// renewal date is decided once its grace has passed by `as_of`; it is won when the
/// account still holds a contract at the end of the grace, and lost otherwise.
fn renewal_history(
    contracts: &[&Contract],
    churned_on: Option<NaiveDate>,
    as_of: NaiveDate,
) -> (u32, Option<NaiveDate>) {
    let mut due: Vec<NaiveDate> = contracts.iter().map(|c| c.renewal_date).collect();
    due.sort_unstable();
    due.dedup();
    let mut renewals = 0;
    for day in due {
        if churned_on.is_some_and(|churned| churned <= day) {
            return (renewals, churned_on);
        }
        let grace = day + Days::new(RENEWAL_GRACE_DAYS);
        if grace > as_of {
            break;
        }
        let held = contracts.iter().any(|c| c.is_active_on(grace));
        if !held {
            return (
                renewals,
                Some(churned_on.map_or(day, |churned| churned.min(day))),
            );
        }
        renewals += 1;
    }
    (renewals, churned_on)
}

/// "2025-Q3".
pub fn quarter_of(day: NaiveDate) -> String {
    format!("{}-Q{}", day.year(), day.month0() / 3 + 1)
}

/// One start quarter's accounts followed quarter by quarter.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortRow {
    /// "2025-Q3".
    pub quarter: String,
    pub accounts: usize,
    /// ARR at each account's start, in the reporting currency at the start's rates.
    pub starting_arr: i64,
    /// After k = 1, 2, … quarters: (logos retained, GRR, NRR) as shares of the
    /// start, while every account of the cohort has been a customer k quarters.
    pub after: Vec<CohortCell>,
    /// Accounts left out of the ARR shares for want of an exchange rate.
    pub unconverted: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CohortCell {
    pub quarters: u32,
    pub logos: f64,
    /// Σ min(ARR now, ARR at start) ÷ Σ ARR at start: expansion does not count.
    pub grr: Option<f64>,
    /// Σ ARR now ÷ Σ ARR at start.
    pub nrr: Option<f64>,
}

/// Logo and revenue retention of each start quarter's accounts, k quarters after
/// each account's own start, in constant currency (both ends at the start's rates).
pub fn cohort_table(
    lifetimes: &[Lifetime],
    contracts: &[Contract],
    reporting: &Reporting,
    as_of: NaiveDate,
    max_quarters: u32,
) -> Vec<CohortRow> {
    // `arr_on` reads owned contracts: each account's, copied once.
    let by_account: BTreeMap<&str, Vec<Contract>> = in_force_by_account(contracts)
        .into_iter()
        .map(|(id, own)| (id, own.into_iter().cloned().collect()))
        .collect();
    let mut cohorts: BTreeMap<String, Vec<&Lifetime>> = BTreeMap::new();
    for lifetime in lifetimes {
        cohorts
            .entry(quarter_of(lifetime.start))
            .or_default()
            .push(lifetime);
    }
    let arr_of = |id: &str, day: NaiveDate, rate_day: NaiveDate| -> Option<Option<i64>> {
        let own = by_account.get(id).map_or(&[][..], |v| v.as_slice());
        let on = arr_on(own, day, reporting, rate_day);
        if !on.left_out.is_empty() {
            return None;
        }
        Some(on.arr.get(id).copied())
    };
    cohorts
        .into_iter()
        .map(|(quarter, members)| {
            let mut starting: Vec<(&Lifetime, i64)> = Vec::new();
            let mut unconverted = 0;
            for lifetime in &members {
                match arr_of(&lifetime.account.id, lifetime.start, lifetime.start) {
                    Some(arr) => starting.push((lifetime, arr.unwrap_or(0))),
                    None => unconverted += 1,
                }
            }
            let starting_arr: i64 = starting.iter().map(|(_, arr)| arr).sum();
            let mut after = Vec::new();
            for k in 1..=max_quarters {
                let day_of = |l: &Lifetime| l.start.checked_add_months(Months::new(3 * k));
                if members.iter().any(|l| day_of(l).is_none_or(|d| d > as_of)) {
                    break;
                }
                let retained = members
                    .iter()
                    .filter(|l| {
                        let day = day_of(l).expect("checked above");
                        by_account
                            .get(l.account.id.as_str())
                            .is_some_and(|own| own.iter().any(|c| c.is_active_on(day)))
                    })
                    .count();
                let (mut gross, mut net) = (0i64, 0i64);
                for &(lifetime, start_arr) in &starting {
                    let day = day_of(lifetime).expect("checked above");
                    let now = arr_of(&lifetime.account.id, day, lifetime.start)
                        .flatten()
                        .unwrap_or(0);
                    gross += now.min(start_arr);
                    net += now;
                }
                let share = |x: i64| (starting_arr > 0).then(|| x as f64 / starting_arr as f64);
                after.push(CohortCell {
                    quarters: k,
                    logos: retained as f64 / members.len() as f64,
                    grr: share(gross),
                    nrr: share(net),
                });
            }
            CohortRow {
                quarter,
                accounts: members.len(),
                starting_arr,
                after,
                unconverted,
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;
    use crate::{Currency, FxTable, Money};

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn account(id: &str, churned_on: Option<&str>) -> Account {
        Account {
            id: id.into(),
            name: id.into(),
            parent_id: None,
            segment: None,
            tier: None,
            industry: None,
            region: None,
            lifecycle_stage: None,
            csm_owner: None,
            am_owner: None,
            created_on: day("2023-01-01"),
            churned_on: churned_on.map(day),
            churn_reason: None,
        }
    }

    fn contract(account: &str, start: &str, end: &str, arr: i64) -> Contract {
        let end = day(end);
        Contract {
            id: format!("{account}-{start}"),
            account_id: account.into(),
            product: "core".into(),
            seats: 10,
            arr: Money::new(arr, Currency::parse("USD").unwrap()),
            start_date: day(start),
            end_date: end,
            renewal_date: end + Days::new(1),
            auto_renew: false,
            notice_days: 30,
            status: ContractStatus::Active,
        }
    }

    #[test]
    fn lifetimes_count_renewals_until_the_first_lost() {
        let accounts = [
            account("kept", None),
            account("left", Some("2025-01-01")),
            account("lapsed", None),
        ];
        let contracts = [
            contract("kept", "2023-01-01", "2023-12-31", 100_00),
            contract("kept", "2024-01-01", "2024-12-31", 120_00),
            contract("kept", "2025-01-01", "2025-12-31", 120_00),
            contract("left", "2023-01-01", "2023-12-31", 100_00),
            contract("left", "2024-01-01", "2024-12-31", 100_00),
            contract("lapsed", "2023-06-01", "2024-05-31", 50_00),
        ];
        let found = lifetimes(&accounts, &contracts, day("2025-06-30"));
        let summary: Vec<_> = found
            .iter()
            .map(|l| (l.account.id.as_str(), l.days, l.lost_on, l.renewals))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("kept", 911, None, 2),
                ("left", 731, Some(day("2025-01-01")), 1),
                // Not marked churned, but holding nothing after its renewal's grace.
                ("lapsed", 366, Some(day("2024-06-01")), 0),
            ]
        );
    }

    #[test]
    fn cohorts_follow_logos_and_revenue_from_each_start() {
        let accounts = [account("a", None), account("b", Some("2024-01-01"))];
        let contracts = [
            contract("a", "2023-01-01", "2023-12-31", 100_00),
            contract("a", "2024-01-01", "2024-12-31", 150_00),
            contract("b", "2023-02-01", "2023-12-31", 100_00),
        ];
        let found = lifetimes(&accounts, &contracts, day("2024-05-15"));
        let rates = FxTable::new(&[]);
        let reporting = Reporting {
            currency: Currency::parse("USD").unwrap(),
            rates: &rates,
        };
        let rows = cohort_table(&found, &contracts, &reporting, day("2024-05-15"), 8);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(
            (row.quarter.as_str(), row.accounts, row.starting_arr),
            ("2023-Q1", 2, 200_00)
        );
        // Five quarters after b's start (2024-05-01) is the last one both reached.
        assert_eq!(row.after.len(), 5);
        assert_eq!(row.after[2].logos, 1.0);
        let year = row.after[3];
        assert_eq!(year.logos, 0.5);
        // a grew to 150 (GRR counts 100 of it), b is gone.
        assert_eq!(year.grr, Some(0.5));
        assert_eq!(year.nrr, Some(0.75));
    }
}
