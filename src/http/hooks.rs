//! Provider webhooks. Today: `POST /hooks/twilio/alerts`, where Twilio delivers the duty
//! officers' replies to SMS and WhatsApp alerts (see `alerts::inbound`).
//!
//! Must never: parse a request further than the form its signature covers before the signature
//! verifies; store or log anything of a request that fails (401, empty body); log the sender's
//! number or the message.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use super::AppState;
use crate::alerts::inbound::{self, Form};

/// Twilio's Messaging webhook for replies to alerts: answers with TwiML.
pub async fn twilio_alert_reply(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let core = &state.core;
    let Some(sms) = &core.alerts.sms else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (Some(form), Some(signature)) = (
        Form::parse(&body),
        headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok()),
    ) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // The URL Twilio was given: the configured public address (never a forwarded header),
    // with the path and query string as requested.
    let url = format!(
        "{}{}",
        core.public_url.trim_end_matches('/'),
        uri.path_and_query().map_or(uri.path(), |p| p.as_str())
    );
    if !inbound::twilio_verify(sms.auth_token.expose_secret(), &url, &form, signature) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let from = form.get("From").unwrap_or_default();
    let text = form.get("Body").unwrap_or_default();
    match inbound::acknowledge_by_reply(core, from, text).await {
        Ok(outcome) => {
            tracing::info!(outcome = outcome.name(), "reply to an alert");
            twiml(&outcome.text())
        }
        Err(e) => {
            // Twilio does not retry by default; the officer is told to use the console.
            tracing::warn!(error = %e, "reply to an alert failed");
            twiml("अभी संभव नहीं, कंसोल खोलें। Not possible now; open the console.")
        }
    }
}

/// `<Response><Message>text</Message></Response>`.
fn twiml(text: &str) -> Response {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{escaped}</Message></Response>"
        ),
    )
        .into_response()
}
