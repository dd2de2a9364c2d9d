//! Who a playbook's task goes to: the account's CSM or account manager, the leader of
//! the CSM's team, or a pool taken in turn or by the lightest load.

use std::collections::HashMap;

use tend_core::playbook::{Assign, Pool};
use tend_core::Role;
use tend_store::{Store, StoreError};

/// The users and their load, read once per run and kept current as tasks are made.
pub(crate) struct Assigner {
    /// Active users: handle → (role, email).
    users: HashMap<String, (Role, String)>,
    /// handle → team.
    teams: HashMap<String, String>,
    /// Open tasks per handle, read when first needed.
    loads: HashMap<String, i64>,
    /// Tasks each playbook has made: its round-robin turn.
    turns: HashMap<String, i64>,
}

impl Assigner {
    pub(crate) async fn load(store: &Store) -> Result<Assigner, StoreError> {
        let users = store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active)
            .map(|u| (u.handle, (u.role, u.email)))
            .collect();
        let teams = store.user_teams().await?.into_iter().collect();
        Ok(Assigner {
            users,
            teams,
            loads: HashMap::new(),
            turns: HashMap::new(),
        })
    }

    /// A user's email address, if the handle is an active user's.
    pub(crate) fn email_of(&self, handle: &str) -> Option<&str> {
        self.users.get(handle).map(|(_, email)| email.as_str())
    }

    /// The owner of a new task of `playbook`; the account's CSM when a pool has no
    /// members. `None` when nobody can be named. Reads the counts a pool needs from
    /// the store the first time.
    pub(crate) async fn owner(
        &mut self,
        store: &Store,
        playbook: &str,
        assign: &Assign,
        csm: Option<&str>,
        am: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        match assign {
            Assign::RoundRobin(_) if !self.turns.contains_key(playbook) => {
                let made = store.playbook_task_count(playbook).await?;
                self.turns.insert(playbook.to_string(), made);
            }
            Assign::LeastLoaded(pool) => {
                let unknown: Vec<String> = self
                    .members(pool)
                    .into_iter()
                    .filter(|m| !self.loads.contains_key(m))
                    .collect();
                if !unknown.is_empty() {
                    for m in &unknown {
                        self.loads.insert(m.clone(), 0);
                    }
                    for (owner, n) in store.open_task_counts(&unknown).await? {
                        self.loads.insert(owner, n);
                    }
                }
            }
            _ => {}
        }
        Ok(self.pick(playbook, assign, csm, am))
    }

    /// [`Assigner::owner`] from the counts in memory (unknown ones start at 0): the
    /// simulation's, which keeps the counts itself.
    pub(crate) fn pick(
        &mut self,
        playbook: &str,
        assign: &Assign,
        csm: Option<&str>,
        am: Option<&str>,
    ) -> Option<String> {
        let owner = match assign {
            Assign::Csm => csm.map(String::from),
            Assign::Am => am.or(csm).map(String::from),
            Assign::TeamLead => self.team_lead(csm).or_else(|| csm.map(String::from)),
            Assign::RoundRobin(pool) => {
                let members = self.members(pool);
                if members.is_empty() {
                    csm.map(String::from)
                } else {
                    let turn = self.turns.entry(playbook.to_string()).or_insert(0);
                    let owner = members[turn.rem_euclid(members.len() as i64) as usize].clone();
                    *turn += 1;
                    Some(owner)
                }
            }
            Assign::LeastLoaded(pool) => {
                // Ties go to the first member (by handle for a team).
                let members = self.members(pool);
                let lightest = members
                    .iter()
                    .min_by_key(|m| self.loads.get(*m).copied().unwrap_or(0))
                    .cloned();
                lightest.or_else(|| csm.map(String::from))
            }
        };
        if let Some(owner) = &owner {
            *self.loads.entry(owner.clone()).or_insert(0) += 1;
        }
        owner
    }

    /// A task of `owner` closed (the simulation's load).
    pub(crate) fn release(&mut self, owner: &str) {
        if let Some(load) = self.loads.get_mut(owner) {
            *load = (*load - 1).max(0);
        }
    }

    fn members(&self, pool: &Pool) -> Vec<String> {
        match pool {
            Pool::Users(users) => users.clone(),
            Pool::Team(team) => {
                let mut members: Vec<String> = self
                    .teams
                    .iter()
                    .filter(|(handle, t)| *t == team && self.users.contains_key(*handle))
                    .map(|(handle, _)| handle.clone())
                    .collect();
                members.sort();
                members
            }
        }
    }

    /// The leader of the CSM's team, else the first leader by handle.
    fn team_lead(&self, csm: Option<&str>) -> Option<String> {
        let team = csm.and_then(|c| self.teams.get(c));
        let mut leaders: Vec<&String> = self
            .users
            .iter()
            .filter(|(_, (role, _))| *role == Role::Leader)
            .map(|(handle, _)| handle)
            .collect();
        leaders.sort();
        leaders
            .iter()
            .find(|h| team.is_some() && self.teams.get(**h) == team)
            .or(leaders.first())
            .map(|h| h.to_string())
    }
}
