//! The renewal pipeline over real HTTP, on SQLite and PostgreSQL, against Larkspur
//! (four one-contract accounts, one in EUR): every term due in the window, soonest
//! first, with its dates, ARR, stage and owner; filters and a bad window.

mod common;

use reqwest::StatusCode;
use serde_json::Value;
use tend_store::test_support;

#[tokio::test]
async fn the_pipeline_lists_each_term_coming_due_with_its_dates() {
    test_support::on_every_backend("api_renewals", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let client = reqwest::Client::new();
        let get = |path: &str| {
            client
                .get(server.url(path))
                .header("authorization", server.token("vic"))
                .send()
        };
        // The data ends 2026-06-30: the default window runs 180 days from there.
        let response = get("/api/v1/renewals").await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["day"], "2026-06-30");
        let items = body["items"].as_array().unwrap();
        let due: Vec<(&str, &str)> = items
            .iter()
            .map(|r| {
                (
                    r["account_id"].as_str().unwrap(),
                    r["due_on"].as_str().unwrap(),
                )
            })
            .collect();
        // lark-1's term runs to 2027-01-31, past the window.
        assert_eq!(
            due,
            [
                ("lark-4", "2026-07-05"),
                ("lark-2", "2026-09-15"),
                ("lark-3", "2026-10-10")
            ]
        );
        let lark2 = &items[1];
        assert_eq!(lark2["arr"]["minor"], 1_440_000);
        assert_eq!(lark2["arr"]["currency"], "USD");
        assert_eq!(lark2["owner"], "omar");
        assert_eq!(lark2["stage"], "outreach");
        assert_eq!(
            lark2["milestones"],
            serde_json::json!(["2026-05-18", "2026-06-17", "2026-07-17", "2026-08-16"])
        );
        assert_eq!(lark2["next_date"]["name"], "T-60");
        assert_eq!(lark2["next_date"]["day"], "2026-07-17");
        assert!(lark2["outcome"].is_null());
        assert!(
            lark2["model_renewal_probability"].is_null(),
            "no model fitted"
        );
        // lark-4 has no account manager: its CSM owns the renewal.
        assert_eq!(items[0]["owner"], "lee");
        assert_eq!(items[0]["next_date"]["name"], "notice deadline");
        assert_eq!(items[2]["arr"]["currency"], "EUR");

        // A book, a longer window, a bad one.
        let body: Value = get("/api/v1/renewals?owner=jane&to=2027-03-01")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["account_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["lark-2", "lark-1"]);
        let response = get("/api/v1/renewals?from=2026-08-01&to=2026-07-01")
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["pointer"], "from");
    })
    .await;
}
