//! `tend renewals`: the renewal pipeline of a window, soonest first; `tend renewals
//! call` makes the owner's forecast call on one, `tend renewals calls` lists its
//! history.

use std::fmt::Write as _;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use tend_core::{CallStage, ForecastCategory};
use tend_engine::renewal_calls::{NewCall, RenewalCall};
use tend_engine::views::renewals::{Pipeline, RenewalQuery};
use tend_engine::{Actor, App};

use crate::parse_date;
use crate::render::truncate;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RenewalsArgs {
    #[command(subcommand)]
    action: Option<CallAction>,
    /// First due day included; the last day of the data by default.
    #[arg(long, value_parser = parse_date)]
    from: Option<NaiveDate>,
    /// Last due day included; 180 days after --from by default.
    #[arg(long, value_parser = parse_date)]
    to: Option<NaiveDate>,
    /// Only this owner's book (a CSM's or account manager's handle).
    #[arg(long)]
    owner: Option<String>,
    /// Only accounts of this segment.
    #[arg(long)]
    segment: Option<String>,
}

#[derive(Subcommand)]
enum CallAction {
    /// Makes the owner's forecast call on an open renewal (audited).
    Call {
        /// The account's id.
        account: String,
        /// The renewal's product.
        #[arg(long)]
        product: String,
        /// The renewal's due day.
        #[arg(long, value_parser = parse_date)]
        due: NaiveDate,
        /// commit, best_case, at_risk or omitted.
        #[arg(long, value_parser = |s: &str| ForecastCategory::parse(s).map_err(|e| e.0))]
        category: ForecastCategory,
        /// negotiation or committed: moves the renewal into that stage.
        #[arg(long, value_parser = |s: &str| CallStage::parse(s).map_err(|e| e.0))]
        stage: Option<CallStage>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Every call on one renewal, oldest first.
    Calls {
        account: String,
        #[arg(long)]
        product: String,
        #[arg(long, value_parser = parse_date)]
        due: NaiveDate,
    },
}

pub async fn run(app: &App, args: RenewalsArgs) -> Result<()> {
    match args.action {
        Some(CallAction::Call {
            account,
            product,
            due,
            category,
            stage,
            note,
        }) => {
            let new = NewCall {
                account_id: account,
                product,
                due_on: due,
                category,
                stage,
                note,
            };
            let call = app.call_renewal(&Actor::cli(), &new).await?;
            println!("Call {} recorded: {}", call.id, describe(&call));
            return Ok(());
        }
        Some(CallAction::Calls {
            account,
            product,
            due,
        }) => {
            let calls = app
                .renewal_call_history(&Actor::cli(), &account, &product, due)
                .await?;
            if calls.is_empty() {
                println!("No calls on the renewal of {product} due {due} of {account}.");
            }
            for call in &calls {
                println!(
                    "{}  {}  {}",
                    call.made_at.format("%Y-%m-%d %H:%M"),
                    call.made_by,
                    describe(call)
                );
            }
            return Ok(());
        }
        None => {}
    }
    if args.from.is_none() {
        eprintln!("From the last day of the store's data (--from to choose another day).");
    }
    let query = RenewalQuery {
        from: args.from,
        to: args.to,
        owner: args.owner,
        segment: args.segment,
        account: None,
    };
    let pipeline = app.renewal_pipeline(&Actor::cli(), &query).await?;
    print!("{}", render(&pipeline));
    Ok(())
}

fn describe(call: &RenewalCall) -> String {
    let mut words = format!(
        "{} of {} due {}: {}",
        call.account_id,
        call.product,
        call.due_on,
        call.category.as_str()
    );
    if let Some(stage) = call.stage {
        let _ = write!(words, ", {}", stage.as_str());
    }
    if let Some(p) = call.model_probability {
        let _ = write!(words, " (the model: {:.0}% to renew", p * 100.0);
        words.push_str(if call.disagrees(Some(p)) {
            ", disagrees)"
        } else {
            ")"
        });
    }
    if let Some(note) = &call.note {
        let _ = write!(words, " — {note}");
    }
    words
}

fn render(pipeline: &Pipeline) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Renewals due {} to {}: {} (stages as of {})",
        pipeline.from,
        pipeline.to,
        pipeline.lines.len(),
        pipeline.day
    );
    if pipeline.lines.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "{:<10}  {:<12} {:<24} {:<12} {:>14}  {:<11} {:<26} {:>7}  {:<11}",
        "due", "account", "name", "owner", "ARR", "stage", "next", "renews", "call"
    );
    for line in &pipeline.lines {
        let r = &line.renewal;
        let next = line
            .next_date
            .map_or("–".to_string(), |(name, day)| format!("{name} {day}"));
        let renews = line
            .model_renewal_probability
            .map_or("–".to_string(), |p| format!("{:.0}%", p * 100.0));
        let call = line.call.as_ref().map_or("–".to_string(), |c| {
            format!(
                "{}{}",
                c.category.as_str(),
                if line.disagrees { " (!)" } else { "" }
            )
        });
        let _ = writeln!(
            out,
            "{:<10}  {:<12} {:<24} {:<12} {:>14}  {:<11} {:<26} {:>7}  {:<11}",
            r.due_on,
            truncate(&r.account_id, 12),
            truncate(&line.account_name, 24),
            truncate(line.owner.as_deref().unwrap_or("–"), 12),
            r.arr.whole(),
            line.stage.as_str(),
            next,
            renews,
            call,
        );
    }
    if pipeline.lines.iter().any(|l| l.disagrees) {
        let _ = writeln!(
            out,
            "(!) the owner's call and the model disagree (commit below 80%, best case outside 50–80%, at risk at 50% or more)."
        );
    }
    if pipeline.mixed_currencies > 0 {
        let _ = writeln!(
            out,
            "{} terms left out: their contracts are in more than one currency.",
            pipeline.mixed_currencies
        );
    }
    out
}
