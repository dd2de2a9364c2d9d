//! The renewal pipeline and forecast.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tend_core::{CalendarPeriod, CallStage, ForecastCategory};
use tend_engine::forecast::backtest::BacktestQuery;
use tend_engine::forecast::ForecastQuery;
use tend_engine::renewal_calls::NewCall;
use tend_engine::views::renewals::RenewalQuery;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::wire_renewals::{
    BacktestBody, ForecastBody, NewRenewalCallBody, RenewalCallBody, RenewalCallsBody,
    RenewalPipelineBody,
};
use crate::ServerState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RenewalParams {
    /// First due day included; the last day of the data by default.
    pub from: Option<NaiveDate>,
    /// Last due day included; 180 days after `from` by default.
    pub to: Option<NaiveDate>,
    /// A CSM's or account manager's handle.
    pub owner: Option<String>,
    pub segment: Option<String>,
}

/// Renewals due in a window, soonest first: one per contract term, with the dates
/// that matter, the stage, the outcome of closed ones and the model's probability.
#[utoipa::path(get, path = "/api/v1/renewals", tag = "renewals", params(RenewalParams),
    responses((status = 200, description = "The pipeline", body = RenewalPipelineBody)))]
pub async fn pipeline(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<RenewalParams>,
) -> Result<Json<RenewalPipelineBody>, ApiError> {
    let query = RenewalQuery {
        from: p.from,
        to: p.to,
        owner: p.owner,
        segment: p.segment,
        account: None,
    };
    let pipeline = state.app.renewal_pipeline(&caller.actor, &query).await?;
    Ok(Json(pipeline.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ForecastParams {
    /// The first period: `2027-Q1`, `2027-03` or `2027`; the quarter after the last
    /// day of the data by default.
    pub period: Option<String>,
    /// Consecutive periods of its kind, 1–12.
    #[param(minimum = 1, maximum = 12)]
    pub periods: Option<usize>,
    /// An account manager's or CSM's handle.
    pub owner: Option<String>,
    pub segment: Option<String>,
    /// Monte Carlo draws, 1–1,000,000; 10,000 by default.
    #[param(minimum = 1, maximum = 1000000)]
    pub draws: Option<usize>,
    /// The random seed; the same store and seed give the same range.
    pub seed: Option<u64>,
}

/// The renewal forecast of one or more periods: renewable ARR, the expected renewed
/// ARR with expansion and contraction, its P10/P50/P90 range by Monte Carlo, and GRR
/// and NRR.
#[utoipa::path(get, path = "/api/v1/forecast", tag = "renewals", params(ForecastParams),
    responses((status = 200, description = "The forecast", body = ForecastBody),
        (status = 409, description = "An open renewal has no probability: no history and no model")))]
pub async fn forecast(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<ForecastParams>,
) -> Result<Json<ForecastBody>, ApiError> {
    let defaults = ForecastQuery::default();
    let period = p
        .period
        .as_deref()
        .map(CalendarPeriod::parse)
        .transpose()
        .map_err(|message| ApiError::invalid("period", message))?;
    let query = ForecastQuery {
        period,
        periods: p.periods.unwrap_or(defaults.periods),
        owner: p.owner,
        segment: p.segment,
        draws: p.draws.unwrap_or(defaults.draws),
        seed: p.seed.unwrap_or(defaults.seed),
        ..defaults
    };
    let report = state.app.renewal_forecast(&caller.actor, &query).await?;
    Ok(Json(report.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BacktestParams {
    /// The last decided quarters to try, 1–20; 8 by default.
    #[param(minimum = 1, maximum = 20)]
    pub quarters: Option<usize>,
    pub owner: Option<String>,
    pub segment: Option<String>,
    #[param(minimum = 1, maximum = 1000000)]
    pub draws: Option<usize>,
    pub seed: Option<u64>,
}

/// The forecast tried on past quarters, each made as of the day before it began:
/// coverage of P10–P90 and the error of P50 beside a naive forecast's.
#[utoipa::path(get, path = "/api/v1/forecast/backtest", tag = "renewals", params(BacktestParams),
    responses((status = 200, description = "The backtest", body = BacktestBody)))]
pub async fn backtest(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<BacktestParams>,
) -> Result<Json<BacktestBody>, ApiError> {
    let defaults = BacktestQuery::default();
    let query = BacktestQuery {
        quarters: p.quarters.unwrap_or(defaults.quarters),
        owner: p.owner,
        segment: p.segment,
        draws: p.draws.unwrap_or(defaults.draws),
        seed: p.seed.unwrap_or(defaults.seed),
        ..defaults
    };
    let backtest = state.app.renewal_backtest(&caller.actor, &query).await?;
    Ok(Json(backtest.into()))
}

/// Makes a forecast call on an open renewal of the account (the owner's category,
/// optionally the stage it moves into, a note); audited and sent as a
/// `renewal.called` webhook event. The latest call is the renewal's.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/renewal-calls", tag = "renewals",
    params(("id" = String, Path, description = "Account id")),
    request_body = NewRenewalCallBody,
    responses((status = 201, description = "The call", body = RenewalCallBody),
        (status = 409, description = "The renewal is closed")))]
pub async fn make_call(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewRenewalCallBody>,
) -> Result<(StatusCode, Json<RenewalCallBody>), ApiError> {
    let new = NewCall {
        account_id: id,
        product: body.product,
        due_on: body.due_on,
        category: ForecastCategory::parse(&body.category)
            .map_err(|e| ApiError::invalid("/category", e.0))?,
        stage: body
            .stage
            .as_deref()
            .map(CallStage::parse)
            .transpose()
            .map_err(|e| ApiError::invalid("/stage", e.0))?,
        note: body.note,
    };
    let call = state.app.call_renewal(&caller.actor, &new).await?;
    Ok((StatusCode::CREATED, Json(call.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CallHistoryParams {
    pub product: String,
    pub due_on: NaiveDate,
}

/// Every forecast call on one renewal of the account, oldest first.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/renewal-calls", tag = "renewals",
    params(("id" = String, Path, description = "Account id"), CallHistoryParams),
    responses((status = 200, description = "The calls", body = RenewalCallsBody)))]
pub async fn call_history(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(p): Params<CallHistoryParams>,
) -> Result<Json<RenewalCallsBody>, ApiError> {
    let calls = state
        .app
        .renewal_call_history(&caller.actor, &id, &p.product, p.due_on)
        .await?;
    Ok(Json(RenewalCallsBody {
        items: calls.into_iter().map(Into::into).collect(),
    }))
}
