//! Tasks and playbooks. Who may change a task (its owner, or whoever may write its
//! account) is the engine's to decide; each service checks it.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tend_core::{TaskKind, TaskPriority, TaskStatus};
use tend_engine::playbooks::{NewTask, TaskChanges, TaskQuery, TaskScope};
use tend_engine::views::PageRequest;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{json_with_bytes, JsonBody, Params};
use crate::wire_work::*;
use crate::{idempotency, ServerState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaskParams {
    /// mine (the default for users and book-restricted tokens), team, or all (the
    /// default for other tokens); `account` lists one account's.
    pub scope: Option<String>,
    /// One account's tasks.
    pub account: Option<String>,
    /// Only this owner's.
    pub owner: Option<String>,
    /// Comma-separated statuses; open, in_progress and snoozed by default.
    pub status: Option<String>,
    /// Comma-separated priorities.
    pub priority: Option<String>,
    /// Due on or before this day.
    pub due_by: Option<NaiveDate>,
    pub playbook: Option<String>,
    pub kind: Option<String>,
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A comma-separated list of names, each parsed.
fn list<T>(
    name: &str,
    text: &Option<String>,
    parse: impl Fn(&str) -> Result<T, tend_core::InvalidValue>,
) -> Result<Option<Vec<T>>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    text.split(',')
        .map(|part| parse(part.trim()).map_err(|e| ApiError::invalid(name, e.0)))
        .collect::<Result<Vec<T>, _>>()
        .map(Some)
}

/// A task id from the path.
fn task_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::NotFound(format!("no task with id {text:?}")))
}

/// Tasks, by id: the caller's own by default, their team's, an account's, or all.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TaskParams),
    responses((status = 200, description = "A page of tasks", body = TaskPage)))]
pub async fn list_tasks(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<TaskParams>,
) -> Result<Json<TaskPage>, ApiError> {
    let own = caller.actor.name.starts_with("user:") || caller.actor.book.is_some();
    let scope = match (p.scope.as_deref(), &p.account) {
        (_, Some(account)) => TaskScope::Account(account.clone()),
        (Some("mine"), None) => TaskScope::Mine,
        (Some("team"), None) => TaskScope::Team,
        (Some("all"), None) => TaskScope::All,
        (None, None) if own => TaskScope::Mine,
        (None, None) => TaskScope::All,
        (Some(_), None) => {
            return Err(ApiError::invalid("scope", "must be mine, team or all"));
        }
    };
    let query = TaskQuery {
        scope,
        statuses: list("status", &p.status, TaskStatus::parse)?,
        priorities: list("priority", &p.priority, TaskPriority::parse)?,
        due_by: p.due_by,
        playbook: p.playbook,
        kind: list("kind", &p.kind, TaskKind::parse)?.and_then(|k| k.first().copied()),
        owner: p.owner,
    };
    let page = PageRequest {
        cursor: p.cursor,
        limit: p.limit,
    };
    let page = state.app.tasks(&caller.actor, &query, &page).await?;
    Ok(Json(page.into()))
}

/// Creates a task by hand on an account the caller may write. Send an
/// `Idempotency-Key` so a retry does not make it twice.
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewTaskBody,
    responses((status = 201, description = "The task", body = TaskDetailBody)))]
pub async fn create_task(
    State(state): State<ServerState>,
    caller: Caller,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (bytes, body): (_, NewTaskBody) = json_with_bytes(request, &state).await?;
    let new = NewTask {
        account_id: body.account_id,
        kind: TaskKind::parse(&body.kind).map_err(|e| ApiError::invalid("/kind", e.0))?,
        title: body.title,
        description: body.description,
        owner: body.owner,
        priority: match &body.priority {
            Some(p) => TaskPriority::parse(p).map_err(|e| ApiError::invalid("/priority", e.0))?,
            None => TaskPriority::Normal,
        },
        due_on: body.due_on,
        steps: body
            .steps
            .into_iter()
            .map(|s| (s.title, s.due_on))
            .collect(),
    };
    let fingerprint = [b"task".as_slice(), &bytes];
    idempotency::once(
        &state,
        &caller.actor.name,
        &headers,
        &fingerprint,
        StatusCode::CREATED,
        async {
            let detail = state.app.create_task(&caller.actor, &new).await?;
            Ok(TaskDetailBody::from(detail))
        },
    )
    .await
}

/// One task with its steps and comments.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id")),
    responses((status = 200, description = "The task", body = TaskDetailBody)))]
pub async fn show_task(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TaskDetailBody>, ApiError> {
    let id = task_id(&id)?;
    Ok(Json(state.app.task(&caller.actor, id).await?.into()))
}

/// Changes a task's title, description, priority, due day, or moves it between
/// open and in progress.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id")),
    request_body = TaskPatch,
    responses((status = 200, description = "The task as changed", body = TaskDetailBody)))]
pub async fn update_task(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<TaskPatch>,
) -> Result<Json<TaskDetailBody>, ApiError> {
    let id = task_id(&id)?;
    let changes = TaskChanges {
        title: patch.title,
        description: patch.description,
        priority: patch
            .priority
            .map(|p| TaskPriority::parse(&p).map_err(|e| ApiError::invalid("/priority", e.0)))
            .transpose()?,
        due_on: patch.due_on,
        status: patch
            .status
            .map(|s| TaskStatus::parse(&s).map_err(|e| ApiError::invalid("/status", e.0)))
            .transpose()?,
    };
    let detail = state.app.update_task(&caller.actor, id, &changes).await?;
    Ok(Json(detail.into()))
}

/// Marks a task done, with what was done.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/complete", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id")),
    request_body = CloseTaskBody,
    responses((status = 200, description = "The task, done", body = TaskDetailBody)))]
pub async fn complete_task(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CloseTaskBody>,
) -> Result<Json<TaskDetailBody>, ApiError> {
    close(&state, &caller, &id, TaskStatus::Done, &body.reason).await
}

/// Cancels a task, saying why.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/cancel", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id")),
    request_body = CloseTaskBody,
    responses((status = 200, description = "The task, cancelled", body = TaskDetailBody)))]
pub async fn cancel_task(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CloseTaskBody>,
) -> Result<Json<TaskDetailBody>, ApiError> {
    close(&state, &caller, &id, TaskStatus::Cancelled, &body.reason).await
}

/// Closes the task of the path as done or cancelled.
async fn close(
    state: &ServerState,
    caller: &Caller,
    id: &str,
    status: TaskStatus,
    reason: &str,
) -> Result<Json<TaskDetailBody>, ApiError> {
    let id = task_id(id)?;
    let detail = state
        .app
        .close_task(&caller.actor, id, status, reason)
        .await?;
    Ok(Json(detail.into()))
}

/// Snoozes a task until a day, saying why; it opens again that day.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/snooze", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id")),
    request_body = SnoozeTaskBody,
    responses((status = 200, description = "The task, snoozed", body = TaskDetailBody)))]
pub async fn snooze_task(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SnoozeTaskBody>,
) -> Result<Json<TaskDetailBody>, ApiError> {
    let id = task_id(&id)?;
    let detail = state
        .app
        .snooze_task(&caller.actor, id, body.until, &body.reason)
        .await?;
    Ok(Json(detail.into()))
}

/// Gives a task to another active user.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reassign", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id")),
    request_body = ReassignTaskBody,
    responses((status = 200, description = "The task, reassigned", body = TaskDetailBody)))]
pub async fn reassign_task(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReassignTaskBody>,
) -> Result<Json<TaskDetailBody>, ApiError> {
    let id = task_id(&id)?;
    let detail = state
        .app
        .reassign_task(&caller.actor, id, &body.owner)
        .await?;
    Ok(Json(detail.into()))
}

/// Adds a comment to a task.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/comments", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id")),
    request_body = CommentBody,
    responses((status = 201, description = "The task with the comment", body = TaskDetailBody)))]
pub async fn comment_task(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<CommentBody>,
) -> Result<(StatusCode, Json<TaskDetailBody>), ApiError> {
    let id = task_id(&id)?;
    let detail = state
        .app
        .comment_task(&caller.actor, id, &body.body)
        .await?;
    Ok((StatusCode::CREATED, Json(detail.into())))
}

/// Ticks a step of a task done, or not done.
#[utoipa::path(put, path = "/api/v1/tasks/{id}/steps/{position}", tag = "tasks",
    params(("id" = i64, Path, description = "The task's id"),
        ("position" = i32, Path, description = "The step's place, from 0")),
    request_body = StepBody,
    responses((status = 200, description = "The task", body = TaskDetailBody)))]
pub async fn set_step(
    State(state): State<ServerState>,
    caller: Caller,
    Path((id, position)): Path<(String, String)>,
    JsonBody(body): JsonBody<StepBody>,
) -> Result<Json<TaskDetailBody>, ApiError> {
    let id = task_id(&id)?;
    let position: i32 = position
        .parse()
        .map_err(|_| ApiError::invalid("position", "is a step's place, a whole number from 0"))?;
    let detail = state
        .app
        .set_task_step(&caller.actor, id, position, body.done)
        .await?;
    Ok(Json(detail.into()))
}

/// The playbooks in use, with their triggers in words.
#[utoipa::path(get, path = "/api/v1/playbooks", tag = "tasks",
    responses((status = 200, description = "The playbooks", body = PlaybookList)))]
pub async fn playbooks(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<PlaybookList>, ApiError> {
    let set = state.app.playbook_list(&caller.actor)?;
    Ok(Json(PlaybookList {
        items: set
            .playbooks
            .iter()
            .zip(&set.origins)
            .map(|(p, origin)| PlaybookBody::new(p, origin))
            .collect(),
    }))
}
