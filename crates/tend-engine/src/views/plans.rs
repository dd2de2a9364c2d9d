//! Success plans: an account's objectives (success criteria agreed with the
//! customer), milestones toward them and the lifecycle stages it went through, edited
//! by hand (authorized, audited, queued as account changes so health and playbooks
//! follow), and time to value — first value milestone done − first contract start —
//! by segment and start cohort.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde_json::json;
use tend_core::{
    LifecycleStage, Milestone, MilestoneKind, MilestoneStatus, Objective, ObjectiveStatus,
};

use crate::playbooks::inputs::milestone;
use crate::policy::{authorize, Action, Actor};
use crate::{App, AppError};

/// Why a change was queued: the account's success plan changed.
pub const PLAN_CHANGE_REASON: &str = "plan.update";

/// One account's success plan.
#[derive(Debug, Clone, PartialEq)]
pub struct SuccessPlan {
    pub account_id: String,
    pub objectives: Vec<Objective>,
    pub milestones: Vec<Milestone>,
    /// Stages entered, oldest first.
    pub stages: Vec<(LifecycleStage, NaiveDate)>,
    /// Days from the first contract's start to the first value milestone done.
    pub time_to_value_days: Option<i64>,
}

/// Time to value of a group of accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueGroup {
    /// The segment, or the start quarter (`2026-Q1`); empty for all accounts.
    pub group: String,
    /// Accounts that reached first value.
    pub reached: usize,
    /// Accounts with a contract and no value milestone done yet.
    pub waiting: usize,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimeToValue {
    pub overall: ValueGroup,
    pub by_segment: Vec<ValueGroup>,
    pub by_cohort: Vec<ValueGroup>,
}

/// An objective written by hand; `id` made from the account and title when absent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewObjective {
    pub id: Option<String>,
    pub title: String,
    pub criteria: String,
    pub status: ObjectiveStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewMilestone {
    pub id: Option<String>,
    pub objective_id: Option<String>,
    pub title: String,
    pub kind: MilestoneKind,
    pub due_on: NaiveDate,
    pub owner: Option<String>,
    pub status: MilestoneStatus,
    pub done_on: Option<NaiveDate>,
}

/// `id`, or one made of the account and a slug of `title`.
fn id_or(id: &Option<String>, account: &str, title: &str) -> Result<String, AppError> {
    let id = match id {
        Some(id) => id.trim().to_string(),
        None => {
            let slug: String = title
                .to_ascii_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            format!("{account}-{}", slug.trim_matches('-'))
        }
    };
    if id.is_empty() {
        return Err(AppError::invalid("/id", "must not be empty"));
    }
    Ok(id)
}

fn time_to_value(start: Option<NaiveDate>, milestones: &[Milestone]) -> Option<i64> {
    let value = milestones
        .iter()
        .filter(|m| m.kind == MilestoneKind::Value)
        .filter_map(|m| m.done_on)
        .min()?;
    Some((value - start?).num_days())
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    // Linear between closest ranks, as numpy's default.
    let at = q * (sorted.len() - 1) as f64;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    Some(sorted[low] + (sorted[high] - sorted[low]) * (at - low as f64))
}

fn group(name: String, days: &mut [f64], waiting: usize) -> ValueGroup {
    days.sort_by(f64::total_cmp);
    ValueGroup {
        group: name,
        reached: days.len(),
        waiting,
        median_days: quantile(days, 0.5),
        p90_days: quantile(days, 0.9),
    }
}

impl App {
    pub async fn success_plan(
        &self,
        actor: &Actor,
        account_id: &str,
    ) -> Result<SuccessPlan, AppError> {
        authorize(actor, Action::Read)?;
        let store = self.store();
        store
            .account(account_id)
            .await?
            .ok_or_else(|| AppError::not_found("account", account_id))?;
        let objectives = store
            .objectives_of(account_id)
            .await?
            .into_iter()
            .filter_map(|o| {
                Some(Objective {
                    status: ObjectiveStatus::parse(&o.status).ok()?,
                    id: o.id,
                    account_id: o.account_id,
                    title: o.title,
                    criteria: o.criteria,
                    created_on: o.created_on,
                })
            })
            .collect();
        let milestones: Vec<Milestone> = store
            .milestones_between(account_id, account_id)
            .await?
            .into_iter()
            .filter_map(milestone)
            .collect();
        let stages = store
            .stages_between(account_id, account_id)
            .await?
            .into_iter()
            .filter_map(|s| Some((LifecycleStage::parse(&s.stage).ok()?, s.entered_on)))
            .collect();
        // An account's contracts are few: one page holds them.
        let start = store
            .contract_page(Some(account_id), "", 10_000)
            .await?
            .iter()
            .map(|c| c.start_date)
            .min();
        Ok(SuccessPlan {
            account_id: account_id.to_string(),
            time_to_value_days: time_to_value(start, &milestones),
            objectives,
            milestones,
            stages,
        })
    }

    /// Adds or replaces an objective of the account's plan.
    pub async fn save_objective(
        &self,
        actor: &Actor,
        account_id: &str,
        new: &NewObjective,
    ) -> Result<SuccessPlan, AppError> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(AppError::invalid("/title", "must not be empty"));
        }
        let id = id_or(&new.id, account_id, title)?;
        let (account, mut tx) = self.begin_plan_write(actor, account_id).await?;
        if let Some(other) = tx.objective_account(&id).await? {
            if other != account {
                return Err(AppError::Conflict(format!(
                    "objective {id:?} belongs to account {other:?}"
                )));
            }
        }
        let row = tend_store::ObjectiveRecord {
            id: id.clone(),
            account_id: account.clone(),
            title: title.to_string(),
            criteria: new.criteria.clone(),
            status: new.status.as_str().to_string(),
            created_on: self.today(),
        };
        tx.upsert_objective(&row).await?;
        let changes = json!({"title": row.title, "criteria": row.criteria, "status": row.status});
        self.finish_plan_write(tx, actor, &account, "objective.save", &id, changes)
            .await
    }

    /// Adds or replaces a milestone of the account's plan.
    pub async fn save_milestone(
        &self,
        actor: &Actor,
        account_id: &str,
        new: &NewMilestone,
    ) -> Result<SuccessPlan, AppError> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(AppError::invalid("/title", "must not be empty"));
        }
        if new.status == MilestoneStatus::Done && new.done_on.is_none() {
            return Err(AppError::invalid(
                "/done_on",
                "a done milestone needs the day it was done",
            ));
        }
        if let Some(objective) = &new.objective_id {
            let found = self.store().objective(objective).await?;
            if found.is_none_or(|o| o.account_id != account_id) {
                return Err(AppError::invalid(
                    "/objective_id",
                    format!("no objective {objective:?} in this account's plan"),
                ));
            }
        }
        if let Some(owner) = &new.owner {
            let users = self.store().users().await?;
            if !users.iter().any(|u| &u.handle == owner && u.active) {
                return Err(AppError::invalid(
                    "/owner",
                    format!("{owner:?} is not an active user"),
                ));
            }
        }
        let id = id_or(&new.id, account_id, title)?;
        let (account, mut tx) = self.begin_plan_write(actor, account_id).await?;
        if let Some(other) = tx.milestone(&id).await? {
            if other.account_id != account {
                return Err(AppError::Conflict(format!(
                    "milestone {id:?} belongs to account {:?}",
                    other.account_id
                )));
            }
        }
        let row = tend_store::MilestoneRecord {
            id: id.clone(),
            account_id: account.clone(),
            objective_id: new.objective_id.clone(),
            title: title.to_string(),
            kind: new.kind.as_str().to_string(),
            due_on: new.due_on,
            owner: new.owner.clone(),
            status: new.status.as_str().to_string(),
            done_on: new.done_on,
        };
        tx.upsert_milestone(&row).await?;
        let changes = json!({
            "title": row.title, "kind": row.kind, "due_on": row.due_on,
            "status": row.status, "done_on": row.done_on,
        });
        self.finish_plan_write(tx, actor, &account, "milestone.save", &id, changes)
            .await
    }

    /// The account (checked writable by `actor`) and a transaction to change its plan in.
    async fn begin_plan_write(
        &self,
        actor: &Actor,
        account_id: &str,
    ) -> Result<(String, tend_store::Transaction), AppError> {
        let account = self
            .store()
            .account(account_id)
            .await?
            .ok_or_else(|| AppError::not_found("account", account_id))?;
        authorize(actor, Action::WriteAccount(&account))?;
        Ok((account.id, self.store().begin().await?))
    }

    /// Audits the change, queues the account's change (health and playbooks follow)
    /// and commits; returns the plan as it is then.
    async fn finish_plan_write(
        &self,
        mut tx: tend_store::Transaction,
        actor: &Actor,
        account: &str,
        action: &str,
        target: &str,
        mut changes: serde_json::Value,
    ) -> Result<SuccessPlan, AppError> {
        let now = self.now();
        if let Some(map) = changes.as_object_mut() {
            map.insert("account_id".into(), account.into());
        }
        tx.append_audit(now, &actor.name, action, target, &changes.to_string())
            .await?;
        tx.record_changes(&[account], PLAN_CHANGE_REASON, now)
            .await?;
        tx.commit().await?;
        self.success_plan(actor, account).await
    }

    /// Time to value of every account with a contract: first value milestone done −
    /// first contract start, by segment and by start quarter.
    pub async fn time_to_value(&self, actor: &Actor) -> Result<TimeToValue, AppError> {
        authorize(actor, Action::Read)?;
        let store = self.store();
        let accounts = store.accounts().await?;
        let mut starts: BTreeMap<String, NaiveDate> = BTreeMap::new();
        for c in store.contracts().await? {
            let start = starts.entry(c.account_id.clone()).or_insert(c.start_date);
            *start = (*start).min(c.start_date);
        }
        let mut milestones: BTreeMap<String, Vec<Milestone>> = BTreeMap::new();
        for m in store
            .all_milestones()
            .await?
            .into_iter()
            .filter_map(milestone)
        {
            milestones.entry(m.account_id.clone()).or_default().push(m);
        }
        type Groups = BTreeMap<String, (Vec<f64>, usize)>;
        let (mut overall, mut segments, mut cohorts): ((Vec<f64>, usize), Groups, Groups) =
            Default::default();
        for account in &accounts {
            let Some(&start) = starts.get(&account.id) else {
                continue;
            };
            let own = milestones.get(&account.id).map_or(&[][..], Vec::as_slice);
            let days = time_to_value(Some(start), own);
            let segment = account.segment.clone().unwrap_or_default();
            let cohort = format!("{}-Q{}", start.year(), start.month0() / 3 + 1);
            for entry in [
                &mut overall,
                segments.entry(segment).or_default(),
                cohorts.entry(cohort).or_default(),
            ] {
                match days {
                    Some(days) => entry.0.push(days as f64),
                    None => entry.1 += 1,
                }
            }
        }
        let list = |groups: Groups| {
            groups
                .into_iter()
                .map(|(name, (mut days, waiting))| group(name, &mut days, waiting))
                .collect()
        };
        Ok(TimeToValue {
            overall: group(String::new(), &mut overall.0, overall.1),
            by_segment: list(segments),
            by_cohort: list(cohorts),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_ranks() {
        let days = [10.0, 20.0, 30.0, 40.0];
        assert_eq!(quantile(&days, 0.5), Some(25.0));
        assert_eq!(quantile(&days, 0.9), Some(37.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
