//! Metrics: the customer success checklist against its targets, the brief's
//! metrics by segment and by owner, and their trend by quarter.

use maud::{html, Markup};
use tend_core::summary::PortfolioSummary;
use tend_core::Money;
use tend_engine::views::metrics::PeriodMetrics;

use crate::format;
use crate::layout::{page, Nav, Section};
use crate::parts::{chart, Series};

pub struct MetricsPage<'a> {
    pub summary: &'a PortfolioSummary,
    /// The 12 months before the summary's day, per segment and per owner.
    pub by_segment: &'a [(String, PeriodMetrics)],
    pub by_owner: &'a [(String, PeriodMetrics)],
    /// Calendar quarters, oldest first.
    pub quarters: &'a [(String, PeriodMetrics)],
    pub computed: crate::parts::Computed,
}

fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.1}%"))
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

fn hours(minutes: Option<f64>) -> String {
    minutes.map_or_else(|| "–".to_string(), |m| format!("{:.1} h", m / 60.0))
}

fn checklist(summary: &PortfolioSummary) -> Markup {
    html! {
        table.checklist {
            caption { "Customer success checklist, as of " (format::day(summary.as_of)) }
            thead { tr { th scope="col" { "Metric" } th scope="col" { "Now" } th scope="col" { "Target" } th scope="col" { "Met" } } }
            tbody {
                @for check in &summary.checks {
                    tr {
                        th scope="row" { (check.name) }
                        td.num { (number(check.value)) }
                        td { (check.target) }
                        td {
                            @match check.met {
                                Some(true) => span.band.band-good { "met" },
                                Some(false) => span.band.band-bad { "not met" },
                                None => span.band { "no data" },
                            }
                        }
                    }
                }
            }
        }
    }
}

fn table(caption: &str, group: &str, rows: &[(String, PeriodMetrics)]) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead {
                tr {
                    th scope="col" { (group) } th scope="col" { "Accounts" } th scope="col" { "ARR" }
                    th scope="col" { "NRR" } th scope="col" { "GRR" } th scope="col" { "Logo churn" }
                    th scope="col" { "Expansion" } th scope="col" { "Renewal rate" } th scope="col" { "NPS" }
                    th scope="col" { "CSAT" } th scope="col" { "First response" }
                }
            }
            tbody {
                @for (name, m) in rows {
                    tr {
                        th scope="row" { (name) }
                        td.num { (m.active_accounts) }
                        td.num { (format::money(&m.arr)) }
                        td.num { (pct(m.retention.nrr())) }
                        td.num { (pct(m.retention.grr())) }
                        td.num { (pct(m.retention.logo_churn_rate())) }
                        td.num { (format::money(&Money::new(m.retention.expansion_arr, m.currency))) }
                        td.num { (pct(m.renewals.rate_by_count())) }
                        td.num { (number(m.nps)) }
                        td.num { (pct(m.csat)) }
                        td.num { (hours(m.response_times.as_ref().map(|t| t.median_minutes))) }
                    }
                }
            }
        }
    }
}

fn trend(quarters: &[(String, PeriodMetrics)]) -> Markup {
    let days: Vec<chrono::NaiveDate> = quarters.iter().map(|(_, m)| m.period.start).collect();
    let series = [
        Series {
            label: "NRR %",
            values: quarters.iter().map(|(_, m)| m.retention.nrr()).collect(),
        },
        Series {
            label: "GRR %",
            values: quarters.iter().map(|(_, m)| m.retention.grr()).collect(),
        },
        Series {
            label: "Logo churn %",
            values: quarters
                .iter()
                .map(|(_, m)| m.retention.logo_churn_rate())
                .collect(),
        },
        Series {
            label: "NPS",
            values: quarters.iter().map(|(_, m)| m.nps).collect(),
        },
    ];
    let caption = match (quarters.first(), quarters.last()) {
        (Some((first, _)), Some((last, m))) => format!(
            "NRR, GRR, logo churn and NPS by quarter, {first} to {last}: NRR {} in {last}",
            pct(m.retention.nrr())
        ),
        _ => "No quarters to show".to_string(),
    };
    chart("metrics-trend", &caption, &days, &series, &[])
}

pub fn metrics(nav: &Nav, data: &MetricsPage) -> Markup {
    let s = data.summary;
    let body = html! {
        (crate::parts::computed(data.computed))
        section aria-labelledby="checklist" { h2 #checklist { "Against the targets" } (checklist(s)) }
        section aria-labelledby="headline" {
            h2 #headline { "The last 12 months" }
            dl.facts {
                div { dt { "ARR" } dd { (format::money(&s.total_arr)) } }
                div { dt { "Active accounts" } dd { (s.active_accounts) } }
                div { dt { "NRR" } dd { (pct(s.retention.nrr())) } }
                div { dt { "GRR" } dd { (pct(s.retention.grr())) } }
                div { dt { "Logo churn" } dd { (pct(s.retention.logo_churn_rate())) } }
                div { dt { "Expansion" } dd { (format::money(&Money::new(s.retention.expansion_arr, s.currency))) } }
                div { dt { "Renewal rate" } dd { (pct(s.renewals.rate_by_count())) } }
                div { dt { "NPS (last quarter)" } dd { (number(s.nps)) } }
                div { dt { "CSAT (last quarter)" } dd { (pct(s.csat)) } }
                div { dt { "First response, median" } dd { (hours(s.response_times.as_ref().map(|t| t.median_minutes))) } }
            }
        }
        section aria-labelledby="trend" { h2 #trend { "Trend" } (trend(data.quarters)) }
        section aria-labelledby="by-segment" { h2 #by-segment { "By segment" } (table("The last 12 months by segment", "Segment", data.by_segment)) }
        section aria-labelledby="by-owner" { h2 #by-owner { "By owner" } (table("The last 12 months by CSM or account manager", "Owner", data.by_owner)) }
    };
    page(
        "Metrics",
        &Nav {
            section: Some(Section::Metrics),
            ..nav.clone()
        },
        body,
    )
}
