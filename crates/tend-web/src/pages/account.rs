//! The account 360°: header, health and usage charts, health and risk explained in
//! words, the timeline with a form to log a touch, contacts and stakeholders,
//! contracts, the success plan, open tasks, the account plan and opportunities.

use chrono::NaiveDate;
use maud::{html, Markup};
use tend_core::ActivityKind;
use tend_engine::account_plans::AccountDesk;
use tend_engine::expansion::opportunities::Opportunity;
use tend_engine::risk::RiskExplanation;
use tend_engine::views::accounts::AccountView;
use tend_engine::views::health::HistoryDay;
use tend_engine::views::plans::SuccessPlan;
use tend_engine::views::renewals::RenewalLine;
use tend_engine::views::timeline::TimelineEntry;

use super::tasks::{task_table, TaskTable};
use crate::format;
use crate::layout::{page, Nav, Section};
use crate::parts::{band, chart, csrf_field, Series};

/// Everything the account page shows.
pub struct AccountPage<'a> {
    pub view: &'a AccountView,
    pub history: &'a [HistoryDay],
    /// The churn risk explained; `None` without a churn model.
    pub risk: Option<&'a RiskExplanation>,
    /// The next renewal still open.
    pub renewal: Option<&'a RenewalLine>,
    pub timeline: &'a [TimelineEntry],
    pub tasks: TaskTable<'a>,
    pub plan: &'a SuccessPlan,
    pub desk: &'a AccountDesk,
    pub opportunities: &'a [Opportunity],
    /// Users active in the 30 days ending each day.
    pub usage: &'a [(NaiveDate, i64)],
    /// Seats held on the page's day.
    pub seats: i64,
    /// Each key feature of the account's scorecard with its events in the last 30
    /// days.
    pub key_features: &'a [(String, i64)],
    /// The churn probability 30 days before, when scored then.
    pub risk_month_before: Option<f64>,
    /// Whether the caller may write to this account.
    pub can_write: bool,
}

fn header(data: &AccountPage) -> Markup {
    let view = data.view;
    let account = &view.account;
    let health = view.health.as_ref();
    let change = data.history.last().and_then(|d| d.delta_30d);
    html! {
        dl.facts {
            div { dt { "ARR" } dd { (format::moneys(&view.arr)) } }
            div { dt { "Segment" } dd { (account.segment.as_deref().unwrap_or("–")) } }
            div { dt { "Lifecycle stage" } dd { (account.lifecycle_stage.map_or("–", |s| s.as_str())) } }
            div { dt { "CSM" } dd { (account.csm_owner.as_deref().unwrap_or("–")) } }
            div { dt { "Account manager" } dd { (account.am_owner.as_deref().unwrap_or("–")) } }
            div {
                dt { "Health" }
                dd {
                    (format::score(health.and_then(|h| h.score.overall))) " "
                    (band(health.map(|h| h.score.band.as_str())))
                    " " span.change { (format::delta(change)) " in 30 days" }
                }
            }
            div {
                dt { "Churn risk" }
                dd {
                    @match data.risk {
                        Some(risk) => {
                            (format::percent(risk.probability)) " in " (risk.horizon_days) " days " (band(Some(&risk.band)))
                            @if let Some(before) = data.risk_month_before {
                                " " span.change { "from " (format::percent(before)) " 30 days before" }
                            }
                        }
                        None => { "no churn model yet" }
                    }
                }
            }
            div {
                dt { "Renewal" }
                dd {
                    @match data.renewal {
                        Some(r) => { (format::day(r.renewal.due_on)) ", " (r.stage.as_str().replace('_', " ")) ", " (format::money(&r.renewal.arr)) }
                        None => { "none open" }
                    }
                }
            }
        }
    }
}

fn health_chart(data: &AccountPage) -> Markup {
    let days: Vec<NaiveDate> = data.history.iter().map(|d| d.day).collect();
    let scores = data.history.iter().map(|d| d.score).collect();
    let marks: Vec<(NaiveDate, String)> = data
        .history
        .windows(2)
        .filter(|w| w[0].band != w[1].band)
        .map(|w| {
            (
                w[1].day,
                format!("band changed from {} to {}", w[0].band, w[1].band),
            )
        })
        .collect();
    let caption = match (data.history.first(), data.history.last()) {
        (Some(first), Some(last)) => format!(
            "Health from {} to {}: {} then, {} now; {} band changes",
            format::day(first.day),
            format::day(last.day),
            format::score(first.score),
            format::score(last.score),
            marks.len()
        ),
        _ => "No health history yet".to_string(),
    };
    chart(
        "health-chart",
        &caption,
        &days,
        &[Series {
            label: "Health",
            values: scores,
        }],
        &marks,
    )
}

fn usage_chart(data: &AccountPage) -> Markup {
    let days: Vec<NaiveDate> = data.usage.iter().map(|(d, _)| *d).collect();
    let active = data.usage.iter().map(|(_, n)| Some(*n as f64)).collect();
    let seats = data.usage.iter().map(|_| Some(data.seats as f64)).collect();
    let caption = match data.usage.last() {
        Some((day, users)) => format!(
            "Users active in 30 days against {} seats: {users} on {}",
            data.seats,
            format::day(*day)
        ),
        None => "No product usage recorded".to_string(),
    };
    let used = data.key_features.iter().filter(|(_, n)| *n > 0).count();
    html! {
        (chart(
            "usage-chart",
            &caption,
            &days,
            &[
                Series {
                    label: "Active users (30 days)",
                    values: active,
                },
                Series {
                    label: "Seats",
                    values: seats,
                },
            ],
            &[],
        ))
        @if !data.key_features.is_empty() {
            h3 { "Key features used in 30 days: " (used) " of " (data.key_features.len()) }
            ul.features {
                @for (name, events) in data.key_features {
                    li { (name) ": " @if *events > 0 { (events) " events" } @else { strong.flag { "not used" } } }
                }
            }
        }
    }
}

fn explanation(data: &AccountPage) -> Markup {
    let mut moves: Vec<_> = data
        .view
        .explanation
        .iter()
        .flat_map(|e| e.measures.iter())
        .filter(|m| m.points.abs() >= 0.05 && m.words.is_some())
        .collect();
    moves.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()));
    html! {
        section #explanation aria-labelledby="why-health" {
            h2 #why-health { "Why health is where it is" }
            @match &data.view.explanation {
                None => p.empty { "Not scored yet." },
                Some(e) => {
                    p { "Since " (format::day(e.earlier)) " health went from " (format::score(e.before.overall)) " to " (format::score(e.now.overall)) "." }
                    @if moves.is_empty() { p.empty { "Nothing it measures changed." } }
                    ul { @for m in moves.iter().take(6) { li { (m.words.as_deref().unwrap_or_default()) " (" (format::delta(Some(m.points))) " points)" } } }
                }
            }
        }
        section #risk aria-labelledby="why-risk" {
            h2 #why-risk { "Why the churn risk is what it is" }
            @match data.risk {
                None => p.empty { "No churn model has scored this account." },
                Some(risk) => {
                    p { (format::percent(risk.probability)) " chance of churn in the next " (risk.horizon_days) " days (" (risk.band) ")." }
                    ul {
                        @for r in risk.reasons.iter().take(6) {
                            li { (r.words) " — " @if r.contribution > 0.0 { "raises the risk" } @else { "lowers the risk" } }
                        }
                    }
                }
            }
        }
    }
}

fn log_form(data: &AccountPage, nav: &Nav) -> Markup {
    let id = &data.view.account.id;
    html! {
        form.log method="post" action={"/app/accounts/" (super::encode(id)) "/activities"} {
            (csrf_field(&nav.csrf))
            fieldset {
                legend { "Log a touch" }
                label for="log-kind" { "Kind" }
                select #log-kind name="kind" {
                    @for kind in [ActivityKind::Note, ActivityKind::Call, ActivityKind::Meeting, ActivityKind::Email] {
                        option value=(kind.as_str()) { (kind.as_str()) }
                    }
                }
                label for="log-subject" { "Subject" }
                input #log-subject type="text" name="subject" required maxlength="200";
                label for="log-body" { "Notes" }
                textarea #log-body name="body" rows="3" maxlength="10000" {}
                button type="submit" { "Log it" }
            }
        }
    }
}

fn timeline(data: &AccountPage, nav: &Nav) -> Markup {
    html! {
        section aria-labelledby="timeline" {
            h2 #timeline { "Timeline" }
            @if data.can_write { (log_form(data, nav)) }
            ol.timeline {
                @for entry in data.timeline {
                    li class={"entry " (entry.kind.as_str())} {
                        time datetime=(entry.at.to_rfc3339()) { (entry.at.format("%Y-%m-%d %H:%M")) }
                        " " span.kind { (entry.kind.as_str().replace('_', " ")) } " "
                        span.title { (entry.title) }
                        @if let Some(detail) = &entry.detail { p.detail { (detail) } }
                    }
                }
            }
        }
    }
}

/// A contact of the account by name (its id when it is not one of them).
fn contact_name<'a>(data: &'a AccountPage, id: &'a str) -> &'a str {
    data.view
        .contacts
        .iter()
        .find(|c| c.id == id)
        .map_or(id, |c| c.name.as_str())
}

fn people(data: &AccountPage) -> Markup {
    html! {
        section aria-labelledby="contacts" {
            h2 #contacts { "Contacts and stakeholders" }
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Title" } th scope="col" { "Role" } th scope="col" { "Influence" } th scope="col" { "Sentiment" } th scope="col" { "Strength" } th scope="col" { "Reports to" } } }
                tbody {
                    @for s in &data.desk.stakeholders {
                        tr {
                            td { (s.contact.name) }
                            td { (s.contact.title.as_deref().unwrap_or("–")) }
                            td { (s.contact.role.as_str().replace('_', " ")) }
                            @match &s.standing {
                                Some(st) => {
                                    td { (st.influence.as_str()) } td { (st.sentiment.as_str()) } td.num { (st.strength) " of 5" }
                                    td { (st.reports_to.as_deref().map_or("–", |id| contact_name(data, id))) }
                                }
                                None => { td { "–" } td { "–" } td { "–" } td { "–" } }
                            }
                        }
                    }
                }
            }
            @if !data.desk.team.is_empty() {
                h3 { "Account team" }
                ul { @for m in &data.desk.team { li { (m.handle) " — " (m.role.as_str().replace('_', " ")) } } }
            }
        }
    }
}

fn contracts(data: &AccountPage) -> Markup {
    html! {
        section aria-labelledby="contracts" {
            h2 #contracts { "Contracts" }
            table {
                thead { tr { th scope="col" { "Product" } th scope="col" { "Seats" } th scope="col" { "ARR" } th scope="col" { "From" } th scope="col" { "To" } th scope="col" { "Status" } } }
                tbody {
                    @for c in &data.view.contracts {
                        tr {
                            td { (c.product) } td.num { (c.seats) } td.num { (format::money(&c.arr)) }
                            td { (format::day(c.start_date)) } td { (format::day(c.end_date)) } td { (c.status.as_str()) }
                        }
                    }
                }
            }
        }
    }
}

fn success_plan(data: &AccountPage) -> Markup {
    let plan = data.plan;
    html! {
        section aria-labelledby="success-plan" {
            h2 #success-plan { "Success plan" }
            @if plan.objectives.is_empty() && plan.milestones.is_empty() { p.empty { "No objectives or milestones yet." } }
            @if !plan.objectives.is_empty() {
                h3 { "Objectives" }
                ul { @for o in &plan.objectives { li { (o.title) " — " (o.status.as_str().replace('_', " ")) @if !o.criteria.is_empty() { br; small { (o.criteria) } } } } }
            }
            @if !plan.milestones.is_empty() {
                h3 { "Milestones" }
                table {
                    thead { tr { th scope="col" { "Milestone" } th scope="col" { "Due" } th scope="col" { "Owner" } th scope="col" { "Status" } } }
                    tbody {
                        @for m in &plan.milestones {
                            tr { td { (m.title) } td { (format::day(m.due_on)) } td { (m.owner.as_deref().unwrap_or("–")) } td { (m.status.as_str().replace('_', " ")) @if let Some(d) = m.done_on { " on " (format::day(d)) } } }
                        }
                    }
                }
            }
        }
    }
}

fn account_plan(data: &AccountPage) -> Markup {
    html! {
        section aria-labelledby="account-plan" {
            h2 #account-plan { "Account plan" }
            @match &data.desk.plan {
                None => p.empty { "No account plan yet." },
                Some(plan) => {
                    p { "Version " (plan.version) ", saved by " (plan.saved_by) @if let Some(t) = &plan.target_arr { "; target ARR " (format::money(t)) } "." }
                    @if let Some(s) = &plan.growth_strategy { p { (s) } }
                    @if !plan.objectives.is_empty() { h3 { "Objectives" } ul { @for o in &plan.objectives { li { (o) } } } }
                    @if !plan.risks.is_empty() { h3 { "Risks" } ul { @for r in &plan.risks { li { (r) } } } }
                }
            }
            h3 { "Opportunities" }
            @if data.opportunities.is_empty() { p.empty { "No opportunities." } } @else {
                table {
                    thead { tr { th scope="col" { "Opportunity" } th scope="col" { "Product" } th scope="col" { "Stage" } th scope="col" { "Amount" } th scope="col" { "Close" } } }
                    tbody {
                        @for o in data.opportunities {
                            tr { td { (o.title) } td { (o.product) } td { (o.stage.as_str().replace('_', " ")) } td.num { (format::money(&o.amount)) } td { (format::day(o.close_on)) } }
                        }
                    }
                }
            }
        }
    }
}

pub fn account_page(nav: &Nav, data: &AccountPage) -> Markup {
    // A page of the account reads only: its writes refused for this caller show nothing.
    let writer = Nav {
        can_write: nav.can_write && data.can_write,
        section: Some(Section::Portfolio),
        ..nav.clone()
    };
    let body = html! {
        (header(data))
        div.charts {
            (health_chart(data))
            div.usage { (usage_chart(data)) }
        }
        div.columns {
            div { (explanation(data)) }
            div {
                section aria-labelledby="open-tasks" {
                    h2 #open-tasks { "Open tasks" }
                    (task_table(&data.tasks, &writer))
                }
            }
        }
        (timeline(data, &writer))
        div.columns {
            div { (people(data)) (contracts(data)) }
            div { (success_plan(data)) (account_plan(data)) }
        }
    };
    page(&data.view.account.name, &writer, body)
}
