//! Cox proportional hazards, fitted as lifelines fits it: covariates standardized,
//! Newton–Raphson on the partial likelihood (Efron's tie handling by default,
//! Breslow's as an option) with step-halving, an optional L2 penalty on the
//! standardized coefficients, and strata with their own risk sets.

// Index loops here mirror the matrix formulas they implement.
#![allow(clippy::needless_range_loop)]
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use crate::concordance::{concordance_counts, ConcordanceCounts};
use crate::linalg::Matrix;
use crate::StatsError;

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ties {
    #[default]
    Efron,
    Breslow,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CoxOptions {
    pub ties: Ties,
    /// L2 penalty λ: the fit maximises ll − n·λ/2·Σβ² over standardized coefficients,
    /// as lifelines' `penalizer` does.
    pub penalizer: f64,
    /// Confidence level of the intervals is 1 − alpha.
    pub alpha: f64,
    pub max_iterations: usize,
}

impl Default for CoxOptions {
    fn default() -> Self {
        CoxOptions {
            ties: Ties::Efron,
            penalizer: 0.0,
            alpha: 0.05,
            max_iterations: 100,
        }
    }
}

/// Survival data for a Cox model: one column per covariate, each as long as
/// `durations`.
#[derive(Debug, Clone, Copy)]
pub struct CoxData<'a> {
    pub covariates: &'a [&'a [f64]],
    pub durations: &'a [f64],
    pub observed: &'a [bool],
    /// Stratum of each row, or `None` for one common baseline.
    pub strata: Option<&'a [usize]>,
}

/// The Breslow estimate of one stratum's baseline cumulative hazard, at the mean
/// covariates.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    pub times: Vec<f64>,
    pub cumulative_hazard: Vec<f64>,
}

impl Baseline {
    /// The cumulative hazard at `t` (a step function; 0 before the first time).
    pub fn at(&self, t: f64) -> f64 {
        match self.times.partition_point(|&time| time <= t) {
            0 => 0.0,
            index => self.cumulative_hazard[index - 1],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CoxModel {
    pub coefficients: Vec<f64>,
    pub standard_errors: Vec<f64>,
    pub z: Vec<f64>,
    pub p_values: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// Partial log-likelihood at the fit (less the penalty, if any).
    pub log_likelihood: f64,
    /// Partial log-likelihood with every coefficient zero.
    pub null_log_likelihood: f64,
    /// Likelihood-ratio test against the null model.
    pub lr_statistic: f64,
    pub lr_p_value: f64,
    /// Harrell's concordance of the fitted partial hazards on the training data,
    /// comparing pairs within strata.
    pub concordance: f64,
    /// Covariate means the partial hazards are relative to.
    pub means: Vec<f64>,
    /// Baseline cumulative hazard per stratum (one entry without strata).
    pub baselines: Vec<Baseline>,
    pub iterations: usize,
}

impl CoxModel {
    /// exp((x − mean) · β) for one row of covariates.
    pub fn partial_hazard(&self, row: &[f64]) -> f64 {
        row.iter()
            .zip(&self.means)
            .zip(&self.coefficients)
            .map(|((x, m), b)| (x - m) * b)
            .sum::<f64>()
            .exp()
    }

    /// Survival at each of `times` for one row in `stratum` (0 without strata).
    pub fn survival(&self, row: &[f64], stratum: usize, times: &[f64]) -> Vec<f64> {
        let hazard = self.partial_hazard(row);
        let baseline = &self.baselines[stratum];
        times
            .iter()
            .map(|&t| (-baseline.at(t) * hazard).exp())
            .collect()
    }
}

/// Rows sorted by stratum, then by duration, with standardized covariates row-major.
struct Prepared {
    p: usize,
    x: Vec<f64>,
    durations: Vec<f64>,
    observed: Vec<bool>,
    /// Start of each stratum's rows, plus the end.
    stratum_starts: Vec<usize>,
    stratum_ids: Vec<usize>,
}

/// Log-likelihood, gradient and information (minus the Hessian) at `beta`.
struct Derivatives {
    log_likelihood: f64,
    gradient: Vec<f64>,
    information: Matrix,
}

/// Fits the model.
///
/// ```
/// use tend_stats::cox::{fit, CoxData, CoxOptions};
/// // Months to churn of eight accounts and whether each was on an old plan.
/// let months = [2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 9.0, 12.0];
/// let churned = [true, true, true, false, true, true, false, false];
/// let old_plan = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0];
/// let data = CoxData { covariates: &[&old_plan], durations: &months, observed: &churned, strata: None };
/// let model = fit(&data, &CoxOptions::default()).unwrap();
/// assert!(model.coefficients[0] > 0.0, "the old plan churns sooner");
/// assert!(model.partial_hazard(&[1.0]) > model.partial_hazard(&[0.0]));
/// ```
pub fn fit(data: &CoxData<'_>, options: &CoxOptions) -> Result<CoxModel, StatsError> {
    crate::check_survival_data(data.durations, data.observed)?;
    let n = data.durations.len();
    if data.covariates.iter().any(|c| c.len() != n) {
        return Err(StatsError::LengthMismatch("durations", "covariates"));
    }
    if data.strata.is_some_and(|s| s.len() != n) {
        return Err(StatsError::LengthMismatch("durations", "strata"));
    }
    if n < 2 || data.covariates.is_empty() {
        return Err(StatsError::Empty);
    }
    if !(options.alpha > 0.0 && options.alpha < 1.0) {
        return Err(StatsError::InvalidAlpha(options.alpha));
    }
    let p = data.covariates.len();
    let means: Vec<f64> = data
        .covariates
        .iter()
        .map(|c| c.iter().sum::<f64>() / n as f64)
        .collect();
    let stds: Vec<f64> = data
        .covariates
        .iter()
        .zip(&means)
        .map(|(c, m)| (c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n as f64 - 1.0)).sqrt())
        .collect();
    if let Some(column) = stds.iter().position(|s| !(*s > 0.0 && s.is_finite())) {
        return Err(StatsError::ConstantCovariate(column));
    }
    let prepared = prepare(data, &means, &stds);

    let penalty = options.penalizer * n as f64;
    let evaluate = |beta: &[f64]| {
        let mut d = derivatives(&prepared, beta, options.ties);
        if penalty > 0.0 {
            for k in 0..p {
                d.log_likelihood -= 0.5 * penalty * beta[k] * beta[k];
                d.gradient[k] -= penalty * beta[k];
                d.information.add(k, k, penalty);
            }
        }
        d
    };

    let mut beta = vec![0.0; p];
    let mut current = evaluate(&beta);
    let null_log_likelihood = current.log_likelihood;
    let mut iterations = 0;
    loop {
        iterations += 1;
        let delta = current
            .information
            .solve(&current.gradient)
            .ok_or(StatsError::DidNotConverge)?;
        let mut step = 1.0;
        let (next_beta, next) = loop {
            let candidate: Vec<f64> = beta.iter().zip(&delta).map(|(b, d)| b + step * d).collect();
            let evaluated = evaluate(&candidate);
            if evaluated.log_likelihood
                >= current.log_likelihood - 1e-12 * current.log_likelihood.abs()
                || step < 1e-6
            {
                break (candidate, evaluated);
            }
            step /= 2.0;
        };
        let moved = delta.iter().map(|d| (d * step).powi(2)).sum::<f64>().sqrt();
        beta = next_beta;
        current = next;
        if !current.log_likelihood.is_finite() {
            return Err(StatsError::DidNotConverge);
        }
        if moved < 1e-10 {
            break;
        }
        if iterations >= options.max_iterations {
            return Err(StatsError::DidNotConverge);
        }
    }

    let covariance = current
        .information
        .inverse()
        .ok_or(StatsError::DidNotConverge)?;
    let z_critical = Normal::new(0.0, 1.0)
        .expect("standard normal")
        .inverse_cdf(1.0 - options.alpha / 2.0);
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    let coefficients: Vec<f64> = beta.iter().zip(&stds).map(|(b, s)| b / s).collect();
    let standard_errors: Vec<f64> = (0..p)
        .map(|k| covariance.get(k, k).sqrt() / stds[k])
        .collect();
    let z: Vec<f64> = coefficients
        .iter()
        .zip(&standard_errors)
        .map(|(c, se)| c / se)
        .collect();
    let p_values = z.iter().map(|z| 2.0 * normal.sf(z.abs())).collect();
    let lower = coefficients
        .iter()
        .zip(&standard_errors)
        .map(|(c, se)| c - z_critical * se)
        .collect();
    let upper = coefficients
        .iter()
        .zip(&standard_errors)
        .map(|(c, se)| c + z_critical * se)
        .collect();
    let lr_statistic = 2.0 * (current.log_likelihood - null_log_likelihood);
    let lr_p_value = ChiSquared::new(p as f64).expect("p > 0").sf(lr_statistic);

    // Partial hazards of the training rows (in their sorted order) for the baseline and
    // the concordance.
    let hazards: Vec<f64> = prepared
        .x
        .chunks_exact(p)
        .map(|row| row.iter().zip(&beta).map(|(x, b)| x * b).sum::<f64>().exp())
        .collect();
    let baselines = prepared
        .stratum_starts
        .windows(2)
        .map(|w| {
            breslow_baseline(
                &prepared.durations[w[0]..w[1]],
                &prepared.observed[w[0]..w[1]],
                &hazards[w[0]..w[1]],
            )
        })
        .collect();
    // Pairs are compared within strata only, as lifelines does.
    let predicted_times: Vec<f64> = hazards.iter().map(|h| -h).collect();
    let concordance = prepared
        .stratum_starts
        .windows(2)
        .map(|w| {
            concordance_counts(
                &prepared.durations[w[0]..w[1]],
                &predicted_times[w[0]..w[1]],
                &prepared.observed[w[0]..w[1]],
            )
        })
        .fold(ConcordanceCounts::default(), ConcordanceCounts::plus)
        .index();

    Ok(CoxModel {
        coefficients,
        standard_errors,
        z,
        p_values,
        lower,
        upper,
        log_likelihood: current.log_likelihood,
        null_log_likelihood,
        lr_statistic,
        lr_p_value,
        concordance,
        means,
        baselines: order_baselines(baselines, &prepared.stratum_ids),
        iterations,
    })
}

/// Baselines indexed by stratum id (ids without rows get an empty baseline).
fn order_baselines(baselines: Vec<Baseline>, ids: &[usize]) -> Vec<Baseline> {
    let count = ids.iter().max().map_or(1, |m| m + 1);
    let mut ordered = vec![
        Baseline {
            times: Vec::new(),
            cumulative_hazard: Vec::new()
        };
        count
    ];
    for (baseline, &id) in baselines.into_iter().zip(ids) {
        ordered[id] = baseline;
    }
    ordered
}

fn prepare(data: &CoxData<'_>, means: &[f64], stds: &[f64]) -> Prepared {
    let n = data.durations.len();
    let p = data.covariates.len();
    let stratum = |i: usize| data.strata.map_or(0, |s| s[i]);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        stratum(a)
            .cmp(&stratum(b))
            .then(data.durations[a].total_cmp(&data.durations[b]))
    });
    let mut x = Vec::with_capacity(n * p);
    for &i in &order {
        for k in 0..p {
            x.push((data.covariates[k][i] - means[k]) / stds[k]);
        }
    }
    let mut stratum_starts = vec![0];
    let mut stratum_ids = vec![stratum(order[0])];
    for (position, pair) in order.windows(2).enumerate() {
        if stratum(pair[0]) != stratum(pair[1]) {
            stratum_starts.push(position + 1);
            stratum_ids.push(stratum(pair[1]));
        }
    }
    stratum_starts.push(n);
    Prepared {
        p,
        x,
        durations: order.iter().map(|&i| data.durations[i]).collect(),
        observed: order.iter().map(|&i| data.observed[i]).collect(),
        stratum_starts,
        stratum_ids,
    }
}

/// One pass per stratum from the latest time to the earliest, growing the risk set.
fn derivatives(data: &Prepared, beta: &[f64], ties: Ties) -> Derivatives {
    let p = data.p;
    let mut result = Derivatives {
        log_likelihood: 0.0,
        gradient: vec![0.0; p],
        information: Matrix::zeros(p),
    };
    let mut s1 = vec![0.0; p];
    let mut s2 = vec![0.0; p * p];
    let mut d1 = vec![0.0; p];
    let mut d2 = vec![0.0; p * p];
    let mut numerator = vec![0.0; p];
    for bounds in data.stratum_starts.windows(2) {
        let (start, end) = (bounds[0], bounds[1]);
        let mut s0 = 0.0;
        s1.iter_mut().for_each(|v| *v = 0.0);
        s2.iter_mut().for_each(|v| *v = 0.0);
        let mut i = end;
        while i > start {
            let time = data.durations[i - 1];
            let mut d0 = 0.0;
            let mut deaths = 0usize;
            d1.iter_mut().for_each(|v| *v = 0.0);
            d2.iter_mut().for_each(|v| *v = 0.0);
            while i > start && data.durations[i - 1] == time {
                i -= 1;
                let row = &data.x[i * p..(i + 1) * p];
                let linear: f64 = row.iter().zip(beta).map(|(x, b)| x * b).sum();
                let risk = linear.exp();
                s0 += risk;
                for a in 0..p {
                    s1[a] += risk * row[a];
                    for b in 0..=a {
                        s2[a * p + b] += risk * row[a] * row[b];
                    }
                }
                if data.observed[i] {
                    deaths += 1;
                    d0 += risk;
                    result.log_likelihood += linear;
                    for a in 0..p {
                        d1[a] += risk * row[a];
                        result.gradient[a] += row[a];
                        for b in 0..=a {
                            d2[a * p + b] += risk * row[a] * row[b];
                        }
                    }
                }
            }
            if deaths == 0 {
                continue;
            }
            let d = deaths as f64;
            for l in 0..deaths {
                // Efron removes a growing share of the tied deaths from the risk set.
                let share = match ties {
                    Ties::Efron => l as f64 / d,
                    Ties::Breslow => 0.0,
                };
                let denominator = s0 - share * d0;
                result.log_likelihood -= denominator.ln();
                for a in 0..p {
                    numerator[a] = s1[a] - share * d1[a];
                    result.gradient[a] -= numerator[a] / denominator;
                }
                for a in 0..p {
                    for b in 0..=a {
                        let second = (s2[a * p + b] - share * d2[a * p + b]) / denominator;
                        let value =
                            second - numerator[a] * numerator[b] / (denominator * denominator);
                        result.information.add(a, b, value);
                        if a != b {
                            result.information.add(b, a, value);
                        }
                    }
                }
            }
        }
    }
    result
}

/// Breslow's estimator: at each distinct time, deaths ÷ summed partial hazards at risk.
/// `durations` are ascending.
fn breslow_baseline(durations: &[f64], observed: &[bool], hazards: &[f64]) -> Baseline {
    let mut times = Vec::new();
    let mut increments = Vec::new();
    let mut at_risk: f64 = hazards.iter().sum();
    let mut i = 0;
    while i < durations.len() {
        let time = durations[i];
        let mut deaths = 0.0;
        let mut leaving = 0.0;
        while i < durations.len() && durations[i] == time {
            deaths += f64::from(u8::from(observed[i]));
            leaving += hazards[i];
            i += 1;
        }
        times.push(time);
        increments.push(if deaths > 0.0 { deaths / at_risk } else { 0.0 });
        at_risk -= leaving;
    }
    let cumulative_hazard = increments
        .iter()
        .scan(0.0, |sum, increment| {
            *sum += increment;
            Some(*sum)
        })
        .collect();
    Baseline {
        times,
        cumulative_hazard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data<'a>(
        covariates: &'a [&'a [f64]],
        durations: &'a [f64],
        observed: &'a [bool],
    ) -> CoxData<'a> {
        CoxData {
            covariates,
            durations,
            observed,
            strata: None,
        }
    }

    const X: [f64; 8] = [0.5, -1.0, 2.0, 0.0, 1.5, -0.5, 1.0, -2.0];

    /// Fits one covariate `X` with Efron's and with Breslow's ties.
    fn efron_and_breslow(t: &[f64], e: &[bool]) -> (CoxModel, CoxModel) {
        let fit_with = |ties| {
            fit(
                &data(&[&X], t, e),
                &CoxOptions {
                    ties,
                    ..CoxOptions::default()
                },
            )
            .unwrap()
        };
        (fit_with(Ties::Efron), fit_with(Ties::Breslow))
    }

    #[test]
    fn without_ties_breslow_and_efron_agree() {
        let t = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let e = [true, false, true, true, true, false, true, true];
        let (efron, breslow) = efron_and_breslow(&t, &e);
        assert!((efron.coefficients[0] - breslow.coefficients[0]).abs() < 1e-12);
        assert!((efron.log_likelihood - breslow.log_likelihood).abs() < 1e-12);
    }

    #[test]
    fn with_ties_breslow_differs_from_efron() {
        let t = [1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0, 4.0];
        let (efron, breslow) = efron_and_breslow(&t, &[true; 8]);
        assert!(breslow.log_likelihood < efron.log_likelihood);
        assert!(
            breslow.coefficients[0].is_finite()
                && (breslow.coefficients[0] - efron.coefficients[0]).abs() > 1e-6
        );
    }

    #[test]
    fn bad_input_is_refused() {
        let t = [1.0, 2.0, 3.0];
        let e = [true, true, false];
        assert_eq!(
            fit(&data(&[&[1.0, 1.0, 1.0]], &t, &e), &CoxOptions::default()),
            Err(StatsError::ConstantCovariate(0))
        );
        assert!(fit(&data(&[&[1.0, 2.0]], &t, &e), &CoxOptions::default()).is_err());
        assert!(fit(&data(&[], &t, &e), &CoxOptions::default()).is_err());
    }
}
