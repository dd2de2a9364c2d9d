//! Scoring accounts and keeping their daily snapshots: a full rescore of one day, a
//! backfill of many days from the data as it was on each, and the incremental path
//! that rescores only the accounts whose data just changed.
//!
//! Scoring is two passes because percentile rules rank an account within its segment:
//! first every account's raw values, then the segment distributions, then scores.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures_util::{Stream, StreamExt};

use chrono::{Days, NaiveDate};
use tend_core::health::{raw_values, score, HealthSnapshot, Rule, Scorecard, ScorecardSet};
use tend_store::{Distribution, HistoryWindow, Store};

use super::facts::{history_window, is_scored_on, Loaded};
use super::HealthError;

/// Accounts loaded and scored together: bounds memory on big portfolios.
const ACCOUNTS_PER_CHUNK: usize = 1000;
/// Account-days held in memory at once during a backfill.
const ACCOUNT_DAYS_PER_BLOCK: usize = 1_000_000;
/// Snapshots one chunk scores at most before they are written.
const SNAPSHOTS_PER_CHUNK: usize = 50_000;
/// Snapshots scored and written at a time.
const WRITE_BATCH: usize = 5000;

/// One account's raw measure values on one day.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AccountDay {
    pub account_id: String,
    /// The account's segment ("" without one): percentile rules rank within it.
    pub segment: String,
    /// The scorecard's position in the set.
    pub card: usize,
    pub day: NaiveDate,
    pub raw: Vec<Option<f64>>,
}

/// Sorted values of each percentile measure by (day, scorecard, segment); the lists of
/// other measures are empty.
pub(crate) type Distributions = HashMap<(NaiveDate, usize, String), Vec<Vec<f64>>>;

/// What a rescore or backfill did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthRun {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Snapshots written (accounts × days they were active).
    pub snapshots: usize,
    /// Accounts considered.
    pub accounts: usize,
}

fn card_index(set: &ScorecardSet, card: &Scorecard) -> usize {
    set.scorecards
        .iter()
        .position(|c| std::ptr::eq(c, card))
        .expect("the card is from the set")
}

fn segment_of(account: &tend_core::Account) -> String {
    account.segment.clone().unwrap_or_default()
}

/// Raw values for the accounts of `loaded` on each of `days` they were active.
fn raw_for_loaded(set: &ScorecardSet, loaded: &Loaded, days: &[NaiveDate]) -> Vec<AccountDay> {
    let mut rows = Vec::new();
    for (i, account) in loaded.accounts().iter().enumerate() {
        let card = set.for_account(account);
        let facts = loaded.facts(i);
        for &day in days.iter().filter(|&&d| is_scored_on(account, d)) {
            rows.push(AccountDay {
                account_id: account.id.clone(),
                segment: segment_of(account),
                card: card_index(set, card),
                day,
                raw: raw_values(card, &facts, day),
            });
        }
    }
    rows
}

/// What is done with each loaded chunk of accounts on some days.
pub(crate) type ChunkWork<T> = Arc<dyn Fn(&ScorecardSet, &Loaded, &[NaiveDate]) -> T + Send + Sync>;

/// Loads chunks of `ids` (sorted) with the history scoring `days` (ascending) needs and
/// runs `work` on each, a few chunks at a time on the runtime's threads; yields the results in
/// order with the number of accounts in each chunk.
fn per_chunk<T: Send + 'static>(
    store: &Store,
    set: &ScorecardSet,
    ids: &[String],
    days: &[NaiveDate],
    work: fn(&ScorecardSet, &Loaded, &[NaiveDate]) -> T,
) -> impl Stream<Item = Result<(usize, T), HealthError>> {
    let window = history_window(set, days[0]);
    per_chunk_with(store, set, ids, days, window, Arc::new(work))
}

/// [`per_chunk`] with the history to load and any work.
pub(crate) fn per_chunk_with<T: Send + 'static>(
    store: &Store,
    set: &ScorecardSet,
    ids: &[String],
    days: &[NaiveDate],
    window: HistoryWindow,
    work: ChunkWork<T>,
) -> impl Stream<Item = Result<(usize, T), HealthError>> {
    let shared = Arc::new((set.clone(), days.to_vec()));
    let chunks: Vec<(String, String, usize)> = ids
        .chunks(ACCOUNTS_PER_CHUNK)
        .map(|c| (c[0].clone(), c[c.len() - 1].clone(), c.len()))
        .collect();
    let store = store.clone();
    // One chunk more than cores, so a chunk is ready whenever a core frees up
    // (measured: 2 in flight on 2 cores left them idle while snapshots were written).
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get()) + 1;
    futures_util::stream::iter(chunks)
        .map(move |(first, last, count)| {
            let (store, shared, work) = (store.clone(), shared.clone(), work.clone());
            tokio::spawn(async move {
                let (set, days) = &*shared;
                let active = Some((days[0], days[days.len() - 1]));
                let loaded = Loaded::load(&store, &first, &last, active, window).await?;
                Ok((count, work(set, &loaded, days)))
            })
        })
        .buffered(parallel)
        .map(|joined| joined.expect("a scoring task panicked"))
}

/// Raw values of every account in `ids` (sorted) on each of `days` (ascending).
async fn raw_values_of(
    store: &Store,
    set: &ScorecardSet,
    ids: &[String],
    days: &[NaiveDate],
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<Vec<AccountDay>, HealthError> {
    let mut chunks = std::pin::pin!(per_chunk(store, set, ids, days, raw_for_loaded));
    let mut rows = Vec::new();
    while let Some(result) = chunks.next().await {
        let (count, part) = result?;
        rows.extend(part);
        progress(count);
    }
    Ok(rows)
}

/// Scores a chunk on its own: right when no rule ranks within a segment.
fn score_loaded(set: &ScorecardSet, loaded: &Loaded, days: &[NaiveDate]) -> Vec<HealthSnapshot> {
    score_rows(
        set,
        &raw_for_loaded(set, loaded, days),
        &Distributions::new(),
    )
}

pub(crate) fn has_percentile_rules(set: &ScorecardSet) -> bool {
    set.scorecards
        .iter()
        .any(|card| percentile_positions(card).contains(&true))
}

fn is_percentile(rule: &Rule) -> bool {
    matches!(rule, Rule::Percentile { .. })
}

/// Which of a scorecard's measures (in order) rank within the segment.
fn percentile_positions(card: &Scorecard) -> Vec<bool> {
    card.measures()
        .map(|(_, m, _)| is_percentile(&m.rule))
        .collect()
}

/// The segment distributions of percentile measures among `rows`.
pub(crate) fn distributions(set: &ScorecardSet, rows: &[AccountDay]) -> Distributions {
    let percentile: Vec<Vec<bool>> = set.scorecards.iter().map(percentile_positions).collect();
    let mut out = Distributions::new();
    for row in rows {
        let positions = &percentile[row.card];
        if !positions.contains(&true) {
            continue;
        }
        let lists = out
            .entry((row.day, row.card, row.segment.clone()))
            .or_insert_with(|| vec![Vec::new(); positions.len()]);
        for (i, value) in row.raw.iter().enumerate() {
            if let (true, Some(v)) = (positions[i], value) {
                lists[i].push(*v);
            }
        }
    }
    for lists in out.values_mut() {
        for list in lists {
            list.sort_by(f64::total_cmp);
        }
    }
    out
}

/// Scores raw values against the distributions of their day and segment.
pub(crate) fn score_rows(
    set: &ScorecardSet,
    rows: &[AccountDay],
    dists: &Distributions,
) -> Vec<HealthSnapshot> {
    rows.iter()
        .map(|row| {
            let card = &set.scorecards[row.card];
            let lists = dists.get(&(row.day, row.card, row.segment.clone()));
            let score = score(card, &row.raw, |i| {
                lists.and_then(|l| l.get(i)).map_or(&[][..], Vec::as_slice)
            });
            HealthSnapshot {
                account_id: row.account_id.clone(),
                day: row.day,
                score,
            }
        })
        .collect()
}

fn stored_distributions(set: &ScorecardSet, dists: &Distributions) -> Vec<Distribution> {
    let mut out = Vec::new();
    for ((day, card, segment), lists) in dists {
        let positions = percentile_positions(&set.scorecards[*card]);
        for (measure, values) in lists.iter().enumerate() {
            if positions[measure] {
                out.push(Distribution {
                    day: *day,
                    scorecard: set.scorecards[*card].name.clone(),
                    segment: segment.clone(),
                    measure,
                    values: values.clone(),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        (a.day, &a.scorecard, &a.segment, a.measure).cmp(&(
            b.day,
            &b.scorecard,
            &b.segment,
            b.measure,
        ))
    });
    out
}

/// Every active account's health on each of `days` (ascending), computed from the
/// store without writing, with the distributions its percentile rules ranked against.
/// `progress(accounts)` counts accounts loaded.
pub(crate) async fn scores_on(
    store: &Store,
    set: &ScorecardSet,
    ids: &[String],
    days: &[NaiveDate],
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<(Vec<HealthSnapshot>, Distributions), HealthError> {
    if ids.is_empty() || days.is_empty() {
        return Ok((Vec::new(), Distributions::new()));
    }
    let rows = raw_values_of(store, set, ids, days, progress).await?;
    let dists = distributions(set, &rows);
    Ok((score_rows(set, &rows, &dists), dists))
}

/// Every active account's health on `day`, computed from the store without writing.
pub async fn score_day(
    store: &Store,
    set: &ScorecardSet,
    day: NaiveDate,
) -> Result<Vec<HealthSnapshot>, HealthError> {
    let ids = store.account_ids().await?;
    Ok(scores_on(store, set, &ids, &[day], &|_| {}).await?.0)
}

/// Scores every active account on each of the `days` days ending on `last_day` and
/// stores the snapshots (replacing earlier ones of those days) in one transaction.
/// `progress(done, total)` counts account-days.
pub async fn backfill(
    store: &Store,
    set: &ScorecardSet,
    last_day: NaiveDate,
    days: u32,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<HealthRun, HealthError> {
    let days = days.max(1);
    let first_day = last_day
        .checked_sub_days(Days::new(u64::from(days - 1)))
        .unwrap_or(NaiveDate::MIN);
    let all_days: Vec<NaiveDate> = first_day.iter_days().take(days as usize).collect();
    let ids = store.account_ids().await?;
    let mut run = HealthRun {
        first_day,
        last_day,
        snapshots: 0,
        accounts: ids.len(),
    };
    let total = ids.len() * all_days.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let per_block = (ACCOUNT_DAYS_PER_BLOCK / ids.len().max(1)).max(1);
    let mut tx = store.begin().await?;
    if !has_percentile_rules(set) && !ids.is_empty() {
        // Each chunk scores on its own, so snapshots are written while later chunks
        // are still loading; days go in blocks that keep a chunk's snapshots small.
        for block in all_days.chunks(SNAPSHOTS_PER_CHUNK / ACCOUNTS_PER_CHUNK) {
            let mut chunks = std::pin::pin!(per_chunk(store, set, &ids, block, score_loaded));
            while let Some(result) = chunks.next().await {
                let (accounts, snapshots) = result?;
                tx.upsert_health_snapshots(&snapshots).await?;
                run.snapshots += snapshots.len();
                let so_far = done
                    .fetch_add(accounts * block.len(), std::sync::atomic::Ordering::Relaxed)
                    + accounts * block.len();
                progress(so_far, total);
            }
        }
        tx.commit().await?;
        return Ok(run);
    }
    for block in all_days.chunks(per_block) {
        let rows = raw_values_of(store, set, &ids, block, &|accounts| {
            let so_far = done
                .fetch_add(accounts * block.len(), std::sync::atomic::Ordering::Relaxed)
                + accounts * block.len();
            progress(so_far, total);
        })
        .await?;
        let dists = distributions(set, &rows);
        // Scored and written a slice at a time, so snapshots never pile up in memory.
        for slice in rows.chunks(WRITE_BATCH) {
            tx.upsert_health_snapshots(&score_rows(set, slice, &dists))
                .await?;
        }
        tx.upsert_health_distributions(&stored_distributions(set, &dists))
            .await?;
        run.snapshots += rows.len();
    }
    tx.commit().await?;
    Ok(run)
}

/// A full rescore: every active account's health on `day`, stored.
pub async fn rescore(
    store: &Store,
    set: &ScorecardSet,
    day: NaiveDate,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<HealthRun, HealthError> {
    backfill(store, set, day, 1, progress).await
}

/// The incremental path: rescores only `account_ids` on `day` after their data
/// changed, and stores their snapshots. Percentile measures rank against the
/// segment's distribution of that day with the accounts' own values replaced, so the
/// accounts score as a full rescore would; other accounts keep their scores until the
/// next full rescore. Many accounts are refreshed together: loaded a run of ids at a
/// time, each distribution read and written once, every snapshot in one transaction.
pub async fn refresh_accounts(
    store: &Store,
    set: &ScorecardSet,
    account_ids: &[String],
    day: NaiveDate,
) -> Result<Vec<HealthSnapshot>, HealthError> {
    let mut ids: Vec<String> = account_ids.to_vec();
    ids.sort();
    ids.dedup();
    let rows = refreshed_raw_values(store, set, &ids, day).await?;
    store_refreshed(store, set, &ids, &rows, day).await
}

/// The second half of [`refresh_accounts`]: scores `rows` (the raw values of `ids`,
/// sorted, on `day`) against their segments' distributions with their own values
/// replaced, and stores the snapshots and those distributions. Callers that hold a
/// lock for writing need it only around this half.
pub(crate) async fn store_refreshed(
    store: &Store,
    set: &ScorecardSet,
    ids: &[String],
    rows: &[AccountDay],
    day: NaiveDate,
) -> Result<Vec<HealthSnapshot>, HealthError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Measures may have been computed before the caller took its lock: an account
    // moved to another segment or scorecard since is left out (its move rescores it).
    let places: HashMap<String, (usize, String)> = store
        .accounts_of(ids)
        .await?
        .into_iter()
        .filter(|a| is_scored_on(a, day))
        .map(|a| {
            let place = (card_index(set, set.for_account(&a)), segment_of(&a));
            (a.id, place)
        })
        .collect();
    let rows: Vec<AccountDay> = rows
        .iter()
        .filter(|r| {
            places
                .get(&r.account_id)
                .is_some_and(|(card, segment)| *card == r.card && *segment == r.segment)
        })
        .cloned()
        .collect();
    let rows = &rows[..];
    let previous: HashMap<String, HealthSnapshot> = store
        .health_snapshots_of(ids, day)
        .await?
        .into_iter()
        .map(|s| (s.account_id.clone(), s))
        .collect();
    let mut groups: BTreeMap<(usize, &str), Vec<&AccountDay>> = BTreeMap::new();
    for row in rows {
        groups
            .entry((row.card, &row.segment))
            .or_default()
            .push(row);
    }
    let mut dists = Distributions::new();
    let mut changed_distributions = Vec::new();
    for ((card_index, segment), members) in groups {
        let card = &set.scorecards[card_index];
        if !percentile_positions(card).contains(&true) {
            continue;
        }
        let stored = store.health_distributions(&card.name, segment, day).await?;
        let same_day = stored.first().is_some_and(|d| d.day == day);
        let mut lists = vec![Vec::new(); card.measures().count()];
        for mut d in stored {
            // The members' values already in that day's distribution, if they were
            // scored with this scorecard (a changed segment or stage moves them).
            let old: Vec<f64> = members
                .iter()
                .filter_map(|row| {
                    previous
                        .get(&row.account_id)
                        .filter(|p| same_day && p.score.scorecard == card.name)
                        .and_then(|p| p.score.measures[d.measure].raw)
                })
                .collect();
            let new: Vec<f64> = members
                .iter()
                .filter_map(|row| row.raw[d.measure])
                .collect();
            d.values = replace_values(&d.values, old, new);
            if same_day {
                changed_distributions.push(d.clone());
            }
            lists[d.measure] = d.values;
        }
        dists.insert((day, card_index, segment.to_string()), lists);
    }
    let scored = score_rows(set, rows, &dists);
    let mut tx = store.begin().await?;
    for chunk in scored.chunks(WRITE_BATCH) {
        tx.upsert_health_snapshots(chunk).await?;
    }
    tx.upsert_health_distributions(&changed_distributions)
        .await?;
    tx.commit().await?;
    Ok(scored)
}

/// `values` (sorted) with `new` added and then one occurrence of each of `old` taken
/// out, in one merge: a chunk of thousands of accounts refreshed in a distribution of
/// tens of thousands, value by value, moved the whole list once per account.
fn replace_values(values: &[f64], mut old: Vec<f64>, mut new: Vec<f64>) -> Vec<f64> {
    old.sort_by(f64::total_cmp);
    new.sort_by(f64::total_cmp);
    let mut merged = Vec::with_capacity(values.len() + new.len());
    let (mut i, mut j) = (0, 0);
    while i < values.len() || j < new.len() {
        if j == new.len() || (i < values.len() && values[i] <= new[j]) {
            merged.push(values[i]);
            i += 1;
        } else {
            merged.push(new[j]);
            j += 1;
        }
    }
    let mut out = Vec::with_capacity(merged.len());
    let mut k = 0;
    for v in merged {
        while k < old.len() && old[k] < v {
            k += 1; // not in the distribution
        }
        if k < old.len() && old[k] == v {
            k += 1;
        } else {
            out.push(v);
        }
    }
    out
}

/// Raw values on `day` of the accounts of `ids` (sorted) scored then: the first half
/// of [`refresh_accounts`], reading only.
pub(crate) async fn refreshed_raw_values(
    store: &Store,
    set: &ScorecardSet,
    ids: &[String],
    day: NaiveDate,
) -> Result<Vec<AccountDay>, HealthError> {
    let runs = load_runs_of(store, ids, (day, day), history_window(set, day)).await?;
    Ok(raw_values_of_loaded(set, runs, ids, day).await.0)
}

/// A range of accounts loaded together, `first..=last`.
pub(crate) struct LoadedRun {
    pub first: String,
    pub last: String,
    pub loaded: Loaded,
}

/// The accounts of `ids` (sorted) active on some day of `active`, loaded a run at a
/// time (see [`load_runs`]) with the history `window`.
pub(crate) async fn load_runs_of(
    store: &Store,
    ids: &[String],
    active: (NaiveDate, NaiveDate),
    window: HistoryWindow,
) -> Result<Vec<LoadedRun>, HealthError> {
    let mut runs = Vec::new();
    for (first, last) in load_runs(store, ids).await? {
        runs.push(LoadedRun {
            first: first.to_string(),
            last: last.to_string(),
            loaded: Loaded::load(store, first, last, Some(active), window).await?,
        });
    }
    Ok(runs)
}

/// Raw values on `day` of the accounts of `ids` (sorted) in `runs` (loaded with at
/// least the history scoring `day` needs, and at least the accounts active on it),
/// with `runs` given back for other work on the same facts.
pub(crate) async fn raw_values_of_loaded(
    set: &ScorecardSet,
    runs: Vec<LoadedRun>,
    ids: &[String],
    day: NaiveDate,
) -> (Vec<AccountDay>, Vec<LoadedRun>) {
    let wanted: std::collections::HashSet<String> = ids.iter().cloned().collect();
    let set = Arc::new(set.clone());
    // Computing measures is CPU work: off the runtime's threads.
    tokio::task::spawn_blocking(move || {
        let rows = runs
            .iter()
            .flat_map(|run| raw_for_loaded(&set, &run.loaded, &[day]))
            .filter(|r| wanted.contains(&r.account_id))
            .collect();
        (rows, runs)
    })
    .await
    .expect("computing measures panicked")
}

/// Ranges of `ids` (sorted) to load: a run of up to [`ACCOUNTS_PER_CHUNK`] ids is one
/// range when the range holds at most twice as many accounts, else it is halved, so
/// scattered accounts are loaded one by one and dense ones together.
pub(crate) async fn load_runs<'a>(
    store: &Store,
    ids: &'a [String],
) -> Result<Vec<(&'a str, &'a str)>, HealthError> {
    let mut runs = Vec::new();
    let mut pending: Vec<&[String]> = ids.chunks(ACCOUNTS_PER_CHUNK).rev().collect();
    while let Some(run) = pending.pop() {
        let (first, last) = (&run[0], &run[run.len() - 1]);
        if run.len() == 1
            || store.count_accounts_between(first, last).await? <= 2 * run.len() as i64
        {
            runs.push((first.as_str(), last.as_str()));
        } else {
            let (low, high) = run.split_at(run.len() / 2);
            pending.push(high);
            pending.push(low);
        }
    }
    Ok(runs)
}

/// Rebuilds the stored distributions of scorecard `card` in `segment` on `day` from
/// that day's snapshots of the accounts now in it. Needed when an account leaves a
/// segment or scorecard: the incremental path ranks it in its new place, and its old
/// value must leave the old one.
pub async fn rebuild_distribution(
    store: &Store,
    set: &ScorecardSet,
    card: &str,
    segment: &str,
    day: NaiveDate,
) -> Result<(), HealthError> {
    let Some(index) = set.scorecards.iter().position(|c| c.name == card) else {
        return Ok(()); // a scorecard no longer configured keeps no distributions
    };
    let positions = percentile_positions(&set.scorecards[index]);
    if !positions.contains(&true) {
        return Ok(());
    }
    let accounts: HashMap<String, tend_core::Account> = store
        .accounts()
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let rows: Vec<AccountDay> = store
        .health_snapshots_on(day)
        .await?
        .into_iter()
        .filter(|s| s.score.scorecard == card)
        .filter_map(|s| {
            let account = accounts.get(&s.account_id)?;
            let in_place = account.segment.as_deref().unwrap_or("") == segment
                && set.for_account(account).name == card;
            in_place.then(|| AccountDay {
                account_id: s.account_id.clone(),
                segment: segment.to_string(),
                card: index,
                day,
                raw: s.score.measures.iter().map(|m| m.raw).collect(),
            })
        })
        .collect();
    let mut dists = distributions(set, &rows);
    // A segment left empty keeps empty lists rather than its last values.
    dists
        .entry((day, index, segment.to_string()))
        .or_insert_with(|| vec![Vec::new(); positions.len()]);
    let mut tx = store.begin().await?;
    tx.upsert_health_distributions(&stored_distributions(set, &dists))
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::replace_values;

    /// The value-by-value way: each new value inserted in order, then each old one
    /// removed where found.
    fn one_by_one(values: &[f64], old: &[f64], new: &[f64]) -> Vec<f64> {
        let mut out = values.to_vec();
        for &n in new {
            let at = out.partition_point(|v| *v < n);
            out.insert(at, n);
        }
        for &o in old {
            if let Some(at) = out.iter().position(|v| *v == o) {
                out.remove(at);
            }
        }
        out
    }

    #[test]
    fn replacing_values_in_one_merge_matches_doing_it_one_by_one() {
        // A small generator: ties, values absent from the list, empty sides.
        let mut seed = 7u64;
        let mut next = |modulo: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % modulo) as f64
        };
        for case in 0..200 {
            let mut values: Vec<f64> = (0..case % 23).map(|_| next(10)).collect();
            values.sort_by(f64::total_cmp);
            let old: Vec<f64> = (0..case % 7).map(|_| next(12)).collect();
            let new: Vec<f64> = (0..case % 5).map(|_| next(10) + 0.5 * next(2)).collect();
            assert_eq!(
                replace_values(&values, old.clone(), new.clone()),
                one_by_one(&values, &old, &new),
                "{values:?} - {old:?} + {new:?}"
            );
        }
    }
}
