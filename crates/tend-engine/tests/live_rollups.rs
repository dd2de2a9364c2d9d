//! Live calls keep the rollups of raw events by adding what each batch changes; after
//! many batches — late events weeks back, retries, new and returning users,
//! anonymous visitors, identify calls — the rollups equal a recomputation from the
//! raw events, on every backend.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use tend_core::rollup::{daily_rollups, RollupEvent};
use tend_core::{Account, LifecycleStage};
use tend_engine::import::commit_calls;
use tend_ingest::segment::{parse_live_call, LiveCall, LiveDefaults};
use tend_store::{test_support, Store};

const ACCOUNTS: [&str; 12] = [
    "north", "south", "east", "west", "alder", "birch", "cedar", "elm", "fir", "hazel", "larch",
    "maple",
];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

fn noon(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap())
}

/// A small deterministic generator (xorshift), so a failure repeats.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

fn call(json: serde_json::Value) -> LiveCall {
    let defaults = LiveDefaults {
        kind: None,
        timestamp: "2026-06-30T12:00:00Z",
    };
    parse_live_call(&json.to_string(), &defaults).unwrap()
}

async fn add_accounts(store: &Store) {
    let accounts: Vec<Account> = ACCOUNTS
        .iter()
        .map(|id| Account {
            id: id.to_string(),
            name: id.to_string(),
            parent_id: None,
            segment: None,
            tier: None,
            industry: None,
            region: None,
            lifecycle_stage: Some(LifecycleStage::Adoption),
            csm_owner: None,
            am_owner: None,
            created_on: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            churned_on: None,
            churn_reason: None,
        })
        .collect();
    let mut tx = store.begin().await.unwrap();
    tx.upsert_accounts(&accounts).await.unwrap();
    tx.commit().await.unwrap();
}

/// One random call: mostly track calls today, some weeks late, some retried.
fn random_call(dice: &mut Dice, n: u64, sent: &mut Vec<serde_json::Value>) -> serde_json::Value {
    if !sent.is_empty() && dice.roll(10) == 0 {
        return sent[dice.roll(sent.len() as u64) as usize].clone(); // a retry
    }
    let account = ACCOUNTS[dice.roll(ACCOUNTS.len() as u64) as usize];
    let back = match dice.roll(30) {
        0 => dice.roll(45),
        1 | 2 => dice.roll(5),
        _ => 0,
    };
    let at = noon(today() - Duration::days(back as i64)) + Duration::seconds(n as i64);
    let mut call = serde_json::json!({
        "messageId": format!("m-{n}"),
        "timestamp": at.to_rfc3339(),
        "context": {"groupId": account},
    });
    let user = format!("{account}-u{}", dice.roll(8));
    match dice.roll(10) {
        0 => call["anonymousId"] = format!("anon-{}", dice.roll(4)).into(),
        _ => call["userId"] = user.into(),
    }
    match dice.roll(10) {
        0 => call["type"] = "identify".into(),
        1 => call["type"] = "page".into(),
        _ => {
            call["type"] = "track".into();
            call["event"] = ["Report Run", "Export", "Invite Sent"][dice.roll(3) as usize].into();
        }
    }
    sent.push(call.clone());
    call
}

#[tokio::test]
async fn rollups_kept_live_equal_a_recomputation_from_raw_events() {
    test_support::on_every_backend("live_rollups", |store, _| async move {
        add_accounts(&store).await;
        let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
        let mut sent = Vec::new();
        let mut n = 0;
        // The first batch reaches today, so the rest stay within the data's last day,
        // and has every user active ten days ago: most of them return today.
        let mut first: Vec<LiveCall> = (0..30)
            .map(|_| {
                n += 1;
                call(random_call(&mut dice, n, &mut sent))
            })
            .collect();
        for account in ACCOUNTS {
            for user in 0..8 {
                let at = noon(today() - Duration::days(10)).to_rfc3339();
                first.push(call(serde_json::json!({
                    "type": "track", "event": "Export", "messageId": format!("back-{account}-{user}"),
                    "userId": format!("{account}-u{user}"), "timestamp": at,
                    "context": {"groupId": account},
                })));
            }
        }
        commit_calls(&store, noon(today()), first).await.unwrap();
        for batch in 0..80 {
            let size = 1 + dice.roll(60);
            let calls: Vec<LiveCall> = (0..size)
                .map(|_| {
                    n += 1;
                    call(random_call(&mut dice, n, &mut sent))
                })
                .collect();
            commit_calls(&store, noon(today()), calls).await.unwrap();
            assert_rollups_are_recomputed(&store, batch).await;
        }

        let events = store.usage_events().await.unwrap();
        assert!(events.len() > 1000, "{} events", events.len());
    })
    .await;
}

/// The rollups kept equal a recomputation from the raw events stored.
async fn assert_rollups_are_recomputed(store: &Store, batch: usize) {
    let events = store.usage_events().await.unwrap();
    let kept = store.event_usage_daily().await.unwrap();
    let mut recomputed = Vec::new();
    for account in ACCOUNTS {
        let mut mine: Vec<_> = events.iter().filter(|e| e.account_id == account).collect();
        mine.sort_by_key(|e| e.timestamp);
        let Some(first) = mine.first().map(|e| e.timestamp.date_naive()) else {
            continue;
        };
        let pushed = mine.iter().map(|e| RollupEvent {
            day: e.timestamp.date_naive(),
            kind: e.kind,
            user: e.user_id.as_deref().or(e.anonymous_id.as_deref()),
            event: &e.event,
        });
        recomputed.extend(daily_rollups(account, pushed, first, today()));
    }
    recomputed.sort_by(|a, b| (&a.account_id, a.day).cmp(&(&b.account_id, b.day)));
    assert_eq!(
        kept.len(),
        recomputed.len(),
        "rows kept and recomputed after batch {batch}"
    );
    for (kept, recomputed) in kept.iter().zip(&recomputed) {
        assert_eq!(kept, recomputed, "after batch {batch}");
    }
}
