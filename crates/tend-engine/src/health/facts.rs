//! Loading accounts with the history their scorecards read, and cutting the loaded
//! lists into each account's [`AccountFacts`].

use std::collections::HashMap;
use std::ops::Range;

use chrono::{Days, NaiveDate};
use tend_core::health::{AccountFacts, MeasureSpec, ScorecardSet, Source};
use tend_core::rollup::combine_usage;
use tend_core::{Account, UsageDaily};
use tend_store::{AccountData, HistoryWindow, Store, StoreError};

/// Accounts loaded together, with each one's rows located in the shared lists.
pub(crate) struct Loaded {
    data: AccountData,
    /// The success plans' milestones, by account and due day.
    milestones: Vec<tend_core::Milestone>,
    spans: Vec<Spans>,
}

#[derive(Default, Clone)]
struct Spans {
    contacts: Range<usize>,
    contracts: Range<usize>,
    usage: Range<usize>,
    tickets: Range<usize>,
    surveys: Range<usize>,
    invoices: Range<usize>,
    payments: Range<usize>,
    activities: Range<usize>,
    milestones: Range<usize>,
}

impl Loaded {
    /// Loads accounts `first..=last` with the history `window`; with `days`, only
    /// the accounts active on one of those days (first and last, inclusive).
    pub(crate) async fn load(
        store: &Store,
        first: &str,
        last: &str,
        days: Option<(NaiveDate, NaiveDate)>,
        window: HistoryWindow,
    ) -> Result<Loaded, StoreError> {
        let data = store.account_data(first, last, days, window).await?;
        // Milestones are few and read whole: a plan's history is short.
        let milestones = store
            .milestones_between(first, last)
            .await?
            .into_iter()
            .filter_map(crate::playbooks::inputs::milestone)
            .collect();
        Ok(Loaded::new(data, milestones))
    }

    fn new(mut data: AccountData, milestones: Vec<tend_core::Milestone>) -> Loaded {
        let imported = std::mem::take(&mut data.usage);
        let from_events = std::mem::take(&mut data.event_usage);
        data.usage = combined_usage(&data.accounts, imported, from_events);
        let ids: Vec<&str> = data.accounts.iter().map(|a| a.id.as_str()).collect();
        let mut spans = vec![Spans::default(); ids.len()];
        macro_rules! locate {
            ($field:ident) => {
                for (span, range) in spans
                    .iter_mut()
                    .zip(ranges(&ids, &data.$field, |r| &r.account_id))
                {
                    span.$field = range;
                }
            };
        }
        locate!(contacts);
        locate!(contracts);
        locate!(usage);
        locate!(tickets);
        locate!(surveys);
        locate!(invoices);
        locate!(payments);
        locate!(activities);
        for (span, range) in spans
            .iter_mut()
            .zip(ranges(&ids, &milestones, |m| &m.account_id))
        {
            span.milestones = range;
        }
        Loaded {
            data,
            milestones,
            spans,
        }
    }

    pub(crate) fn accounts(&self) -> &[Account] {
        &self.data.accounts
    }

    /// The facts of the `i`-th loaded account.
    pub(crate) fn facts(&self, i: usize) -> AccountFacts<'_> {
        let s = &self.spans[i];
        let d = &self.data;
        AccountFacts {
            account: &d.accounts[i],
            contracts: &d.contracts[s.contracts.clone()],
            contacts: &d.contacts[s.contacts.clone()],
            usage: &d.usage[s.usage.clone()],
            tickets: &d.tickets[s.tickets.clone()],
            surveys: &d.surveys[s.surveys.clone()],
            invoices: &d.invoices[s.invoices.clone()],
            payments: &d.payments[s.payments.clone()],
            activities: &d.activities[s.activities.clone()],
            milestones: &self.milestones[s.milestones.clone()],
        }
    }
}

/// Each account's imported rollups and rollups of raw events, combined into the usage
/// its measures read (by account, then day).
fn combined_usage(
    accounts: &[Account],
    imported: Vec<UsageDaily>,
    from_events: Vec<UsageDaily>,
) -> Vec<UsageDaily> {
    if from_events.is_empty() {
        return imported;
    }
    let ids: Vec<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
    let by_account = |rows: &[UsageDaily]| ranges(&ids, rows, |r| &r.account_id);
    let (imported_spans, event_spans) = (by_account(&imported), by_account(&from_events));
    imported_spans
        .into_iter()
        .zip(event_spans)
        .flat_map(|(i, e)| combine_usage(&imported[i], &from_events[e]))
        .collect()
}

/// For ids in order and rows sorted by account, the range of rows of each id.
fn ranges<T>(ids: &[&str], rows: &[T], account: impl Fn(&T) -> &str) -> Vec<Range<usize>> {
    let mut start = 0;
    ids.iter()
        .map(|id| {
            start += rows[start..].partition_point(|r| account(r) < *id);
            let len = rows[start..].partition_point(|r| account(r) == *id);
            let range = start..start + len;
            start += len;
            range
        })
        .collect()
}

/// The history scoring `first_day` and later days needs: each kind of record as far
/// back as the longest window of the measures that read it.
pub(crate) fn history_window(set: &ScorecardSet, first_day: NaiveDate) -> HistoryWindow {
    let measures = set
        .scorecards
        .iter()
        .flat_map(|card| card.measures().map(|(_, m, window)| (m.spec(), window)));
    window_of(measures, first_day)
}

/// The history every measure needs, with the scorecards' windows and the measures'
/// own: churn features read all of them.
pub(crate) fn history_window_of_all_measures(
    set: &ScorecardSet,
    first_day: NaiveDate,
) -> HistoryWindow {
    let cards = set
        .scorecards
        .iter()
        .flat_map(|card| card.measures().map(|(_, m, window)| (m.spec(), window)));
    let all = tend_core::health::MEASURES
        .iter()
        .map(|spec| (spec, spec.window));
    window_of(cards.chain(all), first_day)
}

fn window_of<'a>(
    measures: impl Iterator<Item = (&'a MeasureSpec, u32)>,
    first_day: NaiveDate,
) -> HistoryWindow {
    let mut reach: HashMap<Source, u32> = HashMap::new();
    for (spec, window) in measures {
        for &source in spec.reads {
            let days = reach.entry(source).or_default();
            *days = (*days).max(spec.lookback(window));
        }
    }
    let since = |source: Source| {
        let days = reach.get(&source).copied().unwrap_or(0);
        first_day
            .checked_sub_days(Days::new(u64::from(days)))
            .unwrap_or(NaiveDate::MIN)
    };
    HistoryWindow {
        usage: since(Source::Usage),
        feature_use: since(Source::FeatureUse),
        tickets: since(Source::Tickets),
        surveys: since(Source::Surveys),
        invoices: since(Source::Invoices),
        payments: since(Source::Payments),
        activities: since(Source::Activities),
    }
}

/// Whether an account has a health score on `day`: it existed and had not churned.
pub(crate) fn is_scored_on(account: &Account, day: NaiveDate) -> bool {
    account.created_on <= day && account.churned_on.is_none_or(|churned| churned > day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_find_each_accounts_rows_and_skip_strangers() {
        let rows = ["a", "a", "b", "c", "c", "c", "e"];
        let ids = ["a", "c", "d", "e"];
        assert_eq!(ranges(&ids, &rows, |r| r), vec![0..2, 3..6, 6..6, 6..7]);
    }
}
