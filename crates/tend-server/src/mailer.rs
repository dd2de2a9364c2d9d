//! The mailer: sends the email outbox that playbooks fill, through the SMTP server
//! `tend serve --smtp-url` names. Each attempt is recorded through the engine, which
//! schedules retries as for webhooks. Without an SMTP server emails stay in the
//! outbox, pending.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tend_engine::webhooks::DeliveryPolicy;
use tend_engine::App;
use tend_store::EmailRecord;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

/// Emails read from the outbox at a time.
const BATCH: i64 = 50;
/// How often the outbox is looked at when nothing was due.
const POLL: Duration = Duration::from_millis(500);

/// Where and as whom emails are sent.
#[derive(Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (STARTTLS when offered; `?tls=required` to insist),
    /// `smtps://host:port` (TLS), with `user:password@` for authentication.
    pub url: String,
    /// The From address, e.g. `tend <cs@vendor.example>`.
    pub from: String,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        f.debug_struct("MailConfig")
            .field("url", &"(redacted)")
            .field("from", &self.from)
            .finish()
    }
}

/// The running mailer. Cheap to clone; [`Mailer::stop`] ends it.
#[derive(Clone)]
pub struct Mailer {
    stop: watch::Sender<bool>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Mailer {
    /// Starts sending on the current runtime; refuses a URL or From address it
    /// cannot use.
    pub fn start(app: App, config: &MailConfig, policy: DeliveryPolicy) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .map_err(|e| format!("the SMTP URL cannot be used: {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("the From address {:?} cannot be used: {e}", config.from))?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(app, transport, from, policy, stopped));
        Ok(Mailer {
            stop,
            task: Arc::new(Mutex::new(Some(task))),
        })
    }

    /// Stops taking emails and waits for the one being sent.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

async fn run(
    app: App,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    policy: DeliveryPolicy,
    mut stopped: watch::Receiver<bool>,
) {
    while !*stopped.borrow() {
        let due = match app.due_emails(BATCH).await {
            Ok(due) => due,
            Err(error) => {
                if !app.store().is_closed() {
                    tracing::error!(%error, "reading the email outbox failed");
                }
                Vec::new()
            }
        };
        for email in &due {
            let error = send(&transport, &from, email).await.err();
            if let Some(error) = &error {
                tracing::warn!(email = email.id, %error, "sending an email failed");
            }
            if let Err(error) = app.record_email(email, error.as_deref(), &policy).await {
                tracing::error!(%error, "recording an email attempt failed");
            }
        }
        if due.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stopped.changed() => {}
            }
        }
    }
}

async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    email: &EmailRecord,
) -> Result<(), String> {
    let to: Mailbox = email
        .to_address
        .parse()
        .map_err(|e| format!("the address {:?} cannot be used: {e}", email.to_address))?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&email.subject)
        .header(ContentType::TEXT_PLAIN)
        .body(email.body.clone())
        .map_err(|e| e.to_string())?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
