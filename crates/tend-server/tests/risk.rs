//! Churn risk, retention and lifetime value over real HTTP, on SQLite and
//! PostgreSQL: a demo company beside Larkspur, its model fitted, then the table, one
//! account explained, the reports, a refit as a job (audited, refused to a CSM), and
//! bad parameters answered with the parameter at fault.

mod common;

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::Value;
use tend_engine::health::load_scorecards;
use tend_engine::risk::{refit, RiskOptions};
use tend_store::test_support;

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn risk_retention_and_value_are_served_to_every_reader() {
    test_support::on_every_backend("api_risk", |store, dir| async move {
        let company = tend_demo::generate(&tend_demo::DemoConfig {
            accounts: 260,
            months: 24,
            seed: 3,
            as_of: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
        });
        let mut tx = store.begin().await.unwrap();
        tend_engine::demo::write_company(&mut tx, &company)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let server = common::start(store, &dir).await;
        let set = load_scorecards(None).unwrap();
        let fitted = refit(
            &server.store,
            &set,
            common::today(),
            &RiskOptions::default(),
            &|_, _| {},
        )
        .await
        .unwrap();
        assert!(
            fitted.model_id.is_some(),
            "{:?}",
            fitted.evaluation.too_little
        );

        let client = reqwest::Client::new();
        let viewer = server.token("vic");
        let get = |path: &str| {
            client
                .get(server.url(path))
                .header("authorization", &viewer)
        };

        let table = get("/api/v1/risk?limit=5").send().await.unwrap();
        assert_eq!(table.status(), 200);
        let table = body(table).await;
        assert_eq!(table["day"], "2026-06-30");
        let rows = table["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(table["total"].as_u64().unwrap() as usize, fitted.scored);
        let probabilities: Vec<f64> = rows
            .iter()
            .map(|r| r["probability"].as_f64().unwrap())
            .collect();
        assert!(probabilities.windows(2).all(|w| w[0] >= w[1]));
        assert!(!rows[0]["reasons"][0].as_str().unwrap().contains('_'));
        let high = body(
            get("/api/v1/risk?band=high&limit=1000")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(high["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["band"] == "high"));

        let top = rows[0]["account_id"].as_str().unwrap();
        let one = body(
            get(&format!("/api/v1/accounts/{top}/risk?day=2026-06-30"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(one["account_id"], top);
        assert!((one["probability"].as_f64().unwrap() - probabilities[0]).abs() < 1e-9);
        assert!(!one["reasons"].as_array().unwrap().is_empty());
        let unknown = get("/api/v1/accounts/nobody/risk").send().await.unwrap();
        assert_eq!(unknown.status(), 404);

        let retention = body(get("/api/v1/retention").send().await.unwrap()).await;
        assert!(retention["accounts"].as_u64().unwrap() >= 260);
        assert_eq!(retention["lifetimes"]["unit"], "months");
        assert!(!retention["cohorts"].as_array().unwrap().is_empty());
        let why = body(get("/api/v1/retention/why").send().await.unwrap()).await;
        assert_eq!(
            why["signals"].as_array().unwrap().len(),
            tend_core::signals::EARLY_WARNINGS.len()
        );
        let clv = body(
            get("/api/v1/clv?limit=3&discount_rate=0.2")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(clv["risk_day"], "2026-06-30");
        assert_eq!(clv["accounts"].as_array().unwrap().len(), 3, "{clv}");
        assert!(clv["accounts"][0]["churn_probability"].is_number());

        for (path, parameter) in [
            ("/api/v1/risk?target=everything", "target"),
            ("/api/v1/risk?limit=0", "limit"),
            ("/api/v1/risk?band=purple", "band"),
            ("/api/v1/clv?discount_rate=2", "discount_rate"),
            ("/api/v1/clv?discount_rate=0", "discount_rate"),
            ("/api/v1/retention?currency=XYZ1", "currency"),
        ] {
            let answer = get(path).send().await.unwrap();
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{path}");
            let problem = body(answer).await;
            assert!(problem.to_string().contains(parameter), "{path}: {problem}");
        }

        // The live path: a change to an account scores its stored risk again with the
        // stored model. A stand-in probability is put in first, so the rescore shows.
        let stored = |store: tend_store::Store, id: String| async move {
            store
                .risk_snapshots_on("churn", common::today())
                .await
                .unwrap()
                .into_iter()
                .find(|s| s.account_id == id)
                .unwrap()
        };
        let mut stand_in = stored(server.store.clone(), top.to_string()).await;
        stand_in.probability = 0.123456;
        let mut tx = server.store.begin().await.unwrap();
        tx.upsert_risk_snapshots(&[stand_in]).await.unwrap();
        tx.commit().await.unwrap();
        let logged = client
            .post(server.url(&format!("/api/v1/accounts/{top}/activities")))
            .header("authorization", server.token("ada"))
            .json(&serde_json::json!({"kind": "call", "subject": "renewal check-in"}))
            .send()
            .await
            .unwrap();
        assert_eq!(logged.status(), 201);
        let waited = std::time::Instant::now();
        loop {
            let now = stored(server.store.clone(), top.to_string()).await;
            if now.probability != 0.123456 {
                assert!((0.0..=1.0).contains(&now.probability));
                break;
            }
            assert!(
                waited.elapsed().as_secs() < 30,
                "the change was not scored within 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }

        // A refit is a portfolio write: refused to a CSM, audited for a leader.
        let refused = client
            .post(server.url("/api/v1/risk/refit"))
            .header("authorization", server.token("jane"))
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
        let bad = client
            .post(server.url("/api/v1/risk/refit"))
            .header("authorization", server.token("lena"))
            .json(&serde_json::json!({"horizon_days": 5}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        let started = client
            .post(server.url("/api/v1/risk/refit"))
            .header("authorization", server.token("lena"))
            .json(&serde_json::json!({"horizon_days": 120}))
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 202);
        let id = body(started).await["id"].as_u64().unwrap();
        let job = loop {
            let job = body(get(&format!("/api/v1/jobs/{id}")).send().await.unwrap()).await;
            if job["state"] != "running" {
                break job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(job["state"], "succeeded", "{job}");
        assert!(job["risk_model_id"].as_i64().unwrap() > fitted.model_id.unwrap());
        assert_eq!(job["risk_evaluation"]["horizon_days"], 120);
        let audit = server.store.audit_log(50).await.unwrap();
        let lena = format!("token:{}", server.tokens["lena"].split('_').nth(1).unwrap());
        let entry = audit.iter().find(|e| e.action == "risk.refit").unwrap();
        assert_eq!(
            (entry.actor.as_str(), entry.target.as_str()),
            (lena.as_str(), "churn")
        );
    })
    .await;
}
