//! Operational metrics at `/metrics`, in the Prometheus (OpenMetrics) text format:
//! requests by route and status with their latency, and live ingestion — calls by
//! outcome, commit sizes and durations, how long calls wait, and how many wait now —
//! the queue of account changes: its depth and the age of its oldest entry — and
//! webhook deliveries: attempts by outcome, and the outbox's depth and age.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tend_engine::ingest::CommitStats;

use crate::ServerState;

/// Waiting this long before a commit is logged as lag.
const LAG_WARNING_SECONDS: f64 = 1.0;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route as the API document spells it (`/api/v1/accounts/{id}`), so that
    /// ids do not make a series each.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Every metric the server keeps. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    calls: Family<OutcomeLabels, Counter>,
    commit_calls: Histogram,
    commit_seconds: Histogram,
    wait_seconds: Histogram,
    waiting: Gauge,
    changes_waiting: Gauge,
    oldest_change_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    deliveries: Family<OutcomeLabels, Counter>,
    outbox_waiting: Gauge,
    oldest_delivery_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("tend");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        // 0.5 ms to about 16 s.
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            latency.clone(),
        );
        let calls = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "ingest_calls",
            "Segment calls by outcome: stored, duplicate, pending (kept until their user \
             is tied to an account), attached (kept calls now stored), anonymous (skipped), \
             rejected (calls of requests refused for an invalid call or because too many wait), \
             failed (a commit failed)",
            calls.clone(),
        );
        let commit_calls = Histogram::new(exponential_buckets(1.0, 4.0, 9));
        registry.register(
            "ingest_commit_calls",
            "Calls committed together in one transaction",
            commit_calls.clone(),
        );
        let commit_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "ingest_commit_duration_seconds",
            "Time one group commit took",
            commit_seconds.clone(),
        );
        let wait_seconds = Histogram::new(exponential_buckets(0.0005, 2.0, 16));
        registry.register(
            "ingest_queue_wait_seconds",
            "How long the oldest request of a commit waited for it",
            wait_seconds.clone(),
        );
        let waiting = Gauge::default();
        registry.register(
            "ingest_waiting_calls",
            "Calls waiting to be committed",
            waiting.clone(),
        );
        let changes_waiting = Gauge::default();
        registry.register(
            "change_queue_waiting",
            "Account changes queued and not handled yet (health refresh)",
            changes_waiting.clone(),
        );
        let oldest_change_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "change_queue_oldest_seconds",
            "Age of the oldest account change not handled yet (0 when none waits)",
            oldest_change_seconds.clone(),
        );
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome: delivered, retry (failed, tried again \
             later), failed (given up)",
            deliveries.clone(),
        );
        let outbox_waiting = Gauge::default();
        registry.register(
            "webhook_outbox_waiting",
            "Webhook deliveries of active subscriptions not delivered yet",
            outbox_waiting.clone(),
        );
        let oldest_delivery_seconds = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "webhook_outbox_oldest_seconds",
            "Age of the oldest webhook delivery waiting (0 when none waits)",
            oldest_delivery_seconds.clone(),
        );
        Metrics {
            deliveries,
            outbox_waiting,
            oldest_delivery_seconds,
            changes_waiting,
            oldest_change_seconds,
            registry: Arc::new(registry),
            requests,
            latency,
            calls,
            commit_calls,
            commit_seconds,
            wait_seconds,
            waiting,
        }
    }
}

impl Metrics {
    /// Everything in the text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }

    /// Counts `n` calls with `outcome`.
    pub fn count_calls(&self, outcome: &'static str, n: u64) {
        if n > 0 {
            self.calls
                .get_or_create(&OutcomeLabels { outcome })
                .inc_by(n);
        }
    }

    /// Records one group commit, and logs when calls waited long for it.
    pub fn record_commit(&self, stats: &CommitStats) {
        self.commit_calls.observe(stats.calls as f64);
        self.commit_seconds.observe(stats.seconds);
        self.wait_seconds.observe(stats.waited_seconds);
        if stats.waited_seconds > LAG_WARNING_SECONDS {
            tracing::warn!(
                lag_seconds = stats.waited_seconds,
                calls = stats.calls,
                "live calls are waiting over a second to be stored"
            );
        }
        match &stats.report {
            Some(report) => {
                self.count_calls("stored", report.stored);
                self.count_calls("duplicate", report.duplicates);
                self.count_calls("pending", report.pending);
                self.count_calls("attached", report.attached);
                self.count_calls("anonymous", report.anonymous_skipped);
            }
            None => self.count_calls("failed", stats.calls as u64),
        }
    }

    /// Sets how many calls wait to be committed.
    pub fn set_waiting(&self, calls: usize) {
        self.waiting.set(calls as i64);
    }

    /// Counts one webhook delivery attempt.
    pub fn count_delivery(&self, outcome: &'static str) {
        self.deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Sets the webhook outbox: how many deliveries wait, and the oldest one's age.
    pub fn set_outbox_backlog(&self, waiting: i64, oldest_seconds: f64) {
        self.outbox_waiting.set(waiting);
        self.oldest_delivery_seconds.set(oldest_seconds);
    }

    /// Sets the queue of account changes: how many wait, and the oldest one's age.
    pub fn set_change_backlog(&self, waiting: i64, oldest_seconds: f64) {
        self.changes_waiting.set(waiting);
        self.oldest_change_seconds.set(oldest_seconds);
    }
}

/// Counts and times every request, by the route it matched.
pub async fn track(State(state): State<ServerState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    let metrics = &state.metrics;
    let labels = RouteLabels { method, route };
    metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method: labels.method,
            route: labels.route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
