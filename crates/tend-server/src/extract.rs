//! Request extractors whose rejections are problem details naming the field: a JSON
//! body (unknown fields refused, invalid UTF-8 and wrong types named by pointer) and
//! query parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body of `T`.
pub struct JsonBody<T>(pub T);

/// Reads a body, answering 413 past the route's limit.
pub(crate) async fn read_body<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(crate::MAX_BODY_BYTES)
            } else {
                ApiError::invalid("", rejection.body_text())
            }
        })
}

/// `T` from JSON bytes, the error naming the field by JSON pointer.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::invalid("", "the body is not valid UTF-8"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let pointer: String = e
            .path()
            .iter()
            .map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
                serde_path_to_error::Segment::Map { key } => format!("/{key}"),
                serde_path_to_error::Segment::Enum { variant } => format!("/{variant}"),
                serde_path_to_error::Segment::Unknown => String::new(),
            })
            .collect();
        ApiError::Invalid {
            pointer: Some(pointer),
            detail: format!("invalid JSON body: {}", e.inner()),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::invalid("", format!("invalid JSON body: {e}")))?;
    Ok(value)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(request.headers())?;
        let bytes = read_body(request, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON body of `T` with the bytes it was read from (for idempotency keys).
pub(crate) async fn json_with_bytes<S: Send + Sync, T: DeserializeOwned>(
    request: Request,
    state: &S,
) -> Result<(Bytes, T), ApiError> {
    require_json(request.headers())?;
    let bytes = read_body(request, state).await?;
    let value = parse_json(&bytes)?;
    Ok((bytes, value))
}

/// Refuses a body not declared as JSON.
pub(crate) fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json")
        });
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "send the body as JSON with `Content-Type: application/json`".into(),
        ))
    }
}

/// Query parameters of `T`; unknown ones are refused.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Params(value)),
            Err(rejection) => {
                let text = rejection.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_string();
                // serde_urlencoded names the parameter first: "limit: invalid digit".
                let pointer = detail
                    .split_once(':')
                    .map(|(name, _)| name.trim().to_string())
                    .filter(|name| !name.contains(' '));
                Err(ApiError::Invalid {
                    pointer,
                    detail: format!("invalid query parameters: {detail}"),
                })
            }
        }
    }
}
