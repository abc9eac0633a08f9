//! Provider webhooks: `POST /hooks/twilio/messages`, where Twilio delivers SMS and WhatsApp
//! messages to the districts' numbers (see `channels`); `/hooks/twilio/voice/...` and
//! `GET /hooks/exotel/{token}/...`, the voice line; `GET` and `POST /hooks/meta/whatsapp`,
//! Meta's WhatsApp Cloud API handshake and notifications; `POST /hooks/twilio/alerts`, where it
//! delivers the duty officers' replies to alerts (see `alerts::reply`); and the providers'
//! delivery reports (`POST /hooks/twilio/status`, the `statuses` of Meta's WhatsApp notifications,
//! Messenger's deliveries and reads; see `alerts::delivery`).
//!
//! Must never: parse a request further than the form its signature covers before the signature
//! verifies; store or log anything of a request that fails (401, empty body); log the sender's
//! number or the message.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use super::AppState;
use crate::alerts::delivery::{self, Reported};
use crate::alerts::reply;
use crate::channels::twilio::{Form, twilio_verify};
use crate::channels::{self, InboundMessage, Location, Provider, messenger, meta, telegram, x};
use crate::domain::Channel;

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
    let Some(form) = signed_form(
        &state,
        &uri,
        &headers,
        &body,
        sms.auth_token.expose_secret(),
    ) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let from = form.get("From").unwrap_or_default();
    let text = form.get("Body").unwrap_or_default();
    match reply::acknowledge_by_reply(core, from, text).await {
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

/// The form of a request that Twilio signed with `token`; `None` for anything else.
fn signed_form(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    token: &str,
) -> Option<Form> {
    let signature = header_of(headers, "x-twilio-signature")?;
    let form = Form::parse(body)?;
    // The URL Twilio was given: the configured public address (never a forwarded header),
    // with the path and query string as requested.
    let url = format!(
        "{}{}",
        state.core.public_url.trim_end_matches('/'),
        uri.path_and_query().map_or(uri.path(), |p| p.as_str())
    );
    twilio_verify(token, &url, &form, signature).then_some(form)
}

/// Twilio's Messaging webhook for the districts' numbers: a tip opened or joined, or a status
/// answered, with the answer as TwiML. A bad signature: 401, nothing stored or logged.
pub async fn twilio_message(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let core = &state.core;
    let Some(twilio) = &core.channels.twilio else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(form) = signed_form(
        &state,
        &uri,
        &headers,
        &body,
        twilio.auth_token.expose_secret(),
    ) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
    if field("AccountSid") != twilio.account_sid {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let from = field("From");
    let provider_id = field("MessageSid");
    if from.is_empty() || provider_id.is_empty() {
        return (StatusCode::BAD_REQUEST, "From and MessageSid are required").into_response();
    }
    let to = field("To");
    let message = InboundMessage {
        provider: Provider::Twilio,
        channel: if from.starts_with("whatsapp:") {
            Channel::WhatsApp
        } else {
            Channel::Sms
        },
        district: channels::district_of_number(core, to.strip_prefix("whatsapp:").unwrap_or(&to)),
        via: to.clone(),
        from,
        text: field("Body"),
        provider_id,
        media: form.media(),
        location: Location::parse_text(
            form.get("Latitude").unwrap_or_default(),
            form.get("Longitude").unwrap_or_default(),
            &[form.get("Label"), form.get("Address")]
                .into_iter()
                .flatten()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    };
    match channels::receive(core, &message).await {
        Ok(handled) => {
            tracing::info!(
                channel = message.channel.as_str(),
                outcome = handled.name(),
                "message in"
            );
            twiml(handled.answer())
        }
        Err(e) => {
            // A 5xx makes Twilio try again (with the same MessageSid, so nothing is stored twice).
            tracing::warn!(channel = message.channel.as_str(), error = %e, "message not stored");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Twilio's voice webhook for the districts' numbers: the IVR's greeting.
pub async fn twilio_voice_start(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    twilio_voice(&state, &uri, &headers, &body, "").await
}

/// The IVR's later steps (`menu`, `dialed`, `screen` and `screened` for the officer's leg,
/// `recorded`, `status`).
pub async fn twilio_voice_step(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Path(step): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    twilio_voice(&state, &uri, &headers, &body, &step).await
}

/// One IVR step: the signature and account checked, then TwiML. A failure to store a recorded
/// message is a 5xx (Twilio's fallback URL, if set, takes over); nothing of the call is logged.
async fn twilio_voice(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
    step: &str,
) -> Response {
    use crate::channels::voice::{self, Call, Lang};
    let core = &state.core;
    let Some(twilio) = &core.channels.twilio else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(form) = signed_form(state, uri, headers, body, twilio.auth_token.expose_secret())
    else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let field = |name: &str| form.get(name).unwrap_or_default().to_owned();
    if field("AccountSid") != twilio.account_sid {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let lang = Lang::parse(
        uri.query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang="))),
    );
    let base = &core.public_url;
    let call = Call {
        call_sid: field("CallSid"),
        from: field("From"),
        district: channels::district_of_number(core, &field("To")),
        to: field("To"),
    };
    if !voice::valid_sid(&call.call_sid, "CA") || call.from.is_empty() || call.to.is_empty() {
        return (StatusCode::BAD_REQUEST, "CallSid, From and To are required").into_response();
    }
    let answer = match step {
        "" => Ok(voice::greeting(base, lang)),
        "menu" => voice::menu(core, base, lang, &field("Digits"), &call.to).await,
        "dialed" => Ok(voice::dialed(base, lang, &field("DialCallStatus"))),
        "screen" => Ok(voice::screen(base, lang)),
        "screened" => Ok(voice::screened(&field("Digits"))),
        "recorded" => {
            let seconds = field("RecordingDuration").parse().unwrap_or(0);
            voice::recorded(core, lang, &call, &field("RecordingSid"), seconds).await
        }
        "status" => voice::status(core, lang, &field("Digits")).await,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match answer {
        Ok(xml) => ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response(),
        Err(e) => {
            tracing::warn!(channel = "voice", step, error = %e, "voice step failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// Exotel's call-flow applets, `GET /hooks/exotel/{token}/{applet}/{step}` with the call in the
/// query string (see `channels::exotel` for the flow). A wrong token: 401, nothing stored or
/// logged; a malformed query: 400, nothing stored.
pub async fn exotel_step(
    State(state): State<AppState>,
    Path((token, applet, step)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    use crate::channels::exotel::{self, Answer, Request};
    let core = &state.core;
    let Some(exotel) = &core.channels.exotel else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !exotel::token_matches(exotel, &token) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let request = match Request::parse(core, exotel, query.as_deref().unwrap_or_default()) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    match exotel::step(core, exotel, &applet, &step, &request).await {
        Ok(Answer::Json(v)) => axum::Json(v).into_response(),
        Ok(Answer::Text(text)) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
        }
        // Passthru: 200 takes the applet's first branch, 302 the second.
        Ok(Answer::Branch(true)) => StatusCode::OK.into_response(),
        Ok(Answer::Branch(false)) => StatusCode::FOUND.into_response(),
        Ok(Answer::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::warn!(channel = "voice", provider = "exotel", error = %e, "Exotel step failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The query of Meta's subscription handshake.
#[derive(serde::Deserialize)]
pub struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's subscription handshake: the challenge echoed when the token matches, else 403.
pub async fn meta_handshake(
    State(state): State<AppState>,
    query: Result<Query<Handshake>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match &state.core.channels.meta {
        Some(meta) => handshake(meta.verify_token.expose_secret(), query),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The same handshake for Messenger.
pub async fn messenger_handshake(
    State(state): State<AppState>,
    query: Result<Query<Handshake>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match &state.core.channels.messenger {
        Some(m) => handshake(m.verify_token.expose_secret(), query),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn handshake(
    verify_token: &str,
    query: Result<Query<Handshake>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(h)) = query else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let token_ok = h
        .verify_token
        .as_deref()
        .is_some_and(|t| crate::crypto::ct_eq(t.as_bytes(), verify_token.as_bytes()));
    match (h.mode.as_deref(), h.challenge) {
        (Some("subscribe"), Some(challenge)) if token_ok && challenge.len() <= 256 => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge,
        )
            .into_response(),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

/// Stores each message of a verified notification; 200 once all are stored (the provider sends
/// the whole notification again otherwise, and what was stored is found then).
async fn receive_all(state: &AppState, channel: &str, messages: Vec<InboundMessage>) -> Response {
    for message in messages {
        match channels::receive(&state.core, &message).await {
            Ok(handled) => {
                tracing::info!(channel, outcome = handled.name(), "message in");
            }
            Err(e) => {
                tracing::warn!(channel, error = %e, "message not stored");
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    StatusCode::OK.into_response()
}

/// Messenger notifications for the districts' pages. A bad signature: 401, nothing stored.
pub async fn messenger_notification(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(m) = &state.core.channels.messenger else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let signed = header_of(&headers, "x-hub-signature-256")
        .is_some_and(|h| meta::verify(m.app_secret.expose_secret(), &body, h));
    if !signed {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(n) = messenger::Notification::parse(&body) else {
        return (StatusCode::BAD_REQUEST, "not a page notification").into_response();
    };
    if let Err(e) = messenger_receipts(&state, &body).await {
        tracing::warn!(channel = "messenger", error = %e, "delivery report not stored");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let messages = n.messages(|page| account_district(&m.pages, page));
    receive_all(&state, "messenger", messages).await
}

/// Records Messenger's delivery and read reports: the messages named, and every message to the
/// person before the watermark.
async fn messenger_receipts(state: &AppState, body: &[u8]) -> Result<(), crate::store::StoreError> {
    let core = &state.core;
    for receipt in messenger::deliveries(body) {
        let reported = match receipt.read {
            true => Reported::Read,
            false => Reported::Delivered,
        };
        for mid in &receipt.mids {
            delivery::record(core, "messenger", mid, reported, None).await?;
        }
        if let Some(watermark) = receipt.watermark {
            delivery::record_watermark(core, &receipt.page, &receipt.person, watermark, reported)
                .await?;
        }
    }
    Ok(())
}

/// Twilio's status callbacks for the messages it was handed (`StatusCallback`), signed like its
/// other webhooks by the account that sent them (the tipsters' `channels.twilio` or the alerts'
/// SMS account). A bad signature: 401, nothing stored; an unknown message: 200, nothing stored.
pub async fn twilio_status(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let core = &state.core;
    let accounts = [
        core.channels
            .twilio
            .as_ref()
            .map(|t| (&t.account_sid, &t.auth_token)),
        core.alerts
            .sms
            .as_ref()
            .map(|s| (&s.account_sid, &s.auth_token)),
    ];
    let accounts: Vec<_> = accounts.into_iter().flatten().collect();
    if accounts.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let signed = accounts.iter().find_map(|(sid, token)| {
        signed_form(&state, &uri, &headers, &body, token.expose_secret())
            .filter(|form| form.get("AccountSid") == Some(sid.as_str()))
    });
    let Some(form) = signed else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let (Some(sid), Some(status)) = (form.get("MessageSid"), form.get("MessageStatus")) else {
        return (
            StatusCode::BAD_REQUEST,
            "MessageSid and MessageStatus are required",
        )
            .into_response();
    };
    let Some(reported) = Reported::from_twilio(status) else {
        return StatusCode::OK.into_response();
    };
    let error = form.get("ErrorCode").and_then(delivery::error_code);
    match delivery::record(core, "twilio", sid, reported, error).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => {
            // A 5xx makes Twilio try the callback again.
            tracing::warn!(channel = "twilio", error = %e, "delivery report not stored");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The query of X's challenge-response check.
#[derive(serde::Deserialize)]
pub struct Crc {
    crc_token: Option<String>,
}

/// X's challenge-response check: the token signed with the consumer secret.
pub async fn x_crc(
    State(state): State<AppState>,
    query: Result<Query<Crc>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(xc) = &state.core.channels.x else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match query {
        Ok(Query(Crc {
            crc_token: Some(token),
        })) if !token.is_empty() && token.len() <= 256 => {
            axum::Json(x::crc_response(xc.consumer_secret.expose_secret(), &token)).into_response()
        }
        _ => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// X account activity for the districts' accounts. A bad signature: 401, nothing stored.
pub async fn x_events(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(xc) = &state.core.channels.x else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let signed = header_of(&headers, "x-twitter-webhooks-signature")
        .is_some_and(|h| x::verify(xc.consumer_secret.expose_secret(), &body, h));
    if !signed {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(events) = x::Events::parse(&body) else {
        return (StatusCode::BAD_REQUEST, "not account activity").into_response();
    };
    let messages = events.messages(|account| account_district(&xc.accounts, account));
    receive_all(&state, "x", messages).await
}

/// Meta's WhatsApp notifications: each message opens or joins a tip (answers go through the
/// outbox); 200 once all are stored, so that Meta does not send them again. A bad signature:
/// 401, nothing stored or logged.
pub async fn meta_notification(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let core = &state.core;
    let Some(meta) = &core.channels.meta else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let signed = header_of(&headers, "x-hub-signature-256")
        .is_some_and(|h| meta::verify(meta.app_secret.expose_secret(), &body, h));
    if !signed {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(notification) = meta::Notification::parse(&body) else {
        return (StatusCode::BAD_REQUEST, "not a WhatsApp notification").into_response();
    };
    for status in meta::statuses(&body) {
        let Some(reported) = Reported::from_meta(&status.status) else {
            continue;
        };
        let error = status
            .error_code
            .and_then(|c| delivery::error_code(&c.to_string()));
        if let Err(e) = delivery::record(core, "meta", &status.id, reported, error).await {
            tracing::warn!(channel = "whatsapp", error = %e, "delivery report not stored");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let messages = notification.messages(|n| channels::district_of_number(core, n));
    receive_all(&state, "whatsapp", messages).await
}

/// A district's Telegram bot: the update's message opens or joins a tip (answers through the
/// outbox). A wrong secret token or an unknown bot: 401/404, nothing stored or logged.
pub async fn telegram_update(
    State(state): State<AppState>,
    Path(bot): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let core = &state.core;
    let Some(bot) = core.channels.telegram.iter().find(|b| b.name == bot) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let header = header_of(&headers, "x-telegram-bot-api-secret-token");
    if !telegram::verify(bot.secret_token.expose_secret(), header) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(update) = telegram::Update::parse(&body) else {
        return (StatusCode::BAD_REQUEST, "not a Telegram update").into_response();
    };
    let Some(message) = update.message(&bot.name, bot.district.clone()) else {
        return StatusCode::OK.into_response();
    };
    match channels::receive(core, &message).await {
        Ok(handled) => {
            tracing::info!(channel = "telegram", outcome = handled.name(), "message in");
            StatusCode::OK.into_response()
        }
        Err(e) => {
            // Telegram sends the update again; what was stored is found then.
            tracing::warn!(channel = "telegram", error = %e, "message not stored");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// A request header as text, if present and readable.
fn header_of<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The district of a configured page or account (none: the range's).
fn account_district(
    accounts: &[crate::channels::config::Account],
    id: &str,
) -> Option<crate::jurisdiction::DistrictId> {
    accounts
        .iter()
        .find(|a| a.id == id)
        .and_then(|a| a.district.clone())
}

/// `<Response><Message>text</Message></Response>`.
fn twiml(text: &str) -> Response {
    if text.is_empty() {
        return (
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>",
        )
            .into_response();
    }
    let escaped = crate::channels::twilio::xml_escape(text);
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{escaped}</Message></Response>"
        ),
    )
        .into_response()
}
