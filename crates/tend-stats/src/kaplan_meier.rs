//! The Kaplan–Meier estimate of a survival function, with Greenwood's variance and
//! log-log ("exponential Greenwood") confidence intervals, as lifelines computes them.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::check_survival_data;
use crate::StatsError;

/// A fitted Kaplan–Meier curve: a step function over `timeline`.
///
/// ```
/// use tend_stats::KaplanMeier;
/// // Months until churn; `false` means still a customer when last seen (censored).
/// let months = [3.0, 5.0, 5.0, 8.0, 12.0, 12.0];
/// let churned = [true, true, false, true, false, false];
/// let km = KaplanMeier::fit(&months, &churned).unwrap();
/// assert_eq!(km.survival_at(4.0), 1.0 - 1.0 / 6.0);
/// // At 5 months one of five at risk churned (the other was censored).
/// assert_eq!(km.survival_at(6.0), (1.0 - 1.0 / 6.0) * (1.0 - 1.0 / 5.0));
/// // At 8 months one of three churned: survival falls to 4/9, below one half.
/// assert_eq!(km.median(), Some(8.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// 0 and every distinct duration, ascending.
    pub timeline: Vec<f64>,
    /// Subjects still at risk just before each time.
    pub at_risk: Vec<usize>,
    /// Events (deaths, churns) at each time.
    pub events: Vec<usize>,
    /// Estimated survival at each time (right-continuous).
    pub survival: Vec<f64>,
    /// Greenwood's cumulative sum Σ d / (n (n − d)) up to each time.
    pub greenwood: Vec<f64>,
    /// Lower and upper confidence bounds at each time.
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub alpha: f64,
}

impl KaplanMeier {
    /// Fits with 95% confidence intervals.
    pub fn fit(durations: &[f64], observed: &[bool]) -> Result<Self, StatsError> {
        Self::fit_with_alpha(durations, observed, 0.05)
    }

    /// Fits with `1 − alpha` confidence intervals.
    pub fn fit_with_alpha(
        durations: &[f64],
        observed: &[bool],
        alpha: f64,
    ) -> Result<Self, StatsError> {
        crate::check_survival_data(durations, observed)?;
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(StatsError::InvalidAlpha(alpha));
        }
        // For non-negative floats the IEEE bit pattern orders like the value, so each row
        // becomes one integer (duration bits, then the event flag) and a plain integer
        // sort orders them: several times faster than sorting floats with a comparator.
        let mut rows: Vec<u64> = durations
            .iter()
            .zip(observed)
            .map(|(&d, &died)| ((d + 0.0).to_bits() << 1) | u64::from(died))
            .collect();
        rows.sort_unstable();

        let mut curve = KaplanMeier {
            timeline: vec![0.0],
            at_risk: vec![durations.len()],
            events: vec![0],
            survival: vec![1.0],
            greenwood: vec![0.0],
            lower: Vec::new(),
            upper: Vec::new(),
            alpha,
        };
        let mut remaining = durations.len();
        let (mut survival, mut greenwood) = (1.0, 0.0);
        for group in rows.chunk_by(|a, b| a >> 1 == b >> 1) {
            let time = f64::from_bits(group[0] >> 1);
            let deaths = group.iter().filter(|&&row| row & 1 == 1).count();
            let n = remaining as f64;
            let d = deaths as f64;
            survival *= 1.0 - d / n;
            greenwood += if deaths == remaining {
                f64::INFINITY
            } else {
                d / (n * (n - d))
            };
            if time == 0.0 {
                // Events at time zero belong to the origin row.
                curve.events[0] = deaths;
                curve.survival[0] = survival;
                curve.greenwood[0] = greenwood;
            } else {
                curve.timeline.push(time);
                curve.at_risk.push(remaining);
                curve.events.push(deaths);
                curve.survival.push(survival);
                curve.greenwood.push(greenwood);
            }
            remaining -= group.len();
        }
        let z = Normal::new(0.0, 1.0)
            .expect("standard normal")
            .inverse_cdf(1.0 - alpha / 2.0);
        for (&s, &g) in curve.survival.iter().zip(&curve.greenwood) {
            let (lower, upper) = log_log_interval(s, g, z);
            curve.lower.push(lower);
            curve.upper.push(upper);
        }
        Ok(curve)
    }

    /// Survival at time `t`: the estimate at the last timeline point ≤ `t`.
    /// One curve per stratum (segment, plan, cohort …), each fitted on its own rows.
    ///
    /// ```
    /// use tend_stats::KaplanMeier;
    /// let curves = KaplanMeier::fit_stratified(
    ///     &[3.0, 5.0, 8.0, 2.0, 9.0, 12.0],
    ///     &[true, true, false, true, false, false],
    ///     &["smb", "smb", "smb", "enterprise", "enterprise", "enterprise"],
    ///     0.05,
    /// ).unwrap();
    /// assert!(curves["enterprise"].survival_at(6.0) > curves["smb"].survival_at(6.0));
    /// ```
    pub fn fit_stratified<G: Ord + Clone>(
        durations: &[f64],
        observed: &[bool],
        strata: &[G],
        alpha: f64,
    ) -> Result<std::collections::BTreeMap<G, KaplanMeier>, StatsError> {
        check_survival_data(durations, observed)?;
        if strata.len() != durations.len() {
            return Err(StatsError::LengthMismatch("durations", "strata"));
        }
        let mut rows: std::collections::BTreeMap<&G, (Vec<f64>, Vec<bool>)> = Default::default();
        for ((d, o), g) in durations.iter().zip(observed).zip(strata) {
            let entry = rows.entry(g).or_default();
            entry.0.push(*d);
            entry.1.push(*o);
        }
        rows.into_iter()
            .map(|(g, (d, o))| Ok((g.clone(), KaplanMeier::fit_with_alpha(&d, &o, alpha)?)))
            .collect()
    }

    pub fn survival_at(&self, t: f64) -> f64 {
        match self.timeline.partition_point(|&time| time <= t) {
            0 => 1.0,
            index => self.survival[index - 1],
        }
    }

    /// The first time at which survival is at or below one half; `None` if it never is.
    pub fn median(&self) -> Option<f64> {
        self.quantile(0.5)
    }

    /// The first time at which survival is at or below `q`.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.timeline
            .iter()
            .zip(&self.survival)
            .find(|(_, &s)| s <= q)
            .map(|(&t, _)| t)
    }
}

/// The exponential Greenwood interval: symmetric on log(−log S). At S = 1 and S = 0
/// the interval collapses onto the estimate.
fn log_log_interval(survival: f64, greenwood: f64, z: f64) -> (f64, f64) {
    if survival >= 1.0 || survival <= 0.0 {
        return (survival, survival);
    }
    let v = survival.ln();
    let spread = z * greenwood.sqrt() / v;
    let bound = |sign: f64| (-((-v).ln() + sign * spread).exp()).exp();
    (bound(-1.0), bound(1.0))
}
