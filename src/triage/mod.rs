//! Triage: category, place, urgency and police involvement from a tip's text. Pure functions over
//! text plus the loaded jurisdiction and lexicon; no I/O. (Being built: issue 5.)

pub mod cli;
pub mod normalize;
