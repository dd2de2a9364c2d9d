//! Health as pages and histories: the portfolio table a page at a time, one
//! account's daily history with its changes, and the explanation of a day.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use tend_core::health::{Explanation, HealthSnapshot, Reading};
use tend_core::Account;
use tend_store::AccountFilter;

use super::page::{Cursor, Page, PageRequest};
use crate::app::{App, AppError};
use crate::health::portfolio::TREND_DAYS;
use crate::health::portfolio::{health_row, Earlier};
use crate::health::{explain_account, HealthRow, COMPARE_DAYS};
use crate::policy::{authorize, Action, Actor};

/// How long a computed page of the health table is served after health changed in
/// another process (a CLI import); changes made through this `App` drop it at once.
const PAGE_CACHE_SECONDS: u64 = 5;
/// Pages kept at most; beyond, the cache starts afresh.
const PAGE_CACHE_ENTRIES: usize = 1000;

type CachedPage = (NaiveDate, Page<HealthRow>);

/// Computed pages of the health table: the most read page of the product, the same
/// for every caller until health changes.
#[derive(Default)]
pub struct PageCache {
    /// Bumped whenever this application changes health.
    version: AtomicU64,
    pages: std::sync::Mutex<HashMap<String, (u64, Instant, CachedPage)>>,
}

impl PageCache {
    /// Forgets every page: health just changed.
    pub(crate) fn invalidate(&self) {
        self.version.fetch_add(1, Ordering::SeqCst);
    }

    fn get(&self, key: &str) -> Option<CachedPage> {
        let version = self.version.load(Ordering::SeqCst);
        let pages = self.pages.lock().expect("page cache lock");
        pages
            .get(key)
            .filter(|(v, at, _)| {
                *v == version && at.elapsed() < Duration::from_secs(PAGE_CACHE_SECONDS)
            })
            .map(|(_, _, page)| page.clone())
    }

    /// Keeps `page` if health did not change since `version` was read.
    fn put(&self, key: String, version: u64, page: &CachedPage) {
        let mut pages = self.pages.lock().expect("page cache lock");
        if pages.len() >= PAGE_CACHE_ENTRIES {
            pages.clear();
        }
        if self.version.load(Ordering::SeqCst) == version {
            pages.insert(key, (version, Instant::now(), page.clone()));
        }
    }
}

/// Days of history shown unless asked otherwise.
const DEFAULT_HISTORY_DAYS: u64 = 90;
/// Longest history one request returns.
const MAX_HISTORY_DAYS: i64 = 3660;

/// One day of an account's health with its change against earlier days.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryDay {
    pub day: NaiveDate,
    pub score: Option<f64>,
    pub band: String,
    /// Change against the previous day scored, and against 7 and 30 days earlier.
    pub delta_previous: Option<f64>,
    pub delta_7d: Option<f64>,
    pub delta_30d: Option<f64>,
}

impl App {
    /// The latest day health was scored, or a conflict saying there is none.
    async fn health_day(&self, day: Option<NaiveDate>) -> Result<NaiveDate, AppError> {
        match day {
            Some(day) => Ok(day),
            None => self
                .store()
                .latest_health_day()
                .await?
                .ok_or_else(|| AppError::Conflict("no health snapshots yet".into())),
        }
    }

    /// A page of the portfolio table on `day` (the latest scored day by default),
    /// lowest score first.
    pub async fn health_page(
        &self,
        actor: &Actor,
        day: Option<NaiveDate>,
        filter: &AccountFilter,
        page: &PageRequest,
    ) -> Result<(NaiveDate, Page<HealthRow>), AppError> {
        authorize(actor, Action::Read)?;
        let limit = page.limit()?;
        let key = format!("{day:?}|{filter:?}|{:?}|{limit}", page.cursor);
        if let Some(cached) = self.health_pages().get(&key) {
            return Ok(cached);
        }
        let version = self.health_pages().version.load(Ordering::SeqCst);
        let computed = self.compute_health_page(day, filter, page, limit).await?;
        self.health_pages().put(key, version, &computed);
        Ok(computed)
    }

    async fn compute_health_page(
        &self,
        day: Option<NaiveDate>,
        filter: &AccountFilter,
        page: &PageRequest,
        limit: u32,
    ) -> Result<(NaiveDate, Page<HealthRow>), AppError> {
        let day = self.health_day(day).await?;
        let after = match page.cursor("health", 2)? {
            Some(parts) => Some((
                parts[0]
                    .parse::<f64>()
                    .map_err(|_| AppError::invalid("cursor", "is not a cursor of this list"))?,
                parts[1].clone(),
            )),
            None => None,
        };
        let store = self.store();
        let snapshots = store
            .health_page(
                day,
                filter,
                after.as_ref().map(|(s, id)| (*s, id.as_str())),
                limit + 1,
            )
            .await?;
        let ids: Vec<String> = snapshots.iter().map(|s| s.account_id.clone()).collect();
        let days = TREND_DAYS.map(|d| day - Days::new(d));
        let month_ago: HashMap<String, HealthSnapshot> = store
            .health_snapshots_of(&ids, days[1])
            .await?
            .into_iter()
            .map(|s| (s.account_id.clone(), s))
            .collect();
        let scores = store
            .health_scores_of(&ids, &[days[0], days[2]])
            .await?
            .into_iter()
            .map(|(id, d, score)| ((id, d), score))
            .chain(
                month_ago
                    .values()
                    .map(|s| ((s.account_id.clone(), s.day), s.score.overall)),
            )
            .collect();
        let earlier = Earlier {
            days,
            scores,
            month_ago,
        };
        let accounts: HashMap<String, Account> = store
            .accounts_of(&ids)
            .await?
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect();
        let rows: Vec<HealthRow> = snapshots
            .into_iter()
            .filter_map(|s| {
                let account = accounts.get(&s.account_id)?;
                Some(health_row(s, account, &earlier))
            })
            .collect();
        Ok((
            day,
            Page::from_overfetch(rows, limit, |row| {
                Cursor::new(
                    "health",
                    &[&row.score.unwrap_or(1.0e9).to_string(), &row.account_id],
                )
            }),
        ))
    }

    /// One account's daily health from `from` through `to` (the last 90 days of
    /// its history by default).
    pub async fn health_history(
        &self,
        actor: &Actor,
        id: &str,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<HistoryDay>, AppError> {
        authorize(actor, Action::Read)?;
        self.account(id).await?;
        let to = match to {
            Some(day) => day,
            None => match self
                .store()
                .latest_health_snapshot(id, crate::views::LAST_DAY)
                .await?
            {
                Some(latest) => latest.day,
                None => return Ok(Vec::new()),
            },
        };
        let from = from.unwrap_or(to - Days::new(DEFAULT_HISTORY_DAYS));
        if from > to {
            return Err(AppError::invalid("from", "must not be after `to`"));
        }
        if (to - from).num_days() > MAX_HISTORY_DAYS {
            return Err(AppError::invalid(
                "from",
                format!("a history covers at most {MAX_HISTORY_DAYS} days"),
            ));
        }
        // Thirty days more, for the first days' changes.
        let rows = self
            .store()
            .health_history(id, from - Days::new(30), to)
            .await?;
        let by_day: HashMap<NaiveDate, Option<f64>> =
            rows.iter().map(|(d, s, _)| (*d, *s)).collect();
        let change = |day: NaiveDate, score: Option<f64>, back: u64| {
            let then = by_day.get(&(day - Days::new(back))).copied().flatten();
            score.zip(then).map(|(a, b)| a - b)
        };
        let mut previous: Option<Option<f64>> = None;
        let mut history = Vec::new();
        for (day, score, band) in rows {
            if day >= from {
                history.push(HistoryDay {
                    day,
                    score,
                    band,
                    delta_previous: previous.flatten().zip(score).map(|(b, a)| a - b),
                    delta_7d: change(day, score, 7),
                    delta_30d: change(day, score, 30),
                });
            }
            previous = Some(score);
        }
        Ok(history)
    }

    /// The explanation of a stored snapshot: against the stored snapshot 30 days
    /// earlier when there is one of the same scorecard (cheap: nothing is
    /// recomputed, and the words leave out details such as seat counts), otherwise
    /// recomputed from the data as `explain` does.
    pub(crate) async fn explanation_of(
        &self,
        snapshot: &HealthSnapshot,
    ) -> Result<Explanation, AppError> {
        let earlier = snapshot.day - Days::new(COMPARE_DAYS);
        let card = self
            .scorecards()
            .scorecards
            .iter()
            .find(|c| c.name == snapshot.score.scorecard);
        let before = self
            .store()
            .health_snapshot(&snapshot.account_id, earlier)
            .await?;
        if let (Some(card), Some(before)) = (card, before) {
            let fits = |s: &HealthSnapshot| {
                s.score.scorecard == card.name && s.score.measures.len() == card.measures().count()
            };
            if fits(snapshot) && fits(&before) {
                let readings = |s: &HealthSnapshot| -> Vec<Reading> {
                    s.score
                        .measures
                        .iter()
                        .map(|m| Reading {
                            value: m.raw,
                            detail: None,
                        })
                        .collect()
                };
                let (now_readings, before_readings) = (readings(snapshot), readings(&before));
                return Ok(Explanation::new(
                    card,
                    (snapshot.day, snapshot.score.clone(), &now_readings),
                    (earlier, before.score, &before_readings),
                ));
            }
        }
        let (_, explanation) = explain_account(
            self.store(),
            self.scorecards(),
            &snapshot.account_id,
            snapshot.day,
        )
        .await?;
        Ok(explanation)
    }

    /// Why an account scores as it does on `day` (the last day of the data by
    /// default), measure by measure against 30 days earlier.
    pub async fn explain(
        &self,
        actor: &Actor,
        id: &str,
        day: Option<NaiveDate>,
    ) -> Result<(Account, Explanation), AppError> {
        authorize(actor, Action::Read)?;
        let day = match day {
            Some(day) => day,
            None => crate::default_day(self.store(), self.today()).await?,
        };
        Ok(explain_account(self.store(), self.scorecards(), id, day).await?)
    }
}
