//! Money in integer minor units with an ISO 4217 currency code. Never floating point.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO 4217 code such as USD, got {0:?}")]
    BadCurrency(String),
    #[error("cannot combine {0} and {1} amounts")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount overflows 64-bit minor units")]
    Overflow,
}

/// A three-letter upper-case currency code such as `USD`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    /// Accepts three ASCII letters in any case and stores them upper-case.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let bytes = code.trim().as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(MoneyError::BadCurrency(code.to_string()));
        }
        let mut upper = [0u8; 3];
        for (slot, byte) in upper.iter_mut().zip(bytes) {
            *slot = byte.to_ascii_uppercase();
        }
        Ok(Currency(upper))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }

    /// Digits of the minor unit: 2 for USD (cents), 0 for JPY, 3 for KWD; 2 for a
    /// code ISO 4217 does not list.
    pub fn minor_digits(&self) -> u32 {
        iso_currency::Currency::from_code(self.as_str())
            .and_then(|c| c.exponent())
            .map_or(2, u32::from)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units (cents for USD) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(minor, self.currency))
    }

    /// Major units as a float, for display and ratios only.
    pub fn major(&self) -> f64 {
        self.minor as f64 / 10f64.powi(self.currency.minor_digits() as i32)
    }

    /// Whole major units, rounded down in magnitude, as `USD 1,234,567`.
    pub fn whole(&self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let unit = 10u64.pow(self.currency.minor_digits());
        format!(
            "{} {sign}{}",
            self.currency,
            group_thousands(self.minor.unsigned_abs() / unit)
        )
    }
}

impl fmt::Display for Money {
    /// Formats as `USD 1,234,567.89` (`JPY 1,234,567` for a currency without a minor
    /// unit).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let digits = self.currency.minor_digits();
        let unit = 10u64.pow(digits);
        let (whole, fraction) = (abs / unit, abs % unit);
        write!(f, "{} {sign}{}", self.currency, group_thousands(whole))?;
        if digits > 0 {
            write!(f, ".{fraction:0width$}", width = digits as usize)?;
        }
        Ok(())
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_is_validated_and_upper_cased() {
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("U$D").is_err());
        assert!(Currency::parse("").is_err());
    }

    #[test]
    fn adding_different_currencies_is_an_error() {
        let usd = Money::new(100, Currency::USD);
        let eur = Money::new(100, Currency::parse("EUR").unwrap());
        assert_eq!(usd.checked_add(usd).unwrap().minor, 200);
        assert!(matches!(
            usd.checked_add(eur),
            Err(MoneyError::CurrencyMismatch(..))
        ));
        assert_eq!(
            Money::new(i64::MAX, Currency::USD).checked_add(usd),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn display_groups_thousands() {
        assert_eq!(
            Money::new(123456789, Currency::USD).to_string(),
            "USD 1,234,567.89"
        );
        assert_eq!(Money::new(-5, Currency::USD).to_string(), "USD -0.05");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::new(1234567, jpy).to_string(), "JPY 1,234,567");
        assert_eq!(Money::new(1234567, jpy).whole(), "JPY 1,234,567");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::new(1234567, kwd).to_string(), "KWD 1,234.567");
        assert_eq!(
            Money::new(123456789, Currency::USD).whole(),
            "USD 1,234,567"
        );
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
    }
}
