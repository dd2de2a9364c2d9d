//! L2-regularised logistic regression, fitted to the exact optimum by Newton's method
//! (iteratively reweighted least squares) with step-halving. It minimises the same
//! objective as scikit-learn's `LogisticRegression(penalty="l2", C=c)`:
//! ½‖w‖² + C · Σ log-loss, with the intercept not penalised.

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

#[derive(Debug, Clone, PartialEq)]
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

    /// Each feature's push on the log-odds relative to an average row:
    /// coefficient × (value − training mean). They sum to the row's log-odds minus the
    /// log-odds of the mean row.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        self.coefficients
            .iter()
            .zip(row)
            .zip(&self.means)
            .map(|((w, x), m)| w * (x - m))
            .collect()
    }
}

fn sigmoid(z: f64) -> f64 {
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
fn softplus(z: f64) -> f64 {
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
    if rows.len() != labels.len() {
        return Err(StatsError::LengthMismatch("rows", "labels"));
    }
    let width = rows.first().map_or(0, Vec::len);
    if rows.is_empty() || width == 0 {
        return Err(StatsError::Empty);
    }
    if rows.iter().any(|r| r.len() != width) {
        return Err(StatsError::LengthMismatch("rows", "rows"));
    }
    // Parameters: the weights, then the intercept if fitted.
    let size = width + usize::from(options.fit_intercept);
    let objective = |params: &[f64]| {
        let (w, b) = split(params, width, options.fit_intercept);
        let loss: f64 = rows
            .iter()
            .zip(labels)
            .map(|(row, &y)| {
                let z = b + dot(w, row);
                softplus(z) - if y { z } else { 0.0 }
            })
            .sum();
        0.5 * dot(w, w) + options.c * loss
    };
    let mut params = vec![0.0; size];
    let mut value = objective(&params);
    let mut iterations = 0;
    loop {
        iterations += 1;
        let (w, b) = split(&params, width, options.fit_intercept);
        let mut gradient = vec![0.0; size];
        let mut hessian = Matrix::zeros(size);
        for (row, &y) in rows.iter().zip(labels) {
            let p = sigmoid(b + dot(w, row));
            let residual = options.c * (p - f64::from(u8::from(y)));
            let weight = options.c * p * (1.0 - p);
            for a in 0..width {
                gradient[a] += residual * row[a];
                let scaled = weight * row[a];
                for (k, &x) in row.iter().enumerate().take(a + 1) {
                    hessian.add(a, k, scaled * x);
                }
                if options.fit_intercept {
                    hessian.add(width, a, scaled);
                }
            }
            if options.fit_intercept {
                gradient[width] += residual;
                hessian.add(width, width, weight);
            }
        }
        for a in 0..width {
            gradient[a] += params[a];
            hessian.add(a, a, 1.0);
        }
        for a in 0..size {
            for k in 0..a {
                let value = hessian.get(a, k);
                hessian.values[k * size + a] = value;
            }
        }
        let direction = hessian.solve(&gradient).ok_or(StatsError::DidNotConverge)?;
        let mut step = 1.0;
        let (next, next_value) = loop {
            let candidate: Vec<f64> = params
                .iter()
                .zip(&direction)
                .map(|(p, d)| p - step * d)
                .collect();
            let candidate_value = objective(&candidate);
            if candidate_value <= value || step < 1e-8 {
                break (candidate, candidate_value);
            }
            step /= 2.0;
        };
        let moved = direction
            .iter()
            .map(|d| (d * step).powi(2))
            .sum::<f64>()
            .sqrt();
        params = next;
        value = next_value;
        if moved < 1e-12 * (1.0 + params.iter().map(|p| p * p).sum::<f64>().sqrt()) {
            break;
        }
        if iterations >= options.max_iterations {
            return Err(StatsError::DidNotConverge);
        }
    }
    let (w, b) = split(&params, width, options.fit_intercept);
    let means = (0..width)
        .map(|k| rows.iter().map(|r| r[k]).sum::<f64>() / rows.len() as f64)
        .collect();
    Ok(LogisticModel {
        coefficients: w.to_vec(),
        intercept: b,
        means,
        iterations,
    })
}

fn split(params: &[f64], width: usize, intercept: bool) -> (&[f64], f64) {
    (
        &params[..width],
        if intercept { params[width] } else { 0.0 },
    )
}
