//! The fuzz targets' bodies: one public function per target, shared by the libFuzzer targets in
//! `fuzz_targets/` and by the main crate's `tests/fuzz_corpora.rs`, which replays every committed
//! corpus (`corpus/<target>/`) on each test run, so CI, which has no fuzzer, fails on a panic too.
//!
//! Each function feeds bytes from outside to a parser the way its handler does (the signature
//! check over the raw body first, then the parse and the fields the handler reads) and asserts
//! what must hold for any input: no panic, a junk signature never verifies, what parses re-parses
//! the same, a cleaned photo or recording is itself clean and readable.

use tipline::channels::exotel::{self, Request};
use tipline::channels::{
    self, InboundMessage, Provider, config::Exotel, messenger, meta, telegram, twilio, voice, x,
};
use tipline::crypto::{encode_hex, hmac_sha256};
use tipline::domain::attachment::Photo;
use tipline::domain::recording::Recording;
use tipline::domain::{
    Channel, Language, TIP_TEXT_MAX_CHARS, TipNumber, TipSecret, TipText, fold_digits,
    parse_bounded,
};
use tipline::jurisdiction::DistrictId;

/// One target's body: takes any bytes, panics on a defect.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz_targets/` file and `corpus/` folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("twilio_form", twilio_form),
    ("meta_whatsapp", meta_whatsapp),
    ("messenger", messenger),
    ("telegram", telegram),
    ("x_dm", x_dm),
    ("exotel_query", exotel_query),
    ("status_command", status_command),
    ("web_inputs", web_inputs),
    ("photo", photo),
    ("recording", recording),
];

/// The district of a number or account: any id-shaped name is one (so both branches run).
fn district_of(number: &str) -> Option<DistrictId> {
    DistrictId::parse(number.trim_start_matches('+'))
}

/// The body's first `n` bytes as a header value would carry them: a signature an attacker chose.
fn junk_header(data: &[u8], n: usize) -> String {
    String::from_utf8_lossy(&data[..data.len().min(n)]).into_owned()
}

/// What every channel's messages must be before `channels::receive` takes them.
fn check_messages(messages: &[InboundMessage], provider: Provider, channel: Channel) {
    for m in messages {
        assert_eq!(m.provider, provider);
        assert_eq!(m.channel, channel);
        let _ = channels::parse_status(&m.text);
    }
}

/// Twilio's Messaging and Voice webhooks: the form body, `twilio_verify` with a junk signature
/// (it verifies only when it is the signature of the URL or its default-port twin), the fields
/// the handlers read; and `twilio_verify` with the input as the URL (the path and query string
/// are the attacker's).
pub fn twilio_form(data: &[u8]) {
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const URL_PORT: &str = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    let junk = junk_header(data, 28);
    let _ = twilio::twilio_verify(
        TOKEN,
        &String::from_utf8_lossy(data),
        &twilio::Form::default(),
        &junk,
    );
    let Some(form) = twilio::Form::parse(data) else {
        return;
    };
    let right = [
        twilio::twilio_signature(TOKEN, URL, &form),
        twilio::twilio_signature(TOKEN, URL_PORT, &form),
    ];
    assert_eq!(
        twilio::twilio_verify(TOKEN, URL, &form, &junk),
        right.contains(&junk)
    );
    assert!(
        right
            .iter()
            .all(|s| twilio::twilio_verify(TOKEN, URL, &form, s))
    );
    let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
    let (from, to) = (field("From"), field("To"));
    let _ = (from.starts_with("whatsapp:"), to.strip_prefix("whatsapp:"));
    let _ = voice::valid_sid(&field("CallSid"), "CA");
    let _ = voice::Lang::parse(form.get("lang"));
    let _: u32 = field("RecordingDuration").parse().unwrap_or(0);
    let _ = channels::parse_status(&field("Body"));
    let _ = (
        field("Digits"),
        field("DialCallStatus"),
        field("RecordingSid"),
    );
}

/// The app secret of the Meta and Messenger targets.
const META_SECRET: &str = "test_app_secret_123";

/// Meta's WhatsApp webhook: `meta::verify` with a junk and with the right header, then the
/// notification and its messages.
pub fn meta_whatsapp(data: &[u8]) {
    let right = encode_hex(&hmac_sha256(META_SECRET.as_bytes(), data));
    let junk = junk_header(data, 71);
    let junk_is_right = junk
        .strip_prefix("sha256=")
        .is_some_and(|hex| hex.to_ascii_lowercase() == right);
    assert_eq!(meta::verify(META_SECRET, data, &junk), junk_is_right);
    assert!(meta::verify(META_SECRET, data, &format!("sha256={right}")));
    assert!(!meta::verify(META_SECRET, data, &right), "prefix needed");
    if let Some(n) = meta::Notification::parse(data) {
        assert_eq!(n.object, "whatsapp_business_account");
        check_messages(&n.messages(district_of), Provider::Meta, Channel::WhatsApp);
    }
}

/// Facebook Messenger's webhook (its signature is Meta's, fuzzed by `meta_whatsapp`): the page
/// notification and its messages.
pub fn messenger(data: &[u8]) {
    if let Some(n) = messenger::Notification::parse(data) {
        check_messages(
            &n.messages(district_of),
            Provider::Messenger,
            Channel::Messenger,
        );
    }
}

/// A Telegram bot's webhook: the secret-token header, then the update and its message.
pub fn telegram(data: &[u8]) {
    const SECRET: &str = "s3cret-token";
    let junk = junk_header(data, SECRET.len());
    assert_eq!(telegram::verify(SECRET, Some(&junk)), junk == SECRET);
    if let Some(update) = telegram::Update::parse(data)
        && let Some(m) = update.message("korba", district_of("korba"))
    {
        check_messages(&[m], Provider::Telegram, Channel::Telegram);
    }
}

/// X's Account Activity webhook: `x::verify` with a junk header, the CRC answer, then the events
/// and their direct messages.
pub fn x_dm(data: &[u8]) {
    const SECRET: &str = "test";
    let junk = junk_header(data, 51);
    assert_eq!(
        x::verify(SECRET, data, &junk),
        junk == x::sign(SECRET, data)
    );
    assert!(x::verify(SECRET, data, &x::sign(SECRET, data)));
    let _ = x::crc_response(SECRET, &String::from_utf8_lossy(data));
    if let Some(e) = x::Events::parse(data) {
        check_messages(&e.messages(district_of), Provider::X, Channel::X);
    }
}

/// Exotel's query strings (every applet's request): `Request::parse_with`, then what a parsed
/// request promises the flow.
pub fn exotel_query(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let _ = exotel::e164(query);
    let config = Exotel {
        token: "t".repeat(24).into(),
        account_sid: "tipline1".into(),
        api_key: "key".into(),
        api_token: "secret".into(),
        api_url: "https://api.in.exotel.com".into(),
        recording_origins: vec!["https://recordings.exotel.com".into()],
        callback_flow_url: None,
        exophones: Vec::new(),
    };
    let _ = exotel::recording_allowed(&config, query);
    let Ok(r) = Request::parse_with(&config, query, district_of) else {
        return;
    };
    assert!(r.call.call_sid.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(!r.call.to.is_empty() && r.digits.len() <= 40);
    assert!(
        r.digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'#' || b == b'*')
    );
    if let Some(caller) = &r.caller {
        assert_eq!(exotel::e164(caller).as_ref(), Some(caller), "E.164 is kept");
    }
    if let Some(url) = &r.recording_url {
        assert!(exotel::recording_allowed(&config, url));
    }
}

/// `STATUS <number> <secret>` (and the Hindi words) in any message, or a caller's keys.
pub fn status_command(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = fold_digits(text);
    if let Some((number, secret)) = channels::parse_status(text) {
        assert_eq!(TipNumber::parse(number.as_str()).as_ref(), Some(&number));
        assert_eq!(TipSecret::parse(secret.expose()).as_ref(), Some(&secret));
    }
}

/// The web form's inputs: the tip text, the tip number and secret of a follow-up, the language.
/// What parses re-parses to itself.
pub fn web_inputs(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Language::parse(raw);
    if let Ok(text) = TipText::parse(raw) {
        assert!(text.as_str().chars().count() <= TIP_TEXT_MAX_CHARS);
        assert_eq!(TipText::parse(text.as_str()).as_ref(), Ok(&text));
    }
    if let Ok(short) = parse_bounded(raw, 200) {
        assert!(short.chars().count() <= 200);
    }
    if let Some(number) = TipNumber::parse(raw) {
        assert_eq!(TipNumber::parse(&number.display()).as_ref(), Some(&number));
    }
    if let Some(secret) = TipSecret::parse(raw) {
        assert_eq!(TipSecret::parse(&secret.display()).as_ref(), Some(&secret));
    }
}

/// A photo (web form, WhatsApp, Telegram), whatever it claims to be: the clean copy is no larger,
/// of the same kind, and cleaning it again changes nothing.
pub fn photo(data: &[u8]) {
    let Ok(p) = Photo::parse(data) else {
        return;
    };
    assert_eq!(p.original, data);
    assert!(p.clean.len() <= data.len());
    let again = Photo::parse(&p.clean).map(|c| (c.kind, c.clean));
    assert_eq!(again, Ok((p.kind, p.clean.clone())));
}

/// A recording (Twilio's WAVE, Exotel's MP3), whatever it claims to be: what officers hear is a
/// WAVE file that reads back as a recording of the same length.
pub fn recording(data: &[u8]) {
    let Ok(r) = Recording::parse(data) else {
        return;
    };
    assert_eq!(r.original, data);
    let clean = Recording::parse(&r.clean).map(|c| (c.original_kind, c.seconds));
    assert_eq!(clean, Ok(("audio/wav", r.seconds)));
}
