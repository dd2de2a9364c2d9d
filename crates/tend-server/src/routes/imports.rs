//! Imports of an uploaded CSV or JSON Lines file.

use axum::extract::{Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::Json;
use serde::Deserialize;
use tend_ingest::{Entity, Format};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::wire::ImportReportBody;
use crate::ServerState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// csv or jsonl; by default taken from the Content-Type (text/csv or
    /// application/x-ndjson).
    pub format: Option<String>,
}

/// Imports a file of one entity (accounts, contacts, contracts, usage-events, …):
/// every row checked, all written in one transaction or none. Errors name the line
/// and field.
#[utoipa::path(post, path = "/api/v1/imports/{entity}", tag = "imports",
    params(("entity" = String, Path, description = "The entity, as `tend import` names it"), ImportParams),
    request_body(content = String, content_type = "text/csv", description = "The file"),
    responses((status = 200, description = "What was imported", body = ImportReportBody)))]
pub async fn upload(
    State(state): State<ServerState>,
    caller: Caller,
    Path(entity): Path<String>,
    crate::extract::Params(p): crate::extract::Params<ImportParams>,
    request: Request,
) -> Result<Json<ImportReportBody>, ApiError> {
    let entity = Entity::parse(&entity).map_err(|e| ApiError::invalid("entity", e))?;
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let format = match (p.format.as_deref(), content_type.as_deref()) {
        (Some("csv"), _) => Format::Csv,
        (Some("jsonl"), _) => Format::JsonLines,
        (Some(other), _) => {
            return Err(ApiError::invalid(
                "format",
                format!("{other:?} is not csv or jsonl"),
            ))
        }
        (None, Some("text/csv")) => Format::Csv,
        (None, Some("application/x-ndjson" | "application/jsonl" | "application/jsonlines")) => {
            Format::JsonLines
        }
        (None, _) => {
            return Err(ApiError::UnsupportedMediaType(
                "send the file as text/csv or application/x-ndjson, or pass ?format=csv|jsonl"
                    .into(),
            ))
        }
    };
    let body = axum::body::to_bytes(request.into_body(), crate::MAX_IMPORT_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(crate::MAX_IMPORT_BYTES))?;
    let report = state
        .app
        .import_upload(&caller.actor, entity, format, &body)
        .await?;
    Ok(Json(ImportReportBody {
        entity: entity.name(),
        written: report.written,
        duplicates: report.duplicates,
        pending: report.pending,
        attached: report.attached,
        waiting: report.waiting,
        anonymous_skipped: report.anonymous_skipped,
        rollup_rows: report.rollup_rows,
        accounts: report.accounts.len(),
    }))
}
