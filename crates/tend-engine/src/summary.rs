//! The portfolio summary service: loads what the summary reads and renders it.

use std::fmt::Write;

use chrono::NaiveDate;
use tend_core::summary::{portfolio_summary, PortfolioData, PortfolioSummary, Targets};
use tend_core::{Currency, FxTable, LeftOut, Money};
use tend_store::{Store, StoreError};

/// Computes the summary from the stored data through `as_of` (the last day
/// included), with money in `currency` (by default the one with the most ARR).
pub async fn load_summary(
    store: &Store,
    as_of: NaiveDate,
    currency: Option<Currency>,
) -> Result<PortfolioSummary, StoreError> {
    let accounts = store.accounts().await?;
    let contracts = store.contracts().await?;
    let tickets = store.tickets().await?;
    let survey_responses = store.survey_responses().await?;
    let fx_rates = FxTable::new(&store.fx_rates().await?);
    let data = PortfolioData {
        accounts: &accounts,
        contracts: &contracts,
        tickets: &tickets,
        survey_responses: &survey_responses,
        fx_rates: &fx_rates,
    };
    Ok(portfolio_summary(
        &data,
        as_of,
        &Targets::default(),
        currency,
    ))
}

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
pub fn render_summary(summary: &PortfolioSummary) -> String {
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
