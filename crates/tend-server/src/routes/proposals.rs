//! Renewal and expansion proposals, the guardrails they are checked against, and
//! the approvals leaders give.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tend_core::Currency;
use tend_engine::proposals::{
    NewProposal, ProposalKind, ProposalLine, ProposalQuery, ProposalStatus,
};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::wire_renewals::{DecisionBody, NewProposalBody, ProposalBody, ProposalsBody};
use crate::ServerState;

fn proposal_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid("id", format!("{text:?} is not a proposal id")))
}

/// Makes a proposal on an account the caller may write. Within the guardrails it is
/// approved at once; beyond them it waits for sales leadership or the CRO, with the
/// reasons.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/proposals", tag = "renewals",
    params(("id" = String, Path, description = "Account id")),
    request_body = NewProposalBody,
    responses((status = 201, description = "The proposal with the guardrails' verdict", body = ProposalBody)))]
pub async fn create(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewProposalBody>,
) -> Result<(StatusCode, Json<ProposalBody>), ApiError> {
    let new = NewProposal {
        account_id: id,
        kind: ProposalKind::parse(&body.kind).map_err(|e| ApiError::invalid("/kind", e))?,
        lines: body
            .lines
            .into_iter()
            .map(|l| ProposalLine {
                product: l.product,
                seats: l.seats,
                list_price: l.list_price,
            })
            .collect(),
        currency: Currency::parse(&body.currency)
            .map_err(|e| ApiError::invalid("/currency", e.to_string()))?,
        discount_percent: body.discount_percent,
        term_months: body.term_months,
        payment_terms: body.payment_terms,
        start_on: body.start_on,
        non_standard_terms: body.non_standard_terms,
    };
    let proposal = state.app.create_proposal(&caller.actor, &new).await?;
    Ok((StatusCode::CREATED, Json(proposal.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProposalParams {
    /// approved, pending or rejected.
    pub status: Option<String>,
    pub account_id: Option<String>,
}

/// Proposals, newest first.
#[utoipa::path(get, path = "/api/v1/proposals", tag = "renewals", params(ProposalParams),
    responses((status = 200, description = "The proposals", body = ProposalsBody)))]
pub async fn list(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<ProposalParams>,
) -> Result<Json<ProposalsBody>, ApiError> {
    let query = ProposalQuery {
        status: p
            .status
            .as_deref()
            .map(ProposalStatus::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("status", e))?,
        account_id: p.account_id,
    };
    let items = state.app.proposals(&caller.actor, &query).await?;
    Ok(Json(ProposalsBody {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One proposal.
#[utoipa::path(get, path = "/api/v1/proposals/{id}", tag = "renewals",
    params(("id" = i64, Path, description = "The proposal's id")),
    responses((status = 200, description = "The proposal", body = ProposalBody)))]
pub async fn show(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ProposalBody>, ApiError> {
    let proposal = state.app.proposal(&caller.actor, proposal_id(&id)?).await?;
    Ok(Json(proposal.into()))
}

/// Approves a pending proposal: leaders of its route only, never its own maker.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/approve", tag = "renewals",
    params(("id" = i64, Path, description = "The proposal's id")),
    request_body = DecisionBody,
    responses((status = 200, description = "The proposal as decided", body = ProposalBody)))]
pub async fn approve(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<ProposalBody>, ApiError> {
    decide(&state, &caller, &id, true, body).await
}

/// Rejects a pending proposal with a comment: leaders of its route only.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/reject", tag = "renewals",
    params(("id" = i64, Path, description = "The proposal's id")),
    request_body = DecisionBody,
    responses((status = 200, description = "The proposal as decided", body = ProposalBody)))]
pub async fn reject(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<ProposalBody>, ApiError> {
    decide(&state, &caller, &id, false, body).await
}

async fn decide(
    state: &ServerState,
    caller: &Caller,
    id: &str,
    approve: bool,
    body: DecisionBody,
) -> Result<Json<ProposalBody>, ApiError> {
    let decided = state
        .app
        .decide_proposal(
            &caller.actor,
            proposal_id(id)?,
            approve,
            body.comment.as_deref(),
        )
        .await?;
    Ok(Json(decided.into()))
}

/// The pending proposals the caller may decide (empty but for leaders).
#[utoipa::path(get, path = "/api/v1/approvals", tag = "renewals",
    responses((status = 200, description = "Proposals waiting for the caller", body = ProposalsBody)))]
pub async fn approvals(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<ProposalsBody>, ApiError> {
    let items = state.app.approvals_for(&caller.actor).await?;
    Ok(Json(ProposalsBody {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// The negotiation guardrails in use.
#[utoipa::path(get, path = "/api/v1/guardrails", tag = "renewals",
    responses((status = 200, description = "The guardrails", body = Object)))]
pub async fn guardrails(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    tend_engine::authorize(&caller.actor, tend_engine::Action::Read)?;
    let value = serde_json::to_value(state.app.guardrails())
        .map_err(|e| tend_engine::AppError::Internal(e.to_string()))?;
    Ok(Json(value))
}
