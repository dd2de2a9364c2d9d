//! Long work started by a request (a full health rescore) runs as a job: on a
//! thread of its own, so its CPU work never stalls request handling,
//! reporting progress that callers read as the job's status.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};

use crate::app::{App, AppError};
use crate::health::{evaluate, rescore, Evaluation, HealthRun};
use crate::policy::{authorize, Action, Actor};

/// The kind of a playbook simulation's job.
pub const SIMULATION_JOB: &str = "playbooks.simulation";

/// Jobs kept for reading their status; the oldest finished ones are forgotten.
const JOBS_KEPT: usize = 100;

/// How a job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }
}

/// A job's status as callers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub id: u64,
    pub kind: &'static str,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub state: JobState,
    /// Units done of `total` (account-days for a rescore).
    pub done: u64,
    pub total: u64,
    /// What it did, or why it failed (in plain words, nothing internal).
    pub message: Option<String>,
    pub outcome: Option<JobOutcome>,
}

/// What a finished job produced.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    Rescore(HealthRun),
    Evaluation(Evaluation),
    RiskRefit(Box<crate::risk::Refit>),
    RiskEvaluation(Box<crate::risk::RiskEvaluation>),
    Simulation(Box<crate::playbooks::Simulation>),
}

/// How far back and how often an evaluation scores the portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluationRequest {
    pub as_of: NaiveDate,
    pub horizon_days: u32,
    pub every_days: u32,
    pub dates: usize,
}

struct Job {
    done: AtomicU64,
    total: AtomicU64,
    status: Mutex<JobStatus>,
}

impl Job {
    fn status(&self) -> JobStatus {
        let mut status = self.status.lock().expect("job status lock").clone();
        status.done = self.done.load(Ordering::Relaxed);
        status.total = self.total.load(Ordering::Relaxed);
        status
    }

    fn finish(&self, state: JobState, message: String, outcome: Option<JobOutcome>) {
        let mut status = self.status.lock().expect("job status lock");
        status.state = state;
        status.message = Some(message);
        status.outcome = outcome;
    }

    fn progress(&self, done: usize, total: usize) {
        self.done.store(done as u64, Ordering::Relaxed);
        self.total.store(total as u64, Ordering::Relaxed);
    }
}

/// The jobs of one application.
#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Arc<Job>>>,
}

impl Jobs {
    /// A new job of `kind`, unless one is running: one of each kind at a time.
    fn start(
        &self,
        kind: &'static str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Arc<Job>, AppError> {
        let mut jobs = self.jobs.lock().expect("jobs lock");
        if let Some(running) = jobs
            .values()
            .map(|j| j.status())
            .find(|s| s.kind == kind && s.state == JobState::Running)
        {
            return Err(AppError::Conflict(format!(
                "a {kind} job is running already (job {}); wait for it to finish",
                running.id
            )));
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let job = Arc::new(Job {
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            status: Mutex::new(JobStatus {
                id,
                kind,
                started_by: actor.name.clone(),
                started_at: now,
                state: JobState::Running,
                done: 0,
                total: 0,
                message: None,
                outcome: None,
            }),
        });
        jobs.insert(id, job.clone());
        while jobs.len() > JOBS_KEPT {
            let oldest_finished = jobs
                .iter()
                .find(|(_, j)| j.status().state != JobState::Running)
                .map(|(id, _)| *id);
            match oldest_finished {
                Some(id) => jobs.remove(&id),
                None => break,
            };
        }
        Ok(job)
    }

    /// Whether any job is running.
    pub fn any_running(&self) -> bool {
        let jobs = self.jobs.lock().expect("jobs lock");
        jobs.values().any(|j| j.status().state == JobState::Running)
    }

    /// The status of job `id`.
    pub fn status(&self, id: u64) -> Option<JobStatus> {
        let jobs = self.jobs.lock().expect("jobs lock");
        jobs.get(&id).map(|job| job.status())
    }
}

/// Work a job does: given the app and a progress sink, what it produced and a line
/// saying so.
type Work = Box<
    dyn FnOnce(
            App,
            Arc<dyn Fn(usize, usize) + Send + Sync>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<(JobOutcome, String), AppError>> + Send>,
        > + Send,
>;

impl App {
    /// Starts a full rescore of `day` as a job and returns at once. It holds the
    /// write lock while it runs, so incremental refreshes wait for it.
    pub fn start_rescore(&self, actor: &Actor, day: NaiveDate) -> Result<JobStatus, AppError> {
        authorize(actor, Action::WritePortfolio)?;
        let actor_for_audit = actor.clone();
        self.start_job(
            "health.rescore",
            actor,
            Box::new(move |app, progress| {
                Box::pin(async move {
                    let _writing = app.write_lock().await;
                    let run =
                        rescore(app.store(), app.scorecards(), day, &|d, t| progress(d, t)).await?;
                    app.health_pages().invalidate();
                    app.audit(
                        &actor_for_audit,
                        "health.rescore",
                        &day.to_string(),
                        &[("snapshots", run.snapshots.into())],
                    )
                    .await?;
                    let message = format!(
                        "scored {} accounts on {}: {} snapshots",
                        run.accounts, run.last_day, run.snapshots
                    );
                    Ok((JobOutcome::Rescore(run), message))
                })
            }),
        )
    }

    /// Starts an evaluation of the scorecards (how well low health foretold churn)
    /// as a job.
    pub fn start_evaluation(
        &self,
        actor: &Actor,
        request: EvaluationRequest,
    ) -> Result<JobStatus, AppError> {
        authorize(actor, Action::Read)?;
        if !(1..=3650).contains(&request.horizon_days) {
            return Err(AppError::invalid("/horizon_days", "must be from 1 to 3650"));
        }
        if !(1..=365).contains(&request.every_days) {
            return Err(AppError::invalid("/every_days", "must be from 1 to 365"));
        }
        if !(1..=60).contains(&request.dates) {
            return Err(AppError::invalid("/dates", "must be from 1 to 60"));
        }
        self.start_job(
            "health.evaluation",
            actor,
            Box::new(move |app, progress| {
                Box::pin(async move {
                    let evaluation = evaluate(
                        app.store(),
                        app.scorecards(),
                        request.as_of,
                        request.horizon_days,
                        request.every_days,
                        request.dates,
                        &|d, t| progress(d, t),
                    )
                    .await?;
                    let message = format!(
                        "evaluated {} dates: AUC {}",
                        evaluation.dates.len(),
                        evaluation
                            .all
                            .auc
                            .map_or("not defined".to_string(), |a| format!("{a:.3}"))
                    );
                    Ok((JobOutcome::Evaluation(evaluation), message))
                })
            }),
        )
    }

    /// Starts a replay of the playbooks over `from`–`to` (nothing written) as a job;
    /// one at a time, as every job kind.
    pub fn start_simulation(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<JobStatus, AppError> {
        authorize(actor, Action::Read)?;
        if from > to {
            return Err(AppError::invalid("to", "must not be before from"));
        }
        self.start_job(
            SIMULATION_JOB,
            actor,
            Box::new(move |app, progress| {
                Box::pin(async move {
                    let simulation =
                        crate::playbooks::simulate(&app, from, to, &|d, t| progress(d, t)).await?;
                    let message = format!(
                        "replayed {} playbooks over {} days",
                        simulation.playbooks.len(),
                        simulation.days
                    );
                    Ok((JobOutcome::Simulation(Box::new(simulation)), message))
                })
            }),
        )
    }

    /// Runs `work` on a thread of its own, driven by the current runtime.
    pub(crate) fn start_job(
        &self,
        kind: &'static str,
        actor: &Actor,
        work: Work,
    ) -> Result<JobStatus, AppError> {
        // The job's future runs on its own thread, but on the caller's runtime: the
        // pool's connections belong to that runtime's I/O driver, and a runtime of
        // the job's own would take the connections it opened down with it.
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| AppError::Internal(format!("jobs need a Tokio runtime: {e}")))?;
        let job = self.jobs().start(kind, actor, self.now())?;
        let status = job.status();
        let app = self.clone();
        std::thread::Builder::new()
            .name(format!("tend-{kind}"))
            .spawn(move || {
                let sink = job.clone();
                let progress: Arc<dyn Fn(usize, usize) + Send + Sync> =
                    Arc::new(move |done, total| sink.progress(done, total));
                let outcome = runtime.block_on(work(app, progress));
                match outcome {
                    Ok((outcome, message)) => {
                        job.finish(JobState::Succeeded, message, Some(outcome))
                    }
                    Err(error) => {
                        tracing::error!(%error, kind, "job failed");
                        let message = match error {
                            AppError::Internal(_) => "the job failed; see the server log".into(),
                            other => other.to_string(),
                        };
                        job.finish(JobState::Failed, message, None);
                    }
                }
            })
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(status)
    }
}
