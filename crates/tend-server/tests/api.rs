//! The API over real HTTP on SQLite and PostgreSQL: reads, writes by hand, imports,
//! sessions, and bad input answered with problem details and nothing written.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tend_store::test_support;

async fn body(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

#[tokio::test]
async fn reads_cover_the_accounts_their_records_health_and_metrics() {
    test_support::on_every_backend("api_reads", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let client = reqwest::Client::new();
        let viewer = server.token("vic");
        let get = |path: &str| {
            client
                .get(server.url(path))
                .header("authorization", &viewer)
        };

        assert_eq!(
            client
                .get(server.url("/healthz"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let ready = client.get(server.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200);
        assert!(ready.headers().contains_key("x-request-id"));

        // Filters, sorting and cursor pagination.
        let page = body(get("/api/v1/accounts?limit=3").send().await.unwrap()).await;
        let names: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["account"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Larkspur Foods", "Ostrander Labs", "Pell Metrics"]);
        let cursor = page["next_cursor"].as_str().unwrap();
        let rest = body(
            get(&format!("/api/v1/accounts?limit=3&cursor={cursor}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(rest["items"][0]["account"]["name"], "Quill & Co");
        assert!(rest["next_cursor"].is_null());
        let janes = body(
            get("/api/v1/accounts?owner=jane&sort=id")
                .send()
                .await
                .unwrap(),
        )
        .await;
        let ids: Vec<&str> = janes["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["account"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["lark-1", "lark-2"]);
        let search = body(get("/api/v1/accounts?q=QUILL").send().await.unwrap()).await;
        assert_eq!(search["items"].as_array().unwrap().len(), 1);
        let smb = body(
            get("/api/v1/accounts?segment=smb&tier=bronze&stage=onboarding")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(smb["items"][0]["account"]["id"], "lark-3");
        let by_health = body(
            get("/api/v1/accounts?sort=health&limit=1")
                .send()
                .await
                .unwrap(),
        )
        .await;
        let lowest = by_health["items"][0]["health_score"].as_f64().unwrap();
        let second_page = body(
            get(&format!(
                "/api/v1/accounts?sort=health&limit=3&cursor={}",
                by_health["next_cursor"].as_str().unwrap()
            ))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(second_page["items"].as_array().unwrap().len(), 3);
        for item in second_page["items"].as_array().unwrap() {
            assert!(item["health_score"].as_f64().unwrap() >= lowest);
        }
        let band = by_health["items"][0]["health_band"]
            .as_str()
            .unwrap()
            .to_string();
        let same_band = body(
            get(&format!("/api/v1/accounts?band={band}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(same_band["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["health_band"] == band.as_str()));

        // One account's whole picture.
        let view = body(get("/api/v1/accounts/lark-2").send().await.unwrap()).await;
        assert_eq!(view["account"]["csm_owner"], "jane");
        assert_eq!(view["contacts"][0]["id"], "c-3");
        assert_eq!(
            view["arr"][0],
            json!({"minor": 1440000, "currency": "USD", "major": 14400.0})
        );
        assert_eq!(view["open_tickets"][0]["id"], "t-1");
        assert_eq!(view["health"]["day"], "2026-06-30");
        assert!(view["explanation"]["measures"].as_array().unwrap().len() > 1);
        let missing = get("/api/v1/accounts/nope").send().await.unwrap();
        assert_eq!(missing.status(), 404);
        assert_eq!(
            missing.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(body(missing).await["detail"], "no account with id \"nope\"");

        // Records, a page at a time.
        let contacts = body(get("/api/v1/contacts?account=lark-1").send().await.unwrap()).await;
        assert_eq!(contacts["items"].as_array().unwrap().len(), 2);
        let first = body(get("/api/v1/contracts?limit=1").send().await.unwrap()).await;
        let second = body(
            get(&format!(
                "/api/v1/contracts?limit=1&cursor={}",
                first["next_cursor"].as_str().unwrap()
            ))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(
            (
                first["items"][0]["id"].as_str(),
                second["items"][0]["id"].as_str()
            ),
            (Some("k-1"), Some("k-2"))
        );
        for path in [
            "tickets",
            "survey-responses",
            "invoices",
            "payments",
            "activities",
        ] {
            let page = get(&format!("/api/v1/{path}?account=lark-4"))
                .send()
                .await
                .unwrap();
            assert_eq!(page.status(), 200, "{path}");
        }
        let payments = body(get("/api/v1/payments").send().await.unwrap()).await;
        assert_eq!(payments["items"][0]["failure_reason"], "card declined");

        // The timeline merges kinds, newest first.
        let timeline = body(
            get("/api/v1/accounts/lark-4/timeline")
                .send()
                .await
                .unwrap(),
        )
        .await;
        let kinds: Vec<&str> = timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["survey_response", "ticket", "payment"]);
        let one = body(
            get("/api/v1/accounts/lark-4/timeline?limit=1")
                .send()
                .await
                .unwrap(),
        )
        .await;
        let next = body(
            get(&format!(
                "/api/v1/accounts/lark-4/timeline?limit=2&cursor={}",
                one["next_cursor"].as_str().unwrap()
            ))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(next["items"][0]["kind"], "ticket");

        // Health.
        let table = body(get("/api/v1/health").send().await.unwrap()).await;
        assert_eq!(table["day"], "2026-06-30");
        let scores: Vec<f64> = table["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["score"].as_f64().unwrap())
            .collect();
        assert_eq!(scores.len(), 4);
        assert!(scores.windows(2).all(|w| w[0] <= w[1]), "{scores:?}");
        let paged = body(get("/api/v1/health?limit=2").send().await.unwrap()).await;
        let tail = body(
            get(&format!(
                "/api/v1/health?limit=2&cursor={}",
                paged["next_cursor"].as_str().unwrap()
            ))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(
            tail["items"][0]["account_id"],
            table["items"][2]["account_id"]
        );
        let history = body(get("/api/v1/accounts/lark-1/health").send().await.unwrap()).await;
        assert_eq!(history["days"].as_array().unwrap().len(), 1);
        let explanation = get("/api/v1/accounts/lark-1/health/explanation?day=2026-06-30")
            .send()
            .await
            .unwrap();
        assert_eq!(explanation.status(), 200);

        // The summary and metrics.
        let summary = body(get("/api/v1/summary?currency=USD").send().await.unwrap()).await;
        assert_eq!(summary["as_of"], "2026-06-30");
        assert_eq!(summary["currency"], "USD");
        let metrics = body(
            get("/api/v1/metrics?from=2026-01-01&to=2026-06-30&owner=lee")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(metrics["accounts"], 2);
        assert_eq!(metrics["nps_responses"], 1);
        assert_eq!(metrics["nps"], -100.0);
        let all = body(
            get("/api/v1/metrics?from=2026-01-01&to=2026-06-30")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(all["nps"], 0.0);
        assert_eq!(all["first_response"]["answered"], 2);
    })
    .await;
}

#[tokio::test]
async fn writes_by_hand_are_validated_audited_and_made_once() {
    test_support::on_every_backend("api_writes", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let client = reqwest::Client::new();
        let jane = server.token("jane");

        // An account edit, audited with old and new values.
        let changed = client
            .patch(server.url("/api/v1/accounts/lark-1"))
            .header("authorization", &jane)
            .json(&json!({"tier": "platinum", "lifecycle_stage": "renewal", "segment": null}))
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), 200);
        let account = body(changed).await;
        assert_eq!((account["tier"].as_str(), account["lifecycle_stage"].as_str()), (Some("platinum"), Some("renewal")));
        assert!(account["segment"].is_null());
        let stored = server.store.account("lark-1").await.unwrap().unwrap();
        assert_eq!(stored.tier.as_deref(), Some("platinum"));
        let audit = body(client.get(server.url("/api/v1/audit?limit=5")).header("authorization", server.token("ada")).send().await.unwrap()).await;
        let entry = audit["items"].as_array().unwrap().iter().find(|e| e["action"] == "account.update").unwrap().clone();
        assert_eq!(entry["actor"], format!("token:{}", server.tokens["jane"].split('_').nth(1).unwrap()));
        assert_eq!(entry["changes"]["tier"], json!(["gold", "platinum"]));
        assert_eq!(entry["changes"]["segment"], json!(["mid-market", null]));
        assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "token.use"));

        // A bad value names its field; nothing changes.
        let bad = client
            .patch(server.url("/api/v1/accounts/lark-1"))
            .header("authorization", &jane)
            .json(&json!({"lifecycle_stage": "thriving"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        let problem = body(bad).await;
        assert_eq!(problem["pointer"], "/lifecycle_stage");
        assert!(problem["detail"].as_str().unwrap().contains("thriving"), "{problem}");

        // The health table is served from memory, and a change shows at once.
        let table = |client: &reqwest::Client| {
            client
                .get(server.url("/api/v1/health?limit=10"))
                .header("authorization", server.token("vic"))
                .send()
        };
        let score_of = |table: &Value, id: &str| {
            table["items"].as_array().unwrap().iter().find(|r| r["account_id"] == id).unwrap()["score"].clone()
        };
        let before = body(table(&client).await.unwrap()).await;
        let moved = client
            .patch(server.url("/api/v1/accounts/lark-3"))
            .header("authorization", server.token("lee"))
            .json(&json!({"lifecycle_stage": "mature"}))
            .send()
            .await
            .unwrap();
        assert_eq!(moved.status(), 200);
        let after = body(table(&client).await.unwrap()).await;
        let stored = server.store.health_snapshot("lark-3", common::today()).await.unwrap().unwrap();
        assert_eq!(score_of(&after, "lark-3"), json!(stored.score.overall));
        assert_ne!(score_of(&before, "lark-3"), score_of(&after, "lark-3"), "another scorecard scores it");

        // A contact's role.
        let contact = client
            .patch(server.url("/api/v1/contacts/c-3"))
            .header("authorization", &jane)
            .json(&json!({"role": "champion"}))
            .send()
            .await
            .unwrap();
        assert_eq!(body(contact).await["role"], "champion");

        // Activities: logged once per Idempotency-Key.
        let log = |key: &'static str, subject: &'static str| {
            client
                .post(server.url("/api/v1/accounts/lark-2/activities"))
                .header("authorization", &jane)
                .header("idempotency-key", key)
                .json(&json!({"kind": "call", "subject": subject, "contact_id": "c-3"}))
                .send()
        };
        let first = log("call-1", "Renewal call").await.unwrap();
        assert_eq!(first.status(), 201);
        let first = body(first).await;
        assert_eq!(first["author"], "jane");
        let retry = log("call-1", "Renewal call").await.unwrap();
        assert_eq!(retry.status(), 201);
        assert_eq!(retry.headers()["idempotent-replayed"], "true");
        assert_eq!(body(retry).await["id"], first["id"]);
        let reused = log("call-1", "Something else").await.unwrap();
        assert_eq!(reused.status(), 409);
        let activities = server.store.activity_page(Some("lark-2"), "", 100).await.unwrap();
        assert_eq!(activities.len(), 1, "the retry logged nothing");
        // Each write queued its account's change, for the work data triggers.
        let reasons = |account: &'static str| {
            let store = server.store.clone();
            async move {
                let changes = store.changes_of(account).await.unwrap();
                changes.into_iter().map(|(c, _)| c.reason).collect::<Vec<_>>()
            }
        };
        assert!(reasons("lark-1").await.contains(&"account.update".to_string()));
        let lark_2 = reasons("lark-2").await;
        assert_eq!(lark_2.iter().filter(|r| *r == "activity.create").count(), 1, "{lark_2:?}");
        assert!(lark_2.contains(&"contact.update".to_string()), "{lark_2:?}");
        let timeline = body(client.get(server.url("/api/v1/accounts/lark-2/timeline")).header("authorization", &jane).send().await.unwrap()).await;
        assert_eq!(timeline["items"][0]["title"], "call by jane: Renewal call");

        // A token created with an Idempotency-Key: the secret is shown once and never
        // kept; the replay has it as null.
        let admin = server.token("ada");
        let create = || {
            client
                .post(server.url("/api/v1/tokens"))
                .header("authorization", &admin)
                .header("idempotency-key", "token-1")
                .json(&json!({"name": "sync", "role": "viewer"}))
                .send()
        };
        let first = body(create().await.unwrap()).await;
        let secret = first["secret"].as_str().unwrap().to_string();
        let replay = create().await.unwrap();
        assert_eq!(replay.headers()["idempotent-replayed"], "true");
        let replay = body(replay).await;
        assert_eq!(replay["token"]["id"], first["token"]["id"]);
        assert_eq!(replay["secret"], Value::Null);
        let ada_token_id = server.tokens["ada"].trim_start_matches("tend_").split('_').next().unwrap();
        let actor = format!("token:{ada_token_id}");
        let kept = server.store.stored_response(&actor, "token-1").await.unwrap().unwrap();
        assert!(!kept.body.contains(&secret), "the secret is not stored");

        // A contact of another account is refused by name.
        let wrong_contact = client
            .post(server.url("/api/v1/accounts/lark-2/activities"))
            .header("authorization", &jane)
            .json(&json!({"kind": "note", "subject": "x", "contact_id": "c-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_contact.status(), 400);
        assert_eq!(body(wrong_contact).await["pointer"], "/contact_id");

        // Users and tokens through the API; the secret is shown once.
        let admin = server.token("ada");
        let created = client
            .post(server.url("/api/v1/tokens"))
            .header("authorization", &admin)
            .json(&json!({"name": "agent", "role": "viewer"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let created = body(created).await;
        let secret = created["secret"].as_str().unwrap().to_string();
        let tokens = body(client.get(server.url("/api/v1/tokens")).header("authorization", &admin).send().await.unwrap()).await;
        assert!(!tokens.to_string().contains(&secret));
        let me = body(client.get(server.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap()).await;
        assert_eq!(me["role"], "viewer");
        let id = created["token"]["id"].as_str().unwrap();
        let revoked = client.delete(server.url(&format!("/api/v1/tokens/{id}"))).header("authorization", &admin).send().await.unwrap();
        assert_eq!(revoked.status(), 204);
        let after = client.get(server.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(after.status(), 401);
        let user = client
            .post(server.url("/api/v1/users"))
            .header("authorization", &admin)
            .json(&json!({"handle": "newbie", "email": "newbie@larkspur.example", "name": "New", "role": "csm", "password": "a long enough password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(user.status(), 201);
        let duplicate = client
            .post(server.url("/api/v1/users"))
            .header("authorization", &admin)
            .json(&json!({"handle": "newbie", "email": "other@larkspur.example", "name": "New", "role": "csm"}))
            .send()
            .await
            .unwrap();
        assert_eq!(duplicate.status(), 409);
        let short = client
            .post(server.url("/api/v1/users"))
            .header("authorization", &admin)
            .json(&json!({"handle": "shorty", "email": "s@larkspur.example", "name": "S", "role": "csm", "password": "short"}))
            .send()
            .await
            .unwrap();
        assert_eq!(short.status(), 400);
        assert_eq!(body(short).await["pointer"], "/password");
        let disabled = client.post(server.url("/api/v1/users/newbie/disable")).header("authorization", &admin).send().await.unwrap();
        assert_eq!(disabled.status(), 204);
    })
    .await;
}

#[tokio::test]
async fn uploads_import_like_the_cli_and_a_bad_file_writes_nothing() {
    test_support::on_every_backend("api_imports", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let client = reqwest::Client::new();
        let leader = server.token("lena");
        let before = server.store.counts().await.unwrap();
        let bad = client
            .post(server.url("/api/v1/imports/contacts"))
            .header("authorization", &leader)
            .header("content-type", "text/csv")
            .body("id,account_id,name,role\nc-9,lark-1,Nell,champion\nc-10,lark-404,Ghost,user\nc-11,lark-2,Bo,boss\n")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 422);
        let problem = body(bad).await;
        let errors = problem["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 2, "{problem}");
        assert_eq!((errors[0]["line"].as_u64(), errors[0]["field"].as_str()), (Some(3), Some("account_id")));
        assert_eq!((errors[1]["line"].as_u64(), errors[1]["field"].as_str()), (Some(4), Some("role")));
        assert_eq!(server.store.counts().await.unwrap(), before, "nothing was written");

        let contact_imports_before = server.store.changes_of("lark-1").await.unwrap().iter().filter(|(c, _)| c.reason == "import.contacts").count();
        let good = client
            .post(server.url("/api/v1/imports/contacts?format=csv"))
            .header("authorization", &leader)
            .body("id,account_id,name,role\nc-9,lark-1,Nell,champion\n")
            .send()
            .await
            .unwrap();
        assert_eq!(good.status(), 200);
        let report = body(good).await;
        assert_eq!((report["written"].as_u64(), report["accounts"].as_u64()), (Some(1), Some(1)));
        let queued = server.store.changes_of("lark-1").await.unwrap();
        let contact_imports = queued.iter().filter(|(c, _)| c.reason == "import.contacts").count();
        assert_eq!(contact_imports, contact_imports_before + 1, "the upload queued lark-1's change");
        let jsonl = client
            .post(server.url("/api/v1/imports/activities"))
            .header("authorization", &leader)
            .header("content-type", "application/x-ndjson")
            .body("{\"id\":\"a-9\",\"account_id\":\"lark-3\",\"kind\":\"note\",\"author\":\"lee\",\"occurred_at\":\"2026-06-29T10:00:00Z\",\"subject\":\"Sent the guide\"}\n")
            .send()
            .await
            .unwrap();
        assert_eq!(jsonl.status(), 200);
        let unknown = client
            .post(server.url("/api/v1/imports/widgets"))
            .header("authorization", &leader)
            .header("content-type", "text/csv")
            .body("id\n1\n")
            .send()
            .await
            .unwrap();
        assert_eq!(unknown.status(), 400);
        assert_eq!(body(unknown).await["pointer"], "entity");
        let no_type = client
            .post(server.url("/api/v1/imports/contacts"))
            .header("authorization", &leader)
            .body("id\n")
            .send()
            .await
            .unwrap();
        assert_eq!(no_type.status(), 415);
        let csm = client
            .post(server.url("/api/v1/imports/contacts"))
            .header("authorization", server.token("jane"))
            .header("content-type", "text/csv")
            .body("id,account_id,name,role\nc-12,lark-1,Nell,champion\n")
            .send()
            .await
            .unwrap();
        assert_eq!(csm.status(), 403);
    })
    .await;
}

#[tokio::test]
async fn bad_input_gets_a_problem_naming_the_field_and_changes_nothing() {
    test_support::on_every_backend("api_bad_input", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let client = reqwest::Client::new();
        let admin = server.token("ada");
        let before = server.store.counts().await.unwrap();
        let patch = |body: Vec<u8>| {
            client
                .patch(server.url("/api/v1/accounts/lark-1"))
                .header("authorization", &admin)
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let wrong_type = patch(br#"{"tier": 5}"#.to_vec()).await.unwrap();
        assert_eq!(wrong_type.status(), 400);
        let problem = body(wrong_type).await;
        assert_eq!(problem["pointer"], "/tier");
        let unknown = patch(br#"{"tier": "x", "colour": "red"}"#.to_vec())
            .await
            .unwrap();
        assert_eq!(unknown.status(), 400);
        assert!(body(unknown).await["detail"]
            .as_str()
            .unwrap()
            .contains("colour"));
        let not_utf8 = patch(b"{\"tier\": \"\xff\xfe\"}".to_vec()).await.unwrap();
        assert_eq!(not_utf8.status(), 400);
        assert!(body(not_utf8).await["detail"]
            .as_str()
            .unwrap()
            .contains("UTF-8"));
        let truncated = patch(br#"{"tier": "#.to_vec()).await.unwrap();
        assert_eq!(truncated.status(), 400);
        let huge = patch(vec![b' '; tend_server::MAX_BODY_BYTES + 10])
            .await
            .unwrap();
        assert_eq!(huge.status(), 413);
        assert_eq!(huge.headers()["content-type"], "application/problem+json");
        let not_json = client
            .post(server.url("/api/v1/accounts/lark-1/activities"))
            .header("authorization", &admin)
            .header("content-type", "text/plain")
            .body("call them")
            .send()
            .await
            .unwrap();
        assert_eq!(not_json.status(), 415);
        let empty_subject = client
            .post(server.url("/api/v1/accounts/lark-1/activities"))
            .header("authorization", &admin)
            .json(&json!({"kind": "note", "subject": "   "}))
            .send()
            .await
            .unwrap();
        assert_eq!(body(empty_subject).await["pointer"], "/subject");
        let future = client
            .post(server.url("/api/v1/accounts/lark-1/activities"))
            .header("authorization", &admin)
            .json(&json!({"kind": "note", "subject": "x", "occurred_at": "2030-01-01T00:00:00Z"}))
            .send()
            .await
            .unwrap();
        assert_eq!(body(future).await["pointer"], "/occurred_at");
        let bad_limit = client
            .get(server.url("/api/v1/accounts?limit=lots"))
            .header("authorization", &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(bad_limit.status(), 400);
        assert_eq!(body(bad_limit).await["pointer"], "limit");
        let too_many = client
            .get(server.url("/api/v1/accounts?limit=100000"))
            .header("authorization", &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(body(too_many).await["pointer"], "limit");
        let bad_cursor = client
            .get(server.url("/api/v1/accounts?cursor=abc"))
            .header("authorization", &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(body(bad_cursor).await["pointer"], "cursor");
        let unknown_param = client
            .get(server.url("/api/v1/accounts?colour=red"))
            .header("authorization", &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(unknown_param.status(), 400);
        let no_route = client
            .get(server.url("/api/v1/nothing"))
            .header("authorization", &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(no_route.status(), 404);
        assert_eq!(
            no_route.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(server.store.counts().await.unwrap(), before);
        let stored = server.store.account("lark-1").await.unwrap().unwrap();
        assert_eq!(stored.tier.as_deref(), Some("gold"));
    })
    .await;
}

#[tokio::test]
async fn sessions_sign_in_need_csrf_for_writes_and_throttle_guessing() {
    test_support::on_every_backend("api_sessions", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let browser = common::browser();
        let login = |email: String, password: &'static str| {
            browser
                .post(server.url("/api/v1/session"))
                .json(&json!({"email": email, "password": password}))
                .send()
        };
        // Unknown email and wrong password read the same.
        let unknown = login("nobody@larkspur.example".into(), "whatever it is")
            .await
            .unwrap();
        let wrong = login(common::email("jane"), "not the password")
            .await
            .unwrap();
        assert_eq!(
            (unknown.status(), wrong.status()),
            (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
        );
        assert_eq!(body(unknown).await["detail"], body(wrong).await["detail"]);

        let signed_in = login(common::email("jane"), common::PASSWORD)
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 201);
        let cookie = signed_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "no TLS here");
        let session = body(signed_in).await;
        let csrf = session["csrf_token"].as_str().unwrap().to_string();
        let me = body(browser.get(server.url("/api/v1/me")).send().await.unwrap()).await;
        assert_eq!(
            (me["actor"].as_str(), me["book"].as_str()),
            (Some("user:jane"), Some("jane"))
        );
        let again = body(
            browser
                .get(server.url("/api/v1/session"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(again["csrf_token"], csrf.as_str());

        let write = |token: Option<String>| {
            let mut request = browser
                .patch(server.url("/api/v1/accounts/lark-2"))
                .json(&json!({"tier": "gold"}));
            if let Some(token) = token {
                request = request.header("x-csrf-token", token);
            }
            request.send()
        };
        assert_eq!(write(None).await.unwrap().status(), 403);
        assert_eq!(write(Some("wrong".into())).await.unwrap().status(), 403);
        assert_eq!(write(Some(csrf.clone())).await.unwrap().status(), 200);
        // Behind TLS the cookie is Secure.
        let secure = reqwest::Client::new()
            .post(server.url("/api/v1/session"))
            .header("x-forwarded-proto", "https")
            .json(&json!({"email": common::email("vic"), "password": common::PASSWORD}))
            .send()
            .await
            .unwrap();
        assert!(secure.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure"));

        let logout = browser
            .delete(server.url("/api/v1/session"))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .unwrap();
        assert_eq!(logout.status(), 204);
        assert_eq!(
            browser
                .get(server.url("/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );

        // Guessing is throttled per email, whether or not the password is right.
        for _ in 0..5 {
            assert_eq!(
                login(common::email("lee"), "a wrong guess")
                    .await
                    .unwrap()
                    .status(),
                401
            );
        }
        let throttled = login(common::email("lee"), common::PASSWORD).await.unwrap();
        assert_eq!(throttled.status(), 429);
        assert!(throttled.headers().contains_key("retry-after"));

        let audit = server.store.audit_log(100).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        for action in ["session.login", "session.login_failed", "session.logout"] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
    })
    .await;
}
