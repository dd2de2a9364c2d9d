//! The frame of every page: head, the navigation of a signed-in user, the main
//! region, and the CSRF token every write carries (a hidden field of each form, and
//! a header of each htmx request).

use maud::{html, Markup, DOCTYPE};

use crate::assets;

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Cockpit,
    Portfolio,
    Renewals,
    Tasks,
    Metrics,
    Playbooks,
    Admin,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Cockpit,
        Section::Portfolio,
        Section::Renewals,
        Section::Tasks,
        Section::Metrics,
        Section::Playbooks,
        Section::Admin,
    ];

    fn title(self) -> &'static str {
        match self {
            Section::Cockpit => "Cockpit",
            Section::Portfolio => "Portfolio",
            Section::Renewals => "Renewals",
            Section::Tasks => "Tasks",
            Section::Metrics => "Metrics",
            Section::Playbooks => "Playbooks",
            Section::Admin => "Admin",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Section::Cockpit => "/app",
            Section::Portfolio => "/app/portfolio",
            Section::Renewals => "/app/renewals",
            Section::Tasks => "/app/tasks",
            Section::Metrics => "/app/metrics",
            Section::Playbooks => "/app/playbooks",
            Section::Admin => "/app/admin",
        }
    }
}

/// Who is signed in, and where they are.
#[derive(Debug, Clone)]
pub struct Nav {
    pub name: String,
    pub role: String,
    /// The session's CSRF token.
    pub csrf: String,
    pub section: Option<Section>,
    /// Whether the caller may write anything at all (not a viewer).
    pub can_write: bool,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · tend" }
            link rel="icon" href="data:,";
            link rel="stylesheet" href=(assets::url("uPlot.min.css"));
            link rel="stylesheet" href=(assets::url("app.css"));
            script src=(assets::url("htmx.min.js")) defer {}
            script src=(assets::url("uPlot.iife.min.js")) defer {}
            script src=(assets::url("app.js")) defer {}
        }
    }
}

/// A page of a signed-in user.
pub fn page(title: &str, nav: &Nav, body: Markup) -> Markup {
    let headers = serde_json::json!({ "X-CSRF-Token": nav.csrf }).to_string();
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body hx-boost="true" hx-headers=(headers) {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/app" { "tend" }
                    nav aria-label="Sections" {
                        ul {
                            @for section in Section::ALL.into_iter().filter(|s| *s != Section::Admin || nav.role == "admin") {
                                li {
                                    @if nav.section == Some(section) {
                                        a href=(section.path()) aria-current="page" { (section.title()) }
                                    } @else {
                                        a href=(section.path()) { (section.title()) }
                                    }
                                }
                            }
                        }
                    }
                    div.who {
                        span { (nav.name) " · " (nav.role) }
                        form method="post" action="/app/logout" {
                            (crate::parts::csrf_field(&nav.csrf))
                            button.link type="submit" { "Sign out" }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page without the navigation: signing in, and errors of the signed-out.
pub fn bare_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body.bare {
                main #main {
                    p.brand { "tend" }
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}
