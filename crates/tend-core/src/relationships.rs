//! Executive relationships: for each executive of an account still there (an
//! executive sponsor or decision maker), the last time anyone from the vendor
//! touched them (an activity with them) and whether touches are rising or falling —
//! the last [`TREND_DAYS`] days against the same span before.

use chrono::{Days, NaiveDate};

use crate::model::{Activity, Contact, ContactRole};

/// The span touches are counted over, and compared with the one before.
pub const TREND_DAYS: u64 = 90;

/// Whether touches rose, held or fell from the span before to the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Rising,
    Steady,
    Falling,
    /// No touch in either span.
    None,
}

impl Trend {
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Rising => "rising",
            Trend::Steady => "steady",
            Trend::Falling => "falling",
            Trend::None => "none",
        }
    }

    fn of(recent: usize, before: usize) -> Trend {
        match (recent, before) {
            (0, 0) => Trend::None,
            (r, b) if r > b => Trend::Rising,
            (r, b) if r < b => Trend::Falling,
            _ => Trend::Steady,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExecutiveLine {
    pub contact_id: String,
    pub name: String,
    pub title: Option<String>,
    pub role: ContactRole,
    pub last_touch: Option<NaiveDate>,
    /// Touches in the last [`TREND_DAYS`] days, and in the span before.
    pub recent: usize,
    pub before: usize,
    pub trend: Trend,
}

/// The executives of one account's `contacts` on `day` with their touches from
/// `activities` (the account's, any order), in contact id order.
pub fn executive_relationships(
    contacts: &[Contact],
    activities: &[Activity],
    day: NaiveDate,
) -> Vec<ExecutiveLine> {
    let recent_from = day
        .checked_sub_days(Days::new(TREND_DAYS - 1))
        .unwrap_or(day);
    let before_from = recent_from
        .checked_sub_days(Days::new(TREND_DAYS))
        .unwrap_or(recent_from);
    let mut lines: Vec<ExecutiveLine> = contacts
        .iter()
        .filter(|c| {
            matches!(
                c.role,
                ContactRole::ExecutiveSponsor | ContactRole::DecisionMaker
            ) && c.left_on.is_none_or(|d| d > day)
                && c.joined_on.is_none_or(|d| d <= day)
        })
        .map(|c| {
            let touches: Vec<NaiveDate> = activities
                .iter()
                .filter(|a| a.contact_id.as_deref() == Some(c.id.as_str()))
                .map(|a| a.occurred_at.date_naive())
                .filter(|&d| d <= day)
                .collect();
            let recent = touches.iter().filter(|&&d| d >= recent_from).count();
            let before = touches
                .iter()
                .filter(|&&d| d >= before_from && d < recent_from)
                .count();
            ExecutiveLine {
                contact_id: c.id.clone(),
                name: c.name.clone(),
                title: c.title.clone(),
                role: c.role,
                last_touch: touches.iter().max().copied(),
                recent,
                before,
                trend: Trend::of(recent, before),
            }
        })
        .collect();
    lines.sort_by(|a, b| a.contact_id.cmp(&b.contact_id));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ActivityKind;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn contact(id: &str, role: ContactRole, left_on: Option<&str>) -> Contact {
        Contact {
            id: id.into(),
            account_id: "a".into(),
            name: format!("Contact {id}"),
            email: None,
            title: Some("VP Operations".into()),
            role,
            joined_on: None,
            left_on: left_on.map(d),
        }
    }

    fn touch(contact: &str, day: &str) -> Activity {
        Activity {
            id: format!("{contact}-{day}"),
            account_id: "a".into(),
            contact_id: Some(contact.into()),
            kind: ActivityKind::Meeting,
            author: "omar".into(),
            occurred_at: d(day).and_hms_opt(10, 0, 0).unwrap().and_utc(),
            subject: "QBR".into(),
            body: None,
        }
    }

    #[test]
    fn executives_show_their_last_touch_and_whether_touches_rise_or_fall() {
        let contacts = [
            contact("e1", ContactRole::ExecutiveSponsor, None),
            contact("e2", ContactRole::DecisionMaker, None),
            contact("e3", ContactRole::ExecutiveSponsor, Some("2026-05-01")),
            contact("u1", ContactRole::User, None),
        ];
        let activities = [
            // e1: two in the last 90 days (from 2026-04-02), one before.
            touch("e1", "2026-06-20"),
            touch("e1", "2026-04-02"),
            touch("e1", "2026-03-01"),
            // e2: one before, none since; a touch after the day does not count.
            touch("e2", "2026-02-10"),
            touch("e2", "2026-07-05"),
            touch("u1", "2026-06-01"),
        ];
        let lines = executive_relationships(&contacts, &activities, d("2026-06-30"));
        let got: Vec<(&str, Option<NaiveDate>, usize, usize, Trend)> = lines
            .iter()
            .map(|l| {
                (
                    l.contact_id.as_str(),
                    l.last_touch,
                    l.recent,
                    l.before,
                    l.trend,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("e1", Some(d("2026-06-20")), 2, 1, Trend::Rising),
                ("e2", Some(d("2026-02-10")), 0, 1, Trend::Falling),
            ]
        );
    }
}
