//! Scorecards written as a team would write them: parsing, every validation error,
//! assignment to accounts, and scoring with missing data.

use tend_core::health::{score, ScorecardSet};
use tend_core::{Account, LifecycleStage};

const VALID: &str = r#"
[[scorecard]]
name = "mature"
missing_data = "renormalize"
bands = [
  { name = "red", from = 0, to = 40 },
  { name = "yellow", from = 40, to = 70 },
  { name = "green", from = 70, to = 100 },
]

[[scorecard.group]]
name = "usage"
weight = 60

[[scorecard.group.measure]]
name = "license_utilization"
weight = 50
rule = { kind = "linear", zero_at = 0.2, full_at = 0.8 }

[[scorecard.group.measure]]
name = "usage_trend"
weight = 50
rule = { kind = "bands", bands = [{ below = -0.3, score = 0 }, { below = 0, score = 60 }], otherwise = 100 }

[[scorecard.group]]
name = "support"
weight = 40

[[scorecard.group.measure]]
name = "urgent_open_tickets"
weight = 100
rule = { kind = "condition", op = ">=", threshold = 1, then = 0, otherwise = 100 }

[[scorecard]]
name = "onboarding"
applies_to = { lifecycle_stage = ["onboarding"] }
missing_data = "neutral"
bands = [
  { name = "red", from = 0, to = 50 },
  { name = "green", from = 50, to = 100 },
]

[[scorecard.group]]
name = "usage"
weight = 100

[[scorecard.group.measure]]
name = "dau_mau"
weight = 100
window = 14
rule = { kind = "percentile" }
"#;

fn parse(text: &str) -> ScorecardSet {
    toml::from_str(text).unwrap()
}

/// The validation error after replacing `from` with `to` in the valid file.
fn error_after(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from}");
    parse(&VALID.replacen(from, to, 1))
        .validate()
        .unwrap_err()
        .to_string()
}

fn account(stage: Option<LifecycleStage>) -> Account {
    Account {
        id: "a".into(),
        name: "A".into(),
        parent_id: None,
        segment: Some("mid".into()),
        tier: None,
        industry: None,
        region: None,
        lifecycle_stage: stage,
        csm_owner: None,
        am_owner: None,
        created_on: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        churned_on: None,
        churn_reason: None,
    }
}

#[test]
fn a_valid_file_validates_and_assigns_scorecards_by_criteria() {
    let set = parse(VALID);
    set.validate().unwrap();
    assert_eq!(
        set.for_account(&account(Some(LifecycleStage::Onboarding)))
            .name,
        "onboarding"
    );
    assert_eq!(
        set.for_account(&account(Some(LifecycleStage::Mature))).name,
        "mature"
    );
    assert_eq!(set.for_account(&account(None)).name, "mature");
    let windows: Vec<u32> = set.scorecards[1].measures().map(|(_, _, w)| w).collect();
    assert_eq!(windows, [14]);
}

#[test]
fn each_mistake_is_named_with_its_place() {
    assert_eq!(
        error_after("name = \"usage_trend\"", "name = \"usage_trends\""),
        format!(
            "scorecard \"mature\", group \"usage\", measure \"usage_trends\": unknown measure (known: {})",
            tend_core::health::MEASURES.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
        )
    );
    assert_eq!(
        error_after("weight = 40", "weight = 30"),
        "scorecard \"mature\": group weights add up to 90, not 100"
    );
    assert_eq!(
        error_after(
            "weight = 50\nrule = { kind = \"bands\"",
            "weight = 40\nrule = { kind = \"bands\""
        ),
        "scorecard \"mature\", group \"usage\": measure weights add up to 90, not 100"
    );
    assert_eq!(
        error_after(
            "{ name = \"yellow\", from = 40",
            "{ name = \"yellow\", from = 35"
        ),
        "scorecard \"mature\", bands: bands \"red\" and \"yellow\" overlap between 35 and 40"
    );
    assert_eq!(
        error_after("{ name = \"yellow\", from = 40", "{ name = \"yellow\", from = 45"),
        "scorecard \"mature\", bands: scores from 40 to 45 have no band (between \"red\" and \"yellow\")"
    );
    assert_eq!(
        error_after(
            "to = 100 },\n]\n\n[[scorecard.group]]\nname = \"usage\"\nweight = 60",
            "to = 90 },\n]\n\n[[scorecard.group]]\nname = \"usage\"\nweight = 60"
        ),
        "scorecard \"mature\", bands: scores from 90 to 100 have no band"
    );
    assert_eq!(
        error_after("applies_to = { lifecycle_stage", "applies_to = { plan"),
        "scorecard \"onboarding\", applies_to: unknown account field \"plan\" (use segment, tier, lifecycle_stage, industry, region)"
    );
    assert_eq!(
        error_after("applies_to = { lifecycle_stage = [\"onboarding\"] }\n", ""),
        "scorecards: 2 scorecards have no applies_to (mature, onboarding); only the default may"
    );
    assert_eq!(
        error_after("zero_at = 0.2", "zero_at = 0.8"),
        "scorecard \"mature\", group \"usage\", measure \"license_utilization\": zero_at and full_at are both 0.8"
    );
    assert_eq!(
        error_after("window = 14", "window = 0"),
        "scorecard \"onboarding\", group \"usage\", measure \"dau_mau\": window must be at least 1 day"
    );
}

#[test]
fn parse_errors_point_at_the_line() {
    let err = toml::from_str::<ScorecardSet>(&VALID.replacen(
        "kind = \"linear\"",
        "kind = \"linaer\"",
        1,
    ))
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("line 18"), "{text}");
    assert!(text.contains("linaer"), "{text}");
    let err = toml::from_str::<ScorecardSet>(&VALID.replacen("weight = 60", "wieght = 60", 1))
        .unwrap_err();
    assert!(err.to_string().contains("wieght"), "{err}");
}

#[test]
fn scoring_renormalizes_missing_measures_and_explains_each_point() {
    let set = parse(VALID);
    let card = &set.scorecards[0];
    // Utilization 0.65 → 75; trend missing; one urgent ticket → 0.
    let health = score(card, &[Some(0.65), None, Some(1.0)], |_| &[]);
    let usage = &health.measures[0];
    assert!((usage.score.unwrap() - 75.0).abs() < 1e-9 && usage.weight == 0.6);
    assert_eq!(health.measures[1].score, None);
    assert_eq!(health.measures[1].weight, 0.0);
    assert_eq!(health.measures[2].contribution, 0.0);
    assert!((health.overall.unwrap() - 45.0).abs() < 1e-9);
    assert_eq!(health.band, "yellow");
    let total: f64 = health.measures.iter().map(|m| m.contribution).sum();
    assert!((total - health.overall.unwrap()).abs() < 1e-12);

    // Nothing known: no score rather than a made-up one.
    let empty = score(card, &[None, None, None], |_| &[]);
    assert_eq!((empty.overall, empty.band.as_str()), (None, ""));

    // The onboarding card scores missing data as neutral, and ranks within the segment.
    let onboarding = &set.scorecards[1];
    assert_eq!(score(onboarding, &[None], |_| &[]).overall, Some(50.0));
    let segment = [0.1, 0.2, 0.3, 0.4];
    let ranked = score(onboarding, &[Some(0.35)], |_| &segment);
    assert_eq!(
        (ranked.overall, ranked.band.as_str()),
        (Some(75.0), "green")
    );
}
