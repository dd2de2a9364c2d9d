//! Explanations: each measure's part in a score against an earlier day, and the
//! measures that moved the score most, in words.

use super::measures::{AccountFacts, Format, MeasureSpec};
use super::score::{measures_on, HealthScore, MeasureScore};
use super::scorecard::Scorecard;
use chrono::NaiveDate;

/// A measure's raw value as of a day, with the count behind it for ratios.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub value: Option<f64>,
    /// (count, out of) for measures that have one, e.g. (17 active users, 50 seats).
    pub detail: Option<(f64, f64)>,
}

/// The readings of every measure of `card` (in [`Scorecard::measures`] order).
pub fn readings(card: &Scorecard, facts: &AccountFacts, day: NaiveDate) -> Vec<Reading> {
    measures_on(card, day)
        .map(|(spec, ctx)| Reading {
            value: spec.value(facts, &ctx),
            detail: spec.detail.and_then(|(detail, _, _)| detail(facts, &ctx)),
        })
        .collect()
}

/// One measure's line in an explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureChange {
    pub now: MeasureScore,
    pub before: MeasureScore,
    /// Points of overall health this measure gained (+) or lost (−) since `before`.
    pub points: f64,
    /// The change in words, `None` when the raw value did not change.
    pub words: Option<String>,
}

/// A score explained against the score of an earlier day.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    pub day: NaiveDate,
    pub earlier: NaiveDate,
    pub now: HealthScore,
    pub before: HealthScore,
    pub measures: Vec<MeasureChange>,
}

impl Explanation {
    /// Builds the explanation from both days' scores and readings (same scorecard).
    pub fn new(
        card: &Scorecard,
        day: (NaiveDate, HealthScore, &[Reading]),
        earlier: (NaiveDate, HealthScore, &[Reading]),
    ) -> Explanation {
        let measures = card
            .measures()
            .enumerate()
            .map(|(i, (_, m, _))| {
                let (now, before) = (&day.1.measures[i], &earlier.1.measures[i]);
                MeasureChange {
                    now: now.clone(),
                    before: before.clone(),
                    points: now.contribution - before.contribution,
                    words: describe_change(m.spec(), &earlier.2[i], &day.2[i]),
                }
            })
            .collect();
        Explanation {
            day: day.0,
            earlier: earlier.0,
            now: day.1,
            before: earlier.1,
            measures,
        }
    }

    /// The measures that moved the score, largest change first, at most `n`.
    pub fn top_movers(&self, n: usize) -> Vec<&MeasureChange> {
        let mut movers: Vec<&MeasureChange> = self
            .measures
            .iter()
            .filter(|m| m.points.abs() >= 0.05 && m.words.is_some())
            .collect();
        movers.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()));
        movers.truncate(n);
        movers
    }
}

/// A raw value as people read it: "42%", "3 tickets", "yes".
pub fn format_value(spec: &MeasureSpec, value: Option<f64>) -> String {
    let Some(v) = value else {
        return "no data".to_string();
    };
    match spec.format {
        Format::Share => format!("{:.0}%", 100.0 * v),
        Format::Change => format!("{:+.0}%", 100.0 * v),
        Format::Number => number(v),
        Format::Count(unit) if number(v) == "1" => format!("1 {}", unit.trim_end_matches('s')),
        Format::Count(unit) => format!("{} {unit}", number(v)),
        Format::Flag => if v >= 0.5 { "yes" } else { "no" }.to_string(),
    }
}

fn number(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// "active users fell from 41 to 17 of 50 seats"; `None` when nothing changed.
pub fn describe_change(spec: &MeasureSpec, before: &Reading, now: &Reading) -> Option<String> {
    let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    };
    if same(before.value, now.value) {
        return None;
    }
    let label = spec.label;
    let (Some(old), Some(new)) = (before.value, now.value) else {
        return Some(match now.value {
            None => format!(
                "{label}: no data now (was {})",
                format_value(spec, before.value)
            ),
            Some(_) => format!(
                "{label}: now {} (no data before)",
                format_value(spec, now.value)
            ),
        });
    };
    if spec.format == Format::Flag {
        let holds = new >= 0.5;
        return Some(if holds {
            format!("now {label}")
        } else {
            format!("no longer {label}")
        });
    }
    let verb = if new > old { "rose" } else { "fell" };
    if let (Some((_, counted, of)), Some((a, a_of)), Some((b, b_of))) =
        (spec.detail, before.detail, now.detail)
    {
        if a != b {
            return Some(if a_of == b_of {
                format!(
                    "{counted} {verb} from {} to {} of {} {of}",
                    number(a),
                    number(b),
                    number(b_of)
                )
            } else {
                format!(
                    "{counted} {verb} from {} of {} to {} of {} {of}",
                    number(a),
                    number(a_of),
                    number(b),
                    number(b_of)
                )
            });
        }
    }
    Some(format!(
        "{label} {verb} from {} to {}",
        format_value(spec, Some(old)),
        format_value(spec, Some(new))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::measures::measure;

    fn reading(value: Option<f64>, detail: Option<(f64, f64)>) -> Reading {
        Reading { value, detail }
    }

    #[test]
    fn ratios_are_told_by_their_counts() {
        let spec = measure("license_utilization").unwrap();
        let words = describe_change(
            spec,
            &reading(Some(0.82), Some((41.0, 50.0))),
            &reading(Some(0.34), Some((17.0, 50.0))),
        );
        assert_eq!(
            words.as_deref(),
            Some("active users fell from 41 to 17 of 50 seats")
        );
        let words = describe_change(
            spec,
            &reading(Some(0.5), Some((30.0, 60.0))),
            &reading(Some(0.6), Some((30.0, 50.0))),
        );
        assert_eq!(
            words.as_deref(),
            Some("license utilization rose from 50% to 60%")
        );
        let words = describe_change(
            spec,
            &reading(Some(0.5), Some((30.0, 60.0))),
            &reading(Some(0.8), Some((40.0, 50.0))),
        );
        assert_eq!(
            words.as_deref(),
            Some("active users rose from 30 of 60 to 40 of 50 seats")
        );
    }

    #[test]
    fn counts_flags_and_missing_data() {
        let tickets = measure("urgent_open_tickets").unwrap();
        assert_eq!(
            describe_change(
                tickets,
                &reading(Some(0.0), None),
                &reading(Some(3.0), None)
            )
            .as_deref(),
            Some("open urgent tickets rose from 0 tickets to 3 tickets")
        );
        assert_eq!(
            describe_change(
                tickets,
                &reading(Some(2.0), None),
                &reading(Some(2.0), None)
            ),
            None
        );
        let champion = measure("champion_present").unwrap();
        assert_eq!(
            describe_change(
                champion,
                &reading(Some(1.0), None),
                &reading(Some(0.0), None)
            )
            .as_deref(),
            Some("no longer has a champion")
        );
        let nps = measure("nps_by_role").unwrap();
        assert_eq!(
            describe_change(nps, &reading(Some(40.0), None), &reading(None, None)).as_deref(),
            Some("NPS weighted by role: no data now (was 40)")
        );
        let trend = measure("usage_trend").unwrap();
        assert_eq!(format_value(trend, Some(-0.304)), "-30%");
        assert_eq!(format_value(nps, Some(12.25)), "12.2");
        let days = measure("days_since_last_activity").unwrap();
        assert_eq!(format_value(days, Some(1.0)), "1 day");
        assert_eq!(format_value(days, Some(0.0)), "0 days");
    }
}
