//! Queries over stored customer data. Lists come back in id order so that two stores
//! holding the same data return equal lists.

use std::collections::HashSet;

use futures_util::TryStreamExt;
use tend_core::*;

use crate::rows::*;
use crate::sqlite_read::Bind;
use crate::{on_backend, Result, Store, StoreError};

/// Fetches every row of a query (with its bound parameters, in order) as `$row` and
/// converts each into the domain type.
macro_rules! list {
    ($store:expr, $row:ty, $sql:expr $(, $bind:expr)*) => {{
        let rows: Vec<$row> = on_backend!(&$store.pool, pool => {
            sqlx::query_as::<_, $row>($sql)$(.bind($bind))*.fetch_all(pool).await?
        });
        rows.into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, $crate::StoreError>>()
    }};
}
pub(crate) use list;

/// Row counts of every customer-data table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub accounts: i64,
    pub contacts: i64,
    pub contracts: i64,
    pub usage_events: i64,
    pub usage_daily: i64,
    pub usage_event_daily: i64,
    pub usage_pending: i64,
    pub tickets: i64,
    pub survey_responses: i64,
    pub invoices: i64,
    pub payments: i64,
    pub activities: i64,
    pub fx_rates: i64,
    pub demo_truth: i64,
}

impl Store {
    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_backend!(&self.pool, pool => {
            sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(pool).await?;
        });
        Ok(())
    }

    pub async fn accounts(&self) -> Result<Vec<Account>> {
        crate::sqlite_read::select!(
            self,
            AccountRow,
            "accounts",
            "SELECT * FROM accounts ORDER BY id",
            &[]
        )
    }

    pub async fn account(&self, id: &str) -> Result<Option<Account>> {
        let rows: Vec<Account> = crate::sqlite_read::select!(
            self,
            AccountRow,
            "accounts",
            "SELECT * FROM accounts WHERE id = $1",
            &[Bind::Text(id)]
        )?;
        Ok(rows.into_iter().next())
    }

    pub async fn contacts(&self) -> Result<Vec<Contact>> {
        list!(self, ContactRow, "SELECT * FROM contacts ORDER BY id")
    }

    pub async fn contracts(&self) -> Result<Vec<Contract>> {
        crate::sqlite_read::select!(
            self,
            ContractRow,
            "contracts",
            "SELECT * FROM contracts ORDER BY id",
            &[]
        )
    }

    /// The accounts of an owner's book (its CSM or account manager), by id.
    pub async fn accounts_of_owner(&self, owner: &str) -> Result<Vec<Account>> {
        crate::sqlite_read::select!(
            self,
            AccountRow,
            "accounts",
            "SELECT * FROM accounts WHERE csm_owner = $1 OR am_owner = $1 ORDER BY id",
            &[Bind::Text(owner)]
        )
    }

    /// The contracts of the accounts of an owner's book, by id.
    pub async fn contracts_of_owner(&self, owner: &str) -> Result<Vec<Contract>> {
        crate::sqlite_read::select!(
            self,
            ContractRow,
            "contracts",
            "SELECT c.* FROM contracts c JOIN accounts a ON a.id = c.account_id \
             WHERE a.csm_owner = $1 OR a.am_owner = $1 ORDER BY c.id",
            &[Bind::Text(owner)]
        )
    }

    pub async fn contracts_of(&self, account_id: &str) -> Result<Vec<Contract>> {
        crate::sqlite_read::select!(
            self,
            ContractRow,
            "contracts",
            "SELECT * FROM contracts WHERE account_id = $1 ORDER BY id",
            &[Bind::Text(account_id)]
        )
    }

    pub async fn usage_events(&self) -> Result<Vec<UsageEvent>> {
        list!(
            self,
            UsageEventRow,
            "SELECT * FROM usage_events ORDER BY message_id"
        )
    }

    pub async fn usage_daily(&self) -> Result<Vec<UsageDaily>> {
        list!(
            self,
            UsageDailyRow,
            "SELECT * FROM usage_daily ORDER BY account_id, day"
        )
    }

    /// The segments accounts are in, sorted.
    pub async fn segments(&self) -> Result<Vec<String>> {
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_scalar(
                "SELECT DISTINCT segment FROM accounts WHERE segment IS NOT NULL ORDER BY segment",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Every CSM and account manager named on an account, sorted.
    pub async fn owners(&self) -> Result<Vec<String>> {
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_scalar(
                "SELECT csm_owner FROM accounts WHERE csm_owner IS NOT NULL \
                 UNION SELECT am_owner FROM accounts WHERE am_owner IS NOT NULL ORDER BY 1",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// One account's daily usage from `from` through `to`: its imported rollups and
    /// those of raw events, combined by the rule health reads them with.
    pub async fn usage_of(
        &self,
        account_id: &str,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<UsageDaily>> {
        let imported: Vec<UsageDaily> = list!(
            self,
            UsageDailyRow,
            "SELECT * FROM usage_daily WHERE account_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
            account_id,
            from,
            to
        )?;
        let from_events: Vec<UsageDaily> = list!(
            self,
            UsageDailyRow,
            "SELECT * FROM usage_event_daily WHERE account_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
            account_id,
            from,
            to
        )?;
        Ok(tend_core::rollup::combine_usage(&imported, &from_events))
    }

    /// The rollups tend computed from raw events.
    pub async fn event_usage_daily(&self) -> Result<Vec<UsageDaily>> {
        list!(
            self,
            UsageDailyRow,
            "SELECT * FROM usage_event_daily ORDER BY account_id, day"
        )
    }

    /// Event names seen in usage on `since` or later, with the events counted for
    /// each, most first.
    pub async fn event_names_since(&self, since: chrono::NaiveDate) -> Result<Vec<(String, i64)>> {
        Ok(on_backend!(&self.pool, pool => {
            sqlx::query_as(
                "SELECT name, events FROM usage_event_names WHERE last_day >= $1 \
                 ORDER BY events DESC, name",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        }))
    }

    pub async fn tickets(&self) -> Result<Vec<Ticket>> {
        list!(self, TicketRow, "SELECT * FROM tickets ORDER BY id")
    }

    pub async fn survey_responses(&self) -> Result<Vec<SurveyResponse>> {
        list!(
            self,
            SurveyResponseRow,
            "SELECT * FROM survey_responses ORDER BY id"
        )
    }

    pub async fn invoices(&self) -> Result<Vec<Invoice>> {
        list!(self, InvoiceRow, "SELECT * FROM invoices ORDER BY id")
    }

    pub async fn payments(&self) -> Result<Vec<Payment>> {
        list!(self, PaymentRow, "SELECT * FROM payments ORDER BY id")
    }

    pub async fn activities(&self) -> Result<Vec<Activity>> {
        list!(self, ActivityRow, "SELECT * FROM activities ORDER BY id")
    }

    pub async fn fx_rates(&self) -> Result<Vec<FxRate>> {
        list!(
            self,
            FxRateRow,
            "SELECT * FROM fx_rates ORDER BY currency, base, date"
        )
    }

    pub async fn demo_truth(&self) -> Result<Vec<DemoTruth>> {
        list!(
            self,
            DemoTruthRow,
            "SELECT * FROM demo_truth ORDER BY account_id"
        )
    }

    /// Ids already stored in `table` (one of the customer-data tables), so importers
    /// can check references before writing.
    pub async fn ids(&self, table: IdTable) -> Result<HashSet<String>> {
        let sql = match table {
            IdTable::Accounts => "SELECT id FROM accounts",
            IdTable::Invoices => "SELECT id FROM invoices",
        };
        on_backend!(&self.pool, pool => {
            sqlx::query_scalar::<_, String>(sql).fetch(pool).try_collect().await
        })
        .map_err(StoreError::from)
    }

    pub async fn counts(&self) -> Result<TableCounts> {
        let count = |table: &'static str| async move {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            on_backend!(&self.pool, pool => {
                sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await
            })
        };
        Ok(TableCounts {
            accounts: count("accounts").await?,
            contacts: count("contacts").await?,
            contracts: count("contracts").await?,
            usage_events: count("usage_events").await?,
            usage_daily: count("usage_daily").await?,
            usage_event_daily: count("usage_event_daily").await?,
            usage_pending: count("usage_pending").await?,
            tickets: count("tickets").await?,
            survey_responses: count("survey_responses").await?,
            invoices: count("invoices").await?,
            payments: count("payments").await?,
            activities: count("activities").await?,
            fx_rates: count("fx_rates").await?,
            demo_truth: count("demo_truth").await?,
        })
    }
}

/// Tables whose ids other rows refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTable {
    Accounts,
    Invoices,
}
