//! A row of an import file, CSV or JSON Lines, as named text values with their place
//! in the file, and the error type that points back at that place.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;
use std::rc::Rc;

/// The two file formats every entity can be imported from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// From the extension: `.csv`, or `.jsonl` / `.ndjson` / `.json`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::JsonLines),
            _ => None,
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" | "jsonlines" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

/// Why one row (or the whole file, when `fatal`) cannot be imported, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line in the file.
    pub line: u64,
    /// 1-based CSV column, when the error is about one.
    pub column: Option<usize>,
    /// The field (CSV header or JSON key) the error is about.
    pub field: Option<String>,
    pub reason: String,
    /// A file-level problem (bad header) that no row can be imported past.
    pub fatal: bool,
}

impl RowError {
    pub fn row(line: u64, reason: impl Into<String>) -> Self {
        RowError {
            line,
            column: None,
            field: None,
            reason: reason.into(),
            fatal: false,
        }
    }

    pub fn file(line: u64, reason: impl Into<String>) -> Self {
        RowError {
            fatal: true,
            ..RowError::row(line, reason)
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        match (&self.column, &self.field) {
            (Some(column), Some(field)) => write!(f, ", column {column} ({field})")?,
            (None, Some(field)) => write!(f, ", field {field}")?,
            (Some(column), None) => write!(f, ", column {column}")?,
            (None, None) => {}
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for RowError {}

/// One row: its non-empty values by field name, with the CSV column each came from.
#[derive(Debug, Clone)]
pub struct Record {
    pub line: u64,
    /// The row as it stood in the file, for reject files.
    pub raw: String,
    values: HashMap<String, (String, Option<usize>)>,
}

impl Record {
    /// The value of a field, `None` when absent, empty or JSON null.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.values.get(field).map(|(value, _)| value.as_str())
    }

    /// An error about `field` of this row.
    pub fn error(&self, field: &str, reason: impl Into<String>) -> RowError {
        RowError {
            line: self.line,
            column: self.values.get(field).and_then(|(_, column)| *column),
            field: Some(field.to_string()),
            reason: reason.into(),
            fatal: false,
        }
    }

    /// Builds a record from field values; for tests and in-memory sources.
    pub fn from_pairs(line: u64, pairs: &[(&str, &str)]) -> Record {
        let values = pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(field, value)| (field.to_string(), (value.to_string(), None)))
            .collect();
        Record {
            line,
            raw: String::new(),
            values,
        }
    }
}

/// Reads the records of a file, checking every field name against `fields`.
pub struct RecordReader<R: BufRead> {
    inner: Inner<R>,
    fields: &'static [&'static str],
}

enum Inner<R: BufRead> {
    Csv {
        reader: csv::Reader<LineTracker<R>>,
        lines: Rc<RefCell<LineStarts>>,
        headers: Vec<String>,
        checked: bool,
        row: csv::ByteRecord,
    },
    Json {
        reader: R,
        line: u64,
        buffer: Vec<u8>,
    },
}

impl<R: BufRead> RecordReader<R> {
    pub fn new(format: Format, reader: R, fields: &'static [&'static str]) -> Self {
        let inner = match format {
            Format::Csv => {
                let lines = Rc::new(RefCell::new(LineStarts::default()));
                let tracker = LineTracker {
                    inner: reader,
                    read: 0,
                    previous: 0,
                    lines: lines.clone(),
                };
                Inner::Csv {
                    reader: csv::ReaderBuilder::new()
                        .has_headers(false)
                        .flexible(true)
                        .from_reader(tracker),
                    lines,
                    headers: Vec::new(),
                    checked: false,
                    row: csv::ByteRecord::new(),
                }
            }
            Format::JsonLines => Inner::Json {
                reader,
                line: 0,
                buffer: Vec::new(),
            },
        };
        RecordReader { inner, fields }
    }

    fn unknown_field(&self, line: u64, column: Option<usize>, name: &str) -> RowError {
        RowError {
            line,
            column,
            field: Some(name.to_string()),
            reason: format!(
                "unknown field {name:?}; expected one of: {}",
                self.fields.join(", ")
            ),
            fatal: column.is_some(),
        }
    }

    fn next_csv(&mut self) -> Option<Result<Record, RowError>> {
        let fields = self.fields;
        let Inner::Csv {
            reader,
            lines,
            headers,
            checked,
            row,
        } = &mut self.inner
        else {
            unreachable!()
        };
        loop {
            match reader.read_byte_record(row) {
                Ok(false) => {
                    if !*checked {
                        *checked = true;
                        return Some(Err(RowError::file(
                            1,
                            "the file is empty: expected a header row",
                        )));
                    }
                    return None;
                }
                Ok(true) => {}
                Err(error) => {
                    let line = error
                        .position()
                        .map_or(0, |p| lines.borrow_mut().line_of(p.byte()));
                    return Some(Err(RowError::row(line, format!("unreadable CSV: {error}"))));
                }
            }
            let line = row
                .position()
                .map_or(0, |p| lines.borrow_mut().line_of(p.byte()));
            let decoded: Result<Vec<&str>, (usize, std::str::Utf8Error)> = row
                .iter()
                .enumerate()
                .map(|(i, bytes)| std::str::from_utf8(bytes).map_err(|e| (i, e)))
                .collect();
            let values = match decoded {
                Ok(values) => values,
                Err((index, error)) => {
                    let mut error = RowError::row(
                        line,
                        format!(
                            "not valid UTF-8 (byte {} of the value); save the file as UTF-8",
                            error.valid_up_to() + 1
                        ),
                    );
                    error.column = Some(index + 1);
                    error.field = headers.get(index).cloned();
                    error.fatal = !*checked;
                    return Some(Err(error));
                }
            };
            if !*checked {
                *checked = true;
                *headers = values
                    .iter()
                    .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
                    .collect();
                for (index, header) in headers.iter().enumerate() {
                    if !fields.contains(&header.as_str()) {
                        return Some(Err(RowError {
                            line,
                            column: Some(index + 1),
                            field: Some(header.clone()),
                            reason: format!(
                                "unknown column {header:?}; expected one of: {}",
                                fields.join(", ")
                            ),
                            fatal: true,
                        }));
                    }
                    if headers[..index].contains(header) {
                        let mut error =
                            RowError::file(line, format!("column {header:?} appears twice"));
                        error.column = Some(index + 1);
                        return Some(Err(error));
                    }
                }
                continue;
            }
            if values.iter().all(|v| v.trim().is_empty()) {
                continue;
            }
            if values.len() != headers.len() {
                return Some(Err(RowError::row(
                    line,
                    format!(
                        "has {} values but the header has {} columns",
                        values.len(),
                        headers.len()
                    ),
                )));
            }
            let raw = csv_line(&values);
            let values = headers
                .iter()
                .zip(values)
                .enumerate()
                .filter(|(_, (_, value))| !value.trim().is_empty())
                .map(|(i, (header, value))| {
                    (header.clone(), (value.trim().to_string(), Some(i + 1)))
                })
                .collect();
            return Some(Ok(Record { line, raw, values }));
        }
    }

    fn next_json(&mut self) -> Option<Result<Record, RowError>> {
        loop {
            let Inner::Json {
                reader,
                line,
                buffer,
            } = &mut self.inner
            else {
                unreachable!()
            };
            let (line, text) = match read_json_line(reader, line, buffer)? {
                Ok(found) => found,
                Err(error) => return Some(Err(error)),
            };
            if text.trim().is_empty() {
                continue;
            }
            let object = match parse_json_object(line, &text) {
                Ok(object) => object,
                Err(error) => return Some(Err(error)),
            };
            let mut values = HashMap::with_capacity(object.len());
            for (key, value) in object {
                if !self.fields.contains(&key.as_str()) {
                    return Some(Err(self.unknown_field(line, None, &key)));
                }
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) if s.trim().is_empty() => continue,
                    serde_json::Value::String(s) => s.trim().to_string(),
                    other => other.to_string(),
                };
                values.insert(key, (text, None));
            }
            return Some(Ok(Record {
                line,
                raw: text,
                values,
            }));
        }
    }
}

/// Line ends in the bytes read ahead of the CSV parser, so that a record's byte offset
/// becomes its line number. The csv crate's own line count leaves out the blank lines
/// it skips; this one counts every line. Line ends behind the last record asked about
/// are dropped, so memory is bounded by the read-ahead buffer.
#[derive(Default)]
struct LineStarts {
    /// Line ends already dropped from `ends`.
    passed: u64,
    /// Each line end: where its terminator starts (`\r` of `\r\n`, else `\n`) and
    /// the offset of its `\n`.
    ends: VecDeque<(u64, u64)>,
}

impl LineStarts {
    /// The 1-based line on which the record starting at byte `start` begins. The csv
    /// crate counts blank lines before a record as part of it, so they are skipped.
    /// Offsets must not decrease from one call to the next.
    fn line_of(&mut self, mut start: u64) -> u64 {
        loop {
            while self
                .ends
                .front()
                .is_some_and(|&(_, newline)| newline < start)
            {
                self.ends.pop_front();
                self.passed += 1;
            }
            match self.ends.front() {
                Some(&(terminator, newline)) if terminator == start => start = newline + 1,
                _ => return self.passed + 1,
            }
        }
    }
}

/// Passes bytes through to the CSV parser, noting where each line ends.
struct LineTracker<R> {
    inner: R,
    read: u64,
    previous: u8,
    lines: Rc<RefCell<LineStarts>>,
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut lines = self.lines.borrow_mut();
        for &byte in &buf[..n] {
            if byte == b'\n' {
                let crlf = u64::from(self.previous == b'\r');
                lines.ends.push_back((self.read - crlf, self.read));
            }
            self.previous = byte;
            self.read += 1;
        }
        Ok(n)
    }
}

/// The values as one CSV line, quoted where needed.
fn csv_line(values: &[&str]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b' '))
        .from_writer(Vec::new());
    writer
        .write_record(values)
        .expect("writing to memory cannot fail");
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    String::from_utf8_lossy(&bytes).trim_end().to_string()
}

/// Reads the next line of a JSON Lines file as UTF-8 text, with its 1-based number.
pub(crate) fn read_json_line<R: BufRead>(
    reader: &mut R,
    line: &mut u64,
    buffer: &mut Vec<u8>,
) -> Option<Result<(u64, String), RowError>> {
    buffer.clear();
    match reader.read_until(b'\n', buffer) {
        Ok(0) => return None,
        Ok(_) => {}
        Err(error) => {
            return Some(Err(RowError::file(
                *line + 1,
                format!("could not read: {error}"),
            )))
        }
    }
    *line += 1;
    match std::str::from_utf8(buffer) {
        Ok(text) => Some(Ok((*line, text.trim_end_matches(['\n', '\r']).to_string()))),
        Err(error) => Some(Err(RowError::row(
            *line,
            format!(
                "not valid UTF-8 at byte {} of the line; save the file as UTF-8",
                error.valid_up_to() + 1
            ),
        ))),
    }
}

/// Parses one JSON Lines row, which must be an object.
pub(crate) fn parse_json_object(
    line: u64,
    text: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, RowError> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(object)) => Ok(object),
        Ok(_) => Err(RowError::row(line, "expected a JSON object")),
        Err(error) => Err(json_error(line, &error)),
    }
}

/// A JSON syntax error with its column on the line; truncated rows read as such.
pub(crate) fn json_error(line: u64, error: &serde_json::Error) -> RowError {
    let what = if error.is_eof() {
        "truncated JSON (the line ends inside a value)"
    } else {
        "invalid JSON"
    };
    let mut row = RowError::row(line, format!("{what}: {error}"));
    row.column = Some(error.column());
    row
}

impl<R: BufRead> Iterator for RecordReader<R> {
    type Item = Result<Record, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.inner {
            Inner::Csv { .. } => self.next_csv(),
            Inner::Json { .. } => self.next_json(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[&str] = &["id", "name", "seats"];

    fn read(format: Format, text: &[u8]) -> Vec<Result<Record, RowError>> {
        RecordReader::new(format, text, FIELDS).collect()
    }

    #[test]
    fn csv_rows_carry_line_and_column() {
        let rows = read(
            Format::Csv,
            b"id,name,seats\na,\"Acme\nCorp\",5\n\n\"b\",,7\n",
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].as_ref().unwrap().line, 2);
        let b = rows[1].as_ref().unwrap();
        assert_eq!(
            b.line, 5,
            "a quoted newline and a blank line come before it"
        );
        assert_eq!(b.get("name"), None, "empty means absent");
        assert_eq!(
            b.error("seats", "bad").to_string(),
            "line 5, column 3 (seats): bad"
        );
    }

    #[test]
    fn csv_header_problems_are_fatal() {
        let rows = read(Format::Csv, b"id,nmae\n");
        let error = rows[0].as_ref().unwrap_err();
        assert!(error.fatal);
        assert_eq!(
            error.to_string(),
            "line 1, column 2 (nmae): unknown column \"nmae\"; expected one of: id, name, seats"
        );
        assert!(read(Format::Csv, b"")[0].as_ref().unwrap_err().fatal);
    }

    #[test]
    fn csv_non_utf8_names_the_column() {
        let rows = read(Format::Csv, b"id,name\na,Caf\xe9\n");
        let error = rows[0].as_ref().unwrap_err();
        assert_eq!(error.line, 2);
        assert_eq!(error.column, Some(2));
        assert!(error.reason.contains("UTF-8"), "{error}");
    }

    #[test]
    fn csv_short_rows_are_errors() {
        let rows = read(Format::Csv, b"id,name,seats\na,Acme\n");
        assert_eq!(
            rows[0].as_ref().unwrap_err().to_string(),
            "line 2: has 2 values but the header has 3 columns"
        );
    }

    #[test]
    fn json_lines_values_become_text() {
        let rows = read(
            Format::JsonLines,
            b"{\"id\":\"a\",\"seats\":5,\"name\":null}\n\n{\"id\":\"b\"}",
        );
        assert_eq!(rows.len(), 2);
        let a = rows[0].as_ref().unwrap();
        assert_eq!(
            (a.get("id"), a.get("seats"), a.get("name")),
            (Some("a"), Some("5"), None)
        );
        assert_eq!(rows[1].as_ref().unwrap().line, 3);
    }

    #[test]
    fn json_lines_errors() {
        let rows = read(
            Format::JsonLines,
            b"{\"id\":\"a\",\"name\":\"Ac\n[1]\n{\"id\":1,\"colour\":2}\n\xff\n",
        );
        let messages: Vec<String> = rows
            .iter()
            .map(|r| r.as_ref().unwrap_err().to_string())
            .collect();
        assert!(
            messages[0].starts_with("line 1, column "),
            "{}",
            messages[0]
        );
        assert!(messages[0].contains("truncated JSON"), "{}", messages[0]);
        assert_eq!(messages[1], "line 2: expected a JSON object");
        assert!(
            messages[2].starts_with("line 3, field colour: unknown field"),
            "{}",
            messages[2]
        );
        assert!(
            messages[3].starts_with("line 4: not valid UTF-8"),
            "{}",
            messages[3]
        );
    }
}
