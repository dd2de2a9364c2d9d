//! What past renewals say about the next ones: over the year before a day, per
//! segment, the share of closed renewals won and the renewed-to-due ARR ratios of
//! those won (the amounts a won renewal comes back at, expansion and contraction).

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use tend_core::renewal::Renewal;
use tend_core::Reporting;

/// How far back closed renewals are learned from.
pub const TRAILING_DAYS: u64 = 365;
/// A segment with fewer closed renewals than this borrows the figures of all.
pub const MIN_CLOSED: usize = 20;

/// Closed renewals of one group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    pub won: usize,
    pub lost: usize,
    /// Renewed ARR ÷ ARR due, of each won.
    pub ratios: Vec<f64>,
    /// ARR due and renewed in the reporting currency (minor units), for the
    /// trailing renewal rate.
    pub due: f64,
    pub renewed: f64,
    /// E[max(r − 1, 0)] and E[max(1 − r, 0)] over the ratios: the expected expansion
    /// and contraction of a won renewal, per unit of ARR due.
    pub excess: (f64, f64),
}

impl Group {
    pub fn closed(&self) -> usize {
        self.won + self.lost
    }

    /// The share of closed renewals won; `None` with none closed.
    pub fn win_rate(&self) -> Option<f64> {
        (self.closed() > 0).then(|| self.won as f64 / self.closed() as f64)
    }

    /// Renewed ARR ÷ ARR due over all closed: the trailing renewal rate a naive
    /// forecast multiplies renewable ARR by.
    pub fn renewal_rate(&self) -> Option<f64> {
        (self.due > 0.0).then(|| self.renewed / self.due)
    }

    /// Sets `excess` from the ratios, once they are all in.
    fn finish(&mut self) {
        if self.ratios.is_empty() {
            self.excess = (0.0, 0.0);
            return;
        }
        let n = self.ratios.len() as f64;
        self.excess = (
            self.ratios.iter().map(|r| (r - 1.0).max(0.0)).sum::<f64>() / n,
            self.ratios.iter().map(|r| (1.0 - r).max(0.0)).sum::<f64>() / n,
        );
    }

    fn add(&mut self, renewal: &Renewal, due: f64) {
        let Some(outcome) = &renewal.outcome else {
            return;
        };
        self.due += due;
        if outcome.won {
            self.won += 1;
            let ratio = outcome.ratio(renewal.arr);
            self.ratios.push(ratio);
            self.renewed += due * ratio;
        } else {
            self.lost += 1;
        }
    }
}

/// The closed renewals due in the trailing year before a day.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Due dates learned from, both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub all: Group,
    pub segments: HashMap<Option<String>, Group>,
}

impl History {
    /// From `renewals` as known on `day`; `segment_of` gives each account's segment.
    /// Amounts convert at `day`'s rates; renewals without a rate are left out.
    pub fn learn<'a>(
        renewals: impl IntoIterator<Item = &'a Renewal>,
        segment_of: impl Fn(&str) -> Option<String>,
        reporting: Reporting,
        day: NaiveDate,
    ) -> History {
        let from = day - Days::new(TRAILING_DAYS);
        let mut history = History {
            from,
            to: day,
            all: Group::default(),
            segments: HashMap::new(),
        };
        for renewal in renewals {
            if renewal.outcome.is_none() || renewal.due_on < from || renewal.due_on > day {
                continue;
            }
            let Some(due) = reporting.value(renewal.arr, day) else {
                continue;
            };
            let due = due as f64;
            history.all.add(renewal, due);
            history
                .segments
                .entry(segment_of(&renewal.account_id))
                .or_default()
                .add(renewal, due);
        }
        history.all.finish();
        history.segments.values_mut().for_each(Group::finish);
        history
    }

    /// The group a renewal of `segment` is forecast from: its segment's when that has
    /// [`MIN_CLOSED`] closed renewals, else all.
    pub fn for_segment(&self, segment: Option<&str>) -> &Group {
        self.segments
            .get(&segment.map(str::to_string))
            .filter(|g| g.closed() >= MIN_CLOSED)
            .unwrap_or(&self.all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tend_core::renewal::renewals;
    use tend_core::{Contract, ContractStatus, Currency, FxTable, Money};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn term(account: &str, arr: i64, start: NaiveDate) -> Contract {
        let end = start + chrono::Months::new(12) - Days::new(1);
        Contract {
            id: format!("{account}-{start}"),
            account_id: account.into(),
            product: "core".into(),
            seats: 5,
            arr: Money::new(arr, Currency::USD),
            start_date: start,
            end_date: end,
            renewal_date: end + Days::new(1),
            auto_renew: false,
            notice_days: 30,
            status: ContractStatus::Active,
        }
    }

    #[test]
    #[allow(clippy::inconsistent_digit_grouping)] // 100_00 is 100.00
    fn learns_win_rates_and_ratios_of_the_trailing_year_by_segment() {
        // a renews 100 → 120; b is lost; c renewed and was lost before the year.
        let contracts = [
            term("a", 100_00, day(2024, 3, 1)),
            term("a", 120_00, day(2025, 3, 1)),
            term("b", 50_00, day(2024, 6, 1)),
            term("c", 70_00, day(2022, 1, 1)),
            term("c", 70_00, day(2023, 1, 1)),
        ];
        let today = day(2025, 12, 1);
        let (found, _) = renewals(&contracts, today);
        let rates = FxTable::new(&[]);
        let reporting = Reporting {
            currency: Currency::USD,
            rates: &rates,
        };
        let segment = |id: &str| (id == "b").then(|| "smb".to_string());
        let history = History::learn(&found, segment, reporting, today);
        assert_eq!((history.all.won, history.all.lost), (1, 1), "c is too old");
        assert_eq!(history.all.ratios, [1.2]);
        assert_eq!(history.all.renewal_rate(), Some(120.0 / 150.0));
        let smb = &history.segments[&Some("smb".into())];
        assert_eq!((smb.won, smb.lost), (0, 1));
        assert_eq!(
            history.for_segment(Some("smb")),
            &history.all,
            "too few closed"
        );
    }
}
