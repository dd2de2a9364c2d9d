//! Fifty writers at once — account edits, activities and incremental health
//! refreshes on the same four accounts — lose nothing, and leave the segment
//! distributions as a full rescore makes them.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use tend_engine::health::rescore;
use tend_store::{test_support, Distribution, Store};

const WRITERS: usize = 50;
const FIELDS: [&str; 4] = ["tier", "name", "csm_owner", "segment"];

/// What writer `i` does: (account, field it sets or "activity" / "refresh", value).
fn plan(i: usize) -> (String, &'static str, String) {
    let k = i % 4 + 1;
    let account = format!("lark-{k}");
    match (i / 4) % 6 {
        0..=3 => {
            let field = FIELDS[(i / 4) % 6];
            let value = match field {
                // Every account moves segment, so distributions change under the writers.
                "segment" => if k <= 2 { "smb" } else { "mid-market" }.to_string(),
                _ => format!("{field}-{i}"),
            };
            (account, field, value)
        }
        4 => (account, "activity", format!("note {i}")),
        _ => (account, "refresh", String::new()),
    }
}

async fn all_distributions(
    store: &Store,
    server: &common::Server,
) -> BTreeMap<(String, String, usize), Vec<f64>> {
    let mut out = BTreeMap::new();
    for card in &server.app.scorecards().scorecards {
        for segment in ["smb", "mid-market", ""] {
            let stored: Vec<Distribution> = store
                .health_distributions(&card.name, segment, common::today())
                .await
                .unwrap();
            for d in stored.into_iter().filter(|d| d.day == common::today()) {
                out.insert(
                    (card.name.clone(), segment.to_string(), d.measure),
                    d.values,
                );
            }
        }
    }
    out
}

#[tokio::test]
async fn fifty_concurrent_writers_lose_nothing() {
    test_support::on_every_backend("concurrent_writers", |store, dir| async move {
        let server = common::start_with(store.clone(), &dir, common::ranking_scorecards()).await;
        let client = reqwest::Client::new();
        let admin = server.token("ada");
        let mut writers = tokio::task::JoinSet::new();
        for i in 0..WRITERS {
            let (account, what, value) = plan(i);
            let request = match what {
                "activity" => client
                    .post(server.url(&format!("/api/v1/accounts/{account}/activities")))
                    .json(&json!({"kind": "note", "subject": value})),
                "refresh" => {
                    client.post(server.url(&format!("/api/v1/accounts/{account}/health/refresh")))
                }
                field => client
                    .patch(server.url(&format!("/api/v1/accounts/{account}")))
                    .json(&json!({ field: value })),
            }
            .header("authorization", &admin);
            writers.spawn(async move {
                let response = request.send().await.unwrap();
                (i, response.status(), response.text().await.unwrap())
            });
        }
        while let Some(done) = writers.join_next().await {
            let (i, status, text) = done.unwrap();
            assert!(status.is_success(), "writer {i}: {status} {text}");
        }

        // Every field holds a value one of its writers wrote.
        for k in 1..=4 {
            let id = format!("lark-{k}");
            let account = store.account(&id).await.unwrap().unwrap();
            for field in FIELDS {
                let written: BTreeSet<String> = (0..WRITERS)
                    .map(plan)
                    .filter(|(a, f, _)| *a == id && *f == field)
                    .map(|(_, _, v)| v)
                    .collect();
                let now = match field {
                    "tier" => account.tier.clone(),
                    "name" => Some(account.name.clone()),
                    "csm_owner" => account.csm_owner.clone(),
                    _ => account.segment.clone(),
                }
                .unwrap_or_default();
                assert!(
                    written.contains(&now),
                    "{id}.{field} is {now:?}, not one of {written:?}"
                );
            }
        }
        let notes = (0..WRITERS).filter(|&i| plan(i).1 == "activity").count();
        let activities = store.activity_page(None, "", 1000).await.unwrap();
        assert_eq!(
            activities
                .iter()
                .filter(|a| a.subject.starts_with("note "))
                .count(),
            notes
        );
        let audit = store.audit_log(10_000).await.unwrap();
        let edits = audit
            .iter()
            .filter(|e| e.action == "account.update")
            .count();
        let distinct_changes = (0..WRITERS)
            .map(plan)
            .filter(|(_, f, _)| FIELDS.contains(f))
            .collect::<BTreeSet<_>>()
            .len();
        // A repeated segment write changes nothing the second time and is not audited.
        assert!(
            edits <= WRITERS && edits >= distinct_changes - 4,
            "{edits} edits audited"
        );

        // The incremental path kept the distributions a full rescore makes.
        let incremental = all_distributions(&store, &server).await;
        rescore(&store, server.app.scorecards(), common::today(), &|_, _| {})
            .await
            .unwrap();
        let full = all_distributions(&store, &server).await;
        assert!(!full.is_empty());
        assert_eq!(incremental, full);
    })
    .await;
}
