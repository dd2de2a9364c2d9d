//! Half-open date intervals `[start, end)`, the unit every metric is computed over.

use chrono::{Datelike, Months, NaiveDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl Period {
    /// Panics if `end < start`; periods are built by code, not parsed from users.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Self {
        assert!(start <= end, "period end {end} is before its start {start}");
        Period { start, end }
    }

    /// The `months` whole months that end just before `end`.
    pub fn months_before(end: NaiveDate, months: u32) -> Self {
        Period::new(end - Months::new(months), end)
    }

    /// The calendar quarter before the one containing `date`.
    pub fn previous_quarter(date: NaiveDate) -> Self {
        let quarter_start_month = (date.month0() / 3) * 3 + 1;
        let this_quarter = NaiveDate::from_ymd_opt(date.year(), quarter_start_month, 1)
            .expect("first day of a quarter exists");
        Period::new(this_quarter - Months::new(3), this_quarter)
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date < self.end
    }

    /// The last day inside the period (the day before `end`); `None` when empty.
    pub fn last_day(&self) -> Option<NaiveDate> {
        (self.start < self.end).then(|| self.end.pred_opt().expect("dates have predecessors"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn half_open() {
        let p = Period::new(d(2024, 1, 1), d(2024, 2, 1));
        assert!(p.contains(d(2024, 1, 1)));
        assert!(p.contains(d(2024, 1, 31)));
        assert!(!p.contains(d(2024, 2, 1)));
        assert_eq!(p.last_day(), Some(d(2024, 1, 31)));
        assert_eq!(Period::new(d(2024, 1, 1), d(2024, 1, 1)).last_day(), None);
    }

    #[test]
    fn previous_quarter_and_months_before() {
        assert_eq!(
            Period::previous_quarter(d(2024, 5, 17)),
            Period::new(d(2024, 1, 1), d(2024, 4, 1))
        );
        assert_eq!(
            Period::previous_quarter(d(2024, 2, 1)),
            Period::new(d(2023, 10, 1), d(2024, 1, 1))
        );
        assert_eq!(
            Period::months_before(d(2024, 3, 1), 12),
            Period::new(d(2023, 3, 1), d(2024, 3, 1))
        );
    }
}
