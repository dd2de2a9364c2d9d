//! Tasks: a table of them with complete and snooze on each open one, and the tasks
//! page (mine or my team's, by due date) with bulk complete and reassign.

use std::collections::HashMap;

use chrono::NaiveDate;
use maud::{html, Markup};
use tend_store::TaskRecord;

use super::account_href;
use crate::format;
use crate::layout::{page, Nav, Section};
use crate::parts::csrf_field;

/// Where a task table sits, for the writes made from it.
pub struct TaskTable<'a> {
    pub tasks: &'a [TaskRecord],
    /// Account names by id.
    pub names: &'a HashMap<String, String>,
    pub today: NaiveDate,
    /// Where a write returns to.
    pub back: &'a str,
    /// Whether rows carry a checkbox for the bulk form of the tasks page.
    pub bulk: bool,
    /// Whether to name each task's account (not on the account's own page).
    pub account_column: bool,
}

fn due(task: &TaskRecord, today: NaiveDate) -> Markup {
    let words = format::days_from(task.due_on, today);
    html! {
        time datetime=(format::day(task.due_on)) class=[(task.due_on < today).then_some("overdue")] {
            (format::day(task.due_on)) " (" (words) ")"
        }
    }
}

/// The forms each row's controls belong to, kept outside the table (forms do not nest).
fn row_forms(task: &TaskRecord, nav: &Nav, back: &str) -> Markup {
    html! {
        form id={"complete-" (task.id)} method="post" action={"/app/tasks/" (task.id) "/complete"} {
            (csrf_field(&nav.csrf))
            input type="hidden" name="back" value=(back);
        }
        form id={"snooze-" (task.id)} method="post" action={"/app/tasks/" (task.id) "/snooze"} {
            (csrf_field(&nav.csrf))
            input type="hidden" name="back" value=(back);
        }
    }
}

fn controls(task: &TaskRecord, today: NaiveDate) -> Markup {
    let id = task.id;
    let tomorrow = today.succ_opt().unwrap_or(today);
    html! {
        div.controls {
            button type="submit" form={"complete-" (id)} { "Complete" }
            details.snooze {
                summary { "Snooze" }
                label for={"until-" (id)} { "Until" }
                input id={"until-" (id)} type="date" name="until" form={"snooze-" (id)} required min=(format::day(tomorrow));
                label for={"reason-" (id)} { "Reason" }
                input id={"reason-" (id)} type="text" name="reason" form={"snooze-" (id)} required maxlength="200";
                button type="submit" form={"snooze-" (id)} { "Snooze task" }
            }
        }
    }
}

/// The table of tasks, with controls for those a writer can still act on.
pub fn task_table(table: &TaskTable, nav: &Nav) -> Markup {
    let open: Vec<&TaskRecord> = table.tasks.iter().filter(|t| t.is_open()).collect();
    html! {
        @if table.tasks.is_empty() {
            p.empty { "No tasks." }
        } @else {
            table.tasks {
                caption.visually-hidden { "Tasks" }
                thead {
                    tr {
                        @if table.bulk && nav.can_write { th scope="col" { span.visually-hidden { "Select" } } }
                        th scope="col" { "Task" }
                        @if table.account_column { th scope="col" { "Account" } }
                        th scope="col" { "Priority" }
                        th scope="col" { "Due" }
                        th scope="col" { "Owner" }
                        th scope="col" { "Status" }
                        @if nav.can_write { th scope="col" { "Actions" } }
                    }
                }
                tbody {
                    @for task in table.tasks {
                        tr id={"task-" (task.id)} {
                            @if table.bulk && nav.can_write {
                                td {
                                    @if task.is_open() {
                                        input type="checkbox" name="task" value=(task.id) form="bulk" id={"select-" (task.id)} aria-label={"Select " (task.title)};
                                    }
                                }
                            }
                            td {
                                (task.title)
                                @if let Some(playbook) = &task.playbook { br; small { "from playbook " (playbook) } }
                            }
                            @if table.account_column {
                                td { a href=(account_href(&task.account_id)) { (table.names.get(&task.account_id).unwrap_or(&task.account_id)) } }
                            }
                            td { (task.priority) }
                            td { (due(task, table.today)) }
                            td { (task.owner.as_deref().unwrap_or("nobody")) }
                            td.status {
                                (task.status.replace('_', " "))
                                @if let Some(until) = task.snoozed_until { " until " (format::day(until)) }
                                @if let Some(reason) = &task.status_reason { br; small { (reason) } }
                            }
                            @if nav.can_write {
                                td { @if task.is_open() { (controls(task, table.today)) } }
                            }
                        }
                    }
                }
            }
            @if nav.can_write {
                @for task in &open { (row_forms(task, nav, table.back)) }
            }
        }
    }
}

/// Whose tasks the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    Mine,
    Team,
}

/// The tasks page.
pub fn tasks_page(nav: &Nav, whose: Whose, table: &TaskTable) -> Markup {
    let body = html! {
        nav.tabs aria-label="Whose tasks" {
            a href="/app/tasks" aria-current=[(whose == Whose::Mine).then_some("page")] { "Mine" }
            a href="/app/tasks?scope=team" aria-current=[(whose == Whose::Team).then_some("page")] { "My team's" }
        }
        @if nav.can_write && !table.tasks.is_empty() {
            form #bulk.bulk method="post" action="/app/tasks/bulk" {
                (csrf_field(&nav.csrf))
                input type="hidden" name="back" value=(table.back);
                fieldset {
                    legend { "With the selected tasks" }
                    button type="submit" name="action" value="complete" { "Complete" }
                    label for="bulk-owner" { "Reassign to" }
                    input #bulk-owner type="text" name="owner" placeholder="user handle" maxlength="64";
                    button type="submit" name="action" value="reassign" { "Reassign" }
                }
            }
        }
        (task_table(table, nav))
    };
    page(
        "Tasks",
        &Nav {
            section: Some(Section::Tasks),
            ..nav.clone()
        },
        body,
    )
}
