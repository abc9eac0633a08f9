//! X direct messages (Account Activity webhooks): the CRC answer and the
//! `x-twitter-webhooks-signature` check (both base64 HMAC-SHA256 under the consumer secret; the
//! signature over the raw body, before parsing), and `direct_message_events` parsed leniently
//! into [`InboundMessage`]s (the account's own messages, echoed back, are left out).

use serde::Deserialize;

use super::{InboundMessage, MediaKind, MediaRef, Provider};
use crate::crypto::{ct_eq, encode_base64, hmac_sha256};
use crate::domain::Channel;
use crate::jurisdiction::DistrictId;

/// `sha256=<base64>` of `data` under the consumer secret.
pub fn sign(consumer_secret: &str, data: &[u8]) -> String {
    format!(
        "sha256={}",
        encode_base64(&hmac_sha256(consumer_secret.as_bytes(), data))
    )
}

/// The CRC answer's body for `crc_token`.
pub fn crc_response(consumer_secret: &str, crc_token: &str) -> serde_json::Value {
    serde_json::json!({ "response_token": sign(consumer_secret, crc_token.as_bytes()) })
}

/// Whether `header` is X's signature of `body`.
pub fn verify(consumer_secret: &str, body: &[u8], header: &str) -> bool {
    ct_eq(sign(consumer_secret, body).as_bytes(), header.as_bytes())
}

/// The event envelope.
#[derive(Debug, Deserialize)]
pub struct Events {
    for_user_id: Option<String>,
    #[serde(default)]
    direct_message_events: Vec<DmEvent>,
}

#[derive(Debug, Deserialize)]
struct DmEvent {
    #[serde(default, rename = "type")]
    kind: String,
    id: String,
    message_create: Option<MessageCreate>,
}

#[derive(Debug, Deserialize)]
struct MessageCreate {
    sender_id: String,
    message_data: Option<MessageData>,
}

#[derive(Debug, Deserialize)]
struct MessageData {
    #[serde(default)]
    text: String,
    attachment: Option<Attachment>,
}

#[derive(Debug, Deserialize)]
struct Attachment {
    media: Option<Media>,
}

#[derive(Debug, Deserialize)]
struct Media {
    #[serde(default)]
    media_url_https: String,
    #[serde(default, rename = "type")]
    kind: String,
}

impl MessageData {
    /// The photo or video attached (by its `ton.twitter.com` URL, fetched with the account's
    /// token).
    fn file(&self) -> Option<MediaRef> {
        let media = self.attachment.as_ref()?.media.as_ref()?;
        let kind = match media.kind.as_str() {
            "photo" => MediaKind::Photo,
            "video" | "animated_gif" => MediaKind::Video,
            _ => return None,
        };
        (!media.media_url_https.is_empty())
            .then(|| MediaRef::new(kind, media.media_url_https.clone()))
    }
}

impl Events {
    /// Parses a verified body; `None` if it is not an account's events.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let e: Self = serde_json::from_slice(body).ok()?;
        e.for_user_id.is_some().then_some(e)
    }

    /// The direct messages received; `district_of` names the account's district.
    pub fn messages(
        &self,
        district_of: impl Fn(&str) -> Option<DistrictId>,
    ) -> Vec<InboundMessage> {
        let Some(account) = &self.for_user_id else {
            return Vec::new();
        };
        self.direct_message_events
            .iter()
            .filter(|e| e.kind == "message_create")
            .filter_map(|e| {
                let m = e.message_create.as_ref()?;
                (m.sender_id != *account).then(|| InboundMessage {
                    media: m
                        .message_data
                        .as_ref()
                        .and_then(MessageData::file)
                        .into_iter()
                        .collect(),
                    location: None,
                    provider: Provider::X,
                    channel: Channel::X,
                    district: district_of(account),
                    via: account.clone(),
                    from: m.sender_id.clone(),
                    text: m
                        .message_data
                        .as_ref()
                        .map(|d| d.text.clone())
                        .unwrap_or_default(),
                    provider_id: e.id.clone(),
                })
            })
            .filter(InboundMessage::addressed)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_xs_official_vectors() {
        // xdevplatform/autohook test/signature.js, consumer secret "test".
        let form = "sha256=25Cu3iwbbiqBTwQRzcKJZwisjf736V2Q8UaTlkfLSoc=";
        let json = "sha256=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI=";
        assert!(verify("test", b"test=1&other_test=2", form));
        assert!(verify(
            "test",
            br#"{"test_number":1,"test_string":"two"}"#,
            json
        ));
        assert!(!verify(
            "test",
            br#"{"test_number":1,"test_string":"tw0"}"#,
            json
        ));
        assert!(!verify("tesT", b"test=1&other_test=2", form));
        // The CRC of the DevRel gist's inputs (computed, channels.md L3).
        assert_eq!(
            crc_response(
                "z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu",
                "9b4507b3-9040-4669-9ca3-6b94edb50553"
            )["response_token"],
            "sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="
        );
    }

    #[test]
    fn direct_messages_are_read_and_echoes_left_out() {
        let body = r#"{"for_user_id":"4337869213","direct_message_events":[
            {"type":"message_create","id":"954491830116155396","created_timestamp":"1516403560557","message_create":{"target":{"recipient_id":"4337869213"},"sender_id":"3001969357","message_data":{"text":"ट्रक से अवैध खनन हो रहा है","entities":{}}}},
            {"type":"message_create","id":"954491830116155397","message_create":{"target":{"recipient_id":"3001969357"},"sender_id":"4337869213","message_data":{"text":"धन्यवाद"}}}],
            "users":{}}"#;
        let e = Events::parse(body.as_bytes()).unwrap();
        let m = e.messages(|_| DistrictId::parse("korba"));
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].from, "3001969357");
        assert_eq!(m[0].via, "4337869213");
        assert_eq!(m[0].provider_id, "954491830116155396");
        assert_eq!(m[0].text, "ट्रक से अवैध खनन हो रहा है");
        let typing = br#"{"for_user_id":"1","direct_message_indicate_typing_events":[{}]}"#;
        assert!(Events::parse(typing).unwrap().messages(|_| None).is_empty());
        assert!(Events::parse(b"{}").is_none());
    }

    #[test]
    fn a_message_without_sender_or_id_is_left_out() {
        for (id, sender) in [("", "3001969357"), ("9544918301", ""), ("9544918301", " ")] {
            let body = format!(
                r#"{{"for_user_id":"4337869213","direct_message_events":[{{"type":"message_create","id":"{id}","message_create":{{"target":{{"recipient_id":"4337869213"}},"sender_id":"{sender}","message_data":{{"text":"hello"}}}}}}]}}"#
            );
            let e = Events::parse(body.as_bytes()).unwrap();
            assert!(
                e.messages(|_| None).is_empty(),
                "id {id:?}, sender {sender:?}"
            );
        }
    }
}
