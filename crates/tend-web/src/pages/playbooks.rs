//! Playbooks: the ones loaded, what each watches for and the task it makes, and a
//! simulation over the store's history when asked for.

use chrono::NaiveDate;
use maud::{html, Markup};
use tend_engine::playbooks::{PlaybookSet, Simulation};

use crate::format;
use crate::layout::{page, Nav, Section};

pub struct PlaybooksPage<'a> {
    pub set: &'a PlaybookSet,
    /// The period the form proposes (or the one simulated).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub simulation: SimulationState<'a>,
}

/// Where the simulation shown on the page stands.
pub enum SimulationState<'a> {
    /// None asked for.
    None,
    /// Job `job` is replaying: `done` of `total` steps.
    Running {
        job: u64,
        done: u64,
        total: u64,
    },
    Done(&'a Simulation),
    /// It failed, and why in words.
    Failed(&'a str),
}

/// The page of job `job` over `from`–`to`.
fn job_href(job: u64, from: NaiveDate, to: NaiveDate) -> String {
    format!(
        "/app/playbooks?job={job}&from={}&to={}",
        format::day(from),
        format::day(to)
    )
}

/// What the simulation section shows below its form. While the job runs, the
/// section asks for itself again every two seconds (htmx) until it is done; without
/// JavaScript, a link does the same.
fn simulation_state(data: &PlaybooksPage) -> Markup {
    match &data.simulation {
        SimulationState::None => html! {
            div #simulation-result {
                p.empty { "Replay the playbooks over a period of the store's history to see the tasks they would have made, before switching one on." }
            }
        },
        SimulationState::Running { job, done, total } => {
            let href = job_href(*job, data.from, data.to);
            html! {
                div #simulation-result hx-get=(href) hx-trigger="load delay:2s" hx-select="#simulation-result" hx-swap="outerHTML" {
                    p role="status" {
                        "Simulating " (format::day(data.from)) " to " (format::day(data.to))
                        @if *total > 0 { ": " (format::percent(*done as f64 / *total as f64)) " done" } "… "
                        a href=(href) { "Refresh" }
                    }
                }
            }
        }
        SimulationState::Done(sim) => html! { div #simulation-result { (simulation(sim)) } },
        SimulationState::Failed(why) => html! {
            div #simulation-result { p.notice.refused role="alert" { "The simulation failed: " (why) } }
        },
    }
}

fn simulation(sim: &Simulation) -> Markup {
    html! {
        table {
            caption {
                "Replayed over " (format::day(sim.from)) " to " (format::day(sim.to)) ": " (sim.accounts) " accounts, "
                (sim.days) " days (" (sim.health_days) " with stored health); no task was written"
            }
            thead {
                tr {
                    th scope="col" { "Playbook" } th scope="col" { "On" } th scope="col" { "Tasks" }
                    th scope="col" { "Busiest owner, tasks a week" } th scope="col" { "Churned accounts warned" }
                    th scope="col" { "Churned ARR warned" } th scope="col" { "Median warning" } th scope="col" { "Precision" }
                }
            }
            tbody {
                @for p in &sim.playbooks {
                    tr {
                        th scope="row" { (p.name) }
                        td { @if p.enabled { "yes" } @else { "no" } }
                        td.num { (p.tasks) }
                        td { @match p.per_owner_week.first() { Some((owner, n)) => { (owner) ": " (format!("{n:.1}")) } None => { "–" } } }
                        td.num { (p.churned_warned) " of " (p.churned) }
                        td.num { @if p.churned_arr > 0.0 { (format::percent(p.churned_arr_warned / p.churned_arr)) } @else { "–" } }
                        td.num { @match p.median_warning_days { Some(d) => { (format!("{d:.0}")) " days" } None => { "–" } } }
                        td.num { @if p.judged > 0 { (format::percent(p.precise as f64 / p.judged as f64)) } @else { "–" } }
                    }
                }
            }
        }
    }
}

pub fn playbooks(nav: &Nav, data: &PlaybooksPage) -> Markup {
    let body = html! {
        section aria-labelledby="loaded" {
            h2 #loaded { "Loaded playbooks" }
            table {
                thead { tr { th scope="col" { "Playbook" } th scope="col" { "On" } th scope="col" { "Watches for" } th scope="col" { "Makes" } th scope="col" { "From" } } }
                tbody {
                    @for (p, origin) in data.set.playbooks.iter().zip(&data.set.origins) {
                        tr {
                            th scope="row" { (p.name) br; small { (p.description) } }
                            td { @if p.enabled { "yes" } @else { "no" } }
                            td { ul { @for t in &p.triggers { li { (t.spec.name.replace('_', " ")) } } } }
                            td {
                                (p.task.title) " (" (p.task.priority.as_str()) ", due in " (p.task.due_days) " days)"
                                @if !p.task.steps.is_empty() { ol { @for (step, days) in &p.task.steps { li { (step) " — day " (days) } } } }
                            }
                            td { small { (origin) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="simulate" {
            h2 #simulate { "Simulation" }
            form.filters method="post" action="/app/playbooks/simulate" {
                (crate::parts::csrf_field(&nav.csrf))
                label for="sim-from" { "From" }
                input #sim-from type="date" name="from" value=(format::day(data.from)) required;
                label for="sim-to" { "To" }
                input #sim-to type="date" name="to" value=(format::day(data.to)) required;
                button type="submit" { "Simulate" }
            }
            (simulation_state(data))
        }
    };
    page(
        "Playbooks",
        &Nav {
            section: Some(Section::Playbooks),
            ..nav.clone()
        },
        body,
    )
}
