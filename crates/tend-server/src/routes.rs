//! The routes and their handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::auth::Actor;
use crate::error::ApiError;
use crate::policy::{authorize, Action};
use crate::{ServerState, READY_TIMEOUT};

pub(crate) fn routes() -> Router<ServerState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/me", get(me))
        .route("/api/v1/accounts/{id}", get(account))
}

#[derive(Serialize)]
struct Status {
    status: &'static str,
}

/// Liveness: the process answers. No authentication, no data.
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: the database answers within `READY_TIMEOUT`.
async fn readyz(State(state): State<ServerState>) -> (StatusCode, Json<Status>) {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(Status { status: "ready" })),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "database unavailable",
            }),
        ),
    }
}

#[derive(Serialize)]
struct MeBody {
    actor: String,
    role: &'static str,
    book: Option<String>,
}

async fn me(actor: Actor) -> Result<Json<MeBody>, ApiError> {
    authorize(&actor, Action::ReadSelf)?;
    Ok(Json(MeBody {
        actor: actor.name,
        role: actor.role.as_str(),
        book: actor.book,
    }))
}

/// An account as the API shows it.
#[derive(Serialize)]
struct AccountBody {
    id: String,
    name: String,
    parent_id: Option<String>,
    segment: Option<String>,
    tier: Option<String>,
    industry: Option<String>,
    region: Option<String>,
    lifecycle_stage: Option<&'static str>,
    csm_owner: Option<String>,
    am_owner: Option<String>,
    created_on: chrono::NaiveDate,
    churned_on: Option<chrono::NaiveDate>,
    churn_reason: Option<String>,
}

impl From<tend_core::Account> for AccountBody {
    fn from(a: tend_core::Account) -> Self {
        AccountBody {
            id: a.id,
            name: a.name,
            parent_id: a.parent_id,
            segment: a.segment,
            tier: a.tier,
            industry: a.industry,
            region: a.region,
            lifecycle_stage: a.lifecycle_stage.map(|s| s.as_str()),
            csm_owner: a.csm_owner,
            am_owner: a.am_owner,
            created_on: a.created_on,
            churned_on: a.churned_on,
            churn_reason: a.churn_reason,
        }
    }
}

async fn account(
    actor: Actor,
    State(state): State<ServerState>,
    Path(id): Path<String>,
) -> Result<Json<AccountBody>, ApiError> {
    authorize(&actor, Action::ReadAccounts)?;
    let account = state
        .store
        .account(&id)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    account.map(|a| Json(a.into())).ok_or(ApiError::NotFound {
        what: "account",
        id,
    })
}
