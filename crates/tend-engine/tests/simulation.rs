//! The playbook simulation on a company built unlike the demo: Fernhill, whose
//! accounts hold annual terms and import daily usage rollups only. An account that
//! will not renew fades: its use falls over the months before its renewal to a
//! fraction of what it was. Others have a dip of a few weeks and recover (holidays,
//! a project ending) — the false alarms a team has to live with. Replayed over the
//! last year with health scored on every day, the shipped at-risk playbook (tuned on
//! the demo's sudden falls and on these fades together) warns of nearly all churn
//! about two months ahead without drowning the CSMs; one a team would write for this
//! history alone (use down 15% over two months against the two before) does a little
//! better still.

use chrono::{Days, Months, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tend_core::*;
use tend_demo::Company;
use tend_engine::health::{backfill, load_scorecards};
use tend_engine::playbooks::{load_playbooks, parse_playbooks, simulate, PlaybookSet, Simulation};
use tend_engine::{App, FixedClock};

mod common;
use common::on_every_backend;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

const AS_OF: &str = "2026-06-30";
const CSMS: [&str; 6] = ["ana", "bo", "cy", "di", "ed", "fay"];

/// `accounts` accounts started over three years, each renewing yearly until it
/// leaves (about one in six renewals).
fn fernhill(accounts: usize, seed: u64) -> Company {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let as_of = day(AS_OF);
    let first_usage = as_of - Days::new(460);
    let mut c = Company::default();
    for n in 0..accounts {
        let id = format!("FH-{n:04}");
        let start = day("2023-07-01") + Days::new(rng.random_range(0..1000));
        let seats: i64 = rng.random_range(5..80);
        let segment = match seats {
            0..=15 => "team",
            16..=50 => "business",
            _ => "enterprise",
        };
        // Renewals until one is lost.
        let mut churned_on = None;
        let mut k = 0;
        loop {
            let term_start = start.checked_add_months(Months::new(12 * k)).unwrap();
            if term_start > as_of {
                break;
            }
            let renewal = start.checked_add_months(Months::new(12 * (k + 1))).unwrap();
            c.contracts.push(Contract {
                id: format!("{id}-T{k}"),
                account_id: id.clone(),
                product: "Fernhill Cloud".into(),
                seats,
                arr: Money::new(seats * 36_000, Currency::parse("EUR").unwrap()),
                start_date: term_start,
                end_date: renewal.pred_opt().unwrap(),
                renewal_date: renewal,
                auto_renew: false,
                notice_days: 60,
                status: ContractStatus::Active,
            });
            if renewal <= as_of && rng.random_bool(0.17) {
                churned_on = Some(renewal);
                break;
            }
            k += 1;
        }
        c.accounts.push(Account {
            id: id.clone(),
            name: format!("Fernhill client {n}"),
            parent_id: None,
            segment: Some(segment.into()),
            tier: None,
            industry: None,
            region: None,
            lifecycle_stage: Some(LifecycleStage::Mature),
            csm_owner: Some(CSMS[n % CSMS.len()].into()),
            am_owner: None,
            created_on: start,
            churned_on,
            churn_reason: churned_on.map(|_| "budget".into()),
        });
        c.contacts.push(Contact {
            id: format!("{id}-champion"),
            account_id: id.clone(),
            name: "Champion".into(),
            email: None,
            title: None,
            role: ContactRole::Champion,
            joined_on: None,
            left_on: None,
        });
        // Usage: each active user a few dozen events a day on weekdays. A leaver
        // fades over 60–150 days before its renewal to 20–45% of its level; one in
        // five others dips to half for two to five weeks once.
        let users = (seats as f64 * rng.random_range(0.5..0.95))
            .round()
            .max(1.0) as i64;
        let fade_days = rng.random_range(60..150) as i64;
        let floor = rng.random_range(0.20..0.45);
        let dip_start = first_usage + Days::new(rng.random_range(0..400));
        let dip_days = if rng.random_bool(0.2) {
            rng.random_range(14..35)
        } else {
            0
        };
        let mut d = start.max(first_usage);
        let end = churned_on
            .map_or(as_of, |c| c.pred_opt().unwrap())
            .min(as_of);
        while d <= end {
            let mut level = 1.0;
            if let Some(churn) = churned_on {
                let left = (churn - d).num_days();
                if left < fade_days {
                    level = floor + (1.0 - floor) * left as f64 / fade_days as f64;
                }
            }
            let since_dip = (d - dip_start).num_days();
            if (0..dip_days).contains(&since_dip) {
                level *= 0.5;
            }
            let weekday = chrono::Datelike::weekday(&d).num_days_from_monday() < 5;
            let active = ((users as f64)
                * level
                * if weekday { 0.8 } else { 0.15 }
                * rng.random_range(0.8..1.2))
            .round() as i64;
            let monthly = ((users as f64) * level.max(0.3)).round() as i64;
            c.usage_daily.push(UsageDaily {
                account_id: id.clone(),
                day: d,
                events: active * rng.random_range(20..40),
                active_users: active,
                active_users_30d: monthly.max(active),
                feature_events: Default::default(),
            });
            d = d.succ_opt().unwrap();
        }
    }
    c
}

/// The at-risk playbook a team with Fernhill's history would write.
const SLOW_FADE: &str = "
[[playbook]]
name = \"at-risk\"
reentry_days = 90
[[playbook.trigger]]
signal = \"health_band\"
band = \"red\"
[[playbook.trigger]]
signal = \"usage_dropped\"
percent = 15
days = 60
[playbook.task]
kind = \"risk\"
title = \"Save {account}\"
priority = \"high\"
due_days = 14
assign = \"csm\"
";

fn figures(sim: &Simulation) -> (String, &tend_engine::playbooks::PlaybookSimulation) {
    let at_risk = sim.playbooks.iter().find(|p| p.name == "at-risk").unwrap();
    let text = format!(
        "{} tasks, busiest {:?}/week, {}/{} churned warned, ARR {:?}, median {:?} days, precision {:?}",
        at_risk.tasks,
        at_risk.max_per_owner_week(),
        at_risk.churned_warned,
        at_risk.churned,
        at_risk.churned_arr_share(),
        at_risk.median_warning_days,
        at_risk.precision()
    );
    (text, at_risk)
}

#[tokio::test]
async fn the_shipped_and_fernhills_own_at_risk_playbooks_warn_of_its_churn() {
    on_every_backend(
        "simulation_fernhill",
        &fernhill(240, 11),
        |store| async move {
            let scorecards = load_scorecards(None).unwrap();
            let to = day(AS_OF);
            let from = to - Days::new(364);
            backfill(&store, &scorecards, to, 365, &|_, _| {})
                .await
                .unwrap();
            let now = to.and_hms_opt(23, 0, 0).unwrap().and_utc();
            let shipped = App::new(store.clone(), scorecards.clone(), FixedClock(now))
                .with_playbooks(load_playbooks(None).unwrap());
            let sim = simulate(&shipped, from, to, &|_, _| {}).await.unwrap();
            let (figures_shipped, at_risk) = figures(&sim);
            println!("Fernhill, shipped at-risk: {figures_shipped}");
            // The targets, but for the median: 56 days here (the demo's is
            // 88); a fade is seen once it has gone on for a while.
            assert!(at_risk.churned >= 20, "{figures_shipped}");
            assert!(at_risk.churned_share().unwrap() >= 0.7, "{figures_shipped}");
            assert!(
                at_risk.median_warning_days.unwrap() >= 45.0,
                "{figures_shipped}"
            );
            assert!(
                at_risk.max_per_owner_week().unwrap() <= 2.0,
                "{figures_shipped}"
            );
            assert!(at_risk.precision().unwrap() >= 0.15, "{figures_shipped}");
            let own = PlaybookSet {
                playbooks: parse_playbooks(SLOW_FADE, "at-risk.toml").unwrap(),
                origins: vec!["at-risk.toml".into()],
            };
            let app = App::new(store, scorecards, FixedClock(now)).with_playbooks(own);
            let sim = simulate(&app, from, to, &|_, _| {}).await.unwrap();
            assert_eq!(sim.health_days, 365);
            let (figures, at_risk) = figures(&sim);
            println!("Fernhill, its own at-risk: {figures}");
            assert!(at_risk.churned >= 20, "{figures}");
            assert!(at_risk.churned_share().unwrap() >= 0.7, "{figures}");
            assert!(at_risk.median_warning_days.unwrap() >= 60.0, "{figures}");
            assert!(at_risk.max_per_owner_week().unwrap() <= 2.0, "{figures}");
            assert!(at_risk.precision().unwrap() >= 0.15, "{figures}");
            // The simulation wrote nothing.
            assert!(app
                .store()
                .tasks(&Default::default(), None, 1)
                .await
                .unwrap()
                .is_empty());
        },
    )
    .await;
}
