//! Scorecards: which measures count, how they are scored and weighed, which accounts
//! a scorecard applies to, and the red/yellow/green bands. Written as TOML by the
//! team (parsed by the engine) and checked here before anything is scored.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::measures::{measure, MeasureSpec};
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
    /// Features whose use `feature_adoption` counts: event names, or named sets of
    /// event-name patterns.
    #[serde(default)]
    pub key_features: Vec<KeyFeature>,
    /// The product whose seats license utilization counts; by default each account's
    /// main product (the one with the most ARR in force).
    #[serde(default)]
    pub seat_product: Option<String>,
    pub bands: Vec<HealthBand>,
    #[serde(rename = "group")]
    pub groups: Vec<Group>,
}

/// A key feature: an event name (`"Report Exported"`), or a name with the event-name
/// patterns that count as using it (`{ name = "reports", events = ["Report *"] }`).
/// Names and patterns match event names without regard to case; `*` stands for any
/// run of characters and `?` for one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "KeyFeatureConfig")]
pub struct KeyFeature {
    pub name: String,
    pub events: Vec<String>,
    patterns: Vec<wildmatch::WildMatch>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeyFeatureConfig {
    Event(String),
    Named { name: String, events: Vec<String> },
}

impl From<KeyFeatureConfig> for KeyFeature {
    fn from(config: KeyFeatureConfig) -> Self {
        match config {
            KeyFeatureConfig::Event(event) => KeyFeature::new(event.clone(), vec![event]),
            KeyFeatureConfig::Named { name, events } => KeyFeature::new(name, events),
        }
    }
}

impl KeyFeature {
    pub fn new(name: String, events: Vec<String>) -> KeyFeature {
        let patterns = events
            .iter()
            .map(|e| wildmatch::WildMatch::new_case_insensitive(e))
            .collect();
        KeyFeature {
            name,
            events,
            patterns,
        }
    }

    /// Whether an event of this name counts as using the feature.
    pub fn matches(&self, event: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(event))
    }
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

impl MeasureConfig {
    /// The registry's measure this names.
    ///
    /// # Panics
    /// On an unknown name, which [`ScorecardSet::validate`] refuses.
    pub fn spec(&self) -> &'static MeasureSpec {
        measure(&self.name).expect("validated scorecards name known measures")
    }
}

/// Account fields a scorecard may be assigned by.
pub const SELECTOR_FIELDS: &[&str] = &["segment", "tier", "lifecycle_stage", "industry", "region"];

/// A mistake in a scorecard file, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {problem}")]
pub struct ScorecardError {
    /// The scorecard, group and measure in words.
    pub place: String,
    pub problem: String,
    /// The value the mistake is in, for whoever parsed the file to find its line.
    pub at: FilePath,
}

/// One step from the top of a scorecard file towards a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    /// A position in an array, such as the second `[[scorecard]]`.
    Index(usize),
}

/// Where a value is in a scorecard file, e.g. `scorecard`, 1, `group`, 0, `name`;
/// empty when a mistake concerns the whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilePath(pub Vec<PathStep>);

impl FilePath {
    pub(crate) fn key(&self, key: &str) -> FilePath {
        self.then(PathStep::Key(key.to_string()))
    }

    pub(crate) fn index(&self, index: usize) -> FilePath {
        self.then(PathStep::Index(index))
    }

    fn then(&self, step: PathStep) -> FilePath {
        let mut steps = self.0.clone();
        steps.push(step);
        FilePath(steps)
    }
}

fn error(at: FilePath, place: impl Into<String>, problem: impl Into<String>) -> ScorecardError {
    ScorecardError {
        place: place.into(),
        problem: problem.into(),
        at,
    }
}

const WEIGHT_TOLERANCE: f64 = 1e-6;

impl ScorecardSet {
    /// Each scorecard's key features that match none of the `seen` event names (only
    /// scorecards with such features are listed).
    pub fn unmatched_key_features<'a>(&'a self, seen: &[&str]) -> Vec<(&'a str, Vec<&'a str>)> {
        self.scorecards
            .iter()
            .filter_map(|card| {
                let unmatched: Vec<&str> = card
                    .key_features
                    .iter()
                    .filter(|f| !seen.iter().any(|event| f.matches(event)))
                    .map(|f| f.name.as_str())
                    .collect();
                (!unmatched.is_empty()).then_some((card.name.as_str(), unmatched))
            })
            .collect()
    }

    /// Checks everything that parsing cannot: known measures and fields, weights that
    /// add up, bands that tile 0–100, rules with sensible numbers, one default.
    pub fn validate(&self) -> Result<(), ScorecardError> {
        let top = FilePath::default();
        if self.scorecards.is_empty() {
            return Err(error(
                top,
                "scorecards",
                "the file defines no [[scorecard]]",
            ));
        }
        let defaults: Vec<(usize, &str)> = self
            .scorecards
            .iter()
            .enumerate()
            .filter(|(_, s)| s.applies_to.is_empty())
            .map(|(i, s)| (i, s.name.as_str()))
            .collect();
        match defaults.as_slice() {
            [_] => {}
            [] => {
                return Err(error(
                    top,
                    "scorecards",
                    "no default scorecard: one must have no applies_to",
                ))
            }
            [_, (second, _), ..] => {
                let names: Vec<&str> = defaults.iter().map(|(_, name)| *name).collect();
                return Err(error(
                    Scorecard::path(*second).key("name"),
                    "scorecards",
                    format!(
                        "{} scorecards have no applies_to ({}); only the default may",
                        names.len(),
                        names.join(", ")
                    ),
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, card) in self.scorecards.iter().enumerate() {
            if !names.insert(card.name.as_str()) {
                return Err(error(
                    Scorecard::path(i).key("name"),
                    card.place(),
                    "the name is used twice",
                ));
            }
            card.validate(&Scorecard::path(i))?;
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

    /// Where the `index`-th `[[scorecard]]` is in its file.
    fn path(index: usize) -> FilePath {
        FilePath::default().key("scorecard").index(index)
    }

    /// Whether the account meets every criterion (any listed value of each field).
    pub fn applies_to_account(&self, account: &Account) -> bool {
        self.applies_to.iter().all(|(field, values)| {
            account_field(account, field).is_some_and(|v| values.iter().any(|x| x == v))
        })
    }

    fn validate(&self, at: &FilePath) -> Result<(), ScorecardError> {
        let place = self.place();
        for field in self.applies_to.keys() {
            if !SELECTOR_FIELDS.contains(&field.as_str()) {
                return Err(error(
                    at.key("applies_to").key(field),
                    format!("{place}, applies_to"),
                    format!(
                        "unknown account field {field:?} (use {})",
                        SELECTOR_FIELDS.join(", ")
                    ),
                ));
            }
        }
        self.validate_bands(at)?;
        if self.groups.is_empty() {
            return Err(error(
                at.key("group"),
                place,
                "a scorecard needs at least one [[scorecard.group]]",
            ));
        }
        let groups = at.key("group");
        check_total(
            &place,
            "group weights",
            &at.key("name"),
            self.groups
                .iter()
                .enumerate()
                .map(|(j, g)| (g.weight, groups.index(j).key("weight"))),
        )?;
        for (j, group) in self.groups.iter().enumerate() {
            let place = format!("{place}, group {:?}", group.name);
            let at = groups.index(j);
            if group.measures.is_empty() {
                return Err(error(
                    at.key("measure"),
                    place,
                    "a group needs at least one [[scorecard.group.measure]]",
                ));
            }
            let measures = at.key("measure");
            check_total(
                &place,
                "measure weights",
                &at.key("name"),
                group
                    .measures
                    .iter()
                    .enumerate()
                    .map(|(k, m)| (m.weight, measures.index(k).key("weight"))),
            )?;
            for (k, m) in group.measures.iter().enumerate() {
                let place = format!("{place}, measure {:?}", m.name);
                let at = measures.index(k);
                if measure(&m.name).is_none() {
                    let known: Vec<&str> = super::MEASURES.iter().map(|m| m.name).collect();
                    return Err(error(
                        at.key("name"),
                        place,
                        format!("unknown measure (known: {})", known.join(", ")),
                    ));
                }
                if m.window == Some(0) {
                    return Err(error(
                        at.key("window"),
                        place,
                        "window must be at least 1 day",
                    ));
                }
                if let Some(problem) = m.rule.problem() {
                    return Err(error(at.key("rule"), place, problem));
                }
            }
        }
        Ok(())
    }

    fn validate_bands(&self, at: &FilePath) -> Result<(), ScorecardError> {
        let place = format!("{}, bands", self.place());
        let band_at = |i: usize, field: &str| at.key("bands").index(i).key(field);
        // Sorted by where they start, each with its position in the file.
        let mut bands: Vec<(usize, &HealthBand)> = self.bands.iter().enumerate().collect();
        if bands.is_empty() {
            return Err(error(
                at.key("bands"),
                place,
                "define bands covering 0 to 100 (red, yellow, green)",
            ));
        }
        bands.sort_by(|(_, a), (_, b)| a.from.total_cmp(&b.from));
        if let Some((i, b)) = bands.iter().find(|(_, b)| b.from >= b.to) {
            return Err(error(
                band_at(*i, "to"),
                place,
                format!("band {:?} runs from {} to {}", b.name, b.from, b.to),
            ));
        }
        let (first, lowest) = bands[0];
        if lowest.from != 0.0 {
            return Err(error(
                band_at(first, "from"),
                place,
                format!("scores from 0 to {} have no band", lowest.from),
            ));
        }
        for pair in bands.windows(2) {
            let ((_, low), (i, high)) = (pair[0], pair[1]);
            if high.from < low.to {
                return Err(error(
                    band_at(i, "from"),
                    place,
                    format!(
                        "bands {:?} and {:?} overlap between {} and {}",
                        low.name, high.name, high.from, low.to
                    ),
                ));
            }
            if high.from > low.to {
                return Err(error(
                    band_at(i, "from"),
                    place,
                    format!(
                        "scores from {} to {} have no band (between {:?} and {:?})",
                        low.to, high.from, low.name, high.name
                    ),
                ));
            }
        }
        let (last, highest) = bands[bands.len() - 1];
        if highest.to != 100.0 {
            return Err(error(
                band_at(last, "to"),
                place,
                format!("scores from {} to 100 have no band", highest.to),
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

/// Checks that weights are positive and add up to 100; a sum that does not is
/// reported at `owner`, the table the weights belong to.
fn check_total(
    place: &str,
    what: &str,
    owner: &FilePath,
    weights: impl Iterator<Item = (f64, FilePath)>,
) -> Result<(), ScorecardError> {
    let mut total = 0.0;
    for (weight, at) in weights {
        if weight.is_nan() || weight <= 0.0 {
            return Err(error(
                at,
                place,
                format!("{what} must be positive, got {weight}"),
            ));
        }
        total += weight;
    }
    if (total - 100.0).abs() > WEIGHT_TOLERANCE {
        return Err(error(
            owner.clone(),
            place,
            format!("{what} add up to {total}, not 100"),
        ));
    }
    Ok(())
}
