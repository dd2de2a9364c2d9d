//! Churn risk against real stores: a model fitted at a past day equals one fitted on
//! the data known then, its held-out predictions are calibrated, every feature reads
//! in words, scoring one account needs no refit, and too little history says so —
//! on SQLite and PostgreSQL.

use chrono::{Days, NaiveDate};
use tend_core::health::AccountFacts;
use tend_core::risk::{describe, feature_values, FeatureKind, FeatureSet};
use tend_core::{FxTable, Reporting};
use tend_demo::{generate, Company, DemoConfig};
use tend_engine::health::{load_scorecards, PortfolioFilter};
use tend_engine::risk::{
    explain_risk, refit, rescore, risk_table, score_accounts, RiskError, RiskOptions, Target,
};
use tend_store::test_support;

mod common;
use common::{as_known_on, on_every_backend, store_with};

fn config(accounts: usize, months: u32) -> DemoConfig {
    DemoConfig {
        accounts,
        months,
        seed: 7,
        as_of: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    }
}

fn options() -> RiskOptions {
    RiskOptions {
        horizon_days: 120,
        ..RiskOptions::default()
    }
}

#[tokio::test]
async fn a_model_fitted_at_a_past_day_equals_one_fitted_on_the_data_known_then() {
    let company = generate(&config(260, 24));
    let set = load_scorecards(None).unwrap();
    let past = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let then = store_with(
        &as_known_on(&company, past),
        test_support::sqlite_store(dir.path()).await.unwrap(),
    )
    .await;
    let known_then = refit(&then, &set, past, &options(), &|_, _| {})
        .await
        .unwrap();
    assert!(
        known_then.model_id.is_some(),
        "{:?}",
        known_then.evaluation.too_little
    );
    let expected = then.latest_risk_model("churn").await.unwrap().unwrap();
    on_every_backend("risk_no_look_ahead", &company, |store| {
        let (set, expected, known_then, then) = (&set, &expected, &known_then, &then);
        async move {
            let fitted = refit(&store, set, past, &options(), &|_, _| {})
                .await
                .unwrap();
            assert_eq!(fitted.evaluation, known_then.evaluation);
            let stored = store.latest_risk_model("churn").await.unwrap().unwrap();
            assert_eq!(stored.features, expected.features);
            assert_eq!(stored.model, expected.model);
            assert_eq!(stored.as_of, past);
            // The accounts active then were scored on that day, as in the store of then.
            let now = store.risk_snapshots_on("churn", past).await.unwrap();
            let before = then.risk_snapshots_on("churn", past).await.unwrap();
            assert_eq!(now.len(), before.len());
            for (a, b) in now.iter().zip(&before) {
                assert_eq!(
                    (&a.account_id, a.probability, &a.reasons),
                    (&b.account_id, b.probability, &b.reasons)
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn held_out_predictions_are_calibrated_and_beat_the_base_rate() {
    let company = generate(&config(400, 24));
    let set = load_scorecards(None).unwrap();
    let as_of = config(400, 24).as_of.pred_opt().unwrap();
    on_every_backend("risk_calibration", &company, |store| {
        let set = &set;
        async move {
            let fitted = refit(&store, set, as_of, &options(), &|_, _| {})
                .await
                .unwrap();
            let e = &fitted.evaluation;
            assert!(e.too_little.is_none(), "{:?}", e.too_little);
            let chosen = e.chosen_candidate().unwrap();
            assert!(chosen.folds.len() >= 3, "{chosen:?}");
            let pooled = chosen.pooled.as_ref().unwrap();
            assert!(pooled.brier < pooled.base_rate_brier, "{pooled:?}");
            assert!(
                pooled.roc_auc.unwrap() > pooled.health_auc.unwrap(),
                "{pooled:?}"
            );
            // Every bin with enough rows to judge: its mean prediction within the 95%
            // interval of its observed rate.
            let judged: Vec<_> = e.calibration.iter().filter(|r| r.count >= 30).collect();
            assert!(judged.len() >= 3, "{:?}", e.calibration);
            for bin in judged {
                assert!(
                    bin.observed_low <= bin.mean_predicted
                        && bin.mean_predicted <= bin.observed_high,
                    "{bin:?}"
                );
            }
            // Scores were stored for the last day, highest first in the table.
            let table = risk_table(
                &store,
                Target::Churn,
                None,
                &PortfolioFilter::default(),
                None,
            )
            .await
            .unwrap();
            assert_eq!(table.day, as_of);
            assert_eq!(table.rows.len(), fitted.scored);
            assert!(table
                .rows
                .windows(2)
                .all(|w| w[0].probability >= w[1].probability));
            let total: f64 = table.by_segment.iter().map(|g| g.arr_at_risk).sum();
            let rows: f64 = table.rows.iter().filter_map(|r| r.arr_at_risk).sum();
            assert!((total - rows).abs() < 1e-6 * rows.max(1.0));
        }
    })
    .await;
}

/// The facts of one account of `company`.
fn facts_of<'a>(
    company: &'a Company,
    id: &str,
    keep: &'a mut Vec<tend_core::UsageDaily>,
) -> AccountFacts<'a> {
    let account = company.accounts.iter().find(|a| a.id == id).unwrap();
    *keep = company
        .usage_daily
        .iter()
        .filter(|u| u.account_id == id)
        .cloned()
        .collect();
    AccountFacts {
        account,
        contracts: slice_of(&company.contracts, |c| c.account_id == id),
        contacts: slice_of(&company.contacts, |c| c.account_id == id),
        usage: keep,
        tickets: slice_of(&company.tickets, |t| t.account_id == id),
        surveys: slice_of(&company.survey_responses, |s| s.account_id == id),
        invoices: slice_of(&company.invoices, |i| i.account_id == id),
        payments: &[],
        activities: slice_of(&company.activities, |a| a.account_id == id),
        milestones: &[],
    }
}

/// The run of `list` (grouped by account) that `ours` holds for.
fn slice_of<T>(list: &[T], ours: impl Fn(&T) -> bool) -> &[T] {
    let start = list.iter().position(&ours).unwrap_or(list.len());
    let len = list[start..].iter().take_while(|x| ours(x)).count();
    &list[start..start + len]
}

#[test]
fn every_feature_reads_in_words() {
    let company = generate(&config(30, 12));
    let set = load_scorecards(None).unwrap();
    let categories = tend_core::risk::common_categories(company.accounts.iter(), 1, 12);
    let features = FeatureSet::new(&categories);
    assert!(features
        .features
        .iter()
        .any(|f| matches!(f.kind, FeatureKind::Category { .. })));
    let rates = FxTable::default();
    let reporting = Reporting {
        currency: tend_core::Currency::parse("USD").unwrap(),
        rates: &rates,
    };
    let day = config(30, 12).as_of - Days::new(10);
    let mut checked = 0;
    for account in company
        .accounts
        .iter()
        .filter(|a| a.churned_on.is_none())
        .take(5)
    {
        let mut usage = Vec::new();
        let facts = facts_of(&company, &account.id, &mut usage);
        let card = set.for_account(account);
        let values = feature_values(&features, card, &facts, day, &reporting);
        for (feature, value) in features.features.iter().zip(&values) {
            let words = describe(feature, card, &facts, day, *value, &reporting);
            assert!(!words.trim().is_empty(), "{}", feature.name);
            // Never a bare feature name: no identifiers with underscores or "=".
            assert!(
                !words.contains('_') && !words.contains('='),
                "{}: {words:?}",
                feature.name
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * features.len());
}

#[tokio::test]
async fn one_account_is_rescored_without_a_refit_and_explained() {
    let company = generate(&config(260, 24));
    let set = load_scorecards(None).unwrap();
    let as_of = config(260, 24).as_of.pred_opt().unwrap();
    on_every_backend("risk_incremental", &company, |store| {
        let set = &set;
        async move {
            let fitted = refit(&store, set, as_of, &options(), &|_, _| {})
                .await
                .unwrap();
            assert!(fitted.model_id.is_some());
            let full = store.risk_snapshots_on("churn", as_of).await.unwrap();
            // A non-renewal model keeps snapshots of its own beside churn's.
            let non_renewal = RiskOptions {
                target: Target::NonRenewal,
                ..options()
            };
            let other = refit(&store, set, as_of, &non_renewal, &|_, _| {})
                .await
                .unwrap();
            assert!(
                other.model_id.is_some(),
                "{:?}",
                other.evaluation.too_little
            );
            assert_eq!(store.risk_snapshots_on("churn", as_of).await.unwrap(), full);
            let renewals = store.risk_snapshots_on("non_renewal", as_of).await.unwrap();
            assert_eq!(renewals.len(), full.len());
            assert!(renewals
                .iter()
                .all(|s| s.model_id == other.model_id.unwrap()));
            let id = full[0].account_id.clone();
            let day = as_of + Days::new(1);
            assert_eq!(
                score_accounts(
                    &store,
                    set,
                    std::slice::from_ref(&id),
                    day,
                    &Default::default()
                )
                .await
                .unwrap(),
                1
            );
            let rescored = rescore(&store, set, day, &RiskOptions::default())
                .await
                .unwrap();
            assert_eq!(rescored, full.len());
            let one = store.risk_history(&id, "churn").await.unwrap();
            assert_eq!(one.len(), 2);
            let all_on_day = store.risk_snapshots_on("churn", day).await.unwrap();
            let same = all_on_day.iter().find(|s| s.account_id == id).unwrap();
            assert_eq!(same, &one[1]);
            let explained =
                explain_risk(&store, set, Target::Churn, &id, as_of, &Default::default())
                    .await
                    .unwrap();
            assert!((explained.probability - full[0].probability).abs() < 1e-12);
            assert!(explained.reasons.iter().any(|r| r.contribution > 0.0));
            assert!(explained.reasons.iter().all(|r| !r.words.contains('_')));
            let missing = explain_risk(
                &store,
                set,
                Target::Churn,
                "ACC-NOPE",
                as_of,
                &Default::default(),
            )
            .await;
            assert!(matches!(missing, Err(RiskError::UnknownAccount(_))));
        }
    })
    .await;
}

#[tokio::test]
async fn too_little_history_says_so_and_stores_no_model() {
    let company = generate(&config(25, 6));
    let set = load_scorecards(None).unwrap();
    let as_of = config(25, 6).as_of.pred_opt().unwrap();
    on_every_backend("risk_too_little", &company, |store| {
        let set = &set;
        async move {
            let fitted = refit(&store, set, as_of, &options(), &|_, _| {})
                .await
                .unwrap();
            assert_eq!(fitted.model_id, None);
            let reason = fitted.evaluation.too_little.as_deref().unwrap();
            assert!(reason.contains("needed to learn from"), "{reason}");
            assert!(store.latest_risk_model("churn").await.unwrap().is_none());
            let table = risk_table(
                &store,
                Target::Churn,
                None,
                &PortfolioFilter::default(),
                None,
            )
            .await;
            assert!(matches!(table, Err(RiskError::NoModel(_))));
            // The incremental path has nothing to do without a model.
            let ids = store.account_ids().await.unwrap();
            assert_eq!(
                score_accounts(&store, set, &ids[..1], as_of, &Default::default())
                    .await
                    .unwrap(),
                0
            );
        }
    })
    .await;
}
