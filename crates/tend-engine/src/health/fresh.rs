//! Keeping health fresh: storing new data for a few accounts and rescoring just those
//! accounts at once, instead of waiting for the next full rescore.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use tend_core::health::{HealthSnapshot, ScorecardSet};
use tend_core::{SurveyResponse, Ticket, UsageEvent};
use tend_store::Store;

use super::scoring::{refresh_accounts, rescore};
use super::HealthError;
use crate::as_of::default_day;
use crate::import::Session;

/// What storing a batch did.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// Rows stored: new events (those already stored are skipped), or every ticket
    /// and survey response, new or updated.
    pub new_rows: u64,
    /// The fresh health of every account the batch touched.
    pub snapshots: Vec<HealthSnapshot>,
}

/// Stores a batch of usage events (already tied to their accounts), recomputes the
/// rollups they change and the health of their accounts on `day`, all before
/// returning.
pub async fn store_events(
    store: &Store,
    set: &ScorecardSet,
    events: &[UsageEvent],
    day: NaiveDate,
) -> Result<Stored, HealthError> {
    let mut session = Session::begin(store, chrono::Utc::now().date_naive()).await?;
    let new_rows = session.write_events(events).await?;
    session.finish("events", chrono::Utc::now()).await?;
    let accounts = distinct(events.iter().map(|e| &e.account_id));
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
    let accounts = distinct(tickets.iter().map(|t| &t.account_id));
    tx.record_changes(&as_strs(&accounts), "tickets", chrono::Utc::now())
        .await?;
    tx.commit().await?;
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
    let accounts = distinct(responses.iter().map(|s| &s.account_id));
    tx.record_changes(&as_strs(&accounts), "survey_responses", chrono::Utc::now())
        .await?;
    tx.commit().await?;
    Ok(Stored {
        new_rows: responses.len() as u64,
        snapshots: refresh_accounts(store, set, &accounts, day).await?,
    })
}

fn distinct<'a>(ids: impl Iterator<Item = &'a String>) -> Vec<String> {
    ids.cloned().collect::<BTreeSet<_>>().into_iter().collect()
}

/// After an import: brings health up to date, if health is kept in this store at
/// all. When the data now reaches a day after the latest scored one, every account
/// is scored on that day (so the portfolio table of the new day is whole); otherwise
/// only the accounts the import changed are rescored. Returns how many accounts
/// were scored.
pub async fn refresh_after_import(
    store: &Store,
    set: &ScorecardSet,
    accounts: &BTreeSet<String>,
    today: NaiveDate,
) -> Result<usize, HealthError> {
    let Some(latest) = store.latest_health_day().await? else {
        return Ok(0);
    };
    let day = default_day(store, today).await?;
    if day > latest {
        return Ok(rescore(store, set, day, &|_, _| {}).await?.snapshots);
    }
    if accounts.is_empty() {
        return Ok(0);
    }
    let ids: Vec<String> = accounts.iter().cloned().collect();
    Ok(refresh_accounts(store, set, &ids, day).await?.len())
}

fn as_strs(ids: &[String]) -> Vec<&str> {
    ids.iter().map(String::as_str).collect()
}
