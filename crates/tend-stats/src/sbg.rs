//! The shifted-beta-geometric (sBG) model of contract renewals (Fader and Hardie,
//! "How to Project Customer Retention", 2007): each customer renews at the end of every
//! period with a constant probability 1 − θ, and θ varies across customers as
//! Beta(γ, δ). Retention of a cohort then rises over time, as the customers most
//! likely to leave do so first. The discounted expected residual lifetime (DERL) is
//! from Fader and Hardie, "Customer-Base Valuation in a Contractual Setting: The
//! Perils of Ignoring Heterogeneity" (2010).

use crate::optimize::{minimize, Objective};
use crate::special::{hyp2f1, ln_beta};
use crate::StatsError;

/// A fitted sBG model. Periods count contract terms: a customer "lives" `t` periods
/// when they churned at the end of their t-th term.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftedBetaGeometric {
    pub gamma: f64,
    pub delta: f64,
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
}

/// Lifetimes counted per length: how many customers churned after exactly `t` periods
/// and how many were still customers after `t` periods when last seen.
struct Lifetimes {
    /// (t, churned after t periods, still active after t periods)
    counts: Vec<(u32, f64, f64)>,
}

impl Lifetimes {
    fn total(&self) -> f64 {
        self.counts.iter().map(|(_, c, a)| c + a).sum()
    }
}

struct Likelihood<'a>(&'a Lifetimes);

impl Objective for Likelihood<'_> {
    /// The negative log-likelihood per customer, at (ln γ, ln δ).
    fn value(&self, x: &[f64]) -> f64 {
        let model = ShiftedBetaGeometric {
            gamma: x[0].exp(),
            delta: x[1].exp(),
            log_likelihood: 0.0,
        };
        let ll: f64 = self
            .0
            .counts
            .iter()
            .map(|&(t, churned, active)| {
                let mut sum = 0.0;
                if churned > 0.0 {
                    sum += churned * model.ln_churn_probability(t);
                }
                if active > 0.0 {
                    sum += active * model.ln_survival(t);
                }
                sum
            })
            .sum();
        -ll / self.0.total()
    }
}

impl ShiftedBetaGeometric {
    /// Fits by maximum likelihood to a cohort's survivor counts: `alive[0]` customers
    /// at the start, `alive[t]` of them still customers after `t` periods.
    ///
    /// ```
    /// use tend_stats::sbg::ShiftedBetaGeometric;
    /// // "Regular" customers of Fader and Hardie (2007), per 1,000, years 0–7.
    /// let alive = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
    /// let model = ShiftedBetaGeometric::fit_cohort(&alive).unwrap();
    /// assert!((model.gamma - 0.704).abs() < 1e-3 && (model.delta - 1.182).abs() < 1e-3);
    /// ```
    pub fn fit_cohort(alive: &[f64]) -> Result<ShiftedBetaGeometric, StatsError> {
        if alive.len() < 2 {
            return Err(StatsError::Empty);
        }
        if let Some(w) = alive.windows(2).find(|w| w[1] > w[0] || w[1] < 0.0) {
            return Err(StatsError::Model(format!(
                "survivor counts must not grow or be negative, got {} after {}",
                w[1], w[0]
            )));
        }
        let last = alive.len() - 1;
        let mut counts: Vec<(u32, f64, f64)> = (1..=last)
            .map(|t| (t as u32, alive[t - 1] - alive[t], 0.0))
            .collect();
        counts[last - 1].2 = alive[last];
        Self::fit(&Lifetimes { counts })
    }

    /// Fits by maximum likelihood to customers seen for `periods[i]` periods, who
    /// churned at the end of the last of them (`churned[i]`) or were still customers.
    pub fn fit_lifetimes(
        periods: &[u32],
        churned: &[bool],
    ) -> Result<ShiftedBetaGeometric, StatsError> {
        if periods.len() != churned.len() {
            return Err(StatsError::LengthMismatch("periods", "churned"));
        }
        if periods.is_empty() {
            return Err(StatsError::Empty);
        }
        let mut by_length = std::collections::BTreeMap::<u32, (f64, f64)>::new();
        for (&t, &c) in periods.iter().zip(churned) {
            if c && t == 0 {
                return Err(StatsError::Model(
                    "a customer who churned lived at least one period".into(),
                ));
            }
            let entry = by_length.entry(t).or_default();
            if c {
                entry.0 += 1.0;
            } else {
                entry.1 += 1.0;
            }
        }
        if by_length.values().all(|(c, _)| *c == 0.0) {
            return Err(StatsError::Model(
                "no customer has churned yet, so churn cannot be estimated".into(),
            ));
        }
        let counts = by_length.into_iter().map(|(t, (c, a))| (t, c, a)).collect();
        Self::fit(&Lifetimes { counts })
    }

    fn fit(data: &Lifetimes) -> Result<ShiftedBetaGeometric, StatsError> {
        let found = minimize(&Likelihood(data), vec![0.0, 0.0])?;
        Ok(ShiftedBetaGeometric {
            gamma: found.x[0].exp(),
            delta: found.x[1].exp(),
            log_likelihood: -found.value * data.total(),
        })
    }

    /// ln P(T = t): churning at the end of period t (t ≥ 1).
    fn ln_churn_probability(&self, t: u32) -> f64 {
        let t = f64::from(t);
        ln_beta(self.gamma + 1.0, self.delta + t - 1.0) - ln_beta(self.gamma, self.delta)
    }

    /// ln S(t): still a customer after t periods.
    fn ln_survival(&self, t: u32) -> f64 {
        ln_beta(self.gamma, self.delta + f64::from(t)) - ln_beta(self.gamma, self.delta)
    }

    /// P(T = t): the share of a new cohort that churns at the end of period t.
    pub fn churn_probability(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        self.ln_churn_probability(t).exp()
    }

    /// S(t): the share of a new cohort still customers after t periods.
    pub fn survival(&self, t: u32) -> f64 {
        self.ln_survival(t).exp()
    }

    /// r(t) = S(t) / S(t − 1): the share of those customers after t − 1 periods who
    /// renew for period t + 1 — rising with t (t ≥ 1).
    pub fn retention_rate(&self, t: u32) -> f64 {
        let t = f64::from(t.max(1));
        (self.delta + t - 1.0) / (self.gamma + self.delta + t - 1.0)
    }

    /// The discounted expected residual lifetime (Fader and Hardie 2010, eq. 6) of a
    /// customer who has made `renewals` renewals (n of them, so is in period n + 1),
    /// counted in payments, before the coming renewal decision, whose payment is not
    /// discounted:
    /// Σ_{t>n} S(t)/S(n) / (1 + d)^(t−n−1)
    /// = (δ + n) / (γ + δ + n) · ₂F₁(1, δ + n + 1; γ + δ + n + 1; 1 / (1 + d)).
    /// Multiplied by a period's payment this is the customer's expected future value.
    pub fn derl(&self, discount_rate: f64, renewals: u32) -> f64 {
        assert!(discount_rate > 0.0, "a discount rate must be positive");
        let n = f64::from(renewals);
        let (g, d) = (self.gamma, self.delta);
        let z = 1.0 / (1.0 + discount_rate);
        (d + n) / (g + d + n) * hyp2f1(1.0, d + n + 1.0, g + d + n + 1.0, z).value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_and_cohort_counts_give_the_same_fit() {
        let alive = [1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0];
        let cohort = ShiftedBetaGeometric::fit_cohort(&alive).unwrap();
        let mut periods = Vec::new();
        let mut churned = Vec::new();
        for t in 1..alive.len() {
            for _ in 0..(alive[t - 1] - alive[t]) as usize {
                periods.push(t as u32);
                churned.push(true);
            }
        }
        for _ in 0..491 {
            periods.push(7);
            churned.push(false);
        }
        let single = ShiftedBetaGeometric::fit_lifetimes(&periods, &churned).unwrap();
        assert!((cohort.gamma - single.gamma).abs() < 1e-6);
        assert!((cohort.delta - single.delta).abs() < 1e-6);
        assert!((cohort.log_likelihood - single.log_likelihood).abs() < 1e-6);
    }

    #[test]
    fn survival_is_the_sum_of_later_churn() {
        let m = ShiftedBetaGeometric {
            gamma: 0.7,
            delta: 1.2,
            log_likelihood: 0.0,
        };
        let churned: f64 = (1..=5).map(|t| m.churn_probability(t)).sum();
        assert!((m.survival(5) - (1.0 - churned)).abs() < 1e-12);
        assert!((m.survival(3) / m.survival(2) - m.retention_rate(3)).abs() < 1e-12);
    }

    #[test]
    fn no_churn_at_all_is_refused() {
        let err = ShiftedBetaGeometric::fit_lifetimes(&[1, 2, 3], &[false; 3]).unwrap_err();
        assert!(err.to_string().contains("no customer has churned"));
    }
}
