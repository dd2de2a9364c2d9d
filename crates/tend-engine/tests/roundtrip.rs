//! `tend demo --export` writes import files; importing them into an empty store must
//! reproduce the same store contents.

use chrono::NaiveDate;
use tend_demo::DemoConfig;
use tend_engine::export::{export_path, export_store, IMPORT_ORDER};
use tend_engine::{import_file, ImportOptions};
use tend_store::{test_support, Store};

async fn assert_same_contents(a: &Store, b: &Store) {
    assert_eq!(a.counts().await.unwrap(), b.counts().await.unwrap());
    assert_eq!(a.accounts().await.unwrap(), b.accounts().await.unwrap());
    assert_eq!(a.contacts().await.unwrap(), b.contacts().await.unwrap());
    assert_eq!(a.contracts().await.unwrap(), b.contracts().await.unwrap());
    assert_eq!(
        a.usage_events().await.unwrap(),
        b.usage_events().await.unwrap()
    );
    assert_eq!(
        a.usage_daily().await.unwrap(),
        b.usage_daily().await.unwrap()
    );
    assert_eq!(a.tickets().await.unwrap(), b.tickets().await.unwrap());
    assert_eq!(
        a.survey_responses().await.unwrap(),
        b.survey_responses().await.unwrap()
    );
    assert_eq!(a.invoices().await.unwrap(), b.invoices().await.unwrap());
    assert_eq!(a.payments().await.unwrap(), b.payments().await.unwrap());
    assert_eq!(a.activities().await.unwrap(), b.activities().await.unwrap());
    assert_eq!(a.demo_truth().await.unwrap(), b.demo_truth().await.unwrap());
}

#[tokio::test]
async fn demo_export_imports_back_to_the_same_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = DemoConfig {
        accounts: 60,
        months: 12,
        seed: 9,
        as_of: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    };
    let original = Store::connect(&format!(
        "sqlite:{}",
        dir.path().join("original.db").display()
    ))
    .await
    .unwrap();
    let counts = tend_engine::demo::load_demo(&original, &config, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        original.counts().await.unwrap().usage_daily,
        counts.usage_days as i64
    );

    // Raw events too, for two accounts (their rollups are recomputed from them).
    let events: String = (0..200)
        .map(|i| {
            format!(
                "{{\"messageId\":\"m{i}\",\"groupId\":\"ACC-0000{}\",\"userId\":\"u{}\",\"event\":\"reports\",\"properties\":{{\"n\":{i}}},\"timestamp\":\"2026-05-{:02}T12:00:00Z\"}}\n",
                1 + i % 2,
                i % 9,
                1 + i % 30
            )
        })
        .collect();
    let events_path = dir.path().join("events.jsonl");
    std::fs::write(&events_path, events).unwrap();
    import_file(
        &original,
        tend_ingest::Entity::Events,
        &events_path,
        &ImportOptions::default(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(original.counts().await.unwrap().usage_events, 200);

    let files = dir.path().join("export");
    export_store(&original, &files).await.unwrap();

    let copy_dir = dir.path().join("copy");
    std::fs::create_dir_all(&copy_dir).unwrap();
    let mut copies = vec![test_support::sqlite_store(&copy_dir).await.unwrap()];
    copies.extend(
        test_support::postgres_store("demo_export_roundtrip")
            .await
            .unwrap(),
    );
    for copy in copies {
        for &entity in IMPORT_ORDER {
            import_file(
                &copy,
                entity,
                &export_path(&files, entity),
                &ImportOptions::default(),
                &|_| {},
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        }
        assert_same_contents(&original, &copy).await;
    }
}
