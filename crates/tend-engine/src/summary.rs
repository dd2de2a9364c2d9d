//! The portfolio summary service: loads what the summary reads and computes it.

use chrono::NaiveDate;
use tend_core::summary::{portfolio_summary, PortfolioData, PortfolioSummary, Targets};
use tend_core::{Currency, FxTable};
use tend_store::{Store, StoreError};

/// Computes the summary from the stored data through `as_of` (the last day
/// included), with money in `currency` (by default the one with the most ARR).
pub async fn load_summary(
    store: &Store,
    as_of: NaiveDate,
    currency: Option<Currency>,
) -> Result<PortfolioSummary, StoreError> {
    let accounts = store.accounts().await?;
    let contracts = store.contracts().await?;
    let tickets = store.tickets().await?;
    let survey_responses = store.survey_responses().await?;
    let fx_rates = FxTable::new(&store.fx_rates().await?);
    let data = PortfolioData {
        accounts: &accounts,
        contracts: &contracts,
        tickets: &tickets,
        survey_responses: &survey_responses,
        fx_rates: &fx_rates,
    };
    Ok(portfolio_summary(
        &data,
        as_of,
        &Targets::default(),
        currency,
    ))
}
