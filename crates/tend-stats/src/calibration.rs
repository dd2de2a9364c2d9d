//! Turning classifier scores into probabilities that mean what they say, as
//! scikit-learn's `CalibratedClassifierCV` does: Platt's sigmoid or isotonic regression.

use crate::logistic::{sigmoid, softplus};
use crate::StatsError;

fn check(scores: &[f64], labels: &[bool]) -> Result<(), StatsError> {
    if scores.len() != labels.len() {
        return Err(StatsError::LengthMismatch("scores", "labels"));
    }
    if scores.is_empty() {
        return Err(StatsError::Empty);
    }
    Ok(())
}

/// Platt scaling: P(positive | score) = 1 / (1 + exp(a·score + b)), fitted by maximum
/// likelihood on Platt's smoothed targets (as scikit-learn's `_sigmoid_calibration`),
/// so that a perfectly separated calibration set does not give probabilities of 0 or 1.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlattScaling {
    pub a: f64,
    pub b: f64,
}

impl PlattScaling {
    /// ```
    /// use tend_stats::calibration::PlattScaling;
    /// let scores = [-2.0, -1.0, -0.5, 0.0, 0.3, 0.8, 1.5, 2.5];
    /// let labels = [false, false, true, false, true, false, true, true];
    /// let platt = PlattScaling::fit(&scores, &labels).unwrap();
    /// assert!(platt.calibrate(2.0) > platt.calibrate(-2.0));
    /// ```
    pub fn fit(scores: &[f64], labels: &[bool]) -> Result<PlattScaling, StatsError> {
        check(scores, labels)?;
        let positives = labels.iter().filter(|&&l| l).count() as f64;
        let negatives = labels.len() as f64 - positives;
        let high = (positives + 1.0) / (positives + 2.0);
        let low = 1.0 / (negatives + 2.0);
        let targets: Vec<f64> = labels.iter().map(|&l| if l { high } else { low }).collect();
        // Newton's method on (a, b); two parameters need no more than a 2 × 2 solve.
        let (mut a, mut b) = (0.0, ((negatives + 1.0) / (positives + 1.0)).ln());
        let loss = |a: f64, b: f64| -> f64 {
            scores
                .iter()
                .zip(&targets)
                .map(|(&f, &t)| {
                    let z = a * f + b;
                    // −[t ln p + (1 − t) ln(1 − p)] with p = 1/(1 + e^z)
                    softplus(z) - (1.0 - t) * z
                })
                .sum()
        };
        let mut value = loss(a, b);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (&f, &t) in scores.iter().zip(&targets) {
                let q = sigmoid(a * f + b); // 1 − p
                let residual = q - (1.0 - t);
                let weight = q * (1.0 - q);
                ga += residual * f;
                gb += residual;
                haa += weight * f * f;
                hab += weight * f;
                hbb += weight;
            }
            let det = haa * hbb - hab * hab;
            if det <= 0.0 || !det.is_finite() {
                return Err(StatsError::DidNotConverge);
            }
            let (da, db) = ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det);
            let mut step = 1.0;
            while loss(a - step * da, b - step * db) > value && step > 1e-10 {
                step /= 2.0;
            }
            a -= step * da;
            b -= step * db;
            let next = loss(a, b);
            let done = (value - next).abs() <= 1e-14 * value.abs().max(1.0);
            value = next;
            if done {
                return Ok(PlattScaling { a, b });
            }
        }
        Err(StatsError::DidNotConverge)
    }

    pub fn calibrate(&self, score: f64) -> f64 {
        sigmoid(-(self.a * score + self.b))
    }
}

/// Isotonic calibration: the non-decreasing step function of the score closest to the
/// labels in squared error (pool adjacent violators), interpolated linearly between
/// its steps and clipped outside the scores it was fitted on, as scikit-learn's
/// `IsotonicRegression(out_of_bounds="clip")`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IsotonicCalibration {
    pub thresholds: Vec<f64>,
    pub values: Vec<f64>,
}

impl IsotonicCalibration {
    /// ```
    /// use tend_stats::calibration::IsotonicCalibration;
    /// let iso = IsotonicCalibration::fit(&[0.1, 0.2, 0.3, 0.4], &[false, true, false, true]).unwrap();
    /// assert_eq!(iso.calibrate(0.1), 0.0);
    /// assert_eq!(iso.calibrate(0.25), 0.5);
    /// assert_eq!(iso.calibrate(0.9), 1.0);
    /// ```
    pub fn fit(scores: &[f64], labels: &[bool]) -> Result<IsotonicCalibration, StatsError> {
        check(scores, labels)?;
        if let Some(bad) = scores.iter().find(|s| !s.is_finite()) {
            return Err(StatsError::InvalidScore(*bad));
        }
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&i, &j| scores[i].total_cmp(&scores[j]));
        // Equal scores first become one point with their mean label and total weight.
        let mut points: Vec<(f64, f64, f64)> = Vec::new(); // (score, mean label, weight)
        for i in order {
            let y = f64::from(u8::from(labels[i]));
            match points.last_mut() {
                Some(last) if last.0 == scores[i] => {
                    last.1 = (last.1 * last.2 + y) / (last.2 + 1.0);
                    last.2 += 1.0;
                }
                _ => points.push((scores[i], y, 1.0)),
            }
        }
        // Pool adjacent violators over blocks of (mean, weight, number of points).
        let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
        for &(_, y, w) in &points {
            blocks.push((y, w, 1));
            while blocks.len() > 1 && blocks[blocks.len() - 2].0 > blocks[blocks.len() - 1].0 {
                let (y2, w2, n2) = blocks.pop().expect("two blocks");
                let last = blocks.last_mut().expect("two blocks");
                last.0 = (last.0 * last.1 + y2 * w2) / (last.1 + w2);
                last.1 += w2;
                last.2 += n2;
            }
        }
        let values = blocks
            .iter()
            .flat_map(|&(y, _, n)| std::iter::repeat_n(y, n))
            .collect();
        Ok(IsotonicCalibration {
            thresholds: points.iter().map(|p| p.0).collect(),
            values,
        })
    }

    pub fn calibrate(&self, score: f64) -> f64 {
        let (x, y) = (&self.thresholds, &self.values);
        let last = x.len() - 1;
        if score <= x[0] {
            return y[0];
        }
        if score >= x[last] {
            return y[last];
        }
        let i = x.partition_point(|&t| t <= score);
        let (x0, x1, y0, y1) = (x[i - 1], x[i], y[i - 1], y[i]);
        y0 + (y1 - y0) * (score - x0) / (x1 - x0)
    }
}
