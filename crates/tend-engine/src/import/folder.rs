//! `import all`: every entity file of a folder, checked and written in one
//! transaction, so the folder lands whole or not at all.

use std::path::{Path, PathBuf};

use tend_ingest::Entity;
use tend_store::Store;

use super::session::Session;
use super::{ImportError, ImportOptions, ImportProgress, ImportReport, REJECTS_SUFFIX};
use crate::export::IMPORT_ORDER;

/// What a folder import did: each file's report in the order imported, the files
/// skipped as unknown (with `ignore_unknown_files`), and what finishing did
/// (rollups recomputed, kept calls attached).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderReport {
    pub files: Vec<(PathBuf, Entity, ImportReport)>,
    pub ignored: Vec<PathBuf>,
    pub finish: ImportReport,
}

impl FolderReport {
    /// Accounts whose data any of the files changed.
    pub fn accounts(&self) -> std::collections::BTreeSet<String> {
        let mut all = self.finish.accounts.clone();
        for (_, _, report) in &self.files {
            all.extend(report.accounts.iter().cloned());
        }
        all
    }
}

/// The entity a file holds, by its name: `<entity>.csv`, `.jsonl`, `.ndjson` or
/// `.json`, in any case, with `_`, `-` or a space between words
/// (`Survey_Responses.CSV` is survey-responses).
pub fn entity_of_file(path: &Path) -> Option<Entity> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    let (stem, extension) = name.rsplit_once('.')?;
    if !matches!(extension, "csv" | "jsonl" | "ndjson" | "json") {
        return None;
    }
    Entity::parse(&stem.replace([' ', '_'], "-")).ok()
}

/// A folder's entity files, in import order, and the files that are no entity's.
type FolderFiles = (Vec<(PathBuf, Entity)>, Vec<PathBuf>);

/// The entity files of `dir` in the order they must be imported (referenced rows
/// first). Hidden files and the side files of earlier rejected rows are passed over;
/// other files that are no entity's are refused unless `ignore_unknown`.
fn entity_files(dir: &Path, ignore_unknown: bool) -> Result<FolderFiles, ImportError> {
    if !dir.is_dir() {
        return Err(ImportError::NotAFolder(dir.to_path_buf()));
    }
    let io_error = |source| ImportError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut found: Vec<(PathBuf, Entity)> = Vec::new();
    let mut unknown = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        if !path.is_file() || name.starts_with('.') || name.ends_with(REJECTS_SUFFIX) {
            continue;
        }
        match entity_of_file(&path) {
            Some(entity) => {
                if let Some((first, _)) = found.iter().find(|(_, e)| *e == entity) {
                    let (first, second) = sorted_pair(first.clone(), path);
                    return Err(ImportError::TwoFilesForOneEntity {
                        dir: dir.to_path_buf(),
                        entity: entity.name(),
                        first,
                        second,
                    });
                }
                found.push((path, entity));
            }
            None => unknown.push(path),
        }
    }
    unknown.sort();
    if !unknown.is_empty() && !ignore_unknown {
        return Err(ImportError::UnknownFiles {
            dir: dir.to_path_buf(),
            files: unknown,
        });
    }
    if found.is_empty() {
        return Err(ImportError::EmptyFolder(dir.to_path_buf()));
    }
    let order = |entity: &Entity| IMPORT_ORDER.iter().position(|e| e == entity);
    found.sort_by_key(|(_, entity)| order(entity));
    Ok((found, unknown))
}

fn sorted_pair(a: PathBuf, b: PathBuf) -> (PathBuf, PathBuf) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Imports every entity file of `dir` in one transaction. Every file is read and
/// checked even after one fails, so all their errors are listed; then nothing is
/// written. `progress` hears which file is being read.
pub async fn import_folder(
    store: &Store,
    dir: &Path,
    options: &ImportOptions,
    progress: &(dyn Fn(&Path, ImportProgress) + Send + Sync),
) -> Result<FolderReport, ImportError> {
    let (files, ignored) = entity_files(dir, options.ignore_unknown_files)?;
    let mut session = Session::begin(store, options.today()).await?;
    let mut report = FolderReport {
        ignored,
        ..FolderReport::default()
    };
    let mut failures = Vec::new();
    for (path, entity) in files {
        let file_progress = |p: ImportProgress| progress(&path, p);
        match session.import(entity, &path, options, &file_progress).await {
            Ok(file_report) => report.files.push((path, entity, file_report)),
            Err(error @ (ImportError::Store(_) | ImportError::Io { .. })) => {
                session.rollback().await?;
                return Err(error);
            }
            Err(error) => failures.push(error),
        }
    }
    if !failures.is_empty() {
        session.rollback().await?;
        return Err(ImportError::Folder {
            dir: dir.to_path_buf(),
            failures,
        });
    }
    report.finish = session
        .finish(super::IMPORT_EVENTS_REASON, chrono::Utc::now())
        .await?;
    Ok(report)
}
