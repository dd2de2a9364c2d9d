//! Login throttling: failed sign-ins are counted per email and per client address
//! over a sliding window; past the limit, sign-in is refused until the oldest
//! failure leaves the window. Kept in memory: one process serves a store.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window failures are counted over.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures allowed in the window for one email, and for one address.
pub const PER_EMAIL: usize = 5;
pub const PER_ADDRESS: usize = 20;
/// Keys tracked at most; the oldest are dropped beyond (bounds memory under attack).
const MAX_KEYS: usize = 100_000;

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// `Err(seconds to wait)` when `key` has `limit` failures in the window.
    pub fn check(&self, key: &str, limit: usize, now: Instant) -> Result<(), u64> {
        let mut failures = self.failures.lock().expect("throttle lock");
        let Some(times) = failures.get_mut(key) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() < limit {
            return Ok(());
        }
        let oldest = *times.front().expect("at least `limit` failures");
        let wait = WINDOW.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs().max(1))
    }

    pub fn fail(&self, key: &str, now: Instant) {
        let mut failures = self.failures.lock().expect("throttle lock");
        if failures.len() >= MAX_KEYS && !failures.contains_key(key) {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
            if failures.len() >= MAX_KEYS {
                failures.clear();
            }
        }
        failures.entry(key.to_string()).or_default().push_back(now);
    }

    pub fn clear(&self, key: &str) {
        self.failures.lock().expect("throttle lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(throttle.check("k", 3, start).is_ok());
            throttle.fail("k", start);
        }
        let wait = throttle.check("k", 3, start).unwrap_err();
        assert!(wait > 800 && wait <= 900, "{wait}");
        assert!(throttle.check("k", 3, start + WINDOW).is_ok());
        throttle.clear("k");
        assert!(throttle.check("k", 3, start).is_ok());
    }
}
