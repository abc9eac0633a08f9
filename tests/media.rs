//! Voice notes, documents, videos, photos and locations on the messaging channels, on both
//! backends, through fakes of Meta's Graph API, Telegram's Bot API and Twilio's API: a WhatsApp
//! voice note (Ogg Opus) opens a tip and officers hear it disguised; a PDF sent by the same
//! tipster joins the tip and is held (no copy for officers; the range supervisor alone releases
//! it); a "video" that is a web page is dropped; every file is deleted at Meta and Twilio once
//! taken; a Telegram venue and a Twilio WhatsApp location are stored with the message; a photo
//! behind Twilio's redirect arrives cleaned; no sender's number is stored in clear.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use common::{Backend, TestApp};
use secrecy::SecretString;
use tipline::channels::config::{Bot, Channels, Meta, Twilio};
use tipline::channels::twilio::{Form, twilio_signature};
use tipline::domain::Role;

const VOICE_NOTE: &[u8] = include_bytes!("data/voice-note.ogg");
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Author (CANARY-PDF-AUTHOR) >> endobj\n%%EOF\n";
const APP_SECRET: &str = "meta-app-secret-for-media";
const BOT_SECRET: &str = "telegram-secret-token_media";
const TWILIO_TOKEN: &str = "twilio-token-for-media";
const ACCOUNT: &str = "AC0000000000000000000000000000abcd";
const MESSAGE: &str = "MM00000000000000000000000000000a01";
const MEDIA: &str = "ME00000000000000000000000000000e01";
/// Mungeli's WhatsApp number and Bilaspur's crime-stopper number in the built-in range.
const MUNGELI: &str = "917770840100";
const BILASPUR: &str = "+917772808100";
const WA_SENDER: &str = "919812300011";
const TWILIO_SENDER: &str = "+919812300022";

/// What the fakes were asked to delete (paths with their queries).
type Deleted = Arc<Mutex<Vec<String>>>;

/// A JPEG-shaped file whose EXIF segment holds a GPS canary.
fn jpeg() -> Vec<u8> {
    let segment = |marker: u8, body: &[u8]| {
        let len = body.len() + 2;
        let mut s = vec![0xFF, marker, (len >> 8) as u8, len as u8];
        s.extend_from_slice(body);
        s
    };
    let mut j = vec![0xFF, 0xD8];
    j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    j.extend(segment(0xE1, b"Exif\0\0GPS 21.9N CANARY-TWILIO-GPS"));
    j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    j.extend_from_slice(&[0x12, 0x34, 0xFF, 0xD9]);
    j
}

/// Fakes of Meta's media endpoints (with DELETE), Twilio's message media (Basic auth, then a
/// redirect to a signed URL; with DELETE) and the send endpoints.
async fn fake_providers(deleted: Deleted) -> String {
    let graph_file = |Path(id): Path<String>, headers: HeaderMap| async move {
        assert_eq!(headers["authorization"], "Bearer graph-token");
        match id.as_str() {
            "VOICE1" => VOICE_NOTE.to_vec(),
            "DOC1" => PDF.to_vec(),
            _ => b"<html><script>not a video</script></html>".to_vec(),
        }
    };
    let graph_delete = {
        let deleted = deleted.clone();
        move |Path(id): Path<String>, RawQuery(q): RawQuery, headers: HeaderMap| {
            let deleted = deleted.clone();
            async move {
                assert_eq!(headers["authorization"], "Bearer graph-token");
                deleted
                    .lock()
                    .unwrap()
                    .push(format!("/{id}?{}", q.unwrap_or_default()));
                axum::Json(serde_json::json!({"success": true}))
            }
        }
    };
    let twilio_media = |Path((_, _, me)): Path<(String, String, String)>, headers: HeaderMap| async move {
        let basic = format!(
            "Basic {}",
            common::base64(format!("{ACCOUNT}:{TWILIO_TOKEN}").as_bytes())
        );
        assert_eq!(headers["authorization"], basic.as_str());
        (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", format!("/signed/{me}?Expires=1"))],
        )
    };
    let twilio_delete = {
        let deleted = deleted.clone();
        move |Path((_, mm, me)): Path<(String, String, String)>| {
            let deleted = deleted.clone();
            async move {
                deleted.lock().unwrap().push(format!("twilio {mm}/{me}"));
                StatusCode::NO_CONTENT
            }
        }
    };
    let router = axum::Router::new()
        .route(
            "/{id}",
            axum::routing::get(|Path(id): Path<String>, headers: HeaderMap| async move {
                let host = headers["host"].to_str().unwrap().to_owned();
                axum::Json(serde_json::json!({"url": format!("http://{host}/files/{id}")}))
            })
            .delete(graph_delete),
        )
        .route("/files/{id}", axum::routing::get(graph_file))
        .route("/signed/{id}", axum::routing::get(|| async { jpeg() }))
        .route(
            "/2010-04-01/Accounts/{ac}/Messages/{mm}/Media/{me}",
            axum::routing::get(twilio_media).delete(twilio_delete),
        )
        .route("/{id}/messages", axum::routing::post(|| async { "{}" }))
        .route(
            "/botmedia:TOKEN/sendMessage",
            axum::routing::post(|| async { "{\"ok\":true}" }),
        );
    common::serve_fake(router).await
}

async fn media_app(backend: Backend, api: String) -> Option<TestApp> {
    TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            twilio: Some(Twilio {
                api_url: api.clone(),
                account_sid: ACCOUNT.into(),
                auth_token: SecretString::from(TWILIO_TOKEN),
            }),
            meta: Some(Meta {
                app_secret: SecretString::from(APP_SECRET),
                verify_token: SecretString::from("verify"),
                access_token: SecretString::from("graph-token"),
                graph_url: api.clone(),
            }),
            telegram: vec![Bot {
                name: "korba".into(),
                district: tipline::jurisdiction::DistrictId::parse("korba"),
                token: SecretString::from("media:TOKEN"),
                secret_token: SecretString::from(BOT_SECRET),
                api_url: api,
            }],
            messenger: None,
            x: None,
            exotel: None,
            templates: Default::default(),
        };
        core.public_url = "https://tips.example.in".into();
    })
    .await
}

/// A WhatsApp message of `kind` carrying `file`, from the test sender to Mungeli's number.
async fn whatsapp(app: &TestApp, id: &str, kind: &str, file: serde_json::Value) {
    let mut message =
        serde_json::json!({"from": WA_SENDER, "id": id, "timestamp": "1", "type": kind});
    message[kind] = file;
    let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "metadata": {"display_phone_number": MUNGELI, "phone_number_id": "106540352242922"},
        "messages": [message]}}]}]})
    .to_string();
    let signature = tipline::crypto::encode_hex(&tipline::crypto::hmac_sha256(
        APP_SECRET.as_bytes(),
        body.as_bytes(),
    ));
    let resp = app
        .client
        .post(app.url("/hooks/meta/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", format!("sha256={signature}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// A Twilio WhatsApp message with one photo and a location, signed.
async fn twilio_photo_and_place(app: &TestApp, api: &str) {
    let media_url = format!("{api}/2010-04-01/Accounts/{ACCOUNT}/Messages/{MESSAGE}/Media/{MEDIA}");
    let from = format!("whatsapp:{TWILIO_SENDER}");
    let to = format!("whatsapp:{BILASPUR}");
    let fields = [
        ("AccountSid", ACCOUNT),
        ("Body", ""),
        ("From", from.as_str()),
        ("Label", "Mandir ke peeche"),
        ("Latitude", "22.0797"),
        ("Longitude", "82.1409"),
        ("MediaContentType0", "image/jpeg"),
        ("MediaUrl0", media_url.as_str()),
        ("MessageSid", MESSAGE),
        ("MessageType", "image"),
        ("NumMedia", "1"),
        ("To", to.as_str()),
    ];
    let raw = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", common::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let form = Form::parse(raw.as_bytes()).unwrap();
    let signature = twilio_signature(
        TWILIO_TOKEN,
        "https://tips.example.in/hooks/twilio/messages",
        &form,
    );
    let resp = app
        .client
        .post(app.url("/hooks/twilio/messages"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Every `action` of a release form on a page.
fn release_forms(page: &str) -> Vec<String> {
    page.split("action=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|a| a.ends_with("/original"))
        .map(str::to_owned)
        .collect()
}

async fn files_and_places(app: TestApp, api: String, deleted: Deleted) {
    // A voice note opens a tip; a PDF and a web page calling itself a video join it.
    let voice = serde_json::json!({"mime_type": "audio/ogg; codecs=opus", "sha256": "x", "id": "VOICE1", "voice": true});
    whatsapp(&app, "wamid.VOICE", "audio", voice).await;
    let doc = serde_json::json!({"caption": "Inke naam ki list", "filename": "list.pdf", "mime_type": "application/pdf", "id": "DOC1"});
    whatsapp(&app, "wamid.DOC", "document", doc).await;
    let video = serde_json::json!({"mime_type": "video/mp4", "id": "FAKEVID"});
    whatsapp(&app, "wamid.VIDEO", "video", video).await;
    assert_eq!(app.tip_count().await, 1, "one tipster, one tip");

    // A Telegram venue opens a tip in Korba; a Twilio WhatsApp photo with a place, in Bilaspur.
    let venue = serde_json::json!({"update_id": 5, "message": {"message_id": 1, "chat": {"id": 5151, "type": "private"}, "date": 1,
        "venue": {"location": {"latitude": 22.3512, "longitude": 82.6801}, "title": "Kusmunda khadan", "address": "Gate 2"}}})
    .to_string();
    let resp = app
        .client
        .post(app.url("/hooks/telegram/korba"))
        .header("content-type", "application/json")
        .header("x-telegram-bot-api-secret-token", BOT_SECRET)
        .body(venue)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    twilio_photo_and_place(&app, &api).await;
    assert_eq!(app.tip_count().await, 3);

    // The voice note, the PDF and the photo are taken; the fake video is dropped; each is
    // deleted at its provider, and nothing is fetched twice.
    let client = tipline::alerts::send::client().unwrap();
    let core = &app.core;
    assert_eq!(
        tipline::channels::media::fetch_due(core, &client)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        tipline::channels::media::fetch_due(core, &client)
            .await
            .unwrap(),
        0
    );
    let mut gone = deleted.lock().unwrap().clone();
    gone.sort();
    assert_eq!(
        gone,
        vec![
            "/DOC1?phone_number_id=106540352242922".to_owned(),
            "/FAKEVID?phone_number_id=106540352242922".to_owned(),
            "/VOICE1?phone_number_id=106540352242922".to_owned(),
            format!("twilio {MESSAGE}/{MEDIA}.json"),
        ]
    );

    // Mungeli's officer hears the voice note disguised, sees the PDF listed but cannot open it.
    let asp = app
        .officer(
            "asp.mungeli",
            Role::DistrictSupervisor,
            Some("mungeli"),
            None,
        )
        .await;
    let queue = asp.get("/console/").await.text().await.unwrap();
    let number = common::between(&queue, "/console/tips/", "\"");
    let page = asp.tip_page(&number).await;
    assert!(page.contains("[वॉइस संदेश भेजा गया]"), "{page}");
    assert!(page.contains("Inke naam ki list"));
    let sha = |b: &[u8]| tipline::crypto::encode_hex(&tipline::crypto::sha256(b));
    assert!(page.contains(&sha(VOICE_NOTE)) && page.contains(&sha(PDF)));
    assert!(page.contains("application/pdf"));
    assert!(release_forms(&page).is_empty(), "the ASP releases nothing");
    let src = common::between(&page, "<audio controls preload=\"none\" src=\"", "\"");
    let heard = asp.get(&src).await;
    assert_eq!(heard.headers()["content-type"], "audio/wav");
    let heard = heard.bytes().await.unwrap();
    // About 4.3 s of 16 kHz mono 16-bit WAVE, decoded from the Opus note.
    assert!(
        heard.starts_with(b"RIFF") && heard.len() > 120_000,
        "{}",
        heard.len()
    );
    let ig = app
        .officer("ig.bilaspur", Role::RangeSupervisor, None, None)
        .await;
    let forms = release_forms(&ig.tip_page(&number).await);
    assert_eq!(forms.len(), 2, "{forms:?}");
    let held = forms.iter().find(|f| !f.starts_with(&src)).unwrap().clone();
    let viewed = asp.get(held.trim_end_matches("/original")).await;
    assert_ne!(viewed.status(), 200, "a held file has no copy to view");
    let refused = asp.post(&held, &[("reason", "court order")]).await;
    assert_ne!(refused.status(), 200);
    let released = ig.post(&held, &[("reason", "court order 14/2026")]).await;
    assert_eq!(released.status(), 200);
    assert_eq!(released.headers()["content-type"], "application/pdf");
    assert!(
        released.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".pdf\"")
    );
    assert_eq!(released.bytes().await.unwrap().as_ref(), PDF);
    let original = ig
        .post(
            &format!("{src}/original"),
            &[("reason", "court order 14/2026")],
        )
        .await;
    assert_eq!(original.headers()["content-type"], "audio/ogg");
    assert_eq!(original.bytes().await.unwrap().as_ref(), VOICE_NOTE);

    // The places are stored with the messages, for the district's officer to read.
    let asp = app
        .officer("asp.korba", Role::DistrictSupervisor, Some("korba"), None)
        .await;
    let queue = asp.get("/console/").await.text().await.unwrap();
    let page = asp
        .tip_page(&common::between(&queue, "/console/tips/", "\""))
        .await;
    assert!(
        page.contains("22.35120, 82.68010 (Kusmunda khadan, Gate 2)"),
        "{page}"
    );
    let asp = app
        .officer(
            "asp.bilaspur",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    let queue = asp.get("/console/").await.text().await.unwrap();
    let page = asp
        .tip_page(&common::between(&queue, "/console/tips/", "\""))
        .await;
    assert!(
        page.contains("22.07970, 82.14090 (Mandir ke peeche)"),
        "{page}"
    );
    let href = common::between(&page, "<ul id=\"photos\"><li><a href=\"", "\"");
    let seen = asp.get(&href).await.bytes().await.unwrap();
    assert!(seen.starts_with(&[0xFF, 0xD8]));
    assert!(!String::from_utf8_lossy(&seen).contains("CANARY-TWILIO-GPS"));

    app.assert_not_in_database_files(&[WA_SENDER.as_bytes(), b"9812300022", b"CANARY-PDF-AUTHOR"]);
}

#[tokio::test]
async fn files_and_places_on_messaging_channels_sqlite() {
    let deleted = Deleted::default();
    let api = fake_providers(deleted.clone()).await;
    let app = media_app(Backend::Sqlite, api.clone()).await.unwrap();
    files_and_places(app, api, deleted).await;
}

#[tokio::test]
async fn files_and_places_on_messaging_channels_postgres() {
    let deleted = Deleted::default();
    let api = fake_providers(deleted.clone()).await;
    match media_app(Backend::Postgres, api.clone()).await {
        Some(app) => files_and_places(app, api, deleted).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}
