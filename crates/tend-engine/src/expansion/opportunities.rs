//! Expansion opportunities: an account manager turns a signal, a whitespace gap, a
//! playbook's task or their own idea into a tracked opportunity (product, amount of
//! ARR, expected close day, stage, owner) and moves it to won or lost. The source is
//! kept for revenue attribution; every change is audited.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use tend_core::{Currency, Money, OpportunitySource, OpportunityStage};
use tend_store::OpportunityRecord;

use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};
use crate::proposals::optional_text;
use crate::views::renewals::owner_of;

/// The largest amount an opportunity may have, in minor units (10 billion).
const MAX_AMOUNT: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    pub id: i64,
    pub account_id: String,
    pub product: String,
    pub title: String,
    pub stage: OpportunityStage,
    /// ARR it would add.
    pub amount: Money,
    /// Expected to close on; the day it closed once won or lost.
    pub close_on: NaiveDate,
    pub owner: Option<String>,
    pub source: OpportunitySource,
    pub source_detail: Option<String>,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Opportunity {
    fn from_record(r: OpportunityRecord) -> Result<Opportunity, AppError> {
        let broken = |what: &str| AppError::Internal(format!("opportunity {}: bad {what}", r.id));
        Ok(Opportunity {
            stage: OpportunityStage::parse(&r.stage).map_err(|_| broken("stage"))?,
            amount: Money::new(
                r.amount_minor,
                Currency::parse(&r.currency).map_err(|_| broken("currency"))?,
            ),
            source: OpportunitySource::parse(&r.source).map_err(|_| broken("source"))?,
            id: r.id,
            account_id: r.account_id,
            product: r.product,
            title: r.title,
            close_on: r.close_on,
            owner: r.owner,
            source_detail: r.source_detail,
            note: r.note,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }

    fn record(&self) -> OpportunityRecord {
        OpportunityRecord {
            id: self.id,
            account_id: self.account_id.clone(),
            product: self.product.clone(),
            title: self.title.clone(),
            stage: self.stage.as_str().into(),
            amount_minor: self.amount.minor,
            currency: self.amount.currency.as_str().into(),
            close_on: self.close_on,
            owner: self.owner.clone(),
            source: self.source.as_str().into(),
            source_detail: self.source_detail.clone(),
            note: self.note.clone(),
            created_by: self.created_by.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewOpportunity {
    pub account_id: String,
    pub product: String,
    /// By default "PRODUCT for ACCOUNT NAME".
    pub title: Option<String>,
    pub amount: Money,
    pub close_on: NaiveDate,
    /// By default the account's account manager, else its CSM, else whoever opens it.
    pub owner: Option<String>,
    pub source: OpportunitySource,
    /// The signal or gap (`high_utilization`, `whitespace`) or playbook's name.
    pub source_detail: Option<String>,
    pub note: Option<String>,
    /// By default `identified`.
    pub stage: Option<OpportunityStage>,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpportunityChange {
    pub title: Option<String>,
    pub stage: Option<OpportunityStage>,
    pub amount: Option<Money>,
    pub close_on: Option<NaiveDate>,
    pub owner: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpportunityQuery {
    pub account_id: Option<String>,
    pub owner: Option<String>,
    pub stage: Option<OpportunityStage>,
}

fn check_amount(field: &str, amount: Money) -> Result<(), AppError> {
    if amount.minor > 0 && amount.minor <= MAX_AMOUNT {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            format!("must be above 0 and at most {MAX_AMOUNT} minor units"),
        ))
    }
}

fn required_text(field: &str, text: &str) -> Result<String, AppError> {
    optional_text(field, Some(text))?.ok_or_else(|| AppError::invalid(field, "must not be empty"))
}

impl App {
    pub async fn create_opportunity(
        &self,
        actor: &Actor,
        new: &NewOpportunity,
    ) -> Result<Opportunity, AppError> {
        let account = self.account(&new.account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let product = required_text("/product", &new.product)?;
        check_amount("/amount", new.amount)?;
        let title = match &new.title {
            Some(title) => required_text("/title", title)?,
            None => format!("{product} for {}", account.name),
        };
        let now = self.now();
        let owner = optional_text("/owner", new.owner.as_deref())?
            .or_else(|| owner_of(&account))
            .or_else(|| Some(actor.author().to_string()));
        let mut opportunity = Opportunity {
            id: 0,
            account_id: account.id.clone(),
            product,
            title,
            stage: new.stage.unwrap_or(OpportunityStage::Identified),
            amount: new.amount,
            close_on: new.close_on,
            owner,
            source: new.source,
            source_detail: optional_text("/source_detail", new.source_detail.as_deref())?,
            note: optional_text("/note", new.note.as_deref())?,
            created_by: actor.author().to_string(),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.store().begin().await?;
        opportunity.id = tx.insert_opportunity(&opportunity.record()).await?;
        let changes = crate::access::audit_changes(&[
            ("account_id", opportunity.account_id.clone().into()),
            ("product", opportunity.product.clone().into()),
            ("stage", opportunity.stage.as_str().into()),
            ("amount_minor", opportunity.amount.minor.into()),
            ("currency", opportunity.amount.currency.as_str().into()),
            ("close_on", opportunity.close_on.to_string().into()),
            ("owner", opportunity.owner.clone().into()),
            ("source", opportunity.source.as_str().into()),
        ]);
        tx.append_audit(
            now,
            &actor.name,
            "opportunity.create",
            &opportunity.id.to_string(),
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok(opportunity)
    }

    /// Changes an opportunity. A closed one (won or lost) keeps its stage and amount:
    /// booked revenue is attributed to it. Closing without a day closes it today.
    pub async fn update_opportunity(
        &self,
        actor: &Actor,
        id: i64,
        change: &OpportunityChange,
    ) -> Result<Opportunity, AppError> {
        let _serial = self.write_lock().await;
        let mut opportunity = self.opportunity(actor, id).await?;
        let account = self.account(&opportunity.account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let was_closed = !opportunity.stage.is_open();
        if was_closed
            && (change.stage.is_some_and(|s| s != opportunity.stage) || change.amount.is_some())
        {
            return Err(AppError::Conflict(format!(
                "opportunity {id} is {}: its stage and amount no longer change",
                opportunity.stage.as_str()
            )));
        }
        let mut changed = Vec::new();
        if let Some(title) = &change.title {
            opportunity.title = required_text("/title", title)?;
            changed.push(("title", json!(opportunity.title)));
        }
        if let Some(amount) = change.amount {
            check_amount("/amount", amount)?;
            opportunity.amount = amount;
            changed.push(("amount_minor", json!(amount.minor)));
            changed.push(("currency", json!(amount.currency.as_str())));
        }
        if let Some(owner) = &change.owner {
            opportunity.owner = Some(required_text("/owner", owner)?);
            changed.push(("owner", json!(opportunity.owner)));
        }
        if let Some(note) = &change.note {
            opportunity.note = optional_text("/note", Some(note))?;
            changed.push(("note", json!(opportunity.note)));
        }
        if let Some(stage) = change.stage.filter(|&s| s != opportunity.stage) {
            opportunity.stage = stage;
            changed.push(("stage", json!(stage.as_str())));
            if !stage.is_open() && change.close_on.is_none() {
                opportunity.close_on = self.today();
                changed.push(("close_on", json!(opportunity.close_on.to_string())));
            }
        }
        if let Some(day) = change.close_on {
            opportunity.close_on = day;
            changed.push(("close_on", json!(day.to_string())));
        }
        if changed.is_empty() {
            return Err(AppError::invalid("/", "changes nothing"));
        }
        let now = self.now();
        opportunity.updated_at = now;
        let mut tx = self.store().begin().await?;
        if !tx.update_opportunity(&opportunity.record()).await? {
            return Err(AppError::not_found("opportunity", id.to_string()));
        }
        let changes = crate::access::audit_changes(&changed);
        tx.append_audit(
            now,
            &actor.name,
            "opportunity.update",
            &id.to_string(),
            &changes,
        )
        .await?;
        tx.commit().await?;
        Ok(opportunity)
    }

    pub async fn opportunity(&self, actor: &Actor, id: i64) -> Result<Opportunity, AppError> {
        authorize(actor, Action::Read)?;
        let record = self
            .store()
            .opportunity(id)
            .await?
            .ok_or_else(|| AppError::not_found("opportunity", id.to_string()))?;
        Opportunity::from_record(record)
    }

    /// Opportunities, newest first.
    pub async fn opportunities(
        &self,
        actor: &Actor,
        query: &OpportunityQuery,
    ) -> Result<Vec<Opportunity>, AppError> {
        authorize(actor, Action::Read)?;
        let records = self
            .store()
            .opportunities(query.account_id.as_deref(), query.stage.map(|s| s.as_str()))
            .await?;
        let mut list = Vec::with_capacity(records.len());
        for record in records {
            let opportunity = Opportunity::from_record(record)?;
            if query
                .owner
                .as_deref()
                .is_none_or(|o| opportunity.owner.as_deref() == Some(o))
            {
                list.push(opportunity);
            }
        }
        Ok(list)
    }
}
