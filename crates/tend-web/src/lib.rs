//! The web app's pages as HTML: pure functions from the application's views (what
//! `tend_engine::App` returns) to markup, and the assets the pages load, all built
//! into the binary. The server (`tend_server::web`) finds out who is asking, reads
//! the views and sends what these functions render.

#![forbid(unsafe_code)]

pub mod assets;
pub mod format;
pub mod layout;
pub mod pages;
pub mod parts;

pub use layout::{Nav, Section};
pub use maud::Markup;
