//! Tasks (calls to action), their steps and comments. Kinds, statuses and priorities
//! are kept as the engine names them; the store only keeps the rule that an account
//! has at most one open task per playbook (a unique index, so racing writers insert
//! one task and the other insert does nothing).

use chrono::{DateTime, NaiveDate, Utc};

use crate::{on_backend, on_tx, Result, Store, Transaction};

/// The statuses of a task still to be done (the unique index lists the same).
pub const OPEN_STATUSES: [&str; 3] = ["open", "in_progress", "snoozed"];

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskRecord {
    pub id: i64,
    pub account_id: String,
    pub kind: String,
    pub title: String,
    pub description: String,
    /// The user handle it is assigned to; `None` when nobody could be.
    pub owner: Option<String>,
    pub priority: String,
    pub due_on: NaiveDate,
    pub status: String,
    pub snoozed_until: Option<NaiveDate>,
    /// Why it was snoozed, done or cancelled.
    pub status_reason: Option<String>,
    pub playbook: Option<String>,
    pub signal: Option<String>,
    /// What the signal saw, as JSON (words and the records behind it).
    pub evidence: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl TaskRecord {
    pub fn is_open(&self) -> bool {
        OPEN_STATUSES.contains(&self.status.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskStep {
    pub task_id: i64,
    pub position: i32,
    pub title: String,
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TaskComment {
    pub id: i64,
    pub task_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Which tasks a list shows; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskFilter {
    /// Tasks of any of these owners.
    pub owners: Option<Vec<String>>,
    pub account_id: Option<String>,
    /// Any of these statuses; all when `None`.
    pub statuses: Option<Vec<String>>,
    pub priorities: Option<Vec<String>>,
    /// Due on or before this day.
    pub due_by: Option<NaiveDate>,
    pub playbook: Option<String>,
    pub kind: Option<String>,
    /// Soonest due first (then by id) instead of by id; `after` is then ignored.
    pub soonest_due_first: bool,
}

/// For each account and playbook, when its last task closed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LastClosed {
    pub account_id: String,
    pub playbook: String,
    pub closed_at: DateTime<Utc>,
}

const TASK_COLUMNS: &str = "id, account_id, kind, title, description, owner, priority, due_on, \
     status, snoozed_until, status_reason, playbook, signal, evidence, created_by, created_at, \
     updated_at, closed_at";
const STEP_COLUMNS: &str = "task_id, position, title, due_on, done_at, done_by";

fn in_list(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn open_list() -> String {
    OPEN_STATUSES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    pub async fn task(&self, id: i64) -> Result<Option<TaskRecord>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Tasks matching `filter` with ids after `after`, by id (or soonest due first),
    /// at most `limit`.
    pub async fn tasks(
        &self,
        filter: &TaskFilter,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<TaskRecord>> {
        let mut clauses = vec!["id > $1".to_string()];
        let mut texts: Vec<String> = Vec::new();
        let mut list = |values: &[String], column: &str, clauses: &mut Vec<String>| {
            let first = 2 + texts.len();
            clauses.push(format!("{column} IN ({})", in_list(first, values.len())));
            texts.extend(values.iter().cloned());
        };
        if let Some(owners) = &filter.owners {
            if owners.is_empty() {
                return Ok(Vec::new());
            }
            list(owners, "owner", &mut clauses);
        }
        if let Some(statuses) = &filter.statuses {
            list(statuses, "status", &mut clauses);
        }
        if let Some(priorities) = &filter.priorities {
            list(priorities, "priority", &mut clauses);
        }
        for (value, column) in [
            (&filter.account_id, "account_id"),
            (&filter.playbook, "playbook"),
            (&filter.kind, "kind"),
        ] {
            if let Some(value) = value {
                list(std::slice::from_ref(value), column, &mut clauses);
            }
        }
        let due = 2 + texts.len();
        if filter.due_by.is_some() {
            clauses.push(format!("due_on <= ${due}"));
        }
        let order = if filter.soonest_due_first {
            "due_on, id"
        } else {
            "id"
        };
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE {} ORDER BY {order} LIMIT {}",
            clauses.join(" AND "),
            limit.max(0)
        );
        let after = if filter.soonest_due_first {
            None
        } else {
            after
        };
        Ok(on_backend!(&self.pool, pool => {
            let mut query = sqlx::query_as(&sql).bind(after.unwrap_or(0));
            for text in &texts {
                query = query.bind(text);
            }
            if let Some(day) = filter.due_by {
                query = query.bind(day);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// The open tasks playbooks made for accounts `first..=last`, by account.
    pub async fn open_playbook_tasks(&self, first: &str, last: &str) -> Result<Vec<TaskRecord>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE account_id >= $1 AND account_id <= $2 \
             AND playbook IS NOT NULL AND status IN ({}) ORDER BY account_id, id",
            open_list()
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(first).bind(last).fetch_all(pool).await?
        }))
    }

    /// When each playbook's last task closed, for accounts `first..=last`.
    pub async fn last_closed_playbook_tasks(
        &self,
        first: &str,
        last: &str,
    ) -> Result<Vec<LastClosed>> {
        let sql = "SELECT account_id, playbook, MAX(closed_at) AS closed_at FROM tasks \
             WHERE account_id >= $1 AND account_id <= $2 AND playbook IS NOT NULL \
             AND closed_at IS NOT NULL GROUP BY account_id, playbook ORDER BY account_id";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql).bind(first).bind(last).fetch_all(pool).await?
        }))
    }

    pub async fn task_steps(&self, task_id: i64) -> Result<Vec<TaskStep>> {
        let sql =
            format!("SELECT {STEP_COLUMNS} FROM task_steps WHERE task_id = $1 ORDER BY position");
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(task_id).fetch_all(pool).await?
        }))
    }

    pub async fn task_comments(&self, task_id: i64) -> Result<Vec<TaskComment>> {
        let sql = "SELECT id, task_id, author, body, created_at FROM task_comments \
             WHERE task_id = $1 ORDER BY id";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql).bind(task_id).fetch_all(pool).await?
        }))
    }

    /// Open tasks per owner among `owners` (those with none are left out).
    pub async fn open_task_counts(&self, owners: &[String]) -> Result<Vec<(String, i64)>> {
        if owners.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT owner, COUNT(*) FROM tasks WHERE owner IN ({}) AND status IN ({}) \
             GROUP BY owner",
            in_list(1, owners.len()),
            open_list()
        );
        Ok(on_backend!(&self.pool, pool => {
            let mut query = sqlx::query_as(&sql);
            for owner in owners {
                query = query.bind(owner);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// Tasks a playbook has made so far: the turn of its round-robin pool.
    pub async fn playbook_task_count(&self, playbook: &str) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM tasks WHERE playbook = $1";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_scalar(sql).bind(playbook).fetch_one(pool).await?
        }))
    }

    /// The last day the daily playbook run finished.
    pub async fn last_playbook_run(&self) -> Result<Option<NaiveDate>> {
        let sql = "SELECT MAX(day) FROM playbook_runs WHERE finished_at IS NOT NULL";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_scalar(sql).fetch_one(pool).await?
        }))
    }

    /// Records a finished daily run: (accounts, tasks created, tasks closed).
    pub async fn record_playbook_run(
        &self,
        day: NaiveDate,
        started_at: DateTime<Utc>,
        finished_at: DateTime<Utc>,
        [accounts, created, closed]: &[i64; 3],
    ) -> Result<()> {
        let sql =
            "INSERT INTO playbook_runs (day, started_at, finished_at, accounts, created, closed) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (day) DO UPDATE SET \
             started_at = excluded.started_at, finished_at = excluded.finished_at, \
             accounts = excluded.accounts, created = excluded.created, closed = excluded.closed";
        on_backend!(&self.pool, pool => {
            sqlx::query(sql)
                .bind(day)
                .bind(started_at)
                .bind(finished_at)
                .bind(*accounts)
                .bind(*created)
                .bind(*closed)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Snoozed tasks whose snooze ends by `day`.
    pub async fn snoozed_tasks_due(&self, day: NaiveDate) -> Result<Vec<TaskRecord>> {
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE status = 'snoozed' AND snoozed_until <= $1 ORDER BY id"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(&sql).bind(day).fetch_all(pool).await?
        }))
    }

    /// Each user's team, for those in one.
    pub async fn user_teams(&self) -> Result<Vec<(String, String)>> {
        let sql = "SELECT handle, team FROM users WHERE team IS NOT NULL ORDER BY handle";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql).fetch_all(pool).await?
        }))
    }
}

impl Transaction {
    /// Inserts a task with its steps; `None` (nothing written) when the account
    /// already has an open task of the same playbook.
    pub async fn insert_task(
        &mut self,
        task: &TaskRecord,
        steps: &[(String, NaiveDate)],
    ) -> Result<Option<i64>> {
        let sql = "INSERT INTO tasks (account_id, kind, title, description, owner, priority, \
             due_on, status, snoozed_until, status_reason, playbook, signal, evidence, \
             created_by, created_at, updated_at, closed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT DO NOTHING RETURNING id";
        let id: Option<i64> = on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(sql)
                .bind(&task.account_id)
                .bind(&task.kind)
                .bind(&task.title)
                .bind(&task.description)
                .bind(&task.owner)
                .bind(&task.priority)
                .bind(task.due_on)
                .bind(&task.status)
                .bind(task.snoozed_until)
                .bind(&task.status_reason)
                .bind(&task.playbook)
                .bind(&task.signal)
                .bind(&task.evidence)
                .bind(&task.created_by)
                .bind(task.created_at)
                .bind(task.updated_at)
                .bind(task.closed_at)
                .fetch_optional(&mut **conn)
                .await?
        });
        let Some(id) = id else {
            return Ok(None);
        };
        for (position, (title, due_on)) in steps.iter().enumerate() {
            let sql = "INSERT INTO task_steps (task_id, position, title, due_on) \
                 VALUES ($1, $2, $3, $4)";
            on_tx!(&mut self.tx, conn => {
                sqlx::query(sql)
                    .bind(id)
                    .bind(position as i32)
                    .bind(title)
                    .bind(*due_on)
                    .execute(&mut **conn)
                    .await?;
            });
        }
        Ok(Some(id))
    }

    /// The task, read in the transaction that will change it.
    pub async fn task(&mut self, id: i64) -> Result<Option<TaskRecord>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1");
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_as(&sql).bind(id).fetch_optional(&mut **conn).await?
        }))
    }

    /// Writes every field of a task but its id, account and creation.
    pub async fn update_task(&mut self, task: &TaskRecord) -> Result<()> {
        let sql = "UPDATE tasks SET kind = $2, title = $3, description = $4, owner = $5, \
             priority = $6, due_on = $7, status = $8, snoozed_until = $9, status_reason = $10, \
             updated_at = $11, closed_at = $12 WHERE id = $1";
        on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(task.id)
                .bind(&task.kind)
                .bind(&task.title)
                .bind(&task.description)
                .bind(&task.owner)
                .bind(&task.priority)
                .bind(task.due_on)
                .bind(&task.status)
                .bind(task.snoozed_until)
                .bind(&task.status_reason)
                .bind(task.updated_at)
                .bind(task.closed_at)
                .execute(&mut **conn)
                .await?;
        });
        Ok(())
    }

    /// Marks a step done (or not done with `None`); false if the task has no such step.
    pub async fn set_task_step_done(
        &mut self,
        task_id: i64,
        position: i32,
        done: Option<(DateTime<Utc>, &str)>,
    ) -> Result<bool> {
        let sql = "UPDATE task_steps SET done_at = $3, done_by = $4 \
             WHERE task_id = $1 AND position = $2";
        let (at, by) = done.map_or((None, None), |(at, by)| (Some(at), Some(by)));
        let changed = on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(task_id)
                .bind(position)
                .bind(at)
                .bind(by)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }

    pub async fn insert_task_comment(
        &mut self,
        task_id: i64,
        author: &str,
        body: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let sql = "INSERT INTO task_comments (task_id, author, body, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id";
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_scalar(sql)
                .bind(task_id)
                .bind(author)
                .bind(body)
                .bind(at)
                .fetch_one(&mut **conn)
                .await?
        }))
    }

    /// Puts a user in a team, or in none.
    pub async fn set_user_team(&mut self, handle: &str, team: Option<&str>) -> Result<bool> {
        let sql = "UPDATE users SET team = $2 WHERE handle = $1";
        let changed = on_tx!(&mut self.tx, conn => {
            sqlx::query(sql)
                .bind(handle)
                .bind(team)
                .execute(&mut **conn)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }
}
