//! Segment's HTTP Tracking API on tend serve: write keys, calls tied to accounts,
//! retries counted once, and bad requests refused with nothing stored.

mod common;

use base64::Engine;
use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tend_engine::access::{create_source, revoke_source};
use tend_store::{test_support, TraitTable};

fn basic(key: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    format!("Basic {encoded}")
}

async fn post(
    server: &common::Server,
    path: &str,
    auth: Option<&str>,
    body: String,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url(path))
        .header("content-type", "application/json")
        .body(body);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The account the stored event with `message_id` belongs to.
async fn account_of(store: &tend_store::Store, message_id: &str) -> String {
    let events = store.usage_events().await.unwrap();
    let event = events.iter().find(|e| e.message_id == message_id);
    event.expect("the event is stored").account_id.clone()
}

fn track(id: &str, user: &str, group: Option<&str>) -> Value {
    let mut call = json!({
        "type": "track", "messageId": id, "userId": user, "event": "Report Run",
        "properties": {"rows": 3}, "timestamp": "2026-06-30T10:00:00Z"
    });
    if let Some(group) = group {
        call["context"] = json!({"groupId": group});
    }
    call
}

#[tokio::test]
async fn calls_are_tied_to_accounts_kept_until_linked_and_counted_once() {
    test_support::on_every_backend("segment_calls", |store, dir| async move {
        let server = common::start(store.clone(), &dir).await;
        let source = create_source(&store, "test", "web app", Utc::now())
            .await
            .unwrap();
        let key = source.write_key;
        let before = store.counts().await.unwrap();

        // A batch: a track call within a known group, one by a user tend cannot tie
        // to an account yet, and one naming an account tend does not have.
        let batch = json!({"batch": [
            track("m-1", "u-ivy", Some("lark-2")),
            track("m-2", "u-new", None),
            track("m-3", "u-new", Some("not-an-account")),
        ]});
        let (status, answer) =
            post(&server, "/v1/batch", Some(&basic(&key)), batch.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer, json!({"success": true}));
        let after = store.counts().await.unwrap();
        assert_eq!(after.usage_events, before.usage_events + 1);
        assert_eq!(after.usage_pending, before.usage_pending + 2);

        // The same batch again (an SDK retry) stores nothing new.
        let (status, _) = post(&server, "/v1/batch", Some(&basic(&key)), batch.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(store.counts().await.unwrap(), after);

        // A group call (write key in the body) ties the user to lark-3: its kept
        // calls become lark-3's events, and so does the group call itself.
        let group = json!({
            "writeKey": key, "messageId": "m-4", "userId": "u-new", "groupId": "lark-3",
            "traits": {"name": "Ostrander Labs"}, "timestamp": "2026-06-30T11:00:00Z"
        });
        let (status, answer) = post(&server, "/v1/group", None, group.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let linked = store.counts().await.unwrap();
        assert_eq!(linked.usage_events, after.usage_events + 3);
        assert_eq!(linked.usage_pending, before.usage_pending);
        assert_eq!(account_of(&store, "m-1").await, "lark-2");
        assert_eq!(account_of(&store, "m-2").await, "lark-3");
        assert_eq!(account_of(&store, "m-3").await, "lark-3");

        // A Bearer write key, a call without messageId or timestamp: stored once
        // however often it is sent.
        let page = json!({"userId": "u-new", "name": "Dashboard"}).to_string();
        for _ in 0..2 {
            let (status, answer) = post(
                &server,
                "/v1/page",
                Some(&format!("Bearer {key}")),
                page.clone(),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{answer}");
        }
        assert_eq!(
            store.counts().await.unwrap().usage_events,
            linked.usage_events + 1
        );

        // An identify call matched by a contact's email ties its user; an alias
        // carries the tie to the user's new id.
        let identify = json!({"type": "identify", "messageId": "m-5", "userId": "u-mara",
            "traits": {"email": "MARA@foods.example"}, "timestamp": "2026-06-30T11:00:00Z"});
        let alias = json!({"type": "alias", "previousId": "u-mara", "userId": "u-mara-2"});
        let later = track("m-6", "u-mara-2", None);
        let batch = json!({"batch": [identify, alias, later]});
        let (status, answer) =
            post(&server, "/v1/batch", Some(&basic(&key)), batch.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(account_of(&store, "m-5").await, "lark-1");
        assert_eq!(account_of(&store, "m-6").await, "lark-1");

        // The source's use is audited, once within the hour however many calls.
        let audit = store.audit_log(100).await.unwrap();
        let uses = audit.iter().filter(|e| e.action == "source.use").count();
        assert_eq!(uses, 1, "{audit:?}");
    })
    .await;
}

#[tokio::test]
async fn bad_requests_are_refused_with_a_message_and_store_nothing() {
    test_support::on_every_backend("segment_refusals", |store, dir| async move {
        let server = common::start(store.clone(), &dir).await;
        let key = create_source(&store, "test", "web app", Utc::now())
            .await
            .unwrap();
        let revoked = create_source(&store, "test", "old app", Utc::now())
            .await
            .unwrap();
        revoke_source(&store, "test", &revoked.source.id, Utc::now())
            .await
            .unwrap();
        let auth = basic(&key.write_key);
        let before = store.counts().await.unwrap();
        let good = track("ok-1", "u-1", Some("lark-1"));
        let big = json!({"type": "track", "messageId": "big", "userId": "u", "event": "E",
            "properties": {"blob": "x".repeat(33 * 1024)}});
        let many: Vec<Value> = (0..400)
            .map(|i| {
                json!({"type": "track", "messageId": format!("b-{i}"), "userId": "u",
                    "event": "E", "properties": {"blob": "y".repeat(1500)}})
            })
            .collect();
        // What, route, Authorization, body, status, and what the message says.
        type Case<'a> = (&'a str, &'a str, Option<String>, String, StatusCode, &'a str);
        let cases: Vec<Case> = vec![
            ("no write key", "/v1/track", None, good.to_string(), StatusCode::UNAUTHORIZED, "no write key"),
            ("revoked key", "/v1/track", Some(basic(&revoked.write_key)), good.to_string(), StatusCode::UNAUTHORIZED, "not valid"),
            ("an API token", "/v1/track", Some(server.token("ada")), good.to_string(), StatusCode::UNAUTHORIZED, "not valid"),
            ("invalid JSON", "/v1/track", Some(auth.clone()), "{\"event\": ".into(), StatusCode::BAD_REQUEST, "invalid JSON"),
            ("a call over 32 KB", "/v1/track", Some(auth.clone()), big.to_string(), StatusCode::PAYLOAD_TOO_LARGE, "32 KB"),
            ("a batch over 500 KB", "/v1/batch", Some(auth.clone()), json!({"batch": many}).to_string(), StatusCode::PAYLOAD_TOO_LARGE, "500 KB"),
            ("a timestamp not ISO 8601", "/v1/batch", Some(auth.clone()),
                json!({"batch": [good, {"type": "track", "messageId": "t", "userId": "u", "event": "E", "timestamp": "yesterday"}]}).to_string(),
                StatusCode::BAD_REQUEST, "batch[1].timestamp"),
            ("a track without event", "/v1/track", Some(auth.clone()),
                json!({"messageId": "n", "userId": "u", "timestamp": "2026-06-30T10:00:00Z"}).to_string(),
                StatusCode::BAD_REQUEST, "event: is required"),
            ("a batch call without type", "/v1/batch", Some(auth.clone()),
                json!({"batch": [{"messageId": "n", "userId": "u", "event": "E"}]}).to_string(),
                StatusCode::BAD_REQUEST, "batch[0].type"),
        ];
        for (what, path, auth, body, status, says) in cases {
            let (got, answer) = post(&server, path, auth.as_deref(), body).await;
            assert_eq!(got, status, "{what}: {answer}");
            assert_eq!(answer["success"], json!(false), "{what}");
            let message = answer["message"].as_str().unwrap();
            assert!(message.contains(says), "{what}: {message:?} should say {says:?}");
            assert_eq!(store.counts().await.unwrap(), before, "{what} stored something");
        }
        // Refused write keys are audited like refused tokens (once a minute per address).
        let audit = store.audit_log(100).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "auth.failure"), "{audit:?}");
    })
    .await;
}

/// The samples of `/metrics`, parsed as Prometheus parses them.
async fn scrape(server: &common::Server) -> prometheus_parse::Scrape {
    let response = reqwest::Client::new()
        .get(server.url("/metrics"))
        .header("authorization", server.token("vic"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|line| Ok(line.to_string()));
    prometheus_parse::Scrape::parse(lines).unwrap()
}

/// The value of the sample `name` whose labels include `labels`.
fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)));
    match found.map(|s| &s.value) {
        Some(prometheus_parse::Value::Counter(v))
        | Some(prometheus_parse::Value::Gauge(v))
        | Some(prometheus_parse::Value::Untyped(v)) => *v,
        Some(prometheus_parse::Value::Histogram(buckets)) => {
            buckets.iter().map(|b| b.count).fold(0.0, f64::max)
        }
        other => panic!("no sample {name} {labels:?}: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_count_requests_and_calls_by_outcome() {
    test_support::on_every_backend("segment_metrics", |store, dir| async move {
        let server = common::start(store.clone(), &dir).await;
        // The fixture's import queued changes of its own; only the calls' count below.
        queue_drained(&store).await;
        let anonymous = reqwest::get(server.url("/metrics")).await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

        let key = create_source(&store, "test", "web app", Utc::now())
            .await
            .unwrap()
            .write_key;
        let batch = json!({"batch": [
            track("x-1", "u-ivy", Some("lark-2")),
            track("x-2", "u-ivy", Some("lark-2")),
            track("x-3", "u-later", None),
        ]});
        for _ in 0..2 {
            let (status, _) =
                post(&server, "/v1/batch", Some(&basic(&key)), batch.to_string()).await;
            assert_eq!(status, StatusCode::OK);
        }
        let bad = json!({"batch": [{"type": "track", "userId": "u"}]});
        let (status, _) = post(&server, "/v1/batch", Some(&basic(&key)), bad.to_string()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let metrics = scrape(&server).await;
        let batch_route = [("route", "/v1/batch"), ("method", "POST")];
        let ok: Vec<_> = batch_route
            .iter()
            .copied()
            .chain([("status", "200")])
            .collect();
        let refused: Vec<_> = batch_route
            .iter()
            .copied()
            .chain([("status", "400")])
            .collect();
        assert_eq!(sample(&metrics, "tend_http_requests_total", &ok), 2.0);
        assert_eq!(sample(&metrics, "tend_http_requests_total", &refused), 1.0);
        assert_eq!(
            sample(
                &metrics,
                "tend_http_request_duration_seconds_count",
                &batch_route
            ),
            3.0
        );
        let calls = |outcome| sample(&metrics, "tend_ingest_calls_total", &[("outcome", outcome)]);
        assert_eq!(calls("stored"), 2.0);
        assert_eq!(calls("pending"), 1.0);
        assert_eq!(calls("duplicate"), 3.0);
        assert_eq!(calls("rejected"), 1.0);
        assert_eq!(sample(&metrics, "tend_ingest_commit_calls_count", &[]), 2.0);
        assert_eq!(sample(&metrics, "tend_ingest_waiting_calls", &[]), 0.0);
        let queued = sample(&metrics, "tend_change_queue_waiting", &[]);
        assert!(
            (0.0..=2.0).contains(&queued),
            "at most the two commits' changes: {queued}"
        );
    })
    .await;
}

#[tokio::test]
async fn traits_update_accounts_and_contacts_and_the_rest_is_kept() {
    test_support::on_every_backend("segment_traits", |store, dir| async move {
        let server = common::start(store.clone(), &dir).await;
        let key = create_source(&store, "test", "web app", Utc::now())
            .await
            .unwrap()
            .write_key;
        let at = "2026-06-30T09:00:00Z";
        let batch = json!({"batch": [
            {"type": "group", "messageId": "t-1", "userId": "u-pia2", "groupId": "lark-4",
             "timestamp": at, "traits": {"name": "Pell Metrics GmbH", "industry": "Analytics",
             "plan": "enterprise", "employees": 120}},
            {"type": "identify", "messageId": "t-2", "userId": "u-mara",
             "timestamp": at, "traits": {"email": "Mara@foods.example", "title": "VP Operations",
             "favourite": "tea"}},
            {"type": "identify", "messageId": "t-3", "userId": "u-pia2", "timestamp": at,
             "traits": {"email": "pia2@pell.example", "firstName": "Pia", "lastName": "Two"}},
        ]});
        let (status, answer) =
            post(&server, "/v1/batch", Some(&basic(&key)), batch.to_string()).await;
        assert_eq!(status, StatusCode::OK, "{answer}");

        let account = store.account("lark-4").await.unwrap().unwrap();
        assert_eq!(account.name, "Pell Metrics GmbH");
        assert_eq!(account.industry.as_deref(), Some("Analytics"));
        let kept = |table, id: &'static str| {
            let store = store.clone();
            async move {
                let text = store.traits_of(table, id).await.unwrap().unwrap();
                serde_json::from_str::<Value>(&text).unwrap()
            }
        };
        assert_eq!(
            kept(TraitTable::Accounts, "lark-4").await,
            json!({"plan": "enterprise", "employees": 120})
        );
        // The contact with the email (case ignored) gets the new title.
        let mara = store.contact("c-1").await.unwrap().unwrap();
        assert_eq!(mara.title.as_deref(), Some("VP Operations"));
        assert_eq!(mara.name, "Mara Ines");
        assert_eq!(
            kept(TraitTable::Contacts, "c-1").await,
            json!({"favourite": "tea"})
        );
        // A user the account has no contact for becomes one.
        let pia = store.contact("segment:u-pia2").await.unwrap().unwrap();
        assert_eq!(pia.account_id, "lark-4");
        assert_eq!(pia.name, "Pia Two");
        assert_eq!(pia.email.as_deref(), Some("pia2@pell.example"));
        assert_eq!(pia.role.as_str(), "user");
        assert_eq!(pia.joined_on, Some(common::today()));
    })
    .await;
}

/// Waits (up to 10 s) until no account change is left to handle.
async fn queue_drained(store: &tend_store::Store) {
    for _ in 0..200 {
        if store.change_backlog().await.unwrap().0 == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "account changes still wait: {:?}",
        store.change_backlog().await
    );
}

#[tokio::test]
async fn changes_are_queued_with_the_calls_and_handled_even_if_left_by_a_crash() {
    test_support::on_every_backend("segment_changes", |store, dir| async move {
        let server = common::start(store.clone(), &dir).await;
        let key = create_source(&store, "test", "web app", Utc::now())
            .await
            .unwrap()
            .write_key;
        let batch = json!({"batch": [track("q-1", "u-ivy", Some("lark-2"))]});
        let (status, _) = post(&server, "/v1/batch", Some(&basic(&key)), batch.to_string()).await;
        assert_eq!(status, StatusCode::OK);
        queue_drained(&store).await;
        // The fixture's import queued its changes too; the batch queued one.
        let changes = store.changes_of("lark-2").await.unwrap();
        assert!(changes[0].0.reason.starts_with("import."), "{changes:?}");
        let live: Vec<_> = changes
            .iter()
            .filter(|(c, _)| c.reason == "segment")
            .collect();
        assert_eq!(live.len(), 1, "{changes:?}");
        assert!(
            changes.iter().all(|(_, handled)| handled.is_some()),
            "handled"
        );

        // A change a stopped server recorded but never handled is handled by the
        // running one, without being woken.
        let mut tx = store.begin().await.unwrap();
        tx.record_changes(&["lark-3"], "segment", common::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        queue_drained(&store).await;
        let changes = store.changes_of("lark-3").await.unwrap();
        assert!(
            changes.iter().all(|(_, handled)| handled.is_some()),
            "{changes:?}"
        );
    })
    .await;
}
