//! Renewal and expansion proposals and their approval. A proposal (lines of product,
//! seats and list price; a discount, term, payment terms, start, any non-standard
//! terms) is checked against the negotiation guardrails when it is made: within them
//! it is recorded as approved; beyond them it waits for a leader of the route it
//! needs (sales leadership for pricing, the CRO for strategic deals), who approves or
//! rejects it with a comment. Nobody decides their own proposal; every step is
//! audited and sent as a webhook event.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tend_core::guardrails::{Breach, Guardrails, Route, Terms, DEFAULT_GUARDRAILS};
use tend_core::{Currency, FxTable, Money};
use tend_store::ProposalRecord;

use crate::app::{App, AppError};
use crate::health::config::{load_settings, parse_settings, SettingsFileError};
use crate::policy::{authorize, Action, Actor};
use crate::webhooks::{
    queue_events, Event, PROPOSAL_APPROVED, PROPOSAL_CREATED, PROPOSAL_REJECTED,
};

/// A guardrails file that cannot be used.
pub type GuardrailsFileError = SettingsFileError;

/// Parses and validates a guardrails file; `origin` names it in errors, with the
/// line of the mistake.
pub fn parse_guardrails(text: &str, origin: &str) -> Result<Guardrails, GuardrailsFileError> {
    parse_settings(text, origin, |g: &Guardrails| {
        g.validate().map_err(|e| (e.problem, e.at))
    })
}

/// The guardrails of `path`, or the shipped ones.
pub fn load_guardrails(path: Option<&Path>) -> Result<Guardrails, GuardrailsFileError> {
    load_settings(
        path,
        (DEFAULT_GUARDRAILS, "the shipped guardrails"),
        parse_guardrails,
    )
}

/// What a proposal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalKind {
    Renewal,
    Expansion,
}

impl ProposalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalKind::Renewal => "renewal",
            ProposalKind::Expansion => "expansion",
        }
    }

    pub fn parse(text: &str) -> Result<ProposalKind, String> {
        match text {
            "renewal" => Ok(ProposalKind::Renewal),
            "expansion" => Ok(ProposalKind::Expansion),
            other => Err(format!("{other:?} is not one of renewal, expansion")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalStatus {
    Approved,
    Pending,
    Rejected,
}

impl ProposalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Approved => "approved",
            ProposalStatus::Pending => "pending",
            ProposalStatus::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Result<ProposalStatus, String> {
        match text {
            "approved" => Ok(ProposalStatus::Approved),
            "pending" => Ok(ProposalStatus::Pending),
            "rejected" => Ok(ProposalStatus::Rejected),
            other => Err(format!(
                "{other:?} is not one of approved, pending, rejected"
            )),
        }
    }
}

/// One product of a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalLine {
    pub product: String,
    pub seats: i64,
    /// List price per seat and year, in minor units of the proposal's currency.
    pub list_price: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewProposal {
    pub account_id: String,
    pub kind: ProposalKind,
    pub lines: Vec<ProposalLine>,
    pub currency: Currency,
    pub discount_percent: f64,
    pub term_months: u32,
    pub payment_terms: String,
    pub start_on: NaiveDate,
    pub non_standard_terms: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub id: i64,
    pub account_id: String,
    pub kind: ProposalKind,
    pub lines: Vec<ProposalLine>,
    pub discount_percent: f64,
    pub term_months: u32,
    pub payment_terms: String,
    pub start_on: NaiveDate,
    pub non_standard_terms: Option<String>,
    /// ARR after discount, in the proposal's currency.
    pub arr: Money,
    pub status: ProposalStatus,
    /// Who it needed, when beyond the guardrails.
    pub route: Option<Route>,
    /// The limits it went beyond, in words.
    pub breaches: Vec<Breach>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_comment: Option<String>,
}

impl Proposal {
    /// The contract value over the whole term.
    pub fn total_value(&self) -> Money {
        Money::new(
            self.arr.minor * i64::from(self.term_months) / 12,
            self.arr.currency,
        )
    }

    fn from_record(r: ProposalRecord) -> Result<Proposal, AppError> {
        let bad = |what: &str, e: String| {
            AppError::Internal(format!("stored proposal {}: {what}: {e}", r.id))
        };
        Ok(Proposal {
            id: r.id,
            kind: ProposalKind::parse(&r.kind).map_err(|e| bad("kind", e))?,
            lines: serde_json::from_str(&r.lines).map_err(|e| bad("lines", e.to_string()))?,
            discount_percent: r.discount_percent,
            term_months: u32::try_from(r.term_months).map_err(|e| bad("term", e.to_string()))?,
            payment_terms: r.payment_terms,
            start_on: r.start_on,
            non_standard_terms: r.non_standard_terms,
            arr: Money::new(
                r.arr_minor,
                Currency::parse(&r.currency).map_err(|e| bad("currency", e.to_string()))?,
            ),
            status: ProposalStatus::parse(&r.status).map_err(|e| bad("status", e))?,
            route: match r.route.as_deref() {
                None => None,
                Some(text) => {
                    Some(Route::parse(text).ok_or_else(|| bad("route", text.to_string()))?)
                }
            },
            breaches: serde_json::from_str(&r.breaches)
                .map_err(|e| bad("breaches", e.to_string()))?,
            account_id: r.account_id,
            created_by: r.created_by,
            created_at: r.created_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            decision_comment: r.decision_comment,
        })
    }

    fn event(&self, kind: &'static str, account_name: &str) -> Event {
        Event {
            kind,
            account_id: self.account_id.clone(),
            data: json!({
                "account_id": self.account_id,
                "account_name": account_name,
                "proposal_id": self.id,
                "kind": self.kind.as_str(),
                "status": self.status.as_str(),
                "route": self.route.map(Route::as_str),
                "reasons": self.breaches.iter().map(|b| b.reason.as_str()).collect::<Vec<_>>(),
                "arr_minor": self.arr.minor,
                "currency": self.arr.currency.as_str(),
                "created_by": self.created_by,
                "decided_by": self.decided_by,
                "comment": self.decision_comment,
            }),
        }
    }
}

/// Which proposals to list.
#[derive(Debug, Clone, Default)]
pub struct ProposalQuery {
    pub status: Option<ProposalStatus>,
    pub account_id: Option<String>,
}

const MAX_LINES: usize = 50;
const MAX_TEXT: usize = 2_000;
const MAX_TERM_MONTHS: u32 = 120;

/// The trimmed text of an optional field, `None` when blank.
pub(crate) fn optional_text(field: &str, text: Option<&str>) -> Result<Option<String>, AppError> {
    match text.map(str::trim) {
        Some(t) if t.chars().count() > MAX_TEXT => Err(AppError::invalid(
            field,
            format!("must have at most {MAX_TEXT} characters"),
        )),
        Some("") | None => Ok(None),
        Some(t) => Ok(Some(t.to_string())),
    }
}

/// Checks what a proposal asks for; the net price per seat of each line and the
/// ARR, in its own currency.
fn validate(new: &NewProposal) -> Result<(Vec<i64>, i64), AppError> {
    if new.lines.is_empty() || new.lines.len() > MAX_LINES {
        return Err(AppError::invalid(
            "/lines",
            format!("must have between 1 and {MAX_LINES} lines"),
        ));
    }
    if !(0.0..=100.0).contains(&new.discount_percent) || !new.discount_percent.is_finite() {
        return Err(AppError::invalid(
            "/discount_percent",
            "must be between 0 and 100",
        ));
    }
    if !(1..=MAX_TERM_MONTHS).contains(&new.term_months) {
        return Err(AppError::invalid(
            "/term_months",
            format!("must be between 1 and {MAX_TERM_MONTHS}"),
        ));
    }
    let terms = new.payment_terms.trim();
    if terms.is_empty() || terms.chars().count() > 100 {
        return Err(AppError::invalid(
            "/payment_terms",
            "must be a name such as annual_in_advance",
        ));
    }
    let keep = 1.0 - new.discount_percent / 100.0;
    let mut nets = Vec::new();
    let mut arr: i64 = 0;
    for (i, line) in new.lines.iter().enumerate() {
        if line.product.trim().is_empty() {
            return Err(AppError::invalid(
                format!("/lines/{i}/product"),
                "must not be empty",
            ));
        }
        if !(1..=10_000_000).contains(&line.seats) {
            return Err(AppError::invalid(
                format!("/lines/{i}/seats"),
                "must be between 1 and 10,000,000",
            ));
        }
        if !(0..=1_000_000_000_000).contains(&line.list_price) {
            return Err(AppError::invalid(
                format!("/lines/{i}/list_price"),
                "must be between 0 and 1,000,000,000,000 minor units",
            ));
        }
        let net = (line.list_price as f64 * keep).round() as i64;
        nets.push(net);
        arr = arr.saturating_add(net.saturating_mul(line.seats));
    }
    Ok((nets, arr))
}

impl App {
    /// Makes a proposal on an account the caller may write, checked against the
    /// guardrails: approved within them, else pending for the route they name.
    pub async fn create_proposal(
        &self,
        actor: &Actor,
        new: &NewProposal,
    ) -> Result<Proposal, AppError> {
        let account = self.account(&new.account_id).await?;
        authorize(actor, Action::WriteAccount(&account))?;
        let (nets, arr) = validate(new)?;
        let non_standard = optional_text("/non_standard_terms", new.non_standard_terms.as_deref())?;
        let guardrails = self.guardrails();
        let store = self.store();
        let day = crate::default_day(store, self.today()).await?;
        let rates = FxTable::new(&store.fx_rates().await?);
        let to = guardrails.currency();
        let convert = |minor: i64, field: &str| {
            rates
                .convert(Money::new(minor, new.currency), to, day)
                .ok_or_else(|| {
                    AppError::invalid(
                        field,
                        format!(
                            "no exchange rate from {} to {to} (the guardrails' currency) on {day}",
                            new.currency
                        ),
                    )
                })
        };
        let mut lines = Vec::new();
        for (line, net) in new.lines.iter().zip(&nets) {
            lines.push((line.product.as_str(), convert(*net, "/currency")?));
        }
        let payment_terms = new.payment_terms.trim().to_string();
        let verdict = guardrails.check(&Terms {
            lines,
            discount_percent: new.discount_percent,
            term_months: new.term_months,
            payment_terms: &payment_terms,
            arr: convert(arr, "/currency")?,
            non_standard_terms: non_standard.as_deref(),
        });
        let route = verdict.route();
        let status = if route.is_some() {
            ProposalStatus::Pending
        } else {
            ProposalStatus::Approved
        };
        let now = self.now();
        let mut record = ProposalRecord {
            id: 0,
            account_id: account.id.clone(),
            kind: new.kind.as_str().into(),
            lines: serde_json::to_string(&new.lines)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            currency: new.currency.as_str().into(),
            discount_percent: new.discount_percent,
            term_months: new.term_months as i32,
            payment_terms,
            start_on: new.start_on,
            non_standard_terms: non_standard,
            arr_minor: arr,
            status: status.as_str().into(),
            route: route.map(|r| r.as_str().to_string()),
            breaches: serde_json::to_string(&verdict.breaches)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            created_by: actor.author().to_string(),
            created_at: now,
            decided_by: None,
            decided_at: None,
            decision_comment: None,
        };
        let mut tx = store.begin().await?;
        record.id = tx.insert_proposal(&record).await?;
        let proposal = Proposal::from_record(record)?;
        let changes = crate::access::audit_changes(&[
            ("account_id", proposal.account_id.clone().into()),
            ("kind", proposal.kind.as_str().into()),
            ("arr_minor", proposal.arr.minor.into()),
            ("currency", proposal.arr.currency.as_str().into()),
            ("status", proposal.status.as_str().into()),
            ("route", proposal.route.map(Route::as_str).into()),
        ]);
        tx.append_audit(
            now,
            &actor.name,
            "proposal.create",
            &proposal.id.to_string(),
            &changes,
        )
        .await?;
        let mut events = vec![proposal.event(PROPOSAL_CREATED, &account.name)];
        if status == ProposalStatus::Approved {
            events.push(proposal.event(PROPOSAL_APPROVED, &account.name));
        }
        queue_events(&mut tx, events, now).await?;
        tx.commit().await?;
        Ok(proposal)
    }

    pub async fn proposal(&self, actor: &Actor, id: i64) -> Result<Proposal, AppError> {
        authorize(actor, Action::Read)?;
        let record = self
            .store()
            .proposal(id)
            .await?
            .ok_or_else(|| AppError::not_found("proposal", id.to_string()))?;
        Proposal::from_record(record)
    }

    /// Proposals, newest first.
    pub async fn proposals(
        &self,
        actor: &Actor,
        query: &ProposalQuery,
    ) -> Result<Vec<Proposal>, AppError> {
        authorize(actor, Action::Read)?;
        self.store()
            .proposals(
                query.status.map(ProposalStatus::as_str),
                query.account_id.as_deref(),
            )
            .await?
            .into_iter()
            .map(Proposal::from_record)
            .collect()
    }

    /// The pending proposals `actor` may decide: none but for leaders, and of those
    /// the ones routed to them (any leader where the route names no approvers) that
    /// they did not make.
    pub async fn approvals_for(&self, actor: &Actor) -> Result<Vec<Proposal>, AppError> {
        authorize(actor, Action::Read)?;
        if authorize(actor, Action::DecideProposal).is_err() {
            return Ok(Vec::new());
        }
        let query = ProposalQuery {
            status: Some(ProposalStatus::Pending),
            account_id: None,
        };
        Ok(self
            .proposals(actor, &query)
            .await?
            .into_iter()
            .filter(|p| self.may_decide(actor, p).is_ok())
            .collect())
    }

    fn may_decide(&self, actor: &Actor, proposal: &Proposal) -> Result<(), AppError> {
        authorize(actor, Action::DecideProposal)?;
        let me = actor.author();
        if proposal.created_by == me {
            return Err(AppError::Forbidden(
                "nobody approves or rejects their own proposal".into(),
            ));
        }
        let Some(route) = proposal.route else {
            return Err(AppError::Conflict(format!(
                "proposal {} was within the guardrails and needs no approval",
                proposal.id
            )));
        };
        let approvers = self.guardrails().approvers(route);
        if !approvers.is_empty() && !approvers.iter().any(|a| a == me) {
            return Err(AppError::Forbidden(format!(
                "proposal {} needs {} ({}); {me} is not among them",
                proposal.id,
                route.words(),
                approvers.join(", ")
            )));
        }
        Ok(())
    }

    /// Approves (or rejects) a pending proposal as a leader of its route, with a
    /// comment (required to reject); audited and sent as a webhook event.
    pub async fn decide_proposal(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
        comment: Option<&str>,
    ) -> Result<Proposal, AppError> {
        let comment = optional_text("/comment", comment)?;
        if !approve && comment.is_none() {
            return Err(AppError::invalid("/comment", "a rejection needs a comment"));
        }
        let _writing = self.write_lock().await;
        let proposal = self.proposal(actor, id).await?;
        self.may_decide(actor, &proposal)?;
        if proposal.status != ProposalStatus::Pending {
            return Err(AppError::Conflict(format!(
                "proposal {id} is already {} by {}",
                proposal.status.as_str(),
                proposal.decided_by.as_deref().unwrap_or("the guardrails")
            )));
        }
        let account = self.account(&proposal.account_id).await?;
        let status = if approve {
            ProposalStatus::Approved
        } else {
            ProposalStatus::Rejected
        };
        let now = self.now();
        let me = actor.author().to_string();
        let mut tx = self.store().begin().await?;
        if !tx
            .decide_proposal(id, status.as_str(), &me, now, comment.as_deref())
            .await?
        {
            return Err(AppError::Conflict(format!(
                "proposal {id} was decided meanwhile"
            )));
        }
        let decided = Proposal {
            status,
            decided_by: Some(me),
            decided_at: Some(now),
            decision_comment: comment,
            ..proposal
        };
        let changes = crate::access::audit_changes(&[
            ("status", status.as_str().into()),
            ("comment", decided.decision_comment.clone().into()),
        ]);
        let action = if approve {
            "proposal.approve"
        } else {
            "proposal.reject"
        };
        tx.append_audit(now, &actor.name, action, &id.to_string(), &changes)
            .await?;
        let kind = if approve {
            PROPOSAL_APPROVED
        } else {
            PROPOSAL_REJECTED
        };
        queue_events(&mut tx, vec![decided.event(kind, &account.name)], now).await?;
        tx.commit().await?;
        Ok(decided)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_guardrails_load_and_a_bad_file_names_its_line() {
        load_guardrails(None).unwrap();
        let text =
            DEFAULT_GUARDRAILS.replace("max_discount_percent = 25", "max_discount_percent = 5");
        let e = parse_guardrails(&text, "guardrails.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "guardrails.toml, line 23: sales leadership's limit (5%) is below the account manager's (10%)"
        );
        let e = parse_guardrails(
            "currency = \"USD\"\n[account_manager]\nmax_discount = 5\n",
            "g.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("g.toml, line 3: unknown field `max_discount`"),
            "{e}"
        );
    }
}
