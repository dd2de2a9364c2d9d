//! `tend health …`: arguments and output of the account health commands.

use std::time::Instant;

use anyhow::Result;
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tend_core::health::ScorecardSet;
use tend_engine::health::{
    backfill, default_day, evaluate, explain_account, portfolio_health, render_evaluation,
    render_explanation, render_portfolio, rescore, PortfolioFilter,
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
    /// The day to show (YYYY-MM-DD); defaults to the latest day with snapshots.
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
        /// The day to score (YYYY-MM-DD); defaults to the last day with usage data.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
    },
    /// Rebuild daily health history from the data as it was on each day.
    Backfill {
        /// Days of history to rebuild, ending on --as-of.
        #[arg(long)]
        days: u32,
        /// The last day to score (YYYY-MM-DD); defaults to the last day with usage data.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
    },
    /// Check how well health on past dates predicted churn (ROC AUC per segment).
    Evaluate {
        /// Today, for the evaluation (YYYY-MM-DD); defaults to the last day with usage data.
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

fn progress_bar(what: &str) -> ProgressBar {
    ProgressBar::new(0).with_style(
        ProgressStyle::with_template(&format!("{what} [{{bar:30}}] {{pos}}/{{len}} ({{eta}})"))
            .expect("valid template")
            .progress_chars("=> "),
    )
}

pub async fn run(store: &Store, set: &ScorecardSet, args: HealthArgs) -> Result<()> {
    let today = Utc::now().date_naive();
    match args.command {
        Some(HealthCommand::Rescore { as_of }) => {
            let day = match as_of {
                Some(day) => day,
                None => default_day(store, today).await?,
            };
            let bar = progress_bar("Scoring accounts");
            let started = Instant::now();
            let run = rescore(store, set, day, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await;
            bar.finish_and_clear();
            let run = run?;
            println!(
                "Scored {} active accounts of {} on {day} in {:.1}s.",
                run.snapshots,
                run.accounts,
                started.elapsed().as_secs_f64()
            );
        }
        Some(HealthCommand::Backfill { days, as_of }) => {
            let day = match as_of {
                Some(day) => day,
                None => default_day(store, today).await?,
            };
            let bar = progress_bar("Rebuilding health history (account-days)");
            let started = Instant::now();
            let run = backfill(store, set, day, days, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await;
            bar.finish_and_clear();
            let run = run?;
            println!(
                "Rebuilt {} daily snapshots from {} to {} for {} accounts in {:.1}s.",
                run.snapshots,
                run.first_day,
                run.last_day,
                run.accounts,
                started.elapsed().as_secs_f64()
            );
        }
        Some(HealthCommand::Evaluate {
            as_of,
            horizon,
            every,
            dates,
        }) => {
            let day = match as_of {
                Some(day) => day,
                None => default_day(store, today).await?,
            };
            let bar = progress_bar("Scoring past dates (accounts)");
            let evaluation = evaluate(store, set, day, horizon, every, dates, &|done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await;
            bar.finish_and_clear();
            print!("{}", render_evaluation(&evaluation?));
        }
        None => match args.account {
            Some(account) => {
                let day = match args.as_of {
                    Some(day) => day,
                    None => match store.latest_health_day().await? {
                        Some(day) => day,
                        None => default_day(store, today).await?,
                    },
                };
                let (account, explanation) = explain_account(store, set, &account, day).await?;
                print!(
                    "{}",
                    render_explanation(&account, &explanation, args.explain)
                );
            }
            None => {
                let filter = PortfolioFilter {
                    owner: args.owner,
                    segment: args.segment,
                    band: args.band,
                };
                let (day, rows) = portfolio_health(store, args.as_of, &filter).await?;
                let limit = (args.limit > 0).then_some(args.limit);
                print!("{}", render_portfolio(day, &rows, limit));
            }
        },
    }
    Ok(())
}
