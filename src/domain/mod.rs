//! Domain types: everything that crosses a trust boundary is parsed into one of these before the
//! rest of the program sees it. No axum, no sqlx here.

mod text;
mod tip;

pub use text::{Language, TIP_TEXT_MAX_CHARS, TextError, TipText, fold_digits, parse_bounded};
pub use tip::{Channel, TipId, TipNumber, TipSecret, TipStatus};
