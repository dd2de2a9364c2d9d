//! A company's own exports, not the demo: a B2B software vendor (Kestrel) with
//! accounts in four currencies, a warehouse's daily usage rollups up to the end of
//! September, raw Segment calls for October (most without a groupId), tickets,
//! surveys, invoices, payments, a mid-term add-on, an add-on product and a churned
//! account, written as files under the names its tools give them and loaded with
//! `import all`, on SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use tend_core::health::HealthSnapshot;
use tend_core::Currency;
use tend_engine::health::{
    explain_account, key_feature_warnings, load_scorecards, parse_scorecards, portfolio_health,
    rescore, score_day, PortfolioFilter,
};
use tend_engine::summary::load_summary;
use tend_engine::{
    default_day, import_file, import_folder, FolderReport, ImportError, ImportOptions,
};
use tend_ingest::Entity;
use tend_store::{test_support, DataSource, Store, TableCounts};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

/// One account of the company and how its people use the product.
struct Customer {
    id: &'static str,
    currency: &'static str,
    segment: &'static str,
    /// People who use the product; the same people in September and October.
    users: usize,
    seats: i64,
    arr_major: i64,
    /// How October's calls name the account: by `group` calls, or by `identify` calls
    /// whose email is a contact's.
    linked_by_email: bool,
}

const CUSTOMERS: &[Customer] = &[
    Customer {
        id: "orbit",
        currency: "USD",
        segment: "mid-market",
        users: 20,
        seats: 40,
        arr_major: 60_000,
        linked_by_email: false,
    },
    Customer {
        id: "lumen",
        currency: "USD",
        segment: "enterprise",
        users: 60,
        seats: 100,
        arr_major: 200_000,
        linked_by_email: false,
    },
    Customer {
        id: "brise",
        currency: "EUR",
        segment: "mid-market",
        users: 12,
        seats: 30,
        arr_major: 45_000,
        linked_by_email: true,
    },
    Customer {
        id: "nordlicht",
        currency: "EUR",
        segment: "smb",
        users: 6,
        seats: 10,
        arr_major: 12_000,
        linked_by_email: false,
    },
    Customer {
        id: "thames",
        currency: "GBP",
        segment: "mid-market",
        users: 16,
        seats: 25,
        arr_major: 38_000,
        linked_by_email: true,
    },
    Customer {
        id: "sakura",
        currency: "JPY",
        segment: "enterprise",
        users: 30,
        seats: 50,
        arr_major: 12_000_000,
        linked_by_email: false,
    },
    Customer {
        id: "cinder",
        currency: "USD",
        segment: "smb",
        users: 4,
        seats: 5,
        arr_major: 6_000,
        linked_by_email: false,
    },
];

fn minor(c: &Customer, major: i64) -> i64 {
    let digits = Currency::parse(c.currency).unwrap().minor_digits();
    major * 10i64.pow(digits)
}

fn user(c: &Customer, n: usize) -> String {
    format!("{}-user-{n}", c.id)
}

/// The company's exports: every file of the folder, by name.
fn company_files() -> BTreeMap<&'static str, String> {
    let mut files = BTreeMap::new();
    let mut accounts =
        String::from("id,name,created_on,segment,csm_owner,churned_on,churn_reason\n");
    let mut contacts = String::from("id,account_id,name,role,email\n");
    let mut contracts =
        String::from("id,account_id,product,seats,arr_minor,currency,start_date,end_date,status\n");
    for c in CUSTOMERS {
        let churn = if c.id == "cinder" {
            "2026-10-15,budget cuts"
        } else {
            ","
        };
        writeln!(
            accounts,
            "{0},{0} Inc,2024-03-01,{1},sam@kestrel.example,{churn}",
            c.id, c.segment
        )
        .unwrap();
        writeln!(
            contacts,
            "{0}-champion,{0},Champion of {0},champion,champion@{0}.example",
            c.id
        )
        .unwrap();
        for n in 0..c.users {
            writeln!(
                contacts,
                "{0}-u{n},{0},User {n},user,{1}@{0}.example",
                c.id,
                user(c, n)
            )
            .unwrap();
        }
        let arr = minor(c, c.arr_major);
        let term_2026 = if c.id == "cinder" {
            "2025-10-15,2026-10-14,churned"
        } else {
            "2026-01-01,2026-12-31,active"
        };
        writeln!(
            contracts,
            "{0}-2025,{0},Platform,{1},{2},{3},2025-01-01,2025-12-31,renewed",
            c.id, c.seats, arr, c.currency
        )
        .unwrap();
        writeln!(
            contracts,
            "{0}-2026,{0},Platform,{1},{2},{3},{term_2026}",
            c.id, c.seats, arr, c.currency
        )
        .unwrap();
    }
    // A mid-term add-on of the same product (more seats, co-terminous), an add-on
    // product whose units are not seats, and a renewal that really came in lower.
    contracts.push_str("orbit-addon,orbit,Platform,10,1500000,USD,2026-06-01,2026-12-31,active\n");
    contracts.push_str(
        "lumen-analytics,lumen,Analytics Module,500,3000000,USD,2026-01-01,2026-12-31,active\n",
    );
    contracts = contracts.replace(
        "brise-2025,brise,Platform,30,4500000",
        "brise-2025,brise,Platform,30,5000000",
    );
    files.insert("accounts.csv", accounts);
    files.insert("contacts.csv", contacts);
    files.insert("contracts.csv", contracts);
    // Rates as the finance team keeps them; none for JPY.
    files.insert(
        "fx_rates.csv",
        "date,currency,base,rate\n2025-01-01,EUR,USD,1.05\n2026-07-01,EUR,USD,1.10\n2025-01-01,GBP,USD,1.25\n".into(),
    );

    // The warehouse's rollups: September, every day, half the users active each day.
    let mut rollups =
        String::from("account_id,day,events,active_users,active_users_30d,feature_events\n");
    for c in CUSTOMERS {
        for d in 1..=30 {
            let dau = c.users / 2;
            let features = format!(
                "\"{{\"\"Dashboard Viewed\"\":{},\"\"Report Exported\"\":{}}}\"",
                dau * 2,
                dau
            );
            writeln!(
                rollups,
                "{},2026-09-{d:02},{},{dau},{},{features}",
                c.id,
                dau * 3,
                c.users
            )
            .unwrap();
        }
    }
    files.insert("usage_daily.csv", rollups);

    // Raw Segment calls for October (cinder until it churned): the same people, half
    // of them each day, calls without a groupId.
    let mut calls = String::new();
    let mut links = String::new();
    for c in CUSTOMERS {
        let last = if c.id == "cinder" { 14 } else { 31 };
        for d in 1..=last {
            for k in 0..c.users / 2 {
                let n = (k + d as usize * (c.users / 2)) % c.users;
                writeln!(
                    calls,
                    r#"{{"type":"track","messageId":"{id}-{d}-{n}","userId":"{u}","event":"Dashboard Viewed","properties":{{}},"timestamp":"2026-10-{d:02}T09:00:00Z"}}"#,
                    id = c.id,
                    u = user(c, n)
                )
                .unwrap();
            }
        }
        for n in 0..c.users {
            let u = user(c, n);
            if c.linked_by_email {
                writeln!(
                    links,
                    r#"{{"type":"identify","messageId":"{u}-id","userId":"{u}","traits":{{"email":"{}@{}.example"}},"timestamp":"2026-10-01T08:00:00Z"}}"#,
                    u.to_uppercase(),
                    c.id
                )
                .unwrap();
            } else {
                writeln!(
                    links,
                    r#"{{"type":"group","messageId":"{u}-group","userId":"{u}","groupId":"{}","traits":{{}},"timestamp":"2026-10-01T08:00:00Z"}}"#,
                    c.id
                )
                .unwrap();
            }
        }
    }
    // Someone nobody has linked yet, and visitors who never signed in.
    calls.push_str(r#"{"type":"track","messageId":"ghost-1","userId":"ghost","event":"Dashboard Viewed","timestamp":"2026-10-20T10:00:00Z"}"#);
    calls.push('\n');
    for n in 0..5 {
        writeln!(calls, r#"{{"type":"page","messageId":"anon-{n}","anonymousId":"visitor-{n}","name":"Pricing","timestamp":"2026-10-21T10:00:00Z"}}"#).unwrap();
    }
    // The linking calls come after the calls they explain, as a batch export can.
    calls.push_str(&links);
    files.insert("events.jsonl", calls);

    files.insert(
        "Tickets.csv",
        "id,account_id,subject,status,created_at,priority,first_response_at\n\
         t-1,orbit,Export fails,open,2026-10-28T09:00:00Z,high,2026-10-28T09:40:00Z\n\
         t-2,brise,SSO question,solved,2026-10-02T10:00:00Z,normal,2026-10-02T11:00:00Z\n"
            .into(),
    );
    files.insert(
        "survey_responses.csv",
        "id,account_id,kind,score,responded_at\n\
         s-1,orbit,nps,9,2026-09-15T12:00:00Z\n\
         s-2,sakura,nps,4,2026-09-20T12:00:00Z\n\
         s-3,thames,csat,5,2026-10-05T12:00:00Z\n"
            .into(),
    );
    files.insert(
        "invoices.csv",
        "id,account_id,amount_minor,currency,issued_on,due_on,status,paid_on\n\
         i-1,orbit,6000000,USD,2026-01-01,2026-01-31,paid,2026-01-20\n\
         i-2,sakura,12000000,JPY,2026-01-01,2026-02-28,paid,2026-02-10\n"
            .into(),
    );
    files.insert(
        "payments.csv",
        "id,invoice_id,account_id,amount_minor,currency,attempted_at,status\n\
         p-1,i-1,orbit,6000000,USD,2026-01-20T10:00:00Z,succeeded\n\
         p-2,i-2,sakura,12000000,JPY,2026-02-10T10:00:00Z,succeeded\n"
            .into(),
    );
    files
}

fn write_files(dir: &Path, files: &BTreeMap<&str, String>) -> PathBuf {
    let folder = dir.join("exports");
    std::fs::create_dir_all(&folder).unwrap();
    for (name, text) in files {
        std::fs::write(folder.join(name), text).unwrap();
    }
    folder
}

async fn import_company(store: &Store, dir: &Path) -> FolderReport {
    let folder = write_files(dir, &company_files());
    import_folder(store, &folder, &ImportOptions::default(), &|_, _| {})
        .await
        .unwrap()
}

/// A measure's raw value for an account in the day's snapshots.
fn raw(snapshots: &[HealthSnapshot], account: &str, measure: &str) -> Option<f64> {
    let snapshot = snapshots.iter().find(|s| s.account_id == account)?;
    let m = snapshot
        .score
        .measures
        .iter()
        .find(|m| m.measure == measure)?;
    m.raw
}

#[tokio::test]
async fn the_company_lands_whole_and_its_data_reaches_the_end_of_october() {
    test_support::on_every_backend("the_company_lands_whole", |store, dir| async move {
        let report = import_company(&store, &dir).await;
        let names: Vec<String> = report
            .files
            .iter()
            .map(|(p, _, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "accounts.csv",
                "contacts.csv",
                "contracts.csv",
                "fx_rates.csv",
                "invoices.csv",
                "payments.csv",
                "Tickets.csv",
                "survey_responses.csv",
                "usage_daily.csv",
                "events.jsonl"
            ],
            "every file is recognised, referenced entities first"
        );
        let events = &report.files.last().unwrap().2;
        assert_eq!(
            events.anonymous_skipped, 5,
            "anonymous calls without a group are counted, not errors"
        );
        assert_eq!(
            events.pending,
            report.finish.attached + 1,
            "calls before their group (or identify) call are kept, then attached"
        );
        assert_eq!(
            report.finish.waiting, 1,
            "the unlinked user's call still waits"
        );

        // The data ends on October 31: no rollup is written for a later day, and every
        // command defaults to that day.
        let rollups = store.event_usage_daily().await.unwrap();
        assert_eq!(rollups.iter().map(|r| r.day).max(), Some(day(10, 31)));
        assert_eq!(
            store
                .data_extent()
                .await
                .unwrap()
                .last_day(DataSource::Usage),
            Some(day(10, 31))
        );
        assert_eq!(default_day(&store, day(12, 1)).await.unwrap(), day(10, 31));
        assert_eq!(
            default_day(&store, day(10, 20)).await.unwrap(),
            day(10, 20),
            "never past today"
        );
    })
    .await;
}

#[tokio::test]
async fn active_users_hold_across_the_switch_from_rollups_to_raw_events() {
    test_support::on_every_backend(
        "active_users_hold_across_the_switch",
        |store, dir| async move {
            import_company(&store, &dir).await;
            let set = load_scorecards(None).unwrap();
            let mut utilization = Vec::new();
            for on in [
                day(9, 30),
                day(10, 1),
                day(10, 15),
                day(10, 29),
                day(10, 31),
            ] {
                let snapshots = score_day(&store, &set, on).await.unwrap();
                utilization.push(raw(&snapshots, "orbit", "license_utilization").unwrap());
                // The same people in both months: the 30-day count neither doubles nor
                // collapses where the warehouse hands over to raw events.
                for c in CUSTOMERS.iter().filter(|c| c.id != "cinder") {
                    let seats = c.seats + if c.id == "orbit" { 10 } else { 0 };
                    let value = raw(&snapshots, c.id, "license_utilization").unwrap();
                    assert!(
                        (value - c.users as f64 / seats as f64).abs() < 1e-9,
                        "{} on {on}: utilization {value}, {} users of {seats} seats",
                        c.id,
                        c.users
                    );
                }
            }
            assert!(
                utilization.windows(2).all(|w| w[0] == w[1]),
                "{utilization:?}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn contracts_are_read_as_terms_add_ons_and_products() {
    test_support::on_every_backend("contracts_are_read_as_terms", |store, dir| async move {
        import_company(&store, &dir).await;
        let set = load_scorecards(None).unwrap();
        let snapshots = score_day(&store, &set, day(10, 31)).await.unwrap();
        assert_eq!(
            raw(&snapshots, "orbit", "contraction_at_last_renewal"),
            Some(0.0),
            "orbit's June add-on is an expansion, not a renewal below the term"
        );
        assert_eq!(
            raw(&snapshots, "brise", "contraction_at_last_renewal"),
            Some(1.0),
            "brise renewed at EUR 45,000 after EUR 50,000"
        );
        assert_eq!(
            raw(&snapshots, "lumen", "license_utilization"),
            Some(60.0 / 100.0),
            "the Analytics Module's 500 units are not Platform seats"
        );
    })
    .await;
}

#[tokio::test]
async fn money_is_reported_in_one_currency_and_what_cannot_be_converted_is_named() {
    test_support::on_every_backend("money_in_one_currency", |store, dir| async move {
        import_company(&store, &dir).await;
        let summary = load_summary(&store, day(10, 31), None).await.unwrap();
        assert_eq!(
            summary.currency,
            Currency::USD,
            "the currency with the most ARR"
        );
        assert_eq!(
            summary.active_accounts, 6,
            "every active account, whatever its currency"
        );
        // USD 60,000 + 15,000 + 200,000 + 30,000; EUR 57,000 at 1.10; GBP 38,000 at 1.25.
        let expected = (60_000 + 15_000 + 200_000 + 30_000) * 100 + 57_000 * 110 + 38_000 * 125;
        assert_eq!(summary.total_arr.minor, expected);
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            summary.arr_left_out.0.get(&jpy),
            Some(&12_000_000),
            "no JPY rate: said, not hidden"
        );
        assert_eq!(
            summary.retention.cohort_accounts, 7,
            "logos count in every currency"
        );
        assert_eq!(summary.retention.churned_accounts, 1);

        let in_euros = load_summary(&store, day(10, 31), Some(Currency::parse("EUR").unwrap()))
            .await
            .unwrap();
        assert_eq!(in_euros.active_accounts, 6);
        let eur_total = in_euros.total_arr.minor as f64;
        assert!(
            (eur_total - expected as f64 / 1.10).abs() < 10.0,
            "{eur_total}"
        );
    })
    .await;
}

#[tokio::test]
async fn key_features_map_segment_event_names_and_a_mapping_that_matches_nothing_is_said() {
    test_support::on_every_backend("key_features_map_event_names", |store, dir| async move {
        import_company(&store, &dir).await;
        let set = load_scorecards(None).unwrap();
        let snapshots = score_day(&store, &set, day(10, 31)).await.unwrap();
        assert_eq!(raw(&snapshots, "orbit", "feature_adoption"), Some(0.25), "Dashboard Viewed is dashboards");
        let warnings = key_feature_warnings(&store, &set, day(10, 31)).await.unwrap();
        assert!(
            warnings[1].starts_with("scorecard \"standard\": key features alerts, integrations match no event"),
            "only the features this company does not use: {warnings:?}"
        );

        let plain = tend_engine::health::DEFAULT_SCORECARDS.replace(
            "key_features = [\n  { name = \"dashboards\", events = [\"Dashboard *\"] },\n  { name = \"reports\", events = [\"Report *\"] },\n  { name = \"alerts\", events = [\"Alert *\"] },\n  { name = \"integrations\", events = [\"Integration *\"] },\n]",
            "key_features = [\"dashboards\", \"reports\"]",
        );
        let plain = parse_scorecards(&plain, "plain.toml").unwrap();
        let warnings = key_feature_warnings(&store, &plain, day(10, 31)).await.unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[1].starts_with("scorecard \"standard\": key features dashboards, reports match no event seen in the 90 days to 2026-10-31; the most frequent event names are \"Dashboard Viewed\""),
            "{}",
            warnings[1]
        );
    })
    .await;
}

#[tokio::test]
async fn a_churned_account_says_when_it_churned() {
    test_support::on_every_backend("a_churned_account_says_so", |store, dir| async move {
        import_company(&store, &dir).await;
        let set = load_scorecards(None).unwrap();
        let (account, explanation) = explain_account(&store, &set, "cinder", day(10, 31))
            .await
            .unwrap();
        assert_eq!(explanation.day, day(10, 14), "its last day before churning");
        assert_eq!(account.churned_on, Some(day(10, 15)));
        let snapshots = score_day(&store, &set, day(10, 31)).await.unwrap();
        assert!(
            snapshots.iter().all(|s| s.account_id != "cinder"),
            "not scored after churning"
        );

        // In the table of a day before it churned, it is shown with its churn date.
        rescore(&store, &set, day(10, 10), &|_, _| {})
            .await
            .unwrap();
        let (_, rows) = portfolio_health(&store, Some(day(10, 10)), &PortfolioFilter::default())
            .await
            .unwrap();
        let row = rows.iter().find(|r| r.account_id == "cinder").unwrap();
        assert_eq!(row.churned_on, Some(day(10, 15)));
    })
    .await;
}

#[tokio::test]
async fn a_folder_lands_whole_or_not_at_all() {
    test_support::on_every_backend("a_folder_lands_whole_or_not_at_all", |store, dir| async move {
        let mut files = company_files();
        files.get_mut("payments.csv").unwrap().push_str("p-3,i-404,orbit,100,USD,2026-03-01T00:00:00Z,failed\n");
        let folder = write_files(&dir, &files);
        let error = import_folder(&store, &folder, &ImportOptions::default(), &|_, _| {})
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(text.ends_with(
            "nothing was imported; 1 of its files failed:\n  payments.csv: line 4, column 2 (invoice_id): no invoice with id \"i-404\"; import it in invoices first"
        ), "{text}");
        assert_eq!(store.counts().await.unwrap(), TableCounts::default(), "not one file landed");

        // A file the folder does not know is refused by name, unless told to skip it.
        std::fs::remove_file(folder.join("payments.csv")).unwrap();
        std::fs::write(folder.join("notes.txt"), "call Orbit").unwrap();
        let error = import_folder(&store, &folder, &ImportOptions::default(), &|_, _| {})
            .await
            .unwrap_err();
        assert!(matches!(&error, ImportError::UnknownFiles { files, .. } if files.len() == 1), "{error}");
        assert!(error.to_string().contains("not an entity's file: notes.txt"), "{error}");
        let options = ImportOptions { ignore_unknown_files: true, ..ImportOptions::default() };
        let report = import_folder(&store, &folder, &options, &|_, _| {}).await.unwrap();
        assert_eq!(report.ignored, vec![folder.join("notes.txt")]);
        assert_eq!(store.counts().await.unwrap().accounts, CUSTOMERS.len() as i64);

        // Two spellings of one entity cannot both be imported.
        std::fs::write(folder.join("Accounts.CSV"), "id,name,created_on\n").unwrap();
        let error = import_folder(&store, &folder, &options, &|_, _| {}).await.unwrap_err();
        assert!(error.to_string().ends_with("Accounts.CSV and accounts.csv are both accounts files; keep one"), "{error}");
    })
    .await;
}

#[tokio::test]
async fn calls_of_an_unlinked_user_wait_for_the_group_call() {
    test_support::on_every_backend("calls_wait_for_the_group_call", |store, dir| async move {
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let accounts = write("accounts.csv", "id,name,created_on\nacme,Acme,2026-01-01\n");
        let options = ImportOptions::default();
        import_file(&store, Entity::Accounts, &accounts, &options, &|_| {}).await.unwrap();
        let tracks = write(
            "october.jsonl",
            "{\"type\":\"track\",\"messageId\":\"a\",\"userId\":\"u-1\",\"event\":\"Report Exported\",\"timestamp\":\"2026-10-02T10:00:00Z\"}\n\
             {\"type\":\"track\",\"messageId\":\"b\",\"userId\":\"u-1\",\"event\":\"Report Exported\",\"timestamp\":\"2026-10-03T10:00:00Z\"}\n\
             {\"type\":\"page\",\"messageId\":\"c\",\"anonymousId\":\"v-1\",\"name\":\"Home\",\"timestamp\":\"2026-10-03T10:00:00Z\"}\n",
        );
        let first = import_file(&store, Entity::Events, &tracks, &options, &|_| {}).await.unwrap();
        assert_eq!((first.written, first.pending, first.anonymous_skipped), (0, 2, 1));
        assert_eq!(first.waiting, 2);
        assert_eq!(store.counts().await.unwrap().usage_pending, 2);
        // Importing the same file again keeps them once.
        let again = import_file(&store, Entity::Events, &tracks, &options, &|_| {}).await.unwrap();
        assert_eq!((again.pending, again.duplicates), (0, 2));

        let group = write(
            "group.jsonl",
            "{\"type\":\"group\",\"messageId\":\"g\",\"userId\":\"u-1\",\"groupId\":\"acme\",\"timestamp\":\"2026-10-04T10:00:00Z\"}\n",
        );
        let linked = import_file(&store, Entity::Events, &group, &options, &|_| {}).await.unwrap();
        assert_eq!((linked.written, linked.attached, linked.waiting), (1, 2, 0));
        let counts = store.counts().await.unwrap();
        assert_eq!((counts.usage_events, counts.usage_pending), (3, 0));
        let rollups = store.event_usage_daily().await.unwrap();
        assert_eq!(rollups.first().map(|r| (r.day, r.active_users)), Some((day(10, 2), 1)));
        assert_eq!(rollups.last().map(|r| r.day), Some(day(10, 4)), "up to the last day of the data");

        // Later calls of the linked user need no group.
        let later = write(
            "later.csv",
            "message_id,timestamp,type,user_id,event\nd,2026-10-05T09:00:00Z,track,u-1,Report Exported\n",
        );
        let report = import_file(&store, Entity::Events, &later, &options, &|_| {}).await.unwrap();
        assert_eq!((report.written, report.pending), (1, 0));
        let last = store.event_usage_daily().await.unwrap().pop().unwrap();
        assert_eq!((last.day, last.active_users_30d), (day(10, 5), 1));
    })
    .await;
}

#[tokio::test]
async fn rollups_stop_at_the_last_day_of_the_data_and_at_today() {
    test_support::on_every_backend("rollups_stop_at_the_last_day", |store, dir| async move {
        let accounts = dir.join("accounts.csv");
        std::fs::write(&accounts, "id,name,created_on\nacme,Acme,2026-01-01\n").unwrap();
        let options = ImportOptions::default();
        import_file(&store, Entity::Accounts, &accounts, &options, &|_| {}).await.unwrap();
        let one_call = dir.join("call.jsonl");
        std::fs::write(
            &one_call,
            "{\"type\":\"track\",\"messageId\":\"m\",\"userId\":\"u\",\"groupId\":\"acme\",\"event\":\"Login\",\"timestamp\":\"2026-10-01T10:00:00Z\"}\n",
        )
        .unwrap();
        // Imported on September 30 (a clock behind the data): nothing past today.
        let early = ImportOptions { today: Some(day(9, 30)), ..ImportOptions::default() };
        import_file(&store, Entity::Events, &one_call, &early, &|_| {}).await.unwrap();
        assert!(store.event_usage_daily().await.unwrap().is_empty());
        // Imported later: one row, October 1, not the 29 days after it.
        let again = import_file(&store, Entity::Events, &one_call, &options, &|_| {}).await.unwrap();
        assert_eq!(again.duplicates, 1);
        let rows = store.event_usage_daily().await.unwrap();
        assert_eq!(rows.iter().map(|r| r.day).collect::<Vec<_>>(), vec![day(10, 1)]);

        // When later data arrives (another account's call on October 20), the first
        // account's window carries over the new days, and no further.
        let more = dir.join("more.jsonl");
        std::fs::write(
            &accounts,
            "id,name,created_on\nacme,Acme,2026-01-01\nglobex,Globex,2026-01-01\n",
        )
        .unwrap();
        import_file(&store, Entity::Accounts, &accounts, &options, &|_| {}).await.unwrap();
        std::fs::write(
            &more,
            "{\"type\":\"track\",\"messageId\":\"n\",\"userId\":\"v\",\"groupId\":\"globex\",\"event\":\"Login\",\"timestamp\":\"2026-10-20T10:00:00Z\"}\n",
        )
        .unwrap();
        import_file(&store, Entity::Events, &more, &options, &|_| {}).await.unwrap();
        let acme: Vec<NaiveDate> = store
            .event_usage_daily()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.account_id == "acme")
            .map(|r| r.day)
            .collect();
        assert_eq!(acme.first(), Some(&day(10, 1)));
        assert_eq!(acme.last(), Some(&day(10, 20)), "carried to the new last day");
        assert_eq!(acme.len(), 20);
    })
    .await;
}

#[tokio::test]
async fn rates_without_a_base_are_against_the_one_currency_they_do_not_price() {
    test_support::on_every_backend("rates_without_a_base", |store, dir| async move {
        let write = |name: &str, text: &str| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let options = ImportOptions::default();
        let accounts = write("accounts.csv", "id,name,created_on\na,A,2025-01-01\nb,B,2025-01-01\nc,C,2025-01-01\n");
        import_file(&store, Entity::Accounts, &accounts, &options, &|_| {}).await.unwrap();
        let contracts = write(
            "contracts.csv",
            "id,account_id,product,seats,arr_minor,currency,start_date,end_date\n\
             k1,a,P,1,100000,USD,2026-01-01,2026-12-31\nk2,b,P,1,100000,EUR,2026-01-01,2026-12-31\n",
        );
        import_file(&store, Entity::Contracts, &contracts, &options, &|_| {}).await.unwrap();
        let rates = write("fx-rates.csv", "date,currency,rate\n2026-01-01,EUR,1.2\n");
        let report = import_file(&store, Entity::FxRates, &rates, &options, &|_| {}).await.unwrap();
        assert_eq!(report.assumed_base, Some(Currency::USD));
        assert_eq!(store.fx_rates().await.unwrap()[0].base, Currency::USD);

        // With a yen contract too, the rates could be against USD or JPY: refused.
        let more = write(
            "more.csv",
            "id,account_id,product,seats,arr_minor,currency,start_date,end_date\nk3,c,P,1,100000,JPY,2026-01-01,2026-12-31\n",
        );
        import_file(&store, Entity::Contracts, &more, &options, &|_| {}).await.unwrap();
        let error = import_file(&store, Entity::FxRates, &rates, &options, &|_| {}).await.unwrap_err();
        assert!(
            error.to_string().ends_with("fx-rates.csv: line 2, field base: is required: the rates could be against JPY or USD; add a base column or pass --currency"),
            "{error}"
        );
        let in_usd = ImportOptions { reporting_currency: Some(Currency::USD), ..ImportOptions::default() };
        import_file(&store, Entity::FxRates, &rates, &in_usd, &|_| {}).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_company_exports_and_reimports_unchanged() {
    test_support::on_every_backend(
        "the_company_exports_and_reimports",
        |store, dir| async move {
            import_company(&store, &dir).await;
            let exported = dir.join("exported");
            tend_engine::export::export_store(&store, &exported)
                .await
                .unwrap();
            let copy_dir = tempfile::tempdir().unwrap();
            let copy = test_support::sqlite_store(copy_dir.path()).await.unwrap();
            import_folder(&copy, &exported, &ImportOptions::default(), &|_, _| {})
                .await
                .unwrap();
            assert_eq!(copy.counts().await.unwrap(), store.counts().await.unwrap());
            assert_eq!(
                copy.usage_daily().await.unwrap(),
                store.usage_daily().await.unwrap()
            );
            assert_eq!(
                copy.event_usage_daily().await.unwrap(),
                store.event_usage_daily().await.unwrap()
            );
            assert_eq!(
                copy.pending_calls().await.unwrap(),
                store.pending_calls().await.unwrap()
            );
            assert_eq!(
                copy.user_links().await.unwrap(),
                store.user_links().await.unwrap()
            );
            assert_eq!(
                copy.fx_rates().await.unwrap(),
                store.fx_rates().await.unwrap()
            );
            assert_eq!(
                copy.data_extent().await.unwrap(),
                store.data_extent().await.unwrap()
            );
        },
    )
    .await;
}
