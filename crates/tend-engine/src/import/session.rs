//! One import transaction, over one file or a whole folder: the ids later files may
//! refer to, the Segment users tied to accounts, the usage days touched, and the
//! rollups and data extent brought up to date before the commit.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use tend_core::{Currency, FxRate, UsageEvent};
use tend_ingest::entities::FxRateRow;
use tend_ingest::{entities, Entity, Record, RecordReader, RowError};
use tend_store::{
    DataSource, IdTable, RollupDelta, Store, StoreError, StoredEvents, Transaction, UserLink,
};

use super::events::{sort_for_insert, touch, Attribution, UsageDays};
use super::{
    missing_account, open_counted, ImportError, ImportOptions, ImportProgress, ImportReport,
    ImportStage, Rejects, IMPORT_CHANGE_REASON,
};
use crate::as_of::extend_extent;

pub(crate) struct Session {
    pub(super) store: Store,
    pub(super) tx: Transaction,
    /// Account and invoice ids rows may refer to: stored, or written earlier in this
    /// import; loaded by the first file that checks references.
    pub(super) accounts: HashSet<String>,
    invoices: HashSet<String>,
    references_loaded: bool,
    /// Who is tied to which account, loaded at the first event file.
    pub(super) attribution: Option<Attribution>,
    /// Contacts written in this import, whose emails identify calls can match.
    contact_emails: Vec<(String, String)>,
    /// First and last day of the raw events written per account.
    pub(super) usage_days: UsageDays,
    /// The last usage day before this import, capped at today.
    usage_through_before: Option<NaiveDate>,
    pub(super) today: NaiveDate,
    /// For live calls: what their new events add to the rollups, applied instead of
    /// a full refresh when the data's last day has not moved.
    live: Option<LiveRollups>,
}

/// Rollup changes of the new events of a session, by account and day, and the
/// user-days they made active.
#[derive(Default)]
struct LiveRollups {
    deltas: HashMap<(String, NaiveDate), RollupDelta>,
    new_user_days: Vec<(String, NaiveDate, String)>,
}

impl LiveRollups {
    fn add(&mut self, events: &[UsageEvent], stored: &StoredEvents) {
        for (event, _) in events.iter().zip(&stored.new).filter(|(_, new)| **new) {
            let key = (event.account_id.clone(), event.timestamp.date_naive());
            let delta = self.deltas.entry(key).or_default();
            delta.events += 1;
            if event.kind == tend_core::EventType::Track && !event.event.is_empty() {
                *delta.features.entry(event.event.clone()).or_insert(0) += 1;
            }
        }
        self.new_user_days
            .extend(stored.new_user_days.iter().cloned());
    }
}

impl Session {
    pub(crate) async fn begin(store: &Store, today: NaiveDate) -> Result<Session, StoreError> {
        let usage_through_before = store
            .data_extent()
            .await?
            .last_day(DataSource::Usage)
            .map(|day| day.min(today));
        Ok(Session {
            store: store.clone(),
            tx: store.begin().await?,
            accounts: HashSet::new(),
            invoices: HashSet::new(),
            references_loaded: false,
            attribution: None,
            contact_emails: Vec::new(),
            usage_days: UsageDays::new(),
            usage_through_before,
            today,
            live: None,
        })
    }

    /// A session for live calls: rollups kept by adding what new events change.
    pub(crate) async fn begin_live(store: &Store, today: NaiveDate) -> Result<Session, StoreError> {
        let mut session = Session::begin(store, today).await?;
        session.live = Some(LiveRollups::default());
        Ok(session)
    }

    /// Loads the stored ids rows may refer to, once.
    pub(super) async fn load_references(&mut self) -> Result<(), StoreError> {
        if !self.references_loaded {
            self.accounts
                .extend(self.store.ids(IdTable::Accounts).await?);
            self.invoices
                .extend(self.store.ids(IdTable::Invoices).await?);
            self.references_loaded = true;
        }
        Ok(())
    }

    /// Writes usage events already tied to their accounts (by an interface that
    /// checked them); returns how many were new.
    pub(crate) async fn write_events(&mut self, events: &[UsageEvent]) -> Result<u64, StoreError> {
        let stored = self.tx.insert_usage_events_tracked(events).await?;
        let new = stored.new.iter().filter(|new| **new).count() as u64;
        if let Some(live) = &mut self.live {
            live.add(events, &stored);
        }
        for event in events {
            touch(
                &mut self.usage_days,
                &event.account_id,
                event.timestamp.date_naive(),
            );
        }
        extend_extent(&mut self.tx, events).await?;
        Ok(new)
    }

    pub(crate) async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await
    }

    /// Reads, checks and writes one file into the transaction. On invalid rows the
    /// error lists them; the caller rolls back.
    pub(super) async fn import(
        &mut self,
        entity: Entity,
        path: &Path,
        options: &ImportOptions,
        progress: &(dyn Fn(ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, ImportError> {
        let format = match options
            .format
            .or_else(|| tend_ingest::Format::from_path(path))
        {
            Some(format) => format,
            None => return Err(ImportError::UnknownFormat(path.to_path_buf())),
        };
        let bytes_read = Arc::new(AtomicU64::new(0));
        let reader = open_counted(path, bytes_read.clone())?;
        let mut rejects = Rejects::new(path, options.skip_invalid);
        let report_progress = |stage| {
            progress(ImportProgress {
                stage,
                bytes_read: bytes_read.load(Ordering::Relaxed),
            })
        };
        self.load_references().await?;
        let mut report = if entity == Entity::Events {
            self.import_events(format, reader, &mut rejects, &report_progress)
                .await?
        } else {
            let records = read_records(entity, format, reader, &mut rejects)?;
            report_progress(ImportStage::Reading);
            self.write_rows(entity, &records, &mut rejects, options)
                .await?
        };
        if entity != Entity::Events {
            // Events are recorded with their rollups, by `finish`.
            let accounts: Vec<&str> = report.accounts.iter().map(String::as_str).collect();
            let reason = format!("{IMPORT_CHANGE_REASON}.{}", entity.name());
            self.tx
                .record_changes(&accounts, &reason, chrono::Utc::now())
                .await?;
        }
        report.rejected = rejects.count;
        report.rejects_file = rejects.finish().map_err(|source| ImportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(report)
    }

    /// The contacts' emails (lower case) and users already tied to accounts.
    pub(super) async fn attribution(&mut self) -> Result<Attribution, StoreError> {
        if let Some(attribution) = self.attribution.take() {
            return Ok(attribution);
        }
        let mut emails: HashMap<String, String> = HashMap::new();
        for contact in self.store.contacts().await? {
            if let Some(email) = contact.email {
                emails.insert(email.to_lowercase(), contact.account_id);
            }
        }
        emails.extend(self.contact_emails.drain(..));
        Ok(Attribution::new(self.store.user_links().await?, emails))
    }

    /// Parses and checks every row of a non-event file, then writes them all unless
    /// one was refused.
    async fn write_rows(
        &mut self,
        entity: Entity,
        records: &[Record],
        rejects: &mut Rejects,
        options: &ImportOptions,
    ) -> Result<ImportReport, ImportError> {
        if entity == Entity::FxRates {
            return self.write_fx_rates(records, rejects, options).await;
        }
        if entity == Entity::Accounts {
            // A parent may be defined further down the same file.
            self.accounts.extend(
                records
                    .iter()
                    .filter_map(|r| r.get("id").map(|id| id.trim().to_string())),
            );
        }
        let mut changed = BTreeSet::new();
        // Parse and check every row, then write them all unless one was refused. A
        // macro because each entity has its own row type and upsert.
        macro_rules! load {
            ($parse:path, $key:expr, $check:expr, $upsert:ident $(,)?) => {
                load!($parse, $key, $check, $upsert, |row| row.account_id.clone())
            };
            ($parse:path, $key:expr, $check:expr, $upsert:ident, $owner:expr $(,)?) => {{
                let rows = parse_all(records, rejects, $parse, $key, $check)?;
                if rejects.failed() {
                    return Err(rejects.take_error());
                }
                self.tx.$upsert(&rows).await?;
                changed.extend(rows.iter().map($owner));
                extend_extent(&mut self.tx, &rows).await?;
                rows
            }};
        }
        let accounts = &self.accounts;
        let invoices = &self.invoices;
        let account = |r: &Record, id: &str| known(accounts, r, "account_id", id);
        let written = match entity {
            Entity::Accounts => load!(
                entities::account,
                |a| a.id.clone(),
                |r, a| match &a.parent_id {
                    Some(parent) => known(accounts, r, "parent_id", parent),
                    None => Ok(()),
                },
                upsert_accounts,
                |a| a.id.clone()
            )
            .len(),
            Entity::Contacts => {
                let rows = load!(
                    entities::contact,
                    |c| c.id.clone(),
                    |r, c| account(r, &c.account_id),
                    upsert_contacts,
                );
                let emails = rows.iter().filter_map(|c| {
                    let email = c.email.as_ref()?.to_lowercase();
                    Some((email, c.account_id.clone()))
                });
                match &mut self.attribution {
                    Some(attribution) => emails.for_each(|(e, a)| attribution.add_email(e, a)),
                    None => self.contact_emails.extend(emails),
                }
                rows.len()
            }
            Entity::Contracts => load!(
                entities::contract,
                |c| c.id.clone(),
                |r, c| account(r, &c.account_id),
                upsert_contracts,
            )
            .len(),
            Entity::UsageDaily => load!(
                entities::usage_daily,
                |u| format!("{} on {}", u.account_id, u.day),
                |r, u| account(r, &u.account_id),
                upsert_usage_daily,
            )
            .len(),
            Entity::Tickets => load!(
                entities::ticket,
                |t| t.id.clone(),
                |r, t| account(r, &t.account_id),
                upsert_tickets,
            )
            .len(),
            Entity::SurveyResponses => load!(
                entities::survey_response,
                |s| s.id.clone(),
                |r, s| account(r, &s.account_id),
                upsert_survey_responses,
            )
            .len(),
            Entity::Invoices => {
                let rows = load!(
                    entities::invoice,
                    |i| i.id.clone(),
                    |r, i| account(r, &i.account_id),
                    upsert_invoices,
                );
                self.invoices.extend(rows.iter().map(|i| i.id.clone()));
                rows.len()
            }
            Entity::Payments => load!(
                entities::payment,
                |p| p.id.clone(),
                |r, p| {
                    account(r, &p.account_id)?;
                    if invoices.contains(&p.invoice_id) {
                        return Ok(());
                    }
                    let reason = format!(
                        "no invoice with id {:?}; import it in invoices first",
                        p.invoice_id
                    );
                    Err(r.error("invoice_id", reason))
                },
                upsert_payments,
            )
            .len(),
            Entity::Activities => load!(
                entities::activity,
                |a| a.id.clone(),
                |r, a| account(r, &a.account_id),
                upsert_activities,
            )
            .len(),
            Entity::Objectives => load!(
                entities::objective,
                |o| o.id.clone(),
                |r, o| account(r, &o.account_id),
                upsert_objectives,
            )
            .len(),
            Entity::Milestones => load!(
                entities::milestone,
                |m| m.id.clone(),
                |r, m| account(r, &m.account_id),
                upsert_milestones,
            )
            .len(),
            Entity::LifecycleStages => load!(
                entities::lifecycle_stage,
                |e| format!("{}/{}/{}", e.account_id, e.entered_on, e.stage),
                |r, e| account(r, &e.account_id),
                upsert_lifecycle_stages,
            )
            .len(),
            Entity::DemoTruth => load!(
                entities::demo_truth,
                |t| t.account_id.clone(),
                |r, t| account(r, &t.account_id),
                upsert_demo_truth,
            )
            .len(),
            Entity::Events => unreachable!("events are streamed by import_events"),
            Entity::FxRates => unreachable!("rates are written by write_fx_rates"),
        };
        Ok(ImportReport {
            written: written as u64,
            accounts: changed,
            ..ImportReport::default()
        })
    }

    /// Exchange rates; a rate without a `base` is against the reporting currency: the
    /// one asked for, or else the one contract currency the file does not price.
    async fn write_fx_rates(
        &mut self,
        records: &[Record],
        rejects: &mut Rejects,
        options: &ImportOptions,
    ) -> Result<ImportReport, ImportError> {
        let key = |r: &FxRateRow| {
            let base = r
                .base
                .map_or_else(|| "the reporting currency".into(), |b| b.to_string());
            format!("{} in {base} on {}", r.currency, r.date)
        };
        let needs_base = records.iter().any(|r| r.get("base").is_none());
        let priced: Vec<Currency> = records
            .iter()
            .filter_map(|r| Currency::parse(r.get("currency")?).ok())
            .collect();
        let base = match options.reporting_currency {
            Some(currency) => Ok(currency),
            None if needs_base => self.unpriced_contract_currency(&priced).await?,
            None => Ok(tend_core::DEFAULT_CURRENCY), // every rate names its base
        };
        let check = |record: &Record, row: &FxRateRow| match (&base, row.base) {
            (Err(reason), None) => Err(record.error("base", reason.clone())),
            _ => Ok(()),
        };
        let rows = parse_all(records, rejects, entities::fx_rate, key, check)?;
        if rejects.failed() {
            return Err(rejects.take_error());
        }
        let base = base.unwrap_or(tend_core::DEFAULT_CURRENCY);
        let rates: Vec<FxRate> = rows.iter().map(|r| r.with_base(base)).collect();
        self.tx.upsert_fx_rates(&rates).await?;
        Ok(ImportReport {
            written: rates.len() as u64,
            assumed_base: rows.iter().any(|r| r.base.is_none()).then_some(base),
            ..ImportReport::default()
        })
    }

    /// The reporting currency rates without a base are against: the one contract
    /// currency the rates do not price. Several candidates (or none) are an error the
    /// file can mend with a `base` column, the user with `--currency`.
    async fn unpriced_contract_currency(
        &mut self,
        priced: &[Currency],
    ) -> Result<Result<Currency, String>, StoreError> {
        let contract_currencies: Vec<Currency> = self
            .tx
            .arr_by_currency()
            .await?
            .into_iter()
            .filter_map(|(code, _)| Currency::parse(&code).ok())
            .collect();
        let candidates: Vec<Currency> = contract_currencies
            .into_iter()
            .filter(|c| !priced.contains(c))
            .collect();
        Ok(match candidates.as_slice() {
            [only] => Ok(*only),
            [] => Err(
                "is required: no contract currency is left for the rates to be against; \
                       add a base column or pass --currency"
                    .to_string(),
            ),
            several => {
                Err(format!(
                "is required: the rates could be against {}; add a base column or pass --currency",
                several.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" or ")
            ))
            }
        })
    }

    /// Before the commit: ties the users linked in this import to their accounts and
    /// attaches their kept calls, rolls up the raw events of every account-day the
    /// import touched up to the last day of the data (never past today), carries other
    /// accounts' rollups over days the data has newly reached, records the accounts
    /// given events in the queue of account changes for `events_reason`, and commits.
    pub(crate) async fn finish(
        mut self,
        events_reason: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<ImportReport, StoreError> {
        let mut report = ImportReport::default();
        if let Some(attribution) = self.attribution.take() {
            let links = attribution.into_new_links();
            report.attached = self.attach_pending(&links).await?;
            self.tx.upsert_user_links(&links).await?;
            report.waiting = self.tx.pending_call_count().await? as u64;
        }
        let through = self
            .tx
            .data_extent()
            .await?
            .last_day(DataSource::Usage)
            .map(|day| day.min(self.today));
        if let Some(through) = through {
            match self.live.take() {
                // Within the same last day of the data (the common case for live
                // calls): add what the new events change.
                Some(live) if self.usage_through_before == Some(through) => {
                    report.rollup_rows += self
                        .tx
                        .add_to_usage_rollups(&live.deltas, &live.new_user_days, through)
                        .await? as u64;
                    report.accounts.extend(self.usage_days.keys().cloned());
                }
                _ => report.rollup_rows += self.refresh_rollups(through, &mut report).await?,
            }
        }
        let accounts: Vec<&str> = report.accounts.iter().map(String::as_str).collect();
        self.tx.record_changes(&accounts, events_reason, at).await?;
        self.tx.commit().await?;
        Ok(report)
    }

    /// Recomputes the rollups of the accounts given events from their raw events,
    /// through `through`, and carries other accounts' over days the data has newly
    /// reached; returns the rows written.
    async fn refresh_rollups(
        &mut self,
        through: NaiveDate,
        report: &mut ImportReport,
    ) -> Result<u64, StoreError> {
        let mut written = 0;
        let before = self.usage_through_before;
        for (account, &(first, _)) in &self.usage_days {
            // Days between the old end of the data and this account's first new
            // event are new days too: its earlier users carry over them.
            let from = before.map_or(first, |b| first.min(b + chrono::Duration::days(1)));
            written += self
                .tx
                .refresh_usage_rollups(account, from, through)
                .await? as u64;
            report.accounts.insert(account.clone());
        }
        if let Some(before) = before {
            let skip: HashSet<String> = self.usage_days.keys().cloned().collect();
            written += self.tx.extend_usage_rollups(before, through, &skip).await? as u64;
        }
        Ok(written)
    }

    /// Moves the kept calls of newly linked users into usage events.
    async fn attach_pending(&mut self, links: &[UserLink]) -> Result<u64, StoreError> {
        let mut attached = 0;
        for link in links {
            let calls = self.tx.take_pending_calls(&link.user_key).await?;
            if calls.is_empty() {
                continue;
            }
            let mut events: Vec<_> = calls
                .into_iter()
                .map(|call| call.into_event(link.account_id.clone()))
                .collect();
            sort_for_insert(&mut events);
            attached += self.write_events(&events).await?;
        }
        Ok(attached)
    }
}

fn known(ids: &HashSet<String>, record: &Record, field: &str, id: &str) -> Result<(), RowError> {
    if ids.contains(id) {
        Ok(())
    } else {
        Err(record.error(field, missing_account(id)))
    }
}

/// Every record of a non-event file; a bad header fails at once.
fn read_records(
    entity: Entity,
    format: tend_ingest::Format,
    reader: impl std::io::BufRead,
    rejects: &mut Rejects,
) -> Result<Vec<Record>, ImportError> {
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
    Ok(records)
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
