//! One account's whole life: its health path, contracts and renewals, people, usage,
//! tickets, surveys, invoices and touches.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, LogNormal, Normal, Poisson};
use tend_core::*;

use crate::names::*;
use crate::{Company, DemoConfig};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Segment {
    Enterprise,
    MidMarket,
    Smb,
}

impl Segment {
    fn name(self) -> &'static str {
        match self {
            Segment::Enterprise => "enterprise",
            Segment::MidMarket => "mid-market",
            Segment::Smb => "smb",
        }
    }

    /// Median ARR in dollars and the spread of its lognormal.
    fn arr_distribution(self) -> (f64, f64) {
        match self {
            Segment::Enterprise => (220_000.0, 0.6),
            Segment::MidMarket => (48_000.0, 0.5),
            Segment::Smb => (9_000.0, 0.55),
        }
    }

    fn price_per_seat(self) -> f64 {
        match self {
            Segment::Enterprise => 360.0,
            Segment::MidMarket => 420.0,
            Segment::Smb => 480.0,
        }
    }

    /// Log-odds of churning at a renewal for an average account of the segment.
    fn base_churn_logit(self) -> f64 {
        match self {
            Segment::Enterprise => -3.3,
            Segment::MidMarket => -2.7,
            Segment::Smb => -2.0,
        }
    }

    fn tickets_per_month(self) -> f64 {
        match self {
            Segment::Enterprise => 3.5,
            Segment::MidMarket => 1.3,
            Segment::Smb => 0.45,
        }
    }

    fn touches_per_month(self) -> f64 {
        match self {
            Segment::Enterprise => 6.0,
            Segment::MidMarket => 2.5,
            Segment::Smb => 0.6,
        }
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn weighted<'a>(rng: &mut ChaCha8Rng, choices: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (choice, weight) in choices {
        if pick < *weight {
            return choice;
        }
        pick -= weight;
    }
    choices[0].0
}

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().expect("lists are not empty")
}

fn at(day: NaiveDate, seconds: i64) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight")) + Duration::seconds(seconds)
}

fn business_time(rng: &mut ChaCha8Rng, day: NaiveDate) -> DateTime<Utc> {
    at(day, rng.random_range(8 * 3600..18 * 3600))
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The account's latent state, month by month.
struct Life {
    /// Health level per month since `origin` (first of the creation month).
    health: Vec<f64>,
    origin: NaiveDate,
    /// When the account decided to leave, and the renewal it leaves at.
    disengage_from: Option<NaiveDate>,
    churned_on: Option<NaiveDate>,
}

impl Life {
    fn health_on(&self, day: NaiveDate) -> f64 {
        let months = (day.year() - self.origin.year()) * 12 + day.month() as i32
            - self.origin.month() as i32;
        let index = months.clamp(0, self.health.len() as i32 - 1) as usize;
        self.health[index]
    }

    /// 1 before the decision to leave, falling to 0.25 at the churn date.
    fn disengagement(&self, day: NaiveDate) -> f64 {
        match (self.disengage_from, self.churned_on) {
            (Some(from), Some(to)) if day >= from => {
                let span = (to - from).num_days().max(1) as f64;
                let done = ((day - from).num_days() as f64 / span).min(1.0);
                1.0 - 0.75 * done
            }
            _ => 1.0,
        }
    }

    fn is_leaving(&self, day: NaiveDate) -> bool {
        self.disengage_from.is_some_and(|from| day >= from)
    }
}

/// The first draws of an account's random stream: who it is. Kept apart so that any
/// account's segment and start can be recomputed cheaply, as subsidiaries need.
fn identity(config: &DemoConfig, index: usize) -> (ChaCha8Rng, Segment, NaiveDate) {
    let mut rng =
        ChaCha8Rng::seed_from_u64(config.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index as u64);
    let history_start = config.history_start();
    let segment = match rng.random_range(0..100) {
        0..12 => Segment::Enterprise,
        12..45 => Segment::MidMarket,
        _ => Segment::Smb,
    };
    // 70% were customers before the history starts, the rest are new logos.
    let created_on = if rng.random_bool(0.7) {
        history_start - Duration::days(rng.random_range(30..1100))
    } else {
        let span = (config.as_of - history_start).num_days().max(60);
        history_start + Duration::days(rng.random_range(0..span - 45))
    };
    (rng, segment, created_on)
}

fn account_id(index: usize) -> String {
    format!("ACC-{:05}", index + 1)
}

/// About 4% of mid-market and SMB accounts are subsidiaries of an enterprise account
/// that became a customer before them.
fn parent_of(
    config: &DemoConfig,
    index: usize,
    segment: Segment,
    created_on: NaiveDate,
) -> Option<String> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(config.seed ^ 0x005E_ED0F_C0DE ^ (index as u64).rotate_left(32));
    if segment == Segment::Enterprise || index == 0 || !rng.random_bool(0.3) {
        return None;
    }
    let candidate = rng.random_range(0..index);
    let (_, parent_segment, parent_created) = identity(config, candidate);
    (parent_segment == Segment::Enterprise && parent_created <= created_on)
        .then(|| account_id(candidate))
}

pub fn generate_account(config: &DemoConfig, index: usize) -> Company {
    let (mut rng, segment, created_on) = identity(config, index);
    let id = account_id(index);
    let history_start = config.history_start();
    let last_day = config.as_of - Duration::days(1);
    let latent: f64 = Normal::new(0.0, 1.0).expect("valid").sample(&mut rng);
    let churn_propensity = sigmoid(segment.base_churn_logit() + 0.9 * latent);

    let life_months = ((config.as_of.year() - created_on.year()) * 12 + config.as_of.month() as i32
        - created_on.month() as i32
        + 1)
    .max(1) as usize;
    let level = -0.7 * latent;
    let shock = Normal::new(0.0, 0.35).expect("valid");
    let mut health = Vec::with_capacity(life_months);
    let mut h = level + Normal::new(0.0, 0.5).expect("valid").sample(&mut rng);
    for _ in 0..life_months {
        health.push(h);
        h = level + 0.8 * (h - level) + shock.sample(&mut rng);
    }
    let origin =
        NaiveDate::from_ymd_opt(created_on.year(), created_on.month(), 1).expect("first of month");
    let mut life = Life {
        health,
        origin,
        disengage_from: None,
        churned_on: None,
    };

    let mut out = Company::default();

    // Contracts: renew, expand, contract or churn at each renewal before `as_of`.
    let (median, sigma) = segment.arr_distribution();
    let mut arr_dollars = LogNormal::new(median.ln(), sigma)
        .expect("valid")
        .sample(&mut rng);
    let mut start = created_on;
    let product = match segment {
        Segment::Enterprise => "Enterprise",
        Segment::MidMarket => "Business",
        Segment::Smb => "Team",
    };
    let notice_days = *[30, 60, 90].choose(&mut rng).expect("not empty");
    let auto_renew = segment == Segment::Smb || rng.random_bool(0.4);
    for number in 1.. {
        let years = match segment {
            Segment::Enterprise if rng.random_bool(0.35) => rng.random_range(2..=3),
            Segment::MidMarket if rng.random_bool(0.15) => 2,
            _ => 1,
        };
        let end = start + Months::new(12 * years) - Duration::days(1);
        let renewal = end + Duration::days(1);
        let arr_minor = ((arr_dollars / 100.0).round() * 100.0 * 100.0) as i64;
        let seats = ((arr_dollars / segment.price_per_seat()).round() as i64).max(3);
        let mut contract = Contract {
            id: format!("{id}-K{number:02}"),
            account_id: id.clone(),
            product: product.to_string(),
            seats,
            arr: Money::new(arr_minor.max(10_000), Currency::USD), // at least $100
            start_date: start,
            end_date: end,
            renewal_date: renewal,
            auto_renew,
            notice_days,
            status: ContractStatus::Active,
        };
        if renewal >= config.as_of {
            out.contracts.push(contract);
            break;
        }
        let health_then = life.health_on(renewal - Duration::days(notice_days as i64));
        if rng.random_bool(sigmoid(
            segment.base_churn_logit() + 0.9 * latent - 0.9 * health_then,
        )) {
            contract.status = ContractStatus::Churned;
            life.churned_on = Some(renewal);
            life.disengage_from = Some(renewal - Duration::days(rng.random_range(60..170)));
            out.contracts.push(contract);
            break;
        }
        contract.status = ContractStatus::Renewed;
        out.contracts.push(contract);
        let growth = Normal::new(0.09 + 0.10 * health_then, 0.12)
            .expect("valid")
            .sample(&mut rng);
        arr_dollars *= growth.exp();
        start = renewal;
    }

    // People. The champion may leave, more often when health is poor or the account is leaving.
    let contact_count = match segment {
        Segment::Enterprise => rng.random_range(8..=18),
        Segment::MidMarket => rng.random_range(4..=8),
        Segment::Smb => rng.random_range(2..=4),
    };
    let domain = format!("{}.example", id.to_lowercase());
    let end_of_life = life.churned_on.unwrap_or(config.as_of);
    for number in 1..=contact_count {
        let role = match number {
            1 => ContactRole::Champion,
            2 => ContactRole::ExecutiveSponsor,
            3 if segment != Segment::Smb => ContactRole::DecisionMaker,
            3 | 4 => ContactRole::Billing,
            _ => ContactRole::User,
        };
        let first = pick(&mut rng, FIRST_NAMES);
        let last = pick(&mut rng, LAST_NAMES);
        let joined_on = created_on + Duration::days(rng.random_range(0..30));
        let mut left_on = None;
        if role == ContactRole::Champion || role == ContactRole::User {
            let mut month = joined_on + Duration::days(30);
            while month < end_of_life {
                let hazard = 0.008
                    + if life.health_on(month) < -0.6 {
                        0.02
                    } else {
                        0.0
                    }
                    + if life.is_leaving(month) { 0.06 } else { 0.0 };
                if rng.random_bool(hazard) {
                    left_on = Some(month);
                    break;
                }
                month += Duration::days(30);
            }
        }
        out.contacts.push(Contact {
            id: format!("{id}-C{number:02}"),
            account_id: id.clone(),
            name: format!("{first} {last}"),
            email: Some(format!(
                "{}.{}@{domain}",
                first.to_lowercase(),
                last.to_lowercase()
            )),
            title: Some(
                match role {
                    ContactRole::Champion => "Operations Lead",
                    ContactRole::ExecutiveSponsor => "VP Operations",
                    ContactRole::DecisionMaker => "Director of IT",
                    ContactRole::Billing => "Finance Manager",
                    ContactRole::User => "Analyst",
                }
                .to_string(),
            ),
            role,
            joined_on: Some(joined_on),
            left_on,
        });
        // A departed champion is usually replaced a month or few later.
        if let (ContactRole::Champion, Some(left)) = (role, left_on) {
            let joined = left + Duration::days(rng.random_range(20..120));
            if joined < end_of_life && rng.random_bool(0.7) {
                out.contacts.push(Contact {
                    id: format!("{id}-C{:02}", 50 + number),
                    account_id: id.clone(),
                    name: format!(
                        "{} {}",
                        pick(&mut rng, FIRST_NAMES),
                        pick(&mut rng, LAST_NAMES)
                    ),
                    email: None,
                    title: Some("Operations Lead".into()),
                    role: ContactRole::Champion,
                    joined_on: Some(joined),
                    left_on: None,
                });
            }
        }
    }

    let visible_from = history_start.max(created_on);
    let visible_to = end_of_life.min(config.as_of) - Duration::days(1);
    usage(
        &mut rng,
        &id,
        &life,
        &out.contracts,
        segment,
        created_on,
        visible_from,
        visible_to,
        &mut out.usage_daily,
    );
    let contacts = out.contacts.clone();
    tickets_and_csat(
        &mut rng,
        &id,
        &life,
        segment,
        &contacts,
        visible_from,
        visible_to,
        last_day,
        &mut out,
    );
    nps_campaigns(
        &mut rng,
        &id,
        &life,
        &out.contacts,
        visible_from,
        visible_to,
        &mut out.survey_responses,
    );
    let contracts = out.contracts.clone();
    billing(
        &mut rng,
        &id,
        &life,
        segment,
        &contracts,
        visible_from,
        visible_to,
        &mut out,
    );

    let csm = match segment {
        Segment::Smb => pick(&mut rng, DIGITAL_CSMS),
        _ => pick(&mut rng, CSMS),
    };
    touches(
        &mut rng,
        &id,
        &life,
        segment,
        csm,
        &out.contacts,
        visible_from,
        visible_to,
        &mut out.activities,
    );

    let renewal_soon = out
        .contracts
        .last()
        .is_some_and(|k| (k.renewal_date - config.as_of).num_days() < 90);
    let lifecycle_stage = if life.churned_on.is_some() {
        LifecycleStage::Churned
    } else if (config.as_of - created_on).num_days() < 90 {
        LifecycleStage::Onboarding
    } else if renewal_soon {
        LifecycleStage::Renewal
    } else if (config.as_of - created_on).num_days() < 365 {
        LifecycleStage::Adoption
    } else {
        LifecycleStage::Mature
    };
    let churn_reason = life.churned_on.map(|_| {
        let champion_left = out
            .contacts
            .iter()
            .any(|c| c.role == ContactRole::Champion && c.left_on.is_some());
        if champion_left && rng.random_bool(0.5) {
            "champion left".to_string()
        } else if life.health_on(end_of_life) < -0.5 && rng.random_bool(0.5) {
            "low adoption".to_string()
        } else {
            pick(&mut rng, CHURN_REASONS).to_string()
        }
    });
    out.accounts.push(Account {
        id: id.clone(),
        name: format!(
            "{} {} {}",
            pick(&mut rng, COMPANY_FIRST),
            pick(&mut rng, COMPANY_SECOND),
            pick(&mut rng, COMPANY_SUFFIX)
        ),
        parent_id: parent_of(config, index, segment, created_on),
        segment: Some(segment.name().to_string()),
        tier: Some(
            match segment {
                Segment::Enterprise => "tier 1",
                Segment::MidMarket => "tier 2",
                Segment::Smb => "tier 3",
            }
            .to_string(),
        ),
        industry: Some(pick(&mut rng, INDUSTRIES).to_string()),
        region: Some(weighted(&mut rng, REGIONS).to_string()),
        lifecycle_stage: Some(lifecycle_stage),
        csm_owner: Some(csm.to_string()),
        am_owner: (segment != Segment::Smb).then(|| pick(&mut rng, ACCOUNT_MANAGERS).to_string()),
        created_on,
        churned_on: life.churned_on,
        churn_reason,
    });
    out.truth.push(DemoTruth {
        account_id: id,
        churn_propensity,
        churned_on: life.churned_on,
    });
    out
}

/// Daily usage per account simulated user by user, so that daily and 30-day active
/// users are consistent: weekly seasonality, an onboarding ramp, health-driven
/// engagement and disengagement before churn.
#[allow(clippy::too_many_arguments)]
fn usage(
    rng: &mut ChaCha8Rng,
    id: &str,
    life: &Life,
    contracts: &[Contract],
    segment: Segment,
    created_on: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
    rows: &mut Vec<UsageDaily>,
) {
    if from > to {
        return;
    }
    let max_seats = contracts.iter().map(|k| k.seats).max().unwrap_or(3) as usize;
    let propensity = Beta::new(1.3, 3.2).expect("valid");
    let users: Vec<f64> = (0..max_seats).map(|_| propensity.sample(rng)).collect();
    let adoption = Beta::new(6.0, 2.0).expect("valid").sample(rng);
    let breadth = match segment {
        Segment::Enterprise => rng.random_range(3..=6),
        Segment::MidMarket => rng.random_range(2..=5),
        Segment::Smb => rng.random_range(1..=4),
    };
    let features: Vec<(&str, f64)> = FEATURES[..breadth]
        .iter()
        .map(|f| (*f, rng.random_range(0.3..2.5)))
        .collect();

    // Start 29 days early so the first visible day has a full 30-day window.
    let warm_up = (from - Duration::days(29)).max(created_on);
    let days = (to - warm_up).num_days() as usize + 1;
    let mut last_active: Vec<Option<usize>> = vec![None; users.len()];
    // active_by_day[d]: users whose last activity so far is on day d.
    let mut last_seen_on = vec![0i64; days];
    let mut window_users = 0i64;
    for offset in 0..days {
        let day = warm_up + Duration::days(offset as i64);
        if offset >= 30 {
            window_users -= last_seen_on[offset - 30];
        }
        let seats = contracts
            .iter()
            .find(|k| k.is_active_on(day))
            .map_or(0, |k| k.seats) as usize;
        let ramp = ((day - created_on).num_days() as f64 / 75.0).clamp(0.25, 1.0);
        let engagement = (0.45 * life.health_on(day)).exp() * ramp * life.disengagement(day);
        let week = if is_weekend(day) { 0.1 } else { 1.0 };
        let enabled = ((seats as f64)
            * (adoption * (0.6 + 0.25 * life.health_on(day))).clamp(0.05, 1.0)
            * ramp)
            .round() as usize;
        let mut active = 0i64;
        for (user, &propensity) in users.iter().enumerate().take(enabled.min(users.len())) {
            if rng.random::<f64>() < (propensity * engagement * week * 1.4).min(0.95) {
                active += 1;
                match last_active[user] {
                    Some(previous) if offset - previous < 30 => last_seen_on[previous] -= 1,
                    _ => window_users += 1,
                }
                last_active[user] = Some(offset);
                last_seen_on[offset] += 1;
            }
        }
        if day < from || (active == 0 && window_users == 0) {
            continue;
        }
        let mut feature_events = std::collections::BTreeMap::new();
        let mut events = active; // one session start per active user
        for &(feature, rate) in &features {
            let mean = active as f64 * rate;
            let count = if mean > 0.0 {
                Poisson::new(mean).expect("positive mean").sample(rng) as i64
            } else {
                0
            };
            if count > 0 {
                feature_events.insert(feature.to_string(), count);
                events += count;
            }
        }
        rows.push(UsageDaily {
            account_id: id.to_string(),
            day,
            events,
            active_users: active,
            active_users_30d: window_users,
            feature_events,
        });
    }
}

/// Support tickets, more and more urgent when health is poor and surging before churn;
/// first responses within business hours; CSAT asked after solved tickets.
#[allow(clippy::too_many_arguments)]
fn tickets_and_csat(
    rng: &mut ChaCha8Rng,
    id: &str,
    life: &Life,
    segment: Segment,
    contacts: &[Contact],
    from: NaiveDate,
    to: NaiveDate,
    last_day: NaiveDate,
    out: &mut Company,
) {
    let now = at(last_day + Duration::days(1), 0);
    let mut month = from;
    let mut number = 0;
    while month <= to {
        let health = life.health_on(month);
        let surge = if life.is_leaving(month) { 2.2 } else { 1.0 };
        let mean = segment.tickets_per_month() * (-0.45 * health).exp() * surge;
        let count = Poisson::new(mean).expect("positive").sample(rng) as usize;
        for _ in 0..count {
            let day = month + Duration::days(rng.random_range(0..30));
            if day > to {
                continue;
            }
            number += 1;
            let created_at = if is_weekend(day) && rng.random_bool(0.7) {
                business_time(rng, day + Duration::days(2))
            } else if rng.random_bool(0.85) {
                business_time(rng, day)
            } else {
                at(day, rng.random_range(0..86_400))
            };
            if created_at >= now {
                continue;
            }
            let priority = match rng.random_range(0..100) {
                0..5 => TicketPriority::Urgent,
                5..25 => TicketPriority::High,
                25..80 => TicketPriority::Normal,
                _ => TicketPriority::Low,
            };
            let median_minutes = match priority {
                TicketPriority::Urgent => 20.0,
                TicketPriority::High => 50.0,
                TicketPriority::Normal => 75.0,
                TicketPriority::Low => 180.0,
            };
            let mut wait = LogNormal::new(f64::ln(median_minutes), 0.9)
                .expect("valid")
                .sample(rng);
            let hour = created_at.time().num_seconds_from_midnight() / 3600;
            if priority != TicketPriority::Urgent && !(8..18).contains(&hour) {
                // Out of hours: answered after the team starts at 08:00.
                let to_morning = if hour >= 18 {
                    (24 - hour + 8) * 60
                } else {
                    (8 - hour) * 60
                };
                wait += to_morning as f64;
            }
            let first_response_at = created_at + Duration::minutes(wait.round() as i64 + 1);
            let solve_hours = LogNormal::new(f64::ln(18.0), 1.0)
                .expect("valid")
                .sample(rng);
            let solved_at = first_response_at + Duration::minutes((solve_hours * 60.0) as i64);
            let answered = first_response_at < now;
            let solved = solved_at < now;
            let status = if solved {
                if rng.random_bool(0.8) {
                    TicketStatus::Closed
                } else {
                    TicketStatus::Solved
                }
            } else if answered {
                TicketStatus::Pending
            } else {
                TicketStatus::New
            };
            let contact = contacts.choose(rng).map(|c| c.id.clone());
            let ticket_id = format!("T-{}-{number:04}", &id[4..]);
            let satisfaction_latent = 4.7 + 0.5 * health - (wait / 600.0).min(1.5)
                + Normal::new(0.0, 0.7).expect("valid").sample(rng);
            let score = satisfaction_latent.round().clamp(1.0, 5.0) as i32;
            let satisfaction = (solved && rng.random_bool(0.3)).then_some(score);
            if solved && rng.random_bool(0.4) {
                let responded_at = solved_at + Duration::hours(rng.random_range(1..48));
                if responded_at < now {
                    out.survey_responses.push(SurveyResponse {
                        id: format!("{ticket_id}-CSAT"),
                        account_id: id.to_string(),
                        contact_id: contact.clone(),
                        kind: SurveyKind::Csat,
                        score,
                        comment: None,
                        campaign: Some("ticket-csat".into()),
                        responded_at,
                    });
                }
            }
            out.tickets.push(Ticket {
                id: ticket_id,
                account_id: id.to_string(),
                contact_id: contact,
                subject: pick(rng, TICKET_SUBJECTS).to_string(),
                priority,
                status,
                created_at,
                first_response_at: answered.then_some(first_response_at),
                solved_at: solved.then_some(solved_at),
                satisfaction,
            });
        }
        month += Duration::days(30);
    }
}

/// Quarterly NPS campaigns (with a CES question for some) to the contacts in place.
fn nps_campaigns(
    rng: &mut ChaCha8Rng,
    id: &str,
    life: &Life,
    contacts: &[Contact],
    from: NaiveDate,
    to: NaiveDate,
    responses: &mut Vec<SurveyResponse>,
) {
    let mut quarter = NaiveDate::from_ymd_opt(from.year(), (from.month0() / 3) * 3 + 1, 1)
        .expect("quarter start");
    while quarter <= to {
        let campaign = format!("nps-{}-q{}", quarter.year(), quarter.month0() / 3 + 1);
        for contact in contacts {
            let day = quarter + Duration::days(rng.random_range(9..30));
            let in_place = contact.joined_on.is_none_or(|j| j <= day)
                && contact.left_on.is_none_or(|l| l > day);
            if day < from || day > to || !in_place || !rng.random_bool(0.3) {
                continue;
            }
            let health = life.health_on(day);
            let leaving = if life.is_leaving(day) { -1.5 } else { 0.0 };
            let role = match contact.role {
                ContactRole::ExecutiveSponsor | ContactRole::DecisionMaker => -0.3,
                ContactRole::Champion => 0.6,
                _ => 0.0,
            };
            let latent = 8.1
                + 1.6 * health
                + leaving
                + role
                + Normal::new(0.0, 1.5).expect("valid").sample(rng);
            let score = latent.round().clamp(0.0, 10.0) as i32;
            let comment = rng.random_bool(0.35).then(|| {
                let pool = match score {
                    9..=10 => PROMOTER_COMMENTS,
                    7..=8 => PASSIVE_COMMENTS,
                    _ => DETRACTOR_COMMENTS,
                };
                pick(rng, pool).to_string()
            });
            let responded_at = business_time(rng, day);
            responses.push(SurveyResponse {
                id: format!("{}-{campaign}", contact.id),
                account_id: id.to_string(),
                contact_id: Some(contact.id.clone()),
                kind: SurveyKind::Nps,
                score,
                comment,
                campaign: Some(campaign.clone()),
                responded_at,
            });
            if rng.random_bool(0.3) {
                let effort = (3.0 - 0.8 * health
                    + Normal::new(0.0, 1.0).expect("valid").sample(rng))
                .round()
                .clamp(1.0, 7.0) as i32;
                responses.push(SurveyResponse {
                    id: format!("{}-{campaign}-ces", contact.id),
                    account_id: id.to_string(),
                    contact_id: Some(contact.id.clone()),
                    kind: SurveyKind::Ces,
                    score: effort,
                    comment: None,
                    campaign: Some(campaign.clone()),
                    responded_at,
                });
            }
        }
        quarter = quarter + Months::new(3);
    }
}

/// Invoices (monthly card billing for SMB, annual otherwise) and payment attempts,
/// which fail more often when the account is unhealthy or leaving.
#[allow(clippy::too_many_arguments)]
fn billing(
    rng: &mut ChaCha8Rng,
    id: &str,
    life: &Life,
    segment: Segment,
    contracts: &[Contract],
    from: NaiveDate,
    to: NaiveDate,
    out: &mut Company,
) {
    let now = to + Duration::days(1);
    let mut number = 0;
    for contract in contracts {
        let months_per_invoice = if segment == Segment::Smb { 1 } else { 12 };
        let mut issued = contract.start_date;
        while issued <= contract.end_date && issued <= to {
            let period_end = issued + Months::new(months_per_invoice);
            if issued >= from {
                number += 1;
                let amount = contract.arr.minor * i64::from(months_per_invoice) / 12;
                let due_on = issued + Duration::days(if segment == Segment::Smb { 0 } else { 30 });
                let invoice_id = format!("INV-{}-{number:03}", &id[4..]);
                let risk: f64 = if life.health_on(issued) < -0.7 {
                    0.12
                } else {
                    0.0
                } + if life.is_leaving(issued) { 0.2 } else { 0.0 };
                let mut paid_on = None;
                let mut attempt_day = if segment == Segment::Smb {
                    due_on
                } else {
                    issued
                        + Duration::days(
                            LogNormal::new(f64::ln(18.0), 0.5)
                                .expect("valid")
                                .sample(rng) as i64,
                        )
                };
                for attempt in 1..=3 {
                    if attempt_day >= now {
                        break;
                    }
                    let failed = rng.random_bool((0.02 + risk).min(0.9));
                    out.payments.push(Payment {
                        id: format!("{invoice_id}-P{attempt}"),
                        invoice_id: invoice_id.clone(),
                        account_id: id.to_string(),
                        amount: Money::new(amount, contract.arr.currency),
                        attempted_at: business_time(rng, attempt_day),
                        status: if failed {
                            PaymentStatus::Failed
                        } else {
                            PaymentStatus::Succeeded
                        },
                        failure_reason: failed.then(|| {
                            if segment == Segment::Smb {
                                "card declined"
                            } else {
                                "insufficient funds"
                            }
                            .to_string()
                        }),
                    });
                    if !failed {
                        paid_on = Some(attempt_day);
                        break;
                    }
                    attempt_day += Duration::days(4);
                }
                let attempts_over = out
                    .payments
                    .iter()
                    .rev()
                    .take_while(|p| p.invoice_id == invoice_id)
                    .count()
                    == 3;
                let status = match paid_on {
                    Some(_) => InvoiceStatus::Paid,
                    None if attempts_over => InvoiceStatus::Failed,
                    None => InvoiceStatus::Open,
                };
                out.invoices.push(Invoice {
                    id: invoice_id,
                    account_id: id.to_string(),
                    amount: Money::new(amount, contract.arr.currency),
                    issued_on: issued,
                    due_on,
                    paid_on,
                    status,
                });
            }
            issued = period_end;
        }
    }
}

/// CSM touches: emails, calls, meetings and notes; some accounts at risk go quiet.
#[allow(clippy::too_many_arguments)]
fn touches(
    rng: &mut ChaCha8Rng,
    id: &str,
    life: &Life,
    segment: Segment,
    csm: &str,
    contacts: &[Contact],
    from: NaiveDate,
    to: NaiveDate,
    activities: &mut Vec<Activity>,
) {
    let goes_quiet = rng.random_bool(0.5);
    let mut month = from;
    let mut number = 0;
    while month <= to {
        let quiet = if life.is_leaving(month) && goes_quiet {
            0.3
        } else {
            1.0
        };
        let count = Poisson::new(segment.touches_per_month() * quiet)
            .expect("positive")
            .sample(rng) as usize;
        for _ in 0..count {
            let day = month + Duration::days(rng.random_range(0..30));
            if day > to || is_weekend(day) {
                continue;
            }
            number += 1;
            let (kind, subject) = match rng.random_range(0..100) {
                0..45 => (ActivityKind::Email, "Follow-up"),
                45..70 => (ActivityKind::Call, "Check-in call"),
                70..90 => (
                    ActivityKind::Meeting,
                    if segment == Segment::Enterprise {
                        "Quarterly business review"
                    } else {
                        "Success review"
                    },
                ),
                _ => (ActivityKind::Note, "Account note"),
            };
            activities.push(Activity {
                id: format!("ACT-{}-{number:04}", &id[4..]),
                account_id: id.to_string(),
                contact_id: contacts.choose(rng).map(|c| c.id.clone()),
                kind,
                author: csm.to_string(),
                occurred_at: business_time(rng, day),
                subject: subject.to_string(),
                body: None,
            });
        }
        month += Duration::days(30);
    }
}
