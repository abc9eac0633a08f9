//! Alerts: a new urgent tip, or a late one climbing the escalation ladder, reaches the officers on
//! duty at once: on the live console (always), and by SMS, email and a signed webhook where those
//! are configured. Alerts carry the tip number, district, category, priority and a link; never
//! the tip's text or anything about the tipster.
//!
//! Alerts are stored in the outbox in the same transaction as the change that causes them (the
//! tip marked alerted, or the rung climbed), under keys that make a second node's attempt a no-op,
//! and delivered by `send`, which retries with backoff. Nobody on duty for a district means its
//! alerts go to the range duty officer, and failing that to every range supervisor: a tip never
//! lands on a desk nobody watches.

pub mod config;
pub mod delivery;
pub mod reply;
pub mod roster;
pub mod send;
mod smtp;
pub mod tipster;

use serde::{Deserialize, Serialize};

use crate::app::Core;
use crate::domain::TipId;
use crate::escalation::Rung;
use crate::keyring::RANGE_SCOPE;
use crate::store::{NewOutbox, ShiftRow, StoreError, TipRecord};
use roster::Duty;

/// What one alert says (no tip text, nothing about the tipster).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AlertFacts {
    /// `tip.urgent` or `tip.escalated`.
    pub event: String,
    /// The tip number.
    pub tip_number: String,
    /// District id.
    pub district: Option<String>,
    /// Category id.
    pub category: Option<String>,
    /// Priority.
    pub priority: String,
    /// For an escalation: the step that is late and the rung reached.
    pub late_step: Option<String>,
    /// The rung reached.
    pub rung: Option<String>,
    /// Where to open it.
    pub link: String,
}

/// A sealed outbox payload: the destination and the message (an alert's facts, or a mail such
/// as the daily digest).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    /// Phone number, email address, or webhook URL.
    pub to: String,
    /// An alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<AlertFacts>,
    /// A mail that is not an alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<Mail>,
    /// A police message relayed to a tipster on their own channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay: Option<Relay>,
}

/// A police message for a tipster: the text, the district number it goes out from (the one the
/// tipster wrote to), and for WhatsApp the end of the 24-hour window in which free text may be
/// sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Relay {
    /// What the police wrote.
    pub text: String,
    /// The number (or `whatsapp:` address) to send from.
    pub via: String,
    /// WhatsApp: no free text after this time (Unix ms).
    pub window_until: Option<i64>,
}

/// A plain mail (the daily digest): counts and links only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mail {
    /// Subject line.
    pub subject: String,
    /// Body.
    pub text: String,
}

impl Payload {
    /// The text of an SMS or the body of an email.
    pub fn text(&self) -> String {
        match (&self.facts, &self.mail, &self.relay) {
            (Some(f), _, _) => f.text(),
            (None, Some(m), _) => m.text.clone(),
            (None, None, Some(r)) => r.text.clone(),
            (None, None, None) => String::new(),
        }
    }

    /// An email's subject.
    pub fn subject(&self) -> String {
        match (&self.facts, &self.mail) {
            (Some(f), _) => match &f.rung {
                Some(rung) => format!("सूचना {} समय पर नहीं, {rung} तक / tip late", f.tip_number),
                None => format!("तुरंत सूचना {} / urgent tip", f.tip_number),
            },
            (None, Some(m)) => m.subject.clone(),
            (None, None) => String::new(),
        }
    }
}

/// Seals a payload for the outbox row `outbox_key`.
pub fn seal_payload(
    core: &Core,
    outbox_key: &str,
    payload: &Payload,
) -> Result<Vec<u8>, crate::crypto::CryptoError> {
    let (_, sealer) = core.keyring.current(RANGE_SCOPE)?;
    let json = serde_json::to_vec(payload).unwrap_or_default();
    sealer.seal(&payload_aad(outbox_key), &json)
}

impl AlertFacts {
    /// The text of an SMS or email: Hindi, then English.
    pub fn text(&self) -> String {
        let district = self.district.as_deref().unwrap_or("-");
        let category = self.category.as_deref().unwrap_or("-");
        match (&self.late_step, &self.rung) {
            (Some(step), Some(rung)) => format!(
                "सूचना {n} समय पर नहीं ({step}), अब {rung} तक। Tip {n} late ({step}), escalated to {rung}. {district}, {category}. {link} ACK {n}",
                n = self.tip_number,
                link = self.link
            ),
            _ => format!(
                "तुरंत सूचना {n}। URGENT tip {n}: {district}, {category}, {p}. {link} स्वीकार/acknowledge: ACK {n}",
                n = self.tip_number,
                p = self.priority,
                link = self.link
            ),
        }
    }
}

/// The link to a tip in the console.
fn link(core: &Core, tip_number: &str) -> String {
    format!(
        "{}/console/tips/{tip_number}",
        core.public_url.trim_end_matches('/')
    )
}

/// Outbox rows for these officers (by SMS and email, where they have them and the channel is
/// configured) and for the webhook, keyed by `key` so that a repeat is a no-op.
pub fn outbox_for(
    core: &Core,
    key: &str,
    purpose: &str,
    tip_id: TipId,
    facts: &AlertFacts,
    officers: &[&ShiftRow],
    now: i64,
) -> Result<Vec<NewOutbox>, crate::crypto::CryptoError> {
    let mut out = Vec::new();
    let mut add = |channel: &str, officer: Option<i64>, to: &str| {
        let outbox_key = match officer {
            Some(id) => format!("{key}:{id}:{channel}"),
            None => format!("{key}:{channel}"),
        };
        let payload = Payload {
            to: to.to_owned(),
            facts: Some(facts.clone()),
            mail: None,
            relay: None,
        };
        let sealed = seal_payload(core, &outbox_key, &payload)?;
        out.push(NewOutbox {
            outbox_key,
            purpose: purpose.to_owned(),
            channel: channel.to_owned(),
            tip_id: Some(tip_id),
            officer_id: officer,
            payload_sealed: sealed,
            created_at: now,
        });
        Ok::<(), crate::crypto::CryptoError>(())
    };
    let mut seen = std::collections::BTreeSet::new();
    for o in officers {
        if !seen.insert(o.officer_id) {
            continue;
        }
        if let (Some(phone), Some(_)) = (&o.phone, &core.alerts.sms) {
            add("sms", Some(o.officer_id), phone)?;
        }
        if let (Some(email), Some(_)) = (&o.email, &core.alerts.email) {
            add("email", Some(o.officer_id), email)?;
        }
    }
    if let Some(w) = &core.alerts.webhook {
        add("webhook", None, &w.url)?;
    }
    Ok(out)
}

/// Associated data of a sealed outbox payload.
pub fn payload_aad(outbox_key: &str) -> Vec<u8> {
    format!("outbox.payload|{outbox_key}").into_bytes()
}

/// Who hears of a new urgent tip: the district's operators (never for a tip alleging police
/// involvement), ASP and SP on duty; if none, the range duty officer; if none, every range
/// supervisor.
pub fn for_new_tip<'a>(
    shifts: &'a [ShiftRow],
    fallback: &'a [ShiftRow],
    tip: &TipRecord,
) -> Vec<&'a ShiftRow> {
    let mut duties = vec![Duty::Asp, Duty::Sp];
    if !tip.police_involvement {
        duties.push(Duty::Operator);
    }
    let found: Vec<&ShiftRow> = shifts
        .iter()
        .filter(|s| {
            Duty::parse(&s.duty).is_some_and(|d| duties.contains(&d))
                && s.district_id.is_some()
                && s.district_id == tip.district_id
        })
        .collect();
    if found.is_empty() {
        range_duty(shifts, fallback)
    } else {
        found
    }
}

/// Who hears of a climb to `rung`: those on that rung's duty for the tip (the station duty of its
/// station or of a desk it is assigned to; the district's ASP or SP; the range), or, if nobody
/// is, the next rung up.
pub fn for_rung<'a>(
    shifts: &'a [ShiftRow],
    fallback: &'a [ShiftRow],
    district: Option<&str>,
    desks: &[String],
    rung: Rung,
) -> Vec<&'a ShiftRow> {
    let on = |duty: Duty| -> Vec<&'a ShiftRow> {
        shifts
            .iter()
            .filter(|s| Duty::parse(&s.duty) == Some(duty))
            .filter(|s| match duty {
                Duty::Station => s.desk_id.as_ref().is_some_and(|d| desks.contains(d)),
                Duty::Range => true,
                _ => district.is_some() && s.district_id.as_deref() == district,
            })
            .collect()
    };
    let ladder = [
        (Rung::Station, Duty::Station),
        (Rung::Asp, Duty::Asp),
        (Rung::Sp, Duty::Sp),
    ];
    for (r, duty) in ladder {
        if r >= rung {
            let found = on(duty);
            if !found.is_empty() {
                return found;
            }
        }
    }
    range_duty(shifts, fallback)
}

fn range_duty<'a>(shifts: &'a [ShiftRow], fallback: &'a [ShiftRow]) -> Vec<&'a ShiftRow> {
    let range: Vec<&ShiftRow> = shifts
        .iter()
        .filter(|s| Duty::parse(&s.duty) == Some(Duty::Range))
        .collect();
    if range.is_empty() {
        fallback.iter().collect()
    } else {
        range
    }
}

/// Every range supervisor, as if on duty (the last resort of the ladder).
pub async fn range_supervisors(core: &Core, now: i64) -> Result<Vec<ShiftRow>, StoreError> {
    Ok(core
        .store
        .officers()
        .await?
        .into_iter()
        .filter(|o| o.role == "range_supervisor" && !o.disabled)
        .map(|o| ShiftRow {
            shift_id: 0,
            duty: Duty::Range.as_str().to_owned(),
            district_id: None,
            desk_id: None,
            officer_id: o.officer_id,
            display_name: o.display_name,
            phone: o.phone,
            email: o.email,
            starts_at: now,
            ends_at: now,
        })
        .collect())
}

/// Tips older than this when first seen get no alert (an import of old tips must not page
/// anyone); the live console still shows them.
const ALERT_WINDOW_MS: i64 = 60 * 60 * 1000;

/// Stores the alerts of new urgent tips, each once, in one transaction. Returns how many tips
/// were alerted.
pub async fn alert_new_tips(core: &Core) -> Result<usize, crate::intake::IntakeError> {
    let now = core.clock.now_ms();
    let ids = core.store.tips_to_alert(now - ALERT_WINDOW_MS, 100).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let shifts = core.store.shifts(now, now + 1).await?;
    let fallback = range_supervisors(core, now).await?;
    let mut batch = Vec::new();
    for tip in core.store.tips(&ids).await? {
        let facts = AlertFacts {
            event: "tip.urgent".into(),
            tip_number: tip.tip_number.clone(),
            district: tip.district_id.clone(),
            category: tip.category.clone(),
            priority: tip.priority.clone(),
            late_step: None,
            rung: None,
            link: link(core, &tip.tip_number),
        };
        let who = for_new_tip(&shifts, &fallback, &tip);
        let key = format!("alert:{}", tip.tip_id.get());
        batch.push((
            tip.tip_id,
            outbox_for(core, &key, "alert", tip.tip_id, &facts, &who, now)?,
        ));
    }
    // One commit for the pass: a slow disk delays every tip's alerts by one commit, not by one
    // commit per tip.
    let alerted = core.store.store_alerts(batch, now).await?;
    core.outbox_wake.notify_one();
    Ok(alerted)
}

/// The alerts of a climb to `rung` (stored by the escalation with the climb).
pub async fn for_escalation(
    core: &Core,
    tip_id: TipId,
    step: &str,
    rung: Rung,
    now: i64,
) -> Result<Vec<NewOutbox>, crate::intake::IntakeError> {
    let Some(tip) = core.store.tip(tip_id).await? else {
        return Ok(Vec::new());
    };
    let mut desks: Vec<String> = core
        .store
        .assignments(tip_id)
        .await?
        .into_iter()
        .map(|a| a.desk_id)
        .collect();
    desks.extend(tip.station_id.clone());
    // The accused station is never told.
    desks.retain(|d| Some(d) != tip.barred_station_id.as_ref());
    let shifts = core.store.shifts(now, now + 1).await?;
    let fallback = range_supervisors(core, now).await?;
    let who = for_rung(&shifts, &fallback, tip.district_id.as_deref(), &desks, rung);
    let facts = AlertFacts {
        event: "tip.escalated".into(),
        tip_number: tip.tip_number.clone(),
        district: tip.district_id.clone(),
        category: tip.category.clone(),
        priority: tip.priority.clone(),
        late_step: Some(step.to_owned()),
        rung: Some(rung.as_str().to_owned()),
        link: link(core, &tip.tip_number),
    };
    let key = format!("esc:{}:{step}:{}", tip_id.get(), rung.as_str());
    Ok(outbox_for(
        core,
        &key,
        "escalation",
        tip_id,
        &facts,
        &who,
        now,
    )?)
}
