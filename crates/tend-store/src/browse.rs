//! Reads for browsing one page at a time: accounts with filters and keyset
//! pagination, one day's health snapshots lowest score first, and one account's
//! records. Each page is one indexed query however big the store is.

use chrono::NaiveDate;
use tend_core::health::HealthSnapshot;
use tend_core::*;

use crate::health::HealthSnapshotRow;
use crate::rows::*;
use crate::sqlite_read::{select, Bind};
use crate::{on_backend, Result, Store, StoreError};

/// A score sorts after every real one when the account has none.
pub const NO_SCORE: f64 = 1.0e9;

/// How a list of accounts is ordered; ties broken by id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccountOrder {
    #[default]
    Name,
    Id,
    /// Lowest latest health score first; unscored accounts last.
    Health,
}

/// Where the previous page ended: the sort value and id of its last row.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    Text(String, String),
    Score(f64, String),
}

/// Which accounts to list. Text filters match exactly except `text`, which finds
/// the words in the name or id, case ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountFilter {
    /// The CSM or account manager.
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub tier: Option<String>,
    pub stage: Option<LifecycleStage>,
    /// The band of the latest health snapshot, case ignored.
    pub band: Option<String>,
    pub text: Option<String>,
    /// The band of the account's risk snapshot of a target on a day, case ignored.
    pub risk_band: Option<RiskBandFilter>,
    /// A contract term not cancelled that comes due for renewal in these days
    /// (both included).
    pub renewal_between: Option<(NaiveDate, NaiveDate)>,
    /// Only these accounts (a few: each is a parameter).
    pub ids: Option<Vec<String>>,
}

/// Accounts whose risk of `target` was in `band` on `day`.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskBandFilter {
    pub target: String,
    pub day: NaiveDate,
    pub band: String,
}

/// An account with its latest health, if it was scored on the day asked.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountListing {
    pub account: Account,
    pub health_score: Option<f64>,
    pub health_band: Option<String>,
}

/// A value bound to a query built at run time.
enum Value {
    Text(String),
    Real(f64),
    Date(NaiveDate),
}

/// SQL text with its parameters, numbered as they are added.
#[derive(Default)]
struct Query {
    sql: String,
    values: Vec<Value>,
}

impl Query {
    /// Adds a parameter and returns its placeholder.
    fn param(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    fn binds(&self) -> Vec<Bind<'_>> {
        self.values
            .iter()
            .map(|value| match value {
                Value::Text(text) => Bind::Text(text),
                Value::Real(x) => Bind::Real(*x),
                Value::Date(day) => Bind::Date(*day),
            })
            .collect()
    }
}

/// Runs `$query` as rows of `$row` through sqlx, for rows that `select!` cannot read
/// (flattened or tuples); the caller converts them.
macro_rules! run {
    ($store:expr, $row:ty, $query:expr) => {{
        let query: Query = $query;
        let rows: Vec<$row> = on_backend!(&$store.pool, pool => {
            let mut q = sqlx::query_as::<_, $row>(&query.sql);
            for value in query.values {
                q = match value {
                    Value::Text(text) => q.bind(text),
                    Value::Real(x) => q.bind(x),
                    Value::Date(day) => q.bind(day),
                };
            }
            q.fetch_all(pool).await?
        });
        rows
    }};
}

/// `LIKE` pattern finding `text` anywhere, with the pattern characters escaped.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// How a filter of the health band is written.
enum BandCondition<'a> {
    /// On the joined snapshot `h`.
    Joined,
    /// As the list of the accounts in the band on the day of parameter `.0`, read
    /// along the (day, band) index.
    Listed(&'a str),
}

/// Adds `filter`'s conditions on the accounts `a` and their snapshots `h`.
fn add_filter(q: &mut Query, filter: &AccountFilter, band_condition: BandCondition) {
    if let Some(owner) = &filter.owner {
        let p = q.param(Value::Text(owner.clone()));
        q.sql += &format!(" AND (a.csm_owner = {p} OR a.am_owner = {p})");
    }
    for (column, value) in [("segment", &filter.segment), ("tier", &filter.tier)] {
        if let Some(value) = value {
            let p = q.param(Value::Text(value.clone()));
            q.sql += &format!(" AND a.{column} = {p}");
        }
    }
    if let Some(stage) = filter.stage {
        let p = q.param(Value::Text(stage.as_str().to_string()));
        q.sql += &format!(" AND a.lifecycle_stage = {p}");
    }
    if let Some(band) = &filter.band {
        let p = q.param(Value::Text(band.to_lowercase()));
        q.sql += &match band_condition {
            BandCondition::Joined => format!(" AND LOWER(h.band) = {p}"),
            BandCondition::Listed(day) => format!(
                " AND a.id IN (SELECT account_id FROM health_snapshots \
                 WHERE day = {day} AND LOWER(band) = {p})"
            ),
        };
    }
    if let Some(risk) = &filter.risk_band {
        let t = q.param(Value::Text(risk.target.clone()));
        let d = q.param(Value::Date(risk.day));
        let b = q.param(Value::Text(risk.band.to_lowercase()));
        q.sql += &format!(
            " AND EXISTS (SELECT 1 FROM risk_snapshots r WHERE r.account_id = a.id \
             AND r.target = {t} AND r.day = {d} AND LOWER(r.band) = {b})"
        );
    }
    if let Some((from, to)) = filter.renewal_between {
        let f = q.param(Value::Date(from));
        let t = q.param(Value::Date(to));
        q.sql += &format!(
            " AND EXISTS (SELECT 1 FROM contracts c WHERE c.account_id = a.id \
             AND c.status <> 'cancelled' AND c.renewal_date >= {f} AND c.renewal_date <= {t})"
        );
    }
    if let Some(ids) = &filter.ids {
        let params: Vec<String> = ids
            .iter()
            .map(|id| q.param(Value::Text(id.clone())))
            .collect();
        q.sql += &if params.is_empty() {
            " AND 1 = 0".to_string()
        } else {
            format!(" AND a.id IN ({})", params.join(", "))
        };
    }
    if let Some(text) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
        let p = q.param(Value::Text(contains_pattern(text.trim())));
        q.sql += &format!(
            " AND (LOWER(a.name) LIKE {p} ESCAPE '\\' OR LOWER(a.id) LIKE {p} ESCAPE '\\')"
        );
    }
}

#[derive(sqlx::FromRow)]
struct AccountListingRow {
    #[sqlx(flatten)]
    account: AccountRow,
    health_score: Option<f64>,
    health_band: Option<String>,
}

impl Store {
    /// One page of accounts: those matching `filter`, in `order`, after `after`,
    /// at most `limit`, with their health on `health_day`.
    pub async fn account_page(
        &self,
        filter: &AccountFilter,
        order: AccountOrder,
        after: Option<&After>,
        limit: u32,
        health_day: Option<NaiveDate>,
    ) -> Result<Vec<AccountListing>> {
        let mut q = Query::default();
        // With no health yet, the join matches nothing.
        let day = q.param(Value::Date(health_day.unwrap_or(NaiveDate::MIN)));
        q.sql = format!(
            "SELECT a.*, h.overall AS health_score, h.band AS health_band FROM accounts a \
             LEFT JOIN health_snapshots h ON h.account_id = a.id AND h.day = {day} WHERE 1 = 1"
        );
        let band_condition = match (&filter.band, health_day) {
            (Some(band), Some(on)) if self.band_is_rare(on, band, limit).await? => {
                BandCondition::Listed(&day)
            }
            _ => BandCondition::Joined,
        };
        add_filter(&mut q, filter, band_condition);
        let sort_key = match order {
            AccountOrder::Name => "a.name".to_string(),
            AccountOrder::Id => "a.id".to_string(),
            AccountOrder::Health => format!("COALESCE(h.overall, {NO_SCORE:.1})"),
        };
        match (order, after) {
            (_, None) => {}
            (AccountOrder::Id, Some(After::Text(_, id))) => {
                let p = q.param(Value::Text(id.clone()));
                q.sql += &format!(" AND a.id > {p}");
            }
            (AccountOrder::Name, Some(After::Text(name, id))) => {
                let n = q.param(Value::Text(name.clone()));
                let p = q.param(Value::Text(id.clone()));
                q.sql += &format!(" AND (a.name > {n} OR (a.name = {n} AND a.id > {p}))");
            }
            (AccountOrder::Health, Some(After::Score(score, id))) => {
                let s = q.param(Value::Real(*score));
                let p = q.param(Value::Text(id.clone()));
                q.sql += &format!(" AND ({sort_key} > {s} OR ({sort_key} = {s} AND a.id > {p}))");
            }
            (_, Some(_)) => {
                return Err(StoreError::InvalidQuery(
                    "the cursor is of another sort order".into(),
                ))
            }
        }
        if order == AccountOrder::Id {
            q.sql += &format!(" ORDER BY a.id LIMIT {limit}");
        } else {
            q.sql += &format!(" ORDER BY {sort_key}, a.id LIMIT {limit}");
        }
        run!(self, AccountListingRow, q)
            .into_iter()
            .map(|row| {
                Ok(AccountListing {
                    account: row.account.try_into()?,
                    health_score: row.health_score,
                    health_band: row.health_band,
                })
            })
            .collect()
    }

    /// One page of the snapshots of `day`, lowest score first (unscored last), of
    /// accounts matching `filter`, after `(score, account)` (a score of `NO_SCORE`
    /// or more is an unscored position). Scored and unscored rows are read apart
    /// so that each read walks the (day, score, account) index in order.
    pub async fn health_page(
        &self,
        day: NaiveDate,
        filter: &AccountFilter,
        after: Option<(f64, &str)>,
        limit: u32,
    ) -> Result<Vec<HealthSnapshot>> {
        let in_unscored = after.is_some_and(|(score, _)| score >= NO_SCORE);
        let mut rows = Vec::new();
        if !in_unscored {
            let mut q = self.health_query(day, filter);
            q.sql += " AND h.overall IS NOT NULL";
            if let Some((score, id)) = after {
                let s = q.param(Value::Real(score));
                let p = q.param(Value::Text(id.to_string()));
                q.sql += &format!(" AND (h.overall, h.account_id) > ({s}, {p})");
            }
            q.sql += &format!(" ORDER BY h.overall, h.account_id LIMIT {limit}");
            rows = self.snapshots(&q).await?;
        }
        let left = limit as usize - rows.len();
        if left > 0 {
            let mut q = self.health_query(day, filter);
            q.sql += " AND h.overall IS NULL";
            if let Some((_, id)) = after.filter(|_| in_unscored) {
                let p = q.param(Value::Text(id.to_string()));
                q.sql += &format!(" AND h.account_id > {p}");
            }
            q.sql += &format!(" ORDER BY h.account_id LIMIT {left}");
            rows.extend(self.snapshots(&q).await?);
        }
        Ok(rows)
    }

    /// The accounts of `owner`'s book (CSM or account manager) whose overall health
    /// on `day` is at least `fall` points below that on `before`, the largest fall
    /// first, at most `limit`.
    pub async fn health_falls_of_owner(
        &self,
        owner: &str,
        day: NaiveDate,
        before: NaiveDate,
        fall: f64,
        limit: u32,
    ) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT a.id FROM accounts a \
             JOIN health_snapshots h ON h.account_id = a.id AND h.day = $2 \
             JOIN health_snapshots b ON b.account_id = a.id AND b.day = $3 \
             WHERE (a.csm_owner = $1 OR a.am_owner = $1) AND h.overall - b.overall <= $4 \
             ORDER BY h.overall - b.overall, a.id LIMIT {limit}"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_scalar(&sql)
                .bind(owner)
                .bind(day)
                .bind(before)
                .bind(-fall)
                .fetch_all(pool)
                .await?
        }))
    }

    /// The accounts of `owner`'s book whose probability of `target` on `day` is at
    /// least `rise` above that on `before`, the largest rise first, at most `limit`.
    pub async fn risk_rises_of_owner(
        &self,
        owner: &str,
        target: &str,
        day: NaiveDate,
        before: NaiveDate,
        rise: f64,
        limit: u32,
    ) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT a.id FROM accounts a \
             JOIN risk_snapshots r ON r.account_id = a.id AND r.target = $2 AND r.day = $3 \
             JOIN risk_snapshots b ON b.account_id = a.id AND b.target = $2 AND b.day = $4 \
             WHERE (a.csm_owner = $1 OR a.am_owner = $1) AND r.probability - b.probability >= $5 \
             ORDER BY b.probability - r.probability, a.id LIMIT {limit}"
        );
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_scalar(&sql)
                .bind(owner)
                .bind(target)
                .bind(day)
                .bind(before)
                .bind(rise)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Whether a page of `limit` accounts in `band` on `day` is read faster from the
    /// band's list than by walking accounts in order. The walk reads about
    /// `limit × scored / in_band` rows before the page is full; the list reads
    /// `in_band` rows and sorts them. Both counts come from indexes.
    async fn band_is_rare(&self, day: NaiveDate, band: &str, limit: u32) -> Result<bool> {
        let scored: i64 = on_backend!(&self.pool, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM health_snapshots WHERE day = $1")
                .bind(day)
                .fetch_one(pool)
                .await?
        });
        // Counted only as far as the answer needs: each row counted is a read.
        let enough = (f64::from(limit) * scored as f64).sqrt().floor() as i64;
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM health_snapshots \
             WHERE day = $1 AND LOWER(band) = $2 LIMIT {}) AS counted",
            enough + 1
        );
        let in_band: i64 = on_backend!(&self.pool, pool => {
            sqlx::query_scalar(&sql)
                .bind(day)
                .bind(band.to_lowercase())
                .fetch_one(pool)
                .await?
        });
        Ok(in_band <= enough)
    }

    /// The snapshots of `day` of accounts matching `filter`, as a query to extend.
    fn health_query(&self, day: NaiveDate, filter: &AccountFilter) -> Query {
        let mut q = Query::default();
        let d = q.param(Value::Date(day));
        q.sql = format!(
            "SELECT h.* FROM health_snapshots h JOIN accounts a ON a.id = h.account_id \
             WHERE h.day = {d}"
        );
        add_filter(&mut q, filter, BandCondition::Joined);
        q
    }

    /// The snapshots of `ids` on `day` (those that exist), by account.
    pub async fn health_snapshots_of(
        &self,
        ids: &[String],
        day: NaiveDate,
    ) -> Result<Vec<HealthSnapshot>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::default();
        let d = q.param(Value::Date(day));
        let list: Vec<String> = ids
            .iter()
            .map(|id| q.param(Value::Text(id.clone())))
            .collect();
        q.sql = format!(
            "SELECT * FROM health_snapshots WHERE day = {d} AND account_id IN ({}) \
             ORDER BY account_id",
            list.join(", ")
        );
        self.snapshots(&q).await
    }

    /// The health snapshots `q` selects.
    async fn snapshots(&self, q: &Query) -> Result<Vec<HealthSnapshot>> {
        select!(
            self,
            HealthSnapshotRow,
            "health_snapshots",
            &q.sql,
            &q.binds()
        )
    }

    /// The overall score of `ids` on each of `days`, where scored: (account, day, score).
    pub async fn health_scores_of(
        &self,
        ids: &[String],
        days: &[NaiveDate],
    ) -> Result<Vec<(String, NaiveDate, Option<f64>)>> {
        if ids.is_empty() || days.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::default();
        let day_list: Vec<String> = days.iter().map(|d| q.param(Value::Date(*d))).collect();
        let id_list: Vec<String> = ids
            .iter()
            .map(|id| q.param(Value::Text(id.clone())))
            .collect();
        q.sql = format!(
            "SELECT account_id, day, overall FROM health_snapshots \
             WHERE day IN ({}) AND account_id IN ({})",
            day_list.join(", "),
            id_list.join(", ")
        );
        Ok(run!(self, (String, NaiveDate, Option<f64>), q))
    }

    /// The accounts of `ids` that exist, by id.
    pub async fn accounts_of(&self, ids: &[String]) -> Result<Vec<Account>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::default();
        let list: Vec<String> = ids
            .iter()
            .map(|id| q.param(Value::Text(id.clone())))
            .collect();
        q.sql = format!(
            "SELECT * FROM accounts WHERE id IN ({}) ORDER BY id",
            list.join(", ")
        );
        select!(self, AccountRow, "accounts", &q.sql, &q.binds())
    }

    /// One account's health, day by day from `from` through `to`: (day, score, band).
    pub async fn health_history(
        &self,
        account_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, Option<f64>, String)>> {
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT day, overall, band FROM health_snapshots \
                 WHERE account_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
            )
            .bind(account_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The latest snapshot of one account on or before `day`.
    pub async fn latest_health_snapshot(
        &self,
        account_id: &str,
        day: NaiveDate,
    ) -> Result<Option<HealthSnapshot>> {
        let rows: Vec<HealthSnapshot> = select!(
            self,
            HealthSnapshotRow,
            "health_snapshots",
            "SELECT * FROM health_snapshots WHERE account_id = $1 AND day <= $2 \
             ORDER BY day DESC LIMIT 1",
            &[Bind::Text(account_id), Bind::Date(day)]
        )?;
        Ok(rows.into_iter().next())
    }
}

/// One page of a table of account records: `$account` limits it to one account,
/// rows in id order after `$after`, at most `$limit`.
macro_rules! record_page {
    ($store:expr, $row:ty, $table:literal, $account:expr, $after:expr, $limit:expr) => {{
        let account: Option<&str> = $account;
        let after: &str = $after;
        let limit: u32 = $limit;
        match account {
            Some(account) => select!(
                $store,
                $row,
                $table,
                &format!(
                    "SELECT * FROM {} WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT {limit}",
                    $table
                ),
                &[Bind::Text(account), Bind::Text(after)]
            ),
            None => select!(
                $store,
                $row,
                $table,
                &format!("SELECT * FROM {} WHERE id > $1 ORDER BY id LIMIT {limit}", $table),
                &[Bind::Text(after)]
            ),
        }
    }};
}

impl Store {
    pub async fn contact_page(
        &self,
        account: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Contact>> {
        record_page!(self, ContactRow, "contacts", account, after, limit)
    }

    pub async fn contract_page(
        &self,
        account: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Contract>> {
        record_page!(self, ContractRow, "contracts", account, after, limit)
    }

    pub async fn ticket_page(
        &self,
        account: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        record_page!(self, TicketRow, "tickets", account, after, limit)
    }

    pub async fn survey_response_page(
        &self,
        account: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<SurveyResponse>> {
        record_page!(
            self,
            SurveyResponseRow,
            "survey_responses",
            account,
            after,
            limit
        )
    }

    pub async fn invoice_page(
        &self,
        account: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Invoice>> {
        record_page!(self, InvoiceRow, "invoices", account, after, limit)
    }

    pub async fn payment_page(
        &self,
        account: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Payment>> {
        record_page!(self, PaymentRow, "payments", account, after, limit)
    }

    pub async fn activity_page(
        &self,
        account: Option<&str>,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Activity>> {
        record_page!(self, ActivityRow, "activities", account, after, limit)
    }

    /// One contact, by id.
    pub async fn contact(&self, id: &str) -> Result<Option<Contact>> {
        let rows: Vec<Contact> = select!(
            self,
            ContactRow,
            "contacts",
            "SELECT * FROM contacts WHERE id = $1",
            &[Bind::Text(id)]
        )?;
        Ok(rows.into_iter().next())
    }
}
