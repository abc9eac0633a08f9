//! The range's working rules an administrator sets in the config file: how long each step of a
//! tip may take (per priority), how long officer sessions last, and how many views of tip text
//! in an hour flag an officer on the range dashboard.
//!
//! A tip's deadlines are computed once, when it arrives, and stored with it: a later change of
//! policy does not move the deadlines of tips already in the queue.

use serde::Deserialize;

use crate::domain::TipStatus;

const MINUTE_MS: i64 = 60 * 1000;

/// How long each step may take for one priority, in minutes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StepLimits {
    /// From arrival to acknowledgement.
    pub acknowledge: u32,
    /// From arrival to first action (assigned to a desk, or acted on).
    pub action: u32,
    /// From arrival to the action-taken report.
    pub report: u32,
}

/// Step limits per priority, as the `[deadlines]` table of the config file gives them, and
/// optionally per category (`[deadlines.categories.cyber_fraud]`): a tip of that category gets the
/// tighter of its priority's and its category's limit for each step.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    /// Urgent tips.
    pub urgent: StepLimits,
    /// High priority.
    pub high: StepLimits,
    /// Normal priority.
    pub normal: StepLimits,
    /// Low priority.
    pub low: StepLimits,
    /// Per category id, where the range wants a category handled faster.
    #[serde(default)]
    pub categories: std::collections::BTreeMap<String, StepLimits>,
}

impl Default for Deadlines {
    /// An urgent tip acknowledged in 5 minutes and acted on in 14; a normal one acknowledged in an
    /// hour, acted on in a day, reported on in three days.
    fn default() -> Self {
        let limits = |acknowledge, action, report| StepLimits {
            acknowledge,
            action,
            report,
        };
        Self {
            urgent: limits(5, 14, 24 * 60),
            high: limits(30, 4 * 60, 48 * 60),
            normal: limits(60, 24 * 60, 72 * 60),
            low: limits(4 * 60, 72 * 60, 7 * 24 * 60),
            categories: std::collections::BTreeMap::new(),
        }
    }
}

/// The deadlines of one tip (Unix ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TipDeadlines {
    /// Acknowledge by.
    pub acknowledge: i64,
    /// First action by.
    pub action: i64,
    /// Action-taken report by.
    pub report: i64,
}

/// Which deadline a tip in some status is working towards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Waiting to be acknowledged.
    Acknowledge,
    /// Waiting for first action.
    Action,
    /// Waiting for the action-taken report.
    Report,
}

impl Step {
    /// The next deadline for a tip in `status`; `None` once action is taken or the tip is closed.
    pub fn next_for(status: TipStatus) -> Option<Self> {
        match status {
            TipStatus::New => Some(Self::Acknowledge),
            TipStatus::Acknowledged => Some(Self::Action),
            TipStatus::Assigned | TipStatus::InAction => Some(Self::Report),
            _ => None,
        }
    }

    /// Name, for message keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Action => "action",
            Self::Report => "report",
        }
    }

    /// This step's deadline among a tip's.
    pub fn due(self, d: &TipDeadlines) -> i64 {
        match self {
            Self::Acknowledge => d.acknowledge,
            Self::Action => d.action,
            Self::Report => d.report,
        }
    }
}

impl Deadlines {
    /// The limits for a priority name (`urgent`, `high`, `normal`, `low`; anything else is normal).
    pub fn limits(&self, priority: &str) -> StepLimits {
        match priority {
            "urgent" => self.urgent,
            "high" => self.high,
            "low" => self.low,
            _ => self.normal,
        }
    }

    /// A tip's deadlines from its arrival time and priority.
    pub fn for_tip(&self, priority: &str, arrived_ms: i64) -> TipDeadlines {
        self.for_tip_in(priority, None, arrived_ms)
    }

    /// A tip's deadlines from its arrival time, priority and category (the tighter limit of the
    /// two for each step).
    pub fn for_tip_in(
        &self,
        priority: &str,
        category: Option<&str>,
        arrived_ms: i64,
    ) -> TipDeadlines {
        let mut l = self.limits(priority);
        if let Some(c) = category.and_then(|c| self.categories.get(c)) {
            l = StepLimits {
                acknowledge: l.acknowledge.min(c.acknowledge),
                action: l.action.min(c.action),
                report: l.report.min(c.report),
            };
        }
        let at = |minutes: u32| arrived_ms + i64::from(minutes) * MINUTE_MS;
        TipDeadlines {
            acknowledge: at(l.acknowledge),
            action: at(l.action),
            report: at(l.report),
        }
    }

    /// Refuses limits out of order or zero, with a message naming the priority.
    pub fn validate(&self) -> Result<(), String> {
        let named = [
            ("urgent".to_owned(), self.urgent),
            ("high".to_owned(), self.high),
            ("normal".to_owned(), self.normal),
            ("low".to_owned(), self.low),
        ];
        let categories = self
            .categories
            .iter()
            .map(|(c, l)| (format!("categories.{c}"), *l));
        for (name, l) in named.into_iter().chain(categories) {
            if l.acknowledge == 0 || l.acknowledge > l.action || l.action > l.report {
                return Err(format!(
                    "deadlines.{name}: need 0 < acknowledge <= action <= report (minutes), got {} / {} / {}",
                    l.acknowledge, l.action, l.report
                ));
            }
        }
        Ok(())
    }
}

/// The console's rules, as the `[console]` table of the config file gives them.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleRules {
    /// An officer who opens more tip texts than this in an hour is flagged to the range supervisor.
    pub view_flag_per_hour: u32,
    /// A session unused this long ends.
    pub idle_timeout_minutes: u32,
    /// A session ends this long after login, used or not.
    pub session_hours: u32,
    /// The hour (0 to 23, India Standard Time) at which the previous day's digest is made.
    pub digest_hour: u8,
}

impl Default for ConsoleRules {
    fn default() -> Self {
        Self {
            view_flag_per_hour: 60,
            idle_timeout_minutes: 30,
            session_hours: 12,
            digest_hour: 8,
        }
    }
}

impl ConsoleRules {
    /// Idle timeout in ms.
    pub fn idle_timeout_ms(&self) -> i64 {
        i64::from(self.idle_timeout_minutes) * MINUTE_MS
    }

    /// Absolute session length in ms.
    pub fn session_ms(&self) -> i64 {
        i64::from(self.session_hours) * 60 * MINUTE_MS
    }

    /// Refuses zero values and an idle timeout longer than the session.
    pub fn validate(&self) -> Result<(), String> {
        if self.view_flag_per_hour == 0 || self.idle_timeout_minutes == 0 || self.session_hours == 0
        {
            return Err("console: view_flag_per_hour, idle_timeout_minutes and session_hours must be above 0".into());
        }
        if self.digest_hour > 23 {
            return Err(format!(
                "console: digest_hour = {} must be an hour from 0 to 23",
                self.digest_hour
            ));
        }
        if i64::from(self.idle_timeout_minutes) > i64::from(self.session_hours) * 60 {
            return Err(
                "console: idle_timeout_minutes must not be longer than session_hours".into(),
            );
        }
        Ok(())
    }
}

/// All of the above.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Deadlines per priority.
    pub deadlines: Deadlines,
    /// Console rules.
    pub console: ConsoleRules,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_follow_priority_and_arrival() {
        let d = Deadlines::default().for_tip("urgent", 1_000);
        assert_eq!(d.acknowledge, 1_000 + 5 * MINUTE_MS);
        assert_eq!(d.action, 1_000 + 14 * MINUTE_MS);
        let n = Deadlines::default().for_tip("something else", 0);
        assert_eq!(n.acknowledge, 60 * MINUTE_MS);
        assert_eq!(n.report, 72 * 60 * MINUTE_MS);
    }

    #[test]
    fn a_category_can_tighten_each_step() {
        let mut d = Deadlines::default();
        d.categories.insert(
            "cyber_fraud".into(),
            StepLimits {
                acknowledge: 15,
                action: 30,
                report: 100 * 60,
            },
        );
        // Normal priority: acknowledge 60, action 1440, report 4320 minutes; the tighter wins.
        let t = d.for_tip_in("normal", Some("cyber_fraud"), 0);
        assert_eq!(t.acknowledge, 15 * MINUTE_MS);
        assert_eq!(t.action, 30 * MINUTE_MS);
        assert_eq!(t.report, 72 * 60 * MINUTE_MS);
        // Urgent is already tighter than the category.
        assert_eq!(
            d.for_tip_in("urgent", Some("cyber_fraud"), 0).acknowledge,
            5 * MINUTE_MS
        );
        assert_eq!(
            d.for_tip_in("normal", Some("theft"), 0),
            d.for_tip("normal", 0)
        );
    }

    #[test]
    fn the_next_step_follows_the_status() {
        assert_eq!(Step::next_for(TipStatus::New), Some(Step::Acknowledge));
        assert_eq!(Step::next_for(TipStatus::Acknowledged), Some(Step::Action));
        assert_eq!(Step::next_for(TipStatus::InAction), Some(Step::Report));
        assert_eq!(Step::next_for(TipStatus::ActionTaken), None);
        assert_eq!(Step::next_for(TipStatus::Closed), None);
    }

    #[test]
    fn bad_limits_are_refused_with_the_priority_named() {
        let mut d = Deadlines::default();
        d.high.acknowledge = 500;
        assert!(d.validate().unwrap_err().contains("deadlines.high"));
        assert!(Deadlines::default().validate().is_ok());
        let mut c = Deadlines::default();
        c.categories.insert(
            "cyber_fraud".into(),
            StepLimits {
                acknowledge: 10,
                action: 5,
                report: 60,
            },
        );
        assert!(
            c.validate()
                .unwrap_err()
                .contains("deadlines.categories.cyber_fraud")
        );
        let c = ConsoleRules {
            idle_timeout_minutes: 24 * 60,
            ..Default::default()
        };
        assert!(c.validate().is_err());
    }
}
