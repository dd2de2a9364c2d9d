//! The webhook deliverer: sends the outbox. Due deliveries — the oldest pending one
//! per subscription and account, so a receiver gets each account's events in order —
//! are posted a few at a time, signed per Standard Webhooks, and every attempt is
//! recorded through the engine, which schedules retries and turns off subscriptions
//! that keep failing. On shutdown the attempts in flight finish and are recorded.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use tend_engine::webhooks::{delivery_body, sign, AttemptResult, DeliveryPolicy};
use tend_engine::App;
use tend_store::{DeliveryStatus, WebhookDelivery, WebhookSubscription};
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

use crate::metrics::Metrics;

/// Deliveries read from the outbox at a time.
const BATCH: i64 = 100;
/// Attempts in flight at once.
const PARALLEL: usize = 8;
/// How often the outbox is looked at when it had nothing due.
const POLL: Duration = Duration::from_millis(200);
/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The running deliverer. Cheap to clone; [`Deliverer::stop`] ends it.
#[derive(Clone)]
pub struct Deliverer {
    stop: watch::Sender<bool>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Deliverer {
    /// Starts delivering on the current runtime.
    pub fn start(app: App, policy: DeliveryPolicy, metrics: Metrics) -> Deliverer {
        let (stop, stopped) = watch::channel(false);
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("tend-webhooks/", env!("CARGO_PKG_VERSION")))
            // A receiver's redirect is its answer, not a place to send signed data.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds");
        let task = tokio::spawn(run(app, policy, metrics, client, stopped));
        Deliverer {
            stop,
            task: Arc::new(Mutex::new(Some(task))),
        }
    }

    /// Stops taking deliveries and waits for the attempts in flight.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

async fn run(
    app: App,
    policy: DeliveryPolicy,
    metrics: Metrics,
    client: reqwest::Client,
    mut stopped: watch::Receiver<bool>,
) {
    while !*stopped.borrow() {
        let due = match app.store().due_deliveries(Utc::now(), BATCH).await {
            Ok(due) => due,
            Err(error) => {
                if !app.store().is_closed() {
                    tracing::error!(%error, "reading the webhook outbox failed");
                }
                Vec::new()
            }
        };
        if due.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stopped.changed() => {}
            }
            continue;
        }
        // The subscriptions of the batch, read once: turned off or deleted ones are
        // left out (their deliveries wait, or went with them).
        let subscriptions: HashMap<String, WebhookSubscription> =
            match app.store().webhook_subscriptions().await {
                Ok(all) => all
                    .into_iter()
                    .filter(|s| s.active)
                    .map(|s| (s.id.clone(), s))
                    .collect(),
                Err(error) => {
                    tracing::error!(%error, "reading webhook subscriptions failed");
                    continue;
                }
            };
        let subscriptions = &subscriptions;
        futures_util::stream::iter(due)
            .filter_map(|delivery| async move {
                let subscription = subscriptions.get(&delivery.subscription_id)?;
                Some((subscription, delivery))
            })
            .for_each_concurrent(PARALLEL, |(subscription, delivery)| {
                attempt(&app, &policy, &metrics, &client, subscription, delivery)
            })
            .await;
    }
}

/// Sends one delivery and records how it went.
async fn attempt(
    app: &App,
    policy: &DeliveryPolicy,
    metrics: &Metrics,
    client: &reqwest::Client,
    subscription: &WebhookSubscription,
    delivery: WebhookDelivery,
) {
    let body = delivery_body(&subscription.format, &delivery);
    let signed = sign(
        &subscription.secret,
        &delivery.message_id,
        Utc::now().timestamp(),
        &body,
    );
    let sent = client
        .post(&subscription.url)
        .header("content-type", "application/json")
        .header("webhook-id", &signed.id)
        .header("webhook-timestamp", &signed.timestamp)
        .header("webhook-signature", &signed.signature)
        .body(body)
        .send()
        .await;
    let result = match sent {
        Ok(response) if response.status().is_success() => AttemptResult::Delivered {
            http_status: response.status().as_u16(),
        },
        Ok(response) => AttemptResult::Refused {
            http_status: response.status().as_u16(),
        },
        Err(error) => AttemptResult::Unreachable {
            error: describe(&error),
        },
    };
    match app.record_delivery(&delivery, &result, policy).await {
        Ok(status) => metrics.count_delivery(match status {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Pending => "retry",
            DeliveryStatus::Failed => "failed",
        }),
        Err(error) => {
            tracing::error!(%error, delivery = delivery.id, "recording a webhook attempt failed")
        }
    }
}

/// What went wrong, in words for the delivery log (no internals of tend).
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if error.is_connect() {
        "could not connect to the receiver".to_string()
    } else {
        "the request to the receiver failed".to_string()
    }
}
