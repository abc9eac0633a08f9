//! The voice line on Twilio: an IVR in Hindi (English on 9) that promises secrecy and offers
//! 1 to speak to the district's duty operator now (the call is connected with the hotline's number
//! shown, never the caller's; nobody answering falls back to a recording), 2 to leave a recorded
//! message, and 3 to hear the status of an earlier tip by keying its number and secret. A recorded
//! message opens a tip (or joins the caller's open one) like any provider message, with the
//! recording fetched later by `media` (sealed, disguised for officers, deleted at Twilio); the tip
//! number and secret are read out digit by digit, twice.
//!
//! Every step is one TwiML document, built here from plain values; `http::hooks` checks the
//! signature and hands the form over. Must never: put the caller's number in a URL, a log line or
//! a prompt; log the keyed digits.

use super::twilio::xml_escape as escape;
use super::{Handled, InboundMessage, Provider};
use crate::alerts::roster::Duty;
use crate::app::Core;
use crate::domain::{Channel, SECRET_DIGITS, TIP_NUMBER_DIGITS, TipNumber, TipSecret, TipStatus};
use crate::intake::{self, IntakeError};

/// The language of the prompts (`?lang=` on every step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Hindi (the default).
    Hindi,
    /// English (key 9).
    English,
}

impl Lang {
    /// From the query parameter; anything else is Hindi.
    pub fn parse(s: Option<&str>) -> Self {
        if s == Some("en") {
            Self::English
        } else {
            Self::Hindi
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Hindi => "hi",
            Self::English => "en",
        }
    }

    fn other(self) -> Self {
        match self {
            Self::Hindi => Self::English,
            Self::English => Self::Hindi,
        }
    }

    fn pick(self, hi: &'static str, en: &'static str) -> &'static str {
        match self {
            Self::Hindi => hi,
            Self::English => en,
        }
    }
}

/// Longest recorded message, in seconds.
const MAX_RECORD_SECONDS: u32 = 180;

/// `<Say>` in the language's Indian voice (Polly Aditi speaks both hi-IN and en-IN).
fn say(lang: Lang, text: &str) -> String {
    let language = lang.pick("hi-IN", "en-IN");
    format!(
        "<Say voice=\"Polly.Aditi\" language=\"{language}\">{}</Say>",
        escape(text)
    )
}

fn document(body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{body}</Response>")
}

/// The address of a step, with the language.
fn step(base: &str, name: &str, lang: Lang) -> String {
    let base = base.trim_end_matches('/');
    let path = if name.is_empty() {
        "/hooks/twilio/voice".to_owned()
    } else {
        format!("/hooks/twilio/voice/{name}")
    };
    escape(&format!("{base}{path}?lang={}", lang.code()))
}

/// The greeting that promises secrecy, and the menu (Twilio's and Exotel's).
pub(crate) fn menu_prompt(lang: Lang) -> &'static str {
    lang.pick(
        "नमस्कार, यह पुलिस की गुप्त सूचना लाइन है। आपका नाम और नंबर किसी को नहीं बताया जाएगा। \
         ड्यूटी अधिकारी से अभी बात करने के लिए 1 दबाएँ। अपनी सूचना रिकॉर्ड करने के लिए 2 दबाएँ। \
         पहले दी गई सूचना की स्थिति जानने के लिए 3 दबाएँ। For English, press 9.",
        "This is the police secret tip line. Your name and number will not be told to anyone. \
         To speak to the duty officer now, press 1. To record your information, press 2. \
         To hear the status of an earlier tip, press 3. हिंदी के लिए 9 दबाएँ।",
    )
}

/// The greeting and the menu.
pub fn greeting(base: &str, lang: Lang) -> String {
    let text = menu_prompt(lang);
    document(&format!(
        "<Gather input=\"dtmf\" numDigits=\"1\" timeout=\"6\" actionOnEmptyResult=\"true\" \
         action=\"{}\" method=\"POST\">{}</Gather>",
        step(base, "menu", lang),
        say(lang, text)
    ))
}

/// What the caller is asked before the beep.
pub(crate) fn record_prompt(lang: Lang) -> &'static str {
    lang.pick(
        "बीप के बाद बताइए कि क्या हुआ, कहाँ और कब। अपना नाम बताने की ज़रूरत नहीं। बोलने के बाद # दबाएँ और फ़ोन न रखें, आपको सूचना संख्या बताई जाएगी।",
        "After the beep, say what happened, where and when. You need not give your name. Then press # and stay on the line to hear your tip number.",
    )
}

/// Said when key 1 finds nobody on duty.
pub(crate) fn nobody_on_duty(lang: Lang) -> &'static str {
    lang.pick(
        "अभी कोई अधिकारी उपलब्ध नहीं है।",
        "No officer is free just now.",
    )
}

/// What the caller keys for the status of an earlier tip.
pub(crate) fn status_prompt(lang: Lang) -> &'static str {
    lang.pick(
        "अपनी दस अंकों की सूचना संख्या, फिर पंद्रह अंकों का गुप्त कोड दबाएँ, और अंत में # दबाएँ।",
        "Key your ten-digit tip number, then your fifteen-digit secret, then press #.",
    )
}

/// Said when a call ends without a message.
pub(crate) fn no_message(lang: Lang) -> &'static str {
    lang.pick(
        "कोई संदेश नहीं मिला। धन्यवाद।",
        "No message was received. Thank you.",
    )
}

/// The recording prompt (also the fallback when nobody answers).
fn record(base: &str, lang: Lang, intro: Option<&str>) -> String {
    let prompt = record_prompt(lang);
    let intro = intro.map(|t| say(lang, t)).unwrap_or_default();
    let none = no_message(lang);
    document(&format!(
        "{intro}{}<Record maxLength=\"{MAX_RECORD_SECONDS}\" timeout=\"8\" finishOnKey=\"#\" \
         playBeep=\"true\" trim=\"trim-silence\" action=\"{}\" method=\"POST\"/>{}",
        say(lang, prompt),
        step(base, "recorded", lang),
        say(lang, none)
    ))
}

/// The duty phones of a district, operators first, then the ASP and SP; the range's when the
/// number belongs to no district.
pub(crate) async fn duty_phones(
    core: &Core,
    district: Option<&str>,
) -> Result<Vec<String>, IntakeError> {
    let now = core.clock.now_ms();
    let shifts = core.store.shifts(now, now + 1).await?;
    let wanted: &[Duty] = if district.is_some() {
        &[Duty::Operator, Duty::Asp, Duty::Sp]
    } else {
        &[Duty::Range]
    };
    for duty in wanted {
        let phones: Vec<String> = shifts
            .iter()
            .filter(|s| Duty::parse(&s.duty) == Some(*duty))
            .filter(|s| district.is_none() || s.district_id.as_deref() == district)
            .filter_map(|s| s.phone.clone())
            .filter(|p| {
                let digits = p.strip_prefix('+').unwrap_or("");
                (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
            })
            .collect();
        if !phones.is_empty() {
            return Ok(phones);
        }
    }
    Ok(Vec::new())
}

/// The caller's choice from the menu.
pub async fn menu(
    core: &Core,
    base: &str,
    lang: Lang,
    digits: &str,
    hotline: &str,
) -> Result<String, IntakeError> {
    Ok(match digits {
        "1" => {
            let district = super::district_of_number(core, hotline);
            let phones = duty_phones(core, district.as_ref().map(|d| d.as_str())).await?;
            if phones.is_empty() {
                return Ok(record(base, lang, Some(nobody_on_duty(lang))));
            }
            // Each officer's leg is screened: a voicemail that answers never hears the caller.
            let screen = step(base, "screen", lang);
            let numbers: String = phones
                .iter()
                .map(|p| {
                    format!(
                        "<Number url=\"{screen}\" method=\"POST\">{}</Number>",
                        escape(p)
                    )
                })
                .collect();
            let wait = lang.pick(
                "आपको ड्यूटी अधिकारी से जोड़ा जा रहा है। आपका नंबर उन्हें नहीं दिखेगा।",
                "Connecting you to the duty officer. Your number will not be shown to them.",
            );
            // callerId: the hotline's own number, so the officer never sees the caller's.
            document(&format!(
                "{}<Dial callerId=\"{}\" timeout=\"25\" ringTone=\"in\" action=\"{}\" method=\"POST\">{numbers}</Dial>",
                say(lang, wait),
                escape(hotline),
                step(base, "dialed", lang)
            ))
        }
        "3" => {
            let ask = status_prompt(lang);
            document(&format!(
                "<Gather input=\"dtmf\" numDigits=\"{}\" finishOnKey=\"#\" timeout=\"15\" \
                 action=\"{}\" method=\"POST\">{}</Gather>{}",
                TIP_NUMBER_DIGITS + SECRET_DIGITS,
                step(base, "status", lang),
                say(lang, ask),
                say(
                    lang,
                    lang.pick("कोई अंक नहीं मिले।", "No digits were received.")
                ),
            ))
        }
        "9" => document(&format!(
            "<Redirect method=\"POST\">{}</Redirect>",
            step(base, "", lang.other())
        )),
        // 2, no key at all, or a key that means nothing: recording is what most callers want.
        _ => record(base, lang, None),
    })
}

/// Played to the officer who picks up, before the caller is connected: only a person who keys 1
/// is connected (an answering machine is hung up on and the caller goes on to the recording).
pub fn screen(base: &str, lang: Lang) -> String {
    let text = "टिप लाइन से कॉल। बात करने के लिए 1 दबाएँ। A tip-line call: press 1 to take it.";
    document(&format!(
        "<Gather input=\"dtmf\" numDigits=\"1\" timeout=\"8\" action=\"{}\" method=\"POST\">{}</Gather><Hangup/>",
        step(base, "screened", lang),
        say(Lang::Hindi, text)
    ))
}

/// The officer's key: 1 connects (an empty document ends the screening), anything else hangs up.
pub fn screened(digits: &str) -> String {
    if digits == "1" {
        document("")
    } else {
        document("<Hangup/>")
    }
}

/// After the call to the duty phone: the recording if nobody took it; after a conversation, the
/// caller may still leave a recorded message (2), else the call ends.
pub fn dialed(base: &str, lang: Lang, dial_status: &str) -> String {
    if dial_status == "completed" {
        let more = lang.pick(
            "धन्यवाद। अपनी बात रिकॉर्ड भी करनी हो तो 2 दबाएँ।",
            "Thank you. To also record a message, press 2.",
        );
        document(&format!(
            "<Gather input=\"dtmf\" numDigits=\"1\" timeout=\"5\" action=\"{}\" method=\"POST\">{}</Gather><Hangup/>",
            step(base, "menu", lang),
            say(lang, more)
        ))
    } else {
        let nobody = lang.pick(
            "अभी कोई अधिकारी फ़ोन नहीं उठा सका।",
            "No officer could answer just now.",
        );
        record(base, lang, Some(nobody))
    }
}

/// Digits read one at a time ("4, 5, 1, ...") so the voice does not read a large number.
fn spell(digits: &str) -> String {
    digits
        .chars()
        .filter(char::is_ascii_digit)
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A recorded message on either voice provider: a tip opened (or joined) through
/// `channels::receive`, with the recording (`reference`, fetched later by `media`) attached.
/// `call.from` is the caller as one person (or one call, when the number is withheld).
pub(crate) async fn take_recording(
    core: &Core,
    provider: Provider,
    lang: Lang,
    call: &Call,
    reference: &str,
    seconds: Option<u32>,
) -> Result<Handled, IntakeError> {
    let text = match (lang, seconds) {
        (Lang::Hindi, Some(s)) => format!("[फ़ोन पर रिकॉर्ड किया गया संदेश, {s} सेकंड]"),
        (Lang::Hindi, None) => "[फ़ोन पर रिकॉर्ड किया गया संदेश]".to_owned(),
        (Lang::English, Some(s)) => format!("[message recorded on the phone line, {s} seconds]"),
        (Lang::English, None) => "[message recorded on the phone line]".to_owned(),
    };
    let message = InboundMessage {
        provider,
        channel: Channel::Voice,
        district: call.district.clone(),
        via: call.to.clone(),
        from: call.from.clone(),
        text,
        provider_id: call.call_sid.clone(),
        media: vec![super::MediaRef::new(super::MediaKind::Call, reference)],
        location: None,
    };
    let handled = super::receive(core, &message).await?;
    tracing::info!(
        channel = "voice",
        provider = provider.as_str(),
        outcome = handled.name(),
        "message in"
    );
    Ok(handled)
}

/// A new tip's number and secret as they are read out: once, "once more", again, and a goodbye.
pub(crate) fn receipt(lang: Lang, spoken: &super::Spoken) -> [String; 4] {
    let (n, s) = (spell(&spoken.number), spell(&spoken.secret));
    let once = match lang {
        Lang::Hindi => {
            format!("आपकी सूचना दर्ज हो गई। लिख लीजिए। सूचना संख्या है: {n}। गुप्त कोड है: {s}।")
        }
        Lang::English => {
            format!("Your tip is recorded. Please write this down. Tip number: {n}. Secret: {s}.")
        }
    };
    let again = lang.pick("फिर से सुनिए।", "Once more.").to_owned();
    let bye = lang
        .pick(
            "इन्हें किसी को न बताएँ। धन्यवाद।",
            "Tell them to no one. Thank you.",
        )
        .to_owned();
    [once.clone(), again, once, bye]
}

/// A recorded message: a tip opened (or joined), and its number and secret read out twice.
pub async fn recorded(
    core: &Core,
    lang: Lang,
    call: &Call,
    recording_sid: &str,
    seconds: u32,
) -> Result<String, IntakeError> {
    if !valid_sid(recording_sid, "RE") || seconds == 0 {
        return Ok(document(&say(lang, no_message(lang))));
    }
    let keyed = Call {
        from: caller_key(call),
        ..call.clone()
    };
    let handled = take_recording(
        core,
        Provider::Twilio,
        lang,
        &keyed,
        recording_sid,
        Some(seconds),
    )
    .await?;
    Ok(match handled {
        Handled::Opened(_, spoken) => document(
            &receipt(lang, &spoken)
                .iter()
                .map(|part| say(lang, part))
                .collect::<String>(),
        ),
        other => document(&say(lang, other.answer())),
    })
}

/// Said when the keyed tip number and secret do not match (or too many tries were made).
pub(crate) fn status_refused(lang: Lang) -> &'static str {
    lang.pick(
        "सूचना संख्या या गुप्त कोड सही नहीं, या अभी बहुत प्रयास हुए। बाद में फिर कोशिश करें।",
        "The tip number or secret is wrong, or there were too many tries. Please try later.",
    )
}

/// The status of a tip in words, from its keyed number and secret; none when they do not match
/// (a wrong guess counts against the tip and overall, as on every channel).
pub(crate) async fn status_words(
    core: &Core,
    lang: Lang,
    digits: &str,
) -> Result<Option<String>, IntakeError> {
    let parsed = (digits.len() == TIP_NUMBER_DIGITS + SECRET_DIGITS)
        .then(|| digits.split_at(TIP_NUMBER_DIGITS))
        .and_then(|(n, s)| Some((TipNumber::parse(n)?, TipSecret::parse(s)?)));
    let Some((number, secret)) = parsed else {
        return Ok(None);
    };
    match intake::authenticate(core, &number, &secret).await {
        Ok(tip_id) => {
            let record = core.store.tip(tip_id).await?.ok_or(IntakeError::NoMatch)?;
            let status = TipStatus::parse(&record.status).unwrap_or(TipStatus::New);
            let voice = match lang {
                Lang::Hindi => super::Voice::Hindi,
                Lang::English => super::Voice::English,
            };
            Ok(Some(voice.status(status, &spell(number.as_str()))))
        }
        Err(IntakeError::NoMatch | IntakeError::Locked | IntakeError::Busy) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The status of a tip from its keyed number and secret.
pub async fn status(core: &Core, lang: Lang, digits: &str) -> Result<String, IntakeError> {
    let words = status_words(core, lang, digits).await?;
    Ok(document(&say(
        lang,
        words.as_deref().unwrap_or(status_refused(lang)),
    )))
}

/// The fields of a voice request that every step reads.
#[derive(Clone, Debug)]
pub struct Call {
    /// Twilio's call id.
    pub call_sid: String,
    /// The caller (pseudonymised in `receive`, never logged).
    pub from: String,
    /// The hotline number called.
    pub to: String,
    /// The district of that number (none: the range's).
    pub district: Option<crate::jurisdiction::DistrictId>,
}

/// What Twilio puts in `From` when the caller's number is withheld (anonymous, restricted,
/// blocked, unavailable, unknown).
const WITHHELD: [&str; 5] = [
    "+266696687",
    "+7378742833",
    "+2562533",
    "+8656696",
    "+86282452253",
];

/// Whom a call is from, for joining it to the caller's open tip: the number, or, when it is
/// withheld or not a number, this call alone (withheld callers are not one person).
fn caller_key(call: &Call) -> String {
    let number = call.from.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
        && !WITHHELD.contains(&call.from.as_str())
    {
        call.from.clone()
    } else {
        format!("withheld:{}", call.call_sid)
    }
}

/// A Twilio id: two letters and 32 hex digits.
pub fn valid_sid(sid: &str, prefix: &str) -> bool {
    sid.len() == 34 && sid.starts_with(prefix) && sid[2..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_escaped_and_steps_carry_the_language() {
        let g = greeting("https://tips.example.in/", Lang::Hindi);
        assert!(g.contains("action=\"https://tips.example.in/hooks/twilio/voice/menu?lang=hi\""));
        assert!(g.contains("language=\"hi-IN\""));
        assert!(g.starts_with("<?xml"));
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(spell("12 34"), "1, 2, 3, 4");
        assert!(dialed("https://x", Lang::English, "completed").contains("<Hangup/>"));
        assert!(screen("https://x", Lang::Hindi).contains("screened?lang=hi"));
        assert_eq!(screened("1"), document(""));
        assert!(screened("").contains("<Hangup/>"));
        let fallback = dialed("https://x", Lang::English, "no-answer");
        assert!(fallback.contains("<Record") && fallback.contains("recorded?lang=en"));
        assert!(valid_sid("RE0123456789abcdef0123456789abcdef", "RE"));
        assert!(!valid_sid("RE0123456789abcdef0123456789abcde/", "RE"));
        assert!(!valid_sid("CA0123456789abcdef0123456789abcdef", "RE"));
    }
}
