//! Success plans (objectives and milestones) and lifecycle stages with the day each
//! was entered.

use chrono::NaiveDate;

use crate::{on_backend, on_tx, Result, Store, Transaction};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ObjectiveRecord {
    pub id: String,
    pub account_id: String,
    pub title: String,
    /// The success criteria agreed with the customer.
    pub criteria: String,
    pub status: String,
    pub created_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MilestoneRecord {
    pub id: String,
    pub account_id: String,
    pub objective_id: Option<String>,
    pub title: String,
    /// `onboarding`, `value` (its done day is time to value) or `adoption`.
    pub kind: String,
    pub due_on: NaiveDate,
    pub owner: Option<String>,
    pub status: String,
    pub done_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StageRecord {
    pub account_id: String,
    pub stage: String,
    pub entered_on: NaiveDate,
}

const OBJECTIVE_COLUMNS: &str = "id, account_id, title, criteria, status, created_on";
const MILESTONE_COLUMNS: &str =
    "id, account_id, objective_id, title, kind, due_on, owner, status, done_on";

impl Store {
    pub async fn objectives_of(&self, account_id: &str) -> Result<Vec<ObjectiveRecord>> {
        let sql =
            format!("SELECT {OBJECTIVE_COLUMNS} FROM objectives WHERE account_id = $1 ORDER BY id");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(account_id).fetch_all(pool).await?
        }))
    }

    /// The milestones of accounts `first..=last`, by account and due day.
    pub async fn milestones_between(
        &self,
        first: &str,
        last: &str,
    ) -> Result<Vec<MilestoneRecord>> {
        let sql = format!(
            "SELECT {MILESTONE_COLUMNS} FROM milestones WHERE account_id >= $1 \
             AND account_id <= $2 ORDER BY account_id, due_on, id"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(first).bind(last).fetch_all(pool).await?
        }))
    }

    pub async fn objective(&self, id: &str) -> Result<Option<ObjectiveRecord>> {
        let sql = format!("SELECT {OBJECTIVE_COLUMNS} FROM objectives WHERE id = $1");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Milestones of `kind` not done and due before `day`, soonest due first, at most
    /// `limit`: of the accounts `owner` is CSM or account manager of, or owned by
    /// them; each with its account's name.
    pub async fn overdue_milestones_of(
        &self,
        owner: &str,
        kind: &str,
        day: NaiveDate,
        limit: u32,
    ) -> Result<Vec<(MilestoneRecord, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            milestone: MilestoneRecord,
            account_name: String,
        }
        let columns: Vec<String> = MILESTONE_COLUMNS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect();
        let sql = format!(
            "SELECT {}, a.name AS account_name FROM milestones m \
             JOIN accounts a ON a.id = m.account_id \
             WHERE m.kind = $2 AND m.status <> 'done' AND m.due_on < $3 \
             AND (a.csm_owner = $1 OR a.am_owner = $1 OR m.owner = $1) \
             ORDER BY m.due_on, m.id LIMIT {limit}",
            columns.join(", ")
        );
        let rows: Vec<Row> = on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(owner).bind(kind).bind(day).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|r| (r.milestone, r.account_name))
            .collect())
    }

    /// Every milestone, by account and due day (time to value reads them all).
    pub async fn all_milestones(&self) -> Result<Vec<MilestoneRecord>> {
        let sql =
            format!("SELECT {MILESTONE_COLUMNS} FROM milestones ORDER BY account_id, due_on, id");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        }))
    }

    pub async fn all_objectives(&self) -> Result<Vec<ObjectiveRecord>> {
        let sql = format!("SELECT {OBJECTIVE_COLUMNS} FROM objectives ORDER BY account_id, id");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        }))
    }

    pub async fn all_stages(&self) -> Result<Vec<StageRecord>> {
        let sql = "SELECT account_id, stage, entered_on FROM lifecycle_stages \
             ORDER BY account_id, entered_on, stage";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql).fetch_all(pool).await?
        }))
    }

    /// The stages accounts `first..=last` entered, by account and day.
    pub async fn stages_between(&self, first: &str, last: &str) -> Result<Vec<StageRecord>> {
        let sql = "SELECT account_id, stage, entered_on FROM lifecycle_stages \
             WHERE account_id >= $1 AND account_id <= $2 ORDER BY account_id, entered_on, stage";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql).bind(first).bind(last).fetch_all(pool).await?
        }))
    }
}

impl Transaction {
    pub async fn upsert_objective(&mut self, row: &ObjectiveRecord) -> Result<()> {
        let sql = format!(
            "INSERT INTO objectives ({OBJECTIVE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, \
             title = excluded.title, criteria = excluded.criteria, status = excluded.status, \
             created_on = excluded.created_on"
        );
        on_tx!(&mut self.tx, conn => {
            sqlx::query(&sql)
                .bind(&row.id)
                .bind(&row.account_id)
                .bind(&row.title)
                .bind(&row.criteria)
                .bind(&row.status)
                .bind(row.created_on)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    pub async fn upsert_milestone(&mut self, row: &MilestoneRecord) -> Result<()> {
        let sql = format!(
            "INSERT INTO milestones ({MILESTONE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, \
             objective_id = excluded.objective_id, title = excluded.title, kind = excluded.kind, \
             due_on = excluded.due_on, owner = excluded.owner, status = excluded.status, \
             done_on = excluded.done_on"
        );
        on_tx!(&mut self.tx, conn => {
            sqlx::query(&sql)
                .bind(&row.id)
                .bind(&row.account_id)
                .bind(&row.objective_id)
                .bind(&row.title)
                .bind(&row.kind)
                .bind(row.due_on)
                .bind(&row.owner)
                .bind(&row.status)
                .bind(row.done_on)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    /// The account an objective belongs to, if it exists.
    pub async fn objective_account(&mut self, id: &str) -> Result<Option<String>> {
        let sql = "SELECT account_id FROM objectives WHERE id = $1";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(sql).bind(id).fetch_optional(&mut **conn).await?
        }))
    }

    pub async fn milestone(&mut self, id: &str) -> Result<Option<MilestoneRecord>> {
        let sql = format!("SELECT {MILESTONE_COLUMNS} FROM milestones WHERE id = $1");
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_as(&sql).bind(id).fetch_optional(&mut **conn).await?
        }))
    }

    /// Records that an account entered `stage` on a day (once) and sets it as the
    /// account's stage when it is the latest entered.
    pub async fn enter_stage(&mut self, row: &StageRecord) -> Result<bool> {
        let sql = "INSERT INTO lifecycle_stages (account_id, stage, entered_on) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        let inserted = on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(&row.account_id)
                .bind(&row.stage)
                .bind(row.entered_on)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        let latest = "UPDATE accounts SET lifecycle_stage = $2 WHERE id = $1 AND NOT EXISTS \
             (SELECT 1 FROM lifecycle_stages WHERE account_id = $1 AND entered_on > $3)";
        on_tx!(&mut self.tx, conn => {
            sqlx::query(latest)
                .bind(&row.account_id)
                .bind(&row.stage)
                .bind(row.entered_on)
                .execute(&mut **conn)
                .await?;
        });
        Ok(inserted == 1)
    }
}
