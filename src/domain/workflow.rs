//! The tip's case workflow: which transitions exist, which status each leads to from which, and
//! which permission each needs; also the two pieces of text a transition can carry (the dispatch
//! brief and the reason a tip is not actionable). Pure: recording who did it, and when, in the
//! audit log is the store's job, in the same transaction as the status change.

use std::fmt;

use crate::domain::permission::Action;
use crate::domain::text::{TextError, parse_bounded};
use crate::domain::tip::TipStatus;

/// A step a tip can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transition {
    /// A supervisor or operator has seen a new tip.
    Acknowledge,
    /// Sent to one or more stations or units (also re-assigning, or adding desks).
    Assign,
    /// The station or unit has started acting.
    StartAction,
    /// The station or unit filed its action-taken report.
    ReportAction,
    /// The supervisor returns a report for more work.
    SendBack,
    /// The supervisor accepts the report and closes the tip.
    Close,
    /// The same as an earlier tip.
    MarkDuplicate,
    /// Nothing the police can act on.
    MarkNotActionable,
    /// A closed, duplicate or not-actionable tip is opened again.
    Reopen,
}

impl Transition {
    /// Every transition.
    pub const ALL: [Transition; 9] = [
        Transition::Acknowledge,
        Transition::Assign,
        Transition::StartAction,
        Transition::ReportAction,
        Transition::SendBack,
        Transition::Close,
        Transition::MarkDuplicate,
        Transition::MarkNotActionable,
        Transition::Reopen,
    ];

    /// The stored name (forms, audit rows).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Assign => "assign",
            Self::StartAction => "start_action",
            Self::ReportAction => "report_action",
            Self::SendBack => "send_back",
            Self::Close => "close",
            Self::MarkDuplicate => "mark_duplicate",
            Self::MarkNotActionable => "mark_not_actionable",
            Self::Reopen => "reopen",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The permission the transition needs.
    pub fn action(&self) -> Action {
        match self {
            Self::Acknowledge => Action::Acknowledge,
            Self::Assign => Action::Assign,
            Self::StartAction => Action::StartAction,
            Self::ReportAction => Action::ReportAction,
            Self::SendBack | Self::Close | Self::Reopen => Action::ReviewAndClose,
            Self::MarkDuplicate => Action::MarkDuplicate,
            Self::MarkNotActionable => Action::MarkNotActionable,
        }
    }

    /// In plain English, as a verb ("mark as duplicate").
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Assign => "assign",
            Self::StartAction => "start action on",
            Self::ReportAction => "report action on",
            Self::SendBack => "send back",
            Self::Close => "close",
            Self::MarkDuplicate => "mark as duplicate",
            Self::MarkNotActionable => "mark as not actionable",
            Self::Reopen => "reopen",
        }
    }
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transition that the tip's status does not allow.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("cannot {} a tip that is {}", verb_of(.transition), status_words(*.from))]
pub struct TransitionError {
    /// Where the tip stood.
    pub from: TipStatus,
    /// The refused transition's stored name (`Transition::as_str`).
    pub transition: &'static str,
}

fn verb_of(stored: &str) -> &'static str {
    Transition::parse(stored).map_or("change", |t| t.verb())
}

/// A status in plain English ("in action").
pub fn status_words(s: TipStatus) -> &'static str {
    match s {
        TipStatus::New => "new",
        TipStatus::Acknowledged => "acknowledged",
        TipStatus::Assigned => "assigned",
        TipStatus::InAction => "in action",
        TipStatus::ActionTaken => "action taken",
        TipStatus::Closed => "closed",
        TipStatus::Duplicate => "a duplicate",
        TipStatus::NotActionable => "not actionable",
    }
}

/// Where a transition leads from `from`, or why it may not be taken.
pub fn next_status(from: TipStatus, t: &Transition) -> Result<TipStatus, TransitionError> {
    use TipStatus::*;
    let open = matches!(from, New | Acknowledged | Assigned);
    let to = match t {
        Transition::Acknowledge if from == New => Some(Acknowledged),
        Transition::Assign if open => Some(Assigned),
        Transition::StartAction if from == Assigned => Some(InAction),
        Transition::ReportAction if matches!(from, Assigned | InAction) => Some(ActionTaken),
        Transition::SendBack if from == ActionTaken => Some(InAction),
        Transition::Close if from == ActionTaken => Some(Closed),
        Transition::MarkDuplicate if open => Some(Duplicate),
        Transition::MarkNotActionable if open => Some(NotActionable),
        Transition::Reopen if matches!(from, Closed | Duplicate | NotActionable) => {
            Some(Acknowledged)
        }
        _ => None,
    };
    to.ok_or(TransitionError {
        from,
        transition: t.as_str(),
    })
}

/// The transitions a tip in `from` can take, in `Transition::ALL` order (for showing buttons;
/// the permission check still decides which of them this officer sees).
pub fn transitions_from(from: TipStatus) -> Vec<Transition> {
    Transition::ALL
        .into_iter()
        .filter(|t| next_status(from, t).is_ok())
        .collect()
}

/// Why a tip is not actionable: 3 to 500 characters. Fewer than 3 is refused as
/// `TextError::Empty` (a reason of one or two characters says nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotActionableReason(String);

impl NotActionableReason {
    /// Parses the reason as typed.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        parse_at_least(raw, 3, 500).map(Self)
    }

    /// The reason.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The dispatch brief the supervisor writes for the station or unit, which sees it instead of
/// the tip: 10 to 2000 characters. Fewer than 10 is refused as `TextError::Empty`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Brief(String);

impl Brief {
    /// Parses the brief as typed.
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        parse_at_least(raw, 10, 2000).map(Self)
    }

    /// The brief.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn parse_at_least(raw: &str, min: usize, max: usize) -> Result<String, TextError> {
    let text = parse_bounded(raw, max)?;
    if text.chars().count() < min {
        return Err(TextError::Empty);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUSES: [TipStatus; 8] = [
        TipStatus::New,
        TipStatus::Acknowledged,
        TipStatus::Assigned,
        TipStatus::InAction,
        TipStatus::ActionTaken,
        TipStatus::Closed,
        TipStatus::Duplicate,
        TipStatus::NotActionable,
    ];

    /// Every (status, transition) pair, written out: the status it leads to, or `None`.
    fn expected(from: TipStatus, t: Transition) -> Option<TipStatus> {
        use TipStatus::*;
        use Transition as T;
        #[rustfmt::skip]
        let table: [(TipStatus, [Option<TipStatus>; 9]); 8] = [
            //          Ack                Assign          Start           Report             SendBack        Close         Dup              NotAct               Reopen
            (New, [Some(Acknowledged), Some(Assigned), None, None, None, None, Some(Duplicate), Some(NotActionable), None]),
            (Acknowledged, [None, Some(Assigned), None, None, None, None, Some(Duplicate), Some(NotActionable), None]),
            (Assigned, [None, Some(Assigned), Some(InAction), Some(ActionTaken), None, None, Some(Duplicate), Some(NotActionable), None]),
            (InAction, [None, None, None, Some(ActionTaken), None, None, None, None, None]),
            (ActionTaken, [None, None, None, None, Some(InAction), Some(Closed), None, None, None]),
            (Closed, [None, None, None, None, None, None, None, None, Some(Acknowledged)]),
            (Duplicate, [None, None, None, None, None, None, None, None, Some(Acknowledged)]),
            (NotActionable, [None, None, None, None, None, None, None, None, Some(Acknowledged)]),
        ];
        let order = [
            T::Acknowledge,
            T::Assign,
            T::StartAction,
            T::ReportAction,
            T::SendBack,
            T::Close,
            T::MarkDuplicate,
            T::MarkNotActionable,
            T::Reopen,
        ];
        let (_, row) = table.iter().find(|(s, _)| *s == from).unwrap();
        let col = order.iter().position(|o| *o == t).unwrap();
        row[col]
    }

    #[test]
    fn every_status_and_transition_matches_the_written_table() {
        let mut pairs = 0;
        for from in STATUSES {
            for t in Transition::ALL {
                let got = next_status(from, &t).ok();
                assert_eq!(
                    got,
                    expected(from, t),
                    "{} from {}",
                    t.as_str(),
                    from.as_str()
                );
                if got.is_none() {
                    let err = next_status(from, &t).unwrap_err();
                    assert_eq!(err.from, from);
                    assert_eq!(err.transition, t.as_str());
                }
                pairs += 1;
            }
        }
        assert_eq!(pairs, 72);
    }

    #[test]
    fn buttons_follow_the_table() {
        use Transition as T;
        assert_eq!(
            transitions_from(TipStatus::New),
            [
                T::Acknowledge,
                T::Assign,
                T::MarkDuplicate,
                T::MarkNotActionable
            ]
        );
        assert_eq!(transitions_from(TipStatus::InAction), [T::ReportAction]);
        assert_eq!(
            transitions_from(TipStatus::ActionTaken),
            [T::SendBack, T::Close]
        );
        assert_eq!(transitions_from(TipStatus::Duplicate), [T::Reopen]);
    }

    #[test]
    fn refusals_read_as_plain_english() {
        let err = next_status(TipStatus::InAction, &Transition::Close).unwrap_err();
        assert_eq!(err.to_string(), "cannot close a tip that is in action");
        let err = next_status(TipStatus::Closed, &Transition::MarkDuplicate).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot mark as duplicate a tip that is closed"
        );
    }

    #[test]
    fn transitions_round_trip_and_name_their_permission() {
        for t in Transition::ALL {
            assert_eq!(Transition::parse(t.as_str()), Some(t));
        }
        assert_eq!(Transition::parse("delete"), None);
        assert_eq!(Transition::SendBack.action(), Action::ReviewAndClose);
        assert_eq!(Transition::Close.action(), Action::ReviewAndClose);
        assert_eq!(Transition::Reopen.action(), Action::ReviewAndClose);
        assert_eq!(Transition::Assign.action(), Action::Assign);
        assert_eq!(Transition::ReportAction.action(), Action::ReportAction);
    }

    #[test]
    fn reasons_and_briefs_are_bounded() {
        assert_eq!(
            NotActionableReason::parse(" दोहराव ").unwrap().as_str(),
            "दोहराव"
        );
        assert_eq!(NotActionableReason::parse("ab"), Err(TextError::Empty));
        assert!(NotActionableReason::parse("abc").is_ok());
        assert!(NotActionableReason::parse(&"क".repeat(500)).is_ok());
        assert_eq!(
            NotActionableReason::parse(&"क".repeat(501)),
            Err(TextError::TooLong)
        );
        assert_eq!(
            Brief::parse("गांजा बिक्री, पुराना बस स्टैंड के पास")
                .unwrap()
                .as_str(),
            "गांजा बिक्री, पुराना बस स्टैंड के पास"
        );
        assert_eq!(Brief::parse("too short"), Err(TextError::Empty));
        assert!(Brief::parse("ten chars!").is_ok());
        assert_eq!(Brief::parse(&"a".repeat(2001)), Err(TextError::TooLong));
        assert_eq!(
            Brief::parse("brief with \u{202e} override"),
            Err(TextError::ControlCharacters)
        );
    }
}
