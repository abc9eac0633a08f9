//! The voice line on Exotel, built from the applets of a classic App Bazaar call flow: the same
//! IVR as Twilio's (`voice`), in Hindi with English on 9; 1 to speak to the district's duty
//! operator now, 2 to leave a recorded message, 3 to hear the status of an earlier tip. A recorded
//! message opens a tip (or joins the caller's open one) through `channels::receive`, like
//! Twilio's; the recording (MP3) is fetched later by `media`, with the API key and token, and only
//! from the configured recording origins. A missed call is called back into the flow through the
//! outbox, at most once an hour per caller.
//!
//! Exotel signs nothing: every URL carries the configured secret, `/hooks/exotel/{token}/...`
//! (compared in constant time; wrong: 401, nothing stored, nothing logged). Exotel calls with
//! `GET` and the call's details in the query string (`CallSid`, `CallFrom`, `CallTo`, `digits`
//! wrapped in double quotes, `RecordingUrl`, `CallType`, ...); the access log writes route
//! templates only, so the caller's number is never logged.
//!
//! The flow, applet by applet (`…` is `https://HOST/hooks/exotel/TOKEN`; every URL may end in
//! `?lang=en` for the English branch):
//!
//! | applet | URL | answers |
//! |---|---|---|
//! | Gather (dynamic URL) | `…/gather/menu` | the greeting and menu as JSON, one digit |
//! | Passthru (sync) | `…/passthru/key-1` | 200 when the caller keyed 1, else 302 |
//! | Passthru (sync), on 200 | `…/passthru/duty` | 200 when someone is on duty, else 302 |
//! | Connect (dynamic URL), on 200 | `…/connect/duty` | the duty phones as JSON, the ExoPhone shown |
//! | Greeting (dynamic), on 302 | `…/greeting/busy` | "nobody is free", then on to the recording |
//! | Passthru (sync), key not 1 | `…/passthru/key-3` | 200 when the caller keyed 3, else 302 |
//! | Gather (dynamic URL), on 200 | `…/gather/status` | asks for tip number and secret, 25 digits |
//! | Greeting (dynamic) | `…/greeting/status` | the status, or that the digits were wrong |
//! | Greeting (dynamic), key not 3 | `…/greeting/record` | what to say after the beep |
//! | Voicemail | (its own prompt off) | records the caller |
//! | Passthru (sync) | `…/passthru/recorded` | stores the message: 200 a tip, 302 no recording |
//! | Greeting (dynamic), on 200 | `…/greeting/receipt` | the tip number and secret, twice |
//! | Passthru (async), missed-call flow | `…/passthru/missed` | queues one call-back |
//!
//! `…/passthru/key-9` (200 on 9) leads to the English branch; `…/passthru/status` (200 when the
//! keyed number and secret match) is there for a flow that branches on it. Unverified with Exotel
//! (channels.md marks them so): the Gather JSON field names, the Connect JSON shape, whether a
//! second Passthru still receives the `digits` of the Gather before it, whether a Greeting's
//! dynamic URL may answer plain text, and which `CallType` a missed call carries.
//!
//! Must never: put the caller's number in a URL, a log line, a prompt or the database in clear
//! (it becomes a pseudonym at once; for a call-back it is sealed in the outbox payload only);
//! fetch a recording from any host but the configured ones.

use super::config::Exotel;
use super::voice::{self, Call, Lang};
use super::{Handled, Provider, Spoken};
use crate::alerts::{Payload, Relay, seal_payload};
use crate::app::Core;
use crate::crypto::{ct_eq, encode_hex};
use crate::domain::{Channel, SECRET_DIGITS, TIP_NUMBER_DIGITS};
use crate::intake::IntakeError;
use crate::store::NewOutbox;

/// A caller gets at most one call-back in this window.
pub const CALLBACK_WINDOW_MS: i64 = 3_600_000;

/// Whether `given` is the configured path secret (constant time).
pub fn token_matches(exotel: &Exotel, given: &str) -> bool {
    use secrecy::ExposeSecret;
    ct_eq(given.as_bytes(), exotel.token.expose_secret().as_bytes())
}

/// A number as Exotel writes it (`09876543210`, `919876543210`, `+919876543210`, a bare ten-digit
/// mobile number) in E.164; none for anything else (a withheld or malformed number).
pub fn e164(number: &str) -> Option<String> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let national = |s: &str| (s.len() == 10 && all_digits(s)).then(|| format!("+91{s}"));
    if let Some(rest) = number.strip_prefix('+') {
        return ((8..=15).contains(&rest.len()) && all_digits(rest)).then(|| number.to_owned());
    }
    match number.len() {
        11 if number.starts_with('0') => national(&number[1..]),
        12 if number.starts_with("91") => national(&number[2..]),
        10 if number.starts_with(['6', '7', '8', '9']) => national(number),
        _ => None,
    }
}

/// The query of one request from Exotel, checked.
#[derive(Clone, Debug)]
pub struct Request {
    /// The call, with the caller as one person (or this call alone, when withheld).
    pub call: Call,
    /// The caller's number in E.164, when it is one (for a call-back only).
    pub caller: Option<String>,
    /// Keys from the Gather before, without Exotel's double quotes.
    pub digits: String,
    /// `RecordingUrl`, if any.
    pub recording_url: Option<String>,
    /// `CallType` (`call-attempt`, `completed`, `client-hangup`, `incomplete`, `voicemail`).
    pub call_type: String,
    /// The prompts' language (`lang=en` in the configured URL).
    pub lang: Lang,
}

/// Why a request is refused (400, nothing stored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadRequest {
    /// Not a query string.
    #[error("the query string is not readable")]
    Unreadable,
    /// `CallSid` missing or not an id.
    #[error("CallSid is missing or malformed")]
    CallSid,
    /// `CallTo` missing.
    #[error("CallTo is required")]
    CallTo,
    /// `digits` not keys.
    #[error("digits are malformed")]
    Digits,
    /// A recording somewhere Exotel does not keep them.
    #[error("RecordingUrl is not on a configured recordings host")]
    RecordingHost,
}

impl Request {
    /// Parses Exotel's query string (field names in either case Exotel's pages write them).
    pub fn parse(core: &Core, exotel: &Exotel, query: &str) -> Result<Self, BadRequest> {
        Self::parse_with(exotel, query, |to| district_of(core, exotel, to))
    }

    /// [`Request::parse`] with the district of the ExoPhone called (`CallTo`) given by
    /// `district_of`: no state, so the fuzz targets reach it.
    pub fn parse_with(
        exotel: &Exotel,
        query: &str,
        district_of: impl FnOnce(&str) -> Option<crate::jurisdiction::DistrictId>,
    ) -> Result<Self, BadRequest> {
        let form = super::twilio::Form::parse(query.as_bytes()).ok_or(BadRequest::Unreadable)?;
        let field = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| form.get(n))
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        let call_sid = field(&["CallSid"]);
        if !(8..=64).contains(&call_sid.len())
            || !call_sid.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(BadRequest::CallSid);
        }
        let to = field(&["CallTo", "To"]);
        if to.is_empty() || to.len() > 20 {
            return Err(BadRequest::CallTo);
        }
        let digits = field(&["digits", "Digits"])
            .trim_matches('"')
            .trim_end_matches('#')
            .to_owned();
        if digits.len() > 40
            || !digits
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'#' || b == b'*')
        {
            return Err(BadRequest::Digits);
        }
        let recording_url = Some(field(&["RecordingUrl"])).filter(|u| !u.is_empty());
        if let Some(url) = &recording_url
            && !recording_allowed(exotel, url)
        {
            return Err(BadRequest::RecordingHost);
        }
        let caller = e164(&field(&["CallFrom", "Callfrom", "From"]));
        let call = Call {
            from: caller
                .clone()
                .unwrap_or_else(|| format!("withheld:{call_sid}")),
            district: district_of(&to),
            call_sid,
            to,
        };
        Ok(Self {
            call,
            caller,
            digits,
            recording_url,
            call_type: field(&["CallType"]),
            lang: Lang::parse(form.get("lang")),
        })
    }
}

/// Whether a recording may be fetched from `url`: its origin (scheme, host, port) is one of the
/// configured ones, so a forged `RecordingUrl` cannot make us fetch from elsewhere (nor send the
/// API key there).
pub fn recording_allowed(exotel: &Exotel, url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| {
        u.username().is_empty()
            && u.password().is_none()
            && exotel
                .recording_origins
                .contains(&u.origin().ascii_serialization())
    })
}

/// The district of the ExoPhone called: the configured map, then the jurisdiction's hotlines.
fn district_of(core: &Core, exotel: &Exotel, to: &str) -> Option<crate::jurisdiction::DistrictId> {
    let number = e164(to)?;
    match exotel.exophones.iter().find(|(n, _)| *n == number) {
        Some((_, district)) => district.clone(),
        None => super::district_of_number(core, &number),
    }
}

/// What one step answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// A Gather's or Connect's settings.
    Json(serde_json::Value),
    /// A Greeting's words.
    Text(String),
    /// A Passthru's branch: 200 (true) or 302 (false).
    Branch(bool),
    /// No such step.
    NotFound,
}

/// The answer of one step of the flow (see the module's table).
pub async fn step(
    core: &Core,
    exotel: &Exotel,
    applet: &str,
    name: &str,
    r: &Request,
) -> Result<Answer, IntakeError> {
    let lang = r.lang;
    Ok(match (applet, name) {
        ("gather", "menu") => gather(voice::menu_prompt(lang), 1, 6),
        ("gather", "status") => gather(
            voice::status_prompt(lang),
            TIP_NUMBER_DIGITS + SECRET_DIGITS,
            15,
        ),
        ("passthru", key) if key.starts_with("key-") => {
            Answer::Branch(key.strip_prefix("key-") == Some(r.digits.as_str()))
        }
        ("passthru", "duty") => Answer::Branch(!duty(core, r).await?.is_empty()),
        ("connect", "duty") => {
            let phones = duty(core, r).await?;
            if phones.is_empty() {
                Answer::NotFound
            } else {
                Answer::Json(connect(&phones, &r.call.to))
            }
        }
        ("greeting", "busy") => Answer::Text(voice::nobody_on_duty(lang).to_owned()),
        ("passthru", "status") => {
            Answer::Branch(voice::status_words(core, lang, &r.digits).await?.is_some())
        }
        ("greeting", "status") => Answer::Text(
            voice::status_words(core, lang, &r.digits)
                .await?
                .unwrap_or_else(|| voice::status_refused(lang).to_owned()),
        ),
        ("greeting", "record") => Answer::Text(voice::record_prompt(lang).to_owned()),
        ("passthru", "recorded") => Answer::Branch(recorded(core, r).await?),
        ("greeting", "receipt") => Answer::Text(receipt(core, r).await?),
        ("passthru", "missed") => {
            call_back(core, exotel, r).await?;
            Answer::Branch(true)
        }
        _ => Answer::NotFound,
    })
}

/// A Gather applet's settings (field names as support article 3000084635 gives them).
fn gather(prompt: &str, digits: usize, timeout: u32) -> Answer {
    Answer::Json(serde_json::json!({
        "gather_prompt": { "text": prompt },
        "max_input_digits": digits,
        "finish_on_key": "#",
        "input_timeout": timeout,
        "repeat_menu": 2,
        "repeat_gather_prompt": { "text": prompt },
    }))
}

/// The duty phones for the district of the ExoPhone called (the Twilio line's roster rule).
async fn duty(core: &Core, r: &Request) -> Result<Vec<String>, IntakeError> {
    voice::duty_phones(core, r.call.district.as_ref().map(|d| d.as_str())).await
}

/// A Connect applet's settings: the duty phones rung together, the ExoPhone shown to them (never
/// the caller's number), the officer told first who is calling; no recording of the conversation.
fn connect(phones: &[String], exophone: &str) -> serde_json::Value {
    serde_json::json!({
        "fetch_after_attempt": false,
        "destination": { "numbers": phones },
        "outgoing_phone_number": exophone,
        "record": false,
        "max_ringing_duration": 25,
        "max_conversation_duration": 3600,
        "start_call_playback": {
            "playback_to": "callee",
            "type": "text",
            "value": "टिप लाइन से कॉल। A tip-line call.",
        },
    })
}

/// After the Voicemail applet: a recording opens or joins a tip (a retry of the same call stores
/// nothing more). False when there is no recording to take.
async fn recorded(core: &Core, r: &Request) -> Result<bool, IntakeError> {
    let Some(url) = r.recording_url.as_deref() else {
        return Ok(false);
    };
    if r.call_type != "voicemail" {
        return Ok(false);
    }
    let handled = voice::take_recording(core, Provider::Exotel, r.lang, &r.call, url, None).await?;
    Ok(!matches!(handled, Handled::Empty(_)))
}

/// What the caller hears after the recording: the new tip's number and secret digit by digit,
/// twice; or, for a message joined to their open tip, that answer.
async fn receipt(core: &Core, r: &Request) -> Result<String, IntakeError> {
    let answer = super::answer_of(core, Channel::Voice, &r.call.call_sid).await?;
    Ok(match answer {
        Some(text) => match Spoken::from_answer(&text) {
            Some(spoken) => voice::receipt(r.lang, &spoken).join(" "),
            None => text,
        },
        None => voice::no_message(r.lang).to_owned(),
    })
}

/// A missed call: one call-back into the flow, from the ExoPhone called, queued in the outbox
/// with the caller's number sealed in its payload. Nothing for a withheld number, a call that
/// reached the menu, or a caller called back within the hour (spoofed missed calls must not make
/// the line ring someone again and again).
async fn call_back(core: &Core, exotel: &Exotel, r: &Request) -> Result<(), IntakeError> {
    let missed = matches!(r.call_type.as_str(), "call-attempt" | "client-hangup" | "")
        && r.digits.is_empty();
    let (Some(caller), Some(_), true) = (&r.caller, &exotel.callback_flow_url, missed) else {
        return Ok(());
    };
    let now = core.clock.now_ms();
    let who = encode_hex(&core.keyring.keys().pseudonym("exotel-callback", caller));
    let hour = now / CALLBACK_WINDOW_MS;
    // One key per caller and clock hour (a second node's attempt is a no-op), and none while the
    // previous hour's call-back is less than an hour old.
    if let Some(at) = core
        .store
        .outbox_created_at(&format!("callback:{who}:{}", hour - 1))
        .await?
        && at > now - CALLBACK_WINDOW_MS
    {
        return Ok(());
    }
    let key = format!("callback:{who}:{hour}");
    let payload = Payload {
        to: caller.clone(),
        facts: None,
        mail: None,
        relay: Some(Relay {
            text: String::new(),
            via: r.call.to.clone(),
            window_until: None,
        }),
    };
    let row = NewOutbox {
        payload_sealed: seal_payload(core, &key, &payload)?,
        outbox_key: key,
        purpose: "callback".into(),
        channel: "exotel_callback".into(),
        tip_id: None,
        officer_id: None,
        created_at: now,
    };
    core.store.enqueue(vec![row]).await?;
    core.outbox_wake.notify_one();
    tracing::info!(
        channel = "voice",
        provider = "exotel",
        "missed call: call-back queued"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_fetched_only_from_the_configured_origins() {
        let exotel = Exotel {
            token: "t".repeat(24).into(),
            account_sid: "tipline1".into(),
            api_key: "key".into(),
            api_token: "secret".into(),
            api_url: "https://api.in.exotel.com".into(),
            recording_origins: vec!["https://recordings.exotel.com".into()],
            callback_flow_url: None,
            exophones: Vec::new(),
        };
        assert!(recording_allowed(
            &exotel,
            "https://recordings.exotel.com/exotelrecordings/tipline1/b6cf.mp3"
        ));
        for url in [
            "http://recordings.exotel.com/x.mp3",
            "https://recordings.exotel.com:8443/x.mp3",
            "https://recordings.exotel.com.evil.example/x.mp3",
            "https://recordings.exotel.com@evil.example/x.mp3",
            "https://user:pw@recordings.exotel.com/x.mp3",
            "https://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
            "recordings.exotel.com/x.mp3",
        ] {
            assert!(!recording_allowed(&exotel, url), "{url}");
        }
    }

    #[test]
    fn numbers_as_exotel_writes_them_become_e164() {
        assert_eq!(e164("09876543210").as_deref(), Some("+919876543210"));
        assert_eq!(e164("919876543210").as_deref(), Some("+919876543210"));
        assert_eq!(e164("+919876543210").as_deref(), Some("+919876543210"));
        assert_eq!(e164("9876543210").as_deref(), Some("+919876543210"));
        assert_eq!(e164("08047112233").as_deref(), Some("+918047112233"));
        for bad in [
            "",
            "anonymous",
            "+",
            "0987654321a",
            "12345",
            "+1234567890123456",
        ] {
            assert_eq!(e164(bad), None, "{bad}");
        }
    }
}
