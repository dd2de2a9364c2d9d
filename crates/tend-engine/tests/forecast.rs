//! The renewal forecast and its backtest against real stores: exact expectations on a
//! hand-built company (Tidewater), and the backtest on Quayside, whose renewals were
//! drawn from known chances, so its intervals can be judged against what happened.

// Amounts are written as major_minor (1_000_00 is 1,000.00).
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, NaiveTime};
use tend_core::*;
use tend_demo::Company;
use tend_engine::forecast::backtest::BacktestQuery;
use tend_engine::forecast::ForecastQuery;
use tend_engine::health::load_scorecards;
use tend_engine::{Actor, App, AppError, FixedClock};
use tend_store::Store;

mod common;
use common::on_every_backend;
use common::quayside::{quayside, quayside_in_seasons};

fn d(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn app(store: Store, today: NaiveDate) -> App {
    let now = today
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap())
        .and_utc();
    App::new(store, load_scorecards(None).unwrap(), FixedClock(now))
}

fn term(
    id: &str,
    account: &str,
    arr: i64,
    start: &str,
    end: &str,
    status: ContractStatus,
) -> Contract {
    let end = d(end);
    Contract {
        id: id.into(),
        account_id: account.into(),
        product: "Tidewater Core".into(),
        seats: 10,
        arr: Money::new(arr, Currency::USD),
        start_date: d(start),
        end_date: end,
        renewal_date: end + Days::new(1),
        auto_renew: false,
        notice_days: 30,
        status,
    }
}

/// Tidewater, as of 2026-06-30. In the trailing year three renewals were won (at
/// 1.2, 1.0 and 1.0 times their ARR) and one lost; t5 (1,000.00) and t6 (400.00) come
/// due in 2026-Q3, t4's new term (50.00) in Q4.
fn tidewater() -> Company {
    use ContractStatus::*;
    let mut company = Company::default();
    for (n, segment, owner) in [
        (1, "fleet", "ana"),
        (2, "fleet", "ana"),
        (3, "depot", "ben"),
        (4, "depot", "ben"),
        (5, "fleet", "ana"),
        (6, "depot", "ben"),
    ] {
        let id = format!("t{n}");
        company.accounts.push(Account {
            id: id.clone(),
            name: format!("Tidewater customer {n}"),
            parent_id: None,
            segment: Some(segment.into()),
            tier: None,
            industry: None,
            region: None,
            lifecycle_stage: None,
            csm_owner: Some("cara".into()),
            am_owner: Some(owner.into()),
            created_on: d("2024-09-01"),
            churned_on: (n == 2).then(|| d("2026-02-01")),
            churn_reason: None,
        });
        company.usage_daily.push(a_day_of_use(id));
    }
    company.contracts = vec![
        term("k1a", "t1", 100_00, "2025-01-01", "2025-12-31", Renewed),
        term("k1b", "t1", 120_00, "2026-01-01", "2026-12-31", Active),
        term("k2", "t2", 200_00, "2025-02-01", "2026-01-31", Churned),
        term("k3a", "t3", 100_00, "2025-03-01", "2026-02-28", Renewed),
        term("k3b", "t3", 100_00, "2026-03-01", "2027-02-28", Active),
        term("k4a", "t4", 50_00, "2024-10-01", "2025-09-30", Renewed),
        term("k4b", "t4", 50_00, "2025-10-01", "2026-09-30", Active),
        term("k5", "t5", 1_000_00, "2025-08-01", "2026-07-31", Active),
        term("k6", "t6", 400_00, "2025-09-01", "2026-08-31", Active),
    ];
    company
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[tokio::test]
async fn the_forecast_weighs_open_renewals_by_the_history_of_the_trailing_year() {
    let company = tidewater();
    on_every_backend("forecast_tidewater", &company, |store| async move {
        let app = app(store, d("2026-06-30"));
        let cli = Actor::cli();
        let report = app
            .renewal_forecast(
                &cli,
                &ForecastQuery {
                    periods: 2,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(report.day, d("2026-06-30"));
        assert_eq!(report.currency, Currency::USD);
        let history = &report.history.all;
        assert_eq!((history.won, history.lost), (3, 1));
        let q3 = &report.periods[0];
        assert_eq!(
            q3.period.label(),
            "2026-Q3",
            "the quarter after the data by default"
        );
        assert_eq!((q3.renewals, q3.open, q3.won, q3.lost), (2, 2, 0, 0));
        assert_eq!((q3.from_history, q3.from_model), (2, 0));
        // Each renews with 3/4 and comes back at 1.2, 1.0 or 1.0 times its ARR.
        let renewable = 1_400_00.0;
        assert!(close(q3.renewable, renewable));
        assert!(
            close(q3.expected, 0.75 * renewable * 3.2 / 3.0),
            "{}",
            q3.expected
        );
        assert!(close(q3.expected_expansion, 0.75 * renewable * 0.2 / 3.0));
        assert!(close(q3.expected_contraction, 0.0));
        assert!(close(q3.expected_churn, 0.25 * renewable));
        assert!(close(q3.grr.unwrap(), 0.75));
        assert!(close(q3.nrr.unwrap(), 0.8));
        // Two renewals: the range sits among the amounts they can add up to.
        assert!(q3.p10 <= q3.p50 && q3.p50 <= q3.p90);
        assert!(q3.p10 >= 0.0 && q3.p90 <= renewable * 1.2 + 1e-6);
        assert!(q3.p10 < q3.expected && q3.expected < q3.p90);
        let q4 = &report.periods[1];
        assert_eq!(q4.period.label(), "2026-Q4");
        assert!(close(q4.renewable, 50_00.0));

        // The same seed gives the same range; a book and a segment narrow it.
        let again = app
            .renewal_forecast(
                &cli,
                &ForecastQuery {
                    periods: 2,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(again.periods, report.periods);
        let ben = app
            .renewal_forecast(
                &cli,
                &ForecastQuery {
                    owner: Some("ben".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(close(ben.periods[0].renewable, 400_00.0));
        let fleet = app
            .renewal_forecast(
                &cli,
                &ForecastQuery {
                    segment: Some("fleet".into()),
                    period: Some(CalendarPeriod::parse("2026-08").unwrap()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(fleet.periods[0].period.label(), "2026-08");
        assert!(close(fleet.periods[0].renewable, 1_000_00.0));
        // A year holds both quarters' renewals and the won ones of 2026-Q1.
        let year = app
            .renewal_forecast(
                &cli,
                &ForecastQuery {
                    period: Some(CalendarPeriod::parse("2026").unwrap()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let y = &year.periods[0];
        assert_eq!((y.won, y.lost, y.open), (2, 1, 3));
        assert!(close(y.booked, 220_00.0), "t1 at 120.00 and t3 at 100.00");

        // Bad queries name what is wrong.
        for query in [
            ForecastQuery {
                draws: 0,
                ..Default::default()
            },
            ForecastQuery {
                periods: 13,
                ..Default::default()
            },
        ] {
            match app.renewal_forecast(&cli, &query).await {
                Err(AppError::Invalid { field, .. }) => {
                    assert!(field == "draws" || field == "periods")
                }
                other => panic!("expected an invalid query, got {other:?}"),
            }
        }
    })
    .await;
}

#[tokio::test]
async fn with_no_renewal_closed_in_the_year_before_the_forecast_says_why_it_cannot() {
    let mut company = tidewater();
    // Only the current terms: nothing came due before them.
    company
        .contracts
        .retain(|c| c.status == ContractStatus::Active);
    on_every_backend("forecast_no_history", &company, |store| async move {
        let app = app(store, d("2026-06-30"));
        match app
            .renewal_forecast(&Actor::cli(), &ForecastQuery::default())
            .await
        {
            Err(AppError::Conflict(message)) => {
                assert!(message.contains("no renewal closed"), "{message}")
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn the_backtest_of_quayside_covers_what_renewed_and_beats_the_naive_forecast() {
    let company = quayside_to_the_end(quayside(1500, 31).0);
    on_every_backend("forecast_backtest", &company, |store| async move {
        let app = app(store, d("2026-06-30"));
        let backtest = app
            .renewal_backtest(
                &Actor::cli(),
                &BacktestQuery {
                    draws: 4_000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let labels: Vec<String> = backtest
            .quarters
            .iter()
            .map(|q| q.quarter.label())
            .collect();
        assert_eq!(labels.first().map(String::as_str), Some("2024-Q2"));
        assert_eq!(
            labels.last().map(String::as_str),
            Some("2026-Q1"),
            "decided by 06-30"
        );
        assert_eq!(labels.len() + backtest.skipped.len(), 8);
        for q in &backtest.quarters {
            assert_eq!(q.as_of, q.quarter.start - Days::new(1));
            assert!(q.p10 <= q.p50 && q.p50 <= q.p90, "{q:?}");
            assert!(
                q.actual <= q.renewable * 1.1 + 1e-6,
                "Fleet grows 10% a renewal"
            );
            assert_eq!(q.from_model, 0, "no risk model stored");
        }
        println!(
            "coverage {:.3}, P50 error {:.4}, naive error {:.4}",
            backtest.coverage, backtest.p50_error, backtest.naive_error
        );
        for q in &backtest.quarters {
            println!(
                "{} renewable {:.0} actual {:.0} p10 {:.0} p50 {:.0} p90 {:.0} naive {:.0}",
                q.quarter.label(),
                q.renewable,
                q.actual,
                q.p10,
                q.p50,
                q.p90,
                q.naive
            );
        }
        assert!(backtest.coverage >= 0.5, "coverage {}", backtest.coverage);
        assert!(backtest.p50_error < 0.1, "P50 error {}", backtest.p50_error);
        assert!(backtest.p50_error < backtest.naive_error);
    })
    .await;
}

/// A day of use on 2026-06-30, the last day of the data.
fn a_day_of_use(account_id: String) -> UsageDaily {
    UsageDaily {
        account_id,
        day: d("2026-06-30"),
        events: 10,
        active_users: 3,
        active_users_30d: 3,
        feature_events: BTreeMap::new(),
    }
}

/// Quayside with its customers' data running to the last day.
fn quayside_to_the_end(mut company: Company) -> Company {
    let customers: Vec<String> = company
        .accounts
        .iter()
        .filter(|a| a.churned_on.is_none())
        .map(|a| a.id.clone())
        .collect();
    for id in customers {
        company.usage_daily.push(a_day_of_use(id));
    }
    company
}

/// When a company's quarters move together, the range a sum of independent renewals
/// gives is too narrow; the dispersion learned from the quarters before widens it.
/// Quayside's own renewals are independent, and there it stays near 1.
#[tokio::test]
async fn quarters_that_move_together_widen_the_range_and_independent_ones_do_not() {
    let seasons = quayside_to_the_end(quayside_in_seasons(3000, 31, 0.6).0);
    on_every_backend("forecast_seasons", &seasons, |store| async move {
        let app = app(store, d("2026-06-30"));
        let query = BacktestQuery {
            draws: 4_000,
            ..Default::default()
        };
        let backtest = app.renewal_backtest(&Actor::cli(), &query).await.unwrap();
        for q in &backtest.quarters {
            println!(
                "{} actual {:.0} p10 {:.0} p50 {:.0} p90 {:.0} scale {:.2} over {}",
                q.quarter.label(),
                q.actual,
                q.p10,
                q.p50,
                q.p90,
                q.dispersion.scale(),
                q.dispersion.quarters
            );
        }
        println!("coverage {:.3}", backtest.coverage);
        let last = backtest.quarters.last().unwrap();
        assert!(last.dispersion.quarters >= 6, "{last:?}");
        assert!(last.dispersion.scale() > 1.5, "{last:?}");
        assert!(backtest.coverage >= 0.5, "coverage {}", backtest.coverage);
        let forecast = app
            .renewal_forecast(&Actor::cli(), &ForecastQuery::default())
            .await
            .unwrap();
        assert!(
            forecast.dispersion.scale() > 1.5,
            "{:?}",
            forecast.dispersion
        );
    })
    .await;
    let plain = quayside_to_the_end(quayside(3000, 31).0);
    on_every_backend("forecast_no_seasons", &plain, |store| async move {
        let app = app(store, d("2026-06-30"));
        let forecast = app
            .renewal_forecast(&Actor::cli(), &ForecastQuery::default())
            .await
            .unwrap();
        println!("{:?}", forecast.dispersion);
        assert!(forecast.dispersion.quarters >= 6);
        assert!(
            (0.6..1.5).contains(&forecast.dispersion.scale()),
            "{:?}",
            forecast.dispersion
        );
    })
    .await;
}

#[tokio::test]
async fn an_owners_call_sets_the_stage_keeps_its_history_and_totals_the_forecast() {
    use tend_engine::renewal_calls::NewCall;
    let company = tidewater();
    on_every_backend("forecast_calls", &company, |store| async move {
        let app = app(store.clone(), d("2026-06-30"));
        let ana = Actor {
            name: "user:ana".into(),
            role: Role::Am,
            book: Some("ana".into()),
        };
        let call = |account: &str, due: &str, category, stage| NewCall {
            account_id: account.into(),
            product: "Tidewater Core".into(),
            due_on: d(due),
            category,
            stage,
            note: Some("  spoke to the CFO ".into()),
        };
        let first = app
            .call_renewal(
                &ana,
                &call("t5", "2026-08-01", ForecastCategory::BestCase, None),
            )
            .await
            .unwrap();
        assert_eq!(first.note.as_deref(), Some("spoke to the CFO"));
        assert_eq!(first.made_by, "ana");
        assert_eq!(first.model_probability, None, "no model stored");
        let second = app
            .call_renewal(
                &ana,
                &call(
                    "t5",
                    "2026-08-01",
                    ForecastCategory::Commit,
                    Some(CallStage::Committed),
                ),
            )
            .await
            .unwrap();
        assert!(second.id > first.id);

        // ben's renewal is outside ana's book; a closed one and a wrong day are refused.
        let refused = app
            .call_renewal(
                &ana,
                &call("t6", "2026-09-01", ForecastCategory::AtRisk, None),
            )
            .await;
        assert!(
            matches!(refused, Err(AppError::Forbidden(_))),
            "{refused:?}"
        );
        let closed = app
            .call_renewal(
                &ana,
                &call("t1", "2026-01-01", ForecastCategory::Commit, None),
            )
            .await;
        assert!(matches!(closed, Err(AppError::Conflict(_))), "{closed:?}");
        match app
            .call_renewal(
                &ana,
                &call("t5", "2026-08-02", ForecastCategory::Commit, None),
            )
            .await
        {
            Err(AppError::Invalid { field, message }) => {
                assert_eq!(field, "/due_on");
                assert!(
                    message.contains("Tidewater Core due 2026-08-01"),
                    "{message}"
                );
            }
            other => panic!("expected an invalid day, got {other:?}"),
        }

        // The pipeline shows the latest call and the stage it set.
        let pipeline = app
            .renewal_pipeline(&Actor::cli(), &Default::default())
            .await
            .unwrap();
        let t5 = pipeline
            .lines
            .iter()
            .find(|l| l.renewal.account_id == "t5")
            .unwrap();
        assert_eq!(t5.stage, tend_core::renewal::Stage::Committed);
        assert_eq!(
            t5.call.as_ref().map(|c| c.category),
            Some(ForecastCategory::Commit)
        );
        assert!(!t5.disagrees, "no model to disagree with");
        let history = app
            .renewal_call_history(&Actor::cli(), "t5", "Tidewater Core", d("2026-08-01"))
            .await
            .unwrap();
        let categories: Vec<_> = history.iter().map(|c| c.category).collect();
        assert_eq!(
            categories,
            [ForecastCategory::BestCase, ForecastCategory::Commit]
        );

        // The forecast totals the open ARR by call.
        let report = app
            .renewal_forecast(&Actor::cli(), &ForecastQuery::default())
            .await
            .unwrap();
        let called = &report.periods[0].called;
        assert!(close(called.commit, 1_000_00.0) && close(called.not_called, 400_00.0));

        // Each call is audited once.
        let audited = store
            .audit_log(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "renewal.call")
            .count();
        assert_eq!(audited, 2);
    })
    .await;
}

/// EUR 1 = USD 1.25 from 2026-01-01.
async fn euro_at_125_cents(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    let rate = FxRate {
        date: d("2026-01-01"),
        currency: Currency::parse("EUR").unwrap(),
        base: Currency::USD,
        rate: 1.25,
    };
    tx.upsert_fx_rates(&[rate]).await.unwrap();
    tx.commit().await.unwrap();
}

/// Amounts in the currency asked for: Tidewater's USD at EUR 1 = USD 1.25, the same
/// chances and ratios; a currency without a rate leaves every amount out, named.
#[tokio::test]
async fn the_forecast_and_its_backtest_report_in_the_currency_asked_for() {
    let company = tidewater();
    let eur = Currency::parse("EUR").unwrap();
    on_every_backend("forecast_currency", &company, |store| async move {
        euro_at_125_cents(&store).await;
        let app = app(store, d("2026-06-30"));
        let forecast = |currency| {
            let app = app.clone();
            async move {
                app.renewal_forecast(
                    &Actor::cli(),
                    &ForecastQuery {
                        currency,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
            }
        };
        let usd = forecast(None).await;
        let in_eur = forecast(Some(eur)).await;
        assert_eq!((usd.currency, in_eur.currency), (Currency::USD, eur));
        let (u, e) = (&usd.periods[0], &in_eur.periods[0]);
        assert!(close(e.renewable, 1_120_00.0), "USD 1,400.00 ÷ 1.25");
        assert!(
            close(e.expected, u.expected / 1.25),
            "{} {}",
            e.expected,
            u.expected
        );
        assert!(close(e.p50, u.p50 / 1.25) && close(e.p90, u.p90 / 1.25));
        assert_eq!(e.grr, u.grr);
        assert!(in_eur.left_out.is_empty());

        let jpy = Currency::parse("JPY").unwrap();
        let none = app
            .renewal_forecast(
                &Actor::cli(),
                &ForecastQuery {
                    currency: Some(jpy),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(none.periods[0].renewals, 0);
        assert_eq!(none.left_out.0.get(&Currency::USD), Some(&1_400_00));

        let backtest = app
            .renewal_backtest(
                &Actor::cli(),
                &BacktestQuery {
                    currency: Some(eur),
                    draws: 1_000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(backtest.currency, eur);
    })
    .await;
}

#[tokio::test]
async fn a_proposal_converted_to_the_guardrails_currency_goes_to_the_cro_who_is_named() {
    use tend_core::guardrails::{Guardrails, Route, DEFAULT_GUARDRAILS};
    use tend_engine::proposals::{NewProposal, ProposalKind, ProposalLine, ProposalStatus};
    let company = tidewater();
    let eur = Currency::parse("EUR").unwrap();
    on_every_backend("proposals_cro", &company, |store| async move {
        euro_at_125_cents(&store).await;
        // Only "cleo" approves for the CRO here.
        let mut guardrails: Guardrails = toml::from_str(DEFAULT_GUARDRAILS).unwrap();
        guardrails.cro.approvers = vec!["cleo".into()];
        let app = app(store.clone(), d("2026-06-30")).with_guardrails(guardrails);
        let leader = |handle: &str| Actor {
            name: format!("user:{handle}"),
            role: Role::Leader,
            book: None,
        };
        let ana = Actor {
            name: "user:ana".into(),
            role: Role::Am,
            book: Some("ana".into()),
        };
        // EUR 220,000.00 is USD 275,000.00: above the USD 250,000.00 threshold.
        let new = NewProposal {
            account_id: "t5".into(),
            kind: ProposalKind::Expansion,
            lines: vec![ProposalLine {
                product: "Tidewater Core".into(),
                seats: 200,
                list_price: 1_100_00,
            }],
            currency: eur,
            discount_percent: 0.0,
            term_months: 12,
            payment_terms: "annual_in_advance".into(),
            start_on: d("2026-08-01"),
            non_standard_terms: None,
        };
        let proposal = app.create_proposal(&ana, &new).await.unwrap();
        assert_eq!(proposal.status, ProposalStatus::Pending);
        assert_eq!(proposal.route, Some(Route::Cro));
        assert_eq!(
            proposal.breaches[0].reason,
            "ARR USD 275,000.00 is above the strategic threshold of USD 250,000.00"
        );
        assert_eq!(proposal.arr, Money::new(220_000_00, eur));
        // lena is a leader but not the CRO's approver; cleo is.
        assert!(app.approvals_for(&leader("lena")).await.unwrap().is_empty());
        let refused = app
            .decide_proposal(&leader("lena"), proposal.id, true, None)
            .await;
        assert!(matches!(refused, Err(AppError::Forbidden(m)) if m.contains("cleo")));
        assert_eq!(app.approvals_for(&leader("cleo")).await.unwrap().len(), 1);
        let rejected = app
            .decide_proposal(&leader("cleo"), proposal.id, false, Some("not this year"))
            .await
            .unwrap();
        assert_eq!(rejected.status, ProposalStatus::Rejected);
        assert_eq!(rejected.decided_by.as_deref(), Some("cleo"));
        let audit = store.audit_log(100).await.unwrap();
        assert!(audit
            .iter()
            .any(|e| e.action == "proposal.reject" && e.actor == "user:cleo"));
    })
    .await;
}
