//! What an agent asks for first: the customer context (segments, product usage,
//! health, churn risks, growth opportunities and success goals) of the portfolio, a
//! book of business or one account, sized to fit an agent's context; and the
//! progress report of a book. Everything is read from the store; nothing is
//! estimated here that the store does not hold.

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};
use serde::Serialize;
use tend_core::health::{HealthSnapshot, ScorecardSet};
use tend_core::metrics::arr_on;
use tend_core::summary::{arr_by_currency, main_currency};
use tend_core::{Account, Currency, FxTable, Reporting};
use tend_store::ObjectiveRecord;

use crate::app::{App, AppError};
use crate::health::PortfolioFilter;
use crate::policy::{authorize, Action, Actor};
use crate::risk::view::{risk_table, RiskRow};
use crate::risk::{RiskError, Target};
use crate::views::metrics::MetricsQuery;
use crate::views::{Cursor, Page, PageRequest};

/// Licence use from which an account is an expansion candidate.
pub const EXPANSION_UTILIZATION: f64 = 0.9;
/// How many accounts each ranked list of the portfolio context shows.
const TOP: usize = 10;
/// How many risk reasons each account line carries.
const REASONS_SHOWN: usize = 2;

/// Whose context: an owner's book and a segment (both optional), a page of accounts.
#[derive(Debug, Clone, Default)]
pub struct ContextQuery {
    /// A CSM's or account manager's handle, or `*` for every account; the caller's
    /// own book by default.
    pub owner: Option<String>,
    pub segment: Option<String>,
    pub page: PageRequest,
}

/// The portfolio (or a book, or a segment) as an agent first needs it.
#[derive(Debug, Clone, Serialize)]
pub struct PortfolioContext {
    /// The day of the health shown (the latest scored).
    pub as_of: Option<NaiveDate>,
    pub owner: Option<String>,
    pub segment: Option<String>,
    /// The reporting currency of every ARR figure.
    pub currency: String,
    pub accounts: usize,
    /// Accounts with a contract in force on `as_of`.
    pub active_accounts: usize,
    pub arr: f64,
    pub health: HealthSummary,
    pub segments: Vec<SegmentContext>,
    pub product_usage: Vec<UsageMeasure>,
    /// `None` when no churn model has scored the accounts (`tend risk refit`).
    pub churn_risks: Option<RiskSummary>,
    pub growth_opportunities: Vec<Opportunity>,
    pub success_goals: GoalSummary,
    /// A page of the accounts, lowest health first.
    pub account_page: Vec<AccountLine>,
    /// Pass as `cursor` for the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct HealthSummary {
    /// Mean of the latest scores, `None` without any.
    pub average: Option<f64>,
    pub scored: usize,
    /// Accounts per band.
    pub bands: BTreeMap<String, usize>,
    /// Accounts in their scorecard's lowest band.
    pub in_lowest_band: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentContext {
    pub segment: String,
    pub accounts: usize,
    pub arr: f64,
    pub health_average: Option<f64>,
    /// Accounts in their scorecard's lowest band (red in the shipped scorecards).
    pub in_lowest_band: usize,
    /// Accounts of high churn risk, when a model has scored them.
    pub high_risk: Option<usize>,
}

/// A segment's figures as the accounts are counted.
#[derive(Default)]
struct SegmentTally {
    accounts: usize,
    arr: f64,
    scores: Vec<f64>,
    in_lowest_band: usize,
    high_risk: usize,
}

/// A product-usage measure of the health scorecards, across the accounts scored.
#[derive(Debug, Clone, Serialize)]
pub struct UsageMeasure {
    pub measure: String,
    pub average: f64,
    /// Accounts with a value.
    pub accounts: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskSummary {
    pub day: NaiveDate,
    /// Accounts per risk band.
    pub bands: BTreeMap<String, usize>,
    /// Σ probability × ARR.
    pub arr_at_risk: f64,
    /// The highest risks.
    pub top: Vec<RiskLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskLine {
    pub account_id: String,
    pub name: String,
    pub probability: f64,
    pub band: String,
    pub arr: Option<f64>,
    pub reasons: Vec<String>,
}

/// A growth signal read from the store.
#[derive(Debug, Clone, Serialize)]
pub struct Opportunity {
    pub account_id: String,
    pub name: String,
    pub signal: String,
    /// What was seen, in words.
    pub detail: String,
    pub arr: f64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct GoalSummary {
    /// Success-plan objectives per status.
    pub objectives: BTreeMap<String, usize>,
    /// Objectives not yet achieved, oldest first.
    pub open: Vec<Goal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Goal {
    pub account_id: String,
    pub title: String,
    pub status: String,
    pub since: NaiveDate,
}

/// One account in a line.
#[derive(Debug, Clone, Serialize)]
pub struct AccountLine {
    pub id: String,
    pub name: String,
    pub segment: Option<String>,
    pub owner: Option<String>,
    pub arr: f64,
    pub health: Option<f64>,
    pub band: Option<String>,
    pub churn_probability: Option<f64>,
}

/// The seed's progress message, computed for a book.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressReport {
    pub owner: Option<String>,
    pub as_of: NaiveDate,
    pub accounts_managed: usize,
    /// Mean latest health score, rounded; `None` without scores.
    pub health_score_avg: Option<f64>,
    /// Logos lost over the 12 months before `as_of` against the accounts at their
    /// start, in percent; `None` without such accounts.
    pub churn_rate: Option<f64>,
    /// NPS of the 12 months' survey responses; `None` without any.
    pub nps_score: Option<f64>,
    pub renewal_rate: Option<f64>,
    pub expansion_arr: f64,
    pub currency: String,
    /// The delivery sentence, in words.
    pub summary: String,
}

/// The measures of a snapshot that read product usage.
pub(crate) fn usage_measures(snapshot: &HealthSnapshot) -> impl Iterator<Item = (&str, f64)> {
    snapshot
        .score
        .measures
        .iter()
        .filter(|m| m.group == "usage")
        .filter_map(|m| m.raw.map(|raw| (m.measure.as_str(), raw)))
}

/// Whether a snapshot is in its scorecard's lowest band: red in the shipped
/// scorecards, whatever a company's own scorecards call it. A snapshot of a
/// scorecard no longer configured is not.
pub(crate) fn in_lowest_band(set: &ScorecardSet, snapshot: &HealthSnapshot) -> bool {
    set.scorecards
        .iter()
        .find(|card| card.name == snapshot.score.scorecard)
        .and_then(|card| card.bands.iter().min_by(|a, b| a.from.total_cmp(&b.from)))
        .is_some_and(|lowest| lowest.name == snapshot.score.band)
}

/// The growth signals of one account's latest health.
pub fn opportunities_of(
    account: &Account,
    snapshot: &HealthSnapshot,
    arr: f64,
) -> Vec<Opportunity> {
    let mut found = Vec::new();
    for (measure, raw) in usage_measures(snapshot) {
        if measure == "license_utilization" && raw >= EXPANSION_UTILIZATION {
            found.push(Opportunity {
                account_id: account.id.clone(),
                name: account.name.clone(),
                signal: "license_utilization".into(),
                detail: format!(
                    "uses {:.0}% of its licensed seats (from {:.0}% an expansion candidate)",
                    raw * 100.0,
                    EXPANSION_UTILIZATION * 100.0
                ),
                arr,
            });
        }
    }
    found
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

pub(crate) fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Whose accounts a context covers: `owner`, the caller's book when not given, and
/// the whole portfolio for [`WHOLE_PORTFOLIO`].
pub fn scope_owner(actor: &Actor, owner: Option<&str>) -> Option<String> {
    match owner {
        Some(WHOLE_PORTFOLIO) => None,
        Some(handle) => Some(handle.to_string()),
        None => actor.book.clone(),
    }
}

/// The owner that stands for every account.
pub const WHOLE_PORTFOLIO: &str = "*";

fn in_book(account: &Account, owner: &str) -> bool {
    account.csm_owner.as_deref() == Some(owner) || account.am_owner.as_deref() == Some(owner)
}

impl App {
    /// The customers (accounts not lost by the last day of the data) `owner` and
    /// `segment` select, with their latest health and ARR in the reporting currency.
    async fn chosen_accounts(
        &self,
        owner: Option<&str>,
        segment: Option<&str>,
    ) -> Result<Chosen, AppError> {
        let store = self.store();
        let mut accounts = store.accounts().await?;
        let day = crate::default_day(store, self.today()).await?;
        // Accounts lost by the day are no longer anybody's to manage.
        accounts.retain(|a| {
            a.churned_on.is_none_or(|lost| lost > day)
                && owner.is_none_or(|o| in_book(a, o))
                && segment.is_none_or(|s| a.segment.as_deref() == Some(s))
        });
        let health_day = store.latest_health_day().await?;
        let snapshots: HashMap<String, HealthSnapshot> = match health_day {
            Some(day) => store
                .health_snapshots_on(day)
                .await?
                .into_iter()
                .map(|s| (s.account_id.clone(), s))
                .collect(),
            None => HashMap::new(),
        };
        let contracts = store.contracts().await?;
        let rates = FxTable::new(&store.fx_rates().await?);
        let currency = main_currency(&arr_by_currency(&contracts, day), &rates, day);
        let reporting = Reporting {
            currency,
            rates: &rates,
        };
        let in_force = arr_on(&contracts, day, &reporting, day);
        let scale = 10f64.powi(currency.minor_digits() as i32);
        let arr: HashMap<String, f64> = in_force
            .arr
            .iter()
            .map(|(id, minor)| (id.to_string(), *minor as f64 / scale))
            .collect();
        let active = accounts
            .iter()
            .filter(|a| in_force.active.contains(a.id.as_str()))
            .count();
        Ok(Chosen {
            accounts,
            snapshots,
            arr,
            active,
            day,
            health_day,
            currency,
        })
    }

    /// The customer context of the portfolio, a book or a segment.
    pub async fn portfolio_context(
        &self,
        actor: &Actor,
        query: &ContextQuery,
    ) -> Result<PortfolioContext, AppError> {
        authorize(actor, Action::Read)?;
        let limit = query.page.limit()?;
        let offset: usize = match query.page.cursor("context", 1)? {
            None => 0,
            Some(parts) => parts[0]
                .parse()
                .map_err(|_| AppError::invalid("cursor", "is not a cursor of this list"))?,
        };
        let owner = scope_owner(actor, query.owner.as_deref());
        let chosen = self
            .chosen_accounts(owner.as_deref(), query.segment.as_deref())
            .await?;
        let filter = PortfolioFilter {
            owner: owner.clone(),
            segment: query.segment.clone(),
            band: None,
        };
        // No model yet is a context without risk, not a failure.
        let risk = match risk_table(
            self.store(),
            Target::Churn,
            None,
            &filter,
            Some(chosen.currency),
        )
        .await
        {
            Ok(table) => Some(table),
            Err(RiskError::NoModel(_) | RiskError::NoSnapshots(_)) => None,
            Err(other) => return Err(other.into()),
        };
        let risk_of: HashMap<&str, &RiskRow> = risk
            .iter()
            .flat_map(|t| t.rows.iter())
            .map(|r| (r.account_id.as_str(), r))
            .collect();
        let arr_of = |id: &str| chosen.arr.get(id).copied().unwrap_or(0.0);

        let mut health = HealthSummary::default();
        let mut segments: BTreeMap<String, SegmentTally> = BTreeMap::new();
        let mut usage: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut opportunities = Vec::new();
        for account in &chosen.accounts {
            let segment = account.segment.clone().unwrap_or_else(|| "(none)".into());
            let tally = segments.entry(segment).or_default();
            tally.accounts += 1;
            tally.arr += arr_of(&account.id);
            if risk_of
                .get(account.id.as_str())
                .is_some_and(|r| r.band == "high")
            {
                tally.high_risk += 1;
            }
            let Some(snapshot) = chosen.snapshots.get(&account.id) else {
                continue;
            };
            *health.bands.entry(snapshot.score.band.clone()).or_default() += 1;
            let lowest = in_lowest_band(self.scorecards(), snapshot);
            if lowest {
                tally.in_lowest_band += 1;
                health.in_lowest_band += 1;
            }
            if let Some(score) = snapshot.score.overall {
                tally.scores.push(score);
            }
            for (measure, raw) in usage_measures(snapshot) {
                usage.entry(measure.to_string()).or_default().push(raw);
            }
            if !lowest {
                opportunities.extend(opportunities_of(account, snapshot, arr_of(&account.id)));
            }
        }
        let scores: Vec<f64> = segments
            .values()
            .flat_map(|s| s.scores.iter().copied())
            .collect();
        health.scored = scores.len();
        health.average = mean(scores.into_iter()).map(round1);
        opportunities.sort_by(|a, b| {
            b.arr
                .total_cmp(&a.arr)
                .then(a.account_id.cmp(&b.account_id))
        });
        opportunities.truncate(TOP);

        let mut lines: Vec<AccountLine> = chosen
            .accounts
            .iter()
            .map(|a| {
                let snapshot = chosen.snapshots.get(&a.id);
                AccountLine {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    segment: a.segment.clone(),
                    owner: a.csm_owner.clone().or_else(|| a.am_owner.clone()),
                    arr: arr_of(&a.id),
                    health: snapshot.and_then(|s| s.score.overall).map(round1),
                    band: snapshot.map(|s| s.score.band.clone()),
                    churn_probability: risk_of.get(a.id.as_str()).map(|r| r.probability),
                }
            })
            .collect();
        lines.sort_by(|a, b| {
            a.health
                .unwrap_or(f64::INFINITY)
                .total_cmp(&b.health.unwrap_or(f64::INFINITY))
                .then(a.id.cmp(&b.id))
        });
        if offset > 0 && offset >= lines.len() {
            return Err(AppError::invalid(
                "cursor",
                format!(
                    "is past the last page ({} accounts); start again without a cursor",
                    lines.len()
                ),
            ));
        }
        let rest: Vec<AccountLine> = lines.into_iter().skip(offset).collect();
        let page = Page::from_overfetch(rest, limit, |_| Cursor::new("context", &[""]));
        let next_cursor = page
            .next_cursor
            .as_ref()
            .map(|_| Cursor::new("context", &[&(offset + limit as usize).to_string()]).encode());

        let objectives = self.store().all_objectives().await?;
        let ids: std::collections::HashSet<&str> =
            chosen.accounts.iter().map(|a| a.id.as_str()).collect();
        let success_goals = goals(
            objectives
                .iter()
                .filter(|o| ids.contains(o.account_id.as_str())),
        );

        Ok(PortfolioContext {
            as_of: chosen.health_day,
            owner,
            segment: query.segment.clone(),
            currency: chosen.currency.as_str().to_string(),
            accounts: chosen.accounts.len(),
            active_accounts: chosen.active,
            arr: chosen
                .accounts
                .iter()
                .map(|a| arr_of(&a.id))
                .sum::<f64>()
                .round(),
            health,
            segments: segments
                .into_iter()
                .map(|(segment, tally)| SegmentContext {
                    segment,
                    accounts: tally.accounts,
                    arr: tally.arr.round(),
                    health_average: mean(tally.scores.into_iter()).map(round1),
                    in_lowest_band: tally.in_lowest_band,
                    high_risk: risk.as_ref().map(|_| tally.high_risk),
                })
                .collect(),
            product_usage: usage
                .into_iter()
                .map(|(measure, values)| UsageMeasure {
                    measure,
                    accounts: values.len(),
                    average: mean(values.into_iter())
                        .map_or(0.0, |m| (m * 1000.0).round() / 1000.0),
                })
                .collect(),
            churn_risks: risk.map(|table| {
                let mut bands = BTreeMap::new();
                for row in &table.rows {
                    *bands.entry(row.band.clone()).or_default() += 1;
                }
                RiskSummary {
                    day: table.day,
                    bands,
                    arr_at_risk: table
                        .rows
                        .iter()
                        .filter_map(|r| r.arr_at_risk)
                        .sum::<f64>()
                        .round(),
                    top: table.rows.iter().take(TOP).map(risk_line).collect(),
                }
            }),
            growth_opportunities: opportunities,
            success_goals,
            account_page: page.items,
            next_cursor,
        })
    }

    /// The seed's progress message for `owner`'s book (the caller's own by default;
    /// the whole portfolio for a caller without a book).
    pub async fn progress_report(
        &self,
        actor: &Actor,
        owner: Option<String>,
    ) -> Result<ProgressReport, AppError> {
        authorize(actor, Action::Read)?;
        let owner = scope_owner(actor, owner.as_deref());
        let chosen = self.chosen_accounts(owner.as_deref(), None).await?;
        let scores = chosen
            .accounts
            .iter()
            .filter_map(|a| chosen.snapshots.get(&a.id).and_then(|s| s.score.overall));
        let health_score_avg = mean(scores).map(f64::round);
        let to = chosen.day;
        let from = to.checked_sub_days(Days::new(364)).unwrap_or(to);
        let year = self
            .metrics(
                actor,
                &MetricsQuery {
                    from,
                    to,
                    segment: None,
                    owner: owner.clone(),
                    currency: Some(chosen.currency),
                },
            )
            .await?;
        let r = &year.retention;
        let churn_rate = (r.cohort_accounts > 0)
            .then(|| round1(100.0 * r.churned_accounts as f64 / r.cohort_accounts as f64));
        let nps_score = year.nps.map(f64::round);
        let renewal_rate = year.renewals.rate_by_arr().map(round1);
        let scale = 10f64.powi(chosen.currency.minor_digits() as i32);
        let expansion_arr = (r.expansion_arr as f64 / scale).round();
        let summary = progress_words(
            chosen.accounts.len(),
            health_score_avg,
            churn_rate,
            nps_score,
            renewal_rate,
            expansion_arr,
            chosen.currency,
        );
        Ok(ProgressReport {
            owner,
            as_of: to,
            accounts_managed: chosen.accounts.len(),
            health_score_avg,
            churn_rate,
            nps_score,
            renewal_rate,
            expansion_arr,
            currency: chosen.currency.as_str().to_string(),
            summary,
        })
    }
}

struct Chosen {
    accounts: Vec<Account>,
    snapshots: HashMap<String, HealthSnapshot>,
    /// ARR in force per account, in major units of `currency`.
    arr: HashMap<String, f64>,
    active: usize,
    /// The last day of the data.
    day: NaiveDate,
    health_day: Option<NaiveDate>,
    currency: Currency,
}

fn risk_line(row: &RiskRow) -> RiskLine {
    RiskLine {
        account_id: row.account_id.clone(),
        name: row.name.clone(),
        probability: row.probability,
        band: row.band.clone(),
        arr: row.arr,
        reasons: row.reasons.iter().take(REASONS_SHOWN).cloned().collect(),
    }
}

pub(crate) fn goals<'a>(objectives: impl Iterator<Item = &'a ObjectiveRecord>) -> GoalSummary {
    let mut summary = GoalSummary::default();
    for o in objectives {
        *summary.objectives.entry(o.status.clone()).or_default() += 1;
        if o.status != "achieved" {
            summary.open.push(Goal {
                account_id: o.account_id.clone(),
                title: o.title.clone(),
                status: o.status.clone(),
                since: o.created_on,
            });
        }
    }
    summary
        .open
        .sort_by(|a, b| a.since.cmp(&b.since).then(a.account_id.cmp(&b.account_id)));
    summary.open.truncate(TOP);
    summary
}

/// "Managing 85 accounts with average health score of 82, churn rate of 3.2% …":
/// the seed's delivery sentence, with what the store does not know said so.
fn progress_words(
    accounts: usize,
    health: Option<f64>,
    churn: Option<f64>,
    nps: Option<f64>,
    renewal: Option<f64>,
    expansion: f64,
    currency: Currency,
) -> String {
    let or_none = |value: Option<String>, what: &str| value.unwrap_or_else(|| format!("no {what}"));
    format!(
        "Managing {accounts} accounts with {}, {} over the last 12 months, and {}. \
         Expansion revenue of {} {} ARR; {}.",
        or_none(
            health.map(|h| format!("average health score of {h:.0}")),
            "health scores"
        ),
        or_none(
            churn.map(|c| format!("churn rate of {c:.1}%")),
            "churn rate (no accounts a year ago)"
        ),
        or_none(nps.map(|n| format!("NPS of {n:.0}")), "NPS responses"),
        tend_core::money::group_thousands(expansion.max(0.0) as u64),
        currency.as_str(),
        or_none(
            renewal.map(|r| format!("renewal rate at {r:.1}%")),
            "renewals due"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tend_core::health::HealthScore;

    fn snapshot(scorecard: &str, band: &str) -> HealthSnapshot {
        HealthSnapshot {
            account_id: "a-1".into(),
            day: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            score: HealthScore {
                scorecard: scorecard.into(),
                overall: Some(10.0),
                band: band.into(),
                groups: Vec::new(),
                measures: Vec::new(),
            },
        }
    }

    #[test]
    fn the_lowest_band_is_the_scorecards_own_whatever_its_name() {
        let set = crate::health::parse_scorecards(
            r#"
[[scorecard]]
name = "ours"
bands = [
  { name = "thriving", from = 75, to = 100 },
  { name = "at_risk", from = 0, to = 45 },
  { name = "steady", from = 45, to = 75 },
]
[[scorecard.group]]
name = "usage"
weight = 100
[[scorecard.group.measure]]
name = "license_utilization"
weight = 100
rule = { kind = "linear", zero_at = 0, full_at = 1 }
"#,
            "test",
        )
        .unwrap();
        assert!(in_lowest_band(&set, &snapshot("ours", "at_risk")));
        assert!(!in_lowest_band(&set, &snapshot("ours", "red")));
        assert!(!in_lowest_band(&set, &snapshot("ours", "steady")));
        assert!(!in_lowest_band(&set, &snapshot("retired", "at_risk")));
        let shipped = crate::health::load_scorecards(None).unwrap();
        assert!(in_lowest_band(&shipped, &snapshot("standard", "red")));
    }
}
