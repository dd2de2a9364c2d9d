//! One account's customer context: what an agent needs first of a single account.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::app::{App, AppError};
use crate::playbooks::{TaskQuery, TaskScope};
use crate::policy::Actor;
use crate::risk::Target;
use crate::views::context::{
    goals, in_lowest_band, opportunities_of, round1, usage_measures, Goal, Opportunity,
};
use crate::views::PageRequest;

/// How many drivers, reasons, tasks and activities one account's context shows.
const ACCOUNT_SHOWN: usize = 5;

/// One account as an agent first needs it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountContext {
    pub id: String,
    pub name: String,
    pub segment: Option<String>,
    pub tier: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub csm_owner: Option<String>,
    pub am_owner: Option<String>,
    pub as_of: NaiveDate,
    /// ARR in force per currency, as contracted.
    pub arr: Vec<Amount>,
    pub health: Option<AccountHealth>,
    pub product_usage: Vec<UsageValue>,
    /// `None` when no churn model has scored the account.
    pub churn_risk: Option<AccountRisk>,
    pub growth_opportunities: Vec<Opportunity>,
    pub success_goals: Vec<Goal>,
    pub open_tasks: Vec<TaskLine>,
    pub open_tickets: usize,
    pub recent_activities: Vec<ActivityLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Amount {
    pub amount: f64,
    pub currency: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountHealth {
    pub day: NaiveDate,
    pub score: Option<f64>,
    pub band: String,
    /// Group name → score.
    pub groups: BTreeMap<String, Option<f64>>,
    /// What moved the score most in 30 days, in words.
    pub drivers: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UsageValue {
    pub measure: String,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountRisk {
    pub probability: f64,
    pub band: String,
    pub horizon_days: u32,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskLine {
    pub id: i64,
    pub title: String,
    pub priority: String,
    pub due_on: NaiveDate,
    pub owner: Option<String>,
    pub playbook: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityLine {
    pub at: chrono::DateTime<chrono::Utc>,
    pub kind: String,
    pub subject: String,
}

impl App {
    /// The customer context of one account.
    pub async fn account_context(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<AccountContext, AppError> {
        let view = self.account_view(actor, id, None).await?;
        let risk = match self
            .explain_risk(actor, Target::Churn, id, None, &Default::default())
            .await
        {
            Ok(explained) => Some(AccountRisk {
                probability: explained.probability,
                band: explained.band,
                horizon_days: explained.horizon_days,
                reasons: explained
                    .reasons
                    .into_iter()
                    .filter(|r| r.contribution > 0.0)
                    .take(ACCOUNT_SHOWN)
                    .map(|r| r.words)
                    .collect(),
            }),
            Err(AppError::Conflict(_)) => None,
            Err(other) => return Err(other),
        };
        let objectives = self.store().objectives_of(id).await?;
        let tasks = self
            .tasks(
                actor,
                &TaskQuery {
                    scope: TaskScope::Account(id.to_string()),
                    statuses: None,
                    priorities: None,
                    due_by: None,
                    playbook: None,
                    kind: None,
                    owner: None,
                },
                &PageRequest {
                    cursor: None,
                    limit: Some(ACCOUNT_SHOWN as u32),
                },
            )
            .await?
            .items;
        let main_arr = view.arr.first().map_or(0.0, |m| m.major());
        let opportunities = match &view.health {
            Some(snapshot) if !in_lowest_band(self.scorecards(), snapshot) => {
                opportunities_of(&view.account, snapshot, main_arr)
            }
            _ => Vec::new(),
        };
        let health = view.health.as_ref().map(|snapshot| {
            let mut drivers: Vec<_> = view
                .explanation
                .iter()
                .flat_map(|e| e.measures.iter())
                .filter(|m| m.words.is_some() && m.points.abs() >= 0.05)
                .collect();
            drivers.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()));
            AccountHealth {
                day: snapshot.day,
                score: snapshot.score.overall.map(round1),
                band: snapshot.score.band.clone(),
                groups: snapshot
                    .score
                    .groups
                    .iter()
                    .map(|g| (g.name.clone(), g.score.map(round1)))
                    .collect(),
                drivers: drivers
                    .into_iter()
                    .take(ACCOUNT_SHOWN)
                    .map(|m| {
                        format!(
                            "{} ({:+.1} points)",
                            m.words.clone().unwrap_or_default(),
                            m.points
                        )
                    })
                    .collect(),
            }
        });
        let account = view.account;
        Ok(AccountContext {
            product_usage: view
                .health
                .as_ref()
                .map(|s| {
                    usage_measures(s)
                        .map(|(measure, value)| UsageValue {
                            measure: measure.to_string(),
                            value: (value * 1000.0).round() / 1000.0,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            id: account.id,
            name: account.name,
            segment: account.segment,
            tier: account.tier,
            lifecycle_stage: account.lifecycle_stage.map(|s| s.as_str().to_string()),
            csm_owner: account.csm_owner,
            am_owner: account.am_owner,
            as_of: view.as_of,
            arr: view
                .arr
                .iter()
                .map(|m| Amount {
                    amount: m.major(),
                    currency: m.currency.as_str().to_string(),
                })
                .collect(),
            health,
            churn_risk: risk,
            growth_opportunities: opportunities,
            success_goals: goals(objectives.iter()).open,
            open_tasks: tasks
                .into_iter()
                .map(|t| TaskLine {
                    id: t.id,
                    title: t.title,
                    priority: t.priority,
                    due_on: t.due_on,
                    owner: t.owner,
                    playbook: t.playbook,
                })
                .collect(),
            open_tickets: view.open_tickets.len(),
            recent_activities: view
                .recent_activities
                .into_iter()
                .take(3)
                .map(|a| ActivityLine {
                    at: a.occurred_at,
                    kind: a.kind.as_str().to_string(),
                    subject: a.subject,
                })
                .collect(),
        })
    }
}
