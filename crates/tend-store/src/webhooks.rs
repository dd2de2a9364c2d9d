//! Outbound webhooks: subscriptions, the outbox of deliveries (which is also their
//! log), and the health each account's events were last computed against.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{on_backend, on_tx, Result, Store, StoreError, Transaction};

/// Where events of some types are sent, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSubscription {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    /// `standard` (Standard Webhooks JSON) or `slack` (an incoming-webhook message).
    pub format: String,
    /// `whsec_` and the base64 key every delivery is signed with.
    pub secret: String,
    pub active: bool,
    /// Why tend turned it off, when it did (a long failure streak).
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row, reset by a delivery.
    pub failure_streak: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Whether a delivery still waits, arrived, or was given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One event for one subscription: in the outbox while pending, then in its log.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub subscription_id: String,
    /// The `webhook-id` header: the same on every attempt, so receivers can dedupe.
    pub message_id: String,
    pub event_type: String,
    pub account_id: String,
    /// The event as JSON.
    pub payload: String,
    pub created_at: DateTime<Utc>,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status on the last attempt, if it answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// An event to send to one subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    pub subscription_id: String,
    pub message_id: String,
    pub event_type: String,
    pub account_id: String,
    pub payload: String,
    pub created_at: DateTime<Utc>,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttempt {
    pub at: DateTime<Utc>,
    pub status: DeliveryStatus,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    /// When to try again (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// The health an account's events were last computed against.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthWatch {
    pub account_id: String,
    pub band: String,
    pub score: Option<f64>,
    /// The highest score since the last drop was told.
    pub peak: Option<f64>,
}

type SubscriptionRow = (
    String,
    String,
    String,
    String,
    String,
    bool,
    Option<String>,
    i64,
    String,
    DateTime<Utc>,
);

fn subscription(row: SubscriptionRow) -> Result<WebhookSubscription> {
    let (id, url, types, format, secret, active, disabled_reason, streak, by, at) = row;
    let event_types = serde_json::from_str(&types).map_err(|e| StoreError::Corrupt {
        table: "webhook_subscriptions",
        id: id.clone(),
        reason: e.to_string(),
    })?;
    Ok(WebhookSubscription {
        id,
        url,
        event_types,
        format,
        secret,
        active,
        disabled_reason,
        failure_streak: streak,
        created_by: by,
        created_at: at,
    })
}

const SUBSCRIPTION_COLUMNS: &str = "id, url, event_types, format, secret, active, \
     disabled_reason, failure_streak, created_by, created_at";

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    subscription_id: String,
    message_id: String,
    event_type: String,
    account_id: String,
    payload: String,
    created_at: DateTime<Utc>,
    status: String,
    attempts: i64,
    next_attempt_at: Option<DateTime<Utc>>,
    last_attempt_at: Option<DateTime<Utc>>,
    last_status: Option<i64>,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
}

impl DeliveryRow {
    fn into_delivery(self) -> Result<WebhookDelivery> {
        let status = DeliveryStatus::parse(&self.status).ok_or_else(|| StoreError::Corrupt {
            table: "webhook_deliveries",
            id: self.id.to_string(),
            reason: format!("unknown status {:?}", self.status),
        })?;
        Ok(WebhookDelivery {
            id: self.id,
            subscription_id: self.subscription_id,
            message_id: self.message_id,
            event_type: self.event_type,
            account_id: self.account_id,
            payload: self.payload,
            created_at: self.created_at,
            status,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_attempt_at: self.last_attempt_at,
            last_status: self.last_status,
            last_error: self.last_error,
            delivered_at: self.delivered_at,
        })
    }
}

fn deliveries(rows: Vec<DeliveryRow>) -> Result<Vec<WebhookDelivery>> {
    rows.into_iter().map(DeliveryRow::into_delivery).collect()
}

/// Rows per INSERT, under both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 1000;

impl Store {
    /// Every subscription, by id.
    pub async fn webhook_subscriptions(&self) -> Result<Vec<WebhookSubscription>> {
        let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions ORDER BY id");
        let rows: Vec<SubscriptionRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter().map(subscription).collect()
    }

    pub async fn webhook_subscription(&self, id: &str) -> Result<Option<WebhookSubscription>> {
        let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1");
        let row: Option<SubscriptionRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.map(subscription).transpose()
    }

    /// One subscription's deliveries, newest first, those before id `before` if given.
    pub async fn webhook_deliveries(
        &self,
        subscription_id: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        let rows: Vec<DeliveryRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT * FROM webhook_deliveries WHERE subscription_id = $1 AND id < $2 \
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(subscription_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        deliveries(rows)
    }

    /// Pending deliveries of active subscriptions due by `now`, oldest first, at most
    /// `limit`; only the oldest pending one per subscription and account, so each
    /// receiver gets an account's events in order.
    pub async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>> {
        let rows: Vec<DeliveryRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT d.* FROM webhook_deliveries d \
                 JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.active \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                     WHERE e.status = 'pending' AND e.subscription_id = d.subscription_id \
                     AND e.account_id = d.account_id AND e.id < d.id) \
                 ORDER BY d.id LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        deliveries(rows)
    }

    /// Pending deliveries of active subscriptions, and when the oldest was created.
    pub async fn delivery_backlog(&self) -> Result<(i64, Option<DateTime<Utc>>)> {
        let row: (i64, Option<DateTime<Utc>>) = on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), MIN(d.created_at) FROM webhook_deliveries d \
                 JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.active \
                 WHERE d.status = 'pending'",
            )
            .fetch_one(pool)
            .await?
        });
        Ok(row)
    }
}

impl Transaction {
    pub async fn insert_webhook_subscription(&mut self, s: &WebhookSubscription) -> Result<()> {
        let types = serde_json::to_string(&s.event_types).expect("strings serialize");
        on_tx!(&mut self.tx, conn => {
            sqlx::query(&format!(
                "INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(&s.id)
            .bind(&s.url)
            .bind(&types)
            .bind(&s.format)
            .bind(&s.secret)
            .bind(s.active)
            .bind(&s.disabled_reason)
            .bind(s.failure_streak)
            .bind(&s.created_by)
            .bind(s.created_at)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Writes what may change of a subscription: URL, event types, whether it is
    /// active and why not, and its failure streak.
    pub async fn update_webhook_subscription(&mut self, s: &WebhookSubscription) -> Result<()> {
        let types = serde_json::to_string(&s.event_types).expect("strings serialize");
        on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE webhook_subscriptions SET url = $2, event_types = $3, active = $4, \
                 disabled_reason = $5, failure_streak = $6 WHERE id = $1",
            )
            .bind(&s.id)
            .bind(&s.url)
            .bind(&types)
            .bind(s.active)
            .bind(&s.disabled_reason)
            .bind(s.failure_streak)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Removes a subscription and its deliveries; `false` if there was none.
    pub async fn delete_webhook_subscription(&mut self, id: &str) -> Result<bool> {
        let deleted = on_tx!(&mut self.tx, conn => {
            sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id = $1")
                .bind(id)
                .execute(&mut **conn)
                .await?;
            sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1")
                .bind(id)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        Ok(deleted == 1)
    }

    /// Puts deliveries in the outbox, due at `due_at`.
    pub async fn insert_webhook_deliveries(
        &mut self,
        rows: &[NewDelivery],
        due_at: DateTime<Utc>,
    ) -> Result<()> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT / 4) {
            on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(
                    "INSERT INTO webhook_deliveries (subscription_id, message_id, event_type, \
                     account_id, payload, created_at, status, next_attempt_at) ",
                );
                builder.push_values(chunk, |mut row, d| {
                    row.push_bind(&d.subscription_id)
                        .push_bind(&d.message_id)
                        .push_bind(&d.event_type)
                        .push_bind(&d.account_id)
                        .push_bind(&d.payload)
                        .push_bind(d.created_at)
                        .push_bind(DeliveryStatus::Pending.as_str())
                        .push_bind(due_at);
                });
                builder.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }

    /// Records an attempt at delivery `id`; `false` if the delivery is gone.
    pub async fn record_delivery_attempt(
        &mut self,
        id: i64,
        attempt: &DeliveryAttempt,
    ) -> Result<bool> {
        let delivered_at = (attempt.status == DeliveryStatus::Delivered).then_some(attempt.at);
        let updated = on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, \
                 last_attempt_at = $3, last_status = $4, last_error = $5, \
                 next_attempt_at = $6, delivered_at = $7 WHERE id = $1",
            )
            .bind(id)
            .bind(attempt.status.as_str())
            .bind(attempt.at)
            .bind(attempt.http_status)
            .bind(&attempt.error)
            .bind(attempt.next_attempt_at)
            .bind(delivered_at)
            .execute(&mut **conn)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Subscription `id`, read in this transaction.
    pub async fn webhook_subscription(&mut self, id: &str) -> Result<Option<WebhookSubscription>> {
        let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1");
        let row: Option<SubscriptionRow> = on_tx!(&mut self.tx, conn => {
            sqlx::query_as(&sql).bind(id).fetch_optional(&mut **conn).await?
        });
        row.map(subscription).transpose()
    }

    /// Active subscriptions, by id.
    pub async fn active_webhook_subscriptions(&mut self) -> Result<Vec<WebhookSubscription>> {
        let sql = format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE active ORDER BY id"
        );
        let rows: Vec<SubscriptionRow> = on_tx!(&mut self.tx, conn => {
            sqlx::query_as(&sql).fetch_all(&mut **conn).await?
        });
        rows.into_iter().map(subscription).collect()
    }

    /// The name of each of `accounts` that is stored, with its overall score and band
    /// on `day` where it has a snapshot then.
    pub async fn account_headlines(
        &mut self,
        accounts: &[&str],
        day: Option<NaiveDate>,
    ) -> Result<Vec<(String, String, Option<f64>, Option<String>)>> {
        let mut all = Vec::new();
        for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<(String, String, Option<f64>, Option<String>)> = on_tx!(&mut self.tx, conn => {
                // With no day the join matches nothing (`= NULL`), leaving the names.
                let mut builder = sqlx::QueryBuilder::new(
                    "SELECT a.id, a.name, h.overall, h.band FROM accounts a \
                     LEFT JOIN health_snapshots h ON h.account_id = a.id AND h.day = ",
                );
                builder.push_bind(day).push(" WHERE a.id IN (");
                let mut list = builder.separated(", ");
                for account in chunk {
                    list.push_bind(*account);
                }
                builder.push(")");
                builder.build_query_as().fetch_all(&mut **conn).await?
            });
            all.extend(rows);
        }
        Ok(all)
    }

    /// What the events of `accounts` were last computed against.
    pub async fn health_watch_of(&mut self, accounts: &[&str]) -> Result<Vec<HealthWatch>> {
        let mut all = Vec::new();
        for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<(String, String, Option<f64>, Option<f64>)> = on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(
                    "SELECT account_id, band, score, peak FROM health_watch WHERE account_id IN (",
                );
                let mut list = builder.separated(", ");
                for account in chunk {
                    list.push_bind(*account);
                }
                builder.push(")");
                builder.build_query_as().fetch_all(&mut **conn).await?
            });
            all.extend(
                rows.into_iter()
                    .map(|(account_id, band, score, peak)| HealthWatch {
                        account_id,
                        band,
                        score,
                        peak,
                    }),
            );
        }
        Ok(all)
    }

    pub async fn upsert_health_watch(&mut self, rows: &[HealthWatch]) -> Result<()> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT / 4) {
            on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(
                    "INSERT INTO health_watch (account_id, band, score, peak) ",
                );
                builder.push_values(chunk, |mut row, w| {
                    row.push_bind(&w.account_id)
                        .push_bind(&w.band)
                        .push_bind(w.score)
                        .push_bind(w.peak);
                });
                builder.push(
                    " ON CONFLICT (account_id) DO UPDATE SET band = excluded.band, \
                     score = excluded.score, peak = excluded.peak",
                );
                builder.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }
}
