//! Daily usage rollups of one account, computed from its raw events.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use chrono::{Duration, NaiveDate};

use crate::model::{EventType, UsageDaily};

/// Days in the trailing window of `active_users_30d`, the day itself included.
pub const ACTIVE_WINDOW_DAYS: i64 = 30;

/// What the rollup needs of one event, borrowed: the builder copies a user or feature
/// name only the first time it sees it in a day.
#[derive(Debug, Clone, Copy)]
pub struct RollupEvent<'a> {
    pub day: NaiveDate,
    pub kind: EventType,
    pub user: Option<&'a str>,
    pub event: &'a str,
}

impl RollupEvent<'_> {
    /// Calls made by a person using the product; identify and group calls only
    /// describe people and accounts, so they are counted as events but not as activity.
    fn is_activity(&self) -> bool {
        matches!(
            self.kind,
            EventType::Track | EventType::Page | EventType::Screen
        )
    }
}

/// Builds the rollups of one account for each day of `[from, to]` (both inclusive) on
/// which it had events or users active in the trailing 30 days.
///
/// Events are pushed in day order and must include the 29 days before `from`, so the
/// trailing window of `from` is complete; earlier events are ignored. Memory is bounded
/// by the users of 30 days, not by the number of events, so an account's events can be
/// streamed straight from the database.
pub struct DailyRollupBuilder {
    account_id: String,
    from: NaiveDate,
    to: NaiveDate,
    /// The day being accumulated.
    day: NaiveDate,
    today: DayTotals,
    /// Users of each finished day still inside the window, oldest first.
    window: VecDeque<HashSet<String>>,
    /// In how many of the window's days each user was active; the keys are the
    /// window's distinct users.
    days_active: HashMap<String, u32>,
    rows: Vec<UsageDaily>,
}

#[derive(Default)]
struct DayTotals {
    events: i64,
    users: HashSet<String>,
    features: BTreeMap<String, i64>,
}

impl DailyRollupBuilder {
    pub fn new(account_id: &str, from: NaiveDate, to: NaiveDate) -> Self {
        DailyRollupBuilder {
            account_id: account_id.to_string(),
            from,
            to,
            day: Self::window_start(from),
            today: DayTotals::default(),
            window: VecDeque::new(),
            days_active: HashMap::new(),
            rows: Vec::new(),
        }
    }

    /// The first day whose events count towards the rollup of `from`.
    pub fn window_start(from: NaiveDate) -> NaiveDate {
        from - Duration::days(ACTIVE_WINDOW_DAYS - 1)
    }

    pub fn push(&mut self, event: RollupEvent<'_>) {
        if event.day < self.day || event.day > self.to {
            debug_assert!(
                event.day >= Self::window_start(self.from),
                "events must be sorted by day"
            );
            return;
        }
        while self.day < event.day {
            self.close_day();
        }
        self.today.events += 1;
        if event.is_activity() {
            if let Some(user) = event.user {
                if !self.today.users.contains(user) {
                    self.today.users.insert(user.to_string());
                }
            }
        }
        if event.kind == EventType::Track && !event.event.is_empty() {
            match self.today.features.get_mut(event.event) {
                Some(count) => *count += 1,
                None => {
                    self.today.features.insert(event.event.to_string(), 1);
                }
            }
        }
    }

    /// Closes the remaining days up to `to` and returns the rows.
    pub fn finish(mut self) -> Vec<UsageDaily> {
        while self.day <= self.to {
            self.close_day();
        }
        self.rows
    }

    fn close_day(&mut self) {
        let totals = std::mem::take(&mut self.today);
        for user in &totals.users {
            *self.days_active.entry(user.clone()).or_insert(0) += 1;
        }
        let active_users = totals.users.len() as i64;
        self.window.push_back(totals.users);
        if self.window.len() > ACTIVE_WINDOW_DAYS as usize {
            for user in self.window.pop_front().expect("window is not empty") {
                let left = self.days_active.get_mut(&user).expect("user was counted");
                *left -= 1;
                if *left == 0 {
                    self.days_active.remove(&user);
                }
            }
        }
        if self.day >= self.from && (totals.events > 0 || !self.days_active.is_empty()) {
            self.rows.push(UsageDaily {
                account_id: self.account_id.clone(),
                day: self.day,
                events: totals.events,
                active_users,
                active_users_30d: self.days_active.len() as i64,
                feature_events: totals.features,
            });
        }
        self.day += Duration::days(1);
    }
}

/// Rollups of `[from, to]` from events already in memory; see [`DailyRollupBuilder`].
pub fn daily_rollups<'a>(
    account_id: &str,
    events: impl IntoIterator<Item = RollupEvent<'a>>,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<UsageDaily> {
    let mut builder = DailyRollupBuilder::new(account_id, from, to);
    for event in events {
        builder.push(event);
    }
    builder.finish()
}

/// The usage of one account as health reads it: imported rollups and the rollups of
/// raw events, both in day order, combined day by day.
///
/// The two sources are taken as two views of the same usage, which may overlap (a
/// warehouse's rollups are often built from the very events later streamed raw): on a
/// day with both, each count — events, daily active users, each feature's events — is
/// the larger of the two, so raw events the rollup already counted add nothing and
/// those beyond it are added. The 30-day active users of a day is the larger of the
/// raw events' distinct users in the window and the imported 30-day count of the
/// latest imported day inside the window: users a warehouse counted are assumed to be
/// the same people as the raw events' unless the raw events show more, so the count
/// neither doubles nor collapses where one source hands over to the other.
pub fn combine_usage(imported: &[UsageDaily], from_events: &[UsageDaily]) -> Vec<UsageDaily> {
    if from_events.is_empty() {
        return imported.to_vec();
    }
    if imported.is_empty() {
        return from_events.to_vec();
    }
    let mut combined = Vec::with_capacity(imported.len().max(from_events.len()));
    let (mut i, mut e) = (0, 0);
    // The latest imported row so far, whose 30-day count carries into raw-only days.
    let mut last_imported: Option<&UsageDaily> = None;
    while i < imported.len() || e < from_events.len() {
        let day = match (imported.get(i), from_events.get(e)) {
            (Some(a), Some(b)) => a.day.min(b.day),
            (Some(a), None) => a.day,
            (None, Some(b)) => b.day,
            (None, None) => unreachable!("the loop runs while either has rows"),
        };
        let here = imported.get(i).filter(|r| r.day == day);
        let raw = from_events.get(e).filter(|r| r.day == day);
        if let Some(row) = here {
            last_imported = Some(row);
            i += 1;
        }
        if raw.is_some() {
            e += 1;
        }
        let carried = last_imported
            .filter(|r| (day - r.day).num_days() < ACTIVE_WINDOW_DAYS)
            .map_or(0, |r| r.active_users_30d);
        let row = match (here, raw) {
            (Some(a), Some(b)) => {
                let mut features = a.feature_events.clone();
                for (name, &count) in &b.feature_events {
                    let slot = features.entry(name.clone()).or_insert(0);
                    *slot = (*slot).max(count);
                }
                UsageDaily {
                    account_id: a.account_id.clone(),
                    day,
                    events: a.events.max(b.events),
                    active_users: a.active_users.max(b.active_users),
                    active_users_30d: carried.max(b.active_users_30d),
                    feature_events: features,
                }
            }
            (Some(a), None) => a.clone(),
            (None, Some(b)) => UsageDaily {
                active_users_30d: carried.max(b.active_users_30d),
                ..b.clone()
            },
            (None, None) => unreachable!("the day comes from one of the rows"),
        };
        combined.push(row);
    }
    combined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
    }

    fn track<'a>(d: u32, user: &'a str, event: &'a str) -> RollupEvent<'a> {
        RollupEvent {
            day: day(d),
            kind: EventType::Track,
            user: Some(user),
            event,
        }
    }

    #[test]
    fn counts_events_users_and_features_per_day() {
        let events = [
            track(1, "ann", "report"),
            track(1, "ann", "report"),
            track(1, "bob", "export"),
            RollupEvent {
                day: day(1),
                kind: EventType::Identify,
                user: Some("cy"),
                event: "",
            },
            track(3, "bob", "report"),
        ];
        let rows = daily_rollups("acme", events, day(1), day(3));
        assert_eq!(
            rows.len(),
            3,
            "day 2 has no events but users active in the window"
        );
        assert_eq!(rows[0].events, 4);
        assert_eq!(rows[0].active_users, 2, "identify is not activity");
        assert_eq!(rows[0].active_users_30d, 2);
        assert_eq!(rows[0].feature_events["report"], 2);
        assert_eq!(rows[0].feature_events["export"], 1);
        assert_eq!(
            (
                rows[1].events,
                rows[1].active_users,
                rows[1].active_users_30d
            ),
            (0, 0, 2)
        );
        assert_eq!(
            (
                rows[2].events,
                rows[2].active_users,
                rows[2].active_users_30d
            ),
            (1, 1, 2)
        );
    }

    #[test]
    fn users_leave_the_window_after_thirty_days() {
        let events = [track(1, "ann", "a"), track(2, "bob", "a")];
        let to = day(1) + Duration::days(31);
        let rows = daily_rollups("acme", events, day(1), to);
        let on = |d: NaiveDate| rows.iter().find(|r| r.day == d).map(|r| r.active_users_30d);
        assert_eq!(
            on(day(1) + Duration::days(29)),
            Some(2),
            "day 30 still sees day 1"
        );
        assert_eq!(on(day(1) + Duration::days(30)), Some(1), "ann dropped out");
        assert_eq!(on(day(1) + Duration::days(31)), None, "nobody left: no row");
    }

    #[test]
    fn window_before_from_counts_but_is_not_emitted() {
        let events = [track(1, "ann", "a"), track(20, "bob", "a")];
        let rows = daily_rollups("acme", events, day(20), day(20));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].active_users_30d, 2);
        assert!(daily_rollups("acme", [], day(1), day(5)).is_empty());
    }

    fn row(d: u32, events: i64, dau: i64, mau: i64, features: &[(&str, i64)]) -> UsageDaily {
        UsageDaily {
            account_id: "acme".into(),
            day: day(d),
            events,
            active_users: dau,
            active_users_30d: mau,
            feature_events: features.iter().map(|&(f, n)| (f.to_string(), n)).collect(),
        }
    }

    #[test]
    fn combined_usage_takes_the_larger_count_of_each_day() {
        let imported = [row(1, 10, 4, 9, &[("a", 6)]), row(2, 5, 2, 9, &[])];
        let raw = [row(2, 8, 3, 3, &[("a", 2), ("b", 1)]), row(3, 1, 1, 3, &[])];
        let rows = combine_usage(&imported, &raw);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], imported[0], "an imported-only day is as given");
        assert_eq!(
            (
                rows[1].events,
                rows[1].active_users,
                rows[1].active_users_30d
            ),
            (8, 3, 9),
            "raw events beyond the rollup add; its 30-day users stay"
        );
        assert_eq!(rows[1].feature_events["a"], 2);
        assert_eq!(rows[1].feature_events["b"], 1);
        assert_eq!(
            rows[2].active_users_30d, 9,
            "imported users carry into raw days"
        );
    }

    #[test]
    fn imported_users_carry_for_thirty_days_only() {
        let imported = [row(1, 10, 5, 50, &[])];
        let raw: Vec<UsageDaily> = (2..=31).map(|d| row(d, 3, 2, 20, &[])).collect();
        let rows = combine_usage(&imported, &raw);
        let mau = |d: u32| {
            rows.iter()
                .find(|r| r.day == day(d))
                .unwrap()
                .active_users_30d
        };
        assert_eq!(mau(30), 50, "day 30's window still holds day 1");
        assert_eq!(mau(31), 20, "day 31's window is all raw events");
        assert_eq!(combine_usage(&imported, &[]), imported.to_vec());
        assert_eq!(combine_usage(&[], &raw), raw);
    }
}
