//! Retention, lifetime value and why accounts left, against real stores, on a
//! company built unlike the demo: Quayside, whose accounts hold annual terms only and
//! each renew with a probability of their own drawn from a beta distribution per
//! segment — the shifted-beta-geometric model's own story — so the figures can be
//! checked against the truth the company was drawn from.

use chrono::{Datelike, Months};
use tend_core::*;
use tend_engine::health::load_scorecards;
use tend_engine::retention::clv::{clv_report, ClvOptions};
use tend_engine::retention::retention_report;
use tend_engine::retention::why::why_accounts_left;
use tend_stats::sbg::ShiftedBetaGeometric;
use tend_stats::KaplanMeier;

mod common;
use common::on_every_backend;
use common::quayside::*;

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
