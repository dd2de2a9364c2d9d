//! Expansion over real HTTP, on SQLite and PostgreSQL, against Larkspur: an account
//! manager opens an opportunity and wins it, the report counts it in its quarter,
//! and bad input names the field.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tend_store::test_support;

#[tokio::test]
async fn opportunities_are_opened_won_and_reported_and_bad_input_names_the_field() {
    test_support::on_every_backend("api_expansion", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let client = reqwest::Client::new();
        let call = |method: reqwest::Method, who: &str, path: &str, body: Option<Value>| {
            let request = client
                .request(method, server.url(path))
                .header("authorization", server.token(who));
            match body {
                Some(body) => request.json(&body).send(),
                None => request.send(),
            }
        };
        let opened = json!({
            "product": "analytics", "amount_minor": 1_200_000, "currency": "USD",
            "close_on": "2026-07-31", "source": "signal", "source_detail": "high_utilization"
        });
        let response = call(
            reqwest::Method::POST,
            "omar",
            "/api/v1/accounts/lark-1/opportunities",
            Some(opened.clone()),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["stage"], "identified");
        assert_eq!(created["owner"], "omar");
        assert_eq!(created["source"], "signal");
        assert_eq!(created["amount"]["minor"], 1_200_000);
        let id = created["id"].as_i64().unwrap();

        let path = format!("/api/v1/opportunities/{id}");
        let won = json!({"stage": "closed_won", "close_on": "2026-06-15"});
        let response = call(reqwest::Method::PATCH, "omar", &path, Some(won))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let reopen = json!({"stage": "qualified"});
        let response = call(reqwest::Method::PATCH, "omar", &path, Some(reopen))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT);

        let listed: Value = call(
            reqwest::Method::GET,
            "vic",
            "/api/v1/opportunities?stage=closed_won",
            None,
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);

        let report: Value = call(
            reqwest::Method::GET,
            "vic",
            "/api/v1/expansion/report?period=2026-Q2",
            None,
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let q2 = &report["periods"][0];
        assert_eq!(q2["period"], "2026-Q2", "{report}");
        assert_eq!(
            (q2["won"].as_i64(), q2["won_amount"]["minor"].as_i64()),
            (Some(1), Some(1_200_000))
        );
        let sources: Vec<&str> = q2["by_source"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(sources, ["manual", "playbook", "signal", "unattributed"]);

        for path in ["/api/v1/expansion/whitespace", "/api/v1/expansion/signals"] {
            let response = call(reqwest::Method::GET, "vic", path, None).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }

        // Bad input names the field, and nothing is written.
        let with = |extra: Value| {
            let mut body = opened.clone();
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            body
        };
        for (body, pointer) in [
            (with(json!({"currency": "EURO"})), "/currency"),
            (with(json!({"amount_minor": 0})), "/amount"),
            (with(json!({"source": "rumour"})), "/source"),
            (with(json!({"stage": "won"})), "/stage"),
            (with(json!({"product": "  "})), "/product"),
        ] {
            let response = call(
                reqwest::Method::POST,
                "omar",
                "/api/v1/accounts/lark-1/opportunities",
                Some(body),
            )
            .await
            .unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{pointer}");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["pointer"], pointer, "{problem}");
        }
        let response = call(
            reqwest::Method::GET,
            "vic",
            "/api/v1/expansion/signals?kind=hunch",
            None,
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let all: Value = call(reqwest::Method::GET, "vic", "/api/v1/opportunities", None)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(all["items"].as_array().unwrap().len(), 1);
    })
    .await;
}
