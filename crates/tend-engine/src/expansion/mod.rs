//! Expansion: the whitespace of the portfolio, the signals in accounts' own data,
//! the opportunities account managers track, and the expansion ARR booked on
//! contracts with the opportunities it is attributed to. The signals' settings come
//! from an expansion file (TOML), validated like scorecards.

pub mod opportunities;
pub mod report;
pub mod signals;
pub mod whitespace;

use std::path::Path;

use tend_core::expansion::{ExpansionConfig, DEFAULT_EXPANSION};

use crate::health::config::{load_settings, parse_settings, SettingsFileError};

/// An expansion file that cannot be used.
pub type ExpansionFileError = SettingsFileError;

/// Parses and validates an expansion file; `origin` names it in errors, with the
/// line of the mistake.
pub fn parse_expansion(text: &str, origin: &str) -> Result<ExpansionConfig, ExpansionFileError> {
    parse_settings(text, origin, |c: &ExpansionConfig| {
        c.validate().map_err(|e| (e.problem, e.at))
    })
}

/// The expansion settings of `path`, or the shipped ones.
pub fn load_expansion(path: Option<&Path>) -> Result<ExpansionConfig, ExpansionFileError> {
    load_settings(
        path,
        (DEFAULT_EXPANSION, "the shipped expansion settings"),
        parse_expansion,
    )
}

/// The contracts, and the reporting currency on `day` (the one with the most ARR)
/// with the rates that convert into it.
pub(crate) async fn contracts_and_money(
    store: &tend_store::Store,
    day: chrono::NaiveDate,
) -> Result<(Vec<tend_core::Contract>, crate::risk::rows::Money), crate::AppError> {
    let contracts = store.contracts().await?;
    let rates = tend_core::FxTable::new(&store.fx_rates().await?);
    let money = crate::risk::rows::Money::main(rates, &contracts, day);
    Ok((contracts, money))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistake_in_an_expansion_file_names_its_line() {
        let text = "high_utilization = 0.9\ntarget_utilization = 1.5\nusage_growth = 0.3\n\
                    module_min_events = 10\n";
        let error = parse_expansion(text, "expansion.toml").unwrap_err();
        assert_eq!(
            error.to_string(),
            "expansion.toml, line 2: target_utilization 1.5 is not above 0 and at most 1"
        );
        let error = parse_expansion("high_utilization = 0.9\n", "x.toml").unwrap_err();
        assert!(error.to_string().starts_with("x.toml"), "{error}");
        load_expansion(None).unwrap();
    }
}
