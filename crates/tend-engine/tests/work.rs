//! The work engine against real stores: a playbook's task made exactly once (the same
//! change twice, two runs racing), closed when its trigger clears, held back by the
//! re-entry period; snoozed tasks opening again; owners by role and by pool; books
//! of business on task writes; every change audited and told to webhooks.

use chrono::{DateTime, NaiveDate, Utc};
use tend_core::*;
use tend_demo::Company;
use tend_engine::access::{add_user, NewUser};
use tend_engine::demo::write_company;
use tend_engine::playbooks::run::run_for_accounts;
use tend_engine::playbooks::{parse_playbooks, run_playbooks, PlaybookSet, TaskChanges};
use tend_engine::{Actor, App, AppError, FixedClock};
use tend_store::Store;

mod common;
use common::on_every_backend;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn noon(on: &str) -> DateTime<Utc> {
    day(on).and_hms_opt(12, 0, 0).unwrap().and_utc()
}

/// Dunning: an invoice unpaid past its due day. Pools hand out the smb tasks.
const PLAYBOOKS: &str = "
[[playbook]]
name = \"dunning\"
reentry_days = 30
[[playbook.trigger]]
signal = \"invoice_overdue\"
days = 0
[playbook.when]
segment = [\"mid\"]
[playbook.task]
kind = \"risk\"
title = \"Collect from {account}\"
description = \"{evidence}.\"
priority = \"high\"
due_days = 7
assign = \"csm\"
[[playbook.task.step]]
title = \"Call the billing contact\"
due_days = 2

[[playbook]]
name = \"dunning-smb\"
auto_close = false
[[playbook.trigger]]
signal = \"invoice_overdue\"
[playbook.when]
segment = [\"smb\"]
[playbook.task]
kind = \"risk\"
title = \"Collect from {account}\"
assign = { pool = [\"ana\", \"ben\"], how = \"round_robin\" }

[[playbook]]
name = \"dunning-escalation\"
auto_close = false
[[playbook.trigger]]
signal = \"invoice_overdue\"
days = 30
[playbook.task]
kind = \"risk\"
title = \"Escalate {account}'s unpaid invoice\"
assign = \"team_lead\"

[[playbook]]
name = \"renewal\"
auto_close = false
[[playbook.trigger]]
signal = \"renewal_within\"
days = 90
[playbook.task]
kind = \"renewal\"
title = \"Renew {account}\"
assign = \"am\"

[[playbook]]
name = \"pooled\"
auto_close = false
[[playbook.trigger]]
signal = \"renewal_within\"
days = 90
[playbook.when]
segment = [\"smb\"]
[playbook.task]
kind = \"renewal\"
title = \"Renew {account} (pool)\"
assign = { team = \"scale\", how = \"least_loaded\" }
";

fn account(id: &str, segment: &str, csm: &str, am: Option<&str>) -> Account {
    Account {
        id: id.into(),
        name: format!("{id} Inc."),
        parent_id: None,
        segment: Some(segment.into()),
        tier: None,
        industry: None,
        region: None,
        lifecycle_stage: None,
        csm_owner: Some(csm.into()),
        am_owner: am.map(String::from),
        created_on: day("2025-01-01"),
        churned_on: None,
        churn_reason: None,
    }
}

fn invoice(id: &str, account: &str, due: &str, paid: Option<&str>) -> Invoice {
    Invoice {
        id: id.into(),
        account_id: account.into(),
        amount: Money::new(500_000, Currency::USD),
        issued_on: day("2026-04-01"),
        due_on: day(due),
        paid_on: paid.map(day),
        status: if paid.is_some() {
            InvoiceStatus::Paid
        } else {
            InvoiceStatus::Open
        },
    }
}

fn contract(account: &str, renewal: &str) -> Contract {
    Contract {
        id: format!("{account}-c"),
        account_id: account.into(),
        product: "Platform".into(),
        seats: 10,
        arr: Money::new(2_400_000, Currency::USD),
        start_date: day("2025-09-01"),
        end_date: day(renewal).pred_opt().unwrap(),
        renewal_date: day(renewal),
        auto_renew: false,
        notice_days: 30,
        status: ContractStatus::Active,
    }
}

/// Mid-market A and B (Jane's), smb S1–S4 (Lee's): A, B and the smb accounts owe an
/// invoice due 2026-05-01; A and S1–S3 renew in September.
fn company() -> Company {
    let mut c = Company::default();
    c.accounts.push(account("A", "mid", "jane", Some("omar")));
    c.accounts.push(account("B", "mid", "jane", None));
    for n in 1..=4 {
        c.accounts
            .push(account(&format!("S{n}"), "smb", "lee", None));
    }
    for id in ["A", "B", "S1", "S2", "S3", "S4"] {
        c.invoices
            .push(invoice(&format!("{id}-inv"), id, "2026-05-01", None));
    }
    for id in ["A", "S1", "S2", "S3"] {
        c.contracts.push(contract(id, "2026-09-01"));
    }
    c
}

fn playbooks() -> PlaybookSet {
    let mut set = PlaybookSet::default();
    set.playbooks = parse_playbooks(PLAYBOOKS, "work.toml").unwrap();
    set.origins = vec!["work.toml".into(); set.playbooks.len()];
    set
}

async fn app_on(store: Store, now: &str) -> App {
    for (handle, role) in [
        ("jane", Role::Csm),
        ("lee", Role::Csm),
        ("ana", Role::Csm),
        ("ben", Role::Csm),
        ("cora", Role::Csm),
        ("dev", Role::Csm),
        ("omar", Role::Am),
        ("lena", Role::Leader),
        ("max", Role::Leader),
    ] {
        let new = NewUser {
            handle: handle.into(),
            email: format!("{handle}@vendor.example"),
            name: handle.into(),
            role,
            password: None,
        };
        if add_user(&store, "cli", new, noon(now)).await.is_ok() {
            let team = match handle {
                "cora" | "dev" => Some("scale"),
                "lee" | "max" => Some("smb"),
                _ => None,
            };
            let mut tx = store.begin().await.unwrap();
            tx.set_user_team(handle, team).await.unwrap();
            tx.commit().await.unwrap();
        }
    }
    let scorecards = tend_engine::health::load_scorecards(None).unwrap();
    App::new(store, scorecards, FixedClock(noon(now))).with_playbooks(playbooks())
}

/// The same store seen at a later time.
fn later(app: &App, now: &str) -> App {
    App::new(
        app.store().clone(),
        app.scorecards().clone(),
        FixedClock(noon(now)),
    )
    .with_playbooks(playbooks())
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

async fn tasks_of(store: &Store, playbook: &str) -> Vec<tend_store::TaskRecord> {
    let filter = tend_store::TaskFilter {
        playbook: Some(playbook.into()),
        ..Default::default()
    };
    store.tasks(&filter, None, 100).await.unwrap()
}

fn user(handle: &str, role: Role) -> Actor {
    Actor {
        name: format!("user:{handle}"),
        role,
        book: matches!(role, Role::Csm | Role::Am).then(|| handle.to_string()),
    }
}

#[tokio::test]
async fn a_task_is_made_once_whatever_is_delivered_twice_or_races() {
    on_every_backend("work_once", &company(), |store| async move {
        let app = app_on(store.clone(), "2026-05-02").await;
        let on = day("2026-05-02");
        let (created, _) = run_for_accounts(&app, &ids(&["A"]), on).await.unwrap();
        assert_eq!(created, 1);
        // The same change again: nothing more.
        assert_eq!(
            run_for_accounts(&app, &ids(&["A"]), on).await.unwrap(),
            (0, 0)
        );
        // Two runs racing over B: one task.
        let other = later(&app, "2026-05-02");
        let b = ids(&["B"]);
        let (first, second) = tokio::join!(
            run_for_accounts(&app, &b, on),
            run_for_accounts(&other, &b, on)
        );
        assert_eq!(first.unwrap().0 + second.unwrap().0, 1);
        let tasks = tasks_of(&store, "dunning").await;
        let accounts: Vec<&str> = tasks.iter().map(|t| t.account_id.as_str()).collect();
        assert_eq!(accounts, ["A", "B"]);
        let a = &tasks[0];
        assert_eq!(a.title, "Collect from A Inc.");
        assert_eq!(a.owner.as_deref(), Some("jane"));
        assert_eq!(a.due_on, day("2026-05-09"));
        assert_eq!(
            a.description,
            "invoice A-inv was due on 2026-05-01 and is unpaid."
        );
        assert_eq!(a.signal.as_deref(), Some("invoice_overdue"));
        let detail = app.task(&Actor::cli(), a.id).await.unwrap();
        assert_eq!(detail.steps.len(), 1);
        assert_eq!(detail.steps[0].due_on, day("2026-05-04"));
        let audit = store.audit_log(100).await.unwrap();
        let made: Vec<_> = audit.iter().filter(|e| e.action == "task.create").collect();
        assert_eq!(made.len(), 2, "one task for A, one for B");
        assert!(made
            .iter()
            .any(|e| e.actor == "playbook:dunning" && e.target == a.id.to_string()));
    })
    .await;
}

#[tokio::test]
async fn a_task_closes_when_its_trigger_clears_and_waits_out_reentry() {
    on_every_backend("work_close", &company(), |store| async move {
        let app = app_on(store.clone(), "2026-05-02").await;
        run_for_accounts(&app, &ids(&["A"]), day("2026-05-02"))
            .await
            .unwrap();
        // Paid on the 10th.
        let mut paid = Company::default();
        paid.invoices
            .push(invoice("A-inv", "A", "2026-05-01", Some("2026-05-10")));
        let mut tx = store.begin().await.unwrap();
        write_company(&mut tx, &paid).await.unwrap();
        tx.commit().await.unwrap();
        let app = later(&app, "2026-05-10");
        assert_eq!(
            run_for_accounts(&app, &ids(&["A"]), day("2026-05-10"))
                .await
                .unwrap(),
            (0, 1)
        );
        let task = &tasks_of(&store, "dunning").await[0];
        assert_eq!(task.status, "done");
        assert!(task
            .status_reason
            .as_deref()
            .unwrap()
            .starts_with("the trigger cleared: no longer an invoice is unpaid"));
        // Overdue again before 30 days have passed: nothing; after: a new task.
        let mut again = Company::default();
        again
            .invoices
            .push(invoice("A-inv2", "A", "2026-05-20", None));
        let mut tx = store.begin().await.unwrap();
        write_company(&mut tx, &again).await.unwrap();
        tx.commit().await.unwrap();
        let app = later(&app, "2026-06-01");
        let (created, _) = run_for_accounts(&app, &ids(&["A"]), day("2026-06-01"))
            .await
            .unwrap();
        assert_eq!(tasks_of(&store, "dunning").await.len(), 1, "{created}");
        let app = later(&app, "2026-06-09");
        run_for_accounts(&app, &ids(&["A"]), day("2026-06-09"))
            .await
            .unwrap();
        let tasks = tasks_of(&store, "dunning").await;
        assert_eq!(tasks.len(), 2);
        assert!(tasks[1].is_open());
    })
    .await;
}

#[tokio::test]
async fn owners_come_by_role_and_by_pool() {
    on_every_backend("work_owners", &company(), |store| async move {
        let app = app_on(store.clone(), "2026-06-05").await;
        let all = ids(&["A", "B", "S1", "S2", "S3", "S4"]);
        run_for_accounts(&app, &all, day("2026-06-05"))
            .await
            .unwrap();
        let owner_of = |tasks: &[tend_store::TaskRecord]| -> Vec<(String, String)> {
            tasks
                .iter()
                .map(|t| (t.account_id.clone(), t.owner.clone().unwrap_or_default()))
                .collect()
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(a, o)| (a.to_string(), o.to_string()))
                .collect()
        };
        // Round robin over the pool, in account order.
        assert_eq!(
            owner_of(&tasks_of(&store, "dunning-smb").await),
            pairs(&[("S1", "ana"), ("S2", "ben"), ("S3", "ana"), ("S4", "ben")])
        );
        // The account manager, or the CSM without one.
        assert_eq!(
            owner_of(&tasks_of(&store, "renewal").await),
            pairs(&[("A", "omar"), ("S1", "lee"), ("S2", "lee"), ("S3", "lee")])
        );
        // The leader of the CSM's team (Lee's is smb: Max); else the first leader.
        assert_eq!(
            owner_of(&tasks_of(&store, "dunning-escalation").await),
            pairs(&[
                ("A", "lena"),
                ("B", "lena"),
                ("S1", "max"),
                ("S2", "max"),
                ("S3", "max"),
                ("S4", "max")
            ])
        );
        // The least loaded of team scale, counting the open tasks they hold.
        assert_eq!(
            owner_of(&tasks_of(&store, "pooled").await),
            pairs(&[("S1", "cora"), ("S2", "dev"), ("S3", "cora")])
        );
    })
    .await;
}

#[tokio::test]
async fn task_writes_respect_books_and_are_audited() {
    on_every_backend("work_books", &company(), |store| async move {
        let app = app_on(store.clone(), "2026-05-02").await;
        run_for_accounts(&app, &ids(&["A", "S1"]), day("2026-05-02"))
            .await
            .unwrap();
        let a = tasks_of(&store, "dunning").await[0].id;
        let s1 = tasks_of(&store, "dunning-smb").await[0].id;
        let jane = user("jane", Role::Csm);
        let lee = user("lee", Role::Csm);
        let ana = user("ana", Role::Csm);
        let viewer = user("vic", Role::Viewer);
        // Lee may not touch Jane's account's task; Jane may.
        let refused = app
            .update_task(
                &lee,
                a,
                &TaskChanges {
                    priority: Some(TaskPriority::Low),
                    ..Default::default()
                },
            )
            .await;
        assert!(
            matches!(refused, Err(AppError::Forbidden(_))),
            "{refused:?}"
        );
        assert!(matches!(
            app.comment_task(&viewer, a, "hi").await,
            Err(AppError::Forbidden(_))
        ));
        let done = app
            .update_task(
                &jane,
                a,
                &TaskChanges {
                    status: Some(TaskStatus::InProgress),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(done.task.status, "in_progress");
        // Ana owns S1's task (the pool gave it her) though S1 is Lee's account.
        let commented = app.comment_task(&ana, s1, "Called them.").await.unwrap();
        assert_eq!(commented.comments[0].author, "ana");
        let reassigned = app.reassign_task(&ana, s1, "ben").await.unwrap();
        assert_eq!(reassigned.task.owner.as_deref(), Some("ben"));
        // Now Ben's: Ana no longer may.
        assert!(matches!(
            app.comment_task(&ana, s1, "again").await,
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            app.reassign_task(&jane, a, "nobody-here").await,
            Err(AppError::Invalid { .. })
        ));
        // Snoozed until the 20th, it opens again on the daily run of that day.
        let snoozed = app
            .snooze_task(&jane, a, day("2026-05-20"), "customer on holiday")
            .await
            .unwrap();
        assert_eq!(snoozed.task.status, "snoozed");
        let report = run_playbooks(&later(&app, "2026-05-20"), day("2026-05-20"), &|_, _| {})
            .await
            .unwrap();
        assert_eq!(report.woken, 1);
        let task = app.task(&jane, a).await.unwrap().task;
        assert_eq!((task.status.as_str(), task.snoozed_until), ("open", None));
        let closed = app
            .close_task(&jane, a, TaskStatus::Done, "paid by wire")
            .await
            .unwrap();
        assert_eq!(closed.task.status_reason.as_deref(), Some("paid by wire"));
        assert!(matches!(
            app.close_task(&jane, a, TaskStatus::Done, "").await,
            Err(AppError::Conflict(_))
        ));
        let actions: Vec<String> = store
            .audit_log(200)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.target == a.to_string())
            .map(|e| format!("{} {}", e.actor, e.action))
            .collect();
        assert_eq!(
            actions,
            [
                "user:jane task.complete",
                "tend task.wake",
                "user:jane task.snooze",
                "user:jane task.update",
                "playbook:dunning task.create"
            ]
        );
    })
    .await;
}
