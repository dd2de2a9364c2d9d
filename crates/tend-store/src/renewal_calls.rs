//! The owner's calls on renewals, every one kept: the latest is the renewal's call,
//! the others its history.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{on_backend, on_tx, Result, Store, Transaction};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RenewalCallRecord {
    pub id: i64,
    pub account_id: String,
    pub product: String,
    pub due_on: NaiveDate,
    /// `commit`, `best_case`, `at_risk` or `omitted`.
    pub category: String,
    /// `negotiation` or `committed`, when the call moves the renewal on.
    pub stage: Option<String>,
    pub note: Option<String>,
    /// The risk model's probability that it renews, when the call was made.
    pub model_probability: Option<f64>,
    pub made_by: String,
    pub made_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, account_id, product, due_on, category, stage, note, \
     model_probability, made_by, made_at";

impl Store {
    /// Every call, by renewal and then oldest first (the pipeline keeps the last of
    /// each renewal).
    pub async fn renewal_calls(&self) -> Result<Vec<RenewalCallRecord>> {
        let sql =
            format!("SELECT {COLUMNS} FROM renewal_calls ORDER BY account_id, product, due_on, id");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        }))
    }

    /// The calls on one renewal, oldest first.
    pub async fn renewal_calls_of(
        &self,
        account_id: &str,
        product: &str,
        due_on: NaiveDate,
    ) -> Result<Vec<RenewalCallRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM renewal_calls WHERE account_id = $1 AND product = $2 \
             AND due_on = $3 ORDER BY id"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql)
                .bind(account_id)
                .bind(product)
                .bind(due_on)
                .fetch_all(pool)
                .await?
        }))
    }
}

impl Transaction {
    /// Stores a call (its `id` is ignored) and returns its id.
    pub async fn insert_renewal_call(&mut self, call: &RenewalCallRecord) -> Result<i64> {
        let sql = "INSERT INTO renewal_calls (account_id, product, due_on, category, stage, \
             note, model_probability, made_by, made_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(sql)
                .bind(&call.account_id)
                .bind(&call.product)
                .bind(call.due_on)
                .bind(&call.category)
                .bind(&call.stage)
                .bind(&call.note)
                .bind(call.model_probability)
                .bind(&call.made_by)
                .bind(call.made_at)
                .fetch_one(&mut **conn)
                .await?
        }))
    }
}
