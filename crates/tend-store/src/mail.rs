//! The email outbox: emails playbooks decided to send, written in the transaction that
//! decided them, sent and retried from here by the server, and kept as their log.

use chrono::{DateTime, Utc};

use crate::{on_backend, on_tx, Result, Store, Transaction};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EmailRecord {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub account_id: String,
    pub playbook: String,
    pub created_at: DateTime<Utc>,
    /// `pending`, `sent` or `failed` (given up).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEmail {
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub account_id: String,
    pub playbook: String,
}

const COLUMNS: &str = "id, to_address, subject, body, account_id, playbook, created_at, status, \
     attempts, next_attempt_at, last_error, sent_at";

impl Store {
    /// Pending emails due by `now`, oldest first.
    pub async fn due_emails(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<EmailRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM email_outbox WHERE status = 'pending' \
             AND (next_attempt_at IS NULL OR next_attempt_at <= $1) ORDER BY id LIMIT $2"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(now).bind(limit).fetch_all(pool).await?
        }))
    }

    /// The newest emails first, before id `before`.
    pub async fn emails(&self, before: Option<i64>, limit: i64) -> Result<Vec<EmailRecord>> {
        let sql =
            format!("SELECT {COLUMNS} FROM email_outbox WHERE id < $1 ORDER BY id DESC LIMIT $2");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql)
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }
}

impl Transaction {
    pub async fn insert_emails(&mut self, rows: &[NewEmail], at: DateTime<Utc>) -> Result<()> {
        let sql = "INSERT INTO email_outbox (to_address, subject, body, account_id, playbook, \
             created_at, status) VALUES ($1, $2, $3, $4, $5, $6, 'pending')";
        for row in rows {
            on_tx!(&mut self.tx, conn => {
                sqlx::query(sql)
                    .bind(&row.to_address)
                    .bind(&row.subject)
                    .bind(&row.body)
                    .bind(&row.account_id)
                    .bind(&row.playbook)
                    .bind(at)
                    .execute(&mut **conn)
                    .await?;
            });
        }
        Ok(())
    }

    /// Records an attempt: sent (`next_attempt_at` none and no error), retried later,
    /// or given up (`status` failed).
    pub async fn record_email_attempt(
        &mut self,
        id: i64,
        status: &str,
        at: DateTime<Utc>,
        next_attempt_at: Option<DateTime<Utc>>,
        error: Option<&str>,
    ) -> Result<()> {
        let sql = "UPDATE email_outbox SET status = $2, attempts = attempts + 1, \
             next_attempt_at = $3, last_error = $4, \
             sent_at = CASE WHEN $2 = 'sent' THEN $5 ELSE sent_at END WHERE id = $1";
        on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(id)
                .bind(status)
                .bind(next_attempt_at)
                .bind(error)
                .bind(at)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }
}
