//! The JSON of tasks, playbooks and success plans.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tend_core::playbook::{Playbook, Trigger};
use tend_engine::playbooks::tasks::evidence_words;
use tend_engine::playbooks::TaskDetail;
use tend_store::{TaskComment, TaskRecord, TaskStep};
use utoipa::ToSchema;

/// A task (call to action).
#[derive(Serialize, ToSchema)]
pub struct TaskBody {
    pub id: i64,
    pub account_id: String,
    /// risk, lifecycle, onboarding, adoption, expansion, renewal, advocacy or activity.
    pub kind: String,
    pub title: String,
    pub description: String,
    /// The user handle it is assigned to.
    pub owner: Option<String>,
    /// low, normal, high or urgent.
    pub priority: String,
    pub due_on: NaiveDate,
    /// open, in_progress, snoozed, done or cancelled.
    pub status: String,
    pub snoozed_until: Option<NaiveDate>,
    /// Why it was snoozed, done or cancelled.
    pub status_reason: Option<String>,
    /// The playbook and signal that made it, if one did.
    pub playbook: Option<String>,
    pub signal: Option<String>,
    /// What the signal saw, in words.
    pub evidence: Option<String>,
    /// The records behind it: `{kind, id}` (invoice, contact, contract, …).
    #[schema(value_type = Vec<Object>)]
    pub links: Vec<serde_json::Value>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<TaskRecord> for TaskBody {
    fn from(t: TaskRecord) -> Self {
        let links = serde_json::from_str::<serde_json::Value>(&t.evidence)
            .ok()
            .and_then(|e| e["records"].as_array().cloned())
            .unwrap_or_default();
        TaskBody {
            evidence: evidence_words(&t),
            links,
            id: t.id,
            account_id: t.account_id,
            kind: t.kind,
            title: t.title,
            description: t.description,
            owner: t.owner,
            priority: t.priority,
            due_on: t.due_on,
            status: t.status,
            snoozed_until: t.snoozed_until,
            status_reason: t.status_reason,
            playbook: t.playbook,
            signal: t.signal,
            created_by: t.created_by,
            created_at: t.created_at,
            updated_at: t.updated_at,
            closed_at: t.closed_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TaskStepBody {
    /// The step's place in the task, from 0.
    pub position: i32,
    pub title: String,
    pub due_on: NaiveDate,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

impl From<TaskStep> for TaskStepBody {
    fn from(s: TaskStep) -> Self {
        TaskStepBody {
            position: s.position,
            title: s.title,
            due_on: s.due_on,
            done: s.done_at.is_some(),
            done_at: s.done_at,
            done_by: s.done_by,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TaskCommentBody {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<TaskComment> for TaskCommentBody {
    fn from(c: TaskComment) -> Self {
        TaskCommentBody {
            id: c.id,
            author: c.author,
            body: c.body,
            created_at: c.created_at,
        }
    }
}

/// A task with its steps and comments.
#[derive(Serialize, ToSchema)]
pub struct TaskDetailBody {
    #[serde(flatten)]
    pub task: TaskBody,
    pub steps: Vec<TaskStepBody>,
    pub comments: Vec<TaskCommentBody>,
}

impl From<TaskDetail> for TaskDetailBody {
    fn from(d: TaskDetail) -> Self {
        TaskDetailBody {
            task: d.task.into(),
            steps: d.steps.into_iter().map(Into::into).collect(),
            comments: d.comments.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    pub items: Vec<TaskBody>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

impl From<tend_engine::views::Page<tend_store::TaskRecord>> for TaskPage {
    fn from(page: tend_engine::views::Page<tend_store::TaskRecord>) -> Self {
        TaskPage {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaskStepBody {
    pub title: String,
    pub due_on: NaiveDate,
}

/// A task made by hand.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaskBody {
    pub account_id: String,
    /// risk, lifecycle, onboarding, adoption, expansion, renewal, advocacy or activity.
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// A user handle; the caller by default.
    pub owner: Option<String>,
    /// low, normal (the default), high or urgent.
    pub priority: Option<String>,
    pub due_on: NaiveDate,
    #[serde(default)]
    pub steps: Vec<NewTaskStepBody>,
}

/// Fields to change; those left out stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<String>,
    pub due_on: Option<NaiveDate>,
    /// open or in_progress (complete, cancel and snooze have their own calls).
    pub status: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseTaskBody {
    /// What was done, or why the task is cancelled (required to cancel).
    #[serde(default)]
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeTaskBody {
    /// The day the task opens again (after today).
    pub until: NaiveDate,
    pub reason: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReassignTaskBody {
    /// An active user's handle.
    pub owner: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    pub done: bool,
}

/// A playbook in use.
#[derive(Serialize, ToSchema)]
pub struct PlaybookBody {
    pub name: String,
    pub description: String,
    pub enabled: bool,
    /// The file it came from.
    pub origin: String,
    /// Its triggers in words: any of them fires it.
    pub triggers: Vec<String>,
    pub task_kind: String,
    pub task_title: String,
    pub task_steps: Vec<String>,
    pub reentry_days: u32,
    pub auto_close: bool,
}

impl PlaybookBody {
    pub fn new(p: &Playbook, origin: &str) -> PlaybookBody {
        PlaybookBody {
            name: p.name.clone(),
            description: p.description.clone(),
            enabled: p.enabled,
            origin: origin.to_string(),
            triggers: p.triggers.iter().map(Trigger::words).collect(),
            task_kind: p.task.kind.as_str().to_string(),
            task_title: p.task.title.clone(),
            task_steps: p.task.steps.iter().map(|(t, _)| t.clone()).collect(),
            reentry_days: p.reentry_days,
            auto_close: p.auto_close,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlaybookList {
    pub items: Vec<PlaybookBody>,
}

/// An objective of a success plan: success criteria agreed with the customer.
#[derive(Serialize, ToSchema)]
pub struct ObjectiveBody {
    pub id: String,
    pub title: String,
    pub criteria: String,
    /// open, achieved or dropped.
    pub status: String,
    pub created_on: NaiveDate,
}

#[derive(Serialize, ToSchema)]
pub struct MilestoneBody {
    pub id: String,
    pub objective_id: Option<String>,
    pub title: String,
    /// onboarding, value (its done day gives time to value), adoption or outcome.
    pub kind: String,
    pub due_on: NaiveDate,
    pub owner: Option<String>,
    /// planned, in_progress, done or missed.
    pub status: String,
    pub done_on: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
pub struct StageBody {
    /// onboarding, adoption, mature, renewal or churned.
    pub stage: String,
    pub entered_on: NaiveDate,
}

/// An account's success plan.
#[derive(Serialize, ToSchema)]
pub struct SuccessPlanBody {
    pub account_id: String,
    pub objectives: Vec<ObjectiveBody>,
    pub milestones: Vec<MilestoneBody>,
    /// The lifecycle stages entered, oldest first.
    pub stages: Vec<StageBody>,
    /// First value milestone done − first contract start, in days.
    pub time_to_value_days: Option<i64>,
}

impl From<tend_engine::views::plans::SuccessPlan> for SuccessPlanBody {
    fn from(p: tend_engine::views::plans::SuccessPlan) -> Self {
        SuccessPlanBody {
            account_id: p.account_id,
            objectives: p
                .objectives
                .into_iter()
                .map(|o| ObjectiveBody {
                    id: o.id,
                    title: o.title,
                    criteria: o.criteria,
                    status: o.status.as_str().to_string(),
                    created_on: o.created_on,
                })
                .collect(),
            milestones: p
                .milestones
                .into_iter()
                .map(|m| MilestoneBody {
                    id: m.id,
                    objective_id: m.objective_id,
                    title: m.title,
                    kind: m.kind.as_str().to_string(),
                    due_on: m.due_on,
                    owner: m.owner,
                    status: m.status.as_str().to_string(),
                    done_on: m.done_on,
                })
                .collect(),
            stages: p
                .stages
                .into_iter()
                .map(|(stage, entered_on)| StageBody {
                    stage: stage.as_str().to_string(),
                    entered_on,
                })
                .collect(),
            time_to_value_days: p.time_to_value_days,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObjectiveBody {
    /// Made from the account and title when left out; an existing id is replaced.
    pub id: Option<String>,
    pub title: String,
    #[serde(default)]
    pub criteria: String,
    /// open (the default), achieved or dropped.
    pub status: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMilestoneBody {
    /// Made from the account and title when left out; an existing id is replaced.
    pub id: Option<String>,
    pub objective_id: Option<String>,
    pub title: String,
    /// onboarding, value, adoption or outcome.
    pub kind: String,
    pub due_on: NaiveDate,
    pub owner: Option<String>,
    /// planned (the default; done with done_on), in_progress, done or missed.
    pub status: Option<String>,
    pub done_on: Option<NaiveDate>,
}

#[derive(Serialize, ToSchema)]
pub struct ValueGroupBody {
    /// The segment or start quarter; empty for all accounts.
    pub group: String,
    /// Accounts that reached first value.
    pub reached: usize,
    /// Accounts with a contract and no value milestone done yet.
    pub waiting: usize,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
}

/// Time to value: first value milestone done − first contract start.
#[derive(Serialize, ToSchema)]
pub struct TimeToValueBody {
    pub overall: ValueGroupBody,
    pub by_segment: Vec<ValueGroupBody>,
    /// By the quarter of the first contract's start.
    pub by_cohort: Vec<ValueGroupBody>,
}

impl From<tend_engine::views::plans::ValueGroup> for ValueGroupBody {
    fn from(g: tend_engine::views::plans::ValueGroup) -> Self {
        ValueGroupBody {
            group: g.group,
            reached: g.reached,
            waiting: g.waiting,
            median_days: g.median_days,
            p90_days: g.p90_days,
        }
    }
}

impl From<tend_engine::views::plans::TimeToValue> for TimeToValueBody {
    fn from(t: tend_engine::views::plans::TimeToValue) -> Self {
        TimeToValueBody {
            overall: t.overall.into(),
            by_segment: t.by_segment.into_iter().map(Into::into).collect(),
            by_cohort: t.by_cohort.into_iter().map(Into::into).collect(),
        }
    }
}
