//! What health scoring reads (a range of accounts with the history its measures need)
//! and writes (daily snapshots and the segment distributions of percentile rules).

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use tend_core::health::{GroupScore, HealthScore, HealthSnapshot, MeasureScore};
use tend_core::*;

use crate::reads::list;
use crate::rows::*;
use crate::sqlite_bulk::{self, EncodedSnapshot};
use crate::sqlite_read::{self, select, Bind, FromStatement};
use crate::{on_backend, on_tx, Result, Store, StoreError, Transaction, TxConn};

/// How much history to load, per kind of record: those from each date on, plus
/// whatever is still current before it (open tickets, unpaid invoices, the latest
/// product use and the latest activity of each account). Contacts and contracts are
/// always loaded whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryWindow {
    pub usage: NaiveDate,
    /// Rollups before this day come without their per-feature counts.
    pub feature_use: NaiveDate,
    pub tickets: NaiveDate,
    pub surveys: NaiveDate,
    pub invoices: NaiveDate,
    pub payments: NaiveDate,
    pub activities: NaiveDate,
}

impl HistoryWindow {
    /// The history both `self` and `other` need: each kind from the earlier day.
    pub fn widened_to(self, other: HistoryWindow) -> HistoryWindow {
        HistoryWindow {
            usage: self.usage.min(other.usage),
            feature_use: self.feature_use.min(other.feature_use),
            tickets: self.tickets.min(other.tickets),
            surveys: self.surveys.min(other.surveys),
            invoices: self.invoices.min(other.invoices),
            payments: self.payments.min(other.payments),
            activities: self.activities.min(other.activities),
        }
    }
}

/// Everything stored about a range of accounts that health measures read, each list
/// ordered by account id first. Free text that no measure reads (contact names,
/// emails and titles, ticket subjects, survey comments, activity subjects and bodies)
/// is left empty: reading it was a fifth of a full rescore.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountData {
    pub accounts: Vec<Account>,
    pub contacts: Vec<Contact>,
    pub contracts: Vec<Contract>,
    /// Imported rollups, by account, then day.
    pub usage: Vec<UsageDaily>,
    /// Rollups of raw events, by account, then day; combined with `usage` by
    /// [`tend_core::rollup::combine_usage`].
    pub event_usage: Vec<UsageDaily>,
    pub tickets: Vec<Ticket>,
    pub surveys: Vec<SurveyResponse>,
    pub invoices: Vec<Invoice>,
    pub payments: Vec<Payment>,
    pub activities: Vec<Activity>,
}

/// A snapshot's headline without its groups and measures.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthHeadline {
    pub account_id: String,
    pub day: NaiveDate,
    pub overall: Option<f64>,
    pub band: String,
}

/// The sorted values of one measure of a scorecard across a segment on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub day: NaiveDate,
    pub scorecard: String,
    pub segment: String,
    /// The measure's position in the scorecard.
    pub measure: usize,
    pub values: Vec<f64>,
}

// Column lists (in each row struct's field order) with unread free text left empty.
const LEAN_CONTACT: &str = "id, account_id, '' AS name, CAST(NULL AS TEXT) AS email, \
    CAST(NULL AS TEXT) AS title, role, joined_on, left_on";
const LEAN_TICKET: &str = "id, account_id, contact_id, '' AS subject, priority, status, \
    created_at, first_response_at, solved_at, satisfaction";
const LEAN_SURVEY: &str =
    "id, account_id, contact_id, kind, score, CAST(NULL AS TEXT) AS comment, \
    CAST(NULL AS TEXT) AS campaign, responded_at";
const LEAN_ACTIVITY: &str = "id, account_id, contact_id, kind, author, occurred_at, \
    '' AS subject, CAST(NULL AS TEXT) AS body";

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

impl Store {
    /// Ids of every account, in order.
    pub async fn account_ids(&self) -> Result<Vec<String>> {
        let ids = on_backend!(&self.pool, pool => {
            sqlx::query_scalar::<_, String>("SELECT id FROM accounts ORDER BY id")
                .fetch_all(pool)
                .await?
        });
        Ok(ids)
    }

    /// The accounts with ids in `first..=last` and their data within `window`; with
    /// `active`, only accounts that existed and had not churned on some day of it.
    pub async fn account_data(
        &self,
        first: &str,
        last: &str,
        active: Option<(NaiveDate, NaiveDate)>,
        window: HistoryWindow,
    ) -> Result<AccountData> {
        // Dates are formatted here, never taken from input, so they go in as literals:
        // that keeps every query's parameters numbered $1…$n on PostgreSQL.
        let alive = active.map_or_else(String::new, |(from, to)| {
            format!(
                " AND created_on <= '{}' AND (churned_on IS NULL OR churned_on > '{}')",
                to.format("%Y-%m-%d"),
                from.format("%Y-%m-%d")
            )
        });
        let accounts_sql = format!("SELECT id FROM accounts WHERE id >= $1 AND id <= $2{alive}");
        let in_range = format!("account_id IN ({accounts_sql})");
        let in_range = in_range.as_str();
        let range = [Bind::Text(first), Bind::Text(last)];
        let with = |since: Bind<'static>| [range[0].clone(), range[1].clone(), since];
        let usage = "account_id, day, events, active_users, active_users_30d, \
                     CASE WHEN day >= $4 THEN feature_events ELSE '{}' END AS feature_events";
        // The rows inside the window, and each account's latest day with events
        // before it (how long ago the product was last used).
        let usage_sql = |table: &str| {
            format!(
                "SELECT {usage} FROM {table} WHERE {in_range} AND day >= $3 \
                 UNION ALL \
                 SELECT {usage} FROM {table} WHERE (account_id, day) IN \
                   (SELECT a.id, (SELECT v.day FROM {table} v WHERE v.account_id = a.id \
                      AND v.day < $3 AND v.events > 0 ORDER BY v.day DESC LIMIT 1) \
                    FROM accounts a WHERE a.id IN ({accounts_sql})) \
                 ORDER BY account_id, day"
            )
        };
        let usage_binds = [
            range[0].clone(),
            range[1].clone(),
            Bind::Date(window.usage),
            Bind::Date(window.feature_use),
        ];
        let activity = LEAN_ACTIVITY;
        let activities_sql = format!(
            "SELECT {activity} FROM activities WHERE {in_range} AND occurred_at >= $3 \
             UNION ALL \
             SELECT {activity} FROM activities WHERE id IN \
               (SELECT (SELECT y.id FROM activities y WHERE y.account_id = a.id \
                  AND y.occurred_at < $3 ORDER BY y.occurred_at DESC, y.id DESC LIMIT 1) \
                FROM accounts a WHERE a.id IN ({accounts_sql})) \
             ORDER BY account_id, occurred_at, id"
        );
        Ok(AccountData {
            accounts: select!(
                self,
                AccountRow,
                "accounts",
                &format!(
                    "SELECT {} FROM accounts WHERE id >= $1 AND id <= $2{alive} ORDER BY id",
                    AccountRow::columns()
                ),
                &range
            )?,
            contacts: select!(
                self,
                ContactRow,
                "contacts",
                &format!(
                    "SELECT {LEAN_CONTACT} FROM contacts WHERE {in_range} ORDER BY account_id, id"
                ),
                &range
            )?,
            contracts: select!(
                self,
                ContractRow,
                "contracts",
                &format!(
                    "SELECT {} FROM contracts WHERE {in_range} ORDER BY account_id, id",
                    ContractRow::columns()
                ),
                &range
            )?,
            usage: select!(
                self,
                UsageDailyRow,
                "usage_daily",
                &usage_sql("usage_daily"),
                &usage_binds
            )?,
            event_usage: select!(
                self,
                UsageDailyRow,
                "usage_event_daily",
                &usage_sql("usage_event_daily"),
                &usage_binds
            )?,
            tickets: select!(
                self,
                TicketRow,
                "tickets",
                &format!(
                    "SELECT {LEAN_TICKET} FROM tickets WHERE {in_range} \
                     AND (created_at >= $3 OR solved_at IS NULL OR solved_at >= $3) \
                     ORDER BY account_id, created_at, id"
                ),
                &with(Bind::Time(midnight(window.tickets)))
            )?,
            surveys: select!(
                self,
                SurveyResponseRow,
                "survey_responses",
                &format!(
                    "SELECT {LEAN_SURVEY} FROM survey_responses WHERE {in_range} \
                     AND responded_at >= $3 ORDER BY account_id, responded_at, id"
                ),
                &with(Bind::Time(midnight(window.surveys)))
            )?,
            invoices: select!(
                self,
                InvoiceRow,
                "invoices",
                &format!(
                    "SELECT {} FROM invoices WHERE {in_range} \
                     AND (issued_on >= $3 OR paid_on IS NULL OR paid_on >= $3) \
                     ORDER BY account_id, id",
                    InvoiceRow::columns()
                ),
                &with(Bind::Date(window.invoices))
            )?,
            payments: select!(
                self,
                PaymentRow,
                "payments",
                &format!(
                    "SELECT {} FROM payments WHERE {in_range} AND attempted_at >= $3 \
                     ORDER BY account_id, id",
                    PaymentRow::columns()
                ),
                &with(Bind::Time(midnight(window.payments)))
            )?,
            activities: select!(
                self,
                ActivityRow,
                "activities",
                &activities_sql,
                &with(Bind::Time(midnight(window.activities)))
            )?,
        })
    }

    /// The snapshot of one account on one day.
    pub async fn health_snapshot(
        &self,
        account_id: &str,
        day: NaiveDate,
    ) -> Result<Option<HealthSnapshot>> {
        let rows: Vec<HealthSnapshot> = select!(
            self,
            HealthSnapshotRow,
            "health_snapshots",
            "SELECT * FROM health_snapshots WHERE account_id = $1 AND day = $2",
            &[Bind::Text(account_id), Bind::Date(day)]
        )?;
        Ok(rows.into_iter().next())
    }

    /// Every snapshot of `day`, by account.
    pub async fn health_snapshots_on(&self, day: NaiveDate) -> Result<Vec<HealthSnapshot>> {
        list!(
            self,
            HealthSnapshotRow,
            "SELECT * FROM health_snapshots WHERE day = $1 ORDER BY account_id",
            day
        )
    }

    /// The headline of every snapshot on any of `days`, by account then day.
    pub async fn health_headlines_on(&self, days: &[NaiveDate]) -> Result<Vec<HealthHeadline>> {
        let mut all = Vec::new();
        for &day in days {
            let rows: Vec<(String, NaiveDate, Option<f64>, String)> = on_backend!(&self.pool, pool => {
                sqlx::query_as(
                    "SELECT account_id, day, overall, band FROM health_snapshots WHERE day = $1",
                )
                .bind(day)
                .fetch_all(pool)
                .await?
            });
            all.extend(rows.into_iter().map(headline));
        }
        all.sort_by(|a, b| (&a.account_id, a.day).cmp(&(&b.account_id, b.day)));
        Ok(all)
    }

    /// How many accounts have ids in `first..=last`.
    pub async fn count_accounts_between(&self, first: &str, last: &str) -> Result<i64> {
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE id >= $1 AND id <= $2")
                .bind(first)
                .bind(last)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Health of accounts `first..=last` on days `from..=to`: (account, day, overall,
    /// band) by account and day.
    pub async fn health_points_between(
        &self,
        (first, last): (&str, &str),
        (from, to): (NaiveDate, NaiveDate),
    ) -> Result<Vec<(String, NaiveDate, Option<f64>, String)>> {
        let sql = "SELECT account_id, day, overall, band FROM health_snapshots \
             WHERE account_id >= $1 AND account_id <= $2 AND day >= $3 AND day <= $4 \
             ORDER BY account_id, day";
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(sql)
                .bind(first)
                .bind(last)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Days of `from..=to` with any snapshot.
    pub async fn health_days_between(&self, from: NaiveDate, to: NaiveDate) -> Result<usize> {
        let sql = "SELECT COUNT(DISTINCT day) FROM health_snapshots WHERE day >= $1 AND day <= $2";
        let n: i64 = on_backend!(&self.pool, pool => {
            sqlx::query_scalar(sql).bind(from).bind(to).fetch_one(pool).await?
        });
        Ok(n as usize)
    }

    /// The latest day with snapshots, if any.
    pub async fn latest_health_day(&self) -> Result<Option<NaiveDate>> {
        let day = on_backend!(&self.pool, pool => {
            sqlx::query_scalar::<_, Option<NaiveDate>>("SELECT MAX(day) FROM health_snapshots")
                .fetch_one(pool)
                .await?
        });
        Ok(day)
    }

    /// The distributions of `scorecard` for `segment` from the latest day on or before
    /// `day` that has any.
    pub async fn health_distributions(
        &self,
        scorecard: &str,
        segment: &str,
        day: NaiveDate,
    ) -> Result<Vec<Distribution>> {
        list!(
            self,
            DistributionRow,
            "SELECT * FROM health_distributions WHERE scorecard = $1 AND segment = $2 AND day = \
             (SELECT MAX(day) FROM health_distributions WHERE scorecard = $1 AND segment = $2 AND day <= $3) \
             ORDER BY measure",
            scorecard,
            segment,
            day
        )
    }
}

fn headline(r: (String, NaiveDate, Option<f64>, String)) -> HealthHeadline {
    HealthHeadline {
        account_id: r.0,
        day: r.1,
        overall: r.2,
        band: r.3,
    }
}

/// Rows per INSERT for health tables (7 columns): well under both bind limits.
const HEALTH_ROWS_PER_STATEMENT: usize = 1000;

impl Transaction {
    /// Writes snapshots, replacing any of the same account and day.
    pub async fn upsert_health_snapshots(&mut self, rows: &[HealthSnapshot]) -> Result<()> {
        for chunk in rows.chunks(HEALTH_ROWS_PER_STATEMENT) {
            // Lists of strings and numbers always encode (a NaN becomes null).
            let encoded: Vec<EncodedSnapshot> = chunk
                .iter()
                .map(|s| EncodedSnapshot {
                    account_id: &s.account_id,
                    day: s.day,
                    scorecard: &s.score.scorecard,
                    overall: s.score.overall,
                    band: &s.score.band,
                    groups: serde_json::to_string(&s.score.groups).expect("groups encode"),
                    measures: serde_json::to_string(&s.score.measures).expect("measures encode"),
                })
                .collect();
            match &mut self.tx {
                TxConn::Sqlite(conn) => sqlite_bulk::upsert_snapshots(conn, &encoded).await?,
                TxConn::Postgres(conn) => {
                    let mut builder = sqlx::QueryBuilder::new(
                        "INSERT INTO health_snapshots (account_id, day, scorecard, overall, band, groups, measures) ",
                    );
                    builder.push_values(&encoded, |mut b, s| {
                        b.push_bind(s.account_id)
                            .push_bind(s.day)
                            .push_bind(s.scorecard)
                            .push_bind(s.overall)
                            .push_bind(s.band)
                            .push_bind(s.groups.as_str())
                            .push_bind(s.measures.as_str());
                    });
                    builder.push(
                        " ON CONFLICT (account_id, day) DO UPDATE SET scorecard = excluded.scorecard, \
                         overall = excluded.overall, band = excluded.band, groups = excluded.groups, \
                         measures = excluded.measures",
                    );
                    builder.build().execute(&mut **conn).await?;
                }
            }
        }
        Ok(())
    }

    /// Writes distributions, replacing any of the same scorecard, segment, measure and day.
    pub async fn upsert_health_distributions(&mut self, rows: &[Distribution]) -> Result<()> {
        let encoded: Vec<String> = rows
            .iter()
            .map(|d| serde_json::to_string(&d.values).expect("finite numbers encode"))
            .collect();
        for (chunk, json) in rows
            .chunks(HEALTH_ROWS_PER_STATEMENT)
            .zip(encoded.chunks(HEALTH_ROWS_PER_STATEMENT))
        {
            on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(
                    "INSERT INTO health_distributions (day, scorecard, segment, measure, vals) ",
                );
                builder.push_values(chunk.iter().zip(json), |mut b, (d, vals)| {
                    b.push_bind(d.day)
                        .push_bind(d.scorecard.as_str())
                        .push_bind(d.segment.as_str())
                        .push_bind(d.measure as i32)
                        .push_bind(vals.as_str());
                });
                builder.push(
                    " ON CONFLICT (scorecard, segment, measure, day) DO UPDATE SET vals = excluded.vals",
                );
                builder.build().execute(&mut **conn).await?;
            });
        }
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct HealthSnapshotRow {
    account_id: String,
    day: NaiveDate,
    scorecard: String,
    overall: Option<f64>,
    band: String,
    groups: String,
    measures: String,
}
sqlite_read::from_statement!(HealthSnapshotRow {
    account_id,
    day,
    scorecard,
    overall,
    band,
    groups,
    measures
});

impl TryFrom<HealthSnapshotRow> for HealthSnapshot {
    type Error = StoreError;
    fn try_from(r: HealthSnapshotRow) -> Result<Self, StoreError> {
        let corrupt = |e: serde_json::Error| StoreError::Corrupt {
            table: "health_snapshots",
            id: format!("{}/{}", r.account_id, r.day),
            reason: e.to_string(),
        };
        let groups: Vec<GroupScore> = serde_json::from_str(&r.groups).map_err(corrupt)?;
        let measures: Vec<MeasureScore> = serde_json::from_str(&r.measures).map_err(corrupt)?;
        Ok(HealthSnapshot {
            score: HealthScore {
                scorecard: r.scorecard,
                overall: r.overall,
                band: r.band,
                groups,
                measures,
            },
            account_id: r.account_id,
            day: r.day,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DistributionRow {
    day: NaiveDate,
    scorecard: String,
    segment: String,
    measure: i32,
    vals: String,
}

impl TryFrom<DistributionRow> for Distribution {
    type Error = StoreError;
    fn try_from(r: DistributionRow) -> Result<Self, StoreError> {
        let values = serde_json::from_str(&r.vals).map_err(|e| StoreError::Corrupt {
            table: "health_distributions",
            id: format!("{}/{}/{}/{}", r.scorecard, r.segment, r.measure, r.day),
            reason: e.to_string(),
        })?;
        Ok(Distribution {
            day: r.day,
            scorecard: r.scorecard,
            segment: r.segment,
            measure: r.measure as usize,
            values,
        })
    }
}
