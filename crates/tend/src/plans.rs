//! `tend plan`: an account's plan (every save a version), its stakeholder map,
//! executive relationships and account team. Changes act as a user (`--as HANDLE`).

use std::fmt::Write as _;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use tend_core::{Currency, Influence, Money, Sentiment, TeamRole};
use tend_engine::account_plans::{AccountDesk, NewAccountPlan, NewStanding};
use tend_engine::{Actor, App};

use crate::proposals::acting_as;
use crate::{parse_currency, parse_date};

#[derive(Subcommand)]
pub enum PlanCommand {
    /// The account plan, its history, stakeholders, executives and the team.
    Show { account: String },
    /// Saves the account plan as a new version (the whole plan).
    Set(SetArgs),
    /// Sets how a contact stands: influence, sentiment, strength, whom they report to.
    Stakeholder(StakeholderArgs),
    /// Puts someone on the account team in a role, or takes them off.
    Team(TeamArgs),
}

#[derive(Args)]
pub struct SetArgs {
    account: String,
    #[arg(long = "as")]
    as_user: String,
    /// An objective; repeat for several.
    #[arg(long = "objective")]
    objectives: Vec<String>,
    /// How the account grows, in words.
    #[arg(long)]
    strategy: Option<String>,
    /// Target ARR in minor units of --currency.
    #[arg(long)]
    target_arr: Option<i64>,
    #[arg(long, default_value = "USD", value_parser = parse_currency)]
    currency: Currency,
    /// A risk to the plan; repeat for several.
    #[arg(long = "risk")]
    risks: Vec<String>,
    /// The day of the next review.
    #[arg(long, value_parser = parse_date)]
    review_on: Option<NaiveDate>,
    /// By default the account manager, else the CSM.
    #[arg(long)]
    owner: Option<String>,
}

#[derive(Args)]
pub struct StakeholderArgs {
    account: String,
    contact: String,
    #[arg(long = "as")]
    as_user: String,
    /// high, medium or low.
    #[arg(long, value_parser = Influence::parse)]
    influence: Influence,
    /// advocate, supporter, neutral, skeptic or detractor.
    #[arg(long, value_parser = Sentiment::parse)]
    sentiment: Sentiment,
    /// Relationship strength, 1 (barely known) to 5 (trusted).
    #[arg(long)]
    strength: u8,
    /// The contact they report to.
    #[arg(long)]
    reports_to: Option<String>,
}

#[derive(Args)]
pub struct TeamArgs {
    account: String,
    #[arg(long = "as")]
    as_user: String,
    #[command(subcommand)]
    change: TeamChange,
}

#[derive(Subcommand)]
enum TeamChange {
    Add {
        handle: String,
        /// csm, am, solutions_engineer, support_lead or executive_sponsor.
        #[arg(long, value_parser = TeamRole::parse)]
        role: TeamRole,
    },
    Remove {
        handle: String,
        #[arg(long, value_parser = TeamRole::parse)]
        role: TeamRole,
    },
}

pub async fn run(app: &App, command: PlanCommand) -> Result<()> {
    match command {
        PlanCommand::Show { account } => {
            print!(
                "{}",
                render(&app.account_desk(&Actor::cli(), &account).await?)
            );
        }
        PlanCommand::Set(a) => {
            let actor = acting_as(app, &a.as_user).await?;
            let new = NewAccountPlan {
                objectives: a.objectives,
                growth_strategy: a.strategy,
                target_arr: a.target_arr.map(|minor| Money::new(minor, a.currency)),
                risks: a.risks,
                next_review_on: a.review_on,
                owner: a.owner,
            };
            let plan = app.save_account_plan(&actor, &a.account, &new).await?;
            println!("Saved version {} of {}'s plan.", plan.version, a.account);
        }
        PlanCommand::Stakeholder(a) => {
            let actor = acting_as(app, &a.as_user).await?;
            let new = NewStanding {
                influence: a.influence,
                sentiment: a.sentiment,
                strength: a.strength,
                reports_to: a.reports_to,
            };
            app.set_stakeholder(&actor, &a.account, &a.contact, &new)
                .await?;
            println!("{} on {}: set.", a.contact, a.account);
        }
        PlanCommand::Team(a) => {
            let actor = acting_as(app, &a.as_user).await?;
            match a.change {
                TeamChange::Add { handle, role } => {
                    app.add_team_member(&actor, &a.account, &handle, role)
                        .await?;
                    println!("{handle} is {} on {}.", role.as_str(), a.account);
                }
                TeamChange::Remove { handle, role } => {
                    app.remove_team_member(&actor, &a.account, &handle, role)
                        .await?;
                    println!("{handle} is no longer {} on {}.", role.as_str(), a.account);
                }
            }
        }
    }
    Ok(())
}

fn render(d: &AccountDesk) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Account plan of {} (data to {})", d.account_id, d.day);
    match &d.plan {
        None => {
            let _ = writeln!(out, "  no plan yet (`tend plan set`)");
        }
        Some(p) => {
            let _ = writeln!(
                out,
                "  version {} by {} on {}; owner {}; next review {}",
                p.version,
                p.saved_by,
                p.saved_at.format("%Y-%m-%d"),
                p.owner.as_deref().unwrap_or("nobody"),
                p.next_review_on
                    .map_or("not set".to_string(), |d| d.to_string()),
            );
            if let Some(target) = p.target_arr {
                let _ = writeln!(out, "  target ARR {target}");
            }
            if let Some(strategy) = &p.growth_strategy {
                let _ = writeln!(out, "  growth strategy: {strategy}");
            }
            for o in &p.objectives {
                let _ = writeln!(out, "  objective: {o}");
            }
            for r in &p.risks {
                let _ = writeln!(out, "  risk: {r}");
            }
            if !d.history.is_empty() {
                let _ = writeln!(out, "  {} earlier versions", d.history.len());
            }
        }
    }
    let _ = writeln!(out, "Stakeholders");
    for s in &d.stakeholders {
        let standing = s.standing.as_ref().map_or("not mapped".to_string(), |st| {
            let boss = st
                .reports_to
                .as_deref()
                .map_or(String::new(), |b| format!(", reports to {b}"));
            format!(
                "{} influence, {}, strength {}/5{boss}",
                st.influence.as_str(),
                st.sentiment.as_str(),
                st.strength
            )
        });
        let _ = writeln!(
            out,
            "  {} {} ({}{}): {standing}",
            s.contact.id,
            s.contact.name,
            s.contact.role.as_str(),
            s.contact
                .title
                .as_deref()
                .map_or(String::new(), |t| format!(", {t}")),
        );
    }
    let touch = d
        .last_executive_touch
        .map_or("never".to_string(), |day| day.to_string());
    let _ = writeln!(out, "Executives (last touch {touch})");
    for e in &d.executives {
        let _ = writeln!(
            out,
            "  {} {}: last touch {}; touches in the last 90 days {}, in the 90 before {} ({})",
            e.contact_id,
            e.name,
            e.last_touch
                .map_or("never".to_string(), |day| day.to_string()),
            e.recent,
            e.before,
            e.trend.as_str()
        );
    }
    let _ = writeln!(out, "Account team");
    if d.team.is_empty() {
        let _ = writeln!(
            out,
            "  nobody yet (`tend plan team ACCOUNT --as HANDLE add …`)"
        );
    }
    for m in &d.team {
        let _ = writeln!(out, "  {} — {}", m.handle, m.role.as_str());
    }
    out
}
