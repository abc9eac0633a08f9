//! The outbox sender: claims due messages (a lease, so a node that dies mid-send leaves them to
//! another), opens each, hands it to its gateway, and records the result: sent; or retried with
//! backoff; or, after the last attempt or a refusal no retry can fix, failed, which the range
//! dashboard shows.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{Payload, payload_aad, tipster};
use crate::app::Core;
use crate::crypto::{encode_hex, hmac_sha256};
use crate::keyring::RANGE_SCOPE;
use crate::store::{Delivery, OutboxRow, StoreError};

/// Attempts before a message is given up as failed.
pub const MAX_ATTEMPTS: i64 = 10;
/// Messages claimed at once.
const BATCH: i64 = 50;

/// Why an attempt failed.
pub(super) enum Failure {
    /// Worth trying again (network, timeout, the gateway's 5xx or 429).
    Transient(String),
    /// No retry can fix it (refused address, bad credentials, unreadable payload).
    Permanent(String),
}

/// What a gateway said of a message it took: its id for the message (to match the status
/// callbacks to come) and, on Messenger, the page and recipient (for its watermarks).
#[derive(Default)]
pub(super) struct Handed {
    /// (provider, the provider's message id).
    pub id: Option<(&'static str, String)>,
    /// (page, page-scoped user id).
    pub recipient: Option<(String, String)>,
}

impl Handed {
    /// The id at `value` in a gateway's answer, if it is one (text or a number).
    pub fn named(provider: &'static str, value: &serde_json::Value) -> Self {
        let id = match value {
            serde_json::Value::String(s) if !s.is_empty() && s.len() <= 512 => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Self {
            id: id.map(|id| (provider, id)),
            recipient: None,
        }
    }

    /// How the attempt is recorded: with the keyed ids where the gateway named the message.
    fn delivery(self, core: &Core, at: i64) -> Delivery {
        match self.id {
            Some((provider, id)) => Delivery::SentAs {
                provider_ref: super::delivery::message_ref(core, provider, &id),
                recipient_ref: self
                    .recipient
                    .map(|(page, psid)| super::delivery::recipient_ref(core, &page, &psid)),
                at,
            },
            None => Delivery::Sent,
        }
    }
}

/// The wait before attempt `n + 1`: 5 s, 10 s, 20 s, ... at most 10 minutes.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = attempts.clamp(1, 8) - 1;
    (5_000 * (1_i64 << exp)).min(10 * 60_000)
}

/// One pass: delivers every due message. Returns how many were handed over.
pub async fn deliver_due(core: &Core, client: &reqwest::Client) -> Result<usize, StoreError> {
    let now = core.clock.now_ms();
    let lease = Duration::from_secs(core.alerts.lease_seconds);
    let rows = core
        .store
        .claim_outbox(now, now + lease.as_millis() as i64, BATCH)
        .await?;
    // An attempt must end well inside the lease, or another node could take the message over and
    // send it while this one still waits for the gateway. Half the default lease is more than the
    // HTTP and SMTP timeouts; only a shorter configured lease cuts attempts shorter.
    let limit = lease / 2;
    let results = futures_util::future::join_all(rows.iter().map(|r| async move {
        let at = core.clock.now_ms();
        let handed = tokio::time::timeout(limit, attempt(core, client, r))
            .await
            .unwrap_or_else(|_| Err(Failure::Transient("no answer within half the lease".into())));
        handed.map(|h| h.delivery(core, at))
    }))
    .await;
    let mut sent = 0;
    for (row, result) in rows.iter().zip(results) {
        let delivery = match result {
            Ok(handed) => {
                sent += 1;
                handed
            }
            Err(Failure::Permanent(error)) => Delivery::Failed { error },
            Err(Failure::Transient(error)) if row.attempts >= MAX_ATTEMPTS => {
                Delivery::Failed { error }
            }
            Err(Failure::Transient(error)) => Delivery::Retry {
                error,
                at: core.clock.now_ms() + backoff_ms(row.attempts),
            },
        };
        if let Delivery::Failed { error } = &delivery {
            // Only ids: the destination and the message stay sealed.
            tracing::warn!(outbox_id = row.outbox_id, channel = %row.channel, %error, "alert given up");
        }
        core.store
            .finish_outbox(row.outbox_id, row.attempts, delivery, core.clock.now_ms())
            .await?;
    }
    Ok(sent)
}

async fn attempt(
    core: &Core,
    client: &reqwest::Client,
    row: &OutboxRow,
) -> Result<Handed, Failure> {
    let plain = core
        .keyring
        .open(
            RANGE_SCOPE,
            &payload_aad(&row.outbox_key),
            &row.payload_sealed,
        )
        .map_err(|e| Failure::Permanent(format!("cannot open the payload: {e}")))?;
    let payload: Payload = serde_json::from_slice(&plain)
        .map_err(|e| Failure::Permanent(format!("unreadable payload: {e}")))?;
    match row.channel.as_str() {
        "sms" => sms(core, client, &payload).await,
        "webhook" => webhook(core, client, row, &payload).await,
        "email" => {
            let email = core
                .alerts
                .email
                .as_ref()
                .ok_or_else(|| Failure::Permanent("email is not configured".into()))?;
            super::smtp::send(
                &email.smtp_host,
                email.smtp_port,
                &email.from,
                &payload.to,
                &payload.subject(),
                &payload.text(),
                &row.outbox_key.replace(':', "."),
            )
            .await
            .map_err(Failure::Transient)?;
            Ok(Handed::default())
        }
        "tipster_twilio" => tipster::twilio(core, client, &payload).await,
        "tipster_meta" => tipster::meta(core, client, &payload).await,
        "tipster_telegram" => tipster::telegram(core, client, &payload).await,
        "tipster_messenger" => tipster::messenger(core, client, &payload).await,
        "tipster_x" => tipster::x(core, client, &payload).await,
        "exotel_callback" => exotel_callback(core, client, &payload).await,
        other => Err(Failure::Permanent(format!("unknown channel {other}"))),
    }
}

/// An alert by SMS (or WhatsApp) through Twilio, with a status callback where Twilio can reach
/// us.
async fn sms(core: &Core, client: &reqwest::Client, payload: &Payload) -> Result<Handed, Failure> {
    let sms = core
        .alerts
        .sms
        .as_ref()
        .ok_or_else(|| Failure::Permanent("SMS is not configured".into()))?;
    let url = format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        sms.api_url, sms.account_sid
    );
    let address = |number: &str| match sms.whatsapp {
        true => format!("whatsapp:{number}"),
        false => number.to_owned(),
    };
    let mut form = vec![
        ("To", address(&payload.to)),
        ("From", address(&sms.from)),
        ("Body", payload.text()),
    ];
    form.extend(tipster::status_callback(core));
    let request = client
        .post(url)
        .basic_auth(&sms.account_sid, Some(sms.auth_token.expose_secret()))
        .form(&form);
    let answered = answer(request.send().await).await?;
    Ok(Handed::named("twilio", &answered["sid"]))
}

/// An alert to the signed webhook.
async fn webhook(
    core: &Core,
    client: &reqwest::Client,
    row: &OutboxRow,
    payload: &Payload,
) -> Result<Handed, Failure> {
    let hook = core
        .alerts
        .webhook
        .as_ref()
        .ok_or_else(|| Failure::Permanent("the webhook is not configured".into()))?;
    let facts = payload
        .facts
        .as_ref()
        .ok_or_else(|| Failure::Permanent("only alerts go to the webhook".into()))?;
    let body = serde_json::to_vec(&serde_json::json!({
        "delivery": row.outbox_key,
        "alert": facts,
    }))
    .map_err(|e| Failure::Permanent(e.to_string()))?;
    let signature = encode_hex(&hmac_sha256(hook.secret.expose_secret().as_bytes(), &body));
    let request = client
        .post(&hook.url)
        .header("content-type", "application/json")
        .header("x-tipline-delivery", &row.outbox_key)
        .header("x-tipline-signature", format!("sha256={signature}"))
        .body(body);
    answer(request.send().await).await?;
    Ok(Handed::default())
}

/// A missed call rung back into the IVR through Exotel.
async fn exotel_callback(
    core: &Core,
    client: &reqwest::Client,
    payload: &Payload,
) -> Result<Handed, Failure> {
    let exotel = core
        .channels
        .exotel
        .as_ref()
        .ok_or_else(|| Failure::Permanent("channels.exotel is not configured".into()))?;
    let flow = exotel
        .callback_flow_url
        .as_deref()
        .ok_or_else(|| Failure::Permanent("channels.exotel.callback_flow_url is not set".into()))?;
    let relay = tipster::relay_of(payload)?;
    // Exotel rings `From` (the caller) first and connects the answered call to the flow,
    // showing `CallerId` (the ExoPhone they called).
    let form = [
        ("From", payload.to.as_str()),
        ("CallerId", relay.via.as_str()),
        ("Url", flow),
        ("CallType", "trans"),
    ];
    let request = client
        .post(format!(
            "{}/v1/Accounts/{}/Calls/connect",
            exotel.api_url, exotel.account_sid
        ))
        .basic_auth(&exotel.api_key, Some(exotel.api_token.expose_secret()))
        .form(&form);
    answer(request.send().await).await?;
    Ok(Handed::default())
}

/// A gateway's answer: 2xx sent (with its JSON body, `null` if it has none); 429 and 5xx and
/// network errors worth a retry; other 4xx not.
pub(super) async fn answer(
    result: reqwest::Result<reqwest::Response>,
) -> Result<serde_json::Value, Failure> {
    let response =
        result.map_err(|e| Failure::Transient(format!("request failed: {}", e.without_url())))?;
    let status = response.status();
    if status.is_success() {
        // The message is sent whatever the body says; an unreadable one only leaves it unnamed.
        let body = response.bytes().await.unwrap_or_default();
        return Ok(serde_json::from_slice(&body).unwrap_or_default());
    }
    let reason = format!("gateway answered {status}");
    if status.as_u16() == 429 || status.is_server_error() {
        Err(Failure::Transient(reason))
    } else {
        Err(Failure::Permanent(reason))
    }
}

/// The client the sender uses: short timeouts, no redirects (a gateway does not redirect).
pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(4), 40_000);
        assert_eq!(backoff_ms(9), 600_000);
        assert_eq!(backoff_ms(100), 600_000);
    }
}
