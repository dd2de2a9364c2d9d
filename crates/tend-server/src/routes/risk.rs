//! Churn risk, retention, why accounts left and lifetime value; refits and
//! evaluations of the risk model as jobs.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tend_engine::health::PortfolioFilter;
use tend_engine::retention::clv::{ClvOptions, MIN_DISCOUNT_RATE};
use tend_engine::risk::{Bands, RiskOptions, Target};
use utoipa::{IntoParams, ToSchema};

use super::reports::currency;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::wire::JobBody;
use crate::wire_risk::*;
use crate::ServerState;

fn target(text: Option<&str>) -> Result<Target, ApiError> {
    match text {
        None => Ok(Target::Churn),
        Some(t) => Target::parse(t)
            .ok_or_else(|| ApiError::invalid("target", "must be churn or non_renewal")),
    }
}

fn limit(value: Option<u32>, default: u32) -> Result<usize, ApiError> {
    match value.unwrap_or(default) {
        n @ 1..=1000 => Ok(n as usize),
        _ => Err(ApiError::invalid("limit", "must be from 1 to 1000")),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RiskTableParams {
    /// churn (default) or non_renewal.
    pub target: Option<String>,
    /// The day shown; the latest day with risk scores by default.
    pub day: Option<NaiveDate>,
    /// The CSM or account manager.
    pub owner: Option<String>,
    pub segment: Option<String>,
    /// high, medium or low.
    pub band: Option<String>,
    /// ISO 4217 code ARR is shown in; the one with the most ARR by default.
    pub currency: Option<String>,
    /// Rows returned, 1–1000 (default 100); groups always cover every account.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The portfolio's churn risk, highest first, with 7/30/90-day changes, ARR at
/// risk and the top reasons, and ARR at risk by segment and owner.
#[utoipa::path(get, path = "/api/v1/risk", tag = "risk", params(RiskTableParams),
    responses((status = 200, description = "The risk table", body = RiskTableBody)))]
pub async fn table(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<RiskTableParams>,
) -> Result<Json<RiskTableBody>, ApiError> {
    let target = target(p.target.as_deref())?;
    let limit = limit(p.limit, 100)?;
    if let Some(band) = p.band.as_deref() {
        if !["high", "medium", "low"].contains(&band) {
            return Err(ApiError::invalid("band", "must be high, medium or low"));
        }
    }
    let filter = PortfolioFilter {
        owner: p.owner,
        segment: p.segment,
        band: p.band,
    };
    let table = state
        .app
        .risk_table(
            &caller.actor,
            target,
            p.day,
            &filter,
            currency(p.currency.as_deref())?,
        )
        .await?;
    Ok(Json(RiskTableBody::new(table, limit)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountRiskParams {
    /// churn (default) or non_renewal.
    pub target: Option<String>,
    /// The day; the last day of the data by default.
    pub day: Option<NaiveDate>,
}

/// One account's risk on a day with every reason, in words, and its push.
#[utoipa::path(get, path = "/api/v1/accounts/{id}/risk", tag = "risk",
    params(("id" = String, Path, description = "Account id"), AccountRiskParams),
    responses((status = 200, description = "The prediction explained", body = RiskExplanationBody)))]
pub async fn account(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(p): Params<AccountRiskParams>,
) -> Result<Json<RiskExplanationBody>, ApiError> {
    let target = target(p.target.as_deref())?;
    let explanation = state
        .app
        .explain_risk(&caller.actor, target, &id, p.day, &Bands::default())
        .await?;
    Ok(Json(explanation.into()))
}

/// How a risk model is fitted or backtested; every field is optional.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskModelBody {
    /// churn (default) or non_renewal.
    pub target: Option<String>,
    /// The last day of the data used; the last day of the store's data by default.
    pub as_of: Option<NaiveDate>,
    /// Days after a snapshot in which the outcome counts, 30–1095 (default 180).
    pub horizon_days: Option<u32>,
    /// Days between training snapshots, 7–365 (default 30).
    pub every_days: Option<u32>,
    /// Training snapshots per account at most, 1–120 (default 24).
    pub snapshots: Option<usize>,
}

impl RiskModelBody {
    async fn resolve(self, state: &ServerState) -> Result<(NaiveDate, RiskOptions), ApiError> {
        let defaults = RiskOptions::default();
        let options = RiskOptions {
            target: target(self.target.as_deref())?,
            horizon_days: self.horizon_days.unwrap_or(defaults.horizon_days),
            every_days: self.every_days.unwrap_or(defaults.every_days),
            snapshots: self.snapshots.unwrap_or(defaults.snapshots),
            ..defaults
        };
        let as_of = match self.as_of {
            Some(day) => day,
            None => tend_engine::default_day(state.app.store(), state.app.today()).await?,
        };
        Ok((as_of, options))
    }
}

/// Starts a refit of the risk model as a job: a time-split backtest of boosted
/// trees and logistic regression, the better one fitted, calibrated and stored, and
/// every active account scored.
#[utoipa::path(post, path = "/api/v1/risk/refit", tag = "risk",
    request_body = RiskModelBody,
    responses((status = 202, description = "The job, started", body = JobBody)))]
pub async fn refit(
    State(state): State<ServerState>,
    caller: Caller,
    JsonBody(body): JsonBody<RiskModelBody>,
) -> Result<(StatusCode, Json<JobBody>), ApiError> {
    let (as_of, options) = body.resolve(&state).await?;
    let job = state.app.start_risk_refit(&caller.actor, as_of, options)?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// Starts a backtest of both kinds of risk model as a job; nothing is stored.
#[utoipa::path(post, path = "/api/v1/risk/evaluations", tag = "risk",
    request_body = RiskModelBody,
    responses((status = 202, description = "The job, started", body = JobBody)))]
pub async fn evaluate(
    State(state): State<ServerState>,
    caller: Caller,
    JsonBody(body): JsonBody<RiskModelBody>,
) -> Result<(StatusCode, Json<JobBody>), ApiError> {
    let (as_of, options) = body.resolve(&state).await?;
    let job = state
        .app
        .start_risk_evaluation(&caller.actor, as_of, options)?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// The last day of the data analysed; the last day of the store's data by default.
    pub as_of: Option<NaiveDate>,
    /// ISO 4217 code money is reported in; the one with the most ARR by default.
    pub currency: Option<String>,
}

/// Retention: Kaplan–Meier curves of lifetimes and renewals by segment and start
/// year with log-rank tests, logo/GRR/NRR cohort tables by start quarter, and the
/// Cox model's hazard ratios in words.
#[utoipa::path(get, path = "/api/v1/retention", tag = "risk", params(ReportParams),
    responses((status = 200, description = "The retention report", body = RetentionReportBody)))]
pub async fn retention(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<ReportParams>,
) -> Result<Json<RetentionReportBody>, ApiError> {
    let report = state
        .app
        .retention(&caller.actor, p.as_of, currency(p.currency.as_deref())?)
        .await?;
    Ok(Json(report.into()))
}

/// Why accounts left: churn reasons by segment, ARR and tenure, and how much more
/// often each early-warning signal came before a loss.
#[utoipa::path(get, path = "/api/v1/retention/why", tag = "risk", params(ReportParams),
    responses((status = 200, description = "Reasons and signal lift", body = WhyBody)))]
pub async fn why(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<ReportParams>,
) -> Result<Json<WhyBody>, ApiError> {
    let report = state
        .app
        .why_accounts_left(&caller.actor, p.as_of, currency(p.currency.as_deref())?)
        .await?;
    Ok(Json(report.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClvParams {
    /// The day customers are valued on; the last day of the data by default.
    pub as_of: Option<NaiveDate>,
    /// Per renewal period, 0.001–1 (default 0.10).
    #[param(minimum = 0.001, maximum = 1.0)]
    pub discount_rate: Option<f64>,
    pub segment: Option<String>,
    pub currency: Option<String>,
    /// Accounts returned, highest value first, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// Customer lifetime value: the sBG renewal model per segment and each customer's
/// discounted expected renewals to come × ARR, at its own churn risk.
#[utoipa::path(get, path = "/api/v1/clv", tag = "risk", params(ClvParams),
    responses((status = 200, description = "Values, highest first", body = ClvBody)))]
pub async fn clv(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<ClvParams>,
) -> Result<Json<ClvBody>, ApiError> {
    let limit = limit(p.limit, 100)?;
    let discount_rate = p.discount_rate.unwrap_or(0.10);
    if !(MIN_DISCOUNT_RATE..=1.0).contains(&discount_rate) {
        return Err(ApiError::invalid(
            "discount_rate",
            "must be from 0.001 to 1",
        ));
    }
    let options = ClvOptions {
        discount_rate,
        currency: currency(p.currency.as_deref())?,
    };
    let mut report = state.app.clv(&caller.actor, p.as_of, &options).await?;
    if let Some(segment) = &p.segment {
        report.accounts.retain(|a| &a.segment == segment);
    }
    Ok(Json(ClvBody::new(report, limit)))
}
