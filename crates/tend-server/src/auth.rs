//! Who is asking: an API token (`Authorization: Bearer …`) or a session cookie,
//! checked on every request of a route that takes a [`Caller`]. Writes made with a
//! session cookie must also carry its CSRF token in `X-CSRF-Token`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::Method;
use tend_engine::access::{audit_event, session_for_secret, token_for_secret};
use tend_engine::Actor;

use crate::error::ApiError;
use crate::ServerState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tend_session";
/// The header carrying a session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A token's or a source's use is audited at most this often.
const TOKEN_USE_AUDIT_EVERY: Duration = Duration::from_secs(3600);
/// Refused credentials are audited at most this often per client address.
const FAILURE_AUDIT_EVERY: Duration = Duration::from_secs(60);

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Token {
        id: String,
    },
    Session {
        secret: String,
        csrf_token: String,
        created_at: chrono::DateTime<chrono::Utc>,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub credential: Credential,
}

/// The client's address, as the connection tells it ("unknown" without one).
pub fn client_address(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |info| info.0.ip().to_string())
}

/// The value of cookie `name`, if sent.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl ServerState {
    /// Audits `key`'s event unless it was audited within `every`.
    fn due(&self, key: &str, every: Duration) -> bool {
        let now = Instant::now();
        let mut seen = self.audited.lock().expect("audit cache lock");
        if seen.len() > 100_000 {
            seen.clear();
        }
        match seen.get(key) {
            Some(at) if now.duration_since(*at) < every => false,
            _ => {
                seen.insert(key.to_string(), now);
                true
            }
        }
    }

    /// Audits that `actor` (a token or a source) was used, at most once an hour.
    pub(crate) async fn audit_use(
        &self,
        parts: &Parts,
        actor: &str,
        action: &str,
        target: &str,
    ) -> Result<(), ApiError> {
        if self.due(actor, TOKEN_USE_AUDIT_EVERY) {
            let fields = [("address", client_address(parts).into())];
            audit_event(
                self.app.store(),
                actor,
                action,
                target,
                &fields,
                self.app.now(),
            )
            .await?;
        }
        Ok(())
    }

    /// Refuses credentials, audited at most once a minute per client address.
    pub(crate) async fn refused(&self, parts: &Parts, what: &str) -> ApiError {
        let address = client_address(parts);
        if self.due(&format!("refused:{address}"), FAILURE_AUDIT_EVERY) {
            let fields = [
                ("address", address.clone().into()),
                ("credential", what.into()),
            ];
            if let Err(e) = audit_event(
                self.app.store(),
                "anonymous",
                "auth.failure",
                &address,
                &fields,
                self.app.now(),
            )
            .await
            {
                return e.into();
            }
        }
        ApiError::Unauthorized
    }
}

impl FromRequestParts<ServerState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, Self::Rejection> {
        let now = state.app.now();
        if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let Some(secret) = header.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
                return Err(state.refused(parts, "malformed authorization header").await);
            };
            let Some(token) = token_for_secret(state.app.store(), secret.trim(), now).await? else {
                return Err(state.refused(parts, "token").await);
            };
            let actor = Actor::of_token(&token);
            state
                .audit_use(parts, &actor.name, "token.use", &token.id)
                .await?;
            return Ok(Caller {
                actor,
                credential: Credential::Token { id: token.id },
            });
        }
        let Some(secret) = cookie(parts, SESSION_COOKIE) else {
            return Err(ApiError::Unauthorized);
        };
        let Some(session) = session_for_secret(state.app.store(), &secret, now).await? else {
            return Err(state.refused(parts, "session").await);
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same_secret(sent, &session.csrf_token) {
                return Err(ApiError::Forbidden(
                    "a write signed in with a session cookie needs the session's CSRF token in X-CSRF-Token"
                        .into(),
                ));
            }
        }
        Ok(Caller {
            actor: Actor::of_user(&session.user),
            credential: Credential::Session {
                secret,
                csrf_token: session.csrf_token,
                created_at: session.created_at,
            },
        })
    }
}
