//! One error body for every route: RFC 9457 problem details, with a JSON pointer
//! to the field at fault when there is one. A 500 never shows its cause; the cause
//! is logged with the request id instead.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tend_engine::AppError;
use utoipa::ToSchema;

#[derive(Debug)]
pub enum ApiError {
    Unauthorized,
    /// Credentials were sent and are not right; the message says no more than that.
    WrongCredentials(&'static str),
    Forbidden(String),
    NotFound(String),
    /// A bad request; `pointer` names the field (`/subject`) or parameter (`limit`).
    Invalid {
        pointer: Option<String>,
        detail: String,
    },
    InvalidRows(Vec<RowProblem>, bool),
    Conflict(String),
    PayloadTooLarge(usize),
    UnsupportedMediaType(String),
    TooManyRequests {
        retry_after_secs: u64,
        detail: String,
    },
    Internal(String),
}

impl ApiError {
    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            pointer: Some(pointer.into()),
            detail: detail.into(),
        }
    }
}

/// One line of an uploaded file that cannot be imported.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowProblem {
    /// 1-based line in the file.
    pub line: u64,
    /// 1-based CSV column, when the error is about one.
    pub column: Option<usize>,
    /// The field (CSV header or JSON key).
    pub field: Option<String>,
    pub message: String,
}

/// RFC 9457 problem details.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A JSON pointer to the field of the body at fault, or the query parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The rows of an uploaded file that cannot be imported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<RowProblem>>,
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound { .. } => ApiError::NotFound(error.to_string()),
            AppError::Invalid { field, message } => ApiError::Invalid {
                pointer: Some(field),
                detail: message,
            },
            AppError::InvalidRows { errors, more } => ApiError::InvalidRows(
                errors
                    .into_iter()
                    .map(|e| RowProblem {
                        line: e.line,
                        column: e.column,
                        field: e.field,
                        message: e.reason,
                    })
                    .collect(),
                more,
            ),
            AppError::Conflict(message) => ApiError::Conflict(message),
            AppError::Forbidden(message) => ApiError::Forbidden(message),
            AppError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<tend_engine::access::AccessError> for ApiError {
    fn from(error: tend_engine::access::AccessError) -> Self {
        AppError::from(error).into()
    }
}

impl From<tend_store::StoreError> for ApiError {
    fn from(error: tend_store::StoreError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::WrongCredentials(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ApiError::InvalidRows(..) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn detail(&self) -> String {
        match self {
            ApiError::Unauthorized => "authentication required: send an API token as \
                `Authorization: Bearer <token>`, or sign in at /api/v1/session"
                .to_string(),
            ApiError::WrongCredentials(d) => d.to_string(),
            ApiError::Forbidden(d) | ApiError::NotFound(d) | ApiError::Conflict(d) => d.clone(),
            ApiError::Invalid { detail, .. } => detail.clone(),
            ApiError::UnsupportedMediaType(d) => d.clone(),
            ApiError::TooManyRequests { detail, .. } => detail.clone(),
            ApiError::InvalidRows(rows, more) => format!(
                "nothing was imported: {}{} rows cannot be imported",
                rows.len(),
                if *more { "+" } else { "" }
            ),
            ApiError::PayloadTooLarge(limit) => {
                format!("the request body is larger than {limit} bytes")
            }
            ApiError::Internal(_) => {
                "internal error; the server log has the details under this request's id".to_string()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(cause) = &self {
            // The span of the request carries its id.
            tracing::error!(%cause, "request failed");
        }
        let detail = self.detail();
        let (pointer, errors, retry_after) = match self {
            ApiError::Invalid { pointer, .. } => (pointer, None, None),
            ApiError::InvalidRows(rows, _) => (None, Some(rows), None),
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => (None, None, Some(retry_after_secs)),
            _ => (None, None, None),
        };
        let body = Problem {
            kind: "about:blank".to_string(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail,
            pointer,
            errors,
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
