//! Rows as the database returns them, and their conversion back into domain types.
//! Enumerations and currencies are stored as text and re-validated on the way out.

use chrono::{DateTime, NaiveDate, Utc};
use tend_core::*;

use crate::StoreError;

/// Parses a stored text column, naming the table and row if it is not valid.
fn parse<T, E: std::fmt::Display>(
    table: &'static str,
    id: &str,
    result: Result<T, E>,
) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Corrupt {
        table,
        id: id.to_string(),
        reason: e.to_string(),
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct AccountRow {
    id: String,
    name: String,
    parent_id: Option<String>,
    segment: Option<String>,
    tier: Option<String>,
    industry: Option<String>,
    region: Option<String>,
    lifecycle_stage: Option<String>,
    csm_owner: Option<String>,
    am_owner: Option<String>,
    created_on: NaiveDate,
    churned_on: Option<NaiveDate>,
    churn_reason: Option<String>,
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRow) -> Result<Self, StoreError> {
        let lifecycle_stage = match &r.lifecycle_stage {
            Some(stage) => Some(parse("accounts", &r.id, LifecycleStage::parse(stage))?),
            None => None,
        };
        Ok(Account {
            id: r.id,
            name: r.name,
            parent_id: r.parent_id,
            segment: r.segment,
            tier: r.tier,
            industry: r.industry,
            region: r.region,
            lifecycle_stage,
            csm_owner: r.csm_owner,
            am_owner: r.am_owner,
            created_on: r.created_on,
            churned_on: r.churned_on,
            churn_reason: r.churn_reason,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    id: String,
    account_id: String,
    name: String,
    email: Option<String>,
    title: Option<String>,
    role: String,
    joined_on: Option<NaiveDate>,
    left_on: Option<NaiveDate>,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StoreError;
    fn try_from(r: ContactRow) -> Result<Self, StoreError> {
        let role = parse("contacts", &r.id, ContactRole::parse(&r.role))?;
        Ok(Contact {
            id: r.id,
            account_id: r.account_id,
            name: r.name,
            email: r.email,
            title: r.title,
            role,
            joined_on: r.joined_on,
            left_on: r.left_on,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContractRow {
    id: String,
    account_id: String,
    product: String,
    seats: i64,
    arr_minor: i64,
    currency: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    renewal_date: NaiveDate,
    auto_renew: bool,
    notice_days: i32,
    status: String,
}

impl TryFrom<ContractRow> for Contract {
    type Error = StoreError;
    fn try_from(r: ContractRow) -> Result<Self, StoreError> {
        let currency = parse("contracts", &r.id, Currency::parse(&r.currency))?;
        let status = parse("contracts", &r.id, ContractStatus::parse(&r.status))?;
        Ok(Contract {
            id: r.id,
            account_id: r.account_id,
            product: r.product,
            seats: r.seats,
            arr: Money::new(r.arr_minor, currency),
            start_date: r.start_date,
            end_date: r.end_date,
            renewal_date: r.renewal_date,
            auto_renew: r.auto_renew,
            notice_days: r.notice_days,
            status,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UsageEventRow {
    message_id: String,
    account_id: String,
    #[sqlx(rename = "type")]
    kind: String,
    user_id: Option<String>,
    anonymous_id: Option<String>,
    event: String,
    properties: String,
    ts: DateTime<Utc>,
}

impl TryFrom<UsageEventRow> for UsageEvent {
    type Error = StoreError;
    fn try_from(r: UsageEventRow) -> Result<Self, StoreError> {
        let kind = parse("usage_events", &r.message_id, EventType::parse(&r.kind))?;
        Ok(UsageEvent {
            message_id: r.message_id,
            account_id: r.account_id,
            kind,
            user_id: r.user_id,
            anonymous_id: r.anonymous_id,
            event: r.event,
            properties: r.properties,
            timestamp: r.ts,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UsageDailyRow {
    account_id: String,
    day: NaiveDate,
    events: i64,
    active_users: i64,
    active_users_30d: i64,
    feature_events: String,
}

impl TryFrom<UsageDailyRow> for UsageDaily {
    type Error = StoreError;
    fn try_from(r: UsageDailyRow) -> Result<Self, StoreError> {
        let feature_events = match parse_feature_counts(&r.feature_events) {
            Some(map) => map,
            None => parse(
                "usage_daily",
                &format!("{}/{}", r.account_id, r.day),
                serde_json::from_str(&r.feature_events),
            )?,
        };
        Ok(UsageDaily {
            account_id: r.account_id,
            day: r.day,
            events: r.events,
            active_users: r.active_users,
            active_users_30d: r.active_users_30d,
            feature_events,
        })
    }
}

/// Reads the compact `{"feature":count,…}` text the store writes for a rollup.
/// Hand-written because a health rescore reads millions of rollups and serde_json's
/// general map parsing took a third of that read; anything else (escapes, spaces,
/// other shapes) returns `None` and goes to serde_json.
fn parse_feature_counts(text: &str) -> Option<std::collections::BTreeMap<String, i64>> {
    let mut map = std::collections::BTreeMap::new();
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    if inner.is_empty() {
        return Some(map);
    }
    for pair in inner.split(',') {
        let (key, count) = pair.rsplit_once(':')?;
        let key = key.strip_prefix('"')?.strip_suffix('"')?;
        if key.contains(['"', '\\']) {
            return None;
        }
        map.insert(key.to_string(), count.parse().ok()?);
    }
    Some(map)
}

#[derive(sqlx::FromRow)]
pub(crate) struct TicketRow {
    id: String,
    account_id: String,
    contact_id: Option<String>,
    subject: String,
    priority: String,
    status: String,
    created_at: DateTime<Utc>,
    first_response_at: Option<DateTime<Utc>>,
    solved_at: Option<DateTime<Utc>>,
    satisfaction: Option<i32>,
}

impl TryFrom<TicketRow> for Ticket {
    type Error = StoreError;
    fn try_from(r: TicketRow) -> Result<Self, StoreError> {
        let priority = parse("tickets", &r.id, TicketPriority::parse(&r.priority))?;
        let status = parse("tickets", &r.id, TicketStatus::parse(&r.status))?;
        Ok(Ticket {
            id: r.id,
            account_id: r.account_id,
            contact_id: r.contact_id,
            subject: r.subject,
            priority,
            status,
            created_at: r.created_at,
            first_response_at: r.first_response_at,
            solved_at: r.solved_at,
            satisfaction: r.satisfaction,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SurveyResponseRow {
    id: String,
    account_id: String,
    contact_id: Option<String>,
    kind: String,
    score: i32,
    comment: Option<String>,
    campaign: Option<String>,
    responded_at: DateTime<Utc>,
}

impl TryFrom<SurveyResponseRow> for SurveyResponse {
    type Error = StoreError;
    fn try_from(r: SurveyResponseRow) -> Result<Self, StoreError> {
        let kind = parse("survey_responses", &r.id, SurveyKind::parse(&r.kind))?;
        Ok(SurveyResponse {
            id: r.id,
            account_id: r.account_id,
            contact_id: r.contact_id,
            kind,
            score: r.score,
            comment: r.comment,
            campaign: r.campaign,
            responded_at: r.responded_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct InvoiceRow {
    id: String,
    account_id: String,
    amount_minor: i64,
    currency: String,
    issued_on: NaiveDate,
    due_on: NaiveDate,
    paid_on: Option<NaiveDate>,
    status: String,
}

impl TryFrom<InvoiceRow> for Invoice {
    type Error = StoreError;
    fn try_from(r: InvoiceRow) -> Result<Self, StoreError> {
        let currency = parse("invoices", &r.id, Currency::parse(&r.currency))?;
        let status = parse("invoices", &r.id, InvoiceStatus::parse(&r.status))?;
        Ok(Invoice {
            id: r.id,
            account_id: r.account_id,
            amount: Money::new(r.amount_minor, currency),
            issued_on: r.issued_on,
            due_on: r.due_on,
            paid_on: r.paid_on,
            status,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PaymentRow {
    id: String,
    invoice_id: String,
    account_id: String,
    amount_minor: i64,
    currency: String,
    attempted_at: DateTime<Utc>,
    status: String,
    failure_reason: Option<String>,
}

impl TryFrom<PaymentRow> for Payment {
    type Error = StoreError;
    fn try_from(r: PaymentRow) -> Result<Self, StoreError> {
        let currency = parse("payments", &r.id, Currency::parse(&r.currency))?;
        let status = parse("payments", &r.id, PaymentStatus::parse(&r.status))?;
        Ok(Payment {
            id: r.id,
            invoice_id: r.invoice_id,
            account_id: r.account_id,
            amount: Money::new(r.amount_minor, currency),
            attempted_at: r.attempted_at,
            status,
            failure_reason: r.failure_reason,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ActivityRow {
    id: String,
    account_id: String,
    contact_id: Option<String>,
    kind: String,
    author: String,
    occurred_at: DateTime<Utc>,
    subject: String,
    body: Option<String>,
}

impl TryFrom<ActivityRow> for Activity {
    type Error = StoreError;
    fn try_from(r: ActivityRow) -> Result<Self, StoreError> {
        let kind = parse("activities", &r.id, ActivityKind::parse(&r.kind))?;
        Ok(Activity {
            id: r.id,
            account_id: r.account_id,
            contact_id: r.contact_id,
            kind,
            author: r.author,
            occurred_at: r.occurred_at,
            subject: r.subject,
            body: r.body,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DemoTruthRow {
    account_id: String,
    churn_propensity: f64,
    churned_on: Option<NaiveDate>,
}

impl TryFrom<DemoTruthRow> for DemoTruth {
    type Error = StoreError;
    fn try_from(r: DemoTruthRow) -> Result<Self, StoreError> {
        Ok(DemoTruth {
            account_id: r.account_id,
            churn_propensity: r.churn_propensity,
            churned_on: r.churned_on,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct FxRateRow {
    currency: String,
    base: String,
    date: NaiveDate,
    rate: f64,
}

impl TryFrom<FxRateRow> for FxRate {
    type Error = StoreError;
    fn try_from(r: FxRateRow) -> Result<Self, StoreError> {
        let id = format!("{}/{}/{}", r.currency, r.base, r.date);
        Ok(FxRate {
            currency: parse("fx_rates", &id, Currency::parse(&r.currency))?,
            base: parse("fx_rates", &id, Currency::parse(&r.base))?,
            date: r.date,
            rate: r.rate,
        })
    }
}

// Column lists for reading these rows through SQLite's C API (`sqlite_read`), in
// field order.
crate::sqlite_read::from_statement!(AccountRow {
    id,
    name,
    parent_id,
    segment,
    tier,
    industry,
    region,
    lifecycle_stage,
    csm_owner,
    am_owner,
    created_on,
    churned_on,
    churn_reason
});
crate::sqlite_read::from_statement!(ContactRow {
    id,
    account_id,
    name,
    email,
    title,
    role,
    joined_on,
    left_on
});
crate::sqlite_read::from_statement!(ContractRow {
    id,
    account_id,
    product,
    seats,
    arr_minor,
    currency,
    start_date,
    end_date,
    renewal_date,
    auto_renew,
    notice_days,
    status
});
crate::sqlite_read::from_statement!(UsageDailyRow {
    account_id,
    day,
    events,
    active_users,
    active_users_30d,
    feature_events
});
crate::sqlite_read::from_statement!(TicketRow {
    id,
    account_id,
    contact_id,
    subject,
    priority,
    status,
    created_at,
    first_response_at,
    solved_at,
    satisfaction
});
crate::sqlite_read::from_statement!(SurveyResponseRow {
    id,
    account_id,
    contact_id,
    kind,
    score,
    comment,
    campaign,
    responded_at
});
crate::sqlite_read::from_statement!(InvoiceRow {
    id,
    account_id,
    amount_minor,
    currency,
    issued_on,
    due_on,
    paid_on,
    status
});
crate::sqlite_read::from_statement!(PaymentRow {
    id,
    invoice_id,
    account_id,
    amount_minor,
    currency,
    attempted_at,
    status,
    failure_reason
});
crate::sqlite_read::from_statement!(ActivityRow {
    id,
    account_id,
    contact_id,
    kind,
    author,
    occurred_at,
    subject,
    body
});

#[cfg(test)]
mod tests {
    use super::parse_feature_counts;

    #[test]
    fn feature_counts_read_as_serde_json_reads_them() {
        for text in [
            "{}",
            r#"{"dashboards":2}"#,
            r#"{"alerts":1,"reports":-3,"x,y":4}"#,
            r#"{"a\"b":1}"#,
            r#"{"a:b":1}"#,
            r#"{ "a": 1 }"#,
            r#"{"a":1.5}"#,
        ] {
            let fast = parse_feature_counts(text);
            let reference: Option<std::collections::BTreeMap<String, i64>> =
                serde_json::from_str(text).ok();
            if let Some(fast) = fast {
                assert_eq!(Some(fast), reference, "{text}");
            }
        }
        assert!(parse_feature_counts(r#"{"a\"b":1}"#).is_none());
        assert_eq!(parse_feature_counts(r#"{"a":1,"b":22}"#).unwrap().len(), 2);
    }
}
