//! Health measures: pure functions from one account's stored data to a raw value on a
//! given day. Every measure looks only at what was known by the end of that day, so
//! history rebuilt from today's data has no look-ahead.
//!
//! Adding a measure is one function and one line in [`MEASURES`].

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};

use super::scorecard::KeyFeature;
use crate::metrics::{csat, nps, weighted_nps};
use crate::model::{
    Account, Activity, Contact, ContactRole, Contract, Invoice, InvoiceStatus, Milestone, Payment,
    PaymentStatus, SurveyKind, SurveyResponse, Ticket, TicketPriority, UsageDaily,
};

/// Everything stored about one account that measures read. Slices may hold records
/// from after the day being scored; measures ignore them.
#[derive(Debug, Clone, Copy)]
pub struct AccountFacts<'a> {
    pub account: &'a Account,
    pub contracts: &'a [Contract],
    pub contacts: &'a [Contact],
    /// Daily rollups in day order.
    pub usage: &'a [UsageDaily],
    pub tickets: &'a [Ticket],
    pub surveys: &'a [SurveyResponse],
    pub invoices: &'a [Invoice],
    pub payments: &'a [Payment],
    pub activities: &'a [Activity],
    /// The milestones of its success plan, by due day.
    pub milestones: &'a [Milestone],
}

/// The day being scored and the settings measures take from the scorecard.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub day: NaiveDate,
    /// Days of history a windowed measure looks at.
    pub window: u32,
    /// Features whose adoption counts (`feature_adoption`).
    pub key_features: &'a [KeyFeature],
    /// The product whose seats license utilization counts; `None` for the account's
    /// main product.
    pub seat_product: Option<&'a str>,
}

impl Context<'_> {
    /// The first day inside the window ending on (and including) `day`.
    fn window_start(&self) -> NaiveDate {
        days_before(self.day, self.window.saturating_sub(1))
    }

    /// The end of the scored day: records stamped before it are known.
    fn end_of_day(&self) -> DateTime<Utc> {
        end_of(self.day)
    }

    /// The window as instants: from the start of its first day to the end of the
    /// scored day (the end excluded).
    fn window_times(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (start_of(self.window_start()), self.end_of_day())
    }
}

fn days_before(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_sub_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MIN)
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

fn end_of(day: NaiveDate) -> DateTime<Utc> {
    start_of(day.succ_opt().unwrap_or(day))
}

/// A measure computes a raw value, or `None` when the account has no data for it.
pub type MeasureFn = fn(&AccountFacts, &Context) -> Option<f64>;

/// The count behind a ratio and what it is out of, e.g. (17 active users, 50 seats).
pub type DetailFn = fn(&AccountFacts, &Context) -> Option<(f64, f64)>;

/// How far back a measure reads, so loaders fetch no more history than needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Records inside the window.
    Window,
    /// The window and the one before it (trends).
    TwoWindows,
    /// The latest record on or before the day, however old.
    Latest,
    /// The state on the day: open tickets, unpaid invoices, contracts, contacts.
    Current,
}

/// The time-stamped records a measure reads (contracts and contacts are always
/// loaded whole), so loaders fetch only the history each kind needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Usage,
    /// The per-feature counts of usage rollups (only `Usage` reads their totals).
    FeatureUse,
    Tickets,
    Surveys,
    Invoices,
    Payments,
    Activities,
}

/// How a raw value reads in an explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A share shown in percent (0.42 → "42%").
    Share,
    /// A signed change shown in percent (−0.3 → "−30%").
    Change,
    /// A number with up to one decimal.
    Number,
    /// A whole count of `unit`s ("3 tickets").
    Count(&'static str),
    /// Yes/no: 1 means the phrase holds ("has a champion").
    Flag,
}

pub struct MeasureSpec {
    pub name: &'static str,
    pub group: &'static str,
    /// Default window in days (ignored by measures that take none).
    pub window: u32,
    pub history: History,
    pub reads: &'static [Source],
    /// What the value is, in words that fit "… fell from A to B" (for flags, a phrase
    /// that is true when the value is 1, as in "no longer has a champion").
    pub label: &'static str,
    pub format: Format,
    pub compute: MeasureFn,
    /// For ratios: the count and what it is out of, with their names.
    pub detail: Option<(DetailFn, &'static str, &'static str)>,
}

/// A measure is known by its name (its functions cannot be printed or compared).
impl std::fmt::Debug for MeasureSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeasureSpec")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl PartialEq for MeasureSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl MeasureSpec {
    /// Days before the scored day whose records the measure reads with `window`.
    pub fn lookback(&self, window: u32) -> u32 {
        match self.history {
            History::Window => window,
            History::TwoWindows => 2 * window,
            History::Latest | History::Current => 0,
        }
    }

    /// The measure's raw value, `None` without data or when it is not a finite number.
    pub fn value(&self, facts: &AccountFacts, ctx: &Context) -> Option<f64> {
        (self.compute)(facts, ctx).filter(|v| v.is_finite())
    }

    const fn counted(mut self, detail: DetailFn, counted: &'static str, of: &'static str) -> Self {
        self.detail = Some((detail, counted, of));
        self
    }
}

const fn spec(
    name: &'static str,
    group: &'static str,
    window: u32,
    (history, reads): (History, &'static [Source]),
    label: &'static str,
    format: Format,
    compute: MeasureFn,
) -> MeasureSpec {
    MeasureSpec {
        name,
        group,
        window,
        history,
        reads,
        label,
        format,
        compute,
        detail: None,
    }
}

use Format::*;
use History::*;
use Source::*;

/// Who engages: activities, tickets and survey answers by a contact.
const ENGAGEMENT: &[Source] = &[Activities, Tickets, Surveys];

/// Every measure a scorecard can name.
#[rustfmt::skip]
pub const MEASURES: &[MeasureSpec] = &[
    spec("license_utilization", "usage", 30, (Window, &[Usage]), "license utilization", Share, license_utilization)
        .counted(active_users_and_seats, "active users", "seats"),
    spec("dau_mau", "usage", 30, (Window, &[Usage]), "DAU/MAU", Share, dau_mau),
    spec("usage_trend", "usage", 30, (TwoWindows, &[Usage]), "usage against the 30 days before", Change, usage_trend),
    spec("feature_adoption", "usage", 30, (Window, &[Usage, FeatureUse]), "key-feature adoption", Share, feature_adoption)
        .counted(key_features_used, "key features used", "key features"),
    spec("days_since_last_activity", "usage", 0, (Latest, &[Usage]), "days since the last product use", Count("days"), days_since_last_activity),
    spec("open_tickets", "support", 0, (Current, &[Tickets]), "open tickets", Count("tickets"), open_tickets),
    spec("urgent_open_tickets", "support", 0, (Current, &[Tickets]), "open urgent tickets", Count("tickets"), urgent_open_tickets),
    spec("ticket_trend", "support", 30, (TwoWindows, &[Tickets]), "new tickets against the window before", Number, ticket_trend),
    spec("median_first_response_hours", "support", 90, (Window, &[Tickets]), "median first response (hours)", Number, median_first_response_hours),
    spec("ticket_satisfaction", "support", 90, (Window, &[Tickets]), "ticket satisfaction", Number, ticket_satisfaction),
    spec("nps_by_role", "sentiment", 365, (Window, &[Surveys]), "NPS weighted by role", Number, nps_by_role),
    spec("nps_trend", "sentiment", 180, (Window, &[Surveys]), "NPS change over the window", Number, nps_trend),
    spec("csat", "sentiment", 180, (Window, &[Surveys]), "CSAT", Number, csat_measure),
    spec("champion_present", "relationships", 0, (Current, &[]), "has a champion", Flag, champion_present),
    spec("champion_engaged", "relationships", 90, (Window, ENGAGEMENT), "has an engaged champion", Flag, champion_engaged),
    spec("executive_sponsor_engaged", "relationships", 90, (Window, ENGAGEMENT), "has an engaged executive sponsor", Flag, executive_sponsor_engaged),
    spec("champion_departures", "relationships", 90, (Current, &[]), "champion departures", Count("departures"), champion_departures),
    spec("days_since_csm_touch", "relationships", 0, (Latest, &[Activities]), "days since the last CSM touch", Count("days"), days_since_csm_touch),
    spec("overdue_invoices", "finance", 0, (Current, &[Invoices]), "overdue invoices", Count("invoices"), overdue_invoices),
    spec("failed_payments", "finance", 90, (Window, &[Payments]), "failed payments", Count("payments"), failed_payments),
    spec("milestones_on_track", "outcomes", 0, (Current, &[]), "success-plan milestones done on time", Share, milestones_on_track),
    spec("contraction_at_last_renewal", "finance", 0, (Current, &[]), "contracted at the last renewal", Flag, contraction_at_last_renewal),
];

pub fn measure(name: &str) -> Option<&'static MeasureSpec> {
    MEASURES.iter().find(|m| m.name == name)
}

fn flag(value: bool) -> Option<f64> {
    Some(if value { 1.0 } else { 0.0 })
}

/// Rollups of the days in [from, to], both inclusive.
fn usage_between<'a>(facts: &AccountFacts<'a>, from: NaiveDate, to: NaiveDate) -> &'a [UsageDaily] {
    let start = facts.usage.partition_point(|u| u.day < from);
    let end = facts.usage.partition_point(|u| u.day <= to);
    &facts.usage[start..end.max(start)]
}

/// Users active in the 30 days ending on the scored day (0 without usage then).
fn monthly_active_users(facts: &AccountFacts, ctx: &Context) -> i64 {
    let last30 = usage_between(facts, days_before(ctx.day, 29), ctx.day);
    last30.last().map_or(0, |u| u.active_users_30d)
}

/// The product an account mainly pays for on `day`: the one with the most ARR among
/// its contracts in force (compared within a currency; the first name on a tie).
pub fn main_product(contracts: &[Contract], day: NaiveDate) -> Option<&str> {
    let mut arr: std::collections::BTreeMap<&str, i64> = Default::default();
    for c in contracts.iter().filter(|c| c.is_active_on(day)) {
        *arr.entry(c.product.as_str()).or_default() += c.arr.minor;
    }
    let best = arr.values().copied().max()?;
    arr.into_iter().find(|&(_, a)| a == best).map(|(p, _)| p)
}

/// 30-day active users ÷ seats of the measured product (the scorecard's
/// `seat_product`, or the main product) under contracts in force: add-on products'
/// units are not seats of the product whose usage is measured.
fn active_users_and_seats(facts: &AccountFacts, ctx: &Context) -> Option<(f64, f64)> {
    let product = ctx
        .seat_product
        .or_else(|| main_product(facts.contracts, ctx.day))?;
    let seats: i64 = facts
        .contracts
        .iter()
        .filter(|c| c.is_active_on(ctx.day) && c.product.eq_ignore_ascii_case(product))
        .map(|c| c.seats)
        .sum();
    (seats > 0).then(|| (monthly_active_users(facts, ctx) as f64, seats as f64))
}

fn license_utilization(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    active_users_and_seats(facts, ctx).map(|(users, seats)| users / seats)
}

/// Mean daily active users over the window ÷ 30-day active users.
fn dau_mau(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let mau = monthly_active_users(facts, ctx);
    if mau == 0 {
        return None;
    }
    let days = usage_between(facts, ctx.window_start(), ctx.day);
    let dau =
        days.iter().map(|u| u.active_users).sum::<i64>() as f64 / f64::from(ctx.window.max(1));
    Some(dau / mau as f64)
}

/// Events in the window ÷ events in the window before it, − 1 (−0.4 is 40% fewer).
fn usage_trend(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let events = |from, to| {
        usage_between(facts, from, to)
            .iter()
            .map(|u| u.events)
            .sum::<i64>()
    };
    let recent = events(ctx.window_start(), ctx.day);
    let before_end = days_before(ctx.window_start(), 1);
    let before = events(
        days_before(before_end, ctx.window.saturating_sub(1)),
        before_end,
    );
    (before > 0).then(|| recent as f64 / before as f64 - 1.0)
}

/// Share of the key features used at least once in the window.
fn feature_adoption(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    key_features_used(facts, ctx).map(|(used, of)| used / of)
}

fn key_features_used(facts: &AccountFacts, ctx: &Context) -> Option<(f64, f64)> {
    if ctx.key_features.is_empty() {
        return None;
    }
    // Each distinct event name of the window is matched once against the patterns:
    // a window has a few distinct names over many days.
    let mut seen: Vec<&str> = Vec::new();
    for u in usage_between(facts, ctx.window_start(), ctx.day) {
        for (event, &n) in &u.feature_events {
            if n > 0 && !seen.contains(&event.as_str()) {
                seen.push(event);
            }
        }
    }
    let used = ctx
        .key_features
        .iter()
        .filter(|f| seen.iter().any(|event| f.matches(event)))
        .count();
    Some((used as f64, ctx.key_features.len() as f64))
}

fn days_since_last_activity(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let known = usage_between(facts, NaiveDate::MIN, ctx.day);
    known
        .iter()
        .rev()
        .find(|u| u.events > 0)
        .map(|u| (ctx.day - u.day).num_days() as f64)
}

/// Open at the end of the day: created by then and not solved by then.
fn open_on(ticket: &Ticket, end: DateTime<Utc>) -> bool {
    ticket.created_at < end && ticket.solved_at.is_none_or(|solved| solved >= end)
}

fn open_tickets(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let end = ctx.end_of_day();
    Some(facts.tickets.iter().filter(|t| open_on(t, end)).count() as f64)
}

fn urgent_open_tickets(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let end = ctx.end_of_day();
    let urgent = facts
        .tickets
        .iter()
        .filter(|t| t.priority == TicketPriority::Urgent && open_on(t, end))
        .count();
    Some(urgent as f64)
}

/// Tickets opened in the window minus tickets opened in the window before it.
fn ticket_trend(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let (start, end) = ctx.window_times();
    let before = start_of(days_before(ctx.window_start(), ctx.window));
    let count = |from, to| {
        facts
            .tickets
            .iter()
            .filter(|t| t.created_at >= from && t.created_at < to)
            .count()
    };
    Some(count(start, end) as f64 - count(before, start) as f64)
}

/// Tickets created in the window (and answered by the scored day).
fn tickets_in_window<'a>(
    facts: &AccountFacts<'a>,
    ctx: &Context,
) -> impl Iterator<Item = &'a Ticket> {
    let (start, end) = ctx.window_times();
    facts
        .tickets
        .iter()
        .filter(move |t| t.created_at >= start && t.created_at < end)
}

fn median_first_response_hours(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let end = ctx.end_of_day();
    let mut hours: Vec<f64> = tickets_in_window(facts, ctx)
        .filter_map(|t| {
            t.first_response_at
                .filter(|&r| r < end)
                .map(|r| (r - t.created_at).num_seconds() as f64 / 3600.0)
        })
        .collect();
    hours.sort_by(f64::total_cmp);
    crate::metrics::quantile(&hours, 0.5)
}

fn ticket_satisfaction(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let end = ctx.end_of_day();
    let ratings: Vec<f64> = tickets_in_window(facts, ctx)
        .filter(|t| t.solved_at.is_some_and(|s| s < end))
        .filter_map(|t| t.satisfaction.map(f64::from))
        .collect();
    (!ratings.is_empty()).then(|| ratings.iter().sum::<f64>() / ratings.len() as f64)
}

fn surveys_between<'a>(
    facts: &AccountFacts<'a>,
    kind: SurveyKind,
    from: NaiveDate,
    to: NaiveDate,
) -> impl Iterator<Item = &'a SurveyResponse> {
    let (start, end) = (start_of(from), end_of(to));
    facts
        .surveys
        .iter()
        .filter(move |s| s.kind == kind && s.responded_at >= start && s.responded_at < end)
}

/// Decision makers, sponsors and champions speak for the account; users count half.
fn role_weight(role: ContactRole) -> f64 {
    match role {
        ContactRole::DecisionMaker | ContactRole::ExecutiveSponsor | ContactRole::Champion => 2.0,
        ContactRole::Billing | ContactRole::User => 1.0,
    }
}

/// NPS over each respondent's latest answer in the window, decision makers weighing
/// double: (weight of promoters − weight of detractors) ÷ total weight × 100.
fn nps_by_role(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let mut latest: std::collections::BTreeMap<&str, &SurveyResponse> = Default::default();
    for s in surveys_between(facts, SurveyKind::Nps, ctx.window_start(), ctx.day) {
        let who = s.contact_id.as_deref().unwrap_or(s.id.as_str());
        if latest
            .get(who)
            .is_none_or(|old| old.responded_at < s.responded_at)
        {
            latest.insert(who, s);
        }
    }
    weighted_nps(latest.into_iter().map(|(who, s)| {
        let role = facts
            .contacts
            .iter()
            .find(|c| c.id == who)
            .map_or(ContactRole::User, |c| c.role);
        (s.score, role_weight(role))
    }))
}

/// NPS of the last half of the window minus NPS of the first half.
fn nps_trend(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let half = ctx.window / 2;
    let mid = days_before(ctx.day, half);
    let scores = |from, to| {
        surveys_between(facts, SurveyKind::Nps, from, to)
            .map(|s| s.score)
            .collect::<Vec<_>>()
    };
    let recent = nps(&scores(mid.succ_opt()?, ctx.day))?;
    let before = nps(&scores(days_before(mid, half.saturating_sub(1)), mid))?;
    Some(recent - before)
}

fn csat_measure(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let scores: Vec<i32> = surveys_between(facts, SurveyKind::Csat, ctx.window_start(), ctx.day)
        .map(|s| s.score)
        .collect();
    csat(&scores)
}

/// Contacts in the role at the account on the scored day.
fn contacts_in_role<'a>(
    facts: &AccountFacts<'a>,
    ctx: &Context,
    role: ContactRole,
) -> Vec<&'a Contact> {
    facts
        .contacts
        .iter()
        .filter(|c| c.role == role)
        .filter(|c| {
            c.joined_on.is_none_or(|d| d <= ctx.day) && c.left_on.is_none_or(|d| d > ctx.day)
        })
        .collect()
}

/// Whether any of `contacts` had an activity, ticket or survey answer in the window.
fn engaged(facts: &AccountFacts, ctx: &Context, contacts: &[&Contact]) -> bool {
    let (start, end) = ctx.window_times();
    let within = |at: DateTime<Utc>| at >= start && at < end;
    let theirs = |id: &Option<String>| {
        id.as_deref()
            .is_some_and(|id| contacts.iter().any(|c| c.id == id))
    };
    facts
        .activities
        .iter()
        .any(|a| theirs(&a.contact_id) && within(a.occurred_at))
        || facts
            .tickets
            .iter()
            .any(|t| theirs(&t.contact_id) && within(t.created_at))
        || facts
            .surveys
            .iter()
            .any(|s| theirs(&s.contact_id) && within(s.responded_at))
}

fn champion_present(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    flag(!contacts_in_role(facts, ctx, ContactRole::Champion).is_empty())
}

fn champion_engaged(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    flag(engaged(
        facts,
        ctx,
        &contacts_in_role(facts, ctx, ContactRole::Champion),
    ))
}

fn executive_sponsor_engaged(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    flag(engaged(
        facts,
        ctx,
        &contacts_in_role(facts, ctx, ContactRole::ExecutiveSponsor),
    ))
}

fn champion_departures(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let departed = facts
        .contacts
        .iter()
        .filter(|c| c.role == ContactRole::Champion)
        .filter(|c| {
            c.left_on
                .is_some_and(|d| d >= ctx.window_start() && d <= ctx.day)
        })
        .count();
    Some(departed as f64)
}

fn days_since_csm_touch(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let end = ctx.end_of_day();
    facts
        .activities
        .iter()
        .filter(|a| a.occurred_at < end)
        .map(|a| a.occurred_at.date_naive())
        .max()
        .map(|last| (ctx.day - last).num_days() as f64)
}

/// Invoices past due at the end of the day and not paid by then.
fn overdue_invoices(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let overdue = facts
        .invoices
        .iter()
        .filter(|i| i.status != InvoiceStatus::Void && i.issued_on <= ctx.day && i.due_on < ctx.day)
        .filter(|i| i.paid_on.is_none_or(|paid| paid > ctx.day))
        .count();
    Some(overdue as f64)
}

fn failed_payments(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let (start, end) = ctx.window_times();
    let failed = facts
        .payments
        .iter()
        .filter(|p| {
            p.status == PaymentStatus::Failed && p.attempted_at >= start && p.attempted_at < end
        })
        .count();
    Some(failed as f64)
}

fn of_product<'a>(
    contracts: &'a [Contract],
    product: &'a str,
) -> impl Iterator<Item = &'a Contract> {
    contracts.iter().filter(move |c| c.product == product)
}

/// Whether the latest renewal by the scored day came in below the term it renews.
///
/// A renewal is a new term of a product: contracts starting when no earlier contract
/// of that product is still in force, after one has ended. A contract starting while
/// another of its product is in force is a mid-term add-on, never a renewal. The new
/// term (every contract of the product starting that day) is compared with the term
/// it renews (every contract of the product in force on the old term's last day,
/// add-ons included), in one currency.
/// Of the success plan's milestones due by the day, the share done by their due day
/// (as known on the day); none due yet is no value.
fn milestones_on_track(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let due: Vec<&Milestone> = facts
        .milestones
        .iter()
        .filter(|m| m.due_on <= ctx.day)
        .collect();
    let on_time = due
        .iter()
        .filter(|m| m.done_on.is_some_and(|d| d <= m.due_on && d <= ctx.day))
        .count();
    (!due.is_empty()).then(|| on_time as f64 / due.len() as f64)
}

fn contraction_at_last_renewal(facts: &AccountFacts, ctx: &Context) -> Option<f64> {
    let contracts = facts.contracts;
    let starts_a_term = |c: &Contract| {
        !of_product(contracts, &c.product)
            .any(|p| p.start_date < c.start_date && p.is_active_on(c.start_date))
    };
    let (renewal, previous_end) = facts
        .contracts
        .iter()
        .filter(|c| c.start_date <= ctx.day && starts_a_term(c))
        .filter_map(|c| {
            let previous_end = of_product(contracts, &c.product)
                .filter(|p| p.end_date < c.start_date)
                .map(|p| p.end_date)
                .max()?;
            Some((c, previous_end))
        })
        .max_by_key(|(c, _)| c.start_date)?;
    let term_arr = |contracts: Vec<&Contract>| {
        let currency = contracts.first()?.arr.currency;
        contracts
            .iter()
            .map(|c| (c.arr.currency == currency).then_some(c.arr.minor))
            .sum::<Option<i64>>()
            .map(|minor| (currency, minor))
    };
    let new_term = term_arr(
        of_product(contracts, &renewal.product)
            .filter(|c| c.start_date == renewal.start_date)
            .collect(),
    );
    let old_term = term_arr(
        of_product(contracts, &renewal.product)
            .filter(|c| c.is_active_on(previous_end))
            .collect(),
    );
    match (new_term, old_term) {
        (Some((new_currency, new)), Some((old_currency, old))) if new_currency == old_currency => {
            flag(new < old)
        }
        _ => flag(false),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{
        ActivityKind, ContractStatus, MilestoneKind, MilestoneStatus, TicketStatus,
    };
    use crate::money::{Currency, Money};

    fn date(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn at(m: u32, d: u32, hour: u32) -> DateTime<Utc> {
        date(m, d).and_hms_opt(hour, 0, 0).unwrap().and_utc()
    }

    /// The data of one account, built up by each test.
    #[derive(Default)]
    struct Data {
        contracts: Vec<Contract>,
        contacts: Vec<Contact>,
        usage: Vec<UsageDaily>,
        tickets: Vec<Ticket>,
        surveys: Vec<SurveyResponse>,
        invoices: Vec<Invoice>,
        payments: Vec<Payment>,
        activities: Vec<Activity>,
        milestones: Vec<Milestone>,
    }

    fn account() -> Account {
        Account {
            id: "acme".into(),
            name: "Acme".into(),
            parent_id: None,
            segment: Some("mid".into()),
            tier: None,
            industry: None,
            region: None,
            lifecycle_stage: None,
            csm_owner: None,
            am_owner: None,
            created_on: date(1, 1),
            churned_on: None,
            churn_reason: None,
        }
    }

    impl Data {
        fn value(&self, name: &str, day: NaiveDate, key_features: &[KeyFeature]) -> Option<f64> {
            let account = account();
            let facts = AccountFacts {
                account: &account,
                contracts: &self.contracts,
                contacts: &self.contacts,
                usage: &self.usage,
                tickets: &self.tickets,
                surveys: &self.surveys,
                invoices: &self.invoices,
                payments: &self.payments,
                activities: &self.activities,
                milestones: &self.milestones,
            };
            let spec = measure(name).unwrap();
            let ctx = Context {
                day,
                window: spec.window,
                key_features,
                seat_product: None,
            };
            (spec.compute)(&facts, &ctx)
        }

        fn at(&self, name: &str, day: NaiveDate) -> Option<f64> {
            self.value(name, day, &[])
        }

        fn contract(&mut self, seats: i64, arr: i64, start: NaiveDate, end: NaiveDate) {
            self.product_contract("Platform", seats, arr, start, end);
        }

        fn product_contract(
            &mut self,
            product: &str,
            seats: i64,
            arr: i64,
            start: NaiveDate,
            end: NaiveDate,
        ) {
            self.contracts.push(Contract {
                id: format!("c{}", self.contracts.len()),
                account_id: "acme".into(),
                product: product.into(),
                seats,
                arr: Money::new(arr, Currency::USD),
                start_date: start,
                end_date: end,
                renewal_date: end.succ_opt().unwrap(),
                auto_renew: false,
                notice_days: 30,
                status: ContractStatus::Active,
            });
        }

        fn usage(&mut self, day: NaiveDate, events: i64, dau: i64, mau: i64, features: &[&str]) {
            self.usage.push(UsageDaily {
                account_id: "acme".into(),
                day,
                events,
                active_users: dau,
                active_users_30d: mau,
                feature_events: features
                    .iter()
                    .map(|f| (f.to_string(), 1))
                    .collect::<BTreeMap<_, _>>(),
            });
        }

        fn contact(&mut self, id: &str, role: ContactRole, left_on: Option<NaiveDate>) {
            self.contacts.push(Contact {
                id: id.into(),
                account_id: "acme".into(),
                name: id.into(),
                email: None,
                title: None,
                role,
                joined_on: None,
                left_on,
            });
        }

        fn ticket(
            &mut self,
            priority: TicketPriority,
            created: DateTime<Utc>,
            answered_hours: Option<i64>,
            solved: Option<DateTime<Utc>>,
            rating: Option<i32>,
        ) {
            self.tickets.push(Ticket {
                id: format!("t{}", self.tickets.len()),
                account_id: "acme".into(),
                contact_id: None,
                subject: "help".into(),
                priority,
                status: if solved.is_some() {
                    TicketStatus::Solved
                } else {
                    TicketStatus::Open
                },
                created_at: created,
                first_response_at: answered_hours.map(|h| created + chrono::Duration::hours(h)),
                solved_at: solved,
                satisfaction: rating,
            });
        }

        fn survey(&mut self, kind: SurveyKind, contact: &str, score: i32, when: DateTime<Utc>) {
            self.surveys.push(SurveyResponse {
                id: format!("s{}", self.surveys.len()),
                account_id: "acme".into(),
                contact_id: Some(contact.into()),
                kind,
                score,
                comment: None,
                campaign: None,
                responded_at: when,
            });
        }

        fn activity(&mut self, contact: Option<&str>, when: DateTime<Utc>) {
            self.activities.push(Activity {
                id: format!("a{}", self.activities.len()),
                account_id: "acme".into(),
                contact_id: contact.map(Into::into),
                kind: ActivityKind::Meeting,
                author: "csm".into(),
                occurred_at: when,
                subject: "sync".into(),
                body: None,
            });
        }
    }

    #[test]
    fn milestones_on_track_is_the_share_due_that_was_done_in_time() {
        let mut d = Data::default();
        assert_eq!(d.at("milestones_on_track", date(6, 30)), None);
        let milestone = |id: &str, due: NaiveDate, done: Option<NaiveDate>| Milestone {
            id: id.into(),
            account_id: "acme".into(),
            objective_id: None,
            title: id.into(),
            kind: MilestoneKind::Onboarding,
            due_on: due,
            owner: None,
            status: if done.is_some() {
                MilestoneStatus::Done
            } else {
                MilestoneStatus::Planned
            },
            done_on: done,
        };
        d.milestones
            .push(milestone("kickoff", date(3, 1), Some(date(2, 27))));
        d.milestones
            .push(milestone("plan", date(4, 1), Some(date(4, 9))));
        d.milestones.push(milestone("training", date(5, 1), None));
        d.milestones.push(milestone("value", date(8, 1), None));
        assert_eq!(d.at("milestones_on_track", date(3, 31)), Some(1.0));
        assert_eq!(d.at("milestones_on_track", date(6, 30)), Some(1.0 / 3.0));
        // Done before the day asked about only counts once known.
        assert_eq!(d.at("milestones_on_track", date(2, 26)), None);
    }

    #[test]
    fn license_utilization_is_monthly_users_over_seats_in_force() {
        let mut d = Data::default();
        assert_eq!(
            d.at("license_utilization", date(6, 30)),
            None,
            "no contract, no seats"
        );
        d.contract(50, 100_000, date(1, 1), date(12, 31));
        d.usage(date(6, 20), 300, 12, 41, &[]);
        d.usage(date(6, 29), 100, 9, 17, &[]);
        assert_eq!(d.at("license_utilization", date(6, 30)), Some(17.0 / 50.0));
        // The June 29 rollup is not known on June 25.
        assert_eq!(d.at("license_utilization", date(6, 25)), Some(41.0 / 50.0));
        assert_eq!(
            d.at("license_utilization", date(9, 30)),
            Some(0.0),
            "no usage in 30 days"
        );
    }

    #[test]
    fn dau_over_mau_averages_daily_users_across_the_window() {
        let mut d = Data::default();
        assert_eq!(d.at("dau_mau", date(6, 30)), None);
        d.usage(date(6, 10), 50, 6, 10, &[]);
        d.usage(date(6, 30), 50, 9, 12, &[]);
        assert_eq!(d.at("dau_mau", date(6, 30)), Some((15.0 / 30.0) / 12.0));
    }

    #[test]
    fn usage_trend_compares_the_window_with_the_one_before() {
        let mut d = Data::default();
        d.usage(date(5, 10), 200, 5, 5, &[]);
        assert_eq!(
            d.at("usage_trend", date(5, 31)),
            None,
            "nothing before to compare with"
        );
        d.usage(date(6, 10), 50, 5, 5, &[]);
        // 50 events in May 31 … June 29, 200 in May 1 … May 30.
        assert_eq!(d.at("usage_trend", date(6, 29)), Some(50.0 / 200.0 - 1.0));
    }

    #[test]
    fn feature_adoption_counts_key_features_used_in_the_window() {
        let mut d = Data::default();
        let event = |name: &str| KeyFeature::new(name.into(), vec![name.into()]);
        let keys = vec![event("reports"), event("alerts"), event("api")];
        d.usage(date(4, 1), 10, 1, 1, &["api"]);
        d.usage(date(6, 20), 10, 1, 1, &["Reports", "export"]);
        assert_eq!(
            d.value("feature_adoption", date(6, 30), &keys),
            Some(1.0 / 3.0),
            "names match without regard to case"
        );
        assert_eq!(d.value("feature_adoption", date(6, 30), &[]), None);
    }

    #[test]
    fn key_features_match_segment_style_event_names_by_pattern() {
        let mut d = Data::default();
        let keys = vec![
            KeyFeature::new("dashboards".into(), vec!["Dashboard *".into()]),
            KeyFeature::new(
                "reports".into(),
                vec!["Report Exported".into(), "Report Shared".into()],
            ),
            KeyFeature::new("alerts".into(), vec!["Alert *".into()]),
        ];
        d.usage(
            date(6, 20),
            10,
            1,
            1,
            &["Dashboard Viewed", "report shared", "Alerting Set"],
        );
        assert_eq!(
            d.value("feature_adoption", date(6, 30), &keys),
            Some(2.0 / 3.0),
            "\"Alerting Set\" is not \"Alert *\""
        );
    }

    #[test]
    fn utilization_counts_the_seats_of_the_main_product_only() {
        let mut d = Data::default();
        d.contract(50, 100_000, date(1, 1), date(12, 31));
        // A mid-term add-on of the same product adds seats; another product's units
        // (API credits, a module) are not seats of the product whose use is measured.
        d.contract(10, 20_000, date(4, 1), date(12, 31));
        d.product_contract("Analytics add-on", 500, 15_000, date(1, 1), date(12, 31));
        d.usage(date(6, 29), 100, 9, 30, &[]);
        assert_eq!(d.at("license_utilization", date(6, 30)), Some(30.0 / 60.0));
        assert_eq!(main_product(&d.contracts, date(6, 30)), Some("Platform"));
    }

    #[test]
    fn a_mid_term_add_on_is_not_a_renewal() {
        let mut d = Data::default();
        let y2025 = |m, day| NaiveDate::from_ymd_opt(2025, m, day).unwrap();
        d.contract(50, 100_000, y2025(1, 1), y2025(12, 31));
        d.contract(50, 100_000, date(1, 1), date(12, 31));
        // An add-on of the same product in the middle of the 2026 term.
        d.contract(10, 20_000, date(5, 1), date(12, 31));
        assert_eq!(
            d.at("contraction_at_last_renewal", date(6, 30)),
            Some(0.0),
            "the add-on is an expansion, not a renewal below 100,000"
        );
        // The 2027 renewal renews the term with its add-on (120,000) at 110,000.
        let y2027 = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        d.contract(55, 110_000, y2027(1, 1), y2027(12, 31));
        assert_eq!(d.at("contraction_at_last_renewal", y2027(2, 1)), Some(1.0));
    }

    #[test]
    fn days_since_last_activity_ignores_quiet_days_and_the_future() {
        let mut d = Data::default();
        assert_eq!(d.at("days_since_last_activity", date(6, 30)), None);
        d.usage(date(6, 1), 10, 1, 1, &[]);
        d.usage(date(6, 5), 0, 0, 1, &[]);
        d.usage(date(7, 5), 10, 1, 1, &[]);
        assert_eq!(d.at("days_since_last_activity", date(6, 30)), Some(29.0));
    }

    #[test]
    fn ticket_measures_read_timestamps_as_of_the_day() {
        let mut d = Data::default();
        d.ticket(
            TicketPriority::Urgent,
            at(6, 1, 9),
            Some(2),
            Some(at(6, 20, 9)),
            Some(2),
        );
        d.ticket(TicketPriority::Normal, at(6, 10, 9), Some(6), None, None);
        d.ticket(TicketPriority::Urgent, at(6, 25, 9), None, None, None);
        d.ticket(
            TicketPriority::Low,
            at(4, 15, 9),
            Some(10),
            Some(at(4, 16, 9)),
            Some(5),
        );
        assert_eq!(d.at("open_tickets", date(6, 15)), Some(2.0));
        assert_eq!(d.at("open_tickets", date(6, 30)), Some(2.0));
        assert_eq!(d.at("urgent_open_tickets", date(6, 15)), Some(1.0));
        assert_eq!(d.at("urgent_open_tickets", date(6, 30)), Some(1.0));
        // June 1 … 30: three tickets; May 2 … 31: none.
        assert_eq!(d.at("ticket_trend", date(6, 30)), Some(3.0));
        assert_eq!(d.at("median_first_response_hours", date(6, 30)), Some(6.0));
        assert_eq!(d.at("ticket_satisfaction", date(6, 30)), Some(3.5));
        assert_eq!(
            d.at("ticket_satisfaction", date(6, 15)),
            Some(5.0),
            "June 1's rating comes on June 20"
        );
    }

    #[test]
    fn nps_by_role_weighs_decision_makers_double_and_keeps_latest_answers() {
        let mut d = Data::default();
        d.contact("boss", ContactRole::DecisionMaker, None);
        d.contact("user", ContactRole::User, None);
        assert_eq!(d.at("nps_by_role", date(6, 30)), None);
        d.survey(SurveyKind::Nps, "boss", 3, at(3, 1, 9));
        d.survey(SurveyKind::Nps, "boss", 10, at(6, 1, 9));
        d.survey(SurveyKind::Nps, "user", 2, at(6, 2, 9));
        // boss promoter (weight 2), user detractor (weight 1): (2 − 1) / 3.
        assert_eq!(d.at("nps_by_role", date(6, 30)), Some(100.0 / 3.0));
        assert_eq!(d.at("nps_by_role", date(5, 1)), Some(-100.0));
    }

    #[test]
    fn nps_trend_and_csat() {
        let mut d = Data::default();
        d.survey(SurveyKind::Nps, "a", 10, at(2, 1, 9));
        d.survey(SurveyKind::Nps, "b", 10, at(5, 1, 9));
        d.survey(SurveyKind::Nps, "c", 0, at(6, 1, 9));
        // Window 180 days to June 30: first half (Jan 2 … Apr 1) NPS 100, second 0.
        assert_eq!(d.at("nps_trend", date(6, 30)), Some(-100.0));
        d.survey(SurveyKind::Csat, "a", 5, at(6, 1, 9));
        d.survey(SurveyKind::Csat, "b", 2, at(6, 2, 9));
        assert_eq!(d.at("csat", date(6, 30)), Some(50.0));
    }

    #[test]
    fn relationship_measures() {
        let mut d = Data::default();
        assert_eq!(d.at("champion_present", date(6, 30)), Some(0.0));
        d.contact("old", ContactRole::Champion, Some(date(6, 10)));
        d.contact("new", ContactRole::Champion, None);
        d.contact("exec", ContactRole::ExecutiveSponsor, None);
        assert_eq!(d.at("champion_present", date(6, 30)), Some(1.0));
        assert_eq!(d.at("champion_departures", date(6, 30)), Some(1.0));
        assert_eq!(d.at("champion_departures", date(6, 5)), Some(0.0));
        assert_eq!(d.at("champion_engaged", date(6, 30)), Some(0.0));
        d.activity(Some("new"), at(6, 15, 10));
        d.activity(Some("exec"), at(1, 15, 10));
        assert_eq!(d.at("champion_engaged", date(6, 30)), Some(1.0));
        assert_eq!(
            d.at("executive_sponsor_engaged", date(6, 30)),
            Some(0.0),
            "last met in January"
        );
        assert_eq!(d.at("days_since_csm_touch", date(6, 30)), Some(15.0));
        assert_eq!(d.at("days_since_csm_touch", date(1, 10)), None);
    }

    #[test]
    fn finance_measures() {
        let mut d = Data::default();
        d.invoices.push(Invoice {
            id: "i1".into(),
            account_id: "acme".into(),
            amount: Money::new(1000, Currency::USD),
            issued_on: date(5, 1),
            due_on: date(5, 31),
            paid_on: Some(date(6, 20)),
            status: InvoiceStatus::Paid,
        });
        assert_eq!(d.at("overdue_invoices", date(6, 10)), Some(1.0));
        assert_eq!(d.at("overdue_invoices", date(6, 30)), Some(0.0));
        d.payments.push(Payment {
            id: "p1".into(),
            invoice_id: "i1".into(),
            account_id: "acme".into(),
            amount: Money::new(1000, Currency::USD),
            attempted_at: at(6, 1, 8),
            status: PaymentStatus::Failed,
            failure_reason: None,
        });
        assert_eq!(d.at("failed_payments", date(6, 30)), Some(1.0));
        assert_eq!(d.at("failed_payments", date(10, 30)), Some(0.0));

        assert_eq!(d.at("contraction_at_last_renewal", date(6, 30)), None);
        d.contract(
            50,
            100_000,
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        );
        d.contract(40, 80_000, date(1, 1), date(12, 31));
        assert_eq!(d.at("contraction_at_last_renewal", date(6, 30)), Some(1.0));
        assert_eq!(
            d.at(
                "contraction_at_last_renewal",
                NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
            ),
            None
        );
    }

    #[test]
    fn every_measure_is_registered_once() {
        let mut names: Vec<&str> = MEASURES.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MEASURES.len());
    }
}
