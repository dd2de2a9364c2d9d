//! `tend expansion`: the whitespace of the portfolio, expansion signals, tracked
//! opportunities, and the expansion revenue report with its attribution.

use std::fmt::Write as _;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use tend_core::{CalendarPeriod, Currency, Money, OpportunitySource, OpportunityStage, SignalKind};
use tend_engine::expansion::opportunities::{
    NewOpportunity, Opportunity, OpportunityChange, OpportunityQuery,
};
use tend_engine::expansion::report::{ExpansionReport, ExpansionReportQuery};
use tend_engine::expansion::signals::{SignalQuery, Signals};
use tend_engine::expansion::whitespace::{Whitespace, WhitespaceQuery};
use tend_engine::{Actor, App};

use crate::proposals::acting_as;
use crate::render::pct;
use crate::{parse_currency, parse_date};

#[derive(Subcommand)]
pub enum ExpansionCommand {
    /// Products similar accounts (same segment and industry, ARR within a factor of
    /// 2) hold that an account does not, best first.
    Whitespace {
        /// Only this owner's book (similar accounts are found among all).
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        segment: Option<String>,
        /// Gaps listed (1–1,000).
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Seats used up to or beyond the licence, usage growing, modules used but not
    /// licensed, largest estimate first.
    Signals {
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        segment: Option<String>,
        /// high_utilization, seats_over_licence, usage_growth or unlicensed_module.
        #[arg(long, value_parser = SignalKind::parse)]
        kind: Option<SignalKind>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Expansion ARR booked on contracts by period, attributed to the opportunities
    /// behind it by source, by segment and by owner.
    Report {
        /// The first period: a quarter (2026-Q1), month (2026-03) or year (2026); by
        /// default the quarter three before the current one.
        #[arg(long, value_parser = CalendarPeriod::parse)]
        period: Option<CalendarPeriod>,
        /// Consecutive periods (4 by default, 1 with --period).
        #[arg(long)]
        periods: Option<usize>,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        segment: Option<String>,
    },
    /// Tracked expansion opportunities.
    #[command(subcommand)]
    Opportunity(OpportunityCommand),
}

#[derive(Subcommand)]
pub enum OpportunityCommand {
    /// Opens an opportunity on an account.
    Create(CreateArgs),
    /// Lists opportunities, newest first.
    List {
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long, value_parser = OpportunityStage::parse)]
        stage: Option<OpportunityStage>,
    },
    /// Moves an opportunity on: its stage, amount, close day, owner, title or note.
    Update(UpdateArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    account: String,
    /// The user who opens it (an account manager's handle, say).
    #[arg(long = "as")]
    as_user: String,
    #[arg(long)]
    product: String,
    /// The ARR it would add, in minor units of --currency.
    #[arg(long)]
    amount: i64,
    #[arg(long, default_value = "USD", value_parser = parse_currency)]
    currency: Currency,
    /// The day it is expected to close.
    #[arg(long, value_parser = parse_date)]
    close_on: NaiveDate,
    /// playbook, signal or manual: what revenue attribution credits.
    #[arg(long, default_value = "manual", value_parser = OpportunitySource::parse)]
    source: OpportunitySource,
    /// The signal, gap or playbook it came from (high_utilization, whitespace, …).
    #[arg(long)]
    detail: Option<String>,
    #[arg(long)]
    title: Option<String>,
    /// By default the account manager, else the CSM, else --as.
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    note: Option<String>,
    #[arg(long, value_parser = OpportunityStage::parse)]
    stage: Option<OpportunityStage>,
}

#[derive(Args)]
pub struct UpdateArgs {
    id: i64,
    #[arg(long = "as")]
    as_user: String,
    /// identified, qualified, proposal, negotiation, closed_won or closed_lost.
    #[arg(long, value_parser = OpportunityStage::parse)]
    stage: Option<OpportunityStage>,
    /// A new amount in minor units (of --currency, by default the opportunity's).
    #[arg(long)]
    amount: Option<i64>,
    #[arg(long, value_parser = parse_currency, requires = "amount")]
    currency: Option<Currency>,
    /// Expected close day, or the day it closed (today when closing without one).
    #[arg(long, value_parser = parse_date)]
    close_on: Option<NaiveDate>,
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    title: Option<String>,
    #[arg(long)]
    note: Option<String>,
}

pub async fn run(app: &App, command: ExpansionCommand) -> Result<()> {
    let cli = Actor::cli();
    match command {
        ExpansionCommand::Whitespace {
            owner,
            segment,
            limit,
        } => {
            let query = WhitespaceQuery {
                owner,
                segment,
                limit: Some(limit),
            };
            print!(
                "{}",
                render_whitespace(&app.whitespace(&cli, &query).await?)
            );
        }
        ExpansionCommand::Signals {
            owner,
            segment,
            kind,
            limit,
        } => {
            let query = SignalQuery {
                owner,
                segment,
                kind,
                limit: Some(limit),
            };
            print!(
                "{}",
                render_signals(&app.expansion_signals(&cli, &query).await?)
            );
        }
        ExpansionCommand::Report {
            period,
            periods,
            owner,
            segment,
        } => {
            let query = ExpansionReportQuery {
                period,
                periods,
                owner,
                segment,
            };
            print!(
                "{}",
                render_report(&app.expansion_report(&cli, &query).await?)
            );
        }
        ExpansionCommand::Opportunity(command) => opportunity(app, command).await?,
    }
    Ok(())
}

async fn opportunity(app: &App, command: OpportunityCommand) -> Result<()> {
    match command {
        OpportunityCommand::Create(a) => {
            let actor = acting_as(app, &a.as_user).await?;
            let new = NewOpportunity {
                account_id: a.account,
                product: a.product,
                title: a.title,
                amount: Money::new(a.amount, a.currency),
                close_on: a.close_on,
                owner: a.owner,
                source: a.source,
                source_detail: a.detail,
                note: a.note,
                stage: a.stage,
            };
            println!("{}", headline(&app.create_opportunity(&actor, &new).await?));
        }
        OpportunityCommand::List {
            account,
            owner,
            stage,
        } => {
            let query = OpportunityQuery {
                account_id: account,
                owner,
                stage,
            };
            let found = app.opportunities(&Actor::cli(), &query).await?;
            if found.is_empty() {
                println!("No opportunities.");
            }
            for o in &found {
                println!("{}", headline(o));
            }
        }
        OpportunityCommand::Update(a) => {
            let actor = acting_as(app, &a.as_user).await?;
            let amount = match a.amount {
                Some(minor) => {
                    let currency = match a.currency {
                        Some(c) => c,
                        None => app.opportunity(&actor, a.id).await?.amount.currency,
                    };
                    Some(Money::new(minor, currency))
                }
                None => None,
            };
            let change = OpportunityChange {
                title: a.title,
                stage: a.stage,
                amount,
                close_on: a.close_on,
                owner: a.owner,
                note: a.note,
            };
            println!(
                "{}",
                headline(&app.update_opportunity(&actor, a.id, &change).await?)
            );
        }
    }
    Ok(())
}

fn headline(o: &Opportunity) -> String {
    let detail = o
        .source_detail
        .as_deref()
        .map_or(String::new(), |d| format!(" ({d})"));
    format!(
        "#{} {} {}: {} ARR {}, {} closing {}, owner {}, from {}{detail}",
        o.id,
        o.account_id,
        o.product,
        o.stage.as_str(),
        o.amount,
        o.title,
        o.close_on,
        o.owner.as_deref().unwrap_or("nobody"),
        o.source.as_str(),
    )
}

fn whole(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).whole()
}

fn render_whitespace(w: &Whitespace) -> String {
    let c = w.currency;
    let mut out = String::new();
    let held: Vec<String> = w
        .products
        .iter()
        .map(|(p, n)| format!("{p} ({n})"))
        .collect();
    let _ = writeln!(
        out,
        "Whitespace on {} in {c}: products held {}; {} gaps",
        w.day,
        if held.is_empty() {
            "none".to_string()
        } else {
            held.join(", ")
        },
        w.total
    );
    for line in &w.gaps {
        let g = &line.gap;
        let _ = writeln!(
            out,
            "  {} {} — {}: {} of {} similar accounts hold it ({}), about {} a year; expected {}",
            g.account_id,
            line.account_name,
            g.product,
            g.owners,
            g.peers,
            pct(g.share),
            whole(g.estimated_arr, c),
            whole(g.expected_arr().round() as i64, c),
        );
    }
    if w.total > w.gaps.len() {
        let _ = writeln!(out, "  … {} more (--limit)", w.total - w.gaps.len());
    }
    for m in w.left_out.amounts() {
        let _ = writeln!(out, "  left out for want of an exchange rate: {m}");
    }
    out
}

fn render_signals(s: &Signals) -> String {
    let c = s.currency;
    let mut out = String::new();
    let counts: Vec<String> = s
        .counts
        .iter()
        .map(|(k, n)| format!("{} {n}", k.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "Expansion signals on {} ({}): {}",
        s.day,
        if counts.is_empty() {
            "none".to_string()
        } else {
            counts.join(", ")
        },
        s.total
    );
    for line in &s.lines {
        let estimate = line.estimated_arr.map_or(String::new(), |arr| {
            format!(", about {} a year", whole(arr, c))
        });
        let _ = writeln!(
            out,
            "  {} {} — {} {}: {}{estimate}",
            line.account_id,
            line.account_name,
            line.signal.kind.as_str(),
            line.signal.product,
            line.signal.words,
        );
    }
    if s.total > s.lines.len() {
        let _ = writeln!(out, "  … {} more (--limit)", s.total - s.lines.len());
    }
    out
}

fn render_report(r: &ExpansionReport) -> String {
    let c = r.currency;
    let mut out = String::new();
    let _ = writeln!(out, "Expansion booked, in {c}, data to {}", r.day);
    for p in &r.periods {
        let sources: Vec<String> = p
            .by_source
            .iter()
            .map(|(s, v)| format!("{s} {}", whole(*v, c)))
            .collect();
        let _ = writeln!(
            out,
            "{}: {} in {} bookings ({}); opportunities won: {} for {}",
            p.period.label(),
            whole(p.booked, c),
            p.bookings,
            sources.join(", "),
            p.won,
            whole(p.won_amount, c),
        );
        for (title, map) in [("segment", &p.by_segment), ("owner", &p.by_owner)] {
            if !map.is_empty() {
                let parts: Vec<String> = map
                    .iter()
                    .map(|(k, v)| {
                        let k = if k.is_empty() { "none" } else { k.as_str() };
                        format!("{k} {}", whole(*v, c))
                    })
                    .collect();
                let _ = writeln!(out, "  by {title}: {}", parts.join(", "));
            }
        }
    }
    for m in r.left_out.amounts() {
        let _ = writeln!(out, "left out for want of an exchange rate: {m}");
    }
    out
}
