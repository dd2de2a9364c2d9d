//! The account manager's desk: the account plan, the stakeholder map, executive
//! relationships and the account team.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tend_core::{Currency, Influence, Money, Sentiment, TeamRole};
use tend_engine::account_plans::{NewAccountPlan, NewStanding};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::wire_account_plans::{
    AccountDeskBody, AccountPlanBody, NewAccountPlanBody, NewStandingBody, NewTeamMemberBody,
    StandingBody, TeamMemberBody,
};
use crate::ServerState;

fn role(field: &str, text: &str) -> Result<TeamRole, ApiError> {
    TeamRole::parse(text).map_err(|e| ApiError::invalid(field, e.to_string()))
}

/// The account plan with its history, the stakeholder map, the executives' last
/// touches and trends, and the account team.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/account-plan", tag = "expansion",
    params(("id" = String, Path, description = "Account id")),
    responses((status = 200, description = "The account manager's desk", body = AccountDeskBody)))]
pub async fn show(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<AccountDeskBody>, ApiError> {
    Ok(Json(
        state.app.account_desk(&caller.actor, &id).await?.into(),
    ))
}

/// Saves the account plan as a new version (the whole plan; earlier ones stay as
/// its history).
#[utoipa::path(put, path = "/api/v1/accounts/{id}/account-plan", tag = "expansion",
    params(("id" = String, Path, description = "Account id")),
    request_body = NewAccountPlanBody,
    responses((status = 200, description = "The plan as saved", body = AccountPlanBody)))]
pub async fn save(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewAccountPlanBody>,
) -> Result<Json<AccountPlanBody>, ApiError> {
    let target_arr = match (body.target_arr_minor, body.currency.as_deref()) {
        (Some(minor), Some(code)) => Some(Money::new(
            minor,
            Currency::parse(code).map_err(|e| ApiError::invalid("/currency", e.to_string()))?,
        )),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "/currency",
                "comes with target_arr_minor",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "/target_arr_minor",
                "comes with currency",
            ))
        }
    };
    let new = NewAccountPlan {
        objectives: body.objectives,
        growth_strategy: body.growth_strategy,
        target_arr,
        risks: body.risks,
        next_review_on: body.next_review_on,
        owner: body.owner,
    };
    Ok(Json(
        state
            .app
            .save_account_plan(&caller.actor, &id, &new)
            .await?
            .into(),
    ))
}

/// Sets how a contact of the account stands: influence, sentiment, relationship
/// strength and whom they report to.
#[utoipa::path(put, path = "/api/v1/accounts/{id}/stakeholders/{contact_id}", tag = "expansion",
    params(("id" = String, Path, description = "Account id"),
        ("contact_id" = String, Path, description = "A contact of the account")),
    request_body = NewStandingBody,
    responses((status = 200, description = "The contact's standing", body = StandingBody)))]
pub async fn set_stakeholder(
    State(state): State<ServerState>,
    caller: Caller,
    Path((id, contact_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewStandingBody>,
) -> Result<Json<StandingBody>, ApiError> {
    let new = NewStanding {
        influence: Influence::parse(&body.influence)
            .map_err(|e| ApiError::invalid("/influence", e.to_string()))?,
        sentiment: Sentiment::parse(&body.sentiment)
            .map_err(|e| ApiError::invalid("/sentiment", e.to_string()))?,
        strength: body.strength,
        reports_to: body.reports_to,
    };
    let standing = state
        .app
        .set_stakeholder(&caller.actor, &id, &contact_id, &new)
        .await?;
    Ok(Json(standing.into()))
}

/// Puts someone on the account team in a role.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/team", tag = "expansion",
    params(("id" = String, Path, description = "Account id")),
    request_body = NewTeamMemberBody,
    responses((status = 201, description = "The member", body = TeamMemberBody),
        (status = 409, description = "Already on the team in that role")))]
pub async fn add_member(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewTeamMemberBody>,
) -> Result<(StatusCode, Json<TeamMemberBody>), ApiError> {
    let role = role("/role", &body.role)?;
    let member = state
        .app
        .add_team_member(&caller.actor, &id, &body.handle, role)
        .await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

/// Takes someone off the account team in a role.
#[utoipa::path(delete, path = "/api/v1/accounts/{id}/team/{handle}/{role}", tag = "expansion",
    params(("id" = String, Path, description = "Account id"),
        ("handle" = String, Path, description = "The member's handle"),
        ("role" = String, Path, description = "The role they leave")),
    responses((status = 204, description = "Removed")))]
pub async fn remove_member(
    State(state): State<ServerState>,
    caller: Caller,
    Path((id, handle, role_name)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let role = role("role", &role_name)?;
    state
        .app
        .remove_team_member(&caller.actor, &id, &handle, role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
