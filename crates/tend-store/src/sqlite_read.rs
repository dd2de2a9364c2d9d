//! Bulk reads on SQLite through its C API, for health scoring's millions of rows.
//!
//! sqlx hands every SQLite row from its worker thread to the caller one at a time and
//! decodes dates by trying several formats; reading a 100,000-account portfolio that
//! way took over two minutes, nearly all of it in that round trip. Here a pooled
//! connection's handle is locked (as in `sqlite_bulk`) and the statement is stepped
//! directly, decoding columns into the same row structs sqlx fills, so the conversion
//! into domain types (`TryFrom<…Row>`) stays in one place.

use std::ffi::{c_int, CString};

use chrono::{DateTime, NaiveDate, Utc};
use libsqlite3_sys as ffi;
use sqlx::SqlitePool;

use crate::sqlite_bulk::{column_text, error, Statement};
use crate::{Result, StoreError};

/// A value bound to a `$name` parameter, as sqlx would store it.
#[derive(Debug, Clone)]
pub(crate) enum Bind<'a> {
    Text(&'a str),
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

impl Bind<'_> {
    fn sqlite_text(&self) -> String {
        match self {
            Bind::Text(text) => text.to_string(),
            Bind::Date(day) => day.format("%Y-%m-%d").to_string(),
            Bind::Time(at) => crate::sqlite_bulk::sqlite_timestamp(*at),
        }
    }
}

/// A column value decoded from a stepped statement.
pub(crate) trait FromColumn: Sized {
    /// # Safety
    /// `stmt` must be a statement positioned on a row with at least `index + 1` columns.
    unsafe fn read(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> Result<Self, String>;
}

unsafe fn is_null(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> bool {
    ffi::sqlite3_column_type(stmt, index) == ffi::SQLITE_NULL
}

impl<T: FromColumn> FromColumn for Option<T> {
    unsafe fn read(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> Result<Self, String> {
        if is_null(stmt, index) {
            Ok(None)
        } else {
            T::read(stmt, index).map(Some)
        }
    }
}

impl FromColumn for String {
    unsafe fn read(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> Result<Self, String> {
        column_text(stmt, index)
            .map(str::to_string)
            .ok_or_else(|| format!("column {index} is not text"))
    }
}

impl FromColumn for i64 {
    unsafe fn read(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> Result<Self, String> {
        Ok(ffi::sqlite3_column_int64(stmt, index))
    }
}

impl FromColumn for i32 {
    unsafe fn read(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> Result<Self, String> {
        i32::try_from(ffi::sqlite3_column_int64(stmt, index)).map_err(|e| e.to_string())
    }
}

impl FromColumn for bool {
    unsafe fn read(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> Result<Self, String> {
        Ok(ffi::sqlite3_column_int64(stmt, index) != 0)
    }
}

impl FromColumn for NaiveDate {
    unsafe fn read(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> Result<Self, String> {
        let text = column_text(stmt, index).ok_or("a date is not text")?;
        // FromStr reads ISO dates without interpreting a format string per call.
        text.parse().map_err(|e| format!("{text:?}: {e}"))
    }
}

impl FromColumn for DateTime<Utc> {
    unsafe fn read(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> Result<Self, String> {
        let text = column_text(stmt, index).ok_or("a timestamp is not text")?;
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| format!("{text:?}: {e}"))
    }
}

/// A row struct whose fields are read, in order, from the columns of [`Self::columns`].
pub(crate) trait FromStatement: Sized {
    fn columns() -> String;
    /// # Safety
    /// `stmt` must be positioned on a row selected with [`Self::columns`].
    unsafe fn from_statement(stmt: *mut ffi::sqlite3_stmt) -> Result<Self, String>;
}

/// Implements [`FromStatement`] for a row struct from its field names in column order.
macro_rules! from_statement {
    ($row:ident { $($field:ident),* $(,)? }) => {
        impl $crate::sqlite_read::FromStatement for $row {
            fn columns() -> String {
                [$(stringify!($field)),*].join(", ")
            }
            unsafe fn from_statement(
                stmt: *mut libsqlite3_sys::sqlite3_stmt,
            ) -> Result<Self, String> {
                let mut _index = 0;
                Ok($row {
                    $($field: {
                        let value = $crate::sqlite_read::FromColumn::read(stmt, _index)
                            .map_err(|e| format!("{}: {e}", stringify!($field)))?;
                        _index += 1;
                        value
                    }),*
                })
            }
        }
    };
}
pub(crate) use from_statement;

/// Runs `sql` on a pooled connection, `binds[i]` bound to `$(i + 1)`, and decodes
/// every row.
pub(crate) async fn fetch<R: FromStatement>(
    pool: &SqlitePool,
    table: &'static str,
    sql: &str,
    binds: &[Bind<'_>],
) -> Result<Vec<R>> {
    let mut conn = pool.acquire().await?;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let binds: Vec<(String, String)> = binds
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("${}", i + 1), b.sqlite_text()))
        .collect();
    // SAFETY: the handle is locked for this call; texts are copied out before the
    // next step, and the statement is finalized when `Statement` drops.
    unsafe { fetch_with(db, table, sql, &binds) }
}

unsafe fn fetch_with<R: FromStatement>(
    db: *mut ffi::sqlite3,
    table: &'static str,
    sql: &str,
    binds: &[(String, String)],
) -> Result<Vec<R>> {
    let sql = CString::new(sql).map_err(|e| StoreError::Sqlite(e.to_string()))?;
    let statement = Statement::prepare(db, &sql)?;
    let stmt = statement.0;
    for (name, value) in binds {
        let name = CString::new(name.as_str()).map_err(|e| StoreError::Sqlite(e.to_string()))?;
        let index = ffi::sqlite3_bind_parameter_index(stmt, name.as_ptr());
        if index == 0 {
            continue; // not used by this statement
        }
        crate::sqlite_bulk::bind_text(db, stmt, index, Some(value))?;
    }
    let mut rows = Vec::new();
    loop {
        match ffi::sqlite3_step(stmt) {
            ffi::SQLITE_ROW => {}
            ffi::SQLITE_DONE => return Ok(rows),
            code => return Err(error(db, code)),
        }
        let row = R::from_statement(stmt).map_err(|reason| StoreError::Corrupt {
            table,
            id: column_text(stmt, 0).unwrap_or_default().to_string(),
            reason,
        })?;
        rows.push(row);
    }
}
