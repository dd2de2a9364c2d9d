//! Expansion against real stores, on a hand-built company (Harbourline) with three
//! products: the whitespace of similar accounts, the signals in accounts' own data,
//! opportunities and the attribution of booked expansion to them.

// Amounts are written as major_minor (1_000_00 is 1,000.00).
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, NaiveTime};
use tend_core::*;
use tend_demo::Company;
use tend_engine::expansion::opportunities::{NewOpportunity, OpportunityChange};
use tend_engine::expansion::parse_expansion;
use tend_engine::expansion::report::ExpansionReportQuery;
use tend_engine::expansion::signals::SignalQuery;
use tend_engine::expansion::whitespace::WhitespaceQuery;
use tend_engine::health::load_scorecards;
use tend_engine::{Actor, App, AppError, FixedClock};
use tend_store::Store;

mod common;
use common::on_every_backend;

const CORE: &str = "Harbour Core";
const INSIGHTS: &str = "Harbour Insights";
const AUTOMATE: &str = "Harbour Automate";

fn d(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn app(store: Store) -> App {
    let now = d("2026-06-30")
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap())
        .and_utc();
    let settings = "high_utilization = 0.9\ntarget_utilization = 0.8\nusage_growth = 0.3\n\
                    module_min_events = 10\n\n[[module]]\nproduct = \"Harbour Automate\"\n\
                    events = [\"Workflow *\"]\n";
    App::new(store, load_scorecards(None).unwrap(), FixedClock(now))
        .with_expansion(parse_expansion(settings, "harbourline.toml").unwrap())
}

fn term(account: &str, product: &str, arr: Money, start: &str, end: &str) -> Contract {
    Contract {
        id: format!("{account}-{product}-{start}"),
        account_id: account.into(),
        product: product.into(),
        seats: 10,
        arr,
        start_date: d(start),
        end_date: d(end),
        renewal_date: d(end) + Days::new(1),
        auto_renew: false,
        notice_days: 60,
        status: ContractStatus::Active,
    }
}

fn usd(major: i64) -> Money {
    Money::new(major * 100, Currency::USD)
}

fn usage(
    account: &str,
    day: &str,
    events: i64,
    users_30d: i64,
    features: &[(&str, i64)],
) -> UsageDaily {
    UsageDaily {
        account_id: account.into(),
        day: d(day),
        events,
        active_users: users_30d.min(3),
        active_users_30d: users_30d,
        feature_events: features.iter().map(|(f, n)| (f.to_string(), *n)).collect(),
    }
}

/// Harbourline on 2026-06-30: nine customers of the mid segment in logistics (omar
/// is the account manager of h1–h5, pia of h6–h9) and h10, which left on 2026-05-01.
/// Everyone holds Core; Insights is held by h1 (bought 2026-06-01), h2, h3, h4 and h9
/// (in EUR), Automate by h5.
fn harbourline() -> Company {
    let mut company = Company::default();
    for n in 1..=10 {
        company.accounts.push(Account {
            id: format!("h{n}"),
            name: format!("Harbourline customer {n}"),
            parent_id: None,
            segment: Some("mid".into()),
            tier: None,
            industry: Some("logistics".into()),
            region: None,
            lifecycle_stage: None,
            csm_owner: Some("cara".into()),
            am_owner: Some(if n <= 5 { "omar" } else { "pia" }.into()),
            created_on: d("2025-03-01"),
            churned_on: (n == 10).then(|| d("2026-05-01")),
            churn_reason: None,
        });
    }
    let (first, last) = ("2025-07-01", "2026-12-31");
    let mut contracts = vec![
        term("h1", INSIGHTS, usd(4_000), "2026-06-01", last),
        // h2 and h3 renewed Core on 2026-04-01 for more.
        term("h2", CORE, usd(10_000), "2025-04-01", "2026-03-31"),
        term("h2", CORE, usd(12_000), "2026-04-01", "2027-03-31"),
        term("h2", INSIGHTS, usd(3_000), "2025-04-01", "2027-03-31"),
        term("h3", CORE, usd(10_000), "2025-04-01", "2026-03-31"),
        term("h3", CORE, usd(11_000), "2026-04-01", "2027-03-31"),
        term("h3", INSIGHTS, usd(5_000), "2025-04-01", "2027-03-31"),
        term("h4", INSIGHTS, usd(6_000), first, last),
        term("h5", AUTOMATE, usd(2_000), first, last),
        // EUR 2,000.00 at 1.25 is USD 2,500.00.
        term("h9", INSIGHTS, Money::new(2_000_00, eur()), first, last),
        term("h10", INSIGHTS, usd(9_000), first, last),
    ];
    for n in [1, 4, 5, 6, 7, 8, 9, 10] {
        contracts.push(term(&format!("h{n}"), CORE, usd(10_000), first, last));
    }
    company.contracts = contracts;
    company.usage_daily = vec![
        // 12 users on 10 seats, and 9 on 10.
        usage("h1", "2026-06-30", 40, 12, &[]),
        usage("h2", "2026-06-30", 40, 9, &[]),
        // Use doubled from May to June.
        usage("h3", "2026-05-15", 100, 3, &[]),
        usage("h3", "2026-06-20", 200, 3, &[]),
        // Workflows without Automate; h5 holds it.
        usage("h4", "2026-06-25", 30, 3, &[("Workflow Run", 12)]),
        usage("h5", "2026-06-25", 30, 3, &[("Workflow Run", 50)]),
    ];
    for n in [6, 7, 8, 9, 10] {
        company
            .usage_daily
            .push(usage(&format!("h{n}"), "2026-06-30", 10, 3, &[]));
    }
    // h1's people: a sponsor met twice lately, a decision maker not since February,
    // a user; h2's champion.
    for (id, account, role) in [
        ("p-sponsor", "h1", ContactRole::ExecutiveSponsor),
        ("p-decider", "h1", ContactRole::DecisionMaker),
        ("p-user", "h1", ContactRole::User),
        ("p-other", "h2", ContactRole::Champion),
    ] {
        company.contacts.push(Contact {
            id: id.into(),
            account_id: account.into(),
            name: format!("Person {id}"),
            email: None,
            title: None,
            role,
            joined_on: None,
            left_on: None,
        });
    }
    for (n, (contact, day)) in [
        ("p-sponsor", "2026-06-10"),
        ("p-sponsor", "2026-05-01"),
        ("p-decider", "2026-02-15"),
    ]
    .into_iter()
    .enumerate()
    {
        company.activities.push(Activity {
            id: format!("act-{n}"),
            account_id: "h1".into(),
            contact_id: Some(contact.into()),
            kind: ActivityKind::Meeting,
            author: "omar".into(),
            occurred_at: d(day).and_hms_opt(15, 0, 0).unwrap().and_utc(),
            subject: "Review".into(),
            body: None,
        });
    }
    company
}

async fn with_rates(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    let rate = FxRate {
        date: d("2025-01-01"),
        currency: eur(),
        base: Currency::USD,
        rate: 1.25,
    };
    tx.upsert_fx_rates(&[rate]).await.unwrap();
    tx.commit().await.unwrap();
}

fn am(handle: &str) -> Actor {
    Actor {
        name: format!("user:{handle}"),
        role: Role::Am,
        book: Some(handle.into()),
    }
}

#[tokio::test]
async fn whitespace_counts_similar_customers_that_hold_each_product() {
    on_every_backend("expansion_whitespace", &harbourline(), |store| async move {
        with_rates(&store).await;
        let app = app(store);
        let all = app
            .whitespace(&Actor::cli(), &WhitespaceQuery::default())
            .await
            .unwrap();
        assert_eq!(all.day, d("2026-06-30"));
        assert_eq!(all.currency, Currency::USD);
        // h10 left: its Insights is neither held nor a peer's.
        let held: Vec<(&str, usize)> = all.products.iter().map(|(p, n)| (p.as_str(), *n)).collect();
        assert_eq!(held, vec![(AUTOMATE, 1), (CORE, 9), (INSIGHTS, 5)]);
        // Four lack Insights, eight lack Automate.
        assert_eq!(all.total, 12);
        let first = &all.gaps[0].gap;
        assert_eq!(
            (first.account_id.as_str(), first.product.as_str()),
            ("h5", INSIGHTS)
        );
        // 5 of 8 peers hold Insights, at (4,000 + 3,000 + 5,000 + 6,000 + 2,500) / 5.
        assert_eq!((first.peers, first.owners, first.share), (8, 5, 0.625));
        assert_eq!(first.estimated_arr, 4_100_00);
        assert_eq!(first.expected_arr(), 2_562_50.0);
        let order: Vec<&str> = all.gaps[..4]
            .iter()
            .map(|g| g.gap.account_id.as_str())
            .collect();
        assert_eq!(order, ["h5", "h6", "h7", "h8"]);
        let automate = all.gaps.iter().find(|g| g.gap.account_id == "h9").unwrap();
        assert_eq!(automate.gap.product, AUTOMATE);
        assert_eq!(
            (automate.gap.owners, automate.gap.estimated_arr),
            (1, 2_000_00)
        );
        // pia's book: h6–h9 (similar accounts still come from everyone).
        let query = WhitespaceQuery {
            owner: Some("pia".into()),
            limit: Some(3),
            ..Default::default()
        };
        let book = app.whitespace(&Actor::cli(), &query).await.unwrap();
        assert_eq!((book.total, book.gaps.len()), (7, 3));
        assert!(book.gaps.iter().all(|g| g.owner.as_deref() == Some("pia")));
        let bad = WhitespaceQuery {
            limit: Some(0),
            ..Default::default()
        };
        let refused = app.whitespace(&Actor::cli(), &bad).await;
        assert!(matches!(refused, Err(AppError::Invalid { field, .. }) if field == "limit"));
    })
    .await;
}

#[tokio::test]
async fn signals_read_seats_growth_and_modules_used_without_a_licence() {
    on_every_backend("expansion_signals", &harbourline(), |store| async move {
        with_rates(&store).await;
        let app = app(store);
        let signals = app
            .expansion_signals(&Actor::cli(), &SignalQuery::default())
            .await
            .unwrap();
        let got: Vec<(&str, SignalKind, &str, Option<i64>)> = signals
            .lines
            .iter()
            .map(|l| {
                (
                    l.account_id.as_str(),
                    l.signal.kind,
                    l.signal.product.as_str(),
                    l.estimated_arr,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                // 15 seats bring 12 users to 80%: 5 more at 1,000.00 a seat.
                ("h1", SignalKind::SeatsOverLicence, CORE, Some(5_000_00)),
                // 12 seats for 9 users: 2 more at 1,200.00.
                ("h2", SignalKind::HighUtilization, CORE, Some(2_400_00)),
                // Automate as its one holder pays for it.
                ("h4", SignalKind::UnlicensedModule, AUTOMATE, Some(2_000_00)),
                ("h3", SignalKind::UsageGrowth, CORE, None),
            ]
        );
        assert_eq!(
            signals.lines[0].signal.words,
            "12 active users on 10 seats (120%); 5 more seats bring it to 80%"
        );
        assert_eq!(
            signals.lines[2].signal.words,
            "12 events of Harbour Automate in 30 days without a licence for it"
        );
        assert_eq!(
            signals.lines[3].signal.words,
            "product use grew by 100% over the 30 days before"
        );
        let query = SignalQuery {
            kind: Some(SignalKind::UsageGrowth),
            ..Default::default()
        };
        let growth = app.expansion_signals(&Actor::cli(), &query).await.unwrap();
        assert_eq!((growth.total, growth.counts.len()), (1, 4));
    })
    .await;
}

#[tokio::test]
async fn booked_expansion_is_attributed_to_the_opportunities_won_for_it() {
    on_every_backend(
        "expansion_attribution",
        &harbourline(),
        |store| async move {
            with_rates(&store).await;
            let app = app(store.clone());
            let new = |account: &str, product: &str, amount: i64, source| NewOpportunity {
                account_id: account.into(),
                product: product.into(),
                title: None,
                amount: usd(amount),
                close_on: d("2026-07-31"),
                owner: None,
                source,
                source_detail: Some("seats_over_licence".into()),
                note: None,
                stage: None,
            };
            let omar = am("omar");
            let signal = app
                .create_opportunity(
                    &omar,
                    &new("h1", INSIGHTS, 5_000, OpportunitySource::Signal),
                )
                .await
                .unwrap();
            assert_eq!(signal.stage, OpportunityStage::Identified);
            assert_eq!(signal.owner.as_deref(), Some("omar"));
            assert_eq!(signal.title, "Harbour Insights for Harbourline customer 1");
            // Outside omar's book.
            let refused = app
                .create_opportunity(
                    &omar,
                    &new("h6", INSIGHTS, 1_000, OpportunitySource::Manual),
                )
                .await;
            assert!(matches!(refused, Err(AppError::Forbidden(_))));
            let zero = app
                .create_opportunity(&omar, &new("h1", INSIGHTS, 0, OpportunitySource::Manual))
                .await;
            assert!(matches!(zero, Err(AppError::Invalid { field, .. }) if field == "/amount"));
            let won = |day: &str| OpportunityChange {
                stage: Some(OpportunityStage::ClosedWon),
                close_on: Some(d(day)),
                ..Default::default()
            };
            app.update_opportunity(&omar, signal.id, &won("2026-05-20"))
                .await
                .unwrap();
            // A won opportunity keeps its stage and amount.
            let reopen = OpportunityChange {
                stage: Some(OpportunityStage::Qualified),
                ..Default::default()
            };
            let conflict = app.update_opportunity(&omar, signal.id, &reopen).await;
            assert!(matches!(conflict, Err(AppError::Conflict(_))));
            let playbook = app
                .create_opportunity(&omar, &new("h3", CORE, 1_500, OpportunitySource::Playbook))
                .await
                .unwrap();
            app.update_opportunity(&omar, playbook.id, &won("2026-03-15"))
                .await
                .unwrap();
            let lost = app
                .create_opportunity(&omar, &new("h2", CORE, 9_000, OpportunitySource::Manual))
                .await
                .unwrap();
            let lose = OpportunityChange {
                stage: Some(OpportunityStage::ClosedLost),
                ..Default::default()
            };
            let closed = app.update_opportunity(&omar, lost.id, &lose).await.unwrap();
            // Closed without a day: today.
            assert_eq!(closed.close_on, d("2026-06-30"));

            let query = ExpansionReportQuery {
                period: Some(CalendarPeriod::parse("2026-Q2").unwrap()),
                ..Default::default()
            };
            let report = app.expansion_report(&Actor::cli(), &query).await.unwrap();
            let q2 = &report.periods[0];
            // h1's Insights (4,000), h2's Core up 2,000 and h3's up 1,000.
            assert_eq!((q2.booked, q2.bookings), (7_000_00, 3));
            let sources: Vec<(&str, i64)> = q2.by_source.iter().map(|(s, v)| (*s, *v)).collect();
            assert_eq!(
                sources,
                vec![
                    ("manual", 0),
                    ("playbook", 1_000_00),
                    ("signal", 4_000_00),
                    ("unattributed", 2_000_00)
                ]
            );
            assert_eq!((q2.won, q2.won_amount), (1, 5_000_00));
            assert_eq!(
                q2.by_owner,
                BTreeMap::from([("omar".to_string(), 7_000_00)])
            );
            assert_eq!(
                q2.by_segment,
                BTreeMap::from([("mid".to_string(), 7_000_00)])
            );
            let latest = &report.bookings[0];
            assert_eq!(
                (
                    latest.attribution.booking.account_id.as_str(),
                    latest.attribution.booking.day
                ),
                ("h1", d("2026-06-01"))
            );
            assert_eq!(
                latest.attribution.parts,
                vec![(signal.id, OpportunitySource::Signal, 4_000_00)]
            );
            // The default report: four quarters back from 2026-Q2, nothing booked before.
            let default = app
                .expansion_report(&Actor::cli(), &ExpansionReportQuery::default())
                .await
                .unwrap();
            let labels: Vec<String> = default.periods.iter().map(|p| p.period.label()).collect();
            assert_eq!(labels, ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]);
            assert_eq!(default.periods[2].won, 1);
            assert_eq!(
                default.periods[..3].iter().map(|p| p.booked).sum::<i64>(),
                0
            );
            // pia's book booked nothing.
            let pia = ExpansionReportQuery {
                owner: Some("pia".into()),
                ..query
            };
            let report = app.expansion_report(&Actor::cli(), &pia).await.unwrap();
            assert_eq!(report.periods[0].booked, 0);
            // Every write is in the audit log, by its author.
            let audit = store.audit_log(100).await.unwrap();
            let actions = |action: &str| {
                audit
                    .iter()
                    .filter(|e| e.action == action && e.actor == "user:omar")
                    .count()
            };
            assert_eq!(
                (actions("opportunity.create"), actions("opportunity.update")),
                (3, 3)
            );
        },
    )
    .await;
}

#[tokio::test]
async fn an_account_plan_keeps_its_versions_and_maps_people_and_the_team() {
    use tend_engine::account_plans::{NewAccountPlan, NewStanding};
    on_every_backend("account_plans", &harbourline(), |store| async move {
        let app = app(store.clone());
        let omar = am("omar");
        let mut plan = NewAccountPlan {
            objectives: vec!["Roll Insights out to every depot".into()],
            growth_strategy: Some("Land Insights, then Automate".into()),
            target_arr: Some(usd(20_000)),
            risks: vec!["Budget freeze in Q4".into()],
            next_review_on: Some(d("2026-09-30")),
            owner: None,
        };
        let first = app.save_account_plan(&omar, "h1", &plan).await.unwrap();
        assert_eq!(first.owner.as_deref(), Some("omar"));
        plan.objectives.push("Executive sponsor at the QBR".into());
        let second = app.save_account_plan(&omar, "h1", &plan).await.unwrap();
        assert!(second.version > first.version);
        // Outside omar's book, and an empty objective.
        let refused = app.save_account_plan(&omar, "h6", &plan).await;
        assert!(matches!(refused, Err(AppError::Forbidden(_))));
        let blank = NewAccountPlan {
            objectives: vec!["  ".into()],
            ..Default::default()
        };
        let invalid = app.save_account_plan(&omar, "h1", &blank).await;
        assert!(
            matches!(invalid, Err(AppError::Invalid { field, .. }) if field == "/objectives/0")
        );

        let standing = |strength, reports_to: Option<&str>| NewStanding {
            influence: Influence::High,
            sentiment: Sentiment::Supporter,
            strength,
            reports_to: reports_to.map(Into::into),
        };
        app.set_stakeholder(&omar, "h1", "p-user", &standing(3, Some("p-sponsor")))
            .await
            .unwrap();
        for (contact, new, field) in [
            ("p-user", standing(6, None), "/strength"),
            ("p-user", standing(3, Some("p-other")), "/reports_to"),
            ("p-user", standing(3, Some("p-user")), "/reports_to"),
        ] {
            let refused = app.set_stakeholder(&omar, "h1", contact, &new).await;
            assert!(
                matches!(&refused, Err(AppError::Invalid { field: f, .. }) if f == field),
                "{refused:?}"
            );
        }
        let elsewhere = app
            .set_stakeholder(&omar, "h1", "p-other", &standing(3, None))
            .await;
        assert!(matches!(elsewhere, Err(AppError::NotFound { .. })));

        app.add_team_member(&omar, "h1", "sam.se", TeamRole::SolutionsEngineer)
            .await
            .unwrap();
        app.add_team_member(&omar, "h1", "omar", TeamRole::Am)
            .await
            .unwrap();
        let twice = app
            .add_team_member(&omar, "h1", "sam.se", TeamRole::SolutionsEngineer)
            .await;
        assert!(matches!(twice, Err(AppError::Conflict(_))));
        let bad = app
            .add_team_member(&omar, "h1", "sam se", TeamRole::Csm)
            .await;
        assert!(matches!(bad, Err(AppError::Invalid { field, .. }) if field == "/handle"));
        app.remove_team_member(&omar, "h1", "omar", TeamRole::Am)
            .await
            .unwrap();
        let gone = app
            .remove_team_member(&omar, "h1", "omar", TeamRole::Am)
            .await;
        assert!(matches!(gone, Err(AppError::NotFound { .. })));

        let desk = app.account_desk(&Actor::cli(), "h1").await.unwrap();
        let current = desk.plan.unwrap();
        assert_eq!(current.version, second.version);
        assert_eq!(current.objectives.len(), 2);
        assert_eq!(current.target_arr, Some(usd(20_000)));
        assert_eq!(desk.history.len(), 1);
        assert_eq!(desk.history[0].objectives.len(), 1);
        let mapped: Vec<(&str, Option<u8>)> = desk
            .stakeholders
            .iter()
            .map(|s| {
                (
                    s.contact.id.as_str(),
                    s.standing.as_ref().map(|st| st.strength),
                )
            })
            .collect();
        assert_eq!(
            mapped,
            vec![
                ("p-decider", None),
                ("p-sponsor", None),
                ("p-user", Some(3))
            ]
        );
        let executives: Vec<(&str, Option<NaiveDate>, &str)> = desk
            .executives
            .iter()
            .map(|e| (e.contact_id.as_str(), e.last_touch, e.trend.as_str()))
            .collect();
        assert_eq!(
            executives,
            vec![
                ("p-decider", Some(d("2026-02-15")), "falling"),
                ("p-sponsor", Some(d("2026-06-10")), "rising"),
            ]
        );
        assert_eq!(desk.last_executive_touch, Some(d("2026-06-10")));
        let team: Vec<(&str, TeamRole)> = desk
            .team
            .iter()
            .map(|m| (m.handle.as_str(), m.role))
            .collect();
        assert_eq!(team, vec![("sam.se", TeamRole::SolutionsEngineer)]);
        let audit = store.audit_log(100).await.unwrap();
        let count = |action: &str| audit.iter().filter(|e| e.action == action).count();
        assert_eq!(
            [
                count("account_plan.save"),
                count("stakeholder.set"),
                count("account_team.add"),
                count("account_team.remove")
            ],
            [2, 1, 2, 1]
        );
    })
    .await;
}
