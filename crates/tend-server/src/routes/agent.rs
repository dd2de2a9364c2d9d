//! The seed agents' JSON messages over HTTP: a context request answered with the
//! same context as the MCP tool `get_customer_context`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::mcp::{tools, ToolError};
use crate::ServerState;

/// A request of an agent, as the customer-success seed sends it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentMessage {
    /// Who asks, e.g. customer-success-manager.
    pub requesting_agent: String,
    /// get_customer_context or progress_report.
    pub request_type: String,
    #[serde(default)]
    pub payload: AgentPayload,
}

/// What the agent asks for; every field is optional.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AgentPayload {
    /// The request in words (kept for the log; the context answers all of it).
    pub query: Option<String>,
    /// One account's context instead of the book's.
    pub account_id: Option<String>,
    /// A CSM's or account manager's handle; the caller's book by default.
    pub owner: Option<String>,
    pub segment: Option<String>,
    /// The next page of accounts, from a previous answer's `next_cursor`.
    pub cursor: Option<String>,
    /// Accounts per page, 1–100 (default 25).
    pub limit: Option<u32>,
}

/// tend's answer.
#[derive(Serialize, ToSchema)]
pub struct AgentReply {
    /// Always "tend".
    pub responding_agent: &'static str,
    pub request_type: String,
    /// What the answer says, in a sentence.
    pub summary: String,
    /// For get_customer_context: segments, product usage, health, churn risks,
    /// growth opportunities, success goals and a page of accounts (docs/agents.md);
    /// for progress_report: the progress message.
    #[schema(value_type = Object)]
    pub context: Value,
}

/// Answers an agent's message: `get_customer_context` with the customer context of
/// the caller's book (or one account), `progress_report` with the book's progress.
#[utoipa::path(post, path = "/api/v1/agent/messages", tag = "agents",
    request_body = AgentMessage,
    responses((status = 200, description = "The answer", body = AgentReply)))]
pub async fn message(
    State(state): State<ServerState>,
    caller: Caller,
    JsonBody(message): JsonBody<AgentMessage>,
) -> Result<Json<AgentReply>, ApiError> {
    let p = message.payload;
    tracing::info!(agent = %message.requesting_agent, query = ?p.query, request = %message.request_type, "agent message");
    let mut arguments = Map::new();
    let mut put = |name: &str, value: Option<Value>| {
        if let Some(value) = value {
            arguments.insert(name.to_string(), value);
        }
    };
    match message.request_type.as_str() {
        "get_customer_context" => {
            put("account_id", p.account_id.map(Value::from));
            put("owner", p.owner.map(Value::from));
            put("segment", p.segment.map(Value::from));
            put("cursor", p.cursor.map(Value::from));
            put("limit", p.limit.map(Value::from));
        }
        "progress_report" => put("owner", p.owner.map(Value::from)),
        other => {
            return Err(ApiError::invalid(
                "/request_type",
                format!("must be get_customer_context or progress_report, not {other:?}"),
            ))
        }
    }
    let answer = tools::call(&state.app, &caller.actor, &message.request_type, arguments)
        .await
        .map_err(|error| match error {
            ToolError::Argument(detail) => ApiError::Invalid {
                pointer: Some("/payload".into()),
                detail,
            },
            ToolError::NotFound { what, id } => {
                ApiError::NotFound(format!("no {what} with id {id:?}"))
            }
            ToolError::Refused(message) => ApiError::Forbidden(message),
            ToolError::Internal(cause) => ApiError::Internal(cause),
        })?;
    Ok(Json(AgentReply {
        responding_agent: "tend",
        request_type: message.request_type,
        summary: answer.summary,
        context: answer.structured,
    }))
}
