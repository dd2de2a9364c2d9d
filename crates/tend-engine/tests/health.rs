//! Account health against real stores: history rebuilt without look-ahead, the
//! incremental path agreeing with a full rescore, explanations and the portfolio table,
//! on SQLite and PostgreSQL.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use tend_core::health::{HealthSnapshot, ScorecardSet};
use tend_core::*;
use tend_demo::{generate, DemoConfig};
use tend_engine::health::{
    backfill, explain_account, load_scorecards, parse_scorecards, portfolio_health,
    refresh_accounts, rescore, score_day, store_events, store_survey_responses, store_tickets,
    PortfolioFilter,
};
use tend_store::{test_support, Store};

mod common;
use common::{as_known_on, on_every_backend, store_with};

fn config() -> DemoConfig {
    DemoConfig {
        accounts: 40,
        months: 8,
        seed: 11,
        as_of: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

fn last_day() -> NaiveDate {
    config().as_of.pred_opt().unwrap()
}

fn by_account(snapshots: Vec<HealthSnapshot>) -> Vec<(String, HealthSnapshot)> {
    let mut rows: Vec<_> = snapshots
        .into_iter()
        .map(|s| (s.account_id.clone(), s))
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// A scorecard ranking usage within the segment, to exercise percentile rules.
const PERCENTILE_SCORECARD: &str = r#"
[[scorecard]]
name = "relative"
bands = [
  { name = "red", from = 0, to = 50 },
  { name = "green", from = 50, to = 100 },
]

[[scorecard.group]]
name = "usage"
weight = 70

[[scorecard.group.measure]]
name = "license_utilization"
weight = 60
rule = { kind = "percentile" }

[[scorecard.group.measure]]
name = "days_since_last_activity"
weight = 40
rule = { kind = "percentile", higher_is_better = false }

[[scorecard.group]]
name = "support"
weight = 30

[[scorecard.group.measure]]
name = "open_tickets"
weight = 50
rule = { kind = "linear", zero_at = 5, full_at = 0 }

[[scorecard.group.measure]]
name = "nps_by_role"
weight = 50
rule = { kind = "percentile" }
"#;

fn scorecard_sets() -> Vec<ScorecardSet> {
    vec![
        load_scorecards(None).unwrap(),
        parse_scorecards(PERCENTILE_SCORECARD, "test").unwrap(),
    ]
}

#[tokio::test]
async fn backfilled_history_equals_scoring_the_data_as_it_was() {
    let company = generate(&config());
    let days = [last_day() - Days::new(40), last_day() - Days::new(3)];
    on_every_backend("health_backfill", &company, |store| {
        let company = &company;
        async move {
            for set in scorecard_sets() {
                let run = backfill(&store, &set, last_day(), 41, &|_, _| {})
                    .await
                    .unwrap();
                assert_eq!(run.first_day, days[0]);
                assert!(run.snapshots > 30 * 41, "{run:?}");
                for day in days {
                    let dir = tempfile::tempdir().unwrap();
                    let then = store_with(
                        &as_known_on(company, day),
                        test_support::sqlite_store(dir.path()).await.unwrap(),
                    )
                    .await;
                    let expected = by_account(score_day(&then, &set, day).await.unwrap());
                    let stored = by_account(store.health_snapshots_on(day).await.unwrap());
                    assert_eq!(stored.len(), expected.len());
                    assert!(!stored.is_empty());
                    for ((id, got), (_, want)) in stored.iter().zip(&expected) {
                        assert_eq!(got, want, "{id} on {day}");
                    }
                }
            }
        }
    })
    .await;
}

fn at(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
}

/// Asserts that the stored snapshot of `account` equals a full rescore's.
async fn assert_fresh(store: &Store, set: &ScorecardSet, account: &str, day: NaiveDate) {
    let stored = store.health_snapshot(account, day).await.unwrap().unwrap();
    let full = score_day(store, set, day).await.unwrap();
    let expected = full.iter().find(|s| s.account_id == account).unwrap();
    assert_eq!(&stored, expected);
}

#[tokio::test]
async fn the_incremental_path_gives_what_a_full_rescore_gives() {
    let company = generate(&config());
    let day = last_day();
    on_every_backend("health_incremental", &company, |store| async move {
        for (round, set) in scorecard_sets().into_iter().enumerate() {
            rescore(&store, &set, day, &|_, _| {}).await.unwrap();
            let account = store.accounts().await.unwrap();
            let account = account
                .iter()
                .find(|a| a.churned_on.is_none() && a.created_on < day - Days::new(90))
                .unwrap()
                .id
                .clone();
            let before = store.health_snapshot(&account, day).await.unwrap().unwrap();

            let events: Vec<UsageEvent> = (0..30)
                .map(|i| UsageEvent {
                    message_id: format!("m-{round}-{i}"),
                    account_id: account.clone(),
                    kind: EventType::Track,
                    user_id: Some(format!("user-{}", i % 7)),
                    anonymous_id: None,
                    event: "Dashboard Viewed".into(),
                    properties: "{}".into(),
                    timestamp: at(day, 9 + i % 8),
                })
                .collect();
            let stored = store_events(&store, &set, &events, day).await.unwrap();
            assert_eq!(stored.new_rows, 30);
            assert_eq!(stored.snapshots.len(), 1);
            assert_fresh(&store, &set, &account, day).await;

            let ticket = Ticket {
                id: format!("T-urgent-{round}"),
                account_id: account.clone(),
                contact_id: None,
                subject: "Everything is down".into(),
                priority: TicketPriority::Urgent,
                status: TicketStatus::Open,
                created_at: at(day, 10),
                first_response_at: None,
                solved_at: None,
                satisfaction: None,
            };
            store_tickets(&store, &set, &[ticket], day).await.unwrap();
            assert_fresh(&store, &set, &account, day).await;

            let survey = SurveyResponse {
                id: format!("S-detractor-{round}"),
                account_id: account.clone(),
                contact_id: None,
                kind: SurveyKind::Nps,
                score: 0,
                comment: None,
                campaign: None,
                responded_at: at(day, 11),
            };
            store_survey_responses(&store, &set, &[survey], day)
                .await
                .unwrap();
            assert_fresh(&store, &set, &account, day).await;
            let after = store.health_snapshot(&account, day).await.unwrap().unwrap();
            assert_ne!(before, after, "new data changed the account's health");
        }
    })
    .await;
}

/// Two scorecards ranking within the segment, assigned by lifecycle stage; yes/no
/// measures make many accounts share each value.
const STAGED_SCORECARDS: &str = r#"
[[scorecard]]
name = "onboarding"
applies_to = { lifecycle_stage = ["onboarding"] }
bands = [
  { name = "red", from = 0, to = 50 },
  { name = "green", from = 50, to = 100 },
]
[[scorecard.group]]
name = "relationships"
weight = 100
[[scorecard.group.measure]]
name = "champion_present"
weight = 50
rule = { kind = "percentile" }
[[scorecard.group.measure]]
name = "champion_engaged"
weight = 50
rule = { kind = "percentile" }

[[scorecard]]
name = "everyone else"
bands = [
  { name = "red", from = 0, to = 50 },
  { name = "green", from = 50, to = 100 },
]
[[scorecard.group]]
name = "relationships"
weight = 100
[[scorecard.group.measure]]
name = "champion_present"
weight = 50
rule = { kind = "percentile" }
[[scorecard.group.measure]]
name = "champion_engaged"
weight = 50
rule = { kind = "percentile" }
"#;

#[tokio::test]
async fn an_account_changing_scorecard_ranks_only_against_its_new_one() {
    let company = generate(&config());
    let day = last_day();
    on_every_backend("health_restaged", &company, |store| async move {
        let set = parse_scorecards(STAGED_SCORECARDS, "test").unwrap();
        rescore(&store, &set, day, &|_, _| {}).await.unwrap();
        let accounts = store.accounts().await.unwrap();
        let active = |a: &&Account| a.churned_on.is_none() && a.created_on < day;
        let onboarding = |a: &&Account| a.lifecycle_stage == Some(LifecycleStage::Onboarding);
        // A settled account of a segment that has accounts in onboarding, so the
        // onboarding scorecard has a distribution there to rank it in.
        let mut account = accounts
            .iter()
            .filter(active)
            .filter(|a| !onboarding(a))
            .find(|a| {
                accounts
                    .iter()
                    .filter(active)
                    .any(|o| onboarding(&o) && o.segment == a.segment)
            })
            .expect("a segment with accounts in and out of onboarding")
            .clone();
        account.lifecycle_stage = Some(LifecycleStage::Onboarding);
        let mut tx = store.begin().await.unwrap();
        tx.upsert_accounts(std::slice::from_ref(&account))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let fresh = refresh_accounts(&store, &set, std::slice::from_ref(&account.id), day)
            .await
            .unwrap();
        assert_eq!(fresh[0].score.scorecard, "onboarding");
        assert_fresh(&store, &set, &account.id, day).await;
    })
    .await;
}

#[tokio::test]
async fn explanations_and_the_portfolio_table_read_the_history() {
    let company = generate(&config());
    let day = last_day();
    on_every_backend("health_explain", &company, |store| async move {
        let set = load_scorecards(None).unwrap();
        backfill(&store, &set, day, 31, &|_, _| {}).await.unwrap();
        let (shown, rows) = portfolio_health(&store, None, &PortfolioFilter::default())
            .await
            .unwrap();
        assert_eq!(shown, day);
        assert!(rows.len() > 20);
        assert!(rows.windows(2).all(|w| w[0].score <= w[1].score));
        let month_ago = by_account(
            store
                .health_snapshots_on(day - Days::new(30))
                .await
                .unwrap(),
        );
        let first = &rows[0];
        let then = month_ago
            .iter()
            .find(|(id, _)| *id == first.account_id)
            .unwrap();
        let expected = first.score.unwrap() - then.1.score.overall.unwrap();
        assert!((first.deltas[1].unwrap() - expected).abs() < 1e-9);
        assert_eq!(first.deltas[2], None, "no snapshot 90 days back");

        let red = PortfolioFilter {
            band: Some("green".into()),
            ..PortfolioFilter::default()
        };
        let (_, green) = portfolio_health(&store, None, &red).await.unwrap();
        assert!(green.iter().all(|r| r.band == "green"));

        let (account, e) = explain_account(&store, &set, &first.account_id, day)
            .await
            .unwrap();
        assert_eq!(account.id, first.account_id);
        assert_eq!(e.earlier, day - Days::new(30));
        // The explanation recomputes what the snapshots hold.
        assert_eq!(e.now.overall, first.score);
        assert_eq!(e.before.overall, then.1.score.overall);
        let points: f64 = e.measures.iter().map(|m| m.points).sum();
        assert!((points - expected).abs() < 1e-9);

        let missing = explain_account(&store, &set, "ACC-NOPE", day).await;
        assert_eq!(
            missing.unwrap_err().to_string(),
            "no account with id \"ACC-NOPE\""
        );
    })
    .await;
}
