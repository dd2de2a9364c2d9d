//! `tend health …`: arguments and output of the account health commands.

use std::time::Instant;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tend_core::health::ScorecardSet;
use tend_engine::health::{
    backfill, evaluate, explain_account, key_feature_warnings, portfolio_health, HealthRun,
    PortfolioFilter,
};
use tend_store::Store;

use crate::parse_date;

/// Account health: the portfolio table, one account explained, rescoring and history.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HealthArgs {
    #[command(subcommand)]
    command: Option<HealthCommand>,
    /// An account id: show its health against 30 days earlier and what moved it.
    account: Option<String>,
    /// With ACCOUNT: every measure's raw value, score, weight and contribution.
    #[arg(long, requires = "account")]
    explain: bool,
    /// The day to show (YYYY-MM-DD); defaults to the last day of the store's data.
    #[arg(long, value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Only accounts whose CSM or account manager this is.
    #[arg(long)]
    owner: Option<String>,
    /// Only accounts of this segment.
    #[arg(long)]
    segment: Option<String>,
    /// Only accounts in this band (red, yellow, green with the default scorecard).
    #[arg(long)]
    band: Option<String>,
    /// Rows to print (0 for all).
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Subcommand)]
enum HealthCommand {
    /// Recompute every account's health for one day and store it.
    Rescore {
        /// The day to score (YYYY-MM-DD); defaults to the last day of the store's data.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
    },
    /// Rebuild daily health history from the data as it was on each day.
    Backfill {
        /// Days of history to rebuild, ending on --as-of.
        #[arg(long)]
        days: u32,
        /// The last day to score (YYYY-MM-DD); defaults to the last day of the store's data.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
    },
    /// Check how well health on past dates predicted churn (ROC AUC per segment).
    Evaluate {
        /// Today, for the evaluation (YYYY-MM-DD); defaults to the last day of the store's data.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        /// Days after each date in which a churn counts.
        #[arg(long, default_value_t = 180)]
        horizon: u32,
        /// Days between evaluation dates.
        #[arg(long, default_value_t = 30)]
        every: u32,
        /// Number of evaluation dates.
        #[arg(long, default_value_t = 12)]
        dates: usize,
    },
}

pub(crate) fn progress_bar(what: &str) -> ProgressBar {
    ProgressBar::new(0).with_style(
        ProgressStyle::with_template(&format!("{what} [{{bar:30}}] {{pos}}/{{len}} ({{eta}})"))
            .expect("valid template")
            .progress_chars("=> "),
    )
}

/// A progress callback of the health services that moves `bar`.
pub(crate) fn tracking(bar: &ProgressBar) -> impl Fn(usize, usize) + '_ {
    move |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }
}

use crate::resolve_as_of as day_or_default;

/// Scores and stores `days` days ending on `last_day` under a progress bar labelled
/// `what`; returns the run and the seconds it took.
pub async fn backfill_with_progress(
    store: &Store,
    set: &ScorecardSet,
    last_day: NaiveDate,
    days: u32,
    what: &str,
) -> Result<(HealthRun, f64)> {
    let bar = progress_bar(what);
    let started = Instant::now();
    let run = backfill(store, set, last_day, days, &tracking(&bar)).await;
    bar.finish_and_clear();
    Ok((run?, started.elapsed().as_secs_f64()))
}

/// Says on standard error which key features of the scorecards match no event the
/// store's usage has seen lately.
pub async fn warn_about_key_features(
    store: &Store,
    set: &ScorecardSet,
    day: NaiveDate,
) -> Result<()> {
    for warning in key_feature_warnings(store, set, day).await? {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

pub async fn run(store: &Store, set: &ScorecardSet, args: HealthArgs) -> Result<()> {
    match args.command {
        Some(HealthCommand::Rescore { as_of }) => {
            let day = day_or_default(store, as_of).await?;
            warn_about_key_features(store, set, day).await?;
            let (run, seconds) =
                backfill_with_progress(store, set, day, 1, "Scoring accounts").await?;
            println!(
                "Scored {} active accounts of {} on {day} in {seconds:.1}s.",
                run.snapshots, run.accounts
            );
        }
        Some(HealthCommand::Backfill { days, as_of }) => {
            let day = day_or_default(store, as_of).await?;
            warn_about_key_features(store, set, day).await?;
            let what = "Rebuilding health history (account-days)";
            let (run, seconds) = backfill_with_progress(store, set, day, days, what).await?;
            println!(
                "Rebuilt {} daily snapshots from {} to {} for {} accounts in {seconds:.1}s.",
                run.snapshots, run.first_day, run.last_day, run.accounts
            );
        }
        Some(HealthCommand::Evaluate {
            as_of,
            horizon,
            every,
            dates,
        }) => {
            let day = day_or_default(store, as_of).await?;
            warn_about_key_features(store, set, day).await?;
            let bar = progress_bar("Scoring past dates (accounts)");
            let evaluation =
                evaluate(store, set, day, horizon, every, dates, &tracking(&bar)).await;
            bar.finish_and_clear();
            print!("{}", crate::render::evaluation(&evaluation?));
        }
        None => match args.account {
            Some(account) => {
                let day = day_or_default(store, args.as_of).await?;
                let (account, explanation) = explain_account(store, set, &account, day).await?;
                print!(
                    "{}",
                    crate::render::explanation(&account, &explanation, args.explain)
                );
            }
            None => {
                let filter = PortfolioFilter {
                    owner: args.owner,
                    segment: args.segment,
                    band: args.band,
                };
                let day = match store.latest_health_day().await? {
                    Some(_) => Some(day_or_default(store, args.as_of).await?),
                    None => None, // says that health was never scored
                };
                let (day, rows) = portfolio_health(store, day, &filter).await?;
                let limit = (args.limit > 0).then_some(args.limit);
                print!("{}", crate::render::portfolio(day, &rows, limit));
            }
        },
    }
    Ok(())
}
