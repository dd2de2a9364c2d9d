//! The cockpit: the home page of a CSM or account manager.

use std::collections::HashMap;

use chrono::NaiveDate;
use maud::{html, Markup};
use tend_engine::health::HealthRow;
use tend_engine::proposals::Proposal;
use tend_engine::views::renewals::RenewalLine;
use tend_store::MilestoneRecord;

use super::account_href;
use super::tasks::{task_table, TaskTable};
use crate::format;
use crate::layout::{page, Nav, Section};
use crate::parts::band;

/// What the cockpit shows.
pub struct Cockpit<'a> {
    pub today: NaiveDate,
    /// My first open tasks, soonest due first.
    pub tasks: TaskTable<'a>,
    /// All my open tasks, of which those are the first; `None` when there are more
    /// than were read.
    pub open_tasks: Option<usize>,
    /// My accounts whose health fell or churn risk rose this week.
    pub worsened: &'a [Worsened],
    /// Renewals of my book due in the next 120 days, soonest first.
    pub renewals: &'a [RenewalLine],
    /// Milestones of my book past their due day and not done.
    pub overdue_milestones: &'a [MilestoneRecord],
    /// Proposals waiting for my decision (leaders); `None` for other roles.
    pub approvals: Option<&'a [Proposal]>,
    /// Account names by id.
    pub names: &'a HashMap<String, String>,
}

fn name<'a>(names: &'a HashMap<String, String>, id: &'a str) -> &'a str {
    names.get(id).map_or(id, String::as_str)
}

/// An account of mine whose health fell or whose churn risk rose this week.
pub struct Worsened {
    pub health: HealthRow,
    /// Churn probability and band now, and the probability a week before.
    pub risk: Option<(f64, String)>,
    pub risk_week_before: Option<f64>,
}

fn worsened(rows: &[Worsened]) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { "None of your accounts' health fell or churn risk rose this week." }
        } @else {
            table {
                thead {
                    tr {
                        th scope="col" { "Account" } th scope="col" { "Health" } th scope="col" { "Band" } th scope="col" { "7 days" }
                        th scope="col" { "Churn risk" } th scope="col" { "What moved health most (30 days)" }
                    }
                }
                tbody {
                    @for w in rows {
                        @let row = &w.health;
                        tr {
                            td { a href=(account_href(&row.account_id)) { (row.name) } }
                            td.num { (format::score(row.score)) }
                            td { (band(Some(&row.band))) @if let Some(before) = &row.band_before { " from " (before) } }
                            td.num.down { (format::delta(row.deltas[0])) }
                            td {
                                @match &w.risk {
                                    Some((p, b)) => {
                                        (format::percent(*p)) " " (band(Some(b)))
                                        @if let Some(before) = w.risk_week_before { @if *p > before { " " span.down { "up from " (format::percent(before)) } } }
                                    }
                                    None => { "–" }
                                }
                            }
                            td { @if let Some((measure, points)) = &row.top_mover { (measure.replace('_', " ")) " (" (format::delta(Some(*points))) ")" } }
                        }
                    }
                }
            }
        }
    }
}

fn renewals(lines: &[RenewalLine], today: NaiveDate) -> Markup {
    html! {
        @if lines.is_empty() {
            p.empty { "No renewals of your book are due in the next 120 days." }
        } @else {
            table {
                thead { tr { th scope="col" { "Account" } th scope="col" { "Due" } th scope="col" { "ARR" } th scope="col" { "Stage" } th scope="col" { "Forecast call" } th scope="col" { "Model" } } }
                tbody {
                    @for line in lines {
                        tr {
                            td { a href=(account_href(&line.renewal.account_id)) { (line.account_name) } }
                            td { (format::day(line.renewal.due_on)) " (" (format::days_from(line.renewal.due_on, today)) ")" }
                            td.num { (format::money(&line.renewal.arr)) }
                            td { (line.stage.as_str().replace('_', " ")) }
                            td {
                                @match &line.call {
                                    Some(call) => { (call.category.as_str().replace('_', " ")) @if line.disagrees { " " strong.flag { "(disagrees with the model)" } } }
                                    None => { "no call yet" }
                                }
                            }
                            td.num { @match line.model_renewal_probability { Some(p) => { (format::percent(p)) " to renew" } None => { "–" } } }
                        }
                    }
                }
            }
        }
    }
}

fn milestones(
    list: &[MilestoneRecord],
    names: &HashMap<String, String>,
    today: NaiveDate,
) -> Markup {
    html! {
        @if list.is_empty() {
            p.empty { "No onboarding milestones are overdue." }
        } @else {
            ul {
                @for m in list {
                    li {
                        a href=(account_href(&m.account_id)) { (name(names, &m.account_id)) } ": " (m.title)
                        ", due " (format::day(m.due_on)) " (" (format::days_from(m.due_on, today)) ")"
                    }
                }
            }
        }
    }
}

/// Proposals waiting for a leader, with the reasons they went beyond the guardrails.
pub fn approval_list(
    list: &[Proposal],
    names: &HashMap<String, String>,
    nav: &Nav,
    back: &str,
) -> Markup {
    html! {
        @if list.is_empty() {
            p.empty { "No proposals are waiting for your decision." }
        } @else {
            ul.approvals {
                @for p in list {
                    li id={"proposal-" (p.id)} {
                        strong { (name(names, &p.account_id)) } ": " (p.kind.as_str()) " proposal, " (format::money(&p.arr)) " ARR, "
                        (p.discount_percent) "% discount, " (p.term_months) " months, by " (p.created_by)
                        ul { @for breach in &p.breaches { li { (breach.reason) " — needs " (breach.route.as_str().replace('_', " ")) } } }
                        form.decide method="post" action={"/app/proposals/" (p.id) "/decide"} {
                            (crate::parts::csrf_field(&nav.csrf))
                            input type="hidden" name="back" value=(back);
                            label for={"comment-" (p.id)} { "Comment" }
                            input id={"comment-" (p.id)} type="text" name="comment" maxlength="200";
                            button type="submit" name="decision" value="approve" { "Approve" }
                            button type="submit" name="decision" value="reject" { "Reject" }
                        }
                    }
                }
            }
        }
    }
}

pub fn cockpit(nav: &Nav, data: &Cockpit) -> Markup {
    let body = html! {
        @if let Some(approvals) = data.approvals {
            section aria-labelledby="approvals" {
                h2 #approvals { "Approvals waiting for you" }
                (approval_list(approvals, data.names, nav, "/app"))
            }
        }
        section aria-labelledby="my-tasks" {
            h2 #my-tasks { "My tasks, overdue and due next" }
            (task_table(&data.tasks, nav))
            @match data.open_tasks {
                Some(n) if n > data.tasks.tasks.len() => p { a href="/app/tasks" { "All " (n) " of my open tasks" } },
                Some(_) => {},
                None => p { a href="/app/tasks" { "All my open tasks" } },
            }
        }
        section aria-labelledby="worsened" {
            h2 #worsened { "My accounts that worsened this week" }
            (worsened(data.worsened))
        }
        section aria-labelledby="renewals" {
            h2 #renewals { "Renewals in the next 120 days" }
            (renewals(data.renewals, data.today))
        }
        section aria-labelledby="milestones" {
            h2 #milestones { "Onboarding milestones overdue" }
            (milestones(data.overdue_milestones, data.names, data.today))
        }
    };
    page(
        "Cockpit",
        &Nav {
            section: Some(Section::Cockpit),
            ..nav.clone()
        },
        body,
    )
}
