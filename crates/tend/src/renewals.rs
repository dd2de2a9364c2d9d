//! `tend renewals`: the renewal pipeline of a window, soonest first.

use std::fmt::Write as _;

use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;
use tend_engine::views::renewals::{Pipeline, RenewalQuery};
use tend_engine::{Actor, App};

use crate::parse_date;
use crate::render::truncate;

#[derive(Args)]
pub struct RenewalsArgs {
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

pub async fn run(app: &App, args: RenewalsArgs) -> Result<()> {
    if args.from.is_none() {
        eprintln!("From the last day of the store's data (--from to choose another day).");
    }
    let query = RenewalQuery {
        from: args.from,
        to: args.to,
        owner: args.owner,
        segment: args.segment,
    };
    let pipeline = app.renewal_pipeline(&Actor::cli(), &query).await?;
    print!("{}", render(&pipeline));
    Ok(())
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
        "{:<10}  {:<12} {:<24} {:<12} {:>14}  {:<11} {:<26} {:>7}",
        "due", "account", "name", "owner", "ARR", "stage", "next", "renews"
    );
    for line in &pipeline.lines {
        let r = &line.renewal;
        let next = line
            .next_date
            .map_or("–".to_string(), |(name, day)| format!("{name} {day}"));
        let renews = line
            .model_renewal_probability
            .map_or("–".to_string(), |p| format!("{:.0}%", p * 100.0));
        let _ = writeln!(
            out,
            "{:<10}  {:<12} {:<24} {:<12} {:>14}  {:<11} {:<26} {:>7}",
            r.due_on,
            truncate(&r.account_id, 12),
            truncate(&line.account_name, 24),
            truncate(line.owner.as_deref().unwrap_or("–"), 12),
            r.arr.whole(),
            line.stage.as_str(),
            next,
            renews,
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
