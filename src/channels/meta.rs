//! Meta's WhatsApp Cloud API webhook: the subscription handshake (`hub.challenge`), the
//! `X-Hub-Signature-256` check (HMAC-SHA256 of the raw body under the app secret, before any
//! parsing) and the notification payload, parsed leniently (unknown fields and event types are
//! ignored) into [`InboundMessage`]s.

use serde::Deserialize;

use super::{InboundMessage, Location, MediaKind, MediaRef, Provider};
use crate::crypto::{ct_eq, encode_hex, hmac_sha256};
use crate::domain::Channel;
use crate::jurisdiction::DistrictId;

/// Whether `header` (`sha256=<hex>`) is the app secret's signature of `body`.
pub fn verify(app_secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let expected = encode_hex(&hmac_sha256(app_secret.as_bytes(), body));
    ct_eq(expected.as_bytes(), hex.to_ascii_lowercase().as_bytes())
}

/// The notification envelope.
#[derive(Debug, Deserialize)]
pub struct Notification {
    /// `whatsapp_business_account`.
    pub object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    value: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Value {
    metadata: Option<Metadata>,
    #[serde(default)]
    messages: Vec<Message>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    display_phone_number: String,
    #[serde(default)]
    phone_number_id: String,
}

#[derive(Debug, Deserialize)]
struct Message {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    from_user_id: Option<String>,
    id: String,
    #[serde(default, rename = "type")]
    kind: String,
    text: Option<Text>,
    image: Option<Captioned>,
    audio: Option<Captioned>,
    video: Option<Captioned>,
    document: Option<Captioned>,
    location: Option<Place>,
}

#[derive(Debug, Deserialize)]
struct Place {
    latitude: f64,
    longitude: f64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    address: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Text {
    #[serde(default)]
    body: String,
}

#[derive(Debug, Deserialize)]
struct Captioned {
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

impl Notification {
    /// Parses a verified body; `None` if it is not a WhatsApp notification at all.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let n: Self = serde_json::from_slice(body).ok()?;
        (n.object == "whatsapp_business_account").then_some(n)
    }

    /// The messages it carries (status updates and other events are left out): words, a photo,
    /// voice note, video or document (by its media id, with its caption), a shared location. A
    /// message with none of these (a sticker, a reaction) comes with empty text, so the sender is
    /// asked to write.
    /// `district_of` names the district of the number a message reached (`+1555…`).
    pub fn messages(
        &self,
        district_of: impl Fn(&str) -> Option<DistrictId>,
    ) -> Vec<InboundMessage> {
        let mut out = Vec::new();
        for change in self.entry.iter().flat_map(|e| &e.changes) {
            let Some(value) = change.value.as_ref().filter(|_| change.field == "messages") else {
                continue;
            };
            let Some(meta) = &value.metadata else {
                continue;
            };
            for m in &value.messages {
                // Business-scoped user ids (2026) first; the phone number where it is given.
                let Some(from) = m
                    .from_user_id
                    .clone()
                    .filter(|id| !id.trim().is_empty())
                    .or_else(|| m.from.clone())
                else {
                    continue;
                };
                let (text, media) = m.words_and_file();
                out.push(InboundMessage {
                    media: media.into_iter().collect(),
                    location: m.location.as_ref().and_then(|p| {
                        let label = [&p.name, &p.address]
                            .into_iter()
                            .flatten()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", ");
                        Location::parse(p.latitude, p.longitude, &label)
                    }),
                    provider: Provider::Meta,
                    channel: Channel::WhatsApp,
                    district: district_of(&format!(
                        "+{}",
                        meta.display_phone_number.trim_start_matches('+')
                    )),
                    via: meta.phone_number_id.clone(),
                    from,
                    text,
                    provider_id: m.id.clone(),
                });
            }
        }
        out.retain(InboundMessage::addressed);
        out
    }
}

impl Message {
    /// The words (a text's body or a file's caption) and the file, by the message's type. A
    /// voice note (`audio` with `voice: true`) and any other audio are both a voice.
    fn words_and_file(&self) -> (String, Option<MediaRef>) {
        let text = || {
            self.text
                .as_ref()
                .map(|t| t.body.clone())
                .unwrap_or_default()
        };
        let (file, kind) = match self.kind.as_str() {
            "text" => return (text(), None),
            "image" => (&self.image, MediaKind::Photo),
            "audio" => (&self.audio, MediaKind::Voice),
            "video" => (&self.video, MediaKind::Video),
            "document" => (&self.document, MediaKind::Document),
            _ => return (String::new(), None),
        };
        let Some(file) = file else {
            return (String::new(), None);
        };
        (
            file.caption.clone().unwrap_or_default(),
            file.id.as_ref().map(|id| MediaRef::new(kind, id.clone())),
        )
    }
}

/// A status update of a message the business sent (`value.statuses[]`): its id, the status as
/// Meta names it (`sent`, `delivered`, `read`, `failed`, ...), and a failure's first error code.
#[derive(Debug, PartialEq, Eq)]
pub struct Status {
    /// The message's `wamid.` id.
    pub id: String,
    /// As Meta names it.
    pub status: String,
    /// `errors[0].code`, with a failure.
    pub error_code: Option<i64>,
}

#[derive(Deserialize)]
struct StatusBody {
    #[serde(default)]
    entry: Vec<StatusEntry>,
}

#[derive(Deserialize)]
struct StatusEntry {
    #[serde(default)]
    changes: Vec<StatusChange>,
}

#[derive(Deserialize)]
struct StatusChange {
    #[serde(default)]
    field: String,
    value: Option<StatusValue>,
}

#[derive(Deserialize)]
struct StatusValue {
    #[serde(default)]
    statuses: Vec<RawStatus>,
}

#[derive(Deserialize)]
struct RawStatus {
    id: String,
    status: String,
    #[serde(default)]
    errors: Vec<StatusError>,
}

#[derive(Deserialize)]
struct StatusError {
    code: Option<i64>,
}

/// The status updates in a verified notification body (none if it has none, or is not one).
/// Read on their own, so that the message parsing above stays as it is.
pub fn statuses(body: &[u8]) -> Vec<Status> {
    let Ok(parsed) = serde_json::from_slice::<StatusBody>(body) else {
        return Vec::new();
    };
    parsed
        .entry
        .into_iter()
        .flat_map(|e| e.changes)
        .filter(|c| c.field == "messages")
        .filter_map(|c| c.value)
        .flat_map(|v| v.statuses)
        .map(|s| Status {
            error_code: s.errors.first().and_then(|e| e.code),
            id: s.id,
            status: s.status,
        })
        .collect()
}

#[cfg(test)]
mod status_tests {
    use super::*;

    #[test]
    fn statuses_are_read_with_their_error_codes() {
        let body = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"2"},"statuses":[
            {"id":"wamid.A","status":"delivered","timestamp":"1749416400","recipient_id":"919812345678","conversation":{"id":"c","origin":{"type":"service"}},"pricing":{"billable":false,"pricing_model":"PMP","category":"service"}},
            {"id":"wamid.B","status":"failed","timestamp":"1749416401","recipient_id":"919812345678","errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message","error_data":{"details":"more than 24 hours"}}]}]}}]}]}"#;
        let got = statuses(body.as_bytes());
        assert_eq!(got.len(), 2);
        assert_eq!(
            (
                got[0].id.as_str(),
                got[0].status.as_str(),
                got[0].error_code
            ),
            ("wamid.A", "delivered", None)
        );
        assert_eq!(
            (got[1].status.as_str(), got[1].error_code),
            ("failed", Some(131047))
        );
        assert!(statuses(b"{not json").is_empty());
        // A message notification carries no statuses.
        let message = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"919812345678","id":"wamid.IN","type":"text","text":{"body":"test"}}]}}]}]}"#;
        assert!(statuses(message.as_bytes()).is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_metas_official_vectors() {
        // WhatsApp-Nodejs-SDK's test: secret TEST_APP_SECRET, body "test".
        let official = "sha256=0c61947b610d4f45e65f3d680e26027121ec2413e77598bcb6cfc6e0d9888221";
        assert!(verify("TEST_APP_SECRET", b"test", official));
        // The hexdocs whatsapp_sdk doctest: secret "secret".
        assert!(verify(
            "secret",
            b"test",
            "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"
        ));
        assert!(!verify("TEST_APP_SECRET", b"test ", official));
        assert!(!verify("OTHER_SECRET", b"test", official));
        assert!(
            !verify("TEST_APP_SECRET", b"test", &official[7..]),
            "prefix needed"
        );
    }

    /// The realistic body of channels.md (L2), with its escaped Devanagari profile name: it
    /// verifies over the raw bytes, and the same JSON re-serialised with raw UTF-8 does not.
    const L2: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"\u0930\u0935\u093f"},"wa_id":"919812345678"}],"messages":[{"from":"919812345678","id":"wamid.TEST1","timestamp":"1749416383","type":"text","text":{"body":"test"}}]},"field":"messages"}]}]}"#;

    #[test]
    fn verification_is_over_the_raw_bytes() {
        let header = "sha256=224f4a6a9499776e839b34984f90f82ea67ebe69d1c8d62e2ceaf9f341ae474f";
        assert!(verify("test_app_secret_123", L2.as_bytes(), header));
        let reserialised = L2.replace(r"\u0930\u0935\u093f", "रवि");
        assert!(!verify(
            "test_app_secret_123",
            reserialised.as_bytes(),
            header
        ));
    }

    #[test]
    fn a_message_without_sender_id_or_number_id_is_left_out() {
        for (from, to) in [
            (r#""from":"919812345678""#, r#""from":"""#),
            (r#""from":"919812345678""#, r#""from":"  ""#),
            (r#""id":"wamid.TEST1""#, r#""id":"""#),
            (
                r#""phone_number_id":"106540352242922""#,
                r#""phone_number_id":"""#,
            ),
        ] {
            assert!(L2.contains(from));
            let n = Notification::parse(L2.replace(from, to).as_bytes()).unwrap();
            assert!(n.messages(|_| None).is_empty(), "{to}");
        }
        // An empty business-scoped id does not hide the phone number beside it.
        let both = L2.replace(
            r#""from":"919812345678""#,
            r#""from":"919812345678","from_user_id":"""#,
        );
        let m = Notification::parse(both.as_bytes())
            .unwrap()
            .messages(|_| None);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].from, "919812345678");
    }

    #[test]
    fn messages_are_read_and_other_events_left_out() {
        let n = Notification::parse(L2.as_bytes()).unwrap();
        let m = n.messages(|number| {
            assert_eq!(number, "+15550783881");
            DistrictId::parse("korba")
        });
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].from, "919812345678");
        assert_eq!(
            m[0].district.as_ref().map(DistrictId::as_str),
            Some("korba")
        );
        assert_eq!(m[0].via, "106540352242922");
        assert_eq!(m[0].text, "test");
        assert_eq!(m[0].provider_id, "wamid.TEST1");
        let statuses = r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"display_phone_number":"1","phone_number_id":"2"},"statuses":[{"id":"wamid.X","status":"delivered"}]}}]}]}"#;
        assert!(
            Notification::parse(statuses.as_bytes())
                .unwrap()
                .messages(|_| None)
                .is_empty()
        );
        assert!(Notification::parse(br#"{"object":"page","entry":[]}"#).is_none());
        assert!(Notification::parse(b"{not json").is_none());
        let voice = L2.replace(
            r#""type":"text","text":{"body":"test"}"#,
            r#""type":"audio","audio":{"id":"1","voice":true}"#,
        );
        assert_eq!(
            Notification::parse(voice.as_bytes())
                .unwrap()
                .messages(|_| None)[0]
                .text,
            ""
        );
    }
}
