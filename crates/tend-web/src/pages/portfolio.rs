//! The portfolio: accounts with health and risk, band colours, 90-day sparklines,
//! filters, sorting, search, pages and export to CSV.

use maud::{html, Markup};

use super::{account_href, encode};
use crate::format;
use crate::layout::{page, Nav, Section};
use crate::parts::{band, sparkline};

/// The filters and order of the table, as the form sends them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PortfolioQuery {
    pub owner: String,
    pub segment: String,
    pub band: String,
    /// The churn risk band.
    pub risk: String,
    /// Days ahead a renewal falls due in (`30`, `90`, …), empty for any.
    pub renewal: String,
    pub search: String,
    /// `health` (lowest first, the default) or `name`.
    pub sort: String,
    pub cursor: String,
}

impl PortfolioQuery {
    /// The query string of these filters (without the cursor).
    pub fn to_query(&self) -> String {
        [
            ("owner", &self.owner),
            ("segment", &self.segment),
            ("band", &self.band),
            ("risk", &self.risk),
            ("renewal", &self.renewal),
            ("q", &self.search),
            ("sort", &self.sort),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// The renewal windows to filter by, in days ahead.
pub const RENEWAL_WINDOWS: [u64; 5] = [30, 60, 90, 120, 180];

/// One row: the account with its health, its scores over 90 days and its risk.
#[derive(Debug, Clone, Default)]
pub struct PortfolioRow {
    pub id: String,
    pub name: String,
    pub segment: Option<String>,
    pub csm: Option<String>,
    pub score: Option<f64>,
    pub band: Option<String>,
    pub trend: Vec<Option<f64>>,
    /// Churn probability and band.
    pub risk: Option<(f64, String)>,
}

pub struct Portfolio<'a> {
    pub query: &'a PortfolioQuery,
    pub rows: &'a [PortfolioRow],
    pub next_cursor: Option<&'a str>,
    /// Segments, health bands and risk bands to choose from.
    pub segments: &'a [String],
    pub bands: &'a [String],
    pub risk_bands: &'a [String],
}

fn select(id: &str, name: &str, label: &str, chosen: &str, options: &[(String, String)]) -> Markup {
    html! {
        label for=(id) { (label) }
        select id=(id) name=(name) {
            @for (value, text) in options {
                option value=(value) selected[value == chosen] { (text) }
            }
        }
    }
}

fn filters(data: &Portfolio) -> Markup {
    let q = data.query;
    let any = |what: &str| (String::new(), format!("any {what}"));
    let segments: Vec<(String, String)> = std::iter::once(any("segment"))
        .chain(data.segments.iter().map(|s| (s.clone(), s.clone())))
        .collect();
    let bands: Vec<(String, String)> = std::iter::once(any("band"))
        .chain(data.bands.iter().map(|s| (s.clone(), s.clone())))
        .collect();
    let risks: Vec<(String, String)> = std::iter::once(any("risk"))
        .chain(data.risk_bands.iter().map(|s| (s.clone(), s.clone())))
        .collect();
    let windows: Vec<(String, String)> = std::iter::once((String::new(), "any time".to_string()))
        .chain(
            RENEWAL_WINDOWS
                .iter()
                .map(|d| (d.to_string(), format!("in {d} days"))),
        )
        .collect();
    let sorts = [
        ("health".to_string(), "lowest health first".to_string()),
        ("name".to_string(), "name".to_string()),
    ];
    html! {
        form.filters method="get" action="/app/portfolio" role="search" {
            label for="f-q" { "Search" }
            input #f-q type="search" name="q" value=(q.search) placeholder="account name";
            label for="f-owner" { "Owner" }
            input #f-owner type="text" name="owner" value=(q.owner) placeholder="user handle";
            (select("f-segment", "segment", "Segment", &q.segment, &segments))
            (select("f-band", "band", "Health band", &q.band, &bands))
            (select("f-risk", "risk", "Churn risk", &q.risk, &risks))
            (select("f-renewal", "renewal", "Renewal due", &q.renewal, &windows))
            (select("f-sort", "sort", "Sort by", &q.sort, &sorts))
            button type="submit" { "Show" }
        }
    }
}

pub fn portfolio(nav: &Nav, data: &Portfolio) -> Markup {
    let query = data.query.to_query();
    let csv = if query.is_empty() {
        "/app/portfolio.csv".to_string()
    } else {
        format!("/app/portfolio.csv?{query}")
    };
    let body = html! {
        (filters(data))
        p.export { a href=(csv) hx-boost="false" download { "Export these accounts as CSV" } }
        @if data.rows.is_empty() {
            p.empty { "No accounts match." }
        } @else {
            table.portfolio {
                caption.visually-hidden { "Accounts with health and churn risk" }
                thead {
                    tr {
                        th scope="col" { "Account" } th scope="col" { "Segment" } th scope="col" { "CSM" }
                        th scope="col" { "Health" } th scope="col" { "Band" } th scope="col" { "90 days" } th scope="col" { "Churn risk" }
                    }
                }
                tbody {
                    @for row in data.rows {
                        tr {
                            td { a href=(account_href(&row.id)) { (row.name) } }
                            td { (row.segment.as_deref().unwrap_or("–")) }
                            td { (row.csm.as_deref().unwrap_or("–")) }
                            td.num { (format::score(row.score)) }
                            td { (band(row.band.as_deref())) }
                            td { (sparkline(&row.trend, &format!("Health of {} over 90 days", row.name))) }
                            td { @match &row.risk { Some((p, b)) => { (format::percent(*p)) " " (band(Some(b))) } None => { "–" } } }
                        }
                    }
                }
            }
        }
        @if let Some(next) = data.next_cursor {
            @let sep = if query.is_empty() { "" } else { "&" };
            p.pages { a href={"/app/portfolio?" (query) (sep) "cursor=" (encode(next))} rel="next" { "Next page" } }
        }
    };
    page(
        "Portfolio",
        &Nav {
            section: Some(Section::Portfolio),
            ..nav.clone()
        },
        body,
    )
}
