//! Terminal reports: how the engine's plain results read on a terminal. The engine
//! returns data; these turn it into text for `tend` to print.

use std::fmt::Write;

use chrono::NaiveDate;
use tend_core::health::{format_value, measure, Explanation};
use tend_core::summary::PortfolioSummary;
use tend_core::{Account, LeftOut, Money};
use tend_engine::health::{Evaluation, HealthRow, COMPARE_DAYS};

/// "EUR 1,200,000, GBP 300,000" — amounts left out for want of a rate.
fn left_out_text(left_out: &LeftOut) -> String {
    left_out
        .amounts()
        .map(|m| m.whole())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A period's last day, as the report shows periods with both ends included.
fn last_day(period: tend_core::Period) -> NaiveDate {
    period.last_day().unwrap_or(period.end)
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}%"))
}

/// The summary as a plain-text report for the terminal.
pub fn summary(summary: &PortfolioSummary) -> String {
    let mut out = String::new();
    let r = &summary.retention;
    let _ = writeln!(out, "Portfolio as of {}", summary.as_of);
    let _ = writeln!(
        out,
        "  {} active accounts, ARR {}",
        summary.active_accounts,
        summary.total_arr.whole()
    );
    if summary.by_currency.len() > 1 {
        let parts: Vec<String> = summary.by_currency.iter().map(|m| m.whole()).collect();
        let _ = writeln!(
            out,
            "  by currency as contracted: {}; converted to {} at the rates of {}",
            parts.join(", "),
            summary.currency,
            summary.as_of
        );
    }
    if !summary.arr_left_out.is_empty() {
        let _ = writeln!(
            out,
            "  left out of ARR, no exchange rate to {}: {} (import fx-rates)",
            summary.currency,
            left_out_text(&summary.arr_left_out)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {:<16} {:>8} {:>20} {:>7}",
        "segment", "accounts", "ARR", "share"
    );
    for line in &summary.segments {
        let share = if summary.total_arr.minor > 0 {
            line.arr.minor as f64 / summary.total_arr.minor as f64 * 100.0
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "  {:<16} {:>8} {:>20} {:>6.1}%",
            line.segment,
            line.accounts,
            line.arr.whole(),
            share
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Last 12 months ({} to {}):",
        summary.year.start,
        last_day(summary.year)
    );
    let _ = writeln!(
        out,
        "  logo churn {} ({} of {} accounts)   GRR {}   NRR {}",
        percent(r.logo_churn_rate()),
        r.churned_accounts,
        r.cohort_accounts,
        percent(r.grr()),
        percent(r.nrr())
    );
    let _ = writeln!(
        out,
        "  expansion {}   contraction {}   churned {}",
        Money::whole(&Money::new(r.expansion_arr, summary.currency)),
        Money::whole(&Money::new(r.contraction_arr, summary.currency)),
        Money::whole(&Money::new(r.churned_arr, summary.currency))
    );
    let mut left_out = r.left_out.clone();
    left_out.merge(&summary.renewals.left_out);
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "  left out of GRR, NRR and renewal ARR, no exchange rate to {}: {}",
            summary.currency,
            left_out_text(&left_out)
        );
    }
    let _ = writeln!(
        out,
        "  renewals {} won of {} due: {} by count, {} by ARR",
        summary.renewals.won,
        summary.renewals.due,
        percent(summary.renewals.rate_by_count()),
        percent(summary.renewals.rate_by_arr())
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Last quarter ({} to {}):",
        summary.quarter.start,
        last_day(summary.quarter)
    );
    let nps = summary
        .nps
        .map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}"));
    let _ = writeln!(
        out,
        "  NPS {nps} ({} responses)   CSAT {} ({} responses)",
        summary.nps_responses,
        percent(summary.csat),
        summary.csat_responses
    );
    match &summary.response_times {
        Some(t) => {
            let _ = writeln!(
                out,
                "  first response: median {:.0} min, p90 {:.0} min ({} tickets answered, {} waiting)",
                t.median_minutes, t.p90_minutes, t.answered, t.unanswered
            );
        }
        None => {
            let _ = writeln!(out, "  first response: n/a (no answered tickets)");
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Checklist:");
    for check in &summary.checks {
        let value = check
            .value
            .map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}"));
        let verdict = match check.met {
            Some(true) => "met",
            Some(false) => "NOT MET",
            None => "no data",
        };
        let _ = writeln!(
            out,
            "  {:<30} {:>8}   target {:<10} {verdict}",
            check.name, value, check.target
        );
    }
    out
}

fn delta(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_string(), |d| format!("{d:+.0}"))
}

/// The table for the terminal; `limit` rows at most.
pub fn portfolio(day: NaiveDate, rows: &[HealthRow], limit: Option<usize>) -> String {
    let mut out = String::new();
    // Bands in the order the lowest-first rows meet them: red, yellow, green.
    let mut bands: Vec<(&str, usize)> = Vec::new();
    for row in rows {
        match bands.iter_mut().find(|(b, _)| *b == row.band) {
            Some((_, n)) => *n += 1,
            None => bands.push((&row.band, 1)),
        }
    }
    let summary: Vec<String> = bands.iter().map(|(b, n)| format!("{n} {b}")).collect();
    let _ = writeln!(
        out,
        "Health on {day}: {} accounts ({}), lowest first",
        rows.len(),
        summary.join(", ")
    );
    let _ = writeln!(
        out,
        "{:<12} {:<28} {:<11} {:<16} {:>5} {:<19} {:>4} {:>4} {:>4}  top mover (30d)",
        "account", "name", "segment", "owner", "score", "band", "7d", "30d", "90d",
    );
    for row in rows.iter().take(limit.unwrap_or(usize::MAX)) {
        let band = match &row.band_before {
            Some(before) => format!("{} (was {before})", row.band),
            None => row.band.clone(),
        };
        let mut mover = row
            .top_mover
            .as_ref()
            .map_or_else(String::new, |(label, points)| {
                format!("{label} {points:+.1}")
            });
        if let Some(churned) = row.churned_on {
            mover = format!("CHURNED {churned}; {mover}");
        }
        let _ = writeln!(
            out,
            "{:<12} {:<28} {:<11} {:<16} {:>5} {:<19} {:>4} {:>4} {:>4}  {}",
            row.account_id,
            truncate(&row.name, 28),
            row.segment,
            truncate(&row.owner, 16),
            row.score
                .map_or_else(|| "–".to_string(), |s| format!("{s:.0}")),
            band,
            delta(row.deltas[0]),
            delta(row.deltas[1]),
            delta(row.deltas[2]),
            mover
        );
    }
    if let Some(limit) = limit.filter(|&l| l < rows.len()) {
        let _ = writeln!(out, "… {} more (--limit to show more)", rows.len() - limit);
    }
    out
}

/// `text` cut to `width` characters, the last one an ellipsis when cut.
pub(crate) fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A share in percent with one decimal: 0.421 → "42.1%".
pub(crate) fn pct(p: f64) -> String {
    format!("{:.1}%", 100.0 * p)
}

fn score_text(score: Option<f64>) -> String {
    score.map_or_else(|| "–".to_string(), |s| format!("{s:.0}"))
}

fn raw_text(name: &str, reading: Option<f64>) -> String {
    measure(name).map_or_else(String::new, |spec| format_value(spec, reading))
}

/// The explanation as a terminal report: the headline and top movers, and with
/// `detailed` every measure.
pub fn explanation(account: &Account, e: &Explanation, detailed: bool) -> String {
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

/// The evaluation as a terminal report.
pub fn evaluation(e: &Evaluation) -> String {
    let mut out = String::new();
    let (Some(first), Some(last)) = (e.dates.first(), e.dates.last()) else {
        return "No evaluation dates: the store has no accounts old enough.\n".to_string();
    };
    let _ = writeln!(
        out,
        "Health on {} dates from {first} to {last} against churn in the following {} days",
        e.dates.len(),
        e.horizon_days
    );
    let _ = writeln!(
        out,
        "(ROC AUC: the chance a churning account scored lower than a staying one; 0.5 is a coin toss)\n"
    );
    let _ = writeln!(
        out,
        "  {:<14} {:>8} {:>13} {:>7} {:>7}",
        "segment", "accounts", "observations", "churns", "AUC"
    );
    for s in e.segments.iter().chain(std::iter::once(&e.all)) {
        let _ = writeln!(
            out,
            "  {:<14} {:>8} {:>13} {:>7} {:>7}",
            if s.segment.is_empty() {
                "(none)"
            } else {
                &s.segment
            },
            s.accounts,
            s.observations,
            s.churns,
            s.auc
                .map_or_else(|| "n/a".to_string(), |a| format!("{a:.3}"))
        );
    }
    out
}
