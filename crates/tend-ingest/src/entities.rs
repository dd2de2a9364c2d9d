//! The importable entities: their field lists and how a [`Record`] becomes each
//! domain value, with a precise error for every way a value can be wrong.

use chrono::{DateTime, NaiveDate, Utc};
use tend_core::*;

use crate::record::{Record, RowError};

/// What `tend import <entity>` can load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Accounts,
    Contacts,
    Contracts,
    Events,
    UsageDaily,
    Tickets,
    SurveyResponses,
    Invoices,
    Payments,
    Activities,
    Objectives,
    Milestones,
    LifecycleStages,
    FxRates,
    DemoTruth,
}

impl Entity {
    pub const ALL: &'static [Entity] = &[
        Entity::Accounts,
        Entity::Contacts,
        Entity::Contracts,
        Entity::Events,
        Entity::UsageDaily,
        Entity::Tickets,
        Entity::SurveyResponses,
        Entity::Invoices,
        Entity::Payments,
        Entity::Activities,
        Entity::Objectives,
        Entity::Milestones,
        Entity::LifecycleStages,
        Entity::FxRates,
        Entity::DemoTruth,
    ];

    /// The name used on the command line and as the export file's stem.
    pub fn name(&self) -> &'static str {
        match self {
            Entity::Accounts => "accounts",
            Entity::Contacts => "contacts",
            Entity::Contracts => "contracts",
            Entity::Events => "events",
            Entity::UsageDaily => "usage-daily",
            Entity::Tickets => "tickets",
            Entity::SurveyResponses => "survey-responses",
            Entity::Invoices => "invoices",
            Entity::Payments => "payments",
            Entity::Activities => "activities",
            Entity::Objectives => "objectives",
            Entity::Milestones => "milestones",
            Entity::LifecycleStages => "lifecycle-stages",
            Entity::FxRates => "fx-rates",
            Entity::DemoTruth => "demo-truth",
        }
    }

    pub fn parse(name: &str) -> Result<Entity, String> {
        let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
        Entity::ALL
            .iter()
            .copied()
            .find(|e| e.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Entity::ALL.iter().map(Entity::name).collect();
                format!(
                    "unknown entity {name:?}; expected one of: {}",
                    names.join(", ")
                )
            })
    }

    /// Every field (CSV column or JSON key) the entity accepts, required ones first.
    pub fn fields(&self) -> &'static [&'static str] {
        match self {
            Entity::Accounts => &[
                "id",
                "name",
                "created_on",
                "parent_id",
                "segment",
                "tier",
                "industry",
                "region",
                "lifecycle_stage",
                "csm_owner",
                "am_owner",
                "churned_on",
                "churn_reason",
            ],
            Entity::Contacts => &[
                "id",
                "account_id",
                "name",
                "role",
                "email",
                "title",
                "joined_on",
                "left_on",
            ],
            Entity::Contracts => &[
                "id",
                "account_id",
                "product",
                "seats",
                "arr_minor",
                "currency",
                "start_date",
                "end_date",
                "renewal_date",
                "auto_renew",
                "notice_days",
                "status",
            ],
            Entity::Events => &[
                "message_id",
                "group_id",
                "timestamp",
                "type",
                "user_id",
                "anonymous_id",
                "event",
                "properties",
            ],
            Entity::UsageDaily => &[
                "account_id",
                "day",
                "events",
                "active_users",
                "active_users_30d",
                "feature_events",
            ],
            Entity::Tickets => &[
                "id",
                "account_id",
                "subject",
                "status",
                "created_at",
                "priority",
                "contact_id",
                "first_response_at",
                "solved_at",
                "satisfaction",
            ],
            Entity::SurveyResponses => &[
                "id",
                "account_id",
                "kind",
                "score",
                "responded_at",
                "contact_id",
                "comment",
                "campaign",
            ],
            Entity::Invoices => &[
                "id",
                "account_id",
                "amount_minor",
                "currency",
                "issued_on",
                "due_on",
                "status",
                "paid_on",
            ],
            Entity::Payments => &[
                "id",
                "invoice_id",
                "account_id",
                "amount_minor",
                "currency",
                "attempted_at",
                "status",
                "failure_reason",
            ],
            Entity::Activities => &[
                "id",
                "account_id",
                "kind",
                "author",
                "occurred_at",
                "subject",
                "contact_id",
                "body",
            ],
            Entity::Objectives => &[
                "id",
                "account_id",
                "title",
                "created_on",
                "criteria",
                "status",
            ],
            Entity::Milestones => &[
                "id",
                "account_id",
                "title",
                "kind",
                "due_on",
                "objective_id",
                "owner",
                "status",
                "done_on",
            ],
            Entity::LifecycleStages => &["account_id", "stage", "entered_on"],
            Entity::FxRates => &["date", "currency", "rate", "base"],
            Entity::DemoTruth => &["account_id", "churn_propensity", "churned_on"],
        }
    }
}

/// Typed access to a record's fields; each failure names the field.
trait Fields {
    fn text(&self, field: &str) -> Result<String, RowError>;
    fn optional_text(&self, field: &str) -> Option<String>;
    fn id(&self, field: &str) -> Result<String, RowError>;
    fn date(&self, field: &str) -> Result<NaiveDate, RowError>;
    fn optional_date(&self, field: &str) -> Result<Option<NaiveDate>, RowError>;
    fn timestamp(&self, field: &str) -> Result<DateTime<Utc>, RowError>;
    fn optional_timestamp(&self, field: &str) -> Result<Option<DateTime<Utc>>, RowError>;
    fn whole_number(&self, field: &str, min: i64) -> Result<i64, RowError>;
    fn optional_whole_number(&self, field: &str, min: i64) -> Result<Option<i64>, RowError>;
    fn flag(&self, field: &str) -> Result<Option<bool>, RowError>;
    fn choice<T>(
        &self,
        field: &str,
        parse: fn(&str) -> Result<T, InvalidValue>,
    ) -> Result<T, RowError>;
    fn optional_choice<T>(
        &self,
        field: &str,
        parse: fn(&str) -> Result<T, InvalidValue>,
    ) -> Result<Option<T>, RowError>;
    fn currency(&self, field: &str) -> Result<Currency, RowError>;
}

impl Fields for Record {
    fn text(&self, field: &str) -> Result<String, RowError> {
        self.get(field)
            .map(str::to_string)
            .ok_or_else(|| self.error(field, "is required"))
    }

    fn optional_text(&self, field: &str) -> Option<String> {
        self.get(field).map(str::to_string)
    }

    fn id(&self, field: &str) -> Result<String, RowError> {
        parse_id(&self.text(field)?).map_err(|e| self.error(field, e.0))
    }

    fn date(&self, field: &str) -> Result<NaiveDate, RowError> {
        self.optional_date(field)?
            .ok_or_else(|| self.error(field, "is required"))
    }

    fn optional_date(&self, field: &str) -> Result<Option<NaiveDate>, RowError> {
        let Some(text) = self.get(field) else {
            return Ok(None);
        };
        parse_date(text)
            .map(Some)
            .map_err(|reason| self.error(field, reason))
    }

    fn timestamp(&self, field: &str) -> Result<DateTime<Utc>, RowError> {
        self.optional_timestamp(field)?
            .ok_or_else(|| self.error(field, "is required"))
    }

    fn optional_timestamp(&self, field: &str) -> Result<Option<DateTime<Utc>>, RowError> {
        let Some(text) = self.get(field) else {
            return Ok(None);
        };
        parse_timestamp(text)
            .map(Some)
            .map_err(|reason| self.error(field, reason))
    }

    fn whole_number(&self, field: &str, min: i64) -> Result<i64, RowError> {
        self.optional_whole_number(field, min)?
            .ok_or_else(|| self.error(field, "is required"))
    }

    fn optional_whole_number(&self, field: &str, min: i64) -> Result<Option<i64>, RowError> {
        let Some(text) = self.get(field) else {
            return Ok(None);
        };
        let number: i64 = text
            .parse()
            .map_err(|_| self.error(field, format!("must be a whole number, got {text:?}")))?;
        if number < min {
            return Err(self.error(field, format!("must be at least {min}, got {number}")));
        }
        Ok(Some(number))
    }

    fn flag(&self, field: &str) -> Result<Option<bool>, RowError> {
        let Some(text) = self.get(field) else {
            return Ok(None);
        };
        match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Some(true)),
            "false" | "no" | "0" => Ok(Some(false)),
            _ => Err(self.error(field, format!("must be true or false, got {text:?}"))),
        }
    }

    fn choice<T>(
        &self,
        field: &str,
        parse: fn(&str) -> Result<T, InvalidValue>,
    ) -> Result<T, RowError> {
        self.optional_choice(field, parse)?
            .ok_or_else(|| self.error(field, "is required"))
    }

    fn optional_choice<T>(
        &self,
        field: &str,
        parse: fn(&str) -> Result<T, InvalidValue>,
    ) -> Result<Option<T>, RowError> {
        let Some(text) = self.get(field) else {
            return Ok(None);
        };
        parse(text).map(Some).map_err(|e| self.error(field, e.0))
    }

    fn currency(&self, field: &str) -> Result<Currency, RowError> {
        Currency::parse(&self.text(field)?).map_err(|e| self.error(field, e.to_string()))
    }
}

/// `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("must be a date as YYYY-MM-DD, got {text:?}"))
}

/// RFC 3339 with an offset (`2024-03-01T09:30:00Z`), converted to UTC.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        format!("must be an RFC 3339 time with a UTC offset such as 2024-03-01T09:30:00Z, got {text:?}")
    })
}

fn not_before<T: PartialOrd + std::fmt::Display>(
    record: &Record,
    field: &str,
    value: Option<T>,
    earlier_field: &str,
    earlier: T,
) -> Result<(), RowError> {
    match value {
        Some(value) if value < earlier => Err(record.error(
            field,
            format!("{value} is before {earlier_field} {earlier}"),
        )),
        _ => Ok(()),
    }
}

pub fn account(r: &Record) -> Result<Account, RowError> {
    let created_on = r.date("created_on")?;
    let churned_on = r.optional_date("churned_on")?;
    not_before(r, "churned_on", churned_on, "created_on", created_on)?;
    let id = r.id("id")?;
    let parent_id = r.optional_text("parent_id");
    if parent_id.as_deref() == Some(id.as_str()) {
        return Err(r.error("parent_id", "an account cannot be its own parent"));
    }
    Ok(Account {
        id,
        name: r.text("name")?,
        parent_id,
        segment: r.optional_text("segment"),
        tier: r.optional_text("tier"),
        industry: r.optional_text("industry"),
        region: r.optional_text("region"),
        lifecycle_stage: r.optional_choice("lifecycle_stage", LifecycleStage::parse)?,
        csm_owner: r.optional_text("csm_owner"),
        am_owner: r.optional_text("am_owner"),
        created_on,
        churned_on,
        churn_reason: r.optional_text("churn_reason"),
    })
}

pub fn contact(r: &Record) -> Result<Contact, RowError> {
    let joined_on = r.optional_date("joined_on")?;
    let left_on = r.optional_date("left_on")?;
    if let Some(joined) = joined_on {
        not_before(r, "left_on", left_on, "joined_on", joined)?;
    }
    Ok(Contact {
        id: r.id("id")?,
        account_id: r.id("account_id")?,
        name: r.text("name")?,
        email: r.optional_text("email"),
        title: r.optional_text("title"),
        role: r.choice("role", ContactRole::parse)?,
        joined_on,
        left_on,
    })
}

pub fn contract(r: &Record) -> Result<Contract, RowError> {
    let start_date = r.date("start_date")?;
    let end_date = r.date("end_date")?;
    not_before(r, "end_date", Some(end_date), "start_date", start_date)?;
    let renewal_date = match r.optional_date("renewal_date")? {
        Some(date) => date,
        None => end_date
            .succ_opt()
            .ok_or_else(|| r.error("end_date", "is too far in the future"))?,
    };
    let notice_days = r.optional_whole_number("notice_days", 0)?.unwrap_or(0);
    Ok(Contract {
        id: r.id("id")?,
        account_id: r.id("account_id")?,
        product: r.text("product")?,
        seats: r.whole_number("seats", 0)?,
        arr: Money::new(r.whole_number("arr_minor", 0)?, r.currency("currency")?),
        start_date,
        end_date,
        renewal_date,
        auto_renew: r.flag("auto_renew")?.unwrap_or(false),
        notice_days: i32::try_from(notice_days)
            .map_err(|_| r.error("notice_days", "is too large"))?,
        status: r
            .optional_choice("status", ContractStatus::parse)?
            .unwrap_or(ContractStatus::Active),
    })
}

pub fn usage_daily(r: &Record) -> Result<UsageDaily, RowError> {
    let feature_events = match r.get("feature_events") {
        None => Default::default(),
        Some(text) => serde_json::from_str(text).map_err(|_| {
            r.error(
                "feature_events",
                "must be a JSON object of feature names to whole counts",
            )
        })?,
    };
    let active_users = r.whole_number("active_users", 0)?;
    let active_users_30d = r.whole_number("active_users_30d", 0)?;
    if active_users_30d < active_users {
        return Err(r.error(
            "active_users_30d",
            format!("{active_users_30d} is less than the day's active_users {active_users}"),
        ));
    }
    Ok(UsageDaily {
        account_id: r.id("account_id")?,
        day: r.date("day")?,
        events: r.whole_number("events", 0)?,
        active_users,
        active_users_30d,
        feature_events,
    })
}

pub fn ticket(r: &Record) -> Result<Ticket, RowError> {
    let created_at = r.timestamp("created_at")?;
    let first_response_at = r.optional_timestamp("first_response_at")?;
    let solved_at = r.optional_timestamp("solved_at")?;
    not_before(
        r,
        "first_response_at",
        first_response_at,
        "created_at",
        created_at,
    )?;
    not_before(r, "solved_at", solved_at, "created_at", created_at)?;
    let satisfaction = match r.optional_whole_number("satisfaction", 1)? {
        Some(score) if score > 5 => {
            return Err(r.error("satisfaction", format!("must be from 1 to 5, got {score}")))
        }
        other => other.map(|s| s as i32),
    };
    Ok(Ticket {
        id: r.id("id")?,
        account_id: r.id("account_id")?,
        contact_id: r.optional_text("contact_id"),
        subject: r.text("subject")?,
        priority: r
            .optional_choice("priority", TicketPriority::parse)?
            .unwrap_or(TicketPriority::Normal),
        status: r.choice("status", TicketStatus::parse)?,
        created_at,
        first_response_at,
        solved_at,
        satisfaction,
    })
}

pub fn survey_response(r: &Record) -> Result<SurveyResponse, RowError> {
    let kind = r.choice("kind", SurveyKind::parse)?;
    let score = r.whole_number("score", i64::MIN)?;
    let score = i32::try_from(score)
        .map_err(|_| InvalidValue(format!("{score} is out of range")))
        .and_then(|s| kind.check_score(s))
        .map_err(|e| r.error("score", e.0))?;
    Ok(SurveyResponse {
        id: r.id("id")?,
        account_id: r.id("account_id")?,
        contact_id: r.optional_text("contact_id"),
        kind,
        score,
        comment: r.optional_text("comment"),
        campaign: r.optional_text("campaign"),
        responded_at: r.timestamp("responded_at")?,
    })
}

pub fn invoice(r: &Record) -> Result<Invoice, RowError> {
    let issued_on = r.date("issued_on")?;
    let due_on = r.date("due_on")?;
    not_before(r, "due_on", Some(due_on), "issued_on", issued_on)?;
    Ok(Invoice {
        id: r.id("id")?,
        account_id: r.id("account_id")?,
        amount: Money::new(r.whole_number("amount_minor", 0)?, r.currency("currency")?),
        issued_on,
        due_on,
        paid_on: r.optional_date("paid_on")?,
        status: r.choice("status", InvoiceStatus::parse)?,
    })
}

pub fn payment(r: &Record) -> Result<Payment, RowError> {
    Ok(Payment {
        id: r.id("id")?,
        invoice_id: r.id("invoice_id")?,
        account_id: r.id("account_id")?,
        amount: Money::new(r.whole_number("amount_minor", 0)?, r.currency("currency")?),
        attempted_at: r.timestamp("attempted_at")?,
        status: r.choice("status", PaymentStatus::parse)?,
        failure_reason: r.optional_text("failure_reason"),
    })
}

pub fn activity(r: &Record) -> Result<Activity, RowError> {
    Ok(Activity {
        id: r.id("id")?,
        account_id: r.id("account_id")?,
        contact_id: r.optional_text("contact_id"),
        kind: r.choice("kind", ActivityKind::parse)?,
        author: r.text("author")?,
        occurred_at: r.timestamp("occurred_at")?,
        subject: r.text("subject")?,
        body: r.optional_text("body"),
    })
}

pub fn objective(r: &Record) -> Result<Objective, RowError> {
    Ok(Objective {
        id: r.id("id")?,
        account_id: r.id("account_id")?,
        title: r.text("title")?,
        criteria: r.optional_text("criteria").unwrap_or_default(),
        status: match r.optional_text("status") {
            Some(_) => r.choice("status", ObjectiveStatus::parse)?,
            None => ObjectiveStatus::Open,
        },
        created_on: r.date("created_on")?,
    })
}

/// A milestone; its status defaults to `done` with a done day, else `planned`. A
/// done milestone needs its done day (time to value reads it).
pub fn milestone(r: &Record) -> Result<Milestone, RowError> {
    let done_on = r.optional_date("done_on")?;
    let status = match r.optional_text("status") {
        Some(_) => r.choice("status", MilestoneStatus::parse)?,
        None if done_on.is_some() => MilestoneStatus::Done,
        None => MilestoneStatus::Planned,
    };
    if status == MilestoneStatus::Done && done_on.is_none() {
        return Err(r.error("done_on", "a done milestone needs the day it was done"));
    }
    Ok(Milestone {
        id: r.id("id")?,
        account_id: r.id("account_id")?,
        objective_id: r.optional_text("objective_id"),
        title: r.text("title")?,
        kind: r.choice("kind", MilestoneKind::parse)?,
        due_on: r.date("due_on")?,
        owner: r.optional_text("owner"),
        status,
        done_on,
    })
}

pub fn lifecycle_stage(r: &Record) -> Result<StageEntry, RowError> {
    Ok(StageEntry {
        account_id: r.id("account_id")?,
        stage: r.choice("stage", LifecycleStage::parse)?,
        entered_on: r.date("entered_on")?,
    })
}

pub fn demo_truth(r: &Record) -> Result<DemoTruth, RowError> {
    let text = r.text("churn_propensity")?;
    let churn_propensity: f64 = text
        .parse()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| {
            r.error(
                "churn_propensity",
                format!("must be a number from 0 to 1, got {text:?}"),
            )
        })?;
    Ok(DemoTruth {
        account_id: r.id("account_id")?,
        churn_propensity,
        churned_on: r.optional_date("churned_on")?,
    })
}

/// An exchange rate as a file gives it: without a `base`, the rate is against the
/// reporting currency, which the importer supplies.
#[derive(Debug, Clone, PartialEq)]
pub struct FxRateRow {
    pub date: NaiveDate,
    pub currency: Currency,
    pub base: Option<Currency>,
    pub rate: f64,
}

impl FxRateRow {
    pub fn with_base(&self, base: Currency) -> FxRate {
        FxRate {
            date: self.date,
            currency: self.currency,
            base: self.base.unwrap_or(base),
            rate: self.rate,
        }
    }
}

pub fn fx_rate(r: &Record) -> Result<FxRateRow, RowError> {
    let text = r.text("rate")?;
    let rate: f64 = text
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v > 0.0)
        .ok_or_else(|| r.error("rate", format!("must be a number above 0, got {text:?}")))?;
    let currency = r.currency("currency")?;
    let base = match r.get("base") {
        Some(_) => Some(r.currency("base")?),
        None => None,
    };
    if base == Some(currency) {
        return Err(r.error("base", format!("{currency} cannot be priced in itself")));
    }
    Ok(FxRateRow {
        date: r.date("date")?,
        currency,
        base,
        rate,
    })
}

/// An event row of a CSV file (the JSON Lines form is read by [`crate::segment`]).
pub fn event(r: &Record) -> Result<crate::segment::SegmentCall, RowError> {
    let properties = match r.get("properties") {
        None => "{}".to_string(),
        Some(text) => {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|_| r.error("properties", "must be a JSON object"))?;
            if !value.is_object() {
                return Err(r.error("properties", "must be a JSON object"));
            }
            value.to_string()
        }
    };
    let call = crate::segment::Call {
        message_id: r.get("message_id"),
        kind: r.get("type"),
        user_id: r.get("user_id"),
        anonymous_id: r.get("anonymous_id"),
        group_id: r.get("group_id"),
        event: r.get("event"),
        timestamp: r.get("timestamp"),
    };
    call.into_call(properties, crate::segment::FieldNames::Csv)
        .map_err(|(field, reason)| r.error(field, reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pairs: &[(&str, &str)]) -> Record {
        Record::from_pairs(7, pairs)
    }

    const CONTRACT: &[(&str, &str)] = &[
        ("id", "k1"),
        ("account_id", "acme"),
        ("product", "Platform"),
        ("seats", "50"),
        ("arr_minor", "6000000"),
        ("currency", "usd"),
        ("start_date", "2024-01-01"),
        ("end_date", "2024-12-31"),
    ];

    fn with(
        base: &[(&'static str, &'static str)],
        field: &'static str,
        value: &'static str,
    ) -> Record {
        let mut pairs: Vec<(&str, &str)> =
            base.iter().copied().filter(|(f, _)| *f != field).collect();
        pairs.push((field, value));
        record(&pairs)
    }

    #[test]
    fn contract_defaults() {
        let c = contract(&record(CONTRACT)).unwrap();
        assert_eq!(c.renewal_date, NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        assert_eq!(c.arr, Money::new(6_000_000, Currency::USD));
        assert_eq!(
            (c.auto_renew, c.notice_days, c.status),
            (false, 0, ContractStatus::Active)
        );
    }

    #[test]
    fn contract_errors_name_the_field() {
        let error = |field, value| {
            contract(&with(CONTRACT, field, value))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("seats", "-3"),
            "line 7, field seats: must be at least 0, got -3"
        );
        assert_eq!(
            error("seats", "ten"),
            "line 7, field seats: must be a whole number, got \"ten\""
        );
        assert_eq!(
            error("start_date", "2024-13-01"),
            "line 7, field start_date: must be a date as YYYY-MM-DD, got \"2024-13-01\""
        );
        assert_eq!(
            error("end_date", "2023-12-31"),
            "line 7, field end_date: 2023-12-31 is before start_date 2024-01-01"
        );
        assert!(error("currency", "dollars")
            .contains("field currency: currency must be a three-letter"));
        assert_eq!(
            error("auto_renew", "maybe"),
            "line 7, field auto_renew: must be true or false, got \"maybe\""
        );
        let missing: Vec<(&str, &str)> = CONTRACT
            .iter()
            .copied()
            .filter(|(f, _)| *f != "product")
            .collect();
        assert_eq!(
            contract(&record(&missing)).unwrap_err().to_string(),
            "line 7, field product: is required"
        );
    }

    #[test]
    fn survey_scores_are_checked_against_their_kind() {
        let base = [
            ("id", "s"),
            ("account_id", "a"),
            ("kind", "csat"),
            ("score", "6"),
            ("responded_at", "2024-01-01T00:00:00Z"),
        ];
        let error = survey_response(&record(&base)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 7, field score: csat scores run from 1 to 5, got 6"
        );
        let nps = with(&base, "kind", "NPS");
        assert_eq!(survey_response(&nps).unwrap().score, 6);
    }

    #[test]
    fn timestamps_need_an_offset_and_are_stored_in_utc() {
        let t = parse_timestamp("2024-03-01T10:30:00+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-01T09:30:00+00:00");
        assert!(parse_timestamp("2024-03-01 10:30:00")
            .unwrap_err()
            .contains("UTC offset"));
    }

    #[test]
    fn ticket_times_must_follow_creation() {
        let base = [
            ("id", "t"),
            ("account_id", "a"),
            ("subject", "s"),
            ("status", "open"),
            ("created_at", "2024-01-02T00:00:00Z"),
        ];
        assert_eq!(
            ticket(&record(&base)).unwrap().priority,
            TicketPriority::Normal
        );
        let early = with(&base, "first_response_at", "2024-01-01T00:00:00Z");
        assert!(ticket(&early)
            .unwrap_err()
            .to_string()
            .starts_with("line 7, field first_response_at: 2024-01-01"));
        let bad = with(&base, "satisfaction", "9");
        assert_eq!(
            ticket(&bad).unwrap_err().to_string(),
            "line 7, field satisfaction: must be from 1 to 5, got 9"
        );
    }

    #[test]
    fn entity_names() {
        assert_eq!(
            Entity::parse("survey_responses"),
            Ok(Entity::SurveyResponses)
        );
        assert!(Entity::parse("deals")
            .unwrap_err()
            .contains("expected one of: accounts"));
        for entity in Entity::ALL {
            assert_eq!(Entity::parse(entity.name()), Ok(*entity));
        }
    }
}
