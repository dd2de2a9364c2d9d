//! `tend health ACCOUNT --explain`: one account's score on a day, measure by measure,
//! against 30 days earlier, computed from the data as it was on each day.

use std::fmt::Write;

use chrono::{Days, NaiveDate};
use tend_core::health::{
    format_value, measure, readings, score, Explanation, Scorecard, ScorecardSet,
};
use tend_core::Account;
use tend_store::Store;

use super::facts::{history_window, Loaded};
use super::HealthError;

/// How far back an explanation compares.
pub const COMPARE_DAYS: u64 = 30;

/// Explains `account_id`'s health on `day` against `COMPARE_DAYS` earlier. An account
/// that had churned by `day` is explained on its last day before churning, which the
/// explanation's `day` then says.
pub async fn explain_account(
    store: &Store,
    set: &ScorecardSet,
    account_id: &str,
    day: NaiveDate,
) -> Result<(Account, Explanation), HealthError> {
    let Some(account) = store.account(account_id).await? else {
        return Err(HealthError::UnknownAccount(account_id.to_string()));
    };
    let day = match account.churned_on {
        Some(churned) if churned <= day => churned.pred_opt().unwrap_or(churned),
        _ => day,
    };
    let earlier = day - Days::new(COMPARE_DAYS);
    let window = history_window(set, earlier);
    let loaded = Loaded::load(store, account_id, account_id, None, window).await?;
    let account = loaded.accounts().first().cloned().unwrap_or(account);
    let card = set.for_account(&account);
    let facts = loaded.facts(0);
    let segment = account.segment.clone().unwrap_or_default();
    let mut scored = Vec::new();
    for on in [day, earlier] {
        let readings = readings(card, &facts, on);
        let raw: Vec<Option<f64>> = readings.iter().map(|r| r.value).collect();
        let lists = segment_lists(store, card, &segment, on).await?;
        let health = score(card, &raw, |i| lists[i].as_slice());
        scored.push((on, health, readings));
    }
    let (before, now) = (
        scored.pop().expect("two days"),
        scored.pop().expect("two days"),
    );
    let explanation = Explanation::new(
        card,
        (now.0, now.1, now.2.as_slice()),
        (before.0, before.1, before.2.as_slice()),
    );
    Ok((account, explanation))
}

/// The stored segment distributions of `card`'s measures on `day` (empty lists when
/// none were stored, which percentile rules score as the middle).
async fn segment_lists(
    store: &Store,
    card: &Scorecard,
    segment: &str,
    day: NaiveDate,
) -> Result<Vec<Vec<f64>>, HealthError> {
    let mut lists = vec![Vec::new(); card.measures().count()];
    for d in store.health_distributions(&card.name, segment, day).await? {
        if let Some(list) = lists.get_mut(d.measure) {
            *list = d.values;
        }
    }
    Ok(lists)
}

fn score_text(score: Option<f64>) -> String {
    score.map_or_else(|| "–".to_string(), |s| format!("{s:.0}"))
}

fn raw_text(name: &str, reading: Option<f64>) -> String {
    measure(name).map_or_else(String::new, |spec| format_value(spec, reading))
}

/// The explanation as a terminal report: the headline and top movers, and with
/// `detailed` every measure.
pub fn render_explanation(account: &Account, e: &Explanation, detailed: bool) -> String {
    let mut out = String::new();
    if let Some(churned) = account.churned_on {
        let reason = account
            .churn_reason
            .as_deref()
            .map_or_else(String::new, |r| format!(" ({r})"));
        let what = if churned.pred_opt() == Some(e.day) {
            "its last health before churning"
        } else {
            "its health before then"
        };
        let _ = writeln!(
            out,
            "{} ({}) churned on {churned}{reason}; {what}:",
            account.name, account.id
        );
    }
    let change = match (e.now.overall, e.before.overall) {
        (Some(a), Some(b)) => format!(", {:+.1} points", a - b),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{} ({}): health {} ({}) on {}, scorecard \"{}\"",
        account.name,
        account.id,
        score_text(e.now.overall),
        e.now.band,
        e.day,
        e.now.scorecard
    );
    let _ = writeln!(
        out,
        "{} days earlier ({}): {} ({}){change}",
        COMPARE_DAYS,
        e.earlier,
        score_text(e.before.overall),
        e.before.band
    );
    let movers = e.top_movers(3);
    if !movers.is_empty() {
        let _ = writeln!(out, "\nWhat moved it:");
        for m in movers {
            let _ = writeln!(
                out,
                "  {:+5.1}  {}",
                m.points,
                m.words.as_deref().unwrap_or_default()
            );
        }
    }
    if !detailed {
        return out;
    }
    let _ = writeln!(
        out,
        "\n  {:<30} {:>16} {:>16} {:>6} {:>7} {:>7} {:>7}",
        "measure", "now", "30 days earlier", "score", "weight", "points", "change"
    );
    let mut group = "";
    for m in &e.measures {
        if m.now.group != group {
            group = &m.now.group;
            let g = e.now.groups.iter().find(|g| g.name == group);
            let _ = writeln!(
                out,
                "  {:<30} {:>16} {:>16} {:>6} {:>6.1}%",
                group,
                "",
                "",
                score_text(g.and_then(|g| g.score)),
                100.0 * g.map_or(0.0, |g| g.weight)
            );
        }
        let _ = writeln!(
            out,
            "    {:<28} {:>16} {:>16} {:>6} {:>6.1}% {:>7.1} {:>+7.1}",
            m.now.measure,
            raw_text(&m.now.measure, m.now.raw),
            raw_text(&m.now.measure, m.before.raw),
            score_text(m.now.score),
            100.0 * m.now.weight,
            m.now.contribution,
            m.points
        );
    }
    out
}
