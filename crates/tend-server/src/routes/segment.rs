//! Segment's HTTP Tracking API — `/v1/track`, `identify`, `group`, `page`,
//! `screen`, `alias` and `batch` — answered as Segment answers, so that its SDKs
//! send to tend unchanged. A request is answered `{"success": true}` only once its
//! calls are committed; a request with one bad call stores none of them.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tend_engine::access::source_for_write_key;
use tend_engine::ingest::IngestError;
use tend_ingest::segment::{parse_live_call, LiveCall, LiveDefaults};
use tend_ingest::RowError;
use utoipa::ToSchema;

use crate::ServerState;

/// Largest call, alone or inside a batch (Segment's limit).
pub const MAX_CALL_BYTES: usize = 32 * 1024;
/// Largest batch request (Segment's limit).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;

/// What every Segment endpoint answers.
#[derive(Serialize, ToSchema)]
pub struct SegmentAnswer {
    pub success: bool,
    /// Why the request was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A refusal, answered `{"success": false, "message": …}`.
#[derive(Debug)]
pub struct Refused {
    status: StatusCode,
    message: String,
}

fn refused(status: StatusCode, message: impl Into<String>) -> Refused {
    Refused {
        status,
        message: message.into(),
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let body = Json(SegmentAnswer {
            success: false,
            message: Some(self.message),
        });
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            (self.status, [(header::RETRY_AFTER, "1")], body).into_response()
        } else {
            (self.status, body).into_response()
        }
    }
}

type Answer = Result<Json<SegmentAnswer>, Refused>;

fn success() -> Answer {
    Ok(Json(SegmentAnswer {
        success: true,
        message: None,
    }))
}

/// The write key may come in the body, as HTTP Basic user name, or as Bearer token.
#[derive(Deserialize)]
struct Keyed<'a> {
    #[serde(rename = "writeKey", borrow, default)]
    write_key: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct BatchBody<'a> {
    #[serde(borrow, default)]
    batch: Option<Vec<&'a RawValue>>,
    #[serde(rename = "writeKey", borrow, default)]
    write_key: Option<Cow<'a, str>>,
}

/// The write key of the Authorization header, if it carries one.
fn header_key(headers: &HeaderMap) -> Result<Option<String>, Refused> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        refused(
            StatusCode::UNAUTHORIZED,
            "malformed Authorization header: use Basic with the write key as user name, or Bearer",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?;
    if let Some(encoded) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| malformed())?;
        let text = String::from_utf8(decoded).map_err(|_| malformed())?;
        let user = text.split_once(':').map_or(text.as_str(), |(user, _)| user);
        return Ok(Some(user.to_string()));
    }
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Ok(Some(token.trim().to_string()));
    }
    Err(malformed())
}

/// Checks the write key (from the body or the header) against the active sources.
/// Refusals and each source's use are audited, rate limited, like API tokens'.
async fn check_key(
    state: &ServerState,
    parts: &Parts,
    body_key: Option<&str>,
) -> Result<(), Refused> {
    let key = match body_key.filter(|k| !k.is_empty()) {
        Some(key) => key.to_string(),
        None => match header_key(&parts.headers)? {
            Some(key) => key,
            None => {
                return Err(refusal(
                    state,
                    parts,
                    "no write key: send it as writeKey in the body, as the HTTP Basic user \
                     name (empty password), or as a Bearer token",
                )
                .await)
            }
        },
    };
    let source = source_for_write_key(state.app.store(), &key)
        .await
        .map_err(|error| {
            tracing::error!(%error, "checking a write key failed");
            internal()
        })?;
    let Some(source) = source else {
        return Err(refusal(
            state,
            parts,
            "the write key is not valid: unknown or revoked",
        )
        .await);
    };
    state
        .audit_use(
            parts,
            &format!("source:{}", source.id),
            "source.use",
            &source.id,
        )
        .await
        .map_err(|_| internal())
}

/// A 401 with `message`, audited as a refused credential.
async fn refusal(state: &ServerState, parts: &Parts, message: &str) -> Refused {
    match state.refused(parts, "write key").await {
        crate::error::ApiError::Unauthorized => refused(StatusCode::UNAUTHORIZED, message),
        _ => internal(),
    }
}

fn internal() -> Refused {
    refused(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the calls could not be stored; retry later",
    )
}

/// The body, or 413/400 if it is too large or unreadable.
fn body(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, Refused> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(limit)
        } else {
            refused(StatusCode::BAD_REQUEST, "the body could not be read")
        }
    })?;
    if bytes.len() > limit {
        return Err(too_large(limit));
    }
    Ok(bytes)
}

fn too_large(limit: usize) -> Refused {
    refused(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is over {} KB", limit / 1024),
    )
}

fn text(bytes: &Bytes) -> Result<&str, Refused> {
    std::str::from_utf8(bytes)
        .map_err(|_| refused(StatusCode::BAD_REQUEST, "the body is not UTF-8"))
}

fn invalid_json(error: serde_json::Error) -> Refused {
    refused(
        StatusCode::BAD_REQUEST,
        format!(
            "invalid JSON at line {} column {}: {error}",
            error.line(),
            error.column()
        ),
    )
}

/// A call's own message for a field: `batch[2].timestamp: …` or `event: …`.
fn call_error(place: Option<usize>, error: RowError) -> Refused {
    let at = match (place, &error.field) {
        (Some(i), Some(field)) => format!("batch[{i}].{field}: "),
        (Some(i), None) => format!("batch[{i}]: "),
        (None, Some(field)) => format!("{field}: "),
        (None, None) => String::new(),
    };
    refused(StatusCode::BAD_REQUEST, format!("{at}{}", error.reason))
}

/// Parses one call; `kind` is the endpoint's, for calls that do not say theirs.
fn parse(
    text: &str,
    kind: Option<&str>,
    received_at: &str,
    place: Option<usize>,
) -> Result<LiveCall, Refused> {
    if text.len() > MAX_CALL_BYTES {
        let at = place.map_or(String::new(), |i| format!("batch[{i}]: "));
        return Err(refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{at}a call is over {} KB", MAX_CALL_BYTES / 1024),
        ));
    }
    let defaults = LiveDefaults {
        kind,
        timestamp: received_at,
    };
    parse_live_call(text, &defaults).map_err(|e| call_error(place, e))
}

async fn store(state: &ServerState, calls: Vec<LiveCall>) -> Answer {
    let n = calls.len() as u64;
    let result = state.ingest.submit(calls).await;
    if result.is_err() {
        state.metrics.count_calls("rejected", n);
    }
    match result {
        Ok(()) => success(),
        Err(IngestError::Busy) => Err(refused(
            StatusCode::TOO_MANY_REQUESTS,
            "too many calls are waiting to be stored; retry after a second",
        )),
        Err(IngestError::TooMany) => Err(refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too many calls in one request",
        )),
        Err(IngestError::App(error)) => {
            tracing::error!(%error, "storing live calls failed");
            Err(internal())
        }
    }
}

/// One call of the endpoint's `kind`.
async fn single(
    state: ServerState,
    parts: Parts,
    raw: Result<Bytes, BytesRejection>,
    kind: &'static str,
) -> Answer {
    let bytes = body(raw, MAX_CALL_BYTES)?;
    let text = text(&bytes)?;
    let keyed: Keyed = serde_json::from_str(text).map_err(invalid_json)?;
    check_key(&state, &parts, keyed.write_key.as_deref()).await?;
    let received_at = state.app.now().to_rfc3339();
    let call = parse(text, Some(kind), &received_at, None).inspect_err(|_| {
        state.metrics.count_calls("rejected", 1);
    })?;
    store(&state, vec![call]).await
}

macro_rules! single_call_route {
    ($name:ident, $path:literal, $kind:literal, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(post, path = $path, tag = "ingest", security(("write_key" = [])),
            request_body(content = Object, description = "A Segment call (see Segment's Tracking API)"),
            responses(
                (status = 200, description = "Stored", body = SegmentAnswer),
                (status = 400, description = "Invalid JSON or call", body = SegmentAnswer),
                (status = 401, description = "No write key, or one unknown or revoked", body = SegmentAnswer),
                (status = 413, description = "Over 32 KB", body = SegmentAnswer),
                (status = 429, description = "Too many calls waiting; retry after a second", body = SegmentAnswer),
                (status = 500, description = "Not stored; retry later", body = SegmentAnswer)))]
        pub async fn $name(
            State(state): State<ServerState>,
            parts: Parts,
            raw: Result<Bytes, BytesRejection>,
        ) -> Answer {
            single(state, parts, raw, $kind).await
        }
    };
}

single_call_route!(
    track,
    "/v1/track",
    "track",
    "A `track` call: something a user did."
);
single_call_route!(
    identify,
    "/v1/identify",
    "identify",
    "An `identify` call: who a user is."
);
single_call_route!(
    group,
    "/v1/group",
    "group",
    "A `group` call: the account a user belongs to."
);
single_call_route!(
    page,
    "/v1/page",
    "page",
    "A `page` call: a page a user viewed."
);
single_call_route!(
    screen,
    "/v1/screen",
    "screen",
    "A `screen` call: a screen a user viewed."
);
single_call_route!(
    alias,
    "/v1/alias",
    "alias",
    "An `alias` call: two ids of one user."
);

/// Several calls of any type, stored all together or not at all.
#[utoipa::path(post, path = "/v1/batch", tag = "ingest", security(("write_key" = [])),
    request_body(content = Object, description = "{\"batch\": [calls, each with its type]}"),
    responses(
        (status = 200, description = "Stored", body = SegmentAnswer),
        (status = 400, description = "Invalid JSON, or a call is invalid", body = SegmentAnswer),
        (status = 401, description = "No write key, or one unknown or revoked", body = SegmentAnswer),
        (status = 413, description = "Over 500 KB, or a call over 32 KB", body = SegmentAnswer),
        (status = 429, description = "Too many calls waiting; retry after a second", body = SegmentAnswer),
        (status = 500, description = "Not stored; retry later", body = SegmentAnswer)))]
pub async fn batch(
    State(state): State<ServerState>,
    parts: Parts,
    raw: Result<Bytes, BytesRejection>,
) -> Answer {
    let bytes = body(raw, MAX_BATCH_BYTES)?;
    let text = text(&bytes)?;
    let envelope: BatchBody = serde_json::from_str(text).map_err(invalid_json)?;
    check_key(&state, &parts, envelope.write_key.as_deref()).await?;
    let Some(items) = envelope.batch else {
        return Err(refused(StatusCode::BAD_REQUEST, "batch: is required"));
    };
    let received_at = state.app.now().to_rfc3339();
    let calls = items
        .iter()
        .enumerate()
        .map(|(i, raw)| parse(raw.get(), None, &received_at, Some(i)))
        .collect::<Result<Vec<_>, _>>()
        .inspect_err(|_| state.metrics.count_calls("rejected", items.len() as u64))?;
    if calls.is_empty() {
        return success();
    }
    store(&state, calls).await
}
