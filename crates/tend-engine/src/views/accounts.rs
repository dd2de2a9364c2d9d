//! Accounts: the filtered list, one account's whole picture, and edits by hand.

use chrono::NaiveDate;
use tend_core::health::{Explanation, HealthSnapshot};
use tend_core::{
    Account, Activity, Contact, Contract, LifecycleStage, Money, SurveyResponse, Ticket,
};
use tend_store::{AccountFilter, AccountListing, AccountOrder, After};

use super::page::{Cursor, Page, PageRequest};
use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};

/// Records of one account read at most for its picture.
const RECORDS_READ: u32 = 10_000;
/// How many of the latest survey responses and activities the picture shows.
const LATEST_SHOWN: usize = 10;
/// Longest free-text field value accepted by hand.
const MAX_TEXT: usize = 200;

/// Which accounts to list, in which order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountQuery {
    pub filter: AccountFilter,
    pub order: AccountOrder,
    pub page: PageRequest,
}

fn order_kind(order: AccountOrder) -> &'static str {
    match order {
        AccountOrder::Name => "accounts:name",
        AccountOrder::Id => "accounts:id",
        AccountOrder::Health => "accounts:health",
    }
}

/// One account's whole picture.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountView {
    pub account: Account,
    pub contacts: Vec<Contact>,
    pub contracts: Vec<Contract>,
    /// ARR in force on `as_of`, per currency, largest first.
    pub arr: Vec<Money>,
    pub as_of: NaiveDate,
    /// The latest snapshot on or before `as_of`, and what moved it in 30 days.
    pub health: Option<HealthSnapshot>,
    pub explanation: Option<Explanation>,
    pub open_tickets: Vec<Ticket>,
    /// Newest first.
    pub latest_survey_responses: Vec<SurveyResponse>,
    pub recent_activities: Vec<Activity>,
}

/// Fields of an account a person may change; `None` leaves a field as it is,
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountChanges {
    pub name: Option<String>,
    pub segment: Option<Option<String>>,
    pub tier: Option<Option<String>>,
    pub lifecycle_stage: Option<Option<LifecycleStage>>,
    pub csm_owner: Option<Option<String>>,
    pub am_owner: Option<Option<String>>,
}

/// A change to an optional text field: absent keeps it, `Some(None)` clears it.
type TextChange = Option<Option<String>>;

/// A free-text value given by hand: trimmed, not empty, not too long.
pub(crate) fn text_field(field: &str, value: &str) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(
            field,
            "must not be empty (send null to clear it)",
        ));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            field,
            format!("must have at most {MAX_TEXT} characters"),
        ));
    }
    Ok(value.to_string())
}

fn optional_text(field: &str, value: &Option<String>) -> Result<Option<String>, AppError> {
    value.as_deref().map(|v| text_field(field, v)).transpose()
}

impl App {
    /// The account `id`, or a not-found error.
    pub async fn account(&self, id: &str) -> Result<Account, AppError> {
        self.store()
            .account(id)
            .await?
            .ok_or_else(|| AppError::not_found("account", id))
    }

    /// One page of accounts, each with its health on the latest scored day.
    pub async fn list_accounts(
        &self,
        actor: &Actor,
        query: &AccountQuery,
    ) -> Result<Page<AccountListing>, AppError> {
        authorize(actor, Action::Read)?;
        let limit = query.page.limit()?;
        let kind = order_kind(query.order);
        let after = match query.page.cursor(kind, 2)? {
            None => None,
            Some(parts) => Some(match query.order {
                AccountOrder::Health => After::Score(
                    parts[0]
                        .parse()
                        .map_err(|_| AppError::invalid("cursor", "is not a cursor of this list"))?,
                    parts[1].clone(),
                ),
                _ => After::Text(parts[0].clone(), parts[1].clone()),
            }),
        };
        let day = self.store().latest_health_day().await?;
        let rows = self
            .store()
            .account_page(&query.filter, query.order, after.as_ref(), limit + 1, day)
            .await?;
        Ok(Page::from_overfetch(rows, limit, |row| {
            let id = row.account.id.as_str();
            match query.order {
                AccountOrder::Name => Cursor::new(kind, &[&row.account.name, id]),
                AccountOrder::Id => Cursor::new(kind, &[id, id]),
                AccountOrder::Health => {
                    Cursor::new(kind, &[&row.health_score.unwrap_or(1.0e9).to_string(), id])
                }
            }
        }))
    }

    /// One account's whole picture on `as_of` (by default the last day of the data).
    pub async fn account_view(
        &self,
        actor: &Actor,
        id: &str,
        as_of: Option<NaiveDate>,
    ) -> Result<AccountView, AppError> {
        authorize(actor, Action::Read)?;
        let account = self.account(id).await?;
        let store = self.store();
        let as_of = match as_of {
            Some(day) => day,
            None => crate::default_day(store, self.today()).await?,
        };
        let some = Some(id);
        // Independent reads, side by side on the pool's connections.
        let (contacts, contracts, health, tickets, mut surveys, mut activities) = tokio::try_join!(
            store.contact_page(some, "", RECORDS_READ),
            store.contract_page(some, "", RECORDS_READ),
            store.latest_health_snapshot(id, as_of),
            store.ticket_page(some, "", RECORDS_READ),
            store.survey_response_page(some, "", RECORDS_READ),
            store.activity_page(some, "", RECORDS_READ),
        )?;
        let arr = tend_core::summary::arr_by_currency(&contracts, as_of);
        let explanation = match &health {
            Some(snapshot) => Some(self.explanation_of(snapshot).await?),
            None => None,
        };
        let open_tickets = tickets.into_iter().filter(|t| t.status.is_open()).collect();
        surveys.sort_by(|a, b| b.responded_at.cmp(&a.responded_at).then(a.id.cmp(&b.id)));
        surveys.truncate(LATEST_SHOWN);
        activities.sort_by(|a, b| b.occurred_at.cmp(&a.occurred_at).then(a.id.cmp(&b.id)));
        activities.truncate(LATEST_SHOWN);
        Ok(AccountView {
            account,
            contacts,
            contracts,
            arr,
            as_of,
            health,
            explanation,
            open_tickets,
            latest_survey_responses: surveys,
            recent_activities: activities,
        })
    }

    /// Changes fields of an account by hand, through the same upsert as imports;
    /// audited with each field's old and new value, and its health refreshed.
    pub async fn update_account(
        &self,
        actor: &Actor,
        id: &str,
        changes: &AccountChanges,
    ) -> Result<Account, AppError> {
        let _writing = self.write_lock().await;
        let before = self.account(id).await?;
        authorize(actor, Action::WriteAccount(&before))?;
        let mut after = before.clone();
        if let Some(name) = &changes.name {
            after.name = text_field("/name", name)?;
        }
        let fields: [(&str, &TextChange, &mut Option<String>); 4] = [
            ("/segment", &changes.segment, &mut after.segment),
            ("/tier", &changes.tier, &mut after.tier),
            ("/csm_owner", &changes.csm_owner, &mut after.csm_owner),
            ("/am_owner", &changes.am_owner, &mut after.am_owner),
        ];
        for (field, change, value) in fields {
            if let Some(new) = change {
                *value = optional_text(field, new)?;
            }
        }
        if let Some(stage) = changes.lifecycle_stage {
            after.lifecycle_stage = stage;
        }
        let changed = account_changes(&before, &after);
        if changed.is_empty() {
            return Ok(after);
        }
        let mut tx = self.store().begin().await?;
        tx.upsert_accounts(std::slice::from_ref(&after)).await?;
        tx.append_audit(
            self.now(),
            &actor.name,
            "account.update",
            id,
            &crate::access::audit_changes(&changed),
        )
        .await?;
        tx.record_changes(&[&after.id], "account.update", self.now())
            .await?;
        tx.commit().await?;
        self.refresh_health_locked(&[after.id.clone()]).await?;
        // An account that moved to another segment or scorecard leaves its old one.
        let place = |a: &Account| {
            (
                self.scorecards().for_account(a).name.clone(),
                a.segment.clone().unwrap_or_default(),
            )
        };
        let (old, new) = (place(&before), place(&after));
        if old != new {
            if let Some(day) = self.store().latest_health_day().await? {
                // Both places are rebuilt from the snapshots (the new one may have
                // lost an equal value of another account), then the account is
                // ranked again in its new place.
                for (card, segment) in [&old, &new] {
                    crate::health::rebuild_distribution(
                        self.store(),
                        self.scorecards(),
                        card,
                        segment,
                        day,
                    )
                    .await?;
                }
                self.refresh_health_locked(&[after.id.clone()]).await?;
            }
        }
        Ok(after)
    }

    /// Rescores `ids` on the latest scored day after their data changed, if health
    /// is kept at all. The caller holds the write lock.
    pub(crate) async fn refresh_health_locked(&self, ids: &[String]) -> Result<(), AppError> {
        if let Some(day) = self.store().latest_health_day().await? {
            crate::health::refresh_accounts(self.store(), self.scorecards(), ids, day).await?;
            self.health_pages().invalidate();
        }
        Ok(())
    }

    /// The incremental health path for one account: rescored on the latest scored
    /// day, against its segment's distribution.
    pub async fn refresh_account_health(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Option<HealthSnapshot>, AppError> {
        let _writing = self.write_lock().await;
        let account = self.account(id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let Some(day) = self.store().latest_health_day().await? else {
            return Err(AppError::Conflict("no health snapshots yet".into()));
        };
        let mut snapshots = crate::health::refresh_accounts(
            self.store(),
            self.scorecards(),
            &[id.to_string()],
            day,
        )
        .await?;
        self.health_pages().invalidate();
        let snapshot = snapshots.pop();
        let score = snapshot.as_ref().and_then(|s| s.score.overall);
        self.audit(actor, "health.refresh", id, &[("score", score.into())])
            .await?;
        Ok(snapshot)
    }

    /// Appends an audit entry for `actor` on its own.
    pub(crate) async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        fields: &[(&str, serde_json::Value)],
    ) -> Result<(), AppError> {
        crate::access::audit_event(
            self.store(),
            &actor.name,
            action,
            target,
            fields,
            self.now(),
        )
        .await?;
        Ok(())
    }
}

/// The fields that differ, each as `[old, new]`.
fn account_changes(before: &Account, after: &Account) -> Vec<(&'static str, serde_json::Value)> {
    let pairs: [(&str, Option<&str>, Option<&str>); 6] = [
        ("name", Some(&before.name), Some(&after.name)),
        (
            "segment",
            before.segment.as_deref(),
            after.segment.as_deref(),
        ),
        ("tier", before.tier.as_deref(), after.tier.as_deref()),
        (
            "lifecycle_stage",
            before.lifecycle_stage.map(|s| s.as_str()),
            after.lifecycle_stage.map(|s| s.as_str()),
        ),
        (
            "csm_owner",
            before.csm_owner.as_deref(),
            after.csm_owner.as_deref(),
        ),
        (
            "am_owner",
            before.am_owner.as_deref(),
            after.am_owner.as_deref(),
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(field, old, new)| (field, serde_json::json!([old, new])))
        .collect()
}
