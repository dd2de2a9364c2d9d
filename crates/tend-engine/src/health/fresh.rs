//! Keeping health fresh: storing new data for a few accounts and rescoring just those
//! accounts at once, instead of waiting for the next full rescore.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use tend_core::health::{HealthSnapshot, ScorecardSet};
use tend_core::{SurveyResponse, Ticket, UsageEvent};
use tend_store::Store;

use super::scoring::refresh_accounts;
use super::{default_day, HealthError};

/// What storing a batch did.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Rows stored: new events (those already stored are skipped), or every ticket
    /// and survey response, new or updated.
    pub new_rows: u64,
    /// The fresh health of every account the batch touched.
    pub snapshots: Vec<HealthSnapshot>,
}

/// Stores a batch of usage events, recomputes the rollups they change and the health
/// of their accounts on `day`, all before returning.
pub async fn store_events(
    store: &Store,
    set: &ScorecardSet,
    events: &[UsageEvent],
    day: NaiveDate,
) -> Result<Stored, HealthError> {
    let mut days: BTreeMap<&str, (NaiveDate, NaiveDate)> = BTreeMap::new();
    for e in events {
        let d = e.timestamp.date_naive();
        let span = days.entry(e.account_id.as_str()).or_insert((d, d));
        span.0 = span.0.min(d);
        span.1 = span.1.max(d);
    }
    let mut tx = store.begin().await?;
    let new_rows = tx.insert_usage_events(events).await?;
    for (account, (first, last)) in &days {
        tx.refresh_usage_rollups(account, *first, *last).await?;
    }
    tx.commit().await?;
    let accounts: Vec<String> = days.keys().map(|a| a.to_string()).collect();
    let snapshots = refresh_accounts(store, set, &accounts, day).await?;
    Ok(Stored {
        new_rows,
        snapshots,
    })
}

/// Stores tickets (new or updated) and refreshes their accounts' health on `day`.
pub async fn store_tickets(
    store: &Store,
    set: &ScorecardSet,
    tickets: &[Ticket],
    day: NaiveDate,
) -> Result<Stored, HealthError> {
    let mut tx = store.begin().await?;
    tx.upsert_tickets(tickets).await?;
    tx.commit().await?;
    let accounts = distinct(tickets.iter().map(|t| &t.account_id));
    Ok(Stored {
        new_rows: tickets.len() as u64,
        snapshots: refresh_accounts(store, set, &accounts, day).await?,
    })
}

/// Stores survey responses and refreshes their accounts' health on `day`.
pub async fn store_survey_responses(
    store: &Store,
    set: &ScorecardSet,
    responses: &[SurveyResponse],
    day: NaiveDate,
) -> Result<Stored, HealthError> {
    let mut tx = store.begin().await?;
    tx.upsert_survey_responses(responses).await?;
    tx.commit().await?;
    let accounts = distinct(responses.iter().map(|s| &s.account_id));
    Ok(Stored {
        new_rows: responses.len() as u64,
        snapshots: refresh_accounts(store, set, &accounts, day).await?,
    })
}

fn distinct<'a>(ids: impl Iterator<Item = &'a String>) -> Vec<String> {
    ids.cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

/// After an import: refreshes the health of the accounts it changed, if health is
/// kept in this store at all. Returns how many accounts were rescored.
pub async fn refresh_after_import(
    store: &Store,
    set: &ScorecardSet,
    accounts: &BTreeSet<String>,
    today: NaiveDate,
) -> Result<usize, HealthError> {
    if accounts.is_empty() || store.latest_health_day().await?.is_none() {
        return Ok(0);
    }
    let day = default_day(store, today).await?;
    let ids: Vec<String> = accounts.iter().cloned().collect();
    Ok(refresh_accounts(store, set, &ids, day).await?.len())
}
