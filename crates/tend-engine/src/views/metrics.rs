//! Every metric of the product brief over a chosen period, for the whole portfolio,
//! one segment or one owner's book, and the portfolio summary.

use chrono::NaiveDate;
use tend_core::metrics::{self, Renewals, ResponseTimes, Retention};
use tend_core::summary::{arr_by_currency, main_currency, PortfolioSummary};
use tend_core::{Currency, FxTable, LeftOut, Money, Period, Reporting, SurveyKind};

use crate::app::{App, AppError};
use crate::policy::{authorize, Action, Actor};
use crate::summary::load_summary;

/// Which accounts and days the metrics cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsQuery {
    /// The first and last day included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub segment: Option<String>,
    /// The CSM or account manager.
    pub owner: Option<String>,
    pub currency: Option<Currency>,
}

/// The metrics of a period.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodMetrics {
    pub period: Period,
    pub currency: Currency,
    /// Accounts the filter selects, and those with a contract in force on the last day.
    pub accounts: usize,
    pub active_accounts: usize,
    /// ARR in force on the last day, converted, and what could not be.
    pub arr: Money,
    pub arr_left_out: LeftOut,
    pub retention: Retention,
    pub renewals: Renewals,
    pub nps: Option<f64>,
    pub nps_responses: usize,
    pub csat: Option<f64>,
    pub csat_responses: usize,
    pub ces: Option<f64>,
    pub ces_responses: usize,
    pub response_times: Option<ResponseTimes>,
}

impl App {
    /// The portfolio summary as of `as_of` (by default the last day of the data).
    pub async fn summary(
        &self,
        actor: &Actor,
        as_of: Option<NaiveDate>,
        currency: Option<Currency>,
    ) -> Result<PortfolioSummary, AppError> {
        authorize(actor, Action::Read)?;
        let as_of = match as_of {
            Some(day) => day,
            None => crate::default_day(self.store(), self.today()).await?,
        };
        Ok(load_summary(self.store(), as_of, currency).await?)
    }

    /// Every metric of the brief over `query`'s period and accounts.
    pub async fn metrics(
        &self,
        actor: &Actor,
        query: &MetricsQuery,
    ) -> Result<PeriodMetrics, AppError> {
        authorize(actor, Action::Read)?;
        if query.from > query.to {
            return Err(AppError::invalid("from", "must not be after `to`"));
        }
        Ok(self.metrics_data().await?.of(query))
    }

    /// The metrics of many queries (periods, segments, owners) at once: the data
    /// read once, each query computed from it.
    pub async fn metrics_of_each(
        &self,
        actor: &Actor,
        queries: &[MetricsQuery],
    ) -> Result<Vec<PeriodMetrics>, AppError> {
        authorize(actor, Action::Read)?;
        if let Some(bad) = queries.iter().find(|q| q.from > q.to) {
            return Err(AppError::invalid(
                "from",
                format!("must not be after `to` ({} > {})", bad.from, bad.to),
            ));
        }
        let data = self.metrics_data().await?;
        // Seconds of arithmetic on a large portfolio: off the request threads.
        let queries = queries.to_vec();
        tokio::task::spawn_blocking(move || queries.iter().map(|q| data.of(q)).collect())
            .await
            .map_err(|e| AppError::Internal(format!("computing metrics: {e}")))
    }

    async fn metrics_data(&self) -> Result<MetricsData, AppError> {
        // One table after another: read at once they would hold most of the pool's
        // connections for seconds, and every request would wait behind them.
        let store = self.store();
        Ok(MetricsData {
            accounts: store.accounts().await?,
            contracts: store.contracts().await?,
            tickets: store.tickets().await?,
            surveys: store.survey_responses().await?,
            rates: FxTable::new(&store.fx_rates().await?),
        })
    }
}

/// Everything the metrics read, for any filter of accounts.
struct MetricsData {
    accounts: Vec<tend_core::Account>,
    contracts: Vec<tend_core::Contract>,
    tickets: Vec<tend_core::Ticket>,
    surveys: Vec<tend_core::SurveyResponse>,
    rates: FxTable,
}

impl MetricsData {
    fn of(&self, query: &MetricsQuery) -> PeriodMetrics {
        let end = query.to.succ_opt().unwrap_or(query.to);
        let period = Period::new(query.from, end);
        let accounts: std::collections::HashSet<&str> = self
            .accounts
            .iter()
            .filter(|a| {
                query
                    .segment
                    .as_deref()
                    .is_none_or(|s| a.segment.as_deref() == Some(s))
                    && query.owner.as_deref().is_none_or(|o| {
                        a.csm_owner.as_deref() == Some(o) || a.am_owner.as_deref() == Some(o)
                    })
            })
            .map(|a| a.id.as_str())
            .collect();
        let chosen = |id: &str| accounts.contains(id);
        // The whole portfolio reads the data as it is; a segment or a book, a copy
        // of what is theirs.
        let everyone = query.segment.is_none() && query.owner.is_none();
        fn theirs<'a, T: Clone>(
            all: &'a [T],
            everyone: bool,
            keep: impl Fn(&T) -> bool,
        ) -> std::borrow::Cow<'a, [T]> {
            if everyone {
                std::borrow::Cow::Borrowed(all)
            } else {
                std::borrow::Cow::Owned(all.iter().filter(|x| keep(x)).cloned().collect())
            }
        }
        let contracts = theirs(&self.contracts, everyone, |c| chosen(&c.account_id));
        let tickets = theirs(&self.tickets, everyone, |t| chosen(&t.account_id));
        let surveys = theirs(&self.surveys, everyone, |s| chosen(&s.account_id));
        let rates = &self.rates;
        let currency = query.currency.unwrap_or_else(|| {
            main_currency(&arr_by_currency(&contracts, query.to), rates, query.to)
        });
        let reporting = Reporting { currency, rates };
        let arr_now = metrics::arr_on(&contracts, query.to, &reporting, query.to);
        let scores = |kind| metrics::survey_scores(&surveys, kind, period);
        let (nps, csat, ces) = (
            scores(SurveyKind::Nps),
            scores(SurveyKind::Csat),
            scores(SurveyKind::Ces),
        );
        PeriodMetrics {
            period,
            currency,
            accounts: accounts.len(),
            active_accounts: arr_now.active.len(),
            arr: Money::new(arr_now.arr.values().sum(), currency),
            arr_left_out: arr_now.left_out.clone(),
            retention: metrics::retention(&contracts, period, &reporting),
            renewals: metrics::renewals(&contracts, period, &reporting),
            nps: metrics::nps(&nps),
            nps_responses: nps.len(),
            csat: metrics::csat(&csat),
            csat_responses: csat.len(),
            ces: metrics::ces(&ces),
            ces_responses: ces.len(),
            response_times: metrics::first_response_times(&tickets, period),
        }
    }
}
