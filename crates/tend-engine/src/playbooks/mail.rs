//! The email outbox as the server's mailer sees it: what is due, and how each
//! attempt went (retried like webhook deliveries, given up after as many attempts).

use chrono::Utc;
use tend_store::EmailRecord;

use crate::webhooks::DeliveryPolicy;
use crate::{App, AppError};

impl App {
    /// Pending emails due now, oldest first.
    pub async fn due_emails(&self, limit: i64) -> Result<Vec<EmailRecord>, AppError> {
        Ok(self.store().due_emails(Utc::now(), limit).await?)
    }

    /// Records an attempt at `email`: sent, or failed with `error` (retried after
    /// the policy's wait, given up after its last attempt). Returns the status.
    pub async fn record_email(
        &self,
        email: &EmailRecord,
        error: Option<&str>,
        policy: &DeliveryPolicy,
    ) -> Result<&'static str, AppError> {
        let now = Utc::now();
        let attempts = email.attempts + 1;
        let (status, next) = match error {
            None => ("sent", None),
            Some(_) if attempts >= policy.max_attempts => ("failed", None),
            Some(_) => (
                "pending",
                Some(
                    now + chrono::Duration::from_std(policy.retry_after(attempts))
                        .unwrap_or(chrono::Duration::MAX),
                ),
            ),
        };
        let mut tx = self.store().begin().await?;
        tx.record_email_attempt(email.id, status, now, next, error)
            .await?;
        tx.commit().await?;
        Ok(status)
    }
}
