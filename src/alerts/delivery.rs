//! What the providers report of the messages the outbox handed them: Twilio's status callbacks,
//! the `statuses` of Meta's WhatsApp webhook, Messenger's deliveries and reads. A report finds its
//! message by a keyed hash of the provider's message id, recorded when the message was sent.
//!
//! Reports come out of order and are only ever taken upwards: sent < failed < delivered < read.
//! A failure after a delivery or a read is ignored (one of the tipster's devices had the message:
//! with several devices WhatsApp reports both); a delivery or read after a failure replaces it;
//! `read` implies delivered (Meta may skip `delivered`).
//!
//! Must never: store a provider's message id or a recipient in clear (a WhatsApp `wamid.` encodes
//! the recipient's number; every provider id names the recipient to whoever asks the provider);
//! store anything for an id no message has; log an id.

use crate::app::Core;
use crate::crypto::encode_hex;
use crate::store::{DeliveryReport, StoreError};

/// A provider's report, in our order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reported {
    /// Accepted by the provider's network (Twilio `sent`, Meta `sent`).
    Sent,
    /// Not delivered (Twilio `failed` or `undelivered`, Meta `failed`).
    Failed,
    /// On the recipient's device.
    Delivered,
    /// Seen by the recipient (WhatsApp and Messenger only).
    Read,
}

impl Reported {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Delivered => "delivered",
            Self::Read => "read",
        }
    }

    /// The stored rank: a report only replaces a lower one.
    pub fn rank(self) -> i64 {
        match self {
            Self::Sent => 1,
            Self::Failed => 2,
            Self::Delivered => 3,
            Self::Read => 4,
        }
    }

    /// Twilio's `MessageStatus`; `None` for states before the hand-over (`queued`, `sending`,
    /// `accepted`, `scheduled`) and for anything unknown.
    pub fn from_twilio(status: &str) -> Option<Self> {
        match status {
            "sent" => Some(Self::Sent),
            "failed" | "undelivered" | "canceled" => Some(Self::Failed),
            "delivered" | "partially_delivered" => Some(Self::Delivered),
            "read" => Some(Self::Read),
            _ => None,
        }
    }

    /// Meta's `statuses[].status` (`played`, for a voice message listened to, counts as read);
    /// `None` for anything else (future values).
    pub fn from_meta(status: &str) -> Option<Self> {
        match status {
            "sent" => Some(Self::Sent),
            "failed" => Some(Self::Failed),
            "delivered" => Some(Self::Delivered),
            "read" | "played" => Some(Self::Read),
            _ => None,
        }
    }
}

/// A provider's error code: 1 to 10 digits (Twilio `30008`, Meta `131047`); anything else is
/// not kept.
pub fn error_code(given: &str) -> Option<String> {
    let given = given.trim();
    ((1..=10).contains(&given.len()) && given.bytes().all(|b| b.is_ascii_digit()))
        .then(|| given.to_owned())
}

/// The keyed hash under which a provider's message id is stored (`provider`: `twilio`, `meta`,
/// `messenger`, `x`, `telegram`).
pub fn message_ref(core: &Core, provider: &str, id: &str) -> String {
    encode_hex(
        &core
            .keyring
            .keys()
            .pseudonym("outbound-message", &format!("{provider}|{id}")),
    )
}

/// The keyed hash of a Messenger recipient: the page and the page-scoped user id.
pub fn recipient_ref(core: &Core, page: &str, psid: &str) -> String {
    encode_hex(
        &core
            .keyring
            .keys()
            .pseudonym("outbound-recipient", &format!("messenger|{page}|{psid}")),
    )
}

fn report(core: &Core, status: Reported, error: Option<String>) -> DeliveryReport {
    DeliveryReport {
        status: status.as_str(),
        rank: status.rank(),
        // An error code belongs to a failure only.
        error: error.filter(|_| status == Reported::Failed),
        at: core.clock.now_ms(),
    }
}

/// Records a report of the message `id` of `provider`; returns whether a message took it (false
/// for an unknown id, or a report lower than the one recorded).
pub async fn record(
    core: &Core,
    provider: &str,
    id: &str,
    status: Reported,
    error: Option<String>,
) -> Result<bool, StoreError> {
    let changed = core
        .store
        .record_delivery(message_ref(core, provider, id), report(core, status, error))
        .await?;
    Ok(changed > 0)
}

/// Records a Messenger watermark: every message to `psid` from `page` handed over at or before
/// `watermark` (Unix ms) was delivered, or read. Returns how many messages changed.
pub async fn record_watermark(
    core: &Core,
    page: &str,
    psid: &str,
    watermark: i64,
    status: Reported,
) -> Result<u64, StoreError> {
    core.store
        .record_watermark(
            recipient_ref(core, page, psid),
            watermark,
            report(core, status, None),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_rank_sent_failed_delivered_read() {
        let all = [
            Reported::Sent,
            Reported::Failed,
            Reported::Delivered,
            Reported::Read,
        ];
        for pair in all.windows(2) {
            assert!(pair[0].rank() < pair[1].rank());
        }
        assert_eq!(Reported::from_twilio("undelivered"), Some(Reported::Failed));
        assert_eq!(Reported::from_twilio("queued"), None);
        assert_eq!(Reported::from_meta("read"), Some(Reported::Read));
        assert_eq!(Reported::from_meta("played"), Some(Reported::Read));
        assert_eq!(Reported::from_meta("deleted"), None);
    }

    #[test]
    fn error_codes_are_digits_only() {
        assert_eq!(error_code("131047").as_deref(), Some("131047"));
        assert_eq!(error_code(" 30008 ").as_deref(), Some("30008"));
        for bad in ["", "12345678901", "13104x", "+91 98123"] {
            assert_eq!(error_code(bad), None, "{bad}");
        }
    }
}
