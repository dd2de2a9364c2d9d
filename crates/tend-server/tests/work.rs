//! The work engine over real HTTP: a Segment batch that halves an account's usage
//! makes one at-risk task for its CSM, readable through the API and told by a
//! `task.created` webhook, and sending the batch again makes nothing more; tasks
//! by hand through the API with books of business; a playbook's email arrives at a
//! real SMTP server (Python's aiosmtpd).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine;
use chrono::{Days, Utc};
use serde_json::{json, Value};
use tend_engine::access::create_source;
use tend_store::test_support;

fn basic(key: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    format!("Basic {encoded}")
}

/// Lark-5, a small account whose product use fell by a third: 4 events a day in the
/// last 30 days against 6 in the 30 before; well looked after otherwise.
fn write_lark5(dir: &std::path::Path) {
    let today = common::today();
    std::fs::write(
        dir.join("accounts.csv"),
        "id,name,created_on,segment,tier,lifecycle_stage,csm_owner,am_owner\n\
         lark-5,Wren Outfitters,2025-01-10,mid-market,silver,mature,jane,omar\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("contacts.csv"),
        "id,account_id,name,role,email\n\
         c-51,lark-5,Rae Wren,champion,rae@wren.example\n\
         c-52,lark-5,Sol Wren,executive_sponsor,sol@wren.example\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("contracts.csv"),
        "id,account_id,product,seats,arr_minor,currency,start_date,end_date\n\
         k-5,lark-5,platform,4,2400000,USD,2025-01-10,2027-01-09\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("activities.csv"),
        format!(
            "id,account_id,contact_id,kind,author,occurred_at,subject\n\
             a-51,lark-5,c-52,meeting,jane,{}T15:00:00Z,Quarterly review\n",
            today - Days::new(10)
        ),
    )
    .unwrap();
    let mut usage = String::from("account_id,day,events,active_users,active_users_30d\n");
    for back in 0..60u64 {
        let events = if back < 30 { 4 } else { 6 };
        usage.push_str(&format!(
            "lark-5,{},{events},3,3\n",
            today - Days::new(back)
        ));
    }
    std::fs::write(dir.join("usage-daily.csv"), usage).unwrap();
}

/// What a webhook receiver got.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Value>>>,
}

async fn receive(State(r): State<Receiver>, body: String) -> StatusCode {
    r.got
        .lock()
        .unwrap()
        .push(serde_json::from_str(&body).unwrap());
    StatusCode::NO_CONTENT
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, url)
}

async fn get(server: &common::Server, path: &str, who: &str) -> Value {
    let response = reqwest::Client::new()
        .get(server.url(path))
        .header("authorization", server.token(who))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn send(
    server: &common::Server,
    method: reqwest::Method,
    path: &str,
    who: &str,
    body: Value,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method, server.url(path))
        .header("authorization", server.token(who))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits until the queue of account changes is empty.
async fn settled(store: &tend_store::Store) {
    let started = Instant::now();
    while !store.waiting_changes(1).await.unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "changes wait too long"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_batch_that_halves_usage_makes_one_at_risk_task() {
    test_support::on_every_backend("work_e2e", |store, dir| async move {
        let shipped = tend_engine::playbooks::load_playbooks(None).unwrap();
        let server = common::start_with_playbooks(store.clone(), &dir, shipped).await;
        let extra = dir.join("lark5");
        std::fs::create_dir_all(&extra).unwrap();
        write_lark5(&extra);
        let options = tend_engine::ImportOptions {
            today: Some(common::today()),
            ..Default::default()
        };
        tend_engine::import_folder(&store, &extra, &options, &|_, _| {})
            .await
            .unwrap();
        tend_engine::health::rescore(&store, server.app.scorecards(), common::today(), &|_, _| {})
            .await
            .unwrap();
        settled(&store).await;
        let (hook, url) = receiver().await;
        let (status, body) = send(
            &server,
            reqwest::Method::POST,
            "/api/v1/webhooks",
            "ada",
            json!({"url": url, "event_types": ["task.created"]}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let at_risk = "/api/v1/tasks?account=lark-5&playbook=at-risk";
        assert_eq!(get(&server, at_risk, "ada").await["items"], json!([]));

        // Late events of five days 35–39 days ago: 20 a day against the 6 the
        // warehouse counted, so the 30 days before the last 30 now hold 250 events
        // against the last 30 days' 120 — a fall of 52%.
        let key = create_source(&store, "test", "mobile app", Utc::now())
            .await
            .unwrap()
            .write_key;
        let mut calls = Vec::new();
        for back in 35..40u64 {
            let day = common::today() - Days::new(back);
            for n in 0..20 {
                calls.push(json!({
                    "type": "track", "messageId": format!("late-{back}-{n}"),
                    "userId": "u-rae", "event": "Order Synced",
                    "context": {"groupId": "lark-5"},
                    "timestamp": format!("{day}T{:02}:00:00Z", n % 24),
                }));
            }
        }
        let batch = json!({ "batch": calls }).to_string();
        for round in 0..2 {
            let response = reqwest::Client::new()
                .post(server.url("/v1/batch"))
                .header("authorization", basic(&key))
                .header("content-type", "application/json")
                .body(batch.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "round {round}");
            // Acknowledged: the task is readable within moments.
            let started = Instant::now();
            loop {
                let items = get(&server, at_risk, "jane").await["items"].clone();
                if !items.as_array().unwrap().is_empty() {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "no at-risk task"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            settled(&store).await;
        }
        let tasks = get(&server, at_risk, "jane").await["items"].clone();
        let tasks = tasks.as_array().unwrap();
        assert_eq!(tasks.len(), 1, "{tasks:?}");
        let task = &tasks[0];
        assert_eq!(task["owner"], "jane");
        assert_eq!(task["signal"], "usage_dropped");
        assert_eq!(task["title"], "Save Wren Outfitters");
        assert_eq!(
            task["evidence"],
            "product use fell 52% (30 days against the 30 before)"
        );
        let detail = get(&server, &format!("/api/v1/tasks/{}", task["id"]), "jane").await;
        assert_eq!(detail["steps"].as_array().unwrap().len(), 3);
        // Jane's own list has it too.
        let mine = get(&server, "/api/v1/tasks?playbook=at-risk", "jane").await;
        assert!(mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == task["id"]));
        // One task.created event for it.
        let started = Instant::now();
        let created = loop {
            let got: Vec<Value> = hook
                .got
                .lock()
                .unwrap()
                .iter()
                .filter(|e| {
                    e["data"]["account_id"] == "lark-5"
                        && e["data"]["task"]["playbook"] == "at-risk"
                })
                .cloned()
                .collect();
            if !got.is_empty() || started.elapsed() > Duration::from_secs(10) {
                break got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(created.len(), 1, "{created:?}");
        assert_eq!(created[0]["type"], "task.created");
        assert_eq!(created[0]["data"]["task"]["id"], task["id"]);

        // The live refresh computed lark-5's measures from the facts it loaded for
        // the playbooks as well (a wider history): the raw values a full rescore has.
        let live = raw_measures(&store, "lark-5").await;
        tend_engine::health::rescore(&store, server.app.scorecards(), common::today(), &|_, _| {})
            .await
            .unwrap();
        assert_eq!(live, raw_measures(&store, "lark-5").await);
    })
    .await;
}

/// The raw measure values of `account`'s health snapshot today.
async fn raw_measures(store: &tend_store::Store, account: &str) -> Vec<Option<f64>> {
    let snapshots = store
        .health_snapshots_of(&[account.to_string()], common::today())
        .await
        .unwrap();
    assert_eq!(snapshots.len(), 1, "{account} has one snapshot today");
    snapshots[0].score.measures.iter().map(|m| m.raw).collect()
}

#[tokio::test]
async fn tasks_by_hand_through_the_api() {
    test_support::on_every_backend("work_api", |store, dir| async move {
        let shipped = tend_engine::playbooks::load_playbooks(None).unwrap();
        let server = common::start_with_playbooks(store, &dir, shipped).await;
        let post = reqwest::Method::POST;
        let new = json!({
            "account_id": "lark-1", "kind": "activity", "title": "Plan the QBR",
            "due_on": "2026-07-15", "priority": "high",
            "steps": [{"title": "Draft the deck", "due_on": "2026-07-08"}]
        });
        // Lee's book is lark-3 and lark-4: not lark-1.
        let (status, body) = send(&server, post.clone(), "/api/v1/tasks", "lee", new.clone()).await;
        assert_eq!(status, 403, "{body}");
        let (status, task) = send(&server, post.clone(), "/api/v1/tasks", "jane", new).await;
        assert_eq!(status, 201, "{task}");
        assert_eq!(task["owner"], "jane");
        let id = task["id"].as_i64().unwrap();
        let path = |tail: &str| format!("/api/v1/tasks/{id}{tail}");
        let (status, body) = send(
            &server,
            reqwest::Method::PUT,
            &path("/steps/0"),
            "jane",
            json!({"done": true}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["steps"][0]["done"], true);
        let (status, body) = send(
            &server,
            post.clone(),
            &path("/snooze"),
            "jane",
            json!({"until": "2026-07-01", "reason": " "}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["pointer"], "/reason", "{body}");
        let (status, body) = send(
            &server,
            post.clone(),
            &path("/snooze"),
            "jane",
            json!({"until": "2026-07-03", "reason": "customer away"}),
        )
        .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("snoozed")),
            "{body}"
        );
        let (status, body) = send(
            &server,
            post.clone(),
            &path("/reassign"),
            "omar",
            json!({"owner": "lena"}),
        )
        .await;
        assert_eq!(
            (status, body["owner"].as_str()),
            (200, Some("lena")),
            "{body}"
        );
        let (status, body) = send(
            &server,
            post.clone(),
            &path("/complete"),
            "jane",
            json!({"reason": "held"}),
        )
        .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("done")),
            "{body}"
        );
        let (status, _) = send(&server, post.clone(), &path("/complete"), "jane", json!({})).await;
        assert_eq!(status, 409);
        let listed = get(&server, "/api/v1/tasks?scope=all&status=done", "vic").await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        let bad = reqwest::Client::new()
            .get(server.url("/api/v1/tasks?status=finished"))
            .header("authorization", server.token("vic"))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        let (status, _) = send(
            &server,
            reqwest::Method::GET,
            "/api/v1/tasks/abc",
            "vic",
            json!(null),
        )
        .await;
        assert_eq!(status, 404);
        let playbooks = get(&server, "/api/v1/playbooks", "vic").await;
        assert_eq!(playbooks["items"].as_array().unwrap().len(), 8);
    })
    .await;
}

/// A child process killed when the test ends, passing or not.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The virtualenv with the test clients, or why it is missing (a failure in CI).
fn python() -> Option<std::path::PathBuf> {
    let venv = std::env::var("TEND_CI_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            let cache = std::env::var("XDG_CACHE_HOME")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|_| {
                    std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache")
                });
            cache.join("tend-ci/venv")
        });
    let python = venv.join("bin/python");
    let works = std::process::Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        return Some(python);
    }
    let why = format!(
        "aiosmtpd is not installed in {} (.ci/run installs it)",
        venv.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
    eprintln!("skipped: {why}");
    None
}

#[tokio::test]
async fn a_playbook_email_reaches_the_smtp_server() {
    let Some(python) = python() else { return };
    test_support::on_every_backend("work_email", |store, dir| {
        let python = python.clone();
        async move {
        let server = common::start(store.clone(), &dir).await;
        // An SMTP server writing what it gets into a Maildir.
        let maildir = dir.join("maildir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let smtp = Child(std::process::Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .spawn()
            .unwrap());
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "the SMTP server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let playbooks = tend_engine::playbooks::PlaybookSet {
            playbooks: tend_engine::playbooks::parse_playbooks(
                "[[playbook]]\nname = \"dunning\"\n[[playbook.trigger]]\nsignal = \"invoice_overdue\"\n\
                 [playbook.task]\nkind = \"risk\"\ntitle = \"Collect from {account}\"\nassign = \"csm\"\n\
                 [[playbook.email]]\nto = \"csm\"\nsubject = \"{account} owes us\"\nbody = \"{evidence}.\"\n\
                 [[playbook.email]]\nto = \"billing@larkspur.example\"\nsubject = \"Dunning: {account}\"\nbody = \"Chase it.\"\n",
                "dunning.toml",
            )
            .unwrap(),
            origins: vec!["dunning.toml".into()],
        };
        let app = tend_engine::App::new(
            store.clone(),
            server.app.scorecards().clone(),
            tend_engine::FixedClock(common::now()),
        )
        .with_playbooks(playbooks);
        let mailer = tend_server::mailer::Mailer::start(
            app.clone(),
            &tend_server::mailer::MailConfig {
                url: format!("smtp://127.0.0.1:{port}"),
                from: "tend <tend@larkspur.example>".into(),
            },
            tend_engine::webhooks::DeliveryPolicy::default(),
        )
        .unwrap();
        let ids = vec!["lark-4".to_string()];
        let (created, _) = tend_engine::playbooks::run::run_for_accounts(&app, &ids, common::today())
            .await
            .unwrap();
        assert_eq!(created, 1);
        let started = Instant::now();
        let messages = loop {
            let texts: Vec<String> = std::fs::read_dir(maildir.join("new"))
                .map(|dir| dir.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect())
                .unwrap_or_default();
            if texts.len() >= 2 || started.elapsed() > Duration::from_secs(20) {
                break texts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        mailer.stop().await;
        drop(smtp);
        assert_eq!(messages.len(), 2, "{messages:?}");
        let to_lee = messages.iter().find(|m| m.contains("To: lee@larkspur.example")).expect("one to the CSM");
        assert!(to_lee.contains("Subject: Pell Metrics owes us"), "{to_lee}");
        assert!(to_lee.contains("invoice i-1 was due on 2026-02-04 and is unpaid."), "{to_lee}");
        assert!(messages.iter().any(|m| m.contains("To: billing@larkspur.example")));
        let sent = store.emails(None, 10).await.unwrap();
        assert!(sent.iter().all(|e| e.status == "sent" && e.attempts == 1), "{sent:?}");
    }})
    .await;
}
