//! A Cox model of the churn hazard on what is known of each account at its start,
//! reported as hazard ratios in words.

use std::collections::HashMap;

use chrono::Days;
use tend_core::retention::Lifetime;
use tend_core::{Contact, ContactRole, Contract};
use tend_stats::cox::{self, CoxData, CoxOptions};

use super::{segment_of, Base, Hazards};

/// A segment is compared with the largest one from this many accounts.
const MIN_SEGMENT: usize = 20;
/// A sponsor or champion counts when on record within this many days of the start.
const CONTACT_DAYS: u64 = 90;

#[derive(Debug, Clone, PartialEq)]
pub struct HazardRatio {
    /// The covariate, as in "starting ARR (per doubling)".
    pub covariate: String,
    /// exp(β): how many times as fast accounts with it churn.
    pub ratio: f64,
    pub lower: f64,
    pub upper: f64,
    pub p_value: f64,
    /// "accounts without an executive sponsor on record churn 2.1× as fast (95% CI
    /// 1.6–2.8)".
    pub words: String,
}

/// One covariate: its column and how its ratio reads.
struct Covariate {
    name: String,
    column: Vec<f64>,
    phrase: Phrase,
}

enum Phrase {
    /// Accounts with the flag against those without it.
    Flag { with: String, without: String },
    /// A segment against the reference one.
    Segment { segment: String, reference: String },
    /// Twice the value against once.
    Doubling(String),
}

pub(super) fn fit(
    lifetimes: &[Lifetime],
    base: &Base,
    contacts: &[Contact],
    months: &[f64],
    lost: &[bool],
) -> Result<Hazards, String> {
    let events = lost.iter().filter(|&&l| l).count();
    if events < 10 {
        return Err(format!(
            "{events} accounts lost: a hazard model needs at least 10"
        ));
    }
    let covariates: Vec<Covariate> = covariates(lifetimes, base, contacts)
        .into_iter()
        .filter(|c| c.column.iter().any(|&x| x != c.column[0]))
        .collect();
    if covariates.is_empty() {
        return Err("no account-level covariate varies between accounts".into());
    }
    let columns: Vec<&[f64]> = covariates.iter().map(|c| c.column.as_slice()).collect();
    let data = CoxData {
        covariates: &columns,
        durations: months,
        observed: lost,
        strata: None,
    };
    // Without a penalty a covariate that separates churners perfectly has no finite
    // estimate; a slight one keeps it finite and barely moves the others.
    let model = cox::fit(&data, &CoxOptions::default())
        .or_else(|_| {
            cox::fit(
                &data,
                &CoxOptions {
                    penalizer: 0.01,
                    ..CoxOptions::default()
                },
            )
        })
        .map_err(|e| e.to_string())?;
    let ratios = covariates
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let (ratio, lower, upper) = (
                model.coefficients[k].exp(),
                model.lower[k].exp(),
                model.upper[k].exp(),
            );
            HazardRatio {
                covariate: c.name.clone(),
                ratio,
                lower,
                upper,
                p_value: model.p_values[k],
                words: words(&c.phrase, ratio, lower, upper, model.p_values[k]),
            }
        })
        .collect();
    Ok(Hazards {
        accounts: lifetimes.len(),
        events,
        concordance: model.concordance,
        ratios,
    })
}

fn covariates(lifetimes: &[Lifetime], base: &Base, contacts: &[Contact]) -> Vec<Covariate> {
    let reporting = base.money.reporting();
    let contracts = by_account(&base.contracts, |c| &c.account_id);
    let contacts = by_account(contacts, |c| &c.account_id);
    let first_contracts = |l: &Lifetime| -> Vec<&Contract> {
        contracts
            .get(l.account.id.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|c| c.start_date == l.start)
            .collect()
    };
    let starting_arr: Vec<f64> = lifetimes
        .iter()
        .map(|l| {
            let minor: i64 = first_contracts(l)
                .iter()
                .filter_map(|c| reporting.value(c.arr, l.start))
                .sum();
            (minor.max(100) as f64 / 100.0).log2()
        })
        .collect();
    let auto_renew: Vec<f64> = lifetimes
        .iter()
        .map(|l| f64::from(u8::from(first_contracts(l).iter().any(|c| c.auto_renew))))
        .collect();
    let on_record = |role: ContactRole| -> Vec<f64> {
        lifetimes
            .iter()
            .map(|l| {
                let by = l.start + Days::new(CONTACT_DAYS);
                let present = contacts
                    .get(l.account.id.as_str())
                    .into_iter()
                    .flatten()
                    .any(|c| c.role == role && c.joined_on.is_none_or(|d| d <= by));
                f64::from(u8::from(present))
            })
            .collect()
    };
    let mut out = vec![
        Covariate {
            name: "starting ARR (per doubling)".into(),
            column: starting_arr,
            phrase: Phrase::Doubling("the starting ARR".into()),
        },
        Covariate {
            name: "auto-renew".into(),
            column: auto_renew,
            phrase: Phrase::Flag {
                with: "on auto-renew".into(),
                without: "not on auto-renew".into(),
            },
        },
        Covariate {
            name: "executive sponsor".into(),
            column: on_record(ContactRole::ExecutiveSponsor),
            phrase: Phrase::Flag {
                with: "with an executive sponsor on record".into(),
                without: "without an executive sponsor on record".into(),
            },
        },
        Covariate {
            name: "champion".into(),
            column: on_record(ContactRole::Champion),
            phrase: Phrase::Flag {
                with: "with a champion on record".into(),
                without: "without a champion on record".into(),
            },
        },
    ];
    let segments: Vec<String> = lifetimes.iter().map(|l| segment_of(l.account)).collect();
    let mut sizes: Vec<(String, usize)> = super::members(&segments)
        .into_iter()
        .map(|(s, rows)| (s.to_string(), rows.len()))
        .filter(|(_, n)| *n >= MIN_SEGMENT)
        .collect();
    sizes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if let Some(((reference, _), others)) = sizes.split_first() {
        for (segment, _) in others {
            out.push(Covariate {
                name: format!("segment {segment}"),
                column: segments
                    .iter()
                    .map(|s| f64::from(u8::from(s == segment)))
                    .collect(),
                phrase: Phrase::Segment {
                    segment: segment.clone(),
                    reference: reference.clone(),
                },
            });
        }
    }
    out
}

fn by_account<T>(rows: &[T], account: fn(&T) -> &String) -> HashMap<&str, Vec<&T>> {
    let mut by: HashMap<&str, Vec<&T>> = HashMap::new();
    for row in rows {
        by.entry(account(row).as_str()).or_default().push(row);
    }
    by
}

/// The ratio in words, turned so that it reads as "churn N× as fast" with N ≥ 1
/// where it can.
fn words(phrase: &Phrase, ratio: f64, lower: f64, upper: f64, p_value: f64) -> String {
    let (subject, ratio, lower, upper) = match phrase {
        Phrase::Flag { with, without } => {
            if ratio >= 1.0 {
                (format!("accounts {with}"), ratio, lower, upper)
            } else {
                (
                    format!("accounts {without}"),
                    1.0 / ratio,
                    1.0 / upper,
                    1.0 / lower,
                )
            }
        }
        Phrase::Segment { segment, reference } => (
            format!("{segment} accounts, against {reference},"),
            ratio,
            lower,
            upper,
        ),
        Phrase::Doubling(what) => (format!("accounts with twice {what}"), ratio, lower, upper),
    };
    let clear = if lower > 1.0 || upper < 1.0 {
        String::new()
    } else {
        format!("; not distinguishable from no difference (p = {p_value:.2})")
    };
    format!("{subject} churn {ratio:.2}× as fast (95% CI {lower:.2}–{upper:.2}){clear}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_protective_flag_reads_from_its_absence() {
        let phrase = Phrase::Flag {
            with: "with an executive sponsor on record".into(),
            without: "without an executive sponsor on record".into(),
        };
        assert_eq!(
            words(&phrase, 0.5, 0.25, 0.8, 0.001),
            "accounts without an executive sponsor on record churn 2.00× as fast (95% CI 1.25–4.00)"
        );
        assert_eq!(
            words(
                &Phrase::Doubling("the starting ARR".into()),
                0.9,
                0.7,
                1.1,
                0.31
            ),
            "accounts with twice the starting ARR churn 0.90× as fast (95% CI 0.70–1.10); \
             not distinguishable from no difference (p = 0.31)"
        );
    }
}
