//! The authorization matrix: every route of the router × every kind of caller
//! (anonymous; a session and a token of each role, CSMs inside and outside the
//! account's book), from one table. A route the table does not list fails the test.

mod common;

use std::collections::BTreeSet;

use chrono::Utc;
use reqwest::{Method, StatusCode};
use tend_core::Role;
use tend_engine::access::{add_user, create_token, NewToken, NewUser};
use tend_store::test_support;

/// Who a route lets through, and the status it answers them with.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Anyone, signed in or not.
    Public(u16),
    /// Anyone signed in.
    SignedIn(u16),
    /// Writes to lark-1, an account of jane (CSM) and omar (AM).
    WriteLark1(u16),
    /// Portfolio-wide writes: admins and leaders.
    Portfolio(u16),
    Admin(u16),
    /// Leaders only (approvals of proposals).
    Leader(u16),
    /// Only a session (a token has none to show or end).
    SessionOnly(u16),
    /// Only a source's write key, which no user or API token is: 401 for all.
    WriteKey,
    /// Only an API token (MCP over HTTP): sessions and the anonymous get 401.
    TokenOnly(u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    Anonymous,
    Token,
    Session,
}

/// A caller: how it signs in and who it is.
#[derive(Clone, Copy, Debug)]
struct Who {
    via: Via,
    handle: &'static str,
    role: Option<Role>,
}

fn expected(rule: Rule, who: Who) -> u16 {
    use Role::*;
    if let Rule::WriteKey = rule {
        return 401;
    }
    if let Rule::TokenOnly(status) = rule {
        return if who.via == Via::Token { status } else { 401 };
    }
    if who.via == Via::Anonymous {
        return match rule {
            Rule::Public(s) => s,
            _ => 401,
        };
    }
    let role = who.role.expect("signed in");
    let allowed = match rule {
        Rule::Public(_) | Rule::SignedIn(_) => true,
        Rule::WriteLark1(_) => {
            matches!(role, Admin | Leader) || ["jane", "omar"].contains(&who.handle)
        }
        Rule::Portfolio(_) => matches!(role, Admin | Leader),
        Rule::Admin(_) => role == Admin,
        Rule::Leader(_) => role == Leader,
        Rule::SessionOnly(_) => true,
        Rule::WriteKey | Rule::TokenOnly(_) => false,
    };
    let status = match rule {
        Rule::Public(s)
        | Rule::SignedIn(s)
        | Rule::WriteLark1(s)
        | Rule::Portfolio(s)
        | Rule::Admin(s)
        | Rule::Leader(s)
        | Rule::SessionOnly(s) => s,
        Rule::WriteKey | Rule::TokenOnly(_) => 401,
    };
    match rule {
        Rule::SessionOnly(_) if who.via == Via::Token => 409,
        _ if allowed => status,
        _ => 403,
    }
}

/// Every route: method, path as the OpenAPI document spells it, and its rule.
const TABLE: &[(&str, &str, Rule)] = &[
    ("GET", "/healthz", Rule::Public(200)),
    ("GET", "/readyz", Rule::Public(200)),
    ("GET", "/api/openapi.json", Rule::Public(200)),
    ("GET", "/api/docs", Rule::Public(200)),
    ("POST", "/api/v1/session", Rule::Public(201)),
    ("GET", "/api/v1/session", Rule::SessionOnly(200)),
    ("DELETE", "/api/v1/session", Rule::SessionOnly(204)),
    ("GET", "/api/v1/me", Rule::SignedIn(200)),
    ("GET", "/metrics", Rule::SignedIn(200)),
    ("GET", "/api/v1/accounts", Rule::SignedIn(200)),
    ("GET", "/api/v1/accounts/{id}", Rule::SignedIn(200)),
    ("PATCH", "/api/v1/accounts/{id}", Rule::WriteLark1(200)),
    ("GET", "/api/v1/accounts/{id}/timeline", Rule::SignedIn(200)),
    (
        "POST",
        "/api/v1/accounts/{id}/activities",
        Rule::WriteLark1(201),
    ),
    ("GET", "/api/v1/accounts/{id}/health", Rule::SignedIn(200)),
    (
        "GET",
        "/api/v1/accounts/{id}/health/explanation",
        Rule::SignedIn(200),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/health/refresh",
        Rule::WriteLark1(200),
    ),
    ("GET", "/api/v1/contacts", Rule::SignedIn(200)),
    ("PATCH", "/api/v1/contacts/{id}", Rule::WriteLark1(200)),
    ("GET", "/api/v1/contracts", Rule::SignedIn(200)),
    ("GET", "/api/v1/tickets", Rule::SignedIn(200)),
    ("GET", "/api/v1/survey-responses", Rule::SignedIn(200)),
    ("GET", "/api/v1/invoices", Rule::SignedIn(200)),
    ("GET", "/api/v1/payments", Rule::SignedIn(200)),
    ("GET", "/api/v1/activities", Rule::SignedIn(200)),
    ("GET", "/api/v1/health", Rule::SignedIn(200)),
    ("POST", "/api/v1/health/rescore", Rule::Portfolio(202)),
    ("POST", "/api/v1/health/evaluations", Rule::SignedIn(202)),
    ("GET", "/api/v1/jobs/{id}", Rule::SignedIn(200)),
    ("GET", "/api/v1/summary", Rule::SignedIn(200)),
    ("GET", "/api/v1/metrics", Rule::SignedIn(200)),
    // Larkspur's history is too short to fit a churn model: no risk scores yet.
    ("GET", "/api/v1/risk", Rule::SignedIn(409)),
    ("GET", "/api/v1/accounts/{id}/risk", Rule::SignedIn(409)),
    ("POST", "/api/v1/risk/refit", Rule::Portfolio(202)),
    ("POST", "/api/v1/risk/evaluations", Rule::SignedIn(202)),
    ("GET", "/api/v1/retention", Rule::SignedIn(200)),
    ("GET", "/api/v1/retention/why", Rule::SignedIn(200)),
    // No Larkspur customer has been lost yet: renewals cannot be modelled.
    ("GET", "/api/v1/clv", Rule::SignedIn(409)),
    ("POST", "/api/v1/imports/{entity}", Rule::Portfolio(200)),
    ("GET", "/api/v1/users", Rule::Admin(200)),
    ("POST", "/api/v1/users", Rule::Admin(201)),
    ("POST", "/api/v1/users/{handle}/disable", Rule::Admin(204)),
    ("GET", "/api/v1/tokens", Rule::Admin(200)),
    ("POST", "/api/v1/tokens", Rule::Admin(201)),
    ("DELETE", "/api/v1/tokens/{id}", Rule::Admin(204)),
    ("GET", "/api/v1/sources", Rule::Admin(200)),
    ("POST", "/api/v1/sources", Rule::Admin(201)),
    ("DELETE", "/api/v1/sources/{id}", Rule::Admin(204)),
    ("GET", "/api/v1/audit", Rule::Admin(200)),
    ("GET", "/api/v1/renewals", Rule::SignedIn(200)),
    // No Larkspur renewal has closed yet: the open ones have no probability.
    ("GET", "/api/v1/forecast", Rule::SignedIn(409)),
    ("GET", "/api/v1/forecast/backtest", Rule::SignedIn(200)),
    (
        "GET",
        "/api/v1/accounts/{id}/renewal-calls",
        Rule::SignedIn(200),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/renewal-calls",
        Rule::WriteLark1(201),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/proposals",
        Rule::WriteLark1(201),
    ),
    ("GET", "/api/v1/proposals", Rule::SignedIn(200)),
    ("GET", "/api/v1/proposals/{id}", Rule::SignedIn(200)),
    ("POST", "/api/v1/proposals/{id}/approve", Rule::Leader(200)),
    ("POST", "/api/v1/proposals/{id}/reject", Rule::Leader(200)),
    ("GET", "/api/v1/approvals", Rule::SignedIn(200)),
    ("GET", "/api/v1/guardrails", Rule::SignedIn(200)),
    ("GET", "/api/v1/expansion/whitespace", Rule::SignedIn(200)),
    ("GET", "/api/v1/expansion/signals", Rule::SignedIn(200)),
    (
        "GET",
        "/api/v1/accounts/{id}/account-plan",
        Rule::SignedIn(200),
    ),
    (
        "PUT",
        "/api/v1/accounts/{id}/account-plan",
        Rule::WriteLark1(200),
    ),
    (
        "PUT",
        "/api/v1/accounts/{id}/stakeholders/{contact_id}",
        Rule::WriteLark1(200),
    ),
    ("POST", "/api/v1/accounts/{id}/team", Rule::WriteLark1(201)),
    (
        "DELETE",
        "/api/v1/accounts/{id}/team/{handle}/{role}",
        Rule::WriteLark1(204),
    ),
    ("GET", "/api/v1/expansion/report", Rule::SignedIn(200)),
    (
        "POST",
        "/api/v1/accounts/{id}/opportunities",
        Rule::WriteLark1(201),
    ),
    ("GET", "/api/v1/opportunities", Rule::SignedIn(200)),
    ("GET", "/api/v1/opportunities/{id}", Rule::SignedIn(200)),
    ("PATCH", "/api/v1/opportunities/{id}", Rule::WriteLark1(200)),
    ("GET", "/api/v1/tasks", Rule::SignedIn(200)),
    ("POST", "/api/v1/tasks", Rule::WriteLark1(201)),
    ("GET", "/api/v1/tasks/{id}", Rule::SignedIn(200)),
    ("PATCH", "/api/v1/tasks/{id}", Rule::WriteLark1(200)),
    ("POST", "/api/v1/tasks/{id}/complete", Rule::WriteLark1(200)),
    ("POST", "/api/v1/tasks/{id}/cancel", Rule::WriteLark1(200)),
    ("POST", "/api/v1/tasks/{id}/snooze", Rule::WriteLark1(200)),
    ("POST", "/api/v1/tasks/{id}/reassign", Rule::WriteLark1(200)),
    ("POST", "/api/v1/tasks/{id}/comments", Rule::WriteLark1(201)),
    (
        "PUT",
        "/api/v1/tasks/{id}/steps/{position}",
        Rule::WriteLark1(200),
    ),
    ("GET", "/api/v1/playbooks", Rule::SignedIn(200)),
    ("GET", "/api/v1/accounts/{id}/plan", Rule::SignedIn(200)),
    (
        "POST",
        "/api/v1/accounts/{id}/objectives",
        Rule::WriteLark1(200),
    ),
    (
        "POST",
        "/api/v1/accounts/{id}/milestones",
        Rule::WriteLark1(200),
    ),
    ("GET", "/api/v1/time-to-value", Rule::SignedIn(200)),
    ("GET", "/api/v1/webhooks", Rule::Admin(200)),
    ("POST", "/api/v1/webhooks", Rule::Admin(201)),
    ("GET", "/api/v1/webhooks/{id}", Rule::Admin(200)),
    ("PATCH", "/api/v1/webhooks/{id}", Rule::Admin(200)),
    ("DELETE", "/api/v1/webhooks/{id}", Rule::Admin(204)),
    ("GET", "/api/v1/webhooks/{id}/deliveries", Rule::Admin(200)),
    ("POST", "/v1/track", Rule::WriteKey),
    ("POST", "/v1/identify", Rule::WriteKey),
    ("POST", "/v1/group", Rule::WriteKey),
    ("POST", "/v1/page", Rule::WriteKey),
    ("POST", "/v1/screen", Rule::WriteKey),
    ("POST", "/v1/alias", Rule::WriteKey),
    ("POST", "/v1/batch", Rule::WriteKey),
    ("POST", "/api/v1/agent/messages", Rule::SignedIn(200)),
    ("POST", "/mcp", Rule::TokenOnly(200)),
];

#[test]
fn the_table_lists_every_route_of_the_router() {
    let routes: BTreeSet<(String, String)> = tend_server::route_list().into_iter().collect();
    let table: BTreeSet<(String, String)> = TABLE
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let unlisted: Vec<_> = routes.difference(&table).collect();
    let gone: Vec<_> = table.difference(&routes).collect();
    assert!(
        unlisted.is_empty(),
        "routes missing from the matrix: {unlisted:?}"
    );
    assert!(
        gone.is_empty(),
        "the matrix lists routes that do not exist: {gone:?}"
    );
}

fn proposal_json(discount: f64) -> serde_json::Value {
    serde_json::json!({
        "kind": "renewal", "currency": "USD", "discount_percent": discount,
        "lines": [{"product": "platform", "seats": 40, "list_price": 120000}],
        "term_months": 12, "payment_terms": "annual_in_advance", "start_on": "2027-02-01"
    })
}

/// A proposal on lark-1 beyond the guardrails (an 18% discount), made by the CLI so
/// that every leader may decide it.
async fn pending_proposal(server: &common::Server) -> i64 {
    let new = common::proposal_beyond_guardrails("lark-1");
    let proposal = server
        .app
        .create_proposal(&tend_engine::Actor::cli(), &new)
        .await
        .unwrap();
    assert_eq!(
        proposal.route,
        Some(tend_core::guardrails::Route::SalesLeadership)
    );
    proposal.id
}

/// The concrete request for a route: its path, and a JSON or CSV body. `n` makes
/// writes that cannot repeat (new users, revocations) unique.
async fn request(
    server: &common::Server,
    method: &str,
    path: &str,
    n: usize,
) -> (String, Option<(&'static str, String)>) {
    let json = |v: serde_json::Value| Some(("application/json", v.to_string()));
    match (method, path) {
        ("POST", "/api/v1/session") => (
            path.into(),
            json(serde_json::json!({"email": common::email("vic"), "password": common::PASSWORD})),
        ),
        ("PATCH", "/api/v1/accounts/{id}") => (
            "/api/v1/accounts/lark-1".into(),
            json(serde_json::json!({"tier": format!("tier-{n}")})),
        ),
        ("POST", "/api/v1/accounts/{id}/activities") => (
            "/api/v1/accounts/lark-1/activities".into(),
            json(serde_json::json!({"kind": "note", "subject": format!("note {n}")})),
        ),
        ("GET", "/api/v1/accounts/{id}/renewal-calls") => (
            "/api/v1/accounts/lark-1/renewal-calls?product=platform&due_on=2027-02-01".into(),
            None,
        ),
        ("POST", "/api/v1/accounts/{id}/renewal-calls") => (
            "/api/v1/accounts/lark-1/renewal-calls".into(),
            json(serde_json::json!({
                "product": "platform", "due_on": "2027-02-01", "category": "commit",
                "note": format!("call {n}")
            })),
        ),
        ("POST", "/api/v1/accounts/{id}/proposals") => (
            "/api/v1/accounts/lark-1/proposals".into(),
            json(proposal_json(5.0)),
        ),
        ("GET", "/api/v1/proposals/{id}") => (
            format!("/api/v1/proposals/{}", pending_proposal(server).await),
            None,
        ),
        ("POST", "/api/v1/proposals/{id}/approve") => (
            format!(
                "/api/v1/proposals/{}/approve",
                pending_proposal(server).await
            ),
            json(serde_json::json!({})),
        ),
        ("POST", "/api/v1/proposals/{id}/reject") => (
            format!(
                "/api/v1/proposals/{}/reject",
                pending_proposal(server).await
            ),
            json(serde_json::json!({"comment": "too deep a discount"})),
        ),
        ("PUT", "/api/v1/accounts/{id}/account-plan") => (
            "/api/v1/accounts/lark-1/account-plan".into(),
            json(
                serde_json::json!({"objectives": [format!("Grow {n}")], "next_review_on": "2026-09-30"}),
            ),
        ),
        ("PUT", "/api/v1/accounts/{id}/stakeholders/{contact_id}") => (
            "/api/v1/accounts/lark-1/stakeholders/c-1".into(),
            json(serde_json::json!({"influence": "high", "sentiment": "supporter", "strength": 4})),
        ),
        ("POST", "/api/v1/accounts/{id}/team") => (
            "/api/v1/accounts/lark-1/team".into(),
            json(serde_json::json!({"handle": format!("se-{n}"), "role": "solutions_engineer"})),
        ),
        ("DELETE", "/api/v1/accounts/{id}/team/{handle}/{role}") => {
            let admin = tend_engine::Actor::cli();
            let handle = format!("lead-{n}");
            server
                .app
                .add_team_member(&admin, "lark-1", &handle, tend_core::TeamRole::SupportLead)
                .await
                .unwrap();
            (
                format!("/api/v1/accounts/lark-1/team/{handle}/support_lead"),
                None,
            )
        }
        ("POST", "/api/v1/accounts/{id}/opportunities") => (
            "/api/v1/accounts/lark-1/opportunities".into(),
            json(serde_json::json!({
                "product": "analytics", "amount_minor": 50_000, "currency": "USD",
                "close_on": "2026-09-30", "source": "signal", "title": format!("Upsell {n}")
            })),
        ),
        (method, "/api/v1/opportunities/{id}") => {
            let id = opportunity(server, n).await;
            let body = (method == "PATCH")
                .then(|| serde_json::json!({"stage": "qualified", "note": format!("n {n}")}));
            (format!("/api/v1/opportunities/{id}"), body.and_then(json))
        }
        ("PATCH", "/api/v1/contacts/{id}") => (
            "/api/v1/contacts/c-1".into(),
            json(serde_json::json!({"title": format!("Title {n}")})),
        ),
        ("GET", "/api/v1/metrics") => {
            ("/api/v1/metrics?from=2026-01-01&to=2026-06-30".into(), None)
        }
        ("POST", "/api/v1/health/rescore")
        | ("POST", "/api/v1/risk/refit")
        | ("POST", "/api/v1/risk/evaluations") => (path.into(), json(serde_json::json!({}))),
        ("POST", "/api/v1/health/evaluations") => (
            path.into(),
            json(serde_json::json!({"dates": 1, "horizon_days": 30})),
        ),
        ("GET", "/api/v1/jobs/{id}") => {
            let admin = tend_engine::Actor::cli();
            let job = server.app.start_evaluation(
                &admin,
                tend_engine::jobs::EvaluationRequest {
                    as_of: common::today(),
                    horizon_days: 30,
                    every_days: 30,
                    dates: 1,
                },
            );
            (format!("/api/v1/jobs/{}", job.unwrap().id), None)
        }
        ("POST", "/api/v1/imports/{entity}") => (
            "/api/v1/imports/contacts".into(),
            Some((
                "text/csv",
                format!("id,account_id,name,role\nimp-{n},lark-1,Imported {n},user\n"),
            )),
        ),
        ("POST", "/api/v1/users") => (
            path.into(),
            json(
                serde_json::json!({"handle": format!("user-{n}"), "email": format!("user-{n}@larkspur.example"), "name": "U", "role": "viewer"}),
            ),
        ),
        ("POST", "/api/v1/users/{handle}/disable") => {
            let handle = format!("gone-{n}");
            let new = NewUser {
                handle: handle.clone(),
                email: format!("{handle}@larkspur.example"),
                name: "Gone".into(),
                role: Role::Viewer,
                password: None,
            };
            add_user(&server.store, "test", new, Utc::now())
                .await
                .unwrap();
            (format!("/api/v1/users/{handle}/disable"), None)
        }
        ("POST", "/api/v1/tokens") => (
            path.into(),
            json(serde_json::json!({"name": format!("t-{n}"), "role": "viewer"})),
        ),
        ("DELETE", "/api/v1/tokens/{id}") => {
            let new = NewToken {
                name: format!("doomed {n}"),
                role: Role::Viewer,
                book: None,
                expires_at: None,
            };
            let created = create_token(&server.store, "test", new, Utc::now())
                .await
                .unwrap();
            (format!("/api/v1/tokens/{}", created.token.id), None)
        }
        ("POST", "/api/v1/sources") => (
            path.into(),
            json(serde_json::json!({"name": format!("s-{n}")})),
        ),
        ("DELETE", "/api/v1/sources/{id}") => {
            let created = tend_engine::access::create_source(
                &server.store,
                "test",
                &format!("doomed {n}"),
                Utc::now(),
            )
            .await
            .unwrap();
            (format!("/api/v1/sources/{}", created.source.id), None)
        }
        ("POST", "/api/v1/webhooks") => (
            path.into(),
            json(
                serde_json::json!({"url": format!("http://127.0.0.1:9/hook-{n}"), "event_types": ["health.band_changed"]}),
            ),
        ),
        ("PATCH", "/api/v1/webhooks/{id}") => {
            let id = webhook(server, n).await;
            (
                format!("/api/v1/webhooks/{id}"),
                json(serde_json::json!({"active": false})),
            )
        }
        (_, p) if p.starts_with("/api/v1/webhooks/{id}") => {
            let id = webhook(server, n).await;
            (p.replace("{id}", &id), None)
        }
        ("POST", "/api/v1/accounts/{id}/objectives") => (
            "/api/v1/accounts/lark-1/objectives".into(),
            json(serde_json::json!({"title": format!("Objective {n}"), "criteria": "Go live"})),
        ),
        ("POST", "/api/v1/accounts/{id}/milestones") => (
            "/api/v1/accounts/lark-1/milestones".into(),
            json(
                serde_json::json!({"title": format!("Milestone {n}"), "kind": "value", "due_on": "2026-07-01"}),
            ),
        ),
        ("POST", "/api/v1/tasks") => (
            path.into(),
            json(
                serde_json::json!({"account_id": "lark-1", "kind": "activity", "title": format!("Call {n}"), "due_on": "2026-07-10"}),
            ),
        ),
        (method, p) if p.starts_with("/api/v1/tasks/{id}") => {
            let id = task(server, n).await;
            let body = match p.rsplit('/').next().unwrap() {
                "complete" | "cancel" => json(serde_json::json!({"reason": "done by hand"})),
                "snooze" => json(serde_json::json!({"until": "2026-07-10", "reason": "away"})),
                "reassign" => json(serde_json::json!({"owner": "lena"})),
                "comments" => json(serde_json::json!({"body": format!("note {n}")})),
                "{position}" => json(serde_json::json!({"done": true})),
                _ if method == "PATCH" => json(serde_json::json!({"priority": "high"})),
                _ => None,
            };
            (
                p.replace("{id}", &id.to_string())
                    .replace("{position}", "0"),
                body,
            )
        }
        ("POST", "/api/v1/agent/messages") => (
            path.into(),
            json(serde_json::json!({
                "requesting_agent": "customer-success-manager",
                "request_type": "get_customer_context",
                "payload": {"query": "Customer context needed"}
            })),
        ),
        ("POST", "/mcp") => (
            path.into(),
            json(serde_json::json!({
                "jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                           "clientInfo": {"name": "matrix", "version": "1"}}
            })),
        ),
        (_, p) if p.starts_with("/v1/") => (
            path.into(),
            json(
                serde_json::json!({"type": "track", "userId": "u", "event": "E", "context": {"groupId": "lark-1"}}),
            ),
        ),
        _ => (path.replace("{id}", "lark-1"), None),
    }
}

/// A new task on lark-1, Jane's, with one step.
async fn task(server: &common::Server, n: usize) -> i64 {
    let new = tend_engine::playbooks::NewTask {
        account_id: "lark-1".into(),
        kind: tend_core::TaskKind::Activity,
        title: format!("Follow up {n}"),
        description: String::new(),
        owner: Some("jane".into()),
        priority: tend_core::TaskPriority::Normal,
        due_on: common::today(),
        steps: vec![("Prepare".into(), common::today())],
    };
    let admin = tend_engine::Actor::cli();
    server.app.create_task(&admin, &new).await.unwrap().task.id
}

/// A new opportunity's id, on lark-1.
async fn opportunity(server: &common::Server, n: usize) -> i64 {
    let new = tend_engine::expansion::opportunities::NewOpportunity {
        account_id: "lark-1".into(),
        product: "analytics".into(),
        title: Some(format!("Analytics {n}")),
        amount: tend_core::Money::new(100_000, tend_core::Currency::USD),
        close_on: common::today(),
        owner: None,
        source: tend_core::OpportunitySource::Manual,
        source_detail: None,
        note: None,
        stage: None,
    };
    let admin = tend_engine::Actor::cli();
    server
        .app
        .create_opportunity(&admin, &new)
        .await
        .unwrap()
        .id
}

/// A new webhook subscription's id.
async fn webhook(server: &common::Server, n: usize) -> String {
    let new = tend_engine::webhooks::NewWebhook {
        url: format!("http://127.0.0.1:9/doomed-{n}"),
        event_types: vec!["account.updated".into()],
        format: None,
    };
    let admin = tend_engine::Actor::cli();
    let created = server.app.create_webhook(&admin, &new).await;
    created.unwrap().id
}

/// Signs `handle` in with a browser of its own; returns it with the CSRF token.
async fn sign_in(server: &common::Server, handle: &str) -> (reqwest::Client, String) {
    let browser = common::browser();
    let response = browser
        .post(server.url("/api/v1/session"))
        .json(&serde_json::json!({"email": common::email(handle), "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{handle} signs in");
    let body: serde_json::Value = response.json().await.unwrap();
    (browser, body["csrf_token"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_table_says() {
    test_support::on_every_backend("authorization_matrix", |store, dir| async move {
        let server = common::start(store, &dir).await;
        let mut callers = vec![(
            Who {
                via: Via::Anonymous,
                handle: "-",
                role: None,
            },
            reqwest::Client::new(),
            None,
        )];
        for (handle, role) in common::USERS {
            callers.push((
                Who {
                    via: Via::Token,
                    handle,
                    role: Some(*role),
                },
                reqwest::Client::new(),
                None,
            ));
            let (browser, csrf) = sign_in(&server, handle).await;
            callers.push((
                Who {
                    via: Via::Session,
                    handle,
                    role: Some(*role),
                },
                browser,
                Some(csrf),
            ));
        }
        let mut n = 0;
        let mut wrong = Vec::new();
        for (method, path, rule) in TABLE {
            for (who, client, csrf) in &callers {
                n += 1;
                // Signing in or out replaces or ends the browser's session: each
                // caller does it in a browser of its own.
                let fresh;
                let (client, csrf) =
                    if *path == "/api/v1/session" && *method != "GET" && who.via == Via::Session {
                        fresh = sign_in(&server, who.handle).await;
                        (&fresh.0, Some(fresh.1.clone()))
                    } else {
                        (client, csrf.clone())
                    };
                // One job of a kind runs at a time: let the last one finish first.
                while server.app.jobs().any_running() {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                let (url, body) = request(&server, method, path, n).await;
                let mut call = client.request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    server.url(&url),
                );
                if who.via == Via::Token {
                    call = call.header("authorization", server.token(who.handle));
                }
                if let Some(csrf) = csrf {
                    call = call.header("x-csrf-token", csrf);
                }
                if let Some((content_type, body)) = body {
                    call = call.header("content-type", content_type).body(body);
                }
                if url == "/mcp" {
                    call = call.header("accept", "application/json, text/event-stream");
                }
                let response = call.send().await.unwrap();
                let want = expected(*rule, *who);
                if response.status() != StatusCode::from_u16(want).unwrap() {
                    let status = response.status();
                    let text = response.text().await.unwrap();
                    wrong.push(format!(
                        "{method} {url} as {who:?}: {status}, wanted {want}: {text}"
                    ));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {n} answers wrong:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
        // Writes refused leave nothing behind: lee never changed jane's account.
        let audit = server.store.audit_log(10_000).await.unwrap();
        let lee_token = format!("token:{}", server.tokens["lee"].split('_').nth(1).unwrap());
        assert!(!audit
            .iter()
            .any(|e| (e.actor == "user:lee" || e.actor == lee_token) && e.target == "lark-1"));
    })
    .await;
}
