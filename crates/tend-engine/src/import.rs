//! Importing one file of one entity: parse every row, check references, and write
//! all of it in one transaction, or nothing. With `skip_invalid`, good rows are
//! written and the rejected ones go to a side file with their reasons.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use tend_core::UsageEvent;
use tend_ingest::segment::SegmentReader;
use tend_ingest::{entities, Entity, Format, Record, RecordReader, RowError};
use tend_store::{IdTable, Store, StoreError, Transaction};

/// How many errors a failed import lists before it stops looking.
const MAX_REPORTED_ERRORS: usize = 20;
/// Events written per batch: large enough to amortise a statement, small enough to
/// keep memory flat.
const EVENT_BATCH: usize = 10_000;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Load the valid rows and write the others to a side file instead of failing.
    pub skip_invalid: bool,
    /// Overrides the format taken from the file extension.
    pub format: Option<Format>,
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
    /// Events only: recomputing daily rollups, after the whole file was read.
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
    /// Daily usage rollup rows recomputed from the events.
    pub rollup_rows: u64,
    /// Accounts whose data the import changed, so their health can be refreshed.
    pub accounts: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot tell the format from the extension; use .csv or .jsonl, or pass --format", .0.display())]
    UnknownFormat(PathBuf),
    #[error("{}: nothing was imported:\n{}", path.display(), list_errors(path, errors, *more))]
    InvalidRows {
        path: PathBuf,
        errors: Vec<RowError>,
        more: bool,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn list_errors(path: &Path, errors: &[RowError], more: bool) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut lines: Vec<String> = errors.iter().map(|e| format!("  {name}: {e}")).collect();
    if more {
        lines.push(format!(
            "  … and more; only the first {MAX_REPORTED_ERRORS} are listed"
        ));
    }
    lines.join("\n")
}

/// Imports `path` as `entity` into the store.
pub async fn import_file(
    store: &Store,
    entity: Entity,
    path: &Path,
    options: &ImportOptions,
    progress: &(dyn Fn(ImportProgress) + Sync),
) -> Result<ImportReport, ImportError> {
    let format = match options.format.or_else(|| Format::from_path(path)) {
        Some(format) => format,
        None => return Err(ImportError::UnknownFormat(path.to_path_buf())),
    };
    let io_error = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let bytes_read = Arc::new(AtomicU64::new(0));
    let reader = BufReader::with_capacity(
        1 << 20,
        CountingReader {
            inner: file,
            count: bytes_read.clone(),
        },
    );
    let mut rejects = Rejects::new(path, options.skip_invalid);
    let report_progress = |stage| {
        progress(ImportProgress {
            stage,
            bytes_read: bytes_read.load(Ordering::Relaxed),
        })
    };

    let mut report = if entity == Entity::Events {
        import_events(store, format, reader, &mut rejects, &report_progress).await?
    } else {
        import_rows(store, entity, format, reader, &mut rejects).await?
    };
    report_progress(ImportStage::Done);
    report.rejected = rejects.count;
    report.rejects_file = rejects.finish().map_err(io_error)?;
    Ok(report)
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
        name.push(".rejected.jsonl");
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

/// Ids a row refers to that must exist before it is written.
struct References {
    accounts: HashSet<String>,
    invoices: HashSet<String>,
}

impl References {
    async fn load(store: &Store, entity: Entity) -> Result<Self, StoreError> {
        let invoices = if entity == Entity::Payments {
            store.ids(IdTable::Invoices).await?
        } else {
            HashSet::new()
        };
        Ok(References {
            accounts: store.ids(IdTable::Accounts).await?,
            invoices,
        })
    }

    fn account(&self, record: &Record, field: &str, id: &str) -> Result<(), RowError> {
        if self.accounts.contains(id) {
            Ok(())
        } else {
            Err(record.error(field, missing_account(id)))
        }
    }
}

/// Parses, checks and writes every row of a non-event file in one transaction.
async fn import_rows(
    store: &Store,
    entity: Entity,
    format: Format,
    reader: impl BufRead,
    rejects: &mut Rejects,
) -> Result<ImportReport, ImportError> {
    let mut references = References::load(store, entity).await?;
    let mut records = Vec::new();
    for item in RecordReader::new(format, reader, entity.fields()) {
        match item {
            Ok(record) => records.push(record),
            Err(error) => {
                let fatal = error.fatal;
                rejects.reject(error, None)?;
                if fatal {
                    return Err(rejects.take_error());
                }
            }
        }
    }
    if entity == Entity::Accounts {
        // A parent may be defined further down the same file.
        references.accounts.extend(
            records
                .iter()
                .filter_map(|r| r.get("id").map(|id| id.trim().to_string())),
        );
    }
    let mut tx = store.begin().await?;
    // Parse and check every row, then write them all unless one was refused. A macro
    // because each entity has its own row type and upsert.
    let mut accounts = BTreeSet::new();
    macro_rules! load {
        ($parse:path, $key:expr, $check:expr, $upsert:ident) => {
            load!($parse, $key, $check, $upsert, |row| row.account_id.clone())
        };
        ($parse:path, $key:expr, $check:expr, $upsert:ident, $owner:expr) => {{
            let rows = parse_all(&records, rejects, $parse, $key, $check)?;
            if rejects.failed() {
                return Err(rejects.take_error());
            }
            tx.$upsert(&rows).await?;
            accounts.extend(rows.iter().map($owner));
            rows.len() as u64
        }};
    }
    let account = |r: &Record, id: &str| references.account(r, "account_id", id);
    let written = match entity {
        Entity::Accounts => load!(
            entities::account,
            |a| a.id.clone(),
            |r, a| match &a.parent_id {
                Some(parent) => references.account(r, "parent_id", parent),
                None => Ok(()),
            },
            upsert_accounts,
            |a| a.id.clone()
        ),
        Entity::Contacts => {
            load!(
                entities::contact,
                |c| c.id.clone(),
                |r, c| account(r, &c.account_id),
                upsert_contacts
            )
        }
        Entity::Contracts => {
            load!(
                entities::contract,
                |c| c.id.clone(),
                |r, c| account(r, &c.account_id),
                upsert_contracts
            )
        }
        Entity::UsageDaily => load!(
            entities::usage_daily,
            |u| format!("{} on {}", u.account_id, u.day),
            |r, u| account(r, &u.account_id),
            upsert_usage_daily
        ),
        Entity::Tickets => {
            load!(
                entities::ticket,
                |t| t.id.clone(),
                |r, t| account(r, &t.account_id),
                upsert_tickets
            )
        }
        Entity::SurveyResponses => load!(
            entities::survey_response,
            |s| s.id.clone(),
            |r, s| account(r, &s.account_id),
            upsert_survey_responses
        ),
        Entity::Invoices => {
            load!(
                entities::invoice,
                |i| i.id.clone(),
                |r, i| account(r, &i.account_id),
                upsert_invoices
            )
        }
        Entity::Payments => load!(
            entities::payment,
            |p| p.id.clone(),
            |r, p| {
                account(r, &p.account_id)?;
                if references.invoices.contains(&p.invoice_id) {
                    return Ok(());
                }
                let reason = format!(
                    "no invoice with id {:?}; import it in invoices first",
                    p.invoice_id
                );
                Err(r.error("invoice_id", reason))
            },
            upsert_payments
        ),
        Entity::Activities => {
            load!(
                entities::activity,
                |a| a.id.clone(),
                |r, a| account(r, &a.account_id),
                upsert_activities
            )
        }
        Entity::DemoTruth => load!(
            entities::demo_truth,
            |t| t.account_id.clone(),
            |r, t| account(r, &t.account_id),
            upsert_demo_truth
        ),
        Entity::Events => unreachable!("events are streamed by import_events"),
    };
    tx.commit().await?;
    Ok(ImportReport {
        written,
        accounts,
        ..ImportReport::default()
    })
}

/// Parses every record, checks its references, and refuses a key seen twice.
fn parse_all<T>(
    records: &[Record],
    rejects: &mut Rejects,
    parse: fn(&Record) -> Result<T, RowError>,
    key: impl Fn(&T) -> String,
    check: impl Fn(&Record, &T) -> Result<(), RowError>,
) -> Result<Vec<T>, ImportError> {
    let mut rows = Vec::with_capacity(records.len());
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in records {
        let parsed = parse(record).and_then(|row| {
            check(record, &row)?;
            let id = key(&row);
            if let Some(first_line) = seen.get(&id) {
                return Err(RowError::row(
                    record.line,
                    format!("{id:?} is already on line {first_line} of this file"),
                ));
            }
            seen.insert(id, record.line);
            Ok(row)
        });
        match parsed {
            Ok(row) => rows.push(row),
            Err(error) => rejects.reject(error, Some(&record.raw))?,
        }
    }
    Ok(rows)
}

/// One parsed event line: the event, or why it was refused and the line's text.
type ParsedEvent = Result<UsageEvent, (RowError, String)>;

/// A batch of valid events, sorted by storage key, and the lines refused in it.
#[derive(Default)]
struct EventBatch {
    events: Vec<UsageEvent>,
    rejects: Vec<(RowError, String)>,
}

/// First and last day with events, per account.
type Touched = HashMap<String, (NaiveDate, NaiveDate)>;

/// Reads and validates events on a thread of its own, in batches, so that parsing the
/// next batch overlaps writing the last one. Each batch is sorted by account, day and
/// messageId (stably, so a retry stays behind its original), which makes neighbouring
/// inserts land on the same pages. The thread returns the days each account got.
fn parse_events_in_background(
    format: Format,
    reader: impl BufRead + Send + 'static,
    accounts: HashSet<String>,
) -> (
    tokio::sync::mpsc::Receiver<EventBatch>,
    std::thread::JoinHandle<Touched>,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel::<EventBatch>(4);
    let known_account = move |event: UsageEvent, line: u64, column: Option<usize>| {
        if accounts.contains(&event.account_id) {
            return Ok(event);
        }
        let reason = missing_account(&event.account_id);
        Err(RowError {
            line,
            column,
            field: Some("group_id".into()),
            reason,
            fatal: false,
        })
    };
    let parser = std::thread::spawn(move || {
        let rows: Box<dyn Iterator<Item = ParsedEvent>> = match format {
            Format::JsonLines => {
                let mut calls = SegmentReader::new(reader);
                Box::new(std::iter::from_fn(move || {
                    let item = calls.next()?;
                    let checked = item.and_then(|event| known_account(event, calls.line(), None));
                    Some(checked.map_err(|error| (error, calls.current_line().to_string())))
                }))
            }
            Format::Csv => Box::new(
                RecordReader::new(format, reader, Entity::Events.fields()).map(move |item| {
                    let record = item.map_err(|error| (error, String::new()))?;
                    let column = record.error("group_id", "").column;
                    entities::event(&record)
                        .and_then(|event| known_account(event, record.line, column))
                        .map_err(|error| (error, record.raw))
                }),
            ),
        };
        let mut touched = Touched::new();
        let mut batch = EventBatch::default();
        for row in rows {
            let mut fatal = false;
            match row {
                Ok(event) => {
                    let day = event.timestamp.date_naive();
                    match touched.get_mut(&event.account_id) {
                        Some((first, last)) => {
                            *first = (*first).min(day);
                            *last = (*last).max(day);
                        }
                        None => {
                            touched.insert(event.account_id.clone(), (day, day));
                        }
                    }
                    batch.events.push(event);
                }
                Err((error, raw)) => {
                    fatal = error.fatal;
                    batch.rejects.push((error, raw));
                }
            }
            if batch.events.len() + batch.rejects.len() >= EVENT_BATCH || fatal {
                let mut full = std::mem::take(&mut batch);
                full.events.sort_by(|a, b| {
                    (&a.account_id, a.timestamp.date_naive(), &a.message_id).cmp(&(
                        &b.account_id,
                        b.timestamp.date_naive(),
                        &b.message_id,
                    ))
                });
                // A closed channel means the importer has stopped listening.
                if sender.blocking_send(full).is_err() || fatal {
                    return touched;
                }
            }
        }
        let _ = sender.blocking_send(batch);
        touched
    });
    (receiver, parser)
}

/// Streams an event file into the store in batches, inside one transaction, then
/// recomputes the daily rollups of every account-day the file touched.
async fn import_events(
    store: &Store,
    format: Format,
    reader: impl BufRead + Send + 'static,
    rejects: &mut Rejects,
    progress: &dyn Fn(ImportStage),
) -> Result<ImportReport, ImportError> {
    let accounts = store.ids(IdTable::Accounts).await?;
    let mut tx = store.begin().await?;
    let mut report = ImportReport::default();
    let mut valid = 0u64;
    let (mut batches, parser) = parse_events_in_background(format, reader, accounts);
    'batches: while let Some(mut batch) = batches.recv().await {
        for (error, raw) in batch.rejects {
            let fatal = error.fatal;
            rejects.reject(error, (!raw.is_empty()).then_some(raw.as_str()))?;
            if fatal || rejects.more {
                break 'batches;
            }
        }
        valid += batch.events.len() as u64;
        flush_events(&mut tx, &mut batch.events, rejects, &mut report).await?;
        progress(ImportStage::Reading);
    }
    drop(batches);
    let touched = parser
        .join()
        .expect("the event parser thread does not panic");
    if rejects.failed() {
        tx.rollback().await?;
        return Err(rejects.take_error());
    }
    progress(ImportStage::UpdatingRollups);
    for (account, (first, last)) in &touched {
        report.rollup_rows += tx.refresh_usage_rollups(account, *first, *last).await? as u64;
        report.accounts.insert(account.clone());
    }
    tx.commit().await?;
    report.duplicates = valid - report.written;
    Ok(report)
}

/// Writes the batch unless the import has already failed; after a failure the rest of
/// the file is only validated, and the transaction is rolled back.
async fn flush_events(
    tx: &mut Transaction,
    batch: &mut Vec<UsageEvent>,
    rejects: &Rejects,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if !rejects.failed() && !batch.is_empty() {
        report.written += tx.insert_usage_events(batch).await?;
    }
    batch.clear();
    Ok(())
}
