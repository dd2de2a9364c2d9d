//! The renewal forecast of calendar periods: the renewals due in each (closed ones
//! at what they renewed for, open ones drawn by Monte Carlo), with renewable ARR,
//! the expected renewed ARR with its expansion and contraction, a P10/P50/P90 range,
//! and the GRR and NRR they imply. An open renewal renews with the risk model's
//! probability (1 − non-renewal) when the model's horizon covers its due date, else
//! with its segment's win rate over the trailing year; when it renews, it comes back
//! at its ARR times a renewed-to-due ratio drawn from its segment's past wins. The
//! draws' range is then scaled about its mean by how much the company's past
//! quarters varied beyond independent renewals ([`dispersion`]).

pub mod backtest;
pub mod dispersion;
pub mod history;

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use tend_core::renewal::{renewals, Renewal};
use tend_core::{
    Account, CalendarKind, CalendarPeriod, Currency, ForecastCategory, LeftOut, Reporting,
};
use tend_stats::forecast::{exact_moments, monte_carlo, RenewalDraw};
use tend_store::Store;

use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};
use crate::renewal_calls::{latest_calls, RenewalCall, RenewalKey};
use crate::risk::Target;
use crate::views::renewals::in_scope;
use dispersion::Dispersion;
use history::{Group, History};

/// Monte Carlo draws by default.
pub const DEFAULT_DRAWS: usize = 10_000;
/// At most this many draws (a million takes seconds, not minutes).
pub const MAX_DRAWS: usize = 1_000_000;
/// At most this many periods in one forecast.
pub const MAX_PERIODS: usize = 12;
/// The seed by default, so that the same store gives the same range.
pub const DEFAULT_SEED: u64 = 20_270_101;

/// Which periods and renewals to forecast.
#[derive(Debug, Clone)]
pub struct ForecastQuery {
    /// The first period; by default the quarter after the last day of the data.
    pub period: Option<CalendarPeriod>,
    /// Consecutive periods of its kind, from the first.
    pub periods: usize,
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub draws: usize,
    pub seed: u64,
    /// The currency amounts are reported in; by default the one with the most ARR.
    pub currency: Option<Currency>,
}

impl Default for ForecastQuery {
    fn default() -> Self {
        ForecastQuery {
            period: None,
            periods: 1,
            owner: None,
            segment: None,
            draws: DEFAULT_DRAWS,
            seed: DEFAULT_SEED,
            currency: None,
        }
    }
}

/// One period's forecast; amounts in minor units of the reporting currency.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodForecast {
    pub period: CalendarPeriod,
    pub renewals: usize,
    pub won: usize,
    pub lost: usize,
    pub open: usize,
    /// ARR due in the period.
    pub renewable: f64,
    /// The renewed ARR of the renewals already won.
    pub booked: f64,
    /// Expected renewed ARR (booked plus the open renewals' expectation).
    pub expected: f64,
    pub expected_expansion: f64,
    pub expected_contraction: f64,
    /// Expected ARR lost with renewals that do not renew.
    pub expected_churn: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    /// (renewable − churn − contraction) ÷ renewable, expected; `None` with nothing due.
    pub grr: Option<f64>,
    /// Expected renewed ÷ renewable.
    pub nrr: Option<f64>,
    /// Open renewals whose probability came from the risk model, and from history.
    pub from_model: usize,
    pub from_history: usize,
    /// The open renewals' ARR due by the owners' latest forecast calls.
    pub called: CallTotals,
}

/// ARR due of open renewals by forecast category; minor units of the reporting
/// currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallTotals {
    pub commit: f64,
    pub best_case: f64,
    pub at_risk: f64,
    pub omitted: f64,
    pub not_called: f64,
}

impl CallTotals {
    fn of(priced: &[Priced], calls: &HashMap<RenewalKey, RenewalCall>) -> CallTotals {
        let mut totals = CallTotals::default();
        for p in priced.iter().filter(|p| p.renewal.outcome.is_none()) {
            let r = p.renewal;
            let key = (r.account_id.clone(), r.product.clone(), r.due_on);
            let slot = match calls.get(&key).map(|c| c.category) {
                Some(ForecastCategory::Commit) => &mut totals.commit,
                Some(ForecastCategory::BestCase) => &mut totals.best_case,
                Some(ForecastCategory::AtRisk) => &mut totals.at_risk,
                Some(ForecastCategory::Omitted) => &mut totals.omitted,
                None => &mut totals.not_called,
            };
            *slot += p.due;
        }
        totals
    }
}

/// The forecast of consecutive periods.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastReport {
    /// The day the forecast is made as of (the last day of the data).
    pub day: NaiveDate,
    pub currency: Currency,
    pub draws: usize,
    pub seed: u64,
    pub periods: Vec<PeriodForecast>,
    /// The trailing year learned from.
    pub history: History,
    /// How much past quarters varied beyond independent renewals; scales the range.
    pub dispersion: Dispersion,
    /// ARR due in the periods that could not be converted, per currency.
    pub left_out: LeftOut,
    /// Terms left out because their contracts are in more than one currency.
    pub mixed_currencies: usize,
}

/// A renewal ready to forecast: its ARR due in the reporting currency and, when
/// open, its probability and the ratios it may come back at.
#[derive(Debug, Clone)]
pub(crate) struct Priced<'a> {
    pub renewal: &'a Renewal,
    pub due: f64,
    pub chance: Option<Chance<'a>>,
}

/// How an open renewal is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chance<'a> {
    pub probability: f64,
    pub from_model: bool,
    pub ratios: &'a [f64],
    /// Expected expansion and contraction of a won renewal per unit of ARR due.
    pub excess: (f64, f64),
}

/// The risk model's renewal probabilities: 1 − the stored non-renewal probability
/// of each account on the model's day, for renewals due within its horizon.
#[derive(Debug, Clone, Default)]
pub struct RenewalModel {
    day: Option<NaiveDate>,
    horizon_days: u64,
    non_renewal: HashMap<String, f64>,
}

impl RenewalModel {
    pub async fn load(store: &Store) -> Result<RenewalModel, AppError> {
        RenewalModel::load_of(store, None).await
    }

    /// [`RenewalModel::load`] for the accounts `ids` only.
    pub async fn load_for(store: &Store, ids: &[String]) -> Result<RenewalModel, AppError> {
        RenewalModel::load_of(store, Some(ids)).await
    }

    async fn load_of(store: &Store, ids: Option<&[String]>) -> Result<RenewalModel, AppError> {
        let target = Target::NonRenewal.as_str();
        let Some(model) = store.latest_risk_model(target).await? else {
            return Ok(RenewalModel::default());
        };
        let Some(day) = store.latest_risk_day(target).await? else {
            return Ok(RenewalModel::default());
        };
        let snapshots = match ids {
            Some(ids) => store.risk_snapshots_of(target, day, ids).await?,
            None => store.risk_snapshots_on(target, day).await?,
        };
        let non_renewal = snapshots
            .into_iter()
            .map(|s| (s.account_id, s.probability))
            .collect();
        Ok(RenewalModel {
            day: Some(day),
            horizon_days: model.horizon_days.max(0) as u64,
            non_renewal,
        })
    }

    /// Non-renewal probabilities of accounts on `day`, for renewals due within
    /// `horizon_days` after it.
    pub fn at(day: NaiveDate, horizon_days: u32, non_renewal: HashMap<String, f64>) -> Self {
        RenewalModel {
            day: Some(day),
            horizon_days: u64::from(horizon_days),
            non_renewal,
        }
    }

    /// The probability that `renewal` renews, when the model covers it.
    pub fn probability(&self, renewal: &Renewal) -> Option<f64> {
        let day = self.day?;
        let covered = renewal.due_on >= day && renewal.due_on <= day + Days::new(self.horizon_days);
        covered
            .then(|| self.non_renewal.get(&renewal.account_id))
            .flatten()
            .map(|p| 1.0 - p)
    }
}

/// The forecast of one period's renewals.
pub(crate) fn forecast_period(
    period: CalendarPeriod,
    priced: &[Priced],
    dispersion: Dispersion,
    draws: usize,
    seed: u64,
) -> Result<PeriodForecast, AppError> {
    let mut f = PeriodForecast {
        period,
        renewals: priced.len(),
        won: 0,
        lost: 0,
        open: 0,
        renewable: 0.0,
        booked: 0.0,
        expected: 0.0,
        expected_expansion: 0.0,
        expected_contraction: 0.0,
        expected_churn: 0.0,
        p10: 0.0,
        p50: 0.0,
        p90: 0.0,
        grr: None,
        nrr: None,
        from_model: 0,
        from_history: 0,
        called: CallTotals::default(),
    };
    let mut open = Vec::new();
    for p in priced {
        f.renewable += p.due;
        match (&p.renewal.outcome, p.chance) {
            (Some(outcome), _) if outcome.won => {
                f.won += 1;
                let renewed = p.due * outcome.ratio(p.renewal.arr);
                f.booked += renewed;
                f.expected_expansion += (renewed - p.due).max(0.0);
                f.expected_contraction += (p.due - renewed).max(0.0);
            }
            (Some(_), _) => {
                f.lost += 1;
                f.expected_churn += p.due;
            }
            (None, Some(chance)) => {
                f.open += 1;
                if chance.from_model {
                    f.from_model += 1;
                } else {
                    f.from_history += 1;
                }
                let (up, down) = chance.excess;
                f.expected_expansion += chance.probability * p.due * up;
                f.expected_contraction += chance.probability * p.due * down;
                f.expected_churn += (1.0 - chance.probability) * p.due;
                open.push(RenewalDraw {
                    probability: chance.probability,
                    due: p.due,
                    ratios: chance.ratios,
                });
            }
            (None, None) => {
                return Err(AppError::Conflict(format!(
                    "the renewal of {} due {} has no probability: no renewal closed in the \
                     year before the forecast and no non-renewal model covers it \
                     (`tend risk refit --target non_renewal`)",
                    p.renewal.account_id, p.renewal.due_on
                )))
            }
        }
    }
    let internal = |e| AppError::Internal(format!("the renewal Monte Carlo: {e}"));
    let drawn = monte_carlo(&open, draws, seed).map_err(internal)?;
    // The expectation is exact; the draws give the range.
    let (mean, _) = exact_moments(&open).map_err(internal)?;
    f.expected = f.booked + mean;
    // The draws' range, widened or narrowed about their mean as past quarters say.
    let scaled = |q: f64| (drawn.mean + dispersion.scale() * (q - drawn.mean)).max(0.0);
    f.p10 = f.booked + scaled(drawn.p10);
    f.p50 = f.booked + scaled(drawn.p50);
    f.p90 = f.booked + scaled(drawn.p90);
    if f.renewable > 0.0 {
        f.grr = Some((f.renewable - f.expected_churn - f.expected_contraction) / f.renewable);
        f.nrr = Some(f.expected / f.renewable);
    }
    Ok(f)
}

/// The chance of an open renewal: the model's probability when it covers it, else
/// the win rate of its segment's history; the ratios are always history's.
pub(crate) fn chance_of<'a>(
    renewal: &Renewal,
    group: &'a Group,
    model: &RenewalModel,
) -> Option<Chance<'a>> {
    let (probability, from_model) = match model.probability(renewal) {
        Some(p) => (p, true),
        None => (group.win_rate()?, false),
    };
    Some(Chance {
        probability,
        from_model,
        ratios: &group.ratios,
        excess: group.excess,
    })
}

/// The consecutive periods a query asks for.
pub(crate) fn periods_of(
    first: CalendarPeriod,
    count: usize,
) -> Result<Vec<CalendarPeriod>, AppError> {
    if !(1..=MAX_PERIODS).contains(&count) {
        return Err(AppError::invalid(
            "periods",
            format!("must be between 1 and {MAX_PERIODS}"),
        ));
    }
    Ok(std::iter::successors(Some(first), |p| Some(p.next()))
        .take(count)
        .collect())
}

pub(crate) fn check_draws(draws: usize) -> Result<(), AppError> {
    if (1..=MAX_DRAWS).contains(&draws) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "draws",
            format!("must be between 1 and {MAX_DRAWS}"),
        ))
    }
}

/// What renewals are priced with: accounts for their segments, the history and the
/// model for their chances, and the currency and day amounts convert at.
pub(crate) struct Pricing<'a> {
    pub accounts: &'a HashMap<String, Account>,
    pub history: &'a History,
    pub model: &'a RenewalModel,
    pub reporting: Reporting<'a>,
    pub day: NaiveDate,
}

impl<'a> Pricing<'a> {
    /// Each period's renewals among `renewals`, priced; those without a rate go to
    /// `left_out`.
    pub(crate) fn price(
        &self,
        periods: &[CalendarPeriod],
        renewals: &'a [Renewal],
        left_out: &mut LeftOut,
    ) -> Vec<Vec<Priced<'a>>> {
        periods
            .iter()
            .map(|period| {
                let span = period.period();
                renewals
                    .iter()
                    .filter(|r| span.contains(r.due_on))
                    .filter_map(|renewal| {
                        let Some(due) = self.reporting.value(renewal.arr, self.day) else {
                            left_out.add(renewal.arr);
                            return None;
                        };
                        let segment = self
                            .accounts
                            .get(&renewal.account_id)
                            .and_then(|a| a.segment.as_deref());
                        let group = self.history.for_segment(segment);
                        Some(Priced {
                            renewal,
                            due: due as f64,
                            chance: if renewal.outcome.is_none() {
                                chance_of(renewal, group, self.model)
                            } else {
                                None
                            },
                        })
                    })
                    .collect()
            })
            .collect()
    }
}

impl App {
    /// The renewal forecast of `query`'s periods, as of the last day of the data.
    pub async fn renewal_forecast(
        &self,
        actor: &Actor,
        query: &ForecastQuery,
    ) -> Result<ForecastReport, AppError> {
        authorize(actor, Action::Read)?;
        check_draws(query.draws)?;
        let store = self.store();
        let day = crate::default_day(store, self.today()).await?;
        let first = query
            .period
            .unwrap_or_else(|| CalendarPeriod::containing(CalendarKind::Quarter, day).next());
        let periods = periods_of(first, query.periods)?;
        // The two largest reads side by side, on two connections and two threads.
        let contracts_read = {
            let store = store.clone();
            tokio::spawn(async move { store.contracts().await })
        };
        let accounts: HashMap<String, Account> = store
            .accounts()
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let contracts = contracts_read
            .await
            .map_err(|e| AppError::Internal(format!("reading the contracts: {e}")))??;
        let rates = tend_core::FxTable::new(&store.fx_rates().await?);
        let money = match query.currency {
            Some(currency) => crate::risk::rows::Money { currency, rates },
            None => crate::risk::rows::Money::main(rates, &contracts, day),
        };
        let reporting = money.reporting();
        let (all, mixed) = renewals(&contracts, day);
        let segment_of = |id: &str| accounts.get(id).and_then(|a| a.segment.clone());
        let history = History::learn(&all, segment_of, reporting, day);
        let model = RenewalModel::load(store).await?;
        let asked = |r: &Renewal| {
            accounts
                .get(&r.account_id)
                .is_some_and(|a| in_scope(a, query.owner.as_deref(), query.segment.as_deref()))
        };
        let segment_ref = |id: &str| accounts.get(id).and_then(|a| a.segment.as_deref());
        let dispersion = dispersion::learn(&all, asked, segment_ref, reporting, day);
        let chosen: Vec<Renewal> = all.into_iter().filter(asked).collect();
        let mut left_out = LeftOut::default();
        let pricing = Pricing {
            accounts: &accounts,
            history: &history,
            model: &model,
            reporting,
            day,
        };
        let priced = pricing.price(&periods, &chosen, &mut left_out);
        let calls = latest_calls(store).await?;
        let forecasts = periods
            .iter()
            .zip(&priced)
            .map(|(period, priced)| {
                let mut f = forecast_period(*period, priced, dispersion, query.draws, query.seed)?;
                f.called = CallTotals::of(priced, &calls);
                Ok(f)
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        Ok(ForecastReport {
            day,
            currency: money.currency,
            draws: query.draws,
            seed: query.seed,
            periods: forecasts,
            history,
            dispersion,
            left_out,
            mixed_currencies: mixed.len(),
        })
    }
}
