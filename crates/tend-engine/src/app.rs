//! The application: a store, the loaded scorecards and a clock, shared by every
//! interface (CLI, server, later the MCP server). Services hang off [`App`] and
//! return plain data or an [`AppError`]; none of them prints or knows HTTP.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tend_core::health::ScorecardSet;
use tend_store::{Store, StoreError};
use tokio::sync::Mutex;

use crate::access::AccessError;
use crate::health::HealthError;
use crate::import::ImportError;
use crate::jobs::Jobs;

/// Where the time comes from: the system clock, or a fixed one in tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that always says the same time.
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// tend's application services over one store. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    scorecards: ScorecardSet,
    clock: Box<dyn Clock>,
    /// Serialises read-modify-write paths (account edits, the incremental health
    /// path with its distributions, idempotent requests) so that two requests at
    /// once lose nothing. One process serves a store.
    writes: Mutex<()>,
    jobs: Jobs,
    /// Pages of the health table already computed (`views::health`).
    pub(crate) health_pages: crate::views::health::PageCache,
    /// The churn model the live path scores changed accounts with.
    churn_model: crate::risk::score::ModelCache,
    playbooks: crate::playbooks::PlaybookSet,
    guardrails: tend_core::guardrails::Guardrails,
    expansion: tend_core::expansion::ExpansionConfig,
}

impl App {
    pub fn new(store: Store, scorecards: ScorecardSet, clock: impl Clock) -> App {
        App {
            inner: Arc::new(Inner {
                store,
                scorecards,
                clock: Box::new(clock),
                writes: Mutex::new(()),
                jobs: Jobs::default(),
                health_pages: Default::default(),
                churn_model: Default::default(),
                playbooks: crate::playbooks::load_playbooks(None)
                    .expect("the shipped playbooks are valid (tested)"),
                guardrails: crate::proposals::load_guardrails(None)
                    .expect("the shipped guardrails are valid (tested)"),
                expansion: crate::expansion::load_expansion(None)
                    .expect("the shipped expansion settings are valid (tested)"),
            }),
        }
    }

    /// The same application with `playbooks` instead of the shipped defaults; called
    /// before the application is shared.
    pub fn with_playbooks(mut self, playbooks: crate::playbooks::PlaybookSet) -> App {
        Arc::get_mut(&mut self.inner)
            .expect("playbooks are set before the application is shared")
            .playbooks = playbooks;
        self
    }

    /// The same application with `guardrails` instead of the shipped ones; called
    /// before the application is shared.
    pub fn with_guardrails(mut self, guardrails: tend_core::guardrails::Guardrails) -> App {
        Arc::get_mut(&mut self.inner)
            .expect("guardrails are set before the application is shared")
            .guardrails = guardrails;
        self
    }

    /// The same application with `expansion` settings instead of the shipped ones;
    /// called before the application is shared.
    pub fn with_expansion(mut self, expansion: tend_core::expansion::ExpansionConfig) -> App {
        Arc::get_mut(&mut self.inner)
            .expect("expansion settings are set before the application is shared")
            .expansion = expansion;
        self
    }

    pub fn expansion(&self) -> &tend_core::expansion::ExpansionConfig {
        &self.inner.expansion
    }

    pub fn guardrails(&self) -> &tend_core::guardrails::Guardrails {
        &self.inner.guardrails
    }

    pub fn playbooks(&self) -> &crate::playbooks::PlaybookSet {
        &self.inner.playbooks
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn scorecards(&self) -> &ScorecardSet {
        &self.inner.scorecards
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }

    pub fn jobs(&self) -> &Jobs {
        &self.inner.jobs
    }

    pub(crate) fn health_pages(&self) -> &crate::views::health::PageCache {
        &self.inner.health_pages
    }

    pub(crate) fn churn_model(&self) -> &crate::risk::score::ModelCache {
        &self.inner.churn_model
    }

    /// Held for the length of a read-modify-write.
    pub async fn write_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.writes.lock().await
    }
}

/// What a service can fail with, by kind, so each interface can answer in its terms.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no {what} with id {id:?}")]
    NotFound { what: &'static str, id: String },
    /// `field` names the input at fault (a JSON pointer such as `/lifecycle_stage`,
    /// or a query parameter).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Rows of an uploaded file that cannot be imported (nothing was).
    #[error("{} rows cannot be imported", errors.len())]
    InvalidRows {
        errors: Vec<tend_ingest::RowError>,
        /// More errors were found than are listed.
        more: bool,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// Something the caller cannot fix; the interface hides the cause.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(what: &'static str, id: impl Into<String>) -> AppError {
        AppError::NotFound {
            what,
            id: id.into(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        AppError::Internal(error.to_string())
    }
}

impl From<AccessError> for AppError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::Invalid { field, reason } => {
                AppError::invalid(format!("/{field}"), reason)
            }
            AccessError::Conflict(message) => AppError::Conflict(message),
            AccessError::NotFound { what, id } => AppError::NotFound { what, id },
            AccessError::Store(e) => e.into(),
        }
    }
}

impl From<HealthError> for AppError {
    fn from(error: HealthError) -> Self {
        match error {
            HealthError::UnknownAccount(id) => AppError::not_found("account", id),
            HealthError::NoHealth | HealthError::NoSnapshots(_) => {
                AppError::Conflict(error.to_string())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<ImportError> for AppError {
    fn from(error: ImportError) -> Self {
        match error {
            ImportError::Io { .. } | ImportError::Store(_) => AppError::Internal(error.to_string()),
            ImportError::InvalidRows { errors, more, .. } => AppError::InvalidRows { errors, more },
            other => AppError::invalid("body", other.to_string()),
        }
    }
}
