//! A running server over a small company of its own (Larkspur, four accounts in
//! two books), with a user and a token of every role, spoken to over real HTTP.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use tend_core::health::ScorecardSet;
use tend_core::Role;
use tend_engine::access::{add_user, create_token, NewToken, NewUser};
use tend_engine::health::{load_scorecards, parse_scorecards, rescore};
use tend_engine::webhooks::DeliveryPolicy;
use tend_engine::{App, FixedClock, ImportOptions};
use tend_server::ServerState;
use tend_store::Store;

/// The day the company's data ends, and the server's clock (noon that day).
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 30, 12, 0, 0).unwrap()
}

pub const PASSWORD: &str = "correct horse battery";

/// Who may be asked about: users by handle, with their role and email.
pub const USERS: &[(&str, Role)] = &[
    ("ada", Role::Admin),
    ("lena", Role::Leader),
    ("jane", Role::Csm),
    ("lee", Role::Csm),
    ("omar", Role::Am),
    ("vic", Role::Viewer),
];

pub fn email(handle: &str) -> String {
    format!("{handle}@larkspur.example")
}

/// A running server; it stops when dropped.
pub struct Server {
    pub base: String,
    pub app: App,
    pub store: Store,
    /// A token of each role, by role name; `csm-jane` is restricted to jane's book.
    pub tokens: HashMap<String, String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Stops the server as SIGTERM would (requests and webhook attempts in flight
    /// finish) and starts another over the same store, on a new port, delivering
    /// webhooks as `policy` says.
    pub async fn restart(&mut self, policy: DeliveryPolicy) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        let (base, stop, task) = listen(&self.app, policy).await;
        self.base = base;
        self.stop = Some(stop);
        self.task = Some(task);
    }
}

type Listening = (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

/// Serves `app` on a port of its own.
async fn listen(app: &App, policy: DeliveryPolicy) -> Listening {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(tend_server::serve(
        listener,
        ServerState::with_delivery_policy(app.clone(), policy),
        async move {
            let _ = stopped.await;
        },
    ));
    (base, stop, task)
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn token(&self, name: &str) -> String {
        format!("Bearer {}", self.tokens[name])
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Writes the Larkspur company as import files into `dir`.
pub fn write_company(dir: &Path) {
    write(
        dir,
        "accounts.csv",
        "id,name,created_on,segment,tier,lifecycle_stage,csm_owner,am_owner\n\
         lark-1,Larkspur Foods,2025-02-01,mid-market,gold,mature,jane,omar\n\
         lark-2,Quill & Co,2025-03-15,mid-market,silver,adoption,jane,omar\n\
         lark-3,Ostrander Labs,2025-04-10,smb,bronze,onboarding,lee,omar\n\
         lark-4,Pell Metrics,2025-01-05,smb,bronze,renewal,lee,\n",
    );
    write(
        dir,
        "contacts.csv",
        "id,account_id,name,role,email,title\n\
         c-1,lark-1,Mara Ines,champion,mara@foods.example,Head of Ops\n\
         c-2,lark-1,Theo Brandt,executive_sponsor,theo@foods.example,COO\n\
         c-3,lark-2,Ivy Quill,user,ivy@quill.example,\n\
         c-4,lark-3,Ned Ostrander,decision_maker,ned@ostrander.example,CEO\n\
         c-5,lark-4,Pia Pell,billing,pia@pell.example,Finance\n",
    );
    write(
        dir,
        "contracts.csv",
        "id,account_id,product,seats,arr_minor,currency,start_date,end_date\n\
         k-1,lark-1,platform,40,4800000,USD,2025-02-01,2027-01-31\n\
         k-2,lark-2,platform,12,1440000,USD,2025-03-15,2026-09-14\n\
         k-3,lark-3,platform,5,600000,EUR,2025-04-10,2026-10-09\n\
         k-4,lark-4,platform,3,360000,USD,2025-01-05,2026-07-04\n",
    );
    write(
        dir,
        "tickets.csv",
        "id,account_id,subject,status,created_at,priority,first_response_at\n\
         t-1,lark-2,Export fails,open,2026-06-20T09:00:00Z,high,2026-06-20T10:00:00Z\n\
         t-2,lark-4,Billing question,solved,2026-05-02T09:00:00Z,normal,2026-05-02T09:30:00Z\n",
    );
    write(
        dir,
        "survey-responses.csv",
        "id,account_id,kind,score,responded_at,comment\n\
         s-1,lark-1,nps,9,2026-04-10T12:00:00Z,Great\n\
         s-2,lark-4,nps,3,2026-05-10T12:00:00Z,Too slow\n",
    );
    write(
        dir,
        "invoices.csv",
        "id,account_id,amount_minor,currency,issued_on,due_on,status\n\
         i-1,lark-4,360000,USD,2026-01-05,2026-02-04,failed\n",
    );
    write(
        dir,
        "payments.csv",
        "id,invoice_id,account_id,amount_minor,currency,attempted_at,status,failure_reason\n\
         p-1,i-1,lark-4,360000,USD,2026-02-04T08:00:00Z,failed,card declined\n",
    );
    write(
        dir,
        "activities.csv",
        "id,account_id,kind,author,occurred_at,subject\n\
         a-1,lark-1,meeting,jane,2026-06-01T15:00:00Z,QBR\n\
         a-2,lark-3,call,lee,2026-06-15T15:00:00Z,Onboarding check-in\n",
    );
    // Ninety days of usage, each account at its own level and trend.
    let mut usage = String::from("account_id,day,events,active_users,active_users_30d\n");
    for (k, account) in ["lark-1", "lark-2", "lark-3", "lark-4"].iter().enumerate() {
        for back in 0..90u64 {
            let day = today() - Days::new(back);
            let users = match k {
                0 => 30,
                1 => 8 + (back / 15) as i64,
                2 => 4,
                _ => 1 + (back / 30) as i64,
            };
            writeln!(
                usage,
                "{account},{day},{},{users},{}",
                users * 20,
                users + 2
            )
            .unwrap();
        }
    }
    write(dir, "usage-daily.csv", &usage);
}

/// Scorecards that rank accounts within their segment (percentile rules), so
/// distributions are kept.
pub const RANKING_SCORECARDS: &str = r#"
[[scorecard]]
name = "onboarding"
applies_to = { lifecycle_stage = ["onboarding"] }
missing_data = "neutral"
bands = [{ name = "red", from = 0, to = 50 }, { name = "green", from = 50, to = 100 }]
[[scorecard.group]]
name = "usage"
weight = 100
[[scorecard.group.measure]]
name = "license_utilization"
weight = 100
rule = { kind = "percentile" }

[[scorecard]]
name = "standard"
bands = [{ name = "red", from = 0, to = 40 }, { name = "yellow", from = 40, to = 70 }, { name = "green", from = 70, to = 100 }]
[[scorecard.group]]
name = "usage"
weight = 60
[[scorecard.group.measure]]
name = "license_utilization"
weight = 100
rule = { kind = "percentile" }
[[scorecard.group]]
name = "relationships"
weight = 40
[[scorecard.group.measure]]
name = "days_since_csm_touch"
weight = 100
rule = { kind = "percentile", higher_is_better = false }
"#;

/// A fresh server over `store` holding Larkspur, scored on `today()`.
pub async fn start(store: Store, dir: &Path) -> Server {
    start_with(store, dir, load_scorecards(None).unwrap()).await
}

/// The same, with scorecards of the test's own.
pub async fn start_with(store: Store, dir: &Path, scorecards: ScorecardSet) -> Server {
    start_full(store, dir, scorecards, None).await
}

/// The same, with the shipped scorecards and the given playbooks (the other starts
/// run none).
pub async fn start_with_playbooks(
    store: Store,
    dir: &Path,
    playbooks: tend_engine::playbooks::PlaybookSet,
) -> Server {
    start_full(store, dir, load_scorecards(None).unwrap(), Some(playbooks)).await
}

async fn start_full(
    store: Store,
    dir: &Path,
    scorecards: ScorecardSet,
    playbooks: Option<tend_engine::playbooks::PlaybookSet>,
) -> Server {
    // The server's errors in the test's output, for when a test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("error")
        .with_test_writer()
        .try_init();
    let dir = &dir.join("larkspur");
    std::fs::create_dir_all(dir).unwrap();
    write_company(dir);
    let options = ImportOptions {
        today: Some(today()),
        ..ImportOptions::default()
    };
    tend_engine::import_folder(&store, dir, &options, &|_, _| {})
        .await
        .unwrap();
    rescore(&store, &scorecards, today(), &|_, _| {})
        .await
        .unwrap();
    let mut tokens = HashMap::new();
    for (handle, role) in USERS {
        let new = NewUser {
            handle: handle.to_string(),
            email: email(handle),
            name: handle.to_string(),
            role: *role,
            password: Some(PASSWORD.to_string()),
        };
        add_user(&store, "test", new, now()).await.unwrap();
        let book = matches!(role, Role::Csm | Role::Am).then(|| handle.to_string());
        let token = NewToken {
            name: format!("{handle}'s token"),
            role: *role,
            book,
            expires_at: None,
        };
        let created = create_token(&store, "test", token, now()).await.unwrap();
        tokens.insert(handle.to_string(), created.secret);
    }
    // Without playbooks of the test's own, none: the stories of other features are
    // not to be changed by tasks and stages that the shipped playbooks would make.
    let app = App::new(store.clone(), scorecards, FixedClock(now()))
        .with_playbooks(playbooks.unwrap_or_default());
    let (base, stop, task) = listen(&app, DeliveryPolicy::default()).await;
    Server {
        base,
        app,
        store,
        tokens,
        stop: Some(stop),
        task: Some(task),
    }
}

/// A client that keeps cookies, as a browser does.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

pub fn ranking_scorecards() -> ScorecardSet {
    parse_scorecards(RANKING_SCORECARDS, "test scorecards").unwrap()
}

/// Fails unless `html` parses as HTML without a single parse error (html5ever's,
/// the HTML standard's parser), naming the page and each error.
pub fn assert_valid_html(page: &str, html: &str) {
    let parsed = scraper::Html::parse_document(html);
    assert!(
        parsed.errors.is_empty(),
        "{page} is not valid HTML: {:?}",
        parsed.errors
    );
    assert!(
        html.starts_with("<!DOCTYPE html>"),
        "{page} does not start with the HTML doctype"
    );
}

/// A renewal proposal on `account` beyond the shipped guardrails (an 18% discount
/// on 40 seats of the platform at 1,200.00 a seat): one for sales leadership.
pub fn proposal_beyond_guardrails(account: &str) -> tend_engine::proposals::NewProposal {
    tend_engine::proposals::NewProposal {
        account_id: account.into(),
        kind: tend_engine::proposals::ProposalKind::Renewal,
        lines: vec![tend_engine::proposals::ProposalLine {
            product: "platform".into(),
            seats: 40,
            list_price: 120_000,
        }],
        currency: tend_core::Currency::USD,
        discount_percent: 18.0,
        term_months: 12,
        payment_terms: "annual_in_advance".into(),
        start_on: NaiveDate::from_ymd_opt(2027, 2, 1).unwrap(),
        non_standard_terms: None,
    }
}
