//! The durable queue of account changes (`account_changes`): recorded in the
//! transaction that makes the change, read in order by what reacts to it, and marked
//! once handled.

use chrono::{DateTime, Utc};

use crate::{on_backend, on_tx, Result, Store, Transaction};

/// One account changed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountChange {
    pub id: i64,
    pub account_id: String,
    /// What changed it: `segment` (live calls), `import`, …
    pub reason: String,
    pub changed_at: DateTime<Utc>,
}

/// A row of `account_changes`: id, account, reason, recorded, handled.
type ChangeRow = (i64, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

/// Rows per INSERT, under both backends' parameter limits.
const ROWS_PER_STATEMENT: usize = 1000;

impl Transaction {
    /// Records that `accounts` changed for `reason` at `at`.
    pub async fn record_changes(
        &mut self,
        accounts: &[&str],
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.changes_data();
        for chunk in accounts.chunks(ROWS_PER_STATEMENT) {
            on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(
                    "INSERT INTO account_changes (account_id, reason, changed_at) ",
                );
                builder.push_values(chunk, |mut row, account| {
                    row.push_bind(*account).push_bind(reason).push_bind(at);
                });
                builder.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }

    /// Marks those of the changes `ids` not handled yet as handled at `at`, and
    /// returns their ids: what this transaction may act on. By id, not by range: on
    /// PostgreSQL a lower id may commit after a higher one was read. A change another
    /// process marked meanwhile is not returned, so two never act on one change.
    pub async fn mark_changes_processed(
        &mut self,
        ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        let mut marked = Vec::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "UPDATE account_changes SET processed_at = $1 \
                 WHERE id IN ({}) AND processed_at IS NULL RETURNING id",
                list.join(", ")
            );
            let rows: Vec<i64> = on_tx!(&mut self.tx, conn => {
                sqlx::query_scalar(&sql).bind(at).fetch_all(&mut **conn).await?
            });
            marked.extend(rows);
        }
        Ok(marked)
    }
}

impl Store {
    /// The oldest changes not handled yet, at most `limit`, in the order recorded.
    pub async fn waiting_changes(&self, limit: u32) -> Result<Vec<AccountChange>> {
        let sql = format!(
            "SELECT id, account_id, reason, changed_at FROM account_changes \
             WHERE processed_at IS NULL ORDER BY id LIMIT {limit}"
        );
        let rows: Vec<(i64, String, String, DateTime<Utc>)> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, account_id, reason, changed_at)| AccountChange {
                id,
                account_id,
                reason,
                changed_at,
            })
            .collect())
    }

    /// Every change recorded for `account_id`, in order, with when each was handled.
    pub async fn changes_of(
        &self,
        account_id: &str,
    ) -> Result<Vec<(AccountChange, Option<DateTime<Utc>>)>> {
        let rows: Vec<ChangeRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT id, account_id, reason, changed_at, processed_at FROM account_changes \
                 WHERE account_id = $1 ORDER BY id",
            )
            .bind(account_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, account_id, reason, changed_at, processed_at)| {
                let change = AccountChange {
                    id,
                    account_id,
                    reason,
                    changed_at,
                };
                (change, processed_at)
            })
            .collect())
    }

    /// How many changes wait, and when the oldest of them was recorded.
    pub async fn change_backlog(&self) -> Result<(i64, Option<DateTime<Utc>>)> {
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), MIN(changed_at) FROM account_changes WHERE processed_at IS NULL",
            )
            .fetch_one(pool)
            .await?
        }))
    }
}
