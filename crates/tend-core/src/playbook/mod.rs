//! Playbooks: rules that turn signals into work. A playbook names trigger signals
//! (any of them fires it), conditions on the account, and actions — a task with steps
//! assigned by role or pool, a lifecycle stage, a webhook event, emails — with rules
//! against noise: one open task per account and playbook, a re-entry period, and
//! auto-close when the trigger clears. Written as TOML by the team (parsed by the
//! engine) and checked here; [`decide`] is the one rule the live path, the daily run
//! and the simulation all follow.

pub mod triggers;

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::Deserialize;

use crate::health::FilePath;
use crate::model::{LifecycleStage, TaskKind, TaskPriority};
pub use triggers::{
    trigger, Evidence, HealthPoint, Input, Params, RiskPoint, TriggerSpec, Value, TRIGGERS,
};

/// A playbook file: one or more `[[playbook]]` tables.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookFile {
    #[serde(rename = "playbook", default)]
    pub playbooks: Vec<PlaybookConfig>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookConfig {
    pub name: String,
    /// What the playbook is for, in a sentence.
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(rename = "trigger")]
    pub triggers: Vec<TriggerConfig>,
    #[serde(default)]
    pub when: ConditionsConfig,
    /// Days after its last task closed before the playbook may act on the account again.
    #[serde(default = "thirty")]
    pub reentry_days: u32,
    /// Close the open task, with the reason, when no trigger holds any more.
    #[serde(default = "yes")]
    pub auto_close: bool,
    /// The task it creates: every playbook makes one, which is what keeps it from
    /// acting twice on an account (one open task per account and playbook).
    pub task: Option<TaskConfig>,
    /// The lifecycle stage the account enters when the playbook fires.
    #[serde(default)]
    pub set_stage: Option<String>,
    /// Send a `playbook.fired` webhook event (to Standard Webhooks or Slack subscribers).
    #[serde(default)]
    pub notify: bool,
    #[serde(default, rename = "email")]
    pub emails: Vec<EmailConfig>,
}

fn yes() -> bool {
    true
}

fn thirty() -> u32 {
    30
}

/// A trigger: a signal and its parameters, e.g. `{ signal = "usage_dropped", percent = 40 }`,
/// optionally held only on the accounts its own `when` names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TriggerConfig {
    pub signal: String,
    #[serde(default)]
    pub when: ConditionsConfig,
    #[serde(flatten)]
    pub params: BTreeMap<String, ParamConfig>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ParamConfig {
    Number(f64),
    Text(String),
}

/// Which accounts a playbook acts on; every field given narrows it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionsConfig {
    #[serde(default)]
    pub segment: Vec<String>,
    #[serde(default)]
    pub tier: Vec<String>,
    #[serde(default)]
    pub lifecycle_stage: Vec<String>,
    #[serde(default)]
    pub health_band: Vec<String>,
    #[serde(default)]
    pub risk_band: Vec<String>,
    /// ARR in force, in major units of the reporting currency.
    #[serde(default)]
    pub arr_min: Option<f64>,
    #[serde(default)]
    pub arr_max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    pub kind: String,
    /// `{account}` stands for the account's name, `{evidence}` for what the signal saw.
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "normal")]
    pub priority: String,
    /// Days from the day it is created to its due day.
    #[serde(default = "seven")]
    pub due_days: u32,
    pub assign: AssignConfig,
    #[serde(default, rename = "step")]
    pub steps: Vec<StepConfig>,
}

fn normal() -> String {
    "normal".into()
}

fn seven() -> u32 {
    7
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    pub title: String,
    /// Days from the task's creation to this step's due day.
    pub due_days: u32,
}

/// `"csm"`, `"am"`, `"team_lead"`, or a pool:
/// `{ pool = ["ana", "ben"], how = "round_robin" }` / `{ team = "smb", how = "least_loaded" }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AssignConfig {
    Role(String),
    Pool {
        #[serde(default)]
        pool: Vec<String>,
        #[serde(default)]
        team: Option<String>,
        how: String,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `csm`, `am`, `owner` (the task's), `champion` (the account's champions), or an
    /// address.
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A validated playbook.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub triggers: Vec<Trigger>,
    pub conditions: Conditions,
    pub reentry_days: u32,
    pub auto_close: bool,
    pub task: TaskTemplate,
    pub set_stage: Option<LifecycleStage>,
    pub notify: bool,
    pub emails: Vec<EmailConfig>,
}

/// A validated trigger: the signal, its parameters and the accounts it holds on (a
/// weak signal may count only where another already points the same way).
#[derive(Debug, Clone)]
pub struct Trigger {
    pub spec: &'static TriggerSpec,
    pub params: Params,
    pub when: Conditions,
}

impl Trigger {
    /// The signal's words with its parameters and conditions filled in.
    pub fn words(&self) -> String {
        let words = fill_params(self.spec.words, &self.params);
        match self.when.words() {
            Some(when) => format!("{words} while {when}"),
            None => words,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    pub segment: Vec<String>,
    pub tier: Vec<String>,
    pub lifecycle_stage: Vec<LifecycleStage>,
    pub health_band: Vec<String>,
    pub risk_band: Vec<String>,
    pub arr_min: Option<f64>,
    pub arr_max: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskTemplate {
    pub kind: TaskKind,
    pub title: String,
    pub description: String,
    pub priority: TaskPriority,
    pub due_days: u32,
    pub assign: Assign,
    pub steps: Vec<(String, u32)>,
}

/// Who a playbook's task goes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Assign {
    /// The account's CSM owner.
    Csm,
    /// The account's account-manager owner.
    Am,
    /// The leader of the team of the account's CSM (or any leader).
    TeamLead,
    /// Each pool member in turn.
    RoundRobin(Pool),
    /// The pool member with the fewest open tasks.
    LeastLoaded(Pool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Pool {
    Users(Vec<String>),
    Team(String),
}

/// A mistake in a playbook file, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {problem}")]
pub struct PlaybookError {
    pub place: String,
    pub problem: String,
    pub at: FilePath,
}

fn error(at: FilePath, place: &str, problem: impl Into<String>) -> PlaybookError {
    PlaybookError {
        place: place.to_string(),
        problem: problem.into(),
        at,
    }
}

fn names(list: &[&str]) -> String {
    list.join(", ")
}

impl PlaybookFile {
    /// Checks what parsing cannot: known signals and parameters in range, known
    /// kinds, priorities, stages and assignments, names unique within the file.
    pub fn validate(&self) -> Result<Vec<Playbook>, PlaybookError> {
        let mut out: Vec<Playbook> = Vec::new();
        for (i, config) in self.playbooks.iter().enumerate() {
            let at = FilePath::default().key("playbook").index(i);
            let playbook = config.validate(&at)?;
            if out.iter().any(|p| p.name == playbook.name) {
                return Err(error(
                    at.key("name"),
                    &format!("playbook {:?}", playbook.name),
                    "another playbook of the file has this name",
                ));
            }
            out.push(playbook);
        }
        Ok(out)
    }
}

impl PlaybookConfig {
    fn validate(&self, at: &FilePath) -> Result<Playbook, PlaybookError> {
        let place = format!("playbook {:?}", self.name);
        let valid_name = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid_name {
            return Err(error(
                at.key("name"),
                &place,
                "a name is lower-case letters, digits, - and _",
            ));
        }
        if self.triggers.is_empty() {
            return Err(error(at.clone(), &place, "names no [[playbook.trigger]]"));
        }
        let mut triggers = Vec::new();
        for (k, config) in self.triggers.iter().enumerate() {
            triggers.push(config.validate(&at.key("trigger").index(k), &place)?);
        }
        let conditions = self.when.validate(&at.key("when"), &place)?;
        let task = match &self.task {
            Some(task) => task.validate(&at.key("task"), &place)?,
            None => return Err(error(
                at.clone(),
                &place,
                "needs a [playbook.task]: its open task is what keeps a playbook from acting twice",
            )),
        };
        let set_stage = match &self.set_stage {
            Some(stage) => Some(
                LifecycleStage::parse(stage)
                    .map_err(|e| error(at.key("set_stage"), &place, e.0))?,
            ),
            None => None,
        };
        for (k, email) in self.emails.iter().enumerate() {
            let at = at.key("email").index(k);
            let to = email.to.trim();
            let known = ["csm", "am", "owner", "champion"];
            if !known.contains(&to) && !looks_like_address(to) {
                return Err(error(
                    at.key("to"),
                    &place,
                    format!(
                        "{to:?} is neither one of {} nor an email address",
                        names(&known)
                    ),
                ));
            }
        }
        Ok(Playbook {
            name: self.name.clone(),
            description: self.description.clone(),
            enabled: self.enabled,
            triggers,
            conditions,
            reentry_days: self.reentry_days,
            auto_close: self.auto_close,
            task,
            set_stage,
            notify: self.notify,
            emails: self.emails.clone(),
        })
    }
}

fn looks_like_address(text: &str) -> bool {
    matches!(text.split_once('@'), Some((user, host)) if !user.is_empty() && host.contains('.') && !text.contains(char::is_whitespace))
}

impl TriggerConfig {
    fn validate(&self, at: &FilePath, place: &str) -> Result<Trigger, PlaybookError> {
        let known: Vec<&str> = TRIGGERS.iter().map(|t| t.name).collect();
        let spec = trigger(&self.signal).ok_or_else(|| {
            error(
                at.key("signal"),
                place,
                format!(
                    "unknown signal {:?} (known: {})",
                    self.signal,
                    names(&known)
                ),
            )
        })?;
        let mut given = Vec::new();
        for (name, value) in &self.params {
            let at = at.key(name);
            let param = spec.params.iter().find(|p| p.name == name).ok_or_else(|| {
                let takes: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
                let takes = if takes.is_empty() {
                    "none".to_string()
                } else {
                    names(&takes)
                };
                error(
                    at.clone(),
                    place,
                    format!(
                        "signal {} takes no parameter {name:?} (it takes: {takes})",
                        spec.name
                    ),
                )
            })?;
            let value = match (param.default, value) {
                (triggers::Default::Number { min, max, .. }, ParamConfig::Number(x)) => {
                    if !(min..=max).contains(x) {
                        return Err(error(
                            at,
                            place,
                            format!(
                                "{name} of {} must be from {min} to {max}, not {x}",
                                spec.name
                            ),
                        ));
                    }
                    Value::Number(*x)
                }
                (triggers::Default::Text(_), ParamConfig::Text(t)) => Value::Text(t.clone()),
                (triggers::Default::Number { .. }, _) => {
                    return Err(error(
                        at,
                        place,
                        format!("{name} of {} is a number", spec.name),
                    ))
                }
                (triggers::Default::Text(_), _) => {
                    return Err(error(
                        at,
                        place,
                        format!("{name} of {} is a name", spec.name),
                    ))
                }
            };
            if name == "stage" {
                if let Value::Text(stage) = &value {
                    LifecycleStage::parse(stage).map_err(|e| error(at.key(name), place, e.0))?;
                }
            }
            given.push((name.clone(), value));
        }
        Ok(Trigger {
            spec,
            params: spec.params_with(&given),
            when: self.when.validate(&at.key("when"), place)?,
        })
    }
}

impl ConditionsConfig {
    fn validate(&self, at: &FilePath, place: &str) -> Result<Conditions, PlaybookError> {
        let mut stages = Vec::new();
        for (k, stage) in self.lifecycle_stage.iter().enumerate() {
            stages.push(
                LifecycleStage::parse(stage)
                    .map_err(|e| error(at.key("lifecycle_stage").index(k), place, e.0))?,
            );
        }
        if let (Some(min), Some(max)) = (self.arr_min, self.arr_max) {
            if min > max {
                return Err(error(at.key("arr_max"), place, "arr_max is below arr_min"));
            }
        }
        Ok(Conditions {
            segment: self.segment.clone(),
            tier: self.tier.clone(),
            lifecycle_stage: stages,
            health_band: self.health_band.clone(),
            risk_band: self.risk_band.clone(),
            arr_min: self.arr_min,
            arr_max: self.arr_max,
        })
    }
}

impl TaskConfig {
    fn validate(&self, at: &FilePath, place: &str) -> Result<TaskTemplate, PlaybookError> {
        let kind = TaskKind::parse(&self.kind).map_err(|e| error(at.key("kind"), place, e.0))?;
        let priority = TaskPriority::parse(&self.priority)
            .map_err(|e| error(at.key("priority"), place, e.0))?;
        if self.title.trim().is_empty() {
            return Err(error(at.key("title"), place, "a task needs a title"));
        }
        let assign = match &self.assign {
            AssignConfig::Role(role) => match role.as_str() {
                "csm" => Assign::Csm,
                "am" => Assign::Am,
                "team_lead" => Assign::TeamLead,
                other => {
                    return Err(error(
                        at.key("assign"),
                        place,
                        format!("assign is csm, am, team_lead or a pool, not {other:?}"),
                    ))
                }
            },
            AssignConfig::Pool { pool, team, how } => {
                let pool =
                    match (pool.is_empty(), team) {
                        (false, None) => Pool::Users(pool.clone()),
                        (true, Some(team)) => Pool::Team(team.clone()),
                        _ => return Err(error(
                            at.key("assign"),
                            place,
                            "a pool names either users (pool = [...]) or a team (team = \"...\")",
                        )),
                    };
                match how.as_str() {
                    "round_robin" => Assign::RoundRobin(pool),
                    "least_loaded" => Assign::LeastLoaded(pool),
                    other => {
                        return Err(error(
                            at.key("assign").key("how"),
                            place,
                            format!("how is round_robin or least_loaded, not {other:?}"),
                        ))
                    }
                }
            }
        };
        Ok(TaskTemplate {
            kind,
            title: self.title.clone(),
            description: self.description.clone(),
            priority,
            due_days: self.due_days,
            assign,
            steps: self
                .steps
                .iter()
                .map(|s| (s.title.clone(), s.due_days))
                .collect(),
        })
    }
}

/// A playbook's trigger that fired, with what it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub signal: &'static str,
    pub evidence: Evidence,
}

impl Playbook {
    /// The first trigger that holds on the input's day. Only `churned` fires on an
    /// account that is not a customer that day.
    /// `arr` is the account's ARR in force in major units of the reporting currency.
    pub fn fired(&self, input: &Input, arr: Option<f64>) -> Option<Firing> {
        let customer = input.is_customer();
        self.triggers.iter().find_map(|trigger| {
            if !customer && trigger.spec.name != "churned" {
                return None;
            }
            if !trigger.when.hold(input, arr) {
                return None;
            }
            trigger
                .spec
                .fires(input, &trigger.params)
                .map(|evidence| Firing {
                    signal: trigger.spec.name,
                    evidence,
                })
        })
    }

    /// Whether the account is one the playbook acts on; `arr` is its ARR in force in
    /// major units of the reporting currency, if known.
    pub fn applies_to(&self, input: &Input, arr: Option<f64>) -> bool {
        self.conditions.hold(input, arr)
    }

    /// `text` with `{account}` and `{evidence}` filled in.
    pub fn fill(text: &str, account_name: &str, evidence: &Evidence) -> String {
        text.replace("{account}", account_name)
            .replace("{evidence}", &evidence.words)
    }
}

impl Conditions {
    /// Whether the account meets every condition given; `arr` as in [`Playbook::fired`].
    pub fn hold(&self, input: &Input, arr: Option<f64>) -> bool {
        let c = self;
        let account = input.facts.account;
        let listed = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|l| l.eq_ignore_ascii_case(v)))
        };
        listed(&c.segment, account.segment.as_deref())
            && listed(&c.tier, account.tier.as_deref())
            && listed(&c.health_band, input.health_band())
            && listed(&c.risk_band, input.risk_band())
            && (c.lifecycle_stage.is_empty()
                || input
                    .stage()
                    .is_some_and(|(s, _)| c.lifecycle_stage.contains(&s)))
            && c.arr_min.is_none_or(|min| arr.is_some_and(|a| a >= min))
            && c.arr_max.is_none_or(|max| arr.is_some_and(|a| a <= max))
    }

    /// The conditions in words, or `None` when there are none.
    pub fn words(&self) -> Option<String> {
        let mut parts = Vec::new();
        let list = |name: &str, values: &[String], parts: &mut Vec<String>| {
            if !values.is_empty() {
                parts.push(format!("{name} is {}", values.join(" or ")));
            }
        };
        list("segment", &self.segment, &mut parts);
        list("tier", &self.tier, &mut parts);
        let stages: Vec<String> = self.lifecycle_stage.iter().map(|s| s.to_string()).collect();
        list("stage", &stages, &mut parts);
        list("health", &self.health_band, &mut parts);
        list("churn risk", &self.risk_band, &mut parts);
        if let Some(min) = self.arr_min {
            parts.push(format!("ARR is at least {min}"));
        }
        if let Some(max) = self.arr_max {
            parts.push(format!("ARR is at most {max}"));
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }
}

/// What the playbook has going on one account.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlaybookState {
    /// The id of its open task, if any.
    pub open_task: Option<i64>,
    /// The day its last task closed.
    pub last_closed: Option<NaiveDate>,
}

/// What to do about one account on one day.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Act: create the task (if any) and run the other actions.
    Fire(Firing),
    /// Close the open task: its trigger no longer holds.
    Close {
        task_id: i64,
        reason: String,
    },
    Nothing,
}

/// The one rule for every path: a playbook fires on an account when a trigger holds,
/// the conditions apply, it has no open task there and its re-entry period since the
/// last one has passed; an open task closes when no trigger holds and the playbook
/// auto-closes.
pub fn decide(
    playbook: &Playbook,
    input: &Input,
    arr: Option<f64>,
    state: &PlaybookState,
) -> Decision {
    if !playbook.enabled {
        return Decision::Nothing;
    }
    let fired = playbook.fired(input, arr);
    match (state.open_task, fired) {
        (Some(task_id), None) if playbook.auto_close => Decision::Close {
            task_id,
            reason: cleared_reason(playbook),
        },
        (Some(_), _) => Decision::Nothing,
        (None, Some(firing)) => {
            let waited = state.last_closed.is_none_or(|last| {
                last.checked_add_days(Days::new(u64::from(playbook.reentry_days)))
                    .is_some_and(|next| input.day >= next)
            });
            if waited && playbook.applies_to(input, arr) {
                Decision::Fire(firing)
            } else {
                Decision::Nothing
            }
        }
        (None, None) => Decision::Nothing,
    }
}

/// Why an auto-closed task was closed.
pub fn cleared_reason(playbook: &Playbook) -> String {
    let words: Vec<String> = playbook.triggers.iter().map(Trigger::words).collect();
    format!("the trigger cleared: no longer {}", words.join(", nor "))
}

/// A signal's words with its parameters filled in.
pub fn fill_params(words: &str, params: &Params) -> String {
    let mut text = words.to_string();
    for (name, value) in &params.0 {
        let shown = match value {
            Value::Number(x) => format!("{x}"),
            Value::Text(t) if t.is_empty() => "any".to_string(),
            Value::Text(t) => t.clone(),
        };
        text = text.replace(&format!("{{{name}}}"), &shown);
    }
    text
}

#[cfg(test)]
mod tests;
