//! Reads on SQLite through its C API: health scoring's millions of rows, and the
//! service's per-request reads.
//!
//! sqlx hands every SQLite row from its worker thread to the caller one at a time
//! (a thread wake-up per row) and decodes dates by trying several formats; reading a
//! 100,000-account portfolio that way took over two minutes, and one account's page
//! spent most of its time switching threads. Here a pooled connection's handle is
//! locked (as in `sqlite_bulk`) and the statement is stepped directly, decoding
//! columns by name into the same row structs sqlx fills, so the conversion into
//! domain types (`TryFrom<…Row>`) stays in one place.

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
    Real(f64),
}

impl Bind<'_> {
    /// The value as SQLite text (as sqlx stores it), or `None` for a number.
    fn sqlite_text(&self) -> Option<String> {
        match self {
            Bind::Text(text) => Some(text.to_string()),
            Bind::Date(day) => Some(day.format("%Y-%m-%d").to_string()),
            Bind::Time(at) => Some(crate::sqlite_bulk::sqlite_timestamp(*at)),
            Bind::Real(_) => None,
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

impl FromColumn for f64 {
    unsafe fn read(stmt: *mut ffi::sqlite3_stmt, index: c_int) -> Result<Self, String> {
        Ok(ffi::sqlite3_column_double(stmt, index))
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

/// A row struct whose fields are read from the columns named as they are.
pub(crate) trait FromStatement: Sized {
    /// The field names, in order.
    const FIELDS: &'static [&'static str];

    /// The fields as a column list for `SELECT`.
    fn columns() -> String {
        Self::FIELDS.join(", ")
    }

    /// # Safety
    /// `stmt` must be positioned on a row; `columns[i]` is the column of `FIELDS[i]`.
    unsafe fn from_statement(
        stmt: *mut ffi::sqlite3_stmt,
        columns: &[c_int],
    ) -> Result<Self, String>;
}

/// Implements [`FromStatement`] for a row struct from its field names.
macro_rules! from_statement {
    ($row:ident { $($field:ident),* $(,)? }) => {
        impl $crate::sqlite_read::FromStatement for $row {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
            unsafe fn from_statement(
                stmt: *mut libsqlite3_sys::sqlite3_stmt,
                columns: &[std::ffi::c_int],
            ) -> Result<Self, String> {
                let mut _index = 0;
                Ok($row {
                    $($field: {
                        let value = $crate::sqlite_read::FromColumn::read(stmt, columns[_index])
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

/// Lists rows of `$row` from `$sql` with `$binds` (`$1`, `$2`, …), through SQLite's
/// C API or sqlx on PostgreSQL, converted into domain types; `$table` names the
/// table in errors about a stored row.
macro_rules! select {
    ($store:expr, $row:ty, $table:literal, $sql:expr, $binds:expr) => {{
        let binds: &[$crate::sqlite_read::Bind] = $binds;
        let sql: &str = $sql;
        let rows: Vec<$row> = match &$store.pool {
            $crate::Pool::Sqlite(pool) => {
                $crate::sqlite_read::fetch(pool, $table, sql, binds).await?
            }
            $crate::Pool::Postgres(pool) => {
                let mut query = sqlx::query_as::<_, $row>(sql);
                for bind in binds {
                    query = match bind {
                        $crate::sqlite_read::Bind::Text(text) => query.bind(*text),
                        $crate::sqlite_read::Bind::Date(day) => query.bind(*day),
                        $crate::sqlite_read::Bind::Time(at) => query.bind(*at),
                        $crate::sqlite_read::Bind::Real(x) => query.bind(*x),
                    };
                }
                query.fetch_all(pool).await?
            }
        };
        rows.into_iter()
            .map(TryInto::try_into)
            .collect::<Result<Vec<_>, $crate::StoreError>>()
    }};
}
pub(crate) use select;

/// Runs `sql` on a pooled connection, `binds[i]` bound to `$(i + 1)`, and decodes
/// every row.
pub(crate) async fn fetch<R: FromStatement>(
    pool: &SqlitePool,
    table: &'static str,
    sql: &str,
    binds: &[Bind<'_>],
) -> Result<Vec<R>> {
    let binds: Vec<(String, Bind<'_>, Option<String>)> = binds
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("${}", i + 1), b.clone(), b.sqlite_text()))
        .collect();
    let mut conn = pool.acquire().await?;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: the handle is locked for this call; texts outlive the statement, which
    // is finalized when `Statement` drops.
    unsafe { fetch_with(db, table, sql, &binds) }
}

unsafe fn fetch_with<R: FromStatement>(
    db: *mut ffi::sqlite3,
    table: &'static str,
    sql: &str,
    binds: &[(String, Bind<'_>, Option<String>)],
) -> Result<Vec<R>> {
    let sql = CString::new(sql).map_err(|e| StoreError::Sqlite(e.to_string()))?;
    let statement = Statement::prepare(db, &sql)?;
    let stmt = statement.0;
    for (name, bind, text) in binds {
        let name = CString::new(name.as_str()).map_err(|e| StoreError::Sqlite(e.to_string()))?;
        let index = ffi::sqlite3_bind_parameter_index(stmt, name.as_ptr());
        if index == 0 {
            continue; // not used by this statement
        }
        match bind {
            Bind::Real(x) => {
                let code = ffi::sqlite3_bind_double(stmt, index, *x);
                if code != ffi::SQLITE_OK {
                    return Err(error(db, code));
                }
            }
            _ => crate::sqlite_bulk::bind_text(db, stmt, index, text.as_deref())?,
        }
    }
    let columns = column_indices(stmt, R::FIELDS, table)?;
    let mut rows = Vec::new();
    loop {
        match ffi::sqlite3_step(stmt) {
            ffi::SQLITE_ROW => {}
            ffi::SQLITE_DONE => return Ok(rows),
            code => return Err(error(db, code)),
        }
        let row = R::from_statement(stmt, &columns).map_err(|reason| StoreError::Corrupt {
            table,
            id: column_text(stmt, 0).unwrap_or_default().to_string(),
            reason,
        })?;
        rows.push(row);
    }
}

/// The position of each of `fields` among the statement's result columns.
unsafe fn column_indices(
    stmt: *mut ffi::sqlite3_stmt,
    fields: &[&str],
    table: &'static str,
) -> Result<Vec<c_int>> {
    let names: Vec<String> = (0..ffi::sqlite3_column_count(stmt))
        .map(|i| {
            let name = ffi::sqlite3_column_name(stmt, i);
            if name.is_null() {
                String::new()
            } else {
                std::ffi::CStr::from_ptr(name)
                    .to_string_lossy()
                    .into_owned()
            }
        })
        .collect();
    fields
        .iter()
        .map(|field| {
            names
                .iter()
                .position(|name| name == field)
                .map(|i| i as c_int)
                .ok_or_else(|| {
                    StoreError::Sqlite(format!("reading {table}: no column named {field}"))
                })
        })
        .collect()
}
