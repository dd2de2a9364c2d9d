//! Cursor pagination: a page holds at most `limit` items and, when more follow, an
//! opaque cursor naming where it ended.

use crate::app::AppError;

/// Items per page unless asked otherwise, and at most.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// Which page to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl PageRequest {
    /// The limit asked for, checked.
    pub fn limit(&self) -> Result<u32, AppError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(AppError::invalid(
                "limit",
                format!("must be from 1 to {MAX_LIMIT}"),
            )),
        }
    }

    /// The decoded cursor's parts, `parts` of them.
    pub fn cursor(&self, kind: &str, parts: usize) -> Result<Option<Vec<String>>, AppError> {
        self.cursor
            .as_deref()
            .map(|text| Cursor::decode(text, kind, parts))
            .transpose()
    }
}

/// One page of items.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `items` fetched with one more than `limit`: the extra one only tells that a
    /// next page exists, whose cursor `key` makes from the last item kept.
    pub fn from_overfetch(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> Cursor) -> Page<T> {
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items.last().map(|last| key(last).encode())
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

/// A position in a list: the list's kind and the sort values of the last item.
/// Encoded as hex so it travels in a URL untouched and is plainly opaque.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub kind: String,
    pub parts: Vec<String>,
}

const SEPARATOR: char = '\u{1f}';

impl Cursor {
    pub fn new(kind: &str, parts: &[&str]) -> Cursor {
        Cursor {
            kind: kind.to_string(),
            parts: parts.iter().map(|p| p.to_string()).collect(),
        }
    }

    pub fn encode(&self) -> String {
        let mut text = self.kind.clone();
        for part in &self.parts {
            text.push(SEPARATOR);
            text.push_str(part);
        }
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    fn decode(text: &str, kind: &str, parts: usize) -> Result<Vec<String>, AppError> {
        let bad = || {
            AppError::invalid(
                "cursor",
                "is not a cursor of this list; pass the next_cursor of its previous page",
            )
        };
        if !text.len().is_multiple_of(2) || text.len() > 4096 {
            return Err(bad());
        }
        let bytes = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
            .collect::<Result<Vec<u8>, AppError>>()?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut fields = text.split(SEPARATOR);
        if fields.next() != Some(kind) {
            return Err(bad());
        }
        let values: Vec<String> = fields.map(str::to_string).collect();
        if values.len() != parts {
            return Err(bad());
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        let text = Cursor::new("accounts:name", &["Acme, Inc.", "acc-1"]).encode();
        let request = PageRequest {
            cursor: Some(text),
            limit: None,
        };
        assert_eq!(
            request.cursor("accounts:name", 2).unwrap(),
            Some(vec!["Acme, Inc.".to_string(), "acc-1".to_string()])
        );
        assert!(request.cursor("accounts:id", 2).is_err());
        let garbage = PageRequest {
            cursor: Some("zz".into()),
            limit: Some(0),
        };
        assert!(garbage.cursor("accounts:name", 2).is_err());
        assert!(garbage.limit().is_err());
    }

    #[test]
    fn overfetch_makes_the_next_cursor() {
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |n| Cursor::new("n", &[&n.to_string()]));
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(Cursor::new("n", &["2"]).encode()));
        let last = Page::from_overfetch(vec![1, 2], 2, |n| Cursor::new("n", &[&n.to_string()]));
        assert_eq!(last.next_cursor, None);
    }
}
