//! Liveness, readiness, who am I, the OpenAPI document and its reference page.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::Json;

use tend_engine::{authorize, Action};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::wire::{MeBody, Status};
use crate::{ServerState, READY_TIMEOUT};

/// Liveness: the process answers. No authentication, no data.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()),
    responses((status = 200, description = "The process answers", body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: the database answers in time.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()),
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "The database does not answer", body = Status)))]
pub async fn readyz(State(state): State<ServerState>) -> (StatusCode, Json<Status>) {
    match tokio::time::timeout(READY_TIMEOUT, state.app.store().ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(Status { status: "ready" })),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "database unavailable",
            }),
        ),
    }
}

/// The caller's identity, role and book.
#[utoipa::path(get, path = "/api/v1/me", tag = "access",
    responses((status = 200, description = "Who is asking", body = MeBody)))]
pub async fn me(caller: Caller) -> Result<Json<MeBody>, ApiError> {
    let actor = caller.actor;
    Ok(Json(MeBody {
        actor: actor.name,
        role: actor.role.as_str(),
        book: actor.book,
    }))
}

/// Operational metrics in the Prometheus text format: requests by route and status
/// with latency, and live ingestion (calls by outcome, commits, waiting calls).
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "The metrics (OpenMetrics text)", content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    authorize(&caller.actor, Action::Read)?;
    state.metrics.set_waiting(state.ingest.waiting());
    let (waiting, oldest) = state.app.store().change_backlog().await?;
    let age = oldest.map_or(0.0, |at| {
        (state.app.now() - at).num_milliseconds().max(0) as f64 / 1000.0
    });
    state.metrics.set_change_backlog(waiting, age);
    let (waiting, oldest) = state.app.store().delivery_backlog().await?;
    let age = oldest.map_or(0.0, |at| {
        (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
    });
    state.metrics.set_outbox_backlog(waiting, age);
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    ))
}

/// The OpenAPI document of this server.
pub async fn openapi(State(state): State<ServerState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.as_ref().clone(),
    )
}

/// The API reference, rendered in the browser from the OpenAPI document.
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../api_docs.html"))
}
