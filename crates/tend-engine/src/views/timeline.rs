//! One account's timeline: activities, tickets, survey responses, payments, tasks
//! (made, and closed or snoozed) and health band changes merged newest first.

use chrono::{DateTime, NaiveTime, Utc};

use super::page::{Cursor, Page, PageRequest};
use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};

/// Records of each kind read for a timeline.
const RECORDS_READ: u32 = 10_000;

/// What an entry of the timeline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    Activity,
    Ticket,
    SurveyResponse,
    Payment,
    Task,
    HealthBand,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Activity => "activity",
            EntryKind::Ticket => "ticket",
            EntryKind::SurveyResponse => "survey_response",
            EntryKind::Payment => "payment",
            EntryKind::Task => "task",
            EntryKind::HealthBand => "health_band",
        }
    }

    fn parse(text: &str) -> Option<EntryKind> {
        [
            EntryKind::Activity,
            EntryKind::Ticket,
            EntryKind::SurveyResponse,
            EntryKind::Payment,
            EntryKind::Task,
            EntryKind::HealthBand,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// One entry: when, what, and a line saying it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    /// The record's id (the day, for a band change).
    pub id: String,
    pub title: String,
    pub detail: Option<String>,
}

impl TimelineEntry {
    /// Newest first; ties by kind and id, so the order is total.
    fn key(&self) -> (std::cmp::Reverse<DateTime<Utc>>, EntryKind, &str) {
        (std::cmp::Reverse(self.at), self.kind, &self.id)
    }
}

impl App {
    /// A page of the timeline of `account_id`.
    pub async fn timeline(
        &self,
        actor: &Actor,
        account_id: &str,
        page: &PageRequest,
    ) -> Result<Page<TimelineEntry>, AppError> {
        authorize(actor, Action::Read)?;
        let account = self.account(account_id).await?;
        let limit = page.limit()?;
        let after = page.cursor("timeline", 3)?;
        let store = self.store();
        let some = Some(account_id);
        let mut entries = Vec::new();
        for a in store.activity_page(some, "", RECORDS_READ).await? {
            entries.push(TimelineEntry {
                at: a.occurred_at,
                kind: EntryKind::Activity,
                title: format!("{} by {}: {}", a.kind, a.author, a.subject),
                detail: a.body,
                id: a.id,
            });
        }
        for t in store.ticket_page(some, "", RECORDS_READ).await? {
            entries.push(TimelineEntry {
                at: t.created_at,
                kind: EntryKind::Ticket,
                title: format!(
                    "Ticket ({} priority, {}): {}",
                    t.priority, t.status, t.subject
                ),
                detail: None,
                id: t.id,
            });
        }
        for s in store.survey_response_page(some, "", RECORDS_READ).await? {
            entries.push(TimelineEntry {
                at: s.responded_at,
                kind: EntryKind::SurveyResponse,
                title: format!("{} response: {}", s.kind.as_str().to_uppercase(), s.score),
                detail: s.comment,
                id: s.id,
            });
        }
        for p in store.payment_page(some, "", RECORDS_READ).await? {
            entries.push(TimelineEntry {
                at: p.attempted_at,
                kind: EntryKind::Payment,
                title: format!("Payment {} of {}", p.status, p.amount),
                detail: p.failure_reason,
                id: p.id,
            });
        }
        let filter = tend_store::TaskFilter {
            account_id: Some(account_id.to_string()),
            ..tend_store::TaskFilter::default()
        };
        for t in store.tasks(&filter, None, i64::from(RECORDS_READ)).await? {
            entries.push(TimelineEntry {
                at: t.created_at,
                kind: EntryKind::Task,
                title: format!(
                    "Task for {}: {}",
                    t.owner.as_deref().unwrap_or("nobody"),
                    t.title
                ),
                detail: t.playbook.as_ref().map(|p| format!("from playbook {p}")),
                id: format!("{}:created", t.id),
            });
            // The latest change of status, when it closed or waits.
            let (at, words) = match (t.closed_at, t.status.as_str()) {
                (Some(at), status) => (
                    at,
                    format!("Task {}: {}", status.replace('_', " "), t.title),
                ),
                (None, "snoozed") => (
                    t.updated_at,
                    format!(
                        "Task snoozed until {}: {}",
                        t.snoozed_until.map_or_else(String::new, |d| d.to_string()),
                        t.title
                    ),
                ),
                _ => continue,
            };
            entries.push(TimelineEntry {
                at,
                kind: EntryKind::Task,
                title: words,
                detail: t.status_reason.clone(),
                id: format!("{}:{}", t.id, t.status),
            });
        }
        let history = store
            .health_history(account_id, account.created_on, crate::views::LAST_DAY)
            .await?;
        for pair in history.windows(2) {
            let ((_, _, before), (day, score, band)) = (&pair[0], &pair[1]);
            if before != band {
                entries.push(TimelineEntry {
                    at: day.and_time(NaiveTime::MIN).and_utc(),
                    kind: EntryKind::HealthBand,
                    id: day.to_string(),
                    title: format!("Health moved from {before} to {band}"),
                    detail: score.map(|s| format!("score {s:.1}")),
                });
            }
        }
        entries.sort_by(|a, b| a.key().cmp(&b.key()));
        if let Some(parts) = after {
            let at = DateTime::parse_from_rfc3339(&parts[0])
                .map_err(|_| AppError::invalid("cursor", "is not a cursor of this list"))?
                .with_timezone(&Utc);
            let kind = EntryKind::parse(&parts[1])
                .ok_or_else(|| AppError::invalid("cursor", "is not a cursor of this list"))?;
            let last = (std::cmp::Reverse(at), kind, parts[2].as_str());
            let position = entries.partition_point(|e| e.key() <= last);
            entries.drain(..position);
        }
        entries.truncate(limit as usize + 1);
        Ok(Page::from_overfetch(entries, limit, |e| {
            Cursor::new("timeline", &[&e.at.to_rfc3339(), e.kind.as_str(), &e.id])
        }))
    }
}
