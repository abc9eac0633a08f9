//! The voice line on Exotel, on both backends, through a fake Exotel API at the HTTP boundary:
//! every applet URL needs the path secret (a wrong one: 401, nothing stored); the Gather answers
//! the menu as JSON; the Passthrus branch on the key; the Connect applet gets the duty roster's
//! phones for the ExoPhone's district with the ExoPhone shown; the Voicemail's Passthru opens a
//! tip once per call, and the Greeting reads its number and secret digit by digit, twice; the
//! MP3 is fetched with the API key and token, only from the configured origin, and officers hear
//! a disguised WAV while the range supervisor alone may release the original; a missed call is
//! called back once, not again within the hour; the caller's number is never stored in clear.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{Backend, TestApp};
use secrecy::SecretString;
use tipline::channels::config::{Channels, Exotel};
use tipline::domain::Role;

const TOKEN: &str = "exotel-path-secret-0123456789abcdef";
const ACCOUNT: &str = "tipline1";
const API_KEY: &str = "apikey0001";
const API_TOKEN: &str = "api-token-for-tests";
/// The caller, as Exotel writes numbers (national, leading 0).
const CALLER: &str = "09812377002";
const CALLER_DIGITS: &str = "9812377002";
/// Korba's ExoPhone (in the config, not in the jurisdiction file).
const EXOPHONE: &str = "07759400100";
const CALL: &str = "b6cfaf0fd4a2e5a9c3f1d3b1b2d4e19a";
const FLOW: &str = "http://my.exotel.com/tipline1/exoml/start_voice/4242";
/// Two seconds of a tone, encoded by lame (8 kHz mono, 16 kb/s).
const MP3: &[u8] = include_bytes!("data/exotel-recording.mp3");

/// What the fake Exotel saw.
#[derive(Default)]
struct Seen {
    /// Recording GETs with the right Basic auth, and with any other.
    fetched: usize,
    refused: usize,
    /// The forms of `Calls/connect` requests (with the right Basic auth).
    connects: Vec<Vec<(String, String)>>,
    /// Requests to the other host.
    elsewhere: usize,
}

fn basic() -> String {
    format!(
        "Basic {}",
        common::base64(format!("{API_KEY}:{API_TOKEN}").as_bytes())
    )
}

/// A fake of Exotel: recordings under `/exotelrecordings/...` (private: Basic auth with the API
/// key and token) and `POST /v1/Accounts/{sid}/Calls/connect`. Returns its origin.
async fn fake_exotel(seen: Arc<Mutex<Seen>>) -> String {
    use axum::http::{HeaderMap, StatusCode};
    let authorised = |headers: &HeaderMap| {
        headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(basic().as_str())
    };
    let recordings = seen.clone();
    let router = axum::Router::new()
        .route(
            &format!("/exotelrecordings/{ACCOUNT}/{{file}}"),
            axum::routing::get(move |headers: HeaderMap| {
                let seen = recordings.clone();
                async move {
                    let mut s = seen.lock().unwrap();
                    if !authorised(&headers) {
                        s.refused += 1;
                        return (StatusCode::UNAUTHORIZED, Vec::new());
                    }
                    s.fetched += 1;
                    (StatusCode::OK, MP3.to_vec())
                }
            }),
        )
        .route(
            &format!("/v1/Accounts/{ACCOUNT}/Calls/connect"),
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let seen = seen.clone();
                async move {
                    if !authorised(&headers) {
                        return StatusCode::UNAUTHORIZED;
                    }
                    let form = tipline::channels::twilio::Form::parse(body.as_bytes()).unwrap();
                    let fields = ["From", "CallerId", "Url", "CallType"]
                        .iter()
                        .map(|k| (k.to_string(), form.get(k).unwrap_or_default().to_owned()))
                        .collect();
                    seen.lock().unwrap().connects.push(fields);
                    StatusCode::OK
                }
            }),
        );
    common::serve_fake(router).await
}

/// Another host that would serve anything to anyone.
async fn fake_elsewhere(seen: Arc<Mutex<Seen>>) -> String {
    let router = axum::Router::new().fallback(move || {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().elsewhere += 1;
            MP3.to_vec()
        }
    });
    common::serve_fake(router).await
}

async fn app(backend: Backend, exotel: String) -> Option<TestApp> {
    TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            exotel: Some(Exotel {
                token: SecretString::from(TOKEN),
                account_sid: ACCOUNT.into(),
                api_key: API_KEY.into(),
                api_token: SecretString::from(API_TOKEN),
                api_url: exotel.clone(),
                recording_origins: vec![exotel],
                callback_flow_url: Some(FLOW.into()),
                exophones: vec![(
                    "+917759400100".into(),
                    tipline::jurisdiction::DistrictId::parse("korba"),
                )],
            }),
            ..Channels::default()
        };
    })
    .await
}

/// One applet's request as Exotel makes it: GET, the call in the query string.
async fn applet_with(
    app: &TestApp,
    token: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> (u16, String) {
    let mut query = vec![
        ("CallSid", CALL),
        ("CallFrom", CALLER),
        ("CallTo", EXOPHONE),
        ("Direction", "incoming"),
        ("Created", "Mon, 06 Jan 2025 10:15:01"),
        ("StartTime", "2025-01-06 10:15:01"),
        ("EndTime", "1970-01-01 05:30:00"),
        ("CallType", "call-attempt"),
        ("flow_id", "123456"),
    ];
    for &(k, v) in extra {
        match query.iter_mut().find(|(name, _)| *name == k) {
            Some(field) => field.1 = v,
            None => query.push((k, v)),
        }
    }
    let (path, lang) = path.split_once('?').unwrap_or((path, ""));
    if let Some(lang) = lang.strip_prefix("lang=") {
        query.push(("lang", lang));
    }
    let r = app
        .client
        .get(app.url(&format!("/hooks/exotel/{token}/{path}")))
        .header("exotel-version", "1.0")
        .query(&query)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn applet(app: &TestApp, path: &str, extra: &[(&str, &str)]) -> (u16, String) {
    applet_with(app, TOKEN, path, extra).await
}

async fn json(app: &TestApp, path: &str, extra: &[(&str, &str)]) -> serde_json::Value {
    let (status, body) = applet(app, path, extra).await;
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The strongest power between `lo` and `hi` Hz in a quarter second from the middle of 8 kHz
/// samples (a coarse DFT, enough to tell 410 Hz from 500 Hz).
fn power_near(samples: &[f32], lo: u32, hi: u32) -> f32 {
    let middle = &samples[samples.len() / 2 - 1000..samples.len() / 2 + 1000];
    (lo..=hi)
        .step_by(2)
        .map(|hz| {
            let (mut re, mut im) = (0.0f32, 0.0f32);
            for (i, s) in middle.iter().enumerate() {
                let phase = 2.0 * std::f32::consts::PI * hz as f32 * i as f32 / 8000.0;
                re += s * phase.cos();
                im += s * phase.sin();
            }
            re * re + im * im
        })
        .fold(0.0, f32::max)
}

/// A shift in the roster from an hour ago to an hour on.
async fn on_duty(app: &TestApp, username: &str, duty: &str, district: Option<&str>, phone: &str) {
    let role = match duty {
        "operator" => Role::Operator,
        "range" => Role::RangeSupervisor,
        _ => Role::DistrictSupervisor,
    };
    let id = app.add_officer(username, role, district, None).await;
    app.set_contacts(id, Some(phone), None).await;
    let now = app.core.clock.now_ms();
    let district = district.map_or(String::new(), |d| format!("district = \"{d}\"\n"));
    let roster = format!(
        "[[shift]]\nofficer = \"{username}\"\nduty = \"{duty}\"\n{district}from = \"{}\"\nto = \"{}\"\n",
        common::roster_time(now - 3_600_000),
        common::roster_time(now + 3_600_000)
    );
    tipline::alerts::roster::import(&app.core, &roster, "admin:test")
        .await
        .unwrap();
}

async fn exotel_line(app: TestApp, seen: Arc<Mutex<Seen>>, elsewhere: String) {
    let core = &app.core;
    let recording = format!(
        "{}/exotelrecordings/{ACCOUNT}/{CALL}.mp3",
        core.channels.exotel.as_ref().unwrap().api_url
    );
    let voicemail = [
        ("CallType", "voicemail"),
        ("RecordingUrl", recording.as_str()),
    ];

    // A wrong path secret: 401 with nothing in it, and nothing stored, on every applet.
    for path in ["passthru/recorded", "passthru/missed", "gather/menu"] {
        let (status, body) = applet_with(
            &app,
            "exotel-path-secret-0123456789abcdeX",
            path,
            &voicemail,
        )
        .await;
        assert_eq!((status, body.as_str()), (401, ""), "{path}");
    }
    assert_eq!(app.tip_count().await, 0);
    let client = tipline::alerts::send::client().unwrap();
    assert_eq!(
        tipline::alerts::send::deliver_due(core, &client)
            .await
            .unwrap(),
        0
    );

    // The menu: Hindi first with the secrecy promise, one key; English on `lang=en`.
    let menu = json(&app, "gather/menu", &[]).await;
    let prompt = menu["gather_prompt"]["text"].as_str().unwrap();
    assert!(
        prompt.contains("नंबर किसी को नहीं बताया जाएगा") && prompt.contains("3 दबाएँ"),
        "{prompt}"
    );
    assert_eq!(menu["max_input_digits"], 1);
    assert_eq!(menu["finish_on_key"], "#");
    assert!(
        menu["input_timeout"].as_u64().unwrap() > 0 && menu["repeat_menu"].as_u64().unwrap() > 0
    );
    let english = json(&app, "gather/menu?lang=en", &[]).await;
    assert!(
        english["gather_prompt"]["text"]
            .as_str()
            .unwrap()
            .contains("press 2")
    );

    // The Passthrus after the menu branch on the key Exotel passes, quotes and all.
    for (key, digits, status) in [
        ("key-1", "\"1\"", 200),
        ("key-1", "\"2\"", 302),
        ("key-3", "\"3\"", 200),
        ("key-3", "", 302),
        ("key-1", "\"1'\"", 400),
    ] {
        let path = format!("passthru/{key}");
        let (answered, _) = applet(&app, &path, &[("digits", digits)]).await;
        assert_eq!(answered, status, "{key} after {digits}");
    }

    // 1 with nobody on duty: the Passthru sends the caller on to the recording.
    assert_eq!(applet(&app, "passthru/duty", &[]).await.0, 302);
    assert_eq!(applet(&app, "connect/duty", &[]).await.0, 404);
    let (_, busy) = applet(&app, "greeting/busy", &[]).await;
    assert!(busy.contains("कोई अधिकारी उपलब्ध नहीं"), "{busy}");
    // Korba's operator (the ExoPhone's district), not Bilaspur's; the range for an unknown number.
    on_duty(&app, "op.korba", "operator", Some("korba"), "+919800000201").await;
    on_duty(
        &app,
        "op.bilaspur",
        "operator",
        Some("bilaspur"),
        "+919800000101",
    )
    .await;
    on_duty(&app, "ig.duty", "range", None, "+919800000901").await;
    assert_eq!(applet(&app, "passthru/duty", &[]).await.0, 200);
    let (status, body) = applet(&app, "connect/duty", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        !body.contains(CALLER_DIGITS),
        "the caller's number is never passed on: {body}"
    );
    let connect: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        connect["destination"]["numbers"],
        serde_json::json!(["+919800000201"])
    );
    assert_eq!(connect["outgoing_phone_number"], EXOPHONE);
    let unknown = json(&app, "connect/duty", &[("CallTo", "08000000001")]).await;
    assert_eq!(
        unknown["destination"]["numbers"],
        serde_json::json!(["+919800000901"])
    );

    // 2: the prompt before the Voicemail; then its Passthru opens a tip in Korba.
    let (_, prompt) = applet(&app, "greeting/record", &[]).await;
    assert!(prompt.contains("बीप के बाद"), "{prompt}");
    assert_eq!(applet(&app, "passthru/recorded", &voicemail).await.0, 200);
    assert_eq!(app.tip_count().await, 1);
    let (status, receipt) = applet(&app, "greeting/receipt", &[("CallType", "voicemail")]).await;
    assert_eq!(status, 200);
    let number: String = common::between(&receipt, "सूचना संख्या है: ", "।")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let secret: String = common::between(&receipt, "गुप्त कोड है: ", "।")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!((number.len(), secret.len()), (10, 15), "{receipt}");
    assert_eq!(
        receipt.matches(&common::spelled(&number)).count(),
        2,
        "{receipt}"
    );
    assert_eq!(
        receipt.matches(&common::spelled(&secret)).count(),
        2,
        "{receipt}"
    );
    let record = core
        .store
        .tip(app.tip_id_of(&number).await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (record.channel.as_str(), record.district_id.as_deref()),
        ("voice", Some("korba"))
    );
    // Exotel asking again for the same call stores nothing more, and reads the same receipt.
    let tip_id = app.tip_id_of(&number).await;
    let stored = || async {
        let messages = core.store.messages(tip_id).await.unwrap().len();
        let pending = core.store.media_due(i64::MAX, 50).await.unwrap().len();
        (app.tip_count().await, messages, pending)
    };
    let before = stored().await;
    assert_eq!(before.2, 1, "one recording to fetch");
    assert_eq!(applet(&app, "passthru/recorded", &voicemail).await.0, 200);
    assert_eq!(stored().await, before);
    assert_eq!(applet(&app, "greeting/receipt", &[]).await.1, receipt);
    // No recording (the caller hung up before the beep): the Passthru's second branch.
    assert_eq!(
        applet(
            &app,
            "passthru/recorded",
            &[("CallSid", "c0000000000000000000000000000002")]
        )
        .await
        .0,
        302
    );

    // A recording anywhere but the configured origin is refused, and nothing is fetched there.
    let other_call = [
        ("CallSid", "c0000000000000000000000000000003"),
        ("CallType", "voicemail"),
    ];
    let origin = core.channels.exotel.as_ref().unwrap().api_url.clone();
    let tricks = [
        format!("{elsewhere}/exotelrecordings/{ACCOUNT}/x.mp3"),
        format!(
            "{}@{}/x.mp3",
            origin,
            elsewhere.trim_start_matches("http://")
        ),
    ];
    for url in &tricks {
        let mut fields = other_call.to_vec();
        fields.push(("RecordingUrl", url.as_str()));
        assert_eq!(
            applet(&app, "passthru/recorded", &fields).await.0,
            400,
            "{url}"
        );
    }
    assert_eq!(app.tip_count().await, 1);

    // The recording: fetched once with the API key and token, then the job has nothing to do.
    assert_eq!(
        tipline::channels::media::fetch_due(core, &client)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        tipline::channels::media::fetch_due(core, &client)
            .await
            .unwrap(),
        0
    );
    {
        let s = seen.lock().unwrap();
        assert_eq!((s.fetched, s.refused, s.elsewhere), (1, 0, 0));
    }

    // The district's officer hears the disguised WAV; the page shows the MP3's SHA-256.
    let asp = app
        .officer("asp.korba", Role::DistrictSupervisor, Some("korba"), None)
        .await;
    let page = asp.tip_page(&number).await;
    assert!(
        page.contains(&tipline::crypto::encode_hex(&tipline::crypto::sha256(MP3))),
        "{page}"
    );
    let src = common::between(&page, "<audio controls preload=\"none\" src=\"", "\"");
    let heard = asp.get(&src).await;
    assert_eq!(heard.headers()["content-type"], "audio/wav");
    let heard = heard.bytes().await.unwrap();
    assert!(
        heard.starts_with(b"RIFF") && heard.len() > 16_000,
        "two seconds of 8 kHz WAV"
    );
    // The 500 Hz tone is heard lowered (to about 410 Hz).
    let samples: Vec<f32> = heard[44..]
        .chunks_exact(2)
        .map(|s| f32::from(i16::from_le_bytes([s[0], s[1]])))
        .collect();
    let (lowered, original) = (
        power_near(&samples, 400, 420),
        power_near(&samples, 490, 510),
    );
    assert!(
        lowered > 4.0 * original,
        "the voice is disguised: {lowered} vs {original}"
    );
    // Only the range supervisor may release the original, and gets the MP3 as it came.
    let release = format!("{src}/original");
    let refused = asp.post(&release, &[("reason", "court order")]).await;
    assert_ne!(refused.status(), 200);
    assert_ne!(refused.bytes().await.unwrap().as_ref(), MP3);
    let ig = app
        .officer("ig.bilaspur", Role::RangeSupervisor, None, None)
        .await;
    let original = ig
        .post(&release, &[("reason", "court order 12/2026")])
        .await;
    assert_eq!(original.status(), 200);
    assert_eq!(original.headers()["content-type"], "audio/mpeg");
    assert_eq!(original.bytes().await.unwrap().as_ref(), MP3);

    // 3: the status by keyed tip number and secret; wrong digits are refused.
    let status = json(&app, "gather/status", &[]).await;
    assert_eq!(status["max_input_digits"], 25);
    let keyed = format!("\"{number}{secret}\"");
    assert_eq!(
        applet(&app, "passthru/status", &[("digits", keyed.as_str())])
            .await
            .0,
        200
    );
    let (_, said) = applet(&app, "greeting/status", &[("digits", keyed.as_str())]).await;
    assert!(said.contains(&common::spelled(&number)), "{said}");
    assert_eq!(
        applet(&app, "passthru/status", &[("digits", "\"1234567890\"")])
            .await
            .0,
        302
    );
    let (_, wrong) = applet(&app, "greeting/status", &[("digits", "\"1234567890\"")]).await;
    assert!(wrong.contains("सही नहीं"), "{wrong}");

    missed_calls(&app, &seen, &client).await;

    // Withheld numbers are not one person: each such call is its own tip.
    for sid in [
        "c0000000000000000000000000000004",
        "c0000000000000000000000000000005",
    ] {
        let fields = [
            ("CallSid", sid),
            ("CallFrom", ""),
            voicemail[0],
            voicemail[1],
        ];
        assert_eq!(applet(&app, "passthru/recorded", &fields).await.0, 200);
    }
    assert_eq!(app.tip_count().await, 3);

    // The caller's number is nowhere in the database in clear.
    app.assert_not_in_database_files(&[CALLER_DIGITS.as_bytes()]);
}

/// A missed call is called back into the flow once, from the ExoPhone; a second within the hour
/// (even across a clock hour) is not; after the hour it is again.
async fn missed_calls(app: &TestApp, seen: &Arc<Mutex<Seen>>, client: &reqwest::Client) {
    // One missed call (`n` makes its CallSid) with these fields, then the outbox delivered:
    // the call-backs Exotel has been asked for so far.
    let miss = |n: u32, fields: &'static [(&'static str, &'static str)]| async move {
        let sid = format!("c00000000000000000000000000001{n:02}");
        let mut query = fields.to_vec();
        query.push(("CallSid", sid.as_str()));
        assert_eq!(applet(app, "passthru/missed", &query).await.0, 200);
        tipline::alerts::send::deliver_due(&app.core, client)
            .await
            .unwrap();
        seen.lock().unwrap().connects.len()
    };
    // A withheld number cannot be called back.
    assert_eq!(miss(89, &[("CallFrom", "")]).await, 0);
    // A call that reached the menu, or one that was answered, is not a missed call.
    assert_eq!(
        miss(90, &[("digits", "\"1\""), ("CallType", "call-attempt")]).await,
        0
    );
    assert_eq!(miss(91, &[("CallType", "completed")]).await, 0);
    assert_eq!(miss(1, &[]).await, 1);
    {
        let s = seen.lock().unwrap();
        let form: Vec<(&str, &str)> = s.connects[0]
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            form,
            [
                ("From", "+919812377002"),
                ("CallerId", EXOPHONE),
                ("Url", FLOW),
                ("CallType", "trans")
            ]
        );
    }
    // Again ten minutes later, and again 55 minutes after the first (the next clock hour).
    app.clock.advance(600_000);
    assert_eq!(miss(2, &[("CallType", "client-hangup")]).await, 1);
    app.clock.advance(2_700_000);
    assert_eq!(miss(3, &[]).await, 1);
    // Past the hour, the caller may be called back again.
    app.clock.advance(600_000);
    assert_eq!(miss(4, &[]).await, 2);
}

#[tokio::test]
async fn exotel_line_sqlite() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (exotel, elsewhere) = (
        fake_exotel(seen.clone()).await,
        fake_elsewhere(seen.clone()).await,
    );
    exotel_line(app(Backend::Sqlite, exotel).await.unwrap(), seen, elsewhere).await;
}

#[tokio::test]
async fn exotel_line_postgres() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (exotel, elsewhere) = (
        fake_exotel(seen.clone()).await,
        fake_elsewhere(seen.clone()).await,
    );
    match app(Backend::Postgres, exotel).await {
        Some(app) => exotel_line(app, seen, elsewhere).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}
