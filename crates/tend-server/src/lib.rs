//! `tend serve`: the JSON API over tend's application services ([`tend_engine::App`]).
//! Handlers are thin: find out who is asking ([`auth::Caller`]), convert the request,
//! call the application, convert the answer into a wire type ([`wire`]). Rules of
//! who may do what live in the engine's policy, not here.

#![forbid(unsafe_code)]

pub mod auth;
pub mod error;
mod extract;
mod idempotency;
pub mod mailer;
pub mod mcp;
pub mod metrics;
pub mod openapi;
mod routes;
mod throttle;
mod web;
pub mod webhooks;
pub mod wire;
pub mod wire_account_plans;
pub mod wire_expansion;
pub mod wire_renewals;
pub mod wire_risk;
pub mod wire_work;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use tend_engine::webhooks::DeliveryPolicy;
use tend_engine::App;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Largest JSON request body accepted; larger ones are answered with 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Largest uploaded import file.
pub const MAX_IMPORT_BYTES: usize = 256 << 20;
/// How long readiness waits for the database before saying it is not ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct ServerState {
    pub app: App,
    throttle: Arc<throttle::Throttle>,
    /// When each rate-limited audit event was last written (token use, refusals).
    audited: Arc<Mutex<HashMap<String, Instant>>>,
    /// Serialises requests that carry an Idempotency-Key.
    idempotency: Arc<tokio::sync::Mutex<()>>,
    openapi_json: Arc<String>,
    /// Live Segment calls, committed together.
    pub ingest: tend_engine::ingest::Ingest,
    pub metrics: metrics::Metrics,
    /// Sends the webhook outbox.
    pub deliverer: webhooks::Deliverer,
    /// Sends the email outbox, when an SMTP server is configured.
    pub mailer: Option<mailer::Mailer>,
    /// Whether `serve` runs the playbooks over every account once a day.
    pub daily_playbooks: bool,
    /// The web app's figures of whole portfolios, kept between requests.
    figures: Arc<web::figures::Figures>,
}

impl ServerState {
    /// The state of a server over `app`; starts its ingestion writer and webhook
    /// deliverer on the current runtime.
    pub fn new(app: App) -> ServerState {
        ServerState::with_delivery_policy(app, DeliveryPolicy::default())
    }

    /// [`ServerState::new`], retrying webhook deliveries as `policy` says.
    pub fn with_delivery_policy(app: App, policy: DeliveryPolicy) -> ServerState {
        let metrics = metrics::Metrics::default();
        let deliverer = webhooks::Deliverer::start(app.clone(), policy, metrics.clone());
        let recorder = metrics.clone();
        let ingest = tend_engine::ingest::Ingest::start(app.clone(), move |stats| {
            recorder.record_commit(&stats);
        });
        ServerState {
            ingest,
            deliverer,
            metrics,
            app,
            throttle: Arc::default(),
            audited: Arc::default(),
            idempotency: Arc::default(),
            openapi_json: Arc::new(String::new()),
            mailer: None,
            daily_playbooks: false,
            figures: Arc::default(),
        }
    }

    /// Sends playbook emails through the SMTP server of `config`.
    pub fn with_mail(mut self, config: &mailer::MailConfig) -> Result<ServerState, String> {
        self.mailer = Some(mailer::Mailer::start(
            self.app.clone(),
            config,
            DeliveryPolicy::default(),
        )?);
        Ok(self)
    }

    /// Computes the web app's figures of the whole portfolio (metrics, pipeline,
    /// forecast) in the background on the current runtime.
    pub fn warm_figures(&self) {
        let (app, figures) = (self.app.clone(), self.figures.clone());
        tokio::spawn(async move { figures.warm(&app).await });
    }

    /// Runs the playbooks over every account once a day while serving.
    pub fn with_daily_playbooks(mut self) -> ServerState {
        self.daily_playbooks = true;
        self
    }
}

/// The OpenAPI document of every documented route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::finish(routes::documented().into_openapi())
}

/// Every route the router serves, (method, path) with paths as the document
/// spells them: for tests that must cover them all.
pub fn route_list() -> Vec<(String, String)> {
    let mut all = openapi::operations(&openapi());
    all.extend(
        routes::UNDOCUMENTED
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string())),
    );
    all
}

async fn not_found() -> error::ApiError {
    error::ApiError::NotFound("no such route; the API is described at /api/openapi.json".into())
}

/// Every route of the web app, (method, path): for the tests of the pages, apart
/// from the API's (pages answer with pages and redirects, not JSON).
pub fn page_routes() -> Vec<(String, String)> {
    web::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

/// The whole application: every route, with request ids and tracing.
pub fn router(mut state: ServerState) -> Router {
    let (api, doc) = routes::documented().split_for_parts();
    let doc = openapi::finish(doc);
    state.openapi_json = Arc::new(doc.to_json().expect("the OpenAPI document serialises"));
    let request_id = axum::http::HeaderName::from_static("x-request-id");
    api.route("/api/openapi.json", get(routes::system::openapi))
        .route("/api/docs", get(routes::system::docs))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .merge(mcp::router(state.clone()))
        .merge(web::router().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        )))
        .fallback(not_found)
        .with_state(state)
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

/// Serves until `shutdown` completes, then lets requests in flight and webhook
/// attempts in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: ServerState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let deliverer = state.deliverer.clone();
    let mailer = state.mailer.clone();
    let checkpoints = tokio::spawn(checkpoint_regularly(state.app.store().clone()));
    let daily = state
        .daily_playbooks
        .then(|| tokio::spawn(tend_engine::playbooks::run::run_daily(state.app.clone())));
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    deliverer.stop().await;
    if let Some(mailer) = mailer {
        mailer.stop().await;
    }
    checkpoints.abort();
    if let Some(daily) = daily {
        // A run cut short rolls back its last transaction; the next start runs it again.
        daily.abort();
    }
    served
}

/// How often the server checkpoints SQLite's write-ahead log.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints the store's log every [`CHECKPOINT_EVERY`] (see
/// [`tend_store::StoreOptions::background_checkpoints`]).
async fn checkpoint_regularly(store: tend_store::Store) {
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if let Err(error) = store.checkpoint().await {
            if !store.is_closed() {
                tracing::warn!(%error, "checkpointing the database log failed");
            }
        }
    }
}
