//! Tasks by hand: lists (mine, my team's, an account's), one task with its steps and
//! comments, and every change — create, update, complete, cancel, snooze, reassign,
//! comment, tick a step — authorized against books of business, audited, and told
//! to webhook subscribers, each in the transaction that makes it.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use tend_core::{Account, Role, TaskKind, TaskPriority, TaskStatus};
use tend_store::{TaskComment, TaskFilter, TaskRecord, TaskStep, Transaction};

use super::run::task_json;
use crate::policy::{authorize, Action, Actor};
use crate::views::page::{Cursor, Page, PageRequest};
use crate::webhooks::{
    queue_events, Event, TASK_CANCELLED, TASK_COMPLETED, TASK_CREATED, TASK_REASSIGNED,
    TASK_SNOOZED, TASK_UPDATED,
};
use crate::{App, AppError};

/// Whose tasks a list shows.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskScope {
    /// The caller's own.
    Mine,
    /// Those of the caller's team (the caller's own without a team).
    Team,
    /// One account's.
    Account(String),
    /// Every task.
    All,
}

/// A list asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskQuery {
    pub scope: TaskScope,
    /// Open ones (open, in progress, snoozed) unless statuses are given.
    pub statuses: Option<Vec<TaskStatus>>,
    pub priorities: Option<Vec<TaskPriority>>,
    pub due_by: Option<NaiveDate>,
    pub playbook: Option<String>,
    pub kind: Option<TaskKind>,
    /// Only this owner's (within the scope).
    pub owner: Option<String>,
}

/// One task whole.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDetail {
    pub task: TaskRecord,
    pub steps: Vec<TaskStep>,
    pub comments: Vec<TaskComment>,
}

/// A task created by hand.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub account_id: String,
    pub kind: TaskKind,
    pub title: String,
    pub description: String,
    /// The caller when not given (or the account's CSM for a caller who is no user).
    pub owner: Option<String>,
    pub priority: TaskPriority,
    pub due_on: NaiveDate,
    pub steps: Vec<(String, NaiveDate)>,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<TaskPriority>,
    pub due_on: Option<NaiveDate>,
    /// `open` or `in_progress`; closing, snoozing and reassigning have their own calls.
    pub status: Option<TaskStatus>,
}

/// What the signal behind a playbook's task saw, in words.
pub fn evidence_words(task: &TaskRecord) -> Option<String> {
    let evidence: Value = serde_json::from_str(&task.evidence).ok()?;
    evidence["words"].as_str().map(String::from)
}

/// The handle a caller's "mine" means: a user's own, a book token's book.
fn own_handle(actor: &Actor) -> Option<&str> {
    match actor.name.split_once(':') {
        Some(("user", handle)) => Some(handle),
        Some(("token", _)) => actor.book.as_deref(),
        _ => None,
    }
}

impl App {
    /// The playbooks in use.
    pub fn playbook_list(&self, actor: &Actor) -> Result<&super::PlaybookSet, AppError> {
        authorize(actor, Action::Read)?;
        Ok(self.playbooks())
    }

    /// A page of tasks, by id.
    pub async fn tasks(
        &self,
        actor: &Actor,
        query: &TaskQuery,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, AppError> {
        authorize(actor, Action::Read)?;
        let limit = page.limit()?;
        let after = match page.cursor("tasks", 1)? {
            Some(parts) => Some(
                parts[0]
                    .parse::<i64>()
                    .map_err(|_| AppError::invalid("cursor", "is not a cursor of this list"))?,
            ),
            None => None,
        };
        let filter = self.task_filter(actor, query).await?;
        let items = self
            .store()
            .tasks(&filter, after, i64::from(limit) + 1)
            .await?;
        Ok(Page::from_overfetch(items, limit, |t| {
            Cursor::new("tasks", &[&t.id.to_string()])
        }))
    }

    /// The first `limit` tasks of `query`, soonest due first (then by id).
    pub async fn tasks_soonest_due(
        &self,
        actor: &Actor,
        query: &TaskQuery,
        limit: u32,
    ) -> Result<Vec<TaskRecord>, AppError> {
        authorize(actor, Action::Read)?;
        let filter = TaskFilter {
            soonest_due_first: true,
            ..self.task_filter(actor, query).await?
        };
        Ok(self.store().tasks(&filter, None, i64::from(limit)).await?)
    }

    /// The store's filter of `query` as `actor` asks it.
    async fn task_filter(&self, actor: &Actor, query: &TaskQuery) -> Result<TaskFilter, AppError> {
        let mut filter = TaskFilter {
            statuses: Some(match &query.statuses {
                Some(list) => list.iter().map(|s| s.as_str().to_string()).collect(),
                None => tend_store::OPEN_STATUSES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            }),
            priorities: query
                .priorities
                .as_ref()
                .map(|list| list.iter().map(|p| p.as_str().to_string()).collect()),
            due_by: query.due_by,
            playbook: query.playbook.clone(),
            kind: query.kind.map(|k| k.as_str().to_string()),
            ..TaskFilter::default()
        };
        match &query.scope {
            TaskScope::All => {}
            TaskScope::Account(id) => {
                self.account_of(id).await?;
                filter.account_id = Some(id.clone());
            }
            TaskScope::Mine | TaskScope::Team => {
                let handle = own_handle(actor).ok_or_else(|| {
                    AppError::invalid(
                        "scope",
                        "only a user (or a book-restricted token) has tasks of its own",
                    )
                })?;
                let mut owners = vec![handle.to_string()];
                if query.scope == TaskScope::Team {
                    let teams = self.store().user_teams().await?;
                    if let Some((_, team)) = teams.iter().find(|(h, _)| h == handle) {
                        owners = teams
                            .iter()
                            .filter(|(_, t)| t == team)
                            .map(|(h, _)| h.clone())
                            .collect();
                    }
                }
                filter.owners = Some(owners);
            }
        }
        if let Some(owner) = &query.owner {
            let owners = filter.owners.get_or_insert_with(|| vec![owner.clone()]);
            owners.retain(|o| o == owner);
        }
        Ok(filter)
    }

    pub async fn task(&self, actor: &Actor, id: i64) -> Result<TaskDetail, AppError> {
        authorize(actor, Action::Read)?;
        let task = self
            .store()
            .task(id)
            .await?
            .ok_or_else(|| AppError::not_found("task", id.to_string()))?;
        Ok(TaskDetail {
            steps: self.store().task_steps(id).await?,
            comments: self.store().task_comments(id).await?,
            task,
        })
    }

    async fn account_of(&self, id: &str) -> Result<Account, AppError> {
        self.store()
            .account(id)
            .await?
            .ok_or_else(|| AppError::not_found("account", id))
    }

    /// Checks that `owner` is an active user.
    async fn check_owner(&self, field: &str, owner: &str) -> Result<(), AppError> {
        let users = self.store().users().await?;
        if users.iter().any(|u| u.handle == owner && u.active) {
            Ok(())
        } else {
            Err(AppError::invalid(
                field,
                format!("{owner:?} is not an active user"),
            ))
        }
    }

    pub async fn create_task(&self, actor: &Actor, new: &NewTask) -> Result<TaskDetail, AppError> {
        let account = self.account_of(&new.account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let title = new.title.trim();
        if title.is_empty() {
            return Err(AppError::invalid("/title", "must not be empty"));
        }
        for (i, (step, _)) in new.steps.iter().enumerate() {
            if step.trim().is_empty() {
                return Err(AppError::invalid(
                    format!("/steps/{i}/title"),
                    "must not be empty",
                ));
            }
        }
        let owner = match &new.owner {
            Some(owner) => {
                self.check_owner("/owner", owner).await?;
                Some(owner.clone())
            }
            None => own_handle(actor)
                .map(String::from)
                .or_else(|| account.csm_owner.clone()),
        };
        let now = self.now();
        let task = TaskRecord {
            id: 0,
            account_id: account.id.clone(),
            kind: new.kind.as_str().to_string(),
            title: title.to_string(),
            description: new.description.clone(),
            owner,
            priority: new.priority.as_str().to_string(),
            due_on: new.due_on,
            status: TaskStatus::Open.as_str().to_string(),
            snoozed_until: None,
            status_reason: None,
            playbook: None,
            signal: None,
            evidence: "{}".to_string(),
            created_by: actor.name.clone(),
            created_at: now,
            updated_at: now,
            closed_at: None,
        };
        let mut tx = self.store().begin().await?;
        let id = tx
            .insert_task(&task, &new.steps)
            .await?
            .ok_or_else(|| AppError::Internal("a task without a playbook conflicted".into()))?;
        let task = TaskRecord { id, ..task };
        let changes = crate::access::audit_changes(&[
            ("account_id", task.account_id.clone().into()),
            ("title", task.title.clone().into()),
            ("owner", json!(task.owner)),
            ("due_on", json!(task.due_on)),
        ]);
        tx.append_audit(now, &actor.name, "task.create", &id.to_string(), &changes)
            .await?;
        tell(&mut tx, TASK_CREATED, &task, &account, json!({}), now).await?;
        tx.commit().await?;
        self.task(actor, id).await
    }

    /// Reads the task and its account in `tx` and checks that `actor` may change it:
    /// its owner may, and so may whoever may write the account.
    async fn task_for_change(
        &self,
        tx: &mut Transaction,
        actor: &Actor,
        id: i64,
    ) -> Result<(TaskRecord, Account), AppError> {
        let task = tx
            .task(id)
            .await?
            .ok_or_else(|| AppError::not_found("task", id.to_string()))?;
        let account = self.account_of(&task.account_id).await?;
        let owns = task.owner.is_some()
            && task.owner.as_deref() == own_handle(actor)
            && actor.role != Role::Viewer;
        if !owns {
            authorize(actor, Action::WriteAccount(&account))?;
        }
        Ok((task, account))
    }

    /// Applies `change` to the task, audits `action` with the fields that changed and
    /// tells `event`; a change that changes nothing writes nothing.
    async fn change_task(
        &self,
        actor: &Actor,
        id: i64,
        action: &str,
        event: &'static str,
        change: impl FnOnce(&mut TaskRecord, DateTime<Utc>) -> Result<(), AppError>,
    ) -> Result<TaskDetail, AppError> {
        let _writing = self.write_lock().await;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let (before, account) = self.task_for_change(&mut tx, actor, id).await?;
        let mut after = before.clone();
        change(&mut after, now)?;
        let changed = differences(&before, &after);
        if changed.is_empty() {
            drop(tx);
            drop(_writing);
            return self.task(actor, id).await;
        }
        after.updated_at = now;
        tx.update_task(&after).await?;
        tx.append_audit(
            now,
            &actor.name,
            action,
            &id.to_string(),
            &crate::access::audit_changes(&changed),
        )
        .await?;
        tell(&mut tx, event, &after, &account, json!({ "changes": Value::Object(changed.into_iter().map(|(k, v)| (k.to_string(), v)).collect()) }), now).await?;
        tx.commit().await?;
        drop(_writing);
        self.task(actor, id).await
    }

    pub async fn update_task(
        &self,
        actor: &Actor,
        id: i64,
        changes: &TaskChanges,
    ) -> Result<TaskDetail, AppError> {
        let changes = changes.clone();
        self.change_task(actor, id, "task.update", TASK_UPDATED, move |task, _| {
            if let Some(title) = &changes.title {
                if title.trim().is_empty() {
                    return Err(AppError::invalid("/title", "must not be empty"));
                }
                task.title = title.trim().to_string();
            }
            if let Some(description) = &changes.description {
                task.description = description.clone();
            }
            if let Some(priority) = changes.priority {
                task.priority = priority.as_str().to_string();
            }
            if let Some(due_on) = changes.due_on {
                task.due_on = due_on;
            }
            if let Some(status) = changes.status {
                if !matches!(status, TaskStatus::Open | TaskStatus::InProgress) {
                    return Err(AppError::invalid(
                        "/status",
                        "is open or in_progress here; complete, cancel and snooze a task with their own calls",
                    ));
                }
                require_open(task)?;
                task.status = status.as_str().to_string();
                task.snoozed_until = None;
            }
            Ok(())
        })
        .await
    }

    /// Closes a task as done (or cancelled), with the reason given.
    pub async fn close_task(
        &self,
        actor: &Actor,
        id: i64,
        status: TaskStatus,
        reason: &str,
    ) -> Result<TaskDetail, AppError> {
        let (action, event) = match status {
            TaskStatus::Done => ("task.complete", TASK_COMPLETED),
            TaskStatus::Cancelled => ("task.cancel", TASK_CANCELLED),
            _ => {
                return Err(AppError::invalid(
                    "/status",
                    "a task closes as done or cancelled",
                ))
            }
        };
        let reason = reason.trim().to_string();
        if status == TaskStatus::Cancelled && reason.is_empty() {
            return Err(AppError::invalid(
                "/reason",
                "say why the task is cancelled",
            ));
        }
        self.change_task(actor, id, action, event, move |task, now| {
            require_open(task)?;
            task.status = status.as_str().to_string();
            task.status_reason = (!reason.is_empty()).then_some(reason);
            task.snoozed_until = None;
            task.closed_at = Some(now);
            Ok(())
        })
        .await
    }

    /// Snoozes a task until a day, with a reason; it opens again that day.
    pub async fn snooze_task(
        &self,
        actor: &Actor,
        id: i64,
        until: NaiveDate,
        reason: &str,
    ) -> Result<TaskDetail, AppError> {
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(AppError::invalid("/reason", "say why the task is snoozed"));
        }
        if until <= self.today() {
            return Err(AppError::invalid("/until", "must be after today"));
        }
        self.change_task(actor, id, "task.snooze", TASK_SNOOZED, move |task, _| {
            require_open(task)?;
            task.status = TaskStatus::Snoozed.as_str().to_string();
            task.snoozed_until = Some(until);
            task.status_reason = Some(reason);
            Ok(())
        })
        .await
    }

    /// Gives a task to another active user.
    pub async fn reassign_task(
        &self,
        actor: &Actor,
        id: i64,
        owner: &str,
    ) -> Result<TaskDetail, AppError> {
        self.check_owner("/owner", owner).await?;
        let owner = owner.to_string();
        self.change_task(
            actor,
            id,
            "task.reassign",
            TASK_REASSIGNED,
            move |task, _| {
                require_open(task)?;
                task.owner = Some(owner);
                Ok(())
            },
        )
        .await
    }

    pub async fn comment_task(
        &self,
        actor: &Actor,
        id: i64,
        body: &str,
    ) -> Result<TaskDetail, AppError> {
        let body = body.trim();
        if body.is_empty() {
            return Err(AppError::invalid("/body", "must not be empty"));
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        self.task_for_change(&mut tx, actor, id).await?;
        let comment = tx
            .insert_task_comment(id, actor.author(), body, now)
            .await?;
        let changes = crate::access::audit_changes(&[("comment_id", comment.into())]);
        tx.append_audit(now, &actor.name, "task.comment", &id.to_string(), &changes)
            .await?;
        tx.commit().await?;
        self.task(actor, id).await
    }

    /// Ticks a step of a task done (or not done).
    pub async fn set_task_step(
        &self,
        actor: &Actor,
        id: i64,
        position: i32,
        done: bool,
    ) -> Result<TaskDetail, AppError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        self.task_for_change(&mut tx, actor, id).await?;
        let by = actor.author().to_string();
        let done_at = done.then_some((now, by.as_str()));
        if !tx.set_task_step_done(id, position, done_at).await? {
            return Err(AppError::not_found("step", format!("{id}/{position}")));
        }
        let changes =
            crate::access::audit_changes(&[("step", position.into()), ("done", done.into())]);
        tx.append_audit(now, &actor.name, "task.step", &id.to_string(), &changes)
            .await?;
        tx.commit().await?;
        self.task(actor, id).await
    }
}

fn require_open(task: &TaskRecord) -> Result<(), AppError> {
    if task.is_open() {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "task {} is {} already",
            task.id, task.status
        )))
    }
}

/// The fields that differ, as `[before, after]`.
fn differences(before: &TaskRecord, after: &TaskRecord) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    macro_rules! compare {
        ($($field:ident),+) => {
            $(if before.$field != after.$field {
                out.push((stringify!($field), json!([before.$field, after.$field])));
            })+
        };
    }
    compare!(
        title,
        description,
        owner,
        priority,
        due_on,
        status,
        snoozed_until,
        status_reason
    );
    out
}

/// Queues the event of a task change for webhook subscribers.
async fn tell(
    tx: &mut Transaction,
    kind: &'static str,
    task: &TaskRecord,
    account: &Account,
    extra: Value,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut data = json!({
        "account_id": account.id, "account_name": account.name, "task": task_json(task),
    });
    if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
        data.extend(extra.clone());
    }
    let event = Event {
        kind,
        account_id: account.id.clone(),
        data,
    };
    queue_events(tx, vec![event], now).await?;
    Ok(())
}

/// Opens again the snoozed tasks whose day has come; audited as tend's own doing.
pub(crate) async fn wake_snoozed(app: &App, day: NaiveDate) -> Result<usize, AppError> {
    let due = app.store().snoozed_tasks_due(day).await?;
    if due.is_empty() {
        return Ok(0);
    }
    let now = app.now();
    let mut tx = app.store().begin().await?;
    let mut woken = 0;
    for id in due.iter().map(|t| t.id) {
        let Some(mut task) = tx.task(id).await? else {
            continue;
        };
        if task.status != TaskStatus::Snoozed.as_str() {
            continue;
        }
        task.status = TaskStatus::Open.as_str().to_string();
        task.snoozed_until = None;
        task.updated_at = now;
        tx.update_task(&task).await?;
        let changes = crate::access::audit_changes(&[("status", json!(["snoozed", "open"]))]);
        tx.append_audit(now, "tend", "task.wake", &id.to_string(), &changes)
            .await?;
        woken += 1;
    }
    tx.commit().await?;
    Ok(woken)
}
