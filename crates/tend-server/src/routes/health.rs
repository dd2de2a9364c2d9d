//! Health: the portfolio table, one account's history and explanation, the
//! incremental refresh, and rescores and evaluations as jobs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tend_engine::jobs::EvaluationRequest;
use tend_engine::views::PageRequest;
use utoipa::IntoParams;

use super::accounts::account_filter;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::wire::*;
use crate::ServerState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HealthListParams {
    /// The day shown; the latest scored day by default.
    pub day: Option<NaiveDate>,
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub tier: Option<String>,
    pub stage: Option<String>,
    pub band: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The portfolio health table, lowest score first, with 7/30/90-day changes.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", params(HealthListParams),
    responses((status = 200, description = "A page of the table", body = HealthPage)))]
pub async fn portfolio(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<HealthListParams>,
) -> Result<Json<HealthPage>, ApiError> {
    let filter = account_filter(p.owner, p.segment, p.tier, p.stage.as_deref(), p.band, p.q)?;
    let page = PageRequest {
        cursor: p.cursor,
        limit: p.limit,
    };
    let (day, page) = state
        .app
        .health_page(&caller.actor, p.day, &filter, &page)
        .await?;
    Ok(Json(HealthPage {
        day,
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// First day; 90 days before `to` by default.
    pub from: Option<NaiveDate>,
    /// Last day; the account's latest scored day by default.
    pub to: Option<NaiveDate>,
}

/// One account's daily health with its changes.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/health", tag = "health",
    params(("id" = String, Path, description = "Account id"), HistoryParams),
    responses((status = 200, description = "The history, oldest first", body = HealthHistoryBody)))]
pub async fn history(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(p): Params<HistoryParams>,
) -> Result<Json<HealthHistoryBody>, ApiError> {
    let days = state
        .app
        .health_history(&caller.actor, &id, p.from, p.to)
        .await?;
    Ok(Json(HealthHistoryBody {
        account_id: id,
        days: days
            .into_iter()
            .map(|d| HistoryDayBody {
                day: d.day,
                score: d.score,
                band: d.band,
                delta_previous: d.delta_previous,
                delta_7d: d.delta_7d,
                delta_30d: d.delta_30d,
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DayParams {
    /// The day; the last day of the data by default.
    pub day: Option<NaiveDate>,
}

/// Why the account scores as it does on a day, measure by measure against 30 days
/// earlier.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/health/explanation", tag = "health",
    params(("id" = String, Path, description = "Account id"), DayParams),
    responses((status = 200, description = "The explanation", body = ExplainBody)))]
pub async fn explanation(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(p): Params<DayParams>,
) -> Result<Json<ExplainBody>, ApiError> {
    let (account, explanation) = state.app.explain(&caller.actor, &id, p.day).await?;
    Ok(Json(ExplainBody {
        account: account.into(),
        explanation: explanation.into(),
    }))
}

/// Rescores one account now (the incremental path), against its segment.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/health/refresh", tag = "health",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, description = "The new snapshot, if the account is scored", body = Option<SnapshotBody>)))]
pub async fn refresh(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Option<SnapshotBody>>, ApiError> {
    let snapshot = state.app.refresh_account_health(&caller.actor, &id).await?;
    Ok(Json(snapshot.map(Into::into)))
}

/// Starts a full rescore of a day as a job.
#[utoipa::path(post, path = "/api/v1/health/rescore", tag = "health",
    request_body = RescoreBody,
    responses((status = 202, description = "The job, started", body = JobBody)))]
pub async fn rescore(
    State(state): State<ServerState>,
    caller: Caller,
    JsonBody(body): JsonBody<RescoreBody>,
) -> Result<(StatusCode, Json<JobBody>), ApiError> {
    let day = match body.day {
        Some(day) => day,
        None => tend_engine::default_day(state.app.store(), state.app.today()).await?,
    };
    let job = state.app.start_rescore(&caller.actor, day)?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// Starts an evaluation of the scorecards (how well low health foretold churn) as
/// a job.
#[utoipa::path(post, path = "/api/v1/health/evaluations", tag = "health",
    request_body = EvaluationBody,
    responses((status = 202, description = "The job, started", body = JobBody)))]
pub async fn evaluate(
    State(state): State<ServerState>,
    caller: Caller,
    JsonBody(body): JsonBody<EvaluationBody>,
) -> Result<(StatusCode, Json<JobBody>), ApiError> {
    let as_of = match body.as_of {
        Some(day) => day,
        None => tend_engine::default_day(state.app.store(), state.app.today()).await?,
    };
    let request = EvaluationRequest {
        as_of,
        horizon_days: body.horizon_days.unwrap_or(90),
        every_days: body.every_days.unwrap_or(30),
        dates: body.dates.unwrap_or(12),
    };
    let job = state.app.start_evaluation(&caller.actor, request)?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// A job's status and, once finished, its result.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "health",
    params(("id" = u64, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = JobBody)))]
pub async fn job(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<JobBody>, ApiError> {
    tend_engine::authorize(&caller.actor, tend_engine::Action::Read)?;
    let status = id
        .parse::<u64>()
        .ok()
        .and_then(|n| state.app.jobs().status(n))
        .ok_or_else(|| ApiError::NotFound(format!("no job with id {id:?}")))?;
    Ok(Json(status.into()))
}
