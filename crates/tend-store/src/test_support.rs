//! Helpers for tests that need a real store: a fresh SQLite file, and a fresh
//! PostgreSQL database when `TEND_TEST_POSTGRES_URL` points at a server.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::{Result, Store};

/// The environment variable naming a PostgreSQL server tests may create databases on.
pub const POSTGRES_URL_VAR: &str = "TEND_TEST_POSTGRES_URL";

/// A store in a new SQLite file inside `dir`.
pub async fn sqlite_store(dir: &std::path::Path) -> Result<Store> {
    Store::connect(&format!("sqlite:{}", dir.join("tend.db").display())).await
}

/// A store in a new, empty PostgreSQL database, or `None` (with the reason printed)
/// when `TEND_TEST_POSTGRES_URL` is not set.
pub async fn postgres_store(test_name: &str) -> Result<Option<Store>> {
    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        println!("skipped the PostgreSQL half of {test_name}: {POSTGRES_URL_VAR} is not set");
        return Ok(None);
    };
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "tend_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        test_name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(30)
            .collect::<String>()
    )
    .to_lowercase();
    let admin: PgConnectOptions = admin_url.parse()?;
    let mut conn = admin.connect().await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let url = admin.database(&name).to_url_lossy().to_string();
    Ok(Some(Store::connect(&url).await?))
}

/// Runs `story` on a fresh SQLite store and, when `TEND_TEST_POSTGRES_URL` is set, on
/// a fresh PostgreSQL database (printing that it skipped otherwise). Each run gets an
/// empty folder of its own for files, removed afterwards.
pub async fn on_every_backend<F, Fut>(test_name: &str, story: F)
where
    F: Fn(Store, std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = sqlite_store(dir.path()).await.expect("a SQLite store");
    story(store, dir.path().to_path_buf()).await;
    if let Some(store) = postgres_store(test_name).await.expect("a PostgreSQL store") {
        let dir = tempfile::tempdir().expect("a temporary folder");
        story(store, dir.path().to_path_buf()).await;
    }
}
