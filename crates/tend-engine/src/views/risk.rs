//! Churn risk, retention and lifetime value as the interfaces ask for them: reads
//! for any signed-in caller, refits and rescores as audited portfolio writes run as
//! jobs.

use chrono::NaiveDate;
use tend_core::Currency;

use crate::app::{App, AppError};
use crate::health::PortfolioFilter;
use crate::jobs::JobStatus;
use crate::policy::{authorize, Action, Actor};
use crate::retention::clv::{clv_report, ClvOptions, ClvReport};
use crate::retention::why::{why_accounts_left, WhyReport};
use crate::retention::{retention_report, RetentionError, RetentionReport};
use crate::risk::{
    explain_risk, risk_table, Bands, RiskError, RiskExplanation, RiskOptions, RiskTable, Target,
};

impl From<RiskError> for AppError {
    fn from(error: RiskError) -> Self {
        match error {
            RiskError::UnknownAccount(id) => AppError::not_found("account", id),
            RiskError::NoModel(_)
            | RiskError::NoSnapshots(_)
            | RiskError::NotActive(..)
            | RiskError::StoredModel { .. } => AppError::Conflict(error.to_string()),
            RiskError::Health(e) => e.into(),
            RiskError::Store(e) => e.into(),
            RiskError::Stats(e) => AppError::Conflict(format!("the churn model: {e}")),
            RiskError::Export(e) => AppError::Internal(e),
        }
    }
}

impl From<RetentionError> for AppError {
    fn from(error: RetentionError) -> Self {
        match error {
            RetentionError::Store(e) => e.into(),
            RetentionError::Risk(e) => e.into(),
            RetentionError::Health(e) => e.into(),
            RetentionError::Invalid(message) => AppError::invalid("discount_rate", message),
            RetentionError::NoAccounts(_) | RetentionError::Stats(_) => {
                AppError::Conflict(error.to_string())
            }
        }
    }
}

impl App {
    async fn day_or_default(&self, day: Option<NaiveDate>) -> Result<NaiveDate, AppError> {
        match day {
            Some(day) => Ok(day),
            None => Ok(crate::default_day(self.store(), self.today()).await?),
        }
    }

    /// The stored risk of `target` on `day` (the latest scored day by default),
    /// highest first.
    pub async fn risk_table(
        &self,
        actor: &Actor,
        target: Target,
        day: Option<NaiveDate>,
        filter: &PortfolioFilter,
        currency: Option<Currency>,
    ) -> Result<RiskTable, AppError> {
        authorize(actor, Action::Read)?;
        Ok(risk_table(self.store(), target, day, filter, currency).await?)
    }

    /// One account's risk on `day` (the last day of the data by default), explained.
    pub async fn explain_risk(
        &self,
        actor: &Actor,
        target: Target,
        id: &str,
        day: Option<NaiveDate>,
        bands: &Bands,
    ) -> Result<RiskExplanation, AppError> {
        authorize(actor, Action::Read)?;
        let day = self.day_or_default(day).await?;
        Ok(explain_risk(self.store(), self.scorecards(), target, id, day, bands).await?)
    }

    pub async fn retention(
        &self,
        actor: &Actor,
        day: Option<NaiveDate>,
        currency: Option<Currency>,
    ) -> Result<RetentionReport, AppError> {
        authorize(actor, Action::Read)?;
        let day = self.day_or_default(day).await?;
        Ok(retention_report(self.store(), day, currency).await?)
    }

    pub async fn why_accounts_left(
        &self,
        actor: &Actor,
        day: Option<NaiveDate>,
        currency: Option<Currency>,
    ) -> Result<WhyReport, AppError> {
        authorize(actor, Action::Read)?;
        let day = self.day_or_default(day).await?;
        Ok(why_accounts_left(self.store(), self.scorecards(), day, currency).await?)
    }

    pub async fn clv(
        &self,
        actor: &Actor,
        day: Option<NaiveDate>,
        options: &ClvOptions,
    ) -> Result<ClvReport, AppError> {
        authorize(actor, Action::Read)?;
        let day = self.day_or_default(day).await?;
        Ok(clv_report(self.store(), day, options).await?)
    }

    /// Starts a refit of the risk model of `options.target` on the data through
    /// `as_of` as a job: backtest, fit, store, score every active account.
    pub fn start_risk_refit(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        options: RiskOptions,
    ) -> Result<JobStatus, AppError> {
        authorize(actor, Action::WritePortfolio)?;
        check_options(&options)?;
        let actor_for_audit = actor.clone();
        self.start_job(
            "risk.refit",
            actor,
            Box::new(move |app, progress| {
                Box::pin(async move {
                    let refit = crate::risk::refit(
                        app.store(),
                        app.scorecards(),
                        as_of,
                        &options,
                        &|d, t| progress(d, t),
                    )
                    .await?;
                    let model = refit
                        .model_id
                        .map_or("none".to_string(), |id| id.to_string());
                    app.audit(
                        &actor_for_audit,
                        "risk.refit",
                        options.target.as_str(),
                        &[
                            ("model", model.clone().into()),
                            ("scored", refit.scored.into()),
                            ("as_of", as_of.to_string().into()),
                        ],
                    )
                    .await?;
                    let message = match refit.model_id {
                        Some(id) => format!(
                            "fitted {} model {id} and scored {} accounts",
                            options.target.as_str(),
                            refit.scored
                        ),
                        None => format!(
                            "no model stored: {}",
                            refit.evaluation.too_little.clone().unwrap_or_default()
                        ),
                    };
                    Ok((crate::jobs::JobOutcome::RiskRefit(Box::new(refit)), message))
                })
            }),
        )
    }

    /// Starts a backtest of both kinds of risk model as a job; nothing is stored.
    pub fn start_risk_evaluation(
        &self,
        actor: &Actor,
        as_of: NaiveDate,
        options: RiskOptions,
    ) -> Result<JobStatus, AppError> {
        authorize(actor, Action::Read)?;
        check_options(&options)?;
        self.start_job(
            "risk.evaluation",
            actor,
            Box::new(move |app, progress| {
                Box::pin(async move {
                    let evaluation = crate::risk::evaluate(
                        app.store(),
                        app.scorecards(),
                        as_of,
                        &options,
                        &|d, t| progress(d, t),
                    )
                    .await?;
                    let message = match &evaluation.chosen {
                        Some(kind) => format!("backtested; the {} model is chosen", kind.name()),
                        None => format!(
                            "too little to learn from: {}",
                            evaluation.too_little.clone().unwrap_or_default()
                        ),
                    };
                    Ok((
                        crate::jobs::JobOutcome::RiskEvaluation(Box::new(evaluation)),
                        message,
                    ))
                })
            }),
        )
    }
}

fn check_options(options: &RiskOptions) -> Result<(), AppError> {
    if !(30..=1095).contains(&options.horizon_days) {
        return Err(AppError::invalid(
            "/horizon_days",
            "must be from 30 to 1095",
        ));
    }
    if !(7..=365).contains(&options.every_days) {
        return Err(AppError::invalid("/every_days", "must be from 7 to 365"));
    }
    if !(1..=120).contains(&options.snapshots) {
        return Err(AppError::invalid("/snapshots", "must be from 1 to 120"));
    }
    Ok(())
}
