//! The voice line (Twilio IVR), on both backends: the greeting and menu in Hindi with English on
//! 9; 1 connects the caller to the district's duty operator with the hotline's number shown, and
//! falls back to a recording when nobody is on duty or nobody answers; a recorded message opens a
//! tip in the district of the number called and its number and secret are read out digit by
//! digit, twice; the recording is fetched from Twilio's Recordings API (a 404 while it is not ready
//! is tried again), stored sealed with a voice-disguised copy for officers, and deleted at Twilio;
//! 3 with the tip number and secret reads the status; forged requests get 401 and store nothing;
//! the caller's number is never stored in clear.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{Backend, TestApp};
use secrecy::SecretString;
use tipline::channels::config::{Channels, Twilio};
use tipline::channels::twilio::{Form, twilio_signature};
use tipline::domain::Role;

const TOKEN: &str = "token-for-voice";
const ACCOUNT: &str = "AC0000000000000000000000000000abcd";
const CALLER: &str = "+919812377001";
/// Bilaspur's crime-stopper number in the built-in range.
const BILASPUR: &str = "+917772808100";
const CALL: &str = "CA00000000000000000000000000000a01";
const RECORDING: &str = "RE00000000000000000000000000000b01";

/// What the fake Recordings API saw: GETs and DELETEs, and how many GETs to refuse first.
#[derive(Default)]
struct Seen {
    gets: usize,
    deletes: Vec<String>,
    not_ready: usize,
    auth_ok: bool,
}

/// A WAVE file of a 400 Hz tone, as Twilio delivers recordings (8 kHz, 16-bit, mono).
fn wav() -> Vec<u8> {
    let rate = 8000u32;
    let samples: Vec<i16> = (0..rate * 2)
        .map(|i| {
            let t = i as f32 / rate as f32;
            ((2.0 * std::f32::consts::PI * 400.0 * t).sin() * 12000.0) as i16
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// A fake of Twilio's Recordings API: `GET .../Recordings/{sid}.wav` (404 for the first
/// `not_ready` requests, as while Twilio is still writing the file) and `DELETE .../{sid}.json`.
async fn fake_recordings(seen: Arc<Mutex<Seen>>) -> String {
    use axum::extract::Path;
    use axum::http::{HeaderMap, StatusCode};
    let expected = format!(
        "Basic {}",
        common::base64(format!("{ACCOUNT}:{TOKEN}").as_bytes())
    );
    let get_seen = seen.clone();
    let router = axum::Router::new().route(
        &format!("/2010-04-01/Accounts/{ACCOUNT}/Recordings/{{file}}"),
        axum::routing::get(move |Path(file): Path<String>, headers: HeaderMap| {
            let seen = get_seen.clone();
            let expected = expected.clone();
            async move {
                let mut s = seen.lock().unwrap();
                s.gets += 1;
                s.auth_ok = headers.get("authorization").and_then(|v| v.to_str().ok())
                    == Some(expected.as_str());
                if file != format!("{RECORDING}.wav") || !s.auth_ok {
                    return (StatusCode::NOT_FOUND, Vec::new());
                }
                if s.not_ready > 0 {
                    s.not_ready -= 1;
                    return (StatusCode::NOT_FOUND, Vec::new());
                }
                (StatusCode::OK, wav())
            }
        })
        .delete(move |Path(file): Path<String>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().deletes.push(file);
                StatusCode::NO_CONTENT
            }
        }),
    );
    common::serve_fake(router).await
}

async fn app(backend: Backend, api_url: String) -> Option<TestApp> {
    TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            twilio: Some(Twilio {
                api_url,
                account_sid: ACCOUNT.into(),
                auth_token: SecretString::from(TOKEN),
            }),
            meta: None,
            telegram: Vec::new(),
            messenger: None,
            x: None,
            exotel: None,
            templates: Default::default(),
        };
        core.public_url = "https://tips.example.in".into();
    })
    .await
}

/// Posts one IVR step as Twilio would (`path` with its query); `sign` false forges it.
async fn step(app: &TestApp, path: &str, extra: &[(&str, &str)], sign: bool) -> (u16, String) {
    let mut fields = vec![
        ("AccountSid", ACCOUNT),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", CALL),
        ("CallStatus", "in-progress"),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("To", BILASPUR),
    ];
    for &(k, v) in extra {
        match fields.iter_mut().find(|(name, _)| *name == k) {
            Some(field) => field.1 = v,
            None => fields.push((k, v)),
        }
    }
    let raw = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", common::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let form = Form::parse(raw.as_bytes()).unwrap();
    let url = format!("https://tips.example.in{path}");
    let signature = twilio_signature(if sign { TOKEN } else { "forged" }, &url, &form);
    let r = reqwest::Client::new()
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn voice_line(app: TestApp, seen: Arc<Mutex<Seen>>) {
    // Forged: 401 and nothing stored.
    let (status, body) = step(&app, "/hooks/twilio/voice", &[], false).await;
    assert_eq!((status, body.as_str()), (401, ""));

    // The greeting: Hindi, secrecy promised, the menu's keys.
    let (status, greeting) = step(&app, "/hooks/twilio/voice", &[], true).await;
    assert_eq!(status, 200);
    assert!(greeting.contains("language=\"hi-IN\""), "{greeting}");
    assert!(greeting.contains("नंबर किसी को नहीं बताया जाएगा"));
    assert!(
        greeting.contains("action=\"https://tips.example.in/hooks/twilio/voice/menu?lang=hi\"")
    );
    // 9: English.
    let (_, english) = step(
        &app,
        "/hooks/twilio/voice/menu?lang=hi",
        &[("Digits", "9")],
        true,
    )
    .await;
    assert!(english.contains("<Redirect method=\"POST\">https://tips.example.in/hooks/twilio/voice?lang=en</Redirect>"), "{english}");
    let (_, greeting_en) = step(&app, "/hooks/twilio/voice?lang=en", &[], true).await;
    assert!(greeting_en.contains("language=\"en-IN\"") && greeting_en.contains("press 2"));

    // 1 with nobody on duty: straight to the recording.
    let (_, nobody) = step(
        &app,
        "/hooks/twilio/voice/menu?lang=hi",
        &[("Digits", "1")],
        true,
    )
    .await;
    assert!(
        nobody.contains("<Record") && nobody.contains("कोई अधिकारी उपलब्ध नहीं"),
        "{nobody}"
    );

    // An operator on duty with a work phone: the call goes to that phone, from the hotline.
    let core = &app.core;
    let operator = app
        .add_officer("op.bilaspur", Role::Operator, Some("bilaspur"), None)
        .await;
    app.set_contacts(operator, Some("+919800000101"), None)
        .await;
    let now = core.clock.now_ms();
    let roster = format!(
        "[[shift]]\nofficer = \"op.bilaspur\"\nduty = \"operator\"\ndistrict = \"bilaspur\"\nfrom = \"{}\"\nto = \"{}\"\n",
        common::roster_time(now - 3_600_000),
        common::roster_time(now + 3_600_000)
    );
    tipline::alerts::roster::import(core, &roster, "admin:test")
        .await
        .unwrap();
    let (_, dial) = step(
        &app,
        "/hooks/twilio/voice/menu?lang=hi",
        &[("Digits", "1")],
        true,
    )
    .await;
    assert!(
        dial.contains(&format!("<Dial callerId=\"{BILASPUR}\"")),
        "{dial}"
    );
    assert!(dial.contains(
        "<Number url=\"https://tips.example.in/hooks/twilio/voice/screen?lang=hi\" method=\"POST\">+919800000101</Number>"
    ));
    assert!(
        !dial.contains(CALLER),
        "the caller's number is never passed on"
    );
    // The officer's leg is screened: only a key press connects (a voicemail is hung up on).
    let (_, screen) = step(&app, "/hooks/twilio/voice/screen?lang=hi", &[], true).await;
    assert!(
        screen.contains("<Gather") && screen.ends_with("<Hangup/></Response>"),
        "{screen}"
    );
    let (_, take) = step(
        &app,
        "/hooks/twilio/voice/screened?lang=hi",
        &[("Digits", "1")],
        true,
    )
    .await;
    assert!(take.ends_with("<Response></Response>"), "{take}");
    let (_, machine) = step(&app, "/hooks/twilio/voice/screened?lang=hi", &[], true).await;
    assert!(machine.contains("<Hangup/>"));
    // Forged later steps and another account are refused like the greeting.
    let forged = [("RecordingSid", RECORDING), ("RecordingDuration", "5")];
    assert_eq!(
        step(&app, "/hooks/twilio/voice/recorded?lang=hi", &forged, false)
            .await
            .0,
        401
    );
    let other = [("AccountSid", "AC0000000000000000000000000000ffff")];
    assert_eq!(
        step(&app, "/hooks/twilio/voice/menu?lang=hi", &other, true)
            .await
            .0,
        401
    );
    assert_eq!(app.tip_count().await, 0);
    // Nobody answers: the recording; answered: hang up after the call.
    let (_, missed) = step(
        &app,
        "/hooks/twilio/voice/dialed?lang=hi",
        &[("DialCallStatus", "no-answer")],
        true,
    )
    .await;
    assert!(missed.contains("<Record") && missed.contains("recorded?lang=hi"));
    let (_, done) = step(
        &app,
        "/hooks/twilio/voice/dialed?lang=hi",
        &[("DialCallStatus", "completed")],
        true,
    )
    .await;
    assert!(
        done.contains("menu?lang=hi") && done.contains("<Hangup/>"),
        "{done}"
    );

    // 2: the recording prompt; then the recorded message opens a tip in Bilaspur.
    let (_, record) = step(
        &app,
        "/hooks/twilio/voice/menu?lang=hi",
        &[("Digits", "2")],
        true,
    )
    .await;
    assert!(record.contains("maxLength=\"180\"") && record.contains("finishOnKey=\"#\""));
    let recorded_fields = [
        ("RecordingSid", RECORDING),
        ("RecordingDuration", "14"),
        (
            "RecordingUrl",
            "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE",
        ),
        ("Digits", "#"),
    ];
    let (status, receipt) = step(
        &app,
        "/hooks/twilio/voice/recorded?lang=hi",
        &recorded_fields,
        true,
    )
    .await;
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(app.tip_count().await, 1);
    let number: String = common::between(&receipt, "सूचना संख्या है: ", "।")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let tip_id = core.store.tip_auth(&number).await.unwrap().unwrap().tip_id;
    let record = core.store.tip(tip_id).await.unwrap().unwrap();
    assert_eq!(
        (record.channel.as_str(), record.district_id.as_deref()),
        ("voice", Some("bilaspur"))
    );
    // Read out digit by digit, twice.
    let said = common::spelled(&number);
    assert_eq!(receipt.matches(&said).count(), 2, "{receipt}");
    let secret_spelled = common::between(&receipt, "गुप्त कोड है: ", "।");
    let secret: String = secret_spelled
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(secret.len(), 15);
    assert_eq!(receipt.matches(&secret_spelled).count(), 2);
    // A retry of the same step stores nothing more.
    let (_, again) = step(
        &app,
        "/hooks/twilio/voice/recorded?lang=hi",
        &recorded_fields,
        true,
    )
    .await;
    assert_eq!(app.tip_count().await, 1, "{again}");

    // The recording: not ready at first (404, tried again later), then fetched and deleted.
    let client = tipline::alerts::send::client().unwrap();
    seen.lock().unwrap().not_ready = 1;
    assert_eq!(
        tipline::channels::media::fetch_due(core, &client)
            .await
            .unwrap(),
        0
    );
    assert!(seen.lock().unwrap().deletes.is_empty());
    app.clock.advance(60_000);
    assert_eq!(
        tipline::channels::media::fetch_due(core, &client)
            .await
            .unwrap(),
        1
    );
    {
        let s = seen.lock().unwrap();
        assert!(s.auth_ok, "fetched with the account's credentials");
        assert_eq!(s.gets, 2);
        assert_eq!(s.deletes, vec![format!("{RECORDING}.json")]);
    }
    assert_eq!(
        tipline::channels::media::fetch_due(core, &client)
            .await
            .unwrap(),
        0
    );

    // The officer hears the disguised copy; the page shows the original's SHA-256.
    let asp = app
        .officer(
            "asp.bilaspur",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    let page = asp.tip_page(&number).await;
    assert!(page.contains("<audio controls"), "{page}");
    let original = wav();
    let sha = tipline::crypto::encode_hex(&tipline::crypto::sha256(&original));
    assert!(page.contains(&sha));
    let src = common::between(&page, "<audio controls preload=\"none\" src=\"", "\"");
    let heard = asp.get(&src).await;
    assert_eq!(heard.headers()["content-type"], "audio/wav");
    let heard = heard.bytes().await.unwrap();
    assert!(heard.starts_with(b"RIFF"));
    assert_eq!(heard.len(), original.len());
    assert_ne!(
        heard.as_ref(),
        original.as_slice(),
        "officers hear the disguised copy"
    );

    // 3: the status from the keyed number and secret; wrong digits are refused.
    let digits = format!("{number}{secret}");
    let (_, status_said) = step(
        &app,
        "/hooks/twilio/voice/status?lang=hi",
        &[("Digits", &digits)],
        true,
    )
    .await;
    assert!(status_said.contains("मिल गई है"), "{status_said}");
    let (_, refused) = step(
        &app,
        "/hooks/twilio/voice/status?lang=hi",
        &[("Digits", "12345")],
        true,
    )
    .await;
    assert!(refused.contains("सही नहीं"));

    // A question from the police is never texted to the phone that called.
    cases_message(&app, &asp, &number).await;

    // Withheld numbers are not one person: each such call is its own tip.
    for (call, rec) in [
        (
            "CA00000000000000000000000000000a02",
            "RE00000000000000000000000000000b02",
        ),
        (
            "CA00000000000000000000000000000a03",
            "RE00000000000000000000000000000b03",
        ),
    ] {
        let fields = [
            ("CallSid", call),
            ("From", "+266696687"),
            ("RecordingSid", rec),
            ("RecordingDuration", "9"),
        ];
        let (_, said) = step(&app, "/hooks/twilio/voice/recorded?lang=en", &fields, true).await;
        assert!(said.contains("Tip number:"), "{said}");
    }
    assert_eq!(app.tip_count().await, 3);

    // The caller's number is nowhere in the database in clear.
    app.assert_not_in_database_files(&[CALLER.as_bytes(), b"9812377001"]);
}

/// The district supervisor writes to the tipster of a voice tip: the message waits on the follow-up
/// page, and nothing is queued for any provider.
async fn cases_message(app: &TestApp, asp: &common::officer::OfficerClient<'_>, number: &str) {
    let path = format!("/console/tips/{number}/message");
    let r = asp
        .post(&path, &[("text", "Kaun sa ghar? Aur batayein.")])
        .await;
    assert_eq!(r.status(), 303);
    let queued = app.core.store.outbox_about(None, 50).await.unwrap();
    let channels: Vec<&String> = queued.iter().map(|o| &o.channel).collect();
    assert!(
        channels.iter().all(|c| !c.starts_with("tipster_")),
        "{channels:?}"
    );
}

#[tokio::test]
async fn voice_line_sqlite() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let api = fake_recordings(seen.clone()).await;
    voice_line(app(Backend::Sqlite, api).await.unwrap(), seen).await;
}

#[tokio::test]
async fn voice_line_postgres() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let api = fake_recordings(seen.clone()).await;
    match app(Backend::Postgres, api).await {
        Some(app) => voice_line(app, seen).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}
