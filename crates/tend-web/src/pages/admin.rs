//! Admin: users, API tokens, event sources (write keys), webhooks with their
//! delivery log, and the audit log. Secrets are never shown: only their public ids.

use maud::{html, Markup};
use tend_core::access::{ApiToken, AuditEntry, Source, User};
use tend_store::{WebhookDelivery, WebhookSubscription};

use crate::layout::{page, Nav, Section};

pub struct AdminPage<'a> {
    pub users: &'a [User],
    pub tokens: &'a [ApiToken],
    pub sources: &'a [Source],
    /// Each subscription with its latest deliveries.
    pub webhooks: &'a [(WebhookSubscription, Vec<WebhookDelivery>)],
    pub audit: &'a [AuditEntry],
}

fn at(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

pub fn admin(nav: &Nav, data: &AdminPage) -> Markup {
    let body = html! {
        section aria-labelledby="users" {
            h2 #users { "Users" }
            table {
                thead { tr { th scope="col" { "Handle" } th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Active" } } }
                tbody { @for u in data.users { tr { td { (u.handle) } td { (u.name) } td { (u.email) } td { (u.role.as_str()) } td { @if u.active { "yes" } @else { "disabled" } } } } }
            }
        }
        section aria-labelledby="tokens" {
            h2 #tokens { "API tokens" }
            table {
                thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Book" } th scope="col" { "Expires" } th scope="col" { "Revoked" } } }
                tbody {
                    @for t in data.tokens {
                        tr {
                            td { code { (t.id) } } td { (t.name) } td { (t.role.as_str()) } td { (t.book.as_deref().unwrap_or("all")) }
                            td { (t.expires_at.as_ref().map_or("never".to_string(), at)) } td { (t.revoked_at.as_ref().map_or("–".to_string(), at)) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="sources" {
            h2 #sources { "Event sources (write keys)" }
            table {
                thead { tr { th scope="col" { "Id" } th scope="col" { "Name" } th scope="col" { "Created by" } th scope="col" { "Revoked" } } }
                tbody { @for s in data.sources { tr { td { code { (s.id) } } td { (s.name) } td { (s.created_by) } td { (s.revoked_at.as_ref().map_or("–".to_string(), at)) } } } }
            }
        }
        section aria-labelledby="webhooks" {
            h2 #webhooks { "Webhooks" }
            @if data.webhooks.is_empty() { p.empty { "No webhook subscriptions." } }
            @for (w, deliveries) in data.webhooks {
                h3 { (w.url) }
                p {
                    (w.event_types.join(", ")) "; " (w.format) "; "
                    @if w.active { "active" } @else { "off" @if let Some(r) = &w.disabled_reason { " (" (r) ")" } }
                    "; " (w.failure_streak) " failures in a row"
                }
                @if deliveries.is_empty() { p.empty { "Nothing delivered yet." } } @else {
                    table {
                        caption.visually-hidden { "Deliveries to " (w.url) }
                        thead { tr { th scope="col" { "Event" } th scope="col" { "Account" } th scope="col" { "Status" } th scope="col" { "Attempts" } th scope="col" { "Last answer" } th scope="col" { "Last error" } } }
                        tbody {
                            @for d in deliveries {
                                tr {
                                    td { (d.event_type) } td { (d.account_id) } td { (d.status.as_str()) } td.num { (d.attempts) }
                                    td { (d.last_status.map_or("–".to_string(), |s| s.to_string())) } td { (d.last_error.as_deref().unwrap_or("–")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="audit" {
            h2 #audit { "Audit log, newest first" }
            table {
                thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Did" } th scope="col" { "To" } } }
                tbody { @for e in data.audit { tr { td { (at(&e.at)) } td { (e.actor) } td { (e.action) } td { (e.target) } } } }
            }
        }
    };
    page(
        "Admin",
        &Nav {
            section: Some(Section::Admin),
            ..nav.clone()
        },
        body,
    )
}
