//! Live ingestion: the calls of concurrent requests are committed together by one
//! writer (group commit) and each request is answered only once its calls are
//! committed. At most [`MAX_WAITING_CALLS`] calls wait; beyond that a request is
//! refused at once (back-pressure) rather than queued in memory. Each commit records
//! the accounts it changed in the store's queue of account changes; a refresher
//! drains that queue (after every commit, and every second for what a restart left),
//! sweeping through the changed accounts in id order a chunk at a time with all
//! their waiting changes coalesced, and rescores them off the writer.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use tokio::sync::{mpsc, oneshot, Notify, OwnedSemaphorePermit, Semaphore};

use tend_ingest::segment::LiveCall;
use tend_store::{AccountChange, StoreError};

use crate::health::LoadedRun;
use crate::import::{commit_calls, LiveReport};
use crate::{App, AppError};

/// Calls that may wait for a commit, over all requests.
pub const MAX_WAITING_CALLS: usize = 50_000;
/// Calls committed in one transaction at most.
const MAX_BATCH_CALLS: usize = 20_000;
/// Accounts rescored together in one round; a round holds the write lock only while
/// it scores and stores, so commits are not held up behind a long refresh.
const REFRESH_CHUNK: usize = 2000;
/// Queued changes read at a time: enough to coalesce every waiting change of a
/// round's accounts under the ingestion benchmark's load (~15,000 waiting).
const CHANGES_READ: u32 = 50_000;
/// How often the refresher looks at the queue without being woken.
const REFRESH_TICK: Duration = Duration::from_secs(1);
/// A queued change older than this when read is logged as lag.
const LAG_WARNING: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// Why calls were not committed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Too many calls are waiting already; try again shortly.
    #[error("too many calls are waiting to be stored; retry shortly")]
    Busy,
    /// More calls in one request than may ever wait.
    #[error("a request may carry at most {MAX_WAITING_CALLS} calls")]
    TooMany,
    #[error(transparent)]
    App(#[from] AppError),
}

struct Submission {
    calls: Vec<LiveCall>,
    queued_at: Instant,
    /// Given back when the calls are committed (or refused).
    _room: OwnedSemaphorePermit,
    reply: oneshot::Sender<Result<(), String>>,
}

/// What one commit did, for metrics and logs.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitStats {
    pub requests: usize,
    pub calls: usize,
    pub seconds: f64,
    /// How long the oldest request of the commit waited for it to start.
    pub waited_seconds: f64,
    /// What the commit stored (its changed accounts handed on to the refresher);
    /// `None` when it failed and every request of it was refused.
    pub report: Option<LiveReport>,
}

/// The live ingestion of one application. Cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    sender: mpsc::UnboundedSender<Submission>,
    room: Arc<Semaphore>,
}

impl Ingest {
    /// Starts the writer and the health refresher on the current runtime;
    /// `on_commit` is told about every commit, before its requests are answered.
    pub fn start(app: App, on_commit: impl Fn(CommitStats) + Send + Sync + 'static) -> Ingest {
        let (sender, receiver) = mpsc::unbounded_channel();
        let changed = Arc::new(Changed::default());
        tokio::spawn(write_batches(
            app.clone(),
            receiver,
            changed.clone(),
            on_commit,
        ));
        tokio::spawn(refresh_changed(app, changed));
        Ingest {
            sender,
            room: Arc::new(Semaphore::new(MAX_WAITING_CALLS)),
        }
    }

    /// Calls waiting to be committed now.
    pub fn waiting(&self) -> usize {
        MAX_WAITING_CALLS - self.room.available_permits()
    }

    /// Commits `calls` with those of other requests; returns once they are committed.
    pub async fn submit(&self, calls: Vec<LiveCall>) -> Result<(), IngestError> {
        let n = u32::try_from(calls.len().max(1)).map_err(|_| IngestError::TooMany)?;
        if n as usize > MAX_WAITING_CALLS {
            return Err(IngestError::TooMany);
        }
        let room = self
            .room
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| IngestError::Busy)?;
        let (reply, answer) = oneshot::channel();
        let submission = Submission {
            calls,
            queued_at: Instant::now(),
            _room: room,
            reply,
        };
        let stopped = || AppError::Internal("the ingestion writer has stopped".into());
        self.sender.send(submission).map_err(|_| stopped())?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(AppError::Internal(message).into()),
            Err(_) => Err(stopped().into()),
        }
    }
}

/// How the writer wakes the refresher.
#[derive(Default)]
struct Changed {
    notify: Notify,
    /// Set when the writer has stopped (its `Ingest` is gone): the refresher ends.
    closed: AtomicBool,
}

/// The one writer: takes every submission waiting (up to a batch), commits them in
/// one transaction, answers each.
async fn write_batches(
    app: App,
    mut receiver: mpsc::UnboundedReceiver<Submission>,
    changed: Arc<Changed>,
    on_commit: impl Fn(CommitStats) + Send + Sync + 'static,
) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        let mut calls = batch[0].calls.len();
        while calls < MAX_BATCH_CALLS {
            match receiver.try_recv() {
                Ok(next) => {
                    calls += next.calls.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let waited_seconds = batch
            .iter()
            .map(|s| started.duration_since(s.queued_at).as_secs_f64())
            .fold(0.0, f64::max);
        let all: Vec<LiveCall> = batch.iter_mut().flat_map(|s| s.calls.drain(..)).collect();
        let result = {
            let _writing = app.write_lock().await;
            commit_calls(app.store(), app.now(), all).await
        };
        let mut stats = CommitStats {
            requests: batch.len(),
            calls,
            seconds: started.elapsed().as_secs_f64(),
            waited_seconds,
            report: None,
        };
        let answer = match result {
            Ok(report) => {
                if !report.accounts.is_empty() {
                    changed.notify.notify_one();
                }
                stats.report = Some(report);
                Ok(())
            }
            Err(error) => {
                tracing::error!(%error, calls, "storing live calls failed");
                Err(error.to_string())
            }
        };
        // Told before the requests are answered, so that what they see is counted.
        on_commit(stats);
        for submission in batch {
            let _ = submission.reply.send(answer.clone());
        }
    }
    changed.closed.store(true, Ordering::Release);
    changed.notify.notify_one();
}

/// Drains the queue of account changes: rescores the accounts with waiting changes,
/// a chunk at a time (see [`refresh_waiting`]), then puts their webhook events in the
/// outbox and marks those changes handled. A change whose refresh fails stays queued
/// and is tried again. A crash between the refresh and the mark refreshes those
/// accounts once more, which changes nothing.
async fn refresh_changed(app: App, changed: Arc<Changed>) {
    let mut cursor = String::new();
    loop {
        while refresh_waiting(&app, &mut cursor).await == Some(true) {}
        if changed.closed.load(Ordering::Acquire) {
            return;
        }
        tokio::select! {
            _ = changed.notify.notified() => {}
            _ = tokio::time::sleep(REFRESH_TICK) => {}
        }
    }
}

/// One round: the next accounts with waiting changes after `cursor` in id order, up
/// to a chunk (from the first again once past the last), rescored together with
/// every waiting change of theirs coalesced into it; `cursor` moves to the last of
/// them. `Some(true)` if changes were handled (more may wait), `Some(false)` if none
/// waited, `None` if the round failed (logged; tried again later).
///
/// A sweep through the ids rather than passes from the first id: under a steady load
/// a change waits for the sweep to come round to its account, half a pass on
/// average, where passes from the start put the last accounts behind the pass in
/// progress and the whole next one. In id order, not oldest first: a chunk of
/// accounts close in id loads as a few ranges, where the accounts of the oldest
/// changes are scattered and loaded one by one.
async fn refresh_waiting(app: &App, cursor: &mut String) -> Option<bool> {
    let failed = |error: &dyn std::fmt::Display| {
        // A store closed by shutdown is not a failure: the changes stay queued.
        if !app.store().is_closed() {
            tracing::error!(%error, "refreshing health after changes failed");
        }
    };
    let started = Instant::now();
    let waiting = match app.store().waiting_changes(CHANGES_READ).await {
        Ok(waiting) => waiting,
        Err(error) => {
            failed(&error);
            return None;
        }
    };
    let Some(first) = waiting.first() else {
        return Some(false);
    };
    let lag = app.now() - first.changed_at;
    if lag > LAG_WARNING {
        tracing::warn!(
            lag_seconds = lag.num_milliseconds() as f64 / 1000.0,
            waiting = waiting.len(),
            "account changes wait to be handled"
        );
    }
    let (accounts, changes) = next_accounts(&waiting, cursor, REFRESH_CHUNK);
    if let Some(last) = accounts.last() {
        cursor.clone_from(last);
    }
    let read = started.elapsed();
    if let Err(error) = refresh_chunk(app, &accounts).await {
        failed(&error);
        return None;
    }
    let refreshed = started.elapsed();
    if let Err(error) = finish_changes(app, &changes).await {
        failed(&error);
        return None;
    }
    tracing::debug!(
        changes = changes.len(),
        accounts = accounts.len(),
        lag_ms = lag.num_milliseconds(),
        read_ms = read.as_millis() as u64,
        refresh_ms = (refreshed - read).as_millis() as u64,
        finish_ms = (started.elapsed() - refreshed).as_millis() as u64,
        "account changes handled"
    );
    Some(true)
}

/// The first `limit` accounts with changes in `waiting` after `cursor` in id order
/// (from the first when none is after it), and every change of `waiting` that is
/// theirs: a refresh started after they were read covers them all.
fn next_accounts(
    waiting: &[AccountChange],
    cursor: &str,
    limit: usize,
) -> (Vec<String>, Vec<AccountChange>) {
    let ids: BTreeSet<&str> = waiting.iter().map(|c| c.account_id.as_str()).collect();
    let after = (
        std::ops::Bound::Excluded(cursor),
        std::ops::Bound::Unbounded,
    );
    let mut chosen: BTreeSet<&str> = ids.range::<str, _>(after).take(limit).copied().collect();
    if chosen.is_empty() {
        chosen = ids.iter().take(limit).copied().collect();
    }
    let accounts: Vec<String> = chosen.iter().map(|id| id.to_string()).collect();
    let changes = waiting
        .iter()
        .filter(|c| chosen.contains(c.account_id.as_str()))
        .cloned()
        .collect();
    (accounts, changes)
}

/// Rescores `accounts` (sorted) on the latest scored day and runs the playbooks over
/// them, from one load of their facts: measures computed without the write lock, so
/// commits go on meanwhile, then scored and stored under it. A commit landing in
/// between queued its own change, so its data is scored in a later round.
async fn refresh_chunk(app: &App, accounts: &[String]) -> Result<(), AppError> {
    let Some(day) = app.store().latest_health_day().await? else {
        return Ok(());
    };
    let started = Instant::now();
    let (window, customers_since) = crate::playbooks::run::live_reach(app, day);
    let active = (customers_since, day);
    let runs = crate::health::load_runs_of(app.store(), accounts, active, window).await?;
    let read = started.elapsed();
    let (rows, runs) =
        crate::health::raw_values_of_loaded(app.scorecards(), runs, accounts, day).await;
    let measured = started.elapsed();
    {
        let _writing = app.write_lock().await;
        crate::health::store_refreshed(app.store(), app.scorecards(), accounts, &rows, day).await?;
        app.health_pages().invalidate();
    }
    let stored = started.elapsed();
    rescore_risk(app, accounts).await;
    let risk = started.elapsed();
    run_playbooks(app, runs, accounts, day).await;
    tracing::debug!(
        accounts = accounts.len(),
        read_ms = read.as_millis() as u64,
        measures_ms = (measured - read).as_millis() as u64,
        health_stored_ms = (stored - measured).as_millis() as u64,
        risk_ms = (risk - stored).as_millis() as u64,
        playbooks_ms = (started.elapsed() - risk).as_millis() as u64,
        "accounts refreshed after changes"
    );
    Ok(())
}

/// Runs the playbooks over `accounts` on the latest scored day, right after their
/// health and risk, on the facts loaded for health: a change turns into its task
/// within the same round. A failure is logged; the daily run evaluates every account
/// again.
async fn run_playbooks(app: &App, runs: Vec<LoadedRun>, accounts: &[String], day: NaiveDate) {
    if let Err(error) = crate::playbooks::run::run_for_loaded(app, runs, accounts, day).await {
        // A store closed by shutdown is not a failure: the next start runs them.
        if !app.store().is_closed() {
            tracing::error!(%error, "running playbooks after changes failed");
        }
    }
}

/// Scores `accounts` with the stored churn model on the latest day with risk scores
/// (the day the risk table shows), without refitting. A failure is logged and does
/// not hold the change back: health, already stored, is what the change was for.
async fn rescore_risk(app: &App, accounts: &[String]) {
    let scored = async {
        let target = crate::risk::Target::Churn.as_str();
        let Some(day) = app.store().latest_risk_day(target).await? else {
            return Ok(());
        };
        let Some(model) = app.churn_model().churn(app.store()).await? else {
            return Ok(());
        };
        let bands = crate::risk::Bands::default();
        let set = app.scorecards();
        crate::risk::score::score_accounts_with(app.store(), set, &model, accounts, day, &bands)
            .await
            .map(|_| ())
    };
    if let Err(error) = scored.await {
        // A store closed by shutdown is not a failure: the next change scores them.
        if !app.store().is_closed() {
            tracing::error!(%error, "scoring churn risk after changes failed");
        }
    }
}

/// Puts the webhook events of `changes` in the outbox and marks them handled, in one
/// transaction: a change yields its events once, whatever crashes when.
async fn finish_changes(app: &App, changes: &[AccountChange]) -> Result<(), StoreError> {
    // Under the write lock, queued fairly with the live commits (see `apply`).
    let _writing = app.write_lock().await;
    let mut tx = app.store().begin().await?;
    crate::webhooks::handle_changes(app.store(), &mut tx, changes, app.now()).await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(id: i64, account: &str) -> AccountChange {
        AccountChange {
            id,
            account_id: account.to_string(),
            reason: "segment".to_string(),
            changed_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn rounds_sweep_the_accounts_with_changes_in_id_order_with_all_their_waiting_changes() {
        let waiting = vec![
            change(1, "Z"),
            change(2, "B"),
            change(3, "Z"),
            change(4, "A"),
            change(5, "B"),
            change(6, "C"),
        ];
        let ids = |changes: &[AccountChange]| changes.iter().map(|c| c.id).collect::<Vec<_>>();
        let (accounts, changes) = next_accounts(&waiting, "", 2);
        assert_eq!(accounts, vec!["A".to_string(), "B".to_string()]);
        assert_eq!(ids(&changes), vec![2, 4, 5]);
        // After B the sweep goes on with C and Z, then starts from the first again.
        let (accounts, changes) = next_accounts(&waiting, "B", 2);
        assert_eq!(accounts, vec!["C".to_string(), "Z".to_string()]);
        assert_eq!(ids(&changes), vec![1, 3, 6]);
        let (accounts, _) = next_accounts(&waiting, "Z", 2);
        assert_eq!(accounts, vec!["A".to_string(), "B".to_string()]);
        let (accounts, changes) = next_accounts(&waiting, "", 10);
        assert_eq!(accounts.len(), 4);
        assert_eq!(changes.len(), 6);
    }
}
