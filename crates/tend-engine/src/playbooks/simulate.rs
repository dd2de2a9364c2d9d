//! Simulation: the playbooks replayed over the store's history, day by day, without
//! writing anything — the same [`decide`] the live path follows, on what was known
//! each day (stored health and risk of that day, records up to it). A simulated task
//! closes when its trigger clears (playbooks that auto-close) or else on its due day,
//! as if its owner did it then. Per playbook: the tasks it would have made, tasks per
//! owner per week, and against the churn that followed: the share of churned accounts
//! (and ARR) that had a task in the 180 days before, the median warning, and the share
//! of tasks whose account churned within 180 days (precision).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use futures_util::StreamExt;
use tend_core::playbook::{decide, Decision, PlaybookState};

use super::assign::Assigner;
use super::inputs::Chunk;
use super::run::{arr_major, trigger_window};
use super::PlaybookSet;
use crate::risk::rows::Money;
use crate::{App, AppError};

/// Days before a churn in which a task counts as a warning of it, and after a task in
/// which a churn makes it a true alarm.
pub const WARNING_DAYS: i64 = 180;
const ACCOUNTS_PER_CHUNK: usize = 500;

/// One simulated task.
#[derive(Debug, Clone)]
struct SimTask {
    account: usize,
    playbook: usize,
    created: NaiveDate,
    closed: NaiveDate,
}

/// What the simulation knows of an account.
#[derive(Debug, Clone)]
struct SimAccount {
    csm: Option<String>,
    am: Option<String>,
    churned_on: Option<NaiveDate>,
    /// ARR in force the day before the churn, in major units; `None` if unconvertible.
    churned_arr: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookSimulation {
    pub name: String,
    pub enabled: bool,
    pub tasks: usize,
    /// Tasks per owner per week over the period, busiest owner first.
    pub per_owner_week: Vec<(String, f64)>,
    /// Accounts that churned in the period and had a task of this playbook in the
    /// 180 days before.
    pub churned_warned: usize,
    pub churned: usize,
    pub churned_arr_warned: f64,
    pub churned_arr: f64,
    /// Median days from the first such task to the churn.
    pub median_warning_days: Option<f64>,
    /// Tasks whose account churned within 180 days, of tasks whose 180 days the
    /// data covers.
    pub precise: usize,
    pub judged: usize,
}

impl PlaybookSimulation {
    pub fn churned_share(&self) -> Option<f64> {
        (self.churned > 0).then(|| self.churned_warned as f64 / self.churned as f64)
    }

    pub fn churned_arr_share(&self) -> Option<f64> {
        (self.churned_arr > 0.0).then(|| self.churned_arr_warned / self.churned_arr)
    }

    pub fn precision(&self) -> Option<f64> {
        (self.judged > 0).then(|| self.precise as f64 / self.judged as f64)
    }

    /// The busiest owner's tasks per week.
    pub fn max_per_owner_week(&self) -> Option<f64> {
        self.per_owner_week.first().map(|(_, n)| *n)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub accounts: usize,
    /// Days of the period with stored health (health triggers read it).
    pub health_days: usize,
    pub days: usize,
    /// The currency churned ARR is counted in.
    pub currency: tend_core::Currency,
    pub playbooks: Vec<PlaybookSimulation>,
}

/// Replays every playbook (switched on or not) over `from..=to`.
pub async fn simulate(
    app: &App,
    from: NaiveDate,
    to: NaiveDate,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Simulation, AppError> {
    if from > to {
        return Err(AppError::invalid("to", "must not be before from"));
    }
    let store = app.store();
    // Every playbook is replayed, switched on or not: that is what tuning is for.
    let mut all = app.playbooks().clone();
    for playbook in &mut all.playbooks {
        playbook.enabled = true;
    }
    let set = Arc::new(all);
    let cards = Arc::new(app.scorecards().clone());
    let money = Arc::new(
        Money::load(store, None, to)
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?,
    );
    let window = trigger_window(&set, from);
    let ids = store.account_ids().await?;
    let chunks: Vec<(String, String, usize)> = ids
        .chunks(ACCOUNTS_PER_CHUNK)
        .map(|c| (c[0].clone(), c[c.len() - 1].clone(), c.len()))
        .collect();
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    let mut results = std::pin::pin!(futures_util::stream::iter(chunks)
        .map(|(first, last, count)| {
            let (store, set, cards, money) =
                (store.clone(), set.clone(), cards.clone(), money.clone());
            tokio::spawn(async move {
                let since = super::run::customers_since(&set, from);
                let chunk = Chunk::load(&store, (&first, &last), (from, to), window, since).await?;
                let found = tokio::task::spawn_blocking(move || {
                    replay_chunk(&set, &cards, &chunk, &money, from, to)
                })
                .await
                .expect("simulating playbooks panicked");
                Ok::<_, tend_store::StoreError>((count, found))
            })
        })
        .buffered(parallel));
    let mut accounts: Vec<SimAccount> = Vec::new();
    let mut tasks: Vec<SimTask> = Vec::new();
    let mut done = 0;
    while let Some(joined) = results.next().await {
        let (count, (mut part_accounts, part_tasks)) =
            joined.expect("a simulation task panicked")?;
        let offset = accounts.len();
        tasks.extend(part_tasks.into_iter().map(|t| SimTask {
            account: t.account + offset,
            ..t
        }));
        accounts.append(&mut part_accounts);
        done += count;
        progress(done, ids.len());
    }
    let health_days = store.health_days_between(from, to).await?;
    let last_data = crate::as_of::default_day(store, app.today()).await?;
    let mut assigner = Assigner::load(store).await?;
    let owners = assign_owners(&set, &accounts, &mut tasks, &mut assigner);
    let days = (to - from).num_days() as usize + 1;
    let weeks = days as f64 / 7.0;
    let playbooks = set
        .playbooks
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let original = app.playbooks().playbooks[k].enabled;
            measure(
                k, &p.name, original, &tasks, &owners, &accounts, from, to, last_data, weeks,
            )
        })
        .collect();
    Ok(Simulation {
        from,
        to,
        accounts: accounts.len(),
        health_days,
        days,
        currency: money.currency,
        playbooks,
    })
}

/// Every playbook over every day of `from..=to` on the accounts of `chunk`.
fn replay_chunk(
    set: &PlaybookSet,
    cards: &tend_core::health::ScorecardSet,
    chunk: &Chunk,
    money: &Money,
    from: NaiveDate,
    to: NaiveDate,
) -> (Vec<SimAccount>, Vec<SimTask>) {
    let mut accounts = Vec::new();
    let mut tasks: Vec<SimTask> = Vec::new();
    let reads_arr = set
        .playbooks
        .iter()
        .any(|p| p.conditions.arr_min.is_some() || p.conditions.arr_max.is_some());
    for (i, account) in chunk.loaded.accounts().iter().enumerate() {
        let churned_arr = account.churned_on.and_then(|on| {
            let before = on.pred_opt()?;
            arr_major(&chunk.input(cards, i, before), money)
        });
        let index = accounts.len();
        accounts.push(SimAccount {
            csm: account.csm_owner.clone(),
            am: account.am_owner.clone(),
            churned_on: account.churned_on,
            churned_arr,
        });
        // Nothing fires before the account exists; win-back reads churned accounts.
        let start = from.max(account.created_on);
        let mut states = vec![PlaybookState::default(); set.playbooks.len()];
        // The open task of each playbook: (index in `tasks`, its due day).
        let mut open: Vec<Option<(usize, NaiveDate)>> = vec![None; set.playbooks.len()];
        let mut day = start;
        while day <= to {
            let input = chunk.input(cards, i, day);
            let arr = if reads_arr {
                arr_major(&input, money)
            } else {
                None
            };
            for (k, playbook) in set.playbooks.iter().enumerate() {
                // The owner does an open task on its due day.
                if let Some((t, due)) = open[k] {
                    if day > due {
                        tasks[t].closed = due;
                        open[k] = None;
                        states[k].open_task = None;
                        states[k].last_closed = Some(due);
                    }
                }
                match decide(playbook, &input, arr, &states[k]) {
                    Decision::Fire(_) => {
                        let due = day + Days::new(u64::from(playbook.task.due_days));
                        tasks.push(SimTask {
                            account: index,
                            playbook: k,
                            created: day,
                            closed: due,
                        });
                        open[k] = Some((tasks.len() - 1, due));
                        states[k].open_task = Some(tasks.len() as i64);
                    }
                    Decision::Close { .. } => {
                        if let Some((t, _)) = open[k].take() {
                            tasks[t].closed = day;
                        }
                        states[k].open_task = None;
                        states[k].last_closed = Some(day);
                    }
                    Decision::Nothing => {}
                }
            }
            day = day.succ_opt().expect("a day within the calendar");
        }
    }
    (accounts, tasks)
}

/// Assigns every simulated task its owner in the order they were made, with each
/// owner's load falling as their tasks close. Returns each task's owner.
fn assign_owners(
    set: &PlaybookSet,
    accounts: &[SimAccount],
    tasks: &mut [SimTask],
    assigner: &mut Assigner,
) -> Vec<Option<String>> {
    let mut order: Vec<usize> = (0..tasks.len()).collect();
    order.sort_by_key(|&t| (tasks[t].created, t));
    let mut owners: Vec<Option<String>> = vec![None; tasks.len()];
    // Tasks by the day they close, to release their owners' load.
    let mut closing: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
    for t in order {
        let task = &tasks[t];
        let due: Vec<NaiveDate> = closing.range(..=task.created).map(|(d, _)| *d).collect();
        for day in due {
            for closed in closing.remove(&day).unwrap_or_default() {
                if let Some(owner) = &owners[closed] {
                    assigner.release(owner);
                }
            }
        }
        let playbook = &set.playbooks[task.playbook];
        let account = &accounts[task.account];
        owners[t] = assigner.pick(
            &playbook.name,
            &playbook.task.assign,
            account.csm.as_deref(),
            account.am.as_deref(),
        );
        closing.entry(task.closed).or_default().push(t);
    }
    owners
}

#[allow(clippy::too_many_arguments)]
fn measure(
    k: usize,
    name: &str,
    enabled: bool,
    tasks: &[SimTask],
    owners: &[Option<String>],
    accounts: &[SimAccount],
    from: NaiveDate,
    to: NaiveDate,
    last_data: NaiveDate,
    weeks: f64,
) -> PlaybookSimulation {
    let mine: Vec<usize> = (0..tasks.len())
        .filter(|&t| tasks[t].playbook == k)
        .collect();
    let mut per_owner: HashMap<String, usize> = HashMap::new();
    for &t in &mine {
        let owner = owners[t].clone().unwrap_or_else(|| "(nobody)".into());
        *per_owner.entry(owner).or_default() += 1;
    }
    let mut per_owner_week: Vec<(String, f64)> = per_owner
        .into_iter()
        .map(|(owner, n)| (owner, n as f64 / weeks))
        .collect();
    per_owner_week.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // The first task of each account before its churn.
    let mut first_warning: HashMap<usize, NaiveDate> = HashMap::new();
    let (mut precise, mut judged) = (0, 0);
    for &t in &mine {
        let task = &tasks[t];
        let churned_on = accounts[task.account].churned_on;
        if let Some(on) = churned_on {
            let lead = (on - task.created).num_days();
            if (1..=WARNING_DAYS).contains(&lead) {
                let first = first_warning.entry(task.account).or_insert(task.created);
                *first = (*first).min(task.created);
            }
        }
        let horizon = task.created + Days::new(WARNING_DAYS as u64);
        let churned_within = churned_on.is_some_and(|on| on > task.created && on <= horizon);
        if churned_within || horizon <= last_data {
            judged += 1;
            precise += usize::from(churned_within);
        }
    }
    let churned: Vec<usize> = (0..accounts.len())
        .filter(|&a| {
            accounts[a]
                .churned_on
                .is_some_and(|on| on >= from && on <= to)
        })
        .collect();
    let arr = |a: usize| accounts[a].churned_arr.unwrap_or(0.0);
    let warned: Vec<usize> = churned
        .iter()
        .copied()
        .filter(|a| first_warning.contains_key(a))
        .collect();
    let mut leads: Vec<f64> = warned
        .iter()
        .map(|a| (accounts[*a].churned_on.expect("churned") - first_warning[a]).num_days() as f64)
        .collect();
    leads.sort_by(f64::total_cmp);
    let median = (!leads.is_empty()).then(|| {
        let n = leads.len();
        if n % 2 == 1 {
            leads[n / 2]
        } else {
            (leads[n / 2 - 1] + leads[n / 2]) / 2.0
        }
    });
    PlaybookSimulation {
        name: name.to_string(),
        enabled,
        tasks: mine.len(),
        per_owner_week,
        churned_warned: warned.len(),
        churned: churned.len(),
        // Sums start at +0.0: an empty float sum is −0.0.
        churned_arr_warned: warned.iter().fold(0.0, |sum, &a| sum + arr(a)),
        churned_arr: churned.iter().fold(0.0, |sum, &a| sum + arr(a)),
        median_warning_days: median,
        precise,
        judged,
    }
}
