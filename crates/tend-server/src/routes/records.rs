//! The records of accounts, a page at a time in id order, and contact edits.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use tend_core::ContactRole;
use tend_engine::views::records::{ContactChanges, RecordKind, Records};
use tend_engine::views::PageRequest;
use utoipa::IntoParams;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{JsonBody, Params};
use crate::wire::*;
use crate::ServerState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordParams {
    /// Only this account's records.
    pub account: Option<String>,
    pub cursor: Option<String>,
    /// Items per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Reads one page of `kind`, converted into `$body` items.
macro_rules! record_list {
    ($name:ident, $path:literal, $kind:ident, $body:ty, $what:literal) => {
        #[doc = concat!("Lists ", $what, ", of one account or all, in id order.")]
        #[utoipa::path(get, path = $path, tag = "records", params(RecordParams),
            responses((status = 200, description = concat!("A page of ", $what), body = RecordPage<$body>)))]
        pub async fn $name(
            State(state): State<ServerState>,
            caller: Caller,
            Params(p): Params<RecordParams>,
        ) -> Result<Json<RecordPage<$body>>, ApiError> {
            let page = PageRequest {
                cursor: p.cursor,
                limit: p.limit,
            };
            let (records, next_cursor) = state
                .app
                .list_records(&caller.actor, RecordKind::$kind, p.account.as_deref(), &page)
                .await?;
            let Records::$kind(items) = records else {
                return Err(ApiError::Internal("records of another kind".into()));
            };
            Ok(Json(RecordPage {
                items: items.into_iter().map(Into::into).collect(),
                next_cursor,
            }))
        }
    };
}

record_list!(
    contacts,
    "/api/v1/contacts",
    Contacts,
    ContactBody,
    "contacts"
);
record_list!(
    contracts,
    "/api/v1/contracts",
    Contracts,
    ContractBody,
    "contracts"
);
record_list!(
    tickets,
    "/api/v1/tickets",
    Tickets,
    TicketBody,
    "support tickets"
);
record_list!(
    survey_responses,
    "/api/v1/survey-responses",
    SurveyResponses,
    SurveyResponseBody,
    "survey responses"
);
record_list!(
    invoices,
    "/api/v1/invoices",
    Invoices,
    InvoiceBody,
    "invoices"
);
record_list!(
    payments,
    "/api/v1/payments",
    Payments,
    PaymentBody,
    "payments"
);
record_list!(
    activities,
    "/api/v1/activities",
    Activities,
    ActivityBody,
    "activities"
);

/// Changes a contact's role or title; within a CSM's or AM's own book only.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "records",
    params(("id" = String, Path, description = "Contact id")),
    request_body = ContactPatch,
    responses((status = 200, description = "The contact as changed", body = ContactBody)))]
pub async fn update_contact(
    State(state): State<ServerState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(patch): JsonBody<ContactPatch>,
) -> Result<Json<ContactBody>, ApiError> {
    let changes = ContactChanges {
        role: patch
            .role
            .as_deref()
            .map(|r| ContactRole::parse(r).map_err(|e| ApiError::invalid("/role", e.0)))
            .transpose()?,
        title: patch.title,
    };
    let contact = state
        .app
        .update_contact(&caller.actor, &id, &changes)
        .await?;
    Ok(Json(contact.into()))
}
