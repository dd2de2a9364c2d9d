//! The account health service: scorecards from configuration, daily snapshots
//! (full rescore, backfill, and the incremental path after new data), the portfolio
//! table with trends, explanations, and the evaluation of a scorecard against churn.
//! Measures, rules and scoring are pure functions in `tend_core::health`.

pub mod config;
pub mod evaluate;
pub mod explain;
pub(crate) mod facts;
pub mod fresh;
pub mod key_features;
pub mod portfolio;
pub mod scoring;

use std::path::PathBuf;

use chrono::NaiveDate;
use tend_store::StoreError;

pub use config::{load_scorecards, parse_scorecards, DEFAULT_SCORECARDS};
pub use evaluate::{evaluate, Evaluation, SegmentEvaluation};
pub use explain::{explain_account, COMPARE_DAYS};
pub use fresh::{
    refresh_after_import, store_events, store_survey_responses, store_tickets, Stored,
};
pub use key_features::key_feature_warnings;
pub use portfolio::{portfolio_health, HealthRow, PortfolioFilter};
pub use scoring::{
    backfill, rebuild_distribution, refresh_accounts, rescore, score_day, HealthRun,
};
pub(crate) use scoring::{load_runs_of, raw_values_of_loaded, store_refreshed, LoadedRun};

#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    #[error("{origin}: {message}")]
    Scorecard { origin: String, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no account with id {0:?}")]
    UnknownAccount(String),
    #[error("no health snapshots on {0}")]
    NoSnapshots(NaiveDate),
    #[error("no health snapshots yet")]
    NoHealth,
    #[error(transparent)]
    Store(#[from] StoreError),
}
