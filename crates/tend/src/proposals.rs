//! `tend proposal`: renewal and expansion proposals checked against the negotiation
//! guardrails; `tend approvals`: what waits for a leader, and their decisions. Both
//! act as a user (`--as HANDLE`): who proposes and who approves is the point.

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use tend_core::Currency;
use tend_engine::proposals::{
    NewProposal, Proposal, ProposalKind, ProposalLine, ProposalQuery, ProposalStatus,
};
use tend_engine::{Actor, App};

use crate::{parse_currency, parse_date};

#[derive(Subcommand)]
pub enum ProposalCommand {
    /// Makes a proposal on an account; within the guardrails it is approved at once.
    Create(CreateArgs),
    /// Lists proposals, newest first.
    List {
        /// approved, pending or rejected.
        #[arg(long, value_parser = ProposalStatus::parse)]
        status: Option<ProposalStatus>,
        #[arg(long)]
        account: Option<String>,
    },
    /// Shows one proposal with the guardrails' reasons.
    Show { id: i64 },
}

#[derive(Args)]
pub struct CreateArgs {
    /// The account's id.
    account: String,
    /// The user who proposes (an account manager's handle, say).
    #[arg(long = "as")]
    as_user: String,
    /// renewal or expansion.
    #[arg(long, default_value = "renewal", value_parser = ProposalKind::parse)]
    kind: ProposalKind,
    /// A product line as PRODUCT:SEATS:LIST_PRICE (list price per seat and year in
    /// minor units); repeat for several.
    #[arg(long = "line", required = true, value_parser = parse_line)]
    lines: Vec<ProposalLine>,
    /// ISO 4217 code of the list prices.
    #[arg(long, default_value = "USD", value_parser = parse_currency)]
    currency: Currency,
    /// Off list price, in percent.
    #[arg(long, default_value_t = 0.0)]
    discount: f64,
    /// Term in months (36 = three years).
    #[arg(long, default_value_t = 12)]
    term_months: u32,
    #[arg(long, default_value = "annual_in_advance")]
    payment_terms: String,
    /// The first day of the proposed term.
    #[arg(long, value_parser = parse_date)]
    start: NaiveDate,
    /// Anything outside the standard contract, in words.
    #[arg(long)]
    non_standard: Option<String>,
}

fn parse_line(text: &str) -> Result<ProposalLine, String> {
    let parts: Vec<&str> = text.rsplitn(3, ':').collect();
    let [price, seats, product] = parts.as_slice() else {
        return Err(format!("{text:?} is not PRODUCT:SEATS:LIST_PRICE"));
    };
    Ok(ProposalLine {
        product: product.to_string(),
        seats: seats
            .parse()
            .map_err(|_| format!("seats {seats:?} is not a whole number"))?,
        list_price: price
            .parse()
            .map_err(|_| format!("list price {price:?} is not a whole number of minor units"))?,
    })
}

#[derive(Args)]
pub struct ApprovalsArgs {
    /// The leader deciding (a user's handle).
    #[arg(long = "as")]
    as_user: String,
    #[command(subcommand)]
    decision: Option<Decision>,
}

#[derive(Subcommand)]
enum Decision {
    /// Approves a pending proposal.
    Approve {
        id: i64,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Rejects a pending proposal; the comment says why.
    Reject {
        id: i64,
        #[arg(long)]
        comment: String,
    },
}

/// The user `handle` as an actor.
pub(crate) async fn acting_as(app: &App, handle: &str) -> Result<Actor> {
    let users = app.store().users().await.context("reading users")?;
    let Some(user) = users.iter().find(|u| u.handle == handle) else {
        bail!("no user {handle:?}; `tend user list` shows them");
    };
    if !user.active {
        bail!("user {handle:?} is disabled");
    }
    Ok(Actor::of_user(user))
}

pub async fn proposal(app: &App, command: ProposalCommand) -> Result<()> {
    match command {
        ProposalCommand::Create(a) => {
            let actor = acting_as(app, &a.as_user).await?;
            let new = NewProposal {
                account_id: a.account,
                kind: a.kind,
                lines: a.lines,
                currency: a.currency,
                discount_percent: a.discount,
                term_months: a.term_months,
                payment_terms: a.payment_terms,
                start_on: a.start,
                non_standard_terms: a.non_standard,
            };
            let p = app.create_proposal(&actor, &new).await?;
            print!("{}", describe(&p));
        }
        ProposalCommand::List { status, account } => {
            let query = ProposalQuery {
                status,
                account_id: account,
            };
            let found = app.proposals(&Actor::cli(), &query).await?;
            if found.is_empty() {
                println!("No proposals.");
            }
            for p in &found {
                println!("{}", headline(p));
            }
        }
        ProposalCommand::Show { id } => {
            print!("{}", describe(&app.proposal(&Actor::cli(), id).await?));
        }
    }
    Ok(())
}

pub async fn approvals(app: &App, args: ApprovalsArgs) -> Result<()> {
    let actor = acting_as(app, &args.as_user).await?;
    match args.decision {
        None => {
            let waiting = app.approvals_for(&actor).await?;
            if waiting.is_empty() {
                println!("Nothing waits for {}.", args.as_user);
            }
            for p in &waiting {
                print!("{}", describe(p));
            }
        }
        Some(Decision::Approve { id, comment }) => {
            let p = app
                .decide_proposal(&actor, id, true, comment.as_deref())
                .await?;
            println!("{}", headline(&p));
        }
        Some(Decision::Reject { id, comment }) => {
            let p = app
                .decide_proposal(&actor, id, false, Some(&comment))
                .await?;
            println!("{}", headline(&p));
        }
    }
    Ok(())
}

fn headline(p: &Proposal) -> String {
    let by = match (&p.decided_by, p.status) {
        (Some(by), _) => format!(" by {by}"),
        (None, ProposalStatus::Pending) => {
            format!(" for {}", p.route.map_or("a leader", |r| r.words()))
        }
        (None, _) => " (within the guardrails)".to_string(),
    };
    format!(
        "#{} {} {} of {}: ARR {} over {} months, {}% off, {}{by}",
        p.id,
        p.created_at.format("%Y-%m-%d"),
        p.kind.as_str(),
        p.account_id,
        p.arr,
        p.term_months,
        p.discount_percent,
        p.status.as_str()
    )
}

fn describe(p: &Proposal) -> String {
    let mut out = headline(p) + "\n";
    for line in &p.lines {
        out.push_str(&format!(
            "  {} × {} at {} a seat a year (list)\n",
            line.seats,
            line.product,
            tend_core::Money::new(line.list_price, p.arr.currency)
        ));
    }
    for b in &p.breaches {
        out.push_str(&format!("  needs {}: {}\n", b.route.words(), b.reason));
    }
    if let Some(comment) = &p.decision_comment {
        out.push_str(&format!("  comment: {comment}\n"));
    }
    out
}
