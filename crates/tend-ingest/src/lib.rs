//! Reading customer data files: CSV and JSON Lines rows, and Segment-spec events,
//! parsed into tend's domain types with errors that name the line, the column or
//! field, and the reason.
//!
//! This crate reads bytes and returns domain values; it never writes to a store. The
//! engine decides what to do with good and bad rows.

pub mod entities;
pub mod export;
pub mod record;
pub mod segment;

pub use entities::Entity;
pub use record::{Format, Record, RecordReader, RowError};
