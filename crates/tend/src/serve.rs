//! `tend serve`: logging, the listener, and shutdown on SIGINT or SIGTERM.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tend_engine::webhooks::DeliveryPolicy;
use tend_engine::App;
use tend_server::ServerState;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Log lines as text or as JSON objects.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Seconds to wait before retrying a failed webhook delivery; the wait doubles
    /// after each further failure, up to an hour.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS", value_parser = positive_seconds)]
    webhook_first_retry: f64,
    /// The SMTP server playbook emails go through: smtp://host:port (STARTTLS when
    /// offered; add ?tls=required to insist), smtps://host:port, with user:password@
    /// to sign in. Without one, emails wait in the outbox.
    #[arg(
        long,
        env = "TEND_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    smtp_url: Option<String>,
    /// The From address of playbook emails.
    #[arg(long, env = "TEND_MAIL_FROM", default_value = "tend <tend@localhost>")]
    mail_from: String,
    /// Do not run the playbooks over every account once a day (changes still run
    /// them on the accounts they touch).
    #[arg(long)]
    no_daily_playbooks: bool,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(s),
        _ => Err("must be a number of seconds above 0 and at most 3600".into()),
    }
}

pub async fn run(app: App, args: ServeArgs) -> Result<()> {
    let store = app.store();
    let filter = tracing_subscriber::EnvFilter::try_from_env("TEND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    if store.users().await?.is_empty() && store.api_tokens().await?.is_empty() {
        eprintln!(
            "No users or API tokens yet. Create the first admin with\n  \
             tend user add HANDLE --email EMAIL --name NAME --role admin --password-stdin\n\
             or a token with\n  tend token create NAME --role admin"
        );
    }
    let shutdown = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    eprintln!("tend is listening on http://{address}");
    tracing::info!(%address, "listening");
    let policy = DeliveryPolicy {
        first_retry: std::time::Duration::from_secs_f64(args.webhook_first_retry),
        ..DeliveryPolicy::default()
    };
    let mut state = ServerState::with_delivery_policy(app.clone(), policy);
    if let Some(url) = args.smtp_url {
        let config = tend_server::mailer::MailConfig {
            url,
            from: args.mail_from,
        };
        state = state.with_mail(&config).map_err(anyhow::Error::msg)?;
    }
    if !args.no_daily_playbooks {
        state = state.with_daily_playbooks();
    }
    state.warm_figures();
    tend_server::serve(listener, state, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled, so a signal sent as soon as the
/// server says it listens is not missed.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("could not listen for SIGTERM")?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("could not listen for SIGINT")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    })
}
