//! The writes made from pages: each a form posted with the session's CSRF token,
//! carried out by the same application service as the API's route (so the same
//! roles, books of business, audit log and webhook events), then back to the page
//! it came from (303). A refusal is a page that says why, with its status.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use tend_core::ActivityKind;
use tend_core::TaskStatus;
use tend_engine::views::records::NewActivity;
use tend_web::pages::login;

use super::{html_response, see_other, Fields, OrPage, PageForm, WebError};
use crate::routes::session::{sign_in, sign_out, LoginContext, SignedIn};
use crate::ServerState;

/// A field that must be there, or a page saying which is missing.
fn required<'a>(form: &'a PageForm, name: &str, what: &str) -> Result<&'a str, WebError> {
    form.fields.text(name).ok_or_else(|| {
        WebError::page(
            &form.viewer,
            StatusCode::BAD_REQUEST,
            &format!("Say {what}: the field \"{name}\" is empty."),
        )
    })
}

fn task_id(form: &PageForm, raw: &str) -> Result<i64, WebError> {
    raw.parse().map_err(|_| {
        WebError::page(
            &form.viewer,
            StatusCode::NOT_FOUND,
            "There is no such task.",
        )
    })
}

/// Signs in from the form; back to the form with the reason when it fails.
pub async fn login(
    State(state): State<ServerState>,
    context: LoginContext,
    body: axum::body::Bytes,
) -> Response {
    let fields = Fields(form_urlencoded::parse(&body).into_owned().collect());
    let email = fields.get("email").unwrap_or_default();
    let password = fields.get("password").unwrap_or_default();
    let next = super::safe_back(fields.get("next").unwrap_or("/app")).to_string();
    match sign_in(&state, &context, email, password).await {
        Ok(SignedIn { cookie, .. }) => {
            let mut response = see_other(&next);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Err(error) => {
            let status = error.status();
            if let crate::error::ApiError::Internal(cause) = &error {
                tracing::error!(%cause, "sign-in failed");
            }
            html_response(status, login::login(Some(&error.detail()), &next, email))
        }
    }
}

pub async fn logout(
    State(state): State<ServerState>,
    form: PageForm,
) -> Result<Response, WebError> {
    let cookie = sign_out(&state, &form.viewer.caller)
        .await
        .or_page(&form.viewer)?;
    let mut response = see_other("/app/login");
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

pub async fn log_activity(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    form: PageForm,
) -> Result<Response, WebError> {
    let kind = form.fields.get("kind").unwrap_or("note");
    let kind = ActivityKind::parse(kind).map_err(|_| {
        WebError::page(
            &form.viewer,
            StatusCode::BAD_REQUEST,
            "A touch is a note, call, meeting or email.",
        )
    })?;
    let new = NewActivity {
        kind,
        subject: required(&form, "subject", "what the touch was about")?.to_string(),
        body: form.fields.text("body").map(str::to_string),
        contact_id: None,
        occurred_at: None,
    };
    state
        .app
        .log_activity(form.viewer.actor(), &id, &new)
        .await
        .or_page(&form.viewer)?;
    Ok(see_other(&format!(
        "/app/accounts/{}#timeline",
        tend_web::pages::encode(&id)
    )))
}

pub async fn complete_task(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    form: PageForm,
) -> Result<Response, WebError> {
    let id = task_id(&form, &id)?;
    let reason = form.fields.text("reason").unwrap_or("");
    state
        .app
        .close_task(form.viewer.actor(), id, TaskStatus::Done, reason)
        .await
        .or_page(&form.viewer)?;
    Ok(see_other(&form.fields.back()))
}

pub async fn snooze_task(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    form: PageForm,
) -> Result<Response, WebError> {
    let id = task_id(&form, &id)?;
    let until = required(&form, "until", "until when")?;
    let until = NaiveDate::parse_from_str(until, "%Y-%m-%d").map_err(|_| {
        WebError::page(
            &form.viewer,
            StatusCode::BAD_REQUEST,
            "The day to snooze until is not a date (YYYY-MM-DD).",
        )
    })?;
    let reason = required(&form, "reason", "why the task waits")?;
    state
        .app
        .snooze_task(form.viewer.actor(), id, until, reason)
        .await
        .or_page(&form.viewer)?;
    Ok(see_other(&form.fields.back()))
}

/// Completes or reassigns every selected task; stops at the first refused, having
/// done those before it (each is its own audited write, as through the API).
pub async fn bulk_tasks(
    State(state): State<ServerState>,
    form: PageForm,
) -> Result<Response, WebError> {
    let ids = form
        .fields
        .all("task")
        .into_iter()
        .map(|raw| task_id(&form, raw))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err(WebError::page(
            &form.viewer,
            StatusCode::BAD_REQUEST,
            "Select at least one task.",
        ));
    }
    let actor = form.viewer.actor();
    match form.fields.get("action") {
        Some("complete") => {
            for id in ids {
                state
                    .app
                    .close_task(actor, id, TaskStatus::Done, "")
                    .await
                    .or_page(&form.viewer)?;
            }
        }
        Some("reassign") => {
            let owner = required(&form, "owner", "whom to reassign them to")?;
            for id in ids {
                state
                    .app
                    .reassign_task(actor, id, owner)
                    .await
                    .or_page(&form.viewer)?;
            }
        }
        _ => {
            return Err(WebError::page(
                &form.viewer,
                StatusCode::BAD_REQUEST,
                "Choose complete or reassign.",
            ))
        }
    }
    Ok(see_other(&form.fields.back()))
}

pub async fn decide_proposal(
    State(state): State<ServerState>,
    Path(id): Path<String>,
    form: PageForm,
) -> Result<Response, WebError> {
    let id: i64 = id.parse().map_err(|_| {
        WebError::page(
            &form.viewer,
            StatusCode::NOT_FOUND,
            "There is no such proposal.",
        )
    })?;
    let approve = match form.fields.get("decision") {
        Some("approve") => true,
        Some("reject") => false,
        _ => {
            return Err(WebError::page(
                &form.viewer,
                StatusCode::BAD_REQUEST,
                "Choose approve or reject.",
            ))
        }
    };
    let comment = form.fields.text("comment");
    state
        .app
        .decide_proposal(form.viewer.actor(), id, approve, comment)
        .await
        .or_page(&form.viewer)?;
    Ok(see_other(&form.fields.back()).into_response())
}

/// The longest period a simulation from the page replays.
const MAX_SIMULATED_DAYS: i64 = 731;

/// Starts a replay of the playbooks as a job and sends the browser to its page,
/// which shows its progress and then its results.
pub async fn simulate_playbooks(
    State(state): State<ServerState>,
    form: PageForm,
) -> Result<Response, WebError> {
    let period = format!(
        "Simulate a period that starts before it ends, of at most {MAX_SIMULATED_DAYS} days."
    );
    let refused = |why: &str| WebError::page(&form.viewer, StatusCode::BAD_REQUEST, why);
    // Each field named when it is not a day.
    let day = |name: &str, label: &str| match form.fields.text(name) {
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| {
            refused(&format!(
                "{label} “{v}” is not a date as YYYY-MM-DD. {period}"
            ))
        }),
        None => Err(refused(&format!("{label} is missing. {period}"))),
    };
    let (from, to) = (day("from", "From")?, day("to", "To")?);
    if from > to || (to - from).num_days() > MAX_SIMULATED_DAYS {
        return Err(refused(&period));
    }
    let job = state
        .app
        .start_simulation(form.viewer.actor(), from, to)
        .or_page(&form.viewer)?;
    Ok(see_other(&format!(
        "/app/playbooks?job={}&from={from}&to={to}",
        job.id
    )))
}
