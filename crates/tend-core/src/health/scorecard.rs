//! Scorecards: which measures count, how they are scored and weighed, which accounts
//! a scorecard applies to, and the red/yellow/green bands. Written as TOML by the
//! team (parsed by the engine) and checked here before anything is scored.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::measures::measure;
use super::rules::Rule;
use crate::model::Account;

/// A scorecard file: one or more scorecards, exactly one of them the default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardSet {
    #[serde(rename = "scorecard")]
    pub scorecards: Vec<Scorecard>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scorecard {
    pub name: String,
    /// Account fields and the values that select this scorecard, e.g.
    /// `{ lifecycle_stage = ["onboarding"] }`; empty for the default scorecard.
    #[serde(default)]
    pub applies_to: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub missing_data: MissingData,
    /// Features whose use `feature_adoption` counts.
    #[serde(default)]
    pub key_features: Vec<String>,
    pub bands: Vec<HealthBand>,
    #[serde(rename = "group")]
    pub groups: Vec<Group>,
}

/// What a measure without data does to the score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingData {
    /// Leave it out and share its weight among the measures that have data.
    #[default]
    Renormalize,
    /// Score it 50.
    Neutral,
}

/// A named range of overall health, `from` inclusive, `to` exclusive (100 inclusive).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthBand {
    pub name: String,
    pub from: f64,
    pub to: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    /// Share of the overall score, in percent; a scorecard's groups add up to 100.
    pub weight: f64,
    #[serde(rename = "measure")]
    pub measures: Vec<MeasureConfig>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureConfig {
    /// A measure of the registry (`tend_core::health::MEASURES`).
    pub name: String,
    /// Share of the group's score, in percent; a group's measures add up to 100.
    pub weight: f64,
    /// Days of history, overriding the measure's default.
    pub window: Option<u32>,
    pub rule: Rule,
}

/// Account fields a scorecard may be assigned by.
pub const SELECTOR_FIELDS: &[&str] = &["segment", "tier", "lifecycle_stage", "industry", "region"];

/// A mistake in a scorecard file, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {problem}")]
pub struct ScorecardError {
    pub place: String,
    pub problem: String,
}

fn error(place: impl Into<String>, problem: impl Into<String>) -> ScorecardError {
    ScorecardError {
        place: place.into(),
        problem: problem.into(),
    }
}

const WEIGHT_TOLERANCE: f64 = 1e-6;

impl ScorecardSet {
    /// Checks everything that parsing cannot: known measures and fields, weights that
    /// add up, bands that tile 0–100, rules with sensible numbers, one default.
    pub fn validate(&self) -> Result<(), ScorecardError> {
        if self.scorecards.is_empty() {
            return Err(error("scorecards", "the file defines no [[scorecard]]"));
        }
        let defaults: Vec<&str> = self
            .scorecards
            .iter()
            .filter(|s| s.applies_to.is_empty())
            .map(|s| s.name.as_str())
            .collect();
        match defaults.as_slice() {
            [_] => {}
            [] => {
                return Err(error(
                    "scorecards",
                    "no default scorecard: one must have no applies_to",
                ))
            }
            many => {
                return Err(error(
                    "scorecards",
                    format!(
                        "{} scorecards have no applies_to ({}); only the default may",
                        many.len(),
                        many.join(", ")
                    ),
                ))
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for card in &self.scorecards {
            if !names.insert(card.name.as_str()) {
                return Err(error(
                    format!("scorecard {:?}", card.name),
                    "the name is used twice",
                ));
            }
            card.validate()?;
        }
        Ok(())
    }

    /// The scorecard for an account: the first whose criteria it meets, else the
    /// default.
    pub fn for_account(&self, account: &Account) -> &Scorecard {
        self.scorecards
            .iter()
            .find(|s| !s.applies_to.is_empty() && s.applies_to_account(account))
            .or_else(|| self.scorecards.iter().find(|s| s.applies_to.is_empty()))
            .expect("a validated set has a default scorecard")
    }
}

/// The value of a selector field on an account.
pub fn account_field<'a>(account: &'a Account, field: &str) -> Option<&'a str> {
    match field {
        "segment" => account.segment.as_deref(),
        "tier" => account.tier.as_deref(),
        "lifecycle_stage" => account.lifecycle_stage.as_ref().map(|s| s.as_str()),
        "industry" => account.industry.as_deref(),
        "region" => account.region.as_deref(),
        _ => None,
    }
}

impl Scorecard {
    fn place(&self) -> String {
        format!("scorecard {:?}", self.name)
    }

    /// Whether the account meets every criterion (any listed value of each field).
    pub fn applies_to_account(&self, account: &Account) -> bool {
        self.applies_to.iter().all(|(field, values)| {
            account_field(account, field).is_some_and(|v| values.iter().any(|x| x == v))
        })
    }

    fn validate(&self) -> Result<(), ScorecardError> {
        let place = self.place();
        for field in self.applies_to.keys() {
            if !SELECTOR_FIELDS.contains(&field.as_str()) {
                return Err(error(
                    format!("{place}, applies_to"),
                    format!(
                        "unknown account field {field:?} (use {})",
                        SELECTOR_FIELDS.join(", ")
                    ),
                ));
            }
        }
        self.validate_bands()?;
        if self.groups.is_empty() {
            return Err(error(
                place,
                "a scorecard needs at least one [[scorecard.group]]",
            ));
        }
        check_total(
            &place,
            "group weights",
            self.groups.iter().map(|g| g.weight),
        )?;
        for group in &self.groups {
            let place = format!("{place}, group {:?}", group.name);
            if group.measures.is_empty() {
                return Err(error(
                    place,
                    "a group needs at least one [[scorecard.group.measure]]",
                ));
            }
            check_total(
                &place,
                "measure weights",
                group.measures.iter().map(|m| m.weight),
            )?;
            for m in &group.measures {
                let place = format!("{place}, measure {:?}", m.name);
                if measure(&m.name).is_none() {
                    let known: Vec<&str> = super::MEASURES.iter().map(|m| m.name).collect();
                    return Err(error(
                        place,
                        format!("unknown measure (known: {})", known.join(", ")),
                    ));
                }
                if m.window == Some(0) {
                    return Err(error(place, "window must be at least 1 day"));
                }
                if let Some(problem) = m.rule.problem() {
                    return Err(error(place, problem));
                }
            }
        }
        Ok(())
    }

    fn validate_bands(&self) -> Result<(), ScorecardError> {
        let place = format!("{}, bands", self.place());
        let mut bands: Vec<&HealthBand> = self.bands.iter().collect();
        if bands.is_empty() {
            return Err(error(
                place,
                "define bands covering 0 to 100 (red, yellow, green)",
            ));
        }
        bands.sort_by(|a, b| a.from.total_cmp(&b.from));
        if let Some(b) = bands.iter().find(|b| b.from >= b.to) {
            return Err(error(
                place,
                format!("band {:?} runs from {} to {}", b.name, b.from, b.to),
            ));
        }
        if bands[0].from != 0.0 {
            return Err(error(
                place,
                format!("scores from 0 to {} have no band", bands[0].from),
            ));
        }
        for pair in bands.windows(2) {
            let (low, high) = (pair[0], pair[1]);
            if high.from < low.to {
                return Err(error(
                    place,
                    format!(
                        "bands {:?} and {:?} overlap between {} and {}",
                        low.name, high.name, high.from, low.to
                    ),
                ));
            }
            if high.from > low.to {
                return Err(error(
                    place,
                    format!(
                        "scores from {} to {} have no band (between {:?} and {:?})",
                        low.to, high.from, low.name, high.name
                    ),
                ));
            }
        }
        let last = bands[bands.len() - 1];
        if last.to != 100.0 {
            return Err(error(
                place,
                format!("scores from {} to 100 have no band", last.to),
            ));
        }
        Ok(())
    }

    /// The band an overall score falls in.
    pub fn band(&self, score: f64) -> &str {
        self.bands
            .iter()
            .find(|b| score >= b.from && (score < b.to || (b.to == 100.0 && score <= 100.0)))
            .map_or("", |b| b.name.as_str())
    }

    /// The measures in order, with the window each uses.
    pub fn measures(&self) -> impl Iterator<Item = (&Group, &MeasureConfig, u32)> {
        self.groups.iter().flat_map(|g| {
            g.measures.iter().map(move |m| {
                let window = m
                    .window
                    .unwrap_or_else(|| measure(&m.name).map_or(30, |s| s.window));
                (g, m, window)
            })
        })
    }
}

fn check_total(
    place: &str,
    what: &str,
    weights: impl Iterator<Item = f64>,
) -> Result<(), ScorecardError> {
    let weights: Vec<f64> = weights.collect();
    if let Some(w) = weights.iter().find(|w| w.is_nan() || **w <= 0.0) {
        return Err(error(place, format!("{what} must be positive, got {w}")));
    }
    let total: f64 = weights.iter().sum();
    if (total - 100.0).abs() > WEIGHT_TOLERANCE {
        return Err(error(place, format!("{what} add up to {total}, not 100")));
    }
    Ok(())
}
