//! The one rule for the day a command reports on when none is given: the last day the
//! store's data is complete for (see [`tend_store::DataExtent::complete_through`]),
//! never after today; today for a store without time-stamped data.

use chrono::NaiveDate;
use tend_store::{Store, StoreError};

/// The day a command reports on, and whether it was chosen by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOf {
    pub day: NaiveDate,
    /// True when the day is the default (the last day of the store's data or today),
    /// so the interface can say which day it used.
    pub defaulted: bool,
}

impl AsOf {
    /// `given`, or else the last day of the store's data.
    pub async fn resolve(
        store: &Store,
        given: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<AsOf, StoreError> {
        Ok(match given {
            Some(day) => AsOf {
                day,
                defaulted: false,
            },
            None => AsOf {
                day: default_day(store, today).await?,
                defaulted: true,
            },
        })
    }
}

/// The last day of the store's data, capped at `today`; `today` without data.
pub async fn default_day(store: &Store, today: NaiveDate) -> Result<NaiveDate, StoreError> {
    Ok(store
        .data_extent()
        .await?
        .complete_through(today)
        .unwrap_or(today))
}
