//! `tend mcp`: the MCP server over stdin and stdout, for desktop agent clients that
//! start tend themselves. The agent acts as an API token or a user, chosen here.

use anyhow::{bail, Context, Result};
use clap::Args;
use tend_engine::access::token_for_secret;
use tend_engine::{Actor, App};

#[derive(Args)]
pub struct McpArgs {
    /// An API token's secret (`tend token create`): the agent has its role and book.
    #[arg(
        long,
        env = "TEND_TOKEN",
        hide_env_values = true,
        conflicts_with = "user"
    )]
    token: Option<String>,
    /// A user's handle (`tend user add`): the agent acts as that user, with their
    /// role and, for a CSM or account manager, their book.
    #[arg(long, value_name = "HANDLE")]
    user: Option<String>,
}

async fn actor(app: &App, args: &McpArgs) -> Result<Actor> {
    if let Some(secret) = &args.token {
        let token = token_for_secret(app.store(), secret.trim(), app.now())
            .await?
            .context("the token is not valid (unknown, revoked or expired)")?;
        return Ok(Actor::of_token(&token));
    }
    if let Some(handle) = &args.user {
        let users = app.store().users().await?;
        let Some(user) = users.iter().find(|u| &u.handle == handle) else {
            bail!("no user {handle:?}; `tend user list` shows them");
        };
        if !user.active {
            bail!("user {handle:?} is disabled");
        }
        return Ok(Actor::of_user(user));
    }
    bail!("say who the agent acts as: --token SECRET (or TEND_TOKEN) or --user HANDLE")
}

pub async fn run(app: &App, args: McpArgs) -> Result<()> {
    // Standard output carries the protocol; logs go to standard error.
    let filter = tracing_subscriber::EnvFilter::try_from_env("TEND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let actor = actor(app, &args).await?;
    tend_server::mcp::serve_stdio(app.clone(), actor)
        .await
        .map_err(anyhow::Error::msg)
}
