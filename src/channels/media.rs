//! Photos and voice recordings sent on provider channels, fetched after the message is stored (the
//! webhook answers at once; the provider's copy is fetched by a background job with retries):
//! through Meta's Graph API (`/{media-id}` then its short-lived URL, both with the access token),
//! Telegram's `getFile`, Twilio's Recordings API (the account's credentials; a recording not
//! ready yet is a 404 and is tried again), or Exotel's `RecordingUrl` (an MP3, private since
//! October 2024: Basic auth with the API key and token, and only from the configured recording
//! origins). A fetched photo is checked and cleaned like a web photo (`domain::attachment`), a
//! recording is checked and disguised (`domain::recording`); either becomes an attachment of the
//! tip, and anything else is dropped. A recording stored is deleted at Twilio; Exotel documents
//! no API to delete a recording, so Exotel's copy stays with Exotel (delete it in Exotel's
//! dashboard, or ask Exotel for a retention limit).
//!
//! Must never: keep the provider's reference in clear (it is sealed under the range key); follow
//! a redirect to a file larger than a photo may be; send the Exotel API key to, or fetch from, a
//! host that is not a configured recording origin.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{InboundMessage, Provider};
use crate::app::Core;
use crate::domain::TipId;
use crate::domain::attachment::{PHOTO_MAX_BYTES, Photo};
use crate::domain::recording::{RECORDING_MAX_BYTES, Recording};
use crate::intake::{self, IntakeError};
use crate::keyring::RANGE_SCOPE;
use crate::store::{MediaDone, MediaRow, NewMedia};

/// Attempts before a photo is given up.
const MAX_ATTEMPTS: i64 = 6;
/// Attempts before a recording is given up (Twilio may take minutes to write a long one; the
/// backoff doubles up to 10 minutes, so this is about an hour).
const MAX_RECORDING_ATTEMPTS: i64 = 12;

/// What is sealed in a pending row: the reference and what to fetch it through.
#[derive(serde::Serialize, serde::Deserialize)]
struct Reference {
    reference: String,
    via: String,
}

fn ref_aad(media_id: i64) -> Vec<u8> {
    format!("media_pending.ref|{media_id}").into_bytes()
}

/// A pending row for a photo of `m`.
pub fn pending(core: &Core, m: &InboundMessage, reference: &str) -> Result<NewMedia, IntakeError> {
    let media_id = TipId::generate(core.clock.now_ms())?.get();
    let (_, key) = core.keyring.current(RANGE_SCOPE)?;
    let plain = serde_json::to_vec(&Reference {
        reference: reference.to_owned(),
        via: m.via.clone(),
    })
    .unwrap_or_default();
    Ok(NewMedia {
        media_id,
        provider: m.provider.as_str().to_owned(),
        ref_sealed: key.seal(&ref_aad(media_id), &plain)?,
    })
}

/// One pass: fetches the photos that are due. Returns how many became attachments.
pub async fn fetch_due(core: &Core, client: &reqwest::Client) -> Result<usize, IntakeError> {
    let now = core.clock.now_ms();
    let mut stored = 0;
    for row in core.store.media_due(now, 20).await? {
        let recording =
            [Provider::Twilio.as_str(), Provider::Exotel.as_str()].contains(&row.provider.as_str());
        let twilio = row.provider == Provider::Twilio.as_str();
        let done = match fetch(core, client, &row).await {
            Ok(bytes) => {
                let record = core.store.tip(row.tip_id).await?;
                let sealed = match (&record, recording) {
                    (None, _) => Ok(None),
                    (Some(r), true) => Recording::parse(&bytes)
                        .map_err(|e| e.to_string())
                        .map(|rec| Some(intake::seal_recording(core, &r.key_scope, &rec, now))),
                    (Some(r), false) => Photo::parse(&bytes)
                        .map_err(|e| e.to_string())
                        .map(|photo| Some(intake::seal_photo(core, &r.key_scope, &photo, now))),
                };
                match sealed {
                    Ok(Some(attachment)) => MediaDone::Stored(attachment?),
                    Ok(None) => MediaDone::Dropped,
                    Err(e) => {
                        tracing::info!(media_id = row.media_id, error = %e, "provider file is not a photo or recording; dropped");
                        MediaDone::Dropped
                    }
                }
            }
            Err(e)
                if row.attempts + 1
                    >= if recording {
                        MAX_RECORDING_ATTEMPTS
                    } else {
                        MAX_ATTEMPTS
                    } =>
            {
                tracing::warn!(media_id = row.media_id, error = %e, "photo could not be fetched; given up");
                MediaDone::Dropped
            }
            Err(e) => {
                tracing::info!(media_id = row.media_id, error = %e, "photo not fetched yet; will retry");
                MediaDone::Retry(now + crate::alerts::send::backoff_ms(row.attempts + 1))
            }
        };
        let is_stored = matches!(done, MediaDone::Stored(_));
        let is_final = !matches!(done, MediaDone::Retry(_));
        let media_id = row.media_id;
        let sealed_ref = row.ref_sealed.clone();
        if core.store.finish_media(row, done, now).await? {
            stored += usize::from(is_stored);
            // Stored or given up, Twilio's copy goes: a recording must not outlive its row here.
            if twilio
                && is_final
                && let Err(e) = delete_recording(core, client, media_id, &sealed_ref).await
            {
                tracing::warn!(media_id, error = %e, "recording not deleted at Twilio; delete it there");
            }
        }
    }
    Ok(stored)
}

async fn fetch(core: &Core, client: &reqwest::Client, row: &MediaRow) -> Result<Vec<u8>, String> {
    let plain = core
        .keyring
        .open(RANGE_SCOPE, &ref_aad(row.media_id), &row.ref_sealed)
        .map_err(|e| e.to_string())?;
    let r: Reference = serde_json::from_slice(&plain).map_err(|e| e.to_string())?;
    match row.provider.as_str() {
        p if p == Provider::Meta.as_str() => {
            let meta = core
                .channels
                .meta
                .as_ref()
                .ok_or("channels.meta is not configured")?;
            let token = meta.access_token.expose_secret();
            let info: serde_json::Value = get(
                client,
                &format!("{}/{}", meta.graph_url, r.reference),
                Auth::Bearer(token),
                PHOTO_MAX_BYTES,
            )
            .await
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))?;
            let url = info["url"].as_str().ok_or("no url for the media")?;
            get(client, url, Auth::Bearer(token), PHOTO_MAX_BYTES).await
        }
        p if p == Provider::Telegram.as_str() => {
            let bot = core
                .channels
                .telegram
                .iter()
                .find(|b| b.name == r.via)
                .ok_or("no such Telegram bot")?;
            let token = bot.token.expose_secret();
            let file: serde_json::Value = get(
                client,
                &format!(
                    "{}/bot{token}/getFile?file_id={}",
                    bot.api_url,
                    encode(&r.reference)
                ),
                Auth::None,
                PHOTO_MAX_BYTES,
            )
            .await
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))?;
            let path = file["result"]["file_path"].as_str().ok_or("no file_path")?;
            get(
                client,
                &format!("{}/file/bot{token}/{path}", bot.api_url),
                Auth::None,
                PHOTO_MAX_BYTES,
            )
            .await
        }
        p if p == Provider::Twilio.as_str() => {
            let (url, user, token) = twilio_recording(core, &r.reference)?;
            get(
                client,
                &format!("{url}.wav"),
                Auth::Basic(&user, &token),
                RECORDING_MAX_BYTES,
            )
            .await
        }
        p if p == Provider::Exotel.as_str() => {
            let exotel = core
                .channels
                .exotel
                .as_ref()
                .ok_or("channels.exotel is not configured")?;
            // Checked again here: the origins may have changed since the webhook took it.
            if !super::exotel::recording_allowed(exotel, &r.reference) {
                return Err("the recording is not on a configured Exotel recordings host".into());
            }
            get(
                client,
                &r.reference,
                Auth::Basic(&exotel.api_key, exotel.api_token.expose_secret()),
                RECORDING_MAX_BYTES,
            )
            .await
        }
        other => Err(format!("no media from {other}")),
    }
}

/// The address of a Twilio recording (from the configured API, never from the webhook) and the
/// account's credentials.
fn twilio_recording(core: &Core, sid: &str) -> Result<(String, String, String), String> {
    let twilio = core
        .channels
        .twilio
        .as_ref()
        .ok_or("channels.twilio is not configured")?;
    if !super::voice::valid_sid(sid, "RE") {
        return Err("not a recording id".into());
    }
    Ok((
        format!(
            "{}/2010-04-01/Accounts/{}/Recordings/{sid}",
            twilio.api_url, twilio.account_sid
        ),
        twilio.account_sid.clone(),
        twilio.auth_token.expose_secret().to_owned(),
    ))
}

/// Deletes a stored recording at Twilio (`DELETE .../Recordings/{sid}.json`, 204).
async fn delete_recording(
    core: &Core,
    client: &reqwest::Client,
    media_id: i64,
    sealed: &[u8],
) -> Result<(), String> {
    let plain = core
        .keyring
        .open(RANGE_SCOPE, &ref_aad(media_id), sealed)
        .map_err(|e| e.to_string())?;
    let r: Reference = serde_json::from_slice(&plain).map_err(|e| e.to_string())?;
    let (url, user, token) = twilio_recording(core, &r.reference)?;
    let response = client
        .delete(format!("{url}.json"))
        .basic_auth(user, Some(token))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    if response.status().is_success() || response.status() == reqwest::StatusCode::NOT_FOUND {
        Ok(())
    } else {
        Err(format!("Twilio answered {}", response.status()))
    }
}

/// How a fetch is authorised.
enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str, &'a str),
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A GET whose body may not exceed `max` bytes (with some room for JSON).
async fn get(
    client: &reqwest::Client,
    url: &str,
    auth: Auth<'_>,
    max: usize,
) -> Result<Vec<u8>, String> {
    let mut request = client.get(url).timeout(Duration::from_secs(30));
    request = match auth {
        Auth::None => request,
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
    };
    // Errors without the URL: it may carry a bot token or a provider's file path.
    let mut response = request
        .send()
        .await
        .map_err(|e| format!("request failed: {}", e.without_url()))?;
    if !response.status().is_success() {
        return Err(format!("provider answered {}", response.status()));
    }
    let limit = max + 64 * 1024;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("body failed: {}", e.without_url()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Err("the file is larger than an attachment may be".into());
        }
    }
    Ok(body)
}
