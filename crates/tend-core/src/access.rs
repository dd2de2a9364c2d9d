//! Who may use tend: users, API tokens and the audit log of what they did. Secrets
//! never appear here: password and token hashes stay in the store and the engine.

use chrono::{DateTime, Utc};

use crate::model::{InvalidValue, Role};

/// A person who signs in. The `handle` is what account owner fields name
/// (`csm_owner`, `am_owner`), so a user's book of business is the accounts that name
/// their handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub handle: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// An API token for a system or an agent. Its secret is shown once at creation and
/// stored only as a hash; `id` is the public part that names it in lists and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Limits the token to the book of business of this handle.
    pub book: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Usable at `now`: not revoked and not expired.
    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

/// One audited event: who did what to which target, and what changed (a JSON
/// object of field → value). Entries are appended, never changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Order of entry, from 1.
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub changes: String,
}

/// A handle: 1–64 lower-case letters, digits, `.`, `_` or `-`, as owner fields
/// spell them (`alex.morgan`).
pub fn parse_handle(text: &str) -> Result<String, InvalidValue> {
    let handle = text.trim().to_ascii_lowercase();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if handle.is_empty() || handle.len() > 64 || !handle.chars().all(allowed) {
        return Err(InvalidValue(format!(
            "{text:?} is not a handle: use 1–64 letters, digits, '.', '_' or '-'"
        )));
    }
    Ok(handle)
}

/// An email address, lower-cased: one `@` with text on both sides and a dot in the
/// domain, no spaces.
pub fn parse_email(text: &str) -> Result<String, InvalidValue> {
    let email = text.trim().to_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(email)
    } else {
        Err(InvalidValue(format!("{text:?} is not an email address")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_emails_are_checked() {
        assert_eq!(parse_handle(" Alex.Morgan ").unwrap(), "alex.morgan");
        assert!(parse_handle("alex morgan").is_err());
        assert!(parse_handle("").is_err());
        assert_eq!(
            parse_email("Dana@Vendor.Example").unwrap(),
            "dana@vendor.example"
        );
        for bad in [
            "dana",
            "dana@",
            "@vendor.example",
            "dana@vendor",
            "da na@x.io",
            "a@b@c.io",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
        assert_eq!(Role::parse("CSM").unwrap(), Role::Csm);
    }

    #[test]
    fn a_token_is_valid_until_revoked_or_expired() {
        let at = |h| {
            DateTime::parse_from_rfc3339(&format!("2026-12-01T{h:02}:00:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        let mut token = ApiToken {
            id: "t".into(),
            name: "agent".into(),
            role: Role::Viewer,
            book: None,
            created_by: "admin".into(),
            created_at: at(1),
            expires_at: Some(at(5)),
            revoked_at: None,
        };
        assert!(token.is_valid_at(at(4)));
        assert!(!token.is_valid_at(at(5)));
        token.expires_at = None;
        token.revoked_at = Some(at(2));
        assert!(!token.is_valid_at(at(3)));
    }
}

/// A sender of Segment calls (a web app, a backend, a pipeline) with a write key of
/// its own. The key is shown once at creation and stored only as a hash; a revoked
/// source's calls are refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: String,
    pub name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}
