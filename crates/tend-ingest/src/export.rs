//! The inverse of [`crate::entities`]: domain values as the text fields of an import
//! file, in the order of [`Entity::fields`], so that exporting and importing again
//! reproduces the same data.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use tend_core::*;

#[cfg(test)]
use crate::Entity;

fn text(value: &str) -> String {
    value.to_string()
}

fn optional(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn date(value: NaiveDate) -> String {
    value.format("%Y-%m-%d").to_string()
}

fn optional_date(value: Option<NaiveDate>) -> String {
    value.map(date).unwrap_or_default()
}

fn time(value: DateTime<Utc>) -> String {
    value.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn optional_time(value: Option<DateTime<Utc>>) -> String {
    value.map(time).unwrap_or_default()
}

pub fn account(a: &Account) -> Vec<String> {
    vec![
        text(&a.id),
        text(&a.name),
        date(a.created_on),
        optional(&a.parent_id),
        optional(&a.segment),
        optional(&a.tier),
        optional(&a.industry),
        optional(&a.region),
        a.lifecycle_stage
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        optional(&a.csm_owner),
        optional(&a.am_owner),
        optional_date(a.churned_on),
        optional(&a.churn_reason),
    ]
}

pub fn contact(c: &Contact) -> Vec<String> {
    vec![
        text(&c.id),
        text(&c.account_id),
        text(&c.name),
        text(c.role.as_str()),
        optional(&c.email),
        optional(&c.title),
        optional_date(c.joined_on),
        optional_date(c.left_on),
    ]
}

pub fn contract(c: &Contract) -> Vec<String> {
    vec![
        text(&c.id),
        text(&c.account_id),
        text(&c.product),
        c.seats.to_string(),
        c.arr.minor.to_string(),
        text(c.arr.currency.as_str()),
        date(c.start_date),
        date(c.end_date),
        date(c.renewal_date),
        c.auto_renew.to_string(),
        c.notice_days.to_string(),
        text(c.status.as_str()),
    ]
}

pub fn event(e: &UsageEvent) -> Vec<String> {
    vec![
        text(&e.message_id),
        text(&e.account_id),
        time(e.timestamp),
        text(e.kind.as_str()),
        optional(&e.user_id),
        optional(&e.anonymous_id),
        text(&e.event),
        text(&e.properties),
    ]
}

/// A call kept until its user is tied to an account: an event row without a group.
pub fn pending_call(c: &SegmentCall) -> Vec<String> {
    vec![
        text(&c.message_id),
        String::new(),
        time(c.timestamp),
        text(c.kind.as_str()),
        optional(&c.user_id),
        optional(&c.anonymous_id),
        text(&c.event),
        text(&c.properties),
    ]
}

pub fn usage_daily(u: &UsageDaily) -> Vec<String> {
    vec![
        text(&u.account_id),
        date(u.day),
        u.events.to_string(),
        u.active_users.to_string(),
        u.active_users_30d.to_string(),
        serde_json::to_string(&u.feature_events).expect("a map of counts serializes"),
    ]
}

pub fn ticket(t: &Ticket) -> Vec<String> {
    vec![
        text(&t.id),
        text(&t.account_id),
        text(&t.subject),
        text(t.status.as_str()),
        time(t.created_at),
        text(t.priority.as_str()),
        optional(&t.contact_id),
        optional_time(t.first_response_at),
        optional_time(t.solved_at),
        t.satisfaction.map(|s| s.to_string()).unwrap_or_default(),
    ]
}

pub fn survey_response(r: &SurveyResponse) -> Vec<String> {
    vec![
        text(&r.id),
        text(&r.account_id),
        text(r.kind.as_str()),
        r.score.to_string(),
        time(r.responded_at),
        optional(&r.contact_id),
        optional(&r.comment),
        optional(&r.campaign),
    ]
}

pub fn invoice(i: &Invoice) -> Vec<String> {
    vec![
        text(&i.id),
        text(&i.account_id),
        i.amount.minor.to_string(),
        text(i.amount.currency.as_str()),
        date(i.issued_on),
        date(i.due_on),
        text(i.status.as_str()),
        optional_date(i.paid_on),
    ]
}

pub fn payment(p: &Payment) -> Vec<String> {
    vec![
        text(&p.id),
        text(&p.invoice_id),
        text(&p.account_id),
        p.amount.minor.to_string(),
        text(p.amount.currency.as_str()),
        time(p.attempted_at),
        text(p.status.as_str()),
        optional(&p.failure_reason),
    ]
}

pub fn activity(a: &Activity) -> Vec<String> {
    vec![
        text(&a.id),
        text(&a.account_id),
        text(a.kind.as_str()),
        text(&a.author),
        time(a.occurred_at),
        text(&a.subject),
        optional(&a.contact_id),
        optional(&a.body),
    ]
}

pub fn fx_rate(r: &FxRate) -> Vec<String> {
    vec![
        r.date.to_string(),
        r.currency.to_string(),
        r.rate.to_string(),
        r.base.to_string(),
    ]
}

pub fn demo_truth(t: &DemoTruth) -> Vec<String> {
    // Rust prints the shortest text that parses back to the same f64.
    vec![
        text(&t.account_id),
        t.churn_propensity.to_string(),
        optional_date(t.churned_on),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities;
    use crate::Record;

    fn record(entity: Entity, values: Vec<String>) -> Record {
        let fields = entity.fields();
        assert_eq!(fields.len(), values.len(), "{entity:?} exports every field");
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .copied()
            .zip(values.iter().map(String::as_str))
            .collect();
        Record::from_pairs(2, &pairs)
    }

    #[test]
    fn exported_fields_parse_back_to_the_same_values() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let account = Account {
            id: "a".into(),
            name: "Acme, \"the\" company".into(),
            parent_id: Some("p".into()),
            segment: Some("smb".into()),
            tier: None,
            industry: None,
            region: Some("NA".into()),
            lifecycle_stage: Some(LifecycleStage::Mature),
            csm_owner: None,
            am_owner: Some("am".into()),
            created_on: day("2023-01-05"),
            churned_on: Some(day("2024-01-05")),
            churn_reason: Some("budget".into()),
        };
        assert_eq!(
            entities::account(&record(Entity::Accounts, super::account(&account))).unwrap(),
            account
        );

        let ticket = Ticket {
            id: "t".into(),
            account_id: "a".into(),
            contact_id: None,
            subject: "Export\nbroken".into(),
            priority: TicketPriority::High,
            status: TicketStatus::Pending,
            created_at: at("2024-01-01T10:00:00.250Z"),
            first_response_at: Some(at("2024-01-01T10:05:00Z")),
            solved_at: None,
            satisfaction: Some(2),
        };
        assert_eq!(
            entities::ticket(&record(Entity::Tickets, super::ticket(&ticket))).unwrap(),
            ticket
        );

        let usage = UsageDaily {
            account_id: "a".into(),
            day: day("2024-02-29"),
            events: 12,
            active_users: 3,
            active_users_30d: 9,
            feature_events: [("reports".to_string(), 7)].into(),
        };
        assert_eq!(
            entities::usage_daily(&record(Entity::UsageDaily, super::usage_daily(&usage))).unwrap(),
            usage
        );

        let truth = DemoTruth {
            account_id: "a".into(),
            churn_propensity: 0.1 + 0.2,
            churned_on: None,
        };
        assert_eq!(
            entities::demo_truth(&record(Entity::DemoTruth, super::demo_truth(&truth))).unwrap(),
            truth
        );

        let event = UsageEvent {
            message_id: "m".into(),
            account_id: "a".into(),
            kind: EventType::Page,
            user_id: None,
            anonymous_id: Some("anon".into()),
            event: "Pricing".into(),
            properties: r#"{"path":"/pricing"}"#.into(),
            timestamp: at("2024-01-01T00:00:00Z"),
        };
        let call = entities::event(&record(Entity::Events, super::event(&event))).unwrap();
        assert_eq!(call.group_id.as_deref(), Some("a"));
        assert_eq!(call.into_event("a".into()), event);
    }
}
