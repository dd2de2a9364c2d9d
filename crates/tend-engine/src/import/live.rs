//! Segment calls sent live (over HTTP), committed a batch at a time: tied to accounts
//! through the same attribution as imported calls, with only the links, contacts and
//! accounts the batch names read from the store. Group calls' traits update their
//! account, identify calls' their user's contact (found by email, else added).

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use tend_core::{EventType, SegmentCall, UsageEvent};
use tend_ingest::segment::{split_traits, AliasCall, LiveCall};
use tend_store::{AccountTraits, ContactTraits, LinkedBy, Store, StoreError};

use super::events::{sort_for_insert, Attributed, Attribution};
use super::Session;

/// What committing a batch of calls did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveReport {
    /// Calls that became usage events now.
    pub stored: u64,
    /// Calls whose messageId was stored already (a retry or a repeat).
    pub duplicates: u64,
    /// Calls kept until their user is tied to an account.
    pub pending: u64,
    /// Kept calls that this batch tied to an account, now usage events.
    pub attached: u64,
    /// Calls with only an anonymousId and no account to tell: counted, not stored.
    pub anonymous_skipped: u64,
    /// Accounts whose data changed.
    pub accounts: BTreeSet<String>,
}

/// Why live calls changed an account, in the queue of account changes.
pub const CHANGE_REASON: &str = "segment";
/// Why group or identify calls' traits changed an account (or its contacts).
pub const TRAITS_CHANGE_REASON: &str = "segment.traits";

/// Writes `calls` in one transaction and commits it, with the accounts they changed
/// recorded in the queue of account changes. A call naming an account tend
/// does not have is tied through its user instead (or kept), so nothing is lost to
/// an account the CRM has not sent yet.
pub async fn commit_calls(
    store: &Store,
    now: DateTime<Utc>,
    calls: Vec<LiveCall>,
) -> Result<LiveReport, StoreError> {
    let (today, at) = (now.date_naive(), now);
    let mut session = Session::begin_live(store, today).await?;
    let (mut attribution, known) = batch_attribution(&mut session, &calls).await?;
    let mut events = Vec::new();
    let mut pending = Vec::new();
    let mut report = LiveReport::default();
    for call in calls {
        match call {
            LiveCall::Alias(alias) => link_alias(&mut attribution, &alias),
            LiveCall::Call(mut call) => {
                if call.group_id.as_ref().is_some_and(|g| !known.contains(g)) {
                    call.group_id = None;
                }
                match attribution.attribute(call) {
                    Attributed::Event(event) => events.push(event),
                    Attributed::Pending(call) => pending.push(call),
                    Attributed::Anonymous => report.anonymous_skipped += 1,
                }
            }
        }
    }
    let traited = apply_traits(&mut session, &events).await?;
    let traited: Vec<&str> = traited.iter().map(String::as_str).collect();
    session
        .tx
        .record_changes(&traited, TRAITS_CHANGE_REASON, at)
        .await?;
    sort_for_insert(&mut events);
    report.stored = session.write_events(&events).await?;
    let pending_new = session.tx.insert_pending_calls(&pending).await?;
    report.pending = pending_new;
    report.duplicates =
        (events.len() as u64 - report.stored) + (pending.len() as u64 - pending_new);
    session.attribution = Some(attribution);
    let finished = session.finish(CHANGE_REASON, at).await?;
    report.attached = finished.attached;
    report.accounts = finished.accounts;
    report
        .accounts
        .extend(traited.iter().map(|a| a.to_string()));
    Ok(report)
}

/// Applies, in the order sent, what group calls say of their accounts and identify
/// calls with an email of their users' contacts; returns the accounts changed.
async fn apply_traits(
    session: &mut Session,
    events: &[UsageEvent],
) -> Result<BTreeSet<String>, StoreError> {
    let mut changed = BTreeSet::new();
    for event in events {
        let traits = match event.kind {
            EventType::Group | EventType::Identify => split_traits(&event.properties),
            _ => continue,
        };
        if event.kind == EventType::Group {
            let account = AccountTraits {
                name: traits.name.as_deref(),
                industry: traits.industry.as_deref(),
                other: &traits.other,
            };
            if session
                .tx
                .apply_account_traits(&event.account_id, &account)
                .await?
            {
                changed.insert(event.account_id.clone());
            }
        } else if let (Some(email), Some(user)) = (&traits.email, &event.user_id) {
            let contact = ContactTraits {
                account_id: &event.account_id,
                user_id: user,
                email,
                name: traits.name.as_deref(),
                title: traits.title.as_deref(),
                other: &traits.other,
                day: event.timestamp.date_naive(),
            };
            session.tx.apply_contact_traits(&contact).await?;
            changed.insert(event.account_id.clone());
        }
    }
    Ok(changed)
}

/// The links, contacts' emails and accounts the calls name, read in the session's
/// transaction, and which of the groups named are stored accounts.
async fn batch_attribution(
    session: &mut Session,
    calls: &[LiveCall],
) -> Result<(Attribution, HashSet<String>), StoreError> {
    let mut users: HashSet<&str> = HashSet::new();
    let mut groups: HashSet<&str> = HashSet::new();
    let mut emails: HashSet<String> = HashSet::new();
    for call in calls {
        match call {
            LiveCall::Call(call) => {
                users.extend(call.user_key());
                groups.extend(call.group_id.as_deref());
                emails.extend(call.email.as_ref().map(|e| e.to_lowercase()));
            }
            LiveCall::Alias(alias) => {
                users.insert(&alias.previous_id);
                users.insert(&alias.user_id);
            }
        }
    }
    let users: Vec<&str> = users.into_iter().collect();
    let groups: Vec<&str> = groups.into_iter().collect();
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    let links = session.tx.links_of(&users).await?;
    let by_email = session.tx.accounts_by_email(&emails).await?;
    let known = session
        .tx
        .known_accounts(&groups)
        .await?
        .into_iter()
        .collect();
    Ok((Attribution::new(links, by_email), known))
}

/// Ties the unlinked one of an alias's two ids to the other's account.
/// `previousId` and `userId` are the same person: whichever of them is tied to an
/// account ties the other to it too.
fn link_alias(attribution: &mut Attribution, alias: &AliasCall) {
    let as_call = |user: &str| SegmentCall {
        group_id: None,
        email: None,
        message_id: String::new(),
        kind: tend_core::EventType::Identify,
        user_id: Some(user.to_string()),
        anonymous_id: None,
        event: String::new(),
        properties: "{}".into(),
        timestamp: alias.timestamp,
    };
    let previous = attribution.account_of(&alias.previous_id).cloned();
    let current = attribution.account_of(&alias.user_id).cloned();
    match (previous, current) {
        (Some(account), None) => {
            attribution.link(&as_call(&alias.user_id), &account, LinkedBy::Alias)
        }
        (None, Some(account)) => {
            attribution.link(&as_call(&alias.previous_id), &account, LinkedBy::Alias)
        }
        _ => {}
    }
}
