//! `tend serve`: the JSON API over tend's application services. Handlers are thin:
//! authenticate (an [`auth::Actor`]), ask [`policy::authorize`], call the engine or
//! the store, convert to a wire type. Wire types live here, never in the engine.

#![forbid(unsafe_code)]

pub mod auth;
pub mod error;
pub mod policy;
mod routes;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use tend_store::Store;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Largest request body accepted; larger ones are answered with 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// What every handler can reach.
#[derive(Clone)]
pub struct ServerState {
    pub store: Store,
}

/// The whole application: every route, with request ids, tracing and the body limit.
pub fn router(state: ServerState) -> Router {
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    routes::routes()
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
            },
        ))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: ServerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// How long readiness waits for the database before saying it is not ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);
