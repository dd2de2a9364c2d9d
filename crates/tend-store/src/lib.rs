//! Storage of tend: one [`Store`] over SQLite (the embedded default) or PostgreSQL,
//! chosen by the database URL, each backend with its own embedded migrations.
//!
//! Both backends run the same SQL wherever the dialects agree (`$n` parameters,
//! `ON CONFLICT … DO UPDATE`), so each query is written once and dispatched to the
//! backend's pool by [`on_backend!`]; only bulk event loading and connection setup
//! differ per backend. Writes go through a [`Transaction`] so that an import either
//! lands whole or not at all.

mod access;
mod account_plans;
mod browse;
mod changes;
mod events;
mod extent;
mod health;
mod live_rollups;
mod mail;
mod opportunities;
mod plans;
mod proposals;
mod reads;
mod renewal_calls;
mod risk;
mod rows;
mod segment_users;
mod sessions;
mod sources;
mod sqlite_bulk;
mod sqlite_read;
mod tasks;
pub mod test_support;
mod traits;
mod webhooks;
mod writes;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use account_plans::{AccountPlanRecord, StakeholderRecord, TeamMemberRecord};
pub use browse::{AccountFilter, AccountListing, AccountOrder, After, RiskBandFilter};
pub use changes::AccountChange;
pub use extent::{DataExtent, DataSource};
pub use health::{AccountData, Distribution, HealthHeadline, HistoryWindow};
pub use live_rollups::{active_user, RollupDelta, StoredEvents};
pub use mail::{EmailRecord, NewEmail};
pub use opportunities::OpportunityRecord;
pub use plans::{MilestoneRecord, ObjectiveRecord, StageRecord};
pub use proposals::ProposalRecord;
pub use reads::{IdTable, TableCounts};
pub use renewal_calls::RenewalCallRecord;
pub use risk::{RiskModelRecord, RiskSnapshot};
pub use segment_users::{LinkedBy, UserLink};
pub use sessions::{SessionRecord, StoredResponse};
pub use tasks::{LastClosed, TaskComment, TaskFilter, TaskRecord, TaskStep, OPEN_STATUSES};
pub use traits::{AccountTraits, ContactTraits, TraitTable};
pub use webhooks::{
    DeliveryAttempt, DeliveryStatus, HealthWatch, NewDelivery, WebhookDelivery, WebhookSubscription,
};

/// The database used when none is given: a file beside the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:tend.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("SQLite error: {0}")]
    Sqlite(String),
    #[error("could not apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    #[error("stored {table} row {id:?} is invalid: {reason}")]
    Corrupt {
        table: &'static str,
        id: String,
        reason: String,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same body against whichever backend `$target` holds, binding its pool or
/// connection to `$name`. The body is compiled once per backend.
macro_rules! on_backend {
    ($target:expr, $name:ident => $body:expr) => {
        match $target {
            $crate::Pool::Sqlite($name) => $body,
            $crate::Pool::Postgres($name) => $body,
        }
    };
}
pub(crate) use on_backend;

/// How a store is opened.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreOptions {
    /// SQLite: commits never checkpoint the write-ahead log themselves (a checkpoint
    /// writes and syncs pages, stalling the commit that triggers it); the owner calls
    /// [`Store::checkpoint`] regularly instead. For a long-running server.
    pub background_checkpoints: bool,
}

/// A connection pool to one tend database.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Commits of this process that changed customer data; see [`Store::generation`].
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Connects to `url` (`sqlite:PATH`, a plain path, or `postgres://…`), creating the
    /// SQLite file if needed, and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, StoreOptions::default()).await
    }

    /// [`Store::connect`] with `options`.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Store> {
        let pool = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?,
            )
        } else if let Some(path) = sqlite_path(url) {
            sqlite_bulk::skip_memory_statistics();
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL with NORMAL sync cannot corrupt the database; a power cut may
                // lose only the last commits, which suits an analytics store.
                .synchronous(SqliteSynchronous::Normal)
                // Large pages split less often under bulk event loads: 16 KiB measured
                // fastest of 4–64 KiB (docs/benchmarks.md). Applies to new files only.
                .page_size(16384)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30))
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory")
                // Reads map the file instead of copying each page out of the OS cache;
                // a full health rescore reads much of it (docs/benchmarks.md).
                .pragma("mmap_size", "2147418112")
                // 1000 pages is SQLite's default.
                .pragma(
                    "wal_autocheckpoint",
                    if options.background_checkpoints {
                        "0"
                    } else {
                        "1000"
                    },
                );
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    // A connection to a local file cannot go stale; pinging it on
                    // every acquire is a needless round trip to its worker thread.
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?,
            )
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let store = Store {
            pool,
            generation: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Starts a write transaction; nothing it writes is visible until [`Transaction::commit`].
    pub async fn begin(&self) -> Result<Transaction> {
        let tx = match &self.pool {
            // IMMEDIATE takes SQLite's write lock up front. A deferred transaction that
            // reads before it writes cannot upgrade once another connection has
            // committed: SQLite answers "database is locked" at once, without waiting
            // out the busy timeout, and a request fails that only had to queue.
            Pool::Sqlite(pool) => TxConn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => TxConn::Postgres(pool.begin().await?),
        };
        Ok(Transaction {
            tx,
            changes_data: false,
            generation: self.generation.clone(),
        })
    }

    /// How many transactions of this process that changed customer data have
    /// committed: those that wrote an audit entry of a customer-data action, or
    /// recorded an account change (every write of the product does one or the
    /// other; sign-ins, tokens, users, sources and webhooks do not count). What is
    /// computed from the data can be kept until this moves; writes of other
    /// processes it cannot see.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub async fn close(&self) {
        on_backend!(&self.pool, pool => pool.close().await)
    }

    /// Copies what the SQLite write-ahead log holds into the database file, as far
    /// as readers allow, without blocking writers (a no-op on PostgreSQL). With
    /// [`StoreOptions::background_checkpoints`] this is the only checkpointing.
    pub async fn checkpoint(&self) -> Result<()> {
        if let Pool::Sqlite(pool) = &self.pool {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    /// Whether [`Store::close`] was called: work in flight may stop quietly.
    pub fn is_closed(&self) -> bool {
        on_backend!(&self.pool, pool => pool.is_closed())
    }
}

/// `sqlite:PATH`, `sqlite://PATH` or a bare path ending in `.db`/`.sqlite`.
fn sqlite_path(url: &str) -> Option<&str> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .or_else(|| (!url.contains("://")).then_some(url))?;
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty()).then_some(path)
}

pub(crate) enum TxConn {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs a body against the connection of a transaction, as [`on_backend!`] does for pools.
macro_rules! on_tx {
    ($target:expr, $name:ident => $body:expr) => {
        match $target {
            $crate::TxConn::Sqlite($name) => $body,
            $crate::TxConn::Postgres($name) => $body,
        }
    };
}
pub(crate) use on_tx;

/// A write transaction. Dropping it without `commit` rolls everything back.
pub struct Transaction {
    tx: TxConn,
    /// It wrote an audit entry of a customer-data action or recorded an account
    /// change.
    changes_data: bool,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Transaction {
    pub async fn commit(self) -> Result<()> {
        on_tx!(self.tx, tx => tx.commit().await?);
        // After the commit: whoever sees the new generation reads the new data.
        if self.changes_data {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(())
    }

    /// Marks this transaction as one that changes data ([`Store::generation`]).
    pub(crate) fn changes_data(&mut self) {
        self.changes_data = true;
    }

    pub async fn rollback(self) -> Result<()> {
        on_tx!(self.tx, tx => tx.rollback().await?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_path;

    #[test]
    fn sqlite_urls() {
        assert_eq!(sqlite_path("sqlite:tend.db"), Some("tend.db"));
        assert_eq!(sqlite_path("sqlite:///tmp/x.db"), Some("/tmp/x.db"));
        assert_eq!(
            sqlite_path("sqlite://data/x.db?mode=rwc"),
            Some("data/x.db")
        );
        assert_eq!(sqlite_path("./tend.db"), Some("./tend.db"));
        assert_eq!(sqlite_path("mysql://host/db"), None);
        assert_eq!(sqlite_path("sqlite:"), None);
    }
}
