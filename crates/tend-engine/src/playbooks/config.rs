//! Playbook files: the shipped defaults and a team's own directory, parsed and
//! validated with errors naming file and line.

use std::path::Path;

use tend_core::playbook::{Playbook, PlaybookFile};

use super::PlaybookError;
use crate::health::config::{origin_at, toml_error};

/// The eight playbooks tend ships, one file each (`defaults/`).
pub const DEFAULT_PLAYBOOKS: &[(&str, &str)] = &[
    ("onboarding.toml", include_str!("defaults/onboarding.toml")),
    ("adoption.toml", include_str!("defaults/adoption.toml")),
    ("at-risk.toml", include_str!("defaults/at-risk.toml")),
    ("growth.toml", include_str!("defaults/growth.toml")),
    ("renewal.toml", include_str!("defaults/renewal.toml")),
    ("win-back.toml", include_str!("defaults/win-back.toml")),
    ("enterprise.toml", include_str!("defaults/enterprise.toml")),
    ("smb.toml", include_str!("defaults/smb.toml")),
];

/// The playbooks in use, each with the file it came from.
#[derive(Debug, Clone, Default)]
pub struct PlaybookSet {
    pub playbooks: Vec<Playbook>,
    pub origins: Vec<String>,
}

impl PlaybookSet {
    pub fn get(&self, name: &str) -> Option<&Playbook> {
        self.playbooks.iter().find(|p| p.name == name)
    }

    /// The playbooks switched on.
    pub fn enabled(&self) -> impl Iterator<Item = &Playbook> {
        self.playbooks.iter().filter(|p| p.enabled)
    }

    /// Adds the playbooks of one file; one of the same name replaces the earlier
    /// (a team's file overrides a default), within one file names are unique.
    fn add(&mut self, file: Vec<Playbook>, origin: &str) {
        for playbook in file {
            match self.playbooks.iter().position(|p| p.name == playbook.name) {
                Some(i) => {
                    self.playbooks[i] = playbook;
                    self.origins[i] = origin.to_string();
                }
                None => {
                    self.playbooks.push(playbook);
                    self.origins.push(origin.to_string());
                }
            }
        }
    }
}

/// Parses and validates one playbook file; `origin` names it in errors.
pub fn parse_playbooks(text: &str, origin: &str) -> Result<Vec<Playbook>, PlaybookError> {
    let file: PlaybookFile = toml::from_str(text).map_err(|e| {
        let (origin, message) = toml_error(text, origin, &e);
        PlaybookError::File { origin, message }
    })?;
    file.validate().map_err(|e| PlaybookError::File {
        origin: origin_at(text, origin, &e.at),
        message: e.to_string(),
    })
}

/// The shipped defaults, then every `*.toml` of `dir` (by name) over them.
pub fn load_playbooks(dir: Option<&Path>) -> Result<PlaybookSet, PlaybookError> {
    let mut set = PlaybookSet::default();
    for (name, text) in DEFAULT_PLAYBOOKS {
        let origin = format!("default playbook {name}");
        set.add(parse_playbooks(text, &origin)?, &origin);
    }
    let Some(dir) = dir else {
        return Ok(set);
    };
    let io = |source| PlaybookError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?
        .into_iter()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| PlaybookError::Io {
            path: path.clone(),
            source,
        })?;
        let origin = path.display().to_string();
        set.add(parse_playbooks(&text, &origin)?, &origin);
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eight_seed_playbooks_ship_valid() {
        let set = load_playbooks(None).unwrap();
        let names: Vec<&str> = set.playbooks.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "onboarding",
                "adoption",
                "at-risk",
                "growth",
                "renewal",
                "win-back",
                "enterprise",
                "smb"
            ]
        );
    }

    /// Each kind of mistake names the file and the line of the value it is about.
    #[test]
    fn errors_name_the_file_and_the_line() {
        let file = "\
[[playbook]]
name = \"save\"
reentry_days = 30

[[playbook.trigger]]
signal = \"usage_dropped\"
percent = 40

[playbook.when]
segment = [\"smb\"]
lifecycle_stage = [\"mature\"]

[playbook.task]
kind = \"risk\"
title = \"Save {account}\"
priority = \"high\"
assign = \"csm\"
";
        parse_playbooks(file, "team/save.toml").unwrap();
        let cases = [
            (
                "\"usage_dropped\"",
                "\"usage_drop\"",
                6,
                "unknown signal \"usage_drop\"",
            ),
            (
                "percent = 40",
                "percent = 400",
                7,
                "percent of usage_dropped must be from 1 to 100",
            ),
            (
                "percent = 40",
                "points = 4",
                7,
                "takes no parameter \"points\"",
            ),
            ("percent = 40", "percent = \"a lot\"", 7, "is a number"),
            ("\"mature\"", "\"grown\"", 11, "is not one of onboarding"),
            ("\"risk\"", "\"rescue\"", 14, "is not one of risk"),
            ("\"high\"", "\"highest\"", 16, "is not one of low"),
            (
                "\"csm\"",
                "\"cfo\"",
                17,
                "assign is csm, am, team_lead or a pool",
            ),
            (
                "reentry_days = 30",
                "reentry_days = \"soon\"",
                3,
                "invalid type",
            ),
        ];
        for (from, to, line, says) in cases {
            assert!(file.contains(from), "{from}");
            let error = parse_playbooks(&file.replacen(from, to, 1), "team/save.toml")
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with(&format!("team/save.toml, line {line}")),
                "{from} → {to}: {error}"
            );
            assert!(error.contains(says), "{from} → {to}: {error}");
        }
    }

    #[test]
    fn a_teams_file_replaces_a_default_of_the_same_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("at-risk.toml"),
            "[[playbook]]\nname = \"at-risk\"\nenabled = false\n[[playbook.trigger]]\nsignal = \"health_band\"\n[playbook.task]\nkind = \"risk\"\ntitle = \"Look\"\nassign = \"csm\"\n",
        )
        .unwrap();
        let set = load_playbooks(Some(dir.path())).unwrap();
        let at_risk = set.get("at-risk").unwrap();
        assert!(!at_risk.enabled);
        assert_eq!(set.playbooks.len(), 8);
        assert!(set.enabled().all(|p| p.name != "at-risk"));
    }
}
