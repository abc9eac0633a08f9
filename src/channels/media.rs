//! Files sent on provider channels, fetched after the message is stored (the webhook answers at
//! once; the provider's copy is fetched by a background job with retries): through Meta's Graph
//! API (`/{media-id}` then its short-lived URL, both with the access token), Telegram's `getFile`,
//! Twilio (a message's `MediaUrl`, or a call's recording, with the account's credentials; a
//! recording not ready yet is a 404 and is tried again), Messenger's CDN URL, X's DM media URL
//! (with the account's token), or Exotel's `RecordingUrl` (an MP3, private since October 2024:
//! Basic auth with the API key and token, and only from the configured recording origins).
//!
//! What a file becomes depends on its kind and its bytes: a photo is cleaned like a web photo
//! (`domain::attachment`), a voice note or call recording is disguised (`domain::recording`), a
//! video or document is held (`domain::held`: the original only, for the range supervisor to
//! release); a file that is not what its kind needs is dropped. Once stored (or given up), the
//! provider's copy is deleted where the provider allows it: Twilio's recordings and message
//! media, and Meta's media (`DELETE /{media-id}`). Telegram, Messenger and X have no API to
//! delete a file a user sent; Exotel documents none for recordings (delete them in Exotel's
//! dashboard, or ask Exotel for a retention limit).
//!
//! Must never: keep the provider's reference in clear (it is sealed under the range key); follow
//! a redirect with the provider's credentials to another host; fetch more than a file of its kind
//! may be; send the Exotel API key to, or fetch from, a host that is not a configured recording
//! origin; send Twilio's credentials anywhere but the configured Twilio API.

use super::{InboundMessage, MediaKind, MediaRef, Provider};
use crate::app::Core;
use crate::domain::TipId;
use crate::domain::attachment::{PHOTO_MAX_BYTES, Photo};
use crate::domain::held::{HELD_MAX_BYTES, HeldFile};
use crate::domain::recording::{RECORDING_MAX_BYTES, Recording};
use crate::intake::{self, IntakeError};
use crate::keyring::RANGE_SCOPE;
use crate::store::{MediaDone, MediaRow, NewAttachment, NewMedia};

mod fetch;

/// Attempts before a file is given up.
const MAX_ATTEMPTS: i64 = 6;
/// Attempts before a call recording is given up (Twilio may take minutes to write a long one;
/// the backoff doubles up to 10 minutes, so this is about an hour).
const MAX_RECORDING_ATTEMPTS: i64 = 12;

/// What is sealed in a pending row: the reference, what to fetch it through, and what it is.
#[derive(serde::Serialize, serde::Deserialize)]
struct Reference {
    reference: String,
    via: String,
    /// Absent in rows stored before files other than photos and recordings were taken: a
    /// Twilio or Exotel row is then a call recording, any other a photo.
    #[serde(default)]
    kind: Option<MediaKind>,
}

impl Reference {
    fn kind(&self, provider: &str) -> MediaKind {
        self.kind.unwrap_or(
            if [Provider::Twilio.as_str(), Provider::Exotel.as_str()].contains(&provider) {
                MediaKind::Call
            } else {
                MediaKind::Photo
            },
        )
    }
}

impl MediaKind {
    /// The most a file of this kind may be.
    fn max_bytes(self) -> usize {
        match self {
            Self::Photo => PHOTO_MAX_BYTES,
            Self::Voice | Self::Call => RECORDING_MAX_BYTES,
            Self::Video | Self::Document => HELD_MAX_BYTES,
        }
    }
}

fn ref_aad(media_id: i64) -> Vec<u8> {
    format!("media_pending.ref|{media_id}").into_bytes()
}

/// A pending row for a file sent with `m`.
pub fn pending(core: &Core, m: &InboundMessage, file: &MediaRef) -> Result<NewMedia, IntakeError> {
    let media_id = TipId::generate(core.clock.now_ms())?.get();
    let (_, key) = core.keyring.current(RANGE_SCOPE)?;
    let plain = serde_json::to_vec(&Reference {
        reference: file.reference.clone(),
        via: m.via.clone(),
        kind: Some(file.kind),
    })
    .unwrap_or_default();
    Ok(NewMedia {
        media_id,
        provider: m.provider.as_str().to_owned(),
        ref_sealed: key.seal(&ref_aad(media_id), &plain)?,
    })
}

fn open_reference(core: &Core, row: &MediaRow) -> Result<Reference, String> {
    let plain = core
        .keyring
        .open(RANGE_SCOPE, &ref_aad(row.media_id), &row.ref_sealed)
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&plain).map_err(|e| e.to_string())
}

/// One pass: fetches the files that are due. Returns how many became attachments.
pub async fn fetch_due(core: &Core, client: &reqwest::Client) -> Result<usize, IntakeError> {
    let now = core.clock.now_ms();
    let mut stored = 0;
    for row in core.store.media_due(now, 20).await? {
        let reference = open_reference(core, &row);
        let kind = reference
            .as_ref()
            .map_or(MediaKind::Photo, |r| r.kind(&row.provider));
        let fetched = match &reference {
            Ok(r) => fetch::fetch(core, client, &row.provider, r, kind).await,
            Err(e) => Err(e.clone()),
        };
        let done = match fetched {
            Ok(bytes) => match core.store.tip(row.tip_id).await? {
                None => MediaDone::Dropped,
                Some(record) => match seal(core, &record.key_scope, kind, &bytes, now) {
                    Ok(attachment) => MediaDone::Stored(attachment?),
                    Err(e) => {
                        tracing::info!(media_id = row.media_id, error = %e, "provider file is not what its kind needs; dropped");
                        MediaDone::Dropped
                    }
                },
            },
            Err(e) if row.attempts + 1 >= max_attempts(kind) => {
                tracing::warn!(media_id = row.media_id, error = %e, "file could not be fetched; given up");
                MediaDone::Dropped
            }
            Err(e) => {
                tracing::info!(media_id = row.media_id, error = %e, "file not fetched yet; will retry");
                MediaDone::Retry(now + crate::alerts::send::backoff_ms(row.attempts + 1))
            }
        };
        let is_stored = matches!(done, MediaDone::Stored(_));
        let is_final = !matches!(done, MediaDone::Retry(_));
        let (media_id, provider) = (row.media_id, row.provider.clone());
        if core.store.finish_media(row, done, now).await? {
            stored += usize::from(is_stored);
            // Stored or given up, the provider's copy goes: a file must not outlive its row here.
            if is_final
                && let Ok(r) = &reference
                && let Err(e) = fetch::delete(core, client, &provider, r, kind).await
            {
                tracing::warn!(media_id, provider = %provider, error = %e, "file not deleted at the provider; delete it there");
            }
        }
    }
    Ok(stored)
}

fn max_attempts(kind: MediaKind) -> i64 {
    match kind {
        MediaKind::Call => MAX_RECORDING_ATTEMPTS,
        _ => MAX_ATTEMPTS,
    }
}

/// Checks a fetched file as its kind needs and seals it under the tip's key (the outer error is
/// the file's, the inner one sealing's).
fn seal(
    core: &Core,
    key_scope: &str,
    kind: MediaKind,
    bytes: &[u8],
    now: i64,
) -> Result<Result<NewAttachment, IntakeError>, String> {
    Ok(match kind {
        MediaKind::Photo => {
            let photo = Photo::parse(bytes).map_err(|e| e.to_string())?;
            intake::seal_photo(core, key_scope, &photo, now)
        }
        MediaKind::Voice | MediaKind::Call => {
            let recording = Recording::parse(bytes).map_err(|e| e.to_string())?;
            intake::seal_recording(core, key_scope, &recording, now)
        }
        MediaKind::Video | MediaKind::Document => {
            let file = HeldFile::parse(bytes).map_err(|e| e.to_string())?;
            intake::seal_held(core, key_scope, &file, now)
        }
    })
}
