//! Importing Segment-spec calls: parsed on a thread of their own in batches, tied to
//! accounts, and written while the next batch is parsed.
//!
//! A call names its account with `groupId` (or `context.groupId`). Most product
//! calls do not: their user is tied to an account by a `group` call (userId +
//! groupId) or by an `identify` call whose `traits.email` is a contact's. Calls of a
//! user not tied yet are kept and attached when a later group call links the user;
//! calls with only an anonymousId and no group are skipped and counted.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;

use chrono::NaiveDate;
use tend_core::{EventType, SegmentCall, UsageEvent};
use tend_ingest::segment::{FieldNames, SegmentReader};
use tend_ingest::{entities, Entity, Format, RecordReader, RowError};
use tend_store::{DataSource, LinkedBy, Transaction, UserLink};

use super::session::Session;
use super::{missing_account, ImportError, ImportReport, ImportStage, Rejects};

/// Calls handled per batch: large enough to amortise a statement, small enough to
/// keep memory flat.
const EVENT_BATCH: usize = 10_000;

/// First and last day with raw events, per account.
pub(super) type UsageDays = HashMap<String, (NaiveDate, NaiveDate)>;

pub(super) fn touch(days: &mut UsageDays, account: &str, day: NaiveDate) {
    match days.get_mut(account) {
        Some((first, last)) => {
            *first = (*first).min(day);
            *last = (*last).max(day);
        }
        None => {
            days.insert(account.to_string(), (day, day));
        }
    }
}

/// Who is tied to which account: stored links, contacts' emails, and the links this
/// import learns.
pub(super) struct Attribution {
    links: HashMap<String, String>,
    /// Lower-case contact email → account.
    emails: HashMap<String, String>,
    new_links: HashMap<String, UserLink>,
}

/// Where one call goes.
pub(super) enum Attributed {
    Event(UsageEvent),
    /// A user not tied to an account yet.
    Pending(SegmentCall),
    /// Only an anonymousId, no group, no link: no account can be told.
    Anonymous,
}

impl Attribution {
    pub(super) fn new(links: HashMap<String, String>, emails: HashMap<String, String>) -> Self {
        Attribution {
            links,
            emails,
            new_links: HashMap::new(),
        }
    }

    pub(super) fn add_email(&mut self, email: String, account: String) {
        self.emails.insert(email, account);
    }

    /// The account a user is tied to, if any.
    pub(super) fn account_of(&self, user: &str) -> Option<&String> {
        self.links.get(user)
    }

    pub(super) fn into_new_links(self) -> Vec<UserLink> {
        let mut links: Vec<UserLink> = self.new_links.into_values().collect();
        links.sort_by(|a, b| a.user_key.cmp(&b.user_key));
        links
    }

    pub(super) fn link(&mut self, call: &SegmentCall, account: &str, by: LinkedBy) {
        let Some(user) = call.user_key() else { return };
        if self.links.get(user).is_some_and(|a| a == account) && by == LinkedBy::Email {
            return;
        }
        self.links.insert(user.to_string(), account.to_string());
        self.new_links.insert(
            user.to_string(),
            UserLink {
                user_key: user.to_string(),
                account_id: account.to_string(),
                linked_at: call.timestamp,
                linked_by: by,
            },
        );
    }

    /// Ties a call to its account: its group (already checked to be stored), else
    /// its user's link, else an identify call's email. Group calls, and identify
    /// calls made within a group, tie their user to the group.
    pub(super) fn attribute(&mut self, mut call: SegmentCall) -> Attributed {
        if let Some(group) = call.group_id.take() {
            if matches!(call.kind, EventType::Group | EventType::Identify) {
                self.link(&call, &group, LinkedBy::Group);
            }
            return Attributed::Event(call.into_event(group));
        }
        let user = call.user_key().unwrap_or_default();
        if let Some(account) = self.links.get(user) {
            let account = account.clone();
            return Attributed::Event(call.into_event(account));
        }
        let by_email = call
            .email
            .as_ref()
            .and_then(|email| self.emails.get(&email.to_lowercase()))
            .cloned();
        if let Some(account) = by_email {
            self.link(&call, &account, LinkedBy::Email);
            return Attributed::Event(call.into_event(account));
        }
        if call.user_id.is_some() {
            Attributed::Pending(call)
        } else {
            Attributed::Anonymous
        }
    }
}

/// Sorts events by account, day and messageId (stably, so a retry stays behind its
/// original), which makes neighbouring inserts land on the same pages.
pub(super) fn sort_for_insert(events: &mut [UsageEvent]) {
    events.sort_by(|a, b| {
        (&a.account_id, a.timestamp.date_naive(), &a.message_id).cmp(&(
            &b.account_id,
            b.timestamp.date_naive(),
            &b.message_id,
        ))
    });
}

/// One parsed call line: the call, or why it was refused and the line's text.
type ParsedCall = Result<SegmentCall, (RowError, String)>;

/// A batch of calls tied to accounts (sorted by storage key), kept for later, or
/// refused.
#[derive(Default)]
struct CallBatch {
    events: Vec<UsageEvent>,
    pending: Vec<SegmentCall>,
    anonymous: u64,
    rejects: Vec<(RowError, String)>,
}

impl CallBatch {
    fn len(&self) -> usize {
        self.events.len() + self.pending.len() + self.rejects.len()
    }
}

/// What the parser thread hands back: the account ids and attribution it borrowed,
/// and the days each account got.
struct ParserResult {
    accounts: HashSet<String>,
    attribution: Attribution,
    days: UsageDays,
}

/// Reads, validates and attributes calls on a thread of its own, in batches, so that
/// parsing the next batch overlaps writing the last one. Each batch's events are
/// sorted for insertion (`sort_for_insert`).
fn parse_in_background(
    format: Format,
    reader: impl BufRead + Send + 'static,
    accounts: HashSet<String>,
    mut attribution: Attribution,
) -> (
    tokio::sync::mpsc::Receiver<CallBatch>,
    std::thread::JoinHandle<ParserResult>,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel::<CallBatch>(4);
    let names = match format {
        Format::JsonLines => FieldNames::Json,
        Format::Csv => FieldNames::Csv,
    };
    let parser = std::thread::spawn(move || {
        let known_group = |call: SegmentCall, line: u64, column: Option<usize>| match &call.group_id
        {
            Some(group) if !accounts.contains(group) => Err(RowError {
                line,
                column,
                field: Some(names.name("group_id").to_string()),
                reason: missing_account(group),
                fatal: false,
            }),
            _ => Ok(call),
        };
        let calls: Box<dyn Iterator<Item = ParsedCall>> = match format {
            Format::JsonLines => {
                let mut calls = SegmentReader::new(reader);
                Box::new(std::iter::from_fn(move || {
                    let item = calls.next()?;
                    let checked = item.and_then(|call| known_group(call, calls.line(), None));
                    Some(checked.map_err(|error| (error, calls.current_line().to_string())))
                }))
            }
            Format::Csv => Box::new(
                RecordReader::new(format, reader, Entity::Events.fields()).map(move |item| {
                    let record = item.map_err(|error| (error, String::new()))?;
                    let column = record.error("group_id", "").column;
                    entities::event(&record)
                        .and_then(|call| known_group(call, record.line, column))
                        .map_err(|error| (error, record.raw))
                }),
            ),
        };
        let mut days = UsageDays::new();
        let mut batch = CallBatch::default();
        for call in calls {
            let mut fatal = false;
            match call.map(|call| attribution.attribute(call)) {
                Ok(Attributed::Event(event)) => {
                    touch(&mut days, &event.account_id, event.timestamp.date_naive());
                    batch.events.push(event);
                }
                Ok(Attributed::Pending(call)) => batch.pending.push(call),
                Ok(Attributed::Anonymous) => batch.anonymous += 1,
                Err((error, raw)) => {
                    fatal = error.fatal;
                    batch.rejects.push((error, raw));
                }
            }
            if batch.len() >= EVENT_BATCH || fatal {
                let mut full = std::mem::take(&mut batch);
                sort_for_insert(&mut full.events);
                // A closed channel means the importer has stopped listening.
                if sender.blocking_send(full).is_err() || fatal {
                    break;
                }
            }
        }
        let _ = sender.blocking_send(batch);
        ParserResult {
            accounts,
            attribution,
            days,
        }
    });
    (receiver, parser)
}

impl Session {
    /// Streams a file of calls into the transaction in batches; after a refused line
    /// the rest of the file is only validated, and the caller rolls back.
    pub(super) async fn import_events(
        &mut self,
        format: Format,
        reader: impl BufRead + Send + 'static,
        rejects: &mut Rejects,
        progress: &(dyn Fn(ImportStage) + Send + Sync),
    ) -> Result<ImportReport, ImportError> {
        let attribution = self.attribution().await?;
        let accounts = std::mem::take(&mut self.accounts);
        let mut report = ImportReport::default();
        let mut valid = 0u64;
        let (mut batches, parser) = parse_in_background(format, reader, accounts, attribution);
        'batches: while let Some(batch) = batches.recv().await {
            for (error, raw) in batch.rejects {
                let fatal = error.fatal;
                rejects.reject(error, (!raw.is_empty()).then_some(raw.as_str()))?;
                if fatal || rejects.more {
                    break 'batches;
                }
            }
            valid += (batch.events.len() + batch.pending.len()) as u64;
            report.anonymous_skipped += batch.anonymous;
            if !rejects.failed() {
                write_batch(&mut self.tx, &batch.events, &batch.pending, &mut report).await?;
            }
            progress(ImportStage::Reading);
        }
        drop(batches);
        let result = parser
            .join()
            .expect("the event parser thread does not panic");
        self.accounts = result.accounts;
        self.attribution = Some(result.attribution);
        if rejects.failed() {
            return Err(rejects.take_error());
        }
        report.duplicates = valid - report.written - report.pending;
        if let Some(last) = result.days.values().map(|&(_, last)| last).max() {
            self.tx.extend_data_extent(DataSource::Usage, last).await?;
        }
        for (account, (first, last)) in result.days {
            touch(&mut self.usage_days, &account, first);
            touch(&mut self.usage_days, &account, last);
        }
        Ok(report)
    }
}

async fn write_batch(
    tx: &mut Transaction,
    events: &[UsageEvent],
    pending: &[SegmentCall],
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if !events.is_empty() {
        report.written += tx.insert_usage_events(events).await?;
    }
    if !pending.is_empty() {
        report.pending += tx.insert_pending_calls(pending).await?;
    }
    Ok(())
}
