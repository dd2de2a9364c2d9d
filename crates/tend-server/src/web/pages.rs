//! The pages: each reads what it shows through the application's services, as the
//! signed-in person, and renders it with `tend_web`.

use std::collections::{BTreeSet, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use tend_core::Role;
use tend_engine::playbooks::{TaskQuery, TaskScope};
use tend_engine::proposals::ProposalQuery;
use tend_engine::risk::{Bands, Target};
use tend_engine::views::page::MAX_LIMIT;
use tend_engine::views::renewals::RenewalQuery;
use tend_engine::views::PageRequest;
use tend_engine::AppError;
use tend_store::{AccountFilter, AccountOrder, RiskBandFilter, TaskRecord};
use tend_web::pages::portfolio::{PortfolioQuery, PortfolioRow, RENEWAL_WINDOWS};
use tend_web::pages::tasks::{TaskTable, Whose};
use tend_web::pages::{
    account as account_page, admin as admin_page, cockpit as cockpit_page, login,
    metrics as metrics_page, playbooks as playbooks_page, portfolio as portfolio_page,
    renewals as renewals_page, tasks as tasks_page,
};

use super::{html_response, safe_back, OrPage, Viewer, WebError};
use crate::ServerState;

/// How far ahead the cockpit looks for renewals.
const RENEWALS_AHEAD: u64 = 120;
/// Rows of each list of the cockpit, and of the portfolio's pages.
const SHOWN: usize = 20;
const COCKPIT_TASKS: usize = 8;
const PORTFOLIO_PAGE: u32 = 50;
/// Points of a portfolio sparkline: every 7 days over 91.
const SPARK_STEP: u64 = 7;
const SPARK_POINTS: u64 = 14;

fn ok(page: tend_web::Markup) -> Response {
    html_response(StatusCode::OK, page)
}

/// The last day of the store's data: what the pages are as of.
async fn today(state: &ServerState, viewer: &Viewer) -> Result<NaiveDate, WebError> {
    tend_engine::default_day(state.app.store(), state.app.today())
        .await
        .or_page(viewer)
}

/// Account names of `ids`, by id.
async fn names_of(
    state: &ServerState,
    viewer: &Viewer,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, String>, WebError> {
    let ids: Vec<String> = ids
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(state
        .app
        .store()
        .accounts_of(&ids)
        .await
        .or_page(viewer)?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

/// The open tasks of `scope` (the first [`MAX_LIMIT`]), soonest due first.
async fn open_tasks_by_due(
    state: &ServerState,
    viewer: &Viewer,
    scope: TaskScope,
) -> Result<Vec<TaskRecord>, WebError> {
    state
        .app
        .tasks_soonest_due(viewer.actor(), &task_query(scope), MAX_LIMIT)
        .await
        .or_page(viewer)
}

/// The first page of a list, of `limit` items.
fn first_page(limit: u32) -> PageRequest {
    PageRequest {
        cursor: None,
        limit: Some(limit),
    }
}

/// The open tasks of `scope`.
fn task_query(scope: TaskScope) -> TaskQuery {
    TaskQuery {
        scope,
        statuses: None,
        priorities: None,
        due_by: None,
        playbook: None,
        kind: None,
        owner: None,
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_form(Query(q): Query<LoginQuery>) -> Response {
    let next = safe_back(q.next.as_deref().unwrap_or("/app"));
    ok(login::login(None, next, ""))
}

pub async fn cockpit(
    State(state): State<ServerState>,
    viewer: Viewer,
) -> Result<Response, WebError> {
    let app = &state.app;
    let actor = viewer.actor();
    let day = today(&state, &viewer).await?;
    let mut tasks = open_tasks_by_due(&state, &viewer, TaskScope::Mine).await?;
    let open_tasks = (tasks.len() < MAX_LIMIT as usize).then_some(tasks.len());
    tasks.truncate(COCKPIT_TASKS);
    let worsened = state
        .figures
        .worsened(app, &viewer.handle)
        .await
        .or_page(&viewer)?;
    let pipeline = state
        .figures
        .pipeline(app, Some(&viewer.handle))
        .await
        .or_page(&viewer)?;
    let ahead = day + Days::new(RENEWALS_AHEAD);
    let renewals: Vec<_> = pipeline
        .value
        .lines
        .iter()
        .filter(|l| {
            l.renewal.outcome.is_none() && day <= l.renewal.due_on && l.renewal.due_on <= ahead
        })
        .take(SHOWN)
        .cloned()
        .collect();
    let (overdue, mut names): (Vec<_>, HashMap<String, String>) = app
        .store()
        .overdue_milestones_of(&viewer.handle, "onboarding", day, SHOWN as u32)
        .await
        .or_page(&viewer)?
        .into_iter()
        .map(|(m, name)| {
            let named = (m.account_id.clone(), name);
            (m, named)
        })
        .unzip();
    let approvals = if actor.role == Role::Leader {
        Some(app.approvals_for(actor).await.or_page(&viewer)?)
    } else {
        None
    };
    let ids = tasks
        .iter()
        .map(|t| t.account_id.clone())
        .chain(approvals.iter().flatten().map(|p| p.account_id.clone()));
    names.extend(names_of(&state, &viewer, ids).await?);
    let data = cockpit_page::Cockpit {
        today: day,
        tasks: TaskTable {
            tasks: &tasks,
            names: &names,
            today: day,
            back: "/app",
            bulk: false,
            account_column: true,
        },
        open_tasks,
        worsened: &worsened.value,
        renewals: &renewals,
        overdue_milestones: &overdue,
        approvals: approvals.as_deref(),
        names: &names,
    };
    Ok(ok(cockpit_page::cockpit(&viewer.nav, &data)))
}

#[derive(Deserialize, Default)]
pub struct PortfolioParams {
    #[serde(default)]
    owner: String,
    #[serde(default)]
    segment: String,
    #[serde(default)]
    band: String,
    #[serde(default)]
    risk: String,
    #[serde(default)]
    renewal: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    cursor: String,
}

impl PortfolioParams {
    fn query(self) -> PortfolioQuery {
        PortfolioQuery {
            owner: self.owner,
            segment: self.segment,
            band: self.band,
            risk: self.risk,
            renewal: self.renewal,
            search: self.q,
            sort: self.sort,
            cursor: self.cursor,
        }
    }
}

/// The store's filter of the form's: risk as of the latest risk scores, renewals
/// from the last day of the data.
async fn filter_of(
    state: &ServerState,
    viewer: &Viewer,
    q: &PortfolioQuery,
) -> Result<AccountFilter, WebError> {
    let some = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
    let store = state.app.store();
    let risk_band = match some(&q.risk) {
        None => None,
        Some(band) => {
            let target = Target::Churn.as_str().to_string();
            // No scores yet: a day before any data (and in every backend's range),
            // which nothing matches.
            let before_any = NaiveDate::from_ymd_opt(1, 1, 1).expect("a valid day");
            let day = store
                .latest_risk_day(&target)
                .await
                .or_page(viewer)?
                .unwrap_or(before_any);
            Some(RiskBandFilter { target, day, band })
        }
    };
    let renewal_between = match some(&q.renewal) {
        None => None,
        Some(days) => {
            let days: u64 = days
                .parse()
                .ok()
                .filter(|d| RENEWAL_WINDOWS.contains(d))
                .ok_or_else(|| {
                    WebError::page(
                        viewer,
                        StatusCode::BAD_REQUEST,
                        "Choose a renewal window from the list.",
                    )
                })?;
            let day = today(state, viewer).await?;
            Some((day, day + Days::new(days)))
        }
    };
    Ok(AccountFilter {
        owner: some(&q.owner),
        segment: some(&q.segment),
        band: some(&q.band),
        text: some(&q.search),
        risk_band,
        renewal_between,
        ..AccountFilter::default()
    })
}

fn order_of(q: &PortfolioQuery) -> AccountOrder {
    if q.sort == "name" {
        AccountOrder::Name
    } else {
        AccountOrder::Health
    }
}

/// One page of the portfolio, each row with its sparkline and churn risk.
async fn portfolio_rows(
    state: &ServerState,
    viewer: &Viewer,
    q: &PortfolioQuery,
    filter: &AccountFilter,
    limit: u32,
) -> Result<(Vec<PortfolioRow>, Option<String>), WebError> {
    let app = &state.app;
    let page = PageRequest {
        cursor: (!q.cursor.is_empty()).then(|| q.cursor.clone()),
        limit: Some(limit),
    };
    // Lowest health first is the health table, read along its (day, score) index;
    // by name, the accounts' list.
    let (mut rows, next_cursor): (Vec<PortfolioRow>, Option<String>) = match order_of(q) {
        AccountOrder::Health => match app.health_page(viewer.actor(), None, filter, &page).await {
            Ok((_, page)) => (
                page.items
                    .into_iter()
                    .map(|r| {
                        let some = |v: String| (!v.is_empty()).then_some(v);
                        PortfolioRow {
                            id: r.account_id,
                            name: r.name,
                            segment: some(r.segment),
                            csm: some(r.owner),
                            score: r.score,
                            band: Some(r.band),
                            ..PortfolioRow::default()
                        }
                    })
                    .collect(),
                page.next_cursor,
            ),
            Err(AppError::Conflict(_)) => (Vec::new(), None),
            Err(e) => return Err(WebError::api(Some(viewer), e.into())),
        },
        order => {
            let query = tend_engine::views::accounts::AccountQuery {
                filter: filter.clone(),
                order,
                page,
            };
            let page = app
                .list_accounts(viewer.actor(), &query)
                .await
                .or_page(viewer)?;
            (
                page.items
                    .into_iter()
                    .map(|l| {
                        let a = l.account;
                        PortfolioRow {
                            id: a.id,
                            name: a.name,
                            segment: a.segment,
                            csm: a.csm_owner,
                            score: l.health_score,
                            band: l.health_band,
                            ..PortfolioRow::default()
                        }
                    })
                    .collect(),
                page.next_cursor,
            )
        }
    };
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let store = app.store();
    let last = store.latest_health_day().await.or_page(viewer)?;
    let days: Vec<NaiveDate> = match last {
        Some(last) => (0..SPARK_POINTS)
            .rev()
            .map(|i| last - Days::new(i * SPARK_STEP))
            .collect(),
        None => Vec::new(),
    };
    let scores: HashMap<(String, NaiveDate), Option<f64>> = if days.is_empty() {
        HashMap::new()
    } else {
        store
            .health_scores_of(&ids, &days)
            .await
            .or_page(viewer)?
            .into_iter()
            .map(|(id, d, s)| ((id, d), s))
            .collect()
    };
    let risk_day = store
        .latest_risk_day(Target::Churn.as_str())
        .await
        .or_page(viewer)?;
    let mut risks: HashMap<String, (f64, String)> = match risk_day {
        Some(day) => store
            .risk_snapshots_of(Target::Churn.as_str(), day, &ids)
            .await
            .or_page(viewer)?
            .into_iter()
            .map(|r| (r.account_id, (r.probability, r.band)))
            .collect(),
        None => HashMap::new(),
    };
    for row in &mut rows {
        row.trend = days
            .iter()
            .map(|d| scores.get(&(row.id.clone(), *d)).copied().flatten())
            .collect();
        row.risk = risks.remove(&row.id);
    }
    Ok((rows, next_cursor))
}

pub async fn portfolio(
    State(state): State<ServerState>,
    viewer: Viewer,
    Query(params): Query<PortfolioParams>,
) -> Result<Response, WebError> {
    let q = params.query();
    let filter = filter_of(&state, &viewer, &q).await?;
    let (rows, next) = portfolio_rows(&state, &viewer, &q, &filter, PORTFOLIO_PAGE).await?;
    let segments = state.app.store().segments().await.or_page(&viewer)?;
    // Every scorecard's bands, each name once, in the order the scorecards list them.
    let mut bands: Vec<String> = Vec::new();
    for band in state
        .app
        .scorecards()
        .scorecards
        .iter()
        .flat_map(|c| &c.bands)
    {
        if !bands.contains(&band.name) {
            bands.push(band.name.clone());
        }
    }
    let risk_bands = Bands::NAMES.map(String::from);
    let data = portfolio_page::Portfolio {
        query: &q,
        rows: &rows,
        next_cursor: next.as_deref(),
        segments: &segments,
        bands: &bands,
        risk_bands: &risk_bands,
    };
    Ok(ok(portfolio_page::portfolio(&viewer.nav, &data)))
}

/// A CSV field, quoted when it must be.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// Every account the filters match, page by page, as CSV.
pub async fn portfolio_csv(
    State(state): State<ServerState>,
    viewer: Viewer,
    Query(params): Query<PortfolioParams>,
) -> Result<Response, WebError> {
    let mut q = params.query();
    q.cursor.clear();
    let mut out = String::from(
        "account_id,name,segment,csm_owner,health_score,health_band,churn_probability,churn_band\n",
    );
    let filter = filter_of(&state, &viewer, &q).await?;
    loop {
        let (rows, next) = portfolio_rows(&state, &viewer, &q, &filter, MAX_LIMIT).await?;
        for row in &rows {
            let fields = [
                row.id.clone(),
                row.name.clone(),
                row.segment.clone().unwrap_or_default(),
                row.csm.clone().unwrap_or_default(),
                row.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
                row.band.clone().unwrap_or_default(),
                row.risk
                    .as_ref()
                    .map(|(p, _)| format!("{p:.4}"))
                    .unwrap_or_default(),
                row.risk
                    .as_ref()
                    .map(|(_, b)| b.clone())
                    .unwrap_or_default(),
            ];
            out.push_str(
                &fields
                    .iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        match next {
            Some(cursor) => q.cursor = cursor,
            None => break,
        }
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"portfolio.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}

pub async fn account(
    State(state): State<ServerState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let app = &state.app;
    let actor = viewer.actor();
    let view = app.account_view(actor, &id, None).await.or_page(&viewer)?;
    let day = view.as_of;
    let history = match app.health_history(actor, &id, None, None).await {
        Ok(history) => history,
        Err(AppError::Conflict(_)) => Vec::new(),
        Err(e) => return Err(WebError::api(Some(&viewer), e.into())),
    };
    let risk = match app
        .explain_risk(actor, Target::Churn, &id, None, &Bands::default())
        .await
    {
        Ok(risk) => Some(risk),
        Err(AppError::Conflict(_)) => None,
        Err(e) => return Err(WebError::api(Some(&viewer), e.into())),
    };
    let pipeline = app
        .renewal_pipeline(
            actor,
            &RenewalQuery {
                from: Some(day),
                to: Some(day + Days::new(730)),
                account: Some(id.clone()),
                ..RenewalQuery::default()
            },
        )
        .await
        .or_page(&viewer)?;
    let renewal = pipeline
        .lines
        .into_iter()
        .find(|l| l.renewal.account_id == id && l.renewal.outcome.is_none());
    let timeline = app
        .timeline(actor, &id, &first_page(50))
        .await
        .or_page(&viewer)?
        .items;
    let tasks = open_tasks_by_due(&state, &viewer, TaskScope::Account(id.clone())).await?;
    let plan = app.success_plan(actor, &id).await.or_page(&viewer)?;
    let desk = app.account_desk(actor, &id).await.or_page(&viewer)?;
    let opportunities = app
        .opportunities(
            actor,
            &tend_engine::expansion::opportunities::OpportunityQuery {
                account_id: Some(id.clone()),
                owner: None,
                stage: None,
            },
        )
        .await
        .or_page(&viewer)?;
    let usage = app
        .store()
        .usage_of(&id, day - Days::new(90), day)
        .await
        .or_page(&viewer)?;
    let key_features = key_feature_use(&state, &view, &usage);
    let usage: Vec<(NaiveDate, i64)> = usage.iter().map(|u| (u.day, u.active_users_30d)).collect();
    let risk_month_before = match &risk {
        Some(risk) => app
            .store()
            .risk_history(&id, Target::Churn.as_str())
            .await
            .or_page(&viewer)?
            .into_iter()
            .rev()
            .find(|r| r.day <= risk.day - Days::new(30))
            .map(|r| r.probability),
        None => None,
    };
    let seats = view
        .contracts
        .iter()
        .filter(|c| c.is_held_on(day))
        .map(|c| c.seats)
        .sum();
    let can_write =
        tend_engine::authorize(actor, tend_engine::Action::WriteAccount(&view.account)).is_ok();
    let names = HashMap::from([(view.account.id.clone(), view.account.name.clone())]);
    let back = format!("/app/accounts/{}", tend_web::pages::encode(&id));
    let data = account_page::AccountPage {
        view: &view,
        history: &history,
        risk: risk.as_ref(),
        renewal: renewal.as_ref(),
        timeline: &timeline,
        tasks: TaskTable {
            tasks: &tasks,
            names: &names,
            today: day,
            back: &back,
            bulk: false,
            account_column: false,
        },
        plan: &plan,
        desk: &desk,
        opportunities: &opportunities,
        usage: &usage,
        seats,
        key_features: &key_features,
        risk_month_before,
        can_write,
    };
    Ok(ok(account_page::account_page(&viewer.nav, &data)))
}

/// Days back that key-feature use is counted over.
const FEATURE_DAYS: u64 = 30;

/// Each key feature of the scorecard the account was scored with, and the events
/// of it in the last [`FEATURE_DAYS`] days of `usage`.
fn key_feature_use(
    state: &ServerState,
    view: &tend_engine::views::accounts::AccountView,
    usage: &[tend_core::UsageDaily],
) -> Vec<(String, i64)> {
    let Some(health) = &view.health else {
        return Vec::new();
    };
    let Some(card) = state
        .app
        .scorecards()
        .scorecards
        .iter()
        .find(|c| c.name == health.score.scorecard)
    else {
        return Vec::new();
    };
    let since = view.as_of - Days::new(FEATURE_DAYS - 1);
    card.key_features
        .iter()
        .map(|feature| {
            let events = usage
                .iter()
                .filter(|u| u.day >= since)
                .flat_map(|u| &u.feature_events)
                .filter(|(name, _)| feature.matches(name))
                .map(|(_, n)| n)
                .sum();
            (feature.name.clone(), events)
        })
        .collect()
}

#[derive(Deserialize)]
pub struct TasksParams {
    scope: Option<String>,
}

pub async fn tasks(
    State(state): State<ServerState>,
    viewer: Viewer,
    Query(params): Query<TasksParams>,
) -> Result<Response, WebError> {
    let whose = if params.scope.as_deref() == Some("team") {
        Whose::Team
    } else {
        Whose::Mine
    };
    let scope = match whose {
        Whose::Mine => TaskScope::Mine,
        Whose::Team => TaskScope::Team,
    };
    let day = today(&state, &viewer).await?;
    let tasks = open_tasks_by_due(&state, &viewer, scope).await?;
    let names = names_of(&state, &viewer, tasks.iter().map(|t| t.account_id.clone())).await?;
    let back = match whose {
        Whose::Mine => "/app/tasks",
        Whose::Team => "/app/tasks?scope=team",
    };
    let table = TaskTable {
        tasks: &tasks,
        names: &names,
        today: day,
        back,
        bulk: true,
        account_column: true,
    };
    Ok(ok(tasks_page::tasks_page(&viewer.nav, whose, &table)))
}

#[derive(Deserialize)]
pub struct RenewalsParams {
    /// The pipeline's line the table starts at.
    #[serde(default)]
    start: usize,
}

/// When kept figures were computed, as the page says it.
fn computed<V>(kept: &tend_engine::kept::KeptValue<V>) -> tend_web::parts::Computed {
    tend_web::parts::Computed {
        at: kept.computed_at,
        stale: kept.stale,
    }
}

pub async fn renewals(
    State(state): State<ServerState>,
    viewer: Viewer,
    Query(params): Query<RenewalsParams>,
) -> Result<Response, WebError> {
    let app = &state.app;
    let actor = viewer.actor();
    let book = actor.book.as_deref();
    let (pipeline, forecast) = tokio::try_join!(
        state.figures.pipeline(app, book),
        state.figures.forecast(app, book)
    )
    .or_page(&viewer)?;
    let approvals = if actor.role == Role::Leader {
        Some(app.approvals_for(actor).await.or_page(&viewer)?)
    } else {
        None
    };
    let mut proposals = app
        .proposals(actor, &ProposalQuery::default())
        .await
        .or_page(&viewer)?;
    proposals.sort_by_key(|p| std::cmp::Reverse(p.created_at));
    proposals.truncate(50);
    let ids = proposals
        .iter()
        .chain(approvals.iter().flatten())
        .map(|p| p.account_id.clone());
    let names = names_of(&state, &viewer, ids).await?;
    // The older of the two, and stale if either is.
    let mut shown = computed(&pipeline);
    shown.at = shown.at.min(forecast.computed_at);
    shown.stale |= forecast.stale;
    let data = renewals_page::Renewals {
        pipeline: &pipeline.value,
        forecast: &forecast.value,
        approvals: approvals.as_deref(),
        proposals: &proposals,
        names: &names,
        start: params.start.min(pipeline.value.lines.len()),
        computed: shown,
    };
    Ok(ok(renewals_page::renewals(&viewer.nav, &data)))
}

pub async fn metrics(
    State(state): State<ServerState>,
    viewer: Viewer,
) -> Result<Response, WebError> {
    let figures = state.figures.metrics(&state.app).await.or_page(&viewer)?;
    let f = &figures.value;
    let data = metrics_page::MetricsPage {
        summary: &f.summary,
        by_segment: &f.by_segment,
        by_owner: &f.by_owner,
        quarters: &f.quarters,
        computed: computed(&figures),
    };
    Ok(ok(metrics_page::metrics(&viewer.nav, &data)))
}

#[derive(Deserialize)]
pub struct PlaybooksParams {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    /// The simulation job to show.
    job: Option<u64>,
}

pub async fn playbooks(
    State(state): State<ServerState>,
    viewer: Viewer,
    Query(params): Query<PlaybooksParams>,
) -> Result<Response, WebError> {
    use tend_engine::jobs::{JobOutcome, JobState, SIMULATION_JOB};
    use tend_web::pages::playbooks::SimulationState;
    let app = &state.app;
    let set = app.playbook_list(viewer.actor()).or_page(&viewer)?;
    let day = today(&state, &viewer).await?;
    let to = params.to.unwrap_or(day);
    let from = params.from.unwrap_or(to - Days::new(365));
    let job = match params.job {
        None => None,
        Some(id) => Some(
            app.jobs()
                .status(id)
                .filter(|j| j.kind == SIMULATION_JOB)
                .ok_or_else(|| {
                    WebError::page(
                        &viewer,
                        StatusCode::NOT_FOUND,
                        "There is no such simulation; it may be too old to be kept. Simulate again.",
                    )
                })?,
        ),
    };
    let simulation = match &job {
        None => SimulationState::None,
        Some(j) => match (&j.state, &j.outcome) {
            (JobState::Running, _) => SimulationState::Running {
                job: j.id,
                done: j.done,
                total: j.total,
            },
            (JobState::Succeeded, Some(JobOutcome::Simulation(sim))) => SimulationState::Done(sim),
            _ => SimulationState::Failed(j.message.as_deref().unwrap_or("no reason was given")),
        },
    };
    let data = playbooks_page::PlaybooksPage {
        set,
        from,
        to,
        simulation,
    };
    Ok(ok(playbooks_page::playbooks(&viewer.nav, &data)))
}

/// Deliveries of each webhook the admin page lists, and audit entries.
const ADMIN_DELIVERIES: i64 = 10;
const ADMIN_AUDIT: usize = 100;

pub async fn admin(State(state): State<ServerState>, viewer: Viewer) -> Result<Response, WebError> {
    let app = &state.app;
    let actor = viewer.actor();
    tend_engine::authorize(actor, tend_engine::Action::ManageAccess).or_page(&viewer)?;
    let store = app.store();
    let (users, tokens, sources) =
        tokio::try_join!(store.users(), store.api_tokens(), store.sources()).or_page(&viewer)?;
    let mut webhooks = Vec::new();
    for subscription in app.webhooks(actor).await.or_page(&viewer)? {
        let deliveries = app
            .webhook_deliveries(actor, &subscription.id, None, ADMIN_DELIVERIES)
            .await
            .or_page(&viewer)?;
        webhooks.push((subscription, deliveries));
    }
    let audit = tend_engine::access::audit_page(store, None, ADMIN_AUDIT)
        .await
        .or_page(&viewer)?;
    let data = admin_page::AdminPage {
        users: &users,
        tokens: &tokens,
        sources: &sources,
        webhooks: &webhooks,
        audit: &audit,
    };
    Ok(ok(admin_page::admin(&viewer.nav, &data)))
}
