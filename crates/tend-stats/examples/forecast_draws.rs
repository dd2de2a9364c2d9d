//! Times the renewal forecast's Monte Carlo at the scale of the 100,000-account demo's
//! renewals for a year: `cargo run --release -p tend-stats --example forecast_draws
//! [RENEWALS] [DRAWS]` (defaults 100,000 and 10,000).

use std::time::Instant;

use tend_stats::forecast::{exact_moments, monte_carlo, RenewalDraw};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a count"));
    let renewals = args.next().unwrap_or(100_000);
    let draws = args.next().unwrap_or(10_000);
    // Ratios of renewals won before, one list per segment as the engine shares them,
    // as long as the 100,000-account store's (47,000 ratios in all): tables that
    // do not fit in the first cache, as in the store's forecast.
    let list = |len: usize, spread: f64| -> Vec<f64> {
        (0..len)
            .map(|k| 0.85 + spread * ((k * 7_919) % 1_000) as f64 / 1_000.0)
            .collect()
    };
    let ratios: [Vec<f64>; 3] = [list(24_000, 0.4), list(16_000, 0.3), list(7_000, 0.25)];
    let set: Vec<RenewalDraw> = (0..renewals)
        .map(|i| RenewalDraw {
            probability: 0.6 + 0.39 * ((i * 7919) % 1000) as f64 / 1000.0,
            due: 5_000.0 + ((i * 104_729) % 200_000) as f64,
            ratios: &ratios[i % 3],
        })
        .collect();
    let start = Instant::now();
    let forecast = monte_carlo(&set, draws, 42).expect("valid renewals");
    let took = start.elapsed();
    let (mean, variance) = exact_moments(&set).expect("valid renewals");
    println!(
        "{renewals} renewals × {draws} draws: {:.2} s; P10 {:.0}, P50 {:.0}, P90 {:.0}; mean {:.0} (exact {mean:.0}), sd {:.0} (exact {:.0})",
        took.as_secs_f64(),
        forecast.p10,
        forecast.p50,
        forecast.p90,
        forecast.mean,
        forecast.variance.sqrt(),
        variance.sqrt()
    );
}
