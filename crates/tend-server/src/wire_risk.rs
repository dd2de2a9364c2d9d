//! The JSON of churn risk, retention, why accounts left and lifetime value.

use chrono::NaiveDate;
use serde::Serialize;
use tend_core::{Currency, Money};
use tend_engine::retention::clv::{AccountValue, ClvReport, SegmentFit};
use tend_engine::retention::why::{ReasonCount, SignalLift, WhyReport};
use tend_engine::retention::{Curve, CurveSet, GroupTest, RetentionReport};
use tend_engine::risk::{RiskExplanation, RiskGroup, RiskRow, RiskTable};
use utoipa::ToSchema;

use crate::wire::MoneyBody;

fn money(minor: i64, currency: Currency) -> MoneyBody {
    Money::new(minor, currency).into()
}

/// The portfolio's churn risk on a day, highest first.
#[derive(Serialize, ToSchema)]
pub struct RiskTableBody {
    /// churn or non_renewal.
    pub target: &'static str,
    pub day: NaiveDate,
    /// The currency ARR is shown in (major units).
    pub currency: String,
    /// Accounts whose ARR could not be converted into `currency`.
    pub arr_unconverted: usize,
    /// Accounts the filter selects; `rows` holds the first `limit` of them.
    pub total: usize,
    pub rows: Vec<RiskRowBody>,
    pub by_segment: Vec<RiskGroupBody>,
    pub by_owner: Vec<RiskGroupBody>,
}

#[derive(Serialize, ToSchema)]
pub struct RiskRowBody {
    pub account_id: String,
    pub name: String,
    pub segment: String,
    pub owner: String,
    /// Calibrated probability of the target within the model's horizon.
    pub probability: f64,
    /// high, medium or low.
    pub band: String,
    /// Change in points of percent against 7, 30 and 90 days earlier.
    pub change_7d: Option<f64>,
    pub change_30d: Option<f64>,
    pub change_90d: Option<f64>,
    /// ARR in force on the day, in `currency`'s major units.
    pub arr: Option<f64>,
    /// probability × ARR.
    pub arr_at_risk: Option<f64>,
    /// The reasons that raise the risk most, in words.
    pub reasons: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RiskGroupBody {
    pub name: String,
    pub accounts: usize,
    pub high: usize,
    pub arr: f64,
    pub arr_at_risk: f64,
}

impl From<RiskRow> for RiskRowBody {
    fn from(r: RiskRow) -> Self {
        RiskRowBody {
            account_id: r.account_id,
            name: r.name,
            segment: r.segment,
            owner: r.owner,
            probability: r.probability,
            band: r.band,
            change_7d: r.changes[0],
            change_30d: r.changes[1],
            change_90d: r.changes[2],
            arr: r.arr,
            arr_at_risk: r.arr_at_risk,
            reasons: r.reasons,
        }
    }
}

impl From<RiskGroup> for RiskGroupBody {
    fn from(g: RiskGroup) -> Self {
        RiskGroupBody {
            name: g.name,
            accounts: g.accounts,
            high: g.high,
            arr: g.arr,
            arr_at_risk: g.arr_at_risk,
        }
    }
}

impl RiskTableBody {
    pub fn new(t: RiskTable, limit: usize) -> Self {
        RiskTableBody {
            target: t.target.as_str(),
            day: t.day,
            currency: t.currency,
            arr_unconverted: t.arr_unconverted,
            total: t.rows.len(),
            rows: t.rows.into_iter().take(limit).map(Into::into).collect(),
            by_segment: t.by_segment.into_iter().map(Into::into).collect(),
            by_owner: t.by_owner.into_iter().map(Into::into).collect(),
        }
    }
}

/// One account's risk on a day and every reason behind it.
#[derive(Serialize, ToSchema)]
pub struct RiskExplanationBody {
    pub account_id: String,
    pub day: NaiveDate,
    pub target: String,
    pub horizon_days: u32,
    /// boosted_trees or logistic.
    pub model_kind: String,
    pub probability: f64,
    pub band: String,
    /// The account's health score that day.
    pub health: Option<f64>,
    /// Largest push either way first.
    pub reasons: Vec<RiskReasonBody>,
}

#[derive(Serialize, ToSchema)]
pub struct RiskReasonBody {
    pub feature: String,
    /// Push on the log-odds: positive raises the risk.
    pub contribution: f64,
    pub words: String,
}

impl From<RiskExplanation> for RiskExplanationBody {
    fn from(e: RiskExplanation) -> Self {
        RiskExplanationBody {
            account_id: e.account_id,
            day: e.day,
            target: e.target,
            horizon_days: e.horizon_days,
            model_kind: e.model_kind,
            probability: e.probability,
            band: e.band,
            health: e.health,
            reasons: e
                .reasons
                .into_iter()
                .map(|r| RiskReasonBody {
                    feature: r.feature,
                    contribution: r.contribution,
                    words: r.words,
                })
                .collect(),
        }
    }
}

/// Retention of the portfolio: survival curves, cohorts and hazard ratios.
#[derive(Serialize, ToSchema)]
pub struct RetentionReportBody {
    pub as_of: NaiveDate,
    pub currency: String,
    pub accounts: usize,
    pub lost: usize,
    /// Months from the first contract to the loss.
    pub lifetimes: CurveSetBody,
    /// Renewal decisions survived.
    pub renewals: CurveSetBody,
    /// By start quarter.
    pub cohorts: Vec<CohortBody>,
    /// The Cox model of the churn hazard; null with `hazards_not_fitted` saying why.
    pub hazards: Option<HazardsBody>,
    pub hazards_not_fitted: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CurveSetBody {
    /// months or renewals.
    pub unit: &'static str,
    pub overall: CurveBody,
    pub by_segment: Vec<CurveBody>,
    pub segment_test: Option<GroupTestBody>,
    pub by_start_year: Vec<CurveBody>,
    pub start_year_test: Option<GroupTestBody>,
}

#[derive(Serialize, ToSchema)]
pub struct CurveBody {
    pub label: String,
    pub accounts: usize,
    pub events: usize,
    pub median: Option<f64>,
    pub points: Vec<CurvePointBody>,
}

/// Kaplan–Meier survival at a point, with its 95% confidence interval.
#[derive(Serialize, ToSchema)]
pub struct CurvePointBody {
    pub at: f64,
    pub survival: f64,
    pub lower: f64,
    pub upper: f64,
    pub at_risk: usize,
}

/// The log-rank test that the groups share one curve.
#[derive(Serialize, ToSchema)]
pub struct GroupTestBody {
    pub groups: usize,
    pub statistic: f64,
    pub degrees_of_freedom: usize,
    pub p_value: f64,
}

#[derive(Serialize, ToSchema)]
pub struct CohortBody {
    /// "2025-Q3".
    pub quarter: String,
    pub accounts: usize,
    pub starting_arr: MoneyBody,
    pub unconverted: usize,
    pub after: Vec<CohortCellBody>,
}

/// Shares of the cohort's start retained `quarters` quarters after each start.
#[derive(Serialize, ToSchema)]
pub struct CohortCellBody {
    pub quarters: u32,
    pub logos: f64,
    pub grr: Option<f64>,
    pub nrr: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct HazardsBody {
    pub accounts: usize,
    pub events: usize,
    pub concordance: f64,
    pub ratios: Vec<HazardRatioBody>,
}

#[derive(Serialize, ToSchema)]
pub struct HazardRatioBody {
    pub covariate: String,
    pub ratio: f64,
    pub lower: f64,
    pub upper: f64,
    pub p_value: f64,
    pub words: String,
}

fn curve(c: Curve) -> CurveBody {
    CurveBody {
        label: c.label,
        accounts: c.accounts,
        events: c.events,
        median: c.median,
        points: c
            .points
            .into_iter()
            .map(|p| CurvePointBody {
                at: p.at,
                survival: p.survival,
                lower: p.lower,
                upper: p.upper,
                at_risk: p.at_risk,
            })
            .collect(),
    }
}

fn group_test(t: Option<GroupTest>) -> Option<GroupTestBody> {
    t.map(|t| GroupTestBody {
        groups: t.groups,
        statistic: t.statistic,
        degrees_of_freedom: t.degrees_of_freedom,
        p_value: t.p_value,
    })
}

fn curve_set(s: CurveSet) -> CurveSetBody {
    CurveSetBody {
        unit: s.unit,
        overall: curve(s.overall),
        by_segment: s.by_segment.into_iter().map(curve).collect(),
        segment_test: group_test(s.segment_test),
        by_start_year: s.by_start_year.into_iter().map(curve).collect(),
        start_year_test: group_test(s.start_year_test),
    }
}

impl From<RetentionReport> for RetentionReportBody {
    fn from(r: RetentionReport) -> Self {
        let currency = r.currency;
        let (hazards, hazards_not_fitted) = match r.hazards {
            Ok(h) => (
                Some(HazardsBody {
                    accounts: h.accounts,
                    events: h.events,
                    concordance: h.concordance,
                    ratios: h
                        .ratios
                        .into_iter()
                        .map(|r| HazardRatioBody {
                            covariate: r.covariate,
                            ratio: r.ratio,
                            lower: r.lower,
                            upper: r.upper,
                            p_value: r.p_value,
                            words: r.words,
                        })
                        .collect(),
                }),
                None,
            ),
            Err(reason) => (None, Some(reason)),
        };
        RetentionReportBody {
            as_of: r.as_of,
            currency: currency.as_str().to_string(),
            accounts: r.accounts,
            lost: r.lost,
            lifetimes: curve_set(r.lifetimes),
            renewals: curve_set(r.renewals),
            cohorts: r
                .cohorts
                .into_iter()
                .map(|c| CohortBody {
                    quarter: c.quarter,
                    accounts: c.accounts,
                    starting_arr: money(c.starting_arr, currency),
                    unconverted: c.unconverted,
                    after: c
                        .after
                        .into_iter()
                        .map(|a| CohortCellBody {
                            quarters: a.quarters,
                            logos: a.logos,
                            grr: a.grr,
                            nrr: a.nrr,
                        })
                        .collect(),
                })
                .collect(),
            hazards,
            hazards_not_fitted,
        }
    }
}

/// Why accounts left: reasons, and the signals that came before.
#[derive(Serialize, ToSchema)]
pub struct WhyBody {
    pub as_of: NaiveDate,
    pub currency: String,
    pub lost: usize,
    pub lost_arr: MoneyBody,
    /// Lost accounts whose ARR could not be converted into `currency`.
    pub unconverted: usize,
    pub reasons: Vec<ReasonCountBody>,
    pub by_segment: Vec<ReasonCountBody>,
    pub by_arr: Vec<ReasonCountBody>,
    pub by_tenure: Vec<ReasonCountBody>,
    /// Largest lift first.
    pub signals: Vec<SignalLiftBody>,
}

#[derive(Serialize, ToSchema)]
pub struct ReasonCountBody {
    /// The segment, ARR band or tenure band; empty in the overall count.
    pub group: String,
    pub reason: String,
    pub accounts: usize,
    /// ARR in force the day before each loss.
    pub arr: MoneyBody,
}

#[derive(Serialize, ToSchema)]
pub struct SignalLiftBody {
    pub name: &'static str,
    pub words: &'static str,
    /// Losses with the signal in the 90 days before, of all losses read.
    pub lost_with: usize,
    pub lost: usize,
    /// Staying account-months with the signal in the 90 days before, of all read.
    pub stayed_with: usize,
    pub stayed: usize,
    /// How many times as often the signal came before a loss.
    pub lift: Option<f64>,
}

impl From<WhyReport> for WhyBody {
    fn from(r: WhyReport) -> Self {
        let currency = r.currency;
        let counts = |rows: Vec<ReasonCount>| -> Vec<ReasonCountBody> {
            rows.into_iter()
                .map(|c| ReasonCountBody {
                    group: c.group,
                    reason: c.reason,
                    accounts: c.accounts,
                    arr: money(c.arr, currency),
                })
                .collect()
        };
        WhyBody {
            as_of: r.as_of,
            currency: currency.as_str().to_string(),
            lost: r.lost,
            lost_arr: money(r.lost_arr, currency),
            unconverted: r.unconverted,
            reasons: counts(r.reasons),
            by_segment: counts(r.by_segment),
            by_arr: counts(r.by_arr),
            by_tenure: counts(r.by_tenure),
            signals: r
                .signals
                .into_iter()
                .map(|s: SignalLift| SignalLiftBody {
                    name: s.name,
                    words: s.words,
                    lost_with: s.lost_with,
                    lost: s.lost,
                    stayed_with: s.stayed_with,
                    stayed: s.stayed,
                    lift: s.lift,
                })
                .collect(),
        }
    }
}

/// Customer lifetime value.
#[derive(Serialize, ToSchema)]
pub struct ClvBody {
    pub as_of: NaiveDate,
    pub currency: String,
    pub discount_rate: f64,
    /// The day of the churn-risk scores values are adjusted with, if any.
    pub risk_day: Option<NaiveDate>,
    pub overall: SegmentFitBody,
    pub segments: Vec<SegmentFitBody>,
    /// Customers the filter selects; `accounts` holds the first `limit`.
    pub total_accounts: usize,
    pub total_clv: MoneyBody,
    pub accounts: Vec<AccountValueBody>,
    pub unconverted: usize,
}

/// The shifted-beta-geometric model of one segment's renewals.
#[derive(Serialize, ToSchema)]
pub struct SegmentFitBody {
    pub segment: String,
    pub accounts: usize,
    pub lost: usize,
    pub gamma: f64,
    pub delta: f64,
    /// False when all accounts' model stands in (too few accounts or losses).
    pub own: bool,
    /// r(1), r(2), …: the share renewing at the t-th renewal.
    pub retention: Vec<f64>,
    /// S(1), S(2), …: the share of a new cohort still customers after t renewals.
    pub survival: Vec<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct AccountValueBody {
    pub account_id: String,
    pub name: String,
    pub segment: String,
    pub renewals: u32,
    pub arr: MoneyBody,
    pub renewal_probability: f64,
    pub churn_probability: Option<f64>,
    pub derl: f64,
    pub adjusted_derl: f64,
    pub clv: MoneyBody,
}

fn segment_fit(s: SegmentFit) -> SegmentFitBody {
    SegmentFitBody {
        segment: s.segment,
        accounts: s.accounts,
        lost: s.lost,
        gamma: s.gamma,
        delta: s.delta,
        own: s.own,
        retention: s.retention,
        survival: s.survival,
    }
}

impl ClvBody {
    pub fn new(r: ClvReport, limit: usize) -> Self {
        let currency = r.currency;
        let total: i64 = r.accounts.iter().map(|a| a.clv).sum();
        ClvBody {
            as_of: r.as_of,
            currency: currency.as_str().to_string(),
            discount_rate: r.discount_rate,
            risk_day: r.risk_day,
            overall: segment_fit(r.overall),
            segments: r.segments.into_iter().map(segment_fit).collect(),
            total_accounts: r.accounts.len(),
            total_clv: money(total, currency),
            accounts: r
                .accounts
                .into_iter()
                .take(limit)
                .map(|a: AccountValue| AccountValueBody {
                    account_id: a.account_id,
                    name: a.name,
                    segment: a.segment,
                    renewals: a.renewals,
                    arr: money(a.arr, currency),
                    renewal_probability: a.renewal_probability,
                    churn_probability: a.churn_probability,
                    derl: a.derl,
                    adjusted_derl: a.adjusted_derl,
                    clv: money(a.clv, currency),
                })
                .collect(),
            unconverted: r.unconverted,
        }
    }
}
