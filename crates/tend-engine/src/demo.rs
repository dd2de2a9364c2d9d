//! Loading the generated demo company into a store.

use tend_demo::{generate_accounts, Company, DemoConfig};
use tend_store::{Store, StoreError, Transaction};

use crate::as_of::extend_extent;

/// Accounts generated and written at a time, which bounds memory at any size.
const ACCOUNTS_PER_PART: usize = 500;

/// What a demo load wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoCounts {
    pub accounts: usize,
    pub contacts: usize,
    pub contracts: usize,
    pub usage_days: usize,
    pub tickets: usize,
    pub survey_responses: usize,
    pub invoices: usize,
    pub payments: usize,
    pub activities: usize,
}

impl DemoCounts {
    fn add(&mut self, part: &Company) {
        self.accounts += part.accounts.len();
        self.contacts += part.contacts.len();
        self.contracts += part.contracts.len();
        self.usage_days += part.usage_daily.len();
        self.tickets += part.tickets.len();
        self.survey_responses += part.survey_responses.len();
        self.invoices += part.invoices.len();
        self.payments += part.payments.len();
        self.activities += part.activities.len();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the database holds customer data that is not a demo")]
    NotADemoDatabase,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Replaces the store's customer data with the demo company for `config`, generated
/// and written part by part in one transaction. Refuses a store holding data that a
/// demo did not write. `progress` hears how many accounts are done.
pub async fn load_demo(
    store: &Store,
    config: &DemoConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<DemoCounts, DemoError> {
    let counts = store.counts().await?;
    if counts.accounts > 0 && counts.demo_truth == 0 {
        return Err(DemoError::NotADemoDatabase);
    }
    let mut tx = store.begin().await?;
    tx.delete_all_customer_data().await?;
    let mut counts = DemoCounts::default();
    for start in (0..config.accounts).step_by(ACCOUNTS_PER_PART) {
        let part = generate_accounts(
            config,
            start..(start + ACCOUNTS_PER_PART).min(config.accounts),
        );
        write_company(&mut tx, &part).await?;
        counts.add(&part);
        progress(counts.accounts);
    }
    tx.commit().await?;
    Ok(counts)
}

/// Writes a generated company (or part of one) into an open transaction.
pub async fn write_company(tx: &mut Transaction, part: &Company) -> Result<(), StoreError> {
    tx.upsert_accounts(&part.accounts).await?;
    tx.upsert_contacts(&part.contacts).await?;
    tx.upsert_contracts(&part.contracts).await?;
    tx.upsert_invoices(&part.invoices).await?;
    tx.upsert_payments(&part.payments).await?;
    tx.upsert_tickets(&part.tickets).await?;
    tx.upsert_survey_responses(&part.survey_responses).await?;
    tx.upsert_activities(&part.activities).await?;
    tx.upsert_usage_daily(&part.usage_daily).await?;
    tx.upsert_demo_truth(&part.truth).await?;
    extend_extent(tx, &part.usage_daily).await?;
    extend_extent(tx, &part.tickets).await?;
    extend_extent(tx, &part.survey_responses).await?;
    extend_extent(tx, &part.invoices).await?;
    extend_extent(tx, &part.payments).await?;
    extend_extent(tx, &part.activities).await?;
    Ok(())
}
