//! Event sources and their write keys (stored only as hashes, which the engine
//! computes), and the lookups that tie one batch of Segment calls to accounts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tend_core::access::Source;

use crate::{on_backend, on_tx, Result, Store, Transaction};

type SourceRow = (String, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

const SOURCE_COLUMNS: &str = "id, name, created_by, created_at, revoked_at";

fn source((id, name, created_by, created_at, revoked_at): SourceRow) -> Source {
    Source {
        id,
        name,
        created_by,
        created_at,
        revoked_at,
    }
}

/// `$1, $2, …` for `n` parameters.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parameters per lookup: under both backends' limits.
const KEYS_PER_STATEMENT: usize = 1000;

impl Store {
    /// Every source (revoked ones too), newest first.
    pub async fn sources(&self) -> Result<Vec<Source>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources ORDER BY created_at DESC, id");
        let rows: Vec<SourceRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(source).collect())
    }

    /// The source whose write key hashes to `key_hash`.
    pub async fn source_by_key_hash(&self, key_hash: &str) -> Result<Option<Source>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM sources WHERE key_hash = $1");
        let row: Option<SourceRow> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(key_hash).fetch_optional(pool).await?
        });
        Ok(row.map(source))
    }
}

impl Transaction {
    pub async fn insert_source(&mut self, source: &Source, key_hash: &str) -> Result<()> {
        on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO sources (id, name, key_hash, created_by, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&source.id)
            .bind(&source.name)
            .bind(key_hash)
            .bind(&source.created_by)
            .bind(source.created_at)
            .bind(source.revoked_at)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// Revokes a source at `at`; `None` for an unknown id, else whether it was
    /// already revoked.
    pub async fn revoke_source(&mut self, id: &str, at: DateTime<Utc>) -> Result<Option<bool>> {
        self.revoke_row("sources", id, at).await
    }

    /// Of `ids`, those that are stored accounts.
    pub async fn known_accounts(&mut self, ids: &[&str]) -> Result<Vec<String>> {
        let pairs = self
            .lookup("SELECT id, id FROM accounts WHERE id IN", ids)
            .await?;
        Ok(pairs.into_iter().map(|(id, _)| id).collect())
    }

    /// The accounts `users` (user keys) are tied to, those that are.
    pub async fn links_of(&mut self, users: &[&str]) -> Result<HashMap<String, String>> {
        let sql = "SELECT user_key, account_id FROM usage_users WHERE user_key IN";
        Ok(self.lookup(sql, users).await?.into_iter().collect())
    }

    /// The account of the contact with each of `emails` (lower case), where one has
    /// it.
    pub async fn accounts_by_email(&mut self, emails: &[&str]) -> Result<HashMap<String, String>> {
        let sql = "SELECT lower(email), account_id FROM contacts WHERE lower(email) IN";
        Ok(self.lookup(sql, emails).await?.into_iter().collect())
    }

    /// Pairs `sql` (ending in `IN`) selects for `keys`, a chunk at a time.
    async fn lookup(&mut self, sql: &str, keys: &[&str]) -> Result<Vec<(String, String)>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(KEYS_PER_STATEMENT) {
            let sql = format!("{sql} ({})", placeholders(chunk.len()));
            let rows: Vec<(String, String)> = on_tx!(&mut self.tx, conn => {
                let mut query = sqlx::query_as(&sql);
                for key in chunk {
                    query = query.bind(*key);
                }
                query.fetch_all(&mut **conn).await?
            });
            found.extend(rows);
        }
        Ok(found)
    }
}
