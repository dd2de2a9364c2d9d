//! The application services of tend: what the CLI (and later the server) call.
//! Each service reads or writes through the [`tend_store::Store`] and leaves the
//! computing to the pure crates.

pub mod demo;
pub mod export;
pub mod health;
pub mod import;
pub mod summary;

pub use import::{
    import_file, ImportError, ImportOptions, ImportProgress, ImportReport, ImportStage,
};
