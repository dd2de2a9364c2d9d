//! The seed agents' JSON messages over real HTTP, on SQLite and PostgreSQL, against
//! Larkspur (four accounts in two books, no churn model): the context of a CSM's
//! book, of the whole portfolio and of one account, the progress report, and bad
//! requests answered with the field at fault. The MCP transports themselves are
//! tested with the official SDK by tools/mcp_clients.sh.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tend_store::test_support;

fn seed(request_type: &str, payload: Value) -> Value {
    json!({
        "requesting_agent": "customer-success-manager",
        "request_type": request_type,
        "payload": payload,
    })
}

#[tokio::test]
async fn agents_get_the_context_of_their_book_computed_from_the_store() {
    test_support::on_every_backend("api_agents", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let client = reqwest::Client::new();
        let send = |who: &str, body: Value| {
            client
                .post(server.url("/api/v1/agent/messages"))
                .header("authorization", server.token(who))
                .json(&body)
        };
        let ask = |who: &str, body: Value| {
            let request = send(who, body);
            async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
        };
        let query = "Customer context needed: account segments, product usage, health metrics, churn risks, growth opportunities, and success goals.";

        // Jane's book: lark-1 and lark-2, with their stored health.
        let day = server.store.latest_health_day().await.unwrap().unwrap();
        let snapshots = server.store.health_snapshots_on(day).await.unwrap();
        let score = |id: &str| {
            snapshots
                .iter()
                .find(|s| s.account_id == id)
                .and_then(|s| s.score.overall)
                .unwrap()
        };
        let response = send("jane", seed("get_customer_context", json!({ "query": query })))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["responding_agent"], "tend");
        let context = &body["context"];
        assert_eq!(context["owner"], "jane");
        assert_eq!(context["accounts"], 2);
        let mut ids: Vec<&str> = context["account_page"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| line["id"].as_str().unwrap())
            .collect();
        ids.sort();
        assert_eq!(ids, ["lark-1", "lark-2"]);
        let average = (score("lark-1") + score("lark-2")) / 2.0;
        let shown = context["health"]["average"].as_f64().unwrap();
        assert!((shown - (average * 10.0).round() / 10.0).abs() < 1e-9, "{shown} vs {average}");
        assert!(context["churn_risks"].is_null(), "no model is fitted: {context}");
        assert_eq!(context["segments"][0]["segment"], "mid-market");
        assert!(body["summary"].as_str().unwrap().starts_with("2 accounts in jane's book"));

        // The whole portfolio when asked, for a reader without a book.
        let body = ask("vic", seed("get_customer_context", json!({ "owner": "*" }))).await;
        assert_eq!(body["context"]["accounts"], 4);
        let segments: Vec<(&str, u64)> = body["context"]["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["segment"].as_str().unwrap(), s["accounts"].as_u64().unwrap()))
            .collect();
        assert_eq!(segments, [("mid-market", 2), ("smb", 2)]);

        // One account.
        let body = ask("jane", seed("get_customer_context", json!({ "account_id": "lark-3" }))).await;
        assert_eq!(body["context"]["id"], "lark-3");
        assert_eq!(body["context"]["csm_owner"], "lee");
        let shown = body["context"]["health"]["score"].as_f64().unwrap();
        assert!((shown - (score("lark-3") * 10.0).round() / 10.0).abs() < 1e-9);

        // The progress message of Lee's book.
        let body = ask("lee", seed("progress_report", json!({}))).await;
        let progress = &body["context"]["progress"];
        assert_eq!(progress["accounts_managed"], 2);
        let lee = ((score("lark-3") + score("lark-4")) / 2.0).round();
        assert_eq!(progress["health_score_avg"].as_f64().unwrap(), lee);
        assert!(body["summary"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Managing 2 accounts with average health score of {lee:.0}")));

        // Bad requests name what is wrong; no token, no answer.
        let bad = [
            (seed("get_everything", json!({})), StatusCode::BAD_REQUEST, "/request_type"),
            (seed("get_customer_context", json!({ "limit": 1000 })), StatusCode::BAD_REQUEST, "/payload"),
            (seed("get_customer_context", json!({ "colour": "red" })), StatusCode::BAD_REQUEST, "/payload/colour"),
            (json!({ "request_type": "get_customer_context" }), StatusCode::BAD_REQUEST, ""),
        ];
        for (body, status, pointer) in bad {
            let response = send("jane", body.clone()).send().await.unwrap();
            assert_eq!(response.status(), status, "{body}");
            let problem: Value = response.json().await.unwrap();
            assert!(
                problem["pointer"].as_str().unwrap_or("").starts_with(pointer),
                "{body}: {problem}"
            );
        }
        let response = send("jane", seed("get_customer_context", json!({ "account_id": "lark-9" })))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = client
            .post(server.url("/api/v1/agent/messages"))
            .json(&seed("get_customer_context", json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    })
    .await;
}
