//! Bulk event loading on SQLite through its C API.
//!
//! sqlx runs every SQLite statement on a worker thread and copies each bound value on
//! the way; for millions of small rows that round trip, not SQLite, dominates. Here
//! the connection's handle is locked out of the worker (sqlx's supported escape
//! hatch) and one prepared single-row INSERT is bound and stepped per event, inside
//! the transaction sqlx already opened on that connection. Single-row statements
//! also spare SQLite the statement journal a multi-row INSERT needs.

use std::ffi::{c_int, CStr};
use std::ptr;

use chrono::{Datelike, NaiveDate, SecondsFormat, Timelike};
use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use tend_core::rollup::{DailyRollupBuilder, RollupEvent};
use tend_core::{EventType, UsageEvent};

use crate::{Result, StoreError};

/// The text sqlx writes for a `DateTime<Utc>` on SQLite, so that rows written here
/// read back, compare and sort exactly like rows written through sqlx.
pub(crate) fn sqlite_timestamp(timestamp: chrono::DateTime<chrono::Utc>) -> String {
    timestamp.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Appends `value` as exactly `width` decimal digits, zero-padded.
fn push_digits(buffer: &mut String, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width - 1);
    while divisor > 0 {
        buffer.push(char::from(b'0' + ((value / divisor) % 10) as u8));
        divisor /= 10;
    }
}

/// Appends `YYYY-MM-DD`, the text sqlx writes for a `NaiveDate`; years 0–9999.
fn write_date(buffer: &mut String, date: NaiveDate) {
    push_digits(buffer, date.year() as u32, 4);
    buffer.push('-');
    push_digits(buffer, date.month(), 2);
    buffer.push('-');
    push_digits(buffer, date.day(), 2);
}

/// [`sqlite_timestamp`] written into a reused buffer without chrono's formatting
/// machinery, which costs more than the insert it feeds. Falls back to chrono for
/// leap seconds and years outside 0–9999.
fn write_sqlite_timestamp(buffer: &mut String, timestamp: chrono::DateTime<chrono::Utc>) {
    buffer.clear();
    let (date, time) = (timestamp.date_naive(), timestamp.time());
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 || !(0..=9999).contains(&date.year()) {
        buffer.push_str(&sqlite_timestamp(timestamp));
        return;
    }
    write_date(buffer, date);
    buffer.push('T');
    for (i, part) in [time.hour(), time.minute(), time.second()]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            buffer.push(':');
        }
        push_digits(buffer, part, 2);
    }
    match nanos {
        0 => {}
        n if n % 1_000_000 == 0 => {
            buffer.push('.');
            push_digits(buffer, n / 1_000_000, 3);
        }
        n if n % 1_000 == 0 => {
            buffer.push('.');
            push_digits(buffer, n / 1_000, 6);
        }
        n => {
            buffer.push('.');
            push_digits(buffer, n, 9);
        }
    }
    buffer.push_str("+00:00");
}

const INSERT: &CStr = c"INSERT INTO usage_events \
    (message_id, account_id, type, user_id, anonymous_id, event, properties, ts, day) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING";

const INSERT_USER_DAY: &CStr = c"INSERT INTO usage_user_days (account_id, day, user_key) \
    VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";

/// Inserts the events, skipping stored message ids, and the user-days they make
/// active; says which events and which user-days were new.
pub(crate) async fn insert_events(
    conn: &mut SqliteConnection,
    events: &[UsageEvent],
) -> Result<crate::StoredEvents> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: the handle is locked for the duration of the call, so no other thread
    // uses the connection; every pointer bound below outlives the step that reads it.
    unsafe { insert_with(db, events) }
}

/// Finalizes the statement however the loop ends.
pub(crate) struct Statement(pub(crate) *mut ffi::sqlite3_stmt);

impl Statement {
    /// Compiles `sql` on `db`.
    ///
    /// # Safety
    /// `db` must be an open connection that outlives the statement.
    pub(crate) unsafe fn prepare(db: *mut ffi::sqlite3, sql: &CStr) -> Result<Statement> {
        let mut raw = ptr::null_mut();
        let code = ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut raw, ptr::null_mut());
        if code != ffi::SQLITE_OK {
            return Err(error(db, code));
        }
        Ok(Statement(raw))
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on a live connection and is finalized once.
        unsafe { ffi::sqlite3_finalize(self.0) };
    }
}

pub(crate) unsafe fn error(db: *mut ffi::sqlite3, code: c_int) -> StoreError {
    let message = CStr::from_ptr(ffi::sqlite3_errmsg(db))
        .to_string_lossy()
        .into_owned();
    StoreError::Sqlite(format!("{message} (code {code})"))
}

pub(crate) unsafe fn bind_text(
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
    index: c_int,
    text: Option<&str>,
) -> Result<()> {
    let code = match text {
        // SQLITE_STATIC: the text stays alive and unchanged until the statement is reset.
        Some(text) => ffi::sqlite3_bind_text(
            stmt,
            index,
            text.as_ptr().cast(),
            text.len() as c_int,
            ffi::SQLITE_STATIC(),
        ),
        None => ffi::sqlite3_bind_null(stmt, index),
    };
    if code == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(error(db, code))
    }
}

unsafe fn insert_with(db: *mut ffi::sqlite3, events: &[UsageEvent]) -> Result<crate::StoredEvents> {
    let statement = Statement::prepare(db, INSERT)?;
    let user_day = Statement::prepare(db, INSERT_USER_DAY)?;
    let (stmt, user_stmt) = (statement.0, user_day.0);
    let mut stored = crate::StoredEvents::default();
    let mut timestamp = String::with_capacity(32);
    for event in events {
        write_sqlite_timestamp(&mut timestamp, event.timestamp);
        // RFC 3339 years have four digits, so the text starts with the UTC day.
        let day = &timestamp[..10];
        bind_text(db, stmt, 1, Some(&event.message_id))?;
        bind_text(db, stmt, 2, Some(&event.account_id))?;
        bind_text(db, stmt, 3, Some(event.kind.as_str()))?;
        bind_text(db, stmt, 4, event.user_id.as_deref())?;
        bind_text(db, stmt, 5, event.anonymous_id.as_deref())?;
        bind_text(db, stmt, 6, Some(&event.event))?;
        bind_text(db, stmt, 7, Some(&event.properties))?;
        bind_text(db, stmt, 8, Some(&timestamp))?;
        bind_text(db, stmt, 9, Some(day))?;
        let code = ffi::sqlite3_step(stmt);
        ffi::sqlite3_reset(stmt);
        if code != ffi::SQLITE_DONE {
            return Err(error(db, code));
        }
        let new = ffi::sqlite3_changes(db) == 1;
        stored.new.push(new);
        let Some(user) = new.then(|| crate::active_user(event)).flatten() else {
            continue;
        };
        bind_text(db, user_stmt, 1, Some(&event.account_id))?;
        bind_text(db, user_stmt, 2, Some(day))?;
        bind_text(db, user_stmt, 3, Some(user))?;
        let code = ffi::sqlite3_step(user_stmt);
        ffi::sqlite3_reset(user_stmt);
        if code != ffi::SQLITE_DONE {
            return Err(error(db, code));
        }
        if ffi::sqlite3_changes(db) == 1 {
            let day = event.timestamp.date_naive();
            stored
                .new_user_days
                .push((event.account_id.clone(), day, user.to_string()));
        }
    }
    Ok(stored)
}

const UPSERT_SNAPSHOT: &CStr = c"INSERT INTO health_snapshots \
    (account_id, day, scorecard, overall, band, groups, measures) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (account_id, day) DO UPDATE SET \
    scorecard = excluded.scorecard, overall = excluded.overall, band = excluded.band, \
    groups = excluded.groups, measures = excluded.measures";

/// A health snapshot ready to store: its groups and measures already JSON.
pub(crate) struct EncodedSnapshot<'a> {
    pub account_id: &'a str,
    pub day: NaiveDate,
    pub scorecard: &'a str,
    pub overall: Option<f64>,
    pub band: &'a str,
    pub groups: String,
    pub measures: String,
}

/// Upserts snapshots one prepared row at a time, as `insert_events` does events.
pub(crate) async fn upsert_snapshots(
    conn: &mut SqliteConnection,
    rows: &[EncodedSnapshot<'_>],
) -> Result<()> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: as in `insert_events`.
    unsafe { upsert_snapshots_with(db, rows) }
}

unsafe fn upsert_snapshots_with(db: *mut ffi::sqlite3, rows: &[EncodedSnapshot<'_>]) -> Result<()> {
    let statement = Statement::prepare(db, UPSERT_SNAPSHOT)?;
    let stmt = statement.0;
    let mut day = String::with_capacity(10);
    for row in rows {
        day.clear();
        write_date(&mut day, row.day);
        bind_text(db, stmt, 1, Some(row.account_id))?;
        bind_text(db, stmt, 2, Some(&day))?;
        bind_text(db, stmt, 3, Some(row.scorecard))?;
        let code = match row.overall {
            Some(overall) => ffi::sqlite3_bind_double(stmt, 4, overall),
            None => ffi::sqlite3_bind_null(stmt, 4),
        };
        if code != ffi::SQLITE_OK {
            return Err(error(db, code));
        }
        bind_text(db, stmt, 5, Some(row.band))?;
        bind_text(db, stmt, 6, Some(&row.groups))?;
        bind_text(db, stmt, 7, Some(&row.measures))?;
        let code = ffi::sqlite3_step(stmt);
        ffi::sqlite3_reset(stmt);
        if code != ffi::SQLITE_DONE {
            return Err(error(db, code));
        }
    }
    Ok(())
}

const ROLLUP_EVENTS: &CStr = c"SELECT day, type, COALESCE(user_id, anonymous_id), event \
    FROM usage_events WHERE account_id = ?1 AND day >= ?2 AND day <= ?3 ORDER BY day";

/// Feeds the events of one account on days `[from, to]` to the rollup builder, in day
/// order, reading the clustered table in one range scan.
pub(crate) async fn feed_rollup(
    conn: &mut SqliteConnection,
    account_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    builder: &mut DailyRollupBuilder,
) -> Result<()> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: as in `insert_events`; column texts are copied before the next step.
    unsafe { feed_with(db, account_id, from, to, builder) }
}

pub(crate) unsafe fn column_text<'a>(
    stmt: *mut ffi::sqlite3_stmt,
    index: c_int,
) -> Option<&'a str> {
    let text = ffi::sqlite3_column_text(stmt, index);
    if text.is_null() {
        return None;
    }
    let len = ffi::sqlite3_column_bytes(stmt, index) as usize;
    std::str::from_utf8(std::slice::from_raw_parts(text, len)).ok()
}

unsafe fn feed_with(
    db: *mut ffi::sqlite3,
    account_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    builder: &mut DailyRollupBuilder,
) -> Result<()> {
    let statement = Statement::prepare(db, ROLLUP_EVENTS)?;
    let stmt = statement.0;
    let (from, to) = (
        from.format("%Y-%m-%d").to_string(),
        to.format("%Y-%m-%d").to_string(),
    );
    bind_text(db, stmt, 1, Some(account_id))?;
    bind_text(db, stmt, 2, Some(&from))?;
    bind_text(db, stmt, 3, Some(&to))?;
    let corrupt = |reason: String| StoreError::Corrupt {
        table: "usage_events",
        id: account_id.to_string(),
        reason,
    };
    // Days repeat for many rows in a row: parse each distinct one once.
    let mut day_text = String::new();
    let mut day = NaiveDate::MIN;
    loop {
        match ffi::sqlite3_step(stmt) {
            ffi::SQLITE_ROW => {}
            ffi::SQLITE_DONE => return Ok(()),
            code => return Err(error(db, code)),
        }
        let text = column_text(stmt, 0).ok_or_else(|| corrupt("day is not text".into()))?;
        if text != day_text {
            day =
                NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| corrupt(e.to_string()))?;
            day_text = text.to_string();
        }
        let kind =
            EventType::parse(column_text(stmt, 1).unwrap_or_default()).map_err(|e| corrupt(e.0))?;
        builder.push(RollupEvent {
            day,
            kind,
            user: column_text(stmt, 2),
            event: column_text(stmt, 3).unwrap_or_default(),
        });
    }
}

/// Turns off SQLite's process-wide memory statistics before its first connection.
///
/// With them on, every allocation SQLite makes takes one global mutex, which the
/// connections reading a health rescore in parallel then contend for (measured: 8%
/// of a full rescore's CPU samples in locking, 2% after). Nothing in tend reads the
/// statistics. SQLite accepts the setting only before it initializes, so later
/// calls (and a process that opened SQLite elsewhere first) leave it as it is.
pub(crate) fn skip_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int. sqlite3_config must not run
        // while another thread uses SQLite: tend opens SQLite only through
        // `Store::connect`, which calls this first, and `Once` makes other threads wait.
        // After initialization it returns SQLITE_MISUSE, which is ignored.
        unsafe {
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int);
        }
    });
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn timestamps_are_written_as_sqlx_writes_them() {
        use sqlx::Encode;
        let at = chrono::Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()
            + chrono::Duration::milliseconds(250);
        let mut buffer = Vec::new();
        let _ = Encode::<sqlx::Sqlite>::encode_by_ref(&at, &mut buffer).unwrap();
        let sqlx_text = format!("{:?}", buffer[0]);
        assert!(
            sqlx_text.contains(&super::sqlite_timestamp(at)),
            "{sqlx_text}"
        );
        assert_eq!(super::sqlite_timestamp(at), "2024-05-01T10:00:00.250+00:00");
    }

    #[test]
    fn the_fast_formatter_writes_what_sqlx_writes() {
        let base = chrono::Utc
            .with_ymd_and_hms(2024, 2, 29, 23, 59, 7)
            .unwrap();
        let mut buffer = String::new();
        for nanos in [0, 250_000_000, 1_000, 123_456_000, 7, 999_999_999] {
            let at = base + chrono::Duration::nanoseconds(nanos);
            super::write_sqlite_timestamp(&mut buffer, at);
            assert_eq!(buffer, super::sqlite_timestamp(at));
        }
    }
}
