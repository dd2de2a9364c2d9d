//! A page that says why a request could not be served, in the product's words.

use maud::{html, Markup};

use crate::layout::Nav;

pub fn error_page(nav: Option<&Nav>, title: &str, message: &str, back: Option<&str>) -> Markup {
    let body = html! {
        (crate::parts::notice(crate::parts::NoticeKind::Refused, message))
        @if let Some(back) = back {
            p { a href=(back) { "Back" } }
        }
    };
    match nav {
        Some(nav) => crate::layout::page(title, nav, body),
        None => crate::layout::bare_page(title, body),
    }
}
