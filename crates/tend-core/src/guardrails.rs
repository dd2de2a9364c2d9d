//! Negotiation guardrails: what an account manager may agree alone (discount, term
//! length, payment terms, a price floor per product), what needs sales leadership
//! (pricing beyond those limits) and what needs the CRO (strategic deals: ARR above a
//! threshold, terms longer than a number of years, non-standard terms). Written as
//! TOML by the company; [`Guardrails::check`] says of a proposal whether it is within
//! them and, if not, who must approve it and why, in words.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::health::FilePath;
use crate::money::{Currency, Money};

/// The guardrails tend ships: a starting point for a company to edit.
pub const DEFAULT_GUARDRAILS: &str = include_str!("guardrails.toml");

/// Who approves a proposal beyond an account manager's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Pricing beyond the account manager's limits.
    SalesLeadership,
    /// Strategic deals.
    Cro,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::SalesLeadership => "sales_leadership",
            Route::Cro => "cro",
        }
    }

    pub fn parse(text: &str) -> Option<Route> {
        match text {
            "sales_leadership" => Some(Route::SalesLeadership),
            "cro" => Some(Route::Cro),
            _ => None,
        }
    }

    /// How a sentence names it.
    pub fn words(self) -> &'static str {
        match self {
            Route::SalesLeadership => "sales leadership",
            Route::Cro => "the CRO",
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The guardrails file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Guardrails {
    /// The currency of the ARR threshold and the price floors.
    pub currency: String,
    pub account_manager: AccountManagerLimits,
    pub sales_leadership: SalesLeadership,
    pub cro: Cro,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AccountManagerLimits {
    /// The largest discount off list price agreed alone, in percent.
    pub max_discount_percent: f64,
    /// The longest term agreed alone, in months.
    pub max_term_months: u32,
    /// The payment terms agreed alone.
    pub payment_terms: Vec<String>,
    /// The lowest net price per seat and year of each product, in minor units of
    /// the guardrails' currency; products not listed have no floor.
    #[serde(default)]
    pub price_floor: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SalesLeadership {
    /// The largest discount sales leadership approves; beyond it the CRO does.
    pub max_discount_percent: f64,
    /// Leaders (handles) who approve for sales leadership; empty: any leader.
    #[serde(default)]
    pub approvers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Cro {
    /// Deals above this ARR (minor units of the guardrails' currency) are strategic.
    pub arr_above: i64,
    /// Terms longer than this many years are strategic.
    pub term_years_above: u32,
    /// Non-standard terms make a deal strategic (else sales leadership approves them).
    #[serde(default = "yes")]
    pub non_standard_terms: bool,
    /// Leaders (handles) who approve for the CRO; empty: any leader.
    #[serde(default)]
    pub approvers: Vec<String>,
}

fn yes() -> bool {
    true
}

/// A mistake in a guardrails file, with where it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{problem}")]
pub struct GuardrailsError {
    pub problem: String,
    pub at: FilePath,
}

/// What a proposal asks for, as the guardrails see it: amounts already in the
/// guardrails' currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Terms<'a> {
    /// Each line's product and net price per seat and year.
    pub lines: Vec<(&'a str, i64)>,
    pub discount_percent: f64,
    pub term_months: u32,
    pub payment_terms: &'a str,
    /// The ARR of the proposal.
    pub arr: i64,
    pub non_standard_terms: Option<&'a str>,
}

/// One limit a proposal goes beyond.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    /// The rule: `discount`, `term`, `payment_terms`, `price_floor`, `arr`,
    /// `non_standard_terms`.
    pub rule: String,
    pub route: Route,
    /// In words, e.g. "discount 18% exceeds the 10% limit".
    pub reason: String,
}

/// What the guardrails say of a proposal: within them (no breach), or the breaches
/// and the highest approver they need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub breaches: Vec<Breach>,
}

impl Verdict {
    /// Who must approve: the CRO when any breach needs the CRO, else sales
    /// leadership; `None` within guidelines.
    pub fn route(&self) -> Option<Route> {
        self.breaches.iter().map(|b| b.route).max()
    }
}

fn percent(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string() + "%"
}

impl Guardrails {
    pub fn currency(&self) -> Currency {
        Currency::parse(&self.currency).expect("validated")
    }

    /// Checks what parsing cannot: a currency, percentages, limits that rise from
    /// the account manager's to sales leadership's, positive amounts.
    pub fn validate(&self) -> Result<(), GuardrailsError> {
        let at = FilePath::default();
        let fail = |at: FilePath, problem: String| Err(GuardrailsError { problem, at });
        if Currency::parse(&self.currency).is_err() {
            return fail(
                at.key("currency"),
                format!("currency {:?} is not an ISO 4217 code", self.currency),
            );
        }
        let am = at.key("account_manager");
        for (path, value) in [
            (
                am.key("max_discount_percent"),
                self.account_manager.max_discount_percent,
            ),
            (
                at.key("sales_leadership").key("max_discount_percent"),
                self.sales_leadership.max_discount_percent,
            ),
        ] {
            if !(0.0..=100.0).contains(&value) {
                return fail(
                    path,
                    format!("max_discount_percent {value} is not between 0 and 100"),
                );
            }
        }
        if self.sales_leadership.max_discount_percent < self.account_manager.max_discount_percent {
            return fail(
                at.key("sales_leadership").key("max_discount_percent"),
                format!(
                    "sales leadership's limit ({}) is below the account manager's ({})",
                    percent(self.sales_leadership.max_discount_percent),
                    percent(self.account_manager.max_discount_percent)
                ),
            );
        }
        if self.account_manager.max_term_months == 0 {
            return fail(
                am.key("max_term_months"),
                "max_term_months must be at least 1".into(),
            );
        }
        if self.account_manager.payment_terms.is_empty() {
            return fail(
                am.key("payment_terms"),
                "payment_terms must list the terms an account manager agrees alone".into(),
            );
        }
        for (product, floor) in &self.account_manager.price_floor {
            if *floor < 0 {
                return fail(
                    am.key("price_floor").key(product),
                    format!("the price floor of {product:?} is negative"),
                );
            }
        }
        if self.cro.arr_above <= 0 {
            return fail(
                at.key("cro").key("arr_above"),
                "arr_above must be positive".into(),
            );
        }
        if self.cro.term_years_above == 0 {
            return fail(
                at.key("cro").key("term_years_above"),
                "term_years_above must be at least 1".into(),
            );
        }
        Ok(())
    }

    /// The approvers of `route` (empty: any leader).
    pub fn approvers(&self, route: Route) -> &[String] {
        match route {
            Route::SalesLeadership => &self.sales_leadership.approvers,
            Route::Cro => &self.cro.approvers,
        }
    }

    /// Every limit `terms` goes beyond, in the order the rules are listed.
    pub fn check(&self, terms: &Terms) -> Verdict {
        let am = &self.account_manager;
        let currency = self.currency();
        let money = |minor: i64| Money::new(minor, currency).to_string();
        let mut breaches = Vec::new();
        let mut breach = |rule: &str, route, reason: String| {
            breaches.push(Breach {
                rule: rule.to_string(),
                route,
                reason,
            })
        };
        if terms.discount_percent > self.sales_leadership.max_discount_percent {
            breach(
                "discount",
                Route::Cro,
                format!(
                    "discount {} exceeds sales leadership's {} limit",
                    percent(terms.discount_percent),
                    percent(self.sales_leadership.max_discount_percent)
                ),
            );
        } else if terms.discount_percent > am.max_discount_percent {
            breach(
                "discount",
                Route::SalesLeadership,
                format!(
                    "discount {} exceeds the {} limit",
                    percent(terms.discount_percent),
                    percent(am.max_discount_percent)
                ),
            );
        }
        for (product, net) in &terms.lines {
            if let Some(&floor) = am.price_floor.get(*product) {
                if *net < floor {
                    breach(
                        "price_floor",
                        Route::SalesLeadership,
                        format!(
                            "{product} at {} a seat a year is below its floor of {}",
                            money(*net),
                            money(floor)
                        ),
                    );
                }
            }
        }
        if !am.payment_terms.iter().any(|t| t == terms.payment_terms) {
            breach(
                "payment_terms",
                Route::SalesLeadership,
                format!(
                    "payment terms {:?} are not among those agreed alone ({})",
                    terms.payment_terms,
                    am.payment_terms.join(", ")
                ),
            );
        }
        let strategic_months = self.cro.term_years_above * 12;
        if terms.term_months > strategic_months {
            breach(
                "term",
                Route::Cro,
                format!(
                    "a {}-month term is longer than {} years",
                    terms.term_months, self.cro.term_years_above
                ),
            );
        } else if terms.term_months > am.max_term_months {
            breach(
                "term",
                Route::SalesLeadership,
                format!(
                    "a {}-month term exceeds the {}-month limit",
                    terms.term_months, am.max_term_months
                ),
            );
        }
        if terms.arr > self.cro.arr_above {
            breach(
                "arr",
                Route::Cro,
                format!(
                    "ARR {} is above the strategic threshold of {}",
                    money(terms.arr),
                    money(self.cro.arr_above)
                ),
            );
        }
        if let Some(text) = terms.non_standard_terms {
            let route = if self.cro.non_standard_terms {
                Route::Cro
            } else {
                Route::SalesLeadership
            };
            breach(
                "non_standard_terms",
                route,
                format!("non-standard terms: {text}"),
            );
        }
        Verdict { breaches }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Guardrails {
        let g: Guardrails = toml::from_str(DEFAULT_GUARDRAILS).unwrap();
        g.validate().unwrap();
        g
    }

    #[test]
    fn limits_must_rise_from_the_account_manager_to_sales_leadership() {
        let text =
            DEFAULT_GUARDRAILS.replace("max_discount_percent = 25", "max_discount_percent = 5");
        let g: Guardrails = toml::from_str(&text).unwrap();
        let e = g.validate().unwrap_err();
        assert_eq!(
            e.problem,
            "sales leadership's limit (5%) is below the account manager's (10%)"
        );
        assert_eq!(
            e.at,
            FilePath::default()
                .key("sales_leadership")
                .key("max_discount_percent")
        );
    }

    fn terms(discount: f64) -> Terms<'static> {
        Terms {
            lines: vec![("Business", 30_000)],
            discount_percent: discount,
            term_months: 12,
            payment_terms: "annual_in_advance",
            arr: 3_000_000,
            non_standard_terms: None,
        }
    }

    #[test]
    fn within_guidelines_there_is_no_breach() {
        let verdict = shipped().check(&terms(10.0));
        assert_eq!(verdict.breaches, []);
        assert_eq!(verdict.route(), None);
    }

    #[test]
    fn each_rule_names_its_limit_and_routes_to_its_approver() {
        let g = shipped();
        let reason = |t: &Terms| {
            let v = g.check(t);
            (
                v.route(),
                v.breaches
                    .iter()
                    .map(|b| b.reason.clone())
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            reason(&terms(18.0)),
            (
                Some(Route::SalesLeadership),
                vec!["discount 18% exceeds the 10% limit".to_string()]
            )
        );
        assert_eq!(
            reason(&terms(30.5)),
            (
                Some(Route::Cro),
                vec!["discount 30.5% exceeds sales leadership's 25% limit".to_string()]
            )
        );
        let floor = Terms {
            lines: vec![("Enterprise", 50_000), ("Business", 30_000)],
            ..terms(0.0)
        };
        assert_eq!(
            reason(&floor).1,
            ["Enterprise at USD 500.00 a seat a year is below its floor of USD 600.00"]
        );
        let net90 = Terms {
            payment_terms: "net_90",
            ..terms(0.0)
        };
        assert_eq!(reason(&net90).0, Some(Route::SalesLeadership));
        assert!(reason(&net90).1[0].contains("\"net_90\" are not among"));
        let two_years = Terms {
            term_months: 30,
            ..terms(0.0)
        };
        assert_eq!(
            reason(&two_years),
            (
                Some(Route::SalesLeadership),
                vec!["a 30-month term exceeds the 24-month limit".to_string()]
            )
        );
        let four_years = Terms {
            term_months: 48,
            ..terms(0.0)
        };
        assert_eq!(
            reason(&four_years),
            (
                Some(Route::Cro),
                vec!["a 48-month term is longer than 3 years".to_string()]
            )
        );
        let big = Terms {
            arr: 30_000_000,
            ..terms(0.0)
        };
        assert_eq!(
            reason(&big).1,
            ["ARR USD 300,000.00 is above the strategic threshold of USD 250,000.00"]
        );
        let odd = Terms {
            non_standard_terms: Some("uncapped liability"),
            ..terms(12.0)
        };
        // Two breaches: the higher approver decides.
        assert_eq!(
            reason(&odd),
            (
                Some(Route::Cro),
                vec![
                    "discount 12% exceeds the 10% limit".to_string(),
                    "non-standard terms: uncapped liability".to_string()
                ]
            )
        );
    }
}
