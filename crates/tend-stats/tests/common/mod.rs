//! Reading the reference fixtures, shared by the test files.

use serde_json::Value;

/// A fixture file under `tests/fixtures/`, parsed.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON array of numbers; infinity is written as the string "inf".
pub fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| match v {
            Value::String(s) if s == "inf" => f64::INFINITY,
            other => other.as_f64().unwrap(),
        })
        .collect()
}
