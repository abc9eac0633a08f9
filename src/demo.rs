//! `tipline serve --demo`: one account per role with a generated password (printed once, at
//! creation) and a few hundred sample tips spread over the districts and channels, some already
//! acknowledged, so a newcomer can click through the console. The tips are the labelled sample
//! tips of `tests/data/`, stored exactly as real ones would be (triaged, sealed, audited).
//!
//! Must never: run without `--demo`, or touch an existing account's password.

use anyhow::Context;
use serde::Deserialize;

use crate::app::Core;
use crate::domain::{Channel, Language, NewPassword, OfficerScope, Role, TipText, Username};
use crate::intake::{self, Submission};
use crate::jurisdiction::DistrictId;
use crate::officers::{self, OfficerInput, cli::generate_password};

/// How many sample tips a fresh demo database gets.
pub const DEMO_TIPS: usize = 300;

const SAMPLES: [&str; 2] = [
    include_str!("../tests/data/tips-dev.jsonl"),
    include_str!("../tests/data/tips-heldout.jsonl"),
];

/// A demo account: login, role, district, desk, name.
type Account = (
    &'static str,
    Role,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

/// The demo accounts.
const ACCOUNTS: [Account; 6] = [
    ("demo.admin", Role::Admin, None, None, "Demo Administrator"),
    (
        "demo.ig",
        Role::RangeSupervisor,
        None,
        None,
        "IG Bilaspur Range (demo)",
    ),
    (
        "demo.asp",
        Role::DistrictSupervisor,
        Some("bilaspur"),
        None,
        "ASP Bilaspur (demo)",
    ),
    (
        "demo.operator",
        Role::Operator,
        Some("bilaspur"),
        None,
        "Control room Bilaspur (demo)",
    ),
    (
        "demo.sarkanda",
        Role::StationOfficer,
        Some("bilaspur"),
        Some("bsp-sarkanda"),
        "SHO Sarkanda (demo)",
    ),
    (
        "demo.cyber",
        Role::UnitOfficer,
        Some("bilaspur"),
        Some("bsp-cyber-cell"),
        "Cyber cell Bilaspur (demo)",
    ),
];

/// A labelled sample tip: its text and the district of the hotline it came in on.
#[derive(Deserialize)]
pub(crate) struct Sample {
    pub(crate) text: String,
    pub(crate) hotline_district: Option<String>,
}

/// The labelled sample tips of `tests/data/` (also the texts of `tipline generate`).
pub(crate) fn samples() -> anyhow::Result<Vec<Sample>> {
    SAMPLES
        .iter()
        .flat_map(|f| f.lines())
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("sample tips")
}

/// Hindi if the text has any Devanagari, else English: the page language a tipster would use.
pub(crate) fn language_of(text: &str) -> Language {
    if text.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c)) {
        Language::Hindi
    } else {
        Language::English
    }
}

/// Creates what is missing and returns the lines to print (credentials of new accounts).
pub async fn seed(core: &Core) -> anyhow::Result<Vec<String>> {
    let mut lines = Vec::new();
    for (login, role, district, desk, name) in ACCOUNTS {
        if core.store.officer_named(login).await?.is_some() {
            lines.push(format!(
                "demo account {login} exists (reset with `tipline user reset-password {login}`)"
            ));
            continue;
        }
        let username = Username::parse(login)?;
        let password = generate_password()?;
        let input = OfficerInput {
            password: NewPassword::parse(&password, &username)?,
            username,
            display_name: name.to_owned(),
            scope: OfficerScope::new(role, district.map(str::to_owned), desk.map(str::to_owned))?,
        };
        officers::add_officer(core, input, "demo").await?;
        lines.push(format!(
            "demo account {login:<14} {:<20} password {password}",
            role.as_str()
        ));
    }
    if core.store.tip_count().await? == 0 {
        let n = seed_tips(core).await?;
        lines.push(format!("demo: {n} sample tips stored"));
    }
    Ok(lines)
}

async fn seed_tips(core: &Core) -> anyhow::Result<usize> {
    let samples = samples()?;
    let channels = [Channel::Web, Channel::Api, Channel::Phone];
    for i in 0..DEMO_TIPS {
        let s = &samples[i % samples.len()];
        let Ok(text) = TipText::parse(&s.text) else {
            continue;
        };
        let language = language_of(&s.text);
        let submission = Submission {
            text,
            district: s.hotline_district.as_deref().and_then(DistrictId::parse),
            place: None,
            when: None,
            happening_now: false,
            category: None,
            language,
            channel: channels[i % channels.len()],
            station: None,
            entered_by: None,
            photos: Vec::new(),
            documents: Vec::new(),
        };
        intake::submit_tip(core, submission).await?;
    }
    Ok(DEMO_TIPS)
}
