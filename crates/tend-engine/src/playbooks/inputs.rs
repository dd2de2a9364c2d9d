//! Loading what playbooks read of a range of accounts: their facts (as health
//! scoring loads them), health and risk history, lifecycle stages, milestones, and
//! what each playbook already has going on each account.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use tend_core::health::ScorecardSet;
use tend_core::playbook::{HealthPoint, Input, PlaybookState, RiskPoint};
use tend_core::{LifecycleStage, Milestone, MilestoneKind, MilestoneStatus};
use tend_store::{HistoryWindow, MilestoneRecord, Store, StoreError, TaskRecord};

use crate::health::facts::Loaded;

/// Health and risk history a trigger reads before its day, at most.
pub(crate) const HISTORY_DAYS: u64 = 120;

/// Accounts `first..=last` with everything their playbooks read over `days`.
pub(crate) struct Chunk {
    pub loaded: Loaded,
    health: HashMap<String, Vec<HealthPoint>>,
    risk: HashMap<String, Vec<RiskPoint>>,
    stages: HashMap<String, Vec<(LifecycleStage, NaiveDate)>>,
    /// Open playbook tasks by (account, playbook).
    pub open: HashMap<(String, String), TaskRecord>,
    /// The day each (account, playbook)'s last task closed.
    pub last_closed: HashMap<(String, String), NaiveDate>,
}

impl Chunk {
    /// Loads accounts `first..=last` that were customers on some day from
    /// `customers_since` to the last of `days` (earlier than `days` for win-back,
    /// which reads accounts churned a while ago) with the history `window`, and their
    /// health and risk from before `days` (first and last) through them.
    pub(crate) async fn load(
        store: &Store,
        (first, last): (&str, &str),
        days: (NaiveDate, NaiveDate),
        window: HistoryWindow,
        customers_since: NaiveDate,
    ) -> Result<Chunk, StoreError> {
        let active = Some((customers_since.min(days.0), days.1));
        let loaded = Loaded::load(store, first, last, active, window).await?;
        Chunk::around(store, loaded, (first, last), days).await
    }

    /// A chunk of `loaded` (accounts `first..=last` loaded as [`Chunk::load`] loads
    /// them, or with more) and their health and risk from before `days` through them.
    pub(crate) async fn around(
        store: &Store,
        loaded: Loaded,
        (first, last): (&str, &str),
        days: (NaiveDate, NaiveDate),
    ) -> Result<Chunk, StoreError> {
        let since = days
            .0
            .checked_sub_days(Days::new(HISTORY_DAYS))
            .unwrap_or(days.0);
        let range = (first, last);
        let mut health: HashMap<String, Vec<HealthPoint>> = HashMap::new();
        for (account, day, score, band) in
            store.health_points_between(range, (since, days.1)).await?
        {
            health
                .entry(account)
                .or_default()
                .push(HealthPoint { day, score, band });
        }
        let mut risk: HashMap<String, Vec<RiskPoint>> = HashMap::new();
        let target = crate::risk::Target::Churn.as_str();
        for (account, day, probability, band) in store
            .risk_points_between(target, range, (since, days.1))
            .await?
        {
            risk.entry(account).or_default().push(RiskPoint {
                day,
                probability,
                band,
            });
        }
        let mut stages: HashMap<String, Vec<(LifecycleStage, NaiveDate)>> = HashMap::new();
        for row in store.stages_between(first, last).await? {
            if let Ok(stage) = LifecycleStage::parse(&row.stage) {
                stages
                    .entry(row.account_id)
                    .or_default()
                    .push((stage, row.entered_on));
            }
        }
        let open = store
            .open_playbook_tasks(first, last)
            .await?
            .into_iter()
            .filter_map(|t| Some(((t.account_id.clone(), t.playbook.clone()?), t)))
            .collect();
        let last_closed = store
            .last_closed_playbook_tasks(first, last)
            .await?
            .into_iter()
            .map(|c| ((c.account_id, c.playbook), c.closed_at.date_naive()))
            .collect();
        Ok(Chunk {
            loaded,
            health,
            risk,
            stages,
            open,
            last_closed,
        })
    }

    /// The input of the `i`-th account on `day`.
    pub(crate) fn input<'a>(
        &'a self,
        set: &'a ScorecardSet,
        i: usize,
        day: NaiveDate,
    ) -> Input<'a> {
        let facts = self.loaded.facts(i);
        let id = facts.account.id.as_str();
        Input {
            day,
            facts,
            health: self.health.get(id).map_or(&[], Vec::as_slice),
            risk: self.risk.get(id).map_or(&[], Vec::as_slice),
            stages: self.stages.get(id).map_or(&[], Vec::as_slice),
            key_features: &set.for_account(facts.account).key_features,
        }
    }

    /// What playbook `name` has going on account `id`, as stored.
    pub(crate) fn state(&self, id: &str, name: &str) -> PlaybookState {
        let key = (id.to_string(), name.to_string());
        PlaybookState {
            open_task: self.open.get(&key).map(|t| t.id),
            last_closed: self.last_closed.get(&key).copied(),
        }
    }
}

/// A stored milestone as a domain value; one with an unknown kind or status (written
/// by a newer tend) is left out.
pub(crate) fn milestone(row: MilestoneRecord) -> Option<Milestone> {
    Some(Milestone {
        kind: MilestoneKind::parse(&row.kind).ok()?,
        status: MilestoneStatus::parse(&row.status).ok()?,
        id: row.id,
        account_id: row.account_id,
        objective_id: row.objective_id,
        title: row.title,
        due_on: row.due_on,
        owner: row.owner,
        done_on: row.done_on,
    })
}
