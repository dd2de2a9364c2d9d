//! Resources (an account's context at `tend://accounts/{id}`, the caller's
//! portfolio at `tend://portfolio`) and prompts for the seed workflows: account
//! analysis, QBR preparation and renewal preparation.

use rmcp::model::{
    GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, ReadResourceResult,
    Resource, ResourceContents, ResourceTemplate, Role,
};
use tend_engine::views::context::ContextQuery;
use tend_engine::{Actor, App};

use super::ToolError;

const ACCOUNT_PREFIX: &str = "tend://accounts/";
const PORTFOLIO: &str = "tend://portfolio";
const JSON: &str = "application/json";

pub fn resources() -> Vec<Resource> {
    vec![Resource::new(PORTFOLIO, "portfolio")
        .with_title("Portfolio context")
        .with_description(
            "The customer context of the caller's book (or the portfolio), first page",
        )
        .with_mime_type(JSON)]
}

pub fn resource_templates() -> Vec<ResourceTemplate> {
    vec![ResourceTemplate::new(format!("{ACCOUNT_PREFIX}{{id}}"), "account")
        .with_title("Account context")
        .with_description(
            "One account's customer context: health and its drivers, usage, churn risk, growth opportunities, goals, open tasks",
        )
        .with_mime_type(JSON)]
}

/// Reads a resource as JSON text.
pub async fn read(app: &App, actor: &Actor, uri: &str) -> Result<ReadResourceResult, ToolError> {
    let json = if uri == PORTFOLIO {
        let context = app
            .portfolio_context(actor, &ContextQuery::default())
            .await?;
        serde_json::to_string(&context)
    } else if let Some(id) = uri.strip_prefix(ACCOUNT_PREFIX) {
        let context = app.account_context(actor, id).await?;
        serde_json::to_string(&context)
    } else {
        return Err(ToolError::Argument(format!(
            "no resource {uri:?}: tend serves {PORTFOLIO} and {ACCOUNT_PREFIX}{{id}}"
        )));
    }
    .map_err(|e| ToolError::Internal(e.to_string()))?;
    Ok(ReadResourceResult::new(vec![ResourceContents::text(
        json, uri,
    )
    .with_mime_type(JSON)]))
}

/// A workflow prompt: its name, what it is for, and the request it makes.
struct Workflow {
    name: &'static str,
    description: &'static str,
    request: &'static str,
}

const WORKFLOWS: &[Workflow] = &[
    Workflow {
        name: "account_analysis",
        description: "Analyse one account: health and its drivers, usage, risks, opportunities, next steps",
        request: "Analyse account {account_id}. Call get_customer_context with account_id \
{account_id}, then explain_health and get_timeline for it. Report: its health and what moved \
it, product usage, churn risk and its reasons, growth opportunities, open goals and tasks. \
End with the three most useful next steps, and offer to create them as tasks with create_task.",
    },
    Workflow {
        name: "qbr_preparation",
        description: "Prepare a quarterly business review for one account",
        request: "Prepare a quarterly business review for account {account_id}. Call get_account \
and get_customer_context for it, and get_timeline for the last quarter's activities and tickets. \
Write: the value delivered (usage, adoption, goals achieved), health over the quarter and why, \
support history, risks to raise with the customer, and proposed goals for next quarter. Log \
the preparation with log_activity (kind note) once it is agreed.",
    },
    Workflow {
        name: "renewal_preparation",
        description: "Prepare the renewal of one account: contract, risk, negotiation position",
        request: "Prepare the renewal of account {account_id}. Call get_account for its contracts \
(ARR, end dates, auto-renew), get_customer_context for health, churn risk and opportunities, \
and list_tasks with account_id {account_id} for work already planned. Write: what renews when, \
the risk and its reasons, what to fix before the renewal conversation, expansion to propose, and \
a timeline from today to the renewal date. Create the outreach task with create_task (kind renewal).",
    },
];

pub fn list() -> Vec<Prompt> {
    WORKFLOWS
        .iter()
        .map(|w| {
            Prompt::new(
                w.name,
                Some(w.description),
                Some(vec![PromptArgument::new("account_id")
                    .with_description("The account's id, e.g. ACC-00001")
                    .with_required(true)]),
            )
        })
        .collect()
}

pub fn get(name: &str, arguments: JsonObject) -> Result<GetPromptResult, String> {
    let Some(workflow) = WORKFLOWS.iter().find(|w| w.name == name) else {
        return Err(format!(
            "no prompt {name:?}; prompts/list names account_analysis, qbr_preparation and renewal_preparation"
        ));
    };
    let account = arguments
        .get("account_id")
        .and_then(|v| v.as_str())
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| format!("prompt {name:?} needs the argument `account_id`"))?;
    let text = workflow.request.replace("{account_id}", account.trim());
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(workflow.description),
    )
}
