//! The renewal pipeline.

use axum::extract::State;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use tend_engine::views::renewals::RenewalQuery;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::Params;
use crate::wire_renewals::RenewalPipelineBody;
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
    };
    let pipeline = state.app.renewal_pipeline(&caller.actor, &query).await?;
    Ok(Json(pipeline.into()))
}
