//! From a transaction log to the per-customer summaries the models take, as
//! `lifetimes.utils.summary_data_from_transaction_data` and
//! `calibration_and_holdout_data` with `freq="D"`: several purchases in one period
//! count as one purchase of their summed value.

use std::collections::{BTreeMap, BTreeSet};

use crate::StatsError;

/// One purchase: who, in which period (a day number, say), for how much.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction<K> {
    pub customer: K,
    pub period: i64,
    pub value: f64,
}

/// A customer's history up to the end of observation.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerSummary<K> {
    pub customer: K,
    /// Periods with a purchase, after the first.
    pub frequency: f64,
    /// Periods from the first purchase to the last.
    pub recency: f64,
    /// Periods from the first purchase to the end of observation.
    pub age: f64,
    /// Mean value of the repeat purchases (0 without any).
    pub monetary_value: f64,
}

/// A calibration-period summary with what the customer did in the holdout after it.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationHoldout<K> {
    pub calibration: CustomerSummary<K>,
    /// Periods with a purchase in the holdout.
    pub frequency_holdout: f64,
    /// Mean value of the holdout transactions, each counted on its own as `lifetimes`
    /// does (0 without any).
    pub monetary_value_holdout: f64,
    /// Length of the holdout in periods.
    pub duration_holdout: f64,
}

/// Summarises every customer with a purchase at or before `observation_end`, in
/// customer order; later purchases are ignored.
///
/// ```
/// use tend_stats::clv::{summarize_transactions, Transaction};
/// let log = [
///     Transaction { customer: "a", period: 0, value: 10.0 },
///     Transaction { customer: "a", period: 3, value: 5.0 },
///     Transaction { customer: "a", period: 3, value: 7.0 },
///     Transaction { customer: "a", period: 8, value: 30.0 },
/// ];
/// let a = &summarize_transactions(&log, 10)[0];
/// assert_eq!((a.frequency, a.recency, a.age, a.monetary_value), (2.0, 8.0, 10.0, 21.0));
/// ```
pub fn summarize_transactions<K: Ord + Clone>(
    transactions: &[Transaction<K>],
    observation_end: i64,
) -> Vec<CustomerSummary<K>> {
    let mut by_customer: BTreeMap<&K, BTreeMap<i64, f64>> = BTreeMap::new();
    for t in transactions.iter().filter(|t| t.period <= observation_end) {
        *by_customer
            .entry(&t.customer)
            .or_default()
            .entry(t.period)
            .or_default() += t.value;
    }
    by_customer
        .into_iter()
        .map(|(customer, periods)| {
            let first = *periods.keys().next().expect("a customer has a purchase");
            let last = *periods
                .keys()
                .next_back()
                .expect("a customer has a purchase");
            let repeats = periods.len() - 1;
            let repeat_value: f64 = periods.values().skip(1).sum();
            CustomerSummary {
                customer: customer.clone(),
                frequency: repeats as f64,
                recency: (last - first) as f64,
                age: (observation_end - first) as f64,
                monetary_value: if repeats == 0 {
                    0.0
                } else {
                    repeat_value / repeats as f64
                },
            }
        })
        .collect()
}

/// Splits the log at `calibration_end`: customers are summarised on the calibration
/// period, and their purchases in (calibration_end, observation_end] are counted.
/// Customers whose first purchase falls in the holdout are left out.
pub fn calibration_and_holdout<K: Ord + Clone>(
    transactions: &[Transaction<K>],
    calibration_end: i64,
    observation_end: i64,
) -> Result<Vec<CalibrationHoldout<K>>, StatsError> {
    if calibration_end >= observation_end {
        return Err(StatsError::InvalidSplit {
            calibration_end,
            observation_end,
        });
    }
    // Per customer: the periods with a purchase, the total value, the transactions.
    let mut holdout: BTreeMap<&K, (BTreeSet<i64>, f64, usize)> = BTreeMap::new();
    for t in transactions
        .iter()
        .filter(|t| t.period > calibration_end && t.period <= observation_end)
    {
        let entry = holdout.entry(&t.customer).or_default();
        entry.0.insert(t.period);
        entry.1 += t.value;
        entry.2 += 1;
    }
    Ok(summarize_transactions(transactions, calibration_end)
        .into_iter()
        .map(|calibration| {
            let (frequency_holdout, monetary_value_holdout) =
                match holdout.get(&calibration.customer) {
                    Some((periods, total, count)) => (periods.len() as f64, total / *count as f64),
                    None => (0.0, 0.0),
                };
            CalibrationHoldout {
                calibration,
                frequency_holdout,
                monetary_value_holdout,
                duration_holdout: (observation_end - calibration_end) as f64,
            }
        })
        .collect())
}
