//! The JSON the API sends and takes. Domain types stay free of HTTP concerns; each
//! is converted here into a body with a schema in the OpenAPI document.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use tend_core::access::{ApiToken, AuditEntry, Source, User};
use tend_core::health::{GroupScore, HealthScore, HealthSnapshot, MeasureScore};
use tend_core::*;
use utoipa::{IntoParams, ToSchema};

/// An amount of money: integer minor units of its currency.
#[derive(Serialize, ToSchema)]
pub struct MoneyBody {
    /// In minor units (cents for USD).
    pub minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// In major units, for display.
    pub major: f64,
}

impl From<Money> for MoneyBody {
    fn from(m: Money) -> Self {
        MoneyBody {
            minor: m.minor,
            currency: m.currency.as_str().to_string(),
            major: m.major(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AccountBody {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub segment: Option<String>,
    pub tier: Option<String>,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub lifecycle_stage: Option<&'static str>,
    pub csm_owner: Option<String>,
    pub am_owner: Option<String>,
    pub created_on: NaiveDate,
    pub churned_on: Option<NaiveDate>,
    pub churn_reason: Option<String>,
}

impl From<Account> for AccountBody {
    fn from(a: Account) -> Self {
        AccountBody {
            id: a.id,
            name: a.name,
            parent_id: a.parent_id,
            segment: a.segment,
            tier: a.tier,
            industry: a.industry,
            region: a.region,
            lifecycle_stage: a.lifecycle_stage.map(|s| s.as_str()),
            csm_owner: a.csm_owner,
            am_owner: a.am_owner,
            created_on: a.created_on,
            churned_on: a.churned_on,
            churn_reason: a.churn_reason,
        }
    }
}

/// An account in a list, with its health on the latest scored day.
#[derive(Serialize, ToSchema)]
pub struct AccountListItem {
    pub account: AccountBody,
    pub health_score: Option<f64>,
    pub health_band: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountPage {
    pub items: Vec<AccountListItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl From<tend_engine::views::Page<tend_store::AccountListing>> for AccountPage {
    fn from(page: tend_engine::views::Page<tend_store::AccountListing>) -> Self {
        AccountPage {
            items: page
                .items
                .into_iter()
                .map(|row| AccountListItem {
                    account: row.account.into(),
                    health_score: row.health_score,
                    health_band: row.health_band,
                })
                .collect(),
            next_cursor: page.next_cursor,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ContactBody {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub email: Option<String>,
    pub title: Option<String>,
    pub role: &'static str,
    pub joined_on: Option<NaiveDate>,
    pub left_on: Option<NaiveDate>,
}

impl From<Contact> for ContactBody {
    fn from(c: Contact) -> Self {
        ContactBody {
            id: c.id,
            account_id: c.account_id,
            name: c.name,
            email: c.email,
            title: c.title,
            role: c.role.as_str(),
            joined_on: c.joined_on,
            left_on: c.left_on,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ContractBody {
    pub id: String,
    pub account_id: String,
    pub product: String,
    pub seats: i64,
    pub arr: MoneyBody,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub renewal_date: NaiveDate,
    pub auto_renew: bool,
    pub notice_days: i32,
    pub status: &'static str,
}

impl From<Contract> for ContractBody {
    fn from(c: Contract) -> Self {
        ContractBody {
            id: c.id,
            account_id: c.account_id,
            product: c.product,
            seats: c.seats,
            arr: c.arr.into(),
            start_date: c.start_date,
            end_date: c.end_date,
            renewal_date: c.renewal_date,
            auto_renew: c.auto_renew,
            notice_days: c.notice_days,
            status: c.status.as_str(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TicketBody {
    pub id: String,
    pub account_id: String,
    pub contact_id: Option<String>,
    pub subject: String,
    pub priority: &'static str,
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub solved_at: Option<DateTime<Utc>>,
    pub satisfaction: Option<i32>,
}

impl From<Ticket> for TicketBody {
    fn from(t: Ticket) -> Self {
        TicketBody {
            id: t.id,
            account_id: t.account_id,
            contact_id: t.contact_id,
            subject: t.subject,
            priority: t.priority.as_str(),
            status: t.status.as_str(),
            created_at: t.created_at,
            first_response_at: t.first_response_at,
            solved_at: t.solved_at,
            satisfaction: t.satisfaction,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SurveyResponseBody {
    pub id: String,
    pub account_id: String,
    pub contact_id: Option<String>,
    pub kind: &'static str,
    pub score: i32,
    pub comment: Option<String>,
    pub campaign: Option<String>,
    pub responded_at: DateTime<Utc>,
}

impl From<SurveyResponse> for SurveyResponseBody {
    fn from(s: SurveyResponse) -> Self {
        SurveyResponseBody {
            id: s.id,
            account_id: s.account_id,
            contact_id: s.contact_id,
            kind: s.kind.as_str(),
            score: s.score,
            comment: s.comment,
            campaign: s.campaign,
            responded_at: s.responded_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InvoiceBody {
    pub id: String,
    pub account_id: String,
    pub amount: MoneyBody,
    pub issued_on: NaiveDate,
    pub due_on: NaiveDate,
    pub paid_on: Option<NaiveDate>,
    pub status: &'static str,
}

impl From<Invoice> for InvoiceBody {
    fn from(i: Invoice) -> Self {
        InvoiceBody {
            id: i.id,
            account_id: i.account_id,
            amount: i.amount.into(),
            issued_on: i.issued_on,
            due_on: i.due_on,
            paid_on: i.paid_on,
            status: i.status.as_str(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PaymentBody {
    pub id: String,
    pub invoice_id: String,
    pub account_id: String,
    pub amount: MoneyBody,
    pub attempted_at: DateTime<Utc>,
    pub status: &'static str,
    pub failure_reason: Option<String>,
}

impl From<Payment> for PaymentBody {
    fn from(p: Payment) -> Self {
        PaymentBody {
            id: p.id,
            invoice_id: p.invoice_id,
            account_id: p.account_id,
            amount: p.amount.into(),
            attempted_at: p.attempted_at,
            status: p.status.as_str(),
            failure_reason: p.failure_reason,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ActivityBody {
    pub id: String,
    pub account_id: String,
    pub contact_id: Option<String>,
    pub kind: &'static str,
    pub author: String,
    pub occurred_at: DateTime<Utc>,
    pub subject: String,
    pub body: Option<String>,
}

impl From<Activity> for ActivityBody {
    fn from(a: Activity) -> Self {
        ActivityBody {
            id: a.id,
            account_id: a.account_id,
            contact_id: a.contact_id,
            kind: a.kind.as_str(),
            author: a.author,
            occurred_at: a.occurred_at,
            subject: a.subject,
            body: a.body,
        }
    }
}

/// A page of records of one kind.
#[derive(Serialize, ToSchema)]
pub struct RecordPage<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MeasureScoreBody {
    pub group: String,
    pub measure: String,
    /// The measured value, before scoring; absent without data.
    pub raw: Option<f64>,
    /// 0–100; absent when the measure could not be scored.
    pub score: Option<f64>,
    pub weight: f64,
    /// Points of the overall score this measure gave.
    pub contribution: f64,
}

impl From<MeasureScore> for MeasureScoreBody {
    fn from(m: MeasureScore) -> Self {
        MeasureScoreBody {
            group: m.group,
            measure: m.measure,
            raw: m.raw,
            score: m.score,
            weight: m.weight,
            contribution: m.contribution,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct GroupScoreBody {
    pub name: String,
    pub score: Option<f64>,
    pub weight: f64,
}

impl From<GroupScore> for GroupScoreBody {
    fn from(g: GroupScore) -> Self {
        GroupScoreBody {
            name: g.name,
            score: g.score,
            weight: g.weight,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HealthScoreBody {
    pub scorecard: String,
    /// 0–100; absent when nothing could be scored.
    pub score: Option<f64>,
    pub band: String,
    pub groups: Vec<GroupScoreBody>,
    pub measures: Vec<MeasureScoreBody>,
}

impl From<HealthScore> for HealthScoreBody {
    fn from(s: HealthScore) -> Self {
        HealthScoreBody {
            scorecard: s.scorecard,
            score: s.overall,
            band: s.band,
            groups: s.groups.into_iter().map(Into::into).collect(),
            measures: s.measures.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SnapshotBody {
    pub account_id: String,
    pub day: NaiveDate,
    pub health: HealthScoreBody,
}

impl From<HealthSnapshot> for SnapshotBody {
    fn from(s: HealthSnapshot) -> Self {
        SnapshotBody {
            account_id: s.account_id,
            day: s.day,
            health: s.score.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeasureChangeBody {
    pub measure: String,
    pub group: String,
    pub now: MeasureScoreBody,
    pub before: MeasureScoreBody,
    /// Change of the measure's contribution, in points of the overall score.
    pub points: f64,
    /// What changed, in words.
    pub words: Option<String>,
}

/// Why an account scores as it does on a day, against 30 days earlier.
#[derive(Serialize, ToSchema)]
pub struct ExplanationBody {
    pub day: NaiveDate,
    pub earlier: NaiveDate,
    pub now: HealthScoreBody,
    pub before: HealthScoreBody,
    /// Largest change first.
    pub measures: Vec<MeasureChangeBody>,
}

impl From<tend_core::health::Explanation> for ExplanationBody {
    fn from(e: tend_core::health::Explanation) -> Self {
        ExplanationBody {
            day: e.day,
            earlier: e.earlier,
            now: e.now.into(),
            before: e.before.into(),
            measures: e
                .measures
                .into_iter()
                .map(|m| MeasureChangeBody {
                    measure: m.now.measure.clone(),
                    group: m.now.group.clone(),
                    now: m.now.into(),
                    before: m.before.into(),
                    points: m.points,
                    words: m.words,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ExplainBody {
    pub account: AccountBody,
    pub explanation: ExplanationBody,
}

/// One account's whole picture.
#[derive(Serialize, ToSchema)]
pub struct AccountViewBody {
    pub account: AccountBody,
    /// The day the picture is of.
    pub as_of: NaiveDate,
    /// ARR in force on `as_of`, per currency.
    pub arr: Vec<MoneyBody>,
    pub contacts: Vec<ContactBody>,
    pub contracts: Vec<ContractBody>,
    /// The latest health snapshot on or before `as_of`.
    pub health: Option<SnapshotBody>,
    pub explanation: Option<ExplanationBody>,
    pub open_tickets: Vec<TicketBody>,
    pub latest_survey_responses: Vec<SurveyResponseBody>,
    pub recent_activities: Vec<ActivityBody>,
}

impl From<tend_engine::views::accounts::AccountView> for AccountViewBody {
    fn from(v: tend_engine::views::accounts::AccountView) -> Self {
        AccountViewBody {
            account: v.account.into(),
            as_of: v.as_of,
            arr: v.arr.into_iter().map(Into::into).collect(),
            contacts: v.contacts.into_iter().map(Into::into).collect(),
            contracts: v.contracts.into_iter().map(Into::into).collect(),
            health: v.health.map(Into::into),
            explanation: v.explanation.map(Into::into),
            open_tickets: v.open_tickets.into_iter().map(Into::into).collect(),
            latest_survey_responses: v
                .latest_survey_responses
                .into_iter()
                .map(Into::into)
                .collect(),
            recent_activities: v.recent_activities.into_iter().map(Into::into).collect(),
        }
    }
}

/// Reads a field that may be absent (leave as is) or null (clear it).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Account fields to change: leave a field out to keep it, send null to clear it.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub segment: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub tier: Option<Option<String>>,
    /// One of onboarding, adoption, mature, renewal, churned.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub lifecycle_stage: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub csm_owner: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub am_owner: Option<Option<String>>,
}

/// Contact fields to change.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    /// One of champion, executive_sponsor, decision_maker, billing, user.
    pub role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
}

/// An activity to log on an account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActivityBody {
    /// One of note, call, meeting, email.
    pub kind: String,
    pub subject: String,
    pub body: Option<String>,
    pub contact_id: Option<String>,
    /// When it happened (RFC 3339); now when left out.
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct TimelineEntryBody {
    pub at: DateTime<Utc>,
    /// activity, ticket, survey_response, payment, task or health_band.
    pub kind: &'static str,
    pub id: String,
    pub title: String,
    pub detail: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TimelinePage {
    /// Newest first.
    pub items: Vec<TimelineEntryBody>,
    pub next_cursor: Option<String>,
}

impl From<tend_engine::views::Page<tend_engine::views::timeline::TimelineEntry>> for TimelinePage {
    fn from(page: tend_engine::views::Page<tend_engine::views::timeline::TimelineEntry>) -> Self {
        TimelinePage {
            items: page
                .items
                .into_iter()
                .map(|e| TimelineEntryBody {
                    at: e.at,
                    kind: e.kind.as_str(),
                    id: e.id,
                    title: e.title,
                    detail: e.detail,
                })
                .collect(),
            next_cursor: page.next_cursor,
        }
    }
}

/// One row of the portfolio health table.
#[derive(Serialize, ToSchema)]
pub struct HealthRowBody {
    pub account_id: String,
    pub name: String,
    pub segment: String,
    pub owner: String,
    pub score: Option<f64>,
    pub band: String,
    pub delta_7d: Option<f64>,
    pub delta_30d: Option<f64>,
    pub delta_90d: Option<f64>,
    /// The band 30 days earlier, when it was different.
    pub band_before: Option<String>,
    /// The measure that moved the score most in 30 days.
    pub top_mover: Option<String>,
    pub top_mover_points: Option<f64>,
    pub churned_on: Option<NaiveDate>,
}

impl From<tend_engine::health::HealthRow> for HealthRowBody {
    fn from(r: tend_engine::health::HealthRow) -> Self {
        let (top_mover, top_mover_points) = match r.top_mover {
            Some((name, points)) => (Some(name), Some(points)),
            None => (None, None),
        };
        HealthRowBody {
            account_id: r.account_id,
            name: r.name,
            segment: r.segment,
            owner: r.owner,
            score: r.score,
            band: r.band,
            delta_7d: r.deltas[0],
            delta_30d: r.deltas[1],
            delta_90d: r.deltas[2],
            band_before: r.band_before,
            top_mover,
            top_mover_points,
            churned_on: r.churned_on,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HealthPage {
    pub day: NaiveDate,
    /// Lowest score first.
    pub items: Vec<HealthRowBody>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryDayBody {
    pub day: NaiveDate,
    pub score: Option<f64>,
    pub band: String,
    pub delta_previous: Option<f64>,
    pub delta_7d: Option<f64>,
    pub delta_30d: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct HealthHistoryBody {
    pub account_id: String,
    pub days: Vec<HistoryDayBody>,
}

#[derive(Serialize, ToSchema)]
pub struct ResponseTimesBody {
    pub answered: usize,
    pub unanswered: usize,
    pub median_minutes: f64,
    pub p90_minutes: f64,
}

impl From<tend_core::metrics::ResponseTimes> for ResponseTimesBody {
    fn from(r: tend_core::metrics::ResponseTimes) -> Self {
        ResponseTimesBody {
            answered: r.answered,
            unanswered: r.unanswered,
            median_minutes: r.median_minutes,
            p90_minutes: r.p90_minutes,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RetentionBody {
    pub cohort_accounts: usize,
    pub churned_accounts: usize,
    pub starting_arr_minor: i64,
    pub churned_arr_minor: i64,
    pub contraction_arr_minor: i64,
    pub expansion_arr_minor: i64,
    /// Gross revenue retention, %.
    pub grr: Option<f64>,
    /// Net revenue retention, %.
    pub nrr: Option<f64>,
    pub gross_revenue_churn: Option<f64>,
    pub logo_churn_rate: Option<f64>,
    /// Amounts left out for want of an exchange rate.
    pub left_out: Vec<MoneyBody>,
}

impl From<tend_core::metrics::Retention> for RetentionBody {
    fn from(r: tend_core::metrics::Retention) -> Self {
        RetentionBody {
            grr: r.grr(),
            nrr: r.nrr(),
            gross_revenue_churn: r.gross_revenue_churn(),
            logo_churn_rate: r.logo_churn_rate(),
            cohort_accounts: r.cohort_accounts,
            churned_accounts: r.churned_accounts,
            starting_arr_minor: r.starting_arr,
            churned_arr_minor: r.churned_arr,
            contraction_arr_minor: r.contraction_arr,
            expansion_arr_minor: r.expansion_arr,
            left_out: r.left_out.amounts().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RenewalsBody {
    pub due: usize,
    pub won: usize,
    pub due_arr_minor: i64,
    pub won_arr_minor: i64,
    pub rate_by_count: Option<f64>,
    pub rate_by_arr: Option<f64>,
    pub left_out: Vec<MoneyBody>,
}

impl From<tend_core::metrics::Renewals> for RenewalsBody {
    fn from(r: tend_core::metrics::Renewals) -> Self {
        RenewalsBody {
            rate_by_count: r.rate_by_count(),
            rate_by_arr: r.rate_by_arr(),
            due: r.due,
            won: r.won,
            due_arr_minor: r.due_arr,
            won_arr_minor: r.won_arr,
            left_out: r.left_out.amounts().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PeriodBody {
    pub start: NaiveDate,
    /// The first day after the period.
    pub end: NaiveDate,
}

impl From<Period> for PeriodBody {
    fn from(p: Period) -> Self {
        PeriodBody {
            start: p.start,
            end: p.end,
        }
    }
}

/// Every metric of the product brief over a period.
#[derive(Serialize, ToSchema)]
pub struct MetricsBody {
    pub period: PeriodBody,
    pub currency: String,
    pub accounts: usize,
    pub active_accounts: usize,
    pub arr: MoneyBody,
    pub arr_left_out: Vec<MoneyBody>,
    pub retention: RetentionBody,
    pub renewals: RenewalsBody,
    pub nps: Option<f64>,
    pub nps_responses: usize,
    pub csat: Option<f64>,
    pub csat_responses: usize,
    pub ces: Option<f64>,
    pub ces_responses: usize,
    pub first_response: Option<ResponseTimesBody>,
}

impl From<tend_engine::views::metrics::PeriodMetrics> for MetricsBody {
    fn from(m: tend_engine::views::metrics::PeriodMetrics) -> Self {
        MetricsBody {
            period: m.period.into(),
            currency: m.currency.as_str().to_string(),
            accounts: m.accounts,
            active_accounts: m.active_accounts,
            arr: m.arr.into(),
            arr_left_out: m.arr_left_out.amounts().map(Into::into).collect(),
            retention: m.retention.into(),
            renewals: m.renewals.into(),
            nps: m.nps,
            nps_responses: m.nps_responses,
            csat: m.csat,
            csat_responses: m.csat_responses,
            ces: m.ces,
            ces_responses: m.ces_responses,
            first_response: m.response_times.map(Into::into),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SegmentLineBody {
    pub segment: String,
    pub accounts: usize,
    pub arr: MoneyBody,
}

#[derive(Serialize, ToSchema)]
pub struct TargetCheckBody {
    pub name: &'static str,
    pub value: Option<f64>,
    pub target: String,
    pub met: Option<bool>,
}

/// The portfolio summary, as `tend summary` shows it.
#[derive(Serialize, ToSchema)]
pub struct SummaryBody {
    pub as_of: NaiveDate,
    pub currency: String,
    pub active_accounts: usize,
    pub total_arr: MoneyBody,
    pub arr_left_out: Vec<MoneyBody>,
    pub by_currency: Vec<MoneyBody>,
    pub segments: Vec<SegmentLineBody>,
    pub year: PeriodBody,
    pub retention: RetentionBody,
    pub renewals: RenewalsBody,
    pub quarter: PeriodBody,
    pub nps: Option<f64>,
    pub nps_responses: usize,
    pub csat: Option<f64>,
    pub csat_responses: usize,
    pub first_response: Option<ResponseTimesBody>,
    pub checks: Vec<TargetCheckBody>,
}

impl From<tend_core::summary::PortfolioSummary> for SummaryBody {
    fn from(s: tend_core::summary::PortfolioSummary) -> Self {
        SummaryBody {
            as_of: s.as_of,
            currency: s.currency.as_str().to_string(),
            active_accounts: s.active_accounts,
            total_arr: s.total_arr.into(),
            arr_left_out: s.arr_left_out.amounts().map(Into::into).collect(),
            by_currency: s.by_currency.into_iter().map(Into::into).collect(),
            segments: s
                .segments
                .into_iter()
                .map(|l| SegmentLineBody {
                    segment: l.segment,
                    accounts: l.accounts,
                    arr: l.arr.into(),
                })
                .collect(),
            year: s.year.into(),
            retention: s.retention.into(),
            renewals: s.renewals.into(),
            quarter: s.quarter.into(),
            nps: s.nps,
            nps_responses: s.nps_responses,
            csat: s.csat,
            csat_responses: s.csat_responses,
            first_response: s.response_times.map(Into::into),
            checks: s
                .checks
                .into_iter()
                .map(|c| TargetCheckBody {
                    name: c.name,
                    value: c.value,
                    target: c.target,
                    met: c.met,
                })
                .collect(),
        }
    }
}

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct ImportReportBody {
    pub entity: &'static str,
    /// Rows written (inserted or updated); for events, the new ones only.
    pub written: u64,
    /// Events already stored or repeated in the file.
    pub duplicates: u64,
    /// Calls kept until their user is tied to an account.
    pub pending: u64,
    /// Kept calls this import tied to an account.
    pub attached: u64,
    /// Calls in the store still waiting for their user.
    pub waiting: u64,
    pub anonymous_skipped: u64,
    pub rollup_rows: u64,
    /// Accounts whose data changed.
    pub accounts: usize,
}

#[derive(Serialize, ToSchema)]
pub struct UserBody {
    pub handle: String,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserBody {
    fn from(u: User) -> Self {
        UserBody {
            handle: u.handle,
            email: u.email,
            name: u.name,
            role: u.role.as_str(),
            active: u.active,
            created_at: u.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// Lower-case letters, digits, `.`, `_` and `-`: how account owner fields name
    /// the user.
    pub handle: String,
    pub email: String,
    pub name: String,
    /// admin, leader, csm, am or viewer.
    pub role: String,
    /// At least 12 characters; without one the user cannot sign in yet.
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenBody {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub book: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenBody {
    fn from(t: ApiToken) -> Self {
        TokenBody {
            id: t.id,
            name: t.name,
            role: t.role.as_str(),
            book: t.book,
            created_by: t.created_by,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    pub name: String,
    /// admin, leader, csm, am or viewer.
    pub role: String,
    /// A handle: the token writes only accounts of this book.
    pub book: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A created token; `secret` is shown this once and never again (null when a retry
/// with the same Idempotency-Key replays the response).
#[derive(Serialize, ToSchema)]
pub struct CreatedTokenBody {
    pub token: TokenBody,
    pub secret: Option<String>,
}

/// A source of Segment calls; its write key is never shown again after creation.
#[derive(Serialize, ToSchema)]
pub struct SourceBody {
    pub id: String,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<Source> for SourceBody {
    fn from(s: Source) -> Self {
        SourceBody {
            id: s.id,
            name: s.name,
            created_by: s.created_by,
            created_at: s.created_at,
            revoked_at: s.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SourceList {
    pub items: Vec<SourceBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSourceBody {
    /// What sends the calls, e.g. "web app" or "billing backend".
    pub name: String,
}

/// A created source; `write_key` is shown this once and never again (null when a
/// retry with the same Idempotency-Key replays the response).
#[derive(Serialize, ToSchema)]
pub struct CreatedSourceBody {
    pub source: SourceBody,
    pub write_key: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryBody {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The fields that changed, each as [old, new] or its new value.
    pub changes: serde_json::Value,
}

impl From<AuditEntry> for AuditEntryBody {
    fn from(e: AuditEntry) -> Self {
        AuditEntryBody {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            changes: serde_json::from_str(&e.changes).unwrap_or(serde_json::Value::Null),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditEntryBody>,
    /// Pass as `before` for older entries.
    pub next_before: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// A signed-in session. Send `csrf_token` as `X-CSRF-Token` with every write.
#[derive(Serialize, ToSchema)]
pub struct SessionBody {
    pub user: UserBody,
    pub csrf_token: String,
    /// When the session ends at the latest.
    pub expires_at: DateTime<Utc>,
}

/// Who is asking.
#[derive(Serialize, ToSchema)]
pub struct MeBody {
    pub actor: String,
    pub role: &'static str,
    pub book: Option<String>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RescoreBody {
    /// The day to score; the last day of the data when left out.
    pub day: Option<NaiveDate>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct EvaluationBody {
    /// The last day whose outcomes count; the last day of the data when left out.
    pub as_of: Option<NaiveDate>,
    /// Days after each scoring date a churn counts (default 90).
    pub horizon_days: Option<u32>,
    /// Days between scoring dates (default 30).
    pub every_days: Option<u32>,
    /// How many scoring dates (default 12).
    pub dates: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct SegmentEvaluationBody {
    pub segment: String,
    pub accounts: usize,
    pub observations: usize,
    pub churns: usize,
    /// ROC AUC of low health predicting churn.
    pub auc: Option<f64>,
}

impl From<tend_engine::health::SegmentEvaluation> for SegmentEvaluationBody {
    fn from(s: tend_engine::health::SegmentEvaluation) -> Self {
        SegmentEvaluationBody {
            segment: s.segment,
            accounts: s.accounts,
            observations: s.observations,
            churns: s.churns,
            auc: s.auc,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EvaluationResultBody {
    pub horizon_days: u32,
    pub dates: Vec<NaiveDate>,
    pub all: SegmentEvaluationBody,
    pub segments: Vec<SegmentEvaluationBody>,
}

#[derive(Serialize, ToSchema)]
pub struct HealthRunBody {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub snapshots: usize,
    pub accounts: usize,
}

/// A background job and how far it is.
#[derive(Serialize, ToSchema)]
pub struct JobBody {
    pub id: u64,
    pub kind: &'static str,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    /// running, succeeded or failed.
    pub state: &'static str,
    pub done: u64,
    pub total: u64,
    pub message: Option<String>,
    /// A rescore's result.
    pub rescore: Option<HealthRunBody>,
    /// An evaluation's result.
    pub evaluation: Option<EvaluationResultBody>,
    /// A risk refit's result: the stored model (null when too little to learn
    /// from), accounts scored, and the backtest as `risk_evaluation`.
    pub risk_model_id: Option<i64>,
    pub risk_scored: Option<usize>,
    /// A risk backtest: folds, metrics of both kinds, the calibration table.
    #[schema(value_type = Option<Object>)]
    pub risk_evaluation: Option<serde_json::Value>,
}

impl From<tend_engine::jobs::JobStatus> for JobBody {
    fn from(j: tend_engine::jobs::JobStatus) -> Self {
        use tend_engine::jobs::JobOutcome;
        let (mut rescore, mut evaluation) = (None, None);
        let (mut risk_model_id, mut risk_scored, mut risk_evaluation) = (None, None, None);
        let as_json = |e: &tend_engine::risk::RiskEvaluation| serde_json::to_value(e).ok();
        match j.outcome {
            Some(JobOutcome::RiskRefit(refit)) => {
                risk_model_id = refit.model_id;
                risk_scored = Some(refit.scored);
                risk_evaluation = as_json(&refit.evaluation);
            }
            Some(JobOutcome::RiskEvaluation(e)) => risk_evaluation = as_json(&e),
            // Started and read on the web app's playbooks page; its message says
            // what it replayed.
            Some(JobOutcome::Simulation(_)) => {}
            Some(JobOutcome::Rescore(run)) => {
                rescore = Some(HealthRunBody {
                    first_day: run.first_day,
                    last_day: run.last_day,
                    snapshots: run.snapshots,
                    accounts: run.accounts,
                })
            }
            Some(JobOutcome::Evaluation(e)) => {
                evaluation = Some(EvaluationResultBody {
                    horizon_days: e.horizon_days,
                    dates: e.dates,
                    all: e.all.into(),
                    segments: e.segments.into_iter().map(Into::into).collect(),
                })
            }
            None => {}
        }
        JobBody {
            id: j.id,
            kind: j.kind,
            started_by: j.started_by,
            started_at: j.started_at,
            state: j.state.as_str(),
            done: j.done,
            total: j.total,
            message: j.message,
            rescore,
            evaluation,
            risk_model_id,
            risk_scored,
            risk_evaluation,
        }
    }
}

/// Paging of a list: `cursor` from the previous page's `next_cursor`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    pub status: &'static str,
}

/// Where events of some types are sent. The signing secret is shown only when the
/// subscription is created.
#[derive(Serialize, ToSchema)]
pub struct WebhookBody {
    pub id: String,
    pub url: String,
    /// Of health.band_changed, health.dropped, account.updated.
    pub event_types: Vec<String>,
    /// `standard` (the event as JSON) or `slack` (a readable message).
    pub format: String,
    pub active: bool,
    /// Why tend turned it off, after a long failure streak.
    pub disabled_reason: Option<String>,
    /// Failed attempts in a row.
    pub failure_streak: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<tend_store::WebhookSubscription> for WebhookBody {
    fn from(s: tend_store::WebhookSubscription) -> Self {
        WebhookBody {
            id: s.id,
            url: s.url,
            event_types: s.event_types,
            format: s.format,
            active: s.active,
            disabled_reason: s.disabled_reason,
            failure_streak: s.failure_streak,
            created_by: s.created_by,
            created_at: s.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookBody>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    /// An http or https URL.
    pub url: String,
    /// Of health.band_changed, health.dropped, account.updated.
    pub event_types: Vec<String>,
    /// `standard` (default) or `slack`, for a Slack incoming webhook.
    pub format: Option<String>,
}

/// A created subscription; `secret` (`whsec_…`, for verifying signatures) is shown
/// this once and never again (null when a retry with the same Idempotency-Key
/// replays the response).
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhookBody {
    pub webhook: WebhookBody,
    pub secret: Option<String>,
}

/// What to change of a subscription; leave a field out to keep it.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    /// Turning it on again clears its failure streak.
    pub active: Option<bool>,
}

/// One event sent (or to be sent) to a subscription, with how its attempts went.
#[derive(Serialize, ToSchema)]
pub struct DeliveryBody {
    pub id: i64,
    /// The `webhook-id` header, the same on every attempt.
    pub message_id: String,
    pub event_type: String,
    pub account_id: String,
    /// The event as sent.
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// pending, delivered or failed (given up).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status on the last attempt, if it answered.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<tend_store::WebhookDelivery> for DeliveryBody {
    fn from(d: tend_store::WebhookDelivery) -> Self {
        DeliveryBody {
            id: d.id,
            message_id: d.message_id,
            event_type: d.event_type,
            account_id: d.account_id,
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
            created_at: d.created_at,
            status: d.status.as_str().to_string(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_attempt_at: d.last_attempt_at,
            last_status: d.last_status,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    /// Newest first.
    pub items: Vec<DeliveryBody>,
    /// Pass as `before` for older deliveries.
    pub next_before: Option<i64>,
}
