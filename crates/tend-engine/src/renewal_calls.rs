//! The owner's calls on open renewals: a forecast category (commit, best case, at
//! risk, omitted), optionally the stage it moves the renewal into (negotiation,
//! committed) and a note. Every call is kept — the latest is the renewal's call, the
//! rest its history — beside the risk model's probability at the time, and a call
//! disagrees with the model when that probability is outside its category's range.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use tend_core::renewal::renewals;
use tend_core::{CallStage, ForecastCategory};
use tend_store::RenewalCallRecord;

use crate::app::{App, AppError};
use crate::forecast::RenewalModel;
use crate::policy::{authorize, Action, Actor};
use crate::webhooks::{queue_events, Event, RENEWAL_CALLED};

/// The longest note a call takes.
const MAX_NOTE: usize = 2_000;

/// A renewal: its account, product and due day.
pub type RenewalKey = (String, String, NaiveDate);

#[derive(Debug, Clone, PartialEq)]
pub struct NewCall {
    pub account_id: String,
    pub product: String,
    pub due_on: NaiveDate,
    pub category: ForecastCategory,
    pub stage: Option<CallStage>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RenewalCall {
    pub id: i64,
    pub account_id: String,
    pub product: String,
    pub due_on: NaiveDate,
    pub category: ForecastCategory,
    pub stage: Option<CallStage>,
    pub note: Option<String>,
    /// The model's probability that it renews when the call was made.
    pub model_probability: Option<f64>,
    pub made_by: String,
    pub made_at: DateTime<Utc>,
}

impl RenewalCall {
    fn from_record(r: RenewalCallRecord) -> Result<RenewalCall, AppError> {
        let bad = |what: &str, e: tend_core::InvalidValue| {
            AppError::Internal(format!("stored renewal call {}: {what} {e}", r.id))
        };
        Ok(RenewalCall {
            category: ForecastCategory::parse(&r.category).map_err(|e| bad("category", e))?,
            stage: r
                .stage
                .as_deref()
                .map(CallStage::parse)
                .transpose()
                .map_err(|e| bad("stage", e))?,
            id: r.id,
            account_id: r.account_id,
            product: r.product,
            due_on: r.due_on,
            note: r.note,
            model_probability: r.model_probability,
            made_by: r.made_by,
            made_at: r.made_at,
        })
    }

    /// Whether the call and `model_probability` (the model's now) disagree.
    pub fn disagrees(&self, model_probability: Option<f64>) -> bool {
        model_probability.is_some_and(|p| self.category.disagrees_with(p))
    }
}

/// The latest call of every renewal that has one.
pub(crate) async fn latest_calls(
    store: &tend_store::Store,
) -> Result<HashMap<RenewalKey, RenewalCall>, AppError> {
    let mut latest = HashMap::new();
    // Oldest first: a later call replaces an earlier one.
    for record in store.renewal_calls().await? {
        let call = RenewalCall::from_record(record)?;
        latest.insert(
            (call.account_id.clone(), call.product.clone(), call.due_on),
            call,
        );
    }
    Ok(latest)
}

impl App {
    /// Records the call of `new` on an open renewal of an account the caller may
    /// write; audited and sent as a `renewal.called` webhook event.
    pub async fn call_renewal(
        &self,
        actor: &Actor,
        new: &NewCall,
    ) -> Result<RenewalCall, AppError> {
        let _writing = self.write_lock().await;
        let account = self.account(&new.account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let note = match new.note.as_deref().map(str::trim) {
            Some(note) if note.chars().count() > MAX_NOTE => {
                return Err(AppError::invalid(
                    "/note",
                    format!("must have at most {MAX_NOTE} characters"),
                ))
            }
            Some("") | None => None,
            Some(note) => Some(note.to_string()),
        };
        let store = self.store();
        let day = crate::default_day(store, self.today()).await?;
        let contracts = store.contracts_of(&account.id).await?;
        let (found, _) = renewals(&contracts, day);
        let renewal = found
            .iter()
            .find(|r| r.product == new.product && r.due_on == new.due_on)
            .ok_or_else(|| {
                let due: Vec<String> = found
                    .iter()
                    .filter(|r| r.outcome.is_none())
                    .map(|r| format!("{} due {}", r.product, r.due_on))
                    .collect();
                AppError::invalid(
                    "/due_on",
                    format!(
                        "account {:?} has no renewal of {:?} due {}; its open renewals: {}",
                        account.id,
                        new.product,
                        new.due_on,
                        if due.is_empty() {
                            "none".into()
                        } else {
                            due.join(", ")
                        }
                    ),
                )
            })?;
        if renewal.outcome.is_some() {
            return Err(AppError::Conflict(format!(
                "the renewal of {} due {} is closed; only open renewals take a call",
                new.product, new.due_on
            )));
        }
        let model_probability = RenewalModel::load(store).await?.probability(renewal);
        let now = self.now();
        let mut record = RenewalCallRecord {
            id: 0,
            account_id: account.id.clone(),
            product: new.product.clone(),
            due_on: new.due_on,
            category: new.category.as_str().to_string(),
            stage: new.stage.map(|s| s.as_str().to_string()),
            note,
            model_probability,
            made_by: actor.author().to_string(),
            made_at: now,
        };
        let mut tx = store.begin().await?;
        record.id = tx.insert_renewal_call(&record).await?;
        let changes = crate::access::audit_changes(&[
            ("account_id", record.account_id.clone().into()),
            ("product", record.product.clone().into()),
            ("due_on", record.due_on.to_string().into()),
            ("category", record.category.clone().into()),
            ("stage", record.stage.clone().into()),
        ]);
        tx.append_audit(
            now,
            &actor.name,
            "renewal.call",
            &record.id.to_string(),
            &changes,
        )
        .await?;
        let call = RenewalCall::from_record(record)?;
        let event = Event {
            kind: RENEWAL_CALLED,
            account_id: account.id.clone(),
            data: json!({
                "account_id": account.id,
                "account_name": account.name,
                "product": call.product,
                "due_on": call.due_on,
                "category": call.category.as_str(),
                "stage": call.stage.map(|s| s.as_str()),
                "model_probability": call.model_probability,
                "disagrees": call.disagrees(call.model_probability),
                "made_by": call.made_by,
            }),
        };
        queue_events(&mut tx, vec![event], now).await?;
        tx.commit().await?;
        Ok(call)
    }

    /// Every call on one renewal, oldest first.
    pub async fn renewal_call_history(
        &self,
        actor: &Actor,
        account_id: &str,
        product: &str,
        due_on: NaiveDate,
    ) -> Result<Vec<RenewalCall>, AppError> {
        authorize(actor, Action::Read)?;
        let account = self.account(account_id).await?;
        self.store()
            .renewal_calls_of(&account.id, product, due_on)
            .await?
            .into_iter()
            .map(RenewalCall::from_record)
            .collect()
    }
}
