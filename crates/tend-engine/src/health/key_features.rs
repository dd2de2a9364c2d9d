//! Checking scorecards' key features against the event names the store's usage
//! actually has, so a mapping that matches nothing is said instead of scoring every
//! account's feature adoption as zero.

use chrono::{Days, NaiveDate};
use tend_core::health::ScorecardSet;
use tend_core::money::group_thousands;
use tend_store::{Store, StoreError};

/// How far back event names count as seen.
pub const SEEN_DAYS: u64 = 90;
/// How many of the most frequent event names a warning lists.
const LISTED_NAMES: usize = 8;

/// One warning per scorecard whose key features match no event name seen in the
/// `SEEN_DAYS` days to `day`, listing the most frequent names seen. None when the
/// store has no usage in that time.
pub async fn key_feature_warnings(
    store: &Store,
    set: &ScorecardSet,
    day: NaiveDate,
) -> Result<Vec<String>, StoreError> {
    let since = day - Days::new(SEEN_DAYS - 1);
    let seen = store.event_names_since(since).await?;
    if seen.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<&str> = seen.iter().map(|(name, _)| name.as_str()).collect();
    let frequent: Vec<String> = seen
        .iter()
        .take(LISTED_NAMES)
        .map(|(name, events)| format!("{name:?} ({})", group_thousands(*events as u64)))
        .collect();
    Ok(set
        .unmatched_key_features(&names)
        .into_iter()
        .map(|(card, features)| {
            format!(
                "scorecard \"{card}\": key features {} match no event seen in the {SEEN_DAYS} days to {day}; \
                 the most frequent event names are {}. Map them with key_features = [{{ name = \"…\", events = [\"…\"] }}] (docs/health.md).",
                features.join(", "),
                frequent.join(", ")
            )
        })
        .collect())
}
