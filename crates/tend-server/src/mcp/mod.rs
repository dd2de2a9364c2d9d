//! tend's Model Context Protocol server (through `rmcp`, the protocol's Rust SDK):
//! the tools of [`tools`], account resources and the seed workflows' prompts
//! ([`prompts`]). Over stdio (`tend mcp`) the caller is fixed when it starts; over
//! streamable HTTP (`/mcp` on `tend serve`) every request carries an API token,
//! checked as the JSON API checks it. Either way the engine's policy decides what
//! the caller may do, and every write is audited with the caller as actor.

pub mod prompts;
pub mod tools;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, GetPromptRequestParams,
    GetPromptResponse, Implementation, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use tend_engine::{Actor, App};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::ServerState;

/// Why a tool call failed, in words an agent can act on. Sent as a tool error
/// (`isError: true`), never as a protocol failure.
#[derive(Debug)]
pub enum ToolError {
    /// An argument is wrong: its name and what is wrong with it.
    Argument(String),
    NotFound {
        what: &'static str,
        id: String,
    },
    /// The caller may not do it, or the data does not allow it now.
    Refused(String),
    /// Not the caller's to fix; the cause goes to the log only.
    Internal(String),
}

impl ToolError {
    pub fn argument(name: &str, message: impl std::fmt::Display) -> ToolError {
        ToolError::Argument(format!("argument `{name}`: {message}"))
    }
}

/// The closest account id to `wanted` among `ids`: the same number with the same
/// prefix ("ACC-1" → "ACC-00001"), else the nearest by edit distance.
pub fn closest_id<'a>(wanted: &str, ids: &'a [String]) -> Option<&'a str> {
    let split = |id: &str| {
        let digits = id.trim_start_matches(|c: char| !c.is_ascii_digit());
        let prefix = id[..id.len() - digits.len()].to_ascii_uppercase();
        (prefix, digits.parse::<u64>().ok())
    };
    let (prefix, number) = split(wanted);
    if number.is_some() {
        if let Some(same) = ids.iter().find(|id| split(id) == (prefix.clone(), number)) {
            return Some(same);
        }
    }
    let wanted = wanted.to_ascii_uppercase();
    ids.iter()
        .map(|id| (strsim::levenshtein(&wanted, &id.to_ascii_uppercase()), id))
        .filter(|(distance, id)| *distance <= 2.min(id.len() / 3))
        .min()
        .map(|(_, id)| id.as_str())
}

/// The words of a tool error, with a suggestion for an unknown account.
async fn words(app: &App, error: ToolError) -> String {
    match error {
        ToolError::Argument(message) | ToolError::Refused(message) => message,
        ToolError::NotFound {
            what: "account",
            id,
        } => {
            let ids = app.store().account_ids().await.unwrap_or_default();
            match closest_id(&id, &ids) {
                Some(near) => format!("no account {id:?}; did you mean {near:?}?"),
                None => format!("no account {id:?}; search_accounts finds accounts by name or id"),
            }
        }
        ToolError::NotFound { what, id } => format!("no {what} with id {id:?}"),
        ToolError::Internal(cause) => {
            tracing::error!(%cause, "an MCP tool call failed");
            "tend could not complete the call; the server's log has the cause".to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::closest_id;

    #[test]
    fn an_unknown_account_id_suggests_the_one_meant() {
        let ids: Vec<String> = ["ACC-00001", "ACC-00099", "ACC-00100", "BETA-7"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(closest_id("ACC-1", &ids), Some("ACC-00001"));
        assert_eq!(closest_id("acc-99", &ids), Some("ACC-00099"));
        assert_eq!(closest_id("ACC-0010", &ids), Some("ACC-00100"));
        assert_eq!(closest_id("BETA-8", &ids), Some("BETA-7"));
        assert_eq!(closest_id("ACC-99999", &ids), None);
        assert_eq!(closest_id("Northwind", &ids), None);
    }
}

/// One MCP connection's handler. `actor` is fixed over stdio; over HTTP each
/// request's authenticated caller is used.
#[derive(Clone)]
pub struct TendMcp {
    app: App,
    actor: Option<Actor>,
}

impl TendMcp {
    pub fn new(app: App, actor: Option<Actor>) -> TendMcp {
        TendMcp { app, actor }
    }

    fn actor(&self, ctx: &RequestContext<RoleServer>) -> Result<Actor, McpError> {
        if let Some(actor) = &self.actor {
            return Ok(actor.clone());
        }
        ctx.extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>())
            .map(|caller| caller.actor.clone())
            // The HTTP layer refuses requests without a caller before they get here.
            .ok_or_else(|| McpError::invalid_request("no authenticated caller", None))
    }
}

/// What `initialize` tells the client of tend.
const INSTRUCTIONS: &str = "tend is the customer-success platform of this company: accounts, \
health, churn risk, tasks and portfolio metrics. Start with get_customer_context (the \
caller's book, or one account_id), drill down with get_account, explain_health and \
get_timeline, and record work with create_task, update_task and log_activity. Account ids \
are the company's own; search_accounts finds them by name.";

impl ServerHandler for TendMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(
            Implementation::new("tend", env!("CARGO_PKG_VERSION"))
                .with_title("tend customer success"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::list()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let actor = self.actor(&ctx)?;
        let arguments = request.arguments.unwrap_or_default();
        let result = match tools::call(&self.app, &actor, &request.name, arguments).await {
            Ok(answer) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(answer.summary)]);
                result.structured_content = Some(answer.structured);
                result
            }
            Err(error) => {
                CallToolResult::error(vec![ContentBlock::text(words(&self.app, error).await)])
            }
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(prompts::resources()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            prompts::resource_templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let actor = self.actor(&ctx)?;
        match prompts::read(&self.app, &actor, &request.uri).await {
            Ok(result) => Ok(result.into()),
            Err(error) => Err(McpError::resource_not_found(
                words(&self.app, error).await,
                None,
            )),
        }
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(prompts::list()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        prompts::get(&request.name, request.arguments.unwrap_or_default())
            .map(Into::into)
            .map_err(|message| McpError::invalid_params(message, None))
    }
}

/// Serves MCP over this process's stdin and stdout until the client closes them.
pub async fn serve_stdio(app: App, actor: Actor) -> Result<(), String> {
    let running = TendMcp::new(app, Some(actor))
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("the MCP client did not start a session: {e}"))?;
    running
        .waiting()
        .await
        .map_err(|e| format!("the MCP session ended badly: {e}"))?;
    Ok(())
}

/// `/mcp`: streamable HTTP, every request authenticated with an API token.
pub fn router(state: ServerState) -> axum::Router<ServerState> {
    let app = state.app.clone();
    let service: StreamableHttpService<TendMcp, LocalSessionManager> = StreamableHttpService::new(
        move || Ok(TendMcp::new(app.clone(), None)),
        Default::default(),
        // Every request needs a Bearer token, which a page a browser was tricked
        // into loading does not have, so the Host check against DNS rebinding is
        // not needed and would refuse tend behind its own host name.
        StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .with_max_request_body_bytes(crate::MAX_BODY_BYTES),
    );
    axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(state, authenticate))
}

/// Lets through only requests with a valid API token, its caller attached.
async fn authenticate(State(state): State<ServerState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if !parts.headers.contains_key(AUTHORIZATION) {
        return bearer_needed(ApiError::Unauthorized);
    }
    let caller = match <Caller as axum::extract::FromRequestParts<ServerState>>::from_request_parts(
        &mut parts, &state,
    )
    .await
    {
        Ok(caller) => caller,
        Err(error) => return bearer_needed(error),
    };
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

fn bearer_needed(error: ApiError) -> Response {
    let mut response = error.into_response();
    if response.status() == axum::http::StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}
