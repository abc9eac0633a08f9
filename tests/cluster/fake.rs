//! A fake Twilio Messages API shared by the nodes. Each node's `api_url` ends in its own prefix
//! (`/a`, `/b`), so the fake knows which node sent a message. One node's requests can be held:
//! never answered until released, then answered 503; a held message never counts as delivered.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use tokio::sync::watch;

/// One SMS as the gateway saw it.
#[derive(Clone, Debug)]
pub struct Sms {
    /// The node whose `api_url` it came through.
    pub node: String,
    pub to: String,
    pub body: String,
}

impl Sms {
    /// The tip number the body names (its first run of ten digits).
    pub fn tip_number(&self) -> String {
        let bytes = self.body.as_bytes();
        (0..bytes.len().saturating_sub(9))
            .find(|&i| {
                bytes[i..i + 10].iter().all(u8::is_ascii_digit)
                    && (i == 0 || !bytes[i - 1].is_ascii_digit())
            })
            .map(|i| self.body[i..i + 10].to_owned())
            .unwrap_or_default()
    }

    /// `urgent` for a new urgent tip, `late` for an escalation.
    pub fn kind(&self) -> &'static str {
        if self.body.contains(" late ") {
            "late"
        } else {
            "urgent"
        }
    }
}

#[derive(Default)]
struct Seen {
    delivered: Vec<Sms>,
    held: Vec<Sms>,
}

/// The running fake.
#[derive(Clone)]
pub struct Fake {
    seen: Arc<Mutex<Seen>>,
    /// The node whose requests are held, if any.
    hold: Arc<watch::Sender<Option<String>>>,
    /// `http://HOST:PORT`.
    pub base: String,
}

impl Fake {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Self {
            seen: Arc::default(),
            hold: Arc::new(watch::channel(None).0),
            base: format!("http://{}", listener.local_addr().unwrap()),
        };
        let router = axum::Router::new()
            .route(
                "/{node}/2010-04-01/Accounts/{sid}/Messages.json",
                axum::routing::post(messages),
            )
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        fake
    }

    /// Holds every request from `node` from now on.
    pub fn hold(&self, node: &str) {
        self.hold.send_replace(Some(node.to_owned()));
    }

    /// Answers the held requests (503) and holds no more.
    pub fn release(&self) {
        self.hold.send_replace(None);
    }

    pub fn delivered(&self) -> Vec<Sms> {
        self.seen.lock().unwrap().delivered.clone()
    }

    pub fn held(&self) -> Vec<Sms> {
        self.seen.lock().unwrap().held.clone()
    }
}

async fn messages(
    State(fake): State<Fake>,
    Path((node, sid)): Path<(String, String)>,
    body: Bytes,
) -> (StatusCode, &'static str) {
    if sid != "AC123" {
        return (StatusCode::NOT_FOUND, "no such account");
    }
    let form = parse_form(&body);
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let sms = Sms {
        node: node.clone(),
        to: field("To"),
        body: field("Body"),
    };
    let mut hold = fake.hold.subscribe();
    if hold.borrow_and_update().as_deref() == Some(node.as_str()) {
        fake.seen.lock().unwrap().held.push(sms);
        let _ = hold.wait_for(|h| h.as_deref() != Some(node.as_str())).await;
        return (StatusCode::SERVICE_UNAVAILABLE, "held, then refused");
    }
    fake.seen.lock().unwrap().delivered.push(sms);
    (StatusCode::CREATED, r#"{"sid":"SM123","status":"queued"}"#)
}

/// `application/x-www-form-urlencoded` pairs.
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}
