//! Gamma-Gamma (Fader, Hardie & Lee 2005, note 025): each customer's spend per
//! purchase is Gamma(p, ν) around their own mean, with ν ~ Gamma(q, v) across
//! customers. Fitted on customers with at least one repeat purchase.

use statrs::function::gamma::{digamma, ln_gamma};

use crate::optimize::{minimize, Objective};
use crate::StatsError;

/// A fitted Gamma-Gamma model of the average value per purchase.
#[derive(Debug, Clone, PartialEq)]
pub struct GammaGamma {
    pub p: f64,
    pub q: f64,
    pub v: f64,
    /// Σ ln L over customers.
    pub log_likelihood: f64,
    pub iterations: u64,
}

impl GammaGamma {
    /// Fits on repeat customers' `frequency` (> 0) and average spend per repeat
    /// purchase (> 0), like `lifetimes.GammaGammaFitter().fit(...)`.
    ///
    /// ```
    /// use tend_stats::clv::GammaGamma;
    /// let model = GammaGamma::fit(&[1.0, 3.0, 2.0, 6.0, 1.0, 4.0], &[20.0, 35.5, 18.0, 41.0, 60.0, 25.0]).unwrap();
    /// // A frequent buyer's expected spend stays close to their own average.
    /// assert!((model.expected_average_value(6.0, 41.0) - 41.0).abs() < (model.expected_average_value(1.0, 41.0) - 41.0).abs());
    /// ```
    pub fn fit(frequency: &[f64], monetary_value: &[f64]) -> Result<GammaGamma, StatsError> {
        if frequency.len() != monetary_value.len() {
            return Err(StatsError::LengthMismatch("frequency", "monetary_value"));
        }
        if frequency.is_empty() {
            return Err(StatsError::Empty);
        }
        for (row, (&x, &m)) in frequency.iter().zip(monetary_value).enumerate() {
            if !(x.is_finite() && x > 0.0 && m.is_finite() && m > 0.0) {
                let reason = format!(
                    "the spend model needs repeat customers with positive spend, got frequency {x} and value {m}"
                );
                return Err(StatsError::InvalidCustomer { row, reason });
            }
        }
        let objective = Likelihood {
            frequency,
            monetary_value,
        };
        let found = minimize(&objective, vec![0.1; 3])?;
        Ok(GammaGamma {
            p: found.x[0].exp(),
            q: found.x[1].exp(),
            v: found.x[2].exp(),
            log_likelihood: -found.value * frequency.len() as f64,
            iterations: found.iterations,
        })
    }

    /// E[value per purchase | x repeat purchases averaging m]: a weighted mean of the
    /// population mean and the customer's own.
    pub fn expected_average_value(&self, frequency: f64, monetary_value: f64) -> f64 {
        let (p, q, v) = (self.p, self.q, self.v);
        let weight = p * frequency / (p * frequency + q - 1.0);
        let population_mean = v * p / (q - 1.0);
        (1.0 - weight) * population_mean + weight * monetary_value
    }
}

struct Likelihood<'a> {
    frequency: &'a [f64],
    monetary_value: &'a [f64],
}

impl Likelihood<'_> {
    fn sum(&self, [p, q, v]: [f64; 3], gradient: &mut [f64; 3]) -> f64 {
        let mut total = 0.0;
        *gradient = [0.0; 3];
        let (ln_v, lg_q, dg_q) = (v.ln(), ln_gamma(q), digamma(q));
        for (&x, &m) in self.frequency.iter().zip(self.monetary_value) {
            let px = p * x;
            let ln_xm_v = (x * m + v).ln();
            total += ln_gamma(px + q) - ln_gamma(px) - lg_q
                + q * ln_v
                + (px - 1.0) * m.ln()
                + px * x.ln()
                - (px + q) * ln_xm_v;
            let dg_pxq = digamma(px + q);
            gradient[0] += x * (dg_pxq - digamma(px) + m.ln() + x.ln() - ln_xm_v);
            gradient[1] += dg_pxq - dg_q + ln_v - ln_xm_v;
            gradient[2] += q / v - (px + q) / (x * m + v);
        }
        total
    }
}

impl Objective for Likelihood<'_> {
    fn value(&self, x: &[f64]) -> f64 {
        let mut gradient = [0.0; 3];
        self.value_and_gradient(x, &mut gradient)
    }

    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let p = [x[0].exp(), x[1].exp(), x[2].exp()];
        let mut g = [0.0; 3];
        let n = self.frequency.len() as f64;
        let total = self.sum(p, &mut g);
        for k in 0..3 {
            gradient[k] = -g[k] * p[k] / n;
        }
        -total / n
    }
}
