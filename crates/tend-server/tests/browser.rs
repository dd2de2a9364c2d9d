//! The web app in a real browser: Debian's Chromium, headless, driven through
//! ChromeDriver (WebDriver) against `tend serve` on port 0 over the demo company.
//! A CSM signs in, reads the cockpit, opens an at-risk account and its explanation,
//! logs a call, completes one task and snoozes another and sees both in the
//! timeline; a leader approves a proposal; a viewer sees no write controls and a
//! forged write is refused. Every page visited parses as HTML without an error and
//! leaves nothing in the browser's console. The cockpit, portfolio and account
//! pages are photographed (into `TEND_SCREENSHOTS`, when set: `docs/screenshots/`).
//!
//! Needs `chromium` and `chromium-driver` (Debian); `.ci/run` installs them. Without
//! a ChromeDriver the test says so and passes, except under CI, where it fails.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tend_core::{Role, TaskStatus};
use tend_engine::access::{add_user, NewUser};
use tend_engine::health::{backfill, load_scorecards};
use tend_engine::playbooks::{load_playbooks, run_playbooks};
use tend_engine::risk::{refit, RiskOptions, Target};
use tend_engine::{App, FixedClock};
use tend_server::ServerState;
use tend_store::{test_support, Store, TaskFilter};

/// The demo's last day of data, and the server's clock (noon that day).
fn last_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

const PASSWORD: &str = "a long browser password";

/// ChromeDriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver_path() -> Option<PathBuf> {
    let path = std::env::var_os("TEND_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    path.exists().then_some(path)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver(path: &PathBuf) -> Driver {
    let port = free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ChromeDriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(Instant::now() < deadline, "ChromeDriver did not answer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, url }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": std::env::var("TEND_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// ChromeDriver's log of the browser's console since the last call.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// Fails if the console holds an error or warning since the last look.
async fn assert_quiet_console(client: &Client, page: &str) {
    let log = client.issue_cmd(BrowserLog).await.expect("the browser log");
    let loud: Vec<&Value> = log
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| matches!(e["level"].as_str(), Some("SEVERE") | Some("WARNING")))
        .collect();
    assert!(loud.is_empty(), "{page}: the console says {loud:?}");
}

/// Polls a script until it returns true.
async fn wait_until(client: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let done = client.execute(script, vec![]).await.unwrap();
        if done == Value::Bool(true) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the page shown is the one titled `title` (after a boosted swap or
/// a full load), with htmx done and the charts drawn.
async fn wait_for_page(client: &Client, title: &str) {
    let script = format!(
        "return document.readyState === 'complete' && !!document.querySelector('main h1') \
         && document.querySelector('main h1').textContent === {} \
         && !document.querySelector('.htmx-request');",
        json!(title)
    );
    wait_until(client, &format!("the page {title:?}"), &script).await;
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn type_into(client: &Client, css: &str, text: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn exists(client: &Client, css: &str) -> bool {
    client
        .execute(
            "return document.querySelector(arguments[0]) !== null;",
            vec![json!(css)],
        )
        .await
        .unwrap()
        == Value::Bool(true)
}

async fn sign_in(client: &Client, base: &str, handle: &str) {
    client.goto(&format!("{base}/app")).await.unwrap();
    // Signed out, the cockpit sends the browser to the sign-in form.
    wait_until(
        client,
        "the sign-in form",
        "return !!document.querySelector('#email');",
    )
    .await;
    assert!(client.current_url().await.unwrap().path() == "/app/login");
    type_into(client, "#email", &format!("{handle}@vendor.example")).await;
    type_into(client, "#password", PASSWORD).await;
    click(client, "form.login button").await;
    wait_for_page(client, "Cockpit").await;
}

async fn sign_out(client: &Client) {
    click(client, "header .who button").await;
    wait_until(
        client,
        "the sign-in form",
        "return !!document.querySelector('#email');",
    )
    .await;
}

/// The page as the server sent it (not the browser's DOM), with the browser's
/// session cookie, checked as HTML.
async fn assert_page_valid(client: &Client, base: &str, path: &str) {
    let cookie = client
        .get_named_cookie(tend_server::auth::SESSION_COOKIE)
        .await
        .expect("signed in");
    let html = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("cookie", format!("{}={}", cookie.name(), cookie.value()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    common::assert_valid_html(path, &html);
}

async fn screenshot(client: &Client, name: &str, height: u32) {
    let Some(dir) = std::env::var_os("TEND_SCREENSHOTS") else {
        return;
    };
    client.set_window_size(1280, height).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = client.screenshot().await.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).unwrap();
    client.set_window_size(1280, 900).await.unwrap();
}

/// The demo company scored and with its churn model and playbook tasks; users of
/// each role, the CSM the one of the riskiest account with at least two tasks.
struct Company {
    app: App,
    csm: String,
    account: String,
    proposal: i64,
}

async fn company(store: Store) -> Company {
    let config = tend_demo::DemoConfig {
        accounts: 160,
        months: 24,
        seed: 11,
        as_of: last_day().succ_opt().unwrap(),
    };
    tend_engine::demo::load_demo(&store, &config, &|_| {})
        .await
        .unwrap();
    let scorecards = load_scorecards(None).unwrap();
    backfill(&store, &scorecards, last_day(), 91, &|_, _| {})
        .await
        .unwrap();
    let fitted = refit(
        &store,
        &scorecards,
        last_day(),
        &RiskOptions::default(),
        &|_, _| {},
    )
    .await
    .unwrap();
    assert!(fitted.model_id.is_some(), "the demo fits a churn model");
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    let app = App::new(store.clone(), scorecards, FixedClock(now))
        .with_playbooks(load_playbooks(None).unwrap());
    run_playbooks(&app, last_day(), &|_, _| {}).await.unwrap();
    let mut risks = store
        .risk_snapshots_on(Target::Churn.as_str(), last_day())
        .await
        .unwrap();
    risks.sort_by(|a, b| b.probability.total_cmp(&a.probability));
    let mut chosen = None;
    for risk in &risks {
        let filter = TaskFilter {
            account_id: Some(risk.account_id.clone()),
            statuses: Some(vec!["open".into()]),
            ..TaskFilter::default()
        };
        let account = store.account(&risk.account_id).await.unwrap().unwrap();
        let tasks = store.tasks(&filter, None, 10).await.unwrap();
        let Some(owner) = account.csm_owner.clone() else {
            continue;
        };
        if tasks.len() >= 2 && tasks.iter().all(|t| t.owner.as_ref() == Some(&owner)) {
            chosen = Some((account.id, owner));
            break;
        }
    }
    let (account, csm) = chosen.expect("an at-risk account with two tasks of its CSM");
    for (handle, role) in [
        (csm.as_str(), Role::Csm),
        ("lena.park", Role::Leader),
        ("vic.viewer", Role::Viewer),
    ] {
        let new = NewUser {
            handle: handle.into(),
            email: format!("{handle}@vendor.example"),
            name: handle.replace('.', " "),
            role,
            password: Some(PASSWORD.into()),
        };
        add_user(&store, "test", new, now).await.unwrap();
    }
    let new = common::proposal_beyond_guardrails(&account);
    let proposal = app
        .create_proposal(&tend_engine::Actor::cli(), &new)
        .await
        .unwrap();
    Company {
        app,
        csm,
        account,
        proposal: proposal.id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csm_a_leader_and_a_viewer_use_the_web_app_in_chromium() {
    let Some(chromedriver) = chromedriver_path() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "ChromeDriver is missing (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "browser test skipped: no ChromeDriver (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = test_support::sqlite_store(dir.path()).await.unwrap();
    let company = company(store.clone()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tend_server::serve(
        listener,
        ServerState::new(company.app.clone()),
        async move {
            let _ = stopped.await;
        },
    ));
    let driver = start_driver(&chromedriver).await;
    let client = browser(&driver, &dir.path().join("profile")).await;
    let result = std::panic::AssertUnwindSafe(story(&client, &base, &company));
    let outcome = futures_util::FutureExt::catch_unwind(result).await;
    let _ = client.close().await;
    drop(driver);
    let _ = stop.send(());
    let _ = server.await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn story(client: &Client, base: &str, company: &Company) {
    let app = &company.app;
    let account_path = format!("/app/accounts/{}", company.account);

    // The console is read for real: a message logged shows in the log.
    client.goto(&format!("{base}/app/login")).await.unwrap();
    client
        .execute("console.error('console probe');", vec![])
        .await
        .unwrap();
    let probe = client.issue_cmd(BrowserLog).await.unwrap();
    assert!(probe.to_string().contains("console probe"), "{probe}");

    // A CSM signs in and reads the cockpit.
    sign_in(client, base, &company.csm).await;
    assert!(text_of(client, "#my-tasks").await.contains("My tasks"));
    assert_quiet_console(client, "cockpit").await;
    assert_page_valid(client, base, "/app").await;
    screenshot(client, "cockpit", 1400).await;

    // The portfolio, lowest health first.
    click(client, "header nav a[href='/app/portfolio']").await;
    wait_for_page(client, "Portfolio").await;
    assert!(exists(client, "table.portfolio tbody tr svg.spark").await);
    assert_quiet_console(client, "portfolio").await;
    assert_page_valid(client, base, "/app/portfolio").await;
    screenshot(client, "portfolio", 1400).await;

    // The at-risk account: its explanation in words.
    client.goto(&format!("{base}{account_path}")).await.unwrap();
    let name = app.account(&company.account).await.unwrap().name;
    wait_for_page(client, &name).await;
    wait_until(
        client,
        "the health chart",
        "return !!document.querySelector('#health-chart canvas');",
    )
    .await;
    let why = text_of(client, "#risk").await;
    assert!(why.contains("chance of churn"), "{why}");
    let why_health = text_of(client, "#explanation").await;
    assert!(why_health.contains("health went from"), "{why_health}");
    assert_quiet_console(client, "account").await;
    assert_page_valid(client, base, &account_path).await;
    screenshot(client, "account", 2400).await;

    // At a tablet's width nothing runs off the side of the page.
    client.set_window_size(768, 1024).await.unwrap();
    for path in ["/app/portfolio", account_path.as_str(), "/app"] {
        client.goto(&format!("{base}{path}")).await.unwrap();
        wait_until(
            client,
            "the page",
            "return document.readyState === 'complete';",
        )
        .await;
        let fits = client
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(fits, Value::Bool(true), "{path} is wider than a tablet");
    }
    client.set_window_size(1280, 900).await.unwrap();
    client.goto(&format!("{base}{account_path}")).await.unwrap();
    wait_for_page(client, &name).await;

    // Logs a call.
    let subject = "Called the sponsor about the renewal";
    click(client, "#log-kind option[value='call']").await;
    type_into(client, "#log-subject", subject).await;
    click(client, "form.log button").await;
    wait_until(
        client,
        "the call in the timeline",
        &format!(
            "return [...document.querySelectorAll('ol.timeline li')].some(li => li.textContent.includes({}));",
            json!(subject)
        ),
    )
    .await;
    let logged = app
        .store()
        .activity_page(Some(&company.account), "", 1000)
        .await
        .unwrap();
    assert!(logged
        .iter()
        .any(|a| a.subject == subject && a.kind.as_str() == "call" && a.author == company.csm));

    // Completes one task and snoozes another.
    let open = app
        .store()
        .tasks(
            &TaskFilter {
                account_id: Some(company.account.clone()),
                statuses: Some(vec!["open".into()]),
                ..TaskFilter::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    let (done, snoozed) = (&open[0], &open[1]);
    click(
        client,
        &format!("#task-{} button[form='complete-{}']", done.id, done.id),
    )
    .await;
    wait_until(
        client,
        "the completed task to leave the open tasks",
        &format!("return !document.querySelector('#task-{}') && !document.querySelector('.htmx-request');", done.id),
    )
    .await;
    assert_eq!(
        app.store().task(done.id).await.unwrap().unwrap().status,
        TaskStatus::Done.as_str()
    );
    let row = format!("#task-{}", snoozed.id);
    click(client, &format!("{row} details.snooze summary")).await;
    let until = client
        .find(Locator::Css(&format!("#until-{}", snoozed.id)))
        .await
        .unwrap();
    // A date input takes its value as the browser's locale types it; set it whole.
    client
        .execute(
            "arguments[0].value = '2026-12-14';",
            vec![serde_json::to_value(&until).unwrap()],
        )
        .await
        .unwrap();
    type_into(
        client,
        &format!("#reason-{}", snoozed.id),
        "waiting for their budget meeting",
    )
    .await;
    click(
        client,
        &format!("{row} button[form='snooze-{}']", snoozed.id),
    )
    .await;
    wait_until(
        client,
        "the task to say it is snoozed",
        &format!(
            "const r = document.querySelector('{row} td.status'); return !!r && r.textContent.includes('snoozed until 2026-12-14');"
        ),
    )
    .await;
    let task = app.store().task(snoozed.id).await.unwrap().unwrap();
    assert_eq!(task.status, TaskStatus::Snoozed.as_str());
    assert_eq!(task.snoozed_until, NaiveDate::from_ymd_opt(2026, 12, 14));

    // Both show in the timeline.
    let timeline = text_of(client, "ol.timeline").await;
    assert!(
        timeline.contains(&format!("Task done: {}", done.title)),
        "{timeline}"
    );
    assert!(
        timeline.contains(&format!("Task snoozed until 2026-12-14: {}", snoozed.title)),
        "{timeline}"
    );
    assert_quiet_console(client, "account after writes").await;
    sign_out(client).await;

    // A leader approves the proposal waiting for sales leadership.
    sign_in(client, base, "lena.park").await;
    click(client, "header nav a[href='/app/renewals']").await;
    wait_for_page(client, "Renewals").await;
    assert_page_valid(client, base, "/app/renewals").await;
    let proposal = format!("#proposal-{}", company.proposal);
    let reasons = text_of(client, &proposal).await;
    assert!(reasons.contains("discount 18% exceeds"), "{reasons}");
    type_into(
        client,
        &format!("#comment-{}", company.proposal),
        "fine for a two-year customer",
    )
    .await;
    click(client, &format!("{proposal} button[value='approve']")).await;
    wait_until(
        client,
        "the approved proposal to leave the approvals",
        &format!("return !document.querySelector('{proposal}') && !document.querySelector('.htmx-request');"),
    )
    .await;
    let decided = app
        .proposal(&tend_engine::Actor::cli(), company.proposal)
        .await
        .unwrap();
    assert_eq!(decided.status.as_str(), "approved");
    assert_eq!(decided.decided_by.as_deref(), Some("lena.park"));
    assert_quiet_console(client, "renewals").await;
    // The metrics with their trend chart, and the playbooks.
    click(client, "header nav a[href='/app/metrics']").await;
    wait_for_page(client, "Metrics").await;
    wait_until(
        client,
        "the trend chart",
        "return !!document.querySelector('#metrics-trend canvas');",
    )
    .await;
    assert!(text_of(client, "table.checklist").await.contains("NPS"));
    assert_page_valid(client, base, "/app/metrics").await;
    click(client, "header nav a[href='/app/playbooks']").await;
    wait_for_page(client, "Playbooks").await;
    assert!(text_of(client, "section[aria-labelledby=loaded]")
        .await
        .contains("at-risk"));
    assert_quiet_console(client, "metrics and playbooks").await;
    sign_out(client).await;

    // A viewer sees no write controls, and a write forged with the page's own
    // token is refused.
    sign_in(client, base, "vic.viewer").await;
    client.goto(&format!("{base}{account_path}")).await.unwrap();
    wait_for_page(client, &name).await;
    for control in ["form.log", "button[form^='complete-']", "details.snooze"] {
        assert!(!exists(client, control).await, "a viewer sees {control}");
    }
    let forged = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
             const body = new URLSearchParams({_csrf: token, kind: 'note', subject: 'forged'});
             fetch(arguments[0], {method: 'POST', body, redirect: 'manual'}).then(r => done(r.status));",
            vec![json!(format!("{account_path}/activities"))],
        )
        .await
        .unwrap();
    assert_eq!(forged, json!(403));
    let notes = app
        .store()
        .activity_page(Some(&company.account), "", 1000)
        .await
        .unwrap();
    assert!(notes.iter().all(|a| a.subject != "forged"));
    // The refusal was a page the browser logged as a failed request; nothing else.
    let _ = client.issue_cmd(BrowserLog).await;
}
