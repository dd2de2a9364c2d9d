//! `tend user …`, `tend token …`, `tend source …` and `tend audit`: arguments and output of access
//! administration. Changes made here are audited with the actor `cli`.

use std::io::BufRead;

use anyhow::{Context, Result};
use chrono::{Duration, Utc};
use clap::Subcommand;
use tend_core::Role;
use tend_engine::access::{
    add_user, audit_log, create_source, create_token, disable_user, revoke_source, revoke_token,
    NewToken, NewUser,
};
use tend_store::Store;

/// Who the audit log names for changes made on the command line.
pub(crate) const CLI_ACTOR: &str = "cli";

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).map_err(|e| e.0)
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user who signs in with an email and a password.
    Add {
        /// The handle account owner fields name (e.g. alex.morgan): the user's book of business.
        handle: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, leader, csm, am or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password (at least 12 characters) from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Stop a user from signing in.
    Disable { handle: String },
    /// Put a user in a team (team task lists, team leads, team pools of playbooks);
    /// without TEAM, in none.
    Team {
        handle: String,
        team: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token; its secret is printed once and never stored.
    Create {
        /// What the token is for (e.g. "renewal agent").
        name: String,
        /// admin, leader, csm, am or viewer.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Limit the token to the book of business of this handle.
        #[arg(long)]
        book: Option<String>,
        /// Days until the token expires (no expiry by default).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by its id.
    Revoke { id: String },
}

#[derive(Subcommand)]
pub enum SourceCommand {
    /// Create an event source; its write key is printed once and never stored.
    Create {
        /// What sends the calls (e.g. "web app").
        name: String,
    },
    /// List sources (never their write keys).
    List,
    /// Revoke a source's write key by the source's id: its calls are refused.
    Revoke { id: String },
}

pub async fn source(store: &Store, command: SourceCommand) -> Result<()> {
    let now = Utc::now();
    match command {
        SourceCommand::Create { name } => {
            let created = create_source(store, CLI_ACTOR, &name, now).await?;
            eprintln!(
                "Created source {} ({}). Its write key is shown this once; store it now:",
                created.source.id, created.source.name
            );
            println!("{}", created.write_key);
        }
        SourceCommand::List => {
            println!("{:<18} {:<26} {:<10} name", "id", "created", "state");
            for s in store.sources().await? {
                let state = if s.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<18} {:<26} {:<10} {}",
                    s.id,
                    s.created_at.to_rfc3339(),
                    state,
                    s.name
                );
            }
        }
        SourceCommand::Revoke { id } => {
            revoke_source(store, CLI_ACTOR, &id, now).await?;
            println!("Revoked source {id}.");
        }
    }
    Ok(())
}

pub async fn user(store: &Store, command: UserCommand) -> Result<()> {
    let now = Utc::now();
    match command {
        UserCommand::Add {
            handle,
            email,
            name,
            role,
            password_stdin,
        } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("could not read the password from standard input")?;
                Some(line.trim_end_matches(['\n', '\r']).to_string())
            } else {
                None
            };
            let new = NewUser {
                handle,
                email,
                name,
                role,
                password,
            };
            let user = add_user(store, CLI_ACTOR, new, now).await?;
            println!("Added {} <{}> as {}.", user.handle, user.email, user.role);
        }
        UserCommand::List => {
            println!(
                "{:<24} {:<32} {:<8} {:<8} name",
                "handle", "email", "role", "active"
            );
            for u in store.users().await? {
                let active = if u.active { "yes" } else { "no" };
                println!(
                    "{:<24} {:<32} {:<8} {:<8} {}",
                    u.handle, u.email, u.role, active, u.name
                );
            }
        }
        UserCommand::Disable { handle } => {
            disable_user(store, CLI_ACTOR, &handle, now).await?;
            println!("Disabled {handle}.");
        }
        UserCommand::Team { handle, team } => {
            tend_engine::access::set_user_team(store, CLI_ACTOR, &handle, team.as_deref(), now)
                .await?;
            match team {
                Some(team) => println!("{handle} is in team {team}."),
                None => println!("{handle} is in no team."),
            }
        }
    }
    Ok(())
}

pub async fn token(store: &Store, command: TokenCommand) -> Result<()> {
    let now = Utc::now();
    match command {
        TokenCommand::Create {
            name,
            role,
            book,
            expires_in_days,
        } => {
            let expires_at = expires_in_days.map(|d| now + Duration::days(i64::from(d)));
            let new = NewToken {
                name,
                role,
                book,
                expires_at,
            };
            let created = create_token(store, CLI_ACTOR, new, now).await?;
            eprintln!(
                "Created token {} ({}). Its secret is shown this once; store it now:",
                created.token.id, created.token.role
            );
            println!("{}", created.secret);
        }
        TokenCommand::List => {
            println!(
                "{:<18} {:<8} {:<16} {:<26} {:<10} name",
                "id", "role", "book", "expires", "state"
            );
            for t in store.api_tokens().await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.is_valid_at(now) {
                    "valid"
                } else {
                    "expired"
                };
                let expires = t
                    .expires_at
                    .map_or_else(|| "never".into(), |at| at.to_rfc3339());
                println!(
                    "{:<18} {:<8} {:<16} {:<26} {:<10} {}",
                    t.id,
                    t.role,
                    t.book.as_deref().unwrap_or("all"),
                    expires,
                    state,
                    t.name
                );
            }
        }
        TokenCommand::Revoke { id } => {
            revoke_token(store, CLI_ACTOR, &id, now).await?;
            println!("Revoked token {id}.");
        }
    }
    Ok(())
}

pub async fn audit(store: &Store, limit: usize) -> Result<()> {
    for e in audit_log(store, limit).await? {
        println!(
            "{}  {:<12} {:<14} {:<24} {}",
            e.at.to_rfc3339(),
            e.actor,
            e.action,
            e.target,
            e.changes
        );
    }
    Ok(())
}
