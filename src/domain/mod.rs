//! Domain types: everything that crosses a trust boundary is parsed into one of these before the
//! rest of the program sees it. No axum, no sqlx here.

/// Photos from tipsters: recognised, bounded, hashed, and cleaned of identifying metadata.
pub mod attachment;
/// Videos and documents from tipsters: recognised, bounded, hashed, and held for release.
pub mod held;
/// Officers: role, login name, new password, where they work.
pub mod officer;
/// Ogg Opus voice notes, decoded for the disguised copy.
pub mod ogg_opus;
/// The action-taken report a station or unit files.
pub mod outcome;
/// The role table: who may do what, to which tip.
pub mod permission;
pub mod recording;
mod text;
mod tip;
/// The tip's case workflow and the texts its transitions carry.
pub mod workflow;

pub use officer::{NewPassword, OfficerInputError, OfficerScope, Role, Username};
pub use outcome::{
    ActionReport, FirNumber, OutcomeError, OutcomeField, OutcomeReason, QuantityUnit,
    RawActionReport, Seizure,
};
pub use permission::{Action, TipScope, allows};
pub use text::{Language, TIP_TEXT_MAX_CHARS, TextError, TipText, fold_digits, parse_bounded};
pub use tip::{Channel, SECRET_DIGITS, TIP_NUMBER_DIGITS, TipId, TipNumber, TipSecret, TipStatus};
pub use workflow::{
    Brief, NotActionableReason, Transition, TransitionError, next_status, status_words,
    transitions_from,
};
