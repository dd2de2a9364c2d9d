//! Terminal text of playbooks, simulations and tasks.

use std::fmt::Write;

use tend_engine::playbooks::{PlaybookSet, Simulation, TaskDetail};
use tend_store::TaskRecord;

use crate::render::{pct, truncate};

pub fn playbooks(set: &PlaybookSet) -> String {
    let mut out = String::new();
    for (playbook, origin) in set.playbooks.iter().zip(&set.origins) {
        let state = if playbook.enabled { "on" } else { "off" };
        let _ = writeln!(out, "{} ({state}, {origin})", playbook.name);
        if !playbook.description.is_empty() {
            let _ = writeln!(out, "  {}", playbook.description);
        }
        for trigger in &playbook.triggers {
            let _ = writeln!(out, "  when {}", trigger.words());
        }
        let task = &playbook.task;
        let _ = writeln!(
            out,
            "  then a {} task \"{}\" due in {} days, {} steps; re-entry after {} days{}",
            task.kind,
            task.title,
            task.due_days,
            task.steps.len(),
            playbook.reentry_days,
            if playbook.auto_close {
                ", closed when the trigger clears"
            } else {
                ""
            }
        );
    }
    out
}

pub fn simulation(sim: &Simulation, only: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Playbooks replayed over {} to {} ({} days, {} accounts; stored health on {} of the days).",
        sim.from, sim.to, sim.days, sim.accounts, sim.health_days
    );
    if sim.health_days < sim.days {
        let _ = writeln!(
            out,
            "Health triggers read stored health: score the missing days with `tend health backfill` for a full replay."
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<12} {:>6} {:>14} {:>16} {:>14} {:>12} {:>10}",
        "playbook",
        "tasks",
        "busiest/week",
        "churned warned",
        "churned ARR",
        "warning",
        "precision"
    );
    for p in sim
        .playbooks
        .iter()
        .filter(|p| only.is_none_or(|name| name == p.name))
    {
        let share = |s: Option<f64>| s.map_or("–".to_string(), pct);
        let _ = writeln!(
            out,
            "{:<12} {:>6} {:>14} {:>16} {:>14} {:>12} {:>10}{}",
            truncate(&p.name, 12),
            p.tasks,
            p.max_per_owner_week()
                .map_or("–".into(), |n| format!("{n:.2}")),
            format!(
                "{}/{} {}",
                p.churned_warned,
                p.churned,
                share(p.churned_share())
            ),
            share(p.churned_arr_share()),
            p.median_warning_days
                .map_or("–".into(), |d| format!("{d:.0} days")),
            share(p.precision()),
            if p.enabled { "" } else { "  (off)" },
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "busiest/week: new tasks per week of the busiest owner; churned warned: accounts that churned in the period with a task in the 180 days before; warning: median days from that task to the churn; precision: tasks whose account churned within 180 days."
    );
    if let Some(name) = only {
        if let Some(p) = sim.playbooks.iter().find(|p| p.name == name) {
            let _ = writeln!(out, "\nNew {name} tasks per owner per week:");
            for (owner, n) in &p.per_owner_week {
                let _ = writeln!(out, "  {owner:<24} {n:.2}");
            }
        }
    }
    out
}

pub fn tasks(items: &[TaskRecord]) -> String {
    if items.is_empty() {
        return "No tasks.\n".to_string();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>6}  {:<10} {:<8} {:<11} {:<18} {:<14} {:<12} title",
        "id", "due", "priority", "status", "account", "owner", "playbook"
    );
    for t in items {
        let _ = writeln!(
            out,
            "{:>6}  {:<10} {:<8} {:<11} {:<18} {:<14} {:<12} {}",
            t.id,
            t.due_on,
            t.priority,
            t.status,
            truncate(&t.account_id, 18),
            truncate(t.owner.as_deref().unwrap_or("–"), 14),
            truncate(t.playbook.as_deref().unwrap_or("–"), 12),
            truncate(&t.title, 60),
        );
    }
    out
}

pub fn task(detail: &TaskDetail) -> String {
    let t = &detail.task;
    let mut out = String::new();
    let _ = writeln!(out, "Task {}: {}", t.id, t.title);
    let _ = writeln!(
        out,
        "  {} task on account {}, owner {}, {} priority, due {}",
        t.kind,
        t.account_id,
        t.owner.as_deref().unwrap_or("nobody"),
        t.priority,
        t.due_on
    );
    let status = match (&t.snoozed_until, &t.status_reason) {
        (Some(until), Some(reason)) => format!("{} until {until}: {reason}", t.status),
        (None, Some(reason)) => format!("{}: {reason}", t.status),
        _ => t.status.clone(),
    };
    let _ = writeln!(out, "  status: {status}");
    if let (Some(playbook), Some(signal)) = (&t.playbook, &t.signal) {
        let _ = writeln!(out, "  from playbook {playbook}, signal {signal}");
    }
    if let Some(words) = tend_engine::playbooks::tasks::evidence_words(t) {
        let _ = writeln!(out, "  saw: {words}");
    }
    if !t.description.is_empty() {
        let _ = writeln!(out, "  {}", t.description);
    }
    for step in &detail.steps {
        let mark = if step.done_at.is_some() { "x" } else { " " };
        let _ = writeln!(out, "  [{mark}] {} (due {})", step.title, step.due_on);
    }
    for c in &detail.comments {
        let _ = writeln!(
            out,
            "  {} {}: {}",
            c.created_at.format("%Y-%m-%d %H:%M"),
            c.author,
            c.body
        );
    }
    out
}
