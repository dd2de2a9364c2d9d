//! Importing files: one file of one entity, or every entity file of a folder. Every
//! row is parsed and its references checked, and the whole import is written in one
//! transaction, or nothing. With `skip_invalid`, good rows are written and the
//! rejected ones go to a side file with their reasons.

mod events;
mod folder;
mod live;
mod session;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use tend_ingest::{Entity, Format, RowError};
use tend_store::{Store, StoreError};

pub use folder::{entity_of_file, import_folder, FolderReport};
pub use live::{commit_calls, LiveReport, CHANGE_REASON, TRAITS_CHANGE_REASON};
pub(crate) use session::Session;

/// How many errors a failed import lists before it stops looking.
const MAX_REPORTED_ERRORS: usize = 20;

/// Why an import changed an account, in the queue of account changes: this and the
/// entity's name, `import.accounts`, `import.contacts`, …
pub const IMPORT_CHANGE_REASON: &str = "import";
/// Why an import's events (or calls it attached) changed an account.
pub const IMPORT_EVENTS_REASON: &str = "import.events";

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Load the valid rows and write the others to a side file instead of failing.
    pub skip_invalid: bool,
    /// Overrides the format taken from the file extension.
    pub format: Option<Format>,
    /// The day taken as today (the clock's by default): no usage rollup is written
    /// for a later day.
    pub today: Option<NaiveDate>,
    /// Folder imports: skip files that are not an entity's instead of refusing them.
    pub ignore_unknown_files: bool,
    /// The reporting currency, which exchange rates without a `base` are against; by
    /// default the one contract currency such a file does not price.
    pub reporting_currency: Option<tend_core::Currency>,
}

impl ImportOptions {
    fn today(&self) -> NaiveDate {
        self.today
            .unwrap_or_else(|| chrono::Utc::now().date_naive())
    }
}

/// Where an import is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    pub stage: ImportStage,
    /// Bytes of the file read so far.
    pub bytes_read: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStage {
    Reading,
    /// Recomputing daily usage rollups, after every file was read.
    UpdatingRollups,
    Done,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows written (inserted or updated); for events, the new ones only.
    pub written: u64,
    /// Events whose messageId was already stored or repeated in the file.
    pub duplicates: u64,
    pub rejected: u64,
    /// Where the rejected rows were written, if any were.
    pub rejects_file: Option<PathBuf>,
    /// Calls without a groupId whose user is not tied to an account yet: kept, and
    /// attached once a group call links the user.
    pub pending: u64,
    /// Calls kept earlier (or above) that a group call or a contact's email in this
    /// import tied to an account, and that are now usage events.
    pub attached: u64,
    /// Calls in the store still waiting for their user to be tied to an account,
    /// after an import that read calls.
    pub waiting: u64,
    /// Calls with only an anonymousId and no groupId: no account can be told, so they
    /// are skipped (counted, not errors).
    pub anonymous_skipped: u64,
    /// Daily usage rollup rows recomputed from raw events.
    pub rollup_rows: u64,
    /// Accounts whose data the import changed, so their health can be refreshed.
    pub accounts: BTreeSet<String>,
    /// Exchange rates without a `base`: the currency they were read against.
    pub assumed_base: Option<tend_core::Currency>,
}

impl ImportReport {
    fn add(&mut self, other: &ImportReport) {
        self.written += other.written;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
        self.pending += other.pending;
        self.attached += other.attached;
        self.waiting = self.waiting.max(other.waiting);
        self.anonymous_skipped += other.anonymous_skipped;
        self.rollup_rows += other.rollup_rows;
        self.assumed_base = self.assumed_base.or(other.assumed_base);
        self.accounts.extend(other.accounts.iter().cloned());
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot tell the format from the extension; use .csv or .jsonl", .0.display())]
    UnknownFormat(PathBuf),
    #[error("{}: nothing was imported:\n{}", path.display(), list_errors(path, errors, *more))]
    InvalidRows {
        path: PathBuf,
        errors: Vec<RowError>,
        more: bool,
    },
    #[error("{}: nothing was imported; {} of its files failed:\n{}", dir.display(), failures.len(), list_failures(failures))]
    Folder {
        dir: PathBuf,
        failures: Vec<ImportError>,
    },
    #[error("{}: not an entity's file: {}; name files <entity>.csv or <entity>.jsonl (entities: {})", dir.display(), names(files), entity_names())]
    UnknownFiles { dir: PathBuf, files: Vec<PathBuf> },
    #[error("{}: {} and {} are both {entity} files; keep one", dir.display(), names(std::slice::from_ref(first)), names(std::slice::from_ref(second)))]
    TwoFilesForOneEntity {
        dir: PathBuf,
        entity: &'static str,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{}: not a folder; `import all` takes a folder of <entity>.csv / <entity>.jsonl files", .0.display())]
    NotAFolder(PathBuf),
    #[error("{}: no <entity>.csv or <entity>.jsonl files found", .0.display())]
    EmptyFolder(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn names(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| file_name(f))
        .collect::<Vec<_>>()
        .join(", ")
}

fn entity_names() -> String {
    Entity::ALL
        .iter()
        .map(Entity::name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_errors(path: &Path, errors: &[RowError], more: bool) -> String {
    let name = file_name(path);
    let mut lines: Vec<String> = errors.iter().map(|e| format!("  {name}: {e}")).collect();
    if more {
        lines.push(format!(
            "  … and more; only the first {MAX_REPORTED_ERRORS} are listed"
        ));
    }
    lines.join("\n")
}

fn list_failures(failures: &[ImportError]) -> String {
    failures
        .iter()
        .map(|failure| match failure {
            ImportError::InvalidRows { path, errors, more } => list_errors(path, errors, *more),
            other => format!("  {other}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Imports `path` as `entity` into the store, in one transaction.
pub async fn import_file(
    store: &Store,
    entity: Entity,
    path: &Path,
    options: &ImportOptions,
    progress: &(dyn Fn(ImportProgress) + Send + Sync),
) -> Result<ImportReport, ImportError> {
    let mut session = Session::begin(store, options.today()).await?;
    let result = session.import(entity, path, options, progress).await;
    let mut report = match result {
        Ok(report) => report,
        Err(error) => {
            session.rollback().await?;
            return Err(error);
        }
    };
    progress(ImportProgress {
        stage: ImportStage::UpdatingRollups,
        bytes_read: 0,
    });
    report.add(&session.finish(IMPORT_EVENTS_REASON, Utc::now()).await?);
    progress(ImportProgress {
        stage: ImportStage::Done,
        bytes_read: 0,
    });
    Ok(report)
}

/// Opens `path` for reading, counting the bytes read into `count` for progress.
fn open_counted(
    path: &Path,
    count: Arc<AtomicU64>,
) -> Result<impl std::io::BufRead + Send + 'static, ImportError> {
    let file = File::open(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(BufReader::with_capacity(
        1 << 20,
        CountingReader { inner: file, count },
    ))
}

/// Collects rejected rows: into a side file with `--skip-invalid`, otherwise as the
/// errors that fail the import.
struct Rejects {
    source: PathBuf,
    skip_invalid: bool,
    count: u64,
    errors: Vec<RowError>,
    more: bool,
    file: Option<(PathBuf, BufWriter<File>)>,
}

impl Rejects {
    fn new(source: &Path, skip_invalid: bool) -> Self {
        Rejects {
            source: source.to_path_buf(),
            skip_invalid,
            count: 0,
            errors: Vec::new(),
            more: false,
            file: None,
        }
    }

    /// The side file: `accounts.csv` → `accounts.csv.rejected.jsonl`.
    fn side_file_path(&self) -> PathBuf {
        let mut name = self.source.file_name().unwrap_or_default().to_os_string();
        name.push(REJECTS_SUFFIX);
        self.source.with_file_name(name)
    }

    /// Records a rejected row. A fatal error (a bad header) fails the import even with
    /// `--skip-invalid`, as no row after it can be read.
    fn reject(&mut self, error: RowError, raw: Option<&str>) -> Result<(), ImportError> {
        self.count += 1;
        if error.fatal || !self.skip_invalid {
            if self.errors.len() < MAX_REPORTED_ERRORS {
                self.errors.push(error);
            } else {
                self.more = true;
            }
            return Ok(());
        }
        if self.file.is_none() {
            let path = self.side_file_path();
            let file = File::create(&path).map_err(|source| ImportError::Io {
                path: path.clone(),
                source,
            })?;
            self.file = Some((path, BufWriter::new(file)));
        }
        let (path, writer) = self.file.as_mut().expect("opened above");
        let line = serde_json::json!({
            "line": error.line,
            "column": error.column,
            "field": error.field,
            "reason": error.reason,
            "row": raw,
        });
        writeln!(writer, "{line}").map_err(|source| ImportError::Io {
            path: path.clone(),
            source,
        })
    }

    /// Whether the import must fail (and write nothing).
    fn failed(&self) -> bool {
        !self.errors.is_empty()
    }

    fn take_error(&mut self) -> ImportError {
        ImportError::InvalidRows {
            path: self.source.clone(),
            errors: std::mem::take(&mut self.errors),
            more: self.more,
        }
    }

    fn finish(self) -> std::io::Result<Option<PathBuf>> {
        match self.file {
            Some((path, mut writer)) => {
                writer.flush()?;
                Ok(Some(path))
            }
            None => Ok(None),
        }
    }
}

/// What the side file of rejected rows adds to the imported file's name.
const REJECTS_SUFFIX: &str = ".rejected.jsonl";

/// Counts the bytes passing through, for progress.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn missing_account(id: &str) -> String {
    format!("no account with id {id:?}; import it in accounts first")
}
