//! Quayside, a company built unlike the demo: its accounts hold annual terms only and
//! each renew with a probability of their own drawn from a beta distribution per
//! segment — the shifted-beta-geometric model's own story — so figures can be checked
//! against the truth the company was drawn from.

use std::collections::BTreeMap;

use chrono::{Days, Months, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};
use tend_core::*;
use tend_demo::Company;

pub fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

pub const AS_OF: &str = "2026-06-30";
/// Each segment's beta distribution of the chance to leave at a renewal, and ARR.
pub const SEGMENTS: [(&str, f64, f64, i64); 2] =
    [("Fleet", 0.8, 3.0, 40_000), ("Depot", 1.2, 1.4, 8_000)];
pub const REASONS: [&str; 3] = ["budget cut", "moved to a competitor", "closed the depot"];

/// What Quayside was drawn from, per account.
pub struct Truth {
    pub start: NaiveDate,
    pub segment: &'static str,
    pub lost_on: Option<NaiveDate>,
    pub renewals: u32,
    /// ARR of each term, first to last.
    pub arr: Vec<i64>,
}

/// `accounts` accounts starting between 2020 and mid-2025. At each renewal an
/// account leaves with its own chance θ; the less likely to leave have an executive
/// sponsor (θ below the segment's mean), so sponsors mark slower churn. Fleet
/// accounts grow 10% a renewal. Half the accounts that leave lose their champion 45
/// days before; one in twenty of the rest loses one at some point.
pub fn quayside(accounts: usize, seed: u64) -> (Company, Vec<Truth>) {
    quayside_in_seasons(accounts, seed, 0.0)
}

/// [`quayside`] with good and bad quarters: every account's chance to leave at a
/// renewal is multiplied by its quarter's factor, e^N(0, `swing`) drawn once per
/// calendar quarter, so the renewals of a quarter move together. With no swing it is
/// Quayside itself, draw for draw.
pub fn quayside_in_seasons(accounts: usize, seed: u64, swing: f64) -> (Company, Vec<Truth>) {
    let mut seasons = ChaCha8Rng::seed_from_u64(seed ^ 0x5EA5_0115);
    let normal = rand_distr::Normal::new(0.0, swing).unwrap();
    // Quarters from 2020-Q1 on, past the as-of day.
    let factors: Vec<f64> = (0..32).map(|_| normal.sample(&mut seasons).exp()).collect();
    let factor_on = |day: NaiveDate| {
        use chrono::Datelike;
        factors[((day.year() - 2020) * 4 + day.month0() as i32 / 3) as usize]
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let as_of = day(AS_OF);
    let usd = Currency::parse("USD").unwrap();
    let mut company = Company::default();
    let mut truth = Vec::new();
    let first_start = day("2020-01-01");
    for n in 0..accounts {
        let id = format!("QS-{n:05}");
        let (segment, gamma, delta, base_arr) = SEGMENTS[n % 2];
        let beta = Beta::new(gamma, delta).unwrap();
        let theta: f64 = beta.sample(&mut rng);
        let mean = mean_of_beta(gamma, delta);
        let start = first_start + Days::new(rng.random_range(0..2007));
        let mut arr = base_arr * rng.random_range(50..200);
        let mut lost_on = None;
        let mut terms = Vec::new();
        let mut k = 0u32;
        loop {
            let term_start = start.checked_add_months(Months::new(12 * k)).unwrap();
            if term_start > as_of {
                break;
            }
            let renewal = start.checked_add_months(Months::new(12 * (k + 1))).unwrap();
            terms.push(arr);
            let leaves = renewal <= as_of && rng.random::<f64>() < theta * factor_on(renewal);
            company.contracts.push(Contract {
                id: format!("{id}-T{k}"),
                account_id: id.clone(),
                product: "Quayside Fleet".into(),
                seats: 20,
                arr: Money::new(arr, usd),
                start_date: term_start,
                end_date: renewal - Days::new(1),
                renewal_date: renewal,
                auto_renew: n % 3 == 0,
                notice_days: 60,
                status: if leaves {
                    ContractStatus::Churned
                } else if renewal <= as_of {
                    ContractStatus::Renewed
                } else {
                    ContractStatus::Active
                },
            });
            if leaves {
                lost_on = Some(renewal);
                break;
            }
            if renewal > as_of {
                break;
            }
            if segment == "Fleet" {
                arr = arr * 11 / 10;
            }
            k += 1;
        }
        let reason = lost_on.map(|_| REASONS[rng.random_range(0..REASONS.len())].to_string());
        company.accounts.push(Account {
            id: id.clone(),
            name: format!("Quayside customer {n}"),
            parent_id: None,
            segment: Some(segment.into()),
            tier: None,
            industry: Some("logistics".into()),
            region: None,
            lifecycle_stage: None,
            csm_owner: Some("mira".into()),
            am_owner: None,
            created_on: start,
            churned_on: lost_on,
            churn_reason: reason,
        });
        if theta < mean {
            company.contacts.push(contact(
                &id,
                "sponsor",
                ContactRole::ExecutiveSponsor,
                start,
                None,
            ));
        }
        let champion_left = match lost_on {
            Some(lost) if rng.random::<f64>() < 0.5 => Some(lost - Days::new(45)),
            _ if rng.random::<f64>() < 0.05 => {
                let span = (as_of - start).num_days().max(1) as u64;
                Some(start + Days::new(rng.random_range(0..span)))
            }
            _ => None,
        };
        company.contacts.push(contact(
            &id,
            "champion",
            ContactRole::Champion,
            start,
            champion_left,
        ));
        // One day of product use at the start: the store's usage history begins with
        // the first account, so signals are read from then on.
        company.usage_daily.push(UsageDaily {
            account_id: id.clone(),
            day: start,
            events: 10,
            active_users: 3,
            active_users_30d: 3,
            feature_events: BTreeMap::new(),
        });
        truth.push(Truth {
            start,
            segment,
            lost_on,
            renewals: decided_renewals(start, terms.len(), as_of),
            arr: terms,
        });
    }
    (company, truth)
}

/// Renewals won and known to be: every term but the last (current, or the one
/// lost) was renewed, and a renewal counts once its 30 days of grace have passed.
pub fn decided_renewals(start: NaiveDate, terms: usize, as_of: NaiveDate) -> u32 {
    (1..terms as u32)
        .filter(|&k| {
            let renewal = start.checked_add_months(Months::new(12 * k)).unwrap();
            renewal + Days::new(30) <= as_of
        })
        .count() as u32
}

pub fn contact(
    account: &str,
    who: &str,
    role: ContactRole,
    joined: NaiveDate,
    left: Option<NaiveDate>,
) -> Contact {
    Contact {
        id: format!("{account}-{who}"),
        account_id: account.into(),
        name: format!("{who} of {account}"),
        email: None,
        title: None,
        role,
        joined_on: Some(joined),
        left_on: left,
    }
}

/// Sponsors mark the accounts less likely to leave than the segment's mean.
pub fn mean_of_beta(gamma: f64, delta: f64) -> f64 {
    gamma / (gamma + delta)
}
