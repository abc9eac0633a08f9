//! The daily digest: for each district and for the whole range, the previous day's tips received,
//! acknowledgements that came late, escalations, and the open tips overdue when it is made. Made
//! once a day at `[console] digest_hour` (India Standard Time), by whichever node gets there first
//! (the store keeps one row per day and scope), kept for the console, and mailed through the
//! outbox to the district supervisors and the range supervisors who have an email address.
//!
//! Must never: carry tip text, places or anything about a tipster; only counts and a link.

use time::{Date, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::alerts::{Mail, Payload, seal_payload};
use crate::app::Core;
use crate::intake::IntakeError;
use crate::store::{DigestRow, NewOutbox};

/// The scope of the range-wide row.
pub const RANGE: &str = "range";

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn ist() -> UtcOffset {
    UtcOffset::from_hms(5, 30, 0).unwrap_or(UtcOffset::UTC)
}

/// The calendar day (IST) of a time.
pub fn day_of(ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(ist())
        .date()
}

/// `YYYY-MM-DD`.
pub fn label(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Option<Date> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()
}

/// The day's first and last-plus-one millisecond (IST midnight to midnight).
pub fn bounds(day: Date) -> (i64, i64) {
    let start = PrimitiveDateTime::new(day, Time::MIDNIGHT)
        .assume_offset(ist())
        .unix_timestamp()
        * 1000;
    (start, start + DAY_MS)
}

/// The day whose digest is due at `now`: yesterday, once today's `hour` has come.
pub fn due_day(now: i64, hour: u8) -> Option<Date> {
    let t = OffsetDateTime::from_unix_timestamp(now.div_euclid(1000))
        .ok()?
        .to_offset(ist());
    (t.hour() >= hour)
        .then(|| t.date().previous_day())
        .flatten()
}

/// The counts of `day` (up to `now` if the day is not over): one row per district of the range,
/// zeros included, then the range's own row (which also counts tips with no district).
pub async fn compute(core: &Core, day: Date, now: i64) -> Result<Vec<DigestRow>, IntakeError> {
    let (from, until) = bounds(day);
    let counts = core.store.digest_counts(from, until.min(now), now).await?;
    let name = label(day);
    let mut rows: Vec<DigestRow> = core
        .jurisdiction
        .districts
        .iter()
        .map(|d| {
            let found = counts.iter().find(|c| c.scope == d.id.as_str());
            DigestRow {
                day: name.clone(),
                scope: d.id.as_str().to_owned(),
                ..found.cloned().unwrap_or_default()
            }
        })
        .collect();
    let mut range = DigestRow {
        day: name,
        scope: RANGE.to_owned(),
        ..DigestRow::default()
    };
    for c in &counts {
        range.received += c.received;
        range.acknowledged_late += c.acknowledged_late;
        range.overdue += c.overdue;
        range.escalated += c.escalated;
    }
    rows.push(range);
    Ok(rows)
}

/// Makes and stores the digest that is due, once; true if this call stored it.
pub async fn run(core: &Core) -> Result<bool, IntakeError> {
    let now = core.clock.now_ms();
    let Some(day) = due_day(now, core.policy.console.digest_hour) else {
        return Ok(false);
    };
    if core.store.digest_done(&label(day)).await? {
        return Ok(false);
    }
    let rows = compute(core, day, now).await?;
    let mail = mails(core, &rows, now).await?;
    let stored = core.store.store_digest(rows, mail, now).await?;
    if stored {
        core.outbox_wake.notify_one();
    }
    Ok(stored)
}

/// A scope's name, Hindi then English.
pub fn scope_name(core: &Core, scope: &str) -> String {
    match core
        .jurisdiction
        .districts
        .iter()
        .find(|d| d.id.as_str() == scope)
    {
        Some(d) => format!("{} / {}", d.name_hi, d.name_en),
        None if scope == RANGE => format!(
            "{} / {}",
            core.jurisdiction.range_name_hi, core.jurisdiction.range_name_en
        ),
        None => scope.to_owned(),
    }
}

fn lines(core: &Core, r: &DigestRow) -> String {
    format!(
        "{}\n  प्राप्त / received: {}\n  देर से स्वीकार / acknowledged late: {}\n  समय सीमा पार, खुली / overdue, open: {}\n  ऊपर भेजी गई / escalated: {}\n",
        scope_name(core, &r.scope),
        r.received,
        r.acknowledged_late,
        r.overdue,
        r.escalated
    )
}

/// The digest's emails: each district's to its district supervisors, the whole range's (every
/// district, then the total) to the range supervisors; only where email is configured.
async fn mails(core: &Core, rows: &[DigestRow], now: i64) -> Result<Vec<NewOutbox>, IntakeError> {
    if core.alerts.email.is_none() {
        return Ok(Vec::new());
    }
    let link = format!("{}/console/digest", core.public_url.trim_end_matches('/'));
    let mut out = Vec::new();
    for officer in core.store.officers().await? {
        let Some(email) = officer.email.as_ref().filter(|_| !officer.disabled) else {
            continue;
        };
        let chosen: Vec<&DigestRow> = match officer.role.as_str() {
            "range_supervisor" => rows.iter().collect(),
            "district_supervisor" => rows
                .iter()
                .filter(|r| Some(&r.scope) == officer.district_id.as_ref())
                .collect(),
            _ => continue,
        };
        let Some(first) = chosen.first() else {
            continue;
        };
        let scope = if chosen.len() > 1 {
            RANGE
        } else {
            first.scope.as_str()
        };
        let body: String = chosen.iter().map(|r| lines(core, r)).collect();
        let payload = Payload {
            to: email.clone(),
            facts: None,
            mail: Some(Mail {
                subject: format!(
                    "दैनिक सारांश / daily digest {}: {}",
                    first.day,
                    scope_name(core, scope)
                ),
                text: format!(
                    "दैनिक सारांश / Daily digest {}\n\n{body}\n{link}\n",
                    first.day
                ),
            }),
            relay: None,
        };
        let key = format!("digest:{}:{scope}:{}:email", first.day, officer.officer_id);
        out.push(NewOutbox {
            payload_sealed: seal_payload(core, &key, &payload)?,
            outbox_key: key,
            purpose: "digest".into(),
            channel: "email".into(),
            tip_id: None,
            officer_id: Some(officer.officer_id),
            created_at: now,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_indian_standard_time() {
        // 2026-11-28 18:29:59 UTC is 23:59:59 IST on the 28th; a second later it is the 29th.
        let before = 1_795_890_599_000;
        assert_eq!(label(day_of(before)), "2026-11-28");
        assert_eq!(label(day_of(before + 1000)), "2026-11-29");
        let day = parse_day("2026-11-29").unwrap();
        assert_eq!(bounds(day), (before + 1000, before + 1000 + DAY_MS));
        assert!(parse_day("2026-13-01").is_none());
    }

    #[test]
    fn yesterday_is_due_from_the_hour_on() {
        let (midnight, _) = bounds(parse_day("2026-11-29").unwrap());
        let hour = 60 * 60 * 1000;
        assert_eq!(due_day(midnight + 7 * hour + 59 * 60_000, 8), None);
        assert_eq!(
            due_day(midnight + 8 * hour, 8).map(label).as_deref(),
            Some("2026-11-28")
        );
        assert_eq!(
            due_day(midnight, 0).map(label).as_deref(),
            Some("2026-11-28")
        );
    }
}
