//! Times tend-stats on a data file written by `bench/stats_vs_reference.py`, so that
//! both sides fit the same rows in one run. Prints one JSON object.
//!
//!     cargo run --release -p tend-stats --example reference_bench -- cox FILE.csv
//!     cargo run --release -p tend-stats --example reference_bench -- km FILE.csv
//!     cargo run --release -p tend-stats --example reference_bench -- bgnbd FILE.csv
//!     cargo run --release -p tend-stats --example reference_bench -- logistic FILE.csv
//!
//! For km and cox FILE.csv has a header `duration,event,x1,…` (any number of
//! covariates); for bgnbd `frequency,recency,T`; for logistic `label,x1,…`.

use std::time::Instant;

use tend_stats::clv::{BgNbd, PurchaseHistories};
use tend_stats::cox::{fit, CoxData, CoxOptions};
use tend_stats::logistic::{self, LogisticOptions};
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
            eprintln!("usage: reference_bench cox|km|bgnbd|logistic FILE.csv");
            std::process::exit(2);
        }
    };
    let mut reader = csv::Reader::from_path(path).expect("readable CSV");
    let width = reader.headers().expect("a header row").len();
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); width];
    for record in reader.records() {
        let record = record.expect("a valid row");
        for (column, field) in columns.iter_mut().zip(record.iter()) {
            column.push(field.parse().expect("a number"));
        }
    }
    let output = match model {
        "cox" => {
            let observed: Vec<bool> = columns[1].iter().map(|&e| e == 1.0).collect();
            let covariates: Vec<&[f64]> = columns[2..].iter().map(Vec::as_slice).collect();
            let started = Instant::now();
            let data = CoxData {
                covariates: &covariates,
                durations: &columns[0],
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
            let observed: Vec<bool> = columns[1].iter().map(|&e| e == 1.0).collect();
            let started = Instant::now();
            let km = KaplanMeier::fit(&columns[0], &observed).expect("valid data");
            format!(
                "{{\"seconds\": {}, \"median\": {}, \"points\": {}, \"last_survival\": {}, \"peak_rss_kib\": {}}}",
                started.elapsed().as_secs_f64(),
                km.median().unwrap_or(f64::INFINITY),
                km.timeline.len(),
                km.survival.last().copied().unwrap_or(1.0),
                peak_rss_kib()
            )
        }
        "bgnbd" => {
            let age = columns.pop().expect("T");
            let recency = columns.pop().expect("recency");
            let frequency = columns.pop().expect("frequency");
            let data = PurchaseHistories::new(frequency, recency, age).expect("valid customers");
            let started = Instant::now();
            let model = BgNbd::fit(&data).expect("the fit converges");
            format!(
                "{{\"seconds\": {}, \"params\": [{}, {}, {}, {}], \"log_likelihood\": {}, \"iterations\": {}, \"peak_rss_kib\": {}}}",
                started.elapsed().as_secs_f64(),
                model.r,
                model.alpha,
                model.a,
                model.b,
                model.log_likelihood,
                model.iterations,
                peak_rss_kib()
            )
        }
        "logistic" => {
            let labels: Vec<bool> = columns[0].iter().map(|&l| l == 1.0).collect();
            let rows: Vec<Vec<f64>> = (0..labels.len())
                .map(|i| columns[1..].iter().map(|c| c[i]).collect())
                .collect();
            drop(columns);
            let started = Instant::now();
            let model = logistic::fit(&rows, &labels, &LogisticOptions::default())
                .expect("the fit converges");
            let mut coefficients = model.coefficients.clone();
            coefficients.push(model.intercept);
            format!(
                "{{\"seconds\": {}, \"coefficients\": {:?}, \"iterations\": {}, \"peak_rss_kib\": {}}}",
                started.elapsed().as_secs_f64(),
                coefficients,
                model.iterations,
                peak_rss_kib()
            )
        }
        other => panic!("unknown model {other}"),
    };
    println!("{output}");
}
