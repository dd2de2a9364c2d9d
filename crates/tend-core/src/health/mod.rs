//! Account health: measures computed from an account's data, scoring rules that turn
//! them into 0–100 scores, scorecards that weigh them, and explanations of a change.

pub mod explain;
pub mod measures;
pub mod rules;
pub mod score;
pub mod scorecard;

pub use explain::{describe_change, format_value, readings, Explanation, MeasureChange, Reading};
pub use measures::{
    measure, AccountFacts, Context, Format, History, MeasureSpec, Source, MEASURES,
};
pub use rules::{Band, Comparison, Rule};
pub use score::{raw_values, score, GroupScore, HealthScore, HealthSnapshot, MeasureScore};
pub use scorecard::{
    FilePath, HealthBand, MissingData, PathStep, Scorecard, ScorecardError, ScorecardSet,
};
