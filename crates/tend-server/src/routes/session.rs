//! Signing in and out with a password: a session cookie (HttpOnly, SameSite=Lax,
//! Secure behind TLS) and the CSRF token its writes must carry.

use std::time::Instant;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cookie::{Cookie, SameSite};
use tend_engine::access::{
    audit_event, end_session, start_session, user_for_password, NewSession, SESSION_ABSOLUTE,
};

use crate::auth::{client_address, Caller, Credential, SESSION_COOKIE};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::throttle::{PER_ADDRESS, PER_EMAIL};
use crate::wire::{LoginBody, SessionBody};
use crate::ServerState;

/// What the login handler needs of the request besides its body.
pub struct LoginContext {
    pub(crate) address: String,
    pub(crate) secure: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for LoginContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let secure = parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
        Ok(LoginContext {
            address: client_address(parts),
            secure,
        })
    }
}

/// The same answer for an unknown email, a wrong password and a disabled user.
const WRONG: &str = "the email or password is not right";

/// A session just started, and the `Set-Cookie` value that hands it to the client.
pub(crate) struct SignedIn {
    pub session: NewSession,
    pub cookie: HeaderValue,
}

/// Checks an email and password (throttled per email and per address, failures
/// audited) and starts a session: what the API's and the web app's sign-in share.
pub(crate) async fn sign_in(
    state: &ServerState,
    context: &LoginContext,
    email: &str,
    password: &str,
) -> Result<SignedIn, ApiError> {
    let now = Instant::now();
    let email_key = format!("email:{}", email.trim().to_lowercase());
    let address_key = format!("address:{}", context.address);
    for (key, limit) in [(&email_key, PER_EMAIL), (&address_key, PER_ADDRESS)] {
        if let Err(wait) = state.throttle.check(key, limit, now) {
            return Err(ApiError::TooManyRequests {
                retry_after_secs: wait,
                detail: format!("too many failed sign-ins; try again in {wait} seconds"),
            });
        }
    }
    let store = state.app.store();
    let user = user_for_password(store, email, password).await?;
    let Some(user) = user else {
        state.throttle.fail(&email_key, now);
        state.throttle.fail(&address_key, now);
        let fields = [
            ("address", context.address.clone().into()),
            ("email", email.trim().into()),
        ];
        audit_event(
            store,
            "anonymous",
            "session.login_failed",
            email.trim(),
            &fields,
            state.app.now(),
        )
        .await?;
        return Err(ApiError::WrongCredentials(WRONG));
    };
    state.throttle.clear(&email_key);
    let session = start_session(store, user, &context.address, state.app.now()).await?;
    let cookie = Cookie::build((SESSION_COOKIE, session.secret.clone()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(context.secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(
            SESSION_ABSOLUTE.num_seconds(),
        ))
        .build();
    let cookie = HeaderValue::from_str(&cookie.to_string())
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(SignedIn { session, cookie })
}

/// Ends the caller's session; the `Set-Cookie` value that clears its cookie.
pub(crate) async fn sign_out(
    state: &ServerState,
    caller: &Caller,
) -> Result<HeaderValue, ApiError> {
    let Credential::Session { secret, .. } = &caller.credential else {
        return Err(ApiError::Conflict(
            "this request is signed with an API token, not a session; revoke the token instead"
                .into(),
        ));
    };
    end_session(
        state.app.store(),
        secret,
        &caller.actor.name,
        state.app.now(),
    )
    .await?;
    let expired = Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    HeaderValue::from_str(&expired.to_string()).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Signs in with email and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "access", security(()),
    request_body = LoginBody,
    responses((status = 201, description = "Signed in; the cookie is set", body = SessionBody)))]
pub async fn login(
    State(state): State<ServerState>,
    context: LoginContext,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Response, ApiError> {
    let SignedIn { session, cookie } =
        sign_in(&state, &context, &body.email, &body.password).await?;
    let body = SessionBody {
        expires_at: state.app.now() + SESSION_ABSOLUTE,
        user: session.user.into(),
        csrf_token: session.csrf_token,
    };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Signs out: ends the session and clears its cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "access",
    responses((status = 204, description = "Signed out")))]
pub async fn logout(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let cookie = sign_out(&state, &caller).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The current session: its user and CSRF token (for a page loaded afresh).
#[utoipa::path(get, path = "/api/v1/session", tag = "access",
    responses((status = 200, description = "The session", body = SessionBody)))]
pub async fn current(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<SessionBody>, ApiError> {
    let Credential::Session {
        csrf_token,
        created_at,
        ..
    } = caller.credential
    else {
        return Err(ApiError::Conflict(
            "this request is signed with an API token, not a session".into(),
        ));
    };
    let handle = caller.actor.author().to_string();
    let user = state
        .app
        .store()
        .users()
        .await?
        .into_iter()
        .find(|u| u.handle == handle)
        .ok_or(ApiError::Unauthorized)?;
    Ok(Json(SessionBody {
        user: user.into(),
        csrf_token,
        expires_at: created_at + SESSION_ABSOLUTE,
    }))
}
