//! Who is asking: the API token in the `Authorization` header, checked on every
//! request of a route that takes an [`Actor`].

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;
use tend_core::Role;
use tend_engine::access::token_for_secret;

use crate::error::ApiError;
use crate::ServerState;

/// An authenticated caller and what its role and book allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// How the audit log names the caller, e.g. `token:3f2a…`.
    pub name: String,
    pub role: Role,
    /// The handle whose book of business limits the caller, if any.
    pub book: Option<String>,
}

impl FromRequestParts<ServerState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized)?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let token = token_for_secret(&state.store, secret.trim(), Utc::now())
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Actor {
            name: format!("token:{}", token.id),
            role: token.role,
            book: token.book,
        })
    }
}
