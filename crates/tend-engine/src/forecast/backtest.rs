//! The forecast tried on the past: for each of the last closed quarters, the
//! forecast made the day before it began — from the contracts started by then, with
//! the renewed and churned marks taken off and the history of the year before it —
//! against the ARR that actually renewed, beside a naive forecast (renewable ARR ×
//! the trailing renewal rate). When the store has a non-renewal model, as the
//! forecast would use it, each quarter gets a model of its kind fitted only on the
//! outcomes decided before that quarter (the stored one has seen them all).

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use tend_core::renewal::{known_on, renewals, Renewal, GRACE_DAYS};
use tend_core::{Account, CalendarKind, CalendarPeriod, Currency, LeftOut};

use super::dispersion::{self, Dispersion};
use super::history::History;
use super::{check_draws, forecast_period, Pricing, RenewalModel};
use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};
use crate::risk::fit::{kind_of, past_renewal_probabilities};
use crate::risk::{RiskOptions, Target};
use crate::views::renewals::in_scope;

/// Quarters tried by default.
pub const DEFAULT_QUARTERS: usize = 8;
pub const MAX_QUARTERS: usize = 20;

#[derive(Debug, Clone)]
pub struct BacktestQuery {
    pub quarters: usize,
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub draws: usize,
    pub seed: u64,
    /// The currency amounts are reported in; by default the one with the most ARR.
    pub currency: Option<Currency>,
}

impl Default for BacktestQuery {
    fn default() -> Self {
        BacktestQuery {
            quarters: DEFAULT_QUARTERS,
            owner: None,
            segment: None,
            draws: super::DEFAULT_DRAWS,
            seed: super::DEFAULT_SEED,
            currency: None,
        }
    }
}

/// One quarter tried; amounts in minor units of the reporting currency.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestQuarter {
    pub quarter: CalendarPeriod,
    /// The day the forecast was made as of.
    pub as_of: NaiveDate,
    pub renewals: usize,
    pub renewable: f64,
    /// ARR that renewed, as the data says now.
    pub actual: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    /// Renewable × the trailing renewal rate.
    pub naive: f64,
    pub trailing_rate: f64,
    /// Renewals whose probability came from the quarter's own risk model.
    pub from_model: usize,
    /// The dispersion learned from the quarters before it.
    pub dispersion: Dispersion,
}

impl BacktestQuarter {
    pub fn inside(&self) -> bool {
        self.p10 <= self.actual && self.actual <= self.p90
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    pub currency: Currency,
    pub draws: usize,
    pub quarters: Vec<BacktestQuarter>,
    /// Share of quarters whose actual renewed ARR fell inside P10–P90.
    pub coverage: f64,
    /// Mean of |forecast − actual| ÷ actual over the quarters, for P50 and the naive
    /// forecast.
    pub p50_error: f64,
    pub naive_error: f64,
    /// Quarters not tried (nothing due in them, or no closed renewal in the year
    /// before them), oldest first.
    pub skipped: Vec<CalendarPeriod>,
}

/// The last quarter all of whose renewals are decided on `day` (the grace after its
/// last due day has passed).
fn last_decided_quarter(day: NaiveDate) -> CalendarPeriod {
    let mut quarter = CalendarPeriod::containing(CalendarKind::Quarter, day);
    while quarter.period().end + Days::new(GRACE_DAYS) > day {
        quarter = quarter.previous();
    }
    quarter
}

fn mean_relative_error(pairs: impl Iterator<Item = (f64, f64)>) -> f64 {
    let errors: Vec<f64> = pairs
        .filter(|(_, actual)| *actual > 0.0)
        .map(|(forecast, actual)| (forecast - actual).abs() / actual)
        .collect();
    if errors.is_empty() {
        0.0
    } else {
        errors.iter().sum::<f64>() / errors.len() as f64
    }
}

impl App {
    /// For each quarter, the non-renewal model as it could have been fitted the day
    /// before it began, when the store has such a model; else none.
    async fn past_models(
        &self,
        quarters: &[CalendarPeriod],
        day: NaiveDate,
    ) -> Result<Vec<RenewalModel>, AppError> {
        let store = self.store();
        let record = store.latest_risk_model(Target::NonRenewal.as_str()).await?;
        let Some(kind) = record.and_then(|r| kind_of(&r.kind)) else {
            return Ok(vec![RenewalModel::default(); quarters.len()]);
        };
        let cutoffs: Vec<NaiveDate> = quarters.iter().map(|q| q.start - Days::new(1)).collect();
        let horizon = RiskOptions::default().horizon_days;
        let probabilities =
            past_renewal_probabilities(store, self.scorecards(), day, &cutoffs, kind).await?;
        Ok(cutoffs
            .iter()
            .zip(probabilities)
            .map(|(&cutoff, p)| match p {
                Some(p) => RenewalModel::at(cutoff, horizon, p),
                None => RenewalModel::default(),
            })
            .collect())
    }

    /// The forecast of each of the last `query.quarters` decided quarters, made as of
    /// the day before it, against what renewed.
    pub async fn renewal_backtest(
        &self,
        actor: &Actor,
        query: &BacktestQuery,
    ) -> Result<Backtest, AppError> {
        authorize(actor, Action::Read)?;
        check_draws(query.draws)?;
        if !(1..=MAX_QUARTERS).contains(&query.quarters) {
            return Err(AppError::invalid(
                "quarters",
                format!("must be between 1 and {MAX_QUARTERS}"),
            ));
        }
        let store = self.store();
        let day = crate::default_day(store, self.today()).await?;
        let accounts: HashMap<String, Account> = store
            .accounts()
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let contracts: Vec<_> = store
            .contracts()
            .await?
            .into_iter()
            .filter(|c| {
                accounts
                    .get(&c.account_id)
                    .is_some_and(|a| in_scope(a, query.owner.as_deref(), query.segment.as_deref()))
            })
            .collect();
        let money = crate::risk::rows::Money::load(store, query.currency, day)
            .await
            .map_err(AppError::from)?;
        let (now, _) = renewals(&contracts, day);
        let outcomes: HashMap<(&str, &str, NaiveDate), &Renewal> = now
            .iter()
            .map(|r| ((r.account_id.as_str(), r.product.as_str(), r.due_on), r))
            .collect();
        let last = last_decided_quarter(day);
        let quarters: Vec<CalendarPeriod> =
            std::iter::successors(Some(last), |q| Some(q.previous()))
                .take(query.quarters)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
        let models = self.past_models(&quarters, day).await?;
        let mut tried = Vec::new();
        let mut skipped = Vec::new();
        for (&quarter, model) in quarters.iter().zip(&models) {
            let as_of = quarter.start - Days::new(1);
            let (then, _) = renewals(&known_on(&contracts, as_of), as_of);
            let segment_of = |id: &str| accounts.get(id).and_then(|a| a.segment.clone());
            let history = History::learn(&then, segment_of, money.reporting(), as_of);
            let trailing_rate = history.all.renewal_rate();
            let segment_ref = |id: &str| accounts.get(id).and_then(|a| a.segment.as_deref());
            let dispersion =
                dispersion::learn(&then, |_| true, segment_ref, money.reporting(), as_of);
            let pricing = Pricing {
                accounts: &accounts,
                history: &history,
                model,
                reporting: money.reporting(),
                day: as_of,
            };
            let mut left_out = LeftOut::default();
            let priced = pricing.price(&[quarter], &then, &mut left_out).remove(0);
            match (trailing_rate, history.all.win_rate()) {
                (Some(trailing_rate), Some(_)) if !priced.is_empty() => {
                    let f = forecast_period(quarter, &priced, dispersion, query.draws, query.seed)?;
                    let actual = priced
                        .iter()
                        .map(|p| {
                            let key = (
                                p.renewal.account_id.as_str(),
                                p.renewal.product.as_str(),
                                p.renewal.due_on,
                            );
                            match outcomes.get(&key).and_then(|r| r.outcome.as_ref()) {
                                Some(o) if o.won => {
                                    money.reporting().value(o.renewed_arr, as_of).unwrap_or(0)
                                        as f64
                                }
                                _ => 0.0,
                            }
                        })
                        .sum();
                    tried.push(BacktestQuarter {
                        quarter,
                        as_of,
                        renewals: f.renewals,
                        renewable: f.renewable,
                        actual,
                        p10: f.p10,
                        p50: f.p50,
                        p90: f.p90,
                        naive: f.renewable * trailing_rate,
                        trailing_rate,
                        from_model: f.from_model,
                        dispersion,
                    });
                }
                _ => skipped.push(quarter),
            }
        }
        let inside = tried.iter().filter(|q| q.inside()).count();
        Ok(Backtest {
            currency: money.currency,
            draws: query.draws,
            coverage: if tried.is_empty() {
                0.0
            } else {
                inside as f64 / tried.len() as f64
            },
            p50_error: mean_relative_error(tried.iter().map(|q| (q.p50, q.actual))),
            naive_error: mean_relative_error(tried.iter().map(|q| (q.naive, q.actual))),
            quarters: tried,
            skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_decided_quarter_leaves_the_grace_after_it() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(last_decided_quarter(d(2027, 1, 31)).label(), "2026-Q4");
        assert_eq!(last_decided_quarter(d(2027, 1, 30)).label(), "2026-Q3");
    }
}
