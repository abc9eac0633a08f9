//! `tipline simulate`: sends realistic, correctly signed traffic for each configured provider to
//! a running server (Twilio SMS, and WhatsApp with a photo; Meta WhatsApp with a shared location;
//! Messenger; X; each Telegram bot; an Exotel call that leaves a recorded message), so that a
//! newcomer can watch tips arrive in the console. It signs with the secrets of the same config
//! file and over the configured `public_url` (what the providers would sign), and sends to `--url`.
//!
//! A provider's file is fetched by the server from the provider, never taken from the webhook:
//! with `--serve-media`, `simulate` itself answers as Twilio's media API at the configured
//! `channels.twilio.api_url` (a loopback address, for a trial without a Twilio account), so the
//! photo is fetched, cleaned and deleted as a real one would be.

use std::fmt::Write as _;

use anyhow::Context;
use secrecy::ExposeSecret;

use super::config::Channels;
use super::twilio::{Form, twilio_signature};
use crate::crypto::{encode_hex, hmac_sha256, random_digits};
use crate::jurisdiction::Jurisdiction;

/// What the simulated tipsters write.
const TEXTS: [&str; 4] = [
    "Sarkanda thana ke peeche roz shaam ganja bikta hai, do ladke laal bike par aate hain",
    "हमारे गाँव में रोज़ रात को कच्ची शराब बनती है, नदी किनारे भट्ठी लगी है",
    "Bus stand ke paas satta chal raha hai, roz shaam 6 baje se",
    "Someone called posing as a bank officer and took 40,000 rupees from my father's account just now",
];

/// The caption of the simulated WhatsApp photo.
const PHOTO_CAPTION: &str = "Yeh us jagah ki photo hai, bhatti ke paas";

/// A small real JPEG (200x120, no metadata of its own).
const PHOTO: &[u8] = include_bytes!("simulate-photo.jpg");

/// One line of the report per message sent.
pub struct Sent {
    /// Which provider and channel.
    pub what: String,
    /// The HTTP status the server answered.
    pub status: u16,
    /// The answer, where the provider gets it in the response (Twilio).
    pub answer: Option<String>,
}

/// Sends one message per configured provider. `public_url` is what the signatures cover;
/// `base` is where the requests go.
/// Binds the address of `channels.twilio.api_url` for `--serve-media`: only an http loopback
/// address with a port (this is for a trial on one machine, never in front of Twilio's real API).
pub async fn media_listener(channels: &Channels) -> anyhow::Result<tokio::net::TcpListener> {
    let twilio = channels
        .twilio
        .as_ref()
        .context("--serve-media needs [channels.twilio] in the config file")?;
    let url = reqwest::Url::parse(&twilio.api_url).context("channels.twilio.api_url")?;
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let port = url
        .port_or_known_default()
        .filter(|_| url.scheme() == "http" && loopback);
    let Some(port) = port else {
        anyhow::bail!(
            "--serve-media answers as Twilio's API at channels.twilio.api_url, which must then be \
             http://127.0.0.1:PORT (it is {})",
            twilio.api_url
        );
    };
    tokio::net::TcpListener::bind((host, port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port} for --serve-media"))
}

/// `media`, if given, is where Twilio's message media API is served for the simulated photo (the
/// address of `channels.twilio.api_url`); without it the photo's URL points at the configured
/// Twilio API, which does not have it, and the server gives the photo up after its retries.
pub async fn run(
    channels: &Channels,
    jurisdiction: &Jurisdiction,
    public_url: &str,
    base: &str,
    media: Option<tokio::net::TcpListener>,
) -> anyhow::Result<Vec<Sent>> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let public_url = public_url.trim_end_matches('/');
    let base = base.trim_end_matches('/');
    let hotline = |i: usize| {
        jurisdiction
            .districts
            .get(i % jurisdiction.districts.len().max(1))
            .and_then(|d| d.hotlines.first())
            .map_or_else(|| "+910000000000".to_owned(), |h| h.e164.clone())
    };
    let sender = || -> anyhow::Result<String> { Ok(format!("+9199{}", random_digits(8)?)) };
    let mut out = Vec::new();
    let mut photo_server = None;
    if let Some(t) = &channels.twilio {
        // An SMS from one tipster; a WhatsApp text from another, then a photo from the same one
        // (it joins the tip).
        let whatsapp_from = format!("whatsapp:{}", sender()?);
        let message_sid = format!("MM{}", random_digits(32)?);
        let photo_url = format!(
            "{}/2010-04-01/Accounts/{}/Messages/{message_sid}/Media/ME{}",
            t.api_url.trim_end_matches('/'),
            t.account_sid,
            random_digits(32)?
        );
        if let Some(listener) = media {
            photo_server = Some(serve_photo(listener, t, &photo_url)?);
        }
        let messages = [
            ("Twilio SMS", sender()?, hotline(0), TEXTS[0], None),
            (
                "Twilio WhatsApp",
                whatsapp_from.clone(),
                format!("whatsapp:{}", hotline(1)),
                TEXTS[1],
                None,
            ),
            (
                "Twilio WhatsApp photo",
                whatsapp_from,
                format!("whatsapp:{}", hotline(1)),
                PHOTO_CAPTION,
                Some(photo_url.as_str()),
            ),
        ];
        for (what, from, to, body, photo) in messages {
            let sid = match photo {
                Some(_) => message_sid.clone(),
                None => format!("SM{}", random_digits(32)?),
            };
            let mut fields = vec![
                ("AccountSid", t.account_sid.clone()),
                ("ApiVersion", "2010-04-01".to_owned()),
                ("Body", body.to_owned()),
                ("From", from),
                ("MessageSid", sid),
                ("NumMedia", usize::from(photo.is_some()).to_string()),
                ("To", to),
            ];
            if let Some(url) = photo {
                fields.push(("MediaContentType0", "image/jpeg".to_owned()));
                fields.push(("MediaUrl0", url.to_owned()));
            }
            out.push(twilio_message(&client, t, public_url, base, what, &fields).await?);
        }
    }
    if let Some(m) = &channels.meta {
        // A text, then the same tipster shares where it happens (it joins the tip).
        let from = sender()?.trim_start_matches('+').to_owned();
        let location = serde_json::json!({"latitude": 22.0797, "longitude": 82.1409,
            "name": "Bus stand", "address": "Old bus stand, Bilaspur"});
        for (what, kind, content) in [
            (
                "Meta WhatsApp",
                "text",
                serde_json::json!({"body": TEXTS[2]}),
            ),
            ("Meta WhatsApp location", "location", location),
        ] {
            let mut message = serde_json::json!({"from": from, "id": format!("wamid.SIM{}", random_digits(20)?),
                "timestamp": "1764400000", "type": kind});
            message[kind] = content;
            let body = serde_json::json!({
                "object": "whatsapp_business_account",
                "entry": [{"id": "0", "changes": [{"field": "messages", "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": hotline(2).trim_start_matches('+'), "phone_number_id": "100000000000001"},
                    "contacts": [{"profile": {"name": "simulated"}, "wa_id": from}],
                    "messages": [message]
                }}]}]
            })
            .to_string();
            let signature = encode_hex(&hmac_sha256(
                m.app_secret.expose_secret().as_bytes(),
                body.as_bytes(),
            ));
            let resp = client
                .post(format!("{base}/hooks/meta/whatsapp"))
                .header("content-type", "application/json")
                .header("x-hub-signature-256", format!("sha256={signature}"))
                .body(body)
                .send()
                .await
                .context("Meta WhatsApp: cannot reach the server")?;
            out.push(Sent {
                what: what.into(),
                status: resp.status().as_u16(),
                answer: None,
            });
        }
    }
    if let Some(m) = &channels.messenger {
        let page = m.pages.first().map_or("0", |p| p.id.as_str());
        let body =
            serde_json::json!({"object": "page", "entry": [{"id": page, "time": 1764400000000_i64,
            "messaging": [{"sender": {"id": random_digits(16)?}, "recipient": {"id": page},
                "timestamp": 1764400000000_i64,
                "message": {"mid": format!("m_SIM{}", random_digits(20)?), "text": TEXTS[1]}}]}]})
            .to_string();
        let signature = encode_hex(&hmac_sha256(
            m.app_secret.expose_secret().as_bytes(),
            body.as_bytes(),
        ));
        let resp = client
            .post(format!("{base}/hooks/meta/messenger"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", format!("sha256={signature}"))
            .body(body)
            .send()
            .await
            .context("Messenger: cannot reach the server")?;
        out.push(Sent {
            what: "Messenger".into(),
            status: resp.status().as_u16(),
            answer: None,
        });
    }
    if let Some(x) = &channels.x {
        let account = x.accounts.first().map_or("0", |a| a.id.as_str());
        let body = serde_json::json!({"for_user_id": account, "direct_message_events": [
            {"type": "message_create", "id": random_digits(18)?, "created_timestamp": "1764400000000",
             "message_create": {"target": {"recipient_id": account}, "sender_id": random_digits(10)?,
                "message_data": {"text": TEXTS[0]}}}]})
        .to_string();
        let resp = client
            .post(format!("{base}/hooks/x"))
            .header("content-type", "application/json")
            .header(
                "x-twitter-webhooks-signature",
                super::x::sign(x.consumer_secret.expose_secret(), body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .context("X: cannot reach the server")?;
        out.push(Sent {
            what: "X direct message".into(),
            status: resp.status().as_u16(),
            answer: None,
        });
    }
    for bot in &channels.telegram {
        let chat: i64 = random_digits(9)?.parse().unwrap_or(1);
        let update: i64 = random_digits(9)?.parse().unwrap_or(1);
        let body = serde_json::json!({"update_id": update, "message": {"message_id": 1,
            "from": {"id": chat, "is_bot": false, "first_name": "sim"},
            "chat": {"id": chat, "type": "private"}, "date": 1764400000, "text": TEXTS[3]}})
        .to_string();
        let resp = client
            .post(format!("{base}/hooks/telegram/{}", bot.name))
            .header("content-type", "application/json")
            .header(
                "x-telegram-bot-api-secret-token",
                bot.secret_token.expose_secret(),
            )
            .body(body)
            .send()
            .await
            .context("Telegram: cannot reach the server")?;
        out.push(Sent {
            what: format!("Telegram bot {}", bot.name),
            status: resp.status().as_u16(),
            answer: None,
        });
    }
    if let Some(e) = &channels.exotel {
        out.push(exotel_call(&client, e, &hotline(4), base).await?);
    }
    if let Some(server) = photo_server {
        out.push(server.outcome().await);
    }
    Ok(out)
}

/// One Twilio Messaging webhook, signed as Twilio signs it, and the TwiML answer's message.
async fn twilio_message(
    client: &reqwest::Client,
    t: &super::config::Twilio,
    public_url: &str,
    base: &str,
    what: &str,
    fields: &[(&str, String)],
) -> anyhow::Result<Sent> {
    let mut raw = String::new();
    for (k, v) in fields {
        let sep = if raw.is_empty() { "" } else { "&" };
        let v = percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC);
        let _ = write!(raw, "{sep}{k}={v}");
    }
    let form = Form::parse(raw.as_bytes()).context("form")?;
    let path = "/hooks/twilio/messages";
    let signature = twilio_signature(
        t.auth_token.expose_secret(),
        &format!("{public_url}{path}"),
        &form,
    );
    let resp = client
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature)
        .body(raw)
        .send()
        .await
        .with_context(|| format!("{what}: cannot reach {base}"))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    let answer = body
        .split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map(|(m, _)| xml_unescape(m));
    Ok(Sent {
        what: what.to_owned(),
        status,
        answer,
    })
}

/// TwiML text as the tipster's phone shows it (the five XML escapes undone, `&amp;` last).
fn xml_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The photo the simulated WhatsApp tipster sends: a real JPEG with an APP1 segment put in
/// front that stands for a phone camera's EXIF (with a position), which the officers' copy must
/// not have.
fn simulated_photo() -> Vec<u8> {
    let exif = b"Exif\0\0GPS 22.0797N 82.1409E (simulated camera position)";
    let len = exif.len() + 2;
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE1];
    photo.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
    photo.extend_from_slice(exif);
    photo.extend_from_slice(PHOTO.get(2..).unwrap_or_default());
    photo
}

/// Twilio's message media API for the one simulated photo, served by `simulate` itself at the
/// configured `api_url` (`--serve-media`): `GET` with the account's Basic auth answers the photo,
/// `DELETE ….json` answers 204, anything else 404. It records what the server did.
struct PhotoServer {
    seen: tokio::sync::watch::Receiver<(bool, bool)>,
}

fn serve_photo(
    listener: tokio::net::TcpListener,
    t: &super::config::Twilio,
    photo_url: &str,
) -> anyhow::Result<PhotoServer> {
    let path = reqwest::Url::parse(photo_url)
        .context("channels.twilio.api_url is not a URL")?
        .path()
        .to_owned();
    let auth = format!(
        "Basic {}",
        crate::crypto::encode_base64(
            format!("{}:{}", t.account_sid, t.auth_token.expose_secret()).as_bytes()
        )
    );
    let (tell, seen) = tokio::sync::watch::channel((false, false));
    let tell = std::sync::Arc::new(tell);
    let photo = simulated_photo();
    let app = axum::Router::new().fallback(
        move |method: axum::http::Method, uri: axum::http::Uri, headers: axum::http::HeaderMap| {
            let (path, auth, tell, photo) =
                (path.clone(), auth.clone(), tell.clone(), photo.clone());
            async move {
                use axum::http::StatusCode;
                use axum::response::IntoResponse;
                let authorized = headers
                    .get("authorization")
                    .is_some_and(|h| h.as_bytes() == auth.as_bytes());
                if !authorized {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                if method == axum::http::Method::GET && uri.path() == path {
                    tell.send_modify(|s| s.0 = true);
                    ([("content-type", "image/jpeg")], photo).into_response()
                } else if method == axum::http::Method::DELETE
                    && uri.path() == format!("{path}.json")
                {
                    tell.send_modify(|s| s.1 = true);
                    StatusCode::NO_CONTENT.into_response()
                } else {
                    StatusCode::NOT_FOUND.into_response()
                }
            }
        },
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(PhotoServer { seen })
}

impl PhotoServer {
    /// Waits (30 s at most) for the server to fetch the photo and delete it, as its background
    /// job does within seconds of the message.
    async fn outcome(mut self) -> Sent {
        let done = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            self.seen.wait_for(|&(fetched, deleted)| fetched && deleted),
        )
        .await
        .is_ok_and(|seen| seen.is_ok());
        let fetched = self.seen.borrow().0;
        let (status, answer) = if done {
            (200, "the server fetched the photo, then deleted it here")
        } else if fetched {
            (
                504,
                "the server fetched the photo but did not delete it within 30 s",
            )
        } else {
            (504, "the server did not fetch the photo within 30 s")
        };
        Sent {
            what: "Twilio media (served here)".into(),
            status,
            answer: Some(answer.into()),
        }
    }
}

/// One Exotel call through the flow as Exotel walks it: the menu, key 2 (not 1, not 3), the
/// recording prompt, the Voicemail's Passthru, and the receipt read back. The recording's URL is
/// on the first configured origin; the server's fetch of it fails unless Exotel has it.
async fn exotel_call(
    client: &reqwest::Client,
    e: &super::config::Exotel,
    hotline: &str,
    base: &str,
) -> anyhow::Result<Sent> {
    let call_sid = random_digits(32)?;
    let caller = format!("099{}", random_digits(8)?);
    let exophone = format!("0{}", hotline.trim_start_matches("+91"));
    let origin = e.recording_origins.first().map_or("", String::as_str);
    let recording = format!("{origin}/exotelrecordings/{}/{call_sid}.mp3", e.account_sid);
    let hook = format!("{base}/hooks/exotel/{}", e.token.expose_secret());
    let (mut stored, mut receipt) = (0, None);
    for (step, extra) in [
        ("gather/menu", Vec::new()),
        ("passthru/key-1", vec![("digits", "\"2\"")]),
        ("passthru/key-3", vec![("digits", "\"2\"")]),
        ("greeting/record", Vec::new()),
        (
            "passthru/recorded",
            vec![
                ("CallType", "voicemail"),
                ("RecordingUrl", recording.as_str()),
            ],
        ),
        ("greeting/receipt", Vec::new()),
    ] {
        let mut query = vec![
            ("CallSid", call_sid.as_str()),
            ("CallFrom", caller.as_str()),
            ("CallTo", exophone.as_str()),
            ("Direction", "incoming"),
        ];
        query.extend(extra);
        let resp = client
            .get(format!("{hook}/{step}"))
            .header("exotel-version", "1.0")
            .query(&query)
            .send()
            .await
            .context("Exotel: cannot reach the server")?;
        match step {
            "passthru/recorded" => stored = resp.status().as_u16(),
            "greeting/receipt" => receipt = resp.text().await.ok(),
            _ => {}
        }
    }
    Ok(Sent {
        what: "Exotel call (recorded message)".into(),
        status: stored,
        answer: receipt,
    })
}
