//! The web app, served under `/app` from the same process and store as the API:
//! who is asking ([`Viewer`], a signed-in session; writes also carry its CSRF token
//! in a form field or the `X-CSRF-Token` header), the pages (`pages`), the writes
//! made from them (`actions`), and the assets built into the binary. Pages call the
//! same application services as the API, so the same roles and books of business
//! decide what a page may do; a page hides what the caller's role cannot do, and
//! the service refuses it anyway.

mod actions;
pub(crate) mod figures;
mod pages;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tend_core::Role;
use tend_engine::access::session_for_secret;
use tend_engine::Actor;
use tend_web::Nav;

use crate::auth::{cookie, same_secret, Caller, Credential, CSRF_HEADER, SESSION_COOKIE};
use crate::error::ApiError;
use crate::ServerState;

/// Every route of the web app: (method, path), for the tests that must cover them.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/app"),
    ("GET", "/app/login"),
    ("POST", "/app/login"),
    ("POST", "/app/logout"),
    ("GET", "/app/portfolio"),
    ("GET", "/app/portfolio.csv"),
    ("GET", "/app/accounts/{id}"),
    ("POST", "/app/accounts/{id}/activities"),
    ("GET", "/app/tasks"),
    ("POST", "/app/tasks/bulk"),
    ("POST", "/app/tasks/{id}/complete"),
    ("POST", "/app/tasks/{id}/snooze"),
    ("GET", "/app/renewals"),
    ("POST", "/app/proposals/{id}/decide"),
    ("GET", "/app/metrics"),
    ("GET", "/app/playbooks"),
    ("POST", "/app/playbooks/simulate"),
    ("GET", "/app/admin"),
    ("GET", "/app/assets/{name}"),
];

pub(crate) fn router() -> Router<ServerState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route("/app", get(pages::cockpit))
        .route("/app/login", get(pages::login_form).post(actions::login))
        .route("/app/logout", post(actions::logout))
        .route("/app/portfolio", get(pages::portfolio))
        .route("/app/portfolio.csv", get(pages::portfolio_csv))
        .route("/app/accounts/{id}", get(pages::account))
        .route("/app/accounts/{id}/activities", post(actions::log_activity))
        .route("/app/tasks", get(pages::tasks))
        .route("/app/tasks/bulk", post(actions::bulk_tasks))
        .route("/app/tasks/{id}/complete", post(actions::complete_task))
        .route("/app/tasks/{id}/snooze", post(actions::snooze_task))
        .route("/app/renewals", get(pages::renewals))
        .route("/app/proposals/{id}/decide", post(actions::decide_proposal))
        .route("/app/metrics", get(pages::metrics))
        .route("/app/playbooks", get(pages::playbooks))
        .route("/app/playbooks/simulate", post(actions::simulate_playbooks))
        .route("/app/admin", get(pages::admin))
        .route("/app/assets/{name}", get(asset))
        // Forms are small: the API's limit of a JSON body, answered with a page.
        .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
}

/// A built-in asset; cached by the browser for a day.
async fn asset(Path(name): Path<String>) -> Response {
    match tend_web::assets::asset(&name) {
        Some(asset) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            asset.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

/// A signed-in person looking at pages: their session, as the API's [`Caller`],
/// and what the navigation shows of them.
pub(crate) struct Viewer {
    pub caller: Caller,
    pub nav: Nav,
    /// The user's handle.
    pub handle: String,
}

impl Viewer {
    pub fn actor(&self) -> &Actor {
        &self.caller.actor
    }

    fn csrf(&self) -> &str {
        &self.nav.csrf
    }
}

impl FromRequestParts<ServerState> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, WebError> {
        let sign_in = || WebError::SignIn(next_of(parts));
        let Some(secret) = cookie(parts, SESSION_COOKIE) else {
            return Err(sign_in());
        };
        let session = session_for_secret(state.app.store(), &secret, state.app.now())
            .await
            .map_err(|e| WebError::api(None, e.into()))?;
        let Some(session) = session else {
            return Err(sign_in());
        };
        let user = session.user;
        let nav = Nav {
            name: user.name.clone(),
            role: user.role.as_str().to_string(),
            csrf: session.csrf_token.clone(),
            section: None,
            can_write: user.role != Role::Viewer,
        };
        Ok(Viewer {
            caller: Caller {
                actor: Actor::of_user(&user),
                credential: Credential::Session {
                    secret,
                    csrf_token: session.csrf_token,
                    created_at: session.created_at,
                },
            },
            handle: user.handle,
            nav,
        })
    }
}

/// Where to come back to after signing in: the page asked for, if it is a page.
fn next_of(parts: &Parts) -> String {
    let wanted = parts.uri.path_and_query().map_or("/app", |p| p.as_str());
    if parts.method == Method::GET {
        safe_back(wanted).to_string()
    } else {
        "/app".to_string()
    }
}

/// `back` when it is a page of the web app, else the cockpit: a form's return
/// address never leads off the site, and is visible ASCII only (it becomes a
/// `Location` header, which no line break or other byte may enter).
pub(crate) fn safe_back(back: &str) -> &str {
    let local = back.starts_with("/app")
        && !back.contains('\\')
        && back.bytes().all(|b| b.is_ascii_graphic());
    if local {
        back
    } else {
        "/app"
    }
}

/// The fields of a submitted form, in order.
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` trimmed, `None` when absent or blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Where the write returns to.
    pub fn back(&self) -> String {
        safe_back(self.get("back").unwrap_or("/app")).to_string()
    }
}

/// A form sent by a signed-in person, with the session's CSRF token checked (the
/// form's hidden field, or the header htmx sends).
pub(crate) struct PageForm {
    pub viewer: Viewer,
    pub fields: Fields,
}

impl FromRequest<ServerState> for PageForm {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &ServerState) -> Result<Self, WebError> {
        let (mut parts, body) = request.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let header = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let request = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(request, state).await.map_err(|_| {
            WebError::page(
                &viewer,
                StatusCode::PAYLOAD_TOO_LARGE,
                "The form is too large to send.",
            )
        })?;
        let fields = Fields(form_urlencoded::parse(&bytes).into_owned().collect());
        let sent = fields
            .get(tend_web::parts::CSRF_FIELD)
            .map(str::to_string)
            .or(header)
            .unwrap_or_default();
        if !same_secret(&sent, viewer.csrf()) {
            return Err(WebError::page(
                &viewer,
                StatusCode::FORBIDDEN,
                "This form was not sent from a page of your session; reload the page and try again.",
            ));
        }
        Ok(PageForm { viewer, fields })
    }
}

/// Why a page could not be served: not signed in (to the sign-in page), or an
/// error page in words with its status.
pub(crate) enum WebError {
    SignIn(String),
    Page {
        nav: Option<Box<Nav>>,
        status: StatusCode,
        message: String,
    },
}

impl WebError {
    pub fn page(viewer: &Viewer, status: StatusCode, message: &str) -> WebError {
        WebError::Page {
            nav: Some(Box::new(viewer.nav.clone())),
            status,
            message: message.to_string(),
        }
    }

    /// An error of the application's services, as the API would answer it.
    pub fn api(viewer: Option<&Viewer>, error: ApiError) -> WebError {
        if let ApiError::Internal(cause) = &error {
            tracing::error!(%cause, "page failed");
        }
        WebError::Page {
            nav: viewer.map(|v| Box::new(v.nav.clone())),
            status: error.status(),
            message: error.detail(),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn(next) => Redirect::to(&format!(
                "/app/login?next={}",
                tend_web::pages::encode(&next)
            ))
            .into_response(),
            WebError::Page {
                nav,
                status,
                message,
            } => {
                let title = status.canonical_reason().unwrap_or("Error");
                let page = tend_web::pages::error::error_page(
                    nav.as_deref(),
                    title,
                    &message,
                    Some("/app"),
                );
                html_response(status, page)
            }
        }
    }
}

/// A rendered page: never cached, never shown inside another site's frame (a page
/// of forms must not be clicked through a disguise), its type never guessed.
pub(crate) fn html_response(status: StatusCode, page: tend_web::Markup) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        page.into_string(),
    )
        .into_response()
}

/// After a write: back to the page it was made from (303, so the browser GETs it).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The application's answer, as a page error in words.
pub(crate) trait OrPage<T> {
    fn or_page(self, viewer: &Viewer) -> Result<T, WebError>;
}

impl<T, E: Into<ApiError>> OrPage<T> for Result<T, E> {
    fn or_page(self, viewer: &Viewer) -> Result<T, WebError> {
        self.map_err(|e| WebError::api(Some(viewer), e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn a_return_address_stays_on_the_web_app_and_out_of_other_headers() {
        assert_eq!(
            safe_back("/app/accounts/ACC-1#timeline"),
            "/app/accounts/ACC-1#timeline"
        );
        assert_eq!(safe_back("/app/tasks?scope=team"), "/app/tasks?scope=team");
        for bad in [
            "https://elsewhere.example/",
            "//elsewhere.example/app",
            "/api/v1/accounts",
            "/app\\..\\elsewhere",
            "/app\r\nSet-Cookie: tend_session=stolen",
            "/app/accounts/caf\u{e9}",
            "/app/a b",
        ] {
            assert_eq!(safe_back(bad), "/app", "{bad:?}");
        }
    }
}
