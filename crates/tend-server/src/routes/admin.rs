//! Users, API tokens, event sources and the audit log: admins only.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use tend_core::Role;
use tend_engine::access::{self, NewToken, NewUser};
use tend_engine::views::page::PageRequest;
use tend_engine::{authorize, Action};
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{json_with_bytes, Params};
use crate::wire::*;
use crate::{idempotency, ServerState};

fn role(text: &str) -> Result<Role, ApiError> {
    Role::parse(text).map_err(|e| ApiError::invalid("/role", e.0))
}

/// Every user.
#[utoipa::path(get, path = "/api/v1/users", tag = "access",
    responses((status = 200, description = "The users", body = UserList)))]
pub async fn users(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<UserList>, ApiError> {
    authorize(&caller.actor, Action::ManageAccess)?;
    let users = state.app.store().users().await?;
    Ok(Json(UserList {
        items: users.into_iter().map(Into::into).collect(),
    }))
}

/// Adds a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "access",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewUserBody,
    responses((status = 201, description = "The user", body = UserBody)))]
pub async fn add_user(
    State(state): State<ServerState>,
    caller: Caller,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    authorize(&caller.actor, Action::ManageAccess)?;
    let (bytes, body): (_, NewUserBody) = json_with_bytes(request, &state).await?;
    let new = NewUser {
        handle: body.handle,
        email: body.email,
        name: body.name,
        role: role(&body.role)?,
        password: body.password,
    };
    let fingerprint = [b"user".as_slice(), &bytes];
    idempotency::once(
        &state,
        &caller.actor.name,
        &headers,
        &fingerprint,
        StatusCode::CREATED,
        async {
            let user =
                access::add_user(state.app.store(), &caller.actor.name, new, state.app.now())
                    .await?;
            Ok(UserBody::from(user))
        },
    )
    .await
}

/// Disables a user: they can no longer sign in, and their sessions end.
#[utoipa::path(post, path = "/api/v1/users/{handle}/disable", tag = "access",
    params(("handle" = String, Path, description = "The user's handle")),
    responses((status = 204, description = "Disabled")))]
pub async fn disable_user(
    State(state): State<ServerState>,
    caller: Caller,
    Path(handle): Path<String>,
) -> Result<StatusCode, ApiError> {
    authorize(&caller.actor, Action::ManageAccess)?;
    access::disable_user(
        state.app.store(),
        &caller.actor.name,
        &handle,
        state.app.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every API token (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "access",
    responses((status = 200, description = "The tokens", body = TokenList)))]
pub async fn tokens(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<TokenList>, ApiError> {
    authorize(&caller.actor, Action::ManageAccess)?;
    let tokens = state.app.store().api_tokens().await?;
    Ok(Json(TokenList {
        items: tokens.into_iter().map(Into::into).collect(),
    }))
}

/// Creates an API token; its secret is in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "access",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewTokenBody,
    responses((status = 201, description = "The token and its secret", body = CreatedTokenBody)))]
pub async fn create_token(
    State(state): State<ServerState>,
    caller: Caller,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    authorize(&caller.actor, Action::ManageAccess)?;
    let (bytes, body): (_, NewTokenBody) = json_with_bytes(request, &state).await?;
    let new = NewToken {
        name: body.name,
        role: role(&body.role)?,
        book: body.book,
        expires_at: body.expires_at,
    };
    let fingerprint = [b"token".as_slice(), &bytes];
    idempotency::once_with_secret(
        &state,
        &caller.actor.name,
        &headers,
        &fingerprint,
        StatusCode::CREATED,
        "secret",
        async {
            let created =
                access::create_token(state.app.store(), &caller.actor.name, new, state.app.now())
                    .await?;
            Ok(CreatedTokenBody {
                token: created.token.into(),
                secret: Some(created.secret),
            })
        },
    )
    .await
}

/// Revokes an API token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "access",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke_token(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    authorize(&caller.actor, Action::ManageAccess)?;
    access::revoke_token(state.app.store(), &caller.actor.name, &id, state.app.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every event source (never their write keys).
#[utoipa::path(get, path = "/api/v1/sources", tag = "access",
    responses((status = 200, description = "The sources", body = SourceList)))]
pub async fn sources(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<SourceList>, ApiError> {
    authorize(&caller.actor, Action::ManageAccess)?;
    let sources = state.app.store().sources().await?;
    Ok(Json(SourceList {
        items: sources.into_iter().map(Into::into).collect(),
    }))
}

/// Creates an event source; its write key is in this response only.
#[utoipa::path(post, path = "/api/v1/sources", tag = "access",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body = NewSourceBody,
    responses((status = 201, description = "The source and its write key", body = CreatedSourceBody)))]
pub async fn create_source(
    State(state): State<ServerState>,
    caller: Caller,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    authorize(&caller.actor, Action::ManageAccess)?;
    let (bytes, body): (_, NewSourceBody) = json_with_bytes(request, &state).await?;
    let fingerprint = [b"source".as_slice(), &bytes];
    idempotency::once_with_secret(
        &state,
        &caller.actor.name,
        &headers,
        &fingerprint,
        StatusCode::CREATED,
        "write_key",
        async {
            let created = access::create_source(
                state.app.store(),
                &caller.actor.name,
                &body.name,
                state.app.now(),
            )
            .await?;
            Ok(CreatedSourceBody {
                source: created.source.into(),
                write_key: Some(created.write_key),
            })
        },
    )
    .await
}

/// Revokes an event source's write key: its calls are refused from then on.
#[utoipa::path(delete, path = "/api/v1/sources/{id}", tag = "access",
    params(("id" = String, Path, description = "The source's id")),
    responses((status = 204, description = "Revoked")))]
pub async fn revoke_source(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    authorize(&caller.actor, Action::ManageAccess)?;
    access::revoke_source(state.app.store(), &caller.actor.name, &id, state.app.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Entries older than this entry id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Entries per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "access", params(AuditParams),
    responses((status = 200, description = "A page of the audit log", body = AuditPage)))]
pub async fn audit(
    State(state): State<ServerState>,
    caller: Caller,
    Params(p): Params<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    authorize(&caller.actor, Action::ReadAudit)?;
    let limit = PageRequest {
        cursor: None,
        limit: p.limit,
    }
    .limit()?;
    let mut entries = access::audit_page(state.app.store(), p.before, limit as usize + 1).await?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next_before = if more {
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Json(AuditPage {
        items: entries.into_iter().map(Into::into).collect(),
        next_before,
    }))
}
