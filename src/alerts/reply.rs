//! Replies to alerts: the duty officer acknowledges a tip by answering the SMS or WhatsApp alert
//! with `ACK <tip number>` (or `ठीक <number>`, `OK <number>`), as Twilio's Messaging webhook
//! delivers it (form-encoded, `From` as `+91…` or `whatsapp:+91…`, signed with
//! `X-Twilio-Signature`).
//!
//! Must never: act on a request whose signature does not verify over the exact parameters
//! received; act for a number that is not an active officer's work phone; let a reply do more
//! than the officer's role allows on the console (the same `cases::step`, audited the same way,
//! with `"via": "reply"`); log the sender's number or the message.

use crate::app::Core;
use crate::cases::{self, CaseError, StepInput};
use crate::crypto::ct_eq;
use crate::domain::{TipNumber, TipStatus, Transition};
use crate::officers::{Session, scope_of};

/// The tip number of an acknowledging reply: an optional word that means "seen" (`ACK`, `OK`,
/// `ठीक`, `हाँ`, ...) and a tip number; anything else is not an acknowledgement.
pub fn parse_ack(body: &str) -> Option<TipNumber> {
    const WORDS: &[&str] = &[
        "ack",
        "ok",
        "okay",
        "yes",
        "haan",
        "han",
        "seen",
        "ठीक",
        "हाँ",
        "हां",
        "स्वीकार",
        "देखा",
    ];
    let body = body.trim();
    let digits_from = body
        .char_indices()
        .find(|(_, c)| c.is_ascii_digit() || ('\u{0966}'..='\u{096F}').contains(c))
        .map_or(body.len(), |(i, _)| i);
    let (word, number) = body.split_at(digits_from);
    let word = word
        .trim()
        .trim_end_matches([':', '-', '.', ','])
        .trim()
        .to_lowercase();
    (word.is_empty() || WORDS.contains(&word.as_str()))
        .then(|| TipNumber::parse(number.trim()))
        .flatten()
}

/// What became of a reply (each says itself to the officer in Hindi and English).
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The tip is now acknowledged.
    Acknowledged(String),
    /// It was acknowledged already (or has moved on).
    Already(String, &'static str),
    /// The reply names no tip number.
    NoNumber,
    /// No tip with that number that this officer may see.
    NotFound,
    /// The officer's role may not acknowledge.
    Forbidden,
    /// The number is not an active officer's work phone.
    NotOfficer,
}

impl Outcome {
    /// The answer sent back.
    pub fn text(&self) -> String {
        match self {
            Self::Acknowledged(n) => {
                format!("सूचना {n} स्वीकार की गई, धन्यवाद। Tip {n} acknowledged.")
            }
            Self::Already(n, status) => {
                format!("सूचना {n} पहले ही आगे बढ़ चुकी है ({status})। Tip {n} is already {status}.")
            }
            Self::NoNumber => "स्वीकार करने के लिए लिखें: ACK <सूचना संख्या>। To acknowledge, reply ACK <tip number>.".into(),
            Self::NotFound => "यह सूचना संख्या नहीं मिली। No tip with that number for you.".into(),
            Self::Forbidden => "आपका पद यह सूचना स्वीकार नहीं कर सकता; कंसोल खोलें। Your role cannot acknowledge; open the console.".into(),
            Self::NotOfficer => "यह नंबर केवल पुलिस अलर्ट के लिए है। This number only carries police alerts.".into(),
        }
    }

    /// For the audit-free access log: which outcome, without the number.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Acknowledged(_) => "acknowledged",
            Self::Already(..) => "already",
            Self::NoNumber => "no_number",
            Self::NotFound => "not_found",
            Self::Forbidden => "forbidden",
            Self::NotOfficer => "not_officer",
        }
    }
}

/// Acts on a reply from `from` (`+91…` or `whatsapp:+91…`): finds the active officer with that
/// work phone and acknowledges the tip named, exactly as the console's button would.
pub async fn acknowledge_by_reply(
    core: &Core,
    from: &str,
    body: &str,
) -> Result<Outcome, CaseError> {
    let phone = from.strip_prefix("whatsapp:").unwrap_or(from).trim();
    let officers = core.store.officers().await?;
    let Some(officer) = officers.into_iter().find(|o| {
        !o.disabled
            && o.phone
                .as_deref()
                .is_some_and(|p| ct_eq(p.as_bytes(), phone.as_bytes()))
    }) else {
        return Ok(Outcome::NotOfficer);
    };
    let Some(scope) = scope_of(&officer) else {
        return Ok(Outcome::Forbidden);
    };
    let Some(number) = parse_ack(body) else {
        return Ok(Outcome::NoNumber);
    };
    let Some(tip) = core.store.tip_auth(number.as_str()).await? else {
        return Ok(Outcome::NotFound);
    };
    let session = Session {
        hash: [0; 32],
        officer,
        scope,
        full: true,
    };
    let shown = number.display();
    let case = match cases::load(core, &session, tip.tip_id).await {
        Ok(c) => c,
        Err(CaseError::NotFound) => return Ok(Outcome::NotFound),
        Err(e) => return Err(e),
    };
    if case.status != TipStatus::New {
        return Ok(Outcome::Already(shown, case.status.as_str()));
    }
    let input = StepInput {
        via: Some("reply"),
        ..StepInput::default()
    };
    match cases::step(
        core,
        &session,
        tip.tip_id,
        case.status,
        Transition::Acknowledge,
        input,
    )
    .await
    {
        Ok(_) => Ok(Outcome::Acknowledged(shown)),
        Err(CaseError::Forbidden) => Ok(Outcome::Forbidden),
        Err(CaseError::Changed | CaseError::InvalidTransition { .. }) => {
            let now = core.store.tip(tip.tip_id).await?.map(|t| t.status);
            let status = now
                .as_deref()
                .and_then(TipStatus::parse)
                .unwrap_or(TipStatus::Acknowledged);
            Ok(Outcome::Already(shown, status.as_str()))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgements_name_a_valid_tip_number() {
        let number = TipNumber::generate().unwrap();
        let n = number.as_str();
        let grouped = number.display();
        for reply in [
            format!("ACK {n}"),
            format!("ack{n}"),
            format!("  Ok: {grouped} "),
            format!("ठीक {n}"),
            n.to_owned(),
        ] {
            assert_eq!(parse_ack(&reply), Some(number.clone()), "{reply}");
        }
        for reply in [
            "ACK".to_owned(),
            format!("do not ack {n}"),
            format!("ACK {n}9"),
            "ACK 12345".to_owned(),
        ] {
            assert_eq!(parse_ack(&reply), None, "{reply}");
        }
    }
}
