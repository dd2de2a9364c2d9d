//! What each role may do: one function every route asks, so a rule is stated once.

use tend_core::Role;

use crate::auth::Actor;
use crate::error::ApiError;

/// Something a caller asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the caller's own identity.
    ReadSelf,
    /// Read accounts and their data (every role may).
    ReadAccounts,
}

impl Action {
    fn words(self) -> &'static str {
        match self {
            Action::ReadSelf => "read its own identity",
            Action::ReadAccounts => "read accounts",
        }
    }
}

/// Whether `actor` may do `action`.
pub fn authorize(actor: &Actor, action: Action) -> Result<(), ApiError> {
    let allowed = match action {
        Action::ReadSelf | Action::ReadAccounts => matches!(
            actor.role,
            Role::Admin | Role::Leader | Role::Csm | Role::Am | Role::Viewer
        ),
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(action.words()))
    }
}
