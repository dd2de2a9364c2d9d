//! Expansion signals: seats used up to or beyond the licence, usage growing, and
//! modules used but not licensed, read from an account's own data on a day. The
//! thresholds and the modules are configured (`expansion.toml`).

use chrono::{Days, NaiveDate};
use serde::Deserialize;

use crate::health::measures::main_product;
use crate::health::scorecard::KeyFeature;
use crate::health::{measure, AccountFacts, Context, FilePath};
use crate::model::SignalKind;
use crate::money::Money;

/// The shipped expansion settings.
pub const DEFAULT_EXPANSION: &str = include_str!("expansion.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpansionConfig {
    pub high_utilization: f64,
    pub target_utilization: f64,
    pub usage_growth: f64,
    pub module_min_events: i64,
    #[serde(default, rename = "module")]
    pub modules: Vec<Module>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ModuleConfig")]
pub struct Module {
    pub product: String,
    pub events: KeyFeature,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleConfig {
    product: String,
    events: Vec<String>,
}

impl From<ModuleConfig> for Module {
    fn from(config: ModuleConfig) -> Module {
        Module {
            events: KeyFeature::new(config.product.clone(), config.events),
            product: config.product,
        }
    }
}

/// A mistake in an expansion file, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{problem}")]
pub struct ExpansionError {
    pub problem: String,
    pub at: FilePath,
}

impl ExpansionConfig {
    /// Checks what parsing cannot: shares in range, modules named with events.
    pub fn validate(&self) -> Result<(), ExpansionError> {
        let at = FilePath::default();
        let fail = |at: FilePath, problem: String| Err(ExpansionError { problem, at });
        for (key, value) in [
            ("high_utilization", self.high_utilization),
            ("target_utilization", self.target_utilization),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return fail(
                    at.key(key),
                    format!("{key} {value} is not above 0 and at most 1"),
                );
            }
        }
        if !(self.usage_growth > 0.0 && self.usage_growth.is_finite()) {
            return fail(
                at.key("usage_growth"),
                format!("usage_growth {} is not above 0", self.usage_growth),
            );
        }
        if self.module_min_events < 1 {
            return fail(
                at.key("module_min_events"),
                format!(
                    "module_min_events {} is not at least 1",
                    self.module_min_events
                ),
            );
        }
        for (i, module) in self.modules.iter().enumerate() {
            let here = at.key("module").index(i);
            if module.product.trim().is_empty() {
                return fail(here.key("product"), "a module needs a product name".into());
            }
            if module.events.events.is_empty() {
                return fail(
                    here.key("events"),
                    format!("module {:?} lists no events", module.product),
                );
            }
        }
        Ok(())
    }
}

/// A signal with its product, its reading in words and, where the data gives one,
/// an estimate of the ARR it could add (in the contracts' currency).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpansionSignal {
    pub kind: SignalKind,
    pub product: String,
    pub words: String,
    pub estimated_arr: Option<Money>,
}

/// The account's expansion signals on `day`, over the 30 days ending that day.
pub fn expansion_signals(
    facts: &AccountFacts,
    day: NaiveDate,
    config: &ExpansionConfig,
) -> Vec<ExpansionSignal> {
    let mut signals = Vec::new();
    if let Some(product) = main_product(facts.contracts, day) {
        signals.extend(seat_signal(facts, day, product, config));
        let ctx = Context {
            day,
            window: 30,
            key_features: &[],
            seat_product: None,
        };
        let trend = measure("usage_trend")
            .expect("a known measure")
            .value(facts, &ctx);
        if let Some(change) = trend.filter(|&c| c >= config.usage_growth) {
            signals.push(ExpansionSignal {
                kind: SignalKind::UsageGrowth,
                product: product.to_string(),
                words: format!(
                    "product use grew by {:.0}% over the 30 days before",
                    change * 100.0
                ),
                estimated_arr: None,
            });
        }
    }
    let first = day.checked_sub_days(Days::new(29)).unwrap_or(day);
    for module in &config.modules {
        let held = facts
            .contracts
            .iter()
            .any(|c| c.is_held_on(day) && c.product.eq_ignore_ascii_case(&module.product));
        if held {
            continue;
        }
        let events: i64 = facts
            .usage
            .iter()
            .filter(|u| u.day >= first && u.day <= day)
            .flat_map(|u| &u.feature_events)
            .filter(|(event, _)| module.events.matches(event))
            .map(|(_, count)| count)
            .sum();
        if events >= config.module_min_events {
            signals.push(ExpansionSignal {
                kind: SignalKind::UnlicensedModule,
                product: module.product.clone(),
                words: format!(
                    "{events} events of {} in 30 days without a licence for it",
                    module.product
                ),
                estimated_arr: None,
            });
        }
    }
    signals
}

/// High utilization or seats over licence of the main product, with the seats that
/// bring utilization back to the target priced at what the account pays per seat.
fn seat_signal(
    facts: &AccountFacts,
    day: NaiveDate,
    product: &str,
    config: &ExpansionConfig,
) -> Option<ExpansionSignal> {
    let terms: Vec<_> = facts
        .contracts
        .iter()
        .filter(|c| c.is_held_on(day) && c.product == product)
        .collect();
    let seats: i64 = terms.iter().map(|c| c.seats).sum();
    let first = day.checked_sub_days(Days::new(29)).unwrap_or(day);
    let users = facts
        .usage
        .iter()
        .rev()
        .find(|u| u.day >= first && u.day <= day)
        .map_or(0, |u| u.active_users_30d);
    if seats <= 0 {
        return None;
    }
    let utilization = users as f64 / seats as f64;
    if utilization < config.high_utilization {
        return None;
    }
    let kind = if users > seats {
        SignalKind::SeatsOverLicence
    } else {
        SignalKind::HighUtilization
    };
    let needed = ((users as f64 / config.target_utilization).ceil() as i64 - seats).max(1);
    // An estimate only where every term is in one currency.
    let currency = terms[0].arr.currency;
    let estimated_arr = terms.iter().all(|c| c.arr.currency == currency).then(|| {
        let arr: i64 = terms.iter().map(|c| c.arr.minor).sum();
        Money::new(
            (arr as f64 / seats as f64 * needed as f64).round() as i64,
            currency,
        )
    });
    Some(ExpansionSignal {
        kind,
        product: product.to_string(),
        words: format!(
            "{users} active users on {seats} seats ({:.0}%); {needed} more seats bring it to {:.0}%",
            utilization * 100.0,
            config.target_utilization * 100.0
        ),
        estimated_arr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_settings_are_valid_and_name_no_module() {
        let config: ExpansionConfig = toml::from_str(DEFAULT_EXPANSION).unwrap();
        config.validate().unwrap();
        assert!(config.modules.is_empty());
    }

    #[test]
    fn a_module_without_events_is_refused_where_it_is() {
        let text = "high_utilization = 0.9\ntarget_utilization = 0.8\nusage_growth = 0.3\n\
                    module_min_events = 10\n[[module]]\nproduct = \"Insights\"\nevents = []\n";
        let config: ExpansionConfig = toml::from_str(text).unwrap();
        let error = config.validate().unwrap_err();
        assert_eq!(error.problem, "module \"Insights\" lists no events");
        use crate::health::PathStep::{Index, Key};
        assert_eq!(
            error.at.0,
            vec![Key("module".into()), Index(0), Key("events".into())]
        );
    }
}
