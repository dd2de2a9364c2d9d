//! How much a company's quarters vary beyond what independent renewals explain.
//!
//! A sum of independent renewals narrows with the square root of their number, but
//! a company's quarters may move together (which accounts come due when, a market's
//! mood) or vary less than their segment's rates imply (outcomes that depend on the
//! account more than on chance). So each of the last decided quarters is forecast
//! from the year of closed renewals before it, as the forecast prices renewals —
//! expectation E and variance V of independent renewals at their segment's win rate
//! and renewed-to-due ratios — and its renewed ARR A is standardized,
//! z = (A − E) ÷ √V. Were renewals independent, z would be about standard normal;
//! the dispersion φ is the square of median |z| ÷ 0.6745 (a robust estimate of the
//! variance of z, which one odd quarter moves little: the quasi-likelihood
//! dispersion of a generalized linear model, read off the median), pooled with two
//! quarters at φ = 1 so that a short history moves the range a little and a long
//! one decides it. The forecast scales its range about the mean by √φ.

use std::collections::HashMap;

use chrono::{Datelike, Days, NaiveDate};
use tend_core::renewal::{Renewal, GRACE_DAYS};
use tend_core::Reporting;

use super::history::MIN_CLOSED;

/// Past quarters measured, at most (two years).
pub const QUARTERS: usize = 8;
/// Quarters at φ = 1 the measured ones are pooled with.
pub const PRIOR_QUARTERS: f64 = 2.0;
/// The median of |z| for a standard normal z.
const MEDIAN_ABS_NORMAL: f64 = 0.674_489_750_196_081_7;

/// The dispersion learned from past quarters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dispersion {
    /// The factor on the variance of independent renewals; 1 with nothing measured.
    pub phi: f64,
    /// Quarters measured.
    pub quarters: usize,
}

impl Default for Dispersion {
    fn default() -> Self {
        Dispersion {
            phi: 1.0,
            quarters: 0,
        }
    }
}

impl Dispersion {
    /// The factor on a range's distances from its mean.
    pub fn scale(&self) -> f64 {
        self.phi.sqrt()
    }
}

/// A quarter as a number: four a year.
fn quarter_of(day: NaiveDate) -> i32 {
    day.year() * 4 + day.month0() as i32 / 3
}

/// The day after the last of quarter `q`.
fn end_of(q: i32) -> NaiveDate {
    let next = q + 1;
    NaiveDate::from_ymd_opt(next.div_euclid(4), next.rem_euclid(4) as u32 * 3 + 1, 1)
        .expect("a quarter's first day")
}

/// Closed renewals of one segment in one quarter.
#[derive(Debug, Clone, Copy, Default)]
struct Closed {
    won: f64,
    lost: f64,
    /// Σ ratio and Σ ratio² of those won.
    ratio: f64,
    ratio_squared: f64,
}

impl Closed {
    /// Enough closed renewals to forecast from ([`MIN_CLOSED`]).
    fn enough(&self) -> bool {
        self.won + self.lost >= MIN_CLOSED as f64
    }

    fn add(&mut self, other: &Closed) {
        self.won += other.won;
        self.lost += other.lost;
        self.ratio += other.ratio;
        self.ratio_squared += other.ratio_squared;
    }

    /// Win rate, E[ratio] and E[ratio²], as [`super::history::Group`] gives them;
    /// `None` with nothing closed.
    fn moments(&self) -> Option<(f64, f64, f64)> {
        let closed = self.won + self.lost;
        if closed == 0.0 {
            return None;
        }
        let (m1, m2) = if self.won > 0.0 {
            (self.ratio / self.won, self.ratio_squared / self.won)
        } else {
            (1.0, 1.0)
        };
        Some((self.won / closed, m1, m2))
    }
}

/// Learns the dispersion on `day` from `renewals` as known then: the rates of each
/// quarter's year before come from all of them, the quarters measured are those of
/// the renewals `measured` keeps (the forecast's scope). Amounts convert at `day`.
pub fn learn<'a>(
    renewals: &'a [Renewal],
    measured: impl Fn(&Renewal) -> bool,
    segment_of: impl Fn(&str) -> Option<&'a str>,
    reporting: Reporting,
    day: NaiveDate,
) -> Dispersion {
    // Decided quarters: the grace after their last due day has passed.
    let mut last = quarter_of(day);
    while end_of(last) + Days::new(GRACE_DAYS) > day + Days::new(1) {
        last -= 1;
    }
    let first = last - QUARTERS as i32 + 1;
    // Closed renewals per (quarter, segment) over the measured quarters and the year
    // before the first.
    let mut closed: HashMap<(i32, Option<&str>), Closed> = HashMap::new();
    // Per measured quarter and renewal: its segment, ARR due and what it renewed for.
    let mut due: Vec<(i32, Option<&str>, f64, f64)> = Vec::new();
    for renewal in renewals {
        let q = quarter_of(renewal.due_on);
        if q < first - 4 || q > last {
            continue;
        }
        let Some(outcome) = &renewal.outcome else {
            continue;
        };
        let Some(value) = reporting.value(renewal.arr, day) else {
            continue;
        };
        let ratio = outcome.ratio(renewal.arr);
        let segment = segment_of(&renewal.account_id);
        let slot = closed.entry((q, segment)).or_default();
        if outcome.won {
            slot.won += 1.0;
            slot.ratio += ratio;
            slot.ratio_squared += ratio * ratio;
        } else {
            slot.lost += 1.0;
        }
        if q >= first && measured(renewal) {
            due.push((q, segment, value as f64, value as f64 * ratio));
        }
    }
    // The year before each measured quarter, per segment and for all.
    let mut before: HashMap<(i32, Option<&str>), Closed> = HashMap::new();
    let mut before_all: HashMap<i32, Closed> = HashMap::new();
    for (&(q, segment), c) in &closed {
        for measured in q + 1..=q + 4 {
            if (first..=last).contains(&measured) {
                before.entry((measured, segment)).or_default().add(c);
                before_all.entry(measured).or_default().add(c);
            }
        }
    }
    // (A, E, V) of each measured quarter.
    let mut quarters: HashMap<i32, (f64, f64, f64)> = HashMap::new();
    for (q, segment, value, renewed) in due {
        // A quarter whose year before is too thin to forecast from is not measured:
        // its error says more about the missing history than about the company.
        let Some(all) = before_all.get(&q).filter(|c| c.enough()) else {
            continue;
        };
        let group = before
            .get(&(q, segment))
            .filter(|c| c.enough())
            .unwrap_or(all);
        let Some((p, m1, m2)) = group.moments() else {
            continue;
        };
        let one = p * value * m1;
        let sums = quarters.entry(q).or_default();
        sums.0 += renewed;
        sums.1 += one;
        sums.2 += p * value * value * m2 - one * one;
    }
    let mut errors: Vec<f64> = quarters
        .values()
        .filter(|(_, _, v)| *v > 0.0)
        .map(|(a, e, v)| (a - e).abs() / v.sqrt())
        .collect();
    Dispersion::of(&mut errors)
}

impl Dispersion {
    /// From the standardized errors |z| of past quarters: the median |z| ÷ 0.6745
    /// (the median of a standard normal |z|) estimates the factor on the standard
    /// deviation robustly, one odd quarter moving it little; its square is pooled
    /// with [`PRIOR_QUARTERS`] at 1.
    fn of(errors: &mut [f64]) -> Dispersion {
        let k = errors.len();
        if k == 0 {
            return Dispersion::default();
        }
        errors.sort_by(f64::total_cmp);
        let median = if k % 2 == 1 {
            errors[k / 2]
        } else {
            (errors[k / 2 - 1] + errors[k / 2]) / 2.0
        };
        let measured = (median / MEDIAN_ABS_NORMAL).powi(2);
        Dispersion {
            phi: (k as f64 * measured + PRIOR_QUARTERS) / (k as f64 + PRIOR_QUARTERS),
            quarters: k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use tend_core::renewal::Outcome;
    use tend_core::{Currency, FxTable, Money};

    fn renewal(account: usize, due_on: NaiveDate, won: bool) -> Renewal {
        Renewal {
            account_id: format!("a{account}"),
            product: "core".into(),
            due_on,
            arr: Money::new(100_000, Currency::USD),
            contracts: vec![],
            auto_renew: false,
            notice_deadline: due_on,
            milestones: [due_on; 4],
            outcome: Some(Outcome {
                won,
                renewed_arr: Money::new(if won { 100_000 } else { 0 }, Currency::USD),
                new_term: None,
            }),
        }
    }

    /// Twelve quarters of 400 renewals each, won as `won(quarter, i)` says, and the
    /// dispersion learned at the end of the last.
    fn learned(mut won: impl FnMut(usize, usize) -> bool) -> Dispersion {
        let mut renewals = Vec::new();
        for quarter in 0..12 {
            let first =
                NaiveDate::from_ymd_opt(2023 + quarter as i32 / 4, 1 + 3 * (quarter as u32 % 4), 1)
                    .unwrap();
            for i in 0..400 {
                let due = first + Days::new((i % 80) as u64);
                renewals.push(renewal(i, due, won(quarter, i)));
            }
        }
        let rates = FxTable::new(&[]);
        let reporting = Reporting {
            currency: Currency::USD,
            rates: &rates,
        };
        // The grace after 2025-12-31 has passed.
        let day = NaiveDate::from_ymd_opt(2026, 2, 15).unwrap();
        learn(&renewals, |_| true, |_| None, reporting, day)
    }

    #[test]
    fn independent_renewals_measure_about_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let draws: Vec<bool> = (0..12 * 400).map(|_| rng.random_bool(0.8)).collect();
        let d = learned(|q, i| draws[q * 400 + i]);
        assert_eq!(d.quarters, QUARTERS);
        assert!((0.4..2.0).contains(&d.phi), "{d:?}");
    }

    #[test]
    fn quarters_that_move_together_widen_and_steady_ones_narrow() {
        // Every other quarter renews 70%, the rest 90%: far beyond the binomial.
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let swinging = learned(|q, _| rng.random_bool(if q % 2 == 0 { 0.7 } else { 0.9 }));
        assert!(swinging.phi > 10.0, "{swinging:?}");
        assert!(swinging.scale() > 3.0);
        // Exactly four in five renew each quarter: less than the binomial.
        let steady = learned(|_, i| i % 5 != 0);
        assert!(steady.phi < 0.25, "{steady:?}");
        assert!(steady.phi >= PRIOR_QUARTERS / (QUARTERS as f64 + PRIOR_QUARTERS));
    }

    #[test]
    fn with_no_decided_quarter_the_range_is_left_as_drawn() {
        let rates = FxTable::new(&[]);
        let reporting = Reporting {
            currency: Currency::USD,
            rates: &rates,
        };
        let day = NaiveDate::from_ymd_opt(2026, 2, 15).unwrap();
        let d = learn(&[], |_| true, |_| None, reporting, day);
        assert_eq!(d, Dispersion::default());
        assert_eq!(d.scale(), 1.0);
    }

    #[test]
    fn quarters_count_four_a_year_and_end_the_next_day() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(quarter_of(d(2026, 3, 31)) + 1, quarter_of(d(2026, 4, 1)));
        assert_eq!(end_of(quarter_of(d(2026, 11, 5))), d(2027, 1, 1));
        assert_eq!(end_of(quarter_of(d(2026, 1, 1))), d(2026, 4, 1));
    }
}
