//! One module a page.

pub mod account;
pub mod admin;
pub mod cockpit;
pub mod error;
pub mod login;
pub mod metrics;
pub mod playbooks;
pub mod portfolio;
pub mod renewals;
pub mod tasks;

/// Links to an account's page.
pub fn account_href(id: &str) -> String {
    format!("/app/accounts/{}", encode(id))
}

/// `text` made safe inside a URL path segment or query value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
