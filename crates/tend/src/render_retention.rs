//! Terminal reports of retention: curves as tables, cohort tables, hazard ratios, why
//! accounts left, and lifetime value.

use std::fmt::Write;

use tend_core::money::group_thousands;
use tend_core::retention::CohortRow;
use tend_core::Currency;
use tend_engine::retention::clv::ClvReport;
use tend_engine::retention::why::{ReasonCount, WhyReport};
use tend_engine::retention::{Curve, CurveSet, GroupTest, RetentionReport};

use crate::render::{pct, truncate};

/// Minor units as whole major units, with thousands grouped.
fn money(minor: i64, currency: Currency) -> String {
    let major = minor as f64 / 10f64.powi(currency.minor_digits() as i32);
    let sign = if major < 0.0 { "-" } else { "" };
    format!("{sign}{}", group_thousands(major.abs().round() as u64))
}

pub fn report(r: &RetentionReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Retention on {} ({} accounts, {} lost; ARR in {})",
        r.as_of, r.accounts, r.lost, r.currency
    );
    curves(
        &mut out,
        "Account lifetimes: share still a customer after … months since the first contract (95% CI below)",
        &r.lifetimes,
    );
    curves(
        &mut out,
        "Renewals: share still a customer after … renewal decisions (95% CI below)",
        &r.renewals,
    );
    cohorts(&mut out, &r.cohorts, r.currency);
    let _ = writeln!(
        out,
        "\nChurn hazard (Cox model on what was known at each account's start):"
    );
    match &r.hazards {
        Ok(h) => {
            let _ = writeln!(
                out,
                "  {} accounts, {} lost; concordance {:.3} (0.5 is chance)",
                h.accounts, h.events, h.concordance
            );
            for ratio in &h.ratios {
                let _ = writeln!(out, "  - {}", ratio.words);
            }
        }
        Err(reason) => {
            let _ = writeln!(out, "  not fitted: {reason}");
        }
    }
    out
}

fn curves(out: &mut String, title: &str, set: &CurveSet) {
    let _ = writeln!(out, "\n{title}");
    let unit = if set.unit == "months" { " mo" } else { "" };
    let points: Vec<f64> = set.overall.points.iter().map(|p| p.at).collect();
    let _ = write!(
        out,
        "  {:<22} {:>8} {:>6} {:>7}",
        "group", "accounts", "lost", "median"
    );
    for at in &points {
        let _ = write!(out, " {:>12}", format!("{at}{unit}"));
    }
    let _ = writeln!(out);
    let mut row = |curve: &Curve| {
        let median = curve
            .median
            .map_or_else(|| "n/a".to_string(), |m| format!("{m:.1}"));
        let _ = write!(
            out,
            "  {:<22} {:>8} {:>6} {:>7}",
            truncate(&curve.label, 22),
            curve.accounts,
            curve.events,
            median
        );
        for at in &points {
            let cell = curve
                .points
                .iter()
                .find(|p| p.at == *at)
                .map_or_else(|| "—".to_string(), |p| pct(p.survival));
            let _ = write!(out, " {cell:>12}");
        }
        let _ = write!(out, "\n  {:<22} {:>8} {:>6} {:>7}", "", "", "", "");
        for at in &points {
            let cell = curve
                .points
                .iter()
                .find(|p| p.at == *at)
                .map_or_else(String::new, |p| {
                    format!("{:.0}–{:.0}", 100.0 * p.lower, 100.0 * p.upper)
                });
            let _ = write!(out, " {cell:>12}");
        }
        let _ = writeln!(out);
    };
    row(&set.overall);
    for curve in set.by_segment.iter().chain(&set.by_start_year) {
        row(curve);
    }
    test_line(out, "segments", set.segment_test.as_ref());
    test_line(out, "start years", set.start_year_test.as_ref());
}

fn test_line(out: &mut String, what: &str, test: Option<&GroupTest>) {
    let Some(t) = test else {
        return;
    };
    let verdict = if t.p_value < 0.05 {
        "differ"
    } else {
        "are not distinguishable"
    };
    let _ = writeln!(
        out,
        "  The {} {what} {verdict}: log-rank χ² = {:.2} on {} df, p = {:.4}",
        t.groups, t.statistic, t.degrees_of_freedom, t.p_value
    );
}

fn cohorts(out: &mut String, rows: &[CohortRow], currency: Currency) {
    let _ = writeln!(
        out,
        "\nCohorts by start quarter: share retained k quarters after each account's start"
    );
    let width = rows.iter().map(|r| r.after.len()).max().unwrap_or(0);
    type Pick = fn(&tend_core::retention::CohortCell) -> Option<f64>;
    let tables: [(&str, Pick); 3] = [
        ("logos", |c| Some(c.logos)),
        ("GRR", |c| c.grr),
        ("NRR", |c| c.nrr),
    ];
    for (title, pick) in tables {
        let _ = write!(
            out,
            "  {title:<8} {:>8} {:>14}",
            "accounts",
            format!("ARR ({currency})")
        );
        for k in 1..=width {
            let _ = write!(out, " {:>6}", format!("Q{k}"));
        }
        let _ = writeln!(out);
        for row in rows {
            let _ = write!(
                out,
                "  {:<8} {:>8} {:>14}",
                row.quarter,
                row.accounts,
                money(row.starting_arr, currency)
            );
            for cell in &row.after {
                let value = pick(cell).map_or_else(|| "—".into(), |v| format!("{:.0}%", 100.0 * v));
                let _ = write!(out, " {value:>6}");
            }
            let _ = writeln!(out);
        }
    }
    let unconverted: usize = rows.iter().map(|r| r.unconverted).sum();
    if unconverted > 0 {
        let _ = writeln!(
            out,
            "  {unconverted} accounts' ARR could not be converted to {currency} and is left out of GRR and NRR"
        );
    }
}

pub fn why(r: &WhyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Why accounts left, through {} ({} lost, {} {} of ARR)",
        r.as_of,
        r.lost,
        money(r.lost_arr, r.currency),
        r.currency
    );
    if r.unconverted > 0 {
        let _ = writeln!(
            out,
            "  the ARR of {} lost accounts could not be converted to {} and is left out (import fx-rates)",
            r.unconverted, r.currency
        );
    }
    let _ = writeln!(out, "\nChurn reasons:");
    let _ = writeln!(
        out,
        "  {:<40} {:>8} {:>7} {:>14}",
        "reason", "accounts", "share", "ARR lost"
    );
    for row in &r.reasons {
        let share = row.accounts as f64 / r.lost.max(1) as f64;
        let _ = writeln!(
            out,
            "  {:<40} {:>8} {:>7} {:>14}",
            truncate(&row.reason, 40),
            row.accounts,
            pct(share),
            money(row.arr, r.currency)
        );
    }
    for (title, rows) in [
        ("segment", &r.by_segment),
        ("ARR before the loss", &r.by_arr),
        ("tenure", &r.by_tenure),
    ] {
        breakdown(&mut out, title, rows, r.currency);
    }
    let _ = writeln!(
        out,
        "\nEarly-warning signals in the 90 days before a loss, against the 90 days before a month of staying (still a customer 180 days later):"
    );
    if r.signals.is_empty() {
        let _ = writeln!(out, "  no usage history to read signals on");
    }
    let _ = writeln!(
        out,
        "  {:<62} {:>13} {:>13} {:>6}",
        "signal", "before loss", "staying", "lift"
    );
    for s in &r.signals {
        let share = |v: Option<f64>| v.map_or_else(|| "n/a".into(), pct);
        let _ = writeln!(
            out,
            "  {:<62} {:>13} {:>13} {:>6}",
            truncate(s.words, 62),
            share(s.lost_share()),
            share(s.stayed_share()),
            match s.lift {
                Some(l) => format!("{l:.1}×"),
                // Seen before losses only.
                None if s.lost_with > 0 => "∞".into(),
                None => "n/a".into(),
            }
        );
    }
    if let Some(s) = r.signals.first() {
        let _ = writeln!(
            out,
            "  ({} losses and {} staying account-months read)",
            s.lost, s.stayed
        );
    }
    out
}

fn breakdown(out: &mut String, title: &str, rows: &[ReasonCount], currency: Currency) {
    let _ = writeln!(out, "\nBy {title}:");
    let mut last = "";
    for row in rows {
        if row.group != last {
            let _ = writeln!(out, "  {}", row.group);
            last = &row.group;
        }
        let _ = writeln!(
            out,
            "    {:<38} {:>8} {:>14}",
            truncate(&row.reason, 38),
            row.accounts,
            money(row.arr, currency)
        );
    }
}

pub fn clv(r: &ClvReport, limit: Option<usize>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Customer lifetime value on {} (discount rate {:.1}% per renewal period; money in {})",
        r.as_of,
        100.0 * r.discount_rate,
        r.currency
    );
    match r.risk_day {
        Some(day) => {
            let _ = writeln!(
                out,
                "The coming renewal of each account is taken at 1 − its churn risk of {day}."
            );
        }
        None => {
            let _ = writeln!(
                out,
                "No churn risk has been scored (`tend risk refit`): values use the segment's renewal rate alone."
            );
        }
    }
    let _ = writeln!(
        out,
        "\nRenewal model (shifted-beta-geometric) per segment: r(t) is the share renewing at the t-th renewal"
    );
    let _ = writeln!(
        out,
        "  {:<20} {:>8} {:>6} {:>8} {:>8}  {:>6} {:>6} {:>6} {:>6} {:>6}  fit",
        "segment", "accounts", "lost", "gamma", "delta", "r(1)", "r(2)", "r(3)", "r(4)", "r(5)"
    );
    for s in std::iter::once(&r.overall).chain(&r.segments) {
        let _ = write!(
            out,
            "  {:<20} {:>8} {:>6} {:>8.3} {:>8.3} ",
            truncate(&s.segment, 20),
            s.accounts,
            s.lost,
            s.gamma,
            s.delta
        );
        for rate in &s.retention {
            let _ = write!(out, " {:>6}", format!("{:.0}%", 100.0 * rate));
        }
        let fit = if s.own {
            "own"
        } else {
            "all accounts' (too few)"
        };
        let _ = writeln!(out, "  {fit}");
    }
    let total: i64 = r.accounts.iter().map(|a| a.clv).sum();
    let _ = writeln!(
        out,
        "\n{} customers, total lifetime value {} {}",
        r.accounts.len(),
        money(total, r.currency),
        r.currency
    );
    if r.unconverted > 0 {
        let _ = writeln!(
            out,
            "  {} customers' ARR could not be converted to {} and is left out",
            r.unconverted, r.currency
        );
    }
    let _ = writeln!(
        out,
        "  {:<12} {:<24} {:<12} {:>4} {:>12} {:>7} {:>7} {:>6} {:>14}",
        "account", "name", "segment", "ren", "ARR", "renew", "churn", "DERL", "CLV"
    );
    for a in r.accounts.iter().take(limit.unwrap_or(usize::MAX)) {
        let _ = writeln!(
            out,
            "  {:<12} {:<24} {:<12} {:>4} {:>12} {:>7} {:>7} {:>6.2} {:>14}",
            truncate(&a.account_id, 12),
            truncate(&a.name, 24),
            truncate(&a.segment, 12),
            a.renewals,
            money(a.arr, r.currency),
            pct(a.renewal_probability),
            a.churn_probability.map_or_else(|| "—".into(), pct),
            a.adjusted_derl,
            money(a.clv, r.currency)
        );
    }
    if let Some(limit) = limit.filter(|l| *l < r.accounts.len()) {
        let _ = writeln!(
            out,
            "  … {} more (--limit 0 shows all)",
            r.accounts.len() - limit
        );
    }
    out
}
