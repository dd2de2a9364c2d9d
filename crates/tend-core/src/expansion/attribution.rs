//! Booked expansion and its attribution. Expansion is read from the contracts
//! themselves: on each day a term starts, the account's ARR of that product in force
//! that day above the ARR in force the day before (a renewal at a higher price, more
//! seats mid-term, a product it did not hold). A new customer's first terms, and a
//! former customer's return, are new business, not expansion. Each booking is then
//! attributed to the won opportunities of the same account and product that closed
//! nearest to it, within [`BEFORE_DAYS`] before and [`AFTER_DAYS`] after, up to what
//! the opportunity won, then to the next nearest; the rest is unattributed.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use crate::fx::LeftOut;
use crate::model::{Contract, ContractStatus, OpportunitySource};
use crate::money::Money;

/// A won opportunity closes at most this many days before the term it books starts.
pub const BEFORE_DAYS: u64 = 90;
/// ...and at most this many days after (CRMs are often marked won late).
pub const AFTER_DAYS: u64 = 30;

/// Expansion ARR booked on an account's contracts on a day, in the reporting
/// currency (minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub account_id: String,
    pub product: String,
    pub day: NaiveDate,
    pub amount: i64,
}

/// Every expansion booked in `contracts` (any order), by day, account and product.
/// `value` converts a contract's ARR on a day into the reporting currency; a booking
/// it cannot convert is left out (and its ARR counted in the [`LeftOut`]).
pub fn booked_expansion(
    contracts: &[Contract],
    value: impl Fn(Money, NaiveDate) -> Option<i64>,
) -> (Vec<Booking>, LeftOut) {
    let mut by_account: BTreeMap<&str, Vec<&Contract>> = BTreeMap::new();
    for c in contracts
        .iter()
        .filter(|c| c.status != ContractStatus::Cancelled && c.arr.minor > 0)
    {
        by_account.entry(c.account_id.as_str()).or_default().push(c);
    }
    let mut bookings = Vec::new();
    let mut left_out = LeftOut::default();
    for (account, terms) in by_account {
        let starts: std::collections::BTreeSet<NaiveDate> =
            terms.iter().map(|c| c.start_date).collect();
        for &day in &starts {
            let Some(before) = day.checked_sub_days(Days::new(1)) else {
                continue;
            };
            // Nothing in force the day before: a new or returning customer.
            if !terms.iter().any(|c| c.is_active_on(before)) {
                continue;
            }
            let products: std::collections::BTreeSet<&str> = terms
                .iter()
                .filter(|c| c.start_date == day)
                .map(|c| c.product.as_str())
                .collect();
            for product in products {
                let of = |on: NaiveDate| {
                    terms
                        .iter()
                        .filter(|c| c.product == product && c.is_active_on(on))
                        .map(|c| value(c.arr, day).ok_or(c.arr))
                        .sum::<Result<i64, Money>>()
                };
                match (of(day), of(before)) {
                    (Ok(after), Ok(prior)) if after > prior => bookings.push(Booking {
                        account_id: account.to_string(),
                        product: product.to_string(),
                        day,
                        amount: after - prior,
                    }),
                    (Err(money), _) | (_, Err(money)) => left_out.add(money),
                    _ => {}
                }
            }
        }
    }
    bookings.sort_by(|a, b| {
        (a.day, &a.account_id, &a.product).cmp(&(b.day, &b.account_id, &b.product))
    });
    (bookings, left_out)
}

/// A won opportunity as attribution sees it: its amount in the reporting currency.
#[derive(Debug, Clone, PartialEq)]
pub struct WonOpportunity {
    pub id: i64,
    pub account_id: String,
    pub product: String,
    pub closed_on: NaiveDate,
    pub amount: i64,
    pub source: OpportunitySource,
}

/// A booking and the parts of it won opportunities explain.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub booking: Booking,
    /// (opportunity, its source, the amount it explains), nearest first.
    pub parts: Vec<(i64, OpportunitySource, i64)>,
}

impl Attribution {
    pub fn attributed(&self) -> i64 {
        self.parts.iter().map(|p| p.2).sum()
    }

    pub fn unattributed(&self) -> i64 {
        self.booking.amount - self.attributed()
    }
}

/// Attributes each booking (in day order) to the won opportunities of its account
/// and product in the window, nearest first (ties to the older), each explaining as
/// much as it has left: an opportunity explains at most its own amount in all.
pub fn attribute(bookings: &[Booking], won: &[WonOpportunity]) -> Vec<Attribution> {
    let mut left: BTreeMap<i64, i64> = won.iter().map(|o| (o.id, o.amount.max(0))).collect();
    bookings
        .iter()
        .map(|booking| {
            let mut candidates: Vec<&WonOpportunity> = won
                .iter()
                .filter(|o| {
                    o.account_id == booking.account_id
                        && o.product.eq_ignore_ascii_case(&booking.product)
                        && within_window(o.closed_on, booking.day)
                })
                .collect();
            candidates.sort_by_key(|o| ((o.closed_on - booking.day).num_days().abs(), o.id));
            let mut open = booking.amount;
            let mut parts = Vec::new();
            for o in candidates {
                let remaining = left
                    .get_mut(&o.id)
                    .expect("every opportunity has a balance");
                let part = open.min(*remaining);
                if part > 0 {
                    *remaining -= part;
                    open -= part;
                    parts.push((o.id, o.source, part));
                }
            }
            Attribution {
                booking: booking.clone(),
                parts,
            }
        })
        .collect()
}

fn within_window(closed_on: NaiveDate, booked_on: NaiveDate) -> bool {
    let days = (booked_on - closed_on).num_days();
    (-(AFTER_DAYS as i64)..=BEFORE_DAYS as i64).contains(&days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn term(account: &str, product: &str, arr: i64, start: &str, end: &str) -> Contract {
        Contract {
            id: format!("{account}-{product}-{start}"),
            account_id: account.into(),
            product: product.into(),
            seats: 10,
            arr: Money::new(arr, Currency::USD),
            start_date: d(start),
            end_date: d(end),
            renewal_date: d(end) + Days::new(1),
            auto_renew: false,
            notice_days: 30,
            status: ContractStatus::Active,
        }
    }

    fn usd(money: Money, _: NaiveDate) -> Option<i64> {
        (money.currency == Currency::USD).then_some(money.minor)
    }

    #[test]
    fn expansion_is_arr_above_the_day_before_but_not_new_business() {
        let contracts = vec![
            // a: new business, then renewed higher, then an add-on mid-term.
            term("a", "core", 1_000, "2025-01-01", "2025-12-31"),
            term("a", "core", 1_500, "2026-01-01", "2026-12-31"),
            term("a", "insights", 400, "2026-04-01", "2026-12-31"),
            // b: renewed lower (contraction is not expansion); c: returns after a gap.
            term("b", "core", 900, "2025-01-01", "2025-12-31"),
            term("b", "core", 700, "2026-01-01", "2026-12-31"),
            term("c", "core", 500, "2024-01-01", "2024-12-31"),
            term("c", "core", 800, "2025-03-01", "2026-02-28"),
        ];
        let (bookings, left_out) = booked_expansion(&contracts, usd);
        assert!(left_out.is_empty());
        let got: Vec<(&str, &str, NaiveDate, i64)> = bookings
            .iter()
            .map(|b| (b.account_id.as_str(), b.product.as_str(), b.day, b.amount))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", "core", d("2026-01-01"), 500),
                ("a", "insights", d("2026-04-01"), 400),
            ]
        );
    }

    #[test]
    fn a_booking_goes_to_the_nearest_won_opportunity_up_to_its_amount() {
        let booking = |product: &str, day: &str, amount| Booking {
            account_id: "a".into(),
            product: product.into(),
            day: d(day),
            amount,
        };
        let won = |id, product: &str, closed: &str, amount, source| WonOpportunity {
            id,
            account_id: "a".into(),
            product: product.into(),
            closed_on: d(closed),
            amount,
            source,
        };
        let bookings = [
            booking("core", "2026-01-01", 500),
            booking("insights", "2026-04-01", 400),
            booking("insights", "2026-09-01", 300),
        ];
        let opportunities = [
            // Too early for the core booking (more than 90 days before).
            won(1, "core", "2025-09-01", 500, OpportunitySource::Manual),
            won(2, "Insights", "2026-03-20", 250, OpportunitySource::Signal),
            won(
                3,
                "insights",
                "2026-04-20",
                1_000,
                OpportunitySource::Playbook,
            ),
        ];
        let result = attribute(&bookings, &opportunities);
        assert_eq!(result[0].parts, vec![]);
        assert_eq!(result[0].unattributed(), 500);
        // 2026-03-20 is 12 days before, 2026-04-20 19 days after: the nearer explains
        // its 250, the other the remaining 150 (and keeps 850).
        assert_eq!(
            result[1].parts,
            vec![
                (2, OpportunitySource::Signal, 250),
                (3, OpportunitySource::Playbook, 150)
            ]
        );
        assert_eq!(result[1].unattributed(), 0);
        // Opportunity 3 closed 134 days before the September booking: outside.
        assert_eq!((result[2].parts.len(), result[2].unattributed()), (0, 300));
    }
}
