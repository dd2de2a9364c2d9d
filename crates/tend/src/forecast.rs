//! `tend forecast`: the renewal forecast of calendar periods, or with `--backtest`
//! the forecast tried on the last quarters against what renewed.

use std::fmt::Write as _;

use anyhow::Result;
use clap::Args;
use tend_core::{CalendarPeriod, Currency, Money};
use tend_engine::forecast::backtest::{Backtest, BacktestQuery, DEFAULT_QUARTERS};
use tend_engine::forecast::{ForecastQuery, ForecastReport, DEFAULT_DRAWS, DEFAULT_SEED};
use tend_engine::{Actor, App};

use crate::render::pct;

#[derive(Args)]
pub struct ForecastArgs {
    /// The first period: a quarter (2027-Q1), month (2027-03) or year (2027); by
    /// default the quarter after the last day of the data.
    #[arg(long, value_parser = CalendarPeriod::parse)]
    period: Option<CalendarPeriod>,
    /// How many consecutive periods of that kind.
    #[arg(long, default_value_t = 1)]
    periods: usize,
    /// Only this owner's book (a CSM's or account manager's handle).
    #[arg(long)]
    owner: Option<String>,
    /// Only accounts of this segment.
    #[arg(long)]
    segment: Option<String>,
    /// Monte Carlo draws.
    #[arg(long, default_value_t = DEFAULT_DRAWS)]
    draws: usize,
    /// The Monte Carlo seed (the same seed gives the same range).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Try the forecast on past quarters instead: each made as of the day before the
    /// quarter began, against what renewed.
    #[arg(long, conflicts_with_all = ["period", "periods"])]
    backtest: bool,
    /// Quarters the backtest tries, back from the last decided one.
    #[arg(long, default_value_t = DEFAULT_QUARTERS, requires = "backtest")]
    quarters: usize,
}

/// The forecast, or its backtest, with amounts in `currency` (by default the one with
/// the most ARR).
pub async fn run(app: &App, currency: Option<Currency>, args: ForecastArgs) -> Result<()> {
    if args.backtest {
        let query = BacktestQuery {
            quarters: args.quarters,
            owner: args.owner,
            segment: args.segment,
            draws: args.draws,
            seed: args.seed,
            currency,
        };
        let backtest = app.renewal_backtest(&Actor::cli(), &query).await?;
        print!("{}", render_backtest(&backtest));
        return Ok(());
    }
    let query = ForecastQuery {
        period: args.period,
        periods: args.periods,
        owner: args.owner,
        segment: args.segment,
        draws: args.draws,
        seed: args.seed,
        currency,
    };
    let report = app.renewal_forecast(&Actor::cli(), &query).await?;
    print!("{}", render(&report));
    Ok(())
}

fn money(amount: f64, currency: Currency) -> String {
    Money::new(amount.round() as i64, currency).whole()
}

fn render(report: &ForecastReport) -> String {
    let c = report.currency;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Renewal forecast as of {}, in {c}, {} draws (seed {})",
        report.day, report.draws, report.seed
    );
    let _ = writeln!(
        out,
        "{:<8} {:>5} {:>5} {:>5} {:>16} {:>16} {:>16} {:>16} {:>16} {:>7} {:>7}",
        "period", "due", "won", "lost", "renewable", "expected", "P10", "P50", "P90", "GRR", "NRR"
    );
    for p in &report.periods {
        let _ = writeln!(
            out,
            "{:<8} {:>5} {:>5} {:>5} {:>16} {:>16} {:>16} {:>16} {:>16} {:>7} {:>7}",
            p.period.label(),
            p.renewals,
            p.won,
            p.lost,
            money(p.renewable, c),
            money(p.expected, c),
            money(p.p10, c),
            money(p.p50, c),
            money(p.p90, c),
            p.grr.map_or("–".into(), pct),
            p.nrr.map_or("–".into(), pct),
        );
        let _ = writeln!(
            out,
            "         expected expansion {}, contraction {}, churn {}; {} open renewals, {} with \
             the risk model's probability, {} with their segment's win rate",
            money(p.expected_expansion, c),
            money(p.expected_contraction, c),
            money(p.expected_churn, c),
            p.open,
            p.from_model,
            p.from_history,
        );
    }
    let h = &report.history;
    let _ = writeln!(
        out,
        "Learned from {} renewals due {} to {} ({} won, {} lost).",
        h.all.closed(),
        h.from,
        h.to,
        h.all.won,
        h.all.lost
    );
    let d = &report.dispersion;
    let _ = writeln!(
        out,
        "Range scaled by {:.2} (dispersion {:.2} over {} past quarters; 1 is independent renewals).",
        d.scale(),
        d.phi,
        d.quarters
    );
    if !report.left_out.is_empty() {
        let amounts: Vec<String> = report.left_out.amounts().map(|m| m.whole()).collect();
        let _ = writeln!(
            out,
            "Left out for want of an exchange rate into {c}: {}.",
            amounts.join(", ")
        );
    }
    if report.mixed_currencies > 0 {
        let _ = writeln!(
            out,
            "{} terms left out: their contracts are in more than one currency.",
            report.mixed_currencies
        );
    }
    out
}

fn render_backtest(b: &Backtest) -> String {
    let c = b.currency;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Forecast backtest: each quarter forecast the day before it began, in {c}, {} draws",
        b.draws
    );
    let _ = writeln!(
        out,
        "{:<8} {:>5} {:>16} {:>16} {:>16} {:>16} {:>16} {:>7} {:>16} {:>6} {:>5}",
        "quarter",
        "due",
        "renewable",
        "actual",
        "P10",
        "P50",
        "P90",
        "inside",
        "naive",
        "model",
        "scale"
    );
    for q in &b.quarters {
        let _ = writeln!(
            out,
            "{:<8} {:>5} {:>16} {:>16} {:>16} {:>16} {:>16} {:>7} {:>16} {:>6} {:>5.2}",
            q.quarter.label(),
            q.renewals,
            money(q.renewable, c),
            money(q.actual, c),
            money(q.p10, c),
            money(q.p50, c),
            money(q.p90, c),
            if q.inside() { "yes" } else { "no" },
            money(q.naive, c),
            q.from_model,
            q.dispersion.scale(),
        );
    }
    let _ = writeln!(
        out,
        "model: renewals drawn with the probability of a risk model fitted before the quarter; \
         scale: the range's factor, from how past quarters varied beyond independent renewals."
    );
    let _ = writeln!(
        out,
        "Actual inside P10–P90 in {} of {} quarters ({}); mean error of P50 {}, of the naive \
         forecast (renewable × trailing renewal rate) {}.",
        b.quarters.iter().filter(|q| q.inside()).count(),
        b.quarters.len(),
        pct(b.coverage),
        pct(b.p50_error),
        pct(b.naive_error),
    );
    if !b.skipped.is_empty() {
        let labels: Vec<String> = b.skipped.iter().map(|q| q.label()).collect();
        let _ = writeln!(
            out,
            "Not tried (nothing due, or no renewal closed in the year before): {}.",
            labels.join(", ")
        );
    }
    out
}
