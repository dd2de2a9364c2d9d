//! Loading the generated demo company into a store.

use tend_demo::{generate, Company, DemoConfig};
use tend_store::{Store, StoreError};

/// Generates the company for `config` and writes it in one transaction, replacing
/// rows with the same ids. Returns what was written.
pub async fn load_demo(store: &Store, config: &DemoConfig) -> Result<Company, StoreError> {
    let company = generate(config);
    write_company(store, &company).await?;
    Ok(company)
}

pub async fn write_company(store: &Store, company: &Company) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.upsert_accounts(&company.accounts).await?;
    tx.upsert_contacts(&company.contacts).await?;
    tx.upsert_contracts(&company.contracts).await?;
    tx.upsert_invoices(&company.invoices).await?;
    tx.upsert_payments(&company.payments).await?;
    tx.upsert_tickets(&company.tickets).await?;
    tx.upsert_survey_responses(&company.survey_responses)
        .await?;
    tx.upsert_activities(&company.activities).await?;
    tx.upsert_usage_daily(&company.usage_daily).await?;
    tx.upsert_demo_truth(&company.truth).await?;
    tx.commit().await
}
