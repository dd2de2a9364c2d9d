//! Figures kept between requests: those too costly to compute for every page view
//! on a large portfolio (the metrics of every period, segment and owner; the renewal
//! pipeline and its forecast), kept by key and served until the data changes.
//!
//! A kept value is *fresh* while no write of customer data by this process has
//! committed since it was computed ([`tend_store::Store::generation`]) and it is younger than the
//! cache's age limit (the limit bounds how late writes of other processes, such as
//! an import from the CLI, show). Once it is not, the old value is still served,
//! marked stale, while one refresh runs in the background: a page never waits for
//! a figure it was shown a moment ago. Only the first request for a key waits.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::app::{App, AppError};

/// Keys kept at most; past it, every key is dropped (they are few: one per owner).
const MAX_KEYS: usize = 1000;

/// A value as the cache gives it.
#[derive(Debug)]
pub struct KeptValue<V> {
    pub value: Arc<V>,
    /// When it was computed.
    pub computed_at: DateTime<Utc>,
    /// The data changed since, and a newer value is being computed.
    pub stale: bool,
}

struct Entry<V> {
    value: Arc<V>,
    generation: u64,
    computed: Instant,
    computed_at: DateTime<Utc>,
    refreshing: bool,
}

type Slot<V> = Arc<tokio::sync::Mutex<Option<Entry<V>>>>;

/// Values of type `V` by key.
pub struct Kept<V> {
    slots: Mutex<HashMap<String, Slot<V>>>,
    max_age: Duration,
}

impl<V: Send + Sync + 'static> Kept<V> {
    /// Values are computed again once older than `max_age`, or after a write.
    pub fn new(max_age: Duration) -> Kept<V> {
        Kept {
            slots: Mutex::new(HashMap::new()),
            max_age,
        }
    }

    fn slot(&self, key: &str) -> Slot<V> {
        let mut slots = self.slots.lock().expect("kept slots lock");
        if slots.len() >= MAX_KEYS && !slots.contains_key(key) {
            slots.clear();
        }
        slots.entry(key.to_string()).or_default().clone()
    }

    /// The value of `key`, computed by `compute` if there is none yet; a stale one
    /// is returned at once while `compute` refreshes it in the background.
    pub async fn get<F, Fut>(
        &self,
        app: &App,
        key: &str,
        compute: F,
    ) -> Result<KeptValue<V>, AppError>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<V, AppError>> + Send + 'static,
    {
        let slot = self.slot(key);
        // Read before computing: a write during the computation leaves the value
        // marked with the older generation, so it is computed again.
        let generation = app.store().generation();
        // Held while a first value is computed: requests for the same key wait for
        // that one computation instead of starting their own.
        let mut entry = slot.lock().await;
        if let Some(kept) = entry.as_mut() {
            let fresh = kept.generation == generation && kept.computed.elapsed() < self.max_age;
            if !fresh && !kept.refreshing {
                kept.refreshing = true;
                tokio::spawn(refresh(slot.clone(), generation, compute()));
            }
            return Ok(KeptValue {
                value: kept.value.clone(),
                computed_at: kept.computed_at,
                stale: !fresh,
            });
        }
        let value = Arc::new(compute().await?);
        let computed_at = Utc::now();
        *entry = Some(Entry {
            value: value.clone(),
            generation,
            computed: Instant::now(),
            computed_at,
            refreshing: false,
        });
        Ok(KeptValue {
            value,
            computed_at,
            stale: false,
        })
    }
}

/// Computes a key's value again and keeps it; on failure keeps the old one (the
/// next request tries again) and says why in the log.
async fn refresh<V>(
    slot: Slot<V>,
    generation: u64,
    computing: impl Future<Output = Result<V, AppError>>,
) {
    let result = computing.await;
    let mut entry = slot.lock().await;
    let Some(kept) = entry.as_mut() else { return };
    kept.refreshing = false;
    match result {
        Ok(value) => {
            kept.value = Arc::new(value);
            kept.generation = generation;
            kept.computed = Instant::now();
            kept.computed_at = Utc::now();
        }
        Err(e) => tracing::warn!(error = %e, "a kept figure could not be computed again"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// An application over a new store, and the folder that holds it.
    async fn app() -> (App, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = tend_store::test_support::sqlite_store(dir.path())
            .await
            .unwrap();
        let scorecards = crate::health::load_scorecards(None).unwrap();
        (App::new(store, scorecards, crate::SystemClock), dir)
    }

    /// Counts its computations; each value is the count so far.
    fn counting(
        calls: &Arc<AtomicU32>,
    ) -> impl FnOnce() -> std::future::Ready<Result<u32, AppError>> {
        let calls = calls.clone();
        move || std::future::ready(Ok(calls.fetch_add(1, Ordering::SeqCst) + 1))
    }

    async fn write(app: &App) {
        let mut tx = app.store().begin().await.unwrap();
        tx.append_audit(Utc::now(), "test", "test.write", "x", "{}")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// Waits for the background refresh to have kept a value other than `old`.
    async fn refreshed(kept: &Kept<u32>, app: &App, calls: &Arc<AtomicU32>, old: u32) -> u32 {
        for _ in 0..200 {
            let got = kept.get(app, "k", counting(calls)).await.unwrap();
            if *got.value != old {
                return *got.value;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the value was never refreshed");
    }

    #[tokio::test]
    async fn a_value_is_kept_until_a_write_then_served_stale_while_it_is_refreshed() {
        let (app, _dir) = app().await;
        let kept = Kept::new(Duration::from_secs(3600));
        let calls = Arc::new(AtomicU32::new(0));
        let first = kept.get(&app, "k", counting(&calls)).await.unwrap();
        assert_eq!((*first.value, first.stale), (1, false));
        let again = kept.get(&app, "k", counting(&calls)).await.unwrap();
        assert_eq!((*again.value, again.stale), (1, false));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        // A read-only transaction changes nothing.
        app.store().begin().await.unwrap().commit().await.unwrap();
        let unchanged = kept.get(&app, "k", counting(&calls)).await.unwrap();
        assert!(!unchanged.stale);

        write(&app).await;
        let stale = kept.get(&app, "k", counting(&calls)).await.unwrap();
        assert_eq!((*stale.value, stale.stale), (1, true));
        assert_eq!(refreshed(&kept, &app, &calls, 1).await, 2);
        let fresh = kept.get(&app, "k", counting(&calls)).await.unwrap();
        assert_eq!((*fresh.value, fresh.stale), (2, false));
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one refresh for the write");
    }

    #[tokio::test]
    async fn a_value_older_than_the_limit_is_refreshed_and_keys_are_apart() {
        let (app, _dir) = app().await;
        let kept = Kept::new(Duration::ZERO);
        let calls = Arc::new(AtomicU32::new(0));
        assert_eq!(
            *kept.get(&app, "k", counting(&calls)).await.unwrap().value,
            1
        );
        assert_eq!(refreshed(&kept, &app, &calls, 1).await, 2);
        let other = kept.get(&app, "other", counting(&calls)).await.unwrap();
        assert!(!other.stale);
        assert!(*other.value > 2);
    }

    #[tokio::test]
    async fn a_failed_first_computation_keeps_nothing_and_a_failed_refresh_keeps_the_old_value() {
        let (app, _dir) = app().await;
        let kept: Kept<u32> = Kept::new(Duration::from_secs(3600));
        let failing = || std::future::ready(Err(AppError::Conflict("no data".into())));
        assert!(kept.get(&app, "k", failing).await.is_err());
        let calls = Arc::new(AtomicU32::new(0));
        assert_eq!(
            *kept.get(&app, "k", counting(&calls)).await.unwrap().value,
            1
        );
        write(&app).await;
        assert!(kept.get(&app, "k", failing).await.unwrap().stale);
        // The failed refresh ended; the next request starts another.
        assert_eq!(refreshed(&kept, &app, &calls, 1).await, 2);
    }
}
