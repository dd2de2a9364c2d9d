//! Churn risk: fitted models kept whole, and one risk snapshot per account and day.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{on_backend, on_tx, Result, Store, Transaction};

/// A fitted churn model as stored: what it predicts, when and on what it was fitted,
/// and its features, parameters and backtest as JSON.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RiskModelRecord {
    pub id: i64,
    /// `churn` or `non_renewal`.
    pub target: String,
    pub fitted_at: DateTime<Utc>,
    /// The last day of the data it was fitted on.
    pub as_of: NaiveDate,
    pub horizon_days: i32,
    pub kind: String,
    pub features: String,
    pub model: String,
    pub evaluation: String,
}

/// An account's risk of one target (`churn`, `non_renewal`) on a day.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RiskSnapshot {
    pub account_id: String,
    pub target: String,
    pub day: NaiveDate,
    pub model_id: i64,
    pub probability: f64,
    pub band: String,
    /// The top reasons as JSON.
    pub reasons: String,
}

const MODEL_COLUMNS: &str =
    "id, target, fitted_at, as_of, horizon_days, kind, features, model, evaluation";
const SNAPSHOT_COLUMNS: &str = "account_id, target, day, model_id, probability, band, reasons";

/// Rows per INSERT, under both backends' parameter limits (7 per row).
const ROWS_PER_STATEMENT: usize = 1000;

impl Store {
    /// The newest model of `target`: the one in use.
    pub async fn latest_risk_model(&self, target: &str) -> Result<Option<RiskModelRecord>> {
        let sql = format!(
            "SELECT {MODEL_COLUMNS} FROM risk_models WHERE target = $1 ORDER BY id DESC LIMIT 1"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(target).fetch_optional(pool).await?
        }))
    }

    /// The id of the newest model of `target`, without reading the model itself.
    pub async fn latest_risk_model_id(&self, target: &str) -> Result<Option<i64>> {
        let sql = "SELECT MAX(id) FROM risk_models WHERE target = $1";
        let id: Option<i64> = on_backend!(&self.pool, pool => {
            sqlx::query_scalar(sql).bind(target).fetch_one(pool).await?
        });
        Ok(id)
    }

    /// Every account's risk of `target` on `day`, highest first.
    pub async fn risk_snapshots_on(
        &self,
        target: &str,
        day: NaiveDate,
    ) -> Result<Vec<RiskSnapshot>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM risk_snapshots WHERE target = $1 AND day = $2 \
             ORDER BY probability DESC, account_id"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(target).bind(day).fetch_all(pool).await?
        }))
    }

    /// The risk of `target` of `ids` on `day` (those scored), by account; asked
    /// for a thousand ids at a time, within every backend's limit of parameters.
    pub async fn risk_snapshots_of(
        &self,
        target: &str,
        day: NaiveDate,
        ids: &[String],
    ) -> Result<Vec<RiskSnapshot>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(1000) {
            let list: Vec<String> = (3..3 + chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {SNAPSHOT_COLUMNS} FROM risk_snapshots WHERE target = $1 AND day = $2 \
                 AND account_id IN ({})",
                list.join(", ")
            );
            let rows: Vec<RiskSnapshot> = on_backend!(&self.pool, pool => {
                let mut q = sqlx::query_as(&sql).bind(target).bind(day);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await?
            });
            found.extend(rows);
        }
        found.sort_by(|a, b| a.account_id.cmp(&b.account_id));
        Ok(found)
    }

    /// One account's snapshots of `target`, oldest first.
    pub async fn risk_history(&self, account_id: &str, target: &str) -> Result<Vec<RiskSnapshot>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM risk_snapshots \
             WHERE account_id = $1 AND target = $2 ORDER BY day"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(account_id).bind(target).fetch_all(pool).await?
        }))
    }

    /// Risk of `target` of accounts `first..=last` on days `from..=to`: (account,
    /// day, probability, band) by account and day.
    pub async fn risk_points_between(
        &self,
        target: &str,
        (first, last): (&str, &str),
        (from, to): (NaiveDate, NaiveDate),
    ) -> Result<Vec<(String, NaiveDate, f64, String)>> {
        let sql = "SELECT account_id, day, probability, band FROM risk_snapshots \
             WHERE target = $1 AND account_id >= $2 AND account_id <= $3 AND day >= $4 \
             AND day <= $5 ORDER BY account_id, day";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql)
                .bind(target)
                .bind(first)
                .bind(last)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The latest day with snapshots of `target`.
    pub async fn latest_risk_day(&self, target: &str) -> Result<Option<NaiveDate>> {
        let sql = "SELECT MAX(day) FROM risk_snapshots WHERE target = $1";
        let day: Option<NaiveDate> = on_backend!(&self.pool, pool => {
            sqlx::query_scalar(sql).bind(target).fetch_one(pool).await?
        });
        Ok(day)
    }
}

impl Transaction {
    /// Stores a fitted model and returns its id.
    pub async fn insert_risk_model(&mut self, model: &RiskModelRecord) -> Result<i64> {
        let sql = "INSERT INTO risk_models \
             (target, fitted_at, as_of, horizon_days, kind, features, model, evaluation) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(sql)
                .bind(&model.target)
                .bind(model.fitted_at)
                .bind(model.as_of)
                .bind(model.horizon_days)
                .bind(&model.kind)
                .bind(&model.features)
                .bind(&model.model)
                .bind(&model.evaluation)
                .fetch_one(&mut **conn)
                .await?
        }))
    }

    /// Writes snapshots, replacing those of the same account, target and day.
    pub async fn upsert_risk_snapshots(&mut self, rows: &[RiskSnapshot]) -> Result<()> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(format!(
                    "INSERT INTO risk_snapshots ({SNAPSHOT_COLUMNS}) "
                ));
                builder.push_values(chunk, |mut b, s| {
                    b.push_bind(&s.account_id)
                        .push_bind(&s.target)
                        .push_bind(s.day)
                        .push_bind(s.model_id)
                        .push_bind(s.probability)
                        .push_bind(&s.band)
                        .push_bind(&s.reasons);
                });
                builder.push(
                    " ON CONFLICT (account_id, target, day) DO UPDATE SET model_id = excluded.model_id, \
                     probability = excluded.probability, band = excluded.band, \
                     reasons = excluded.reasons",
                );
                builder.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }
}
