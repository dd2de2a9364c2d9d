//! Pieces shared by the pages: band badges, sparklines, charts with their text
//! alternative, the CSRF field, notices.

use maud::{html, Markup};

/// The hidden field that carries the session's CSRF token in a form.
pub const CSRF_FIELD: &str = "_csrf";

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// The CSS class of a band: the usual names get their colour, any other a neutral one.
fn band_class(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "green" | "healthy" | "low" => "band band-good",
        "yellow" | "amber" | "watch" | "medium" => "band band-watch",
        "red" | "at risk" | "at_risk" | "high" => "band band-bad",
        _ => "band",
    }
}

/// A band as a badge with its name in words (colour is never the only sign).
pub fn band(name: Option<&str>) -> Markup {
    match name {
        Some(name) => html! { span class=(band_class(name)) { (name) } },
        None => html! { span.band { "not scored" } },
    }
}

/// A small line of scores (0–100) as inline SVG, with the trend in words for
/// screen readers; `None` points are gaps.
pub fn sparkline(points: &[Option<f64>], label: &str) -> Markup {
    const W: f64 = 96.0;
    const H: f64 = 24.0;
    let known: Vec<(usize, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|v| (i, v)))
        .collect();
    let step = if points.len() > 1 {
        W / (points.len() - 1) as f64
    } else {
        0.0
    };
    let path: String = known
        .iter()
        .enumerate()
        .map(|(n, (i, v))| {
            let x = *i as f64 * step;
            let y = H - (v.clamp(0.0, 100.0) / 100.0) * H;
            format!("{}{x:.1},{y:.1}", if n == 0 { "M" } else { " L" })
        })
        .collect();
    let words = match (known.first(), known.last()) {
        (Some((_, first)), Some((_, last))) => {
            format!("{label}: from {first:.0} to {last:.0}")
        }
        _ => format!("{label}: no scores"),
    };
    html! {
        svg.spark width=(W) height=(H) viewBox={"0 0 " (W) " " (H)} role="img" aria-label=(words) {
            title { (words) }
            path d=(path) fill="none" stroke="currentColor" stroke-width="1.5" {}
        }
    }
}

/// One series of a chart.
pub struct Series<'a> {
    pub label: &'a str,
    pub values: Vec<Option<f64>>,
}

/// A chart drawn by uPlot from the data in its attributes (days as x), inside a
/// figure whose caption and table say the same in text.
pub fn chart(
    id: &str,
    caption: &str,
    days: &[chrono::NaiveDate],
    series: &[Series],
    marks: &[(chrono::NaiveDate, String)],
) -> Markup {
    let xs: Vec<i64> = days
        .iter()
        .map(|d| {
            d.and_hms_opt(12, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp())
        })
        .collect();
    let data = serde_json::json!({
        "x": xs,
        "series": series.iter().map(|s| serde_json::json!({"label": s.label, "values": s.values})).collect::<Vec<_>>(),
        "marks": marks.iter().map(|(d, label)| serde_json::json!({
            "x": d.and_hms_opt(12, 0, 0).map_or(0, |t| t.and_utc().timestamp()),
            "label": label,
        })).collect::<Vec<_>>(),
    })
    .to_string();
    // The table samples at most about a dozen rows, so it stays readable.
    let every = (days.len() / 12).max(1);
    html! {
        figure.chart {
            figcaption id={(id) "-caption"} { (caption) }
            div.plot id=(id) data-chart=(data) aria-hidden="true" {}
            details {
                summary { "The chart's data as a table" }
                table {
                    thead { tr { th scope="col" { "Day" } @for s in series { th scope="col" { (s.label) } } } }
                    tbody {
                        @for (i, day) in days.iter().enumerate() {
                            @if i % every == 0 || i + 1 == days.len() {
                                tr {
                                    td { (crate::format::day(*day)) }
                                    @for s in series { td { (crate::format::score(s.values.get(i).copied().flatten())) } }
                                }
                            }
                        }
                    }
                }
                @if !marks.is_empty() {
                    ul { @for (day, label) in marks { li { (crate::format::day(*day)) ": " (label) } } }
                }
            }
        }
    }
}

/// A notice at the top of a page (what a write did, or why it was refused).
pub fn notice(kind: NoticeKind, text: &str) -> Markup {
    match kind {
        NoticeKind::Done => html! { p.notice.done role="status" { (text) } },
        NoticeKind::Refused => html! { p.notice.refused role="alert" { (text) } },
    }
}

/// When figures kept between requests were computed, and whether newer ones are
/// on their way (the data changed since).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Computed {
    pub at: chrono::DateTime<chrono::Utc>,
    pub stale: bool,
}

/// The line under a section of kept figures that says how fresh they are.
pub fn computed(computed: Computed) -> Markup {
    let at = computed.at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    html! {
        p.computed {
            "Figures computed at " (at)
            @if computed.stale { "; the data changed since, and newer figures are being computed: reload in a moment." } @else { "." }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Done,
    Refused,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparkline_says_its_trend_in_words() {
        let svg = sparkline(&[Some(70.0), None, Some(40.0)], "Health").into_string();
        assert!(svg.contains("Health: from 70 to 40"), "{svg}");
        assert!(svg.contains("M0.0,7.2 L96.0,14.4"), "{svg}");
    }

    #[test]
    fn bands_read_in_words_and_colour() {
        let red = band(Some("red")).into_string();
        assert!(red.contains("band-bad") && red.contains(">red<"), "{red}");
        assert!(band(None).into_string().contains("not scored"));
    }
}
