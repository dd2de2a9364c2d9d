//! Every trigger signal on hand-built data: each holds where it should, with its
//! words, and not on the data just short of it; and the one decision rule.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::triggers::{HealthPoint, Input, RiskPoint, Value};
use super::*;
use crate::health::AccountFacts;
use crate::model::*;
use crate::money::{Currency, Money};

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn at(m: u32, d: u32) -> DateTime<Utc> {
    day(m, d).and_hms_opt(10, 0, 0).unwrap().and_utc()
}

/// One account's data, built up by each case.
#[derive(Default, Clone)]
struct Data {
    account: Option<Account>,
    contracts: Vec<Contract>,
    contacts: Vec<Contact>,
    usage: Vec<UsageDaily>,
    tickets: Vec<Ticket>,
    surveys: Vec<SurveyResponse>,
    invoices: Vec<Invoice>,
    payments: Vec<Payment>,
    activities: Vec<Activity>,
    health: Vec<HealthPoint>,
    risk: Vec<RiskPoint>,
    stages: Vec<(LifecycleStage, NaiveDate)>,
    milestones: Vec<Milestone>,
}

fn account() -> Account {
    Account {
        id: "acme".into(),
        name: "Acme".into(),
        parent_id: None,
        segment: Some("smb".into()),
        tier: Some("gold".into()),
        industry: None,
        region: None,
        lifecycle_stage: None,
        csm_owner: Some("jane".into()),
        am_owner: None,
        created_on: day(1, 1),
        churned_on: None,
        churn_reason: None,
    }
}

impl Data {
    fn new() -> Data {
        Data {
            account: Some(account()),
            ..Data::default()
        }
    }

    /// The account's data as a signal reads it on `on`.
    fn input(&self, on: NaiveDate) -> Input<'_> {
        Input {
            day: on,
            facts: AccountFacts {
                account: self.account.as_ref().unwrap(),
                contracts: &self.contracts,
                contacts: &self.contacts,
                usage: &self.usage,
                tickets: &self.tickets,
                surveys: &self.surveys,
                invoices: &self.invoices,
                payments: &self.payments,
                activities: &self.activities,
                milestones: &self.milestones,
            },
            health: &self.health,
            risk: &self.risk,
            stages: &self.stages,
            key_features: &[],
        }
    }

    /// Whether `signal` with `params` holds on `on`, and its words.
    fn fires(&self, signal: &str, params: &[(&str, Value)], on: NaiveDate) -> Option<String> {
        let spec = trigger(signal).unwrap();
        let given: Vec<(String, Value)> = params
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect();
        spec.fires(&self.input(on), &spec.params_with(&given))
            .map(|e| e.words)
    }

    fn contract(&mut self, seats: i64, start: NaiveDate, renewal: NaiveDate) {
        self.contracts.push(Contract {
            id: format!("c{}", self.contracts.len()),
            account_id: "acme".into(),
            product: "Platform".into(),
            seats,
            arr: Money::new(1_200_000, Currency::USD),
            start_date: start,
            end_date: renewal.pred_opt().unwrap(),
            renewal_date: renewal,
            auto_renew: false,
            notice_days: 30,
            status: ContractStatus::Active,
        });
    }

    /// `events` a day with `users` monthly active users on each day of `from..=to`.
    fn usage(&mut self, from: NaiveDate, to: NaiveDate, events: i64, users: i64) {
        let mut d = from;
        while d <= to {
            self.usage.push(UsageDaily {
                account_id: "acme".into(),
                day: d,
                events,
                active_users: users.min(events),
                active_users_30d: users,
                feature_events: BTreeMap::new(),
            });
            d = d.succ_opt().unwrap();
        }
    }

    fn contact(&mut self, id: &str, role: ContactRole, left_on: Option<NaiveDate>) {
        self.contacts.push(Contact {
            id: id.into(),
            account_id: "acme".into(),
            name: id.into(),
            email: Some(format!("{id}@acme.example")),
            title: None,
            role,
            joined_on: None,
            left_on,
        });
    }

    fn invoice(&mut self, id: &str, due: NaiveDate, paid: Option<NaiveDate>) {
        self.invoices.push(Invoice {
            id: id.into(),
            account_id: "acme".into(),
            amount: Money::new(100_000, Currency::USD),
            issued_on: due - chrono::Days::new(30),
            due_on: due,
            paid_on: paid,
            status: if paid.is_some() {
                InvoiceStatus::Paid
            } else {
                InvoiceStatus::Open
            },
        });
    }

    fn payment(&mut self, invoice: &str, when: DateTime<Utc>, ok: bool) {
        self.payments.push(Payment {
            id: format!("p{}", self.payments.len()),
            invoice_id: invoice.into(),
            account_id: "acme".into(),
            amount: Money::new(100_000, Currency::USD),
            attempted_at: when,
            status: if ok {
                PaymentStatus::Succeeded
            } else {
                PaymentStatus::Failed
            },
            failure_reason: (!ok).then(|| "card declined".into()),
        });
    }

    fn ticket(&mut self, when: DateTime<Utc>) {
        self.tickets.push(Ticket {
            id: format!("t{}", self.tickets.len()),
            account_id: "acme".into(),
            contact_id: None,
            subject: "help".into(),
            priority: TicketPriority::Normal,
            status: TicketStatus::Open,
            created_at: when,
            first_response_at: None,
            solved_at: None,
            satisfaction: None,
        });
    }

    fn nps(&mut self, contact: &str, score: i32, when: DateTime<Utc>) {
        self.surveys.push(SurveyResponse {
            id: format!("s{}", self.surveys.len()),
            account_id: "acme".into(),
            contact_id: Some(contact.into()),
            kind: SurveyKind::Nps,
            score,
            comment: None,
            campaign: None,
            responded_at: when,
        });
    }

    fn health(&mut self, on: NaiveDate, score: f64, band: &str) {
        self.health.push(HealthPoint {
            day: on,
            score: Some(score),
            band: band.into(),
        });
    }

    fn risk(&mut self, on: NaiveDate, probability: f64, band: &str) {
        self.risk.push(RiskPoint {
            day: on,
            probability,
            band: band.into(),
        });
    }
}

fn n(x: f64) -> Value {
    Value::Number(x)
}

fn t(x: &str) -> Value {
    Value::Text(x.into())
}

/// Holds on `yes` with words containing `says`, and not on `no`.
fn check(
    data: &Data,
    signal: &str,
    params: &[(&str, Value)],
    yes: NaiveDate,
    no: NaiveDate,
    says: &str,
) {
    let words = data.fires(signal, params, yes);
    assert!(
        words.as_deref().is_some_and(|w| w.contains(says)),
        "{signal} on {yes}: {words:?}, wanted {says:?}"
    );
    assert_eq!(data.fires(signal, params, no), None, "{signal} on {no}");
}

#[test]
fn customer_holds_while_the_account_is_one() {
    let mut data = Data::new();
    data.account.as_mut().unwrap().churned_on = Some(day(6, 1));
    check(
        &data,
        "customer",
        &[],
        day(5, 31),
        day(6, 1),
        "is a customer",
    );
}

#[test]
fn health_signals_read_the_stored_health() {
    let mut data = Data::new();
    data.health(day(5, 1), 80.0, "green");
    data.health(day(5, 20), 72.0, "green");
    data.health(day(6, 1), 38.0, "red");
    check(
        &data,
        "health_band",
        &[("band", t("red"))],
        day(6, 2),
        day(5, 20),
        "health is red (score 38)",
    );
    // A snapshot older than a few days is not the account's state.
    assert_eq!(
        data.fires("health_band", &[("band", t("red"))], day(6, 10)),
        None
    );
    check(
        &data,
        "health_band_changed",
        &[("to", t(""))],
        day(6, 1),
        day(5, 20),
        "from green to red",
    );
    assert_eq!(
        data.fires("health_band_changed", &[("to", t("yellow"))], day(6, 1)),
        None
    );
    check(
        &data,
        "health_dropped",
        &[("points", n(40.0)), ("days", n(31.0))],
        day(6, 1),
        day(5, 20),
        "fell from 80 on 2026-05-01 to 38",
    );
    // Further back than the days asked for, the peak does not count.
    assert!(data
        .fires(
            "health_dropped",
            &[("points", n(40.0)), ("days", n(30.0))],
            day(6, 1)
        )
        .is_none());
}

#[test]
fn usage_signals_compare_30_days_with_the_30_before() {
    let mut data = Data::new();
    data.contract(10, day(1, 1), day(12, 31));
    data.usage(day(3, 1), day(4, 30), 100, 8);
    data.usage(day(5, 1), day(5, 30), 40, 3);
    check(
        &data,
        "usage_dropped",
        &[("percent", n(50.0))],
        day(5, 30),
        day(4, 30),
        "fell 60%",
    );
    assert_eq!(
        data.fires("usage_dropped", &[("percent", n(70.0))], day(5, 30)),
        None
    );
    let mut growing = Data::new();
    growing.usage(day(3, 1), day(3, 30), 10, 2);
    growing.usage(day(3, 31), day(4, 29), 30, 2);
    check(
        &growing,
        "usage_grew",
        &[("percent", n(150.0))],
        day(4, 29),
        day(3, 30),
        "grew 200%",
    );
    check(
        &data,
        "utilization_below",
        &[("share", n(0.5))],
        day(5, 30),
        day(4, 30),
        "30% of the seats",
    );
    check(
        &data,
        "utilization_above",
        &[("share", n(0.7))],
        day(4, 30),
        day(5, 30),
        "80% of the seats",
    );
    check(
        &data,
        "no_activity",
        &[("days", n(30.0))],
        day(6, 29),
        day(6, 28),
        "no product use for 30 days",
    );
}

/// `start` events a day on `from`, `step` more (or fewer) each day after, to `to`.
fn sloped_usage(data: &mut Data, from: NaiveDate, to: NaiveDate, start: f64, step: f64) {
    let mut d = from;
    let mut events = start;
    while d <= to {
        data.usage(d, d, events.round() as i64, 5);
        events += step;
        d = d.succ_opt().unwrap();
    }
}

#[test]
fn usage_declining_tells_a_steady_fade_from_a_step_or_a_dip() {
    let params = [("percent", n(25.0)), ("weeks", n(9.0)), ("fit", n(0.8))];
    // Flat until March, then a little less each day: 40% down over the nine weeks
    // ending on May 5 (63 days from March 4).
    let mut fade = Data::new();
    fade.usage(day(1, 1), day(3, 3), 100, 5);
    sloped_usage(&mut fade, day(3, 4), day(5, 5), 100.0, -40.0 / 62.0);
    check(
        &fade,
        "usage_declining",
        &params,
        day(5, 5),
        day(3, 20),
        // Week totals: the first week 98 a day on average, the last 62.
        "product use fell 37% over 9 weeks",
    );
    assert_eq!(
        fade.fires("usage_declining", &[("percent", n(50.0))], day(5, 5)),
        None,
        "less than half"
    );
    // The same fall at once, half-way: a line explains only 75% of it.
    let mut step = Data::new();
    step.usage(day(1, 1), day(3, 31), 100, 5);
    step.usage(day(4, 1), day(5, 5), 60, 5);
    assert_eq!(step.fires("usage_declining", &params, day(5, 5)), None);
    assert!(step
        .fires("usage_declining", &[("fit", n(0.7))], day(5, 5))
        .is_some());
    // A dip of two weeks that recovers.
    let mut dip = Data::new();
    dip.usage(day(1, 1), day(3, 31), 100, 5);
    dip.usage(day(4, 1), day(4, 14), 50, 5);
    dip.usage(day(4, 15), day(5, 5), 100, 5);
    assert_eq!(dip.fires("usage_declining", &params, day(5, 5)), None);
    // An account younger than the window is not judged on it.
    let mut young = fade.clone();
    young.account.as_mut().unwrap().created_on = day(3, 10);
    assert_eq!(young.fires("usage_declining", &params, day(5, 5)), None);
}

#[test]
fn a_trigger_holds_only_where_its_own_conditions_do() {
    let playbook = playbook(
        "
[[playbook]]
name = \"fading\"
[[playbook.trigger]]
signal = \"usage_declining\"
when = { health_band = [\"yellow\", \"red\"] }
[[playbook.trigger]]
signal = \"invoice_overdue\"
[playbook.task]
kind = \"risk\"
title = \"Call {account}\"
assign = \"csm\"
",
    );
    assert_eq!(
        playbook.triggers[0].words(),
        "product use fell 25% or more over 10 weeks along a steady line (fit R² at least 0.8) while health is yellow or red"
    );
    let mut data = Data::new();
    data.usage(day(1, 1), day(2, 24), 100, 5);
    sloped_usage(&mut data, day(2, 25), day(5, 5), 100.0, -0.6);
    data.health(day(5, 5), 72.0, "green");
    let fresh = PlaybookState::default();
    assert_eq!(
        decide(&playbook, &data.input(day(5, 5)), None, &fresh),
        Decision::Nothing,
        "fading while green"
    );
    data.health(day(5, 6), 55.0, "yellow");
    let Decision::Fire(firing) = decide(&playbook, &data.input(day(5, 6)), None, &fresh) else {
        panic!("fading while yellow fires")
    };
    assert_eq!(firing.signal, "usage_declining");
    // A mistake in a trigger's conditions names the trigger.
    let text = "
[[playbook]]
name = \"fading\"
[[playbook.trigger]]
signal = \"usage_declining\"
when = { lifecycle_stage = [\"dormant\"] }
[playbook.task]
kind = \"risk\"
title = \"Call {account}\"
assign = \"csm\"
";
    let file: PlaybookFile = toml::from_str(text).unwrap();
    let err = file.validate().unwrap_err();
    assert_eq!(
        err.at,
        FilePath::default()
            .key("playbook")
            .index(0)
            .key("trigger")
            .index(0)
            .key("when")
            .key("lifecycle_stage")
            .index(0)
    );
}

#[test]
fn feature_adoption_counts_the_key_features() {
    let mut data = Data::new();
    data.usage(day(5, 1), day(5, 30), 10, 2);
    data.usage[3].feature_events.insert("Report Run".into(), 2);
    let features: Vec<crate::health::scorecard::KeyFeature> =
        toml::from_str::<BTreeMap<String, Vec<crate::health::scorecard::KeyFeature>>>(
            "f = [\"Report Run\", \"Alert Set\", \"Export\"]",
        )
        .unwrap()
        .remove("f")
        .unwrap();
    let spec = trigger("feature_adoption_below").unwrap();
    let account = account();
    let input = |on| Input {
        day: on,
        facts: AccountFacts {
            account: &account,
            contracts: &[],
            contacts: &[],
            usage: &data.usage,
            tickets: &[],
            surveys: &[],
            invoices: &[],
            payments: &[],
            activities: &[],
            milestones: &[],
        },
        health: &[],
        risk: &[],
        stages: &[],
        key_features: &features,
    };
    let params = spec.params_with(&[("share".into(), n(0.5))]);
    let words = spec.fires(&input(day(5, 30)), &params).unwrap().words;
    assert_eq!(words, "33% of the key features were used in 30 days");
    let params = spec.params_with(&[("share".into(), n(0.3))]);
    assert!(spec.fires(&input(day(5, 30)), &params).is_none());
}

#[test]
fn relationship_signals_read_contacts_and_their_engagement() {
    let mut data = Data::new();
    data.contact("chris", ContactRole::Champion, Some(day(5, 10)));
    check(
        &data,
        "champion_left",
        &[("days", n(30.0))],
        day(6, 8),
        day(6, 9),
        "champion chris left on 2026-05-10",
    );
    assert_eq!(
        data.fires("champion_left", &[("days", n(30.0))], day(5, 9)),
        None
    );
    data.contact("sam", ContactRole::ExecutiveSponsor, None);
    data.activities.push(Activity {
        id: "a1".into(),
        account_id: "acme".into(),
        contact_id: Some("sam".into()),
        kind: ActivityKind::Meeting,
        author: "jane".into(),
        occurred_at: at(4, 1),
        subject: "QBR".into(),
        body: None,
    });
    check(
        &data,
        "sponsor_silent",
        &[("days", n(60.0))],
        day(5, 31),
        day(5, 30),
        "since 2026-04-01",
    );
    data.nps("sam", 8, at(6, 15));
    assert_eq!(
        data.fires("sponsor_silent", &[("days", n(60.0))], day(7, 1)),
        None
    );
}

#[test]
fn billing_signals_clear_when_the_invoice_is_paid() {
    let mut data = Data::new();
    data.invoice("inv1", day(5, 1), Some(day(5, 20)));
    data.payment("inv1", at(5, 2), false);
    data.payment("inv1", at(5, 20), true);
    check(
        &data,
        "payment_failed",
        &[("days", n(30.0))],
        day(5, 19),
        day(5, 20),
        "invoice inv1 failed on 2026-05-02 (card declined)",
    );
    check(
        &data,
        "invoice_overdue",
        &[("days", n(7.0))],
        day(5, 8),
        day(5, 7),
        "invoice inv1 was due on 2026-05-01",
    );
    assert_eq!(
        data.fires("invoice_overdue", &[("days", n(7.0))], day(5, 20)),
        None,
        "paid"
    );
}

#[test]
fn support_and_sentiment_signals() {
    let mut data = Data::new();
    data.contact("chris", ContactRole::Champion, None);
    data.nps("chris", 4, at(5, 2));
    check(
        &data,
        "detractor",
        &[("days", n(30.0)), ("score", n(6.0))],
        day(5, 31),
        day(6, 1),
        "answered NPS with 4",
    );
    assert_eq!(
        data.fires(
            "detractor",
            &[("days", n(30.0)), ("score", n(3.0))],
            day(5, 31)
        ),
        None
    );
    data.ticket(at(4, 10));
    for d in [3, 9, 15, 21] {
        data.ticket(at(5, d));
    }
    check(
        &data,
        "ticket_surge",
        &[("count", n(3.0)), ("ratio", n(2.0))],
        day(5, 30),
        day(5, 14),
        "4 tickets in 30 days against 1",
    );
}

#[test]
fn lifecycle_signals() {
    let mut data = Data::new();
    data.contract(10, day(3, 1), day(9, 1));
    check(
        &data,
        "contract_started",
        &[("days", n(14.0))],
        day(3, 15),
        day(3, 16),
        "started on 2026-03-01",
    );
    check(
        &data,
        "renewal_within",
        &[("days", n(120.0))],
        day(5, 4),
        day(5, 3),
        "renews on 2026-09-01 in 120 days",
    );
    // A renewed term ends the old term's renewal.
    data.contract(10, day(9, 1), day(12, 31));
    assert!(data
        .fires("renewal_within", &[("days", n(90.0))], day(9, 2))
        .is_none());
    data.stages.push((LifecycleStage::Adoption, day(4, 1)));
    check(
        &data,
        "stage_entered",
        &[("stage", t("adoption")), ("days", n(14.0))],
        day(4, 15),
        day(4, 16),
        "entered stage adoption on 2026-04-01",
    );
    data.milestones.push(Milestone {
        id: "m1".into(),
        account_id: "acme".into(),
        objective_id: None,
        title: "First report live".into(),
        kind: MilestoneKind::Value,
        due_on: day(4, 30),
        owner: None,
        status: MilestoneStatus::InProgress,
        done_on: Some(day(5, 10)),
    });
    check(
        &data,
        "milestone_overdue",
        &[("kind", t("value")), ("days", n(3.0))],
        day(5, 4),
        day(5, 3),
        "\"First report live\" was due on 2026-04-30",
    );
    assert!(
        data.fires(
            "milestone_overdue",
            &[("kind", t("value")), ("days", n(3.0))],
            day(5, 10)
        )
        .is_none(),
        "done"
    );
    assert!(data
        .fires(
            "milestone_overdue",
            &[("kind", t("onboarding")), ("days", n(0.0))],
            day(5, 4)
        )
        .is_none());
    let mut gone = Data::new();
    gone.account.as_mut().unwrap().churned_on = Some(day(2, 1));
    gone.account.as_mut().unwrap().churn_reason = Some("budget".into());
    check(
        &gone,
        "churned",
        &[("days", n(90.0)), ("within", n(30.0))],
        day(5, 2),
        day(5, 1),
        "churned on 2026-02-01 (budget)",
    );
    assert!(gone
        .fires(
            "churned",
            &[("days", n(90.0)), ("within", n(30.0))],
            day(6, 1)
        )
        .is_none());
}

#[test]
fn risk_signals_read_the_stored_risk() {
    let mut data = Data::new();
    data.risk(day(4, 1), 0.05, "low");
    data.risk(day(5, 1), 0.40, "high");
    check(
        &data,
        "risk_band",
        &[("band", t("high"))],
        day(5, 2),
        day(4, 30),
        "churn risk is high (40% on 2026-05-01)",
    );
    check(
        &data,
        "risk_band_changed",
        &[("to", t("high"))],
        day(5, 1),
        day(4, 2),
        "from low to high",
    );
}

fn playbook(text: &str) -> Playbook {
    let file: PlaybookFile = toml::from_str(text).unwrap();
    file.validate().unwrap().remove(0)
}

const OVERDUE: &str = "
[[playbook]]
name = \"dunning\"
reentry_days = 30
[[playbook.trigger]]
signal = \"invoice_overdue\"
days = 0
[playbook.when]
segment = [\"smb\"]
[playbook.task]
kind = \"risk\"
title = \"Collect {account}: {evidence}\"
assign = \"csm\"
";

#[test]
fn decide_fires_once_closes_when_cleared_and_waits_to_reenter() {
    let mut data = Data::new();
    data.invoice("inv1", day(5, 1), Some(day(5, 10)));
    data.invoice("inv2", day(6, 1), None);
    let playbook = playbook(OVERDUE);
    let decide_on =
        |on: NaiveDate, state: &PlaybookState| decide(&playbook, &data.input(on), None, state);
    let fresh = PlaybookState::default();
    let Decision::Fire(firing) = decide_on(day(5, 2), &fresh) else {
        panic!("an overdue invoice fires the playbook")
    };
    assert_eq!(firing.signal, "invoice_overdue");
    assert_eq!(
        Playbook::fill(&playbook.task.title, "Acme", &firing.evidence),
        "Collect Acme: invoice inv1 was due on 2026-05-01 and is unpaid"
    );
    assert_eq!(firing.evidence.records, [("invoice", "inv1".to_string())]);
    let open = PlaybookState {
        open_task: Some(7),
        last_closed: None,
    };
    assert_eq!(
        decide_on(day(5, 3), &open),
        Decision::Nothing,
        "one open task"
    );
    let Decision::Close { task_id, reason } = decide_on(day(5, 10), &open) else {
        panic!("paid: the task closes")
    };
    assert_eq!(task_id, 7);
    assert!(
        reason.starts_with("the trigger cleared: no longer an invoice is unpaid 0 days"),
        "{reason}"
    );
    let closed = PlaybookState {
        open_task: None,
        last_closed: Some(day(5, 10)),
    };
    assert_eq!(
        decide_on(day(6, 2), &closed),
        Decision::Nothing,
        "within the re-entry period"
    );
    assert!(matches!(decide_on(day(6, 9), &closed), Decision::Fire(_)));
    // Conditions: another segment is left alone.
    let mut other = playbook.clone();
    other.conditions.segment = vec!["enterprise".into()];
    assert!(!other.applies_to(&data.input(day(6, 9)), None));
}

#[test]
fn every_signal_has_its_own_name_and_words_for_its_parameters() {
    let mut names: Vec<&str> = TRIGGERS.iter().map(|t| t.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), TRIGGERS.len());
    for spec in TRIGGERS {
        for param in spec.params {
            assert!(
                spec.words.contains(&format!("{{{}}}", param.name)),
                "{}: the words name {{{}}}",
                spec.name,
                param.name
            );
        }
    }
}
