//! How good a churn model's scores are: ranking (ROC AUC, PR AUC, lift), and
//! probabilities (Brier score, log loss, calibration), computed as scikit-learn does.

/// Area under the ROC curve: the chance that a random positive scores above a random
/// negative, ties counting one half. Counted in integers and divided once, so it equals
/// the trapezoidal area exactly. `None` unless both classes are present.
///
/// ```
/// use tend_stats::evaluation::roc_auc;
/// assert_eq!(roc_auc(&[false, false, true, true], &[0.1, 0.4, 0.35, 0.8]), Some(0.75));
/// ```
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Option<f64> {
    assert_eq!(labels.len(), scores.len(), "one score per label");
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut negatives_below, mut twice_wins) = (0u128, 0u128);
    for group in order.chunk_by(|&a, &b| scores[a] == scores[b]) {
        let positives = group.iter().filter(|&&i| labels[i]).count() as u128;
        let negatives = group.len() as u128 - positives;
        twice_wins += positives * (2 * negatives_below + negatives);
        negatives_below += negatives;
    }
    let positives = labels.iter().filter(|&&l| l).count() as u128;
    let negatives = labels.len() as u128 - positives;
    (positives > 0 && negatives > 0).then(|| twice_wins as f64 / (2 * positives * negatives) as f64)
}

/// Average precision, the area under the precision–recall curve as scikit-learn's
/// `average_precision_score` sums it: Σ (Rₙ − Rₙ₋₁) Pₙ over descending thresholds.
/// `None` without positives.
pub fn average_precision(labels: &[bool], scores: &[f64]) -> Option<f64> {
    assert_eq!(labels.len(), scores.len(), "one score per label");
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut true_positives, mut seen) = (0usize, 0usize);
    let mut previous_recall = 0.0;
    let mut area = 0.0;
    for group in order.chunk_by(|&a, &b| scores[a] == scores[b]) {
        true_positives += group.iter().filter(|&&i| labels[i]).count();
        seen += group.len();
        let recall = true_positives as f64 / positives as f64;
        let precision = true_positives as f64 / seen as f64;
        area += (recall - previous_recall) * precision;
        previous_recall = recall;
    }
    Some(area)
}

/// The mean over rows of `per_row(outcome, probability)`.
fn mean_over(labels: &[bool], probabilities: &[f64], per_row: impl Fn(bool, f64) -> f64) -> f64 {
    assert_eq!(
        labels.len(),
        probabilities.len(),
        "one probability per label"
    );
    let total: f64 = labels
        .iter()
        .zip(probabilities)
        .map(|(&y, &p)| per_row(y, p))
        .sum();
    total / labels.len() as f64
}

/// Mean squared difference between predicted probability and outcome.
pub fn brier_score(labels: &[bool], probabilities: &[f64]) -> f64 {
    mean_over(labels, probabilities, |y, p| {
        (p - f64::from(u8::from(y))).powi(2)
    })
}

/// Mean negative log-likelihood; probabilities are clipped to [ε, 1 − ε] with ε the
/// machine epsilon, as scikit-learn does, so a confident miss costs a finite amount.
pub fn log_loss(labels: &[bool], probabilities: &[f64]) -> f64 {
    mean_over(labels, probabilities, |y, p| {
        let p = p.clamp(f64::EPSILON, 1.0 - f64::EPSILON);
        if y {
            -p.ln()
        } else {
            -(1.0 - p).ln()
        }
    })
}

/// One bin of a calibration table.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationBin {
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    pub mean_predicted: f64,
    pub fraction_positive: f64,
}

/// Predictions grouped into `bins` equal-width bins of [0, 1] (a probability on an inner
/// edge goes to the lower bin, as in scikit-learn's `calibration_curve`); empty bins
/// are left out.
pub fn calibration_table(
    labels: &[bool],
    probabilities: &[f64],
    bins: usize,
) -> Vec<CalibrationBin> {
    assert_eq!(
        labels.len(),
        probabilities.len(),
        "one probability per label"
    );
    assert!(bins > 0, "at least one bin");
    let mut sums = vec![(0usize, 0.0f64, 0usize); bins];
    for (&y, &p) in labels.iter().zip(probabilities) {
        // The first inner edge i/bins at or above p: searchsorted(edges, p, side="left").
        let bin = (1..bins)
            .position(|i| p <= i as f64 / bins as f64)
            .unwrap_or(bins - 1);
        let entry = &mut sums[bin];
        entry.0 += 1;
        entry.1 += p;
        entry.2 += usize::from(y);
    }
    sums.into_iter()
        .enumerate()
        .filter(|(_, (count, _, _))| *count > 0)
        .map(|(bin, (count, total, positives))| CalibrationBin {
            lower: bin as f64 / bins as f64,
            upper: (bin + 1) as f64 / bins as f64,
            count,
            mean_predicted: total / count as f64,
            fraction_positive: positives as f64 / count as f64,
        })
        .collect()
}

/// How much likelier a positive is among the `fraction` highest scores than overall
/// (lift in the top decile for 0.1). The top is ⌈n·fraction⌉ rows; ties at the cut are
/// broken by input order. `None` without positives.
pub fn lift(labels: &[bool], scores: &[f64], fraction: f64) -> Option<f64> {
    assert_eq!(labels.len(), scores.len(), "one score per label");
    let positives = labels.iter().filter(|&&l| l).count();
    if positives == 0 || labels.is_empty() {
        return None;
    }
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let top = ((labels.len() as f64 * fraction).ceil() as usize).clamp(1, labels.len());
    let top_positives = order[..top].iter().filter(|&&i| labels[i]).count();
    let base_rate = positives as f64 / labels.len() as f64;
    Some(top_positives as f64 / top as f64 / base_rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_cases() {
        let labels = [
            true, false, true, false, false, false, false, false, false, true,
        ];
        let scores = [0.9, 0.8, 0.7, 0.3, 0.3, 0.2, 0.2, 0.1, 0.05, 0.01];
        // Top decile is the single highest score, a positive: 1 / (3/10).
        assert!((lift(&labels, &scores, 0.1).unwrap() - 10.0 / 3.0).abs() < 1e-12);
        assert_eq!(roc_auc(&[true, true], &[0.1, 0.2]), None);
        assert_eq!(average_precision(&[false], &[0.3]), None);
        assert_eq!(brier_score(&[true, false], &[1.0, 0.5]), 0.125);
        assert!(log_loss(&[true], &[0.0]).is_finite());
        let table = calibration_table(&[true, false, true], &[0.1, 0.1, 0.95], 2);
        assert_eq!(table.len(), 2);
        assert_eq!((table[0].count, table[0].fraction_positive), (2, 0.5));
    }
}
