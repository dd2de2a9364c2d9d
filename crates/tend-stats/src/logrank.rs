//! The log-rank test that two or more survival curves are the same.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::StatsError;

#[derive(Debug, Clone, PartialEq)]
pub struct LogRankResult {
    /// The chi-square statistic.
    pub statistic: f64,
    pub degrees_of_freedom: usize,
    pub p_value: f64,
}

/// Tests whether the groups (labelled `0..k`) share one survival curve: observed
/// against expected events at every event time, with the hypergeometric covariance,
/// as lifelines' `multivariate_logrank_test` does.
///
/// ```
/// use tend_stats::logrank_test;
/// let durations = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
/// let observed = [true; 8];
/// let groups = [0, 0, 0, 0, 1, 1, 1, 1];
/// let result = logrank_test(&durations, &observed, &groups).unwrap();
/// assert_eq!(result.degrees_of_freedom, 1);
/// assert!(result.p_value < 0.05);
/// ```
pub fn logrank_test(
    durations: &[f64],
    observed: &[bool],
    groups: &[usize],
) -> Result<LogRankResult, StatsError> {
    crate::check_survival_data(durations, observed)?;
    if durations.len() != groups.len() {
        return Err(StatsError::LengthMismatch("durations", "groups"));
    }
    let k = groups.iter().max().map_or(0, |g| g + 1);
    if k < 2 {
        return Err(StatsError::TooFewGroups);
    }
    let mut order: Vec<usize> = (0..durations.len()).collect();
    order.sort_by(|&a, &b| durations[a].total_cmp(&durations[b]));

    let mut at_risk = vec![0.0f64; k];
    for &g in groups {
        at_risk[g] += 1.0;
    }
    // Observed minus expected per group, and the covariance of those differences.
    let mut difference = vec![0.0f64; k];
    let mut covariance = vec![vec![0.0f64; k]; k];
    let mut i = 0;
    while i < order.len() {
        let time = durations[order[i]];
        let mut deaths = vec![0.0f64; k];
        let mut leaving = vec![0.0f64; k];
        while i < order.len() && durations[order[i]] == time {
            let index = order[i];
            if observed[index] {
                deaths[groups[index]] += 1.0;
            }
            leaving[groups[index]] += 1.0;
            i += 1;
        }
        let n: f64 = at_risk.iter().sum();
        let d: f64 = deaths.iter().sum();
        if d > 0.0 {
            for g in 0..k {
                difference[g] += deaths[g] - d * at_risk[g] / n;
            }
            if n > 1.0 {
                let scale = d * (n - d) / (n * n * (n - 1.0));
                for a in 0..k {
                    for b in 0..k {
                        let kronecker = if a == b { n * at_risk[a] } else { 0.0 };
                        covariance[a][b] += scale * (kronecker - at_risk[a] * at_risk[b]);
                    }
                }
            }
        }
        for g in 0..k {
            at_risk[g] -= leaving[g];
        }
    }
    // The covariance has rank k − 1: drop the last group and solve.
    let size = k - 1;
    let mut system: Vec<Vec<f64>> = (0..size)
        .map(|row| {
            let mut line = covariance[row][..size].to_vec();
            line.push(difference[row]);
            line
        })
        .collect();
    let solution = solve(&mut system);
    let statistic: f64 = (0..size).map(|g| difference[g] * solution[g]).sum();
    let distribution = ChiSquared::new(size as f64).expect("degrees of freedom are positive");
    Ok(LogRankResult {
        statistic,
        degrees_of_freedom: size,
        p_value: distribution.sf(statistic),
    })
}

/// Solves the augmented system `[A | b]` by Gaussian elimination with partial
/// pivoting; the systems here are (groups − 1) square, a handful of rows, so a linear
/// algebra crate would add more than it saves.
fn solve(system: &mut [Vec<f64>]) -> Vec<f64> {
    let size = system.len();
    for column in 0..size {
        let pivot = (column..size)
            .max_by(|&a, &b| system[a][column].abs().total_cmp(&system[b][column].abs()))
            .expect("rows remain");
        system.swap(column, pivot);
        let (done, rest) = system.split_at_mut(column + 1);
        let pivot_row = &done[column];
        for row in rest {
            let factor = row[column] / pivot_row[column];
            for (value, pivot_value) in row[column..].iter_mut().zip(&pivot_row[column..]) {
                *value -= factor * pivot_value;
            }
        }
    }
    let mut solution = vec![0.0; size];
    for row in (0..size).rev() {
        let known: f64 = (row + 1..size).map(|j| system[row][j] * solution[j]).sum();
        solution[row] = (system[row][size] - known) / system[row][row];
    }
    solution
}
