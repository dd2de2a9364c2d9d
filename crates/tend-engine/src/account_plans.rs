//! The account manager's plan of an account and the people around it: the account
//! plan (objectives, growth strategy, target ARR, risks, next review, owner; every
//! save a version), the stakeholder map (each contact's influence, sentiment,
//! relationship strength and whom they report to), the executives' relationships
//! (last touch and its trend, from activities) and the account team inside the
//! company. Those who may write the account change it; every change is audited.

use chrono::{DateTime, NaiveDate, Utc};
use tend_core::access::parse_handle;
use tend_core::relationships::{executive_relationships, ExecutiveLine};
use tend_core::{Contact, Currency, Influence, Money, Sentiment, TeamRole};
use tend_store::{AccountPlanRecord, StakeholderRecord, TeamMemberRecord};

use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};
use crate::proposals::optional_text;
use crate::views::renewals::owner_of;

/// At most this many objectives or risks in a plan.
const MAX_ITEMS: usize = 20;
/// Contacts and activities of one account read at once (one page).
const RECORDS: u32 = 100_000;

#[derive(Debug, Clone, PartialEq)]
pub struct AccountPlan {
    pub version: i64,
    pub objectives: Vec<String>,
    pub growth_strategy: Option<String>,
    pub target_arr: Option<Money>,
    pub risks: Vec<String>,
    pub next_review_on: Option<NaiveDate>,
    pub owner: Option<String>,
    pub saved_by: String,
    pub saved_at: DateTime<Utc>,
}

/// What a save writes: the whole plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewAccountPlan {
    pub objectives: Vec<String>,
    pub growth_strategy: Option<String>,
    pub target_arr: Option<Money>,
    pub risks: Vec<String>,
    pub next_review_on: Option<NaiveDate>,
    /// By default the account manager, else the CSM.
    pub owner: Option<String>,
}

/// A contact on the stakeholder map: its record and how it stands (unset until
/// someone says).
#[derive(Debug, Clone, PartialEq)]
pub struct Stakeholder {
    pub contact: Contact,
    pub standing: Option<Standing>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub influence: Influence,
    pub sentiment: Sentiment,
    /// 1 (barely known) to 5 (trusted).
    pub strength: u8,
    pub reports_to: Option<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewStanding {
    pub influence: Influence,
    pub sentiment: Sentiment,
    pub strength: u8,
    pub reports_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamMember {
    pub handle: String,
    pub role: TeamRole,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

/// Everything on the account manager's desk for one account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountDesk {
    pub account_id: String,
    pub day: NaiveDate,
    pub plan: Option<AccountPlan>,
    /// Earlier versions, newest first.
    pub history: Vec<AccountPlan>,
    /// Contacts still there, in id order.
    pub stakeholders: Vec<Stakeholder>,
    pub executives: Vec<ExecutiveLine>,
    /// The latest touch of any executive.
    pub last_executive_touch: Option<NaiveDate>,
    pub team: Vec<TeamMember>,
}

fn plan_from(r: AccountPlanRecord) -> Result<AccountPlan, AppError> {
    let broken = |what: &str| AppError::Internal(format!("account plan {}: bad {what}", r.id));
    let list = |text: &str, what: &str| -> Result<Vec<String>, AppError> {
        serde_json::from_str(text).map_err(|_| broken(what))
    };
    let target_arr = match (r.target_arr_minor, r.currency.as_deref()) {
        (Some(minor), Some(code)) => Some(Money::new(
            minor,
            Currency::parse(code).map_err(|_| broken("currency"))?,
        )),
        _ => None,
    };
    Ok(AccountPlan {
        version: r.id,
        objectives: list(&r.objectives, "objectives")?,
        growth_strategy: r.growth_strategy,
        target_arr,
        risks: list(&r.risks, "risks")?,
        next_review_on: r.next_review_on,
        owner: r.owner,
        saved_by: r.saved_by,
        saved_at: r.saved_at,
    })
}

fn standing_from(r: StakeholderRecord) -> Result<Standing, AppError> {
    let broken =
        |what: &str| AppError::Internal(format!("stakeholder {}: bad {what}", r.contact_id));
    Ok(Standing {
        influence: Influence::parse(&r.influence).map_err(|_| broken("influence"))?,
        sentiment: Sentiment::parse(&r.sentiment).map_err(|_| broken("sentiment"))?,
        strength: u8::try_from(r.strength).map_err(|_| broken("strength"))?,
        reports_to: r.reports_to,
        updated_by: r.updated_by,
        updated_at: r.updated_at,
    })
}

/// Each item trimmed and checked; empty items are refused rather than dropped.
fn items(field: &str, list: &[String]) -> Result<Vec<String>, AppError> {
    if list.len() > MAX_ITEMS {
        return Err(AppError::invalid(
            field,
            format!("must have at most {MAX_ITEMS} items"),
        ));
    }
    list.iter()
        .enumerate()
        .map(|(i, text)| {
            optional_text(&format!("{field}/{i}"), Some(text))?
                .ok_or_else(|| AppError::invalid(format!("{field}/{i}"), "must not be empty"))
        })
        .collect()
}

fn handle(field: &str, text: &str) -> Result<String, AppError> {
    parse_handle(text).map_err(|e| AppError::invalid(field, e.0))
}

/// The contact `id` when it belongs to `account_id`.
async fn contact_of(
    store: &tend_store::Store,
    account_id: &str,
    id: &str,
) -> Result<Option<Contact>, AppError> {
    Ok(store
        .contact(id)
        .await?
        .filter(|c| c.account_id == account_id))
}

impl App {
    /// The plan, its history, the stakeholder map, the executives and the team.
    pub async fn account_desk(
        &self,
        actor: &Actor,
        account_id: &str,
    ) -> Result<AccountDesk, AppError> {
        authorize(actor, Action::Read)?;
        let account = self.account(account_id).await?;
        let store = self.store();
        let day = crate::default_day(store, self.today()).await?;
        let mut versions = store
            .account_plans(&account.id)
            .await?
            .into_iter()
            .map(plan_from)
            .collect::<Result<Vec<_>, _>>()?;
        let plan = (!versions.is_empty()).then(|| versions.remove(0));
        let contacts = store.contact_page(Some(&account.id), "", RECORDS).await?;
        let activities = store.activity_page(Some(&account.id), "", RECORDS).await?;
        let mut standings: std::collections::HashMap<String, Standing> = Default::default();
        for record in store.stakeholders(&account.id).await? {
            standings.insert(record.contact_id.clone(), standing_from(record)?);
        }
        let stakeholders = contacts
            .iter()
            .filter(|c| c.left_on.is_none_or(|d| d > day))
            .map(|c| Stakeholder {
                standing: standings.remove(&c.id),
                contact: c.clone(),
            })
            .collect();
        let executives = executive_relationships(&contacts, &activities, day);
        let last_executive_touch = executives.iter().filter_map(|e| e.last_touch).max();
        let team = store
            .account_team(&account.id)
            .await?
            .into_iter()
            .map(|m: TeamMemberRecord| {
                Ok(TeamMember {
                    role: TeamRole::parse(&m.role).map_err(|_| {
                        AppError::Internal(format!("account team {}: bad role", m.account_id))
                    })?,
                    handle: m.handle,
                    added_by: m.added_by,
                    added_at: m.added_at,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(AccountDesk {
            account_id: account.id,
            day,
            plan,
            history: versions,
            stakeholders,
            executives,
            last_executive_touch,
            team,
        })
    }

    /// Saves a new version of the account plan.
    pub async fn save_account_plan(
        &self,
        actor: &Actor,
        account_id: &str,
        new: &NewAccountPlan,
    ) -> Result<AccountPlan, AppError> {
        let account = self.account(account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let objectives = items("/objectives", &new.objectives)?;
        let risks = items("/risks", &new.risks)?;
        if let Some(target) = new.target_arr.filter(|m| m.minor <= 0) {
            return Err(AppError::invalid(
                "/target_arr_minor",
                format!("must be above 0, not {}", target.minor),
            ));
        }
        let owner = match new.owner.as_deref() {
            Some(text) => Some(handle("/owner", text)?),
            None => owner_of(&account),
        };
        let json =
            |list: &[String]| serde_json::to_string(list).expect("a list of text serializes");
        let now = self.now();
        let mut record = AccountPlanRecord {
            id: 0,
            account_id: account.id.clone(),
            objectives: json(&objectives),
            growth_strategy: optional_text("/growth_strategy", new.growth_strategy.as_deref())?,
            target_arr_minor: new.target_arr.map(|m| m.minor),
            currency: new.target_arr.map(|m| m.currency.as_str().to_string()),
            risks: json(&risks),
            next_review_on: new.next_review_on,
            owner,
            saved_by: actor.author().to_string(),
            saved_at: now,
        };
        let mut tx = self.store().begin().await?;
        record.id = tx.insert_account_plan(&record).await?;
        let changes = crate::access::audit_changes(&[
            ("version", record.id.into()),
            ("objectives", objectives.len().into()),
            ("risks", risks.len().into()),
            ("target_arr_minor", record.target_arr_minor.into()),
            (
                "next_review_on",
                record.next_review_on.map(|d| d.to_string()).into(),
            ),
            ("owner", record.owner.clone().into()),
        ]);
        tx.append_audit(now, &actor.name, "account_plan.save", &account.id, &changes)
            .await?;
        tx.commit().await?;
        plan_from(record)
    }

    /// Sets how a contact of the account stands.
    pub async fn set_stakeholder(
        &self,
        actor: &Actor,
        account_id: &str,
        contact_id: &str,
        new: &NewStanding,
    ) -> Result<Standing, AppError> {
        let account = self.account(account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let store = self.store();
        let contact = contact_of(store, &account.id, contact_id)
            .await?
            .ok_or_else(|| AppError::not_found("contact of this account", contact_id))?;
        if !(1..=5).contains(&new.strength) {
            return Err(AppError::invalid("/strength", "must be between 1 and 5"));
        }
        if let Some(boss) = &new.reports_to {
            if boss == contact_id {
                return Err(AppError::invalid(
                    "/reports_to",
                    "a contact does not report to themselves",
                ));
            }
            if contact_of(store, &account.id, boss).await?.is_none() {
                return Err(AppError::invalid(
                    "/reports_to",
                    format!("{boss:?} is not a contact of {}", account.id),
                ));
            }
        }
        let now = self.now();
        let record = StakeholderRecord {
            contact_id: contact.id.clone(),
            account_id: account.id.clone(),
            influence: new.influence.as_str().into(),
            sentiment: new.sentiment.as_str().into(),
            strength: i32::from(new.strength),
            reports_to: new.reports_to.clone(),
            updated_by: actor.author().to_string(),
            updated_at: now,
        };
        let mut tx = store.begin().await?;
        tx.upsert_stakeholder(&record).await?;
        let changes = crate::access::audit_changes(&[
            ("account_id", account.id.clone().into()),
            ("influence", record.influence.clone().into()),
            ("sentiment", record.sentiment.clone().into()),
            ("strength", record.strength.into()),
            ("reports_to", record.reports_to.clone().into()),
        ]);
        tx.append_audit(now, &actor.name, "stakeholder.set", &contact.id, &changes)
            .await?;
        tx.commit().await?;
        standing_from(record)
    }

    /// Puts `member` on the account team in `role`; a conflict when already there.
    pub async fn add_team_member(
        &self,
        actor: &Actor,
        account_id: &str,
        member: &str,
        role: TeamRole,
    ) -> Result<TeamMember, AppError> {
        let account = self.account(account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let now = self.now();
        let record = TeamMemberRecord {
            account_id: account.id.clone(),
            handle: handle("/handle", member)?,
            role: role.as_str().into(),
            added_by: actor.author().to_string(),
            added_at: now,
        };
        let mut tx = self.store().begin().await?;
        if !tx.insert_team_member(&record).await? {
            return Err(AppError::Conflict(format!(
                "{} is already {} on {}",
                record.handle, record.role, account.id
            )));
        }
        let changes = crate::access::audit_changes(&[
            ("handle", record.handle.clone().into()),
            ("role", record.role.clone().into()),
        ]);
        tx.append_audit(now, &actor.name, "account_team.add", &account.id, &changes)
            .await?;
        tx.commit().await?;
        Ok(TeamMember {
            handle: record.handle,
            role,
            added_by: record.added_by,
            added_at: now,
        })
    }

    /// Takes `member` off the account team in `role`.
    pub async fn remove_team_member(
        &self,
        actor: &Actor,
        account_id: &str,
        member: &str,
        role: TeamRole,
    ) -> Result<(), AppError> {
        let account = self.account(account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let member = handle("handle", member)?;
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if !tx
            .delete_team_member(&account.id, &member, role.as_str())
            .await?
        {
            return Err(AppError::not_found(
                "team member in that role",
                format!("{member} ({})", role.as_str()),
            ));
        }
        let changes = crate::access::audit_changes(&[
            ("handle", member.clone().into()),
            ("role", role.as_str().into()),
        ]);
        tx.append_audit(
            now,
            &actor.name,
            "account_team.remove",
            &account.id,
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
