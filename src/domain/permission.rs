//! The role table: who may do what, to which tip. The single source of truth for every route and
//! every query of the officer console (docs/roles.md says the same in prose). Pure: it looks only
//! at the officer's scope and the few facts of a tip it is given, never at storage.
//!
//! Least privilege, the informer first: the admin never reaches a tip; station and unit officers
//! reach only tips assigned to their desk, and only the brief; the control room never reaches a
//! tip that alleges police involvement; a station barred from a tip never reaches it, even if it
//! was assigned by mistake.

use crate::domain::officer::{OfficerScope, Role};

/// Something an officer can do in the console.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// See a list of tips: the district queue, the range queue, or a desk's assigned list.
    ViewQueue,
    /// Open the tipster's own words (logged as a view).
    ViewTipText,
    /// Read the dispatch brief.
    ViewBrief,
    /// Acknowledge a new tip.
    Acknowledge,
    /// Assign a tip to stations or units, with a brief.
    Assign,
    /// Write a question to the tipster.
    MessageTipster,
    /// Record that action has started.
    StartAction,
    /// File the action-taken report.
    ReportAction,
    /// Review an action-taken report: close, send back, reopen.
    ReviewAndClose,
    /// Mark a tip as the duplicate of another.
    MarkDuplicate,
    /// Mark a tip as not actionable, with a reason.
    MarkNotActionable,
    /// Correct triage's category, station, urgency or police involvement.
    CorrectTriage,
    /// Enter a tip taken on the phone.
    EnterPhoneTip,
    /// Read the audit log.
    ReadAudit,
    /// See the range dashboard (all districts, flags, deadlines).
    ViewRangeDashboard,
    /// See the daily digest (own district; the range supervisor every district and the range).
    ViewDigest,
    /// Release the original of a voice recording (officers otherwise hear it disguised), with a
    /// reason, logged.
    ReleaseOriginal,
    /// Add, disable and reset officer accounts.
    ManageOfficers,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 18] = [
        Action::ViewQueue,
        Action::ViewTipText,
        Action::ViewBrief,
        Action::Acknowledge,
        Action::Assign,
        Action::MessageTipster,
        Action::StartAction,
        Action::ReportAction,
        Action::ReviewAndClose,
        Action::MarkDuplicate,
        Action::MarkNotActionable,
        Action::CorrectTriage,
        Action::EnterPhoneTip,
        Action::ReadAudit,
        Action::ViewRangeDashboard,
        Action::ViewDigest,
        Action::ReleaseOriginal,
        Action::ManageOfficers,
    ];

    /// The stored name (audit rows, logs).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ViewQueue => "view_queue",
            Self::ViewTipText => "view_tip_text",
            Self::ViewBrief => "view_brief",
            Self::Acknowledge => "acknowledge",
            Self::Assign => "assign",
            Self::MessageTipster => "message_tipster",
            Self::StartAction => "start_action",
            Self::ReportAction => "report_action",
            Self::ReviewAndClose => "review_and_close",
            Self::MarkDuplicate => "mark_duplicate",
            Self::MarkNotActionable => "mark_not_actionable",
            Self::CorrectTriage => "correct_triage",
            Self::EnterPhoneTip => "enter_phone_tip",
            Self::ReadAudit => "read_audit",
            Self::ViewRangeDashboard => "view_range_dashboard",
            Self::ViewDigest => "view_digest",
            Self::ReleaseOriginal => "release_original",
            Self::ManageOfficers => "manage_officers",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Action> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether the action is done to one tip (and so is refused without one).
    pub fn needs_tip(self) -> bool {
        !matches!(
            self,
            Self::ViewQueue
                | Self::EnterPhoneTip
                | Self::ReadAudit
                | Self::ViewRangeDashboard
                | Self::ViewDigest
                | Self::ManageOfficers
        )
    }
}

/// What the permission check needs to know about one tip.
#[derive(Clone, Copy, Debug)]
pub struct TipScope<'a> {
    /// The tip's district; `None` while unrouted (then only the range reaches it).
    pub district_id: Option<&'a str>,
    /// Triage or a supervisor flagged an allegation against the police.
    pub police_involvement: bool,
    /// The station accused in the tip, which must never see it.
    pub barred_station_id: Option<&'a str>,
    /// Station and unit ids the tip is currently assigned to.
    pub assigned_desks: &'a [String],
}

/// May this officer do this action (to this tip, when the action concerns one)?
///
/// Actions that concern a tip are refused without one. When a tip is given with an action that
/// does not need one (the web layer asking "is this tip in my queue?"), the tip must still be
/// within the officer's reach. A scope that does not fit its role is refused everything.
pub fn allows(who: &OfficerScope, action: Action, tip: Option<&TipScope<'_>>) -> bool {
    if !who.is_consistent() || !role_may(who.role, action) {
        return false;
    }
    match tip {
        None => !action.needs_tip(),
        Some(tip) => reaches(who, tip),
    }
}

/// The role half of the table: which actions a role has at all.
fn role_may(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => action == ManageOfficers,
        // Oversight, not station work: the range supervisor does not start or report action.
        Role::RangeSupervisor => !matches!(
            action,
            ManageOfficers | EnterPhoneTip | StartAction | ReportAction
        ),
        Role::DistrictSupervisor => matches!(
            action,
            ViewQueue
                | ViewTipText
                | ViewBrief
                | Acknowledge
                | Assign
                | MessageTipster
                | ReviewAndClose
                | MarkDuplicate
                | MarkNotActionable
                | CorrectTriage
                | EnterPhoneTip
                | ViewDigest
        ),
        Role::Operator => matches!(
            action,
            ViewQueue | EnterPhoneTip | Acknowledge | ViewTipText
        ),
        Role::StationOfficer | Role::UnitOfficer => {
            matches!(action, ViewQueue | ViewBrief | StartAction | ReportAction)
        }
    }
}

/// The scope half of the table: which tips an officer reaches at all.
fn reaches(who: &OfficerScope, tip: &TipScope<'_>) -> bool {
    // Both sides must name a district: a tip with none belongs to the range alone.
    let own_district = who.district_id.is_some() && tip.district_id == who.district_id.as_deref();
    match who.role {
        Role::Admin => false,
        Role::RangeSupervisor => true,
        Role::DistrictSupervisor => own_district,
        Role::Operator => own_district && !tip.police_involvement,
        Role::StationOfficer | Role::UnitOfficer => {
            let Some(desk) = who.desk_id.as_deref() else {
                return false;
            };
            own_district
                && tip.assigned_desks.iter().any(|d| d == desk)
                && tip.barred_station_id != Some(desk)
        }
    }
}

#[cfg(test)]
mod tests;
