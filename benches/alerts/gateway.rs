//! The fake SMS gateway of the benchmark: speaks the Twilio Messages API
//! (`POST /2010-04-01/Accounts/{sid}/Messages.json`, a form with `To`, `From`, `Body`) and
//! records, per tip number named in the body, when its first message arrived and how many did.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;

/// Arrivals by tip number: (first arrival, messages).
pub type Arrivals = Arc<Mutex<HashMap<String, (Instant, u32)>>>;

/// Starts the gateway on the current runtime; returns its base URL and the arrivals it records.
pub async fn start() -> anyhow::Result<(String, Arrivals)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let arrivals = Arrivals::default();
    let router = axum::Router::new()
        .route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            axum::routing::post(message),
        )
        .with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((base, arrivals))
}

async fn message(State(arrivals): State<Arrivals>, body: Bytes) -> (StatusCode, &'static str) {
    let at = Instant::now();
    let Some(number) = tip_number(&form_body(&body)) else {
        return (StatusCode::BAD_REQUEST, "no tip number in Body");
    };
    let mut seen = arrivals.lock().unwrap_or_else(|e| e.into_inner());
    seen.entry(number).or_insert((at, 0)).1 += 1;
    (StatusCode::CREATED, r#"{"sid":"SM123","status":"queued"}"#)
}

/// The `Body` field of a urlencoded form.
fn form_body(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "Body")
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default()
}

/// The first run of exactly ten ASCII digits: the tip number.
fn tip_number(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    (0..b.len().saturating_sub(9))
        .find(|&i| (i == 0 || !digit(i - 1)) && (i..i + 10).all(digit) && !digit(i + 10))
        .map(|i| text[i..i + 10].to_owned())
}
