//! The domain of tend: validated types for customer data and the pure functions that
//! turn that data into success metrics.
//!
//! This crate never performs I/O, never reads a clock and never spawns tasks: callers
//! pass the data and the date they want the answer for. That keeps every metric a plain
//! function that can be tested on hand-computed cases.

pub mod access;
pub mod expansion;
pub mod fx;
pub mod guardrails;
pub mod health;
pub mod metrics;
pub mod model;
pub mod money;
pub mod period;
pub mod playbook;
pub mod relationships;
pub mod renewal;
pub mod retention;
pub mod risk;
pub mod rollup;
pub mod signals;
pub mod summary;

pub use fx::{FxRate, FxTable, LeftOut, Reporting};
pub use model::*;
pub use money::{Currency, Money, MoneyError};
pub use period::{CalendarKind, CalendarPeriod, Period};
