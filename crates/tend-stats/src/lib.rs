//! Statistical models behind tend's churn risk, retention curves and forecasts,
//! written to reproduce the reference libraries (lifelines, lifetimes, scikit-learn)
//! to their published precision.
//!
//! Pure numerics: slices in, numbers out. No I/O, no clocks, nothing of tend's domain.

pub mod backtest;
pub mod boosting;
pub mod calibration;
pub mod churn;
pub mod classifier;
pub mod clv;
pub mod concordance;
pub mod cox;
pub mod evaluation;
pub mod forecast;
pub mod kaplan_meier;
mod linalg;
pub mod logistic;
pub mod logrank;
mod optimize;
pub mod sbg;
pub mod special;

pub use boosting::{BoostedTrees, BoostingOptions};
pub use classifier::{Classifier, Contributions};
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
    #[error("customer {row}: {reason}")]
    InvalidCustomer { row: usize, reason: String },
    #[error("scores must be finite, got {0}")]
    InvalidScore(f64),
    #[error("a probability must be between 0 and 1, got {0}")]
    InvalidProbability(f64),
    #[error("{0} must be finite and not negative, got {1}")]
    InvalidAmount(&'static str, f64),
    #[error("the model could not be fitted: {0}")]
    Model(String),
    #[error("the calibration period must end before the observation period ({calibration_end} is not before {observation_end})")]
    InvalidSplit {
        calibration_end: i64,
        observation_end: i64,
    },
    #[error("the fit did not converge: the data do not determine the model (too few rows, collinear covariates or complete separation?)")]
    DidNotConverge,
}

/// Checks what every survival model needs: one event flag per duration, at least one
/// row, and durations that are finite and not negative.
pub(crate) fn check_survival_data(durations: &[f64], observed: &[bool]) -> Result<(), StatsError> {
    if durations.len() != observed.len() {
        return Err(StatsError::LengthMismatch("durations", "observed"));
    }
    if durations.is_empty() {
        return Err(StatsError::Empty);
    }
    match durations.iter().find(|d| !d.is_finite() || **d < 0.0) {
        Some(&bad) => Err(StatsError::InvalidDuration("durations", bad)),
        None => Ok(()),
    }
}
