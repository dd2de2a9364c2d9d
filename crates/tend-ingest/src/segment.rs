//! Segment-spec calls (`track`, `identify`, `group`, `page`, `screen`) as JSON Lines,
//! the shape product analytics pipelines already emit. Fields tend does not use
//! (`context`, `integrations`, `sentAt`, …) are accepted and ignored; the account is
//! the call's `groupId`, or `context.groupId` for calls made inside a group.

use std::borrow::Cow;
use std::fmt;
use std::io::BufRead;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use tend_core::EventType;
pub use tend_core::SegmentCall;

use crate::entities::parse_timestamp;
use crate::record::{json_error, RowError};

/// The fields of one call that tend keeps, still as text.
pub struct Call<'a> {
    pub message_id: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub user_id: Option<&'a str>,
    pub anonymous_id: Option<&'a str>,
    pub group_id: Option<&'a str>,
    pub event: Option<&'a str>,
    pub timestamp: Option<&'a str>,
}

/// How a file spells each field: JSON calls in Segment's camelCase, CSV columns in
/// snake_case. Errors name fields as the file does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldNames {
    Json,
    Csv,
}

impl FieldNames {
    pub fn name(self, field: &'static str) -> &'static str {
        match (self, field) {
            (FieldNames::Json, "message_id") => "messageId",
            (FieldNames::Json, "user_id") => "userId",
            (FieldNames::Json, "anonymous_id") => "anonymousId",
            (FieldNames::Json, "group_id") => "groupId",
            _ => field,
        }
    }
}

impl Call<'_> {
    /// Validates the call; an error names the field as the file spells it and the
    /// reason.
    pub fn into_call(
        self,
        properties: String,
        names: FieldNames,
    ) -> Result<SegmentCall, (&'static str, String)> {
        let required = |value: Option<&str>, field: &'static str| {
            value
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string)
                .ok_or((names.name(field), "is required".to_string()))
        };
        let message_id = required(self.message_id, "message_id")?;
        let group_id = self
            .group_id
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        let kind = match self.kind {
            None => EventType::Track,
            Some(text) => EventType::parse(text).map_err(|e| ("type", e.0))?,
        };
        let user_id = self.user_id.filter(|v| !v.is_empty()).map(str::to_string);
        let anonymous_id = self
            .anonymous_id
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        if user_id.is_none() && anonymous_id.is_none() {
            return Err((
                names.name("user_id"),
                format!(
                    "a call needs a {} or an {}",
                    names.name("user_id"),
                    names.name("anonymous_id")
                ),
            ));
        }
        if kind == EventType::Group && group_id.is_none() {
            return Err((
                names.name("group_id"),
                "is required for a group call".into(),
            ));
        }
        let event = match kind {
            EventType::Track => required(self.event, "event")?,
            EventType::Page | EventType::Screen => self.event.unwrap_or_default().to_string(),
            EventType::Identify | EventType::Group => String::new(),
        };
        let timestamp = parse_timestamp(&required(self.timestamp, "timestamp")?)
            .map_err(|reason| ("timestamp", reason))?;
        let email = (kind == EventType::Identify)
            .then(|| trait_email(&properties))
            .flatten();
        Ok(SegmentCall {
            group_id,
            email,
            message_id,
            kind,
            user_id,
            anonymous_id,
            event,
            properties,
            timestamp,
        })
    }
}

/// The `email` trait of an identify call's traits object, trimmed, if it is text.
fn trait_email(traits: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Traits<'a> {
        #[serde(borrow, default)]
        email: Option<Cow<'a, str>>,
    }
    let traits: Traits = serde_json::from_str(traits).ok()?;
    traits
        .email
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
}

#[derive(Deserialize)]
struct SegmentJson<'a> {
    #[serde(rename = "messageId", alias = "message_id", borrow, default)]
    message_id: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(
        rename = "userId",
        alias = "user_id",
        deserialize_with = "id_text",
        default
    )]
    user_id: Option<String>,
    #[serde(
        rename = "anonymousId",
        alias = "anonymous_id",
        deserialize_with = "id_text",
        default
    )]
    anonymous_id: Option<String>,
    #[serde(
        rename = "groupId",
        alias = "group_id",
        deserialize_with = "id_text",
        default
    )]
    group_id: Option<String>,
    /// An alias call's earlier id.
    #[serde(rename = "previousId", deserialize_with = "id_text", default)]
    previous_id: Option<String>,
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
    /// The page or screen name.
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    properties: Option<&'a RawValue>,
    #[serde(borrow, default)]
    traits: Option<&'a RawValue>,
    #[serde(default)]
    context: Option<Context>,
}

#[derive(Deserialize)]
struct Context {
    #[serde(
        rename = "groupId",
        alias = "group_id",
        deserialize_with = "id_text",
        default
    )]
    group_id: Option<String>,
}

/// Segment ids may be strings or numbers; both become text. Null means absent.
fn id_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct IdVisitor;
    impl Visitor<'_> for IdVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or number id")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    deserializer.deserialize_any(IdVisitor)
}

/// Parses one JSON Lines call.
pub fn parse_call(line: u64, text: &str) -> Result<SegmentCall, RowError> {
    parse_with(line, text)
}

/// What a call sent over HTTP may leave out, as Segment's API allows: its type (the
/// endpoint's; `None` inside a batch, where each call must say it) and its
/// timestamp (when it was received). A call without a messageId is named by a hash
/// of its own text, so that a resent call is recognised.
#[derive(Debug, Clone, Copy)]
pub struct LiveDefaults<'a> {
    pub kind: Option<&'a str>,
    pub timestamp: &'a str,
}

/// An `alias` call: `previousId` and `userId` are the same person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasCall {
    pub previous_id: String,
    pub user_id: String,
    pub timestamp: chrono::DateTime<chrono::Utc>,
}

/// One call sent over HTTP.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveCall {
    Call(SegmentCall),
    Alias(AliasCall),
}

/// Parses one call sent over HTTP, reading its JSON once; errors name the field as
/// Segment spells it.
pub fn parse_live_call(text: &str, defaults: &LiveDefaults) -> Result<LiveCall, RowError> {
    let mut json: SegmentJson = serde_json::from_str(text).map_err(|e| json_error(0, &e))?;
    let field_error = |field: &str, reason: &str| {
        let mut error = RowError::row(0, reason);
        error.field = Some(field.to_string());
        error
    };
    let stated = json.kind.take();
    let kind = stated.as_deref().or(defaults.kind);
    match kind {
        None => Err(field_error("type", "is required in a batch")),
        Some("alias") => {
            let required = |value: Option<String>, field: &str| {
                value
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| field_error(field, "is required"))
            };
            let previous_id = required(json.previous_id, "previousId")?;
            let user_id = required(json.user_id, "userId")?;
            let timestamp =
                parse_timestamp(json.timestamp.as_deref().unwrap_or(defaults.timestamp))
                    .map_err(|reason| field_error("timestamp", &reason))?;
            Ok(LiveCall::Alias(AliasCall {
                previous_id,
                user_id,
                timestamp,
            }))
        }
        Some(kind) => {
            let message_id = json
                .message_id
                .take()
                .unwrap_or_else(|| Cow::Owned(text_id(text)));
            into_call(
                0,
                json,
                Some(kind),
                Some(&message_id),
                Some(defaults.timestamp),
            )
            .map(LiveCall::Call)
        }
    }
}

/// A messageId made from a call's text: the same text gives the same id.
fn text_id(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("tend-{hex}")
}

fn parse_with(line: u64, text: &str) -> Result<SegmentCall, RowError> {
    let mut json: SegmentJson = serde_json::from_str(text).map_err(|e| json_error(line, &e))?;
    let kind = json.kind.take();
    into_call(line, json, kind.as_deref(), None, None)
}

/// Validates a parsed call; `kind`, `message_id` and `timestamp` stand in for what
/// the call leaves out.
fn into_call(
    line: u64,
    json: SegmentJson,
    kind: Option<&str>,
    message_id: Option<&str>,
    timestamp: Option<&str>,
) -> Result<SegmentCall, RowError> {
    let attributes = json.properties.or(json.traits);
    let properties = match attributes {
        None => "{}".to_string(),
        Some(raw) if raw.get().trim_start().starts_with('{') => raw.get().trim().to_string(),
        Some(_) => {
            let mut error = RowError::row(line, "must be a JSON object");
            error.field = Some(
                if json.properties.is_some() {
                    "properties"
                } else {
                    "traits"
                }
                .to_string(),
            );
            return Err(error);
        }
    };
    let group_id = json.group_id.or(json.context.and_then(|c| c.group_id));
    let call = Call {
        message_id: json.message_id.as_deref().or(message_id),
        kind,
        user_id: json.user_id.as_deref(),
        anonymous_id: json.anonymous_id.as_deref(),
        group_id: group_id.as_deref(),
        event: json.event.as_deref().or(json.name.as_deref()),
        timestamp: json.timestamp.as_deref().or(timestamp),
    };
    call.into_call(properties, FieldNames::Json)
        .map_err(|(field, reason)| {
            let mut error = RowError::row(line, reason);
            error.field = Some(field.to_string());
            error
        })
}

/// Streams the calls of a JSON Lines file, one line at a time.
pub struct SegmentReader<R: BufRead> {
    reader: R,
    line: u64,
    buffer: Vec<u8>,
    text: String,
}

impl<R: BufRead> SegmentReader<R> {
    pub fn new(reader: R) -> Self {
        SegmentReader {
            reader,
            line: 0,
            buffer: Vec::new(),
            text: String::new(),
        }
    }

    /// The 1-based number of the line last returned.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The text of the line last returned, for reject files.
    pub fn current_line(&self) -> &str {
        self.text.trim_end()
    }
}

impl<R: BufRead> Iterator for SegmentReader<R> {
    type Item = Result<SegmentCall, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buffer.clear();
            match self.reader.read_until(b'\n', &mut self.buffer) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(e) => {
                    return Some(Err(RowError::file(
                        self.line + 1,
                        format!("could not read: {e}"),
                    )))
                }
            }
            self.text.clear();
            match std::str::from_utf8(&self.buffer) {
                Ok(text) => self.text.push_str(text),
                Err(error) => {
                    self.text.push_str(&String::from_utf8_lossy(&self.buffer));
                    return Some(Err(RowError::row(
                        self.line,
                        format!(
                            "not valid UTF-8 at byte {} of the line; save the file as UTF-8",
                            error.valid_up_to() + 1
                        ),
                    )));
                }
            }
            if self.text.trim().is_empty() {
                continue;
            }
            return Some(parse_call(
                self.line,
                self.text.trim_end_matches(['\n', '\r']),
            ));
        }
    }
}

/// What an `identify` or `group` call's traits say: the fields of the data model
/// they set, and every other trait, kept as it came.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traits {
    /// `name`, or `firstName` and `lastName` together.
    pub name: Option<String>,
    pub email: Option<String>,
    pub title: Option<String>,
    pub industry: Option<String>,
    /// The other traits, as a JSON object.
    pub other: String,
}

/// Splits a traits object (a call's `properties` as tend stores them) into the
/// fields of the data model and the rest. A field that is not text stays in the rest.
pub fn split_traits(traits: &str) -> Traits {
    let Ok(serde_json::Value::Object(mut all)) = serde_json::from_str(traits) else {
        return Traits {
            other: "{}".into(),
            ..Traits::default()
        };
    };
    let mut take = |key: &str| match all.get(key) {
        Some(serde_json::Value::String(text)) if !text.trim().is_empty() => {
            let text = text.trim().to_string();
            all.remove(key);
            Some(text)
        }
        _ => None,
    };
    let name = take("name");
    let first = take("firstName");
    let last = take("lastName");
    let email = take("email");
    let title = take("title");
    let industry = take("industry");
    let name = name.or(match (first, last) {
        (Some(first), Some(last)) => Some(format!("{first} {last}")),
        (first, last) => first.or(last),
    });
    Traits {
        name,
        email,
        title,
        industry,
        other: serde_json::Value::Object(all).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_segment_track_and_identify() {
        let track = r#"{"type":"track","messageId":"m1","userId":42,"event":"Report Exported","properties":{"format":"pdf"},"context":{"groupId":"acme"},"timestamp":"2024-05-01T10:00:00.123Z","sentAt":"x"}"#;
        let event = parse_call(1, track).unwrap();
        assert_eq!(event.user_id.as_deref(), Some("42"));
        assert_eq!(event.group_id.as_deref(), Some("acme"));
        assert_eq!(event.event, "Report Exported");
        assert_eq!(event.properties, r#"{"format":"pdf"}"#);
        assert_eq!(
            event.timestamp.to_rfc3339(),
            "2024-05-01T10:00:00.123+00:00"
        );

        let identify = r#"{"type":"identify","message_id":"m2","anonymous_id":"anon","group_id":"acme","traits":{"plan":"pro"},"timestamp":"2024-05-01T10:00:00Z"}"#;
        let event = parse_call(2, identify).unwrap();
        assert_eq!(
            (event.kind, event.event.as_str()),
            (EventType::Identify, "")
        );
        assert_eq!(event.properties, r#"{"plan":"pro"}"#);

        let identify = r#"{"type":"identify","messageId":"m3","userId":"u-7","traits":{"email":" ann@acme.example ","name":"Ann"},"timestamp":"2024-05-01T10:00:00Z"}"#;
        let call = parse_call(3, identify).unwrap();
        assert_eq!(call.group_id, None, "a call may come without a group");
        assert_eq!(call.email.as_deref(), Some("ann@acme.example"));
        let event = call.into_event("acme".into());
        assert_eq!(event.account_id, "acme");
    }

    #[test]
    fn errors_name_field_and_line() {
        let error = |text: &str| parse_call(3, text).unwrap_err().to_string();
        assert_eq!(
            error(
                r#"{"type":"group","messageId":"m","userId":"u","timestamp":"2024-05-01T10:00:00Z"}"#
            ),
            "line 3, field groupId: is required for a group call"
        );
        assert_eq!(
            error(r#"{"userId":"u","event":"e","timestamp":"2024-05-01T10:00:00Z"}"#),
            "line 3, field messageId: is required"
        );
        assert_eq!(
            error(
                r#"{"messageId":"m","groupId":"a","event":"e","timestamp":"2024-05-01T10:00:00Z"}"#
            ),
            "line 3, field userId: a call needs a userId or an anonymousId"
        );
        assert!(error(
            r#"{"messageId":"m","groupId":"a","userId":"u","event":"e","timestamp":"yesterday"}"#
        )
        .starts_with("line 3, field timestamp: must be an RFC 3339 time"));
        assert!(error(r#"{"messageId":"m","groupId":"a","#).contains("truncated JSON"));
        assert_eq!(
            error(
                r#"{"type":"alias","messageId":"m","groupId":"a","userId":"u","timestamp":"2024-05-01T10:00:00Z"}"#
            ),
            "line 3, field type: \"alias\" is not one of track, identify, group, page, screen"
        );
    }

    #[test]
    fn reader_skips_blank_lines_and_keeps_line_numbers() {
        let text: &[u8] = b"\n{\"messageId\":\"m\",\"groupId\":\"a\",\"userId\":\"u\",\"event\":\"e\",\"timestamp\":\"2024-05-01T10:00:00Z\"}\n\xff\n";
        let mut reader = SegmentReader::new(text);
        assert!(reader.next().unwrap().is_ok());
        assert!(reader.current_line().starts_with("{\"messageId\""));
        assert_eq!(reader.next().unwrap().unwrap_err().line, 3);
        assert!(reader.next().is_none());
    }

    #[test]
    fn traits_split_into_fields_and_the_rest() {
        let traits = split_traits(
            r#"{"firstName": "Mara", "lastName": "Ines", "email": " mara@foods.example ",
                "title": "Head of Ops", "plan": "pro", "seats": 40, "industry": 7}"#,
        );
        assert_eq!(traits.name.as_deref(), Some("Mara Ines"));
        assert_eq!(traits.email.as_deref(), Some("mara@foods.example"));
        assert_eq!(traits.title.as_deref(), Some("Head of Ops"));
        assert_eq!(traits.industry, None, "a number is not an industry");
        let other: serde_json::Value = serde_json::from_str(&traits.other).unwrap();
        assert_eq!(
            other,
            serde_json::json!({"plan": "pro", "seats": 40, "industry": 7})
        );
        assert_eq!(split_traits("not json").other, "{}");
    }
}
