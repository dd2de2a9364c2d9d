//! Times tend-stats on a data file written by `bench/stats_vs_reference.py`, so that
//! both sides fit the same rows in one run. Prints one JSON object.
//!
//!     cargo run --release -p tend-stats --example reference_bench -- cox FILE.csv
//!     cargo run --release -p tend-stats --example reference_bench -- km FILE.csv
//!     cargo run --release -p tend-stats --example reference_bench -- bgnbd FILE.csv
//!     cargo run --release -p tend-stats --example reference_bench -- logistic FILE.csv
//!     cargo run --release -p tend-stats --example reference_bench -- boosting TRAIN.csv TEST.csv
//!
//! For km and cox FILE.csv has a header `duration,event,x1,…` (any number of
//! covariates); for bgnbd `frequency,recency,T`; for logistic `label,x1,…`; for
//! boosting both files `label,x1,…` with empty fields for missing values: the trees
//! (tend's defaults) are fitted on TRAIN and their ROC AUC measured on TEST.

use std::time::Instant;

use tend_stats::clv::{BgNbd, PurchaseHistories};
use tend_stats::cox::{fit, CoxData, CoxOptions};
use tend_stats::evaluation::roc_auc;
use tend_stats::logistic::{self, LogisticOptions};
use tend_stats::KaplanMeier;
use tend_stats::{BoostedTrees, Classifier};

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

/// Every column of a CSV file with a header, as numbers; an empty field is missing.
fn read_columns(path: &str) -> Vec<Vec<f64>> {
    let mut reader = csv::Reader::from_path(path).expect("readable CSV");
    let width = reader.headers().expect("a header row").len();
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); width];
    for record in reader.records() {
        let record = record.expect("a valid row");
        for (column, field) in columns.iter_mut().zip(record.iter()) {
            column.push(if field.is_empty() {
                f64::NAN
            } else {
                field.parse().expect("a number")
            });
        }
    }
    columns
}

/// The first column as labels (1 is true), the others as rows.
fn labelled_rows(columns: Vec<Vec<f64>>) -> (Vec<bool>, Vec<Vec<f64>>) {
    let labels: Vec<bool> = columns[0].iter().map(|&l| l == 1.0).collect();
    let rows = (0..labels.len())
        .map(|i| columns[1..].iter().map(|c| c[i]).collect())
        .collect();
    (labels, rows)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (model, path, test_path) = match args.as_slice() {
        [_, model, path] => (model.as_str(), path.as_str(), None),
        [_, model, path, test] if model == "boosting" => {
            (model.as_str(), path.as_str(), Some(test.as_str()))
        }
        _ => {
            eprintln!("usage: reference_bench cox|km|bgnbd|logistic FILE.csv | boosting TRAIN.csv TEST.csv");
            std::process::exit(2);
        }
    };
    let mut columns = read_columns(path);
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
            let (labels, rows) = labelled_rows(columns);
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
        "boosting" => {
            let (labels, rows) = labelled_rows(columns);
            let started = Instant::now();
            let model = BoostedTrees::fit(&rows, &labels, &Default::default()).expect("a fit");
            let seconds = started.elapsed().as_secs_f64();
            drop(rows);
            let (test_labels, test_rows) =
                labelled_rows(read_columns(test_path.expect("a test file")));
            let scores: Vec<f64> = test_rows.iter().map(|r| model.predict_proba(r)).collect();
            format!(
                "{{\"seconds\": {seconds}, \"train_rows\": {}, \"test_rows\": {}, \"auc\": {}, \"peak_rss_kib\": {}}}",
                labels.len(),
                test_labels.len(),
                roc_auc(&test_labels, &scores).unwrap_or(f64::NAN),
                peak_rss_kib()
            )
        }
        other => panic!("unknown model {other}"),
    };
    println!("{output}");
}
