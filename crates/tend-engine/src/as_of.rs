//! The one rule for the day a command reports on when none is given: the last day the
//! store's data is complete for (see [`tend_store::DataExtent::complete_through`]),
//! never after today; today for a store without time-stamped data.

use chrono::NaiveDate;
use tend_core::*;
use tend_store::{DataSource, Store, StoreError, Transaction};

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

/// The kind of time-stamped data a record is and the day it is about, for the store's
/// data extent; `None` for records without such a day (accounts, contracts, …).
pub(crate) trait Dated {
    fn data_day(&self) -> Option<(DataSource, NaiveDate)>;
}

macro_rules! dated {
    ($($type:ty => |$r:ident| $value:expr),+ $(,)?) => {
        $(impl Dated for $type {
            fn data_day(&self) -> Option<(DataSource, NaiveDate)> {
                let $r = self;
                $value
            }
        })+
    };
}

dated! {
    UsageEvent => |e| Some((DataSource::Usage, e.timestamp.date_naive())),
    UsageDaily => |u| Some((DataSource::Usage, u.day)),
    Ticket => |t| Some((DataSource::Tickets, t.created_at.date_naive())),
    SurveyResponse => |s| Some((DataSource::Surveys, s.responded_at.date_naive())),
    Invoice => |i| Some((DataSource::Invoices, i.issued_on)),
    Payment => |p| Some((DataSource::Payments, p.attempted_at.date_naive())),
    Activity => |a| Some((DataSource::Activities, a.occurred_at.date_naive())),
    Account => |_a| None,
    Contact => |_c| None,
    Contract => |_c| None,
    DemoTruth => |_t| None,
    // Plans are set ahead: their days say nothing of how far the data goes.
    Objective => |_o| None,
    Milestone => |_m| None,
    StageEntry => |_s| None,
}

/// Moves the store's data extent forward to the last day of `rows`.
pub(crate) async fn extend_extent<T: Dated>(
    tx: &mut Transaction,
    rows: &[T],
) -> Result<(), StoreError> {
    if let Some((source, day)) = rows
        .iter()
        .filter_map(Dated::data_day)
        .max_by_key(|&(_, d)| d)
    {
        tx.extend_data_extent(source, day).await?;
    }
    Ok(())
}
