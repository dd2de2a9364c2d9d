//! `tend risk …`: arguments and output of the churn risk commands.

use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use tend_core::health::ScorecardSet;
use tend_core::Currency;
use tend_engine::health::{portfolio_health, PortfolioFilter};
use tend_engine::risk::{
    evaluate, explain_risk, export_training_rows, refit, rescore, risk_table, Bands, RiskError,
    RiskOptions, Target,
};
use tend_store::Store;

use crate::health::{progress_bar, tracking};
use crate::render_risk;
use crate::{parse_date, resolve_as_of};

/// Churn risk: the portfolio table, one account explained, fitting and evaluating the
/// model learnt from the store's own history.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RiskArgs {
    #[command(subcommand)]
    command: Option<RiskCommand>,
    /// An account id: its risk and the reasons behind it.
    account: Option<String>,
    /// With ACCOUNT: every reason with its push on the odds, both ways.
    #[arg(long, requires = "account")]
    explain: bool,
    /// The day to show (YYYY-MM-DD); defaults to the latest day with risk scores.
    #[arg(long, value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Only accounts whose CSM or account manager this is.
    #[arg(long)]
    owner: Option<String>,
    /// Only accounts of this segment.
    #[arg(long)]
    segment: Option<String>,
    /// Only accounts in this band (high, medium, low).
    #[arg(long)]
    band: Option<String>,
    /// Rows to print (0 for all).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Which model's risk to show: churn or non_renewal.
    #[arg(long, default_value = "churn", value_parser = parse_target)]
    target: Target,
    #[command(flatten)]
    bands: BandArgs,
}

#[derive(Args, Clone, Copy)]
struct BandArgs {
    /// Probability from which an account is high risk.
    #[arg(long, default_value_t = 0.30, global = true)]
    high_risk: f64,
    /// Probability from which an account is medium risk.
    #[arg(long, default_value_t = 0.10, global = true)]
    medium_risk: f64,
}

#[derive(Args, Clone)]
struct ModelArgs {
    /// The day the data end (YYYY-MM-DD); defaults to the last day of the store's data.
    #[arg(long, value_parser = parse_date)]
    as_of: Option<NaiveDate>,
    /// Days after a snapshot in which the outcome counts.
    #[arg(long, default_value_t = 180)]
    horizon: u32,
    /// What to predict: churn (the account churns within the horizon) or
    /// non_renewal (a renewal due within the horizon is not renewed).
    #[arg(long, default_value = "churn", value_parser = parse_target)]
    target: Target,
    /// Days between training snapshots.
    #[arg(long, default_value_t = 30)]
    every: u32,
    /// Training snapshots per account at most.
    #[arg(long, default_value_t = 24)]
    snapshots: usize,
}

#[derive(Subcommand)]
enum RiskCommand {
    /// Fit the churn model on the store's history, store it, and score every account.
    Refit(ModelArgs),
    /// Score every active account with the stored model (no refit) and store it.
    Rescore {
        /// The day to score (YYYY-MM-DD); defaults to the last day of the store's data.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        /// Which stored model scores: churn or non_renewal.
        #[arg(long, default_value = "churn", value_parser = parse_target)]
        target: Target,
    },
    /// Backtest the churn models on the store's history and print how they did.
    Evaluate(ModelArgs),
    /// Write the labelled training rows (account, day, label, health, every feature)
    /// as CSV, to check the model with other tools.
    Export {
        /// The CSV file to write.
        file: std::path::PathBuf,
        #[command(flatten)]
        model: ModelArgs,
    },
}

/// Records a change made here in the audit log, as the server's jobs do.
async fn audited(store: &Store, action: &str, target: &str) -> Result<()> {
    let now = chrono::Utc::now();
    tend_engine::access::audit_event(store, crate::access::CLI_ACTOR, action, target, &[], now)
        .await?;
    Ok(())
}

fn parse_target(text: &str) -> Result<Target, String> {
    Target::parse(text).ok_or_else(|| format!("expected churn or non_renewal, got {text:?}"))
}

impl BandArgs {
    fn bands(self) -> Result<Bands> {
        if !(0.0..=1.0).contains(&self.medium_risk) || !(0.0..=1.0).contains(&self.high_risk) {
            anyhow::bail!("--high-risk and --medium-risk are probabilities between 0 and 1");
        }
        if self.medium_risk > self.high_risk {
            anyhow::bail!("--medium-risk must not be above --high-risk");
        }
        Ok(Bands {
            high: self.high_risk,
            medium: self.medium_risk,
        })
    }
}

fn options(args: &ModelArgs, bands: Bands, currency: Option<Currency>) -> RiskOptions {
    RiskOptions {
        target: args.target,
        horizon_days: args.horizon,
        every_days: args.every,
        snapshots: args.snapshots,
        bands,
        currency,
    }
}

/// Runs a risk command; `currency` is the global `--currency` (ARR is compared in it).
pub async fn run(
    store: &Store,
    set: &ScorecardSet,
    currency: Option<Currency>,
    args: RiskArgs,
) -> Result<()> {
    let bands = args.bands.bands()?;
    match args.command {
        Some(RiskCommand::Refit(model)) => {
            let day = resolve_as_of(store, model.as_of).await?;
            let bar = progress_bar("Building training snapshots (accounts)");
            let started = Instant::now();
            let result = refit(
                store,
                set,
                day,
                &options(&model, bands, currency),
                &tracking(&bar),
            )
            .await;
            bar.finish_and_clear();
            let result = result?;
            if let Some(id) = result.model_id {
                audited(
                    store,
                    "risk.refit",
                    &format!("{} model {id}", model.target.as_str()),
                )
                .await?;
            }
            print!(
                "{}",
                render_risk::refit(&result, started.elapsed().as_secs_f64())
            );
        }
        Some(RiskCommand::Rescore { as_of, target }) => {
            let day = resolve_as_of(store, as_of).await?;
            let started = Instant::now();
            let options = RiskOptions {
                target,
                bands,
                ..RiskOptions::default()
            };
            let scored = rescore(store, set, day, &options).await?;
            audited(
                store,
                "risk.rescore",
                &format!("{} on {day}", target.as_str()),
            )
            .await?;
            println!(
                "Scored the {} risk of {scored} active accounts on {day} in {:.1}s.",
                target.as_str(),
                started.elapsed().as_secs_f64()
            );
        }
        Some(RiskCommand::Evaluate(model)) => {
            let day = resolve_as_of(store, model.as_of).await?;
            let bar = progress_bar("Building training snapshots (accounts)");
            let evaluation = evaluate(
                store,
                set,
                day,
                &options(&model, bands, currency),
                &tracking(&bar),
            )
            .await;
            bar.finish_and_clear();
            print!("{}", render_risk::evaluation(&evaluation?));
        }
        Some(RiskCommand::Export { file, model }) => {
            let day = resolve_as_of(store, model.as_of).await?;
            let out = std::fs::File::create(&file)
                .with_context(|| format!("could not create {}", file.display()))?;
            let bar = progress_bar("Building training snapshots (accounts)");
            let written = export_training_rows(
                store,
                set,
                day,
                &options(&model, bands, currency),
                &tracking(&bar),
                std::io::BufWriter::new(out),
            )
            .await;
            bar.finish_and_clear();
            println!("Wrote {} labelled rows to {}.", written?, file.display());
        }
        None => match args.account {
            Some(account) => {
                let day = match args.as_of {
                    Some(day) => day,
                    None => resolve_as_of(store, None).await?,
                };
                let explanation =
                    explain_risk(store, set, args.target, &account, day, &bands).await?;
                print!("{}", render_risk::explanation(&explanation, args.explain));
            }
            None => {
                let filter = PortfolioFilter {
                    owner: args.owner,
                    segment: args.segment,
                    band: args.band,
                };
                let limit = (args.limit > 0).then_some(args.limit);
                match risk_table(store, args.target, args.as_of, &filter, currency).await {
                    Ok(table) => print!("{}", render_risk::table(&table, limit)),
                    Err(RiskError::NoModel(_)) => {
                        // Never a silently missing model: say so, and show health.
                        println!(
                            "No churn model has been fitted: run `tend risk refit` (it says so when the history is too short to learn from)."
                        );
                        println!("Until then, health is the signal; lowest first:\n");
                        let health_filter = PortfolioFilter {
                            band: None,
                            ..filter
                        };
                        let (day, rows) = portfolio_health(store, None, &health_filter).await?;
                        print!("{}", crate::render::portfolio(day, &rows, limit));
                    }
                    Err(other) => return Err(other.into()),
                }
            }
        },
    }
    Ok(())
}
