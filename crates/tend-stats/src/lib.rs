//! Statistical models behind tend's churn risk, retention curves and forecasts,
//! written to reproduce the reference libraries (lifelines, lifetimes, scikit-learn)
//! to their published precision.
//!
//! Pure numerics: slices in, numbers out. No I/O, no clocks, nothing of tend's domain.

pub mod concordance;
pub mod cox;
pub mod kaplan_meier;
mod linalg;
pub mod logrank;

pub use concordance::concordance_index;
pub use cox::{CoxData, CoxModel, CoxOptions, Ties};
pub use kaplan_meier::KaplanMeier;
pub use logrank::{logrank_test, LogRankResult};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("{0} and {1} must have the same length")]
    LengthMismatch(&'static str, &'static str),
    #[error("no observations")]
    Empty,
    #[error("{0} must be finite and not negative, got {1}")]
    InvalidDuration(&'static str, f64),
    #[error("alpha must be between 0 and 1, got {0}")]
    InvalidAlpha(f64),
    #[error("the log-rank test needs at least two groups")]
    TooFewGroups,
    #[error("covariate {0} does not vary, so its effect cannot be estimated")]
    ConstantCovariate(usize),
    #[error("the fit did not converge (collinear covariates or complete separation?)")]
    DidNotConverge,
}
