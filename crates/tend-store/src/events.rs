//! Bulk loading of raw usage events and the rollups derived from them.

use chrono::{Duration, NaiveDate};
use futures_util::TryStreamExt;
use tend_core::rollup::{DailyRollupBuilder, RollupEvent, ACTIVE_WINDOW_DAYS};
use tend_core::{EventType, UsageEvent};

use crate::{Result, StoreError, Transaction, TxConn};

impl Transaction {
    /// Inserts events, skipping retries: a call whose `message_id` is already stored
    /// (or repeats within `events`) for the same account on the same UTC day.
    /// Returns how many were new.
    pub async fn insert_usage_events(&mut self, events: &[UsageEvent]) -> Result<u64> {
        match &mut self.tx {
            TxConn::Sqlite(conn) => crate::sqlite_bulk::insert_events(conn, events).await,
            TxConn::Postgres(conn) => {
                // One statement per batch: the columns travel as arrays and UNNEST turns
                // them back into rows, which is far cheaper than thousands of placeholders.
                let column = |f: fn(&UsageEvent) -> &str| events.iter().map(f).collect::<Vec<_>>();
                let result = sqlx::query(
                    "INSERT INTO usage_events \
                     (message_id, account_id, type, user_id, anonymous_id, event, properties, ts, day) \
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
                     $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::date[]) \
                     ON CONFLICT DO NOTHING",
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
                .execute(&mut **conn)
                .await?;
                Ok(result.rows_affected())
            }
        }
    }

    /// Recomputes the daily rollups of one account that events on days
    /// `[first_day, last_day]` can change: those days and the 29 after them, whose
    /// 30-day active users include them. Returns the number of rollup rows written.
    pub async fn refresh_usage_rollups(
        &mut self,
        account_id: &str,
        first_day: NaiveDate,
        last_day: NaiveDate,
    ) -> Result<usize> {
        let to = last_day + Duration::days(ACTIVE_WINDOW_DAYS - 1);
        let window_from = DailyRollupBuilder::window_start(first_day);
        let mut builder = DailyRollupBuilder::new(account_id, first_day, to);
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
        self.upsert_usage_daily(&rollups).await?;
        Ok(rollups.len())
    }
}
