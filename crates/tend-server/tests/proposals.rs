//! Proposals and approvals over real HTTP, on SQLite and PostgreSQL, against Larkspur
//! with the shipped guardrails: within them a proposal is approved at once; beyond
//! them it waits for a leader with the reasons in words; its maker never decides it;
//! every step is audited and queued as a webhook event.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tend_store::test_support;

fn proposal(discount: f64, term_months: u32, extra: Value) -> Value {
    let mut body = json!({
        "kind": "renewal", "currency": "USD", "discount_percent": discount,
        "lines": [{"product": "Business", "seats": 40, "list_price": 40000}],
        "term_months": term_months, "payment_terms": "annual_in_advance",
        "start_on": "2027-02-01"
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

#[tokio::test]
async fn proposals_within_the_guardrails_are_approved_and_beyond_them_wait_for_a_leader() {
    test_support::on_every_backend("api_proposals", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let client = reqwest::Client::new();
        let send = |who: &str, path: &str, body: Value| {
            client
                .post(server.url(path))
                .header("authorization", server.token(who))
                .json(&body)
                .send()
        };
        let get = |who: &str, path: &str| {
            client
                .get(server.url(path))
                .header("authorization", server.token(who))
                .send()
        };

        // omar, lark-1's account manager: 10% off 40 seats at 400.00 is within.
        let response = send(
            "omar",
            "/api/v1/accounts/lark-1/proposals",
            proposal(10.0, 12, json!({})),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let within: Value = response.json().await.unwrap();
        assert_eq!(within["status"], "approved");
        assert_eq!(within["route"], Value::Null);
        assert_eq!(within["arr"]["minor"], 40 * 36_000);
        assert_eq!(within["created_by"], "omar");

        // 18% off for three years: sales leadership, with both reasons.
        let response = send(
            "omar",
            "/api/v1/accounts/lark-1/proposals",
            proposal(18.0, 36, json!({})),
        )
        .await
        .unwrap();
        let pending: Value = response.json().await.unwrap();
        assert_eq!(pending["status"], "pending", "{pending}");
        assert_eq!(pending["route"], "sales_leadership");
        let reasons: Vec<&str> = pending["breaches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "discount 18% exceeds the 10% limit",
                "a 36-month term exceeds the 24-month limit"
            ]
        );
        assert_eq!(pending["total_value"]["minor"], 3 * 40 * 32_800);
        let id = pending["id"].as_i64().unwrap();

        // Non-standard terms go to the CRO.
        let cro: Value = send(
            "omar",
            "/api/v1/accounts/lark-1/proposals",
            proposal(0.0, 12, json!({"non_standard_terms": "uncapped liability"})),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(cro["route"], "cro");

        // Leaders see both waiting; the account manager has nothing to approve and
        // may not approve his own; nor may an admin, who runs the system.
        let waiting: Value = get("lena", "/api/v1/approvals")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(waiting["items"].as_array().unwrap().len(), 2);
        let mine: Value = get("omar", "/api/v1/approvals")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(mine["items"], json!([]));
        let approve = format!("/api/v1/proposals/{id}/approve");
        for who in ["omar", "ada", "jane", "vic"] {
            let response = send(who, &approve, json!({})).await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{who}");
        }
        // A rejection needs a comment; an approval takes one.
        let response = send("lena", &format!("/api/v1/proposals/{id}/reject"), json!({}))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let response = send(
            "lena",
            &approve,
            json!({"comment": "multi-year is worth it"}),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let approved: Value = response.json().await.unwrap();
        assert_eq!(approved["status"], "approved");
        // lena's token has no book: it is named by itself, as in the audit log.
        assert!(approved["decided_by"]
            .as_str()
            .unwrap()
            .starts_with("token:"));
        assert_eq!(approved["decision_comment"], "multi-year is worth it");
        let again = send("lena", &approve, json!({})).await.unwrap();
        assert_eq!(again.status(), StatusCode::CONFLICT);
        let within_id = within["id"].as_i64().unwrap();
        let response = send(
            "lena",
            &format!("/api/v1/proposals/{within_id}/approve"),
            json!({}),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT, "needs no approval");

        // A leader's own proposal waits for another leader.
        let own: Value = send(
            "lena",
            "/api/v1/accounts/lark-1/proposals",
            proposal(20.0, 12, json!({})),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let response = send(
            "lena",
            &format!("/api/v1/proposals/{}/approve", own["id"]),
            json!({}),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);

        // Listed by status; every step audited; events queued.
        let listed: Value = get("vic", "/api/v1/proposals?status=pending")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<i64> = listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        assert_eq!(
            ids,
            [own["id"].as_i64().unwrap(), cro["id"].as_i64().unwrap()]
        );
        let audit = server.store.audit_log(100).await.unwrap();
        let count = |action: &str| audit.iter().filter(|e| e.action == action).count();
        assert_eq!(
            (count("proposal.create"), count("proposal.approve")),
            (4, 1)
        );
        assert!(audit
            .iter()
            .any(|e| e.action == "proposal.approve" && e.target == id.to_string()));

        // Bad input names the field.
        for (body, pointer) in [
            (proposal(120.0, 12, json!({})), "/discount_percent"),
            (proposal(5.0, 0, json!({})), "/term_months"),
            (proposal(5.0, 12, json!({"currency": "EUR"})), "/currency"),
            (proposal(5.0, 12, json!({"kind": "upsell"})), "/kind"),
            (proposal(5.0, 12, json!({"lines": []})), "/lines"),
        ] {
            let response = send("omar", "/api/v1/accounts/lark-1/proposals", body)
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{pointer}");
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["pointer"], pointer, "{problem}");
        }
        let guardrails: Value = get("vic", "/api/v1/guardrails")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(guardrails["account_manager"]["max_discount_percent"], 10.0);
    })
    .await;
}
