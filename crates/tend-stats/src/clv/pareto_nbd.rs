//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases at a Poisson rate
//! λ ~ Gamma(r, α) while alive, an exponential lifetime with rate μ ~ Gamma(s, β).

use statrs::function::gamma::ln_gamma;

use super::histories::PurchaseHistories;
use super::PurchaseModel;
use crate::logistic::sigmoid;
use crate::optimize::{minimize, Objective};
use crate::special::{hyp2f1, ln_beta, log_add_exp, SignedLog};
use crate::StatsError;

/// A fitted Pareto/NBD model; α and β are in the time unit of the data.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoNbd {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
    /// Σ weight × ln L over customers, on the data as given.
    pub log_likelihood: f64,
    pub iterations: u64,
}

impl ParetoNbd {
    /// Fits by maximum likelihood, like `lifetimes.ParetoNBDFitter().fit(...)`, with
    /// times rescaled so that the oldest customer's age is 1 while optimising.
    pub fn fit(data: &PurchaseHistories) -> Result<ParetoNbd, StatsError> {
        let scale = 1.0 / data.max_age();
        let scaled = data.compressed().scaled(scale);
        let found = minimize(&Likelihood(&scaled), vec![0.0; 4])?;
        let p: Vec<f64> = found.x.iter().map(|v| v.exp()).collect();
        let mut model = ParetoNbd {
            r: p[0],
            alpha: p[1] / scale,
            s: p[2],
            beta: p[3] / scale,
            log_likelihood: 0.0,
            iterations: found.iterations,
        };
        model.log_likelihood =
            data.weighted_sum(|x, tx, t| model.customer_log_likelihood(x, tx, t));
        Ok(model)
    }

    /// The log-likelihood of one customer's history (Fader, Hardie & Lee 2005, note
    /// on the Pareto/NBD), with the Gauss function in log space.
    pub fn customer_log_likelihood(&self, frequency: f64, recency: f64, age: f64) -> f64 {
        let (r, alpha, s, beta, x) = (self.r, self.alpha, self.s, self.beta, frequency);
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let alive = -(r + x) * (alpha + age).ln() - s * (beta + age).ln();
        let a2 = log_add_exp(
            alive,
            s.ln() + self.log_a0(x, recency, age) - (r + s + x).ln(),
        );
        a1 + a2
    }

    /// ln A₀: the likelihood of having died between the last purchase and `age`.
    fn log_a0(&self, x: f64, recency: f64, age: f64) -> f64 {
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let (high, low, second) = if alpha < beta {
            (beta, alpha, r + x)
        } else {
            (alpha, beta, s + 1.0)
        };
        let rsx = r + s + x;
        let term = |t: f64| {
            let h = hyp2f1(rsx, second, rsx + 1.0, (high - low) / (high + t));
            SignedLog {
                log: h.log - rsx * (high + t).ln(),
                sign: h.sign,
            }
        };
        let mut later = term(age);
        later.sign = -later.sign;
        term(recency).add(later).log
    }

    /// P(alive | history).
    ///
    /// ```
    /// use tend_stats::clv::{ParetoNbd, PurchaseModel};
    /// // The CDNOW fit (weeks).
    /// let model = ParetoNbd { r: 0.55, alpha: 10.58, s: 0.61, beta: 11.67, log_likelihood: 0.0, iterations: 0 };
    /// assert!((model.probability_alive(2.0, 30.43, 38.86) - 0.868_41).abs() < 1e-4);
    /// // Two purchases long ago: probably gone, and fewer purchases to come.
    /// assert!(model.probability_alive(2.0, 5.0, 38.86) < 0.5);
    /// assert!(model.expected_purchases(52.0, 2.0, 5.0, 38.86) < model.expected_purchases(52.0, 2.0, 30.43, 38.86));
    /// ```
    pub fn probability_alive(&self, frequency: f64, recency: f64, age: f64) -> f64 {
        let (r, alpha, s, beta, x) = (self.r, self.alpha, self.s, self.beta, frequency);
        let log_odds_dead = s.ln() - (r + s + x).ln()
            + (r + x) * (alpha + age).ln()
            + s * (beta + age).ln()
            + self.log_a0(x, recency, age);
        sigmoid(-log_odds_dead)
    }

    /// Expected repeat purchases in (0, t] for a new customer.
    pub fn expected_purchases_new_customer(&self, t: f64) -> f64 {
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        r * beta / alpha * one_minus_power_over(s - 1.0, (beta / (beta + t)).ln())
    }

    /// P(exactly n purchases in the next t | history), as `lifetimes`'
    /// `conditional_probability_of_n_purchases_up_to_time`.
    pub fn probability_of_n_purchases(
        &self,
        n: u32,
        t: f64,
        frequency: f64,
        recency: f64,
        age: f64,
    ) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let (r, alpha, s, beta, x) = (self.r, self.alpha, self.s, self.beta, frequency);
        let n = f64::from(n);
        let (high, low, p) = if alpha < beta {
            (beta, alpha, r + x + n)
        } else {
            (alpha, beta, s + 1.0)
        };
        let log_l = self.customer_log_likelihood(x, recency, age);
        let head = r * alpha.ln() + s * beta.ln() - ln_gamma(r);
        let log_p_zero =
            head + ln_gamma(r + x) - (r + x) * (alpha + age).ln() - s * (beta + age).ln() - log_l;
        let log_b_one = head + ln_gamma(r + x + n)
            - (r + x + n) * (alpha + age + t).ln()
            - s * (beta + age + t).ln();
        let log_b = |i: f64, horizon: f64| {
            let h = hyp2f1(
                r + s + x + i,
                p,
                r + s + x + n + 1.0,
                (high - low) / (high + horizon),
            );
            head + ln_gamma(r + s + x + i) + ln_beta(r + x + n, s + 1.0) + h.log
                - ln_gamma(s)
                - (r + s + x + i) * (high + horizon).ln()
        };
        let first = n * t.ln() - ln_gamma(n + 1.0) + log_b_one - log_l;
        let second = log_b(0.0, age) - log_l;
        let third = (0..=n as u64)
            .map(|i| {
                let i = i as f64;
                i * t.ln() - ln_gamma(i + 1.0) + log_b(i, age + t) - log_l
            })
            .fold(f64::NEG_INFINITY, log_add_exp);
        let zeroth = if n == 0.0 { -log_p_zero.exp_m1() } else { 0.0 };
        zeroth + first.exp() + second.exp() - third.exp()
    }
}

impl PurchaseModel for ParetoNbd {
    fn expected_purchases(&self, t: f64, frequency: f64, recency: f64, age: f64) -> f64 {
        let (r, alpha, s, beta, x) = (self.r, self.alpha, self.s, self.beta, frequency);
        let log_alive_part = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln()
            - (r + x) * (alpha + age).ln()
            - s * (beta + age).ln()
            - self.customer_log_likelihood(x, recency, age);
        let rate = (r + x).ln() + (beta + age).ln() - (alpha + age).ln();
        let horizon = one_minus_power_over(s - 1.0, ((beta + age) / (beta + age + t)).ln());
        (log_alive_part + rate).exp() * horizon
    }
}

/// (1 − e^(k·ln_q)) / k, with its limit −ln_q at k = 0.
fn one_minus_power_over(k: f64, ln_q: f64) -> f64 {
    if k == 0.0 {
        -ln_q
    } else {
        -(k * ln_q).exp_m1() / k
    }
}

/// The mean negative log-likelihood, with numerical derivatives (the analytic ones
/// run through the Gauss function and are not worth their risk).
struct Likelihood<'a>(&'a PurchaseHistories);

impl Objective for Likelihood<'_> {
    fn value(&self, x: &[f64]) -> f64 {
        let model = ParetoNbd {
            r: x[0].exp(),
            alpha: x[1].exp(),
            s: x[2].exp(),
            beta: x[3].exp(),
            log_likelihood: 0.0,
            iterations: 0,
        };
        -self
            .0
            .weighted_sum(|x, tx, t| model.customer_log_likelihood(x, tx, t))
            / self.0.total_weight()
    }
}
