//! Daily usage rollups of one account, computed from its raw events.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use chrono::{Duration, NaiveDate};

use crate::model::{EventType, UsageDaily};

/// Days in the trailing window of `active_users_30d`, the day itself included.
pub const ACTIVE_WINDOW_DAYS: i64 = 30;

/// What the rollup needs of one event.
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

/// Rollups for each day of `[from, to]` (both inclusive) on which the account had
/// events or users active in the trailing 30 days.
///
/// `events` must be sorted by day and must include the 29 days before `from`, so that
/// the trailing window of `from` is complete; earlier events are ignored.
pub fn daily_rollups<'a>(
    account_id: &str,
    events: impl IntoIterator<Item = RollupEvent<'a>>,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<UsageDaily> {
    let window_start = from - Duration::days(ACTIVE_WINDOW_DAYS - 1);
    let mut events = events
        .into_iter()
        .filter(|e| e.day >= window_start)
        .peekable();
    let mut rows = Vec::new();
    // Users of each day still inside the window, oldest first, and how many of those
    // days each user appears in: the window's distinct users are the map's keys.
    let mut window: VecDeque<HashSet<&'a str>> = VecDeque::new();
    let mut days_active: HashMap<&'a str, u32> = HashMap::new();
    let mut day = window_start;
    while day <= to {
        let mut count = 0i64;
        let mut users = HashSet::new();
        let mut features = BTreeMap::new();
        while let Some(event) = events.next_if(|e| e.day <= day) {
            debug_assert_eq!(event.day, day, "events must be sorted by day");
            count += 1;
            if event.is_activity() {
                if let Some(user) = event.user {
                    users.insert(user);
                }
            }
            if event.kind == EventType::Track && !event.event.is_empty() {
                *features.entry(event.event.to_string()).or_insert(0i64) += 1;
            }
        }
        for &user in &users {
            *days_active.entry(user).or_insert(0) += 1;
        }
        let active_users = users.len() as i64;
        window.push_back(users);
        if window.len() > ACTIVE_WINDOW_DAYS as usize {
            for user in window.pop_front().expect("window is not empty") {
                let left = days_active.get_mut(user).expect("user was counted");
                *left -= 1;
                if *left == 0 {
                    days_active.remove(user);
                }
            }
        }
        if day >= from && (count > 0 || !days_active.is_empty()) {
            rows.push(UsageDaily {
                account_id: account_id.to_string(),
                day,
                events: count,
                active_users,
                active_users_30d: days_active.len() as i64,
                feature_events: features,
            });
        }
        day += Duration::days(1);
    }
    rows
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
}
