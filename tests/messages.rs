//! SMS and WhatsApp tips through Twilio's Messaging webhook, on both backends: a WhatsApp message
//! to Bilaspur's number opens a tip there and is answered with the tip number and secret in the
//! tipster's language; Twilio's retry of it gets the same answer and stores nothing; the sender's
//! next message joins the tip; `STATUS` answers with the status; a message to an unknown number
//! lands with the range; bad signatures and other accounts are refused; the sender's number is
//! never stored in clear.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{Backend, TestApp};
use secrecy::SecretString;
use tipline::channels::config::{Channels, Twilio};
use tipline::channels::twilio::{Form, twilio_signature};
use tipline::domain::Role;
use tipline::domain::{TipNumber, TipSecret};

const TOKEN: &str = "token-for-messages";
const SENDER: &str = "+919812399001";
/// Bilaspur's crime-stopper number in the built-in range.
const BILASPUR: &str = "+917772808100";

/// What the fake Twilio Messages API was asked to send: (To, From, Body).
type Sent = Arc<Mutex<Vec<(String, String, String)>>>;

/// A fake Twilio Messages API that records each message and answers 201 as Twilio does.
async fn fake_twilio(sent: Sent) -> String {
    let route = axum::routing::post(move |body: axum::body::Bytes| {
        let sent = sent.clone();
        async move {
            let form = Form::parse(&body).unwrap();
            let field = |k: &str| form.get(k).unwrap_or_default().to_owned();
            sent.lock()
                .unwrap()
                .push((field("To"), field("From"), field("Body")));
            (
                axum::http::StatusCode::CREATED,
                r#"{"sid":"SM900","status":"queued"}"#,
            )
        }
    });
    let router = axum::Router::new().route(
        "/2010-04-01/Accounts/AC0000000000000000000000000000abcd/Messages.json",
        route,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn app(backend: Backend, api_url: String) -> Option<TestApp> {
    TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            twilio: Some(Twilio {
                api_url,
                account_sid: "AC0000000000000000000000000000abcd".into(),
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

/// Posts a message as Twilio would; `sign` false sends a wrong signature.
async fn post(
    app: &TestApp,
    sid: &str,
    from: &str,
    to: &str,
    body: &str,
    sign: bool,
) -> reqwest::Response {
    let fields = [
        ("AccountSid", "AC0000000000000000000000000000abcd"),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", from),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("ProfileName", "Ravi"),
        ("SmsStatus", "received"),
        ("To", to),
    ];
    let raw = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", common::encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let form = Form::parse(raw.as_bytes()).unwrap();
    let signature = if sign {
        twilio_signature(
            TOKEN,
            "https://tips.example.in/hooks/twilio/messages",
            &form,
        )
    } else {
        twilio_signature(
            "not-the-token",
            "https://tips.example.in/hooks/twilio/messages",
            &form,
        )
    };
    reqwest::Client::new()
        .post(app.url("/hooks/twilio/messages"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap()
}

async fn answer(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let body = resp.text().await.unwrap();
    common::between(&body, "<Message>", "</Message>")
}

/// The digits after `label` (grouped with spaces), up to the next full stop.
fn digits_after(text: &str, label: &str) -> String {
    let start = text.find(label).unwrap() + label.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ' ')
        .filter(char::is_ascii_digit)
        .collect()
}

async fn conversation(app: TestApp, sent: Sent) {
    let wa = |n: &str| format!("whatsapp:{n}");
    // A first message opens a tip in the district of the number it reached.
    let text = "Sarkanda thana ke peeche roz shaam ganja bikta hai, do ladke bechte hain";
    let first = answer(post(&app, "SM01", &wa(SENDER), &wa(BILASPUR), text, true).await).await;
    assert!(first.starts_with("Aapki soochna darj ho gayi"), "{first}");
    let number = TipNumber::parse(&digits_after(&first, "Soochna number: ")).unwrap();
    let secret = TipSecret::parse(&digits_after(&first, "Gupt code: ")).unwrap();
    assert_eq!(app.tip_count().await, 1);
    let tip_id = app
        .core
        .store
        .tip_auth(number.as_str())
        .await
        .unwrap()
        .unwrap()
        .tip_id;
    let record = app.core.store.tip(tip_id).await.unwrap().unwrap();
    assert_eq!(record.channel, "whatsapp");
    assert_eq!(record.district_id.as_deref(), Some("bilaspur"));
    assert_eq!(
        tipline::intake::open_tip_text(&app.core, tip_id)
            .await
            .unwrap(),
        text
    );

    // Twilio retries the same message: the same answer, nothing stored.
    let again = answer(post(&app, "SM01", &wa(SENDER), &wa(BILASPUR), text, true).await).await;
    assert_eq!(again, first);
    assert_eq!(app.tip_count().await, 1);

    // The sender writes again: the message joins the open tip.
    let more = "Aaj bhi 7 baje aaye the, laal bike par";
    let joined = answer(post(&app, "SM02", &wa(SENDER), &wa(BILASPUR), more, true).await).await;
    assert!(joined.contains(&number.display()), "{joined}");
    assert_eq!(app.tip_count().await, 1);
    let view = tipline::intake::tipster_view(&app.core, tip_id)
        .await
        .unwrap();
    assert_eq!(view.messages.len(), 1);
    assert_eq!(view.messages[0].text, more);
    assert_eq!(view.messages[0].author, "tipster");

    // The same tip number and secret work on the web follow-up.
    let page = app.followup(number.as_str(), secret.expose()).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("laal bike"));

    // STATUS from any number answers with the status and opens nothing.
    let status = format!("STATUS {} {}", number.display(), secret.display());
    let said = answer(post(&app, "SM03", "+919800011111", BILASPUR, &status, true).await).await;
    assert!(
        said.contains(&number.display())
            && (said.contains("received") || said.contains("mil gayi")),
        "{said}"
    );
    let wrong = format!("STATUS {} 000000000000000", number.as_str());
    let said = answer(post(&app, "SM04", "+919800011111", BILASPUR, &wrong, true).await).await;
    assert!(
        said.contains("wrong") || said.contains("sahi nahin"),
        "{said}"
    );
    assert_eq!(app.tip_count().await, 1);

    // Hindi to a number no district has: a tip for the range, answered in Hindi.
    let hindi = "हमारे गाँव में रोज़ शाम जुआ खेला जाता है, बड़े लोग आते हैं";
    let other =
        answer(post(&app, "SM05", "+919800022222", "+911140000000", hindi, true).await).await;
    assert!(other.starts_with("आपकी सूचना दर्ज हो गई"), "{other}");
    assert_eq!(app.tip_count().await, 2);

    // An empty message (a sticker, say) is asked for words; nothing stored.
    let empty = answer(post(&app, "SM06", "+919800033333", BILASPUR, "", true).await).await;
    assert!(
        empty.contains("likhein") || empty.contains("write"),
        "{empty}"
    );
    assert_eq!(app.tip_count().await, 2);

    // A bad signature, or another account's request: 401, nothing stored, nothing said.
    let forged = post(
        &app,
        "SM07",
        "+919800044444",
        BILASPUR,
        "Jua chal raha hai",
        false,
    )
    .await;
    assert_eq!(forged.status(), 401);
    assert_eq!(forged.text().await.unwrap(), "");
    let unsigned = reqwest::Client::new()
        .post(app.url("/hooks/twilio/messages"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("From=%2B919800044444&Body=Jua&MessageSid=SM08")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(app.tip_count().await, 2);

    // A supervisor's question reaches the tipster on WhatsApp, from the number they wrote to.
    let asp = app
        .officer("asp.bsp", Role::DistrictSupervisor, Some("bilaspur"), None)
        .await;
    let question = "Bike ka number yaad hai? Kis samay aate hain?";
    let path = format!("/console/tips/{}/message", number.as_str());
    assert_eq!(asp.post(&path, &[("text", question)]).await.status(), 303);
    let client = tipline::alerts::send::client().unwrap();
    tipline::alerts::send::deliver_due(&app.core, &client)
        .await
        .unwrap();
    assert_eq!(
        sent.lock().unwrap().clone(),
        [(wa(SENDER), wa(BILASPUR), question.to_owned())]
    );
    // A day after the tipster's last message WhatsApp allows no free text: the question stays
    // on the follow-up page and the failed delivery is listed for the supervisor.
    app.clock.advance(25 * 3_600_000);
    let asp = app
        .officer("asp.bsp2", Role::DistrictSupervisor, Some("bilaspur"), None)
        .await;
    assert_eq!(
        asp.post(&path, &[("text", "Aur kuch batana chahenge?")])
            .await
            .status(),
        303
    );
    tipline::alerts::send::deliver_due(&app.core, &client)
        .await
        .unwrap();
    assert_eq!(sent.lock().unwrap().len(), 1);
    let failed = app.core.store.outbox_about(None, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].channel, "tipster_twilio");
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("24-hour"),
        "{failed:?}"
    );
    let view = tipline::intake::tipster_view(&app.core, tip_id)
        .await
        .unwrap();
    assert_eq!(view.messages.len(), 3, "both questions are on follow-up");

    // The sender's number is nowhere in the database in clear (SQLite: the files themselves).
    app.assert_not_in_database_files(&[&SENDER.as_bytes()[1..]]);
}

#[tokio::test]
async fn whatsapp_and_sms_tips_sqlite() {
    let sent = Sent::default();
    let api = fake_twilio(sent.clone()).await;
    conversation(app(Backend::Sqlite, api).await.unwrap(), sent).await;
}

#[tokio::test]
async fn whatsapp_and_sms_tips_postgres() {
    let sent = Sent::default();
    let api = fake_twilio(sent.clone()).await;
    match app(Backend::Postgres, api).await {
        Some(app) => conversation(app, sent).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}

const APP_SECRET: &str = "meta-app-secret-for-tests";
const VERIFY_TOKEN: &str = "meta-verify-token";
/// Mungeli's crime-stopper number, as Meta writes it (no `+`).
const MUNGELI: &str = "917770840100";

/// What the fake Graph API was asked to send: (phone number id, JSON body).
type Graph = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

async fn fake_graph(sent: Graph) -> String {
    let route = axum::routing::post(
        move |axum::extract::Path(id): axum::extract::Path<String>,
              headers: axum::http::HeaderMap,
              body: axum::Json<serde_json::Value>| {
            let sent = sent.clone();
            async move {
                assert_eq!(headers["authorization"], "Bearer graph-token");
                sent.lock().unwrap().push((id, body.0));
                axum::Json(
                    serde_json::json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT"}]}),
                )
            }
        },
    );
    let router = axum::Router::new().route("/{id}/messages", route);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn notification(id: &str, from: &str, body: &str) -> String {
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": MUNGELI, "phone_number_id": "106540352242922"},
            "contacts": [{"profile": {"name": "रवि"}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": "1749416383", "type": "text", "text": {"body": body}}]
        }}]}]
    })
    .to_string()
}

async fn post_meta(app: &TestApp, body: &str, secret: &str) -> reqwest::Response {
    let signature = tipline::crypto::encode_hex(&tipline::crypto::hmac_sha256(
        secret.as_bytes(),
        body.as_bytes(),
    ));
    reqwest::Client::new()
        .post(app.url("/hooks/meta/whatsapp"))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", format!("sha256={signature}"))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn meta_conversation(app: TestApp, graph: Graph) {
    // The subscription handshake.
    let hs = |token: &str| {
        format!(
            "/hooks/meta/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        )
    };
    let ok = app.get(&hs(VERIFY_TOKEN)).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    assert_eq!(app.get(&hs("wrong-token")).await.status(), 403);

    // A message to Mungeli's number opens a tip there; the answer goes out through the Graph API.
    let sender = "919812377002";
    let text = "Lormi bazaar ke paas roz raat ko jua khela jata hai, bade log aate hain";
    let body = notification("wamid.IN1", sender, text);
    assert_eq!(post_meta(&app, &body, APP_SECRET).await.status(), 200);
    assert_eq!(app.tip_count().await, 1);
    let client = tipline::alerts::send::client().unwrap();
    tipline::alerts::send::deliver_due(&app.core, &client)
        .await
        .unwrap();
    let (number, first) = {
        let sent = graph.lock().unwrap();
        assert_eq!(sent.len(), 1);
        let (id, json) = &sent[0];
        assert_eq!(id, "106540352242922");
        assert_eq!(json["to"], sender);
        let answer = json["text"]["body"].as_str().unwrap().to_owned();
        assert!(answer.starts_with("Aapki soochna darj ho gayi"), "{answer}");
        let number = TipNumber::parse(&digits_after(&answer, "Soochna number: ")).unwrap();
        (number, answer)
    };
    let tip_id = app
        .core
        .store
        .tip_auth(number.as_str())
        .await
        .unwrap()
        .unwrap()
        .tip_id;
    let record = app.core.store.tip(tip_id).await.unwrap().unwrap();
    assert_eq!(record.district_id.as_deref(), Some("mungeli"));
    assert_eq!(record.channel, "whatsapp");

    // Meta delivers the same notification again: nothing stored, nothing sent twice.
    assert_eq!(post_meta(&app, &body, APP_SECRET).await.status(), 200);
    tipline::alerts::send::deliver_due(&app.core, &client)
        .await
        .unwrap();
    assert_eq!(app.tip_count().await, 1);
    assert_eq!(graph.lock().unwrap().len(), 1);

    // The same person on WhatsApp through Twilio joins the same open tip.
    let more = "Aaj bhi khel chal raha hai";
    let joined = answer(
        post(
            &app,
            "SM77",
            &format!("whatsapp:+{sender}"),
            &format!("whatsapp:+{MUNGELI}"),
            more,
            true,
        )
        .await,
    )
    .await;
    assert!(joined.contains(&number.display()), "{joined}");
    assert_eq!(app.tip_count().await, 1);

    // Bad signatures, a status update and malformed bodies store nothing.
    let other = notification("wamid.IN2", "919800000003", "Jua chal raha hai");
    assert_eq!(
        post_meta(&app, &other, "not-the-secret").await.status(),
        401
    );
    let statuses = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"917770840100","phone_number_id":"106540352242922"},"statuses":[{"id":"wamid.OUT","status":"delivered"}]}}]}]}"#;
    assert_eq!(post_meta(&app, statuses, APP_SECRET).await.status(), 200);
    assert_eq!(
        post_meta(&app, "{\"object\":", APP_SECRET).await.status(),
        400
    );
    assert_eq!(app.tip_count().await, 1);
    assert!(!first.is_empty());
    // Provider message ids are kept only keyed (a `wamid.` id can encode the sender's number).
    app.assert_not_in_database_files(&[b"wamid.IN1"]);
}

async fn meta_app(backend: Backend, graph_url: String) -> Option<TestApp> {
    TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            twilio: Some(Twilio {
                api_url: "http://127.0.0.1:9".into(),
                account_sid: "AC0000000000000000000000000000abcd".into(),
                auth_token: SecretString::from(TOKEN),
            }),
            meta: Some(tipline::channels::config::Meta {
                app_secret: SecretString::from(APP_SECRET),
                verify_token: SecretString::from(VERIFY_TOKEN),
                access_token: SecretString::from("graph-token"),
                graph_url,
            }),
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

#[tokio::test]
async fn meta_whatsapp_tips_sqlite() {
    let graph = Graph::default();
    let url = fake_graph(graph.clone()).await;
    meta_conversation(meta_app(Backend::Sqlite, url).await.unwrap(), graph).await;
}

#[tokio::test]
async fn meta_whatsapp_tips_postgres() {
    let graph = Graph::default();
    let url = fake_graph(graph.clone()).await;
    match meta_app(Backend::Postgres, url).await {
        Some(app) => meta_conversation(app, graph).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}

const BOT_SECRET: &str = "telegram-secret-token_1";

/// What the fake Bot API was asked to send: (path, JSON body).
async fn fake_bot_api(sent: Graph) -> String {
    let route = axum::routing::post(
        move |axum::extract::Path(method): axum::extract::Path<String>,
              body: axum::Json<serde_json::Value>| {
            let sent = sent.clone();
            async move {
                sent.lock().unwrap().push((method, body.0));
                axum::Json(serde_json::json!({"ok": true, "result": {"message_id": 7}}))
            }
        },
    );
    let router = axum::Router::new().route("/bot123456:ABCdef/{method}", route);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn post_update(app: &TestApp, bot: &str, body: &str, secret: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(&format!("/hooks/telegram/{bot}")))
        .header("content-type", "application/json")
        .header("x-telegram-bot-api-secret-token", secret)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

fn update(id: i64, chat: i64, text: &str) -> String {
    serde_json::json!({"update_id": id, "message": {"message_id": id, "from": {"id": chat, "is_bot": false, "first_name": "R"}, "chat": {"id": chat, "type": "private"}, "date": 1733900000, "text": text}}).to_string()
}

async fn telegram_conversation(app: TestApp, sent: Graph) {
    let client = tipline::alerts::send::client().unwrap();
    let deliver = || tipline::alerts::send::deliver_due(&app.core, &client);
    // /start is answered with what to write; nothing is stored.
    assert_eq!(
        post_update(&app, "korba", &update(1, 5551, "/start"), BOT_SECRET)
            .await
            .status(),
        200
    );
    deliver().await.unwrap();
    assert_eq!(app.tip_count().await, 0);
    {
        let s = sent.lock().unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].0, "sendMessage");
        assert_eq!(s[0].1["chat_id"], 5551);
    }
    // A tip to Korba's bot lands in Korba; the answer carries the tip number.
    let text = "Kusmunda khadan ke paas raat ko diesel chori hoti hai, tanker aate hain";
    let body = update(2, 5551, text);
    assert_eq!(
        post_update(&app, "korba", &body, BOT_SECRET).await.status(),
        200
    );
    deliver().await.unwrap();
    assert_eq!(app.tip_count().await, 1);
    let answer = sent.lock().unwrap()[1].1["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let number = TipNumber::parse(&digits_after(&answer, "Soochna number: ")).unwrap();
    let tip_id = app
        .core
        .store
        .tip_auth(number.as_str())
        .await
        .unwrap()
        .unwrap()
        .tip_id;
    let record = app.core.store.tip(tip_id).await.unwrap().unwrap();
    assert_eq!(
        (record.channel.as_str(), record.district_id.as_deref()),
        ("telegram", Some("korba"))
    );
    // Telegram sends the update again: nothing stored or sent twice.
    assert_eq!(
        post_update(&app, "korba", &body, BOT_SECRET).await.status(),
        200
    );
    deliver().await.unwrap();
    assert_eq!(app.tip_count().await, 1);
    assert_eq!(sent.lock().unwrap().len(), 2);
    // A wrong secret, an unknown bot, a body that is not an update: refused, nothing stored.
    let other = update(3, 5552, "Jua chal raha hai");
    assert_eq!(
        post_update(&app, "korba", &other, "wrong-secret-token")
            .await
            .status(),
        401
    );
    assert_eq!(
        post_update(&app, "raigarh", &other, BOT_SECRET)
            .await
            .status(),
        404
    );
    assert_eq!(
        post_update(&app, "korba", "[1,2", BOT_SECRET)
            .await
            .status(),
        400
    );
    assert_eq!(app.tip_count().await, 1);
}

async fn telegram_app(backend: Backend, api_url: String) -> Option<TestApp> {
    TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            twilio: None,
            meta: None,
            telegram: vec![tipline::channels::config::Bot {
                name: "korba".into(),
                district: tipline::jurisdiction::DistrictId::parse("korba"),
                token: SecretString::from("123456:ABCdef"),
                secret_token: SecretString::from(BOT_SECRET),
                api_url,
            }],
            messenger: None,
            x: None,
            exotel: None,
            templates: Default::default(),
        };
    })
    .await
}

#[tokio::test]
async fn telegram_tips_sqlite() {
    let sent = Graph::default();
    let url = fake_bot_api(sent.clone()).await;
    telegram_conversation(telegram_app(Backend::Sqlite, url).await.unwrap(), sent).await;
}

#[tokio::test]
async fn telegram_tips_postgres() {
    let sent = Graph::default();
    let url = fake_bot_api(sent.clone()).await;
    match telegram_app(Backend::Postgres, url).await {
        Some(app) => telegram_conversation(app, sent).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}

/// `tipline simulate` sends one signed message per configured provider; each opens a tip. With
/// `--serve-media` it answers as Twilio's media API: the server fetches the WhatsApp photo (the
/// background job runs here), cleans it and deletes it there.
async fn simulated(app: TestApp, media: tokio::net::TcpListener) {
    let core = app.core.clone();
    let fetcher = tokio::spawn(async move {
        let client = tipline::alerts::send::client().unwrap();
        loop {
            tipline::channels::media::fetch_due(&core, &client)
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });
    let sent = tipline::channels::simulate::run(
        &app.core.channels,
        &app.core.jurisdiction,
        "https://tips.example.in",
        &app.url(""),
        Some(media),
    )
    .await
    .unwrap();
    fetcher.abort();
    let what: Vec<&str> = sent.iter().map(|s| s.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "Twilio SMS",
            "Twilio WhatsApp",
            "Twilio WhatsApp photo",
            "Meta WhatsApp",
            "Meta WhatsApp location",
            "Telegram bot korba",
            "Exotel call (recorded message)",
            "Twilio media (served here)"
        ]
    );
    assert!(
        sent.iter().all(|s| s.status == 200),
        "{:?}",
        sent.iter()
            .map(|s| (&s.what, s.status, &s.answer))
            .collect::<Vec<_>>()
    );
    assert!(
        sent[0]
            .answer
            .as_deref()
            .unwrap()
            .contains("Soochna number")
    );
    let whatsapp = sent[1].answer.as_deref().unwrap();
    assert!(whatsapp.contains("सूचना संख्या"), "{whatsapp}");
    // The call's recorded message is read back as a new tip's number and secret.
    let receipt = sent[6].answer.as_deref().unwrap();
    assert!(receipt.contains("सूचना संख्या है:"), "{receipt}");
    // The shared location and the photo joined their tipsters' tips.
    assert_eq!(app.tip_count().await, 5);
    // The range supervisor sees the photo on the WhatsApp tip, without the camera's position.
    let ig = app
        .officer("ig.simulate", Role::RangeSupervisor, None, None)
        .await;
    let page = ig.tip_page(&digits_after(whatsapp, "सूचना संख्या: ")).await;
    let href = common::between(&page, "<ul id=\"photos\"><li><a href=\"", "\"");
    let seen = ig.get(&href).await.bytes().await.unwrap();
    assert!(seen.starts_with(&[0xFF, 0xD8]));
    assert!(seen.len() > 1000, "the whole picture: {} bytes", seen.len());
    assert!(!String::from_utf8_lossy(&seen).contains("camera position"));
}

/// Every channel but Messenger and X; Twilio's API is where `media` listens.
async fn all_channels_app(backend: Backend, media: &tokio::net::TcpListener) -> Option<TestApp> {
    let twilio_api = format!("http://{}", media.local_addr().unwrap());
    TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            twilio: Some(Twilio {
                api_url: twilio_api,
                account_sid: "AC0000000000000000000000000000abcd".into(),
                auth_token: SecretString::from(TOKEN),
            }),
            meta: Some(tipline::channels::config::Meta {
                app_secret: SecretString::from(APP_SECRET),
                verify_token: SecretString::from(VERIFY_TOKEN),
                access_token: SecretString::from("graph-token"),
                graph_url: "http://127.0.0.1:9".into(),
            }),
            telegram: vec![tipline::channels::config::Bot {
                name: "korba".into(),
                district: tipline::jurisdiction::DistrictId::parse("korba"),
                token: SecretString::from("123456:ABCdef"),
                secret_token: SecretString::from(BOT_SECRET),
                api_url: "http://127.0.0.1:9".into(),
            }],
            messenger: None,
            x: None,
            exotel: Some(tipline::channels::config::Exotel {
                token: SecretString::from("exotel-path-secret-0123456789abcdef"),
                account_sid: "tipline1".into(),
                api_key: "apikey0001".into(),
                api_token: SecretString::from("api-token"),
                api_url: "http://127.0.0.1:9".into(),
                recording_origins: vec!["http://127.0.0.1:9".into()],
                callback_flow_url: None,
                exophones: Vec::new(),
            }),
            templates: Default::default(),
        };
        core.public_url = "https://tips.example.in".into();
    })
    .await
}

#[tokio::test]
async fn simulate_reaches_every_channel_sqlite() {
    let media = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = all_channels_app(Backend::Sqlite, &media).await.unwrap();
    simulated(app, media).await;
}

#[tokio::test]
async fn simulate_reaches_every_channel_postgres() {
    let media = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    match all_channels_app(Backend::Postgres, &media).await {
        Some(app) => simulated(app, media).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}

const PAGE: &str = "1122334455";
const X_ACCOUNT: &str = "4337869213";
const X_SECRET: &str = "x-consumer-secret-for-tests";

/// A fake Graph API (Messenger sends) and X API (DM sends) in one server.
async fn fake_social(sent: Graph) -> String {
    let graph = {
        let sent = sent.clone();
        axum::routing::post(
            move |axum::extract::Path(id): axum::extract::Path<String>,
                  headers: axum::http::HeaderMap,
                  body: axum::Json<serde_json::Value>| {
                let sent = sent.clone();
                async move {
                    assert_eq!(headers["authorization"], "Bearer page-token");
                    sent.lock().unwrap().push((format!("page {id}"), body.0));
                    axum::Json(serde_json::json!({"recipient_id": "1", "message_id": "m_1"}))
                }
            },
        )
    };
    let dm = axum::routing::post(
        move |axum::extract::Path(id): axum::extract::Path<String>,
              headers: axum::http::HeaderMap,
              body: axum::Json<serde_json::Value>| {
            let sent = sent.clone();
            async move {
                assert_eq!(headers["authorization"], "Bearer x-user-token");
                sent.lock().unwrap().push((format!("dm {id}"), body.0));
                axum::Json(serde_json::json!({"data": {"dm_event_id": "1"}}))
            }
        },
    );
    let router = axum::Router::new()
        .route("/{id}/messages", graph)
        .route("/2/dm_conversations/with/{id}/messages", dm);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn social_app(backend: Backend, api: String) -> Option<TestApp> {
    TestApp::spawn_with(backend, |core| {
        let account = |id: &str, district: &str, token: &str| tipline::channels::config::Account {
            id: id.into(),
            district: tipline::jurisdiction::DistrictId::parse(district),
            token: SecretString::from(token),
        };
        core.channels = Channels {
            twilio: None,
            meta: None,
            telegram: Vec::new(),
            messenger: Some(tipline::channels::config::Messenger {
                app_secret: SecretString::from(APP_SECRET),
                verify_token: SecretString::from(VERIFY_TOKEN),
                graph_url: api.clone(),
                pages: vec![account(PAGE, "raigarh", "page-token")],
            }),
            x: Some(tipline::channels::config::X {
                consumer_secret: SecretString::from(X_SECRET),
                api_url: api,
                accounts: vec![account(X_ACCOUNT, "janjgir_champa", "x-user-token")],
            }),
            exotel: None,
            templates: Default::default(),
        };
    })
    .await
}

async fn post_signed(app: &TestApp, path: &str, header: &str, value: String, body: &str) -> u16 {
    reqwest::Client::new()
        .post(app.url(path))
        .header("content-type", "application/json")
        .header(header, value)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn social_conversation(app: TestApp, sent: Graph) {
    let client = tipline::alerts::send::client().unwrap();
    // Messenger: the handshake, then a message to Raigarh's page.
    let ok = app
        .get(&format!(
            "/hooks/meta/messenger?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=42"
        ))
        .await;
    assert_eq!(ok.text().await.unwrap(), "42");
    let body = serde_json::json!({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": [
        {"sender": {"id": "77001"}, "recipient": {"id": PAGE}, "timestamp": 1,
         "message": {"mid": "m_IN1", "text": "Station road par raat me avaidh sharab ki bikri hoti hai"}}]}]})
    .to_string();
    let sig = format!(
        "sha256={}",
        tipline::crypto::encode_hex(&tipline::crypto::hmac_sha256(
            APP_SECRET.as_bytes(),
            body.as_bytes()
        ))
    );
    let path = "/hooks/meta/messenger";
    assert_eq!(
        post_signed(&app, path, "x-hub-signature-256", sig.clone(), &body).await,
        200
    );
    assert_eq!(
        post_signed(&app, path, "x-hub-signature-256", sig, &body).await,
        200
    );
    let bad = "sha256=00".to_owned();
    assert_eq!(
        post_signed(&app, path, "x-hub-signature-256", bad, &body).await,
        401
    );
    assert_eq!(app.tip_count().await, 1, "stored once");

    // X: the CRC, then a DM to Janjgir-Champa's account (and the account's own echo).
    let crc: serde_json::Value = app
        .get("/hooks/x?crc_token=abc123")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        crc["response_token"],
        tipline::channels::x::sign(X_SECRET, b"abc123")
    );
    let body = serde_json::json!({"for_user_id": X_ACCOUNT, "direct_message_events": [
        {"type": "message_create", "id": "9001", "message_create": {"target": {"recipient_id": X_ACCOUNT},
         "sender_id": "3001969357", "message_data": {"text": "Nadi se raat me trucko se ret nikali ja rahi hai"}}},
        {"type": "message_create", "id": "9002", "message_create": {"target": {"recipient_id": "3001969357"},
         "sender_id": X_ACCOUNT, "message_data": {"text": "echo"}}}]})
    .to_string();
    let sig = tipline::channels::x::sign(X_SECRET, body.as_bytes());
    assert_eq!(
        post_signed(&app, "/hooks/x", "x-twitter-webhooks-signature", sig, &body).await,
        200
    );
    let bad = tipline::channels::x::sign("wrong-secret-123", body.as_bytes());
    assert_eq!(
        post_signed(&app, "/hooks/x", "x-twitter-webhooks-signature", bad, &body).await,
        401
    );
    assert_eq!(app.tip_count().await, 2, "the echo is no tip");

    // The answers go back on each channel, from the district's page or account.
    tipline::alerts::send::deliver_due(&app.core, &client)
        .await
        .unwrap();
    let mut s = sent.lock().unwrap().clone();
    s.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(s.len(), 2, "{s:?}");
    assert_eq!(s[0].0, "dm 3001969357");
    assert!(s[0].1["text"].as_str().unwrap().contains("Soochna number"));
    assert_eq!(s[1].0, format!("page {PAGE}"));
    assert_eq!(s[1].1["recipient"]["id"], "77001");
    assert_eq!(s[1].1["messaging_type"], "RESPONSE");
    // Each tip is in the district of the page or account it reached.
    let mut districts: Vec<Option<String>> = app
        .core
        .store
        .district_stats(i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, open, _, _)| *open > 0)
        .map(|(district, _, _, _)| district)
        .collect();
    districts.sort();
    assert_eq!(
        districts,
        [
            Some("janjgir_champa".to_owned()),
            Some("raigarh".to_owned())
        ]
    );
}

#[tokio::test]
async fn messenger_and_x_tips_sqlite() {
    let sent = Graph::default();
    let api = fake_social(sent.clone()).await;
    social_conversation(social_app(Backend::Sqlite, api).await.unwrap(), sent).await;
}

#[tokio::test]
async fn messenger_and_x_tips_postgres() {
    let sent = Graph::default();
    let api = fake_social(sent.clone()).await;
    match social_app(Backend::Postgres, api).await {
        Some(app) => social_conversation(app, sent).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}

/// A sender who floods the line: every message is kept, the tip is marked, and answers pause.
async fn flood(app: TestApp) {
    let from = "+919811100000";
    let first = answer(
        post(
            &app,
            "SMF0",
            from,
            BILASPUR,
            "Gaon me jua chal raha hai roz raat",
            true,
        )
        .await,
    )
    .await;
    let number = TipNumber::parse(&digits_after(&first, "Soochna number: ")).unwrap();
    let mut answers = Vec::new();
    for i in 1..25 {
        let resp = post(
            &app,
            &format!("SMF{i}"),
            from,
            BILASPUR,
            &format!("Aur suno {i}"),
            true,
        )
        .await;
        assert_eq!(resp.status(), 200);
        answers.push(resp.text().await.unwrap());
    }
    // 19 ordinary answers, one notice, then silence (an empty TwiML response).
    assert!(answers[..19].iter().all(|a| a.contains(&number.display())));
    assert!(answers[19].contains("ghante"), "{}", answers[19]);
    assert!(
        answers[20..].iter().all(|a| a.ends_with("<Response/>")),
        "{:?}",
        &answers[20..]
    );
    let tip_id = app
        .core
        .store
        .tip_auth(number.as_str())
        .await
        .unwrap()
        .unwrap()
        .tip_id;
    let record = app.core.store.tip(tip_id).await.unwrap().unwrap();
    assert!(record.flooded);
    let view = tipline::intake::tipster_view(&app.core, tip_id)
        .await
        .unwrap();
    assert_eq!(view.messages.len(), 24, "nothing dropped");
    assert_eq!(app.tip_count().await, 1);
    let asp = app
        .officer(
            "asp.flood",
            Role::DistrictSupervisor,
            Some("bilaspur"),
            None,
        )
        .await;
    assert!(
        asp.tip_page(number.as_str())
            .await
            .contains("id=\"flooded\"")
    );
    // An hour later the sender is answered again.
    app.clock.advance(3_600_001);
    let later = answer(post(&app, "SMF99", from, BILASPUR, "Aaj phir", true).await).await;
    assert!(later.contains(&number.display()), "{later}");
}

#[tokio::test]
async fn floods_are_kept_marked_and_not_answered_sqlite() {
    flood(
        app(Backend::Sqlite, "http://127.0.0.1:9".into())
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn floods_are_kept_marked_and_not_answered_postgres() {
    match app(Backend::Postgres, "http://127.0.0.1:9".into()).await {
        Some(app) => flood(app).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}

/// A small JPEG-shaped file whose EXIF segment holds `exif`.
fn jpeg(exif: &str) -> Vec<u8> {
    let segment = |marker: u8, body: &[u8]| {
        let len = body.len() + 2;
        let mut s = vec![0xFF, marker, (len >> 8) as u8, len as u8];
        s.extend_from_slice(body);
        s
    };
    let mut j = vec![0xFF, 0xD8];
    j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    j.extend(segment(0xE1, format!("Exif\0\0{exif}").as_bytes()));
    j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    j.extend_from_slice(&[0x12, 0x34, 0xFF, 0xD9]);
    j
}

/// Fakes of Meta's media endpoints and Telegram's getFile, serving JPEGs with a GPS canary, and
/// the send endpoints (accepting everything).
async fn fake_media() -> String {
    let photo = jpeg("GPS 21.9N 82.1E CANARY-MEDIA-GPS");
    let router = axum::Router::new()
        .route(
            "/{id}",
            axum::routing::get(
                |axum::extract::Path(id): axum::extract::Path<String>,
                 headers: axum::http::HeaderMap| async move {
                    assert_eq!(headers["authorization"], "Bearer graph-token");
                    let host = headers["host"].to_str().unwrap().to_owned();
                    axum::Json(serde_json::json!({"url": format!("http://{host}/files/{id}"), "mime_type": "image/jpeg"}))
                },
            ),
        )
        .route("/files/{id}", axum::routing::get({
            let photo = photo.clone();
            move |headers: axum::http::HeaderMap| {
                let photo = photo.clone();
                async move {
                    assert_eq!(headers["authorization"], "Bearer graph-token");
                    photo
                }
            }
        }))
        .route(
            "/bot123456:ABCdef/getFile",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"ok": true, "result": {"file_id": "x", "file_path": "photos/file_7.jpg"}}))
            }),
        )
        .route("/file/bot123456:ABCdef/photos/file_7.jpg", axum::routing::get(move || {
            let photo = photo.clone();
            async move { photo }
        }))
        .route("/{id}/messages", axum::routing::post(|| async { "{}" }))
        .route("/bot123456:ABCdef/sendMessage", axum::routing::post(|| async { "{\"ok\":true}" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn photos_from_channels(app: TestApp) {
    // A WhatsApp photo with a caption, and a Telegram photo without words.
    let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "metadata": {"display_phone_number": MUNGELI, "phone_number_id": "106540352242922"},
        "messages": [{"from": "919812300001", "id": "wamid.PHOTO1", "timestamp": "1", "type": "image",
            "image": {"caption": "Yahi gaadi roz raat ko sharab laati hai", "mime_type": "image/jpeg", "sha256": "x", "id": "9988776655"}}]}}]}]})
    .to_string();
    assert_eq!(post_meta(&app, &body, APP_SECRET).await.status(), 200);
    let update = serde_json::json!({"update_id": 77, "message": {"message_id": 1, "chat": {"id": 4242, "type": "private"},
        "date": 1, "photo": [{"file_id": "small", "width": 90, "height": 90}, {"file_id": "large", "width": 1280, "height": 960}]}})
    .to_string();
    assert_eq!(
        post_update(&app, "korba", &update, BOT_SECRET)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.tip_count().await,
        2,
        "a photo without words still opens a tip"
    );

    let client = tipline::alerts::send::client().unwrap();
    assert_eq!(
        tipline::channels::media::fetch_due(&app.core, &client)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        tipline::channels::media::fetch_due(&app.core, &client)
            .await
            .unwrap(),
        0,
        "fetched once"
    );
    // Each tip has its photo, cleaned, for the officer of its district.
    for (district, login) in [("mungeli", "asp.mungeli"), ("korba", "asp.korba")] {
        let asp = app
            .officer(login, Role::DistrictSupervisor, Some(district), None)
            .await;
        let queue = asp.get("/console/").await.text().await.unwrap();
        let number = common::between(&queue, "/console/tips/", "\"");
        let page = asp.tip_page(&number).await;
        let href = common::between(&page, "<ul id=\"photos\"><li><a href=\"", "\"");
        let seen = asp.get(&href).await.bytes().await.unwrap();
        assert!(seen.starts_with(&[0xFF, 0xD8]));
        assert!(!String::from_utf8_lossy(&seen).contains("CANARY-MEDIA-GPS"));
    }
}

async fn media_app(backend: Backend, api: String) -> Option<TestApp> {
    TestApp::spawn_with(backend, |core| {
        core.channels = Channels {
            twilio: None,
            meta: Some(tipline::channels::config::Meta {
                app_secret: SecretString::from(APP_SECRET),
                verify_token: SecretString::from(VERIFY_TOKEN),
                access_token: SecretString::from("graph-token"),
                graph_url: api.clone(),
            }),
            telegram: vec![tipline::channels::config::Bot {
                name: "korba".into(),
                district: tipline::jurisdiction::DistrictId::parse("korba"),
                token: SecretString::from("123456:ABCdef"),
                secret_token: SecretString::from(BOT_SECRET),
                api_url: api,
            }],
            messenger: None,
            x: None,
            exotel: None,
            templates: Default::default(),
        };
    })
    .await
}

#[tokio::test]
async fn photos_from_channels_are_fetched_and_cleaned_sqlite() {
    let api = fake_media().await;
    photos_from_channels(media_app(Backend::Sqlite, api).await.unwrap()).await;
}

#[tokio::test]
async fn photos_from_channels_are_fetched_and_cleaned_postgres() {
    let api = fake_media().await;
    match media_app(Backend::Postgres, api).await {
        Some(app) => photos_from_channels(app).await,
        None => eprintln!("skipped: TIPLINE_TEST_POSTGRES_URL is not set"),
    }
}
