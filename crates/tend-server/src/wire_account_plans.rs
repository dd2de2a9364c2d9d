//! The JSON of the account manager's desk: the account plan with its history, the
//! stakeholder map, executive relationships and the account team.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tend_engine::account_plans::{AccountDesk, AccountPlan, Stakeholder, Standing, TeamMember};
use utoipa::ToSchema;

use crate::wire::MoneyBody;

#[derive(Serialize, ToSchema)]
pub struct AccountPlanBody {
    /// Each save is a new version.
    pub version: i64,
    pub objectives: Vec<String>,
    pub growth_strategy: Option<String>,
    pub target_arr: Option<MoneyBody>,
    pub risks: Vec<String>,
    pub next_review_on: Option<NaiveDate>,
    pub owner: Option<String>,
    pub saved_by: String,
    pub saved_at: DateTime<Utc>,
}

impl From<AccountPlan> for AccountPlanBody {
    fn from(p: AccountPlan) -> Self {
        AccountPlanBody {
            version: p.version,
            objectives: p.objectives,
            growth_strategy: p.growth_strategy,
            target_arr: p.target_arr.map(Into::into),
            risks: p.risks,
            next_review_on: p.next_review_on,
            owner: p.owner,
            saved_by: p.saved_by,
            saved_at: p.saved_at,
        }
    }
}

/// The whole plan, written as a new version.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccountPlanBody {
    #[serde(default)]
    pub objectives: Vec<String>,
    pub growth_strategy: Option<String>,
    /// With `currency`.
    pub target_arr_minor: Option<i64>,
    /// ISO 4217 code of the target ARR.
    pub currency: Option<String>,
    #[serde(default)]
    pub risks: Vec<String>,
    pub next_review_on: Option<NaiveDate>,
    /// By default the account manager, else the CSM.
    pub owner: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StandingBody {
    /// high, medium or low.
    pub influence: &'static str,
    /// advocate, supporter, neutral, skeptic or detractor.
    pub sentiment: &'static str,
    /// 1 (barely known) to 5 (trusted).
    pub strength: u8,
    /// The contact they report to.
    pub reports_to: Option<String>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

impl From<Standing> for StandingBody {
    fn from(s: Standing) -> Self {
        StandingBody {
            influence: s.influence.as_str(),
            sentiment: s.sentiment.as_str(),
            strength: s.strength,
            reports_to: s.reports_to,
            updated_by: s.updated_by,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStandingBody {
    pub influence: String,
    pub sentiment: String,
    /// 1–5.
    pub strength: u8,
    pub reports_to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StakeholderBody {
    pub contact_id: String,
    pub name: String,
    pub title: Option<String>,
    /// The contact's role: champion, executive_sponsor, decision_maker, billing, user.
    pub role: &'static str,
    /// Unset until someone maps them.
    pub standing: Option<StandingBody>,
}

impl From<Stakeholder> for StakeholderBody {
    fn from(s: Stakeholder) -> Self {
        StakeholderBody {
            contact_id: s.contact.id,
            name: s.contact.name,
            title: s.contact.title,
            role: s.contact.role.as_str(),
            standing: s.standing.map(Into::into),
        }
    }
}

/// An executive (sponsor or decision maker) and how often they are touched.
#[derive(Serialize, ToSchema)]
pub struct ExecutiveBody {
    pub contact_id: String,
    pub name: String,
    pub title: Option<String>,
    pub role: &'static str,
    pub last_touch: Option<NaiveDate>,
    /// Activities with them in the last 90 days, and in the 90 before.
    pub touches_90d: usize,
    pub touches_prior_90d: usize,
    /// rising, steady, falling or none.
    pub trend: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct TeamMemberBody {
    pub handle: String,
    /// csm, am, solutions_engineer, support_lead or executive_sponsor.
    pub role: &'static str,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

impl From<TeamMember> for TeamMemberBody {
    fn from(m: TeamMember) -> Self {
        TeamMemberBody {
            handle: m.handle,
            role: m.role.as_str(),
            added_by: m.added_by,
            added_at: m.added_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTeamMemberBody {
    /// A user's handle (letters, digits, `.`, `_`, `-`, `@`).
    pub handle: String,
    pub role: String,
}

/// The account manager's desk for one account.
#[derive(Serialize, ToSchema)]
pub struct AccountDeskBody {
    pub account_id: String,
    pub day: NaiveDate,
    pub plan: Option<AccountPlanBody>,
    /// Earlier versions, newest first.
    pub history: Vec<AccountPlanBody>,
    pub stakeholders: Vec<StakeholderBody>,
    pub executives: Vec<ExecutiveBody>,
    pub last_executive_touch: Option<NaiveDate>,
    pub team: Vec<TeamMemberBody>,
}

impl From<AccountDesk> for AccountDeskBody {
    fn from(d: AccountDesk) -> Self {
        AccountDeskBody {
            account_id: d.account_id,
            day: d.day,
            plan: d.plan.map(Into::into),
            history: d.history.into_iter().map(Into::into).collect(),
            stakeholders: d.stakeholders.into_iter().map(Into::into).collect(),
            executives: d
                .executives
                .into_iter()
                .map(|e| ExecutiveBody {
                    contact_id: e.contact_id,
                    name: e.name,
                    title: e.title,
                    role: e.role.as_str(),
                    last_touch: e.last_touch,
                    touches_90d: e.recent,
                    touches_prior_90d: e.before,
                    trend: e.trend.as_str(),
                })
                .collect(),
            last_executive_touch: d.last_executive_touch,
            team: d.team.into_iter().map(Into::into).collect(),
        }
    }
}
