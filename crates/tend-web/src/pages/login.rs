//! Signing in.

use maud::{html, Markup};

/// The sign-in form; `error` says why the last try failed, `next` is where to go after.
pub fn login(error: Option<&str>, next: &str, email: &str) -> Markup {
    crate::layout::bare_page(
        "Sign in",
        html! {
            @if let Some(error) = error {
                (crate::parts::notice(crate::parts::NoticeKind::Refused, error))
            }
            form.login method="post" action="/app/login" {
                input type="hidden" name="next" value=(next);
                label for="email" { "Email" }
                input #email type="email" name="email" autocomplete="username" required value=(email);
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        },
    )
}
