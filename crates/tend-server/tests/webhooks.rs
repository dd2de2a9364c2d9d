//! Outbound webhooks over real HTTP: a receiver of the test's own that fails, then
//! recovers, gets every event once and each account's events in order, across a
//! restart of tend; signatures per Standard Webhooks; subscriptions that keep
//! failing are turned off; the Slack format; bad subscriptions refused.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use tend_engine::webhooks::{sign, DeliveryPolicy};
use tend_store::{test_support, HealthWatch, Store};

/// Retries within a test's patience.
fn quick(disable_after: i64) -> DeliveryPolicy {
    DeliveryPolicy {
        first_retry: Duration::from_millis(20),
        max_retry: Duration::from_millis(100),
        max_attempts: 1000,
        disable_after,
    }
}

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    answered: u16,
}

/// A receiver that answers 503 while `failures` is above zero (counting down), and
/// 503 always while `down` is set.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    failures: Arc<AtomicUsize>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl Receiver {
    async fn start(self) -> String {
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    /// What it answered 2xx to, in the order received.
    fn accepted(&self) -> Vec<Received> {
        let got = self.got.lock().unwrap();
        got.iter().filter(|r| r.answered < 300).cloned().collect()
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let failing = r.down.load(Ordering::SeqCst)
        || r.failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
    let status = if failing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    };
    r.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
        answered: status.as_u16(),
    });
    status
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn drained(store: &Store) -> bool {
    store.change_backlog().await.unwrap().0 == 0
}

async fn subscribe(server: &common::Server, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/webhooks"))
        .header("authorization", server.token("ada"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(server: &common::Server, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(server.url(path))
        .header("authorization", server.token("ada"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// Makes tend believe `account` was last seen in band `band` with `score`, and
/// queues a change of it: the next handling compares the real snapshot with that.
async fn seen_before(store: &Store, account: &str, band: &str, score: f64) {
    let mut tx = store.begin().await.unwrap();
    let watch = HealthWatch {
        account_id: account.into(),
        band: band.into(),
        score: Some(score),
        peak: Some(score),
    };
    tx.upsert_health_watch(&[watch]).await.unwrap();
    tx.record_changes(&[account], "test", common::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn edit_tier(server: &common::Server, account: &str, tier: &str) {
    let response = reqwest::Client::new()
        .patch(server.url(&format!("/api/v1/accounts/{account}")))
        .header("authorization", server.token("ada"))
        .json(&json!({ "tier": tier }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_failing_receiver_gets_every_event_once_in_order_across_a_restart() {
    test_support::on_every_backend("webhooks_delivered", |store, dir| async move {
        let mut server = common::start(store.clone(), &dir).await;
        server.restart(quick(10_000)).await;
        let receiver = Receiver::default();
        receiver.down.store(true, Ordering::SeqCst);
        let url = receiver.clone().start().await;
        // The fixture's own changes are handled before anyone subscribes.
        eventually("the fixture's changes are handled", || drained(&store)).await;
        let (status, created) = subscribe(
            &server,
            json!({"url": url, "event_types": ["health.band_changed", "health.dropped", "account.updated"]}),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let secret = created["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("whsec_"));
        let id = created["webhook"]["id"].as_str().unwrap().to_string();
        let listed = get(&server, "/api/v1/webhooks").await;
        assert!(listed["items"][0].get("secret").is_none(), "never shown again");

        // Four events, each handled in a round of its own.
        let lark_2 = store.health_snapshot("lark-2", common::today()).await.unwrap().unwrap();
        let (band, score) = (lark_2.score.band.clone(), lark_2.score.overall.unwrap());
        edit_tier(&server, "lark-1", "silver").await;
        eventually("the edit is handled", || drained(&store)).await;
        seen_before(&store, "lark-2", "violet", score).await;
        eventually("the band change is handled", || drained(&store)).await;
        edit_tier(&server, "lark-1", "bronze").await;
        eventually("the second edit is handled", || drained(&store)).await;
        seen_before(&store, "lark-2", &band, score + 25.0).await;
        eventually("the drop is handled", || drained(&store)).await;

        let log = |server: &common::Server| {
            let path = format!("/api/v1/webhooks/{id}/deliveries?limit=50");
            let client = reqwest::Client::new();
            let request = client.get(server.url(&path)).header("authorization", server.token("ada"));
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let first = log(&server).await;
        let kinds: Vec<&str> = first["items"].as_array().unwrap().iter().rev().map(|d| d["event_type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["account.updated", "health.band_changed", "account.updated", "health.dropped"]);
        // The receiver is down: the first event of each account is tried and retried.
        eventually("each account's first delivery failed twice", || {
            let receiver = receiver.clone();
            async move {
                let got = receiver.got.lock().unwrap();
                ["lark-1", "lark-2"].iter().all(|a| {
                    got.iter().filter(|r| r.body.contains(&format!("\"account_id\":\"{a}\""))).count() >= 2
                })
            }
        })
        .await;
        let got = receiver.got.lock().unwrap().clone();
        let distinct: std::collections::BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(distinct.len(), 2, "only the oldest delivery of each account is tried");

        // tend restarts while the receiver is down; then the receiver recovers
        // after a few more failures.
        server.restart(quick(10_000)).await;
        receiver.failures.store(3, Ordering::SeqCst);
        receiver.down.store(false, Ordering::SeqCst);
        eventually("every delivery is delivered", || {
            let log = log(&server);
            async move {
                let page = log.await;
                page["items"].as_array().unwrap().iter().all(|d| d["status"] == "delivered")
            }
        })
        .await;

        let page = log(&server).await;
        let deliveries: Vec<&Value> = page["items"].as_array().unwrap().iter().rev().collect();
        let accepted = receiver.accepted();
        let ids: Vec<&str> = accepted.iter().map(|r| r.id.as_str()).collect();
        let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), 4, "each event accepted once: {ids:?}");
        assert_eq!(unique.len(), 4);
        for account in ["lark-1", "lark-2"] {
            let sent: Vec<&str> = deliveries
                .iter()
                .filter(|d| d["account_id"] == account)
                .map(|d| d["message_id"].as_str().unwrap())
                .collect();
            let received: Vec<&str> = accepted
                .iter()
                .filter(|r| sent.contains(&r.id.as_str()))
                .map(|r| r.id.as_str())
                .collect();
            assert_eq!(received, sent, "{account}'s events in the order they happened");
        }
        for d in &deliveries {
            assert!(d["attempts"].as_i64().unwrap() >= 1);
            assert!(d["last_error"].is_null() && d["delivered_at"].is_string(), "{d}");
        }
        let first_of_lark_1 = deliveries.iter().find(|d| d["account_id"] == "lark-1").unwrap();
        assert!(first_of_lark_1["attempts"].as_i64().unwrap() >= 3, "{first_of_lark_1}");

        // What arrived is signed, and says what happened.
        for r in &accepted {
            let timestamp: i64 = r.timestamp.parse().unwrap();
            assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
            assert_eq!(sign(&secret, &r.id, timestamp, &r.body).signature, r.signature);
        }
        let events: Vec<Value> = accepted.iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
        let band_change = events.iter().find(|e| e["type"] == "health.band_changed").unwrap();
        assert_eq!(band_change["data"]["account_id"], "lark-2");
        assert_eq!((band_change["data"]["from_band"].as_str(), band_change["data"]["to_band"].as_str()), (Some("violet"), Some(&*band)));
        let drop = events.iter().find(|e| e["type"] == "health.dropped").unwrap();
        assert_eq!(drop["data"]["from_score"], json!(score + 25.0));
        assert_eq!(drop["data"]["score"], json!(score));
        let update = events.iter().find(|e| e["type"] == "account.updated").unwrap();
        assert_eq!(update["data"]["reasons"], json!(["account.update"]));
        assert_eq!(update["timestamp"], "2026-06-30T12:00:00.000Z");
    })
    .await;
}

#[tokio::test]
async fn a_subscription_that_keeps_failing_is_turned_off_and_can_be_turned_on() {
    test_support::on_every_backend("webhooks_disabled", |store, dir| async move {
        let mut server = common::start(store.clone(), &dir).await;
        server.restart(quick(3)).await;
        let receiver = Receiver::default();
        receiver.down.store(true, Ordering::SeqCst);
        let url = receiver.clone().start().await;
        eventually("the fixture's changes are handled", || drained(&store)).await;
        let (_, created) = subscribe(
            &server,
            json!({"url": url, "event_types": ["account.updated"]}),
        )
        .await;
        let id = created["webhook"]["id"].as_str().unwrap().to_string();
        edit_tier(&server, "lark-3", "silver").await;
        let path = format!("/api/v1/webhooks/{id}");
        eventually("the subscription is turned off", || {
            let server = &server;
            let path = path.clone();
            async move { get(server, &path).await["active"] == false }
        })
        .await;
        let webhook = get(&server, &path).await;
        assert_eq!(webhook["disabled_reason"], "3 failed attempts in a row");
        assert_eq!(webhook["failure_streak"], 3);
        let audit = get(&server, "/api/v1/audit?limit=20").await;
        let entry = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "webhook.disable")
            .unwrap()
            .clone();
        assert_eq!(
            (entry["actor"].as_str(), entry["target"].as_str()),
            (Some("tend"), Some(id.as_str()))
        );
        let log = get(&server, &format!("{path}/deliveries")).await;
        let delivery = &log["items"][0];
        assert_eq!(
            (
                delivery["status"].as_str(),
                delivery["last_status"].as_i64()
            ),
            (Some("pending"), Some(503))
        );
        assert_eq!(delivery["last_error"], "the receiver answered 503");
        let tries = receiver.got.lock().unwrap().len();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            receiver.got.lock().unwrap().len(),
            tries,
            "nothing is sent to a subscription turned off"
        );

        // Turned on again, it sends what waited.
        receiver.down.store(false, Ordering::SeqCst);
        let on = reqwest::Client::new()
            .patch(server.url(&path))
            .header("authorization", server.token("ada"))
            .json(&json!({"active": true}))
            .send()
            .await
            .unwrap();
        let on: Value = on.json().await.unwrap();
        assert_eq!(
            (on["active"].as_bool(), on["failure_streak"].as_i64()),
            (Some(true), Some(0))
        );
        eventually("the waiting event is delivered", || {
            let receiver = receiver.clone();
            async move { receiver.accepted().len() == 1 }
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn slack_gets_a_message_and_bad_subscriptions_are_refused() {
    test_support::on_every_backend("webhooks_slack", |store, dir| async move {
        let mut server = common::start(store.clone(), &dir).await;
        server.restart(quick(100)).await;
        let receiver = Receiver::default();
        let url = receiver.clone().start().await;
        eventually("the fixture's changes are handled", || drained(&store)).await;
        let (status, _) = subscribe(&server, json!({"url": url, "event_types": ["account.updated"], "format": "slack"})).await;
        assert_eq!(status, 201);
        edit_tier(&server, "lark-1", "silver").await;
        eventually("the message is delivered", || {
            let receiver = receiver.clone();
            async move { receiver.accepted().len() == 1 }
        })
        .await;
        let message: Value = serde_json::from_str(&receiver.accepted()[0].body).unwrap();
        let name = store.account("lark-1").await.unwrap().unwrap().name;
        assert_eq!(message, json!({"text": format!("*{name}* (lark-1) was updated.")}));

        for (body, pointer) in [
            (json!({"url": "not a url", "event_types": ["account.updated"]}), "/url"),
            (json!({"url": "ftp://example.com/x", "event_types": ["account.updated"]}), "/url"),
            (json!({"url": "https://example.com/x", "event_types": []}), "/event_types"),
            (json!({"url": "https://example.com/x", "event_types": ["account.updated", "health.soared"]}), "/event_types/1"),
            (json!({"url": "https://example.com/x", "event_types": ["account.updated"], "format": "teams"}), "/format"),
        ] {
            let (status, problem) = subscribe(&server, body).await;
            assert_eq!(status, 400, "{problem}");
            assert_eq!(problem["pointer"], pointer, "{problem}");
        }
        let (status, problem) = subscribe(&server, json!({"url": "https://example.com/x", "event_types": ["account.updated"], "colour": "red"})).await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(get(&server, "/api/v1/webhooks").await["items"].as_array().unwrap().len(), 1, "nothing else was made");
        let missing = reqwest::Client::new()
            .get(server.url("/api/v1/webhooks/wh_nope/deliveries"))
            .header("authorization", server.token("ada"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
    })
    .await;
}
