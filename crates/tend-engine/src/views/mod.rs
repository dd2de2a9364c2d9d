//! What the interfaces show and change beyond the CLI's reports: accounts with
//! filters and pages, one account's whole picture and timeline, its records, writes
//! by hand (account fields, contact roles, activities), health pages and metrics
//! for a period. Every write is authorised, validated, audited and done under the
//! application's write lock.

pub mod account_context;
pub mod accounts;
pub mod context;
pub mod health;
pub mod imports;
pub mod metrics;
pub mod page;
pub mod plans;
pub mod records;
pub mod renewals;
pub mod risk;
pub mod timeline;

pub use page::{Cursor, Page, PageRequest};

/// A day after any data: the upper bound of "everything so far". Not
/// `NaiveDate::MAX`, whose text form does not sort after real days in SQLite.
pub const LAST_DAY: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(day) => day,
    None => panic!("9999-12-31 is a date"),
};
