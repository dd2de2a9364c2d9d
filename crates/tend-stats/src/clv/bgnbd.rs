//! BG/NBD (Fader, Hardie & Lee 2005): purchases at a Poisson rate λ ~ Gamma(r, α)
//! while alive; after each purchase the customer drops out with probability
//! p ~ Beta(a, b).

use rayon::prelude::*;
use statrs::function::gamma::{digamma, ln_gamma};

use super::histories::PurchaseHistories;
use super::PurchaseModel;
use crate::logistic::sigmoid;
use crate::optimize::{minimize, minimize_newton, Curved, Objective};
use crate::special::{hyp2f1, ln_beta, log_add_exp, trigamma};
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
        // Newton takes a handful of passes on well-determined data; on a few customers
        // the optimum can sit far out on a flat ridge, where L-BFGS is the safer walker.
        let found = minimize_newton(&objective, vec![0.1; 4])
            .or_else(|_| minimize(&objective, vec![0.1; 4]))?;
        let p: Vec<f64> = found.x.iter().map(|v| v.exp()).collect();
        // Rescaling time by s multiplies each customer's likelihood by s^x (x purchase
        // times, each density scaled by 1/s), so the likelihood on the data as given
        // follows from the optimum without another pass.
        let purchases: f64 = data
            .frequency
            .iter()
            .zip(&data.weight)
            .map(|(x, w)| x * w)
            .sum();
        let model = BgNbd {
            r: p[0],
            alpha: p[1] / scale,
            a: p[2],
            b: p[3],
            log_likelihood: -found.value * objective.total_weight + purchases * scale.ln(),
            iterations: found.iterations,
        };
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
        sigmoid(-log_odds_dead)
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

/// The distinct values of a column and, for each row, the index of its value: terms
/// that depend on one column are then computed once per distinct value.
struct Distinct {
    values: Vec<f64>,
    index: Vec<u32>,
}

impl Distinct {
    fn of(column: &[f64]) -> Distinct {
        let mut values = column.to_vec();
        values.sort_unstable_by(f64::total_cmp);
        values.dedup();
        let index = column
            .iter()
            .map(|v| values.partition_point(|u| u < v) as u32)
            .collect();
        Distinct { values, index }
    }
}

/// The mean negative log-likelihood over customers, with its analytic gradient in the
/// log-parameters. Customers' frequencies, recencies and ages take few distinct
/// values, so every logarithm is taken once per distinct value, not once per customer.
struct Likelihood<'a> {
    data: &'a PurchaseHistories,
    frequency: Distinct,
    frequency_weight: Vec<f64>,
    recency: Distinct,
    age: Distinct,
    total_weight: f64,
}

impl<'a> Likelihood<'a> {
    fn new(data: &'a PurchaseHistories) -> Self {
        let frequency = Distinct::of(&data.frequency);
        let mut frequency_weight = vec![0.0; frequency.values.len()];
        for (&i, w) in frequency.index.iter().zip(&data.weight) {
            frequency_weight[i as usize] += w;
        }
        Likelihood {
            data,
            frequency,
            frequency_weight,
            recency: Distinct::of(&data.recency),
            age: Distinct::of(&data.age),
            total_weight: data.total_weight(),
        }
    }

    /// Σ weight × ln L with its gradient and Hessian in (r, α, a, b).
    fn log_likelihood(&self, [r, alpha, a, b]: [f64; 4]) -> Derivatives {
        let mut total = Derivatives::default();
        let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
        let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
        let (tg_r, tg_b, tg_ab) = (trigamma(r), trigamma(b), trigamma(a + b));
        // A1 and A2 of the likelihood depend on the frequency only.
        for (&x, &w) in self.frequency.values.iter().zip(&self.frequency_weight) {
            total.value += w
                * (ln_gamma(r + x) - ln_gamma(r)
                    + r * ln_alpha
                    + ln_gamma(a + b)
                    + ln_gamma(b + x)
                    - ln_gamma(b)
                    - ln_gamma(a + b + x));
            let (dg_abx, tg_abx) = (digamma(a + b + x), trigamma(a + b + x));
            total.add_gradient(
                w,
                [
                    digamma(r + x) - dg_r + ln_alpha,
                    r / alpha,
                    dg_ab - dg_abx,
                    dg_ab + digamma(b + x) - dg_b - dg_abx,
                ],
            );
            let h = &mut total.hessian;
            h[0][0] += w * (trigamma(r + x) - tg_r);
            h[0][1] += w / alpha;
            h[1][1] -= w * r / (alpha * alpha);
            h[2][2] += w * (tg_ab - tg_abx);
            h[2][3] += w * (tg_ab - tg_abx);
            h[3][3] += w * (tg_ab + trigamma(b + x) - tg_b - tg_abx);
        }
        let logs = |d: &Distinct| -> (Vec<f64>, Vec<f64>) {
            d.values
                .iter()
                .map(|v| ((alpha + v).ln(), 1.0 / (alpha + v)))
                .unzip()
        };
        let (ln_age, inv_age) = logs(&self.age);
        let (ln_recency, inv_recency) = logs(&self.recency);
        let ln_a_over_bx1: Vec<f64> = self
            .frequency
            .values
            .iter()
            .map(|x| ln_a - (b + x - 1.0).ln())
            .collect();
        let inv_bx1: Vec<f64> = self
            .frequency
            .values
            .iter()
            .map(|x| 1.0 / (b + x - 1.0))
            .collect();
        let d = self.data;
        let rows = (0..d.len())
            .into_par_iter()
            .with_min_len(1 << 15)
            .fold(Derivatives::default, |mut acc, i| {
                let (x, w) = (d.frequency[i], d.weight[i]);
                let (t, fx) = (self.age.index[i] as usize, self.frequency.index[i] as usize);
                let rx = r + x;
                // ln L = A1 + A2 + ln(e^a3 + [x > 0] e^a4).
                let a3 = -rx * ln_age[t];
                let d3 = [-ln_age[t], -rx * inv_age[t], 0.0, 0.0];
                if x == 0.0 {
                    acc.value += w * a3;
                    acc.add_gradient(w, d3);
                    acc.hessian[0][1] -= w * inv_age[t];
                    acc.hessian[1][1] += w * rx * inv_age[t] * inv_age[t];
                    return acc;
                }
                let tx = self.recency.index[i] as usize;
                let a4 = ln_a_over_bx1[fx] - rx * ln_recency[tx];
                let d4 = [
                    -ln_recency[tx],
                    -rx * inv_recency[tx],
                    1.0 / a,
                    -inv_bx1[fx],
                ];
                // ln(e^a3 + e^a4) and the share of each term, from one exponential.
                let e = (-(a3 - a4).abs()).exp();
                // ln(1 + e) rather than ln_1p(e): the absolute error is below 1e-16
                // either way, and ln is several times faster.
                acc.value += w * (a3.max(a4) + (1.0 + e).ln());
                let small = e / (1.0 + e);
                let (w3, w4) = if a3 >= a4 {
                    (1.0 - small, small)
                } else {
                    (small, 1.0 - small)
                };
                acc.add_gradient(w, std::array::from_fn(|k| w3 * d3[k] + w4 * d4[k]));
                let h = &mut acc.hessian;
                h[0][1] -= w * (w3 * inv_age[t] + w4 * inv_recency[tx]);
                h[1][1] += w
                    * rx
                    * (w3 * inv_age[t] * inv_age[t] + w4 * inv_recency[tx] * inv_recency[tx]);
                h[2][2] -= w * w4 / (a * a);
                h[3][3] += w * w4 * inv_bx1[fx] * inv_bx1[fx];
                let diff: [f64; 4] = std::array::from_fn(|k| d3[k] - d4[k]);
                let mix = w * w3 * w4;
                for j in 0..4 {
                    for k in j..4 {
                        h[j][k] += mix * diff[j] * diff[k];
                    }
                }
                acc
            })
            .reduce(Derivatives::default, Derivatives::plus);
        total.plus(rows)
    }
}

/// A log-likelihood with its gradient and Hessian (upper triangle filled).
#[derive(Default)]
struct Derivatives {
    value: f64,
    gradient: [f64; 4],
    hessian: [[f64; 4]; 4],
}

impl Derivatives {
    fn add_gradient(&mut self, weight: f64, gradient: [f64; 4]) {
        for (total, g) in self.gradient.iter_mut().zip(gradient) {
            *total += weight * g;
        }
    }

    fn plus(mut self, other: Derivatives) -> Derivatives {
        self.value += other.value;
        for j in 0..4 {
            self.gradient[j] += other.gradient[j];
            for k in 0..4 {
                self.hessian[j][k] += other.hessian[j][k];
            }
        }
        self
    }

    /// The mean negative log-likelihood's derivatives in the log-parameters
    /// u = ln θ: ∂/∂u = θ ∂/∂θ, ∂²/∂u_j∂u_k = θ_j θ_k ∂²/∂θ_j∂θ_k + [j = k] θ_j ∂/∂θ_j.
    fn to_objective(
        &self,
        theta: [f64; 4],
        total_weight: f64,
        gradient: &mut [f64],
        hessian: &mut [Vec<f64>],
    ) -> f64 {
        let scale = -1.0 / total_weight;
        for j in 0..4 {
            gradient[j] = scale * theta[j] * self.gradient[j];
            for k in j..4 {
                let mut h = theta[j] * theta[k] * self.hessian[j][k];
                if j == k {
                    h += theta[j] * self.gradient[j];
                }
                hessian[j][k] = scale * h;
                hessian[k][j] = scale * h;
            }
        }
        scale * self.value
    }
}

impl Curved for Likelihood<'_> {
    fn value_gradient_hessian(
        &self,
        x: &[f64],
        gradient: &mut [f64],
        hessian: &mut [Vec<f64>],
    ) -> f64 {
        let theta = [x[0].exp(), x[1].exp(), x[2].exp(), x[3].exp()];
        self.log_likelihood(theta)
            .to_objective(theta, self.total_weight, gradient, hessian)
    }
}

impl Objective for Likelihood<'_> {
    fn value(&self, x: &[f64]) -> f64 {
        let mut gradient = [0.0; 4];
        self.value_and_gradient(x, &mut gradient)
    }

    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let mut hessian = vec![vec![0.0; 4]; 4];
        self.value_gradient_hessian(x, gradient, &mut hessian)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hessian_matches_differences_of_the_gradient() {
        let data = PurchaseHistories::new(
            vec![0.0, 2.0, 5.0, 1.0, 0.0, 7.0, 3.0, 0.0],
            vec![0.0, 20.0, 35.0, 4.0, 0.0, 38.0, 10.0, 0.0],
            vec![39.0, 39.0, 39.0, 38.0, 37.0, 39.0, 36.0, 30.0],
        )
        .unwrap()
        .scaled(1.0 / 39.0);
        let objective = Likelihood::new(&data);
        let at = [-0.7, 0.4, -0.2, 0.9];
        let (mut g, mut h) = (vec![0.0; 4], vec![vec![0.0; 4]; 4]);
        objective.value_gradient_hessian(&at, &mut g, &mut h);
        for k in 0..4 {
            let step = 1e-6;
            let (mut up, mut down) = (at, at);
            up[k] += step;
            down[k] -= step;
            let (mut gu, mut gd) = (vec![0.0; 4], vec![0.0; 4]);
            let vu = objective.value_and_gradient(&up, &mut gu);
            let vd = objective.value_and_gradient(&down, &mut gd);
            assert!(
                ((vu - vd) / (2.0 * step) - g[k]).abs() < 1e-6,
                "gradient {k}: {} vs {}",
                (vu - vd) / (2.0 * step),
                g[k]
            );
            for j in 0..4 {
                let numeric = (gu[j] - gd[j]) / (2.0 * step);
                assert!(
                    (numeric - h[j][k]).abs() < 1e-5,
                    "hessian[{j}][{k}]: {numeric} vs {}",
                    h[j][k]
                );
            }
        }
    }
}
