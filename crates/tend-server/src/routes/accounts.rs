//! Accounts: the list, one account's picture, its timeline and edits by hand.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tend_core::{ActivityKind, LifecycleStage};
use tend_engine::views::accounts::{AccountChanges, AccountQuery};
use tend_engine::views::records::NewActivity;
use tend_engine::views::PageRequest;
use tend_store::{AccountFilter, AccountOrder};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{json_with_bytes, Params};
use crate::wire::*;
use crate::{idempotency, ServerState};

/// How accounts are ordered.
#[derive(Deserialize, Clone, Copy, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    Name,
    Id,
    /// Lowest latest health first.
    Health,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountListParams {
    /// The CSM or account manager (a handle).
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub tier: Option<String>,
    /// onboarding, adoption, mature, renewal or churned.
    pub stage: Option<String>,
    /// The band of the latest health, e.g. red.
    pub band: Option<String>,
    /// Words found in the name or id, case ignored.
    pub q: Option<String>,
    pub sort: Option<SortBy>,
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The account filter of a list's query parameters.
pub(crate) fn account_filter(
    owner: Option<String>,
    segment: Option<String>,
    tier: Option<String>,
    stage_text: Option<&str>,
    band: Option<String>,
    q: Option<String>,
) -> Result<AccountFilter, ApiError> {
    Ok(AccountFilter {
        owner,
        segment,
        tier,
        stage: stage("stage", stage_text)?,
        band,
        text: q,
        ..AccountFilter::default()
    })
}

pub(crate) fn stage(field: &str, text: Option<&str>) -> Result<Option<LifecycleStage>, ApiError> {
    text.map(|t| LifecycleStage::parse(t).map_err(|e| ApiError::invalid(field, e.0)))
        .transpose()
}

/// Lists accounts with filters, sorted, a page at a time.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts", params(AccountListParams),
    responses((status = 200, description = "A page of accounts", body = AccountPage)))]
pub async fn list(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<AccountListParams>,
) -> Result<Json<AccountPage>, ApiError> {
    let query = AccountQuery {
        filter: account_filter(p.owner, p.segment, p.tier, p.stage.as_deref(), p.band, p.q)?,
        order: match p.sort.unwrap_or_default() {
            SortBy::Name => AccountOrder::Name,
            SortBy::Id => AccountOrder::Id,
            SortBy::Health => AccountOrder::Health,
        },
        page: PageRequest {
            cursor: p.cursor,
            limit: p.limit,
        },
    };
    let page = state.app.list_accounts(&caller.actor, &query).await?;
    Ok(Json(page.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AsOfParams {
    /// The day (YYYY-MM-DD); the last day of the data by default.
    pub as_of: Option<NaiveDate>,
}

/// One account's whole picture: profile, owners, contacts, contracts and ARR,
/// latest health and its explanation, open tickets, latest surveys, recent activities.
#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts",
    params(("id" = String, Path, description = "Account id"), AsOfParams),
    responses((status = 200, description = "The account", body = AccountViewBody)))]
pub async fn view(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(p): Params<AsOfParams>,
) -> Result<Json<AccountViewBody>, ApiError> {
    let view = state.app.account_view(&caller.actor, &id, p.as_of).await?;
    Ok(Json(view.into()))
}

/// Changes an account's fields; within a CSM's or AM's own book only.
#[utoipa::path(patch, path = "/api/v1/accounts/{id}", tag = "accounts",
    params(("id" = String, Path, description = "Account id")),
    request_body = AccountPatch,
    responses((status = 200, description = "The account as changed", body = AccountBody)))]
pub async fn update(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    crate::extract::JsonBody(patch): crate::extract::JsonBody<AccountPatch>,
) -> Result<Json<AccountBody>, ApiError> {
    let changes = AccountChanges {
        name: patch.name,
        segment: patch.segment,
        tier: patch.tier,
        lifecycle_stage: match patch.lifecycle_stage {
            None => None,
            Some(text) => Some(stage("/lifecycle_stage", text.as_deref())?),
        },
        csm_owner: patch.csm_owner,
        am_owner: patch.am_owner,
    };
    let account = state
        .app
        .update_account(&caller.actor, &id, &changes)
        .await?;
    Ok(Json(account.into()))
}

/// Activities, tickets, survey responses, payments and health band changes,
/// newest first.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/timeline", tag = "accounts",
    params(("id" = String, Path, description = "Account id"), PageParams),
    responses((status = 200, description = "A page of the timeline", body = TimelinePage)))]
pub async fn timeline(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(p): Params<PageParams>,
) -> Result<Json<TimelinePage>, ApiError> {
    let page = PageRequest {
        cursor: p.cursor,
        limit: p.limit,
    };
    let page = state.app.timeline(&caller.actor, &id, &page).await?;
    Ok(Json(page.into()))
}

/// Logs a note, call, meeting or email on the account. Send an `Idempotency-Key`
/// so a retry does not log it twice.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/activities", tag = "accounts",
    params(("id" = String, Path, description = "Account id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewActivityBody,
    responses((status = 201, description = "The activity logged", body = ActivityBody)))]
pub async fn log_activity(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (bytes, body): (_, NewActivityBody) = json_with_bytes(request, &state).await?;
    let kind = ActivityKind::parse(&body.kind).map_err(|e| ApiError::invalid("/kind", e.0))?;
    let new = NewActivity {
        kind,
        subject: body.subject,
        body: body.body,
        contact_id: body.contact_id,
        occurred_at: body.occurred_at,
    };
    let fingerprint = [b"activity".as_slice(), id.as_bytes(), &bytes];
    idempotency::once(
        &state,
        &caller.actor.name,
        &headers,
        &fingerprint,
        StatusCode::CREATED,
        async {
            let activity = state.app.log_activity(&caller.actor, &id, &new).await?;
            Ok(ActivityBody::from(activity))
        },
    )
    .await
}
