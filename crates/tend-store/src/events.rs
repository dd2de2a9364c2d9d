//! Bulk loading of raw usage events and the rollups derived from them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::TryStreamExt;
use tend_core::rollup::{DailyRollupBuilder, RollupEvent, ACTIVE_WINDOW_DAYS};
use tend_core::{EventType, UsageEvent};

use crate::{on_tx, Result, StoreError, Transaction, TxConn};

/// Events per statement on SQLite: 8 parameters each, under its 32,766 limit.
const SQLITE_EVENTS_PER_STATEMENT: usize = 2000;

impl Transaction {
    /// Inserts events, skipping any whose `message_id` is already stored (or repeats
    /// within `events`). Returns how many were new.
    pub async fn insert_usage_events(&mut self, events: &[UsageEvent]) -> Result<u64> {
        match &mut self.tx {
            TxConn::Sqlite(conn) => {
                let mut inserted = 0;
                for chunk in events.chunks(SQLITE_EVENTS_PER_STATEMENT) {
                    let mut builder = sqlx::QueryBuilder::new(
                        "INSERT INTO usage_events \
                         (message_id, account_id, type, user_id, anonymous_id, event, properties, ts) ",
                    );
                    builder.push_values(chunk, |mut b, e| {
                        b.push_bind(e.message_id.as_str())
                            .push_bind(e.account_id.as_str())
                            .push_bind(e.kind.as_str())
                            .push_bind(e.user_id.as_deref())
                            .push_bind(e.anonymous_id.as_deref())
                            .push_bind(e.event.as_str())
                            .push_bind(e.properties.as_str())
                            .push_bind(e.timestamp);
                    });
                    builder.push(" ON CONFLICT (message_id) DO NOTHING");
                    inserted += builder.build().execute(&mut **conn).await?.rows_affected();
                }
                Ok(inserted)
            }
            TxConn::Postgres(conn) => {
                // One statement per batch: the columns travel as arrays and UNNEST turns
                // them back into rows, which is far cheaper than thousands of placeholders.
                let column = |f: fn(&UsageEvent) -> &str| events.iter().map(f).collect::<Vec<_>>();
                let result = sqlx::query(
                    "INSERT INTO usage_events \
                     (message_id, account_id, type, user_id, anonymous_id, event, properties, ts) \
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
                     $5::text[], $6::text[], $7::text[], $8::timestamptz[]) \
                     ON CONFLICT (message_id) DO NOTHING",
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
        let window_from = start_of(DailyRollupBuilder::window_start(first_day));
        let window_to = start_of(to + Duration::days(1));
        let mut builder = DailyRollupBuilder::new(account_id, first_day, to);
        const SQL: &str = "SELECT ts, type, COALESCE(user_id, anonymous_id), event \
                           FROM usage_events WHERE account_id = $1 AND ts >= $2 AND ts < $3 \
                           ORDER BY ts";
        on_tx!(&mut self.tx, conn => {
            let mut rows = sqlx::query_as::<_, (DateTime<Utc>, String, Option<String>, String)>(SQL)
                .bind(account_id)
                .bind(window_from)
                .bind(window_to)
                .fetch(&mut **conn);
            while let Some((ts, kind, user, event)) = rows.try_next().await? {
                let kind = EventType::parse(&kind).map_err(|e| StoreError::Corrupt {
                    table: "usage_events",
                    id: account_id.to_string(),
                    reason: e.0,
                })?;
                builder.push(RollupEvent { day: ts.date_naive(), kind, user, event });
            }
        });
        let rollups = builder.finish();
        self.upsert_usage_daily(&rollups).await?;
        Ok(rollups.len())
    }
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}
