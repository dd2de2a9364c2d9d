//! BG/NBD (Fader, Hardie & Lee 2005): purchases at a Poisson rate λ ~ Gamma(r, α)
//! while alive; after each purchase the customer drops out with probability
//! p ~ Beta(a, b).

use rayon::prelude::*;
use statrs::function::gamma::{digamma, ln_gamma};

use super::histories::PurchaseHistories;
use super::PurchaseModel;
use crate::optimize::{minimize, Objective};
use crate::special::{hyp2f1, ln_beta, log_add_exp};
use crate::StatsError;

/// A fitted BG/NBD model. α is in the time unit of the data it was fitted on.
#[derive(Debug, Clone, PartialEq)]
pub struct BgNbd {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    /// Σ weight × ln L over customers, on the data as given (not rescaled).
    pub log_likelihood: f64,
    pub iterations: u64,
}

impl BgNbd {
    /// Fits by maximum likelihood, like `lifetimes.BetaGeoFitter().fit(...)`: times are
    /// rescaled so that the oldest customer's age is 1 while optimising, which only
    /// changes α's unit.
    ///
    /// ```
    /// use tend_stats::clv::{BgNbd, PurchaseHistories};
    /// let data = PurchaseHistories::new(
    ///     vec![0.0, 2.0, 5.0, 1.0, 0.0, 7.0, 3.0, 0.0],
    ///     vec![0.0, 20.0, 35.0, 4.0, 0.0, 38.0, 10.0, 0.0],
    ///     vec![39.0, 39.0, 39.0, 38.0, 37.0, 39.0, 36.0, 30.0],
    /// ).unwrap();
    /// let model = BgNbd::fit(&data).unwrap();
    /// assert!(model.probability_alive(3.0, 10.0, 36.0) < model.probability_alive(7.0, 38.0, 39.0));
    /// ```
    pub fn fit(data: &PurchaseHistories) -> Result<BgNbd, StatsError> {
        let scale = 1.0 / data.max_age();
        let scaled = data.scaled(scale);
        let objective = Likelihood::new(&scaled);
        let found = minimize(&objective, vec![0.1; 4])?;
        let p: Vec<f64> = found.x.iter().map(|v| v.exp()).collect();
        let mut model = BgNbd {
            r: p[0],
            alpha: p[1] / scale,
            a: p[2],
            b: p[3],
            log_likelihood: 0.0,
            iterations: found.iterations,
        };
        let unscaled = Likelihood::new(data);
        model.log_likelihood = -unscaled.sum([model.r, model.alpha, model.a, model.b], None);
        Ok(model)
    }

    /// The log-likelihood of one customer's history.
    pub fn customer_log_likelihood(&self, frequency: f64, recency: f64, age: f64) -> f64 {
        let (r, alpha, a, b, x) = (self.r, self.alpha, self.a, self.b, frequency);
        let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_beta(a, b + x) - ln_beta(a, b);
        let a3 = -(r + x) * (alpha + age).ln();
        if x == 0.0 {
            return a1 + a2 + a3;
        }
        let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + recency).ln();
        a1 + a2 + log_add_exp(a3, a4)
    }

    /// P(alive | history), Fader, Hardie & Lee's note 021.
    pub fn probability_alive(&self, frequency: f64, recency: f64, age: f64) -> f64 {
        if frequency == 0.0 {
            return 1.0;
        }
        let log_odds_dead = self.log_odds_dead(frequency, recency, age);
        1.0 / (1.0 + log_odds_dead.exp())
    }

    fn log_odds_dead(&self, x: f64, recency: f64, age: f64) -> f64 {
        (self.a / (self.b + x - 1.0)).ln()
            + (self.r + x) * ((self.alpha + age) / (self.alpha + recency)).ln()
    }

    /// Expected repeat purchases in (0, t] for a new customer (equation 9).
    pub fn expected_purchases_new_customer(&self, t: f64) -> f64 {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let hyp = hyp2f1(r, b, a + b - 1.0, t / (alpha + t));
        let tail = hyp.log + r * (alpha / (alpha + t)).ln();
        (a + b - 1.0) / (a - 1.0) * one_minus(hyp.sign, tail)
    }

    /// P(exactly n repeat purchases in (0, t]) for a new customer (equation 8).
    pub fn probability_of_n_purchases(&self, t: f64, n: u32) -> f64 {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let n = f64::from(n);
        let ln_p = (alpha / (alpha + t)).ln();
        let ln_q = (t / (alpha + t)).ln();
        let ln_pochhammer_ratio = |j: f64| ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0);
        let first =
            (ln_beta(a, b + n) - ln_beta(a, b) + ln_pochhammer_ratio(n) + r * ln_p + n * ln_q)
                .exp();
        if n == 0.0 {
            return first;
        }
        let finite_sum = (0..n as u64)
            .map(|j| (ln_pochhammer_ratio(j as f64) + j as f64 * ln_q).exp())
            .sum::<f64>();
        let second = (ln_beta(a + 1.0, b + n - 1.0) - ln_beta(a, b)).exp()
            * (1.0 - (r * ln_p).exp() * finite_sum);
        first + second
    }
}

impl PurchaseModel for BgNbd {
    /// Equation 10 of Fader, Hardie & Lee (2005), with the hypergeometric term in log
    /// space so that very frequent buyers and long horizons stay finite.
    fn expected_purchases(&self, t: f64, frequency: f64, recency: f64, age: f64) -> f64 {
        let (r, alpha, a, b, x) = (self.r, self.alpha, self.a, self.b, frequency);
        let hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, t / (alpha + age + t));
        let tail = hyp.log + (r + x) * ((alpha + age) / (alpha + age + t)).ln();
        let numerator = (a + b + x - 1.0) / (a - 1.0) * one_minus(hyp.sign, tail);
        let ln_denominator = if x > 0.0 {
            log_add_exp(0.0, self.log_odds_dead(x, recency, age))
        } else {
            0.0
        };
        numerator * (-ln_denominator).exp()
    }
}

/// 1 − sign·e^log, accurate when the two nearly cancel.
fn one_minus(sign: f64, log: f64) -> f64 {
    if sign > 0.0 {
        -log.exp_m1()
    } else {
        1.0 + log.exp()
    }
}

/// The mean negative log-likelihood over customers, with its analytic gradient in the
/// log-parameters. Terms that depend only on the frequency are computed once per
/// distinct frequency.
struct Likelihood<'a> {
    data: &'a PurchaseHistories,
    /// Distinct frequencies, their total weights, and each customer's index into them.
    frequencies: Vec<f64>,
    frequency_weight: Vec<f64>,
    frequency_index: Vec<u32>,
    total_weight: f64,
}

impl<'a> Likelihood<'a> {
    fn new(data: &'a PurchaseHistories) -> Self {
        let mut frequencies: Vec<f64> = data.frequency.clone();
        frequencies.sort_by(f64::total_cmp);
        frequencies.dedup();
        let mut frequency_weight = vec![0.0; frequencies.len()];
        let frequency_index: Vec<u32> = data
            .frequency
            .iter()
            .zip(&data.weight)
            .map(|(x, w)| {
                let i = frequencies.partition_point(|f| f < x);
                frequency_weight[i] += w;
                i as u32
            })
            .collect();
        Likelihood {
            data,
            frequencies,
            frequency_weight,
            frequency_index,
            total_weight: data.total_weight(),
        }
    }

    /// −Σ weight × ln L, and the gradient in (r, α, a, b) when asked for.
    fn sum(&self, [r, alpha, a, b]: [f64; 4], gradient: Option<&mut [f64; 4]>) -> f64 {
        // Per distinct frequency: A1 + A2 without the α term, and ln(b + x − 1).
        let ln_b_x1: Vec<f64> = self
            .frequencies
            .iter()
            .map(|x| (b + x - 1.0).ln())
            .collect();
        let (mut value, mut grad) = (0.0, [0.0; 4]);
        let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
        let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
        for (&x, &w) in self.frequencies.iter().zip(&self.frequency_weight) {
            value += w
                * (ln_gamma(r + x) - ln_gamma(r)
                    + r * ln_alpha
                    + ln_gamma(a + b)
                    + ln_gamma(b + x)
                    - ln_gamma(b)
                    - ln_gamma(a + b + x));
            let dg_abx = digamma(a + b + x);
            grad[0] += w * (digamma(r + x) - dg_r + ln_alpha);
            grad[1] += w * r / alpha;
            grad[2] += w * (dg_ab - dg_abx);
            grad[3] += w * (dg_ab + digamma(b + x) - dg_b - dg_abx);
        }
        let d = self.data;
        let zero = || (0.0, [0.0; 4]);
        let (rows_value, rows_grad) = (0..d.len())
            .into_par_iter()
            .with_min_len(1 << 15)
            .fold(zero, |(mut v, mut g), i| {
                let (x, w) = (d.frequency[i], d.weight[i]);
                let ln_t = (alpha + d.age[i]).ln();
                let a3 = -(r + x) * ln_t;
                if x == 0.0 {
                    v += w * a3;
                    g[0] -= w * ln_t;
                    g[1] -= w * r / (alpha + d.age[i]);
                    return (v, g);
                }
                let ln_tx = (alpha + d.recency[i]).ln();
                let ln_bx1 = ln_b_x1[self.frequency_index[i] as usize];
                let a4 = ln_a - ln_bx1 - (r + x) * ln_tx;
                v += w * log_add_exp(a3, a4);
                // Softmax weights of the two terms of the sum inside the log.
                let w4 = 1.0 / (1.0 + (a3 - a4).exp());
                let w3 = 1.0 - w4;
                g[0] -= w * (w3 * ln_t + w4 * ln_tx);
                g[1] -= w * (r + x) * (w3 / (alpha + d.age[i]) + w4 / (alpha + d.recency[i]));
                g[2] += w * w4 / a;
                g[3] -= w * w4 / (b + x - 1.0);
                (v, g)
            })
            .reduce(zero, |(v1, g1), (v2, g2)| {
                (v1 + v2, std::array::from_fn(|k| g1[k] + g2[k]))
            });
        value += rows_value;
        if let Some(out) = gradient {
            for k in 0..4 {
                out[k] = -(grad[k] + rows_grad[k]);
            }
        }
        -value
    }
}

impl Objective for Likelihood<'_> {
    fn value(&self, x: &[f64]) -> f64 {
        let p = [x[0].exp(), x[1].exp(), x[2].exp(), x[3].exp()];
        self.sum(p, None) / self.total_weight
    }

    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let p = [x[0].exp(), x[1].exp(), x[2].exp(), x[3].exp()];
        let mut g = [0.0; 4];
        let value = self.sum(p, Some(&mut g));
        for k in 0..4 {
            // Chain rule to log-parameters: ∂/∂ln θ = θ ∂/∂θ.
            gradient[k] = g[k] * p[k] / self.total_weight;
        }
        value / self.total_weight
    }
}
