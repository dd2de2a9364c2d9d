//! The renewed amount of a set of independent renewals: its exact mean and variance,
//! and its distribution by Monte Carlo. Each renewal renews with its probability,
//! and when it does, at its due amount times a ratio drawn uniformly from its
//! ratios (the renewed-to-due ratios of similar renewals won before; none means 1).

use std::collections::HashMap;

use rayon::prelude::*;

use crate::StatsError;
use draws::{state_of, Layout, State, LANES};

mod draws;

/// One renewal as the forecast sees it.
#[derive(Debug, Clone, Copy)]
pub struct RenewalDraw<'a> {
    pub probability: f64,
    pub due: f64,
    pub ratios: &'a [f64],
}

/// The distribution of the total renewed amount.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub mean: f64,
    pub variance: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub draws: usize,
}

/// Where a ratio list is: renewals share lists (one per segment), often long, so
/// what is computed of a list is computed once per list.
fn list_key(ratios: &[f64]) -> (usize, usize) {
    (ratios.as_ptr() as usize, ratios.len())
}

fn check(renewals: &[RenewalDraw]) -> Result<(), StatsError> {
    let mut checked = std::collections::HashSet::new();
    for r in renewals {
        if !(0.0..=1.0).contains(&r.probability) {
            return Err(StatsError::InvalidProbability(r.probability));
        }
        if !r.due.is_finite() || r.due < 0.0 {
            return Err(StatsError::InvalidAmount("due", r.due));
        }
        if !checked.insert(list_key(r.ratios)) {
            continue;
        }
        if let Some(bad) = r.ratios.iter().find(|x| !x.is_finite() || **x < 0.0) {
            return Err(StatsError::InvalidAmount("ratio", *bad));
        }
    }
    Ok(())
}

/// E[ratio] and E[ratio²] of a renewal.
fn ratio_moments(ratios: &[f64]) -> (f64, f64) {
    if ratios.is_empty() {
        return (1.0, 1.0);
    }
    let n = ratios.len() as f64;
    (
        ratios.iter().sum::<f64>() / n,
        ratios.iter().map(|r| r * r).sum::<f64>() / n,
    )
}

/// The exact mean and variance of the total: Σ p·d·E[r] and
/// Σ (p·d²·E[r²] − (p·d·E[r])²), the renewals being independent.
pub fn exact_moments(renewals: &[RenewalDraw]) -> Result<(f64, f64), StatsError> {
    check(renewals)?;
    let mut moments: HashMap<(usize, usize), (f64, f64)> = HashMap::new();
    Ok(renewals.iter().fold((0.0, 0.0), |(mean, var), r| {
        let (m1, m2) = *moments
            .entry(list_key(r.ratios))
            .or_insert_with(|| ratio_moments(r.ratios));
        let one = r.probability * r.due * m1;
        (
            mean + one,
            var + r.probability * r.due * r.due * m2 - one * one,
        )
    }))
}

/// The quantile `q` of sorted values, interpolated linearly between order
/// statistics (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (sorted[above] - sorted[below]) * (position - below as f64)
}

/// Draws per parallel chunk: each chunk has generators of its own, seeded from the
/// seed and its index, so the result does not depend on the number of threads.
const CHUNK: usize = 256;

/// `draws` totals drawn with `seed`, summarised.
pub fn monte_carlo(
    renewals: &[RenewalDraw],
    draws: usize,
    seed: u64,
) -> Result<Forecast, StatsError> {
    check(renewals)?;
    if draws == 0 {
        return Err(StatsError::Empty);
    }
    let layout = Layout::of(renewals);
    let chunks = draws.div_ceil(CHUNK);
    let mut totals: Vec<f64> = (0..chunks)
        .into_par_iter()
        .flat_map_iter(|chunk| {
            let mut states: [State; LANES] = std::array::from_fn(|lane| {
                state_of(seed ^ ((chunk * LANES + lane) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            });
            let n = CHUNK.min(draws - chunk * CHUNK);
            let mut totals = layout.draw(&mut states, n.div_ceil(LANES));
            totals.truncate(n);
            totals
        })
        .collect();
    totals.sort_by(f64::total_cmp);
    let n = totals.len() as f64;
    let mean = totals.iter().sum::<f64>() / n;
    let variance = totals.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    Ok(Forecast {
        mean,
        variance,
        p10: quantile(&totals, 0.1),
        p50: quantile(&totals, 0.5),
        p90: quantile(&totals, 0.9),
        draws,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent Bernoulli renewals of fixed amounts: the Monte Carlo mean and
    /// variance agree with the exact ones within sampling error.
    #[test]
    fn bernoulli_renewals_match_the_closed_form() {
        let renewals: Vec<RenewalDraw> = (0..40)
            .map(|i| RenewalDraw {
                probability: 0.5 + 0.012 * i as f64,
                due: 1_000.0 + 250.0 * i as f64,
                ratios: &[],
            })
            .collect();
        let (mean, variance) = exact_moments(&renewals).unwrap();
        let expected_mean: f64 = renewals.iter().map(|r| r.probability * r.due).sum();
        let expected_var: f64 = renewals
            .iter()
            .map(|r| r.probability * (1.0 - r.probability) * r.due * r.due)
            .sum();
        assert!((mean - expected_mean).abs() < 1e-6);
        assert!((variance - expected_var).abs() < 1e-3);
        let draws = 100_000;
        let f = monte_carlo(&renewals, draws, 7).unwrap();
        // The standard error of the mean, and a loose one for the variance.
        let se = (variance / draws as f64).sqrt();
        assert!(
            (f.mean - mean).abs() < 4.0 * se,
            "{} vs {mean} (se {se})",
            f.mean
        );
        assert!(
            (f.variance / variance - 1.0).abs() < 0.03,
            "{} vs {variance}",
            f.variance
        );
        // A sum of 40 such terms is near normal: P10 and P90 about 1.2816 sd out.
        let sd = variance.sqrt();
        assert!((f.p90 - (mean + 1.2816 * sd)).abs() < 0.05 * sd, "{f:?}");
        assert!((f.p10 - (mean - 1.2816 * sd)).abs() < 0.05 * sd, "{f:?}");
        assert!(f.p10 < f.p50 && f.p50 < f.p90);
    }

    #[test]
    fn ratios_enter_mean_and_variance_and_seeds_repeat() {
        let expand = [0.8, 1.0, 1.0, 1.5];
        let renewals = [
            RenewalDraw {
                probability: 0.9,
                due: 10_000.0,
                ratios: &expand,
            },
            RenewalDraw {
                probability: 0.3,
                due: 4_000.0,
                ratios: &[],
            },
            RenewalDraw {
                probability: 1.0,
                due: 2_000.0,
                ratios: &[1.2],
            },
        ];
        let (mean, variance) = exact_moments(&renewals).unwrap();
        // 0.9·10000·1.075 + 0.3·4000 + 2000·1.2
        assert!((mean - (9_675.0 + 1_200.0 + 2_400.0)).abs() < 1e-9);
        let f = monte_carlo(&renewals, 200_000, 11).unwrap();
        let se = (variance / 200_000.0).sqrt();
        assert!((f.mean - mean).abs() < 4.0 * se, "{} vs {mean}", f.mean);
        assert!((f.variance / variance - 1.0).abs() < 0.03);
        assert_eq!(
            monte_carlo(&renewals, 5_000, 3).unwrap(),
            monte_carlo(&renewals, 5_000, 3).unwrap()
        );
        // One binomial case read off exactly: two certain renewals have no spread.
        let certain = [RenewalDraw {
            probability: 1.0,
            due: 5.0,
            ratios: &[],
        }; 2];
        let f = monte_carlo(&certain, 1_000, 1).unwrap();
        assert_eq!((f.p10, f.p50, f.p90, f.variance), (10.0, 10.0, 10.0, 0.0));
    }

    #[test]
    fn bad_inputs_are_refused() {
        let bad = [RenewalDraw {
            probability: 1.5,
            due: 1.0,
            ratios: &[],
        }];
        assert!(monte_carlo(&bad, 10, 1).is_err());
        let bad = [RenewalDraw {
            probability: 0.5,
            due: -1.0,
            ratios: &[],
        }];
        assert!(exact_moments(&bad).is_err());
        assert_eq!(monte_carlo(&[], 0, 1), Err(StatsError::Empty));
    }
}
