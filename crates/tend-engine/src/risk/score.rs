//! Scoring accounts with the stored model: the calibrated probability, its band and
//! the reasons in words, kept as daily risk snapshots. A stored model scores any
//! account on any day without a refit, so new data rescore just their accounts.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tend_core::health::ScorecardSet;
use tend_core::risk::{FeatureSet, Reason};
use tend_core::Currency;
use tend_stats::churn::ChurnModel;
use tend_store::{RiskSnapshot, Store};

use super::rows::{compute, Computed, Money, Setting};
use super::{Bands, RiskError, RiskOptions, Target};

/// The features of a stored model and the currency its ARR feature is in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredFeatures {
    pub names: Vec<String>,
    pub currency: String,
}

/// A reason as a snapshot keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReason {
    pub feature: String,
    pub contribution: f64,
    pub words: String,
}

impl From<&Reason> for StoredReason {
    fn from(r: &Reason) -> Self {
        StoredReason {
            feature: r.feature.clone(),
            contribution: r.contribution,
            words: r.words.clone(),
        }
    }
}

/// A stored model ready to score.
#[derive(Clone)]
pub struct LoadedModel {
    pub id: i64,
    pub target: Target,
    pub horizon_days: u32,
    pub features: FeatureSet,
    pub(crate) money: Money,
    pub model: Arc<ChurnModel>,
}

impl LoadedModel {
    /// The newest model of `target`, `None` when none was fitted.
    pub async fn latest(store: &Store, target: Target) -> Result<Option<LoadedModel>, RiskError> {
        let Some(record) = store.latest_risk_model(target.as_str()).await? else {
            return Ok(None);
        };
        let fail = |reason: String| RiskError::StoredModel {
            target: target.as_str(),
            id: record.id,
            reason,
        };
        let stored: StoredFeatures =
            serde_json::from_str(&record.features).map_err(|e| fail(e.to_string()))?;
        let features = FeatureSet::from_names(&stored.names).map_err(|name| {
            fail(format!(
                "it uses a feature this version does not know: {name}"
            ))
        })?;
        let currency = Currency::parse(&stored.currency).map_err(|e| fail(e.to_string()))?;
        let model = ChurnModel::from_json(&record.model).map_err(|e| fail(e.to_string()))?;
        let target =
            Target::parse(&record.target).ok_or_else(|| fail("an unknown target".into()))?;
        Ok(Some(LoadedModel {
            id: record.id,
            target,
            horizon_days: record.horizon_days.max(0) as u32,
            features,
            money: Money::load(store, Some(currency), record.as_of).await?,
            model: Arc::new(model),
        }))
    }
}

/// Predictions for the accounts `ids` (sorted; all active ones when `None`) on `day`.
pub(crate) async fn predict(
    store: &Store,
    set: &ScorecardSet,
    model: &LoadedModel,
    day: NaiveDate,
    ids: Option<&[String]>,
) -> Result<Vec<Computed>, RiskError> {
    let all;
    let ids = match ids {
        Some(ids) => ids,
        None => {
            all = store.account_ids().await?;
            &all
        }
    };
    compute(
        store,
        set,
        ids,
        &[day],
        Setting {
            features: model.features.clone(),
            money: model.money.clone(),
            labels: None,
            model: Some(model.model.clone()),
        },
        &|_| {},
    )
    .await
}

/// Reasons a snapshot keeps: the top pushes either way.
const REASONS_STORED: usize = 5;

/// Scores `ids` (all active accounts when `None`) on `day` and stores their snapshots;
/// returns how many.
pub(crate) async fn store_scores(
    store: &Store,
    set: &ScorecardSet,
    model: &LoadedModel,
    day: NaiveDate,
    bands: &Bands,
    ids: Option<&[String]>,
) -> Result<usize, RiskError> {
    let computed = predict(store, set, model, day, ids).await?;
    let snapshots: Vec<RiskSnapshot> = computed
        .iter()
        .filter_map(|c| {
            let (probability, reasons) = c.prediction.as_ref()?;
            let kept: Vec<StoredReason> = reasons
                .iter()
                .take(REASONS_STORED)
                .map(StoredReason::from)
                .collect();
            Some(RiskSnapshot {
                account_id: c.row.account_id.clone(),
                target: model.target.as_str().to_string(),
                day,
                model_id: model.id,
                probability: *probability,
                band: bands.band(*probability).to_string(),
                reasons: serde_json::to_string(&kept).expect("reasons serialize"),
            })
        })
        .collect();
    let mut tx = store.begin().await?;
    tx.upsert_risk_snapshots(&snapshots).await?;
    tx.commit().await?;
    Ok(snapshots.len())
}

/// `tend risk rescore`: every active account scored on `day` with the stored model.
pub async fn rescore(
    store: &Store,
    set: &ScorecardSet,
    day: NaiveDate,
    options: &RiskOptions,
) -> Result<usize, RiskError> {
    let model = LoadedModel::latest(store, options.target)
        .await?
        .ok_or(RiskError::NoModel(options.target.as_str()))?;
    store_scores(store, set, &model, day, &options.bands, None).await
}

/// The incremental path: the accounts whose data just changed, rescored on `day`
/// with the stored churn model (no refit). Nothing to do without a model.
pub async fn score_accounts(
    store: &Store,
    set: &ScorecardSet,
    ids: &[String],
    day: NaiveDate,
    bands: &Bands,
) -> Result<usize, RiskError> {
    let Some(model) = LoadedModel::latest(store, Target::Churn).await? else {
        return Ok(0);
    };
    score_accounts_with(store, set, &model, ids, day, bands).await
}

/// [`score_accounts`] with a model already loaded.
pub(crate) async fn score_accounts_with(
    store: &Store,
    set: &ScorecardSet,
    model: &LoadedModel,
    ids: &[String],
    day: NaiveDate,
    bands: &Bands,
) -> Result<usize, RiskError> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    store_scores(store, set, model, day, bands, Some(&ids)).await
}

/// The churn model the live path scores with, kept parsed between rounds: a stored
/// model never changes, so it is read again only when a newer one has been stored.
/// Exchange rates are read afresh each time, as an import may have changed them.
#[derive(Default)]
pub struct ModelCache(std::sync::Mutex<Option<LoadedModel>>);

impl ModelCache {
    pub(crate) async fn churn(&self, store: &Store) -> Result<Option<LoadedModel>, RiskError> {
        let Some(id) = store.latest_risk_model_id(Target::Churn.as_str()).await? else {
            return Ok(None);
        };
        let cached = self
            .0
            .lock()
            .expect("model cache lock")
            .clone()
            .filter(|m| m.id == id);
        let mut model = match cached {
            Some(model) => model,
            None => match LoadedModel::latest(store, Target::Churn).await? {
                Some(model) => {
                    *self.0.lock().expect("model cache lock") = Some(model.clone());
                    return Ok(Some(model));
                }
                None => return Ok(None),
            },
        };
        model.money.rates = tend_core::FxTable::new(&store.fx_rates().await?);
        Ok(Some(model))
    }
}
