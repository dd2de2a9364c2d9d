//! Renewal and expansion proposals with the guardrails' verdict and a leader's
//! decision.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{on_backend, on_tx, Result, Store, Transaction};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ProposalRecord {
    pub id: i64,
    pub account_id: String,
    /// `renewal` or `expansion`.
    pub kind: String,
    /// The lines (product, seats, list price per seat) as JSON.
    pub lines: String,
    pub currency: String,
    pub discount_percent: f64,
    pub term_months: i32,
    pub payment_terms: String,
    pub start_on: NaiveDate,
    pub non_standard_terms: Option<String>,
    pub arr_minor: i64,
    /// `approved`, `pending` or `rejected`.
    pub status: String,
    /// `sales_leadership` or `cro` when it needed approval.
    pub route: Option<String>,
    /// The limits it went beyond, as JSON.
    pub breaches: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_comment: Option<String>,
}

const COLUMNS: &str = "id, account_id, kind, lines, currency, discount_percent, term_months, \
     payment_terms, start_on, non_standard_terms, arr_minor, status, route, breaches, \
     created_by, created_at, decided_by, decided_at, decision_comment";

impl Store {
    pub async fn proposal(&self, id: i64) -> Result<Option<ProposalRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM proposals WHERE id = $1");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Proposals, newest first, of a status and of an account when given.
    pub async fn proposals(
        &self,
        status: Option<&str>,
        account_id: Option<&str>,
    ) -> Result<Vec<ProposalRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM proposals WHERE ($1 IS NULL OR status = $1) \
             AND ($2 IS NULL OR account_id = $2) ORDER BY id DESC"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(status).bind(account_id).fetch_all(pool).await?
        }))
    }
}

impl Transaction {
    /// Stores a new proposal (its `id` is ignored) and returns its id.
    pub async fn insert_proposal(&mut self, p: &ProposalRecord) -> Result<i64> {
        let sql = "INSERT INTO proposals (account_id, kind, lines, currency, discount_percent, \
             term_months, payment_terms, start_on, non_standard_terms, arr_minor, status, route, \
             breaches, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(sql)
                .bind(&p.account_id)
                .bind(&p.kind)
                .bind(&p.lines)
                .bind(&p.currency)
                .bind(p.discount_percent)
                .bind(p.term_months)
                .bind(&p.payment_terms)
                .bind(p.start_on)
                .bind(&p.non_standard_terms)
                .bind(p.arr_minor)
                .bind(&p.status)
                .bind(&p.route)
                .bind(&p.breaches)
                .bind(&p.created_by)
                .bind(p.created_at)
                .fetch_one(&mut **conn)
                .await?
        }))
    }

    /// Decides a pending proposal; false when it was no longer pending (another
    /// leader decided first).
    pub async fn decide_proposal(
        &mut self,
        id: i64,
        status: &str,
        decided_by: &str,
        decided_at: DateTime<Utc>,
        comment: Option<&str>,
    ) -> Result<bool> {
        let sql = "UPDATE proposals SET status = $2, decided_by = $3, decided_at = $4, \
             decision_comment = $5 WHERE id = $1 AND status = 'pending'";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(id)
                .bind(status)
                .bind(decided_by)
                .bind(decided_at)
                .bind(comment)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        }) == 1)
    }
}
