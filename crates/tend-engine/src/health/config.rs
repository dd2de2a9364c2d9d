//! Scorecard files: the shipped default and a team's own, parsed and validated.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use tend_core::health::{FilePath, PathStep, ScorecardSet};
use toml::de::{DeTable, DeValue};

use super::HealthError;

/// The scorecards tend uses when none are given (`default_scorecard.toml`).
pub const DEFAULT_SCORECARDS: &str = include_str!("default_scorecard.toml");

/// Parses and validates scorecards from TOML; `origin` names the file in errors.
pub fn parse_scorecards(text: &str, origin: &str) -> Result<ScorecardSet, HealthError> {
    let set: ScorecardSet = toml::from_str(text).map_err(|e| HealthError::Scorecard {
        origin: origin.to_string(),
        message: e.to_string().trim_end().to_string(),
    })?;
    set.validate().map_err(|e| HealthError::Scorecard {
        origin: match line_of(text, &e.at) {
            Some(line) => format!("{origin}, line {line}"),
            None => origin.to_string(),
        },
        message: e.to_string(),
    })?;
    Ok(set)
}

/// A settings file (negotiation guardrails, expansion) that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsFileError {
    #[error("{origin}: {message}")]
    File { origin: String, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Parses a settings file and checks it with `validate` (a problem and where it
/// is); `origin` names the file in errors, with the line of the mistake.
pub(crate) fn parse_settings<T: DeserializeOwned>(
    text: &str,
    origin: &str,
    validate: impl FnOnce(&T) -> Result<(), (String, FilePath)>,
) -> Result<T, SettingsFileError> {
    let settings: T = toml::from_str(text).map_err(|e| {
        let (origin, message) = toml_error(text, origin, &e);
        SettingsFileError::File { origin, message }
    })?;
    validate(&settings).map_err(|(message, at)| SettingsFileError::File {
        origin: origin_at(text, origin, &at),
        message,
    })?;
    Ok(settings)
}

/// The settings of the file at `path` through `parse`, or the shipped ones.
pub(crate) fn load_settings<T>(
    path: Option<&Path>,
    shipped: (&str, &str),
    parse: impl Fn(&str, &str) -> Result<T, SettingsFileError>,
) -> Result<T, SettingsFileError> {
    match path {
        None => parse(shipped.0, shipped.1),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| SettingsFileError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            parse(&text, &path.display().to_string())
        }
    }
}

/// `origin` with the line of a TOML syntax or type error in `text`, and the error's
/// message: how playbook and guardrails files name their mistakes.
pub(crate) fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> (String, String) {
    let origin = match e.span() {
        Some(span) => format!(
            "{origin}, line {}",
            text[..span.start].matches('\n').count() + 1
        ),
        None => origin.to_string(),
    };
    (origin, e.message().trim_end().to_string())
}

/// `origin` with the line of the value at `at`, when it is there.
pub(crate) fn origin_at(text: &str, origin: &str, at: &FilePath) -> String {
    match line_of(text, at) {
        Some(line) => format!("{origin}, line {line}"),
        None => origin.to_string(),
    }
}

/// The line of `text` holding the value at `path`, or of the nearest enclosing value
/// that is there (a missing key points at its table); `None` for the whole file.
pub(crate) fn line_of(text: &str, path: &FilePath) -> Option<usize> {
    // The typed parse already succeeded, so this one does too.
    let root = DeTable::parse(text).ok()?;
    let root = DeValue::Table(root.into_inner());
    let mut value = &root;
    let mut start = None;
    for step in &path.0 {
        let next = match step {
            PathStep::Key(key) => value.get(key.as_str()),
            PathStep::Index(index) => value.get(*index),
        };
        let Some(next) = next else { break };
        start = Some(next.span().start);
        value = next.get_ref();
    }
    start.map(|at| text[..at].matches('\n').count() + 1)
}

/// The scorecards in `path`, or the shipped default without one.
pub fn load_scorecards(path: Option<&Path>) -> Result<ScorecardSet, HealthError> {
    match path {
        None => parse_scorecards(DEFAULT_SCORECARDS, "default scorecard"),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| HealthError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            parse_scorecards(&text, &path.display().to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scorecards_are_valid() {
        let set = load_scorecards(None).unwrap();
        let names: Vec<&str> = set.scorecards.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["onboarding", "standard"]);
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        let error = parse_scorecards("[[scorecard]]\nname = 3\n", "team.toml").unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("team.toml: "), "{text}");
        assert!(text.contains("line 2"), "{text}");
        let error = parse_scorecards(
            &DEFAULT_SCORECARDS.replace("\"csat\"", "\"csatt\""),
            "team.toml",
        )
        .unwrap_err();
        let line = line_containing(DEFAULT_SCORECARDS, "name = \"csat\"");
        assert!(
            error.to_string().starts_with(&format!(
                "team.toml, line {line}: scorecard \"standard\", group \"sentiment\", measure \"csatt\": unknown measure (known: license_utilization, dau_mau,"
            )),
            "{error}"
        );
    }

    /// The 1-based line of the first line of `text` containing `needle`.
    fn line_containing(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    /// Each kind of validation error points at the line of the value it is about.
    #[test]
    fn validation_errors_point_at_the_value() {
        let file = "\
[[scorecard]]
name = \"onboarding\"
applies_to = { lifecycle_stage = [\"onboarding\"] }
bands = [
  { name = \"red\", from = 0, to = 50 },
  { name = \"green\", from = 50, to = 100 },
]
[[scorecard.group]]
name = \"usage\"
weight = 100
[[scorecard.group.measure]]
name = \"license_utilization\"
weight = 60
rule = { kind = \"linear\", zero_at = 0, full_at = 1 }
[[scorecard.group.measure]]
name = \"dau_mau\"
weight = 40
window = 30
rule = { kind = \"linear\", zero_at = 0, full_at = 0.5 }

[[scorecard]]
name = \"standard\"
bands = [
  { name = \"red\", from = 0, to = 50 },
  { name = \"green\", from = 50, to = 100 },
]
[[scorecard.group]]
name = \"usage\"
weight = 100
[[scorecard.group.measure]]
name = \"license_utilization\"
weight = 100
rule = { kind = \"linear\", zero_at = 0, full_at = 1 }
";
        parse_scorecards(file, "team.toml").unwrap();
        let cases = [
            // (what to change, into what, the line the error must name)
            ("\"dau_mau\"", "\"dau_mauu\"", 16),
            ("window = 30", "window = 0", 18),
            ("weight = 40", "weight = 30", 9),
            ("weight = 40", "weight = -40", 17),
            ("lifecycle_stage", "lifecycle", 3),
            ("from = 50", "from = 40", 6),
            ("name = \"standard\"", "name = \"onboarding\"", 22),
        ];
        for (from, to, line) in cases {
            assert!(file.contains(from), "{from}");
            let error = parse_scorecards(&file.replacen(from, to, 1), "team.toml")
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with(&format!("team.toml, line {line}: ")),
                "{from} → {to}: {error}"
            );
        }
        // A mistake about the whole file has no line.
        let no_default = file.replacen(
            "name = \"standard\"\n",
            "name = \"standard\"\napplies_to = { tier = [\"gold\"] }\n",
            1,
        );
        let error = parse_scorecards(&no_default, "team.toml")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("team.toml: scorecards: no default"),
            "{error}"
        );
    }
}
