//! Importing files as a new user would, good and bad, against every backend.

use std::path::{Path, PathBuf};

use tend_engine::{import_file, ImportError, ImportOptions};
use tend_ingest::Entity;
use tend_store::{test_support, Store, TableCounts};

fn file(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

async fn import(
    store: &Store,
    entity: Entity,
    path: &Path,
) -> Result<tend_engine::ImportReport, ImportError> {
    import_file(store, entity, path, &ImportOptions::default(), &|_| {}).await
}

const ACCOUNTS: &str = "id,name,created_on,segment,parent_id\n\
                        acme-eu,Acme Europe,2023-02-01,smb,acme\n\
                        acme,Acme,2023-01-01,enterprise,\n\
                        globex,Globex,2023-03-01,mid-market,\n";

const CONTRACTS: &str = "id,account_id,product,seats,arr_minor,currency,start_date,end_date\n\
                         k1,acme,Platform,50,6000000,USD,2024-01-01,2024-12-31\n\
                         k2,globex,Platform,10,1200000,USD,2024-01-01,2024-12-31\n";

/// Imports a file that must fail, and checks the message and that nothing changed.
async fn assert_refused(store: &Store, entity: Entity, path: &Path, expected: &[&str]) {
    let before = store.counts().await.unwrap();
    let error = import(store, entity, path)
        .await
        .expect_err("the import must fail")
        .to_string();
    for part in expected {
        assert!(error.contains(part), "{error:?} does not contain {part:?}");
    }
    assert_eq!(
        store.counts().await.unwrap(),
        before,
        "a failed import writes nothing"
    );
}

#[tokio::test]
async fn files_import_and_reimport_without_change() {
    test_support::on_every_backend(
        "files_import_and_reimport_without_change",
        |store, dir| async move {
            let accounts = file(&dir, "accounts.csv", ACCOUNTS.as_bytes());
            let contracts = file(&dir, "contracts.csv", CONTRACTS.as_bytes());
            assert_eq!(
                import(&store, Entity::Accounts, &accounts)
                    .await
                    .unwrap()
                    .written,
                3
            );
            assert_eq!(
                import(&store, Entity::Contracts, &contracts)
                    .await
                    .unwrap()
                    .written,
                2
            );
            let first = (
                store.accounts().await.unwrap(),
                store.contracts().await.unwrap(),
            );
            import(&store, Entity::Accounts, &accounts).await.unwrap();
            import(&store, Entity::Contracts, &contracts).await.unwrap();
            assert_eq!(
                (
                    store.accounts().await.unwrap(),
                    store.contracts().await.unwrap()
                ),
                first
            );
            assert_eq!(
                first.0[1].parent_id.as_deref(),
                Some("acme"),
                "parents may follow children"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn bad_files_get_exact_errors_and_change_nothing() {
    test_support::on_every_backend("bad_files_get_exact_errors_and_change_nothing", |store, dir| async move {
        import(&store, Entity::Accounts, &file(&dir, "accounts.csv", ACCOUNTS.as_bytes())).await.unwrap();

        let wrong_column = file(&dir, "wrong.csv", b"id,account_id,product,sets\nk9,acme,Platform,5\n");
        assert_refused(&store, Entity::Contracts, &wrong_column, &[
            "wrong.csv: line 1, column 4 (sets): unknown column \"sets\"; expected one of: id, account_id, product, seats",
        ])
        .await;

        let bad_date = file(
            &dir,
            "dates.csv",
            b"id,account_id,product,seats,arr_minor,currency,start_date,end_date\nk9,acme,Platform,5,100,USD,2024-02-30,2024-12-31\n",
        );
        assert_refused(&store, Entity::Contracts, &bad_date, &[
            "dates.csv: line 2, column 7 (start_date): must be a date as YYYY-MM-DD, got \"2024-02-30\"",
        ])
        .await;

        let negative = file(
            &dir,
            "seats.csv",
            b"id,account_id,product,seats,arr_minor,currency,start_date,end_date\nk8,acme,Platform,5,100,USD,2024-01-01,2024-12-31\nk9,acme,Platform,-3,100,USD,2024-01-01,2024-12-31\n",
        );
        assert_refused(&store, Entity::Contracts, &negative, &[
            "nothing was imported",
            "seats.csv: line 3, column 4 (seats): must be at least 0, got -3",
        ])
        .await;

        let unknown = file(&dir, "contacts.csv", b"id,account_id,name,role\np1,initech,Peter,champion\n");
        assert_refused(&store, Entity::Contacts, &unknown, &[
            "contacts.csv: line 2, column 2 (account_id): no account with id \"initech\"; import it in accounts first",
        ])
        .await;

        let latin1 = file(&dir, "latin1.csv", b"id,name,created_on\nz1,Caf\xe9 Z,2024-01-01\n");
        assert_refused(&store, Entity::Accounts, &latin1, &["latin1.csv: line 2, column 2 (name): not valid UTF-8"]).await;

        let truncated = file(
            &dir,
            "accounts.jsonl",
            b"{\"id\":\"z1\",\"name\":\"Zed\",\"created_on\":\"2024-01-01\"}\n{\"id\":\"z2\",\"name\":\"Ze\n",
        );
        assert_refused(&store, Entity::Accounts, &truncated, &["accounts.jsonl: line 2, column ", "truncated JSON"]).await;

        let repeated = file(&dir, "twice.csv", b"id,name,created_on\nz1,Zed,2024-01-01\nz1,Zed again,2024-01-01\n");
        assert_refused(&store, Entity::Accounts, &repeated, &["twice.csv: line 3: \"z1\" is already on line 2 of this file"]).await;

        let events = file(
            &dir,
            "events.jsonl",
            b"{\"messageId\":\"m1\",\"groupId\":\"acme\",\"userId\":\"u\",\"event\":\"e\",\"timestamp\":\"2024-05-01T10:00:00Z\"}\n{\"messageId\":\"m2\",\"groupId\":\"nobody\",\"userId\":\"u\",\"event\":\"e\",\"timestamp\":\"2024-05-01T10:00:00Z\"}\n",
        );
        assert_refused(&store, Entity::Events, &events, &[
            "events.jsonl: line 2, field groupId: no account with id \"nobody\"",
        ])
        .await;
    })
    .await;
}

#[tokio::test]
async fn skip_invalid_loads_good_rows_and_reports_the_rest() {
    test_support::on_every_backend("skip_invalid_loads_good_rows_and_reports_the_rest", |store, dir| async move {
        import(&store, Entity::Accounts, &file(&dir, "accounts.csv", ACCOUNTS.as_bytes())).await.unwrap();
        let path = file(
            &dir,
            "surveys.csv",
            b"id,account_id,kind,score,responded_at\ns1,acme,nps,9,2024-05-01T10:00:00Z\ns2,acme,csat,7,2024-05-01T10:00:00Z\ns3,acme,nps,3,2024-05-02T10:00:00Z\n",
        );
        let options = ImportOptions { skip_invalid: true, ..ImportOptions::default() };
        let report = import_file(&store, Entity::SurveyResponses, &path, &options, &|_| {}).await.unwrap();
        assert_eq!((report.written, report.rejected), (2, 1));
        let side = report.rejects_file.unwrap();
        assert_eq!(side, dir.join("surveys.csv.rejected.jsonl"));
        let rejected: serde_json::Value = serde_json::from_str(std::fs::read_to_string(side).unwrap().trim()).unwrap();
        assert_eq!(rejected["line"], 3);
        assert_eq!(rejected["field"], "score");
        assert_eq!(rejected["reason"], "csat scores run from 1 to 5, got 7");
        assert_eq!(rejected["row"], "s2,acme,csat,7,2024-05-01T10:00:00Z");
        assert_eq!(store.counts().await.unwrap().survey_responses, 2);
    })
    .await;
}

#[tokio::test]
async fn events_stream_in_with_duplicates_dropped_and_rollups_built() {
    test_support::on_every_backend("events_stream_in_with_duplicates_dropped_and_rollups_built", |store, dir| async move {
        import(&store, Entity::Accounts, &file(&dir, "accounts.csv", ACCOUNTS.as_bytes())).await.unwrap();
        let mut lines = String::new();
        for i in 0..25_000 {
            // Calls 20,000–24,999 are retries of the first 5,000, byte for byte.
            let j = i % 20_000;
            let day = 1 + j % 28;
            lines.push_str(&format!(
                "{{\"type\":\"track\",\"messageId\":\"m{j}\",\"userId\":\"u{}\",\"event\":\"report\",\"context\":{{\"groupId\":\"{}\"}},\"timestamp\":\"2024-02-{day:02}T10:00:00Z\"}}\n",
                j % 7,
                if j % 2 == 0 { "acme" } else { "globex" },
            ));
        }
        let path = file(&dir, "events.jsonl", lines.as_bytes());
        let report = import(&store, Entity::Events, &path).await.unwrap();
        assert_eq!((report.written, report.duplicates), (20_000, 5_000));
        let counts = store.counts().await.unwrap();
        assert_eq!(counts.usage_events, 20_000);
        // acme has events on odd days 1–27 of February 2024, globex on even days 2–28;
        // each gets a row from its first event day to the last day of the data,
        // February 28, and none after it: 28 + 27 rows.
        assert_eq!(counts.usage_event_daily, 28 + 27);
        assert_eq!(counts.usage_daily, 0, "imported rollups are another table");
        let rollups = store.event_usage_daily().await.unwrap();
        let first = rollups.iter().find(|r| r.account_id == "acme").unwrap();
        assert!(first.active_users > 0 && first.active_users_30d >= first.active_users);

        let again = import(&store, Entity::Events, &path).await.unwrap();
        assert_eq!((again.written, again.duplicates), (0, 25_000));
        assert_eq!(store.counts().await.unwrap(), counts, "a second run changes nothing");
        assert_eq!(store.event_usage_daily().await.unwrap(), rollups);
    })
    .await;
}

#[tokio::test]
async fn payments_need_their_invoice() {
    test_support::on_every_backend("payments_need_their_invoice", |store, dir| async move {
        import(&store, Entity::Accounts, &file(&dir, "accounts.csv", ACCOUNTS.as_bytes())).await.unwrap();
        let payments = file(
            &dir,
            "payments.jsonl",
            b"{\"id\":\"p1\",\"invoice_id\":\"i404\",\"account_id\":\"acme\",\"amount_minor\":100,\"currency\":\"USD\",\"attempted_at\":\"2024-01-01T00:00:00Z\",\"status\":\"failed\"}\n",
        );
        assert_refused(&store, Entity::Payments, &payments, &["line 1, field invoice_id: no invoice with id \"i404\""]).await;
        assert_eq!(store.counts().await.unwrap(), TableCounts { accounts: 3, ..TableCounts::default() });
    })
    .await;
}
