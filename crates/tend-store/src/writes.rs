//! Upserts of customer data inside a [`Transaction`], many rows per statement.

use tend_core::{
    Account, Activity, Contact, Contract, DemoTruth, FxRate, Invoice, Milestone, Objective,
    Payment, StageEntry, SurveyResponse, Ticket, UsageDaily,
};

use crate::{on_tx, Result, Transaction};

/// Rows per INSERT: 1,000 rows of at most 13 columns stay well under SQLite's 32,766
/// and PostgreSQL's 65,535 bound parameters.
const ROWS_PER_STATEMENT: usize = 1000;

/// `INSERT INTO table (a, b, …) ` — the values follow.
fn insert_head(table: &str, columns: &[&str]) -> String {
    format!("INSERT INTO {table} ({}) ", columns.join(", "))
}

/// ` ON CONFLICT (key) DO UPDATE SET b = excluded.b, …` for every non-key column.
fn upsert_tail(key: &[&str], columns: &[&str]) -> String {
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        " ON CONFLICT ({}) DO UPDATE SET {}",
        key.join(", "),
        updates.join(", ")
    )
}

/// Upserts `$rows` into `$table` keyed by `$key`, binding each row's `$columns` in the
/// order the closure pushes them. Written as a macro because the binder must be
/// compiled once per backend.
macro_rules! upsert_rows {
    ($tx:expr, $table:expr, $key:expr, $columns:expr, $rows:expr, |$b:ident, $r:ident| $bind:block) => {{
        let head = insert_head($table, $columns);
        let tail = upsert_tail($key, $columns);
        for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
            on_tx!(&mut $tx.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(head.as_str());
                builder.push_values(chunk, |mut $b, $r| $bind);
                builder.push(tail.as_str());
                builder.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }};
}

impl Transaction {
    pub async fn upsert_accounts(&mut self, rows: &[Account]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "name",
            "parent_id",
            "segment",
            "tier",
            "industry",
            "region",
            "lifecycle_stage",
            "csm_owner",
            "am_owner",
            "created_on",
            "churned_on",
            "churn_reason",
        ];
        upsert_rows!(self, "accounts", &["id"], COLUMNS, rows, |b, a| {
            b.push_bind(a.id.as_str())
                .push_bind(a.name.as_str())
                .push_bind(a.parent_id.as_deref())
                .push_bind(a.segment.as_deref())
                .push_bind(a.tier.as_deref())
                .push_bind(a.industry.as_deref())
                .push_bind(a.region.as_deref())
                .push_bind(a.lifecycle_stage.map(|s| s.as_str()))
                .push_bind(a.csm_owner.as_deref())
                .push_bind(a.am_owner.as_deref())
                .push_bind(a.created_on)
                .push_bind(a.churned_on)
                .push_bind(a.churn_reason.as_deref());
        })
    }

    pub async fn upsert_contacts(&mut self, rows: &[Contact]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "account_id",
            "name",
            "email",
            "title",
            "role",
            "joined_on",
            "left_on",
        ];
        upsert_rows!(self, "contacts", &["id"], COLUMNS, rows, |b, c| {
            b.push_bind(c.id.as_str())
                .push_bind(c.account_id.as_str())
                .push_bind(c.name.as_str())
                .push_bind(c.email.as_deref())
                .push_bind(c.title.as_deref())
                .push_bind(c.role.as_str())
                .push_bind(c.joined_on)
                .push_bind(c.left_on);
        })
    }

    pub async fn upsert_contracts(&mut self, rows: &[Contract]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "account_id",
            "product",
            "seats",
            "arr_minor",
            "currency",
            "start_date",
            "end_date",
            "renewal_date",
            "auto_renew",
            "notice_days",
            "status",
        ];
        upsert_rows!(self, "contracts", &["id"], COLUMNS, rows, |b, c| {
            b.push_bind(c.id.as_str())
                .push_bind(c.account_id.as_str())
                .push_bind(c.product.as_str())
                .push_bind(c.seats)
                .push_bind(c.arr.minor)
                .push_bind(c.arr.currency.as_str())
                .push_bind(c.start_date)
                .push_bind(c.end_date)
                .push_bind(c.renewal_date)
                .push_bind(c.auto_renew)
                .push_bind(c.notice_days)
                .push_bind(c.status.as_str());
        })
    }

    /// Replaces the imported rollups of the given account-days.
    pub async fn upsert_usage_daily(&mut self, rows: &[UsageDaily]) -> Result<()> {
        self.upsert_daily_rows("usage_daily", rows).await
    }

    /// Writes rollups into `table`: `usage_daily` (imported) or `usage_event_daily`
    /// (computed from raw events), which have the same columns.
    pub(crate) async fn upsert_daily_rows(
        &mut self,
        table: &'static str,
        rows: &[UsageDaily],
    ) -> Result<()> {
        self.note_event_names(rows).await?;
        self.write_daily_rows(table, rows).await
    }

    /// Writes daily usage rows as they are, leaving the catalog of names alone.
    pub(crate) async fn write_daily_rows(
        &mut self,
        table: &'static str,
        rows: &[UsageDaily],
    ) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "account_id",
            "day",
            "events",
            "active_users",
            "active_users_30d",
            "feature_events",
        ];
        let features: Vec<String> = rows.iter().map(features_json).collect();
        let rows: Vec<(&UsageDaily, &String)> = rows.iter().zip(&features).collect();
        upsert_rows!(
            self,
            table,
            &["account_id", "day"],
            COLUMNS,
            rows,
            |b, r| {
                let (row, features) = r;
                b.push_bind(row.account_id.as_str())
                    .push_bind(row.day)
                    .push_bind(row.events)
                    .push_bind(row.active_users)
                    .push_bind(row.active_users_30d)
                    .push_bind(features.as_str());
            }
        )
    }

    /// Keeps the catalog of event names: each name's last day and events counted.
    pub(crate) async fn note_event_names(&mut self, rows: &[UsageDaily]) -> Result<()> {
        let mut names: std::collections::BTreeMap<&str, (chrono::NaiveDate, i64)> =
            Default::default();
        for row in rows {
            for (name, &count) in &row.feature_events {
                let entry = names.entry(name.as_str()).or_insert((row.day, 0));
                entry.0 = entry.0.max(row.day);
                entry.1 += count;
            }
        }
        let names: Vec<(&str, (chrono::NaiveDate, i64))> = names.into_iter().collect();
        for chunk in names.chunks(ROWS_PER_STATEMENT) {
            on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(
                    "INSERT INTO usage_event_names (name, last_day, events) ",
                );
                builder.push_values(chunk, |mut b, (name, (day, count))| {
                    b.push_bind(*name).push_bind(*day).push_bind(*count);
                });
                builder.push(
                    " ON CONFLICT (name) DO UPDATE SET events = usage_event_names.events + excluded.events, \
                     last_day = CASE WHEN excluded.last_day > usage_event_names.last_day \
                     THEN excluded.last_day ELSE usage_event_names.last_day END",
                );
                builder.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }

    pub async fn upsert_tickets(&mut self, rows: &[Ticket]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "account_id",
            "contact_id",
            "subject",
            "priority",
            "status",
            "created_at",
            "first_response_at",
            "solved_at",
            "satisfaction",
        ];
        upsert_rows!(self, "tickets", &["id"], COLUMNS, rows, |b, t| {
            b.push_bind(t.id.as_str())
                .push_bind(t.account_id.as_str())
                .push_bind(t.contact_id.as_deref())
                .push_bind(t.subject.as_str())
                .push_bind(t.priority.as_str())
                .push_bind(t.status.as_str())
                .push_bind(t.created_at)
                .push_bind(t.first_response_at)
                .push_bind(t.solved_at)
                .push_bind(t.satisfaction);
        })
    }

    pub async fn upsert_survey_responses(&mut self, rows: &[SurveyResponse]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "account_id",
            "contact_id",
            "kind",
            "score",
            "comment",
            "campaign",
            "responded_at",
        ];
        upsert_rows!(self, "survey_responses", &["id"], COLUMNS, rows, |b, r| {
            b.push_bind(r.id.as_str())
                .push_bind(r.account_id.as_str())
                .push_bind(r.contact_id.as_deref())
                .push_bind(r.kind.as_str())
                .push_bind(r.score)
                .push_bind(r.comment.as_deref())
                .push_bind(r.campaign.as_deref())
                .push_bind(r.responded_at);
        })
    }

    pub async fn upsert_invoices(&mut self, rows: &[Invoice]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "account_id",
            "amount_minor",
            "currency",
            "issued_on",
            "due_on",
            "paid_on",
            "status",
        ];
        upsert_rows!(self, "invoices", &["id"], COLUMNS, rows, |b, i| {
            b.push_bind(i.id.as_str())
                .push_bind(i.account_id.as_str())
                .push_bind(i.amount.minor)
                .push_bind(i.amount.currency.as_str())
                .push_bind(i.issued_on)
                .push_bind(i.due_on)
                .push_bind(i.paid_on)
                .push_bind(i.status.as_str());
        })
    }

    pub async fn upsert_payments(&mut self, rows: &[Payment]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "invoice_id",
            "account_id",
            "amount_minor",
            "currency",
            "attempted_at",
            "status",
            "failure_reason",
        ];
        upsert_rows!(self, "payments", &["id"], COLUMNS, rows, |b, p| {
            b.push_bind(p.id.as_str())
                .push_bind(p.invoice_id.as_str())
                .push_bind(p.account_id.as_str())
                .push_bind(p.amount.minor)
                .push_bind(p.amount.currency.as_str())
                .push_bind(p.attempted_at)
                .push_bind(p.status.as_str())
                .push_bind(p.failure_reason.as_deref());
        })
    }

    pub async fn upsert_activities(&mut self, rows: &[Activity]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "account_id",
            "contact_id",
            "kind",
            "author",
            "occurred_at",
            "subject",
            "body",
        ];
        upsert_rows!(self, "activities", &["id"], COLUMNS, rows, |b, a| {
            b.push_bind(a.id.as_str())
                .push_bind(a.account_id.as_str())
                .push_bind(a.contact_id.as_deref())
                .push_bind(a.kind.as_str())
                .push_bind(a.author.as_str())
                .push_bind(a.occurred_at)
                .push_bind(a.subject.as_str())
                .push_bind(a.body.as_deref());
        })
    }

    pub async fn upsert_objectives(&mut self, rows: &[Objective]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "account_id",
            "title",
            "criteria",
            "status",
            "created_on",
        ];
        upsert_rows!(self, "objectives", &["id"], COLUMNS, rows, |b, o| {
            b.push_bind(o.id.as_str())
                .push_bind(o.account_id.as_str())
                .push_bind(o.title.as_str())
                .push_bind(o.criteria.as_str())
                .push_bind(o.status.as_str())
                .push_bind(o.created_on);
        })
    }

    pub async fn upsert_milestones(&mut self, rows: &[Milestone]) -> Result<()> {
        const COLUMNS: &[&str] = &[
            "id",
            "account_id",
            "objective_id",
            "title",
            "kind",
            "due_on",
            "owner",
            "status",
            "done_on",
        ];
        upsert_rows!(self, "milestones", &["id"], COLUMNS, rows, |b, m| {
            b.push_bind(m.id.as_str())
                .push_bind(m.account_id.as_str())
                .push_bind(m.objective_id.as_deref())
                .push_bind(m.title.as_str())
                .push_bind(m.kind.as_str())
                .push_bind(m.due_on)
                .push_bind(m.owner.as_deref())
                .push_bind(m.status.as_str())
                .push_bind(m.done_on);
        })
    }

    /// Records stages entered; each account's latest entered becomes its stage.
    pub async fn upsert_lifecycle_stages(&mut self, rows: &[StageEntry]) -> Result<()> {
        for row in rows {
            let record = crate::StageRecord {
                account_id: row.account_id.clone(),
                stage: row.stage.as_str().to_string(),
                entered_on: row.entered_on,
            };
            self.enter_stage(&record).await?;
        }
        Ok(())
    }

    pub async fn upsert_fx_rates(&mut self, rows: &[FxRate]) -> Result<()> {
        const COLUMNS: &[&str] = &["currency", "base", "date", "rate"];
        upsert_rows!(
            self,
            "fx_rates",
            &["currency", "base", "date"],
            COLUMNS,
            rows,
            |b, r| {
                b.push_bind(r.currency.as_str())
                    .push_bind(r.base.as_str())
                    .push_bind(r.date)
                    .push_bind(r.rate);
            }
        )
    }

    /// Contract ARR per currency as this transaction sees it (its own writes
    /// included), in minor units.
    pub async fn arr_by_currency(&mut self) -> Result<Vec<(String, i64)>> {
        Ok(on_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT currency, CAST(SUM(arr_minor) AS BIGINT) FROM contracts \
                 GROUP BY currency ORDER BY currency",
            )
            .fetch_all(&mut **conn)
            .await?
        }))
    }

    pub async fn upsert_demo_truth(&mut self, rows: &[DemoTruth]) -> Result<()> {
        const COLUMNS: &[&str] = &["account_id", "churn_propensity", "churned_on"];
        upsert_rows!(
            self,
            "demo_truth",
            &["account_id"],
            COLUMNS,
            rows,
            |b, t| {
                b.push_bind(t.account_id.as_str())
                    .push_bind(t.churn_propensity)
                    .push_bind(t.churned_on);
            }
        )
    }
}

fn features_json(row: &UsageDaily) -> String {
    serde_json::to_string(&row.feature_events).expect("a map of strings to integers serializes")
}

impl Transaction {
    /// Deletes every customer-data row, children before parents; used to replace a
    /// previous demo company.
    pub async fn delete_all_customer_data(&mut self) -> Result<()> {
        const TABLES: &[&str] = &[
            "account_team",
            "stakeholders",
            "account_plans",
            "opportunities",
            "proposals",
            "renewal_calls",
            "email_outbox",
            "playbook_runs",
            "task_comments",
            "task_steps",
            "tasks",
            "milestones",
            "objectives",
            "lifecycle_stages",
            "risk_snapshots",
            "risk_models",
            "health_distributions",
            "health_snapshots",
            "health_watch",
            "demo_truth",
            "fx_rates",
            "payments",
            "invoices",
            "activities",
            "survey_responses",
            "tickets",
            "usage_daily",
            "usage_event_daily",
            "usage_events",
            "usage_user_days",
            "usage_event_names",
            "usage_pending",
            "usage_users",
            "data_extent",
            "contracts",
            "contacts",
            "accounts",
        ];
        for table in TABLES {
            let sql = format!("DELETE FROM {table}");
            on_tx!(&mut self.tx, conn => {
                sqlx::query(&sql).execute(&mut **conn).await?;
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_sql_updates_every_non_key_column() {
        assert_eq!(
            insert_head("t", &["id", "a", "b"]),
            "INSERT INTO t (id, a, b) "
        );
        assert_eq!(
            upsert_tail(&["id"], &["id", "a", "b"]),
            " ON CONFLICT (id) DO UPDATE SET a = excluded.a, b = excluded.b"
        );
    }
}
