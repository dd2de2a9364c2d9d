//! Writing the whole store as import files, one per entity, so that `tend import all`
//! of the folder rebuilds the same store.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use tend_ingest::{export, Entity};
use tend_store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Csv { path: PathBuf, source: csv::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The order in which entity files must be imported: referenced rows first.
pub const IMPORT_ORDER: &[Entity] = &[
    Entity::Accounts,
    Entity::Contacts,
    Entity::Contracts,
    Entity::FxRates,
    Entity::Invoices,
    Entity::Payments,
    Entity::Tickets,
    Entity::SurveyResponses,
    Entity::Activities,
    Entity::Objectives,
    Entity::Milestones,
    Entity::LifecycleStages,
    Entity::UsageDaily,
    Entity::Events,
    Entity::DemoTruth,
];

/// The file an entity is exported to inside `dir`.
pub fn export_path(dir: &Path, entity: Entity) -> PathBuf {
    dir.join(format!("{}.csv", entity.name()))
}

fn write_csv<T>(
    dir: &Path,
    entity: Entity,
    rows: &[T],
    fields: fn(&T) -> Vec<String>,
) -> Result<usize, ExportError> {
    write_rows(dir, entity, rows.iter().map(fields))
}

/// Writes `entity`'s file from rows of field values, returning how many were written.
fn write_rows(
    dir: &Path,
    entity: Entity,
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<usize, ExportError> {
    let path = export_path(dir, entity);
    let csv_error = |source| ExportError::Csv {
        path: path.clone(),
        source,
    };
    let file = File::create(&path).map_err(|source| ExportError::Io {
        path: path.clone(),
        source,
    })?;
    let mut writer = csv::Writer::from_writer(BufWriter::new(file));
    writer.write_record(entity.fields()).map_err(csv_error)?;
    let mut count = 0;
    for row in rows {
        writer.write_record(row).map_err(csv_error)?;
        count += 1;
    }
    writer.flush().map_err(|source| ExportError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(count)
}

/// Writes every entity that has rows to `dir` (created if missing); returns the files
/// written with their row counts.
pub async fn export_store(store: &Store, dir: &Path) -> Result<Vec<(PathBuf, usize)>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for &entity in IMPORT_ORDER {
        let count = match entity {
            Entity::Accounts => write_csv(dir, entity, &store.accounts().await?, export::account)?,
            Entity::Contacts => write_csv(dir, entity, &store.contacts().await?, export::contact)?,
            Entity::Contracts => {
                write_csv(dir, entity, &store.contracts().await?, export::contract)?
            }
            Entity::Invoices => write_csv(dir, entity, &store.invoices().await?, export::invoice)?,
            Entity::Payments => write_csv(dir, entity, &store.payments().await?, export::payment)?,
            Entity::Tickets => write_csv(dir, entity, &store.tickets().await?, export::ticket)?,
            Entity::SurveyResponses => write_csv(
                dir,
                entity,
                &store.survey_responses().await?,
                export::survey_response,
            )?,
            Entity::Activities => {
                write_csv(dir, entity, &store.activities().await?, export::activity)?
            }
            Entity::UsageDaily => write_csv(
                dir,
                entity,
                &store.usage_daily().await?,
                export::usage_daily,
            )?,
            Entity::Events => {
                // Calls still waiting for their user's account go out without a group,
                // so importing the folder keeps them waiting.
                let events = store.usage_events().await?;
                let pending = store.pending_calls().await?;
                let rows = events.iter().map(export::event);
                write_rows(
                    dir,
                    entity,
                    rows.chain(pending.iter().map(export::pending_call)),
                )?
            }
            Entity::Objectives => {
                let rows = store.all_objectives().await?;
                write_rows(
                    dir,
                    entity,
                    rows.into_iter().map(|o| {
                        vec![
                            o.id,
                            o.account_id,
                            o.title,
                            o.created_on.to_string(),
                            o.criteria,
                            o.status,
                        ]
                    }),
                )?
            }
            Entity::Milestones => {
                let rows = store.all_milestones().await?;
                let day =
                    |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
                write_rows(
                    dir,
                    entity,
                    rows.into_iter().map(|m| {
                        vec![
                            m.id,
                            m.account_id,
                            m.title,
                            m.kind,
                            m.due_on.to_string(),
                            m.objective_id.unwrap_or_default(),
                            m.owner.unwrap_or_default(),
                            m.status,
                            day(m.done_on),
                        ]
                    }),
                )?
            }
            Entity::LifecycleStages => {
                let rows = store.all_stages().await?;
                write_rows(
                    dir,
                    entity,
                    rows.into_iter()
                        .map(|r| vec![r.account_id, r.stage, r.entered_on.to_string()]),
                )?
            }
            Entity::FxRates => write_csv(dir, entity, &store.fx_rates().await?, export::fx_rate)?,
            Entity::DemoTruth => {
                write_csv(dir, entity, &store.demo_truth().await?, export::demo_truth)?
            }
        };
        written.push((export_path(dir, entity), count));
    }
    Ok(written)
}
