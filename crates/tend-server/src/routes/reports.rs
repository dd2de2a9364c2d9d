//! The portfolio summary and the metrics of a period.

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tend_core::Currency;
use tend_engine::views::metrics::MetricsQuery;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::Params;
use crate::wire::{MetricsBody, SummaryBody};
use crate::ServerState;

pub(crate) fn currency(text: Option<&str>) -> Result<Option<Currency>, ApiError> {
    text.map(|c| Currency::parse(c).map_err(|e| ApiError::invalid("currency", e.to_string())))
        .transpose()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// The last day included; the last day of the data by default.
    pub as_of: Option<NaiveDate>,
    /// ISO 4217 code to report money in; the one with the most ARR by default.
    pub currency: Option<String>,
}

/// The portfolio summary: accounts, ARR by segment, retention, renewals, NPS, CSAT,
/// first response, against the checklist's targets.
#[utoipa::path(get, path = "/api/v1/summary", tag = "reports", params(SummaryParams),
    responses((status = 200, description = "The summary", body = SummaryBody)))]
pub async fn summary(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<SummaryParams>,
) -> Result<Json<SummaryBody>, ApiError> {
    let currency = currency(p.currency.as_deref())?;
    let summary = state.app.summary(&caller.actor, p.as_of, currency).await?;
    Ok(Json(summary.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MetricsParams {
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period (included).
    pub to: NaiveDate,
    pub segment: Option<String>,
    /// The CSM or account manager whose book to measure.
    pub owner: Option<String>,
    pub currency: Option<String>,
}

/// Every metric of the product brief over a period: ARR, GRR, NRR, logo churn,
/// renewal rate, NPS, CSAT, CES and first response, for all accounts, a segment or
/// a book.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "reports", params(MetricsParams),
    responses((status = 200, description = "The metrics", body = MetricsBody)))]
pub async fn metrics(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<MetricsParams>,
) -> Result<Json<MetricsBody>, ApiError> {
    let query = MetricsQuery {
        from: p.from,
        to: p.to,
        segment: p.segment,
        owner: p.owner,
        currency: currency(p.currency.as_deref())?,
    };
    let metrics = state.app.metrics(&caller.actor, &query).await?;
    Ok(Json(metrics.into()))
}
