//! Imports of an uploaded file: the same checks, report and errors as the CLI's,
//! in one transaction, so a file with a bad row writes nothing.

use std::io::Write;

use tend_ingest::{Entity, Format};

use crate::app::{App, AppError};
use crate::health::refresh_after_import;
use crate::import::{import_file, ImportOptions, ImportReport};
use crate::policy::{authorize, Action, Actor};

impl App {
    /// Imports `body` as a file of `entity` in `format`; audited, and health
    /// brought up to date as after a CLI import.
    pub async fn import_upload(
        &self,
        actor: &Actor,
        entity: Entity,
        format: Format,
        body: &[u8],
    ) -> Result<ImportReport, AppError> {
        authorize(actor, Action::WritePortfolio)?;
        let _writing = self.write_lock().await;
        // The importer reads files (and streams big ones); an upload becomes one.
        let dir = tempfile::tempdir().map_err(|e| AppError::Internal(e.to_string()))?;
        let extension = match format {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        };
        let path = dir.path().join(format!("{}.{extension}", entity.name()));
        std::fs::File::create(&path)
            .and_then(|mut file| file.write_all(body))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let options = ImportOptions {
            format: Some(format),
            today: Some(self.today()),
            ..ImportOptions::default()
        };
        let report = import_file(self.store(), entity, &path, &options, &|_| {}).await?;
        refresh_after_import(
            self.store(),
            self.scorecards(),
            &report.accounts,
            self.today(),
        )
        .await?;
        self.audit(
            actor,
            "import",
            entity.name(),
            &[
                ("written", report.written.into()),
                ("duplicates", report.duplicates.into()),
                ("pending", report.pending.into()),
                ("accounts", report.accounts.len().into()),
            ],
        )
        .await?;
        Ok(report)
    }
}
