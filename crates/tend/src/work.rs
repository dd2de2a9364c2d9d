//! `tend playbooks …`, `tend tasks` and `tend task …`: the work engine from the
//! command line.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use tend_core::{TaskPriority, TaskStatus};
use tend_engine::playbooks::{run_playbooks, simulate, TaskQuery, TaskScope};
use tend_engine::views::page::PageRequest;
use tend_engine::{Actor, App};

use crate::{parse_date, render_work, resolve_as_of};

#[derive(Subcommand)]
pub enum PlaybooksCommand {
    /// The playbooks in use (shipped defaults and --playbooks files), with their
    /// triggers.
    List,
    /// Evaluate every playbook over every account once, as the server does daily:
    /// tasks are created, cleared ones closed.
    Run {
        /// The day to evaluate (YYYY-MM-DD); defaults to the last day of the store's data.
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
    },
    /// Replay the playbooks over the store's history without writing anything, and
    /// report per playbook what they would have done and how well they warned of churn.
    Simulate {
        /// First day replayed (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        /// Last day replayed (YYYY-MM-DD); defaults to the last day of the store's data.
        #[arg(long, value_parser = parse_date)]
        to: Option<NaiveDate>,
        /// Only this playbook.
        #[arg(long)]
        playbook: Option<String>,
    },
}

/// Tasks still to do (open, in progress, snoozed), by id.
#[derive(Args)]
pub struct TasksArgs {
    /// Only tasks of this owner (a user handle).
    #[arg(long)]
    owner: Option<String>,
    /// Only tasks of this account.
    #[arg(long)]
    account: Option<String>,
    /// Only tasks of this playbook.
    #[arg(long)]
    playbook: Option<String>,
    /// Only tasks due on or before this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    due_by: Option<NaiveDate>,
    /// Only tasks of this priority (low, normal, high, urgent).
    #[arg(long, value_parser = |s: &str| TaskPriority::parse(s).map_err(|e| e.0))]
    priority: Option<TaskPriority>,
    /// Done and cancelled tasks too.
    #[arg(long)]
    all: bool,
    /// Tasks to show.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

#[derive(Subcommand)]
pub enum TaskCommand {
    /// One task with its steps and comments.
    Show { id: i64 },
    /// Mark a task done.
    Done {
        id: i64,
        /// What was done.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Cancel a task, saying why.
    Cancel {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Snooze a task until a day, saying why; it opens again that day.
    Snooze {
        id: i64,
        #[arg(long, value_parser = parse_date)]
        until: NaiveDate,
        #[arg(long)]
        reason: String,
    },
}

fn bar(template: &str) -> ProgressBar {
    ProgressBar::new(0).with_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    )
}

pub async fn playbooks(app: &App, command: PlaybooksCommand) -> Result<()> {
    match command {
        PlaybooksCommand::List => print!("{}", render_work::playbooks(app.playbooks())),
        PlaybooksCommand::Run { as_of } => {
            let day = resolve_as_of(app.store(), as_of).await?;
            let progress = bar("Running playbooks [{bar:30}] {pos}/{len} accounts ({eta})");
            let report = run_playbooks(app, day, &|done, of| {
                progress.set_length(of as u64);
                progress.set_position(done as u64);
            })
            .await?;
            progress.finish_and_clear();
            println!(
                "Ran the playbooks over {} accounts on {day}: {} tasks created, {} closed as their trigger cleared, {} snoozed tasks opened again.",
                report.accounts, report.created, report.closed, report.woken
            );
        }
        PlaybooksCommand::Simulate { from, to, playbook } => {
            let to = resolve_as_of(app.store(), to).await?;
            if let Some(name) = &playbook {
                anyhow::ensure!(
                    app.playbooks().get(name).is_some(),
                    "no playbook named {name:?} (see `tend playbooks list`)"
                );
            }
            let progress = bar("Replaying playbooks [{bar:30}] {pos}/{len} accounts ({eta})");
            let simulation = simulate(app, from, to, &|done, of| {
                progress.set_length(of as u64);
                progress.set_position(done as u64);
            })
            .await?;
            progress.finish_and_clear();
            print!(
                "{}",
                render_work::simulation(&simulation, playbook.as_deref())
            );
        }
    }
    Ok(())
}

pub async fn tasks(app: &App, args: TasksArgs) -> Result<()> {
    let scope = match &args.account {
        Some(id) => TaskScope::Account(id.clone()),
        None => TaskScope::All,
    };
    let query = TaskQuery {
        scope,
        statuses: args.all.then(|| TaskStatus::ALL.to_vec()),
        priorities: args.priority.map(|p| vec![p]),
        due_by: args.due_by,
        playbook: args.playbook,
        kind: None,
        owner: args.owner,
    };
    let mut items = Vec::new();
    let mut cursor = None;
    // Pages of at most 500 until the limit.
    while items.len() < args.limit as usize {
        let page = app
            .tasks(
                &Actor::cli(),
                &query,
                &PageRequest {
                    cursor: cursor.take(),
                    limit: Some(500),
                },
            )
            .await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    items.truncate(args.limit as usize);
    print!("{}", render_work::tasks(&items));
    Ok(())
}

pub async fn task(app: &App, command: TaskCommand) -> Result<()> {
    let actor = Actor::cli();
    let detail = match command {
        TaskCommand::Show { id } => app.task(&actor, id).await?,
        TaskCommand::Done { id, reason } => {
            app.close_task(&actor, id, TaskStatus::Done, &reason)
                .await?
        }
        TaskCommand::Cancel { id, reason } => {
            app.close_task(&actor, id, TaskStatus::Cancelled, &reason)
                .await?
        }
        TaskCommand::Snooze { id, until, reason } => {
            app.snooze_task(&actor, id, until, &reason).await?
        }
    };
    print!("{}", render_work::task(&detail));
    Ok(())
}
