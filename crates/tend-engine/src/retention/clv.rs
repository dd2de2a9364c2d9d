//! Lifetime value for subscriptions: the shifted-beta-geometric model of renewals
//! (Fader and Hardie 2007) fitted per segment, and each customer's discounted
//! expected residual lifetime (Fader and Hardie 2010) × ARR, with the coming renewal
//! taken at the account's own churn probability where the risk model has scored it.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use tend_core::metrics::arr_on;
use tend_core::retention::Lifetime;
use tend_stats::sbg::ShiftedBetaGeometric;
use tend_store::Store;

use super::{segment_of, Base, RetentionError};
use crate::risk::Target;

/// A segment has a model of its own from this many accounts, of which this many lost.
const MIN_SEGMENT_ACCOUNTS: usize = 30;
const MIN_SEGMENT_LOST: usize = 5;
/// The smallest discount rate per period: without discounting, the expected residual
/// lifetime of the sBG model can be infinite (γ ≤ 1).
pub const MIN_DISCOUNT_RATE: f64 = 0.001;
/// Renewals a segment's projection shows.
const PROJECTED: u32 = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct ClvOptions {
    /// Per renewal period (a year for annual terms).
    pub discount_rate: f64,
    pub currency: Option<tend_core::Currency>,
}

impl Default for ClvOptions {
    fn default() -> Self {
        ClvOptions {
            discount_rate: 0.10,
            currency: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SegmentFit {
    pub segment: String,
    pub accounts: usize,
    pub lost: usize,
    pub gamma: f64,
    pub delta: f64,
    /// False when the segment has too few accounts or losses and the model of all
    /// accounts stands in for it.
    pub own: bool,
    /// r(t) for t = 1…: the share of those still customers after t − 1 renewals
    /// who renew once more.
    pub retention: Vec<f64>,
    /// S(t) for t = 1…: the share of a new cohort still customers after t renewals.
    pub survival: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AccountValue {
    pub account_id: String,
    pub name: String,
    pub segment: String,
    pub renewals: u32,
    /// ARR in force on the day, in the report's currency (minor units).
    pub arr: i64,
    /// The segment model's probability that an account with this many renewals
    /// renews at the next one.
    pub renewal_probability: f64,
    /// The risk model's churn probability for the account, when scored.
    pub churn_probability: Option<f64>,
    /// Expected discounted renewals to come, from the segment model.
    pub derl: f64,
    /// The same with the coming renewal at 1 − the churn probability.
    pub adjusted_derl: f64,
    /// ARR × the adjusted DERL (minor units).
    pub clv: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClvReport {
    pub as_of: NaiveDate,
    pub currency: tend_core::Currency,
    pub discount_rate: f64,
    /// The day of the churn-risk scores the values are adjusted with, if any.
    pub risk_day: Option<NaiveDate>,
    pub overall: SegmentFit,
    pub segments: Vec<SegmentFit>,
    /// Customers on the day, highest value first.
    pub accounts: Vec<AccountValue>,
    /// Customers whose ARR could not be converted, left out.
    pub unconverted: usize,
}

/// Each customer's lifetime value on `as_of`.
pub async fn clv_report(
    store: &Store,
    as_of: NaiveDate,
    options: &ClvOptions,
) -> Result<ClvReport, RetentionError> {
    if !(options.discount_rate >= MIN_DISCOUNT_RATE && options.discount_rate.is_finite()) {
        return Err(RetentionError::Invalid(format!(
            "the discount rate must be at least {MIN_DISCOUNT_RATE}, got {}",
            options.discount_rate
        )));
    }
    let base = Base::load(store, options.currency, as_of).await?;
    let found = base.lifetimes(as_of)?;
    let overall = fit("all accounts", &found.iter().collect::<Vec<_>>(), None)?;
    let mut by_segment: BTreeMap<String, Vec<&Lifetime>> = BTreeMap::new();
    for lifetime in &found {
        by_segment
            .entry(segment_of(lifetime.account))
            .or_default()
            .push(lifetime);
    }
    let segments: Vec<SegmentFit> = by_segment
        .iter()
        .map(|(segment, members)| fit(segment, members, Some(&overall)))
        .collect::<Result<_, _>>()?;
    let model_of: HashMap<&str, ShiftedBetaGeometric> = segments
        .iter()
        .map(|s| (s.segment.as_str(), sbg(s)))
        .collect();

    let risk_day = store.latest_risk_day(Target::Churn.as_str()).await?;
    let churn: HashMap<String, f64> = match risk_day {
        Some(day) => store
            .risk_snapshots_on(Target::Churn.as_str(), day)
            .await?
            .into_iter()
            .map(|s| (s.account_id, s.probability))
            .collect(),
        None => HashMap::new(),
    };
    let reporting = base.money.reporting();
    let arr = arr_on(&base.contracts, as_of, &reporting, as_of);
    let mut unconverted = 0;
    let mut accounts = Vec::new();
    for lifetime in found.iter().filter(|l| !l.churned()) {
        let id = lifetime.account.id.as_str();
        if !arr.active.contains(id) {
            continue;
        }
        let Some(&arr) = arr.arr.get(id) else {
            unconverted += 1;
            continue;
        };
        let segment = segment_of(lifetime.account);
        let model = &model_of[segment.as_str()];
        let n = lifetime.renewals;
        let renewal_probability = model.retention_rate(n + 1);
        let derl = model.derl(options.discount_rate, n);
        let churn_probability = churn.get(id).copied();
        // Every term of the DERL sum carries the coming renewal's probability: the
        // account's own stands in for the segment's.
        let adjusted_derl = match churn_probability {
            Some(p) => derl * (1.0 - p) / renewal_probability,
            None => derl,
        };
        accounts.push(AccountValue {
            account_id: id.to_string(),
            name: lifetime.account.name.clone(),
            segment,
            renewals: n,
            arr,
            renewal_probability,
            churn_probability,
            derl,
            adjusted_derl,
            clv: (arr as f64 * adjusted_derl).round() as i64,
        });
    }
    accounts.sort_by(|a, b| {
        b.clv
            .cmp(&a.clv)
            .then_with(|| a.account_id.cmp(&b.account_id))
    });
    Ok(ClvReport {
        as_of,
        currency: base.money.currency,
        discount_rate: options.discount_rate,
        risk_day: risk_day.filter(|_| !churn.is_empty()),
        overall,
        segments,
        accounts,
        unconverted,
    })
}

fn sbg(fit: &SegmentFit) -> ShiftedBetaGeometric {
    ShiftedBetaGeometric {
        gamma: fit.gamma,
        delta: fit.delta,
        log_likelihood: f64::NAN,
    }
}

/// The sBG model of `members`' renewals: lost after `renewals` renewals means churned
/// at the end of period renewals + 1; a customer has lived `renewals` periods so far.
/// With too few accounts or losses, `fallback`'s parameters stand in.
fn fit(
    segment: &str,
    members: &[&Lifetime],
    fallback: Option<&SegmentFit>,
) -> Result<SegmentFit, RetentionError> {
    let lost = members.iter().filter(|l| l.churned()).count();
    let own =
        fallback.is_none() || (members.len() >= MIN_SEGMENT_ACCOUNTS && lost >= MIN_SEGMENT_LOST);
    let (gamma, delta) = match (own, fallback) {
        (false, Some(f)) => (f.gamma, f.delta),
        _ => {
            let periods: Vec<u32> = members
                .iter()
                .map(|l| l.renewals + u32::from(l.churned()))
                .collect();
            let churned: Vec<bool> = members.iter().map(|l| l.churned()).collect();
            let model = ShiftedBetaGeometric::fit_lifetimes(&periods, &churned)?;
            (model.gamma, model.delta)
        }
    };
    let model = ShiftedBetaGeometric {
        gamma,
        delta,
        log_likelihood: f64::NAN,
    };
    Ok(SegmentFit {
        segment: segment.to_string(),
        accounts: members.len(),
        lost,
        gamma,
        delta,
        own,
        retention: (1..=PROJECTED).map(|t| model.retention_rate(t)).collect(),
        survival: (1..=PROJECTED).map(|t| model.survival(t)).collect(),
    })
}
