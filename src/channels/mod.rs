//! Provider channels (SMS, WhatsApp, Telegram, Messenger, X, and the voice line on Twilio and
//! Exotel): every message
//! is parsed into one [`InboundMessage`] and handled the same way. A provider's retry of a message
//! already stored gets the same answer and stores nothing; `STATUS <tip number> <secret>` answers
//! with the status; a message from a sender whose tip is still open joins that tip; any other
//! message opens a tip in the district of the number it reached (or, for an unknown number, with
//! the range supervisor) and is answered with the tip number and secret, in the language the
//! tipster wrote in.
//!
//! Must never: store or log the sender's address in clear (it becomes a keyed pseudonym at once;
//! the address to answer is kept sealed, for the tip's life); log the message; store a message
//! twice.

pub mod attached;
pub mod config;
pub mod exotel;
pub mod media;
pub mod messenger;
pub mod meta;
pub mod simulate;
pub mod telegram;
pub mod twilio;
pub mod voice;
pub mod x;

pub use attached::{Location, MediaKind, MediaRef};

use crate::alerts::{Payload, Relay, seal_payload};
use crate::app::Core;
use crate::crypto::encode_hex;
use crate::domain::{
    Channel, Language, SECRET_DIGITS, TIP_NUMBER_DIGITS, TipId, TipNumber, TipSecret, TipStatus,
    TipText, fold_digits,
};
use crate::intake::{self, IntakeError, Receipt, Submission};
use crate::jurisdiction::DistrictId;
use crate::keyring::RANGE_SCOPE;
use crate::store::{NewInbound, NewOutbox, StoreError};
use crate::triage::language::Language as Written;

/// Who carried a message (and carries the answers back).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Twilio Messaging (SMS and WhatsApp): answered in the webhook's response.
    Twilio,
    /// Meta's WhatsApp Cloud API: answered through the outbox.
    Meta,
    /// A Telegram bot: answered through the outbox.
    Telegram,
    /// Facebook Messenger: answered through the outbox.
    Messenger,
    /// X direct messages: answered through the outbox.
    X,
    /// Exotel's voice line: answered in the call flow.
    Exotel,
}

impl Provider {
    /// The name in outbox channels (`tipster_twilio`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Twilio => "twilio",
            Self::Meta => "meta",
            Self::Telegram => "telegram",
            Self::Messenger => "messenger",
            Self::X => "x",
            Self::Exotel => "exotel",
        }
    }

    /// Whether the answer goes back in the webhook's own response.
    fn answers_in_response(self) -> bool {
        matches!(self, Self::Twilio | Self::Exotel)
    }
}

/// One message from a provider channel, as every channel's parser gives it.
#[derive(Clone, Debug)]
pub struct InboundMessage {
    /// Who carried it.
    pub provider: Provider,
    /// Which channel.
    pub channel: Channel,
    /// The district of the number or account it reached (none: the range's).
    pub district: Option<DistrictId>,
    /// What answers are sent from (Twilio: the number as Twilio gave it; Meta: the phone number
    /// id).
    pub via: String,
    /// The sender's address (turned into a pseudonym at once, kept only sealed).
    pub from: String,
    /// What the sender wrote.
    pub text: String,
    /// The provider's message id.
    pub provider_id: String,
    /// The files sent with it, as the provider's references (fetched later by `media`).
    pub media: Vec<MediaRef>,
    /// A location shared with it.
    pub location: Option<Location>,
}

impl InboundMessage {
    /// Whether the message names its sender, its provider id and what it reached, each at most
    /// 256 bytes. A parser leaves out a message that does not: an empty sender would be every
    /// such sender's (joining a stranger's tip), an empty id would make the next such message
    /// look like a retry of this one (and be lost).
    pub fn addressed(&self) -> bool {
        [&self.from, &self.provider_id, &self.via]
            .iter()
            .all(|s| !s.trim().is_empty() && s.len() <= 256)
    }
}

/// How a message was handled (the answer is what the sender is told).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
    /// A new tip, with its number and secret (for the voice line to read out).
    Opened(String, Spoken),
    /// Added to the sender's open tip.
    Joined(String),
    /// A status question, answered.
    Status(String),
    /// A retry of a message already handled: the first answer again.
    Repeat(String),
    /// Nothing storable (no words): the sender is asked to write.
    Empty(String),
}

impl Handled {
    /// What to send back.
    pub fn answer(&self) -> &str {
        match self {
            Self::Opened(a, _)
            | Self::Joined(a)
            | Self::Status(a)
            | Self::Repeat(a)
            | Self::Empty(a) => a,
        }
    }

    /// For the log (no content): which case.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Opened(..) => "opened",
            Self::Joined(_) => "joined",
            Self::Status(_) => "status",
            Self::Repeat(_) => "repeat",
            Self::Empty(_) => "empty",
        }
    }
}

/// A new tip's number and secret as digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spoken {
    /// The tip number's digits.
    pub number: String,
    /// The secret's digits.
    pub secret: String,
}

impl Spoken {
    /// The number and secret in the answer stored for a new tip (each [`Voice`]'s `opened`
    /// names the number, then the secret, then perhaps the number again); none in any other
    /// answer.
    pub fn from_answer(answer: &str) -> Option<Self> {
        let digits: String = answer.chars().filter(char::is_ascii_digit).collect();
        let number = TipNumber::parse(digits.get(..TIP_NUMBER_DIGITS)?)?;
        let secret =
            TipSecret::parse(digits.get(TIP_NUMBER_DIGITS..TIP_NUMBER_DIGITS + SECRET_DIGITS)?)?;
        Some(Self {
            number: number.as_str().to_owned(),
            secret: secret.expose().to_owned(),
        })
    }
}

/// The language answers are written in: the tipster's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Voice {
    /// Devanagari Hindi (also for Chhattisgarhi).
    Hindi,
    /// Hindi in Latin letters.
    Hinglish,
    /// English.
    English,
}

impl Voice {
    fn of(core: &Core, text: &str) -> Self {
        if text.chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c)) {
            return Self::Hindi;
        }
        match core.triage.language(text) {
            Written::English => Self::English,
            Written::Hindi | Written::Chhattisgarhi => Self::Hindi,
            Written::HindiLatin | Written::Mixed => Self::Hinglish,
        }
    }

    fn opened(self, r: &Receipt) -> String {
        let (n, s) = (r.tip_number.display(), r.secret.display());
        match self {
            Self::Hindi => format!(
                "आपकी सूचना दर्ज हो गई। सूचना संख्या: {n}। गुप्त कोड: {s}। इन्हें संभालकर रखें, किसी को न बताएँ; आपका नाम और नंबर गुप्त रहेगा। स्थिति जानने के लिए लिखें: STATUS {n} <गुप्त कोड>"
            ),
            Self::Hinglish => format!(
                "Aapki soochna darj ho gayi. Soochna number: {n}. Gupt code: {s}. Inhe sambhal kar rakhein, kisi ko na batayein; aapka naam aur number gupt rahega. Sthiti ke liye likhein: STATUS {n} <gupt code>"
            ),
            Self::English => format!(
                "Your tip is recorded. Tip number: {n}. Secret: {s}. Keep them safe and tell no one; your name and number stay secret. For its status, send: STATUS {n} <secret>"
            ),
        }
    }

    fn joined(self, n: &str) -> String {
        match self {
            Self::Hindi => format!("आपका संदेश सूचना {n} में जोड़ दिया गया। धन्यवाद।"),
            Self::Hinglish => format!("Aapka sandesh soochna {n} mein jod diya gaya. Dhanyavaad."),
            Self::English => format!("Your message was added to tip {n}. Thank you."),
        }
    }

    fn status(self, status: TipStatus, n: &str) -> String {
        let words = match (self, status) {
            (Self::English, TipStatus::New) => "received; an officer will look at it soon",
            (Self::English, TipStatus::Acknowledged) => "seen by an officer",
            (Self::English, TipStatus::Assigned) => "sent to the police station or unit concerned",
            (Self::English, TipStatus::InAction) => "the police are acting on it",
            (Self::English, TipStatus::ActionTaken) => "action has been taken",
            (Self::English, TipStatus::Closed) => "closed; thank you",
            (Self::English, TipStatus::Duplicate) => {
                "joined to an earlier tip about the same thing"
            }
            (Self::English, TipStatus::NotActionable) => {
                "no action could be taken; write again if you know more"
            }
            (Self::Hinglish, TipStatus::New) => "mil gayi hai; adhikari jaldi dekhenge",
            (Self::Hinglish, TipStatus::Acknowledged) => "adhikari ne dekh li hai",
            (Self::Hinglish, TipStatus::Assigned) => "sambandhit thane ya ikai ko bhej di gayi hai",
            (Self::Hinglish, TipStatus::InAction) => "police karyavahi kar rahi hai",
            (Self::Hinglish, TipStatus::ActionTaken) => "karyavahi ho chuki hai",
            (Self::Hinglish, TipStatus::Closed) => "band; dhanyavaad",
            (Self::Hinglish, TipStatus::Duplicate) => "pehle aayi usi soochna se jod di gayi",
            (Self::Hinglish, TipStatus::NotActionable) => {
                "karyavahi sambhav nahin; aur jaankari ho to likhein"
            }
            (Self::Hindi, TipStatus::New) => "मिल गई है; अधिकारी जल्द देखेंगे",
            (Self::Hindi, TipStatus::Acknowledged) => "अधिकारी ने देख ली है",
            (Self::Hindi, TipStatus::Assigned) => "संबंधित थाने या इकाई को भेज दी गई है",
            (Self::Hindi, TipStatus::InAction) => "पुलिस कार्यवाही कर रही है",
            (Self::Hindi, TipStatus::ActionTaken) => "कार्यवाही हो चुकी है",
            (Self::Hindi, TipStatus::Closed) => "बंद; धन्यवाद",
            (Self::Hindi, TipStatus::Duplicate) => "पहले आई उसी सूचना से जोड़ दी गई",
            (Self::Hindi, TipStatus::NotActionable) => "कार्यवाही संभव नहीं; और जानकारी हो तो लिखें",
        };
        match self {
            Self::Hindi => format!("सूचना {n}: {words}।"),
            Self::Hinglish => format!("Soochna {n}: {words}."),
            Self::English => format!("Tip {n}: {words}."),
        }
    }

    fn status_refused(self) -> String {
        match self {
            Self::Hindi => "सूचना संख्या या गुप्त कोड सही नहीं, या अभी बहुत प्रयास हुए। थोड़ी देर बाद फिर लिखें: STATUS <संख्या> <गुप्त कोड>".into(),
            Self::Hinglish => "Soochna number ya gupt code sahi nahin, ya abhi bahut prayas hue. Thodi der baad likhein: STATUS <number> <code>".into(),
            Self::English => "The tip number or secret is wrong, or there were too many tries. Try later: STATUS <number> <secret>".into(),
        }
    }

    fn empty(self) -> String {
        match self {
            Self::Hindi => "कृपया शब्दों में लिखें कि क्या हुआ, कहाँ और कब। आपका नाम और नंबर गुप्त रहेगा।".into(),
            Self::Hinglish => "Kripya shabdon mein likhein kya hua, kahan aur kab. Aapka naam aur number gupt rahega.".into(),
            Self::English => "Please write in words what happened, where and when. Your name and number stay secret.".into(),
        }
    }

    fn flooded(self) -> String {
        match self {
            Self::Hindi => "एक घंटे में बहुत संदेश आए। सब सुरक्षित रखे गए हैं और पढ़े जाएँगे; एक घंटे तक जवाब नहीं भेजे जाएँगे।".into(),
            Self::Hinglish => "Ek ghante mein bahut sandesh aaye. Sab surakshit rakhe gaye hain aur padhe jayenge; ek ghante tak jawab nahin bheje jayenge.".into(),
            Self::English => "Many messages in an hour. All are kept and will be read; no answers for an hour.".into(),
        }
    }

    /// The words stored for a message that carries only a file of `kind`.
    fn file_only(self, kind: MediaKind) -> String {
        let english = self == Self::English;
        match (kind, english) {
            (MediaKind::Photo, true) => "[photo sent without words]".into(),
            (MediaKind::Photo, false) => "[बिना शब्दों के फ़ोटो भेजी गई]".into(),
            (MediaKind::Voice | MediaKind::Call, true) => "[voice note sent]".into(),
            (MediaKind::Voice | MediaKind::Call, false) => "[वॉइस संदेश भेजा गया]".into(),
            (MediaKind::Video, true) => "[video sent without words]".into(),
            (MediaKind::Video, false) => "[बिना शब्दों के वीडियो भेजा गया]".into(),
            (MediaKind::Document, true) => "[document sent without words]".into(),
            (MediaKind::Document, false) => "[बिना शब्दों के दस्तावेज़ भेजा गया]".into(),
        }
    }

    fn stored(self) -> String {
        match self {
            Self::Hindi => "आपका संदेश पहले ही मिल चुका है। धन्यवाद।".into(),
            Self::Hinglish => "Aapka sandesh pehle hi mil chuka hai. Dhanyavaad.".into(),
            Self::English => "Your message had already reached us. Thank you.".into(),
        }
    }
}

/// `STATUS <number> <secret>` (or `स्थिति`, `sthiti`, `stithi`): the tip number and secret.
pub fn parse_status(text: &str) -> Option<(TipNumber, TipSecret)> {
    const WORDS: &[&str] = &["status", "sthiti", "stithi", "स्थिति"];
    let text = text.trim();
    let (word, rest) = text.split_once(char::is_whitespace)?;
    if !WORDS.contains(&word.to_lowercase().trim_end_matches(':')) {
        return None;
    }
    if rest.chars().any(|c| c.is_alphabetic()) {
        return None;
    }
    let digits = fold_digits(rest);
    if digits.len() != TIP_NUMBER_DIGITS + SECRET_DIGITS {
        return None;
    }
    let (number, secret) = digits.split_at(TIP_NUMBER_DIGITS);
    Some((TipNumber::parse(number)?, TipSecret::parse(secret)?))
}

fn answer_aad(channel: &str, provider_id: &str) -> Vec<u8> {
    format!("inbound_message.answer|{channel}|{provider_id}").into_bytes()
}

/// Associated data of a sender's sealed address.
pub fn reply_aad(channel: &str, tip_id: TipId) -> Vec<u8> {
    format!("tip_sender.reply|{channel}|{}", tip_id.get()).into_bytes()
}

/// The district whose hotline `number` (`+91…`) is; none for a number no district has.
pub fn district_of_number(core: &Core, number: &str) -> Option<DistrictId> {
    core.jurisdiction
        .district_for_hotline(number)
        .map(|d| d.id.clone())
}

/// Where to answer a sender: the provider, their address and what they wrote to (sealed
/// together).
#[derive(serde::Serialize, serde::Deserialize)]
struct ReplyAddress {
    provider: Provider,
    address: String,
    via: String,
}

/// The same person's address on one channel, whichever provider carried it: `whatsapp:+91…`
/// (Twilio) and `91…` (Meta) are one sender.
fn sender_key(m: &InboundMessage) -> String {
    let bare = m.from.strip_prefix("whatsapp:").unwrap_or(&m.from);
    if bare.bytes().all(|b| b.is_ascii_digit()) {
        format!("+{bare}")
    } else {
        bare.to_owned()
    }
}

/// An outbox message that answers a sender through their provider.
fn answer_outbox(
    core: &Core,
    m: &InboundMessage,
    tip_id: Option<TipId>,
    text: &str,
) -> Result<NewOutbox, IntakeError> {
    let key = format!("answer:{}:{}", m.channel.as_str(), m.provider_id);
    let payload = Payload {
        to: m.from.clone(),
        facts: None,
        mail: None,
        relay: Some(Relay {
            text: text.to_owned(),
            via: m.via.clone(),
            window_until: None,
        }),
    };
    Ok(NewOutbox {
        payload_sealed: seal_payload(core, &key, &payload)?,
        outbox_key: key,
        purpose: "answer".into(),
        channel: format!("tipster_{}", m.provider.as_str()),
        tip_id,
        officer_id: None,
        created_at: core.clock.now_ms(),
    })
}

/// Messages from one sender in [`FLOOD_WINDOW_MS`] from which its tip is marked as a flood.
pub const FLOOD_PER_HOUR: i64 = 20;
/// The flood window.
pub const FLOOD_WINDOW_MS: i64 = 3_600_000;

/// How long after a tipster's last WhatsApp message free text may still be sent to them.
pub const WHATSAPP_WINDOW_MS: i64 = 24 * 3_600_000;

/// Outbox messages that relay a police message to each provider channel the tip's tipster wrote
/// on (none for a tip from the web, the API or the phone; none to a voice caller either: a text
/// to the phone that called would tell whoever holds it that its owner called the police).
pub async fn relays(core: &Core, tip_id: TipId, text: &str) -> Result<Vec<NewOutbox>, IntakeError> {
    let now = core.clock.now_ms();
    let mut out = Vec::new();
    for sender in core.store.senders_of(tip_id).await? {
        if sender.channel == Channel::Voice.as_str() {
            continue;
        }
        let Some(sealed) = sender.reply_sealed else {
            continue;
        };
        let plain = core
            .keyring
            .open(RANGE_SCOPE, &reply_aad(&sender.channel, tip_id), &sealed)?;
        let Ok(back) = serde_json::from_slice::<ReplyAddress>(&plain) else {
            continue;
        };
        let channel = format!("tipster_{}", back.provider.as_str());
        let key = format!("relay:{}:{now}:{}", tip_id.get(), sender.channel);
        let payload = Payload {
            to: back.address,
            facts: None,
            mail: None,
            relay: Some(Relay {
                text: text.to_owned(),
                via: back.via,
                // WhatsApp and Messenger allow free text for 24 hours after the tipster's last
                // message.
                window_until: [Channel::WhatsApp.as_str(), Channel::Messenger.as_str()]
                    .contains(&sender.channel.as_str())
                    .then_some(sender.last_seen_at + WHATSAPP_WINDOW_MS),
            }),
        };
        out.push(NewOutbox {
            payload_sealed: seal_payload(core, &key, &payload)?,
            outbox_key: key,
            purpose: "relay".into(),
            channel,
            tip_id: Some(tip_id),
            officer_id: None,
            created_at: now,
        });
    }
    Ok(out)
}

/// Handles one message (see the module's description). For a provider that is not answered in
/// the webhook's response, the answer is in the outbox when this returns (for a stored message,
/// in the same transaction).
pub async fn receive(core: &Core, m: &InboundMessage) -> Result<Handled, IntakeError> {
    let keyed = InboundMessage {
        provider_id: keyed_id(core, m.channel, &m.provider_id),
        ..m.clone()
    };
    let m = &keyed;
    let handled = handle(core, m).await?;
    if !m.provider.answers_in_response() {
        if let Handled::Status(answer) | Handled::Empty(answer) = &handled {
            let row = answer_outbox(core, m, None, answer)?;
            core.store.enqueue(vec![row]).await?;
        }
        core.outbox_wake.notify_one();
    }
    Ok(handled)
}

async fn handle(core: &Core, m: &InboundMessage) -> Result<Handled, IntakeError> {
    let channel = m.channel.as_str();
    let voice = Voice::of(core, &m.text);
    if let Some(found) = repeat(core, m, voice).await? {
        return Ok(found);
    }
    if let Some((number, secret)) = parse_status(&m.text) {
        return Ok(Handled::Status(
            match intake::authenticate(core, &number, &secret).await {
                Ok(tip_id) => {
                    let record = core.store.tip(tip_id).await?.ok_or(IntakeError::NoMatch)?;
                    let status = TipStatus::parse(&record.status).unwrap_or(TipStatus::New);
                    voice.status(status, &number.display())
                }
                Err(IntakeError::NoMatch | IntakeError::Locked | IntakeError::Busy) => {
                    voice.status_refused()
                }
                Err(e) => return Err(e),
            },
        ));
    }
    let written = written(m, voice);
    let Ok(text) = TipText::parse(&written) else {
        return Ok(Handled::Empty(voice.empty()));
    };
    let pseudonym = core
        .keyring
        .keys()
        .pseudonym(channel, &sender_key(m))
        .to_vec();
    let (_, range_key) = core.keyring.current(RANGE_SCOPE)?;
    // A voice caller is never written to, so their number is not kept even sealed.
    let address = serde_json::to_vec(&ReplyAddress {
        provider: m.provider,
        address: if m.channel == Channel::Voice {
            String::new()
        } else {
            m.from.clone()
        },
        via: m.via.clone(),
    })
    .unwrap_or_default();
    // A person does not send this many messages in an hour: the messages are all kept, the tip
    // is marked for the officer, and answers pause (one notice) until the hour has passed.
    let sent = core
        .store
        .sender_messages_since(&pseudonym, core.clock.now_ms() - FLOOD_WINDOW_MS)
        .await?;
    let flood = sent >= FLOOD_PER_HOUR;
    let inbound =
        |tip_id: TipId, key_scope: &str, answer: &str| -> Result<NewInbound, IntakeError> {
            let (_, key) = core.keyring.current(key_scope)?;
            Ok(NewInbound {
                channel: channel.to_owned(),
                provider_id: m.provider_id.clone(),
                pseudonym: pseudonym.clone(),
                reply_sealed: range_key.seal(&reply_aad(channel, tip_id), &address)?,
                answer_sealed: key.seal(&answer_aad(channel, &m.provider_id), answer.as_bytes())?,
                answer_outbox: if m.provider.answers_in_response() || answer.is_empty() {
                    Vec::new()
                } else {
                    vec![answer_outbox(core, m, Some(tip_id), answer)?]
                },
                flood,
                media: m
                    .media
                    .iter()
                    .map(|file| media::pending(core, m, file))
                    .collect::<Result<_, _>>()?,
            })
        };
    let outcome = match core.store.sender_tip(channel, &pseudonym).await? {
        Some(tip_id) => {
            let record = core.store.tip(tip_id).await?.ok_or(IntakeError::NoMatch)?;
            let number = TipNumber::parse(&record.tip_number)
                .map_or(record.tip_number.clone(), |n| n.display());
            let answer = match (flood, sent == FLOOD_PER_HOUR) {
                (false, _) => voice.joined(&number),
                (true, true) => voice.flooded(),
                (true, false) => String::new(),
            };
            let row = inbound(tip_id, &record.key_scope, &answer)?;
            let actor = format!("tipster:{channel}");
            intake::add_message_with(
                core,
                tip_id,
                "tipster",
                &actor,
                &text,
                Some(row),
                Vec::new(),
            )
            .await
            .map(|()| Handled::Joined(answer))
        }
        None => {
            let submission = Submission {
                text,
                district: m.district.clone(),
                place: None,
                when: None,
                happening_now: false,
                category: None,
                language: match voice {
                    Voice::English => Language::English,
                    _ => Language::Hindi,
                },
                channel: m.channel,
                station: None,
                entered_by: None,
                photos: Vec::new(),
                documents: Vec::new(),
            };
            intake::submit_tip_with(core, submission, |tip, receipt| {
                tip.inbound = Some(inbound(tip.tip_id, &tip.key_scope, &voice.opened(receipt))?);
                Ok(())
            })
            .await
            .map(|r| {
                let spoken = Spoken {
                    number: r.tip_number.as_str().to_owned(),
                    secret: r.secret.expose().to_owned(),
                };
                Handled::Opened(voice.opened(&r), spoken)
            })
        }
    };
    match outcome {
        // The same message at the same moment on another connection (a provider retry): the
        // first one stored wins, and this one gets its answer.
        Err(IntakeError::Store(StoreError::Conflict("provider message"))) => {
            repeat(core, m, voice).await?.ok_or(IntakeError::NoMatch)
        }
        other => other,
    }
}

/// The words stored for a message: what the sender wrote, a line for a shared location, and
/// for a file sent without words, a note of what it was (so it still opens or joins a tip; the
/// file follows when fetched).
fn written(m: &InboundMessage, voice: Voice) -> String {
    let mut text = m.text.trim().to_owned();
    if text.is_empty()
        && let Some(file) = m.media.first()
    {
        text = voice.file_only(file.kind);
    }
    if let Some(place) = &m.location {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&place.line(voice != Voice::English));
    }
    text
}

/// The answer given to a provider message already stored (none if there is none), for a later
/// step of the same call to read out.
pub async fn answer_of(
    core: &Core,
    channel: Channel,
    provider_id: &str,
) -> Result<Option<String>, IntakeError> {
    let probe = InboundMessage {
        provider: Provider::Exotel,
        channel,
        district: None,
        via: String::new(),
        from: String::new(),
        text: String::new(),
        provider_id: keyed_id(core, channel, provider_id),
        media: Vec::new(),
        location: None,
    };
    Ok(repeat(core, &probe, Voice::Hindi)
        .await?
        .map(|h| h.answer().to_owned()))
}

/// A provider message id as stored: a keyed hash (some ids carry the sender: WhatsApp's `wamid.`
/// ids encode the sender's number).
fn keyed_id(core: &Core, channel: Channel, provider_id: &str) -> String {
    encode_hex(&core.keyring.keys().pseudonym(
        "provider-message",
        &format!("{}|{provider_id}", channel.as_str()),
    ))
}

/// The answer to a message already stored, if it is one.
async fn repeat(
    core: &Core,
    m: &InboundMessage,
    voice: Voice,
) -> Result<Option<Handled>, IntakeError> {
    let channel = m.channel.as_str();
    let Some((tip_id, sealed)) = core.store.inbound_answer(channel, &m.provider_id).await? else {
        return Ok(None);
    };
    let answer = match (sealed, core.store.tip(tip_id).await?) {
        (Some(sealed), Some(record)) => {
            let plain = core.keyring.open(
                &record.key_scope,
                &answer_aad(channel, &m.provider_id),
                &sealed,
            )?;
            String::from_utf8_lossy(&plain).into_owned()
        }
        _ => voice.stored(),
    };
    Ok(Some(Handled::Repeat(answer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_and_secret_are_found_in_every_language_of_the_opened_answer() {
        let n = TipNumber::generate().unwrap();
        let s = TipSecret::generate().unwrap();
        let receipt = Receipt {
            tip_id: TipId::from_db(1),
            tip_number: n.clone(),
            secret: s.clone(),
            district: None,
            created_at: 0,
        };
        for voice in [Voice::Hindi, Voice::Hinglish, Voice::English] {
            let spoken = Spoken::from_answer(&voice.opened(&receipt)).unwrap();
            assert_eq!(
                (spoken.number.as_str(), spoken.secret.as_str()),
                (n.as_str(), s.expose())
            );
            assert_eq!(Spoken::from_answer(&voice.joined(&n.display())), None);
        }
    }

    #[test]
    fn status_needs_the_word_the_number_and_the_secret() {
        let n = TipNumber::generate().unwrap();
        let s = TipSecret::generate().unwrap();
        for text in [
            format!("STATUS {} {}", n.as_str(), s.expose()),
            format!("status {} {}", n.display(), s.display()),
            format!("स्थिति {}{}", n.as_str(), s.expose()),
            format!("Sthiti: {} {}", n.as_str(), s.expose()),
        ] {
            let (number, secret) = parse_status(&text).unwrap();
            assert_eq!(
                (number.as_str(), secret.expose()),
                (n.as_str(), s.expose()),
                "{text}"
            );
        }
        for text in [
            format!("STATUS {}", n.as_str()),
            format!("what is the status {} {}", n.as_str(), s.expose()),
            format!("STATUS {} {} and more", n.as_str(), s.expose()),
            format!("{} {}", n.as_str(), s.expose()),
        ] {
            assert!(parse_status(&text).is_none(), "{text}");
        }
    }
}
