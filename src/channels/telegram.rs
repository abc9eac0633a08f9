//! Telegram bots: one per district (or one for the range), each with its own webhook path and
//! secret token. The `X-Telegram-Bot-Api-Secret-Token` header is compared in constant time before
//! the update is parsed; updates are parsed leniently into [`InboundMessage`]s (private chats
//! only; bot commands such as `/start` count as a message without words, so the sender is told
//! what to write).

use serde::Deserialize;

use super::{InboundMessage, Location, MediaKind, MediaRef, Provider};
use crate::crypto::ct_eq;
use crate::domain::Channel;
use crate::jurisdiction::DistrictId;

/// Whether the header carries the bot's secret token.
pub fn verify(secret_token: &str, header: Option<&str>) -> bool {
    header.is_some_and(|h| ct_eq(h.as_bytes(), secret_token.as_bytes()))
}

/// One update as Telegram sends it (the fields tipline reads).
#[derive(Debug, Deserialize)]
pub struct Update {
    update_id: i64,
    message: Option<Message>,
}

#[derive(Debug, Deserialize)]
struct Message {
    chat: Chat,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    photo: Vec<PhotoSize>,
    voice: Option<File>,
    audio: Option<File>,
    video: Option<File>,
    video_note: Option<File>,
    document: Option<File>,
    location: Option<Place>,
    venue: Option<Venue>,
}

#[derive(Debug, Deserialize)]
struct File {
    file_id: String,
    #[serde(default)]
    mime_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Place {
    latitude: f64,
    longitude: f64,
}

#[derive(Debug, Deserialize)]
struct Venue {
    location: Place,
    #[serde(default)]
    title: String,
    #[serde(default)]
    address: String,
}

#[derive(Debug, Deserialize)]
struct PhotoSize {
    file_id: String,
    #[serde(default)]
    width: u32,
}

#[derive(Debug, Deserialize)]
struct Chat {
    id: i64,
    #[serde(default, rename = "type")]
    kind: String,
}

impl Update {
    /// Parses an update; `None` if the body is not one.
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }

    /// The message of a private chat, for the bot `bot` (its name in the config) of `district`.
    /// Other updates (edits, button taps, groups) carry no tip.
    pub fn message(&self, bot: &str, district: Option<DistrictId>) -> Option<InboundMessage> {
        let m = self.message.as_ref()?;
        if m.chat.kind != "private" {
            return None;
        }
        let text = m
            .text
            .clone()
            .or_else(|| m.caption.clone())
            .unwrap_or_default();
        let text = if text.trim_start().starts_with('/') {
            String::new()
        } else {
            text
        };
        Some(InboundMessage {
            media: m.file().into_iter().collect(),
            location: m.place(),
            provider: Provider::Telegram,
            channel: Channel::Telegram,
            district,
            via: bot.to_owned(),
            from: m.chat.id.to_string(),
            text,
            // Update ids are per bot.
            provider_id: format!("{bot}:{}", self.update_id),
        })
    }
}

impl Message {
    /// The file sent: a photo (its largest size), a voice note or audio file, a video or round
    /// video note, or a document (by its MIME type: a photo or video sent as a file is still one).
    fn file(&self) -> Option<MediaRef> {
        if let Some(p) = self.photo.iter().max_by_key(|p| p.width) {
            return Some(MediaRef::new(MediaKind::Photo, p.file_id.clone()));
        }
        let (file, kind) = [
            (&self.voice, MediaKind::Voice),
            (&self.audio, MediaKind::Voice),
            (&self.video, MediaKind::Video),
            (&self.video_note, MediaKind::Video),
        ]
        .into_iter()
        .find_map(|(f, k)| f.as_ref().map(|f| (f, k)))
        .or_else(|| {
            let d = self.document.as_ref()?;
            Some((d, MediaKind::of_mime(d.mime_type.as_deref().unwrap_or(""))))
        })?;
        Some(MediaRef::new(kind, file.file_id.clone()))
    }

    /// A shared location, or a venue (a place picked on the map, with its name and address).
    fn place(&self) -> Option<Location> {
        if let Some(v) = &self.venue {
            let label = [v.title.as_str(), v.address.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            return Location::parse(v.location.latitude, v.location.longitude, &label);
        }
        let p = self.location.as_ref()?;
        Location::parse(p.latitude, p.longitude, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_messages_become_tips_and_commands_ask_for_words() {
        let text = br#"{"update_id":912345678,"message":{"message_id":42,"from":{"id":123456789,"is_bot":false,"first_name":"Ravi","language_code":"hi"},"chat":{"id":123456789,"first_name":"Ravi","type":"private"},"date":1733900000,"text":"Gaon me kachchi sharab bikti hai"}}"#;
        let m = Update::parse(text)
            .unwrap()
            .message("korba", DistrictId::parse("korba"))
            .unwrap();
        assert_eq!(m.from, "123456789");
        assert_eq!(m.text, "Gaon me kachchi sharab bikti hai");
        assert_eq!(m.provider_id, "korba:912345678");
        assert_eq!(m.channel, Channel::Telegram);
        let start = br#"{"update_id":1,"message":{"message_id":1,"chat":{"id":5,"type":"private"},"date":1,"text":"/start"}}"#;
        assert_eq!(
            Update::parse(start)
                .unwrap()
                .message("b", None)
                .unwrap()
                .text,
            ""
        );
        let group = br#"{"update_id":2,"message":{"message_id":1,"chat":{"id":-5,"type":"group"},"date":1,"text":"hi"}}"#;
        assert!(Update::parse(group).unwrap().message("b", None).is_none());
        let edit = br#"{"update_id":3,"edited_message":{"message_id":1,"chat":{"id":5,"type":"private"},"date":1,"text":"x"}}"#;
        assert!(Update::parse(edit).unwrap().message("b", None).is_none());
        assert!(Update::parse(b"{}").is_none());
        assert!(verify("s3cret-token", Some("s3cret-token")));
        assert!(!verify("s3cret-token", Some("s3cret-tokeN")));
        assert!(!verify("s3cret-token", None));
    }
}
