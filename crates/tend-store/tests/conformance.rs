// Amounts in minor units are written dollars_cents, e.g. 60_000_00.
#![allow(clippy::inconsistent_digit_grouping)]

//! One set of stories run against every backend: the SQLite store always, the
//! PostgreSQL store when `TEND_TEST_POSTGRES_URL` is set.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use tend_core::access::User;
use tend_core::health::{HealthScore, HealthSnapshot};
use tend_core::*;
use tend_store::{test_support, IdTable, Store};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn account(id: &str) -> Account {
    Account {
        id: id.into(),
        name: format!("{id} Inc."),
        parent_id: None,
        segment: Some("mid-market".into()),
        tier: Some("gold".into()),
        industry: Some("Software".into()),
        region: Some("EMEA".into()),
        lifecycle_stage: Some(LifecycleStage::Adoption),
        csm_owner: Some("dana@vendor.example".into()),
        am_owner: None,
        created_on: day(2023, 2, 1),
        churned_on: None,
        churn_reason: None,
    }
}

/// One of every entity, with optional fields both set and unset.
struct Sample {
    accounts: Vec<Account>,
    contacts: Vec<Contact>,
    contracts: Vec<Contract>,
    tickets: Vec<Ticket>,
    surveys: Vec<SurveyResponse>,
    invoices: Vec<Invoice>,
    payments: Vec<Payment>,
    activities: Vec<Activity>,
    truth: Vec<DemoTruth>,
}

fn sample() -> Sample {
    let eur = Currency::parse("EUR").unwrap();
    let mut child = account("acme-eu");
    child.parent_id = Some("acme".into());
    child.churned_on = Some(day(2024, 6, 30));
    child.churn_reason = Some("budget".into());
    child.lifecycle_stage = None;
    Sample {
        // The child comes first: parents may follow children within a transaction.
        accounts: vec![child, account("acme")],
        contacts: vec![Contact {
            id: "c1".into(),
            account_id: "acme".into(),
            name: "Ines Ortega".into(),
            email: Some("ines@acme.example".into()),
            title: Some("VP Operations".into()),
            role: ContactRole::ExecutiveSponsor,
            joined_on: Some(day(2023, 2, 1)),
            left_on: None,
        }],
        contracts: vec![Contract {
            id: "k1".into(),
            account_id: "acme".into(),
            product: "Platform".into(),
            seats: 50,
            arr: Money::new(60_000_00, eur),
            start_date: day(2024, 1, 1),
            end_date: day(2024, 12, 31),
            renewal_date: day(2025, 1, 1),
            auto_renew: true,
            notice_days: 60,
            status: ContractStatus::Active,
        }],
        tickets: vec![Ticket {
            id: "t1".into(),
            account_id: "acme".into(),
            contact_id: Some("c1".into()),
            subject: "SSO fails".into(),
            priority: TicketPriority::Urgent,
            status: TicketStatus::Solved,
            created_at: at(2024, 3, 1, 9, 0),
            first_response_at: Some(at(2024, 3, 1, 9, 12)),
            solved_at: Some(at(2024, 3, 2, 17, 0)),
            satisfaction: Some(4),
        }],
        surveys: vec![SurveyResponse {
            id: "s1".into(),
            account_id: "acme".into(),
            contact_id: None,
            kind: SurveyKind::Nps,
            score: 9,
            comment: Some("Great \"support\", 日本語 too".into()),
            campaign: Some("2024-Q1".into()),
            responded_at: at(2024, 3, 5, 10, 30),
        }],
        invoices: vec![Invoice {
            id: "i1".into(),
            account_id: "acme".into(),
            amount: Money::new(60_000_00, eur),
            issued_on: day(2024, 1, 1),
            due_on: day(2024, 1, 31),
            paid_on: None,
            status: InvoiceStatus::Failed,
        }],
        payments: vec![Payment {
            id: "p1".into(),
            invoice_id: "i1".into(),
            account_id: "acme".into(),
            amount: Money::new(60_000_00, eur),
            attempted_at: at(2024, 1, 31, 0, 0),
            status: PaymentStatus::Failed,
            failure_reason: Some("card declined".into()),
        }],
        activities: vec![Activity {
            id: "a1".into(),
            account_id: "acme".into(),
            contact_id: Some("c1".into()),
            kind: ActivityKind::Meeting,
            author: "dana@vendor.example".into(),
            occurred_at: at(2024, 2, 14, 15, 0),
            subject: "QBR".into(),
            body: None,
        }],
        truth: vec![DemoTruth {
            account_id: "acme".into(),
            churn_propensity: 0.125,
            churned_on: None,
        }],
    }
}

async fn write_sample(store: &Store, s: &Sample) {
    let mut tx = store.begin().await.unwrap();
    tx.upsert_accounts(&s.accounts).await.unwrap();
    tx.upsert_contacts(&s.contacts).await.unwrap();
    tx.upsert_contracts(&s.contracts).await.unwrap();
    tx.upsert_tickets(&s.tickets).await.unwrap();
    tx.upsert_survey_responses(&s.surveys).await.unwrap();
    tx.upsert_invoices(&s.invoices).await.unwrap();
    tx.upsert_payments(&s.payments).await.unwrap();
    tx.upsert_activities(&s.activities).await.unwrap();
    tx.upsert_demo_truth(&s.truth).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn every_entity_reads_back_as_written() {
    test_support::on_every_backend(
        "every_entity_reads_back_as_written",
        |store, _| async move {
            let s = sample();
            write_sample(&store, &s).await;
            let mut accounts = s.accounts.clone();
            accounts.sort_by(|a, b| a.id.cmp(&b.id));
            assert_eq!(store.accounts().await.unwrap(), accounts);
            assert_eq!(store.contacts().await.unwrap(), s.contacts);
            assert_eq!(store.contracts().await.unwrap(), s.contracts);
            assert_eq!(store.tickets().await.unwrap(), s.tickets);
            assert_eq!(store.survey_responses().await.unwrap(), s.surveys);
            assert_eq!(store.invoices().await.unwrap(), s.invoices);
            assert_eq!(store.payments().await.unwrap(), s.payments);
            assert_eq!(store.activities().await.unwrap(), s.activities);
            assert_eq!(store.demo_truth().await.unwrap(), s.truth);
            let ids = store.ids(IdTable::Accounts).await.unwrap();
            assert!(ids.contains("acme") && ids.contains("acme-eu") && ids.len() == 2);
        },
    )
    .await;
}

#[tokio::test]
async fn upserting_again_updates_in_place() {
    test_support::on_every_backend("upserting_again_updates_in_place", |store, _| async move {
        let s = sample();
        write_sample(&store, &s).await;
        let before = store.counts().await.unwrap();
        write_sample(&store, &s).await;
        assert_eq!(
            store.counts().await.unwrap(),
            before,
            "same data twice adds nothing"
        );

        let mut renamed = s.accounts[1].clone();
        renamed.name = "Acme Holdings".into();
        renamed.csm_owner = None;
        let mut tx = store.begin().await.unwrap();
        tx.upsert_accounts(std::slice::from_ref(&renamed))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let stored = store.accounts().await.unwrap();
        assert_eq!(stored.iter().find(|a| a.id == "acme"), Some(&renamed));
        assert_eq!(store.counts().await.unwrap(), before);
    })
    .await;
}

#[tokio::test]
async fn a_transaction_that_is_not_committed_leaves_nothing() {
    test_support::on_every_backend(
        "a_transaction_that_is_not_committed_leaves_nothing",
        |store, _| async move {
            let s = sample();
            let mut tx = store.begin().await.unwrap();
            tx.upsert_accounts(&s.accounts).await.unwrap();
            tx.rollback().await.unwrap();
            {
                let mut tx = store.begin().await.unwrap();
                tx.upsert_accounts(&s.accounts).await.unwrap();
                // dropped without commit
            }
            assert_eq!(store.counts().await.unwrap().accounts, 0);
        },
    )
    .await;
}

/// Transactions that read before they write, started together, all commit: on SQLite
/// a deferred transaction could not take the write lock once another had committed,
/// and failed with "database is locked" instead of waiting its turn.
#[tokio::test]
async fn concurrent_read_then_write_transactions_all_commit() {
    test_support::on_every_backend(
        "concurrent_read_then_write_transactions_all_commit",
        |store, _| async move {
            let user = User {
                handle: "ada".into(),
                email: "ada@example.com".into(),
                name: "Ada".into(),
                role: Role::Csm,
                active: true,
                created_at: at(2026, 1, 1, 9, 0),
            };
            let mut tx = store.begin().await.unwrap();
            assert!(tx.insert_user(&user, None).await.unwrap());
            tx.commit().await.unwrap();
            let toggles = (0..24).map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut tx = store.begin().await?;
                    tx.set_user_active("ada", i % 2 == 0).await?;
                    tx.append_audit(at(2026, 1, 1, 10, 0), "test", "user.toggle", "ada", "{}")
                        .await?;
                    tx.commit().await
                })
            });
            for toggle in futures_util::future::join_all(toggles).await {
                toggle.unwrap().expect("every transaction commits");
            }
            let toggled = store.audit_log(100).await.unwrap();
            assert_eq!(
                toggled.iter().filter(|e| e.action == "user.toggle").count(),
                24
            );
        },
    )
    .await;
}

#[tokio::test]
async fn rows_pointing_at_unknown_accounts_are_refused() {
    test_support::on_every_backend(
        "rows_pointing_at_unknown_accounts_are_refused",
        |store, _| async move {
            let s = sample();
            let mut tx = store.begin().await.unwrap();
            let refused = tx.upsert_contacts(&s.contacts).await;
            assert!(
                refused.is_err(),
                "a contact of an unknown account must fail"
            );
            drop(tx);
            assert_eq!(store.counts().await.unwrap().contacts, 0);
        },
    )
    .await;
}

fn event(message_id: &str, user: &str, event: &str, ts: DateTime<Utc>) -> UsageEvent {
    UsageEvent {
        message_id: message_id.into(),
        account_id: "acme".into(),
        kind: EventType::Track,
        user_id: Some(user.into()),
        anonymous_id: None,
        event: event.into(),
        properties: r#"{"plan":"pro"}"#.into(),
        timestamp: ts,
    }
}

#[tokio::test]
async fn events_are_deduplicated_and_rolled_up() {
    test_support::on_every_backend(
        "events_are_deduplicated_and_rolled_up",
        |store, _| async move {
            write_sample(&store, &sample()).await;
            let events = vec![
                event("m1", "ann", "report", at(2024, 5, 1, 8, 0)),
                event("m2", "bob", "report", at(2024, 5, 1, 23, 59)),
                event("m2", "bob", "report", at(2024, 5, 1, 23, 59)), // repeated in the batch
                event("m3", "ann", "export", at(2024, 5, 3, 0, 0)),
            ];
            // A retry repeats the call; the same id on another day is another call.
            let other_day = event("m1", "ann", "report", at(2024, 5, 2, 8, 0));
            let mut tx = store.begin().await.unwrap();
            assert_eq!(tx.insert_usage_events(&events).await.unwrap(), 3);
            assert_eq!(
                tx.insert_usage_events(&events[..1]).await.unwrap(),
                0,
                "already stored"
            );
            assert_eq!(
                tx.insert_usage_events(std::slice::from_ref(&other_day))
                    .await
                    .unwrap(),
                1
            );
            let written = tx
                .refresh_usage_rollups("acme", day(2024, 5, 1), day(2024, 5, 3))
                .await
                .unwrap();
            tx.commit().await.unwrap();

            let stored = store.usage_events().await.unwrap();
            assert_eq!(stored.len(), 4);
            assert_eq!(stored[0], events[0]);
            let rollups = store.event_usage_daily().await.unwrap();
            assert!(
                store.usage_daily().await.unwrap().is_empty(),
                "imported rollups stay apart"
            );
            assert_eq!(rollups.len(), written);
            // Only the days asked for: no row for a day the data has not reached.
            assert_eq!(rollups.first().unwrap().day, day(2024, 5, 1));
            assert_eq!(rollups.last().unwrap().day, day(2024, 5, 3));
            let first = &rollups[0];
            assert_eq!(
                (first.events, first.active_users, first.active_users_30d),
                (2, 2, 2)
            );
            assert_eq!(
                first.feature_events,
                BTreeMap::from([("report".to_string(), 2)])
            );
            let third = &rollups[2];
            assert_eq!(
                (third.events, third.active_users, third.active_users_30d),
                (1, 1, 2)
            );

            // When the data reaches further, the days after carry the users of the
            // 30-day window until it holds none.
            let mut tx = store.begin().await.unwrap();
            let carried = tx
                .refresh_usage_rollups("acme", day(2024, 5, 4), day(2024, 6, 30))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let rollups = store.event_usage_daily().await.unwrap();
            assert_eq!(carried, 29, "May 4 to June 1 still see May 3's user");
            assert_eq!(rollups.last().unwrap().day, day(2024, 6, 1));
        },
    )
    .await;
}

/// Accounts `lark-00`… with a snapshot on `on`: the first `red` of them in band
/// "Red" (case differs from the filter's), the rest "green".
async fn write_banded(store: &Store, count: usize, red: usize, on: NaiveDate) {
    let accounts: Vec<Account> = (0..count)
        .map(|i| Account {
            // Names in another order than ids, so the order shows.
            name: format!("Lark {:02}", count - i),
            ..account(&format!("lark-{i:02}"))
        })
        .collect();
    let snapshots: Vec<HealthSnapshot> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| HealthSnapshot {
            account_id: a.id.clone(),
            day: on,
            score: HealthScore {
                scorecard: "default".into(),
                overall: Some(if i < red { 20.0 } else { 80.0 }),
                band: if i < red { "Red" } else { "green" }.into(),
                groups: Vec::new(),
                measures: Vec::new(),
            },
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    tx.upsert_accounts(&accounts).await.unwrap();
    tx.upsert_health_snapshots(&snapshots).await.unwrap();
    tx.commit().await.unwrap();
}

/// Every account of `band` on `on`, by name, read in pages of `limit`.
async fn band_by_name(store: &Store, band: &str, limit: u32, on: NaiveDate) -> Vec<String> {
    let filter = tend_store::AccountFilter {
        band: Some(band.into()),
        ..Default::default()
    };
    let mut names = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .account_page(
                &filter,
                tend_store::AccountOrder::Name,
                after.as_ref(),
                limit,
                Some(on),
            )
            .await
            .unwrap();
        names.extend(page.iter().map(|l| l.account.name.clone()));
        match page.last() {
            Some(last) if page.len() == limit as usize => {
                after = Some(tend_store::After::Text(
                    last.account.name.clone(),
                    last.account.id.clone(),
                ));
            }
            _ => return names,
        }
    }
}

#[tokio::test]
async fn a_band_filter_reads_the_same_accounts_whether_the_band_is_rare_or_common() {
    test_support::on_every_backend(
        "a_band_filter_reads_the_same_accounts_whether_the_band_is_rare_or_common",
        |store, _| async move {
            let on = day(2026, 11, 30);
            write_banded(&store, 60, 3, on).await;
            // Rare (3² ≤ 50 × 60): read from the band's list.
            assert_eq!(
                band_by_name(&store, "red", 50, on).await,
                ["Lark 58", "Lark 59", "Lark 60"]
            );
            // Common in pages of 5 (57² > 5 × 60): walked by name; in one page of
            // 100 (57² ≤ 100 × 60): listed. The same accounts in the same order.
            let walked = band_by_name(&store, "GREEN", 5, on).await;
            let listed = band_by_name(&store, "green", 100, on).await;
            assert_eq!(walked.len(), 57);
            assert_eq!(walked, listed);
            let mut sorted = walked.clone();
            sorted.sort();
            assert_eq!(walked, sorted);
            // On a day without snapshots, nothing.
            assert!(band_by_name(&store, "red", 50, day(2026, 11, 29))
                .await
                .is_empty());
        },
    )
    .await;
}

#[tokio::test]
async fn overdue_milestones_of_an_owner_are_those_of_their_book_or_their_own() {
    test_support::on_every_backend(
        "overdue_milestones_of_an_owner_are_those_of_their_book_or_their_own",
        |store, _| async move {
            let mine = account("mine");
            let theirs = Account {
                csm_owner: Some("someone.else".into()),
                ..account("theirs")
            };
            let milestone = |id: &str, account: &str, due: NaiveDate, owner: Option<&str>| {
                tend_store::MilestoneRecord {
                    id: id.into(),
                    account_id: account.into(),
                    objective_id: None,
                    title: format!("Milestone {id}"),
                    kind: "onboarding".into(),
                    due_on: due,
                    owner: owner.map(str::to_string),
                    status: "open".into(),
                    done_on: None,
                }
            };
            let today = day(2026, 6, 1);
            let rows = [
                milestone("m-late", "mine", day(2026, 5, 2), None),
                milestone("m-later", "mine", day(2026, 5, 20), None),
                milestone("m-ahead", "mine", day(2026, 6, 2), None),
                tend_store::MilestoneRecord {
                    status: "done".into(),
                    done_on: Some(day(2026, 5, 3)),
                    ..milestone("m-done", "mine", day(2026, 5, 1), None)
                },
                tend_store::MilestoneRecord {
                    kind: "value".into(),
                    ..milestone("m-value", "mine", day(2026, 5, 1), None)
                },
                milestone(
                    "t-owned",
                    "theirs",
                    day(2026, 5, 10),
                    Some("dana@vendor.example"),
                ),
                milestone("t-other", "theirs", day(2026, 5, 10), None),
            ];
            let mut tx = store.begin().await.unwrap();
            tx.upsert_accounts(&[mine, theirs]).await.unwrap();
            for row in &rows {
                tx.upsert_milestone(row).await.unwrap();
            }
            tx.commit().await.unwrap();
            let overdue = store
                .overdue_milestones_of("dana@vendor.example", "onboarding", today, 10)
                .await
                .unwrap();
            let got: Vec<(&str, &str)> = overdue
                .iter()
                .map(|(m, name)| (m.id.as_str(), name.as_str()))
                .collect();
            assert_eq!(
                got,
                [
                    ("m-late", "mine Inc."),
                    ("t-owned", "theirs Inc."),
                    ("m-later", "mine Inc.")
                ]
            );
            let first = store
                .overdue_milestones_of("dana@vendor.example", "onboarding", today, 1)
                .await
                .unwrap();
            assert_eq!(first.len(), 1);
        },
    )
    .await;
}

#[tokio::test]
async fn the_generation_moves_with_commits_that_change_data_only() {
    test_support::on_every_backend(
        "the_generation_moves_with_commits_that_change_data_only",
        |store, _| async move {
            let start = store.generation();
            // Rows written without an audit entry or a recorded change (a session
            // touched, a sample loaded) and rolled-back work leave it.
            write_sample(&store, &sample()).await;
            let mut tx = store.begin().await.unwrap();
            tx.append_audit(Utc::now(), "test", "test.write", "acme", "{}")
                .await
                .unwrap();
            tx.rollback().await.unwrap();
            // A sign-in is audited but changes no customer data.
            let mut tx = store.begin().await.unwrap();
            tx.append_audit(Utc::now(), "user:dana", "session.login", "dana", "{}")
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(store.generation(), start);
            let mut tx = store.begin().await.unwrap();
            tx.append_audit(Utc::now(), "test", "test.write", "acme", "{}")
                .await
                .unwrap();
            tx.commit().await.unwrap();
            assert_eq!(store.generation(), start + 1);
            let mut tx = store.begin().await.unwrap();
            tx.record_changes(&["acme"], "test", Utc::now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            // A clone of the store shares it.
            assert_eq!(store.clone().generation(), start + 2);
        },
    )
    .await;
}

#[tokio::test]
async fn falls_of_health_and_rises_of_risk_are_read_for_one_book() {
    test_support::on_every_backend(
        "falls_of_health_and_rises_of_risk_are_read_for_one_book",
        |store, _| async move {
            let (week_before, on) = (day(2026, 11, 23), day(2026, 11, 30));
            let dana = "dana@vendor.example";
            let accounts = vec![
                account("fell-most"),
                Account {
                    csm_owner: None,
                    am_owner: Some(dana.into()),
                    ..account("fell-too")
                },
                account("fell-little"),
                Account {
                    csm_owner: Some("someone.else".into()),
                    ..account("not-mine")
                },
            ];
            // (account, score a week before, score now, churn probability then, now)
            let moves = [
                ("fell-most", 95.0, 80.0, 0.10, 0.12),
                ("fell-too", 70.0, 60.0, 0.20, 0.40),
                ("fell-little", 50.0, 48.0, 0.30, 0.36),
                ("not-mine", 90.0, 40.0, 0.10, 0.90),
            ];
            let snapshot = |id: &str, day, overall| HealthSnapshot {
                account_id: id.into(),
                day,
                score: HealthScore {
                    scorecard: "default".into(),
                    overall: Some(overall),
                    band: "green".into(),
                    groups: Vec::new(),
                    measures: Vec::new(),
                },
            };
            let mut tx = store.begin().await.unwrap();
            tx.upsert_accounts(&accounts).await.unwrap();
            let model = tx
                .insert_risk_model(&tend_store::RiskModelRecord {
                    id: 0,
                    target: "churn".into(),
                    fitted_at: at(2026, 11, 30, 6, 0),
                    as_of: on,
                    horizon_days: 90,
                    kind: "logistic".into(),
                    features: "[]".into(),
                    model: "{}".into(),
                    evaluation: "{}".into(),
                })
                .await
                .unwrap();
            let mut health = Vec::new();
            let mut risk = Vec::new();
            for (id, then, now, p_then, p_now) in moves {
                health.push(snapshot(id, week_before, then));
                health.push(snapshot(id, on, now));
                for (day, probability) in [(week_before, p_then), (on, p_now)] {
                    risk.push(tend_store::RiskSnapshot {
                        account_id: id.into(),
                        target: "churn".into(),
                        day,
                        model_id: model,
                        probability,
                        band: "low".into(),
                        reasons: "[]".into(),
                    });
                }
            }
            tx.upsert_health_snapshots(&health).await.unwrap();
            tx.upsert_risk_snapshots(&risk).await.unwrap();
            tx.commit().await.unwrap();

            let falls = store
                .health_falls_of_owner(dana, on, week_before, 3.0, 10)
                .await
                .unwrap();
            assert_eq!(falls, ["fell-most", "fell-too"]);
            let first = store
                .health_falls_of_owner(dana, on, week_before, 3.0, 1)
                .await
                .unwrap();
            assert_eq!(first, ["fell-most"]);
            let rises = store
                .risk_rises_of_owner(dana, "churn", on, week_before, 0.05, 10)
                .await
                .unwrap();
            assert_eq!(rises, ["fell-too", "fell-little"]);
            assert!(store
                .risk_rises_of_owner(dana, "non_renewal", on, week_before, 0.05, 10)
                .await
                .unwrap()
                .is_empty());
        },
    )
    .await;
}
