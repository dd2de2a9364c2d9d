//! Trigger signals: named conditions on one account on one day that a playbook turns
//! into work. Each reads only what was known on that day, takes numbers or names as
//! parameters (with defaults), and says in words what it saw and which records. A new
//! signal is one function and one line in [`TRIGGERS`].

use chrono::{Days, NaiveDate};

use crate::health::scorecard::KeyFeature;
use crate::health::{measure, AccountFacts, Context};
use crate::model::{ContactRole, InvoiceStatus, LifecycleStage, PaymentStatus, SurveyKind};

/// An account's health on a day, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthPoint {
    pub day: NaiveDate,
    pub score: Option<f64>,
    pub band: String,
}

/// An account's churn risk on a day, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskPoint {
    pub day: NaiveDate,
    pub probability: f64,
    pub band: String,
}

/// Everything a signal may read of one account, as known on `day`. Lists may hold
/// later rows; signals look only up to `day`.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub day: NaiveDate,
    pub facts: AccountFacts<'a>,
    /// Health snapshots, oldest first.
    pub health: &'a [HealthPoint],
    /// Churn-risk snapshots, oldest first.
    pub risk: &'a [RiskPoint],
    /// The stages the account entered, oldest first.
    pub stages: &'a [(LifecycleStage, NaiveDate)],
    /// The key features of the account's scorecard (feature adoption).
    pub key_features: &'a [KeyFeature],
}

impl<'a> Input<'a> {
    fn health_known(&self) -> &'a [HealthPoint] {
        let end = self.health.partition_point(|h| h.day <= self.day);
        &self.health[..end]
    }

    fn risk_known(&self) -> &'a [RiskPoint] {
        let end = self.risk.partition_point(|r| r.day <= self.day);
        &self.risk[..end]
    }

    /// The latest health, if it is at most a few days old (a missing day is not
    /// read as the state of the account).
    fn health_now(&self) -> Option<&'a HealthPoint> {
        self.health_known()
            .last()
            .filter(|h| (self.day - h.day).num_days() <= STALE_DAYS)
    }

    /// A measure read on the day over `window` days.
    fn measure(&self, name: &str, window: u32) -> Option<f64> {
        let spec = measure(name).expect("a known measure");
        let ctx = Context {
            day: self.day,
            window,
            key_features: self.key_features,
            seat_product: None,
        };
        spec.value(&self.facts, &ctx)
    }

    /// The stage the account is in on the day and the day it entered it.
    pub fn stage(&self) -> Option<(LifecycleStage, NaiveDate)> {
        self.stages
            .iter()
            .rev()
            .find(|(_, on)| *on <= self.day)
            .copied()
            .or_else(|| {
                self.facts
                    .account
                    .lifecycle_stage
                    .map(|stage| (stage, self.facts.account.created_on))
            })
    }

    /// Whether the account is a customer on the day: created and not churned.
    pub fn is_customer(&self) -> bool {
        let account = self.facts.account;
        account.created_on <= self.day && account.churned_on.is_none_or(|d| d > self.day)
    }

    pub fn health_band(&self) -> Option<&'a str> {
        self.health_now().map(|h| h.band.as_str())
    }

    pub fn risk_band(&self) -> Option<&'a str> {
        self.risk_known()
            .last()
            .filter(|r| (self.day - r.day).num_days() <= RISK_STALE_DAYS)
            .map(|r| r.band.as_str())
    }
}

/// Days a health snapshot stands for the account's state.
const STALE_DAYS: i64 = 3;
/// Risk is scored less often than health (at each refit, and for changed accounts).
const RISK_STALE_DAYS: i64 = 45;

/// What a signal saw: in words, and the records behind it (kind, id).
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub words: String,
    pub records: Vec<(&'static str, String)>,
}

impl Evidence {
    fn new(words: impl Into<String>) -> Evidence {
        Evidence {
            words: words.into(),
            records: Vec::new(),
        }
    }

    fn with(mut self, kind: &'static str, id: &str) -> Evidence {
        self.records.push((kind, id.to_string()));
        self
    }
}

/// A parameter's value: a number or a name.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
}

/// A parameter a signal takes, with its default.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub default: Default,
    pub words: &'static str,
}

/// A default value: numbers have a range they must lie in.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    Number {
        value: f64,
        min: f64,
        max: f64,
    },
    /// A name; `""` means any.
    Text(&'static str),
}

/// The parameters of one trigger, defaults filled in.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params(pub Vec<(&'static str, Value)>);

impl Params {
    fn number(&self, name: &str) -> f64 {
        match self.0.iter().find(|(n, _)| *n == name) {
            Some((_, Value::Number(x))) => *x,
            _ => panic!("signal parameter {name} is a validated number"),
        }
    }

    fn days(&self, name: &str) -> u64 {
        self.number(name).max(0.0) as u64
    }

    fn text(&self, name: &str) -> &str {
        match self.0.iter().find(|(n, _)| *n == name) {
            Some((_, Value::Text(x))) => x,
            _ => panic!("signal parameter {name} is a validated name"),
        }
    }
}

pub struct TriggerSpec {
    pub name: &'static str,
    /// What it means, with its parameters in braces.
    pub words: &'static str,
    pub params: &'static [Param],
    eval: fn(&Input, &Params) -> Option<Evidence>,
}

impl TriggerSpec {
    /// Whether the signal holds on the input's day, and what it saw.
    pub fn fires(&self, input: &Input, params: &Params) -> Option<Evidence> {
        (self.eval)(input, params)
    }

    /// How many days before the evaluated day it reads, per kind of record (days
    /// looked back by its parameters, and the 60 of a 30-day trend). Contacts,
    /// contracts and invoices are read whole; health and risk history apart.
    pub fn reach(&self, params: &Params) -> Vec<(crate::health::Source, u32)> {
        use crate::health::Source::*;
        let days = || params.number("days").max(0.0) as u32 + 1;
        match self.name {
            "usage_dropped" | "usage_grew" => vec![(Usage, 2 * days())],
            "usage_declining" => vec![(Usage, 7 * params.number("weeks").max(0.0) as u32)],
            "utilization_below" | "utilization_above" => vec![(Usage, 60)],
            "feature_adoption_below" => vec![(Usage, 30), (FeatureUse, 30)],
            "no_activity" => vec![(Usage, days())],
            "ticket_surge" => vec![(Tickets, 60)],
            "sponsor_silent" => vec![(Activities, days()), (Tickets, days()), (Surveys, days())],
            "payment_failed" => vec![(Payments, days())],
            "detractor" => vec![(Surveys, days())],
            _ => Vec::new(),
        }
    }

    /// The defaults, overridden by `given` (checked by the caller against `params`).
    pub fn params_with(&self, given: &[(String, Value)]) -> Params {
        Params(
            self.params
                .iter()
                .map(|p| {
                    let value = given
                        .iter()
                        .find(|(n, _)| n == p.name)
                        .map(|(_, v)| v.clone())
                        .unwrap_or(match p.default {
                            Default::Number { value, .. } => Value::Number(value),
                            Default::Text(text) => Value::Text(text.to_string()),
                        });
                    (p.name, value)
                })
                .collect(),
        )
    }
}

impl std::fmt::Debug for TriggerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriggerSpec")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The signal of this name.
pub fn trigger(name: &str) -> Option<&'static TriggerSpec> {
    TRIGGERS.iter().find(|t| t.name == name)
}

const fn number(name: &'static str, value: f64, min: f64, max: f64, words: &'static str) -> Param {
    Param {
        name,
        default: Default::Number { value, min, max },
        words,
    }
}

const fn text(name: &'static str, value: &'static str, words: &'static str) -> Param {
    Param {
        name,
        default: Default::Text(value),
        words,
    }
}

const DAYS: f64 = 3650.0;
const BAND: Param = text("band", "red", "the band's name");
const TO_BAND: Param = text("to", "", "the band it changed to; any when empty");

/// Every trigger signal a playbook can name.
#[rustfmt::skip]
pub const TRIGGERS: &[TriggerSpec] = &[
    TriggerSpec { name: "customer", words: "the account is a customer (with a re-entry period, a cadence)", params: &[], eval: customer },
    TriggerSpec { name: "health_band", words: "health is in band {band}", params: &[BAND], eval: health_band },
    TriggerSpec { name: "health_band_changed", words: "health changed band (to {to})", params: &[TO_BAND], eval: health_band_changed },
    TriggerSpec { name: "health_dropped", words: "health fell {points} points or more within {days} days", params: &[number("points", 10.0, 1.0, 100.0, "points of score"), number("days", 30.0, 1.0, 365.0, "days looked back")], eval: health_dropped },
    TriggerSpec { name: "usage_dropped", words: "product use fell {percent}% or more ({days} days against the {days} before)", params: &[number("percent", 30.0, 1.0, 100.0, "percent fewer events"), number("days", 30.0, 7.0, 365.0, "days compared with as many before")], eval: usage_dropped },
    TriggerSpec { name: "usage_declining", words: "product use fell {percent}% or more over {weeks} weeks along a steady line (fit R² at least {fit})", params: &[number("percent", 25.0, 1.0, 100.0, "percent fewer events a week, first week to last on the fitted line"), number("weeks", 10.0, 4.0, 52.0, "whole weeks ending on the day"), number("fit", 0.8, 0.0, 1.0, "share of the weekly variation the line explains")], eval: usage_declining },
    TriggerSpec { name: "usage_grew", words: "product use grew {percent}% or more ({days} days against the {days} before)", params: &[number("percent", 20.0, 1.0, 10_000.0, "percent more events"), number("days", 30.0, 7.0, 365.0, "days compared with as many before")], eval: usage_grew },
    TriggerSpec { name: "utilization_below", words: "fewer than {share} of the seats were used in 30 days", params: &[number("share", 0.5, 0.0, 10.0, "active users ÷ seats")], eval: utilization_below },
    TriggerSpec { name: "utilization_above", words: "more than {share} of the seats were used in 30 days", params: &[number("share", 0.9, 0.0, 10.0, "active users ÷ seats")], eval: utilization_above },
    TriggerSpec { name: "feature_adoption_below", words: "fewer than {share} of the key features were used in 30 days", params: &[number("share", 0.5, 0.0, 1.0, "key features used ÷ key features")], eval: feature_adoption_below },
    TriggerSpec { name: "no_activity", words: "no product use for {days} days", params: &[number("days", 30.0, 1.0, DAYS, "days without events")], eval: no_activity },
    TriggerSpec { name: "champion_left", words: "a champion left within {days} days", params: &[number("days", 30.0, 1.0, DAYS, "days looked back")], eval: champion_left },
    TriggerSpec { name: "sponsor_silent", words: "no executive sponsor has engaged for {days} days", params: &[number("days", 60.0, 1.0, DAYS, "days without an activity, ticket or answer from a sponsor")], eval: sponsor_silent },
    TriggerSpec { name: "payment_failed", words: "a payment failed within {days} days and its invoice is unpaid", params: &[number("days", 30.0, 1.0, DAYS, "days looked back")], eval: payment_failed },
    TriggerSpec { name: "invoice_overdue", words: "an invoice is unpaid {days} days or more past its due day", params: &[number("days", 1.0, 0.0, DAYS, "days past due")], eval: invoice_overdue },
    TriggerSpec { name: "detractor", words: "a contact answered NPS with {score} or less within {days} days", params: &[number("days", 30.0, 1.0, DAYS, "days looked back"), number("score", 6.0, 0.0, 10.0, "highest score counted")], eval: detractor },
    TriggerSpec { name: "ticket_surge", words: "{count} or more tickets in 30 days, at least {ratio}× the 30 days before", params: &[number("count", 3.0, 1.0, 10_000.0, "tickets opened"), number("ratio", 2.0, 1.0, 100.0, "times the 30 days before")], eval: ticket_surge },
    TriggerSpec { name: "renewal_within", words: "a renewal falls due within {days} days", params: &[number("days", 120.0, 1.0, DAYS, "days ahead")], eval: renewal_within },
    TriggerSpec { name: "milestone_overdue", words: "a {kind} milestone is {days} days or more past due", params: &[text("kind", "", "the milestone kind; any when empty"), number("days", 1.0, 0.0, DAYS, "days past due")], eval: milestone_overdue },
    TriggerSpec { name: "stage_entered", words: "the account entered stage {stage} within {days} days", params: &[text("stage", "onboarding", "the lifecycle stage"), number("days", 14.0, 0.0, DAYS, "days looked back")], eval: stage_entered },
    TriggerSpec { name: "risk_band", words: "churn risk is in band {band}", params: &[text("band", "high", "the risk band")], eval: risk_band },
    TriggerSpec { name: "risk_band_changed", words: "churn risk changed band (to {to})", params: &[TO_BAND], eval: risk_band_changed },
    TriggerSpec { name: "contract_started", words: "the account's first contract started within {days} days", params: &[number("days", 14.0, 0.0, DAYS, "days looked back")], eval: contract_started },
    TriggerSpec { name: "churned", words: "the account churned {days} days ago (up to {within} days more)", params: &[number("days", 90.0, 0.0, DAYS, "days since the churn"), number("within", 30.0, 1.0, DAYS, "days the signal holds")], eval: churned },
];

fn ago(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(days))
        .unwrap_or(NaiveDate::MIN)
}

fn percent(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn customer(input: &Input, _: &Params) -> Option<Evidence> {
    input
        .is_customer()
        .then(|| Evidence::new("the account is a customer"))
}

fn health_band(input: &Input, params: &Params) -> Option<Evidence> {
    let now = input.health_now()?;
    (now.band == params.text("band")).then(|| {
        let score = now
            .score
            .map_or("no score".into(), |s| format!("score {s:.0}"));
        Evidence::new(format!("health is {} ({score})", now.band))
    })
}

fn health_band_changed(input: &Input, params: &Params) -> Option<Evidence> {
    let known = input.health_known();
    let [.., before, now] = known else {
        return None;
    };
    let to = params.text("to");
    (input.health_now().is_some() && before.band != now.band && (to.is_empty() || now.band == to))
        .then(|| Evidence::new(format!("health went from {} to {}", before.band, now.band)))
}

fn health_dropped(input: &Input, params: &Params) -> Option<Evidence> {
    let now = input.health_now()?;
    let score = now.score?;
    let since = ago(input.day, params.days("days"));
    let known = input.health_known();
    let from = known.partition_point(|h| h.day < since);
    let (peak_day, peak) = known[from..]
        .iter()
        .filter_map(|h| Some((h.day, h.score?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    (peak - score >= params.number("points")).then(|| {
        Evidence::new(format!(
            "health fell from {peak:.0} on {peak_day} to {score:.0}"
        ))
    })
}

fn usage_dropped(input: &Input, params: &Params) -> Option<Evidence> {
    let days = params.days("days") as u32;
    let change = input.measure("usage_trend", days)?;
    (change <= -params.number("percent") / 100.0).then(|| {
        Evidence::new(format!(
            "product use fell {} ({days} days against the {days} before)",
            percent(-change)
        ))
    })
}

/// A slow fade, told from a dip or a step by how well a straight line fits the weekly
/// events: a customer drifting away uses the product a little less week after week,
/// while ordinary ups and downs leave the line a poor fit.
fn usage_declining(input: &Input, params: &Params) -> Option<Evidence> {
    let weeks = params.number("weeks") as usize;
    let first_day = input.day - Days::new(7 * weeks as u64 - 1);
    if !input.is_customer() || input.facts.account.created_on > first_day {
        return None;
    }
    let mut totals = vec![0.0; weeks];
    let start = input.facts.usage.partition_point(|u| u.day < first_day);
    for u in input.facts.usage[start..]
        .iter()
        .take_while(|u| u.day <= input.day)
    {
        totals[(u.day - first_day).num_days() as usize / 7] += u.events as f64;
    }
    let line = fit_line(&totals)?;
    let first = line.intercept;
    let last = line.intercept + line.slope * (weeks - 1) as f64;
    if first <= 0.0 || line.slope >= 0.0 {
        return None;
    }
    let fall = 1.0 - last.max(0.0) / first;
    (fall >= params.number("percent") / 100.0 && line.r_squared >= params.number("fit")).then(
        || {
            Evidence::new(format!(
                "product use fell {} over {weeks} weeks, week after week (a straight line explains {} of the weekly change)",
                percent(fall),
                percent(line.r_squared)
            ))
        },
    )
}

/// A least-squares line through `ys` at x = 0, 1, …
struct Line {
    intercept: f64,
    slope: f64,
    r_squared: f64,
}

// Ten-odd points: a closed form is clearer than pulling a regression crate into the core.
fn fit_line(ys: &[f64]) -> Option<Line> {
    let n = ys.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in ys.iter().enumerate() {
        let (dx, dy) = (x as f64 - mean_x, y - mean_y);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some(Line {
        intercept: mean_y - slope * mean_x,
        slope,
        r_squared: sxy * sxy / (sxx * syy),
    })
}

fn usage_grew(input: &Input, params: &Params) -> Option<Evidence> {
    let days = params.days("days") as u32;
    let change = input.measure("usage_trend", days)?;
    (change >= params.number("percent") / 100.0).then(|| {
        Evidence::new(format!(
            "product use grew {} ({days} days against the {days} before)",
            percent(change)
        ))
    })
}

fn utilization(input: &Input) -> Option<f64> {
    input.measure("license_utilization", 30)
}

fn utilization_below(input: &Input, params: &Params) -> Option<Evidence> {
    let share = utilization(input)?;
    (share < params.number("share")).then(|| {
        Evidence::new(format!(
            "{} of the seats were used in 30 days",
            percent(share)
        ))
    })
}

fn utilization_above(input: &Input, params: &Params) -> Option<Evidence> {
    let share = utilization(input)?;
    (share > params.number("share")).then(|| {
        Evidence::new(format!(
            "{} of the seats were used in 30 days",
            percent(share)
        ))
    })
}

fn feature_adoption_below(input: &Input, params: &Params) -> Option<Evidence> {
    let share = input.measure("feature_adoption", 30)?;
    (share < params.number("share")).then(|| {
        Evidence::new(format!(
            "{} of the key features were used in 30 days",
            percent(share)
        ))
    })
}

fn no_activity(input: &Input, params: &Params) -> Option<Evidence> {
    if !input.is_customer() {
        return None;
    }
    let days = input.measure("days_since_last_activity", 0);
    let limit = params.number("days");
    match days {
        Some(days) if days >= limit => {
            Some(Evidence::new(format!("no product use for {days:.0} days")))
        }
        // Never used: only once the account is old enough to have.
        None if (input.day - input.facts.account.created_on).num_days() as f64 >= limit => {
            Some(Evidence::new("no product use on record"))
        }
        _ => None,
    }
}

fn champion_left(input: &Input, params: &Params) -> Option<Evidence> {
    let since = ago(input.day, params.days("days").saturating_sub(1));
    let left = input.facts.contacts.iter().find(|c| {
        c.role == ContactRole::Champion && c.left_on.is_some_and(|d| d >= since && d <= input.day)
    })?;
    Some(
        Evidence::new(format!(
            "champion {} left on {}",
            left.name,
            left.left_on.expect("found by its day")
        ))
        .with("contact", &left.id),
    )
}

fn sponsor_silent(input: &Input, params: &Params) -> Option<Evidence> {
    let day = input.day;
    let sponsors: Vec<&str> = input
        .facts
        .contacts
        .iter()
        .filter(|c| {
            c.role == ContactRole::ExecutiveSponsor
                && c.joined_on.is_none_or(|d| d <= day)
                && c.left_on.is_none_or(|d| d > day)
        })
        .map(|c| c.id.as_str())
        .collect();
    if sponsors.is_empty() || !input.is_customer() {
        return None;
    }
    let by_sponsor = |id: &Option<String>| id.as_deref().is_some_and(|id| sponsors.contains(&id));
    let facts = &input.facts;
    let last = facts
        .activities
        .iter()
        .filter(|a| by_sponsor(&a.contact_id))
        .map(|a| a.occurred_at.date_naive())
        .chain(
            facts
                .tickets
                .iter()
                .filter(|t| by_sponsor(&t.contact_id))
                .map(|t| t.created_at.date_naive()),
        )
        .chain(
            facts
                .surveys
                .iter()
                .filter(|s| by_sponsor(&s.contact_id))
                .map(|s| s.responded_at.date_naive()),
        )
        .filter(|&d| d <= day)
        .max();
    let limit = params.number("days");
    let since_start = (day - facts.account.created_on).num_days();
    match last {
        Some(last) if (day - last).num_days() as f64 >= limit => Some(Evidence::new(format!(
            "no executive sponsor has engaged since {last}"
        ))),
        None if since_start as f64 >= limit => {
            Some(Evidence::new("no executive sponsor has engaged on record"))
        }
        _ => None,
    }
}

fn payment_failed(input: &Input, params: &Params) -> Option<Evidence> {
    let day = input.day;
    let since = ago(day, params.days("days").saturating_sub(1));
    let facts = &input.facts;
    let unpaid = |invoice_id: &str| {
        facts
            .invoices
            .iter()
            .find(|i| i.id == invoice_id)
            .is_none_or(|i| i.status != InvoiceStatus::Void && i.paid_on.is_none_or(|d| d > day))
    };
    let failed = facts.payments.iter().rev().find(|p| {
        let on = p.attempted_at.date_naive();
        p.status == PaymentStatus::Failed && on >= since && on <= day && unpaid(&p.invoice_id)
    })?;
    let reason = failed
        .failure_reason
        .as_deref()
        .map_or(String::new(), |r| format!(" ({r})"));
    Some(
        Evidence::new(format!(
            "a payment of invoice {} failed on {}{reason}",
            failed.invoice_id,
            failed.attempted_at.date_naive()
        ))
        .with("payment", &failed.id)
        .with("invoice", &failed.invoice_id),
    )
}

fn invoice_overdue(input: &Input, params: &Params) -> Option<Evidence> {
    let day = input.day;
    let late = params.days("days");
    let invoice = input.facts.invoices.iter().find(|i| {
        i.issued_on <= day
            && i.status != InvoiceStatus::Void
            && i.paid_on.is_none_or(|d| d > day)
            && i.due_on
                .checked_add_days(Days::new(late))
                .is_some_and(|d| d <= day)
    })?;
    Some(
        Evidence::new(format!(
            "invoice {} was due on {} and is unpaid",
            invoice.id, invoice.due_on
        ))
        .with("invoice", &invoice.id),
    )
}

fn detractor(input: &Input, params: &Params) -> Option<Evidence> {
    let since = ago(input.day, params.days("days").saturating_sub(1));
    let highest = params.number("score");
    let answer = input.facts.surveys.iter().rev().find(|s| {
        let on = s.responded_at.date_naive();
        s.kind == SurveyKind::Nps && f64::from(s.score) <= highest && on >= since && on <= input.day
    })?;
    Some(
        Evidence::new(format!(
            "a contact answered NPS with {} on {}",
            answer.score,
            answer.responded_at.date_naive()
        ))
        .with("survey_response", &answer.id),
    )
}

fn ticket_surge(input: &Input, params: &Params) -> Option<Evidence> {
    let opened = |first: NaiveDate, last: NaiveDate| {
        input
            .facts
            .tickets
            .iter()
            .filter(|t| {
                let d = t.created_at.date_naive();
                d >= first && d <= last
            })
            .count()
    };
    let first = ago(input.day, 29);
    let now = opened(first, input.day);
    let before = opened(ago(first, 30), ago(first, 1));
    (now as f64 >= params.number("count") && now as f64 >= params.number("ratio") * before as f64)
        .then(|| {
            Evidence::new(format!(
                "{now} tickets in 30 days against {before} in the 30 before"
            ))
        })
}

fn renewal_within(input: &Input, params: &Params) -> Option<Evidence> {
    if !input.is_customer() {
        return None;
    }
    let day = input.day;
    let until = day.checked_add_days(Days::new(params.days("days")))?;
    let contracts = input.facts.contracts;
    // A term coming up for renewal that no later term follows yet.
    let due = contracts
        .iter()
        .filter(|c| c.start_date <= day && c.renewal_date > day && c.renewal_date <= until)
        .filter(|c| {
            !contracts.iter().any(|n| {
                n.start_date >= c.renewal_date && n.start_date <= day && n.product == c.product
            })
        })
        .min_by_key(|c| c.renewal_date)?;
    let days = (due.renewal_date - day).num_days();
    Some(
        Evidence::new(format!(
            "contract {} ({}) renews on {} in {days} days",
            due.id, due.product, due.renewal_date
        ))
        .with("contract", &due.id),
    )
}

fn milestone_overdue(input: &Input, params: &Params) -> Option<Evidence> {
    let kind = params.text("kind");
    let late = params.days("days");
    let day = input.day;
    let milestone = input.facts.milestones.iter().find(|m| {
        (kind.is_empty() || m.kind.as_str() == kind)
            && m.due_on
                .checked_add_days(Days::new(late))
                .is_some_and(|d| d < day)
            && m.overdue_on(day)
    })?;
    Some(
        Evidence::new(format!(
            "milestone {:?} was due on {} and is not done",
            milestone.title, milestone.due_on
        ))
        .with("milestone", &milestone.id),
    )
}

fn stage_entered(input: &Input, params: &Params) -> Option<Evidence> {
    let (stage, on) = input.stage()?;
    let since = ago(input.day, params.days("days"));
    (stage.as_str() == params.text("stage") && on >= since && input.is_customer())
        .then(|| Evidence::new(format!("the account entered stage {stage} on {on}")))
}

fn risk_band(input: &Input, params: &Params) -> Option<Evidence> {
    let now = input.risk_known().last()?;
    (input.risk_band() == Some(params.text("band"))).then(|| {
        Evidence::new(format!(
            "churn risk is {} ({} on {})",
            now.band,
            percent(now.probability),
            now.day
        ))
    })
}

fn risk_band_changed(input: &Input, params: &Params) -> Option<Evidence> {
    let [.., before, now] = input.risk_known() else {
        return None;
    };
    let to = params.text("to");
    (input.risk_band().is_some() && before.band != now.band && (to.is_empty() || now.band == to))
        .then(|| {
            Evidence::new(format!(
                "churn risk went from {} to {}",
                before.band, now.band
            ))
        })
}

fn contract_started(input: &Input, params: &Params) -> Option<Evidence> {
    let first = input.facts.contracts.iter().min_by_key(|c| c.start_date)?;
    let since = ago(input.day, params.days("days"));
    (first.start_date >= since && first.start_date <= input.day).then(|| {
        Evidence::new(format!(
            "the first contract ({}) started on {}",
            first.product, first.start_date
        ))
        .with("contract", &first.id)
    })
}

fn churned(input: &Input, params: &Params) -> Option<Evidence> {
    let on = input.facts.account.churned_on.filter(|&d| d <= input.day)?;
    let days = (input.day - on).num_days() as f64;
    let from = params.number("days");
    (days >= from && days < from + params.number("within")).then(|| {
        let reason = input
            .facts
            .account
            .churn_reason
            .as_deref()
            .map_or(String::new(), |r| format!(" ({r})"));
        Evidence::new(format!("the account churned on {on}{reason}"))
    })
}
