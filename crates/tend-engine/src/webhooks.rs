//! Outbound webhooks: subscriptions kept by admins; the events found while the queue
//! of account changes is handled, put in the outbox in the same transaction that
//! marks those changes handled (so each change yields its events exactly once); and
//! the signing (Standard Webhooks) and retry rules the server's deliverer follows.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tend_store::{
    AccountChange, DeliveryAttempt, DeliveryStatus, HealthWatch, NewDelivery, Store, StoreError,
    Transaction, WebhookDelivery, WebhookSubscription,
};

use crate::access::random_bytes;
use crate::app::{App, AppError};
use crate::import::{IMPORT_CHANGE_REASON, TRAITS_CHANGE_REASON};
use crate::policy::{authorize, Action, Actor};

/// The health band of an account changed.
pub const HEALTH_BAND_CHANGED: &str = "health.band_changed";
/// An account's score fell [`DROP_POINTS`] or more below its highest since the last
/// drop was told.
pub const HEALTH_DROPPED: &str = "health.dropped";
/// An account's record changed: edited by hand, imported, or told by a group call.
pub const ACCOUNT_UPDATED: &str = "account.updated";
/// A task was created (by hand or by a playbook).
pub const TASK_CREATED: &str = "task.created";
/// A task's fields changed (title, priority, due day, status to in progress).
pub const TASK_UPDATED: &str = "task.updated";
/// A task was done — by its owner, or closed by its playbook when the trigger cleared.
pub const TASK_COMPLETED: &str = "task.completed";
pub const TASK_CANCELLED: &str = "task.cancelled";
pub const TASK_SNOOZED: &str = "task.snoozed";
pub const TASK_REASSIGNED: &str = "task.reassigned";
/// A playbook fired on an account (playbooks with `notify = true`).
pub const PLAYBOOK_FIRED: &str = "playbook.fired";
/// The owner made a forecast call on a renewal.
pub const RENEWAL_CALLED: &str = "renewal.called";
/// A proposal was made (within the guardrails it is approved at once).
pub const PROPOSAL_CREATED: &str = "proposal.created";
pub const PROPOSAL_APPROVED: &str = "proposal.approved";
pub const PROPOSAL_REJECTED: &str = "proposal.rejected";
/// Every event type a subscription may ask for.
pub const EVENT_TYPES: [&str; 14] = [
    HEALTH_BAND_CHANGED,
    HEALTH_DROPPED,
    ACCOUNT_UPDATED,
    TASK_CREATED,
    TASK_UPDATED,
    TASK_COMPLETED,
    TASK_CANCELLED,
    TASK_SNOOZED,
    TASK_REASSIGNED,
    PLAYBOOK_FIRED,
    RENEWAL_CALLED,
    PROPOSAL_CREATED,
    PROPOSAL_APPROVED,
    PROPOSAL_REJECTED,
];

/// Points of overall score (0–100) a fall must reach to be a drop.
pub const DROP_POINTS: f64 = 10.0;

/// The prefix of signing secrets, as the Standard Webhooks libraries expect.
const SECRET_PREFIX: &str = "whsec_";

/// How deliveries are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The event as JSON, signed per Standard Webhooks.
    Standard,
    /// A Slack incoming-webhook message (`{"text": …}`), signed the same way.
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Standard => "standard",
            WebhookFormat::Slack => "slack",
        }
    }

    pub fn parse(text: &str) -> Option<WebhookFormat> {
        [WebhookFormat::Standard, WebhookFormat::Slack]
            .into_iter()
            .find(|f| f.as_str() == text)
    }
}

/// A subscription asked for.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub url: String,
    pub event_types: Vec<String>,
    /// `standard` unless given.
    pub format: Option<String>,
}

/// What an admin may change of a subscription; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// Turning a subscription on again clears its failure streak.
    pub active: Option<bool>,
}

/// When deliveries are retried and a subscription turned off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeliveryPolicy {
    /// The wait after the first failure; it doubles after each further one.
    pub first_retry: Duration,
    /// The longest wait between two attempts.
    pub max_retry: Duration,
    /// Attempts at one delivery before it is given up (status `failed`).
    pub max_attempts: i64,
    /// Failed attempts in a row, over all of a subscription's deliveries, after
    /// which it is turned off.
    pub disable_after: i64,
}

impl Default for DeliveryPolicy {
    /// Retries after 5 s, 10 s, 20 s, … up to an hour apart: 15 attempts span about
    /// 9 hours. A subscription that failed 100 times in a row is turned off.
    fn default() -> Self {
        DeliveryPolicy {
            first_retry: Duration::from_secs(5),
            max_retry: Duration::from_secs(3600),
            max_attempts: 15,
            disable_after: 100,
        }
    }
}

impl DeliveryPolicy {
    /// The wait after the `attempts`-th failed attempt (1 for the first).
    pub fn retry_after(&self, attempts: i64) -> Duration {
        let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
        self.first_retry
            .saturating_mul(2u32.saturating_pow(doublings))
            .min(self.max_retry)
    }
}

/// How one attempt went, as the deliverer saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    /// The receiver answered 2xx.
    Delivered { http_status: u16 },
    /// It answered another status.
    Refused { http_status: u16 },
    /// No answer: the connection failed or timed out.
    Unreachable { error: String },
}

/// The Standard Webhooks headers of one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
}

/// Signs `body` as delivery `message_id` at `timestamp` (Unix seconds) with
/// `secret` (`whsec_` and base64): `v1,` and the base64 HMAC-SHA256 of
/// `id.timestamp.body`, per the Standard Webhooks specification.
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &str) -> SignedHeaders {
    let key = secret_key(secret);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(format!("{message_id}.{timestamp}.{body}").as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    SignedHeaders {
        id: message_id.to_string(),
        timestamp: timestamp.to_string(),
        signature: format!("v1,{signature}"),
    }
}

fn secret_key(secret: &str) -> Vec<u8> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        // Secrets are made by tend; one that is not base64 signs with its bytes.
        .unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

/// What a delivery sends: the event's JSON, or for Slack a readable message.
pub fn delivery_body(format: &str, delivery: &WebhookDelivery) -> String {
    match WebhookFormat::parse(format) {
        Some(WebhookFormat::Slack) => {
            let event: Value = serde_json::from_str(&delivery.payload).unwrap_or(Value::Null);
            json!({ "text": slack_text(&event) }).to_string()
        }
        _ => delivery.payload.clone(),
    }
}

/// One line a person reads in a channel.
fn slack_text(event: &Value) -> String {
    let data = &event["data"];
    let account = match (data["account_name"].as_str(), data["account_id"].as_str()) {
        (Some(name), Some(id)) if name != id => format!("*{name}* ({id})"),
        (_, Some(id)) => format!("*{id}*"),
        _ => "An account".to_string(),
    };
    let score = |v: &Value| v.as_f64().map_or("no score".into(), |s| format!("{s:.0}"));
    match event["type"].as_str() {
        Some(HEALTH_BAND_CHANGED) => format!(
            "{account}: health went from {} to {} (score {} → {}).",
            data["from_band"].as_str().unwrap_or("?"),
            data["to_band"].as_str().unwrap_or("?"),
            score(&data["previous_score"]),
            score(&data["score"]),
        ),
        Some(HEALTH_DROPPED) => format!(
            "{account}: health dropped from {} to {} ({} band).",
            score(&data["from_score"]),
            score(&data["score"]),
            data["band"].as_str().unwrap_or("?"),
        ),
        Some(ACCOUNT_UPDATED) => format!("{account} was updated."),
        Some(kind) if kind.starts_with("task.") => {
            let task = &data["task"];
            let what = match kind {
                TASK_CREATED => "new task",
                TASK_COMPLETED => "task done",
                TASK_CANCELLED => "task cancelled",
                TASK_SNOOZED => "task snoozed",
                TASK_REASSIGNED => "task reassigned",
                _ => "task updated",
            };
            let owner = task["owner"].as_str().unwrap_or("nobody");
            format!(
                "{account}: {what} — {} (owner {owner}, due {}).",
                task["title"].as_str().unwrap_or("?"),
                task["due_on"].as_str().unwrap_or("?"),
            )
        }
        Some(PLAYBOOK_FIRED) => format!(
            "{account}: playbook {} fired — {}.",
            data["playbook"].as_str().unwrap_or("?"),
            data["evidence"].as_str().unwrap_or("?"),
        ),
        _ => format!(
            "{account}: {}",
            event["type"].as_str().unwrap_or("an event")
        ),
    }
}

/// Why a queued change means the account's record changed.
fn is_record_change(reason: &str) -> bool {
    reason == "account.update"
        || reason == TRAITS_CHANGE_REASON
        || reason.strip_prefix(IMPORT_CHANGE_REASON) == Some(".accounts")
}

/// One event to send to the subscriptions asking for its kind.
pub(crate) struct Event {
    pub kind: &'static str,
    pub account_id: String,
    pub data: Value,
}

/// In `tx`: one delivery of each event per active subscription asking for it.
pub(crate) async fn queue_events(
    tx: &mut Transaction,
    events: Vec<Event>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let queued_at = Utc::now();
    let subscriptions = tx.active_webhook_subscriptions().await?;
    let deliveries = outbox_rows(&subscriptions, events, now, queued_at);
    tx.insert_webhook_deliveries(&deliveries, queued_at).await?;
    Ok(deliveries.len())
}

/// In `tx`: marks the changes of `handled` handled (those still waiting), finds the
/// events they make — band changes and drops against what the account's events were
/// last computed from, and record updates — and puts one delivery per event and
/// subscription asking for it in the outbox. Returns the deliveries written.
pub(crate) async fn handle_changes(
    store: &Store,
    tx: &mut Transaction,
    handled: &[AccountChange],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let ids: Vec<i64> = handled.iter().map(|c| c.id).collect();
    // Claimed first: a change another refresher handled meanwhile yields nothing here.
    let claimed: HashSet<i64> = tx
        .mark_changes_processed(&ids, now)
        .await?
        .into_iter()
        .collect();
    let handled: Vec<&AccountChange> = handled.iter().filter(|c| claimed.contains(&c.id)).collect();
    // Deliveries are queued and due by the wall clock, which the deliverer and
    // receivers go by; events are dated by the application's clock.
    let queued_at = Utc::now();
    let mut reasons: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for change in handled {
        reasons
            .entry(&change.account_id)
            .or_default()
            .insert(&change.reason);
    }
    let accounts: Vec<&str> = reasons.keys().copied().collect();
    let mut events = Vec::new();
    let day = store.latest_health_day().await?;
    let headlines = tx.account_headlines(&accounts, day).await?;
    let watched: HashMap<String, HealthWatch> = tx
        .health_watch_of(&accounts)
        .await?
        .into_iter()
        .map(|w| (w.account_id.clone(), w))
        .collect();
    let mut watch = Vec::new();
    let mut names = HashMap::new();
    for (account_id, name, score, band) in headlines {
        if let (Some(band), Some(day)) = (band, day) {
            let last = watched.get(&account_id);
            let (next, found) = compare(last, &account_id, &name, score, band, day);
            events.extend(found);
            watch.push(next);
        }
        names.insert(account_id, name);
    }
    tx.upsert_health_watch(&watch).await?;
    for (account, why) in &reasons {
        let why: Vec<&str> = why
            .iter()
            .copied()
            .filter(|r| is_record_change(r))
            .collect();
        if !why.is_empty() {
            events.push(Event {
                kind: ACCOUNT_UPDATED,
                account_id: account.to_string(),
                data: json!({
                    "account_id": account,
                    "account_name": names.get(*account),
                    "reasons": why,
                }),
            });
        }
    }
    let deliveries = if events.is_empty() {
        Vec::new()
    } else {
        let subscriptions = tx.active_webhook_subscriptions().await?;
        outbox_rows(&subscriptions, events, now, queued_at)
    };
    tx.insert_webhook_deliveries(&deliveries, queued_at).await?;
    Ok(deliveries.len())
}

/// The next watch of one account and the health events since the last.
fn compare(
    last: Option<&HealthWatch>,
    account_id: &str,
    name: &str,
    score: Option<f64>,
    band: String,
    day: chrono::NaiveDate,
) -> (HealthWatch, Vec<Event>) {
    let mut events = Vec::new();
    let base = |extra: Value| {
        let mut data = json!({
            "account_id": account_id, "account_name": name, "day": day,
            "band": band, "score": score,
        });
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
            data.extend(extra.clone());
        }
        data
    };
    let Some(last) = last else {
        // First seen: the starting point, nothing to tell.
        let watch = HealthWatch {
            account_id: account_id.to_string(),
            band: band.clone(),
            score,
            peak: score,
        };
        return (watch, events);
    };
    if last.band != band {
        events.push(Event {
            kind: HEALTH_BAND_CHANGED,
            account_id: account_id.to_string(),
            data: base(json!({
                "from_band": last.band, "to_band": band, "previous_score": last.score,
            })),
        });
    }
    let mut peak = match (last.peak, score) {
        (Some(peak), Some(score)) => Some(peak.max(score)),
        (peak, score) => score.or(peak),
    };
    if let (Some(high), Some(now)) = (peak, score) {
        if high - now >= DROP_POINTS {
            events.push(Event {
                kind: HEALTH_DROPPED,
                account_id: account_id.to_string(),
                data: base(json!({ "from_score": high })),
            });
            peak = Some(now);
        }
    }
    let watch = HealthWatch {
        account_id: account_id.to_string(),
        band,
        score,
        peak,
    };
    (watch, events)
}

fn outbox_rows(
    subscriptions: &[WebhookSubscription],
    events: Vec<Event>,
    now: DateTime<Utc>,
    queued_at: DateTime<Utc>,
) -> Vec<NewDelivery> {
    let mut rows = Vec::new();
    for event in events {
        let message_id = format!("msg_{}", hex_id());
        let payload = json!({
            "type": event.kind,
            "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": event.data,
        })
        .to_string();
        for subscription in subscriptions {
            if subscription.event_types.iter().any(|t| t == event.kind) {
                rows.push(NewDelivery {
                    subscription_id: subscription.id.clone(),
                    message_id: message_id.clone(),
                    event_type: event.kind.to_string(),
                    account_id: event.account_id.clone(),
                    payload: payload.clone(),
                    created_at: queued_at,
                });
            }
        }
    }
    rows
}

fn hex_id() -> String {
    random_bytes(12)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_url(field: &str, url: &str) -> Result<String, AppError> {
    let url = url.trim();
    let parsed =
        url::Url::parse(url).map_err(|e| AppError::invalid(field, format!("is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(AppError::invalid(field, "must be an http or https URL"));
    }
    Ok(url.to_string())
}

fn check_event_types(field: &str, types: &[String]) -> Result<Vec<String>, AppError> {
    if types.is_empty() {
        return Err(AppError::invalid(
            field,
            format!("must name at least one of {}", EVENT_TYPES.join(", ")),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, kind) in types.iter().enumerate() {
        if !EVENT_TYPES.contains(&kind.as_str()) {
            return Err(AppError::invalid(
                format!("{field}/{i}"),
                format!(
                    "unknown event type {kind:?}; known: {}",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        if !out.contains(kind) {
            out.push(kind.clone());
        }
    }
    Ok(out)
}

impl App {
    /// Every subscription (secrets included: the wire hides them).
    pub async fn webhooks(&self, actor: &Actor) -> Result<Vec<WebhookSubscription>, AppError> {
        authorize(actor, Action::ManageWebhooks)?;
        Ok(self.store().webhook_subscriptions().await?)
    }

    pub async fn webhook(&self, actor: &Actor, id: &str) -> Result<WebhookSubscription, AppError> {
        authorize(actor, Action::ManageWebhooks)?;
        self.store()
            .webhook_subscription(id)
            .await?
            .ok_or_else(|| AppError::not_found("webhook", id))
    }

    /// Subscribes `new.url` to events; the secret is made here and shown once.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        new: &NewWebhook,
    ) -> Result<WebhookSubscription, AppError> {
        authorize(actor, Action::ManageWebhooks)?;
        let url = check_url("/url", &new.url)?;
        let event_types = check_event_types("/event_types", &new.event_types)?;
        let format = match &new.format {
            None => WebhookFormat::Standard,
            Some(text) => WebhookFormat::parse(text)
                .ok_or_else(|| AppError::invalid("/format", "must be standard or slack"))?,
        };
        let secret = format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(random_bytes(32))
        );
        let subscription = WebhookSubscription {
            id: format!("wh_{}", hex_id()),
            url,
            event_types,
            format: format.as_str().to_string(),
            secret,
            active: true,
            disabled_reason: None,
            failure_streak: 0,
            created_by: actor.name.clone(),
            created_at: self.now(),
        };
        let mut tx = self.store().begin().await?;
        tx.insert_webhook_subscription(&subscription).await?;
        let changes = crate::access::audit_changes(&[
            ("url", subscription.url.clone().into()),
            ("event_types", json!(subscription.event_types)),
            ("format", subscription.format.clone().into()),
        ]);
        tx.append_audit(
            self.now(),
            &actor.name,
            "webhook.create",
            &subscription.id,
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok(subscription)
    }

    pub async fn update_webhook(
        &self,
        actor: &Actor,
        id: &str,
        changes: &WebhookChanges,
    ) -> Result<WebhookSubscription, AppError> {
        authorize(actor, Action::ManageWebhooks)?;
        let mut tx = self.store().begin().await?;
        let before = tx
            .webhook_subscription(id)
            .await?
            .ok_or_else(|| AppError::not_found("webhook", id))?;
        let mut after = before.clone();
        if let Some(url) = &changes.url {
            after.url = check_url("/url", url)?;
        }
        if let Some(types) = &changes.event_types {
            after.event_types = check_event_types("/event_types", types)?;
        }
        if let Some(active) = changes.active {
            if active && !before.active {
                after.failure_streak = 0;
                after.disabled_reason = None;
            }
            after.active = active;
        }
        let mut changed = Vec::new();
        if before.url != after.url {
            changed.push(("url", json!([before.url, after.url])));
        }
        if before.event_types != after.event_types {
            changed.push((
                "event_types",
                json!([before.event_types, after.event_types]),
            ));
        }
        if before.active != after.active {
            changed.push(("active", json!([before.active, after.active])));
        }
        if changed.is_empty() {
            return Ok(after);
        }
        tx.update_webhook_subscription(&after).await?;
        tx.append_audit(
            self.now(),
            &actor.name,
            "webhook.update",
            id,
            &crate::access::audit_changes(&changed),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes a subscription and its delivery log; audited.
    pub async fn delete_webhook(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        authorize(actor, Action::ManageWebhooks)?;
        let mut tx = self.store().begin().await?;
        if !tx.delete_webhook_subscription(id).await? {
            return Err(AppError::not_found("webhook", id));
        }
        tx.append_audit(self.now(), &actor.name, "webhook.delete", id, "{}")
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A subscription's deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, AppError> {
        self.webhook(actor, id).await?;
        Ok(self
            .store()
            .webhook_deliveries(id, before, limit.max(1))
            .await?)
    }

    /// Records how an attempt at `delivery` went: delivered, retried later, or given
    /// up; the subscription's failure streak follows, and past the policy's limit the
    /// subscription is turned off (audited as tend's own doing).
    pub async fn record_delivery(
        &self,
        delivery: &WebhookDelivery,
        result: &AttemptResult,
        policy: &DeliveryPolicy,
    ) -> Result<DeliveryStatus, AppError> {
        // Deliveries go by the wall clock, as receivers check signatures against theirs.
        let now = Utc::now();
        let attempts = delivery.attempts + 1;
        let (status, http_status, error) = match result {
            AttemptResult::Delivered { http_status } => {
                (DeliveryStatus::Delivered, Some(*http_status as i64), None)
            }
            AttemptResult::Refused { http_status } => (
                DeliveryStatus::Pending,
                Some(*http_status as i64),
                Some(format!("the receiver answered {http_status}")),
            ),
            AttemptResult::Unreachable { error } => {
                (DeliveryStatus::Pending, None, Some(error.clone()))
            }
        };
        let status = if status == DeliveryStatus::Pending && attempts >= policy.max_attempts {
            DeliveryStatus::Failed
        } else {
            status
        };
        let next_attempt_at = (status == DeliveryStatus::Pending).then(|| {
            now + chrono::Duration::from_std(policy.retry_after(attempts))
                .unwrap_or(chrono::Duration::MAX)
        });
        let attempt = DeliveryAttempt {
            at: now,
            status,
            http_status,
            error,
            next_attempt_at,
        };
        let mut tx = self.store().begin().await?;
        if !tx.record_delivery_attempt(delivery.id, &attempt).await? {
            return Ok(status); // the subscription was deleted meanwhile
        }
        if let Some(mut subscription) = tx.webhook_subscription(&delivery.subscription_id).await? {
            let streak = match status {
                DeliveryStatus::Delivered => 0,
                _ => subscription.failure_streak + 1,
            };
            if streak != subscription.failure_streak {
                subscription.failure_streak = streak;
                if subscription.active && streak >= policy.disable_after {
                    subscription.active = false;
                    let reason = format!("{streak} failed attempts in a row");
                    subscription.disabled_reason = Some(reason.clone());
                    let changes = crate::access::audit_changes(&[("reason", reason.into())]);
                    tx.append_audit(now, "tend", "webhook.disable", &subscription.id, &changes)
                        .await?;
                    tracing::warn!(webhook = %subscription.id, streak, "webhook turned off after failing");
                }
                tx.update_webhook_subscription(&subscription).await?;
            }
        }
        tx.commit().await?;
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_up_to_the_longest_wait() {
        let policy = DeliveryPolicy::default();
        let waits: Vec<u64> = (1..=12).map(|n| policy.retry_after(n).as_secs()).collect();
        assert_eq!(
            waits,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
    }

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let signed = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signed.signature,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_fall_from_the_peak_is_a_drop_once() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let (first, none) = compare(None, "a", "A", Some(80.0), "green".into(), day);
        assert!(none.is_empty());
        let (second, small) = compare(Some(&first), "a", "A", Some(75.0), "green".into(), day);
        assert!(small.is_empty());
        assert_eq!(second.peak, Some(80.0));
        let (third, drop) = compare(Some(&second), "a", "A", Some(69.0), "yellow".into(), day);
        let kinds: Vec<&str> = drop.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [HEALTH_BAND_CHANGED, HEALTH_DROPPED]);
        assert_eq!(drop[1].data["from_score"], 80.0);
        let (_, again) = compare(Some(&third), "a", "A", Some(66.0), "yellow".into(), day);
        assert!(again.is_empty(), "measured from the new low");
    }
}
