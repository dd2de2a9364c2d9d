//! Early-warning signals: conditions on an account's data over a span of days that
//! customer-success teams watch for before churn. A new signal is one function and
//! one line in [`EARLY_WARNINGS`].

use chrono::{Days, NaiveDate};

use crate::health::{measure, AccountFacts, Context};
use crate::model::{ContactRole, SurveyKind};

/// A condition that holds or not for an account over the span of days ending on a day.
pub struct Signal {
    pub name: &'static str,
    /// What it means, as in "in the 90 days before: product use fell by 30% or more".
    pub words: &'static str,
    present: fn(&AccountFacts, Span) -> bool,
}

impl Signal {
    pub fn present(&self, facts: &AccountFacts, span: Span) -> bool {
        (self.present)(facts, span)
    }
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The `days` days ending on `last` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub last: NaiveDate,
    pub days: u32,
}

impl Span {
    /// The span of `days` days ending the day before `day`.
    pub fn before(day: NaiveDate, days: u32) -> Span {
        Span {
            last: day.pred_opt().unwrap_or(day),
            days,
        }
    }

    fn first(&self) -> NaiveDate {
        self.last
            .checked_sub_days(Days::new(u64::from(self.days.saturating_sub(1))))
            .unwrap_or(NaiveDate::MIN)
    }

    /// Days 30 apart from the last back through the span: a 30-day measure read on
    /// each covers the whole span.
    fn monthly_samples(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        let first = self.first();
        (0..self.days.div_ceil(30).max(1)).filter_map(move |k| {
            self.last
                .checked_sub_days(Days::new(30 * u64::from(k)))
                .filter(|&d| d >= first)
        })
    }
}

/// Every early-warning signal, in the order reports list them.
#[rustfmt::skip]
pub const EARLY_WARNINGS: &[Signal] = &[
    Signal { name: "usage_drop", words: "product use fell by 30% or more in 30 days", present: usage_drop },
    Signal { name: "low_utilization", words: "fewer than half of the seats were used", present: low_utilization },
    Signal { name: "no_product_use", words: "no product use for 30 days", present: no_product_use },
    Signal { name: "champion_left", words: "the champion left", present: champion_left },
    Signal { name: "sponsor_disengaged", words: "no engaged executive sponsor", present: sponsor_disengaged },
    Signal { name: "detractor", words: "a contact answered NPS with 0–6", present: detractor },
    Signal { name: "ticket_surge", words: "3 or more tickets in 30 days, at least twice the 30 days before", present: ticket_surge },
    Signal { name: "payment_failed", words: "a payment failed", present: payment_failed },
    Signal { name: "invoice_overdue", words: "an invoice was overdue", present: invoice_overdue },
    Signal { name: "csm_silent", words: "no CSM touch for 60 days", present: csm_silent },
];

/// A measure read on `day` over `window` days (no key features, the main product).
fn read(facts: &AccountFacts, name: &str, day: NaiveDate, window: u32) -> Option<f64> {
    let spec = measure(name).expect("a known measure");
    let ctx = Context {
        day,
        window,
        key_features: &[],
        seat_product: None,
    };
    spec.value(facts, &ctx)
}

/// The measure, read over 30 days on each monthly sample, meets `test` once.
fn any_month(facts: &AccountFacts, span: Span, name: &str, test: fn(f64) -> bool) -> bool {
    span.monthly_samples()
        .any(|day| read(facts, name, day, 30).is_some_and(test))
}

fn usage_drop(facts: &AccountFacts, span: Span) -> bool {
    any_month(facts, span, "usage_trend", |change| change <= -0.30)
}

fn low_utilization(facts: &AccountFacts, span: Span) -> bool {
    any_month(facts, span, "license_utilization", |share| share < 0.5)
}

fn no_product_use(facts: &AccountFacts, span: Span) -> bool {
    any_month(facts, span, "days_since_last_activity", |days| days >= 30.0)
}

fn champion_left(facts: &AccountFacts, span: Span) -> bool {
    let first = span.first();
    facts.contacts.iter().any(|c| {
        c.role == ContactRole::Champion && c.left_on.is_some_and(|d| d >= first && d <= span.last)
    })
}

fn sponsor_disengaged(facts: &AccountFacts, span: Span) -> bool {
    read(facts, "executive_sponsor_engaged", span.last, span.days) == Some(0.0)
}

fn detractor(facts: &AccountFacts, span: Span) -> bool {
    let first = span.first();
    facts.surveys.iter().any(|s| {
        let day = s.responded_at.date_naive();
        s.kind == SurveyKind::Nps && s.score <= 6 && day >= first && day <= span.last
    })
}

fn ticket_surge(facts: &AccountFacts, span: Span) -> bool {
    let opened = |first: NaiveDate, last: NaiveDate| {
        facts
            .tickets
            .iter()
            .filter(|t| {
                let day = t.created_at.date_naive();
                day >= first && day <= last
            })
            .count()
    };
    span.monthly_samples().any(|last| {
        let first = last - Days::new(29);
        let now = opened(first, last);
        let before = opened(first - Days::new(30), first - Days::new(1));
        now >= 3 && now >= 2 * before
    })
}

fn payment_failed(facts: &AccountFacts, span: Span) -> bool {
    read(facts, "failed_payments", span.last, span.days).is_some_and(|n| n >= 1.0)
}

fn invoice_overdue(facts: &AccountFacts, span: Span) -> bool {
    any_month(facts, span, "overdue_invoices", |n| n >= 1.0)
}

fn csm_silent(facts: &AccountFacts, span: Span) -> bool {
    read(facts, "days_since_csm_touch", span.last, 0).is_none_or(|days| days >= 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_samples_cover_the_span() {
        let span = Span::before("2026-04-01".parse().unwrap(), 90);
        let days: Vec<String> = span.monthly_samples().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2026-03-31", "2026-03-01", "2026-01-30"]);
        assert_eq!(span.first().to_string(), "2026-01-01");
    }

    #[test]
    fn every_signal_has_its_own_name() {
        let mut names: Vec<_> = EARLY_WARNINGS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EARLY_WARNINGS.len());
    }
}
