//! Every route: those in the OpenAPI document, collected with their handlers, and
//! the few that serve the document itself.

pub mod account_plans;
pub mod accounts;
pub mod admin;
pub mod agent;
pub mod expansion;
pub mod health;
pub mod imports;
pub mod plans;
pub mod proposals;
pub mod records;
pub mod renewals;
pub mod reports;
pub mod risk;
pub mod segment;
pub mod session;
pub mod system;
pub mod tasks;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{Problem, RowProblem};
use crate::ServerState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tend",
        description = "Customer success: accounts, health, churn risk, retention, metrics, imports and access. See docs/api.md."
    ),
    components(schemas(Problem, RowProblem, accounts::SortBy)),
    tags(
        (name = "accounts", description = "Accounts, their picture, timeline and edits"),
        (name = "records", description = "Contacts, contracts, tickets, surveys, invoices, payments, activities"),
        (name = "health", description = "Account health"),
        (name = "reports", description = "The portfolio summary and metrics"),
        (name = "risk", description = "Churn risk, retention, why accounts left and lifetime value (docs/risk.md)"),
        (name = "renewals", description = "The renewal pipeline and forecast (docs/renewals.md)"),
        (name = "expansion", description = "Whitespace, expansion signals, opportunities, attribution, account plans and the account team (docs/expansion.md)"),
        (name = "tasks", description = "Tasks (calls to action) and the playbooks that make them (docs/playbooks.md)"),
        (name = "imports", description = "File uploads"),
        (name = "access", description = "Sign-in, users, tokens, event sources, the audit log"),
        (name = "webhooks", description = "Outbound webhooks: subscriptions and their delivery log (docs/webhooks.md)"),
        (name = "ingest", description = "Segment's HTTP Tracking API, with a source's write key (docs/ingest.md)"),
        (name = "agents", description = "The seed agents' JSON messages (docs/agents.md); MCP is served at /mcp"),
        (name = "system", description = "Liveness and readiness")
    )
)]
struct ApiDoc;

/// Routes outside the OpenAPI document: (method, path).
pub const UNDOCUMENTED: &[(&str, &str)] = &[
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
    // The MCP endpoint (streamable HTTP), described in docs/agents.md.
    ("POST", "/mcp"),
];

pub(crate) fn documented() -> OpenApiRouter<ServerState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::me))
        .routes(routes!(system::metrics))
        .routes(routes!(session::login, session::logout, session::current))
        .routes(routes!(accounts::list))
        .routes(routes!(accounts::view, accounts::update))
        .routes(routes!(accounts::timeline))
        .routes(routes!(accounts::log_activity))
        .routes(routes!(health::history))
        .routes(routes!(health::explanation))
        .routes(routes!(health::refresh))
        .routes(routes!(records::contacts))
        .routes(routes!(records::update_contact))
        .routes(routes!(records::contracts))
        .routes(routes!(records::tickets))
        .routes(routes!(records::survey_responses))
        .routes(routes!(records::invoices))
        .routes(routes!(records::payments))
        .routes(routes!(records::activities))
        .routes(routes!(health::portfolio))
        .routes(routes!(health::rescore))
        .routes(routes!(health::evaluate))
        .routes(routes!(health::job))
        .routes(routes!(reports::summary))
        .routes(routes!(reports::metrics))
        .routes(routes!(risk::table))
        .routes(routes!(risk::account))
        .routes(routes!(risk::refit))
        .routes(routes!(risk::evaluate))
        .routes(routes!(risk::retention))
        .routes(routes!(risk::why))
        .routes(routes!(risk::clv))
        .routes(routes!(renewals::pipeline))
        .routes(routes!(renewals::forecast))
        .routes(routes!(renewals::backtest))
        .routes(routes!(renewals::call_history, renewals::make_call))
        .routes(routes!(proposals::create))
        .routes(routes!(proposals::list))
        .routes(routes!(proposals::show))
        .routes(routes!(proposals::approve))
        .routes(routes!(proposals::reject))
        .routes(routes!(proposals::approvals))
        .routes(routes!(proposals::guardrails))
        .routes(routes!(account_plans::show, account_plans::save))
        .routes(routes!(account_plans::set_stakeholder))
        .routes(routes!(account_plans::add_member))
        .routes(routes!(account_plans::remove_member))
        .routes(routes!(expansion::whitespace))
        .routes(routes!(expansion::signals))
        .routes(routes!(expansion::report))
        .routes(routes!(expansion::list_opportunities))
        .routes(routes!(expansion::create_opportunity))
        .routes(routes!(
            expansion::show_opportunity,
            expansion::update_opportunity
        ))
        .routes(routes!(tasks::list_tasks, tasks::create_task))
        .routes(routes!(tasks::show_task, tasks::update_task))
        .routes(routes!(tasks::complete_task))
        .routes(routes!(tasks::cancel_task))
        .routes(routes!(tasks::snooze_task))
        .routes(routes!(tasks::reassign_task))
        .routes(routes!(tasks::comment_task))
        .routes(routes!(tasks::set_step))
        .routes(routes!(tasks::playbooks))
        .routes(routes!(plans::plan))
        .routes(routes!(plans::save_objective))
        .routes(routes!(plans::save_milestone))
        .routes(routes!(plans::time_to_value))
        .routes(routes!(admin::users, admin::add_user))
        .routes(routes!(admin::disable_user))
        .routes(routes!(admin::tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::sources, admin::create_source))
        .routes(routes!(admin::revoke_source))
        .routes(routes!(admin::audit))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::show, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(agent::message))
        .routes(routes!(segment::track))
        .routes(routes!(segment::identify))
        .routes(routes!(segment::group))
        .routes(routes!(segment::page))
        .routes(routes!(segment::screen))
        .routes(routes!(segment::alias))
        .routes(routes!(segment::batch))
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        // Uploads read their body up to their own, larger limit.
        .routes(routes!(imports::upload))
}
