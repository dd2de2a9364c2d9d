//! The records of accounts, a page at a time, and the ones people write by hand:
//! activities logged on an account, a contact's role and title.

use chrono::{DateTime, TimeDelta, Utc};
use tend_core::{
    Activity, ActivityKind, Contact, ContactRole, Contract, Invoice, Payment, SurveyResponse,
    Ticket,
};

use super::accounts::text_field;
use super::page::{Cursor, Page, PageRequest};
use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};

/// Longest activity body accepted.
const MAX_BODY: usize = 20_000;
/// How far in the future an activity may be dated (clocks differ).
const FUTURE_SLACK: TimeDelta = TimeDelta::minutes(5);

/// A kind of account record that lists by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Contacts,
    Contracts,
    Tickets,
    SurveyResponses,
    Invoices,
    Payments,
    Activities,
}

impl RecordKind {
    fn cursor_kind(self) -> &'static str {
        match self {
            RecordKind::Contacts => "contacts",
            RecordKind::Contracts => "contracts",
            RecordKind::Tickets => "tickets",
            RecordKind::SurveyResponses => "survey_responses",
            RecordKind::Invoices => "invoices",
            RecordKind::Payments => "payments",
            RecordKind::Activities => "activities",
        }
    }
}

/// A page of one kind of record.
#[derive(Debug, Clone, PartialEq)]
pub enum Records {
    Contacts(Vec<Contact>),
    Contracts(Vec<Contract>),
    Tickets(Vec<Ticket>),
    SurveyResponses(Vec<SurveyResponse>),
    Invoices(Vec<Invoice>),
    Payments(Vec<Payment>),
    Activities(Vec<Activity>),
}

/// An activity to log on an account.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub subject: String,
    pub body: Option<String>,
    pub contact_id: Option<String>,
    /// When it happened; now if not given.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// Fields of a contact a person may change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactChanges {
    pub role: Option<ContactRole>,
    pub title: Option<Option<String>>,
}

fn new_activity_id() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 8];
    OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("act-{hex}")
}

impl App {
    /// One page of records of `kind`, of one account or of all, in id order.
    pub async fn list_records(
        &self,
        actor: &Actor,
        kind: RecordKind,
        account: Option<&str>,
        page: &PageRequest,
    ) -> Result<(Records, Option<String>), AppError> {
        authorize(actor, Action::Read)?;
        if let Some(id) = account {
            self.account(id).await?;
        }
        let limit = page.limit()?;
        let after = page
            .cursor(kind.cursor_kind(), 1)?
            .map(|mut parts| parts.remove(0))
            .unwrap_or_default();
        let store = self.store();
        let next = limit + 1;
        let key = |id: &str| Cursor::new(kind.cursor_kind(), &[id]);
        macro_rules! paged {
            ($method:ident, $variant:ident) => {{
                let rows = store.$method(account, &after, next).await?;
                let page = Page::from_overfetch(rows, limit, |r| key(&r.id));
                (Records::$variant(page.items), page.next_cursor)
            }};
        }
        Ok(match kind {
            RecordKind::Contacts => paged!(contact_page, Contacts),
            RecordKind::Contracts => paged!(contract_page, Contracts),
            RecordKind::Tickets => paged!(ticket_page, Tickets),
            RecordKind::SurveyResponses => paged!(survey_response_page, SurveyResponses),
            RecordKind::Invoices => paged!(invoice_page, Invoices),
            RecordKind::Payments => paged!(payment_page, Payments),
            RecordKind::Activities => paged!(activity_page, Activities),
        })
    }

    /// Logs a note, call, meeting or email on an account, authored by `actor`;
    /// audited, and the account's health refreshed.
    pub async fn log_activity(
        &self,
        actor: &Actor,
        account_id: &str,
        new: &NewActivity,
    ) -> Result<Activity, AppError> {
        let _writing = self.write_lock().await;
        let account = self.account(account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let subject = text_field("/subject", &new.subject)?;
        let body = match new.body.as_deref().map(str::trim) {
            Some(body) if body.chars().count() > MAX_BODY => {
                return Err(AppError::invalid(
                    "/body",
                    format!("must have at most {MAX_BODY} characters"),
                ))
            }
            Some("") | None => None,
            Some(body) => Some(body.to_string()),
        };
        let now = self.now();
        let occurred_at = new.occurred_at.unwrap_or(now);
        if occurred_at > now + FUTURE_SLACK {
            return Err(AppError::invalid("/occurred_at", "is in the future"));
        }
        if let Some(contact_id) = &new.contact_id {
            let contact = self.store().contact(contact_id).await?;
            if contact.is_none_or(|c| c.account_id != account.id) {
                return Err(AppError::invalid(
                    "/contact_id",
                    format!("no contact {contact_id:?} on account {:?}", account.id),
                ));
            }
        }
        let activity = Activity {
            id: new_activity_id(),
            account_id: account.id.clone(),
            contact_id: new.contact_id.clone(),
            kind: new.kind,
            author: actor.author().to_string(),
            occurred_at,
            subject,
            body,
        };
        let mut tx = self.store().begin().await?;
        tx.upsert_activities(std::slice::from_ref(&activity))
            .await?;
        let changes = crate::access::audit_changes(&[
            ("account_id", activity.account_id.clone().into()),
            ("kind", activity.kind.as_str().into()),
            ("subject", activity.subject.clone().into()),
            ("occurred_at", activity.occurred_at.to_rfc3339().into()),
        ]);
        tx.append_audit(now, &actor.name, "activity.create", &activity.id, &changes)
            .await?;
        tx.record_changes(&[&activity.account_id], "activity.create", now)
            .await?;
        tx.commit().await?;
        self.refresh_health_locked(&[account.id]).await?;
        Ok(activity)
    }

    /// Changes a contact's role or title; audited, and the account's health refreshed
    /// (champions and sponsors count in it).
    pub async fn update_contact(
        &self,
        actor: &Actor,
        id: &str,
        changes: &ContactChanges,
    ) -> Result<Contact, AppError> {
        let _writing = self.write_lock().await;
        let before = self
            .store()
            .contact(id)
            .await?
            .ok_or_else(|| AppError::not_found("contact", id))?;
        let account = self.account(&before.account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let mut after = before.clone();
        if let Some(role) = changes.role {
            after.role = role;
        }
        if let Some(title) = &changes.title {
            after.title = title
                .as_deref()
                .map(|t| text_field("/title", t))
                .transpose()?;
        }
        let mut changed = Vec::new();
        if before.role != after.role {
            changed.push((
                "role",
                serde_json::json!([before.role.as_str(), after.role.as_str()]),
            ));
        }
        if before.title != after.title {
            changed.push(("title", serde_json::json!([before.title, after.title])));
        }
        if changed.is_empty() {
            return Ok(after);
        }
        let mut tx = self.store().begin().await?;
        tx.upsert_contacts(std::slice::from_ref(&after)).await?;
        tx.append_audit(
            self.now(),
            &actor.name,
            "contact.update",
            id,
            &crate::access::audit_changes(&changed),
        )
        .await?;
        tx.record_changes(&[&account.id], "contact.update", self.now())
            .await?;
        tx.commit().await?;
        self.refresh_health_locked(&[account.id]).await?;
        Ok(after)
    }
}
