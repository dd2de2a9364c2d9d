//! `tend health ACCOUNT --explain`: one account's score on a day, measure by measure,
//! against 30 days earlier, computed from the data as it was on each day.

use chrono::{Days, NaiveDate};
use tend_core::health::{readings, score, Explanation, Scorecard, ScorecardSet};
use tend_core::Account;
use tend_store::Store;

use super::facts::{history_window, Loaded};
use super::HealthError;

/// How far back an explanation compares.
pub const COMPARE_DAYS: u64 = 30;

/// Explains `account_id`'s health on `day` against `COMPARE_DAYS` earlier. An account
/// that had churned by `day` is explained on its last day before churning, which the
/// explanation's `day` then says.
pub async fn explain_account(
    store: &Store,
    set: &ScorecardSet,
    account_id: &str,
    day: NaiveDate,
) -> Result<(Account, Explanation), HealthError> {
    let Some(account) = store.account(account_id).await? else {
        return Err(HealthError::UnknownAccount(account_id.to_string()));
    };
    let day = match account.churned_on {
        Some(churned) if churned <= day => churned.pred_opt().unwrap_or(churned),
        _ => day,
    };
    let earlier = day - Days::new(COMPARE_DAYS);
    let window = history_window(set, earlier);
    let loaded = Loaded::load(store, account_id, account_id, None, window).await?;
    let account = loaded.accounts().first().cloned().unwrap_or(account);
    let card = set.for_account(&account);
    let facts = loaded.facts(0);
    let segment = account.segment.clone().unwrap_or_default();
    let mut scored = Vec::new();
    for on in [day, earlier] {
        let readings = readings(card, &facts, on);
        let raw: Vec<Option<f64>> = readings.iter().map(|r| r.value).collect();
        let lists = segment_lists(store, card, &segment, on).await?;
        let health = score(card, &raw, |i| lists[i].as_slice());
        scored.push((on, health, readings));
    }
    let (before, now) = (
        scored.pop().expect("two days"),
        scored.pop().expect("two days"),
    );
    let explanation = Explanation::new(
        card,
        (now.0, now.1, now.2.as_slice()),
        (before.0, before.1, before.2.as_slice()),
    );
    Ok((account, explanation))
}

/// The stored segment distributions of `card`'s measures on `day` (empty lists when
/// none were stored, which percentile rules score as the middle).
async fn segment_lists(
    store: &Store,
    card: &Scorecard,
    segment: &str,
    day: NaiveDate,
) -> Result<Vec<Vec<f64>>, HealthError> {
    let mut lists = vec![Vec::new(); card.measures().count()];
    for d in store.health_distributions(&card.name, segment, day).await? {
        if let Some(list) = lists.get_mut(d.measure) {
            *list = d.values;
        }
    }
    Ok(lists)
}
