//! Bulk loading of raw usage events and the rollups derived from them.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate};
use futures_util::TryStreamExt;
use tend_core::rollup::{DailyRollupBuilder, RollupEvent};
use tend_core::{EventType, UsageEvent};

use crate::{Result, StoreError, StoredEvents, Transaction, TxConn};

impl Transaction {
    /// Inserts events, skipping retries: a call whose `message_id` is already stored
    /// (or repeats within `events`) for the same account on the same UTC day.
    /// Returns how many were new.
    pub async fn insert_usage_events(&mut self, events: &[UsageEvent]) -> Result<u64> {
        let stored = self.insert_usage_events_tracked(events).await?;
        Ok(stored.new.iter().filter(|new| **new).count() as u64)
    }

    /// [`Transaction::insert_usage_events`], saying which events were new and which
    /// user-days they made active (kept in `usage_user_days` either way).
    pub async fn insert_usage_events_tracked(
        &mut self,
        events: &[UsageEvent],
    ) -> Result<StoredEvents> {
        match &mut self.tx {
            TxConn::Sqlite(conn) => crate::sqlite_bulk::insert_events(conn, events).await,
            TxConn::Postgres(conn) => {
                // One statement per batch: the columns travel as arrays and UNNEST turns
                // them back into rows, which is far cheaper than thousands of placeholders.
                let column = |f: fn(&UsageEvent) -> &str| events.iter().map(f).collect::<Vec<_>>();
                let new_rows: Vec<(Option<String>, String, NaiveDate, Option<String>)> = sqlx::query_as(
                    "WITH new AS (INSERT INTO usage_events \
                     (message_id, account_id, type, user_id, anonymous_id, event, properties, ts, day) \
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
                     $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::date[]) \
                     ON CONFLICT DO NOTHING \
                     RETURNING message_id, account_id, day, type, COALESCE(user_id, anonymous_id) AS user_key), \
                     users AS (INSERT INTO usage_user_days (account_id, day, user_key) \
                     SELECT DISTINCT account_id, day, user_key FROM new \
                     WHERE type IN ('track', 'page', 'screen') AND user_key IS NOT NULL \
                     ON CONFLICT DO NOTHING RETURNING account_id, day, user_key) \
                     SELECT message_id, account_id, day, NULL::text FROM new \
                     UNION ALL SELECT NULL, account_id, day, user_key FROM users",
                )
                .bind(column(|e| &e.message_id))
                .bind(column(|e| &e.account_id))
                .bind(column(|e| e.kind.as_str()))
                .bind(
                    events
                        .iter()
                        .map(|e| e.user_id.as_deref())
                        .collect::<Vec<_>>(),
                )
                .bind(
                    events
                        .iter()
                        .map(|e| e.anonymous_id.as_deref())
                        .collect::<Vec<_>>(),
                )
                .bind(column(|e| &e.event))
                .bind(column(|e| &e.properties))
                .bind(events.iter().map(|e| e.timestamp).collect::<Vec<_>>())
                .bind(events.iter().map(|e| e.timestamp.date_naive()).collect::<Vec<_>>())
                .fetch_all(&mut **conn)
                .await?;
                let mut inserted: HashSet<(String, String, NaiveDate)> = HashSet::new();
                let mut stored = StoredEvents::default();
                for (message_id, account_id, day, user_key) in new_rows {
                    match (message_id, user_key) {
                        (Some(message_id), _) => {
                            inserted.insert((message_id, account_id, day));
                        }
                        (None, Some(user)) => stored.new_user_days.push((account_id, day, user)),
                        (None, None) => {}
                    }
                }
                // A message id repeated within the batch was inserted once: its first.
                stored.new = events
                    .iter()
                    .map(|e| {
                        let key = (
                            e.message_id.clone(),
                            e.account_id.clone(),
                            e.timestamp.date_naive(),
                        );
                        inserted.remove(&key)
                    })
                    .collect();
                Ok(stored)
            }
        }
    }

    /// Recomputes the rollups of one account's raw events for days `[from, to]`
    /// (both inclusive) into `usage_event_daily`, reading events from the 29 days
    /// before `from` on for the 30-day active users. Callers end `to` at the last day
    /// of the store's usage data, never later and never past today: a rolling window
    /// is not a row for a day that has not happened. Returns the rows written.
    pub async fn refresh_usage_rollups(
        &mut self,
        account_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<usize> {
        if to < from {
            return Ok(0);
        }
        let window_from = DailyRollupBuilder::window_start(from);
        let mut builder = DailyRollupBuilder::new(account_id, from, to);
        match &mut self.tx {
            TxConn::Sqlite(conn) => {
                crate::sqlite_bulk::feed_rollup(conn, account_id, window_from, to, &mut builder)
                    .await?
            }
            TxConn::Postgres(conn) => {
                const SQL: &str = "SELECT day, type, COALESCE(user_id, anonymous_id), event \
                                   FROM usage_events WHERE account_id = $1 AND day >= $2 AND day <= $3 \
                                   ORDER BY day";
                let mut rows =
                    sqlx::query_as::<_, (NaiveDate, String, Option<String>, String)>(SQL)
                        .bind(account_id)
                        .bind(window_from)
                        .bind(to)
                        .fetch(&mut **conn);
                while let Some((day, kind, user, event)) = rows.try_next().await? {
                    let kind = EventType::parse(&kind).map_err(|e| StoreError::Corrupt {
                        table: "usage_events",
                        id: account_id.to_string(),
                        reason: e.0,
                    })?;
                    builder.push(RollupEvent {
                        day,
                        kind,
                        user: user.as_deref(),
                        event: &event,
                    });
                }
            }
        }
        let rollups = builder.finish();
        self.upsert_daily_rows("usage_event_daily", &rollups)
            .await?;
        Ok(rollups.len())
    }

    /// After the store's data grew from `old_through` to `new_through`: carries the
    /// rollups of accounts whose raw-event users were still inside the 30-day window
    /// on `old_through` over the new days, except `skip` (accounts rolled up anew).
    /// Returns the rows written.
    pub async fn extend_usage_rollups(
        &mut self,
        old_through: NaiveDate,
        new_through: NaiveDate,
        skip: &std::collections::HashSet<String>,
    ) -> Result<usize> {
        if new_through <= old_through {
            return Ok(0);
        }
        let accounts: Vec<String> = crate::on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(
                "SELECT account_id FROM usage_event_daily \
                 WHERE day = $1 AND active_users_30d > 0 ORDER BY account_id",
            )
            .bind(old_through)
            .fetch_all(&mut **conn)
            .await?
        });
        let mut written = 0;
        let from = old_through + Duration::days(1);
        for account in accounts.iter().filter(|a| !skip.contains(*a)) {
            written += self
                .refresh_usage_rollups(account, from, new_through)
                .await?;
        }
        Ok(written)
    }
}
