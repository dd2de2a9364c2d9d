//! Raw-event rollups brought up to date by adding what new events change, instead of
//! recomputing each touched account from its raw events (which grows with every
//! event of the last 30 days): events and feature counts are sums, so new events add
//! to them; daily and 30-day active users are recounted from `usage_user_days`, and
//! only for the accounts whose set of active users this batch changed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{Duration, NaiveDate};
use tend_core::rollup::ACTIVE_WINDOW_DAYS;
use tend_core::{EventType, UsageDaily, UsageEvent};

use crate::rows::UsageDailyRow;
use crate::{on_tx, Result, Transaction};

/// What writing a batch of events stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredEvents {
    /// Per event of the batch, in order: whether it was new (not a retry).
    pub new: Vec<bool>,
    /// The user-days (account, day, user) the new events made active for the first
    /// time.
    pub new_user_days: Vec<(String, NaiveDate, String)>,
}

/// Who an event counts as an active user, if anyone: people using the product
/// (track, page and screen calls) by user id, else anonymous id — as the rollups of
/// raw events count them.
pub fn active_user(event: &UsageEvent) -> Option<&str> {
    match event.kind {
        EventType::Track | EventType::Page | EventType::Screen => {
            event.user_id.as_deref().or(event.anonymous_id.as_deref())
        }
        EventType::Identify | EventType::Group => None,
    }
}

/// What new events add to one account-day's rollup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollupDelta {
    pub events: i64,
    /// Track calls by event name.
    pub features: BTreeMap<String, i64>,
}

/// Rows per statement, under both backends' parameter limits.
const ACCOUNTS_PER_READ: usize = 1000;

impl Transaction {
    /// Adds `deltas` (by account and day) to the rollups of raw events of days up to
    /// `through`, and the active users that `new_user_days` (account, day, user) add.
    /// A user new on `through` for an account whose row of that day exists adds one
    /// to its active users, and one to its 30-day active users unless they were
    /// active in the 29 days before; any other account with new user-days (late
    /// events), or without its row yet, has its active users recounted from its
    /// earliest such day. Days after `through` are left to the rollups' full refresh
    /// when the data reaches them. Returns the rows written.
    pub async fn add_to_usage_rollups(
        &mut self,
        deltas: &HashMap<(String, NaiveDate), RollupDelta>,
        new_user_days: &[(String, NaiveDate, String)],
        through: NaiveDate,
    ) -> Result<usize> {
        let mut rows = self.event_rollups_of(deltas.keys(), through).await?;
        let mut recount: HashMap<String, NaiveDate> = HashMap::new();
        let mut earliest = |account: &str, day: NaiveDate| {
            let from = recount.entry(account.to_string()).or_insert(day);
            *from = (*from).min(day);
        };
        for (account, day) in deltas.keys() {
            if *day <= through && !rows.contains_key(&(account.clone(), *day)) {
                earliest(account, *day);
            }
        }
        for (account, day, _) in new_user_days {
            if *day < through || !rows.contains_key(&(account.clone(), through)) {
                earliest(account, *day);
            }
        }
        let newly_on_through: Vec<(&str, &str)> = new_user_days
            .iter()
            .filter(|(account, day, _)| *day == through && !recount.contains_key(account))
            .map(|(account, _, user)| (account.as_str(), user.as_str()))
            .collect();
        let returning = self.active_before(&newly_on_through, through).await?;
        for (account, user) in &newly_on_through {
            let row = rows
                .get_mut(&(account.to_string(), through))
                .expect("accounts without the row are recounted");
            row.active_users += 1;
            if !returning.contains(&(account.to_string(), user.to_string())) {
                row.active_users_30d += 1;
            }
        }
        for (account, &from) in &recount {
            if from > through {
                continue;
            }
            let stored: Vec<UsageDailyRow> = on_tx!(&mut self.tx, conn => {
                sqlx::query_as(
                    "SELECT * FROM usage_event_daily \
                     WHERE account_id = $1 AND day >= $2 AND day <= $3",
                )
                .bind(account)
                .bind(from)
                .bind(through)
                .fetch_all(&mut **conn)
                .await?
            });
            for row in stored {
                let row = UsageDaily::try_from(row)?;
                rows.insert((row.account_id.clone(), row.day), row);
            }
            let counted = self.recount_active_users(account, from, through).await?;
            for (day, (active, active_30d)) in counted {
                let row = rows
                    .entry((account.clone(), day))
                    .or_insert_with(|| empty_row(account, day));
                row.active_users = active;
                row.active_users_30d = active_30d;
            }
        }
        let mut noted = Vec::new();
        for ((account, day), delta) in deltas {
            if *day > through {
                continue;
            }
            let row = rows
                .entry((account.clone(), *day))
                .or_insert_with(|| empty_row(account, *day));
            row.events += delta.events;
            for (name, count) in &delta.features {
                *row.feature_events.entry(name.clone()).or_insert(0) += count;
            }
            if !delta.features.is_empty() {
                let mut names = empty_row(account, *day);
                names.feature_events = delta.features.clone();
                noted.push(names);
            }
        }
        let written: Vec<UsageDaily> = rows
            .into_values()
            .filter(|r| r.events > 0 || r.active_users_30d > 0)
            .collect();
        self.note_event_names(&noted).await?;
        self.write_daily_rows("usage_event_daily", &written).await?;
        Ok(written.len())
    }

    /// Which of `users` (account, user) were active on the account in the 29 days
    /// before `day`.
    async fn active_before(
        &mut self,
        users: &[(&str, &str)],
        day: NaiveDate,
    ) -> Result<HashSet<(String, String)>> {
        let mut found = HashSet::new();
        let since = day - Duration::days(ACTIVE_WINDOW_DAYS - 1);
        for chunk in users.chunks(ACCOUNTS_PER_READ / 2) {
            let rows: Vec<(String, String)> = on_tx!(&mut self.tx, conn => {
                let mut builder = sqlx::QueryBuilder::new(
                    "SELECT DISTINCT account_id, user_key FROM usage_user_days WHERE day >= ",
                );
                builder.push_bind(since).push(" AND day < ").push_bind(day);
                builder.push(" AND (account_id, user_key) IN (");
                let mut list = builder.separated(", ");
                for (account, user) in chunk {
                    list.push("(")
                        .push_bind_unseparated(*account)
                        .push_unseparated(", ")
                        .push_bind_unseparated(*user)
                        .push_unseparated(")");
                }
                builder.push(")");
                builder.build_query_as().fetch_all(&mut **conn).await?
            });
            found.extend(rows);
        }
        Ok(found)
    }

    /// The stored rows of `keys` on days up to `through`, read a day and a chunk of
    /// accounts at a time.
    async fn event_rollups_of<'a>(
        &mut self,
        keys: impl Iterator<Item = &'a (String, NaiveDate)>,
        through: NaiveDate,
    ) -> Result<BTreeMap<(String, NaiveDate), UsageDaily>> {
        let mut by_day: BTreeMap<NaiveDate, BTreeSet<&str>> = BTreeMap::new();
        for (account, day) in keys {
            if *day <= through {
                by_day.entry(*day).or_default().insert(account);
            }
        }
        let mut found = BTreeMap::new();
        for (day, accounts) in by_day {
            let accounts: Vec<&str> = accounts.into_iter().collect();
            for chunk in accounts.chunks(ACCOUNTS_PER_READ) {
                let rows: Vec<UsageDailyRow> = on_tx!(&mut self.tx, conn => {
                    let mut builder = sqlx::QueryBuilder::new(
                        "SELECT * FROM usage_event_daily WHERE day = ",
                    );
                    builder.push_bind(day).push(" AND account_id IN (");
                    let mut list = builder.separated(", ");
                    for account in chunk {
                        list.push_bind(*account);
                    }
                    builder.push(")");
                    builder.build_query_as().fetch_all(&mut **conn).await?
                });
                for row in rows {
                    let row = UsageDaily::try_from(row)?;
                    found.insert((row.account_id.clone(), row.day), row);
                }
            }
        }
        Ok(found)
    }

    /// Each day of `[from, through]` on which `account` had users active that day or
    /// in the 30 days to it: (active that day, active in the window).
    async fn recount_active_users(
        &mut self,
        account: &str,
        from: NaiveDate,
        through: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, (i64, i64)>> {
        let window_from = from - Duration::days(ACTIVE_WINDOW_DAYS - 1);
        let user_days: Vec<(NaiveDate, String)> = on_tx!(&mut self.tx, conn => {
            sqlx::query_as(
                "SELECT day, user_key FROM usage_user_days \
                 WHERE account_id = $1 AND day >= $2 AND day <= $3",
            )
            .bind(account)
            .bind(window_from)
            .bind(through)
            .fetch_all(&mut **conn)
            .await?
        });
        // The last day each user was active on, walking the days in order.
        let mut by_day: BTreeMap<NaiveDate, Vec<&str>> = BTreeMap::new();
        for (day, user) in &user_days {
            by_day.entry(*day).or_default().push(user);
        }
        let mut last_seen: HashMap<&str, NaiveDate> = HashMap::new();
        let mut counts = BTreeMap::new();
        let mut day = window_from;
        while day <= through {
            let today = by_day.get(&day).map_or(&[][..], Vec::as_slice);
            for user in today {
                last_seen.insert(user, day);
            }
            if day >= from {
                let window_start = day - Duration::days(ACTIVE_WINDOW_DAYS - 1);
                let in_window = last_seen.values().filter(|d| **d >= window_start).count();
                if in_window > 0 {
                    counts.insert(day, (today.len() as i64, in_window as i64));
                }
            }
            day += Duration::days(1);
        }
        Ok(counts)
    }
}

fn empty_row(account: &str, day: NaiveDate) -> UsageDaily {
    UsageDaily {
        account_id: account.to_string(),
        day,
        events: 0,
        active_users: 0,
        active_users_30d: 0,
        feature_events: BTreeMap::new(),
    }
}
