//! Playbooks and tasks: the work engine. Playbook files are loaded and checked
//! (`config`), each account's decisions found from what is stored (`inputs`,
//! `run`) and applied exactly once, owners chosen by role or pool (`assign`), the
//! history replayed without writing (`simulate`), and tasks changed by hand
//! (`tasks`).

pub mod assign;
pub mod config;
pub(crate) mod inputs;
pub mod mail;
pub mod run;
pub mod simulate;
pub mod tasks;

use std::path::PathBuf;

pub use config::{load_playbooks, parse_playbooks, PlaybookSet, DEFAULT_PLAYBOOKS};
pub use run::{run_playbooks, RunReport};
pub use simulate::{simulate, PlaybookSimulation, Simulation};
pub use tasks::{NewTask, TaskChanges, TaskDetail, TaskQuery, TaskScope};

/// Why playbooks could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    #[error("{origin}: {message}")]
    File { origin: String, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}
