//! L2-regularised logistic regression, fitted to the exact optimum by Newton's method
//! (iteratively reweighted least squares) with step-halving. It minimises the same
//! objective as scikit-learn's `LogisticRegression(penalty="l2", C=c)`:
//! ½‖w‖² + C · Σ log-loss, with the intercept not penalised.

use rayon::prelude::*;

use crate::classifier::check_rows;
use crate::linalg::Matrix;
use crate::StatsError;

#[derive(Debug, Clone, PartialEq)]
pub struct LogisticOptions {
    /// Inverse regularisation strength, as scikit-learn's `C`.
    pub c: f64,
    pub fit_intercept: bool,
    pub max_iterations: usize,
}

impl Default for LogisticOptions {
    fn default() -> Self {
        LogisticOptions {
            c: 1.0,
            fit_intercept: true,
            max_iterations: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogisticModel {
    pub coefficients: Vec<f64>,
    pub intercept: f64,
    /// Feature means on the training data, the reference point of contributions.
    pub means: Vec<f64>,
    pub iterations: usize,
}

impl LogisticModel {
    /// The probability of the positive class for one row.
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        sigmoid(self.intercept + dot(&self.coefficients, row))
    }
}

/// `1 / (1 + exp(−z))` without overflow.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `log(1 + exp(z))` without overflow.
pub(crate) fn softplus(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// Fits on `rows` (each of the same width) and binary `labels`.
///
/// ```
/// use tend_stats::logistic::{fit, LogisticOptions};
/// let rows: Vec<Vec<f64>> = (0..40).map(|i| vec![i as f64 / 10.0]).collect();
/// let labels: Vec<bool> = (0..40).map(|i| i % 7 < 3 || i > 25).collect();
/// let model = fit(&rows, &labels, &LogisticOptions::default()).unwrap();
/// assert!(model.predict_proba(&[3.5]) > model.predict_proba(&[0.5]));
/// ```
pub fn fit(
    rows: &[Vec<f64>],
    labels: &[bool],
    options: &LogisticOptions,
) -> Result<LogisticModel, StatsError> {
    let width = check_rows(rows, labels)?;
    // Parameters: the weights, then the intercept if fitted.
    let size = width + usize::from(options.fit_intercept);
    // On large data, start Newton from the optimum of an evenly spaced sample (with C
    // scaled up to weigh the sample as the whole): the full data then needs two or
    // three passes instead of seven.
    let start = if rows.len() >= 4 * WARM_START_ROWS {
        let stride = rows.len() / WARM_START_ROWS;
        let sample: Vec<&Vec<f64>> = rows.iter().step_by(stride).collect();
        let sample_labels: Vec<bool> = labels.iter().step_by(stride).copied().collect();
        let sample_options = LogisticOptions {
            c: options.c * rows.len() as f64 / sample.len() as f64,
            ..options.clone()
        };
        newton(&sample, &sample_labels, &sample_options, vec![0.0; size])?.0
    } else {
        vec![0.0; size]
    };
    let (params, iterations) = newton(rows, labels, options, start)?;
    let (w, b) = split(&params, width, options.fit_intercept);
    let mut means = vec![0.0; width];
    for row in rows {
        means.iter_mut().zip(row).for_each(|(m, x)| *m += x);
    }
    means.iter_mut().for_each(|m| *m /= rows.len() as f64);
    Ok(LogisticModel {
        coefficients: w.to_vec(),
        intercept: b,
        means,
        iterations,
    })
}

/// Rows in the sample that gives large fits their starting point.
const WARM_START_ROWS: usize = 50_000;

/// Newton's method from `start` to the optimum; returns the parameters and the
/// number of iterations.
fn newton<R: AsRef<[f64]> + Sync>(
    rows: &[R],
    labels: &[bool],
    options: &LogisticOptions,
    start: Vec<f64>,
) -> Result<(Vec<f64>, usize), StatsError> {
    let width = start.len() - usize::from(options.fit_intercept);
    let pass = |params: &[f64]| derivatives(rows, labels, params, width, options);
    let mut params = start;
    let mut current = pass(&params);
    let mut iterations = 0;
    loop {
        iterations += 1;
        let direction = current
            .hessian
            .solve(&current.gradient)
            .ok_or(StatsError::DidNotConverge)?;
        // The Newton decrement gᵀH⁻¹g is twice the predicted gain of the full step;
        // once it is negligible the full step lands on the optimum and no further pass
        // over the data is needed.
        let decrement = dot(&current.gradient, &direction);
        if decrement <= 1e-12 * (1.0 + current.value.abs()) {
            params.iter_mut().zip(&direction).for_each(|(p, d)| *p -= d);
            break;
        }
        let mut step = 1.0;
        loop {
            let candidate: Vec<f64> = params
                .iter()
                .zip(&direction)
                .map(|(p, d)| p - step * d)
                .collect();
            let next = pass(&candidate);
            if next.value <= current.value || step < 1e-8 {
                params = candidate;
                current = next;
                break;
            }
            step /= 2.0;
        }
        if iterations >= options.max_iterations {
            return Err(StatsError::DidNotConverge);
        }
    }
    Ok((params, iterations))
}

/// The objective ½‖w‖² + C Σ log-loss with its gradient and Hessian, in one parallel
/// pass over the rows.
struct Derivatives {
    value: f64,
    gradient: Vec<f64>,
    hessian: Matrix,
}

fn derivatives<R: AsRef<[f64]> + Sync>(
    rows: &[R],
    labels: &[bool],
    params: &[f64],
    width: usize,
    options: &LogisticOptions,
) -> Derivatives {
    let size = params.len();
    let (w, b) = split(params, width, options.fit_intercept);
    let zero = || Derivatives {
        value: 0.0,
        gradient: vec![0.0; size],
        hessian: Matrix::zeros(size),
    };
    let mut total = rows
        .par_iter()
        .zip(labels)
        .with_min_len(1 << 14)
        .fold(zero, |mut acc, (row, &y)| {
            let row = row.as_ref();
            let z = b + dot(w, row);
            acc.value += softplus(z) - if y { z } else { 0.0 };
            let p = sigmoid(z);
            let residual = p - f64::from(u8::from(y));
            let weight = p * (1.0 - p);
            for a in 0..width {
                acc.gradient[a] += residual * row[a];
                let scaled = weight * row[a];
                // Lower triangle only; mirrored once at the end.
                let line = &mut acc.hessian.values[a * size..a * size + a + 1];
                for (h, &x) in line.iter_mut().zip(row) {
                    *h += scaled * x;
                }
                if options.fit_intercept {
                    acc.hessian.add(width, a, scaled);
                }
            }
            if options.fit_intercept {
                acc.gradient[width] += residual;
                acc.hessian.add(width, width, weight);
            }
            acc
        })
        .reduce(zero, |mut a, b| {
            a.value += b.value;
            a.gradient
                .iter_mut()
                .zip(&b.gradient)
                .for_each(|(x, y)| *x += y);
            a.hessian
                .values
                .iter_mut()
                .zip(&b.hessian.values)
                .for_each(|(x, y)| *x += y);
            a
        });
    let c = options.c;
    total.value = 0.5 * dot(w, w) + c * total.value;
    for g in &mut total.gradient {
        *g *= c;
    }
    for v in &mut total.hessian.values {
        *v *= c;
    }
    for (a, weight) in w.iter().enumerate() {
        total.gradient[a] += weight;
        total.hessian.add(a, a, 1.0);
    }
    for a in 0..size {
        for k in 0..a {
            total.hessian.values[k * size + a] = total.hessian.get(a, k);
        }
    }
    total
}

fn split(params: &[f64], width: usize, intercept: bool) -> (&[f64], f64) {
    (
        &params[..width],
        if intercept { params[width] } else { 0.0 },
    )
}
