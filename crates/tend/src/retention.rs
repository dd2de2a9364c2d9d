//! `tend retention …` and `tend clv`: arguments of the retention analyses.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use tend_core::health::ScorecardSet;
use tend_core::Currency;
use tend_engine::retention::clv::{clv_report, ClvOptions};
use tend_engine::retention::retention_report;
use tend_engine::retention::why::why_accounts_left;
use tend_store::Store;

use crate::render_retention;
use crate::{parse_date, resolve_as_of};

/// Retention: survival curves of lifetimes and renewals, cohort tables, hazard ratios;
/// `why` for the reasons and signals behind lost accounts.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RetentionArgs {
    #[command(subcommand)]
    command: Option<RetentionCommand>,
    /// The last day of the data to analyse (YYYY-MM-DD); defaults to the last day of
    /// the store's data.
    #[arg(long, value_parser = parse_date, global = true)]
    as_of: Option<NaiveDate>,
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Why accounts left: churn reasons by segment, ARR and tenure, and how much more
    /// often each early-warning signal came before a loss than before a month of
    /// staying.
    Why,
}

/// Lifetime value of each customer: the sBG model of renewals per segment, and
/// discounted expected renewals to come × ARR, taken at the account's own churn
/// probability where the risk model has scored it.
#[derive(Args)]
pub struct ClvArgs {
    /// The day to value customers on (YYYY-MM-DD); defaults to the last day of the
    /// store's data.
    #[arg(long, value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Discount rate per renewal period (0.10 is 10% a year for annual terms); at
    /// least 0.001.
    #[arg(long, default_value_t = 0.10)]
    discount_rate: f64,
    /// Only accounts of this segment.
    #[arg(long)]
    segment: Option<String>,
    /// Accounts to print (0 for all).
    #[arg(long, default_value_t = 25)]
    limit: usize,
}

pub async fn run(
    store: &Store,
    set: &ScorecardSet,
    currency: Option<Currency>,
    args: RetentionArgs,
) -> Result<()> {
    let day = resolve_as_of(store, args.as_of).await?;
    match args.command {
        None => {
            let report = retention_report(store, day, currency).await?;
            print!("{}", render_retention::report(&report));
        }
        Some(RetentionCommand::Why) => {
            let report = why_accounts_left(store, set, day, currency).await?;
            print!("{}", render_retention::why(&report));
        }
    }
    Ok(())
}

pub async fn clv(store: &Store, currency: Option<Currency>, args: ClvArgs) -> Result<()> {
    let day = resolve_as_of(store, args.as_of).await?;
    let options = ClvOptions {
        discount_rate: args.discount_rate,
        currency,
    };
    let mut report = clv_report(store, day, &options).await?;
    if let Some(segment) = &args.segment {
        report.accounts.retain(|a| &a.segment == segment);
    }
    let limit = (args.limit > 0).then_some(args.limit);
    print!("{}", render_retention::clv(&report, limit));
    Ok(())
}
