//! A seeded generator of a realistic synthetic B2B customer base: the demo company.
//!
//! Each account gets a latent churn propensity and a monthly health path (an AR(1)
//! process around a level set by that propensity). Renewals churn with a probability
//! that rises with the propensity and falls with health at the renewal, so the usage,
//! ticket, survey, champion and payment signals that health drives precede churn with
//! noise rather than by rule. Accounts that decide to leave also disengage in the
//! months before their renewal. The latent values are returned as [`DemoTruth`] so
//! scores can be judged against them; nothing else in tend may read them.
//!
//! The same configuration and seed always give the same company: every account draws
//! from its own random stream derived from the seed and its index.

mod account;
mod names;

use chrono::{Months, NaiveDate};
use tend_core::*;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    pub accounts: usize,
    /// Months of history before `as_of` with usage, tickets, surveys and billing.
    pub months: u32,
    pub seed: u64,
    /// The first day after the generated history.
    pub as_of: NaiveDate,
}

impl DemoConfig {
    pub fn history_start(&self) -> NaiveDate {
        self.as_of - Months::new(self.months)
    }
}

/// Everything the generator made, ready to be stored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Company {
    pub accounts: Vec<Account>,
    pub contacts: Vec<Contact>,
    pub contracts: Vec<Contract>,
    pub usage_daily: Vec<UsageDaily>,
    pub tickets: Vec<Ticket>,
    pub survey_responses: Vec<SurveyResponse>,
    pub invoices: Vec<Invoice>,
    pub payments: Vec<Payment>,
    pub activities: Vec<Activity>,
    pub truth: Vec<DemoTruth>,
}

impl Company {
    pub fn append(&mut self, other: Company) {
        self.accounts.extend(other.accounts);
        self.contacts.extend(other.contacts);
        self.contracts.extend(other.contracts);
        self.usage_daily.extend(other.usage_daily);
        self.tickets.extend(other.tickets);
        self.survey_responses.extend(other.survey_responses);
        self.invoices.extend(other.invoices);
        self.payments.extend(other.payments);
        self.activities.extend(other.activities);
        self.truth.extend(other.truth);
    }
}

/// Generates the whole company in memory; see [`generate_accounts`] to go in parts.
pub fn generate(config: &DemoConfig) -> Company {
    generate_accounts(config, 0..config.accounts)
}

/// Generates the accounts whose indexes are in `range`, with everything that belongs
/// to them, on all available cores. Any split of `0..accounts` into ranges gives the
/// same rows as one call over the whole range.
pub fn generate_accounts(config: &DemoConfig, range: std::ops::Range<usize>) -> Company {
    let count = range.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count.max(1));
    let chunk = count.div_ceil(threads).max(1);
    let parts: Vec<Company> = std::thread::scope(|scope| {
        let handles: Vec<_> = range
            .clone()
            .step_by(chunk)
            .map(|start| {
                let end = (start + chunk).min(range.end);
                scope.spawn(move || {
                    let mut part = Company::default();
                    for index in start..end {
                        part.append(account::generate_account(config, index));
                    }
                    part
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("generator thread panicked"))
            .collect()
    });
    let mut company = Company::default();
    for part in parts {
        company.append(part);
    }
    company
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(accounts: usize, seed: u64) -> DemoConfig {
        DemoConfig {
            accounts,
            months: 24,
            seed,
            as_of: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        }
    }

    #[test]
    fn same_seed_same_company_other_seed_other_company() {
        let a = generate(&config(40, 7));
        assert_eq!(a, generate(&config(40, 7)));
        assert_ne!(a.accounts, generate(&config(40, 8)).accounts);
        assert_eq!(a.accounts.len(), 40);
        assert_eq!(a.truth.len(), 40);
    }

    #[test]
    fn generating_in_parts_gives_the_same_company() {
        let config = config(30, 5);
        let mut parts = generate_accounts(&config, 0..7);
        parts.append(generate_accounts(&config, 7..30));
        assert_eq!(parts, generate(&config));
    }

    #[test]
    fn some_accounts_are_subsidiaries_of_older_enterprise_accounts() {
        let c = generate(&config(400, 2));
        let by_id: std::collections::HashMap<&str, &Account> =
            c.accounts.iter().map(|a| (a.id.as_str(), a)).collect();
        let children: Vec<&Account> = c
            .accounts
            .iter()
            .filter(|a| a.parent_id.is_some())
            .collect();
        assert!(!children.is_empty());
        for child in children {
            let parent = by_id[child.parent_id.as_deref().unwrap()];
            assert_eq!(parent.segment.as_deref(), Some("enterprise"));
            assert!(parent.created_on <= child.created_on);
        }
    }

    #[test]
    fn generated_rows_are_internally_consistent() {
        let c = generate(&config(150, 1));
        let ids: std::collections::HashSet<&str> =
            c.accounts.iter().map(|a| a.id.as_str()).collect();
        assert!(c
            .contacts
            .iter()
            .all(|x| ids.contains(x.account_id.as_str())));
        assert!(c
            .contracts
            .iter()
            .all(|x| x.start_date <= x.end_date && x.arr.minor > 0 && x.seats > 0));
        assert!(c
            .tickets
            .iter()
            .all(|t| t.first_response_at.is_none_or(|f| f >= t.created_at)));
        assert!(c
            .survey_responses
            .iter()
            .all(|s| s.kind.check_score(s.score).is_ok()));
        assert!(c
            .usage_daily
            .iter()
            .all(|u| u.active_users <= u.active_users_30d));
        let invoice_ids: std::collections::HashSet<&str> =
            c.invoices.iter().map(|i| i.id.as_str()).collect();
        assert!(c
            .payments
            .iter()
            .all(|p| invoice_ids.contains(p.invoice_id.as_str())));
        let as_of = config(1, 1).as_of;
        assert!(c.tickets.iter().all(|t| t.created_at.date_naive() < as_of));
        assert!(c.usage_daily.iter().all(|u| u.day < as_of));
        // Every account has exactly one contract in force or has churned.
        for account in &c.accounts {
            let live = c
                .contracts
                .iter()
                .filter(|k| k.account_id == account.id && k.status == ContractStatus::Active)
                .count();
            assert_eq!(
                live,
                usize::from(account.churned_on.is_none()),
                "{}",
                account.id
            );
        }
    }

    #[test]
    fn churners_are_riskier_and_show_it_in_their_data() {
        let c = generate(&config(600, 3));
        let churned: Vec<&DemoTruth> = c.truth.iter().filter(|t| t.churned_on.is_some()).collect();
        let stayed: Vec<&DemoTruth> = c.truth.iter().filter(|t| t.churned_on.is_none()).collect();
        let mean = |xs: &[&DemoTruth]| {
            xs.iter().map(|t| t.churn_propensity).sum::<f64>() / xs.len() as f64
        };
        assert!(churned.len() > 30, "some accounts churn: {}", churned.len());
        assert!(mean(&churned) > mean(&stayed) * 1.3);
        // Utilisation in the 30 days before leaving is lower than among accounts that stayed.
        let utilisation = |account: &str, day: NaiveDate| {
            let seats = c
                .contracts
                .iter()
                .filter(|k| k.account_id == account && k.is_active_on(day))
                .map(|k| k.seats)
                .sum::<i64>();
            let active = c
                .usage_daily
                .iter()
                .find(|u| u.account_id == account && u.day == day)
                .map_or(0, |u| u.active_users_30d);
            active as f64 / seats.max(1) as f64
        };
        let before_churn: Vec<f64> = churned
            .iter()
            .filter_map(|t| {
                let day = t.churned_on?.pred_opt()?;
                (day > config(1, 1).history_start() + chrono::Duration::days(40))
                    .then(|| utilisation(&t.account_id, day - chrono::Duration::days(7)))
            })
            .collect();
        let as_of = config(1, 1).as_of - chrono::Duration::days(8);
        let staying: Vec<f64> = stayed
            .iter()
            .map(|t| utilisation(&t.account_id, as_of))
            .collect();
        let avg = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
        assert!(
            avg(&before_churn) < avg(&staying) * 0.8,
            "{} vs {}",
            avg(&before_churn),
            avg(&staying)
        );
    }
}
