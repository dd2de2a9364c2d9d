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

/// A calendar month, quarter or year, as people name them: `2027-03`, `2027-Q1`,
/// `2027`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CalendarPeriod {
    pub kind: CalendarKind,
    /// The first day.
    pub start: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarKind {
    Month,
    Quarter,
    Year,
}

impl CalendarKind {
    fn months(self) -> u32 {
        match self {
            CalendarKind::Month => 1,
            CalendarKind::Quarter => 3,
            CalendarKind::Year => 12,
        }
    }

    pub fn parse(text: &str) -> Option<CalendarKind> {
        match text {
            "month" => Some(CalendarKind::Month),
            "quarter" => Some(CalendarKind::Quarter),
            "year" => Some(CalendarKind::Year),
            _ => None,
        }
    }
}

impl CalendarPeriod {
    /// The period of `kind` that holds `day`.
    pub fn containing(kind: CalendarKind, day: NaiveDate) -> CalendarPeriod {
        let month = match kind {
            CalendarKind::Month => day.month(),
            CalendarKind::Quarter => day.month0() / 3 * 3 + 1,
            CalendarKind::Year => 1,
        };
        CalendarPeriod {
            kind,
            start: NaiveDate::from_ymd_opt(day.year(), month, 1).expect("a first of the month"),
        }
    }

    /// `2027-03`, `2027-Q1` or `2027`; the message says what was expected.
    pub fn parse(text: &str) -> Result<CalendarPeriod, String> {
        let expected =
            || format!("{text:?} is not a month (2027-03), quarter (2027-Q1) or year (2027)");
        let year = |t: &str| {
            (t.len() == 4)
                .then(|| t.parse::<i32>().ok())
                .flatten()
                .filter(|y| *y >= 1900)
                .ok_or_else(expected)
        };
        let first = |y: i32, m: u32, kind| CalendarPeriod {
            kind,
            start: NaiveDate::from_ymd_opt(y, m, 1).expect("a first of the month"),
        };
        match text.split_once('-') {
            None => Ok(first(year(text)?, 1, CalendarKind::Year)),
            Some((y, q)) if q.len() == 2 && q.starts_with(['Q', 'q']) => {
                match q[1..].parse::<u32>() {
                    Ok(n @ 1..=4) => Ok(first(year(y)?, (n - 1) * 3 + 1, CalendarKind::Quarter)),
                    _ => Err(expected()),
                }
            }
            Some((y, m)) if m.len() == 2 => match m.parse::<u32>() {
                Ok(n @ 1..=12) => Ok(first(year(y)?, n, CalendarKind::Month)),
                _ => Err(expected()),
            },
            Some(_) => Err(expected()),
        }
    }

    /// The one after it, of the same kind.
    pub fn next(self) -> CalendarPeriod {
        CalendarPeriod {
            kind: self.kind,
            start: self.period().end,
        }
    }

    /// The one before it, of the same kind.
    pub fn previous(self) -> CalendarPeriod {
        CalendarPeriod {
            kind: self.kind,
            start: self.start - Months::new(self.kind.months()),
        }
    }

    pub fn period(self) -> Period {
        Period::new(self.start, self.start + Months::new(self.kind.months()))
    }

    /// As [`CalendarPeriod::parse`] reads it.
    pub fn label(self) -> String {
        match self.kind {
            CalendarKind::Month => self.start.format("%Y-%m").to_string(),
            CalendarKind::Quarter => {
                format!("{}-Q{}", self.start.year(), self.start.month0() / 3 + 1)
            }
            CalendarKind::Year => self.start.year().to_string(),
        }
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

    #[test]
    fn calendar_periods_parse_label_and_follow_each_other() {
        let q = CalendarPeriod::parse("2027-Q4").unwrap();
        assert_eq!(q.period(), Period::new(d(2027, 10, 1), d(2028, 1, 1)));
        assert_eq!(q.next().label(), "2028-Q1");
        assert_eq!(q.previous().label(), "2027-Q3");
        assert_eq!(
            CalendarPeriod::parse("2027-02").unwrap().period().end,
            d(2027, 3, 1)
        );
        assert_eq!(
            CalendarPeriod::parse("2027").unwrap().next().label(),
            "2028"
        );
        for bad in ["2027-Q5", "2027-13", "27", "2027-1", "Q1", "2027-Q1x", ""] {
            assert!(CalendarPeriod::parse(bad).is_err(), "{bad}");
        }
        let held = CalendarPeriod::containing(CalendarKind::Quarter, d(2027, 5, 17));
        assert_eq!(held.label(), "2027-Q2");
    }
}
