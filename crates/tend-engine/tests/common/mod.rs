//! Helpers shared by the engine's story tests: a company written into a store, a
//! story run on every backend, and a company as its data stood on a past day.

#![allow(dead_code)] // each test file uses some of them

pub mod quayside;

use std::future::Future;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use tend_core::*;
use tend_demo::Company;
use tend_engine::demo::write_company;
use tend_store::{test_support, Store};

pub async fn store_with(company: &Company, store: Store) -> Store {
    let mut tx = store.begin().await.unwrap();
    write_company(&mut tx, company).await.unwrap();
    tx.commit().await.unwrap();
    store
}

/// Runs `story` on a fresh SQLite store and, when configured, a PostgreSQL one, each
/// holding `company`.
pub async fn on_every_backend<F, Fut>(name: &str, company: &Company, story: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let sqlite = test_support::sqlite_store(dir.path()).await.unwrap();
    story(store_with(company, sqlite).await).await;
    if let Some(pg) = test_support::postgres_store(name).await.unwrap() {
        story(store_with(company, pg).await).await;
    }
}

pub fn end_of(day: NaiveDate) -> DateTime<Utc> {
    day.succ_opt().unwrap().and_time(NaiveTime::MIN).and_utc()
}

/// The company as its data stood at the end of `day`: later records removed and later
/// changes (answers, solutions, payments, departures, churn) undone.
pub fn as_known_on(company: &Company, day: NaiveDate) -> Company {
    let end = end_of(day);
    let mut c = company.clone();
    c.accounts.retain(|a| a.created_on <= day);
    for a in &mut c.accounts {
        a.churned_on = a.churned_on.filter(|d| *d <= day);
    }
    let known: std::collections::HashSet<String> =
        c.accounts.iter().map(|a| a.id.clone()).collect();
    let ours = |id: &String| known.contains(id);
    c.contacts
        .retain(|x| ours(&x.account_id) && x.joined_on.is_none_or(|d| d <= day));
    for x in &mut c.contacts {
        x.left_on = x.left_on.filter(|d| *d <= day);
    }
    c.contracts
        .retain(|x| ours(&x.account_id) && x.start_date <= day);
    c.usage_daily
        .retain(|u| ours(&u.account_id) && u.day <= day);
    c.tickets
        .retain(|t| ours(&t.account_id) && t.created_at < end);
    for t in &mut c.tickets {
        t.first_response_at = t.first_response_at.filter(|at| *at < end);
        if t.solved_at.is_some_and(|at| at >= end) {
            t.solved_at = None;
            t.satisfaction = None;
            t.status = TicketStatus::Open;
        }
    }
    c.survey_responses
        .retain(|s| ours(&s.account_id) && s.responded_at < end);
    c.invoices
        .retain(|i| ours(&i.account_id) && i.issued_on <= day);
    for i in &mut c.invoices {
        if i.paid_on.is_some_and(|d| d > day) {
            i.paid_on = None;
            i.status = InvoiceStatus::Open;
        }
    }
    let invoices: std::collections::HashSet<String> =
        c.invoices.iter().map(|i| i.id.clone()).collect();
    c.payments
        .retain(|p| invoices.contains(&p.invoice_id) && p.attempted_at < end);
    c.activities
        .retain(|a| ours(&a.account_id) && a.occurred_at < end);
    c.truth.retain(|t| ours(&t.account_id));
    c
}
