//! Facebook Messenger: the same handshake and `X-Hub-Signature-256` as Meta's WhatsApp (see
//! `meta`), and the page's `messaging` events parsed leniently into [`InboundMessage`]s (echoes of
//! the page's own messages, deliveries, reads and postbacks carry no tip).

use serde::Deserialize;

use super::{InboundMessage, Location, MediaKind, MediaRef, Provider};
use crate::domain::Channel;
use crate::jurisdiction::DistrictId;

/// The notification envelope.
#[derive(Debug, Deserialize)]
pub struct Notification {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(default)]
    messaging: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    sender: Option<Id>,
    recipient: Option<Id>,
    message: Option<Message>,
}

#[derive(Debug, Deserialize)]
struct Id {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Message {
    mid: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Debug, Deserialize)]
struct Attachment {
    #[serde(default, rename = "type")]
    kind: String,
    payload: Option<Payload>,
}

#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    coordinates: Option<Coordinates>,
}

#[derive(Debug, Deserialize)]
struct Coordinates {
    lat: f64,
    long: f64,
}

impl Message {
    /// The files attached (by their CDN URLs, which expire: fetched at once by `media`).
    fn files(&self) -> Vec<MediaRef> {
        self.attachments
            .iter()
            .filter_map(|a| {
                let kind = match a.kind.as_str() {
                    "image" => MediaKind::Photo,
                    "audio" => MediaKind::Voice,
                    "video" => MediaKind::Video,
                    "file" => MediaKind::Document,
                    _ => return None,
                };
                let url = a.payload.as_ref()?.url.as_ref()?;
                Some(MediaRef::new(kind, url.clone()))
            })
            .collect()
    }

    /// A location attachment (the older Messenger apps still send one).
    fn place(&self) -> Option<Location> {
        self.attachments.iter().find_map(|a| {
            let c = a.payload.as_ref()?.coordinates.as_ref()?;
            Location::parse(c.lat, c.long, "")
        })
    }
}

impl Notification {
    /// Parses a verified body; `None` if it is not a page notification.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let n: Self = serde_json::from_slice(body).ok()?;
        (n.object == "page").then_some(n)
    }

    /// The messages sent to the pages, with their files and shared location; `district_of` names
    /// a page's district. A message with neither words nor a file (a sticker) comes with empty
    /// text, so the sender is asked to write.
    pub fn messages(
        &self,
        district_of: impl Fn(&str) -> Option<DistrictId>,
    ) -> Vec<InboundMessage> {
        let mut out = Vec::new();
        for e in self.entry.iter().flat_map(|e| &e.messaging) {
            let (Some(sender), Some(page), Some(m)) = (&e.sender, &e.recipient, &e.message) else {
                continue;
            };
            if m.is_echo {
                continue;
            }
            out.push(InboundMessage {
                media: m.files(),
                location: m.place(),
                provider: Provider::Messenger,
                channel: Channel::Messenger,
                district: district_of(&page.id),
                via: page.id.clone(),
                from: sender.id.clone(),
                text: m.text.clone().unwrap_or_default(),
                provider_id: m.mid.clone(),
            });
        }
        out.retain(InboundMessage::addressed);
        out
    }
}

/// A delivery or read report for the page's own messages to one person: `delivery` (with the
/// ids of the messages delivered, perhaps none, and a watermark) or `read` (a watermark): every
/// message sent before the watermark reached them, or was read.
#[derive(Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The page.
    pub page: String,
    /// The person (page-scoped id).
    pub person: String,
    /// A read report (else a delivery report).
    pub read: bool,
    /// The ids of the messages delivered, where given.
    pub mids: Vec<String>,
    /// Every message before this time (Unix ms).
    pub watermark: Option<i64>,
}

#[derive(Deserialize)]
struct ReceiptBody {
    #[serde(default)]
    entry: Vec<ReceiptEntry>,
}

#[derive(Deserialize)]
struct ReceiptEntry {
    #[serde(default)]
    messaging: Vec<ReceiptEvent>,
}

#[derive(Deserialize)]
struct ReceiptEvent {
    sender: Option<Id>,
    recipient: Option<Id>,
    delivery: Option<Delivered>,
    read: Option<Watermark>,
}

#[derive(Deserialize)]
struct Delivered {
    #[serde(default)]
    mids: Vec<String>,
    watermark: Option<i64>,
}

#[derive(Deserialize)]
struct Watermark {
    watermark: Option<i64>,
}

/// The delivery and read reports in a verified notification body (none if it has none, or is
/// not one). Read on their own, so that the message parsing above stays as it is.
pub fn deliveries(body: &[u8]) -> Vec<Receipt> {
    let Ok(parsed) = serde_json::from_slice::<ReceiptBody>(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in parsed.entry.into_iter().flat_map(|e| e.messaging) {
        // In a report the person is the sender and the page the recipient.
        let (Some(person), Some(page)) = (e.sender, e.recipient) else {
            continue;
        };
        let (page, person) = (page.id, person.id);
        if let Some(d) = e.delivery {
            out.push(Receipt {
                page: page.clone(),
                person: person.clone(),
                read: false,
                mids: d.mids,
                watermark: d.watermark,
            });
        }
        if let Some(r) = e.read {
            out.push(Receipt {
                page,
                person,
                read: true,
                mids: Vec::new(),
                watermark: r.watermark,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_messages_are_read_and_echoes_left_out() {
        let body = r#"{"object":"page","entry":[{"id":"111","time":1718000000000,"messaging":[
            {"sender":{"id":"9001"},"recipient":{"id":"111"},"timestamp":1718000000000,"message":{"mid":"m_AbC","text":"थाने के पास जुआ चल रहा है"}},
            {"sender":{"id":"111"},"recipient":{"id":"9001"},"timestamp":1718000000001,"message":{"mid":"m_echo","text":"धन्यवाद","is_echo":true}},
            {"sender":{"id":"9001"},"recipient":{"id":"111"},"timestamp":1718000000002,"delivery":{"mids":["m_x"],"watermark":1}},
            {"sender":{"id":"9002"},"recipient":{"id":"111"},"timestamp":1718000000003,"message":{"mid":"m_photo","attachments":[{"type":"image","payload":{"url":"https://x"}}]}}]}]}"#;
        let n = Notification::parse(body.as_bytes()).unwrap();
        let m = n.messages(|page| {
            assert_eq!(page, "111");
            DistrictId::parse("raigarh")
        });
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].from, "9001");
        assert_eq!(m[0].text, "थाने के पास जुआ चल रहा है");
        assert_eq!(m[0].provider_id, "m_AbC");
        assert_eq!(m[0].via, "111");
        assert_eq!(m[1].text, "");
        assert_eq!(
            m[1].media,
            vec![MediaRef::new(MediaKind::Photo, "https://x")]
        );
        let place = r#"{"object":"page","entry":[{"messaging":[{"sender":{"id":"9"},"recipient":{"id":"111"},"message":{"mid":"m_l","attachments":[{"type":"location","payload":{"coordinates":{"lat":22.08,"long":82.14}}},{"type":"file","payload":{"url":"https://f"}},{"type":"fallback","payload":{"url":"https://ad"}}]}}]}]}"#;
        let m = &Notification::parse(place.as_bytes())
            .unwrap()
            .messages(|_| None)[0];
        assert_eq!(m.location, Location::parse(22.08, 82.14, ""));
        assert_eq!(
            m.media,
            vec![MediaRef::new(MediaKind::Document, "https://f")]
        );
        assert!(
            Notification::parse(br#"{"object":"whatsapp_business_account","entry":[]}"#).is_none()
        );
    }

    #[test]
    fn a_message_without_sender_id_or_page_is_left_out() {
        for (sender, mid, page) in [("", "m_1", "111"), ("9", "", "111"), ("9", "m_1", "")] {
            let body = format!(
                r#"{{"object":"page","entry":[{{"messaging":[{{"sender":{{"id":"{sender}"}},"recipient":{{"id":"{page}"}},"message":{{"mid":"{mid}","text":"hello"}}}},{{"sender":{{"id":"10"}},"recipient":{{"id":"111"}},"message":{{"mid":"m_2","text":"kept"}}}}]}}]}}"#
            );
            let m = Notification::parse(body.as_bytes())
                .unwrap()
                .messages(|_| None);
            assert_eq!(m.len(), 1, "{sender:?} {mid:?} {page:?}");
            assert_eq!(m[0].text, "kept");
        }
    }
}

#[cfg(test)]
mod receipt_tests {
    use super::*;

    #[test]
    fn deliveries_and_reads_are_read() {
        let body = r#"{"object":"page","entry":[{"id":"111","time":1,"messaging":[
            {"sender":{"id":"PSID1"},"recipient":{"id":"111"},"timestamp":5,"delivery":{"mids":["m_A"],"watermark":1458668856253}},
            {"sender":{"id":"PSID1"},"recipient":{"id":"111"},"timestamp":6,"read":{"watermark":1458668856300}},
            {"sender":{"id":"PSID1"},"recipient":{"id":"111"},"timestamp":7,"message":{"mid":"m_B","text":"hi"}}]}]}"#;
        let got = deliveries(body.as_bytes());
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].page.as_str(), got[0].person.as_str()),
            ("111", "PSID1")
        );
        assert_eq!(
            (got[0].read, got[0].mids.clone(), got[0].watermark),
            (false, vec!["m_A".to_owned()], Some(1458668856253))
        );
        assert_eq!((got[1].read, got[1].watermark), (true, Some(1458668856300)));
        assert!(deliveries(b"[]").is_empty());
    }
}
