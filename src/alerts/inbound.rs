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
use crate::crypto::{ct_eq, encode_base64, hmac_sha1};
use crate::domain::{TipNumber, TipStatus, Transition};
use crate::officers::{Session, scope_of};

/// A form-encoded body as Twilio sent it: every pair, in order, names repeated, empty values
/// kept (the signature covers all of them).
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses `application/x-www-form-urlencoded` bytes; `None` if a part is not UTF-8.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(body).ok()?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .ok()
                .map(|v| v.into_owned())
        };
        let mut pairs = Vec::new();
        for part in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(name)?, decode(value)?));
        }
        Some(Self(pairs))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// What Twilio signs after the URL: names sorted byte-wise, each name's distinct values
    /// sorted, `name + value` for each, no separators.
    fn signed_suffix(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = self
            .0
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs.into_iter().map(|(n, v)| format!("{n}{v}")).collect()
    }
}

/// `X-Twilio-Signature` of a request to `url` with `form`: base64(HMAC-SHA1(token, url + params)).
pub fn twilio_signature(token: &str, url: &str, form: &Form) -> String {
    let signed = format!("{url}{}", form.signed_suffix());
    encode_base64(&hmac_sha1(token.as_bytes(), signed.as_bytes()))
}

/// Whether `signature` is Twilio's for `url` and `form`, with the URL as given or with its
/// default port added or removed (Twilio signs either way). Constant-time per candidate.
pub fn twilio_verify(token: &str, url: &str, form: &Form, signature: &str) -> bool {
    port_variants(url).iter().any(|candidate| {
        ct_eq(
            twilio_signature(token, candidate, form).as_bytes(),
            signature.as_bytes(),
        )
    })
}

/// `url`, and the same URL with the scheme's default port toggled.
fn port_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    let (scheme, default) = if let Some(rest) = url.strip_prefix("https://") {
        ("https://", (rest, ":443"))
    } else if let Some(rest) = url.strip_prefix("http://") {
        ("http://", (rest, ":80"))
    } else {
        return out;
    };
    let (rest, port) = default;
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    if let Some(host) = authority.strip_suffix(port) {
        out.push(format!("{scheme}{host}{tail}"));
    } else if !authority.rsplit('@').next().unwrap_or("").contains(':') {
        out.push(format!("{scheme}{authority}{port}{tail}"));
    }
    out
}

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

    /// The parameters of Twilio's official vectors (twilio-python and twilio-node tests).
    fn official_params() -> Form {
        Form::parse(
            b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212",
        )
        .unwrap()
    }

    #[test]
    fn signature_matches_twilios_official_vectors() {
        let p = official_params();
        let cases = [
            (
                "https://mycompany.com/myapp.php?foo=1&bar=2",
                "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            ),
            (
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                "kvajT1Ptam85bY51eRf/AJRuM3w=",
            ),
            (
                "http://mycompany.com:80/myapp.php?foo=1&bar=2",
                "0ZXoZLH/DfblKGATFgpif+LLRf4=",
            ),
            (
                "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
                "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
            ),
            (
                "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2",
                "CukzLTc1tT5dXEDIHm/tKBanW10=",
            ),
            (
                "https://mycompany.com/myapp.php?foo=1&bar=2&Body=It%27s+amazing",
                "TfZzewPq8wqrGlMfyAud8+/IvJ0=",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(twilio_signature("12345", url, &p), expected, "{url}");
            assert!(twilio_verify("12345", url, &p, expected));
        }
        // Either port form verifies against the other's signature.
        assert!(twilio_verify(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            &p,
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        assert!(twilio_verify(
            "12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // A wrong token, a changed parameter or a truncated signature fail.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(!twilio_verify(
            "12346",
            url,
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let changed = Form::parse(
            b"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1235&From=%2B14158675309&To=%2B18005551212",
        )
        .unwrap();
        assert!(!twilio_verify(
            "12345",
            url,
            &changed,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!twilio_verify(
            "12345",
            url,
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8"
        ));
    }

    #[test]
    fn repeated_parameters_are_signed_sorted_and_once() {
        let p =
            Form::parse(b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234").unwrap();
        assert_eq!(
            twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &p),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn the_locally_computed_realistic_vector_verifies() {
        let p = Form::parse(
            b"AccountSid=AC00000000000000000000000000000001&ApiVersion=2010-04-01&CallSid=CA00000000000000000000000000000002&CallStatus=ringing&Direction=inbound&From=%2B919812345678&To=%2B18005550100",
        )
        .unwrap();
        assert_eq!(
            twilio_signature(
                "test_auth_token_123",
                "https://tips.example.in/hooks/twilio/voice",
                &p
            ),
            "XumXhq8b6avWovkSvytE3u0l6Dc="
        );
    }

    #[test]
    fn empty_values_are_kept() {
        let p = Form::parse(b"Body=&From=%2B91").unwrap();
        assert_eq!(p.get("Body"), Some(""));
        assert_eq!(p.signed_suffix(), "BodyFrom+91");
        assert!(Form::parse(b"Body=%FF").is_none(), "not UTF-8");
    }

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
