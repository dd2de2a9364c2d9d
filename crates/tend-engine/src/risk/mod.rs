//! Churn risk learned from the company's own history: feature rows of account
//! snapshots at past dates (`rows`), a model chosen and calibrated by a time-split
//! backtest (`fit`), daily risk snapshots with their reasons in words (`score`), and
//! the portfolio's risk table (`view`). Formulas live in `tend_core::risk`, models in
//! `tend_stats::churn`.

pub mod fit;
pub mod rows;
pub mod score;
pub mod view;

use chrono::NaiveDate;
use tend_core::Currency;
use tend_stats::StatsError;
use tend_store::StoreError;

use crate::health::HealthError;

pub use fit::{evaluate, export_training_rows, refit, Refit, RiskEvaluation};
pub use score::{rescore, score_accounts};
pub use view::{explain_risk, risk_table, RiskExplanation, RiskGroup, RiskRow, RiskTable};

/// What a model learns to predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The account churns within the horizon.
    Churn,
    /// A renewal falls due within the horizon and is not renewed.
    NonRenewal,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Churn => "churn",
            Target::NonRenewal => "non_renewal",
        }
    }

    pub fn parse(text: &str) -> Option<Target> {
        [Target::Churn, Target::NonRenewal]
            .into_iter()
            .find(|t| t.as_str() == text)
    }

    /// "churns within 180 days".
    pub fn describe(self, horizon_days: u32) -> String {
        match self {
            Target::Churn => format!("churns within {horizon_days} days"),
            Target::NonRenewal => {
                format!("does not renew at a renewal due within {horizon_days} days")
            }
        }
    }
}

/// Probabilities at or above `high` are high risk, at or above `medium` medium.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    pub high: f64,
    pub medium: f64,
}

impl Default for Bands {
    fn default() -> Self {
        Bands {
            high: 0.30,
            medium: 0.10,
        }
    }
}

impl Bands {
    /// The bands' names, highest risk first.
    pub const NAMES: [&'static str; 3] = ["high", "medium", "low"];

    pub fn band(&self, probability: f64) -> &'static str {
        let [high, medium, low] = Bands::NAMES;
        if probability >= self.high {
            high
        } else if probability >= self.medium {
            medium
        } else {
            low
        }
    }
}

/// How models are fitted and scored.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskOptions {
    pub target: Target,
    /// Days after a snapshot in which the outcome counts.
    pub horizon_days: u32,
    /// Days between training snapshots.
    pub every_days: u32,
    /// Training snapshots per account at most, back from the last day of the data.
    pub snapshots: usize,
    pub bands: Bands,
    /// The currency ARR is compared in; by default the one with the most ARR.
    pub currency: Option<Currency>,
}

impl Default for RiskOptions {
    fn default() -> Self {
        RiskOptions {
            target: Target::Churn,
            horizon_days: 180,
            every_days: 30,
            snapshots: 24,
            bands: Bands::default(),
            currency: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error(transparent)]
    Health(#[from] HealthError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the churn model: {0}")]
    Stats(#[from] StatsError),
    #[error("no {0} model has been fitted yet: run `tend risk refit`")]
    NoModel(&'static str),
    #[error("the stored {target} model no. {id} cannot be used: {reason}; run `tend risk refit`")]
    StoredModel {
        target: &'static str,
        id: i64,
        reason: String,
    },
    #[error("no account with id {0:?}")]
    UnknownAccount(String),
    #[error("account {0} was not a customer on {1}")]
    NotActive(String, NaiveDate),
    #[error("no risk snapshots on {0}: run `tend risk rescore`")]
    NoSnapshots(NaiveDate),
    #[error("writing the training rows failed: {0}")]
    Export(String),
}
