//! `Idempotency-Key` on POSTs: the first response to a key is kept, and a retry with
//! the same key and the same request gets it again instead of acting twice. The
//! same key with a different request is refused. A secret in a response (a token's,
//! a write key) is shown once and never kept: a replay has it as null.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tend_store::StoredResponse;

use crate::error::ApiError;
use crate::ServerState;

pub const HEADER: &str = "idempotency-key";
/// Longest key accepted.
const MAX_KEY: usize = 200;

fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Runs `act` once per (actor, key): with an `Idempotency-Key` header, a retry of
/// the same request replays the stored response.
pub async fn once<T, F>(
    state: &ServerState,
    actor: &str,
    headers: &HeaderMap,
    request: &[&[u8]],
    success: StatusCode,
    act: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: std::future::Future<Output = Result<T, ApiError>>,
{
    once_keeping(state, actor, headers, request, success, None, act).await
}

/// [`once`] for a response whose top-level field `secret` must not be stored: the
/// replay of a retry has it as null.
pub async fn once_with_secret<T, F>(
    state: &ServerState,
    actor: &str,
    headers: &HeaderMap,
    request: &[&[u8]],
    success: StatusCode,
    secret: &'static str,
    act: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: std::future::Future<Output = Result<T, ApiError>>,
{
    once_keeping(state, actor, headers, request, success, Some(secret), act).await
}

/// The body kept for replay: `body` with the `secret` field, if any, nulled.
fn kept_body(body: &str, secret: Option<&str>) -> Result<String, ApiError> {
    let Some(field) = secret else {
        return Ok(body.to_string());
    };
    let mut value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(slot) = value.get_mut(field) {
        *slot = serde_json::Value::Null;
    }
    Ok(value.to_string())
}

async fn once_keeping<T, F>(
    state: &ServerState,
    actor: &str,
    headers: &HeaderMap,
    request: &[&[u8]],
    success: StatusCode,
    secret: Option<&'static str>,
    act: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: std::future::Future<Output = Result<T, ApiError>>,
{
    let Some(key) = headers.get(HEADER) else {
        let value = act.await?;
        let body = serde_json::to_string(&value).map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(json_response(success, body));
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY)
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                format!("must be 1 to {MAX_KEY} visible ASCII characters"),
            )
        })?
        .to_string();
    let request_hash = fingerprint(request);
    // Held until the response is stored, so a concurrent retry waits and replays.
    let _one_at_a_time = state.idempotency.lock().await;
    let store = state.app.store();
    if let Some(stored) = store.stored_response(actor, &key).await? {
        if stored.request_hash != request_hash {
            return Err(ApiError::Conflict(
                "this Idempotency-Key was used for a different request".into(),
            ));
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(success);
        let mut response = json_response(status, stored.body);
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
        return Ok(response);
    }
    let value = act.await?;
    let body = serde_json::to_string(&value).map_err(|e| ApiError::Internal(e.to_string()))?;
    let stored = StoredResponse {
        request_hash,
        status: success.as_u16(),
        body: kept_body(&body, secret)?,
    };
    let mut tx = store.begin().await?;
    tx.store_response(actor, &key, &stored, state.app.now())
        .await?;
    tx.commit().await?;
    Ok(json_response(success, body))
}
