//! Account plans (every save a version), the stakeholder map and the account team.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{on_backend, on_tx, Result, Store, Transaction};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AccountPlanRecord {
    pub id: i64,
    pub account_id: String,
    /// A JSON list of text.
    pub objectives: String,
    pub growth_strategy: Option<String>,
    pub target_arr_minor: Option<i64>,
    pub currency: Option<String>,
    /// A JSON list of text.
    pub risks: String,
    pub next_review_on: Option<NaiveDate>,
    pub owner: Option<String>,
    pub saved_by: String,
    pub saved_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StakeholderRecord {
    pub contact_id: String,
    pub account_id: String,
    pub influence: String,
    pub sentiment: String,
    pub strength: i32,
    pub reports_to: Option<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TeamMemberRecord {
    pub account_id: String,
    pub handle: String,
    pub role: String,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

impl Store {
    /// Every version of an account's plan, newest first.
    pub async fn account_plans(&self, account_id: &str) -> Result<Vec<AccountPlanRecord>> {
        let sql =
            "SELECT id, account_id, objectives, growth_strategy, target_arr_minor, currency, \
             risks, next_review_on, owner, saved_by, saved_at FROM account_plans \
             WHERE account_id = $1 ORDER BY id DESC";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?
        }))
    }

    pub async fn stakeholders(&self, account_id: &str) -> Result<Vec<StakeholderRecord>> {
        let sql = "SELECT contact_id, account_id, influence, sentiment, strength, reports_to, \
             updated_by, updated_at FROM stakeholders WHERE account_id = $1 ORDER BY contact_id";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?
        }))
    }

    pub async fn account_team(&self, account_id: &str) -> Result<Vec<TeamMemberRecord>> {
        let sql = "SELECT account_id, handle, role, added_by, added_at FROM account_team \
             WHERE account_id = $1 ORDER BY role, handle";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?
        }))
    }
}

impl Transaction {
    /// Stores a new version of an account plan (its `id` is ignored); returns its id.
    pub async fn insert_account_plan(&mut self, p: &AccountPlanRecord) -> Result<i64> {
        let sql = "INSERT INTO account_plans (account_id, objectives, growth_strategy, \
             target_arr_minor, currency, risks, next_review_on, owner, saved_by, saved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(sql)
                .bind(&p.account_id)
                .bind(&p.objectives)
                .bind(&p.growth_strategy)
                .bind(p.target_arr_minor)
                .bind(&p.currency)
                .bind(&p.risks)
                .bind(p.next_review_on)
                .bind(&p.owner)
                .bind(&p.saved_by)
                .bind(p.saved_at)
                .fetch_one(&mut **conn)
                .await?
        }))
    }

    /// Sets how a contact stands, replacing what was there.
    pub async fn upsert_stakeholder(&mut self, s: &StakeholderRecord) -> Result<()> {
        let sql = "INSERT INTO stakeholders (contact_id, account_id, influence, sentiment, \
             strength, reports_to, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (contact_id) DO UPDATE SET account_id = excluded.account_id, \
             influence = excluded.influence, sentiment = excluded.sentiment, \
             strength = excluded.strength, reports_to = excluded.reports_to, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at";
        on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(&s.contact_id)
                .bind(&s.account_id)
                .bind(&s.influence)
                .bind(&s.sentiment)
                .bind(s.strength)
                .bind(&s.reports_to)
                .bind(&s.updated_by)
                .bind(s.updated_at)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    /// Adds a member in a role; false when they already had it.
    pub async fn insert_team_member(&mut self, m: &TeamMemberRecord) -> Result<bool> {
        let sql = "INSERT INTO account_team (account_id, handle, role, added_by, added_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, handle, role) DO NOTHING";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(&m.account_id)
                .bind(&m.handle)
                .bind(&m.role)
                .bind(&m.added_by)
                .bind(m.added_at)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        }) == 1)
    }

    /// Takes a member off the team in a role; false when they did not have it.
    pub async fn delete_team_member(
        &mut self,
        account_id: &str,
        handle: &str,
        role: &str,
    ) -> Result<bool> {
        let sql = "DELETE FROM account_team WHERE account_id = $1 AND handle = $2 AND role = $3";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(account_id)
                .bind(handle)
                .bind(role)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        }) == 1)
    }
}
