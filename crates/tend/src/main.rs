//! The `tend` command line: parse, call the engine, print. No logic lives here.

mod access;
mod expansion;
mod forecast;
mod health;
mod mcp;
mod plans;
mod proposals;
mod render;
mod render_retention;
mod render_risk;
mod render_work;
mod renewals;
mod retention;
mod risk;
mod serve;
mod work;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::{Datelike, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tend_core::health::ScorecardSet;
use tend_core::money::group_thousands;
use tend_core::Currency;
use tend_engine::demo::load_demo;
use tend_engine::export::export_store;
use tend_engine::health::{
    load_scorecards, portfolio_health, refresh_after_import, PortfolioFilter,
};
use tend_engine::summary::load_summary;
use tend_engine::{
    import_file, import_folder, Actor, App, AsOf, ImportError, ImportOptions, ImportProgress,
    ImportReport, ImportStage, SystemClock,
};
use tend_ingest::{Entity, Format};
use tend_store::{Store, StoreOptions, DEFAULT_DATABASE_URL};

#[derive(Parser)]
#[command(
    name = "tend",
    version,
    about = "Customer success platform: account health, churn risk, renewals and the work they call for."
)]
struct Cli {
    /// Database to use: sqlite:PATH (the default, created if missing) or postgres://…
    #[arg(long, global = true, env = "TEND_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,

    /// Health scorecards (TOML) to use instead of the shipped default; see docs/health.md.
    #[arg(long, global = true, env = "TEND_SCORECARD", value_name = "PATH")]
    scorecard: Option<PathBuf>,

    /// A folder of playbook files (TOML) used over the shipped defaults; a file's
    /// playbook replaces a default of the same name. See docs/playbooks.md.
    #[arg(long, global = true, env = "TEND_PLAYBOOKS", value_name = "DIR")]
    playbooks: Option<PathBuf>,

    /// Negotiation guardrails (TOML) to use instead of the shipped ones; see
    /// docs/renewals.md.
    #[arg(long, global = true, env = "TEND_GUARDRAILS", value_name = "PATH")]
    guardrails: Option<PathBuf>,

    /// Expansion signal settings and product modules (TOML) to use instead of the
    /// shipped ones; see docs/expansion.md.
    #[arg(long, global = true, env = "TEND_EXPANSION", value_name = "PATH")]
    expansion: Option<PathBuf>,

    /// The currency money is reported in (ISO 4217, e.g. EUR); by default the one
    /// with the most ARR. Other currencies are converted with imported fx-rates.
    #[arg(long, global = true, env = "TEND_CURRENCY", value_parser = parse_currency)]
    currency: Option<Currency>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a realistic demo company, load it and print its portfolio summary.
    ///
    /// Replaces a previous demo in the same database; refuses to touch a database that
    /// holds other customer data.
    Demo {
        /// Number of customer accounts.
        #[arg(long, default_value_t = 500)]
        accounts: usize,
        /// Months of history.
        #[arg(long, default_value_t = 24)]
        months: u32,
        /// Seed of the random generator: the same seed gives the same company.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// First day after the generated history (YYYY-MM-DD); defaults to the first day of this month.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        /// Also write the data as import files (CSV) into this folder, with the ground truth.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
        /// Days of daily health history to score after loading (0 for none).
        #[arg(long, default_value_t = 91)]
        health_days: u32,
    },
    /// Import a CSV or JSON Lines file of one entity (or `all` files of a folder).
    ///
    /// Rows are upserted by their external id, so importing the same file twice changes
    /// nothing. A file (or, with `all`, the whole folder) is imported whole or not at
    /// all unless --skip-invalid is given. Formats: docs/import.md.
    Import {
        /// accounts, contacts, contracts, events, usage-daily, tickets, survey-responses,
        /// invoices, payments, activities, demo-truth, or `all` to import every
        /// <entity>.csv / <entity>.jsonl of a folder (any case, `_` or `-`) in
        /// dependency order, in one transaction.
        entity: String,
        /// The file (or, with `all`, the folder).
        path: PathBuf,
        /// Load the valid rows and write rejected ones, with reasons, to FILE.rejected.jsonl.
        #[arg(long)]
        skip_invalid: bool,
        /// csv or jsonl; by default taken from the file extension.
        #[arg(long, value_parser = parse_format)]
        format: Option<Format>,
        /// With `all`: skip files that are not an entity's instead of refusing the folder.
        #[arg(long)]
        ignore_unknown: bool,
    },
    /// Print the portfolio summary against the success checklist.
    Summary {
        /// The last day to summarise (YYYY-MM-DD); defaults to the last day of the
        /// store's data.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
    },
    /// Write every entity of the store as import files (CSV) into a folder.
    Export {
        /// Folder to write into; created if missing.
        dir: PathBuf,
    },
    /// Account health: the portfolio table (lowest first, with trends and top movers),
    /// one account explained, rescoring, history and evaluation.
    Health(health::HealthArgs),
    /// Churn risk learnt from the store's own history: the table (highest first, with
    /// ARR at risk and the top reason), one account explained, refit, rescore and the
    /// backtest evaluation.
    Risk(risk::RiskArgs),
    /// Retention: Kaplan–Meier curves of lifetimes and renewals by segment and start
    /// year with log-rank tests, logo/GRR/NRR cohort tables by start quarter, and churn
    /// hazard ratios in words; `tend retention why` for why accounts left.
    Retention(retention::RetentionArgs),
    /// Customer lifetime value: renewals modelled per segment (shifted-beta-geometric),
    /// each customer's discounted expected renewals to come × ARR.
    Clv(retention::ClvArgs),
    /// Playbooks: list them, run them over every account, or replay them over the
    /// store's history to tune them.
    #[command(subcommand)]
    Playbooks(work::PlaybooksCommand),
    /// Renewals coming due: one per contract term, with its dates, stage and ARR.
    Renewals(renewals::RenewalsArgs),
    /// Renewal and expansion proposals, checked against the negotiation guardrails.
    #[command(subcommand)]
    Proposal(proposals::ProposalCommand),
    /// Proposals waiting for a leader, and their approval or rejection.
    Approvals(proposals::ApprovalsArgs),
    /// The renewal forecast of a quarter, month or year: renewable ARR, expected
    /// renewed ARR and a P10/P50/P90 range by Monte Carlo; --backtest tries it on the
    /// past.
    Forecast(forecast::ForecastArgs),
    /// Whitespace, expansion signals, opportunities and the expansion revenue report.
    #[command(subcommand)]
    Expansion(expansion::ExpansionCommand),
    /// Account plans (every save a version), stakeholders, executives, the account team.
    #[command(subcommand)]
    Plan(plans::PlanCommand),
    /// Tasks still to do, by id; filter by owner, account, playbook, due day, priority.
    Tasks(work::TasksArgs),
    /// One task: show it, mark it done, cancel or snooze it.
    #[command(subcommand)]
    Task(work::TaskCommand),
    /// Users who sign in: add, list, disable.
    #[command(subcommand)]
    User(access::UserCommand),
    /// API tokens for systems and agents: create, list, revoke.
    #[command(subcommand)]
    Token(access::TokenCommand),
    /// Event sources sending Segment calls to tend serve: create (prints the write
    /// key), list, revoke.
    #[command(subcommand)]
    Source(access::SourceCommand),
    /// Serve the JSON API (stops on SIGINT or SIGTERM, finishing requests in flight).
    Serve(serve::ServeArgs),
    /// Serve the MCP tools to an agent client over stdin and stdout (docs/agents.md).
    Mcp(mcp::McpArgs),
    /// The audit log: every change to users and tokens, newest first.
    Audit {
        /// Entries to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

pub(crate) fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("expected a date as YYYY-MM-DD, got {text:?}"))
}

pub(crate) fn parse_currency(text: &str) -> Result<Currency, String> {
    Currency::parse(text).map_err(|e| e.to_string())
}

fn parse_format(text: &str) -> Result<Format, String> {
    Format::parse(text).ok_or_else(|| format!("expected csv or jsonl, got {text:?}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if let Some(advice) = advice(&error) {
                eprintln!("{advice}");
            }
            ExitCode::FAILURE
        }
    }
}

/// What the user can do about an error, in the CLI's words; the engine's errors
/// only say what is wrong.
fn advice(error: &anyhow::Error) -> Option<String> {
    use tend_engine::demo::DemoError;
    use tend_engine::health::HealthError;
    error.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<HealthError>() {
            return match e {
                HealthError::NoSnapshots(day) => {
                    Some(format!("Run `tend health rescore --as-of {day}` first."))
                }
                HealthError::NoHealth => Some("Run `tend health rescore` first.".to_string()),
                _ => None,
            };
        }
        if let Some(DemoError::NotADemoDatabase) = cause.downcast_ref::<DemoError>() {
            return Some("Point the demo at another database with --database-url.".to_string());
        }
        match cause.downcast_ref::<ImportError>()? {
            ImportError::UnknownFormat(_) => {
                Some("Pass --format csv or --format jsonl.".to_string())
            }
            ImportError::UnknownFiles { .. } => {
                Some("Pass --ignore-unknown to skip them.".to_string())
            }
            _ => None,
        }
    })
}

async fn run(cli: Cli) -> Result<()> {
    // Scorecards, playbooks and guardrails are checked before anything touches the
    // database.
    let scorecards = load_scorecards(cli.scorecard.as_deref())?;
    let playbooks = tend_engine::playbooks::load_playbooks(cli.playbooks.as_deref())?;
    let guardrails = tend_engine::proposals::load_guardrails(cli.guardrails.as_deref())?;
    let expansion = tend_engine::expansion::load_expansion(cli.expansion.as_deref())?;
    // The server checkpoints SQLite's log from a task of its own, off the commits.
    let options = StoreOptions {
        background_checkpoints: matches!(cli.command, Command::Serve(_)),
    };
    let store = Store::connect_with(&cli.database_url, options)
        .await
        .with_context(|| format!("could not open the database {}", cli.database_url))?;
    // Every command works through the same application the server uses.
    let app = App::new(store, scorecards, SystemClock)
        .with_playbooks(playbooks)
        .with_guardrails(guardrails)
        .with_expansion(expansion);
    let (store, scorecards) = (app.store(), app.scorecards());
    let result = match cli.command {
        Command::Demo {
            accounts,
            months,
            seed,
            as_of,
            export,
            health_days,
        } => {
            let as_of = as_of.unwrap_or_else(first_of_this_month);
            demo(
                store,
                tend_demo::DemoConfig {
                    accounts,
                    months,
                    seed,
                    as_of,
                },
                scorecards,
                health_days,
                export.as_deref(),
            )
            .await
        }
        Command::Import {
            entity,
            path,
            skip_invalid,
            format,
            ignore_unknown,
        } => {
            let options = ImportOptions {
                skip_invalid,
                format,
                today: None,
                ignore_unknown_files: ignore_unknown,
                reporting_currency: cli.currency,
            };
            import(store, scorecards, &entity, &path, &options).await
        }
        Command::Summary { as_of } => {
            let as_of = resolve_as_of(store, as_of).await?;
            let summary = app
                .summary(&Actor::cli(), Some(as_of), cli.currency)
                .await?;
            print!("{}", render::summary(&summary));
            Ok(())
        }
        Command::Export { dir } => export(store, &dir).await,
        Command::Health(args) => health::run(store, scorecards, args).await,
        Command::Risk(args) => risk::run(store, scorecards, cli.currency, args).await,
        Command::Retention(args) => retention::run(store, scorecards, cli.currency, args).await,
        Command::Clv(args) => retention::clv(store, cli.currency, args).await,
        Command::Playbooks(command) => work::playbooks(&app, command).await,
        Command::Tasks(args) => work::tasks(&app, args).await,
        Command::Renewals(args) => renewals::run(&app, args).await,
        Command::Proposal(command) => proposals::proposal(&app, command).await,
        Command::Approvals(args) => proposals::approvals(&app, args).await,
        Command::Forecast(args) => forecast::run(&app, cli.currency, args).await,
        Command::Expansion(command) => expansion::run(&app, command).await,
        Command::Plan(command) => plans::run(&app, command).await,
        Command::Task(command) => work::task(&app, command).await,
        Command::User(command) => access::user(store, command).await,
        Command::Token(command) => access::token(store, command).await,
        Command::Source(command) => access::source(store, command).await,
        Command::Audit { limit } => access::audit(store, limit).await,
        Command::Serve(args) => serve::run(app.clone(), args).await,
        Command::Mcp(args) => mcp::run(&app, args).await,
    };
    store.close().await;
    result
}

/// `given`, or the last day of the store's data, said on standard error so the user
/// knows which day the figures are for.
pub(crate) async fn resolve_as_of(store: &Store, given: Option<NaiveDate>) -> Result<NaiveDate> {
    let as_of = AsOf::resolve(store, given, Utc::now().date_naive()).await?;
    if as_of.defaulted {
        eprintln!(
            "As of {}, the last day of the store's data (--as-of to choose another day).",
            as_of.day
        );
    }
    Ok(as_of.day)
}

fn first_of_this_month() -> NaiveDate {
    let today = Utc::now().date_naive();
    NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("first of month exists")
}

async fn demo(
    store: &Store,
    config: tend_demo::DemoConfig,
    scorecards: &ScorecardSet,
    health_days: u32,
    export_dir: Option<&Path>,
) -> Result<()> {
    let started = Instant::now();
    let bar = ProgressBar::new(config.accounts as u64).with_style(
        ProgressStyle::with_template(
            "Generating the demo company [{bar:30}] {pos}/{len} accounts ({eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let counts = load_demo(store, &config, &|done| bar.set_position(done as u64)).await?;
    bar.finish_and_clear();
    eprintln!(
        "Loaded the demo company (seed {}): {} accounts, {} contacts, {} contracts, {} usage days, {} tickets, {} survey responses, {} invoices, {} payments, {} activities in {:.1}s.",
        config.seed,
        counts.accounts,
        counts.contacts,
        counts.contracts,
        counts.usage_days,
        counts.tickets,
        counts.survey_responses,
        counts.invoices,
        counts.payments,
        counts.activities,
        started.elapsed().as_secs_f64()
    );
    if let Some(dir) = export_dir {
        export(store, dir).await?;
    }
    let last_day = config.as_of.pred_opt().unwrap_or(config.as_of);
    health::warn_about_key_features(store, scorecards, last_day).await?;
    if health_days > 0 {
        let what = format!("Scoring {health_days} days of account health (account-days)");
        let (run, seconds) =
            health::backfill_with_progress(store, scorecards, last_day, health_days, &what).await?;
        eprintln!(
            "Scored account health for {} to {}: {} daily snapshots in {seconds:.1}s.",
            run.first_day, run.last_day, run.snapshots
        );
    }
    eprintln!();
    print!(
        "{}",
        render::summary(&load_summary(store, last_day, None).await?)
    );
    if health_days > 0 {
        let (day, rows) =
            portfolio_health(store, Some(last_day), &PortfolioFilter::default()).await?;
        println!();
        print!("{}", render::portfolio(day, &rows, Some(10)));
    }
    Ok(())
}

async fn export(store: &Store, dir: &Path) -> Result<()> {
    let files = export_store(store, dir).await?;
    let total: usize = files.iter().map(|(_, rows)| rows).sum();
    eprintln!(
        "Exported {total} rows into {} files in {}.",
        files.len(),
        dir.display()
    );
    Ok(())
}

/// Imports one entity's file (or, for `all`, every entity file of a folder), then
/// refreshes the health of the accounts whose data changed.
async fn import(
    store: &Store,
    scorecards: &ScorecardSet,
    entity: &str,
    path: &Path,
    options: &ImportOptions,
) -> Result<()> {
    let accounts = if entity == "all" {
        import_folder_with_progress(store, path, options).await?
    } else {
        let entity = Entity::parse(entity).map_err(anyhow::Error::msg)?;
        import_one(store, entity, path, options).await?
    };
    let refreshed =
        refresh_after_import(store, scorecards, &accounts, Utc::now().date_naive()).await?;
    if refreshed > 0 {
        println!("Health refreshed for {refreshed} accounts.");
    }
    Ok(())
}

fn file_bar() -> ProgressBar {
    ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    )
}

/// Moves `bar` with an import's progress on `path`.
fn show_progress(bar: &ProgressBar, path: &Path, progress: ImportProgress) {
    match progress.stage {
        ImportStage::Reading => {
            let message = format!("Importing {}", path.display());
            if bar.message() != message {
                bar.set_message(message);
                bar.set_length(std::fs::metadata(path).map_or(0, |m| m.len()));
            }
            bar.set_position(progress.bytes_read);
        }
        ImportStage::UpdatingRollups => bar.set_message("Updating daily usage rollups"),
        ImportStage::Done => {}
    }
}

/// Imports every entity file of a folder in one transaction; returns the accounts
/// whose data changed.
async fn import_folder_with_progress(
    store: &Store,
    dir: &Path,
    options: &ImportOptions,
) -> Result<BTreeSet<String>> {
    let bar = file_bar();
    let started = Instant::now();
    let report = import_folder(store, dir, options, &|path, p| show_progress(&bar, path, p)).await;
    bar.finish_and_clear();
    let report = report?;
    for path in &report.ignored {
        println!("{}: skipped, not an entity's file.", path.display());
    }
    for (path, entity, file) in &report.files {
        print_report(*entity, path, file, None);
    }
    print_finish(&report.finish);
    println!(
        "Imported {} files from {} in one transaction in {:.1}s.",
        report.files.len(),
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(report.accounts())
}

/// Imports one file; returns the accounts whose data changed.
async fn import_one(
    store: &Store,
    entity: Entity,
    path: &Path,
    options: &ImportOptions,
) -> Result<BTreeSet<String>> {
    std::fs::metadata(path).with_context(|| format!("{}: cannot read the file", path.display()))?;
    let bar = file_bar();
    let started = Instant::now();
    let report = import_file(store, entity, path, options, &|p| {
        show_progress(&bar, path, p)
    })
    .await;
    bar.finish_and_clear();
    let report = report?;
    print_report(entity, path, &report, Some(started.elapsed()));
    Ok(report.accounts)
}

/// What finishing an import did beyond its files' rows.
fn print_finish(report: &ImportReport) {
    if report.attached > 0 {
        println!(
            "{} kept calls attached to accounts their users were linked to.",
            group_thousands(report.attached)
        );
    }
    if report.waiting > 0 {
        println!(
            "{} calls wait for a group call (or an identify call with a contact's email) to tie their users to accounts.",
            group_thousands(report.waiting)
        );
    }
    if report.rollup_rows > 0 {
        println!(
            "{} daily usage rollups updated.",
            group_thousands(report.rollup_rows)
        );
    }
}

fn print_report(entity: Entity, path: &Path, report: &ImportReport, elapsed: Option<Duration>) {
    let took = elapsed.map_or_else(String::new, |e| format!(" in {:.1}s", e.as_secs_f64()));
    if entity == Entity::Events {
        let read = report.written + report.duplicates + report.pending + report.anonymous_skipped;
        let rate = elapsed.map_or_else(String::new, |e| {
            let per_second = read as f64 / e.as_secs_f64().max(1e-9);
            format!(" ({} events/s)", group_thousands(per_second as u64))
        });
        println!(
            "{}: {} calls read, {} new events, {} duplicates dropped{took}{rate}.",
            path.display(),
            group_thousands(read),
            group_thousands(report.written),
            group_thousands(report.duplicates),
        );
        if report.pending > 0 {
            println!(
                "  {} calls of users not yet tied to an account were kept.",
                group_thousands(report.pending)
            );
        }
        if report.anonymous_skipped > 0 {
            println!(
                "  {} anonymous calls without a groupId skipped: no account can be told.",
                group_thousands(report.anonymous_skipped)
            );
        }
    } else {
        println!(
            "{}: {} {} written{took}.",
            path.display(),
            group_thousands(report.written),
            entity.name(),
        );
    }
    if let Some(base) = report.assumed_base {
        println!("  rates without a base are read as against {base}, the reporting currency.");
    }
    if let Some(rejects) = &report.rejects_file {
        println!(
            "  {} rows rejected; see {} for the reasons.",
            report.rejected,
            rejects.display()
        );
    }
    if elapsed.is_some() {
        print_finish(report);
    }
}
