//! Delivery reports and the 24-hour window, on both backends, through fakes of the providers'
//! send APIs: a message to a WhatsApp tipster gets its `wamid` recorded (keyed, never in clear);
//! Meta's statuses only move it up (a late `sent` after `delivered` changes nothing), a `failed`
//! with its error code shows on the range dashboard; Twilio's status callbacks are verified like
//! its other webhooks; a Messenger watermark marks the earlier messages delivered; outside the
//! window a police message goes as the configured template (Meta, Twilio) or with Messenger's
//! `HUMAN_AGENT` tag, and without a template it fails visibly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{Backend, TestApp};
use secrecy::SecretString;
use serde_json::{Value, json};
use tipline::channels::config::{
    Account, ByLanguage, Channels, Messenger, Meta, MetaTemplate, Templates, Twilio,
};
use tipline::channels::twilio::{Form, twilio_signature};
use tipline::clock::Clock;
use tipline::domain::{Role, TipId};
use tipline::store::OutboxRow;

const ACCOUNT_SID: &str = "AC0000000000000000000000000000abcd";
const TWILIO_TOKEN: &str = "token-for-delivery";
const APP_SECRET: &str = "meta-app-secret-for-delivery";
/// Mungeli's crime-stopper number as Meta writes it, and its WhatsApp phone number id.
const MUNGELI: &str = "917770840100";
const PHONE_ID: &str = "106540352242922";
/// Bilaspur's crime-stopper number.
const BILASPUR: &str = "+917772808100";
/// Raigarh's Messenger page.
const PAGE: &str = "1122334455";
const HINDI_SID: &str = "HX0000000000000000000000000000hi01";
const ENGLISH_SID: &str = "HX0000000000000000000000000000e002";
const HOUR: i64 = 3_600_000;

/// What the fakes were asked to send: (where, body) with Twilio's form as a JSON object.
type Sent = Arc<Mutex<Vec<(String, Value)>>>;

/// Fakes of Meta's Graph API (WhatsApp and Messenger sends, told apart by their bodies as the
/// real one does by the id) and Twilio's Messages API; each names every message it takes
/// (`wamid.OUT1`, `m_OUT2`, `SM…03`) in its documented answer.
async fn fakes(sent: Sent) -> String {
    let graph = {
        let sent = sent.clone();
        axum::routing::post(
            move |axum::extract::Path(id): axum::extract::Path<String>, body: axum::Json<Value>| {
                let sent = sent.clone();
                async move {
                    let mut sent = sent.lock().unwrap();
                    sent.push((id, body.0.clone()));
                    let n = sent.len();
                    axum::Json(if body.0["messaging_product"] == "whatsapp" {
                        json!({"messaging_product": "whatsapp",
                               "contacts": [{"input": body.0["to"], "wa_id": body.0["to"]}],
                               "messages": [{"id": format!("wamid.OUT{n}")}]})
                    } else {
                        json!({"recipient_id": body.0["recipient"]["id"], "message_id": format!("m_OUT{n}")})
                    })
                }
            },
        )
    };
    let twilio = axum::routing::post(move |body: axum::body::Bytes| {
        let sent = sent.clone();
        async move {
            let form = Form::parse(&body).unwrap();
            let fields = [
                "To",
                "From",
                "Body",
                "ContentSid",
                "ContentVariables",
                "StatusCallback",
            ];
            let json: serde_json::Map<String, Value> = fields
                .iter()
                .filter_map(|k| form.get(k).map(|v| ((*k).to_owned(), Value::from(v))))
                .collect();
            let mut sent = sent.lock().unwrap();
            sent.push(("twilio".into(), Value::Object(json)));
            let sid = format!("SM{:032}", sent.len());
            (
                axum::http::StatusCode::CREATED,
                json!({"sid": sid, "status": "queued"}).to_string(),
            )
        }
    });
    let router = axum::Router::new().route("/{id}/messages", graph).route(
        &format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"),
        twilio,
    );
    common::serve_fake(router).await
}

/// The app with WhatsApp (Meta and Twilio) and Messenger, sending to the fakes at `api`; with
/// the templates when `templates`.
async fn app(backend: Backend, api: String, templates: bool) -> Option<TestApp> {
    TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            twilio: Some(Twilio {
                api_url: api.clone(),
                account_sid: ACCOUNT_SID.into(),
                auth_token: SecretString::from(TWILIO_TOKEN),
            }),
            meta: Some(Meta {
                app_secret: SecretString::from(APP_SECRET),
                verify_token: SecretString::from("meta-verify-token"),
                access_token: SecretString::from("graph-token"),
                graph_url: api.clone(),
            }),
            telegram: Vec::new(),
            messenger: Some(Messenger {
                app_secret: SecretString::from(APP_SECRET),
                verify_token: SecretString::from("meta-verify-token"),
                graph_url: api,
                pages: vec![Account {
                    id: PAGE.into(),
                    district: tipline::jurisdiction::DistrictId::parse("raigarh"),
                    token: SecretString::from("page-token"),
                }],
            }),
            x: None,
            exotel: None,
            templates: match templates {
                true => Templates {
                    meta: Some(MetaTemplate {
                        name: "tip_police_message".into(),
                        language: ByLanguage {
                            hindi: "hi".into(),
                            english: "en_US".into(),
                        },
                    }),
                    twilio: Some(ByLanguage {
                        hindi: HINDI_SID.into(),
                        english: ENGLISH_SID.into(),
                    }),
                },
                false => Templates::default(),
            },
        };
        core.public_url = "https://tips.example.in".into();
    })
    .await
}

/// Runs `$body(app, sent)` on SQLite, and on PostgreSQL when configured.
macro_rules! on_both {
    ($name:ident, $templates:expr, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let sent = Sent::default();
                let api = fakes(sent.clone()).await;
                let app = app(Backend::Sqlite, api, $templates).await.unwrap();
                ($body)(app, sent).await;
            }

            #[tokio::test]
            async fn postgres() {
                let sent = Sent::default();
                let api = fakes(sent.clone()).await;
                match app(Backend::Postgres, api, $templates).await {
                    Some(app) => ($body)(app, sent).await,
                    None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
                }
            }
        }
    };
}

fn hub_signature(body: &str) -> String {
    let mac = tipline::crypto::hmac_sha256(APP_SECRET.as_bytes(), body.as_bytes());
    format!("sha256={}", tipline::crypto::encode_hex(&mac))
}

/// Posts a body signed as Meta signs it (WhatsApp or Messenger).
async fn post_meta(app: &TestApp, path: &str, body: &str) -> u16 {
    reqwest::Client::new()
        .post(app.url(path))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", hub_signature(body))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A WhatsApp message from `from` to Mungeli's number.
async fn whatsapp_in(app: &TestApp, id: &str, from: &str, text: &str) {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": MUNGELI, "phone_number_id": PHONE_ID},
        "messages": [{"from": from, "id": id, "timestamp": "1749416383", "type": "text", "text": {"body": text}}]
    }}]}]});
    assert_eq!(
        post_meta(app, "/hooks/meta/whatsapp", &body.to_string()).await,
        200
    );
}

/// Meta's status notification of one message we sent.
async fn whatsapp_status(app: &TestApp, id: &str, status: &str, error: Option<i64>) -> u16 {
    let mut s = json!({"id": id, "status": status, "timestamp": "1749416400", "recipient_id": "919812377010",
        "conversation": {"id": "c1", "origin": {"type": "service"}},
        "pricing": {"billable": false, "pricing_model": "PMP", "category": "service"}});
    if let Some(code) = error {
        s["errors"] = json!([{"code": code, "title": "Re-engagement message", "message": "Re-engagement message",
            "error_data": {"details": "Message failed to send because more than 24 hours have passed"}}]);
    }
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": MUNGELI, "phone_number_id": PHONE_ID},
        "statuses": [s]
    }}]}]});
    post_meta(app, "/hooks/meta/whatsapp", &body.to_string()).await
}

/// Sends everything due.
async fn deliver(app: &TestApp) {
    let client = tipline::alerts::send::client().unwrap();
    tipline::alerts::send::deliver_due(&app.core, &client)
        .await
        .unwrap();
}

/// The tip whose number and secret the answer `sent` (the last message sent) gave.
async fn tip_of_answer(app: &TestApp, sent: &Sent) -> (TipId, String) {
    let (_, body) = sent.lock().unwrap().last().cloned().unwrap();
    let text = [&body["text"]["body"], &body["message"]["text"]]
        .into_iter()
        .find_map(Value::as_str)
        .unwrap()
        .to_owned();
    tip_of(app, &text).await
}

/// The tip whose number an answer names, and the number.
async fn tip_of(app: &TestApp, answer: &str) -> (TipId, String) {
    let spoken = tipline::channels::Spoken::from_answer(answer).unwrap();
    (app.tip_id_of(&spoken.number).await, spoken.number)
}

/// The tip's outbox messages, oldest first.
async fn messages_of(app: &TestApp, tip_id: TipId) -> Vec<OutboxRow> {
    let mut rows = app.core.store.outbox_about(Some(tip_id), 50).await.unwrap();
    rows.reverse();
    rows
}

fn delivery(row: &OutboxRow) -> (Option<&str>, Option<&str>) {
    (row.delivery.as_deref(), row.delivery_error.as_deref())
}

/// An officer of `district` writes to the tipster of tip `number` from the console.
async fn write_to_tipster(app: &TestApp, user: &str, district: &str, number: &str, text: &str) {
    let officer = app
        .officer(user, Role::DistrictSupervisor, Some(district), None)
        .await;
    let path = format!("/console/tips/{number}/message");
    assert_eq!(officer.post(&path, &[("text", text)]).await.status(), 303);
}

/// The range dashboard as the range supervisor sees it.
async fn dashboard(app: &TestApp, user: &str) -> String {
    let ig = app.officer(user, Role::RangeSupervisor, None, None).await;
    let page = ig.get("/console/range").await;
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

/// The `<table id="…">` of a page, or "" if it has none.
fn table(page: &str, id: &str) -> String {
    let start = format!("<table class=\"queue\" id=\"{id}\">");
    match page.find(&start) {
        Some(at) => common::between(&page[at..], &start, "</table>"),
        None => String::new(),
    }
}

async fn whatsapp_statuses(app: TestApp, sent: Sent) {
    let tipster = "919812377010";
    whatsapp_in(
        &app,
        "wamid.IN1",
        tipster,
        "Lormi bazaar ke paas roz raat ko jua khela jata hai",
    )
    .await;
    deliver(&app).await;
    let (tip_id, number) = tip_of_answer(&app, &sent).await;
    write_to_tipster(
        &app,
        "sp.mungeli",
        "mungeli",
        &number,
        "Kis samay khela jata hai?",
    )
    .await;
    deliver(&app).await;
    assert_eq!(
        sent.lock().unwrap().len(),
        2,
        "the answer and the officer's question"
    );
    let rows = messages_of(&app, tip_id).await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.status == "sent" && r.delivery.is_none())
    );

    // The answer (wamid.OUT1) is delivered; its late `sent` changes nothing.
    assert_eq!(
        whatsapp_status(&app, "wamid.OUT1", "delivered", None).await,
        200
    );
    assert_eq!(whatsapp_status(&app, "wamid.OUT1", "sent", None).await, 200);
    let rows = messages_of(&app, tip_id).await;
    assert_eq!(delivery(&rows[0]), (Some("delivered"), None));
    assert_eq!(delivery(&rows[1]), (None, None));

    // The question (wamid.OUT2) fails at Meta: recorded with its code, shown to the range.
    assert_eq!(
        whatsapp_status(&app, "wamid.OUT2", "failed", Some(131047)).await,
        200
    );
    let rows = messages_of(&app, tip_id).await;
    assert_eq!(delivery(&rows[1]), (Some("failed"), Some("131047")));

    // An id no message has: 200, nothing stored.
    let before: Vec<_> = rows.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(
        whatsapp_status(&app, "wamid.ELSEWHERE", "read", None).await,
        200
    );
    let after: Vec<_> = messages_of(&app, tip_id)
        .await
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    assert_eq!(before, after);

    let page = dashboard(&app, "ig.range").await;
    let failed = table(&page, "failed");
    assert!(failed.contains(&number), "{failed}");
    assert!(failed.contains("131047"), "{failed}");
    assert!(failed.contains("tipster_meta"), "{failed}");
    let latest = table(&page, "deliveries");
    assert!(
        latest.contains("delivered") || latest.contains("पहुँच गया"),
        "{latest}"
    );

    // The tip's own page lists both messages to the tipster with what Meta reported, never
    // where they went.
    let sp = app
        .officer(
            "sp2.mungeli",
            Role::DistrictSupervisor,
            Some("mungeli"),
            None,
        )
        .await;
    let page = sp.tip_page(&number).await;
    let replies = common::between(&page, "<ul class=\"replies\">", "</ul>");
    assert_eq!(replies.matches("<li>").count(), 2, "{replies}");
    assert!(
        replies.contains("meta: delivered") || replies.contains("meta: पहुँच गया"),
        "{replies}"
    );
    assert!(replies.contains("131047"), "{replies}");
    assert!(!replies.contains(tipster), "{replies}");
    // The district's operator reads the tip but may not message its tipster: no such list.
    let operator = app
        .officer("op.mungeli", Role::Operator, Some("mungeli"), None)
        .await;
    let page = operator.tip_page(&number).await;
    assert!(page.contains("Lormi bazaar"), "the operator reads the tip");
    assert!(!page.contains("class=\"replies\""), "{page}");

    // Message ids are kept keyed only: a `wamid` can carry the tipster's number.
    app.assert_not_in_database_files(&[b"wamid.OUT1", b"wamid.OUT2", tipster.as_bytes()]);
}

on_both!(
    whatsapp_statuses_are_recorded_and_never_regress,
    true,
    whatsapp_statuses
);

/// A Twilio status callback as Twilio signs it (with `token`).
async fn twilio_status(app: &TestApp, sid: &str, status: &str, token: &str) -> u16 {
    let fields = [
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("From", &format!("whatsapp:{BILASPUR}")),
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("SmsSid", sid),
        ("SmsStatus", status),
        ("To", "whatsapp:+919812399020"),
    ];
    let raw = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", common::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let form = Form::parse(raw.as_bytes()).unwrap();
    let signature = twilio_signature(token, "https://tips.example.in/hooks/twilio/status", &form);
    reqwest::Client::new()
        .post(app.url("/hooks/twilio/status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A WhatsApp message through Twilio's Messaging webhook, signed.
async fn twilio_in(app: &TestApp, sid: &str, from: &str, text: &str) -> String {
    let fields = [
        ("AccountSid", ACCOUNT_SID),
        ("Body", text),
        ("From", from),
        ("MessageSid", sid),
        ("To", &format!("whatsapp:{BILASPUR}")),
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
    let resp = reqwest::Client::new()
        .post(app.url("/hooks/twilio/messages"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let twiml = resp.text().await.unwrap();
    common::between(&twiml, "<Message>", "</Message>")
}

async fn twilio_callbacks(app: TestApp, sent: Sent) {
    let tipster = "whatsapp:+919812399020";
    let answer = twilio_in(
        &app,
        "SM000000000000000000000000000000in",
        tipster,
        "Station ke peeche sharab bikti hai",
    )
    .await;
    let (tip_id, number) = tip_of(&app, &answer).await;
    write_to_tipster(&app, "sp.bilaspur", "bilaspur", &number, "Kaun bechta hai?").await;
    deliver(&app).await;
    let (to, form) = sent.lock().unwrap()[0].clone();
    assert_eq!(to, "twilio");
    assert_eq!(form["Body"], "Kaun bechta hai?");
    assert_eq!(
        form["StatusCallback"],
        "https://tips.example.in/hooks/twilio/status"
    );
    let sid = format!("SM{:032}", 1);

    // A wrongly signed callback: 401, and the message is as it was.
    assert_eq!(
        twilio_status(&app, &sid, "delivered", "not-the-token").await,
        401
    );
    let rows = messages_of(&app, tip_id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(delivery(&rows[0]), (None, None));

    // Signed: recorded; a late `sent` does not take it back; an unknown message: 200, nothing.
    assert_eq!(
        twilio_status(&app, &sid, "delivered", TWILIO_TOKEN).await,
        200
    );
    assert_eq!(twilio_status(&app, &sid, "sent", TWILIO_TOKEN).await, 200);
    assert_eq!(
        twilio_status(&app, &format!("SM{:032}", 99), "read", TWILIO_TOKEN).await,
        200
    );
    assert_eq!(
        delivery(&messages_of(&app, tip_id).await[0]),
        (Some("delivered"), None)
    );
    assert_eq!(twilio_status(&app, &sid, "read", TWILIO_TOKEN).await, 200);
    assert_eq!(
        delivery(&messages_of(&app, tip_id).await[0]),
        (Some("read"), None)
    );
    app.assert_not_in_database_files(&[sid.as_bytes()]);
}

on_both!(
    twilio_status_callbacks_are_verified,
    false,
    twilio_callbacks
);

/// Messenger notification of `events` on Raigarh's page.
fn page_events(events: Value) -> String {
    json!({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": events}]}).to_string()
}

async fn messenger_watermarks(app: TestApp, sent: Sent) {
    let psid = "77001";
    let officer = app
        .officer(
            "sp.raigarh",
            Role::DistrictSupervisor,
            Some("raigarh"),
            None,
        )
        .await;
    let message = page_events(
        json!([{"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": 1,
        "message": {"mid": "m_IN1", "text": "Station road par raat me avaidh sharab ki bikri hoti hai"}}]),
    );
    assert_eq!(
        post_meta(&app, "/hooks/meta/messenger", &message).await,
        200
    );
    deliver(&app).await;
    let first_sent = app.clock.now_ms();
    let (tip_id, number) = tip_of_answer(&app, &sent).await;

    // A minute later an officer writes; the watermark that follows covers only the answer.
    app.clock.advance(60_000);
    let path = format!("/console/tips/{number}/message");
    assert_eq!(
        officer
            .post(&path, &[("text", "Kab se ho raha hai?")])
            .await
            .status(),
        303
    );
    deliver(&app).await;
    assert_eq!(sent.lock().unwrap().len(), 2);
    let watermark = first_sent + 30_000;
    let delivered = page_events(
        json!([{"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": watermark,
        "delivery": {"watermark": watermark}}]),
    );
    assert_eq!(
        post_meta(&app, "/hooks/meta/messenger", &delivered).await,
        200
    );
    let rows = messages_of(&app, tip_id).await;
    assert_eq!(delivery(&rows[0]), (Some("delivered"), None));
    assert_eq!(delivery(&rows[1]), (None, None), "sent after the watermark");

    // Another person's watermark changes nothing of this tipster's messages.
    let other = page_events(
        json!([{"sender": {"id": "77002"}, "recipient": {"id": PAGE}, "timestamp": 1,
        "read": {"watermark": app.clock.now_ms()}}]),
    );
    assert_eq!(post_meta(&app, "/hooks/meta/messenger", &other).await, 200);
    assert_eq!(delivery(&messages_of(&app, tip_id).await[1]), (None, None));

    // The question's own mid, then a read watermark over both.
    let by_mid = page_events(
        json!([{"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": 2,
        "delivery": {"mids": ["m_OUT2"]}}]),
    );
    assert_eq!(post_meta(&app, "/hooks/meta/messenger", &by_mid).await, 200);
    assert_eq!(
        delivery(&messages_of(&app, tip_id).await[1]),
        (Some("delivered"), None)
    );
    let read = page_events(
        json!([{"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": 3,
        "read": {"watermark": app.clock.now_ms()}}]),
    );
    assert_eq!(post_meta(&app, "/hooks/meta/messenger", &read).await, 200);
    let rows = messages_of(&app, tip_id).await;
    assert!(
        rows.iter().all(|r| r.delivery.as_deref() == Some("read")),
        "{rows:?}"
    );
}

on_both!(
    messenger_watermarks_mark_earlier_messages,
    false,
    messenger_watermarks
);

async fn templates_outside_the_window(app: TestApp, sent: Sent) {
    // WhatsApp on Meta: a day after the tipster's last message, the configured template, in the
    // language the officer wrote, with the message as its one-line body.
    whatsapp_in(
        &app,
        "wamid.IN9",
        "919812377011",
        "Mandir ke paas roz jua hota hai",
    )
    .await;
    deliver(&app).await;
    let (_, number) = tip_of_answer(&app, &sent).await;
    app.clock.advance(25 * HOUR);
    let hindi = "कल सुबह थाने आ सकते हैं?\nहम आपका नाम गुप्त रखेंगे।";
    write_to_tipster(&app, "sp.mungeli", "mungeli", &number, hindi).await;
    deliver(&app).await;
    app.clock.advance(60_000);
    write_to_tipster(
        &app,
        "sp.mungeli2",
        "mungeli",
        &number,
        "Can you tell us the time it starts?",
    )
    .await;
    deliver(&app).await;
    {
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 3, "{sent:?}");
        let (id, body) = &sent[1];
        assert_eq!(id, PHONE_ID);
        assert_eq!(body["type"], "template");
        assert_eq!(body["to"], "919812377011");
        assert!(body.get("text").is_none());
        assert_eq!(body["template"]["name"], "tip_police_message");
        assert_eq!(body["template"]["language"]["code"], "hi");
        assert_eq!(
            body["template"]["components"],
            json!([{"type": "body", "parameters": [{"type": "text",
                "text": "कल सुबह थाने आ सकते हैं? हम आपका नाम गुप्त रखेंगे।"}]}])
        );
        assert_eq!(sent[2].1["template"]["language"]["code"], "en_US");
    }

    // WhatsApp through Twilio: the Content template and its variables.
    let answer = twilio_in(
        &app,
        "SM000000000000000000000000000000i2",
        "whatsapp:+919812399021",
        "Highway par trucks se vasooli hoti hai",
    )
    .await;
    let (_, bilaspur) = tip_of(&app, &answer).await;
    app.clock.advance(25 * HOUR);
    write_to_tipster(
        &app,
        "sp.bilaspur",
        "bilaspur",
        &bilaspur,
        "Kaunsi jagah par?",
    )
    .await;
    deliver(&app).await;
    {
        let sent = sent.lock().unwrap();
        let (to, form) = sent.last().unwrap();
        assert_eq!(to, "twilio");
        assert_eq!(form["ContentSid"], HINDI_SID);
        assert!(form.get("Body").is_none(), "{form}");
        let variables: Value =
            serde_json::from_str(form["ContentVariables"].as_str().unwrap()).unwrap();
        assert_eq!(variables, json!({"1": "Kaunsi jagah par?"}));
    }

    // Messenger: past a day, tagged as a human agent's message; past a week, not sent at all.
    let psid = "77005";
    let message = page_events(
        json!([{"sender": {"id": psid}, "recipient": {"id": PAGE}, "timestamp": 1,
        "message": {"mid": "m_IN5", "text": "Nadi kinare ret ka avaidh khanan ho raha hai"}}]),
    );
    assert_eq!(
        post_meta(&app, "/hooks/meta/messenger", &message).await,
        200
    );
    deliver(&app).await;
    let (_, raigarh) = tip_of_answer(&app, &sent).await;
    app.clock.advance(25 * HOUR);
    write_to_tipster(
        &app,
        "sp.raigarh",
        "raigarh",
        &raigarh,
        "Kitni gaadiyan aati hain?",
    )
    .await;
    deliver(&app).await;
    {
        let sent = sent.lock().unwrap();
        let (id, body) = sent.last().unwrap();
        assert_eq!(id, PAGE);
        assert_eq!(body["messaging_type"], "MESSAGE_TAG");
        assert_eq!(body["tag"], "HUMAN_AGENT");
        assert_eq!(body["message"]["text"], "Kitni gaadiyan aati hain?");
    }
    let before = sent.lock().unwrap().len();
    app.clock.advance(7 * 24 * HOUR);
    write_to_tipster(&app, "sp.raigarh2", "raigarh", &raigarh, "Aur kuch?").await;
    deliver(&app).await;
    assert_eq!(
        sent.lock().unwrap().len(),
        before,
        "nothing sent after 7 days"
    );
    let failed = app.core.store.outbox_about(None, 10).await.unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].channel, "tipster_messenger");
}

on_both!(
    templates_go_outside_the_window,
    true,
    templates_outside_the_window
);

async fn no_template_fails_visibly(app: TestApp, sent: Sent) {
    whatsapp_in(
        &app,
        "wamid.IN7",
        "919812377012",
        "Mandir ke paas roz jua hota hai",
    )
    .await;
    deliver(&app).await;
    let (tip_id, number) = tip_of_answer(&app, &sent).await;
    app.clock.advance(25 * HOUR);
    write_to_tipster(&app, "sp.mungeli", "mungeli", &number, "Kis samay?").await;
    deliver(&app).await;
    assert_eq!(
        sent.lock().unwrap().len(),
        1,
        "only the answer inside the window"
    );
    let rows = messages_of(&app, tip_id).await;
    assert_eq!(rows[1].status, "failed");
    assert!(
        rows[1]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("24-hour"),
        "{rows:?}"
    );
    let page = dashboard(&app, "ig.range").await;
    let failed = table(&page, "failed");
    assert!(
        failed.contains(&number) && failed.contains("24-hour"),
        "{failed}"
    );
}

on_both!(
    without_a_template_it_fails_visibly,
    false,
    no_template_fails_visibly
);

/// Fakes that refuse the first send of each provider with its documented "slow down" (Meta's
/// pair-rate error 131056 in an HTTP 400; Telegram's 429 with `parameters.retry_after` 40),
/// then take every send; `taken` lists the providers of the sends taken, in order.
async fn throttling_fakes(taken: Arc<Mutex<Vec<&'static str>>>) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (meta_tries, bot_tries) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let graph = {
        let taken = taken.clone();
        axum::routing::post(move || async move {
            if meta_tries.fetch_add(1, Ordering::SeqCst) == 0 {
                return (
                    axum::http::StatusCode::BAD_REQUEST,
                    json!({"error": {"message": "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                        "type": "OAuthException", "code": 131056, "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}})
                    .to_string(),
                );
            }
            taken.lock().unwrap().push("meta");
            (
                axum::http::StatusCode::OK,
                json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT1"}]})
                    .to_string(),
            )
        })
    };
    let bot = axum::routing::post(move || async move {
        if bot_tries.fetch_add(1, Ordering::SeqCst) == 0 {
            return (
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 40",
                    "parameters": {"retry_after": 40}})
                .to_string(),
            );
        }
        taken.lock().unwrap().push("telegram");
        (
            axum::http::StatusCode::OK,
            json!({"ok": true, "result": {"message_id": 7, "chat": {"id": 5551234, "type": "private"},
                "date": 1764400000, "text": "…"}})
            .to_string(),
        )
    });
    let router = axum::Router::new()
        .route("/{id}/messages", graph)
        .route("/{bot}/sendMessage", bot);
    common::serve_fake(router).await
}

/// A gateway's "slow down" is obeyed: the answer waits as long as the provider asked (6 s for
/// Meta's pair rate, though the backoff alone would try again after 5; Telegram's `retry_after`
/// 40 s), is not counted as failed, and then goes; the provider's code is kept as the error.
async fn throttled_sends_wait(backend: Backend) {
    let taken = Arc::new(Mutex::new(Vec::new()));
    let api = throttling_fakes(taken.clone()).await;
    let Some(app) = TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            meta: Some(Meta {
                app_secret: SecretString::from(APP_SECRET),
                verify_token: SecretString::from("meta-verify-token"),
                access_token: SecretString::from("graph-token"),
                graph_url: api.clone(),
            }),
            telegram: vec![tipline::channels::config::Bot {
                name: "korba".into(),
                district: tipline::jurisdiction::DistrictId::parse("korba"),
                token: SecretString::from("123456:ABCdef"),
                secret_token: SecretString::from("bot-secret-token-0123456789"),
                api_url: api,
            }],
            ..Channels::default()
        };
    })
    .await
    else {
        eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set");
        return;
    };
    whatsapp_in(
        &app,
        "wamid.IN.T1",
        "919812377099",
        "Sarkanda me ganja bik raha hai",
    )
    .await;
    let update = json!({"update_id": 9001, "message": {"message_id": 1,
        "from": {"id": 5551234, "is_bot": false, "first_name": "R"},
        "chat": {"id": 5551234, "type": "private"}, "date": 1764400000,
        "text": "bus stand ke paas roz satta chal raha hai"}});
    let resp = reqwest::Client::new()
        .post(app.url("/hooks/telegram/korba"))
        .header("content-type", "application/json")
        .header(
            "x-telegram-bot-api-secret-token",
            "bot-secret-token-0123456789",
        )
        .body(update.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let step = |ms: i64| {
        app.clock.advance(ms);
        deliver(&app)
    };
    step(0).await;
    assert!(taken.lock().unwrap().is_empty());
    let rows = app.core.store.outbox_recent(10).await.unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in &rows {
        assert_eq!(row.status, "pending", "{row:?}");
    }
    let errors: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.last_error.as_deref())
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("(code 131056)")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|e| e.contains("429")), "{errors:?}");
    step(5_500).await;
    assert!(taken.lock().unwrap().is_empty(), "Meta asked for about 6 s");
    step(1_000).await;
    assert_eq!(*taken.lock().unwrap(), ["meta"]);
    step(30_000).await;
    assert_eq!(*taken.lock().unwrap(), ["meta"], "Telegram asked for 40 s");
    step(4_000).await;
    assert_eq!(*taken.lock().unwrap(), ["meta", "telegram"]);
    let rows = app.core.store.outbox_recent(10).await.unwrap();
    assert!(rows.iter().all(|r| r.status == "sent"), "{rows:?}");
}

#[tokio::test]
async fn throttled_sends_wait_as_asked_sqlite() {
    throttled_sends_wait(Backend::Sqlite).await;
}

#[tokio::test]
async fn throttled_sends_wait_as_asked_postgres() {
    throttled_sends_wait(Backend::Postgres).await;
}
