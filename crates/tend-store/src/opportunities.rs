//! Expansion opportunities: what an account manager is trying to sell, where it
//! stands, and where it came from.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{on_backend, on_tx, Result, Store, Transaction};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OpportunityRecord {
    pub id: i64,
    pub account_id: String,
    pub product: String,
    pub title: String,
    /// identified, qualified, proposal, negotiation, closed_won or closed_lost.
    pub stage: String,
    pub amount_minor: i64,
    pub currency: String,
    /// Expected to close on, or closed on once won or lost.
    pub close_on: NaiveDate,
    pub owner: Option<String>,
    /// playbook, signal or manual.
    pub source: String,
    /// The signal or playbook's name, or what the gap was.
    pub source_detail: Option<String>,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, account_id, product, title, stage, amount_minor, currency, close_on, \
     owner, source, source_detail, note, created_by, created_at, updated_at";

impl Store {
    pub async fn opportunity(&self, id: i64) -> Result<Option<OpportunityRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM opportunities WHERE id = $1");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Opportunities, newest first, of an account and a stage when given.
    pub async fn opportunities(
        &self,
        account_id: Option<&str>,
        stage: Option<&str>,
    ) -> Result<Vec<OpportunityRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM opportunities WHERE ($1 IS NULL OR account_id = $1) \
             AND ($2 IS NULL OR stage = $2) ORDER BY id DESC"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(account_id).bind(stage).fetch_all(pool).await?
        }))
    }
}

impl Transaction {
    /// Stores a new opportunity (its `id` is ignored) and returns its id.
    pub async fn insert_opportunity(&mut self, o: &OpportunityRecord) -> Result<i64> {
        let sql = "INSERT INTO opportunities (account_id, product, title, stage, amount_minor, \
             currency, close_on, owner, source, source_detail, note, created_by, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             RETURNING id";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(sql)
                .bind(&o.account_id)
                .bind(&o.product)
                .bind(&o.title)
                .bind(&o.stage)
                .bind(o.amount_minor)
                .bind(&o.currency)
                .bind(o.close_on)
                .bind(&o.owner)
                .bind(&o.source)
                .bind(&o.source_detail)
                .bind(&o.note)
                .bind(&o.created_by)
                .bind(o.created_at)
                .bind(o.updated_at)
                .fetch_one(&mut **conn)
                .await?
        }))
    }

    /// Writes an opportunity's changeable fields; false when it is gone.
    pub async fn update_opportunity(&mut self, o: &OpportunityRecord) -> Result<bool> {
        let sql = "UPDATE opportunities SET title = $2, stage = $3, amount_minor = $4, \
             currency = $5, close_on = $6, owner = $7, note = $8, updated_at = $9 WHERE id = $1";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(o.id)
                .bind(&o.title)
                .bind(&o.stage)
                .bind(o.amount_minor)
                .bind(&o.currency)
                .bind(o.close_on)
                .bind(&o.owner)
                .bind(&o.note)
                .bind(o.updated_at)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        }) == 1)
    }
}
