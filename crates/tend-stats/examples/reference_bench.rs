//! Times tend-stats on a data file written by `bench/stats_vs_reference.py`, so that
//! both sides fit the same rows in one run. Prints one JSON object.
//!
//!     cargo run --release -p tend-stats --example reference_bench -- cox FILE.csv
//!     cargo run --release -p tend-stats --example reference_bench -- km FILE.csv
//!
//! FILE.csv has a header `duration,event,x1,…` (any number of covariates).

use std::time::Instant;

use tend_stats::cox::{fit, CoxData, CoxOptions};
use tend_stats::KaplanMeier;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (model, path) = match args.as_slice() {
        [_, model, path] => (model.as_str(), path.as_str()),
        _ => {
            eprintln!("usage: reference_bench cox|km FILE.csv");
            std::process::exit(2);
        }
    };
    let mut reader = csv::Reader::from_path(path).expect("readable CSV");
    let width = reader.headers().expect("a header row").len();
    let mut durations = Vec::new();
    let mut observed = Vec::new();
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); width - 2];
    for record in reader.records() {
        let record = record.expect("a valid row");
        durations.push(record[0].parse::<f64>().expect("a duration"));
        observed.push(&record[1] == "1");
        for (k, column) in columns.iter_mut().enumerate() {
            column.push(record[k + 2].parse().expect("a covariate"));
        }
    }
    let started = Instant::now();
    let output = match model {
        "cox" => {
            let covariates: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
            let data = CoxData {
                covariates: &covariates,
                durations: &durations,
                observed: &observed,
                strata: None,
            };
            let model = fit(&data, &CoxOptions::default()).expect("the fit converges");
            format!(
                "{{\"seconds\": {}, \"coefficients\": {:?}, \"log_likelihood\": {}, \"concordance\": {}, \"peak_rss_kib\": {}}}",
                started.elapsed().as_secs_f64(),
                model.coefficients,
                model.log_likelihood,
                model.concordance,
                peak_rss_kib()
            )
        }
        "km" => {
            let km = KaplanMeier::fit(&durations, &observed).expect("valid data");
            format!(
                "{{\"seconds\": {}, \"median\": {}, \"points\": {}, \"last_survival\": {}, \"peak_rss_kib\": {}}}",
                started.elapsed().as_secs_f64(),
                km.median().unwrap_or(f64::INFINITY),
                km.timeline.len(),
                km.survival.last().copied().unwrap_or(1.0),
                peak_rss_kib()
            )
        }
        other => panic!("unknown model {other}"),
    };
    println!("{output}");
}
