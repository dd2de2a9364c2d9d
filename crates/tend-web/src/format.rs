//! Numbers, money and days as the pages write them.

use chrono::NaiveDate;
use tend_core::Money;

/// A score with one decimal, or an en dash when there is none.
pub fn score(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

/// A change in points with its sign: `+3.2`, `−4.0`; an en dash when unknown.
pub fn delta(value: Option<f64>) -> String {
    match value {
        None => "–".to_string(),
        Some(v) if v < 0.0 => format!("−{:.1}", -v),
        Some(v) => format!("+{v:.1}"),
    }
}

/// A share (0–1) as a whole percentage.
pub fn percent(value: f64) -> String {
    format!("{:.0}%", value * 100.0)
}

/// Money in whole units: `USD 120,000`.
pub fn money(value: &Money) -> String {
    value.whole()
}

/// Every amount of a list of per-currency amounts, joined; an en dash for none.
pub fn moneys(values: &[Money]) -> String {
    if values.is_empty() {
        return "–".to_string();
    }
    values.iter().map(money).collect::<Vec<_>>().join(" + ")
}

/// A day as `2026-06-30`.
pub fn day(value: NaiveDate) -> String {
    value.format("%Y-%m-%d").to_string()
}

/// How far `value` is from `today` in words: "today", "in 3 days", "5 days ago".
pub fn days_from(value: NaiveDate, today: NaiveDate) -> String {
    let days = (value - today).num_days();
    match days {
        0 => "today".to_string(),
        1 => "tomorrow".to_string(),
        -1 => "yesterday".to_string(),
        d if d > 0 => format!("in {d} days"),
        d => format!("{} days ago", -d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_carry_a_real_minus_sign() {
        assert_eq!(delta(Some(-4.04)), "−4.0");
        assert_eq!(delta(Some(3.25)), "+3.2");
        assert_eq!(delta(None), "–");
    }

    #[test]
    fn days_read_in_words() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        assert_eq!(days_from(today, today), "today");
        assert_eq!(days_from(today + chrono::Days::new(3), today), "in 3 days");
        assert_eq!(days_from(today - chrono::Days::new(5), today), "5 days ago");
    }
}
