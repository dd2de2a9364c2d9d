//! Segment users tied to accounts, and the calls of users not tied to one yet.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tend_core::{EventType, SegmentCall};

use crate::{on_backend, on_tx, Result, Store, StoreError, Transaction};

/// Rows per INSERT: 1,000 rows of 7 columns stay under both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 1000;

/// How a user came to be tied to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkedBy {
    /// A `group` call with the user and the account's id.
    Group,
    /// An `identify` call whose email is one of the account's contacts.
    Email,
    /// An `alias` call naming a user already tied to the account.
    Alias,
}

impl LinkedBy {
    fn as_str(self) -> &'static str {
        match self {
            LinkedBy::Group => "group",
            LinkedBy::Email => "email",
            LinkedBy::Alias => "alias",
        }
    }
}

/// A user (Segment `userId`, or `anonymousId` for anonymous group calls) tied to an
/// account from `linked_at` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLink {
    pub user_key: String,
    pub account_id: String,
    pub linked_at: DateTime<Utc>,
    pub linked_by: LinkedBy,
}

impl Store {
    /// Every call waiting for its user to be tied to an account, by user and id.
    pub async fn pending_calls(&self) -> Result<Vec<SegmentCall>> {
        let rows: Vec<PendingRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT user_id, message_id, ts, type, anonymous_id, event, properties \
                 FROM usage_pending ORDER BY user_id, message_id",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(pending_call).collect()
    }

    /// Every linked user and the account it is tied to.
    pub async fn user_links(&self) -> Result<HashMap<String, String>> {
        let rows: Vec<(String, String)> = on_backend!(&self.pool, pool => {
            sqlx::query_as("SELECT user_key, account_id FROM usage_users")
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().collect())
    }
}

impl Transaction {
    /// How many calls wait for their user to be tied to an account.
    pub async fn pending_call_count(&mut self) -> Result<i64> {
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar("SELECT COUNT(*) FROM usage_pending")
                .fetch_one(&mut **conn)
                .await?
        }))
    }

    /// Ties users to accounts; a user already tied keeps the later of the two links.
    pub async fn upsert_user_links(&mut self, links: &[UserLink]) -> Result<()> {
        for chunk in links.chunks(ROWS_PER_STATEMENT) {
            on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(
                    "INSERT INTO usage_users (user_key, account_id, linked_at, linked_by) ",
                );
                builder.push_values(chunk, |mut b, link| {
                    b.push_bind(link.user_key.as_str())
                        .push_bind(link.account_id.as_str())
                        .push_bind(link.linked_at)
                        .push_bind(link.linked_by.as_str());
                });
                builder.push(
                    " ON CONFLICT (user_key) DO UPDATE SET account_id = excluded.account_id, \
                     linked_at = excluded.linked_at, linked_by = excluded.linked_by \
                     WHERE excluded.linked_at >= usage_users.linked_at",
                );
                builder.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }

    /// Keeps calls whose user is not tied to an account yet (each must have a user
    /// id); a call already kept is skipped. Returns how many were new.
    pub async fn insert_pending_calls(&mut self, calls: &[SegmentCall]) -> Result<u64> {
        let mut new = 0;
        for chunk in calls.chunks(ROWS_PER_STATEMENT) {
            on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(
                    "INSERT INTO usage_pending \
                     (user_id, message_id, ts, type, anonymous_id, event, properties) ",
                );
                builder.push_values(chunk, |mut b, call| {
                    b.push_bind(call.user_id.as_deref().unwrap_or_default())
                        .push_bind(call.message_id.as_str())
                        .push_bind(call.timestamp)
                        .push_bind(call.kind.as_str())
                        .push_bind(call.anonymous_id.as_deref())
                        .push_bind(call.event.as_str())
                        .push_bind(call.properties.as_str());
                });
                builder.push(" ON CONFLICT DO NOTHING");
                new += builder.build().execute(&mut **conn).await?.rows_affected();
            });
        }
        Ok(new)
    }

    /// Removes and returns the kept calls of `user_id`, in time order.
    pub async fn take_pending_calls(&mut self, user_id: &str) -> Result<Vec<SegmentCall>> {
        let rows: Vec<PendingRow> = on_tx!(&mut self.tx, conn => {
            let rows = sqlx::query_as(
                "SELECT user_id, message_id, ts, type, anonymous_id, event, properties \
                 FROM usage_pending WHERE user_id = $1 ORDER BY ts, message_id",
            )
            .bind(user_id)
            .fetch_all(&mut **conn)
            .await?;
            sqlx::query("DELETE FROM usage_pending WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut **conn)
                .await?;
            rows
        });
        rows.into_iter().map(pending_call).collect()
    }
}

/// A `usage_pending` row: user, message id, time, type, anonymous id, event, properties.
type PendingRow = (
    String,
    String,
    DateTime<Utc>,
    String,
    Option<String>,
    String,
    String,
);

fn pending_call(row: PendingRow) -> Result<SegmentCall> {
    let (user_id, message_id, timestamp, kind, anonymous_id, event, properties) = row;
    let kind = EventType::parse(&kind).map_err(|e| StoreError::Corrupt {
        table: "usage_pending",
        id: message_id.clone(),
        reason: e.0,
    })?;
    Ok(SegmentCall {
        group_id: None,
        email: None,
        message_id,
        kind,
        user_id: Some(user_id),
        anonymous_id,
        event,
        properties,
        timestamp,
    })
}
