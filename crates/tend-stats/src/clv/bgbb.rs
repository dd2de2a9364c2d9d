//! BG/BB (Fader, Hardie & Shang 2010) for discrete purchase opportunities (yearly
//! donations, renewals, events): while alive a customer buys at each opportunity with
//! probability p ~ Beta(α, β) and may drop out before each with θ ~ Beta(γ, δ).

use statrs::function::gamma::ln_gamma;

use super::histories::PurchaseHistories;
use super::PurchaseModel;
use crate::optimize::{minimize, Objective};
use crate::special::{ln_beta, log_add_exp};
use crate::StatsError;

/// A fitted BG/BB model. In its [`PurchaseHistories`], recency and age count
/// opportunities: the last purchase at opportunity `recency` of `age`.
#[derive(Debug, Clone, PartialEq)]
pub struct BgBb {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
    /// Σ weight × ln L over customers.
    pub log_likelihood: f64,
    pub iterations: u64,
}

impl BgBb {
    /// Fits by maximum likelihood, like `lifetimes.BetaGeoBetaBinomFitter().fit(...)`.
    /// Recency and age must be whole numbers of opportunities.
    pub fn fit(data: &PurchaseHistories) -> Result<BgBb, StatsError> {
        for (row, (tx, n)) in data.recency.iter().zip(&data.age).enumerate() {
            if tx.fract() != 0.0 || n.fract() != 0.0 {
                let reason =
                    format!("recency and age must count whole opportunities, got {tx} and {n}");
                return Err(StatsError::InvalidCustomer { row, reason });
            }
        }
        let compressed = data.compressed();
        let found = minimize(&Likelihood(&compressed), vec![0.1; 4])?;
        let p: Vec<f64> = found.x.iter().map(|v| v.exp()).collect();
        let model = BgBb {
            alpha: p[0],
            beta: p[1],
            gamma: p[2],
            delta: p[3],
            log_likelihood: -found.value * compressed.total_weight(),
            iterations: found.iterations,
        };
        Ok(model)
    }

    /// The log-likelihood of one customer: `frequency` purchases in `n` opportunities,
    /// the last at opportunity `recency`.
    pub fn customer_log_likelihood(&self, frequency: f64, recency: f64, n: f64) -> f64 {
        let (a, b, g, d, x) = (self.alpha, self.beta, self.gamma, self.delta, frequency);
        let (beta_ab, beta_gd) = (ln_beta(a, b), ln_beta(g, d));
        let alive_throughout = ln_beta(a + x, b + n - x) - beta_ab + ln_beta(g, d + n) - beta_gd;
        // Dropped out after opportunity recency + j, for j = 0 … n − recency − 1.
        let died = (0..(n - recency) as u64)
            .map(|j| {
                let j = j as f64;
                ln_beta(a + x, b + recency - x + j) + ln_beta(g + 1.0, d + recency + j)
            })
            .fold(f64::NEG_INFINITY, log_add_exp)
            - beta_gd
            - beta_ab;
        log_add_exp(alive_throughout, died)
    }

    /// P(alive at opportunity n + m | history).
    ///
    /// ```
    /// use tend_stats::clv::{BgBb, PurchaseModel};
    /// // The donations fit: 6 yearly opportunities.
    /// let model = BgBb { alpha: 1.204, beta: 0.750, gamma: 0.657, delta: 2.783, log_likelihood: 0.0, iterations: 0 };
    /// let loyal = model.probability_alive(1.0, 5.0, 6.0, 6.0);
    /// let lapsed = model.probability_alive(1.0, 2.0, 2.0, 6.0);
    /// assert!(loyal > 0.8 && lapsed < 0.3);
    /// assert!(model.expected_purchases(5.0, 5.0, 6.0, 6.0) > model.expected_purchases(5.0, 2.0, 2.0, 6.0));
    /// ```
    pub fn probability_alive(&self, m: f64, frequency: f64, recency: f64, n: f64) -> f64 {
        let (a, b, g, d, x) = (self.alpha, self.beta, self.gamma, self.delta, frequency);
        (ln_beta(a + x, b + n - x) - ln_beta(a, b) + ln_beta(g, d + n + m)
            - ln_beta(g, d)
            - self.customer_log_likelihood(x, recency, n))
        .exp()
    }

    /// P(exactly x purchases in the first n opportunities) for a new customer.
    pub fn probability_of_n_purchases(&self, n: u32, x: u32) -> f64 {
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let (n, x) = (f64::from(n), f64::from(x));
        let ln_choose =
            |n: f64, k: f64| ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0);
        let (beta_ab, beta_gd) = (ln_beta(a, b), ln_beta(g, d));
        let survived =
            ln_choose(n, x) + ln_beta(a + x, b + n - x) - beta_ab + ln_beta(g, d + n) - beta_gd;
        let died = (x as u64..n as u64)
            .map(|i| {
                let i = i as f64;
                ln_choose(i, x) + ln_beta(a + x, b + i - x) - beta_ab + ln_beta(g + 1.0, d + i)
                    - beta_gd
            })
            .fold(f64::NEG_INFINITY, log_add_exp);
        log_add_exp(survived, died).exp()
    }
}

impl PurchaseModel for BgBb {
    /// Expected purchases in the next `t` opportunities.
    fn expected_purchases(&self, t: f64, frequency: f64, recency: f64, n: f64) -> f64 {
        let (a, b, g, d, x) = (self.alpha, self.beta, self.gamma, self.delta, frequency);
        let ln_head = ln_beta(a + x + 1.0, b + n - x) - ln_beta(a, b)
            + (d / (g - 1.0)).abs().ln()
            + ln_gamma(g + d)
            - ln_gamma(1.0 + d)
            - self.customer_log_likelihood(x, recency, n);
        let sign = (d / (g - 1.0)).signum();
        let now = ln_gamma(1.0 + d + n) - ln_gamma(g + d + n);
        let later = ln_gamma(1.0 + d + n + t) - ln_gamma(g + d + n + t);
        sign * ln_head.exp() * (now.exp() - later.exp())
    }
}

struct Likelihood<'a>(&'a PurchaseHistories);

impl Objective for Likelihood<'_> {
    fn value(&self, p: &[f64]) -> f64 {
        let model = BgBb {
            alpha: p[0].exp(),
            beta: p[1].exp(),
            gamma: p[2].exp(),
            delta: p[3].exp(),
            log_likelihood: 0.0,
            iterations: 0,
        };
        -self
            .0
            .weighted_sum(|x, tx, t| model.customer_log_likelihood(x, tx, t))
            / self.0.total_weight()
    }
}
