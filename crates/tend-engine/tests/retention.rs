//! Retention, lifetime value and why accounts left, against real stores, on a
//! company built unlike the demo: Quayside, whose accounts hold annual terms only and
//! each renew with a probability of their own drawn from a beta distribution per
//! segment — the shifted-beta-geometric model's own story — so the figures can be
//! checked against the truth the company was drawn from.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};
use tend_core::*;
use tend_demo::Company;
use tend_engine::health::load_scorecards;
use tend_engine::retention::clv::{clv_report, ClvOptions};
use tend_engine::retention::retention_report;
use tend_engine::retention::why::why_accounts_left;
use tend_stats::sbg::ShiftedBetaGeometric;
use tend_stats::KaplanMeier;

mod common;
use common::on_every_backend;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

const AS_OF: &str = "2026-06-30";
/// Each segment's beta distribution of the chance to leave at a renewal, and ARR.
const SEGMENTS: [(&str, f64, f64, i64); 2] =
    [("Fleet", 0.8, 3.0, 40_000), ("Depot", 1.2, 1.4, 8_000)];
const REASONS: [&str; 3] = ["budget cut", "moved to a competitor", "closed the depot"];

/// What Quayside was drawn from, per account.
struct Truth {
    start: NaiveDate,
    segment: &'static str,
    lost_on: Option<NaiveDate>,
    renewals: u32,
    /// ARR of each term, first to last.
    arr: Vec<i64>,
}

/// `accounts` accounts starting between 2020 and mid-2025. At each renewal an
/// account leaves with its own chance θ; the less likely to leave have an executive
/// sponsor (θ below the segment's mean), so sponsors mark slower churn. Fleet
/// accounts grow 10% a renewal. Half the accounts that leave lose their champion 45
/// days before; one in twenty of the rest loses one at some point.
fn quayside(accounts: usize, seed: u64) -> (Company, Vec<Truth>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let as_of = day(AS_OF);
    let usd = Currency::parse("USD").unwrap();
    let mut company = Company::default();
    let mut truth = Vec::new();
    let first_start = day("2020-01-01");
    for n in 0..accounts {
        let id = format!("QS-{n:05}");
        let (segment, gamma, delta, base_arr) = SEGMENTS[n % 2];
        let beta = Beta::new(gamma, delta).unwrap();
        let theta: f64 = beta.sample(&mut rng);
        let mean = mean_of_beta(gamma, delta);
        let start = first_start + Days::new(rng.random_range(0..2007));
        let mut arr = base_arr * rng.random_range(50..200);
        let mut lost_on = None;
        let mut terms = Vec::new();
        let mut k = 0u32;
        loop {
            let term_start = start.checked_add_months(Months::new(12 * k)).unwrap();
            if term_start > as_of {
                break;
            }
            let renewal = start.checked_add_months(Months::new(12 * (k + 1))).unwrap();
            terms.push(arr);
            let leaves = renewal <= as_of && rng.random::<f64>() < theta;
            company.contracts.push(Contract {
                id: format!("{id}-T{k}"),
                account_id: id.clone(),
                product: "Quayside Fleet".into(),
                seats: 20,
                arr: Money::new(arr, usd),
                start_date: term_start,
                end_date: renewal - Days::new(1),
                renewal_date: renewal,
                auto_renew: n % 3 == 0,
                notice_days: 60,
                status: if leaves {
                    ContractStatus::Churned
                } else if renewal <= as_of {
                    ContractStatus::Renewed
                } else {
                    ContractStatus::Active
                },
            });
            if leaves {
                lost_on = Some(renewal);
                break;
            }
            if renewal > as_of {
                break;
            }
            if segment == "Fleet" {
                arr = arr * 11 / 10;
            }
            k += 1;
        }
        let reason = lost_on.map(|_| REASONS[rng.random_range(0..REASONS.len())].to_string());
        company.accounts.push(Account {
            id: id.clone(),
            name: format!("Quayside customer {n}"),
            parent_id: None,
            segment: Some(segment.into()),
            tier: None,
            industry: Some("logistics".into()),
            region: None,
            lifecycle_stage: None,
            csm_owner: Some("mira".into()),
            am_owner: None,
            created_on: start,
            churned_on: lost_on,
            churn_reason: reason,
        });
        if theta < mean {
            company.contacts.push(contact(
                &id,
                "sponsor",
                ContactRole::ExecutiveSponsor,
                start,
                None,
            ));
        }
        let champion_left = match lost_on {
            Some(lost) if rng.random::<f64>() < 0.5 => Some(lost - Days::new(45)),
            _ if rng.random::<f64>() < 0.05 => {
                let span = (as_of - start).num_days().max(1) as u64;
                Some(start + Days::new(rng.random_range(0..span)))
            }
            _ => None,
        };
        company.contacts.push(contact(
            &id,
            "champion",
            ContactRole::Champion,
            start,
            champion_left,
        ));
        // One day of product use at the start: the store's usage history begins with
        // the first account, so signals are read from then on.
        company.usage_daily.push(UsageDaily {
            account_id: id.clone(),
            day: start,
            events: 10,
            active_users: 3,
            active_users_30d: 3,
            feature_events: BTreeMap::new(),
        });
        truth.push(Truth {
            start,
            segment,
            lost_on,
            renewals: decided_renewals(start, terms.len(), as_of),
            arr: terms,
        });
    }
    (company, truth)
}

/// Renewals won and known to be: every term but the last (current, or the one
/// lost) was renewed, and a renewal counts once its 30 days of grace have passed.
fn decided_renewals(start: NaiveDate, terms: usize, as_of: NaiveDate) -> u32 {
    (1..terms as u32)
        .filter(|&k| {
            let renewal = start.checked_add_months(Months::new(12 * k)).unwrap();
            renewal + Days::new(30) <= as_of
        })
        .count() as u32
}

fn contact(
    account: &str,
    who: &str,
    role: ContactRole,
    joined: NaiveDate,
    left: Option<NaiveDate>,
) -> Contact {
    Contact {
        id: format!("{account}-{who}"),
        account_id: account.into(),
        name: format!("{who} of {account}"),
        email: None,
        title: None,
        role,
        joined_on: Some(joined),
        left_on: left,
    }
}

/// Sponsors mark the accounts less likely to leave than the segment's mean.
fn mean_of_beta(gamma: f64, delta: f64) -> f64 {
    gamma / (gamma + delta)
}

#[tokio::test]
async fn curves_cohorts_and_hazards_match_the_truth_the_company_was_drawn_from() {
    let (company, truth) = quayside(1200, 11);
    let as_of = day(AS_OF);
    // Independently of tend: lifetimes in months from the truth.
    let months: Vec<f64> = truth
        .iter()
        .map(|t| (t.lost_on.unwrap_or(as_of) - t.start).num_days() as f64 / 30.4375)
        .collect();
    let lost: Vec<bool> = truth.iter().map(|t| t.lost_on.is_some()).collect();
    let expected = KaplanMeier::fit(&months, &lost).unwrap();
    on_every_backend("retention_curves", &company, |store| {
        let (months, lost, expected) = (&months, &lost, &expected);
        let truth = &truth;
        async move {
            let report = retention_report(&store, as_of, None).await.unwrap();
            assert_eq!(report.accounts, 1200);
            assert_eq!(report.lost, lost.iter().filter(|&&l| l).count());
            let overall = &report.lifetimes.overall;
            for point in &overall.points {
                assert!(
                    (point.survival - expected.survival_at(point.at)).abs() < 1e-12,
                    "at {} months: {} against {}",
                    point.at,
                    point.survival,
                    expected.survival_at(point.at)
                );
                assert!(point.lower <= point.survival && point.survival <= point.upper);
                let followed = months.iter().filter(|&&m| m >= point.at).count();
                assert_eq!(point.at_risk, followed);
            }
            // The segments were drawn from different distributions.
            let test = report.lifetimes.segment_test.as_ref().unwrap();
            assert_eq!(test.groups, 2);
            assert!(test.p_value < 0.001, "log-rank p = {}", test.p_value);
            let renewals_test = report.renewals.segment_test.as_ref().unwrap();
            assert!(renewals_test.p_value < 0.001);
            // After one renewal decision: the share of accounts that faced it and won.
            let faced: Vec<&Truth> = truth
                .iter()
                .filter(|t| t.renewals > 0 || t.lost_on.is_some())
                .collect();
            let won = faced.iter().filter(|t| t.renewals > 0).count();
            let after_one = report.renewals.overall.points[0];
            assert_eq!(after_one.at, 1.0);
            assert!((after_one.survival - won as f64 / faced.len() as f64).abs() < 1e-12);

            // A cohort a year on: logos kept, GRR and NRR from the terms drawn.
            let row = report
                .cohorts
                .iter()
                .find(|r| r.quarter == "2022-Q2")
                .unwrap();
            let members: Vec<&Truth> = truth
                .iter()
                .filter(|t| t.start.year() == 2022 && (4..=6).contains(&t.start.month()))
                .collect();
            assert_eq!(row.accounts, members.len());
            let year = row.after[3];
            assert_eq!(year.quarters, 4);
            let kept: Vec<&&Truth> = members
                .iter()
                .filter(|t| {
                    t.lost_on
                        .is_none_or(|d| d > t.start.checked_add_months(Months::new(12)).unwrap())
                })
                .collect();
            assert!((year.logos - kept.len() as f64 / members.len() as f64).abs() < 1e-12);
            let start: i64 = members.iter().map(|t| t.arr[0]).sum();
            let now: i64 = kept.iter().map(|t| t.arr[1]).sum();
            let gross: i64 = kept.iter().map(|t| t.arr[1].min(t.arr[0])).sum();
            assert!((year.nrr.unwrap() - now as f64 / start as f64).abs() < 1e-12);
            assert!((year.grr.unwrap() - gross as f64 / start as f64).abs() < 1e-12);
            assert!(year.nrr > year.grr, "Fleet grows at renewal");

            // Sponsors were given to the accounts less likely to leave.
            let hazards = report.hazards.as_ref().unwrap();
            let sponsor = hazards
                .ratios
                .iter()
                .find(|r| r.covariate == "executive sponsor")
                .unwrap();
            assert!(sponsor.upper < 1.0, "{}", sponsor.words);
            assert!(
                sponsor
                    .words
                    .starts_with("accounts without an executive sponsor on record churn"),
                "{}",
                sponsor.words
            );
            assert!(hazards.concordance > 0.6);
        }
    })
    .await;
}

#[tokio::test]
async fn lifetime_value_recovers_each_segments_renewal_rates() {
    let (company, truth) = quayside(2400, 5);
    let as_of = day(AS_OF);
    on_every_backend("retention_clv", &company, |store| {
        let truth = &truth;
        async move {
            let options = ClvOptions::default();
            let report = clv_report(&store, as_of, &options).await.unwrap();
            assert!(report.risk_day.is_none());
            for (segment, gamma, delta, _) in SEGMENTS {
                let fit = report
                    .segments
                    .iter()
                    .find(|s| s.segment == segment)
                    .unwrap();
                assert!(fit.own);
                let drawn = ShiftedBetaGeometric {
                    gamma,
                    delta,
                    log_likelihood: 0.0,
                };
                for (t, rate) in fit.retention.iter().enumerate().take(3) {
                    let expected = drawn.retention_rate(t as u32 + 1);
                    assert!(
                        (rate - expected).abs() < 0.05,
                        "{segment} r({}) = {rate:.3}, drawn from {expected:.3}",
                        t + 1
                    );
                }
            }
            let customers = truth.iter().filter(|t| t.lost_on.is_none()).count();
            assert_eq!(report.accounts.len(), customers);
            for value in &report.accounts {
                let fit = report
                    .segments
                    .iter()
                    .find(|s| s.segment == value.segment)
                    .unwrap();
                let model = ShiftedBetaGeometric {
                    gamma: fit.gamma,
                    delta: fit.delta,
                    log_likelihood: 0.0,
                };
                assert_eq!(value.derl, model.derl(0.10, value.renewals));
                // Without risk scores the segment's renewal rate stands.
                assert_eq!(value.churn_probability, None);
                assert_eq!(value.adjusted_derl, value.derl);
                assert_eq!(value.clv, (value.arr as f64 * value.derl).round() as i64);
            }
            let sorted = report.accounts.windows(2).all(|w| w[0].clv >= w[1].clv);
            assert!(sorted);
            // Undiscounted, an sBG lifetime can be infinite: no rate at or near 0.
            for rate in [-0.1, 0.0, 5e-324, f64::NAN] {
                let bad = ClvOptions {
                    discount_rate: rate,
                    ..ClvOptions::default()
                };
                assert!(clv_report(&store, as_of, &bad).await.is_err(), "{rate}");
            }
        }
    })
    .await;
}

#[tokio::test]
async fn why_accounts_left_counts_reasons_and_finds_the_signal_that_came_first() {
    let (company, truth) = quayside(1200, 23);
    let as_of = day(AS_OF);
    let set = load_scorecards(None).unwrap();
    on_every_backend("retention_why", &company, |store| {
        let (truth, set, company) = (&truth, &set, &company);
        async move {
            let report = why_accounts_left(&store, set, as_of, None).await.unwrap();
            let lost: Vec<&Account> = company
                .accounts
                .iter()
                .filter(|a| a.churned_on.is_some())
                .collect();
            assert_eq!(report.lost, lost.len());
            for reason in REASONS {
                let expected = lost
                    .iter()
                    .filter(|a| a.churn_reason.as_deref() == Some(reason))
                    .count();
                let row = report.reasons.iter().find(|r| r.reason == reason).unwrap();
                assert_eq!(row.accounts, expected, "{reason}");
                for (segment, ..) in SEGMENTS {
                    let in_segment = lost
                        .iter()
                        .filter(|a| {
                            a.churn_reason.as_deref() == Some(reason)
                                && a.segment.as_deref() == Some(segment)
                        })
                        .count();
                    let found = report
                        .by_segment
                        .iter()
                        .find(|r| r.group == segment && r.reason == reason)
                        .map_or(0, |r| r.accounts);
                    assert_eq!(found, in_segment, "{segment} / {reason}");
                }
            }
            // The ARR lost is the last term's.
            let lost_arr: i64 = truth
                .iter()
                .filter(|t| t.lost_on.is_some())
                .map(|t| *t.arr.last().unwrap())
                .sum();
            assert_eq!(report.lost_arr, lost_arr);
            assert_eq!(report.unconverted, 0);
            let champion = report
                .signals
                .iter()
                .find(|s| s.name == "champion_left")
                .unwrap();
            assert!(champion.lift.unwrap() > 5.0, "lift {:?}", champion.lift);
            assert_eq!(report.signals[0].name, "champion_left");
        }
    })
    .await;
}

#[test]
fn quayside_terms_follow_each_other() {
    let (company, truth) = quayside(50, 1);
    for t in &truth {
        assert!(t.lost_on.is_none_or(|d| d > t.start));
        assert!((t.renewals as usize) < t.arr.len());
        assert!(t.segment == "Fleet" || t.segment == "Depot");
    }
    assert_eq!(company.accounts.len(), 50);
}
