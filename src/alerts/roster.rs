//! Duty rosters: who is on which duty when. A shift file an administrator keeps looks like
//!
//! ```toml
//! [[shift]]
//! officer = "asp.bilaspur"
//! duty = "asp"                 # operator | station | asp | sp | range
//! district = "bilaspur"        # not for range duty
//! from = "2026-11-29 08:00"    # India Standard Time
//! to = "2026-11-29 20:00"
//!
//! [[shift]]
//! officer = "sho.sarkanda"
//! duty = "station"
//! desk = "bsp-sarkanda"
//! from = "2026-11-29 08:00"
//! to = "2026-11-30 08:00"
//! ```
//!
//! Shifts may overlap (a hand-over has both officers on duty for a while). `tipline roster
//! import FILE` checks every shift before storing any.

use serde::Deserialize;

use crate::app::Core;
use crate::store::{AuditDraft, NewShift, StoreError};

/// A duty on the roster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duty {
    /// A district control room operator.
    Operator,
    /// A station's or unit's duty officer.
    Station,
    /// The district's ASP on call.
    Asp,
    /// The district's SP on call.
    Sp,
    /// The range duty officer.
    Range,
}

impl Duty {
    /// Every duty.
    pub const ALL: [Duty; 5] = [
        Duty::Operator,
        Duty::Station,
        Duty::Asp,
        Duty::Sp,
        Duty::Range,
    ];

    /// Parses a stored or typed name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Station => "station",
            Self::Asp => "asp",
            Self::Sp => "sp",
            Self::Range => "range",
        }
    }
}

/// One shift as written in a roster file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShift {
    /// Login name.
    pub officer: String,
    /// Duty name.
    pub duty: String,
    /// District id.
    pub district: Option<String>,
    /// Station or unit id (station duty).
    pub desk: Option<String>,
    /// Start, `YYYY-MM-DD HH:MM` in IST.
    pub from: String,
    /// End, the same way.
    pub to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    #[serde(default)]
    shift: Vec<RawShift>,
}

/// Why a shift was refused.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The file or a value is wrong (message names the shift and field).
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `YYYY-MM-DD HH:MM` in India Standard Time, as Unix ms.
pub fn parse_ist(s: &str) -> Option<i64> {
    let (date, clock) = s.trim().split_once([' ', 'T'])?;
    let mut d = date.splitn(3, '-');
    let (year, month, day): (i32, u8, u8) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let (hour, minute) = clock.split_once(':')?;
    let (hour, minute): (u8, u8) = (hour.parse().ok()?, minute.parse().ok()?);
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let at = date.with_hms(hour, minute, 0).ok()?;
    let offset = time::UtcOffset::from_hms(5, 30, 0).ok()?;
    Some(at.assume_offset(offset).unix_timestamp() * 1000)
}

/// Unix ms as a roster file writes a time, `YYYY-MM-DD HH:MM` in India Standard Time (the inverse
/// of [`parse_ist`] to the minute); empty for a time outside the calendar.
pub fn format_ist(ms: i64) -> String {
    let ist = time::UtcOffset::from_hms(5, 30, 0).unwrap_or(time::UtcOffset::UTC);
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
        return String::new();
    };
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    t.to_offset(ist).format(&fmt).unwrap_or_default()
}

/// Checks a shift against the officers and the jurisdiction; `n` numbers it in messages.
pub async fn check(
    core: &Core,
    n: usize,
    raw: &RawShift,
    actor: &str,
) -> Result<NewShift, RosterError> {
    let bad = |what: String| RosterError::Invalid(format!("shift {n}: {what}"));
    let duty = Duty::parse(&raw.duty).ok_or_else(|| {
        bad(format!(
            "duty `{}` is not one of operator, station, asp, sp, range",
            raw.duty
        ))
    })?;
    let officer = core
        .store
        .officer_named(&raw.officer)
        .await?
        .ok_or_else(|| bad(format!("no officer `{}`", raw.officer)))?;
    let (district, desk) = match duty {
        Duty::Range => (None, None),
        Duty::Station => {
            let desk = raw
                .desk
                .clone()
                .ok_or_else(|| bad("station duty needs `desk` (a station or unit id)".into()))?;
            let district = core
                .jurisdiction
                .districts
                .iter()
                .find(|d| {
                    d.stations.iter().any(|s| s.id.as_str() == desk)
                        || d.units.iter().any(|u| u.id == desk)
                })
                .map(|d| d.id.as_str().to_owned())
                .ok_or_else(|| bad(format!("`{desk}` is not a station or unit")))?;
            (Some(district), Some(desk))
        }
        _ => {
            let district = raw
                .district
                .clone()
                .filter(|d| core.jurisdiction.district(d).is_some())
                .ok_or_else(|| bad("needs `district`, a district id of the range".into()))?;
            (Some(district), None)
        }
    };
    let starts_at = parse_ist(&raw.from)
        .ok_or_else(|| bad(format!("from = `{}` is not YYYY-MM-DD HH:MM", raw.from)))?;
    let ends_at = parse_ist(&raw.to)
        .ok_or_else(|| bad(format!("to = `{}` is not YYYY-MM-DD HH:MM", raw.to)))?;
    if ends_at <= starts_at || ends_at - starts_at > 7 * 24 * 3_600_000 {
        return Err(bad("a shift must end after it starts, within 7 days".into()));
    }
    Ok(NewShift {
        duty: duty.as_str().to_owned(),
        district_id: district.clone(),
        desk_id: desk.clone(),
        officer_id: officer.officer_id,
        starts_at,
        ends_at,
        audit: AuditDraft {
            actor: actor.to_owned(),
            action: "roster.add".into(),
            subject: format!("officer:{}", officer.officer_id),
            detail: serde_json::json!({
                "duty": duty.as_str(), "district": district, "desk": desk,
                "from": starts_at, "to": ends_at,
            })
            .to_string(),
            created_at: core.clock.now_ms(),
        },
    })
}

/// Reads a roster file and stores every shift, after checking all of them (one bad shift stores
/// none). Returns how many were stored.
pub async fn import(core: &Core, text: &str, actor: &str) -> Result<usize, RosterError> {
    let file: RosterFile =
        toml::from_str(text).map_err(|e| RosterError::Invalid(format!("roster file: {e}")))?;
    let mut shifts = Vec::with_capacity(file.shift.len());
    for (i, raw) in file.shift.iter().enumerate() {
        shifts.push(check(core, i + 1, raw, actor).await?);
    }
    let n = shifts.len();
    for s in shifts {
        core.store.add_shift(s).await?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_india_standard_time() {
        // 2026-11-29 08:00 IST is 02:30 UTC.
        assert_eq!(parse_ist("2026-11-29 08:00"), Some(1_795_919_400_000));
        assert_eq!(format_ist(1_795_919_400_000), "2026-11-29 08:00");
        assert_eq!(format_ist(1_795_919_459_999), "2026-11-29 08:00");
        assert_eq!(parse_ist("2026-11-29T08:00"), Some(1_795_919_400_000));
        assert_eq!(parse_ist("2026-11-29"), None);
        assert_eq!(parse_ist("2026-11-29 25:00"), None);
        assert_eq!(Duty::parse("asp"), Some(Duty::Asp));
        assert_eq!(Duty::parse("dsp"), None);
    }
}
