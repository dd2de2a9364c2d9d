//! Webhook subscriptions and their delivery log: admins only (the engine's policy
//! says so; each service checks it).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use tend_engine::views::page::PageRequest;
use tend_engine::webhooks::{NewWebhook, WebhookChanges};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{json_with_bytes, JsonBody, Params};
use crate::wire::*;
use crate::{idempotency, ServerState};

/// Every webhook subscription.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, description = "The subscriptions", body = WebhookList)))]
pub async fn list(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<WebhookList>, ApiError> {
    let webhooks = state.app.webhooks(&caller.actor).await?;
    Ok(Json(WebhookList {
        items: webhooks.into_iter().map(Into::into).collect(),
    }))
}

/// Subscribes a URL to events; the signing secret is in this response only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewWebhookBody,
    responses((status = 201, description = "The subscription and its secret", body = CreatedWebhookBody)))]
pub async fn create(
    State(state): State<ServerState>,
    caller: Caller,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (bytes, body): (_, NewWebhookBody) = json_with_bytes(request, &state).await?;
    let fingerprint = [b"webhook".as_slice(), &bytes];
    idempotency::once_with_secret(
        &state,
        &caller.actor.name,
        &headers,
        &fingerprint,
        StatusCode::CREATED,
        "secret",
        async {
            let new = NewWebhook {
                url: body.url.clone(),
                event_types: body.event_types.clone(),
                format: body.format.clone(),
            };
            let created = state.app.create_webhook(&caller.actor, &new).await?;
            let secret = created.secret.clone();
            Ok(CreatedWebhookBody {
                webhook: created.into(),
                secret: Some(secret),
            })
        },
    )
    .await
}

/// One subscription.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id")),
    responses((status = 200, description = "The subscription", body = WebhookBody)))]
pub async fn show(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookBody>, ApiError> {
    Ok(Json(state.app.webhook(&caller.actor, &id).await?.into()))
}

/// Changes a subscription's URL or event types, or turns it off or on.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id")),
    request_body = WebhookPatch,
    responses((status = 200, description = "The subscription as changed", body = WebhookBody)))]
pub async fn update(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<WebhookPatch>,
) -> Result<Json<WebhookBody>, ApiError> {
    let changes = WebhookChanges {
        url: patch.url,
        event_types: patch.event_types,
        active: patch.active,
    };
    let webhook = state
        .app
        .update_webhook(&caller.actor, &id, &changes)
        .await?;
    Ok(Json(webhook.into()))
}

/// Removes a subscription and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id")),
    responses((status = 204, description = "Removed")))]
pub async fn delete(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_webhook(&caller.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// Deliveries older than this id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Deliveries per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A subscription's deliveries, newest first: status, attempts, last error.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's id"), DeliveryParams),
    responses((status = 200, description = "A page of the delivery log", body = DeliveryPage)))]
pub async fn deliveries(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(p): Params<DeliveryParams>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let limit = PageRequest {
        cursor: None,
        limit: p.limit,
    }
    .limit()? as i64;
    let mut items = state
        .app
        .webhook_deliveries(&caller.actor, &id, p.before, limit + 1)
        .await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_before = if more {
        items.last().map(|d| d.id)
    } else {
        None
    };
    Ok(Json(DeliveryPage {
        items: items.into_iter().map(Into::into).collect(),
        next_before,
    }))
}
