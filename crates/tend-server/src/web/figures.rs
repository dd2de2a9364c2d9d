//! The figures of the pages that read a whole portfolio or book (the metrics; the
//! renewal pipeline and its forecast), kept between requests by
//! [`tend_engine::kept`]: computed once, served until this server writes or they
//! grow older than [`MAX_AGE`], then served while computed again in the background.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Days;
use tend_core::period::{CalendarKind, CalendarPeriod};
use tend_core::summary::PortfolioSummary;
use tend_core::Role;
use tend_engine::kept::{Kept, KeptValue};
use tend_engine::risk::Target;
use tend_engine::views::metrics::{MetricsQuery, PeriodMetrics};
use tend_engine::views::renewals::{Pipeline, RenewalQuery};
use tend_engine::views::PageRequest;
use tend_engine::{Actor, App, AppError};
use tend_store::AccountFilter;
use tend_web::pages::cockpit::Worsened;
use tend_web::pages::renewals::ForecastLine;

/// How late a write of another process (an import from the command line) shows.
const MAX_AGE: Duration = Duration::from_secs(60);

/// Quarters the metrics page shows the trend over.
const TREND_QUARTERS: usize = 8;
/// The renewals page's forecast: quarters ahead, and Monte Carlo draws (fewer than
/// the CLI's default: the range moves little).
const FORECAST_QUARTERS: usize = 4;
const FORECAST_DRAWS: usize = 2_000;

/// A fall of health this many points in 7 days, or a rise of churn probability
/// this much in a week, puts an account on its owner's cockpit.
const WORSENED_POINTS: f64 = 3.0;
const RISK_ROSE: f64 = 0.05;
/// Worsened accounts the cockpit lists, of each kind.
const WORSENED_SHOWN: u32 = 20;

/// Everything the metrics page shows.
pub struct MetricsFigures {
    pub summary: PortfolioSummary,
    /// The 12 months before the summary's day, per segment and per owner.
    pub by_segment: Vec<(String, PeriodMetrics)>,
    pub by_owner: Vec<(String, PeriodMetrics)>,
    /// Calendar quarters, oldest first.
    pub quarters: Vec<(String, PeriodMetrics)>,
}

/// The kept figures of a server.
pub struct Figures {
    metrics: Kept<MetricsFigures>,
    /// By owner (`None`: the whole portfolio).
    pipelines: Kept<Pipeline>,
    forecasts: Kept<Vec<ForecastLine>>,
    /// By owner.
    worsened: Kept<Vec<Worsened>>,
}

impl Default for Figures {
    fn default() -> Figures {
        Figures {
            metrics: Kept::new(MAX_AGE),
            pipelines: Kept::new(MAX_AGE),
            forecasts: Kept::new(MAX_AGE),
            worsened: Kept::new(MAX_AGE),
        }
    }
}

/// The key of an owner's book, or of everyone's.
fn book_key(owner: Option<&str>) -> String {
    match owner {
        Some(handle) => format!("owner:{handle}"),
        None => "all".to_string(),
    }
}

/// Who computes the kept figures: a reader; what each shows is chosen by its query.
fn reader() -> Actor {
    Actor {
        name: "web".to_string(),
        role: Role::Viewer,
        book: None,
    }
}

impl Figures {
    /// Computes the figures of the whole portfolio one after the other, so that the
    /// first to open the metrics or renewals page does not wait for them.
    pub async fn warm(&self, app: &App) {
        let started = std::time::Instant::now();
        let results = [
            self.metrics(app).await.err(),
            self.pipeline(app, None).await.err(),
            self.forecast(app, None).await.err(),
        ];
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            seconds,
            "the web app's figures of the whole portfolio are computed"
        );
        for e in results.into_iter().flatten() {
            tracing::info!(error = %e, "a figure of the web app is not computed until asked for");
        }
    }

    /// The metrics of the whole portfolio, the same for every reader.
    pub async fn metrics(&self, app: &App) -> Result<KeptValue<MetricsFigures>, AppError> {
        let owned = app.clone();
        self.metrics
            .get(app, "all", move || async move { metrics(&owned).await })
            .await
    }

    /// The renewals due in the pipeline's default window, of `owner`'s book or of
    /// everyone's.
    pub async fn pipeline(
        &self,
        app: &App,
        owner: Option<&str>,
    ) -> Result<KeptValue<Pipeline>, AppError> {
        let owned = app.clone();
        let query = RenewalQuery {
            owner: owner.map(str::to_string),
            ..RenewalQuery::default()
        };
        self.pipelines
            .get(app, &book_key(owner), move || async move {
                owned.renewal_pipeline(&reader(), &query).await
            })
            .await
    }

    /// The accounts of `owner`'s book whose health fell [`WORSENED_POINTS`] or more
    /// in 7 days, largest fall first, then those whose churn probability rose
    /// [`RISK_ROSE`] or more since the scores of a week before.
    pub async fn worsened(
        &self,
        app: &App,
        owner: &str,
    ) -> Result<KeptValue<Vec<Worsened>>, AppError> {
        let owned = app.clone();
        let handle = owner.to_string();
        self.worsened
            .get(app, &book_key(Some(owner)), move || async move {
                worsened(&owned, &handle).await
            })
            .await
    }

    /// The forecast of the next quarters, of `owner`'s book or of everyone's; empty
    /// while there is nothing to forecast from.
    pub async fn forecast(
        &self,
        app: &App,
        owner: Option<&str>,
    ) -> Result<KeptValue<Vec<ForecastLine>>, AppError> {
        let owned = app.clone();
        let query = tend_engine::forecast::ForecastQuery {
            periods: FORECAST_QUARTERS,
            owner: owner.map(str::to_string),
            draws: FORECAST_DRAWS,
            ..Default::default()
        };
        self.forecasts
            .get(app, &book_key(owner), move || async move {
                forecast(&owned, &query).await
            })
            .await
    }
}

async fn worsened(app: &App, owner: &str) -> Result<Vec<Worsened>, AppError> {
    let store = app.store();
    let Some(day) = store.latest_health_day().await? else {
        return Ok(Vec::new());
    };
    let week = Days::new(7);
    let mut ids = store
        .health_falls_of_owner(owner, day, day - week, WORSENED_POINTS, WORSENED_SHOWN)
        .await?;
    let target = Target::Churn.as_str();
    let (now, before) = match store.latest_risk_day(target).await? {
        Some(risk_day) => {
            let rose = store
                .risk_rises_of_owner(
                    owner,
                    target,
                    risk_day,
                    risk_day - week,
                    RISK_ROSE,
                    WORSENED_SHOWN,
                )
                .await?;
            for id in rose {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            let on = |day| store.risk_snapshots_of(target, day, &ids);
            tokio::try_join!(on(risk_day), on(risk_day - week))?
        }
        None => (Vec::new(), Vec::new()),
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let now: HashMap<String, (f64, String)> = now
        .into_iter()
        .map(|r| (r.account_id, (r.probability, r.band)))
        .collect();
    let before: HashMap<String, f64> = before
        .into_iter()
        .map(|r| (r.account_id, r.probability))
        .collect();
    let filter = AccountFilter {
        ids: Some(ids.clone()),
        ..AccountFilter::default()
    };
    let page = PageRequest {
        cursor: None,
        limit: Some(ids.len() as u32),
    };
    let (_, rows) = app
        .health_page(&reader(), Some(day), &filter, &page)
        .await?;
    let mut worsened: Vec<Worsened> = rows
        .items
        .into_iter()
        .map(|health| Worsened {
            risk: now.get(&health.account_id).cloned(),
            risk_week_before: before.get(&health.account_id).copied(),
            health,
        })
        .collect();
    // In the order found: health falls first, largest first, then risk rises.
    worsened.sort_by_key(|w| ids.iter().position(|id| *id == w.health.account_id));
    Ok(worsened)
}

async fn forecast(
    app: &App,
    query: &tend_engine::forecast::ForecastQuery,
) -> Result<Vec<ForecastLine>, AppError> {
    let report = match app.renewal_forecast(&reader(), query).await {
        Ok(report) => report,
        Err(AppError::Conflict(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(report
        .periods
        .iter()
        .map(|p| ForecastLine {
            period: p.period.label(),
            renewable: format!("{} {:.0}", report.currency, p.renewable),
            expected: format!("{} {:.0}", report.currency, p.expected),
            p10: p.p10,
            p50: p.p50,
            p90: p.p90,
            currency: report.currency.to_string(),
            range_scale: report.dispersion.scale(),
        })
        .collect())
}

async fn metrics(app: &App) -> Result<MetricsFigures, AppError> {
    let actor = reader();
    let summary = app.summary(&actor, None, None).await?;
    let store = app.store();
    let (segments, owners) = tokio::try_join!(store.segments(), store.owners())?;
    let year = MetricsQuery {
        from: summary.year.start,
        to: summary.as_of,
        segment: None,
        owner: None,
        currency: Some(summary.currency),
    };
    // The last full quarters before the summary's day, oldest first.
    let current = CalendarPeriod::containing(CalendarKind::Quarter, summary.as_of);
    let mut quarters: Vec<CalendarPeriod> =
        std::iter::successors(Some(current.previous()), |q| Some(q.previous()))
            .take(TREND_QUARTERS)
            .collect();
    quarters.reverse();
    let queries: Vec<MetricsQuery> = segments
        .iter()
        .map(|s| MetricsQuery {
            segment: Some(s.clone()),
            ..year.clone()
        })
        .chain(owners.iter().map(|o| MetricsQuery {
            owner: Some(o.clone()),
            ..year.clone()
        }))
        .chain(quarters.iter().map(|q| {
            let period = q.period();
            MetricsQuery {
                from: period.start,
                to: period.last_day().unwrap_or(period.start),
                ..year.clone()
            }
        }))
        .collect();
    let mut results = app.metrics_of_each(&actor, &queries).await?.into_iter();
    let by_segment = segments.into_iter().zip(results.by_ref()).collect();
    let by_owner = owners.into_iter().zip(results.by_ref()).collect();
    let quarters = quarters.iter().map(|q| q.label()).zip(results).collect();
    Ok(MetricsFigures {
        summary,
        by_segment,
        by_owner,
        quarters,
    })
}
