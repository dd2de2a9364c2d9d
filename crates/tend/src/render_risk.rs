//! Terminal reports of churn risk: the table, an explanation, a refit and the
//! backtest evaluation.

use std::fmt::Write;

use tend_core::money::group_thousands;
use tend_engine::risk::fit::{CalibrationRow, Scores};
use tend_engine::risk::{Refit, RiskEvaluation, RiskExplanation, RiskTable, Target};

use crate::render::{pct, truncate};

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "n/a".to_string(), |v| format!("{v:.digits$}"))
}

fn money(value: f64) -> String {
    group_thousands(value.max(0.0).round() as u64)
}

fn change(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:+.1}"))
}

/// The risk table, highest first, with ARR at risk by segment and owner.
pub fn table(t: &RiskTable, limit: Option<usize>) -> String {
    let mut out = String::new();
    let what = match t.target {
        Target::Churn => "Churn risk",
        Target::NonRenewal => "Non-renewal risk",
    };
    let _ = writeln!(
        out,
        "{what} on {} ({} accounts; ARR in {})",
        t.day,
        t.rows.len(),
        t.currency
    );
    if t.arr_unconverted > 0 {
        let _ = writeln!(
            out,
            "  ARR of {} accounts could not be converted to {} and is left out (import fx-rates)",
            t.arr_unconverted, t.currency
        );
    }
    let _ = writeln!(
        out,
        "{:<12} {:<26} {:>6} {:<6} {:>6} {:>6} {:>6} {:>12}  top reason",
        "account", "name", "risk", "band", "7d", "30d", "90d", "ARR at risk"
    );
    for row in t.rows.iter().take(limit.unwrap_or(usize::MAX)) {
        let _ = writeln!(
            out,
            "{:<12} {:<26} {:>6} {:<6} {:>6} {:>6} {:>6} {:>12}  {}",
            truncate(&row.account_id, 12),
            truncate(&row.name, 26),
            pct(row.probability),
            row.band,
            change(row.changes[0]),
            change(row.changes[1]),
            change(row.changes[2]),
            row.arr_at_risk.map_or_else(|| "—".to_string(), money),
            row.reasons.first().map_or("", String::as_str)
        );
    }
    if let Some(limit) = limit.filter(|l| *l < t.rows.len()) {
        let _ = writeln!(out, "… {} more (--limit 0 shows all)", t.rows.len() - limit);
    }
    for (title, groups) in [("segment", &t.by_segment), ("owner", &t.by_owner)] {
        let _ = writeln!(out, "\nARR at risk by {title}:");
        let _ = writeln!(
            out,
            "  {:<24} {:>8} {:>6} {:>14} {:>14}",
            title, "accounts", "high", "ARR", "ARR at risk"
        );
        for g in groups {
            let name = if g.name.is_empty() { "(none)" } else { &g.name };
            let _ = writeln!(
                out,
                "  {:<24} {:>8} {:>6} {:>14} {:>14}",
                truncate(name, 24),
                g.accounts,
                g.high,
                money(g.arr),
                money(g.arr_at_risk)
            );
        }
    }
    out
}

/// One account's risk and its reasons.
pub fn explanation(e: &RiskExplanation, detailed: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} on {}: {} chance that it {} — {} risk ({}; health {})",
        e.account_id,
        e.day,
        pct(e.probability),
        e.target,
        e.band,
        e.model_kind,
        opt(e.health, 0)
    );
    let raising: Vec<_> = e
        .reasons
        .iter()
        .filter(|r| r.contribution > 0.0)
        .take(5)
        .collect();
    let lowering: Vec<_> = e
        .reasons
        .iter()
        .filter(|r| r.contribution < 0.0)
        .take(5)
        .collect();
    let _ = writeln!(out, "What raises the risk:");
    if raising.is_empty() {
        let _ = writeln!(out, "  nothing stands out");
    }
    for r in &raising {
        let _ = writeln!(out, "  {}", r.words);
    }
    let _ = writeln!(out, "What lowers it:");
    if lowering.is_empty() {
        let _ = writeln!(out, "  nothing stands out");
    }
    for r in &lowering {
        let _ = writeln!(out, "  {}", r.words);
    }
    if detailed {
        let _ = writeln!(
            out,
            "\nEvery reason, with its push on the log-odds of churn:"
        );
        for r in &e.reasons {
            let _ = writeln!(
                out,
                "  {:>+7.3}  {:<36} {}",
                r.contribution,
                truncate(&r.feature, 36),
                r.words
            );
        }
    }
    out
}

fn scores_line(s: &Scores) -> String {
    format!(
        "{:>7} {:>6} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6} {:>7}",
        s.rows,
        s.positives,
        opt(s.roc_auc, 3),
        opt(s.pr_auc, 3),
        format!("{:.4}", s.brier),
        format!("{:.4}", s.base_rate_brier),
        format!("{:.4}", s.log_loss),
        opt(s.lift_top_decile, 2),
        opt(s.health_auc, 3)
    )
}

fn calibration(rows: &[CalibrationRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  {:<11} {:>7} {:>10} {:>9}  95% interval of observed",
        "predicted", "rows", "mean pred.", "observed"
    );
    for r in rows {
        let inside = r.mean_predicted >= r.observed_low && r.mean_predicted <= r.observed_high;
        let _ = writeln!(
            out,
            "  {:>4.0}–{:<4.0}% {:>7} {:>10} {:>9}  {}–{}{}",
            100.0 * r.lower,
            100.0 * r.upper,
            r.count,
            pct(r.mean_predicted),
            pct(r.observed),
            pct(r.observed_low),
            pct(r.observed_high),
            if inside { "" } else { "  (outside)" }
        );
    }
    out
}

/// The backtest: each fold and kind of model, the health score alongside.
pub fn evaluation(e: &RiskEvaluation) -> String {
    let mut out = String::new();
    let target = if e.target == "churn" {
        "churn"
    } else {
        "non-renewal"
    };
    let _ = writeln!(
        out,
        "Churn risk backtest as of {}: predicting {target} within {} days",
        e.as_of, e.horizon_days
    );
    let _ = writeln!(
        out,
        "  {} account snapshots with a known outcome ({} accounts, {} dates from {} to {}), {} positive ({})",
        e.labelled_rows,
        e.accounts,
        e.days.len(),
        e.days.first().map_or("-".to_string(), |d| d.to_string()),
        e.days.last().map_or("-".to_string(), |d| d.to_string()),
        e.positives,
        if e.labelled_rows > 0 { pct(e.positives as f64 / e.labelled_rows as f64) } else { "n/a".into() }
    );
    if let Some(reason) = &e.too_little {
        let _ = writeln!(out, "\nToo little history to learn from: {reason}.");
        let _ = writeln!(
            out,
            "tend falls back to the health score until there is more."
        );
        return out;
    }
    let header = format!(
        "  {:<10} {:>7} {:>7} {:>6} {:>7} {:>7} {:>7} {:>7} {:>8} {:>6} {:>7}",
        "cutoff",
        "train",
        "test",
        "pos.",
        "ROC AUC",
        "PR AUC",
        "Brier",
        "base",
        "log loss",
        "lift",
        "health"
    );
    for c in &e.candidates {
        let chosen = if Some(c.kind) == e.chosen {
            " (chosen)"
        } else {
            ""
        };
        let _ = writeln!(out, "\n{}{chosen}:", c.kind.name());
        let _ = writeln!(out, "{header}");
        for f in &c.folds {
            let _ = writeln!(
                out,
                "  {:<10} {:>7} {}",
                f.cutoff.to_string(),
                f.train_rows,
                scores_line(&f.scores)
            );
        }
        if let Some(p) = &c.pooled {
            let _ = writeln!(out, "  {:<10} {:>7} {}", "all folds", "", scores_line(p));
        }
    }
    if let Some(p) = e.chosen_candidate().and_then(|c| c.pooled.as_ref()) {
        let _ = writeln!(
            out,
            "\nOn every fold's test rows together, the chosen model:"
        );
        let _ = writeln!(
            out,
            "  ROC AUC {} against the health score's {} on the same rows ({}).",
            opt(p.roc_auc, 3),
            opt(p.health_auc, 3),
            match (p.roc_auc, p.health_auc) {
                (Some(m), Some(h)) => format!("{:+.3}", m - h),
                _ => "n/a".into(),
            }
        );
        let _ = writeln!(
            out,
            "  Brier score {:.4} against {:.4} for predicting the base rate ({}).",
            p.brier,
            p.base_rate_brier,
            if p.brier < p.base_rate_brier {
                "better"
            } else {
                "not better"
            }
        );
        let _ = writeln!(
            out,
            "  Lift in the top decile: {}.",
            opt(p.lift_top_decile, 2)
        );
        let _ = writeln!(
            out,
            "\nCalibration on the test rows (the model calibrated before each cutoff):"
        );
        out.push_str(&calibration(&e.calibration));
    }
    out
}

/// What a refit did.
pub fn refit(r: &Refit, seconds: f64) -> String {
    let mut out = evaluation(&r.evaluation);
    match r.model_id {
        Some(id) => {
            let kind = r.evaluation.chosen.map_or("", |k| k.name());
            let _ = writeln!(
                out,
                "\nStored model no. {id} ({kind}, calibrated by {}) and scored {} active accounts on {} in {seconds:.1}s.",
                r.calibration.as_deref().unwrap_or("-"),
                r.scored,
                r.evaluation.as_of
            );
        }
        None => {
            let _ = writeln!(out, "\nNo model stored.");
        }
    }
    out
}
