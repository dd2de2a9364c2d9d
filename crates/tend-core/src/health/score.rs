//! Scoring one account with a scorecard, keeping every step for explanations.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::measures::{AccountFacts, Context, MeasureSpec};
use super::scorecard::{MissingData, Scorecard};

/// One measure's part in a health score.
/// Stored as a compact list `[group, measure, raw, score, weight, contribution]`:
/// snapshots are kept for every account and day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "MeasureTuple", from = "MeasureTuple")]
pub struct MeasureScore {
    pub group: String,
    pub measure: String,
    pub raw: Option<f64>,
    /// 0–100; `None` when there was no data and the measure was left out.
    pub score: Option<f64>,
    /// Effective share of the overall score after missing data is handled (0–1).
    pub weight: f64,
    /// weight × score: the points it adds to the overall score.
    pub contribution: f64,
}

type MeasureTuple = (String, String, Option<f64>, Option<f64>, f64, f64);

impl From<MeasureScore> for MeasureTuple {
    fn from(m: MeasureScore) -> Self {
        (m.group, m.measure, m.raw, m.score, m.weight, m.contribution)
    }
}

impl From<MeasureTuple> for MeasureScore {
    fn from(t: MeasureTuple) -> Self {
        let (group, measure, raw, score, weight, contribution) = t;
        MeasureScore {
            group,
            measure,
            raw,
            score,
            weight,
            contribution,
        }
    }
}

/// Stored as `[name, score, weight]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "GroupTuple", from = "GroupTuple")]
pub struct GroupScore {
    pub name: String,
    pub score: Option<f64>,
    /// Effective share of the overall score (0–1).
    pub weight: f64,
}

type GroupTuple = (String, Option<f64>, f64);

impl From<GroupScore> for GroupTuple {
    fn from(g: GroupScore) -> Self {
        (g.name, g.score, g.weight)
    }
}

impl From<GroupTuple> for GroupScore {
    fn from((name, score, weight): GroupTuple) -> Self {
        GroupScore {
            name,
            score,
            weight,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthScore {
    pub scorecard: String,
    /// 0–100; `None` when no measure had data.
    pub overall: Option<f64>,
    pub band: String,
    pub groups: Vec<GroupScore>,
    pub measures: Vec<MeasureScore>,
}

/// An account's health as computed for a day, as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthSnapshot {
    pub account_id: String,
    pub day: NaiveDate,
    pub score: HealthScore,
}

/// The raw value of each of the scorecard's measures (in [`Scorecard::measures`]
/// order) for the account on `day`.
pub fn raw_values(card: &Scorecard, facts: &AccountFacts, day: NaiveDate) -> Vec<Option<f64>> {
    measures_on(card, day)
        .map(|(spec, ctx)| spec.value(facts, &ctx))
        .collect()
}

/// Each of the scorecard's measures (in order) with what it is computed with on `day`.
pub(crate) fn measures_on(
    card: &Scorecard,
    day: NaiveDate,
) -> impl Iterator<Item = (&'static MeasureSpec, Context<'_>)> {
    card.measures().map(move |(_, m, window)| {
        let ctx = Context {
            day,
            window,
            key_features: &card.key_features,
            seat_product: card.seat_product.as_deref(),
        };
        (m.spec(), ctx)
    })
}

/// Scores raw values. `segment(i)` gives the sorted values of measure `i` across the
/// account's segment, for percentile rules.
pub fn score<'a>(
    card: &Scorecard,
    raw: &[Option<f64>],
    segment: impl Fn(usize) -> &'a [f64],
) -> HealthScore {
    let neutral = card.missing_data == MissingData::Neutral;
    let mut measures = Vec::new();
    let mut groups = Vec::new();
    let mut index = 0;
    for group in &card.groups {
        let mut scored: Vec<(usize, f64, f64)> = Vec::new(); // (position, weight, score)
        for m in &group.measures {
            let value = raw[index];
            let s = match value {
                Some(v) => Some(m.rule.score(v, segment(index))),
                None if neutral => Some(50.0),
                None => None,
            };
            if let Some(s) = s {
                scored.push((measures.len(), m.weight, s));
            }
            measures.push(MeasureScore {
                group: group.name.clone(),
                measure: m.name.clone(),
                raw: value,
                score: s,
                weight: 0.0,
                contribution: 0.0,
            });
            index += 1;
        }
        let total: f64 = scored.iter().map(|(_, w, _)| w).sum();
        let group_score =
            (total > 0.0).then(|| scored.iter().map(|(_, w, s)| w * s).sum::<f64>() / total);
        groups.push((
            GroupScore {
                name: group.name.clone(),
                score: group_score,
                weight: 0.0,
            },
            group.weight,
            scored,
            total,
        ));
    }
    let present: f64 = groups
        .iter()
        .filter(|g| g.0.score.is_some())
        .map(|g| g.1)
        .sum();
    let mut overall = None;
    for (group, weight, scored, total) in &mut groups {
        if group.score.is_none() || present == 0.0 {
            continue;
        }
        group.weight = *weight / present;
        for (position, w, s) in scored.iter() {
            let m = &mut measures[*position];
            m.weight = group.weight * w / *total;
            m.contribution = m.weight * s;
            *overall.get_or_insert(0.0) += m.contribution;
        }
    }
    let overall = overall.map(|o: f64| o.clamp(0.0, 100.0));
    HealthScore {
        scorecard: card.name.clone(),
        band: overall.map_or(String::new(), |o| card.band(o).to_string()),
        overall,
        groups: groups.into_iter().map(|g| g.0).collect(),
        measures,
    }
}
