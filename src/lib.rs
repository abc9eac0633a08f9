//! tipline: an anonymous crime tip line. Every channel in, one sealed tip record, routed to the
//! right desk and tracked until action is taken. The modules, from the outside in:

/// Alerts to officers on duty: rosters, the outbox and its sender.
pub mod alerts;
/// Assembly: configuration to a running server.
pub mod app;
/// Verifying the audit chain.
pub mod audit;
/// Casework: officers' steps on tips, checked against the role table.
pub mod cases;
/// Provider channels: SMS and WhatsApp in, one anonymous tip thread.
pub mod channels;
/// The injected clock.
pub mod clock;
/// Configuration from file, environment and flags.
pub mod config;
/// Keys, sealing, keyed MACs, random numbers.
pub mod crypto;
/// `serve --demo`: sample accounts and tips.
pub mod demo;
/// The daily digest per district and for the range.
pub mod digest;
/// Domain types parsed from outside input.
pub mod domain;
/// The escalation ladder for late tips.
pub mod escalation;
/// `tipline generate`: synthetic tips for benchmarks.
pub mod generate;
/// HTTP: tipster pages, JSON API, health.
pub mod http;
/// Intake and follow-up of tips.
pub mod intake;
/// Background jobs (the blind-index builder).
pub mod jobs;
/// Jurisdiction data: range, districts, stations, units, hotline numbers.
pub mod jurisdiction;
/// Data keys in memory.
pub mod keyring;
/// The category lexicon (labels and terms).
pub mod lexicon;
/// Officer accounts: passwords, second factor, sessions.
pub mod officers;
/// Deadlines, session lengths and the view flag, as the config file sets them.
pub mod policy;
/// The blind index: words and keyed terms.
pub mod search;
/// Storage on SQLite and PostgreSQL.
pub mod store;
/// The officer's second factor: TOTP codes, enrolment URI and QR code.
pub mod totp;
/// Triage of tip text: category, place, urgency, police involvement.
pub mod triage;
