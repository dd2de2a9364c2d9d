//! Success plans (objectives, milestones, lifecycle stages) and time to value.

use axum::extract::{Path, State};
use axum::Json;
use tend_core::{MilestoneKind, MilestoneStatus, ObjectiveStatus};
use tend_engine::views::plans::{NewMilestone, NewObjective};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire_work::*;
use crate::ServerState;

/// An account's success plan: objectives, milestones, stages and time to value.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/plan", tag = "tasks",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, description = "The success plan", body = SuccessPlanBody)))]
pub async fn plan(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<SuccessPlanBody>, ApiError> {
    Ok(Json(
        state.app.success_plan(&caller.actor, &id).await?.into(),
    ))
}

/// Adds (or, with an existing id, replaces) an objective of the account's plan.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/objectives", tag = "tasks",
    params(("id" = String, Path, description = "Account id")),
    request_body = NewObjectiveBody,
    responses((status = 200, description = "The success plan as changed", body = SuccessPlanBody)))]
pub async fn save_objective(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewObjectiveBody>,
) -> Result<Json<SuccessPlanBody>, ApiError> {
    let new = NewObjective {
        id: body.id,
        title: body.title,
        criteria: body.criteria,
        status: match &body.status {
            Some(s) => ObjectiveStatus::parse(s).map_err(|e| ApiError::invalid("/status", e.0))?,
            None => ObjectiveStatus::Open,
        },
    };
    Ok(Json(
        state
            .app
            .save_objective(&caller.actor, &id, &new)
            .await?
            .into(),
    ))
}

/// Adds (or, with an existing id, replaces) a milestone of the account's plan.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/milestones", tag = "tasks",
    params(("id" = String, Path, description = "Account id")),
    request_body = NewMilestoneBody,
    responses((status = 200, description = "The success plan as changed", body = SuccessPlanBody)))]
pub async fn save_milestone(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewMilestoneBody>,
) -> Result<Json<SuccessPlanBody>, ApiError> {
    let status = match &body.status {
        Some(s) => MilestoneStatus::parse(s).map_err(|e| ApiError::invalid("/status", e.0))?,
        None if body.done_on.is_some() => MilestoneStatus::Done,
        None => MilestoneStatus::Planned,
    };
    let new = NewMilestone {
        id: body.id,
        objective_id: body.objective_id,
        title: body.title,
        kind: MilestoneKind::parse(&body.kind).map_err(|e| ApiError::invalid("/kind", e.0))?,
        due_on: body.due_on,
        owner: body.owner,
        status,
        done_on: body.done_on,
    };
    Ok(Json(
        state
            .app
            .save_milestone(&caller.actor, &id, &new)
            .await?
            .into(),
    ))
}

/// Time to value by segment and by start quarter.
#[utoipa::path(get, path = "/api/v1/time-to-value", tag = "reports",
    responses((status = 200, description = "Time to value", body = TimeToValueBody)))]
pub async fn time_to_value(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<TimeToValueBody>, ApiError> {
    Ok(Json(state.app.time_to_value(&caller.actor).await?.into()))
}
