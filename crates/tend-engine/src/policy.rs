//! Who may do what: one function every interface asks, so each rule is stated once.
//!
//! - `admin`: everything, users, tokens and the audit log included;
//! - `leader`: reads everything, writes every account, imports and rescores, and
//!   approves or rejects proposals beyond the negotiation guardrails;
//! - `csm`, `am`: read every account; write only accounts in their book (those whose
//!   CSM or account-manager owner is their handle);
//! - `viewer`: reads only.
//!
//! A token restricted to a book writes only accounts of that book, whatever its role.

use tend_core::{Account, Role};

use crate::app::AppError;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// How the audit log names the caller: `user:HANDLE`, `token:ID` or `cli`.
    pub name: String,
    pub role: Role,
    /// The handle whose book of business limits the caller's writes: a CSM's or
    /// account manager's own handle, or a token's book.
    pub book: Option<String>,
}

impl Actor {
    /// The command line: the person at the terminal of the server's machine.
    pub fn cli() -> Actor {
        Actor {
            name: "cli".to_string(),
            role: Role::Admin,
            book: None,
        }
    }

    /// A signed-in user: a CSM's or account manager's writes are limited to their book.
    pub fn of_user(user: &tend_core::access::User) -> Actor {
        let book = matches!(user.role, Role::Csm | Role::Am).then(|| user.handle.clone());
        Actor {
            name: format!("user:{}", user.handle),
            role: user.role,
            book,
        }
    }

    /// A caller with an API token, limited as the token says.
    pub fn of_token(token: &tend_core::access::ApiToken) -> Actor {
        Actor {
            name: format!("token:{}", token.id),
            role: token.role,
            book: token.book.clone(),
        }
    }

    /// The handle activities are logged under: a user's own, a book-restricted
    /// token's book (it acts for that person), otherwise the audit name.
    pub fn author(&self) -> &str {
        match self.name.split_once(':') {
            Some(("user", handle)) => handle,
            Some(("token", _)) => self.book.as_deref().unwrap_or(&self.name),
            _ => &self.name,
        }
    }
}

/// Something a caller asks to do.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    /// Read accounts, their records, health and metrics.
    Read,
    /// Change an account or what belongs to it (its fields, contacts, activities).
    WriteAccount(&'a Account),
    /// Import files, rescore health: changes across the whole portfolio.
    WritePortfolio,
    /// See or change users and tokens.
    ManageAccess,
    /// Read the audit log.
    ReadAudit,
    /// See or change webhook subscriptions and their deliveries.
    ManageWebhooks,
    /// Approve or reject a proposal beyond the negotiation guardrails.
    DecideProposal,
}

impl Action<'_> {
    fn words(&self) -> String {
        match self {
            Action::Read => "read accounts".to_string(),
            Action::WriteAccount(account) => format!("change account {:?}", account.id),
            Action::WritePortfolio => "import data or rescore the portfolio".to_string(),
            Action::ManageAccess => "see or change users and tokens".to_string(),
            Action::ReadAudit => "read the audit log".to_string(),
            Action::ManageWebhooks => "see or change webhooks".to_string(),
            Action::DecideProposal => "approve or reject proposals".to_string(),
        }
    }
}

fn in_book(account: &Account, handle: &str) -> bool {
    account.csm_owner.as_deref() == Some(handle) || account.am_owner.as_deref() == Some(handle)
}

/// Whether `actor` may do `action`; the refusal says what was refused.
pub fn authorize(actor: &Actor, action: Action) -> Result<(), AppError> {
    let role_allows = match action {
        Action::Read => true,
        Action::WriteAccount(account) => {
            let role_writes = match actor.role {
                Role::Admin | Role::Leader => true,
                Role::Csm | Role::Am => actor.book.is_some(),
                Role::Viewer => false,
            };
            role_writes
                && actor
                    .book
                    .as_deref()
                    .is_none_or(|handle| in_book(account, handle))
        }
        Action::WritePortfolio => {
            matches!(actor.role, Role::Admin | Role::Leader) && actor.book.is_none()
        }
        Action::ManageAccess | Action::ReadAudit | Action::ManageWebhooks => {
            actor.role == Role::Admin && actor.book.is_none()
        }
        // Approvals are the leaders' own: an admin runs the system, not the deals.
        Action::DecideProposal => actor.role == Role::Leader && actor.book.is_none(),
    };
    if role_allows {
        Ok(())
    } else {
        let why = match (&action, &actor.book) {
            (Action::WriteAccount(_), Some(handle)) => {
                format!(" outside the book of {handle:?}")
            }
            _ => String::new(),
        };
        Err(AppError::Forbidden(format!(
            "the {} role may not {}{why}",
            actor.role.as_str(),
            action.words()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn account(csm: &str, am: &str) -> Account {
        Account {
            id: "acc".into(),
            name: "Acme".into(),
            parent_id: None,
            segment: None,
            tier: None,
            industry: None,
            region: None,
            lifecycle_stage: None,
            csm_owner: Some(csm.into()),
            am_owner: Some(am.into()),
            created_on: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            churned_on: None,
            churn_reason: None,
        }
    }

    fn actor(role: Role, book: Option<&str>) -> Actor {
        Actor {
            name: "user:x".into(),
            role,
            book: book.map(String::from),
        }
    }

    #[test]
    fn book_of_business_limits_writes() {
        let a = account("jane", "omar");
        assert!(authorize(&actor(Role::Csm, Some("jane")), Action::WriteAccount(&a)).is_ok());
        assert!(authorize(&actor(Role::Am, Some("omar")), Action::WriteAccount(&a)).is_ok());
        assert!(authorize(&actor(Role::Csm, Some("lee")), Action::WriteAccount(&a)).is_err());
        assert!(authorize(&actor(Role::Csm, None), Action::WriteAccount(&a)).is_err());
        assert!(authorize(&actor(Role::Viewer, None), Action::WriteAccount(&a)).is_err());
        assert!(authorize(&actor(Role::Leader, None), Action::WriteAccount(&a)).is_ok());
        // A book-restricted admin token writes only its book.
        assert!(authorize(&actor(Role::Admin, Some("lee")), Action::WriteAccount(&a)).is_err());
        assert!(authorize(&actor(Role::Admin, Some("lee")), Action::ManageAccess).is_err());
    }

    #[test]
    fn only_admins_manage_access() {
        for role in [Role::Leader, Role::Csm, Role::Am, Role::Viewer] {
            assert!(authorize(&actor(role, None), Action::ManageAccess).is_err());
            assert!(authorize(&actor(role, None), Action::ReadAudit).is_err());
            assert!(authorize(&actor(role, None), Action::Read).is_ok());
        }
        assert!(authorize(&actor(Role::Admin, None), Action::ManageAccess).is_ok());
    }
}
