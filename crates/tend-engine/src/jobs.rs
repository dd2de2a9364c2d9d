//! Long work started by a request (a full health rescore) runs as a job: on a
//! thread of its own with its own runtime, so it never stalls request handling,
//! reporting progress that callers read as the job's status.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};

use crate::app::{App, AppError};
use crate::health::rescore;
use crate::policy::{authorize, Action, Actor};

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
#[derive(Debug, Clone, PartialEq, Eq)]
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

    fn finish(&self, state: JobState, message: String) {
        let mut status = self.status.lock().expect("job status lock");
        status.state = state;
        status.message = Some(message);
    }
}

/// The jobs of one application.
#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Arc<Job>>>,
}

impl Jobs {
    fn start(&self, kind: &'static str, actor: &Actor, now: DateTime<Utc>) -> Arc<Job> {
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
            }),
        });
        let mut jobs = self.jobs.lock().expect("jobs lock");
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
        job
    }

    /// The status of job `id`.
    pub fn status(&self, id: u64) -> Option<JobStatus> {
        let jobs = self.jobs.lock().expect("jobs lock");
        jobs.get(&id).map(|job| job.status())
    }
}

impl App {
    /// Starts a full rescore of `day` as a job and returns at once. It holds the
    /// write lock while it runs, so incremental refreshes wait for it.
    pub fn start_rescore(&self, actor: &Actor, day: NaiveDate) -> Result<JobStatus, AppError> {
        authorize(actor, Action::WritePortfolio)?;
        let job = self.jobs().start("health.rescore", actor, self.now());
        let status = job.status();
        let app = self.clone();
        let actor = actor.clone();
        std::thread::Builder::new()
            .name("tend-rescore".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                let outcome = match runtime {
                    Ok(runtime) => runtime.block_on(async {
                        let _writing = app.write_lock().await;
                        let progress = |done: usize, total: usize| {
                            job.done.store(done as u64, Ordering::Relaxed);
                            job.total.store(total as u64, Ordering::Relaxed);
                        };
                        let run = rescore(app.store(), app.scorecards(), day, &progress).await?;
                        app.audit(
                            &actor,
                            "health.rescore",
                            &day.to_string(),
                            &[("snapshots", run.snapshots.into())],
                        )
                        .await?;
                        Ok::<_, AppError>(run)
                    }),
                    Err(e) => Err(AppError::Internal(e.to_string())),
                };
                match outcome {
                    Ok(run) => job.finish(
                        JobState::Succeeded,
                        format!(
                            "scored {} accounts on {}: {} snapshots",
                            run.accounts, run.last_day, run.snapshots
                        ),
                    ),
                    Err(error) => {
                        tracing::error!(%error, "rescore job failed");
                        let message = match error {
                            AppError::Internal(_) => {
                                "the rescore failed; see the server log".into()
                            }
                            other => other.to_string(),
                        };
                        job.finish(JobState::Failed, message);
                    }
                }
            })
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(status)
    }
}
