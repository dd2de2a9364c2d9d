//! Expansion: the whitespace and signals it starts from, the opportunities account
//! managers track, and the expansion revenue report with its attribution.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tend_core::{CalendarPeriod, Currency, Money, OpportunitySource, OpportunityStage, SignalKind};
use tend_engine::expansion::opportunities::{NewOpportunity, OpportunityChange, OpportunityQuery};
use tend_engine::expansion::report::ExpansionReportQuery;
use tend_engine::expansion::signals::SignalQuery;
use tend_engine::expansion::whitespace::WhitespaceQuery;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::wire_expansion::{
    ExpansionReportBody, NewOpportunityBody, OpportunitiesBody, OpportunityBody, OpportunityPatch,
    SignalsBody, WhitespaceBody,
};
use crate::ServerState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WhitespaceParams {
    /// Gaps of this owner's book (similar accounts are found among all).
    pub owner: Option<String>,
    pub segment: Option<String>,
    /// Gaps listed, 1–1,000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Whitespace: products similar accounts (same segment and industry, ARR within a
/// factor of 2) hold that an account does not, ranked by the share holding it × their
/// mean ARR of it.
#[utoipa::path(get, path = "/api/v1/expansion/whitespace", tag = "expansion", params(WhitespaceParams),
    responses((status = 200, description = "The gaps, best first", body = WhitespaceBody)))]
pub async fn whitespace(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<WhitespaceParams>,
) -> Result<Json<WhitespaceBody>, ApiError> {
    let query = WhitespaceQuery {
        owner: p.owner,
        segment: p.segment,
        limit: p.limit,
    };
    Ok(Json(
        state.app.whitespace(&caller.actor, &query).await?.into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SignalParams {
    pub owner: Option<String>,
    pub segment: Option<String>,
    /// high_utilization, seats_over_licence, usage_growth or unlicensed_module.
    pub kind: Option<String>,
    /// Signals listed, 1–1,000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Expansion signals on the last day of the data: seats used up to or beyond the
/// licence, usage growing, modules used but not licensed; largest estimate first.
#[utoipa::path(get, path = "/api/v1/expansion/signals", tag = "expansion", params(SignalParams),
    responses((status = 200, description = "The signals", body = SignalsBody)))]
pub async fn signals(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<SignalParams>,
) -> Result<Json<SignalsBody>, ApiError> {
    let query = SignalQuery {
        owner: p.owner,
        segment: p.segment,
        kind: p
            .kind
            .as_deref()
            .map(SignalKind::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("kind", e.to_string()))?,
        limit: p.limit,
    };
    Ok(Json(
        state
            .app
            .expansion_signals(&caller.actor, &query)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// The first period: `2026-Q3`, `2026-03` or `2026`; by default the quarter three
    /// before the current one.
    pub period: Option<String>,
    /// Consecutive periods, 1–12 (4 by default, 1 with `period`).
    #[param(minimum = 1, maximum = 12)]
    pub periods: Option<usize>,
    pub owner: Option<String>,
    pub segment: Option<String>,
}

/// Expansion ARR booked on contracts by period, attributed to the won opportunities
/// behind it by source (playbook, signal, manual, unattributed), by segment and owner.
#[utoipa::path(get, path = "/api/v1/expansion/report", tag = "expansion", params(ReportParams),
    responses((status = 200, description = "The report", body = ExpansionReportBody)))]
pub async fn report(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<ReportParams>,
) -> Result<Json<ExpansionReportBody>, ApiError> {
    let query = ExpansionReportQuery {
        period: p
            .period
            .as_deref()
            .map(CalendarPeriod::parse)
            .transpose()
            .map_err(|message| ApiError::invalid("period", message))?,
        periods: p.periods,
        owner: p.owner,
        segment: p.segment,
    };
    Ok(Json(
        state
            .app
            .expansion_report(&caller.actor, &query)
            .await?
            .into(),
    ))
}

fn opportunity_id(text: &str) -> Result<i64, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid("id", format!("{text:?} is not an opportunity id")))
}

fn currency(field: &str, text: &str) -> Result<Currency, ApiError> {
    Currency::parse(text).map_err(|e| ApiError::invalid(field, e.to_string()))
}

fn stage(field: &str, text: Option<&str>) -> Result<Option<OpportunityStage>, ApiError> {
    text.map(OpportunityStage::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(field, e.to_string()))
}

/// Opens an expansion opportunity on an account the caller may write.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/opportunities", tag = "expansion",
    params(("id" = String, Path, description = "Account id")),
    request_body = NewOpportunityBody,
    responses((status = 201, description = "The opportunity", body = OpportunityBody)))]
pub async fn create_opportunity(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewOpportunityBody>,
) -> Result<(StatusCode, Json<OpportunityBody>), ApiError> {
    let new = NewOpportunity {
        account_id: id,
        product: body.product,
        title: body.title,
        amount: Money::new(body.amount_minor, currency("/currency", &body.currency)?),
        close_on: body.close_on,
        owner: body.owner,
        source: match body.source.as_deref() {
            Some(text) => OpportunitySource::parse(text)
                .map_err(|e| ApiError::invalid("/source", e.to_string()))?,
            None => OpportunitySource::Manual,
        },
        source_detail: body.source_detail,
        note: body.note,
        stage: stage("/stage", body.stage.as_deref())?,
    };
    let opportunity = state.app.create_opportunity(&caller.actor, &new).await?;
    Ok((StatusCode::CREATED, Json(opportunity.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OpportunityParams {
    pub account_id: Option<String>,
    pub owner: Option<String>,
    /// identified, qualified, proposal, negotiation, closed_won or closed_lost.
    pub stage: Option<String>,
}

/// Opportunities, newest first.
#[utoipa::path(get, path = "/api/v1/opportunities", tag = "expansion", params(OpportunityParams),
    responses((status = 200, description = "The opportunities", body = OpportunitiesBody)))]
pub async fn list_opportunities(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<OpportunityParams>,
) -> Result<Json<OpportunitiesBody>, ApiError> {
    let query = OpportunityQuery {
        account_id: p.account_id,
        owner: p.owner,
        stage: stage("stage", p.stage.as_deref())?,
    };
    let items = state.app.opportunities(&caller.actor, &query).await?;
    Ok(Json(OpportunitiesBody {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One opportunity.
#[utoipa::path(get, path = "/api/v1/opportunities/{id}", tag = "expansion",
    params(("id" = i64, Path, description = "The opportunity's id")),
    responses((status = 200, description = "The opportunity", body = OpportunityBody)))]
pub async fn show_opportunity(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OpportunityBody>, ApiError> {
    let opportunity = state
        .app
        .opportunity(&caller.actor, opportunity_id(&id)?)
        .await?;
    Ok(Json(opportunity.into()))
}

/// Moves an opportunity on (stage, amount, close day, owner, title, note); the
/// caller must be able to write its account.
#[utoipa::path(patch, path = "/api/v1/opportunities/{id}", tag = "expansion",
    params(("id" = i64, Path, description = "The opportunity's id")),
    request_body = OpportunityPatch,
    responses((status = 200, description = "The opportunity as changed", body = OpportunityBody),
        (status = 409, description = "It is won or lost: its stage and amount stay")))]
pub async fn update_opportunity(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<OpportunityPatch>,
) -> Result<Json<OpportunityBody>, ApiError> {
    let id = opportunity_id(&id)?;
    let amount = match patch.amount_minor {
        Some(minor) => {
            let currency = match patch.currency.as_deref() {
                Some(text) => currency("/currency", text)?,
                None => {
                    state
                        .app
                        .opportunity(&caller.actor, id)
                        .await?
                        .amount
                        .currency
                }
            };
            Some(Money::new(minor, currency))
        }
        None if patch.currency.is_some() => {
            return Err(ApiError::invalid("/currency", "comes with amount_minor"))
        }
        None => None,
    };
    let change = OpportunityChange {
        title: patch.title,
        stage: stage("/stage", patch.stage.as_deref())?,
        amount,
        close_on: patch.close_on,
        owner: patch.owner,
        note: patch.note,
    };
    let opportunity = state
        .app
        .update_opportunity(&caller.actor, id, &change)
        .await?;
    Ok(Json(opportunity.into()))
}
