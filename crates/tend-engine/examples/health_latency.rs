//! Latency of the incremental health path: store a batch of usage events for one
//! account and get its new health snapshot back, many times over.
//!
//!     cargo run --release -p tend-engine --example health_latency -- DATABASE_URL [BATCHES]
//!
//! Writes events into the database it is given (use a copy). Prints p50/p95/p99/max.

use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use tend_core::{EventType, UsageEvent};
use tend_engine::default_day;
use tend_engine::health::{load_scorecards, rescore, store_events};
use tend_store::Store;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .expect("usage: health_latency DATABASE_URL [BATCHES]");
    let batches: usize = args.next().map_or(1000, |n| n.parse().expect("a number"));
    let store = Store::connect(&url).await.expect("the database opens");
    let set = load_scorecards(None).expect("the default scorecards load");
    let today = Utc::now().date_naive();
    let day = default_day(&store, today).await.expect("a day to score");
    if store
        .health_snapshots_on(day)
        .await
        .expect("reads")
        .is_empty()
    {
        rescore(&store, &set, day, &|_, _| {})
            .await
            .expect("rescore");
    }
    let accounts: Vec<String> = store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .filter(|a| a.churned_on.is_none() && a.created_on <= day)
        .map(|a| a.id)
        .collect();
    let mut latencies = Vec::with_capacity(batches);
    for i in 0..batches {
        // A spread of accounts, each batch 50 track calls from 10 users on the day.
        let account = &accounts[(i * 7919) % accounts.len()];
        let events: Vec<UsageEvent> = (0..50)
            .map(|n| UsageEvent {
                message_id: format!("latency-{i}-{n}"),
                account_id: account.clone(),
                kind: EventType::Track,
                user_id: Some(format!("latency-user-{}", n % 10)),
                anonymous_id: None,
                event: ["Dashboard Viewed", "Report Exported", "Alert Created"][n % 3].to_string(),
                properties: "{}".to_string(),
                timestamp: Utc.from_utc_datetime(&at(day, n as u32 % 10)),
            })
            .collect();
        let started = Instant::now();
        let stored = store_events(&store, &set, &events, day)
            .await
            .expect("the batch is stored");
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(stored.snapshots.len(), 1, "one fresh snapshot per batch");
    }
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "{batches} batches of 50 events, each stored with its rollups and the account's health \
         rescored ({} accounts, as of {day}): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        accounts.len(),
        pick(0.5),
        pick(0.95),
        pick(0.99),
        latencies[latencies.len() - 1]
    );
}

fn at(day: NaiveDate, hour: u32) -> chrono::NaiveDateTime {
    day.and_hms_opt(9 + hour, 0, 0).expect("a valid time")
}
