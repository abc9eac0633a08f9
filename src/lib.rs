//! tipline: an anonymous crime tip line. Every channel in, one sealed tip record, routed to the
//! right desk and tracked until action is taken. The modules, from the outside in:

/// Jurisdiction data: range, districts, stations, units, hotline numbers.
pub mod jurisdiction;
/// The category lexicon (labels and terms).
pub mod lexicon;
/// Triage of tip text: category, place, urgency, police involvement.
pub mod triage;
