//! The web app over real HTTP, as a browser without JavaScript would use it: pages
//! need a session (tokens are for the API), every page of every role parses as HTML
//! without an error, forms carry the session's CSRF token, and the same roles and
//! books of business as the API's decide every write made from a page.

mod common;

use std::collections::BTreeSet;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use tend_core::{TaskKind, TaskPriority};
use tend_engine::playbooks::NewTask;
use tend_engine::Actor;
use tend_store::test_support;

/// Every page route, and how the tests below reach it.
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/app"),
    ("GET", "/app/login"),
    ("POST", "/app/login"),
    ("POST", "/app/logout"),
    ("GET", "/app/portfolio"),
    ("GET", "/app/portfolio.csv"),
    ("GET", "/app/accounts/{id}"),
    ("POST", "/app/accounts/{id}/activities"),
    ("GET", "/app/tasks"),
    ("POST", "/app/tasks/bulk"),
    ("POST", "/app/tasks/{id}/complete"),
    ("POST", "/app/tasks/{id}/snooze"),
    ("GET", "/app/renewals"),
    ("POST", "/app/proposals/{id}/decide"),
    ("GET", "/app/metrics"),
    ("GET", "/app/playbooks"),
    ("POST", "/app/playbooks/simulate"),
    ("GET", "/app/admin"),
    ("GET", "/app/assets/{name}"),
];

#[test]
fn the_tests_cover_every_page_route() {
    let served: BTreeSet<(String, String)> = tend_server::page_routes().into_iter().collect();
    let here: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(served, here);
}

/// A browser that keeps cookies and shows each redirect instead of following it.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

/// Signs `handle` in through the form; returns the browser and the CSRF token its
/// pages carry.
async fn sign_in(server: &common::Server, handle: &str) -> (Client, String) {
    let client = browser();
    let response = client
        .post(server.url("/app/login"))
        .form(&[
            ("email", common::email(handle).as_str()),
            ("password", common::PASSWORD),
            ("next", "/app/tasks"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{handle} signs in"
    );
    assert_eq!(location(&response), "/app/tasks");
    let page = client
        .get(server.url("/app"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries the CSRF token")
        .to_string();
    (client, csrf)
}

async fn page(client: &Client, server: &common::Server, path: &str) -> (StatusCode, String) {
    let response = client.get(server.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post(
    client: &Client,
    server: &common::Server,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(server.url(path))
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn task_for(server: &common::Server, account: &str, owner: &str, title: &str) -> i64 {
    let new = NewTask {
        account_id: account.into(),
        kind: TaskKind::Risk,
        title: title.into(),
        description: String::new(),
        owner: Some(owner.into()),
        priority: TaskPriority::High,
        due_on: common::today(),
        steps: Vec::new(),
    };
    server
        .app
        .create_task(&Actor::cli(), &new)
        .await
        .unwrap()
        .task
        .id
}

#[tokio::test]
async fn pages_need_a_session_and_say_so_by_sending_to_the_sign_in_form() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let server = common::start(store, dir.path()).await;
    let anonymous = browser();
    let response = anonymous.get(server.url("/")).send().await.unwrap();
    assert_eq!(location(&response), "/app");
    for path in [
        "/app",
        "/app/portfolio?band=red",
        "/app/accounts/lark-1",
        "/app/tasks",
        "/app/renewals",
    ] {
        let response = anonymous.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let to = location(&response);
        assert!(to.starts_with("/app/login?next=%2Fapp"), "{path} → {to}");
        // An API token is not a session: pages still ask to sign in.
        let response = anonymous
            .get(server.url(path))
            .header("authorization", server.token("ada"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{path} with a token"
        );
    }
    let response = post(
        &anonymous,
        &server,
        "/app/accounts/lark-1/activities",
        &[("subject", "x")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/app/login"));
    let login = anonymous
        .get(server.url("/app/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.headers()["x-frame-options"],
        "DENY",
        "no page in another's frame"
    );
    assert_eq!(
        login.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );
    assert_eq!(login.headers()["cache-control"], "no-store");
    let (status, body) = page(&anonymous, &server, "/app/login?next=/app/renewals").await;
    assert_eq!(status, StatusCode::OK);
    common::assert_valid_html("/app/login", &body);
    assert!(body.contains("value=\"/app/renewals\""));
    // A return address off the site is never followed.
    let (_, body) = page(&anonymous, &server, "/app/login?next=//elsewhere.example/").await;
    assert!(body.contains("name=\"next\" value=\"/app\""), "{body}");
    for name in [
        "app.css",
        "app.js",
        "htmx.min.js",
        "uPlot.iife.min.js",
        "uPlot.min.css",
        "htmx.LICENSE",
    ] {
        let response = anonymous
            .get(server.url(&format!("/app/assets/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{name}");
    }
    let response = anonymous
        .get(server.url("/app/assets/app.js"))
        .send()
        .await
        .unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let response = anonymous
        .get(server.url("/app/assets/none.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn signing_in_fails_in_words_and_signing_out_ends_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let server = common::start(store, dir.path()).await;
    let client = browser();
    let response = post(
        &client,
        &server,
        "/app/login",
        &[
            ("email", "jane@larkspur.example"),
            ("password", "wrong"),
            ("next", "/app"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = response.text().await.unwrap();
    common::assert_valid_html("failed sign-in", &body);
    assert!(
        body.contains("the email or password is not right"),
        "{body}"
    );
    assert!(
        body.contains("value=\"jane@larkspur.example\""),
        "the email is kept"
    );
    let (client, csrf) = sign_in(&server, "jane").await;
    let response = post(&client, &server, "/app/logout", &[("_csrf", &csrf)]).await;
    assert_eq!(location(&response), "/app/login");
    let response = client.get(server.url("/app")).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "the session is over"
    );
}

#[tokio::test]
async fn every_page_of_every_role_is_valid_html() {
    test_support::on_every_backend("web_pages_valid", |store, dir| async move {
        let server = common::start(store, &dir).await;
        task_for(&server, "lark-1", "jane", "Call Mara about the renewal").await;
        for (handle, _) in common::USERS {
            let (client, _) = sign_in(&server, handle).await;
            for path in [
                "/app",
                "/app/portfolio",
                "/app/portfolio?sort=name&segment=smb&band=red&risk=high&renewal=90&q=lark&owner=lee",
                "/app/accounts/lark-1",
                "/app/accounts/lark-4",
                "/app/tasks",
                "/app/tasks?scope=team",
                "/app/renewals",
                "/app/metrics",
                "/app/playbooks",
            ] {
                let (status, body) = page(&client, &server, path).await;
                assert_eq!(status, StatusCode::OK, "{handle} {path}: {body}");
                common::assert_valid_html(&format!("{handle} {path}"), &body);
            }
            // The admin page is for admins; the others are told so, and not shown
            // the way there.
            let (status, body) = page(&client, &server, "/app/admin").await;
            common::assert_valid_html(&format!("{handle} /app/admin"), &body);
            let (_, cockpit) = page(&client, &server, "/app").await;
            if *handle == "ada" {
                assert_eq!(status, StatusCode::OK);
                assert!(body.contains("user:jane") || body.contains("Audit log"));
                assert!(cockpit.contains("href=\"/app/admin\""));
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{handle} on the admin page");
                assert!(!cockpit.contains("href=\"/app/admin\""));
            }
            let (status, body) = page(&client, &server, "/app/accounts/nobody").await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            common::assert_valid_html("a missing account", &body);
            assert!(body.contains("nobody"), "{body}");
        }
    })
    .await;
}

#[tokio::test]
async fn writes_carry_the_session_csrf_token_and_keep_to_books_of_business() {
    test_support::on_every_backend("web_writes", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let (jane, csrf) = sign_in(&server, "jane").await;
        let log = "/app/accounts/lark-1/activities";
        let call = [("kind", "call"), ("subject", "Renewal call with Mara")];
        // Without the token, or with another, nothing is written.
        let response = post(&jane, &server, log, &call).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body = response.text().await.unwrap();
        common::assert_valid_html("a refused write", &body);
        assert!(
            body.contains("not sent from a page of your session"),
            "{body}"
        );
        let mut wrong = call.to_vec();
        wrong.push(("_csrf", "0123"));
        assert_eq!(
            post(&jane, &server, log, &wrong).await.status(),
            StatusCode::FORBIDDEN
        );
        let activities = |server: &common::Server| {
            let store = server.store.clone();
            async move { store.activity_page(Some("lark-1"), "", 1000).await.unwrap() }
        };
        assert!(activities(&server)
            .await
            .iter()
            .all(|a| a.subject != "Renewal call with Mara"));
        // With it, the call is logged by jane, audited, and she is sent back to the timeline.
        let mut signed = call.to_vec();
        signed.push(("_csrf", &csrf));
        let response = post(&jane, &server, log, &signed).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/app/accounts/lark-1#timeline");
        let logged = activities(&server).await;
        let call = logged
            .iter()
            .find(|a| a.subject == "Renewal call with Mara")
            .unwrap();
        assert_eq!((call.kind.as_str(), call.author.as_str()), ("call", "jane"));
        let audit = tend_engine::access::audit_log(&server.store, 50)
            .await
            .unwrap();
        assert!(audit
            .iter()
            .any(|e| e.action == "activity.create" && e.actor == "user:jane"));
        // The header htmx sends does as well as the field.
        let response = jane
            .post(server.url(log))
            .header("x-csrf-token", &csrf)
            .form(&[("kind", "note"), ("subject", "Sent the deck")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        // A blank subject is refused in words.
        let response = post(
            &jane,
            &server,
            log,
            &[("_csrf", &csrf), ("kind", "note"), ("subject", " ")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.text().await.unwrap().contains("subject"));

        // A form past the API's body limit is refused whole.
        let huge = "x".repeat(tend_server::MAX_BODY_BYTES + 1);
        let response = post(
            &jane,
            &server,
            log,
            &[("_csrf", &csrf), ("kind", "note"), ("subject", &huge)],
        )
        .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

        // Lee's book is lark-3 and lark-4: lark-1's page shows him no form, and a
        // post is refused.
        let (lee, lee_csrf) = sign_in(&server, "lee").await;
        let (_, body) = page(&lee, &server, "/app/accounts/lark-1").await;
        assert!(
            !body.contains("form class=\"log\""),
            "lee sees the log form on lark-1"
        );
        let (_, body) = page(&lee, &server, "/app/accounts/lark-3").await;
        assert!(
            body.contains("form class=\"log\""),
            "lee logs on his own account"
        );
        let response = post(
            &lee,
            &server,
            log,
            &[
                ("_csrf", &lee_csrf),
                ("kind", "note"),
                ("subject", "not mine"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);

        // A viewer sees no write control anywhere, and is refused with a valid token.
        let task = task_for(&server, "lark-1", "jane", "Send the renewal quote").await;
        let (vic, vic_csrf) = sign_in(&server, "vic").await;
        for path in [
            "/app",
            "/app/accounts/lark-1",
            "/app/tasks?scope=team",
            "/app/portfolio",
        ] {
            let (_, body) = page(&vic, &server, path).await;
            for control in [
                "form class=\"log\"",
                "/complete\"",
                "/snooze\"",
                "id=\"bulk\"",
            ] {
                assert!(!body.contains(control), "vic sees {control} on {path}");
            }
        }
        let complete = format!("/app/tasks/{task}/complete");
        let response = post(
            &vic,
            &server,
            &complete,
            &[("_csrf", &vic_csrf), ("back", "/app")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(server.store.task(task).await.unwrap().unwrap().is_open());
    })
    .await;
}

#[tokio::test]
async fn tasks_are_completed_snoozed_and_reassigned_from_pages() {
    test_support::on_every_backend("web_tasks", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let first = task_for(&server, "lark-1", "jane", "Plan the QBR").await;
        let second = task_for(&server, "lark-2", "jane", "Check seat usage").await;
        let third = task_for(&server, "lark-2", "jane", "Ask for a reference").await;
        let (jane, csrf) = sign_in(&server, "jane").await;
        let (_, body) = page(&jane, &server, "/app/tasks").await;
        for title in ["Plan the QBR", "Check seat usage", "Ask for a reference"] {
            assert!(body.contains(title), "{title} is on jane's list");
        }
        let response = post(
            &jane,
            &server,
            &format!("/app/tasks/{first}/complete"),
            &[("_csrf", &csrf), ("back", "/app/accounts/lark-1")],
        )
        .await;
        assert_eq!(location(&response), "/app/accounts/lark-1");
        assert_eq!(
            server.store.task(first).await.unwrap().unwrap().status,
            "done"
        );
        // A return address with a line break in it cannot reach the headers.
        let response = post(
            &jane,
            &server,
            &format!("/app/tasks/{third}/snooze"),
            &[
                ("_csrf", &csrf),
                ("until", "2026-07-02"),
                ("reason", "later"),
                ("back", "/app\r\nSet-Cookie: a=b"),
            ],
        )
        .await;
        assert_eq!(location(&response), "/app");
        assert!(response.headers().get("set-cookie").is_none());
        let (_, timeline) = page(&jane, &server, "/app/accounts/lark-1").await;
        assert!(
            timeline.contains("Task done: Plan the QBR"),
            "the timeline shows it"
        );
        // A return address off the site leads to the cockpit instead.
        let snooze = format!("/app/tasks/{second}/snooze");
        let response = post(
            &jane,
            &server,
            &snooze,
            &[
                ("_csrf", &csrf),
                ("until", "2026-07-14"),
                ("reason", " "),
                ("back", "https://elsewhere.example/"),
            ],
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "a snooze says why"
        );
        let response = post(
            &jane,
            &server,
            &snooze,
            &[
                ("_csrf", &csrf),
                ("until", "14/07/2026"),
                ("reason", "holiday"),
            ],
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "a day is YYYY-MM-DD"
        );
        let response = post(
            &jane,
            &server,
            &snooze,
            &[
                ("_csrf", &csrf),
                ("until", "2026-07-14"),
                ("reason", "their team is on holiday"),
                ("back", "https://elsewhere.example/"),
            ],
        )
        .await;
        assert_eq!(location(&response), "/app");
        let snoozed = server.store.task(second).await.unwrap().unwrap();
        assert_eq!(snoozed.status, "snoozed");
        assert_eq!(
            snoozed.status_reason.as_deref(),
            Some("their team is on holiday")
        );
        // Bulk: reassign two to lee, then complete one of them (an admin may).
        let bulk = [
            ("_csrf", csrf.as_str()),
            ("task", &second.to_string()),
            ("task", &third.to_string()),
            ("action", "reassign"),
            ("owner", "lee"),
            ("back", "/app/tasks"),
        ];
        let response = post(&jane, &server, "/app/tasks/bulk", &bulk).await;
        assert_eq!(location(&response), "/app/tasks");
        for id in [second, third] {
            assert_eq!(
                server
                    .store
                    .task(id)
                    .await
                    .unwrap()
                    .unwrap()
                    .owner
                    .as_deref(),
                Some("lee")
            );
        }
        let response = post(
            &jane,
            &server,
            "/app/tasks/bulk",
            &[("_csrf", csrf.as_str()), ("action", "complete")],
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "nothing selected"
        );
        let (ada, ada_csrf) = sign_in(&server, "ada").await;
        let third_id = third.to_string();
        let response = post(
            &ada,
            &server,
            "/app/tasks/bulk",
            &[
                ("_csrf", ada_csrf.as_str()),
                ("task", &third_id),
                ("action", "complete"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            server.store.task(third).await.unwrap().unwrap().status,
            "done"
        );
    })
    .await;
}

#[tokio::test]
async fn leaders_decide_proposals_from_the_renewals_page() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let server = common::start(store, dir.path()).await;
    let new = common::proposal_beyond_guardrails("lark-1");
    let id = server
        .app
        .create_proposal(&Actor::cli(), &new)
        .await
        .unwrap()
        .id;
    let decide = format!("/app/proposals/{id}/decide");
    let (jane, jane_csrf) = sign_in(&server, "jane").await;
    let (_, body) = page(&jane, &server, "/app/renewals").await;
    assert!(!body.contains(&decide), "a CSM is offered no decision");
    let response = post(
        &jane,
        &server,
        &decide,
        &[("_csrf", &jane_csrf), ("decision", "approve")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (lena, csrf) = sign_in(&server, "lena").await;
    let (_, body) = page(&lena, &server, "/app").await;
    assert!(
        body.contains("discount 18% exceeds"),
        "the cockpit shows the approval with its reason"
    );
    let response = post(
        &lena,
        &server,
        &decide,
        &[("_csrf", &csrf), ("decision", "reject")],
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "a rejection needs a comment"
    );
    let response = post(
        &lena,
        &server,
        &decide,
        &[
            ("_csrf", &csrf),
            ("decision", "approve"),
            ("comment", "two-year customer"),
            ("back", "/app/renewals"),
        ],
    )
    .await;
    assert_eq!(location(&response), "/app/renewals");
    let decided = server.app.proposal(&Actor::cli(), id).await.unwrap();
    assert_eq!(decided.status.as_str(), "approved");
    assert_eq!(
        decided.decision_comment.as_deref(),
        Some("two-year customer")
    );
}

#[tokio::test]
async fn the_portfolio_filters_pages_and_exports_what_it_shows() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let server = common::start(store, dir.path()).await;
    let (ada, _) = sign_in(&server, "ada").await;
    let (_, all) = page(&ada, &server, "/app/portfolio?sort=name").await;
    for name in [
        "Larkspur Foods",
        "Quill &amp; Co",
        "Ostrander Labs",
        "Pell Metrics",
    ] {
        assert!(all.contains(name), "{name}");
    }
    let (_, lee) = page(&ada, &server, "/app/portfolio?owner=lee").await;
    assert!(lee.contains("Ostrander Labs") && !lee.contains("Larkspur Foods"));
    let (_, found) = page(&ada, &server, "/app/portfolio?q=quill").await;
    assert!(found.contains("Quill &amp; Co") && !found.contains("Pell Metrics"));
    // No churn model has scored Larkspur: no account is in a risk band.
    let (_, risky) = page(&ada, &server, "/app/portfolio?risk=high").await;
    assert!(risky.contains("No accounts match."));
    let (status, _) = page(&ada, &server, "/app/portfolio?renewal=45").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "windows come from the list"
    );
    let (_, paged) = page(&ada, &server, "/app/portfolio?sort=name&cursor=bogus").await;
    assert!(paged.contains("cursor"), "a bad cursor is named: {paged}");
    let response = ada
        .get(server.url("/app/portfolio.csv?owner=jane&sort=name"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert_eq!(ids, ["lark-1", "lark-2"]);
    assert!(csv.contains(",Quill & Co,"), "{csv}");
}

#[tokio::test]
async fn the_cockpit_shows_the_overdue_onboarding_milestones_of_the_book() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let server = common::start(store, dir.path()).await;
    let milestone = |title: &str, due: i64| tend_engine::views::plans::NewMilestone {
        id: None,
        objective_id: None,
        title: title.into(),
        kind: tend_core::MilestoneKind::Onboarding,
        due_on: common::today() - chrono::Days::new(due as u64),
        owner: None,
        status: tend_core::MilestoneStatus::Planned,
        done_on: None,
    };
    let admin = Actor::cli();
    server
        .app
        .save_milestone(&admin, "lark-1", &milestone("Kickoff held", 3))
        .await
        .unwrap();
    server
        .app
        .save_milestone(&admin, "lark-3", &milestone("Integration live", 10))
        .await
        .unwrap();
    let (jane, _) = sign_in(&server, "jane").await;
    let (_, cockpit) = page(&jane, &server, "/app").await;
    assert!(
        cockpit.contains("Larkspur Foods</a>: Kickoff held"),
        "{cockpit}"
    );
    assert!(!cockpit.contains("Integration live"), "lark-3 is lee's");
    let (lee, _) = sign_in(&server, "lee").await;
    let (_, cockpit) = page(&lee, &server, "/app").await;
    assert!(cockpit.contains("Ostrander Labs</a>: Integration live"));
    assert!(!cockpit.contains("Kickoff held"));
}

#[tokio::test]
async fn figures_of_the_portfolio_are_kept_until_a_write_then_computed_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let server = common::start(store, dir.path()).await;
    let (lena, _) = sign_in(&server, "lena").await;
    let (jane, csrf) = sign_in(&server, "jane").await;
    let stale = "newer figures are being computed";
    for path in ["/app/metrics", "/app/renewals"] {
        let (status, body) = page(&lena, &server, path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("Figures computed at") && !body.contains(stale),
            "{path}"
        );
    }
    let (_, renewals) = page(&lena, &server, "/app/renewals").await;
    assert!(
        renewals.contains("Renewals 1–"),
        "the pipeline's table says which lines it shows"
    );
    // A start past the end shows no line and still the counts.
    let (status, _) = page(&lena, &server, "/app/renewals?start=100000").await;
    assert_eq!(status, StatusCode::OK);

    // A write through the server: the kept figures are shown, marked, and computed again.
    let response = post(
        &jane,
        &server,
        "/app/accounts/lark-1/activities",
        &[
            ("_csrf", &csrf),
            ("kind", "call"),
            ("subject", "Renewal check-in"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, body) = page(&lena, &server, "/app/metrics").await;
    assert!(body.contains(stale), "the write is announced");
    let mut fresh = false;
    for _ in 0..200 {
        let (_, body) = page(&lena, &server, "/app/metrics").await;
        if !body.contains(stale) {
            fresh = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(fresh, "the figures were computed again");
}

#[tokio::test]
async fn the_cockpit_lists_the_books_accounts_whose_health_fell_this_week_however_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let server = common::start(store, dir.path()).await;
    let day = server.store.latest_health_day().await.unwrap().unwrap();
    let scored = server
        .store
        .health_snapshots_of(&["lark-1".to_string()], day)
        .await
        .unwrap();
    // A week ago lark-1 was perfectly healthy: now it is well down on then. The
    // cockpit finds it however many less healthy accounts the book holds.
    let mut week_before = scored[0].clone();
    week_before.day = day - chrono::Days::new(7);
    week_before.score.overall = Some(100.0);
    let mut tx = server.store.begin().await.unwrap();
    tx.upsert_health_snapshots(&[week_before]).await.unwrap();
    tx.commit().await.unwrap();
    let worsened = |body: &str| {
        let start = body.find("id=\"worsened\"").expect("the section");
        let end = body[start..].find("</section>").unwrap() + start;
        body[start..end].to_string()
    };
    let (jane, _) = sign_in(&server, "jane").await;
    let (_, body) = page(&jane, &server, "/app").await;
    let section = worsened(&body);
    assert!(section.contains("Larkspur Foods"), "{section}");
    assert!(section.contains("class=\"num down\">−"), "{section}");
    // Lee's book does not hold lark-1.
    let (lee, _) = sign_in(&server, "lee").await;
    let (_, body) = page(&lee, &server, "/app").await;
    assert!(!worsened(&body).contains("Larkspur Foods"));
}

#[tokio::test]
async fn the_cockpit_lists_my_tasks_soonest_due_first_whenever_they_were_made() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let server = common::start(store, dir.path()).await;
    // Made latest due first: more than the cockpit shows, the soonest made last.
    for days in (0..12u64).rev() {
        let new = NewTask {
            account_id: "lark-1".into(),
            kind: TaskKind::Risk,
            title: format!("Due in {days} days"),
            description: String::new(),
            owner: Some("jane".into()),
            priority: TaskPriority::High,
            due_on: common::today() + chrono::Days::new(days),
            steps: Vec::new(),
        };
        server.app.create_task(&Actor::cli(), &new).await.unwrap();
    }
    let jane = Actor {
        name: "user:jane".into(),
        role: tend_core::Role::Csm,
        book: Some("jane".into()),
    };
    let query = tend_engine::playbooks::TaskQuery {
        scope: tend_engine::playbooks::TaskScope::Mine,
        statuses: None,
        priorities: None,
        due_by: None,
        playbook: None,
        kind: None,
        owner: None,
    };
    let first = server
        .app
        .tasks_soonest_due(&jane, &query, 3)
        .await
        .unwrap();
    let titles: Vec<&str> = first.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Due in 0 days", "Due in 1 days", "Due in 2 days"]);
    let (client, _) = sign_in(&server, "jane").await;
    let (_, body) = page(&client, &server, "/app").await;
    assert!(
        body.contains("Due in 0 days"),
        "the soonest, made last, is shown"
    );
    assert!(
        !body.contains("Due in 11 days"),
        "the latest, made first, is not"
    );
}

#[tokio::test]
async fn a_simulation_runs_as_a_job_whose_page_shows_its_progress_then_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let server = common::start(store, dir.path()).await;
    let (vic, csrf) = sign_in(&server, "vic").await;
    let simulate = "/app/playbooks/simulate";
    // Bad periods are refused in words, and start nothing.
    for (from, to) in [
        ("2026-06-30", "2026-01-01"),
        ("2023-01-01", "2026-06-30"),
        ("June", "2026-06-30"),
    ] {
        let response = post(
            &vic,
            &server,
            simulate,
            &[("_csrf", &csrf), ("from", from), ("to", to)],
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{from} {to}");
        assert!(response.text().await.unwrap().contains("at most 731 days"));
    }
    // A day that is not one is named with its field.
    let response = post(
        &vic,
        &server,
        simulate,
        &[("_csrf", &csrf), ("from", "2026-01-01"), ("to", "June")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("To “June” is not a date"));
    // Without the session's token, nothing either.
    let response = post(
        &vic,
        &server,
        simulate,
        &[("from", "2026-01-01"), ("to", "2026-06-30")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    async fn tasks(server: &common::Server) -> usize {
        let all = tend_store::TaskFilter::default();
        server.store.tasks(&all, None, 100_000).await.unwrap().len()
    }
    let tasks_before = tasks(&server).await;
    let response = post(
        &vic,
        &server,
        simulate,
        &[
            ("_csrf", &csrf),
            ("from", "2026-01-01"),
            ("to", "2026-06-30"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let job_page = location(&response);
    assert!(job_page.starts_with("/app/playbooks?job="), "{job_page}");
    let mut done = None;
    for _ in 0..500 {
        let (status, body) = page(&vic, &server, &job_page).await;
        assert_eq!(status, StatusCode::OK);
        common::assert_valid_html(&job_page, &body);
        if body.contains("Replayed over") {
            done = Some(body);
            break;
        }
        assert!(
            body.contains("Simulating 2026-01-01 to 2026-06-30"),
            "{body}"
        );
        assert!(body.contains(&format!("hx-get=\"{}\"", job_page.replace('&', "&amp;"))));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let done = done.expect("the simulation finished");
    assert!(done.contains("no task was written"));
    assert!(
        !done.contains("hx-trigger"),
        "a finished simulation is not asked for again"
    );
    assert_eq!(
        tasks(&server).await,
        tasks_before,
        "a simulation writes no task"
    );

    // A job that is not a simulation, or none at all, is no page.
    let (status, body) = page(&vic, &server, "/app/playbooks?job=999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Simulate again"));
}
