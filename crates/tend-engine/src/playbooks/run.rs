//! Running playbooks: each account's decisions found from what is stored (CPU work on
//! loaded chunks), then applied in a transaction — tasks inserted (the store's
//! unique index makes a second insert of the same open task do nothing, so a change
//! delivered twice or two racing runs make one task), cleared ones closed, stages
//! set, webhook events and emails queued, everything audited.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, Utc};
use futures_util::StreamExt;
use serde_json::json;
use tend_core::health::ScorecardSet;
use tend_core::playbook::{decide, Decision, Playbook};
use tend_core::{ContactRole, TaskStatus};
use tend_store::{
    HistoryWindow, NewEmail, StageRecord, Store, StoreError, TaskRecord, Transaction,
};

use super::assign::Assigner;
use super::inputs::Chunk;
use super::PlaybookSet;
use crate::health::LoadedRun;
use crate::risk::rows::Money;
use crate::webhooks::{queue_events, Event, PLAYBOOK_FIRED, TASK_COMPLETED, TASK_CREATED};
use crate::{App, AppError};

/// Accounts loaded and evaluated together.
const ACCOUNTS_PER_CHUNK: usize = 1000;

/// One decision about one account, with what acting on it needs.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub account_id: String,
    pub account_name: String,
    pub csm: Option<String>,
    pub am: Option<String>,
    /// The email addresses of the account's current champions.
    pub champions: Vec<String>,
    pub playbook: usize,
    pub decision: Decision,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunReport {
    pub day: Option<NaiveDate>,
    pub accounts: usize,
    pub created: usize,
    pub closed: usize,
    /// Snoozed tasks whose day came, opened again.
    pub woken: usize,
}

/// The history triggers read on `day`: each kind of
/// record as far back as the longest reach of any trigger (invoices whole: an old one
/// may still be unpaid). Measured: reading 180 days of usage for every trigger made
/// the daily run over 100,000 accounts half again as slow as reading what each needs.
pub(crate) fn trigger_window(set: &PlaybookSet, day: NaiveDate) -> HistoryWindow {
    use tend_core::health::Source;
    let mut reach: std::collections::HashMap<Source, u32> = std::collections::HashMap::new();
    for trigger in set.playbooks.iter().flat_map(|p| &p.triggers) {
        for (source, days) in trigger.spec.reach(&trigger.params) {
            let longest = reach.entry(source).or_default();
            *longest = (*longest).max(days);
        }
    }
    // PostgreSQL's dates start in 4713 BC; NaiveDate::MIN is out of its range.
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid day");
    let since = |source: Source| {
        let days = reach.get(&source).copied().unwrap_or(0);
        day.checked_sub_days(Days::new(u64::from(days)))
            .unwrap_or(earliest)
            .max(earliest)
    };
    HistoryWindow {
        usage: since(Source::Usage),
        feature_use: since(Source::FeatureUse),
        tickets: since(Source::Tickets),
        surveys: since(Source::Surveys),
        invoices: earliest,
        payments: since(Source::Payments),
        activities: since(Source::Activities),
    }
}

/// The first day an account must still have been a customer on for any trigger to
/// fire on `day`: `churned` reaches back `days + within`, every other trigger only
/// to customers of the day. Measured: leaving out accounts lost long ago spares the
/// daily run over 100,000 accounts their history.
pub(crate) fn customers_since(set: &PlaybookSet, day: NaiveDate) -> NaiveDate {
    let reach = set
        .playbooks
        .iter()
        .flat_map(|p| &p.triggers)
        .filter(|trigger| trigger.spec.name == "churned")
        .map(|trigger| {
            let params = &trigger.params;
            let number = |name: &str| {
                params.0.iter().find_map(|(n, v)| match v {
                    tend_core::playbook::Value::Number(x) if *n == name => Some(*x),
                    _ => None,
                })
            };
            (number("days").unwrap_or(0.0) + number("within").unwrap_or(0.0)).ceil() as u64 + 1
        })
        .max()
        .unwrap_or(0);
    day.checked_sub_days(Days::new(reach)).unwrap_or(day)
}

/// Whether any playbook reads ARR (and so needs the money setting loaded).
fn reads_arr(set: &PlaybookSet) -> bool {
    let reads = |c: &tend_core::playbook::Conditions| c.arr_min.is_some() || c.arr_max.is_some();
    set.enabled()
        .any(|p| reads(&p.conditions) || p.triggers.iter().any(|t| reads(&t.when)))
}

/// The decisions on every account of `chunk` (those in `only`, if given) on `day`.
pub(crate) fn plan_chunk(
    set: &PlaybookSet,
    cards: &ScorecardSet,
    chunk: &Chunk,
    day: NaiveDate,
    money: Option<&Money>,
    only: Option<&HashSet<String>>,
) -> Vec<Planned> {
    let mut out = Vec::new();
    for (i, account) in chunk.loaded.accounts().iter().enumerate() {
        if only.is_some_and(|only| !only.contains(&account.id)) {
            continue;
        }
        let input = chunk.input(cards, i, day);
        let arr = money.and_then(|money| arr_major(&input, money));
        for (k, playbook) in set.playbooks.iter().enumerate() {
            let state = chunk.state(&account.id, &playbook.name);
            let decision = decide(playbook, &input, arr, &state);
            if decision == Decision::Nothing {
                continue;
            }
            let champions = input
                .facts
                .contacts
                .iter()
                .filter(|c| c.role == ContactRole::Champion && c.left_on.is_none_or(|d| d > day))
                .filter_map(|c| c.email.clone())
                .collect();
            out.push(Planned {
                account_id: account.id.clone(),
                account_name: account.name.clone(),
                csm: account.csm_owner.clone(),
                am: account.am_owner.clone(),
                champions,
                playbook: k,
                decision,
            });
        }
    }
    out
}

/// ARR in force on the day in major units of the money setting; `None` when some of
/// it cannot be converted.
pub(crate) fn arr_major(input: &tend_core::playbook::Input, money: &Money) -> Option<f64> {
    let on = tend_core::metrics::arr_on(
        input.facts.contracts,
        input.day,
        &money.reporting(),
        input.day,
    );
    if !on.left_out.is_empty() {
        return None;
    }
    let major = 10f64.powi(money.currency.minor_digits() as i32);
    Some(on.arr.values().sum::<i64>() as f64 / major)
}

/// The JSON of a task in webhook events.
pub(crate) fn task_json(task: &TaskRecord) -> serde_json::Value {
    json!({
        "id": task.id,
        "account_id": task.account_id,
        "kind": task.kind,
        "title": task.title,
        "owner": task.owner,
        "priority": task.priority,
        "due_on": task.due_on,
        "status": task.status,
        "status_reason": task.status_reason,
        "playbook": task.playbook,
        "signal": task.signal,
    })
}

/// Applies `planned` (decided on `day`) in one transaction; returns (created, closed).
/// Callers hold the app's write lock: SQLite's busy wait is not fair, and a
/// transaction waiting on it behind a stream of live commits (which queue on the
/// lock) could wait for seconds.
pub(crate) async fn apply(
    store: &Store,
    set: &PlaybookSet,
    day: NaiveDate,
    now: DateTime<Utc>,
    planned: &[Planned],
) -> Result<(usize, usize), StoreError> {
    if planned.is_empty() {
        return Ok((0, 0));
    }
    let mut assigner = Assigner::load(store).await?;
    let mut tx = store.begin().await?;
    let (mut created, mut closed) = (0, 0);
    let mut events = Vec::new();
    let mut emails = Vec::new();
    for plan in planned {
        let playbook = &set.playbooks[plan.playbook];
        match &plan.decision {
            Decision::Nothing => {}
            Decision::Close { task_id, reason } => {
                if let Some(task) = close_task(&mut tx, *task_id, reason, now).await? {
                    closed += 1;
                    events.push(Event {
                        kind: TASK_COMPLETED,
                        account_id: task.account_id.clone(),
                        data: json!({
                            "account_id": task.account_id, "account_name": plan.account_name,
                            "task": task_json(&task), "automatic": true,
                        }),
                    });
                }
            }
            Decision::Fire(firing) => {
                let template = &playbook.task;
                let owner = assigner
                    .owner(
                        store,
                        &playbook.name,
                        &template.assign,
                        plan.csm.as_deref(),
                        plan.am.as_deref(),
                    )
                    .await?;
                let fill = |text: &str| Playbook::fill(text, &plan.account_name, &firing.evidence);
                let evidence = json!({
                    "words": firing.evidence.words,
                    "records": firing.evidence.records.iter()
                        .map(|(kind, id)| json!({ "kind": kind, "id": id }))
                        .collect::<Vec<_>>(),
                    "day": day,
                });
                let task = TaskRecord {
                    id: 0,
                    account_id: plan.account_id.clone(),
                    kind: template.kind.as_str().to_string(),
                    title: fill(&template.title),
                    description: fill(&template.description),
                    owner,
                    priority: template.priority.as_str().to_string(),
                    due_on: day + Days::new(u64::from(template.due_days)),
                    status: TaskStatus::Open.as_str().to_string(),
                    snoozed_until: None,
                    status_reason: None,
                    playbook: Some(playbook.name.clone()),
                    signal: Some(firing.signal.to_string()),
                    evidence: evidence.to_string(),
                    created_by: format!("playbook:{}", playbook.name),
                    created_at: now,
                    updated_at: now,
                    closed_at: None,
                };
                let steps: Vec<(String, NaiveDate)> = template
                    .steps
                    .iter()
                    .map(|(title, days)| (fill(title), day + Days::new(u64::from(*days))))
                    .collect();
                let Some(id) = tx.insert_task(&task, &steps).await? else {
                    continue; // an open task of this playbook is there already
                };
                created += 1;
                let task = TaskRecord { id, ..task };
                let changes = crate::access::audit_changes(&[
                    ("account_id", task.account_id.clone().into()),
                    ("title", task.title.clone().into()),
                    ("owner", json!(task.owner)),
                    ("signal", json!(task.signal)),
                ]);
                tx.append_audit(
                    now,
                    &task.created_by,
                    "task.create",
                    &id.to_string(),
                    &changes,
                )
                .await?;
                events.push(Event {
                    kind: TASK_CREATED,
                    account_id: task.account_id.clone(),
                    data: json!({
                        "account_id": task.account_id, "account_name": plan.account_name,
                        "task": task_json(&task), "evidence": evidence,
                    }),
                });
                if let Some(stage) = playbook.set_stage {
                    let row = StageRecord {
                        account_id: plan.account_id.clone(),
                        stage: stage.as_str().to_string(),
                        entered_on: day,
                    };
                    if tx.enter_stage(&row).await? {
                        let changes = crate::access::audit_changes(&[(
                            "lifecycle_stage",
                            stage.as_str().into(),
                        )]);
                        tx.append_audit(
                            now,
                            &task.created_by,
                            "account.stage",
                            &plan.account_id,
                            &changes,
                        )
                        .await?;
                    }
                }
                if playbook.notify {
                    events.push(Event {
                        kind: PLAYBOOK_FIRED,
                        account_id: plan.account_id.clone(),
                        data: json!({
                            "account_id": plan.account_id, "account_name": plan.account_name,
                            "playbook": playbook.name, "signal": firing.signal,
                            "evidence": firing.evidence.words, "task_id": id,
                        }),
                    });
                }
                for email in &playbook.emails {
                    let to: Vec<String> = match email.to.trim() {
                        "csm" => plan
                            .csm
                            .iter()
                            .filter_map(|h| assigner.email_of(h))
                            .map(String::from)
                            .collect(),
                        "am" => plan
                            .am
                            .iter()
                            .filter_map(|h| assigner.email_of(h))
                            .map(String::from)
                            .collect(),
                        "owner" => task
                            .owner
                            .iter()
                            .filter_map(|h| assigner.email_of(h))
                            .map(String::from)
                            .collect(),
                        "champion" => plan.champions.clone(),
                        address => vec![address.to_string()],
                    };
                    for address in to {
                        emails.push(NewEmail {
                            to_address: address,
                            subject: fill(&email.subject),
                            body: fill(&email.body),
                            account_id: plan.account_id.clone(),
                            playbook: playbook.name.clone(),
                        });
                    }
                }
            }
        }
    }
    tx.insert_emails(&emails, now).await?;
    queue_events(&mut tx, events, now).await?;
    tx.commit().await?;
    Ok((created, closed))
}

/// Closes an open task as done with `reason`; `None` if it is no longer open.
async fn close_task(
    tx: &mut Transaction,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Option<TaskRecord>, StoreError> {
    let Some(mut task) = tx.task(id).await? else {
        return Ok(None);
    };
    if !task.is_open() {
        return Ok(None);
    }
    task.status = TaskStatus::Done.as_str().to_string();
    task.status_reason = Some(reason.to_string());
    task.snoozed_until = None;
    task.closed_at = Some(now);
    task.updated_at = now;
    tx.update_task(&task).await?;
    let actor = format!("playbook:{}", task.playbook.as_deref().unwrap_or("?"));
    let changes = crate::access::audit_changes(&[
        ("status", json!(["open", "done"])),
        ("reason", reason.into()),
    ]);
    tx.append_audit(now, &actor, "task.close", &id.to_string(), &changes)
        .await?;
    Ok(Some(task))
}

/// The money setting, when a playbook needs ARR.
async fn money_for(
    app: &App,
    set: &PlaybookSet,
    day: NaiveDate,
) -> Result<Option<Arc<Money>>, AppError> {
    if !reads_arr(set) {
        return Ok(None);
    }
    let money = Money::load(app.store(), None, day)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Some(Arc::new(money)))
}

/// Runs the playbooks over `accounts` (sorted) on `day`: the live path, after their
/// health and risk were refreshed.
pub async fn run_for_accounts(
    app: &App,
    accounts: &[String],
    day: NaiveDate,
) -> Result<(usize, usize), AppError> {
    let set = app.playbooks();
    if set.enabled().next().is_none() {
        return Ok((0, 0));
    }
    let active = (customers_since(set, day).min(day), day);
    let window = trigger_window(set, day);
    let runs = crate::health::load_runs_of(app.store(), accounts, active, window).await?;
    run_for_loaded(app, runs, accounts, day).await
}

/// The history and the first day of customers that both health on `day` and the
/// playbooks need: what the live path loads once for both.
pub(crate) fn live_reach(app: &App, day: NaiveDate) -> (HistoryWindow, NaiveDate) {
    let health = crate::health::facts::history_window(app.scorecards(), day);
    let set = app.playbooks();
    if set.enabled().next().is_none() {
        return (health, day);
    }
    let window = health.widened_to(trigger_window(set, day));
    (window, customers_since(set, day).min(day))
}

/// [`run_for_accounts`] on facts already loaded: runs of accounts loaded with
/// [`live_reach`] (or more).
pub(crate) async fn run_for_loaded(
    app: &App,
    runs: Vec<LoadedRun>,
    accounts: &[String],
    day: NaiveDate,
) -> Result<(usize, usize), AppError> {
    let set = app.playbooks().clone();
    if set.enabled().next().is_none() {
        return Ok((0, 0));
    }
    let money = money_for(app, &set, day).await?;
    let only: HashSet<String> = accounts.iter().cloned().collect();
    let mut planned = Vec::new();
    for run in runs {
        let range = (run.first.as_str(), run.last.as_str());
        let chunk = Chunk::around(app.store(), run.loaded, range, (day, day)).await?;
        planned.extend(plan_chunk(
            &set,
            app.scorecards(),
            &chunk,
            day,
            money.as_deref(),
            Some(&only),
        ));
    }
    if planned.is_empty() {
        return Ok((0, 0));
    }
    let _writing = app.write_lock().await;
    Ok(apply(app.store(), &set, day, app.now(), &planned).await?)
}

/// The daily run: every account evaluated on `day` (snoozed tasks whose day came are
/// opened first); recorded in the store's log of runs.
pub async fn run_playbooks(
    app: &App,
    day: NaiveDate,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<RunReport, AppError> {
    let store = app.store();
    let started = app.now();
    let woken = super::tasks::wake_snoozed(app, day).await?;
    let set = Arc::new(app.playbooks().clone());
    let ids = store.account_ids().await?;
    let window = trigger_window(&set, day);
    let money = money_for(app, &set, day).await?;
    let cards = Arc::new(app.scorecards().clone());
    let chunks: Vec<(String, String, usize)> = ids
        .chunks(ACCOUNTS_PER_CHUNK)
        .map(|c| (c[0].clone(), c[c.len() - 1].clone(), c.len()))
        .collect();
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    let mut plans = std::pin::pin!(futures_util::stream::iter(chunks)
        .map(|(first, last, count)| {
            let (store, set, cards, money) =
                (store.clone(), set.clone(), cards.clone(), money.clone());
            tokio::spawn(async move {
                let since = customers_since(&set, day);
                let chunk = Chunk::load(&store, (&first, &last), (day, day), window, since).await?;
                let planned = tokio::task::spawn_blocking(move || {
                    plan_chunk(&set, &cards, &chunk, day, money.as_deref(), None)
                })
                .await
                .expect("planning playbooks panicked");
                Ok::<_, StoreError>((count, planned))
            })
        })
        .buffered(parallel));
    let mut report = RunReport {
        day: Some(day),
        woken,
        ..RunReport::default()
    };
    while let Some(joined) = plans.next().await {
        let (count, planned) = joined.expect("a playbook task panicked")?;
        let (created, closed) = {
            let _writing = app.write_lock().await;
            apply(store, &set, day, app.now(), &planned).await?
        };
        report.accounts += count;
        report.created += created;
        report.closed += closed;
        progress(report.accounts, ids.len());
    }
    store
        .record_playbook_run(day, started, app.now(), &report_counts(&report))
        .await?;
    Ok(report)
}

fn report_counts(report: &RunReport) -> [i64; 3] {
    [
        report.accounts as i64,
        report.created as i64,
        report.closed as i64,
    ]
}

/// How often the daily schedule looks whether a day is due.
const DAILY_TICK: std::time::Duration = std::time::Duration::from_secs(60);

/// The daily schedule of `tend serve`: whenever the store's last day of data (never
/// past today) has had no finished run, that day's health is scored if it was not
/// yet (time-based measures move with the day), then the playbooks run over every
/// account on it.
pub async fn run_daily(app: App) {
    loop {
        let due = async {
            let day = crate::as_of::default_day(app.store(), app.today()).await?;
            let last = app.store().last_playbook_run().await?;
            Ok::<_, StoreError>(last.is_none_or(|last| last < day).then_some(day))
        };
        match due.await {
            Ok(Some(day)) => match score_then_run(&app, day).await {
                Ok(report) => tracing::info!(
                    %day, accounts = report.accounts, created = report.created,
                    closed = report.closed, woken = report.woken, "ran the playbooks"
                ),
                Err(error) => tracing::error!(%error, "the daily playbook run failed"),
            },
            Ok(None) => {}
            Err(error) => {
                if !app.store().is_closed() {
                    tracing::error!(%error, "checking for the daily playbook run failed");
                }
            }
        }
        tokio::time::sleep(DAILY_TICK).await;
    }
}

/// Scores `day`'s health when the store has none yet, then runs the playbooks on it.
async fn score_then_run(app: &App, day: NaiveDate) -> Result<RunReport, AppError> {
    if app
        .store()
        .latest_health_day()
        .await?
        .is_none_or(|last| last < day)
    {
        let _writing = app.write_lock().await;
        crate::health::rescore(app.store(), app.scorecards(), day, &|_, _| {}).await?;
        app.health_pages().invalidate();
    }
    run_playbooks(app, day, &|_, _| {}).await
}
