//! The escalation ladder. A tip late on its running deadline (see `policy`) climbs one rung for
//! each further allowance of that step that passes: the station's duty officer, then the ASP,
//! then the SP, then the range supervisor. Tips that allege police involvement start at the SP,
//! never at the station. Acknowledging or acting on a tip moves it to the next step, whose own
//! deadline starts the ladder again; closing it stops it.
//!
//! Each rung is taken with a conditional update (the tip must still be on the step and rung the
//! job read), so with several nodes running the job each escalation happens once. Every rung is
//! recorded in the audit log in the same transaction and announced on the live console.

use serde_json::json;

use crate::app::Core;
use crate::domain::TipStatus;
use crate::policy::{Step, TipDeadlines};
use crate::store::{AuditDraft, DueTip, Escalation};

/// The rungs, bottom to top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rung {
    /// The station's duty officer.
    Station = 1,
    /// The Additional SP of the district.
    Asp = 2,
    /// The SP of the district.
    Sp = 3,
    /// The range supervisor (IG/DIG).
    Range = 4,
}

impl Rung {
    /// From the stored level (0 or out of range: none).
    pub fn from_level(level: i64) -> Option<Self> {
        match level {
            1 => Some(Self::Station),
            2 => Some(Self::Asp),
            3 => Some(Self::Sp),
            4.. => Some(Self::Range),
            _ => None,
        }
    }

    /// Name, for message keys and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Station => "station",
            Self::Asp => "asp",
            Self::Sp => "sp",
            Self::Range => "range",
        }
    }
}

/// The rung a tip should be on now for `step`, or `None` if that step is not late.
///
/// The first rung is reached at the deadline; each further allowance of the step (the time from
/// arrival to the deadline) climbs one more, up to the range supervisor.
pub fn rung_due(
    step: Step,
    deadlines: &TipDeadlines,
    arrived_ms: i64,
    police_involvement: bool,
    now: i64,
) -> Option<Rung> {
    let due = step.due(deadlines);
    if now < due {
        return None;
    }
    let allowance = allowance(step, deadlines, arrived_ms);
    let missed = 1 + (now - due) / allowance;
    Rung::from_level((first_rung(police_involvement) + missed - 1).min(Rung::Range as i64))
}

/// When the rung above `level` is reached on `step` (none above the range supervisor).
pub fn next_climb(
    step: Step,
    deadlines: &TipDeadlines,
    arrived_ms: i64,
    police_involvement: bool,
    level: i64,
) -> Option<i64> {
    if level >= Rung::Range as i64 {
        return None;
    }
    let first = first_rung(police_involvement);
    let climbs = (level + 1 - first).max(0);
    Some(step.due(deadlines) + climbs * allowance(step, deadlines, arrived_ms))
}

fn first_rung(police_involvement: bool) -> i64 {
    if police_involvement {
        Rung::Sp as i64
    } else {
        Rung::Station as i64
    }
}

/// The time a step was given (arrival to its deadline), at least a minute.
fn allowance(step: Step, deadlines: &TipDeadlines, arrived_ms: i64) -> i64 {
    (step.due(deadlines) - arrived_ms).max(60_000)
}

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Late tips looked at.
    pub late: usize,
    /// Rungs climbed (each recorded and announced).
    pub escalated: usize,
}

/// Most late tips handled per run.
const BATCH: i64 = 500;

/// One pass over the tips whose running deadline has passed.
pub async fn run(core: &Core) -> Result<Report, crate::intake::IntakeError> {
    let now = core.clock.now_ms();
    let due = core.store.late_tips(now, BATCH).await?;
    let mut report = Report {
        late: due.len(),
        ..Default::default()
    };
    for tip in due {
        if escalate(core, &tip, now).await? {
            report.escalated += 1;
        }
    }
    Ok(report)
}

async fn escalate(core: &Core, tip: &DueTip, now: i64) -> Result<bool, crate::intake::IntakeError> {
    let Some(step) = TipStatus::parse(&tip.status).and_then(Step::next_for) else {
        return Ok(false);
    };
    // The rung already reached on this step (a new step starts from none).
    let current = if tip.escalation_step.as_deref() == Some(step.as_str()) {
        tip.escalation_level
    } else {
        0
    };
    let (d, at, police) = (&tip.deadlines, tip.created_at, tip.police_involvement);
    let target = rung_due(step, d, at, police, now).map_or(0, |r| r as i64);
    let climbs = target > current;
    let level = target.max(current);
    // The rung's officers are told in the same transaction as the climb.
    let outbox = match Rung::from_level(level).filter(|_| climbs) {
        Some(rung) => {
            crate::alerts::for_escalation(core, tip.tip_id, step.as_str(), rung, now).await?
        }
        None => Vec::new(),
    };
    let change = Escalation {
        tip_id: tip.tip_id,
        status: tip.status.clone(),
        from_step: tip.escalation_step.clone(),
        from_level: tip.escalation_level,
        step: step.as_str().to_owned(),
        level,
        next_due: next_climb(step, d, at, police, level),
        outbox,
        audit: climbs.then(|| AuditDraft {
            actor: "system:escalation".into(),
            action: "tip.escalate".into(),
            subject: format!("tip:{}", tip.tip_id.get()),
            detail: json!({
                "step": step.as_str(),
                "to": Rung::from_level(level).map(Rung::as_str),
            })
            .to_string(),
            created_at: now,
        }),
    };
    // Another node may have taken this rung first, or the tip moved on: then nothing is done.
    if !core.store.escalate(change).await? || !climbs {
        return Ok(false);
    }
    let event = crate::intake::TipEvent {
        district_id: tip.district_id.clone(),
        urgent: true,
        police_involvement: tip.police_involvement,
    };
    crate::intake::announce(core, event).await;
    core.outbox_wake.notify_one();
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn deadlines() -> TipDeadlines {
        // Arrived at 0: acknowledge by 5 min, act by 14, report by 24 h.
        crate::policy::Deadlines::default().for_tip("urgent", 0)
    }

    #[test]
    fn each_further_allowance_climbs_one_rung() {
        let d = deadlines();
        let at = |m: i64| rung_due(Step::Acknowledge, &d, 0, false, m * MIN);
        assert_eq!(at(4), None);
        assert_eq!(at(5), Some(Rung::Station));
        assert_eq!(at(9), Some(Rung::Station));
        assert_eq!(at(10), Some(Rung::Asp));
        assert_eq!(at(15), Some(Rung::Sp));
        assert_eq!(at(20), Some(Rung::Range));
        assert_eq!(at(500), Some(Rung::Range));
    }

    #[test]
    fn police_involvement_starts_at_the_sp() {
        let d = deadlines();
        assert_eq!(
            rung_due(Step::Acknowledge, &d, 0, true, 5 * MIN),
            Some(Rung::Sp)
        );
        assert_eq!(
            rung_due(Step::Acknowledge, &d, 0, true, 10 * MIN),
            Some(Rung::Range)
        );
    }

    #[test]
    fn the_next_look_is_at_the_next_rung() {
        let d = deadlines();
        let next = |level, police| next_climb(Step::Acknowledge, &d, 0, police, level);
        assert_eq!(next(0, false), Some(5 * MIN));
        assert_eq!(next(1, false), Some(10 * MIN));
        assert_eq!(next(3, false), Some(20 * MIN));
        assert_eq!(next(4, false), None);
        assert_eq!(
            next(0, true),
            Some(5 * MIN),
            "police: the SP at the deadline"
        );
        assert_eq!(next(3, true), Some(10 * MIN));
    }

    #[test]
    fn the_next_step_has_its_own_clock() {
        let d = deadlines();
        assert_eq!(rung_due(Step::Action, &d, 0, false, 13 * MIN), None);
        assert_eq!(
            rung_due(Step::Action, &d, 0, false, 14 * MIN),
            Some(Rung::Station)
        );
        assert_eq!(
            rung_due(Step::Action, &d, 0, false, 28 * MIN),
            Some(Rung::Asp)
        );
    }
}
