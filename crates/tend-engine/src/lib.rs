//! The application services of tend: what the CLI (and later the server) call.
//! Each service reads or writes through the [`tend_store::Store`] and leaves the
//! computing to the pure crates.

pub mod access;
pub mod account_plans;
pub mod app;
pub mod as_of;
pub mod demo;
pub mod expansion;
pub mod export;
pub mod forecast;
pub mod health;
pub mod import;
pub mod ingest;
pub mod jobs;
pub mod kept;
pub mod playbooks;
pub mod policy;
pub mod proposals;
pub mod renewal_calls;
pub mod retention;
pub mod risk;
pub mod summary;
pub mod views;
pub mod webhooks;

pub use app::{App, AppError, Clock, FixedClock, SystemClock};
pub use as_of::{default_day, AsOf};
pub use import::{
    entity_of_file, import_file, import_folder, FolderReport, ImportError, ImportOptions,
    ImportProgress, ImportReport, ImportStage,
};
pub use policy::{authorize, Action, Actor};
