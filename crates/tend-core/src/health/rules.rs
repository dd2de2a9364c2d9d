//! Scoring rules: how a measure's raw value becomes a score from 0 to 100.

use serde::Deserialize;

/// One rule per measure in a scorecard.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Thresholds: the score of the first band whose `below` the value is under, or
    /// `otherwise` past the last. Bands must rise in `below`.
    Bands { bands: Vec<Band>, otherwise: f64 },
    /// 0 at `zero_at`, 100 at `full_at`, straight in between and clamped outside
    /// (`zero_at` may be above `full_at` when less is better).
    Linear { zero_at: f64, full_at: f64 },
    /// From `low_score` at `from` to `high_score` at `to`, flat outside the range.
    BoundedLinear {
        from: f64,
        to: f64,
        low_score: f64,
        high_score: f64,
    },
    /// The share of the account's segment with a lower value (or higher, when
    /// `higher_is_better` is false), × 100.
    Percentile {
        #[serde(default = "yes")]
        higher_is_better: bool,
    },
    /// `then` when `value <op> threshold`, else `otherwise`.
    Condition {
        op: Comparison,
        threshold: f64,
        then: f64,
        otherwise: f64,
    },
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub below: f64,
    pub score: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Comparison {
    #[serde(rename = "<")]
    Less,
    #[serde(rename = "<=")]
    LessOrEqual,
    #[serde(rename = ">")]
    Greater,
    #[serde(rename = ">=")]
    GreaterOrEqual,
    #[serde(rename = "==")]
    Equal,
}

impl Comparison {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
            Comparison::Greater => value > threshold,
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Equal => value == threshold,
        }
    }
}

impl Rule {
    /// The score of `value`; `segment` holds the values of the accounts in the same
    /// segment, sorted, for percentile rules.
    pub fn score(&self, value: f64, segment: &[f64]) -> f64 {
        let score = match self {
            Rule::Bands { bands, otherwise } => bands
                .iter()
                .find(|band| value < band.below)
                .map_or(*otherwise, |band| band.score),
            Rule::Linear { zero_at, full_at } => 100.0 * (value - zero_at) / (full_at - zero_at),
            Rule::BoundedLinear {
                from,
                to,
                low_score,
                high_score,
            } => {
                let share = ((value - from) / (to - from)).clamp(0.0, 1.0);
                low_score + share * (high_score - low_score)
            }
            Rule::Percentile { higher_is_better } => {
                if segment.is_empty() {
                    50.0
                } else {
                    // Mid-rank: ties count half, so equal values score alike.
                    let below = segment.partition_point(|&v| v < value) as f64;
                    let not_above = segment.partition_point(|&v| v <= value) as f64;
                    let rank = (below + not_above) / 2.0 / segment.len() as f64;
                    100.0 * if *higher_is_better { rank } else { 1.0 - rank }
                }
            }
            Rule::Condition {
                op,
                threshold,
                then,
                otherwise,
            } => {
                if op.holds(value, *threshold) {
                    *then
                } else {
                    *otherwise
                }
            }
        };
        score.clamp(0.0, 100.0)
    }

    /// What is wrong with the rule's own numbers, if anything.
    pub fn problem(&self) -> Option<String> {
        let in_range = |s: f64| (0.0..=100.0).contains(&s);
        match self {
            Rule::Bands { bands, otherwise } => {
                if bands.is_empty() {
                    return Some("bands needs at least one band".into());
                }
                if let Some(pair) = bands.windows(2).find(|w| w[1].below <= w[0].below) {
                    return Some(format!(
                        "band limits must rise: {} is not above {}",
                        pair[1].below, pair[0].below
                    ));
                }
                bands
                    .iter()
                    .map(|b| b.score)
                    .chain([*otherwise])
                    .find(|s| !in_range(*s))
                    .map(|s| format!("band score {s} is outside 0–100"))
            }
            Rule::Linear { zero_at, full_at } => {
                (zero_at == full_at).then(|| format!("zero_at and full_at are both {zero_at}"))
            }
            Rule::BoundedLinear {
                from,
                to,
                low_score,
                high_score,
            } => {
                if from == to {
                    Some(format!("from and to are both {from}"))
                } else if !in_range(*low_score) || !in_range(*high_score) {
                    Some("low_score and high_score must be within 0–100".into())
                } else {
                    None
                }
            }
            Rule::Percentile { .. } => None,
            Rule::Condition {
                then, otherwise, ..
            } => (!in_range(*then) || !in_range(*otherwise))
                .then(|| "then and otherwise must be within 0–100".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bands() -> Rule {
        Rule::Bands {
            bands: vec![
                Band {
                    below: 0.3,
                    score: 0.0,
                },
                Band {
                    below: 0.7,
                    score: 50.0,
                },
            ],
            otherwise: 100.0,
        }
    }

    #[test]
    fn bands_take_the_first_band_the_value_is_under() {
        assert_eq!(bands().score(0.1, &[]), 0.0);
        assert_eq!(bands().score(0.3, &[]), 50.0);
        assert_eq!(bands().score(0.69, &[]), 50.0);
        assert_eq!(bands().score(0.7, &[]), 100.0);
    }

    #[test]
    fn linear_is_clamped_and_may_fall() {
        let rising = Rule::Linear {
            zero_at: 10.0,
            full_at: 30.0,
        };
        assert_eq!(rising.score(20.0, &[]), 50.0);
        assert_eq!(rising.score(0.0, &[]), 0.0);
        assert_eq!(rising.score(99.0, &[]), 100.0);
        let falling = Rule::Linear {
            zero_at: 30.0,
            full_at: 0.0,
        };
        assert_eq!(falling.score(6.0, &[]), 80.0);
    }

    #[test]
    fn bounded_linear_is_flat_outside_its_range() {
        let rule = Rule::BoundedLinear {
            from: 0.0,
            to: 10.0,
            low_score: 20.0,
            high_score: 90.0,
        };
        assert_eq!(rule.score(-5.0, &[]), 20.0);
        assert_eq!(rule.score(5.0, &[]), 55.0);
        assert_eq!(rule.score(50.0, &[]), 90.0);
    }

    #[test]
    fn percentile_ranks_within_the_segment_with_mid_ranks_for_ties() {
        let segment = [1.0, 2.0, 2.0, 3.0];
        let up = Rule::Percentile {
            higher_is_better: true,
        };
        assert_eq!(up.score(2.0, &segment), 50.0);
        assert_eq!(up.score(3.0, &segment), 87.5);
        assert_eq!(up.score(0.0, &segment), 0.0);
        let down = Rule::Percentile {
            higher_is_better: false,
        };
        assert_eq!(down.score(3.0, &segment), 12.5);
        assert_eq!(up.score(7.0, &[]), 50.0);
    }

    #[test]
    fn conditions_choose_between_two_scores() {
        let rule = Rule::Condition {
            op: Comparison::GreaterOrEqual,
            threshold: 1.0,
            then: 0.0,
            otherwise: 100.0,
        };
        assert_eq!(rule.score(2.0, &[]), 0.0);
        assert_eq!(rule.score(0.0, &[]), 100.0);
        assert!(Comparison::Equal.holds(1.0, 1.0) && Comparison::Less.holds(0.5, 1.0));
        assert!(!Comparison::LessOrEqual.holds(1.5, 1.0) && Comparison::Greater.holds(1.5, 1.0));
    }

    #[test]
    fn rules_report_their_own_mistakes() {
        let falling_bands = Rule::Bands {
            bands: vec![
                Band {
                    below: 5.0,
                    score: 0.0,
                },
                Band {
                    below: 2.0,
                    score: 50.0,
                },
            ],
            otherwise: 100.0,
        };
        assert_eq!(
            falling_bands.problem().unwrap(),
            "band limits must rise: 2 is not above 5"
        );
        assert_eq!(
            Rule::Linear {
                zero_at: 1.0,
                full_at: 1.0
            }
            .problem()
            .unwrap(),
            "zero_at and full_at are both 1"
        );
        assert!(bands().problem().is_none());
    }
}
