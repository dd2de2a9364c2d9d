use super::CustomerSummary;
use crate::StatsError;

/// Per-customer summaries of a purchase log, the input of the buy-till-you-die models:
/// `frequency` repeat purchases (purchases after the first), the last of them at
/// `recency` time units after the first purchase, the customer observed for `age`
/// time units since the first purchase. Optional weights count identical customers.
///
/// For BG/BB, the times are counts of discrete purchase opportunities.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PurchaseHistories {
    pub frequency: Vec<f64>,
    pub recency: Vec<f64>,
    pub age: Vec<f64>,
    pub weight: Vec<f64>,
}

impl PurchaseHistories {
    /// Checks each customer: a whole, non-negative frequency, 0 ≤ recency ≤ age, and a
    /// recency of 0 when there is no repeat purchase.
    ///
    /// ```
    /// use tend_stats::clv::PurchaseHistories;
    /// let err = PurchaseHistories::new(vec![0.0, 2.0], vec![0.0, 9.0], vec![5.0, 8.0]).unwrap_err();
    /// assert_eq!(err.to_string(), "customer 1: recency 9 is after the end of observation (age 8)");
    /// ```
    pub fn new(frequency: Vec<f64>, recency: Vec<f64>, age: Vec<f64>) -> Result<Self, StatsError> {
        let weight = vec![1.0; frequency.len()];
        Self::weighted(frequency, recency, age, weight)
    }

    /// As [`PurchaseHistories::new`], each row standing for `weight` identical customers.
    pub fn weighted(
        frequency: Vec<f64>,
        recency: Vec<f64>,
        age: Vec<f64>,
        weight: Vec<f64>,
    ) -> Result<Self, StatsError> {
        if frequency.len() != recency.len() {
            return Err(StatsError::LengthMismatch("frequency", "recency"));
        }
        if frequency.len() != age.len() {
            return Err(StatsError::LengthMismatch("frequency", "age"));
        }
        if frequency.len() != weight.len() {
            return Err(StatsError::LengthMismatch("frequency", "weight"));
        }
        if frequency.is_empty() {
            return Err(StatsError::Empty);
        }
        for (row, (((&x, &tx), &t), &w)) in frequency
            .iter()
            .zip(&recency)
            .zip(&age)
            .zip(&weight)
            .enumerate()
        {
            check_customer(x, tx, t, w)
                .map_err(|reason| StatsError::InvalidCustomer { row, reason })?;
        }
        Ok(PurchaseHistories {
            frequency,
            recency,
            age,
            weight,
        })
    }

    /// The models' input from [`summarize_transactions`](super::summarize_transactions).
    pub fn from_summaries<K>(summaries: &[CustomerSummary<K>]) -> Result<Self, StatsError> {
        Self::new(
            summaries.iter().map(|s| s.frequency).collect(),
            summaries.iter().map(|s| s.recency).collect(),
            summaries.iter().map(|s| s.age).collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// Σ weight × `customer(frequency, recency, age)`: a model's log-likelihood of
    /// these customers from its per-customer log-likelihood.
    pub(crate) fn weighted_sum(&self, customer: impl Fn(f64, f64, f64) -> f64) -> f64 {
        (0..self.len())
            .map(|i| self.weight[i] * customer(self.frequency[i], self.recency[i], self.age[i]))
            .sum()
    }

    pub(crate) fn total_weight(&self) -> f64 {
        self.weight.iter().sum()
    }

    /// The same customers with every time multiplied by `factor`.
    pub(crate) fn scaled(&self, factor: f64) -> PurchaseHistories {
        PurchaseHistories {
            frequency: self.frequency.clone(),
            recency: self.recency.iter().map(|t| t * factor).collect(),
            age: self.age.iter().map(|t| t * factor).collect(),
            weight: self.weight.clone(),
        }
    }

    /// Identical customers merged into one weighted row, for likelihoods that are
    /// costly per row.
    pub(crate) fn compressed(&self) -> PurchaseHistories {
        let key = |i: usize| (self.frequency[i], self.recency[i], self.age[i]);
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&i, &j| {
            let (a, b) = (key(i), key(j));
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
        });
        let mut out = PurchaseHistories::default();
        for i in order {
            if !out.is_empty()
                && key(i)
                    == (
                        out.frequency[out.len() - 1],
                        out.recency[out.len() - 1],
                        out.age[out.len() - 1],
                    )
            {
                *out.weight.last_mut().expect("not empty") += self.weight[i];
                continue;
            }
            out.frequency.push(self.frequency[i]);
            out.recency.push(self.recency[i]);
            out.age.push(self.age[i]);
            out.weight.push(self.weight[i]);
        }
        out
    }

    pub(crate) fn max_age(&self) -> f64 {
        self.age.iter().copied().fold(0.0, f64::max)
    }
}

fn check_customer(x: f64, tx: f64, t: f64, w: f64) -> Result<(), String> {
    if !(x.is_finite() && x >= 0.0 && x.fract() == 0.0) {
        return Err(format!(
            "frequency must be a whole number of repeat purchases, got {x}"
        ));
    }
    if !(tx.is_finite() && tx >= 0.0) {
        return Err(format!("recency must be finite and not negative, got {tx}"));
    }
    if !(t.is_finite() && t > 0.0) {
        return Err(format!("age must be finite and positive, got {t}"));
    }
    if tx > t {
        return Err(format!(
            "recency {tx} is after the end of observation (age {t})"
        ));
    }
    if x == 0.0 && tx != 0.0 {
        return Err(format!(
            "recency must be 0 without repeat purchases, got {tx}"
        ));
    }
    if !(w.is_finite() && w > 0.0) {
        return Err(format!("weight must be finite and positive, got {w}"));
    }
    Ok(())
}
