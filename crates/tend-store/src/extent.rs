//! How far the stored data reaches: the last day of each kind of time-stamped data,
//! kept as it is written, and the day the store's data is complete for.

use chrono::NaiveDate;

use crate::{on_backend, on_tx, Result, Store, Transaction};

/// The kinds of time-stamped data whose last day the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataSource {
    /// Usage events and daily rollups: the densest feed, so the store's clock.
    Usage,
    Tickets,
    Surveys,
    Invoices,
    Payments,
    Activities,
}

impl DataSource {
    pub const ALL: &'static [DataSource] = &[
        DataSource::Usage,
        DataSource::Tickets,
        DataSource::Surveys,
        DataSource::Invoices,
        DataSource::Payments,
        DataSource::Activities,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            DataSource::Usage => "usage",
            DataSource::Tickets => "tickets",
            DataSource::Surveys => "surveys",
            DataSource::Invoices => "invoices",
            DataSource::Payments => "payments",
            DataSource::Activities => "activities",
        }
    }

    fn parse(text: &str) -> Option<DataSource> {
        DataSource::ALL.iter().copied().find(|s| s.as_str() == text)
    }
}

/// The last day of each kind of data in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataExtent {
    pub last_days: Vec<(DataSource, NaiveDate)>,
}

impl DataExtent {
    pub fn last_day(&self, source: DataSource) -> Option<NaiveDate> {
        self.last_days
            .iter()
            .find(|(s, _)| *s == source)
            .map(|&(_, day)| day)
    }

    /// The last day the store's data is complete for, never after `today`: the last
    /// day of usage data when there is any (the feed that runs every day), else the
    /// last day of any other data; `None` for a store without time-stamped data.
    pub fn complete_through(&self, today: NaiveDate) -> Option<NaiveDate> {
        let last = self
            .last_day(DataSource::Usage)
            .or_else(|| self.last_days.iter().map(|&(_, day)| day).max())?;
        Some(last.min(today))
    }
}

impl DataExtent {
    fn from_rows(rows: Vec<(String, NaiveDate)>) -> DataExtent {
        let mut last_days: Vec<(DataSource, NaiveDate)> = rows
            .into_iter()
            .filter_map(|(source, day)| Some((DataSource::parse(&source)?, day)))
            .collect();
        last_days.sort();
        DataExtent { last_days }
    }
}

const EXTENT_SQL: &str = "SELECT source, last_day FROM data_extent ORDER BY source";

impl Store {
    /// The first day of product usage, imported or from raw events: before it, an
    /// account's usage measures have nothing to read.
    pub async fn first_usage_day(&self) -> Result<Option<NaiveDate>> {
        let sql = "SELECT MIN(day) FROM (SELECT MIN(day) AS day FROM usage_daily \
                   UNION ALL SELECT MIN(day) AS day FROM usage_event_daily) AS firsts";
        let day: Option<NaiveDate> = on_backend!(&self.pool, pool => {
            sqlx::query_scalar(sql).fetch_one(pool).await?
        });
        Ok(day)
    }

    pub async fn data_extent(&self) -> Result<DataExtent> {
        let rows: Vec<(String, NaiveDate)> = on_backend!(&self.pool, pool => {
            sqlx::query_as(EXTENT_SQL)
                .fetch_all(pool)
                .await?
        });
        Ok(DataExtent::from_rows(rows))
    }
}

impl Transaction {
    /// Records that `source` has data on `day`; the kept last day only moves forward.
    pub async fn extend_data_extent(&mut self, source: DataSource, day: NaiveDate) -> Result<()> {
        on_tx!(&mut self.tx, conn => {
            sqlx::query(
                "INSERT INTO data_extent (source, last_day) VALUES ($1, $2) \
                 ON CONFLICT (source) DO UPDATE SET last_day = CASE \
                 WHEN excluded.last_day > data_extent.last_day THEN excluded.last_day \
                 ELSE data_extent.last_day END",
            )
            .bind(source.as_str())
            .bind(day)
            .execute(&mut **conn)
            .await?;
        });
        Ok(())
    }

    /// The extent as this transaction sees it (its own writes included).
    pub async fn data_extent(&mut self) -> Result<DataExtent> {
        let rows: Vec<(String, NaiveDate)> = on_tx!(&mut self.tx, conn => {
            sqlx::query_as(EXTENT_SQL)
                .fetch_all(&mut **conn)
                .await?
        });
        Ok(DataExtent::from_rows(rows))
    }
}
