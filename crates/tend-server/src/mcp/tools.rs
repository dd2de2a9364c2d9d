//! The tools agents call: each a name, a description, the JSON Schema of its
//! arguments (from the argument struct) and a function over the application
//! services. Arguments are read strictly (unknown ones refused) so a mistake comes
//! back naming the argument; answers are the JSON API's bodies plus a line in words.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use tend_core::{ActivityKind, TaskKind, TaskPriority, TaskStatus};
use tend_engine::health::PortfolioFilter;
use tend_engine::playbooks::{NewTask, TaskChanges, TaskQuery, TaskScope};
use tend_engine::risk::Target;
use tend_engine::views::accounts::AccountQuery;
use tend_engine::views::context::ContextQuery;
use tend_engine::views::metrics::MetricsQuery;
use tend_engine::views::records::NewActivity;
use tend_engine::views::PageRequest;
use tend_engine::{Actor, App, AppError};
use tend_store::{AccountFilter, AccountOrder};

use super::ToolError;
use crate::wire::{
    AccountPage, AccountViewBody, ActivityBody, ExplainBody, SummaryBody, TimelinePage,
};
use crate::wire_risk::RiskTableBody;
use crate::wire_work::{TaskDetailBody, TaskPage};

/// A tool's answer: the structured result and a short summary in words.
pub struct Answer {
    pub structured: Value,
    pub summary: String,
}

fn answer(value: impl serde::Serialize, summary: String) -> Result<Answer, ToolError> {
    let structured = serde_json::to_value(value).map_err(|e| ToolError::Internal(e.to_string()))?;
    Ok(Answer {
        structured,
        summary,
    })
}

/// The largest page any list tool returns.
const MAX_LIMIT: u32 = 100;

fn page(
    cursor: Option<String>,
    limit: Option<u32>,
    default: u32,
) -> Result<PageRequest, ToolError> {
    match limit {
        Some(n) if !(1..=MAX_LIMIT).contains(&n) => Err(ToolError::argument(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}, not {n}"),
        )),
        _ => Ok(PageRequest {
            cursor,
            limit: Some(limit.unwrap_or(default)),
        }),
    }
}

/// A page that came back empty for a cursor: the cursor is past the end.
fn past_the_end(cursor: &Option<String>, empty: bool) -> Result<(), ToolError> {
    if cursor.is_some() && empty {
        return Err(ToolError::argument(
            "cursor",
            "is past the last page; start again without a cursor",
        ));
    }
    Ok(())
}

fn parse_with<T>(
    field: &str,
    text: Option<&str>,
    parse: impl Fn(&str) -> Result<T, tend_core::InvalidValue>,
) -> Result<Option<T>, ToolError> {
    text.map(|t| parse(t).map_err(|e| ToolError::argument(field, e.0)))
        .transpose()
}

fn each_parsed<T>(
    field: &str,
    values: &Option<Vec<String>>,
    parse: fn(&str) -> Result<T, tend_core::InvalidValue>,
) -> Result<Option<Vec<T>>, ToolError> {
    values
        .as_ref()
        .map(|v| {
            v.iter()
                .map(|s| parse(s).map_err(|e| ToolError::argument(field, e.0)))
                .collect()
        })
        .transpose()
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextArgs {
    /// One account's context (its id, e.g. ACC-00001); the portfolio's when left out.
    pub account_id: Option<String>,
    /// A CSM's or account manager's handle: their book; `*` for the whole portfolio.
    /// The caller's own book by default (a book-limited token's or a CSM's), else
    /// the whole portfolio.
    pub owner: Option<String>,
    /// Only accounts of this segment (e.g. enterprise, mid-market, smb).
    pub segment: Option<String>,
    /// From a previous answer's `next_cursor`: the next page of `account_page`.
    pub cursor: Option<String>,
    /// Accounts per page of `account_page`, 1–100 (default 25).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// Words found in the account's name or id, case ignored.
    pub query: Option<String>,
    /// A CSM's or account manager's handle.
    pub owner: Option<String>,
    /// enterprise, mid-market, smb or the company's own segments.
    pub segment: Option<String>,
    /// The account's tier, as imported.
    pub tier: Option<String>,
    /// onboarding, adoption, mature, renewal or churned.
    pub stage: Option<String>,
    /// The band of the latest health: green, yellow or red.
    pub band: Option<String>,
    /// name (default), id, or health (lowest first).
    pub sort: Option<String>,
    /// From a previous answer's `next_cursor`.
    pub cursor: Option<String>,
    /// Accounts per page, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountArgs {
    /// The account's id, e.g. ACC-00001.
    pub account_id: String,
    /// The day (YYYY-MM-DD); the last day of the data by default.
    pub day: Option<NaiveDate>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AtRiskArgs {
    /// churn (default) or non_renewal.
    pub target: Option<String>,
    /// A CSM's or account manager's handle.
    pub owner: Option<String>,
    /// Only accounts of this segment.
    pub segment: Option<String>,
    /// high (default), medium or low; `any` for every band.
    pub band: Option<String>,
    /// Accounts listed, 1–100 (default 20), highest risk first.
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineArgs {
    /// The account's id.
    pub account_id: String,
    /// From a previous answer's `next_cursor`.
    pub cursor: Option<String>,
    /// Entries per page, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskListArgs {
    /// mine (default for a book-limited token), team or all.
    pub scope: Option<String>,
    /// One account's tasks.
    pub account_id: Option<String>,
    /// Only this owner's (a handle).
    pub owner: Option<String>,
    /// Statuses, any of open, in_progress, snoozed, done, cancelled; the open ones by default.
    pub status: Option<Vec<String>>,
    /// Priorities, any of low, normal, high, urgent.
    pub priority: Option<Vec<String>>,
    /// Due on or before this day (YYYY-MM-DD).
    pub due_by: Option<NaiveDate>,
    /// From a previous answer's `next_cursor`.
    pub cursor: Option<String>,
    /// Tasks per page, 1–100 (default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskArgs {
    /// The account the task is for.
    pub account_id: String,
    /// What is to be done, in a line.
    pub title: String,
    /// What to do and why.
    pub description: Option<String>,
    /// risk, lifecycle, onboarding, adoption, expansion, renewal, advocacy or activity (default).
    pub kind: Option<String>,
    /// A user handle; the caller (or the token's book) by default.
    pub owner: Option<String>,
    /// low, normal (default), high or urgent.
    pub priority: Option<String>,
    /// The day it is due (YYYY-MM-DD); in 7 days by default.
    pub due_on: Option<NaiveDate>,
    /// Steps to tick off, in order (each due with the task).
    pub steps: Option<Vec<String>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskArgs {
    /// The task's id.
    pub task_id: i64,
    /// A new title.
    pub title: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// low, normal, high or urgent.
    pub priority: Option<String>,
    /// YYYY-MM-DD.
    pub due_on: Option<NaiveDate>,
    /// open or in_progress.
    pub status: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogActivityArgs {
    /// The account the activity was with.
    pub account_id: String,
    /// note, call, meeting or email.
    pub kind: String,
    /// One line: what it was about.
    pub subject: String,
    /// What was said or agreed.
    pub body: Option<String>,
    /// The contact it was with (a contact id of the account).
    pub contact_id: Option<String>,
    /// When it happened (RFC 3339); now by default.
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsArgs {
    /// The last day covered (YYYY-MM-DD); the last day of the data by default.
    pub as_of: Option<NaiveDate>,
    /// An ISO 4217 currency to report ARR in; the one with the most ARR by default.
    pub currency: Option<String>,
    /// Also the metrics of this owner's book over the 12 months to `as_of`.
    pub owner: Option<String>,
    /// Also the metrics of this segment over the 12 months to `as_of`.
    pub segment: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewalArgs {
    /// First due day included (YYYY-MM-DD); the last day of the data by default.
    pub from: Option<NaiveDate>,
    /// Last due day included; 180 days after `from` by default.
    pub to: Option<NaiveDate>,
    /// A CSM's or account manager's handle; the caller's own book by default, `*`
    /// for every account.
    pub owner: Option<String>,
    /// Only accounts of this segment.
    pub segment: Option<String>,
    /// Renewals listed, 1–100 (default 20), soonest first.
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastArgs {
    /// The first period: a quarter `2027-Q1`, a month `2027-03` or a year `2027`;
    /// the quarter after the last day of the data by default.
    pub period: Option<String>,
    /// Consecutive periods of its kind, 1–12 (default 1).
    #[schemars(range(min = 1, max = 12))]
    pub periods: Option<u32>,
    /// A CSM's or account manager's handle; the caller's own book by default, `*`
    /// for every account.
    pub owner: Option<String>,
    /// Only accounts of this segment.
    pub segment: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpansionArgs {
    /// A CSM's or account manager's handle; the caller's own book by default, `*`
    /// for every account.
    pub owner: Option<String>,
    /// Only accounts of this segment.
    pub segment: Option<String>,
    /// Signals and gaps listed, each 1–100 (default 10), largest first.
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressArgs {
    /// A CSM's or account manager's handle, or `*` for the whole portfolio; the
    /// caller's own book by default.
    pub owner: Option<String>,
}

/// One tool: what `tools/list` says of it.
struct Spec {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    schema: fn() -> Arc<JsonObject>,
    writes: bool,
}

fn schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let mut schema = rmcp::handler::server::tool::schema_for_type::<T>()
        .as_ref()
        .clone();
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.values_mut().for_each(single_type);
    }
    Arc::new(schema)
}

/// `"type": ["string", "null"]` (how schemars writes an `Option`) becomes
/// `"type": "string"`: an optional argument is one left out, and clients that map
/// schemas onto a one-type dialect (Gemini's function declarations) refuse arrays.
fn single_type(property: &mut Value) {
    let Some(Value::Array(types)) = property.get("type") else {
        return;
    };
    let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
    if let [one] = kept.as_slice() {
        property["type"] = one.clone();
    }
}

const SPECS: &[Spec] = &[
    Spec {
        name: "get_customer_context",
        title: "Customer context",
        description: "The customer context an agent needs first: account segments, product usage, health metrics, churn risks, growth opportunities and success goals — for the caller's book or the portfolio (summarised, with a page of accounts lowest health first), or for one account (account_id).",
        schema: schema::<ContextArgs>,
        writes: false,
    },
    Spec {
        name: "search_accounts",
        title: "Search accounts",
        description: "Accounts by words in their name or id and by owner, segment, tier, lifecycle stage or health band, a page at a time, each with its latest health.",
        schema: schema::<SearchArgs>,
        writes: false,
    },
    Spec {
        name: "get_account",
        title: "Account 360°",
        description: "One account's whole picture: profile, owners, contacts, contracts and ARR, latest health with its explanation, open tickets, latest surveys and recent activities.",
        schema: schema::<AccountArgs>,
        writes: false,
    },
    Spec {
        name: "explain_health",
        title: "Explain health",
        description: "Why an account's health is what it is on a day: every measure's value, score and points, and what changed against 30 days earlier, in words.",
        schema: schema::<AccountArgs>,
        writes: false,
    },
    Spec {
        name: "list_at_risk",
        title: "At-risk accounts",
        description: "Accounts by churn (or non-renewal) probability from the fitted risk model, highest first, with ARR at risk and the reasons in words; ARR at risk by segment and owner.",
        schema: schema::<AtRiskArgs>,
        writes: false,
    },
    Spec {
        name: "get_timeline",
        title: "Account timeline",
        description: "An account's activities, tickets, survey responses, payments and health band changes, newest first, a page at a time.",
        schema: schema::<TimelineArgs>,
        writes: false,
    },
    Spec {
        name: "list_tasks",
        title: "List tasks",
        description: "Tasks (calls to action from playbooks or made by hand): the caller's own, their team's, an account's or all; open ones by default, by id.",
        schema: schema::<TaskListArgs>,
        writes: false,
    },
    Spec {
        name: "create_task",
        title: "Create a task",
        description: "Creates a task on an account the caller may write (audited with the caller as actor).",
        schema: schema::<CreateTaskArgs>,
        writes: true,
    },
    Spec {
        name: "update_task",
        title: "Update a task",
        description: "Changes a task's title, description, priority or due day, or moves it between open and in_progress (audited).",
        schema: schema::<UpdateTaskArgs>,
        writes: true,
    },
    Spec {
        name: "log_activity",
        title: "Log an activity",
        description: "Logs a note, call, meeting or email on an account the caller may write (audited; it counts as a CSM touch in health).",
        schema: schema::<LogActivityArgs>,
        writes: true,
    },
    Spec {
        name: "portfolio_metrics",
        title: "Portfolio metrics",
        description: "NRR, GRR, logo and revenue churn, NPS, CSAT, renewal rate, expansion and first-response times of the portfolio, each against its checklist target; with owner or segment, also those of that book over the 12 months.",
        schema: schema::<MetricsArgs>,
        writes: false,
    },
    Spec {
        name: "list_renewals",
        title: "Renewals",
        description: "The renewal pipeline: one renewal per contract term coming due in a window (180 days ahead by default), soonest first, with ARR up for renewal, auto-renew, notice deadline and the next of T-120/90/60/30, the stage, the outcome of closed ones and the risk model's probability that it renews.",
        schema: schema::<RenewalArgs>,
        writes: false,
    },
    Spec {
        name: "get_forecast",
        title: "Renewal forecast",
        description: "The renewal forecast of one or more periods (quarter, month or year): renewable ARR, renewed ARR already booked, the probability-weighted expected renewed ARR with expansion, contraction and churn, a P10/P50/P90 range by Monte Carlo, and the expected GRR and NRR. Open renewals renew with the risk model's probability where it covers them, else with the win rate of the trailing year.",
        schema: schema::<ForecastArgs>,
        writes: false,
    },
    Spec {
        name: "list_expansion",
        title: "Expansion opportunities",
        description: "Where accounts could buy more: expansion signals on the last day of the data (seats over licence, utilization of 90% or more, usage growing 30% or more, modules used but not licensed) with estimated ARR, and whitespace gaps (products that similar accounts — same segment and industry, ARR within a factor of 2 — hold and the account does not) ranked by share × their mean ARR.",
        schema: schema::<ExpansionArgs>,
        writes: false,
    },
    Spec {
        name: "progress_report",
        title: "Progress report",
        description: "The customer-success progress message for a book (accounts_managed, health_score_avg, churn_rate, nps_score) and its summary sentence, computed from the store.",
        schema: schema::<ProgressArgs>,
        writes: false,
    },
];

/// Every tool as `tools/list` shows it.
pub fn list() -> Vec<Tool> {
    SPECS
        .iter()
        .map(|spec| {
            let annotations = ToolAnnotations::with_title(spec.title)
                .read_only(!spec.writes)
                .destructive(false)
                .idempotent(!spec.writes)
                .open_world(false);
            Tool::new(spec.name, spec.description, (spec.schema)())
                .with_title(spec.title)
                .with_annotations(annotations)
        })
        .collect()
}

/// Reads `arguments` as `T`, naming the argument at fault.
fn read<T: DeserializeOwned>(arguments: JsonObject) -> Result<T, ToolError> {
    serde_path_to_error::deserialize(Value::Object(arguments)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if let Some(name) = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            return ToolError::Argument(format!("argument `{name}` is required"));
        }
        if path == "." {
            return ToolError::Argument(inner);
        }
        // chrono's parse errors do not say what a date looks like.
        let dated = [
            "invalid characters",
            "premature end",
            "out of range",
            "input is not enough",
        ]
        .iter()
        .any(|m| inner.contains(m));
        if dated {
            ToolError::argument(
                &path,
                format!("{inner}; expected a day as YYYY-MM-DD (a time as RFC 3339)"),
            )
        } else {
            ToolError::argument(&path, inner)
        }
    })
}

/// Runs tool `name` for `actor`.
pub async fn call(
    app: &App,
    actor: &Actor,
    name: &str,
    arguments: JsonObject,
) -> Result<Answer, ToolError> {
    match name {
        "get_customer_context" => customer_context(app, actor, read(arguments)?).await,
        "search_accounts" => search_accounts(app, actor, read(arguments)?).await,
        "get_account" => {
            let a: AccountArgs = read(arguments)?;
            let view = app.account_view(actor, &a.account_id, a.day).await?;
            let summary = format!(
                "{} ({}): health {}, {} open tickets, {} contacts",
                view.account.name,
                view.account.id,
                view.health
                    .as_ref()
                    .map_or("not scored".to_string(), |h| format!(
                        "{} ({})",
                        h.score.overall.map_or("-".into(), |s| format!("{s:.0}")),
                        h.score.band
                    )),
                view.open_tickets.len(),
                view.contacts.len()
            );
            answer(AccountViewBody::from(view), summary)
        }
        "explain_health" => {
            let a: AccountArgs = read(arguments)?;
            let (account, explanation) = app.explain(actor, &a.account_id, a.day).await?;
            let summary = format!(
                "{} on {}: health {} ({}) against {} on {}",
                account.id,
                explanation.day,
                explanation
                    .now
                    .overall
                    .map_or("-".into(), |s| format!("{s:.0}")),
                explanation.now.band,
                explanation
                    .before
                    .overall
                    .map_or("-".into(), |s| format!("{s:.0}")),
                explanation.earlier
            );
            answer(
                ExplainBody {
                    account: account.into(),
                    explanation: explanation.into(),
                },
                summary,
            )
        }
        "list_at_risk" => list_at_risk(app, actor, read(arguments)?).await,
        "get_timeline" => {
            let a: TimelineArgs = read(arguments)?;
            let request = page(a.cursor.clone(), a.limit, 20)?;
            let found = app.timeline(actor, &a.account_id, &request).await?;
            past_the_end(&a.cursor, found.items.is_empty())?;
            let summary = format!(
                "{} of {}",
                count(found.items.len(), "timeline entry", "timeline entries"),
                a.account_id
            );
            answer(TimelinePage::from(found), summary)
        }
        "list_tasks" => list_tasks(app, actor, read(arguments)?).await,
        "create_task" => create_task(app, actor, read(arguments)?).await,
        "update_task" => {
            let a: UpdateTaskArgs = read(arguments)?;
            let changes = TaskChanges {
                title: a.title,
                description: a.description,
                priority: parse_with("priority", a.priority.as_deref(), TaskPriority::parse)?,
                due_on: a.due_on,
                status: parse_with("status", a.status.as_deref(), TaskStatus::parse)?,
            };
            let detail = app.update_task(actor, a.task_id, &changes).await?;
            let summary = format!(
                "task {} is now {}: {}",
                detail.task.id, detail.task.status, detail.task.title
            );
            answer(TaskDetailBody::from(detail), summary)
        }
        "log_activity" => {
            let a: LogActivityArgs = read(arguments)?;
            let kind =
                ActivityKind::parse(&a.kind).map_err(|e| ToolError::argument("kind", e.0))?;
            let new = NewActivity {
                kind,
                subject: a.subject,
                body: a.body,
                contact_id: a.contact_id,
                occurred_at: a.occurred_at,
            };
            let activity = app.log_activity(actor, &a.account_id, &new).await?;
            let summary = format!(
                "logged {} {:?} on {}",
                activity.kind.as_str(),
                activity.subject,
                activity.account_id
            );
            answer(ActivityBody::from(activity), summary)
        }
        "portfolio_metrics" => portfolio_metrics(app, actor, read(arguments)?).await,
        "list_renewals" => list_renewals(app, actor, read(arguments)?).await,
        "get_forecast" => get_forecast(app, actor, read(arguments)?).await,
        "list_expansion" => list_expansion(app, actor, read(arguments)?).await,
        "progress_report" => {
            let a: ProgressArgs = read(arguments)?;
            let report = app.progress_report(actor, a.owner).await?;
            let summary = report.summary.clone();
            let message = serde_json::json!({
                "agent": "customer-success-manager",
                "status": "managing",
                "progress": {
                    "accounts_managed": report.accounts_managed,
                    "health_score_avg": report.health_score_avg,
                    "churn_rate": report.churn_rate.map(|c| format!("{c:.1}%")),
                    "nps_score": report.nps_score,
                },
                "report": report,
            });
            answer(message, summary)
        }
        other => Err(ToolError::Argument(format!(
            "no tool named {other:?}; tools/list names every tool"
        ))),
    }
}

async fn customer_context(app: &App, actor: &Actor, a: ContextArgs) -> Result<Answer, ToolError> {
    if let Some(id) = &a.account_id {
        if a.cursor.is_some() || a.limit.is_some() {
            return Err(ToolError::argument(
                "account_id",
                "one account's context has no pages; leave out cursor and limit",
            ));
        }
        let context = app.account_context(actor, id).await?;
        let summary = format!(
            "{} ({}): health {}, churn risk {}, {} growth opportunities, {} open goals, {} open tasks",
            context.name,
            context.id,
            context.health.as_ref().map_or("not scored".into(), |h| format!(
                "{} ({})",
                h.score.map_or("-".into(), |s| format!("{s:.0}")),
                h.band
            )),
            context.churn_risk.as_ref().map_or("not scored".into(), |r| format!(
                "{:.0}% ({})",
                r.probability * 100.0,
                r.band
            )),
            context.growth_opportunities.len(),
            context.success_goals.len(),
            context.open_tasks.len()
        );
        return answer(context, summary);
    }
    let query = ContextQuery {
        owner: a.owner,
        segment: a.segment,
        page: page(a.cursor, a.limit, 25)?,
    };
    let context = app.portfolio_context(actor, &query).await?;
    let summary = format!(
        "{} accounts{}, {} {} ARR, average health {}; {} in the lowest health band; {} at high churn risk; {} growth opportunities; page of {} accounts{}",
        context.accounts,
        context.owner.as_ref().map_or(String::new(), |o| format!(" in {o}'s book")),
        tend_core::money::group_thousands(context.arr.max(0.0) as u64),
        context.currency,
        context.health.average.map_or("-".into(), |h| format!("{h:.0}")),
        context.health.in_lowest_band,
        context
            .churn_risks
            .as_ref()
            .map_or("no model".into(), |r| r.bands.get("high").copied().unwrap_or(0).to_string()),
        context.growth_opportunities.len(),
        context.account_page.len(),
        if context.next_cursor.is_some() { ", more with next_cursor" } else { "" }
    );
    answer(context, summary)
}

async fn search_accounts(app: &App, actor: &Actor, a: SearchArgs) -> Result<Answer, ToolError> {
    let order = match a.sort.as_deref() {
        None | Some("name") => AccountOrder::Name,
        Some("id") => AccountOrder::Id,
        Some("health") => AccountOrder::Health,
        Some(other) => {
            return Err(ToolError::argument(
                "sort",
                format!("must be name, id or health, not {other:?}"),
            ))
        }
    };
    let query = AccountQuery {
        filter: AccountFilter {
            owner: a.owner,
            segment: a.segment,
            tier: a.tier,
            stage: parse_with(
                "stage",
                a.stage.as_deref(),
                tend_core::LifecycleStage::parse,
            )?,
            band: a.band,
            text: a.query,
            ..AccountFilter::default()
        },
        order,
        page: page(a.cursor.clone(), a.limit, 20)?,
    };
    let found = app.list_accounts(actor, &query).await?;
    past_the_end(&a.cursor, found.items.is_empty())?;
    let summary = format!(
        "{}{}: {}",
        count(found.items.len(), "account", "accounts"),
        if found.next_cursor.is_some() {
            " (more with next_cursor)"
        } else {
            ""
        },
        found
            .items
            .iter()
            .take(10)
            .map(|r| r.account.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    answer(AccountPage::from(found), summary)
}

async fn list_at_risk(app: &App, actor: &Actor, a: AtRiskArgs) -> Result<Answer, ToolError> {
    let target = match a.target.as_deref() {
        None | Some("churn") => Target::Churn,
        Some("non_renewal") => Target::NonRenewal,
        Some(other) => {
            return Err(ToolError::argument(
                "target",
                format!("must be churn or non_renewal, not {other:?}"),
            ))
        }
    };
    let band = match a.band.as_deref() {
        None => Some("high".to_string()),
        Some("any") => None,
        Some(b @ ("high" | "medium" | "low")) => Some(b.to_string()),
        Some(other) => {
            return Err(ToolError::argument(
                "band",
                format!("must be high, medium, low or any, not {other:?}"),
            ))
        }
    };
    let limit = page(None, a.limit, 20)?.limit.unwrap_or(20) as usize;
    let filter = PortfolioFilter {
        owner: a.owner,
        segment: a.segment,
        band,
    };
    let table = app.risk_table(actor, target, None, &filter, None).await?;
    let body = RiskTableBody::new(table, limit);
    let summary = format!(
        "{} at {} risk on {}{}",
        count(body.total, "account", "accounts"),
        filter.band.as_deref().unwrap_or("any"),
        body.day,
        if body.total > limit {
            format!(", the first {limit} listed")
        } else {
            String::new()
        }
    );
    answer(body, summary)
}

async fn list_tasks(app: &App, actor: &Actor, a: TaskListArgs) -> Result<Answer, ToolError> {
    let scope = match (a.scope.as_deref(), &a.account_id) {
        (_, Some(account)) => TaskScope::Account(account.clone()),
        (Some("mine"), None) => TaskScope::Mine,
        (Some("team"), None) => TaskScope::Team,
        (Some("all"), None) => TaskScope::All,
        (None, None) if actor.book.is_some() => TaskScope::Mine,
        (None, None) => TaskScope::All,
        (Some(other), None) => {
            return Err(ToolError::argument(
                "scope",
                format!("must be mine, team or all, not {other:?}"),
            ))
        }
    };
    let query = TaskQuery {
        scope,
        statuses: each_parsed("status", &a.status, TaskStatus::parse)?,
        priorities: each_parsed("priority", &a.priority, TaskPriority::parse)?,
        due_by: a.due_by,
        playbook: None,
        kind: None,
        owner: a.owner,
    };
    let found = app
        .tasks(actor, &query, &page(a.cursor.clone(), a.limit, 20)?)
        .await?;
    past_the_end(&a.cursor, found.items.is_empty())?;
    let summary = format!(
        "{}{}",
        count(found.items.len(), "task", "tasks"),
        if found.next_cursor.is_some() {
            " (more with next_cursor)"
        } else {
            ""
        }
    );
    answer(TaskPage::from(found), summary)
}

async fn create_task(app: &App, actor: &Actor, a: CreateTaskArgs) -> Result<Answer, ToolError> {
    let due_on = match a.due_on {
        Some(day) => day,
        None => app.today() + chrono::Days::new(7),
    };
    let new = NewTask {
        account_id: a.account_id,
        kind: parse_with("kind", a.kind.as_deref(), TaskKind::parse)?.unwrap_or(TaskKind::Activity),
        title: a.title,
        description: a.description.unwrap_or_default(),
        owner: a.owner,
        priority: parse_with("priority", a.priority.as_deref(), TaskPriority::parse)?
            .unwrap_or(TaskPriority::Normal),
        due_on,
        steps: a
            .steps
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s, due_on))
            .collect(),
    };
    let detail = app.create_task(actor, &new).await?;
    let summary = format!(
        "task {} created on {} for {}, due {}",
        detail.task.id,
        detail.task.account_id,
        detail.task.owner.as_deref().unwrap_or("nobody"),
        detail.task.due_on
    );
    answer(TaskDetailBody::from(detail), summary)
}

async fn portfolio_metrics(app: &App, actor: &Actor, a: MetricsArgs) -> Result<Answer, ToolError> {
    let currency = a
        .currency
        .as_deref()
        .map(|c| {
            tend_core::Currency::parse(c)
                .map_err(|e| ToolError::argument("currency", e.to_string()))
        })
        .transpose()?;
    let summary = app.summary(actor, a.as_of, currency).await?;
    let scoped = if a.owner.is_some() || a.segment.is_some() {
        let to = summary.as_of;
        let query = MetricsQuery {
            from: to.checked_sub_days(chrono::Days::new(364)).unwrap_or(to),
            to,
            segment: a.segment,
            owner: a.owner,
            currency: Some(summary.currency),
        };
        Some(crate::wire::MetricsBody::from(
            app.metrics(actor, &query).await?,
        ))
    } else {
        None
    };
    let body = SummaryBody::from(summary);
    let met = body.checks.iter().filter(|c| c.met == Some(true)).count();
    let words = format!(
        "portfolio on {}: {} active accounts, NRR {}, GRR {}, NPS {}; {met} of {} checklist targets met",
        body.as_of,
        body.active_accounts,
        percent(body.retention.nrr),
        percent(body.retention.grr),
        body.nps.map_or("-".into(), |n| format!("{n:.0}")),
        body.checks.len()
    );
    answer(
        serde_json::json!({ "portfolio": body, "scoped": scoped }),
        words,
    )
}

async fn list_renewals(app: &App, actor: &Actor, a: RenewalArgs) -> Result<Answer, ToolError> {
    let limit = page(None, a.limit, 20)?.limit.unwrap_or(20) as usize;
    let query = tend_engine::views::renewals::RenewalQuery {
        from: a.from,
        to: a.to,
        owner: tend_engine::views::context::scope_owner(actor, a.owner.as_deref()),
        segment: a.segment,
        account: None,
    };
    let mut body =
        crate::wire_renewals::RenewalPipelineBody::from(app.renewal_pipeline(actor, &query).await?);
    let (from, to, total) = (body.from, body.to, body.items.len());
    let open: Vec<_> = body.items.iter().filter(|r| r.outcome.is_none()).collect();
    let mut currencies: Vec<&str> = open.iter().map(|r| r.arr.currency.as_str()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    let due = match currencies.as_slice() {
        [one] => format!(
            "{} {one} ARR up for renewal",
            tend_core::money::group_thousands(
                open.iter().map(|r| r.arr.major).sum::<f64>().max(0.0) as u64
            )
        ),
        _ => "ARR in several currencies".to_string(),
    };
    let summary = format!(
        "{} due {from} to {to}, {} open ({due}){}",
        count(total, "renewal", "renewals"),
        open.len(),
        if total > limit {
            format!("; the first {limit} listed")
        } else {
            String::new()
        }
    );
    body.items.truncate(limit);
    answer(
        serde_json::json!({ "total": total, "pipeline": body }),
        summary,
    )
}

async fn get_forecast(app: &App, actor: &Actor, a: ForecastArgs) -> Result<Answer, ToolError> {
    use tend_engine::forecast::ForecastQuery;
    let period = a
        .period
        .as_deref()
        .map(tend_core::CalendarPeriod::parse)
        .transpose()
        .map_err(|message| ToolError::argument("period", message))?;
    let query = ForecastQuery {
        period,
        periods: a.periods.map_or(1, |n| n as usize),
        owner: tend_engine::views::context::scope_owner(actor, a.owner.as_deref()),
        segment: a.segment,
        ..ForecastQuery::default()
    };
    let body = crate::wire_renewals::ForecastBody::from(app.renewal_forecast(actor, &query).await?);
    let whole = |major: f64| tend_core::money::group_thousands(major.max(0.0).round() as u64);
    let periods: Vec<String> = body
        .periods
        .iter()
        .map(|p| {
            format!(
                "{}: {} renewals, {} {c} renewable, expected {} (P10 {}, P90 {}), NRR {}",
                p.period,
                p.renewals,
                whole(p.renewable.major),
                whole(p.expected.major),
                whole(p.p10.major),
                whole(p.p90.major),
                percent(p.nrr.map(|n| n * 100.0)),
                c = body.currency
            )
        })
        .collect();
    let summary = format!(
        "renewal forecast as of {}: {}",
        body.day,
        periods.join("; ")
    );
    answer(body, summary)
}

async fn list_expansion(app: &App, actor: &Actor, a: ExpansionArgs) -> Result<Answer, ToolError> {
    use tend_engine::expansion::signals::SignalQuery;
    use tend_engine::expansion::whitespace::WhitespaceQuery;
    let limit = a.limit.map_or(10, |n| n as usize);
    if !(1..=100).contains(&limit) {
        return Err(ToolError::argument("limit", "must be between 1 and 100"));
    }
    let owner = tend_engine::views::context::scope_owner(actor, a.owner.as_deref());
    let signals = SignalQuery {
        owner: owner.clone(),
        segment: a.segment.clone(),
        kind: None,
        limit: Some(limit),
    };
    let gaps = WhitespaceQuery {
        owner,
        segment: a.segment,
        limit: Some(limit),
    };
    let signals =
        crate::wire_expansion::SignalsBody::from(app.expansion_signals(actor, &signals).await?);
    let whitespace =
        crate::wire_expansion::WhitespaceBody::from(app.whitespace(actor, &gaps).await?);
    let summary = format!(
        "{} and {} on {}{}",
        count(signals.total, "expansion signal", "expansion signals"),
        count(whitespace.total, "whitespace gap", "whitespace gaps"),
        signals.day,
        match (signals.items.first(), whitespace.gaps.first()) {
            (Some(s), _) => format!("; first {} on {}: {}", s.kind, s.account_id, s.words),
            (None, Some(g)) => format!("; first {} for {}", g.product, g.account_id),
            (None, None) => String::new(),
        }
    );
    answer(
        serde_json::json!({ "signals": signals, "whitespace": whitespace }),
        summary,
    )
}

/// "1 task", "3 tasks".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn percent(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.1}%"))
}

impl From<AppError> for ToolError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound { what, id } => ToolError::NotFound { what, id },
            AppError::Invalid { field, message } => {
                ToolError::argument(field.trim_start_matches('/'), message)
            }
            AppError::InvalidRows { errors, .. } => {
                ToolError::Argument(format!("{} rows cannot be imported", errors.len()))
            }
            AppError::Conflict(message) | AppError::Forbidden(message) => {
                ToolError::Refused(message)
            }
            AppError::Internal(cause) => ToolError::Internal(cause),
        }
    }
}
