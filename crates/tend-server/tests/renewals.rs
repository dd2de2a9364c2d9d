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

#[tokio::test]
async fn the_forecast_needs_a_closed_renewal_and_then_weighs_the_open_ones_by_history() {
    test_support::on_every_backend("api_forecast", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let client = reqwest::Client::new();
        let get = |path: &str| {
            client
                .get(server.url(path))
                .header("authorization", server.token("vic"))
                .send()
        };
        // Nothing has come due yet: no history, no model, no forecast.
        let response = get("/api/v1/forecast").await.unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("no renewal closed"),
            "{problem}"
        );

        // A second product: lark-1 renewed it at 1.1×, lark-4 let it lapse.
        let upload = client
            .post(server.url("/api/v1/imports/contracts?format=csv"))
            .header("authorization", server.token("lena"))
            .body(
                "id,account_id,product,seats,arr_minor,currency,start_date,end_date\n\
                 a-1,lark-1,analytics,10,1000000,USD,2024-09-01,2025-08-31\n\
                 a-2,lark-1,analytics,10,1100000,USD,2025-09-01,2026-08-31\n\
                 a-3,lark-4,analytics,2,200000,USD,2024-11-01,2025-10-31\n",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(upload.status(), 200);

        let body: Value = get("/api/v1/forecast?periods=2")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["day"], "2026-06-30");
        assert_eq!(body["currency"], "USD");
        assert_eq!(body["history"]["won"], 1);
        assert_eq!(body["history"]["lost"], 1);
        let q3 = &body["periods"][0];
        assert_eq!(q3["period"], "2026-Q3");
        assert_eq!(q3["start"], "2026-07-01");
        assert_eq!(q3["end"], "2026-10-01");
        // lark-4 (3,600.00), lark-1's analytics (11,000.00), lark-2 (14,400.00), each
        // renewing with 1/2 at 1.1×.
        assert_eq!(q3["renewals"], 3);
        assert_eq!(q3["open"], 3);
        assert_eq!(q3["from_history"], 3);
        assert_eq!(q3["renewable"]["minor"], 2_900_000);
        assert_eq!(q3["expected"]["minor"], 1_595_000);
        assert_eq!(q3["expected_expansion"]["minor"], 145_000);
        assert_eq!(q3["expected_churn"]["minor"], 1_450_000);
        assert_eq!(q3["grr"], 0.5);
        assert!((q3["nrr"].as_f64().unwrap() - 0.55).abs() < 1e-12);
        let (p10, p90) = (
            q3["p10"]["minor"].as_i64().unwrap(),
            q3["p90"]["minor"].as_i64().unwrap(),
        );
        assert!(p10 < 1_595_000 && 1_595_000 < p90, "{q3}");
        // lark-3's EUR term in Q4 has no rate to USD: counted as left out.
        assert_eq!(body["periods"][1]["period"], "2026-Q4");
        assert_eq!(body["left_out"][0]["currency"], "EUR");

        // omar's book, a month, bad parameters.
        let body: Value = get("/api/v1/forecast?owner=omar&period=2026-09")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["periods"][0]["period"], "2026-09");
        assert_eq!(body["periods"][0]["renewable"]["minor"], 2_540_000);
        for (query, pointer) in [
            ("period=2026-Q5", "period"),
            ("periods=13", "periods"),
            ("draws=0", "draws"),
            ("colour=red", ""),
        ] {
            let response = get(&format!("/api/v1/forecast?{query}")).await.unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
            let problem: Value = response.json().await.unwrap();
            if !pointer.is_empty() {
                assert_eq!(problem["pointer"], pointer, "{query}: {problem}");
            }
        }

        // The backtest: by 2025-09-30 lark-1's renewal was won, so 2025-Q4 was
        // forecast to renew lark-4's in full (at 1.1×) and it lapsed; 2026-Q1 had
        // nothing due and earlier quarters nothing to learn from.
        let body: Value = get("/api/v1/forecast/backtest?quarters=4")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let quarters = body["quarters"].as_array().unwrap();
        assert_eq!(quarters.len(), 1, "{body}");
        let q4 = &quarters[0];
        assert_eq!(q4["quarter"], "2025-Q4");
        assert_eq!(q4["as_of"], "2025-09-30");
        assert_eq!(q4["renewable"]["minor"], 200_000);
        assert_eq!(q4["actual"]["minor"], 0);
        assert_eq!(q4["p50"]["minor"], 220_000);
        assert_eq!(q4["naive"]["minor"], 220_000);
        assert_eq!(q4["inside"], false);
        assert_eq!(body["coverage"], 0.0);
        assert_eq!(
            body["skipped"],
            serde_json::json!(["2025-Q2", "2025-Q3", "2026-Q1"])
        );
        let response = get("/api/v1/forecast/backtest?quarters=21").await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    })
    .await;
}
