//! Customer data: the entities of the data hub, as validated domain types.
//!
//! Every entity is identified by the external id it has in its source system (the CRM
//! account id, the ticket number, …), so imports can upsert by that id and re-running an
//! import changes nothing. Times are UTC; money is integer minor units.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};

use crate::money::{Currency, Money};

/// Why a value could not become a domain value. Carries no location: the importer
/// adds the file, line and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

/// Declares a closed set of lower-case names with `parse`, `as_str` and the list of
/// allowed names. Hand-written because the error must list the allowed values, which
/// derive crates such as strum do not put in their parse errors.
macro_rules! name_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Case-insensitive; `-` and ` ` are read as `_`.
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                // The exact stored spelling is by far the most common: no allocation.
                match text {
                    $($text => return Ok($name::$variant),)+
                    _ => {}
                }
                let wanted = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
                match wanted.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(InvalidValue(format!(
                        "{:?} is not one of {}", text, Self::NAMES.join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

name_enum!(
    /// Where an account is in its life with the vendor.
    LifecycleStage { Onboarding = "onboarding", Adoption = "adoption", Mature = "mature", Renewal = "renewal", Churned = "churned" }
);
name_enum!(
    /// The part a contact plays in the relationship.
    ContactRole { Champion = "champion", ExecutiveSponsor = "executive_sponsor", DecisionMaker = "decision_maker", Billing = "billing", User = "user" }
);
name_enum!(
    /// `renewed` and `churned` close a contract's renewal; `active` is in force or undecided.
    ContractStatus { Active = "active", Renewed = "renewed", Churned = "churned", Cancelled = "cancelled" }
);
name_enum!(
    /// Segment-spec call types.
    EventType { Track = "track", Identify = "identify", Group = "group", Page = "page", Screen = "screen" }
);
name_enum!(TicketPriority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" });
name_enum!(TicketStatus { New = "new", Open = "open", Pending = "pending", Solved = "solved", Closed = "closed" });
name_enum!(SurveyKind { Nps = "nps", Csat = "csat", Ces = "ces" });
name_enum!(InvoiceStatus { Open = "open", Paid = "paid", Failed = "failed", Void = "void" });
name_enum!(PaymentStatus { Succeeded = "succeeded", Failed = "failed" });
name_enum!(ActivityKind { Note = "note", Call = "call", Meeting = "meeting", Email = "email" });

name_enum!(
    /// What a task (a call to action) is about.
    TaskKind { Risk = "risk", Lifecycle = "lifecycle", Onboarding = "onboarding", Adoption = "adoption", Expansion = "expansion", Renewal = "renewal", Advocacy = "advocacy", Activity = "activity" }
);
name_enum!(
    /// Where a task is: the first three are still to do; `done` and `cancelled` close it.
    TaskStatus { Open = "open", InProgress = "in_progress", Snoozed = "snoozed", Done = "done", Cancelled = "cancelled" }
);
name_enum!(TaskPriority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" });
name_enum!(
    /// The renewal owner's forecast category: how sure they are it renews, or left
    /// out of the forecast call.
    ForecastCategory { Commit = "commit", BestCase = "best_case", AtRisk = "at_risk", Omitted = "omitted" }
);
name_enum!(
    /// The stage an owner's call moves an open renewal into.
    CallStage { Negotiation = "negotiation", Committed = "committed" }
);
name_enum!(
    /// A milestone of a success plan: `value` is the first value the customer saw
    /// (its done day gives time to value).
    MilestoneKind { Onboarding = "onboarding", Value = "value", Adoption = "adoption", Outcome = "outcome" }
);
name_enum!(
    /// Where an expansion opportunity is: the first four are open; `closed_won` books
    /// its amount, `closed_lost` drops it.
    OpportunityStage { Identified = "identified", Qualified = "qualified", Proposal = "proposal", Negotiation = "negotiation", ClosedWon = "closed_won", ClosedLost = "closed_lost" }
);
name_enum!(
    /// Where an expansion opportunity came from, for revenue attribution.
    OpportunitySource { Playbook = "playbook", Signal = "signal", Manual = "manual" }
);
name_enum!(
    /// What in an account's own data says it could buy more.
    SignalKind { HighUtilization = "high_utilization", SeatsOverLicence = "seats_over_licence", UsageGrowth = "usage_growth", UnlicensedModule = "unlicensed_module" }
);
name_enum!(
    /// How much a stakeholder weighs in the customer's decisions.
    Influence { High = "high", Medium = "medium", Low = "low" }
);
name_enum!(
    /// How a stakeholder feels about the vendor.
    Sentiment { Advocate = "advocate", Supporter = "supporter", Neutral = "neutral", Skeptic = "skeptic", Detractor = "detractor" }
);
name_enum!(
    /// A part on the cross-functional account team inside the company.
    TeamRole { Csm = "csm", Am = "am", SolutionsEngineer = "solutions_engineer", SupportLead = "support_lead", ExecutiveSponsor = "executive_sponsor" }
);
name_enum!(MilestoneStatus { Planned = "planned", InProgress = "in_progress", Done = "done", Missed = "missed" });
name_enum!(ObjectiveStatus { Open = "open", Achieved = "achieved", Dropped = "dropped" });

impl OpportunityStage {
    /// Neither won nor lost yet.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            OpportunityStage::ClosedWon | OpportunityStage::ClosedLost
        )
    }
}

impl TaskStatus {
    /// Still to be done.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TaskStatus::Open | TaskStatus::InProgress | TaskStatus::Snoozed
        )
    }
}

name_enum!(
    /// What a user or API token may do (the server enforces it on every route):
    /// `admin` everything; `leader` read and write all accounts, approve; `csm` and
    /// `am` read all, write their own book of business; `viewer` read only.
    Role { Admin = "admin", Leader = "leader", Csm = "csm", Am = "am", Viewer = "viewer" }
);

impl SurveyKind {
    /// Inclusive score range of each survey: NPS 0–10, CSAT 1–5, CES 1–7.
    pub fn score_range(&self) -> (i32, i32) {
        match self {
            SurveyKind::Nps => (0, 10),
            SurveyKind::Csat => (1, 5),
            SurveyKind::Ces => (1, 7),
        }
    }

    pub fn check_score(&self, score: i32) -> Result<i32, InvalidValue> {
        let (low, high) = self.score_range();
        if (low..=high).contains(&score) {
            Ok(score)
        } else {
            Err(InvalidValue(format!(
                "{self} scores run from {low} to {high}, got {score}"
            )))
        }
    }
}

impl TicketStatus {
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            TicketStatus::New | TicketStatus::Open | TicketStatus::Pending
        )
    }
}

/// A non-empty external id, trimmed.
pub fn parse_id(text: &str) -> Result<String, InvalidValue> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(InvalidValue("must not be empty".into()));
    }
    Ok(trimmed.to_string())
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub segment: Option<String>,
    pub tier: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub csm_owner: Option<String>,
    pub am_owner: Option<String>,
    pub created_on: NaiveDate,
    pub churned_on: Option<NaiveDate>,
    pub churn_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub email: Option<String>,
    pub title: Option<String>,
    pub role: ContactRole,
    pub joined_on: Option<NaiveDate>,
    pub left_on: Option<NaiveDate>,
}

/// A subscription term. `end_date` is the last day covered (inclusive), as CRMs store
/// it; the renewal falls due on `renewal_date`, the day after the end unless set.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    pub id: String,
    pub account_id: String,
    pub product: String,
    pub seats: i64,
    pub arr: Money,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub renewal_date: NaiveDate,
    pub auto_renew: bool,
    pub notice_days: i32,
    pub status: ContractStatus,
}

impl Contract {
    /// In force on `day`: from the start through the end date, both inclusive.
    pub fn is_active_on(&self, day: NaiveDate) -> bool {
        self.start_date <= day && day <= self.end_date
    }

    /// In force on `day` and not cancelled: what the account holds that day.
    pub fn is_held_on(&self, day: NaiveDate) -> bool {
        self.status != ContractStatus::Cancelled && self.is_active_on(day)
    }
}

/// One Segment-spec call attributed to an account through its `groupId`.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageEvent {
    pub message_id: String,
    pub account_id: String,
    pub kind: EventType,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// The event name for `track`, the page or screen name, empty for identify/group.
    pub event: String,
    /// The `properties` (or `traits`) object as compact JSON text.
    pub properties: String,
    pub timestamp: DateTime<Utc>,
}

impl UsageEvent {
    /// The person behind the event: the user id, or the anonymous id before sign-in.
    pub fn user_key(&self) -> Option<&str> {
        self.user_id.as_deref().or(self.anonymous_id.as_deref())
    }
}

/// A Segment-spec call not yet tied to an account: `group_id` names the
/// account when the call carries one; otherwise its user is looked up among users
/// linked to accounts by earlier `group` calls, or by an `identify` call's email.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentCall {
    pub group_id: Option<String>,
    /// `traits.email` of an identify call, to match a contact.
    pub email: Option<String>,
    pub message_id: String,
    pub kind: EventType,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub event: String,
    pub properties: String,
    pub timestamp: DateTime<Utc>,
}

impl SegmentCall {
    /// The person behind the call: the user id, or the anonymous id before sign-in.
    pub fn user_key(&self) -> Option<&str> {
        self.user_id.as_deref().or(self.anonymous_id.as_deref())
    }

    /// The call as a usage event of `account_id`.
    pub fn into_event(self, account_id: String) -> UsageEvent {
        UsageEvent {
            message_id: self.message_id,
            account_id,
            kind: self.kind,
            user_id: self.user_id,
            anonymous_id: self.anonymous_id,
            event: self.event,
            properties: self.properties,
            timestamp: self.timestamp,
        }
    }
}

/// Usage of one account on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDaily {
    pub account_id: String,
    pub day: NaiveDate,
    /// All events of the day.
    pub events: i64,
    /// Distinct users active that day.
    pub active_users: i64,
    /// Distinct users active in the 30 days ending that day (the day included).
    pub active_users_30d: i64,
    /// Events per feature (the `track` event name) that day.
    pub feature_events: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub account_id: String,
    pub contact_id: Option<String>,
    pub subject: String,
    pub priority: TicketPriority,
    pub status: TicketStatus,
    pub created_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub solved_at: Option<DateTime<Utc>>,
    /// Satisfaction rating 1–5 given on the solved ticket.
    pub satisfaction: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SurveyResponse {
    pub id: String,
    pub account_id: String,
    pub contact_id: Option<String>,
    pub kind: SurveyKind,
    pub score: i32,
    pub comment: Option<String>,
    pub campaign: Option<String>,
    pub responded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub id: String,
    pub account_id: String,
    pub amount: Money,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub paid_on: Option<NaiveDate>,
    pub status: InvoiceStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub id: String,
    pub invoice_id: String,
    pub account_id: String,
    pub amount: Money,
    pub attempted_at: DateTime<Utc>,
    pub status: PaymentStatus,
    pub failure_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    pub account_id: String,
    pub contact_id: Option<String>,
    pub kind: ActivityKind,
    pub author: String,
    pub occurred_at: DateTime<Utc>,
    pub subject: String,
    pub body: Option<String>,
}

/// A step toward an objective of an account's success plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    pub id: String,
    pub account_id: String,
    pub objective_id: Option<String>,
    pub title: String,
    pub kind: MilestoneKind,
    pub due_on: NaiveDate,
    /// The user handle responsible.
    pub owner: Option<String>,
    pub status: MilestoneStatus,
    pub done_on: Option<NaiveDate>,
}

impl Milestone {
    /// Done by `day`, as known on `day`.
    pub fn done_by(&self, day: NaiveDate) -> bool {
        self.done_on.is_some_and(|d| d <= day)
    }

    /// Not done by `day` though due before it.
    pub fn overdue_on(&self, day: NaiveDate) -> bool {
        self.due_on < day && !self.done_by(day) && self.status != MilestoneStatus::Missed
    }
}

/// A lifecycle stage an account entered on a day.
#[derive(Debug, Clone, PartialEq)]
pub struct StageEntry {
    pub account_id: String,
    pub stage: LifecycleStage,
    pub entered_on: NaiveDate,
}

/// An objective of an account's success plan: success criteria agreed with the customer.
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub id: String,
    pub account_id: String,
    pub title: String,
    pub criteria: String,
    pub status: ObjectiveStatus,
    pub created_on: NaiveDate,
}

/// What the demo generator knew about an account and no score may read: kept only to
/// judge scores and models against the truth afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoTruth {
    pub account_id: String,
    /// The latent chance that the account churns at a renewal, 0–1.
    pub churn_propensity: f64,
    pub churned_on: Option<NaiveDate>,
}

/// The currency used by a portfolio when a new amount has none of its own.
pub const DEFAULT_CURRENCY: Currency = Currency::USD;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_parse_leniently_and_list_choices_on_error() {
        assert_eq!(
            ContactRole::parse("Executive Sponsor").unwrap(),
            ContactRole::ExecutiveSponsor
        );
        assert_eq!(
            ContactRole::parse("decision-maker").unwrap(),
            ContactRole::DecisionMaker
        );
        let error = TicketPriority::parse("critical").unwrap_err();
        assert_eq!(
            error.0,
            "\"critical\" is not one of low, normal, high, urgent"
        );
    }

    #[test]
    fn survey_scores_are_range_checked() {
        assert!(SurveyKind::Nps.check_score(0).is_ok());
        assert!(SurveyKind::Nps.check_score(11).is_err());
        assert!(SurveyKind::Csat.check_score(0).is_err());
        assert_eq!(SurveyKind::Ces.check_score(7), Ok(7));
    }

    #[test]
    fn contract_days_are_inclusive() {
        let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let contract = Contract {
            id: "c".into(),
            account_id: "a".into(),
            product: "p".into(),
            seats: 1,
            arr: Money::new(100, Currency::USD),
            start_date: day(2),
            end_date: day(10),
            renewal_date: day(11),
            auto_renew: false,
            notice_days: 30,
            status: ContractStatus::Active,
        };
        assert!(!contract.is_active_on(day(1)));
        assert!(contract.is_active_on(day(2)));
        assert!(contract.is_active_on(day(10)));
        assert!(!contract.is_active_on(day(11)));
    }
}
