//! Exchange rates and conversion into one reporting currency.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::money::{Currency, Money};

/// One unit of `currency` is worth `rate` units of `base` from `date` on.
#[derive(Debug, Clone, PartialEq)]
pub struct FxRate {
    pub date: NaiveDate,
    pub currency: Currency,
    pub base: Currency,
    pub rate: f64,
}

/// Rates by currency pair, each pair's rates in date order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FxTable {
    pairs: BTreeMap<(Currency, Currency), Vec<(NaiveDate, f64)>>,
    bases: BTreeSet<Currency>,
}

impl FxTable {
    pub fn new(rates: &[FxRate]) -> FxTable {
        let mut table = FxTable::default();
        for r in rates {
            table
                .pairs
                .entry((r.currency, r.base))
                .or_default()
                .push((r.date, r.rate));
            table.bases.insert(r.base);
        }
        for list in table.pairs.values_mut() {
            list.sort_by_key(|&(date, _)| date);
        }
        table
    }

    /// The rate of a stored pair in force on `day`: the latest dated on or before
    /// it, or, before the first one, the first.
    fn stored(&self, currency: Currency, base: Currency, day: NaiveDate) -> Option<f64> {
        let list = self.pairs.get(&(currency, base))?;
        let after = list.partition_point(|&(date, _)| date <= day);
        list.get(after.saturating_sub(1)).map(|&(_, rate)| rate)
    }

    /// Units of `to` one unit of `from` is worth on `day`: from a rate of the pair,
    /// its inverse, or two rates against a common base.
    pub fn rate(&self, from: Currency, to: Currency, day: NaiveDate) -> Option<f64> {
        if from == to {
            return Some(1.0);
        }
        if let Some(rate) = self.stored(from, to, day) {
            return Some(rate);
        }
        if let Some(rate) = self.stored(to, from, day) {
            return Some(1.0 / rate);
        }
        self.bases.iter().find_map(|&base| {
            let from_base = self.via(from, base, day)?;
            let to_base = self.via(to, base, day)?;
            Some(from_base / to_base)
        })
    }

    /// `currency` in `base` from a stored rate, its inverse, or 1 for the base itself.
    fn via(&self, currency: Currency, base: Currency, day: NaiveDate) -> Option<f64> {
        if currency == base {
            return Some(1.0);
        }
        self.stored(currency, base, day)
            .or_else(|| self.stored(base, currency, day).map(|r| 1.0 / r))
    }

    /// `money` in minor units of `to` at the rate of `day`, rounded to the nearest
    /// minor unit; `None` without a rate.
    pub fn convert(&self, money: Money, to: Currency, day: NaiveDate) -> Option<i64> {
        if money.currency == to {
            return Some(money.minor);
        }
        let rate = self.rate(money.currency, to, day)?;
        let digits = to.minor_digits() as i32 - money.currency.minor_digits() as i32;
        Some((money.minor as f64 * rate * 10f64.powi(digits)).round() as i64)
    }
}

/// The currency money is reported in and the rates that convert into it. Amounts
/// that cannot be converted are left out of sums and kept, per currency, in
/// [`LeftOut`].
#[derive(Debug, Clone, Copy)]
pub struct Reporting<'a> {
    pub currency: Currency,
    pub rates: &'a FxTable,
}

impl Reporting<'_> {
    /// `money` in the reporting currency at the rate of `day`.
    pub fn value(&self, money: Money, day: NaiveDate) -> Option<i64> {
        self.rates.convert(money, self.currency, day)
    }
}

/// Amounts left out of a figure for want of an exchange rate, in their own currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftOut(pub BTreeMap<Currency, i64>);

impl LeftOut {
    pub fn add(&mut self, money: Money) {
        *self.0.entry(money.currency).or_default() += money.minor;
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn merge(&mut self, other: &LeftOut) {
        for (&currency, &minor) in &other.0 {
            *self.0.entry(currency).or_default() += minor;
        }
    }

    pub fn amounts(&self) -> impl Iterator<Item = Money> + '_ {
        self.0.iter().map(|(&c, &m)| Money::new(m, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn rate(date: NaiveDate, currency: &str, base: &str, rate: f64) -> FxRate {
        FxRate {
            date,
            currency: c(currency),
            base: c(base),
            rate,
        }
    }

    #[test]
    fn the_rate_in_force_on_each_day_is_used() {
        let table = FxTable::new(&[
            rate(d(3, 1), "EUR", "USD", 1.10),
            rate(d(1, 1), "EUR", "USD", 1.05),
        ]);
        assert_eq!(table.rate(c("EUR"), c("USD"), d(2, 15)), Some(1.05));
        assert_eq!(table.rate(c("EUR"), c("USD"), d(3, 1)), Some(1.10));
        assert_eq!(
            table.rate(
                c("EUR"),
                c("USD"),
                NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
            ),
            Some(1.05),
            "before the first rate, the first"
        );
        assert_eq!(table.rate(c("USD"), c("EUR"), d(3, 2)), Some(1.0 / 1.10));
        assert_eq!(table.rate(c("GBP"), c("USD"), d(3, 2)), None);
    }

    #[test]
    fn conversion_goes_through_a_common_base_and_minor_units() {
        let table = FxTable::new(&[
            rate(d(1, 1), "EUR", "USD", 1.10),
            rate(d(1, 1), "JPY", "USD", 0.0065),
        ]);
        let eur = Money::new(100_000, c("EUR")); // EUR 1,000.00
                                                 // EUR → JPY through USD: 1,000 × 1.10 / 0.0065 = 169,230.77 → JPY 169,231.
        assert_eq!(table.convert(eur, c("JPY"), d(2, 1)), Some(169_231));
        let yen = Money::new(1_000_000, c("JPY"));
        assert_eq!(table.convert(yen, c("USD"), d(2, 1)), Some(650_000));
        assert_eq!(table.convert(eur, c("EUR"), d(2, 1)), Some(100_000));
    }
}
