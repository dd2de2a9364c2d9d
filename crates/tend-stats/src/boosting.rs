//! Gradient-boosted trees for churn (forust-ml), with exact tree SHAP contributions.

use forust_ml::gradientbooster::ContributionsMethod;
use forust_ml::{GradientBooster, Matrix};

use crate::classifier::{check_rows, Classifier, Contributions};
use crate::logistic::sigmoid;
use crate::StatsError;

#[derive(Debug, Clone, PartialEq)]
pub struct BoostingOptions {
    pub trees: usize,
    pub learning_rate: f32,
    pub max_depth: usize,
    /// L2 penalty on leaf weights.
    pub l2: f32,
    /// Minimum hessian (about p(1 − p) per row) in a leaf.
    pub min_leaf_weight: f32,
    pub seed: u64,
}

impl Default for BoostingOptions {
    fn default() -> Self {
        BoostingOptions {
            trees: 100,
            learning_rate: 0.1,
            max_depth: 4,
            l2: 1.0,
            min_leaf_weight: 1.0,
            seed: 0,
        }
    }
}

/// A fitted gradient-boosted tree classifier (log-loss).
pub struct BoostedTrees {
    booster: GradientBooster,
    width: usize,
}

impl std::fmt::Debug for BoostedTrees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoostedTrees")
            .field("features", &self.width)
            .finish_non_exhaustive()
    }
}

/// Stored as forust's own JSON model with the width beside it.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredTrees {
    forust: String,
    width: usize,
}

impl serde::Serialize for BoostedTrees {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let forust = self
            .booster
            .json_dump()
            .map_err(|e| serde::ser::Error::custom(e.to_string()))?;
        StoredTrees {
            forust,
            width: self.width,
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for BoostedTrees {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredTrees::deserialize(deserializer)?;
        let booster = GradientBooster::from_json(&stored.forust)
            .map_err(|e| serde::de::Error::custom(e.to_string()))?;
        Ok(BoostedTrees {
            booster,
            width: stored.width,
        })
    }
}

impl BoostedTrees {
    fn raw(&self, row: &[f64]) -> f64 {
        self.booster
            .predict(&Matrix::new(row, 1, self.width), false)[0]
    }
}

impl Classifier for BoostedTrees {
    type Options = BoostingOptions;

    /// ```
    /// use tend_stats::{BoostedTrees, Classifier};
    /// let rows: Vec<Vec<f64>> = (0..200).map(|i| vec![(i % 20) as f64, (i % 7) as f64]).collect();
    /// let labels: Vec<bool> = rows.iter().map(|r| r[0] > 12.0).collect();
    /// let model = BoostedTrees::fit(&rows, &labels, &Default::default()).unwrap();
    /// assert!(model.predict_proba(&[18.0, 3.0]) > 0.9 && model.predict_proba(&[2.0, 3.0]) < 0.1);
    /// // The contributions add up to the prediction's log-odds.
    /// let c = model.contributions(&[18.0, 3.0]);
    /// let p = model.predict_proba(&[18.0, 3.0]);
    /// assert!((c.log_odds() - (p / (1.0 - p)).ln()).abs() < 1e-6);
    /// ```
    fn fit(
        rows: &[Vec<f64>],
        labels: &[bool],
        options: &BoostingOptions,
    ) -> Result<Self, StatsError> {
        let width = check_rows(rows, labels)?;
        // forust reads features column by column.
        let columns: Vec<f64> = (0..width)
            .flat_map(|k| rows.iter().map(move |r| r[k]))
            .collect();
        let y: Vec<f64> = labels.iter().map(|&l| f64::from(u8::from(l))).collect();
        let mut booster = GradientBooster::default()
            .set_iterations(options.trees)
            .set_learning_rate(options.learning_rate)
            .set_max_depth(options.max_depth)
            .set_l2(options.l2)
            .set_min_leaf_weight(options.min_leaf_weight)
            .set_seed(options.seed);
        booster
            .fit_unweighted(&Matrix::new(&columns, rows.len(), width), &y, None)
            .map_err(|e| StatsError::Model(e.to_string()))?;
        Ok(BoostedTrees { booster, width })
    }

    fn predict_proba(&self, row: &[f64]) -> f64 {
        sigmoid(self.raw(row))
    }

    /// Tree SHAP values: exact Shapley contributions to the log-odds.
    fn contributions(&self, row: &[f64]) -> Contributions {
        let mut values = self.booster.predict_contributions(
            &Matrix::new(row, 1, self.width),
            ContributionsMethod::Shapley,
            false,
        );
        let base = values.pop().expect("a bias column");
        Contributions {
            base,
            features: values,
        }
    }
}
