//! Renewals: the pipeline by quarter and stage, the forecast's P10/P50/P90, and the
//! proposals waiting for approval (decided here by leaders).

use std::collections::{BTreeMap, HashMap};

use maud::{html, Markup};
use tend_engine::proposals::Proposal;
use tend_engine::views::renewals::Pipeline;

use super::account_href;
use super::cockpit::approval_list;
use crate::format;
use crate::layout::{page, Nav, Section};

/// One forecast period as the page shows it.
pub struct ForecastLine {
    pub period: String,
    pub renewable: String,
    pub expected: String,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub currency: String,
    /// The factor the ranges were scaled by (√ of the dispersion past quarters showed).
    pub range_scale: f64,
}

pub struct Renewals<'a> {
    pub pipeline: &'a Pipeline,
    pub forecast: &'a [ForecastLine],
    /// Waiting for this leader; `None` for other roles.
    pub approvals: Option<&'a [Proposal]>,
    /// Proposals made on the caller's book, newest first.
    pub proposals: &'a [Proposal],
    pub names: &'a HashMap<String, String>,
    /// The pipeline's line the table starts at (pages of [`PIPELINE_PAGE`]).
    pub start: usize,
    /// When the pipeline and forecast were computed.
    pub computed: crate::parts::Computed,
}

/// Lines of the pipeline's table a page shows.
pub const PIPELINE_PAGE: usize = 100;

/// Links to the pipeline's table pages before and after the one shown.
fn pipeline_pages(total: usize, start: usize) -> Markup {
    let end = (start + PIPELINE_PAGE).min(total);
    html! {
        nav.pages aria-label="Pages of the pipeline" {
            @if total == 0 { p.empty { "No renewals due in the window." } } @else {
                p { "Renewals " (start + 1) "–" (end) " of " (total) ", soonest due first." }
            }
            @if start > 0 { a href={"/app/renewals?start=" (start.saturating_sub(PIPELINE_PAGE))} { "Previous " (PIPELINE_PAGE) } " " }
            @if end < total { a href={"/app/renewals?start=" (end)} { "Next " (PIPELINE_PAGE) } }
        }
    }
}

fn quarter(day: chrono::NaiveDate) -> String {
    use tend_core::period::{CalendarKind, CalendarPeriod};
    CalendarPeriod::containing(CalendarKind::Quarter, day).label()
}

fn by_quarter(pipeline: &Pipeline) -> Markup {
    let mut table: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
    for line in &pipeline.lines {
        *table
            .entry(quarter(line.renewal.due_on))
            .or_default()
            .entry(line.stage.as_str())
            .or_default() += 1;
    }
    let stages = [
        "upcoming",
        "outreach",
        "negotiation",
        "committed",
        "closed_won",
        "closed_lost",
    ];
    html! {
        table {
            caption { "Renewals due " (format::day(pipeline.from)) " to " (format::day(pipeline.to)) ", by quarter and stage" }
            thead { tr { th scope="col" { "Quarter" } @for s in stages { th scope="col" { (s.replace('_', " ")) } } } }
            tbody {
                @for (q, counts) in &table {
                    tr { th scope="row" { (q) } @for s in stages { td.num { (counts.get(s).copied().unwrap_or(0)) } } }
                }
            }
        }
    }
}

/// What the ranges' scale says, in words.
fn range_note(scale: f64) -> String {
    let how = if scale > 1.005 {
        "widened: past quarters varied more than independent renewals would"
    } else if scale < 0.995 {
        "narrowed: past quarters varied less than independent renewals would"
    } else {
        "as independent renewals give them"
    };
    format!("Ranges scaled by {scale:.2}, {how}.")
}

fn forecast(lines: &[ForecastLine]) -> Markup {
    html! {
        @if lines.is_empty() { p.empty { "Nothing to forecast." } } @else {
            figure.chart {
                figcaption { "Renewed ARR forecast by quarter: P10, P50 and P90" }
                div.range-chart role="img" aria-label="The same ranges as the table below" {
                    @let top = lines.iter().map(|l| l.p90).fold(1.0, f64::max);
                    @for l in lines {
                        div.range {
                            span.period { (l.period) }
                            span.bar style={"margin-left:" (format!("{:.1}", l.p10 / top * 100.0)) "%;width:" (format!("{:.1}", (l.p90 - l.p10).max(0.0) / top * 100.0)) "%" } {
                                span.p50 style={"left:" (format!("{:.1}", if l.p90 > l.p10 { (l.p50 - l.p10) / (l.p90 - l.p10) * 100.0 } else { 50.0 })) "%"} {}
                            }
                        }
                    }
                }
            }
            table {
                thead { tr { th scope="col" { "Period" } th scope="col" { "Renewable ARR" } th scope="col" { "Expected" } th scope="col" { "P10" } th scope="col" { "P50" } th scope="col" { "P90" } } }
                tbody {
                    @for l in lines {
                        tr {
                            th scope="row" { (l.period) } td.num { (l.renewable) } td.num { (l.expected) }
                            td.num { (l.currency) " " (format!("{:.0}", l.p10)) } td.num { (l.currency) " " (format!("{:.0}", l.p50)) } td.num { (l.currency) " " (format!("{:.0}", l.p90)) }
                        }
                    }
                }
            }
            p.note { (range_note(lines[0].range_scale)) }
        }
    }
}

pub fn renewals(nav: &Nav, data: &Renewals) -> Markup {
    let body = html! {
        @if let Some(approvals) = data.approvals {
            section aria-labelledby="approvals" {
                h2 #approvals { "Approvals waiting for you" }
                (approval_list(approvals, data.names, nav, "/app/renewals"))
            }
        }
        (crate::parts::computed(data.computed))
        section aria-labelledby="forecast" { h2 #forecast { "Forecast" } (forecast(data.forecast)) }
        section aria-labelledby="pipeline" {
            h2 #pipeline { "Pipeline" }
            (by_quarter(data.pipeline))
            (pipeline_pages(data.pipeline.lines.len(), data.start))
            table {
                thead { tr { th scope="col" { "Account" } th scope="col" { "Due" } th scope="col" { "ARR" } th scope="col" { "Stage" } th scope="col" { "Call" } th scope="col" { "Model" } th scope="col" { "Owner" } } }
                tbody {
                    @for line in data.pipeline.lines.iter().skip(data.start).take(PIPELINE_PAGE) {
                        tr {
                            td { a href=(account_href(&line.renewal.account_id)) { (line.account_name) } }
                            td { (format::day(line.renewal.due_on)) }
                            td.num { (format::money(&line.renewal.arr)) }
                            td { (line.stage.as_str().replace('_', " ")) }
                            td { @match &line.call { Some(c) => { (c.category.as_str().replace('_', " ")) @if line.disagrees { " " strong.flag { "(disagrees)" } } } None => { "–" } } }
                            td.num { @match line.model_renewal_probability { Some(p) => (format::percent(p)), None => "–" } }
                            td { (line.owner.as_deref().unwrap_or("–")) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="proposals" {
            h2 #proposals { "Proposals" }
            @if data.proposals.is_empty() { p.empty { "No proposals." } } @else {
                table {
                    thead { tr { th scope="col" { "Account" } th scope="col" { "Kind" } th scope="col" { "ARR" } th scope="col" { "Discount" } th scope="col" { "Status" } th scope="col" { "Decided by" } } }
                    tbody {
                        @for p in data.proposals {
                            tr id={"proposal-row-" (p.id)} {
                                td { (data.names.get(&p.account_id).unwrap_or(&p.account_id)) }
                                td { (p.kind.as_str()) } td.num { (format::money(&p.arr)) } td.num { (p.discount_percent) "%" }
                                td.status { (p.status.as_str()) } td { (p.decided_by.as_deref().unwrap_or("–")) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(
        "Renewals",
        &Nav {
            section: Some(Section::Renewals),
            ..nav.clone()
        },
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_scale_reads_in_words() {
        assert_eq!(
            range_note(3.0),
            "Ranges scaled by 3.00, widened: past quarters varied more than independent \
             renewals would."
        );
        assert!(range_note(0.77).contains("0.77, narrowed"));
        assert!(range_note(1.0).ends_with("as independent renewals give them."));
    }
}
