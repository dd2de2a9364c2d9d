//! Scorecard files: the shipped default and a team's own, parsed and validated.

use std::path::Path;

use tend_core::health::ScorecardSet;

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
        origin: origin.to_string(),
        message: e.to_string(),
    })?;
    Ok(set)
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
        assert!(error.to_string().starts_with(
            "team.toml: scorecard \"standard\", group \"sentiment\", measure \"csatt\": unknown measure (known: license_utilization, dau_mau,"
        ));
    }
}
