//! Account health: measures computed from an account's data, scoring rules that turn
//! them into 0–100 scores, and scorecards that weigh them.

pub mod measures;
pub mod rules;

pub use measures::{measure, AccountFacts, Context, MeasureSpec, MEASURES};
pub use rules::{Band, Comparison, Rule};
pub mod score;
pub mod scorecard;

pub use score::{raw_values, score, GroupScore, HealthScore, MeasureScore};
pub use scorecard::{HealthBand, MissingData, Scorecard, ScorecardError, ScorecardSet};
