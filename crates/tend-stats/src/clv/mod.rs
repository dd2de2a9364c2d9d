//! Buy-till-you-die models of repeat purchasing and customer lifetime value, matching
//! the `lifetimes` package: BG/NBD, Pareto/NBD, BG/BB (discrete opportunities) and the
//! Gamma-Gamma model of spend per purchase.
//!
//! Every model is fitted by maximum likelihood with L-BFGS on log-parameters, and every
//! likelihood and prediction is evaluated in log space, so customers with thousands of
//! purchases or no repeat purchase at all give finite answers.

mod bgbb;
mod bgnbd;
mod gamma_gamma;
mod histories;
mod pareto_nbd;
mod transactions;

pub use bgbb::BgBb;
pub use bgnbd::BgNbd;
pub use gamma_gamma::GammaGamma;
pub use histories::PurchaseHistories;
pub use pareto_nbd::ParetoNbd;
pub use transactions::{
    calibration_and_holdout, summarize_transactions, CalibrationHoldout, CustomerSummary,
    Transaction,
};

/// A model of when purchases happen, as needed for lifetime value.
pub trait PurchaseModel {
    /// Expected repeat purchases in the next `t` time units for a customer with
    /// `frequency` repeat purchases, the last at `recency`, observed for `age`.
    fn expected_purchases(&self, t: f64, frequency: f64, recency: f64, age: f64) -> f64;
}

/// Discounted lifetime value over `months` months, as `lifetimes`'
/// `customer_lifetime_value`: the expected purchases in each month times the expected
/// value per purchase, discounted at `monthly_discount_rate` per month.
/// `periods_per_month` converts months to the model's time unit (30 for days, 4.345
/// for weeks).
pub fn customer_lifetime_value(
    model: &impl PurchaseModel,
    value_per_purchase: f64,
    history: (f64, f64, f64),
    months: u32,
    monthly_discount_rate: f64,
    periods_per_month: f64,
) -> f64 {
    let (frequency, recency, age) = history;
    let mut previous = 0.0;
    (1..=months)
        .map(|month| {
            let t = f64::from(month) * periods_per_month;
            let cumulative = model.expected_purchases(t, frequency, recency, age);
            let in_month = cumulative - previous;
            previous = cumulative;
            value_per_purchase * in_month / (1.0 + monthly_discount_rate).powf(f64::from(month))
        })
        .sum()
}
