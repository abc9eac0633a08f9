//! Alerts end to end, on both backends: an urgent tip reaches the officer on duty by SMS (a fake
//! Twilio Messages API, which refuses the first attempt so the retry is seen), by email (a real
//! SMTP conversation with a sink started here) and by a signed webhook; the deadline passes and
//! the escalation reaches the next officer; a district with nobody on duty falls to the range
//! supervisor. No alert carries the tip's text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::{Backend, TestApp};
use secrecy::SecretString;
use tipline::alerts::config::{Alerts, Email, Sms, Webhook};
use tipline::domain::Role;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const CANARY: &str = "CANARY-ALERT-5521";
const WEBHOOK_SECRET: &str = "a-webhook-secret-of-some-length";

/// What the fakes received.
#[derive(Default)]
struct Seen {
    sms: Vec<(String, String)>,
    sms_refused: usize,
    mail: Vec<String>,
    hooks: Vec<(String, Vec<u8>)>,
}

type Shared = Arc<Mutex<Seen>>;

/// A fake Twilio Messages API: answers 503 to the first request, then 201 like Twilio.
async fn fake_twilio(seen: Shared) -> String {
    let route = axum::routing::post(move |headers: HeaderMap, body: Bytes| {
        let seen = seen.clone();
        async move {
            let form = parse_form(&body);
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            // Basic base64("AC123:token-123")
            assert_eq!(auth, "Basic QUMxMjM6dG9rZW4tMTIz");
            let field = |k: &str| {
                form.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            assert_eq!(field("From"), "+919000000001");
            let mut s = seen.lock().unwrap();
            if s.sms_refused == 0 {
                s.sms_refused += 1;
                return (StatusCode::SERVICE_UNAVAILABLE, "try later".to_owned());
            }
            s.sms.push((field("To"), field("Body")));
            (
                StatusCode::CREATED,
                r#"{"sid":"SM123","status":"queued"}"#.to_owned(),
            )
        }
    });
    let router = axum::Router::new().route("/2010-04-01/Accounts/AC123/Messages.json", route);
    serve(router).await
}

/// `application/x-www-form-urlencoded` pairs.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .unwrap()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// A webhook receiver that keeps the signature and the raw body.
async fn fake_webhook(seen: Shared) -> String {
    let route = axum::routing::post(move |headers: HeaderMap, body: Bytes| {
        let seen = seen.clone();
        async move {
            let signature = headers
                .get("x-tipline-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            seen.lock().unwrap().hooks.push((signature, body.to_vec()));
            StatusCode::NO_CONTENT
        }
    });
    serve(axum::Router::new().route("/hook", route)).await
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

/// An SMTP sink: speaks the server side of RFC 5321 and keeps each message.
async fn smtp_sink(seen: Shared) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if read.read_line(&mut line).await.unwrap() == 0 {
                        return;
                    }
                    let reply: &[u8] = match line.get(..4).unwrap_or_default() {
                        "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                        "MAIL" | "RCPT" => b"250 OK\r\n",
                        "QUIT" => b"221 bye\r\n",
                        "DATA" => {
                            write.write_all(b"354 go on\r\n").await.unwrap();
                            let mut message = String::new();
                            loop {
                                line.clear();
                                read.read_line(&mut line).await.unwrap();
                                if line == ".\r\n" {
                                    break;
                                }
                                message.push_str(&line);
                            }
                            seen.lock().unwrap().mail.push(message);
                            b"250 queued\r\n"
                        }
                        _ => b"500 what\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    port
}

async fn app_with_gateways(backend: Backend, seen: &Shared) -> Option<TestApp> {
    let twilio = fake_twilio(seen.clone()).await;
    let hook = fake_webhook(seen.clone()).await;
    let smtp_port = smtp_sink(seen.clone()).await;
    TestApp::spawn_with(backend, move |core| {
        core.alerts = Alerts {
            sms: Some(Sms {
                api_url: twilio,
                account_sid: "AC123".into(),
                auth_token: SecretString::from("token-123"),
                from: "+919000000001".into(),
                whatsapp: false,
            }),
            email: Some(Email {
                smtp_host: "127.0.0.1".into(),
                smtp_port,
                from: "alerts@tipline.test".into(),
            }),
            webhook: Some(Webhook {
                url: format!("{hook}/hook"),
                secret: SecretString::from(WEBHOOK_SECRET),
            }),
            ..Alerts::default()
        };
        core.public_url = "https://tips.example".into();
    })
    .await
}

async fn urgent_tip(app: &TestApp, district: &str) -> String {
    let resp = app
        .post_json(
            "/api/v1/tips",
            serde_json::json!({
                "text": format!("Abhi bazaar me ladai ho rahi hai, chaku nikle hain {CANARY}"),
                "district": district,
                "happening_now": true,
            }),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let body: serde_json::Value = resp.json().await.unwrap();
    body["tip_number"].as_str().unwrap().to_owned()
}

async fn story(app: TestApp, seen: Shared) {
    let core = &app.core;
    let client = tipline::alerts::send::client().unwrap();
    let asp = app
        .add_officer(
            "asp.bilaspur",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    let sp = app
        .add_officer(
            "sp.bilaspur",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    let ig = app
        .add_officer("ig.range", Role::RangeSupervisor, None, None)
        .await;
    for (id, phone, email) in [
        (asp, "+919800000001", "asp@police.test"),
        (sp, "+919800000002", "sp@police.test"),
        (ig, "+919800000009", "ig@police.test"),
    ] {
        app.set_contacts(id, Some(phone), Some(email)).await;
    }
    // The roster: the ASP and the SP of Bilaspur on duty now; nobody for Korba.
    let now = core.clock.now_ms();
    let (f, t) = (
        common::roster_time(now - 3_600_000),
        common::roster_time(now + 12 * 3_600_000),
    );
    let roster = format!(
        "[[shift]]\nofficer = \"asp.bilaspur\"\nduty = \"asp\"\ndistrict = \"bilaspur\"\nfrom = \"{f}\"\nto = \"{t}\"\n\
         [[shift]]\nofficer = \"sp.bilaspur\"\nduty = \"sp\"\ndistrict = \"bilaspur\"\nfrom = \"{f}\"\nto = \"{t}\"\n"
    );
    let stored = tipline::alerts::roster::import(core, &roster, "admin:test").await;
    assert_eq!(stored.unwrap(), 2);
    // A bad roster stores nothing and says which shift is wrong.
    let bad = "[[shift]]\nofficer = \"asp.bilaspur\"\nduty = \"dsp\"\ndistrict = \"bilaspur\"\nfrom = \"2026-11-29 08:00\"\nto = \"2026-11-29 20:00\"\n";
    let err = tipline::alerts::roster::import(core, bad, "admin:test")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("shift 1") && err.contains("dsp"), "{err}");

    // An urgent tip: alerts stored once (a second pass, as from a second node, adds none).
    let number = urgent_tip(&app, "bilaspur").await;
    assert_eq!(tipline::alerts::alert_new_tips(core).await.unwrap(), 1);
    assert_eq!(tipline::alerts::alert_new_tips(core).await.unwrap(), 0);
    // First delivery: email and webhook go; the gateway refuses the first SMS.
    tipline::alerts::send::deliver_due(core, &client)
        .await
        .unwrap();
    {
        let s = seen.lock().unwrap();
        assert_eq!(s.sms_refused, 1);
        assert_eq!(s.mail.len(), 2, "the ASP and the SP by email");
        assert_eq!(s.hooks.len(), 1);
    }
    // After the backoff, both SMS go.
    app.clock.advance(tipline::alerts::send::backoff_ms(1));
    tipline::alerts::send::deliver_due(core, &client)
        .await
        .unwrap();
    {
        let s = seen.lock().unwrap();
        let mut to: Vec<&str> = s.sms.iter().map(|(to, _)| to.as_str()).collect();
        to.sort_unstable();
        assert_eq!(to, ["+919800000001", "+919800000002"]);
        for (_, body) in &s.sms {
            assert!(body.contains(&number) && body.contains("तुरंत"), "{body}");
            assert!(body.contains(&format!("https://tips.example/console/tips/{number}")));
        }
        // The webhook is signed over the exact body.
        let (signature, body) = &s.hooks[0];
        let expected = tipline::crypto::encode_hex(&tipline::crypto::hmac_sha256(
            WEBHOOK_SECRET.as_bytes(),
            body,
        ));
        assert_eq!(signature, &format!("sha256={expected}"));
        let hook: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(hook["alert"]["tip_number"], number.as_str());
        assert_eq!(hook["alert"]["event"], "tip.urgent");
        // No alert carries the tip's words.
        assert!(
            s.sms
                .iter()
                .all(|(_, b)| !b.contains(CANARY) && !b.contains("chaku"))
        );
        assert!(
            s.mail
                .iter()
                .all(|m| !m.contains(CANARY) && m.contains(&number))
        );
        assert!(!String::from_utf8_lossy(body).contains(CANARY));
    }
    let tip_id = core.store.tip_auth(&number).await.unwrap().unwrap().tip_id;
    let outbox = core.store.outbox_about(Some(tip_id), 50).await.unwrap();
    assert_eq!(outbox.len(), 5);
    assert!(outbox.iter().all(|o| o.status == "sent"), "{outbox:?}");

    // Nobody acknowledges: at the deadline the first rung is the station, which has nobody on
    // duty, so the ASP is told (the SP is on another rung).
    let due = core
        .store
        .tip(tip_id)
        .await
        .unwrap()
        .unwrap()
        .deadlines
        .unwrap()
        .acknowledge;
    app.clock.advance(due - core.clock.now_ms());
    assert_eq!(tipline::escalation::run(core).await.unwrap().escalated, 1);
    tipline::alerts::send::deliver_due(core, &client)
        .await
        .unwrap();
    {
        let s = seen.lock().unwrap();
        let late: Vec<&(String, String)> =
            s.sms.iter().filter(|(_, b)| b.contains("late")).collect();
        assert_eq!(late.len(), 1, "{:?}", s.sms);
        assert_eq!(late[0].0, "+919800000001");
    }

    // The range dashboard: Bilaspur's officers on duty, Korba in red with nobody.
    let ig_client = app.log_in(ig, "ig.range").await;
    let page = ig_client.get("/console/range").await.text().await.unwrap();
    assert!(page.contains("Officer asp.bilaspur"), "on duty shown");
    assert_eq!(
        page.matches("class=\"late nobody\"").count(),
        7,
        "seven districts with nobody"
    );
    // The roster page: a district supervisor adds shifts for their own district only.
    let asp_client = app.log_in(asp, "asp.bilaspur").await;
    let shift = |district: &'static str| {
        let (f, t) = (
            common::roster_time(now + 3_600_000),
            common::roster_time(now + 5 * 3_600_000),
        );
        vec![
            ("officer", "sp.bilaspur".to_owned()),
            ("duty", "sp".to_owned()),
            ("district", district.to_owned()),
            ("from", f.replace(' ', "T")),
            ("to", t.replace(' ', "T")),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let c = &asp_client;
        async move {
            let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.post("/console/roster", &refs).await.status()
        }
    };
    assert_eq!(post(shift("korba")).await, 403);
    assert_eq!(post(shift("bilaspur")).await, 303);
    let mut bad = shift("bilaspur");
    bad[1].1 = "dsp".into();
    assert_eq!(post(bad).await, 400);

    // Korba has nobody on duty: its urgent tip goes to the range supervisor.
    let korba = urgent_tip(&app, "korba").await;
    assert_eq!(tipline::alerts::alert_new_tips(core).await.unwrap(), 1);
    tipline::alerts::send::deliver_due(core, &client)
        .await
        .unwrap();
    {
        let s = seen.lock().unwrap();
        assert!(
            s.sms
                .iter()
                .any(|(to, body)| to == "+919800000009" && body.contains(&korba)),
            "{:?}",
            s.sms
        );
    }

    // The range supervisor acknowledges by replying to the alert.
    let korba_id = core.store.tip_auth(&korba).await.unwrap().unwrap().tip_id;
    let status = |id| async move { core.store.tip(id).await.unwrap().unwrap().status };
    let forged = reply(
        &app,
        "+919800000009",
        &format!("ACK {korba}"),
        Some("bm90IGl0"),
    )
    .await;
    assert_eq!(forged.status(), 401, "a bad signature is refused");
    assert_eq!(forged.text().await.unwrap(), "");
    let unsigned = reply(&app, "+919800000009", &format!("ACK {korba}"), None).await;
    assert_eq!(unsigned.status(), 401);
    assert_eq!(status(korba_id).await, "new", "nothing changed");
    let stranger = reply(&app, "+919811111111", &format!("ACK {korba}"), Some("")).await;
    assert!(
        stranger
            .text()
            .await
            .unwrap()
            .contains("only carries police alerts")
    );
    let vague = reply(&app, "whatsapp:+919800000009", "ok", Some("")).await;
    assert!(vague.text().await.unwrap().contains("reply ACK"));
    assert_eq!(status(korba_id).await, "new");
    let done = reply(
        &app,
        "whatsapp:+919800000009",
        &format!("ठीक {korba}"),
        Some(""),
    )
    .await;
    assert_eq!(done.status(), 200);
    assert!(
        done.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let text = done.text().await.unwrap();
    assert!(
        text.contains("acknowledged") && text.contains("<Response><Message>"),
        "{text}"
    );
    assert_eq!(status(korba_id).await, "acknowledged");
    let acks: Vec<_> = core
        .store
        .audit_about(&format!("tip:{}", korba_id.get()), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "tip.acknowledge")
        .collect();
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].actor, format!("officer:{ig}"));
    assert!(
        acks[0].detail.contains("\"via\":\"reply\""),
        "{}",
        acks[0].detail
    );
    // A repeat (Twilio retries, or the officer again) changes nothing more.
    let again = reply(&app, "+919800000009", &format!("ACK {korba}"), Some("")).await;
    assert!(again.text().await.unwrap().contains("already acknowledged"));
}

/// Posts a reply as Twilio would: `signature` `Some("")` signs it properly with the test's
/// auth token, any other value is sent as it is, `None` sends no signature.
async fn reply(
    app: &TestApp,
    from: &str,
    body: &str,
    signature: Option<&str>,
) -> reqwest::Response {
    let fields = [
        ("AccountSid", "AC123"),
        ("Body", body),
        ("From", from),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("NumMedia", "0"),
        ("To", "+919000000001"),
    ];
    let encoded: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", common::encode(v)))
        .collect();
    let raw = encoded.join("&");
    let form = tipline::channels::twilio::Form::parse(raw.as_bytes()).unwrap();
    let mut request = reqwest::Client::new()
        .post(app.url("/hooks/twilio/alerts"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(raw);
    match signature {
        Some("") => {
            let signed = tipline::channels::twilio::twilio_signature(
                "token-123",
                "https://tips.example/hooks/twilio/alerts",
                &form,
            );
            request = request.header("x-twilio-signature", signed);
        }
        Some(other) => request = request.header("x-twilio-signature", other),
        None => {}
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn alerts_reach_the_duty_officer_sqlite() {
    let seen = Shared::default();
    let app = app_with_gateways(Backend::Sqlite, &seen).await.unwrap();
    story(app, seen).await;
}

#[tokio::test]
async fn alerts_reach_the_duty_officer_postgres() {
    let seen = Shared::default();
    match app_with_gateways(Backend::Postgres, &seen).await {
        Some(app) => story(app, seen).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}

/// The daily digest: made once at the configured hour for the day before, with each district's
/// counts and the range's, mailed to the district's supervisor and to the range supervisor, and
/// shown in the console; never any tip text.
async fn digest_story(app: TestApp, seen: Shared) {
    let core = &app.core;
    let client = tipline::alerts::send::client().unwrap();
    let asp = app
        .add_officer("asp.bsp", Role::DistrictSupervisor, Some("bilaspur"), None)
        .await;
    let ig = app
        .add_officer("ig.range", Role::RangeSupervisor, None, None)
        .await;
    for (id, email) in [(asp, "asp@police.test"), (ig, "ig@police.test")] {
        app.set_contacts(id, None, Some(email)).await;
    }
    let day = tipline::digest::day_of(core.clock.now_ms());
    // Bilaspur: an urgent tip acknowledged after its deadline (and escalated first), and a
    // normal one nobody touches; Korba: one normal tip.
    let urgent = urgent_tip(&app, "bilaspur").await;
    app.submit_tip(
        &format!("Gaon me jua chalta hai {CANARY}"),
        Some("bilaspur"),
    )
    .await;
    app.submit_tip("Korba bus stand ke paas sharab bikti hai", Some("korba"))
        .await;
    app.clock.advance(6 * 60_000);
    assert_eq!(tipline::escalation::run(core).await.unwrap().escalated, 1);
    let asp_client = app.log_in(asp, "asp.bsp").await;
    assert_eq!(
        asp_client
            .step(&urgent, "new", "acknowledge", &[])
            .await
            .status(),
        303
    );
    // Before the hour on the next day nothing is made; at the hour, once.
    let (_, midnight) = tipline::digest::bounds(day);
    let now = core.clock.now_ms();
    app.clock.advance(midnight + 7 * 3_600_000 - now);
    assert!(!tipline::digest::run(core).await.unwrap());
    app.clock.advance(3_600_000);
    assert!(tipline::digest::run(core).await.unwrap());
    assert!(!tipline::digest::run(core).await.unwrap(), "made once");
    let label = tipline::digest::label(day);
    let rows = core
        .store
        .digests(vec!["bilaspur".into(), "korba".into(), "range".into()], 10)
        .await
        .unwrap();
    let row = |scope: &str| {
        let r = rows.iter().find(|r| r.scope == scope).unwrap();
        assert_eq!(r.day, label);
        (r.received, r.acknowledged_late, r.overdue, r.escalated)
    };
    // Overdue the next morning: the urgent tip's first action, the untouched tips'
    // acknowledgements.
    assert_eq!(row("bilaspur"), (2, 1, 2, 1));
    assert_eq!(row("korba"), (1, 0, 1, 0));
    assert_eq!(row("range"), (3, 1, 3, 1));
    assert_eq!(rows.len(), 3);

    tipline::alerts::send::deliver_due(core, &client)
        .await
        .unwrap();
    let digests: Vec<String> = seen
        .lock()
        .unwrap()
        .mail
        .iter()
        .filter(|m| m.contains("Daily digest"))
        .cloned()
        .collect();
    assert_eq!(digests.len(), 2, "the ASP's and the IG's");
    let to_asp = digests
        .iter()
        .find(|m| m.contains("asp@police.test"))
        .unwrap();
    assert!(
        to_asp.contains("received: 2") && !to_asp.contains("Korba"),
        "{to_asp}"
    );
    let to_ig = digests
        .iter()
        .find(|m| m.contains("ig@police.test"))
        .unwrap();
    assert!(
        to_ig.contains("Korba") && to_ig.contains("received: 3"),
        "{to_ig}"
    );
    assert!(
        digests
            .iter()
            .all(|m| !m.contains(CANARY) && !m.contains("jua"))
    );

    // The console: the ASP sees Bilaspur's day, the IG every district and the range.
    // The morning after, the evening's sessions have ended: log in again.
    assert_eq!(asp_client.get("/console/digest").await.status(), 303);
    let asp_client = app.log_in(asp, "asp.bsp").await;
    let page = asp_client
        .get("/console/digest")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&label) && page.contains("Bilaspur") && !page.contains("Korba"),
        "{page}"
    );
    let ig_client = app.log_in(ig, "ig.range").await;
    let page = ig_client.get("/console/digest").await.text().await.unwrap();
    assert!(
        page.contains("Korba") && page.contains("class=\"total\""),
        "{page}"
    );
}

#[tokio::test]
async fn daily_digest_sqlite() {
    let seen = Shared::default();
    let app = app_with_gateways(Backend::Sqlite, &seen).await.unwrap();
    digest_story(app, seen).await;
}

#[tokio::test]
async fn daily_digest_postgres() {
    let seen = Shared::default();
    match app_with_gateways(Backend::Postgres, &seen).await {
        Some(app) => digest_story(app, seen).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}
